//! vSphere through VMware PowerCLI: `Get-VM`, `Get-VMHost` and `Get-Cluster` piped to
//! `ConvertTo-Json` (Windows PowerShell 5.1 writes enums as integers, PowerShell 7 with
//! `-EnumsAsStrings` as names), each to its own file or together in the one document that
//! `examples/collect/powercli.ps1` writes (`{"VMs": [...], "VMHosts": [...], "Clusters": [...]}`),
//! and `Export-Csv` of the same selections (also of `Get-View`, whose power states are vim25's
//! `poweredOn`).
//!
//! What the drain does to a running VM is DRS's doing: it is moved (`ha = true`) only when its
//! cluster has DRS enabled and fully automated and the VM's own DRS override is not manual,
//! partially automated or disabled. The cluster's settings come from the VM's own calculated
//! properties (`ClusterDrsEnabled`, `ClusterDrsAutomationLevel`) or from a `Get-Cluster` record
//! of its cluster; without either the drain's effect is unknown, never assumed.
//!
//! The migration facts come from the properties the collector flattens
//! ([`FACT_PROPERTIES`]: `Disks`, `Media`, `Passthrough`, `Networks`, …) and the hosts'
//! `ProcessorType` and `Networks`; an older export gives `cpu_compat` from `EvcMode` and the
//! VM-VM groups from `DrsRules`, and keeps its other strings as evidence.

use super::facts_read;
use super::hyperv_csv;
use super::read::{Ctx, Row, text};
use super::record::{self, Record, is_type_name};
use super::{Format, Parsed};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::model::{CompactString, Host, HostState, Inventory, Platform, Vm, VmFacts, VmState};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const MAX_MEMORY_MB: u64 = super::native::MAX_MEMORY_MB;
const MAX_CPUS: u64 = super::native::MAX_CPUS;

/// The command that exports what this reader reads, for hints.
pub const VM_SELECT: &str = "Get-VM | Select-Object Name, Id, PowerState, NumCpu, MemoryMB, @{n='VMHost';e={$_.VMHost.Name}}, @{n='Cluster';e={$_.VMHost.Parent.Name}}, @{n='DrsAutomationLevel';e={\"$($_.DrsAutomationLevel)\"}}, @{n='ClusterDrsEnabled';e={$_.VMHost.Parent.DrsEnabled}}, @{n='ClusterDrsAutomationLevel';e={\"$($_.VMHost.Parent.DrsAutomationLevel)\"}} (or run examples/collect/powercli.ps1)";

/// The evidence kept on a VM: (evidence key, export property). Datastores, networks, CD/ISO,
/// USB devices, EVC and DRS rules are what a vMotion needs on the destination.
pub const EVIDENCE_KEYS: [(&str, &str); 11] = [
    ("ha_restart_priority", "HARestartPriority"),
    ("datastores", "Datastores"),
    ("networks", "Networks"),
    ("cd_connected", "CdConnected"),
    ("cd_backing", "CdIsoPath"),
    ("usb_devices", "UsbDevices"),
    ("evc_mode", "EvcMode"),
    ("drs_rules", "DrsRules"),
    ("guest_os", "GuestFullName"),
    ("iso_mounted", "HasISOMounted"),
    ("rdm", "HasRDM"),
];

/// The properties of a `Get-VM` record the reader reads, besides [`EVIDENCE_KEYS`].
pub const VM_PROPERTIES: [&str; 13] = [
    "Name",
    "Id",
    "PowerState",
    "NumCpu",
    "MemoryMB",
    "VMHost",
    "Cluster",
    "DrsAutomationLevel",
    "ClusterDrsEnabled",
    "ClusterDrsAutomationLevel",
    "ClusterHAEnabled",
    "Template",
    "MemoryGB",
];

/// The migration facts the collector flattens into a VM record (CONTRACT 7.1).
pub const FACT_PROPERTIES: [&str; 10] = facts_read::FLAT_VM_PROPERTIES;

/// The properties of a `Get-VMHost` record the reader reads (`Networks`: its port groups).
pub const HOST_PROPERTIES: [&str; 7] = [
    "Name",
    "ConnectionState",
    "MemoryTotalMB",
    "NumCpu",
    "ProcessorType",
    "Cluster",
    "Networks",
];

/// The properties of a `Get-Cluster` record the reader reads.
pub const CLUSTER_PROPERTIES: [&str; 4] = ["Name", "HAEnabled", "DrsEnabled", "DrsAutomationLevel"];

