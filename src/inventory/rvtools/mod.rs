//! vSphere: RVTools exports, an `.xlsx` workbook or its per-tab CSV files ("export all to
//! csv" writes `RVTools_tabvInfo.csv`, `RVTools_tabvHost.csv`, …).
//!
//! vInfo gives the VMs, vHost the hosts, vCluster the DRS settings that decide what the drain
//! does: `ha = true` when the VM's cluster has DRS enabled and fully automated
//! (RVTools 3.x writes the behaviour as the integer 2, 4.x as `fullyAutomated`), since only
//! then does maintenance mode move it; DRS off, manual or partially automated is `ha = false`;
//! without vCluster (or a VM whose cluster it does not list) HA is unknown, with a gap.
//! vSphere HA (`DAS protection`) moves nothing at maintenance: it is kept as evidence, with
//! `HA Restart Priority`, `Cluster rule(s)` and the migration facts of the other tabs: a
//! connected CD/ISO (vCD), USB devices (vUSB), networks (vNetwork), disks on a datastore one
//! host alone mounts (vDisk with vDatastore), the host's CPU model and EVC mode (vHost).
//! A running VM that lists no host is an error: it may run on the host drained.

mod table;

use super::{Format, Parsed};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::model::{Gap, Host, HostState, Inventory, Platform, Vm, VmState};
use std::collections::{BTreeMap, BTreeSet};
use table::{TRow, Tab, Table};

pub use table::{is_ole, is_zip};

/// RVTools reports memory in MB (3.x) or MiB (4.x): both are 2^20 bytes.
const MAX_MEMORY_MB: u64 = super::native::MAX_MEMORY_MB;
const MAX_CPUS: u64 = super::native::MAX_CPUS;

/// Reads an RVTools `.xlsx` workbook.
pub fn parse_xlsx(name: &str, bytes: &[u8]) -> Result<Parsed, Diagnostics> {
    let tabs = table::read_workbook(name, bytes)?;
    build(tabs)
}

/// Reads one per-tab RVTools CSV file (already decoded).
pub fn parse_csv(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    parse_tabs(std::slice::from_ref(file))
}

/// Reads several per-tab CSV files as one export: vInfo's HA needs vCluster's DRS settings.
pub fn parse_tabs(files: &[SourceFile]) -> Result<Parsed, Diagnostics> {
    let mut tabs = BTreeMap::new();
    let mut diags = Diagnostics::default();
    for file in files {
        match table::read_csv(file) {
            Ok(t) => {
                if let Some(prev) = tabs.get(&t.tab) {
                    let prev: &Table = prev;
                    diags.push(SourceDiag::plain(
                        Code::InventoryDuplicate,
                        format!(
                            "{} and {} are both RVTools {} tabs: give one export's files",
                            prev.file_name(),
                            file.name,
                            t.tab.name()
                        ),
                    ));
                } else {
                    tabs.insert(t.tab, t);
                }
            }
            Err(e) => diags.extend(e),
        }
    }
    let tabs = diags.into_result(tabs)?;
    build(tabs)
}

/// Whether this text is an RVTools per-tab CSV (its header names a known tab's columns).
pub fn is_tab_csv(text: &str) -> bool {
    let text = text.trim_start_matches('\u{feff}');
    // JSON is never a tab, and a one-line export is not scanned whole for a header.
    let first = text.lines().next().unwrap_or("");
    if text.starts_with(['{', '[']) || first.len() > 1 << 16 {
        return false;
    }
    table::csv_header(first).is_some_and(|h| Tab::of_header(&h).is_some())
}

/// What reading several files of one vSphere export together gave (RVTools per-tab CSVs,
/// PowerCLI's or govc's files): each file's position among the inputs and SHA-256, the format,
/// and the one inventory they make.
pub struct TabSet {
    pub files: Vec<(usize, String)>,
    pub format: Format,
    pub parsed: Result<Parsed, Diagnostics>,
}

