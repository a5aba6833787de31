//! What a run looked at, for the formats that show passes as well as failures (JUnit) and the
//! rule metadata that SARIF puts under `tool.driver.rules`.
//!
//! Findings only say what went wrong. A pipeline's test tab should also list what was checked
//! and passed, so the CLI asks [`checked`] for every subject each rule judged. This is a pure
//! function of (policy, inventory, request) and mirrors the engine's selection: `vm` rules
//! judge every VM on the target hosts, `capacity` rules every host of the affected clusters.

use crate::engine::{InventoryIndex, Request, WAIVER_EXPIRED, WAIVER_UNUSED};
use crate::model::Inventory;
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

/// One subject one rule judged: a VM (with its host), or a host (`vm` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CheckedSubject {
    pub rule: String,
    pub cluster: Option<String>,
    pub host: String,
    pub vm: Option<String>,
}

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

/// Every subject each audit-phase rule of the request looked at, sorted and without repeats.
pub fn checked(
    policy: &PolicySet,
    inventory: &Inventory,
    request: &Request,
) -> Vec<CheckedSubject> {
    let index = InventoryIndex::new(inventory, &request.hosts);
    let mut out = BTreeSet::new();
    for rule in policy
        .rules
        .iter()
        .filter(|r| r.phase == Phase::Audit && r.applies_in(request.mode))
    {
        match rule.kind {
            RuleKind::Vm(_) => {
                for pos in index.targets() {
                    let host = index.host(pos);
                    for vm in index.vms_on(pos) {
                        out.insert(CheckedSubject {
                            rule: rule.id.clone(),
                            cluster: host.cluster.clone(),
                            host: host.name.clone(),
                            vm: Some(vm.name.clone()),
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
                            cluster: host.cluster.clone(),
                            host: host.name.clone(),
                            vm: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Host, HostState, Platform, Vm, VmState};
    use crate::policy::{self, Mode};

    fn host(name: &str, cluster: &str) -> Host {
        Host {
            name: name.into(),
            cluster: Some(cluster.into()),
            state: HostState::Up,
            memory_mb: Some(1024),
            cpus: None,
            implied: false,
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
            evidence: Default::default(),
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
        let got = checked(&policy, &inventory, &request(Mode::Patch));
        let names: Vec<String> = got
            .iter()
            .map(|s| format!("{}:{}/{}", s.rule, s.host, s.vm.as_deref().unwrap_or("-")))
            .collect();
        // stranded-ha-vm is decommission-only; restore rules are not audit rules.
        assert_eq!(
            names,
            ["capacity:A1/-", "capacity:A2/-", "non-ha-running:A1/v1"]
        );
        let decommission = checked(&policy, &inventory, &request(Mode::Decommission));
        assert!(decommission.iter().any(|s| s.rule == "stranded-ha-vm"));
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
