//! vSphere: RVTools exports, an `.xlsx` workbook or its per-tab CSV files ("export all to
//! csv" writes `RVTools_tabvInfo.csv`, `RVTools_tabvHost.csv`, …).
//!
//! vInfo gives the VMs, vHost the hosts, vCluster the DRS settings that decide what the drain
//! does: `ha = true` when the VM's cluster has DRS enabled and fully automated
//! (RVTools 3.x writes the behaviour as the integer 2, 4.x as `fullyAutomated`), since only
//! then does maintenance mode move it; DRS off, manual or partially automated is `ha = false`;
//! without vCluster (or a VM whose cluster it does not list) HA is unknown, with a gap.
//! vSphere HA (`DAS protection`) moves nothing at maintenance: it is kept as evidence, with
//! `HA Restart Priority` and `Cluster rule(s)`. The other tabs give the migration facts
//! (CONTRACT 7.1): connected CD/ISO media (vCD), USB devices as passthrough (vUSB), networks
//! (vNetwork), disks with their size, shared when vDatastore says more than one host mounts
//! their datastore (vDisk with vDatastore), the host's CPU model and, from its EVC mode, each
//! VM's `cpu_compat` (vHost), and DRS VM-VM rules as `anti_affinity`/`affinity` (vInfo). A tab
//! the export lacks leaves its fact unknown for every VM (a gap), never none.
//! A running VM that lists no host is an error: it may run on the host drained.

mod table;

use super::{Format, Parsed};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::model::{
    FileRef, Gap, Host, HostFacts, HostState, Inventory, Platform, Vm, VmFacts, VmState,
};
use compact_str::CompactString;
use std::collections::{BTreeMap, BTreeSet};
use table::{TRow, Tab, Table};

pub use table::{is_ole, is_zip};

