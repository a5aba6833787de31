//! `restore`: compares the placement a plan recorded before maintenance with a fresh
//! inventory, and plans the move-back (pure: no I/O, no clock).
//!
//! `placement` rules report every baseline VM not back on its original host (unless the
//! platform moves it back itself and the rule trusts that), VMs that vanished, and target hosts
//! that are not up again. `balance` rules report the clusters' imbalance before maintenance,
//! now, and once the move-back has run. Waivers apply before the move-back is planned: a waived
//! VM is left where it is.

use super::balance::{ClusterBalance, HostSample, cluster_imbalance};
use super::dispatch::{self, Stage};
use super::finding::Finding;
use super::hosts_now::{cluster_of, clusters, host_loads, sample_of, samples_after, samples_now};
use super::index::InventoryIndex;
use super::judged::{Judged, Subjects};
use super::waivers::apply_waivers;
use super::{Evaluation, Request, check_age, no_vms};
use crate::model::{HostKey, HostMap, HostState, Inventory, NameHasher, Vm};
use crate::plan::{
    BaselineVm, MoveBack, PLAN_SCHEMA, Plan, PlanInput, PlanRequest, floor_pct, move_back_steps,
    plan_move_back,
};
use crate::platform::{Profile, profile};
use crate::policy::{Action, Metric, Phase, PolicySet, Rule};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasherDefault;

/// What `restore` found, the balance figures per cluster, and the move-back plan.
#[derive(Debug, Clone)]
pub struct Restored {
    pub eval: Evaluation,
    pub balance: Vec<ClusterBalance>,
    pub plan: Plan,
    /// Every host of the affected clusters as it will be once the move-back plan has run
    /// (empty when the inventory was not judged), for the reports' per-host loads.
    pub hosts_after: Vec<HostSample>,
}

/// A finding whose message waits for the move-back to be planned.
pub(super) enum Pending {
    NotHome { finding: usize, baseline: usize },
    Balance { finding: usize, row: usize },
}

