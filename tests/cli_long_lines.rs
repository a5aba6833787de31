//! Exports written on one line (`pvesh … --output-format json`, `ConvertTo-Json -Compress`):
//! a diagnostic far along the line shows a short excerpt with the right line and column, and
//! never crashes the run or floods stderr with the whole line.

mod common;

use common::{NOW, run};

/// A one-line Proxmox export of about 300 KB whose guest past byte 200,000 has a state
/// preflight does not know (a warning), and whose sixth guest's name holds an escape sequence.
/// Returns the text and the byte offset of the odd state's value.
fn one_line_export() -> (String, usize) {
    let mut guests = Vec::new();
    let mut size = 0;
    let mut odd = None;
    for i in 0.. {
        let status = if odd.is_none() && size > 200_000 {
            odd = Some(i);
            "hibernating"
        } else {
            "running"
        };
        let name = if i == 5 {
            format!("vm{i}\u{1b}[2J")
        } else {
            format!("vm{i}")
        };
        let guest = serde_json::json!({
            "id": format!("qemu/{}", 100 + i), "name": name, "type": "qemu", "vmid": 100 + i,
            "node": if i % 2 == 0 { "pve1" } else { "pve2" }, "status": status,
            "hastate": "started", "maxmem": 1_073_741_824u64, "mem": 0, "maxcpu": 1, "template": 0,
        });
        size += guest.to_string().len();
        guests.push(guest);
        if size > 300_000 {
            break;
        }
    }
    for node in ["pve1", "pve2"] {
        guests.push(serde_json::json!({
            "id": format!("node/{node}"), "type": "node", "node": node, "status": "online",
            "maxmem": 1_000_000_000_000u64, "maxcpu": 64,
        }));
    }
    let text = serde_json::Value::Array(guests).to_string();
    let at = text
        .find("\"hibernating\"")
        .expect("the odd state is in the export");
    assert!(at > 200_000 && !text.contains('\n'));
    (text, at)
}

#[test]
fn a_warning_far_along_a_one_line_export_shows_a_short_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let (text, at) = one_line_export();
    let path = dir.path().join("pvesh.json");
    std::fs::write(&path, &text).unwrap();
    let report = dir.path().join("report.json");
    let (code, _, stderr) = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--host",
        "pve1",
        "--now",
        NOW,
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    assert!(stderr.contains("hibernating"), "{stderr}");
    // The column counts characters: the export is ASCII but for the escape, one byte each.
    assert!(
        stderr.contains(&format!("pvesh.json:1:{}", at + 1)),
        "no position :1:{} in {stderr}",
        at + 1
    );
    assert!(stderr.len() < 4_000, "{} bytes of stderr", stderr.len());
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(written["verdict"].is_string());
}

#[test]
fn an_error_far_along_a_one_line_export_is_located_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let (text, at) = one_line_export();
    // Break the JSON right at the odd guest: a syntax error at byte ~200,000.
    let broken = format!("{}}}{}", &text[..at], &text[at..]);
    let path = dir.path().join("broken.json");
    std::fs::write(&path, &broken).unwrap();
    let (code, _, stderr) = run(&[
        "audit",
        "--inventory",
        path.to_str().unwrap(),
        "--host",
        "pve1",
        "--now",
        NOW,
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("broken.json:1:"), "{stderr}");
    assert!(stderr.len() < 4_000, "{} bytes of stderr", stderr.len());
}
