//! The report formats as their consumers see them: snapshots of every format for the example,
//! byte-identical reruns, SARIF against the 2.1.0 schema, JUnit read back by two readers,
//! escaping of hostile names in Markdown and HTML, and the HTML page rendered by Chromium.

use std::process::Command;

const FORMATS: &[&str] = &["table", "json", "sarif", "junit", "markdown", "html"];
const EXAMPLE: &[&str] = &[
    "audit",
    "--inventory",
    "examples/hyperv-cluster.json",
    "--host",
    "HV01",
    "--now",
    "2026-11-25T17:00:00Z",
];
const WAIVERS: &[&str] = &[
    "--policy",
    "builtin",
    "--policy",
    "examples/lab-waivers.toml",
];

/// Runs preflight from the crate root (so input paths stay relative) and returns stdout and
/// the exit code.
fn run(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("preflight runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "preflight panicked: {stderr}");
    (
        String::from_utf8(out.stdout).expect("utf-8 output"),
        out.status.code().unwrap_or(-1),
    )
}

fn example(format: &str, waivers: bool) -> (String, i32) {
    let mut args = EXAMPLE.to_vec();
    if waivers {
        args.extend_from_slice(WAIVERS);
    }
    args.extend_from_slice(&["--format", format]);
    run(&args)
}

#[test]
fn every_format_is_snapshotted() {
    for format in FORMATS {
        let (out, code) = example(format, false);
        assert_eq!(code, 1, "{format}: the example without waivers is no-go");
        insta::assert_snapshot!(format!("example_{format}"), out);
        let (out, code) = example(format, true);
        assert_eq!(code, 0, "{format}: the waivers make it go");
        insta::assert_snapshot!(format!("example_waived_{format}"), out);
    }
}

#[test]
fn every_format_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    for format in FORMATS {
        let first = example(format, true).0;
        assert_eq!(first, example(format, true).0, "{format} differs on rerun");
        // --output writes the same bytes as stdout.
        let file = dir.path().join(format!("report.{format}"));
        let mut args = EXAMPLE.to_vec();
        args.extend_from_slice(WAIVERS);
        let path = file.to_str().unwrap();
        args.extend_from_slice(&["--format", format, "--output", path]);
        run(&args);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), first, "{format}");
    }
}

#[test]
fn quiet_prints_the_verdict_line_and_still_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.md");
    let mut args = EXAMPLE.to_vec();
    args.extend_from_slice(&["--format", "markdown", "--quiet", "--output"]);
    args.push(file.to_str().unwrap());
    let (out, code) = run(&args);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "NO-GO: 2 unwaived finding(s) at or above error (exit 1)\n"
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("# NO-GO")
    );
}

/// The schema's `language` patterns (of `run` and `toolComponent`) have a stray `]` that
/// ECMA-262 regex syntax rejects, and jsonschema checks every pattern against the draft-07
/// meta-schema. The vendored file stays as published; the two patterns are repaired here (we
/// never write `language`).
const LANGUAGE_PATTERN: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
const LANGUAGE_PATTERN_FIXED: &str = r#""^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$""#;

