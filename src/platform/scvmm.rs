//! SCVMM: `Disable-SCVMHost -MoveWithinCluster` live-migrates running HA VMs and saves running
//! non-HA VMs ("which causes users to lose service"); `Enable-SCVMHost` moves nothing back.

use super::{Profile, Tie, idle_fate};
use crate::model::{Platform, Vm, VmState};

pub struct Scvmm;

impl Profile for Scvmm {
    fn platform(&self) -> Platform {
        Platform::Scvmm
    }

    fn drain_command(&self) -> &'static str {
        "Disable-SCVMHost -MoveWithinCluster"
    }

    fn fate_tied(&self, vm: &Vm, tie: Option<Tie>) -> String {
        if let Some(f) = idle_fate(vm) {
            return f;
        }
        match (vm.state, vm.ha) {
            (VmState::Running, Some(true)) => match tie {
                Some(Tie::Device) => "maintenance mode cannot live-migrate it while a device of the host is passed through to it: its migration fails and it stays on the host".into(),
                Some(Tie::LocalMedium) => "maintenance mode cannot live-migrate it while a medium on the host's local storage is mounted: its migration fails and it stays on the host".into(),
                Some(Tie::LocalDisk) => "maintenance mode cannot live-migrate it while a disk is on the host's local storage (it does not move storage): its migration fails and it stays on the host".into(),
                None => "maintenance mode live-migrates it; nothing moves it back afterwards".into(),
            },
            (VmState::Running, Some(false)) => {
                "maintenance mode will save it and cut its users off".into()
            }
            (VmState::Running, None) => {
                "if it is not highly available, maintenance mode will save it and cut its users off"
                    .into()
            }
            _ => format!("it is {}; maintenance mode may save it", vm.state),
        }
    }

    fn drain_takes(&self, vm: &Vm) -> bool {
        vm.state == VmState::Running && vm.ha == Some(true)
    }

    fn moves_back(&self, _vm: &Vm) -> bool {
        false
    }
}
