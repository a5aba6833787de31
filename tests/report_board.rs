//! The HTML and Markdown reports as a change-approval board reads them: a cluster of 32 hosts
//! with long FQDNs, six of them drained, over a hundred findings, VMs with hostile names, a
//! VM too big for any host, and hosts pushed past the capacity floor.
//!
//! The Markdown is rendered by cmark-gfm (Debian package `cmark-gfm`), the renderer GitHub and
//! GitLab follow. The tests that run a tool (cmark-gfm; headless Chromium, which lays out,
//! measures and prints the HTML) are `#[ignore]`d, and `.ci/run` installs the tools and runs them
//! with `--include-ignored`, where a missing tool fails them. The HTML is laid out, measured and printed by headless Chromium (`#[ignore]`d tests,
//! run by `.ci/run`, which installs the tools).

mod browser;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const NOW: &str = "2026-11-25T17:00:00Z";

/// VM names a report must show as the literal text they are.
const HOSTILE: &[&str] = &[
    "http://evil.example/x",
    "www.evil.example",
    "owner@evil.example",
    "<script>alert(1)</script>",
    "| pipe",
    "*bold*",
    "`tick`",
];

fn fqdn(i: usize) -> String {
    format!("hv{i:02}.rack-{i:02}.frankfurt-datacenter-east.prod.corp.example.com")
}

/// The board's cluster: hv01..hv06 drained, hv07..hv32 each 85 % used. The drained hosts
/// hold the hostile names and 84 more VMs without HA (one finding each, one remediation),
/// six 8 GiB HA VMs that fit on no receiver above the 10 % floor, a VM whose HA the export
/// does not give, and BIG, a 190 GiB HA VM that fits on no host. hv07..hv12 are past the
/// floor already (120000 MiB used), so the drain leaves them past it.
fn board_inventory(dir: &Path) -> PathBuf {
    let hosts: Vec<Value> = (1..=32)
        .map(|i| json!({"name": fqdn(i), "cluster": "CL-BOARD", "state": "up", "memory_mb": 131072, "cpus": 32}))
        .collect();
    let mut vms = Vec::new();
    let mut vm = |name: String, host: usize, ha: Option<bool>, memory_mb: u64| {
        let mut v = json!({"name": name, "id": format!("vm-{}", vms.len()), "host": fqdn(host),
            "state": "running", "memory_mb": memory_mb, "vcpus": 2});
        if let Some(ha) = ha {
            v["ha"] = json!(ha);
        }
        vms.push(v);
    };
    for (n, name) in HOSTILE.iter().enumerate() {
        vm(name.to_string(), 1 + n % 6, Some(false), 512);
    }
    for n in 0..84 {
        vm(format!("APP{n:03}"), 1 + n % 6, Some(false), 256);
    }
    for h in 1..=6 {
        vm(format!("HA{h}"), h, Some(true), 8192);
    }
    vm("UNSURE01".into(), 2, None, 1024);
    vm("BIG".into(), 1, Some(true), 194_560);
    vm("MID".into(), 2, Some(false), 15_000);
    for h in 7..=32 {
        let used = if h <= 12 { 120_000 } else { 111_411 };
        vm(format!("LOAD{h:02}"), h, Some(true), used);
    }
    let inv = json!({"schema": "preflight/inventory/v1", "collected_at": "2026-11-25T16:00:00Z",
        "platform": "hyperv", "hosts": hosts, "vms": vms});
    let path = dir.join("board.json");
    std::fs::write(&path, serde_json::to_string_pretty(&inv).unwrap()).unwrap();
    path
}

