//! vSphere through govc (govmomi's CLI): `govc vm.info -json '*'` (`{"virtualMachines": [...]}`,
//! or `VirtualMachines` from older govc), `govc host.info -json '*'` (`hostSystems`), and the
//! clusters' `configurationEx` from `govc object.collect -json`, each alone or combined into the
//! one document `examples/collect/govc.sh` writes:
//!
//! ```json
//! {"preflight_govc": 1, "vm_info": {...}, "host_info": {...},
//!  "clusters": [{"name": "CL01", "ref": "ClusterComputeResource:domain-c7", "config": [...]}]}
//! ```
//!
//! A plain JSON list of `mo.VirtualMachine` (what govmomi programs marshal) is read too. Keys
//! are matched without case: govc wrote Go's field names (`Runtime.PowerState`) before it
//! took vim25's JSON names (`runtime.powerState`). A VM's host is a managed object reference
//! (`host-12`, `ha-host`): the host export gives its name; without it the reference stands
//! for the name, with a warning.
//!
//! DRS decides what maintenance does with a running VM (see `powercli`): the cluster's
//! `drsConfig` (`enabled`, `defaultVmBehavior`) and the VM's entry in `drsVmConfig`.

use super::powercli::Drs;
use super::record::{self, Record};
use super::{Format, Parsed};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::model::{
    CompactString, FileRef, Host, HostState, Inventory, Platform, Vm, VmFacts, VmState,
    is_type_name,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

const MAX_MEMORY_MB: u64 = super::native::MAX_MEMORY_MB;
const MAX_CPUS: u64 = super::native::MAX_CPUS;
/// No virtual disk is larger than 1 PiB.
const MAX_DISK_MB: u64 = 1 << 30;

const HELP: &str =
    "export with examples/collect/govc.sh, or govc vm.info -json '*' and govc host.info -json '*'";

/// Top-level keys that only govc's documents have.
pub const TOP_KEYS: [&str; 5] = [
    "preflight_govc",
    "virtualMachines",
    "hostSystems",
    "vm_info",
    "host_info",
];

/// Whether JSON records with these keys are govmomi managed objects.
pub fn is_govc_record(keys: &[String]) -> bool {
    let has = |k: &str| keys.iter().any(|t| t.eq_ignore_ascii_case(k));
    has("Self") && (has("Summary") || has("Runtime") || has("Config"))
}

/// Whether a top-level key names one of govc's documents.
pub fn is_govc_top(key: &str) -> bool {
    TOP_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// A case-insensitive walk down `path` of a JSON value; `null` and `""` are absent.
fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut cur = v;
    for key in path {
        let obj = cur.as_object()?;
        cur = obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)?;
    }
    match cur {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        v => Some(v),
    }
}

/// The first of `paths` present.
fn first<'v>(v: &'v Value, paths: &[&[&str]]) -> Option<&'v Value> {
    paths.iter().find_map(|p| at(v, p))
}

fn string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A managed object reference's value: `{"Type": "HostSystem", "Value": "host-12"}` gives
/// `host-12`; `HostSystem:host-12` (govc ls -i) gives `host-12` too.
fn moref(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Object(_) => string(at(v?, &["Value"])),
        Value::String(s) => Some(s.rsplit(':').next().unwrap_or(s).to_string()),
        _ => None,
    }
}

/// The first object found under `key` (any case), searched depth first: the place of
/// `drsConfig` differs between govc's outputs (`configurationEx.drsConfig`, a property set's
/// `val.drsConfig`).
fn find<'v>(v: &'v Value, key: &str, depth: usize) -> Option<&'v Value> {
    if depth > 12 {
        return None;
    }
    match v {
        Value::Object(o) => {
            if let Some((_, found)) = o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return Some(found);
            }
            o.values().find_map(|x| find(x, key, depth + 1))
        }
        Value::Array(a) => a.iter().find_map(|x| find(x, key, depth + 1)),
        _ => None,
    }
}

fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn whole(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One object of the export, built, with where it is.
struct Obj {
    value: Value,
    span: Range<usize>,
    path: String,
}

/// What one file gave.
#[derive(Default)]
struct Read {
    collected_at: Option<jiff::Timestamp>,
    vms: Vec<Obj>,
    hosts: Vec<Obj>,
    clusters: Vec<Obj>,
    networks: Vec<Obj>,
}

pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    parse_files(std::slice::from_ref(file))
}

