//! The platforms' state enums, mapped onto preflight's VM states ([`VmState`]).
//!
//! Each platform numbers its states differently (Running is 0 in SCVMM, 2 in Hyper-V), so a
//! reader must use its own table. A value is one of three things: a power state we map, a
//! value we know that says nothing about power (SCVMM's `IncompleteVMConfig`, Proxmox's
//! `unknown`), or a value we have never seen. The last two both read as `unknown`; only the
//! last one is worth a warning.

use crate::model::VmState;

/// What a raw state value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// A power state.
    Power(VmState),
    /// A known value that is not a power state (a status, a failure, an operation).
    NotPower,
    /// A value not in the table.
    Unlisted,
}

/// `Microsoft.VirtualManager.Utils.VMComputerSystemState` by number.
pub fn scvmm_number(n: i64) -> Reading {
    use Reading::*;
    use VmState::*;
    match n {
        0 => Power(Running),
        1 => Power(Off),
        2 | 4 => Power(Stopping),
        3 => Power(Saved),
        5 | 11 => Power(Starting),
        6 | 81 => Power(Paused),
        10 => Power(Saved),
        200 => Power(Migrating),
        12 | 13 | 80 | 100..=107 | 201 | 210..=215 | 220..=225 | 240 | 250 => NotPower,
        _ => Unlisted,
    }
}

/// The same enum by name (`-EnumsAsStrings`, calculated `...String` properties) or by the
/// display text of `StatusString` ("Saved State", "Under Migration", "Stopped").
pub fn scvmm_name(s: &str) -> Reading {
    use Reading::*;
    use VmState::*;
    match squash(s).as_str() {
        "running" => Power(Running),
        "poweroff" | "stopped" | "off" => Power(Off),
        "poweringoff" | "saving" | "stopping" => Power(Stopping),
        "saved" | "savedstate" | "discardsavedstate" => Power(Saved),
        "restoring" | "starting" => Power(Starting),
        "paused" | "pausing" => Power(Paused),
        "undermigration" | "migrating" => Power(Migrating),
        "mergingdrives"
        | "deleting"
        | "discardingdrives"
        | "undercreation"
        | "creationfailed"
        | "stored"
        | "undertemplatecreation"
        | "templatecreationfailed"
        | "customizationfailed"
        | "underupdate"
        | "updatefailed"
        | "migrationfailed"
        | "creatingcheckpoint"
        | "deletingcheckpoint"
        | "recoveringcheckpoint"
        | "checkpointfailed"
        | "initializingcheckpointoperation"
        | "finishingcheckpointoperation"
        | "missing"
        | "hostnotresponding"
        | "unsupported"
        | "incompletevmconfig"
        | "unsupportedsharedfiles"
        | "unsupportedcluster"
        | "p2vcreationfailed"
        | "v2vcreationfailed" => NotPower,
        _ => Unlisted,
    }
}

/// Hyper-V `VMState` by number. Values from 32781 on are numbered differently between Windows
/// versions, so only their names can be trusted.
pub fn hyperv_number(n: i64) -> Reading {
    use Reading::*;
    use VmState::*;
    match n {
        2 => Power(Running),
        3 => Power(Off),
        4 | 32773 | 32780 => Power(Stopping),
        6 | 32779 => Power(Saved),
        9 | 32776 => Power(Paused),
        10 | 11 | 32777 => Power(Starting),
        1 => NotPower,
        _ => Unlisted,
    }
}

/// Hyper-V `VMState` by name, as `Export-Csv` and `-EnumsAsStrings` write it. The `...Critical`
/// variants (health not OK) carry the same power state.
pub fn hyperv_name(s: &str) -> Reading {
    use Reading::*;
    use VmState::*;
    let sq = squash(s);
    match sq.strip_suffix("critical").unwrap_or(&sq) {
        "running" => Power(Running),
        "off" | "hibernated" => Power(Off),
        "stopping" | "saving" | "fastsaving" | "forceshutdown" => Power(Stopping),
        "saved" | "fastsaved" => Power(Saved),
        "paused" | "pausing" => Power(Paused),
        "starting" | "reset" | "resuming" | "forcereboot" => Power(Starting),
        "other" | "componentservicing" => NotPower,
        _ => Unlisted,
    }
}

/// Proxmox guest `status` from `/cluster/resources`.
pub fn proxmox_status(s: &str) -> Reading {
    use Reading::*;
    use VmState::*;
    match s {
        "running" => Power(Running),
        "stopped" => Power(Off),
        "paused" | "suspended" => Power(Paused),
        "prelaunch" => Power(Starting),
        "unknown" => NotPower,
        _ => Unlisted,
    }
}

/// Lower case without spaces, dashes or underscores: "Saved State" and "SavedState" agree.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Reading::*;
    use VmState::*;

    #[test]
    fn scvmm_numbers_and_names_agree() {
        for (n, name) in [
            (0, "Running"),
            (1, "PowerOff"),
            (3, "Saved"),
            (6, "Paused"),
            (11, "Starting"),
            (200, "UnderMigration"),
            (221, "HostNotResponding"),
            (225, "UnsupportedCluster"),
        ] {
            assert_eq!(scvmm_number(n), scvmm_name(name), "{n} {name}");
        }
        assert_eq!(scvmm_name("Saved State"), Power(Saved));
        assert_eq!(scvmm_name("Stopped"), Power(Off));
        assert_eq!(scvmm_name("Under Migration"), Power(Migrating));
        assert_eq!(scvmm_name("Host Not Responding"), NotPower);
        assert_eq!(scvmm_number(999), Unlisted);
        assert_eq!(scvmm_name("Frobnicated"), Unlisted);
    }

    #[test]
    fn hyperv_numbers_differ_from_scvmm() {
        assert_eq!(hyperv_number(2), Power(Running));
        assert_eq!(scvmm_number(2), Power(Stopping));
        assert_eq!(hyperv_number(0), Unlisted);
        assert_eq!(hyperv_number(6), Power(Saved));
        assert_eq!(hyperv_number(32779), Power(Saved));
        // Renumbered between Windows versions: never trusted by number.
        assert_eq!(hyperv_number(32781), Unlisted);
        assert_eq!(hyperv_number(32785), Unlisted);
        assert_eq!(hyperv_name("RunningCritical"), Power(Running));
        assert_eq!(hyperv_name("Off"), Power(Off));
        assert_eq!(hyperv_name("Other"), NotPower);
    }

    #[test]
    fn proxmox_statuses() {
        assert_eq!(proxmox_status("running"), Power(Running));
        assert_eq!(proxmox_status("stopped"), Power(Off));
        assert_eq!(proxmox_status("unknown"), NotPower);
        assert_eq!(proxmox_status("Running"), Unlisted);
    }
}
