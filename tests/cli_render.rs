//! `preflight render` from the command line: scripts per target (pinned by snapshots), the
//! phase filter, atomic `--output`, exit 2 for a bad plan and exit 3 for a stale one.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

const THREE_NODE: &str = "tests/fixtures/plans/maintenance-3node.json";
const PROXMOX: &str = "tests/fixtures/plans/proxmox-maintenance.json";
/// `audit --plan` of tests/fixtures/inventories/vsphere-prod.json for host esx-a.
const VSPHERE: &str = "tests/fixtures/plans/vsphere-maintenance.json";

fn preflight() -> Command {
    let mut c = Command::cargo_bin("preflight").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn render(args: &[&str]) -> String {
    let out = preflight().arg("render").args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn scvmm_script() {
    insta::assert_snapshot!(render(&[THREE_NODE, "--target", "scvmm-ps"]));
}

#[test]
fn hyperv_script() {
    insta::assert_snapshot!(render(&[THREE_NODE, "--target", "hyperv-ps"]));
}

#[test]
fn proxmox_script() {
    insta::assert_snapshot!(render(&[PROXMOX, "--target", "proxmox-sh"]));
}

#[test]
fn powercli_script() {
    insta::assert_snapshot!(render(&[VSPHERE, "--target", "powercli"]));
}

#[test]
fn govc_script() {
    insta::assert_snapshot!(render(&[VSPHERE, "--target", "govc"]));
}

#[test]
fn vsphere_and_other_plans_render_only_for_their_own_targets() {
    for (plan, target) in [
        (VSPHERE, "hyperv-ps"),
        (VSPHERE, "proxmox-sh"),
        (THREE_NODE, "powercli"),
        (PROXMOX, "govc"),
    ] {
        preflight()
            .args(["render", plan, "--target", target])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("render::target"));
    }
}

#[test]
fn the_header_names_the_plan_by_digest() {
    let bytes = std::fs::read(THREE_NODE).unwrap();
    let digest = preflight::digest::sha256_hex(&bytes);
    let script = render(&[THREE_NODE, "--target", "hyperv-ps"]);
    assert!(script.contains(&format!("# Plan sha256: {digest}\n")));
}

#[test]
fn a_phase_renders_alone() {
    let post = render(&[PROXMOX, "--target", "proxmox-sh", "--phase", "post"]);
    assert!(post.contains("\nexit_maintenance 'post-exit-maintenance-pve1' 'pve1'\n"));
    assert!(post.contains("\nmigrate_guest 'post-migrate-110' "));
    assert!(!post.contains("\nmigrate_guest 'pre-"));
    assert!(!post.contains("\nenter_maintenance '"));
    assert!(!post.contains("\npause_for_maintenance\n"));
    assert!(post.contains("# Phase: post\n"));
}

#[test]
fn output_goes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.ps1");
    preflight()
        .args(["render", THREE_NODE, "--target", "scvmm-ps", "--output"])
        .arg(&file)
        .assert()
        .success()
        .stdout("");
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written, render(&[THREE_NODE, "--target", "scvmm-ps"]));
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn invalid_json_points_at_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(THREE_NODE).unwrap();
    let broken = text.replacen("\"mode\": \"patch\",", "\"mode\": \"patch\"", 1);
    let plan = write(dir.path(), "plan.json", &broken);
    preflight()
        .args(["render", &plan, "--target", "hyperv-ps"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("plan::invalid"))
        .stderr(predicate::str::contains("plan.json:7:5"));
}

