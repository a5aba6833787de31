//! vSphere RVTools exports: the workbook and its per-tab CSVs, with the real exports' quirks
//! (3.x and 4.x spellings, reordered and prefixed columns, custom attributes, sheets whose
//! dimension claims a million rows, VMs without a host) rebuilt by the generator in
//! `examples/gen_rvtools.rs`, and what the CLI answers on them.

mod common;
#[allow(dead_code)]
#[path = "../examples/gen_rvtools.rs"]
mod gen_rvtools;

use common::{findings, json, run};
use gen_rvtools::{Sheet, Val, cluster, csv, example, host, vm, workbook};
use preflight::diag::{Code, Diagnostics};
use preflight::inventory::{self, Format, Parsed};
use preflight::model::{HostState, Inventory, Platform, Vm, VmFacts, VmState};

fn parse(name: &str, bytes: &[u8]) -> Result<Parsed, Diagnostics> {
    inventory::parse(name, bytes, None)
}

fn ok(name: &str, bytes: &[u8]) -> Parsed {
    parse(name, bytes).unwrap_or_else(|d| {
        panic!(
            "{name}: {:?}",
            d.0.iter().map(|d| &d.message).collect::<Vec<_>>()
        )
    })
}

fn err(name: &str, bytes: &[u8]) -> Diagnostics {
    match parse(name, bytes) {
        Ok(p) => panic!("{name} was read: {} VMs", p.inventory.vms.len()),
        Err(d) => d,
    }
}

fn facts(vm: &Vm) -> &VmFacts {
    vm.facts
        .as_deref()
        .unwrap_or_else(|| panic!("{} carries no fact", vm.name))
}

fn vm_of<'a>(inv: &'a Inventory, name: &str) -> &'a Vm {
    inv.vms
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no VM {name}"))
}

fn book(sheets: &[Sheet]) -> Vec<u8> {
    workbook(sheets).expect("the generator writes the workbook")
}

