//! `vm` (the default kind): each VM on a drained host is matched against the rule's `when`.

use super::{KeyDoc, KindSpec};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::model::VmState;
use crate::policy::rule::{MAX_MEMORY_MB, compile_regex};
use crate::policy::walk::{TableReader, array_items, type_error};
use crate::policy::{Phase, RuleKind, Severity, VmWhen};
use toml::Spanned;
use toml::de::DeValue;

pub(super) static KIND: KindSpec = KindSpec {
    name: "vm",
    keys: &[
        KeyDoc {
            name: "when",
            required: false,
            doc: "the conditions a VM must meet, all of them (state, ha, name, name_not, tags, min_memory_mb, max_memory_mb, min_vcpus, template, local_storage, local_media, media_mounted, passthrough, min_checkpoints, attr, any, not); none: every VM on a drained host",
        },
        KeyDoc {
            name: "gap_severity",
            required: false,
            doc: "the severity of the one finding a rule gives when no VM of the inventory carries a fact its `when` needs (a gap of the export): `info`, `warning` or `error` (blocks); default `warning`",
        },
    ],
    default_phase: Phase::Audit,
    phases: &[Phase::Audit],
    default_message: "{vm} ({state}) on {host}: {title}",
    read,
    explain,
    plan: super::PlanRole::ActsOnVm,
    floor: super::no_floor,
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
    "local_storage",
    "local_media",
    "media_mounted",
    "passthrough",
    "min_checkpoints",
    "attr",
    "not",
];

fn read(t: &TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<RuleKind> {
    let gap_severity = t
        .word("gap_severity", Severity::WORDS, Severity::parse, diags)
        .map(Spanned::into_inner);
    let when = match t.get("when") {
        Some(w) => validate_when(t.file, w, "`when`", diags),
        None => Some(VmWhen::default()),
    }?;
    if t.get("gap_severity").is_some() && gap_severity.is_none() {
        return None;
    }
    Some(RuleKind::Vm(VmWhen {
        gap_severity,
        ..when
    }))
}

fn explain(kind: &RuleKind) -> String {
    let RuleKind::Vm(w) = kind else {
        return String::new();
    };
    let parts = conditions(w);
    if parts.is_empty() {
        return "every VM on a drained host".into();
    }
    let mut text = format!(
        "each VM on a drained host where {}; a VM whose export lacks a value the rule needs is reported as undetermined",
        parts.join(", and ")
    );
    if needs_facts(w) {
        text.push_str(&format!(
            "; when no VM of the inventory carries a fact the rule needs, the rule reports that gap of the export once, as {}",
            match w.gap_severity.unwrap_or(Severity::Warning) {
                Severity::Error => "an error that blocks",
                Severity::Warning => "a warning",
                Severity::Info => "a note (info)",
            }
        ));
    }
    text
}

/// Whether `when` (or a branch of it) asks about a migration fact (CONTRACT 7.1).
fn needs_facts(w: &VmWhen) -> bool {
    w.local_storage.is_some()
        || w.local_media.is_some()
        || w.media_mounted.is_some()
        || w.passthrough.is_some()
        || w.min_checkpoints.is_some()
        || w.any.iter().flatten().any(needs_facts)
        || w.not.as_deref().is_some_and(needs_facts)
}

/// Each condition of `when`, in words.
fn conditions(w: &VmWhen) -> Vec<String> {
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
    let flags = [
        (w.template, "it is a template"),
        (
            w.local_storage,
            "a disk or medium of it is not on shared storage",
        ),
        (
            w.local_media,
            "a medium mounted in it (ISO, floppy, host drive) is not on shared storage",
        ),
        (w.media_mounted, "a medium is mounted in it"),
        (
            w.passthrough,
            "a device of its host is passed through to it",
        ),
    ];
    for (flag, words) in flags {
        match flag {
            Some(true) => parts.push(words.to_string()),
            Some(false) => parts.push(format!("not ({words})")),
            None => {}
        }
    }
    if let Some(n) = w.min_checkpoints {
        parts.push(format!("it has at least {n} checkpoints"));
    }
    for (key, re) in w.attr.iter().flatten() {
        parts.push(format!("its attribute `{key}` matches /{}/", re.as_str()));
    }
    if let Some(branches) = &w.any {
        let each: Vec<String> = branches
            .iter()
            .map(|b| {
                let c = conditions(b);
                if c.is_empty() {
                    "always".to_string()
                } else {
                    c.join(" and ")
                }
            })
            .collect();
        parts.push(format!("one of these holds: ({})", each.join(") or (")));
    }
    if let Some(not) = &w.not {
        parts.push(format!("not ({})", conditions(not).join(" and ")));
    }
    parts
}

fn validate_when(
    file: &SourceFile,
    value: &Spanned<DeValue<'_>>,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<VmWhen> {
    let t = TableReader::new(file, value, what, diags)?;
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
        local_storage: t.boolean("local_storage", diags).map(Spanned::into_inner),
        local_media: t.boolean("local_media", diags).map(Spanned::into_inner),
        media_mounted: t.boolean("media_mounted", diags).map(Spanned::into_inner),
        passthrough: t.boolean("passthrough", diags).map(Spanned::into_inner),
        min_checkpoints: t
            .count("min_checkpoints", u64::from(u32::MAX), diags)
            .map(|v| v.into_inner() as u32),
        attr: t.get("attr").and_then(|v| validate_attr(file, v, diags)),
        not: t
            .get("not")
            .and_then(|v| validate_when(file, v, "`not`", diags))
            .map(Box::new),
        gap_severity: None,
    };
    (diags.0.len() == before).then_some(when)
}

