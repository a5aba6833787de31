//! Choosing destinations: where each VM the policy wants moved goes, group by group.
//!
//! A group is the hosts drained together: every target at once, or one host at a time with
//! `--rolling`. For each group and cluster, the VMs the drain moves are placed first, exactly
//! as the capacity rule's simulation places them ([`crate::engine::drain_placement`], room
//! above the capacity floor): the plan keeps their room (the platform picks their hosts), so
//! the verdict never disagrees with its plan. The VMs the plan moves then go, largest first,
//! into the room left above the floor, under the VMs' constraints. A target host never
//! receives. Between rolling groups in patch mode the cluster is back as it was (the post
//! steps and the platform return every VM); in decommission mode what moved stays where it
//! went, later groups see it there (its memory, its anti-affinity groups), and no target host
//! ever receives.

use super::place::{floor_pct, room_above_floor};
use crate::engine::{Earlier, Finding, InventoryIndex, Request, drain_placement, loads_host};
use crate::model::{Host, HostState, Vm};
use crate::platform::profile;
use crate::policy::{Mode, PolicySet, Rule};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// What the policy asks for one VM: rule ids per action (notify keeps the finding's message).
#[derive(Debug, Clone, Default)]
pub(super) struct Asks {
    pub migrate: BTreeSet<String>,
    pub shutdown: BTreeSet<String>,
    pub notify: BTreeMap<String, String>,
}

