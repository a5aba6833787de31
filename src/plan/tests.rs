//! Tests of the planner: destinations, findings for VMs that fit nowhere, rolling order, ids,
//! and a property test over generated inventories.

use super::*;
use crate::engine::{Finding, InventoryIndex, Request, evaluate};
use crate::model::{Host, Inventory, Platform, Vm};
use crate::policy::{Mode, PolicySet, builtin_sources, load};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn baseline_policy() -> PolicySet {
    load(builtin_sources()).expect("the baseline loads")
}

fn host(name: &str, cluster: &str, memory_mb: u64) -> Host {
    Host {
        name: name.into(),
        cluster: Some(cluster.into()),
        state: HostState::Up,
        memory_mb: Some(memory_mb),
        cpus: Some(16),
        implied: false,
        facts: Default::default(),
    }
}

fn vm(name: &str, host: &str, state: VmState, ha: bool, memory_mb: u64) -> Vm {
    Vm {
        name: name.into(),
        id: None,
        host: host.into(),
        state,
        ha: Some(ha),
        memory_mb: Some(memory_mb),
        vcpus: Some(2),
        tags: vec![],
        template: false,
        evidence: BTreeMap::new(),
        facts: None,
    }
}

fn request(hosts: &[&str], mode: Mode, platform: Platform) -> Request {
    Request {
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        mode,
        platform,
        platform_assumed: false,
        now: "2026-11-25T17:00:00Z".parse().expect("a timestamp"),
        no_waivers: false,
    }
}

/// Audit, then plan, as `preflight audit --plan` does.
fn run(policy: &PolicySet, inv: &Inventory, req: &Request, rolling: bool) -> (Plan, Vec<Finding>) {
    let index = InventoryIndex::new(inv, &req.hosts);
    let eval = evaluate(policy, &index, req, rolling);
    let options = PlanOptions {
        rolling,
        inputs: vec![],
    };
    let built = build_plan(policy, &index, req, &eval.findings, &options);
    (built.plan, built.findings)
}

fn steps_of(plan: &Plan, phase: StepPhase, action: StepAction) -> Vec<&Step> {
    plan.steps
        .iter()
        .filter(|s| s.phase == phase && s.action() == action)
        .collect()
}

#[test]
fn a_vm_goes_to_the_host_with_room_above_the_floor_never_a_target() {
    // H2 is the roomiest but a target; H3 would drop below the 10% floor; H4 has room.
    let inv = Inventory {
        hosts: vec![
            host("H1", "C", 100_000),
            host("H2", "C", 400_000),
            host("H3", "C", 100_000),
            host("H4", "C", 100_000),
        ],
        vms: vec![
            vm("SQL", "H1", VmState::Running, false, 30_000),
            vm("FULL", "H3", VmState::Running, true, 65_000),
            vm("HALF", "H4", VmState::Running, true, 50_000),
        ],
        ..Inventory::default()
    };
    let (plan, extra) = run(
        &baseline_policy(),
        &inv,
        &request(&["H1", "H2"], Mode::Patch, Platform::Hyperv),
        false,
    );
    assert!(extra.is_empty(), "{extra:?}");
    let pre = steps_of(&plan, StepPhase::Pre, StepAction::Migrate);
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0].vm_name(), Some("SQL"));
    assert_eq!(pre[0].from_host(), Some("H1"));
    assert_eq!(pre[0].to(), Some("H4"));
    // Its disks are not described: the step claims no storage move (nor shared disks).
    assert!(!pre[0].with_storage());
    assert_eq!(pre[0].because, ["non-ha-running"]);
    assert_eq!(pre[0].expect_state(), Some(VmState::Running));
}

#[test]
fn a_vm_with_local_disks_moves_with_its_storage_both_ways() {
    use crate::model::{FileRef, VmFacts};
    let mut sql = vm("SQL", "H1", VmState::Running, false, 30_000);
    sql.facts = Some(Box::new(VmFacts {
        disks: Some(vec![
            FileRef {
                path: r"C:\ClusterStorage\V1\os.vhdx".into(),
                shared: None,
                size_mb: Some(40 * 1024),
            },
            FileRef {
                path: r"D:\VMs\data.vhdx".into(),
                shared: Some(false),
                size_mb: Some(120 * 1024 + 512),
            },
        ]),
        ..VmFacts::default()
    }));
    let inv = Inventory {
        hosts: vec![host("H1", "C", 100_000), host("H2", "C", 100_000)],
        vms: vec![sql],
        ..Inventory::default()
    };
    let (plan, _) = run(
        &baseline_policy(),
        &inv,
        &request(&["H1"], Mode::Patch, Platform::Hyperv),
        false,
    );
    let moves: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.action() == StepAction::Migrate)
        .collect();
    assert_eq!(moves.len(), 2, "{:?}", plan.steps);
    for s in moves {
        assert!(s.with_storage(), "{s:?}");
        // Only the local disk is copied.
        assert_eq!(
            s.storage_gb().map(|g| g.to_string()).as_deref(),
            Some("120.5")
        );
    }
}

