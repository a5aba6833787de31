//! `vm` rules: every VM on a target host is matched against the rule's `when`.
//!
//! Matching is three-valued: a condition on a value the inventory does not carry (no HA flag,
//! an unknown state, no memory size) is neither true nor false. Such a VM is reported as a
//! finding the rule could not judge, at the rule's severity: a gate fails closed.

use super::finding::Finding;
use super::index::InventoryIndex;
use crate::model::{Fact, FileRef, Platform, Vm, VmFacts, VmState};
use crate::platform::{Profile, Tie};
use crate::policy::{Rule, Severity, VmWhen};
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
    // The facts no VM of the inventory carries: asked once per rule, and only by rules that
    // need a fact, so a rule on state or HA costs nothing more at any size.
    let needed = facts_needed(when);
    let gaps: Vec<&'static str> = if needed.is_empty() {
        Vec::new()
    } else {
        let carried = index.inventory.facts_carried();
        needed
            .into_iter()
            .filter(|f| fact_of(f).is_some_and(|fact| !carried.contains(fact)))
            .collect()
    };
    let mut gap_vms: Vec<&str> = Vec::new();
    let rule_tie = if when.passthrough == Some(true) {
        Some(Tie::Device)
    } else if when.local_media == Some(true) {
        Some(Tie::LocalMedium)
    } else {
        None
    };
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
            if truth != Truth::Yes && unknown.iter().all(|f| gaps.contains(f)) {
                // Undetermined only for want of a fact the export never carries: one finding
                // for the export below, not one a VM.
                gap_vms.push(&vm.name);
                continue;
            }
            let mut evidence = evidence(when, vm);
            let fate = if vm.template {
                // Whatever the platform does to guests, a template never runs: nothing moves it.
                "it is a template, and nothing moves a template off its host".to_string()
            } else if truth == Truth::Yes && rule_tie.is_some() {
                // A rule about what ties the VM says what that tie does to it.
                profile.fate_tied(vm, rule_tie)
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
                            .map(|f| export_hint(f, profile.platform()))
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
    if !gap_vms.is_empty() {
        out.push(gap_finding(rule, when, &gaps, &gap_vms, profile.platform()));
    }
    judged
}

/// The one finding of a rule that needs facts no VM of the inventory carries.
fn gap_finding(
    rule: &Rule,
    when: &VmWhen,
    gaps: &[&'static str],
    vms: &[&str],
    platform: Platform,
) -> Finding {
    const LISTED: usize = 20;
    let mut evidence = BTreeMap::new();
    evidence.insert("gap".into(), json!(gaps));
    evidence.insert("undetermined_vms".into(), json!(vms.len()));
    evidence.insert(
        "vms".into(),
        json!(vms.iter().take(LISTED).collect::<Vec<_>>()),
    );
    let keys = gaps
        .iter()
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let example = vms.first().copied().unwrap_or_default();
    let others = match vms.len() {
        0 | 1 => String::new(),
        2 => " and 1 other VM".to_string(),
        n => format!(" and {} other VMs", n - 1),
    };
    Finding {
        rule: rule.id.clone(),
        title: None,
        severity: when.gap_severity.unwrap_or(Severity::Warning),
        vm: None,
        vm_id: None,
        host: None,
        cluster: None,
        message: format!(
            "`{}` cannot be judged for {example}{others} on the drained hosts: no VM of the inventory carries {keys}, so the export does not say",
            rule.id
        ),
        remediation: Some(format!(
            "export {} and run again",
            gaps.iter()
                .map(|g| export_hint(g, platform))
                .collect::<Vec<_>>()
                .join(" and ")
        )),
        evidence,
        waived: false,
        waiver: None,
    }
}

/// The facts `when` asks about (anywhere, `any` and `not` included), by field name.
fn facts_needed(when: &VmWhen) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut add = |fields: &[&'static str]| {
        for f in fields {
            if !out.contains(f) {
                out.push(*f);
            }
        }
    };
    if when.local_storage.is_some() {
        add(&["disks", "media"]);
    }
    if when.local_media.is_some() || when.media_mounted.is_some() {
        add(&["media"]);
    }
    if when.passthrough.is_some() {
        add(&["passthrough"]);
    }
    if when.min_checkpoints.is_some() {
        add(&["checkpoints"]);
    }
    for branch in when.any.iter().flatten().chain(when.not.as_deref()) {
        add(&facts_needed(branch));
    }
    out
}

