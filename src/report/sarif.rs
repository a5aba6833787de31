//! `--format sarif`: SARIF 2.1.0 (through `serde-sarif`) for code-scanning dashboards.
//!
//! Our subjects are not files: a result is located by `logicalLocations` (cluster, host, VM,
//! with fully qualified names like `CL-PROD/HV01/SQL01`), listed once per run with parent
//! links. Each result carries a `partialFingerprints` entry that depends only on (rule, host,
//! vm), so a dashboard tracks the same problem across runs. Waived findings are `suppressions`
//! (external, with the waiver's reason as justification). The run's `properties.preflight`
//! holds the whole report but its findings (already the results), so a section added to the
//! report model shows up here too.

use super::locations::RecordAt;
use super::{Report, Reporter, RuleInfo, verdict_line};
use crate::digest::sha256_hex;
use crate::engine::Finding;
use crate::policy::Severity;
use serde_json::{Value, json};
use serde_sarif::sarif::{
    self, Artifact, ArtifactLocation, Invocation, Location, LogicalLocation, Message,
    MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region,
    ReportingConfiguration, ReportingDescriptor, ResultKind, ResultLevel, Run, Suppression, Tool,
    ToolComponent,
};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub struct Sarif;

/// The JSON schema URI written into `$schema` (the one code-scanning services recognise).
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The `partialFingerprints` key; bump the version if the fingerprint's input ever changes.
pub const FINGERPRINT_KEY: &str = "preflight/v1";
/// The fingerprint GitHub code scanning matches results across runs by.
pub const LINE_HASH_KEY: &str = "primaryLocationLineHash";
/// `tool.driver.informationUri`: the project's repository.
pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");
/// The built-in rules the README's "Policies" table describes (`helpUri` points there).
const DOCUMENTED_RULES: &[&str] = &[
    "non-ha-running",
    "stranded-ha-vm",
    "stranded-vm",
    "capacity",
    "not-restored",
    "imbalance",
];

impl Reporter for Sarif {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &log(report)).map_err(io::Error::other)?;
        out.write_all(b"\n")
    }
}

fn log(report: &Report) -> sarif::Sarif {
    let rules = rules(report);
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let locations = LogicalIndex::of(&report.findings);
    let cwd = report.locations.cwd.as_deref();
    let results = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let record = report.locations.records.get(i).and_then(Option::as_ref);
            let mut r = result(f, index.get(f.rule.as_str()).copied(), &locations, cwd);
            place(&mut r, f, record, report, cwd);
            r
        })
        .collect();

    let mut driver = ToolComponent::builder().name("preflight").build();
    driver.information_uri = Some(INFORMATION_URI.into());
    driver.version = Some(report.inputs.tool_version.clone());
    driver.semantic_version = Some(report.inputs.tool_version.clone());
    driver.rules = Some(rules.iter().map(descriptor).collect());

    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .build();
    run.invocations = Some(vec![invocation(report)]);
    run.artifacts = Some(artifacts(report));
    run.logical_locations = Some(locations.entries);
    run.results = Some(results);
    run.properties = Some(bag([("preflight", model_without_findings(report))]));

    let mut log = sarif::Sarif::builder()
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    log.schema = Some(SCHEMA_URI.into());
    log
}

/// The report's rules, then a bare entry for any rule a finding names that the report's rule
/// list lacks (so every `ruleIndex` points somewhere).
fn rules(report: &Report) -> Vec<RuleInfo> {
    let mut rules = report.rules.clone();
    for f in &report.findings {
        if !rules.iter().any(|r| r.id == f.rule) {
            rules.push(RuleInfo {
                id: f.rule.clone(),
                title: f.rule.clone(),
                severity: f.severity,
                kind: "unknown".into(),
                description: None,
                remediation: None,
            });
        }
    }
    rules
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn text(s: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s).build()
}

fn message(s: &str) -> Message {
    Message::builder().text(s).build()
}

fn bag<const N: usize>(entries: [(&str, Value); N]) -> PropertyBag {
    PropertyBag::builder()
        .additional_properties(
            entries
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
        )
        .build()
}

