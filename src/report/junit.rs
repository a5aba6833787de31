//! `--format junit`: JUnit XML (through `quick-junit`) for a pipeline's test tab.
//!
//! One test suite per rule, one test case per subject the rule looked at (from
//! [`Report::checked`], plus any subject a finding names), so passes show as well as failures.
//! A subject is a VM, a host, or (for `restore`'s balance rules) a cluster; a VM with an id is
//! named with it (`CL/HV01/SQL01 (id)`), so two VMs of the same name are two test cases.
//!
//! Only what makes the verdict no-go fails: an unwaived finding at or above `--fail-on` is a
//! `<failure>` carrying its message, severity and remediation, so a GO run is green. A finding
//! below the threshold is a passing test with the finding in its `<system-out>`. A waived one is
//! `<skipped>` with the waiver's reason: Jenkins and GitLab count skipped tests apart and never
//! fail a build for them, and the waiver stays visible where a pass would hide it.
//!
//! A first suite, `preflight`, holds the verdict as a test case and the inputs' digests as
//! properties. Every test case has `time="0"`, and there are no timestamps: the same inputs give
//! the same bytes. The output validates against the Jenkins xUnit plugin's JUnit schema, which
//! has no `skipped` attribute on `<testsuites>`.

use super::subjects::NO_CLUSTER;
use super::{CheckedSubject, Report, Reporter, verdict_line};
use crate::engine::{Finding, Verdict};
use crate::policy::Severity;
use quick_junit::{
    NonSuccessKind, Property, Report as JReport, TestCase, TestCaseStatus, TestSuite,
};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub struct Junit;

impl Reporter for Junit {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let xml = build(report).to_string().map_err(io::Error::other)?;
        out.write_all(without_suites_skipped(&xml).as_bytes())?;
        out.write_all(b"\n")
    }
}

/// A subject's key within one rule: (host in lowercase, as inventories differ in case; vm;
/// the VM's id; a label for findings about no host).
type Key = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The Jenkins xUnit schema allows no `skipped` attribute on `<testsuites>` (the suites keep
/// theirs): it is taken out of the root element.
pub(super) fn without_suites_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml.to_string();
    };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    let tag = &xml[start..end];
    let Some(at) = tag.find(" skipped=\"") else {
        return xml.to_string();
    };
    let value_end = tag[at + 10..]
        .find('"')
        .map_or(tag.len(), |e| at + 10 + e + 1);
    format!("{}{}{}", &xml[..start + at], &tag[value_end..], &xml[end..])
}

fn build(report: &Report) -> JReport {
    let mut j = JReport::new(format!(
        "preflight {} {}",
        report.request.command,
        report.request.hosts.join(",")
    ));
    j.add_test_suite(verdict_suite(report));
    let threshold = Severity::parse(&report.request.fail_on);

    let mut order: Vec<String> = report.rules.iter().map(|r| r.id.clone()).collect();
    for f in &report.findings {
        if !order.contains(&f.rule) {
            order.push(f.rule.clone());
        }
    }
    for rule in order {
        // Subjects in a fixed order: checked ones sorted, findings' own by (host, vm, label).
        let mut cases: BTreeMap<Key, (String, Vec<&Finding>)> = BTreeMap::new();
        for c in report.checked.iter().filter(|c| c.rule == rule) {
            let key = key_of_checked(c);
            let name = match &key.3 {
                Some(label) => label.clone(),
                None => subject_name(
                    c.cluster.as_deref(),
                    c.host.as_deref(),
                    c.vm.as_deref(),
                    c.vm_id.as_deref(),
                ),
            };
            cases.entry(key).or_insert((name, Vec::new()));
        }
        for f in report.findings.iter().filter(|f| f.rule == rule) {
            let key = key_of_finding(f);
            let name = match &key.3 {
                Some(label) => label.clone(),
                None => subject_name(
                    f.cluster.as_deref(),
                    f.host.as_deref(),
                    f.vm.as_deref(),
                    f.vm_id.as_deref(),
                ),
            };
            cases.entry(key).or_insert((name, Vec::new())).1.push(f);
        }
        let mut suite = TestSuite::new(rule.as_str());
        if let Some(info) = report.rules.iter().find(|r| r.id == rule) {
            suite.add_property(Property::new("title", info.title.as_str()));
            suite.add_property(Property::new("severity", info.severity.as_str()));
            suite.add_property(Property::new("kind", info.kind.as_str()));
        }
        for (name, findings) in cases.into_values() {
            let (status, out) = status(&findings, threshold);
            let mut case = TestCase::new(name, status);
            case.set_classname(rule.as_str());
            case.set_time(std::time::Duration::ZERO);
            if let Some(out) = out {
                case.set_system_out(out);
            }
            suite.add_test_case(case);
        }
        j.add_test_suite(suite);
    }
    j
}

