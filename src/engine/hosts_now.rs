//! The plan's hosts then and now: the loads `restore` compares, per cluster as the plan
//! recorded them, and the same hosts once the planned move-back has run.

use super::balance::HostSample;
use super::capacity::HostLoad;
use super::index::InventoryIndex;
use crate::model::{HostState, VmState};
use crate::plan::{BaselineHost, MoveBack, Plan};
use std::collections::BTreeSet;

/// The cluster the plan recorded for `host` (case-insensitive).
pub(crate) fn cluster_of(plan: &Plan, host: &str) -> Option<String> {
    plan.loads
        .iter()
        .find(|l| l.host.eq_ignore_ascii_case(host))
        .and_then(|l| l.cluster.clone())
}

pub(super) fn clusters(plan: &Plan) -> BTreeSet<Option<String>> {
    plan.request
        .hosts
        .iter()
        .map(|h| cluster_of(plan, h))
        .collect()
}

pub(super) fn sample_of(l: &BaselineHost) -> HostSample {
    HostSample {
        host: l.host.clone(),
        cluster: l.cluster.clone(),
        state: l.state,
        memory_mb: l.memory_mb,
        cpus: l.cpus,
        used_mb: l.used_mb,
        used_vcpus: l.used_vcpus,
        vms: l.vms,
    }
}

/// Today's load of the plan's hosts and of every other host of their clusters. A host keeps
/// the cluster the plan recorded, so a fresh export without cluster names still compares.
pub(super) fn samples_now(index: &InventoryIndex<'_>, plan: &Plan) -> Vec<HostSample> {
    let inventory = index.inventory;
    let wanted = clusters(plan);
    // One pass over the VMs: (memory, vCPUs, count) of the active VMs per host position.
    let mut active = vec![(0u64, 0u64, 0usize); inventory.hosts.len()];
    for (i, v) in index.each_vm() {
        if let (Some(h), true) = (index.host_of_vm(i), v.state.is_active()) {
            let e = &mut active[h];
            e.0 += v.memory_mb.unwrap_or(0);
            e.1 += u64::from(v.vcpus.unwrap_or(0));
            e.2 += 1;
        }
    }
    inventory
        .hosts
        .iter()
        .enumerate()
        .filter_map(|(pos, h)| {
            let recorded = plan
                .loads
                .iter()
                .find(|l| l.host.eq_ignore_ascii_case(&h.name));
            let cluster = recorded.map_or(h.cluster.as_deref().map(str::to_string), |l| {
                l.cluster.clone()
            });
            (recorded.is_some() || wanted.contains(&cluster)).then(|| {
                let (used_mb, used_vcpus, vms) = active[pos];
                HostSample {
                    host: h.name.to_string(),
                    cluster,
                    state: h.state,
                    memory_mb: h.memory_mb,
                    cpus: h.cpus,
                    used_mb,
                    used_vcpus,
                    vms,
                }
            })
        })
        .collect()
}

/// The hosts as they will be once every planned move-back has run.
pub(super) fn samples_after(
    index: &InventoryIndex<'_>,
    now: &[HostSample],
    candidates: &[MoveBack],
    fates: &[Result<(), String>],
) -> Vec<HostSample> {
    let mut after = now.to_vec();
    for (c, _) in candidates.iter().zip(fates).filter(|(_, f)| f.is_ok()) {
        let vm = index.vm(c.vm);
        if !vm.state.is_active() && vm.state != VmState::Unknown {
            continue;
        }
        let (mem, cpu) = (vm.memory_mb.unwrap_or(0), u64::from(vm.vcpus.unwrap_or(0)));
        if let Some(h) = after
            .iter_mut()
            .find(|h| h.host.eq_ignore_ascii_case(&vm.host))
        {
            h.used_mb = h.used_mb.saturating_sub(mem);
            h.used_vcpus = h.used_vcpus.saturating_sub(cpu);
            h.vms = h.vms.saturating_sub(1);
        }
        if let Some(h) = after
            .iter_mut()
            .find(|h| h.host.eq_ignore_ascii_case(&c.home))
        {
            h.used_mb += mem;
            h.used_vcpus += cpu;
            h.vms += 1;
        }
    }
    after
}

/// Per host: the load the plan recorded before maintenance, and today's.
pub(super) fn host_loads(plan: &Plan, now: &[HostSample]) -> Vec<HostLoad> {
    plan.loads
        .iter()
        .map(|l| {
            let n = now.iter().find(|h| h.host.eq_ignore_ascii_case(&l.host));
            HostLoad {
                host: l.host.clone(),
                cluster: l.cluster.clone(),
                state: n.map_or(HostState::Down, |h| h.state),
                target: plan
                    .request
                    .hosts
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&l.host)),
                memory_mb: n.and_then(|h| h.memory_mb).or(l.memory_mb),
                before_mb: l.used_mb,
                after_mb: n.map_or(0, |h| h.used_mb),
                vms_before: l.vms,
                vms_after: n.map_or(0, |h| h.vms),
            }
        })
        .collect()
}
