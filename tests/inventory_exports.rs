//! The platform export readers against one fixture per quirk (tests/fixtures/inventory).
//!
//! Each fixture's reading is pinned as a compact snapshot; the findings planted in the samples
//! (running non-HA VMs, stopped HA VMs) are also asserted by name so that a snapshot update
//! cannot quietly lose them.

use preflight::diag::{Code, Diagnostics};
use preflight::inventory::{self, Format, Parsed};
use preflight::model::{HostState, Inventory, Platform, Vm, VmState};
use std::fmt::Write;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/inventory/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(name: &str) -> Result<Parsed, Diagnostics> {
    inventory::parse(name, &fixture(name), None)
}

fn ok(name: &str) -> Parsed {
    match read(name) {
        Ok(p) => p,
        Err(d) => panic!(
            "{name}: {:?}",
            d.0.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    }
}

fn vm<'a>(inv: &'a Inventory, name: &str) -> &'a Vm {
    inv.vms
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no VM {name}"))
}

/// One line per host, VM, gap and warning, in the order the reader gave them.
fn render(p: &Parsed) -> String {
    let inv = &p.inventory;
    let mut out = format!(
        "format={} platform={:?}\n",
        p.format,
        inv.platform.map(|p| p.to_string())
    );
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for h in &inv.hosts {
        let _ = writeln!(
            out,
            "host {} cluster={} state={} mem={} cpus={}",
            h.name,
            h.cluster.as_deref().unwrap_or("-"),
            h.state,
            opt(h.memory_mb),
            opt(h.cpus.map(u64::from))
        );
    }
    for v in &inv.vms {
        let _ = writeln!(
            out,
            "vm {}{} id={} host={} state={} ha={} mem={} vcpus={} tags={:?} evidence={:?}",
            v.name,
            if v.template { " (template)" } else { "" },
            v.id.as_deref().unwrap_or("-"),
            v.host,
            v.state,
            v.ha.map_or("?".to_string(), |b| b.to_string()),
            opt(v.memory_mb),
            opt(v.vcpus.map(u64::from)),
            v.tags,
            v.evidence
        );
    }
    for g in &inv.gaps {
        let _ = writeln!(out, "gap {} count={} hint={}", g.field, g.count, g.hint);
    }
    for w in &p.warnings {
        let (l, c) = w.line_col().unwrap_or((0, 0));
        let _ = writeln!(
            out,
            "warning {} {l}:{c} {} help={:?}",
            w.code, w.message, w.help
        );
    }
    out
}

fn render_err(d: &Diagnostics) -> String {
    d.0.iter()
        .map(|d| {
            let (l, c) = d.line_col().unwrap_or((0, 0));
            format!("{} {l}:{c} {} help={:?}\n", d.code, d.message, d.help)
        })
        .collect()
}

macro_rules! snap {
    ($name:literal, $file:literal) => {
        insta::assert_snapshot!($name, render(&ok($file)));
    };
}

#[test]
fn scvmm_ps51_planted_findings() {
    let p = ok("scvmm-ps51.json");
    assert_eq!(p.format, Format::Scvmm);
    let inv = &p.inventory;
    assert_eq!(inv.platform, Some(Platform::Scvmm));
    assert_eq!(inv.vms.len(), 8);
    for name in ["SQL01", "TEST01"] {
        assert_eq!(vm(inv, name).state, VmState::Running, "{name}");
        assert_eq!(vm(inv, name).ha, Some(false), "{name}");
    }
    assert_eq!(
        (vm(inv, "APP01").state, vm(inv, "APP01").ha),
        (VmState::Off, Some(true))
    );
    assert_eq!(
        (vm(inv, "WEB02").state, vm(inv, "WEB02").ha),
        (VmState::Saved, Some(true))
    );
    assert_eq!(
        (vm(inv, "BUILD01").state, vm(inv, "BUILD01").ha),
        (VmState::Off, Some(false))
    );
    // FQDN host names are kept as the export spells them.
    assert_eq!(vm(inv, "SQL01").host, "HV01.contoso.local");
    assert_eq!(vm(inv, "SQL01").memory_mb, Some(16384));
    assert!(inv.gaps.is_empty() && p.warnings.is_empty());
    insta::assert_snapshot!("scvmm_ps51", render(&p));
}

#[test]
fn every_encoding_reads_the_same() {
    let utf8 = ok("scvmm-ps51.json").inventory;
    for name in [
        "scvmm-ps51-redirected-utf16le.json",
        "scvmm-ps51-utf16be.json",
        "scvmm-ps51-utf8bom.json",
    ] {
        let p = ok(name);
        assert_eq!(p.format, Format::Scvmm, "{name}");
        assert_eq!(p.inventory, utf8, "{name}");
    }
}

