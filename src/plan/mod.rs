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

use crate::model::{HostState, Vm, VmState};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

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
        /// A migrate that must move the VM's storage too: a disk of it is on the source host's
        /// own storage (the inventory says so; unknown disks claim neither).
        with_storage: bool,
        /// How much a move with storage copies, when every local disk's size is known.
        /// Always `None` without `with_storage`.
        storage_gb: Option<Gb>,
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

    /// How much a move with storage copies, when the plan knows it.
    pub fn storage_gb(&self) -> Option<Gb> {
        match self.kind {
            StepKind::Migrate { storage_gb, .. } => storage_gb,
            _ => None,
        }
    }

    /// What a move with storage does, in words, the same wherever a step is shown (the
    /// scripts' comments and messages): `moves with its storage, 120.5 GB`.
    pub fn storage_text(&self) -> Option<String> {
        self.with_storage()
            .then(|| storage_words(self.storage_gb()))
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

/// What a move with storage does, in words: `moves with its storage, 120.5 GB`, or with
/// `(size unknown)` when the plan does not know how much it copies.
pub fn storage_words(gb: Option<Gb>) -> String {
    match gb {
        Some(gb) => format!("moves with its storage, {gb} GB"),
        None => "moves with its storage (size unknown)".to_string(),
    }
}

/// An amount of storage in GB (GiB, as the platforms count it), kept to a tenth: the plan
/// writes it as a JSON number with at most one decimal (`120`, `0.5`), and the same digits
/// appear wherever the step is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gb {
    tenths: u64,
}

impl Gb {
    /// The largest amount a plan may state (a zettabyte is beyond any VM).
    const MAX_TENTHS: u64 = 10_000_000_000_000;

    /// MiB as GB, rounded up to the tenth: a copy is never understated, and a disk of a few
    /// MiB does not read as nothing.
    pub fn from_mib(mib: u64) -> Gb {
        Gb {
            tenths: mib.saturating_mul(10).div_ceil(1024).min(Self::MAX_TENTHS),
        }
    }

    /// A size read from a plan: a finite number, 0 or more, rounded to the tenth.
    pub fn from_f64(gb: f64) -> Option<Gb> {
        let tenths = (gb * 10.0).round();
        // (The cast saturates: a NaN or a negative becomes 0, and is refused here anyway.)
        (gb.is_finite() && gb >= 0.0 && tenths <= Self::MAX_TENTHS as f64).then_some(Gb {
            tenths: tenths as u64,
        })
    }

    /// Tenths of a GB.
    pub fn tenths(self) -> u64 {
        self.tenths
    }
}

impl fmt::Display for Gb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tenths % 10 {
            0 => write!(f, "{}", self.tenths / 10),
            d => write!(f, "{}.{d}", self.tenths / 10),
        }
    }
}

impl Serialize for Gb {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.tenths.is_multiple_of(10) {
            s.serialize_u64(self.tenths / 10)
        } else {
            // Exactly the digits Display writes: a tenth is the shortest f64 that prints so.
            s.serialize_f64(self.tenths as f64 / 10.0)
        }
    }
}

impl<'de> Deserialize<'de> for Gb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Gb, D::Error> {
        let gb = f64::deserialize(d)?;
        Gb::from_f64(gb).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`storage_gb` is {gb}, not a size in GB (a number, 0 or more)"
            ))
        })
    }
}

