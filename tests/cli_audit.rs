//! `preflight audit` from the outside: exit codes, findings, reports and their bytes.

mod common;

use common::{EXAMPLE, NOW, findings, json, run};

fn vms_of(report: &serde_json::Value, rule: &str) -> Vec<String> {
    findings(report)
        .into_iter()
        .filter(|f| f.0 == rule && !f.3)
        .filter_map(|f| f.1)
        .collect()
}

#[test]
fn patch_flags_exactly_the_running_non_ha_vms_on_the_target() {
    let (code, out, err) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let r = json(&out);
    assert_eq!(vms_of(&r, "non-ha-running"), ["LAB-TEST01", "SQL01"]);
    assert!(
        vms_of(&r, "stranded-ha-vm").is_empty(),
        "stranded-ha-vm is a decommission rule"
    );
    assert_eq!(r["verdict"], "no-go");
    assert_eq!(r["exit_code"], 1);
    assert_eq!(r["summary"]["error"], 2);
}

#[test]
fn decommission_adds_the_ha_vms_that_are_not_running() {
    let (code, out, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--mode",
        "decommission",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let r = json(&out);
    assert_eq!(vms_of(&r, "stranded-ha-vm"), ["BUILD01", "FS01"]);
    assert_eq!(vms_of(&r, "non-ha-running"), ["LAB-TEST01", "SQL01"]);
}

#[test]
fn waived_findings_stay_in_the_report_and_the_verdict_is_go() {
    let (code, out, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--format",
        "json",
        "--policy",
        "builtin",
        "--policy",
        "examples/lab-waivers.toml",
    ]);
    assert_eq!(code, 0);
    let r = json(&out);
    assert_eq!(r["verdict"], "go");
    assert_eq!(r["summary"]["waived"], 2);
    let sql = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["vm"] == "SQL01")
        .unwrap();
    assert_eq!(sql["waived"], true);
    assert_eq!(sql["waiver"]["ticket"], "CHG0012345");
    assert_eq!(sql["waiver"]["location"], "examples/lab-waivers.toml:15:1");
}

#[test]
fn no_waivers_ignores_them() {
    let (code, out, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--format",
        "json",
        "--policy",
        "builtin",
        "--policy",
        "examples/lab-waivers.toml",
        "--no-waivers",
    ]);
    assert_eq!(code, 1);
    assert_eq!(json(&out)["summary"]["waived"], 0);
}

#[test]
fn expired_and_unused_waivers_are_warnings_pointing_at_the_file() {
    let args = [
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--format",
        "json",
        "--policy",
        "tests/fixtures/policies/expired-waiver.toml",
    ];
    let (code, out, _) = run(&args);
    assert_eq!(code, 1, "LAB-TEST01's waiver expired, so it blocks again");
    let r = json(&out);
    let f = findings(&r);
    assert!(f.contains(&(
        "non-ha-running".into(),
        Some("LAB-TEST01".into()),
        Some("HV01".into()),
        false
    )));
    assert!(f.contains(&(
        "non-ha-running".into(),
        Some("SQL01".into()),
        Some("HV01".into()),
        true
    )));
    let warnings: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "warning")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("expired-waiver.toml:7:1") && m.contains("expired on 2026-10-31"))
    );
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("expired-waiver.toml:21:1") && m.contains("matched no finding"))
    );
}

#[test]
fn fail_on_moves_only_the_threshold() {
    let base = [
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--policy",
        "tests/fixtures/policies/expired-waiver.toml",
    ];
    let with = |extra: &[&str]| run(&[&base[..], extra].concat()).0;
    assert_eq!(with(&["--fail-on", "never"]), 0);
    assert_eq!(with(&["--fail-on", "error"]), 1);
    assert_eq!(with(&["--fail-on", "warning"]), 1);
    let waived = [
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--policy",
        "builtin",
        "--policy",
        "examples/lab-waivers.toml",
    ];
    assert_eq!(run(&[&waived[..], &["--fail-on", "never"]].concat()).0, 0);
    // The example export carries no media or devices: local-media and local-device say so in
    // a warning each, which a `--fail-on warning` run counts.
    assert_eq!(run(&[&waived[..], &["--fail-on", "warning"]].concat()).0, 1);
}