#[test]
fn a_vm_that_fits_nowhere_is_a_finding_not_a_step() {
    let inv = Inventory {
        hosts: vec![host("H1", "C", 100_000), host("H2", "C", 100_000)],
        vms: vec![
            vm("BIG", "H1", VmState::Running, false, 60_000),
            vm("BUSY", "H2", VmState::Running, true, 40_000),
        ],
        ..Inventory::default()
    };
    let (plan, extra) = run(
        &baseline_policy(),
        &inv,
        &request(&["H1"], Mode::Patch, Platform::Scvmm),
        false,
    );
    assert!(steps_of(&plan, StepPhase::Pre, StepAction::Migrate).is_empty());
    assert!(steps_of(&plan, StepPhase::Post, StepAction::Migrate).is_empty());
    assert_eq!(extra.len(), 1);
    let f = &extra[0];
    assert_eq!(f.rule, "non-ha-running");
    assert_eq!(f.vm.as_deref(), Some("BIG"));
    assert!(f.message.contains("nowhere"), "{}", f.message);
    assert!(f.message.contains("50000 MiB on H2"), "{}", f.message);
}

#[test]
fn waived_findings_produce_no_steps() {
    let mut policy = baseline_policy();
    let text = "[[waiver]]\nrule = \"non-ha-running\"\nvm = \"^LAB-\"\nreason = \"lab\"\nexpires = 2099-01-01\n";
    let mut sources = builtin_sources();
    sources.push(crate::diag::SourceFile::new("w.toml", text));
    policy = load(sources).unwrap_or(policy);
    assert_eq!(policy.waivers.len(), 1);
    let inv = Inventory {
        hosts: vec![host("H1", "C", 100_000), host("H2", "C", 100_000)],
        vms: vec![
            vm("LAB-1", "H1", VmState::Running, false, 1_000),
            vm("APP", "H1", VmState::Running, false, 1_000),
        ],
        ..Inventory::default()
    };
    let (plan, _) = run(
        &policy,
        &inv,
        &request(&["H1"], Mode::Patch, Platform::Scvmm),
        false,
    );
    let moved: Vec<_> = steps_of(&plan, StepPhase::Pre, StepAction::Migrate)
        .iter()
        .map(|s| s.vm_name().unwrap_or_default().to_string())
        .collect();
    assert_eq!(moved, ["APP"]);
}

#[test]
fn rolling_drains_one_host_at_a_time_and_may_use_the_first_host_for_the_second() {
    // H2's SQL VM only fits on H1, which is back up by the time H2 drains.
    let inv = Inventory {
        hosts: vec![
            host("H1", "C", 200_000),
            host("H2", "C", 100_000),
            host("H3", "C", 100_000),
        ],
        vms: vec![
            vm("A", "H1", VmState::Running, false, 10_000),
            vm("SQL", "H2", VmState::Running, false, 120_000),
            vm("H3VM", "H3", VmState::Running, true, 50_000),
        ],
        ..Inventory::default()
    };
    let policy = baseline_policy();
    let req = request(&["H1", "H2"], Mode::Patch, Platform::Scvmm);
    let (plan, extra) = run(&policy, &inv, &req, true);
    assert!(extra.is_empty(), "{extra:?}");
    assert!(plan.request.rolling);
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pre-migrate-A",
            "drain-enter-maintenance-H1",
            "maintenance-notify-H1",
            "post-exit-maintenance-H1",
            "post-migrate-A",
            "pre-migrate-SQL",
            "drain-enter-maintenance-H2",
            "maintenance-notify-H2",
            "post-exit-maintenance-H2",
            "post-migrate-SQL",
        ]
    );
    assert_eq!(plan.steps[5].to(), Some("H1"));
    // Together, neither target may receive: SQL fits nowhere.
    let (plan, extra) = run(
        &policy,
        &inv,
        &request(&["H1", "H2"], Mode::Patch, Platform::Scvmm),
        false,
    );
    assert_eq!(extra.len(), 1, "{extra:?}");
    assert_eq!(extra[0].vm.as_deref(), Some("SQL"));
    assert!(plan.steps.iter().all(|s| s.vm_name() != Some("SQL")));
    let phases: Vec<StepPhase> = plan.steps.iter().map(|s| s.phase).collect();
    assert!(phases.windows(2).all(|w| w[0] <= w[1]), "{phases:?}");
}

