//! vSphere: a host stays "entering maintenance" until every running VM is migrated (by DRS) or
//! powered off; powered-off VMs move only when evacuation is asked for; nothing moves back.

use super::{Profile, Tie, idle_fate};
use crate::model::{Platform, Vm, VmState};

pub struct Vsphere;

impl Profile for Vsphere {
    fn platform(&self) -> Platform {
        Platform::Vsphere
    }

    /// Without `-Evacuate`: [`Profile::drain_moves`] counts only the running VMs DRS migrates,
    /// so the plan leaves powered-off VMs on the host (they do not keep it from entering
    /// maintenance), and the rendered scripts enter maintenance the same way.
    fn drain_command(&self) -> &'static str {
        "Set-VMHost -State Maintenance"
    }

    fn fate_tied(&self, vm: &Vm, tie: Option<Tie>) -> String {
        if let Some(f) = idle_fate(vm) {
            return f;
        }
        match (vm.state, vm.ha) {
            (VmState::Running, Some(true)) => match tie {
                Some(Tie::Device) => "vMotion fails while a device of the host is passed through to it: the host stays in Entering Maintenance Mode until it is powered off".into(),
                Some(Tie::LocalMedium) => "vMotion fails while a medium only this host reaches is mounted: the host stays in Entering Maintenance Mode until it is powered off or the medium is disconnected".into(),
                Some(Tie::LocalDisk) => "DRS does not migrate it while a disk is on a datastore only this host reaches (maintenance mode does not move storage): the host stays in Entering Maintenance Mode until it is powered off or moved with its storage".into(),
                None => "DRS migrates it; nothing moves it back afterwards".into(),
            },
            (VmState::Running, Some(false)) => {
                "the host cannot finish entering maintenance while it runs: DRS is not fully automated for it, so nothing migrates it".into()
            }
            (VmState::Running, None) => {
                "the host cannot finish entering maintenance while it runs unless DRS migrates it, and the export does not say whether DRS is fully automated".into()
            }
            _ => format!(
                "it is {}; the host waits for it to be migrated or powered off",
                vm.state
            ),
        }
    }

    fn drain_takes(&self, vm: &Vm) -> bool {
        vm.state == VmState::Running && vm.ha == Some(true)
    }

    fn moves_back(&self, _vm: &Vm) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(state: VmState, ha: Option<bool>) -> Vm {
        Vm {
            state,
            ha,
            ..Vm::on("V", "H")
        }
    }

    #[test]
    fn fate_says_why_the_host_waits() {
        let manual = Vsphere.fate(&vm(VmState::Running, Some(false)));
        assert!(
            manual.contains("cannot finish") && manual.contains("not fully automated"),
            "{manual}"
        );
        let unknown = Vsphere.fate(&vm(VmState::Running, None));
        assert!(unknown.contains("does not say"), "{unknown}");
        assert!(
            Vsphere
                .fate(&vm(VmState::Running, Some(true)))
                .contains("DRS migrates it")
        );
        assert!(!Vsphere.drain_moves(&vm(VmState::Running, None)));
        // Powered-off VMs stay put: the drain asks for no evacuation of them.
        assert!(!Vsphere.drain_moves(&vm(VmState::Off, Some(true))));
        assert!(!Vsphere.drain_command().contains("Evacuate"));
        assert!(
            Vsphere
                .fate(&vm(VmState::Off, Some(true)))
                .contains("nothing moves it")
        );
    }
}
