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
        .arg("--native")
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
        // A status the collector cannot map is passed through, as the reader keeps it.
        assert_eq!(
            a.evidence.get("raw_state"),
            b.evidence.get("raw_state"),
            "{}",
            a.name
        );
    }
    let odd = inv.vms.iter().find(|v| v.name == "odd01").expect("odd01");
    assert_eq!(odd.state, VmState::Unknown);
    assert_eq!(
        odd.evidence.get("raw_state").map(String::as_str),
        Some("status=hibernating")
    );
    assert_eq!(inv.vms[0].state, VmState::Running);
    let states: Vec<HostState> = inv.hosts.iter().map(|h| h.state).collect();
    assert_eq!(
        states,
        [HostState::Up, HostState::Maintenance, HostState::Down]
    );
    assert_eq!(inv.hosts[0].memory_mb, direct.hosts[0].memory_mb);
}

/// The collector's default output is the combined document: from a `pvesh` that answers each
/// endpoint with its part of `proxmox-combined.json` (and fails on those the fixture lacks, as
/// PVE 8 has no /cluster/ha/rules), it writes a document that reads as that fixture does.
#[test]
fn proxmox_collector_writes_the_combined_document() {
    if !has("jq") {
        eprintln!("skipped: jq is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = root().join("tests/fixtures/inventory/proxmox-combined.json");
    let f = fixture.display();
    let stub = format!(
        r#"#!/bin/sh
# pvesh get PATH --output-format json
part() {{ jq -e "$1" '{f}' || exit 2; }}
case "$2" in
/cluster/resources) part .resources ;;
/cluster/status) echo '[{{"type":"cluster","name":"lab"}}]' ;;
/storage) part .storage ;;
/cluster/ha/rules) part .ha_rules ;;
/cluster/ha/groups) part .ha_groups ;;
/cluster/ha/resources) part .ha_resources ;;
/nodes/*/qemu/*/config | /nodes/*/lxc/*/config)
    id=$(echo "$2" | cut -d/ -f5)
    part ".configs[\"$id\"]" ;;
/nodes/*/network) node=$(echo "$2" | cut -d/ -f3); part ".node_networks[\"$node\"]" ;;
/nodes/*/status) node=$(echo "$2" | cut -d/ -f3); part ".node_status[\"$node\"]" ;;
*) echo "no such path $2" >&2; exit 2 ;;
esac
"#
    );
    let path_stub = dir.path().join("pvesh");
    std::fs::write(&path_stub, stub).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path_stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
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
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    // The guest without a config is named, not silently dropped.
    assert!(stderr.contains("no config for qemu 104"), "{stderr}");
    let bytes = std::fs::read(&out).expect("output written");
    let parsed = inventory::parse("inventory.json", &bytes, None)
        .unwrap_or_else(|d| panic!("{:?}", d.0.iter().map(|d| &d.message).collect::<Vec<_>>()));
    assert_eq!(parsed.format, Format::Proxmox);
    let direct = inventory::parse("c.json", &std::fs::read(&fixture).unwrap(), None)
        .unwrap()
        .inventory;
    let inv = parsed.inventory;
    assert_eq!(inv.hosts[0].cluster.as_deref(), Some("lab"));
    assert!(inv.collected_at.is_some());
    assert_eq!(inv.vms.len(), direct.vms.len());
    for (a, b) in inv.vms.iter().zip(&direct.vms) {
        assert_eq!(a.facts, b.facts, "{}", a.name);
    }
    assert!(inv.vms[0].facts.as_ref().is_some_and(|f| f.disks.is_some()));
    for (a, b) in inv.hosts.iter().zip(&direct.hosts) {
        assert_eq!(a.facts, b.facts, "{}", a.name);
    }
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

fn collector(name: &str) -> String {
    std::fs::read_to_string(root().join("examples/collect").join(name)).expect("collector exists")
}

/// The comment-based help block (`<# ... #>` before `param`), as Get-Help reads it.
fn help_block(source: &str) -> &str {
    let start = source.find("<#").expect("a comment-based help block");
    let end = source.find("#>").expect("the help block ends");
    &source[start..end]
}

/// Get-Help shows what an admin needs before the first run: what it does, each parameter,
/// examples, the rights and modules it needs, how to get past the execution policy, and the
/// preflight command to run next.
#[test]
fn powershell_collectors_have_complete_help() {
    let param = regex::Regex::new(r"\[\w+\]\s*\$(\w+)").unwrap();
    for name in ["scvmm.ps1", "hyperv-cluster.ps1"] {
        let source = collector(name);
        let help = help_block(&source);
        for keyword in [".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE", "Needs:"] {
            assert!(help.contains(keyword), "{name}: no {keyword}");
        }
        for needed in [
            "Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass",
            "Unblock-File",
            "preflight audit --inventory",
        ] {
            assert!(help.contains(needed), "{name}: help does not say {needed}");
        }
        let params_at = source.find("param(").expect("a param block");
        let params = &source[params_at..source[params_at..].find(')').unwrap() + params_at];
        let names: Vec<&str> = param
            .captures_iter(params)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        assert!(!names.is_empty(), "{name}: no parameters found");
        for p in names {
            assert!(
                help.contains(&format!(".PARAMETER {p}\n")),
                "{name}: .PARAMETER {p} missing"
            );
        }
        // Every module imported is named among the needs.
        let import = source
            .lines()
            .find(|l| l.starts_with("Import-Module"))
            .expect("imports its modules");
        for module in import["Import-Module".len()..].split(',') {
            assert!(help.contains(module.trim()), "{name}: {module} not in help");
        }
    }
}

