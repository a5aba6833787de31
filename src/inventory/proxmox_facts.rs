//! Proxmox VE migration facts (CONTRACT 7.1, 7.5) from the combined document that
//! `examples/collect/proxmox.sh` writes around `/cluster/resources`:
//!
//! ```json
//! {"preflight_proxmox": 1,
//!  "resources": [/cluster/resources],
//!  "configs": {"100": /nodes/{node}/qemu/100/config, "101": /nodes/{node}/lxc/101/config},
//!  "storage": [/storage],
//!  "ha_rules": [/cluster/ha/rules], "ha_groups": [/cluster/ha/groups],
//!  "ha_resources": [/cluster/ha/resources],
//!  "node_networks": {"pve1": [/nodes/pve1/network]}, "node_status": {"pve1": /nodes/pve1/status}}
//! ```
//!
//! Every member but `resources` is optional; a member the document lacks leaves its facts
//! unknown. A guest's config gives its disks (`scsi0: local-lvm:vm-100-disk-0,size=32G`, shared
//! as its storage is), CD-ROM media (`ide2: local:iso/x.iso,media=cdrom`; `none` is no medium,
//! `cdrom` the host's drive), passed-through devices (`hostpciN`, `usbN` but SPICE, `serialN`
//! but `socket`, `parallelN`, `virtiofsN`, `ivshmem`, a container's `devN`, a disk that is a
//! host block device), bridges (`netN: virtio=…,bridge=vmbr0`) and CPU compatibility (`cpu:
//! host` is not compatible; any other type, or the default, is). A storage is shared when its
//! `shared` flag says so (storage entries of `resources`, or `storage`), or by its type (NFS,
//! CIFS, RBD, CephFS, GlusterFS, iSCSI, PBS). PVE 9's HA rules give `node-affinity` strict
//! rules as allowed hosts and `resource-affinity` rules as anti-affinity (negative) or
//! affinity (positive) groups; PVE 8's restricted HA groups give allowed hosts.
//!
//! A config value that does not parse is a warning at the value and leaves that fact unknown;
//! an HA rule or resource naming a guest the cluster does not have is a warning at it.

use super::read::{Ctx, Row, text};
use super::record::{self, Field, Record};
use crate::diag::{Code, SourceFile};
use crate::model::{CompactString, FileRef, Host, Vm, VmFacts};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The top-level key that marks the collector's combined document.
pub const MARK: &str = "preflight_proxmox";

/// Storage types every node reaches whatever their `shared` flag says.
const NETWORK_STORAGE: [&str; 9] = [
    "nfs",
    "cifs",
    "rbd",
    "cephfs",
    "glusterfs",
    "iscsi",
    "iscsidirect",
    "zfs",
    "pbs",
];
/// Storage types that are local unless flagged `shared`.
const LOCAL_STORAGE: [&str; 5] = ["dir", "lvm", "lvmthin", "zfspool", "btrfs"];

const CONFIG_HELP: &str = "the value is written as `pvesh get /nodes/{node}/qemu/{vmid}/config --output-format json` gives it";

/// Fills the guests' and nodes' facts from the members of the combined document `root`.
pub fn fill(
    ctx: &mut Ctx,
    file: &SourceFile,
    root: &Record,
    resources: &[Record],
    vms: &mut [Vm],
    hosts: &mut [Host],
) {
    let shared = storages(ctx, file, root, resources);
    if let Some(configs) = member(ctx, file, root, "configs") {
        let by_id: BTreeMap<String, Field> =
            configs.fields().map(|(k, f)| (k.to_string(), f)).collect();
        for vm in vms.iter_mut() {
            let Some(id) = vm.id.as_deref() else { continue };
            let Some(field) = by_id.get(id) else { continue };
            let path = configs.path_of(id);
            match record::record(file, *field, path) {
                Ok(cfg) => {
                    let f = config(ctx, &cfg, &shared);
                    vm.facts = Some(Box::new(f));
                }
                Err(d) => ctx.errors.extend(d),
            }
        }
    }
    let ids: BTreeMap<String, usize> = vms
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((v.id.as_deref()?.to_string(), i)))
        .collect();
    let known: BTreeSet<String> = hosts
        .iter()
        .map(|h| h.name.to_lowercase().to_string())
        .chain(vms.iter().map(|v| v.host.to_lowercase().to_string()))
        .collect();
    ha_rules(ctx, file, root, &ids, &known, vms);
    ha_groups(ctx, file, root, &ids, &known, vms);
    nodes(ctx, file, root, hosts);
}

