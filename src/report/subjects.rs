//! What a run looked at, for the formats that show passes as well as failures (JUnit) and the
//! rule metadata that SARIF puts under `tool.driver.rules`.
//!
//! Findings only say what went wrong. A pipeline's test tab should also list what was checked
//! and passed. The engine records, as it evaluates, every subject each rule judged (as
//! positions: [`crate::engine::Judged`]); [`checked`] only names them for the report.

use crate::engine::{
    InventoryIndex, Judged, Request, Subjects, WAIVER_EXPIRED, WAIVER_UNUSED, cluster_of,
};
use crate::plan::Plan;
use crate::policy::{Phase, PolicySet, Rule, Severity};
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

/// The subjects the engine recorded as judged ([`Evaluation::judged`]), named: sorted and
/// without repeats. `index` is the index the run used (VM and host positions are its); `plan`
/// the plan a restore compared with (baseline positions are its).
///
/// [`Evaluation::judged`]: crate::engine::Evaluation::judged
pub fn checked(
    judged: &[Judged],
    index: &InventoryIndex<'_>,
    plan: Option<&Plan>,
) -> Vec<CheckedSubject> {
    let mut out = BTreeSet::new();
    for j in judged {
        let subject = |cluster: Option<&str>,
                       host: Option<&str>,
                       vm: Option<&str>,
                       vm_id: Option<&str>| CheckedSubject {
            rule: j.rule.clone(),
            cluster: cluster.map(String::from),
            host: host.map(String::from),
            vm: vm.map(String::from),
            vm_id: vm_id.map(String::from),
        };
        match &j.subjects {
            Subjects::Vms(vms) => {
                for &i in vms {
                    let vm = index.vm(i as usize);
                    let host = index.host_of_vm(i as usize).map(|h| index.host(h));
                    out.insert(subject(
                        host.and_then(|h| h.cluster.as_deref()),
                        Some(host.map_or(vm.host.as_str(), |h| h.name.as_str())),
                        Some(&vm.name),
                        vm.id.as_deref(),
                    ));
                }
            }
            Subjects::Hosts(hosts) => {
                for &h in hosts {
                    let host = index.host(h as usize);
                    out.insert(subject(
                        host.cluster.as_deref(),
                        Some(&host.name),
                        None,
                        None,
                    ));
                }
            }
            Subjects::PlanBaseline { vms, hosts } => {
                let Some(plan) = plan else { continue };
                for b in vms.iter().filter_map(|&b| plan.baseline.get(b as usize)) {
                    let cluster = cluster_of(plan, &b.host);
                    out.insert(subject(
                        cluster.as_deref(),
                        Some(&b.host),
                        Some(&b.name),
                        b.id.as_deref(),
                    ));
                }
                for h in hosts
                    .iter()
                    .filter_map(|&h| plan.request.hosts.get(h as usize))
                {
                    out.insert(subject(cluster_of(plan, h).as_deref(), Some(h), None, None));
                }
            }
            Subjects::Clusters(clusters) => {
                for c in clusters {
                    out.insert(subject(c.as_deref(), None, None, None));
                }
            }
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
            [
                "allowed-hosts:A1/v1",
                "anti-affinity:A1/v1",
                "capacity:A1/-",
                "capacity:A2/-",
                "cpu:A1/v1",
                "local-device:A1/v1",
                "local-media:A1/v1",
                "network:A1/v1",
                "non-ha-running:A1/v1"
            ]
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
        let restored = pipeline::restore(
            &policy,
            &prepared,
            &run.plan,
            &req,
            crate::engine::FailOn::Error,
            &[],
        );
        let got: Vec<String> = restored
            .checked
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
        assert_eq!(
            ids,
            [
                "non-ha-running",
                "local-media",
                "local-device",
                "capacity",
                "anti-affinity",
                "allowed-hosts",
                "network",
                "cpu"
            ]
        );
    }

    /// The selection this module used to re-run beside the engine (kept as the oracle): the
    /// subjects the engine now records must be the ones it found.
    mod oracle {
        use super::super::CheckedSubject;
        use crate::engine::{InventoryIndex, Request, applies_to};
        use crate::plan::Plan;
        use crate::policy::{Phase, PolicySet, RuleKind};
        use std::collections::BTreeSet;

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
                    RuleKind::Constraint { .. } => {
                        for pos in index.targets() {
                            let host = index.host(pos);
                            let leaves = |vm: &&crate::model::Vm| {
                                !vm.template
                                    && matches!(
                                        vm.state,
                                        crate::model::VmState::Running
                                            | crate::model::VmState::Unknown
                                    )
                            };
                            for vm in index.vms_on(pos).filter(leaves) {
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
                    RuleKind::Placement { .. } | RuleKind::Balance { .. } => {}
                }
            }
            out.into_iter().collect()
        }

        pub fn checked_restore(
            policy: &PolicySet,
            plan: &Plan,
            request: &Request,
        ) -> Vec<CheckedSubject> {
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
                    RuleKind::Vm(_) | RuleKind::Capacity { .. } | RuleKind::Constraint { .. } => {}
                }
            }
            out.into_iter().collect()
        }
    }

    /// A cluster with a host down, a second cluster, hosts without a cluster, a host the
    /// export lists in another case, templates, unknown states and a VM on an unlisted host.
    fn mixed_inventory() -> Inventory {
        let mut hosts = vec![
            host("A1", "A"),
            host("A2", "A"),
            host("A3", "A"),
            host("B1", "B"),
            host("B2", "B"),
        ];
        hosts[2].state = HostState::Down;
        for n in ["N1", "N2"] {
            hosts.push(Host {
                cluster: None,
                ..host(n, "")
            });
        }
        let mut vms = vec![
            vm("web1", "A1"),
            vm("db1", "a1"),
            vm("tpl", "A1"),
            vm("odd", "A1"),
            vm("web2", "A2"),
            vm("b-db", "B1"),
            vm("b-off", "B1"),
            vm("n-db", "N1"),
            vm("n-2", "N2"),
            vm("lost", "Z9"),
        ];
        vms[1].ha = Some(false);
        vms[2].template = true;
        vms[2].state = VmState::Off;
        vms[3].state = VmState::Unknown;
        vms[3].ha = None;
        vms[6].state = VmState::Off;
        vms[6].ha = Some(true);
        Inventory {
            hosts,
            vms,
            ..Inventory::default()
        }
    }

    fn mixed_policy() -> PolicySet {
        let mut sources = policy::builtin_sources();
        sources.push(crate::diag::SourceFile::new(
            "extra.toml",
            r#"
[[rule]]
id = "templates"
title = "Template on a drained host"
severity = "warning"
when = { template = true }

[[rule]]
id = "databases"
title = "Database VM"
severity = "info"
when = { name = "db" }

[[rule]]
id = "tight"
title = "Tight capacity"
kind = "capacity"
min_free_memory_pct = 50

[[rule]]
id = "vcpu-balance"
title = "vCPU balance"
kind = "balance"
metric = "vcpus"

[[rule]]
id = "failback"
title = "Failback"
kind = "placement"
trust_platform_failback = true
"#
            .to_string(),
        ));
        policy::load(sources).expect("valid policy")
    }

    /// The subjects the engine records as judged are the ones the old re-run selection found,
    /// for every kind, in both modes, single and rolling drains, audit and restore.
    #[test]
    fn judged_subjects_equal_the_old_selection() {
        let policy = mixed_policy();
        let prepared = Prepared::new(mixed_inventory());
        for hosts in [vec!["A1"], vec!["A1", "B1", "N1"], vec!["N2", "A2"]] {
            for mode in [Mode::Patch, Mode::Decommission] {
                for rolling in [false, true] {
                    let req = Request {
                        hosts: hosts.iter().map(|h| h.to_string()).collect(),
                        ..request(mode)
                    };
                    let options = pipeline::AuditOptions {
                        rolling,
                        ..Default::default()
                    };
                    let run = pipeline::audit(&policy, &prepared, &req, &options);
                    let index = InventoryIndex::new(&prepared, &req.hosts);
                    let expected = oracle::checked(&policy, &index, &req);
                    assert!(!expected.is_empty());
                    assert_eq!(run.checked, expected, "{hosts:?} {mode} rolling={rolling}");
                    // Restore against the same inventory, and against one where VMs moved or
                    // vanished and a target host is down.
                    let mut moved = mixed_inventory();
                    moved.vms.retain(|v| v.name != "web1");
                    for v in &mut moved.vms {
                        if v.name == "db1" {
                            v.host = "A2".into();
                        }
                    }
                    moved.hosts[0].state = HostState::Maintenance;
                    for inventory in [prepared.inventory().clone(), moved] {
                        let now = Prepared::new(inventory);
                        let restored = pipeline::restore(
                            &policy,
                            &now,
                            &run.plan,
                            &req,
                            crate::engine::FailOn::Error,
                            &[],
                        );
                        let expected = oracle::checked_restore(&policy, &run.plan, &req);
                        assert!(!expected.is_empty());
                        assert_eq!(restored.checked, expected, "restore {hosts:?} {mode}");
                    }
                }
            }
        }
    }

    /// The same scenario pinned by hand: one drained host of cluster A.
    #[test]
    fn judged_subjects_of_a_mixed_scenario() {
        let policy = mixed_policy();
        let prepared = Prepared::new(mixed_inventory());
        let req = request(Mode::Patch);
        let run = pipeline::audit(&policy, &prepared, &req, &Default::default());
        let show = |checked: &[CheckedSubject]| -> Vec<String> {
            checked
                .iter()
                .map(|s| {
                    let part = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
                    let (c, h, v) = (part(&s.cluster), part(&s.host), part(&s.vm));
                    format!("{}:{c}/{h}/{v}", s.rule)
                })
                .collect()
        };
        assert_eq!(
            show(&run.checked),
            [
                // A constraint rule judges the VMs that must leave the drained host (not the
                // template).
                "allowed-hosts:A/A1/db1",
                "allowed-hosts:A/A1/odd",
                "allowed-hosts:A/A1/web1",
                "anti-affinity:A/A1/db1",
                "anti-affinity:A/A1/odd",
                "anti-affinity:A/A1/web1",
                // Every host of the drained host's cluster, the one that is down too.
                "capacity:A/A1/-",
                "capacity:A/A2/-",
                "capacity:A/A3/-",
                // A vm rule judges the VMs of the drained host (listed there as `a1`), but
                // not the template unless the rule names templates.
                "cpu:A/A1/db1",
                "cpu:A/A1/odd",
                "cpu:A/A1/web1",
                "databases:A/A1/db1",
                "databases:A/A1/odd",
                "databases:A/A1/web1",
                "local-device:A/A1/db1",
                "local-device:A/A1/odd",
                "local-device:A/A1/web1",
                "local-media:A/A1/db1",
                "local-media:A/A1/odd",
                "local-media:A/A1/web1",
                "network:A/A1/db1",
                "network:A/A1/odd",
                "network:A/A1/web1",
                "non-ha-running:A/A1/db1",
                "non-ha-running:A/A1/odd",
                "non-ha-running:A/A1/web1",
                "templates:A/A1/db1",
                "templates:A/A1/odd",
                "templates:A/A1/tpl",
                "templates:A/A1/web1",
                "tight:A/A1/-",
                "tight:A/A2/-",
                "tight:A/A3/-",
            ]
        );
        let restored = pipeline::restore(
            &policy,
            &prepared,
            &run.plan,
            &req,
            crate::engine::FailOn::Error,
            &[],
        );
        assert_eq!(
            show(&restored.checked),
            [
                // Placement rules judge every baseline VM (the template too: it must be back
                // where it was), under the host name the export gave, and the drained host.
                "failback:A/A1/-",
                "failback:A/A1/odd",
                "failback:A/A1/tpl",
                "failback:A/A1/web1",
                "failback:A/a1/db1",
                // Balance rules judge the drained host's cluster.
                "imbalance:A/-/-",
                "not-restored:A/A1/-",
                "not-restored:A/A1/odd",
                "not-restored:A/A1/tpl",
                "not-restored:A/A1/web1",
                "not-restored:A/a1/db1",
                "vcpu-balance:A/-/-",
            ]
        );
    }
}
