//! Tests of `restore`: matching VMs by id or name, trust in the platform's failback, balance.

use super::*;
use crate::engine::FailOn;
use crate::model::{Host, Platform, VmState};
use crate::pipeline::{self, Prepared};
use crate::policy::{Mode, builtin_sources, load};

fn host(name: &str, state: HostState) -> Host {
    Host {
        name: name.into(),
        cluster: Some("C".into()),
        state,
        memory_mb: Some(100_000),
        cpus: Some(10),
        implied: false,
        facts: Default::default(),
    }
}

fn vm(name: &str, id: Option<&str>, host: &str, ha: bool) -> Vm {
    Vm {
        name: name.into(),
        id: id.map(Into::into),
        host: host.into(),
        state: VmState::Running,
        ha: Some(ha),
        memory_mb: Some(10_000),
        vcpus: Some(4),
        tags: vec![],
        template: false,
        evidence: BTreeMap::new(),
        facts: None,
    }
}

fn before() -> Inventory {
    Inventory {
        hosts: vec![host("H1", HostState::Up), host("H2", HostState::Up)],
        vms: vec![
            vm("A", Some("id-a"), "H1", true),
            vm("B", None, "H1", true),
            vm("C", None, "H2", true),
        ],
        ..Inventory::default()
    }
}

fn request(platform: Platform) -> Request {
    Request {
        hosts: vec!["H1".into()],
        mode: Mode::Patch,
        platform,
        platform_assumed: false,
        now: "2026-11-26T07:00:00Z".parse().expect("a timestamp"),
        no_waivers: false,
    }
}

fn run(platform: Platform, after: &Inventory) -> Restored {
    let policy = load(builtin_sources()).expect("baseline");
    let req = request(platform);
    let plan = pipeline::audit(&policy, &Prepared::new(before()), &req, &Default::default()).plan;
    let after = Prepared::new(after.clone());
    pipeline::restore(&policy, &after, &plan, &req, FailOn::Error, &[]).restored
}

#[test]
fn a_renamed_vm_is_found_by_its_id_and_a_vm_without_id_by_its_name() {
    let mut after = before();
    after.vms[0].name = "A-renamed".into();
    after.vms[0].host = "H2".into();
    let r = run(Platform::Scvmm, &after);
    let a = r
        .eval
        .findings
        .iter()
        .find(|f| f.vm.as_deref() == Some("A"))
        .expect("A is not home");
    assert_eq!(a.evidence["current_host"], json!("H2"));
    assert!(!a.evidence.contains_key("vanished"));
    assert_eq!(r.plan.steps.len(), 1);
    assert_eq!(r.plan.steps[0].to(), Some("H1"));
    // B lost its name and has no id: it vanished.
    after.vms[1].name = "B2".into();
    let r = run(Platform::Scvmm, &after);
    let b = r
        .eval
        .findings
        .iter()
        .find(|f| f.vm.as_deref() == Some("B"))
        .expect("B vanished");
    assert_eq!(b.evidence["vanished"], json!(true));
}

#[test]
fn everything_home_leaves_only_the_imbalance_it_had_before() {
    let r = run(Platform::Scvmm, &before());
    let rules: Vec<&str> = r.eval.findings.iter().map(|f| f.rule.as_str()).collect();
    // The cluster was already above 0.3 before maintenance; balance judges the present.
    assert_eq!(rules, ["imbalance"]);
    assert!(r.eval.untrusted.is_none());
    // H1 carries 20000 of 100000, H2 10000: loads 0.2 and 0.1, σ/μ = 1/3, n − 1 = 1.
    let b = &r.balance[0];
    assert_eq!(b.before, Some(0.333));
    assert_eq!(b.now, Some(0.333));
    assert_eq!(b.after_move_back, Some(0.333));
}

#[test]
fn a_plan_that_fits_nothing_is_untrusted() {
    let other = Inventory {
        hosts: vec![host("X1", HostState::Up)],
        vms: vec![vm("Z", None, "X1", true)],
        ..Inventory::default()
    };
    let r = run(Platform::Scvmm, &other);
    assert!(r.eval.untrusted.is_some());
    assert!(r.eval.findings.is_empty());
    // The hosts are there but not one baseline VM: untrusted as well.
    let mut empty = before();
    empty.vms.retain(|v| v.host == "H2");
    let r = run(Platform::Scvmm, &empty);
    assert!(
        r.eval
            .untrusted
            .as_deref()
            .unwrap_or("")
            .contains("baseline VMs")
    );
}
