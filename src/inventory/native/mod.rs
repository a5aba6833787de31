//! The native format (`schema`, `collected_at`, `platform`, `hosts`, `vms`; see
//! docs/formats.md#native), in JSON or TOML.
//!
//! Values are checked while serde reads them (non-empty names, sane sizes, known states), so a
//! bad value is reported at its own line and column; duplicate VMs are found afterwards and
//! located by searching the text.

mod facts;
mod stream;
mod values;

use super::{Format, Parsed, locate};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile, offset_of};
use crate::model::{CompactString, Host, HostState, Inventory, Vm, VmState};
use serde::Deserialize;
use serde::de::{self, Deserializer};
use std::collections::BTreeMap;
use values::{Bounded, List, Name, RawPlatform, Word};

/// More memory than any single host or VM has: 64 TiB, in MiB.
pub const MAX_MEMORY_MB: u64 = 64 * 1024 * 1024;
/// More CPUs than any single host or VM has.
pub const MAX_CPUS: u64 = 65_536;

#[derive(Deserialize)]
struct RawInventory {
    #[serde(default)]
    collected_at: Option<RawTime>,
    #[serde(default)]
    platform: Option<RawPlatform>,
    #[serde(default)]
    hosts: Vec<RawHost>,
    /// Converted one by one as they are read, so that the raw list never exists whole.
    #[serde(default, deserialize_with = "model_vms")]
    vms: Vec<Vm>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawTime {
    Text(String),
    Toml(toml::value::Datetime),
}

#[derive(Deserialize)]
struct RawHost {
    name: Name,
    #[serde(default)]
    cluster: Option<CompactString>,
    #[serde(default)]
    state: Option<Word<HostState>>,
    #[serde(default)]
    memory_mb: Option<Bounded<MAX_MEMORY_MB>>,
    #[serde(default)]
    cpus: Option<Bounded<MAX_CPUS>>,
    #[serde(default)]
    networks: Option<List<CompactString>>,
    #[serde(default)]
    cpu: Option<CompactString>,
}

#[derive(Deserialize)]
struct RawVm {
    name: Name,
    #[serde(default)]
    id: Option<CompactString>,
    host: Name,
    state: Word<VmState>,
    #[serde(default)]
    ha: Option<bool>,
    #[serde(default)]
    memory_mb: Option<Bounded<MAX_MEMORY_MB>>,
    #[serde(default)]
    vcpus: Option<Bounded<MAX_CPUS>>,
    #[serde(default)]
    tags: List<CompactString>,
    #[serde(default)]
    template: bool,
    // The migration facts (CONTRACT 7.1), listed here rather than flattened from a struct of
    // their own: serde's flatten buffers every record, which a million VMs would pay for.
    #[serde(default)]
    disks: Option<List<facts::RawFile>>,
    #[serde(default)]
    media: Option<List<facts::RawFile>>,
    #[serde(default)]
    passthrough: Option<List<CompactString>>,
    #[serde(default)]
    networks: Option<List<CompactString>>,
    #[serde(default)]
    checkpoints: Option<Bounded<{ facts::MAX_CHECKPOINTS }>>,
    #[serde(default)]
    cpu_compat: Option<bool>,
    #[serde(default)]
    anti_affinity: List<Name>,
    #[serde(default)]
    affinity: List<Name>,
    #[serde(default)]
    allowed_hosts: List<Name>,
    #[serde(default)]
    attributes: facts::RawAttributes,
    /// The platform's own word for a state the collector could not map (`status=suspended`),
    /// kept as evidence like the export readers keep it.
    #[serde(default)]
    raw_state: Option<CompactString>,
}

impl RawVm {
    fn into_model(self) -> Vm {
        let mut evidence = BTreeMap::new();
        if let Some(raw) = self.raw_state.filter(|r| !r.is_empty()) {
            evidence.insert("raw_state".to_string(), raw.to_string());
        }
        Vm {
            name: self.name.0,
            id: self.id.filter(|i| !i.is_empty()),
            host: self.host.0,
            state: self.state.0,
            ha: self.ha,
            memory_mb: self.memory_mb.map(|m| m.0),
            vcpus: self.vcpus.map(|c| c.0 as u32),
            tags: self.tags.0,
            template: self.template,
            evidence,
            facts: facts::RawVmFacts {
                disks: self.disks.map(|l| l.0),
                media: self.media.map(|l| l.0),
                passthrough: self.passthrough.map(|l| l.0),
                networks: self.networks.map(|l| l.0),
                checkpoints: self.checkpoints.map(|c| c.0),
                cpu_compat: self.cpu_compat,
                anti_affinity: self.anti_affinity.0,
                affinity: self.affinity.0,
                allowed_hosts: self.allowed_hosts.0,
                attributes: self.attributes.0,
            }
            .into_model(),
        }
    }
}

fn model_vms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vm>, D::Error> {
    struct Seq;
    impl<'de> de::Visitor<'de> for Seq {
        type Value = Vec<Vm>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Vm>, A::Error> {
            let mut vms = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(vm) = seq.next_element::<RawVm>()? {
                vms.push(vm.into_model());
            }
            Ok(vms)
        }
    }
    d.deserialize_seq(Seq)
}

/// Parses a native inventory, in JSON when it starts with `{`, else in TOML.
pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    let text = file.text.as_str();
    let raw: RawInventory = if text.trim_start().starts_with('{') {
        // Tracking the path of every value costs a third of the parse; it is only needed to
        // name the place of an error, so a file that fails is read again with it.
        match serde_json::from_str(text) {
            Ok(raw) => raw,
            Err(_) => located(file)?,
        }
    } else {
        match toml::from_str(text) {
            Ok(raw) => raw,
            Err(err) => {
                let span = err.span().unwrap_or(0..0);
                return Err(SourceDiag::at(
                    Code::InventoryField,
                    format!("{}: {}", file.name, err.message()),
                    file,
                    span,
                    "here",
                )
                .into());
            }
        }
    };
    build(file, raw, 0..file.text.len())
}

