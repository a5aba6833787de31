//! Policy test cases: `*.cases.toml` files next to the policies, each case an
//! inline inventory, a request and the findings it must produce.
//!
//! `cases` reads and validates a case file, `run` evaluates a case (pure), `report` writes the
//! results; this file finds
//! the case files a `preflight test` run names and pairs each with the policy it tests
//! (`foo.cases.toml` tests `foo.toml`).

mod cases;
mod report;
mod run;

pub use cases::parse;
pub use report::{SuiteResult, Totals, details, run_suite, write_junit, write_text};
pub use run::{Mismatch, Status, compare, request, run_case};

use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::engine::Verdict;
use crate::model::{Inventory, Platform};
use crate::policy::{self, BUILTIN_CASES, Mode, Phase, PolicySet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One validated case file.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub source: SourceFile,
    pub cases: Vec<Case>,
}

/// One `[[case]]`.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// Where the case's name is written.
    pub span: Range<usize>,
    /// The drained hosts, resolved to their exact inventory names.
    pub hosts: Vec<String>,
    pub mode: Mode,
    pub phase: Phase,
    pub now: jiff::Timestamp,
    pub platform: Option<Platform>,
    pub expect: Vec<Expected>,
    pub verdict: Option<Verdict>,
    /// The inventory the case is judged on (after maintenance, for a restore case).
    pub inventory: Inventory,
    /// The inventory before maintenance (restore cases only).
    pub before: Option<Inventory>,
}

/// A finding a case expects (or, in a failure, one it did not expect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub rule: String,
    pub vm: Option<String>,
    pub host: Option<String>,
    pub cluster: Option<String>,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rule)?;
        for (key, value) in [
            ("vm", &self.vm),
            ("host", &self.host),
            ("cluster", &self.cluster),
        ] {
            if let Some(v) = value {
                write!(f, " {key}={v}")?;
            }
        }
        Ok(())
    }
}

/// A case file with the policy it tests.
#[derive(Debug, Clone)]
pub struct Suite {
    pub cases: CaseFile,
    pub policy: PolicySet,
}

/// The suites a `preflight test` run names: the baseline's own cases when `paths` is empty,
/// else every `*.cases.toml` under each path (folders walked, sorted). Every file is read
/// and validated before anything runs; any problem fails the whole run (exit 2).
pub fn collect(paths: &[String]) -> Result<Vec<Suite>, Diagnostics> {
    if paths.is_empty() {
        let (name, text) = BUILTIN_CASES;
        let cases = parse(SourceFile::new(name, text))?;
        let policy = policy::load(policy::builtin_sources())?;
        return Ok(vec![Suite { cases, policy }]);
    }
    let mut diags = Diagnostics::default();
    let mut files = Vec::new();
    for p in paths {
        let path = Path::new(p);
        if path.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(path, &mut found) {
                diags.push(read_error(format!("cannot read folder {p}: {e}")));
                continue;
            }
            if found.is_empty() {
                diags.push(read_error(format!("folder {p} holds no *.cases.toml file")));
            }
            found.sort();
            files.extend(found);
        } else if is_case_file(path) {
            files.push(path.to_path_buf());
        } else {
            diags.push(
                read_error(format!("{p} is not a test case file"))
                    .with_help("name a *.cases.toml file, or a folder holding some"),
            );
        }
    }
    let mut suites = Vec::new();
    for f in files {
        match load_suite(&f) {
            Ok(s) => suites.push(s),
            Err(e) => diags.extend(e),
        }
    }
    diags.into_result(suites)
}

/// Reads one case file and the policy file beside it; reports the problems of both.
fn load_suite(path: &Path) -> Result<Suite, Diagnostics> {
    let name = path.to_string_lossy().into_owned();
    let policy_path = policy_of(&name);
    let cases = read(&name).and_then(parse);
    let policy = match read(&policy_path) {
        Ok(source) => policy::load(vec![source]),
        Err(_) => Err(read_error(format!(
            "{name} tests {policy_path}, which cannot be read"
        ))
        .with_help("a case file tests the policy file of the same name: foo.cases.toml tests foo.toml")
        .into()),
    };
    match (cases, policy) {
        (Ok(cases), Ok(policy)) => Ok(Suite { cases, policy }),
        (c, p) => {
            let mut all = Diagnostics::default();
            for e in [c.err(), p.err()].into_iter().flatten() {
                all.extend(e);
            }
            Err(all)
        }
    }
}

/// `foo.cases.toml` → `foo.toml`.
pub fn policy_of(case_file: &str) -> String {
    match case_file.strip_suffix(".cases.toml") {
        Some(stem) => format!("{stem}.toml"),
        None => case_file.to_string(),
    }
}

pub fn is_case_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(".cases.toml"))
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if is_case_file(&path) {
            found.push(path);
        }
    }
    Ok(())
}

fn read(path: &str) -> Result<SourceFile, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| read_error(format!("cannot read {path}: {e}")))?;
    String::from_utf8(bytes)
        .map(|text| SourceFile::new(path, text))
        .map_err(|e| {
            read_error(format!(
                "{path} is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ))
            .into()
        })
}

fn read_error(message: String) -> SourceDiag {
    SourceDiag::plain(Code::CaseRead, message)
}

#[cfg(test)]
mod tests;
