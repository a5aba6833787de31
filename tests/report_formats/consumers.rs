//! The reports as the tools that consume them judge them: Microsoft's SARIF Multitool with its
//! SARIF and GitHub rules (what code scanning needs to accept an upload), and `xmllint` with the
//! Jenkins xUnit plugin's JUnit schema (`jenkins-xunit-junit-10.xsd`, copied here).
//!
//! The tests that run a tool are `#[ignore]`d, so that a plain `cargo test` never claims they
//! passed; `.ci/run` installs the tools (the Multitool with npm into a cache folder, `xmllint`
//! from Debian's libxml2-utils), points `PREFLIGHT_SARIF_MULTITOOL` at the Multitool and runs
//! them with `--include-ignored`, where a missing tool fails them: a check that cannot run has
//! not passed.

use super::{EXAMPLE, WAIVERS, run};
use std::path::{Path, PathBuf};
use std::process::Command;

const SCHEMA: &str = "tests/report_formats/jenkins-xunit-junit-10.xsd";
const TWINS: &str = "tests/report_formats/twins.json";
const TWINS_CSV: &str = "tests/report_formats/twins.csv";
const TWINS_WARN: &str = "tests/report_formats/twins-warn.toml";

/// The Multitool's self-contained Linux binary, as `npm install @microsoft/sarif-multitool`
/// leaves it (`.ci/run` does so under `~/.cache/preflight-consumers`).
fn multitool() -> PathBuf {
    let path = match std::env::var_os("PREFLIGHT_SARIF_MULTITOOL") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(
            ".cache/preflight-consumers/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool",
        ),
    };
    if path.is_file() {
        return path;
    }
    panic!(
        "the SARIF Multitool is not at {}: run .ci/run (npm install @microsoft/sarif-multitool) or set PREFLIGHT_SARIF_MULTITOOL",
        path.display()
    );
}

fn xmllint() {
    let found = Command::new("xmllint").arg("--version").output().is_ok();
    assert!(
        found,
        "xmllint not found: apt-get install libxml2-utils (.ci/run does)"
    );
}

/// Writes the report of `args` (without `--format`) in `format` to `dir/name`, and returns
/// the exit code.
fn write(dir: &Path, name: &str, args: &[&str], format: &str) -> i32 {
    let path = dir.join(name);
    let mut a = args.to_vec();
    let p = path.to_str().unwrap();
    a.extend_from_slice(&["--format", format, "--output", p]);
    let code = run(&a).1;
    assert!(path.is_file(), "{name}: no report written");
    code
}

/// The runs every consumer must accept: no-go, go (waived, and clean), untrusted input
/// (exit 3), could not evaluate (exit 2), and a CSV inventory with two VMs of one name.
fn reports(dir: &Path, format: &str) -> Vec<String> {
    let strict = dir.join("strict.toml");
    std::fs::write(&strict, "[policy]\nmax_inventory_age = \"1m\"\n").unwrap();
    let strict = strict.to_str().unwrap().to_string();
    let with = |extra: &[&str]| -> Vec<String> {
        EXAMPLE.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let twins = |inventory: &str, policy: &str| -> Vec<String> {
        [
            "audit",
            "--inventory",
            inventory,
            "--host",
            "HV01",
            "--now",
            "2026-11-25T17:00:00Z",
            "--policy",
            policy,
        ]
        .map(String::from)
        .to_vec()
    };
    let cases: Vec<(&str, Vec<String>, i32)> = vec![
        ("nogo", with(&[]), 1),
        ("waived", with(WAIVERS), 0),
        ("go", twins(TWINS, TWINS_WARN), 0),
        (
            "untrusted",
            with(&["--policy", "builtin", "--policy", &strict]),
            3,
        ),
        (
            "error",
            with(&["--inventory", "tests/report_formats/absent.json"]),
            2,
        ),
        ("twins-csv", twins(TWINS_CSV, "builtin"), 1),
    ];
    cases
        .into_iter()
        .map(|(name, args, want)| {
            let file = format!("{name}.{format}");
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            assert_eq!(write(dir, &file, &args, format), want, "{file}");
            file
        })
        .collect()
}

#[test]
#[ignore = "runs Microsoft's SARIF Multitool, which .ci/run installs"]
fn sarif_multitool_finds_no_error_or_warning() {
    let tool = multitool();
    let dir = tempfile::tempdir().unwrap();
    let mut files = reports(dir.path(), "sarif");
    // The check can fail: a log with an absolute path and no region draws errors.
    let mut broken: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("nogo.sarif")).unwrap()).unwrap();
    let physical = &mut broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    physical["artifactLocation"]["uri"] = "/abs/inventory.json".into();
    physical.as_object_mut().unwrap().remove("region");
    std::fs::write(dir.path().join("broken.sarif"), broken.to_string()).unwrap();
    files.push("broken.sarif".into());

    let out = dir.path().join("validation.sarif");
    let status = Command::new(&tool)
        .current_dir(dir.path())
        // A .NET binary: no ICU needed for what it does here.
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .args([
            "validate",
            "--rule-kind",
            "Sarif;Gh",
            "--level",
            "Error;Warning",
        ])
        .args(["--log", "ForceOverwrite", "-o"])
        .arg(&out)
        .args(&files)
        .output()
        .expect("the Multitool runs");
    assert!(
        out.is_file(),
        "no validation log: {}",
        String::from_utf8_lossy(&status.stdout)
    );
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    // (file, rule, level) of every error and warning.
    let problems: Vec<(String, String, String)> = log["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default();
            let file = uri.rsplit('/').next().unwrap_or_default().to_string();
            let level = r["level"].as_str().unwrap_or("warning").to_string();
            (file, r["ruleId"].as_str().unwrap_or("?").to_string(), level)
        })
        .collect();
    let ours: Vec<_> = problems.iter().filter(|p| p.0 != "broken.sarif").collect();
    assert!(ours.is_empty(), "{ours:#?}");
    let broken: Vec<&str> = problems
        .iter()
        .filter(|p| p.0 == "broken.sarif")
        .map(|p| p.1.as_str())
        .collect();
    assert!(
        broken.contains(&"SARIF1004") && broken.contains(&"SARIF2017"),
        "{broken:?}"
    );
}

