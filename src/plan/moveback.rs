//! The move-back: which VMs that are not home can go home now, and the steps that take them.
//!
//! A VM goes back only when its original host is up and has room for it above the capacity
//! floor; the largest VMs are placed first, as in the maintenance plan. A VM that cannot go
//! back gets no step; the caller reports why.

use super::build::{vm_ref, vm_step};
use super::ids::dedupe;
use super::place::room_above_floor;
use super::{Gb, Plan, Source, Step, StepKind, StepPhase, VmRef, storage_move};
use crate::engine::InventoryIndex;
use crate::model::{HostState, Vm};
use std::cmp::Reverse;

/// A VM of the inventory (by position) that should go back to `home`, and the rules asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveBack {
    pub vm: usize,
    pub home: String,
    pub because: Vec<String>,
}

/// For each candidate, in the order given: `Ok(())` when it can go home now, or why not.
pub fn plan_move_back(
    index: &InventoryIndex<'_>,
    candidates: &[MoveBack],
    floor_pct: f64,
) -> Vec<Result<(), String>> {
    let inventory = index.inventory;
    let position = |name: &str| index.host_pos(name);
    let mut used = vec![0u64; inventory.hosts.len()];
    for (i, vm) in index.each_vm() {
        if let (Some(h), true) = (index.host_of_vm(i), vm.state.is_active()) {
            used[h] += vm.memory_mb.unwrap_or(0);
        }
    }
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&c| {
        let vm = index.vm(candidates[c].vm);
        (Reverse(vm.memory_mb.unwrap_or(0)), vm.name.clone(), c)
    });
    let mut fates = vec![Ok(()); candidates.len()];
    for c in order {
        let vm = index.vm(candidates[c].vm);
        let home = &candidates[c].home;
        let Some(h) = position(home) else {
            fates[c] = Err(format!("{home} is not in the inventory"));
            continue;
        };
        let host = &inventory.hosts[h];
        if host.state != HostState::Up {
            fates[c] = Err(format!("{} is {}", host.name, host.state));
            continue;
        }
        let Some(need) = vm.memory_mb else {
            fates[c] = Err("its memory size is unknown".into());
            continue;
        };
        if host.memory_mb.is_none() {
            fates[c] = Err(format!("the memory of {} is unknown", host.name));
            continue;
        }
        let room = room_above_floor(host.memory_mb, used[h], floor_pct);
        if room < need as i64 {
            fates[c] = Err(format!(
                "{} has {} MiB free above the {floor_pct}% floor and it needs {need} MiB",
                host.name,
                room.max(0)
            ));
            continue;
        }
        used[h] += need;
    }
    fates
}

/// The `post` migrate steps for the candidates that can go home, by VM name. A VM that `plan`
/// (the maintenance plan) moved away with its storage takes its storage back: its local disk
/// now lives on the host it went to.
pub fn move_back_steps(
    plan: &Plan,
    index: &InventoryIndex<'_>,
    candidates: &[MoveBack],
    fates: &[Result<(), String>],
) -> Vec<Step> {
    let mut planned: Vec<&MoveBack> = candidates
        .iter()
        .zip(fates)
        .filter(|(_, f)| f.is_ok())
        .map(|(c, _)| c)
        .collect();
    planned.sort_by_key(|c| (index.vm(c.vm).name.clone(), c.vm));
    let mut steps: Vec<Step> = planned
        .into_iter()
        .map(|c| {
            let vm = index.vm(c.vm);
            let (with_storage, storage_gb) = storage_back(plan, vm, &c.home);
            let kind = StepKind::Migrate {
                vm: vm_ref(vm),
                from: Source::Host(vm.host.to_string()),
                to: c.home.clone(),
                with_storage,
                storage_gb,
                expect_state: Some(vm.state),
            };
            let mut s = vm_step(StepPhase::Post, vm, kind);
            s.because = c.because.clone();
            s
        })
        .collect();
    dedupe(&mut steps);
    steps
}

/// Whether the move home of `vm` takes its storage, and how much: what the inventory now says
/// of its disks, or else what the plan's own move of it away from `home` said.
fn storage_back(plan: &Plan, vm: &Vm, home: &str) -> (bool, Option<Gb>) {
    let (now, now_gb) = storage_move(vm);
    let away = plan.steps.iter().find_map(|s| match &s.kind {
        StepKind::Migrate {
            vm: r,
            from: Source::Host(from),
            with_storage: true,
            storage_gb,
            ..
        } if same_vm(r, vm) && from.eq_ignore_ascii_case(home) => Some(*storage_gb),
        _ => None,
    });
    match (now, away) {
        (true, away) => (true, now_gb.or(away.flatten())),
        (false, Some(gb)) => (true, gb),
        (false, None) => (false, None),
    }
}