/// RVTools reports memory in MB (3.x) or MiB (4.x): both are 2^20 bytes.
const MAX_MEMORY_MB: u64 = super::native::MAX_MEMORY_MB;
const MAX_CPUS: u64 = super::native::MAX_CPUS;
/// No virtual disk is larger than 1 PiB.
const MAX_DISK_MB: u64 = 1 << 30;

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
    let shared = tabs.remove(&Tab::Datastore).map(|t| datastores(&t));
    let mut facts = Facts {
        media: tabs.remove(&Tab::Cd).map(|t| media(&t, shared.as_ref())),
        ..Facts::default()
    };
    if let Some(t) = tabs.remove(&Tab::Usb) {
        facts.usb = Some(per_vm(&t, |t, row| {
            let kind = text(t, row, t.col(&["Device Type", "Device Node"]))?;
            Some(CompactString::from(format!("usb:{kind}")))
        }));
    }
    if let Some(t) = tabs.remove(&Tab::Network) {
        let col = t.col(&["Network", "Portgroup"]);
        if col.is_some() {
            facts.networks = Some(per_vm(&t, |t, row| text(t, row, col).map(Into::into)));
        } else {
            lacking(
                &mut r,
                &t,
                &[(col, "Network", "the VMs' networks are unknown")],
            );
        }
    }
    if let Some(t) = tabs.remove(&Tab::Disk) {
        facts.disks = Some(disks(&mut r, &t, shared.as_ref()));
    }
    if let Some(t) = tabs.remove(&Tab::Snapshot) {
        facts.snapshots = Some(snapshots(&t));
    }
    let host_networks = host_networks(&mut r, &mut tabs);
    if let Some(t) = tabs.remove(&Tab::Host) {
        (inv.hosts, facts.host_cpu) = hosts(&mut r, &t);
    }
    if let Some(t) = tabs.remove(&Tab::Info) {
        vms(&mut r, &t, clusters.as_ref(), &facts, &mut inv);
    }
    if let Some(nets) = host_networks {
        for h in &mut inv.hosts {
            let mut list = nets
                .get(h.name.to_lowercase().as_str())
                .cloned()
                .unwrap_or_default();
            list.sort();
            list.dedup();
            h.facts.networks = Some(list);
        }
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
/// the exact name) or by host (lower-cased name). A tab the export lacks is `None`: the fact is
/// unknown for every VM; a VM the tab does not list has none.
#[derive(Default)]
struct Facts {
    media: Option<BTreeMap<String, Vec<FileRef>>>,
    usb: Option<BTreeMap<String, Vec<CompactString>>>,
    networks: Option<BTreeMap<String, Vec<CompactString>>>,
    disks: Option<BTreeMap<String, Vec<FileRef>>>,
    /// How many snapshots each VM has (vSnapshot lists one row per snapshot).
    snapshots: Option<BTreeMap<String, u32>>,
    /// A host's CPU model and current EVC mode (`None` without the column; `Some("")` when the
    /// host has no EVC mode).
    host_cpu: BTreeMap<String, (Option<String>, Option<String>)>,
}

impl Facts {
    fn any(&self) -> bool {
        self.media.is_some()
            || self.usb.is_some()
            || self.networks.is_some()
            || self.disks.is_some()
            || self.snapshots.is_some()
            || self.host_cpu.values().any(|(_, evc)| evc.is_some())
    }
}

/// `fact` of each row of a per-VM tab, gathered by VM (`VM UUID`, else exact name), each
/// value once.
fn per_vm<T: PartialEq>(
    t: &Table,
    mut fact: impl FnMut(&Table, &TRow) -> Option<T>,
) -> BTreeMap<String, Vec<T>> {
    let vm = t.col(&["VM", "VM Name"]);
    let uuid = t.col(&["VM UUID"]);
    let mut out: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for row in &t.rows {
        let Some(key) = text(t, row, uuid).or_else(|| text(t, row, vm)) else {
            continue;
        };
        let list = out.entry(key).or_default();
        if let Some(v) = fact(t, row)
            && !list.contains(&v)
        {
            list.push(v);
        }
    }
    out
}

/// The snapshots of each VM (`VM UUID`, else exact name): vSnapshot has a row per snapshot.
fn snapshots(t: &Table) -> BTreeMap<String, u32> {
    let vm = t.col(&["VM", "VM Name"]);
    let uuid = t.col(&["VM UUID"]);
    let mut out: BTreeMap<String, u32> = BTreeMap::new();
    for row in &t.rows {
        if let Some(key) = text(t, row, uuid).or_else(|| text(t, row, vm)) {
            let n = out.entry(key).or_default();
            *n = n.saturating_add(1);
        }
    }
    out
}

/// The networks each host (lower-cased name) offers: its standard port groups (vPort
/// `Port Group`) and the port groups of the distributed switches it is a member of (dvPort
/// `Port` of a `Switch` whose dvSwitch row lists the host in `Host members`). `None` unless the
/// export has all three tabs, which RVTools writes even when empty: with one missing, a VM's
/// port group could look absent from every host. vSwitch names the switches, not the port
/// groups a VM attaches to, and adds nothing here.
fn host_networks(
    r: &mut Reader,
    tabs: &mut BTreeMap<Tab, Table>,
) -> Option<BTreeMap<String, Vec<CompactString>>> {
    tabs.remove(&Tab::Switch);
    let port = tabs.remove(&Tab::Port);
    let dv_switch = tabs.remove(&Tab::DvSwitch);
    let dv_port = tabs.remove(&Tab::DvPort);
    let present = [
        (Tab::Port, port.is_some()),
        (Tab::DvSwitch, dv_switch.is_some()),
        (Tab::DvPort, dv_port.is_some()),
    ];
    let (Some(port), Some(dv_switch), Some(dv_port)) = (port, dv_switch, dv_port) else {
        let have: Vec<&str> = present.iter().filter(|p| p.1).map(|p| p.0.name()).collect();
        if !have.is_empty() {
            let lacking: Vec<&str> = present
                .iter()
                .filter(|p| !p.1)
                .map(|p| p.0.name())
                .collect();
            r.warnings.push(warn(SourceDiag::plain(
                Code::InventoryField,
                format!(
                    "the export has {} but not {}: the networks the hosts offer are not read",
                    have.join(", "),
                    lacking.join(", ")
                ),
            ).with_help("export vPort, dvSwitch and dvPort together (RVTools writes them all, empty when there is no such switch)")));
        }
        return None;
    };
    let mut out: BTreeMap<String, Vec<CompactString>> = BTreeMap::new();
    let host = port.col(&["Host"]);
    let group = port.col(&["Port Group", "Portgroup"]);
    lacking(
        r,
        &port,
        &[
            (host, "Host", "the hosts' networks are unknown"),
            (group, "Port Group", "the hosts' networks are unknown"),
        ],
    );
    let switch = dv_switch.col(&["Switch"]);
    let members = dv_switch.col(&["Host members"]);
    lacking(
        r,
        &dv_switch,
        &[
            (switch, "Switch", "the hosts' networks are unknown"),
            (members, "Host members", "the hosts' networks are unknown"),
        ],
    );
    let dv_name = dv_port.col(&["Port"]);
    let dv_of = dv_port.col(&["Switch"]);
    lacking(
        r,
        &dv_port,
        &[
            (dv_name, "Port", "the hosts' networks are unknown"),
            (dv_of, "Switch", "the hosts' networks are unknown"),
        ],
    );
    if [host, group, switch, members, dv_name, dv_of].contains(&None) {
        return None;
    }
    for row in &port.rows {
        if let (Some(h), Some(g)) = (text(&port, row, host), text(&port, row, group)) {
            out.entry(h.to_lowercase()).or_default().push(g.into());
        }
    }
    // Each distributed switch's port groups, then each member host offers them.
    let mut groups: BTreeMap<String, Vec<CompactString>> = BTreeMap::new();
    for row in &dv_port.rows {
        if let (Some(g), Some(sw)) = (text(&dv_port, row, dv_name), text(&dv_port, row, dv_of)) {
            groups.entry(sw).or_default().push(g.into());
        }
    }
    for row in &dv_switch.rows {
        let (Some(sw), Some(hosts)) = (
            text(&dv_switch, row, switch),
            text(&dv_switch, row, members),
        ) else {
            continue;
        };
        let Some(list) = groups.get(&sw) else {
            continue;
        };
        for h in hosts.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            out.entry(h.to_lowercase())
                .or_default()
                .extend(list.iter().cloned());
        }
    }
    Some(out)
}