/// `CL-PROD/HV01/SQL01`: the subject's fully qualified name, as SARIF names it too, and the
/// VM's id after it where it has one.
fn subject_name(
    cluster: Option<&str>,
    host: Option<&str>,
    vm: Option<&str>,
    vm_id: Option<&str>,
) -> String {
    let name = [cluster, host, vm]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
    match vm_id {
        Some(id) if vm.is_some() => format!("{name} ({id})"),
        _ => name,
    }
}

/// A subject that is neither a host nor a VM is a cluster (`balance` rules), named by itself.
fn cluster_label(cluster: Option<&str>) -> String {
    cluster.unwrap_or(NO_CLUSTER).to_string()
}

fn key_of_checked(c: &CheckedSubject) -> Key {
    let label = (c.host.is_none() && c.vm.is_none()).then(|| cluster_label(c.cluster.as_deref()));
    (
        c.host.as_ref().map(|h| h.to_ascii_lowercase()),
        c.vm.clone(),
        c.vm_id.clone(),
        label,
    )
}

fn key_of_finding(f: &Finding) -> Key {
    let label = if f.host.is_none() && f.vm.is_none() {
        // Findings about the policy itself are named by the waiver's place in its file; any
        // other finding about no host or VM is about a cluster.
        Some(
            f.evidence
                .get("location")
                .and_then(|v| v.as_str())
                .map_or_else(|| cluster_label(f.cluster.as_deref()), String::from),
        )
    } else {
        None
    };
    (
        f.host.as_ref().map(|h| h.to_ascii_lowercase()),
        f.vm.clone(),
        f.vm_id.clone(),
        label,
    )
}

/// A finding's text: severity, message, remediation and evidence, a line each.
fn describe(findings: &[&&Finding]) -> String {
    let mut text = String::new();
    for f in findings {
        text.push_str(&format!("{}: {}\n", f.severity, f.message));
        if let Some(r) = &f.remediation {
            text.push_str(&format!("remediation: {r}\n"));
        }
        if !f.evidence.is_empty() {
            text.push_str(&format!(
                "evidence: {}\n",
                serde_json::to_string(&f.evidence).unwrap_or_default()
            ));
        }
    }
    text
}

/// A subject's test status, and the `<system-out>` text of findings that do not fail it.
fn status(findings: &[&Finding], threshold: Option<Severity>) -> (TestCaseStatus, Option<String>) {
    let (blocking, other): (Vec<&&Finding>, Vec<&&Finding>) =
        findings.iter().partition(|f| f.is_blocking_at(threshold));
    let open: Vec<&&Finding> = other.into_iter().filter(|f| !f.waived).collect();
    let out = (!open.is_empty()).then(|| describe(&open));
    if let Some(worst) = blocking.iter().max_by_key(|f| f.severity) {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        s.set_message(
            blocking
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
        s.set_type(worst.severity.as_str());
        s.set_description(describe(&blocking));
        return (s, out);
    }
    if let Some(w) = findings.iter().find_map(|f| f.waiver.as_ref()) {
        let mut s = TestCaseStatus::skipped();
        s.set_message(format!("waived: {}", w.reason));
        s.set_type("waived");
        s.set_description(format!(
            "owner: {}\nticket: {}\nexpires: {}\nwaiver: {}\n",
            w.owner.as_deref().unwrap_or("-"),
            w.ticket.as_deref().unwrap_or("-"),
            w.expires,
            w.location
        ));
        return (s, out);
    }
    (TestCaseStatus::success(), out)
}

/// The `preflight` suite: the verdict as a test, the request and inputs as properties.
fn verdict_suite(report: &Report) -> TestSuite {
    let mut suite = TestSuite::new("preflight");
    let r = &report.request;
    for (k, v) in [
        ("verdict", report.verdict.as_str().to_string()),
        ("exit_code", report.exit_code.to_string()),
        ("hosts", r.hosts.join(",")),
        ("mode", r.mode.clone()),
        ("platform", r.platform.clone()),
        ("now", r.now.clone()),
        ("tool_version", report.inputs.tool_version.clone()),
    ] {
        suite.add_property(Property::new(k, v));
    }
    if let Some(p) = &report.inputs.plan {
        suite.add_property(Property::new(
            format!("plan:{}", p.path),
            format!("sha256:{}", p.sha256),
        ));
    }
    for i in &report.inputs.inventory {
        suite.add_property(Property::new(
            format!("inventory:{}", i.path),
            format!("sha256:{}", i.sha256),
        ));
    }
    for p in &report.inputs.policies {
        suite.add_property(Property::new(
            format!("policy:{}", p.path),
            format!("sha256:{}", p.sha256),
        ));
    }
    let status = match report.verdict {
        Verdict::Go => TestCaseStatus::success(),
        Verdict::NoGo | Verdict::Untrusted => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(verdict_line(report));
            s.set_type(report.verdict.as_str());
            s
        }
    };
    let mut case = TestCase::new("verdict", status);
    case.set_classname("preflight");
    case.set_time(std::time::Duration::ZERO);
    if !report.notes.is_empty() {
        case.set_system_out(report.notes.join("\n"));
    }
    suite.add_test_case(case);
    suite
}
