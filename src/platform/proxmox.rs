//! Proxmox VE: `ha-manager crm-command node-maintenance enable` migrates running HA guests only
//! and records their node, moving them back when maintenance is disabled. Stopped HA guests,
//! guests whose HA state is error, disabled or ignored (read as not HA), and guests outside HA
//! stay on the node.

use super::{Profile, Tie, idle_fate};
use crate::model::{Platform, Vm, VmState};

pub struct ProxmoxHa;

impl Profile for ProxmoxHa {
    fn platform(&self) -> Platform {
        Platform::Proxmox
    }

    fn drain_command(&self) -> &'static str {
        "ha-manager crm-command node-maintenance enable"
    }

    fn fate_tied(&self, vm: &Vm, tie: Option<Tie>) -> String {
        if let Some(f) = idle_fate(vm) {
            return f;
        }
        match (vm.state, vm.ha) {
            (VmState::Running, Some(true)) => match tie {
                Some(Tie::Device) => "HA maintenance cannot migrate it (\"can't migrate VM which uses local devices\"): it stays on the node until the reboot takes it down".into(),
                Some(Tie::LocalMedium) => "HA maintenance cannot migrate it (\"can't migrate local cdrom drive\"): it stays on the node until the reboot takes it down".into(),
                Some(Tie::LocalDisk) => "HA maintenance cannot migrate it: a disk is on the node's local storage, which HA migration does not copy (no --with-local-disks): it stays on the node until the reboot takes it down".into(),
                None => "HA maintenance migrates it and moves it back when maintenance ends".into(),
            },
            (VmState::Running, Some(false)) => match vm.evidence.get("hastate") {
                // HA-managed, but in a state the HA manager does not move (error, disabled,
                // ignored): say which, since the admin fixes that state, not the HA flag.
                Some(h) => format!(
                    "its HA state is `{h}`, which HA maintenance does not move: it keeps running until the reboot takes it down"
                ),
                None => {
                    "the HA stack does not touch it: it keeps running until the reboot takes it down"
                        .into()
                }
            },
            (VmState::Running, None) => {
                "if it is not HA-managed, it keeps running until the reboot takes it down".into()
            }
            _ => format!(
                "it is {}; HA maintenance only moves running HA guests",
                vm.state
            ),
        }
    }

    fn drain_takes(&self, vm: &Vm) -> bool {
        vm.state == VmState::Running && vm.ha == Some(true)
    }

    fn moves_back(&self, vm: &Vm) -> bool {
        vm.ha == Some(true)
    }
}
