//! The example inventories show what they were designed to show: for each one, `preflight audit`
//! exits as expected and reports exactly the rules its story plants; the plan it writes moves
//! each VM only where the VM's constraints hold; the plan renders for the platform's target; and
//! `restore` reads the plan back against the inventory after maintenance.
//!
//! The README's walkthrough shows real output: each console block marked with
//! `<!-- checked: tests/examples.rs -->` must equal what the binary prints now.
//! `UPDATE_README=1 cargo test --test examples` rewrites those blocks from the binary.

mod common;

use common::{NOW, preflight};
use preflight::inventory;
use preflight::model::Inventory;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One audit of one example, and what it must show.
struct Example {
    inventory: &'static [&'static str],
    hosts: &'static [&'static str],
    mode: &'static str,
    exit: i32,
    /// The rule ids of the findings that are neither a gap of the export nor undetermined.
    rules: &'static [&'static str],
    /// Whether the export carries every fact its rules need (no gap, nothing undetermined).
    complete: bool,
    target: &'static str,
    /// The inventory after maintenance for `restore`, and the exit it gives.
    after: &'static [&'static str],
    restore_exit: i32,
}

const EXAMPLES: &[Example] = &[
    // The SQL availability group on a 3-node failover cluster (the README's walkthrough).
    Example {
        inventory: &["examples/sql-ag.json"],
        hosts: &["HV01"],
        mode: "patch",
        exit: 1,
        rules: &[
            "anti-affinity",
            "capacity",
            "local-device",
            "local-media",
            "non-ha-running",
        ],
        complete: true,
        target: "hyperv-ps",
        after: &["examples/sql-ag-after.json"],
        restore_exit: 0,
    },
    // Two nodes at once: APP01 may run on HV01 and HV02 only.
    Example {
        inventory: &["examples/sql-ag.json"],
        hosts: &["HV01", "HV02"],
        mode: "patch",
        exit: 1,
        rules: &[
            "allowed-hosts",
            "anti-affinity",
            "capacity",
            "cpu",
            "local-device",
            "local-media",
            "network",
            "non-ha-running",
        ],
        complete: true,
        target: "hyperv-ps",
        after: &["examples/sql-ag.json"],
        restore_exit: 0,
    },
    // Hyper-V's own `Get-VM` export with the facts' properties, and the nodes.
    Example {
        inventory: &[
            "examples/hyperv-facts.json",
            "examples/hyperv-facts-hosts.json",
        ],
        hosts: &["HV11"],
        mode: "patch",
        exit: 1,
        rules: &[
            "allowed-hosts",
            "anti-affinity",
            "capacity",
            "local-device",
            "local-media",
        ],
        complete: true,
        target: "hyperv-ps",
        after: &[
            "examples/hyperv-facts.json",
            "examples/hyperv-facts-hosts.json",
        ],
        restore_exit: 0,
    },
    // SCVMM, as examples/collect/scvmm.ps1 writes it.
    Example {
        inventory: &["examples/scvmm-facts.json"],
        hosts: &["hvm01"],
        mode: "patch",
        exit: 1,
        rules: &[
            "anti-affinity",
            "capacity",
            "cpu",
            "local-device",
            "local-media",
            "network",
        ],
        complete: true,
        target: "scvmm-ps",
        after: &["examples/scvmm-facts.json"],
        restore_exit: 0,
    },
    Example {
        inventory: &["examples/scvmm-facts.json"],
        hosts: &["hvm01"],
        mode: "decommission",
        exit: 1,
        rules: &[
            "anti-affinity",
            "capacity",
            "cpu",
            "local-device",
            "local-media",
            "network",
            "stranded-vm",
        ],
        complete: true,
        target: "scvmm-ps",
        after: &["examples/scvmm-facts.json"],
        restore_exit: 0,
    },
    // Proxmox VE, the combined document examples/collect/proxmox.sh writes.
    Example {
        inventory: &["examples/proxmox-facts.json"],
        hosts: &["pve1"],
        mode: "patch",
        exit: 1,
        rules: &[
            "allowed-hosts",
            "anti-affinity",
            "capacity",
            "cpu",
            "local-device",
            "local-media",
            "network",
        ],
        complete: true,
        target: "proxmox-sh",
        after: &["examples/proxmox-facts.json"],
        restore_exit: 0,
    },
    Example {
        inventory: &["examples/proxmox-facts.json"],
        hosts: &["pve1"],
        mode: "decommission",
        exit: 1,
        rules: &[
            "allowed-hosts",
            "anti-affinity",
            "capacity",
            "cpu",
            "local-device",
            "local-media",
            "network",
            "stranded-vm",
        ],
        complete: true,
        target: "proxmox-sh",
        after: &["examples/proxmox-facts.json"],
        restore_exit: 0,
    },
    // The examples that came before the facts: their exports lack some (one gap each).
    Example {
        inventory: &["examples/hyperv-cluster.json"],
        hosts: &["HV01"],
        mode: "patch",
        exit: 1,
        rules: &["non-ha-running"],
        complete: false,
        target: "hyperv-ps",
        after: &["examples/hyperv-cluster-after.json"],
        restore_exit: 0,
    },
    Example {
        inventory: &["examples/vsphere-rvtools.xlsx"],
        hosts: &["esx01"],
        mode: "patch",
        exit: 1,
        rules: &["anti-affinity", "capacity", "local-media"],
        complete: false,
        target: "powercli",
        after: &["examples/vsphere-rvtools.xlsx"],
        restore_exit: 0,
    },
    Example {
        inventory: &["examples/vsphere-powercli.json"],
        hosts: &["esx01"],
        mode: "decommission",
        exit: 1,
        rules: &["anti-affinity", "capacity", "stranded-ha-vm"],
        complete: false,
        target: "powercli",
        after: &["examples/vsphere-powercli.json"],
        restore_exit: 0,
    },
    Example {
        inventory: &["examples/vsphere-govc.json"],
        hosts: &["esx01"],
        mode: "patch",
        exit: 1,
        rules: &["anti-affinity", "capacity"],
        complete: false,
        target: "govc",
        after: &["examples/vsphere-govc.json"],
        restore_exit: 0,
    },
];

