//! Unit tests of rendering: phase selection, the failback choice, and refusals.

use super::*;
use crate::model::{Host, HostState, Inventory, Vm};
use crate::plan::{StepAction, StepDoc};

/// Changes a step through its document form (which must stay a valid step).
fn edit(step: &mut Step, f: impl FnOnce(&mut StepDoc)) {
    let mut doc = StepDoc::from(step.clone());
    f(&mut doc);
    *step = Step::try_from(doc).unwrap();
}

fn plan(text: &str) -> Plan {
    serde_json::from_str(text).unwrap()
}

fn three_node() -> Plan {
    plan(include_str!(
        "../../tests/fixtures/plans/maintenance-3node.json"
    ))
}

fn proxmox() -> Plan {
    plan(include_str!(
        "../../tests/fixtures/plans/proxmox-maintenance.json"
    ))
}

fn opts(target: Target, phases: Phases) -> Options<'static> {
    Options {
        target,
        phases,
        plan_sha256: "abc",
    }
}

#[test]
fn a_phase_renders_only_its_steps() {
    let p = three_node();
    let pre = render(&p, &opts(Target::HypervPs, Phases::Only(StepPhase::Pre))).unwrap();
    assert!(pre.contains("Move-PlanVM -Step 'pre-migrate-SQL01'"));
    assert!(!pre.contains("Enter-PlanMaintenance -Step"));
    assert!(!pre.contains("post-migrate-SQL01"));
    assert!(!pre.contains("\nWait-PlanOperator"));
    let all = render(&p, &opts(Target::HypervPs, Phases::All)).unwrap();
    let order = [
        "pre-migrate-WEB01'",
        "Enter-PlanMaintenance -Step",
        "\nWait-PlanOperator\n",
        "Exit-PlanMaintenance -Step",
        "post-migrate-WEB01'",
    ];
    let at: Vec<usize> = order.iter().map(|o| all.find(o).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
}

#[test]
fn resume_fails_back_unless_the_plan_moves_the_drained_vms_back() {
    // The plan moves back only the VMs it moved itself before the drain: the cluster must
    // still fail back the roles its drain moved, or they stay away.
    let mut p = three_node();
    let out = render(&p, &opts(Target::HypervPs, Phases::All)).unwrap();
    assert!(out.contains("-Node 'HV01' -Failback 'Immediate'"));
    // A plan that moves the drained VMs back itself must keep the cluster from doing it too.
    edit(&mut p.steps[5], |d| {
        d.from = None;
        d.from_drain = true;
    });
    let out = render(&p, &opts(Target::HypervPs, Phases::All)).unwrap();
    assert!(out.contains("-Node 'HV01' -Failback 'NoFailback'"));
    // Host names compare as everywhere else: a short name matches the FQDN.
    edit(&mut p.steps[5], |d| {
        d.to = Some("hv01.contoso.local".into())
    });
    let out = render(&p, &opts(Target::HypervPs, Phases::All)).unwrap();
    assert!(out.contains("-Node 'HV01' -Failback 'NoFailback'"));
    p.steps
        .retain(|s| !(s.phase == StepPhase::Post && s.action() == StepAction::Migrate));
    let out = render(&p, &opts(Target::HypervPs, Phases::All)).unwrap();
    assert!(out.contains("-Node 'HV01' -Failback 'Immediate'"));
}

#[test]
fn states_use_each_platforms_words() {
    let p = three_node();
    let vmm = render(&p, &opts(Target::ScvmmPs, Phases::All)).unwrap();
    assert!(vmm.contains("-Expect 'PowerOff'"));
    let hv = render(&p, &opts(Target::HypervPs, Phases::All)).unwrap();
    assert!(hv.contains("-Expect 'Off'"));
    let pve = render(&proxmox(), &opts(Target::ProxmoxSh, Phases::All)).unwrap();
    assert!(pve.contains("migrate_guest 'pre-migrate-101' 'sql01' '101' 'pve1' 'pve2' 'running'"));
}

#[test]
fn nul_anywhere_is_refused() {
    let mut p = three_node();
    edit(&mut p.steps[1], |d| d.vm = Some("WEB\0".into()));
    let err = render(&p, &opts(Target::ScvmmPs, Phases::All)).unwrap_err();
    assert_eq!(err[0].kind, ProblemKind::Unwritable);
    assert_eq!(err[0].step.as_deref(), Some("pre-migrate-WEB01"));
    let mut p = three_node();
    p.request.hosts[0].push('\0');
    assert!(render(&p, &opts(Target::ScvmmPs, Phases::All)).is_err());
}

#[test]
fn a_platform_the_target_does_not_drive_is_refused() {
    let err = render(&proxmox(), &opts(Target::ScvmmPs, Phases::All)).unwrap_err();
    assert_eq!(err[0].kind, ProblemKind::Platform);
    // Only the root problem: a Hyper-V plan's GUID ids are not also reported as bad vmids.
    let err = render(&three_node(), &opts(Target::ProxmoxSh, Phases::All)).unwrap_err();
    assert_eq!(err.len(), 1, "{err:?}");
    assert_eq!(err[0].kind, ProblemKind::Platform);
    let mut p = three_node();
    p.request.platform = "scvmm".into();
    assert!(render(&p, &opts(Target::HypervPs, Phases::All)).is_ok());
}

#[test]
fn proxmox_needs_numeric_ids_and_path_safe_nodes() {
    let mut p = proxmox();
    edit(&mut p.steps[0], |d| d.vm_id = None);
    edit(&mut p.steps[1], |d| d.vm_id = Some("110/../../x".into()));
    edit(&mut p.steps[2], |d| d.host = Some("pve1/../x".into()));
    edit(&mut p.steps[5], |d| d.to = Some("--force".into()));
    let err = render(&p, &opts(Target::ProxmoxSh, Phases::All)).unwrap_err();
    let kinds: Vec<ProblemKind> = err.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::Incomplete,
            ProblemKind::Unwritable,
            ProblemKind::Unwritable,
            ProblemKind::Unwritable
        ],
        "{err:?}"
    );
}