fn messages(d: &Diagnostics) -> String {
    d.0.iter()
        .map(|d| d.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_committed_example_is_what_the_generator_writes() {
    for (path, bytes) in gen_rvtools::example_files().unwrap() {
        let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
        let committed = std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
        assert!(
            committed == bytes,
            "{path} differs from the generator's output: run `cargo run --example gen_rvtools`"
        );
    }
}

#[test]
fn the_example_maps_drs_onto_ha_and_keeps_the_evidence() {
    let p = ok("x.xlsx", &book(&example()));
    assert_eq!(p.format, Format::Rvtools);
    let inv = &p.inventory;
    assert_eq!(inv.platform, Some(Platform::Vsphere));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(inv.gaps.is_empty(), "{:?}", inv.gaps);
    // DRS fully automated: the drain moves it.
    let sql = vm_of(inv, "sql-a");
    assert_eq!(
        (sql.state, sql.ha, sql.memory_mb, sql.vcpus),
        (VmState::Running, Some(true), Some(98304), Some(8))
    );
    assert_eq!(
        sql.id.as_deref(),
        Some("5001c0de-0000-4000-8000-000000000101")
    );
    assert_eq!(sql.evidence["das_protection"], "True");
    assert_eq!(sql.evidence["cluster_rules"], "Anti Affinity");
    assert_eq!(sql.evidence["cluster_rule_names"], "Separate SQL nodes");
    assert_eq!(sql.evidence["ha_restart_priority"], "medium");
    assert_eq!(
        sql.evidence["drs"],
        "DRS enabled, fullyAutomated; vSphere HA enabled"
    );
    // DRS manual: vSphere HA (DAS protection True) alone moves nothing.
    let old = vm_of(inv, "app-old");
    assert_eq!(
        (old.ha, old.evidence["das_protection"].as_str()),
        (Some(false), "True")
    );
    let tpl = vm_of(inv, "tpl-win2022");
    assert!(tpl.template);
    assert_eq!(tpl.state, VmState::Off);
    assert!(!vm_of(inv, "sql-cold").template);
    let esx03 = inv.hosts.iter().find(|h| h.name == "esx03").unwrap();
    assert_eq!(esx03.state, HostState::Maintenance);
    let esx01 = inv.hosts.iter().find(|h| h.name == "esx01").unwrap();
    assert_eq!(
        (
            esx01.state,
            esx01.memory_mb,
            esx01.cpus,
            esx01.cluster.as_deref()
        ),
        (HostState::Up, Some(262_144), Some(64), Some("Prod"))
    );
    assert!(!esx01.implied);
}

#[test]
fn the_csv_tabs_read_together_equal_the_workbook() {
    let sheets = example();
    let xlsx = ok("x.xlsx", &book(&sheets)).inventory;
    let files: Vec<preflight::diag::SourceFile> = sheets
        .iter()
        .map(|s| {
            preflight::diag::SourceFile::new(format!("RVTools_tab{}.csv", s.name), csv(s, ','))
        })
        .collect();
    let tabs = inventory::rvtools::parse_tabs(&files).unwrap().inventory;
    assert_eq!(tabs, xlsx);
    // vInfo alone: HA unknown, with a gap naming the tab that would close it.
    let alone = inventory::rvtools::parse_csv(&files[0]).unwrap().inventory;
    assert!(alone.vms.iter().all(|v| v.ha.is_none()));
    assert!(
        alone
            .gaps
            .iter()
            .any(|g| g.field == "ha" && g.hint.contains("vCluster"))
    );
}

const BASELINE_FINDINGS: [(&str, &str, &str); 5] = [
    // sql-a's DRS anti-affinity partner holds the only host with room: it is the VM that fits
    // nowhere (the `anti-affinity` rule names the group).
    ("capacity", "sql-a", "esx01"),
    ("non-ha-running", "app-old", "esx11"),
    ("stranded-ha-vm", "sql-cold", "esx01"),
    // A template is lost with its host whatever DRS does: `stranded-vm`, not the HA rule.
    ("stranded-vm", "tpl-win2022", "esx01"),
    ("stranded-vm", "batch-01", "esx11"),
];

fn assert_baseline_fires(args: &[&str]) -> serde_json::Value {
    let (code, out, errs) = run(args);
    assert_eq!(code, 1, "{errs}");
    let report = json(&out);
    let got = findings(&report);
    for (rule, vm, host) in BASELINE_FINDINGS {
        assert!(
            got.iter()
                .any(|f| f.0 == rule && f.1.as_deref() == Some(vm) && f.2.as_deref() == Some(host)),
            "{rule} {vm}@{host} missing from {got:?}"
        );
    }
    assert!(
        !got.iter().any(|f| f.1.as_deref() == Some("app-new")),
        "esx12 is not drained: {got:?}"
    );
    report
}

#[test]
fn cli_audits_the_example_workbook_with_every_baseline_rule() {
    assert_baseline_fires(&[
        "audit",
        "--inventory",
        "examples/vsphere-rvtools.xlsx",
        "--host",
        "esx01",
        "--host",
        "esx11",
        "--mode",
        "decommission",
        "--format",
        "json",
    ]);
}

#[test]
fn cli_joins_the_per_tab_csv_files() {
    let report = assert_baseline_fires(&[
        "audit",
        "--inventory",
        "examples/vsphere-rvtools/RVTools_tabvInfo.csv",
        "--inventory",
        "examples/vsphere-rvtools/RVTools_tabvHost.csv",
        "--inventory",
        "examples/vsphere-rvtools/RVTools_tabvCluster.csv",
        "--host",
        "esx01",
        "--host",
        "esx11",
        "--mode",
        "decommission",
        "--format",
        "json",
    ]);
    // Each file is recorded with its own digest.
    let inputs = report["inputs"]["inventory"].as_array().unwrap();
    assert_eq!(inputs.len(), 3);
    for (input, tab) in inputs.iter().zip(["vInfo", "vHost", "vCluster"]) {
        assert_eq!(input["format"], "rvtools");
        assert!(
            input["path"]
                .as_str()
                .unwrap()
                .ends_with(&format!("RVTools_tab{tab}.csv"))
        );
        assert_eq!(input["sha256"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn cli_go_when_drs_moves_every_vm_and_the_rest_absorb_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.xlsx");
    let info = Sheet::new("vInfo", gen_rvtools::VINFO)
        .row(vm(
            "a",
            "poweredOn",
            false,
            2,
            4096,
            "True",
            ("", ""),
            "Prod",
            "esx01",
            1,
        ))
        .row(vm(
            "b",
            "poweredOn",
            false,
            2,
            4096,
            "True",
            ("", ""),
            "Prod",
            "esx02",
            2,
        ));
    let hosts = Sheet::new("vHost", gen_rvtools::VHOST)
        .row(host("esx01", "Prod", false, 65536))
        .row(host("esx02", "Prod", false, 65536));
    let clusters = Sheet::new("vCluster", gen_rvtools::VCLUSTER).row(cluster(
        "Prod",
        true,
        true,
        "fullyAutomated".into(),
        2,
    ));
    std::fs::write(&path, book(&[info, hosts, clusters])).unwrap();
    let (code, out, errs) = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--host",
        "esx01",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out} {errs}");
    // RVTools' vInfo/vHost/vCluster carry no media or devices: the two rules that need them
    // report that gap of the export once each, as warnings that keep the GO.
    assert_eq!(
        findings(&json(&out)),
        [
            (
                "local-device".to_string(),
                None,
                Some("esx01".to_string()),
                false
            ),
            (
                "local-media".to_string(),
                None,
                Some("esx01".to_string()),
                false
            ),
            // VMs carry networks (vNetwork) but hosts do not: the network check's gap.
            (
                "network".to_string(),
                None,
                Some("esx01".to_string()),
                false
            ),
        ]
    );
}

#[test]
fn cli_no_go_for_a_running_vm_in_a_manual_drs_cluster() {
    let (code, out, errs) = run(&[
        "audit",
        "--inventory",
        "examples/vsphere-rvtools.xlsx",
        "--host",
        "esx12",
        "--format",
        "json",
    ]);
    // esx12's only VM is in the manual cluster: not GO.
    assert_eq!(code, 1, "{errs}");
    assert_eq!(
        findings(&json(&out)),
        [
            (
                "non-ha-running".to_string(),
                Some("app-new".to_string()),
                Some("esx12".to_string()),
                false
            ),
            // The workbook's vCD and vUSB tabs say it has no medium or device: no gap. Its
            // hosts carry no networks: the network check's gap.
            (
                "network".to_string(),
                None,
                Some("esx12".to_string()),
                false
            ),
        ]
    );
}

/// RVTools 3.x: `DRS default VM behavior` is the integer 2, units are MB, `DAS protection` is
/// `False` in an HA-disabled cluster, vHost has no `in Maintenance Mode`.
#[test]
fn rvtools_3x_spellings() {
    let info = Sheet::new(
        "vInfo",
        &[
            "VM",
            "Powerstate",
            "Template",
            "CPUs",
            "Memory",
            "DAS protection",
            "Provisioned MB",
            "Cluster",
            "Host",
        ],
    )
    .row(vec![
        "AVAYAADS01".into(),
        "poweredOn".into(),
        "False".into(),
        2u32.into(),
        4096u32.into(),
        "False".into(),
        40960u32.into(),
        "Avaya Cluster".into(),
        "esxhost03".into(),
    ])
    .row(vec![
        "ADDSDC01".into(),
        "poweredOn".into(),
        "False".into(),
        2u32.into(),
        8192u32.into(),
        "True".into(),
        40960u32.into(),
        "Production Cluster".into(),
        "esxhost01".into(),
    ]);
    let hosts = Sheet::new("vHost", &["Host", "Cluster", "# CPU", "# Memory"]).row(vec![
        "esxhost01".into(),
        "Production Cluster".into(),
        2u32.into(),
        196_514u32.into(),
    ]);
    let clusters = Sheet::new("vCluster", gen_rvtools::VCLUSTER)
        .row(cluster("Production Cluster", true, true, 2u32.into(), 6))
        .row(cluster("Avaya Cluster", false, true, Val::N(1.0), 2));
    let p = ok("bill.xlsx", &book(&[info, clusters, hosts]));
    let inv = &p.inventory;
    assert_eq!(
        vm_of(inv, "ADDSDC01").ha,
        Some(true),
        "2 is fully automated"
    );
    assert_eq!(
        vm_of(inv, "AVAYAADS01").ha,
        Some(false),
        "1 is partially automated"
    );
    assert_eq!(vm_of(inv, "AVAYAADS01").evidence["das_protection"], "False");
    assert_eq!(vm_of(inv, "ADDSDC01").memory_mb, Some(8192));
    let h = inv.hosts.iter().find(|h| h.name == "esxhost01").unwrap();
    assert_eq!(
        (h.state, h.cpus, h.memory_mb),
        (HostState::Up, Some(2), Some(196_514))
    );
    // The VM's host missing from vHost is implied, with its cluster from vInfo.
    let h3 = inv.hosts.iter().find(|h| h.name == "esxhost03").unwrap();
    assert!(h3.implied);
    assert_eq!(h3.cluster.as_deref(), Some("Avaya Cluster"));
}

/// Columns by name: reordered, prefixed with the tab (RVTools' "DB column names"), custom
/// attributes between them, empty header cells at the end.
#[test]
fn columns_are_found_by_name_whatever_their_order_or_prefix() {
    let mut info = Sheet::new(
        "vInfo",
        &[
            "vInfoHost",
            "Backup status",
            "vInfoVMName",
            "vInfoCluster",
            "vInfoMemory",
            "vInfoPowerstate",
            "",
            "",
        ],
    );
    info = info.row(vec![
        "esx01".into(),
        "OK".into(),
        "vm-a".into(),
        "Prod".into(),
        2048u32.into(),
        "poweredOff".into(),
    ]);
    let clusters = Sheet::new(
        "vCluster",
        &[
            "vClusterName",
            "vClusterDRSEnabled",
            "vClusterDRSDefaultVMBehavior",
            "Custom attr",
        ],
    )
    .row(vec![
        "Prod".into(),
        "True".into(),
        "fullyAutomated".into(),
        "x".into(),
    ]);
    let p = ok("db.xlsx", &book(&[info, clusters]));
    let v = vm_of(&p.inventory, "vm-a");
    assert_eq!(
        (v.host.as_str(), v.state, v.ha, v.memory_mb),
        ("esx01", VmState::Off, Some(true), Some(2048))
    );
    // No Template column: every VM is read as no template, and the gap says so.
    assert!(
        p.inventory
            .gaps
            .iter()
            .any(|g| g.field == "template" && g.hint.contains("vInfo"))
    );
}

/// migration-planner's example1: the dimension claims A1:CL1048576, and `vm-9` has an empty
/// Host (powered off here: a running one is an error, see below).
#[test]
fn a_sheet_claiming_a_million_rows_costs_only_its_rows() {
    let mut info = Sheet::new("vInfo", gen_rvtools::VINFO)
        .row(vm(
            "vm-3",
            "poweredOn",
            false,
            2,
            4096,
            "",
            ("", ""),
            "",
            "10.5.126.198",
            3,
        ))
        .row(vm(
            "vm-9",
            "poweredOff",
            false,
            2,
            4096,
            "",
            ("", ""),
            "",
            "",
            9,
        ));
    info.blank_at = Some((1_048_575, 89));
    let started = std::time::Instant::now();
    let p = ok("example1.xlsx", &book(&[info]));
    assert!(started.elapsed().as_secs() < 10);
    assert_eq!(p.inventory.vms.len(), 1);
    let w: Vec<_> = p.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        w.iter()
            .any(|m| m.contains("vInfo!A3") && m.contains("vm-9 has no Host")),
        "{w:?}"
    );
    // No vCluster tab: HA unknown, with a gap naming the tab.
    assert_eq!(vm_of(&p.inventory, "vm-3").ha, None);
    assert!(
        p.inventory
            .gaps
            .iter()
            .any(|g| g.field == "ha" && g.hint.contains("vCluster"))
    );
}

#[test]
fn an_unknown_power_state_is_unknown_with_a_located_warning() {
    let info = Sheet::new("vInfo", &["VM", "Powerstate", "Host"])
        .row(vec!["a".into(), "poweredOn".into(), "h".into()])
        .row(vec!["b".into(), "standby".into(), "h".into()]);
    let p = ok("x.xlsx", &book(&[info]));
    let b = vm_of(&p.inventory, "b");
    assert_eq!(b.state, VmState::Unknown);
    assert_eq!(b.evidence["raw_state"], "Powerstate=standby");
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings[0].message.contains("vInfo!B3"),
        "{}",
        p.warnings[0].message
    );
    assert_eq!(p.warnings[0].code, Code::InventoryUnknownState);
}

#[test]
fn a_bad_number_is_an_error_at_its_cell() {
    let info = Sheet::new("vInfo", &["VM", "Powerstate", "Host", "CPUs"]).row(vec![
        "a".into(),
        "poweredOn".into(),
        "h".into(),
        "lots".into(),
    ]);
    let d = err("x.xlsx", &book(&[info]));
    assert!(
        messages(&d).contains("x.xlsx: vInfo!D2: `lots` is not a whole number"),
        "{}",
        messages(&d)
    );
}

#[test]
fn a_workbook_without_vinfo_is_refused_naming_its_sheets() {
    let d = err("x.xlsx", &book(&[Sheet::new("vHost", gen_rvtools::VHOST)]));
    assert_eq!(d.0[0].code, Code::InventoryFormat);
    assert!(
        messages(&d).contains("without a vInfo sheet"),
        "{}",
        messages(&d)
    );
    assert!(messages(&d).contains("vHost"), "{}", messages(&d));
}

#[test]
fn a_vinfo_header_that_is_not_rvtools_is_refused_at_the_header() {
    let info = Sheet::new("vInfo", &["Name", "State"]).row(vec!["a".into(), "on".into()]);
    let d = err("x.xlsx", &book(&[info]));
    let m = messages(&d);
    assert!(
        m.contains("vInfo!A1") && m.contains("lacks VM, Powerstate, Host"),
        "{m}"
    );
}

#[test]
fn encrypted_and_corrupt_workbooks_are_errors_not_panics() {
    // Excel encrypts a password-protected .xlsx into an OLE compound file.
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend_from_slice(&[0; 504]);
    let d = err("locked.xlsx", &ole);
    assert!(
        messages(&d).contains("password-protected"),
        "{}",
        messages(&d)
    );
    let good = book(&example());
    for cut in [4, 30, good.len() / 2, good.len() - 10] {
        let d = err("cut.xlsx", &good[..cut]);
        assert!(!d.0.is_empty());
    }
    // Bytes flipped in the middle of the archive.
    let mut flipped = good.clone();
    for b in &mut flipped[good.len() / 3..good.len() / 3 + 64] {
        *b ^= 0x5A;
    }
    let _ = parse("flipped.xlsx", &flipped);
}

#[test]
fn csv_in_the_excel_dialect_is_read() {
    // de-DE Excel: `;` between fields, decimal commas, a UTF-8 byte-order mark.
    let text = "\u{feff}VM;Powerstate;Template;CPUs;Memory;Cluster;Host\r\n\
                a;poweredOn;False;2;4096,00;;h1\r\n\
                ;;;;;;\r\n\
                b;suspended;False;2;2048;;h1\r\n";
    let p = ok("RVTools_tabvInfo.csv", text.as_bytes());
    assert_eq!(p.format, Format::Rvtools);
    assert_eq!(vm_of(&p.inventory, "a").memory_mb, Some(4096));
    assert_eq!(vm_of(&p.inventory, "b").state, VmState::Saved);
    // UTF-16 LE with its mark, as Excel's "Unicode text" writes.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "VM\tPowerstate\tHost\r\nc\tpoweredOff\th2\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let p = ok("vinfo.txt", &utf16);
    assert_eq!(vm_of(&p.inventory, "c").state, VmState::Off);
}

#[test]
fn csv_problems_are_located_at_line_and_column() {
    let text = "VM,Powerstate,Host,Memory\nokvm,poweredOn,h,1024\nbad,poweredOn,h,4.5\n";
    let d = err("RVTools_tabvInfo.csv", text.as_bytes());
    assert_eq!(d.0[0].line_col(), Some((3, 17)), "{}", messages(&d));
    assert!(
        messages(&d).contains("line 3:17 (column Memory)"),
        "{}",
        messages(&d)
    );
    // A header no tab has, forced as RVTools.
    let d = inventory::parse("x.csv", b"Foo,Bar\n1,2\n", Some(Format::Rvtools)).unwrap_err();
    assert_eq!(d.0[0].line_col(), Some((1, 1)));
    assert!(
        messages(&d).contains("does not recognise"),
        "{}",
        messages(&d)
    );
}

#[test]
fn cli_fails_closed_without_vcluster() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sizing.xlsx");
    let info = Sheet::new(
        "vInfo",
        &[
            "VM",
            "Powerstate",
            "Template",
            "CPUs",
            "Memory",
            "Provisioned MB",
            "Datacenter",
            "Cluster",
            "Host",
        ],
    )
    .row(vec![
        "wab10jsdev01".into(),
        "poweredOn".into(),
        "False".into(),
        2u32.into(),
        4096u32.into(),
        1u32.into(),
        "DC".into(),
        "C1".into(),
        "bovmprod3-05".into(),
    ]);
    let hosts = Sheet::new("vHost", &["Host", "Cluster", "# CPU", "# Memory"]).row(vec![
        "vmprod3-05".into(),
        "C1".into(),
        2u32.into(),
        262_144u32.into(),
    ]);
    std::fs::write(&path, book(&[info, hosts])).unwrap();
    let (code, out, errs) = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--host",
        "bovmprod3-05",
        "--format",
        "json",
    ]);
    assert_ne!(
        code, 0,
        "a running VM the drain may not move is never GO: {out} {errs}"
    );
    assert!(out.contains("wab10jsdev01"), "{out}");
}

