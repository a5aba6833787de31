//! What the two shell targets (`proxmox-sh`, `govc`) share: a step is one call of a function
//! their prelude defines, with every word a single-quoted literal.

use super::quote::sh_literal;
use super::{Item, Op};
use crate::model::VmState;

/// The names a shell target gives its step functions, and its words for the states a guard
/// checks.
pub(super) struct Calls {
    pub migrate: &'static str,
    pub migrate_back: &'static str,
    pub power: &'static str,
    pub state: fn(Option<VmState>) -> &'static str,
}

/// The call for one step: `function 'step' 'name' …`.
pub(super) fn step(calls: &Calls, item: &Item<'_>) -> String {
    let step = item.step.id.as_str();
    let words: Vec<&str> = match item.op {
        // The last word is the move's storage in words, empty when only the VM moves.
        Op::Migrate {
            guest: g,
            from: Some(from),
            to,
            storage,
        } => vec![
            calls.migrate,
            step,
            g.name,
            g.id.unwrap_or(""),
            from,
            to,
            (calls.state)(g.expect),
            storage.unwrap_or(""),
        ],
        Op::Migrate {
            guest: g,
            from: None,
            to,
            storage,
        } => vec![
            calls.migrate_back,
            step,
            g.name,
            g.id.unwrap_or(""),
            to,
            (calls.state)(g.expect),
            storage.unwrap_or(""),
        ],
        Op::Start(g, host) | Op::Shutdown(g, host) => vec![
            calls.power,
            if matches!(item.op, Op::Start(..)) {
                "start"
            } else {
                "shutdown"
            },
            step,
            g.name,
            g.id.unwrap_or(""),
            host,
            (calls.state)(g.expect),
        ],
        Op::EnterMaintenance(h) => vec!["enter_maintenance", step, h],
        Op::ExitMaintenance(h, _) => vec!["exit_maintenance", step, h],
        Op::Notify => vec!["note", step, item.step.note.as_deref().unwrap_or("")],
    };
    let mut line = String::from(words[0]);
    for w in &words[1..] {
        line.push(' ');
        line.push_str(&sh_literal(w));
    }
    line.push('\n');
    line
}

/// The stop that waits for the operator (the prelude defines `pause_for_maintenance`).
pub(super) fn pause() -> String {
    "pause_for_maintenance\n".to_string()
}

/// The closing line.
pub(super) fn epilogue() -> String {
    "\nsay 'every step of this script is done'\n".to_string()
}
