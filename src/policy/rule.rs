//! Validating one `[[rule]]` table into a [`Rule`].

use super::walk::{TableReader, array_items, content_offset, type_error};
use super::{Action, Metric, Mode, Origin, Phase, Rule, RuleKind, Severity, Template, VmWhen};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile, did_you_mean};
use crate::model::VmState;
use regex::Regex;
use std::ops::Range;
use toml::Spanned;
use toml::de::DeValue;

const COMMON_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "severity",
    "kind",
    "phase",
    "modes",
    "action",
    "message",
    "remediation",
    "waivable",
];
const KIND_KEYS: &[(&str, &[&str])] = &[
    ("vm", &["when"]),
    ("capacity", &["min_free_memory_pct"]),
    ("placement", &["trust_platform_failback"]),
    ("balance", &["metric", "max_imbalance"]),
];
const WHEN_KEYS: &[&str] = &[
    "state",
    "ha",
    "name",
    "name_not",
    "tags",
    "min_memory_mb",
    "max_memory_mb",
    "min_vcpus",
    "template",
    "any",
];
const KINDS: &[&str] = &["vm", "capacity", "placement", "balance"];
/// More memory than any host has had: 64 TiB in MiB.
pub(crate) const MAX_MEMORY_MB: u64 = 64 * 1024 * 1024;