/// Reads several govc documents as one export (a vm.info, a host.info, clusters).
pub fn parse_files(files: &[SourceFile]) -> Result<Parsed, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut warnings = Vec::new();
    let mut reads = Vec::new();
    for file in files {
        match read_file(file) {
            Ok(r) => reads.push((file, r)),
            Err(e) => diags.extend(e),
        }
    }
    // Each VM once (see `powercli`): by its reference, within and across the files.
    let mut first: BTreeMap<String, ()> = BTreeMap::new();
    for (file, read) in &reads {
        for o in &read.vms {
            let Some(r) = moref(at(&o.value, &["self"])) else {
                continue;
            };
            if first.insert(r.clone(), ()).is_some() {
                diags.push(
                    SourceDiag::at(
                        Code::InventoryDuplicate,
                        format!("{}: {}: VM `{r}` is listed twice", file.name, o.path),
                        file,
                        o.span.start..o.span.start + 1,
                        "listed again here",
                    )
                    .with_help("export each VM once"),
                );
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let inventory = build(&reads, &mut warnings, &mut diags);
    diags.into_result(Parsed {
        inventory,
        format: Format::Govc,
        warnings,
    })
}

fn objs(
    file: &SourceFile,
    rec: Option<record::Field<'_>>,
    path: &str,
) -> Result<Vec<Obj>, Diagnostics> {
    let Some(f) = rec else { return Ok(Vec::new()) };
    let list = record::list(file, f, path)?;
    let mut out = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        let r = list.record(file, i)?;
        out.push(obj(file, &r));
    }
    Ok(out)
}

fn obj(file: &SourceFile, r: &Record) -> Obj {
    let span = r.span.0..r.span.1;
    let value = file
        .text
        .get(span.clone())
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null);
    let path = if r.path.is_empty() {
        "the object".to_string()
    } else {
        r.path.clone()
    };
    Obj { value, span, path }
}

/// The objects under `list` (`virtualMachines`) of govc's own document, or of the collector's
/// `key` (`vm_info`) that holds one such document or a list of them (one per batch of VMs).
fn wrapped(
    file: &SourceFile,
    root: &Record,
    key: &str,
    list: &str,
) -> Result<Vec<Obj>, Diagnostics> {
    let Some(f) = root.get(key) else {
        return objs(file, root.get(list), list);
    };
    let docs = record::records(file, f, key)?;
    let mut out = Vec::new();
    for doc in &docs {
        let path = format!("{}.{list}", doc.path);
        out.extend(objs(file, doc.get(list), &path)?);
    }
    Ok(out)
}

fn read_file(file: &SourceFile) -> Result<Read, Diagnostics> {
    let top = record::parse_top(file)?;
    let mut read = Read::default();
    if top.raw.get().starts_with('[') {
        read.vms = objs(file, Some(top), "")?;
        return Ok(read);
    }
    let root = record::record(file, top, String::new())?;
    read.vms = wrapped(file, &root, "vm_info", "virtualMachines")?;
    read.hosts = wrapped(file, &root, "host_info", "hostSystems")?;
    read.clusters = objs(file, root.get("clusters"), "clusters")?;
    read.networks = objs(file, root.get("networks"), "networks")?;
    read.collected_at = root
        .get("collected_at")
        .and_then(|f| f.value().as_str().and_then(|s| s.parse().ok()));
    if read.vms.is_empty() && read.hosts.is_empty() && read.clusters.is_empty() {
        return Err(SourceDiag::at(
            Code::InventoryFormat,
            format!(
                "{}: no virtualMachines, hostSystems or clusters: not a govc export preflight reads",
                file.name
            ),
            file,
            root.head(),
            "here",
        )
        .with_help(HELP)
        .into());
    }
    Ok(read)
}

fn diag(file: &SourceFile, o: &Obj, msg: &str) -> SourceDiag {
    SourceDiag::at(
        Code::InventoryField,
        format!("{}: {}: {msg}", file.name, o.path),
        file,
        o.span.start..o.span.start + 1,
        "here",
    )
}

fn warn(mut d: SourceDiag) -> SourceDiag {
    d.warning = true;
    d
}