/// Top-level keys of the collector's combined document.
pub const COMBINED_KEYS: [&str; 3] = ["VMs", "VMHosts", "Clusters"];

/// Keys that tell a PowerCLI record from the other platforms' (checked before SCVMM's, which
/// shares `VMHost`).
pub fn is_powercli_record(keys: &[String]) -> bool {
    let has = |k: &str| keys.iter().any(|t| t.eq_ignore_ascii_case(k));
    has("NumCpu") && (has("PowerState") || has("ConnectionState") || has("MemoryTotalMB"))
        || has("PowerState") && (has("VMHost") || has("MemoryMB") || has("MemoryGB"))
        || has("DrsAutomationLevel")
        || has("MemoryTotalMB")
        || has("MemoryTotalGB")
}

/// A .NET or PowerCLI type name, which ConvertTo-Json writes for an object nested deeper than
/// `-Depth` (`VMware.VimAutomation.ViCore.Impl.V1.Inventory.VMHostImpl`).
pub fn is_cut_object(s: &str) -> bool {
    let s = s.trim();
    is_type_name(s) || (s.starts_with("VMware.") && s.matches('.').count() >= 3 && !s.contains(' '))
}

/// What kind of object a record is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vm,
    Host,
    Cluster,
}

fn kind_of(row: &dyn Row) -> Option<Kind> {
    let has = |k: &str| row.cell(k).is_some();
    // Get-VMHost objects have a PowerState too: the host's keys are looked for first.
    if has("ConnectionState") || has("MemoryTotalMB") || has("MemoryTotalGB") {
        Some(Kind::Host)
    } else if has("PowerState") || has("VMHost") || has("ESXiHost") {
        Some(Kind::Vm)
    } else if has("DrsEnabled") || has("HAEnabled") || has("DrsAutomationLevel") {
        Some(Kind::Cluster)
    } else {
        None
    }
}

/// The DRS settings of a cluster.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drs {
    pub enabled: Option<bool>,
    pub level: Option<String>,
    pub ha_enabled: Option<bool>,
}

