//! Proxmox VE: `pvesh get /cluster/resources [--type vm] --output-format json` (or the REST
//! API's `{"data": [...]}` around the same list), alone or as the `resources` of the combined
//! document `examples/collect/proxmox.sh --export` writes, whose guest configs, storages, HA
//! rules and groups and node details give the migration facts (see `proxmox_facts`).
//!
//! Entries of type `qemu` and `lxc` are guests; `node` entries are hosts; storage, sdn, pool and
//! network entries are ignored. A guest is HA-protected when it has a `hastate` other than
//! `error`, `disabled` or `ignored` (the HA manager moves none of those three; the value is kept
//! as evidence either way); without `hastate` it is not HA-managed. Templates (`template: 1`)
//! are read as VMs with `template = true`, stopped. `maxmem` is in bytes. The cluster's name is
//! not in the export.
//!
//! Other endpoints answer with lists that look alike (`/cluster/ha/status/current`,
//! `/cluster/ha/resources`, `/cluster/status`, `/nodes/{node}/qemu`, `/pools/{pool}`); read as
//! resources they would hide guests or invent HA, so each is an error naming what the file
//! seems to be.

use super::merge::repeated_vms;
use super::read::{Ctx, Row, bytes_to_mib, text};
use super::record::{self, Field, Record};
use super::states::{Reading, proxmox_status};
use super::{Format, Parsed, native, proxmox_facts};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::model::{Gap, Host, HostState, Inventory, Platform, Vm, VmState};
use serde_json::Value;
use std::collections::BTreeMap;

const HELP: &str = "export with: pvesh get /cluster/resources --output-format json";
const MAX_MEMORY_BYTES: u64 = native::MAX_MEMORY_MB << 20;

pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    let mut top = record::parse_top(file)?;
    let mut path = "";
    // The collector's combined document: `resources` with the configs and HA setup around it.
    let mut combined = None;
    if top.raw.get().starts_with('{')
        && let Ok(r) = record::record(file, top, String::new())
    {
        if let Some(data) = r.get("data") {
            top = data;
            path = "data";
        } else if let Some(resources) = r.get("resources")
            && (r.has(proxmox_facts::MARK) || r.has("configs"))
        {
            top = resources;
            path = "resources";
            combined = Some(r);
        }
    }
    if path.is_empty()
        && let Some(d) = other_document(file, top)
    {
        return Err(d.into());
    }
    let recs = record::records(file, top, path)?;
    let any_node = recs.iter().any(|r| r.has("node"));
    if let Some(d) = recs.iter().find_map(|r| other_endpoint(file, r, any_node)) {
        return Err(d.into());
    }
    let mut ctx = Ctx::new(file);
    let mut inv = Inventory {
        platform: Some(Platform::Proxmox),
        ..Inventory::default()
    };
    // Where each guest's entry starts, to locate a guest listed twice.
    let mut heads = Vec::new();
    for rec in &recs {
        let kind = rec.cell("type").and_then(|c| text(&c.value));
        match kind.as_deref() {
            Some("qemu" | "lxc") => {
                if let Some(v) = guest(&mut ctx, rec) {
                    inv.vms.push(v);
                    heads.push(rec.head());
                }
            }
            Some("node") => inv.hosts.extend(node(&mut ctx, rec)),
            Some(_) => {}
            None => {
                let d = ctx
                    .diag(
                        Code::InventoryField,
                        &Row::path(rec),
                        "missing `type`",
                        rec.head(),
                    )
                    .with_help(HELP);
                ctx.error(d);
            }
        }
    }
    ctx.errors.extend(repeated_vms(file, &inv.vms, &heads));
    if let Some(root) = &combined {
        proxmox_facts::fill(&mut ctx, file, root, &recs, &mut inv.vms, &mut inv.hosts);
        inv.collected_at = root
            .get("collected_at")
            .and_then(|f| f.value().as_str().and_then(|s| s.parse().ok()));
        // /cluster/status's name; a standalone node has none.
        if let Some(cluster) = root.get("cluster").and_then(|f| text(&f.value())) {
            for h in &mut inv.hosts {
                h.cluster = Some(cluster.as_str().into());
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

/// The `hastate` values of guests the HA manager will not move: `error` (it needs an admin),
/// `disabled` (kept stopped, not relocated) and `ignored` (HA hands it off).
const HA_NOT_MOVED: [&str; 3] = ["error", "disabled", "ignored"];

/// What a list whose entries carry `sid`, `type: service` and the like came from.
const HA_STATUS: &str = "the HA manager's status (/cluster/ha/status/current)";

/// A top-level object that is not `{"data": [...]}` nor a single resource entry.
fn other_document(file: &SourceFile, top: Field<'_>) -> Option<SourceDiag> {
    if !top.raw.get().starts_with('{') {
        return None;
    }
    let root = record::record(file, top, String::new()).ok()?;
    let what = if root.has("members") {
        "the members of one pool (/pools/{pool}), not every guest of the cluster"
    } else if root.has("cluster/resources") {
        "API responses keyed by path; take its \"cluster/resources\" list alone"
    } else {
        return None;
    };
    Some(wrong(file, "the file", what, root.head()))
}

/// The entry that shows the list came from another endpoint than /cluster/resources.
fn other_endpoint(file: &SourceFile, rec: &Record, any_node: bool) -> Option<SourceDiag> {
    let kind = rec.cell("type").and_then(|c| text(&c.value));
    let what = match kind.as_deref() {
        Some("service" | "lrm" | "quorum" | "master" | "fencing") => HA_STATUS,
        Some("vm" | "ct") if rec.has("sid") => "the HA resources list (/cluster/ha/resources)",
        Some("cluster") => "the cluster's status (/cluster/status)",
        // /cluster/resources gives every guest its node; one node's own lists give none.
        Some("qemu" | "lxc") | None if rec.has("vmid") && !any_node => {
            "one node's guest list (/nodes/{node}/qemu or /nodes/{node}/lxc), which does not say the node"
        }
        _ => return None,
    };
    Some(wrong(file, &Row::path(rec), what, rec.head()))
}

fn wrong(file: &SourceFile, at: &str, what: &str, span: std::ops::Range<usize>) -> SourceDiag {
    SourceDiag::at(
        Code::InventoryFormat,
        format!(
            "{}: {at}: this looks like {what}; preflight reads the cluster's resources list",
            file.name
        ),
        file,
        span,
        "this entry",
    )
    .with_help(HELP)
}

fn guest(ctx: &mut Ctx, rec: &Record) -> Option<Vm> {
    let template = rec.cell("template").is_some_and(|c| {
        matches!(c.value, Value::Bool(true)) || text(&c.value).as_deref() == Some("1")
    });
    let vmid = vmid(ctx, rec);
    let host = ctx.name(rec, &["node"], HELP);
    let mut evidence = BTreeMap::new();
    let state = state(ctx, rec, &mut evidence);
    // A template never runs: whatever pvestatd says, it is stopped.
    let state = if template { VmState::Off } else { state };
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
    let vmid = vmid?;
    // `name` comes from the status data and is missing when a node has not reported.
    let name = ctx.text(rec, "name").filter(|n| !n.trim().is_empty());
    Some(Vm {
        name: name.unwrap_or_else(|| vmid.clone()).into(),
        id: Some(vmid.into()),
        host: host?.into(),
        state,
        ha: Some(
            hastate
                .as_deref()
                .is_some_and(|h| !HA_NOT_MOVED.contains(&h)),
        ),
        memory_mb,
        vcpus,
        tags,
        template,
        evidence,
        facts: None,
    })
}

/// `vmid`, or (where an API client dropped it) the number in `id` (`qemu/100`).
fn vmid(ctx: &mut Ctx, rec: &Record) -> Option<String> {
    if Row::cell(rec, "vmid").is_some() {
        return ctx
            .count(rec, "vmid", u64::from(u32::MAX))
            .map(|n| n.to_string());
    }
    let from_id = ctx.text(rec, "id").and_then(|id| {
        let (kind, n) = id.split_once('/')?;
        let n = n.parse::<u32>().ok()?;
        matches!(kind, "qemu" | "lxc").then(|| n.to_string())
    });
    if from_id.is_none() {
        ctx.name(rec, &["vmid"], HELP);
    }
    from_id
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
    // Only an online node the HA stack knows offers room; any other or unknown state, none.
    let state = match (hastate.as_deref(), status.as_deref()) {
        (Some("maintenance"), _) => HostState::Maintenance,
        (None | Some("online"), Some("online")) => HostState::Up,
        (
            None | Some("online" | "unknown" | "fence" | "gone"),
            Some("online" | "offline" | "unknown"),
        ) => HostState::Down,
        (hastate, status) => {
            let (key, raw) = match (hastate, status) {
                (Some(h), _) if !matches!(h, "online" | "unknown" | "fence" | "gone") => {
                    ("hastate", h)
                }
                (_, Some(s)) => ("status", s),
                _ => ("status", "missing"),
            };
            let span = Row::cell(rec, key).map_or(rec.head(), |c| c.span);
            let d = ctx.diag(
                Code::InventoryUnknownState,
                &rec.path_of(key),
                &format!("{raw} is not a node state preflight knows; read as down, so the node offers no room to the drain"),
                span,
            ).with_help(HELP);
            ctx.warn(d);
            HostState::Down
        }
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
        facts: Default::default(),
    })
}
