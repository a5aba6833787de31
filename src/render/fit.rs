//! Whether a plan still fits the current inventory (`render --inventory`).
//!
//! A plan is made from an export taken earlier; by the time it runs, VMs may have been moved,
//! stopped or deleted. Rendering it anyway would leave the script's guards to stop the run
//! halfway; checking first refuses the whole plan before anything moves (exit 3). Steps are
//! walked in order, so a VM that the plan itself moves twice is expected at its new place.

use super::Phases;
use crate::model::{Inventory, Vm, VmState};
use crate::plan::{Plan, Source, StepKind};
use std::collections::{BTreeMap, BTreeSet};

/// One way the plan does not fit: the step and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    pub step: String,
    pub message: String,
}

/// Every misfit of the selected phases' steps, in plan order.
pub fn check_fit(plan: &Plan, phases: Phases, inventory: &Inventory) -> Vec<Misfit> {
    let mut out = Vec::new();
    // A missing host or VM is reported once, at the first step that needs it.
    let mut missing_hosts: BTreeSet<String> = BTreeSet::new();
    let mut missing_vms: BTreeSet<String> = BTreeSet::new();
    // Where each VM is, and in which state, once the earlier steps have run.
    let mut moved: BTreeMap<usize, (String, VmState)> = BTreeMap::new();
    for step in plan.steps.iter().filter(|s| phases.includes(s.phase)) {
        let mut misfit = |message: String| {
            out.push(Misfit {
                step: step.id.clone(),
                message,
            })
        };
        for host in [step.host(), step.from_host(), step.to()]
            .into_iter()
            .flatten()
        {
            if find_host(inventory, host).is_none() && missing_hosts.insert(host.to_lowercase()) {
                misfit(format!(
                    "host `{}` is not in the inventory",
                    host.escape_debug()
                ));
            }
        }
        // The VM a step acts on, the host it must be on (`None`: wherever the drain put it),
        // and the host and state it leaves it in.
        let (vm, expected_host, to, state_after) = match &step.kind {
            StepKind::Migrate { vm, from, to, .. } => {
                let from = match from {
                    Source::Host(h) => Some(h.as_str()),
                    Source::Drained => None,
                };
                (vm, from, Some(to.as_str()), None)
            }
            StepKind::Start { vm, host, .. } => {
                (vm, Some(host.as_str()), None, Some(VmState::Running))
            }
            StepKind::Shutdown { vm, host, .. } => {
                (vm, Some(host.as_str()), None, Some(VmState::Off))
            }
            _ => continue,
        };
        let name = vm.name.as_str();
        let label = match &vm.id {
            Some(id) => format!("VM `{}` ({})", name.escape_debug(), id.escape_debug()),
            None => format!("VM `{}`", name.escape_debug()),
        };
        let found = find_vms(inventory, name, vm.id.as_deref());
        let index = match found.as_slice() {
            [] => {
                if missing_vms.insert(label.clone()) {
                    misfit(format!("{label} is gone from the inventory"));
                }
                continue;
            }
            [one] => *one,
            many => {
                misfit(format!(
                    "{label} matches {} VMs of the inventory; the plan needs VM ids",
                    many.len()
                ));
                continue;
            }
        };
        let vm = &inventory.vms[index];
        let (host, state) = moved
            .get(&index)
            .cloned()
            .unwrap_or_else(|| (vm.host.to_string(), vm.state));
        if let Some(expected) = expected_host
            && !same_host(&host, expected)
        {
            misfit(format!(
                "{label} is on `{}`, not on `{}` where the plan expects it",
                host.escape_debug(),
                expected.escape_debug()
            ));
            continue;
        }
        if let Some(expect) = step.expect_state()
            && expect != state
        {
            misfit(format!("{label} is {state}, the plan expects {expect}"));
            continue;
        }
        let after = (
            to.map_or(host, str::to_string),
            state_after.unwrap_or(state),
        );
        moved.insert(index, after);
    }
    out
}

/// The inventory's VMs the step means: by id when the step has one (a Proxmox export may spell
/// it `qemu/101`), else by exact name.
fn find_vms(inventory: &Inventory, name: &str, id: Option<&str>) -> Vec<usize> {
    let hit = |vm: &Vm| match (id, vm.id.as_deref()) {
        (Some(want), Some(have)) => {
            have.eq_ignore_ascii_case(want) || have.rsplit_once('/').is_some_and(|(_, n)| n == want)
        }
        (Some(_), None) => vm.name == name,
        (None, _) => vm.name == name,
    };
    inventory
        .vms
        .iter()
        .enumerate()
        .filter(|(_, vm)| hit(vm))
        .map(|(i, _)| i)
        .collect()
}

fn find_host<'a>(inventory: &'a Inventory, name: &str) -> Option<&'a str> {
    let mut hits = inventory.hosts.iter().filter(|h| same_host(&h.name, name));
    match (hits.next(), hits.next()) {
        (Some(h), None) => Some(h.name.as_str()),
        _ => None,
    }
}

/// Host names compare as `--host` does: case-insensitively, and a short name matches an FQDN
/// by its first label.
pub(super) fn same_host(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let short = |s: &str| s.split('.').next().unwrap_or(s).to_ascii_lowercase();
    (!a.contains('.') || !b.contains('.')) && short(a) == short(b)
}
