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

/// The text without its ANSI colour sequences.
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn audit_example(color: &str) -> (i32, String, String) {
    run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--color",
        color,
    ])
}

#[test]
fn color_always_through_a_pipe_colours_what_a_terminal_would_and_nothing_more() {
    let (code, plain, _) = audit_example("never");
    assert_eq!(code, 1);
    let (code, coloured, err) = audit_example("always");
    assert_eq!(code, 1, "{err}");
    // The verdict line and the severities are coloured.
    assert!(
        coloured.starts_with("\u{1b}[31mNO-GO"),
        "verdict not coloured: {coloured:?}"
    );
    let severity = coloured
        .lines()
        .find(|l| l.contains("non-ha-running"))
        .unwrap_or_default();
    assert!(
        severity.contains("\u{1b}[38;5;9m error"),
        "severities not coloured: {coloured}"
    );
    // Without its colours it is the plain report: same width, no extra line.
    assert_eq!(strip_ansi(&coloured), plain);
}

#[test]
fn the_table_ends_with_the_summary_not_a_second_verdict() {
    let (_, out, _) = audit_example("always");
    let last = out.lines().last().unwrap_or_default();
    assert!(last.contains("error(s)"), "last line: {last:?}");
}

/// On a terminal that reports 0 columns (`stty cols 0`, COLUMNS unset) the tables keep a
/// readable width rather than one character per column.
#[test]
fn a_terminal_of_zero_columns_counts_as_unknown() {
    let has_script = std::process::Command::new("sh")
        .args(["-c", "command -v script && command -v stty"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("skipped: script(1) is not installed");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_preflight");
    let inner =
        format!("stty cols 0 rows 0; '{bin}' audit --inventory {EXAMPLE} --host HV01 --now {NOW}");
    let out = std::process::Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .output()
        .expect("script runs");
    let text = strip_ansi(&String::from_utf8_lossy(&out.stdout)).replace('\r', "");
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(
        widest >= 80,
        "tables collapsed (widest line {widest}): {text}"
    );
    assert!(text.contains("non-ha-running"), "{text}");
}
