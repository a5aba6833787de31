//! Validating one `[[waiver]]` table into a [`Waiver`].

use super::rule::compile_regex;
use super::walk::{TableReader, type_error};
use super::{Origin, Waiver};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use toml::Spanned;
use toml::de::DeValue;

const WAIVER_KEYS: &[&str] = &["rule", "vm", "host", "reason", "owner", "ticket", "expires"];

/// A waiver, and the span of its `rule` value (checked against the loaded rules later).
pub(super) struct Unchecked {
    pub waiver: Waiver,
    pub rule_span: std::ops::Range<usize>,
}

pub(super) fn validate(
    file: &SourceFile,
    file_index: usize,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Unchecked> {
    let t = TableReader::new(file, value, "a [[waiver]]", diags)?;
    let before = diags.0.len();
    t.deny_unknown(WAIVER_KEYS, diags);
    let rule = t.required_string("rule", diags);
    let vm = t.string("vm", diags);
    let host = t.string("host", diags);
    if t.get("vm").is_none() && t.get("host").is_none() {
        diags.push(
            SourceDiag::at(Code::PolicyMissingKey, "a waiver needs `vm` or `host` to say what it waives", file, header(file, &t.span), "waives nothing in particular")
                .with_help("write `vm = \"^NAME$\"` for one VM, or `host = \".*\"` to waive the rule for every host on purpose"),
        );
    }
    let vm = vm.and_then(|s| compile_regex(file, &s, diags));
    let host = host.and_then(|s| compile_regex(file, &s, diags));
    let reason = t.required_string("reason", diags);
    if let Some(r) = &reason
        && r.get_ref().trim().is_empty()
    {
        diags.push(SourceDiag::at(
            Code::PolicyValue,
            "a waiver's `reason` must say why",
            file,
            r.span(),
            "empty",
        ));
    }
    let owner = t.string("owner", diags);
    let ticket = t.string("ticket", diags);
    let expires = match t.get("expires") {
        None => {
            t.missing("expires", diags);
            None
        }
        Some(v) => date(file, v, diags),
    };
    if diags.0.len() > before {
        return None;
    }
    let rule = rule?;
    Some(Unchecked {
        rule_span: rule.span(),
        waiver: Waiver {
            rule: rule.into_inner(),
            vm,
            host,
            reason: reason?.into_inner(),
            owner: owner.map(Spanned::into_inner),
            ticket: ticket.map(Spanned::into_inner),
            expires: expires?,
            origin: Origin {
                file: file_index,
                span: value.span(),
            },
        },
    })
}

fn header(file: &SourceFile, span: &std::ops::Range<usize>) -> std::ops::Range<usize> {
    let end = file.text[span.start..span.end.min(file.text.len())]
        .find('\n')
        .map_or(span.end, |i| span.start + i);
    span.start..end
}

/// A TOML local date (`2027-01-31`); a datetime or a string is an error that shows the form.
fn date(
    file: &SourceFile,
    v: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<jiff::civil::Date> {
    let bad = |msg: &str| {
        SourceDiag::at(
            Code::PolicyType,
            msg.to_string(),
            file,
            v.span(),
            "expected a date like 2027-01-31",
        )
        .with_help("write the date bare, without quotes or a time: expires = 2027-01-31")
    };
    match v.get_ref() {
        DeValue::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => {
                match jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8) {
                    Ok(date) => Some(date),
                    Err(_) => {
                        diags.push(bad("`expires` is not a real date"));
                        None
                    }
                }
            }
            _ => {
                diags.push(bad("`expires` must be a date without a time"));
                None
            }
        },
        DeValue::String(_) => {
            diags.push(bad("`expires` must be a TOML date, not a string"));
            None
        }
        other => {
            diags.push(type_error(
                file,
                v.span(),
                "`expires`",
                "a TOML date",
                other,
            ));
            None
        }
    }
}
