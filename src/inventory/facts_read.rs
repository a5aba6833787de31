//! Migration facts (CONTRACT 7.5) from the platforms' own properties in SCVMM and Hyper-V JSON
//! exports: `Get-SCVirtualMachine` and `Get-VM` objects as `ConvertTo-Json` writes them.
//!
//! Each fact is read only when its property is in the record; a property that holds a .NET
//! type name (Windows PowerShell's `ConvertTo-Json` cuts nesting at `-Depth`, 2 by default) is
//! a warning at the value and leaves the fact unknown, never a path. CSV exports cannot carry
//! lists, so they carry no facts.

use super::read::{Cell, Ctx, Row, bytes_to_mib, text};
use crate::diag::Code;
use crate::model::{CompactString, FileRef, HostFacts, VmFacts, is_type_name};
use serde_json::Value;

const DEPTH_HELP: &str = "Windows PowerShell's ConvertTo-Json writes what is nested deeper than -Depth (2 by default) as a type name: export with -Depth 4, or use the collectors in examples/collect/, which flatten it";

/// The facts of a `Get-SCVirtualMachine` record, or `None` when it has none of them.
pub fn scvmm_vm(ctx: &mut Ctx, row: &dyn Row) -> Option<Box<VmFacts>> {
    let mut f = VmFacts {
        disks: files(ctx, row, "VirtualHardDisks", "disks", |v| {
            file_of(v, &["Location"], &["Size", "MaximumSize"]).map(Some)
        }),
        media: files(ctx, row, "VirtualDVDDrives", "media", scvmm_dvd),
        networks: list(ctx, row, "VirtualNetworkAdapters", "networks", |v| {
            name_of(v, &["VirtualNetwork", "VMNetwork", "LogicalNetwork"])
        }),
        checkpoints: list(ctx, row, "VMCheckpoints", "checkpoints", |_| Some(()))
            .map(|c| c.len() as u32),
        cpu_compat: ctx.flag(row, "LimitCPUForMigration"),
        anti_affinity: names(ctx, row, "AvailabilitySetNames"),
        ..VmFacts::default()
    };
    if let Some(pass) = ctx.flag(row, "HasPassthroughDisk") {
        f.passthrough = Some(if pass {
            vec!["passthrough-disk".into()]
        } else {
            Vec::new()
        });
    }
    attributes(ctx, row, &mut f, "CustomProperty");
    if let Some(os) = row
        .cell("OperatingSystem")
        .and_then(|c| name_of(&c.value, &["Name"]))
    {
        f.attributes.insert("os".into(), os);
    }
    boxed(f)
}

/// A DVD drive's medium: an ISO (its share path, shared when linked in place from the library),
/// a host drive (`host:D:`), or nothing mounted.
fn scvmm_dvd(v: &Value) -> Option<Option<FileRef>> {
    let Value::Object(o) = v else {
        return text(v).map(|path| {
            Some(FileRef {
                path: path.into(),
                shared: None,
                size_mb: None,
            })
        });
    };
    if let Some(drive) = o.get("HostDrive").and_then(text).filter(|d| !d.is_empty()) {
        return Some(Some(FileRef {
            path: format!("host:{drive}").into(),
            shared: Some(false),
            size_mb: None,
        }));
    }
    let Some(iso) = o.get("ISO").filter(|i| !i.is_null()) else {
        // An empty drive.
        return Some(None);
    };
    let path = name_of(iso, &["SharePath", "Location", "Name"])?;
    let linked = o.get("ISOLinked").and_then(Value::as_bool) == Some(true);
    Some(Some(FileRef {
        path,
        // Linked: used in place from the library share. Otherwise VMM copied it next to the
        // VM, which is only as shared as the VM's own folder.
        shared: linked.then_some(true),
        size_mb: None,
    }))
}

