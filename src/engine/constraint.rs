//! `constraint` rules (CONTRACT 7.2): the drain against the VMs' placement constraints.
//!
//! The VMs judged are the running VMs of the drained hosts (and those whose power state is
//! unknown: they may be running): the platform's drain moves the HA ones, the plan moves the
//! others the policy wants moved; either way they need a host that stays up. A VM violates a
//! check when no host that stays up in its cluster satisfies the constraint, judged by facts
//! alone (room is the capacity rule's); each candidate host is named with why it is excluded.
//! A VM whose needed fact is unknown while other records carry it is undetermined (a finding,
//! never a pass); a fact no record carries is one gap finding per rule naming what to export.

use super::finding::Finding;
use super::index::InventoryIndex;
use crate::model::{Fact, Host, HostState, Vm, VmState};
use crate::placement::constraints::{Exclusion, excluded};
use crate::policy::{Check, Rule, Severity};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Whether the VM needs a host that stays up when its host is drained.
fn leaves(vm: &Vm) -> bool {
    !vm.template && matches!(vm.state, VmState::Running | VmState::Unknown)
}

/// Whether the VM holds its host (for the groups of the VMs that stay).
fn holds(vm: &Vm) -> bool {
    !vm.template && (vm.state.is_active() || vm.state == VmState::Unknown)
}

/// What to export to close the gap of a fact no record carries.
fn export_hint(fact: Fact) -> &'static str {
    match fact {
        Fact::Networks => {
            "`networks` on each VM (SCVMM VirtualNetworkAdapters, Hyper-V NetworkAdapters.SwitchName, Proxmox netN bridge, vSphere port groups)"
        }
        Fact::HostNetworks => {
            "`networks` on each host (Hyper-V Get-VMSwitch, Proxmox bridges, vSphere port groups)"
        }
        Fact::CpuCompat => {
            "`cpu_compat` on each VM (SCVMM LimitCPUForMigration, Hyper-V Get-VMProcessor CompatibilityForMigrationEnabled, a Proxmox CPU type other than host, vSphere EVC)"
        }
        Fact::HostCpu => "`cpu` on each host (its CPU model)",
        _ => "the fact",
    }
}

/// One drain of a cluster: the VMs that leave, the hosts that take them, the VMs that stay.
struct Drain<'a> {
    cluster: Option<String>,
    /// Canonical VM positions, with the host they leave.
    moving: Vec<(usize, &'a Vm, &'a Host)>,
    receivers: Vec<&'a Host>,
    /// VMs that hold a receiver, with its position in `receivers`.
    staying: Vec<(&'a Vm, usize)>,
}

fn drains<'a>(index: &InventoryIndex<'a>) -> Vec<Drain<'a>> {
    let by_cluster = index.by_cluster(index.targets());
    let mut out = Vec::new();
    for (cluster, targets) in by_cluster {
        let mut d = Drain {
            cluster,
            moving: Vec::new(),
            receivers: Vec::new(),
            staying: Vec::new(),
        };
        for pos in index.cluster_peers(targets[0]) {
            let host = index.host(pos);
            if index.is_target(pos) {
                for &i in index.vm_positions_on(pos) {
                    let vm = index.vm(i);
                    if leaves(vm) {
                        d.moving.push((i, vm, host));
                    }
                }
            } else if host.state == HostState::Up {
                let r = d.receivers.len();
                d.receivers.push(host);
                d.staying
                    .extend(index.vms_on(pos).filter(|vm| holds(vm)).map(|vm| (vm, r)));
            }
        }
        out.push(d);
    }
    out
}

