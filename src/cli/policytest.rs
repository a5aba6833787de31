//! `preflight test`: run policy test cases and say which pass (CONTRACT 4.5).

use super::output::emit;
use crate::diag::Diagnostics;
use crate::policytest::{self, SuiteResult, Totals};
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Case files (*.cases.toml) or folders holding them; each tests the policy file of the
    /// same name beside it (foo.cases.toml tests foo.toml). None: the built-in baseline's cases.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    /// Write the results to FILE (replaced atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// A line per case, failures with expected vs actual findings, a summary line.
    Text,
    /// JUnit XML: one test suite per case file, one test case per case.
    Junit,
}

/// Exit 0 when every case passes, 1 when one fails, 2 (via `Err`) on invalid files.
pub fn run(args: &TestArgs) -> Result<i32, Diagnostics> {
    let suites = policytest::collect(&args.paths)?;
    let results: Vec<SuiteResult> = suites.iter().map(policytest::run_suite).collect();
    emit(args.output.as_deref(), |w| match args.format {
        TestFormat::Text => policytest::write_text(&results, w),
        TestFormat::Junit => policytest::write_junit(&results, w),
    })?;
    Ok(Totals::of(&results).exit_code())
}
