//! What a run looked at, for the formats that show passes as well as failures (JUnit) and the
//! rule metadata that SARIF puts under `tool.driver.rules`.
//!
//! Findings only say what went wrong. A pipeline's test tab should also list what was checked
//! and passed, so the audit pipeline asks [`checked`] for every subject each rule judged. This is a pure
//! function of (policy, inventory, request) and mirrors the engine's selection: `vm` rules
//! judge every VM on the target hosts, `capacity` rules every host of the affected clusters.
//! For `restore`, [`checked_restore`] does the same from the plan: `placement` rules judge
//! every baseline VM and every target host (is it up again?), `balance` rules every affected
//! cluster.

use crate::engine::{InventoryIndex, Request, WAIVER_EXPIRED, WAIVER_UNUSED, applies_to};
use crate::plan::Plan;
use crate::policy::{Phase, PolicySet, Rule, RuleKind, Severity};
use serde::Serialize;
use std::collections::BTreeSet;

/// A rule as the reports describe it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// `vm`, `capacity`, `placement`, `balance`, or `waiver` for the policy's own checks.
    pub kind: String,
    pub description: Option<String>,
    pub remediation: Option<String>,
}

impl From<&Rule> for RuleInfo {
    fn from(r: &Rule) -> Self {
        RuleInfo {
            id: r.id.clone(),
            title: r.title.clone(),
            severity: r.severity,
            kind: r.kind.name().to_string(),
            description: r.description.clone(),
            remediation: r.remediation.clone(),
        }
    }
}

/// One subject one rule judged: a VM (with its host), a host (`vm` is `None`), or a cluster
/// (`host` and `vm` are `None`; `balance` rules).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CheckedSubject {
    pub rule: String,
    pub cluster: Option<String>,
    pub host: Option<String>,
    pub vm: Option<String>,
    /// The VM's id, where it has one: two VMs may share a name.
    pub vm_id: Option<String>,
}

/// How a cluster without a name is shown (the engine's balance findings say the same).
pub const NO_CLUSTER: &str = "(no cluster named)";

/// The rules a run of `phase` evaluates for the request, in policy order, followed by the
/// policy's own checks (expired and unused waivers) when the run honours waivers.
pub fn rules_run(policy: &PolicySet, request: &Request, phase: Phase) -> Vec<RuleInfo> {
    let mut out: Vec<RuleInfo> = policy
        .rules
        .iter()
        .filter(|r| r.phase == phase && r.applies_in(request.mode))
        .map(RuleInfo::from)
        .collect();
    if !request.no_waivers && !policy.waivers.is_empty() {
        out.push(waiver_rule(
            WAIVER_EXPIRED,
            "Waiver has expired",
            "Renew the waiver with a new expiry date, or fix what it excused",
        ));
        out.push(waiver_rule(
            WAIVER_UNUSED,
            "Waiver matched no finding",
            "Remove the waiver, or correct its vm/host pattern",
        ));
    }
    out
}

fn waiver_rule(id: &str, title: &str, remediation: &str) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        title: title.into(),
        severity: Severity::Warning,
        kind: "waiver".into(),
        description: Some(
            "A check of the policy's waivers, made on every run that honours them.".into(),
        ),
        remediation: Some(remediation.into()),
    }
}

/// Every subject each audit-phase rule of the request looked at, sorted and without repeats,
/// over the index the audit used.
pub fn checked(
    policy: &PolicySet,
    index: &InventoryIndex<'_>,
    request: &Request,
) -> Vec<CheckedSubject> {
    let mut out = BTreeSet::new();
    for rule in policy
        .rules
        .iter()
        .filter(|r| r.phase == Phase::Audit && r.applies_in(request.mode))
    {
        match rule.kind {
            RuleKind::Vm(ref when) => {
                for pos in index.targets() {
                    let host = index.host(pos);
                    for vm in index.vms_on(pos).filter(|vm| applies_to(when, vm)) {
                        out.insert(CheckedSubject {
                            rule: rule.id.clone(),
                            cluster: host.cluster.as_deref().map(str::to_string),
                            host: Some(host.name.to_string()),
                            vm: Some(vm.name.to_string()),
                            vm_id: vm.id.as_deref().map(str::to_string),
                        });
                    }
                }
            }
            RuleKind::Capacity { .. } => {
                for t in index.targets() {
                    for pos in index.cluster_peers(t) {
                        let host = index.host(pos);
                        out.insert(CheckedSubject {
                            rule: rule.id.clone(),
                            cluster: host.cluster.as_deref().map(str::to_string),
                            host: Some(host.name.to_string()),
                            vm: None,
                            vm_id: None,
                        });
                    }
                }
            }
            // Restore-phase kinds: not judged by an audit.
            RuleKind::Placement { .. } | RuleKind::Balance { .. } => {}
        }
    }
    out.into_iter().collect()
}