/// Reads the inventory files that are parts of one vSphere export together, so that they
/// join: RVTools per-tab CSVs (vInfo, vHost, vCluster), else PowerCLI exports (Get-VM,
/// Get-VMHost, Get-Cluster), else govc documents. `None` unless two or more of `paths` are such
/// parts of one format. A file that cannot be read is left to the caller, which reports it.
pub fn read_tab_set(paths: &[String], forced: Option<Format>) -> Option<TabSet> {
    if paths.len() < 2 {
        return None;
    }
    for format in [Format::Rvtools, Format::Powercli, Format::Govc] {
        if forced.is_some_and(|f| f != format) {
            continue;
        }
        let picked: Vec<usize> = (0..paths.len())
            .filter(|&i| part_of(&paths[i], format, forced).unwrap_or(false))
            .collect();
        if picked.len() < 2 {
            continue;
        }
        let mut files = Vec::new();
        let mut sources = Vec::new();
        let mut diags = Diagnostics::default();
        for &i in &picked {
            let bytes = super::load::read_bounded(&paths[i]).ok()?;
            files.push((i, crate::digest::sha256_hex(&bytes)));
            match super::decode(&paths[i], &bytes) {
                Ok(text) => sources.push(SourceFile::new(paths[i].clone(), text)),
                Err(e) => diags.extend(e),
            }
        }
        let parsed = diags.into_result(()).and_then(|()| match format {
            Format::Powercli => super::powercli::parse_files(&sources),
            Format::Govc => super::govc::parse_files(&sources),
            _ => parse_tabs(&sources),
        });
        return Some(TabSet {
            files,
            format,
            parsed,
        });
    }
    None
}

/// Whether the file is a part of an export in `format` (forced, or recognised from its head).
fn part_of(path: &str, format: Format, forced: Option<Format>) -> std::io::Result<bool> {
    if format == Format::Rvtools {
        return looks_like_tab(path);
    }
    let Some(text) = head(path)? else {
        return Ok(false);
    };
    if forced == Some(format) {
        return Ok(true);
    }
    let file = SourceFile::new(path, text);
    Ok(super::detect(&file).is_ok_and(|f| f == format))
}

/// The decoded first 64 KiB of a regular file that is not a workbook; `None` otherwise.
/// Only a regular file is looked at: reading the head of a pipe or device would take those
/// bytes from the read that follows.
fn head(path: &str) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Ok(None);
    }
    let mut head = Vec::new();
    file.take(1 << 16).read_to_end(&mut head)?;
    if is_zip(&head) || is_ole(&head) {
        return Ok(None);
    }
    let (encoding, bom) = encoding_rs::Encoding::for_bom(&head).unwrap_or((encoding_rs::UTF_8, 0));
    let (text, _) = encoding.decode_without_bom_handling(&head[bom..]);
    Ok(Some(text.into_owned()))
}

/// Whether the file's first line is an RVTools tab's header (read from its first 64 KiB).
fn looks_like_tab(path: &str) -> std::io::Result<bool> {
    Ok(head(path)?.is_some_and(|text| is_tab_csv(&text)))
}

/// The DRS settings of a cluster, from vCluster.
#[derive(Debug, Clone)]
struct ClusterFacts {
    ha_enabled: Option<bool>,
    drs_enabled: Option<bool>,
    behavior: Option<String>,
}

impl ClusterFacts {
    /// Whether maintenance mode moves the cluster's running VMs: DRS enabled and fully
    /// automated. `None` when the export cannot tell.
    fn drain_moves(&self) -> Option<bool> {
        match self.drs_enabled? {
            false => Some(false),
            true => match self.behavior.as_deref().map(key) {
                Some(b) if b == "fullyautomated" || b == "2" => Some(true),
                Some(b) if ["manual", "partiallyautomated", "0", "1"].contains(&b.as_str()) => {
                    Some(false)
                }
                _ => None,
            },
        }
    }

    fn describe(&self) -> String {
        let flag = |b: Option<bool>| match b {
            Some(true) => "enabled",
            Some(false) => "disabled",
            None => "unknown",
        };
        let drs = match (self.drs_enabled, &self.behavior) {
            (Some(true), Some(b)) => format!("DRS enabled, {b}"),
            (d, _) => format!("DRS {}", flag(d)),
        };
        format!("{drs}; vSphere HA {}", flag(self.ha_enabled))
    }
}

