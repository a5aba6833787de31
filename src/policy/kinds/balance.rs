//! `balance`: after maintenance, the load of each affected cluster is spread evenly enough.

use super::{KeyDoc, KindSpec};
use crate::diag::Diagnostics;
use crate::policy::walk::TableReader;
use crate::policy::{Metric, Phase, RuleKind};

pub(super) static KIND: KindSpec = KindSpec {
    name: "balance",
    keys: &[
        KeyDoc {
            name: "metric",
            required: false,
            doc: "what a host's load is: memory | vcpus | vms; default memory",
        },
        KeyDoc {
            name: "max_imbalance",
            required: false,
            doc: "the highest imbalance (σ/μ ÷ √(n−1), 0 to 1) a cluster may have; default 0.3",
        },
    ],
    default_phase: Phase::Restore,
    phases: &[Phase::Restore],
    default_message: "cluster {cluster}: {detail}",
    read,
    explain,
    plan: super::PlanRole::Judges,
    floor: super::no_floor,
};

fn read(t: &TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<RuleKind> {
    Some(RuleKind::Balance {
        metric: t
            .word("metric", Metric::WORDS, Metric::parse, diags)
            .map_or(Metric::Memory, |m| m.into_inner()),
        max_imbalance: t
            .number("max_imbalance", 0.0, 1.0, diags)
            .map_or(0.3, |m| m.into_inner()),
    })
}

fn explain(kind: &RuleKind) -> String {
    let RuleKind::Balance {
        metric,
        max_imbalance,
    } = kind
    else {
        return String::new();
    };
    format!(
        "after maintenance, the imbalance of {metric} load across each cluster's up hosts (σ/μ ÷ √(n−1), 0 to 1) above {max_imbalance}"
    )
}