/// Every subject each restore-phase rule of the request looked at, from the plan `restore`
/// compared with: the baseline VMs and target hosts for `placement` rules, the clusters of
/// the target hosts for `balance` rules. Sorted and without repeats.
pub fn checked_restore(policy: &PolicySet, plan: &Plan, request: &Request) -> Vec<CheckedSubject> {
    // The cluster a host had when the plan was made, as the engine attributes findings.
    let cluster_of = |host: &str| {
        plan.loads
            .iter()
            .find(|l| l.host.eq_ignore_ascii_case(host))
            .and_then(|l| l.cluster.clone())
    };
    let mut out = BTreeSet::new();
    for rule in policy
        .rules
        .iter()
        .filter(|r| r.phase == Phase::Restore && r.applies_in(request.mode))
    {
        let subject = |host: Option<&str>, vm: Option<&str>, cluster| CheckedSubject {
            rule: rule.id.clone(),
            cluster,
            host: host.map(String::from),
            vm: vm.map(String::from),
            vm_id: None,
        };
        match rule.kind {
            RuleKind::Placement { .. } => {
                for b in &plan.baseline {
                    out.insert(CheckedSubject {
                        vm_id: b.id.clone(),
                        ..subject(Some(&b.host), Some(&b.name), cluster_of(&b.host))
                    });
                }
                for h in &plan.request.hosts {
                    out.insert(subject(Some(h), None, cluster_of(h)));
                }
            }
            RuleKind::Balance { .. } => {
                for h in &plan.request.hosts {
                    out.insert(subject(None, None, cluster_of(h)));
                }
            }
            // Audit-phase kinds: not judged by a restore.
            RuleKind::Vm(_) | RuleKind::Capacity { .. } => {}
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Host, HostState, Inventory, Platform, Vm, VmState};
    use crate::pipeline::{self, Prepared};
    use crate::policy::{self, Mode};

    fn host(name: &str, cluster: &str) -> Host {
        Host {
            name: name.into(),
            cluster: Some(cluster.into()),
            state: HostState::Up,
            memory_mb: Some(1024),
            cpus: None,
            implied: false,
            facts: Default::default(),
        }
    }

    fn vm(name: &str, host: &str) -> Vm {
        Vm {
            name: name.into(),
            id: None,
            host: host.into(),
            state: VmState::Running,
            ha: Some(true),
            memory_mb: Some(1),
            vcpus: None,
            tags: vec![],
            template: false,
            evidence: Default::default(),
            facts: None,
        }
    }

    fn request(mode: Mode) -> Request {
        Request {
            hosts: vec!["A1".into()],
            mode,
            platform: Platform::Hyperv,
            platform_assumed: false,
            now: "2026-01-01T00:00:00Z".parse().unwrap(),
            no_waivers: false,
        }
    }

    #[test]
    fn vm_rules_see_target_vms_and_capacity_sees_the_cluster() {
        let inventory = Inventory {
            hosts: vec![host("A1", "A"), host("A2", "A"), host("B1", "B")],
            vms: vec![vm("v1", "A1"), vm("v2", "A2"), vm("v3", "B1")],
            ..Inventory::default()
        };
        let policy = policy::load(policy::builtin_sources()).unwrap();
        let audit = |mode| {
            let prepared = Prepared::new(inventory.clone());
            pipeline::audit(&policy, &prepared, &request(mode), &Default::default()).checked
        };
        let got = audit(Mode::Patch);
        let names: Vec<String> = got
            .iter()
            .map(|s| {
                let host = s.host.as_deref().unwrap_or("-");
                format!("{}:{host}/{}", s.rule, s.vm.as_deref().unwrap_or("-"))
            })
            .collect();
        // stranded-ha-vm is decommission-only; restore rules are not audit rules.
        assert_eq!(
            names,
            ["capacity:A1/-", "capacity:A2/-", "non-ha-running:A1/v1"]
        );
        let decommission = audit(Mode::Decommission);
        assert!(decommission.iter().any(|s| s.rule == "stranded-ha-vm"));
    }

    #[test]
    fn restore_checks_baseline_vms_target_hosts_and_their_clusters() {
        let inventory = Inventory {
            hosts: vec![host("A1", "A"), host("A2", "A"), host("B1", "B")],
            vms: vec![vm("v1", "A1"), vm("v2", "A2"), vm("v3", "B1")],
            ..Inventory::default()
        };
        let policy = policy::load(policy::builtin_sources()).unwrap();
        let req = request(Mode::Patch);
        let prepared = Prepared::new(inventory);
        let run = pipeline::audit(&policy, &prepared, &req, &Default::default());
        let got: Vec<String> = checked_restore(&policy, &run.plan, &req)
            .iter()
            .map(|s| {
                let part = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
                format!(
                    "{}:{}/{}/{}",
                    s.rule,
                    part(&s.cluster),
                    part(&s.host),
                    part(&s.vm)
                )
            })
            .collect();
        // Only HV A1's VM was in the baseline; B is not an affected cluster.
        assert_eq!(
            got,
            [
                "imbalance:A/-/-",
                "not-restored:A/A1/-",
                "not-restored:A/A1/v1"
            ]
        );
        // An audit checks none of these: restore rules are not audit rules and back.
        assert!(
            run.checked
                .iter()
                .all(|s| s.rule != "imbalance" && s.rule != "not-restored")
        );
    }

    #[test]
    fn rules_run_follows_phase_and_mode() {
        let policy = policy::load(policy::builtin_sources()).unwrap();
        let ids: Vec<String> = rules_run(&policy, &request(Mode::Patch), Phase::Audit)
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["non-ha-running", "capacity"]);
    }
}
