//! Step ids: readable, stable for the same inputs, unique within a plan.
//!
//! An id is `<phase>-<action>-<subject>` (e.g. `pre-migrate-3aa107a7-…`, `drain-enter-maintenance-HV01`),
//! the subject being the VM's key (its id, else its name) or the host's name. Characters an
//! executor might choke on in a file name or a log line are replaced by `_`; should two subjects
//! then collide, later ones get `-2`, `-3`, … in plan order, which is itself deterministic.

use super::{Step, StepAction, StepPhase};
use std::collections::BTreeSet;

/// The id of a step before de-duplication.
pub(super) fn step_id(phase: StepPhase, action: StepAction, subject: &str) -> String {
    let clean: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{}-{clean}", phase.as_str(), action.as_str())
}

/// Makes every id of `steps` unique, keeping the first occurrence as it is.
pub(super) fn dedupe(steps: &mut [Step]) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for step in steps.iter_mut() {
        if seen.insert(step.id.clone()) {
            continue;
        }
        let mut n = 2;
        while seen.contains(&format!("{}-{n}", step.id)) {
            n += 1;
        }
        step.id = format!("{}-{n}", step.id);
        seen.insert(step.id.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str) -> Step {
        Step {
            id: id.into(),
            phase: StepPhase::Pre,
            kind: crate::plan::StepKind::Notify {
                vm: None,
                host: None,
            },
            because: vec![],
            note: None,
        }
    }

    #[test]
    fn odd_characters_are_replaced() {
        assert_eq!(
            step_id(StepPhase::Pre, StepAction::Migrate, "SQL 01/€"),
            "pre-migrate-SQL_01__"
        );
        assert_eq!(
            step_id(
                StepPhase::Drain,
                StepAction::EnterMaintenance,
                "HV01.contoso.local"
            ),
            "drain-enter-maintenance-HV01.contoso.local"
        );
    }

    #[test]
    fn collisions_get_a_suffix_in_order() {
        let mut steps = vec![step("a"), step("a"), step("a-2"), step("a")];
        dedupe(&mut steps);
        let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a", "a-2", "a-2-2", "a-3"]);
    }
}
