//! `preflight restore`: the whole story on the example cluster. Audit writes the plan before
//! maintenance; after it, a fresh export is compared with the plan's baseline.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const NOW: &str = "2026-11-26T07:00:00Z";

fn preflight() -> Command {
    let mut c = Command::cargo_bin("preflight").expect("the binary");
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// The plan for patching HV01, written where the test wants it.
fn plan_in(dir: &Path) -> PathBuf {
    let plan = dir.join("plan.json");
    let out = preflight()
        .args([
            "audit",
            "--inventory",
            "examples/hyperv-cluster.json",
            "--host",
            "HV01",
        ])
        .args(["--now", "2026-11-25T17:00:00Z", "--plan"])
        .arg(&plan)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    plan
}

struct Run {
    code: i32,
    report: Value,
    stderr: String,
    move_back: Option<Value>,
}

fn restore(plan: &Path, inventory: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out_plan = dir.path().join("move-back.json");
    let out = preflight()
        .arg("restore")
        .arg("--plan")
        .arg(plan)
        .args(["--inventory", inventory, "--now", NOW, "--format", "json"])
        .arg("--plan-out")
        .arg(&out_plan)
        .args(extra)
        .output()
        .expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        move_back: std::fs::read_to_string(&out_plan)
            .ok()
            .map(|t| serde_json::from_str(&t).expect("the move-back plan is JSON")),
    }
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn vm_names(fs: &[&Value]) -> Vec<String> {
    fs.iter()
        .map(|f| f["vm"].as_str().unwrap_or("-").to_string())
        .collect()
}

#[test]
fn host_back_up_some_vms_away_one_deleted() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    let run = restore(&plan, "tests/fixtures/restore/after-hv01-up.json", &[]);
    // not-restored and imbalance are warnings: go at the default --fail-on error.
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report["request"]["command"], "restore");
    let not_home = findings(&run.report, "not-restored");
    assert_eq!(vm_names(&not_home), ["APP02", "FS01", "SQL01", "WEB01"]);
    let sql = not_home.iter().find(|f| f["vm"] == "SQL01").expect("SQL01");
    assert_eq!(sql["evidence"]["original_host"], "HV01");
    assert_eq!(sql["evidence"]["current_host"], "HV03");
    assert_eq!(sql["evidence"]["move_back"], "planned");
    let fs = not_home.iter().find(|f| f["vm"] == "FS01").expect("FS01");
    assert_eq!(fs["evidence"]["vanished"], true);
    // The balance figures per cluster: worse now, back to the baseline after the move-back.
    let balance = &run.report["balance"][0];
    assert_eq!(balance["cluster"], "CL-PROD");
    assert_eq!(balance["before"], 0.203);
    assert_eq!(balance["now"], 0.391);
    assert_eq!(balance["after_move_back"], 0.203);
    assert_eq!(findings(&run.report, "imbalance").len(), 1);
    // The move-back plan: home to HV01, nothing for the vanished VM.
    let mb = run.move_back.expect("move-back plan written");
    assert_eq!(mb["schema"], "preflight/plan/v1");
    assert_eq!(mb["request"]["command"], "restore");
    let steps: Vec<(String, String, String)> = mb["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            assert_eq!(s["phase"], "post");
            assert_eq!(s["action"], "migrate");
            assert_eq!(s["because"], serde_json::json!(["not-restored"]));
            let f = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            (f("vm"), f("from"), f("to"))
        })
        .collect();
    let want = [("APP02", "HV02"), ("SQL01", "HV03"), ("WEB01", "HV03")];
    assert_eq!(steps.len(), want.len());
    for ((vm, from, to), (wvm, wfrom)) in steps.iter().zip(want) {
        assert_eq!(
            (vm.as_str(), from.as_str(), to.as_str()),
            (wvm, wfrom, "HV01")
        );
    }
    // A gate that fails on warnings says no-go.
    let strict = restore(
        &plan,
        "tests/fixtures/restore/after-hv01-up.json",
        &["--fail-on", "warning"],
    );
    assert_eq!(strict.code, 1);
    assert_eq!(strict.report["verdict"], "no-go");
}

#[test]
fn host_still_down_blocks_every_move_back() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    let run = restore(&plan, "tests/fixtures/restore/after-hv01-down.json", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let not_home = findings(&run.report, "not-restored");
    let host_level: Vec<&&Value> = not_home.iter().filter(|f| f["vm"].is_null()).collect();
    assert_eq!(host_level.len(), 1);
    assert_eq!(host_level[0]["host"], "HV01");
    assert_eq!(host_level[0]["evidence"]["state"], "down");
    let vanished: Vec<&&Value> = not_home
        .iter()
        .filter(|f| f["evidence"]["vanished"] == true)
        .collect();
    assert_eq!(vanished.len(), 1);
    assert_eq!(vanished[0]["vm"], "TPL-W2022");
    let blocked = not_home
        .iter()
        .filter(|f| f["evidence"]["move_back"] == "blocked: HV01 is down")
        .count();
    assert_eq!(blocked, 6);
    let mb = run.move_back.expect("move-back plan written");
    assert_eq!(mb["steps"], serde_json::json!([]));
}

