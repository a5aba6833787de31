//! SCVMM hosts: `Get-SCVMHost | Select-Object Name, HostCluster, OverallState, TotalMemory,
//! LogicalProcessorCount, ...`, and the `hosts` and `clusters[].Nodes` lists of a combined
//! inventory object.
//!
//! `TotalMemory` is in bytes. The host state is read from the strings VMM gives
//! (`OverallState(String)`, `CommunicationStateString`, `ClusterNodeStatus`); of the
//! `OverallState` numbers only 0 (OK) is known for sure.

use super::read::{Ctx, Row, bytes_to_mib, text};
use super::record::{Record, is_type_name, records};
use crate::diag::Code;
use crate::model::{Host, HostState};
use serde_json::Value;
use std::collections::BTreeMap;

const NAME_HELP: &str = "select Name in the export: Get-SCVMHost | Select-Object Name, HostCluster, OverallState, CommunicationStateString, TotalMemory, LogicalProcessorCount";
/// 64 TiB in bytes: more than any host has.
const MAX_MEMORY_BYTES: u64 = 64 << 40;

/// Reads host records and, from the combined format, the cluster list that names each node's
/// cluster. A host listed in both places is one host; the `hosts` entry comes first.
pub fn hosts(ctx: &mut Ctx, recs: &[Record], clusters: &[Record]) -> Vec<Host> {
    let mut cluster_of: BTreeMap<String, String> = BTreeMap::new();
    let mut nodes: Vec<(Record, Option<String>)> = Vec::new();
    for c in clusters {
        let name = ["ClusterName", "Name"]
            .iter()
            .find_map(|k| c.cell(k).and_then(|v| text(&v.value)));
        let Some(list) = c.get("Nodes") else { continue };
        let path = format!("{}.Nodes", c.path);
        match records(ctx.file, list, &path) {
            Ok(rs) => nodes.extend(rs.into_iter().map(|r| (r, name.clone()))),
            Err(d) => ctx.errors.extend(d),
        }
    }
    for (node, cluster) in &nodes {
        if let (Some(n), Some(c)) = (node.cell("Name"), cluster)
            && let Some(n) = text(&n.value)
        {
            cluster_of.insert(n.to_ascii_lowercase(), c.clone());
        }
    }
    let mut out: Vec<Host> = Vec::new();
    let listed = recs
        .iter()
        .map(|r| (r, None))
        .chain(nodes.iter().map(|(r, c)| (r, c.clone())));
    for (rec, cluster) in listed {
        let Some(mut h) = host(ctx, rec) else {
            continue;
        };
        if let Some(c) = cluster.or_else(|| {
            cluster_of
                .get(&h.name.as_str().to_ascii_lowercase())
                .cloned()
        }) {
            h.cluster = Some(c.into());
        }
        match out
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(&h.name))
        {
            Some(prev) => {
                prev.cluster = prev.cluster.take().or(h.cluster);
                prev.memory_mb = prev.memory_mb.or(h.memory_mb);
                prev.cpus = prev.cpus.or(h.cpus);
            }
            None => out.push(h),
        }
    }
    out
}

fn host(ctx: &mut Ctx, rec: &Record) -> Option<Host> {
    let name = ctx.name(rec, &["Name", "ComputerName"], NAME_HELP)?;
    let cluster = cluster(ctx, rec);
    // 0 is what VMM reports for a host it cannot reach: capacity unknown, not empty.
    let memory_mb = ctx
        .count(rec, "TotalMemory", MAX_MEMORY_BYTES)
        .filter(|b| *b > 0)
        .map(bytes_to_mib);
    let cpus = ctx
        .count(rec, "LogicalProcessorCount", super::native::MAX_CPUS)
        .filter(|c| *c > 0)
        .map(|c| c as u32);
    let state = state(ctx, rec);
    Some(Host {
        name: name.into(),
        cluster: cluster.map(Into::into),
        state,
        memory_mb,
        cpus,
        implied: false,
    })
}

/// `HostCluster` is the cluster's name, or the cluster object itself, or (cut off by
/// `-Depth`) its type name.
fn cluster(ctx: &mut Ctx, rec: &Record) -> Option<String> {
    let cell = rec.cell("HostCluster")?;
    match &cell.value {
        Value::String(s) if is_type_name(s) => {
            let d = ctx
                .diag(
                    Code::InventoryTruncated,
                    &rec.path_of("HostCluster"),
                    &format!("arrived as the type name {s} (ConvertTo-Json -Depth cut it off); the host's cluster is unknown"),
                    cell.span,
                )
                .with_help("select @{n='HostCluster';e={$_.HostCluster.Name}} in the export");
            ctx.warn(d);
            None
        }
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Object(o) => ["ClusterName", "Name"]
            .iter()
            .find_map(|k| o.get(*k).and_then(text)),
        _ => None,
    }
}

fn state(ctx: &mut Ctx, rec: &Record) -> HostState {
    let word = |key: &str| {
        rec.cell(key)
            .and_then(|c| text(&c.value))
            .map(|s| s.to_ascii_lowercase().replace([' ', '_'], ""))
    };
    let overall = word("OverallStateString").or_else(|| word("OverallState"));
    let comm = word("CommunicationStateString").or_else(|| word("CommunicationState"));
    let node = word("ClusterNodeStatus");
    if overall
        .as_deref()
        .is_some_and(|s| s.contains("maintenance"))
    {
        return HostState::Maintenance;
    }
    let unreachable = |s: &Option<String>| {
        s.as_deref().is_some_and(|s| {
            s.contains("notresponding") || s == "down" || s.contains("accessdenied")
        })
    };
    if unreachable(&overall) || unreachable(&comm) || node.as_deref() == Some("down") {
        return HostState::Down;
    }
    if node.as_deref() == Some("paused") {
        return HostState::Paused;
    }
    let known_word = |s: &Option<String>| s.as_deref().is_some_and(|s| s.parse::<i64>().is_err());
    // A number other than 0 (OK) that nothing else explains: say so, read as up.
    if let Some(o) = &overall
        && o != "0"
        && !known_word(&overall)
        && !known_word(&comm)
        && let Some(cell) = rec.cell("OverallState")
    {
        let d = ctx
            .diag(
                Code::InventoryUnknownState,
                &rec.path_of("OverallState"),
                &format!("OverallState {o} is not a state preflight knows; read as up"),
                cell.span,
            )
            .with_help(
                "select OverallStateString or CommunicationStateString too, or use -EnumsAsStrings",
            );
        ctx.warn(d);
    }
    HostState::Up
}