/// Reads a native inventory written inline in another TOML file (a policy test case's
/// `[case.inventory]`): errors point at their place in that file.
pub fn from_toml_value(
    file: &SourceFile,
    value: toml::Spanned<toml::de::DeValue<'_>>,
) -> Result<Parsed, Diagnostics> {
    // A table written under its own `[header]` spans only the header; its values lie after
    // it, so the part of the file to search is the union of the table and its values.
    let mut within = value.span();
    if let toml::de::DeValue::Table(t) = value.get_ref() {
        for (k, v) in t.iter() {
            within.start = within.start.min(k.span().start);
            within.end = within.end.max(v.span().end);
        }
    }
    let de = toml::de::ValueDeserializer::from(value);
    let raw: RawInventory = RawInventory::deserialize(de).map_err(|err| {
        let span = err.span().unwrap_or(within.clone());
        SourceDiag::at(
            Code::InventoryField,
            format!("{}: {}", file.name, err.message()),
            file,
            span,
            "here",
        )
    })?;
    build(file, raw, within)
}

/// Reads a native JSON inventory that failed to read, to say where and why.
fn located(file: &SourceFile) -> Result<RawInventory, Diagnostics> {
    let text = file.text.as_str();
    let mut de = serde_json::Deserializer::from_str(text);
    let err = match serde_path_to_error::deserialize::<_, RawInventory>(&mut de) {
        // Only whitespace may follow the document: not a second one (`cat a.json b.json`),
        // NUL padding or garbage.
        Ok(raw) => match de.end() {
            Ok(()) => return Ok(raw),
            Err(e) => {
                let at = offset_of(text, e.line(), e.column().max(1));
                let first = text.get(at..).and_then(|t| t.chars().next());
                return Err(SourceDiag::at(
                    Code::InventorySyntax,
                    format!("{}: text after the end of the inventory", file.name),
                    file,
                    at..at + first.map_or(0, char::len_utf8),
                    "the document ended before this",
                )
                .with_help("a file holds one inventory: a second document (two files joined), padding or other text after it is refused; give each file with its own --inventory")
                .into());
            }
        },
        Err(err) => err,
    };
    let path = err.path().to_string();
    let inner = err.into_inner();
    let offset = offset_of(text, inner.line(), inner.column().max(1));
    // A rejected value is reported after it: label the value itself.
    let token = locate::token_before(text, offset);
    let span = if inner.classify() == serde_json::error::Category::Data && !token.is_empty() {
        token
    } else {
        offset..offset + 1
    };
    let msg = strip_position(&inner.to_string());
    Err(SourceDiag::at(
        Code::InventoryField,
        format!("{}: {msg}", file.name),
        file,
        span,
        format!("at {path}"),
    )
    .with_help("the native format is described in docs/formats.md#native")
    .into())
}

