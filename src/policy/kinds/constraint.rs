//! `constraint`: the drain cannot honour the VMs' placement constraints on the hosts that stay
//! up (CONTRACT 7.2).

use super::{KeyDoc, KindSpec};
use crate::diag::Diagnostics;
use crate::policy::walk::TableReader;
use crate::policy::{Check, Phase, RuleKind, Severity};

pub(super) static KIND: KindSpec = KindSpec {
    name: "constraint",
    keys: &[
        KeyDoc {
            name: "check",
            required: true,
            doc: "the constraint judged: anti-affinity | affinity | allowed-hosts | network | cpu (one per rule)",
        },
        KeyDoc {
            name: "gap_severity",
            required: false,
            doc: "the severity of the one finding that says no record of the inventory carries a fact the check needs (the export lacks it): warning | error; default warning",
        },
    ],
    default_phase: Phase::Audit,
    phases: &[Phase::Audit],
    default_message: "{detail}",
    read,
    explain,
    plan: super::PlanRole::Judges,
    floor: super::no_floor,
};

fn read(t: &TableReader<'_, '_>, diags: &mut Diagnostics) -> Option<RuleKind> {
    let gap_severity = match t.get("gap_severity") {
        None => Severity::Warning,
        Some(_) => t
            .word("gap_severity", &["warning", "error"], gap_word, diags)?
            .into_inner(),
    };
    let check = t.word("check", Check::WORDS, Check::parse, diags)?;
    Some(RuleKind::Constraint {
        check: check.into_inner(),
        gap_severity,
    })
}

fn gap_word(s: &str) -> Option<Severity> {
    match s {
        "warning" => Some(Severity::Warning),
        "error" => Some(Severity::Error),
        _ => None,
    }
}

fn explain(kind: &RuleKind) -> String {
    let RuleKind::Constraint {
        check,
        gap_severity,
    } = kind
    else {
        return String::new();
    };
    let what = match check {
        Check::AntiAffinity => {
            "each anti-affinity group whose members the drain would have to put on one host: fewer hosts that stay up are free of the group than members leave the drained hosts"
        }
        Check::Affinity => {
            "each affinity group the drain would split: no host that stays up may take the moving members together with the members that stay"
        }
        Check::AllowedHosts => {
            "each VM that must leave a drained host while none of the hosts that stay up is among its allowed hosts"
        }
        Check::Network => {
            "each VM that must leave a drained host while no host that stays up offers all of its networks"
        }
        Check::Cpu => {
            "each VM without CPU compatibility that must leave a drained host while no host that stays up has the CPU model of its source"
        }
    };
    format!(
        "simulates the drain (the running VMs of the drained hosts, moved by the platform or by the plan) and reports {what}; a VM whose needed fact is unknown while others carry it is reported as undetermined, and a fact no record carries is one {gap_severity} naming what to export"
    )
}
