//! Case files: every kind of problem is reported at its line and column; cases run and compare.

use super::*;
use crate::diag::Code;

const INVENTORY: &str = r#"
[case.inventory]
hosts = [{ name = "HV01", cluster = "C1", state = "up", memory_mb = 131072, cpus = 16 }]
vms = [{ name = "SQL01", host = "HV01", state = "running", ha = false, memory_mb = 1024 }]
"#;

fn case(head: &str) -> String {
    format!("[[case]]\n{head}{INVENTORY}")
}

const HEAD: &str =
    "name = \"n\"\nhosts = [\"HV01\"]\nnow = \"2026-11-20T08:00:00Z\"\nexpect = []\n";

fn errors(text: &str) -> Vec<(Code, String, (usize, usize))> {
    let err = parse(SourceFile::new("t.cases.toml", text)).expect_err("invalid");
    err.0
        .iter()
        .map(|d| (d.code, d.message.clone(), d.line_col().unwrap_or((0, 0))))
        .collect()
}

#[test]
fn a_valid_case_reads_with_defaults() {
    let file = parse(SourceFile::new("t.cases.toml", case(HEAD))).expect("valid");
    let c = &file.cases[0];
    assert_eq!(c.name, "n");
    assert_eq!(c.hosts, vec!["HV01".to_string()]);
    assert_eq!((c.mode, c.phase), (Mode::Patch, Phase::Audit));
    assert_eq!(c.now.to_string(), "2026-11-20T08:00:00Z");
    assert_eq!(c.inventory.vms[0].name, "SQL01");
    assert!(c.before.is_none() && c.verdict.is_none() && c.platform.is_none());
}

#[test]
fn unknown_key_has_did_you_mean_and_position() {
    let e = errors(&case(&format!("{HEAD}verdcit = \"go\"\n")));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, Code::PolicyUnknownKey);
    assert_eq!(e[0].2, (6, 1));
    let d = parse(SourceFile::new(
        "t",
        case(&format!("{HEAD}verdcit = \"go\"\n")),
    ))
    .unwrap_err();
    assert!(
        d.0[0]
            .help
            .as_deref()
            .unwrap()
            .contains("did you mean `verdict`")
    );
}

#[test]
fn missing_required_keys_point_at_the_case() {
    let e = errors(&case("name = \"n\"\n"));
    let missing: Vec<&str> = e
        .iter()
        .filter(|x| x.0 == Code::PolicyMissingKey)
        .map(|x| x.1.as_str())
        .collect();
    assert_eq!(
        missing,
        [
            "[[case]] has no `expect`",
            "[[case]] has no `hosts`",
            "[[case]] has no `now`"
        ]
    );
    assert!(e.iter().all(|x| x.2 == (1, 1)), "{e:?}");
}

#[test]
fn bad_words_and_timestamps_are_located() {
    let text = case(&format!(
        "{HEAD}mode = \"decomission\"\nverdict = \"nogo\"\n"
    ))
    .replace("2026-11-20T08:00:00Z", "yesterday");
    let e = errors(&text);
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(e[0].1.starts_with("`now` is not an RFC 3339"), "{e:?}");
    assert_eq!(e[0].2, (4, 7));
    assert_eq!((e[1].0, e[1].2), (Code::PolicyValue, (6, 8)));
    assert_eq!((e[2].0, e[2].2), (Code::PolicyValue, (7, 11)));
}

#[test]
fn expect_entries_are_checked() {
    let e = errors(&case(
        "name = \"n\"\nhosts = [\"HV01\"]\nnow = \"2026-11-20T08:00:00Z\"\nexpect = [{ rule = \"x\", machine = \"SQL01\" }, { vm = \"A\" }, 3]\n",
    ));
    let codes: Vec<Code> = e.iter().map(|x| x.0).collect();
    assert_eq!(
        codes,
        [
            Code::PolicyUnknownKey,
            Code::PolicyMissingKey,
            Code::PolicyType
        ]
    );
    assert_eq!(e[0].2, (5, 25));
    assert_eq!(e[1].2, (5, 46));
    assert_eq!(e[2].2, (5, 60));
}

