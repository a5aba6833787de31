//! Hyper-V failover cluster: `Suspend-ClusterNode -Drain` moves clustered roles; VMs that are
//! not clustered keep running until the node reboots. `Resume-ClusterNode -Failback Immediate`
//! returns drained roles (Cluster-Aware Updating's default), so drained VMs come back.

use super::{Profile, Tie, idle_fate};
use crate::model::{Platform, Vm, VmState};

pub struct FailoverCluster;

impl Profile for FailoverCluster {
    fn platform(&self) -> Platform {
        Platform::Hyperv
    }

    fn drain_command(&self) -> &'static str {
        "Suspend-ClusterNode -Drain"
    }

    fn fate_tied(&self, vm: &Vm, tie: Option<Tie>) -> String {
        if let Some(f) = idle_fate(vm) {
            return f;
        }
        match (vm.state, vm.ha) {
            (VmState::Running, Some(true)) => match tie {
                Some(Tie::Device) => "the drain cannot live-migrate it while a device of the node is passed through to it: the drain fails on it and the node does not pause cleanly".into(),
                Some(Tie::LocalMedium) => "the drain cannot live-migrate it while a medium on the node's local storage is mounted: the drain fails on it and the node does not pause cleanly".into(),
                Some(Tie::LocalDisk) => "the drain cannot live-migrate it while a disk is on the node's local storage (the drain moves the role, not its disks): the drain fails on it and the node does not pause cleanly".into(),
                None => "the drain live-migrates it; Resume-ClusterNode -Failback Immediate brings it back"
                    .into(),
            },
            (VmState::Running, Some(false)) => {
                "it keeps running until the reboot takes it down".into()
            }
            (VmState::Running, None) => {
                "if it is not clustered, it keeps running until the reboot takes it down".into()
            }
            _ => format!("it is {}; the drain only moves clustered roles", vm.state),
        }
    }

    fn drain_takes(&self, vm: &Vm) -> bool {
        vm.state == VmState::Running && vm.ha == Some(true)
    }

    fn moves_back(&self, vm: &Vm) -> bool {
        vm.ha == Some(true)
    }
}
