//! Diagnostics: the project's own error codes and a located diagnostic that points into a file.
//!
//! Every input error (policy, inventory, plan, flag) becomes a [`SourceDiag`]: a code from
//! [`Code`], a message, the file it came from, labels under the offending text and an optional
//! help line (the did-you-mean). [`Diagnostics`] carries all problems of a run at once.
//!
//! Rendering never echoes a whole long line nor sends a control character from the inputs to
//! the terminal: see the `excerpt` and `terminal` modules, and [`escape_controls`].

mod excerpt;
mod index;
mod terminal;

pub use terminal::{escape_controls, escape_controls_inline};

use excerpt::Excerpt;
use index::LineIndex;
use miette::{Diagnostic, LabeledSpan, SourceSpan};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

macro_rules! codes {
    ($($variant:ident => $code:literal, $desc:literal;)*) => {
        /// The diagnostic codes preflight itself emits. Rule ids in policies are user data
        /// and never appear here.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable code, e.g. `policy::unknown-key`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// One line saying what the code means.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $desc,)* }
            }
        }
    };
}

codes! {
    PolicySyntax => "policy::syntax", "the file is not valid TOML";
    PolicyUnknownKey => "policy::unknown-key", "a key the policy language does not have";
    PolicyMissingKey => "policy::missing-key", "a required key is absent";
    PolicyType => "policy::type", "a value has the wrong type";
    PolicyValue => "policy::value", "a value is not one of the allowed values or out of range";
    PolicyRegex => "policy::regex", "a regular expression does not compile";
    PolicyDuplicateRule => "policy::duplicate-rule", "two rules share an id";
    PolicyPlaceholder => "policy::placeholder", "a message template names an unknown placeholder";
    PolicyWaiverRule => "policy::waiver-rule", "a waiver names a rule that does not exist or may not be waived";
    PolicyKindKey => "policy::kind-key", "a key that does not belong to the rule's kind";
    PolicyRead => "policy::read", "a policy file or folder could not be read";
    CaseRead => "case::read", "a policy test case file, or the policy it tests, could not be read";
    CaseDuplicate => "case::duplicate", "two test cases of a file share a name";
    RuleNotFound => "rule::not-found", "a rule id given on the command line is not in the loaded policy";
    InventorySyntax => "inventory::syntax", "the inventory is not valid JSON, TOML or CSV";
    InventoryEncoding => "inventory::encoding", "the inventory is in an encoding preflight does not read";
    InventoryFormat => "inventory::format", "the inventory's format could not be recognised";
    InventoryField => "inventory::field", "a field is missing or has an unusable value";
    InventoryDuplicate => "inventory::duplicate", "two VMs share an id";
    InventoryTruncated => "inventory::truncated", "a property arrived as a .NET type name (ConvertTo-Json depth cut-off)";
    InventoryUnknownState => "inventory::unknown-state", "a state value preflight does not know; read as unknown";
    InventoryRead => "inventory::read", "an inventory file could not be read";
    HostNotFound => "host::not-found", "a --host matches no host of the inventory";
    HostAmbiguous => "host::ambiguous", "a --host matches more than one host";
    UsageNow => "usage::now", "--now is not an RFC 3339 timestamp";
    UsageCommand => "usage::command", "a command name given as a value (e.g. to `man`) does not exist";
    PlanInvalid => "plan::invalid", "a plan file is not a valid preflight plan";
    PlanRead => "plan::read", "a plan file could not be read";
    PlanSchema => "plan::schema", "a plan file has no schema, or one this version does not read";
    PlanStale => "plan::stale", "the plan no longer fits the current inventory";
    RenderTarget => "render::target", "the plan's platform is not one the render target drives";
    RenderUnwritable => "render::unwritable", "a value cannot be written into a script safely";
    OutputWrite => "output::write", "an output file could not be written";
    InventoryHostConflict => "inventory::host-conflict", "a host is listed twice with facts that contradict each other";
    UsageSameFile => "usage::same-file", "an output file is one of the run's inputs or another of its outputs";
    UsageArguments => "usage::arguments", "the command line could not be parsed";
    PolicyEmpty => "policy::empty", "a policy file, or the whole policy, holds no rule to judge with";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem located in a source file, rendered by miette with the file, line and column.
#[derive(Debug, Clone)]
pub struct SourceDiag {
    pub code: Code,
    pub message: String,
    pub src: Option<SourceFile>,
    pub labels: Vec<LabeledSpan>,
    pub help: Option<String>,
    pub warning: bool,
    /// Other places that belong to this problem (e.g. a duplicate's first definition).
    pub related: Vec<SourceDiag>,
    /// A warning that stands only if no file of the run names this host: one file's VM may name
    /// a host that another `--inventory` file lists. Dropped after the merge when it is there.
    pub unless_host: Option<String>,
    /// What the renderer is shown of `src`, made from `labels` the first time it is rendered.
    shown: OnceLock<Excerpt>,
}

impl SourceDiag {
    /// A diagnostic with no file to point into.
    pub fn plain(code: Code, message: impl Into<String>) -> Self {
        SourceDiag {
            code,
            message: message.into(),
            src: None,
            labels: Vec::new(),
            help: None,
            warning: false,
            related: Vec::new(),
            unless_host: None,
            shown: OnceLock::new(),
        }
    }

    /// A diagnostic pointing at `span` of `file`.
    pub fn at(
        code: Code,
        message: impl Into<String>,
        file: &SourceFile,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        let span = file.clamp(span);
        SourceDiag {
            code,
            message: message.into(),
            src: Some(file.clone()),
            labels: vec![LabeledSpan::new_with_span(
                Some(label.into()),
                SourceSpan::from(span),
            )],
            help: None,
            warning: false,
            related: Vec::new(),
            unless_host: None,
            shown: OnceLock::new(),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.labels.push(LabeledSpan::new_with_span(
            Some(label.into()),
            SourceSpan::from(span),
        ));
        self.shown = OnceLock::new();
        self
    }

    /// Where the first label points, as `(line, column)` both 1-based, if it points anywhere.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let src = self.src.as_ref()?;
        let offset = self.labels.first()?.offset();
        Some(src.line_col(offset))
    }

    /// The excerpt of the file the renderer is shown, if the diagnostic points into one.
    fn shown(&self) -> Option<&Excerpt> {
        let src = self.src.as_ref()?;
        Some(self.shown.get_or_init(|| Excerpt::new(src, &self.labels)))
    }

    fn first_offset(&self) -> usize {
        self.labels.first().map_or(0, |l| l.offset())
    }
}

impl fmt::Display for SourceDiag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_controls(&self.message))
    }
}

