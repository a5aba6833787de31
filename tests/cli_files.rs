//! The files a run writes: never one of its inputs, never a device replaced, the umask's
//! permissions, and after a run that could not evaluate, a record saying so in place of any
//! earlier report.

mod common;

use common::{EXAMPLE, NOW, run};
use std::fs;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A copy of the example inventory in a fresh folder.
fn workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    fs::copy(EXAMPLE, &inv).unwrap();
    (dir, inv)
}

fn audit_args<'a>(inv: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["audit", "--inventory", inv, "--host", "HV01"];
    if !extra.contains(&"--now") {
        a.extend(["--now", NOW]);
    }
    a.extend_from_slice(extra);
    a
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_read() {
    let (dir, inv) = workspace();
    let before = fs::read(&inv).unwrap();
    let spelled = format!("{}/./inv.json", dir.path().display());
    #[cfg(unix)]
    std::os::unix::fs::symlink(&inv, dir.path().join("link.json")).unwrap();
    let link = dir.path().join("link.json");
    let mut cases = vec![
        audit_args(s(&inv), &["--output", s(&inv)]),
        audit_args(s(&inv), &["--output", &spelled, "--format", "json"]),
        audit_args(s(&inv), &["--plan", s(&inv)]),
    ];
    if cfg!(unix) {
        cases.push(audit_args(s(&inv), &["--output", s(&link)]));
    }
    for args in cases {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("usage::same-file"), "{args:?}: {err}");
        assert_eq!(
            fs::read(&inv).unwrap(),
            before,
            "{args:?} destroyed the inventory"
        );
    }
}

#[test]
fn an_output_equal_to_another_output_is_refused() {
    let (dir, inv) = workspace();
    let out = dir.path().join("out.json");
    let (code, _, err) = run(&audit_args(
        s(&inv),
        &["--output", s(&out), "--plan", s(&out)],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("usage::same-file"), "{err}");
    assert!(!out.exists());
}

#[test]
fn render_refuses_to_write_over_its_plan() {
    let (dir, inv) = workspace();
    let plan = dir.path().join("plan.json");
    let (code, _, err) = run(&audit_args(s(&inv), &["--plan", s(&plan)]));
    assert!(code == 0 || code == 1, "{err}");
    let before = fs::read(&plan).unwrap();
    let (code, _, err) = run(&[
        "render",
        s(&plan),
        "--target",
        "hyperv-ps",
        "--output",
        &format!("{}/./plan.json", dir.path().display()),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("usage::same-file"), "{err}");
    assert_eq!(fs::read(&plan).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn reports_and_plans_get_the_umask_s_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, inv) = workspace();
    let report = dir.path().join("report.json");
    let plan = dir.path().join("plan.json");
    for (umask, mode) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let _ = fs::remove_file(&report);
        let _ = fs::remove_file(&plan);
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" audit --inventory \"$1\" --host HV01 --now {NOW} --output \"$2\" --plan \"$3\""
            ))
            .arg(env!("CARGO_BIN_EXE_preflight"))
            .arg(&inv)
            .arg(&report)
            .arg(&plan)
            .status()
            .unwrap();
        assert!(matches!(status.code(), Some(0 | 1)), "{status}");
        for f in [&report, &plan] {
            let got = fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode, "umask {umask}: {} is {got:o}", f.display());
        }
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_output_is_written_to_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let (dir, inv) = workspace();
    let fifo = dir.path().join("report.pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    let (code, _, err) = run(&audit_args(
        s(&inv),
        &["--format", "json", "--output", s(&fifo)],
    ));
    assert!(code == 0 || code == 1, "{err}");
    // Checked before joining the reader, which would wait forever for a replaced FIFO.
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    let text = reader.join().unwrap();
    assert!(text.contains("\"verdict\""), "{text}");
}