/// `(rule, kind)` of each finding: `fires`, `gap` (the export lacks the fact everywhere) or
/// `undetermined` (this VM lacks it).
fn classified(report: &Value) -> Vec<(String, &'static str)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let kind = if f["evidence"].get("gap").is_some() {
                "gap"
            } else if f["evidence"].get("undetermined").is_some() {
                "undetermined"
            } else {
                "fires"
            };
            (f["rule"].as_str().unwrap_or_default().to_string(), kind)
        })
        .collect()
}

fn parsed(paths: &[&str]) -> Vec<Inventory> {
    paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(root().join(p)).expect("the example exists");
            inventory::parse(p, &bytes, None)
                .unwrap_or_else(|d| {
                    panic!(
                        "{p}: {:?}",
                        d.0.iter().map(|d| &d.message).collect::<Vec<_>>()
                    )
                })
                .inventory
        })
        .collect()
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The plan moves each VM only where its constraints hold (CONTRACT 7.4): never onto a drained
/// host, only onto an allowed host, a host offering its networks, with its CPU model unless it
/// may change models, and never next to a member of one of its anti-affinity groups (after every
/// move of the plan). What breaks a constraint, and how many VMs the plan moves.
fn check_plan(label: &str, ex: &Example, plan: &Value) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let invs = parsed(ex.inventory);
    let vms: Vec<_> = invs.iter().flat_map(|i| i.vms.iter()).collect();
    let hosts: Vec<_> = invs.iter().flat_map(|i| i.hosts.iter()).collect();
    // A host listed in several files: the listing that carries its facts.
    let host = |name: &str| {
        let known = |h: &&&preflight::model::Host| {
            u8::from(h.facts.networks.is_some()) + u8::from(h.facts.cpu.is_some())
        };
        hosts
            .iter()
            .filter(|h| eq(&h.name, name))
            .max_by_key(known)
            .unwrap_or_else(|| {
                panic!("{label}: the plan names host {name}, which is not in the inventory")
            })
    };
    let mut placement: BTreeMap<String, String> = vms
        .iter()
        .map(|v| (v.name.to_string(), v.host.to_string()))
        .collect();
    let moves: Vec<(String, String)> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["action"] == "migrate" && s["phase"] == "pre")
        .map(|s| {
            (
                s["vm"].as_str().expect("a move names its VM").to_string(),
                s["to"].as_str().expect("a move names its host").to_string(),
            )
        })
        .collect();
    for (vm, to) in &moves {
        placement.insert(vm.clone(), to.clone());
    }
    for (name, to) in &moves {
        let vm = vms
            .iter()
            .find(|v| v.name == name.as_str())
            .unwrap_or_else(|| {
                panic!("{label}: the plan moves {name}, which is not in the inventory")
            });
        if ex.hosts.iter().any(|h| eq(h, to)) {
            problems.push(format!("{label}: {name} is moved onto drained host {to}"));
        }
        let dest = host(to);
        let from = host(&vm.host);
        let Some(facts) = vm.facts.as_deref() else {
            continue;
        };
        if !(facts.allowed_hosts.is_empty() || facts.allowed_hosts.iter().any(|h| eq(h, to))) {
            problems.push(format!(
                "{label}: {name} is moved to {to}, not one of {:?}",
                facts.allowed_hosts
            ));
        }
        if let (Some(nets), Some(offered)) = (&facts.networks, &dest.facts.networks) {
            for n in nets {
                if !offered.contains(n) {
                    problems.push(format!(
                        "{label}: {name} needs network {n}, which {to} does not offer"
                    ));
                }
            }
        }
        if facts.cpu_compat == Some(false) && dest.facts.cpu != from.facts.cpu {
            problems.push(format!(
                "{label}: {name} cannot change CPU model but is moved to {to}"
            ));
        }
        for group in &facts.anti_affinity {
            let together: Vec<&str> = vms
                .iter()
                .filter(|o| o.name != vm.name)
                .filter(|o| o.state.is_active())
                .filter(|o| {
                    o.facts
                        .as_deref()
                        .is_some_and(|f| f.anti_affinity.contains(group))
                })
                .filter(|o| eq(&placement[o.name.as_str()], to))
                .map(|o| o.name.as_str())
                .collect();
            if !together.is_empty() {
                problems.push(format!(
                    "{label}: {name} is moved to {to}, next to {together:?} of its group {group}"
                ));
            }
        }
    }
    (problems, moves.len())
}

