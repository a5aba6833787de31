//! `capacity` rules: simulate the drain and check that the rest of each cluster absorbs it.
//!
//! The drain moves the running HA VMs of the target hosts onto the other hosts
//! of the same cluster that are up, largest VM first, each to the host with the most room
//! above the rule's floor (the room the planner places in: [`crate::plan::room_above_floor`];
//! the planner keeps room for exactly these moves, so the verdict and its plan agree). A VM
//! whose HA flag or power state is unknown is counted as moving (and as load on its host):
//! that errs toward less room. A VM its facts tie to its host ([`crate::platform::stall`])
//! does not move: it stays, and one tied by a local disk is a finding (the drain stalls on it;
//! media and devices are the vm rules'). A VM that fits nowhere stays on its host, in the loads
//! as in the findings; a drain that moves nothing asks nothing of the other hosts.

use super::finding::Finding;
use super::index::InventoryIndex;
use crate::model::{Host, HostState, Vm, VmState};
use crate::placement::constraints::Exclusion;
use crate::policy::Rule;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// One host's memory load before and after the simulated drain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostLoad {
    pub host: String,
    pub cluster: Option<String>,
    pub state: HostState,
    pub target: bool,
    /// The host's memory in MiB, if known.
    pub memory_mb: Option<u64>,
    /// Memory of its active VMs before the drain, and after it.
    pub before_mb: u64,
    pub after_mb: u64,
    pub vms_before: usize,
    pub vms_after: usize,
}

impl HostLoad {
    /// Used memory as a percentage of the host's memory.
    pub fn pct(&self, used_mb: u64) -> Option<f64> {
        self.memory_mb
            .filter(|m| *m > 0)
            .map(|m| used_mb as f64 * 100.0 / m as f64)
    }
}

/// Where each VM of a placement went: the index into `hosts`, or `None` when it fit nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub destination: Vec<Option<usize>>,
    /// Whether every VM was placed, or else whether a placement was proven not to exist.
    pub search: crate::placement::Search,
}

/// Places VMs (memory in MiB) on hosts with `room` MiB each: largest first onto the host with
/// the most room (ties: lower index) where that places them all, else the further stages of
/// [`crate::placement::solve`], so that a VM reported as fitting nowhere really does (or was
/// not placed within the search budget, as `search` says). `room` is updated in place.
pub fn place_largest_first(vm_memory: &[u64], room: &mut [i64]) -> Placement {
    let solution = crate::placement::solve_sizes(vm_memory, crate::placement::DEFAULT_BUDGET, room);
    Placement {
        destination: solution.destination,
        search: solution.search,
    }
}

/// Whether the drain moves this VM, as the capacity rule counts it. A VM whose power state is
/// unknown may be running: it counts as one that must be placed (erring toward less room).
/// A template never runs, whatever state an export gives it.
/// A VM whose facts tie it to its host ([`crate::platform::stall`]) does not move: it stays,
/// and the drain stalls on it.
fn moves(vm: &Vm) -> bool {
    would_move(vm) && crate::platform::stall(vm).is_none()
}

/// Whether the drain would move this VM if nothing tied it to its host.
fn would_move(vm: &Vm) -> bool {
    !vm.template && matches!(vm.state, VmState::Running | VmState::Unknown) && vm.ha != Some(false)
}

/// Whether the VM's memory counts as load on its host: an unknown power state may be running;
/// a template never does.
pub fn loads_host(vm: &Vm) -> bool {
    !vm.template && (vm.state.is_active() || vm.state == VmState::Unknown)
}

/// What the earlier steps of a roll left on the hosts, for one step's drain: hosts that take
/// nothing (retired by another step of a decommission), and where the VMs they moved now run.
/// Empty for a drain of all targets at once, and between the steps of a patch, after which
/// every VM is back.
#[derive(Debug, Clone, Default)]
pub struct Earlier<'a> {
    /// Host positions that take no VM although they are not drained in this step.
    pub closed: Vec<usize>,
    /// VMs earlier steps moved (canonical positions) with the host position they run on now.
    pub moved: Vec<(usize, &'a Vm, usize)>,
}