#[test]
fn the_move_back_plan_is_itself_a_plan_restore_reads() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    let first = restore(&plan, "tests/fixtures/restore/after-hv01-up.json", &[]);
    let mb_path = dir.path().join("mb.json");
    std::fs::write(&mb_path, first.move_back.expect("plan").to_string()).expect("write");
    let again = restore(&mb_path, "tests/fixtures/restore/after-hv01-up.json", &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.report["balance"][0]["before"], 0.203);
}

#[test]
fn another_clusters_inventory_is_untrusted() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    let run = restore(&plan, "tests/fixtures/restore/other-cluster.json", &[]);
    assert_eq!(run.code, 3);
    assert_eq!(run.report["verdict"], "untrusted");
    assert!(
        run.report["exit_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("another cluster"),
        "{}",
        run.report["exit_reason"]
    );
    assert!(run.move_back.is_none());
}

#[test]
fn a_corrupted_plan_is_an_input_error_at_its_line() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    let text = std::fs::read_to_string(&plan).expect("plan");
    let line = text
        .lines()
        .position(|l| l.contains("\"used_mb\": 167936"))
        .expect("HV02's load")
        + 1;
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        text.replace("\"used_mb\": 167936", "\"used_mb\": \"lots\""),
    )
    .expect("write");
    let run = restore(&bad, "tests/fixtures/restore/after-hv01-up.json", &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("plan::invalid"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("bad.json:{line}:")),
        "no line {line} in {}",
        run.stderr
    );
    assert!(run.stderr.contains("loads[1].used_mb"), "{}", run.stderr);
    assert!(run.move_back.is_none());
}

#[test]
fn a_plan_of_another_schema_version_is_refused() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    let text = std::fs::read_to_string(&plan).expect("plan");
    let v9 = dir.path().join("v9.json");
    std::fs::write(&v9, text.replace("preflight/plan/v1", "preflight/plan/v9")).expect("write");
    let run = restore(&v9, "tests/fixtures/restore/after-hv01-up.json", &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("plan::schema"), "{}", run.stderr);
    assert!(run.stderr.contains("v9.json:2:"), "{}", run.stderr);
}

#[test]
fn trusting_the_platforms_failback_leaves_ha_vms_to_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    let policy = dir.path().join("trust.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nid = \"not-home\"\ntitle = \"VM not home\"\nkind = \"placement\"\nphase = \"restore\"\nseverity = \"warning\"\naction = \"migrate\"\ntrust_platform_failback = true\n",
    )
    .expect("write");
    let run = restore(
        &plan,
        "tests/fixtures/restore/after-hv01-up.json",
        &["--policy", policy.to_str().expect("utf-8 path")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Hyper-V fails HA roles back itself: only SQL01 (not HA) and the vanished FS01 remain.
    assert_eq!(
        vm_names(&findings(&run.report, "not-home")),
        ["FS01", "SQL01"]
    );
    assert!(run.report.get("balance").is_none());
}

#[test]
fn an_inventory_without_a_single_vm_is_untrusted_and_says_why() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    // The cluster's own hosts, up again, but a hosts-only export: it proves nothing.
    let hosts = dir.path().join("hosts.json");
    std::fs::write(
        &hosts,
        r#"{"platform":"hyperv","hosts":[
          {"name":"HV01","cluster":"CL-PROD","state":"up","memory_mb":262144},
          {"name":"HV02","cluster":"CL-PROD","state":"up","memory_mb":262144},
          {"name":"HV03","cluster":"CL-PROD","state":"up","memory_mb":196608}]}"#,
    )
    .expect("written");
    let run = restore(&plan, hosts.to_str().expect("utf-8 temp path"), &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.report["verdict"], "untrusted");
    let reason = run.report["exit_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not a single VM"), "{reason}");
    assert!(run.move_back.is_none());
}

#[test]
fn the_report_records_the_plan_it_judged() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = plan_in(dir.path());
    let run = restore(&plan, "tests/fixtures/restore/after-hv01-up.json", &[]);
    let recorded = &run.report["inputs"]["plan"];
    assert_eq!(recorded["path"], plan.to_str().expect("utf-8 temp path"));
    let bytes = std::fs::read(&plan).expect("the plan");
    assert_eq!(
        recorded["sha256"].as_str(),
        Some(preflight::digest::sha256_hex(&bytes).as_str())
    );
}