#[test]
fn cli_reports_a_broken_workbook_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.xlsx");
    let good = book(&example());
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    let (code, _, errs) = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--host",
        "esx01",
    ]);
    assert_eq!(code, 2, "{errs}");
    assert!(errs.contains("broken.xlsx"), "{errs}");
    let (code, _, errs) = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--host",
        "esx01",
        "--inventory-format",
        "rvtools",
    ]);
    assert_eq!(code, 2, "{errs}");
}

#[test]
fn a_connected_iso_and_an_unknown_drs_behaviour_are_kept() {
    let info = Sheet::new("vInfo", &["VM", "Powerstate", "Host", "Cluster"])
        .row(vec!["a".into(), "poweredOn".into(), "h".into(), "C".into()])
        .row(vec!["b".into(), "poweredOn".into(), "h".into(), "C".into()]);
    let cd = Sheet::new(
        "vCD",
        &[
            "VM",
            "Powerstate",
            "Device Node",
            "Connected",
            "Device Type",
        ],
    )
    .row(vec![
        "a".into(),
        "poweredOn".into(),
        "CD/DVD drive 1".into(),
        "True".into(),
        "ISO [local-esx01] iso/win.iso".into(),
    ])
    .row(vec![
        "b".into(),
        "poweredOn".into(),
        "CD/DVD drive 1".into(),
        "False".into(),
        "Client Device".into(),
    ]);
    let clusters = Sheet::new("vCluster", gen_rvtools::VCLUSTER).row(cluster(
        "C",
        true,
        true,
        "aggressive".into(),
        1,
    ));
    let p = ok("x.xlsx", &book(&[info, cd, clusters]));
    let a = vm_of(&p.inventory, "a");
    let media = facts(a).media.as_ref().unwrap();
    assert_eq!(media[0].path, "[local-esx01] iso/win.iso");
    // Without vDatastore whether the datastore is shared is unknown, never assumed.
    assert_eq!(media[0].is_shared(), None);
    // A disconnected drive holds no medium: known to be none.
    assert_eq!(facts(vm_of(&p.inventory, "b")).media, Some(vec![]));
    // DRS enabled with a behaviour preflight does not know: HA unknown, warned at the cell.
    assert_eq!(a.ha, None);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("vCluster!I2") && w.message.contains("aggressive")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.inventory
            .gaps
            .iter()
            .any(|g| g.field == "ha" && g.hint.contains("DRS default VM behavior"))
    );
}