pub(super) fn validate(
    file: &SourceFile,
    file_index: usize,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Rule> {
    let t = TableReader::new(file, value, "a [[rule]]", diags)?;
    let before = diags.0.len();

    let kind_word = t.word(
        "kind",
        KINDS,
        |s| KINDS.iter().find(|k| **k == s).copied(),
        diags,
    );
    let kind_name = kind_word.as_ref().map_or("vm", |k| *k.get_ref());
    let all_kind_keys: Vec<&str> = KIND_KEYS
        .iter()
        .flat_map(|(_, k)| k.iter().copied())
        .collect();
    let own_keys = KIND_KEYS
        .iter()
        .find(|(k, _)| *k == kind_name)
        .map_or(&[][..], |(_, k)| *k);
    let mut allowed: Vec<&str> = COMMON_KEYS.to_vec();
    allowed.extend(all_kind_keys.iter().copied());
    t.deny_unknown(&allowed, diags);
    for key in all_kind_keys.iter().filter(|k| !own_keys.contains(k)) {
        if let Some(v) = t.get(key) {
            let owner = KIND_KEYS
                .iter()
                .find(|(_, ks)| ks.contains(key))
                .map_or("?", |(k, _)| *k);
            diags.push(
                SourceDiag::at(
                    Code::PolicyKindKey,
                    format!(
                        "`{key}` belongs to `{owner}` rules, but this rule is of kind `{kind_name}`"
                    ),
                    file,
                    v.span(),
                    format!("not used by `{kind_name}` rules"),
                )
                .with_help(format!(
                    "keys of `{kind_name}` rules: {}",
                    own_keys.join(", ")
                )),
            );
        }
    }

    let id = t.required_string("id", diags);
    if let Some(id) = &id
        && !valid_id(id.get_ref())
    {
        diags.push(SourceDiag::at(
            Code::PolicyValue,
            format!(
                "rule id `{}` is not of the form [a-z0-9][a-z0-9-]*",
                id.get_ref()
            ),
            file,
            id.span(),
            "lowercase letters, digits and dashes, starting with a letter or digit",
        ));
    }
    let title = t.required_string("title", diags);
    let description = t.string("description", diags);
    let severity = t.word("severity", Severity::WORDS, Severity::parse, diags);
    let phase = t.word("phase", Phase::WORDS, Phase::parse, diags);
    let modes = t.words("modes", Mode::WORDS, Mode::parse, diags);
    let action = t.word("action", Action::WORDS, Action::parse, diags);
    let message = t.string("message", diags);
    let remediation = t.string("remediation", diags);
    let waivable = t.boolean("waivable", diags);

    let kind = match kind_name {
        "capacity" => t
            .number("min_free_memory_pct", 0.0, 100.0, diags)
            .map(|v| RuleKind::Capacity {
                min_free_memory_pct: v.into_inner(),
            })
            .or(Some(RuleKind::Capacity {
                min_free_memory_pct: 10.0,
            })),
        "placement" => Some(RuleKind::Placement {
            trust_platform_failback: t
                .boolean("trust_platform_failback", diags)
                .is_some_and(|b| b.into_inner()),
        }),
        "balance" => Some(RuleKind::Balance {
            metric: t
                .word("metric", Metric::WORDS, Metric::parse, diags)
                .map_or(Metric::Memory, |m| m.into_inner()),
            max_imbalance: t
                .number("max_imbalance", 0.0, 1.0, diags)
                .map_or(0.3, |m| m.into_inner()),
        }),
        _ => match t.get("when") {
            Some(w) => validate_when(file, w, diags).map(RuleKind::Vm),
            None => Some(RuleKind::Vm(VmWhen::default())),
        },
    };

    let default_phase = match kind_name {
        "placement" | "balance" => Phase::Restore,
        _ => Phase::Audit,
    };
    let phase_value = phase.as_ref().map_or(default_phase, |p| *p.get_ref());
    if let Some(p) = &phase
        && *p.get_ref() != default_phase
    {
        diags.push(SourceDiag::at(
            Code::PolicyValue,
            format!(
                "`{kind_name}` rules are evaluated in the `{default_phase}` phase, not `{}`",
                p.get_ref()
            ),
            file,
            p.span(),
            format!("use `{default_phase}` or leave `phase` out"),
        ));
    }

    let message = match &message {
        Some(m) => match Template::parse(m.get_ref()) {
            Ok(tpl) => Some(tpl),
            Err(errors) => {
                for e in errors {
                    let span = sub_span(file, &m.span(), m.get_ref(), e.range.clone());
                    let mut d = SourceDiag::at(
                        Code::PolicyPlaceholder,
                        e.message.clone(),
                        file,
                        span,
                        "in this message",
                    );
                    let valid = super::PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{p}}}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    d = match e
                        .name
                        .as_deref()
                        .and_then(|n| did_you_mean(n, super::PLACEHOLDERS.iter().copied()))
                    {
                        Some(best) => {
                            d.with_help(format!("did you mean `{{{best}}}`? placeholders: {valid}"))
                        }
                        None => d.with_help(format!("placeholders: {valid}")),
                    };
                    diags.push(d);
                }
                None
            }
        },
        None => Template::parse(default_message(kind_name)).ok(),
    };

    if diags.0.len() > before {
        return None;
    }
    let id = id?;
    Some(Rule {
        id_span: id.span(),
        id: id.into_inner(),
        title: title?.into_inner(),
        description: description.map(Spanned::into_inner),
        severity: severity.map_or(Severity::Error, Spanned::into_inner),
        kind: kind?,
        phase: phase_value,
        modes: modes.map_or_else(|| Mode::ALL.to_vec(), Spanned::into_inner),
        action: action.map_or(Action::None, Spanned::into_inner),
        message: message?,
        remediation: remediation.map(Spanned::into_inner),
        waivable: waivable.is_none_or(Spanned::into_inner),
        origin: Origin {
            file: file_index,
            span: value.span(),
        },
    })
}

fn default_message(kind: &str) -> &'static str {
    match kind {
        "capacity" => "{detail}",
        "placement" => "{vm}: {detail}",
        "balance" => "cluster {cluster}: {detail}",
        _ => "{vm} ({state}) on {host}: {title}",
    }
}

