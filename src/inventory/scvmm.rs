//! SCVMM exports: `Get-SCVirtualMachine | Select-Object ... | ConvertTo-Json` (Windows
//! PowerShell 5.1 and PowerShell 7), `Get-SCVMHost | Select-Object ... | ConvertTo-Json`, and the
//! combined object with `vms`, `hosts` and `clusters` lists that inventory scripts (ManageIQ's
//! `get_inventory.ps1`) write.
//!
//! The power state comes from `VirtualMachineState(String)` when selected, else `Status` (the
//! `VMComputerSystemState` number, or its name with `-EnumsAsStrings`), else `StatusString`
//! (display text). `Status` also carries non-power statuses (`UnsupportedCluster`,
//! `HostNotResponding`); those are kept as evidence and the next source is tried.

use super::merge::repeated_vms;
use super::read::{Cell, Ctx, Row, text};
use super::record::{self, Record, is_type_name};
use super::states::{Reading, scvmm_name, scvmm_number};
use super::{Format, Parsed, missing_fields, native, scvmm_hosts};
use crate::diag::{Code, Diagnostics, SourceFile};
use crate::model::{CompactString, Inventory, Platform, Vm, VmState};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::Range;

const NAME_HELP: &str = "select Name in the export: Get-SCVirtualMachine | Select-Object Name, ID, HostName, Status, IsHighlyAvailable, Memory, CPUCount";
const HOST_HELP: &str = "select HostName (or @{n='VMHost';e={$_.VMHost.Name}}) in the export";
/// The properties that hold a VM's host, best first.
const HOST_KEYS: [&str; 3] = ["HostName", "VMHostName", "VMHost"];
/// The properties that hold a VM's state, best first.
const STATE_KEYS: [&str; 4] = [
    "VirtualMachineStateString",
    "VirtualMachineState",
    "Status",
    "StatusString",
];
/// Keys only a VM record has; a list without any of them is a host export.
const VM_KEYS: [&str; 9] = [
    "HostName",
    "VMHostName",
    "VMHost",
    "Status",
    "StatusString",
    "VirtualMachineStateString",
    "IsHighlyAvailable",
    "CPUCount",
    "Memory",
];

pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    let top = record::parse_top(file)?;
    let mut ctx = Ctx::new(file);
    let mut inv = Inventory {
        platform: Some(Platform::Scvmm),
        ..Inventory::default()
    };
    let combined = match record::record(file, top, String::new()) {
        Ok(r) if ["vms", "hosts", "clusters"].iter().any(|k| r.has(k)) => Some(r),
        _ => None,
    };
    let mut diags = Diagnostics::default();
    // Where each VM's record starts, to locate a VM listed twice.
    let mut heads: Vec<Range<usize>> = Vec::new();
    if let Some(root) = combined {
        // The combined object: each list read on its own, problems of all collected.
        let mut list = |key: &str| match root.get(key) {
            Some(f) => record::records(file, f, key).unwrap_or_else(|d| {
                diags.extend(d);
                Vec::new()
            }),
            None => Vec::new(),
        };
        let (vms, hosts, clusters) = (list("vms"), list("hosts"), list("clusters"));
        (inv.vms, heads) = vms
            .iter()
            .filter_map(|r| vm(&mut ctx, r).map(|v| (v, r.head())))
            .unzip();
        inv.hosts = scvmm_hosts::hosts(&mut ctx, &hosts, &clusters);
    } else {
        // One record at a time: the list of a large VM export is never held as records.
        let list = record::list(file, top, "")?;
        let is_vm = |i| {
            list.record(file, i)
                .is_ok_and(|r| VM_KEYS.iter().any(|k| r.has(k)))
        };
        let mut shape = Diagnostics::default();
        if list.is_empty() || (0..list.len()).any(is_vm) {
            let n = list.len();
            // A large export's halves are converted on two threads; their problems are
            // joined in order, as one thread would have found them.
            let (first, second) = crate::par::join_if(
                n,
                || convert(file, &list, 0..n / 2),
                || convert(file, &list, n / 2..n),
            );
            let halves = [first, second];
            for (vms, part_heads, part, problems) in halves {
                inv.vms.extend(vms);
                heads.extend(part_heads);
                ctx.warnings.extend(part.warnings);
                ctx.errors.extend(part.errors);
                shape.extend(problems);
            }
        } else {
            let recs = record::records(file, top, "")?;
            inv.hosts = scvmm_hosts::hosts(&mut ctx, &recs, &[]);
        }
        // An item that is not an object makes the rest moot, as it did when all were read
        // before any was converted.
        if !shape.is_empty() {
            return Err(shape);
        }
    }
    inv.gaps = missing_fields(
        &inv.vms,
        "add IsHighlyAvailable to Select-Object in the export",
        "add Memory to Select-Object in the export",
    );
    ctx.errors.extend(diags);
    ctx.errors.extend(repeated_vms(file, &inv.vms, &heads));
    let (inventory, warnings) = ctx.finish(inv)?;
    Ok(Parsed {
        inventory,
        format: Format::Scvmm,
        warnings,
    })
}