#[test]
fn damaged_workbooks_never_panic() {
    // Deterministic damage: a few bytes changed at random positions, 300 times over; whatever
    // the zip and XML readers make of it, the answer is a workbook or an error.
    let good = book(&example());
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut bytes = good.clone();
        for _ in 0..1 + next() % 8 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        let _ = parse("damaged.xlsx", &bytes);
    }
}

#[test]
fn a_vhost_or_vcluster_lacking_columns_is_a_warning_naming_them() {
    let info = Sheet::new("vInfo", &["VM", "Powerstate", "Host", "Cluster"]).row(vec![
        "a".into(),
        "poweredOn".into(),
        "h".into(),
        "C".into(),
    ]);
    let hosts = Sheet::new("vHost", &["Name", "Cluster", "# CPU"]).row(vec![
        "h".into(),
        "C".into(),
        2u32.into(),
    ]);
    let clusters = Sheet::new("vCluster", &["Name", "HA enabled", "DRS enabled"]).row(vec![
        "C".into(),
        "True".into(),
        "True".into(),
    ]);
    let p = ok("x.xlsx", &book(&[info, hosts, clusters]));
    let w: Vec<&str> = p.warnings.iter().map(|w| w.message.as_str()).collect();
    for expected in [
        "x.xlsx: vHost!A1: the vHost tab has no `# Memory` column",
        "x.xlsx: vHost!A1: the vHost tab has no `in Maintenance Mode` column",
        "x.xlsx: vCluster!A1: the vCluster tab has no `DRS default VM behavior` column",
    ] {
        assert!(
            w.iter().any(|m| m.starts_with(expected)),
            "{expected} not in {w:?}"
        );
    }
    assert!(p.warnings.iter().all(|w| w.warning));
    assert_eq!(w.len(), 3, "one warning per missing column: {w:?}");
    // Nothing is guessed: DRS enabled without its behaviour is unknown.
    assert_eq!(vm_of(&p.inventory, "a").ha, None);
    // `Name` is vHost's host column in the DB-style export.
    assert_eq!(p.inventory.hosts[0].cpus, Some(2));
    assert!(!p.inventory.hosts[0].implied);
}