/// What one host means for one VM under one check.
enum Verdict {
    Fits,
    Excluded(Exclusion),
    Unknown(&'static str),
}

/// Evaluates one constraint rule; the canonical positions of the VMs it judged.
pub(super) fn evaluate(
    rule: &Rule,
    check: Check,
    gap_severity: Severity,
    index: &InventoryIndex<'_>,
    out: &mut Vec<Finding>,
) -> Vec<u32> {
    let drains = drains(index);
    let mut judged: Vec<u32> = drains
        .iter()
        .flat_map(|d| d.moving.iter().map(|(i, ..)| *i as u32))
        .collect();
    judged.sort_unstable();
    if judged.is_empty() {
        return judged;
    }
    let carried = index.inventory.facts_carried();
    let emit = Emit { rule };
    // A fact no record carries: one finding for the export, nothing per VM.
    let needs: &[Fact] = match check {
        Check::Network => &[Fact::Networks, Fact::HostNetworks],
        Check::Cpu => &[Fact::CpuCompat, Fact::HostCpu],
        _ => &[],
    };
    let missing: Vec<Fact> = needs
        .iter()
        .copied()
        .filter(|f| !carried.contains(*f))
        .filter(|f| {
            // A host fact is needed only once a VM asks it (a VM with networks, a VM without
            // CPU compatibility), or when the VMs' own fact is missing too.
            let asks = |p: &dyn Fn(&crate::model::VmFacts) -> bool| {
                drains
                    .iter()
                    .flat_map(|d| d.moving.iter())
                    .any(|(_, vm, _)| vm.facts.as_deref().is_some_and(p))
            };
            match f {
                Fact::HostNetworks => {
                    !carried.contains(Fact::Networks)
                        || asks(&|v| v.networks.as_ref().is_some_and(|n| !n.is_empty()))
                }
                Fact::HostCpu => {
                    !carried.contains(Fact::CpuCompat) || asks(&|v| v.cpu_compat == Some(false))
                }
                _ => true,
            }
        })
        .collect();
    let first = drains
        .iter()
        .find_map(|d| d.moving.first().map(|(_, _, host)| (d, *host)));
    // A fact no record carries is a gap of the export (also of one made before the facts
    // existed): one finding for the whole rule, however many drains or VMs it leaves
    // unjudged, at the rule's `gap_severity`.
    if !missing.is_empty() {
        let Some((d, host)) = first else {
            return judged;
        };
        let hints: Vec<&str> = missing.iter().map(|f| export_hint(*f)).collect();
        let mut ev = BTreeMap::new();
        ev.insert(
            "gap".into(),
            json!(missing.iter().map(|f| f.name()).collect::<Vec<_>>()),
        );
        ev.insert("export".into(), json!(hints));
        let mut f = emit.finding(
            None,
            &host.name,
            d.cluster.as_deref(),
            format!(
                "cannot check the `{check}` constraint: no record of the inventory carries {} (export it to judge the drain)",
                hints.join(" nor ")
            ),
            ev,
        );
        f.severity = gap_severity;
        out.push(f);
        return judged;
    }
    for d in &drains {
        if d.receivers.is_empty() {
            // No host stays up: the capacity rule says so; no constraint can be judged.
            continue;
        }
        match check {
            Check::AntiAffinity => anti_affinity(&emit, d, out),
            Check::Affinity => affinity(&emit, d, out),
            Check::AllowedHosts | Check::Network | Check::Cpu => {
                for &(_, vm, from) in &d.moving {
                    per_vm(&emit, check, d, vm, from, out);
                }
            }
        }
    }
    judged
}

struct Emit<'r> {
    rule: &'r Rule,
}

impl Emit<'_> {
    fn finding(
        &self,
        vm: Option<&Vm>,
        host: &str,
        cluster: Option<&str>,
        detail: String,
        evidence: BTreeMap<String, Value>,
    ) -> Finding {
        let rule = self.rule;
        let mut values: BTreeMap<&str, String> = BTreeMap::new();
        values.insert("host", host.to_string());
        values.insert("vm", vm.map(|v| v.name.to_string()).unwrap_or_default());
        values.insert("cluster", cluster.unwrap_or_default().to_string());
        values.insert("rule", rule.id.clone());
        values.insert("title", rule.title.clone());
        values.insert("detail", detail);
        Finding {
            rule: rule.id.clone(),
            title: None,
            severity: rule.severity,
            vm: vm.map(|v| v.name.to_string()),
            vm_id: vm.and_then(|v| v.id.as_deref().map(String::from)),
            host: Some(host.to_string()),
            cluster: cluster.map(String::from),
            message: rule.message.render(&values),
            remediation: rule.remediation.clone(),
            evidence,
            waived: false,
            waiver: None,
        }
    }
}

fn scope(cluster: Option<&str>) -> String {
    match cluster {
        Some(c) => format!("cluster {c}"),
        None => "the hosts (the inventory names no cluster)".to_string(),
    }
}