fn build(
    reads: &[(&SourceFile, Read)],
    warnings: &mut Vec<SourceDiag>,
    diags: &mut Diagnostics,
) -> Inventory {
    let mut inv = Inventory {
        platform: Some(Platform::Vsphere),
        collected_at: reads.iter().filter_map(|r| r.1.collected_at).min(),
        ..Inventory::default()
    };
    // Clusters by moref and by name.
    let mut clusters: BTreeMap<String, (String, Drs, BTreeMap<String, String>)> = BTreeMap::new();
    for (file, read) in reads {
        for c in &read.clusters {
            let name = string(first(&c.value, &[&["name"], &["Name"]]))
                .or_else(|| string(find(&c.value, "name", 0)));
            let Some(name) = name else {
                diags.push(diag(file, c, "a cluster without a name").with_help(HELP));
                continue;
            };
            let r = moref(at(&c.value, &["ref"])).unwrap_or_else(|| name.clone());
            let drs_config = find(&c.value, "drsConfig", 0);
            let das = find(&c.value, "dasConfig", 0);
            let drs = Drs {
                enabled: flag(drs_config.and_then(|d| at(d, &["enabled"]))),
                level: string(drs_config.and_then(|d| at(d, &["defaultVmBehavior"]))),
                ha_enabled: flag(das.and_then(|d| at(d, &["enabled"]))),
            };
            let mut overrides = BTreeMap::new();
            if let Some(Value::Array(list)) = find(&c.value, "drsVmConfig", 0) {
                for o in list {
                    let Some(vm) = moref(at(o, &["key"])) else {
                        continue;
                    };
                    let behavior = match flag(at(o, &["enabled"])) {
                        Some(false) => "disabled".to_string(),
                        _ => string(at(o, &["behavior"])).unwrap_or_default(),
                    };
                    overrides.insert(vm, behavior);
                }
            }
            clusters.insert(r, (name, drs, overrides));
        }
    }
    // Hosts by moref.
    let mut host_names: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    // Each host's CPU model, by reference, for its VMs' evidence.
    let mut host_cpu: BTreeMap<String, String> = BTreeMap::new();
    let mut places = Places {
        net_names: network_names(reads),
        ..Places::default()
    };
    for (file, read) in reads {
        for h in &read.hosts {
            let v = &h.value;
            let Some(name) = string(first(v, &[&["name"], &["summary", "config", "name"]])) else {
                diags.push(diag(file, h, "a host without a name").with_help(HELP));
                continue;
            };
            let parent = moref(at(v, &["parent"]));
            let cluster = parent
                .as_ref()
                .and_then(|p| clusters.get(p))
                .map(|c| c.0.clone());
            let maint = flag(first(
                v,
                &[
                    &["runtime", "inMaintenanceMode"],
                    &["summary", "runtime", "inMaintenanceMode"],
                ],
            ));
            let conn = string(first(
                v,
                &[
                    &["runtime", "connectionState"],
                    &["summary", "runtime", "connectionState"],
                ],
            ));
            let state = match (maint, conn.as_deref()) {
                (Some(true), _) => HostState::Maintenance,
                (_, Some("disconnected" | "notResponding")) => HostState::Down,
                (Some(false), Some("connected") | None) => HostState::Up,
                _ => {
                    warnings.push(warn(diag(
                        file,
                        h,
                        &format!(
                            "host {name}: maintenance mode or connection state unknown ({}); read as down (not a destination)",
                            conn.as_deref().unwrap_or("none")
                        ),
                    )));
                    HostState::Down
                }
            };
            let bytes = whole(first(
                v,
                &[
                    &["summary", "hardware", "memorySize"],
                    &["hardware", "memorySize"],
                ],
            ));
            let memory_mb = bytes
                .map(super::read::bytes_to_mib)
                .filter(|m| *m > 0 && *m <= MAX_MEMORY_MB);
            let cpus = whole(first(
                v,
                &[
                    &["summary", "hardware", "numCpuCores"],
                    &["hardware", "cpuInfo", "numCpuCores"],
                ],
            ))
            .filter(|c| *c > 0 && *c <= MAX_CPUS)
            .map(|c| c as u32);
            let cpu = string(first(
                v,
                &[
                    &["summary", "hardware", "cpuModel"],
                    &["hardware", "cpuPkg", "description"],
                ],
            ))
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
            if let Some(Value::Array(list)) = at(v, &["datastore"]) {
                let counts = places.datastore_hosts.get_or_insert_default();
                let mine: BTreeSet<String> = refs(Some(&Value::Array(list.clone())))
                    .into_iter()
                    .collect();
                for ds in mine {
                    *counts.entry(ds).or_default() += 1;
                }
            }
            let networks = match at(v, &["network"]) {
                Some(list @ Value::Array(_)) => {
                    let mut names: Vec<CompactString> = refs(Some(list))
                        .iter()
                        .map(|r| places.network(r).into())
                        .collect();
                    names.sort();
                    names.dedup();
                    Some(names)
                }
                _ => None,
            };
            if let Some(r) = moref(at(v, &["self"])) {
                if let Some(cpu) = &cpu {
                    host_cpu.insert(r.clone(), cpu.clone());
                }
                host_names.insert(r, (name.clone(), cluster.clone()));
            }
            inv.hosts.push(Host {
                name: name.into(),
                cluster: cluster.map(Into::into),
                state,
                memory_mb,
                cpus,
                implied: false,
                facts: crate::model::HostFacts {
                    networks,
                    cpu: cpu.map(Into::into),
                },
            });
        }
    }
    // DRS rules, by VM reference: VM-VM (anti-)affinity groups and VM-Host must rules.
    let mut rules: BTreeMap<String, VmFacts> = BTreeMap::new();
    for (file, read) in reads {
        for c in &read.clusters {
            drs_rules(file, c, &host_names, &mut rules, warnings);
        }
    }
    let mut known: BTreeSet<String> = inv
        .hosts
        .iter()
        .map(|h| h.name.as_str().to_lowercase())
        .collect();
    let mut by_ref = BTreeSet::new();
    for (file, read) in reads {
        let mut untyped = 0usize;
        for o in &read.vms {
            let v = &o.value;
            let Some(name) = string(first(
                v,
                &[
                    &["name"],
                    &["summary", "config", "name"],
                    &["config", "name"],
                ],
            )) else {
                diags.push(diag(file, o, "a VM without a name").with_help(HELP));
                continue;
            };
            let mut evidence = BTreeMap::new();
            let raw = string(first(
                v,
                &[
                    &["runtime", "powerState"],
                    &["summary", "runtime", "powerState"],
                ],
            ));
            let state = match raw.as_deref() {
                Some("poweredOn") => VmState::Running,
                Some("poweredOff") => VmState::Off,
                Some("suspended") => VmState::Saved,
                other => {
                    evidence.insert(
                        "raw_state".to_string(),
                        format!("runtime.powerState={}", other.unwrap_or("")),
                    );
                    let mut d = diag(
                        file,
                        o,
                        &format!(
                            "VM {name}: power state `{}` is not one preflight knows; read as unknown",
                            other.unwrap_or("")
                        ),
                    );
                    d.code = Code::InventoryUnknownState;
                    warnings.push(warn(d));
                    VmState::Unknown
                }
            };
            let host_ref = moref(first(
                v,
                &[&["runtime", "host"], &["summary", "runtime", "host"]],
            ));
            let Some(host_ref) = host_ref else {
                let d = diag(file, o, &format!("VM {name} has no runtime.host"));
                if state == VmState::Off {
                    warnings.push(warn(d));
                } else {
                    diags
                        .push(d.with_help("a VM that runs must be on a host: export runtime.host"));
                }
                continue;
            };
            if let Some(cpu) = host_cpu.get(&host_ref) {
                evidence.insert("host_cpu".to_string(), cpu.clone());
            }
            let (host, cluster) = match host_names.get(&host_ref) {
                Some((h, c)) => (h.clone(), c.clone()),
                None => {
                    by_ref.insert(host_ref.clone());
                    (host_ref.clone(), None)
                }
            };
            let vm_ref = moref(at(v, &["self"]));
            let template = flag(first(
                v,
                &[&["config", "template"], &["summary", "config", "template"]],
            ))
            .unwrap_or(false);
            let dev_facts = match device_facts(v, &places) {
                Ok(f) => f,
                Err(Unread::Untyped) => {
                    untyped += 1;
                    None
                }
                Err(Unread::Bad(why)) => {
                    warnings.push(warn(diag(
                        file,
                        o,
                        &format!(
                            "VM {name}: {why}: its disks, media, passed-through devices and networks are unknown"
                        ),
                    )));
                    None
                }
            };
            let memory_mb = whole(first(
                v,
                &[
                    &["config", "hardware", "memoryMB"],
                    &["summary", "config", "memorySizeMB"],
                ],
            ))
            .filter(|m| *m <= MAX_MEMORY_MB);
            let vcpus = whole(first(
                v,
                &[
                    &["config", "hardware", "numCPU"],
                    &["summary", "config", "numCpu"],
                ],
            ))
            .filter(|c| *c <= MAX_CPUS)
            .map(|c| c as u32);
            let id = string(first(
                v,
                &[
                    &["config", "instanceUuid"],
                    &["summary", "config", "instanceUuid"],
                ],
            ))
            .or_else(|| {
                string(first(
                    v,
                    &[&["config", "uuid"], &["summary", "config", "uuid"]],
                ))
            })
            .or(vm_ref.clone());
            let ha = match cluster
                .as_ref()
                .and_then(|c| clusters.values().find(|x| &x.0 == c))
            {
                Some((_, drs, overrides)) => {
                    let own = vm_ref.as_ref().and_then(|r| overrides.get(r));
                    evidence.insert("drs".into(), drs.describe());
                    if let Some(o) = own {
                        evidence.insert("drs_vm_override".into(), o.clone());
                    }
                    drs.moves(own.map(String::as_str))
                }
                None => None,
            };
            if let Some(c) = &cluster {
                evidence.insert("cluster".into(), c.clone());
            }
            if known.insert(host.to_lowercase()) {
                inv.hosts.push(Host {
                    name: host.clone().into(),
                    cluster: cluster.clone().map(Into::into),
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
                host: host.into(),
                state,
                ha,
                memory_mb,
                vcpus,
                tags: Vec::new(),
                template,
                evidence,
                facts: vm_facts(vm_ref.as_ref().and_then(|r| rules.get(r)), dev_facts),
            });
        }
        if untyped > 0 {
            warnings.push(warn(SourceDiag::plain(
                Code::InventoryField,
                format!(
                    "{}: the devices of {untyped} VM(s) carry no type (`_typeName`): their disks, media, passed-through devices and networks are unknown",
                    file.name
                ),
            ).with_help("export with a govc that writes vim25 JSON (0.30 or later): examples/collect/govc.sh")));
        }
    }
    if !by_ref.is_empty() {
        let refs: Vec<&str> = by_ref.iter().map(String::as_str).take(5).collect();
        warnings.push(warn(SourceDiag::plain(
            Code::InventoryField,
            format!(
                "{}: the VMs' hosts are known only by their references ({}): export govc host.info -json with the VMs to name them; --host must name the reference meanwhile",
                reads.first().map_or("", |r| r.0.name.as_str()),
                refs.join(", ")
            ),
        )));
    }
    inv.gaps.extend(super::missing_fields(
        &inv.vms,
        "export the clusters' configurationEx (drsConfig) and host.info with the VMs (examples/collect/govc.sh): only DRS in fully automated mode moves VMs at maintenance",
        "export config.hardware.memoryMB (govc vm.info -json)",
    ));
    inv
}

/// The references in a list value (`[{"type": "VirtualMachine", "value": "vm-101"}]`).
fn refs(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| moref(Some(x))).collect(),
        _ => Vec::new(),
    }
}

