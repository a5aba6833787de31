//! The action list (the plan document, docs/plan.md): what an executor runs, and what `restore` compares against.
//!
//! This module holds the document's types. Building a plan is pure (no I/O); reading one back
//! validates it like any other input.

mod build;
mod file;
mod ids;
mod moveback;
mod place;
mod schedule;
mod step_doc;
#[cfg(test)]
mod tests;

pub use build::{Built, PlanOptions, build_plan};
pub use file::{LoadedPlan, read_plan, read_plan_located, write_plan};
pub use moveback::{MoveBack, move_back_steps, plan_move_back};
pub use place::{floor_pct, room_above_floor};
pub use step_doc::StepDoc;

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
///
/// What a step acts on is typed by its [`StepKind`]: a step that exists is one an executor can
/// run. The document keeps the flat shape of docs/plan.md (see [`StepDoc`] for the mapping);
/// a document whose fields do not make a valid step is refused when it is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "step_doc::StepDoc", try_from = "step_doc::StepDoc")]
pub struct Step {
    pub id: String,
    pub phase: StepPhase,
    pub kind: StepKind,
    /// The rule ids that caused the step.
    pub because: Vec<String>,
    pub note: Option<String>,
}

/// What a step does, with everything its action needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    Migrate {
        vm: VmRef,
        from: Source,
        to: String,
        /// A migrate that must move the VM's storage too (a VM that is not highly available
        /// usually sits on the host's local disks).
        with_storage: bool,
        /// The state the VM must be in for the step to run (the executor's guard).
        expect_state: Option<VmState>,
    },
    Shutdown {
        vm: VmRef,
        host: String,
        expect_state: Option<VmState>,
    },
    Start {
        vm: VmRef,
        host: String,
        expect_state: Option<VmState>,
    },
    EnterMaintenance {
        host: String,
    },
    ExitMaintenance {
        host: String,
    },
    /// A message (the step's `note`), about a VM, a host, or neither.
    Notify {
        vm: Option<VmRef>,
        host: Option<String>,
    },
}

/// A VM as a step names it: by name, and by id where the inventory gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmRef {
    pub name: String,
    pub id: Option<String>,
}

/// Where a migrate finds its VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// On this host, as the plan was made.
    Host(String),
    /// Wherever the platform's drain put it: the drain, not the plan, chose the host, so the
    /// executor asks the platform where the VM runs now (JSON: `"from_drain": true`, no `from`).
    Drained,
}

impl Step {
    pub fn action(&self) -> StepAction {
        match self.kind {
            StepKind::Migrate { .. } => StepAction::Migrate,
            StepKind::Shutdown { .. } => StepAction::Shutdown,
            StepKind::Start { .. } => StepAction::Start,
            StepKind::EnterMaintenance { .. } => StepAction::EnterMaintenance,
            StepKind::ExitMaintenance { .. } => StepAction::ExitMaintenance,
            StepKind::Notify { .. } => StepAction::Notify,
        }
    }

    /// The VM the step acts on or speaks of.
    pub fn vm(&self) -> Option<&VmRef> {
        match &self.kind {
            StepKind::Migrate { vm, .. }
            | StepKind::Shutdown { vm, .. }
            | StepKind::Start { vm, .. } => Some(vm),
            StepKind::Notify { vm, .. } => vm.as_ref(),
            StepKind::EnterMaintenance { .. } | StepKind::ExitMaintenance { .. } => None,
        }
    }

    /// The name of the VM the step acts on or speaks of.
    pub fn vm_name(&self) -> Option<&str> {
        self.vm().map(|v| v.name.as_str())
    }

    /// Whether a migrate moves the VM's storage too.
    pub fn with_storage(&self) -> bool {
        matches!(
            self.kind,
            StepKind::Migrate {
                with_storage: true,
                ..
            }
        )
    }

    /// The host the step acts on (not a migrate's source or destination).
    pub fn host(&self) -> Option<&str> {
        match &self.kind {
            StepKind::Shutdown { host, .. }
            | StepKind::Start { host, .. }
            | StepKind::EnterMaintenance { host }
            | StepKind::ExitMaintenance { host } => Some(host),
            StepKind::Notify { host, .. } => host.as_deref(),
            StepKind::Migrate { .. } => None,
        }
    }

    /// A migrate's source host, when the plan knows it.
    pub fn from_host(&self) -> Option<&str> {
        match &self.kind {
            StepKind::Migrate {
                from: Source::Host(h),
                ..
            } => Some(h),
            _ => None,
        }
    }

    /// A migrate's destination.
    pub fn to(&self) -> Option<&str> {
        match &self.kind {
            StepKind::Migrate { to, .. } => Some(to),
            _ => None,
        }
    }

    /// The state the VM must be in for the step to run.
    pub fn expect_state(&self) -> Option<VmState> {
        match &self.kind {
            StepKind::Migrate { expect_state, .. }
            | StepKind::Shutdown { expect_state, .. }
            | StepKind::Start { expect_state, .. } => *expect_state,
            _ => None,
        }
    }
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