impl std::error::Error for SourceDiag {}

impl Diagnostic for SourceDiag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.warning {
            miette::Severity::Warning
        } else {
            miette::Severity::Error
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(escape_controls(h)) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.shown().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        match self.shown() {
            Some(shown) => Some(Box::new(shown.labels.iter().cloned())),
            None => Some(Box::new(self.labels.iter().cloned())),
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
        }
    }
}

/// Every problem found in one run, reported together (exit 2).
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<SourceDiag>);

impl Diagnostics {
    pub fn push(&mut self, d: SourceDiag) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Orders diagnostics by file and position so the output does not depend on map order.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            let an = a.src.as_ref().map(|s| s.name.as_str());
            let bn = b.src.as_ref().map(|s| s.name.as_str());
            an.cmp(&bn)
                .then(a.first_offset().cmp(&b.first_offset()))
                .then(a.message.cmp(&b.message))
        });
    }

    /// Turns the collection into a result: `Ok(value)` when nothing was found.
    pub fn into_result<T>(mut self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            self.sort();
            Err(self)
        }
    }
}

impl From<SourceDiag> for Diagnostics {
    fn from(d: SourceDiag) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            1 => write!(f, "{}", self.0[0]),
            n => write!(f, "{n} problems found"),
        }
    }
}

impl std::error::Error for Diagnostics {}

impl Diagnostic for Diagnostics {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.0.iter().map(|d| d as &dyn Diagnostic)))
    }
}