pub(crate) fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn validate_when(
    file: &SourceFile,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<VmWhen> {
    let t = TableReader::new(file, value, "`when`", diags)?;
    let before = diags.0.len();
    t.deny_unknown(WHEN_KEYS, diags);
    let state_words: Vec<&str> = VmState::ALL.iter().map(|s| s.as_str()).collect();
    let when = VmWhen {
        state: t
            .words("state", &state_words, VmState::parse, diags)
            .map(Spanned::into_inner),
        ha: t.boolean("ha", diags).map(Spanned::into_inner),
        name: t
            .string("name", diags)
            .and_then(|s| compile_regex(file, &s, diags)),
        name_not: t
            .string("name_not", diags)
            .and_then(|s| compile_regex(file, &s, diags)),
        tags: t.strings("tags", diags).map(|v| {
            v.into_inner()
                .into_iter()
                .map(Spanned::into_inner)
                .collect()
        }),
        min_memory_mb: t
            .count("min_memory_mb", MAX_MEMORY_MB, diags)
            .map(Spanned::into_inner),
        max_memory_mb: t
            .count("max_memory_mb", MAX_MEMORY_MB, diags)
            .map(Spanned::into_inner),
        min_vcpus: t
            .count("min_vcpus", 4096, diags)
            .map(|v| v.into_inner() as u32),
        template: t.boolean("template", diags).map(Spanned::into_inner),
        any: t.get("any").and_then(|v| validate_any(file, v, diags)),
    };
    (diags.0.len() == before).then_some(when)
}

/// `any = [ {…}, {…} ]`: a non-empty array of `when` tables.
fn validate_any(
    file: &SourceFile,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Vec<VmWhen>> {
    let DeValue::Array(items) = value.get_ref() else {
        diags.push(type_error(
            file,
            value.span(),
            "`any`",
            "an array of `when` tables",
            value.get_ref(),
        ));
        return None;
    };
    if items.is_empty() {
        diags.push(SourceDiag::at(
            Code::PolicyValue,
            "`any` lists no condition: the rule could never match",
            file,
            value.span(),
            "give at least one `when` table",
        ));
        return None;
    }
    let before = diags.0.len();
    let branches: Vec<VmWhen> = array_items(items)
        .filter_map(|item| validate_when(file, item, diags))
        .collect();
    (diags.0.len() == before).then_some(branches)
}

/// Compiles a regex; a syntax error is labelled at its own column inside the string.
pub(super) fn compile_regex(
    file: &SourceFile,
    s: &Spanned<String>,
    diags: &mut Diagnostics,
) -> Option<Regex> {
    let pattern = s.get_ref();
    match Regex::new(pattern) {
        Ok(re) => Some(re),
        Err(err) => {
            let (range, what) =
                regex_error_span(pattern).unwrap_or((0..pattern.len(), err.to_string()));
            let span = sub_span(file, &s.span(), pattern, range);
            diags.push(
                SourceDiag::at(
                    Code::PolicyRegex,
                    format!("regular expression does not compile: {what}"),
                    file,
                    span,
                    what,
                )
                .with_help("the syntax is that of the Rust regex crate (https://docs.rs/regex)"),
            );
            None
        }
    }
}

/// The byte range and kind of a regex syntax error, from regex-syntax's parser.
fn regex_error_span(pattern: &str) -> Option<(Range<usize>, String)> {
    let err = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .err()?;
    let span = err.span();
    let end = span
        .end
        .offset
        .max(span.start.offset + 1)
        .min(pattern.len().max(span.start.offset + 1));
    Some((span.start.offset..end, err.kind().to_string()))
}

/// Maps a range inside a string value to a range in the file (the whole value if the string
/// had escapes, since offsets then no longer line up).
pub(super) fn sub_span(
    file: &SourceFile,
    value_span: &Range<usize>,
    value: &str,
    inner: Range<usize>,
) -> Range<usize> {
    match content_offset(file, value_span, value) {
        Some(start) => start + inner.start..start + inner.end.min(value.len()).max(inner.start),
        None => value_span.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_kebab() {
        assert!(valid_id("non-ha-running"));
        assert!(valid_id("1st"));
        assert!(!valid_id("Non-HA"));
        assert!(!valid_id("-x"));
        assert!(!valid_id(""));
    }

    #[test]
    fn regex_errors_have_a_column() {
        let (range, _) = regex_error_span("^LAB-(").unwrap();
        assert_eq!(range.start, 5);
    }
}