/// `audit` of the board's six drained hosts in `format`: (stdout, exit code).
fn board(format: &str) -> (String, i32) {
    let dir = tempfile::tempdir().unwrap();
    let inv = board_inventory(dir.path());
    let mut args = vec![
        "audit".to_string(),
        "--inventory".into(),
        inv.display().to_string(),
        "--now".into(),
        NOW.into(),
        "--format".into(),
        format.into(),
    ];
    for i in 1..=6 {
        args.extend(["--host".into(), fqdn(i)]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .env("NO_COLOR", "1")
        .output()
        .expect("preflight runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// The example with its lab waivers (a GO that waives SQL01 and LAB-TEST01).
fn example_waived(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "audit",
            "--inventory",
            "examples/hyperv-cluster.json",
            "--host",
            "HV01",
            "--now",
            NOW,
            "--policy",
            "builtin",
            "--policy",
            "examples/lab-waivers.toml",
            "--format",
            format,
        ])
        .output()
        .expect("preflight runs");
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

const NON_HA_REMEDIATION: &str = "Live-migrate it with its storage to another node";

#[test]
fn the_board_case_is_what_it_claims() {
    let (json, code) = board("json");
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&json).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let non_ha = findings
        .iter()
        .filter(|f| f["rule"] == "non-ha-running")
        .count();
    assert!(non_ha >= 90, "{non_ha} non-ha-running findings");
    let past_floor = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["used_after_pct"].as_f64().unwrap_or(0.0) > 90.0)
        .count();
    assert!(past_floor >= 6, "{past_floor} hosts past the floor");
}

#[test]
fn most_room_says_whether_it_is_free_memory_or_room_above_the_floor() {
    let (json, _) = board("json");
    let doc: Value = serde_json::from_str(&json).unwrap();
    let about_big: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["vm"] == "BIG" || f["vm"] == "MID")
        .filter_map(|f| f["message"].as_str())
        .filter(|m| m.contains("most room"))
        .collect();
    // The capacity check (BIG, HA, moved by the cluster) says both the free memory and how
    // much of it is above the floor (the room it places in, as the planner): a receiver at 111411 of 131072 MiB has 19661 MiB free,
    // 6553 of it below 90 % used. The planner (MID, without HA, moved ahead of the drain)
    // counts only room above the floor, and says so.
    assert!(
        about_big.iter().any(|m| m.starts_with("BIG ")
            && m.contains("(most room: 19661 MiB free on ")
            && m.ends_with(", 6553 MiB of it above the 10% floor)")),
        "{about_big:#?}"
    );
    assert!(
        about_big
            .iter()
            .any(|m| m.starts_with("MID ") && m.contains("(most room above the floor: ")),
        "{about_big:#?}"
    );
    assert!(
        !about_big
            .iter()
            .any(|m| m.contains("(most room: ") && !m.contains("MiB free on")),
        "{about_big:#?}"
    );
}

#[test]
fn remediation_is_said_once_per_rule() {
    for format in ["markdown", "html"] {
        let (out, _) = board(format);
        assert_eq!(
            out.matches(NON_HA_REMEDIATION).count(),
            1,
            "{format} repeats the remediation"
        );
    }
}

#[test]
fn markdown_title_is_short_and_names_the_hosts_below() {
    let (md, _) = board("markdown");
    let first = md.lines().next().unwrap();
    assert_eq!(first, "# NO-GO: preflight audit of 6 hosts");
    for i in 1..=6 {
        assert!(
            md.contains(&fqdn(i)),
            "the hosts are listed below the title"
        );
    }
    let (html, _) = board("html");
    assert!(html.contains("<title>NO-GO: preflight audit of 6 hosts</title>"));
}

