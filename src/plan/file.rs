//! Plan files: writing one (pretty JSON, `schema` first, trailing newline) and reading one back
//! as untrusted input, every problem located at its line and column.

use super::{PLAN_SCHEMA, Plan};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile, offset_of};
use crate::model::Platform;
use crate::policy::Mode;
use serde::Deserialize;
use std::io::{self, Write};

/// A plan read from a file, with its request's words checked.
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    pub plan: Plan,
    pub mode: Mode,
    pub platform: Platform,
}

/// Writes `plan` as the contract's JSON document.
pub fn write_plan(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, plan).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Only the schema, read first so that a plan of another version is named as such rather than
/// failing on the first field this version does not know.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    schema: Option<String>,
}

/// Reads a plan file. `name` is the path as the user gave it.
pub fn read_plan(name: &str, bytes: &[u8]) -> Result<LoadedPlan, Diagnostics> {
    read_plan_located(name, bytes).map(|(plan, _)| plan)
}

/// [`read_plan`], also returning the file's text for diagnostics that point into it later (a
/// step that cannot be rendered, or that no longer fits the inventory).
pub fn read_plan_located(
    name: &str,
    bytes: &[u8],
) -> Result<(LoadedPlan, SourceFile), Diagnostics> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        SourceDiag::plain(
            Code::PlanInvalid,
            format!("{name}: a plan is UTF-8 JSON, and this file is not UTF-8: {e}"),
        )
    })?;
    let file = SourceFile::new(name, text);
    let probe: Probe = deserialize(&file)?;
    let help = "write plans with `preflight audit --plan` or `preflight restore --plan-out`";
    match probe.schema.as_deref() {
        Some(PLAN_SCHEMA) => {}
        Some(other) => {
            return Err(SourceDiag::at(
                Code::PlanSchema,
                format!("{name}: unknown plan schema `{other}`"),
                &file,
                value_span(text, "schema"),
                format!("this preflight reads {PLAN_SCHEMA}"),
            )
            .with_help("make the plan again with this version of preflight")
            .into());
        }
        None => {
            return Err(SourceDiag::at(
                Code::PlanSchema,
                format!("{name}: not a preflight plan (no `schema`)"),
                &file,
                0..1,
                format!("expected \"schema\": \"{PLAN_SCHEMA}\""),
            )
            .with_help(help)
            .into());
        }
    }
    let plan: Plan = deserialize(&file)?;
    let mode = Mode::parse(&plan.request.mode);
    let platform = Platform::parse(&plan.request.platform);
    let mut diags = Diagnostics::default();
    if mode.is_none() {
        diags.push(word_error(&file, "mode", &plan.request.mode, Mode::WORDS));
    }
    if platform.is_none() {
        let words: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
        diags.push(word_error(
            &file,
            "platform",
            &plan.request.platform,
            &words,
        ));
    }
    match (mode, platform) {
        (Some(mode), Some(platform)) if diags.is_empty() => Ok((
            LoadedPlan {
                plan,
                mode,
                platform,
            },
            file,
        )),
        _ => Err(diags),
    }
}

fn deserialize<T: for<'de> Deserialize<'de>>(file: &SourceFile) -> Result<T, Diagnostics> {
    let text = file.text.as_str();
    let mut de = serde_json::Deserializer::from_str(text);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let msg = inner.to_string();
        let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
        // A step whose fields do not make a step (the reader's own words, "step `id`: ...") is
        // refused once the whole step is read, where serde_json stands after it: point at the
        // step itself instead.
        let whole_step = msg.starts_with("step `");
        let offset = whole_step
            .then(|| step_offset(text, &path))
            .flatten()
            .unwrap_or_else(|| offset_of(text, inner.line(), inner.column().max(1)));
        let help = if whole_step {
            "make the plan again with `preflight audit --plan` (docs/plan.md lists the fields each action takes)"
        } else {
            "a plan is the JSON document `preflight audit --plan` writes (docs/plan.md)"
        };
        SourceDiag::at(
            Code::PlanInvalid,
            format!("{}: not a valid plan: {msg}", file.name),
            file,
            offset..offset + 1,
            if path == "." {
                "here".to_string()
            } else {
                format!("at {path}")
            },
        )
        .with_help(help)
    })?;
    // Trailing garbage after the document is as bad as a broken one.
    de.end().map_err(|e| {
        let offset = offset_of(text, e.line(), e.column().max(1));
        SourceDiag::at(
            Code::PlanInvalid,
            format!("{}: text after the end of the plan", file.name),
            file,
            offset..offset + 1,
            "unexpected",
        )
    })?;
    Ok(value)
}

