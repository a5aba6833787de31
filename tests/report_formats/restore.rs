//! The report formats for `restore`: the example cluster patched on HV01 (plan written by
//! `audit --plan`), then judged with the fixture exported after maintenance. Snapshots of
//! every format, byte-identical reruns, and the restore-only content (balance figures, the
//! per-host load after the move-back, the restore rules' JUnit suites) in each format.

use super::{FORMATS, run, sarif_validator, schema_errors};
use std::path::Path;

pub(super) const AFTER: &str = "tests/fixtures/restore/after-hv01-up.json";
const OTHER: &str = "tests/fixtures/restore/other-cluster.json";

/// Writes the plan for patching HV01 into `dir` and returns its path.
pub(super) fn plan_in(dir: &Path) -> String {
    let plan = dir.join("plan.json");
    let path = plan.to_str().expect("utf-8 temp path");
    let (_, code) = run(&[
        "audit",
        "--inventory",
        "examples/hyperv-cluster.json",
        "--host",
        "HV01",
        "--now",
        "2026-11-25T17:00:00Z",
        "--plan",
        path,
        "--quiet",
    ]);
    assert_eq!(code, 1, "the example audit is no-go");
    path.to_string()
}

/// `restore` of `inventory` against `plan`, in `format`.
pub(super) fn restore(plan: &str, inventory: &str, format: &str) -> (String, i32) {
    run(&[
        "restore",
        "--plan",
        plan,
        "--inventory",
        inventory,
        "--now",
        "2026-11-26T07:00:00Z",
        "--format",
        format,
    ])
}

#[test]
fn every_restore_format_is_snapshotted_and_byte_identical() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let (a, b) = (plan_in(first.path()), plan_in(second.path()));
    for format in FORMATS {
        let (out, code) = restore(&a, AFTER, format);
        // not-restored and imbalance are warnings: go at the default --fail-on error.
        assert_eq!(code, 0, "{format}");
        assert_eq!(
            out,
            restore(&a, AFTER, format).0,
            "{format} differs on rerun"
        );
        // The record names the plan it judged, by the path given and its digest (every
        // format that lists the inputs: the table lists none); a plan written elsewhere by
        // another run gives the same bytes but for that path.
        assert_eq!(
            out.contains(&a),
            *format != "table",
            "{format} and the plan {a}"
        );
        let out = out.replace(&a, "plan.json");
        assert_eq!(
            out,
            restore(&b, AFTER, format).0.replace(&b, "plan.json"),
            "{format} depends on the plan"
        );
        // Beside the audit's snapshots, so every report snapshot is in one folder.
        insta::with_settings!({ snapshot_path => "../snapshots" }, {
            insta::assert_snapshot!(format!("restore_{format}"), out);
        });
    }
}

#[test]
fn markdown_and_html_show_balance_and_the_move_back() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_in(dir.path());
    let md = restore(&plan, AFTER, "markdown").0;
    let html = restore(&plan, AFTER, "html").0;
    for needle in [
        "Cluster balance",
        "Host memory load before maintenance, now and after the move-back",
        "hyperv platform (from the plan)",
        // HV03: 31.3 % before, 68.8 % now (SQL01 and WEB01 landed there), 31.3 % once home.
        "31.3% (60 GiB)",
        "68.8% (132 GiB)",
        "4 → 6 → 4",
        // CL-PROD's imbalance before, now and after the move-back, and the rule's limit.
        "0.203",
        "0.391",
    ] {
        assert!(md.contains(needle), "markdown lacks {needle}");
        assert!(html.contains(needle), "html lacks {needle}");
    }
    assert!(md.contains("| CL-PROD | `imbalance` | memory | 0.203 | 0.391 | 0.203 | 0.3 |"));
    // The chart: three series (one colour each), a bar for each of the three hosts in each.
    for (class, label) in ["before maintenance", "now", "after the move-back"]
        .iter()
        .enumerate()
    {
        let bar = regex::Regex::new(&format!(
            r#"<i class="bar s{class}( over)?" style="width:[0-9.]+%" title="{label}: "#
        ))
        .unwrap();
        assert_eq!(bar.find_iter(&html).count(), 3, "{label} bars");
    }
    assert!(!html.contains("after the simulated drain"));
    assert!(html.contains("title=\"after the move-back: 31.3%\""));
}

