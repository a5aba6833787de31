//! `vm` (the default kind): each VM on a drained host is matched against the rule's `when`.

use super::{KeyDoc, KindSpec};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::model::VmState;
use crate::policy::rule::{MAX_MEMORY_MB, compile_regex};
use crate::policy::walk::{TableReader, array_items, type_error};
use crate::policy::{Phase, RuleKind, VmWhen};
use toml::Spanned;
use toml::de::DeValue;

pub(super) static KIND: KindSpec = KindSpec {
    name: "vm",
    keys: &[KeyDoc {
        name: "when",
        required: false,
        doc: "the conditions a VM must meet, all of them (state, ha, name, name_not, tags, min_memory_mb, max_memory_mb, min_vcpus, template, any); none: every VM on a drained host",
    }],
    default_phase: Phase::Audit,
    phases: &[Phase::Audit],
    default_message: "{vm} ({state}) on {host}: {title}",
    read,
    explain,
};

/// The keys of a `when` table.
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

fn read(t: &TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<RuleKind> {
    match t.get("when") {
        Some(w) => validate_when(t.file, w, diags).map(RuleKind::Vm),
        None => Some(RuleKind::Vm(VmWhen::default())),
    }
}

fn explain(kind: &RuleKind) -> String {
    let RuleKind::Vm(w) = kind else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(states) = &w.state {
        parts.push(format!(
            "state is {}",
            states
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if let Some(ha) = w.ha {
        parts.push(if ha {
            "it is highly available".to_string()
        } else {
            "it is not highly available".to_string()
        });
    }
    if let Some(re) = &w.name {
        parts.push(format!("its name matches /{}/", re.as_str()));
    }
    if let Some(re) = &w.name_not {
        parts.push(format!("its name does not match /{}/", re.as_str()));
    }
    if let Some(tags) = &w.tags {
        parts.push(format!("it has a tag of {}", tags.join(", ")));
    }
    if let Some(m) = w.min_memory_mb {
        parts.push(format!("it has at least {m} MiB"));
    }
    if let Some(m) = w.max_memory_mb {
        parts.push(format!("it has at most {m} MiB"));
    }
    if let Some(c) = w.min_vcpus {
        parts.push(format!("it has at least {c} vCPUs"));
    }
    if parts.is_empty() {
        "every VM on a drained host".into()
    } else {
        format!(
            "each VM on a drained host where {}; a VM whose export lacks a value the rule needs is reported as undetermined",
            parts.join(", and ")
        )
    }
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
