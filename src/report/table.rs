//! `--format table`: the verdict, a findings table and a per-host load table, for a terminal.
//!
//! Every value from the inputs passes through [`esc`]: a control character (an ESC in a VM
//! name) is written as `\u{1b}`, never sent to the terminal, and a line break inside a value
//! cannot split a row.

use super::{Report, Reporter, verdict_line};
use crate::diag::{escape_controls, escape_controls_inline};
use crate::engine::Verdict;
use crate::policy::Severity;
use comfy_table::{Cell, Color, ContentArrangement, Table as Grid, presets};
use std::io::{self, Write};

pub struct Table {
    /// Colour severities and the verdict (a terminal without NO_COLOR).
    pub color: bool,
}

impl Reporter for Table {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", escape_controls(&verdict_line(report)))?;
        let request = format!(
            "{} of {} ({} mode, {} {})",
            report.request.command,
            report.request.hosts.join(", "),
            report.request.mode,
            report.request.platform,
            if report.request.platform_source == "assumed" {
                "assumed"
            } else {
                "platform"
            }
        );
        writeln!(out, "{}", esc(&request))?;
        if report.findings.is_empty() {
            writeln!(out, "\nno findings")?;
        } else {
            let mut t = self.grid();
            t.set_header(["severity", "rule", "host", "vm", "finding"]);
            for f in &report.findings {
                let sev = if f.waived {
                    format!("{} (waived)", f.severity)
                } else {
                    f.severity.to_string()
                };
                let mut sev_cell = Cell::new(sev);
                if self.color && !f.waived {
                    sev_cell = sev_cell.fg(match f.severity {
                        Severity::Error => Color::Red,
                        Severity::Warning => Color::Yellow,
                        Severity::Info => Color::Cyan,
                    });
                }
                let mut text = escape_controls(&f.message).into_owned();
                if let Some(w) = &f.waiver {
                    text.push_str(&format!("\nwaived: {}", escape_controls(&w.reason)));
                }
                t.add_row(vec![
                    sev_cell,
                    Cell::new(esc(&f.rule)),
                    Cell::new(esc(f.host.as_deref().unwrap_or("-"))),
                    Cell::new(esc(f.vm.as_deref().unwrap_or("-"))),
                    Cell::new(text),
                ]);
            }
            writeln!(out, "\n{t}")?;
        }
        if !report.hosts.is_empty() {
            writeln!(out, "\n{}", self.hosts(report))?;
        }
        if !report.balance.is_empty() {
            let mut t = self.grid();
            t.set_header([
                "cluster",
                "rule",
                "metric",
                "before maintenance",
                "now",
                "after move-back",
                "limit",
            ]);
            let fig = |x: Option<f64>| x.map_or("unknown".to_string(), |v| format!("{v:.3}"));
            for b in &report.balance {
                t.add_row(vec![
                    esc(b.cluster.as_deref().unwrap_or("-")),
                    esc(&b.rule),
                    b.metric.to_string(),
                    fig(b.before),
                    fig(b.now),
                    fig(b.after_move_back),
                    format!("{}", b.max_imbalance),
                ]);
            }
            writeln!(out, "\n{t}")?;
        }
        for n in &report.notes {
            writeln!(out, "\nnote: {}", escape_controls(n))?;
        }
        let s = &report.summary;
        let summary = format!(
            "\n{} error(s), {} warning(s), {} info, {} waived",
            s.error, s.warning, s.info, s.waived
        );
        writeln!(out, "{summary}")?;
        if self.color {
            let color = match report.verdict {
                Verdict::Go => "\x1b[32m",
                Verdict::NoGo => "\x1b[31m",
                Verdict::Untrusted => "\x1b[33m",
            };
            writeln!(out, "{color}{}\x1b[0m", report.verdict.as_str())?;
        }
        Ok(())
    }
}

impl Table {
    /// Per-host memory load: before and after the drain, or for `restore` before maintenance,
    /// now and after the move-back.
    fn hosts(&self, report: &Report) -> Grid {
        let restore = report.is_restore();
        let mut t = self.grid();
        if restore {
            t.set_header([
                "host",
                "cluster",
                "state",
                "memory",
                "before maintenance",
                "now",
                "after move-back",
                "vms",
            ]);
        } else {
            t.set_header([
                "host",
                "cluster",
                "state",
                "memory",
                "used before",
                "used after",
                "vms before → after",
            ]);
        }
        let pct = |p: Option<f64>, mb: u64| match p {
            Some(p) => format!("{p:.1}% ({} GiB)", gib(mb)),
            None => format!("? ({} GiB)", gib(mb)),
        };
        for h in &report.hosts {
            let host = esc(&h.host);
            let name = match (h.target, restore) {
                (true, true) => format!("{host} (maintained)"),
                (true, false) => format!("{host} (drained)"),
                (false, _) => host,
            };
            let mut row = vec![
                name,
                esc(h.cluster.as_deref().unwrap_or("-")),
                esc(&h.state),
                h.memory_mb
                    .map_or("unknown".into(), |m| format!("{} GiB", gib(m))),
                pct(h.used_before_pct, h.used_before_mb),
                pct(h.used_after_pct, h.used_after_mb),
            ];
            let after = h.after_move_back.as_ref();
            if restore {
                row.push(after.map_or("-".into(), |a| pct(a.used_pct, a.used_mb)));
                row.push(format!(
                    "{} → {} → {}",
                    h.vms_before,
                    h.vms_after,
                    after.map_or("-".into(), |a| a.vms.to_string())
                ));
            } else {
                row.push(format!("{} → {}", h.vms_before, h.vms_after));
            }
            t.add_row(row);
        }
        t
    }

    /// A grid that fits a terminal when colouring one, and a fixed width otherwise, so output
    /// written to a pipe or file does not depend on the terminal that started the run.
    fn grid(&self) -> Grid {
        let mut t = Grid::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        if !self.color {
            t.force_no_tty().set_width(FIXED_WIDTH);
        }
        t
    }
}

/// A value from the inputs as one line of visible text.
fn esc(value: &str) -> String {
    escape_controls_inline(value).into_owned()
}

/// The width of tables that are not shown on a terminal.
pub const FIXED_WIDTH: u16 = 110;

fn gib(mb: u64) -> String {
    let g = mb as f64 / 1024.0;
    if g.fract() == 0.0 {
        format!("{g:.0}")
    } else {
        format!("{g:.1}")
    }
}
