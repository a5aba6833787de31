//! `vm` rules: every VM on a target host is matched against the rule's `when`.
//!
//! Matching is three-valued: a condition on a value the inventory does not carry (no HA flag,
//! an unknown state, no memory size) is neither true nor false. Such a VM is reported as a
//! finding the rule could not judge, at the rule's severity: a gate fails closed.

use super::finding::Finding;
use super::index::InventoryIndex;
use crate::model::{Vm, VmState};
use crate::platform::Profile;
use crate::policy::{Rule, VmWhen};
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    Yes,
    No,
    /// Unknown, with the field that was missing.
    Unknown(&'static str),
}

/// Judges every VM on a target host the rule applies to; returns their canonical positions
/// (every VM judged, whether it passed or not).
pub(super) fn evaluate(
    rule: &Rule,
    when: &VmWhen,
    index: &InventoryIndex<'_>,
    profile: &dyn Profile,
    out: &mut Vec<Finding>,
) -> Vec<u32> {
    let mut judged = Vec::new();
    for pos in index.targets() {
        let host = index.host(pos);
        for &i in index.vm_positions_on(pos) {
            let vm = index.vm(i);
            if !applies_to(when, vm) {
                continue;
            }
            judged.push(i as u32);
            let (truth, unknown) = judge(when, vm);
            if truth == Truth::No {
                continue;
            }
            let mut evidence = evidence(when, vm);
            let fate = if vm.template {
                // Whatever the platform does to guests, a template never runs: nothing moves it.
                "it is a template, and nothing moves a template off its host".to_string()
            } else {
                profile.fate(vm)
            };
            let (message, remediation) = if truth == Truth::Yes {
                (
                    render(rule, vm, host.cluster.as_deref(), &fate),
                    rule.remediation.clone(),
                )
            } else {
                evidence.insert("undetermined".into(), json!(unknown));
                (
                    format!(
                        "{} ({}) on {}: cannot tell whether `{}` applies, the inventory does not say {}",
                        vm.name,
                        vm.state,
                        vm.host,
                        rule.id,
                        unknown
                            .iter()
                            .map(|f| describe(f))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                    Some(format!(
                        "export {} for this VM and run again",
                        unknown
                            .iter()
                            .map(|f| export_hint(f))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    )),
                )
            };
            out.push(Finding {
                rule: rule.id.clone(),
                title: None,
                severity: rule.severity,
                vm: Some(vm.name.to_string()),
                vm_id: vm.id.as_deref().map(String::from),
                host: Some(vm.host.to_string()),
                cluster: host.cluster.as_deref().map(str::to_string),
                message,
                remediation,
                evidence,
                waived: false,
                waiver: None,
            });
        }
    }
    judged
}

/// Whether a rule judges this VM at all: templates only by rules whose `when` names
/// `template` (anywhere, `any` included). Templates never run, so rules written for running
/// guests must not fire on them.
pub(crate) fn applies_to(when: &VmWhen, vm: &Vm) -> bool {
    !vm.template || names_template(when)
}

fn names_template(when: &VmWhen) -> bool {
    when.template.is_some() || when.any.iter().flatten().any(names_template)
}

/// `any`: yes when a branch is yes, no when every branch is no, else unknown.
fn judge_any(branches: &[VmWhen], vm: &Vm) -> (Truth, Vec<&'static str>) {
    let mut unknown = Vec::new();
    for b in branches {
        match judge(b, vm) {
            (Truth::Yes, _) => return (Truth::Yes, Vec::new()),
            (Truth::No, _) => {}
            (Truth::Unknown(_), fields) => unknown.extend(fields),
        }
    }
    match unknown.first() {
        None => (Truth::No, unknown),
        Some(&f) => (Truth::Unknown(f), unknown),
    }
}

/// The verdict of `when` on one VM, and the fields it could not judge.
fn judge(when: &VmWhen, vm: &Vm) -> (Truth, Vec<&'static str>) {
    let checks = [
        when.state.as_ref().map(|states| {
            if states.contains(&vm.state) {
                Truth::Yes
            } else if vm.state == VmState::Unknown {
                Truth::Unknown("state")
            } else {
                Truth::No
            }
        }),
        when.ha.map(|want| match vm.ha {
            Some(h) => truth(h == want),
            None => Truth::Unknown("ha"),
        }),
        when.name.as_ref().map(|re| truth(re.is_match(&vm.name))),
        when.name_not
            .as_ref()
            .map(|re| truth(!re.is_match(&vm.name))),
        when.tags
            .as_ref()
            .map(|tags| truth(vm.tags.iter().any(|t| tags.iter().any(|w| w == t)))),
        when.min_memory_mb.map(|min| {
            vm.memory_mb
                .map_or(Truth::Unknown("memory_mb"), |m| truth(m >= min))
        }),
        when.max_memory_mb.map(|max| {
            vm.memory_mb
                .map_or(Truth::Unknown("memory_mb"), |m| truth(m <= max))
        }),
        when.min_vcpus.map(|min| {
            vm.vcpus
                .map_or(Truth::Unknown("vcpus"), |c| truth(c >= min))
        }),
        when.template.map(|want| truth(vm.template == want)),
    ];
    let mut unknown = Vec::new();
    for check in checks.into_iter().flatten() {
        match check {
            Truth::No => return (Truth::No, Vec::new()),
            Truth::Unknown(f) => unknown.push(f),
            Truth::Yes => {}
        }
    }
    if let Some(branches) = &when.any {
        match judge_any(branches, vm) {
            (Truth::No, _) => return (Truth::No, Vec::new()),
            (Truth::Unknown(_), fields) => unknown.extend(fields),
            (Truth::Yes, _) => {}
        }
    }
    let mut seen = Vec::new();
    unknown.retain(|f| {
        !seen.contains(f) && {
            seen.push(*f);
            true
        }
    });
    if unknown.is_empty() {
        (Truth::Yes, unknown)
    } else {
        (Truth::Unknown(unknown[0]), unknown)
    }
}

fn truth(b: bool) -> Truth {
    if b { Truth::Yes } else { Truth::No }
}

/// The VM's values for the conditions the rule names, plus raw values the export kept.
fn evidence(when: &VmWhen, vm: &Vm) -> BTreeMap<String, Value> {
    let mut e = BTreeMap::new();
    if when.state.is_some() {
        e.insert("state".into(), json!(vm.state.as_str()));
    }
    if when.ha.is_some() {
        e.insert("ha".into(), json!(vm.ha));
    }
    if when.min_memory_mb.is_some() || when.max_memory_mb.is_some() {
        e.insert("memory_mb".into(), json!(vm.memory_mb));
    }
    if when.min_vcpus.is_some() {
        e.insert("vcpus".into(), json!(vm.vcpus));
    }
    if when.tags.is_some() {
        e.insert("tags".into(), json!(vm.tags));
    }
    if when.template.is_some() || vm.template {
        e.insert("template".into(), json!(vm.template));
    }
    for branch in when.any.iter().flatten() {
        for (k, v) in evidence(branch, vm) {
            e.entry(k).or_insert(v);
        }
    }
    for (k, v) in &vm.evidence {
        e.insert(k.clone(), json!(v));
    }
    // The VM's size, whatever the rule asked: what moving it costs.
    if let Some(m) = vm.memory_mb {
        e.entry("memory_mb".into()).or_insert(json!(m));
    }
    if let Some(c) = vm.vcpus {
        e.entry("vcpus".into()).or_insert(json!(c));
    }
    e
}

fn render(rule: &Rule, vm: &Vm, cluster: Option<&str>, fate: &str) -> String {
    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    values.insert("vm", vm.name.to_string());
    values.insert("host", vm.host.to_string());
    values.insert("state", vm.state.to_string());
    values.insert("ha", vm.ha.map_or("unknown".into(), |h| h.to_string()));
    values.insert("cluster", cluster.unwrap_or_default().to_string());
    values.insert(
        "memory_mb",
        vm.memory_mb.map(|m| m.to_string()).unwrap_or_default(),
    );
    values.insert("vcpus", vm.vcpus.map(|c| c.to_string()).unwrap_or_default());
    values.insert("rule", rule.id.clone());
    values.insert("fate", fate.to_string());
    values.insert("title", rule.title.clone());
    values.insert("detail", fate.to_string());
    rule.message.render(&values)
}

fn describe(field: &str) -> &'static str {
    match field {
        "ha" => "whether it is highly available",
        "state" => "its power state",
        "memory_mb" => "its memory size",
        _ => "its vCPU count",
    }
}