#[test]
fn a_move_back_from_wherever_the_drain_put_it_renders_for_every_target() {
    let drained = |d: &mut StepDoc| {
        d.from = None;
        d.from_drain = true;
    };
    let mut p = three_node();
    p.request.platform = "scvmm".into();
    edit(&mut p.steps[5], drained);
    let vmm = render(&p, &opts(Target::ScvmmPs, Phases::All)).unwrap();
    assert!(vmm.contains(
        "\nMove-PlanVMBack -Step 'post-migrate-SQL01' -Name 'SQL01' -Id '8c1f2e3d-4a5b-4c6d-8e9f-0a1b2c3d4e02' -To 'HV01' -Expect 'Running' -Storage 'moves with its storage, 120.5 GB'\n"
    ));
    assert!(vmm.contains("from wherever the drain put it to HV01"));
    let hv = render(&p, &opts(Target::HypervPs, Phases::All)).unwrap();
    assert!(hv.contains("\nMove-PlanVMBack -Step 'post-migrate-SQL01' "));
    // The plan moves it back itself: the cluster must not fail back as well.
    assert!(hv.contains("-Node 'HV01' -Failback 'NoFailback'"));
    let mut p = proxmox();
    edit(&mut p.steps[5], drained);
    let pve = render(&p, &opts(Target::ProxmoxSh, Phases::All)).unwrap();
    assert!(
        pve.contains("\nmigrate_guest_back 'post-migrate-101' 'sql01' '101' 'pve1' 'running' 'moves with its storage, 32 GB'\n")
    );
}

fn inventory() -> Inventory {
    let host = |n: &str| Host {
        name: n.into(),
        cluster: Some("CL01".into()),
        state: HostState::Up,
        memory_mb: None,
        cpus: None,
        implied: false,
        facts: Default::default(),
    };
    let vm = |n: &str, id: &str, h: &str, s: VmState| Vm {
        name: n.into(),
        id: Some(id.into()),
        host: h.into(),
        state: s,
        ha: None,
        memory_mb: None,
        vcpus: None,
        tags: vec![],
        template: false,
        evidence: Default::default(),
        facts: None,
    };
    Inventory {
        hosts: vec![host("HV01.contoso.local"), host("HV02"), host("HV03")],
        vms: vec![
            vm(
                "SQL01",
                "8c1f2e3d-4a5b-4c6d-8e9f-0a1b2c3d4e02",
                "HV01.contoso.local",
                VmState::Running,
            ),
            vm(
                "WEB01",
                "8c1f2e3d-4a5b-4c6d-8e9f-0a1b2c3d4e03",
                "hv01",
                VmState::Off,
            ),
        ],
        ..Default::default()
    }
}