#[cfg(unix)]
#[test]
fn dev_null_stays_a_character_device() {
    use std::os::unix::fs::FileTypeExt;
    let null = Path::new("/dev/null");
    if !fs::metadata(null).is_ok_and(|m| m.file_type().is_char_device()) {
        return;
    }
    let (_dir, inv) = workspace();
    let (code, _, err) = run(&audit_args(
        s(&inv),
        &["--output", "/dev/null", "--plan", "/dev/null"],
    ));
    assert!(code == 0 || code == 1, "{err}");
    assert!(fs::metadata(null).unwrap().file_type().is_char_device());
}

fn stale_go(path: &Path) {
    fs::write(path, "{\"verdict\": \"go\", \"exit_code\": 0}\n").unwrap();
}

#[test]
fn a_run_that_cannot_evaluate_replaces_the_report_with_an_error_record() {
    let (dir, _) = workspace();
    let broken = dir.path().join("broken.json");
    fs::write(&broken, "{\"vms\": [").unwrap();
    let report = dir.path().join("report.json");
    stale_go(&report);
    let (code, _, err) = run(&audit_args(
        s(&broken),
        &["--format", "json", "--output", s(&report)],
    ));
    assert_eq!(code, 2, "{err}");
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert_eq!(v["verdict"], "error");
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["request"]["command"], "audit");
    let d = &v["diagnostics"][0];
    assert!(
        d["code"].as_str().unwrap().starts_with("inventory::"),
        "{d}"
    );
    assert!(d["file"].as_str().unwrap().ends_with("broken.json"));
    assert_eq!(d["line"], 1);
}

#[test]
fn every_format_records_an_evaluation_that_failed() {
    let (dir, inv) = workspace();
    let report = dir.path().join("report.out");
    for (format, says) in [
        ("sarif", "\"executionSuccessful\": false"),
        ("junit", "<error"),
        ("table", "ERROR"),
        ("markdown", "ERROR"),
        ("html", "ERROR"),
    ] {
        stale_go(&report);
        let (code, _, err) = run(&audit_args(
            s(&inv),
            &[
                "--now",
                "2026-11-25T08:00:00+24:00",
                "--format",
                format,
                "--output",
                s(&report),
            ],
        ));
        assert_eq!(code, 2, "{format}: {err}");
        let text = fs::read_to_string(&report).unwrap();
        assert!(text.contains(says), "{format}: {text}");
        assert!(text.contains("usage::now"), "{format}: {text}");
        assert!(!text.contains("\"go\""), "{format}: {text}");
    }
}

#[test]
fn a_command_line_that_cannot_be_parsed_still_leaves_a_record() {
    let (dir, inv) = workspace();
    let report = dir.path().join("report.json");
    stale_go(&report);
    let (code, _, _) = run(&audit_args(
        s(&inv),
        &[
            "--format",
            "json",
            "--output",
            s(&report),
            "--fail-on",
            "sometimes",
        ],
    ));
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    assert_eq!(v["verdict"], "error");
    assert_eq!(v["diagnostics"][0]["code"], "usage::arguments");
    assert!(
        v["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("sometimes")
    );
}

#[test]
fn now_refuses_an_offset_of_24_hours() {
    let (_dir, inv) = workspace();
    let (code, _, err) = run(&audit_args(
        s(&inv),
        &["--now", "2026-11-25T08:00:00+24:00"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("usage::now"), "{err}");
    let (code, _, err) = run(&audit_args(
        s(&inv),
        &["--now", "2026-11-25T09:00:00+01:00[America/New_York]"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("usage::now"), "{err}");
}

#[test]
fn the_sarif_error_record_passes_the_2_1_0_schema() {
    // The vendored schema's two `language` patterns need the repair report_formats.rs explains.
    let text = include_str!("fixtures/schemas/sarif-schema-2.1.0.json").replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$""#,
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let (dir, inv) = workspace();
    let report = dir.path().join("report.sarif");
    let (code, _, err) = run(&audit_args(
        s(&inv),
        &["--now", "soon", "--format", "sarif", "--output", s(&report)],
    ));
    assert_eq!(code, 2, "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&report).unwrap()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}