#[test]
fn sarif_carries_balance_and_passes_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_in(dir.path());
    let doc: serde_json::Value = serde_json::from_str(&restore(&plan, AFTER, "sarif").0).unwrap();
    let errors = schema_errors(&sarif_validator(), &doc);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &doc["runs"][0];
    let model = &run["properties"]["preflight"];
    assert_eq!(model["balance"][0]["cluster"], "CL-PROD");
    assert_eq!(model["balance"][0]["now"], 0.391);
    assert_eq!(model["balance"][0]["after_move_back"], 0.203);
    let hv03 = model["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "HV03")
        .unwrap();
    assert_eq!(hv03["after_move_back"]["used_pct"], 31.3);
    // The restore rules are described, and the imbalance result is located at its cluster.
    let ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["not-restored", "imbalance"]);
    let imbalance = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "imbalance")
        .unwrap();
    assert_eq!(imbalance["ruleIndex"], 1);
    let at = &imbalance["locations"][0]["logicalLocations"][0];
    assert_eq!(
        (&at["fullyQualifiedName"], &at["kind"]),
        (&"CL-PROD".into(), &"cluster".into())
    );
}

#[test]
fn junit_has_a_suite_per_restore_rule_with_passes_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_in(dir.path());
    let xml = restore(&plan, AFTER, "junit").0;
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit parses");
    let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["preflight", "not-restored", "imbalance"]);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases = |suite: &str| -> Vec<(String, bool)> {
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase") && n.attribute("classname") == Some(suite))
            .map(|n| {
                // The run is GO at --fail-on error: its warnings are passing tests that say
                // what they found, not failures.
                assert!(!n.children().any(|c| c.has_tag_name("failure")));
                let failed = n.children().any(|c| c.has_tag_name("system-out"));
                // A VM's name ends with its id, when the plan recorded one: left out here.
                let name = n.attribute("name").unwrap();
                let name = name.split(" (").next().unwrap();
                (name.to_string(), failed)
            })
            .collect()
    };
    // Every VM HV01 held before maintenance and HV01 itself are checked; four VMs are not home.
    let placement = cases("not-restored");
    assert_eq!(placement.len(), 10, "{placement:?}");
    assert!(placement.contains(&("CL-PROD/HV01".into(), false)));
    assert!(placement.contains(&("CL-PROD/HV01/DC01".into(), false)));
    let failed: Vec<&str> = placement
        .iter()
        .filter(|(_, f)| *f)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "CL-PROD/HV01/APP02",
            "CL-PROD/HV01/FS01",
            "CL-PROD/HV01/SQL01",
            "CL-PROD/HV01/WEB01"
        ]
    );
    // The cluster is one test case, whether it passes or not: here it fails once.
    assert_eq!(cases("imbalance"), [("CL-PROD".to_string(), true)]);
}

#[test]
fn another_clusters_export_checks_nothing_and_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_in(dir.path());
    let (xml, code) = restore(&plan, OTHER, "junit");
    assert_eq!(code, 3);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    // Nothing was judged, so no rule may show a passing subject: only the failed verdict.
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(names, ["verdict"]);
    let doc: serde_json::Value = serde_json::from_str(&restore(&plan, OTHER, "sarif").0).unwrap();
    assert!(schema_errors(&sarif_validator(), &doc).is_empty());
    assert!(
        restore(&plan, OTHER, "markdown")
            .0
            .starts_with("# UNTRUSTED")
    );
}

#[test]
fn audit_json_gains_no_restore_keys() {
    let (json, _) = super::example("json", false);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(doc.get("balance").is_none());
    assert!(
        doc["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h.get("after_move_back").is_none())
    );
}
