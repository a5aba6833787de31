//! Merging several parsed inventories into one.

use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::model::{Host, Inventory};
use std::collections::HashMap;

/// Merges inventories: hosts by name (case-insensitive; a listed host's fields fill an implied
/// one's), VMs side by side (the same VM in two files is an error), the oldest `collected_at`,
/// and the platform they agree on. `names` are the file names, for messages.
pub fn merge(parts: Vec<(String, Inventory)>) -> Result<Inventory, Diagnostics> {
    // Found before anything moves, so that the keys are borrowed rather than copied per VM.
    let mut duplicates = duplicate_vms(&parts).into_iter();
    let mut out = Inventory::default();
    let mut diags = Diagnostics::default();
    let mut host_index: HashMap<String, usize> = HashMap::new();
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
                Some(&i) => fill(&mut out.hosts[i], h),
                None => {
                    host_index.insert(key, out.hosts.len());
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

/// Per part, the VMs whose key a part of another name listed before it. One file alone
/// cannot clash with another (its parser checks its own duplicates), so it costs nothing.
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

fn fill(into: &mut Host, from: Host) {
    if into.implied && !from.implied {
        into.state = from.state;
        into.implied = false;
    }
    into.cluster = into.cluster.take().or(from.cluster);
    into.memory_mb = into.memory_mb.or(from.memory_mb);
    into.cpus = into.cpus.or(from.cpus);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Vm, VmState};

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
