//! Recognising an inventory's format from the keys of its first records.
//!
//! Only the first [`WINDOW`] bytes are looked at (cut back to a character boundary), so that
//! a file of any size is recognised at once, and the same way whether it is read whole or a
//! piece at a time. In JSON only object keys count: a VM or tag named `HostName` is a value
//! and says nothing about the format.

use super::Format;
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};

/// How much of the text the format is recognised from, in bytes.
pub const WINDOW: usize = 8192;

/// Keys that only SCVMM's objects have (VMs from `Get-SCVirtualMachine`, hosts from
/// `Get-SCVMHost`).
const SCVMM_KEYS: [&str; 11] = [
    "IsHighlyAvailable",
    "HostName",
    "VMHost",
    "VMHostName",
    "StatusString",
    "CPUCount",
    "VirtualMachineState",
    "VirtualMachineStateString",
    "OverallState",
    "TotalMemory",
    "LogicalProcessorCount",
];

/// Guesses the format from the start of the text: a native document has `vms`, `hosts` or
/// `schema` at the top; SCVMM, Hyper-V and Proxmox exports are told apart by their records'
/// property names.
pub fn detect(file: &SourceFile) -> Result<Format, Diagnostics> {
    let text = window(&file.text).trim_start();
    if super::rvtools::is_tab_csv(text) {
        return Ok(Format::Rvtools);
    }
    if is_powercli_csv(text) {
        return Ok(Format::Powercli);
    }
    if text.starts_with("#TYPE") || text.starts_with('"') {
        return Ok(Format::Hyperv);
    }
    if !(text.starts_with('{') || text.starts_with('[')) {
        // Not JSON: the native format's TOML spelling, or a CSV export without #TYPE.
        let first = text.lines().next().unwrap_or("");
        if first.contains("Name")
            && (first.contains(',') || first.contains(';'))
            && !first.contains('=')
        {
            return Ok(Format::Hyperv);
        }
        return Ok(Format::Native);
    }
    if let Some(format) = from_keys(&Keys::of(text)) {
        return Ok(format);
    }
    Err(SourceDiag::at(
        Code::InventoryFormat,
        format!("cannot tell what produced {}", file.name),
        file,
        0..1.min(file.text.len()),
        "unrecognised start",
    )
    .with_help("use --inventory-format native|scvmm|hyperv|proxmox|rvtools|powercli|govc to say which it is")
    .into())
}

