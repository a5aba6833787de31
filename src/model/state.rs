//! The closed sets of states an inventory may give hosts and VMs, and the platforms.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The state of a VM, as the native format and the policy language spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VmState {
    Running,
    Off,
    Saved,
    Paused,
    Starting,
    Stopping,
    Migrating,
    Unknown,
}

impl VmState {
    pub const ALL: [VmState; 8] = [
        VmState::Running,
        VmState::Off,
        VmState::Saved,
        VmState::Paused,
        VmState::Starting,
        VmState::Stopping,
        VmState::Migrating,
        VmState::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Running => "running",
            VmState::Off => "off",
            VmState::Saved => "saved",
            VmState::Paused => "paused",
            VmState::Starting => "starting",
            VmState::Stopping => "stopping",
            VmState::Migrating => "migrating",
            VmState::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the VM consumes host memory now (and so counts as load).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            VmState::Running
                | VmState::Starting
                | VmState::Stopping
                | VmState::Migrating
                | VmState::Paused
        )
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a host, as the native format spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostState {
    Up,
    Maintenance,
    Paused,
    Down,
}

impl HostState {
    pub const ALL: [HostState; 4] = [
        HostState::Up,
        HostState::Maintenance,
        HostState::Paused,
        HostState::Down,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HostState::Up => "up",
            HostState::Maintenance => "maintenance",
            HostState::Paused => "paused",
            HostState::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for HostState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The virtualization platform whose drain semantics apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    Scvmm,
    Hyperv,
    Proxmox,
    Vsphere,
}

impl Platform {
    pub const ALL: [Platform; 4] = [
        Platform::Scvmm,
        Platform::Hyperv,
        Platform::Proxmox,
        Platform::Vsphere,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Scvmm => "scvmm",
            Platform::Hyperv => "hyperv",
            Platform::Proxmox => "proxmox",
            Platform::Vsphere => "vsphere",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