fn push_once(list: &mut Vec<CompactString>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.into());
    }
}

/// A cluster's DRS rules (`configurationEx.rule`, typed by vim25's `_typeName`) as facts of
/// the VMs they name: `ClusterAntiAffinityRuleSpec` → `anti_affinity`,
/// `ClusterAffinityRuleSpec` → `affinity`, a mandatory `ClusterVmHostRuleInfo` with an
/// affine host group → `allowed_hosts` (the groups from `configurationEx.group`). A disabled
/// rule counts for nothing; a rule preflight cannot read is a warning at the cluster.
fn drs_rules(
    file: &SourceFile,
    c: &Obj,
    host_names: &BTreeMap<String, (String, Option<String>)>,
    out: &mut BTreeMap<String, VmFacts>,
    warnings: &mut Vec<SourceDiag>,
) {
    let Some(Value::Array(list)) = find(&c.value, "rule", 0) else {
        return;
    };
    let groups: BTreeMap<String, &Value> = match find(&c.value, "group", 0) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|g| Some((string(at(g, &["name"]))?, g)))
            .collect(),
        _ => BTreeMap::new(),
    };
    for r in list {
        if flag(at(r, &["enabled"])) == Some(false) {
            continue;
        }
        let kind = string(at(r, &["_typeName"])).unwrap_or_default();
        let name = match string(at(r, &["name"])) {
            Some(n) => n,
            None => {
                // A nameless rule must not join every other nameless rule's group: it is
                // told apart by its key, or not read.
                let key = whole(at(r, &["key"]));
                let what = match key {
                    Some(k) => format!("it is read as `DRS rule {k}`"),
                    None => "it has no key either; its constraint is not checked".to_string(),
                };
                warnings.push(warn(diag(
                    file,
                    c,
                    &format!("a DRS rule ({kind}) has an empty name: {what}"),
                )));
                match key {
                    Some(k) => format!("DRS rule {k}"),
                    None => continue,
                }
            }
        };
        let unread = |why: &str| {
            warn(diag(
                file,
                c,
                &format!("DRS rule `{name}`: {why}; its constraint is not checked"),
            ))
        };
        match kind.as_str() {
            "ClusterAntiAffinityRuleSpec" => {
                for vm in refs(at(r, &["vm"])) {
                    push_once(&mut out.entry(vm).or_default().anti_affinity, &name);
                }
            }
            "ClusterAffinityRuleSpec" => {
                for vm in refs(at(r, &["vm"])) {
                    push_once(&mut out.entry(vm).or_default().affinity, &name);
                }
            }
            "ClusterVmHostRuleInfo" => {
                if flag(at(r, &["mandatory"])) != Some(true) {
                    continue;
                }
                let Some(host_group) = string(at(r, &["affineHostGroupName"])) else {
                    warnings.push(unread("a must-not-run-on rule is not read"));
                    continue;
                };
                let hosts = groups.get(&host_group).map(|g| {
                    let members = refs(at(g, &["host"]));
                    // With host.info, a member it does not list is no host of the inventory:
                    // the VMs may run only on the members that are.
                    let unknown: Vec<&str> = members
                        .iter()
                        .filter(|r| !host_names.is_empty() && !host_names.contains_key(*r))
                        .map(String::as_str)
                        .collect();
                    if !unknown.is_empty() {
                        warnings.push(warn(diag(
                            file,
                            c,
                            &format!(
                                "DRS rule `{name}`: host group `{host_group}` names {}, which host.info does not list: no VM can move there",
                                unknown.join(", ")
                            ),
                        ).with_help("export host.info for every host of the cluster (examples/collect/govc.sh)")));
                    }
                    let mut h: Vec<CompactString> = members
                        .into_iter()
                        .map(|r| host_names.get(&r).map_or(r, |n| n.0.clone()).into())
                        .collect();
                    h.sort();
                    h
                });
                let vms = string(at(r, &["vmGroupName"]))
                    .and_then(|g| groups.get(&g).map(|g| refs(at(g, &["vm"]))));
                let (Some(hosts), Some(vms)) = (hosts, vms) else {
                    warnings.push(unread("it names a group configurationEx.group lacks"));
                    continue;
                };
                for vm in vms {
                    let f = out.entry(vm).or_default();
                    if f.allowed_hosts.is_empty() {
                        f.allowed_hosts = hosts.clone();
                    } else {
                        f.allowed_hosts.retain(|h| hosts.contains(h));
                        if f.allowed_hosts.is_empty() {
                            f.allowed_hosts
                                .push("(no host satisfies its DRS rules)".into());
                        }
                    }
                }
            }
            "" => warnings.push(unread(
                "its type is not exported (`_typeName`; export with a govc that writes vim25 JSON)",
            )),
            other => warnings.push(unread(&format!("rule type `{other}` is not read"))),
        }
    }
}

