//! Where a VM's or a host's record sits in an inventory file: the line and column of its id or
//! name value (JSON and TOML), the line of its row (CSV), or the sheet and row (an `.xlsx`
//! workbook, whose lines mean nothing). Only the few subjects of a report's findings are looked
//! up, in one pass over each file's text, so a large inventory costs one scan, not one per VM.
//!
//! A subject is found at one of two tiers, and the better one wins across files: a VM by its id
//! (tier 0) or by its name (tier 1); a host by its own record (tier 0) or, for a host only VMs
//! name, by the first VM on it (tier 1).

use crate::report::locations::RecordAt;
use std::collections::HashMap;

/// A subject to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    Vm { name: String, id: Option<String> },
    Host(String),
}

/// Where a subject was found within one file, and how well it matched (0 best).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub tier: u8,
    pub line: usize,
    pub column: usize,
    pub sheet: Option<(String, usize)>,
}

/// Keys whose value names a VM.
const VM_NAME_KEYS: &[&str] = &["name", "vmname", "vm", "vm name"];
/// Keys whose value identifies a VM.
const VM_ID_KEYS: &[&str] = &["id", "vmid", "vm id", "vm uuid", "uuid"];
/// Keys whose value names a host in a host's own record.
const HOST_NAME_KEYS: &[&str] = &["name", "computername", "host name", "host", "node"];
/// Keys whose value names a host in a host's own record, in JSON and TOML (where `host` is
/// what a VM's record names its host by).
const HOST_RECORD_KEYS: &[&str] = &["name"];
/// Keys whose value, in a VM's record, names the host it runs on.
const VM_HOST_KEYS: &[&str] = &["host", "computername", "vmhost", "hostname", "node"];

/// Each of `wanted` in the file's `bytes`: an `.xlsx` workbook, or text (JSON, TOML, CSV).
pub fn find(bytes: &[u8], wanted: &[Wanted]) -> Vec<Option<Found>> {
    if super::rvtools::is_zip(bytes) {
        return in_workbook(bytes, wanted);
    }
    if super::rvtools::is_ole(bytes) {
        // A legacy workbook: no reader for it; the file as a whole is the location.
        return wanted.iter().map(|_| None).collect();
    }
    let Ok(text) = super::decode("", bytes) else {
        return wanted.iter().map(|_| None).collect();
    };
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with('{') || body.starts_with('[') || looks_like_toml(body) {
        in_keyed_text(&text, wanted)
    } else {
        in_csv(&text, wanted)
    }
}

/// TOML's `key = value` lines or `[table]` headers, as opposed to a CSV header row.
fn looks_like_toml(body: &str) -> bool {
    body.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| {
            l.starts_with("[[") || (l.starts_with('[') && l.ends_with(']')) || l.contains(" = ")
        })
}

/// 1-based line and UTF-16 column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[start..].encode_utf16().count() + 1;
    (line, column)
}

fn is_key(key: &str, keys: &[&str]) -> bool {
    keys.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// JSON or TOML: every string value (`"key": "value"`, `key = "value"`) is compared with what
/// is wanted, in one pass; the first match of each kind counts.
fn in_keyed_text(text: &str, wanted: &[Wanted]) -> Vec<Option<Found>> {
    // value → the first offset at which it follows each key (lowercased) it was seen after.
    let mut values: HashMap<&str, Vec<(String, usize)>> = HashMap::new();
    for w in wanted {
        match w {
            Wanted::Vm { name, id } => {
                values.entry(name.as_str()).or_default();
                if let Some(id) = id {
                    values.entry(id.as_str()).or_default();
                }
            }
            Wanted::Host(h) => {
                values.entry(h.as_str()).or_default();
            }
        }
    }
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(rel) = bytes[at..].iter().position(|b| *b == b'"') {
        let start = at + rel;
        let mut end = start + 1;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        if end >= bytes.len() {
            break;
        }
        let inner = &text[start + 1..end];
        if let Some(seen) = values.get_mut(inner)
            && let Some(key) = key_before(text, start)
        {
            let key = key.to_ascii_lowercase();
            if !seen.iter().any(|(k, _)| *k == key) {
                seen.push((key, start));
            }
        }
        at = end + 1;
    }
    let first_after = |value: &str, keys: &[&str]| -> Option<usize> {
        values
            .get(value)?
            .iter()
            .filter(|(k, _)| is_key(k, keys))
            .map(|(_, at)| *at)
            .min()
    };
    wanted
        .iter()
        .map(|w| {
            let (tier, offset) = match w {
                Wanted::Vm { name, id } => id
                    .as_deref()
                    .and_then(|id| first_after(id, VM_ID_KEYS))
                    .map(|o| (0, o))
                    .or_else(|| first_after(name, VM_NAME_KEYS).map(|o| (1, o)))?,
                Wanted::Host(h) => first_after(h, HOST_RECORD_KEYS)
                    .map(|o| (0, o))
                    .or_else(|| first_after(h, VM_HOST_KEYS).map(|o| (1, o)))?,
            };
            let (line, column) = line_col(text, offset);
            Some(Found {
                tier,
                line,
                column,
                sheet: None,
            })
        })
        .collect()
}

/// The key a string value at `quote` belongs to: `"key": ` or `key = ` just before it.
fn key_before(text: &str, quote: usize) -> Option<&str> {
    let before = text[..quote].trim_end();
    let before = before.strip_suffix([':', '='])?.trim_end();
    if let Some(inner) = before.strip_suffix('"') {
        let open = inner.rfind('"')?;
        return Some(&inner[open + 1..]);
    }
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |i| i + 1);
    Some(&before[start..]).filter(|k| !k.is_empty())
}

