//! The one audit pipeline: prepare → evaluate → plan → fold → decide, and the restore that
//! judges a plan against a fresh inventory.
//!
//! `preflight audit`, `preflight restore`, `preflight test` and the property tests all run
//! through here, so a verdict a case file pins is the verdict the command line gives. Pure: no
//! I/O and no clock (time comes in with the [`Request`]).

use crate::engine::{self, Evaluation, FailOn, Finding, InventoryIndex, Outcome, Request, decide};
use crate::model::{Inventory, Layout};
use crate::plan::{Plan, PlanInput, PlanOptions, build_plan};
use crate::policy::PolicySet;
use crate::report::{CheckedSubject, subjects};

/// An inventory made ready for evaluation: missing hosts implied, hosts sorted, and the
/// canonical order of its VMs worked out (see [`Inventory::prepare`]). It can only be built by
/// preparing, so no stage ever sees an inventory that skipped it.
pub struct Prepared {
    inventory: Inventory,
    layout: Layout,
}

impl Prepared {
    /// Prepares a (merged) inventory.
    pub fn new(mut inventory: Inventory) -> Self {
        let layout = inventory.prepare();
        Prepared { inventory, layout }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The index for drains of `targets`: built once per run, it serves the engine, the
    /// planner and the report.
    fn index(&self, targets: &[String]) -> InventoryIndex<'_> {
        InventoryIndex::with_layout(&self.inventory, self.layout.clone(), targets)
    }
}

impl std::ops::Deref for Prepared {
    type Target = Inventory;

    fn deref(&self) -> &Inventory {
        &self.inventory
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("hosts", &self.inventory.hosts.len())
            .field("vms", &self.inventory.vms.len())
            .finish()
    }
}

/// How an audit runs besides the request.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Drain the target hosts one at a time, in the order of the request.
    pub rolling: bool,
    /// The lowest unwaived severity that makes the verdict no-go.
    pub fail_on: FailOn,
    /// The inventory files, with their digests, recorded in the plan.
    pub inputs: Vec<PlanInput>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            rolling: false,
            fail_on: FailOn::Error,
            inputs: Vec::new(),
        }
    }
}

/// Everything an audit found and decided.
#[derive(Debug, Clone)]
pub struct AuditRun {
    /// The findings (the planner's folded in), host loads, notes and trust.
    pub eval: Evaluation,
    /// The action list, worked out whether or not it is written.
    pub plan: Plan,
    pub outcome: Outcome,
    /// Every subject each audit rule judged, passed or not.
    pub checked: Vec<CheckedSubject>,
}

/// Audits `request` on a prepared inventory.
pub fn audit(
    policy: &PolicySet,
    inventory: &Prepared,
    request: &Request,
    options: &AuditOptions,
) -> AuditRun {
    let index = inventory.index(&request.hosts);
    let mut eval = engine::evaluate(policy, &index, request, options.rolling);
    // The plan is always worked out: a VM the policy wants moved that fits nowhere is a finding
    // whether or not the plan is written, so the verdict does not depend on --plan.
    let plan_options = PlanOptions {
        rolling: options.rolling,
        inputs: options.inputs.clone(),
    };
    let built = build_plan(policy, &index, request, &eval.findings, &plan_options);
    engine::fold_findings(&mut eval.findings, built.findings, "plan");
    eval.findings.sort_by(Finding::report_order);
    if options.rolling && request.hosts.len() > 1 {
        eval.notes.push(format!(
            "--rolling: {} drain one at a time in this order; the host table's after figures show each host at its fullest moment of the sequence (a drained host while it takes another's VMs), not one moment, so they need not add up",
            request.hosts.join(", ")
        ));
    }
    if request.no_waivers && !policy.waivers.is_empty() {
        eval.notes.push(format!(
            "--no-waivers: {} waiver(s) ignored",
            policy.waivers.len()
        ));
    }
    let outcome = decide(&eval, options.fail_on);
    let checked = subjects::checked(&eval.judged, &index, None);
    AuditRun {
        eval,
        plan: built.plan,
        outcome,
        checked,
    }
}

/// What `restore` found and decided.
#[derive(Debug, Clone)]
pub struct RestoreRun {
    pub restored: engine::Restored,
    pub outcome: Outcome,
    /// Every subject each restore rule judged (empty when the inventory was not judged).
    pub checked: Vec<CheckedSubject>,
}

/// Judges a fresh, prepared inventory against the plan `audit` wrote before maintenance, and
/// plans the move-back. `inputs` are the inventory files, recorded in the move-back plan.
pub fn restore(
    policy: &PolicySet,
    inventory: &Prepared,
    plan: &Plan,
    request: &Request,
    fail_on: FailOn,
    inputs: &[PlanInput],
) -> RestoreRun {
    let index = inventory.index(&[]);
    let restored = engine::restore(policy, &index, plan, request, inputs);
    let outcome = decide(&restored.eval, fail_on);
    // An inventory that was not judged at all (exit 3 before any rule ran) has no subject
    // checked, and none may show as passed.
    let checked = if restored.hosts_after.is_empty() {
        Vec::new()
    } else {
        subjects::checked(&restored.eval.judged, &index, Some(plan))
    };
    RestoreRun {
        restored,
        outcome,
        checked,
    }
}
