//! Hyper-V exports: `Get-VM | ConvertTo-Json` and `Get-VM | Export-Csv` (see [`super::hyperv_csv`]).
//!
//! `State` is the Hyper-V `VMState` (a number in JSON, a name in CSV); `IsClustered` is the
//! HA flag; `ComputerName` is the host. `MemoryAssigned` is in bytes and 0 when the VM is not
//! running, so `MemoryStartup` stands in for stopped VMs.

use super::merge::repeated_vms;
use super::read::{Cell, Ctx, Row, bytes_to_mib, text};
use super::record;
use super::states::{Reading, hyperv_name, hyperv_number};
use super::{Format, Parsed, hyperv_csv, missing_fields, native};
use crate::diag::{Code, Diagnostics, SourceFile};
use crate::model::{Inventory, Platform, Vm, VmState};
use serde_json::Value;
use std::collections::BTreeMap;

const NAME_HELP: &str = "select Name in the export: Get-VM | Select-Object Name, Id, State, IsClustered, ComputerName, MemoryAssigned, MemoryStartup, ProcessorCount";
const HOST_HELP: &str = "select ComputerName (the Hyper-V host) in the export";
/// 64 TiB in bytes.
const MAX_MEMORY_BYTES: u64 = native::MAX_MEMORY_MB << 20;

pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    let start = file.text.trim_start();
    if start.starts_with('[') || start.starts_with('{') || start == "null" {
        let top = record::parse_top(file)?;
        let recs = record::records(file, top, "")?;
        let rows: Vec<&dyn Row> = recs.iter().map(|r| r as &dyn Row).collect();
        return build(file, &rows);
    }
    let rows = hyperv_csv::rows(file)?;
    let rows: Vec<&dyn Row> = rows.iter().map(|r| r as &dyn Row).collect();
    build(file, &rows)
}

fn build(file: &SourceFile, rows: &[&dyn Row]) -> Result<Parsed, Diagnostics> {
    let mut ctx = Ctx::new(file);
    let (vms, heads): (Vec<Vm>, Vec<_>) = rows
        .iter()
        .filter_map(|r| vm(&mut ctx, *r).map(|v| (v, r.head())))
        .unzip();
    ctx.errors.extend(repeated_vms(file, &vms, &heads));
    let gaps = missing_fields(
        &vms,
        "add IsClustered to Select-Object in the export",
        "add MemoryStartup to Select-Object in the export (MemoryAssigned is 0 when a VM is off)",
    );
    let inv = Inventory {
        platform: Some(Platform::Hyperv),
        vms,
        gaps,
        ..Inventory::default()
    };
    let (inventory, warnings) = ctx.finish(inv)?;
    Ok(Parsed {
        inventory,
        format: Format::Hyperv,
        warnings,
    })
}

fn vm(ctx: &mut Ctx, row: &dyn Row) -> Option<Vm> {
    let name = ctx.name(row, &["Name", "VMName"], NAME_HELP);
    let host = ctx.name(row, &["ComputerName"], HOST_HELP);
    let mut evidence = BTreeMap::new();
    let state = state(ctx, row, &mut evidence);
    let id = ctx.text(row, "Id").or_else(|| ctx.text(row, "VMId"));
    let ha = ctx.flag(row, "IsClustered");
    let assigned = ctx.count(row, "MemoryAssigned", MAX_MEMORY_BYTES);
    let startup = ctx.count(row, "MemoryStartup", MAX_MEMORY_BYTES);
    let memory_mb = assigned
        .filter(|b| *b > 0)
        .or(startup.filter(|b| *b > 0))
        .map(bytes_to_mib);
    let vcpus = ctx.count(row, "ProcessorCount", native::MAX_CPUS);
    let facts = super::facts_read::hyperv_vm(ctx, row);
    Some(Vm {
        name: name?.into(),
        id: id.filter(|i| !i.is_empty()).map(Into::into),
        host: host?.into(),
        state: state?,
        ha,
        memory_mb,
        vcpus: vcpus.map(|c| c as u32),
        tags: Vec::new(),
        template: false,
        evidence,
        facts,
    })
}

fn state(ctx: &mut Ctx, row: &dyn Row, evidence: &mut BTreeMap<String, String>) -> Option<VmState> {
    let Some(cell) = row.cell("State") else {
        ctx.name(row, &["State"], "select State in the export");
        return None;
    };
    let reading = read_state(&cell);
    match reading {
        Reading::Power(s) => Some(s),
        Reading::NotPower | Reading::Unlisted => {
            let raw = text(&cell.value).unwrap_or_else(|| cell.value.to_string());
            evidence.insert("raw_state".to_string(), format!("State={raw}"));
            if reading == Reading::Unlisted {
                let numbered = matches!(cell.value, Value::Number(_)) || raw.parse::<i64>().is_ok();
                let help = if numbered {
                    "VMState numbers from 32781 on differ between Windows versions; export with ConvertTo-Json -EnumsAsStrings (PowerShell 7) or Export-Csv to get names"
                } else {
                    "State is read as Microsoft.HyperV.PowerShell.VMState"
                };
                let d = ctx
                    .diag(
                        Code::InventoryUnknownState,
                        &row.path_of("State"),
                        &format!("{raw} is not a state preflight knows; read as unknown"),
                        cell.span,
                    )
                    .with_help(help);
                ctx.warn(d);
            }
            Some(VmState::Unknown)
        }
    }
}

fn read_state(cell: &Cell) -> Reading {
    match &cell.value {
        Value::Number(n) => n.as_i64().map_or(Reading::Unlisted, hyperv_number),
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => hyperv_number(n),
            Err(_) => hyperv_name(s),
        },
        _ => Reading::Unlisted,
    }
}
