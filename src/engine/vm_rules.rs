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
    // Where the first VM the gap leaves undecided runs: the gap's finding names that host, so
    // that every report can place it in the inventory.
    let mut gap_at: Option<(&str, Option<&str>)> = None;
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
                gap_at.get_or_insert((&vm.host, host.cluster.as_deref()));
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
        let mut f = gap_finding(rule, when, &gaps, &gap_vms, profile.platform());
        if let Some((host, cluster)) = gap_at {
            f.host = Some(host.to_string());
            f.cluster = cluster.map(str::to_string);
        }
        out.push(f);
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

    fn file(path: &str, shared: Option<bool>) -> FileRef {
        FileRef {
            path: path.into(),
            shared,
            size_mb: None,
        }
    }

    /// A running HA VM with these facts (`None`: it carries none).
    fn with_facts(facts: Option<VmFacts>) -> Vm {
        let mut v = vm(VmState::Running, Some(true));
        v.facts = facts.map(Box::new);
        v
    }

    fn facts(disks: Option<Vec<FileRef>>, media: Option<Vec<FileRef>>) -> Option<VmFacts> {
        Some(VmFacts {
            disks,
            media,
            ..VmFacts::default()
        })
    }

    const U: Option<bool> = None;
    const T: Option<bool> = Some(true);
    const F: Option<bool> = Some(false);

    /// The verdict as `Option<bool>` (`None`: unknown), and the fields left open.
    fn judged(w: &VmWhen, v: &Vm) -> (Option<bool>, Vec<&'static str>) {
        match judge(w, v) {
            (Truth::Yes, _) => (T, vec![]),
            (Truth::No, _) => (F, vec![]),
            (Truth::Unknown(_), fields) => (U, fields),
        }
    }

    #[test]
    fn local_storage_and_local_media_are_three_valued() {
        let local = || vec![file(r"C:\VMs\a.vhdx", Some(false))];
        let shared = || vec![file(r"C:\ClusterStorage\Volume1\a.vhdx", None)];
        let unsure = || vec![file(r"D:\ISO\x.iso", None)];
        let storage = VmWhen {
            local_storage: Some(true),
            ..VmWhen::default()
        };
        let media = VmWhen {
            local_media: Some(true),
            ..VmWhen::default()
        };
        // (disks, media) → (local_storage, local_media)
        type Want = (Option<bool>, Vec<&'static str>);
        let table: Vec<(Option<VmFacts>, Want, Want)> = vec![
            (None, (U, vec!["disks", "media"]), (U, vec!["media"])),
            (facts(Some(local()), None), (T, vec![]), (U, vec!["media"])),
            (
                facts(Some(shared()), Some(vec![])),
                (F, vec![]),
                (F, vec![]),
            ),
            (
                facts(Some(shared()), None),
                (U, vec!["media"]),
                (U, vec!["media"]),
            ),
            (facts(None, Some(local())), (T, vec![]), (T, vec![])),
            (
                facts(Some(shared()), Some(unsure())),
                (U, vec!["media"]),
                (U, vec!["media"]),
            ),
            (
                facts(Some(unsure()), Some(shared())),
                (U, vec!["disks"]),
                (F, vec![]),
            ),
            (
                facts(Some(unsure()), Some(local())),
                (T, vec![]),
                (T, vec![]),
            ),
            (
                facts(None, Some(vec![file("host:D:", None)])),
                (T, vec![]),
                (T, vec![]),
            ),
        ];
        for (i, (f, want_storage, want_media)) in table.into_iter().enumerate() {
            let v = with_facts(f);
            assert_eq!(judged(&storage, &v), want_storage, "row {i}: local_storage");
            assert_eq!(judged(&media, &v), want_media, "row {i}: local_media");
            // `= false` flips what is known and leaves the unknown unknown.
            let not_storage = VmWhen {
                local_storage: Some(false),
                ..VmWhen::default()
            };
            let (t, fields) = judged(&not_storage, &v);
            assert_eq!(
                t,
                want_storage.0.map(|b| !b),
                "row {i}: local_storage = false"
            );
            assert_eq!(fields, want_storage.1, "row {i}");
        }
    }

    #[test]
    fn media_passthrough_and_checkpoints_are_unknown_when_absent() {
        let mounted = VmWhen {
            media_mounted: Some(true),
            ..VmWhen::default()
        };
        let device = VmWhen {
            passthrough: Some(true),
            ..VmWhen::default()
        };
        let snapshots = VmWhen {
            min_checkpoints: Some(2),
            ..VmWhen::default()
        };
        let none = with_facts(None);
        assert_eq!(judged(&mounted, &none), (U, vec!["media"]));
        assert_eq!(judged(&device, &none), (U, vec!["passthrough"]));
        assert_eq!(judged(&snapshots, &none), (U, vec!["checkpoints"]));
        let known = |media: Vec<FileRef>, devices: Vec<&str>, checkpoints: u32| {
            with_facts(Some(VmFacts {
                media: Some(media),
                passthrough: Some(devices.into_iter().map(Into::into).collect()),
                checkpoints: Some(checkpoints),
                ..VmFacts::default()
            }))
        };
        let empty = known(vec![], vec![], 1);
        assert_eq!(judged(&mounted, &empty).0, F);
        assert_eq!(judged(&device, &empty).0, F);
        assert_eq!(judged(&snapshots, &empty).0, F);
        let full = known(
            vec![file(r"\\fs\iso\x.iso", None)],
            vec!["pci:0000:65:00.0"],
            2,
        );
        assert_eq!(judged(&mounted, &full).0, T);
        assert_eq!(judged(&device, &full).0, T);
        assert_eq!(judged(&snapshots, &full).0, T);
        // A shared medium is mounted, but not local.
        let local = VmWhen {
            local_media: Some(true),
            ..VmWhen::default()
        };
        assert_eq!(judged(&local, &full).0, F);
    }

    #[test]
    fn an_absent_attribute_is_false_not_unknown() {
        let w = VmWhen {
            attr: Some(vec![
                ("owner".into(), regex::Regex::new("^dba").unwrap()),
                ("tier".into(), regex::Regex::new("^1$").unwrap()),
            ]),
            ..VmWhen::default()
        };
        assert_eq!(judged(&w, &with_facts(None)).0, F);
        let mut f = VmFacts::default();
        f.attributes.insert("owner".into(), "dba-team".into());
        assert_eq!(judged(&w, &with_facts(Some(f.clone()))).0, F, "tier absent");
        f.attributes.insert("tier".into(), "1".into());
        assert_eq!(judged(&w, &with_facts(Some(f.clone()))).0, T);
        f.attributes.insert("tier".into(), "10".into());
        assert_eq!(judged(&w, &with_facts(Some(f))).0, F);
    }

    #[test]
    fn not_flips_the_known_and_keeps_the_unknown() {
        let not = |inner: VmWhen| VmWhen {
            not: Some(Box::new(inner)),
            ..VmWhen::default()
        };
        let ha = not(VmWhen {
            ha: Some(true),
            ..VmWhen::default()
        });
        assert_eq!(judged(&ha, &vm(VmState::Running, Some(true))).0, F);
        assert_eq!(judged(&ha, &vm(VmState::Running, Some(false))).0, T);
        assert_eq!(judged(&ha, &vm(VmState::Running, None)), (U, vec!["ha"]));
        // Double negation is the condition itself.
        let twice = not(ha.clone());
        assert_eq!(judged(&twice, &vm(VmState::Running, Some(true))).0, T);
        assert_eq!(judged(&twice, &vm(VmState::Running, None)).0, U);
        // Beside `not`, a false key decides whatever `not` leaves unknown.
        let off_and_not_ha = VmWhen {
            state: Some(vec![VmState::Off]),
            ..ha.clone()
        };
        assert_eq!(judged(&off_and_not_ha, &vm(VmState::Running, None)).0, F);
        // `not` of an `any`: not(one holds) is false as soon as one branch holds, even when
        // another is unknown; unknown when none holds and one is unknown.
        let either = not(VmWhen {
            any: Some(vec![
                VmWhen {
                    ha: Some(true),
                    ..VmWhen::default()
                },
                VmWhen {
                    passthrough: Some(true),
                    ..VmWhen::default()
                },
            ]),
            ..VmWhen::default()
        });
        assert_eq!(judged(&either, &vm(VmState::Running, Some(true))).0, F);
        assert_eq!(
            judged(&either, &vm(VmState::Running, Some(false))),
            (U, vec!["passthrough"])
        );
        let mut no_device = vm(VmState::Running, Some(false));
        no_device.facts = Some(Box::new(VmFacts {
            passthrough: Some(vec![]),
            ..VmFacts::default()
        }));
        assert_eq!(judged(&either, &no_device).0, T);
        // A template named only under `not` still makes the rule judge templates.
        let not_template = not(VmWhen {
            template: Some(false),
            ..VmWhen::default()
        });
        let mut template = vm(VmState::Off, None);
        template.template = true;
        assert!(applies_to(&not_template, &template));
        assert_eq!(judged(&not_template, &template).0, T);
    }

    mod gaps {
        use super::*;
        use crate::engine::{Finding, InventoryIndex};
        use crate::model::{Host, HostState, Inventory, Platform};
        use crate::policy::RuleKind;

        fn host(name: &str) -> Host {
            Host {
                name: name.into(),
                cluster: Some("C1".into()),
                state: HostState::Up,
                memory_mb: Some(131072),
                cpus: Some(16),
                implied: false,
                facts: Default::default(),
            }
        }

        fn running(name: &str, host: &str, media: Option<Vec<FileRef>>) -> Vm {
            let mut v = vm(VmState::Running, Some(true));
            v.name = name.into();
            v.host = host.into();
            v.facts = media.map(|m| {
                Box::new(VmFacts {
                    media: Some(m),
                    ..VmFacts::default()
                })
            });
            v
        }

        /// The findings of the one rule of `policy` on an audit of HV01.
        fn run(policy: &str, vms: Vec<Vm>) -> Vec<Finding> {
            let text = format!(
                "[[rule]]\nid = \"media\"\ntitle = \"t\"\nseverity = \"error\"\nmessage = \"{{fate}}\"\n{policy}\n"
            );
            let set = crate::policy::load(vec![crate::diag::SourceFile::new("p.toml", text)])
                .expect("valid");
            let rule = &set.rules[0];
            let RuleKind::Vm(when) = &rule.kind else {
                panic!("a vm rule")
            };
            let inventory = Inventory {
                hosts: vec![host("HV01"), host("HV02")],
                vms,
                ..Inventory::default()
            };
            let index = InventoryIndex::new(&inventory, &["HV01".to_string()]);
            let mut out = Vec::new();
            let profile = crate::platform::profile(Platform::Hyperv);
            evaluate(rule, when, &index, profile, &mut out);
            out
        }

        const RULE: &str = "when = { state = [\"running\"], local_media = true }";

        #[test]
        fn a_fact_no_vm_carries_is_one_warning_for_the_export() {
            let vms = (0..5)
                .map(|i| running(&format!("VM{i}"), "HV01", None))
                .chain([running("ELSE", "HV02", None)])
                .collect();
            let out = run(RULE, vms);
            assert_eq!(out.len(), 1, "{out:#?}");
            let gap = &out[0];
            assert_eq!(gap.severity, Severity::Warning);
            assert_eq!(gap.vm, None);
            assert_eq!(gap.host.as_deref(), Some("HV01"));
            assert_eq!(gap.evidence["gap"], json!(["media"]));
            assert_eq!(gap.evidence["undetermined_vms"], json!(5));
            assert!(!gap.evidence.contains_key("undetermined"));
            let fix = gap.remediation.as_deref().unwrap_or_default();
            assert!(fix.contains("DVDDrives"), "{fix}");
            assert!(
                gap.message.contains("VM0 and 4 other VMs"),
                "{}",
                gap.message
            );
        }

        #[test]
        fn a_gap_is_one_finding_per_rule_over_every_drained_host_and_cluster() {
            let text = format!(
                "[[rule]]\nid = \"media\"\ntitle = \"t\"\nseverity = \"error\"\nmessage = \"{{fate}}\"\n{RULE}\n"
            );
            let set = crate::policy::load(vec![crate::diag::SourceFile::new("p.toml", text)])
                .expect("valid");
            let rule = &set.rules[0];
            let RuleKind::Vm(when) = &rule.kind else {
                panic!("a vm rule")
            };
            let mut other = host("HV11");
            other.cluster = Some("C2".into());
            let inventory = Inventory {
                hosts: vec![host("HV01"), host("HV02"), other, host("HV12")],
                vms: vec![
                    running("A", "HV01", None),
                    running("B", "HV01", None),
                    running("C", "HV11", None),
                ],
                ..Inventory::default()
            };
            let targets = ["HV01".to_string(), "HV11".to_string()];
            let index = InventoryIndex::new(&inventory, &targets);
            for platform in Platform::ALL {
                let mut out = Vec::new();
                evaluate(
                    rule,
                    when,
                    &index,
                    crate::platform::profile(platform),
                    &mut out,
                );
                assert_eq!(out.len(), 1, "{platform}: {out:#?}");
                assert_eq!(out[0].evidence["undetermined_vms"], json!(3));
            }
        }

        #[test]
        fn gap_severity_error_makes_the_gap_block() {
            let out = run(
                &format!("{RULE}\ngap_severity = \"error\""),
                vec![running("VM0", "HV01", None)],
            );
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].severity, Severity::Error);
        }

        #[test]
        fn no_gap_when_no_vm_is_left_undecided() {
            // Only stopped VMs on the drained host: the rule decides them on state alone.
            let mut off = running("OFF", "HV01", None);
            off.state = VmState::Off;
            assert!(run(RULE, vec![off]).is_empty());
        }

        #[test]
        fn when_one_vm_carries_the_fact_another_without_it_is_undetermined() {
            let iso = vec![file(r"C:\ISO\x.iso", Some(false))];
            let out = run(
                RULE,
                vec![
                    running("WITH", "HV01", Some(iso)),
                    running("WITHOUT", "HV01", None),
                    running("EMPTY", "HV01", Some(vec![])),
                ],
            );
            let by_vm: Vec<(Option<&str>, bool)> = out
                .iter()
                .map(|f| (f.vm.as_deref(), f.evidence.contains_key("undetermined")))
                .collect();
            assert_eq!(by_vm, [(Some("WITH"), false), (Some("WITHOUT"), true)]);
            assert_eq!(out[0].evidence["media"], json!([r"C:\ISO\x.iso"]));
            assert_eq!(out[1].severity, Severity::Error);
            // The rule is about the medium: the fate says what the medium does to the drain.
            assert!(
                out[0]
                    .message
                    .contains("medium on the node's local storage"),
                "{}",
                out[0].message
            );
        }
    }
}
