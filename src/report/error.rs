//! The record a run that could not evaluate (exit 2) leaves where its report would have gone,
//! in the format asked for, so a pipeline always finds an artifact of this run and never an
//! earlier run's verdict: JSON with `"verdict": "error"`, `"exit_code": 2` and the diagnostics;
//! SARIF with a failed invocation and the diagnostics as its notifications; JUnit with an
//! `<error>` test case; table, Markdown and HTML with a plain statement and the diagnostics.
//!
//! The JSON record has no `findings` and no `summary`: nothing was judged, and a consumer that
//! counts findings must not read an empty list as a clean bill.

use super::REPORT_SCHEMA;
use crate::diag::{Diagnostics, escape_controls};
use serde::Serialize;
use serde_json::json;
use serde_sarif::sarif::{self, Invocation, Message, Notification, Run, Tool, ToolComponent};
use std::io::{self, Write};

/// The formats an error record is written in (those of `--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    Table,
    Json,
    Sarif,
    Junit,
    Markdown,
    Html,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorRecord {
    pub schema: &'static str,
    /// Always `error`.
    pub verdict: &'static str,
    pub request: ErrorRequest,
    /// Always 2.
    pub exit_code: i32,
    pub exit_reason: String,
    pub diagnostics: Vec<DiagnosticRecord>,
    pub tool_version: &'static str,
}

/// What was asked, as far as it could be read.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorRequest {
    pub command: String,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiagnosticRecord {
    pub code: String,
    /// `error` or `warning`.
    pub severity: &'static str,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl ErrorRecord {
    pub fn new(command: &str, hosts: Vec<String>, diags: &Diagnostics) -> ErrorRecord {
        let diagnostics: Vec<DiagnosticRecord> = diags
            .0
            .iter()
            .map(|d| {
                let (line, column) = d.line_col().unzip();
                DiagnosticRecord {
                    code: d.code.as_str().into(),
                    severity: if d.warning { "warning" } else { "error" },
                    message: d.message.clone(),
                    file: d.src.as_ref().map(|s| s.name.clone()),
                    line,
                    column,
                    help: d.help.clone(),
                }
            })
            .collect();
        let errors = diagnostics.iter().filter(|d| d.severity == "error").count();
        ErrorRecord {
            schema: REPORT_SCHEMA,
            verdict: "error",
            request: ErrorRequest {
                command: command.into(),
                hosts,
            },
            exit_code: 2,
            exit_reason: format!(
                "could not evaluate: {errors} problem(s) with the command line or the inputs"
            ),
            diagnostics,
            tool_version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// The statement every human-readable format starts with.
    fn headline(&self) -> String {
        format!("ERROR: {} (exit {})", self.exit_reason, self.exit_code)
    }
}

impl DiagnosticRecord {
    /// `code: file:line:col: message (help)` on one line, control characters escaped.
    fn line(&self) -> String {
        let mut s = format!("{}: ", self.code);
        if let Some(file) = &self.file {
            s.push_str(file);
            if let (Some(l), Some(c)) = (self.line, self.column) {
                s.push_str(&format!(":{l}:{c}"));
            }
            s.push_str(": ");
        }
        s.push_str(&self.message);
        if let Some(help) = &self.help {
            s.push_str(&format!(" (help: {help})"));
        }
        crate::diag::escape_controls_inline(&s).into_owned()
    }
}

/// Writes `record` in `format` to `out`.
pub fn write_error(
    format: ErrorFormat,
    record: &ErrorRecord,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        ErrorFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, record).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
        ErrorFormat::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif_log(record))
                .map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
        ErrorFormat::Junit => {
            let xml = junit(record).to_string().map_err(io::Error::other)?;
            out.write_all(super::junit::without_suites_skipped(&xml).as_bytes())?;
            out.write_all(b"\n")
        }
        ErrorFormat::Table => {
            writeln!(out, "{}", escape_controls(&record.headline()))?;
            for d in &record.diagnostics {
                writeln!(out, "  {}", d.line())?;
            }
            Ok(())
        }
        ErrorFormat::Markdown => {
            writeln!(
                out,
                "# preflight {}: ERROR\n\n**{}**\n",
                super::markdown::escape(&record.request.command),
                super::markdown::escape(&record.headline())
            )?;
            for d in &record.diagnostics {
                writeln!(out, "- {}", super::markdown::escape(&d.line()))?;
            }
            Ok(())
        }
        ErrorFormat::Html => out.write_all(html(record).as_bytes()),
    }
}

