//! Writes the vSphere PowerCLI and govc examples: `examples/vsphere-powercli.json`, the document
//! `examples/collect/powercli.ps1` writes, and `examples/vsphere-govc.json`, the one
//! `examples/collect/govc.sh` writes, both of the vCenter of the RVTools example
//! (`examples/gen_rvtools.rs`).
//!
//! ```text
//! cargo run --example gen_vsphere            # rewrite the committed examples
//! ```
//!
//! Cluster `Prod` (DRS fully automated, HA on) holds `esx01`–`esx03`, `esx03` in maintenance;
//! cluster `Legacy` (DRS manual) holds `esx11` and `esx12`. Auditing
//! `--host esx01 --host esx11 --mode decommission` fires each baseline rule: the running VMs of
//! `esx01` do not fit on `esx02` alone (capacity), `app-old` runs on `esx11` where DRS will not
//! move it (non-ha-running), `sql-cold` is off on `esx01` (stranded-ha-vm) and `batch-01` off on
//! `esx11` (stranded-vm). `tests/inventory_vsphere.rs` checks that the committed files are what
//! this writes.

use serde_json::{Value, json};

/// One VM of the example.
pub struct VmSpec {
    pub name: &'static str,
    pub on: bool,
    pub cpus: u32,
    pub memory_mb: u32,
    pub host: &'static str,
    pub n: u32,
    /// The VM's own DRS override (`AsSpecifiedByCluster` unless set).
    pub drs: &'static str,
    pub rules: &'static str,
    pub iso: &'static str,
}

pub struct HostSpec {
    pub name: &'static str,
    pub cluster: &'static str,
    pub maintenance: bool,
    pub memory_mb: u32,
    pub n: u32,
}

pub struct ClusterSpec {
    pub name: &'static str,
    pub drs_level: &'static str,
    pub n: u32,
}

const fn vm(
    name: &'static str,
    on: bool,
    cpus: u32,
    memory_mb: u32,
    host: &'static str,
    n: u32,
) -> VmSpec {
    VmSpec {
        name,
        on,
        cpus,
        memory_mb,
        host,
        n,
        drs: "AsSpecifiedByCluster",
        rules: "",
        iso: "",
    }
}

pub const CLUSTERS: [ClusterSpec; 2] = [
    ClusterSpec {
        name: "Prod",
        drs_level: "FullyAutomated",
        n: 7,
    },
    ClusterSpec {
        name: "Legacy",
        drs_level: "Manual",
        n: 8,
    },
];

pub const HOSTS: [HostSpec; 5] = [
    HostSpec {
        name: "esx01",
        cluster: "Prod",
        maintenance: false,
        memory_mb: 262_144,
        n: 21,
    },
    HostSpec {
        name: "esx02",
        cluster: "Prod",
        maintenance: false,
        memory_mb: 262_144,
        n: 22,
    },
    HostSpec {
        name: "esx03",
        cluster: "Prod",
        maintenance: true,
        memory_mb: 262_144,
        n: 23,
    },
    HostSpec {
        name: "esx11",
        cluster: "Legacy",
        maintenance: false,
        memory_mb: 131_072,
        n: 31,
    },
    HostSpec {
        name: "esx12",
        cluster: "Legacy",
        maintenance: false,
        memory_mb: 131_072,
        n: 32,
    },
];

pub fn vms() -> Vec<VmSpec> {
    vec![
        VmSpec {
            rules: "Separate SQL nodes",
            ..vm("sql-a", true, 8, 98304, "esx01", 101)
        },
        vm("app-01", true, 4, 65536, "esx01", 102),
        VmSpec {
            iso: "[ds-shared01] iso/tools.iso",
            ..vm("web-01", true, 2, 32768, "esx01", 103)
        },
        vm("sql-cold", false, 8, 32768, "esx01", 104),
        VmSpec {
            rules: "Separate SQL nodes",
            ..vm("sql-b", true, 8, 98304, "esx02", 106)
        },
        vm("web-02", true, 2, 32768, "esx02", 107),
        vm("app-old", true, 4, 16384, "esx11", 111),
        vm("batch-01", false, 4, 8192, "esx11", 112),
        vm("app-new", true, 4, 16384, "esx12", 113),
        // DRS would move it, but its own override says manual: the host waits for it.
        VmSpec {
            drs: "Manual",
            ..vm("pinned-01", true, 2, 8192, "esx02", 108)
        },
    ]
}

