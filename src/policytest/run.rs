//! Running a case: evaluate the policy on the case's inventory and compare the unwaived
//! findings with what the case expects. Pure: no I/O, no clock.
//!
//! A restore case is run the way an operator runs the two commands: `audit --plan` on the
//! inventory before maintenance records the baseline, then `restore` judges the inventory
//! after it against that plan.

use super::{Case, Expected};
use crate::engine::{Evaluation, FailOn, Finding, Request, Verdict, WAIVER_UNUSED, decide};
use crate::model::Inventory;
use crate::pipeline::{self, AuditOptions, Prepared};
use crate::platform;
use crate::policy::{Phase, PolicySet};

/// How one case came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Passed,
    Failed(Mismatch),
}

/// What differed between the case's expectations and the evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mismatch {
    /// Expected findings the evaluation did not produce.
    pub missing: Vec<Expected>,
    /// Unwaived findings the case did not expect.
    pub unexpected: Vec<Expected>,
    /// `(expected, actual)` when the case names a verdict and it differs.
    pub verdict: Option<(Verdict, Verdict)>,
}

/// Runs one case against the policy, through the pipeline the command line runs, so the
/// verdict a case pins is the verdict `preflight audit` (or `restore`) gives.
pub fn run_case(policy: &PolicySet, case: &Case) -> Status {
    let request = request(case);
    let eval = match (case.phase, &case.before) {
        (Phase::Restore, Some(before)) => restore(policy, before, case, &request),
        // The parser requires `[case.before]` of every restore case; without one there is no
        // baseline, and judging the case as an audit is what it would mean.
        (Phase::Audit, _) | (Phase::Restore, None) => {
            let inventory = Prepared::new(case.inventory.clone());
            pipeline::audit(policy, &inventory, &request, &AuditOptions::default()).eval
        }
    };
    compare(case, &eval)
}

/// `audit --plan` on `before`, then `restore` of `case.inventory` against that plan, as an
/// operator runs the two commands: the baseline and host loads are exactly those a real plan
/// file would record.
fn restore(policy: &PolicySet, before: &Inventory, case: &Case, request: &Request) -> Evaluation {
    let before = Prepared::new(before.clone());
    let audit = pipeline::audit(policy, &before, request, &AuditOptions::default());
    let after = Prepared::new(case.inventory.clone());
    pipeline::restore(policy, &after, &audit.plan, request, FailOn::Error, &[])
        .restored
        .eval
}

/// The request a case stands for: its hosts, mode, platform (else the inventory's, else the
/// assumed one, as `audit` does) and `now`; waivers are honoured. A restore case takes the
/// platform of its `before` inventory, as the plan `restore` reads would record it.
pub fn request(case: &Case) -> Request {
    let planned = case.before.as_ref().unwrap_or(&case.inventory);
    let (platform, assumed) = match (case.platform, planned.platform) {
        (Some(p), _) | (None, Some(p)) => (p, false),
        (None, None) => (platform::ASSUMED, true),
    };
    Request {
        hosts: case.hosts.clone(),
        mode: case.mode,
        platform,
        platform_assumed: assumed,
        now: case.now,
        no_waivers: false,
    }
}

/// Compares the evaluation's unwaived findings with the case's `expect` (as a multiset) and,
/// when the case names one, the verdict (at the default `--fail-on error`).
pub fn compare(case: &Case, eval: &Evaluation) -> Status {
    // A case exercises a slice of the inventory, so most waivers match nothing in most cases:
    // "unused waiver" notes are not findings a case has to list. Expired waivers are.
    let actual: Vec<&Finding> = eval
        .findings
        .iter()
        .filter(|f| !f.waived && f.rule != WAIVER_UNUSED)
        .collect();
    let matched = match_findings(&case.expect, &actual);
    let mut mismatch = Mismatch::default();
    for (i, e) in case.expect.iter().enumerate() {
        if matched.iter().all(|m| *m != Some(i)) {
            mismatch.missing.push(e.clone());
        }
    }
    for (f, m) in actual.iter().zip(&matched) {
        if m.is_none() {
            mismatch.unexpected.push(Expected::of(f));
        }
    }
    if let Some(want) = case.verdict {
        let got = decide(eval, FailOn::Error).verdict;
        if got != want {
            mismatch.verdict = Some((want, got));
        }
    }
    if mismatch == Mismatch::default() {
        Status::Passed
    } else {
        Status::Failed(mismatch)
    }
}

/// A maximum matching of findings to expectations (Kuhn's augmenting paths), so that a loose
/// expectation never takes the finding a more specific one needed. Returns, per finding, the
/// index of the expectation it satisfied.
fn match_findings(expect: &[Expected], actual: &[&Finding]) -> Vec<Option<usize>> {
    let mut owner: Vec<Option<usize>> = vec![None; expect.len()];
    for f in 0..actual.len() {
        let mut seen = vec![false; expect.len()];
        augment(f, expect, actual, &mut owner, &mut seen);
    }
    let mut by_finding = vec![None; actual.len()];
    for (e, f) in owner.iter().enumerate() {
        if let Some(f) = f {
            by_finding[*f] = Some(e);
        }
    }
    by_finding
}

fn augment(
    f: usize,
    expect: &[Expected],
    actual: &[&Finding],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for e in 0..expect.len() {
        if seen[e] || !expect[e].matches(actual[f]) {
            continue;
        }
        seen[e] = true;
        let free = match owner[e] {
            None => true,
            Some(other) => augment(other, expect, actual, owner, seen),
        };
        if free {
            owner[e] = Some(f);
            return true;
        }
    }
    false
}

impl Expected {
    /// Each given key must equal the finding's (host names case-insensitively); without `vm`
    /// the finding must be about no VM, so `{ rule, host }` means a host-level finding.
    pub fn matches(&self, f: &Finding) -> bool {
        let host_ok = match (&self.host, &f.host) {
            (None, _) => true,
            (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
            (Some(_), None) => false,
        };
        let cluster_ok = self.cluster.is_none() || self.cluster == f.cluster;
        self.rule == f.rule && self.vm == f.vm && host_ok && cluster_ok
    }

    /// How an unexpected finding is shown: its subject, the cluster only when it has no other.
    pub fn of(f: &Finding) -> Expected {
        Expected {
            rule: f.rule.clone(),
            vm: f.vm.clone(),
            host: f.host.clone(),
            cluster: f
                .cluster
                .clone()
                .filter(|_| f.vm.is_none() && f.host.is_none()),
        }
    }
}