fn export_hint(field: &str) -> &'static str {
    match field {
        "ha" => "the HA flag (SCVMM: IsHighlyAvailable; Hyper-V: IsClustered; Proxmox: hastate)",
        "state" => "a known power state (SCVMM: Status or VirtualMachineState; Hyper-V: State)",
        "memory_mb" => "the memory size (SCVMM: Memory; Hyper-V: MemoryStartup)",
        _ => "the vCPU count (SCVMM: CPUCount; Hyper-V: ProcessorCount)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(state: VmState, ha: Option<bool>) -> Vm {
        Vm {
            name: "LAB-1".into(),
            id: None,
            host: "H".into(),
            state,
            ha,
            memory_mb: Some(1024),
            vcpus: Some(2),
            tags: vec!["prod".into()],
            template: false,
            evidence: BTreeMap::new(),
            facts: None,
        }
    }

    fn when(state: &[VmState], ha: Option<bool>) -> VmWhen {
        VmWhen {
            state: Some(state.to_vec()),
            ha,
            ..VmWhen::default()
        }
    }

    #[test]
    fn all_conditions_must_hold() {
        let w = when(&[VmState::Running], Some(false));
        assert_eq!(judge(&w, &vm(VmState::Running, Some(false))).0, Truth::Yes);
        assert_eq!(judge(&w, &vm(VmState::Running, Some(true))).0, Truth::No);
        assert_eq!(judge(&w, &vm(VmState::Off, Some(false))).0, Truth::No);
    }

    #[test]
    fn missing_values_are_unknown_not_false() {
        let w = when(&[VmState::Running], Some(false));
        assert_eq!(
            judge(&w, &vm(VmState::Running, None)).0,
            Truth::Unknown("ha")
        );
        assert_eq!(
            judge(&w, &vm(VmState::Unknown, Some(false))).0,
            Truth::Unknown("state")
        );
        // A condition that is false wins over one that is unknown.
        assert_eq!(judge(&w, &vm(VmState::Off, None)).0, Truth::No);
    }

    #[test]
    fn names_tags_and_sizes() {
        let mut w = VmWhen {
            name: Some(regex::Regex::new("^LAB-").unwrap()),
            ..VmWhen::default()
        };
        assert_eq!(judge(&w, &vm(VmState::Off, None)).0, Truth::Yes);
        w.name_not = Some(regex::Regex::new("1$").unwrap());
        assert_eq!(judge(&w, &vm(VmState::Off, None)).0, Truth::No);
        let w = VmWhen {
            tags: Some(vec!["prod".into()]),
            min_memory_mb: Some(1024),
            max_memory_mb: Some(1024),
            min_vcpus: Some(3),
            ..VmWhen::default()
        };
        assert_eq!(judge(&w, &vm(VmState::Off, None)).0, Truth::No);
        let mut v = vm(VmState::Off, None);
        v.vcpus = None;
        assert_eq!(judge(&w, &v).0, Truth::Unknown("vcpus"));
    }

    #[test]
    fn templates_are_judged_only_by_rules_that_name_them() {
        let mut template = vm(VmState::Running, Some(false));
        template.template = true;
        let running_non_ha = when(&[VmState::Running], Some(false));
        assert!(!applies_to(&running_non_ha, &template));
        assert!(applies_to(
            &running_non_ha,
            &vm(VmState::Running, Some(false))
        ));
        let templates = VmWhen {
            template: Some(true),
            ..VmWhen::default()
        };
        assert!(applies_to(&templates, &template));
        assert_eq!(judge(&templates, &template).0, Truth::Yes);
        assert_eq!(judge(&templates, &vm(VmState::Off, None)).0, Truth::No);
        // Named inside `any` counts too.
        let either = VmWhen {
            any: Some(vec![running_non_ha.clone(), templates.clone()]),
            ..VmWhen::default()
        };
        assert!(applies_to(&either, &template));
    }

    #[test]
    fn any_holds_when_one_branch_holds_and_is_unknown_only_when_undecided() {
        let either = VmWhen {
            any: Some(vec![
                when(&[VmState::Off, VmState::Saved], Some(false)),
                VmWhen {
                    template: Some(true),
                    ..VmWhen::default()
                },
            ]),
            ..VmWhen::default()
        };
        assert_eq!(judge(&either, &vm(VmState::Off, Some(false))).0, Truth::Yes);
        assert_eq!(judge(&either, &vm(VmState::Off, Some(true))).0, Truth::No);
        assert_eq!(judge(&either, &vm(VmState::Running, None)).0, Truth::No);
        // Off with no HA flag: the first branch cannot tell, the second says no.
        assert_eq!(
            judge(&either, &vm(VmState::Off, None)),
            (Truth::Unknown("ha"), vec!["ha"])
        );
        // A template is one whatever the rest says.
        let mut template = vm(VmState::Running, None);
        template.template = true;
        assert_eq!(judge(&either, &template).0, Truth::Yes);
        // Keys beside `any` must hold as well.
        let named = VmWhen {
            name: Some(regex::Regex::new("^DB").unwrap()),
            ..either.clone()
        };
        assert_eq!(judge(&named, &vm(VmState::Off, Some(false))).0, Truth::No);
    }

    #[test]
    fn any_must_be_a_non_empty_list_of_when_tables() {
        let policy = |when: &str| {
            let text = format!(
                "[[rule]]\nid = \"r\"\ntitle = \"t\"\nseverity = \"error\"\nkind = \"vm\"\nwhen = {when}\n"
            );
            crate::policy::load(vec![crate::diag::SourceFile::new("p.toml", text)])
        };
        let loaded = policy("{ any = [{ template = true }, { ha = false }] }").expect("valid");
        let crate::policy::RuleKind::Vm(when) = &loaded.rules[0].kind else {
            panic!("a vm rule")
        };
        assert_eq!(when.any.as_ref().map(Vec::len), Some(2));
        for bad in [
            "{ any = [] }",
            "{ any = { ha = false } }",
            "{ any = [{ hostname = \"x\" }] }",
            "{ template = \"yes\" }",
        ] {
            assert!(policy(bad).is_err(), "{bad} must be refused");
        }
    }
}