#[test]
fn vm_names_differing_in_case_are_two_vms_but_a_repeated_one_is_an_error() {
    let info = Sheet::new("vInfo", &["VM", "Powerstate", "Host"])
        .row(vec!["Web01".into(), "poweredOn".into(), "h".into()])
        .row(vec!["web01".into(), "poweredOff".into(), "h".into()]);
    assert_eq!(
        ok("x.xlsx", &book(std::slice::from_ref(&info)))
            .inventory
            .vms
            .len(),
        2
    );
    let info = info.row(vec!["Web01".into(), "poweredOn".into(), "h2".into()]);
    let d = err("x.xlsx", &book(&[info]));
    assert_eq!(d.0[0].code, Code::InventoryDuplicate);
    assert!(
        messages(&d)
            .contains("x.xlsx: vInfo!A4: two VMs share the name (and no VM UUID or VM ID) `Web01`"),
        "{}",
        messages(&d)
    );
}

#[test]
fn a_cd_joins_its_vm_by_uuid_not_by_a_name_that_differs_in_case() {
    let info = Sheet::new("vInfo", &["VM", "Powerstate", "Host", "VM UUID"])
        .row(vec![
            "Web01".into(),
            "poweredOn".into(),
            "h".into(),
            "u-1".into(),
        ])
        .row(vec![
            "web01".into(),
            "poweredOn".into(),
            "h".into(),
            "u-2".into(),
        ]);
    let cd = Sheet::new(
        "vCD",
        &["VM", "Device Node", "Connected", "Device Type", "VM UUID"],
    )
    .row(vec![
        "web01".into(),
        "CD 1".into(),
        "True".into(),
        "ISO [ds] a.iso".into(),
        "u-2".into(),
    ]);
    let p = ok("x.xlsx", &book(&[info, cd]));
    let vms = &p.inventory.vms;
    assert_eq!(facts(&vms[0]).media, Some(vec![]), "{:?}", vms[0]);
    assert_eq!(facts(&vms[1]).media.as_ref().unwrap()[0].path, "[ds] a.iso");
}