/// Column indexes of a table's header that match `keys`.
fn columns(header: &[String], keys: &[&str]) -> Vec<usize> {
    header
        .iter()
        .enumerate()
        .filter(|(_, h)| is_key(h.trim(), keys))
        .map(|(i, _)| i)
        .collect()
}

/// What a table is: a VM table has a VM name column; any other is a host table.
struct Layout {
    vm_ids: Vec<usize>,
    vm_names: Vec<usize>,
    hosts: Vec<usize>,
    vm_table: bool,
}

impl Layout {
    fn of(header: &[String]) -> Layout {
        let vm_names = columns(header, VM_NAME_KEYS);
        let vm_table = !columns(header, &["vm", "vm name", "vmname"]).is_empty()
            || (!vm_names.is_empty() && !columns(header, VM_HOST_KEYS).is_empty());
        Layout {
            vm_ids: columns(header, VM_ID_KEYS),
            vm_names,
            hosts: if vm_table {
                columns(header, VM_HOST_KEYS)
            } else {
                columns(header, HOST_NAME_KEYS)
            },
            vm_table,
        }
    }

    /// How well `row` matches `w`, if at all.
    fn tier(&self, row: &[&str], w: &Wanted) -> Option<u8> {
        let any = |cols: &[usize], v: &str| cols.iter().any(|&c| row.get(c) == Some(&v));
        match w {
            Wanted::Vm { name, id } if self.vm_table => {
                if id.as_deref().is_some_and(|id| any(&self.vm_ids, id)) {
                    Some(0)
                } else if any(&self.vm_names, name) {
                    Some(1)
                } else {
                    None
                }
            }
            Wanted::Vm { .. } => None,
            Wanted::Host(h) => any(&self.hosts, h).then_some(if self.vm_table { 1 } else { 0 }),
        }
    }
}

/// Keeps the better of two finds (a lower tier, else the earlier).
fn keep(slot: &mut Option<Found>, found: Found) {
    if slot.as_ref().is_none_or(|s| found.tier < s.tier) {
        *slot = Some(found);
    }
}

fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| (first.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

/// A CSV export: the line each matching row starts on, column 1.
fn in_csv(text: &str, wanted: &[Wanted]) -> Vec<Option<Found>> {
    let mut out: Vec<Option<Found>> = wanted.iter().map(|_| None).collect();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    // PowerShell's Export-Csv may start with a `#TYPE` line before the header.
    let header = loop {
        match records.next() {
            Some(Ok(r)) if r.get(0).is_some_and(|f| f.starts_with("#TYPE")) => continue,
            Some(Ok(r)) => break r.iter().map(str::to_string).collect::<Vec<_>>(),
            _ => return out,
        }
    };
    let layout = Layout::of(&header);
    for record in records {
        let Ok(record) = record else { continue };
        let row: Vec<&str> = record.iter().collect();
        let line = record.position().map_or(1, |p| p.line() as usize);
        for (w, slot) in wanted.iter().zip(out.iter_mut()) {
            if let Some(tier) = layout.tier(&row, w) {
                keep(
                    slot,
                    Found {
                        tier,
                        line,
                        column: 1,
                        sheet: None,
                    },
                );
            }
        }
    }
    out
}

/// An `.xlsx` workbook: line 1, with the sheet and row of the matching record.
fn in_workbook(bytes: &[u8], wanted: &[Wanted]) -> Vec<Option<Found>> {
    use calamine::{Reader, Xlsx};
    let mut out: Vec<Option<Found>> = wanted.iter().map(|_| None).collect();
    let Ok(mut book) = Xlsx::new(std::io::Cursor::new(bytes)) else {
        return out;
    };
    for sheet in book.sheet_names() {
        let Ok(range) = book.worksheet_range(&sheet) else {
            continue;
        };
        let first_row = range.start().map_or(0, |(r, _)| r as usize);
        let mut rows = range.rows();
        let Some(header) = rows.next() else { continue };
        let header: Vec<String> = header.iter().map(|c| c.to_string()).collect();
        let layout = Layout::of(&header);
        for (i, cells) in rows.enumerate() {
            let cells: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
            let row: Vec<&str> = cells.iter().map(String::as_str).collect();
            for (w, slot) in wanted.iter().zip(out.iter_mut()) {
                if let Some(tier) = layout.tier(&row, w) {
                    // Row numbers as the spreadsheet shows them: 1-based, header included.
                    let at = first_row + i + 2;
                    keep(
                        slot,
                        Found {
                            tier,
                            line: 1,
                            column: 1,
                            sheet: Some((sheet.clone(), at)),
                        },
                    );
                }
            }
        }
    }
    out
}

/// The record of each of `wanted` across the inventory `files` (path as given, its bytes): the
/// best tier wins, the earlier file on a tie. `None` where no file has it.
pub fn find_in_files(files: &[(String, Vec<u8>)], wanted: &[Wanted]) -> Vec<Option<RecordAt>> {
    let mut best: Vec<Option<(u8, RecordAt)>> = wanted.iter().map(|_| None).collect();
    for (path, bytes) in files {
        for (slot, found) in best.iter_mut().zip(find(bytes, wanted)) {
            let Some(f) = found else { continue };
            if slot.as_ref().is_none_or(|(tier, _)| f.tier < *tier) {
                *slot = Some((
                    f.tier,
                    RecordAt {
                        path: path.clone(),
                        line: f.line,
                        column: f.column,
                        sheet: f.sheet,
                    },
                ));
            }
        }
    }
    best.into_iter().map(|b| b.map(|(_, r)| r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(name: &str, id: Option<&str>) -> Wanted {
        Wanted::Vm {
            name: name.into(),
            id: id.map(String::from),
        }
    }

    fn at(found: &Option<Found>) -> Option<(u8, usize, usize)> {
        found.as_ref().map(|f| (f.tier, f.line, f.column))
    }

    #[test]
    fn json_records_by_id_then_name_and_hosts_by_their_record() {
        let text = r#"{
  "hosts": [{"name": "HV01"}],
  "vms": [
    {"name": "A", "host": "HV01"},
    {"name": "B", "id": "b-1", "host": "HV02"},
    {"name": "B", "id": "b-2", "host": "HV02"}
  ]
}"#;
        let found = find(
            text.as_bytes(),
            &[
                vm("A", None),
                vm("B", Some("b-2")),
                Wanted::Host("HV01".into()),
                Wanted::Host("HV02".into()),
                vm("Z", None),
            ],
        );
        assert_eq!(at(&found[0]), Some((1, 4, 14)));
        assert_eq!(at(&found[1]), Some((0, 6, 25)), "the second B, by its id");
        assert_eq!(at(&found[2]), Some((0, 2, 22)), "the host's own record");
        assert_eq!(
            at(&found[3]),
            Some((1, 5, 40)),
            "an implied host: its first VM"
        );
        assert_eq!(found[4], None);
    }

    #[test]
    fn toml_bare_keys() {
        let text = "[[hosts]]\nname = \"HV01\"\n\n[[vms]]\nname = \"SQL01\"\nhost = \"HV01\"\n";
        let found = find(
            text.as_bytes(),
            &[vm("SQL01", None), Wanted::Host("HV01".into())],
        );
        assert_eq!(at(&found[0]), Some((1, 5, 8)));
        assert_eq!(at(&found[1]), Some((0, 2, 8)));
    }

    #[test]
    fn csv_rows_by_line_with_quoted_newlines() {
        let text = "#TYPE Microsoft.HyperV.PowerShell.VirtualMachine\n\"Name\",\"VMId\",\"ComputerName\",\"Notes\"\n\"A\",\"a-1\",\"HV01\",\"two\nlines\"\n\"A\",\"a-2\",\"HV01\",\"\"\n";
        let found = find(
            text.as_bytes(),
            &[
                vm("A", Some("a-2")),
                vm("A", None),
                Wanted::Host("HV01".into()),
            ],
        );
        assert_eq!(at(&found[0]), Some((0, 5, 1)));
        assert_eq!(at(&found[1]), Some((1, 3, 1)));
        assert_eq!(
            at(&found[2]),
            Some((1, 3, 1)),
            "no host table: the first VM on it"
        );
    }

    #[test]
    fn rvtools_tabs_tell_vm_and_host_tables_apart() {
        let vinfo = "VM;Powerstate;Host;VM UUID\nweb01;poweredOn;esx01;u-1\n";
        let vhost = "Host;Cluster;# Memory\nesx01;C1;65536\n";
        let files = vec![
            ("vInfo.csv".to_string(), vinfo.as_bytes().to_vec()),
            ("vHost.csv".to_string(), vhost.as_bytes().to_vec()),
        ];
        let found = find_in_files(
            &files,
            &[vm("web01", Some("u-1")), Wanted::Host("esx01".into())],
        );
        let web = found[0].as_ref().unwrap();
        assert_eq!((web.path.as_str(), web.line), ("vInfo.csv", 2));
        let esx = found[1].as_ref().unwrap();
        assert_eq!(
            (esx.path.as_str(), esx.line),
            ("vHost.csv", 2),
            "its own record wins"
        );
    }

    #[test]
    fn columns_count_utf16_units() {
        assert_eq!(line_col("ab\n\u{1F600}x\"", 8), (2, 4));
    }
}