/// Whether a step's VM is this inventory VM: by id when both have one, else by name.
fn same_vm(r: &VmRef, vm: &Vm) -> bool {
    match (r.id.as_deref(), vm.id.as_deref()) {
        (Some(a), Some(b)) => a == b,
        _ => r.name == vm.name.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Host, Inventory, Vm, VmState};
    use std::collections::BTreeMap;

    fn host(name: &str, state: HostState, memory_mb: u64) -> Host {
        Host {
            name: name.into(),
            cluster: Some("C".into()),
            state,
            memory_mb: Some(memory_mb),
            cpus: Some(8),
            implied: false,
            facts: Default::default(),
        }
    }

    fn vm(name: &str, host: &str, memory_mb: u64) -> Vm {
        Vm {
            name: name.into(),
            id: None,
            host: host.into(),
            state: VmState::Running,
            ha: Some(true),
            memory_mb: Some(memory_mb),
            vcpus: Some(2),
            tags: vec![],
            template: false,
            evidence: BTreeMap::new(),
            facts: None,
        }
    }

    fn empty_plan() -> Plan {
        Plan {
            schema: crate::plan::PLAN_SCHEMA.into(),
            request: crate::plan::PlanRequest {
                command: "audit".into(),
                hosts: vec!["H1".into()],
                mode: "patch".into(),
                platform: "hyperv".into(),
                rolling: false,
                now: "2026-11-25T17:00:00Z".into(),
            },
            inventory: vec![],
            baseline: vec![],
            loads: vec![],
            steps: vec![],
        }
    }

    #[test]
    fn only_what_fits_above_the_floor_goes_home() {
        let inv = Inventory {
            hosts: vec![
                host("H1", HostState::Up, 10_000),
                host("H2", HostState::Up, 100_000),
                host("H3", HostState::Down, 10_000),
            ],
            vms: vec![
                vm("BIG", "H2", 6_000),
                vm("SMALL", "H2", 3_000),
                vm("OTHER", "H2", 1_000),
            ],
            ..Inventory::default()
        };
        let mb = |i: usize, home: &str| MoveBack {
            vm: i,
            home: home.into(),
            because: vec!["not-restored".into()],
        };
        let cands = [mb(0, "H1"), mb(1, "H1"), mb(2, "H3")];
        // H1 may fill 9000 of 10000 at a 10% floor: BIG (6000) goes first, SMALL (3000) fits too.
        let index = InventoryIndex::new(&inv, &[]);
        let fates = plan_move_back(&index, &cands, 10.0);
        assert_eq!(fates[0], Ok(()));
        assert_eq!(fates[1], Ok(()));
        assert_eq!(fates[2], Err("H3 is down".into()));
        // At a 20% floor only 8000 fit: SMALL stays.
        let fates = plan_move_back(&index, &cands, 20.0);
        assert!(fates[1].as_ref().unwrap_err().contains("2000 MiB free"));
        let steps = move_back_steps(&empty_plan(), &index, &cands, &fates);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].id, "post-migrate-BIG");
        assert_eq!(steps[0].from_host(), Some("H2"));
        assert_eq!(steps[0].to(), Some("H1"));
    }

    #[test]
    fn a_vm_that_left_with_its_storage_takes_it_back() {
        let inv = Inventory {
            hosts: vec![
                host("H1", HostState::Up, 100_000),
                host("H2", HostState::Up, 100_000),
            ],
            vms: vec![vm("SQL", "H2", 6_000), vm("WEB", "H2", 1_000)],
            ..Inventory::default()
        };
        // The maintenance plan moved SQL away with 12.5 GB of local disk, WEB alone.
        let mut plan = empty_plan();
        for (name, storage) in [("SQL", true), ("WEB", false)] {
            plan.steps.push(Step {
                id: format!("pre-migrate-{name}"),
                phase: StepPhase::Pre,
                kind: StepKind::Migrate {
                    vm: VmRef {
                        name: name.into(),
                        id: None,
                    },
                    from: Source::Host("h1".into()),
                    to: "H2".into(),
                    with_storage: storage,
                    storage_gb: storage.then(|| Gb::from_mib(12 * 1024 + 512)),
                    expect_state: Some(VmState::Running),
                },
                because: vec![],
                note: None,
            });
        }
        let mb = |i: usize| MoveBack {
            vm: i,
            home: "H1".into(),
            because: vec!["not-restored".into()],
        };
        let cands = [mb(0), mb(1)];
        let index = InventoryIndex::new(&inv, &[]);
        let fates = plan_move_back(&index, &cands, 10.0);
        let steps = move_back_steps(&plan, &index, &cands, &fates);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].vm_name(), Some("SQL"));
        assert!(steps[0].with_storage());
        assert_eq!(
            steps[0].storage_text().as_deref(),
            Some("moves with its storage, 12.5 GB")
        );
        assert_eq!(steps[1].vm_name(), Some("WEB"));
        assert!(!steps[1].with_storage());
        assert_eq!(steps[1].storage_gb(), None);
    }
}