/// A file's name (as the user gave it) and text, shared by every diagnostic pointing into it,
/// with the start of each line worked out once, the first time a position is asked for.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<String>,
    index: Arc<OnceLock<Option<LineIndex>>>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            name: name.into(),
            text: Arc::new(text.into()),
            index: Arc::new(OnceLock::new()),
        }
    }

    fn index(&self) -> Option<&LineIndex> {
        self.index
            .get_or_init(|| LineIndex::new(&self.text))
            .as_ref()
    }

    /// `(line, column)`, both 0-based, of a byte offset; the column counts characters.
    fn position(&self, offset: usize) -> (usize, usize) {
        match self.index() {
            Some(index) => index.position(&self.text, offset),
            None => {
                let (line, column) = line_col(&self.text, offset);
                (line - 1, column - 1)
            }
        }
    }

    /// The 0-based line holding a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        match self.index() {
            Some(index) => index.line_of(offset),
            None => self.position(offset).0,
        }
    }

    /// The bytes of a 0-based line, without its line break.
    fn line_range(&self, line: usize) -> Range<usize> {
        match self.index() {
            Some(index) => index.line_range(&self.text, line),
            None => {
                let text = self.text.as_str();
                let start = text
                    .split_inclusive('\n')
                    .take(line)
                    .map(str::len)
                    .sum::<usize>()
                    .min(text.len());
                let rest = &text[start..];
                let mut end = start + rest.find('\n').unwrap_or(rest.len());
                if end > start && text.as_bytes()[end - 1] == b'\r' {
                    end -= 1;
                }
                start..end
            }
        }
    }

    fn clamp(&self, span: Range<usize>) -> Range<usize> {
        let len = self.text.len();
        let start = span.start.min(len);
        start..span.end.clamp(start, len)
    }

    /// `(line, column)`, 1-based, of a byte offset; the column counts characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let (line, column) = self.position(offset);
        (line + 1, column + 1)
    }
}

/// How many line indexes this thread has built, for tests that pin "once per file".
#[cfg(test)]
pub fn indexes_built() -> usize {
    index::BUILT.with(|b| b.get())
}

/// `(line, column)`, 1-based, of a byte offset into `text`; the column counts characters.
/// This counts from the start of `text` on every call: for more than one position in a file,
/// use [`SourceFile::line_col`], which indexes the file once.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The byte offset of a 1-based `(line, column)` pair, as serde_json and csv report them.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return (offset + col_bytes).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}

