//! Message templates: `{placeholder}` text checked when the policy loads; an unknown
//! placeholder is a `policy::placeholder` error.

use std::collections::BTreeMap;

/// The placeholders a message may use. `{detail}` is the kind-specific explanation (e.g. free
/// memory after the drain) and `{title}` the rule's title.
pub const PLACEHOLDERS: &[&str] = &[
    "vm",
    "host",
    "state",
    "ha",
    "cluster",
    "memory_mb",
    "vcpus",
    "rule",
    "fate",
    "title",
    "detail",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
}

/// A parsed message template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A placeholder the template language does not know, with its byte range in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub range: std::ops::Range<usize>,
    pub name: Option<String>,
}

impl Template {
    /// Parses `text`; `{{` and `}}` stand for literal braces.
    pub fn parse(text: &str) -> Result<Template, Vec<TemplateError>> {
        let mut parts = Vec::new();
        let mut errors = Vec::new();
        let mut literal = String::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < text.len() {
            let c = bytes[i];
            if c == b'{' && bytes.get(i + 1) == Some(&b'{') {
                literal.push('{');
                i += 2;
            } else if c == b'}' && bytes.get(i + 1) == Some(&b'}') {
                literal.push('}');
                i += 2;
            } else if c == b'{' {
                match text[i + 1..].find('}') {
                    Some(rel) => {
                        let name = &text[i + 1..i + 1 + rel];
                        if PLACEHOLDERS.contains(&name) {
                            if !literal.is_empty() {
                                parts.push(Part::Text(std::mem::take(&mut literal)));
                            }
                            parts.push(Part::Field(name.to_string()));
                        } else {
                            errors.push(TemplateError {
                                message: format!("unknown placeholder `{{{name}}}`"),
                                range: i..i + rel + 2,
                                name: Some(name.to_string()),
                            });
                        }
                        i += rel + 2;
                    }
                    None => {
                        errors.push(TemplateError {
                            message: "`{` opens a placeholder that is never closed (write `{{` for a brace)".into(),
                            range: i..i + 1,
                            name: None,
                        });
                        i += 1;
                    }
                }
            } else if c == b'}' {
                errors.push(TemplateError {
                    message: "`}` closes no placeholder (write `}}` for a brace)".into(),
                    range: i..i + 1,
                    name: None,
                });
                i += 1;
            } else {
                let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                literal.push(ch);
                i += ch.len_utf8();
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        if errors.is_empty() {
            Ok(Template { parts })
        } else {
            Err(errors)
        }
    }

    /// Fills the placeholders; one with no value renders as `-`.
    pub fn render(&self, values: &BTreeMap<&str, String>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => match values.get(f.as_str()) {
                    Some(v) if !v.is_empty() => out.push_str(v),
                    _ => out.push('-'),
                },
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fields_and_escaped_braces() {
        let t = Template::parse("{vm} on {host} {{x}}").unwrap();
        let mut v = BTreeMap::new();
        v.insert("vm", "SQL01".to_string());
        assert_eq!(t.render(&v), "SQL01 on - {x}");
    }

    #[test]
    fn unknown_placeholder_points_at_it() {
        let errs = Template::parse("{vm} is {colour}").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].range, 8..16);
        assert_eq!(errs[0].name.as_deref(), Some("colour"));
    }

    #[test]
    fn unbalanced_braces_are_errors() {
        assert_eq!(Template::parse("a { b").unwrap_err().len(), 1);
        assert_eq!(Template::parse("a } b").unwrap_err().len(), 1);
    }
}