/// Whether a move of `vm` must take its storage along, and how much that copies: a disk known
/// to be on the host's own storage decides it; the size is known when every such disk's is.
/// Disks the inventory does not describe (or does not say are local) claim no storage move:
/// the vm rules report them as undetermined, and a script moving such a VM fails on the
/// platform's own check rather than copying disks nobody planned for.
pub(crate) fn storage_move(vm: &Vm) -> (bool, Option<Gb>) {
    let Some(disks) = vm.facts.as_ref().and_then(|f| f.disks.as_ref()) else {
        return (false, None);
    };
    let mut local = disks
        .iter()
        .filter(|d| d.is_shared() == Some(false))
        .peekable();
    if local.peek().is_none() {
        return (false, None);
    }
    let mib = local.try_fold(0u64, |sum, d| d.size_mb.map(|mb| sum.saturating_add(mb)));
    (true, mib.map(Gb::from_mib))
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

#[cfg(test)]
mod storage {
    use super::*;
    use crate::model::{FileRef, VmFacts};
    use std::collections::BTreeMap;

    #[test]
    fn gb_is_a_tenth_rounded_up_from_mib_and_printed_alike_everywhere() {
        assert_eq!(Gb::from_mib(0).to_string(), "0");
        assert_eq!(
            Gb::from_mib(1).to_string(),
            "0.1",
            "a tiny disk is not nothing"
        );
        assert_eq!(Gb::from_mib(120 * 1024).to_string(), "120");
        assert_eq!(Gb::from_mib(120 * 1024 + 1).to_string(), "120.1");
        assert_eq!(Gb::from_mib(1536).to_string(), "1.5");
        assert_eq!(Gb::from_mib(u64::MAX), Gb::from_mib(u64::MAX - 1));
        // The document writes the digits the text shows: an integer, or one decimal.
        for (mib, json) in [(120 * 1024, "120"), (1536, "1.5"), (1, "0.1")] {
            let gb = Gb::from_mib(mib);
            assert_eq!(serde_json::to_string(&gb).unwrap(), json);
            assert_eq!(serde_json::from_str::<Gb>(json).unwrap(), gb);
            assert_eq!(gb.to_string(), json);
        }
        assert_eq!(
            serde_json::from_str::<Gb>("120.0").unwrap().to_string(),
            "120"
        );
        assert_eq!(
            serde_json::from_str::<Gb>("0.25").unwrap().to_string(),
            "0.3"
        );
        for bad in ["-1", "-0.5", "\"120\"", "true", "1e300", "null"] {
            assert!(serde_json::from_str::<Gb>(bad).is_err(), "{bad}");
        }
    }

    fn vm(disks: Option<Vec<FileRef>>) -> Vm {
        Vm {
            name: "V".into(),
            id: None,
            host: "H1".into(),
            state: VmState::Running,
            ha: Some(false),
            memory_mb: Some(1024),
            vcpus: Some(1),
            tags: vec![],
            template: false,
            evidence: BTreeMap::new(),
            facts: disks.map(|d| {
                Box::new(VmFacts {
                    disks: Some(d),
                    ..VmFacts::default()
                })
            }),
        }
    }

    fn disk(path: &str, shared: Option<bool>, size_mb: Option<u64>) -> FileRef {
        FileRef {
            path: path.into(),
            shared,
            size_mb,
        }
    }

    #[test]
    fn only_known_local_disks_move_the_storage() {
        // Unknown disks claim nothing either way (not a storage move, not shared).
        assert_eq!(storage_move(&vm(None)), (false, None));
        assert_eq!(storage_move(&vm(Some(vec![]))), (false, None));
        let csv = disk(r"C:\ClusterStorage\V1\a.vhdx", None, Some(1024));
        let unsure = disk("D:\\VMs\\b.vhdx", None, Some(2048));
        assert_eq!(storage_move(&vm(Some(vec![csv.clone()]))), (false, None));
        assert_eq!(storage_move(&vm(Some(vec![unsure.clone()]))), (false, None));
        // Local disks: their sizes summed, shared ones left out.
        let a = disk("D:\\VMs\\a.vhdx", Some(false), Some(100 * 1024));
        let b = disk("host:E:", None, Some(20 * 1024 + 512));
        assert_eq!(
            storage_move(&vm(Some(vec![csv, a.clone(), unsure, b]))),
            (true, Some(Gb::from_mib(120 * 1024 + 512)))
        );
        // A local disk of unknown size: a storage move of unknown size, never a smaller one.
        let c = disk("D:\\VMs\\c.vhdx", Some(false), None);
        assert_eq!(storage_move(&vm(Some(vec![a, c]))), (true, None));
    }

    #[test]
    fn the_words_carry_the_size() {
        assert_eq!(
            storage_words(Some(Gb::from_mib(1536))),
            "moves with its storage, 1.5 GB"
        );
        assert_eq!(storage_words(None), "moves with its storage (size unknown)");
    }
}