impl Drs {
    /// Whether maintenance mode moves the cluster's running VMs whose own override is
    /// `vm_level` (`None`, `AsSpecifiedByCluster`: the cluster's). `None` when unknown.
    pub fn moves(&self, vm_level: Option<&str>) -> Option<bool> {
        if !self.enabled? {
            return Some(false);
        }
        let own = vm_level
            .map(norm)
            .filter(|l| !l.is_empty() && l != "asspecifiedbycluster");
        let level = match own {
            Some(l) => l,
            None => norm(self.level.as_deref()?),
        };
        match level.as_str() {
            "fullyautomated" => Some(true),
            "manual" | "partiallyautomated" | "disabled" => Some(false),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        let flag = |b: Option<bool>| match b {
            Some(true) => "enabled",
            Some(false) => "disabled",
            None => "unknown",
        };
        let drs = match (self.enabled, &self.level) {
            (Some(true), Some(l)) => format!("DRS enabled, {l}"),
            (d, _) => format!("DRS {}", flag(d)),
        };
        format!("{drs}; vSphere HA {}", flag(self.ha_enabled))
    }
}

fn norm(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Reads one PowerCLI export file.
pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    parse_files(std::slice::from_ref(file))
}

/// Reads several PowerCLI export files as one export, so that `Get-Cluster`'s DRS settings
/// reach `Get-VM`'s VMs.
pub fn parse_files(files: &[SourceFile]) -> Result<Parsed, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut acc = Acc::default();
    let mut warnings = Vec::new();
    for (i, file) in files.iter().enumerate() {
        acc.file = i;
        let first_vm = acc.vms.len();
        let mut ctx = Ctx::new(file);
        let body = file.text.trim_start_matches('\u{feff}').trim_start();
        if body.starts_with('[') || body.starts_with('{') {
            match json_rows(file) {
                Ok((rows, at)) => {
                    acc.collected_at = match (acc.collected_at, at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    for (kind, rec) in &rows {
                        read_row(&mut ctx, *kind, rec, &mut acc);
                    }
                }
                Err(e) => diags.extend(e),
            }
        } else {
            match hyperv_csv::rows(file) {
                Ok(rows) => {
                    for row in &rows {
                        match kind_of(row) {
                            Some(kind) => read_row(&mut ctx, kind, row, &mut acc),
                            None => unknown_record(&mut ctx, row),
                        }
                    }
                }
                Err(e) => diags.extend(e),
            }
        }
        let numbered = acc.vms[first_vm..]
            .iter()
            .filter(|v| v.vm.evidence.contains_key("power_state_number"))
            .count();
        if numbered > 0 {
            let mut d = SourceDiag::plain(
                Code::InventoryField,
                format!(
                    "{}: the power state of {numbered} VM(s) is a number (Windows PowerShell 5.1), read as PowerCLI's PowerState enum: 0 PoweredOff, 1 PoweredOn, 2 Suspended",
                    file.name
                ),
            )
            .with_help("export the names to be sure: @{n='PowerState';e={\"$($_.PowerState)\"}}, or run examples/collect/powercli.ps1");
            d.warning = true;
            ctx.warnings.push(d);
        }
        match ctx.finish(()) {
            Ok(((), w)) => warnings.extend(w),
            Err(e) => diags.extend(e),
        }
    }
    // The exports list each VM once: a repeat is a damaged or concatenated export, and
    // counting the VM twice would make capacity depend on it.
    let mut first: BTreeMap<String, &VmRead> = BTreeMap::new();
    for v in &acc.vms {
        let key = v.vm.key().to_string();
        match first.get(&key) {
            Some(before) => {
                let file = &files[v.file];
                let mut d = SourceDiag::at(
                    Code::InventoryDuplicate,
                    format!(
                        "{}: two VMs share the {} `{key}`",
                        file.name,
                        if v.vm.id.is_some() {
                            "id"
                        } else {
                            "name (and no Id)"
                        }
                    ),
                    file,
                    v.head.clone(),
                    "listed again here",
                )
                .with_help(
                    "export each VM once; files put together from several exports may repeat one",
                );
                if before.file == v.file {
                    d = d.with_label(before.head.clone(), "first listed here");
                }
                diags.push(d);
            }
            None => {
                first.insert(key, v);
            }
        }
    }
    let inventory = build(acc);
    diags.into_result(Parsed {
        inventory,
        format: Format::Powercli,
        warnings,
    })
}

/// The records of a JSON export: a list (or bare object) of one cmdlet's objects, or the
/// combined document's three lists.
#[allow(clippy::type_complexity)]
fn json_rows(
    file: &SourceFile,
) -> Result<(Vec<(Kind, Record<'_>)>, Option<jiff::Timestamp>), Diagnostics> {
    let top = record::parse_top(file)?;
    let mut out = Vec::new();
    let mut diags = Diagnostics::default();
    if top.raw.get().starts_with('{')
        && let Ok(root) = record::record(file, top, String::new())
        && COMBINED_KEYS.iter().any(|k| root.has(k))
    {
        let at = root
            .get("CollectedAt")
            .and_then(|f| f.value().as_str().and_then(|s| s.parse().ok()));
        for (key, kind) in COMBINED_KEYS
            .iter()
            .zip([Kind::Vm, Kind::Host, Kind::Cluster])
        {
            if let Some(f) = root.get(key) {
                match record::records(file, f, key) {
                    Ok(recs) => out.extend(recs.into_iter().map(|r| (kind, r))),
                    Err(e) => diags.extend(e),
                }
            }
        }
        return diags.into_result((out, at));
    }
    for rec in record::records(file, top, "")? {
        match kind_of(&rec) {
            Some(kind) => out.push((kind, rec)),
            None => {
                let d = SourceDiag::at(
                    Code::InventoryField,
                    format!(
                        "{}: {}: neither a Get-VM, a Get-VMHost nor a Get-Cluster object (no PowerState, ConnectionState or DrsEnabled)",
                        file.name,
                        rec.path()
                    ),
                    file,
                    rec.head(),
                    "here",
                )
                .with_help(VM_SELECT);
                diags.push(d);
            }
        }
    }
    diags.into_result((out, None))
}

fn unknown_record(ctx: &mut Ctx, row: &dyn Row) {
    let d = ctx
        .diag(
            Code::InventoryField,
            &row.path(),
            "neither a VM, a host nor a cluster (no PowerState, ConnectionState or DrsEnabled)",
            row.head(),
        )
        .with_help(VM_SELECT);
    ctx.error(d);
}

/// A VM as read, before the cluster settings are joined to it.
struct VmRead {
    vm: Vm,
    /// Where its record starts, in the file at `file` among those read.
    head: std::ops::Range<usize>,
    file: usize,
    cluster: Option<String>,
    own: Option<Drs>,
    vm_level: Option<String>,
}

/// What the files gave, before the cluster settings are joined to the VMs.
#[derive(Default)]
struct Acc {
    /// The file being read, by position.
    file: usize,
    collected_at: Option<jiff::Timestamp>,
    vms: Vec<VmRead>,
    hosts: Vec<Host>,
    clusters: BTreeMap<String, Drs>,
    /// Each host's CPU model (lower-cased host name), for its VMs' evidence.
    host_cpu: BTreeMap<String, String>,
}

fn read_row(ctx: &mut Ctx, kind: Kind, row: &dyn Row, acc: &mut Acc) {
    match kind {
        Kind::Vm => {
            if let Some(mut v) = vm(ctx, row) {
                v.file = acc.file;
                acc.vms.push(v);
            }
        }
        Kind::Host => {
            if let Some(h) = host(ctx, row) {
                if let Some(cpu) = ctx.text(row, "ProcessorType").filter(|s| !s.is_empty()) {
                    acc.host_cpu.insert(h.name.as_str().to_lowercase(), cpu);
                }
                acc.hosts.push(h);
            }
        }
        Kind::Cluster => {
            if let Some(name) = ctx.name(row, &["Name"], "select Name in Get-Cluster's export") {
                let drs = Drs {
                    enabled: ctx.flag(row, "DrsEnabled"),
                    level: level(ctx, row, "DrsAutomationLevel"),
                    ha_enabled: ctx.flag(row, "HAEnabled"),
                };
                acc.clusters.insert(name.to_lowercase(), drs);
            }
        }
    }
}

/// A DRS automation level as text; Windows PowerShell 5.1's integer is not trusted (the
/// enum's numbering is not documented): it is kept as `enum value N`, which no level matches,
/// with a warning.
fn level(ctx: &mut Ctx, row: &dyn Row, key: &str) -> Option<String> {
    let cell = row.cell(key)?;
    match &cell.value {
        Value::String(s) if !s.trim().is_empty() && s.parse::<i64>().is_err() => {
            Some(s.trim().to_string())
        }
        Value::String(s) if s.trim().is_empty() => None,
        v => {
            let raw = text(v).unwrap_or_default();
            let d = ctx
                .diag(
                    Code::InventoryField,
                    &row.path_of(key),
                    &format!(
                        "`{raw}` is an enum number, not a DRS automation level name; what the drain does is read as unknown"
                    ),
                    cell.span,
                )
                .with_help(format!(
                    "export the name: @{{n='{key}';e={{\"$($_.{key})\"}}}}"
                ));
            ctx.warn(d);
            // Kept, so that it decides nothing: an override that cannot be read may be
            // `Disabled`, and must not fall back to the cluster's level.
            Some(format!("enum value {raw}"))
        }
    }
}

/// A name-valued property that may have arrived as a cut-off object's type name: an error at
/// the value when `required`, else a warning; the name otherwise.
fn named(ctx: &mut Ctx, row: &dyn Row, keys: &[&str], help: &str) -> Result<Option<String>, ()> {
    for key in keys {
        let Some(cell) = row.cell(key) else { continue };
        // Within -Depth, the object itself: its Name.
        let value = match &cell.value {
            Value::Object(o) => o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Name"))
                .map_or(Value::Null, |(_, v)| v.clone()),
            v => v.clone(),
        };
        let Some(s) = text(&value) else {
            let d = ctx.diag(
                Code::InventoryTruncated,
                &row.path_of(key),
                "arrived as a nested object, not a name",
                cell.span,
            );
            ctx.error(d.with_help(help.to_string()));
            return Err(());
        };
        if is_cut_object(&s) {
            let d = ctx.diag(
                Code::InventoryTruncated,
                &row.path_of(key),
                &format!(
                    "arrived as the type name {s} (ConvertTo-Json -Depth cut the object off), not a name"
                ),
                cell.span,
            );
            ctx.error(d.with_help(help.to_string()));
            return Err(());
        }
        if !s.trim().is_empty() {
            return Ok(Some(s.trim().to_string()));
        }
    }
    Ok(None)
}

fn vm(ctx: &mut Ctx, row: &dyn Row) -> Option<VmRead> {
    let name = ctx.name(row, &["Name", "VMName"], VM_SELECT)?;
    let host_help = "select the host's name: @{n='VMHost';e={$_.VMHost.Name}}";
    let host = named(
        ctx,
        row,
        &["VMHost", "VMHostName", "ESXiHost", "Host"],
        host_help,
    )
    .ok()?;
    let cluster = named(
        ctx,
        row,
        &["Cluster"],
        "select the cluster's name: @{n='Cluster';e={$_.VMHost.Parent.Name}}",
    )
    .ok()?;
    let mut evidence = BTreeMap::new();
    let state = power_state(ctx, row, &mut evidence);
    let Some(host) = host else {
        // A VM on no host: what the drain does to it cannot be judged. Running, it could be
        // on the host drained: an error rather than a GO without it.
        let d = ctx.diag(
            Code::InventoryField,
            &row.path(),
            &format!("VM {name} has no VMHost"),
            row.head(),
        );
        if state == VmState::Off {
            ctx.warn(d.with_help(host_help));
        } else {
            ctx.error(d.with_help(host_help));
        }
        return None;
    };
    let memory_mb = match row.cell("MemoryMB") {
        Some(_) => mib(ctx, row, "MemoryMB", 1),
        None => mib(ctx, row, "MemoryGB", 1024),
    };
    let vcpus = ctx.count(row, "NumCpu", MAX_CPUS).map(|c| c as u32);
    let id = ctx.text(row, "Id").filter(|s| !s.trim().is_empty());
    for (k, key) in EVIDENCE_KEYS {
        let v = match row.cell(key).map(|c| c.value) {
            Some(Value::Bool(true)) => "True".to_string(),
            Some(v) => text(&v).unwrap_or_default(),
            None => continue,
        };
        // Only what is there: `False`, `0` and empty say nothing worth keeping.
        if !(v.is_empty() || v.eq_ignore_ascii_case("false") || v == "0") {
            evidence.insert(k.to_string(), v);
        }
    }
    let own = if row.cell("ClusterDrsEnabled").is_some()
        || row.cell("ClusterDrsAutomationLevel").is_some()
    {
        Some(Drs {
            enabled: ctx.flag(row, "ClusterDrsEnabled"),
            level: level(ctx, row, "ClusterDrsAutomationLevel"),
            ha_enabled: ctx.flag(row, "ClusterHAEnabled"),
        })
    } else {
        None
    };
    let vm_level = level(ctx, row, "DrsAutomationLevel");
    let template = ctx.flag(row, "Template").unwrap_or(false);
    let facts = vm_facts(ctx, row);
    Some(VmRead {
        head: row.head(),
        file: 0,
        vm: Vm {
            name: name.into(),
            id: id.map(Into::into),
            host: host.into(),
            state,
            ha: None,
            memory_mb,
            vcpus,
            tags: Vec::new(),
            template,
            evidence,
            facts,
        },
        cluster,
        own,
        vm_level,
    })
}

/// PowerCLI's PowerState: the name (`PoweredOn`), vim25's (`poweredOn`, from Get-View) or the
/// Windows PowerShell 5.1 integer (PoweredOff 0, PoweredOn 1, Suspended 2).
fn power_state(ctx: &mut Ctx, row: &dyn Row, evidence: &mut BTreeMap<String, String>) -> VmState {
    let Some(cell) = row.cell("PowerState") else {
        let d = ctx.diag(
            Code::InventoryField,
            &row.path(),
            "missing `PowerState`; the VM's state is unknown",
            row.head(),
        );
        ctx.warn(d.with_help(VM_SELECT));
        evidence.insert("raw_state".into(), "PowerState missing".into());
        return VmState::Unknown;
    };
    let raw = text(&cell.value).unwrap_or_default();
    if let Value::Number(n) = &cell.value {
        evidence.insert("power_state_number".into(), n.to_string());
    }
    let state = match norm(&raw).as_str() {
        "poweredon" | "1" => Some(VmState::Running),
        "poweredoff" | "0" => Some(VmState::Off),
        "suspended" | "2" => Some(VmState::Saved),
        _ => None,
    };
    state.unwrap_or_else(|| {
        evidence.insert("raw_state".into(), format!("PowerState={raw}"));
        let d = ctx.diag(
            Code::InventoryUnknownState,
            &row.path_of("PowerState"),
            &format!("`{raw}` is not a PowerCLI power state preflight knows; read as unknown"),
            cell.span,
        );
        ctx.warn(d);
        VmState::Unknown
    })
}

/// A memory size in MiB from a number of `unit` MiB (PowerCLI's MemoryGB and MemoryTotalMB are
/// decimals: `15.99951171875`); rounded down.
fn mib(ctx: &mut Ctx, row: &dyn Row, key: &str, unit: u64) -> Option<u64> {
    let cell = row.cell(key)?;
    let n = match &cell.value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', ".").parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n.is_finite() && n >= 0.0 && n * unit as f64 <= MAX_MEMORY_MB as f64 => {
            Some((n * unit as f64).floor() as u64)
        }
        _ => {
            let d = ctx.diag(
                Code::InventoryField,
                &row.path_of(key),
                "expected a size from 0 to what a real machine has",
                cell.span,
            );
            ctx.error(d);
            None
        }
    }
}