/// Where step `N` of the document starts, when `path` is exactly `steps[N]`.
fn step_offset(text: &str, path: &str) -> Option<usize> {
    #[derive(Deserialize)]
    struct Steps<'a> {
        #[serde(borrow)]
        steps: Vec<&'a serde_json::value::RawValue>,
    }
    let n: usize = path
        .strip_prefix("steps[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let steps: Steps<'_> = serde_json::from_str(text).ok()?;
    let raw = steps.steps.get(n)?.get();
    // The raw text borrows from `text`: its address gives its offset.
    let offset = (raw.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    (offset < text.len()).then_some(offset)
}

fn word_error(file: &SourceFile, key: &str, value: &str, words: &[&str]) -> SourceDiag {
    SourceDiag::at(
        Code::PlanInvalid,
        format!(
            "{}: unknown {key} `{value}` in the plan's request",
            file.name
        ),
        file,
        value_span(&file.text, key),
        format!("expected one of {}", words.join(", ")),
    )
}

/// The span of the first `"key": value` value in the text (plans are flat enough for this).
fn value_span(text: &str, key: &str) -> std::ops::Range<usize> {
    let needle = format!("\"{key}\"");
    let Some(k) = text.find(&needle) else {
        return 0..0;
    };
    let after = k + needle.len();
    let rest = &text[after..];
    let start = rest
        .find(|c: char| c != ':' && !c.is_whitespace())
        .map_or(after, |i| after + i);
    let end = text[start..]
        .find([',', '\n', '}'])
        .map_or(text.len(), |i| start + i);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"{
  "schema": "preflight/plan/v1",
  "request": {"command": "audit", "hosts": ["HV01"], "mode": "patch", "platform": "hyperv", "rolling": false, "now": "2026-11-25T17:00:00Z"},
  "inventory": [],
  "baseline": [],
  "loads": [],
  "steps": []
}
"#;

    #[test]
    fn a_minimal_plan_reads_and_writes_back() {
        let p = read_plan("p.json", MIN.as_bytes()).unwrap();
        assert_eq!(p.mode, Mode::Patch);
        assert_eq!(p.platform, Platform::Hyperv);
        let mut out = Vec::new();
        write_plan(&p.plan, &mut out).unwrap();
        let again = read_plan("p.json", &out).unwrap();
        assert_eq!(again.plan, p.plan);
        assert!(out.ends_with(b"}\n"));
    }

    #[test]
    fn errors_point_at_their_line() {
        let bad = MIN.replace("\"steps\": []", "\"steps\": [{\"id\": 5}]");
        let err = read_plan("p.json", bad.as_bytes()).unwrap_err();
        assert_eq!(err.0[0].code, Code::PlanInvalid);
        assert_eq!(err.0[0].line_col().unwrap().0, 7);
        let cut = &MIN[..MIN.len() / 2];
        let err = read_plan("p.json", cut.as_bytes()).unwrap_err();
        assert_eq!(err.0[0].code, Code::PlanInvalid);
    }

    #[test]
    fn a_step_that_is_not_a_step_is_refused_at_the_step() {
        let step = r#"{"id": "post-migrate-DC01", "phase": "post", "action": "migrate", "vm": "DC01", "to": "HV01"}"#;
        let bad = MIN.replace(
            "\"steps\": []",
            &format!("\"steps\": [\n    {step},\n    {step}\n  ]"),
        );
        let err = read_plan("p.json", bad.as_bytes()).unwrap_err();
        assert_eq!(err.0[0].code, Code::PlanInvalid);
        // The first of the two steps, where it starts (line 8, column 5).
        assert_eq!(err.0[0].line_col(), Some((8, 5)));
        assert!(err.0[0].message.contains("a migrate step needs `from`"));
    }

    #[test]
    fn a_bad_storage_size_is_refused_where_it_stands() {
        for (size, want) in [
            ("-120", "`storage_gb` is -120, not a size in GB"),
            ("\"120\"", "invalid type: string"),
        ] {
            let step = format!(
                r#"{{"id": "pre-migrate-V", "phase": "pre", "action": "migrate", "vm": "V",
      "from": "HV01", "to": "HV02", "with_storage": true, "storage_gb": {size}}}"#
            );
            let bad = MIN.replace("\"steps\": []", &format!("\"steps\": [\n    {step}\n  ]"));
            let err = read_plan("p.json", bad.as_bytes()).unwrap_err();
            assert_eq!(err.0[0].code, Code::PlanInvalid);
            assert!(err.0[0].message.contains(want), "{}", err.0[0].message);
            // Line 9 holds the size.
            assert_eq!(err.0[0].line_col().unwrap().0, 9, "{size}");
        }
    }

    #[test]
    fn another_schema_or_bad_words_are_named() {
        let v2 = MIN.replace("plan/v1", "plan/v2");
        let err = read_plan("p.json", v2.as_bytes()).unwrap_err();
        assert_eq!(err.0[0].code, Code::PlanSchema);
        assert_eq!(err.0[0].line_col(), Some((2, 13)));
        let bad = MIN.replace("\"patch\"", "\"pach\"");
        let err = read_plan("p.json", bad.as_bytes()).unwrap_err();
        assert!(err.0[0].message.contains("unknown mode `pach`"));
        assert_eq!(err.0[0].line_col().unwrap().0, 3);
    }
}
