//! vSphere through PowerCLI and govc: the exports as Windows PowerShell 5.1 and PowerShell 7
//! write them (tests/fixtures/vsphere/, made to the shapes of real exports), the examples that
//! `examples/gen_vsphere.rs` writes, the collectors in examples/collect/, and what the CLI
//! answers on them.

mod common;
#[allow(dead_code)]
#[path = "../examples/gen_vsphere.rs"]
mod gen_vsphere;

use common::{findings, json, run};
use preflight::diag::{Diagnostics, SourceFile};
use preflight::inventory::{self, Format, Parsed, govc, powercli};
use preflight::model::{HostState, Inventory, Platform, Vm, VmState};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> (String, Vec<u8>) {
    let path = format!("tests/fixtures/vsphere/{name}");
    let bytes = std::fs::read(root().join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    (path, bytes)
}

fn parse(name: &str) -> Result<Parsed, Diagnostics> {
    let (path, bytes) = fixture(name);
    inventory::parse(&path, &bytes, None)
}

fn messages(d: &[preflight::diag::SourceDiag]) -> String {
    d.iter()
        .map(|d| d.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

fn ok(name: &str) -> Parsed {
    parse(name).unwrap_or_else(|d| panic!("{name}: {}", messages(&d.0)))
}

fn vm_of<'a>(inv: &'a Inventory, name: &str) -> &'a Vm {
    inv.vms
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no VM {name}"))
}

/// Several files read together, as the CLI reads them.
fn together(names: &[&str], read: fn(&[SourceFile]) -> Result<Parsed, Diagnostics>) -> Parsed {
    let files: Vec<SourceFile> = names
        .iter()
        .map(|n| {
            let (path, bytes) = fixture(n);
            SourceFile::new(path.clone(), inventory::decode(&path, &bytes).unwrap())
        })
        .collect();
    read(&files).unwrap_or_else(|d| panic!("{}", messages(&d.0)))
}

#[test]
fn the_committed_examples_are_what_the_generator_writes() {
    for (path, bytes) in gen_vsphere::example_files() {
        let committed = std::fs::read(root().join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            committed == bytes,
            "{path} differs from the generator's output: run `cargo run --example gen_vsphere`"
        );
    }
}

#[test]
fn the_powercli_example_maps_drs_onto_ha() {
    let bytes = std::fs::read(root().join("examples/vsphere-powercli.json")).unwrap();
    let p = inventory::parse("vsphere-powercli.json", &bytes, None).unwrap();
    assert_eq!(p.format, Format::Powercli);
    assert!(p.warnings.is_empty(), "{}", messages(&p.warnings));
    let inv = &p.inventory;
    assert_eq!(inv.platform, Some(Platform::Vsphere));
    assert!(inv.gaps.is_empty(), "{:?}", inv.gaps);
    assert_eq!(
        inv.collected_at.map(|t| t.to_string()).as_deref(),
        Some("2026-11-25T16:00:00Z")
    );
    let sql = vm_of(inv, "sql-a");
    assert_eq!(
        (
            sql.state,
            sql.ha,
            sql.memory_mb,
            sql.vcpus,
            sql.host.as_str()
        ),
        (VmState::Running, Some(true), Some(98304), Some(8), "esx01")
    );
    assert_eq!(sql.id.as_deref(), Some("VirtualMachine-vm-101"));
    let facts = |v: &Vm| v.facts.as_deref().cloned().unwrap_or_default();
    let f = facts(sql);
    assert_eq!(f.anti_affinity, vec!["Separate SQL nodes"]);
    assert_eq!(f.disks.as_ref().unwrap()[0].shared, Some(true));
    assert_eq!(f.disks.as_ref().unwrap()[0].size_mb, Some(40960));
    assert_eq!(f.cpu_compat, Some(false), "Prod has no EVC mode");
    assert_eq!(f.networks.as_deref(), Some(&["VM Network".into()][..]));
    assert_eq!(f.passthrough, Some(vec![]));
    assert_eq!(f.media, Some(vec![]));
    assert_eq!(f.checkpoints, Some(0));
    assert_eq!(f.attributes["os"], "Microsoft Windows Server 2022 (64-bit)");
    assert_eq!(facts(vm_of(inv, "sql-cold")).local_storage(), Some(true));
    let old = facts(vm_of(inv, "app-old"));
    assert_eq!(old.passthrough(), Some(true));
    assert_eq!(old.cpu_compat, Some(true), "Legacy has an EVC mode");
    assert_eq!(
        inv.hosts.iter().find(|h| h.name == "esx11").unwrap().facts,
        preflight::model::HostFacts {
            networks: Some(vec!["Legacy-VLAN20".into()]),
            cpu: Some("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz".into()),
        }
    );
    assert_eq!(
        sql.evidence["host_cpu"],
        "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"
    );
    assert_eq!(
        sql.evidence["drs"],
        "DRS enabled, FullyAutomated; vSphere HA enabled"
    );
    assert_eq!(
        facts(vm_of(inv, "web-01")).media.unwrap()[0].path,
        "[ds-shared01] iso/tools.iso"
    );
    // DRS manual: nothing moves it.
    assert_eq!(vm_of(inv, "app-old").ha, Some(false));
    // DRS fully automated, but the VM's own override is manual.
    let pinned = vm_of(inv, "pinned-01");
    assert_eq!(pinned.ha, Some(false));
    assert_eq!(pinned.evidence["drs_vm_override"], "Manual");
    let host = |n: &str| inv.hosts.iter().find(|h| h.name == n).unwrap();
    assert_eq!(host("esx03").state, HostState::Maintenance);
    assert_eq!(
        (
            host("esx01").state,
            host("esx01").memory_mb,
            host("esx01").cpus,
            host("esx01").cluster.as_deref()
        ),
        (HostState::Up, Some(262_144), Some(64), Some("Prod"))
    );
}

#[test]
fn the_govc_example_reads_as_the_powercli_one() {
    let read = |path: &str| {
        let bytes = std::fs::read(root().join(path)).unwrap();
        inventory::parse(path, &bytes, None).unwrap()
    };
    let g = read("examples/vsphere-govc.json");
    let p = read("examples/vsphere-powercli.json");
    assert_eq!(g.format, Format::Govc);
    assert!(g.warnings.is_empty(), "{}", messages(&g.warnings));
    assert!(g.inventory.gaps.is_empty(), "{:?}", g.inventory.gaps);
    let key = |inv: &Inventory| {
        let mut v: Vec<_> = inv
            .vms
            .iter()
            .map(|v| {
                (
                    v.name.to_string(),
                    v.host.to_string(),
                    v.state,
                    v.ha,
                    v.memory_mb,
                    v.vcpus,
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&g.inventory), key(&p.inventory));
    let hosts = |inv: &Inventory| {
        let mut h: Vec<_> = inv
            .hosts
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    h.state,
                    h.memory_mb,
                    h.cpus,
                    h.cluster.clone(),
                )
            })
            .collect();
        h.sort();
        h
    };
    assert_eq!(hosts(&g.inventory), hosts(&p.inventory));
    assert_eq!(
        vm_of(&g.inventory, "pinned-01").evidence["drs_vm_override"],
        "manual"
    );
    assert_eq!(
        vm_of(&g.inventory, "sql-a").evidence["host_cpu"],
        vm_of(&p.inventory, "sql-a").evidence["host_cpu"]
    );
    // Each host's CPU model is a fact of the host, as PowerCLI's ProcessorType gives it.
    for h in &g.inventory.hosts {
        let other = p.inventory.hosts.iter().find(|o| o.name == h.name).unwrap();
        assert!(h.facts.cpu.is_some(), "{}", h.name);
        assert_eq!(h.facts.cpu, other.facts.cpu, "{}", h.name);
    }
}