/// The closest candidate to `name` within a small edit distance, for a did-you-mean.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_pinned() {
        let listed: Vec<String> = Code::ALL
            .iter()
            .map(|c| format!("{} — {}", c.as_str(), c.description()))
            .collect();
        insta::assert_snapshot!(listed.join("\n"));
    }

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 7), (2, 4));
        assert_eq!(line_col(text, 8), (3, 1));
        assert_eq!(offset_of(text, 2, 3), 5);
        assert_eq!(offset_of(text, 3, 1), 8);
    }

    fn render(d: &SourceDiag) -> String {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_width(100);
        let mut out = String::new();
        handler.render_report(&mut out, d).unwrap();
        out
    }

    #[test]
    fn a_fault_far_along_one_long_line_shows_a_short_excerpt() {
        // A one-line export: a fault at byte 200,000, past miette's 65,535-column limit.
        let mut text = "[".to_string();
        while text.len() < 200_000 {
            text.push_str(r#"{"name":"vm","state":"running"},"#);
        }
        let at = text.len();
        text.push_str(r#"{"name":"BAD","state":"melting"}"#);
        while text.len() < 300_000 {
            text.push_str(r#",{"name":"vm","state":"running"}"#);
        }
        text.push(']');
        let file = SourceFile::new("pvesh.json", text);
        let d = SourceDiag::at(
            Code::InventoryUnknownState,
            "unknown state",
            &file,
            at + 20..at + 29,
            "this state",
        )
        .with_label(at + 9..at + 14, "this guest")
        .with_label(250_000..250_004, "far away");
        let out = render(&d);
        // The header points at the first label in the file.
        assert!(out.contains(&format!("pvesh.json:1:{}", at + 10)), "{out}");
        assert!(out.contains("pvesh.json:1:250001"), "{out}");
        assert!(out.contains(r#"{"name":"BAD","state":"melting"}"#), "{out}");
        assert!(
            out.contains("this state") && out.contains("far away"),
            "{out}"
        );
        assert!(out.len() < 3000, "{} bytes: {out}", out.len());
        assert_eq!(d.line_col(), Some((1, at + 21)));
    }

    #[test]
    fn a_label_over_a_whole_long_line_is_cut() {
        let text = format!("short\n{}\nend\n", "é".repeat(100_000));
        let file = SourceFile::new("f", text);
        let d = SourceDiag::at(
            Code::InventoryField,
            "bad",
            &file,
            0..file.text.len(),
            "all of it",
        );
        let out = render(&d);
        assert!(out.contains("f:1:1"), "{out}");
        assert!(out.len() < 3000, "{} bytes", out.len());
        let d = SourceDiag::at(
            Code::InventoryField,
            "bad",
            &file,
            6 + 2 * 80_000..6 + 2 * 80_001,
            "here",
        );
        let out = render(&d);
        assert!(out.contains("f:2:80001"), "{out}");
        assert!(out.len() < 3000, "{} bytes", out.len());
    }

    #[test]
    fn short_files_show_the_lines_around_the_fault() {
        let file = SourceFile::new(
            "p.toml",
            "[[rule]]\nid = \"x\"\nseverty = 1\nkind = \"y\"\n",
        );
        let at = file.text.find("severty").unwrap();
        let d = SourceDiag::at(
            Code::PolicyUnknownKey,
            "unknown key",
            &file,
            at..at + 7,
            "this key",
        );
        let out = render(&d);
        assert!(out.contains("p.toml:3:1"), "{out}");
        for line in ["id = \"x\"", "severty = 1", "kind = \"y\""] {
            assert!(out.contains(line), "{out}");
        }
        assert!(!out.contains("[[rule]]"), "{out}");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let file = SourceFile::new(
            "inv\u{1b}]0;x\u{7}.json",
            "{\"name\": \"vm\u{1b}[2J\u{9b}1m\r\"}\r\n",
        );
        let d = SourceDiag::at(
            Code::InventoryField,
            "VM vm\u{1b}[2J is odd",
            &file,
            10..17,
            "name \u{1b}[31m",
        )
        .with_help("rename vm\u{1b}[2J");
        let out = render(&d);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{9b}') && !out.contains('\u{7}'),
            "{out:?}"
        );
        assert!(out.contains("VM vm\\u{1b}[2J is odd"), "{out}");
        assert!(out.contains("vm␛[2J"), "{out}");
        assert!(out.contains("rename vm\\u{1b}[2J"), "{out}");
        assert!(out.contains(":1:11"), "{out}");
    }

    #[test]
    fn a_file_is_indexed_once_for_all_its_diagnostics() {
        let text: String = (0..20_000).map(|i| format!("key{i} = {i}\n")).collect();
        let file = SourceFile::new("big.toml", text);
        let before = index::BUILT.with(|b| b.get());
        let diags: Vec<SourceDiag> = (0..20_000)
            .step_by(7)
            .map(|i| {
                let at = file.text.find(&format!("key{i} ")).unwrap();
                SourceDiag::at(Code::PolicyUnknownKey, "unknown", &file, at..at + 3, "here")
            })
            .collect();
        for d in &diags {
            assert!(d.line_col().is_some());
            assert!(render(d).contains("big.toml:"));
        }
        assert_eq!(index::BUILT.with(|b| b.get()) - before, 1);
    }

    proptest::proptest! {
        /// Any text, any labels (past the end, inside a character, over line breaks): the
        /// rendering never panics and points at a line and column of the file.
        #[test]
        fn rendering_never_panics(
            text in "[a-zé✓\n\r\t\u{1b}\u{7f}]{0,3000}",
            spans in proptest::collection::vec((0usize..3200, 0usize..3200), 1..4),
        ) {
            // Half the cases on one long line, cut to windows.
            let text = if spans[0].1 % 2 == 0 { text.replace('\n', " ").repeat(3) } else { text };
            let file = SourceFile::new("any", text);
            let mut d = SourceDiag::at(Code::InventoryField, "m", &file, spans[0].0..spans[0].0 + spans[0].1, "a");
            for (start, len) in &spans[1..] {
                d = d.with_label(*start..start + len, "b");
            }
            let out = render(&d);
            proptest::prop_assert!(out.contains("any:"), "{}", out);
            proptest::prop_assert!(!out.contains('\u{1b}'), "an ESC was sent");
        }
    }

    #[test]
    fn did_you_mean_finds_close_names_only() {
        assert_eq!(
            did_you_mean("severty", ["severity", "title"]),
            Some("severity")
        );
        assert_eq!(did_you_mean("colour", ["severity", "title"]), None);
        assert_eq!(did_you_mean("HV1", ["HV01", "HV02"]), Some("HV01"));
    }
}