fn host(ctx: &mut Ctx, row: &dyn Row) -> Option<Host> {
    let name = ctx.name(row, &["Name"], "select Name in Get-VMHost's export")?;
    let cluster = named(
        ctx,
        row,
        &["Cluster"],
        "select the cluster's name: @{n='Cluster';e={$_.Parent.Name}}",
    )
    .ok()?;
    let state = match row.cell("ConnectionState") {
        None => HostState::Up,
        Some(cell) => {
            let raw = text(&cell.value).unwrap_or_default();
            match norm(&raw).as_str() {
                "connected" => HostState::Up,
                "maintenance" => HostState::Maintenance,
                "disconnected" | "notresponding" => HostState::Down,
                _ => {
                    // Fail closed: a host whose state is unknown is not a destination.
                    let d = ctx
                        .diag(
                            Code::InventoryUnknownState,
                            &row.path_of("ConnectionState"),
                            &format!(
                                "`{raw}` is not a host connection state preflight knows; the host is read as down (not a destination)"
                            ),
                            cell.span,
                        )
                        .with_help("export the name: @{n='ConnectionState';e={\"$($_.ConnectionState)\"}}");
                    ctx.warn(d);
                    HostState::Down
                }
            }
        }
    };
    let memory_mb = match row.cell("MemoryTotalMB") {
        Some(_) => mib(ctx, row, "MemoryTotalMB", 1),
        None => mib(ctx, row, "MemoryTotalGB", 1024),
    }
    .filter(|m| *m > 0);
    let cpus = ctx
        .count(row, "NumCpu", MAX_CPUS)
        .filter(|c| *c > 0)
        .map(|c| c as u32);
    Some(Host {
        name: name.into(),
        cluster: cluster.map(Into::into),
        state,
        memory_mb,
        cpus,
        implied: false,
        facts: super::facts_read::host(ctx, row),
    })
}