fn sarif_validator() -> jsonschema::Validator {
    let text = include_str!("fixtures/schemas/sarif-schema-2.1.0.json");
    assert_eq!(text.matches(LANGUAGE_PATTERN).count(), 2);
    let text = text.replace(LANGUAGE_PATTERN, LANGUAGE_PATTERN_FIXED);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn schema_errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_passes_the_2_1_0_schema() {
    let validator = sarif_validator();
    for waivers in [false, true] {
        let doc: serde_json::Value = serde_json::from_str(&example("sarif", waivers).0).unwrap();
        let errors = schema_errors(&validator, &doc);
        assert!(errors.is_empty(), "waivers={waivers}: {errors:#?}");
    }
    // The validator does reject a broken log: a result without its required message.
    let mut doc: serde_json::Value = serde_json::from_str(&example("sarif", false).0).unwrap();
    doc["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!schema_errors(&validator, &doc).is_empty());
}

#[test]
fn sarif_locates_fingerprints_and_suppresses() {
    let doc: serde_json::Value = serde_json::from_str(&example("sarif", true).0).unwrap();
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules[0]["id"], "non-ha-running");
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
    assert!(
        rules[0]["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Live-migrate")
    );
    let sql = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["message"]["text"].as_str().unwrap().starts_with("SQL01"))
        .unwrap();
    let logical = &sql["locations"][0]["logicalLocations"][0];
    assert_eq!(logical["fullyQualifiedName"], "CL-PROD/HV01/SQL01");
    assert_eq!(logical["kind"], "vm");
    let index = logical["index"].as_u64().unwrap() as usize;
    assert_eq!(
        run["logicalLocations"][index]["fullyQualifiedName"],
        "CL-PROD/HV01/SQL01"
    );
    // The fingerprint is the digest of (rule, host, vm) alone: stable as messages change.
    let digest = sha2_hex(b"non-ha-running\0HV01\0SQL01");
    assert_eq!(sql["partialFingerprints"]["preflight/v1"], digest.as_str());
    // GitHub's fingerprint: rule, VM id and host, not the line.
    let digest = sha2_hex(b"non-ha-running\x003aa107a7-f766-47f0-a2ad-9817a9a53123\0hv01");
    assert_eq!(
        sql["partialFingerprints"]["primaryLocationLineHash"],
        digest.as_str()
    );
    // The record in the inventory file: the line of the VM's id, as a relative URI.
    let physical = &sql["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "examples/hyperv-cluster.json"
    );
    assert_eq!(physical["region"]["startLine"], 43);
    assert_eq!(physical["region"]["startColumn"], 13);
    // Waived: a note, so code scanning shows no open error alert (it ignores suppressions).
    assert_eq!(sql["level"], "note");
    assert_eq!(
        run["tool"]["driver"]["informationUri"],
        env!("CARGO_PKG_REPOSITORY")
    );
    for rule in rules {
        assert_ne!(
            rule["name"].as_str().unwrap().to_lowercase(),
            rule["id"].as_str().unwrap().to_lowercase()
        );
    }
    assert_eq!(rules[0]["name"], "NonHaRunning");
    assert_eq!(
        rules[0]["shortDescription"]["text"],
        "Running VM is not highly available"
    );
    assert!(
        rules[0]["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("README.md#policies")
    );
    let s = &sql["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["properties"]["ticket"], "CHG0012345");
    assert!(s["justification"].as_str().unwrap().contains("local NVMe"));
    let inv = &run["invocations"][0];
    assert_eq!(inv["exitCode"], 0);
    assert_eq!(inv["executionSuccessful"], true);
}

#[test]
fn json_findings_carry_vm_id_title_size_and_the_collection_time() {
    let doc: serde_json::Value = serde_json::from_str(&example("json", false).0).unwrap();
    assert_eq!(doc["inputs"]["collected_at"], "2026-11-25T16:00:00Z");
    let keys: Vec<&String> = doc["inputs"].as_object().unwrap().keys().collect();
    assert!(keys.contains(&&"collected_at".to_string()));
    let sql = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["vm"] == "SQL01")
        .unwrap();
    assert_eq!(sql["vm_id"], "3aa107a7-f766-47f0-a2ad-9817a9a53123");
    assert_eq!(sql["title"], "Running VM is not highly available");
    assert_eq!(sql["evidence"]["memory_mb"], 65536);
    assert_eq!(sql["evidence"]["vcpus"], 8);
    // The key order: what was there stays in place, the new keys next to their kin.
    let text = example("json", false).0;
    let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
    assert!(at("rule") < at("title") && at("title") < at("severity"));
    assert!(at("vm") < at("vm_id") && at("vm_id") < at("host"));
}

fn sha2_hex(bytes: &[u8]) -> String {
    preflight::digest::sha256_hex(bytes)
}

#[test]
fn junit_reads_back() {
    let (xml, _) = example("junit", false);
    // quick-junit's own reader...
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit parses");
    let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "preflight",
            "non-ha-running",
            "local-media",
            "local-device",
            "capacity",
            "anti-affinity",
            "allowed-hosts",
            "network",
            "cpu"
        ]
    );
    // ...and an independent XML parser: every VM on HV01 is a test case, two of them fail.
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("non-ha-running"))
        .unwrap();
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 9);
    assert_eq!(suite.attribute("tests"), Some("9"));
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    // A VM with an id is named with it: two VMs of the same name are two test cases.
    assert_eq!(
        failed,
        [
            "CL-PROD/HV01/LAB-TEST01 (fb05e678-91e5-44af-afc9-6704d08332b3)",
            "CL-PROD/HV01/SQL01 (3aa107a7-f766-47f0-a2ad-9817a9a53123)"
        ]
    );
    assert!(cases.iter().all(|c| c.attribute("time") == Some("0.000")));
    let failure = cases[5]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(failure.attribute("type"), Some("error"));
    assert!(
        failure
            .text()
            .unwrap()
            .contains("remediation: Live-migrate")
    );
    // Waived findings are skipped tests with the waiver's reason.
    let (xml, _) = example("junit", true);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let skipped: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .map(|n| n.attribute("message").unwrap())
        .collect();
    assert_eq!(skipped.len(), 2);
    assert!(skipped[1].contains("local NVMe"), "{skipped:?}");
}