/// `non-ha-running` → `NonHaRunning`: SARIF's `name` is an identifier-like rule name.
fn pascal(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// SARIF's `name`, which must differ from the `id` even ignoring case (Multitool's SARIF1001):
/// the id in PascalCase, with `Rule` after a one-word id (`capacity` → `CapacityRule`).
fn rule_name(id: &str) -> String {
    let name = pascal(id);
    if name.eq_ignore_ascii_case(id) {
        name + "Rule"
    } else {
        name
    }
}

fn descriptor(r: &RuleInfo) -> ReportingDescriptor {
    let mut d = ReportingDescriptor::builder().id(r.id.clone()).build();
    d.name = Some(rule_name(&r.id));
    d.short_description = Some(text(&r.title));
    d.full_description = Some(text(r.description.as_deref().unwrap_or(&r.title)));
    // Code scanning requires `help` (GH2012): the remediation, else what the rule is about.
    d.help = Some(text(
        r.remediation
            .as_deref()
            .or(r.description.as_deref())
            .unwrap_or(&r.title),
    ));
    if DOCUMENTED_RULES.contains(&r.id.as_str()) {
        d.help_uri = Some(format!("{INFORMATION_URI}/blob/main/README.md#policies"));
    }
    d.default_configuration = Some(ReportingConfiguration {
        level: Some(json!(level(r.severity))),
        ..ReportingConfiguration::default()
    });
    let mut props = bag([("severity", json!(r.severity)), ("kind", json!(r.kind))]);
    props.tags = Some(vec!["maintenance".into(), r.kind.clone()]);
    d.properties = Some(props);
    d
}

/// The run's logical locations, one per cluster, host and VM named by a finding, sorted by
/// fully qualified name, each pointing at its parent.
struct LogicalIndex {
    entries: Vec<LogicalLocation>,
    by_name: BTreeMap<String, usize>,
}

/// The (fully qualified name, name, kind) path of a finding's subject, outermost first.
fn path(f: &Finding) -> Vec<(String, String, &'static str)> {
    let mut out: Vec<(String, String, &'static str)> = Vec::new();
    let parts = [
        (f.cluster.as_deref(), "cluster"),
        (f.host.as_deref(), "host"),
        (f.vm.as_deref(), "vm"),
    ];
    for (name, kind) in parts {
        if let Some(name) = name {
            let fqn = match out.last() {
                Some((parent, _, _)) => format!("{parent}/{name}"),
                None => name.to_string(),
            };
            out.push((fqn, name.to_string(), kind));
        }
    }
    out
}

impl LogicalIndex {
    fn of(findings: &[Finding]) -> LogicalIndex {
        let mut all: BTreeMap<String, (String, &'static str, Option<String>)> = BTreeMap::new();
        for f in findings {
            let p = path(f);
            for (i, (fqn, name, kind)) in p.iter().enumerate() {
                let parent = i.checked_sub(1).map(|j| p[j].0.clone());
                all.entry(fqn.clone())
                    .or_insert_with(|| (name.clone(), kind, parent));
            }
        }
        let by_name: BTreeMap<String, usize> = all
            .keys()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let entries = all
            .iter()
            .map(|(fqn, (name, kind, parent))| LogicalLocation {
                fully_qualified_name: Some(fqn.clone()),
                name: Some(name.clone()),
                kind: Some((*kind).into()),
                parent_index: parent
                    .as_ref()
                    .and_then(|p| by_name.get(p))
                    .map(|&i| i as i64),
                ..LogicalLocation::default()
            })
            .collect();
        LogicalIndex { entries, by_name }
    }

    /// A reference to the finding's innermost subject.
    fn reference(&self, f: &Finding) -> Option<LogicalLocation> {
        let (fqn, name, kind) = path(f).pop()?;
        Some(LogicalLocation {
            index: self.by_name.get(&fqn).map(|&i| i as i64),
            fully_qualified_name: Some(fqn),
            name: Some(name),
            kind: Some(kind.into()),
            ..LogicalLocation::default()
        })
    }
}

fn result(
    f: &Finding,
    rule_index: Option<usize>,
    locations: &LogicalIndex,
    cwd: Option<&str>,
) -> sarif::Result {
    let mut r = sarif::Result::builder()
        .message(message(&f.message))
        .build();
    r.rule_id = Some(f.rule.clone());
    r.rule_index = rule_index.map(|i| i as i64);
    // A waived finding is a note, not an open alert: GitHub code scanning shows a result whatever
    // its `suppressions` say, at its level.
    r.level = Some(if f.waived {
        ResultLevel::Note
    } else {
        level(f.severity)
    });
    r.kind = Some(ResultKind::Fail);
    let location = match locations.reference(f) {
        Some(l) => Some(Location {
            logical_locations: Some(vec![l]),
            ..Location::default()
        }),
        // Findings about the policy itself (expired or unused waivers) point into its file.
        None => f
            .evidence
            .get("location")
            .and_then(Value::as_str)
            .and_then(|at| physical(at, cwd)),
    };
    r.locations = location.map(|l| vec![l]);
    let key = format!(
        "{}\u{0}{}\u{0}{}",
        f.rule,
        f.host.as_deref().unwrap_or(""),
        f.vm.as_deref().unwrap_or("")
    );
    // GitHub's: the rule, the VM's id (its name when it has none) and the host, never a line,
    // so the alert survives a re-export that moves the record.
    let line_key = format!(
        "{}\u{0}{}\u{0}{}",
        f.rule,
        f.vm_id.as_deref().or(f.vm.as_deref()).unwrap_or(""),
        f.host.as_deref().unwrap_or("").to_lowercase()
    );
    r.partial_fingerprints = Some(BTreeMap::from([
        (FINGERPRINT_KEY.to_string(), sha256_hex(key.as_bytes())),
        (LINE_HASH_KEY.to_string(), sha256_hex(line_key.as_bytes())),
    ]));
    r.properties = Some(bag([
        ("severity", json!(f.severity)),
        ("cluster", json!(f.cluster)),
        ("remediation", json!(f.remediation)),
        ("evidence", json!(f.evidence)),
    ]));
    if let Some(w) = &f.waiver {
        let mut s = Suppression::builder().kind(json!("external")).build();
        s.status = Some(json!("accepted"));
        s.justification = Some(w.reason.clone());
        s.properties = Some(bag([
            ("owner", json!(w.owner)),
            ("ticket", json!(w.ticket)),
            ("expires", json!(w.expires)),
            ("location", json!(w.location)),
        ]));
        r.suppressions = Some(vec![s]);
    }
    r
}

/// `file:line:column` → a physical location in that file.
fn physical(at: &str, cwd: Option<&str>) -> Option<Location> {
    let mut parts = at.rsplitn(3, ':');
    let column: i64 = parts.next()?.parse().ok()?;
    let line: i64 = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    Some(Location {
        physical_location: Some(physical_at(file, line, column, cwd)),
        ..Location::default()
    })
}

fn physical_at(file: &str, line: i64, column: i64, cwd: Option<&str>) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: Some(ArtifactLocation {
            uri: Some(artifact_uri(file, cwd)),
            ..ArtifactLocation::default()
        }),
        region: Some(Region {
            start_line: Some(line),
            start_column: Some(column),
            ..Region::default()
        }),
        ..PhysicalLocation::default()
    }
}

/// Gives a result about a VM, host or cluster the physical location of its record in the
/// inventory (or, where none was found, the first inventory file's first line), and for a
/// workbook a logical location naming the sheet and row.
fn place(
    r: &mut sarif::Result,
    f: &Finding,
    record: Option<&RecordAt>,
    report: &Report,
    cwd: Option<&str>,
) {
    if f.vm.is_none() && f.host.is_none() && f.cluster.is_none() {
        return; // About the policy: already in its file.
    }
    let physical = match record {
        Some(at) => physical_at(&at.path, at.line as i64, at.column as i64, cwd),
        None => match report.inputs.inventory.first() {
            Some(i) => physical_at(&i.path, 1, 1, cwd),
            None => return,
        },
    };
    let location = match r.locations.as_mut().and_then(|l| l.first_mut()) {
        Some(l) => l,
        None => {
            r.locations = Some(vec![Location::default()]);
            match r.locations.as_mut().and_then(|l| l.first_mut()) {
                Some(l) => l,
                None => return,
            }
        }
    };
    location.physical_location = Some(physical);
    if let Some((sheet, row)) = record.and_then(|at| at.sheet.as_ref()) {
        location
            .logical_locations
            .get_or_insert_with(Vec::new)
            .push(LogicalLocation {
                name: Some(format!("{sheet} row {row}")),
                fully_qualified_name: Some(format!("{sheet}!{row}:{row}")),
                kind: Some("worksheetRow".into()),
                ..LogicalLocation::default()
            });
    }
}

/// A path as given on the command line as an artifact URI: relative paths as relative URI
/// references; an absolute path under `cwd` relative to it; any other absolute path as a
/// `file://` URI. Never a URI starting with `/`, which code scanning cannot place.
fn artifact_uri(path: &str, cwd: Option<&str>) -> String {
    let path = path.replace('\\', "/");
    let drive = path.len() >= 3 && path.as_bytes()[0].is_ascii_alphabetic() && &path[1..3] == ":/";
    if !(path.starts_with('/') || drive) {
        return uri_reference(&path);
    }
    if let Some(cwd) = cwd {
        let cwd = cwd.replace('\\', "/");
        let cwd = cwd.trim_end_matches('/');
        if let Some(rest) = path.strip_prefix(cwd).and_then(|r| r.strip_prefix('/'))
            && !rest.is_empty()
        {
            return uri_reference(rest);
        }
    }
    if drive {
        format!("file:///{}:{}", &path[..1], uri_reference(&path[2..]))
    } else {
        format!("file:///{}", uri_reference(path.trim_start_matches('/')))
    }
}

/// A path as given on the command line, as a relative URI reference: forward slashes, and
/// anything outside RFC 3986's unreserved and path characters percent-encoded.
fn uri_reference(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn artifacts(report: &Report) -> Vec<Artifact> {
    let cwd = report.locations.cwd.as_deref();
    let one = |path: &str, sha256: &str, role: &str| Artifact {
        location: Some(ArtifactLocation {
            uri: Some(artifact_uri(path, cwd)),
            ..ArtifactLocation::default()
        }),
        hashes: Some(BTreeMap::from([(
            "sha-256".to_string(),
            sha256.to_string(),
        )])),
        roles: Some(vec![json!(role)]),
        ..Artifact::default()
    };
    // `restore`: the plan it judged the inventory against, as given on the command line.
    let mut out: Vec<Artifact> = report
        .inputs
        .plan
        .iter()
        .map(|p| one(&p.path, &p.sha256, "referencedOnCommandLine"))
        .collect();
    out.extend(
        report
            .inputs
            .inventory
            .iter()
            .map(|i| one(&i.path, &i.sha256, "analysisTarget")),
    );
    out.extend(
        report
            .inputs
            .policies
            .iter()
            .map(|p| one(&p.path, &p.sha256, "policy")),
    );
    out
}

fn invocation(report: &Report) -> Invocation {
    // Successful means a verdict to act on: go (0) or no-go (1). Untrusted input (3) gives none
    // (an exit 2 run writes its own record, see `error.rs`): the run shows as failed, with why.
    let decided = matches!(report.exit_code, 0 | 1);
    let mut inv = Invocation::builder().execution_successful(decided).build();
    inv.exit_code = Some(i64::from(report.exit_code));
    inv.exit_code_description = Some(report.exit_reason.clone());
    inv.properties = Some(bag([("verdict", json!(report.verdict))]));
    let mut notes: Vec<Notification> = Vec::new();
    if !decided {
        let mut why = Notification::builder()
            .message(message(&verdict_line(report)))
            .build();
        why.level = Some(json!("error"));
        notes.push(why);
    }
    for n in &report.notes {
        let mut note = Notification::builder().message(message(n)).build();
        note.level = Some(json!("note"));
        notes.push(note);
    }
    if !notes.is_empty() {
        inv.tool_execution_notifications = Some(notes);
    }
    inv
}

/// The report as JSON, minus `findings` (the results already) and `schema`.
fn model_without_findings(report: &Report) -> Value {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("findings");
        o.remove("schema");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_and_uris() {
        assert_eq!(pascal("non-ha-running"), "NonHaRunning");
        assert_eq!(pascal("waiver::expired"), "WaiverExpired");
        assert_eq!(rule_name("non-ha-running"), "NonHaRunning");
        assert_eq!(rule_name("capacity"), "CapacityRule");
        assert_eq!(uri_reference(r"c:\x y\a.toml"), "c%3A/x%20y/a.toml");
    }

    #[test]
    fn policy_locations_parse() {
        let l = physical("examples/w.toml:15:1", None).unwrap();
        let p = l.physical_location.unwrap();
        assert_eq!(p.region.unwrap().start_line, Some(15));
        assert!(physical("nowhere", None).is_none());
    }

    #[test]
    fn artifact_uris_never_start_with_a_slash() {
        let cwd = Some("/home/ops/repo");
        assert_eq!(artifact_uri("inv/a b.json", cwd), "inv/a%20b.json");
        assert_eq!(artifact_uri("/home/ops/repo/inv/a.json", cwd), "inv/a.json");
        assert_eq!(
            artifact_uri("/home/ops/repo2/a.json", cwd),
            "file:///home/ops/repo2/a.json"
        );
        assert_eq!(
            artifact_uri("/tmp/x y/é.toml", None),
            "file:///tmp/x%20y/%C3%A9.toml"
        );
        assert_eq!(
            artifact_uri(r"C:\exports\a.csv", Some("/x")),
            "file:///C:/exports/a.csv"
        );
        assert_eq!(artifact_uri(r"C:\repo\a.csv", Some(r"C:\repo")), "a.csv");
    }

    #[test]
    fn documented_rules_are_in_the_readme() {
        let readme = include_str!("../../README.md");
        let policies = &readme[readme.find("## Policies").unwrap()..];
        for id in DOCUMENTED_RULES {
            assert!(policies.contains(&format!("| `{id}` |")), "{id}");
        }
    }
}
