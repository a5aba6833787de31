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
    /// Colour severities and the verdict (`--color always`, or a terminal without NO_COLOR).
    pub color: bool,
    /// The width the tables are fitted into (see [`width`]).
    pub width: u16,
}

/// The width to fit the tables into: the terminal's when writing to one, else `COLUMNS`, else
/// [`FIXED_WIDTH`]. A width of 0 (a pty nobody sized, `stty cols 0`) or an unreadable `COLUMNS`
/// counts as unknown, never as a table one character wide.
pub fn width(terminal_columns: Option<u16>, columns_env: Option<&str>) -> u16 {
    terminal_columns
        .filter(|&c| c > 0)
        .or_else(|| {
            columns_env
                .and_then(|v| v.trim().parse::<u16>().ok())
                .filter(|&c| c > 0)
        })
        .unwrap_or(FIXED_WIDTH)
}

impl Reporter for Table {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let verdict = escape_controls(&verdict_line(report)).into_owned();
        if self.color {
            let color = match report.verdict {
                Verdict::Go => "\x1b[32m",
                Verdict::NoGo => "\x1b[31m",
                Verdict::Untrusted => "\x1b[33m",
            };
            writeln!(out, "{color}{verdict}\x1b[0m")?;
        } else {
            writeln!(out, "{verdict}")?;
        }
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

    /// A grid fitted into [`Table::width`], styled when colouring whatever stdout is (comfy-table
    /// would only style for a terminal, and would ask the terminal for a width of its own).
    fn grid(&self) -> Grid {
        let mut t = Grid::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .force_no_tty()
            .set_width(self.width);
        if self.color {
            // The choice to colour is made (NO_COLOR included); crossterm must not undo it.
            crossterm::style::force_color_output(true);
            t.enforce_styling();
        }
        t
    }
}

/// A value from the inputs as one line of visible text.
fn esc(value: &str) -> String {
    escape_controls_inline(value).into_owned()
}

/// The width of tables when neither the terminal nor `COLUMNS` gives one.
pub const FIXED_WIDTH: u16 = 110;

fn gib(mb: u64) -> String {
    let g = mb as f64 / 1024.0;
    if g.fract() == 0.0 {
        format!("{g:.0}")
    } else {
        format!("{g:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_width_comes_from_the_terminal_then_columns_then_the_default() {
        assert_eq!(width(Some(132), Some("80")), 132);
        assert_eq!(width(None, Some("80")), 80);
        assert_eq!(width(None, None), FIXED_WIDTH);
        // 0 is a terminal nobody sized, not a width.
        assert_eq!(width(Some(0), None), FIXED_WIDTH);
        assert_eq!(width(Some(0), Some("90")), 90);
        assert_eq!(width(None, Some("0")), FIXED_WIDTH);
        assert_eq!(width(None, Some("wide")), FIXED_WIDTH);
    }
}