/// Checks and converts what serde read; `within` is the part of the file the inventory spans,
/// so values found again by searching the text are found in the right place.
fn build(
    file: &SourceFile,
    raw: RawInventory,
    within: std::ops::Range<usize>,
) -> Result<Parsed, Diagnostics> {
    let collected_at = match raw.collected_at {
        None => None,
        Some(t) => Some(parse_time(file, t, &within)?),
    };
    let hosts = hosts(raw.hosts);
    let mut vms = raw.vms;
    check_duplicates(file, &vms, &within)?;
    let host_names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    let warnings = facts::check(file, &mut vms, &host_names, &within);
    let inventory = Inventory {
        collected_at,
        platform: raw.platform.map(|p| p.0),
        hosts,
        vms,
        gaps: Vec::new(),
    };
    Ok(Parsed {
        inventory,
        format: Format::Native,
        warnings,
    })
}

/// Reads a large native JSON inventory from `file` a piece at a time (see `stream`), when it
/// is valid and good, with the SHA-256 of the bytes parsed: `None` for anything else, whose
/// problems the ordinary parse of the whole text then words and locates (a bad
/// `collected_at`, a VM key used twice).
pub fn parse_streamed(file: &std::fs::File, size: u64) -> Option<(Parsed, [u8; 32])> {
    parse_streamed_in(file, size, stream::PIECE)
}

/// [`parse_streamed`] with pieces of `piece` bytes (the fuzz target reads small files this way,
/// so that they take the same path as large ones).
pub fn parse_streamed_in(
    file: &std::fs::File,
    size: u64,
    piece: usize,
) -> Option<(Parsed, [u8; 32])> {
    let (raw, digest) = stream::read_in(file, size, piece)?;
    let collected_at = match raw.collected_at {
        None => None,
        Some(RawTime::Text(t)) => Some(t.parse::<jiff::Timestamp>().ok()?),
        Some(RawTime::Toml(_)) => return None,
    };
    let hosts = hosts(raw.hosts);
    let host_names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    // Duplicates, and facts that need a located warning, are for the ordinary read to word.
    if !second_uses(&raw.vms).is_empty() || facts::need_check(&raw.vms, &host_names) {
        return None;
    }
    drop(host_names);
    let parsed = Parsed {
        inventory: Inventory {
            collected_at,
            platform: raw.platform.map(|p| p.0),
            hosts,
            vms: raw.vms,
            gaps: Vec::new(),
        },
        format: Format::Native,
        warnings: Vec::new(),
    };
    Some((parsed, digest))
}

fn hosts(raw: Vec<RawHost>) -> Vec<Host> {
    raw.into_iter()
        .map(|h| Host {
            name: h.name.0,
            cluster: h.cluster.filter(|c| !c.is_empty()),
            state: h.state.map_or(HostState::Up, |s| s.0),
            memory_mb: h.memory_mb.map(|m| m.0),
            cpus: h.cpus.map(|c| c.0 as u32),
            implied: false,
            facts: crate::model::HostFacts {
                networks: h.networks.map(|l| l.0),
                cpu: h.cpu.filter(|c| !c.trim().is_empty()),
            },
        })
        .collect()
}

fn parse_time(
    file: &SourceFile,
    t: RawTime,
    within: &std::ops::Range<usize>,
) -> Result<jiff::Timestamp, Diagnostics> {
    let text = match t {
        RawTime::Text(s) => s,
        RawTime::Toml(dt) => dt.to_string(),
    };
    text.parse::<jiff::Timestamp>().map_err(|e| {
        let part = file.text.get(within.clone()).unwrap_or_default();
        let span = locate::string_value(part, "collected_at", &text, 0)
            .or_else(|| part.find(&text).map(|i| i..i + text.len()))
            .map_or(within.start..within.start, |r| {
                within.start + r.start..within.start + r.end
            });
        SourceDiag::at(
            Code::InventoryField,
            format!(
                "{}: `collected_at` is not an RFC 3339 timestamp: {e}",
                file.name
            ),
            file,
            span,
            "expected e.g. 2026-11-25T16:00:00Z",
        )
        .into()
    })
}

