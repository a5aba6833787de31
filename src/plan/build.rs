//! Building the action list from an audit (pure: no I/O, no clock).
//!
//! The steps follow the maintenance as an operator runs it: `pre` (move, shut down or warn
//! about the VMs the policy flagged), `drain` (enter maintenance), `maintenance` (a placeholder
//! for the operator's own patching), `post` (exit maintenance, move back what the platform will
//! not move back itself). Destinations are chosen by [`super::schedule`]; a VM that fits
//! nowhere gets no step and comes back as a finding, so the report never hides it.

use super::ids::{dedupe, step_id};
use super::schedule::{Asks, Group, schedule};
use super::{
    BaselineHost, BaselineVm, PLAN_SCHEMA, Plan, PlanInput, PlanRequest, Source, Step, StepKind,
    StepPhase, VmRef, storage_move,
};
use crate::engine::{Finding, InventoryIndex, Request};
use crate::model::{Vm, VmState};
use crate::platform::profile;
use crate::policy::{Action, Mode, Phase, PlanRole, PolicySet};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the plan is built with besides the audit.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// One host at a time, in the order of `--host`.
    pub rolling: bool,
    /// The inventory files, with their digests, recorded in the plan.
    pub inputs: Vec<PlanInput>,
}

/// The plan and the findings planning added (VMs the policy wants moved that fit nowhere).
#[derive(Debug, Clone)]
pub struct Built {
    pub plan: Plan,
    pub findings: Vec<Finding>,
}

/// Builds the plan for `request` from the audit's `findings` (waivers already applied), over
/// the index the audit used.
pub fn build_plan(
    policy: &PolicySet,
    index: &InventoryIndex<'_>,
    request: &Request,
    findings: &[Finding],
    options: &PlanOptions,
) -> Built {
    let targets: Vec<usize> = request
        .hosts
        .iter()
        .filter_map(|h| index.host_pos(h))
        .collect();
    let asks = collect_asks(policy, index, &targets, findings);
    let groups: Vec<Vec<usize>> = if options.rolling {
        targets.iter().map(|&t| vec![t]).collect()
    } else {
        vec![targets.clone()]
    };
    let scheduled = schedule(policy, index, request, &groups, &asks);
    let placement_rules: Vec<String> = policy
        .rules
        .iter()
        .filter(|r| r.phase == Phase::Restore && r.applies_in(request.mode))
        .filter(|r| r.kind.plan_role() == PlanRole::MovesBack)
        .map(|r| r.id.clone())
        .collect();
    let mut steps = Vec::new();
    for group in &scheduled.groups {
        group_steps(index, request, group, &asks, &placement_rules, &mut steps);
    }
    dedupe(&mut steps);
    let plan = Plan {
        schema: PLAN_SCHEMA.into(),
        request: PlanRequest {
            command: "audit".into(),
            hosts: request.hosts.clone(),
            mode: request.mode.to_string(),
            platform: request.platform.to_string(),
            rolling: options.rolling,
            now: request.now.to_string(),
        },
        inventory: options.inputs.clone(),
        baseline: baseline(index, &targets),
        loads: loads(index, &targets),
        steps,
    };
    Built {
        plan,
        findings: scheduled.findings,
    }
}

/// Reads from the findings what the policy asks for each VM of a target host: only unwaived
/// findings of `vm` rules that were judged (a VM the rule could not judge is already a
/// finding; the plan does not act on a guess).
pub(super) fn collect_asks(
    policy: &PolicySet,
    index: &InventoryIndex<'_>,
    targets: &[usize],
    findings: &[Finding],
) -> BTreeMap<usize, Asks> {
    let mut by_subject: HashMap<(String, &str), usize> = HashMap::new();
    for &t in targets {
        for &i in index.vm_positions_on(t) {
            let vm = index.vm(i);
            by_subject
                .entry((vm.host.as_str().to_ascii_lowercase(), vm.name.as_str()))
                .or_insert(i);
        }
    }
    let mut asks: BTreeMap<usize, Asks> = BTreeMap::new();
    for f in findings {
        if f.waived || f.evidence.contains_key("undetermined") {
            continue;
        }
        let Some(rule) = policy.rules.iter().find(|r| r.id == f.rule) else {
            continue;
        };
        if rule.kind.plan_role() != PlanRole::ActsOnVm {
            continue;
        }
        let (Some(vm), Some(host)) = (&f.vm, &f.host) else {
            continue;
        };
        let Some(&i) = by_subject.get(&(host.to_ascii_lowercase(), vm.as_str())) else {
            continue;
        };
        let a = asks.entry(i).or_default();
        match rule.action {
            Action::Migrate => a.migrate.insert(rule.id.clone()),
            Action::Shutdown => a.shutdown.insert(rule.id.clone()),
            Action::Notify => a
                .notify
                .insert(rule.id.clone(), f.message.clone())
                .is_none(),
            Action::None => false,
        };
    }
    asks
}