/// What the clusters' hosts say of the devices' places: the hosts mounting each datastore
/// (by reference) and each network's name (by reference).
#[derive(Default)]
struct Places {
    /// How many exported hosts mount each datastore; `None` when no host lists its datastores.
    datastore_hosts: Option<BTreeMap<String, usize>>,
    /// Network and port-group names by reference (`network-12`, `dvportgroup-31`).
    net_names: BTreeMap<String, String>,
}

impl Places {
    /// Whether a file on datastore `r` is on storage more than one host reaches.
    fn shared(&self, r: Option<&str>) -> Option<bool> {
        let hosts = self.datastore_hosts.as_ref()?;
        match hosts.get(r?).copied().unwrap_or(0) {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        }
    }

    /// A network's name, else its reference (the hosts list the same references, so the two
    /// still match).
    fn network(&self, r: &str) -> String {
        self.net_names
            .get(r)
            .cloned()
            .unwrap_or_else(|| r.to_string())
    }
}

/// The devices of a VM (`config.hardware.device`), or `None` when the export lacks them.
fn devices(v: &Value) -> Option<&Vec<Value>> {
    match first(v, &[&["config", "hardware", "device"]])? {
        Value::Array(a) => Some(a),
        _ => None,
    }
}

fn type_name(d: &Value) -> Option<&str> {
    at(d, &["_typeName"]).and_then(Value::as_str)
}