#[test]
fn draining_two_hosts_overflows_the_third() {
    let (code, out, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--host",
        "HV02",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let r = json(&out);
    let cap: Vec<_> = findings(&r)
        .into_iter()
        .filter(|f| f.0 == "capacity")
        .collect();
    // HV03 has memory free but not above the 10% floor: the drain (like the plan) puts
    // nothing there that would break the floor, and the VMs that do not fit are the findings.
    assert!(
        cap.iter().any(|f| f.1.as_deref() == Some("APP03"))
            && cap.iter().any(|f| f.1.as_deref() == Some("RDS01")),
        "some VMs fit nowhere: {cap:?}"
    );
    let hv03 = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "HV03")
        .unwrap();
    assert!(hv03["used_after_pct"].as_f64().unwrap() <= 90.0);
}

#[test]
fn unknown_capacity_is_a_finding_not_a_guess() {
    let (code, out, _) = run(&[
        "audit",
        "--inventory",
        "tests/fixtures/inventories/unknown-capacity.json",
        "--host",
        "HV01",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let r = json(&out);
    let cap = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "capacity")
        .expect("a capacity finding");
    assert_eq!(cap["evidence"]["capacity"], "unknown");
    // SQL01 has no HA flag: the rule cannot judge it, and says so instead of passing it.
    let sql = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["vm"] == "SQL01")
        .expect("SQL01 is reported");
    assert_eq!(sql["evidence"]["undetermined"], serde_json::json!(["ha"]));
    assert_eq!(r["request"]["platform_source"], "assumed");
    assert!(
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("does not say which platform"))
    );
}

#[test]
fn a_stale_inventory_exits_3_and_still_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("report.json");
    let out_str = out_path.to_str().unwrap();
    let (code, stdout, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        "2026-11-27T17:00:00Z",
        "--policy",
        "tests/fixtures/policies/stale.toml",
        "--format",
        "json",
        "--output",
        out_str,
    ]);
    assert_eq!(code, 3);
    assert!(stdout.is_empty(), "the report goes to --output only");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(r["verdict"], "untrusted");
    assert_eq!(r["exit_code"], 3);
    assert!(
        r["exit_reason"]
            .as_str()
            .unwrap()
            .contains("2d 1h before --now"),
        "{}",
        r["exit_reason"]
    );
    // Within the limit, the same policy judges normally.
    let (code, _, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--policy",
        "tests/fixtures/policies/stale.toml",
    ]);
    assert_eq!(code, 1);
}