/// Judges the inventory behind `index` against `plan` and plans the move-back; the restore
/// pipeline ([`crate::pipeline::restore`]) is the one caller.
pub(crate) fn restore(
    policy: &PolicySet,
    index: &InventoryIndex<'_>,
    plan: &Plan,
    request: &Request,
    inputs: &[PlanInput],
) -> Restored {
    let inventory = index.inventory;
    let rules: Vec<&Rule> = policy
        .rules
        .iter()
        .filter(|r| r.phase == Phase::Restore && r.applies_in(request.mode))
        .collect();
    let found = find_baseline(index, &plan.baseline);
    // An inventory without a single VM proves nothing; else one that is another cluster's.
    let misfit = no_vms(inventory).or_else(|| misfit(inventory, plan, &found));
    let mut eval = Evaluation {
        untrusted: misfit
            .clone()
            .or_else(|| check_age(policy, inventory, request.now)),
        ..Evaluation::default()
    };
    let now = samples_now(index, plan);
    let mut out = Restored {
        eval: Evaluation::default(),
        balance: Vec::new(),
        plan: move_back_plan(plan, request, inputs, Vec::new()),
        hosts_after: Vec::new(),
    };
    if misfit.is_some() {
        // Another cluster's export: judging its VMs against this baseline would only be noise.
        out.eval = eval;
        return out;
    }
    let profile = profile(request.platform);
    let mut pending = Vec::new();
    let mut trusted = BTreeSet::new();
    let mut judged = Vec::new();
    let mut stage = RestoreStage {
        index,
        plan,
        found: &found,
        profile,
        now: &now,
        findings: &mut eval.findings,
        pending: &mut pending,
        trusted: &mut trusted,
        balance: &mut out.balance,
    };
    for rule in &rules {
        if let Some(subjects) = dispatch::evaluate(rule, Stage::Restore(&mut stage)) {
            judged.push(Judged {
                rule: rule.id.clone(),
                subjects,
            });
        }
    }
    eval.judged = judged;
    if !trusted.is_empty() {
        eval.notes.push(format!(
            "{} VM(s) not back on their original host are left to {}'s own failback (trust_platform_failback = true)",
            trusted.len(),
            request.platform
        ));
    }
    apply_waivers(&restore_waivers(policy), request, &mut eval.findings);

    // The move-back: every VM with an unwaived finding of a placement rule that asks to migrate.
    let mut asked: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for p in &pending {
        if let Pending::NotHome { finding, baseline } = p {
            let f = &eval.findings[*finding];
            let migrates = rules
                .iter()
                .any(|r| r.id == f.rule && r.action == Action::Migrate);
            if !f.waived && migrates {
                asked.entry(*baseline).or_default().insert(f.rule.clone());
            }
        }
    }
    let candidates: Vec<MoveBack> = asked
        .iter()
        .filter_map(|(b, because)| {
            Some(MoveBack {
                vm: found[*b]?,
                home: plan.baseline[*b].host.clone(),
                because: because.iter().cloned().collect(),
            })
        })
        .collect();
    let fates = plan_move_back(index, &candidates, floor_pct(policy, request.mode));
    let fate_of = |b: usize| -> Option<&Result<(), String>> {
        let vm = found[b]?;
        candidates
            .iter()
            .position(|c| c.vm == vm)
            .map(|k| &fates[k])
    };
    let after = samples_after(index, &now, &candidates, &fates);
    for row in &mut out.balance {
        row.after_move_back = cluster_imbalance(row.metric, row.cluster.as_deref(), &after);
    }
    for p in &pending {
        match p {
            Pending::NotHome { finding, baseline } => {
                let base = &plan.baseline[*baseline];
                let Some(vm) = found[*baseline].map(|i| index.vm(i)) else {
                    continue;
                };
                let f = &mut eval.findings[*finding];
                let Some(rule) = rules.iter().find(|r| r.id == f.rule) else {
                    continue;
                };
                let (word, tail) = match fate_of(*baseline) {
                    Some(Ok(())) => (
                        "planned".to_string(),
                        "; the move-back plan takes it home".to_string(),
                    ),
                    Some(Err(why)) => (
                        format!("blocked: {why}"),
                        format!("; it cannot go back now: {why}"),
                    ),
                    None if f.waived => ("waived".to_string(), String::new()),
                    None => ("not planned".to_string(), String::new()),
                };
                f.evidence.insert("move_back".into(), Value::String(word));
                let detail = format!("it is on {}, not back on {}{tail}", vm.host, base.host);
                f.message = render(rule, base, Some(vm), &base.host, &detail);
            }
            Pending::Balance { finding, row } => {
                let r = &out.balance[*row];
                let f = &mut eval.findings[*finding];
                let Some(rule) = rules.iter().find(|x| x.id == f.rule) else {
                    continue;
                };
                let fig = |x: Option<f64>| x.map_or("unknown".to_string(), |v| format!("{v}"));
                f.evidence.insert("metric".into(), json!(r.metric));
                f.evidence.insert("before".into(), json!(r.before));
                f.evidence.insert("now".into(), json!(r.now));
                f.evidence
                    .insert("after_move_back".into(), json!(r.after_move_back));
                f.evidence
                    .insert("max_imbalance".into(), json!(r.max_imbalance));
                let mut values = BTreeMap::new();
                values.insert(
                    "cluster",
                    r.cluster
                        .clone()
                        .unwrap_or_else(|| "(no cluster named)".into()),
                );
                values.insert("rule", rule.id.clone());
                values.insert("title", rule.title.clone());
                values.insert("detail", format!(
                    "{} imbalance is {} now, above {}; it was {} before maintenance, and the move-back plan would bring it to {}",
                    r.metric, fig(r.now), r.max_imbalance, fig(r.before), fig(r.after_move_back)
                ));
                f.message = rule.message.render(&values);
            }
        }
    }
    eval.findings.sort_by(Finding::report_order);
    eval.loads = host_loads(plan, &now);
    out.hosts_after = after;
    let steps = move_back_steps(plan, index, &candidates, &fates);
    out.plan = move_back_plan(plan, request, inputs, steps);
    out.eval = eval;
    out
}

/// What a restore's rules read and write.
pub(super) struct RestoreStage<'r, 'a> {
    index: &'r InventoryIndex<'a>,
    plan: &'r Plan,
    /// Where each baseline VM is now (a canonical position), if anywhere.
    found: &'r [Option<usize>],
    profile: &'r dyn Profile,
    /// The affected clusters' hosts as the fresh inventory has them.
    now: &'r [HostSample],
    findings: &'r mut Vec<Finding>,
    pending: &'r mut Vec<Pending>,
    /// Baseline VMs left to the platform's own failback.
    trusted: &'r mut BTreeSet<usize>,
    balance: &'r mut Vec<ClusterBalance>,
}

