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
    /// Whether the drain would move this VM off the host by its state and HA alone, whatever
    /// ties it to the host.
    fn drain_takes(&self, vm: &Vm) -> bool;
    /// Whether the drain itself moves this VM off the host: it takes it and nothing its facts
    /// show ties it to the host ([`stall`]). A VM tied to its host stays there and the drain
    /// stalls on it; a tie the facts do not show (unknown facts) does not keep it.
    fn drain_moves(&self, vm: &Vm) -> bool {
        self.drain_takes(vm) && stall(vm).is_none()
    }
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
///
/// The same on every platform (CONTRACT 7, platform facts D3, E, F): a passed-through device
/// blocks it (Proxmox "can't migrate VM which uses local devices", DDA, DirectPath I/O), so
/// does a medium only this host reaches (Proxmox "can't migrate local cdrom drive", a vMotion
/// to a host that cannot reach the file, a Hyper-V ISO on the node's own disk), and so does a
/// disk on the host's local storage, which no drain copies (Proxmox HA migrates without
/// `--with-local-disks`, DRS maintenance does not storage-migrate, a cluster drain moves the
/// role, not its VHDs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tie {
    /// A device of the host is passed through to it.
    Device,
    /// A medium (ISO, floppy, host drive) not on shared storage is mounted in it.
    LocalMedium,
    /// A disk is on storage only this host reaches.
    LocalDisk,
}

/// The [`Tie`] of a VM, the device first (ejecting a medium does not free it), then the medium
/// (ejecting it is the quick fix), then the disk. `None` when the facts show no tie, also when
/// they are unknown: the rules that need them report those.
pub(crate) fn tie(vm: &Vm) -> Option<Tie> {
    let facts = vm.facts.as_deref()?;
    if facts.passthrough().unwrap_or(false) {
        return Some(Tie::Device);
    }
    let local = |files: &Option<Vec<crate::model::FileRef>>| {
        files
            .as_ref()
            .is_some_and(|f| f.iter().any(|m| m.is_shared() == Some(false)))
    };
    if local(&facts.media) {
        return Some(Tie::LocalMedium);
    }
    local(&facts.disks).then_some(Tie::LocalDisk)
}

/// What keeps the drain from moving a running VM off its host: its [`Tie`], for a VM that
/// runs (or may run). The one predicate the capacity simulation, the constraint checks and
/// the planner share.
pub fn stall(vm: &Vm) -> Option<Tie> {
    if vm.template || !matches!(vm.state, VmState::Running | VmState::Unknown) {
        return None;
    }
    tie(vm)
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
    fn a_running_ha_vm_its_facts_tie_to_the_host_is_not_moved_by_any_drain() {
        use crate::model::{FileRef, VmFacts};
        let file = |path: &str, shared: Option<bool>| FileRef {
            path: path.into(),
            shared,
            size_mb: Some(1024),
        };
        let with = |facts: VmFacts| Vm {
            facts: Some(Box::new(facts)),
            ..vm(VmState::Running, Some(true))
        };
        let tied = [
            (
                with(VmFacts {
                    passthrough: Some(vec!["pci:0000:65:00.0".into()]),
                    ..VmFacts::default()
                }),
                Tie::Device,
            ),
            (
                with(VmFacts {
                    media: Some(vec![file(r"C:\ISO\x.iso", Some(false))]),
                    ..VmFacts::default()
                }),
                Tie::LocalMedium,
            ),
            (
                with(VmFacts {
                    disks: Some(vec![file("local-lvm:vm-100-disk-0", Some(false))]),
                    ..VmFacts::default()
                }),
                Tie::LocalDisk,
            ),
        ];
        for (v, t) in &tied {
            assert_eq!(stall(v), Some(*t));
            for p in Platform::ALL {
                assert!(!profile(p).drain_moves(v), "{p}: {t:?}");
                assert!(profile(p).drain_takes(v), "{p}");
            }
        }
        // Shared or unknown storage, no device: today's behaviour, the drain moves it.
        let free = [
            vm(VmState::Running, Some(true)),
            with(VmFacts {
                disks: Some(vec![file(r"C:\ClusterStorage\Volume1\a.vhdx", None)]),
                media: Some(vec![file("x.iso", None)]),
                passthrough: Some(vec![]),
                ..VmFacts::default()
            }),
        ];
        for v in &free {
            assert_eq!(stall(v), None);
            for p in Platform::ALL {
                assert!(profile(p).drain_moves(v), "{p}");
            }
        }
        // A stopped VM is not stalled by what it is tied to: nothing moves it anyway.
        let mut off = tied[0].0.clone();
        off.state = VmState::Off;
        assert_eq!(stall(&off), None);
    }

    #[test]
    fn stopped_ha_vms_stay_everywhere_but_vsphere_with_evacuation() {
        let v = vm(VmState::Off, Some(true));
        for p in Platform::ALL {
            assert!(!profile(p).drain_moves(&v), "{p}");
        }
    }
}