#[test]
fn a_wrong_schema_or_unknown_field_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(THREE_NODE).unwrap();
    let plan = write(
        dir.path(),
        "a.json",
        &text.replace("preflight/plan/v1", "preflight/plan/v9"),
    );
    preflight()
        .args(["render", &plan, "--target", "hyperv-ps"])
        .assert()
        .code(2)
        // The same reader as `restore`, so the same code and words.
        .stderr(predicate::str::contains("plan::schema"))
        .stderr(predicate::str::contains(
            "unknown plan schema `preflight/plan/v9`",
        ));
    let plan = write(
        dir.path(),
        "b.json",
        &text.replacen("\"because\": []", "\"becuase\": []", 1),
    );
    preflight()
        .args(["render", &plan, "--target", "hyperv-ps"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown field `becuase`"))
        .stderr(predicate::str::contains("b.json:29:"));
}

#[test]
fn a_missing_plan_file_is_exit_2() {
    preflight()
        .args(["render", "no/such/plan.json", "--target", "proxmox-sh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("plan::read"));
}

#[test]
fn a_nul_in_a_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(THREE_NODE).unwrap();
    let plan = write(
        dir.path(),
        "p.json",
        &text.replace("\"vm\": \"WEB01\"", "\"vm\": \"WEB\\u0000\""),
    );
    preflight()
        .args(["render", &plan, "--target", "scvmm-ps"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("render::unwritable"))
        .stderr(predicate::str::contains("`vm` contains a NUL character"));
}

#[test]
fn a_proxmox_plan_does_not_render_as_powershell() {
    preflight()
        .args(["render", PROXMOX, "--target", "hyperv-ps"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("render::target"));
}

const INVENTORY: &str = r#"{
  "schema": "preflight/inventory/v1",
  "platform": "hyperv",
  "hosts": [
    {"name": "HV01.contoso.local", "cluster": "CL01", "state": "up"},
    {"name": "HV02.contoso.local", "cluster": "CL01", "state": "up"},
    {"name": "HV03.contoso.local", "cluster": "CL01", "state": "up"}
  ],
  "vms": [
    {"name": "APP01", "id": "8c1f2e3d-4a5b-4c6d-8e9f-0a1b2c3d4e01", "host": "HV01.contoso.local", "state": "running", "ha": true},
    {"name": "SQL01", "id": "8c1f2e3d-4a5b-4c6d-8e9f-0a1b2c3d4e02", "host": "HV01.contoso.local", "state": "running", "ha": false},
    {"name": "WEB01", "id": "8c1f2e3d-4a5b-4c6d-8e9f-0a1b2c3d4e03", "host": "HV01.contoso.local", "state": "off", "ha": true}
  ]
}"#;

#[test]
fn a_plan_that_fits_the_inventory_renders() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(dir.path(), "now.json", INVENTORY);
    preflight()
        .args([
            "render",
            THREE_NODE,
            "--target",
            "hyperv-ps",
            "--inventory",
            &inv,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Move-PlanVM -Step 'pre-migrate-SQL01'",
        ));
}

#[test]
fn a_moved_vm_makes_the_plan_stale() {
    let dir = tempfile::tempdir().unwrap();
    let moved = INVENTORY.replacen(
        "\"host\": \"HV01.contoso.local\", \"state\": \"running\", \"ha\": false",
        "\"host\": \"HV03.contoso.local\", \"state\": \"running\", \"ha\": false",
        1,
    );
    assert_ne!(moved, INVENTORY);
    let inv = write(dir.path(), "now.json", &moved);
    let out = dir.path().join("plan.ps1");
    preflight()
        .args([
            "render",
            THREE_NODE,
            "--target",
            "hyperv-ps",
            "--phase",
            "pre",
            "--inventory",
            &inv,
            "--output",
        ])
        .arg(&out)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("plan::stale"))
        .stderr(predicate::str::contains(
            "step `pre-migrate-SQL01`: VM `SQL01` (8c1f2e3d-4a5b-4c6d-8e9f-0a1b2c3d4e02) is on",
        ))
        .stderr(predicate::str::contains(
            "`HV03.contoso.local`, not on `HV01`",
        ))
        .stderr(predicate::str::contains("maintenance-3node.json:25:12"));
    assert!(!out.exists(), "no script is written for a stale plan");
}

#[test]
fn a_gone_vm_or_missing_host_makes_the_plan_stale() {
    let dir = tempfile::tempdir().unwrap();
    let gone = INVENTORY
        .lines()
        .filter(|l| !l.contains("WEB01") && !l.contains("HV03"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\"state\": \"up\"},\n  ]", "\"state\": \"up\"}\n  ]")
        .replace("\"ha\": false},\n  ]", "\"ha\": false}\n  ]");
    let inv = write(dir.path(), "now.json", &gone);
    preflight()
        .args([
            "render",
            THREE_NODE,
            "--target",
            "scvmm-ps",
            "--inventory",
            &inv,
        ])
        .assert()
        .code(3)
        .stdout("")
        .stderr(predicate::str::contains(
            "VM `WEB01` (8c1f2e3d-4a5b-4c6d-8e9f-0a1b2c3d4e03) is gone",
        ))
        .stderr(predicate::str::contains("step `post-migrate-WEB01`").not())
        .stderr(predicate::str::contains(
            "host `HV03` is not in the inventory",
        ));
}

#[test]
fn an_unreadable_inventory_wins_over_a_stale_plan() {
    preflight()
        .args([
            "render",
            THREE_NODE,
            "--target",
            "scvmm-ps",
            "--inventory",
            "no/such/inventory.json",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("inventory::read"));
}

#[test]
fn a_migrate_without_a_source_is_refused_at_the_step() {
    // What `audit --plan` used to write for SCVMM's drained VMs: a `to` and no `from`.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(THREE_NODE).unwrap();
    let broken = text.replacen("\"from\": \"HV02\", ", "", 1);
    assert_ne!(broken, text);
    let plan = write(dir.path(), "p.json", &broken);
    for target in ["scvmm-ps", "hyperv-ps"] {
        preflight()
            .args(["render", &plan, "--target", target])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("plan::invalid"))
            .stderr(predicate::str::contains("step `post-migrate-SQL01`"))
            .stderr(predicate::str::contains("a migrate step needs"))
            // The step's opening brace.
            .stderr(predicate::str::contains("p.json:33:5"));
    }
    // With `"from_drain": true` in its place, it is the move back of a VM the drain moved.
    let drained = text.replacen("\"from\": \"HV02\", ", "\"from_drain\": true, ", 1);
    let plan = write(dir.path(), "q.json", &drained);
    preflight()
        .args(["render", &plan, "--target", "hyperv-ps"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "\nMove-PlanVMBack -Step 'post-migrate-SQL01' ",
        ));
}

#[test]
fn a_storage_size_that_is_not_a_size_is_refused_where_it_stands() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(THREE_NODE).unwrap();
    for (i, (size, want)) in [
        ("-120.5", "`storage_gb` is -120.5, not a size in GB"),
        ("\"120.5\"", "invalid type: string"),
    ]
    .into_iter()
    .enumerate()
    {
        let broken = text.replacen(
            "\"storage_gb\": 120.5",
            &format!("\"storage_gb\": {size}"),
            1,
        );
        assert_ne!(broken, text);
        let plan = write(dir.path(), &format!("p{i}.json"), &broken);
        preflight()
            .args(["render", &plan, "--target", "hyperv-ps"])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("plan::invalid"))
            .stderr(predicate::str::contains(want))
            // The size's line (its column is where the reader stood, at or after it).
            .stderr(predicate::str::contains(format!("p{i}.json:26:")));
    }
    // A size without the move it sizes.
    let broken = text.replacen("\"with_storage\": true, ", "", 1);
    let plan = write(dir.path(), "q.json", &broken);
    preflight()
        .args(["render", &plan, "--target", "hyperv-ps"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`storage_gb` without"))
        // The step's opening brace.
        .stderr(predicate::str::contains("q.json:25:5"));
}
