//! What each platform's drain and failback really do, one file per platform.
//!
//! The engine asks a [`Profile`] what will happen to a VM (the `{fate}` of a message), and the
//! planner asks which VMs the drain moves and which the platform moves back by itself. Adding a
//! platform is one new file implementing [`Profile`] and one line in [`profile`].

mod hyperv;
mod proxmox;
mod scvmm;
mod vsphere;

use crate::model::{Platform, Vm, VmState};

/// A platform's drain and failback semantics (see the README's platform table for sources).
pub trait Profile: Sync {
    fn platform(&self) -> Platform;
    /// The command that drains a host, for messages and plans.
    fn drain_command(&self) -> &'static str;
    /// What the drain will do to this VM, in a few words an admin reads in a finding.
    fn fate(&self, vm: &Vm) -> String {
        self.fate_tied(vm, tie(vm))
    }
    /// What the drain will do to this VM when `tie` holds it to its host (a rule about that
    /// tie says what it does, whatever else ties the VM).
    fn fate_tied(&self, vm: &Vm, tie: Option<Tie>) -> String;
    /// Whether the drain itself moves this VM off the host.
    fn drain_moves(&self, vm: &Vm) -> bool;
    /// Whether the platform moves a VM the drain moved back by itself when maintenance ends.
    fn moves_back(&self, vm: &Vm) -> bool;
}

/// The profile of a platform.
pub fn profile(platform: Platform) -> &'static dyn Profile {
    match platform {
        Platform::Scvmm => &scvmm::Scvmm,
        Platform::Hyperv => &hyperv::FailoverCluster,
        Platform::Proxmox => &proxmox::ProxmoxHa,
        Platform::Vsphere => &vsphere::Vsphere,
    }
}

/// The platform assumed when neither the inventory nor `--platform` says: SCVMM, whose drain
/// is the harshest common case (it saves running non-HA VMs).
pub const ASSUMED: Platform = Platform::Scvmm;

/// Fate shared by every platform for VMs that are not running: nothing touches them.
pub(crate) fn idle_fate(vm: &Vm) -> Option<String> {
    match vm.state {
        VmState::Off | VmState::Saved | VmState::Paused => Some(format!(
            "it is {} and nothing moves it off the host",
            vm.state
        )),
        _ => None,
    }
}

/// What ties a running VM to its host so that a live migration fails, when its facts say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tie {
    /// A device of the host is passed through to it.
    Device,
    /// A medium (ISO, floppy, host drive) not on shared storage is mounted in it.
    LocalMedium,
}

/// The [`Tie`] of a VM, the device first (ejecting a medium does not free it).
pub(crate) fn tie(vm: &Vm) -> Option<Tie> {
    let facts = vm.facts.as_deref()?;
    if facts.passthrough.as_ref().is_some_and(|d| !d.is_empty()) {
        return Some(Tie::Device);
    }
    let local = |m: &crate::model::FileRef| m.is_shared() == Some(false);
    facts
        .media
        .as_ref()
        .is_some_and(|m| m.iter().any(local))
        .then_some(Tie::LocalMedium)
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
    fn drains_differ_for_running_non_ha_vms() {
        let v = vm(VmState::Running, Some(false));
        assert!(profile(Platform::Scvmm).fate(&v).contains("save"));
        assert!(profile(Platform::Hyperv).fate(&v).contains("reboot"));
        assert!(profile(Platform::Proxmox).fate(&v).contains("reboot"));
        assert!(
            profile(Platform::Vsphere)
                .fate(&v)
                .contains("cannot finish")
        );
        for p in Platform::ALL {
            assert!(!profile(p).drain_moves(&v) || p == Platform::Vsphere);
        }
    }

    #[test]
    fn a_proxmox_guest_in_an_ha_state_not_moved_says_which() {
        let mut v = vm(VmState::Running, Some(false));
        v.evidence.insert("hastate".into(), "error".into());
        let p = profile(Platform::Proxmox);
        assert!(p.fate(&v).contains("HA state is `error`"), "{}", p.fate(&v));
        assert!(!p.drain_moves(&v));
        assert!(!p.moves_back(&v));
    }

    #[test]
    fn only_proxmox_and_failover_clusters_move_back() {
        let v = vm(VmState::Running, Some(true));
        assert!(!profile(Platform::Scvmm).moves_back(&v));
        assert!(!profile(Platform::Vsphere).moves_back(&v));
        assert!(profile(Platform::Proxmox).moves_back(&v));
        assert!(profile(Platform::Hyperv).moves_back(&v));
    }

    #[test]
    fn stopped_ha_vms_stay_everywhere_but_vsphere_with_evacuation() {
        let v = vm(VmState::Off, Some(true));
        for p in Platform::ALL {
            assert!(!profile(p).drain_moves(&v), "{p}");
        }
    }
}