/// One group's outcome: host positions, destination per moved VM, VMs the drain moves.
#[derive(Debug, Clone, Default)]
pub(super) struct Group {
    pub hosts: Vec<usize>,
    /// VM position in the inventory → destination host position.
    pub moved: BTreeMap<usize, usize>,
    pub drained: Vec<usize>,
    /// Where the capacity rule's drain puts each VM it moves (`None`: it fits nowhere), the
    /// room the plan keeps for them.
    pub reserved: BTreeMap<usize, Option<usize>>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Scheduled {
    pub groups: Vec<Group>,
    /// VMs the policy wants moved that no host can take.
    pub findings: Vec<Finding>,
}

pub(super) fn schedule(
    policy: &PolicySet,
    index: &InventoryIndex<'_>,
    request: &Request,
    groups: &[Vec<usize>],
    asks: &BTreeMap<usize, Asks>,
) -> Scheduled {
    let inventory = index.inventory;
    let profile = profile(request.platform);
    let floor = floor_pct(policy, request.mode);
    let decommission = request.mode == Mode::Decommission;
    let all_targets: BTreeSet<usize> = groups.iter().flatten().copied().collect();
    // The memory on each host, counted as the capacity rule counts it (an unknown power state
    // may be running; a template never runs).
    let mut baseline_used = vec![0u64; inventory.hosts.len()];
    for (i, vm) in index.each_vm() {
        if let (Some(h), true) = (index.host_of_vm(i), loads_host(vm)) {
            baseline_used[h] += vm.memory_mb.unwrap_or(0);
        }
    }
    // What earlier groups left where it went: nothing in a patch (every VM comes back before
    // the next group), everything in a decommission, whose retired hosts never take a VM.
    let mut earlier = Earlier {
        closed: if decommission {
            all_targets.iter().copied().collect()
        } else {
            Vec::new()
        },
        moved: Vec::new(),
    };
    // The index with each group's hosts as its targets, for the capacity rule's drain.
    let own_targets = groups.len() == 1
        && groups[0].len() == index.targets().count()
        && groups[0].iter().all(|&h| index.is_target(h));
    let mut step_index = (!own_targets).then(|| index.clone());
    let mut out = Scheduled::default();
    for hosts in groups {
        let mut group = Group {
            hosts: hosts.clone(),
            ..Group::default()
        };
        let names: Vec<String> = hosts
            .iter()
            .map(|&h| index.host(h).name.to_string())
            .collect();
        let sim_index = match step_index.as_mut() {
            Some(s) => {
                s.set_targets(&names);
                &*s
            }
            None => index,
        };
        // The drain's own moves, placed exactly as the capacity rule places them: the plan
        // keeps their room, so the verdict and the plan never disagree on what fits.
        let drains = drain_placement(sim_index, floor, &earlier);
        let mut used = baseline_used.clone();
        for &(_, vm, h) in &earlier.moved {
            used[h] += vm.memory_mb.unwrap_or(0);
        }
        let by_cluster = index.by_cluster(hosts.iter().copied());
        for (cluster, members) in by_cluster {
            let receivers: Vec<usize> = index
                .cluster_peers(members[0])
                .filter(|p| !hosts.contains(p) && index.host(*p).state == HostState::Up)
                .filter(|p| !(decommission && all_targets.contains(p)))
                .collect();
            // Where the drain puts the VMs it moves (canonical position → host position).
            let reserved: BTreeMap<usize, Option<usize>> = drains
                .iter()
                .filter(|d| d.cluster == cluster)
                .flat_map(|d| d.moves.iter().copied())
                .collect();
            for (&i, to) in &reserved {
                if let Some(to) = to {
                    used[*to] += index.vm(i).memory_mb.unwrap_or(0);
                }
            }
            let mut pre = Vec::new();
            let mut drain = Vec::new();
            // Running VMs with a device of the host passed through: no live migration moves
            // them, the plan's no more than the drain's.
            let mut pinned = Vec::new();
            // VMs the plan moves that the drain would move too: they go where the drain puts
            // them (or nowhere, as the capacity rule says).
            let mut unplaced = Vec::new();
            // Only the members' VMs, through the index, in inventory order (as placement's
            // tie-breaks expect): a rolling plan must not walk every VM once per host.
            let mut mine: Vec<usize> = members
                .iter()
                .flat_map(|&h| index.vm_positions_on(h).iter().copied())
                .collect();
            mine.sort_unstable();
            for i in mine {
                let vm = index.vm(i);
                if asks.get(&i).is_some_and(|a| !a.migrate.is_empty()) {
                    if crate::platform::stall(vm) == Some(crate::platform::Tie::Device) {
                        pinned.push(i);
                    } else if let Some(to) = reserved.get(&i) {
                        match to {
                            Some(to) => {
                                group.moved.insert(i, *to);
                            }
                            None => unplaced.push(i),
                        }
                    } else {
                        pre.push(i);
                    }
                } else if profile.drain_moves(vm) {
                    drain.push(i);
                }
            }
            let (sized, unsized_): (Vec<usize>, Vec<usize>) = pre
                .into_iter()
                .partition(|&i| index.vm(i).memory_mb.is_some());
            let items: Vec<usize> = sized.clone();
            let sizes: Vec<u64> = items
                .iter()
                .map(|&i| index.vm(i).memory_mb.unwrap_or(0))
                .collect();
            let mut room: Vec<i64> = receivers
                .iter()
                .map(|&r| room_above_floor(index.host(r).memory_mb, used[r], floor))
                .collect();
            // The plan's own VMs, in the room the drain leaves, under the VMs' constraints:
            // members of an anti-affinity group apart, also from the drain's and from what
            // earlier groups moved.
            let receiver_hosts: Vec<&Host> = receivers.iter().map(|&r| index.host(r)).collect();
            let moving: Vec<(&Vm, Option<&Host>)> = items
                .iter()
                .map(|&i| (index.vm(i), index.host_of_vm(i).map(|h| index.host(h))))
                .collect();
            let placement = crate::placement::constraints::place(
                &moving,
                &receiver_hosts,
                &mut room,
                || {
                    let at = |h: usize| receivers.iter().position(|&r| r == h);
                    let mut staying: Vec<(&Vm, usize)> = receivers
                        .iter()
                        .enumerate()
                        .flat_map(|(k, &r)| {
                            index
                                .vms_on(r)
                                .filter(|vm| loads_host(vm))
                                .map(move |vm| (vm, k))
                        })
                        .collect();
                    staying.extend(
                        earlier
                            .moved
                            .iter()
                            .filter_map(|&(_, vm, h)| at(h).map(|k| (vm, k))),
                    );
                    staying.extend(
                        reserved
                            .iter()
                            .filter_map(|(&i, to)| to.and_then(&at).map(|k| (index.vm(i), k))),
                    );
                    staying
                },
                crate::placement::DEFAULT_BUDGET,
            );
            for (k, dest) in placement.destination.iter().enumerate() {
                let i = items[k];
                match dest {
                    Some(d) => {
                        used[receivers[*d]] += sizes[k];
                        group.moved.insert(i, receivers[*d]);
                    }
                    None => unplaced.push(i),
                }
            }
            if decommission {
                // What this group moved stays where it went for the groups that follow.
                for (&i, to) in &reserved {
                    if let (Some(to), false) = (to, group.moved.contains_key(&i)) {
                        earlier.moved.push((i, index.vm(i), *to));
                    }
                }
            }
            let most_room = receivers
                .iter()
                .zip(&room)
                .max_by_key(|(r, free)| (**free, std::cmp::Reverse(**r)))
                .map(|(r, free)| (index.host(*r).name.to_string(), *free));
            let ctx = Context {
                cluster: cluster.as_deref(),
                floor,
                receivers: receivers.len(),
                most_room: most_room.as_ref(),
                unknown: receivers
                    .iter()
                    .filter(|&&r| index.host(r).memory_mb.is_none())
                    .map(|&r| index.host(r).name.to_string())
                    .collect(),
            };
            let why_not: BTreeMap<usize, String> = placement
                .destination
                .iter()
                .enumerate()
                .filter(|(_, d)| d.is_none() && placement.built.is_some())
                .map(|(k, _)| {
                    let list: Vec<String> = placement
                        .why_not(k, &moving, &receiver_hosts)
                        .iter()
                        .map(|(h, e)| format!("{h}: {e}"))
                        .collect();
                    (
                        items[k],
                        format!("{}; {}", list.join("; "), placement.search_words()),
                    )
                })
                .collect();
            for i in unsized_.into_iter().chain(unplaced) {
                let vm = index.vm(i);
                let rule = asks[&i]
                    .migrate
                    .iter()
                    .find_map(|id| policy.rules.iter().find(|r| &r.id == id));
                if let Some(rule) = rule {
                    let mut f = fits_nowhere(rule, vm, &ctx);
                    if let Some(why) = why_not
                        .get(&i)
                        .filter(|w| !w.starts_with(';') && ctx.unknown.is_empty())
                    {
                        f.message.push_str(&format!(" (candidates: {why})"));
                        f.evidence.insert("candidates".into(), json!(why));
                    }
                    out.findings.push(f);
                }
            }
            for i in pinned {
                let vm = index.vm(i);
                let rule = asks[&i]
                    .migrate
                    .iter()
                    .find_map(|id| policy.rules.iter().find(|r| &r.id == id));
                if let Some(rule) = rule {
                    out.findings
                        .push(cannot_live_migrate(rule, vm, cluster.as_deref()));
                }
            }
            group.drained.extend(drain);
            group.reserved.extend(reserved);
        }
        if decommission {
            for (&i, &to) in &group.moved {
                earlier.moved.push((i, index.vm(i), to));
            }
        }
        out.groups.push(group);
    }
    out
}

struct Context<'a> {
    cluster: Option<&'a str>,
    floor: f64,
    receivers: usize,
    most_room: Option<&'a (String, i64)>,
    /// Receivers whose memory the inventory does not give: they cannot be planned onto.
    unknown: Vec<String>,
}

