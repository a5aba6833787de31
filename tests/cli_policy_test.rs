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
/// where it fires and one where it stays quiet (CONTRACT 4.5).
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