/// The steps of one group of hosts drained together (all targets, or one when rolling).
fn group_steps(
    index: &InventoryIndex<'_>,
    request: &Request,
    group: &Group,
    asks: &BTreeMap<usize, Asks>,
    placement_rules: &[String],
    steps: &mut Vec<Step>,
) {
    let profile = profile(request.platform);
    let decommission = request.mode == Mode::Decommission;
    // pre: per host in --host order, per VM by name; a warning goes out before the VM moves.
    let mut vms: Vec<usize> = asks
        .keys()
        .copied()
        .filter(|&i| group.hosts.iter().any(|&h| on_host(index, i, h)))
        .collect();
    vms.sort_by_key(|&i| {
        let vm = index.vm(i);
        let h = group.hosts.iter().position(|&h| on_host(index, i, h));
        (h, vm.name.clone(), vm.id.clone())
    });
    let mut shut_down = Vec::new();
    for &i in &vms {
        let vm = index.vm(i);
        let a = &asks[&i];
        for (rule, message) in &a.notify {
            let kind = StepKind::Notify {
                vm: Some(vm_ref(vm)),
                host: Some(vm.host.to_string()),
            };
            let mut s = vm_step(StepPhase::Pre, vm, kind);
            s.because = vec![rule.clone()];
            s.note = Some(message.clone());
            steps.push(s);
        }
        if let Some(to) = group.moved.get(&i) {
            let (with_storage, storage_gb) = storage_move(vm);
            let kind = StepKind::Migrate {
                vm: vm_ref(vm),
                from: Source::Host(vm.host.to_string()),
                to: index.host(*to).name.to_string(),
                with_storage,
                storage_gb,
                expect_state: Some(vm.state),
            };
            let mut s = vm_step(StepPhase::Pre, vm, kind);
            s.because = a.migrate.iter().cloned().collect();
            steps.push(s);
        } else if !a.shutdown.is_empty() && vm.state != VmState::Off {
            let kind = StepKind::Shutdown {
                vm: vm_ref(vm),
                host: vm.host.to_string(),
                expect_state: Some(vm.state),
            };
            let mut s = vm_step(StepPhase::Pre, vm, kind);
            s.because = a.shutdown.iter().cloned().collect();
            steps.push(s);
            shut_down.push(i);
        }
    }
    for &h in &group.hosts {
        let name = &index.host(h).name;
        let mut s = host_step(
            StepPhase::Drain,
            StepKind::EnterMaintenance {
                host: name.to_string(),
            },
        );
        s.note = Some(format!("drain with {}", profile.drain_command()));
        steps.push(s);
    }
    for &h in &group.hosts {
        let name = &index.host(h).name;
        let mut s = host_step(
            StepPhase::Maintenance,
            StepKind::Notify {
                vm: None,
                host: Some(name.to_string()),
            },
        );
        s.note = Some(if decommission {
            format!("decommission {name} here: the operator's own steps go in this place")
        } else {
            format!("patch {name} here: the operator's own patching goes in this place")
        });
        steps.push(s);
    }
    // A retired host takes nothing back: post steps belong to patching only.
    if decommission {
        return;
    }
    for &h in &group.hosts {
        steps.push(host_step(
            StepPhase::Post,
            StepKind::ExitMaintenance {
                host: index.host(h).name.to_string(),
            },
        ));
    }
    let mut back: Vec<(usize, Option<usize>)> = group
        .moved
        .iter()
        .map(|(&i, &to)| (i, Some(to)))
        .chain(group.drained.iter().map(|&i| (i, None)))
        // The platform moves back at most what its drain moved; what the plan moved, the plan
        // moves back.
        .filter(|(i, to)| to.is_some() || !profile.moves_back(index.vm(*i)))
        .collect();
    back.sort_by_key(|(i, _)| (index.vm(*i).name.clone(), *i));
    for (i, to) in back {
        let vm = index.vm(i);
        let mut because: BTreeSet<String> = placement_rules.iter().cloned().collect();
        // A VM the plan moved is where the plan put it; one the drain moved is wherever the
        // platform chose, which only the platform knows when the step runs.
        let (from, expect_state, note) = match to {
            Some(to) => {
                because.extend(asks[&i].migrate.iter().cloned());
                (
                    Source::Host(index.host(to).name.to_string()),
                    vm.state,
                    None,
                )
            }
            None => (
                Source::Drained,
                VmState::Running,
                Some(format!(
                    "the drain moved it; {} does not move it back",
                    request.platform
                )),
            ),
        };
        let (with_storage, storage_gb) = storage_move(vm);
        let kind = StepKind::Migrate {
            vm: vm_ref(vm),
            from,
            to: vm.host.to_string(),
            with_storage,
            storage_gb,
            expect_state: Some(expect_state),
        };
        let mut s = vm_step(StepPhase::Post, vm, kind);
        s.because = because.into_iter().collect();
        s.note = note;
        steps.push(s);
    }
    for i in shut_down {
        let vm = index.vm(i);
        let kind = StepKind::Start {
            vm: vm_ref(vm),
            host: vm.host.to_string(),
            expect_state: Some(VmState::Off),
        };
        let mut s = vm_step(StepPhase::Post, vm, kind);
        s.because = asks[&i].shutdown.iter().cloned().collect();
        steps.push(s);
    }
}

