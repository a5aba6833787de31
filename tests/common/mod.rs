//! Helpers shared by the CLI tests: the binary, run from the crate root without colour.

#![allow(dead_code)]

pub const NOW: &str = "2026-11-25T17:00:00Z";
pub const EXAMPLE: &str = "examples/hyperv-cluster.json";

pub fn preflight() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_preflight"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS");
    c
}

/// Runs preflight and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = preflight().args(args).output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).expect("stdout is JSON")
}

/// `(rule, vm, host, waived)` of every finding of a JSON report.
pub fn findings(report: &serde_json::Value) -> Vec<(String, Option<String>, Option<String>, bool)> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["vm"].as_str().map(String::from),
                f["host"].as_str().map(String::from),
                f["waived"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}
