//! `preflight explain`: every rule id a report can show is explained, including the ones
//! preflight gives findings about the policy itself; an unknown id lists the known ones
//! without breaking an id across lines.

mod common;

use common::run;

#[test]
fn the_report_level_rules_are_explained() {
    for id in ["waiver::expired", "waiver::unused"] {
        let (code, out, err) = run(&["explain", id]);
        assert_eq!(code, 0, "{id}: {err}");
        assert!(out.starts_with(&format!("{id} — ")), "{id}: {out}");
        assert!(out.contains("How to fix it:"), "{id}: {out}");
    }
}

#[test]
fn an_unknown_rule_lists_the_report_level_rules_too() {
    let (code, _, err) = run(&["explain", "waiver::expird"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `waiver::expired`?"), "{err}");
}

/// A help line listing many hyphenated ids wraps between ids, never at a hyphen inside one.
#[test]
fn rule_ids_are_not_split_across_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..12 {
        text.push_str(&format!(
            "[[rule]]\nid = \"long-rule-name-{i}\"\ntitle = \"t\"\nseverity = \"error\"\nkind = \"vm\"\nwhen = {{ ha = false }}\nmessage = \"{{vm}}\"\n\n"
        ));
    }
    let policy = dir.path().join("many.toml");
    std::fs::write(&policy, text).unwrap();
    let (code, _, err) = run(&["explain", "nothing", "--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.lines().count() > 4, "the list did not wrap: {err}");
    for line in err.lines() {
        assert!(!line.trim_end().ends_with('-'), "split id: {err}");
    }
    for i in 0..12 {
        let id = format!("long-rule-name-{i}");
        assert!(err.lines().any(|l| l.contains(&id)), "{id} split: {err}");
    }
}
