//! The whole vSphere cycle, end to end through the binary: `audit --plan` on a vSphere
//! inventory (the RVTools example, and a native JSON export), the plan rendered for PowerCLI
//! (parsed) and govc (run against a stub vCenter whose DRS empties a host entering
//! maintenance), a fresh "after" inventory taken from that stub once the drain has run, then
//! `restore`: vSphere moves nothing back, so it must report the drained VMs as not back home
//! and plan their move back, which is rendered and run in turn, after which a second restore
//! finds every VM home.

mod common;
mod support;

use common::{NOW, json, run};
use serde_json::Value;
use std::path::Path;
use support::assert_powershell_parses;
use support::govc::{VsVm, mutations, run_with_govc};

const RVTOOLS: &str = "examples/vsphere-rvtools";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `preflight render PLAN --target TARGET --phase PHASE`: the script (exit 0 required).
fn render(plan: &Path, target: &str, phase: &str) -> String {
    let (code, out, err) = run(&["render", p(plan), "--target", target, "--phase", phase]);
    assert_eq!(code, 0, "render {target} {phase}: {err}");
    out
}

/// Runs the govc script of `phase` against the stub vCenter; returns the VMs afterwards.
fn run_govc(
    plan: &Path,
    phase: &str,
    hosts: &[&str],
    vms: &[VsVm],
) -> (Vec<VsVm>, Vec<Vec<String>>) {
    let script = render(plan, "govc", phase);
    let run = run_with_govc(&script, hosts, vms, "continue\n");
    assert!(
        run.run.status_ok,
        "govc {phase}: {}\n{}",
        run.run.stderr, run.run.stdout
    );
    assert!(run.run.stray_files.is_empty());
    (run.vms, mutations(&run.run.calls))
}

fn host_of<'a>(vms: &'a [VsVm], name: &str) -> &'a str {
    &vms.iter().find(|v| v.name == name).unwrap().host
}