/// A VM's migration facts: what the collector flattened ([`facts_read::flat_vm`]), else what
/// an older export says: the cluster's `EvcMode` (set: the VM may move between CPU models) and
/// `DrsRules` (`VMAntiAffinity: name; VMAffinity: name`).
fn vm_facts(ctx: &mut Ctx, row: &dyn Row) -> Option<Box<VmFacts>> {
    let mut f = facts_read::flat_vm(ctx, row)
        .map(|b| *b)
        .unwrap_or_default();
    if f.cpu_compat.is_none()
        && let Some(Value::String(evc)) = row.cell("EvcMode").map(|c| c.value)
        && !is_cut_object(&evc)
    {
        f.cpu_compat = Some(!evc.trim().is_empty());
    }
    let has_groups = ["AntiAffinity", "Affinity"]
        .iter()
        .any(|k| row.cell(k).is_some());
    if !has_groups
        && let Some(cell) = row.cell("DrsRules")
        && let Value::String(rules) = &cell.value
    {
        let mut unread = Vec::new();
        for rule in rules.split(';').filter(|r| !r.trim().is_empty()) {
            let Some((kind, name)) = rule.split_once(':') else {
                unread.push(format!("`{}` names no rule kind", rule.trim()));
                continue;
            };
            let name = CompactString::from(name.trim());
            let list = match norm(kind).as_str() {
                "vmantiaffinity" | "antiaffinity" => &mut f.anti_affinity,
                "vmaffinity" | "affinity" => &mut f.affinity,
                _ => continue,
            };
            if name.is_empty() {
                unread.push(format!("a {} rule has an empty name", kind.trim()));
            } else if !list.contains(&name) {
                list.push(name);
            }
        }
        if !unread.is_empty() {
            let d = ctx.diag(
                Code::InventoryField,
                &row.path_of("DrsRules"),
                &format!("{}: those DRS rules are not checked", unread.join("; ")),
                cell.span.clone(),
            );
            ctx.warn(d.with_help("DrsRules lists `Kind: name` pairs separated by `;`, as examples/collect/powercli.ps1 writes them"));
        }
    }
    (f != VmFacts::default()).then(|| Box::new(f))
}

