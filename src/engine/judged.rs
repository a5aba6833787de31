//! What each rule judged: every subject it looked at, passed or failed, recorded by the
//! evaluation itself so that the reports that list passes (JUnit) show what was really judged.
//!
//! Subjects are kept as positions, not names: four bytes a subject, turned into names only
//! when a report asks ([`crate::report::subjects::checked`]).

/// The subjects one rule judged in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// The rule's id.
    pub rule: String,
    pub subjects: Subjects,
}

/// Subjects by position; which positions depends on what the kind judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subjects {
    /// VMs, by canonical position in the run's [`super::InventoryIndex`].
    Vms(Vec<u32>),
    /// Hosts, by position in the inventory.
    Hosts(Vec<u32>),
    /// The VMs of a plan's baseline (positions in `plan.baseline`) and the plan's target hosts
    /// (positions in `plan.request.hosts`), for rules that compare a plan with a fresh
    /// inventory.
    PlanBaseline { vms: Vec<u32>, hosts: Vec<u32> },
    /// Clusters, by the name the plan recorded for them (`None`: hosts without a cluster).
    Clusters(Vec<Option<String>>),
}

impl Subjects {
    /// How many subjects were judged.
    pub fn len(&self) -> usize {
        match self {
            Subjects::Vms(v) | Subjects::Hosts(v) => v.len(),
            Subjects::PlanBaseline { vms, hosts } => vms.len() + hosts.len(),
            Subjects::Clusters(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