/// The facts of a Hyper-V `Get-VM` record (with the properties the collector flattens in:
/// `CompatibilityForMigrationEnabled`, `AntiAffinityClassNames`, `PossibleOwners`).
pub fn hyperv_vm(ctx: &mut Ctx, row: &dyn Row) -> Option<Box<VmFacts>> {
    let drives = files(ctx, row, "HardDrives", "disks", |v| {
        let o = v.as_object()?;
        let number = o.get("DiskNumber").filter(|n| !n.is_null()).and_then(text);
        let file = file_of(v, &["Path"], &["Size"]);
        // A drive is a file, a host's disk, or unreadable.
        (file.is_some() || number.is_some()).then_some(Some((file, number)))
    });
    let mut f = VmFacts {
        disks: drives
            .as_ref()
            .map(|d| d.iter().filter_map(|(file, _)| file.clone()).collect()),
        media: files(ctx, row, "DVDDrives", "media", |v| {
            let o = v.as_object()?;
            let path = o.get("Path").and_then(text).filter(|p| !p.is_empty());
            // DvdMediaType 2 is a pass-through host drive.
            let host = o.get("DvdMediaType").and_then(|t| {
                t.as_u64()
                    .map(|n| n == 2)
                    .or_else(|| t.as_str().map(|s| s.eq_ignore_ascii_case("PassThrough")))
            }) == Some(true);
            if path.as_deref().is_some_and(is_type_name) {
                return None;
            }
            Some(path.map(|p| FileRef {
                path: if host { format!("host:{p}") } else { p }.into(),
                shared: host.then_some(false),
                size_mb: None,
            }))
        }),
        networks: list(ctx, row, "NetworkAdapters", "networks", |v| {
            name_of(v, &["SwitchName"])
        }),
        cpu_compat: ctx.flag(row, "CompatibilityForMigrationEnabled"),
        anti_affinity: names(ctx, row, "AntiAffinityClassNames"),
        allowed_hosts: names(ctx, row, "PossibleOwners"),
        ..VmFacts::default()
    };
    // A pass-through disk decides it; without one, only the list of assigned devices (DDA)
    // says there is none.
    let disks: Vec<CompactString> = drives
        .iter()
        .flatten()
        .filter_map(|(_, n)| n.as_ref().map(|n| format!("disk:{n}").into()))
        .collect();
    let devices = list(ctx, row, "AssignableDevices", "passthrough", |v| {
        name_of(v, &["InstanceID", "LocationPath", "Name"])
    });
    f.passthrough = match devices {
        Some(d) if drives.is_some() => Some(disks.into_iter().chain(d).collect()),
        Some(d) if !d.is_empty() => Some(d.into_iter().collect()),
        _ if !disks.is_empty() => Some(disks),
        _ => None,
    };
    boxed(f)
}

/// A host's CPU model and the switches it offers, from `Get-SCVMHost` (`ProcessorModel`,
/// `VirtualNetworks`), PowerCLI's `Get-VMHost` (`ProcessorType`) or a collector's flattened
/// `Switches` / `Networks` (port groups).
pub fn host(ctx: &mut Ctx, row: &dyn Row) -> HostFacts {
    let cpu = [
        "ProcessorModel",
        "CpuModel",
        "ProcessorName",
        "ProcessorType",
    ]
    .iter()
    .find_map(|k| row.cell(k).and_then(|c| text(&c.value)))
    .map(|s| CompactString::from(s.trim()))
    .filter(|s| !s.is_empty());
    let networks = ["VirtualNetworks", "Switches", "VirtualSwitches", "Networks"]
        .iter()
        .find(|k| row.cell(k).is_some())
        .and_then(|k| {
            list(ctx, row, k, "networks", |v| {
                name_of(v, &["Name", "SwitchName"])
            })
        });
    HostFacts { networks, cpu }
}

/// The properties a collector flattens its VMs' facts into (`examples/collect/powercli.ps1`):
/// each an optional CONTRACT 7.1 fact under its PowerShell-cased name.
pub const FLAT_VM_PROPERTIES: [&str; 10] = [
    "Disks",
    "Media",
    "Passthrough",
    "Networks",
    "Checkpoints",
    "CpuCompat",
    "AntiAffinity",
    "Affinity",
    "AllowedHosts",
    "Attributes",
];