#[test]
fn unknown_host_is_located_with_candidates() {
    let err = parse(SourceFile::new(
        "t",
        case(&HEAD.replace("[\"HV01\"]", "[\"HV1\"]")),
    ))
    .unwrap_err();
    let d = &err.0[0];
    assert_eq!(d.code, Code::HostNotFound);
    assert_eq!(d.line_col(), Some((3, 10)));
    assert!(d.help.as_deref().unwrap().contains("did you mean `HV01`"));
}

#[test]
fn inventory_errors_point_into_the_right_case() {
    let second =
        case(&HEAD.replace("\"n\"", "\"m\"")).replace("memory_mb = 1024 }", "memory_mb = -1 }");
    let text = format!("{}\n{second}", case(HEAD));
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, Code::InventoryField);
    assert!(e[0].1.contains("negative"), "{e:?}");
    // Line 19 is the second case's `vms`; column 84 is the `-1`.
    assert_eq!(e[0].2, (19, 84));
}

#[test]
fn duplicate_vms_are_found_in_their_own_case() {
    let dup = INVENTORY.replace(
        "vms = [{",
        "vms = [{ name = \"SQL01\", host = \"HV01\", state = \"off\" }, {",
    );
    let text = format!(
        "{}\n[[case]]\n{}{dup}",
        case(HEAD),
        HEAD.replace("\"n\"", "\"m\"")
    );
    let e = errors(&text);
    assert_eq!(e[0].0, Code::InventoryDuplicate, "{e:?}");
    // The second use of the name, on the second case's `vms` line (19), not the first case's.
    assert_eq!(e[0].2, (19, 67), "{e:?}");
}

#[test]
fn restore_cases_need_before_and_audit_cases_refuse_it() {
    let e = errors(&case(&format!("{HEAD}phase = \"restore\"\n")));
    assert_eq!(e[0].1, "[[case]] has no `before`");
    let with_before = format!("{}[case.before]\nvms = []\n", case(HEAD));
    let e = errors(&with_before);
    assert_eq!(e[0].0, Code::PolicyKindKey);
    assert_eq!(e[0].2.0, 10);
    let restore = format!(
        "{}[case.before]\nhosts = [{{ name = \"HV01\" }}]\n",
        case(&format!("{HEAD}phase = \"restore\"\n"))
    );
    let file = parse(SourceFile::new("t", restore)).expect("valid restore case");
    assert_eq!(file.cases[0].before.as_ref().unwrap().hosts[0].name, "HV01");
}

#[test]
fn duplicate_names_and_no_cases_are_errors() {
    let e = errors(&format!("{}\n{}", case(HEAD), case(HEAD)));
    assert_eq!(e[0].0, Code::CaseDuplicate);
    assert_eq!(e[0].2.0, 12);
    let e = errors("# nothing\n");
    assert_eq!(e[0].1, "t.cases.toml holds no [[case]]");
    let e = errors("[[case]\n");
    assert_eq!(e[0].0, Code::PolicySyntax);
}

fn finding(rule: &str, vm: Option<&str>, host: &str) -> crate::engine::Finding {
    crate::engine::Finding {
        rule: rule.into(),
        title: None,
        severity: crate::policy::Severity::Error,
        vm: vm.map(String::from),
        vm_id: None,
        host: Some(host.into()),
        cluster: Some("C1".into()),
        message: String::new(),
        remediation: None,
        evidence: Default::default(),
        waived: false,
        waiver: None,
    }
}

fn expected(rule: &str, vm: Option<&str>, host: Option<&str>) -> Expected {
    Expected {
        rule: rule.into(),
        vm: vm.map(String::from),
        host: host.map(String::from),
        cluster: None,
    }
}

#[test]
fn expectations_match_by_subject() {
    let f = finding("capacity", Some("A"), "HV01");
    assert!(expected("capacity", Some("A"), None).matches(&f));
    assert!(expected("capacity", Some("A"), Some("hv01")).matches(&f));
    assert!(!expected("capacity", Some("A"), Some("HV02")).matches(&f));
    // Without `vm`, an expectation is about a host-level finding only.
    assert!(!expected("capacity", None, Some("HV01")).matches(&f));
    assert!(expected("capacity", None, Some("HV01")).matches(&finding("capacity", None, "HV01")));
}