impl RestoreStage<'_, '_> {
    /// A `placement` rule: every baseline VM is judged (back home or not), and every target
    /// host (up again or not).
    pub(super) fn placement(&mut self, rule: &Rule, trust_platform_failback: bool) -> Subjects {
        let plan = self.plan;
        let found = self.found;
        let (mut vms, mut hosts) = (Vec::new(), Vec::new());
        for (b, (base, at)) in plan.baseline.iter().zip(found).enumerate() {
            vms.push(b as u32);
            let (vm, current) = match at {
                None => (None, None),
                Some(i) => (
                    Some(self.index.vm(*i)),
                    Some(self.index.vm(*i).host.as_str()),
                ),
            };
            if current.is_some_and(|c| c.eq_ignore_ascii_case(&base.host)) {
                continue;
            }
            if vm.is_some() && trust_platform_failback && self.profile.moves_back(&as_vm(base)) {
                self.trusted.insert(b);
                continue;
            }
            let mut ev = BTreeMap::new();
            ev.insert("original_host".into(), json!(base.host));
            ev.insert("current_host".into(), json!(current));
            if vm.is_none() {
                ev.insert("vanished".into(), json!(true));
            }
            let f = finding(
                rule,
                Some(&base.name),
                &base.host,
                cluster_of(plan, &base.host),
                ev,
            );
            if vm.is_some() {
                self.pending.push(Pending::NotHome {
                    finding: self.findings.len(),
                    baseline: b,
                });
            }
            let detail = match vm {
                None => "vanished: it is not in the inventory any more (deleted, renamed, or not exported)".to_string(),
                Some(_) => String::new(),
            };
            let mut f = f;
            f.vm_id = base.id.clone();
            f.message = render(rule, base, vm, &base.host, &detail);
            self.findings.push(f);
        }
        for (t, h) in plan.request.hosts.iter().enumerate() {
            hosts.push(t as u32);
            let state = self.index.inventory.host(h).map(|h| h.state);
            if state == Some(HostState::Up) {
                continue;
            }
            let word = state.map_or("absent from the inventory".to_string(), |s| s.to_string());
            let mut ev = BTreeMap::new();
            ev.insert(
                "state".into(),
                json!(state.map_or("absent", |s| s.as_str())),
            );
            let mut f = finding(rule, None, h, cluster_of(plan, h), ev);
            let mut values = BTreeMap::new();
            values.insert("vm", h.clone());
            values.insert("host", h.clone());
            values.insert("rule", rule.id.clone());
            values.insert("title", rule.title.clone());
            values.insert(
                "detail",
                format!(
                    "the host is {word}, not up again after maintenance: its VMs cannot go back"
                ),
            );
            f.message = rule.message.render(&values);
            self.findings.push(f);
        }
        Subjects::PlanBaseline { vms, hosts }
    }

    /// A `balance` rule: every affected cluster is judged.
    pub(super) fn balance(&mut self, rule: &Rule, metric: Metric, max_imbalance: f64) -> Subjects {
        let plan = self.plan;
        let mut judged = Vec::new();
        for cluster in clusters(plan) {
            judged.push(cluster.clone());
            let before_hosts: Vec<HostSample> = plan.loads.iter().map(sample_of).collect();
            let row = ClusterBalance {
                cluster: cluster.clone(),
                rule: rule.id.clone(),
                metric,
                max_imbalance,
                before: cluster_imbalance(metric, cluster.as_deref(), &before_hosts),
                now: cluster_imbalance(metric, cluster.as_deref(), self.now),
                after_move_back: None,
            };
            if row.now.is_some_and(|n| n > max_imbalance) {
                let f = finding(rule, None, "", cluster.clone(), BTreeMap::new());
                let f = Finding { host: None, ..f };
                self.pending.push(Pending::Balance {
                    finding: self.findings.len(),
                    row: self.balance.len(),
                });
                self.findings.push(f);
            }
            self.balance.push(row);
        }
        Subjects::Clusters(judged)
    }
}

/// Why the plan does not fit this inventory at all (exit 3), if it does not.
fn misfit(inventory: &Inventory, plan: &Plan, found: &[Option<usize>]) -> Option<String> {
    if !plan
        .request
        .hosts
        .iter()
        .any(|h| inventory.host(h).is_some())
    {
        return Some(format!(
            "none of the plan's target hosts ({}) is in the inventory: is it another cluster's export?",
            plan.request.hosts.join(", ")
        ));
    }
    if !plan.baseline.is_empty() && found.iter().all(Option::is_none) {
        return Some(format!(
            "none of the plan's {} baseline VMs is in the inventory: is it another cluster's export?",
            plan.baseline.len()
        ));
    }
    None
}

