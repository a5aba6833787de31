//! `placement`: after maintenance, every VM is back where the plan found it.

use super::{KeyDoc, KindSpec};
use crate::diag::Diagnostics;
use crate::policy::walk::TableReader;
use crate::policy::{Phase, RuleKind};

pub(super) static KIND: KindSpec = KindSpec {
    name: "placement",
    keys: &[KeyDoc {
        name: "trust_platform_failback",
        required: false,
        doc: "true: a VM the platform moves back by itself (e.g. a failover cluster's failback) is not reported; default false",
    }],
    default_phase: Phase::Restore,
    phases: &[Phase::Restore],
    default_message: "{vm}: {detail}",
    read,
    explain,
    plan: super::PlanRole::MovesBack,
    floor: super::no_floor,
};

fn read(t: &TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<RuleKind> {
    Some(RuleKind::Placement {
        trust_platform_failback: t
            .boolean("trust_platform_failback", diags)
            .is_some_and(|b| b.into_inner()),
    })
}

fn explain(kind: &RuleKind) -> String {
    let RuleKind::Placement {
        trust_platform_failback,
    } = kind
    else {
        return String::new();
    };
    format!(
        "after maintenance, each VM recorded in the plan's baseline that is not back on its original host{}",
        if *trust_platform_failback {
            " (unless the platform moves it back by itself)"
        } else {
            ""
        }
    )
}
