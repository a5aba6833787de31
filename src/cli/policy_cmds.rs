//! `preflight validate`, `rules` and `explain`: commands about the policy alone.

use super::inputs::load_policy;
use super::output::emit;
use super::{Cli, ExplainArgs, ListFormat, PolicyArgs, RulesArgs};
use crate::diag::{
    Code, Diagnostics, SourceDiag, did_you_mean, escape_controls, escape_controls_inline,
};
use crate::engine::{WAIVER_EXPIRED, WAIVER_UNUSED};
use crate::policy::{PolicySet, Rule};
use serde::Serialize;

pub fn validate(args: &PolicyArgs) -> Result<i32, Diagnostics> {
    let set = load_policy(args)?;
    let files = set
        .files
        .iter()
        .map(|f| f.source.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "ok: {} rule(s) and {} waiver(s) in {files}",
        set.rules.len(),
        set.waivers.len()
    );
    Ok(0)
}

#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    kind: &'static str,
    severity: &'static str,
    phase: &'static str,
    modes: Vec<&'static str>,
    action: &'static str,
    title: &'a str,
    source: String,
}

fn row<'a>(set: &PolicySet, r: &'a Rule) -> RuleRow<'a> {
    RuleRow {
        id: &r.id,
        kind: r.kind.name(),
        severity: r.severity.as_str(),
        phase: r.phase.as_str(),
        modes: r.modes.iter().map(|m| m.as_str()).collect(),
        action: r.action.as_str(),
        title: &r.title,
        source: location(set, r),
    }
}

fn location(set: &PolicySet, r: &Rule) -> String {
    let f = &set.files[r.origin.file].source;
    let (line, col) = f.line_col(r.origin.span.start);
    format!("{}:{line}:{col}", f.name)
}

pub fn rules(args: &RulesArgs, _cli: &Cli) -> Result<i32, Diagnostics> {
    let set = load_policy(&args.policy)?;
    let rows: Vec<RuleRow> = set.rules.iter().map(|r| row(&set, r)).collect();
    emit(None, |w| match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut *w, &rows).map_err(std::io::Error::other)?;
            writeln!(w)
        }
        ListFormat::Table => {
            let mut t = comfy_table::Table::new();
            t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
                .force_no_tty();
            t.set_header([
                "id", "kind", "severity", "phase", "modes", "title", "source",
            ]);
            // Ids, titles and file names are the user's text: shown, never sent to the terminal.
            for r in &rows {
                t.add_row(vec![
                    escape_controls_inline(r.id).into_owned(),
                    r.kind.into(),
                    r.severity.into(),
                    r.phase.into(),
                    r.modes.join(", "),
                    escape_controls_inline(r.title).into_owned(),
                    escape_controls_inline(&r.source).into_owned(),
                ]);
            }
            writeln!(w, "{t}")
        }
    })?;
    Ok(0)
}

pub fn explain(args: &ExplainArgs) -> Result<i32, Diagnostics> {
    if let Some(text) = report_rule(&args.rule_id) {
        emit(None, |w| w.write_all(text.as_bytes()))?;
        return Ok(0);
    }
    let set = load_policy(&args.policy)?;
    let Some(rule) = set.rules.iter().find(|r| r.id == args.rule_id) else {
        let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        ids.extend(REPORT_RULES);
        let d = SourceDiag::plain(
            Code::RuleNotFound,
            format!("no loaded policy has a rule `{}`", args.rule_id),
        );
        let d = match did_you_mean(&args.rule_id, ids.iter().copied()) {
            Some(best) => d.with_help(format!("did you mean `{best}`? rules: {}", ids.join(", "))),
            None => d.with_help(format!("rules: {}", ids.join(", "))),
        };
        return Err(d.into());
    };
    let text = explanation(&set, rule);
    emit(None, |w| w.write_all(escape_controls(&text).as_bytes()))?;
    Ok(0)
}

/// The rule ids the reports give findings about the policy itself (no policy defines them).
const REPORT_RULES: [&str; 2] = [WAIVER_EXPIRED, WAIVER_UNUSED];