/// The Markdown as GitHub shows it: cmark-gfm with GitHub's extensions.
fn cmark_gfm(md: &str) -> String {
    let child = Command::new("cmark-gfm")
        .args([
            "-e",
            "table",
            "-e",
            "autolink",
            "-e",
            "strikethrough",
            "-e",
            "tagfilter",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!("cmark-gfm cannot run ({e}): apt-get install cmark-gfm (.ci/run does)"),
    };
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), md.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "runs cmark-gfm, which .ci/run installs"]
fn markdown_in_cmark_gfm_shows_hostile_names_as_text() {
    let (md, _) = board("markdown");
    let html = cmark_gfm(&md);
    assert!(!html.contains("<a "), "a name became a link:\n{html}");
    assert!(!html.contains("<script"), "raw HTML got through");
    // Every row of the findings table has its five cells: no name split a row.
    let blocking = html
        .split("<h2>Blocking findings</h2>")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .expect("the blocking findings table");
    let rows: Vec<&str> = blocking.split("<tr>").skip(2).collect();
    assert!(rows.len() >= 90, "{} rows", rows.len());
    for row in &rows {
        assert_eq!(row.matches("<td").count(), 5, "{row}");
    }
    // Each hostile name shows as its literal text in a VM cell (ZWSP after @ aside).
    for name in HOSTILE {
        let shown = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('@', "@\u{200b}");
        assert!(
            html.contains(&format!("<td>{shown}</td>")),
            "{name} not shown as text"
        );
    }
}

#[test]
fn html_chart_comes_before_the_findings_with_the_floor_and_the_drained_hosts() {
    let (html, _) = board("html");
    let chart = html.find("id=\"load-chart\"").expect("a chart");
    let findings = html.find("<section id=\"blocking\">").unwrap();
    assert!(chart < findings, "the chart comes first");
    assert!(html.find("class=\"badge no-go\"").unwrap() < chart);
    // Each drained host is marked, and its full name is kept.
    for i in 1..=6 {
        assert!(
            html.contains(&format!(
                "<span class=\"mark\">drained</span>{}</div>",
                fqdn(i).replace('.', ".<wbr>")
            )),
            "hv{i:02} is not marked drained in the chart"
        );
    }
    assert!(html.contains("class=\"line floor-line\" style=\"left:"));
    assert!(html.contains("floor: 90% used (10% kept free)"));
    assert!(html.contains("past floor</span>"));
    // Messages quote rule ids with backticks: shown as code, not as backticks.
    assert!(
        html.contains("cannot tell whether <code>non-ha-running</code> applies"),
        "backticks leak"
    );
    assert!(html.contains("(<code>non-ha-running</code>) but the plan has nowhere"));
}

#[test]
fn waivers_table_shows_the_finding_it_waives() {
    let md = example_waived("markdown");
    let row = md
        .lines()
        .find(|l| l.starts_with("| `non-ha-running` | HV01 | SQL01 |"))
        .expect("the waiver row of SQL01");
    assert!(
        row.contains("SQL01 runs on HV01 without high availability"),
        "{row}"
    );
    assert!(md.contains("| Rule | Host | VM | Waived finding | Reason |"));
    let html = example_waived("html");
    assert!(html.contains("<th>Waived finding</th>"));
}

/// Measures layout: overflow, the floor line, the chart text, the 100 % line against the
/// value labels, and where the chart sits.
const PROBE: &str = "
const de=document.documentElement;m.sw=de.scrollWidth;m.iw=innerWidth;
const fl=document.querySelector('.floor-line');const r=fl?fl.getBoundingClientRect():null;
m.floor=r&&r.height>0&&r.width>0&&getComputedStyle(fl).borderLeftStyle!=='none'?1:0;
let min=1e9;document.querySelectorAll('#load-chart *').forEach(e=>{if([...e.childNodes].some(n=>n.nodeType===3&&n.textContent.trim())){min=Math.min(min,parseFloat(getComputedStyle(e).fontSize));}});m.chartfont=min;
const lines=[...document.querySelectorAll('.full-line,.floor-line')].map(e=>e.getBoundingClientRect());let cross=0;
document.querySelectorAll('.val').forEach(v=>{const b=v.getBoundingClientRect();for(const l of lines){if(l.left<b.right&&l.right>b.left&&l.top<b.bottom&&l.bottom>b.top)cross++;}});m.cross=cross;m.vals=document.querySelectorAll('.val').length;
m.charttop=document.getElementById('load-chart').getBoundingClientRect().top+scrollY;
m.findingstop=document.getElementById('blocking').getBoundingClientRect().top+scrollY;
m.chartheight=document.getElementById('load-chart').getBoundingClientRect().height;
let wide=0;document.querySelectorAll('body *').forEach(e=>{const b=e.getBoundingClientRect();if(b.right>innerWidth+1&&!e.closest('.scroll'))wide++;});m.wide=wide;
";

