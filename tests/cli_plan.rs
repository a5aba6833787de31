//! `preflight audit --plan`: the plan file for the example cluster, pinned by snapshots, and
//! the promises around it (written on no-go, byte-identical for identical inputs, atomic).

use assert_cmd::Command;
use std::path::Path;

const EXAMPLE: &str = "examples/hyperv-cluster.json";
const NOW: &str = "2026-11-25T17:00:00Z";

/// Runs `audit` from the crate root (so paths in the plan stay relative) and returns the exit
/// code and the plan text.
fn audit_plan(extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = dir.path().join("plan.json");
    let out = Command::cargo_bin("preflight")
        .expect("the binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "audit",
            "--inventory",
            EXAMPLE,
            "--now",
            NOW,
            "--format",
            "json",
        ])
        .args(extra)
        .arg("--plan")
        .arg(&plan)
        .output()
        .expect("runs");
    let text = std::fs::read_to_string(&plan).expect("the plan was written");
    (out.status.code().unwrap_or(-1), text)
}

fn plan_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("the plan is JSON")
}

#[test]
fn patch_plan_for_hv01() {
    let (code, text) = audit_plan(&["--host", "HV01"]);
    // Two running non-HA VMs: no-go, and the plan is written all the same.
    assert_eq!(code, 1);
    assert!(text.starts_with("{\n  \"schema\": \"preflight/plan/v1\",\n"));
    assert!(text.ends_with("}\n"));
    insta::assert_snapshot!("patch_hv01", text);
}

#[test]
fn decommission_plan_for_hv01() {
    let (code, text) = audit_plan(&["--host", "HV01", "--mode", "decommission"]);
    assert_eq!(code, 1);
    let plan = plan_json(&text);
    let steps = plan["steps"].as_array().expect("steps");
    // FS01 (off) and BUILD01 (saved) are HA and would be stranded, TPL-W2022 (off, not HA)
    // would be lost with the host: they move too.
    let moved: Vec<&str> = steps
        .iter()
        .filter(|s| s["phase"] == "pre" && s["action"] == "migrate")
        .filter_map(|s| s["vm"].as_str())
        .collect();
    assert_eq!(
        moved,
        ["BUILD01", "FS01", "LAB-TEST01", "SQL01", "TPL-W2022"]
    );
    assert!(steps.iter().all(|s| s["phase"] != "post"));
    insta::assert_snapshot!("decommission_hv01", text);
}

#[test]
fn rolling_plan_for_hv01_then_hv02() {
    let (_, text) = audit_plan(&["--host", "HV01", "--host", "HV02", "--rolling"]);
    let plan = plan_json(&text);
    assert_eq!(plan["request"]["rolling"], true);
    let phases: Vec<(String, String)> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["phase"].as_str().unwrap_or_default().to_string(),
                s["host"]
                    .as_str()
                    .or(s["from"].as_str())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    // HV01's whole cycle comes before anything of HV02.
    let first_hv02 = phases
        .iter()
        .position(|(_, h)| h == "HV02")
        .expect("HV02 steps");
    let last_hv01_exit = phases
        .iter()
        .rposition(|(p, h)| p == "post" && h == "HV01")
        .expect("HV01 exits");
    assert!(last_hv01_exit < first_hv02, "{phases:?}");
    insta::assert_snapshot!("rolling_hv01_hv02", text);
}

#[test]
fn identical_inputs_give_identical_plans() {
    let (_, a) = audit_plan(&["--host", "hv01"]);
    let (_, b) = audit_plan(&["--host", "HV01"]);
    assert_eq!(a, b);
}

#[test]
fn waived_vms_get_no_steps_and_the_audit_report_has_no_balance_section() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = dir.path().join("plan.json");
    let out = Command::cargo_bin("preflight")
        .expect("the binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "audit",
            "--inventory",
            EXAMPLE,
            "--host",
            "HV01",
            "--now",
            NOW,
        ])
        .args([
            "--policy",
            "builtin",
            "--policy",
            "examples/lab-waivers.toml",
        ])
        .args(["--format", "json", "--plan"])
        .arg(&plan)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert!(report.get("balance").is_none());
    let text = std::fs::read_to_string(&plan).expect("plan");
    let moved: Vec<String> = plan_json(&text)["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["vm"].as_str().map(String::from))
        .collect();
    assert!(moved.is_empty(), "{moved:?}");
}

#[test]
fn an_unwritable_plan_path_is_an_input_error() {
    let out = Command::cargo_bin("preflight")
        .expect("the binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "audit",
            "--inventory",
            EXAMPLE,
            "--host",
            "HV01",
            "--now",
            NOW,
        ])
        .args(["--plan", "no/such/dir/plan.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("output::write"));
    assert!(!Path::new("no/such/dir/plan.json").exists());
}

#[test]
fn draining_two_hosts_together_overflows_where_rolling_does_not() {
    let rules = |extra: &[&str]| -> Vec<(String, String)> {
        let out = Command::cargo_bin("preflight")
            .expect("the binary")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "audit",
                "--inventory",
                EXAMPLE,
                "--host",
                "HV01",
                "--host",
                "HV02",
            ])
            .args(["--now", NOW, "--format", "json"])
            .args(extra)
            .output()
            .expect("runs");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let s = |k: &str| f[k].as_str().unwrap_or("-").to_string();
                (s("rule"), s("message"))
            })
            .collect()
    };
    let together = rules(&[]);
    assert!(together.iter().any(|(r, _)| r == "capacity"));
    // The plan has no room left for LAB-TEST01 either: a finding, not a silent omission.
    assert!(
        together.iter().any(|(r, m)| r == "non-ha-running"
            && m.contains("LAB-TEST01")
            && m.contains("nowhere")),
        "{together:?}"
    );
    let rolling = rules(&["--rolling"]);
    assert!(rolling.iter().all(|(r, _)| r != "capacity"), "{rolling:?}");
    assert!(
        rolling.iter().all(|(_, m)| !m.contains("nowhere")),
        "{rolling:?}"
    );
}