impl Earlier<'_> {
    fn added_on(&self, pos: usize) -> (u64, usize) {
        self.moved
            .iter()
            .filter(|(_, _, h)| *h == pos)
            .fold((0, 0), |(mb, n), (_, vm, _)| {
                (mb + vm.memory_mb.unwrap_or(0), n + 1)
            })
    }
}

/// The drain of one cluster as the capacity rule simulates it, for the planner to reserve the
/// same room (so that the verdict and the plan never disagree).
#[derive(Debug, Clone)]
pub struct DrainPlacement {
    pub cluster: Option<String>,
    /// VMs the drain moves (canonical positions), with the host position each lands on (`None`:
    /// it fits nowhere above the floor and stays).
    pub moves: Vec<(usize, Option<usize>)>,
}

/// The capacity rule's drain of the index's targets with `floor_pct` % of each receiver kept
/// free, cluster by cluster (in name order).
pub fn drain_placement(
    index: &InventoryIndex<'_>,
    floor_pct: f64,
    earlier: &Earlier<'_>,
) -> Vec<DrainPlacement> {
    simulate(index, floor_pct, earlier)
        .into_iter()
        .map(|sim| DrainPlacement {
            cluster: sim.cluster.clone(),
            moves: sim
                .positions
                .iter()
                .zip(&sim.destination)
                .map(|(&i, d)| (i, d.map(|d| sim.hosts[sim.receivers[d]])))
                .collect(),
        })
        .collect()
}

/// Each receiver with why it cannot take a VM, and how far the search got.
type WhyNot = (Vec<(String, String)>, &'static str);

struct ClusterSim<'a> {
    cluster: Option<String>,
    targets: Vec<usize>,
    /// Positions of every host of the cluster, the targets included.
    hosts: Vec<usize>,
    loads: Vec<HostLoad>,
    /// Positions in `loads` of the hosts that can take VMs.
    receivers: Vec<usize>,
    moving: Vec<&'a Vm>,
    /// The canonical position of each moving VM.
    positions: Vec<usize>,
    /// VMs the drain would move but whose disks tie them to their host: they stay, and the
    /// host's maintenance stalls on them (media and devices are the vm rules' to report).
    stalled: Vec<&'a Vm>,
    /// The host each moving VM leaves.
    from: Vec<&'a Host>,
    destination: Vec<Option<usize>>,
    /// The placement's account of a VM that fits nowhere: each receiver with why it was
    /// excluded, and how far the search got.
    why_not: Vec<Option<WhyNot>>,
    unknown_hosts: Vec<String>,
    unknown_vms: usize,
}