const BASELINE_FINDINGS: [(&str, &str, &str); 4] = [
    // sql-a's DRS anti-affinity partner holds the only host with room: it fits nowhere.
    ("capacity", "sql-a", "esx01"),
    ("non-ha-running", "app-old", "esx11"),
    ("stranded-ha-vm", "sql-cold", "esx01"),
    ("stranded-vm", "batch-01", "esx11"),
];

#[test]
fn cli_audits_both_examples_with_every_baseline_rule() {
    for example in [
        "examples/vsphere-powercli.json",
        "examples/vsphere-govc.json",
    ] {
        let (code, out, errs) = run(&[
            "audit",
            "--inventory",
            example,
            "--host",
            "esx01",
            "--host",
            "esx11",
            "--mode",
            "decommission",
            "--format",
            "json",
        ]);
        assert_eq!(code, 1, "{example}: {errs}");
        let got = findings(&json(&out));
        for (rule, vm, host) in BASELINE_FINDINGS {
            assert!(
                got.iter().any(|f| f.0 == rule
                    && f.1.as_deref() == Some(vm)
                    && f.2.as_deref() == Some(host)),
                "{example}: {rule} {vm}@{host} missing from {got:?}"
            );
        }
    }
}

/// Windows PowerShell 5.1 with `>`: UTF-16 LE with a byte-order mark, CRLF, enums as numbers
/// (PowerState PoweredOff 0, PoweredOn 1, Suspended 2).
#[test]
fn windows_powershell_5_1_exports_are_read_with_their_numbers() {
    let vms = ok("ps51-get-vm.json");
    assert_eq!(vms.format, Format::Powercli);
    let inv = &vms.inventory;
    let states: Vec<VmState> = inv.vms.iter().map(|v| v.state).collect();
    assert_eq!(states, [VmState::Running, VmState::Off, VmState::Saved]);
    // The VM's DRS override is a number whose meaning is not documented: it decides nothing,
    // and never falls back to the cluster's level.
    assert!(inv.vms.iter().all(|v| v.ha.is_none()));
    assert!(
        vms.warnings
            .iter()
            .any(|w| w.message.contains("enum number") && w.line_col().is_some()),
        "{}",
        messages(&vms.warnings)
    );
    // The numbers are read as PowerCLI's enum, said once per file and kept on each VM.
    assert_eq!(
        vms.warnings
            .iter()
            .filter(|w| w.message.contains("is a number"))
            .count(),
        1,
        "{}",
        messages(&vms.warnings)
    );
    assert_eq!(inv.vms[0].evidence["power_state_number"], "1");
    let all = together(
        &[
            "ps51-get-vm.json",
            "ps51-get-vmhost.json",
            "ps51-get-cluster.json",
        ],
        powercli::parse_files,
    );
    let inv = &all.inventory;
    assert!(inv.vms.iter().all(|v| v.ha.is_none()), "{:?}", inv.vms);
    let esx21 = inv
        .hosts
        .iter()
        .find(|h| h.name == "esx21.lab.local")
        .unwrap();
    // A numbered connection state is not trusted: the host is no destination.
    assert_eq!(esx21.state, HostState::Down);
    assert_eq!(esx21.memory_mb, Some(131_071), "a decimal MiB rounds down");
    assert_eq!(esx21.cpus, Some(32));
    assert!(
        all.warnings
            .iter()
            .any(|w| w.message.contains("connection state")),
        "{}",
        messages(&all.warnings)
    );
}

#[test]
fn powershell_7_exports_read_together_join_the_clusters_drs() {
    let all = together(
        &[
            "ps7-get-vm.json",
            "ps7-get-vmhost.json",
            "ps7-get-cluster.json",
        ],
        powercli::parse_files,
    );
    assert!(all.warnings.is_empty(), "{}", messages(&all.warnings));
    let inv = &all.inventory;
    assert_eq!(vm_of(inv, "app-01").ha, Some(true));
    assert_eq!(vm_of(inv, "db-02").state, VmState::Off);
    assert_eq!(vm_of(inv, "pinned").ha, Some(false), "override Disabled");
    // The VMs alone: what DRS does is unknown, never assumed.
    let alone = ok("ps7-get-vm.json");
    assert!(alone.inventory.vms.iter().all(|v| v.ha.is_none()));
    assert!(alone.inventory.gaps.iter().any(|g| g.field == "ha"));
}

