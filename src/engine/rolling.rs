//! Capacity for a rolling drain: one target host at a time, the others up meanwhile.
//!
//! Each host's drain is simulated on its own (so the second host's VMs may go to the first,
//! which is back by then). In a decommission nothing comes back: no retired host takes a VM,
//! and each step sees where the earlier steps put theirs (their memory, their anti-affinity
//! groups). A problem seen in several steps of the sequence is reported once. The loads shown
//! are each host at its fullest moment: the most memory any step of the sequence leaves on it
//! (a drained host is fullest while it takes the next host's VMs).

use super::capacity::{self, Earlier, HostLoad};
use super::finding::Finding;
use super::index::InventoryIndex;
use crate::policy::{Mode, Rule};

/// Evaluates one capacity rule for each step of the sequence; the hosts judged are those of
/// every step (each once, ascending).
pub(super) fn evaluate(
    rule: &Rule,
    min_free_pct: f64,
    index: &InventoryIndex<'_>,
    hosts: &[String],
    mode: Mode,
    out: &mut Vec<Finding>,
) -> capacity::Judged {
    let mut merged: Vec<HostLoad> = Vec::new();
    let mut judged = Vec::new();
    let mut earlier = first_step(index, hosts, mode);
    let mut step_index = index.clone();
    for host in hosts {
        step_index.set_targets(std::slice::from_ref(host));
        let mut found = Vec::new();
        let step = capacity::evaluate(rule, min_free_pct, &step_index, &earlier, &mut found);
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        merge(&mut merged, step.loads);
        judged.extend(step.hosts);
        if mode == Mode::Decommission {
            keep_moves(index, &step_index, min_free_pct, &mut earlier);
        }
    }
    judged.sort_unstable();
    judged.dedup();
    capacity::Judged {
        loads: merged,
        hosts: judged,
    }
}

/// The loads of the whole sequence, from the loads of each step.
pub(super) fn loads(index: &InventoryIndex<'_>, hosts: &[String], mode: Mode) -> Vec<HostLoad> {
    let mut merged = Vec::new();
    let mut earlier = first_step(index, hosts, mode);
    let mut step_index = index.clone();
    for host in hosts {
        step_index.set_targets(std::slice::from_ref(host));
        merge(
            &mut merged,
            capacity::loads_without_rule(&step_index, &earlier),
        );
        if mode == Mode::Decommission {
            keep_moves(index, &step_index, 0.0, &mut earlier);
        }
    }
    merged
}

/// Before the first step: in a decommission every host of the sequence is retired, so none
/// takes a VM; a patch brings each host back before the next.
fn first_step<'a>(index: &InventoryIndex<'a>, hosts: &[String], mode: Mode) -> Earlier<'a> {
    Earlier {
        closed: if mode == Mode::Decommission {
            hosts.iter().filter_map(|h| index.host_pos(h)).collect()
        } else {
            Vec::new()
        },
        moved: Vec::new(),
    }
}

/// Records where one decommission step's drain puts its VMs: they stay there for the steps
/// that follow.
fn keep_moves<'a>(
    index: &InventoryIndex<'a>,
    step_index: &InventoryIndex<'a>,
    floor_pct: f64,
    earlier: &mut Earlier<'a>,
) {
    for cluster in capacity::drain_placement(step_index, floor_pct, earlier) {
        for (i, to) in cluster.moves {
            if let Some(to) = to {
                earlier.moved.push((i, index.vm(i), to));
            }
        }
    }
}

/// Folds one step's loads into the sequence's: each host keeps the after figures of the step
/// that leaves the most memory on it, its fullest moment (a drained host's is usually a later
/// step, when it takes the next host's VMs), and is marked drained if any step drains it.
fn merge(merged: &mut Vec<HostLoad>, step: Vec<HostLoad>) {
    for l in step {
        match merged.iter_mut().find(|m| m.host == l.host) {
            None => merged.push(l),
            Some(m) => {
                m.target |= l.target;
                if l.after_mb > m.after_mb {
                    m.after_mb = l.after_mb;
                    m.vms_after = l.vms_after;
                }
            }
        }
    }
}
