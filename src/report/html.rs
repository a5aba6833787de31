//! `--format html`: one self-contained page for the approval board, with no scripts and no
//! external assets (inline CSS, inline SVG), so it opens the same from a mail, a share or an
//! archive years later. Same content as the Markdown (both render [`super::doc`]), plus a bar
//! chart of each host's memory load. Every value is HTML-escaped; a Content-Security-Policy
//! forbids scripts and remote loads even if something slipped through.

use super::doc::{self, Block, Inline};
use super::{Report, Reporter};
use std::fmt::Write as _;
use std::io::{self, Write};

pub struct Html;

impl Reporter for Html {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(render(report).as_bytes())
    }
}

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main,header{max-width:1100px;margin:0 auto;padding:0 24px}
header{padding-top:24px;padding-bottom:8px}
h1{font-size:26px;margin:0 0 8px}
h2{font-size:19px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
.badge{display:inline-block;padding:2px 12px;border-radius:6px;color:#fff;margin-right:8px}
.go{background:#1a7f37}.no-go{background:#cf222e}.untrusted{background:#9a6700}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eaeef2}
code{font:13px ui-monospace,SFMono-Regular,Consolas,monospace;background:#eaeef2;padding:0 3px;border-radius:3px;white-space:nowrap}
svg{background:#fff;border:1px solid #d0d7de;margin-top:12px;max-width:100%;height:auto}
svg text{font:12px system-ui,sans-serif;fill:#1f2328}
svg .grid{stroke:#d0d7de}svg .full{stroke:#cf222e;stroke-dasharray:4 3}
.s0{fill:#4e79a7}.s1{fill:#f28e2b}.s2{fill:#59a14f}.s3{fill:#b07aa1}
";

fn render(report: &Report) -> String {
    let d = doc::build(report);
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(s, "<title>{}</title>", escape(&d.title));
    let _ = writeln!(s, "<style>{STYLE}</style>\n</head>\n<body>\n<header>");
    let _ = writeln!(
        s,
        "<h1><span class=\"badge {}\">{}</span>preflight {} of {}</h1>",
        report.verdict.as_str(),
        escape(d.verdict),
        escape(&report.request.command),
        escape(&report.request.hosts.join(", "))
    );
    for b in &d.lead {
        block(&mut s, b);
    }
    s.push_str("</header>\n<main>\n");
    for sec in &d.sections {
        let _ = writeln!(
            s,
            "<section id=\"{}\">\n<h2>{}</h2>",
            escape(sec.id),
            escape(sec.heading)
        );
        for b in &sec.blocks {
            block(&mut s, b);
        }
        if sec.id == doc::HOSTS {
            s.push_str(&chart(&series(report), &labels(report)));
        }
        s.push_str("</section>\n");
    }
    s.push_str("</main>\n</body>\n</html>\n");
    s
}

fn block(s: &mut String, b: &Block) {
    match b {
        Block::Para(parts) => {
            let _ = writeln!(s, "<p>{}</p>", inlines(parts));
        }
        Block::List(items) => {
            s.push_str("<ul>\n");
            for item in items {
                let _ = writeln!(s, "<li>{}</li>", inlines(item));
            }
            s.push_str("</ul>\n");
        }
        Block::Table { header, rows } => {
            s.push_str("<table>\n<thead><tr>");
            for h in header {
                let _ = write!(s, "<th>{}</th>", escape(h));
            }
            s.push_str("</tr></thead>\n<tbody>\n");
            for row in rows {
                s.push_str("<tr>");
                for c in row {
                    let _ = write!(s, "<td>{}</td>", inlines(std::slice::from_ref(c)));
                }
                s.push_str("</tr>\n");
            }
            s.push_str("</tbody>\n</table>\n");
        }
    }
}

fn inlines(parts: &[Inline]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Text(t) => escape(t),
            Inline::Code(t) => format!("<code>{}</code>", escape(t)),
            Inline::Strong(t) => format!("<strong>{}</strong>", escape(t)),
        })
        .collect()
}

/// Escapes text for element content and quoted attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One series of the load chart: a used-memory percentage per host (`None`: memory unknown).
struct Series {
    label: &'static str,
    values: Vec<Option<f64>>,
}

/// The chart's series, one bar per host each. An audit has two: before maintenance and after
/// the simulated drain. A restore has three: before maintenance (as the plan recorded it),
/// now, and after the move-back. [`chart`] lays out any number of series (four colours are
/// styled: `.s0`..`.s3`).
fn series(report: &Report) -> Vec<Series> {
    let before = Series {
        label: "before maintenance",
        values: report.hosts.iter().map(|h| h.used_before_pct).collect(),
    };
    if !report.is_restore() {
        return vec![
            before,
            Series {
                label: "after the simulated drain",
                values: report.hosts.iter().map(|h| h.used_after_pct).collect(),
            },
        ];
    }
    vec![
        before,
        Series {
            label: "now",
            values: report.hosts.iter().map(|h| h.used_after_pct).collect(),
        },
        Series {
            label: "after the move-back",
            values: report
                .hosts
                .iter()
                .map(|h| h.after_move_back.as_ref().and_then(|a| a.used_pct))
                .collect(),
        },
    ]
}

fn labels(report: &Report) -> Vec<String> {
    let mark = if report.is_restore() {
        "maintained"
    } else {
        "drained"
    };
    report
        .hosts
        .iter()
        .map(|h| {
            if h.target {
                format!("{} ({mark})", h.host)
            } else {
                h.host.clone()
            }
        })
        .collect()
}

const LABEL_W: f64 = 190.0;
const PLOT_W: f64 = 600.0;
const BAR_H: f64 = 14.0;
const GROUP_GAP: f64 = 14.0;
const TOP: f64 = 52.0;

/// A horizontal bar chart: per host a group of bars, one per series, 0–100 % memory used (the
/// axis stretches if a host would exceed 100 %).
fn chart(series: &[Series], labels: &[String]) -> String {
    if labels.is_empty() || series.is_empty() {
        return String::new();
    }
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(100.0_f64, |m, v| m.max(*v));
    let axis_max = (max / 25.0).ceil() * 25.0;
    let scale = PLOT_W / axis_max;
    let group_h = series.len() as f64 * (BAR_H + 3.0) + GROUP_GAP;
    let width = LABEL_W + PLOT_W + 70.0;
    let height = TOP + group_h * labels.len() as f64 + 10.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    );
    s.push_str("<title>Memory used per host, in percent of the host's memory</title>\n");
    let mut x = LABEL_W;
    for (i, ser) in series.iter().enumerate() {
        let _ = writeln!(
            s,
            "<rect class=\"s{}\" x=\"{x}\" y=\"8\" width=\"12\" height=\"12\"/><text x=\"{}\" y=\"18\">{}</text>",
            i % 4,
            x + 16.0,
            escape(ser.label)
        );
        x += 16.0 + 7.5 * ser.label.chars().count() as f64 + 24.0;
    }
    let mut tick = 0.0;
    while tick <= axis_max {
        let tx = LABEL_W + tick * scale;
        let class = if tick == 100.0 { "full" } else { "grid" };
        let _ = writeln!(
            s,
            "<line class=\"{class}\" x1=\"{tx}\" y1=\"{}\" x2=\"{tx}\" y2=\"{}\"/><text x=\"{tx}\" y=\"{}\" text-anchor=\"middle\">{tick}%</text>",
            TOP - 6.0,
            height - 6.0,
            TOP - 10.0
        );
        tick += 25.0;
    }
    for (h, label) in labels.iter().enumerate() {
        let y0 = TOP + h as f64 * group_h;
        // About 7 px a character at 12 px: 24 fit left of the axis; the full name is the tooltip.
        let short: String = if label.chars().count() > 24 {
            label.chars().take(23).chain(['…']).collect()
        } else {
            label.clone()
        };
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>",
            LABEL_W - 8.0,
            y0 + BAR_H,
            escape(label),
            escape(&short)
        );
        for (i, ser) in series.iter().enumerate() {
            let y = y0 + i as f64 * (BAR_H + 3.0);
            match ser.values.get(h).copied().flatten() {
                Some(v) => {
                    let w = (v * scale).max(1.0);
                    let _ = writeln!(
                        s,
                        "<rect class=\"s{}\" x=\"{LABEL_W}\" y=\"{y}\" width=\"{w:.1}\" height=\"{BAR_H}\"><title>{}: {v:.1}%</title></rect><text x=\"{:.1}\" y=\"{}\">{v:.1}%</text>",
                        i % 4,
                        escape(ser.label),
                        LABEL_W + w + 4.0,
                        y + BAR_H - 3.0
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        "<text x=\"{}\" y=\"{}\">{}: memory unknown</text>",
                        LABEL_W + 4.0,
                        y + BAR_H - 3.0,
                        escape(ser.label)
                    );
                }
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<img src=x onerror='a'>&\""),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;"
        );
    }

    #[test]
    fn chart_scales_past_100_and_marks_unknown_memory() {
        let series = [Series {
            label: "before",
            values: vec![Some(120.0), None],
        }];
        let svg = chart(&series, &["a".into(), "b".into()]);
        assert!(svg.contains(">125%</text>"), "{svg}");
        assert!(svg.contains("memory unknown"));
        assert!(chart(&series, &[]).is_empty());
    }
}