#[test]
fn cli_reads_the_three_powercli_files_as_one_export() {
    let dir = "tests/fixtures/vsphere";
    let args = |host: &'static str| {
        vec![
            "audit".to_string(),
            "--inventory".into(),
            format!("{dir}/ps7-get-vm.json"),
            "--inventory".into(),
            format!("{dir}/ps7-get-vmhost.json"),
            "--inventory".into(),
            format!("{dir}/ps7-get-cluster.json"),
            "--host".into(),
            host.into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let a = args("esx22.lab.local");
    let (code, out, errs) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 1, "{errs}");
    let report = json(&out);
    let got = findings(&report);
    assert_eq!(
        got,
        [
            (
                "non-ha-running".to_string(),
                Some("pinned".to_string()),
                Some("esx22.lab.local".to_string()),
                false
            ),
            // The PowerCLI files carry other facts (CPU models) but no media, devices or
            // networks: one gap warning per rule that needs them.
            (
                "cpu".to_string(),
                None,
                Some("esx22.lab.local".to_string()),
                false
            ),
            (
                "local-device".to_string(),
                None,
                Some("esx22.lab.local".to_string()),
                false
            ),
            (
                "local-media".to_string(),
                None,
                Some("esx22.lab.local".to_string()),
                false
            ),
            (
                "network".to_string(),
                None,
                Some("esx22.lab.local".to_string()),
                false
            ),
        ],
        "app-01 is moved by DRS; pinned is not"
    );
    for input in report["inputs"]["inventory"].as_array().unwrap() {
        assert_eq!(input["format"], "powercli");
    }
    // esx21's running VM is moved, and esx22 absorbs it: GO.
    let a = args("esx21.lab.local");
    let (code, out, errs) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{out} {errs}");
}

#[test]
fn a_vmhost_cut_to_a_type_name_is_a_located_error() {
    let err = parse("ps51-vmhost-type-name.json").unwrap_err();
    let first = &err.0[0];
    assert!(
        first.message.contains("VMHostImpl") && first.message.contains("type name"),
        "{}",
        first.message
    );
    assert_eq!(first.line_col(), Some((7, 20)));
    assert!(
        first
            .help
            .as_deref()
            .is_some_and(|h| h.contains("$_.VMHost.Name"))
    );
    let (code, _, errs) = run(&[
        "audit",
        "--inventory",
        "tests/fixtures/vsphere/ps51-vmhost-type-name.json",
        "--host",
        "esx21",
    ]);
    assert_eq!(code, 2, "{errs}");
    assert!(errs.contains("ps51-vmhost-type-name.json:7:20"), "{errs}");
    // Never a host named like that.
    assert!(!errs.contains("non-ha-running"), "{errs}");
}

#[test]
fn a_get_view_export_csv_is_read() {
    let p = ok("getview-export-csv.csv");
    assert_eq!(p.format, Format::Powercli);
    let inv = &p.inventory;
    assert_eq!(inv.vms.len(), 4);
    let nfs = vm_of(inv, "nc-nfs");
    assert_eq!(
        (nfs.state, nfs.host.as_str(), nfs.memory_mb, nfs.vcpus),
        (VmState::Running, "esx31.vcf.local", Some(8192), Some(4))
    );
    assert_eq!(nfs.evidence["iso_mounted"], "True");
    assert_eq!(nfs.evidence["cluster"], "WD-cl01");
    assert_eq!(vm_of(inv, "dns_tmp").memory_mb, Some(1536));
    assert_eq!(vm_of(inv, "dns_tmp").state, VmState::Off);
    assert_eq!(vm_of(inv, "probe (추정)").host, "esx32.vcf.local");
    // No DRS columns: HA unknown for every VM, with a gap saying what to export.
    assert!(inv.vms.iter().all(|v| v.ha.is_none()));
    assert!(
        inv.gaps
            .iter()
            .any(|g| g.field == "ha" && g.count == 4 && g.hint.contains("DrsAutomationLevel"))
    );
}

#[test]
fn a_running_vm_without_a_host_stops_the_read() {
    let text = r#"[{"Name":"lost","PowerState":"PoweredOn","NumCpu":1,"MemoryMB":1024,"VMHost":null},
 {"Name":"cold","PowerState":"PoweredOff","NumCpu":1,"MemoryMB":1024,"VMHost":""}]"#;
    let err = inventory::parse("x.json", text.as_bytes(), None).unwrap_err();
    assert_eq!(err.0.len(), 1, "{}", messages(&err.0));
    assert!(err.0[0].message.contains("VM lost has no VMHost"));
    assert_eq!(err.0[0].line_col(), Some((1, 2)));
    let off = r#"[{"Name":"cold","PowerState":"PoweredOff","NumCpu":1,"MemoryMB":1024,"VMHost":""},
 {"Name":"ok","PowerState":"PoweredOn","NumCpu":1,"MemoryMB":1024,"VMHost":"esx"}]"#;
    let p = inventory::parse("x.json", off.as_bytes(), None).unwrap();
    assert_eq!(p.inventory.vms.len(), 1);
    assert!(messages(&p.warnings).contains("VM cold has no VMHost"));
}

#[test]
fn govc_go_field_names_and_zero_values_are_read() {
    let alone = ok("govc-vm-info-go-names.json");
    assert_eq!(alone.format, Format::Govc);
    let inv = &alone.inventory;
    // Name and Runtime are govmomi's zero values: Summary holds the facts.
    let jenkins = vm_of(inv, "sm-jenkins");
    assert_eq!(
        (
            jenkins.state,
            jenkins.host.as_str(),
            jenkins.memory_mb,
            jenkins.vcpus
        ),
        (VmState::Running, "ha-host", Some(4096), Some(2))
    );
    assert_eq!(
        jenkins.id.as_deref(),
        Some("52000020-0000-0000-0000-000000000000")
    );
    assert_eq!(vm_of(inv, "paused").state, VmState::Saved);
    assert!(
        messages(&alone.warnings).contains("known only by their references (ha-host)"),
        "{}",
        messages(&alone.warnings)
    );
    assert!(inv.vms.iter().all(|v| v.ha.is_none()));
    // With host.info the reference becomes the host's name and capacity.
    let both = together(
        &["govc-vm-info-go-names.json", "govc-host-info.json"],
        govc::parse_files,
    );
    assert!(both.warnings.is_empty(), "{}", messages(&both.warnings));
    let inv = &both.inventory;
    assert_eq!(vm_of(inv, "sm-jenkins").host, "esx41.lab.local");
    let h = &inv.hosts[0];
    assert_eq!(
        (h.name.as_str(), h.state, h.memory_mb, h.cpus, h.implied),
        (
            "esx41.lab.local",
            HostState::Up,
            Some(65536),
            Some(16),
            false
        )
    );
}