fn fits_nowhere(rule: &Rule, vm: &Vm, ctx: &Context<'_>) -> Finding {
    let cluster = match ctx.cluster {
        Some(c) => format!("cluster {c}"),
        None => "the hosts (the inventory names no cluster)".to_string(),
    };
    let why = match (vm.memory_mb, ctx.most_room) {
        (None, _) => "its memory size is unknown, so no destination can be chosen".to_string(),
        (Some(_), _) if !ctx.unknown.is_empty() => format!(
            "the memory of {} is unknown, so no destination can be chosen (export the hosts too)",
            ctx.unknown.join(", ")
        ),
        (Some(_), None) => format!("no other host of {cluster} is up"),
        (Some(mem), Some((host, free))) => format!(
            "it needs {mem} MiB and fits on no other up host of {cluster} above the {}% free-memory floor (most room above the floor: {} MiB on {host})",
            ctx.floor,
            free.max(&0)
        ),
    };
    let mut evidence = BTreeMap::new();
    evidence.insert("memory_mb".into(), json!(vm.memory_mb));
    evidence.insert("min_free_memory_pct".into(), json!(ctx.floor));
    evidence.insert("receivers".into(), json!(ctx.receivers));
    evidence.insert(
        "most_room_mb".into(),
        json!(ctx.most_room.map(|(_, free)| (*free).max(0))),
    );
    evidence.insert("destination".into(), json!(null));
    Finding::about_vm(
        rule,
        vm,
        ctx.cluster,
        format!(
            "{} must move off {} (`{}`) but the plan has nowhere to put it: {why}",
            vm.name, vm.host, rule.id
        ),
        "free memory on another host of the cluster, bring another host up, or drain one host at a time (--rolling); otherwise shut the VM down for the window",
        evidence,
    )
}

/// A VM the policy wants moved that runs with a device of its host passed through: no live
/// migration moves it, so the plan plans none.
fn cannot_live_migrate(rule: &Rule, vm: &Vm, cluster: Option<&str>) -> Finding {
    let devices: Vec<&str> = vm
        .facts
        .as_deref()
        .and_then(|f| f.passthrough.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|d| d.as_str())
        .collect();
    let mut evidence = BTreeMap::new();
    evidence.insert("stall".into(), json!("device"));
    evidence.insert("passthrough".into(), json!(devices));
    evidence.insert("destination".into(), json!(null));
    Finding::about_vm(
        rule,
        vm,
        cluster,
        format!(
            "{} must move off {} (`{}`) but cannot be live-migrated while a device of the host is passed through to it ({}): the plan moves it nowhere",
            vm.name,
            vm.host,
            rule.id,
            devices.join(", ")
        ),
        "remove the device from the VM before the window, or shut it down and move it cold to a host that offers the same device, and waive it with a ticket",
        evidence,
    )
}
