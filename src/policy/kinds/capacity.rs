//! `capacity`: the hosts that stay up must absorb what the drain moves.

use super::{KeyDoc, KindSpec};
use crate::diag::Diagnostics;
use crate::policy::walk::TableReader;
use crate::policy::{Phase, RuleKind};

pub(super) static KIND: KindSpec = KindSpec {
    name: "capacity",
    keys: &[KeyDoc {
        name: "min_free_memory_pct",
        required: false,
        doc: "the memory (percent, 0 to 100) every host must keep free once the drain has run; default 10",
    }],
    default_phase: Phase::Audit,
    phases: &[Phase::Audit],
    default_message: "{detail}",
    read,
    explain,
    plan: super::PlanRole::Judges,
    floor,
};

fn read(t: &TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<RuleKind> {
    t.number("min_free_memory_pct", 0.0, 100.0, diags)
        .map(|v| RuleKind::Capacity {
            min_free_memory_pct: v.into_inner(),
        })
        .or(Some(RuleKind::Capacity {
            min_free_memory_pct: 10.0,
        }))
}

fn floor(kind: &RuleKind) -> Option<f64> {
    match kind {
        RuleKind::Capacity {
            min_free_memory_pct,
        } => Some(*min_free_memory_pct),
        _ => None,
    }
}

fn explain(kind: &RuleKind) -> String {
    let RuleKind::Capacity {
        min_free_memory_pct,
    } = kind
    else {
        return String::new();
    };
    format!(
        "simulates the drain: the running HA VMs of the drained hosts move, largest first, to the other hosts of their cluster that are up, each where most memory is free; reports every host left with less than {min_free_memory_pct}% memory free, every VM that fits nowhere, and clusters whose capacity is unknown"
    )
}