/// A running VM that RVTools lists on no host (migration-planner's example1 has `vm-9` so) may
/// run on the host being drained: reading past it said GO.
#[test]
fn a_running_vm_without_a_host_stops_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lost.xlsx");
    let info = Sheet::new("vInfo", gen_rvtools::VINFO)
        .row(vm(
            "a",
            "poweredOn",
            false,
            2,
            4096,
            "True",
            ("", ""),
            "Prod",
            "esx01",
            1,
        ))
        .row(vm(
            "lost",
            "poweredOn",
            false,
            2,
            4096,
            "True",
            ("", ""),
            "Prod",
            "",
            2,
        ));
    let hosts = Sheet::new("vHost", gen_rvtools::VHOST)
        .row(host("esx01", "Prod", false, 65536))
        .row(host("esx02", "Prod", false, 65536));
    let clusters = Sheet::new("vCluster", gen_rvtools::VCLUSTER).row(cluster(
        "Prod",
        true,
        true,
        "fullyAutomated".into(),
        2,
    ));
    let bytes = book(&[info, hosts, clusters]);
    let e = err("lost.xlsx", &bytes);
    assert!(
        messages(&e).contains("vInfo!A3") && messages(&e).contains("VM lost has no Host"),
        "{}",
        messages(&e)
    );
    std::fs::write(&path, bytes).unwrap();
    let (code, out, errs) = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--host",
        "esx01",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2, "{out} {errs}");
    assert!(errs.contains("VM lost has no Host"), "{errs}");
    // In a per-tab CSV the error is at its line and column.
    let info = Sheet::new("vInfo", gen_rvtools::VINFO).row(vm(
        "lost",
        "poweredOn",
        false,
        2,
        4096,
        "",
        ("", ""),
        "",
        "",
        2,
    ));
    let file = preflight::diag::SourceFile::new("RVTools_tabvInfo.csv", csv(&info, ','));
    let e = inventory::rvtools::parse_csv(&file).unwrap_err();
    assert_eq!(e.0[0].line_col(), Some((2, 1)), "{}", messages(&e));
}

/// vUSB, vNetwork, vDisk with vDatastore, vHost's CPU and EVC mode and vInfo's DRS rules
/// give each VM its migration facts; the CSV tabs give the same.
#[test]
fn migration_facts_fill_the_vms_and_hosts() {
    let mut sheets = example();
    sheets.extend(gen_rvtools::facts());
    let p = ok("x.xlsx", &book(&sheets));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let inv = &p.inventory;
    let cold = facts(vm_of(inv, "sql-cold"));
    let disks = cold.disks.as_ref().unwrap();
    assert_eq!(disks[0].path, "[esx01-local] sql-cold/sql-cold.vmdk");
    assert_eq!(
        disks[0].shared,
        Some(false),
        "esx01-local is seen by one host"
    );
    assert_eq!(disks[0].size_mb, Some(40960));
    assert_eq!(cold.local_storage(), Some(true));
    assert_eq!(cold.networks.as_deref(), Some(&["VM Network".into()][..]));
    let sql = facts(vm_of(inv, "sql-a"));
    assert_eq!(sql.disks.as_ref().unwrap()[0].shared, Some(true));
    assert_eq!(sql.passthrough, Some(vec![]));
    assert_eq!(
        sql.media_mounted(),
        Some(true),
        "the example mounts an ISO on sql-a"
    );
    assert_eq!(sql.anti_affinity, vec!["Separate SQL nodes"]);
    assert_eq!(sql.cpu_compat, Some(false), "esx01 has no EVC mode");
    let esx01 = inv.hosts.iter().find(|h| h.name == "esx01").unwrap();
    assert_eq!(
        esx01.facts.cpu.as_deref(),
        Some("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz")
    );
    let old = facts(vm_of(inv, "app-old"));
    assert_eq!(
        old.passthrough.as_deref(),
        Some(&["usb:Rainbow USB license dongle".into()][..])
    );
    assert_eq!(old.networks.as_deref(), Some(&["Legacy-VLAN20".into()][..]));
    assert_eq!(
        old.cpu_compat,
        Some(true),
        "esx11's cluster has an EVC mode"
    );
    let files: Vec<preflight::diag::SourceFile> = sheets
        .iter()
        .map(|s| {
            preflight::diag::SourceFile::new(format!("RVTools_tab{}.csv", s.name), csv(s, ','))
        })
        .collect();
    let tabs = inventory::rvtools::parse_tabs(&files).unwrap();
    assert_eq!(&tabs.inventory, inv);
    // Without vDatastore, which datastore is local is unknown: nothing is claimed.
    sheets.retain(|s| s.name != "vDatastore");
    let p = ok("x.xlsx", &book(&sheets));
    let cold = facts(vm_of(&p.inventory, "sql-cold"));
    assert_eq!(cold.disks.as_ref().unwrap()[0].shared, None);
    assert_eq!(cold.local_storage(), None);
    // Without the other tabs every fact is unknown (a gap), never none.
    sheets.retain(|s| ["vInfo", "vCluster"].contains(&s.name.as_str()));
    let p = ok("x.xlsx", &book(&sheets));
    let sql = vm_of(&p.inventory, "sql-a");
    let f = sql.facts.as_deref().cloned().unwrap_or_default();
    assert_eq!(f.disks, None);
    assert_eq!(f.media, None);
    assert_eq!(f.passthrough, None);
    assert_eq!(f.networks, None);
    assert_eq!(f.cpu_compat, None);
    assert!(p.inventory.facts_carried().is_empty());
}