/// A member of `root` that is an object (`configs`, `node_networks`, …), read as a record.
fn member<'a>(
    ctx: &mut Ctx,
    file: &SourceFile,
    root: &Record<'a>,
    key: &str,
) -> Option<Record<'a>> {
    let field = root.get(key)?;
    match record::record(file, field, root.path_of(key)) {
        Ok(r) => Some(r),
        Err(d) => {
            ctx.errors.extend(d);
            None
        }
    }
}

/// The records of a list member of `root` (`storage`, `ha_rules`, …); none when absent.
fn list<'a>(ctx: &mut Ctx, file: &SourceFile, root: &Record<'a>, key: &str) -> Vec<Record<'a>> {
    let Some(field) = root.get(key) else {
        return Vec::new();
    };
    match record::records(file, field, &root.path_of(key)) {
        Ok(r) => r,
        Err(d) => {
            ctx.errors.extend(d);
            Vec::new()
        }
    }
}

/// Whether each storage is shared: its `shared` flag, else its type; absent when neither says.
fn storages(
    ctx: &mut Ctx,
    file: &SourceFile,
    root: &Record,
    resources: &[Record],
) -> BTreeMap<String, bool> {
    let mut out = BTreeMap::new();
    let from_storage = list(ctx, file, root, "storage");
    let entries = resources
        .iter()
        .filter(|r| r.cell("type").and_then(|c| text(&c.value)).as_deref() == Some("storage"))
        .chain(&from_storage);
    for r in entries {
        let Some(name) = r.cell("storage").and_then(|c| text(&c.value)) else {
            continue;
        };
        let flag = r.cell("shared").map(|c| match c.value {
            Value::Bool(b) => b,
            v => text(&v).as_deref() == Some("1"),
        });
        // In /cluster/resources a storage's type is `storage`; its kind is `plugintype`.
        let kind = r
            .cell("plugintype")
            .or_else(|| {
                r.cell("type")
                    .filter(|c| text(&c.value).as_deref() != Some("storage"))
            })
            .and_then(|c| text(&c.value));
        let by_kind = kind.as_deref().and_then(|k| {
            if NETWORK_STORAGE.contains(&k) {
                Some(true)
            } else if LOCAL_STORAGE.contains(&k) {
                Some(false)
            } else {
                None
            }
        });
        let shared = match (flag, by_kind) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), _) | (None, Some(false)) => Some(false),
            (None, None) => None,
        };
        if let Some(s) = shared {
            // A storage listed once per node: shared only when every entry says so.
            let e = out.entry(name).or_insert(s);
            *e = *e && s;
        }
    }
    out
}