/// Finds the inventory VM each baseline VM is now: by id when both have one, else by name;
/// the first such VM in canonical order (as a canonical position). A baseline VM with an id also matches a VM without
/// one by name (an export that lacks ids).
///
/// The baseline (the drained hosts' VMs) is small and the inventory may be a million VMs, so
/// the baseline is what gets indexed, and the inventory is read once against it: the maps
/// stay in cache, and nothing is built per inventory VM.
fn find_baseline(index: &InventoryIndex<'_>, baseline: &[BaselineVm]) -> Vec<Option<usize>> {
    type ByName<'a> = HashMap<&'a str, Vec<usize>, BuildHasherDefault<NameHasher>>;
    // Ids compare case-insensitively (GUIDs change case), as host names do.
    let mut by_id: HostMap<'_, Vec<usize>> = HostMap::default();
    let mut by_name_for_id_less: ByName<'_> = ByName::default();
    let mut by_name: ByName<'_> = ByName::default();
    for (b, vm) in baseline.iter().enumerate() {
        match &vm.id {
            Some(id) => {
                by_id.entry(HostKey(id)).or_default().push(b);
                by_name_for_id_less.entry(&vm.name).or_default().push(b);
            }
            None => by_name.entry(&vm.name).or_default().push(b),
        }
    }
    let mut found = vec![None; baseline.len()];
    let mut mark = |bs: Option<&Vec<usize>>, i: usize| {
        for &b in bs.into_iter().flatten() {
            // The inventory is read as it lies in memory: keep the first in canonical order.
            found[b] = Some(found[b].map_or(i, |f: usize| f.min(i)));
        }
    };
    for (i, vm) in index.each_vm() {
        match &vm.id {
            Some(id) if !by_id.is_empty() => mark(by_id.get(&HostKey(id)), i),
            Some(_) => {}
            None if !by_name_for_id_less.is_empty() => {
                mark(by_name_for_id_less.get(vm.name.as_str()), i);
            }
            None => {}
        }
        if !by_name.is_empty() {
            mark(by_name.get(vm.name.as_str()), i);
        }
    }
    found
}

fn as_vm(b: &BaselineVm) -> Vm {
    Vm {
        name: b.name.as_str().into(),
        id: b.id.as_deref().map(Into::into),
        host: b.host.as_str().into(),
        state: b.state,
        ha: b.ha,
        memory_mb: b.memory_mb,
        vcpus: None,
        tags: Vec::new(),
        template: false,
        evidence: BTreeMap::new(),
        facts: None,
    }
}

fn finding(
    rule: &Rule,
    vm: Option<&str>,
    host: &str,
    cluster: Option<String>,
    evidence: BTreeMap<String, Value>,
) -> Finding {
    Finding {
        rule: rule.id.clone(),
        title: None,
        severity: rule.severity,
        vm: vm.map(String::from),
        vm_id: None,
        host: Some(host.to_string()),
        cluster,
        message: String::new(),
        remediation: rule.remediation.clone(),
        evidence,
        waived: false,
        waiver: None,
    }
}

fn render(rule: &Rule, base: &BaselineVm, now: Option<&Vm>, host: &str, detail: &str) -> String {
    let mut values = BTreeMap::new();
    values.insert("vm", base.name.clone());
    values.insert("host", host.to_string());
    values.insert("state", now.map_or(base.state, |v| v.state).to_string());
    values.insert("ha", base.ha.map_or("unknown".into(), |h| h.to_string()));
    values.insert(
        "memory_mb",
        base.memory_mb.map(|m| m.to_string()).unwrap_or_default(),
    );
    values.insert(
        "vcpus",
        now.and_then(|v| v.vcpus)
            .map(|c| c.to_string())
            .unwrap_or_default(),
    );
    values.insert("rule", rule.id.clone());
    values.insert("title", rule.title.clone());
    values.insert("detail", detail.to_string());
    rule.message.render(&values)
}

/// Only the waivers of restore-phase rules: an audit waiver matching nothing here is no news.
fn restore_waivers(policy: &PolicySet) -> PolicySet {
    let restore: BTreeSet<&str> = policy
        .rules
        .iter()
        .filter(|r| r.phase == Phase::Restore)
        .map(|r| r.id.as_str())
        .collect();
    let mut set = policy.clone();
    set.waivers.retain(|w| restore.contains(w.rule.as_str()));
    set
}

/// The move-back plan keeps the original baseline and loads, so that `restore` can be run
/// against it again once it has run and still compare with the cluster before maintenance.
fn move_back_plan(
    plan: &Plan,
    request: &Request,
    inputs: &[PlanInput],
    steps: Vec<crate::plan::Step>,
) -> Plan {
    Plan {
        schema: PLAN_SCHEMA.into(),
        request: PlanRequest {
            command: "restore".into(),
            hosts: plan.request.hosts.clone(),
            mode: plan.request.mode.clone(),
            platform: request.platform.to_string(),
            rolling: false,
            now: request.now.to_string(),
        },
        inventory: inputs.to_vec(),
        baseline: plan.baseline.clone(),
        loads: plan.loads.clone(),
        steps,
    }
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod tests;