/// The explanation of a rule id the reports use for findings about the policy itself.
fn report_rule(id: &str) -> Option<String> {
    let (title, checks, fix) = match id {
        WAIVER_EXPIRED => (
            "A waiver has expired",
            "each [[waiver]] of the loaded policies whose `expires` date is before the day of the run (--now, or the clock); an expired waiver no longer waives anything, so the findings it covered count again",
            "renew the waiver with a new `expires` date and a reason that still holds, or fix what it waived and delete it",
        ),
        WAIVER_UNUSED => (
            "A waiver matched no finding",
            "each [[waiver]] of the loaded policies that is in force but waived no finding of this run: its rule, or its vm/host pattern, matches nothing, so it may silently waive a future finding",
            "delete the waiver, or correct its `rule` and its `vm`/`host` pattern",
        ),
        _ => return None,
    };
    Some(format!(
        "{id} — {title}\n\nkind: report   severity: warning   phase: audit and restore\ndefined by preflight itself, not by a policy file\n\nWhat it checks:\n  {checks}\n\nHow to fix it:\n  {fix}\n\nFindings of this rule may not be waived; --no-waivers skips every waiver, and with it this check.\n"
    ))
}

/// The plain-text explanation of a rule: what it checks, why it matters, how to fix it.
pub fn explanation(set: &PolicySet, r: &Rule) -> String {
    let mut s = format!("{} — {}\n\n", r.id, r.title);
    s.push_str(&format!(
        "kind: {}   severity: {}   phase: {}   modes: {}   action: {}\ndefined at {}\n\n",
        r.kind.name(),
        r.severity,
        r.phase,
        r.modes
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        r.action,
        location(set, r)
    ));
    s.push_str("What it checks:\n  ");
    s.push_str(&r.kind.explain());
    s.push_str("\n\n");
    if let Some(d) = &r.description {
        s.push_str("Why it matters:\n  ");
        s.push_str(d.trim());
        s.push_str("\n\n");
    }
    if let Some(fix) = &r.remediation {
        s.push_str("How to fix it:\n  ");
        s.push_str(fix.trim());
        s.push('\n');
    }
    s.push_str(if r.waivable {
        "\nFindings of this rule may be waived with a [[waiver]] (reason and expiry required).\n"
    } else {
        "\nFindings of this rule may not be waived.\n"
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{SourceFile, indexes_built};

    fn policy(rules: usize, key: &str) -> SourceFile {
        let text: String = (0..rules)
            .map(|i| {
                format!(
                    "[[rule]]\nid = \"r{i}\"\ntitle = \"Rule {i}\"\n{key} = \"warning\"\nkind = \"vm\"\nwhen = {{ state = [\"running\"], ha = false }}\nmessage = \"{{vm}} x\"\n\n"
                )
            })
            .collect();
        SourceFile::new("many.toml", text)
    }

    /// Where each of 5,000 rules is defined is looked up in one index of the file, built once:
    /// a lookup that scanned from the start of the file made `rules` quadratic.
    #[test]
    fn listing_many_rules_indexes_the_file_once() {
        let set = crate::policy::load(vec![policy(5_000, "severity")]).unwrap();
        let before = indexes_built();
        let rows: Vec<RuleRow> = set.rules.iter().map(|r| row(&set, r)).collect();
        assert_eq!(rows.len(), 5_000);
        assert_eq!(rows[4_999].source, "many.toml:39993:1");
        assert_eq!(indexes_built() - before, 1);
    }

    /// The same for thousands of errors in one policy file, located and rendered.
    #[test]
    fn many_errors_index_the_file_once() {
        let before = indexes_built();
        let err = crate::policy::load(vec![policy(3_000, "severty")]).unwrap_err();
        assert!(err.0.len() >= 3_000);
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
        let mut out = String::new();
        for d in err.0.iter().step_by(50) {
            handler.render_report(&mut out, d).unwrap();
            assert!(d.line_col().is_some());
        }
        assert!(out.contains("many.toml:"));
        assert_eq!(indexes_built() - before, 1);
    }
}