fn cluster_of(host: &str) -> &'static str {
    HOSTS
        .iter()
        .find(|h| h.name == host)
        .map_or("", |h| h.cluster)
}

/// The document `examples/collect/powercli.ps1` writes (PowerShell 7, enums as names).
pub fn powercli() -> Value {
    let vms: Vec<Value> = vms()
        .iter()
        .map(|v| {
            let c = cluster_of(v.host);
            let level = CLUSTERS
                .iter()
                .find(|x| x.name == c)
                .map_or("", |x| x.drs_level);
            let media: Vec<Value> = [v.iso]
                .iter()
                .filter(|i| !i.is_empty())
                .map(|i| json!({"Path": i, "Shared": true}))
                .collect();
            let passthrough: Vec<&str> = if v.name == "app-old" {
                vec!["usb:Rainbow USB license dongle"]
            } else {
                Vec::new()
            };
            let anti: Vec<&str> = [v.rules].into_iter().filter(|r| !r.is_empty()).collect();
            json!({
                "Name": v.name,
                "Id": format!("VirtualMachine-vm-{}", v.n),
                "PowerState": if v.on { "PoweredOn" } else { "PoweredOff" },
                "NumCpu": v.cpus,
                "MemoryMB": v.memory_mb,
                "VMHost": v.host,
                "Cluster": c,
                "DrsAutomationLevel": v.drs,
                "HARestartPriority": "ClusterRestartPriority",
                "ClusterDrsEnabled": true,
                "ClusterDrsAutomationLevel": level,
                "ClusterHAEnabled": true,
                "CpuCompat": c == "Legacy",
                "Disks": [{
                    "Path": format!("[{}] {}/{}.vmdk", datastore_of(v), v.name, v.name),
                    "SizeMB": 40960,
                    "Shared": datastore_of(v) != "esx01-local",
                }],
                "Media": media,
                "Passthrough": passthrough,
                "Networks": [network_of(v.host)],
                "Checkpoints": 0,
                "AntiAffinity": anti,
                "Affinity": [],
                "AllowedHosts": if v.name == "app-new" { vec!["esx12"] } else { Vec::new() },
                "Attributes": {"os": "Microsoft Windows Server 2022 (64-bit)"},
                "Template": false,
            })
        })
        .collect();
    let hosts: Vec<Value> = HOSTS
        .iter()
        .map(|h| {
            json!({
                "Name": h.name,
                "ConnectionState": if h.maintenance { "Maintenance" } else { "Connected" },
                "MemoryTotalMB": h.memory_mb,
                "NumCpu": 64,
                "ProcessorType": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
                "Cluster": h.cluster,
                "Networks": [network_of(h.name)],
            })
        })
        .collect();
    let clusters: Vec<Value> = CLUSTERS
        .iter()
        .map(|c| {
            json!({
                "Name": c.name,
                "HAEnabled": true,
                "DrsEnabled": true,
                "DrsAutomationLevel": c.drs_level,
            })
        })
        .collect();
    json!({
        "Source": "preflight examples/collect/powercli.ps1",
        "CollectedAt": "2026-11-25T16:00:00Z",
        "VMs": vms,
        "VMHosts": hosts,
        "Clusters": clusters,
    })
}

/// The datastore of a VM's disk: `sql-cold` lives on `esx01-local`, which only `esx01`
/// mounts, as in the RVTools example.
fn datastore_of(v: &VmSpec) -> &'static str {
    match (v.name, v.host) {
        ("sql-cold", _) => "esx01-local",
        (_, h) if h.starts_with("esx1") => "ds-legacy",
        _ => "ds-shared01",
    }
}

/// The port group of a host's VMs.
fn network_of(host: &str) -> &'static str {
    if host.starts_with("esx1") {
        "Legacy-VLAN20"
    } else {
        "VM Network"
    }
}

