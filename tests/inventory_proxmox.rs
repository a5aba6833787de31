//! Proxmox VE: the collector's combined document (`/cluster/resources` with the guests'
//! configs, storages, HA rules and groups, and the nodes' bridges and CPUs) gives the
//! migration facts (CONTRACT 7.1, 7.5).

use preflight::inventory::{self, Format, Parsed};
use preflight::model::{Inventory, Vm, VmFacts};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn combined() -> Parsed {
    let path = root().join("tests/fixtures/inventory/proxmox-combined.json");
    let bytes = std::fs::read(&path).unwrap();
    inventory::parse("proxmox-combined.json", &bytes, None)
        .unwrap_or_else(|d| panic!("{:?}", d.0.iter().map(|d| &d.message).collect::<Vec<_>>()))
}

fn vm<'a>(inv: &'a Inventory, name: &str) -> &'a Vm {
    inv.vms.iter().find(|v| v.name == name).unwrap()
}

fn facts<'a>(inv: &'a Inventory, name: &str) -> &'a VmFacts {
    vm(inv, name)
        .facts
        .as_deref()
        .unwrap_or_else(|| panic!("{name} carries no fact"))
}

fn warned(p: &Parsed, parts: &[&str]) -> bool {
    p.warnings
        .iter()
        .any(|w| parts.iter().all(|s| w.message.contains(s)))
}

#[test]
fn configs_give_disks_media_devices_bridges_and_cpu() {
    let p = combined();
    assert_eq!(p.format, Format::Proxmox);
    let inv = &p.inventory;
    assert_eq!(inv.vms.len(), 5);
    assert_eq!(
        inv.collected_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-25T16:00:00Z")
    );
    let db = facts(inv, "db01");
    let disks = db.disks.as_ref().unwrap();
    assert_eq!(disks[0].path, "ceph:vm-100-disk-0");
    assert_eq!(disks[0].shared, Some(true), "ceph is flagged shared");
    assert_eq!(disks[0].size_mb, Some(32 * 1024));
    let media = db.media.as_ref().unwrap();
    assert_eq!(media[0].path, "local:iso/debian-12.iso");
    assert_eq!(media[0].shared, Some(false), "local is a dir storage");
    assert_eq!(db.local_storage(), Some(true));
    assert_eq!(db.networks.as_deref(), Some(&["vmbr0".into()][..]));
    assert_eq!(db.cpu_compat, Some(false), "cpu: host");
    assert_eq!(db.passthrough, Some(vec![]));
    assert_eq!(db.attributes["os"], "l26");

    let gpu = facts(inv, "gpu01");
    assert_eq!(gpu.media, Some(vec![]), "an empty drive holds nothing");
    assert_eq!(gpu.disks.as_ref().unwrap()[0].shared, Some(false));
    assert_eq!(gpu.disks.as_ref().unwrap()[0].size_mb, Some(64 * 1024));
    // A PCI device and a host USB device; SPICE USB and a serial socket are not bound.
    assert_eq!(
        gpu.passthrough.as_deref(),
        Some(
            &[
                "hostpci0:0000:65:00.0,pcie=1".into(),
                "usb1:host=046d:c52b".into()
            ][..]
        )
    );
    assert_eq!(gpu.cpu_compat, Some(true));
    assert_eq!(gpu.networks.as_deref(), Some(&["vmbr1".into()][..]));

    let web = facts(inv, "web01");
    assert_eq!(
        web.disks.as_ref().unwrap()[0].path,
        "local-lvm:subvol-103-disk-0"
    );
    assert_eq!(web.networks.as_deref(), Some(&["vmbr0".into()][..]));

    // A guest without a config carries no fact of it: unknown, never none.
    let noconf = vm(inv, "noconf")
        .facts
        .as_deref()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (noconf.disks, noconf.networks, noconf.cpu_compat),
        (None, None, None)
    );

    // Nodes: their bridges and CPU models; a node the document does not describe is unknown.
    let host = |n: &str| inv.hosts.iter().find(|h| h.name == n).unwrap();
    assert_eq!(
        host("pve1").facts.networks.as_deref(),
        Some(&["vmbr0".into()][..])
    );
    assert_eq!(
        host("pve2").facts.networks.as_deref(),
        Some(&["vmbr0".into(), "vmbr1".into()][..])
    );
    assert_eq!(
        host("pve1").facts.cpu.as_deref(),
        Some("AMD EPYC 7313 16-Core Processor")
    );
    assert_eq!(host("pve3").facts.networks, None);
    assert_eq!(host("pve3").facts.cpu, None);
}