#[test]
fn a_plan_that_fits_has_no_misfits_and_walks_its_own_moves() {
    // The post steps expect the VMs where the pre steps put them.
    assert_eq!(check_fit(&three_node(), Phases::All, &inventory()), []);
}

#[test]
fn moved_gone_and_stopped_vms_are_misfits() {
    let mut inv = inventory();
    inv.vms[0].host = "HV03".into();
    inv.vms[1].state = VmState::Running;
    let m = check_fit(&three_node(), Phases::Only(StepPhase::Pre), &inv);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m[0].message.contains("is on `HV03`, not on `HV01`"),
        "{}",
        m[0].message
    );
    assert!(m[1].message.contains("is running, the plan expects off"));
    inv.vms.remove(0);
    inv.hosts.remove(2);
    let m = check_fit(&three_node(), Phases::Only(StepPhase::Pre), &inv);
    assert!(m[0].message.contains("gone"), "{m:?}");
    assert!(
        m.iter()
            .any(|x| x.message == "host `HV03` is not in the inventory")
    );
}

#[test]
fn a_drained_move_back_fits_wherever_the_vm_is_but_not_when_it_is_gone() {
    let mut p = three_node();
    // SQL01 as a VM the drain moved: its post step takes it from wherever it is.
    p.steps
        .retain(|s| s.id != "pre-migrate-SQL01" && !s.id.ends_with("WEB01"));
    edit(&mut p.steps[3], |d| {
        d.from = None;
        d.from_drain = true;
    });
    assert_eq!(p.steps[3].id, "post-migrate-SQL01");
    let mut inv = inventory();
    inv.vms[0].host = "HV03".into();
    assert_eq!(check_fit(&p, Phases::Only(StepPhase::Post), &inv), []);
    inv.vms.remove(0);
    let m = check_fit(&p, Phases::Only(StepPhase::Post), &inv);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].message.contains("SQL01") && m[0].message.contains("gone"));
}

#[test]
fn govc_takes_uuids_and_vm_references_as_ids_and_nothing_else() {
    let mut p = three_node();
    p.request.platform = "vsphere".into();
    let with_id = |p: &Plan, id: &str| {
        let mut p = p.clone();
        for s in &mut p.steps {
            edit(s, |d| {
                if d.vm.is_some() {
                    d.vm_id = Some(id.to_string());
                }
            });
        }
        render(&p, &opts(Target::Govc, Phases::All))
    };
    for ok in [
        "5001c0de-0000-4000-8000-000000000101",
        "5001C0DE00004000800000000000010A",
        "vm-101",
        "VirtualMachine-vm-7",
        "VirtualMachine:vm-7",
    ] {
        assert!(with_id(&p, ok).is_ok(), "{ok}");
    }
    for bad in [
        "101",
        "vm-",
        "vm-1x",
        "5001c0de-*",
        "-5001c0de-0000-4000-8000-000000000101",
        "5001c0de-0000-4000-8000-0000000001011",
    ] {
        let problems = with_id(&p, bad).unwrap_err();
        assert!(
            problems
                .iter()
                .all(|x| x.kind == ProblemKind::Unwritable && x.message.contains("vm_id")),
            "{bad}: {problems:?}"
        );
    }
    // PowerCLI compares any id inside PowerShell: nothing to refuse.
    let mut q = p.clone();
    for s in &mut q.steps {
        edit(s, |d| {
            d.vm_id = d.vm.as_ref().map(|_| "any 'id' *".to_string())
        });
    }
    assert!(render(&q, &opts(Target::PowerCli, Phases::All)).is_ok());
}

