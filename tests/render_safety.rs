//! Proof that names from an inventory stay data in every rendered script.
//!
//! PowerShell: every script is parsed with tree-sitter-powershell; it must parse without
//! ERROR or MISSING nodes, hold no double-quoted or here-strings at all, decode each hostile
//! name back from a single-quoted literal, and have the same token skeleton as the same plan
//! with plain names (so no name changed the code's shape). Bash: every script is run under bash
//! with stub `pvesh`, `ha-manager`, `qm` and `pct` (or a stub `govc` holding a tiny vCenter)
//! that log their argv; the test asserts the exact argv, byte for byte, and that none of the
//! commands hidden in names ran.

mod support;

use preflight::plan::{Gb, Plan, Step, StepAction, StepDoc, StepPhase};
use preflight::render::{Options, Phases, Target, render};
use proptest::prelude::*;
use support::govc::{VsVm, expected_govc, mutations, run_with_govc, run_with_govc_ds};
use support::{Guest, StubRun, expected_calls, run_with_stubs};

const HOSTILE: &str = include_str!("fixtures/plans/hostile-names.json");

/// The hostile plan, every other move of it a move with storage (one of unknown size), so the
/// storage lines of every target meet hostile names too.
fn hostile() -> Plan {
    let mut p: Plan = serde_json::from_str(HOSTILE).unwrap();
    let mut n = 0u64;
    for s in &mut p.steps {
        if s.action() == StepAction::Migrate {
            n += 1;
            if n % 2 == 1 {
                edit(s, |d| {
                    d.with_storage = true;
                    d.storage_gb = (n != 3).then(|| Gb::from_mib(n * 10_000));
                });
            }
        }
    }
    p
}

