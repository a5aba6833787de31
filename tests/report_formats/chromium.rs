//! The HTML report rendered by a real browser: headless Chromium (Debian package `chromium`)
//! screenshots the example's audit page and a restore page; a test fails if no image comes
//! out or it is blank.
//!
//! The tests are `#[ignore]`d, so a plain `cargo test` on a machine without Chromium reports
//! them as ignored rather than passing without a browser; `.ci/run` installs Chromium and runs
//! them with `--include-ignored`, and there a missing browser fails them.

use std::io::BufReader;

#[path = "../browser/mod.rs"]
mod browser;

/// A 1200×1600 screenshot of `html` as RGB(A) pixels and the number of channels. Panics where
/// Chromium is not installed: a test that needs it never passes without it.
fn screenshot(html: &str, keep_as: &str) -> (Vec<u8>, usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = browser::page(dir.path(), "report.html", html);
    let png = dir.path().join("out.png");
    let out = browser::chromium(
        dir.path(),
        &[
            "--window-size=1200,1600".into(),
            format!("--screenshot={}", png.display()),
            url,
        ],
    );
    assert!(
        png.exists(),
        "no screenshot (chromium exit {}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    if let Ok(keep) = std::env::var("PREFLIGHT_KEEP_SCREENSHOT") {
        std::fs::copy(&png, format!("{keep}{keep_as}")).unwrap();
    }

    let size = std::fs::metadata(&png).unwrap().len();
    assert!(size > 10_000, "screenshot is only {size} bytes");
    let decoder = png::Decoder::new(BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!((info.width, info.height), (1200, 1600));
    buf.truncate(info.buffer_size());
    (buf, info.color_type.samples())
}

fn has_colour(pixels: &[u8], channels: usize, rgb: [u8; 3]) -> bool {
    pixels.chunks(channels).any(|p| p[..3] == rgb)
}

#[test]
#[ignore = "needs Chromium (apt-get install chromium); .ci/run runs it"]
fn html_renders_in_headless_chromium() {
    let (pixels, channels) = screenshot(&super::example("html", true).0, "");
    let colours: std::collections::BTreeSet<&[u8]> = pixels.chunks(channels).collect();
    // Text, table borders, the verdict badge and the bars: a rendered page has many colours.
    assert!(
        colours.len() > 50,
        "the page looks blank: {} distinct colours",
        colours.len()
    );
    // The GO badge's green is on the page (the verdict rendered, styled).
    assert!(
        has_colour(&pixels, channels, GREEN),
        "no verdict badge colour in the screenshot"
    );
}

/// The GO badge's green.
const GREEN: [u8; 3] = [0x1a, 0x7f, 0x37];

#[test]
#[ignore = "needs Chromium (apt-get install chromium); .ci/run runs it"]
fn restore_html_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let plan = super::restore::plan_in(dir.path());
    let (html, code) = super::restore::restore(&plan, super::restore::AFTER, "html");
    assert_eq!(code, 0);
    let (pixels, channels) = screenshot(&html, ".restore.png");
    let colours: std::collections::BTreeSet<&[u8]> = pixels.chunks(channels).collect();
    assert!(colours.len() > 50, "the page looks blank");
    assert!(has_colour(&pixels, channels, GREEN), "no GO badge");
    // All three series of the chart are drawn: before maintenance, now, after the move-back
    // (the CSS classes .s0, .s1, .s2).
    for (series, rgb) in [
        ("before maintenance", [0x4e, 0x79, 0xa7]),
        ("now", [0xf2, 0x8e, 0x2b]),
        ("after the move-back", [0x59, 0xa1, 0x4f]),
    ] {
        assert!(has_colour(&pixels, channels, rgb), "no {series} bars");
    }
}
