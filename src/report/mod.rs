//! Reports: one model ([`Report`]) and one writer per format, each writing to a writer it is
//! given. The JSON report is the reference shape; every other format renders the same model.

mod doc;
mod error;
mod html;
mod json;
mod junit;
pub mod locations;
mod markdown;
mod sarif;
pub mod subjects;
mod table;

pub use error::{ErrorFormat, ErrorRecord, write_error};
pub use html::Html;
pub use json::Json;
pub use junit::Junit;
pub use markdown::Markdown;
pub use sarif::Sarif;
pub use subjects::{CheckedSubject, RuleInfo};
pub use table::{FIXED_WIDTH as TABLE_WIDTH, Table, width as table_width};

use crate::engine::{ClusterBalance, Evaluation, Finding, HostLoad, HostSample, Outcome, Verdict};
use crate::plan::PlanInput;
use crate::policy::Severity;
use serde::Serialize;
use std::io::{self, Write};

pub const REPORT_SCHEMA: &str = "preflight/report/v1";

/// The decision record: verdict, request, inputs with digests, findings and host loads.
/// Field order is the serialized key order.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub verdict: Verdict,
    pub request: RequestInfo,
    pub exit_code: i32,
    pub exit_reason: String,
    pub inputs: Inputs,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// Memory load per host of the affected clusters, before and after the simulated drain
    /// (`restore`: before maintenance, as the plan recorded it, and now).
    pub hosts: Vec<HostLoadRow>,
    /// `restore`: each cluster's imbalance before maintenance, now, and after the move-back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub balance: Vec<ClusterBalance>,
    /// What could not be judged, and assumptions made.
    pub notes: Vec<String>,
    /// The rules the run evaluated (SARIF `tool.driver.rules`, JUnit suites). Not in the JSON.
    #[serde(skip)]
    pub rules: Vec<RuleInfo>,
    /// Every subject each rule judged, passed or not (JUnit test cases). Not in the JSON.
    #[serde(skip)]
    pub checked: Vec<CheckedSubject>,
    /// The capacity floor as memory used, in percent (90 when the policy keeps 10 % free);
    /// `None` without a capacity rule. The HTML chart draws it. Not in the JSON.
    #[serde(skip)]
    pub floor_used_pct: Option<f64>,
    /// Where each finding's subject is recorded in the inventory (SARIF). Not in the JSON.
    #[serde(skip)]
    pub locations: locations::Locations,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestInfo {
    pub command: String,
    pub hosts: Vec<String>,
    pub mode: String,
    pub platform: String,
    /// Where the platform came from: `inventory`, `flag`, or `assumed`.
    pub platform_source: String,
    pub fail_on: String,
    pub waivers: bool,
    pub now: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    /// `restore`: the plan it judged the inventory against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanInput>,
    pub inventory: Vec<InventoryInput>,
    /// When the inventory was collected, where it says (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    pub policies: Vec<PolicyInput>,
    pub tool_version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InventoryInput {
    pub path: String,
    pub sha256: String,
    pub format: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyInput {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    pub waived: usize,
}

/// A host's load, with percentages worked out once for every format.
#[derive(Debug, Clone, Serialize)]
pub struct HostLoadRow {
    pub host: String,
    pub cluster: Option<String>,
    pub state: String,
    pub target: bool,
    pub memory_mb: Option<u64>,
    pub used_before_mb: u64,
    pub used_after_mb: u64,
    pub used_before_pct: Option<f64>,
    pub used_after_pct: Option<f64>,
    pub vms_before: usize,
    pub vms_after: usize,
    /// `restore`: the host once the move-back plan has run. Absent from audit reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_move_back: Option<MoveBackLoad>,
}

/// A host's memory load once the move-back plan has run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MoveBackLoad {
    pub used_mb: u64,
    pub used_pct: Option<f64>,
    pub vms: usize,
}

/// A share of `memory_mb` in percent, to one decimal (the precision every format shows).
fn pct(used_mb: u64, memory_mb: Option<u64>) -> Option<f64> {
    memory_mb
        .filter(|m| *m > 0)
        .map(|m| (used_mb as f64 * 1000.0 / m as f64).round() / 10.0)
}

impl From<&HostLoad> for HostLoadRow {
    fn from(l: &HostLoad) -> Self {
        let round = |x: f64| (x * 10.0).round() / 10.0;
        HostLoadRow {
            host: l.host.clone(),
            cluster: l.cluster.clone(),
            state: l.state.to_string(),
            target: l.target,
            memory_mb: l.memory_mb,
            used_before_mb: l.before_mb,
            used_after_mb: l.after_mb,
            used_before_pct: l.pct(l.before_mb).map(round),
            used_after_pct: l.pct(l.after_mb).map(round),
            vms_before: l.vms_before,
            vms_after: l.vms_after,
            after_move_back: None,
        }
    }
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            if f.waived {
                s.waived += 1;
                continue;
            }
            match f.severity {
                Severity::Error => s.error += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
            }
        }
        s
    }
}

impl Report {
    pub fn new(
        request: RequestInfo,
        inputs: Inputs,
        eval: &Evaluation,
        outcome: &Outcome,
    ) -> Report {
        Report {
            schema: REPORT_SCHEMA,
            verdict: outcome.verdict,
            request,
            exit_code: outcome.exit_code,
            exit_reason: outcome.reason.clone(),
            inputs,
            summary: Summary::of(&eval.findings),
            findings: eval.findings.clone(),
            hosts: eval.loads.iter().map(HostLoadRow::from).collect(),
            balance: Vec::new(),
            notes: eval.notes.clone(),
            rules: Vec::new(),
            checked: Vec::new(),
            floor_used_pct: None,
            locations: locations::Locations::default(),
        }
    }

    /// Sets the rules the run evaluated, and gives each finding its rule's title (the rule id
    /// for a rule the list lacks).
    pub fn set_rules(&mut self, rules: Vec<RuleInfo>) {
        for f in &mut self.findings {
            let title = rules.iter().find(|r| r.id == f.rule).map(|r| &r.title);
            f.title = Some(title.unwrap_or(&f.rule).clone());
        }
        self.rules = rules;
    }
}

impl Report {
    /// `restore`: adds to each host row its load once the move-back plan has run.
    pub fn set_move_back_loads(&mut self, after: &[HostSample]) {
        for row in &mut self.hosts {
            if let Some(h) = after
                .iter()
                .find(|h| h.host.eq_ignore_ascii_case(&row.host))
            {
                row.after_move_back = Some(MoveBackLoad {
                    used_mb: h.used_mb,
                    used_pct: pct(h.used_mb, row.memory_mb),
                    vms: h.vms,
                });
            }
        }
    }

    /// A restore report: its host loads read "before maintenance / now", not "after the drain".
    pub fn is_restore(&self) -> bool {
        self.request.command == "restore"
    }
}

/// A report format. Each writes the whole report to `out`.
pub trait Reporter {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// The verdict line every human-readable format starts with.
pub fn verdict_line(report: &Report) -> String {
    let word = match report.verdict {
        Verdict::Go => "GO",
        Verdict::NoGo => "NO-GO",
        Verdict::Untrusted => "UNTRUSTED",
    };
    format!("{word}: {} (exit {})", report.exit_reason, report.exit_code)
}