fn sarif_log(record: &ErrorRecord) -> sarif::Sarif {
    let mut driver = ToolComponent::builder().name("preflight").build();
    driver.information_uri = Some(super::sarif::INFORMATION_URI.into());
    // No rule ran, but code scanning wants the list (GH1018).
    driver.rules = Some(Vec::new());
    driver.version = Some(record.tool_version.into());
    driver.semantic_version = Some(record.tool_version.into());
    let mut inv = Invocation::builder().execution_successful(false).build();
    inv.exit_code = Some(i64::from(record.exit_code));
    inv.exit_code_description = Some(record.exit_reason.clone());
    inv.tool_execution_notifications = Some(
        record
            .diagnostics
            .iter()
            .map(|d| {
                let mut n = Notification::builder()
                    .message(Message::builder().text(d.line()).build())
                    .build();
                n.level = Some(json!(d.severity));
                n
            })
            .collect(),
    );
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .build();
    run.invocations = Some(vec![inv]);
    run.results = Some(Vec::new());
    let mut log = sarif::Sarif::builder()
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    log.schema = Some(super::sarif::SCHEMA_URI.into());
    log
}

fn junit(record: &ErrorRecord) -> quick_junit::Report {
    use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
    let mut j = quick_junit::Report::new(format!(
        "preflight {} {}",
        record.request.command,
        record.request.hosts.join(",")
    ));
    let mut suite = TestSuite::new("preflight");
    suite.add_property(Property::new("verdict", record.verdict));
    suite.add_property(Property::new("exit_code", record.exit_code.to_string()));
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(record.headline());
    status.set_type("preflight::error");
    status.set_description(
        record
            .diagnostics
            .iter()
            .map(DiagnosticRecord::line)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let mut case = TestCase::new("verdict", status);
    case.set_classname("preflight");
    case.set_time(std::time::Duration::ZERO);
    suite.add_test_case(case);
    j.add_test_suite(suite);
    j
}

fn html(record: &ErrorRecord) -> String {
    use super::html::escape;
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    s.push_str(&format!(
        "<title>preflight {}: ERROR</title>\n</head>\n<body>\n<h1>preflight {}: ERROR</h1>\n<p><strong>{}</strong></p>\n<ul>\n",
        escape(&record.request.command),
        escape(&record.request.command),
        escape(&record.headline())
    ));
    for d in &record.diagnostics {
        s.push_str(&format!("<li><code>{}</code></li>\n", escape(&d.line())));
    }
    s.push_str("</ul>\n</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, SourceDiag, SourceFile};

    fn record() -> ErrorRecord {
        let file = SourceFile::new("inv.json", "{\n  \"vms\": 3\n}\n");
        let diags = Diagnostics(vec![
            SourceDiag::at(
                Code::InventoryField,
                "vms is not a list",
                &file,
                11..12,
                "here",
            )
            .with_help("write a list"),
            SourceDiag::plain(Code::UsageNow, "--now x\u{1b}[2J is not a timestamp"),
        ]);
        ErrorRecord::new("audit", vec!["HV01".into()], &diags)
    }

    fn written(format: ErrorFormat) -> String {
        let mut out = Vec::new();
        write_error(format, &record(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_says_error_with_the_diagnostics() {
        let v: serde_json::Value = serde_json::from_str(&written(ErrorFormat::Json)).unwrap();
        assert_eq!(v["schema"], REPORT_SCHEMA);
        assert_eq!(v["verdict"], "error");
        assert_eq!(v["exit_code"], 2);
        assert_eq!(v["request"]["hosts"][0], "HV01");
        assert_eq!(v["diagnostics"][0]["code"], "inventory::field");
        assert_eq!(v["diagnostics"][0]["line"], 2);
        assert_eq!(v["diagnostics"][0]["column"], 10);
        assert_eq!(v["diagnostics"][1]["file"], serde_json::Value::Null);
        assert!(v.get("findings").is_none());
    }

    #[test]
    fn sarif_is_a_failed_invocation() {
        let v: serde_json::Value = serde_json::from_str(&written(ErrorFormat::Sarif)).unwrap();
        let inv = &v["runs"][0]["invocations"][0];
        assert_eq!(inv["executionSuccessful"], false);
        assert_eq!(inv["exitCode"], 2);
        let notes = inv["toolExecutionNotifications"].as_array().unwrap();
        assert_eq!(notes.len(), 2);
        assert!(
            notes[0]["message"]["text"]
                .as_str()
                .unwrap()
                .contains("inv.json:2:10")
        );
        assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn junit_has_an_error_case() {
        let xml = written(ErrorFormat::Junit);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let error = doc
            .descendants()
            .find(|n| n.has_tag_name("error"))
            .expect("an <error>");
        assert!(error.attribute("message").unwrap().contains("exit 2"));
        assert!(error.text().unwrap().contains("inventory::field"));
        assert!(!doc.descendants().any(|n| n.has_tag_name("failure")));
    }

    #[test]
    fn text_formats_state_it_plainly_without_control_characters() {
        for format in [ErrorFormat::Table, ErrorFormat::Markdown, ErrorFormat::Html] {
            let text = written(format);
            assert!(text.contains("ERROR"), "{text}");
            assert!(text.contains("inv.json:2:10"), "{text}");
            assert!(!text.contains('\u{1b}'), "{text:?}");
        }
    }
}
