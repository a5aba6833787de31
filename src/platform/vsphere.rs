//! vSphere: a host stays "entering maintenance" until every running VM is migrated (by DRS) or
//! powered off; powered-off VMs move only when evacuation is asked for; nothing moves back.

use super::{Profile, idle_fate};
use crate::model::{Platform, Vm, VmState};

pub struct Vsphere;

impl Profile for Vsphere {
    fn platform(&self) -> Platform {
        Platform::Vsphere
    }

    fn drain_command(&self) -> &'static str {
        "Set-VMHost -State Maintenance -Evacuate"
    }

    fn fate(&self, vm: &Vm) -> String {
        if let Some(f) = idle_fate(vm) {
            return f;
        }
        match (vm.state, vm.ha) {
            (VmState::Running, Some(true)) => {
                "DRS migrates it; nothing moves it back afterwards".into()
            }
            (VmState::Running, _) => {
                "the host cannot finish entering maintenance while it runs".into()
            }
            _ => format!(
                "it is {}; the host waits for it to be migrated or powered off",
                vm.state
            ),
        }
    }

    fn drain_moves(&self, vm: &Vm) -> bool {
        vm.state == VmState::Running && vm.ha == Some(true)
    }

    fn moves_back(&self, _vm: &Vm) -> bool {
        false
    }
}
