//! Checking each selected step before anything is written: the fields its action needs are
//! there, every value can be written (no NUL), and for Proxmox the ids and node names can go
//! into API paths and arguments. All problems of the plan are collected, not just the first.

use super::quote::writable;
use super::{Guest, Op, Problem, ProblemKind, Target};
use crate::plan::{Plan, Step, StepAction, StepPhase};

pub(super) fn check_step<'a>(
    plan: &'a Plan,
    s: &'a Step,
    target: Target,
) -> Result<Op<'a>, Vec<Problem>> {
    let mut problems = Vec::new();
    let values = [
        ("id", Some(&s.id)),
        ("vm", s.vm.as_ref()),
        ("vm_id", s.vm_id.as_ref()),
        ("host", s.host.as_ref()),
        ("from", s.from.as_ref()),
        ("to", s.to.as_ref()),
        ("note", s.note.as_ref()),
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
    let need = |field: &str, v: &'a Option<String>, problems: &mut Vec<Problem>| match v {
        Some(v) if !v.trim().is_empty() => Some(v.as_str()),
        _ => {
            problems.push(Problem {
                kind: ProblemKind::Incomplete,
                step: Some(s.id.clone()),
                message: format!(
                    "step `{}`: a {} step needs `{field}`",
                    s.id,
                    s.action.as_str()
                ),
            });
            None
        }
    };
    let guest = |host_field: &str, host: &'a Option<String>, problems: &mut Vec<Problem>| {
        let name = need("vm", &s.vm, problems);
        let host = need(host_field, host, problems);
        let id = s.vm_id.as_deref().filter(|i| !i.is_empty());
        if target == Target::ProxmoxSh && name.is_some() {
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
        Some(Guest {
            name: name?,
            id,
            host: host?,
            expect: s.expect_state,
        })
    };
    let host_or_from = if s.host.is_some() { &s.host } else { &s.from };
    let op = match s.action {
        StepAction::Migrate => {
            let g = guest("from", &s.from, &mut problems);
            let to = need("to", &s.to, &mut problems);
            g.zip(to).map(|(g, to)| Op::Migrate(g, to))
        }
        StepAction::Start => guest("host", host_or_from, &mut problems).map(Op::Start),
        StepAction::Shutdown => guest("host", host_or_from, &mut problems).map(Op::Shutdown),
        StepAction::EnterMaintenance => {
            need("host", &s.host, &mut problems).map(Op::EnterMaintenance)
        }
        StepAction::ExitMaintenance => need("host", &s.host, &mut problems)
            .map(|h| Op::ExitMaintenance(h, !moves_back_to(plan, h))),
        StepAction::Notify => Some(Op::Notify),
    };
    if target == Target::ProxmoxSh {
        for (field, v) in [("host", &s.host), ("from", &s.from), ("to", &s.to)] {
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
    match op {
        Some(op) if problems.is_empty() => Ok(op),
        _ => Err(problems),
    }
}

/// Whether the plan moves VMs back to `host` itself after maintenance; then the platform must
/// not fail back on its own as well.
fn moves_back_to(plan: &Plan, host: &str) -> bool {
    plan.steps.iter().any(|s| {
        s.phase == StepPhase::Post
            && s.action == StepAction::Migrate
            && s.to
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(host))
    })
}

/// Proxmox guest ids are integers (100 to 999999999).
fn proxmox_vmid(id: &str) -> bool {
    (3..=9).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0')
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