#[test]
fn decommission_moves_stranded_ha_vms_and_nothing_comes_back() {
    let inv = Inventory {
        hosts: vec![host("H1", "C", 100_000), host("H2", "C", 100_000)],
        vms: vec![
            vm("OFF", "H1", VmState::Off, true, 8_000),
            vm("RUN", "H1", VmState::Running, true, 8_000),
        ],
        ..Inventory::default()
    };
    let (plan, _) = run(
        &baseline_policy(),
        &inv,
        &request(&["H1"], Mode::Decommission, Platform::Scvmm),
        false,
    );
    let pre = steps_of(&plan, StepPhase::Pre, StepAction::Migrate);
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0].vm_name(), Some("OFF"));
    assert!(!pre[0].with_storage());
    assert_eq!(pre[0].because, ["stranded-ha-vm"]);
    assert!(plan.steps.iter().all(|s| s.phase != StepPhase::Post));
}

#[test]
fn move_back_covers_what_the_platform_leaves() {
    let inv = Inventory {
        hosts: vec![host("H1", "C", 100_000), host("H2", "C", 100_000)],
        vms: vec![
            vm("HA", "H1", VmState::Running, true, 8_000),
            vm("NONHA", "H1", VmState::Running, false, 8_000),
        ],
        ..Inventory::default()
    };
    let back = |p: Platform| -> Vec<String> {
        let (plan, _) = run(
            &baseline_policy(),
            &inv,
            &request(&["H1"], Mode::Patch, p),
            false,
        );
        steps_of(&plan, StepPhase::Post, StepAction::Migrate)
            .iter()
            .map(|s| s.vm_name().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(back(Platform::Scvmm), ["HA", "NONHA"]);
    assert_eq!(back(Platform::Vsphere), ["HA", "NONHA"]);
    assert_eq!(back(Platform::Proxmox), ["NONHA"]);
    assert_eq!(back(Platform::Hyperv), ["NONHA"]);
}

#[test]
fn ids_are_stable_and_unique_whatever_the_input_order() {
    let mut inv = Inventory {
        hosts: vec![host("H1", "C", 100_000), host("H2", "C", 100_000)],
        vms: vec![
            vm("B", "H1", VmState::Running, false, 1_000),
            vm("A", "H1", VmState::Running, false, 2_000),
            vm("C", "H1", VmState::Running, true, 3_000),
        ],
        ..Inventory::default()
    };
    let req = request(&["H1"], Mode::Patch, Platform::Scvmm);
    inv.canonicalize();
    let (first, _) = run(&baseline_policy(), &inv, &req, false);
    inv.vms.reverse();
    inv.canonicalize();
    let (second, _) = run(&baseline_policy(), &inv, &req, false);
    assert_eq!(first, second);
    let ids: BTreeSet<&str> = first.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), first.steps.len());
    assert!(ids.contains("pre-migrate-A"));
}

// ---- property: the plan keeps its promises on any small inventory ----

