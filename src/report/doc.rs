//! The human-readable report as a format-neutral document: the verdict, then sections of
//! tables, lists and paragraphs. Markdown and HTML both render this one document, so a section
//! added here (say, restore's balance) appears in both without copy-paste.
//!
//! Values stay raw text here; each renderer escapes for its own syntax.

use super::subjects::NO_CLUSTER;
use super::{HostLoadRow, Report, verdict_line};
use crate::engine::{ClusterBalance, Finding};
use crate::policy::Severity;

/// A piece of text and how to show it.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    /// Identifiers and digests: monospace.
    Code(String),
    Strong(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Para(Vec<Inline>),
    Table {
        header: Vec<&'static str>,
        rows: Vec<Vec<Inline>>,
    },
    List(Vec<Vec<Inline>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// A stable id (HTML anchors; renderers hook extras onto it, e.g. the load chart).
    pub id: &'static str,
    pub heading: &'static str,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// The verdict word in capitals: `GO`, `NO-GO`, `UNTRUSTED`.
    pub verdict: &'static str,
    pub title: String,
    /// The verdict line, what was asked and the counts.
    pub lead: Vec<Block>,
    pub sections: Vec<Section>,
}

/// Section id of the per-host load table.
pub const HOSTS: &str = "hosts";
/// Section id of restore's per-cluster imbalance table.
pub const BALANCE: &str = "balance";

pub fn build(report: &Report) -> Doc {
    let verdict = match report.verdict {
        crate::engine::Verdict::Go => "GO",
        crate::engine::Verdict::NoGo => "NO-GO",
        crate::engine::Verdict::Untrusted => "UNTRUSTED",
    };
    let r = &report.request;
    let lead = vec![
        Block::Para(vec![Inline::Strong(verdict_line(report))]),
        Block::Para(vec![Inline::Text(format!(
            "{} of {}: {} mode, {} platform ({}); judged at {}; fails on {}; waivers {}.",
            r.command,
            r.hosts.join(", "),
            r.mode,
            r.platform,
            match r.platform_source.as_str() {
                "inventory" => "from the inventory",
                "flag" => "from --platform",
                "plan" => "from the plan",
                _ => "assumed",
            },
            r.now,
            r.fail_on,
            if r.waivers { "honoured" } else { "ignored" },
        ))]),
        Block::Para(vec![Inline::Text(format!(
            "{} error(s), {} warning(s), {} info, {} waived.",
            report.summary.error,
            report.summary.warning,
            report.summary.info,
            report.summary.waived
        ))]),
    ];
    let threshold = Severity::parse(&r.fail_on);
    let (blocking, other): (Vec<&Finding>, Vec<&Finding>) = report
        .findings
        .iter()
        .filter(|f| !f.waived)
        .partition(|f| f.is_blocking_at(threshold));
    let waived: Vec<&Finding> = report.findings.iter().filter(|f| f.waived).collect();
    let mut sections = vec![
        Section {
            id: "blocking",
            heading: "Blocking findings",
            blocks: findings_table(&blocking, "No finding blocks the maintenance."),
        },
        Section {
            id: "warnings",
            heading: "Warnings (not blocking)",
            blocks: findings_table(&other, "No other finding."),
        },
        Section {
            id: "waivers",
            heading: "Waivers applied",
            blocks: waivers_table(&waived),
        },
        Section {
            id: HOSTS,
            heading: if report.is_restore() {
                "Host memory load before maintenance, now and after the move-back"
            } else {
                "Host memory load before and after the drain"
            },
            blocks: if report.is_restore() {
                restore_hosts_table(&report.hosts)
            } else {
                hosts_table(&report.hosts)
            },
        },
    ];
    if report.is_restore() || !report.balance.is_empty() {
        sections.push(Section {
            id: BALANCE,
            heading: "Cluster balance",
            blocks: balance(&report.balance),
        });
    }
    sections.extend([
        Section {
            id: "notes",
            heading: "Notes",
            blocks: if report.notes.is_empty() {
                vec![text_para("None.")]
            } else {
                vec![Block::List(
                    report
                        .notes
                        .iter()
                        .map(|n| vec![Inline::Text(n.clone())])
                        .collect(),
                )]
            },
        },
        Section {
            id: "inputs",
            heading: "Inputs",
            blocks: inputs(report),
        },
    ]);
    Doc {
        verdict,
        title: format!(
            "{verdict}: preflight {} of {}",
            r.command,
            hosts_short(&r.hosts)
        ),
        lead,
        sections,
    }
}

/// The hosts as a title names them: the one host, or how many (several FQDNs would make the
/// title a paragraph; the lead lists them all).
pub fn hosts_short(hosts: &[String]) -> String {
    match hosts {
        [one] => one.clone(),
        _ => format!("{} hosts", hosts.len()),
    }
}

fn text_para(s: &str) -> Block {
    Block::Para(vec![Inline::Text(s.into())])
}

fn opt(s: Option<&str>) -> Inline {
    Inline::Text(s.unwrap_or("-").to_string())
}

fn findings_table(findings: &[&Finding], none: &str) -> Vec<Block> {
    if findings.is_empty() {
        return vec![text_para(none)];
    }
    vec![
        Block::Table {
            header: vec!["Severity", "Rule", "Host", "VM", "Finding"],
            rows: findings
                .iter()
                .map(|f| {
                    vec![
                        Inline::Text(f.severity.to_string()),
                        Inline::Code(f.rule.clone()),
                        opt(f.host.as_deref()),
                        opt(f.vm.as_deref()),
                        Inline::Text(f.message.clone()),
                    ]
                })
                .collect(),
        },
        Block::Para(vec![Inline::Strong("Remediation, once per rule:".into())]),
        remediations(findings),
    ]
}

/// What to do about the findings, said once per rule (a rule's advice is the same for each of
/// its findings; a table repeating it on every row buries the findings), in order of first
/// appearance.
fn remediations(findings: &[&Finding]) -> Block {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for f in findings {
        let pair = (f.rule.as_str(), f.remediation.as_deref().unwrap_or("-"));
        if !seen.contains(&pair) {
            seen.push(pair);
        }
    }
    Block::List(
        seen.into_iter()
            .map(|(rule, what)| vec![Inline::Code(rule.into()), Inline::Text(format!(": {what}"))])
            .collect(),
    )
}

fn waivers_table(findings: &[&Finding]) -> Vec<Block> {
    if findings.is_empty() {
        return vec![text_para("No waiver applied.")];
    }
    vec![Block::Table {
        header: vec![
            "Rule",
            "Host",
            "VM",
            "Waived finding",
            "Reason",
            "Owner",
            "Ticket",
            "Expires",
            "Waiver",
        ],
        rows: findings
            .iter()
            .filter_map(|f| {
                let w = f.waiver.as_ref()?;
                Some(vec![
                    Inline::Code(f.rule.clone()),
                    opt(f.host.as_deref()),
                    opt(f.vm.as_deref()),
                    Inline::Text(f.message.clone()),
                    Inline::Text(w.reason.clone()),
                    opt(w.owner.as_deref()),
                    opt(w.ticket.as_deref()),
                    Inline::Text(w.expires.clone()),
                    Inline::Code(w.location.clone()),
                ])
            })
            .collect(),
    }]
}

fn hosts_table(hosts: &[HostLoadRow]) -> Vec<Block> {
    if hosts.is_empty() {
        return vec![text_para("No host load to show.")];
    }
    vec![Block::Table {
        header: vec![
            "Host",
            "Cluster",
            "State",
            "Memory",
            "Used before",
            "Used after",
            "VMs before → after",
        ],
        rows: hosts
            .iter()
            .map(|h| {
                let mut row = host_cells(h, "drained");
                row.extend([
                    used(h.used_before_pct, h.used_before_mb),
                    used(h.used_after_pct, h.used_after_mb),
                    Inline::Text(format!("{} → {}", h.vms_before, h.vms_after)),
                ]);
                row
            })
            .collect(),
    }]
}

/// The cells both host tables start with: the host (marked `target_word` when it is one of
/// the request's), its cluster, state and memory.
fn host_cells(h: &HostLoadRow, target_word: &str) -> Vec<Inline> {
    vec![
        Inline::Text(if h.target {
            format!("{} ({target_word})", h.host)
        } else {
            h.host.clone()
        }),
        opt(h.cluster.as_deref()),
        Inline::Text(h.state.clone()),
        Inline::Text(
            h.memory_mb
                .map_or("unknown".into(), |m| format!("{} GiB", gib(m))),
        ),
    ]
}

/// `restore`'s host table: the load the plan recorded before maintenance, today's, and the
/// load once the move-back plan has run.
fn restore_hosts_table(hosts: &[HostLoadRow]) -> Vec<Block> {
    if hosts.is_empty() {
        return vec![text_para("No host load to show.")];
    }
    vec![Block::Table {
        header: vec![
            "Host",
            "Cluster",
            "State",
            "Memory",
            "Used before maintenance",
            "Used now",
            "Used after move-back",
            "VMs before → now → after move-back",
        ],
        rows: hosts
            .iter()
            .map(|h| {
                let after = h.after_move_back.as_ref();
                let mut row = host_cells(h, "maintained");
                row.extend([
                    used(h.used_before_pct, h.used_before_mb),
                    used(h.used_after_pct, h.used_after_mb),
                    after.map_or(Inline::Text("-".into()), |a| used(a.used_pct, a.used_mb)),
                    Inline::Text(format!(
                        "{} → {} → {}",
                        h.vms_before,
                        h.vms_after,
                        after.map_or("-".to_string(), |a| a.vms.to_string())
                    )),
                ]);
                row
            })
            .collect(),
    }]
}

/// `restore`'s imbalance per cluster and balance rule, with what it means.
fn balance(rows: &[ClusterBalance]) -> Vec<Block> {
    if rows.is_empty() {
        return vec![text_para("No balance rule was evaluated.")];
    }
    let fig = |x: Option<f64>| Inline::Text(x.map_or("unknown".to_string(), |v| format!("{v:.3}")));
    vec![
        text_para(
            "Imbalance is the spread of per-host load over the hosts that are up (σ/μ divided by √(n−1)): 0 when every host carries the same share, 1 when one host carries it all.",
        ),
        Block::Table {
            header: vec![
                "Cluster",
                "Rule",
                "Metric",
                "Before maintenance",
                "Now",
                "After move-back",
                "Limit",
            ],
            rows: rows
                .iter()
                .map(|b| {
                    vec![
                        Inline::Text(b.cluster.clone().unwrap_or_else(|| NO_CLUSTER.into())),
                        Inline::Code(b.rule.clone()),
                        Inline::Text(b.metric.to_string()),
                        fig(b.before),
                        fig(b.now),
                        fig(b.after_move_back),
                        Inline::Text(format!("{}", b.max_imbalance)),
                    ]
                })
                .collect(),
        },
    ]
}

fn inputs(report: &Report) -> Vec<Block> {
    let mut rows = Vec::new();
    if let Some(p) = &report.inputs.plan {
        rows.push(vec![
            Inline::Text("plan".into()),
            Inline::Text(p.path.clone()),
            Inline::Code(p.sha256.clone()),
        ]);
    }
    for i in &report.inputs.inventory {
        rows.push(vec![
            Inline::Text(format!("inventory ({})", i.format)),
            Inline::Text(i.path.clone()),
            Inline::Code(i.sha256.clone()),
        ]);
    }
    for p in &report.inputs.policies {
        rows.push(vec![
            Inline::Text("policy".into()),
            Inline::Text(p.path.clone()),
            Inline::Code(p.sha256.clone()),
        ]);
    }
    vec![
        Block::Table {
            header: vec!["Input", "Path", "SHA-256"],
            rows,
        },
        Block::Para(vec![
            Inline::Text("preflight ".into()),
            Inline::Code(report.inputs.tool_version.clone()),
            Inline::Text(
                ": the same inputs and --now give the same verdict and a byte-identical report."
                    .into(),
            ),
        ]),
    ]
}

/// Memory used: the share of the host's memory and the amount.
fn used(pct: Option<f64>, mb: u64) -> Inline {
    Inline::Text(match pct {
        Some(p) => format!("{p:.1}% ({} GiB)", gib(mb)),
        None => format!("? ({} GiB)", gib(mb)),
    })
}

/// MiB as GiB, without a trailing `.0`.
pub fn gib(mb: u64) -> String {
    let g = mb as f64 / 1024.0;
    if g.fract() == 0.0 {
        format!("{g:.0}")
    } else {
        format!("{g:.1}")
    }
}