/// The facts a collector flattened into a VM record ([`FLAT_VM_PROPERTIES`]): `Disks`
/// (`[{"Path", "SizeMB", "Shared"}]`), `Media` (`[{"Path", "Shared"}]`), `Passthrough`,
/// `Networks` (a list, or one `;`-separated text), `Checkpoints`, `CpuCompat`, the group lists
/// and `Attributes` (an object). A property that is absent or `null` leaves its fact unknown.
pub fn flat_vm(ctx: &mut Ctx, row: &dyn Row) -> Option<Box<VmFacts>> {
    let present = |key: &str| row.cell(key).is_some_and(|c| !c.value.is_null());
    let file = |v: &Value| {
        let mut f = file_of(v, &["Path"], &[])?;
        if let Value::Object(o) = v {
            f.shared = o.get("Shared").and_then(Value::as_bool);
            f.size_mb = o
                .get("SizeMB")
                .and_then(Value::as_f64)
                .or_else(|| o.get("SizeGB").and_then(Value::as_f64).map(|g| g * 1024.0))
                .filter(|m| m.is_finite() && *m > 0.0 && *m < (1u64 << 40) as f64)
                .map(|m| m.ceil() as u64);
        }
        Some(f)
    };
    let mut f = VmFacts::default();
    if present("Disks") {
        f.disks = files(ctx, row, "Disks", "disks", |v| file(v).map(Some));
    }
    if present("Media") {
        f.media = files(ctx, row, "Media", "media", |v| file(v).map(Some));
    }
    if present("Passthrough") {
        f.passthrough = list(ctx, row, "Passthrough", "passthrough", |v| {
            name_of(v, &["Name", "Label"])
        });
    }
    if present("Networks") {
        f.networks = match row.cell("Networks").map(|c| c.value) {
            Some(Value::String(s)) if !is_type_name(&s) => Some(
                s.split(';')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(CompactString::from)
                    .collect(),
            ),
            _ => list(ctx, row, "Networks", "networks", |v| name_of(v, &["Name"])),
        };
    }
    if present("Checkpoints") {
        f.checkpoints = ctx
            .count(row, "Checkpoints", u64::from(u32::MAX))
            .map(|c| c as u32);
    }
    if present("CpuCompat") {
        f.cpu_compat = ctx.flag(row, "CpuCompat");
    }
    f.anti_affinity = names(ctx, row, "AntiAffinity");
    f.affinity = names(ctx, row, "Affinity");
    f.allowed_hosts = names(ctx, row, "AllowedHosts");
    attributes(ctx, row, &mut f, "Attributes");
    boxed(f)
}

fn boxed(f: VmFacts) -> Option<Box<VmFacts>> {
    (f != VmFacts::default()).then(|| Box::new(f))
}

/// The items of list property `key`, each read by `item` (an item it cannot read is left
/// out), or `None` when the property is absent or a type name (then with a warning naming
/// `fact`). A single object stands for a list of one, as `ConvertTo-Json` writes one.
fn list<T>(
    ctx: &mut Ctx,
    row: &dyn Row,
    key: &str,
    fact: &str,
    item: impl Fn(&Value) -> Option<T>,
) -> Option<Vec<T>> {
    let cell = list_cell(ctx, row, key, fact)?;
    Some(entries(&cell).into_iter().filter_map(item).collect())
}

/// The cell of list property `key`, or `None` when the property is absent or one of its items
/// is a type name (then with a warning naming `fact`).
fn list_cell(ctx: &mut Ctx, row: &dyn Row, key: &str, fact: &str) -> Option<Cell> {
    let cell = row.cell(key)?;
    if entries(&cell)
        .iter()
        .any(|v| v.as_str().is_some_and(is_type_name))
    {
        truncated(ctx, row, key, fact, &cell);
        return None;
    }
    Some(cell)
}

/// The items of a list cell: a single object stands for a list of one, as `ConvertTo-Json`
/// writes one.
fn entries(cell: &Cell) -> Vec<&Value> {
    match &cell.value {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    }
}

/// The files of list property `key` (disks, drives): each item is a file, `Some(None)` for
/// a drive that holds nothing, or `None` when it cannot be read (no path, or a type name where
/// the path belongs). One unreadable item makes the whole fact unknown, with a warning at the
/// property: leaving it out would claim the VM has one file fewer than it has, and a medium
/// left out is a local medium the drain never hears of.
fn files<T>(
    ctx: &mut Ctx,
    row: &dyn Row,
    key: &str,
    fact: &str,
    item: impl Fn(&Value) -> Option<Option<T>>,
) -> Option<Vec<T>> {
    let cell = list_cell(ctx, row, key, fact)?;
    let items = entries(&cell);
    let mut out = Vec::new();
    for v in items {
        match item(v) {
            Some(Some(x)) => out.push(x),
            Some(None) => {}
            None => {
                let cut = v.to_string().contains("Microsoft.") || v.to_string().contains("System.");
                let d = ctx.diag(
                    if cut {
                        Code::InventoryTruncated
                    } else {
                        Code::InventoryField
                    },
                    &row.path_of(key),
                    &format!(
                        "an item of {key} has no path preflight can read{}: the VM's {fact} are read as unknown",
                        if cut { " (a type name where the path belongs)" } else { "" }
                    ),
                    cell.span.clone(),
                );
                ctx.warn(if cut { d.with_help(DEPTH_HELP) } else { d });
                return None;
            }
        }
    }
    Some(out)
}

