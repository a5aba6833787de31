//! The help texts, pinned: `preflight --help` and each command's `--help` (a flag renamed,
//! dropped or reworded shows up in review), and the man command listed among the commands.

mod common;

use common::run;

fn help(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

#[test]
fn top_level_help() {
    let out = help(&["--help"]);
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("man ")),
        "man is not listed: {out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn each_command_s_help() {
    for command in [
        "audit",
        "restore",
        "validate",
        "rules",
        "explain",
        "test",
        "render",
        "completions",
        "man",
    ] {
        let out = help(&[command, "--help"]);
        insta::assert_snapshot!(format!("help_{command}"), out);
    }
}