fn key(s: &str) -> String {
    table::key_of(s, None)
}

struct Reader {
    warnings: Vec<SourceDiag>,
    errors: Diagnostics,
}

impl Reader {
    fn flag(&mut self, t: &Table, row: &TRow, col: Option<usize>) -> Option<bool> {
        let cell = t.get(row, col)?;
        match cell.text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => {
                let d = t.diag(
                    Code::InventoryField,
                    &cell.loc,
                    col,
                    &format!("`{}` is not True or False; read as unknown", cell.text),
                );
                self.warnings.push(warn(d));
                None
            }
        }
    }

    /// A whole number from 0 to `max`; `4096.0` and the Excel dialect's `4096,00` are whole.
    fn count(&mut self, t: &Table, row: &TRow, col: Option<usize>, max: u64) -> Option<u64> {
        let cell = t.get(row, col)?;
        let raw = cell.text.trim();
        let whole = raw
            .split_once(['.', ','])
            .filter(|(_, frac)| !frac.is_empty() && frac.bytes().all(|b| b == b'0'))
            .map_or(raw, |(w, _)| w);
        let msg = match whole.parse::<i128>() {
            Ok(n) if (0..=i128::from(max)).contains(&n) => return Some(n as u64),
            Ok(n) if n < 0 => format!("{n} is negative; expected a whole number from 0"),
            Ok(n) => format!("{n} is more than any real machine has (at most {max})"),
            Err(_) => format!("`{raw}` is not a whole number"),
        };
        let d = t.diag(Code::InventoryField, &cell.loc, col, &msg);
        self.errors.push(d);
        None
    }
}

/// Warns once per column of `wanted` (name, what is lost without it) the tab's header lacks.
fn lacking(r: &mut Reader, t: &Table, wanted: &[(Option<usize>, &str, &str)]) {
    for (col, name, lost) in wanted {
        if col.is_none() {
            let d = t.diag(
                Code::InventoryField,
                &t.header_loc,
                None,
                &format!("the {} tab has no `{name}` column: {lost}", t.tab.name()),
            );
            r.warnings.push(warn(d.with_help(add_column(t.tab, name))));
        }
    }
}

fn warn(mut d: SourceDiag) -> SourceDiag {
    d.warning = true;
    d
}