fn truncated(ctx: &mut Ctx, row: &dyn Row, key: &str, fact: &str, cell: &Cell) {
    let d = ctx.diag(
        Code::InventoryTruncated,
        &row.path_of(key),
        &format!("a type name, not the {key} themselves: the VM's {fact} are read as unknown"),
        cell.span.clone(),
    );
    ctx.warn(d.with_help(DEPTH_HELP));
}

/// A file from an object's first present path property and size property (bytes), or from a
/// plain string.
fn file_of(v: &Value, path_keys: &[&str], size_keys: &[&str]) -> Option<FileRef> {
    if let Some(path) = v.as_str() {
        return Some(FileRef {
            path: path.into(),
            shared: None,
            size_mb: None,
        });
    }
    let o = v.as_object()?;
    let path = path_keys
        .iter()
        .find_map(|k| o.get(*k).and_then(text))
        .filter(|p| !p.trim().is_empty() && !is_type_name(p))?;
    let size_mb = size_keys
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_u64))
        .filter(|b| *b > 0)
        .map(|b| bytes_to_mib(b).max(1));
    Some(FileRef {
        path: path.into(),
        shared: None,
        size_mb,
    })
}

/// A name: the string itself, or an object's first present name property.
fn name_of(v: &Value, keys: &[&str]) -> Option<CompactString> {
    let s = match v {
        Value::Object(o) => keys.iter().find_map(|k| o.get(*k).and_then(text))?,
        other => text(other)?,
    };
    let s = s.trim();
    (!s.is_empty() && !is_type_name(s)).then(|| s.into())
}

