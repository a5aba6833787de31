//! Inventories over 1 MiB: the native ones are read from disk a piece at a time on two
//! threads (`native::stream`), never whole. What a run reports must not show it: the same
//! findings, plan and digest as reading the file whole, and the same located problems.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

const NOW: &str = "2026-11-25T17:00:00Z";

/// A native inventory of `n` VMs on 40 hosts, about 150 bytes a VM.
fn inventory(n: usize, vm: impl Fn(usize) -> String) -> String {
    let hosts: Vec<String> = (0..40)
        .map(|h| format!(r#"{{"name":"hv{h:02}","cluster":"c","state":"up","memory_mb":1048576}}"#))
        .collect();
    let vms: Vec<String> = (0..n).map(vm).collect();
    format!(
        "{{\"collected_at\":\"2026-11-25T16:00:00Z\",\"platform\":\"scvmm\",\n\"hosts\":[\n{}],\n\"vms\":[\n{}\n]}}\n",
        hosts.join(",\n"),
        vms.join(",\n")
    )
}

fn good_vm(i: usize) -> String {
    format!(
        r#"{{"name":"vm-{i:06}","id":"{i:08x}-0000-4000-8000-000000000000","host":"hv{:02}","state":"{}","ha":{},"memory_mb":{},"tags":["t{}"]}}"#,
        i % 40,
        if i.is_multiple_of(7) {
            "off"
        } else {
            "running"
        },
        !i.is_multiple_of(10),
        1024 * (1 + i % 16),
        i % 3
    )
}

fn audit(dir: &Path, file: &str) -> (i32, Value, Vec<u8>, String) {
    let out = Command::cargo_bin("preflight")
        .expect("the binary")
        .current_dir(dir)
        .args([
            "audit",
            "--inventory",
            file,
            "--host",
            "hv03",
            "--format",
            "json",
        ])
        .args(["--plan", "plan.json", "--now", NOW])
        .output()
        .expect("runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let plan = std::fs::read(dir.join("plan.json")).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        report,
        plan,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_large_file_reads_as_the_same_file_read_whole() {
    let text = inventory(12_000, good_vm);
    assert!(text.len() > 1 << 20, "large enough to be read in pieces");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("large.json"), &text).unwrap();
    // A byte-order mark makes the same content be read whole.
    std::fs::write(dir.path().join("whole.json"), format!("\u{feff}{text}")).unwrap();

    let (code, report, plan, stderr) = audit(dir.path(), "large.json");
    assert_eq!(code, 1, "{stderr}");
    let digest = preflight::digest::sha256_hex(text.as_bytes());
    assert_eq!(report["inputs"]["inventory"][0]["sha256"], digest);

    let (whole_code, mut whole, whole_plan, _) = audit(dir.path(), "whole.json");
    assert_eq!(whole_code, code);
    // Only the file's name and digest differ.
    let mut read = report.clone();
    for r in [&mut read, &mut whole] {
        r["inputs"]["inventory"][0]["path"] = Value::Null;
        r["inputs"]["inventory"][0]["sha256"] = Value::Null;
    }
    assert_eq!(read, whole);
    assert!(read["findings"].as_array().is_some_and(|f| !f.is_empty()));
    let strip = |p: &[u8]| -> Value {
        let mut v: Value = serde_json::from_slice(p).unwrap();
        v["inventory"] = Value::Null;
        v
    };
    assert_eq!(strip(&plan), strip(&whole_plan));
}

#[test]
fn problems_in_a_large_file_are_located_as_ever() {
    let dir = tempfile::tempdir().unwrap();
    // The same id twice, far apart: both places are shown.
    let dup = inventory(12_000, |i| {
        good_vm(if i == 11_000 { 5 } else { i }).replace("vm-000005\"", &format!("vm-{i:06}\""))
    });
    std::fs::write(dir.path().join("dup.json"), &dup).unwrap();
    let (code, _, _, stderr) = audit(dir.path(), "dup.json");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("two VMs share the id"), "{stderr}");
    assert!(
        stderr.contains("first used here") && stderr.contains("used again here"),
        "{stderr}"
    );

    // A bad value near the end, in the second half: its line is named.
    let bad = inventory(12_000, |i| {
        if i == 11_500 {
            good_vm(i).replace("\"running\"", "\"runing\"")
        } else {
            good_vm(i)
        }
    });
    let line = bad.lines().position(|l| l.contains("runing")).unwrap() + 1;
    std::fs::write(dir.path().join("bad.json"), &bad).unwrap();
    let (code, _, _, stderr) = audit(dir.path(), "bad.json");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("did you mean `running`"), "{stderr}");
    assert!(
        stderr.contains(&format!("bad.json:{line}:")),
        "line {line}: {stderr}"
    );

    // Cut short: the end of the file is named.
    std::fs::write(dir.path().join("cut.json"), &bad[..bad.len() - 10]).unwrap();
    let (code, _, _, stderr) = audit(dir.path(), "cut.json");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cut.json"), "{stderr}");
}

/// The benchmark's generator (`benches/run.sh`), included to write a facts-bearing inventory.
#[allow(dead_code)]
#[path = "../examples/gen_inventory.rs"]
mod gen_inventory;

#[test]
fn a_generated_inventory_with_migration_facts_parses_and_audits() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.json");
    let args = gen_inventory::Args::parse_from(
        [
            "gen_inventory",
            "--hosts",
            "500",
            "--vms",
            "20000",
            "--seed",
            "3",
            "--facts",
            "--out",
        ]
        .into_iter()
        .map(std::ffi::OsString::from)
        .chain([path.clone().into_os_string()]),
    );
    let sink = Box::new(std::fs::File::create(&path).unwrap());
    // How many VMs overcommit a host does not matter here.
    gen_inventory::generate(&args, sink).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.len() > 1 << 20, "large enough to be read in pieces");
    // The proportions the generator promises, roughly: every kind of fact is there.
    for key in [
        "\"disks\":[{",
        "\"shared\":false",
        "\"media\":[{",
        "\"passthrough\":[\"pci:",
        "\"anti_affinity\":[",
        "\"allowed_hosts\":[",
        "\"attributes\":{",
        "\"template\":true",
        "\"cpu\":\"",
    ] {
        assert!(text.contains(key), "{key} missing");
    }

    // Read in pieces, as at scale, with every fact of every record.
    let file = std::fs::File::open(&path).unwrap();
    let (parsed, _) =
        preflight::inventory::read_native_in_pieces(&file, text.len() as u64, 1 << 20)
            .expect("read in pieces, not handed to the whole-file read");
    let inv = &parsed.inventory;
    assert_eq!(inv.vms.len(), 20_000);
    assert!(inv.vms.iter().all(|vm| vm.facts.is_some()));
    let carried = inv.facts_carried();
    for fact in preflight::model::Fact::ALL {
        assert!(carried.contains(fact), "{fact:?} not carried");
    }
    let with = |p: fn(&preflight::model::VmFacts) -> bool| {
        inv.vms
            .iter()
            .filter(|vm| vm.facts.as_deref().is_some_and(p))
            .count()
    };
    // The proportions the generator promises, within generous bounds.
    let local = with(|f| f.local_storage() == Some(true));
    assert!(
        (200..2_000).contains(&local),
        "{local} VMs with local storage"
    );
    let grouped = with(|f| !f.anti_affinity.is_empty());
    assert!(
        (500..1_500).contains(&grouped),
        "{grouped} VMs in anti-affinity groups"
    );
    let pinned = with(|f| f.allowed_hosts.len() == 2);
    assert!(
        (200..700).contains(&pinned),
        "{pinned} VMs with allowed hosts"
    );

    // An allowed host that names no host still goes to the whole-file read, which locates it.
    let at = text.find("\"allowed_hosts\":[\"").expect("an allowed host") + 17;
    let odd = format!("{}nowhere-{}", &text[..at], &text[at..]);
    let odd_path = dir.path().join("odd.json");
    std::fs::write(&odd_path, &odd).unwrap();
    let odd_file = std::fs::File::open(&odd_path).unwrap();
    assert!(
        preflight::inventory::read_native_in_pieces(&odd_file, odd.len() as u64, 1 << 20).is_none()
    );

    let (code, report, plan, stderr) = audit_host(dir.path(), "facts.json", "c001-h001");
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let digest = preflight::digest::sha256_hex(text.as_bytes());
    assert_eq!(report["inputs"]["inventory"][0]["sha256"], digest);
    assert!(report["findings"].as_array().is_some_and(|f| !f.is_empty()));
    assert!(!plan.is_empty(), "a plan was written");
}

fn audit_host(dir: &Path, file: &str, host: &str) -> (i32, Value, Vec<u8>, String) {
    let out = Command::cargo_bin("preflight")
        .expect("the binary")
        .current_dir(dir)
        .args(["audit", "--inventory", file, "--host", host])
        .args(["--format", "json", "--plan", "plan.json", "--now", NOW])
        .output()
        .expect("runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let plan = std::fs::read(dir.join("plan.json")).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        report,
        plan,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
