//! From findings to the verdict and exit code (0 go, 1 no-go, 2 could not evaluate, 3 untrusted input).

use super::Evaluation;
use crate::policy::Severity;
use serde::Serialize;

/// `--fail-on`: the lowest severity that makes the verdict no-go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Go,
    NoGo,
    Untrusted,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Go => "go",
            Verdict::NoGo => "no-go",
            Verdict::Untrusted => "untrusted",
        }
    }
}

/// The verdict, its exit code and the reason, as the report carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub exit_code: i32,
    pub reason: String,
}

/// Decides: 3 (untrusted) wins over 1 (no-go), which wins over 0 (go).
pub fn decide(eval: &Evaluation, fail_on: FailOn) -> Outcome {
    if let Some(why) = &eval.untrusted {
        return Outcome {
            verdict: Verdict::Untrusted,
            exit_code: 3,
            reason: why.clone(),
        };
    }
    let blocking = eval
        .findings
        .iter()
        .filter(|f| f.is_blocking_at(fail_on.threshold()))
        .count();
    if blocking > 0 {
        let at = fail_on.threshold().map_or("", |s| s.as_str());
        Outcome {
            verdict: Verdict::NoGo,
            exit_code: 1,
            reason: format!("{blocking} unwaived finding(s) at or above {at}"),
        }
    } else {
        let waived = eval.findings.iter().filter(|f| f.waived).count();
        let reason = match (eval.findings.len(), waived) {
            (0, _) => "no findings".to_string(),
            (_, 0) => "no unwaived finding at or above the --fail-on threshold".to_string(),
            (_, w) => {
                format!("no unwaived finding at or above the --fail-on threshold ({w} waived)")
            }
        };
        Outcome {
            verdict: Verdict::Go,
            exit_code: 0,
            reason,
        }
    }
}
