//! SCVMM hosts: `Get-SCVMHost | Select-Object Name, HostCluster, OverallState, TotalMemory,
//! LogicalProcessorCount, ...`, and the `hosts` and `clusters[].Nodes` lists of a combined
//! inventory object.
//!
//! `TotalMemory` is in bytes. The host state is read from `OverallState` (a number from
//! Windows PowerShell 5.1: 0 OK, 9 MaintenanceMode; a name with `-EnumsAsStrings`),
//! `OverallStateString`, `CommunicationStateString` and `ClusterNodeStatus`. A state value
//! not known reads as down, with a warning: a host whose state is not known offers no room.

use super::merge::{HOST_CONFLICT_HELP, absorb, contradiction, same_name};
use super::read::{Ctx, Row, bytes_to_mib, text};
use super::record::{Record, is_type_name, records};
use crate::diag::Code;
use crate::model::{Host, HostState};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

const NAME_HELP: &str = "select Name in the export: Get-SCVMHost | Select-Object Name, HostCluster, OverallState, CommunicationStateString, TotalMemory, LogicalProcessorCount";
/// 64 TiB in bytes: more than any host has.
const MAX_MEMORY_BYTES: u64 = 64 << 40;

/// Reads host records and, from the combined format, the cluster list that names each node's
/// cluster. A host listed twice (in both places, or twice in one) is one host when the
/// listings agree; listings that contradict each other are an error at the second one.
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
    let mut seen: HashMap<String, usize> = HashMap::new();
    let listed = recs
        .iter()
        .map(|r| (r, None))
        .chain(nodes.iter().map(|(r, c)| (r, c.clone())));
    for (rec, cluster) in listed {
        let Some(mut h) = host(ctx, rec) else {
            continue;
        };
        let listed_in = cluster.or_else(|| {
            cluster_of
                .get(&h.name.as_str().to_ascii_lowercase())
                .cloned()
        });
        match (&h.cluster, listed_in) {
            // The cluster list's spelling, whatever the host's own (`CL01` and
            // `CL01.contoso.local` are one cluster), so that its nodes agree.
            (None, Some(c)) => h.cluster = Some(c.into()),
            (Some(own), Some(c)) if same_name(own, &c) => h.cluster = Some(c.into()),
            // The host's own HostCluster and the cluster list that names it disagree.
            (Some(own), Some(c)) => {
                let span = rec.cell("HostCluster").map_or(rec.head(), |c| c.span);
                let d = ctx
                    .diag(
                        Code::InventoryHostConflict,
                        &rec.path_of("HostCluster"),
                        &format!(
                            "host `{}` says cluster {own}, but cluster {c} lists it as a node",
                            h.name
                        ),
                        span,
                    )
                    .with_help(HOST_CONFLICT_HELP);
                ctx.error(d);
                continue;
            }
            _ => {}
        }
        let key = h.name.as_str().to_ascii_lowercase();
        match seen.get(&key) {
            Some(&i) => match contradiction(&out[i], &h) {
                Some(what) => {
                    let d = ctx
                        .diag(
                            Code::InventoryHostConflict,
                            &Row::path(rec),
                            &format!("host `{}` is listed again with other facts: {what}", h.name),
                            rec.head(),
                        )
                        .with_help(HOST_CONFLICT_HELP);
                    ctx.error(d);
                }
                None => absorb(&mut out[i], h),
            },
            None => {
                seen.insert(key, out.len());
                out.push(h);
            }
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
    let facts = super::facts_read::host(ctx, rec);
    Some(Host {
        name: name.into(),
        cluster: cluster.map(Into::into),
        state,
        memory_mb,
        cpus,
        implied: false,
        facts,
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

/// `OverallState` by number, as Windows PowerShell 5.1 writes the enum: 0 is OK and 9 is
/// MaintenanceMode; the other numbers are not pinned down, so they are not trusted.
fn overall_number(n: i64) -> Option<HostState> {
    match n {
        0 => Some(HostState::Up),
        9 => Some(HostState::Maintenance),
        _ => None,
    }
}

/// `OverallState` by name (`-EnumsAsStrings`, `OverallStateString`), squashed to lower case
/// without spaces: the names that say the host is usable, in maintenance or unreachable.
fn overall_name(s: &str) -> Option<HostState> {
    if s.contains("maintenance") {
        return Some(HostState::Maintenance);
    }
    match s {
        "ok" => Some(HostState::Up),
        "notresponding" | "hostnotresponding" | "accessdenied" | "down" | "unreachable" => {
            Some(HostState::Down)
        }
        _ => None,
    }
}

/// The host's state from `OverallState(String)`, `CommunicationState(String)` and
/// `ClusterNodeStatus`. A state value preflight does not know reads as `down` with a warning:
/// a host whose state is not known offers no room to the drain.
fn state(ctx: &mut Ctx, rec: &Record) -> HostState {
    let word = |key: &str| {
        rec.cell(key)
            .and_then(|c| text(&c.value))
            .map(|s| s.to_ascii_lowercase().replace([' ', '_', '-'], ""))
    };
    // Every spelling of the overall state the record has, each read on its own.
    let overall: Vec<(&str, String, Option<HostState>)> = ["OverallStateString", "OverallState"]
        .into_iter()
        .filter_map(|key| {
            let w = word(key)?;
            let reading = match w.parse::<i64>() {
                Ok(n) => overall_number(n),
                Err(_) => overall_name(&w),
            };
            Some((key, w, reading))
        })
        .collect();
    let comm = word("CommunicationStateString").or_else(|| word("CommunicationState"));
    // The cluster node's state, by name (Up, Down, Paused, Joining). Its numbers are VMM's
    // own and not documented (real captures show 3 on healthy nodes), so a number says
    // nothing here and the other properties decide. A name not known offers no room.
    let node = word("ClusterNodeStatus")
        .filter(|w| w.parse::<i64>().is_err())
        .map(|w| match w.as_str() {
            "joining" | "unknown" => "down".to_string(),
            _ => w,
        });
    if let Some(other) = node
        .as_deref()
        .filter(|n| !matches!(*n, "up" | "down" | "paused"))
        && let Some(cell) = rec.cell("ClusterNodeStatus")
    {
        let d = ctx
            .diag(
                Code::InventoryUnknownState,
                &rec.path_of("ClusterNodeStatus"),
                &format!(
                    "{other} is not a cluster node state preflight knows; read as down, so the host offers no room to the drain"
                ),
                cell.span,
            )
            .with_help("ClusterNodeStatus is read as Up, Down, Paused or Joining");
        ctx.warn(d);
        return HostState::Down;
    }
    if overall
        .iter()
        .any(|(_, _, r)| *r == Some(HostState::Maintenance))
    {
        return HostState::Maintenance;
    }
    let unreachable = |s: &Option<String>| {
        s.as_deref().is_some_and(|s| {
            s.contains("notresponding") || s == "down" || s.contains("accessdenied")
        })
    };
    if overall.iter().any(|(_, _, r)| *r == Some(HostState::Down))
        || unreachable(&comm)
        || node.as_deref() == Some("down")
    {
        return HostState::Down;
    }
    if node.as_deref() == Some("paused") {
        return HostState::Paused;
    }
    // Known to be OK by one spelling: the other spelling cannot say more.
    if overall.is_empty() || overall.iter().any(|(_, _, r)| r.is_some()) {
        return HostState::Up;
    }
    for (key, _, _) in &overall {
        let Some(cell) = rec.cell(key) else { continue };
        let raw = text(&cell.value).unwrap_or_default();
        let d = ctx
            .diag(
                Code::InventoryUnknownState,
                &rec.path_of(key),
                &format!(
                    "{raw} is not a host state preflight knows; read as down, so the host offers no room to the drain"
                ),
                cell.span,
            )
            .with_help(
                "OverallState is known as 0 (OK) and 9 (MaintenanceMode); select OverallStateString too, or use ConvertTo-Json -EnumsAsStrings (PowerShell 7)",
            );
        ctx.warn(d);
    }
    HostState::Down
}