fn text(t: &Table, row: &TRow, col: Option<usize>) -> Option<String> {
    t.get(row, col)
        .map(|c| c.text.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The tab a column lives in, for a gap's hint.
fn add_column(tab: Tab, column: &str) -> String {
    format!(
        "export RVTools' {} tab with its `{column}` column",
        tab.name()
    )
}

fn build(mut tabs: BTreeMap<Tab, Table>) -> Result<Parsed, Diagnostics> {
    let mut r = Reader {
        warnings: Vec::new(),
        errors: Diagnostics::default(),
    };
    let mut inv = Inventory {
        platform: Some(Platform::Vsphere),
        ..Inventory::default()
    };
    let clusters = tabs.remove(&Tab::Cluster).map(|t| clusters(&mut r, &t));
    let mut facts = Facts {
        cds: tabs.remove(&Tab::Cd).map(|t| cds(&t)).unwrap_or_default(),
        ..Facts::default()
    };
    if let Some(t) = tabs.remove(&Tab::Usb) {
        facts.usb = per_vm(&t, |t, row| {
            let kind = text(t, row, t.col(&["Device Type", "Device Node"]))?;
            let on =
                text(t, row, t.col(&["Connected"])).is_some_and(|c| c.eq_ignore_ascii_case("true"));
            Some(if on {
                format!("{kind} (connected)")
            } else {
                kind
            })
        });
    }
    if let Some(t) = tabs.remove(&Tab::Network) {
        facts.networks = per_vm(&t, |t, row| text(t, row, t.col(&["Network", "Portgroup"])));
    }
    let local = tabs.remove(&Tab::Datastore).map(|t| local_datastores(&t));
    if let (Some(t), Some(local)) = (tabs.remove(&Tab::Disk), &local) {
        facts.local_disks = per_vm(&t, |t, row| {
            let path = text(t, row, t.col(&["Path"]))
                .filter(|p| p.starts_with('['))
                .or_else(|| text(t, row, t.col(&["Disk Path"])))?;
            let ds = path.strip_prefix('[')?.split_once(']')?.0.to_string();
            local.contains(&ds.to_lowercase()).then_some(ds)
        });
    }
    if let Some(t) = tabs.remove(&Tab::Host) {
        (inv.hosts, facts.host_cpu) = hosts(&mut r, &t);
    }
    if let Some(t) = tabs.remove(&Tab::Info) {
        vms(&mut r, &t, clusters.as_ref(), &facts, &mut inv);
    }
    r.errors.into_result(())?;
    Ok(Parsed {
        inventory: inv,
        format: Format::Rvtools,
        warnings: r.warnings,
    })
}

fn clusters(r: &mut Reader, t: &Table) -> BTreeMap<String, ClusterFacts> {
    let name = t.col(&["Name", "Cluster"]);
    let ha = t.col(&["HA enabled"]);
    let drs = t.col(&["DRS enabled"]);
    let behavior = t.col(&["DRS default VM behavior"]);
    lacking(
        r,
        t,
        &[
            (name, "Name", "its clusters cannot be joined to vInfo's VMs"),
            (
                drs,
                "DRS enabled",
                "what the drain does to the VMs is unknown",
            ),
            (
                behavior,
                "DRS default VM behavior",
                "what the drain does to the VMs is unknown",
            ),
        ],
    );
    let mut out = BTreeMap::new();
    for row in &t.rows {
        let Some(n) = text(t, row, name) else {
            continue;
        };
        let facts = ClusterFacts {
            ha_enabled: r.flag(t, row, ha),
            drs_enabled: r.flag(t, row, drs),
            behavior: text(t, row, behavior),
        };
        // A missing column was warned about once, above.
        if facts.drs_enabled == Some(true) && behavior.is_some() && facts.drain_moves().is_none() {
            let loc = t.get(row, behavior).map_or(&row.loc, |c| &c.loc);
            let d = t.diag(
                Code::InventoryField,
                loc,
                behavior,
                &format!(
                    "cluster {n}: DRS default VM behavior `{}` is not one preflight knows; what the drain does to its VMs is unknown",
                    facts.behavior.as_deref().unwrap_or("")
                ),
            );
            r.warnings.push(warn(d));
        }
        out.insert(n.to_lowercase(), facts);
    }
    out
}

/// Migration facts from the tabs besides vInfo, by VM (`VM UUID` when the tab has it, else
/// the exact name) or by host (lower-cased name): kept as evidence, only where present.
#[derive(Default)]
struct Facts {
    cds: BTreeMap<String, Vec<String>>,
    usb: BTreeMap<String, Vec<String>>,
    networks: BTreeMap<String, Vec<String>>,
    /// The datastores of a VM's disks that only one host mounts.
    local_disks: BTreeMap<String, Vec<String>>,
    /// A host's CPU model and current EVC mode.
    host_cpu: BTreeMap<String, (Option<String>, Option<String>)>,
}

/// `fact` of each row of a per-VM tab, gathered by VM (`VM UUID`, else exact name), each
/// value once.
fn per_vm(
    t: &Table,
    fact: impl Fn(&Table, &TRow) -> Option<String>,
) -> BTreeMap<String, Vec<String>> {
    let vm = t.col(&["VM", "VM Name"]);
    let uuid = t.col(&["VM UUID"]);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in &t.rows {
        let Some(key) = text(t, row, uuid).or_else(|| text(t, row, vm)) else {
            continue;
        };
        if let Some(v) = fact(t, row) {
            let list = out.entry(key).or_default();
            if !list.contains(&v) {
                list.push(v);
            }
        }
    }
    out
}

/// The datastores (lower-cased) that one host alone mounts: vDatastore's `# Hosts`, else the
/// count of its `Hosts` list.
fn local_datastores(t: &Table) -> BTreeSet<String> {
    let name = t.col(&["Name"]);
    let count = t.col(&["# Hosts"]);
    let hosts = t.col(&["Hosts"]);
    let mut out = BTreeSet::new();
    for row in &t.rows {
        let Some(n) = text(t, row, name) else {
            continue;
        };
        let seen = text(t, row, count)
            .and_then(|c| {
                c.split(['.', ','])
                    .next()
                    .and_then(|w| w.trim().parse::<u64>().ok())
            })
            .or_else(|| {
                text(t, row, hosts)
                    .map(|h| h.split(',').filter(|x| !x.trim().is_empty()).count() as u64)
            });
        if seen == Some(1) {
            out.insert(n.to_lowercase());
        }
    }
    out
}

/// The connected CD/DVD devices of each VM, by `VM UUID` when vCD has it, else by exact name.
fn cds(t: &Table) -> BTreeMap<String, Vec<String>> {
    let vm = t.col(&["VM", "VM Name"]);
    let uuid = t.col(&["VM UUID"]);
    let connected = t.col(&["Connected"]);
    let kind = t.col(&["Device Type"]);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in &t.rows {
        let Some(key) = text(t, row, uuid).or_else(|| text(t, row, vm)) else {
            continue;
        };
        if text(t, row, connected).is_some_and(|c| c.eq_ignore_ascii_case("true")) {
            let what = text(t, row, kind).unwrap_or_else(|| "connected".to_string());
            out.entry(key).or_default().push(what);
        }
    }
    out
}

#[allow(clippy::type_complexity)]
fn hosts(
    r: &mut Reader,
    t: &Table,
) -> (
    Vec<Host>,
    BTreeMap<String, (Option<String>, Option<String>)>,
) {
    let cpu_model = t.col(&["CPU Model"]);
    let evc = t.col(&["Current EVC"]);
    let mut cpus_of = BTreeMap::new();
    let name = t.col(&["Host", "Name", "Host Name"]);
    let cluster = t.col(&["Cluster"]);
    let maint = t.col(&["in Maintenance Mode", "Maintenance Mode"]);
    let memory = t.col(&["# Memory", "Memory", "# Memory MiB", "# Memory MB"]);
    let cores = t.col(&["# Cores", "# CPU"]);
    lacking(
        r,
        t,
        &[
            (
                name,
                "Host",
                "its hosts are not read; vInfo implies them, with unknown capacity",
            ),
            (
                memory,
                "# Memory",
                "host memory is unknown, so capacity cannot be checked",
            ),
            (
                maint,
                "in Maintenance Mode",
                "hosts already in maintenance read as up (RVTools 3.x lacks the column)",
            ),
        ],
    );
    let mut out = Vec::new();
    for row in &t.rows {
        let Some(n) = text(t, row, name) else {
            continue;
        };
        let model = text(t, row, cpu_model);
        let mode = text(t, row, evc);
        if model.is_some() || mode.is_some() {
            cpus_of.insert(n.to_lowercase(), (model, mode));
        }
        let state = match r.flag(t, row, maint) {
            Some(true) => HostState::Maintenance,
            _ => HostState::Up,
        };
        out.push(Host {
            name: n.into(),
            cluster: text(t, row, cluster).map(Into::into),
            state,
            memory_mb: r.count(t, row, memory, MAX_MEMORY_MB).filter(|m| *m > 0),
            cpus: r
                .count(t, row, cores, MAX_CPUS)
                .filter(|c| *c > 0)
                .map(|c| c as u32),
            implied: false,
            facts: Default::default(),
        });
    }
    (out, cpus_of)
}

fn vms(
    r: &mut Reader,
    t: &Table,
    clusters: Option<&BTreeMap<String, ClusterFacts>>,
    facts: &Facts,
    inv: &mut Inventory,
) {
    let vm = t.col(&["VM", "VM Name"]);
    let power = t.col(&["Powerstate", "Power state"]);
    let host = t.col(&["Host"]);
    let needed = [(vm, "VM"), (power, "Powerstate"), (host, "Host")];
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(c, _)| c.is_none())
        .map(|(_, n)| *n)
        .collect();
    if !missing.is_empty() {
        let d = t
            .diag(
                Code::InventoryFormat,
                &t.header_loc,
                None,
                &format!(
                    "the vInfo header row lacks {}: not an RVTools vInfo tab preflight recognises",
                    missing.join(", ")
                ),
            )
            .with_help("export vInfo from RVTools with its VM, Powerstate and Host columns");
        r.errors.push(d);
        return;
    }
    let template = t.col(&["Template"]);
    let cpus = t.col(&["CPUs", "Num CPU"]);
    let memory = t.col(&["Memory", "Memory MiB", "Memory MB"]);
    let cluster = t.col(&["Cluster"]);
    let uuid = t.col(&["VM UUID", "VM ID"]);
    let uuid_only = t.col(&["VM UUID"]);
    let evidence_cols: Vec<(&str, Option<usize>)> = vec![
        ("das_protection", t.col(&["DAS protection"])),
        ("ha_restart_priority", t.col(&["HA Restart Priority"])),
        ("cluster_rules", t.col(&["Cluster rule(s)"])),
        ("cluster_rule_names", t.col(&["Cluster rule name(s)"])),
        ("ft_state", t.col(&["FT State"])),
    ];
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut known_hosts: BTreeSet<String> = inv
        .hosts
        .iter()
        .map(|h| h.name.to_lowercase().to_string())
        .collect();
    let (mut no_cluster_tab, mut unlisted, mut undecided) = (0, 0, 0);
    for row in &t.rows {
        let Some(name) = text(t, row, vm) else {
            let d = t.diag(
                Code::InventoryField,
                &row.loc,
                vm,
                "a row without a VM name",
            );
            r.errors.push(d);
            continue;
        };
        let Some(host_name) = text(t, row, host) else {
            // An orphaned or inaccessible VM: RVTools lists it on no host. Powered off, it
            // keeps nothing from a drain; running (or in an unknown state), it may run on the
            // host drained, and a verdict without it could be a wrong GO.
            let loc = t.get(row, vm).map_or(&row.loc, |c| &c.loc);
            let off = text(t, row, power).is_some_and(|p| p == "poweredOff");
            if off {
                let d = t.diag(
                    Code::InventoryField,
                    loc,
                    host,
                    &format!("VM {name} has no Host; it is powered off and not judged on any host"),
                );
                r.warnings.push(warn(d));
            } else {
                let d = t
                    .diag(
                        Code::InventoryField,
                        loc,
                        host,
                        &format!(
                            "VM {name} has no Host but is {}: it may run on a host being drained",
                            text(t, row, power).unwrap_or_else(|| "in no power state".into())
                        ),
                    )
                    .with_help("export vInfo again once vCenter places the VM (an orphaned or inaccessible VM lists no host), or remove it from the inventory");
                r.errors.push(d);
            }
            continue;
        };
        let mut evidence = BTreeMap::new();
        let raw_power = text(t, row, power).unwrap_or_default();
        let state = match raw_power.as_str() {
            "poweredOn" => VmState::Running,
            "poweredOff" => VmState::Off,
            "suspended" => VmState::Saved,
            _ => {
                evidence.insert("raw_state".to_string(), format!("Powerstate={raw_power}"));
                let loc = t.get(row, power).map_or(&row.loc, |c| &c.loc);
                let d = t.diag(
                    Code::InventoryUnknownState,
                    loc,
                    power,
                    &format!("`{raw_power}` is not a vSphere power state preflight knows; read as unknown"),
                );
                r.warnings.push(warn(d));
                VmState::Unknown
            }
        };
        let is_template = r.flag(t, row, template).unwrap_or(false);
        let vm_cluster = text(t, row, cluster);
        let ha = match (cluster, clusters) {
            (None, _) => None,
            (Some(_), None) => {
                no_cluster_tab += 1;
                None
            }
            (Some(_), Some(clusters)) => match &vm_cluster {
                // A standalone host: nothing migrates its VMs.
                None => {
                    evidence.insert("drs".to_string(), "standalone host, no cluster".to_string());
                    Some(false)
                }
                Some(c) => match clusters.get(&c.to_lowercase()) {
                    Some(facts) => {
                        evidence.insert("drs".to_string(), facts.describe());
                        let moves = facts.drain_moves();
                        if moves.is_none() {
                            undecided += 1;
                        }
                        moves
                    }
                    None => {
                        unlisted += 1;
                        None
                    }
                },
            },
        };
        if let Some(c) = &vm_cluster {
            evidence.insert("cluster".to_string(), c.clone());
        }
        for (k, col) in &evidence_cols {
            if let Some(v) = text(t, row, *col) {
                evidence.insert((*k).to_string(), v);
            }
        }
        let vm_uuid = text(t, row, uuid_only);
        for (key, map) in [
            ("cd_connected", &facts.cds),
            ("usb_devices", &facts.usb),
            ("networks", &facts.networks),
            ("datastores_local", &facts.local_disks),
        ] {
            let found = vm_uuid
                .as_ref()
                .and_then(|u| map.get(u))
                .or_else(|| map.get(&name));
            if let Some(list) = found.filter(|l| !l.is_empty()) {
                evidence.insert(key.to_string(), list.join("; "));
            }
        }
        if let Some((model, mode)) = facts.host_cpu.get(&host_name.to_lowercase()) {
            if let Some(m) = model {
                evidence.insert("host_cpu".to_string(), m.clone());
            }
            if let Some(m) = mode {
                evidence.insert("evc_mode".to_string(), m.clone());
            }
        }
        let id = text(t, row, uuid);
        let key = id.clone().unwrap_or_else(|| name.clone());
        // vSphere names are case-sensitive: `Web01` and `web01` are two VMs.
        if !seen.insert(key.clone()) {
            let loc = t.get(row, vm).map_or(&row.loc, |c| &c.loc);
            let d = t.diag(
                Code::InventoryDuplicate,
                loc,
                vm,
                &format!(
                    "two VMs share the {} `{key}`",
                    if id.is_some() {
                        "id"
                    } else {
                        "name (and no VM UUID or VM ID)"
                    }
                ),
            );
            r.errors.push(d);
            continue;
        }
        if known_hosts.insert(host_name.to_lowercase()) {
            inv.hosts.push(Host {
                name: host_name.clone().into(),
                cluster: vm_cluster.clone().map(Into::into),
                state: HostState::Up,
                memory_mb: None,
                cpus: None,
                implied: true,
                facts: Default::default(),
            });
        }
        inv.vms.push(Vm {
            name: name.into(),
            id: id.map(Into::into),
            host: host_name.into(),
            state,
            ha,
            memory_mb: r.count(t, row, memory, MAX_MEMORY_MB),
            vcpus: r.count(t, row, cpus, MAX_CPUS).map(|c| c as u32),
            tags: Vec::new(),
            template: is_template,
            evidence,
            facts: None,
        });
    }
    let n = inv.vms.len();
    let gap = |field: &str, count: usize, hint: String| Gap {
        field: field.to_string(),
        count,
        hint,
    };
    if cluster.is_none() && n > 0 {
        inv.gaps
            .push(gap("ha", n, add_column(Tab::Info, "Cluster")));
    }
    if no_cluster_tab > 0 {
        inv.gaps.push(gap(
            "ha",
            no_cluster_tab,
            "export RVTools' vCluster tab (DRS enabled, DRS default VM behavior): only DRS in fully automated mode moves VMs at maintenance".to_string(),
        ));
    }
    if unlisted > 0 {
        inv.gaps.push(gap(
            "ha",
            unlisted,
            "the VMs' clusters are missing from the vCluster tab; export vInfo and vCluster together".to_string(),
        ));
    }
    if undecided > 0 {
        inv.gaps.push(gap(
            "ha",
            undecided,
            add_column(Tab::Cluster, "DRS default VM behavior"),
        ));
    }
    if memory.is_none() && n > 0 {
        inv.gaps
            .push(gap("memory_mb", n, add_column(Tab::Info, "Memory")));
    }
    if template.is_none() && n > 0 {
        inv.gaps
            .push(gap("template", n, add_column(Tab::Info, "Template")));
    }
}
