//! Checking each selected step before anything is written: every value can be written (no
//! NUL), and for Proxmox the ids and node names can go into API paths and arguments. That a
//! step has what its action needs is the plan reader's job (a [`Step`] is always complete);
//! what is checked here is what one target cannot write. All problems of the plan are
//! collected, not just the first.

use super::fit::same_host;
use super::quote::writable;
use super::{Guest, Op, Problem, ProblemKind, Target};
use crate::plan::{Plan, Source, Step, StepKind, StepPhase};

/// `storage` is the step's words for a move with storage ([`Step::storage_text`]).
pub(super) fn check_step<'a>(
    plan: &'a Plan,
    s: &'a Step,
    storage: Option<&'a str>,
    target: Target,
) -> Result<Op<'a>, Vec<Problem>> {
    let mut problems = Vec::new();
    let vm = s.vm();
    let values = [
        ("id", Some(s.id.as_str())),
        ("vm", vm.map(|v| v.name.as_str())),
        ("vm_id", vm.and_then(|v| v.id.as_deref())),
        ("host", s.host()),
        ("from", s.from_host()),
        ("to", s.to()),
        ("note", s.note.as_deref()),
    ];
    for (field, v) in values {
        if v.is_some_and(|v| !writable(v)) {
            problems.push(unwritable(
                Some(s),
                format!("`{field}` contains a NUL character"),
            ));
        }
    }
    if s.because.iter().any(|b| !writable(b)) {
        problems.push(unwritable(
            Some(s),
            "`because` contains a NUL character".into(),
        ));
    }
    let guest = |vm: &'a crate::plan::VmRef, expect, problems: &mut Vec<Problem>| {
        let id = vm.id.as_deref().filter(|i| !i.is_empty());
        if target == Target::ProxmoxSh {
            match id {
                Some(i) if proxmox_vmid(i) => {}
                Some(i) => problems.push(unwritable(
                    Some(s),
                    format!("vm_id `{i}` is not a Proxmox guest id (a number from 100)"),
                )),
                None => problems.push(Problem {
                    kind: ProblemKind::Incomplete,
                    step: Some(s.id.clone()),
                    message: format!("step `{}`: Proxmox steps need the guest's `vm_id`", s.id),
                }),
            }
        }
        if target == Target::Govc
            && let Some(i) = id
            && !vsphere_vm_id(i)
        {
            problems.push(unwritable(
                Some(s),
                format!(
                    "vm_id `{}` is not a vSphere VM id govc can look up (a UUID or a vm-N reference)",
                    i.escape_debug()
                ),
            ));
        }
        Guest {
            name: &vm.name,
            id,
            expect,
        }
    };
    let op = match &s.kind {
        StepKind::Migrate {
            vm,
            from,
            to,
            expect_state,
            ..
        } => Op::Migrate {
            guest: guest(vm, *expect_state, &mut problems),
            from: match from {
                Source::Host(h) => Some(h.as_str()),
                Source::Drained => None,
            },
            to,
            storage,
        },
        StepKind::Start {
            vm,
            host,
            expect_state,
        } => Op::Start(guest(vm, *expect_state, &mut problems), host),
        StepKind::Shutdown {
            vm,
            host,
            expect_state,
        } => Op::Shutdown(guest(vm, *expect_state, &mut problems), host),
        StepKind::EnterMaintenance { host } => Op::EnterMaintenance(host),
        StepKind::ExitMaintenance { host } => {
            Op::ExitMaintenance(host, !moves_drained_back_to(plan, host))
        }
        StepKind::Notify { .. } => Op::Notify,
    };
    if target == Target::ProxmoxSh {
        for (field, v) in [("host", s.host()), ("from", s.from_host()), ("to", s.to())] {
            if let Some(v) = v
                && !proxmox_node(v)
            {
                problems.push(unwritable(
                    Some(s),
                    format!(
                        "`{field}` `{}` is not a Proxmox node name usable in an API path",
                        v.escape_debug()
                    ),
                ));
            }
        }
    }
    if target == Target::Govc {
        for (field, v) in [("host", s.host()), ("from", s.from_host()), ("to", s.to())] {
            if let Some(v) = v
                && v.contains(['\n', '\r'])
            {
                problems.push(unwritable(
                    Some(s),
                    format!(
                        "`{field}` `{}` holds a line break: govc lists hosts a line each, so the script could not find it",
                        v.escape_debug()
                    ),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(op)
    } else {
        Err(problems)
    }
}

/// Whether the plan itself moves back to `host` VMs that the drain moved off it; then the
/// platform must not fail them back on its own as well. A VM the plan moved before the drain
/// does not count: a failback returns only what the drain moved, so it cannot fight over it.
fn moves_drained_back_to(plan: &Plan, host: &str) -> bool {
    plan.steps.iter().any(|s| {
        s.phase == StepPhase::Post
            && matches!(&s.kind, StepKind::Migrate { from: Source::Drained, to, .. } if same_host(to, host))
    })
}

/// Proxmox guest ids are integers (100 to 999999999).
fn proxmox_vmid(id: &str) -> bool {
    (3..=9).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0')
}

/// The VM ids the govc script looks up: a managed object reference (`vm-N`, also as PowerCLI's
/// `VirtualMachine-vm-N` or govc's `VirtualMachine:vm-N`), or a UUID (instance or BIOS: 32
/// hex digits, dashes allowed), which goes into a `govc find` property filter, where it must
/// hold no pattern characters.
fn vsphere_vm_id(id: &str) -> bool {
    let moref = ["VirtualMachine-", "VirtualMachine:", ""]
        .iter()
        .filter_map(|p| id.strip_prefix(p))
        .any(|rest| {
            rest.strip_prefix("vm-")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
    let uuid = id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && id.bytes().filter(u8::is_ascii_hexdigit).count() == 32
        && !id.starts_with('-');
    moref || uuid
}

/// A node name goes into API paths (`/nodes/NAME/...`), where `/` would name another resource,
/// and is an argument of `ha-manager` and `--target`, where a leading `-` would read as an option.
fn proxmox_node(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && !name.starts_with('-') && name != "." && name != ".."
}

pub(super) fn unwritable(step: Option<&Step>, message: String) -> Problem {
    Problem {
        kind: ProblemKind::Unwritable,
        step: step.map(|s| s.id.clone()),
        message: match step {
            Some(s) => format!("step `{}`: {message}", s.id.escape_debug()),
            None => message,
        },
    }
}