#[test]
fn comparison_is_an_exact_multiset_with_best_matching() {
    let mut c = parse(SourceFile::new("t", case(HEAD)))
        .unwrap()
        .cases
        .remove(0);
    // The loose expectation must not take the finding the specific one needs.
    c.expect = vec![
        expected("r", Some("A"), None),
        expected("r", Some("A"), Some("HV01")),
    ];
    let eval = crate::engine::Evaluation {
        findings: vec![
            finding("r", Some("A"), "HV01"),
            finding("r", Some("A"), "HV02"),
        ],
        ..Default::default()
    };
    assert_eq!(compare(&c, &eval), Status::Passed);
    c.expect.push(expected("r", Some("B"), None));
    let Status::Failed(m) = compare(&c, &eval) else {
        panic!("a missing finding must fail")
    };
    assert_eq!(m.missing, vec![expected("r", Some("B"), None)]);
    assert!(m.unexpected.is_empty());
    c.expect.truncate(1);
    let Status::Failed(m) = compare(&c, &eval) else {
        panic!("an extra finding must fail")
    };
    assert_eq!(m.unexpected.len(), 1);
}

#[test]
fn waived_and_unused_waiver_findings_are_not_compared_but_verdict_is() {
    let mut c = parse(SourceFile::new("t", case(HEAD)))
        .unwrap()
        .cases
        .remove(0);
    let mut waived = finding("r", Some("A"), "HV01");
    waived.waived = true;
    let mut unused = finding(crate::engine::WAIVER_UNUSED, None, "HV01");
    unused.severity = crate::policy::Severity::Warning;
    let eval = crate::engine::Evaluation {
        findings: vec![waived, unused],
        ..Default::default()
    };
    assert_eq!(compare(&c, &eval), Status::Passed);
    c.verdict = Some(Verdict::NoGo);
    let Status::Failed(m) = compare(&c, &eval) else {
        panic!("wrong verdict must fail")
    };
    assert_eq!(m.verdict, Some((Verdict::NoGo, Verdict::Go)));
}

#[test]
fn restore_cases_run_against_a_plan_made_from_before() {
    // Before maintenance HV01 held SQL01 and APP01; after it, only SQL01 is back (the
    // after-inventory is INVENTORY), so APP01 is reported as gone from its host.
    let before = "[case.before]\nhosts = [{ name = \"HV01\", cluster = \"C1\", state = \"up\", memory_mb = 131072 }]\nvms = [\n  { name = \"SQL01\", host = \"HV01\", state = \"running\", ha = false, memory_mb = 1024 },\n  { name = \"APP01\", host = \"HV01\", state = \"running\", ha = true, memory_mb = 1024 },\n]\n";
    let policy = crate::policy::load(crate::policy::builtin_sources()).unwrap();
    let run = |expect: &str| {
        let head = HEAD.replace("expect = []", expect);
        let text = format!("{}{before}", case(&format!("{head}phase = \"restore\"\n")));
        let c = parse(SourceFile::new("t", text)).unwrap().cases.remove(0);
        run_case(&policy, &c)
    };
    assert_eq!(
        run("expect = [{ rule = \"not-restored\", vm = \"APP01\" }]"),
        Status::Passed
    );
    let Status::Failed(m) = run("expect = []") else {
        panic!("a vanished VM must be found")
    };
    assert_eq!(m.unexpected.len(), 1);
    assert_eq!(m.unexpected[0].vm.as_deref(), Some("APP01"));
}

#[test]
fn policy_of_names_the_sibling() {
    assert_eq!(policy_of("p/foo.cases.toml"), "p/foo.toml");
    assert!(is_case_file(std::path::Path::new("a/b.cases.toml")));
    assert!(!is_case_file(std::path::Path::new("a/b.toml")));
}

#[test]
fn an_inline_inventory_table_reads_like_a_header_table() {
    let text = format!(
        "[[case]]\n{HEAD}inventory = {{ collected_at = 2026-11-20T07:00:00Z, vms = [{{ name = \"A\", host = \"HV01\", state = \"off\" }}] }}\n"
    );
    let file = parse(SourceFile::new("t", text)).expect("valid");
    let inv = &file.cases[0].inventory;
    assert_eq!(inv.vms[0].name, "A");
    // HV01 is implied by the VM placed on it, as in an inventory file.
    assert!(inv.hosts[0].implied);
    assert_eq!(
        inv.collected_at.unwrap().to_string(),
        "2026-11-20T07:00:00Z"
    );
}
