//! Control characters from the inputs (an ESC in a VM name) never reach the terminal raw: the
//! table and Markdown reports and the diagnostics show them escaped.

mod common;

use common::{EXAMPLE, NOW, run};

#[test]
fn escape_sequences_in_names_are_shown_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(EXAMPLE).unwrap().replace(
        "\"SQL01\"",
        "\"SQL\\u001b]0;pwned\\u0007\\u001b[2J01\\u009b1m\"",
    );
    let inv = dir.path().join("inv.json");
    std::fs::write(&inv, text).unwrap();
    for format in ["table", "markdown"] {
        let (code, out, err) = run(&[
            "audit",
            "--inventory",
            inv.to_str().unwrap(),
            "--host",
            "HV01",
            "--now",
            NOW,
            "--format",
            format,
        ]);
        assert_eq!(code, 1, "{format}: {err}");
        for c in ['\u{1b}', '\u{7}', '\u{9b}'] {
            assert!(!out.contains(c), "{format} sends {c:?}: {out}");
            assert!(!err.contains(c), "{format} sends {c:?} to stderr: {err}");
        }
        assert!(out.contains("SQL\\u{1b}"), "{format}: {out}");
    }
}
