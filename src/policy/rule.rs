//! Validating one `[[rule]]` table into a [`Rule`].

use super::kinds::{DEFAULT_KIND, KINDS, kind_named};
use super::walk::{TableReader, content_offset};
use super::{Action, Mode, Origin, Phase, Rule, Severity, Template};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile, did_you_mean};
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

    let kind_names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
    let kind_word = t.word("kind", &kind_names, kind_named, diags);
    let spec = kind_word.as_ref().map_or(DEFAULT_KIND, |k| *k.get_ref());
    let kind_name = spec.name;
    let mut allowed: Vec<&str> = COMMON_KEYS.to_vec();
    allowed.extend(KINDS.iter().flat_map(|k| k.keys.iter().map(|key| key.name)));
    t.deny_unknown(&allowed, diags);
    let own_keys: Vec<&str> = spec.keys.iter().map(|k| k.name).collect();
    for (owner, key) in KINDS
        .iter()
        .flat_map(|k| k.keys.iter().map(move |key| (k.name, key.name)))
        .filter(|(_, key)| !own_keys.contains(key))
    {
        if let Some(v) = t.get(key) {
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
    for key in spec.keys.iter().filter(|k| k.required) {
        if t.get(key.name).is_none() {
            t.missing(key.name, diags);
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

    let kind = (spec.read)(&t, diags);

    let default_phase = spec.default_phase;
    let phase_value = phase.as_ref().map_or(default_phase, |p| *p.get_ref());
    if let Some(p) = &phase
        && !spec.phases.contains(p.get_ref())
    {
        let allowed = spec
            .phases
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(" or ");
        let (what, label) = match spec.phases {
            [one] => (
                format!("the `{one}` phase"),
                format!("use `{one}` or leave `phase` out"),
            ),
            _ => (
                format!("the {allowed} phase"),
                format!("use {allowed} or leave `phase` out"),
            ),
        };
        diags.push(SourceDiag::at(
            Code::PolicyValue,
            format!(
                "`{kind_name}` rules are evaluated in {what}, not `{}`",
                p.get_ref()
            ),
            file,
            p.span(),
            label,
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
        None => Template::parse(spec.default_message).ok(),
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

pub(crate) fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Compiles a regex; a syntax error is labelled at its own column inside the string.
pub(crate) fn compile_regex(
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