/// serde_json appends " at line L column C"; the diagnostic shows that already.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn check_duplicates(
    file: &SourceFile,
    vms: &[Vm],
    within: &std::ops::Range<usize>,
) -> Result<(), Diagnostics> {
    let part = file.text.get(within.clone()).unwrap_or_default();
    let shift = |r: std::ops::Range<usize>| within.start + r.start..within.start + r.end;
    let mut diags = Diagnostics::default();
    let seconds = second_uses(vms);
    // Every repeated key located in one pass over the text, not one pass per key.
    let repeated = |with_id: bool| -> std::collections::HashSet<&str> {
        let vms = seconds.iter().map(|&i| &vms[i]);
        vms.filter(|v| v.id.is_some() == with_id)
            .map(Vm::key)
            .collect()
    };
    let by_id = locate::string_values(part, "id", &repeated(true), 2);
    let by_name = locate::string_values(part, "name", &repeated(false), 2);
    for i in seconds {
        let vm = &vms[i];
        let (found, what) = if vm.id.is_some() {
            (by_id.get(vm.key()), "id")
        } else {
            (by_name.get(vm.key()), "name (and no id)")
        };
        let nth = |n: usize| found.and_then(|f| f.get(n)).cloned();
        let first = nth(0).map_or(within.start..within.start, shift);
        let second = nth(1).map_or(first.clone(), shift);
        diags.push(
            SourceDiag::at(
                Code::InventoryDuplicate,
                format!("{}: two VMs share the {what} `{}`", file.name, vm.key()),
                file,
                second,
                "used again here",
            )
            .with_label(first, "first used here")
            .with_help("every VM needs its own id (or, without ids, its own name)"),
        );
    }
    diags.into_result(())
}

/// The positions of the VMs whose key (id, else name) an earlier VM already used, the second
/// use of each key only, in order. A hash map of a million keys misses the cache on every
/// insert; sorting (hash, position) pairs and comparing neighbours does not, and the keys
/// themselves are compared only where hashes tie.
fn second_uses(vms: &[Vm]) -> Vec<usize> {
    second_uses_hashed(vms, |key| {
        let mut h = crate::model::NameHasher::default();
        std::hash::Hasher::write(&mut h, key.as_bytes());
        std::hash::Hasher::finish(&h)
    })
}

