//! `--format html`: one self-contained page for the approval board, with no scripts and no
//! external assets (inline CSS, inline SVG), so it opens the same from a mail, a share or an
//! archive years later. Same content as the Markdown (both render [`super::doc`]), plus a bar
//! chart of each host's memory load. Every value is HTML-escaped; a Content-Security-Policy
//! forbids scripts and remote loads even if something slipped through.

use super::doc::{self, Block, Inline};
use super::{HostLoadRow, Report, Reporter};
use std::fmt::Write as _;
use std::io::{self, Write};

pub struct Html;

impl Reporter for Html {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(render(report).as_bytes())
    }
}

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;margin:0;background:#f6f8fa;overflow-wrap:break-word}
main,header{max-width:1100px;margin:0 auto;padding:0 16px}
header{padding-top:24px;padding-bottom:8px}
h1{font-size:26px;margin:0 0 8px;line-height:1.3}
h2{font-size:19px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
.badge{display:inline-block;padding:0 12px;border:3px solid #1f2328;border-radius:6px;color:#fff;margin-right:8px;letter-spacing:.04em}
.go{background:#1a7f37}.no-go{background:#cf222e}.untrusted{background:#9a6700}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eaeef2;white-space:nowrap}
td{min-width:4em}
code{font:13px ui-monospace,SFMono-Regular,Consolas,monospace;background:#eaeef2;padding:0 3px;border-radius:3px}
td code{white-space:nowrap}
.chart{background:#fff;border:1px solid #d0d7de;padding:8px 12px;margin:12px 0;font-size:13px}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin-bottom:6px}
.key{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin-right:4px}
.key-line{display:inline-block;width:0;height:12px;vertical-align:-1px;margin:0 6px 0 4px;border-left:2px dashed}
.host{display:grid;grid-template-columns:minmax(8em,18em) 1fr;gap:2px 10px;padding:3px 0;border-top:1px solid #eaeef2}
.hname{line-height:1.25;overflow-wrap:anywhere}
.mark{display:inline-block;font-size:11px;font-weight:600;text-transform:uppercase;border:1px solid #1f2328;border-radius:3px;padding:0 4px;margin-right:4px}
.track{display:grid;grid-template-columns:1fr 11em;gap:8px;align-items:center;min-height:15px}
.plot{position:relative;height:12px}
.axis .plot{height:16px}
.tick{position:absolute;top:0;transform:translateX(-50%);white-space:nowrap;font-size:11px;color:#57606a}
.line{position:absolute;top:-2px;bottom:-2px;width:0}
.full-line{border-left:2px dashed #cf222e}
.floor-line{border-left:2px dotted #1f2328}
.bar{position:absolute;left:0;top:0;bottom:0;min-width:1px}
.val{font-variant-numeric:tabular-nums;white-space:nowrap}
.val.over{font-weight:600}
.s0{background:#4e79a7}.s1{background:#f28e2b}.s2{background:#59a14f}.s3{background:#b07aa1}
.bar.over{background-image:repeating-linear-gradient(135deg,transparent 0 4px,#1f2328 4px 6px)}
@media (max-width:600px){
 body{font-size:14px}
 h1{font-size:21px}
 .host{grid-template-columns:1fr}
 .minor{display:none}
 .track{grid-template-columns:1fr 10.5em}
}
@media print{
 body{background:#fff;font-size:10pt}
 main,header{max-width:none;padding:0}
 .scroll{overflow:visible}
 table{font-size:9pt}
 thead{display:table-header-group}
 tr,li,.host,.legend{break-inside:avoid}
 h1,h2{break-after:avoid}
 .badge{color:#1f2328;background:#fff;border:3px double #1f2328}
 .bar,.key{-webkit-print-color-adjust:exact;print-color-adjust:exact;outline:1px solid #1f2328}
}
";

fn render(report: &Report) -> String {
    let d = doc::build(report);
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(s, "<title>{}</title>", escape(&d.title));
    let _ = writeln!(s, "<style>{STYLE}</style>\n</head>\n<body>\n<header>");
    // The verdict is a word in a bordered box: it reads the same printed in black and white,
    // where the badge's background colour is dropped.
    let _ = writeln!(
        s,
        "<h1><span class=\"badge {}\">{}</span>preflight {} of {}</h1>",
        report.verdict.as_str(),
        escape(d.verdict),
        escape(&report.request.command),
        escape(&doc::hosts_short(&report.request.hosts))
    );
    for b in &d.lead {
        block(&mut s, b);
    }
    s.push_str("</header>\n<main>\n");
    // The load chart comes right after the verdict and the counts, before the findings: with
    // hundreds of findings it would otherwise start pages down.
    let mark = if report.is_restore() {
        "maintained"
    } else {
        "drained"
    };
    let chart = chart(&series(report), &report.hosts, mark, report.floor_used_pct);
    if !chart.is_empty() {
        let _ = writeln!(
            s,
            "<section id=\"load\">\n<h2>Memory load per host</h2>\n{chart}</section>"
        );
    }
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
            // A wide table scrolls inside its own box on a narrow screen; the page does not.
            s.push_str("<div class=\"scroll\">\n<table>\n<thead><tr>");
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
            s.push_str("</tbody>\n</table>\n</div>\n");
        }
    }
}

fn inlines(parts: &[Inline]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Text(t) => text(t),
            Inline::Code(t) => format!("<code>{}</code>", escape(t)),
            Inline::Strong(t) => format!("<strong>{}</strong>", text(t)),
        })
        .collect()
}

/// Running text: the `code spans` rule messages and remediations mark with backticks become
/// `<code>`; everything is escaped. A backtick without a partner stays a backtick.
fn text(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(open) = rest.find('`') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else { break };
        if close == 0 {
            // "``": not a span; keep both backticks as text.
            out.push_str(&escape(&rest[..open + 2]));
            rest = &after[1..];
            continue;
        }
        out.push_str(&escape(&rest[..open]));
        let _ = write!(out, "<code>{}</code>", escape(&after[..close]));
        rest = &after[close + 1..];
    }
    out.push_str(&escape(rest));
    out
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

/// Percent as a CSS length along the axis.
fn at(v: f64, axis_max: f64) -> String {
    format!("{:.2}%", (v / axis_max * 100.0).clamp(0.0, 100.0))
}

/// The load chart, in HTML and CSS rather than a scaled image, so its text keeps its size on a
/// phone and host names wrap instead of being cut: per host its name (a drained or maintained
/// host carries a marker before the name, so a long name cannot hide it), then one bar per
/// series with its value in a column of its own, right of the plot, where no line crosses it.
/// The dashed line is 100 % used; the dotted line is the capacity floor (90 % used when the
/// policy keeps 10 % free). A bar past the floor is hatched and its value says so in words,
/// so it survives a black-and-white print. The axis stretches past 100 % when a host would.
fn chart(series: &[Series], hosts: &[HostLoadRow], mark: &str, floor: Option<f64>) -> String {
    if hosts.is_empty() || series.is_empty() {
        return String::new();
    }
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(100.0_f64, |m, v| m.max(*v));
    let axis_max = (max / 25.0).ceil() * 25.0;
    let lines = {
        let mut l = format!(
            "<i class=\"line full-line\" style=\"left:{}\"></i>",
            at(100.0, axis_max)
        );
        if let Some(f) = floor {
            let _ = write!(
                l,
                "<i class=\"line floor-line\" style=\"left:{}\"></i>",
                at(f, axis_max)
            );
        }
        l
    };
    let mut s = String::new();
    s.push_str("<figure class=\"chart\" id=\"load-chart\" role=\"group\" aria-label=\"Memory used per host, in percent of the host's memory\">\n<div class=\"legend\">");
    for (i, ser) in series.iter().enumerate() {
        let _ = write!(
            s,
            "<span><i class=\"key s{}\"></i>{}</span>",
            i % 4,
            escape(ser.label)
        );
    }
    s.push_str(
        "<span><i class=\"key-line full-key\" style=\"border-color:#cf222e\"></i>100% used</span>",
    );
    if let Some(f) = floor {
        let _ = write!(
            s,
            "<span id=\"floor-key\"><i class=\"key-line\"></i>floor: {} used ({} kept free); a bar past it is hatched and its value marked \u{25b2}</span>",
            pct_text(f),
            pct_text(100.0 - f)
        );
    }
    s.push_str("</div>\n<div class=\"host axis\" aria-hidden=\"true\"><div></div><div class=\"track\"><div class=\"plot\">");
    let mut tick = 0.0;
    while tick <= axis_max {
        // On a phone only every 50 % is labelled, so the labels do not run into each other.
        let _ = write!(
            s,
            "<span class=\"tick{}\" style=\"left:{}\">{tick}%</span>",
            if tick % 50.0 == 0.0 { "" } else { " minor" },
            at(tick, axis_max)
        );
        tick += 25.0;
    }
    s.push_str("</div><div></div></div></div>\n");
    for (h, host) in hosts.iter().enumerate() {
        let _ = write!(
            s,
            "<div class=\"host{}\"><div class=\"hname\" title=\"{}\">",
            if host.target { " target" } else { "" },
            escape(&host.host)
        );
        if host.target {
            let _ = write!(s, "<span class=\"mark\">{mark}</span>");
        }
        // A long FQDN wraps at its dots rather than anywhere.
        let _ = write!(
            s,
            "{}</div><div>",
            escape(&host.host).replace('.', ".<wbr>")
        );
        for (i, ser) in series.iter().enumerate() {
            s.push_str("<div class=\"track\"><div class=\"plot\">");
            match ser.values.get(h).copied().flatten() {
                Some(v) => {
                    let over = floor.is_some_and(|f| v > f);
                    let _ = write!(
                        s,
                        "<i class=\"bar s{}{}\" style=\"width:{}\" title=\"{}: {v:.1}%\"></i>{lines}</div><span class=\"val{}\">{}{v:.1}%{}</span></div>",
                        i % 4,
                        if over { " over" } else { "" },
                        at(v, axis_max),
                        escape(ser.label),
                        if over { " over" } else { "" },
                        if over { "\u{25b2} " } else { "" },
                        if over { " past floor" } else { "" },
                    );
                }
                None => {
                    let _ = write!(
                        s,
                        "{lines}</div><span class=\"val\" title=\"{}\">memory unknown</span></div>",
                        escape(ser.label)
                    );
                }
            }
        }
        s.push_str("</div></div>\n");
    }
    s.push_str("</figure>\n");
    s
}

/// A percentage without a trailing `.0`.
fn pct_text(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}%")
    } else {
        format!("{r:.1}%")
    }
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

    fn host(name: &str, target: bool) -> HostLoadRow {
        HostLoadRow {
            host: name.into(),
            cluster: None,
            state: "up".into(),
            target,
            memory_mb: Some(1024),
            used_before_mb: 0,
            used_after_mb: 0,
            used_before_pct: None,
            used_after_pct: None,
            vms_before: 0,
            vms_after: 0,
            after_move_back: None,
        }
    }

    #[test]
    fn chart_scales_past_100_and_marks_unknown_memory() {
        let series = [Series {
            label: "before",
            values: vec![Some(120.0), None],
        }];
        let hosts = [host("a", false), host("b", false)];
        let html = chart(&series, &hosts, "drained", None);
        assert!(
            html.contains("minor\" style=\"left:100.00%\">125%</span>"),
            "{html}"
        );
        // 100 % of a 125 % axis.
        assert!(html.contains("full-line\" style=\"left:80.00%\""), "{html}");
        assert!(html.contains("memory unknown"));
        assert!(!html.contains("floor-line"), "no capacity rule, no floor");
        assert!(chart(&series, &[], "drained", None).is_empty());
    }

    #[test]
    fn chart_draws_the_floor_and_marks_hosts_past_it() {
        let series = [Series {
            label: "after",
            values: vec![Some(95.0), Some(89.9)],
        }];
        let long = "hv01.a-very-long-datacenter-name.corp.example.com";
        let hosts = [host(long, true), host("hv02", false)];
        let html = chart(&series, &hosts, "drained", Some(90.0));
        assert_eq!(
            html.matches("floor-line\" style=\"left:90.00%\"").count(),
            2
        );
        assert!(html.contains("floor: 90% used (10% kept free)"), "{html}");
        // Past the floor: hatched (class) and said in words; below it: neither.
        assert!(
            html.contains("bar s0 over\" style=\"width:95.00%\""),
            "{html}"
        );
        assert!(html.contains("\u{25b2} 95.0% past floor</span>"), "{html}");
        assert!(html.contains("bar s0\" style=\"width:89.90%\""), "{html}");
        assert!(html.contains(">89.9%</span>"), "{html}");
        // The drained marker stands before the whole name, which is not cut.
        assert!(
            html.contains(&format!(
                "<span class=\"mark\">drained</span>{}</div>",
                long.replace('.', ".<wbr>")
            )),
            "{html}"
        );
    }

    #[test]
    fn backticks_become_code_and_the_rest_is_escaped() {
        assert_eq!(
            text("waive it (`non-ha-running`) <b>"),
            "waive it (<code>non-ha-running</code>) &lt;b&gt;"
        );
        assert_eq!(text("a `<x>` b"), "a <code>&lt;x&gt;</code> b");
        assert_eq!(text("odd ` tick"), "odd ` tick");
        assert_eq!(text("``"), "``");
    }
}