/// The document `examples/collect/govc.sh` writes: govc's own outputs, wrapped.
pub fn govc() -> Value {
    let vm_list: Vec<Value> = vms()
        .iter()
        .map(|v| {
            let host = HOSTS.iter().find(|h| h.name == v.host).map_or(0, |h| h.n);
            json!({
                "self": {"type": "VirtualMachine", "value": format!("vm-{}", v.n)},
                "name": v.name,
                "config": {
                    "name": v.name,
                    "template": false,
                    "instanceUuid": format!("5001c0de-0000-4000-8000-{:012}", v.n),
                    "hardware": {"numCPU": v.cpus, "memoryMB": v.memory_mb},
                },
                "runtime": {
                    "host": {"type": "HostSystem", "value": format!("host-{host}")},
                    "powerState": if v.on { "poweredOn" } else { "poweredOff" },
                },
            })
        })
        .collect();
    let host_list: Vec<Value> = HOSTS
        .iter()
        .map(|h| {
            let c = CLUSTERS
                .iter()
                .find(|c| c.name == h.cluster)
                .map_or(0, |c| c.n);
            json!({
                "self": {"type": "HostSystem", "value": format!("host-{}", h.n)},
                "name": h.name,
                "parent": {"type": "ClusterComputeResource", "value": format!("domain-c{c}")},
                "runtime": {"connectionState": "connected", "inMaintenanceMode": h.maintenance},
                "summary": {"hardware": {
                    "memorySize": u64::from(h.memory_mb) * 1024 * 1024,
                    "cpuModel": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
                    "numCpuCores": 64,
                }},
            })
        })
        .collect();
    let clusters: Vec<Value> = CLUSTERS
        .iter()
        .map(|c| {
            let overrides: Vec<Value> = vms()
                .iter()
                .filter(|v| v.drs != "AsSpecifiedByCluster" && cluster_of(v.host) == c.name)
                .map(|v| {
                    json!({
                        "key": {"type": "VirtualMachine", "value": format!("vm-{}", v.n)},
                        "enabled": true,
                        "behavior": lower_first(v.drs),
                    })
                })
                .collect();
            // The VM-VM anti-affinity rule of the VMs with `rules`, and (Legacy) a VM-Host
            // must rule keeping `app-new` on `esx12`.
            let members: Vec<Value> = vms()
                .iter()
                .filter(|v| !v.rules.is_empty() && cluster_of(v.host) == c.name)
                .map(|v| json!({"type": "VirtualMachine", "value": format!("vm-{}", v.n)}))
                .collect();
            let mut rules: Vec<Value> = Vec::new();
            if !members.is_empty() {
                rules.push(json!({"_typeName": "ClusterAntiAffinityRuleSpec", "name": "Separate SQL nodes", "enabled": true, "vm": members}));
            }
            let mut groups: Vec<Value> = Vec::new();
            if c.name == "Legacy" {
                rules.push(json!({"_typeName": "ClusterVmHostRuleInfo", "name": "app-new on esx12", "enabled": true, "mandatory": true, "vmGroupName": "app-new-vms", "affineHostGroupName": "esx12-hosts"}));
                groups.push(json!({"_typeName": "ClusterVmGroup", "name": "app-new-vms", "vm": [{"type": "VirtualMachine", "value": "vm-113"}]}));
                groups.push(json!({"_typeName": "ClusterHostGroup", "name": "esx12-hosts", "host": [{"type": "HostSystem", "value": "host-32"}]}));
            }
            json!({
                "name": c.name,
                "ref": format!("ClusterComputeResource:domain-c{}", c.n),
                "config": [{"name": "configurationEx", "val": {
                    "dasConfig": {"enabled": true},
                    "drsConfig": {"enabled": true, "defaultVmBehavior": lower_first(c.drs_level)},
                    "drsVmConfig": overrides,
                    "rule": rules,
                    "group": groups,
                }}],
            })
        })
        .collect();
    json!({
        "preflight_govc": 1,
        "collected_at": "2026-11-25T16:00:00Z",
        "vm_info": {"virtualMachines": vm_list},
        "host_info": {"hostSystems": host_list},
        "clusters": clusters,
    })
}

/// `FullyAutomated` as vim25 spells it: `fullyAutomated`.
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The examples' files, relative to the repository.
pub fn example_files() -> Vec<(String, Vec<u8>)> {
    let pretty = |v: &Value| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s.into_bytes()
    };
    vec![
        (
            "examples/vsphere-powercli.json".to_string(),
            pretty(&powercli()),
        ),
        ("examples/vsphere-govc.json".to_string(), pretty(&govc())),
    ]
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    for (path, bytes) in example_files() {
        let path = std::path::Path::new(root).join(path);
        std::fs::write(&path, bytes)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