/// The move steps of a plan: (vm, from or "drain", to).
fn moves(plan: &Value) -> Vec<(String, String, String)> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "migrate")
        .map(|s| {
            let from = if s["from_drain"] == true {
                "drain".to_string()
            } else {
                s["from"].as_str().unwrap().to_string()
            };
            (
                s["vm"].as_str().unwrap().to_string(),
                from,
                s["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn not_restored(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "not-restored")
        .map(|f| f["vm"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The PowerCLI script parses and makes the calls its plan implies.
fn check_powercli(plan: &Path, wants: &[&str]) {
    let script = render(plan, "powercli", "all");
    assert_powershell_parses("powercli", &script);
    assert!(script.contains("Import-Module VMware.VimAutomation.Core"));
    // Maintenance without -Evacuate: the plan leaves powered-off VMs where they are.
    assert!(
        script
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .all(|l| !l.contains("-Evacuate"))
    );
    for want in wants {
        assert!(script.contains(want), "{want} not in the PowerCLI script");
    }
}

/// A minimal CSV reader for the example's quoted tabs: every field is quoted.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| {
            l.trim_matches('"')
                .split("\",\"")
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn csv_line(row: &[String]) -> String {
    format!("\"{}\"", row.join("\",\""))
}

#[test]
fn rvtools_drain_restore_and_move_back() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let (code, _, err) = run(&[
        "audit",
        "--inventory",
        "examples/vsphere-rvtools.xlsx",
        "--host",
        "esx01",
        "--plan",
        p(&plan),
        "--now",
        NOW,
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(doc["request"]["platform"], "vsphere");
    // DRS moves the running VMs; nothing moves them back, so the plan does. web-01 has a
    // medium only esx01 reaches mounted: vMotion fails, it never leaves, nothing comes back.
    let mut expected = vec![("app-01", "drain", "esx01"), ("sql-a", "drain", "esx01")];
    expected.sort();
    let mut got = moves(&doc);
    got.sort();
    let got: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(got, expected);

    check_powercli(
        &plan,
        &[
            "Enter-PlanMaintenance -Step 'drain-enter-maintenance-esx01' -Node 'esx01'",
            "Move-PlanVMBack -Step 'post-migrate-5001c0de-0000-4000-8000-000000000101' -Name 'sql-a'",
        ],
    );

    // The stub vCenter: the Prod cluster of the example.
    let info =
        csv_rows(&std::fs::read_to_string(format!("{RVTOOLS}/RVTools_tabvInfo.csv")).unwrap());
    let col = |name: &str| info[0].iter().position(|c| c == name).unwrap();
    let (vm_c, power_c, cluster_c, host_c, uuid_c) = (
        col("VM"),
        col("Powerstate"),
        col("Cluster"),
        col("Host"),
        col("VM UUID"),
    );
    let hosts = ["esx01", "esx02", "esx03"];
    let world: Vec<VsVm> = info[1..]
        .iter()
        .filter(|r| r[cluster_c] == "Prod")
        .map(|r| VsVm {
            name: r[vm_c].clone(),
            uuid: Some(r[uuid_c].clone()),
            host: r[host_c].clone(),
            state: r[power_c].clone(),
        })
        .collect();

    // Drain: DRS (the stub's) puts the running VMs on esx02; the powered-off ones stay.
    let (after_pre, _) = run_govc(&plan, "pre", &hosts, &world);
    let (after_drain, calls) = run_govc(&plan, "drain", &hosts, &after_pre);
    assert_eq!(
        calls,
        [[
            "govc",
            "host.maintenance.enter",
            "-host.ipath=/DC1/host/Prod/esx01"
        ]]
    );
    for vm in ["sql-a", "app-01", "web-01"] {
        assert_eq!(host_of(&after_drain, vm), "esx02");
    }
    assert_eq!(host_of(&after_drain, "sql-cold"), "esx01");

    // The "after" export: the example's tabs with each VM where the stub has it.
    let after_dir = dir.path().join("after");
    std::fs::create_dir(&after_dir).unwrap();
    let mut lines = vec![csv_line(&info[0])];
    for r in &info[1..] {
        let mut r = r.clone();
        if let Some(vm) = after_drain.iter().find(|v| v.name == r[vm_c]) {
            r[host_c] = vm.host.clone();
        }
        lines.push(csv_line(&r));
    }
    std::fs::write(
        after_dir.join("RVTools_tabvInfo.csv"),
        lines.join("\n") + "\n",
    )
    .unwrap();
    for tab in ["vHost", "vCluster"] {
        let name = format!("RVTools_tab{tab}.csv");
        std::fs::copy(format!("{RVTOOLS}/{name}"), after_dir.join(&name)).unwrap();
    }
    let tabs: Vec<String> = ["vInfo", "vHost", "vCluster"]
        .iter()
        .map(|t| {
            after_dir
                .join(format!("RVTools_tab{t}.csv"))
                .display()
                .to_string()
        })
        .collect();

    // Restore: the three are not home; the move-back plan takes them there from esx02.
    let back = dir.path().join("back.json");
    let (code, out, err) = run(&[
        "restore",
        "--plan",
        p(&plan),
        "--inventory",
        &tabs[0],
        "--inventory",
        &tabs[1],
        "--inventory",
        &tabs[2],
        "--plan-out",
        p(&back),
        "--format",
        "json",
        "--now",
        NOW,
    ]);
    assert!(code == 0 || code == 1, "{err}");
    assert_eq!(not_restored(&json(&out)), ["app-01", "sql-a", "web-01"]);
    let back_doc: Value = serde_json::from_slice(&std::fs::read(&back).unwrap()).unwrap();
    let mut got = moves(&back_doc);
    got.sort();
    assert_eq!(
        got,
        ["app-01", "sql-a", "web-01"].map(|v| (v.to_string(), "esx02".into(), "esx01".into()))
    );

    // The move back, rendered both ways; govc brings every VM home.
    check_powercli(
        &back,
        &[
            "Move-PlanVM -Step 'post-migrate-5001c0de-0000-4000-8000-000000000102' -Name 'app-01' -Id '5001c0de-0000-4000-8000-000000000102' -From 'esx02' -To 'esx01' -Expect 'PoweredOn'",
        ],
    );
    let (home, calls) = run_govc(&back, "all", &hosts, &after_drain);
    assert_eq!(calls.len(), 3);
    assert_eq!(home, world);
}

#[test]
fn native_json_drain_restore_and_move_back() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = "tests/fixtures/inventories/vsphere-prod.json";
    let plan = dir.path().join("plan.json");
    let (code, _, err) = run(&[
        "audit",
        "--inventory",
        inventory,
        "--host",
        "esx-a",
        "--plan",
        p(&plan),
        "--now",
        NOW,
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let a = "esx-a.lab.example";
    // pinned-01 (DRS not fully automated) is moved by the plan before the drain and back
    // after it; DRS moves db-01 and web-01; cold-01 (off) stays.
    let mut got = moves(&doc);
    got.sort();
    assert_eq!(
        got,
        [
            ("db-01", "drain", a),
            ("pinned-01", a, "esx-c.lab.example"),
            ("pinned-01", "esx-c.lab.example", a),
            ("web-01", "drain", a),
        ]
        .map(|(v, f, t)| (v.to_string(), f.to_string(), t.to_string()))
    );
    check_powercli(
        &plan,
        &["Move-PlanVM -Step 'pre-migrate-5001c0de-1111-4000-8000-000000000003' -Name 'pinned-01'"],
    );

    let text = std::fs::read_to_string(inventory).unwrap();
    let mut inv: Value = serde_json::from_str(&text).unwrap();
    let hosts: Vec<String> = inv["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect();
    let host_refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let world: Vec<VsVm> = inv["vms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| VsVm {
            name: v["name"].as_str().unwrap().into(),
            uuid: v["id"].as_str().map(String::from),
            host: v["host"].as_str().unwrap().into(),
            state: if v["state"] == "running" {
                "poweredOn"
            } else {
                "poweredOff"
            }
            .into(),
        })
        .collect();

    // The drain half of the plan: pinned-01 moved first, then DRS empties esx-a.
    let (after_pre, _) = run_govc(&plan, "pre", &host_refs, &world);
    let (after_drain, _) = run_govc(&plan, "drain", &host_refs, &after_pre);
    assert_eq!(host_of(&after_drain, "pinned-01"), "esx-c.lab.example");
    assert_eq!(host_of(&after_drain, "db-01"), "esx-b.lab.example");
    assert_eq!(host_of(&after_drain, "cold-01"), a);

    // The "after" export.
    for vm in inv["vms"].as_array_mut().unwrap() {
        let name = vm["name"].as_str().unwrap().to_string();
        vm["host"] = host_of(&after_drain, &name).into();
    }
    let after = dir.path().join("after.json");
    std::fs::write(&after, serde_json::to_vec_pretty(&inv).unwrap()).unwrap();
    let back = dir.path().join("back.json");
    let restore = |plan: &Path, inventory: &Path, out: &Path| {
        let (code, stdout, err) = run(&[
            "restore",
            "--plan",
            p(plan),
            "--inventory",
            p(inventory),
            "--plan-out",
            p(out),
            "--format",
            "json",
            "--now",
            NOW,
        ]);
        assert!(code == 0 || code == 1, "{err}");
        json(&stdout)
    };
    let report = restore(&plan, &after, &back);
    assert_eq!(not_restored(&report), ["db-01", "pinned-01", "web-01"]);
    let back_doc: Value = serde_json::from_slice(&std::fs::read(&back).unwrap()).unwrap();
    let mut got = moves(&back_doc);
    got.sort();
    assert_eq!(
        got,
        [
            ("db-01", "esx-b.lab.example", a),
            ("pinned-01", "esx-c.lab.example", a),
            ("web-01", "esx-b.lab.example", a),
        ]
        .map(|(v, f, t)| (v.to_string(), f.to_string(), t.to_string()))
    );
    check_powercli(&back, &["-Name 'db-01'", "-From 'esx-b.lab.example'"]);

    // govc runs the move back; a second restore on the result finds every VM home.
    let (home, _) = run_govc(&back, "all", &host_refs, &after_drain);
    assert_eq!(home, world);
    for vm in inv["vms"].as_array_mut().unwrap() {
        let name = vm["name"].as_str().unwrap().to_string();
        vm["host"] = host_of(&home, &name).into();
    }
    std::fs::write(&after, serde_json::to_vec_pretty(&inv).unwrap()).unwrap();
    let report = restore(&plan, &after, &dir.path().join("back2.json"));
    assert_eq!(not_restored(&report), Vec::<String>::new());
}
