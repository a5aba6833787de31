//! Evaluation: a pure function of (policy, inventory, request, now) to findings.
//!
//! No I/O and no clock: time comes in as [`Request::now`]. The inventory is indexed by host
//! once, so the work is linear in the number of VMs.

mod balance;
mod capacity;
mod constraint;
mod dispatch;
#[cfg(test)]
mod drain_tests;
mod finding;
mod hosts_now;
mod index;
mod judged;
mod restore;
mod rolling;
mod select;
mod verdict;
mod vm_rules;
mod waivers;

pub use balance::{ClusterBalance, HostSample, cluster_imbalance, imbalance};
pub use capacity::{
    DrainPlacement, Earlier, HostLoad, Placement, drain_placement, loads_host, place_largest_first,
};
pub use finding::{AppliedWaiver, Finding, WAIVER_EXPIRED, WAIVER_UNUSED, fold_findings};
pub(crate) use hosts_now::cluster_of;
pub use index::InventoryIndex;
pub use judged::{Judged, Subjects};
pub use restore::Restored;
pub(crate) use restore::restore;
pub use select::resolve_hosts;
pub use verdict::{FailOn, Outcome, Verdict, decide};
#[cfg(test)]
pub(crate) use vm_rules::applies_to;
pub use waivers::apply_waivers;

use crate::model::{Inventory, Platform};
use crate::platform::{Profile, profile};
use crate::policy::{Mode, Phase, PolicySet};
use dispatch::{AuditStage, Stage};

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The target hosts, resolved to their exact inventory names.
    pub hosts: Vec<String>,
    pub mode: Mode,
    pub platform: Platform,
    /// True when neither the inventory nor `--platform` named the platform.
    pub platform_assumed: bool,
    pub now: jiff::Timestamp,
    pub no_waivers: bool,
}

/// Everything an audit found.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    /// Memory load of every host of the affected clusters, before and after the drain.
    pub loads: Vec<HostLoad>,
    /// Why the inventory cannot be trusted for a verdict (exit 3), if it cannot.
    pub untrusted: Option<String>,
    /// Plain statements about what could not be judged and why.
    pub notes: Vec<String>,
    /// Every subject each rule of the run judged, passed or failed, in policy order.
    pub judged: Vec<Judged>,
}

/// Runs every audit-phase rule for the request over the index built for `request.hosts`;
/// `rolling` drains the target hosts one at a time (capacity is then checked for each host's
/// drain on its own). Runs are made by the audit pipeline ([`crate::pipeline::audit`]); the
/// planner's own tests call this stage directly.
pub(crate) fn evaluate(
    policy: &PolicySet,
    index: &InventoryIndex<'_>,
    request: &Request,
    rolling: bool,
) -> Evaluation {
    let inventory = index.inventory;
    let profile: &dyn Profile = profile(request.platform);
    let mut eval = Evaluation::default();
    let mut judged = Vec::new();
    let mut stage = AuditStage {
        index,
        profile,
        hosts: &request.hosts,
        rolling,
        mode: request.mode,
        eval: &mut eval,
    };
    for rule in policy
        .rules
        .iter()
        .filter(|r| r.phase == Phase::Audit && r.applies_in(request.mode))
    {
        if let Some(subjects) = dispatch::evaluate(rule, Stage::Audit(&mut stage)) {
            judged.push(Judged {
                rule: rule.id.clone(),
                subjects,
            });
        }
    }
    eval.judged = judged;
    if eval.loads.is_empty() {
        eval.loads = if rolling {
            rolling::loads(index, &request.hosts, request.mode)
        } else {
            capacity::loads_without_rule(index, &capacity::Earlier::default())
        };
    }
    eval.untrusted = no_vms(inventory).or_else(|| check_age(policy, inventory, request.now));
    if request.platform_assumed {
        eval.notes.push(format!(
            "the inventory does not say which platform it came from: findings describe what {} would do (pass --platform to say)",
            request.platform
        ));
    }
    for gap in &inventory.gaps {
        eval.notes.push(format!(
            "{} of the inventory's records have no `{}`: {}",
            gap.count, gap.field, gap.hint
        ));
    }
    apply_waivers(policy, request, &mut eval.findings);
    eval.findings.sort_by(Finding::report_order);
    eval
}

/// An inventory from which not a single VM was read (all files merged) proves
/// nothing about the hosts, whatever else it lists: exit 3 with that reason.
pub(crate) fn no_vms(inventory: &Inventory) -> Option<String> {
    inventory.vms.is_empty().then(|| {
        format!(
            "not a single VM was read from the inventory ({} host(s), no VM): it proves nothing about what runs on the hosts; export the VMs too",
            inventory.hosts.len()
        )
    })
}

/// `max_inventory_age` against `collected_at` (an older inventory exits 3).
pub fn check_age(
    policy: &PolicySet,
    inventory: &Inventory,
    now: jiff::Timestamp,
) -> Option<String> {
    let max = policy.max_inventory_age.as_ref()?;
    let Some(collected) = inventory.collected_at else {
        return Some(format!(
            "the policy sets max_inventory_age = \"{}\" but the inventory does not say when it was collected (no collected_at)",
            max.text
        ));
    };
    let age = now.duration_since(collected);
    (age > max.limit).then(|| {
        format!(
            "the inventory was collected at {collected}, {} before --now; the policy allows {}",
            human(age),
            max.text
        )
    })
}

fn human(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (hours, mins) = (rest / 3600, (rest % 3600) / 60);
    match (days, hours) {
        (0, 0) => format!("{mins}m"),
        (0, h) => format!("{h}h {mins}m"),
        (d, h) => format!("{d}d {h}h"),
    }
}