#[test]
fn scvmm_bare_object_is_one_vm() {
    let inv = ok("scvmm-ps7-bare-object.json").inventory;
    assert_eq!(inv.vms.len(), 1);
    assert_eq!(vm(&inv, "SQL01").state, VmState::Running);
    assert_eq!(vm(&inv, "SQL01").vcpus, Some(8));
}

#[test]
fn scvmm_enums_as_strings() {
    let inv = ok("scvmm-ps7-enums-as-strings.json").inventory;
    assert_eq!(vm(&inv, "SQL01").tags, ["prod", "sql"]);
    assert_eq!(vm(&inv, "SQL01").evidence["passthrough_disk"], "true");
    assert!(vm(&inv, "APP01").tags.is_empty(), "(none) is no tag");
    assert_eq!(vm(&inv, "MIG01").state, VmState::Migrating);
    snap!("scvmm_enums_as_strings", "scvmm-ps7-enums-as-strings.json");
}

#[test]
fn scvmm_status_string_text() {
    let p = ok("scvmm-statusstring.json");
    let inv = &p.inventory;
    assert_eq!(vm(inv, "OFF01").state, VmState::Off);
    assert_eq!(vm(inv, "SAV01").state, VmState::Saved);
    assert_eq!(vm(inv, "MIG01").state, VmState::Migrating);
    // A known status that says nothing about power: unknown, kept, no warning.
    assert_eq!(vm(inv, "LOST01").state, VmState::Unknown);
    assert_eq!(vm(inv, "LOST01").evidence["status"], "Host Not Responding");
    assert!(p.warnings.is_empty());
    assert_eq!(inv.gaps[0].field, "memory_mb");
    snap!("scvmm_status_string", "scvmm-statusstring.json");
}

#[test]
fn scvmm_unknown_status_is_a_located_warning() {
    let p = ok("scvmm-unknown-status.json");
    let v = vm(&p.inventory, "REPL01");
    assert_eq!(v.state, VmState::Unknown);
    assert_eq!(v.evidence["raw_state"], "Status=999");
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(p.warnings[0].code, Code::InventoryUnknownState);
    assert!(p.warnings[0].warning);
    assert_eq!(p.warnings[0].line_col(), Some((13, 20)));
}

#[test]
fn scvmm_depth_truncated_host() {
    let p = ok("scvmm-depth-truncated.json");
    assert_eq!(vm(&p.inventory, "DC01").host, "HV01.contoso.local");
    assert_eq!(p.warnings[0].code, Code::InventoryTruncated);
    assert!(
        p.warnings[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("HostName")
    );
    let err = read("scvmm-depth-truncated-nohost.json").unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].code, Code::InventoryTruncated);
    assert!(!err.0[0].warning);
    assert_eq!(err.0[0].line_col(), Some((4, 20)));
    insta::assert_snapshot!("scvmm_depth_truncated_nohost", render_err(&err));
}

#[test]
fn scvmm_missing_host_is_an_error_with_path_and_line() {
    let err = read("scvmm-missing-host.json").unwrap_err();
    assert_eq!(err.0[0].code, Code::InventoryField);
    assert!(err.0[0].message.contains("[1]"), "{}", err.0[0].message);
    assert!(
        err.0[0].message.contains("HostName"),
        "{}",
        err.0[0].message
    );
    assert_eq!(err.0[0].line_col(), Some((7, 5)));
}

#[test]
fn scvmm_hosts_and_merge_with_vms() {
    let p = ok("scvmm-hosts.json");
    let hosts = &p.inventory.hosts;
    assert_eq!(hosts[0].memory_mb, Some(262144), "TotalMemory is bytes");
    assert_eq!(hosts[1].state, HostState::Maintenance);
    assert_eq!(hosts[2].state, HostState::Down);
    assert_eq!(
        hosts[2].memory_mb, None,
        "0 from an unreachable host is unknown"
    );
    assert_eq!(p.warnings[0].code, Code::InventoryTruncated);
    snap!("scvmm_hosts", "scvmm-hosts.json");
    let merged = inventory::merge(vec![
        ("vms".to_string(), ok("scvmm-ps51.json").inventory),
        ("hosts".to_string(), p.inventory),
    ])
    .unwrap();
    assert_eq!(merged.hosts.len(), 3);
    assert_eq!(
        merged
            .host("hv01.contoso.local")
            .unwrap()
            .cluster
            .as_deref(),
        Some("CL01.contoso.local")
    );
}

