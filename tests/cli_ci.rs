//! The CI examples (examples/ci, shown in the README's "Using it in CI"): each is valid YAML,
//! wires the report to what the CI shows (SARIF to code scanning with `if: always()` and
//! `security-events: write`; JUnit to GitLab's test report, kept on failure), and its preflight
//! command runs as written: on the example cluster it is a no-go whose report is written.

mod common;

use serde_yaml_ng::Value;
use std::path::Path;

fn workflow(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/ci")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the example exists");
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Shell words, enough for the examples: whitespace-separated, double quotes removed.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// The arguments of the preflight command in a script: the words after the one that runs
/// preflight (`preflight` or a path ending in `/preflight`).
fn preflight_args(script: &str) -> Option<Vec<String>> {
    let w = words(script);
    let at = w
        .iter()
        .position(|x| x == "preflight" || x.ends_with("/bin/preflight"))?;
    Some(w[at + 1..].to_vec())
}

fn value_of<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).map(String::as_str)
}

/// Runs the command as written, with `$HOST` set and its outputs moved to `dir`; returns the
/// exit code and the report's path.
fn run_in(args: &[String], dir: &Path) -> (i32, std::path::PathBuf, String) {
    let mut args = args.to_vec();
    let mut report = dir.join("report");
    for i in 0..args.len() {
        if args[i] == "$HOST" {
            args[i] = "HV01".into();
        }
        if i > 0 && (args[i - 1] == "--output" || args[i - 1] == "--plan") {
            let to = dir.join(&args[i]);
            if args[i - 1] == "--output" {
                report = to.clone();
            }
            args[i] = to.to_string_lossy().into_owned();
        }
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = common::run(&refs);
    (code, report, err)
}

fn step_with<'a>(steps: &'a [Value], key: &str, needle: &str) -> Option<&'a Value> {
    steps
        .iter()
        .find(|s| s[key].as_str().is_some_and(|v| v.contains(needle)))
}

#[test]
fn github_actions_uploads_the_sarif_report_to_code_scanning() {
    let wf = workflow("github-actions.yml");
    assert_eq!(wf["permissions"]["security-events"].as_str(), Some("write"));
    let steps = wf["jobs"]["audit"]["steps"]
        .as_sequence()
        .expect("the audit job has steps");
    let args = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find_map(preflight_args)
        .expect("a step runs preflight");
    assert_eq!(args.first().map(String::as_str), Some("audit"));
    assert_eq!(value_of(&args, "--format"), Some("sarif"));
    let output = value_of(&args, "--output").expect("the report goes to a file");
    let upload = step_with(steps, "uses", "github/codeql-action/upload-sarif@")
        .expect("a step uploads the SARIF");
    assert_eq!(upload["if"].as_str(), Some("always()"));
    assert_eq!(upload["with"]["sarif_file"].as_str(), Some(output));

    let dir = tempfile::tempdir().unwrap();
    let (code, report, err) = run_in(&args, dir.path());
    assert_eq!(code, 1, "the example cluster is a no-go: {err}");
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).expect("the report is written")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    // Code scanning refuses the whole file if one result lacks a physical location.
    for r in results {
        let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert!(uri.is_string(), "no physical location: {r}");
    }
}

#[test]
fn gitlab_ci_reports_junit_to_the_pipeline() {
    let wf = workflow("gitlab-ci.yml");
    let job = &wf["preflight"];
    let script = job["script"].as_sequence().expect("a script");
    let args = script
        .iter()
        .filter_map(Value::as_str)
        .find_map(preflight_args)
        .expect("the script runs preflight");
    assert_eq!(args.first().map(String::as_str), Some("audit"));
    assert_eq!(value_of(&args, "--format"), Some("junit"));
    let output = value_of(&args, "--output").expect("the report goes to a file");
    assert_eq!(job["artifacts"]["reports"]["junit"].as_str(), Some(output));
    assert_eq!(job["artifacts"]["when"].as_str(), Some("always"));

    let dir = tempfile::tempdir().unwrap();
    let (code, report, err) = run_in(&args, dir.path());
    assert_eq!(code, 1, "the example cluster is a no-go: {err}");
    let xml = std::fs::read_to_string(report).expect("the report is written");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit XML");
    assert_eq!(doc.root_element().tag_name().name(), "testsuites");
}

#[test]
fn the_word_splitter_keeps_quoted_words_whole() {
    assert_eq!(
        words(r#""$RUNNER_TEMP/preflight/bin/preflight" audit --host "$HOST""#),
        [
            "$RUNNER_TEMP/preflight/bin/preflight",
            "audit",
            "--host",
            "$HOST"
        ]
    );
    assert_eq!(preflight_args("echo hi"), None);
}