/// The fact a field names, for the fields that are facts (CONTRACT 7.1).
fn fact_of(field: &str) -> Option<Fact> {
    match field {
        "disks" => Some(Fact::Disks),
        "media" => Some(Fact::Media),
        "passthrough" => Some(Fact::Passthrough),
        "checkpoints" => Some(Fact::Checkpoints),
        _ => None,
    }
}

/// Whether a rule judges this VM at all: templates only by rules whose `when` names
/// `template` (anywhere, `any` included). Templates never run, so rules written for running
/// guests must not fire on them.
pub(crate) fn applies_to(when: &VmWhen, vm: &Vm) -> bool {
    !vm.template || names_template(when)
}

fn names_template(when: &VmWhen) -> bool {
    when.template.is_some()
        || when.any.iter().flatten().any(names_template)
        || when.not.as_deref().is_some_and(names_template)
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
        when.attr
            .as_ref()
            .map(|attrs| truth(attributes_match(attrs, vm))),
    ];
    let mut unknown = Vec::new();
    for check in checks.into_iter().flatten() {
        match check {
            Truth::No => return (Truth::No, Vec::new()),
            Truth::Unknown(f) => unknown.push(f),
            Truth::Yes => {}
        }
    }
    let facts = vm.facts.as_deref();
    let fact_checks = [
        when.local_storage
            .map(|want| (local_files(facts, true), want)),
        when.local_media
            .map(|want| (local_files(facts, false), want)),
        when.media_mounted.map(|want| {
            let media = facts.and_then(|f| f.media.as_ref());
            (media.map(|m| !m.is_empty()).ok_or(vec!["media"]), want)
        }),
        when.passthrough.map(|want| {
            let devices = facts.and_then(|f| f.passthrough.as_ref());
            (
                devices.map(|d| !d.is_empty()).ok_or(vec!["passthrough"]),
                want,
            )
        }),
        when.min_checkpoints.map(|min| {
            let n = facts.and_then(|f| f.checkpoints);
            (n.map(|n| n >= min).ok_or(vec!["checkpoints"]), true)
        }),
    ];
    for (value, want) in fact_checks.into_iter().flatten() {
        match value {
            Ok(b) if b != want => return (Truth::No, Vec::new()),
            Ok(_) => {}
            Err(fields) => unknown.extend(fields),
        }
    }
    if let Some(not) = &when.not {
        match judge(not, vm) {
            (Truth::Yes, _) => return (Truth::No, Vec::new()),
            (Truth::Unknown(_), fields) => unknown.extend(fields),
            (Truth::No, _) => {}
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

/// Whether a disk or medium (`with_disks`) or a medium alone is not on shared storage: true
/// as soon as one file is known to be local, false when every file of every list asked about
/// is known to be shared, else the lists that left it open.
fn local_files(facts: Option<&VmFacts>, with_disks: bool) -> Result<bool, Vec<&'static str>> {
    let mut lists = vec![("media", facts.and_then(|f| f.media.as_deref()))];
    if with_disks {
        lists.insert(0, ("disks", facts.and_then(|f| f.disks.as_deref())));
    }
    let mut unknown = Vec::new();
    for (field, list) in lists {
        let Some(files) = list else {
            unknown.push(field);
            continue;
        };
        for file in files {
            match file.is_shared() {
                Some(false) => return Ok(true),
                Some(true) => {}
                None => {
                    if !unknown.contains(&field) {
                        unknown.push(field);
                    }
                }
            }
        }
    }
    if unknown.is_empty() {
        Ok(false)
    } else {
        Err(unknown)
    }
}

/// Every attribute named is present and matches. Attributes are sparse: an absent one makes
/// the condition false, not unknown (CONTRACT 7.1).
fn attributes_match(attrs: &[(String, regex::Regex)], vm: &Vm) -> bool {
    let Some(facts) = vm.facts.as_deref() else {
        return false;
    };
    attrs.iter().all(|(key, re)| {
        facts
            .attributes
            .get(key.as_str())
            .is_some_and(|v| re.is_match(v))
    })
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
    let facts = vm.facts.as_deref();
    let paths = |files: Option<&Vec<FileRef>>| {
        json!(files.map(|f| f.iter().map(|f| f.path.as_str()).collect::<Vec<_>>()))
    };
    if when.local_storage.is_some() {
        e.insert("disks".into(), paths(facts.and_then(|f| f.disks.as_ref())));
    }
    if when.local_storage.is_some() || when.local_media.is_some() || when.media_mounted.is_some() {
        e.insert("media".into(), paths(facts.and_then(|f| f.media.as_ref())));
    }
    if when.passthrough.is_some() {
        e.insert(
            "passthrough".into(),
            json!(facts.and_then(|f| f.passthrough.as_ref())),
        );
    }
    if when.min_checkpoints.is_some() {
        e.insert(
            "checkpoints".into(),
            json!(facts.and_then(|f| f.checkpoints)),
        );
    }
    if let Some(attrs) = &when.attr {
        let values: BTreeMap<&str, Option<&str>> = attrs
            .iter()
            .map(|(k, _)| {
                let v = facts.and_then(|f| f.attributes.get(k.as_str()));
                (k.as_str(), v.map(|v| v.as_str()))
            })
            .collect();
        e.insert("attributes".into(), json!(values));
    }
    for branch in when.any.iter().flatten().chain(when.not.as_deref()) {
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
        "disks" => "its virtual disks or whether they are on shared storage",
        "media" => "its mounted media or whether they are on shared storage",
        "passthrough" => "whether a device is passed through to it",
        "checkpoints" => "how many checkpoints it has",
        _ => "its vCPU count",
    }
}

/// The export property that would tell `field`, for the platform when it is one of the
/// migration facts (each platform's collector in `examples/collect/` exports it).
fn export_hint(field: &str, platform: Platform) -> &'static str {
    use Platform::{Hyperv, Proxmox, Scvmm, Vsphere};
    match (field, platform) {
        ("ha", _) => {
            "the HA flag (SCVMM: IsHighlyAvailable; Hyper-V: IsClustered; Proxmox: hastate)"
        }
        ("state", _) => {
            "a known power state (SCVMM: Status or VirtualMachineState; Hyper-V: State)"
        }
        ("memory_mb", _) => "the memory size (SCVMM: Memory; Hyper-V: MemoryStartup)",
        ("disks", Scvmm) => {
            "the virtual disks (`disks`; SCVMM: VirtualHardDisks with their Location)"
        }
        ("disks", Hyperv) => "the virtual disks (`disks`; Hyper-V: HardDrives with their Path)",
        ("disks", Proxmox) => {
            "the virtual disks (`disks`; Proxmox: the disk volumes of the guest config, /nodes/{node}/qemu/{vmid}/config, and the storages' shared flag)"
        }
        ("disks", Vsphere) => "the virtual disks (`disks`; RVTools: the vDisk tab)",
        ("media", Scvmm) => {
            "the mounted media (`media`; SCVMM: VirtualDVDDrives with their ISO path or host drive)"
        }
        ("media", Hyperv) => "the mounted media (`media`; Hyper-V: DVDDrives with their Path)",
        ("media", Proxmox) => {
            "the mounted media (`media`; Proxmox: the cdrom volumes of the guest config, /nodes/{node}/qemu/{vmid}/config)"
        }
        ("media", Vsphere) => "the mounted media (`media`; RVTools: the vCD tab)",
        ("passthrough", Scvmm) => {
            "the passed-through devices (`passthrough`; SCVMM: HasPassthroughDisk and the pass-through disks of VirtualDiskDrives)"
        }
        ("passthrough", Hyperv) => {
            "the passed-through devices (`passthrough`; Hyper-V: HardDrives with a DiskNumber, and assigned devices)"
        }
        ("passthrough", Proxmox) => {
            "the passed-through devices (`passthrough`; Proxmox: hostpciN, usbN and serialN of the guest config)"
        }
        ("passthrough", Vsphere) => {
            "the passed-through devices (`passthrough`; vSphere: the VM's PCI and USB passthrough devices)"
        }
        ("checkpoints", _) => {
            "the checkpoint count (`checkpoints`; SCVMM: VMCheckpoints; Hyper-V: Get-VMSnapshot; Proxmox: the guest's snapshots; RVTools: the vSnapshot tab)"
        }
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