/// `attr = { key = "regex" }`: a table of regular expressions, each located on its own.
fn validate_attr(
    file: &SourceFile,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
) -> Option<Vec<(String, regex::Regex)>> {
    let t = TableReader::new(file, value, "`attr`", diags)?;
    let before = diags.0.len();
    let mut out = Vec::new();
    for (key, _) in t.table.iter() {
        let name = key.get_ref().as_ref();
        if let Some(re) = t
            .string(name, diags)
            .and_then(|s| compile_regex(file, &s, diags))
        {
            out.push((name.to_string(), re));
        }
    }
    if out.is_empty() && diags.0.len() == before {
        diags.push(SourceDiag::at(
            Code::PolicyValue,
            "`attr` names no attribute",
            file,
            value.span(),
            "give at least one `key = \"regex\"`",
        ));
    }
    // Sorted by key: the evidence and explanation do not depend on the file's order.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    (diags.0.len() == before).then_some(out)
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
        .filter_map(|item| validate_when(file, item, "an item of `any`", diags))
        .collect();
    (diags.0.len() == before).then_some(branches)
}

#[cfg(test)]
mod tests {
    use crate::diag::{Code, SourceFile};
    use crate::policy::{RuleKind, Severity};

    const HEAD: &str = "[[rule]]\nid = \"r\"\ntitle = \"t\"\nkind = \"vm\"\n";

    fn load(body: &str) -> Result<crate::policy::PolicySet, crate::diag::Diagnostics> {
        crate::policy::load(vec![SourceFile::new("p.toml", format!("{HEAD}{body}\n"))])
    }

    /// The text each diagnostic's first label points at, with its code.
    fn pointed(body: &str) -> Vec<(Code, String)> {
        let text = format!("{HEAD}{body}\n");
        let err = load(body).expect_err("refused");
        let mut at: Vec<(usize, Code, String)> = err
            .0
            .iter()
            .map(|d| {
                let l = &d.labels[0];
                let s = text[l.offset()..l.offset() + l.len()].to_string();
                (l.offset(), d.code, s)
            })
            .collect();
        at.sort();
        at.into_iter().map(|(_, c, s)| (c, s)).collect()
    }

    #[test]
    fn the_fact_conditions_load() {
        let set = load(
            "when = { local_storage = true, local_media = false, media_mounted = true, passthrough = false, min_checkpoints = 2, attr = { tier = \"^1$\", owner = \"dba\" }, not = { ha = true } }\ngap_severity = \"error\"",
        )
        .expect("valid");
        let RuleKind::Vm(w) = &set.rules[0].kind else {
            panic!("a vm rule")
        };
        assert_eq!(w.local_storage, Some(true));
        assert_eq!(w.local_media, Some(false));
        assert_eq!(w.media_mounted, Some(true));
        assert_eq!(w.passthrough, Some(false));
        assert_eq!(w.min_checkpoints, Some(2));
        let keys: Vec<&str> = w.attr.iter().flatten().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["owner", "tier"]);
        assert_eq!(w.not.as_ref().and_then(|n| n.ha), Some(true));
        assert_eq!(w.gap_severity, Some(Severity::Error));
        let text = set.rules[0].kind.explain();
        for words in [
            "not on shared storage",
            "at least 2 checkpoints",
            "`tier`",
            "not (it is highly available)",
            "an error that blocks",
        ] {
            assert!(text.contains(words), "{words}: {text}");
        }
    }

    #[test]
    fn every_mistake_is_located_at_once() {
        let got = pointed(
            "when = { local_storge = true, min_checkpoints = -1, not = true, attr = { owner = \"dba(\" }, media_mounted = \"yes\" }\ngap_severity = \"fatal\"",
        );
        assert_eq!(
            got,
            [
                (Code::PolicyUnknownKey, "local_storge".to_string()),
                (Code::PolicyValue, "-1".to_string()),
                (Code::PolicyType, "true".to_string()),
                (Code::PolicyRegex, "(".to_string()),
                (Code::PolicyType, "\"yes\"".to_string()),
                (Code::PolicyValue, "\"fatal\"".to_string()),
            ]
        );
        let err = load("when = { local_storge = true }").expect_err("refused");
        let help = err.0[0].help.as_deref().unwrap_or_default();
        assert!(help.starts_with("did you mean `local_storage`?"), "{help}");
        let err = load("when = { not = [{ ha = true }] }").expect_err("refused");
        assert!(
            err.0[0].message.contains("`not` must be a table"),
            "{}",
            err.0[0].message
        );
        // Inside `not` and `any` the same keys are checked.
        let got = pointed("when = { not = { passthru = true }, any = [{ attr = { x = \"[\" } }] }");
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, Code::PolicyUnknownKey);
        assert_eq!(got[1].0, Code::PolicyRegex);
    }
}