/// A rule list that does not pair up with its names, or a rule kind preflight does not read,
/// is warned about at its cell; the VM-VM rules it can read still count.
#[test]
fn drs_rules_it_cannot_read_are_warned_about() {
    let info = Sheet::new(
        "vInfo",
        &[
            "VM",
            "Powerstate",
            "Host",
            "Cluster rule(s)",
            "Cluster rule name(s)",
        ],
    )
    .row(vec![
        "a".into(),
        "poweredOn".into(),
        "h".into(),
        "Anti Affinity, Affinity, VM-Host".into(),
        "sep, together, pin".into(),
    ])
    .row(vec![
        "b".into(),
        "poweredOn".into(),
        "h".into(),
        "Anti Affinity, Affinity".into(),
        "only-one".into(),
    ]);
    let p = ok("x.xlsx", &book(&[info]));
    let a = facts(vm_of(&p.inventory, "a"));
    assert_eq!(a.anti_affinity, vec!["sep"]);
    assert_eq!(a.affinity, vec!["together"]);
    let msgs: Vec<&str> = p.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("vInfo!D2") && m.contains("`pin`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("vInfo!D3") && m.contains("not read")),
        "{msgs:?}"
    );
    assert!(
        vm_of(&p.inventory, "b")
            .facts
            .as_ref()
            .is_none_or(|f| f.anti_affinity.is_empty())
    );
}

/// The network and snapshot tabs of a full export, for the example's VMs and hosts: `sql-a`
/// has two snapshots (joined by VM UUID), `app-old` one (by name); `esx01`–`esx03` offer the
/// standard port group `VM Network`, `esx11` the standard `Legacy-VLAN20` too, and the
/// distributed switch `dvs-legacy` (members `esx11`, `esx12`) offers `Legacy-VLAN20`.
fn network_and_snapshot_tabs() -> Vec<Sheet> {
    let snap = Sheet::new(
        "vSnapshot",
        &[
            "VM",
            "Powerstate",
            "Name",
            "Date / time",
            "Size MiB (total)",
            "Quiesced",
            "Host",
            "VM UUID",
        ],
    );
    let uuid = |n: u32| format!("5001c0de-0000-4000-8000-{n:012}");
    let snap_row = |vm: &str, name: &str, host: &str, id: &str| -> Vec<Val> {
        vec![
            vm.into(),
            "poweredOn".into(),
            name.into(),
            46000.5.into(),
            1024u32.into(),
            "False".into(),
            host.into(),
            id.into(),
        ]
    };
    let snap = snap
        .row(snap_row("sql-a", "before CU", "esx01", &uuid(101)))
        .row(snap_row("sql-a", "after CU", "esx01", &uuid(101)))
        .row(snap_row("app-old", "pre-upgrade", "esx11", ""));
    let port_row = |host: &str, group: &str, switch: &str| -> Vec<Val> {
        vec![
            host.into(),
            "DC1".into(),
            group.into(),
            switch.into(),
            0u32.into(),
        ]
    };
    let mut port = Sheet::new(
        "vPort",
        &["Host", "Datacenter", "Port Group", "Switch", "VLAN"],
    );
    for h in ["esx01", "esx02", "esx03"] {
        port = port.row(port_row(h, "VM Network", "vSwitch0"));
    }
    port = port.row(port_row("esx11", "Management", "vSwitch0"));
    let switch = Sheet::new(
        "vSwitch",
        &["Host", "Datacenter", "Switch", "# Ports", "Free Ports"],
    )
    .row(vec![
        "esx01".into(),
        "DC1".into(),
        "vSwitch0".into(),
        9216u32.into(),
        9180u32.into(),
    ]);
    let dv_switch = Sheet::new(
        "dvSwitch",
        &["Switch", "Datacenter", "Name", "Host members", "# Ports"],
    )
    .row(vec![
        "dvs-legacy".into(),
        "DC1".into(),
        "DVS".into(),
        "esx11, esx12".into(),
        64u32.into(),
    ]);
    let dv_port = Sheet::new("dvPort", &["Port", "Switch", "Type", "# Ports", "VLAN"])
        .row(vec![
            "Legacy-VLAN20".into(),
            "dvs-legacy".into(),
            "earlyBinding".into(),
            8u32.into(),
            20u32.into(),
        ])
        .row(vec![
            "dvs-legacy-DVUplinks".into(),
            "dvs-legacy".into(),
            "earlyBinding".into(),
            2u32.into(),
        ]);
    vec![snap, port, switch, dv_switch, dv_port]
}

