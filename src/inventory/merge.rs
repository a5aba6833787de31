//! Merging several parsed inventories into one.

use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::model::{Host, Inventory, Vm};
use std::collections::HashMap;
use std::ops::Range;

/// Merges inventories: hosts by name (case-insensitive), VMs side by side (the same VM in two
/// files is an error), the oldest `collected_at`, and the platform they agree on. `names` are
/// the file names, for messages.
///
/// A host listed more than once (in one file or in several) is one host when its listings
/// agree: each fact one listing leaves out is taken from another, and a listed host's state
/// replaces an implied one's. Listings that contradict each other (memory, CPUs, cluster,
/// state) are an error: taking either would make the verdict depend on the order of the
/// files, and a wrong capacity can say GO.
pub fn merge(parts: Vec<(String, Inventory)>) -> Result<Inventory, Diagnostics> {
    // Found before anything moves, so that the keys are borrowed rather than copied per VM.
    let mut duplicates = duplicate_vms(&parts).into_iter();
    let mut out = Inventory::default();
    let mut diags = Diagnostics::default();
    // Per host: its position in `out.hosts` and the file that listed it first.
    let mut host_index: HashMap<String, (usize, String)> = HashMap::new();
    let mut platform_file: Option<String> = None;
    for (name, inv) in parts {
        out.collected_at = match (out.collected_at, inv.collected_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(p) = inv.platform {
            match out.platform {
                Some(q) if q != p => diags.push(SourceDiag::plain(
                    Code::InventoryFormat,
                    format!(
                        "{name} comes from {p}, but {} from {q}: one run judges one platform",
                        platform_file.clone().unwrap_or_default()
                    ),
                )),
                Some(_) => {}
                None => {
                    out.platform = Some(p);
                    platform_file = Some(name.clone());
                }
            }
        }
        for h in inv.hosts {
            let key = h.name.as_str().to_ascii_lowercase();
            match host_index.get(&key) {
                Some((i, first_file)) => {
                    let into = &mut out.hosts[*i];
                    match contradiction(into, &h) {
                        Some(what) => diags.push(
                            SourceDiag::plain(
                                Code::InventoryHostConflict,
                                host_conflict_message(&name, first_file, into, &h, &what),
                            )
                            .with_help(HOST_CONFLICT_HELP),
                        ),
                        None => absorb(into, h),
                    }
                }
                None => {
                    host_index.insert(key, (out.hosts.len(), name.clone()));
                    out.hosts.push(h);
                }
            }
        }
        diags.0.extend(duplicates.next().unwrap_or_default());
        let mut vms = inv.vms;
        if out.vms.is_empty() {
            // The common single-file case: take the vector as it is instead of moving each VM.
            out.vms = vms;
        } else {
            out.vms.append(&mut vms);
        }
        out.gaps.extend(inv.gaps);
    }
    diags.into_result(out)
}

/// What to do about a host listed twice with different facts.
pub(crate) const HOST_CONFLICT_HELP: &str =
    "list each host once, or export every file at the same time so that they agree";

fn host_conflict_message(file: &str, first_file: &str, a: &Host, b: &Host, what: &str) -> String {
    let spelled = if a.name == b.name {
        format!("`{}`", a.name)
    } else {
        format!("`{}` (and `{}`)", a.name, b.name)
    };
    if file == first_file {
        format!("{file}: host {spelled} is listed twice with different facts: {what}")
    } else {
        format!("host {spelled} differs between {first_file} and {file}: {what}")
    }
}

/// The facts two listings of one host disagree on, worded for a message (`memory 1024 MiB,
/// then 2048 MiB`: the first listing's value, then the second's), or `None` when they agree
/// wherever both say something. An implied host (one only a VM named) has no state of its
/// own to disagree with.
pub(crate) fn contradiction(a: &Host, b: &Host) -> Option<String> {
    let mut found: Vec<String> = Vec::new();
    if let (Some(x), Some(y)) = (a.memory_mb, b.memory_mb)
        && x != y
    {
        found.push(format!("memory {x} MiB, then {y} MiB"));
    }
    if let (Some(x), Some(y)) = (a.cpus, b.cpus)
        && x != y
    {
        found.push(format!("CPUs {x}, then {y}"));
    }
    if let (Some(x), Some(y)) = (&a.cluster, &b.cluster)
        && !same_name(x, y)
    {
        found.push(format!("cluster {x}, then {y}"));
    }
    if let (Some(x), Some(y)) = (&a.facts.cpu, &b.facts.cpu)
        && x != y
    {
        found.push(format!("CPU model {x}, then {y}"));
    }
    if let (Some(x), Some(y)) = (&a.facts.networks, &b.facts.networks) {
        let fold = |v: &[crate::model::CompactString]| {
            let mut v: Vec<String> = v.iter().map(|n| n.to_lowercase().to_string()).collect();
            v.sort();
            v.dedup();
            v
        };
        if fold(x) != fold(y) {
            found.push(format!(
                "networks [{}], then [{}]",
                x.join(", "),
                y.join(", ")
            ));
        }
    }
    if !a.implied && !b.implied && a.state != b.state {
        found.push(format!("state {}, then {}", a.state, b.state));
    }
    (!found.is_empty()).then(|| found.join("; "))
}

/// Whether two spellings name the same host or cluster: equal without case, or one is the
/// other's first DNS label (VMM writes a cluster's name as `CL01` in one place and
/// `CL01.contoso.local` in another).
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let short = |s: &str| s.split('.').next().unwrap_or(s).to_string();
    a.eq_ignore_ascii_case(b)
        || (!a.contains('.') && a.eq_ignore_ascii_case(&short(b)))
        || (!b.contains('.') && b.eq_ignore_ascii_case(&short(a)))
}

