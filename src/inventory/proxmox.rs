//! Proxmox VE: `pvesh get /cluster/resources [--type vm] --output-format json` (or the REST
//! API's `{"data": [...]}` around the same list).
//!
//! Entries of type `qemu` and `lxc` are guests; `node` entries are hosts; storage, sdn and pool
//! entries are ignored. A guest is HA-managed when `hastate` is present, whatever its value
//! (`stopped` is HA-managed but kept stopped). Templates (`template: 1`) are not VMs and are
//! skipped. `maxmem` is in bytes. The cluster's name is not in the export.

use super::read::{Ctx, Row, bytes_to_mib, text};
use super::record::{self, Record};
use super::states::{Reading, proxmox_status};
use super::{Format, Parsed, native};
use crate::diag::{Code, Diagnostics, SourceFile};
use crate::model::{Gap, Host, HostState, Inventory, Platform, Vm, VmState};
use serde_json::Value;
use std::collections::BTreeMap;

const HELP: &str = "export with: pvesh get /cluster/resources --output-format json";
const MAX_MEMORY_BYTES: u64 = native::MAX_MEMORY_MB << 20;

pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    let mut top = record::parse_top(file)?;
    let mut path = "";
    if top.raw.get().starts_with('{')
        && let Ok(r) = record::record(file, top, String::new())
        && let Some(data) = r.get("data")
    {
        top = data;
        path = "data";
    }
    let recs = record::records(file, top, path)?;
    let mut ctx = Ctx::new(file);
    let mut inv = Inventory {
        platform: Some(Platform::Proxmox),
        ..Inventory::default()
    };
    for rec in &recs {
        let kind = rec.cell("type").and_then(|c| text(&c.value));
        match kind.as_deref() {
            Some("qemu" | "lxc") => inv.vms.extend(guest(&mut ctx, rec)),
            Some("node") => inv.hosts.extend(node(&mut ctx, rec)),
            Some(_) => {}
            None => {
                let d = ctx
                    .diag(
                        Code::InventoryField,
                        &rec.path,
                        "missing `type`",
                        rec.head(),
                    )
                    .with_help(HELP);
                ctx.error(d);
            }
        }
    }
    let no_mem = inv.vms.iter().filter(|v| v.memory_mb.is_none()).count();
    if no_mem > 0 {
        inv.gaps.push(Gap {
            field: "memory_mb".to_string(),
            count: no_mem,
            hint: "maxmem is missing when pvestatd has no data for a guest; export again once the node reports".to_string(),
        });
    }
    let (inventory, warnings) = ctx.finish(inv)?;
    Ok(Parsed {
        inventory,
        format: Format::Proxmox,
        warnings,
    })
}

fn guest(ctx: &mut Ctx, rec: &Record) -> Option<Vm> {
    let template = rec.cell("template").is_some_and(|c| {
        matches!(c.value, Value::Bool(true)) || text(&c.value).as_deref() == Some("1")
    });
    if template {
        return None;
    }
    if Row::cell(rec, "vmid").is_none() {
        ctx.name(rec, &["vmid"], HELP);
    }
    let vmid = ctx.count(rec, "vmid", u64::from(u32::MAX));
    let host = ctx.name(rec, &["node"], HELP);
    let mut evidence = BTreeMap::new();
    let state = state(ctx, rec, &mut evidence);
    let hastate = ctx.text(rec, "hastate");
    for key in ["lock", "pool", "type"] {
        if let Some(v) = ctx.text(rec, key) {
            evidence.insert(key.to_string(), v);
        }
    }
    if let Some(h) = &hastate {
        evidence.insert("hastate".to_string(), h.clone());
    }
    let memory_mb = ctx.count(rec, "maxmem", MAX_MEMORY_BYTES).map(bytes_to_mib);
    let vcpus = ctx.count(rec, "maxcpu", native::MAX_CPUS).map(|c| c as u32);
    let tags = ctx
        .text(rec, "tags")
        .map(|t| {
            t.split([';', ',', ' '])
                .filter(|s| !s.is_empty())
                .map(Into::into)
                .collect()
        })
        .unwrap_or_default();
    let vmid = vmid?.to_string();
    // `name` comes from the status data and is missing when a node has not reported.
    let name = ctx.text(rec, "name").filter(|n| !n.trim().is_empty());
    Some(Vm {
        name: name.unwrap_or_else(|| vmid.clone()).into(),
        id: Some(vmid.into()),
        host: host?.into(),
        state,
        ha: Some(hastate.is_some()),
        memory_mb,
        vcpus,
        tags,
        template: false,
        evidence,
    })
}

fn state(ctx: &mut Ctx, rec: &Record, evidence: &mut BTreeMap<String, String>) -> VmState {
    let Some(cell) = Row::cell(rec, "status") else {
        evidence.insert("raw_state".to_string(), "status missing".to_string());
        return VmState::Unknown;
    };
    let raw = text(&cell.value).unwrap_or_else(|| cell.value.to_string());
    match proxmox_status(&raw) {
        Reading::Power(s) => s,
        reading => {
            evidence.insert("raw_state".to_string(), format!("status={raw}"));
            if reading == Reading::Unlisted {
                let d = ctx.diag(
                    Code::InventoryUnknownState,
                    &rec.path_of("status"),
                    &format!("{raw} is not a guest status preflight knows; read as unknown"),
                    cell.span,
                );
                ctx.warn(d);
            }
            VmState::Unknown
        }
    }
}

fn node(ctx: &mut Ctx, rec: &Record) -> Option<Host> {
    let name = ctx.name(rec, &["node"], HELP)?;
    let status = ctx.text(rec, "status");
    let hastate = ctx.text(rec, "hastate");
    let state = match (hastate.as_deref(), status.as_deref()) {
        (Some("maintenance"), _) => HostState::Maintenance,
        (Some("fence" | "gone"), _) | (_, Some("offline" | "unknown")) => HostState::Down,
        _ => HostState::Up,
    };
    // An offline node reports 0: capacity unknown.
    let memory_mb = ctx
        .count(rec, "maxmem", MAX_MEMORY_BYTES)
        .filter(|m| *m > 0)
        .map(bytes_to_mib);
    let cpus = ctx
        .count(rec, "maxcpu", native::MAX_CPUS)
        .filter(|c| *c > 0)
        .map(|c| c as u32);
    Some(Host {
        name: name.into(),
        cluster: None,
        state,
        memory_mb,
        cpus,
        implied: false,
    })
}