fn build(acc: Acc) -> Inventory {
    let Acc {
        collected_at,
        vms,
        hosts,
        clusters,
        host_cpu,
        ..
    } = acc;
    let mut inv = Inventory {
        platform: Some(Platform::Vsphere),
        collected_at,
        hosts,
        ..Inventory::default()
    };
    let host_cluster: BTreeMap<String, String> = inv
        .hosts
        .iter()
        .filter_map(|h| {
            Some((
                h.name.as_str().to_lowercase(),
                h.cluster.as_ref()?.to_string(),
            ))
        })
        .collect();
    let mut seen_hosts: BTreeSet<String> = inv
        .hosts
        .iter()
        .map(|h| h.name.as_str().to_lowercase())
        .collect();
    for mut r in vms {
        let cluster = r.cluster.clone().or_else(|| {
            host_cluster
                .get(&r.vm.host.as_str().to_lowercase())
                .cloned()
        });
        let drs = r.own.clone().or_else(|| {
            cluster
                .as_ref()
                .and_then(|c| clusters.get(&c.to_lowercase()).cloned())
        });
        r.vm.ha = drs.as_ref().and_then(|d| d.moves(r.vm_level.as_deref()));
        if let Some(d) = &drs {
            r.vm.evidence.insert("drs".into(), d.describe());
        }
        if let Some(l) = &r.vm_level {
            r.vm.evidence.insert("drs_vm_override".into(), l.clone());
        }
        if let Some(c) = &cluster {
            r.vm.evidence.insert("cluster".into(), c.clone());
        }
        if let Some(cpu) = host_cpu.get(&r.vm.host.as_str().to_lowercase()) {
            r.vm.evidence.insert("host_cpu".into(), cpu.clone());
        }
        if seen_hosts.insert(r.vm.host.as_str().to_lowercase()) {
            inv.hosts.push(Host {
                name: r.vm.host.clone(),
                cluster: cluster.map(Into::into),
                state: HostState::Up,
                memory_mb: None,
                cpus: None,
                implied: true,
                facts: Default::default(),
            });
        }
        inv.vms.push(r.vm);
    }
    inv.gaps.extend(super::missing_fields(
        &inv.vms,
        "export each VM's cluster DRS settings (ClusterDrsEnabled, ClusterDrsAutomationLevel) or Get-Cluster's (Name, DrsEnabled, DrsAutomationLevel) with the VMs: only DRS in fully automated mode moves VMs at maintenance",
        "select MemoryMB in Get-VM's export",
    ));
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drs_moves_only_when_fully_automated_for_the_vm() {
        let on = |l: &str| Drs {
            enabled: Some(true),
            level: Some(l.into()),
            ha_enabled: None,
        };
        assert_eq!(on("FullyAutomated").moves(None), Some(true));
        assert_eq!(
            on("FullyAutomated").moves(Some("AsSpecifiedByCluster")),
            Some(true)
        );
        assert_eq!(on("FullyAutomated").moves(Some("Disabled")), Some(false));
        assert_eq!(on("FullyAutomated").moves(Some("Manual")), Some(false));
        assert_eq!(on("Manual").moves(None), Some(false));
        assert_eq!(on("PartiallyAutomated").moves(None), Some(false));
        assert_eq!(on("Weird").moves(None), None);
        let off = Drs {
            enabled: Some(false),
            ..Drs::default()
        };
        assert_eq!(off.moves(Some("FullyAutomated")), Some(false));
        assert_eq!(Drs::default().moves(None), None);
    }

    #[test]
    fn type_names_of_powercli_objects_are_cut_objects() {
        assert!(is_cut_object(
            "VMware.VimAutomation.ViCore.Impl.V1.Inventory.VMHostImpl"
        ));
        assert!(!is_cut_object("esx01.lab.local"));
        assert!(!is_cut_object("VMware.lab"));
    }
}