/// Folds a second listing that agrees with the first into it (see [`contradiction`]). The
/// name kept is the lesser spelling, so that the result does not depend on which came first.
pub(crate) fn absorb(into: &mut Host, from: Host) {
    if into.implied && !from.implied {
        into.state = from.state;
        into.implied = false;
    }
    if from.name < into.name {
        into.name = from.name;
    }
    into.cluster = into.cluster.take().or(from.cluster);
    into.memory_mb = into.memory_mb.or(from.memory_mb);
    into.cpus = into.cpus.or(from.cpus);
    into.facts.networks = into.facts.networks.take().or(from.facts.networks);
    into.facts.cpu = into.facts.cpu.take().or(from.facts.cpu);
}

/// An error at every VM of one export whose key (id, else name) an earlier VM of the same
/// export used; `heads` are where each VM's record starts. The platforms' exports list each VM
/// once, so a repeat is a damaged or concatenated file, and counting the VM twice (or once on
/// whichever host came last) would make capacity depend on the order of the list.
pub(crate) fn repeated_vms(file: &SourceFile, vms: &[Vm], heads: &[Range<usize>]) -> Diagnostics {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(vms.len());
    let mut diags = Diagnostics::default();
    for (i, vm) in vms.iter().enumerate() {
        if let Some(&j) = first.get(vm.key()) {
            let (Some(at), Some(before)) = (heads.get(i), heads.get(j)) else {
                continue;
            };
            let what = if vm.id.is_some() {
                "id"
            } else {
                "name (and no id)"
            };
            diags.push(
                SourceDiag::at(
                    Code::InventoryDuplicate,
                    format!("{}: two VMs share the {what} `{}`", file.name, vm.key()),
                    file,
                    at.clone(),
                    "listed again here",
                )
                .with_label(before.clone(), "first listed here")
                .with_help(
                    "export each VM once; a file put together from several exports may repeat one",
                ),
            );
        } else {
            first.insert(vm.key(), i);
        }
    }
    diags
}

