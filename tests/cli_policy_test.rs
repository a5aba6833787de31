//! `preflight test`: the shipped cases pass, a wrong expectation fails with expected vs actual,
//! an invalid case file is exit 2 with its line and column, and JUnit output is XML.

use assert_cmd::Command;
use predicates::prelude::*;
use preflight::policy::{Phase, builtin_sources, load};
use preflight::policytest::{self, Status};

const FIX: &str = "tests/fixtures/policytest";

fn preflight() -> Command {
    let mut cmd = Command::cargo_bin("preflight").expect("binary built");
    cmd.arg("--color").arg("never");
    cmd
}

#[test]
fn shipped_cases_pass_with_a_summary_line() {
    let out = preflight().arg("test").assert().code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("test builtin/baseline.cases.toml::non-ha-running: a running VM without HA on the drained host is reported ... ok"),
        "{stdout}"
    );
    let last = stdout.lines().last().unwrap();
    assert!(
        regex::Regex::new(r"^\d+ passed, 0 failed$")
            .unwrap()
            .is_match(last),
        "{last}"
    );
    // Every shipped case runs, restore ones included: none is left out of the count.
    let cases = policytest::collect(&[]).expect("shipped cases are valid")[0]
        .cases
        .cases
        .len();
    assert_eq!(last, format!("{cases} passed, 0 failed"));
    assert!(
        stdout.contains(
            "::imbalance: all load left on one host after maintenance is reported ... ok"
        ),
        "{stdout}"
    );
}

#[test]
fn shipped_cases_pass_from_the_policies_folder_too() {
    preflight()
        .args(["test", "policies"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "test policies/baseline.cases.toml::capacity: the other host cannot take the drained VMs ... ok",
        ));
}

#[test]
fn passing_fixture_with_waivers_passes() {
    preflight()
        .args(["test", &format!("{FIX}/passing/lab.cases.toml")])
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with("2 passed, 0 failed\n"));
}

#[test]
fn failing_case_exits_1_and_shows_expected_vs_actual() {
    let out = preflight()
        .args(["test", &format!("{FIX}/failing")])
        .assert()
        .code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let file = format!("{FIX}/failing/lab.cases.toml");
    for line in [
        format!("test {file}::wrong expectations ... FAILED"),
        format!("test {file}::right expectations ... ok"),
        format!("---- {file}::wrong expectations ----"),
        "  missing (expected, not found): non-ha-running vm=LAB-01".to_string(),
        "  unexpected (found, not expected): non-ha-running vm=SQL01 host=HV01".to_string(),
        "  verdict: expected go, got no-go".to_string(),
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no line {line:?} in\n{stdout}"
        );
    }
    assert!(stdout.ends_with("\n1 passed, 1 failed\n"), "{stdout}");
}

#[test]
fn invalid_case_file_exits_2_with_line_and_column() {
    preflight()
        .args(["test", &format!("{FIX}/invalid")])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "{FIX}/invalid/lab.cases.toml:5:1"
        )))
        .stderr(predicate::str::contains("did you mean `expect`?"))
        .stderr(predicate::str::contains(format!(
            "{FIX}/invalid/lab.cases.toml:9:45"
        )))
        .stderr(predicate::str::contains("unknown state `runing`"));
}

#[test]
fn a_case_file_without_its_policy_or_a_non_case_path_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("orphan.cases.toml");
    std::fs::copy(format!("{FIX}/passing/lab.cases.toml"), &cases).unwrap();
    preflight()
        .arg("test")
        .arg(&cases)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "orphan.toml, which cannot be read",
        ));
    preflight()
        .args(["test", &format!("{FIX}/passing/lab.toml")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a test case file"));
}

#[test]
fn junit_output_parses_with_a_suite_per_file_and_a_case_per_case() {
    let out = preflight()
        .args([
            "test",
            "--format",
            "junit",
            &format!("{FIX}/failing"),
            &format!("{FIX}/passing"),
        ])
        .assert()
        .code(1);
    let xml = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("JUnit output is XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 2);
    assert_eq!(
        suites[0].attribute("name"),
        Some(format!("{FIX}/failing/lab.cases.toml").as_str())
    );
    assert_eq!(suites[0].attribute("failures"), Some("1"));
    assert_eq!(suites[1].attribute("failures"), Some("0"));
    let failed = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a <failure>");
    assert_eq!(
        failed.parent().unwrap().attribute("name"),
        Some("wrong expectations")
    );
    assert!(
        failed
            .text()
            .unwrap_or_default()
            .contains("non-ha-running vm=SQL01")
    );
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, 4);
}

#[test]
fn junit_runs_restore_cases_like_any_other() {
    let out = preflight()
        .args(["test", "--format", "junit"])
        .assert()
        .code(0);
    let xml = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("JUnit output is XML");
    let not_passed = doc
        .descendants()
        .filter(|n| n.has_tag_name("skipped") || n.has_tag_name("failure"))
        .count();
    assert_eq!(not_passed, 0, "{xml}");
    let restore_cases: Vec<String> = policytest::collect(&[]).expect("shipped cases are valid")[0]
        .cases
        .cases
        .iter()
        .filter(|c| c.phase == Phase::Restore)
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(restore_cases.len(), 4);
    for name in &restore_cases {
        assert!(
            doc.descendants()
                .any(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name)),
            "no test case {name}"
        );
    }
}