#[test]
fn scvmm_combined_inventory_object() {
    // The shape an inventory script writes: vms, hosts and clusters lists beside others that
    // are ignored, statuses as strings, no IsHighlyAvailable, VHD paths, one line.
    let p = ok("scvmm-get-inventory-combined.json");
    assert_eq!(p.format, Format::Scvmm);
    let inv = &p.inventory;
    assert_eq!(inv.vms.len(), 13);
    assert!(inv.vms.iter().all(|v| v.ha.is_none()));
    assert_eq!(inv.gaps.len(), 1);
    assert_eq!((inv.gaps[0].field.as_str(), inv.gaps[0].count), ("ha", 13));
    // Two VMs share a name; their ids tell them apart.
    let clones: Vec<_> = inv.vms.iter().filter(|v| v.name == "clone-me").collect();
    assert_eq!(clones.len(), 2);
    assert_ne!(clones[0].key(), clones[1].key());
    assert_eq!(
        (clones[0].host.as_str(), clones[1].host.as_str()),
        ("hv-a.lab.example", "hv-b.lab.example")
    );
    // VMs on a host the export does not list: that host is implied later, capacity unknown.
    assert!(inv.host("lib01.lab.example").is_none());
    assert_eq!(vm(inv, "lib-probe").host, "lib01.lab.example");
    // `StatusString` UnsupportedCluster is a status: the power state comes from
    // VirtualMachineStateString, the status is kept as evidence.
    let v = vm(inv, "build-agent");
    assert_eq!(v.state, VmState::Running);
    assert_eq!(v.evidence["status"], "UnsupportedCluster");
    // No power state anywhere: unknown, without a warning (the value is known).
    assert_eq!(vm(inv, "broken-cfg").state, VmState::Unknown);
    assert_eq!(vm(inv, "ghost").state, VmState::Off);
    assert_eq!(vm(inv, "ghost").evidence["status"], "Missing");
    // 5.1 escapes the apostrophe as \u0027.
    assert_eq!(vm(inv, "bob's-desk").state, VmState::Running);
    let host = inv.host("hv-a.lab.example").unwrap();
    assert_eq!(host.memory_mb, Some(73716));
    assert_eq!(host.cluster.as_deref(), Some("labclus"));
    assert_eq!(inv.host("hv-b.lab.example").unwrap().cpus, Some(16));
    assert_eq!(
        inv.host("hv-old.lab.example").unwrap().state,
        HostState::Down
    );
    assert_eq!(
        inv.hosts.len(),
        3,
        "a cluster node that agrees is the same host"
    );
    assert!(p.warnings.is_empty());
    snap!("scvmm_combined", "scvmm-get-inventory-combined.json");
}

#[test]
fn hyperv_csv_planted_findings() {
    let p = ok("hyperv-getvm.csv");
    assert_eq!(p.format, Format::Hyperv);
    let inv = &p.inventory;
    assert_eq!(inv.platform, Some(Platform::Hyperv));
    for name in ["SQL01", "TEST01"] {
        assert_eq!(
            (vm(inv, name).state, vm(inv, name).ha),
            (VmState::Running, Some(false))
        );
    }
    assert_eq!(
        (vm(inv, "APP01").state, vm(inv, "APP01").ha),
        (VmState::Off, Some(true))
    );
    assert_eq!(
        (vm(inv, "WEB02").state, vm(inv, "WEB02").ha),
        (VmState::Saved, Some(true))
    );
    assert_eq!(vm(inv, "SQL01").memory_mb, Some(16384));
    assert_eq!(vm(inv, "SQL01").host, "N1");
    snap!("hyperv_csv", "hyperv-getvm.csv");
}

#[test]
fn hyperv_csv_quirks() {
    let semi = ok("hyperv-getvm-semicolon.csv").inventory;
    assert_eq!(
        vm(&semi, "APP01").memory_mb,
        Some(8192),
        "MemoryStartup when off"
    );
    assert!(semi.gaps.is_empty());
    snap!("hyperv_csv_semicolon", "hyperv-getvm-semicolon.csv");
    let notype = ok("hyperv-getvm-notype.csv");
    assert_eq!(vm(&notype.inventory, "SQL01").state, VmState::Running);
    snap!("hyperv_csv_notype", "hyperv-getvm-notype.csv");
}

#[test]
fn hyperv_json_numbers_and_renumbered_states() {
    let p = ok("hyperv-getvm.json");
    let inv = &p.inventory;
    assert_eq!(vm(inv, "SQL01").state, VmState::Running);
    assert_eq!(vm(inv, "WEB02").state, VmState::Saved);
    assert_eq!(vm(inv, "APP01").memory_mb, Some(8192));
    let crit = vm(inv, "CRIT01");
    assert_eq!(crit.state, VmState::Unknown);
    assert_eq!(crit.evidence["raw_state"], "State=32785");
    assert_eq!(p.warnings[0].code, Code::InventoryUnknownState);
    snap!("hyperv_json", "hyperv-getvm.json");
}

