//! Every invalid policy exits 2 with a diagnostic that names the file, line and column,
//! puts a label under the value and suggests the name that was meant.

mod common;

use common::run;

fn validate(files: &[&str]) -> (i32, String) {
    let mut args = vec!["validate"];
    for f in files {
        args.push("--policy");
        args.push(f);
    }
    let (code, _, err) = run(&args);
    (code, err)
}

macro_rules! policy_error {
    ($name:ident, $($file:literal),+ ; $($needle:literal),+) => {
        #[test]
        fn $name() {
            let (code, err) = validate(&[$(concat!("tests/fixtures/policies/", $file)),+]);
            assert_eq!(code, 2, "{err}");
            $(assert!(err.contains($needle), "missing {:?} in:\n{err}", $needle);)+
            insta::assert_snapshot!(stringify!($name), err);
        }
    };
}

policy_error!(unknown_key, "unknown-key.toml"; "policy::unknown-key", "unknown-key.toml:4:1", "did you mean `severity`?");
policy_error!(bad_enum_values, "bad-values.toml"; "bad-values.toml:4:12", "did you mean `decommission`?", "did you mean `running`?", "`ha` must be true or false");
policy_error!(regex_errors_point_into_the_string, "bad-regex.toml"; "bad-regex.toml:4:23", "bad-regex.toml:8:7", "policy::regex");
policy_error!(duplicate_ids_across_files, "dup-a.toml", "dup-b.toml"; "dup-b.toml:4:6", "dup-a.toml:2:6", "first definition");
policy_error!(unknown_placeholder, "placeholder.toml"; "placeholder.toml:4:25", "did you mean `{host}`?");
policy_error!(waivers_for_missing_or_unwaivable_rules, "bad-waivers.toml"; "did you mean `non-ha-running`?", "rule `capacity` may not be waived", "must be a TOML date, not a string");
policy_error!(toml_syntax, "syntax.toml"; "policy::syntax", "syntax.toml:3");
policy_error!(keys_of_another_kind, "kind-keys.toml"; "`max_imbalance` belongs to `balance` rules", "unknown key `memory`", "must be a number from 0 to 1", "evaluated in the `restore` phase");

#[test]
fn all_problems_of_a_file_are_reported_at_once() {
    let (_, err) = validate(&["tests/fixtures/policies/bad-values.toml"]);
    assert!(err.contains("error: 4 problems"), "{err}");
}

#[test]
fn the_baseline_validates() {
    let (code, out, _) = run(&["validate"]);
    assert_eq!(code, 0);
    assert!(out.contains("12 rule(s)"), "{out}");
}

#[test]
fn audit_refuses_to_evaluate_a_broken_policy() {
    let (code, out, err) = run(&[
        "audit",
        "--inventory",
        "examples/hyperv-cluster.json",
        "--host",
        "HV01",
        "--policy",
        "tests/fixtures/policies/unknown-key.toml",
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("severty"));
}

#[test]
fn a_missing_policy_path_is_an_input_error() {
    let (code, err) = validate(&["tests/fixtures/policies/nope.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read policy file tests/fixtures/policies/nope.toml"),
        "{err}"
    );
}

#[test]
fn rules_and_explain() {
    let (code, out, _) = run(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let rules: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "non-ha-running",
            "stranded-ha-vm",
            "stranded-vm",
            "local-media",
            "local-device",
            "capacity",
            "not-restored",
            "imbalance",
            "anti-affinity",
            "allowed-hosts",
            "network",
            "cpu"
        ]
    );
    assert_eq!(rules[0]["source"], "builtin/baseline.toml:8:1");
    let (code, out, _) = run(&["explain", "capacity"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("What it checks:")
            && out.contains("Why it matters:")
            && out.contains("How to fix it:"),
        "{out}"
    );
    let (code, _, err) = run(&["explain", "non-ha-runing"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `non-ha-running`?"), "{err}");
}

#[test]
fn an_empty_policy_file_is_refused_not_a_silent_go() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("empty.toml", ""),
        ("blank.toml", "\n\n   \n"),
        ("comments.toml", "# rules go here\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap();
        let (code, out, err) = run(&[
            "audit",
            "--inventory",
            common::EXAMPLE,
            "--host",
            "HV01",
            "--policy",
            path,
        ]);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(err.contains("policy::empty"), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
    }
}

#[test]
fn a_policy_without_a_single_rule_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("named.toml");
    std::fs::write(&path, "[policy]\nname = \"nothing yet\"\n").unwrap();
    let (code, err) = validate(&[path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds no rule"), "{err}");
    // With rules from another file, a file holding only [policy] settings is fine.
    let (code, err) = validate(&[path.to_str().unwrap(), "builtin"]);
    assert_eq!(code, 0, "{err}");
}