/// A list of names (a JSON array, or one `;`-separated text): empty when absent (these facts
/// are sparse: absent means none).
fn names(ctx: &mut Ctx, row: &dyn Row, key: &str) -> Vec<CompactString> {
    let Some(cell) = row.cell(key) else {
        return Vec::new();
    };
    let items: Vec<String> = match &cell.value {
        Value::Array(a) => a.iter().filter_map(text).collect(),
        Value::String(s) => s.split(';').map(str::to_string).collect(),
        _ => Vec::new(),
    };
    if items.iter().any(|s| is_type_name(s)) {
        truncated(ctx, row, key, "groups", &cell);
        return Vec::new();
    }
    if items.iter().any(|s| s.trim().is_empty()) {
        let d = ctx.diag(
            Code::InventoryField,
            &row.path_of(key),
            &format!("{key} holds an empty name: it names no group or host, and is left out"),
            cell.span.clone(),
        );
        ctx.warn(d.with_help("remove the empty entry from the export, or give it its name"));
    }
    let mut out: Vec<CompactString> = items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(CompactString::from)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Custom properties (`{"Owner": "dba"}`, or the `[{"Key":…,"Value":…}]` list a hash table
/// becomes) as attributes, keys in lower case.
fn attributes(ctx: &mut Ctx, row: &dyn Row, f: &mut VmFacts, key: &str) {
    let Some(cell) = row.cell(key) else { return };
    match &cell.value {
        Value::Object(o) => {
            for (k, v) in o {
                if let Some(v) = text(v).filter(|v| !v.is_empty()) {
                    f.attributes.insert(k.to_lowercase().into(), v.into());
                }
            }
        }
        Value::Array(a) => {
            for kv in a.iter().filter_map(Value::as_object) {
                let k = kv.get("Key").or_else(|| kv.get("Name")).and_then(text);
                let v = kv.get("Value").and_then(text);
                if let (Some(k), Some(v)) = (k, v) {
                    f.attributes.insert(k.to_lowercase().into(), v.into());
                }
            }
        }
        Value::String(s) if is_type_name(s) => truncated(ctx, row, key, "attributes", &cell),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;
    use crate::inventory::record;

    fn read(
        json: &str,
        f: fn(&mut Ctx, &dyn Row) -> Option<Box<VmFacts>>,
    ) -> (Option<Box<VmFacts>>, Vec<crate::diag::SourceDiag>) {
        let file = SourceFile::new("x.json", json.to_string());
        let top = record::parse_top(&file).unwrap();
        let recs = record::records(&file, top, "").unwrap();
        let mut ctx = Ctx::new(&file);
        let facts = f(&mut ctx, &recs[0]);
        (facts, ctx.warnings)
    }

    #[test]
    fn scvmm_properties_become_facts() {
        let (f, warnings) = read(
            r#"[{"Name": "SQL01",
              "VirtualHardDisks": [{"Location": "C:\\ClusterStorage\\V1\\os.vhdx", "Size": 10737418240},
                                   {"Location": "D:\\VMs\\data.vhdx", "MaximumSize": 2147483648}],
              "VirtualDVDDrives": [{"ISO": {"SharePath": "\\\\lib\\ISO\\sql.iso"}, "ISOLinked": true, "HostDrive": null},
                                   {"ISO": null, "HostDrive": "E:"}, {"ISO": null, "HostDrive": null}],
              "VirtualNetworkAdapters": [{"VirtualNetwork": "Prod-vSwitch", "VMNetwork": "Prod"}],
              "VMCheckpoints": [{}, {}], "LimitCPUForMigration": true, "HasPassthroughDisk": false,
              "AvailabilitySetNames": ["sql-ag", "sql-ag"],
              "CustomProperty": {"Owner": "dba-team", "Empty": ""}, "OperatingSystem": {"Name": "Windows Server 2022"}}]"#,
            scvmm_vm,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let f = f.unwrap();
        let disks = f.disks.as_ref().unwrap();
        assert_eq!(disks[0].size_mb, Some(10_240));
        assert_eq!(
            disks[1].is_shared(),
            None,
            "D:\\VMs is not known to be shared"
        );
        let media = f.media.as_ref().unwrap();
        assert_eq!(media.len(), 2, "an empty drive is no medium");
        assert_eq!(media[0].is_shared(), Some(true));
        assert_eq!(media[1].path, "host:E:");
        assert_eq!(f.local_storage(), Some(true), "the host drive");
        assert_eq!(f.networks.as_deref(), Some(&["Prod-vSwitch".into()][..]));
        assert_eq!(f.checkpoints, Some(2));
        assert_eq!(f.cpu_compat, Some(true));
        assert_eq!(f.passthrough(), Some(false));
        assert_eq!(f.anti_affinity, ["sql-ag"]);
        assert_eq!(
            f.attributes.get("owner").map(|s| s.as_str()),
            Some("dba-team")
        );
        assert!(!f.attributes.contains_key("empty"));
        assert_eq!(f.attributes["os"], "Windows Server 2022");
    }

    #[test]
    fn a_depth_cut_is_unknown_with_a_warning_at_the_value() {
        let (f, warnings) = read(
            r#"[{"Name": "A", "VirtualHardDisks": ["Microsoft.VirtualManager.Utils.VirtualHardDisk"],
                "VMCheckpoints": []}]"#,
            scvmm_vm,
        );
        let f = f.unwrap();
        assert_eq!(f.disks, None);
        assert_eq!(f.checkpoints, Some(0));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].code, Code::InventoryTruncated);
        assert_eq!(warnings[0].line_col().map(|(l, _)| l), Some(1));
    }

    /// At Windows PowerShell's default depth a DVD drive's `ISO` object becomes its type
    /// name: the medium is unknown, never left out (which would read as no medium at all).
    #[test]
    fn an_iso_cut_to_a_type_name_is_an_unknown_medium() {
        let (f, warnings) = read(
            r#"[{"Name": "A", "VirtualDVDDrives": [
                {"ISO": "Microsoft.SystemCenter.VirtualMachineManager.ISO", "HostDrive": null},
                {"ISO": null, "HostDrive": null}]}]"#,
            scvmm_vm,
        );
        assert!(f.is_none_or(|f| f.media.is_none()));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].code, Code::InventoryTruncated);
        assert!(warnings[0].message.contains("VirtualDVDDrives"));
        assert_eq!(warnings[0].line_col().map(|(l, _)| l), Some(1));
        let (f, warnings) = read(
            r#"[{"Name": "A", "HardDrives": [{"Path": "C:\\ClusterStorage\\V1\\a.vhdx"},
                {"Path": "", "DiskNumber": null}]}]"#,
            hyperv_vm,
        );
        assert_eq!(f.and_then(|f| f.disks), None, "a drive without a path");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].code, Code::InventoryField);
        // Hyper-V at -Depth 1: the drives themselves are type names.
        let (f, warnings) = read(
            r#"[{"Name": "A", "DVDDrives": ["Microsoft.HyperV.PowerShell.DvdDrive"],
                "HardDrives": [{"Path": "Microsoft.HyperV.PowerShell.VirtualHardDisk"}]}]"#,
            hyperv_vm,
        );
        assert!(f.is_none_or(|f| f.media.is_none() && f.disks.is_none()));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().all(|w| w.code == Code::InventoryTruncated));
    }

    /// An empty group or owner name names nothing: it is left out, with a warning at it.
    #[test]
    fn an_empty_group_name_is_a_located_warning() {
        let (f, warnings) = read(
            r#"[{"Name": "A",
                "AntiAffinityClassNames": ["sql-ag", ""]}]"#,
            hyperv_vm,
        );
        assert_eq!(f.unwrap().anti_affinity, ["sql-ag"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("empty name"));
        assert_eq!(warnings[0].line_col().map(|(l, _)| l), Some(2));
        let (_, warnings) = read(
            r#"[{"Name": "A", "AvailabilitySetNames": [" "]}]"#,
            scvmm_vm,
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn a_record_without_fact_properties_has_no_facts() {
        assert!(
            read(r#"[{"Name": "A", "HostName": "H"}]"#, scvmm_vm)
                .0
                .is_none()
        );
        assert!(
            read(r#"[{"Name": "A", "ComputerName": "H"}]"#, hyperv_vm)
                .0
                .is_none()
        );
    }

    #[test]
    fn hyperv_properties_become_facts() {
        let (f, warnings) = read(
            r#"[{"Name": "SQL01",
              "HardDrives": [{"Path": "C:\\ClusterStorage\\V1\\os.vhdx", "DiskNumber": null},
                             {"Path": "Disk 2 3.00 GB Bus 0 Lun 1 Target 0", "DiskNumber": 2}],
              "DVDDrives": [{"Path": "C:\\ISO\\x.iso", "DvdMediaType": 1}, {"Path": "D:", "DvdMediaType": 2},
                            {"Path": null, "DvdMediaType": 0}],
              "NetworkAdapters": {"SwitchName": "Prod"},
              "CompatibilityForMigrationEnabled": false,
              "AntiAffinityClassNames": "sql-ag;web", "PossibleOwners": ["N1", "N2"]}]"#,
            hyperv_vm,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let f = f.unwrap();
        assert_eq!(f.disks.as_ref().unwrap().len(), 2);
        assert_eq!(f.passthrough.as_deref(), Some(&["disk:2".into()][..]));
        let media = f.media.as_ref().unwrap();
        assert_eq!(media[1].path, "host:D:");
        assert_eq!(media.len(), 2);
        assert_eq!(
            f.networks.as_deref(),
            Some(&["Prod".into()][..]),
            "one adapter as an object"
        );
        assert_eq!(f.cpu_compat, Some(false));
        assert_eq!(f.anti_affinity, ["sql-ag", "web"]);
        assert_eq!(f.allowed_hosts, ["N1", "N2"]);
    }

    #[test]
    fn hyperv_passthrough_is_none_only_when_devices_were_exported() {
        let without = read(
            r#"[{"Name": "A", "HardDrives": [{"Path": "C:\\a.vhdx"}]}]"#,
            hyperv_vm,
        );
        assert_eq!(
            without.0.unwrap().passthrough(),
            None,
            "DDA devices not exported"
        );
        let with = read(
            r#"[{"Name": "A", "HardDrives": [{"Path": "C:\\a.vhdx"}], "AssignableDevices": []}]"#,
            hyperv_vm,
        );
        assert_eq!(with.0.unwrap().passthrough(), Some(false));
        let gpu = read(
            r#"[{"Name": "A", "AssignableDevices": [{"InstanceID": "PCIP\\VEN_10DE"}]}]"#,
            hyperv_vm,
        );
        assert_eq!(gpu.0.unwrap().passthrough(), Some(true));
    }

    #[test]
    fn host_cpu_and_switches() {
        let file = SourceFile::new(
            "x.json",
            r#"[{"Name": "HV01", "ProcessorModel": " Xeon Gold 6338 ", "VirtualNetworks": [{"Name": "Prod"}, "Backup"]}]"#
                .to_string(),
        );
        let top = record::parse_top(&file).unwrap();
        let recs = record::records(&file, top, "").unwrap();
        let mut ctx = Ctx::new(&file);
        let h = host(&mut ctx, &recs[0]);
        assert_eq!(h.cpu.as_deref(), Some("Xeon Gold 6338"));
        assert_eq!(h.networks.unwrap(), ["Prod", "Backup"]);
    }
}