#[test]
fn proxmox_collector_has_help() {
    let run = Command::new("bash")
        .arg(root().join("examples/collect/proxmox.sh"))
        .arg("--help")
        .output()
        .expect("script runs");
    assert!(run.status.success());
    let help = String::from_utf8_lossy(&run.stdout);
    for needed in [
        "Usage:",
        "Needs:",
        "jq",
        "root",
        "preflight audit --inventory",
    ] {
        assert!(help.contains(needed), "help does not say {needed}: {help}");
    }
}

/// What the SCVMM collector does not know it leaves out, so preflight reports it: no host
/// memory of 0 (read as "no room"), no HA flag of false for a VM whose flag is missing.
/// (pwsh is not needed: these are read from the source.)
#[test]
fn scvmm_collector_writes_unknowns_as_unknown() {
    let source = collector("scvmm.ps1");
    for line in source.lines().filter(|l| !l.trim_start().starts_with('#')) {
        for key in ["memory_mb =", "cpus =", "vcpus =", "ha ="] {
            if line.contains(&format!(" {key}")) || line.contains(&format!(".{key}")) {
                assert!(
                    line.contains("if ("),
                    "{key} written without a guard: {line}"
                );
            }
        }
    }
    // A paused cluster node is paused, not up.
    assert!(
        source.contains("\"$($h.ClusterNodeStatus)\" -eq 'Paused') { $state = 'paused' }"),
        "paused nodes are not mapped"
    );
    // A VM without a host is skipped with a warning rather than written with host null.
    let guard = source
        .find("if (-not $vm.HostName)")
        .expect("the host is guarded");
    assert!(guard < source.find("host  = $vm.HostName").expect("host written"));
    assert!(source[guard..].contains("Write-Warning"));
    // An unmapped status is passed through.
    assert!(source.contains("$entry.raw_state = \"Status=$status\""));
}

/// The keys a PowerShell collector assigns to `$<var>.<key> = …` in its source.
fn assigned_keys(source: &str, var: &str) -> std::collections::BTreeSet<String> {
    let needle = format!("${var}.");
    let mut out = std::collections::BTreeSet::new();
    for line in source.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let mut rest = line;
        while let Some(at) = rest.find(&needle) {
            rest = &rest[at + needle.len()..];
            let key: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if rest[key.len()..].trim_start().starts_with('=')
                && !rest[key.len()..].trim_start().starts_with("==")
            {
                out.insert(key);
            }
        }
    }
    out
}

/// The SCVMM and Hyper-V collectors write the migration facts under the native keys of
/// CONTRACT 7.1 (a misspelt key would be ignored and the fact silently unknown), and with a
/// -Depth that holds a disk's fields.
#[test]
fn windows_collectors_write_the_native_fact_keys() {
    let vm_keys = [
        "name",
        "id",
        "host",
        "state",
        "raw_state",
        "ha",
        "memory_mb",
        "vcpus",
        "tags",
        "disks",
        "media",
        "passthrough",
        "networks",
        "checkpoints",
        "cpu_compat",
        "anti_affinity",
        "affinity",
        "allowed_hosts",
        "attributes",
    ];
    let host_keys = ["memory_mb", "cpus", "networks", "cpu"];
    for (name, vm_var, host_var, wanted) in [
        (
            "scvmm.ps1",
            "entry",
            "entry",
            &[
                "disks",
                "media",
                "passthrough",
                "networks",
                "checkpoints",
                "cpu_compat",
                "anti_affinity",
                "attributes",
                "cpu",
            ][..],
        ),
        (
            "hyperv-cluster.ps1",
            "entry",
            "hostEntry",
            &[
                "disks",
                "media",
                "passthrough",
                "networks",
                "checkpoints",
                "cpu_compat",
                "anti_affinity",
                "allowed_hosts",
                "cpu",
            ][..],
        ),
    ] {
        let source = collector(name);
        let mut written = assigned_keys(&source, vm_var);
        written.extend(assigned_keys(&source, host_var));
        for k in &written {
            assert!(
                vm_keys.contains(&k.as_str()) || host_keys.contains(&k.as_str()),
                "{name}: `{k}` is not a native key"
            );
        }
        for k in wanted {
            assert!(written.contains(*k), "{name}: does not write {k}");
        }
        for k in assigned_keys(&source, "disk") {
            assert!(
                ["path", "size_gb", "shared"].contains(&k.as_str()),
                "{name}: disk {k}"
            );
        }
        assert!(
            source.contains("-Depth 6"),
            "{name}: -Depth too small for a disk's fields"
        );
        assert!(!source.contains("-Depth 5"), "{name}");
    }
}