#[test]
fn hyperv_csv_errors_are_located() {
    let text =
        "\"Name\",\"State\",\"ComputerName\"\r\n\"A\",\"Off\",\"N1\"\r\n\"B\",\"Off\",\"\"\r\n";
    let err = inventory::parse("x.csv", text.as_bytes(), None).unwrap_err();
    assert_eq!(err.0[0].line_col(), Some((3, 1)));
    assert!(
        err.0[0].message.contains("ComputerName"),
        "{}",
        err.0[0].message
    );
    let text = "\"Name\",\"State\",\"ComputerName\",\"MemoryAssigned\"\r\n\"A\",\"Off\",\"N1\",\"lots\"\r\n";
    let err = inventory::parse("x.csv", text.as_bytes(), None).unwrap_err();
    assert_eq!(err.0[0].line_col(), Some((2, 16)));
}

#[test]
fn proxmox_planted_findings() {
    let p = ok("proxmox-resources.json");
    assert_eq!(p.format, Format::Proxmox);
    let inv = &p.inventory;
    assert_eq!(inv.vms.len(), 8, "the template is a VM too");
    let tmpl = vm(inv, "tmpl-debian12");
    assert!(tmpl.template);
    assert_eq!((tmpl.state, tmpl.ha), (VmState::Off, Some(false)));
    assert_eq!(inv.vms.iter().filter(|v| v.template).count(), 1);
    let sql = vm(inv, "sql01");
    assert_eq!((sql.state, sql.ha), (VmState::Running, Some(false)));
    assert_eq!(sql.tags, ["db", "local-only"]);
    assert_eq!(sql.id.as_deref(), Some("101"));
    assert_eq!(sql.memory_mb, Some(16384));
    let app = vm(inv, "app01");
    assert_eq!((app.state, app.ha), (VmState::Off, Some(true)));
    assert_eq!(app.evidence["hastate"], "stopped");
    assert_eq!(vm(inv, "web01").evidence["lock"], "backup");
    assert_eq!(vm(inv, "ct-dns").evidence["type"], "lxc");
    assert!(inv.hosts.is_empty());
    snap!("proxmox_resources", "proxmox-resources.json");
}

#[test]
fn proxmox_nodes_and_odd_guests() {
    let p = ok("proxmox-cluster-full.json");
    let inv = &p.inventory;
    assert_eq!(inv.hosts.len(), 3, "storage and sdn entries are ignored");
    assert_eq!(inv.host("pve1").unwrap().memory_mb, Some(257543));
    assert_eq!(inv.host("pve2").unwrap().state, HostState::Maintenance);
    assert_eq!(inv.host("pve3").unwrap().state, HostState::Down);
    assert!(inv.hosts.iter().all(|h| h.cluster.is_none()));
    assert_eq!(
        vm(inv, "111").state,
        VmState::Unknown,
        "no RRD data: no name, status unknown"
    );
    assert_eq!(vm(inv, "odd01").evidence["raw_state"], "status=hibernating");
    assert_eq!(
        vm(inv, "err01").ha,
        Some(false),
        "hastate error: HA will not move it"
    );
    assert!(vm(inv, "tmpl-base").template);
    assert_eq!(p.warnings.len(), 1);
    snap!("proxmox_cluster_full", "proxmox-cluster-full.json");
}

#[test]
fn forced_format_on_the_wrong_file_is_an_error_not_a_panic() {
    for format in Format::ALL {
        for name in [
            "hyperv-getvm.csv",
            "proxmox-resources.json",
            "scvmm-ps51.json",
        ] {
            let _ = inventory::parse(name, &fixture(name), Some(format));
        }
    }
    let err =
        inventory::parse("p.json", &fixture("scvmm-ps51.json"), Some(Format::Proxmox)).unwrap_err();
    assert!(err.0[0].message.contains("type"), "{}", err.0[0].message);
}

