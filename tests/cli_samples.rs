//! Every sample export audits as it comes from the platform's tools, with the right findings.

mod common;

use common::{NOW, findings, json, run};

const DIR: &str = "tests/fixtures/inventory";

fn audit(file: &str, host: &str, mode: &str) -> (i32, serde_json::Value) {
    let path = format!("{DIR}/{file}");
    let (code, out, err) = run(&[
        "audit",
        "--inventory",
        &path,
        "--host",
        host,
        "--mode",
        mode,
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert!(code == 0 || code == 1, "{file}: exit {code}\n{err}");
    (code, json(&out))
}

fn flagged(r: &serde_json::Value, rule: &str) -> Vec<String> {
    findings(r)
        .into_iter()
        .filter(|f| f.0 == rule)
        .filter_map(|f| f.1)
        .collect()
}

#[test]
fn scvmm_utf16_and_utf8_read_the_same() {
    for file in [
        "scvmm-ps51.json",
        "scvmm-ps51-redirected-utf16le.json",
        "scvmm-ps51-utf16be.json",
        "scvmm-ps51-utf8bom.json",
    ] {
        let (code, r) = audit(file, "hv01", "patch");
        assert_eq!(code, 1, "{file}");
        assert_eq!(flagged(&r, "non-ha-running"), ["SQL01"], "{file}");
        assert_eq!(r["request"]["platform"], "scvmm");
        assert_eq!(
            r["request"]["hosts"],
            serde_json::json!(["HV01.contoso.local"])
        );
        let (_, r) = audit(file, "HV02", "decommission");
        assert_eq!(flagged(&r, "non-ha-running"), ["TEST01"], "{file}");
        assert_eq!(flagged(&r, "stranded-ha-vm"), ["APP01"], "{file}");
        let (_, r) = audit(file, "HV03", "decommission");
        assert_eq!(flagged(&r, "stranded-ha-vm"), ["WEB02"], "{file}");
    }
}

#[test]
fn unknown_host_capacity_is_said_plainly() {
    let (_, out, _) = run(&[
        "audit",
        "--inventory",
        &format!("{DIR}/scvmm-ps51-redirected-utf16le.json"),
        "--host",
        "hv01",
        "--now",
        NOW,
    ]);
    insta::assert_snapshot!("scvmm_utf16_table", out);
}

#[test]
fn a_combined_scvmm_inventory_says_what_it_could_not_judge() {
    let (code, r) = audit("scvmm-get-inventory-combined.json", "hv-a", "patch");
    assert_eq!(code, 1, "running VMs of unknown HA block the gate");
    let undetermined: Vec<_> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["evidence"]["undetermined"] == serde_json::json!(["ha"]))
        .collect();
    assert_eq!(undetermined.len(), 4, "the four running VMs on hv-a");
    let notes = r["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("13 of the inventory's records have no `ha`")
            && n.as_str().unwrap().contains("IsHighlyAvailable")),
        "{notes:?}"
    );
}

#[test]
fn hyperv_exports_flag_the_non_clustered_running_vms() {
    // (file, host, non-ha-running, stranded-ha-vm) in decommission mode.
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        ("hyperv-getvm.csv", "N1", &["SQL01"], &["APP01"]),
        ("hyperv-getvm.csv", "n2", &["TEST01"], &["WEB02"]),
        ("hyperv-getvm-notype.csv", "N1", &["SQL01"], &[]),
        ("hyperv-getvm-semicolon.csv", "N1", &["SQL01"], &[]),
        ("hyperv-getvm-semicolon.csv", "N2", &[], &["APP01", "WEB02"]),
        // CRIT01's State 32785 differs between Windows versions: unknown, so undetermined.
        (
            "hyperv-getvm.json",
            "N2",
            &[],
            &["APP01", "CRIT01", "WEB02"],
        ),
    ];
    for (file, host, non_ha, stranded) in cases {
        let (_, r) = audit(file, host, "decommission");
        assert_eq!(flagged(&r, "non-ha-running"), *non_ha, "{file} {host}");
        assert_eq!(flagged(&r, "stranded-ha-vm"), *stranded, "{file} {host}");
        assert_eq!(r["request"]["platform"], "hyperv");
    }
}

#[test]
fn proxmox_only_ha_guests_move() {
    let (code, r) = audit("proxmox-resources.json", "pve1", "patch");
    assert_eq!(code, 1);
    assert_eq!(flagged(&r, "non-ha-running"), ["sql01"]);
    let sql = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["vm"] == "sql01")
        .unwrap();
    assert!(
        sql["message"]
            .as_str()
            .unwrap()
            .contains("HA stack does not touch it"),
        "{sql}"
    );
    let (_, r) = audit("proxmox-resources.json", "pve2", "decommission");
    assert_eq!(
        flagged(&r, "stranded-ha-vm"),
        ["app01"],
        "hastate stopped: maintenance leaves it behind"
    );
}
