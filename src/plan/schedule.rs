//! Choosing destinations: where each VM the policy wants moved goes, group by group.
//!
//! A group is the hosts drained together: every target at once, or one host at a time with
//! `--rolling`. For each group and cluster, the VMs the plan moves and the VMs the platform's
//! drain moves are placed together, largest first, each on the up host with the most room
//! above the capacity floor. The drain's VMs are placed only to reserve their room (the
//! platform picks their hosts); the plan's VMs get that host as their destination. A target
//! host never receives. Between rolling groups in patch mode the cluster is back as it was
//! (the post steps and the platform return every VM); in decommission mode what moved stays
//! and no target host ever receives.

use super::place::{floor_pct, room_above_floor};
use crate::engine::{Finding, InventoryIndex, Request};
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
    let mut baseline_used = vec![0u64; inventory.hosts.len()];
    for (i, vm) in index.each_vm() {
        if let (Some(h), true) = (index.host_of_vm(i), vm.state.is_active()) {
            baseline_used[h] += vm.memory_mb.unwrap_or(0);
        }
    }
    let mut used = baseline_used.clone();
    let mut out = Scheduled::default();
    for hosts in groups {
        let mut group = Group {
            hosts: hosts.clone(),
            ..Group::default()
        };
        let by_cluster = index.by_cluster(hosts.iter().copied());
        for (cluster, members) in by_cluster {
            let receivers: Vec<usize> = index
                .cluster_peers(members[0])
                .filter(|p| !hosts.contains(p) && index.host(*p).state == HostState::Up)
                .filter(|p| !(decommission && all_targets.contains(p)))
                .collect();
            let mut pre = Vec::new();
            let mut drain = Vec::new();
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
                    pre.push(i);
                } else if profile.drain_moves(vm) {
                    drain.push(i);
                }
            }
            let (sized, unsized_): (Vec<usize>, Vec<usize>) = pre
                .into_iter()
                .partition(|&i| index.vm(i).memory_mb.is_some());
            let items: Vec<usize> = sized.iter().chain(&drain).copied().collect();
            let sizes: Vec<u64> = items
                .iter()
                .map(|&i| index.vm(i).memory_mb.unwrap_or(0))
                .collect();
            let mut room: Vec<i64> = receivers
                .iter()
                .map(|&r| room_above_floor(index.host(r).memory_mb, used[r], floor))
                .collect();
            // The capacity rule's placement, under the VMs' constraints: the plan's VMs and
            // the drain's land where every constraint holds, members of an anti-affinity
            // group apart.
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
                    receivers
                        .iter()
                        .enumerate()
                        .flat_map(|(k, &r)| {
                            index
                                .vms_on(r)
                                .filter(|vm| vm.state.is_active())
                                .map(move |vm| (vm, k))
                        })
                        .collect()
                },
                crate::placement::DEFAULT_BUDGET,
            );
            let mut unplaced = Vec::new();
            for (k, dest) in placement.destination.iter().enumerate() {
                let i = items[k];
                match dest {
                    Some(d) => {
                        used[receivers[*d]] += sizes[k];
                        if k < sized.len() {
                            group.moved.insert(i, receivers[*d]);
                        }
                    }
                    None if k < sized.len() => unplaced.push(i),
                    None => {}
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
                .filter(|(k, d)| d.is_none() && *k < sized.len() && placement.built.is_some())
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
            group.drained.extend(drain);
        }
        if !decommission {
            used.clone_from(&baseline_used);
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
    Finding {
        rule: rule.id.clone(),
        title: None,
        severity: rule.severity,
        vm: Some(vm.name.to_string()),
        vm_id: vm.id.as_deref().map(String::from),
        host: Some(vm.host.to_string()),
        cluster: ctx.cluster.map(String::from),
        message: format!(
            "{} must move off {} (`{}`) but the plan has nowhere to put it: {why}",
            vm.name, vm.host, rule.id
        ),
        remediation: Some(
            "free memory on another host of the cluster, bring another host up, or drain one host at a time (--rolling); otherwise shut the VM down for the window"
                .into(),
        ),
        evidence,
        waived: false,
        waiver: None,
    }
}