/// Whether each datastore (lower-cased name) is shared: vDatastore's `# Hosts` (else the
/// count of its `Hosts` list) above one. A datastore whose count is unreadable is absent.
fn datastores(t: &Table) -> BTreeMap<String, bool> {
    let name = t.col(&["Name"]);
    let count = t.col(&["# Hosts"]);
    let hosts = t.col(&["Hosts"]);
    let mut out = BTreeMap::new();
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
        if let Some(seen) = seen.filter(|s| *s > 0) {
            out.insert(n.to_lowercase(), seen > 1);
        }
    }
    out
}

/// A datastore path (`[ds] dir/file`) as a file: shared as vDatastore says, unknown when it
/// does not list the datastore. `[] /usr/lib/vmware/isoimages/…` is a file of the host itself.
fn datastore_file(path: &str, shared: Option<&BTreeMap<String, bool>>) -> FileRef {
    let ds = path
        .strip_prefix('[')
        .and_then(|p| p.split_once(']'))
        .map(|(ds, _)| ds.trim().to_lowercase());
    let is_shared = match ds.as_deref() {
        Some("") => Some(false),
        Some(ds) => shared.and_then(|s| s.get(ds).copied()),
        None => None,
    };
    FileRef {
        path: path.into(),
        shared: is_shared,
        size_mb: None,
    }
}

/// The connected CD/DVD media of each VM: an ISO (`ISO [ds] path`) shared as its datastore is,
/// a host or client device (`host:`/`client:`) never shared. A disconnected drive holds nothing.
fn media(t: &Table, shared: Option<&BTreeMap<String, bool>>) -> BTreeMap<String, Vec<FileRef>> {
    let connected = t.col(&["Connected"]);
    let kind = t.col(&["Device Type"]);
    per_vm(t, |t, row| {
        if !text(t, row, connected).is_some_and(|c| c.eq_ignore_ascii_case("true")) {
            return None;
        }
        let what = text(t, row, kind).unwrap_or_else(|| "unknown device".to_string());
        if let Some(iso) = what.strip_prefix("ISO ") {
            return Some(datastore_file(iso.trim(), shared));
        }
        let prefix = if what.to_ascii_lowercase().starts_with("host") {
            "host"
        } else {
            "client"
        };
        Some(FileRef {
            path: format!("{prefix}:{what}").into(),
            shared: Some(false),
            size_mb: None,
        })
    })
}

