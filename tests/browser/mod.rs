//! Headless Chromium (Debian package `chromium`) for the tests of the HTML report: a
//! screenshot, the page's layout measured at a given width, and the page printed to PDF.
//!
//! Every test that uses it is `#[ignore]`d, so a plain `cargo test` on a machine without
//! Chromium reports it as ignored rather than passing without a browser; `.ci/run` installs
//! Chromium (and poppler-utils for `pdftotext`) and runs them with `--include-ignored`, and
//! there a missing tool fails them.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Why the tests are ignored by default.
pub const NEEDS: &str = "needs Chromium (apt-get install chromium); .ci/run runs it";

/// Runs headless Chromium with `args` (a fresh profile in `dir`), waits at most 120 s, and
/// returns its output. Panics where Chromium is not installed.
pub fn chromium(dir: &Path, args: &[String]) -> Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} not found: {NEEDS}"
    );
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read the pipes on threads so a large --dump-dom cannot fill a pipe and stall Chromium.
    let mut out_pipe = child.stdout.take().expect("stdout piped");
    let mut err_pipe = child.stderr.take().expect("stderr piped");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out_pipe, &mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err_pipe, &mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// Writes `html` to `dir/name` and returns its `file://` URL.
pub fn page(dir: &Path, name: &str, html: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, html).expect("write the page");
    format!("file://{}", path.display())
}

/// What the layout looks like at `width` CSS pixels: the report, with its Content-Security-
/// Policy taken out (it forbids scripts, rightly) and a script appended that measures the page
/// and writes `key=value;…` into the DOM, which `--dump-dom` prints.
pub fn measure(html: &str, width: u32, script: &str) -> std::collections::BTreeMap<String, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let csp = html
        .lines()
        .find(|l| l.contains("Content-Security-Policy"))
        .expect("the report has a CSP");
    let probe = html.replacen(csp, "", 1).replacen(
        "</body>",
        &format!(
            "<script>(function(){{const m={{}};{script};const p=document.createElement('pre');p.id='metrics';const b=['METRICS','BEGIN'].join('-'),e=['METRICS','END'].join('-');p.textContent=b+Object.entries(m).map(([k,v])=>k+'='+v).join(';')+e;document.body.appendChild(p);}})();</script></body>"
        ),
        1,
    );
    // Chromium's window is at least 500 px wide: the page is laid out in an iframe of exactly
    // `width` px (a srcdoc frame, so the outer page may read the metrics out of it).
    let attr = probe.replace('&', "&amp;").replace('"', "&quot;");
    let outer = format!(
        "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" style=\"width:{width}px;height:900px;border:0\" srcdoc=\"{attr}\"></iframe><script>document.getElementById('f').addEventListener('load',()=>{{const p=document.getElementById('f').contentDocument.getElementById('metrics');const o=document.createElement('pre');o.textContent=p?p.textContent:'none';document.body.appendChild(o);}});</script></body></html>"
    );
    let url = page(dir.path(), "probe.html", &outer);
    let out = chromium(
        dir.path(),
        &[
            format!("--window-size={},1000", width.max(600) + 40),
            "--virtual-time-budget=5000".into(),
            "--dump-dom".into(),
            url,
        ],
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    // The markers are joined by the script, so its own source in the DOM does not match them.
    let text = dom
        .split("METRICS-BEGIN")
        .nth(1)
        .and_then(|t| t.split("METRICS-END").next())
        .unwrap_or_else(|| {
            panic!(
                "no metrics in the DOM: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    text.split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `html` printed to PDF by Chromium as a print dialog does by default, with "background
/// graphics" off, then the PDF's text as `pdftotext` (Debian package `poppler-utils`) extracts
/// it. Also returns the PDF's path (kept in `dir`).
///
/// `--print-to-pdf` prints backgrounds, and has no switch for it; a style sheet added to the
/// page removes every background in print instead (also the ones the page asks to keep with
/// `print-color-adjust: exact`, which a dialog would print: this is the harsher test).
pub fn print_to_pdf(dir: &Path, html: &str) -> (String, std::path::PathBuf) {
    let html = html.replacen(
        "</head>",
        "<style>@media print{*,*::before,*::after{background:transparent!important}}</style></head>",
        1,
    );
    let url = page(dir, "print.html", &html);
    let pdf = dir.join("report.pdf");
    let out = chromium(
        dir,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
            url,
        ],
    );
    assert!(
        pdf.exists(),
        "no PDF (chromium {}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils; .ci/run installs it)");
    assert!(text.status.success(), "pdftotext failed");
    (String::from_utf8_lossy(&text.stdout).into_owned(), pdf)
}

/// The box, in points, of the first word on page 1 of `pdf` that is exactly `word`, as
/// `pdftotext -bbox` places it: (x0, y0, x1, y1). `None` if the page has no such word.
pub fn word_box(pdf: &Path, word: &str) -> Option<(f64, f64, f64, f64)> {
    let bbox = Command::new("pdftotext")
        .args(["-bbox", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    let html = String::from_utf8_lossy(&bbox.stdout);
    let tag = html.split("<word ").skip(1).find(|w| {
        w.split_once('>')
            .is_some_and(|(_, t)| t.starts_with(&format!("{word}</word>")))
    })?;
    let coord = |name: &str| -> f64 {
        tag.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|v| v.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in <word {tag}"))
    };
    Some((coord("xMin"), coord("yMin"), coord("xMax"), coord("yMax")))
}

/// How many dark pixels (grey level below 128 of 255) page 1 of `pdf` has inside the box
/// (x0, y0, x1, y1), in points: the page rasterized by `pdftoppm -gray` at 144 dpi, two pixels
/// a point (fine enough that a thin border line is not blurred into light grey).
pub fn dark_pixels(pdf: &Path, (x0, y0, x1, y1): (f64, f64, f64, f64)) -> usize {
    let stem = pdf.with_file_name("page");
    let ok = Command::new("pdftoppm")
        .args(["-gray", "-r", "144", "-f", "1", "-l", "1", "-singlefile"])
        .arg(pdf)
        .arg(&stem)
        .status()
        .expect("pdftoppm runs (apt-get install poppler-utils)");
    assert!(ok.success(), "pdftoppm failed");
    let pgm = std::fs::read(stem.with_extension("pgm")).expect("a PGM page");
    // Binary PGM: "P5", width, height, maxval, then one byte a pixel.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    let w: usize = fields[1].parse().expect("PGM width");
    let pixels = &pgm[i + 1..];
    let h = pixels.len() / w;
    let px = |v: f64| (v * 2.0).max(0.0);
    let (x0, x1) = (px(x0).floor() as usize, (px(x1).ceil() as usize).min(w));
    let (y0, y1) = (px(y0).floor() as usize, (px(y1).ceil() as usize).min(h));
    (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| y * w + x))
        .filter(|&p| pixels[p] < 128)
        .count()
}
