//! Reading a `*.cases.toml` file into checked [`Case`]s.
//!
//! Validated like a policy file: the TOML is parsed with spans, every key is checked (unknown
//! keys get a did-you-mean), every problem of the file is collected, and each points at its
//! line and column. The inline inventories go through the native inventory reader, so a bad
//! VM state in a case is reported exactly as it would be in an inventory file.

use super::{Case, CaseFile, Expected};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::engine::{Verdict, resolve_hosts};
use crate::inventory::native_from_toml;
use crate::model::{Inventory, Platform};
use crate::policy::{Mode, Phase, TableReader, array_items, syntax_errors, type_error};
use std::collections::BTreeMap;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

const TOP_KEYS: &[&str] = &["case"];
const CASE_KEYS: &[&str] = &[
    "name",
    "hosts",
    "mode",
    "phase",
    "now",
    "platform",
    "expect",
    "verdict",
    "inventory",
    "before",
];
const EXPECT_KEYS: &[&str] = &["rule", "vm", "host", "cluster"];
const VERDICT_WORDS: &[&str] = &["go", "no-go", "untrusted"];

/// Validates a case file, returning its cases or every problem found in it.
pub fn parse(source: SourceFile) -> Result<CaseFile, Diagnostics> {
    let mut diags = Diagnostics::default();
    let text = std::sync::Arc::clone(&source.text);
    let (doc, errors) = DeTable::parse_recoverable(&text);
    if !errors.is_empty() {
        return Err(syntax_errors(&source, errors));
    }
    let doc = Spanned::new(doc.span(), DeValue::Table(doc.into_inner()));
    let mut cases = Vec::new();
    if let Some(t) = TableReader::new(&source, &doc, "the case file", &mut diags) {
        t.deny_unknown(TOP_KEYS, &mut diags);
        match t.get("case").map(|v| (v, v.get_ref())) {
            Some((_, DeValue::Array(items))) => {
                for item in array_items(items) {
                    if let Some(c) = read_case(&source, item, &mut diags) {
                        cases.push(c);
                    }
                }
            }
            Some((v, _)) => diags.push(SourceDiag::at(
                Code::PolicyType,
                "`case` must be written as [[case]] tables",
                &source,
                v.span(),
                "not an array of tables",
            )),
            None => diags.push(
                SourceDiag::at(
                    Code::PolicyMissingKey,
                    format!("{} holds no [[case]]", source.name),
                    &source,
                    0..0,
                    "no test case in this file",
                )
                .with_help("a case file lists [[case]] tables; see `preflight test --help`"),
            ),
        }
    }
    check_unique_names(&source, &cases, &mut diags);
    diags.into_result(CaseFile { source, cases })
}