/// vSnapshot gives each VM's checkpoints (0 for a VM it does not list; unknown without the
/// tab); vPort, dvSwitch and dvPort give the port groups each host offers, which with
/// vNetwork's port group per VM decides the `network` constraint.
#[test]
fn snapshots_and_host_networks_are_read() {
    let mut sheets = example();
    sheets.extend(gen_rvtools::facts());
    sheets.extend(network_and_snapshot_tabs());
    let p = ok("x.xlsx", &book(&sheets));
    assert!(p.warnings.is_empty(), "{}", messages_of(&p.warnings));
    let inv = &p.inventory;
    assert_eq!(facts(vm_of(inv, "sql-a")).checkpoints, Some(2));
    assert_eq!(facts(vm_of(inv, "app-old")).checkpoints, Some(1));
    assert_eq!(facts(vm_of(inv, "web-01")).checkpoints, Some(0));
    let nets = |h: &str| {
        inv.hosts
            .iter()
            .find(|x| x.name == h)
            .unwrap()
            .facts
            .networks
            .clone()
    };
    assert_eq!(nets("esx01"), Some(vec!["VM Network".into()]));
    assert_eq!(
        nets("esx11"),
        Some(vec![
            "Legacy-VLAN20".into(),
            "Management".into(),
            "dvs-legacy-DVUplinks".into()
        ])
    );
    assert_eq!(
        nets("esx12"),
        Some(vec!["Legacy-VLAN20".into(), "dvs-legacy-DVUplinks".into()])
    );
    // The per-tab CSVs are recognised by their headers and read alike.
    let files: Vec<preflight::diag::SourceFile> = sheets
        .iter()
        .map(|s| {
            preflight::diag::SourceFile::new(format!("RVTools_tab{}.csv", s.name), csv(s, ','))
        })
        .collect();
    let tabs = inventory::rvtools::parse_tabs(&files).unwrap();
    assert_eq!(&tabs.inventory, inv);
    // Without vSnapshot the checkpoints are unknown, never none.
    let without: Vec<Sheet> = sheets
        .iter()
        .filter(|s| s.name != "vSnapshot")
        .cloned()
        .collect();
    let p = ok("x.xlsx", &book(&without));
    assert_eq!(facts(vm_of(&p.inventory, "sql-a")).checkpoints, None);
    // Without dvPort a VM's distributed port group could look absent from every host: the
    // hosts' networks stay unknown, with a warning naming the missing tab.
    let without: Vec<Sheet> = sheets
        .iter()
        .filter(|s| s.name != "dvPort")
        .cloned()
        .collect();
    let p = ok("x.xlsx", &book(&without));
    assert!(p.inventory.hosts.iter().all(|h| h.facts.networks.is_none()));
    let w = messages_of(&p.warnings);
    assert!(w.contains("not dvPort"), "{w}");
}

/// On RVTools the `network` constraint now sees what the hosts offer: draining `esx11` moves
/// `app-old`, whose port group `Legacy-VLAN20` `esx12` offers, so no network finding names it;
/// with `esx12` offering only its uplinks, it does.
#[test]
fn cli_checks_networks_on_rvtools() {
    let dir = tempfile::tempdir().unwrap();
    let mut sheets = example();
    sheets.extend(gen_rvtools::facts());
    sheets.extend(network_and_snapshot_tabs());
    let path = dir.path().join("full.xlsx");
    std::fs::write(&path, book(&sheets)).unwrap();
    let args = |p: &std::path::Path| {
        vec![
            "audit".to_string(),
            "--inventory".to_string(),
            p.display().to_string(),
            "--host".to_string(),
            "esx11".to_string(),
            "--format".to_string(),
            "json".to_string(),
        ]
    };
    let network_findings = |p: &std::path::Path| -> Vec<serde_json::Value> {
        let a = args(p);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (code, out, err) = run(&a);
        assert!(code == 0 || code == 1, "{code}: {err}");
        json(&out)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "network")
            .cloned()
            .collect()
    };
    let found = network_findings(&path);
    assert!(
        found.iter().all(|f| !f.to_string().contains("app-old")),
        "{found:?}"
    );
    // esx12 leaves the distributed switch: app-old's port group is offered nowhere else.
    for s in &mut sheets {
        if s.name == "dvSwitch" {
            s.rows[0][3] = "esx11".into();
        }
    }
    let path = dir.path().join("cut.xlsx");
    std::fs::write(&path, book(&sheets)).unwrap();
    let found = network_findings(&path);
    assert!(
        found.iter().any(|f| f.to_string().contains("app-old")),
        "{found:?}"
    );
}

fn messages_of(d: &[preflight::diag::SourceDiag]) -> String {
    d.iter()
        .map(|d| d.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}
