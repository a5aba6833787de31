//! Writing test results: a `cargo test`-like text listing, or JUnit XML (one suite per case
//! file, one test case per case). Both write to a writer they are given.

use super::{Mismatch, Status, Suite, run_case};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::io::{self, Write};

/// The outcome of every case of one case file.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    /// The case file as named on the command line (or `builtin/...`).
    pub file: String,
    pub cases: Vec<(String, Status)>,
}

/// How many cases passed and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
}

impl Totals {
    pub fn of(results: &[SuiteResult]) -> Totals {
        let mut t = Totals::default();
        for (_, status) in results.iter().flat_map(|r| &r.cases) {
            match status {
                Status::Passed => t.passed += 1,
                Status::Failed(_) => t.failed += 1,
            }
        }
        t
    }

    /// The exit code: 0 when every case passes, 1 when one fails.
    pub fn exit_code(self) -> i32 {
        if self.failed > 0 { 1 } else { 0 }
    }

    /// `N passed, N failed`.
    pub fn summary(self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }
}

/// Runs every case of a suite, in file order.
pub fn run_suite(suite: &Suite) -> SuiteResult {
    SuiteResult {
        file: suite.cases.source.name.clone(),
        cases: suite
            .cases
            .cases
            .iter()
            .map(|c| (c.name.clone(), run_case(&suite.policy, c)))
            .collect(),
    }
}

/// One line per case, then the details of each failure, then the summary line.
pub fn write_text(results: &[SuiteResult], w: &mut dyn Write) -> io::Result<()> {
    for r in results {
        let n = r.cases.len();
        let cases = if n == 1 { "case" } else { "cases" };
        writeln!(w, "running {n} {cases} from {}", r.file)?;
        for (name, status) in &r.cases {
            let word = match status {
                Status::Passed => "ok",
                Status::Failed(_) => "FAILED",
            };
            writeln!(w, "test {}::{name} ... {word}", r.file)?;
        }
        writeln!(w)?;
    }
    let failures: Vec<(&str, &str, &Mismatch)> = results
        .iter()
        .flat_map(|r| {
            r.cases.iter().filter_map(move |(name, s)| match s {
                Status::Failed(m) => Some((r.file.as_str(), name.as_str(), m)),
                _ => None,
            })
        })
        .collect();
    if !failures.is_empty() {
        writeln!(w, "failures:")?;
        for (file, name, m) in &failures {
            writeln!(w)?;
            writeln!(w, "---- {file}::{name} ----")?;
            w.write_all(details(m).as_bytes())?;
        }
        writeln!(w)?;
    }
    writeln!(w, "{}", Totals::of(results).summary())
}

/// Expected vs actual, one finding a line.
pub fn details(m: &Mismatch) -> String {
    let mut s = String::new();
    for e in &m.missing {
        s.push_str(&format!("  missing (expected, not found): {e}\n"));
    }
    for e in &m.unexpected {
        s.push_str(&format!("  unexpected (found, not expected): {e}\n"));
    }
    if let Some((want, got)) = m.verdict {
        s.push_str(&format!(
            "  verdict: expected {}, got {}\n",
            want.as_str(),
            got.as_str()
        ));
    }
    s
}

/// JUnit XML: one `<testsuite>` per case file, one `<testcase>` per case.
pub fn write_junit(results: &[SuiteResult], w: &mut dyn Write) -> io::Result<()> {
    let mut report = Report::new("preflight test");
    for r in results {
        let mut suite = TestSuite::new(r.file.as_str());
        for (name, status) in &r.cases {
            let status = match status {
                Status::Passed => TestCaseStatus::success(),
                Status::Failed(m) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message("the findings differ from the case's expectations");
                    s.set_description(details(m));
                    s
                }
            };
            let mut case = TestCase::new(name.as_str(), status);
            case.set_classname(r.file.as_str());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.serialize(&mut *w).map_err(io::Error::other)?;
    writeln!(w)
}