/// The first [`WINDOW`] bytes of `text`, cut back to a character boundary.
pub fn window(text: &str) -> &str {
    let mut end = text.len().min(WINDOW);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A PowerCLI `Export-Csv`: its `#TYPE` names a VMware type, or its header has PowerCLI's
/// property names (`PowerState`, `VMHost`, `NumCpu`, `MemoryTotalMB`).
fn is_powercli_csv(text: &str) -> bool {
    let mut lines = text.lines();
    let mut first = lines.next().unwrap_or("");
    if let Some(ty) = first.strip_prefix("#TYPE") {
        if ty.contains("VMware.") {
            return true;
        }
        first = lines.next().unwrap_or("");
    }
    if first.starts_with(['{', '[']) || first.contains('=') {
        return false;
    }
    let keys: Vec<String> = first
        .split([',', ';'])
        .map(|k| k.trim().trim_matches('"').to_string())
        .collect();
    keys.len() > 1 && super::powercli::is_powercli_record(&keys)
}

fn from_keys(keys: &Keys) -> Option<Format> {
    let top = |k: &str| keys.top.iter().any(|t| t == k);
    let member = |k: &str| keys.members.iter().any(|t| t == k);
    if keys.top_is_object {
        // govc's documents and the PowerCLI collector's, before SCVMM's (which shares VMHost).
        if keys.top.iter().any(|k| super::govc::is_govc_top(k)) {
            return Some(Format::Govc);
        }
        if super::powercli::COMBINED_KEYS.iter().any(|k| top(k)) {
            return Some(Format::Powercli);
        }
    }
    if keys.top_is_object {
        // ManageIQ's SCVMM inventory script writes these next to its lists.
        if top("ems") || top("vmnetworks") {
            return Some(Format::Scvmm);
        }
        // A combined SCVMM inventory object also has `vms` and `hosts`, with VMM's key names
        // in their records.
        let lists = top("vms") || top("hosts") || top("clusters") || top("schema");
        if lists && SCVMM_KEYS.iter().any(|k| member(k)) {
            return Some(Format::Scvmm);
        }
        if top("vms") || top("hosts") || top("schema") {
            return Some(Format::Native);
        }
    }
    // A list of records, a single record written bare, or records in a wrapper (the
    // Proxmox API's `{"data": [...]}`).
    if keys.top_is_object {
        from_records(&keys.top).or_else(|| from_records(&keys.members))
    } else {
        from_records(&keys.records)
    }
}

/// The format whose records have these keys.
fn from_records(keys: &[String]) -> Option<Format> {
    let has = |k: &str| keys.iter().any(|t| t == k);
    if super::govc::is_govc_record(keys) {
        return Some(Format::Govc);
    }
    if super::powercli::is_powercli_record(keys) {
        return Some(Format::Powercli);
    }
    // `sid` and `type`: Proxmox's HA resources list, which its reader names as the wrong export.
    if has("vmid") || (has("node") && has("type")) || (has("sid") && has("type")) {
        return Some(Format::Proxmox);
    }
    if has("IsClustered") || has("State") && has("ComputerName") {
        return Some(Format::Hyperv);
    }
    if SCVMM_KEYS.iter().any(|k| has(k)) {
        return Some(Format::Scvmm);
    }
    None
}

/// The object keys at the start of a JSON text, by where they stand.
#[derive(Debug, Default)]
struct Keys {
    /// Whether the text is an object (else a list).
    top_is_object: bool,
    /// The keys of the top-level object.
    top: Vec<String>,
    /// The keys of the objects in a top-level list.
    records: Vec<String>,
    /// The keys of the objects in the lists that are the top-level object's members.
    members: Vec<String>,
}

impl Keys {
    /// Scans `text` (which may be cut anywhere) up to the end of its first value; strings
    /// are keys only when a `:` follows them inside an object.
    fn of(text: &str) -> Keys {
        let bytes = text.as_bytes();
        let mut keys = Keys {
            top_is_object: text.starts_with('{'),
            ..Keys::default()
        };
        let mut stack: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                open @ (b'{' | b'[') => {
                    stack.push(open);
                    i += 1;
                }
                b'}' | b']' => {
                    stack.pop();
                    i += 1;
                    if stack.is_empty() {
                        break;
                    }
                }
                b'"' => {
                    let start = i;
                    i += 1;
                    loop {
                        match bytes.get(i) {
                            None => return keys,
                            Some(b'\\') => i += 2,
                            Some(b'"') => break,
                            Some(_) => i += 1,
                        }
                    }
                    i += 1;
                    let after = bytes[i..].iter().position(|b| !b.is_ascii_whitespace());
                    let is_key = after.is_some_and(|k| bytes[i + k] == b':');
                    if !is_key || stack.last() != Some(&b'{') {
                        continue;
                    }
                    let raw = &text[start..i];
                    let Ok(key) = serde_json::from_str::<String>(raw) else {
                        continue;
                    };
                    match stack.as_slice() {
                        [b'{'] => keys.top.push(key),
                        [b'[', b'{'] => keys.records.push(key),
                        [b'{', b'[', b'{'] => keys.members.push(key),
                        _ => {}
                    }
                }
                _ => i += 1,
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(text: &str) -> Option<Format> {
        detect(&SourceFile::new("x.json", text)).ok()
    }

    #[test]
    fn values_that_look_like_keys_do_not_count() {
        for name in [
            "HostName",
            "ems",
            "StatusString",
            "vmnetworks",
            "vmid",
            "IsClustered",
        ] {
            let text = format!(
                r#"{{"vms":[{{"name":"{name}","host":"H","state":"off","tags":["{name}"]}}]}}"#
            );
            assert_eq!(format_of(&text), Some(Format::Native), "{text}");
        }
        // The same keys as keys do count.
        let scvmm = r#"{"vms":[{"Name":"A","HostName":"H","StatusString":"Running"}]}"#;
        assert_eq!(format_of(scvmm), Some(Format::Scvmm));
        let manageiq = r#"{"ems":{"Guid":"x"},"vmnetworks":[{"Name":"n"}],"vms":[]}"#;
        assert_eq!(format_of(manageiq), Some(Format::Scvmm));
    }

    #[test]
    fn exports_are_told_apart_by_their_records_keys() {
        let cases = [
            (r#"[{"Name":"A","HostName":"H","Status":0}]"#, Format::Scvmm),
            (r#"{"Name":"A","VMHost":"H","Status":0}"#, Format::Scvmm),
            (
                r#"[{"Name":"H","TotalMemory":1,"OverallState":"OK"}]"#,
                Format::Scvmm,
            ),
            (
                r#"[{"Name":"A","State":2,"ComputerName":"H"}]"#,
                Format::Hyperv,
            ),
            (r#"{"Name":"A","IsClustered":true}"#, Format::Hyperv),
            (
                r#"[{"id":"qemu/100","vmid":100,"node":"pve1"}]"#,
                Format::Proxmox,
            ),
            (
                r#"[{"id":"node/pve1","node":"pve1","type":"node"}]"#,
                Format::Proxmox,
            ),
            (
                r#"{"data":[{"id":"qemu/100","vmid":100,"node":"pve1"}]}"#,
                Format::Proxmox,
            ),
            (r#" {"schema":"preflight/inventory/v1"}"#, Format::Native),
            ("vms = []\n", Format::Native),
            ("#TYPE Microsoft.HyperV\nName,State\n", Format::Hyperv),
        ];
        for (text, format) in cases {
            assert_eq!(format_of(text), Some(format), "{text}");
        }
        // Keys of nested objects are not a record's keys.
        assert_eq!(
            format_of(r#"[{"Name":"A","Nested":{"HostName":"H"}}]"#),
            None
        );
        assert_eq!(format_of("[]"), None);
        assert_eq!(format_of(r#"[{"Name": "HostName"}]"#), None);
    }

    #[test]
    fn the_window_is_bytes_cut_at_a_character() {
        // A key that starts inside the window but ends after it is not seen, whatever the
        // width of the characters before it.
        let pad = "é".repeat(WINDOW / 2 - 10);
        let text = format!(r#"[{{"Name":"{pad}","HostName":"H"}}]"#);
        assert!(text.find("HostName").unwrap() + 8 > WINDOW);
        let odd = format!("a{}", "é".repeat(WINDOW));
        assert_eq!(
            window(&odd).len(),
            WINDOW - 1,
            "cut before the two-byte character"
        );
        assert_eq!(format_of(&text), None);
        let short = format!(r#"[{{"HostName":"H","Name":"{pad}"}}]"#);
        assert_eq!(format_of(&short), Some(Format::Scvmm));
    }
}