#[test]
#[ignore = "runs xmllint, which .ci/run installs"]
fn junit_validates_against_the_jenkins_xunit_schema() {
    xmllint();
    let dir = tempfile::tempdir().unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA);
    let lint = |file: &Path| {
        Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&schema)
            .arg(file)
            .output()
            .expect("xmllint runs")
    };
    for name in reports(dir.path(), "junit") {
        let out = lint(&dir.path().join(&name));
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The schema does reject what it should: a `skipped` count on `<testsuites>`.
    let waived = std::fs::read_to_string(dir.path().join("waived.junit")).unwrap();
    let bad = waived.replacen("<testsuites ", "<testsuites skipped=\"2\" ", 1);
    let bad_file = dir.path().join("bad.junit");
    std::fs::write(&bad_file, bad).unwrap();
    assert!(!lint(&bad_file).status.success());
}

#[test]
fn junit_fails_only_what_blocks_and_tells_twins_apart() {
    let args = [
        "audit",
        "--inventory",
        TWINS,
        "--host",
        "HV01",
        "--now",
        "2026-11-25T17:00:00Z",
        "--policy",
        TWINS_WARN,
        "--format",
        "junit",
    ];
    let (xml, code) = run(&args);
    assert_eq!(code, 0, "warnings below --fail-on error: GO");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert!(
        !doc.descendants().any(|n| n.has_tag_name("failure")),
        "a GO run is green: {xml}"
    );
    let cases: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase") && n.attribute("classname") == Some("non-ha-warn"))
        .collect();
    let names: Vec<&str> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert_eq!(
        names,
        [
            "CL-TWIN/HV01/DB",
            "CL-TWIN/HV01/WEB (0a1b2c3d-0000-4000-8000-000000000001)",
            "CL-TWIN/HV01/WEB (0a1b2c3d-0000-4000-8000-000000000002)",
        ]
    );
    // The warning is in the passing test's output.
    let out = cases[2]
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(out.contains("warning: WEB runs on HV01"), "{out}");
    assert!(out.contains("\"memory_mb\":4096"), "{out}");
    // With --fail-on warning the same findings fail, one test each.
    let mut strict = args.to_vec();
    strict.extend_from_slice(&["--fail-on", "warning"]);
    let (xml, code) = run(&strict);
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        4,
        "three VMs and the verdict"
    );
}

#[test]
fn sarif_points_at_each_twin_and_the_workbook_sheet() {
    let sarif_of = |inventory: &str, host: &str| -> serde_json::Value {
        let (out, _) = run(&[
            "audit",
            "--inventory",
            inventory,
            "--host",
            host,
            "--now",
            "2026-11-25T17:00:00Z",
            "--format",
            "sarif",
        ]);
        serde_json::from_str(&out).unwrap()
    };
    let sarif = |inventory: &str| sarif_of(inventory, "HV01");
    let regions = |doc: &serde_json::Value| -> Vec<(String, u64)> {
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let p = &r["locations"][0]["physicalLocation"];
                (
                    p["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                    p["region"]["startLine"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // CSV: each twin's own row, the first one spanning two lines; the gap warnings of
    // local-media and local-device (the CSV carries no media or devices), and of network and
    // cpu (nor networks or CPUs), sit at the row of the first VM they leave undecided.
    let mut csv = regions(&sarif(TWINS_CSV));
    csv.sort();
    assert_eq!(
        csv,
        [
            (TWINS_CSV.to_string(), 3),
            (TWINS_CSV.to_string(), 3),
            (TWINS_CSV.to_string(), 3),
            (TWINS_CSV.to_string(), 3),
            (TWINS_CSV.to_string(), 3),
            (TWINS_CSV.to_string(), 5)
        ]
    );
    // JSON: the line of each twin's id, and of the name of the VM without one; the four gap
    // warnings at the record of the host they name.
    let mut json = regions(&sarif(TWINS));
    json.sort();
    assert_eq!(
        json,
        [
            (TWINS.to_string(), 6),
            (TWINS.to_string(), 6),
            (TWINS.to_string(), 6),
            (TWINS.to_string(), 6),
            (TWINS.to_string(), 10),
            (TWINS.to_string(), 11),
            (TWINS.to_string(), 12)
        ]
    );
    // A workbook: line 1, and the sheet and row as a logical location.
    let doc = sarif_of("examples/vsphere-rvtools.xlsx", "esx11");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    // The VM's finding (the gap warnings of local-media and local-device sit at the host's
    // vHost row).
    let about_vm: Vec<_> = results
        .iter()
        .filter(|r| r["ruleId"] == "non-ha-running")
        .collect();
    assert!(!about_vm.is_empty());
    for r in about_vm {
        let l = &r["locations"][0];
        assert_eq!(l["physicalLocation"]["region"]["startLine"], 1);
        let row = l["logicalLocations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["kind"] == "worksheetRow")
            .unwrap_or_else(|| panic!("no sheet row: {l}"));
        // app-old, the one VM of esx11 that is not highly available, is row 9 of vInfo.
        assert_eq!(row["fullyQualifiedName"], "vInfo!9:9", "{row}");
        assert_eq!(row["name"], "vInfo row 9");
    }
}
