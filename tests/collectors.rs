//! The collector scripts in examples/collect: the PowerShell ones must parse (tree-sitter's
//! PowerShell grammar, no ERROR or MISSING node), and the Proxmox one must run against a stub
//! `pvesh` and write an inventory that preflight reads as the native format.

use preflight::inventory::{self, Format};
use preflight::model::{HostState, Platform, VmState};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every ERROR or MISSING node, as `line:column kind`.
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

#[test]
fn powershell_collectors_parse() {
    for name in ["scvmm.ps1", "hyperv-cluster.ps1"] {
        let path = root().join("examples/collect").join(name);
        let source = std::fs::read_to_string(&path).expect("collector exists");
        assert_eq!(syntax_problems(&source), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn the_syntax_check_catches_broken_powershell() {
    assert!(!syntax_problems("foreach ($x in $y) { Write-Host $x").is_empty());
    assert!(!syntax_problems("$h = @{ a = 1; b = ").is_empty());
}

#[test]
fn proxmox_collector_is_valid_bash() {
    let status = Command::new("bash")
        .arg("-n")
        .arg(root().join("examples/collect/proxmox.sh"))
        .status()
        .expect("bash runs");
    assert!(status.success());
}

fn has(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn proxmox_collector_writes_a_native_inventory() {
    if !has("jq") {
        eprintln!("skipped: jq is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = root().join("tests/fixtures/inventory/proxmox-cluster-full.json");
    write_stub(dir.path(), &fixture);
    let out = dir.path().join("inventory.json");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Command::new("bash")
        .arg(root().join("examples/collect/proxmox.sh"))
        .arg(&out)
        .env("PATH", path)
        .output()
        .expect("script runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let bytes = std::fs::read(&out).expect("output written");
    let parsed = inventory::parse("inventory.json", &bytes, None)
        .unwrap_or_else(|d| panic!("{:?}", d.0.iter().map(|d| &d.message).collect::<Vec<_>>()));
    assert_eq!(parsed.format, Format::Native);
    let inv = parsed.inventory;
    assert_eq!(inv.platform, Some(Platform::Proxmox));
    assert!(inv.collected_at.is_some());
    // The collector and the export reader agree on the same data.
    let direct = inventory::parse("r.json", &std::fs::read(&fixture).unwrap(), None)
        .unwrap()
        .inventory;
    assert_eq!(inv.vms.len(), direct.vms.len());
    for (a, b) in inv.vms.iter().zip(&direct.vms) {
        assert_eq!(
            (
                &a.name,
                &a.id,
                &a.host,
                a.ha,
                a.memory_mb,
                a.vcpus,
                a.template
            ),
            (
                &b.name,
                &b.id,
                &b.host,
                b.ha,
                b.memory_mb,
                b.vcpus,
                b.template
            )
        );
        assert_eq!(a.state, b.state, "{}", a.name);
    }
    assert_eq!(inv.vms[0].state, VmState::Running);
    let states: Vec<HostState> = inv.hosts.iter().map(|h| h.state).collect();
    assert_eq!(
        states,
        [HostState::Up, HostState::Maintenance, HostState::Down]
    );
    assert_eq!(inv.hosts[0].memory_mb, direct.hosts[0].memory_mb);
}

/// A `pvesh` that prints the fixture whatever it is asked.
fn write_stub(dir: &Path, fixture: &Path) {
    let stub = dir.join("pvesh");
    std::fs::write(&stub, format!("#!/bin/sh\ncat '{}'\n", fixture.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