#[test]
fn every_fixture_is_detected() {
    let dir = format!("{}/tests/fixtures/inventory", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") || n.ends_with(".csv"))
        .collect();
    names.sort();
    for name in names {
        let expected = match name.split('-').next() {
            Some("scvmm") => Format::Scvmm,
            Some("hyperv") => Format::Hyperv,
            Some("proxmox") => Format::Proxmox,
            _ => panic!("fixture {name} names no platform"),
        };
        let text = inventory::decode(&name, &fixture(&name)).unwrap();
        let file = preflight::diag::SourceFile::new(&name, text);
        assert_eq!(inventory::detect(&file).ok(), Some(expected), "{name}");
    }
}

fn parse_text(name: &str, text: &str) -> Result<Parsed, Diagnostics> {
    inventory::parse(name, text.as_bytes(), None)
}

#[test]
fn proxmox_hastates_the_ha_manager_will_not_move_are_not_ha() {
    let text = r#"[
{"hastate":"started","id":"qemu/100","maxmem":1073741824,"name":"started","node":"pve1","status":"running","type":"qemu","vmid":100},
{"hastate":"error","id":"qemu/101","maxmem":1073741824,"name":"error","node":"pve1","status":"running","type":"qemu","vmid":101},
{"hastate":"disabled","id":"qemu/102","maxmem":1073741824,"name":"disabled","node":"pve1","status":"running","type":"qemu","vmid":102},
{"hastate":"ignored","id":"lxc/103","maxmem":1073741824,"name":"ignored","node":"pve1","status":"running","type":"lxc","vmid":103},
{"hastate":"migrate","id":"qemu/104","maxmem":1073741824,"name":"migrate","node":"pve1","status":"running","type":"qemu","vmid":104},
{"id":"qemu/105","maxmem":1073741824,"name":"nohastate","node":"pve1","status":"running","type":"qemu","vmid":105}
]"#;
    let inv = parse_text("ha.json", text).unwrap().inventory;
    for (name, ha) in [
        ("started", true),
        ("migrate", true),
        ("error", false),
        ("disabled", false),
        ("ignored", false),
        ("nohastate", false),
    ] {
        assert_eq!(vm(&inv, name).ha, Some(ha), "{name}");
    }
    // The hastate stays as evidence of why the guest is not HA-protected.
    assert_eq!(vm(&inv, "error").evidence["hastate"], "error");
    assert_eq!(vm(&inv, "ignored").evidence["hastate"], "ignored");
}

#[test]
fn proxmox_template_is_a_stopped_vm() {
    let text = r#"{"data":[{"id":"qemu/900","maxmem":2147483648,"name":"tmpl","node":"pve1","status":"running","template":1,"type":"qemu","vmid":900},
{"id":"lxc/901","maxmem":536870912,"name":"ct-tmpl","node":"pve1","status":"stopped","template":true,"type":"lxc","vmid":901},
{"id":"qemu/902","maxmem":536870912,"name":"plain","node":"pve1","status":"running","template":0,"type":"qemu","vmid":902}]}"#;
    let inv = parse_text("t.json", text).unwrap().inventory;
    assert_eq!(inv.vms.len(), 3);
    for name in ["tmpl", "ct-tmpl"] {
        let v = vm(&inv, name);
        assert!(v.template, "{name}");
        assert_eq!(v.state, VmState::Off, "{name}");
        assert_eq!(v.host, "pve1");
    }
    assert_eq!(vm(&inv, "tmpl").memory_mb, Some(2048));
    assert!(!vm(&inv, "plain").template);
    assert_eq!(vm(&inv, "plain").state, VmState::Running);
}

/// The error a Proxmox file from the wrong endpoint gives: one, located, naming the endpoint.
fn wrong_endpoint(name: &str, text: &str, forced: Option<Format>) -> String {
    let err = inventory::parse(name, text.as_bytes(), forced).unwrap_err();
    assert_eq!(err.0.len(), 1, "{}", render_err(&err));
    assert_eq!(err.0[0].code, Code::InventoryFormat, "{}", render_err(&err));
    assert!(err.0[0].line_col().is_some(), "{}", render_err(&err));
    assert!(
        err.0[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("/cluster/resources")),
        "{}",
        render_err(&err)
    );
    err.0[0].message.clone()
}

#[test]
fn proxmox_files_from_other_endpoints_are_input_errors() {
    let ha_status = r#"{"data":[
{"id":"quorum","quorate":1,"status":"OK","type":"quorum"},
{"id":"master","node":"pve1","status":"pve1 (active)","type":"master"},
{"id":"lrm:pve1","node":"pve1","status":"pve1 (active)","type":"lrm"},
{"id":"service:vm:100","node":"pve1","sid":"vm:100","state":"started","type":"service"}]}"#;
    let msg = wrong_endpoint("status.json", ha_status, None);
    assert!(msg.contains("/cluster/ha/status/current"), "{msg}");
    // The same list with only the service entries left.
    let services = r#"[{"id":"service:vm:100","node":"pve1","sid":"vm:100","state":"started","type":"service"}]"#;
    let msg = wrong_endpoint("services.json", services, None);
    assert!(msg.contains("/cluster/ha/status/current"), "{msg}");
    let ha_resources =
        r#"{"data":[{"sid":"vm:100","type":"vm","state":"started","max_restart":1}]}"#;
    let msg = wrong_endpoint("res.json", ha_resources, None);
    assert!(msg.contains("/cluster/ha/resources"), "{msg}");
    let node_guests = r#"[{"maxmem":536870912,"name":"ct1","status":"running","type":"lxc","vmid":"200"},
{"maxmem":536870912,"name":"ct2","status":"stopped","type":"lxc","vmid":"201"}]"#;
    let msg = wrong_endpoint("lxc.json", node_guests, None);
    assert!(msg.contains("/nodes/{node}/qemu"), "{msg}");
    let pool = r#"{"members":[{"id":"qemu/100","maxmem":1073741824,"name":"a","node":"pve1","status":"running","type":"qemu","vmid":100}]}"#;
    let msg = wrong_endpoint("pool.json", pool, None);
    assert!(msg.contains("/pools/"), "{msg}");
    let cluster_status = r#"[{"id":"cluster","name":"c1","nodes":2,"quorate":1,"type":"cluster","version":2},
{"id":"node/pve1","name":"pve1","nodeid":1,"online":1,"type":"node"}]"#;
    let msg = wrong_endpoint("cs.json", cluster_status, Some(Format::Proxmox));
    assert!(msg.contains("/cluster/status"), "{msg}");
}