/// Simulates the drain, each VM placed where it leaves `floor_pct` % of the receiver free
/// (the planner's room, [`crate::plan::room_above_floor`]).
fn simulate<'a>(
    index: &InventoryIndex<'a>,
    floor_pct: f64,
    earlier: &Earlier<'a>,
) -> Vec<ClusterSim<'a>> {
    let by_cluster = index.by_cluster(index.targets());
    let mut out = Vec::new();
    for (cluster, targets) in by_cluster {
        let mut sim = ClusterSim {
            cluster,
            targets: targets.clone(),
            hosts: Vec::new(),
            loads: Vec::new(),
            receivers: Vec::new(),
            moving: Vec::new(),
            positions: Vec::new(),
            stalled: Vec::new(),
            from: Vec::new(),
            destination: Vec::new(),
            why_not: Vec::new(),
            unknown_hosts: Vec::new(),
            unknown_vms: 0,
        };
        for pos in index.cluster_peers(targets[0]) {
            sim.hosts.push(pos);
            let host = index.host(pos);
            let target = index.is_target(pos);
            let (mut used, mut count) = earlier.added_on(pos);
            for &i in index.vm_positions_on(pos) {
                let vm = index.vm(i);
                if !earlier.moved.is_empty() && earlier.moved.iter().any(|(j, ..)| *j == i) {
                    // An earlier step of the roll moved it: it runs where that step put it.
                    continue;
                }
                if target && moves(vm) {
                    sim.moving.push(vm);
                    sim.positions.push(i);
                    sim.from.push(host);
                } else if target
                    && would_move(vm)
                    && crate::platform::stall(vm) == Some(crate::platform::Tie::LocalDisk)
                {
                    sim.stalled.push(vm);
                }
                if loads_host(vm) {
                    used += vm.memory_mb.unwrap_or(0);
                    count += 1;
                    if vm.memory_mb.is_none() {
                        sim.unknown_vms += 1;
                    }
                }
            }
            if !target && host.state == HostState::Up && !earlier.closed.contains(&pos) {
                if host.memory_mb.is_none() {
                    sim.unknown_hosts.push(host.name.to_string());
                }
                sim.receivers.push(sim.loads.len());
            }
            sim.loads.push(HostLoad {
                host: host.name.to_string(),
                cluster: host.cluster.as_deref().map(str::to_string),
                state: host.state,
                target,
                memory_mb: host.memory_mb,
                before_mb: used,
                after_mb: used,
                vms_before: count,
                vms_after: count,
            });
        }
        let mut room: Vec<i64> = sim
            .receivers
            .iter()
            .map(|&r| {
                crate::plan::room_above_floor(
                    sim.loads[r].memory_mb,
                    sim.loads[r].before_mb,
                    floor_pct,
                )
            })
            .collect();
        let receiver_hosts: Vec<&Host> = sim
            .receivers
            .iter()
            .map(|&r| index.host(sim.hosts[r]))
            .collect();
        let moving: Vec<(&Vm, Option<&Host>)> = sim
            .moving
            .iter()
            .zip(&sim.from)
            .map(|(vm, h)| (*vm, Some(*h)))
            .collect();
        let placement = crate::placement::constraints::place(
            &moving,
            &receiver_hosts,
            &mut room,
            || {
                sim.receivers
                    .iter()
                    .enumerate()
                    .flat_map(|(k, &r)| {
                        let pos = sim.hosts[r];
                        index
                            .vms_on(pos)
                            .filter(|vm| loads_host(vm))
                            .chain(
                                earlier
                                    .moved
                                    .iter()
                                    .filter(move |(_, _, h)| *h == pos)
                                    .map(|(_, vm, _)| *vm),
                            )
                            .map(move |vm| (vm, k))
                    })
                    .collect()
            },
            crate::placement::DEFAULT_BUDGET,
        );
        sim.why_not = placement
            .destination
            .iter()
            .enumerate()
            .map(|(i, d)| {
                (d.is_none() && placement.built.is_some()).then(|| {
                    let list = placement
                        .why_not(i, &moving, &receiver_hosts)
                        .into_iter()
                        .map(|(h, e)| (h.to_string(), reason(&e)))
                        .collect();
                    (list, placement.search_words())
                })
            })
            .collect();
        // A VM that fits nowhere stays where it is: the after column still counts it on its
        // drained host, so the VMs before and after add up.
        for (vm, dest) in sim.moving.iter().zip(&placement.destination) {
            let Some(d) = dest else { continue };
            let mem = vm.memory_mb.unwrap_or(0);
            if let Some(load) = sim
                .loads
                .iter_mut()
                .find(|l| l.host.eq_ignore_ascii_case(&vm.host))
            {
                load.after_mb -= mem;
                load.vms_after -= 1;
            }
            let l = &mut sim.loads[sim.receivers[*d]];
            l.after_mb += mem;
            l.vms_after += 1;
        }
        sim.destination = placement.destination;
        out.push(sim);
    }
    out
}

/// What one capacity rule's evaluation leaves besides its findings.
pub(super) struct Judged {
    /// The host loads for the report.
    pub loads: Vec<HostLoad>,
    /// Positions of the hosts the rule judged: every host of the affected clusters.
    pub hosts: Vec<u32>,
}