fn second_uses_hashed(vms: &[Vm], hash: impl Fn(&str) -> u64) -> Vec<usize> {
    let mut keyed: Vec<(u64, usize)> = vms
        .iter()
        .enumerate()
        .map(|(i, vm)| (hash(vm.key()), i))
        .collect();
    keyed.sort_unstable();
    let mut seconds = Vec::new();
    let mut run = 0;
    while run < keyed.len() {
        let end = run
            + keyed[run..]
                .iter()
                .take_while(|(h, _)| *h == keyed[run].0)
                .count();
        // Hashes tie: order the run by key, then position; each key's second entry is its
        // second use. (Sorting, not scanning, so crafted collisions cannot make it quadratic.)
        let group = &mut keyed[run..end];
        group.sort_unstable_by(|a, b| vms[a.1].key().cmp(vms[b.1].key()).then(a.1.cmp(&b.1)));
        for j in 1..group.len() {
            let key = vms[group[j].1].key();
            let starts_key = j == 1 || vms[group[j - 2].1].key() != key;
            if starts_key && vms[group[j - 1].1].key() == key {
                seconds.push(group[j].1);
            }
        }
        run = end;
    }
    seconds.sort_unstable();
    seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Parsed, Diagnostics> {
        parse(&SourceFile::new("inv.json", text))
    }

    #[test]
    fn reads_json_and_toml_alike() {
        let json = r#"{"collected_at":"2026-11-25T16:00:00Z","hosts":[{"name":"HV01","cluster":"C","state":"up","memory_mb":1024,"cpus":8}],
            "vms":[{"name":"A","host":"HV01","state":"running","ha":false,"memory_mb":512,"vcpus":2,"tags":["prod"]}]}"#;
        let toml = "collected_at = 2026-11-25T16:00:00Z\nhosts = [{name = \"HV01\", cluster = \"C\", state = \"up\", memory_mb = 1024, cpus = 8}]\n\
            vms = [{name = \"A\", host = \"HV01\", state = \"running\", ha = false, memory_mb = 512, vcpus = 2, tags = [\"prod\"]}]\n";
        let a = parse_str(json).unwrap().inventory;
        let b = parse(&SourceFile::new("inv.toml", toml)).unwrap().inventory;
        assert_eq!(a, b);
        assert_eq!(a.vms[0].memory_mb, Some(512));
        assert_eq!(a.collected_at.unwrap().to_string(), "2026-11-25T16:00:00Z");
    }

    #[test]
    fn negative_size_points_at_its_line() {
        let err = parse_str("{\"vms\": [\n {\"name\": \"A\", \"host\": \"H\", \"state\": \"off\",\n  \"memory_mb\": -5}]}").unwrap_err();
        let d = &err.0[0];
        assert!(d.message.contains("negative"), "{}", d.message);
        assert_eq!(d.line_col().unwrap(), (3, 16));
    }

    #[test]
    fn empty_name_and_misspelled_state_are_errors() {
        let err = parse_str(r#"{"vms": [{"name": "", "host": "H", "state": "off"}]}"#).unwrap_err();
        assert!(err.0[0].message.contains("empty"));
        let err =
            parse_str(r#"{"vms": [{"name": "A", "host": "H", "state": "runing"}]}"#).unwrap_err();
        assert!(
            err.0[0].message.contains("did you mean `running`"),
            "{}",
            err.0[0].message
        );
    }

    #[test]
    fn duplicate_ids_show_both_places() {
        let text = "{\"vms\": [\n{\"name\": \"A\", \"id\": \"x\", \"host\": \"H\", \"state\": \"off\"},\n{\"name\": \"B\", \"id\": \"x\", \"host\": \"H\", \"state\": \"off\"}]}";
        let err = parse_str(text).unwrap_err();
        assert_eq!(err.0[0].code, Code::InventoryDuplicate);
        assert_eq!(err.0[0].line_col(), Some((3, 21)));
        assert_eq!(err.0[0].labels.len(), 2);
    }

    #[test]
    fn second_uses_are_found_once_per_key_in_order() {
        let vm = |name: &str, id: Option<&str>| Vm {
            id: id.map(Into::into),
            ..Vm::on(name, "H")
        };
        let vms = [
            vm("a", None),
            vm("b", Some("x")),
            vm("x", None),
            vm("c", Some("x")),
            vm("a", None),
            vm("d", Some("x")),
            vm("e", Some("X")),
            vm("a", None),
        ];
        // "x" as a name and as an id are different keys only if ids and names never meet:
        // the key is the id when there is one, so VM 2 (name "x", no id) collides with VM 1.
        assert_eq!(second_uses(&vms), vec![2, 4]);
        assert!(second_uses(&vms[..2]).is_empty());
    }

    proptest::proptest! {
        /// Against the obvious map, also when every hash collides (one run of all keys).
        #[test]
        fn second_uses_match_a_map(keys in proptest::collection::vec((0u8..6, proptest::bool::ANY), 0..40)) {
            let vms: Vec<Vm> = keys
                .iter()
                .map(|&(k, with_id)| Vm {
                    id: with_id.then(|| format!("i{k}").into()),
                    ..Vm::on(&format!("n{k}"), "H")
                })
                .collect();
            let mut seen = std::collections::HashMap::new();
            let mut expected = Vec::new();
            for (i, vm) in vms.iter().enumerate() {
                let n = seen.entry(vm.key()).or_insert(0);
                *n += 1;
                if *n == 2 {
                    expected.push(i);
                }
            }
            proptest::prop_assert_eq!(&second_uses(&vms), &expected);
            proptest::prop_assert_eq!(&second_uses_hashed(&vms, |_| 7), &expected);
        }
    }

    #[test]
    fn text_after_the_document_is_refused_at_its_first_character() {
        for (text, at) in [
            ("{\"vms\": []}\n{\"vms\": []}", (2, 1)),
            ("{\"vms\": []} \u{e9}t\u{e9}", (1, 13)),
            ("{\"vms\": []}\0\0", (1, 12)),
        ] {
            let err = parse_str(text).unwrap_err();
            assert_eq!(err.0[0].code, Code::InventorySyntax, "{text:?}");
            assert_eq!(err.0[0].line_col(), Some(at), "{text:?}");
        }
        assert!(parse_str("{\"vms\": []} \r\n\t").is_ok());
    }

    #[test]
    fn absurd_memory_is_rejected() {
        let err = parse_str(
            r#"{"vms": [{"name": "A", "host": "H", "state": "off", "memory_mb": 999999999999}]}"#,
        )
        .unwrap_err();
        assert!(err.0[0].message.contains("more than any real machine"));
    }
}