#[test]
fn hosts_match_short_names_and_report_ambiguity() {
    let inv = "tests/fixtures/inventories/fqdn-ambiguous.json";
    let (code, out, _) = run(&[
        "audit",
        "--inventory",
        inv,
        "--host",
        "hv02",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        json(&out)["request"]["hosts"],
        serde_json::json!(["HV02.contoso.local"])
    );
    let (code, _, err) = run(&["audit", "--inventory", inv, "--host", "hv01", "--now", NOW]);
    assert_eq!(code, 2);
    insta::assert_snapshot!("ambiguous_host", err);
    let (code, _, err) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV1",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 2);
    insta::assert_snapshot!("unknown_host", err);
}

#[test]
fn bad_inventory_values_exit_2_with_line_and_column() {
    let (code, out, err) = run(&[
        "audit",
        "--inventory",
        "tests/fixtures/inventories/negative.json",
        "--host",
        "H",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    insta::assert_snapshot!("negative_memory", err);
    let (code, _, err) = run(&["audit", "--inventory", "no/such/file.json", "--host", "H"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read inventory no/such/file.json"),
        "{err}"
    );
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(
        run(&[
            "audit",
            "--inventory",
            EXAMPLE,
            "--host",
            "HV01",
            "--now",
            "yesterday"
        ])
        .0,
        2
    );
    assert_eq!(run(&["audit", "--inventory", EXAMPLE]).0, 2);
    assert_eq!(
        run(&[
            "audit",
            "--inventory",
            EXAMPLE,
            "--host",
            "HV01",
            "--mode",
            "reboot"
        ])
        .0,
        2
    );
    assert_eq!(run(&["--help"]).0, 0);
}

#[test]
fn the_same_run_twice_gives_the_same_bytes() {
    for format in ["table", "json"] {
        let args = [
            "audit",
            "--inventory",
            EXAMPLE,
            "--host",
            "HV01",
            "--mode",
            "decommission",
            "--now",
            NOW,
            "--format",
            format,
            "--policy",
            "builtin",
            "--policy",
            "examples/lab-waivers.toml",
        ];
        assert_eq!(run(&args), run(&args), "{format}");
    }
}

#[test]
fn table_report_snapshot() {
    let (_, out, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--mode",
        "decommission",
        "--now",
        NOW,
        "--policy",
        "builtin",
        "--policy",
        "examples/lab-waivers.toml",
    ]);
    insta::assert_snapshot!("table_decommission_waived", out);
}

#[test]
fn json_report_snapshot() {
    let (_, out, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    insta::assert_snapshot!("json_patch", out);
}

#[test]
fn output_file_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    std::fs::write(&path, "old contents").unwrap();
    let (code, stdout, _) = run(&[
        "audit",
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--format",
        "json",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(json(&written)["schema"], "preflight/report/v1");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    use std::io::Read;
    // 3000 running non-HA VMs on the drained host: a report far larger than a pipe's buffer.
    let vms: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                r#"{{"name":"vm{i}","host":"HV01","state":"running","ha":false,"memory_mb":1024}}"#
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("big.json");
    std::fs::write(&inv, format!(r#"{{"vms":[{}]}}"#, vms.join(","))).unwrap();
    for format in ["json", "table", "sarif"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args([
                "audit",
                "--inventory",
                inv.to_str().unwrap(),
                "--host",
                "HV01",
                "--now",
                NOW,
                "--format",
                format,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The pipe closes here, while preflight still has most of the report to write.
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The example cluster's hosts, as a hosts-only export lists them: not a single VM.
const HOSTS_ONLY: &str = r#"{"collected_at":"2026-11-25T16:00:00Z","platform":"hyperv","hosts":[
  {"name":"HV01","cluster":"CL-PROD","state":"up","memory_mb":262144},
  {"name":"HV02","cluster":"CL-PROD","state":"up","memory_mb":262144},
  {"name":"HV03","cluster":"CL-PROD","state":"up","memory_mb":196608}]}"#;

#[test]
fn an_inventory_without_a_single_vm_proves_nothing() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let hosts = dir.path().join("hosts.json");
    std::fs::write(&hosts, HOSTS_ONLY).expect("written");
    let hosts = hosts.to_str().expect("utf-8 temp path");
    let (code, out, err) = run(&[
        "audit",
        "--inventory",
        hosts,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(code, 3, "{err}");
    let r = json(&out);
    assert_eq!(r["verdict"], "untrusted");
    let reason = r["exit_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not a single VM"), "{reason}");
    // Merged with a file that has VMs, the same hosts are judged as usual.
    let (code, _, err) = run(&[
        "audit",
        "--inventory",
        hosts,
        "--inventory",
        EXAMPLE,
        "--host",
        "HV01",
        "--now",
        NOW,
        "--quiet",
    ]);
    assert_eq!(code, 1, "{err}");
    // The table says why too.
    let (code, out, _) = run(&[
        "audit",
        "--inventory",
        hosts,
        "--host",
        "HV01",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 3);
    assert!(out.contains("not a single VM"), "{out}");
}

#[test]
fn decommission_stops_for_stopped_non_ha_vms_and_templates() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let inventory = dir.path().join("pve.json");
    std::fs::write(
        &inventory,
        r#"{"collected_at":"2026-11-25T16:00:00Z","platform":"proxmox","hosts":[
          {"name":"pve1","cluster":"C1","state":"up","memory_mb":131072},
          {"name":"pve2","cluster":"C1","state":"up","memory_mb":131072}],
        "vms":[
          {"name":"web01","host":"pve1","state":"running","ha":true,"memory_mb":8192},
          {"name":"build-old","host":"pve1","state":"off","ha":false,"memory_mb":4096},
          {"name":"tpl-debian12","host":"pve1","state":"off","ha":false,"template":true,"memory_mb":2048},
          {"name":"tpl-running","host":"pve1","state":"running","ha":false,"template":true,"memory_mb":2048}]}"#,
    )
    .expect("written");
    let path = inventory.to_str().expect("utf-8 temp path");
    let audit = |mode: &str| {
        let (code, out, err) = run(&[
            "audit",
            "--inventory",
            path,
            "--host",
            "pve1",
            "--mode",
            mode,
            "--now",
            NOW,
            "--format",
            "json",
        ]);
        (code, json(&out), err)
    };
    let (code, r, err) = audit("decommission");
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        vms_of(&r, "stranded-vm"),
        ["build-old", "tpl-debian12", "tpl-running"]
    );
    // A template is never a running VM without HA to live-migrate.
    assert!(vms_of(&r, "non-ha-running").is_empty());
    let template = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["vm"] == "tpl-debian12")
        .expect("the template's finding");
    let message = template["message"].as_str().unwrap_or_default();
    assert!(message.contains("it is a template"), "{message}");
    assert!(message.contains("lost with the host"), "{message}");
    // Patching keeps the host: nothing is lost, and a template blocks nothing.
    let (code, r, err) = audit("patch");
    assert_eq!(code, 0, "{err}: {r}");
}