/// Evaluates one capacity rule.
pub(super) fn evaluate<'a>(
    rule: &Rule,
    min_free_pct: f64,
    index: &InventoryIndex<'a>,
    earlier: &Earlier<'a>,
    out: &mut Vec<Finding>,
) -> Judged {
    let sims = simulate(index, min_free_pct, earlier);
    let hosts = sims
        .iter()
        .flat_map(|s| s.hosts.iter().map(|&h| h as u32))
        .collect();
    for sim in &sims {
        let cluster_name = sim.cluster.clone().unwrap_or_default();
        // How messages name the group of hosts that share the drain.
        let scope = match &sim.cluster {
            Some(c) => format!("cluster {c}"),
            None => "the hosts (the inventory names no cluster)".to_string(),
        };
        let finding = |vm: Option<&str>,
                       host: &str,
                       detail: String,
                       evidence: BTreeMap<String, serde_json::Value>| {
            let mut values: BTreeMap<&str, String> = BTreeMap::new();
            values.insert("host", host.to_string());
            values.insert("vm", vm.unwrap_or_default().to_string());
            values.insert("cluster", cluster_name.clone());
            values.insert("rule", rule.id.clone());
            values.insert("title", rule.title.clone());
            values.insert("detail", detail);
            Finding {
                rule: rule.id.clone(),
                title: None,
                severity: rule.severity,
                vm: vm.map(String::from),
                vm_id: None,
                host: Some(host.to_string()),
                cluster: sim.cluster.clone(),
                message: rule.message.render(&values),
                remediation: rule.remediation.clone(),
                evidence,
                waived: false,
                waiver: None,
            }
        };
        for vm in &sim.stalled {
            let disks: Vec<&str> = vm
                .facts
                .as_deref()
                .and_then(|f| f.disks.as_deref())
                .unwrap_or_default()
                .iter()
                .filter(|d| d.is_shared() == Some(false))
                .map(|d| d.path.as_str())
                .collect();
            let detail = format!(
                "{} must leave {} but the drain cannot move it: {} on storage only {} reaches ({}), so it stays and the host's maintenance stalls on it",
                vm.name,
                vm.host,
                if disks.len() == 1 {
                    "a disk is"
                } else {
                    "disks are"
                },
                vm.host,
                disks.join(", ")
            );
            let mut ev = BTreeMap::new();
            ev.insert("stall".into(), json!("local-disk"));
            ev.insert("local_disks".into(), json!(disks));
            ev.insert("memory_mb".into(), json!(vm.memory_mb));
            let mut f = finding(Some(&vm.name), &vm.host, detail, ev);
            f.vm_id = vm.id.as_deref().map(String::from);
            out.push(f);
        }
        if sim.moving.is_empty() {
            // Nothing leaves the drained hosts: the rest of the cluster has nothing to absorb,
            // whatever its memory is (or whether it is known).
            continue;
        }
        if !sim.unknown_hosts.is_empty() || sim.moving.iter().any(|vm| vm.memory_mb.is_none()) {
            let vms_unknown = sim
                .moving
                .iter()
                .filter(|vm| vm.memory_mb.is_none())
                .count();
            for &t in &sim.targets {
                let host = &index.host(t).name;
                let mut why = Vec::new();
                if !sim.unknown_hosts.is_empty() {
                    why.push(format!(
                        "the memory of {} is unknown (export the hosts too)",
                        sim.unknown_hosts.join(", ")
                    ));
                }
                if vms_unknown > 0 {
                    why.push(format!(
                        "{vms_unknown} VM(s) that would move have no memory size"
                    ));
                }
                let mut ev = BTreeMap::new();
                ev.insert("capacity".into(), json!("unknown"));
                ev.insert("hosts_without_memory".into(), json!(sim.unknown_hosts));
                ev.insert("moving_vms_without_memory".into(), json!(vms_unknown));
                out.push(finding(
                    None,
                    host,
                    format!(
                        "cannot check whether the rest of {scope} absorbs the VMs of {host}: {}",
                        why.join("; ")
                    ),
                    ev,
                ));
            }
            continue;
        }
        for ((vm, dest), why_not) in sim.moving.iter().zip(&sim.destination).zip(&sim.why_not) {
            if dest.is_some() {
                continue;
            }
            let best = sim
                .receivers
                .iter()
                .map(|&r| &sim.loads[r])
                .max_by_key(|l| l.memory_mb.unwrap_or(0) as i64 - l.after_mb as i64);
            let detail = match best {
                Some(b) => format!(
                    "{} ({} MiB) must leave {} but fits on no other host of {scope}{} (most room: {} MiB free on {}, {} MiB of it above the {}% floor)",
                    vm.name,
                    vm.memory_mb.unwrap_or(0),
                    vm.host,
                    if min_free_pct > 0.0 {
                        format!(" while keeping its {}% floor free", trim(min_free_pct))
                    } else {
                        String::new()
                    },
                    b.memory_mb.unwrap_or(0) as i64 - b.after_mb as i64,
                    b.host,
                    crate::plan::room_above_floor(b.memory_mb, b.after_mb, min_free_pct).max(0),
                    trim(min_free_pct)
                ),
                None => format!(
                    "{} must leave {}, but no other host of {scope} is up",
                    vm.name, vm.host
                ),
            };
            let mut detail = detail;
            let mut ev = BTreeMap::new();
            if let Some((list, search)) = why_not
                && !list.is_empty()
            {
                let text: Vec<String> = list.iter().map(|(h, w)| format!("{h}: {w}")).collect();
                detail.push_str(&format!("; {}; {search}", text.join("; ")));
                ev.insert(
                    "candidates".into(),
                    json!(
                        list.iter()
                            .map(|(h, w)| json!({"host": h, "reason": w}))
                            .collect::<Vec<_>>()
                    ),
                );
                ev.insert("search".into(), json!(search));
            }
            ev.insert("memory_mb".into(), json!(vm.memory_mb));
            ev.insert("receivers".into(), json!(sim.receivers.len()));
            let mut f = finding(Some(&vm.name), &vm.host, detail, ev);
            f.vm_id = vm.id.as_deref().map(String::from);
            out.push(f);
        }
        for &r in &sim.receivers {
            let l = &sim.loads[r];
            let (Some(mem), Some(used_pct)) = (l.memory_mb, l.pct(l.after_mb)) else {
                continue;
            };
            let free_pct = 100.0 - used_pct;
            if free_pct < min_free_pct {
                let detail = format!(
                    "after the drain {} would use {} of {mem} MiB, {:.1}% free, below the {}% floor",
                    l.host,
                    l.after_mb,
                    free_pct,
                    trim(min_free_pct)
                );
                let mut ev = BTreeMap::new();
                ev.insert("memory_mb".into(), json!(mem));
                ev.insert("used_before_mb".into(), json!(l.before_mb));
                ev.insert("used_after_mb".into(), json!(l.after_mb));
                ev.insert("free_after_pct".into(), json!(round1(free_pct)));
                ev.insert("min_free_memory_pct".into(), json!(min_free_pct));
                out.push(finding(None, &l.host, detail, ev));
            }
        }
    }
    Judged {
        loads: sims.into_iter().flat_map(|s| s.loads).collect(),
        hosts,
    }
}