fn on_host(index: &InventoryIndex<'_>, vm: usize, host: usize) -> bool {
    index.host_of_vm(vm) == Some(host)
}

pub(super) fn vm_ref(vm: &Vm) -> VmRef {
    VmRef {
        name: vm.name.to_string(),
        id: vm.id.as_deref().map(str::to_string),
    }
}

/// A step about `vm`, its id made from the VM's key.
pub(super) fn vm_step(phase: StepPhase, vm: &Vm, kind: StepKind) -> Step {
    let mut s = host_step(phase, kind);
    s.id = step_id(phase, s.action(), vm.key());
    s
}

/// A step, its id made from its host (or empty when it has none).
fn host_step(phase: StepPhase, kind: StepKind) -> Step {
    let mut s = Step {
        id: String::new(),
        phase,
        kind,
        because: Vec::new(),
        note: None,
    };
    s.id = step_id(phase, s.action(), s.host().unwrap_or_default());
    s
}

/// Every VM on the target hosts, by host then name.
fn baseline(index: &InventoryIndex<'_>, targets: &[usize]) -> Vec<BaselineVm> {
    let mut out: Vec<BaselineVm> = targets
        .iter()
        .flat_map(|&t| index.vms_on(t))
        .map(|vm| BaselineVm {
            name: vm.name.to_string(),
            id: vm.id.as_deref().map(str::to_string),
            host: vm.host.to_string(),
            state: vm.state,
            ha: vm.ha,
            memory_mb: vm.memory_mb,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.host.to_ascii_lowercase(), &a.name, &a.id).cmp(&(
            b.host.to_ascii_lowercase(),
            &b.name,
            &b.id,
        ))
    });
    out
}

/// The load of every host of the clusters the targets belong to, in inventory order.
pub(super) fn loads(index: &InventoryIndex<'_>, targets: &[usize]) -> Vec<BaselineHost> {
    let peers: BTreeSet<usize> = targets
        .iter()
        .flat_map(|&t| index.cluster_peers(t))
        .collect();
    peers
        .into_iter()
        .map(|pos| {
            let host = index.host(pos);
            let active: Vec<&Vm> = index.vms_on(pos).filter(|v| v.state.is_active()).collect();
            BaselineHost {
                host: host.name.to_string(),
                cluster: host.cluster.as_deref().map(str::to_string),
                state: host.state,
                memory_mb: host.memory_mb,
                used_mb: active.iter().map(|v| v.memory_mb.unwrap_or(0)).sum(),
                vms: active.len(),
                cpus: host.cpus,
                used_vcpus: active.iter().map(|v| u64::from(v.vcpus.unwrap_or(0))).sum(),
            }
        })
        .collect()
}