/// The plan with the first step's VM (pre and post) moved with 120.5 GB of local disk, and
/// every other VM without storage.
fn with_storage(mut p: Plan) -> Plan {
    let name = p.steps[0].vm_name().map(str::to_string);
    for s in &mut p.steps {
        if s.action() == StepAction::Migrate {
            let this = s.vm_name().map(str::to_string) == name;
            edit(s, |d| {
                d.with_storage = this;
                d.storage_gb = this.then(|| crate::plan::Gb::from_mib(120 * 1024 + 512));
            });
        }
    }
    p
}

/// The plan with no move with storage.
fn without_storage(mut p: Plan) -> Plan {
    for s in &mut p.steps {
        if s.action() == StepAction::Migrate {
            edit(s, |d| {
                d.with_storage = false;
                d.storage_gb = None;
            });
        }
    }
    p
}

#[test]
fn a_move_with_storage_says_so_and_takes_the_platforms_storage_move() {
    let words = "moves with its storage, 120.5 GB";
    let windows = with_storage(three_node());
    for target in [Target::HypervPs, Target::ScvmmPs] {
        let plain = render(&without_storage(three_node()), &opts(target, Phases::All)).unwrap();
        let out = render(&windows, &opts(target, Phases::All)).unwrap();
        // The comment and the call carry the same words; other moves carry none.
        assert!(out.contains(&format!("\n#   {words}\n")), "{target}");
        assert!(out.contains(&format!("-Storage '{words}'\n")), "{target}");
        assert!(out.contains("-To 'HV03' -Expect "), "{target}");
        assert!(out.contains("-Storage ''\n"), "{target}");
        // The destination folder is required of a script that moves storage, and only then.
        let required = "[Parameter(Mandatory = $true)][ValidateNotNullOrEmpty()]\n    [string]$DestinationStoragePath\n";
        assert!(out.contains(required), "{target}");
        assert!(!plain.contains("Mandatory"), "{target}");
        assert!(
            plain.contains("[string]$DestinationStoragePath = ''"),
            "{target}"
        );
        // A phase without the move does not ask for it.
        let drain = render(&windows, &opts(target, Phases::Only(StepPhase::Drain))).unwrap();
        assert!(!drain.contains("Mandatory"), "{target}");
    }
    let hv = render(&windows, &opts(Target::HypervPs, Phases::All)).unwrap();
    assert!(hv.contains(
        "Move-VM -VM $vm -DestinationHost $node.Name -IncludeStorage -DestinationStoragePath $path"
    ));
    let vmm = render(&windows, &opts(Target::ScvmmPs, Phases::All)).unwrap();
    assert!(vmm.contains("Move-SCVirtualMachine -VM $VM -VMHost $target -Path $path"));

    let mut vsphere = with_storage(three_node());
    vsphere.request.platform = "vsphere".into();
    let cli = render(&vsphere, &opts(Target::PowerCli, Phases::All)).unwrap();
    assert!(cli.contains("[Parameter(Mandatory = $true)][ValidateNotNullOrEmpty()]\n    [string]$DestinationDatastore\n"));
    assert!(cli.contains("Move-VM -VM $VM -Destination $target -Datastore $ds[0]"));
    assert!(cli.contains(&format!("-Storage '{words}'\n")));
    let govc = render(&vsphere, &opts(Target::Govc, Phases::All)).unwrap();
    assert!(govc.contains("if [[ -z ${DESTINATION_DATASTORE:-} ]]; then"));
    assert!(govc.contains(&format!(" '{words}'\n")));
    let mut plain_vsphere = without_storage(three_node());
    plain_vsphere.request.platform = "vsphere".into();
    let govc_plain = render(&plain_vsphere, &opts(Target::Govc, Phases::All)).unwrap();
    assert!(!govc_plain.contains("if [[ -z ${DESTINATION_DATASTORE"));

    let pve = render(
        &with_storage(proxmox()),
        &opts(Target::ProxmoxSh, Phases::All),
    )
    .unwrap();
    assert!(pve.contains(&format!(
        "migrate_guest 'pre-migrate-101' 'sql01' '101' 'pve1' 'pve2' 'running' '{words}'\n"
    )));
    assert!(
        pve.contains("migrate_guest 'pre-migrate-110' 'dns01' '110' 'pve1' 'pve3' 'running' ''\n")
    );
}