#[test]
fn govc_without_a_host_or_with_unknown_states_fails_closed() {
    let text = r#"{"virtualMachines":[
 {"self":{"type":"VirtualMachine","value":"vm-1"},"name":"lost","runtime":{"powerState":"poweredOn"}},
 {"self":{"type":"VirtualMachine","value":"vm-2"},"name":"odd","runtime":{"powerState":"weird","host":{"type":"HostSystem","value":"host-1"}}}]}"#;
    let err = inventory::parse("x.json", text.as_bytes(), None).unwrap_err();
    assert!(messages(&err.0).contains("VM lost has no runtime.host"));
    assert_eq!(err.0[0].line_col(), Some((2, 2)));
    let text = text.replace(r#""name":"lost","#, r#""name":"lost","runtime2":{},"#);
    let text = text.replace(
        r#""runtime":{"powerState":"poweredOn"}"#,
        r#""runtime":{"powerState":"poweredOff"}"#,
    );
    let p = inventory::parse("x.json", text.as_bytes(), None).unwrap();
    assert_eq!(vm_of(&p.inventory, "odd").state, VmState::Unknown);
    assert_eq!(
        vm_of(&p.inventory, "odd").evidence["raw_state"],
        "runtime.powerState=weird"
    );
    // A host whose maintenance mode is unknown is not a destination.
    let hosts = r#"{"hostSystems":[{"self":{"type":"HostSystem","value":"host-1"},"name":"esx","runtime":{"connectionState":"connected"}}]}"#;
    let p = inventory::parse("h.json", hosts.as_bytes(), None).unwrap();
    assert_eq!(p.inventory.hosts[0].state, HostState::Down);
}

#[test]
fn each_export_is_recognised() {
    for (name, format) in [
        ("ps51-get-vm.json", Format::Powercli),
        ("ps51-get-vmhost.json", Format::Powercli),
        ("ps51-get-cluster.json", Format::Powercli),
        ("ps7-get-vm.json", Format::Powercli),
        ("ps7-get-vmhost.json", Format::Powercli),
        ("ps7-get-cluster.json", Format::Powercli),
        ("getview-export-csv.csv", Format::Powercli),
        ("govc-vm-info-go-names.json", Format::Govc),
        ("govc-host-info.json", Format::Govc),
    ] {
        let (path, bytes) = fixture(name);
        let text = inventory::decode(&path, &bytes).unwrap();
        assert_eq!(
            inventory::detect(&SourceFile::new(path, text)).ok(),
            Some(format),
            "{name}"
        );
    }
    // A bare govmomi list of VirtualMachine objects.
    let list =
        r#"[{"Self":{"Type":"VirtualMachine","Value":"20"},"Summary":{"Config":{"Name":"a"}}}]"#;
    assert_eq!(
        inventory::detect(&SourceFile::new("x.json", list)).ok(),
        Some(Format::Govc)
    );
}

// --- the collectors -------------------------------------------------------------------------

/// Every ERROR or MISSING node, as `line:column kind` (as tests/collectors.rs checks the
/// other PowerShell collectors).
fn syntax_problems(source: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("grammar loads");
    let tree = parser.parse(source, None).expect("parser returns a tree");
    let mut problems = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let p = node.start_position();
            problems.push(format!("{}:{} {}", p.row + 1, p.column + 1, node.kind()));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    problems
}

fn powercli_script() -> String {
    std::fs::read_to_string(root().join("examples/collect/powercli.ps1")).unwrap()
}

#[test]
fn the_powercli_collector_parses_and_has_its_help() {
    let source = powercli_script();
    assert_eq!(syntax_problems(&source), Vec::<String>::new());
    assert!(!syntax_problems("$h = [ordered]@{ a = 1; b = ").is_empty());
    for part in [
        ".SYNOPSIS",
        ".PARAMETER Server",
        ".PARAMETER OutFile",
        ".EXAMPLE",
        "ExecutionPolicy",
        "VMware.PowerCLI",
        "read-only",
        "preflight audit --inventory",
    ] {
        assert!(source.contains(part), "the help lacks {part}");
    }
}

/// The keys of the `[pscustomobject][ordered]@{ ... }` records the collector writes, record by
/// record.
fn collector_records(source: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in source.lines() {
        let t = line.trim();
        if t.ends_with("[pscustomobject][ordered]@{") {
            current = Some(Vec::new());
        } else if t == "}" {
            if let Some(keys) = current.take() {
                out.push(keys);
            }
        } else if let Some(keys) = current.as_mut()
            && let Some((key, _)) = t.split_once('=')
        {
            let key = key.trim();
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()) {
                keys.push(key.to_string());
            }
        }
    }
    out
}

#[test]
fn the_powercli_collector_selects_what_the_reader_reads() {
    let records = collector_records(&powercli_script());
    let [vm, template, host, cluster, document] = records.as_slice() else {
        panic!("expected five records, got {records:?}");
    };
    let evidence: Vec<&str> = powercli::EVIDENCE_KEYS.iter().map(|e| e.1).collect();
    let read_vm: Vec<&str> = powercli::VM_PROPERTIES
        .iter()
        .copied()
        .chain(evidence.iter().copied())
        .chain(powercli::FACT_PROPERTIES)
        .collect();
    for k in vm.iter().chain(template) {
        assert!(read_vm.contains(&k.as_str()), "the reader ignores VM {k}");
    }
    for k in host {
        assert!(
            powercli::HOST_PROPERTIES.contains(&k.as_str()),
            "the reader ignores host {k}"
        );
    }
    for k in cluster {
        assert!(
            powercli::CLUSTER_PROPERTIES.contains(&k.as_str()),
            "the reader ignores cluster {k}"
        );
    }
    // And the collector exports everything the reader needs.
    for k in powercli::VM_PROPERTIES
        .iter()
        .chain(&powercli::FACT_PROPERTIES)
    {
        if *k != "MemoryGB" {
            assert!(vm.iter().any(|v| v == k), "the collector lacks VM {k}");
        }
    }
    for k in powercli::HOST_PROPERTIES {
        assert!(host.iter().any(|v| v == k), "the collector lacks host {k}");
    }
    for k in powercli::CLUSTER_PROPERTIES {
        assert!(
            cluster.iter().any(|v| v == k),
            "the collector lacks cluster {k}"
        );
    }
    for k in powercli::COMBINED_KEYS {
        assert!(document.iter().any(|v| v == k), "the document lacks {k}");
    }
    // The example is what the collector writes: the same keys.
    let example = gen_vsphere::powercli();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    assert_eq!(keys(&example["VMs"][0]), sorted(vm));
    assert_eq!(keys(&example["VMHosts"][0]), sorted(host));
    assert_eq!(keys(&example["Clusters"][0]), sorted(cluster));
    assert_eq!(keys(&example), sorted(document));
}