#[test]
fn proxmox_hosts_only_list_reads_as_hosts_without_vms() {
    // `pvesh get /nodes`: node entries only. Reading it is no error; that no VM was read is
    // judged on the merged inventory.
    let text = r#"[{"id":"node/pve1","maxcpu":16,"maxmem":68719476736,"node":"pve1","status":"online","type":"node"},
{"id":"node/pve2","maxcpu":16,"maxmem":68719476736,"node":"pve2","status":"online","type":"node"}]"#;
    let inv = parse_text("nodes.json", text).unwrap().inventory;
    assert!(inv.vms.is_empty());
    assert_eq!(inv.hosts.len(), 2);
}

#[test]
fn proxmox_single_object_error_names_the_object() {
    let err = parse_text("one.json", r#"{"id":"qemu/100","vmid":100,"node":"pve1"}"#).unwrap_err();
    assert_eq!(err.0.len(), 1, "{}", render_err(&err));
    let msg = &err.0[0].message;
    assert!(
        msg.starts_with("one.json: the object: missing `type`"),
        "{msg}"
    );
    assert!(!msg.contains(": :"), "{msg}");
    // A field of a bare object is named by its key alone.
    let err = parse_text(
        "one.json",
        r#"{"id":"qemu/100","vmid":-1,"node":"pve1","type":"qemu","status":"running"}"#,
    )
    .unwrap_err();
    assert!(
        err.0[0].message.starts_with("one.json: vmid: "),
        "{}",
        err.0[0].message
    );
}

#[test]
fn proxmox_vmid_from_id_when_a_client_dropped_it() {
    let text = r#"[{"id":"qemu/100","maxmem":1073741824,"name":"a","node":"pve1","status":"running","type":"qemu"},
{"id":"lxc/102","maxmem":1073741824,"name":"b","node":"pve1","status":"stopped","type":"lxc"}]"#;
    let inv = parse_text("x.json", text).unwrap().inventory;
    assert_eq!(vm(&inv, "a").id.as_deref(), Some("100"));
    assert_eq!(vm(&inv, "b").id.as_deref(), Some("102"));
    let err = parse_text(
        "x.json",
        r#"[{"id":"storage/pve1/x","name":"a","node":"pve1","status":"running","type":"qemu"}]"#,
    )
    .unwrap_err();
    assert!(err.0[0].message.contains("vmid"), "{}", err.0[0].message);
}

#[test]
fn scvmm_host_overall_state_numbers_from_ps51() {
    let p = ok("scvmm-hosts-ps51.json");
    let state = |name: &str| p.inventory.host(name).unwrap().state;
    assert_eq!(state("HV11.fabrikam.test"), HostState::Up, "0 is OK");
    assert_eq!(
        state("HV12.fabrikam.test"),
        HostState::Maintenance,
        "9 is MaintenanceMode, and such a host offers no room"
    );
    assert_eq!(state("HV13.fabrikam.test"), HostState::Down);
    // Not known: never up, and said.
    assert_eq!(state("HV14.fabrikam.test"), HostState::Down);
    assert_eq!(state("HV15.fabrikam.test"), HostState::Down);
    let warned: Vec<_> = p
        .warnings
        .iter()
        .map(|w| (w.code, w.line_col().map(|(l, _)| l)))
        .collect();
    assert_eq!(
        warned,
        [
            (Code::InventoryUnknownState, Some(29)),
            (Code::InventoryUnknownState, Some(37))
        ],
        "HV13 is explained by CommunicationStateString; HV14 and HV15 are not"
    );
    snap!("scvmm_hosts_ps51", "scvmm-hosts-ps51.json");
}

#[test]
fn scvmm_host_listed_twice_with_other_facts_is_located_at_the_second() {
    let err = read("scvmm-hosts-duplicate.json").unwrap_err();
    assert_eq!(err.0.len(), 1, "{}", render_err(&err));
    let d = &err.0[0];
    assert_eq!(d.code, Code::InventoryHostConflict);
    assert_eq!(d.line_col(), Some((23, 5)), "the second listing of HV21");
    assert!(d.message.contains("[3]"), "{}", d.message);
    assert!(
        d.message.contains("memory 262144 MiB, then 256 MiB"),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("state up, then maintenance"),
        "{}",
        d.message
    );
}