fn numbered(key: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        key.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// A guest's facts from its config.
fn config(ctx: &mut Ctx, cfg: &Record, shared: &BTreeMap<String, bool>) -> VmFacts {
    let mut f = VmFacts {
        disks: Some(Vec::new()),
        media: Some(Vec::new()),
        passthrough: Some(Vec::new()),
        networks: Some(Vec::new()),
        // The default CPU type (kvm64, x86-64-v2-AES) runs on any node; a container has none.
        cpu_compat: Some(true),
        ..VmFacts::default()
    };
    let (mut disks_ok, mut media_ok, mut nets_ok, mut cpu_ok) = (true, true, true, true);
    for (key, field) in cfg.fields() {
        let key_l = key.to_ascii_lowercase();
        let value = field.value();
        let Some(raw) = text(&value) else { continue };
        let raw = raw.trim().to_string();
        // A value of this key that does not read, told at the value.
        let warn_here = |ctx: &mut Ctx, message: &str| {
            let d = ctx.diag(
                Code::InventoryField,
                &cfg.path_of(key),
                message,
                field.range(),
            );
            ctx.warn(d.with_help(CONFIG_HELP));
        };
        let bad = |ctx: &mut Ctx, what: &str| {
            warn_here(
                ctx,
                &format!(
                    "`{raw}` is not a {what} preflight can read; the guest's {what}s are read as unknown"
                ),
            );
        };
        if numbered(
            &key_l,
            &["scsi", "sata", "ide", "virtio", "efidisk", "tpmstate", "mp"],
        ) || key_l == "rootfs"
        {
            let mut parts = raw.split(',');
            let volume = parts.next().unwrap_or("").trim();
            let opts: BTreeMap<&str, &str> = parts
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            // `file=` may name the volume explicitly.
            let volume = opts
                .get("file")
                .copied()
                .filter(|_| !volume.contains(':') && volume.contains('='))
                .unwrap_or(volume);
            if opts.get("media") == Some(&"cdrom") {
                match volume {
                    "none" | "" => {}
                    "cdrom" => f.media.get_or_insert_default().push(FileRef {
                        path: "host:cdrom".into(),
                        shared: Some(false),
                        size_mb: None,
                    }),
                    v if v.contains(':') || v.starts_with('/') => {
                        f.media.get_or_insert_default().push(file_of(v, shared))
                    }
                    _ => {
                        bad(ctx, "CD-ROM volume");
                        media_ok = false;
                    }
                }
                continue;
            }
            if volume.starts_with("/dev/") {
                f.passthrough
                    .get_or_insert_default()
                    .push(format!("disk:{volume}").into());
                continue;
            }
            if !(volume.contains(':') || volume.starts_with('/')) {
                bad(ctx, "disk volume");
                disks_ok = false;
                continue;
            }
            let mut disk = file_of(volume, shared);
            if let Some(size) = opts.get("size") {
                match size_mb(size) {
                    Some(mb) => disk.size_mb = Some(mb),
                    None => warn_here(
                        ctx,
                        &format!(
                            "size `{size}` is not a disk size (a number with K, M, G or T); the disk's size is unknown"
                        ),
                    ),
                }
            }
            f.disks.get_or_insert_default().push(disk);
        } else if numbered(&key_l, &["hostpci", "parallel", "virtiofs", "dev"])
            || key_l == "ivshmem"
            || (numbered(&key_l, &["usb"]) && !raw.starts_with("spice"))
            || (numbered(&key_l, &["serial"]) && raw != "socket")
        {
            f.passthrough
                .get_or_insert_default()
                .push(format!("{key_l}:{raw}").into());
        } else if numbered(&key_l, &["net"]) {
            let opts: Vec<(&str, &str)> =
                raw.split(',').filter_map(|p| p.split_once('=')).collect();
            if opts.is_empty() {
                bad(ctx, "network device");
                nets_ok = false;
                continue;
            }
            if let Some((_, bridge)) = opts.iter().find(|(k, _)| k.trim() == "bridge") {
                let b = CompactString::from(bridge.trim());
                let nets = f.networks.get_or_insert_default();
                if !nets.contains(&b) {
                    nets.push(b);
                }
            }
        } else if key_l == "cpu" {
            let kind = raw.split(',').find_map(|p| match p.split_once('=') {
                Some(("cputype", v)) => Some(v.trim()),
                Some(_) => None,
                None => Some(p.trim()),
            });
            match kind {
                Some(k) if !k.is_empty() => f.cpu_compat = Some(k != "host" && k != "max"),
                _ => {
                    bad(ctx, "CPU type");
                    cpu_ok = false;
                }
            }
        } else if key_l == "ostype" {
            f.attributes.insert("os".into(), raw.as_str().into());
        }
    }
    if !disks_ok {
        f.disks = None;
    }
    if !media_ok {
        f.media = None;
    }
    if !nets_ok {
        f.networks = None;
    }
    if !cpu_ok {
        f.cpu_compat = None;
    }
    f
}

/// A volume (`local-lvm:vm-100-disk-0`, `local:iso/x.iso`, or a path) as a file, shared as its
/// storage is; a path outside any storage is unknown.
fn file_of(volume: &str, shared: &BTreeMap<String, bool>) -> FileRef {
    let storage = volume.split_once(':').map(|(s, _)| s);
    FileRef {
        path: volume.into(),
        shared: storage.and_then(|s| shared.get(s).copied()),
        size_mb: None,
    }
}

/// A Proxmox disk size (`32G`, `512M`, `1T`, `4096K`, or bytes) in MiB, rounded up.
fn size_mb(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_uppercase()),
        _ => (s, 'B'),
    };
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let mib = match unit {
        'B' => n / 1_048_576.0,
        'K' => n / 1024.0,
        'M' => n,
        'G' => n * 1024.0,
        'T' => n * 1_048_576.0,
        _ => return None,
    };
    (mib < (1u64 << 40) as f64).then(|| mib.ceil() as u64)
}

/// The guests of an HA `resources` value (`vm:100,ct:101`), each with the guest's index, or a
/// warning at `key` for each guest the cluster lacks.
fn guests(
    ctx: &mut Ctx,
    rec: &Record,
    key: &str,
    raw: &str,
    ids: &BTreeMap<String, usize>,
) -> Vec<usize> {
    let mut out = Vec::new();
    for sid in raw
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let id = sid.split_once(':').map_or(sid, |(_, n)| n);
        match ids.get(id) {
            Some(i) => out.push(*i),
            None => {
                let span = rec.get(key).map_or(rec.head(), |f| f.range());
                let d = ctx.diag(
                    Code::InventoryField,
                    &rec.path_of(key),
                    &format!("`{sid}` is not a guest of the cluster's resources; its HA constraint is not applied to anything"),
                    span,
                );
                ctx.warn(d.with_help("export the HA configuration and the resources together (examples/collect/proxmox.sh)"));
            }
        }
    }
    out
}