fn has(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A `govc` that answers from the example's parts, as govc would: `find` lists inventory
/// paths, `vm.info`/`host.info` print their JSON (one document per call), `ls -i` a cluster's
/// reference and `object.collect` its configuration. Every call is logged.
fn write_govc_stub(dir: &Path) {
    let ex = gen_vsphere::govc();
    let vms: Vec<serde_json::Value> = ex["vm_info"]["virtualMachines"].as_array().unwrap().clone();
    let hosts = &ex["host_info"];
    let clusters = ex["clusters"].as_array().unwrap();
    // vm.info answers each batch with the VMs it was asked for.
    for v in &vms {
        let name = v["name"].as_str().unwrap();
        std::fs::write(
            dir.join(format!("vm-{name}.json")),
            serde_json::to_string(v).unwrap(),
        )
        .unwrap();
    }
    std::fs::write(dir.join("hosts.json"), hosts.to_string()).unwrap();
    let mut script = String::from(
        "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/calls\"\nd=$(dirname \"$0\")\ncase \"$1\" in\n",
    );
    script += "find)\n  case \"$4\" in\n";
    script += &format!(
        "  m) printf '%s\\n' {} ;;\n",
        vms.iter()
            .map(|v| format!("'/DC1/vm/Prod VMs/{}'", v["name"].as_str().unwrap()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    script += "  h) printf '/DC1/host/Prod/esx01\\n' ;;\n";
    script += &format!(
        "  c) printf '%s\\n' {} ;;\n  esac ;;\n",
        clusters
            .iter()
            .map(|c| format!("'/DC1/host/{}'", c["name"].as_str().unwrap()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    script += "vm.info)\n  shift 2\n  printf '{\"virtualMachines\": ['\n  sep=''\n  for p in \"$@\"; do printf '%s' \"$sep\"; cat \"$d/vm-${p##*/}.json\"; sep=','; done\n  printf ']}\\n' ;;\n";
    script += "host.info) cat \"$d/hosts.json\" ;;\n";
    script += "ls)\n  case \"$3\" in\n";
    for c in clusters {
        let name = c["name"].as_str().unwrap();
        script += &format!("  */{name}) echo '{}' ;;\n", c["ref"].as_str().unwrap());
        std::fs::write(
            dir.join(format!("cluster-{name}.json")),
            c["config"].to_string(),
        )
        .unwrap();
    }
    script += "  esac ;;\n";
    // The networks' names: one update per line, as govc writes them.
    script += "object.collect)\n  if [ \"$3\" = -type ]; then\n";
    script += "    echo '{\"obj\":{\"type\":\"Network\",\"value\":\"network-11\"},\"changeSet\":[{\"name\":\"name\",\"op\":\"assign\",\"val\":\"VM Network\"}]}'\n";
    script += "    echo '{\"obj\":{\"type\":\"DistributedVirtualPortgroup\",\"value\":\"dvportgroup-31\"},\"changeSet\":[{\"name\":\"name\",\"op\":\"assign\",\"val\":\"Prod-DVS-PG\"}]}'\n";
    script += "  else cat \"$d/cluster-${3##*/}.json\"; fi ;;\n";
    script += "*) echo \"unexpected govc $*\" >&2; exit 1 ;;\nesac\n";
    let stub = dir.join("govc");
    std::fs::write(&stub, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn the_govc_collector_writes_what_the_reader_reads() {
    if !has("sh") || !has("sed") {
        eprintln!("skipped: no POSIX shell");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    write_govc_stub(&bin);
    let out = dir.path().join("inventory.json");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Command::new("sh")
        .arg(root().join("examples/collect/govc.sh"))
        .arg(&out)
        .env("PATH", path)
        .output()
        .expect("the collector runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let calls = std::fs::read_to_string(bin.join("calls")).unwrap();
    assert!(calls.contains("find / -type m"), "{calls}");
    assert!(
        calls.contains("vm.info -json /DC1/vm/Prod VMs/sql-a"),
        "{calls}"
    );
    assert!(calls.contains("object.collect -json /DC1/host/Prod configurationEx"));
    assert!(
        calls.contains("object.collect -json -type n -type g / name"),
        "{calls}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        doc["networks"][1]["changeSet"][0]["val"], "Prod-DVS-PG",
        "the updates are joined into one list"
    );
    let bytes = std::fs::read(&out).unwrap();
    let parsed = inventory::parse("inventory.json", &bytes, None)
        .unwrap_or_else(|d| panic!("{}\n{}", messages(&d.0), String::from_utf8_lossy(&bytes)));
    assert_eq!(parsed.format, Format::Govc);
    assert!(parsed.inventory.collected_at.is_some());
    // What the collector wrote reads as the example it was made from.
    let direct = inventory::parse("x.json", gen_vsphere::govc().to_string().as_bytes(), None)
        .unwrap()
        .inventory;
    assert_eq!(parsed.inventory.vms, direct.vms);
    assert_eq!(parsed.inventory.hosts, direct.hosts);
    assert_eq!(vm_of(&parsed.inventory, "sql-a").ha, Some(true));
    assert_eq!(vm_of(&parsed.inventory, "pinned-01").ha, Some(false));
}

/// Every prefix of every fixture and example, read as detected and as each vSphere format: a
/// result or located diagnostics, never a panic.
#[test]
fn cut_exports_never_panic() {
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(root().join("tests/fixtures/vsphere"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    inputs.extend(gen_vsphere::example_files().into_iter().map(|f| f.1));
    for bytes in &inputs {
        let step = (bytes.len() / 97).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            for forced in [None, Some(Format::Powercli), Some(Format::Govc)] {
                let _ = inventory::parse("cut", &bytes[..cut], forced);
            }
        }
    }
}

/// `Get-VM | Select-Object ... | Export-Csv -UseCulture` from a de-DE Windows PowerShell 5.1:
/// a `#TYPE` line naming PowerCLI's type, `;` between fields, a decimal comma, enum names.
#[test]
fn a_get_vm_export_csv_with_type_line_and_semicolons_is_read() {
    let text = "#TYPE Selected.VMware.VimAutomation.ViCore.Impl.V1.Inventory.VirtualMachineImpl\r\n\
                \"Name\";\"PowerState\";\"NumCpu\";\"MemoryGB\";\"VMHost\";\"DrsAutomationLevel\"\r\n\
                \"web-01\";\"PoweredOn\";\"2\";\"1,5\";\"esx01.lab.local\";\"AsSpecifiedByCluster\"\r\n\
                \"web-02\";\"Suspended\";\"2\";\"4\";\"esx02.lab.local\";\"Disabled\"\r\n";
    let p = inventory::parse("vms.csv", text.as_bytes(), None)
        .unwrap_or_else(|d| panic!("{}", messages(&d.0)));
    assert_eq!(p.format, Format::Powercli);
    let web = vm_of(&p.inventory, "web-01");
    assert_eq!(
        (web.state, web.memory_mb, web.host.as_str()),
        (VmState::Running, Some(1536), "esx01.lab.local")
    );
    assert_eq!(vm_of(&p.inventory, "web-02").state, VmState::Saved);
    // A VMHost cut to a type name in a CSV is located at its line and column too.
    let cut = text.replace(
        "\"esx01.lab.local\"",
        "\"VMware.VimAutomation.ViCore.Impl.V1.Inventory.VMHostImpl\"",
    );
    let e = inventory::parse("vms.csv", cut.as_bytes(), None).unwrap_err();
    assert!(messages(&e.0).contains("type name"), "{}", messages(&e.0));
    assert_eq!(e.0[0].line_col(), Some((3, 32)));
}

/// `Get-VM | ConvertTo-Json` without Select-Object: within -Depth, VMHost is the host object
/// itself, whose `Name` is the host.
#[test]
fn a_vmhost_object_within_depth_gives_its_name() {
    let text = r#"{"Name":"db-01","PowerState":1,"NumCpu":4,"MemoryMB":16384,
  "VMHost":{"Name":"esx21.lab.local","ConnectionState":0,"Parent":"VMware.VimAutomation.ViCore.Impl.V1.Inventory.ClusterImpl"}}"#;
    let p = inventory::parse("x.json", text.as_bytes(), None).unwrap();
    assert_eq!(p.format, Format::Powercli);
    assert_eq!(p.inventory.vms[0].host, "esx21.lab.local");
    assert_eq!(p.inventory.vms[0].state, VmState::Running);
}

/// A VM listed twice, in one file or in two files read together, is an error at its second
/// listing: counting it twice would make capacity depend on it.
#[test]
fn a_vm_listed_twice_is_an_error() {
    let text = r#"[{"Name":"a","Id":"VirtualMachine-vm-1","PowerState":"PoweredOn","NumCpu":1,"MemoryMB":1024,"VMHost":"esx01"},
 {"Name":"a","Id":"VirtualMachine-vm-1","PowerState":"PoweredOn","NumCpu":1,"MemoryMB":1024,"VMHost":"esx02"}]"#;
    let e = inventory::parse("x.json", text.as_bytes(), None).unwrap_err();
    assert!(
        messages(&e.0).contains("two VMs share the id `VirtualMachine-vm-1`"),
        "{}",
        messages(&e.0)
    );
    assert_eq!(e.0[0].line_col(), Some((2, 2)));
    let (path, bytes) = fixture("ps7-get-vm.json");
    let text = inventory::decode(&path, &bytes).unwrap();
    let files = [
        SourceFile::new("a.json", text.clone()),
        SourceFile::new("b.json", text),
    ];
    let e = powercli::parse_files(&files).unwrap_err();
    assert!(messages(&e.0).contains("b.json: two VMs share the id"));
    let vm = r#"{"self":{"type":"VirtualMachine","value":"vm-1"},"name":"a","runtime":{"powerState":"poweredOff","host":{"type":"HostSystem","value":"host-1"}}}"#;
    let govc = format!(r#"{{"virtualMachines":[{vm},{vm}]}}"#);
    let e = inventory::parse("g.json", govc.as_bytes(), None).unwrap_err();
    assert!(
        messages(&e.0).contains("VM `vm-1` is listed twice"),
        "{}",
        messages(&e.0)
    );
}

/// The three Windows PowerShell 5.1 files (UTF-16, numbers) are recognised and read together
/// by the CLI, and fail closed: numbered DRS levels and host states decide nothing.
#[test]
fn cli_fails_closed_on_the_windows_powershell_5_1_files() {
    let dir = "tests/fixtures/vsphere";
    let (vm, host, cluster) = (
        format!("{dir}/ps51-get-vm.json"),
        format!("{dir}/ps51-get-vmhost.json"),
        format!("{dir}/ps51-get-cluster.json"),
    );
    let (code, out, errs) = run(&[
        "audit",
        "--inventory",
        &vm,
        "--inventory",
        &host,
        "--inventory",
        &cluster,
        "--host",
        "esx21.lab.local",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{errs}");
    let report = json(&out);
    let got = findings(&report);
    assert!(
        got.iter()
            .any(|f| f.0 == "non-ha-running" && f.1.as_deref() == Some("db-01")),
        "{got:?}"
    );
    let formats: Vec<&str> = report["inputs"]["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["powercli"; 3]);
}

/// `Get-VMHost`'s `Parent` is a folder for a standalone host: taken for a cluster, standalone
/// hosts would absorb each other's VMs. Only `Cluster` names one.
#[test]
fn a_hosts_parent_is_not_its_cluster() {
    let text = r#"[{"Name":"esx51","ConnectionState":"Connected","MemoryTotalMB":65536,"NumCpu":16,"Parent":{"Name":"host"}},
 {"Name":"esx52","ConnectionState":"Connected","MemoryTotalMB":65536,"NumCpu":16,"Parent":"host"}]"#;
    let p = inventory::parse("h.json", text.as_bytes(), None).unwrap();
    assert!(
        p.inventory.hosts.iter().all(|h| h.cluster.is_none()),
        "{:?}",
        p.inventory.hosts
    );
}

/// An export older than the fact properties still gives what it can: the cluster's `EvcMode`
/// and the `DrsRules` text; a fact cut to a type name is unknown with a warning, never a path.
#[test]
fn older_powercli_exports_give_cpu_and_drs_facts() {
    let json = r#"[{"Name": "a", "PowerState": "PoweredOn", "VMHost": "h", "NumCpu": 2,
        "EvcMode": "", "DrsRules": "VMAntiAffinity: sep; VMAffinity: pair; Weird",
        "Disks": "System.Object[]"},
       {"Name": "b", "PowerState": "PoweredOn", "VMHost": "h", "NumCpu": 2,
        "EvcMode": "intel-icelake"}]"#;
    let p = inventory::parse("vms.json", json.as_bytes(), None).unwrap();
    assert_eq!(p.format, Format::Powercli);
    let a = vm_of(&p.inventory, "a").facts.as_deref().unwrap();
    assert_eq!(a.cpu_compat, Some(false));
    assert_eq!(a.anti_affinity, vec!["sep"]);
    assert_eq!(a.affinity, vec!["pair"]);
    assert_eq!(a.disks, None);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("Disks") && w.message.contains("unknown")),
        "{}",
        messages(&p.warnings)
    );
    let b = vm_of(&p.inventory, "b").facts.as_deref().unwrap();
    assert_eq!(b.cpu_compat, Some(true));
}

/// govc's clusters carry the DRS rules (`configurationEx.rule`, `group`): the VM-VM
/// anti-affinity rule and the VM-Host must rule give the groups and allowed hosts PowerCLI's
/// collector gives; a rule of a type preflight does not read is warned about.
#[test]
fn govc_drs_rules_become_constraints() {
    let bytes = std::fs::read(root().join("examples/vsphere-govc.json")).unwrap();
    let g = inventory::parse("vsphere-govc.json", &bytes, None).unwrap();
    assert!(g.warnings.is_empty(), "{}", messages(&g.warnings));
    let bytes = std::fs::read(root().join("examples/vsphere-powercli.json")).unwrap();
    let p = inventory::parse("vsphere-powercli.json", &bytes, None).unwrap();
    let groups = |inv: &Inventory, name: &str| {
        let f = vm_of(inv, name)
            .facts
            .as_deref()
            .cloned()
            .unwrap_or_default();
        (f.anti_affinity, f.affinity, f.allowed_hosts)
    };
    for name in ["sql-a", "sql-b", "app-new", "app-01"] {
        assert_eq!(
            groups(&g.inventory, name),
            groups(&p.inventory, name),
            "{name}"
        );
    }
    assert_eq!(groups(&g.inventory, "sql-b").0, vec!["Separate SQL nodes"]);
    assert_eq!(groups(&g.inventory, "app-new").2, vec!["esx12"]);
    // A rule without its type, or a must-not-run-on rule: warned, not read.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&bytes_of("examples/vsphere-govc.json")).unwrap();
    let rules = doc["clusters"][0]["config"][0]["val"]["rule"]
        .as_array_mut()
        .unwrap();
    rules.push(serde_json::json!({"name": "untyped", "vm": []}));
    rules.push(serde_json::json!({"_typeName": "ClusterVmHostRuleInfo", "name": "away", "enabled": true, "mandatory": true, "vmGroupName": "x", "antiAffineHostGroupName": "y"}));
    let text = serde_json::to_string(&doc).unwrap();
    let w = inventory::parse("g.json", text.as_bytes(), None).unwrap();
    let m = messages(&w.warnings);
    assert!(m.contains("`untyped`") && m.contains("`away`"), "{m}");
    // A host group naming a host host.info does not list is warned about at the cluster.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&bytes_of("examples/vsphere-govc.json")).unwrap();
    let legacy = doc["clusters"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == "Legacy")
        .unwrap();
    legacy["config"][0]["val"]["group"][1]["host"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"type": "HostSystem", "value": "host-99"}));
    let text = serde_json::to_string(&doc).unwrap();
    let w = inventory::parse("g.json", text.as_bytes(), None).unwrap();
    assert_eq!(w.warnings.len(), 1, "{}", messages(&w.warnings));
    assert!(
        w.warnings[0].message.contains("host-99") && w.warnings[0].line_col().is_some(),
        "{}",
        messages(&w.warnings)
    );
}

fn bytes_of(path: &str) -> Vec<u8> {
    std::fs::read(root().join(path)).unwrap()
}

/// govc's `config.hardware.device` gives the VM's disks (with their size, shared when more
/// than one exported host mounts the datastore), its connected media (an ISO of a datastore,
/// a host's drive), passed-through USB and PCI devices and the networks of its adapters (a
/// distributed port group by the name `networks` gives it, else by its key, as the hosts list
/// it); the snapshot tree gives the checkpoints.
#[test]
fn govc_devices_become_facts() {
    let p = ok("govc-devices.json");
    assert!(p.warnings.is_empty(), "{}", messages(&p.warnings));
    let inv = &p.inventory;
    let facts = |name: &str| vm_of(inv, name).facts.as_deref().cloned().unwrap();
    let web = facts("web-01");
    let disks = web.disks.as_ref().unwrap();
    assert_eq!(disks.len(), 1);
    assert_eq!(disks[0].path, "[ds-shared] web-01/web-01.vmdk");
    assert_eq!(disks[0].shared, Some(true), "both hosts mount ds-shared");
    assert_eq!(disks[0].size_mb, Some(40 * 1024));
    let media = web.media.as_ref().unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].path, "[esx01-local] iso/tools.iso");
    assert_eq!(
        media[0].shared,
        Some(false),
        "only esx01 mounts esx01-local"
    );
    assert_eq!(web.local_storage(), Some(true));
    assert_eq!(web.networks, Some(vec!["VM Network".into()]));
    assert_eq!(web.passthrough, Some(vec![]));
    assert_eq!(web.checkpoints, Some(2), "a snapshot and its child");
    let db = facts("db-01");
    assert_eq!(db.disks.as_ref().unwrap()[0].shared, Some(false));
    assert_eq!(db.media, Some(vec![]), "its CD drive is not connected");
    assert_eq!(
        db.passthrough,
        Some(vec![
            "usb:path:1/0/2 version:2".into(),
            "pci:0000:65:00.0".into()
        ])
    );
    assert_eq!(db.networks, Some(vec!["Prod-DVS-PG".into()]));
    assert_eq!(db.checkpoints, Some(0));
    let app = facts("app-01");
    let media = app.media.as_ref().unwrap();
    assert_eq!(
        (media[0].path.as_str(), media[0].shared),
        ("host:/vmfs/devices/cdrom/mpx.vmhba0:C0:T0:L0", Some(false))
    );
    assert_eq!(app.networks, Some(vec!["dvportgroup-32".into()]));
    let host = |name: &str| inv.hosts.iter().find(|h| h.name == name).unwrap();
    assert_eq!(
        host("esx01").facts.networks,
        Some(vec!["Prod-DVS-PG".into(), "VM Network".into()])
    );
    assert_eq!(
        host("esx02").facts.networks,
        Some(vec![
            "Prod-DVS-PG".into(),
            "VM Network".into(),
            "dvportgroup-32".into()
        ])
    );
}

/// Without host.info the datastores' mounts are unknown, and so is whether a disk is shared;
/// without the devices (a summary-only export) every device fact is unknown.
#[test]
fn govc_device_facts_stay_unknown_without_what_decides_them() {
    let (_, bytes) = fixture("govc-devices.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    doc.as_object_mut().unwrap().remove("host_info");
    let p = inventory::parse("x.json", doc.to_string().as_bytes(), None).unwrap();
    let web = vm_of(&p.inventory, "web-01")
        .facts
        .as_deref()
        .cloned()
        .unwrap();
    assert_eq!(web.disks.as_ref().unwrap()[0].shared, None);
    assert_eq!(web.local_storage(), None);
    let p = ok("govc-vm-info-go-names.json");
    assert!(p.inventory.facts_carried().is_empty());
}

/// govc before vim25 JSON writes devices without their type: they are not guessed at, and
/// one warning says so; a disk whose file name is a type name is warned about at its VM.
#[test]
fn govc_devices_it_cannot_read_are_unknown_with_a_warning() {
    let (_, bytes) = fixture("govc-devices.json");
    let text = String::from_utf8(bytes).unwrap();
    let untyped = text.replace("\"_typeName\": \"VirtualDisk\",", "");
    let p = inventory::parse("x.json", untyped.as_bytes(), None).unwrap();
    let w = messages(&p.warnings);
    assert!(w.contains("the devices of 3 VM(s) carry no type"), "{w}");
    assert_eq!(p.warnings.len(), 1, "{w}");
    assert!(
        p.inventory
            .vms
            .iter()
            .all(|v| v.facts.as_ref().is_none_or(|f| f.disks.is_none()))
    );
    let cut = text.replace(
        "[esx01-local] db-01/db-01.vmdk",
        "VMware.Vim.VirtualDiskFlatVer2BackingInfo",
    );
    let p = inventory::parse("x.json", cut.as_bytes(), None).unwrap();
    let w = &p.warnings;
    assert_eq!(w.len(), 1, "{}", messages(w));
    assert!(w[0].message.contains("VM db-01") && w[0].message.contains("type name"));
    assert!(w[0].line_col().is_some(), "located at the VM");
    assert!(
        vm_of(&p.inventory, "db-01")
            .facts
            .as_ref()
            .is_none_or(|f| f.disks.is_none())
    );
}

/// A DRS rule with an empty name is told apart by its key (never pooled with other nameless
/// rules), and an empty or unreadable `DrsRules` entry of PowerCLI is warned about at it.
#[test]
fn nameless_drs_rules_are_located_warnings() {
    let bytes = std::fs::read(root().join("examples/vsphere-govc.json")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut renamed = 0;
    for c in doc["clusters"].as_array_mut().unwrap() {
        let config = c["config"].to_string();
        if config.contains("ClusterAntiAffinityRuleSpec") {
            let mut cfg: serde_json::Value = c["config"].clone();
            fn blank(v: &mut serde_json::Value, n: &mut i32) {
                match v {
                    serde_json::Value::Object(o) => {
                        if o.get("_typeName").and_then(|t| t.as_str())
                            == Some("ClusterAntiAffinityRuleSpec")
                        {
                            o.insert("name".into(), "".into());
                            o.insert("key".into(), 7.into());
                            *n += 1;
                        }
                        o.values_mut().for_each(|x| blank(x, n));
                    }
                    serde_json::Value::Array(a) => a.iter_mut().for_each(|x| blank(x, n)),
                    _ => {}
                }
            }
            blank(&mut cfg, &mut renamed);
            c["config"] = cfg;
        }
    }
    assert!(renamed > 0, "the example has an anti-affinity rule");
    let p = inventory::parse("g.json", doc.to_string().as_bytes(), None).unwrap();
    let w = messages(&p.warnings);
    assert!(w.contains("has an empty name"), "{w}");
    assert!(
        p.warnings
            .iter()
            .filter(|w| w.message.contains("empty name"))
            .all(|w| w.line_col().is_some())
    );
    let groups: Vec<&str> = p
        .inventory
        .vms
        .iter()
        .filter_map(|v| v.facts.as_deref())
        .flat_map(|f| f.anti_affinity.iter().map(|g| g.as_str()))
        .collect();
    assert!(
        !groups.is_empty() && groups.iter().all(|g| *g == "DRS rule 7"),
        "{groups:?}"
    );

    let json = r#"[{"Name": "a", "PowerState": "PoweredOn", "VMHost": "h", "NumCpu": 2,
        "DrsRules": "VMAntiAffinity: ; VMAffinity: pair"}]"#;
    let p = inventory::parse("vms.json", json.as_bytes(), None).unwrap();
    let a = vm_of(&p.inventory, "a").facts.as_deref().unwrap();
    assert!(a.anti_affinity.is_empty());
    assert_eq!(a.affinity, vec!["pair"]);
    assert_eq!(p.warnings.len(), 1, "{}", messages(&p.warnings));
    assert!(p.warnings[0].message.contains("empty name"));
    assert_eq!(p.warnings[0].line_col().map(|(l, _)| l), Some(2));
}