fn run_in(dir: &Path, args: &[String]) -> (i32, String, String) {
    let out = preflight()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn with_inventories(args: &mut Vec<String>, paths: &[&str]) {
    for p in paths {
        args.push("--inventory".into());
        args.push(root().join(p).display().to_string());
    }
}

#[test]
fn every_example_shows_what_it_was_made_to_show() {
    let mut planned_moves = 0;
    for (n, ex) in EXAMPLES.iter().enumerate() {
        let label = format!(
            "#{n} {} --host {} --mode {}",
            ex.inventory.join(" "),
            ex.hosts.join(" --host "),
            ex.mode
        );
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut args: Vec<String> = vec!["audit".into()];
        with_inventories(&mut args, ex.inventory);
        for h in ex.hosts {
            args.extend(["--host".into(), h.to_string()]);
        }
        args.extend(
            [
                "--mode",
                ex.mode,
                "--now",
                NOW,
                "--format",
                "json",
                "--plan",
                "plan.json",
            ]
            .map(String::from),
        );
        let (code, stdout, stderr) = run_in(dir.path(), &args);
        assert_eq!(code, ex.exit, "{label}: {stderr}");
        let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
        let found = classified(&report);
        let fired: BTreeSet<&str> = found
            .iter()
            .filter(|(_, k)| *k == "fires")
            .map(|(r, _)| r.as_str())
            .collect();
        let want: BTreeSet<&str> = ex.rules.iter().copied().collect();
        assert_eq!(fired, want, "{label}: the rules that fire");
        if ex.complete {
            let partial: Vec<_> = found.iter().filter(|(_, k)| *k != "fires").collect();
            assert!(
                partial.is_empty(),
                "{label}: the example carries every fact, yet: {partial:?}"
            );
        }

        let plan_text = std::fs::read_to_string(dir.path().join("plan.json")).expect("a plan");
        let plan: Value = serde_json::from_str(&plan_text).expect("the plan is JSON");
        let (problems, moves) = check_plan(&label, ex, &plan);
        assert_eq!(problems, Vec::<String>::new());
        planned_moves += moves;

        let (code, script, stderr) = run_in(
            dir.path(),
            &["render", "plan.json", "--target", ex.target].map(String::from),
        );
        assert_eq!(code, 0, "{label}: render --target {}: {stderr}", ex.target);
        for step in plan["steps"].as_array().expect("steps") {
            if let Some(vm) = step["vm"].as_str() {
                assert!(
                    script.contains(vm),
                    "{label}: the {} script does not name {vm}",
                    ex.target
                );
            }
        }

        let mut args: Vec<String> = ["restore", "--plan", "plan.json"]
            .map(String::from)
            .to_vec();
        with_inventories(&mut args, ex.after);
        args.extend(["--now", NOW, "--format", "json"].map(String::from));
        let (code, stdout, stderr) = run_in(dir.path(), &args);
        assert_eq!(code, ex.restore_exit, "{label}: restore: {stderr}");
        let restored: Value = serde_json::from_str(&stdout).expect("a JSON restore report");
        assert_eq!(restored["request"]["command"], "restore", "{label}");
    }
    assert!(planned_moves > 0, "no example's plan moves a VM");
}

/// The plan for the walkthrough's drain moves APP01 where its possible owners allow and DC01
/// away from the other domain controller, as the README tells; a plan that did otherwise is
/// caught.
#[test]
fn the_sql_ag_plan_honours_the_constraints_and_a_broken_one_is_caught() {
    let ex = &EXAMPLES[0];
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut args: Vec<String> = vec!["audit".into()];
    with_inventories(&mut args, ex.inventory);
    args.extend(["--host", "HV01", "--now", NOW, "--plan", "plan.json"].map(String::from));
    let (code, _, stderr) = run_in(dir.path(), &args);
    assert_eq!(code, 1, "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("plan.json")).expect("a plan");
    let plan: Value = serde_json::from_str(&text).expect("JSON");
    let moves: Vec<(&str, &str, &str)> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["action"] == "migrate")
        .map(|s| {
            (
                s["phase"].as_str().unwrap_or_default(),
                s["vm"].as_str().unwrap_or_default(),
                s["to"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("pre", "APP01", "HV02"),
            ("pre", "DC01", "HV03"),
            ("post", "APP01", "HV01"),
            ("post", "DC01", "HV01"),
        ]
    );
    assert_eq!(check_plan("sql-ag", ex, &plan).0, Vec::<String>::new());
    // The same plan with other destinations breaks each constraint the walkthrough names.
    let broken = |vm: &str, to: &str| {
        let mut p = plan.clone();
        for s in p["steps"].as_array_mut().expect("steps") {
            if s["phase"] == "pre" && s["vm"] == vm {
                s["to"] = Value::from(to);
            }
        }
        check_plan("broken", ex, &p).0
    };
    let dc = broken("DC01", "HV02");
    assert!(
        dc.len() == 1 && dc[0].contains("group domain-controllers"),
        "{dc:?}"
    );
    let app = broken("APP01", "HV03");
    assert!(app.len() == 1 && app[0].contains("not one of"), "{app:?}");
    let home = broken("APP01", "HV01");
    assert!(
        home.len() == 1 && home[0].contains("drained host"),
        "{home:?}"
    );
}

/// Between them, the examples show every baseline rule about what ties a VM to its host on at
/// least two platforms (SCVMM has no allowed hosts: Hyper-V and Proxmox show that one).
#[test]
fn the_examples_cover_every_constraint_rule_on_two_platforms() {
    let platform = |path: &str| match path {
        p if p.contains("scvmm") => "scvmm",
        p if p.contains("proxmox") => "proxmox",
        p if p.contains("vsphere") => "vsphere",
        _ => "hyperv",
    };
    let mut shown: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for ex in EXAMPLES {
        for r in ex.rules {
            shown
                .entry(r)
                .or_default()
                .insert(platform(ex.inventory[0]));
        }
    }
    for rule in [
        "stranded-vm",
        "local-media",
        "local-device",
        "anti-affinity",
        "allowed-hosts",
        "network",
        "cpu",
    ] {
        let on = shown.get(rule).cloned().unwrap_or_default();
        assert!(on.len() >= 2, "{rule} is shown on {on:?} only");
    }
}

// --- the README's walkthrough -------------------------------------------------------------

const MARK: &str = "<!-- checked: tests/examples.rs -->";

/// The console blocks the README marks as checked: (byte range of the block's body, body).
fn checked_blocks(readme: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = readme[from..].find(MARK) {
        let after = from + at + MARK.len();
        let fence = readme[after..]
            .find("```console\n")
            .map(|i| after + i)
            .expect("a ```console block follows the mark");
        assert!(
            readme[after..fence].trim().is_empty(),
            "the mark at byte {} is not right before a console block",
            from + at
        );
        let start = fence + "```console\n".len();
        let end = start + readme[start..].find("\n```").expect("the block ends") + 1;
        out.push((start..end, readme[start..end].to_string()));
        from = end;
    }
    out
}

/// What the binary prints for a block's command: `$ preflight ARGS` and its output, then
/// `$ echo $?` and the exit code when it is not 0.
fn replay(dir: &Path, body: &str) -> String {
    let first = body.lines().next().unwrap_or_default();
    let command = first
        .strip_prefix("$ preflight ")
        .unwrap_or_else(|| panic!("a checked block starts with `$ preflight`: {first}"));
    let args: Vec<String> = command.split_whitespace().map(String::from).collect();
    let (code, stdout, stderr) = run_in(dir, &args);
    assert!(
        stderr.is_empty() || code != 0,
        "`preflight {command}` wrote to stderr: {stderr}"
    );
    let mut out = format!("$ preflight {command}\n{stdout}");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if code != 0 {
        out.push_str(&format!("$ echo $?\n{code}\n"));
    }
    out
}

#[test]
fn the_readme_walkthrough_shows_what_the_binary_prints() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("the README");
    let blocks = checked_blocks(&readme);
    assert!(blocks.len() >= 3, "the walkthrough's blocks are marked");
    // The commands run one after the other in one folder, as an admin would run them, with the
    // examples where the README says they are.
    let dir = tempfile::tempdir().expect("a temp dir");
    #[cfg(unix)]
    std::os::unix::fs::symlink(root().join("examples"), dir.path().join("examples"))
        .expect("a link to the examples");
    #[cfg(not(unix))]
    return;
    let update = std::env::var_os("UPDATE_README").is_some();
    let mut updated = readme.clone();
    let mut stale = Vec::new();
    let now: Vec<String> = blocks
        .iter()
        .map(|(_, body)| replay(dir.path(), body))
        .collect();
    for ((range, body), now) in blocks.iter().zip(&now).rev() {
        if now != body {
            stale.push(format!("--- README\n{body}--- the binary\n{now}"));
            updated.replace_range(range.clone(), now);
        }
    }
    if update {
        if updated != readme {
            std::fs::write(&path, updated).expect("the README is writable");
        }
        return;
    }
    assert!(
        stale.is_empty(),
        "the README's walkthrough no longer shows what the binary prints \
         (UPDATE_README=1 cargo test --test examples rewrites it):\n{}",
        stale.join("\n")
    );
}

#[test]
fn a_changed_output_is_found_and_a_replay_is_exact() {
    let readme =
        "x\n<!-- checked: tests/examples.rs -->\n```console\n$ preflight --version\nold\n```\n";
    let blocks = checked_blocks(readme);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].1, "$ preflight --version\nold\n");
    let dir = tempfile::tempdir().expect("a temp dir");
    let now = replay(dir.path(), &blocks[0].1);
    assert_ne!(now, blocks[0].1);
    assert!(
        now.starts_with("$ preflight --version\npreflight "),
        "{now}"
    );
}