#[test]
fn scvmm_combined_node_contradicting_its_host_entry_is_an_error() {
    let text = r#"{"vms": [{"Name": "A", "HostName": "hv31", "VirtualMachineStateString": "Running"}],
"hosts": [{"Name": "hv31", "OverallState": 0, "CommunicationStateString": "Responding", "TotalMemory": 68719476736}],
"clusters": [{"ClusterName": "CL", "Nodes": [{"Name": "HV31", "OverallState": 9, "TotalMemory": 68719476736}]}]}"#;
    let err = parse_text("inv.json", text).unwrap_err();
    assert_eq!(
        err.0[0].code,
        Code::InventoryHostConflict,
        "{}",
        render_err(&err)
    );
    assert!(
        err.0[0].message.contains("clusters[0].Nodes[0]"),
        "{}",
        err.0[0].message
    );
    // Agreeing listings are one host, with the cluster from the cluster list.
    let text = text.replace("\"OverallState\": 9", "\"OverallState\": 0");
    let inv = parse_text("inv.json", &text).unwrap().inventory;
    assert_eq!(inv.hosts.len(), 1);
    assert_eq!(inv.hosts[0].cluster.as_deref(), Some("CL"));
    assert_eq!(inv.hosts[0].memory_mb, Some(65536));
}

#[test]
fn native_hosts_differing_in_case_and_memory_do_not_collapse() {
    // One file lists `hv01` and `HV01`: one host on Windows, with two memory sizes. The first
    // used to win silently, so the verdict depended on the order of the list.
    let text = r#"{"hosts": [{"name": "hv01", "memory_mb": 65536}, {"name": "HV01", "memory_mb": 64}],
"vms": [{"name": "A", "host": "hv01", "state": "running", "ha": true, "memory_mb": 65536}]}"#;
    let p = parse_text("inv.json", text).unwrap();
    let err = inventory::merge(vec![("inv.json".to_string(), p.inventory)]).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].code, Code::InventoryHostConflict);
    assert!(
        err.0[0].message.contains("memory 65536 MiB, then 64 MiB"),
        "{}",
        err.0[0].message
    );
    // Across files, in either order.
    let a = r#"{"hosts": [{"name": "HV01", "memory_mb": 65536}], "vms": []}"#;
    let b =
        r#"{"hosts": [{"name": "hv01", "memory_mb": 65536, "state": "maintenance"}], "vms": []}"#;
    for (x, y) in [(a, b), (b, a)] {
        let err = inventory::merge(vec![
            (
                "x.json".to_string(),
                parse_text("x.json", x).unwrap().inventory,
            ),
            (
                "y.json".to_string(),
                parse_text("y.json", y).unwrap().inventory,
            ),
        ])
        .unwrap_err();
        assert_eq!(err.0[0].code, Code::InventoryHostConflict);
        assert!(
            err.0[0]
                .message
                .contains("differs between x.json and y.json"),
            "{}",
            err.0[0].message
        );
    }
}

#[test]
fn proxmox_node_states_not_known_offer_no_room() {
    let text = r#"[
{"hastate":"online","id":"node/a","maxmem":68719476736,"node":"a","status":"online","type":"node"},
{"id":"node/b","maxmem":68719476736,"node":"b","status":"online","type":"node"},
{"hastate":"unknown","id":"node/c","maxmem":68719476736,"node":"c","status":"online","type":"node"},
{"hastate":"fence","id":"node/d","maxmem":68719476736,"node":"d","status":"online","type":"node"},
{"id":"node/e","maxmem":68719476736,"node":"e","status":"degraded","type":"node"},
{"id":"node/f","maxmem":68719476736,"node":"f","type":"node"},
{"hastate":"maintenance","id":"node/g","maxmem":68719476736,"node":"g","status":"online","type":"node"}
]"#;
    let p = parse_text("nodes.json", text).unwrap();
    let states: Vec<(&str, HostState)> = p
        .inventory
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.state))
        .collect();
    assert_eq!(
        states,
        [
            ("a", HostState::Up),
            ("b", HostState::Up),
            ("c", HostState::Down),
            ("d", HostState::Down),
            ("e", HostState::Down),
            ("f", HostState::Down),
            ("g", HostState::Maintenance),
        ]
    );
    let warned: Vec<_> = p.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(warned[0].contains("[4].status: degraded"), "{warned:?}");
    assert!(warned[1].contains("[5].status: missing"), "{warned:?}");
}

