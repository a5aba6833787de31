//! The inventory records a SARIF report's findings point at: the files the run read are read
//! again, and used only when their digest is still the one the report records (a file changed
//! since would give wrong lines), so the report itself does no I/O.

use crate::engine::Finding;
use crate::inventory::records_at::{Wanted, find_in_files};
use crate::model::Inventory;
use crate::report::Report;
use crate::report::locations::Locations;

/// Where each of the report's findings' subjects is recorded.
pub fn locate_findings(inventory: &Inventory, report: &Report) -> Locations {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.to_str().map(String::from));
    // Nothing to point at in the inventory: its files are not read again.
    if report
        .findings
        .iter()
        .all(|f| f.vm.is_none() && f.host.is_none() && f.cluster.is_none())
    {
        return Locations {
            records: Vec::new(),
            cwd,
        };
    }
    let files: Vec<(String, Vec<u8>)> = report
        .inputs
        .inventory
        .iter()
        .filter_map(|i| {
            let bytes = std::fs::read(&i.path).ok()?;
            (crate::digest::sha256_hex(&bytes) == i.sha256).then(|| (i.path.clone(), bytes))
        })
        .collect();
    // Per finding, the subjects to try in turn: the VM, then its host.
    let tries: Vec<Vec<Wanted>> = report
        .findings
        .iter()
        .map(|f| subjects(inventory, f))
        .collect();
    let flat: Vec<Wanted> = tries.iter().flatten().cloned().collect();
    let mut found = find_in_files(&files, &flat).into_iter();
    let records = tries
        .iter()
        .map(|t| {
            let mut first = None;
            for _ in t {
                let r = found.next().flatten();
                if first.is_none() {
                    first = r;
                }
            }
            first
        })
        .collect();
    Locations { records, cwd }
}

fn subjects(inventory: &Inventory, f: &Finding) -> Vec<Wanted> {
    let mut out = Vec::new();
    if let Some(vm) = &f.vm {
        out.push(Wanted::Vm {
            name: vm.clone(),
            id: f.vm_id.clone(),
        });
    }
    match (&f.host, &f.cluster) {
        (Some(h), _) if !h.is_empty() => out.push(Wanted::Host(h.clone())),
        // A finding about a cluster: its first host.
        (_, Some(c)) => {
            if let Some(h) = inventory
                .hosts
                .iter()
                .find(|h| h.cluster.as_deref() == Some(c.as_str()))
            {
                out.push(Wanted::Host(h.name.to_string()));
            }
        }
        _ => {}
    }
    out
}