#[test]
fn markdown_and_html_carry_the_same_content() {
    let md = example("markdown", true).0;
    let html = example("html", true).0;
    for needle in [
        "GO: no unwaived finding",
        "Waivers applied",
        "CHG0012345",
        "2026-12-15",
        "dba-team",
        "45.3% (116 GiB)",
        "26.6% (68 GiB)",
        "473f27b9e1f3840003302433db89a630424bbae03972851f71e2fbcf775ef9ad",
    ] {
        assert!(md.contains(needle), "markdown lacks {needle}");
        assert!(html.contains(needle), "html lacks {needle}");
    }
}

#[path = "report_formats/chromium.rs"]
mod chromium;
#[path = "report_formats/consumers.rs"]
mod consumers;
#[path = "report_formats/escaping.rs"]
mod escaping;
#[path = "report_formats/restore.rs"]
mod restore;

#[test]
fn completions_and_man_pages_know_the_formats() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (out, code) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(out.contains("quiet"), "{shell}");
        // PowerShell's and Elvish's scripts complete flags, not their values.
        if !matches!(shell, "powershell" | "elvish") {
            assert!(out.contains("markdown") && out.contains("sarif"), "{shell}");
        }
    }
    let (page, code) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH preflight 1"), "{page}");
    for sub in ["audit", "validate", "rules", "explain", "completions"] {
        let (page, code) = run(&["man", sub]);
        assert_eq!(code, 0, "{sub}");
        assert!(page.contains(&format!(".TH preflight-{sub} 1")), "{page}");
    }
    let (page, _) = run(&["man", "audit"]);
    assert!(
        page.contains("\\-\\-quiet") && page.contains("junit"),
        "{page}"
    );
    assert_eq!(run(&["man", "nonsense"]).1, 2);
}

#[test]
fn untrusted_input_still_gives_valid_reports() {
    // The example was collected at 16:00; a one-minute limit makes it too old (exit 3).
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("strict.toml");
    std::fs::write(&policy, "[policy]\nmax_inventory_age = \"1m\"\n").unwrap();
    let mut args = EXAMPLE.to_vec();
    args.extend_from_slice(&["--policy", "builtin", "--policy", policy.to_str().unwrap()]);
    let with = |format: &'static str| {
        let mut a = args.clone();
        a.extend_from_slice(&["--format", format]);
        run(&a)
    };
    let (sarif, code) = with("sarif");
    assert_eq!(code, 3);
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert!(schema_errors(&sarif_validator(), &doc).is_empty());
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["exitCode"], 3);
    // No verdict to act on: code scanning shows the run as failed, and why.
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(inv["properties"]["verdict"], "untrusted");
    let why = &inv["toolExecutionNotifications"][0];
    assert_eq!(why["level"], "error");
    assert!(
        why["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("UNTRUSTED: the inventory was collected"),
        "{why}"
    );
    let (xml, _) = with("junit");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let verdict = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("verdict"))
        .unwrap();
    let failure = verdict
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(failure.attribute("type"), Some("untrusted"));
    assert!(with("markdown").0.starts_with("# UNTRUSTED"));
    assert!(
        with("html")
            .0
            .contains("<span class=\"badge untrusted\">UNTRUSTED</span>")
    );
}
