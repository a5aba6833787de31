//! The one place where a rule's kind decides how it is evaluated. Every kind's arm hands the
//! rule to its own evaluation and returns the subjects it judged.
//!
//! A kind is evaluated in one phase (its [`crate::policy::KindSpec::phases`]; the policy
//! refuses any other): in the other phase's run its arm judges nothing. The match names every
//! kind, so a new kind does not compile until it says how it is evaluated.

use super::capacity;
use super::constraint;
use super::judged::Subjects;
use super::restore::RestoreStage;
use super::rolling;
use super::vm_rules;
use super::{Evaluation, InventoryIndex};
use crate::platform::Profile;
use crate::policy::{Mode, Rule, RuleKind};

/// What an audit's rules read and write.
pub(super) struct AuditStage<'r, 'a> {
    pub index: &'r InventoryIndex<'a>,
    pub profile: &'r dyn Profile,
    /// The target hosts, in the order of the request (a rolling drain's order).
    pub hosts: &'r [String],
    pub rolling: bool,
    /// A decommission keeps what a rolling step moved where it went; a patch brings it back.
    pub mode: Mode,
    pub eval: &'r mut Evaluation,
}

/// The run a rule is evaluated in.
pub(super) enum Stage<'s, 'r, 'a> {
    Audit(&'s mut AuditStage<'r, 'a>),
    Restore(&'s mut RestoreStage<'r, 'a>),
}

/// Evaluates `rule` in `stage`; the subjects it judged, or `None` when its kind is not
/// evaluated in this stage's phase.
pub(super) fn evaluate(rule: &Rule, stage: Stage<'_, '_, '_>) -> Option<Subjects> {
    match (&rule.kind, stage) {
        (RuleKind::Vm(when), Stage::Audit(a)) => Some(Subjects::Vms(vm_rules::evaluate(
            rule,
            when,
            a.index,
            a.profile,
            &mut a.eval.findings,
        ))),
        (
            RuleKind::Capacity {
                min_free_memory_pct,
            },
            Stage::Audit(a),
        ) => {
            let pct = *min_free_memory_pct;
            let judged = if a.rolling {
                rolling::evaluate(rule, pct, a.index, a.hosts, a.mode, &mut a.eval.findings)
            } else {
                capacity::evaluate(
                    rule,
                    pct,
                    a.index,
                    &capacity::Earlier::default(),
                    &mut a.eval.findings,
                )
            };
            if a.eval.loads.is_empty() {
                a.eval.loads = judged.loads;
            }
            Some(Subjects::Hosts(judged.hosts))
        }
        (
            RuleKind::Placement {
                trust_platform_failback,
            },
            Stage::Restore(r),
        ) => Some(r.placement(rule, *trust_platform_failback)),
        (
            RuleKind::Balance {
                metric,
                max_imbalance,
            },
            Stage::Restore(r),
        ) => Some(r.balance(rule, *metric, *max_imbalance)),
        (
            RuleKind::Constraint {
                check,
                gap_severity,
            },
            Stage::Audit(a),
        ) => Some(Subjects::Vms(constraint::evaluate(
            rule,
            *check,
            *gap_severity,
            a.index,
            &mut a.eval.findings,
        ))),
        // Not evaluated in this phase.
        (
            RuleKind::Vm(_) | RuleKind::Capacity { .. } | RuleKind::Constraint { .. },
            Stage::Restore(_),
        )
        | (RuleKind::Placement { .. } | RuleKind::Balance { .. }, Stage::Audit(_)) => None,
    }
}
