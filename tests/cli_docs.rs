//! The documentation points at things that exist: every link and `examples/…` (or `docs/`,
//! `tests/fixtures/`, `policies/`) path named in the README and docs/ exists, with its
//! `#anchor`; and docs/policy.md lists every key the policy loader accepts.

use preflight::diag::SourceFile;
use regex::Regex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn documents() -> Vec<PathBuf> {
    let mut docs = vec![root().join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to dashes.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut out = BTreeSet::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// Every problem with the links and paths of one document.
fn broken(doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(doc).expect("readable");
    let dir = doc.parent().expect("in a folder");
    let link = Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let path = Regex::new(
        r"(?:^|[\s`(\[])((?:examples|docs|tests/fixtures|policies)/[A-Za-z0-9_./-]*[A-Za-z0-9_/-])",
    )
    .unwrap();
    let mut problems = Vec::new();
    for c in link.captures_iter(&text) {
        let target = &c[1];
        if target.starts_with("http://") || target.starts_with("https://") {
            continue;
        }
        let (file, anchor) = match target.split_once('#') {
            Some((f, a)) => (f, Some(a)),
            None => (target, None),
        };
        let resolved = if file.is_empty() {
            doc.to_path_buf()
        } else {
            dir.join(file)
        };
        if !resolved.exists() {
            problems.push(format!(
                "link {target}: {} does not exist",
                resolved.display()
            ));
            continue;
        }
        if let Some(a) = anchor {
            let target_text = std::fs::read_to_string(&resolved).unwrap_or_default();
            if !anchors(&target_text).contains(a) {
                problems.push(format!("link {target}: no heading #{a}"));
            }
        }
    }
    for c in path.captures_iter(&text) {
        let p = c[1].trim_end_matches('.');
        // Names made up in examples of output paths are not claims that a file exists.
        if p.contains("*") {
            continue;
        }
        if !root().join(p).exists() {
            problems.push(format!("path {p} does not exist"));
        }
    }
    problems
}

#[test]
fn every_link_and_path_in_the_docs_exists() {
    let mut problems = Vec::new();
    for doc in documents() {
        for p in broken(&doc) {
            problems.push(format!("{}: {p}", doc.display()));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The input files of the README's example commands (lines of code blocks that run preflight).
fn missing_inputs(markdown: &str) -> Vec<String> {
    let flag = Regex::new(r"--(?:inventory|policy)\s+([^\s\\]+)").unwrap();
    let mut in_code = false;
    let mut missing = Vec::new();
    let mut command = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            command = false;
            continue;
        }
        let t = line.trim_start();
        if !in_code {
            continue;
        }
        // A command goes on over lines ending in a backslash.
        let runs = t.starts_with("preflight ") || t.starts_with("$ preflight ");
        if !runs && !command {
            continue;
        }
        for c in flag.captures_iter(line) {
            let file = &c[1];
            if file == "builtin" || file.chars().all(|ch| ch.is_ascii_uppercase()) {
                continue;
            }
            if !root().join(file).exists() {
                missing.push(file.to_string());
            }
        }
        command = line.trim_end().ends_with('\\');
    }
    missing
}

#[test]
fn the_readme_s_commands_read_files_that_exist() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert_eq!(missing_inputs(&readme), Vec::<String>::new());
    let made_up = "```sh\npreflight audit --inventory before.json --host HV01 \\\n    --policy examples/lab-waivers.toml --policy nowhere.toml\n```\n";
    assert_eq!(missing_inputs(made_up), ["before.json", "nowhere.toml"]);
}

#[test]
fn the_link_check_finds_a_missing_file_and_a_missing_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("x.md");
    std::fs::write(
        &doc,
        "# Title\n\nsee [a](nothing.md), [b](x.md#title), [c](x.md#nowhere) and `examples/nothing.json`\n",
    )
    .unwrap();
    let problems = broken(&doc);
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

/// The keys the loader accepts where it lists them: the help of an unknown key's error.
fn valid_keys(policy: &str) -> Vec<Vec<String>> {
    let err = preflight::policy::load(vec![SourceFile::new("p.toml", policy.to_string())])
        .expect_err("the policy has unknown keys");
    err.0
        .iter()
        .filter_map(|d| d.help.as_deref())
        .filter_map(|h| h.split_once("valid keys: ").map(|(_, k)| k.to_string()))
        .map(|k| k.split(',').map(|w| w.trim().to_string()).collect())
        .collect()
}

#[test]
fn policy_doc_lists_every_key_the_loader_accepts() {
    let doc = std::fs::read_to_string(root().join("docs/policy.md")).unwrap();
    let policy = r#"
[policy]
zzz = 1

[[rule]]
id = "a"
title = "t"
kind = "vm"
zzz = 1
when = { zzz = 1 }

[[waiver]]
rule = "a"
vm = "x"
reason = "r"
expires = 2027-01-01
zzz = 1
"#;
    let lists = valid_keys(policy);
    // [policy], [[rule]], `when`, [[waiver]].
    assert_eq!(lists.len(), 4, "{lists:?}");
    let mut missing = Vec::new();
    for key in lists.iter().flatten() {
        if !doc.contains(&format!("`{key}`")) {
            missing.push(key.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "docs/policy.md does not list {missing:?}"
    );
    // And each rule kind has its section.
    let err = preflight::policy::load(vec![SourceFile::new(
        "k.toml",
        "[[rule]]\nid = \"a\"\ntitle = \"t\"\nkind = \"zzz\"\n".to_string(),
    )])
    .expect_err("an unknown kind");
    let kinds: Vec<String> = err
        .0
        .iter()
        .flat_map(|d| d.labels.iter().filter_map(|l| l.label()))
        .filter(|l| l.starts_with("expected one of"))
        .flat_map(|h| {
            Regex::new(r"`([a-z]+)`")
                .unwrap()
                .captures_iter(h)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(kinds.len() >= 4, "kinds: {kinds:?}");
    for kind in kinds {
        assert!(
            doc.contains(&format!("## `kind = \"{kind}\"`")),
            "no section for kind {kind}"
        );
    }
}
