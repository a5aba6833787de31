//! Property: every plan the planner builds renders, for every target that drives its platform.
//!
//! Small random inventories and requests (all platforms with a target, patch and
//! decommission, one host or several, rolling or not) are audited and planned as `audit
//! --plan` does; the plan goes through its file form (written, then read back by the one plan
//! reader), and is rendered whole and phase by phase. PowerShell must parse without ERROR or
//! MISSING nodes; the Proxmox and govc scripts must run to the end against the stub tools and
//! make exactly the calls (govc: the changes) its steps imply.

mod support;

use preflight::engine::Request;
use preflight::model::{FileRef, Host, HostState, Inventory, Platform, Vm, VmFacts, VmState};
use preflight::pipeline::{AuditOptions, Prepared, audit};
use preflight::plan::{Plan, StepPhase, read_plan, write_plan};
use preflight::policy::{Mode, builtin_sources, load};
use preflight::render::{Options, Phases, Target, render};
use proptest::prelude::*;
use std::collections::BTreeMap;
use support::govc::{VsVm, expected_govc, mutations, run_with_govc};
use support::{Guest, expected_calls, run_with_stubs};

const STATES: [VmState; 8] = [
    VmState::Running,
    VmState::Running,
    VmState::Running,
    VmState::Running,
    VmState::Off,
    VmState::Saved,
    VmState::Paused,
    VmState::Unknown,
];

#[derive(Debug, Clone)]
struct Case {
    inventory: Inventory,
    targets: Vec<String>,
    platform: Platform,
    mode: Mode,
    rolling: bool,
    /// Which guests are containers (Proxmox).
    lxc: Vec<bool>,
}

fn arb_case() -> impl Strategy<Value = Case> {
    let hosts = prop::collection::vec((0..4usize, 0..7u8, 16u64..256), 2..6);
    let vms = prop::collection::vec(
        (
            0..9usize,
            0..STATES.len(),
            prop::option::weighted(0.9, any::<bool>()),
            prop::option::weighted(0.9, 1u64..24),
            any::<bool>(),
            any::<bool>(),
            0..5u8,
        ),
        3..14,
    );
    let platform = prop_oneof![
        Just(Platform::Scvmm),
        Just(Platform::Hyperv),
        Just(Platform::Proxmox),
        Just(Platform::Vsphere)
    ];
    (
        hosts,
        vms,
        prop::collection::vec(0..3usize, 1..3),
        platform,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(hs, vs, ts, platform, decommission, rolling)| {
            let n = hs.len();
            let hosts: Vec<Host> = hs
                .iter()
                .enumerate()
                .map(|(i, (c, s, gib))| Host {
                    name: format!("h{i}").into(),
                    cluster: Some(if *c < 3 { "C0" } else { "C1" }.into()),
                    state: [
                        HostState::Up,
                        HostState::Up,
                        HostState::Up,
                        HostState::Up,
                        HostState::Up,
                        HostState::Maintenance,
                        HostState::Down,
                    ][*s as usize],
                    memory_mb: Some(gib * 1024),
                    cpus: Some(16),
                    implied: false,
                    facts: Default::default(),
                })
                .collect();
            let vms: Vec<Vm> = vs
                .iter()
                .enumerate()
                .map(|(i, (h, s, ha, gib, has_id, _, disks))| Vm {
                    name: format!("vm{i}").into(),
                    // Proxmox guests always have their numeric id; Windows VMs usually do;
                    // vSphere VMs have an instance UUID, or are known by name.
                    id: match platform {
                        Platform::Proxmox => Some(format!("{}", 100 + i).into()),
                        Platform::Vsphere => has_id
                            .then(|| format!("5001c0de-0000-4000-8000-{:012}", 100 + i).into()),
                        _ => has_id.then(|| format!("{}", 100 + i).into()),
                    },
                    // Most VMs sit on a target host (h0 and h1 are the likeliest targets).
                    host: format!("h{}", if *h < 6 { h % 2 } else { h % n }).into(),
                    state: STATES[*s],
                    ha: *ha,
                    memory_mb: gib.map(|g| g * 1024),
                    vcpus: Some(2),
                    tags: vec![],
                    template: false,
                    evidence: BTreeMap::new(),
                    facts: disk_facts(*disks),
                })
                .collect();
            let mut targets: Vec<String> = Vec::new();
            for t in ts {
                let name = format!("h{}", t % n);
                if !targets.contains(&name) {
                    targets.push(name);
                }
            }
            Case {
                lxc: vs.iter().map(|v| v.5).collect(),
                inventory: Inventory {
                    hosts,
                    vms,
                    ..Inventory::default()
                },
                targets,
                platform,
                mode: if decommission {
                    Mode::Decommission
                } else {
                    Mode::Patch
                },
                rolling,
            }
        })
}