#[test]
fn config_values_that_do_not_parse_are_located_warnings_and_unknown() {
    let p = combined();
    let odd = facts(&p.inventory, "odd01");
    assert_eq!(odd.disks, None, "scsi0 does not parse");
    assert_eq!(odd.networks, None, "net0 does not parse");
    assert!(
        warned(&p, &["configs.102.scsi0", "garbage"]),
        "{:?}",
        p.warnings
    );
    assert!(
        warned(&p, &["configs.102.net0", "junk"]),
        "{:?}",
        p.warnings
    );
    assert!(
        warned(&p, &["configs.102.scsi1", "lots"]),
        "{:?}",
        p.warnings
    );
    // Each warning points at the value's line and column.
    for w in &p.warnings {
        assert!(w.line_col().is_some(), "{}", w.message);
    }
}

#[test]
fn ha_rules_and_restricted_groups_become_constraints() {
    let p = combined();
    let inv = &p.inventory;
    let db = facts(inv, "db01");
    assert_eq!(db.anti_affinity, vec!["db-apart"]);
    assert!(db.affinity.is_empty(), "a disabled rule counts for nothing");
    assert_eq!(
        db.allowed_hosts,
        vec!["pve1", "pve2"],
        "strict node-affinity"
    );
    let gpu = facts(inv, "gpu01");
    assert_eq!(gpu.anti_affinity, vec!["db-apart"]);
    // A non-strict rule does not restrict; the restricted PVE 8 group does.
    assert_eq!(gpu.allowed_hosts, vec!["pve1", "pve3"]);
    // An unrestricted group restricts nothing.
    assert!(facts(inv, "web01").allowed_hosts.is_empty());
    // A rule naming a guest the cluster lacks, and a group that is not listed: warned.
    assert!(
        warned(&p, &["ha_rules[1].resources", "vm:999"]),
        "{:?}",
        p.warnings
    );
    assert!(
        warned(&p, &["ha_resources[2].group", "missing-group"]),
        "{:?}",
        p.warnings
    );
}

#[test]
fn plain_resources_carry_no_facts() {
    let path = root().join("tests/fixtures/inventory/proxmox-cluster-full.json");
    let p = inventory::parse("r.json", &std::fs::read(path).unwrap(), None).unwrap();
    assert!(p.inventory.facts_carried().is_empty());
    assert!(p.inventory.vms.iter().all(|v| v.facts.is_none()));
}

#[test]
fn damaged_members_never_panic() {
    let base =
        std::fs::read_to_string(root().join("tests/fixtures/inventory/proxmox-combined.json"))
            .unwrap();
    for (from, to) in [
        ("\"configs\": {", "\"configs\": [1, {"),
        ("\"ha_rules\": [", "\"ha_rules\": {\"x\": ["),
        ("\"scsi0\":\"garbage\"", "\"scsi0\":{\"a\":1}"),
        ("\"nodes\":\"pve1:2,pve2\"", "\"nodes\":5"),
        ("\"node_status\": {", "\"node_status\": {\"pve9\": 3, "),
        ("\"size=32G\"", "\"size=\""),
        ("size=32G", "size=99999999999999999999T"),
    ] {
        let text = base.replacen(from, to, 1);
        let _ = inventory::parse("x.json", text.as_bytes(), None);
    }
}

/// A resource-affinity rule without its id would pool its guests with every other nameless
/// rule's: it is not applied, with a warning at it. A strict rule or restricted group naming
/// a node the cluster does not have is warned about at its `nodes`.
#[test]
fn nameless_rules_and_unknown_nodes_are_located_warnings() {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/inventory/proxmox-combined.json"))
            .unwrap();
    let text = text
        .replace(r#""rule":"db-apart""#, r#""rule":"""#)
        .replace(r#""nodes":"pve1:2,pve2""#, r#""nodes":"pve1:2,pve22""#)
        .replace(r#""nodes":"pve1,pve3:2""#, r#""nodes":"pve1,pve9:2""#);
    let p = inventory::parse("combined.json", text.as_bytes(), None).unwrap();
    assert!(
        warned(&p, &["ha_rules[0].rule", "without its `rule` id"]),
        "{:?}",
        p.warnings
    );
    assert!(facts(&p.inventory, "db01").anti_affinity.is_empty());
    assert!(
        warned(&p, &["ha_rules[1].nodes", "`pve22` is no node"]),
        "{:?}",
        p.warnings
    );
    assert!(
        warned(&p, &["ha_groups[0].nodes", "`pve9` is no node"]),
        "{:?}",
        p.warnings
    );
    for w in &p.warnings {
        assert!(w.line_col().is_some(), "{}", w.message);
    }
    // The fixture as it is names only nodes the cluster has.
    assert!(!warned(&combined(), &["is no node"]));
}
