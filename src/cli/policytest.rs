//! `preflight test`: run policy test cases and say which pass.

use super::output::emit;
use crate::diag::Diagnostics;
use crate::policytest::{self, SuiteResult, Totals};
use clap::{Args, ValueEnum};

/// The case format, shown by `preflight test --help`.
const CASE_FORMAT: &str = r#"A case file holds [[case]] tables:

  [[case]]
  name = "a running SQL VM on the drained host is reported"   # required, unique in the file
  hosts = ["HV01"]                       # required: the hosts to drain
  mode = "patch"                         # patch (default) | decommission
  phase = "audit"                        # audit (default) | restore (then add [case.before])
  now = "2026-11-20T08:00:00Z"           # required: the time waivers and ages are judged by
  platform = "scvmm"                     # optional; default: the inventory's
  expect = [{ rule = "non-ha-running", vm = "SQL01" }]   # exactly these unwaived findings;
                                         # host = "..." / cluster = "..." for others; [] for none
  verdict = "no-go"                      # optional: go | no-go | untrusted (at --fail-on error)

  [case.inventory]                       # a native inventory, inline
  hosts = [{ name = "HV01", cluster = "C1", state = "up", memory_mb = 131072, cpus = 16 }]
  vms = [{ name = "SQL01", host = "HV01", state = "running", ha = false, memory_mb = 16384 }]

Waived findings and unused-waiver notes are not compared. Exit: 0 every case passed,
1 a case failed, 2 a case file or its policy is invalid."#;

#[derive(Debug, Args)]
#[command(after_long_help = CASE_FORMAT)]
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