/// A VM's disks: unknown, shared, local of a known size, local of an unknown size, or none;
/// so some moves are moves with storage.
fn disk_facts(kind: u8) -> Option<Box<VmFacts>> {
    let disk = |path: &str, shared, size_mb| FileRef {
        path: path.into(),
        shared,
        size_mb,
    };
    let disks = match kind {
        0 => return None,
        1 => vec![disk("shared-lun/os.img", Some(true), Some(40 * 1024))],
        2 => vec![
            disk("shared-lun/os.img", Some(true), Some(40 * 1024)),
            disk("local-lvm:vm-disk-1", Some(false), Some(100 * 1024 + 300)),
        ],
        3 => vec![disk("local-lvm:vm-disk-1", Some(false), None)],
        _ => vec![],
    };
    Some(Box::new(VmFacts {
        disks: Some(disks),
        ..VmFacts::default()
    }))
}

/// Audit and plan as `audit --plan` does, then write the plan and read it back.
fn plan_of(case: &Case) -> Plan {
    let policy = load(builtin_sources()).expect("the baseline loads");
    let request = Request {
        hosts: case.targets.clone(),
        mode: case.mode,
        platform: case.platform,
        platform_assumed: false,
        now: "2026-11-25T17:00:00Z".parse().unwrap(),
        no_waivers: false,
    };
    let options = AuditOptions {
        rolling: case.rolling,
        ..AuditOptions::default()
    };
    let run = audit(
        &policy,
        &Prepared::new(case.inventory.clone()),
        &request,
        &options,
    );
    let mut bytes = Vec::new();
    write_plan(&run.plan, &mut bytes).unwrap();
    let read = read_plan("plan.json", &bytes).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(read.plan, run.plan, "the plan reads back as written");
    read.plan
}

fn targets(platform: Platform) -> &'static [Target] {
    match platform {
        Platform::Scvmm | Platform::Hyperv => &[Target::ScvmmPs, Target::HypervPs],
        Platform::Proxmox => &[Target::ProxmoxSh],
        Platform::Vsphere => &[Target::PowerCli, Target::Govc],
    }
}

fn world(case: &Case) -> Vec<Guest> {
    case.inventory
        .vms
        .iter()
        .zip(&case.lxc)
        .map(|(vm, lxc)| Guest {
            vmid: vm.id.as_deref().unwrap_or_default().to_string(),
            node: vm.host.to_string(),
            lxc: *lxc,
            state: match vm.state {
                VmState::Running => "running",
                VmState::Paused => "paused",
                VmState::Off | VmState::Saved => "stopped",
                _ => "unknown",
            }
            .to_string(),
        })
        .collect()
}

/// The stub vCenter of a case: every host (none in maintenance), every VM where it is.
fn vcenter(case: &Case) -> (Vec<String>, Vec<VsVm>) {
    let hosts = case
        .inventory
        .hosts
        .iter()
        .map(|h| h.name.to_string())
        .collect();
    let vms = case
        .inventory
        .vms
        .iter()
        .map(|vm| VsVm {
            name: vm.name.to_string(),
            uuid: vm.id.as_deref().map(str::to_string),
            host: vm.host.to_string(),
            state: match vm.state {
                VmState::Running | VmState::Paused => "poweredOn",
                VmState::Saved => "suspended",
                _ => "poweredOff",
            }
            .to_string(),
        })
        .collect();
    (hosts, vms)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_plan_renders_for_every_target_of_its_platform(case in arb_case()) {
        let plan = plan_of(&case);
        for &target in targets(case.platform) {
            for phases in [
                Phases::All,
                Phases::Only(StepPhase::Pre),
                Phases::Only(StepPhase::Drain),
                Phases::Only(StepPhase::Post),
            ] {
                let script = render(&plan, &Options { target, phases, plan_sha256: "0" })
                    .unwrap_or_else(|e| panic!("{target} {phases:?}: {e:?}\n{plan:#?}"));
                if target == Target::Govc {
                    if phases == Phases::All {
                        let (hosts, vms) = vcenter(&case);
                        let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
                        let answers = "continue\n".repeat(plan.request.hosts.len());
                        let run = run_with_govc(&script, &names, &vms, &answers);
                        prop_assert!(run.run.status_ok, "{}\n{}\n{:#?}", run.run.stderr, run.run.stdout, plan);
                        let (calls, after) = expected_govc(&plan, &hosts, &vms);
                        prop_assert_eq!(mutations(&run.run.calls), calls);
                        prop_assert_eq!(run.vms, after);
                    }
                } else if target == Target::ProxmoxSh {
                    if phases == Phases::All {
                        let world = world(&case);
                        let answers = "continue\n".repeat(plan.request.hosts.len());
                        let run = run_with_stubs(&script, &world, &answers);
                        prop_assert!(run.status_ok, "{}\n{}\n{:#?}", run.stderr, run.stdout, plan);
                        prop_assert_eq!(run.calls, expected_calls(&plan, &world));
                    }
                } else {
                    support::assert_powershell_parses("the script", &script);
                }
            }
        }
    }
}

#[test]
fn the_generated_plans_include_moves_with_storage() {
    // Otherwise the property above would not cover the storage lines of any target.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = arb_case();
    let (mut sized, mut unsized_) = (0, 0);
    for _ in 0..64 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        for s in plan_of(&case).steps.iter().filter(|s| s.with_storage()) {
            if s.storage_gb().is_some() {
                sized += 1;
            } else {
                unsized_ += 1;
            }
        }
    }
    assert!(
        sized > 0 && unsized_ > 0,
        "{sized} sized, {unsized_} unsized"
    );
}