/// Runs every shipped case through the library, and checks that every shipped rule has a case
/// where it fires and one where it stays quiet.
#[test]
fn every_shipped_case_passes_and_every_rule_is_covered_both_ways() {
    let suites = policytest::collect(&[]).expect("shipped cases are valid");
    let folder = policytest::collect(&["policies".to_string()]).expect("policies/ is valid");
    assert_eq!(folder[0].cases.cases.len(), suites[0].cases.cases.len());
    let suite = &suites[0];
    for case in &suite.cases.cases {
        match policytest::run_case(&suite.policy, case) {
            Status::Passed => {}
            Status::Failed(m) => panic!("{}:\n{}", case.name, policytest::details(&m)),
        }
    }
    let policy = load(builtin_sources()).unwrap();
    for rule in &policy.rules {
        let relevant: Vec<_> = suite
            .cases
            .cases
            .iter()
            .filter(|c| c.phase == rule.phase)
            .collect();
        assert!(
            relevant
                .iter()
                .any(|c| c.expect.iter().any(|e| e.rule == rule.id)),
            "no case where {} fires",
            rule.id
        );
        assert!(
            relevant
                .iter()
                .any(|c| c.name.starts_with(&format!("{}:", rule.id))
                    && c.expect.iter().all(|e| e.rule != rule.id)),
            "no case where {} stays quiet",
            rule.id
        );
    }
}

#[test]
fn an_invalid_policy_under_test_is_exit_2_and_nothing_runs() {
    preflight()
        .args([
            "test",
            &format!("{FIX}/invalid-policy"),
            &format!("{FIX}/passing"),
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "{FIX}/invalid-policy/lab.toml:8:12"
        )))
        .stderr(predicate::str::contains("did you mean `error`?"));
}

/// Runs `preflight` from the crate root; returns the exit code and stdout.
fn cli(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("preflight")
        .expect("binary built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `(rule, vm)` of every unwaived finding a case must match, sorted (unused-waiver notes are
/// not findings a case lists).
fn unwaived(report: &serde_json::Value) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["waived"] != true && f["rule"] != "waiver-unused")
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["vm"].as_str().map(String::from),
            )
        })
        .collect();
    out.sort();
    out
}

/// A case file's verdict is the command line's: every shipped case, run as an operator runs
/// it (`audit`, or `audit --plan` then `restore`), gives the verdict and the findings the case
/// pins. `preflight test` and the command line go through the same pipeline.
#[test]
fn shipped_case_verdicts_are_the_command_lines() {
    let text = std::fs::read_to_string("policies/baseline.cases.toml").expect("the cases");
    let file: toml::Table = text.parse().expect("valid TOML");
    let cases = file["case"].as_array().expect("cases");
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut compared = 0;
    for (n, case) in cases.iter().enumerate() {
        let case = case.as_table().expect("a case table");
        let name = case["name"].as_str().unwrap_or_default();
        let write = |key: &str| {
            let path = dir.path().join(format!("{n}-{key}.toml"));
            let inventory = case[key].as_table().expect("an inventory table");
            std::fs::write(&path, toml::to_string(inventory).expect("serializes")).unwrap();
            path.to_str().expect("utf-8 temp path").to_string()
        };
        let now = case["now"].as_str().expect("now");
        let mode = case.get("mode").and_then(|m| m.as_str()).unwrap_or("patch");
        let mut hosts = Vec::new();
        for h in case["hosts"].as_array().expect("hosts") {
            hosts.extend(["--host", h.as_str().expect("a host name")]);
        }
        let restore = case.get("phase").and_then(|p| p.as_str()) == Some("restore");
        let (code, out) = if restore {
            let (before, after) = (write("before"), write("inventory"));
            let plan = dir.path().join(format!("{n}-plan.json"));
            let plan = plan.to_str().expect("utf-8 temp path");
            let mut args = vec!["audit", "--inventory", &before, "--mode", mode];
            args.extend(&hosts);
            args.extend(["--now", now, "--plan", plan, "--quiet"]);
            cli(&args);
            cli(&[
                "restore",
                "--plan",
                plan,
                "--inventory",
                &after,
                "--now",
                now,
                "--format",
                "json",
            ])
        } else {
            let inventory = write("inventory");
            let mut args = vec!["audit", "--inventory", &inventory, "--mode", mode];
            args.extend(&hosts);
            args.extend(["--now", now, "--format", "json"]);
            cli(&args)
        };
        let report: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
        if let Some(verdict) = case.get("verdict").and_then(|v| v.as_str()) {
            assert_eq!(report["verdict"], verdict, "{name}");
            let want = match verdict {
                "go" => 0,
                "no-go" => 1,
                _ => 3,
            };
            assert_eq!(code, want, "{name}");
        }
        let mut expected: Vec<(String, Option<String>)> = case["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .map(|e| {
                (
                    e["rule"].as_str().unwrap_or_default().to_string(),
                    e.get("vm").and_then(|v| v.as_str()).map(String::from),
                )
            })
            .collect();
        expected.sort();
        assert_eq!(unwaived(&report), expected, "{name}");
        compared += 1;
    }
    assert_eq!(compared, cases.len());
}

#[test]
fn one_case_is_counted_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{FIX}/passing");
    std::fs::copy(format!("{src}/lab.toml"), dir.path().join("lab.toml")).unwrap();
    let cases = std::fs::read_to_string(format!("{src}/lab.cases.toml")).unwrap();
    let first = cases.split("\n[[case]]").next().unwrap();
    let file = dir.path().join("lab.cases.toml");
    std::fs::write(&file, first).unwrap();
    let out = preflight()
        .args(["test", file.to_str().unwrap()])
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("running 1 case from "), "{stdout}");
}