fn render_ok(plan: &Plan, target: Target) -> String {
    render(
        plan,
        &Options {
            target,
            phases: Phases::All,
            plan_sha256: "0123",
        },
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
}

/// A step in its document form (flat, every field optional).
fn doc(step: &Step) -> StepDoc {
    StepDoc::from(step.clone())
}

/// Changes a step through its document form (which must stay a valid step).
fn edit(step: &mut Step, f: impl FnOnce(&mut StepDoc)) {
    let mut d = doc(step);
    f(&mut d);
    *step = Step::try_from(d).unwrap();
}

/// Every string of the plan the renderer writes.
fn names_of(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan.request.hosts.clone();
    for s in &plan.steps {
        let d = doc(s);
        out.push(d.id.clone());
        for v in [d.vm, d.vm_id, d.host, d.from, d.to, d.note]
            .into_iter()
            .flatten()
        {
            out.push(v);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The same plan with every written string replaced by a plain one (the same string by the
/// same replacement, so equal names stay equal).
fn plain(plan: &Plan) -> Plan {
    let names = names_of(plan);
    let map = |s: &String| format!("n{}", names.binary_search(s).unwrap());
    let mut p = plan.clone();
    p.request.hosts = p.request.hosts.iter().map(map).collect();
    for s in &mut p.steps {
        edit(s, |d| {
            d.id = map(&d.id);
            for v in [
                &mut d.vm,
                &mut d.vm_id,
                &mut d.host,
                &mut d.from,
                &mut d.to,
                &mut d.note,
            ] {
                *v = v.as_ref().map(map);
            }
        });
    }
    p
}

/// The characters PowerShell's tokenizer takes for a single quote (its `IsSingleQuote`): kept
/// apart from the renderer's own list on purpose, so a slip there cannot hide here.
const PS_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// The value PowerShell reads from a verbatim string token. tree-sitter's grammar knows only
/// the ASCII quote, so the typographic ones are checked here: inside the literal, every quote
/// character must be followed by another (an escape, of which the second counts); a lone one
/// is where PowerShell would end the string.
fn decode_verbatim(token: &str) -> String {
    let is_quote = |c: char| PS_QUOTES.contains(&c);
    let inner: Vec<char> = token.chars().collect();
    let inner = &inner[1..inner.len() - 1];
    let mut out = String::new();
    let mut i = 0;
    while i < inner.len() {
        if is_quote(inner[i]) {
            let next = inner.get(i + 1).copied();
            assert!(
                next.is_some_and(is_quote),
                "PowerShell ends {token:?} at the lone quote {:?}",
                inner[i]
            );
            out.push(inner[i + 1]);
            i += 2;
        } else {
            out.push(inner[i]);
            i += 1;
        }
    }
    out
}

struct PsScan {
    literals: Vec<String>,
    skeleton: Vec<String>,
}

/// Parses a PowerShell script, fails on any ERROR or MISSING node or any expandable string,
/// and returns its decoded literals and token skeleton (strings and comments as placeholders).
fn scan_ps(src: &str) -> PsScan {
    // The BOM makes Windows PowerShell 5.1 read the file as UTF-8 (see `ansi_reading`).
    let src = src
        .strip_prefix('\u{FEFF}')
        .expect("a PowerShell script starts with a UTF-8 BOM");
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .unwrap();
    let tree = parser.parse(src, None).unwrap();
    let mut scan = PsScan {
        literals: Vec::new(),
        skeleton: Vec::new(),
    };
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        let text = node.utf8_text(src.as_bytes()).unwrap();
        assert!(
            !node.is_error() && !node.is_missing(),
            "{} at {:?}: {text:?}",
            node.kind(),
            node.start_position()
        );
        match node.kind() {
            "verbatim_string_characters" => {
                scan.literals.push(decode_verbatim(text));
                scan.skeleton.push("'…'".into());
                continue;
            }
            "comment" => {
                assert!(!text.contains(['\n', '\r']));
                scan.skeleton.push("#…".into());
                continue;
            }
            kind @ ("expandable_string_literal"
            | "expandable_here_string_literal"
            | "verbatim_here_string_characters") => {
                panic!("a {kind} in the script: {text:?}")
            }
            _ => {}
        }
        if node.child_count() == 0 {
            scan.skeleton.push(text.to_string());
        }
        let mut cursor = node.walk();
        let children: Vec<_> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    scan
}

/// The strings that must reach the script as code literals: everything a step acts on.
/// (Hosts in the header, maintenance steps and notes of other steps are comments.)
fn acted_on(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for s in plan
        .steps
        .iter()
        .filter(|s| s.phase != StepPhase::Maintenance)
    {
        let d = doc(s);
        out.push(d.id.clone());
        for v in [d.vm, d.vm_id, d.host, d.from, d.to].into_iter().flatten() {
            out.push(v);
        }
        if s.action() == StepAction::Notify {
            out.extend(s.note.clone());
        }
    }
    out
}

fn assert_ps_safe(plan: &Plan, target: Target) {
    let script = render_ok(plan, target);
    let scan = scan_ps(&script);
    for name in acted_on(plan) {
        assert!(
            scan.literals.contains(&name),
            "{name:?} is not a literal of the {target} script"
        );
    }
    let baseline = scan_ps(&render_ok(&plain(plan), target));
    assert_eq!(
        scan.skeleton, baseline.skeleton,
        "names changed the shape of the {target} script"
    );
}

/// The hostile plan as a Hyper-V plan whose ids are hostile too.
fn hostile_windows() -> Plan {
    hostile_windows_on("hyperv")
}

fn hostile_windows_on(platform: &str) -> Plan {
    let mut p = hostile();
    p.request.platform = platform.into();
    for s in &mut p.steps {
        edit(s, |d| {
            if let Some(vm) = &d.vm {
                d.vm_id = Some(format!("{vm}'id"));
            }
        });
    }
    p
}

#[test]
fn powershell_scripts_keep_hostile_names_literal() {
    for target in [Target::ScvmmPs, Target::HypervPs] {
        assert_ps_safe(&hostile_windows(), target);
    }
    assert_ps_safe(&hostile_windows_on("vsphere"), Target::PowerCli);
}

#[test]
fn the_powershell_check_notices_a_name_that_escapes() {
    // The checks above would catch a quoting slip: a name pasted raw changes the skeleton.
    let script = render_ok(&hostile_windows(), Target::HypervPs);
    let broken = script.replacen("'x''; touch pwned-2; '''", "'x'; touch pwned-2; ''", 1);
    assert_ne!(broken, script);
    let a = std::panic::catch_unwind(|| scan_ps(&broken).skeleton);
    let b = scan_ps(&script).skeleton;
    assert!(a.map_or(true, |a| a != b));
}

#[test]
fn ansi_reading_is_why_the_bom_is_there() {
    // Read as Windows-1252 (what 5.1 does without a BOM), U+2011 becomes bytes ending in 0x91,
    // a left single quote to PowerShell: the doubled-quote defence alone would not hold.
    let utf8 = "x\u{2011}".as_bytes();
    assert_eq!(utf8.last(), Some(&0x91));
    let script = render_ok(&hostile_windows(), Target::ScvmmPs);
    assert!(script.starts_with('\u{FEFF}'));
    let pve = render_ok(&hostile(), Target::ProxmoxSh);
    assert!(pve.starts_with("#!/usr/bin/env bash\n"));
}

fn guests(plan: &Plan, lxc: &[&str]) -> Vec<Guest> {
    plan.baseline
        .iter()
        .map(|b| Guest {
            vmid: b.id.clone().unwrap(),
            node: b.host.clone(),
            lxc: lxc.contains(&b.id.as_deref().unwrap()),
            state: "running".into(),
        })
        .collect()
}

fn assert_bash_safe(plan: &Plan, world: &[Guest]) -> StubRun {
    let script = render_ok(plan, Target::ProxmoxSh);
    let run = run_with_stubs(&script, world, "continue\n");
    assert!(
        run.status_ok,
        "script failed: {}\n{}",
        run.stderr, run.stdout
    );
    assert_eq!(run.calls, expected_calls(plan, world));
    assert_eq!(
        run.stray_files,
        Vec::<String>::new(),
        "an injected command ran"
    );
    for s in &plan.steps {
        if let Some(vm) = s.vm_name() {
            assert!(
                run.stdout.contains(&format!("({vm})")),
                "{vm:?} not in stdout"
            );
        }
    }
    run
}

#[test]
fn bash_scripts_pass_hostile_names_byte_for_byte() {
    let plan = hostile();
    let run = assert_bash_safe(&plan, &guests(&plan, &["104"]));
    // The moves with storage (and only they) asked Proxmox to copy the local disks.
    let copies = run
        .calls
        .iter()
        .filter(|c| c.contains(&"--with-local-disks".to_string()))
        .count();
    // (That they go with exactly the moves with storage is in the exact calls above.)
    assert!(copies > 0);
    assert!(run.stdout.contains("; it moves with its storage, "));
    // The lxc guest moved with a restart migration; nothing called qm or pct.
    assert!(
        run.calls
            .iter()
            .any(|c| c.last().map(String::as_str) == Some("1")
                && c.contains(&"--restart".to_string()))
    );
}

#[test]
fn the_fixture_plan_runs_in_order() {
    let plan: Plan =
        serde_json::from_str(include_str!("fixtures/plans/proxmox-maintenance.json")).unwrap();
    let run = assert_bash_safe(&plan, &guests(&plan, &["110"]));
    let first: Vec<&str> = run.calls[0].iter().map(String::as_str).collect();
    assert_eq!(
        first,
        [
            "pvesh",
            "get",
            "/nodes/pve1/qemu/101/status/current",
            "--output-format",
            "json"
        ]
    );
}

#[test]
fn a_guard_stops_the_run_when_a_guest_is_elsewhere() {
    let plan: Plan =
        serde_json::from_str(include_str!("fixtures/plans/proxmox-maintenance.json")).unwrap();
    let mut world = guests(&plan, &["110"]);
    world[2].node = "pve9".into(); // dns01 (110) moved away since the plan was made
    let script = render_ok(&plan, Target::ProxmoxSh);
    let run = run_with_stubs(&script, &world, "continue\n");
    assert!(!run.status_ok);
    assert!(
        run.stderr
            .contains("step pre-migrate-110: guest 110 (dns01) is not on pve1"),
        "{}",
        run.stderr
    );
    // sql01 moved; nothing after the failed guard ran (no maintenance was entered).
    assert!(run.calls.iter().all(|c| c[0] != "ha-manager"));
}

/// Names with every kind of trouble: arbitrary text (control characters included, NUL not)
/// spliced with quote, substitution and comment tokens of both languages.
fn nasty() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[^\\x00]{1,6}",
        Just("'".to_string()),
        Just("\u{2019}".to_string()),
        Just("\u{201B}'".to_string()),
        Just("$(touch pwned-p)".to_string()),
        Just("`touch pwned-q`".to_string()),
        Just("\"".to_string()),
        Just("\n# ".to_string()),
        Just("@'\n".to_string()),
        Just("\r\n'@".to_string()),
    ];
    proptest::collection::vec(piece, 1..6)
        .prop_map(|v| v.concat())
        .prop_filter("a name is not blank", |s| !s.trim().is_empty())
}

fn tiny_plan(vm: &str, other: &str, platform: &str, vm_id: &str, storage: Option<u64>) -> Plan {
    let text = include_str!("fixtures/plans/proxmox-maintenance.json");
    let mut p: Plan = serde_json::from_str(text).unwrap();
    p.request.platform = platform.into();
    p.steps
        .retain(|s| s.vm().and_then(|v| v.id.as_deref()) != Some("110"));
    p.baseline.retain(|b| b.id.as_deref() == Some("101"));
    for s in &mut p.steps {
        edit(s, |d| {
            if d.vm.is_some() {
                d.vm = Some(vm.to_string());
                d.vm_id = Some(vm_id.to_string());
                d.id = format!("{}-{vm}", d.id);
            }
            if d.action == StepAction::Migrate {
                d.with_storage = storage.is_some();
                d.storage_gb = storage.filter(|mib| *mib > 0).map(Gb::from_mib);
            }
            for h in [&mut d.from, &mut d.to] {
                if h.as_deref() == Some("pve2") {
                    *h = Some(other.to_string());
                }
            }
        });
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_name_stays_a_literal(
        vm in nasty(),
        other in nasty(),
        storage in prop::option::of(0u64..2_000_000),
    ) {
        let windows = tiny_plan(&vm, &other, "hyperv", &vm, storage);
        assert_ps_safe(&windows, Target::ScvmmPs);
        assert_ps_safe(&windows, Target::HypervPs);
        prop_assume!(!other.contains('/') && !other.starts_with('-') && other != "pve1");
        let pve = tiny_plan(&vm, &other, "proxmox", "101", storage);
        let world = guests(&pve, &[]);
        assert_bash_safe(&pve, &world);
    }
}

/// The hostile plan with its move-backs made moves of VMs the drain put somewhere unknown.
fn hostile_drained(mut p: Plan) -> Plan {
    for s in &mut p.steps {
        if s.phase == StepPhase::Post && s.action() == StepAction::Migrate {
            edit(s, |d| {
                d.from = None;
                d.from_drain = true;
            });
        }
    }
    p
}

#[test]
fn drained_move_backs_keep_hostile_names_literal() {
    let windows = hostile_drained(hostile_windows());
    for target in [Target::ScvmmPs, Target::HypervPs] {
        assert_ps_safe(&windows, target);
        assert!(render_ok(&windows, target).contains("\nMove-PlanVMBack -Step "));
    }
    let vsphere = hostile_drained(hostile_windows_on("vsphere"));
    assert_ps_safe(&vsphere, Target::PowerCli);
    assert!(render_ok(&vsphere, Target::PowerCli).contains("\nMove-PlanVMBack -Step "));
    // govc: each VM is looked up wherever the drain (the stub's DRS) put it.
    let plan = hostile_drained(hostile_vsphere());
    assert_govc_safe(&plan);
    // Bash: the script asks the stub cluster where each guest is (hostile node names come
    // back through JSON) and moves it from there, byte for byte.
    let plan = hostile_drained(hostile());
    let run = assert_bash_safe(&plan, &guests(&plan, &["104"]));
    assert!(
        run.calls
            .iter()
            .any(|c| c.len() > 2 && c[..3] == ["pvesh", "get", "/cluster/resources"])
    );
}

/// The hostile plan as a vSphere plan for govc. Host names keep their quotes and `$(...)` but
/// lose the line break (govc lists hosts a line each; such a name is refused, see below).
/// VMs are known by instance UUID, or every other one by its name alone (the harder lookup:
/// an escaped `-name` pattern, then the name checked again).
fn hostile_vsphere() -> Plan {
    let mut p = hostile();
    p.request.platform = "vsphere".into();
    let flat = |h: &String| h.replace('\n', " ");
    p.request.hosts = p.request.hosts.iter().map(flat).collect();
    for b in &mut p.baseline {
        b.host = flat(&b.host);
    }
    for s in &mut p.steps {
        edit(s, |d| {
            for h in [&mut d.host, &mut d.from, &mut d.to] {
                *h = h.as_ref().map(flat);
            }
            d.vm_id = d.vm_id.as_deref().and_then(vsphere_id);
        });
    }
    p
}

/// The instance UUID the stub world gives the VM of Proxmox-style id `id`, or none (the VM is
/// then known by name) for even ids and for 111, `web[0-9]?*`, whose name is all pattern.
fn vsphere_id(id: &str) -> Option<String> {
    let n: u32 = id.parse().ok()?;
    (n % 2 == 1 && n != 111).then(|| format!("5001c0de-0000-4000-8000-{n:012}"))
}

/// The stub vCenter of a plan: its hosts in first-seen order, its VMs where the baseline says,
/// all powered on.
fn vsphere_world(plan: &Plan) -> (Vec<String>, Vec<VsVm>) {
    let mut hosts: Vec<String> = Vec::new();
    for s in &plan.steps {
        for h in [s.host(), s.from_host(), s.to()].into_iter().flatten() {
            if !hosts.iter().any(|x| x == h) {
                hosts.push(h.to_string());
            }
        }
    }
    let vms = plan
        .baseline
        .iter()
        .map(|b| VsVm {
            name: b.name.to_string(),
            uuid: b.id.as_deref().and_then(vsphere_id),
            host: b.host.to_string(),
            state: "poweredOn".into(),
        })
        .collect();
    (hosts, vms)
}

fn assert_govc_safe(plan: &Plan) -> StubRun {
    let script = render_ok(plan, Target::Govc);
    let (hosts, vms) = vsphere_world(plan);
    let host_refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let answers = "continue\n".repeat(plan.request.hosts.len());
    let run = run_with_govc(&script, &host_refs, &vms, &answers);
    assert!(
        run.run.status_ok,
        "script failed: {}\n{}",
        run.run.stderr, run.run.stdout
    );
    let (calls, after) = expected_govc(plan, &hosts, &vms);
    assert_eq!(mutations(&run.run.calls), calls);
    assert_eq!(run.vms, after);
    assert_eq!(
        run.run.stray_files,
        Vec::<String>::new(),
        "an injected command ran"
    );
    run.run
}

#[test]
fn govc_scripts_pass_hostile_names_byte_for_byte() {
    let plan = hostile_vsphere();
    let run = assert_govc_safe(&plan);
    // The moves with storage went to the datastore the operator named (the calls are exact).
    assert!(
        mutations(&run.calls)
            .iter()
            .any(|c| c.iter().any(|a| a.starts_with("-ds=")))
    );
    // The VMs known by name were searched with an escaped pattern (`-` escaped too, so that
    // the pattern never reads as an option).
    let finds: Vec<&Vec<String>> = run.calls.iter().filter(|c| c[1] == "find").collect();
    for pattern in [
        "\\-Force",
        "${IFS}x; rm \\-rf ~ | cat & echo # not a comment",
        "web\\[0\\-9\\]\\?\\*",
    ] {
        assert!(
            finds.iter().any(|c| c[c.len() - 2..] == ["-name", pattern]),
            "{pattern:?} not in {finds:?}"
        );
    }
}

#[test]
fn govc_refuses_what_its_lookups_cannot_find() {
    // A host name with a line break (govc lists hosts a line each) and an id that is neither a
    // UUID nor a vm-N reference (it would go into a `govc find` filter).
    let mut plan = hostile();
    plan.request.platform = "vsphere".into();
    let problems = render(
        &plan,
        &Options {
            target: Target::Govc,
            phases: Phases::All,
            plan_sha256: "0",
        },
    )
    .unwrap_err();
    assert!(problems.iter().any(|p| p.message.contains("line break")));
    assert!(problems.iter().any(|p| p.message.contains("vm_id `101`")));
}

#[test]
fn a_govc_guard_stops_the_run_when_a_vm_is_elsewhere() {
    let plan = hostile_vsphere();
    let script = render_ok(&plan, Target::Govc);
    let (hosts, mut vms) = vsphere_world(&plan);
    vms[1].host = hosts[1].clone(); // ‘smart’ ‚low‛ quotes moved since the plan was made
    let host_refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let run = run_with_govc(&script, &host_refs, &vms, "continue\n");
    assert!(!run.run.status_ok);
    assert!(
        run.run
            .stderr
            .contains("‘smart’ ‚low‛ quotes is on pve2\";`id`, not on pve 1'$(touch pwned-h1)"),
        "{}",
        run.run.stderr
    );
    // The first VM moved; nothing after the failed guard ran.
    assert_eq!(mutations(&run.run.calls).len(), 1);
}

#[test]
fn a_govc_script_that_moves_storage_does_not_start_without_a_datastore() {
    let plan = hostile_vsphere();
    assert!(plan.steps.iter().any(Step::with_storage));
    let script = render_ok(&plan, Target::Govc);
    let (hosts, vms) = vsphere_world(&plan);
    let host_refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let run = run_with_govc_ds(&script, &host_refs, &vms, "continue\n", None);
    assert!(!run.run.status_ok);
    assert!(
        run.run.stderr.contains("set DESTINATION_DATASTORE"),
        "{}",
        run.run.stderr
    );
    assert_eq!(run.run.calls, Vec::<Vec<String>>::new(), "nothing ran");
    // A datastore the vCenter does not have stops the first move with storage, before it moves.
    let run = run_with_govc_ds(&script, &host_refs, &vms, "continue\n", Some("nope"));
    assert!(!run.run.status_ok);
    assert!(
        run.run
            .stderr
            .contains("datastore nope matches 0 vCenter datastores")
    );
    assert!(
        mutations(&run.run.calls)
            .iter()
            .all(|c| !c.iter().any(|a| a.starts_with("-ds="))),
    );
}