/// Per part, the VMs whose key a part of another name listed before it. One file alone
/// cannot clash with another (each reader checks its own file), so it costs nothing.
fn duplicate_vms(parts: &[(String, Inventory)]) -> Vec<Vec<SourceDiag>> {
    let mut found = vec![Vec::new(); parts.len()];
    if parts.len() < 2 {
        return found;
    }
    let total = parts.iter().map(|(_, inv)| inv.vms.len()).sum();
    let mut last_file: HashMap<&str, &str> = HashMap::with_capacity(total);
    for ((name, inv), found) in parts.iter().zip(&mut found) {
        for vm in &inv.vms {
            if let Some(prev) = last_file.insert(vm.key(), name)
                && prev != name
            {
                found.push(SourceDiag::plain(
                    Code::InventoryDuplicate,
                    format!("VM `{}` is in both {prev} and {name}", vm.key()),
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HostState, Vm, VmState};

    fn vm(name: &str, id: Option<&str>) -> Vm {
        Vm {
            name: name.into(),
            id: id.map(Into::into),
            host: "H".into(),
            state: VmState::Running,
            ha: None,
            memory_mb: None,
            vcpus: None,
            tags: Vec::new(),
            template: false,
            evidence: Default::default(),
            facts: None,
        }
    }

    fn inv(vms: Vec<Vm>) -> Inventory {
        Inventory {
            vms,
            ..Inventory::default()
        }
    }

    #[test]
    fn one_file_passes_through_in_order() {
        let merged = merge(vec![("a".into(), inv(vec![vm("B", None), vm("A", None)]))]).unwrap();
        let names: Vec<_> = merged.vms.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["B", "A"]);
    }

    #[test]
    fn a_vm_in_two_files_is_named_once_per_clash() {
        let err = merge(vec![
            ("a".into(), inv(vec![vm("A", Some("1")), vm("B", None)])),
            ("b".into(), inv(vec![vm("other", Some("1")), vm("C", None)])),
            ("c".into(), inv(vec![vm("B", None)])),
        ])
        .unwrap_err();
        let msgs: Vec<_> = err.0.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            ["VM `1` is in both a and b", "VM `B` is in both a and c"]
        );
    }

    fn host(name: &str, memory_mb: Option<u64>, state: HostState) -> Host {
        Host {
            name: name.into(),
            cluster: None,
            state,
            memory_mb,
            cpus: None,
            implied: false,
            facts: Default::default(),
        }
    }

    fn hosts(hosts: Vec<Host>) -> Inventory {
        Inventory {
            hosts,
            ..Inventory::default()
        }
    }

    #[test]
    fn a_host_listed_twice_in_one_file_with_other_memory_is_an_error() {
        // `hv01` and `HV01` are one host: once with 64 GiB, once with 64 MiB.
        for order in [[0, 1], [1, 0]] {
            let listed = [
                host("hv01", Some(65536), HostState::Up),
                host("HV01", Some(64), HostState::Up),
            ];
            let part = hosts(order.iter().map(|&i| listed[i].clone()).collect());
            let err = merge(vec![("inv.json".into(), part)]).unwrap_err();
            assert_eq!(err.0.len(), 1);
            assert_eq!(err.0[0].code, Code::InventoryHostConflict);
            let msg = &err.0[0].message;
            assert!(msg.starts_with("inv.json: host `"), "{msg}");
            assert!(
                msg.contains("listed twice with different facts: memory"),
                "{msg}"
            );
        }
    }

    #[test]
    fn a_host_whose_state_differs_between_files_is_an_error_in_either_order() {
        let up = || hosts(vec![host("HV01", Some(1024), HostState::Up)]);
        let maint = || hosts(vec![host("hv01", Some(1024), HostState::Maintenance)]);
        for parts in [
            vec![("a".to_string(), up()), ("b".to_string(), maint())],
            vec![("b".to_string(), maint()), ("a".to_string(), up())],
        ] {
            let err = merge(parts).unwrap_err();
            assert_eq!(err.0[0].code, Code::InventoryHostConflict);
            assert!(
                err.0[0].message.contains("state up, then maintenance")
                    || err.0[0].message.contains("state maintenance, then up"),
                "{}",
                err.0[0].message
            );
        }
    }

    #[test]
    fn agreeing_listings_merge_the_same_in_either_order() {
        let mut with_cluster = host("hv01", None, HostState::Up);
        with_cluster.cluster = Some("CL".into());
        let with_memory = host("HV01", Some(1024), HostState::Up);
        let a = merge(vec![
            ("a".into(), hosts(vec![with_cluster.clone()])),
            ("b".into(), hosts(vec![with_memory.clone()])),
        ])
        .unwrap();
        let b = merge(vec![
            ("b".into(), hosts(vec![with_memory])),
            ("a".into(), hosts(vec![with_cluster])),
        ])
        .unwrap();
        assert_eq!(a.hosts, b.hosts);
        assert_eq!(a.hosts.len(), 1);
        assert_eq!(a.hosts[0].name, "HV01");
        assert_eq!(a.hosts[0].memory_mb, Some(1024));
        assert_eq!(a.hosts[0].cluster.as_deref(), Some("CL"));
    }

    #[test]
    fn an_implied_host_takes_the_listed_state() {
        let mut implied = host("HV01", None, HostState::Up);
        implied.implied = true;
        let listed = host("HV01", Some(1024), HostState::Maintenance);
        let merged = merge(vec![
            ("a".into(), hosts(vec![implied])),
            ("b".into(), hosts(vec![listed])),
        ])
        .unwrap();
        assert_eq!(merged.hosts[0].state, HostState::Maintenance);
        assert!(!merged.hosts[0].implied);
    }

    #[test]
    fn host_facts_merge_and_a_different_cpu_model_is_a_conflict() {
        let mut a = host("HV01", Some(1024), HostState::Up);
        let mut b = host("HV01", Some(1024), HostState::Up);
        b.facts.cpu = Some("Xeon Gold 6338".into());
        b.facts.networks = Some(vec!["Prod".into()]);
        assert_eq!(
            contradiction(&a, &b),
            None,
            "one side silent is no conflict"
        );
        absorb(&mut a, b.clone());
        assert_eq!(a.facts, b.facts);
        let mut c = b.clone();
        c.facts.cpu = Some("EPYC 7763".into());
        c.facts.networks = Some(vec!["prod".into(), "Prod".into()]);
        let found = contradiction(&b, &c).unwrap();
        assert!(
            found.contains("CPU model Xeon Gold 6338, then EPYC 7763"),
            "{found}"
        );
        assert!(
            !found.contains("networks"),
            "same networks in another case: {found}"
        );
    }

    #[test]
    fn a_short_and_a_full_name_are_the_same() {
        assert!(same_name("CL01", "cl01.contoso.local"));
        assert!(same_name("cl01.contoso.local", "CL01"));
        assert!(same_name("CL01.contoso.local", "cl01.CONTOSO.local"));
        assert!(!same_name("CL01", "CL02.contoso.local"));
        assert!(!same_name("CL01.a.local", "CL01.b.local"));
        assert!(!same_name("CL0", "CL01"));
    }

    #[test]
    fn distinct_files_keep_every_vm() {
        let merged = merge(vec![
            ("a".into(), inv(vec![vm("A", None)])),
            ("b".into(), inv(vec![vm("B", None)])),
        ])
        .unwrap();
        assert_eq!(merged.vms.len(), 2);
    }
}