fn arb_inventory() -> impl Strategy<Value = (Inventory, Vec<usize>)> {
    let hosts = prop::collection::vec((0..2usize, 0..4u8, 8u64..64), 2..6);
    let vms = prop::collection::vec((0..6usize, 0..4u8, any::<bool>(), 1u64..24), 0..16);
    (hosts, vms, prop::collection::vec(0..6usize, 1..3)).prop_map(|(hs, vs, ts)| {
        let n = hs.len();
        let hosts: Vec<Host> = hs
            .iter()
            .enumerate()
            .map(|(i, (c, s, gib))| Host {
                state: [HostState::Up, HostState::Up, HostState::Up, HostState::Down][*s as usize],
                ..host(&format!("H{i}"), &format!("C{c}"), gib * 1024)
            })
            .collect();
        let states = [
            VmState::Running,
            VmState::Running,
            VmState::Off,
            VmState::Saved,
        ];
        let vms = vs
            .iter()
            .enumerate()
            .map(|(i, (h, s, ha, gib))| {
                vm(
                    &format!("V{i}"),
                    &format!("H{}", h % n),
                    states[*s as usize],
                    *ha,
                    gib * 1024,
                )
            })
            .collect();
        let targets: BTreeSet<usize> = ts.iter().map(|t| t % n).collect();
        (
            Inventory {
                hosts,
                vms,
                ..Inventory::default()
            },
            targets.into_iter().collect(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn the_plan_never_overfills_never_targets_and_fixes_what_it_claims(
        (inv, targets) in arb_inventory(),
        decommission in any::<bool>(),
        rolling in any::<bool>(),
        p in 0..4usize,
    ) {
        let policy = baseline_policy();
        let names: Vec<String> = targets.iter().map(|t| format!("H{t}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mode = if decommission { Mode::Decommission } else { Mode::Patch };
        let req = request(&refs, mode, Platform::ALL[p]);
        let (plan, _) = run(&policy, &inv, &req, rolling);
        let floor = floor_pct(&policy, mode);
        let ids: BTreeSet<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        prop_assert_eq!(ids.len(), plan.steps.len());
        let used = |h: &str| -> u64 {
            inv.vms.iter().filter(|v| v.host == h && v.state.is_active()).map(|v| v.memory_mb.unwrap_or(0)).sum()
        };
        // Pre moves that share the cluster at one moment: all of them, or one host's in a rolling patch.
        let mut batches: BTreeMap<String, Vec<&Step>> = BTreeMap::new();
        for s in steps_of(&plan, StepPhase::Pre, StepAction::Migrate) {
            let to = s.to().unwrap_or_default().to_string();
            // A rolling patch drains one host at a time and the others are up meanwhile, so
            // only the host being drained is out; otherwise no target ever receives.
            let draining_now = if rolling && !decommission {
                s.from_host() == Some(to.as_str())
            } else {
                names.contains(&to)
            };
            prop_assert!(!draining_now, "moved onto a target: {:?}", s);
            let dest = inv.host(&to).expect("destination exists");
            let from = inv.host(s.from_host().unwrap_or_default()).expect("origin exists");
            prop_assert_eq!(dest.state, HostState::Up);
            prop_assert_eq!(&dest.cluster, &from.cluster);
            let key = if rolling && !decommission { from.name.to_string() } else { String::new() };
            batches.entry(key).or_default().push(s);
        }
        for batch in batches.values() {
            let mut added: BTreeMap<String, u64> = BTreeMap::new();
            for s in batch {
                let vm = inv.vms.iter().find(|v| Some(v.name.as_str()) == s.vm_name()).expect("vm exists");
                *added.entry(s.to().unwrap_or_default().to_string()).or_default() += vm.memory_mb.unwrap_or(0);
            }
            for (h, add) in added {
                let host = inv.host(&h).expect("host exists");
                prop_assert!(room_above_floor(host.memory_mb, used(&h) + add, floor) >= 0,
                    "{} over the floor: used {} + {} of {:?}", h, used(&h), add, host.memory_mb);
            }
        }
        // Apply the pre moves, audit again: no rule a move claimed to fix fires for that VM.
        // A rolling plan is checked a host at a time, as it runs.
        let rounds: Vec<Vec<String>> = if rolling {
            names.iter().map(|n| vec![n.clone()]).collect()
        } else {
            vec![names.clone()]
        };
        for round in rounds {
            let mut after = inv.clone();
            let mut claims: Vec<(String, String)> = Vec::new();
            for s in steps_of(&plan, StepPhase::Pre, StepAction::Migrate) {
                if !s.from_host().is_some_and(|f| round.iter().any(|r| r == f)) {
                    continue;
                }
                let name = s.vm_name().unwrap_or_default().to_string();
                if let Some(v) = after.vms.iter_mut().find(|v| v.name == name) {
                    v.host = s.to().unwrap_or_default().into();
                }
                claims.extend(s.because.iter().map(|r| (r.clone(), name.clone())));
            }
            let req = Request { hosts: round, ..req.clone() };
            let again = evaluate(&policy, &InventoryIndex::new(&after, &req.hosts), &req, false);
            for f in again.findings.iter().filter(|f| !f.waived) {
                let fixed = claims.iter().any(|(r, v)| *r == f.rule && f.vm.as_ref() == Some(v));
                prop_assert!(!fixed, "still found after the move: {:?}", f);
            }
        }
    }
}

#[test]
fn what_the_plan_moved_the_plan_moves_back_even_on_a_platform_that_fails_back() {
    // A failover cluster or Proxmox HA returns only what its drain moved: an HA VM the plan
    // moved before the drain (here by a rule that moves stopped HA VMs in patch mode too) must
    // come back through the plan's own post step.
    let rule = r#"
[[rule]]
id = "move-stopped-ha"
title = "Stopped HA VMs move off first"
severity = "warning"
kind = "vm"
modes = ["patch"]
when = { state = ["off"], ha = true }
action = "migrate"
message = "{vm} is {state} on {host}"
"#;
    let mut sources = builtin_sources();
    sources.push(crate::diag::SourceFile::new("r.toml", rule));
    let policy = load(sources).expect("the policy loads");
    let inv = Inventory {
        hosts: vec![host("H1", "C", 100_000), host("H2", "C", 100_000)],
        vms: vec![
            vm("OFF", "H1", VmState::Off, true, 8_000),
            vm("RUN", "H1", VmState::Running, true, 8_000),
        ],
        ..Inventory::default()
    };
    for platform in [Platform::Hyperv, Platform::Proxmox, Platform::Scvmm] {
        let (plan, _) = run(
            &policy,
            &inv,
            &request(&["H1"], Mode::Patch, platform),
            false,
        );
        let back = steps_of(&plan, StepPhase::Post, StepAction::Migrate);
        let names: Vec<Option<&str>> = back.iter().map(|s| s.vm_name()).collect();
        // RUN is drained: the platform brings it back, except SCVMM, which never does.
        let want = if platform == Platform::Scvmm {
            vec![Some("OFF"), Some("RUN")]
        } else {
            vec![Some("OFF")]
        };
        assert_eq!(names, want, "{platform}");
        assert_eq!(back[0].from_host(), Some("H2"), "{platform}");
    }
}

fn with_facts(mut v: Vm, facts: crate::model::VmFacts) -> Vm {
    v.facts = Some(Box::new(facts));
    v
}

#[test]
fn two_members_of_an_anti_affinity_group_drained_together_land_apart() {
    // H2 has by far the most room: largest first would stack both replicas there.
    let ag = crate::model::VmFacts {
        anti_affinity: vec!["sql-ag".into()],
        ..Default::default()
    };
    let inv = Inventory {
        hosts: vec![
            host("H1", "C", 100_000),
            host("H2", "C", 400_000),
            host("H3", "C", 100_000),
        ],
        vms: vec![
            with_facts(
                vm("SQL01", "H1", VmState::Running, false, 20_000),
                ag.clone(),
            ),
            with_facts(vm("SQL02", "H1", VmState::Running, false, 20_000), ag),
        ],
        ..Inventory::default()
    };
    let (plan, extra) = run(
        &baseline_policy(),
        &inv,
        &request(&["H1"], Mode::Patch, Platform::Hyperv),
        false,
    );
    assert!(extra.is_empty(), "{extra:?}");
    let mut to: Vec<&str> = steps_of(&plan, StepPhase::Pre, StepAction::Migrate)
        .iter()
        .filter_map(|s| s.to())
        .collect();
    to.sort_unstable();
    assert_eq!(to, ["H2", "H3"]);
}

#[test]
fn the_verdict_and_the_plan_place_under_the_same_constraints() {
    // H2 has the room but not the network; H3 has the network but too little room for both.
    let prod = |mb| {
        with_facts(
            vm("X", "H1", VmState::Running, true, mb),
            crate::model::VmFacts {
                networks: Some(vec!["Prod".into()]),
                ..Default::default()
            },
        )
    };
    let mut h2 = host("H2", "C", 400_000);
    h2.facts.networks = Some(vec!["Backup".into()]);
    let mut h3 = host("H3", "C", 100_000);
    h3.facts.networks = Some(vec!["Prod".into()]);
    let mut ha = prod(60_000);
    ha.name = "HA01".into();
    let mut solo = prod(50_000);
    solo.name = "SOLO".into();
    solo.ha = Some(false);
    let inv = Inventory {
        hosts: vec![host("H1", "C", 200_000), h2, h3],
        vms: vec![ha, solo],
        ..Inventory::default()
    };
    let (plan, extra) = run(
        &baseline_policy(),
        &inv,
        &request(&["H1"], Mode::Patch, Platform::Hyperv),
        false,
    );
    // The plan keeps H3 for the drain's HA01 and has nowhere left for SOLO...
    assert!(steps_of(&plan, StepPhase::Pre, StepAction::Migrate).is_empty());
    assert_eq!(extra.len(), 1, "{extra:?}");
    assert!(
        extra[0].message.contains("H2: lacks network Prod"),
        "{}",
        extra[0].message
    );
    // ...and the verdict's drain cannot put HA01 on H2 either.
    let index = InventoryIndex::new(&inv, &["H1".to_string()]);
    let eval = evaluate(
        &baseline_policy(),
        &index,
        &request(&["H1"], Mode::Patch, Platform::Hyperv),
        false,
    );
    let h3 = eval.loads.iter().find(|l| l.host == "H3").expect("H3");
    let h2 = eval.loads.iter().find(|l| l.host == "H2").expect("H2");
    assert_eq!((h2.after_mb, h3.after_mb), (0, 60_000));
}

#[test]
fn the_plan_counts_on_no_live_migration_of_a_vm_tied_to_its_host() {
    // DEV (HA) has a device passed through: no drain moves it, so no step may say "the drain
    // moved it" and no room is kept for it. SOLO (not HA) has one too: the plan cannot
    // live-migrate it either, so it says so instead of planning a migration that fails.
    let dev = crate::model::VmFacts {
        passthrough: Some(vec!["pci:0000:65:00.0".into()]),
        ..Default::default()
    };
    let inv = Inventory {
        hosts: vec![host("H1", "C", 100_000), host("H2", "C", 100_000)],
        vms: vec![
            with_facts(vm("DEV", "H1", VmState::Running, true, 8_000), dev.clone()),
            with_facts(vm("SOLO", "H1", VmState::Running, false, 8_000), dev),
            vm("RUN", "H1", VmState::Running, true, 8_000),
        ],
        ..Inventory::default()
    };
    for platform in [Platform::Scvmm, Platform::Vsphere] {
        let (plan, extra) = run(
            &baseline_policy(),
            &inv,
            &request(&["H1"], Mode::Patch, platform),
            false,
        );
        let back: Vec<Option<&str>> = steps_of(&plan, StepPhase::Post, StepAction::Migrate)
            .iter()
            .map(|s| s.vm_name())
            .collect();
        assert_eq!(back, [Some("RUN")], "{platform}");
        assert!(
            steps_of(&plan, StepPhase::Pre, StepAction::Migrate).is_empty(),
            "{platform}: {:?}",
            plan.steps
        );
        assert_eq!(extra.len(), 1, "{platform}: {extra:?}");
        assert_eq!(extra[0].vm.as_deref(), Some("SOLO"));
        assert!(
            extra[0].message.contains("cannot be live-migrated"),
            "{}",
            extra[0].message
        );
    }
}

// ---- property: the verdict never disagrees with its own plan ----

fn arb_cluster() -> impl Strategy<Value = (Inventory, f64)> {
    let hosts = prop::collection::vec(4u64..48, 2..5);
    // (host, state, HA, GiB): states and HA flags include the unknown.
    let vms = prop::collection::vec((0..5usize, 0..4u8, 0..3u8, 1u64..20), 0..10);
    (hosts, vms, 0..4usize).prop_map(|(hs, vs, f)| {
        let n = hs.len();
        let hosts = hs
            .iter()
            .enumerate()
            .map(|(i, gib)| host(&format!("H{i}"), "C", gib * 1024))
            .collect();
        let vms = vs
            .iter()
            .enumerate()
            .map(|(i, (h, s, ha, gib))| Vm {
                ha: [Some(true), Some(false), None][*ha as usize],
                ..vm(
                    &format!("V{i}"),
                    &format!("H{}", h % n),
                    [
                        VmState::Running,
                        VmState::Running,
                        VmState::Off,
                        VmState::Unknown,
                    ][*s as usize],
                    true,
                    gib * 1024,
                )
            })
            .collect();
        (
            Inventory {
                hosts,
                vms,
                ..Inventory::default()
            },
            [0.0, 10.0, 12.5, 25.0][f],
        )
    })
}

/// A policy whose only audit rules are a capacity floor and a rule that has the plan move the
/// running VMs without HA (a warning, so that only capacity decides the verdict).
fn floor_policy(floor: f64) -> PolicySet {
    let text = format!(
        r#"
[[rule]]
id = "non-ha"
title = "t"
severity = "warning"
kind = "vm"
when = {{ state = ["running"], ha = false }}
action = "migrate"
message = "{{vm}}"

[[rule]]
id = "capacity"
title = "t"
severity = "error"
kind = "capacity"
min_free_memory_pct = {floor}
"#
    );
    load(vec![crate::diag::SourceFile::new("p.toml", text)]).expect("the policy loads")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn the_verdict_never_disagrees_with_its_plan((inv, floor) in arb_cluster(), p in 0..4usize) {
        let policy = floor_policy(floor);
        let req = request(&["H0"], Mode::Patch, Platform::ALL[p]);
        let index = InventoryIndex::new(&inv, &req.hosts);
        let eval = evaluate(&policy, &index, &req, false);
        let built = build_plan(&policy, &index, &req, &eval.findings, &PlanOptions::default());
        let asks = super::build::collect_asks(&policy, &index, &[0], &eval.findings);
        let scheduled = super::schedule::schedule(&policy, &index, &req, &[vec![0]], &asks);
        let group = &scheduled.groups[0];
        let capacity: Vec<&Finding> = eval.findings.iter().filter(|f| f.rule == "capacity").collect();
        let no_go = !capacity.is_empty();
        // (a) A VM the drain moves that the audit does not report as fitting nowhere has its
        // room kept by the plan, on the host the audit put it on.
        for (&i, to) in &group.reserved {
            let name = index.vm(i).name.as_str();
            let reported = capacity.iter().any(|f| f.vm.as_deref() == Some(name));
            prop_assert_eq!(to.is_some(), !reported, "{} reserved {:?}, audit {:?}", name, to, capacity);
            if let Some(to) = to {
                let l = eval.loads.iter().find(|l| l.host == index.host(*to).name.as_str()).expect("a load");
                prop_assert!(l.after_mb >= index.vm(i).memory_mb.unwrap_or(0));
            }
        }
        // ...and every VM the plan moves has a destination unless the plan says why not.
        for f in &built.findings {
            prop_assert!(f.vm.is_some());
            let name = f.vm.as_deref().unwrap_or_default();
            prop_assert!(!built.plan.steps.iter().any(|s| s.phase == StepPhase::Pre && s.vm_name() == Some(name)));
        }
        // (b) Every destination keeps the floor once the drain (as the audit's loads show it)
        // and the plan's own moves (its steps) are both done, or the audit is no-go.
        let mut added: BTreeMap<&str, u64> = BTreeMap::new();
        for s in steps_of(&built.plan, StepPhase::Pre, StepAction::Migrate) {
            let vm = inv.vms.iter().find(|v| Some(v.name.as_str()) == s.vm_name()).expect("the VM");
            let to = s.to().unwrap_or_default();
            prop_assert_ne!(to, "H0", "a destination is the drained host");
            // The plan moves only VMs without HA here, which the audit's drain does not count.
            prop_assert_eq!(vm.ha, Some(false));
            *added.entry(to).or_default() += vm.memory_mb.unwrap_or(0);
        }
        for l in eval.loads.iter().filter(|l| !l.target) {
            let total = l.after_mb + added.get(l.host.as_str()).copied().unwrap_or(0);
            let grew = total > l.before_mb;
            prop_assert!(
                no_go || !grew || room_above_floor(l.memory_mb, total, floor) >= 0,
                "{} below the {}% floor with {} MiB used after the drain and the plan, and the audit says go: {:?} {:?}",
                l.host, floor, total, eval.findings, built.plan.steps
            );
        }
        // The plan's steps are the schedule's.
        let planned: BTreeSet<&str> = steps_of(&built.plan, StepPhase::Pre, StepAction::Migrate)
            .iter()
            .filter_map(|s| s.vm_name())
            .collect();
        let moved: BTreeSet<&str> = group.moved.keys().map(|&i| index.vm(i).name.as_str()).collect();
        prop_assert_eq!(planned, moved);
    }
}

#[test]
fn a_rolling_decommission_keeps_anti_affinity_across_groups() {
    // H1, H2 and H3 are retired one by one; R1 has by far the most room. Each group alone
    // would send its member of sql-ag to R1; together that stacks SQL01 and SQL02 there.
    let ag = crate::model::VmFacts {
        anti_affinity: vec!["sql-ag".into()],
        ..Default::default()
    };
    let inv = Inventory {
        hosts: vec![
            host("H1", "C", 100_000),
            host("H2", "C", 100_000),
            host("H3", "C", 100_000),
            host("R1", "C", 800_000),
            host("R2", "C", 200_000),
        ],
        vms: vec![
            with_facts(
                vm("SQL01", "H1", VmState::Running, false, 20_000),
                ag.clone(),
            ),
            with_facts(vm("SQL02", "H2", VmState::Running, false, 20_000), ag),
            vm("APP", "H3", VmState::Running, false, 10_000),
        ],
        ..Inventory::default()
    };
    let req = request(&["H1", "H2", "H3"], Mode::Decommission, Platform::Hyperv);
    let (plan, extra) = run(&baseline_policy(), &inv, &req, true);
    assert!(extra.is_empty(), "{extra:?}");
    let to = |name: &str| {
        steps_of(&plan, StepPhase::Pre, StepAction::Migrate)
            .iter()
            .find(|s| s.vm_name() == Some(name))
            .and_then(|s| s.to())
            .map(str::to_string)
    };
    assert_eq!(to("SQL01").as_deref(), Some("R1"));
    assert_eq!(to("SQL02").as_deref(), Some("R2"));
    assert_eq!(to("APP").as_deref(), Some("R1"));
    // The audit agrees: no constraint is violated, whatever the order.
    let index = InventoryIndex::new(&inv, &req.hosts);
    let eval = evaluate(&baseline_policy(), &index, &req, true);
    assert!(
        !eval.findings.iter().any(|f| f.rule == "anti-affinity"),
        "{:?}",
        eval.findings
    );
}

#[test]
fn a_rolling_decommission_drain_sees_what_earlier_groups_moved() {
    // The drain's own HA members: the capacity rule's step for H2 must see that H1's step put
    // SQL01 on R1, so SQL02 goes to R2 (and the plan keeps that room there).
    let ag = crate::model::VmFacts {
        anti_affinity: vec!["sql-ag".into()],
        ..Default::default()
    };
    let inv = Inventory {
        hosts: vec![
            host("H1", "C", 100_000),
            host("H2", "C", 100_000),
            host("H3", "C", 100_000),
            host("R1", "C", 800_000),
            host("R2", "C", 200_000),
        ],
        vms: vec![
            with_facts(
                vm("SQL01", "H1", VmState::Running, true, 20_000),
                ag.clone(),
            ),
            with_facts(vm("SQL02", "H2", VmState::Running, true, 20_000), ag),
            vm("APP", "H3", VmState::Running, true, 10_000),
        ],
        ..Inventory::default()
    };
    let req = request(&["H1", "H2", "H3"], Mode::Decommission, Platform::Hyperv);
    let index = InventoryIndex::new(&inv, &req.hosts);
    let eval = evaluate(&baseline_policy(), &index, &req, true);
    let load = |h: &str| {
        eval.loads
            .iter()
            .find(|l| l.host == h)
            .map(|l| (l.after_mb, l.vms_after))
    };
    // R1 holds SQL01 and then APP; R2 holds SQL02; no retired host takes anything.
    assert_eq!(load("R1"), Some((30_000, 2)));
    assert_eq!(load("R2"), Some((20_000, 1)));
    assert!(
        !eval
            .findings
            .iter()
            .any(|f| f.rule == "capacity" || f.rule == "anti-affinity"),
        "{:?}",
        eval.findings
    );
    // H1 is retired with nothing left on it once its step is over.
    assert_eq!(load("H1"), Some((0, 0)));
    let asks = BTreeMap::new();
    let groups = vec![vec![0], vec![1], vec![2]];
    let scheduled = super::schedule::schedule(&baseline_policy(), &index, &req, &groups, &asks);
    let reserved: Vec<(String, Option<String>)> = scheduled
        .groups
        .iter()
        .flat_map(|g| g.reserved.iter())
        .map(|(&i, to)| {
            (
                index.vm(i).name.to_string(),
                to.map(|t| index.host(t).name.to_string()),
            )
        })
        .collect();
    assert_eq!(
        reserved,
        [
            ("SQL01".to_string(), Some("R1".to_string())),
            ("SQL02".to_string(), Some("R2".to_string())),
            ("APP".to_string(), Some("R1".to_string())),
        ]
    );
}