fn vm(ctx: &mut Ctx, rec: &Record) -> Option<Vm> {
    let name = ctx.name(rec, &["Name"], NAME_HELP);
    let host = vm_host(ctx, rec);
    let mut evidence = BTreeMap::new();
    let state = vm_state(ctx, rec, &mut evidence);
    let id = ctx.text(rec, "ID").or_else(|| ctx.text(rec, "VMId"));
    let ha = ctx.flag(rec, "IsHighlyAvailable");
    let memory_mb = ctx
        .count(rec, "Memory", native::MAX_MEMORY_MB)
        .or_else(|| ctx.count(rec, "MemoryAssignedMB", native::MAX_MEMORY_MB));
    let vcpus = ctx.count(rec, "CPUCount", native::MAX_CPUS);
    if let Some(path) = ctx.text(rec, "HostGroupPath") {
        evidence.insert("host_group".to_string(), path);
    }
    if ctx.flag(rec, "HasPassthroughDisk") == Some(true) {
        evidence.insert("passthrough_disk".to_string(), "true".to_string());
    }
    let tags = tags(rec.cell("Tag"));
    let facts = super::facts_read::scvmm_vm(ctx, rec);
    Some(Vm {
        name: name?.into(),
        id: id.filter(|i| !i.is_empty()).map(Into::into),
        host: host?.into(),
        state: state?,
        ha,
        memory_mb,
        vcpus: vcpus.map(|c| c as u32),
        tags,
        template: false,
        evidence,
        facts,
    })
}

/// Exports of at least this many records are converted on two threads.
#[cfg(test)]
const PARALLEL_FROM: usize = crate::par::SPLIT_FROM;

/// Items `range` of a VM export's list as VMs and where each starts, with the problems of the
/// VMs (in a context of their own) and of items that are not objects.
fn convert<'f>(
    file: &'f SourceFile,
    list: &record::List<'_>,
    range: Range<usize>,
) -> (Vec<Vm>, Vec<Range<usize>>, Ctx<'f>, Diagnostics) {
    let mut ctx = Ctx::new(file);
    let mut shape = Diagnostics::default();
    let mut vms = Vec::with_capacity(range.len());
    let mut heads = Vec::with_capacity(range.len());
    for i in range {
        match list.record(file, i) {
            Ok(r) => {
                if let Some(v) = vm(&mut ctx, &r) {
                    vms.push(v);
                    heads.push(r.head());
                }
            }
            Err(d) => shape.extend(d),
        }
    }
    (vms, heads, ctx, shape)
}

/// The host from `HostName`, `VMHostName` or `VMHost` (a name, or the Host object when the
/// export kept it whole). A .NET type name in its place means `-Depth` cut it off.
fn vm_host(ctx: &mut Ctx, rec: &Record) -> Option<String> {
    let mut truncated: Option<(String, Cell)> = None;
    let mut found = None;
    for key in HOST_KEYS {
        let Some(cell) = rec.cell(key) else { continue };
        let name = match &cell.value {
            Value::String(s) if is_type_name(s) => {
                truncated.get_or_insert((key.to_string(), cell));
                continue;
            }
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Object(o) => ["Name", "ComputerName", "FullyQualifiedDomainName"]
                .iter()
                .find_map(|k| o.get(*k).and_then(text))
                .filter(|s| !s.trim().is_empty() && !is_type_name(s)),
            _ => None,
        };
        // Keep looking past a good name: a cut-off VMHost beside it is still worth a warning.
        if found.is_none() {
            found = name;
        }
    }
    match (found, truncated) {
        (Some(h), None) => Some(h),
        (found, Some((key, cell))) => {
            let msg = format!(
                "arrived as the type name {} (ConvertTo-Json -Depth cut it off){}",
                text(&cell.value).unwrap_or_default(),
                if found.is_some() {
                    ""
                } else {
                    "; the VM's host is unknown"
                }
            );
            let d = ctx
                .diag(
                    Code::InventoryTruncated,
                    &rec.path_of(&key),
                    &msg,
                    cell.span,
                )
                .with_help(HOST_HELP);
            if found.is_some() {
                ctx.warn(d);
            } else {
                ctx.error(d);
            }
            found
        }
        (None, None) => ctx.name(rec, &HOST_KEYS, HOST_HELP),
    }
}