/// The virtual disks of each VM (vDisk `Path`, `Capacity MiB`), shared as vDatastore says.
fn disks(
    r: &mut Reader,
    t: &Table,
    shared: Option<&BTreeMap<String, bool>>,
) -> BTreeMap<String, Vec<FileRef>> {
    let path = t.col(&["Path"]);
    let old_path = t.col(&["Disk Path"]);
    let capacity = t.col(&["Capacity MiB", "Capacity MB"]);
    per_vm(t, |t, row| {
        let p = text(t, row, path)
            .filter(|p| p.starts_with('['))
            .or_else(|| text(t, row, old_path).filter(|p| p.starts_with('[')))?;
        let mut file = datastore_file(&p, shared);
        file.size_mb = r.count(t, row, capacity, MAX_DISK_MB);
        Some(file)
    })
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
        // With the column, an empty cell is a host without EVC.
        let mode = evc.map(|_| text(t, row, evc).unwrap_or_default());
        if model.is_some() || mode.is_some() {
            cpus_of.insert(n.to_lowercase(), (model.clone(), mode));
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
            facts: HostFacts {
                networks: None,
                cpu: model.map(Into::into),
            },
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
    let rule_kinds = t.col(&["Cluster rule(s)"]);
    let rule_names = t.col(&["Cluster rule name(s)"]);
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
        let vm_facts = vm_facts(
            r,
            t,
            row,
            (rule_kinds, rule_names),
            facts,
            (vm_uuid.as_deref(), &name, &host_name),
        );
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
            facts: vm_facts,
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

/// The facts of one vInfo row: what the other tabs say of the VM (by `VM UUID`, else exact
/// name), its host's EVC mode and its DRS VM-VM rules. `None` when the export carries no fact.
fn vm_facts(
    r: &mut Reader,
    t: &Table,
    row: &TRow,
    rules: (Option<usize>, Option<usize>),
    facts: &Facts,
    (uuid, name, host): (Option<&str>, &str, &str),
) -> Option<Box<VmFacts>> {
    fn of<T: Clone>(
        map: &Option<BTreeMap<String, Vec<T>>>,
        uuid: Option<&str>,
        name: &str,
    ) -> Option<Vec<T>> {
        let map = map.as_ref()?;
        let found = uuid.and_then(|u| map.get(u)).or_else(|| map.get(name));
        Some(found.cloned().unwrap_or_default())
    }
    let mut f = VmFacts {
        media: of(&facts.media, uuid, name),
        disks: of(&facts.disks, uuid, name),
        passthrough: of(&facts.usb, uuid, name),
        networks: of(&facts.networks, uuid, name),
        checkpoints: facts.snapshots.as_ref().map(|s| {
            uuid.and_then(|u| s.get(u))
                .or_else(|| s.get(name))
                .copied()
                .unwrap_or(0)
        }),
        ..VmFacts::default()
    };
    if let Some((_, Some(evc))) = facts.host_cpu.get(&host.to_lowercase()) {
        f.cpu_compat = Some(!evc.is_empty());
    }
    rules_of(r, t, row, rules, &mut f);
    (f != VmFacts::default() || facts.any()).then(|| Box::new(f))
}

/// The DRS rules vInfo lists for a VM: `Cluster rule(s)` gives each rule's kind and
/// `Cluster rule name(s)` its name, both comma-separated and in the same order. A VM-VM
/// anti-affinity rule is an `anti_affinity` group, an affinity rule an `affinity` group; a
/// kind preflight does not know, or lists that do not pair up, is warned about at the cell.
fn rules_of(
    r: &mut Reader,
    t: &Table,
    row: &TRow,
    (kinds, names): (Option<usize>, Option<usize>),
    f: &mut VmFacts,
) {
    let Some(raw) = text(t, row, kinds) else {
        return;
    };
    let split = |s: &str| -> Vec<String> {
        s.split([',', ';'])
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    };
    let kind_list = split(&raw);
    let name_list = text(t, row, names).map(|n| split(&n)).unwrap_or_default();
    let loc = t.get(row, kinds).map_or(&row.loc, |c| &c.loc);
    if kind_list.len() != name_list.len() {
        let d = t.diag(
            Code::InventoryField,
            loc,
            kinds,
            &format!(
                "`Cluster rule(s)` lists {} rule(s) but `Cluster rule name(s)` {}: the VM's DRS rules are not read",
                kind_list.len(),
                name_list.len()
            ),
        );
        r.warnings.push(warn(d));
        return;
    }
    for (kind, rule) in kind_list.iter().zip(name_list) {
        let k: String = kind
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let list = match k.as_str() {
            "antiaffinity" | "vmantiaffinity" => &mut f.anti_affinity,
            "affinity" | "vmaffinity" => &mut f.affinity,
            _ => {
                let d = t.diag(
                    Code::InventoryField,
                    loc,
                    kinds,
                    &format!(
                        "DRS rule `{rule}` is of kind `{kind}`, which preflight does not read: its constraint is not checked"
                    ),
                );
                r.warnings.push(warn(d));
                continue;
            }
        };
        let rule = CompactString::from(rule);
        if !list.contains(&rule) {
            list.push(rule);
        }
    }
}