/// The host loads when no capacity rule ran (the report shows them all the same).
pub(super) fn loads_without_rule<'a>(
    index: &InventoryIndex<'a>,
    earlier: &Earlier<'a>,
) -> Vec<HostLoad> {
    simulate(index, 0.0, earlier)
        .into_iter()
        .flat_map(|s| s.loads)
        .collect()
}

/// Why a receiver cannot take a VM, in the capacity finding's words (its room is the memory
/// above the floor, as the planner's).
fn reason(e: &Exclusion) -> String {
    match e {
        Exclusion::NoRoom { room } => format!("{} MiB above the floor", room.max(&0)),
        other => other.to_string(),
    }
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn trim(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_first_to_the_roomiest_host() {
        let mut room = vec![10_000, 6_000];
        let p = place_largest_first(&[4_000, 8_000, 3_000], &mut room);
        // 8000 -> host 0 (2000 left); 4000 -> host 1 (2000 left); 3000 fits nowhere.
        assert_eq!(p.destination, vec![Some(1), Some(0), None]);
        assert_eq!(room, vec![2_000, 2_000]);
    }

    #[test]
    fn ties_go_to_the_first_host() {
        let mut room = vec![5, 5];
        assert_eq!(
            place_largest_first(&[1], &mut room).destination,
            vec![Some(0)]
        );
    }

    #[test]
    fn nothing_to_place_on() {
        assert_eq!(place_largest_first(&[1], &mut []).destination, vec![None]);
    }
}