/// Reads the state from the first source that holds a power state; see the module doc.
fn vm_state(
    ctx: &mut Ctx,
    rec: &Record,
    evidence: &mut BTreeMap<String, String>,
) -> Option<VmState> {
    let mut seen: Vec<(&str, Cell, Reading)> = Vec::new();
    for key in STATE_KEYS {
        let Some(cell) = rec.cell(key) else { continue };
        let reading = match &cell.value {
            Value::Number(n) => n.as_i64().map_or(Reading::Unlisted, scvmm_number),
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(n) => scvmm_number(n),
                Err(_) => scvmm_name(s),
            },
            _ => Reading::Unlisted,
        };
        seen.push((key, cell, reading));
    }
    if seen.is_empty() {
        ctx.name(
            rec,
            &["Status", "StatusString", "VirtualMachineStateString"],
            "select Status (or StatusString) in the export",
        );
        return None;
    }
    let raw = |c: &Cell| text(&c.value).unwrap_or_else(|| c.value.to_string());
    // A status that is not a power state says something else worth keeping.
    for (key, cell, reading) in &seen {
        if key.starts_with("Status") && !matches!(reading, Reading::Power(_)) {
            evidence
                .entry("status".to_string())
                .or_insert_with(|| raw(cell));
        }
    }
    if let Some(state) = seen.iter().find_map(|(_, _, r)| match r {
        Reading::Power(s) => Some(*s),
        _ => None,
    }) {
        return Some(state);
    }
    let values: Vec<String> = seen
        .iter()
        .map(|(k, c, _)| format!("{k}={}", raw(c)))
        .collect();
    evidence.insert("raw_state".to_string(), values.join(", "));
    for (key, cell, reading) in seen {
        if reading == Reading::Unlisted {
            let msg = format!(
                "{} is not a state preflight knows; read as unknown",
                cell.value
            );
            let d = ctx
                .diag(
                    Code::InventoryUnknownState,
                    &rec.path_of(key),
                    &msg,
                    cell.span,
                )
                .with_help(
                    "Status is read as Microsoft.VirtualManager.Utils.VMComputerSystemState",
                );
            ctx.warn(d);
        }
    }
    Some(VmState::Unknown)
}

/// `Tag` is a string (`(none)` when unset; several tags `;`-separated) or a list.
fn tags(cell: Option<Cell>) -> Vec<CompactString> {
    let items: Vec<String> = match cell.map(|c| c.value) {
        Some(Value::String(s)) => s.split(';').map(str::to_string).collect(),
        Some(Value::Array(a)) => a.iter().filter_map(text).collect(),
        _ => Vec::new(),
    };
    items
        .into_iter()
        .map(|t| CompactString::from(t.trim()))
        .filter(|t| !t.is_empty() && t != "(none)")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(n: usize, bad: &[usize]) -> SourceFile {
        let items: Vec<String> = (0..n)
            .map(|i| {
                let memory = if bad.contains(&i) { -1 } else { 1024 };
                format!(
                    r#"{{"Name":"vm{i}","ID":"id{i}","HostName":"h{}","Status":0,"IsHighlyAvailable":true,"Memory":{memory}}}"#,
                    i % 7
                )
            })
            .collect();
        SourceFile::new("x.json", format!("[{}]", items.join(",\n")))
    }

    #[test]
    fn a_large_export_converts_on_two_threads_as_on_one() {
        let n = PARALLEL_FROM + 3;
        let file = export(n, &[]);
        let parsed = parse(&file).unwrap();
        let list = record::list(&file, record::parse_top(&file).unwrap(), "").unwrap();
        let (one_thread, _, ctx, shape) = convert(&file, &list, 0..n);
        assert!(ctx.errors.is_empty() && shape.is_empty());
        assert_eq!(parsed.inventory.vms, one_thread);
        assert_eq!(parsed.inventory.vms.len(), n);
    }

    #[test]
    fn problems_of_both_halves_come_in_file_order() {
        let n = PARALLEL_FROM + 3;
        let bad = [3, n / 2 - 1, n / 2, n - 1];
        let err = parse(&export(n, &bad)).unwrap_err();
        let rows: Vec<String> = err.0.iter().map(|d| d.message.clone()).collect();
        assert_eq!(rows.len(), bad.len(), "{rows:?}");
        for (message, i) in rows.iter().zip(bad) {
            assert!(message.contains(&format!("[{i}].Memory")), "{message}");
        }
    }
}