fn candidates_json(list: &[(String, String)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(h, why)| json!({"host": h, "reason": why}))
            .collect(),
    )
}

fn candidates_text(list: &[(String, String)]) -> String {
    list.iter()
        .map(|(h, why)| format!("{h}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One host under one per-VM check.
fn judge(check: Check, vm: &Vm, from: &Host, to: &Host) -> Verdict {
    let Some(f) = vm.facts.as_deref() else {
        return match check {
            Check::AllowedHosts => Verdict::Fits,
            Check::Network => Verdict::Unknown("the VM's networks"),
            _ => Verdict::Unknown("the VM's CPU compatibility"),
        };
    };
    match check {
        Check::AllowedHosts => match excluded(vm, Some(from), to) {
            Some(Exclusion::NotAllowed) => Verdict::Excluded(Exclusion::NotAllowed),
            _ => Verdict::Fits,
        },
        Check::Network => {
            let Some(need) = &f.networks else {
                return Verdict::Unknown("the VM's networks");
            };
            if need.is_empty() {
                return Verdict::Fits;
            }
            let Some(offered) = &to.facts.networks else {
                return Verdict::Unknown("the host's networks");
            };
            let missing: Vec<_> = need
                .iter()
                .filter(|n| !offered.iter().any(|o| o.eq_ignore_ascii_case(n)))
                .cloned()
                .collect();
            if missing.is_empty() {
                Verdict::Fits
            } else {
                Verdict::Excluded(Exclusion::Networks(missing))
            }
        }
        _ => match f.cpu_compat {
            None => Verdict::Unknown("the VM's CPU compatibility"),
            Some(true) => Verdict::Fits,
            Some(false) => match (&from.facts.cpu, &to.facts.cpu) {
                (None, _) => Verdict::Unknown("the CPU model of the host it leaves"),
                (_, None) => Verdict::Unknown("the host's CPU model"),
                (Some(a), Some(b)) if a == b => Verdict::Fits,
                (Some(a), Some(b)) => Verdict::Excluded(Exclusion::Cpu {
                    from: a.clone(),
                    to: b.clone(),
                }),
            },
        },
    }
}

fn per_vm(
    emit: &Emit<'_>,
    check: Check,
    d: &Drain<'_>,
    vm: &Vm,
    from: &Host,
    out: &mut Vec<Finding>,
) {
    let mut excluded_list: Vec<(String, String)> = Vec::new();
    let mut unknown: Vec<(String, &'static str)> = Vec::new();
    for to in &d.receivers {
        match judge(check, vm, from, to) {
            Verdict::Fits => return,
            Verdict::Excluded(e) => excluded_list.push((to.name.to_string(), e.to_string())),
            Verdict::Unknown(what) => unknown.push((to.name.to_string(), what)),
        }
    }
    let scope = scope(d.cluster.as_deref());
    let mut ev = BTreeMap::new();
    ev.insert("check".into(), json!(check.as_str()));
    if let Some(f) = vm.facts.as_deref() {
        match check {
            Check::AllowedHosts => {
                ev.insert("allowed_hosts".into(), json!(f.allowed_hosts));
            }
            Check::Network => {
                ev.insert("networks".into(), json!(f.networks));
            }
            _ => {
                ev.insert("cpu_compat".into(), json!(f.cpu_compat));
                ev.insert("cpu".into(), json!(from.facts.cpu));
            }
        }
    }
    ev.insert("candidates".into(), candidates_json(&excluded_list));
    let detail = if unknown.is_empty() {
        let what = match check {
            Check::AllowedHosts => "is among its allowed hosts",
            Check::Network => "offers all of its networks",
            _ => "has its CPU model (and it has no CPU compatibility)",
        };
        format!(
            "{} must leave {} but no host that stays up in {scope} {what}: {}",
            vm.name,
            from.name,
            candidates_text(&excluded_list)
        )
    } else {
        let mut whats: Vec<&str> = unknown.iter().map(|(_, w)| *w).collect();
        whats.sort_unstable();
        whats.dedup();
        ev.insert("undetermined".into(), json!(whats));
        let hosts: Vec<&str> = unknown.iter().map(|(h, _)| h.as_str()).collect();
        let mut text = format!(
            "{} must leave {} and the `{check}` constraint cannot be judged: {} unknown (for {}), so it is not known to hold on any host that stays up in {scope}",
            vm.name,
            from.name,
            whats.join(", "),
            hosts.join(", ")
        );
        if !excluded_list.is_empty() {
            text.push_str(&format!("; {}", candidates_text(&excluded_list)));
        }
        text
    };
    out.push(emit.finding(Some(vm), &from.name, d.cluster.as_deref(), detail, ev));
}

/// A group's name as first spelled, and its moving members with the hosts they leave.
type Group<'a> = (String, Vec<(&'a Vm, &'a Host)>);

/// Groups of moving VMs by name (folded), in name order, with their members.
fn groups<'a>(d: &Drain<'a>, names: impl Fn(&Vm) -> Vec<String>) -> BTreeMap<String, Group<'a>> {
    let mut out: BTreeMap<String, Group<'a>> = BTreeMap::new();
    for &(_, vm, from) in &d.moving {
        for g in names(vm) {
            out.entry(g.to_lowercase())
                .or_insert_with(|| (g.clone(), Vec::new()))
                .1
                .push((vm, from));
        }
    }
    out
}

fn anti_affinity(emit: &Emit<'_>, d: &Drain<'_>, out: &mut Vec<Finding>) {
    let names = |vm: &Vm| -> Vec<String> {
        vm.facts
            .iter()
            .flat_map(|f| f.anti_affinity.iter().map(|g| g.to_string()))
            .collect()
    };
    for (key, (name, members)) in groups(d, names) {
        let mut taken: Vec<(String, String)> = Vec::new();
        let mut free: Vec<&str> = Vec::new();
        for (r, host) in d.receivers.iter().enumerate() {
            let on: Vec<&str> = d
                .staying
                .iter()
                .filter(|(vm, at)| {
                    *at == r
                        && vm.facts.as_deref().is_some_and(|f| {
                            f.anti_affinity.iter().any(|g| g.to_lowercase() == key)
                        })
                })
                .map(|(vm, _)| vm.name.as_str())
                .collect();
            if on.is_empty() {
                free.push(&host.name);
            } else {
                taken.push((
                    host.name.to_string(),
                    format!("runs {} of anti-affinity group {name}", on.join(", ")),
                ));
            }
        }
        if members.len() <= free.len() {
            continue;
        }
        let vms: Vec<&str> = members.iter().map(|(vm, _)| vm.name.as_str()).collect();
        let (_, from) = members[0];
        let mut ev = BTreeMap::new();
        ev.insert("check".into(), json!("anti-affinity"));
        ev.insert("group".into(), json!(name));
        ev.insert("members".into(), json!(vms));
        ev.insert("free_hosts".into(), json!(free));
        ev.insert("candidates".into(), candidates_json(&taken));
        let room_for = match free.len() {
            0 => format!(
                "every host that stays up in {} runs a member",
                scope(d.cluster.as_deref())
            ),
            1 => format!(
                "only {} stays up in {} without a member",
                free[0],
                scope(d.cluster.as_deref())
            ),
            n => format!(
                "only {n} hosts stay up in {} without a member ({})",
                scope(d.cluster.as_deref()),
                free.join(", ")
            ),
        };
        let detail = format!(
            "anti-affinity group {name}: {} must leave the drained hosts, but {room_for}{}, so two members would share a host",
            vms.join(", "),
            if taken.is_empty() {
                String::new()
            } else {
                format!(" ({})", candidates_text(&taken))
            }
        );
        out.push(emit.finding(None, &from.name, d.cluster.as_deref(), detail, ev));
    }
}

fn affinity(emit: &Emit<'_>, d: &Drain<'_>, out: &mut Vec<Finding>) {
    let names = |vm: &Vm| -> Vec<String> {
        vm.facts
            .iter()
            .flat_map(|f| f.affinity.iter().map(|g| g.to_string()))
            .collect()
    };
    for (key, (name, members)) in groups(d, names) {
        // Receivers a staying member holds: the moving members must join it there.
        let mut pinned: Vec<usize> = d
            .staying
            .iter()
            .filter(|(vm, _)| {
                vm.facts
                    .as_deref()
                    .is_some_and(|f| f.affinity.iter().any(|g| g.to_lowercase() == key))
            })
            .map(|(_, at)| *at)
            .collect();
        pinned.sort_unstable();
        pinned.dedup();
        let mut refused: Vec<(String, String)> = Vec::new();
        let mut fits = false;
        for (r, to) in d.receivers.iter().enumerate() {
            if !pinned.is_empty() && !pinned.contains(&r) {
                refused.push((
                    to.name.to_string(),
                    format!("runs no member of affinity group {name}, which stays elsewhere"),
                ));
                continue;
            }
            let why = members
                .iter()
                .find_map(|(vm, from)| excluded(vm, Some(from), to).map(|e| (vm.name.as_str(), e)));
            match why {
                Some((vm, e)) => refused.push((to.name.to_string(), format!("{vm}: {e}"))),
                None => fits = true,
            }
        }
        if fits && pinned.len() <= 1 {
            continue;
        }
        let vms: Vec<&str> = members.iter().map(|(vm, _)| vm.name.as_str()).collect();
        let (_, from) = members[0];
        let mut ev = BTreeMap::new();
        ev.insert("check".into(), json!("affinity"));
        ev.insert("group".into(), json!(name));
        ev.insert("members".into(), json!(vms));
        ev.insert("candidates".into(), candidates_json(&refused));
        let detail = format!(
            "affinity group {name}: {} must leave the drained hosts but no host that stays up in {} can take them together with the members that stay: {}",
            vms.join(", "),
            scope(d.cluster.as_deref()),
            candidates_text(&refused)
        );
        out.push(emit.finding(None, &from.name, d.cluster.as_deref(), detail, ev));
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::SourceFile;
    use crate::engine::{Finding, Request};
    use crate::model::Platform;
    use crate::pipeline::{self, AuditOptions, Prepared};
    use crate::policy::{Mode, Severity};
    use serde_json::{Value, json};

    /// Three hosts of one cluster, N1 drained; `vms` and the hosts' `extra` facts given.
    fn run(check: &str, extra_rule: &str, hosts: Value, vms: Value) -> Vec<Finding> {
        let policy = format!(
            "[[rule]]\nid = \"c\"\ntitle = \"t\"\nseverity = \"error\"\nkind = \"constraint\"\ncheck = \"{check}\"\n{extra_rule}"
        );
        audit(&policy, &["N1"], hosts, vms)
            .into_iter()
            .filter(|f| f.rule == "c")
            .collect()
    }

    /// Every finding of `policy` (TOML) on a Hyper-V inventory of `hosts` and `vms`, with
    /// `drained` drained for patching.
    fn audit(policy: &str, drained: &[&str], hosts: Value, vms: Value) -> Vec<Finding> {
        let inv = json!({"platform": "hyperv", "hosts": hosts, "vms": vms});
        let parsed = crate::inventory::parse("inv.json", inv.to_string().as_bytes(), None)
            .expect("a valid inventory");
        let policy = crate::policy::load(vec![SourceFile::new("p.toml", policy.to_string())])
            .expect("a valid policy");
        let request = Request {
            hosts: drained.iter().map(|h| h.to_string()).collect(),
            mode: Mode::Patch,
            platform: Platform::Hyperv,
            platform_assumed: false,
            now: "2026-11-25T17:00:00Z".parse().expect("a timestamp"),
            no_waivers: false,
        };
        pipeline::audit(
            &policy,
            &Prepared::new(parsed.inventory),
            &request,
            &AuditOptions::default(),
        )
        .eval
        .findings
    }

    fn hosts(n2: Value, n3: Value) -> Value {
        let mut out = vec![
            json!({"name": "N1", "cluster": "C", "state": "up", "memory_mb": 65536,
            "networks": ["Prod"], "cpu": "Xeon"}),
        ];
        for (name, extra) in [("N2", n2), ("N3", n3)] {
            let mut h = json!({"name": name, "cluster": "C", "state": "up", "memory_mb": 65536});
            if let (Some(h), Some(e)) = (h.as_object_mut(), extra.as_object()) {
                h.extend(e.clone());
            }
            out.push(h);
        }
        Value::Array(out)
    }

    fn vm(name: &str, host: &str, facts: Value) -> Value {
        let mut v =
            json!({"name": name, "host": host, "state": "running", "ha": true, "memory_mb": 4096});
        if let (Some(v), Some(f)) = (v.as_object_mut(), facts.as_object()) {
            v.extend(f.clone());
        }
        v
    }

    #[test]
    fn network_missing_on_every_host_is_a_violation_naming_each_host() {
        let h = hosts(
            json!({"networks": ["Backup"]}),
            json!({"networks": ["Prod-2"]}),
        );
        let f = run(
            "network",
            "",
            h,
            json!([vm("A", "N1", json!({"networks": ["Prod"]}))]),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].vm.as_deref(), Some("A"));
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].message.contains("N2: lacks network Prod")
                && f[0].message.contains("N3: lacks network Prod"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence["candidates"][0]["host"], "N2");
    }

    #[test]
    fn network_offered_by_one_host_passes() {
        let h = hosts(
            json!({"networks": ["Backup"]}),
            json!({"networks": ["prod"]}),
        );
        let f = run(
            "network",
            "",
            h,
            json!([vm("A", "N1", json!({"networks": ["Prod"]}))]),
        );
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn a_vm_without_networks_while_others_carry_them_is_undetermined() {
        let h = hosts(json!({"networks": ["Prod"]}), json!({"networks": ["Prod"]}));
        let f = run(
            "network",
            "",
            h,
            json!([
                vm("A", "N1", json!({"networks": ["Prod"]})),
                vm("B", "N1", json!({}))
            ]),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].vm.as_deref(), Some("B"));
        assert_eq!(f[0].evidence["undetermined"], json!(["the VM's networks"]));
    }

    #[test]
    fn networks_no_record_carries_are_one_gap_with_its_severity() {
        let vms = json!([
            vm("A", "N1", json!({"cpu_compat": true})),
            vm("B", "N1", json!({}))
        ]);
        let f = run(
            "network",
            "",
            json!([{"name": "N1", "cluster": "C", "state": "up", "memory_mb": 1},
            {"name": "N2", "cluster": "C", "state": "up", "memory_mb": 1}]),
            vms.clone(),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].vm, None);
        assert!(
            f[0].message.contains("`networks` on each VM"),
            "{}",
            f[0].message
        );
        let f = run(
            "network",
            "gap_severity = \"error\"",
            json!([{"name": "N1", "cluster": "C", "state": "up", "memory_mb": 1},
            {"name": "N2", "cluster": "C", "state": "up", "memory_mb": 1}]),
            vms,
        );
        assert_eq!(f[0].severity, Severity::Error);
        // An export that carries no fact at all (one made before the facts existed) has the
        // same gap: one warning for the rule, naming what to export.
        let f = run(
            "network",
            "",
            json!([{"name": "N1", "cluster": "C", "state": "up", "memory_mb": 1},
                {"name": "N2", "cluster": "C", "state": "up", "memory_mb": 1}]),
            json!([vm("A", "N1", json!({}))]),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].message.contains("`networks` on each VM"),
            "{}",
            f[0].message
        );
        // The rule can ask for the gap to block: then it does, facts or not.
        let f = run(
            "network",
            "gap_severity = \"error\"",
            json!([{"name": "N1", "cluster": "C", "state": "up", "memory_mb": 1},
                {"name": "N2", "cluster": "C", "state": "up", "memory_mb": 1}]),
            json!([vm("A", "N1", json!({}))]),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn a_gap_is_one_finding_per_rule_over_every_cluster_drained() {
        // Two clusters drained at once, several VMs each, no fact anywhere (an export made
        // before the facts): each rule needing a fact says so once, not per cluster or host.
        let hosts = json!([
            {"name": "N1", "cluster": "C", "state": "up", "memory_mb": 65536},
            {"name": "N2", "cluster": "C", "state": "up", "memory_mb": 65536},
            {"name": "M1", "cluster": "D", "state": "up", "memory_mb": 65536},
            {"name": "M2", "cluster": "D", "state": "up", "memory_mb": 65536}
        ]);
        let vms = json!([
            vm("A", "N1", json!({})),
            vm("B", "N1", json!({})),
            vm("C", "M1", json!({})),
            vm("D", "M1", json!({}))
        ]);
        let mut text = String::new();
        for check in ["network", "cpu", "anti-affinity", "allowed-hosts"] {
            text.push_str(&format!(
                "[[rule]]\nid = \"{check}\"\ntitle = \"t\"\nseverity = \"error\"\nkind = \"constraint\"\ncheck = \"{check}\"\n"
            ));
        }
        let findings = audit(&text, &["N1", "M1"], hosts, vms);
        let mut rules: Vec<(&str, Severity)> = findings
            .iter()
            .map(|f| (f.rule.as_str(), f.severity))
            .collect();
        rules.sort_unstable();
        // Anti-affinity and allowed hosts are sparse facts: absent means none, no gap.
        assert_eq!(
            rules,
            [("cpu", Severity::Warning), ("network", Severity::Warning)],
            "{findings:#?}"
        );
    }

    #[test]
    fn cpu_without_compatibility_needs_the_same_model() {
        let vms = json!([
            vm("A", "N1", json!({"cpu_compat": false})),
            vm("B", "N1", json!({"cpu_compat": true}))
        ]);
        let f = run(
            "cpu",
            "",
            hosts(json!({"cpu": "EPYC"}), json!({"cpu": "EPYC"})),
            vms.clone(),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].vm.as_deref(), Some("A"));
        assert!(
            f[0].message.contains("N2: CPU EPYC, not Xeon"),
            "{}",
            f[0].message
        );
        let f = run(
            "cpu",
            "",
            hosts(json!({"cpu": "EPYC"}), json!({"cpu": "Xeon"})),
            vms.clone(),
        );
        assert!(f.is_empty(), "{f:#?}");
        // One host's CPU unknown, the other different: not passing.
        let f = run("cpu", "", hosts(json!({"cpu": "EPYC"}), json!({})), vms);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].evidence.contains_key("undetermined"));
    }

    #[test]
    fn allowed_hosts_that_all_go_down_are_a_violation() {
        let h = hosts(json!({}), json!({}));
        let vms = json!([
            vm("A", "N1", json!({"allowed_hosts": ["N1"]})),
            vm("B", "N1", json!({"allowed_hosts": ["N1", "n3"]}))
        ]);
        let f = run("allowed-hosts", "", h, vms);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].vm.as_deref(), Some("A"));
        assert!(
            f[0].message
                .contains("N2: not among its allowed hosts; N3: not among its allowed hosts"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn anti_affinity_needs_a_free_host_per_leaving_member() {
        let ag = json!({"anti_affinity": ["sql-ag"]});
        let h = || hosts(json!({}), json!({}));
        // Two members leave N1; N2 runs the third: only N3 is free.
        let f = run(
            "anti-affinity",
            "",
            h(),
            json!([
                vm("SQL01", "N1", ag.clone()),
                vm("SQL02", "N1", ag.clone()),
                vm("SQL03", "N2", ag.clone())
            ]),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("SQL01, SQL02") && f[0].message.contains("N2: runs SQL03"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence["free_hosts"], json!(["N3"]));
        // One member leaves, N3 is free.
        let f = run(
            "anti-affinity",
            "",
            h(),
            json!([vm("SQL01", "N1", ag.clone()), vm("SQL02", "N2", ag.clone())]),
        );
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn affinity_pinned_to_a_host_the_vm_may_not_use_is_a_violation() {
        let tier = |allowed: Value| json!({"affinity": ["app"], "allowed_hosts": allowed});
        let f = run(
            "affinity",
            "",
            hosts(json!({}), json!({})),
            json!([
                vm("APP1", "N1", tier(json!(["N1", "N3"]))),
                vm("APP2", "N2", json!({"affinity": ["app"]}))
            ]),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message
                .contains("N2: APP1: not among its allowed hosts"),
            "{}",
            f[0].message
        );
        let f = run(
            "affinity",
            "",
            hosts(json!({}), json!({})),
            json!([
                vm("APP1", "N1", tier(json!(["N1", "N2"]))),
                vm("APP2", "N2", json!({"affinity": ["app"]}))
            ]),
        );
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn a_misspelled_check_is_refused_with_a_suggestion() {
        let err = crate::policy::load(vec![SourceFile::new(
            "p.toml",
            "[[rule]]\nid = \"c\"\ntitle = \"t\"\nkind = \"constraint\"\ncheck = \"anti-afinity\"\n".to_string(),
        )])
        .expect_err("refused");
        let text = format!("{err:?}");
        assert!(text.contains("did you mean `anti-affinity`"), "{text}");
    }
}
