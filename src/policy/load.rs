//! Loading policy files: each validated on its own, then checked against each other.

use super::walk::{TableReader, array_items};
use super::{MaxAge, Origin, PolicyFile, PolicySet, Rule, rule, waiver};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile, did_you_mean};
use std::collections::BTreeMap;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

const TOP_KEYS: &[&str] = &["policy", "rule", "waiver"];
const POLICY_KEYS: &[&str] = &["name", "description", "max_inventory_age"];

/// Validates every file and returns the policy, or every problem of every file.
pub fn load(files: Vec<SourceFile>) -> Result<PolicySet, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut set = PolicySet {
        files: Vec::new(),
        rules: Vec::new(),
        waivers: Vec::new(),
        max_inventory_age: None,
    };
    let mut unchecked_waivers = Vec::new();
    for (index, source) in files.into_iter().enumerate() {
        let sha256 = crate::digest::sha256_hex(source.text.as_bytes());
        let mut policy_file = PolicyFile {
            source: source.clone(),
            name: None,
            description: None,
            sha256,
        };
        let text = std::sync::Arc::clone(&source.text);
        let (doc, errors) = DeTable::parse_recoverable(&text);
        if !errors.is_empty() {
            diags.extend(syntax_errors(&source, errors));
            set.files.push(policy_file);
            continue;
        }
        if doc.get_ref().is_empty() {
            // A truncated copy or a file written by a failed step looks like this: judging with
            // it would say GO having checked nothing.
            diags.push(
                SourceDiag::at(
                    Code::PolicyEmpty,
                    format!("{} holds no rule, waiver or [policy] table", source.name),
                    &source,
                    0..text.len(),
                    "empty",
                )
                .with_help("a policy file holds [[rule]] tables; remove the file or give it rules"),
            );
            set.files.push(policy_file);
            continue;
        }
        let doc = Spanned::new(doc.span(), DeValue::Table(doc.into_inner()));
        if let Some(t) = TableReader::new(&source, &doc, "the policy file", &mut diags) {
            t.deny_unknown(TOP_KEYS, &mut diags);
            if let Some(p) = t.get("policy") {
                read_policy_table(
                    &source,
                    index,
                    p,
                    &mut policy_file,
                    &mut set.max_inventory_age,
                    &mut diags,
                );
            }
            for (key, sink) in [("rule", true), ("waiver", false)] {
                let Some(v) = t.get(key) else { continue };
                let DeValue::Array(items) = v.get_ref() else {
                    diags.push(SourceDiag::at(
                        Code::PolicyType,
                        format!("`{key}` must be written as [[{key}]] tables"),
                        &source,
                        v.span(),
                        "not an array of tables",
                    ));
                    continue;
                };
                for item in array_items(items) {
                    if sink {
                        if let Some(r) = rule::validate(&source, index, item, &mut diags) {
                            set.rules.push(r);
                        }
                    } else if let Some(w) = waiver::validate(&source, index, item, &mut diags) {
                        unchecked_waivers.push(w);
                    }
                }
            }
        }
        set.files.push(policy_file);
    }
    check_duplicate_ids(&set, &mut diags);
    if diags.is_empty() && set.rules.is_empty() {
        diags.push(
            SourceDiag::plain(
                Code::PolicyEmpty,
                format!(
                    "the policy ({}) holds no rule: nothing would be judged",
                    set.files
                        .iter()
                        .map(|f| f.source.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_help("add [[rule]] tables, or pass --policy builtin to use the baseline"),
        );
    }
    for w in unchecked_waivers {
        if check_waiver_rule(&set, &w, &mut diags) {
            set.waivers.push(w.waiver);
        }
    }
    diags.into_result(set)
}

fn read_policy_table(
    source: &SourceFile,
    index: usize,
    value: &Spanned<DeValue<'_>>,
    file: &mut PolicyFile,
    max_age: &mut Option<MaxAge>,
    diags: &mut Diagnostics,
) {
    let Some(t) = TableReader::new(source, value, "[policy]", diags) else {
        return;
    };
    t.deny_unknown(POLICY_KEYS, diags);
    file.name = t.string("name", diags).map(Spanned::into_inner);
    file.description = t.string("description", diags).map(Spanned::into_inner);
    if let Some(age) = t.string("max_inventory_age", diags) {
        match parse_duration(age.get_ref()) {
            Some(limit) => {
                if max_age.as_ref().is_none_or(|m| limit < m.limit) {
                    *max_age = Some(MaxAge { limit, text: age.get_ref().clone(), origin: Origin { file: index, span: age.span() } });
                }
            }
            None => diags.push(
                SourceDiag::at(Code::PolicyValue, format!("`{}` is not a duration", age.get_ref()), source, age.span(), "expected e.g. \"24h\", \"90m\", \"7d\"")
                    .with_help("a duration is one or more of a whole number and a unit: s, m, h, d, w (e.g. \"1d 12h\")"),
            ),
        }
    }
}

/// Parses `24h`, `90m`, `7d`, `1d 12h`, `2w`: whole numbers with units s, m, h, d, w.
/// TOML syntax errors (from `DeTable::parse_recoverable`), each at its place in `source`.
pub(crate) fn syntax_errors(source: &SourceFile, errors: Vec<toml::de::Error>) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        diags.push(SourceDiag::at(
            Code::PolicySyntax,
            e.message().to_string(),
            source,
            span,
            "here",
        ));
    }
    diags
}