fn read_case(
    file: &SourceFile,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Case> {
    let t = TableReader::new(file, value, "[[case]]", diags)?;
    let before_count = diags.0.len();
    t.deny_unknown(CASE_KEYS, diags);
    let name = t.required_string("name", diags);
    if let Some(n) = &name
        && n.get_ref().trim().is_empty()
    {
        diags.push(SourceDiag::at(
            Code::PolicyValue,
            "a case's `name` must not be empty",
            file,
            n.span(),
            "empty name",
        ));
    }
    let hosts = match t.get("hosts") {
        None => {
            t.missing("hosts", diags);
            None
        }
        Some(_) => t.strings("hosts", diags),
    };
    if let Some(h) = &hosts
        && h.get_ref().is_empty()
    {
        diags.push(SourceDiag::at(
            Code::PolicyValue,
            "`hosts` must name at least one host to drain",
            file,
            h.span(),
            "empty list",
        ));
    }
    let mode = t
        .word("mode", Mode::WORDS, Mode::parse, diags)
        .map_or(Mode::Patch, Spanned::into_inner);
    let phase = t
        .word("phase", Phase::WORDS, Phase::parse, diags)
        .map_or(Phase::Audit, Spanned::into_inner);
    let platform_words: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
    let platform = t
        .word("platform", &platform_words, Platform::parse, diags)
        .map(Spanned::into_inner);
    let verdict = t
        .word("verdict", VERDICT_WORDS, parse_verdict, diags)
        .map(Spanned::into_inner);
    let now = read_now(&t, diags);
    let expect = read_expect(&t, diags);
    let inventory = match t.get("inventory") {
        None => {
            t.missing("inventory", diags);
            None
        }
        Some(v) => read_inventory(file, v, diags),
    };
    let before = match (phase, t.get("before")) {
        (Phase::Restore, None) => {
            t.missing("before", diags);
            None
        }
        (Phase::Restore, Some(v)) => read_inventory(file, v, diags),
        (Phase::Audit, Some(v)) => {
            diags.push(
                SourceDiag::at(
                    Code::PolicyKindKey,
                    "`before` belongs to restore-phase cases",
                    file,
                    v.span(),
                    "not used by an audit case",
                )
                .with_help("add `phase = \"restore\"`, or remove [case.before]"),
            );
            None
        }
        (Phase::Audit, None) => None,
    };
    if diags.0.len() > before_count {
        return None;
    }
    let (name, hosts, now, expect, inventory) = (name?, hosts?, now?, expect?, inventory?);
    // The drained hosts are named as they were before maintenance.
    let targets = before.as_ref().unwrap_or(&inventory);
    let hosts = resolve_case_hosts(file, targets, hosts.get_ref(), diags)?;
    Some(Case {
        name: name.get_ref().clone(),
        span: name.span(),
        hosts,
        mode,
        phase,
        now,
        platform,
        expect,
        verdict,
        inventory,
        before,
    })
}

fn parse_verdict(s: &str) -> Option<Verdict> {
    match s {
        "go" => Some(Verdict::Go),
        "no-go" => Some(Verdict::NoGo),
        "untrusted" => Some(Verdict::Untrusted),
        _ => None,
    }
}

/// `now`: required, so a case gives the same answer on every day it runs.
fn read_now(t: &TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<jiff::Timestamp> {
    let Some(v) = t.get("now") else {
        t.missing("now", diags);
        return None;
    };
    let text = match v.get_ref() {
        DeValue::String(s) => s.to_string(),
        DeValue::Datetime(dt) => dt.to_string(),
        other => {
            diags.push(type_error(
                t.file,
                v.span(),
                "`now`",
                "an RFC 3339 timestamp",
                other,
            ));
            return None;
        }
    };
    match text.parse::<jiff::Timestamp>() {
        Ok(ts) => Some(ts),
        Err(e) => {
            diags.push(
                SourceDiag::at(
                    Code::PolicyValue,
                    format!("`now` is not an RFC 3339 timestamp: {e}"),
                    t.file,
                    v.span(),
                    "expected e.g. 2026-11-20T08:00:00Z",
                )
                .with_help("give the time with its offset (Z or +01:00) so the case never depends on where it runs"),
            );
            None
        }
    }
}

fn read_expect(t: &TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<Vec<Expected>> {
    let Some(v) = t.get("expect") else {
        t.missing("expect", diags);
        return None;
    };
    let DeValue::Array(items) = v.get_ref() else {
        diags.push(type_error(
            t.file,
            v.span(),
            "`expect`",
            "a list of { rule = \"...\", vm = \"...\" } tables (or [] for none)",
            v.get_ref(),
        ));
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in array_items(items) {
        let Some(e) = TableReader::new(t.file, item, "an `expect` entry", diags) else {
            ok = false;
            continue;
        };
        let before = diags.0.len();
        e.deny_unknown(EXPECT_KEYS, diags);
        let rule = e.required_string("rule", diags);
        let vm = e.string("vm", diags);
        let host = e.string("host", diags);
        let cluster = e.string("cluster", diags);
        if diags.0.len() > before {
            ok = false;
            continue;
        }
        if let Some(rule) = rule {
            out.push(Expected {
                rule: rule.into_inner(),
                vm: vm.map(Spanned::into_inner),
                host: host.map(Spanned::into_inner),
                cluster: cluster.map(Spanned::into_inner),
            });
        }
    }
    ok.then_some(out)
}

fn read_inventory(
    file: &SourceFile,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Inventory> {
    if !matches!(value.get_ref(), DeValue::Table(_)) {
        diags.push(type_error(
            file,
            value.span(),
            "an inline inventory",
            "a table",
            value.get_ref(),
        ));
        return None;
    }
    match native_from_toml(file, value.clone()) {
        Ok(parsed) => {
            let mut inventory = parsed.inventory;
            inventory.imply_missing_hosts();
            inventory.canonicalize();
            Some(inventory)
        }
        Err(e) => {
            diags.extend(e);
            None
        }
    }
}

/// Resolves `hosts` as `--host` would, but points a name that matches no host (or several)
/// at its place in the case file.
fn resolve_case_hosts(
    file: &SourceFile,
    inventory: &Inventory,
    names: &[Spanned<String>],
    diags: &mut Diagnostics,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut ok = true;
    for name in names {
        match resolve_hosts(inventory, std::slice::from_ref(name.get_ref())) {
            Ok(found) => {
                for h in found {
                    if !out.contains(&h) {
                        out.push(h);
                    }
                }
            }
            Err(errs) => {
                ok = false;
                for e in errs.0 {
                    let message = e.message.replace("--host ", "host ");
                    let mut d = SourceDiag::at(
                        e.code,
                        format!("{message} of this case"),
                        file,
                        name.span(),
                        "not a host of the case's inventory",
                    );
                    d.help = e.help;
                    diags.push(d);
                }
            }
        }
    }
    ok.then_some(out)
}

fn check_unique_names(file: &SourceFile, cases: &[Case], diags: &mut Diagnostics) {
    let mut first: BTreeMap<&str, &Case> = BTreeMap::new();
    for c in cases {
        if let Some(prev) = first.get(c.name.as_str()) {
            diags.push(
                SourceDiag::at(
                    Code::CaseDuplicate,
                    format!("two cases are named `{}`", c.name),
                    file,
                    c.span.clone(),
                    "named again here",
                )
                .with_label(prev.span.clone(), "first used here")
                .with_help(
                    "each case needs its own name: results and JUnit reports are keyed by it",
                ),
            );
        } else {
            first.insert(&c.name, c);
        }
    }
}