#[test]
fn a_vm_listed_twice_in_one_export_is_located_at_the_second() {
    // The same VM on two hosts: which one counts would depend on the order of the list.
    let scvmm = "[{\"Name\":\"A\",\"ID\":\"1\",\"HostName\":\"H1\",\"Status\":0,\"Memory\":1024},\n{\"Name\":\"B\",\"ID\":\"2\",\"HostName\":\"H1\",\"Status\":1,\"Memory\":1024},\n{\"Name\":\"A\",\"ID\":\"1\",\"HostName\":\"H2\",\"Status\":0,\"Memory\":1024}]";
    let csv = "\"Name\",\"Id\",\"State\",\"ComputerName\"\r\n\"A\",\"1\",\"Running\",\"N1\"\r\n\"A\",\"1\",\"Running\",\"N2\"\r\n";
    let proxmox = "[{\"id\":\"qemu/100\",\"name\":\"a\",\"node\":\"p1\",\"status\":\"running\",\"type\":\"qemu\",\"vmid\":100},\n{\"id\":\"qemu/101\",\"name\":\"b\",\"node\":\"p1\",\"status\":\"running\",\"type\":\"qemu\",\"vmid\":101},\n{\"id\":\"qemu/100\",\"name\":\"a\",\"node\":\"p2\",\"status\":\"running\",\"type\":\"qemu\",\"vmid\":100}]";
    for (name, text, line) in [
        ("x.json", scvmm, 3),
        ("x.csv", csv, 3),
        ("p.json", proxmox, 3),
    ] {
        let err = parse_text(name, text).unwrap_err();
        assert_eq!(err.0.len(), 1, "{name}: {}", render_err(&err));
        assert_eq!(err.0[0].code, Code::InventoryDuplicate, "{name}");
        assert_eq!(err.0[0].line_col().map(|(l, _)| l), Some(line), "{name}");
    }
}

#[test]
fn thousands_of_repeated_vm_names_are_all_located() {
    // 10,000 names each used twice: finding each pair by reading the text from the start took
    // minutes; one pass takes a moment.
    let n = 10_000;
    let vms: Vec<String> = (0..2 * n)
        .map(|i| {
            format!(
                "{{\"name\": \"vm{}\", \"host\": \"H\", \"state\": \"off\"}}",
                i % n
            )
        })
        .collect();
    let text = format!("{{\"vms\": [\n{}\n]}}", vms.join(",\n"));
    let err = parse_text("dup.json", &text).unwrap_err();
    assert_eq!(err.0.len(), n);
    for (i, d) in err.0.iter().enumerate().step_by(1999) {
        assert_eq!(d.code, Code::InventoryDuplicate);
        // The second use of vm{i} is on line n + i + 2, the first on line i + 2.
        assert_eq!(
            d.line_col().map(|(l, _)| l),
            Some(n + i + 2),
            "{}",
            d.message
        );
    }
}

#[test]
fn scvmm_cluster_node_status_names() {
    // Numbers are VMM's own enum, undocumented: healthy nodes of a real cluster say 3. They
    // leave the state to OverallState; the names are read.
    let hosts: Vec<String> = ["3", "\"Paused\"", "\"Up\"", "\"Down\"", "\"Joining\"", "\"Draining\""]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "{{\"Name\": \"HV{i}\", \"OverallState\": 0, \"TotalMemory\": 68719476736, \"ClusterNodeStatus\": {s}}}"
            )
        })
        .collect();
    let text = format!("[{}]", hosts.join(",\n"));
    let p = parse_text("hosts.json", &text).unwrap();
    let states: Vec<HostState> = p.inventory.hosts.iter().map(|h| h.state).collect();
    assert_eq!(
        states,
        [
            HostState::Up,
            HostState::Paused,
            HostState::Up,
            HostState::Down,
            HostState::Down,
            HostState::Down
        ]
    );
    assert_eq!(
        p.warnings.len(),
        1,
        "only the name not known is warned about"
    );
    assert!(p.warnings[0].message.contains("[5].ClusterNodeStatus"));
}

#[test]
fn scvmm_host_cluster_contradicting_the_cluster_list_is_an_error() {
    let text = r#"{"hosts": [{"Name": "hv41", "HostCluster": "CL-A", "OverallState": 0}],
"clusters": [{"ClusterName": "CL-B", "Nodes": [{"Name": "HV41", "OverallState": 0}]}],
"vms": [{"Name": "A", "HostName": "hv41", "VirtualMachineStateString": "Running"}]}"#;
    let err = parse_text("inv.json", text).unwrap_err();
    assert_eq!(
        err.0[0].code,
        Code::InventoryHostConflict,
        "{}",
        render_err(&err)
    );
    assert!(err.0[0].message.contains("CL-A"), "{}", err.0[0].message);
    assert!(err.0[0].message.contains("CL-B"), "{}", err.0[0].message);
    assert_eq!(
        err.0[0].line_col(),
        Some((1, 44)),
        "at the host's HostCluster"
    );
}
