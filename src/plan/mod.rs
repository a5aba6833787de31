//! The action list (CONTRACT 6.2): what an executor runs, and what `restore` compares against.
//!
//! This module holds the document's types. Building a plan is pure (no I/O); reading one back
//! validates it like any other input.

mod build;
mod file;
mod ids;
mod moveback;
mod place;
mod schedule;
#[cfg(test)]
mod tests;

pub use build::{Built, PlanOptions, build_plan};
pub use file::{LoadedPlan, read_plan, write_plan};
pub use moveback::{MoveBack, move_back_steps, plan_move_back};
pub use place::{floor_pct, room_above_floor};

use crate::model::{HostState, VmState};
use serde::{Deserialize, Serialize};

pub const PLAN_SCHEMA: &str = "preflight/plan/v1";

/// A plan document. Field order is the serialized key order; `schema` comes first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub schema: String,
    pub request: PlanRequest,
    /// The inventory files the plan was made from, with their digests.
    pub inventory: Vec<PlanInput>,
    /// Every VM on the target hosts before maintenance.
    pub baseline: Vec<BaselineVm>,
    /// The load of every host of the affected clusters before maintenance.
    pub loads: Vec<BaselineHost>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// `audit` for a maintenance plan, `restore` for a move-back plan.
    pub command: String,
    pub hosts: Vec<String>,
    pub mode: String,
    pub platform: String,
    /// One host at a time (cluster-aware-updating style) rather than all together.
    #[serde(default)]
    pub rolling: bool,
    pub now: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineVm {
    pub name: String,
    pub id: Option<String>,
    pub host: String,
    pub state: VmState,
    pub ha: Option<bool>,
    pub memory_mb: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineHost {
    pub host: String,
    pub cluster: Option<String>,
    pub state: HostState,
    pub memory_mb: Option<u64>,
    /// Memory of the host's active VMs, MiB.
    pub used_mb: u64,
    pub vms: usize,
    /// The host's CPUs, and the vCPUs of its active VMs (for `balance` rules on `vcpus`).
    #[serde(default)]
    pub cpus: Option<u32>,
    #[serde(default)]
    pub used_vcpus: u64,
}

/// One step. `id` is stable for the same inputs (derived from phase, action and subject).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub phase: StepPhase,
    pub action: StepAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The state the VM must be in for the step to run (the executor's guard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_state: Option<VmState>,
    /// A migrate that must move the VM's storage too (a VM that is not highly available
    /// usually sits on the host's local disks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_storage: bool,
    /// The rule ids that caused the step.
    #[serde(default)]
    pub because: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepPhase {
    Pre,
    Drain,
    Maintenance,
    Post,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepAction {
    Migrate,
    Shutdown,
    Start,
    EnterMaintenance,
    ExitMaintenance,
    Notify,
}

impl StepPhase {
    /// The word the plan document uses (its serde name), for step ids and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            StepPhase::Pre => "pre",
            StepPhase::Drain => "drain",
            StepPhase::Maintenance => "maintenance",
            StepPhase::Post => "post",
        }
    }
}

impl StepAction {
    /// The word the plan document uses (its serde name), for step ids and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            StepAction::Migrate => "migrate",
            StepAction::Shutdown => "shutdown",
            StepAction::Start => "start",
            StepAction::EnterMaintenance => "enter-maintenance",
            StepAction::ExitMaintenance => "exit-maintenance",
            StepAction::Notify => "notify",
        }
    }
}

#[cfg(test)]
mod words {
    use super::{StepAction, StepPhase};

    /// Step ids and messages use `as_str`; the document uses serde's names: they must agree.
    #[test]
    fn as_str_is_the_serialized_word() {
        for p in [
            StepPhase::Pre,
            StepPhase::Drain,
            StepPhase::Maintenance,
            StepPhase::Post,
        ] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for a in [
            StepAction::Migrate,
            StepAction::Shutdown,
            StepAction::Start,
            StepAction::EnterMaintenance,
            StepAction::ExitMaintenance,
            StepAction::Notify,
        ] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
    }
}
