//! Hostile names (cells split by `|`, markup, Markdown emphasis) stay plain text in the
//! Markdown and HTML reports, and the HTML page loads nothing from anywhere.

use super::{example, run};
use std::path::Path;

/// An inventory whose names try to break out of a table cell or inject markup.
fn hostile_inventory(dir: &Path) -> String {
    let inv = serde_json::json!({
        "schema": "preflight/inventory/v1",
        "platform": "hyperv",
        "hosts": [
            {"name": "HV01", "cluster": "C|<b>*x*</b>", "state": "up", "memory_mb": 4096},
            {"name": "HV02", "cluster": "C|<b>*x*</b>", "state": "up", "memory_mb": 4096}
        ],
        "vms": [
            {"name": "evil|</td><script>alert(1)</script>`x`_*y*", "host": "HV01",
             "state": "running", "ha": false, "memory_mb": 512},
            {"name": "<img src=http://e/x.png>[l](http://e)&amp;", "host": "HV01",
             "state": "running", "ha": false, "memory_mb": 512}
        ]
    });
    let path = dir.join("hostile.json");
    std::fs::write(&path, inv.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

fn hostile(format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let inv = hostile_inventory(dir.path());
    let (out, code) = run(&[
        "audit",
        "--inventory",
        &inv,
        "--host",
        "HV01",
        "--format",
        format,
    ]);
    assert_eq!(code, 1, "{out}");
    out
}

/// The `|` that end cells: not preceded by a backslash.
fn cell_pipes(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

#[test]
fn markdown_escapes_hostile_names() {
    let md = hostile("markdown");
    let blocking = md
        .split("## Blocking findings")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    let rows: Vec<&str> = blocking.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 4, "{blocking}");
    for row in rows {
        assert_eq!(cell_pipes(row), 6, "row split into extra cells: {row}");
    }
    assert!(md.contains(r"evil\|\</td\>\<script\>"), "{md}");
    assert!(md.contains(r"\`x\`\_\*y\*"));
    // No raw HTML: every `<` is escaped.
    let b = md.as_bytes();
    for i in (0..b.len()).filter(|&i| b[i] == b'<') {
        assert!(i > 0 && b[i - 1] == b'\\', "unescaped < at {i}: {md}");
    }
}

#[test]
fn html_escapes_hostile_names_and_loads_nothing() {
    let html = hostile("html");
    assert!(html.contains("evil|&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=http://e/x.png&gt;"));
    assert!(html.contains("&amp;amp;"));
    for page in [html, example("html", true).0] {
        let lower = page.to_ascii_lowercase();
        // Text never holds a raw `<`, so every `<…>` is a real tag.
        let tags: Vec<&str> = lower
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or(""))
            .collect();
        for tag in &tags {
            let name = tag.split([' ', '/', '\n']).next().unwrap_or("");
            assert!(
                ![
                    "script", "img", "link", "iframe", "object", "embed", "image", "use"
                ]
                .contains(&name),
                "<{tag}>"
            );
            assert!(!tag.contains("src=") && !tag.contains("href="), "<{tag}>");
            assert!(!tag.contains(" on"), "event handler in <{tag}>");
        }
        assert!(
            tags.iter()
                .any(|t| t.starts_with("figure class=\"chart\" id=\"load-chart\"")),
            "the chart is inline"
        );
        assert!(!lower.contains("url("), "CSS loads nothing");
        assert!(!lower.contains("@import"), "CSS loads nothing");
    }
}