pub(crate) fn parse_duration(text: &str) -> Option<jiff::SignedDuration> {
    let mut total: i64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(secs)?)?;
        rest = rest[unit_len..].trim_start();
    }
    Some(jiff::SignedDuration::from_secs(total))
}

fn check_duplicate_ids(set: &PolicySet, diags: &mut Diagnostics) {
    let mut first: BTreeMap<&str, &Rule> = BTreeMap::new();
    for r in &set.rules {
        match first.get(r.id.as_str()) {
            None => {
                first.insert(&r.id, r);
            }
            Some(prev) => {
                let here = &set.files[r.origin.file].source;
                let there = &set.files[prev.origin.file].source;
                let (line, col) = there.line_col(prev.id_span.start);
                let mut d = SourceDiag::at(
                    Code::PolicyDuplicateRule,
                    format!("rule id `{}` is defined twice", r.id),
                    here,
                    r.id_span.clone(),
                    "defined again here",
                )
                .with_help(format!(
                    "the first definition is at {}:{line}:{col}; rule ids must be unique across all loaded files",
                    there.name
                ));
                if prev.origin.file == r.origin.file {
                    d = d.with_label(prev.id_span.clone(), "first defined here");
                } else {
                    d.related.push(SourceDiag::at(
                        Code::PolicyDuplicateRule,
                        format!("rule `{}` first defined here", r.id),
                        there,
                        prev.id_span.clone(),
                        "first definition",
                    ));
                }
                diags.push(d);
            }
        }
    }
}

fn check_waiver_rule(set: &PolicySet, w: &waiver::Unchecked, diags: &mut Diagnostics) -> bool {
    let file = &set.files[w.waiver.origin.file].source;
    match set.rules.iter().find(|r| r.id == w.waiver.rule) {
        Some(r) if !r.waivable => {
            let rf = &set.files[r.origin.file].source;
            let (line, col) = rf.line_col(r.origin.span.start);
            diags.push(
                SourceDiag::at(
                    Code::PolicyWaiverRule,
                    format!("rule `{}` may not be waived", r.id),
                    file,
                    w.rule_span.clone(),
                    "waivable = false",
                )
                .with_help(format!(
                    "the rule at {}:{line}:{col} sets `waivable = false`; fix the finding instead",
                    rf.name
                )),
            );
            false
        }
        Some(_) => true,
        None => {
            let mut d = SourceDiag::at(
                Code::PolicyWaiverRule,
                format!(
                    "waiver for rule `{}`, which no loaded policy defines",
                    w.waiver.rule
                ),
                file,
                w.rule_span.clone(),
                "no such rule",
            );
            let ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
            if let Some(best) = did_you_mean(&w.waiver.rule, ids.iter().copied()) {
                d = d.with_help(format!("did you mean `{best}`?"));
            } else if !ids.is_empty() {
                d = d.with_help(format!("loaded rules: {}", ids.join(", ")));
            }
            diags.push(d);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("24h"),
            Some(jiff::SignedDuration::from_hours(24))
        );
        assert_eq!(
            parse_duration("1d 12h"),
            Some(jiff::SignedDuration::from_hours(36))
        );
        assert_eq!(
            parse_duration("90m"),
            Some(jiff::SignedDuration::from_mins(90))
        );
        assert_eq!(parse_duration("24"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("3 fortnights"), None);
        assert_eq!(parse_duration("99999999999999999999h"), None);
    }
}
