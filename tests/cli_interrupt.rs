//! A run stopped by SIGINT or SIGTERM while it writes a report leaves no temporary file behind
//! (a test that killed runs in a loop once collected 464 MB of them), and the report it was
//! replacing stays whole.

#![cfg(unix)]

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A native inventory whose report takes long enough to write to be caught in the act.
fn big_inventory(path: &Path, vms: usize) {
    let vms: Vec<serde_json::Value> = (0..vms)
        .map(|i| {
            serde_json::json!({"name": format!("vm{i}"), "host": "HV01", "state": "running",
                "ha": false, "memory_mb": 1024, "vcpus": 1})
        })
        .collect();
    let inv = serde_json::json!({
        "schema": "preflight/inventory/v1", "platform": "hyperv",
        "hosts": [
            {"name": "HV01", "cluster": "C", "state": "up", "memory_mb": 60_000_000, "cpus": 64},
            {"name": "HV02", "cluster": "C", "state": "up", "memory_mb": 60_000_000, "cpus": 64},
        ],
        "vms": vms,
    });
    fs::write(path, inv.to_string()).unwrap();
}

fn hidden_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_signal_while_writing_removes_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    big_inventory(&inv, 20_000);
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let report = out.join("report.html");
    for signal in ["TERM", "INT"] {
        fs::write(&report, "the earlier report").unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args(["audit", "--inventory"])
            .arg(&inv)
            .args([
                "--host",
                "HV01",
                "--now",
                "2026-11-25T17:00:00Z",
                "--format",
                "html",
            ])
            .arg("--output")
            .arg(&report)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the temporary file to appear, then stop the run.
        let deadline = Instant::now() + Duration::from_secs(120);
        let seen = loop {
            let hidden = hidden_files(&out);
            if let Some(name) = hidden.first() {
                break name.clone();
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before its temporary file was seen"
            );
            assert!(Instant::now() < deadline, "no temporary file appeared");
            std::thread::sleep(Duration::from_millis(2));
        };
        assert!(
            seen.contains(".preflight-"),
            "a temporary file named {seen}"
        );
        let killed = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert!(!status.success(), "SIG{signal}: {status}");
        assert_eq!(hidden_files(&out), Vec::<String>::new(), "SIG{signal}");
        // Stopped before the rename: the earlier file is untouched, not half-written.
        assert_eq!(fs::read_to_string(&report).unwrap(), "the earlier report");
    }
}
