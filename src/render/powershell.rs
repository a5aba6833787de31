//! What the two PowerShell targets share: the script's parameters and settings, the helpers
//! that stop the run with a reason, host-name matching, the operator pause, and call building.
//!
//! Names reach the helpers only as arguments written by [`call`], each a single-quoted literal;
//! the helpers compare them with `-ceq`/`-ieq` and never pass them to a parameter that takes
//! wildcards, so a name like `web*` matches only itself.

use super::quote::ps_literal;
use super::{Item, Op};
use crate::model::VmState;

/// A script parameter naming the destination storage of the moves with storage, which the
/// plan cannot know. When the script moves storage (`required`), PowerShell refuses to run it
/// without a value (it prompts for one in an interactive session), so no step runs first;
/// otherwise it is accepted and unused. `doc` is its comment, `# ` lines.
pub fn storage_param(doc: &str, name: &str, required: bool) -> String {
    let attrs = if required {
        "    [Parameter(Mandatory = $true)][ValidateNotNullOrEmpty()]\n"
    } else {
        ""
    };
    let default = if required { "" } else { " = ''" };
    format!("{doc}{attrs}    [string]${name}{default}\n")
}

/// The parameter of the Windows targets: the folder a VM that moves with its storage goes to.
pub fn storage_path_param(required: bool) -> String {
    storage_param(
        "    # The folder on the destination host for the files of a VM that moves with its storage\n    \
         # (its disks are on the source host's own storage). Each VM gets a subfolder named by its\n    \
         # id. Required when the plan moves such a VM.\n",
        "DestinationStoragePath",
        required,
    )
}

/// Settings and the helpers every PowerShell target uses. `params` is the body of the
/// script's `param()` block; `modules` are imported first so a missing module stops the run
/// before any step.
pub fn prelude(params: &str, modules: &str) -> String {
    format!(
        r#"
[CmdletBinding()]
param(
{params})
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module {modules}

# Stops the whole run: a step whose guard fails must not be followed by the next one.
function Stop-Plan {{
    param([string]$Step, [string]$Message)
    throw ('preflight step ' + $Step + ': ' + $Message)
}}

# Whether a host name the platform reports is the one the plan names: case-insensitive, and a
# short name matches an FQDN by its first label (HV01 matches HV01.contoso.local).
function Test-PlanHost {{
    param([string]$Actual, [string]$Expected)
    if ($Actual -ieq $Expected) {{ return $true }}
    $oneShort = (-not $Actual.Contains('.')) -or (-not $Expected.Contains('.'))
    return $oneShort -and ($Actual.Split('.')[0] -ieq $Expected.Split('.')[0])
}}

function Write-PlanNote {{
    param([string]$Step, [string]$Text)
    Write-Host ('preflight step ' + $Step + ': ' + $Text)
}}

# The maintenance itself is the operator's. A full run waits here until they say it is done.
function Wait-PlanOperator {{
    $answer = Read-Host 'preflight: the hosts are in maintenance. Patch them, then type continue to run the post steps'
    if ($answer -cne 'continue') {{
        throw 'preflight: stopped before the post steps; render them with --phase post to run them later'
    }}
}}
"#
    )
}

/// A line calling helper `function` with `-Name 'literal'` pairs.
pub fn call(function: &str, args: &[(&str, &str)]) -> String {
    let mut line = String::from(function);
    for (name, value) in args {
        line.push_str(" -");
        line.push_str(name);
        line.push(' ');
        line.push_str(&ps_literal(value));
    }
    line.push('\n');
    line
}

pub fn pause() -> String {
    "Wait-PlanOperator\n".to_string()
}

pub fn epilogue() -> String {
    "\nWrite-Host 'preflight: every step of this script is done'\n".to_string()
}

/// How the platform's state enum prints for a plan state, or `''` when the guard cannot check
/// it (a transitional or unknown state: the location is still checked).
pub fn state_name(state: Option<VmState>, saved: &'static str, off: &'static str) -> &'static str {
    match state {
        Some(VmState::Running) => "Running",
        Some(VmState::Off) => off,
        Some(VmState::Saved) => saved,
        Some(VmState::Paused) => "Paused",
        _ => "",
    }
}

pub const HOW_TO_RUN_COMMON: &str = "Review it, then run it in a PowerShell session as an administrator; it stops at the first failed guard or step.";

/// The call that runs one step, the same in both PowerShell targets but for the state names
/// (`state`) and how a host leaves maintenance (`exit`, given the step id, the host and
/// whether the platform fails its roles back).
pub fn step_call(
    item: &Item<'_>,
    state: fn(Option<VmState>) -> &'static str,
    exit: impl FnOnce(&str, &str, bool) -> String,
) -> String {
    let step = item.step.id.as_str();
    match item.op {
        // `Storage` is the move's storage in words, empty when only the VM moves.
        Op::Migrate {
            guest: g,
            from: Some(from),
            to,
            storage,
        } => call(
            "Move-PlanVM",
            &[
                ("Step", step),
                ("Name", g.name),
                ("Id", g.id.unwrap_or("")),
                ("From", from),
                ("To", to),
                ("Expect", state(g.expect)),
                ("Storage", storage.unwrap_or("")),
            ],
        ),
        Op::Migrate {
            guest: g,
            from: None,
            to,
            storage,
        } => call(
            "Move-PlanVMBack",
            &[
                ("Step", step),
                ("Name", g.name),
                ("Id", g.id.unwrap_or("")),
                ("To", to),
                ("Expect", state(g.expect)),
                ("Storage", storage.unwrap_or("")),
            ],
        ),
        Op::Start(g, host) | Op::Shutdown(g, host) => call(
            if matches!(item.op, Op::Start(..)) {
                "Start-PlanVM"
            } else {
                "Stop-PlanVM"
            },
            &[
                ("Step", step),
                ("Name", g.name),
                ("Id", g.id.unwrap_or("")),
                ("OnHost", host),
                ("Expect", state(g.expect)),
            ],
        ),
        Op::EnterMaintenance(h) => call("Enter-PlanMaintenance", &[("Step", step), ("Node", h)]),
        Op::ExitMaintenance(h, failback) => exit(step, h, failback),
        Op::Notify => call(
            "Write-PlanNote",
            &[
                ("Step", step),
                ("Text", item.step.note.as_deref().unwrap_or("")),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_quotes_every_argument() {
        assert_eq!(
            call("Move-PlanVM", &[("Name", "a'b"), ("To", "$x")]),
            "Move-PlanVM -Name 'a''b' -To '$x'\n"
        );
    }
}
