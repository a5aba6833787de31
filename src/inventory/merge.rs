//! Merging several parsed inventories into one.

use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::model::{Host, Inventory};
use std::collections::HashMap;

/// Merges inventories: hosts by name (case-insensitive; a listed host's fields fill an implied
/// one's), VMs side by side (the same VM in two files is an error), the oldest `collected_at`,
/// and the platform they agree on. `names` are the file names, for messages.
pub fn merge(parts: Vec<(String, Inventory)>) -> Result<Inventory, Diagnostics> {
    let mut out = Inventory::default();
    let mut diags = Diagnostics::default();
    let mut host_index: HashMap<String, usize> = HashMap::new();
    let mut vm_file: HashMap<String, String> = HashMap::new();
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
            let key = h.name.to_ascii_lowercase();
            match host_index.get(&key) {
                Some(&i) => fill(&mut out.hosts[i], h),
                None => {
                    host_index.insert(key, out.hosts.len());
                    out.hosts.push(h);
                }
            }
        }
        for vm in inv.vms {
            if let Some(prev) = vm_file.insert(vm.key().to_string(), name.clone())
                && prev != name
            {
                diags.push(SourceDiag::plain(
                    Code::InventoryDuplicate,
                    format!("VM `{}` is in both {prev} and {name}", vm.key()),
                ));
            }
            out.vms.push(vm);
        }
        out.gaps.extend(inv.gaps);
    }
    diags.into_result(out)
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