/// The names the export gives its networks: the collector's `networks` (each
/// `govc object.collect -json -type n / name` update: `obj` and the `name` in its
/// `changeSet`, or `propSet`), and the standard networks the VMs' adapters name with their
/// reference.
fn network_names(reads: &[(&SourceFile, Read)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (_, read) in reads {
        for n in &read.networks {
            let v = &n.value;
            let Some(r) = moref(first(v, &[&["obj"], &["self"], &["ref"]])) else {
                continue;
            };
            let name = string(at(v, &["name"])).or_else(|| {
                let props = match first(v, &[&["changeSet"], &["propSet"]]) {
                    Some(Value::Array(a)) => a.as_slice(),
                    _ => &[],
                };
                props
                    .iter()
                    .find(|p| string(at(p, &["name"])).as_deref() == Some("name"))
                    .and_then(|p| string(at(p, &["val"])))
            });
            if let Some(name) = name {
                out.insert(r, name);
            }
        }
        for o in &read.vms {
            for d in devices(&o.value).into_iter().flatten() {
                let backing = at(d, &["backing"]);
                if let (Some(r), Some(name)) = (
                    moref(backing.and_then(|b| at(b, &["network"]))),
                    string(backing.and_then(|b| at(b, &["deviceName"]))),
                ) {
                    out.entry(r).or_insert(name);
                }
            }
        }
    }
    out
}

/// A byte count as MiB, rounded up.
fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// What one VM's devices say: its disks, connected media, passed-through devices and
/// networks, and its snapshot count. `Ok(None)` when the export lacks the devices; `Err` with
/// the reason when they cannot be read (govc before vim25 JSON writes no device types).
fn device_facts(v: &Value, places: &Places) -> Result<Option<VmFacts>, Unread> {
    let Some(list) = devices(v) else {
        return Ok(None);
    };
    if list.iter().any(|d| type_name(d).is_none()) {
        return Err(Unread::Untyped);
    }
    let mut disks = Vec::new();
    let mut media = Vec::new();
    let mut passthrough: Vec<CompactString> = Vec::new();
    let mut networks: Vec<CompactString> = Vec::new();
    for d in list {
        let kind = type_name(d).unwrap_or_default();
        let backing = at(d, &["backing"]);
        let b_kind = backing.and_then(type_name).unwrap_or_default();
        let b_str = |key: &str| string(backing.and_then(|b| at(b, &[key])));
        let label = string(at(d, &["deviceInfo", "label"])).unwrap_or_else(|| kind.to_string());
        let ds = moref(backing.and_then(|b| at(b, &["datastore"])));
        match kind {
            "VirtualDisk" => {
                let Some(path) = b_str("fileName") else {
                    continue;
                };
                if is_type_name(&path) {
                    return Err(Unread::Bad(format!(
                        "{label}: the file name `{path}` is a type name, not a path"
                    )));
                }
                let size = whole(at(d, &["capacityInBytes"]))
                    .filter(|b| *b > 0)
                    .or_else(|| whole(at(d, &["capacityInKB"])).map(|k| k.saturating_mul(1024)))
                    .map(mib)
                    .filter(|m| *m <= MAX_DISK_MB);
                disks.push(FileRef {
                    shared: places.shared(ds.as_deref()),
                    path: path.into(),
                    size_mb: size,
                });
            }
            "VirtualCdrom" | "VirtualFloppy" => {
                if flag(at(d, &["connectable", "connected"])) != Some(true) {
                    continue;
                }
                let file = if b_kind.contains("Remote") {
                    FileRef {
                        path: format!(
                            "client:{}",
                            b_str("deviceName").unwrap_or_else(|| label.clone())
                        )
                        .into(),
                        shared: Some(false),
                        size_mb: None,
                    }
                } else if let Some(path) = b_str("fileName") {
                    FileRef {
                        shared: places.shared(ds.as_deref()),
                        path: path.into(),
                        size_mb: None,
                    }
                } else {
                    FileRef {
                        path: format!(
                            "host:{}",
                            b_str("deviceName").unwrap_or_else(|| label.clone())
                        )
                        .into(),
                        shared: Some(false),
                        size_mb: None,
                    }
                };
                media.push(file);
            }
            "VirtualUSB" => {
                let what = b_str("deviceName").unwrap_or_else(|| label.clone());
                push_once(&mut passthrough, &format!("usb:{what}"));
            }
            "VirtualPCIPassthrough" => {
                let what = b_str("id")
                    .or_else(|| b_str("vgpu").map(|g| format!("vgpu {g}")))
                    .or_else(|| b_str("deviceName"))
                    .unwrap_or_else(|| label.clone());
                push_once(&mut passthrough, &format!("pci:{what}"));
            }
            _ => {}
        }
        let is_nic = b_kind.starts_with("VirtualEthernetCard") || at(d, &["macAddress"]).is_some();
        if !is_nic {
            continue;
        }
        if kind == "VirtualSriovEthernetCard" {
            let what = string(at(d, &["sriovBacking", "physicalFunctionBacking", "id"]))
                .unwrap_or_else(|| label.clone());
            push_once(&mut passthrough, &format!("sriov:{what}"));
        }
        let net = if let Some(key) = string(backing.and_then(|b| at(b, &["port", "portgroupKey"])))
        {
            Some(places.network(&key))
        } else if let Some(r) = moref(backing.and_then(|b| at(b, &["network"]))) {
            Some(places.network(&r))
        } else if let Some(name) = b_str("deviceName") {
            Some(name)
        } else {
            b_str("opaqueNetworkId")
        };
        match net {
            Some(n) => push_once(&mut networks, &n),
            None => {
                return Err(Unread::Bad(format!("{label} names no network")));
            }
        }
    }
    let checkpoints = match first(v, &[&["snapshot", "rootSnapshotList"]]) {
        Some(Value::Array(roots)) => Some(count_snapshots(roots, 0)),
        Some(_) => None,
        None => Some(0),
    };
    Ok(Some(VmFacts {
        disks: Some(disks),
        media: Some(media),
        passthrough: Some(passthrough),
        networks: Some(networks),
        checkpoints,
        ..VmFacts::default()
    }))
}

/// The snapshots of a snapshot tree.
fn count_snapshots(list: &[Value], depth: usize) -> u32 {
    if depth > 64 {
        return 0;
    }
    list.iter()
        .map(|s| {
            let children = match at(s, &["childSnapshotList"]) {
                Some(Value::Array(c)) => count_snapshots(c, depth + 1),
                _ => 0,
            };
            children.saturating_add(1)
        })
        .fold(0u32, u32::saturating_add)
}

/// Why a VM's devices are not read.
enum Unread {
    /// govc before vim25 JSON: no device says what it is.
    Untyped,
    /// A device that cannot be what it claims.
    Bad(String),
}

/// A VM's facts: its DRS rules' and its devices'.
fn vm_facts(rules: Option<&VmFacts>, dev: Option<VmFacts>) -> Option<Box<VmFacts>> {
    let f = match (rules, dev) {
        (None, None) => return None,
        (Some(r), None) => r.clone(),
        (None, Some(d)) => d,
        (Some(r), Some(d)) => VmFacts {
            anti_affinity: r.anti_affinity.clone(),
            affinity: r.affinity.clone(),
            allowed_hosts: r.allowed_hosts.clone(),
            ..d
        },
    };
    Some(Box::new(f))
}
