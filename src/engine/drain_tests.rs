//! Tests of the simulated drain through the audit pipeline: which VMs count, when capacity is
//! a question at all, and host loads that add up.

use super::HostLoad;
use crate::engine::{Request, Verdict};
use crate::model::{Host, HostState, Inventory, Platform, Vm, VmState};
use crate::pipeline::{self, AuditOptions, AuditRun, Prepared};
use crate::policy::{Mode, builtin_sources, load};
use std::collections::BTreeMap;

const GIB: u64 = 1024;

fn host(name: &str, memory_gib: Option<u64>) -> Host {
    Host {
        name: name.into(),
        cluster: Some("C".into()),
        state: HostState::Up,
        memory_mb: memory_gib.map(|g| g * GIB),
        cpus: Some(16),
        implied: false,
        facts: Default::default(),
    }
}

fn vm(name: &str, host: &str, state: VmState, gib: u64) -> Vm {
    Vm {
        name: name.into(),
        id: None,
        host: host.into(),
        state,
        ha: Some(true),
        memory_mb: Some(gib * GIB),
        vcpus: Some(2),
        tags: vec![],
        template: false,
        evidence: BTreeMap::new(),
        facts: None,
    }
}

fn audit(inventory: Inventory, hosts: &[&str], rolling: bool) -> AuditRun {
    let policy = load(builtin_sources()).expect("the baseline loads");
    let request = Request {
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        mode: Mode::Patch,
        platform: Platform::Hyperv,
        platform_assumed: false,
        now: "2026-11-25T17:00:00Z".parse().expect("a timestamp"),
        no_waivers: false,
    };
    let options = AuditOptions {
        rolling,
        ..AuditOptions::default()
    };
    pipeline::audit(&policy, &Prepared::new(inventory), &request, &options)
}

fn load_of<'a>(run: &'a AuditRun, host: &str) -> &'a HostLoad {
    run.eval
        .loads
        .iter()
        .find(|l| l.host == host)
        .expect("the host has a load")
}

fn capacity_findings(run: &AuditRun) -> Vec<(Option<String>, Option<String>)> {
    run.eval
        .findings
        .iter()
        .filter(|f| f.rule == "capacity")
        .map(|f| (f.host.clone(), f.vm.clone()))
        .collect()
}

/// H1 is drained; H2 has 24 GiB of room above nothing, so a 32 GiB VM fits nowhere.
fn big_vm_on_h1(state: VmState) -> Inventory {
    Inventory {
        hosts: vec![host("H1", Some(64)), host("H2", Some(64))],
        vms: vec![
            vm("BIG", "H1", state, 32),
            vm("OTHER", "H2", VmState::Running, 40),
        ],
        ..Inventory::default()
    }
}

#[test]
fn a_vm_whose_power_state_is_unknown_counts_in_the_drain() {
    let running = audit(big_vm_on_h1(VmState::Running), &["H1"], false);
    assert_eq!(running.outcome.verdict, Verdict::NoGo);
    let unknown = audit(big_vm_on_h1(VmState::Unknown), &["H1"], false);
    // It may be running: it must be placed like a running VM, and it fits nowhere.
    assert_eq!(
        capacity_findings(&unknown),
        [(Some("H1".to_string()), Some("BIG".to_string()))]
    );
    assert_eq!(unknown.outcome.verdict, Verdict::NoGo);
    // And it counts as used memory on its host.
    assert_eq!(load_of(&unknown, "H1").before_mb, 32 * GIB);
    assert_eq!(load_of(&unknown, "H1").vms_before, 1);
}

#[test]
fn draining_a_host_without_vms_asks_nothing_of_the_others() {
    // H2's memory is unknown, but nothing leaves H1: there is nothing to absorb.
    let inventory = Inventory {
        hosts: vec![host("H1", Some(64)), host("H2", None)],
        vms: vec![vm("ELSEWHERE", "H2", VmState::Running, 8)],
        ..Inventory::default()
    };
    let run = audit(inventory, &["H1"], false);
    assert_eq!(capacity_findings(&run), []);
    assert_eq!(run.outcome.verdict, Verdict::Go, "{:?}", run.eval.findings);
}