/// Warns at `key` of `rec` about each of `nodes` that is no node of the cluster: a guest
/// allowed only there can go nowhere, and a misspelt node is the likelier cause.
fn unknown_nodes(
    ctx: &mut Ctx,
    rec: &Record,
    key: &str,
    nodes: &[CompactString],
    known: &BTreeSet<String>,
) {
    let missing: Vec<&str> = nodes
        .iter()
        .map(CompactString::as_str)
        .filter(|n| !known.contains(&n.to_lowercase()))
        .collect();
    if missing.is_empty() || known.is_empty() {
        return;
    }
    let span = rec.get(key).map_or(rec.head(), |f| f.range());
    let hint = missing
        .iter()
        .find_map(|m| crate::diag::did_you_mean(m, known.iter().map(String::as_str)))
        .map(|b| format!("did you mean `{b}`? "))
        .unwrap_or_default();
    let d = ctx.diag(
        Code::InventoryField,
        &rec.path_of(key),
        &format!(
            "{} no node of the cluster's resources: its guests may run only on the nodes that are",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
                + if missing.len() == 1 { " is" } else { " are" }
        ),
        span,
    );
    ctx.warn(d.with_help(format!(
        "{hint}a node that is not in the inventory takes no guest"
    )));
}

/// Node names of a `nodes` value (`pve1:2,pve2`), without their priorities.
fn node_names(raw: &str) -> Vec<CompactString> {
    let mut out: Vec<CompactString> = raw
        .split(',')
        .map(|n| n.split_once(':').map_or(n, |(n, _)| n).trim())
        .filter(|n| !n.is_empty())
        .map(CompactString::from)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn flag(rec: &Record, key: &str) -> bool {
    rec.cell(key).is_some_and(|c| match c.value {
        Value::Bool(b) => b,
        v => text(&v).as_deref() == Some("1"),
    })
}

/// Restricts a guest to `nodes`: the hosts both its rules allow when it already has some.
fn allow(vm: &mut Vm, nodes: &[CompactString]) {
    let f = vm.facts.get_or_insert_with(Default::default);
    if f.allowed_hosts.is_empty() {
        f.allowed_hosts = nodes.to_vec();
    } else {
        f.allowed_hosts.retain(|h| nodes.contains(h));
        if f.allowed_hosts.is_empty() {
            // No node satisfies both: the guest may run nowhere, which the planner must see.
            f.allowed_hosts
                .push("(no node satisfies its HA rules)".into());
        }
    }
}

/// PVE 9's `/cluster/ha/rules`.
fn ha_rules(
    ctx: &mut Ctx,
    file: &SourceFile,
    root: &Record,
    ids: &BTreeMap<String, usize>,
    known: &BTreeSet<String>,
    vms: &mut [Vm],
) {
    for rule in list(ctx, file, root, "ha_rules") {
        if flag(&rule, "disable") {
            continue;
        }
        let name = rule
            .cell("rule")
            .and_then(|c| text(&c.value))
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        let Some(name) = name else {
            // A nameless rule would make one group of every nameless rule's guests.
            let span = rule.get("rule").map_or(rule.head(), |f| f.range());
            let d = ctx.diag(
                Code::InventoryField,
                &rule.path_of("rule"),
                "an HA rule without its `rule` id: its constraint is not applied",
                span,
            );
            ctx.warn(
                d.with_help("export /cluster/ha/rules as pvesh writes it, each rule with its id"),
            );
            continue;
        };
        let kind = rule
            .cell("type")
            .and_then(|c| text(&c.value))
            .unwrap_or_default();
        let Some(resources) = rule.cell("resources").and_then(|c| text(&c.value)) else {
            continue;
        };
        let members = guests(ctx, &rule, "resources", &resources, ids);
        match kind.as_str() {
            "node-affinity" => {
                if !flag(&rule, "strict") {
                    continue;
                }
                let nodes = node_names(
                    &rule
                        .cell("nodes")
                        .and_then(|c| text(&c.value))
                        .unwrap_or_default(),
                );
                unknown_nodes(ctx, &rule, "nodes", &nodes, known);
                for i in members {
                    allow(&mut vms[i], &nodes);
                }
            }
            "resource-affinity" => {
                let affinity = rule.cell("affinity").and_then(|c| text(&c.value));
                for i in members {
                    let f = vms[i].facts.get_or_insert_with(Default::default);
                    let list = match affinity.as_deref() {
                        Some("negative") => &mut f.anti_affinity,
                        Some("positive") => &mut f.affinity,
                        _ => continue,
                    };
                    let n = CompactString::from(name.as_str());
                    if !list.contains(&n) {
                        list.push(n);
                    }
                }
            }
            _ => {}
        }
    }
}

/// PVE 8's `/cluster/ha/groups` with `/cluster/ha/resources`: a restricted group's nodes are
/// the only ones its guests may run on.
fn ha_groups(
    ctx: &mut Ctx,
    file: &SourceFile,
    root: &Record,
    ids: &BTreeMap<String, usize>,
    known: &BTreeSet<String>,
    vms: &mut [Vm],
) {
    let mut restricted: BTreeMap<String, Option<Vec<CompactString>>> = BTreeMap::new();
    for g in list(ctx, file, root, "ha_groups") {
        let Some(name) = g.cell("group").and_then(|c| text(&c.value)) else {
            continue;
        };
        let nodes = node_names(
            &g.cell("nodes")
                .and_then(|c| text(&c.value))
                .unwrap_or_default(),
        );
        if flag(&g, "restricted") {
            unknown_nodes(ctx, &g, "nodes", &nodes, known);
        }
        restricted.insert(name, flag(&g, "restricted").then_some(nodes));
    }
    let have_groups = root.has("ha_groups");
    let mut warned: BTreeSet<String> = BTreeSet::new();
    for r in list(ctx, file, root, "ha_resources") {
        let Some(sid) = r.cell("sid").and_then(|c| text(&c.value)) else {
            continue;
        };
        let members = guests(ctx, &r, "sid", &sid, ids);
        let Some(group) = r.cell("group").and_then(|c| text(&c.value)) else {
            continue;
        };
        match restricted.get(&group) {
            Some(Some(nodes)) => {
                for i in members {
                    allow(&mut vms[i], nodes);
                }
            }
            Some(None) => {}
            None if have_groups && warned.insert(group.clone()) => {
                let span = r.get("group").map_or(r.head(), |f| f.range());
                let d = ctx.diag(
                    Code::InventoryField,
                    &r.path_of("group"),
                    &format!("HA group `{group}` is not in ha_groups; whether it restricts its guests' nodes is unknown"),
                    span,
                );
                ctx.warn(d);
            }
            None => {}
        }
    }
}

/// The nodes' bridges (`node_networks`: `/nodes/{node}/network`) and CPU models
/// (`node_status`: `/nodes/{node}/status`, `cpuinfo.model`).
fn nodes(ctx: &mut Ctx, file: &SourceFile, root: &Record, hosts: &mut [Host]) {
    if let Some(nets) = member(ctx, file, root, "node_networks") {
        for (node, field) in nets.fields() {
            let Some(h) = hosts.iter_mut().find(|h| h.name == node) else {
                continue;
            };
            let Value::Array(items) = field.value() else {
                continue;
            };
            let mut names: Vec<CompactString> = items
                .iter()
                .filter_map(|i| match i {
                    Value::Object(o) => {
                        let kind = o.get("type").and_then(Value::as_str).unwrap_or("bridge");
                        kind.to_ascii_lowercase()
                            .contains("bridge")
                            .then(|| o.get("iface").and_then(Value::as_str))
                            .flatten()
                    }
                    Value::String(s) => Some(s.as_str()),
                    _ => None,
                })
                .map(CompactString::from)
                .collect();
            names.sort();
            names.dedup();
            h.facts.networks = Some(names);
        }
    }
    if let Some(status) = member(ctx, file, root, "node_status") {
        for (node, field) in status.fields() {
            let Some(h) = hosts.iter_mut().find(|h| h.name == node) else {
                continue;
            };
            let v = field.value();
            let model = v
                .pointer("/cpuinfo/model")
                .or_else(|| v.get("cpu"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|m| !m.is_empty());
            h.facts.cpu = model.map(Into::into);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_sizes() {
        assert_eq!(size_mb("32G"), Some(32768));
        assert_eq!(size_mb("512M"), Some(512));
        assert_eq!(size_mb("1T"), Some(1_048_576));
        assert_eq!(size_mb("4096K"), Some(4));
        assert_eq!(size_mb("1048576"), Some(1));
        assert_eq!(size_mb("abc"), None);
        assert_eq!(size_mb("-1G"), None);
        assert_eq!(size_mb("1e300T"), None);
        assert_eq!(size_mb(""), None);
    }
}