fn num(m: &std::collections::BTreeMap<String, String>, k: &str) -> f64 {
    m.get(k)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {k} in {m:?}"))
}

#[test]
#[ignore = "needs Chromium (apt-get install chromium); .ci/run runs it"]
fn html_layout_at_desktop_and_phone_widths() {
    let (html, _) = board("html");
    for width in [1280, 390] {
        let m = browser::measure(&html, width, PROBE);
        assert_eq!(num(&m, "iw"), f64::from(width), "{m:?}");
        assert!(
            num(&m, "sw") <= f64::from(width),
            "horizontal overflow at {width} px: {m:?}"
        );
        assert_eq!(
            num(&m, "wide"),
            0.0,
            "elements past the edge at {width}: {m:?}"
        );
        assert_eq!(num(&m, "floor"), 1.0, "no floor line at {width}: {m:?}");
        assert!(
            num(&m, "chartfont") >= 11.0,
            "chart text too small at {width}: {m:?}"
        );
        assert!(num(&m, "vals") > 30.0, "{m:?}");
        assert_eq!(
            num(&m, "cross"),
            0.0,
            "a line crosses a value at {width}: {m:?}"
        );
        assert!(num(&m, "charttop") < num(&m, "findingstop"), "{m:?}");
        assert!(
            num(&m, "charttop") < 1200.0,
            "the chart starts far down: {m:?}"
        );
    }
}

#[test]
#[ignore = "needs Chromium and pdftotext (apt-get install chromium poppler-utils); .ci/run runs it"]
fn printed_pdf_keeps_the_verdict_in_black_and_white() {
    let (html, _) = board("html");
    let dir = tempfile::tempdir().unwrap();
    let (text, pdf) = browser::print_to_pdf(dir.path(), &html);
    assert!(text.contains("NO-GO"), "no verdict in the PDF:\n{text}");
    assert!(text.contains("Blocking findings"));
    // The badge's word is printed dark, and a border stands left of it: with the background
    // left out, the verdict is still a word in a box.
    badge_prints_in_black_and_white(&pdf, "NO-GO");
    let waived = example_waived("html");
    let dir = tempfile::tempdir().unwrap();
    let (text, pdf) = browser::print_to_pdf(dir.path(), &waived);
    assert!(text.contains("GO"), "{text}");
    badge_prints_in_black_and_white(&pdf, "GO");
}

fn badge_prints_in_black_and_white(pdf: &Path, word: &str) {
    let (x0, y0, x1, y1) = browser::word_box(pdf, word).expect("the verdict on page 1");
    let text = browser::dark_pixels(pdf, (x0, y0, x1, y1));
    assert!(
        text > 40,
        "{word}: the verdict prints blank ({text} dark pixels)"
    );
    // The badge's left padding (9 pt) and border (2 pt): the strip left of the word.
    let border = browser::dark_pixels(pdf, (x0 - 14.0, y0, x0 - 1.0, y1));
    assert!(
        border >= 30,
        "{word}: no border around the verdict ({border} dark pixels)"
    );
}

#[test]
fn html_print_styles_keep_rows_and_headings_together() {
    let (html, _) = board("html");
    let print = html.split("@media print{").nth(1).expect("print styles");
    assert!(print.contains("tr,li,.host,.legend{break-inside:avoid}"));
    assert!(print.contains("h1,h2{break-after:avoid}"));
    assert!(print.contains(".badge{color:#1f2328;background:#fff;border:3px double #1f2328}"));
}