#[test]
fn vms_that_fit_nowhere_stay_on_the_drained_host_in_the_after_column() {
    let inventory = Inventory {
        hosts: vec![host("H1", Some(64)), host("H2", Some(64))],
        vms: vec![
            vm("BIG", "H1", VmState::Running, 32),
            vm("SMALL", "H1", VmState::Running, 8),
            vm("OTHER", "H2", VmState::Running, 40),
        ],
        ..Inventory::default()
    };
    let run = audit(inventory, &["H1"], false);
    // SMALL moves to H2; BIG fits nowhere and is still on H1 after the drain.
    let (h1, h2) = (load_of(&run, "H1"), load_of(&run, "H2"));
    assert_eq!((h1.after_mb, h1.vms_after), (32 * GIB, 1));
    assert_eq!((h2.after_mb, h2.vms_after), (48 * GIB, 2));
    let before: usize = run.eval.loads.iter().map(|l| l.vms_before).sum();
    let after: usize = run.eval.loads.iter().map(|l| l.vms_after).sum();
    assert_eq!(before, after, "the counts add up");
    let mb_before: u64 = run.eval.loads.iter().map(|l| l.before_mb).sum();
    let mb_after: u64 = run.eval.loads.iter().map(|l| l.after_mb).sum();
    assert_eq!(mb_before, mb_after);
}

#[test]
fn a_rolling_drain_shows_each_host_at_its_fullest_moment() {
    // H1 drains first (A goes to H2, the roomiest), then H2: B goes to H1, which is back and
    // has the most room (H3 has 20 GiB). H1's fullest moment is then, not its own drain.
    let inventory = Inventory {
        hosts: vec![
            host("H1", Some(100)),
            host("H2", Some(100)),
            host("H3", Some(50)),
        ],
        vms: vec![
            vm("A", "H1", VmState::Running, 10),
            vm("B", "H2", VmState::Running, 30),
            vm("C", "H3", VmState::Running, 30),
        ],
        ..Inventory::default()
    };
    let run = audit(inventory, &["H1", "H2"], true);
    let h1 = load_of(&run, "H1");
    assert!(h1.target);
    assert_eq!((h1.after_mb, h1.vms_after), (40 * GIB, 2));
    // H2 is fullest while it takes A during H1's drain.
    let h2 = load_of(&run, "H2");
    assert!(h2.target);
    assert_eq!((h2.after_mb, h2.vms_after), (40 * GIB, 2));
    let h3 = load_of(&run, "H3");
    assert_eq!((h3.after_mb, h3.vms_after), (30 * GIB, 1));
}

#[test]
fn a_template_takes_no_room_and_needs_none() {
    // A template read with an unknown state (and no HA flag) is not a guest that may be running.
    let mut inventory = big_vm_on_h1(VmState::Unknown);
    inventory.vms[0].template = true;
    inventory.vms[0].ha = None;
    let run = audit(inventory, &["H1"], false);
    assert_eq!(capacity_findings(&run), []);
    assert_eq!(load_of(&run, "H1").before_mb, 0);
    assert_eq!(run.outcome.verdict, Verdict::Go, "{:?}", run.eval.findings);
}

#[test]
fn an_ha_vm_tied_to_its_host_by_a_local_disk_stays_and_the_capacity_rule_says_the_drain_stalls() {
    use crate::model::{FileRef, VmFacts};
    // TIED is HA and running, but its disk is on H1's own storage: no drain moves it. H2 has
    // the room, so counting it as moved would say GO while the drain stalls on it.
    let mut tied = vm("TIED", "H1", VmState::Running, 16);
    tied.facts = Some(Box::new(VmFacts {
        disks: Some(vec![FileRef {
            path: "D:\\VMs\\TIED\\os.vhdx".into(),
            shared: Some(false),
            size_mb: Some(80 * GIB),
        }]),
        media: Some(vec![]),
        passthrough: Some(vec![]),
        ..VmFacts::default()
    }));
    let inventory = Inventory {
        hosts: vec![host("H1", Some(64)), host("H2", Some(64))],
        vms: vec![tied, vm("MOVES", "H1", VmState::Running, 8)],
        ..Inventory::default()
    };
    let run = audit(inventory, &["H1"], false);
    assert_eq!(
        capacity_findings(&run),
        [(Some("H1".to_string()), Some("TIED".to_string()))]
    );
    let f = run
        .eval
        .findings
        .iter()
        .find(|f| f.rule == "capacity")
        .expect("the stall");
    assert_eq!(f.evidence["stall"], "local-disk");
    assert!(f.message.contains("stalls"), "{}", f.message);
    assert_eq!(run.outcome.verdict, Verdict::NoGo);
    // It stays on H1 in the loads; only MOVES lands on H2.
    assert_eq!(load_of(&run, "H1").after_mb, 16 * GIB);
    assert_eq!(load_of(&run, "H2").after_mb, 8 * GIB);
}
