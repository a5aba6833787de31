//! What ties a VM to its host (CONTRACT 7.1): its disks and media, passed-through devices,
//! networks, checkpoints, CPU compatibility, and the placement groups it belongs to.
//!
//! Every fact is optional. A list that is `None` is unknown (the export did not say); `Some`
//! of an empty list is known to be none. The sparse facts (`anti_affinity`, `affinity`,
//! `allowed_hosts`, `attributes`) are empty when absent: no such constraint. Questions about
//! the facts answer in three values (`Option<bool>`): `None` when what is known does not
//! decide it.
//!
//! A VM that carries none of these facts keeps `Vm::facts` at `None`, so an export made before
//! the facts existed costs one pointer per VM and nothing else.

use compact_str::CompactString;

/// The facts of one VM. Built only when an export carries at least one of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VmFacts {
    /// Virtual disks; `None` when unknown.
    pub disks: Option<Vec<FileRef>>,
    /// Mounted ISO or floppy images and host drives (`host:D:`); `None` when unknown.
    pub media: Option<Vec<FileRef>>,
    /// Devices bound to the host it runs on (PCI/DDA, USB, pass-through disk, serial).
    pub passthrough: Option<Vec<CompactString>>,
    /// Switch, bridge or port-group names of its network adapters.
    pub networks: Option<Vec<CompactString>>,
    /// How many checkpoints (snapshots) it has.
    pub checkpoints: Option<u32>,
    /// Whether it may move between hosts of different CPU models.
    pub cpu_compat: Option<bool>,
    /// Names of groups whose members must run on different hosts.
    pub anti_affinity: Vec<CompactString>,
    /// Names of groups whose members must share a host.
    pub affinity: Vec<CompactString>,
    /// The only hosts it may run on; empty means any.
    pub allowed_hosts: Vec<CompactString>,
    /// Free string facts (custom properties, OS, description, `key=value` tags).
    pub attributes: Attributes,
}

/// Free string facts by key: each key once, in key order, as a `BTreeMap` keeps them, but in
/// one allocation the size of its entries. A VM has two or three attributes; a `BTreeMap`'s
/// first node takes 544 bytes however few it holds, which at a million VMs was a sixth of the
/// memory a run needed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attributes(Vec<(CompactString, CompactString)>);

impl Attributes {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// From entries in any order; of a key given twice, the value given last (as inserting
    /// them one by one into a map keeps).
    pub fn from_entries(mut entries: Vec<(CompactString, CompactString)>) -> Self {
        entries.reverse();
        // Stable: of equal keys, the one given last comes first and is the one kept.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, kept| later.0 == kept.0);
        Attributes(entries)
    }

    /// Sets `key` to `value`, returning the value it replaces (as `BTreeMap::insert`).
    pub fn insert(&mut self, key: CompactString, value: CompactString) -> Option<CompactString> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&CompactString> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    pub fn remove(&mut self, key: &str) -> Option<CompactString> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&CompactString, &CompactString)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &CompactString> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &CompactString> {
        self.0.iter().map(|(_, v)| v)
    }

    /// Gives back the room a reader reserved beyond the entries.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl std::fmt::Debug for Attributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for Attributes {
    type Output = CompactString;

    fn index(&self, key: &str) -> &CompactString {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no attribute `{key}`"),
        }
    }
}

impl<K: Into<CompactString>, V: Into<CompactString>> FromIterator<(K, V)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Attributes::from_entries(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a CompactString, &'a CompactString);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (CompactString, CompactString)>,
        fn(&'a (CompactString, CompactString)) -> (&'a CompactString, &'a CompactString),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// A file a VM uses: a virtual disk or a mounted medium.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRef {
    /// The path as the export gives it.
    pub path: CompactString,
    /// Whether every host of the cluster reaches it, as the export says; `None` when it does
    /// not say, and then [`FileRef::is_shared`] infers it from the path where it can.
    pub shared: Option<bool>,
    /// Its size in MiB, when known (disks: what moving it with the VM copies).
    pub size_mb: Option<u64>,
}

/// Facts a host offers to the VMs moved onto it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFacts {
    /// The switch, bridge or port-group names it offers; `None` when unknown.
    pub networks: Option<Vec<CompactString>>,
    /// Its CPU model; `None` when unknown.
    pub cpu: Option<CompactString>,
}

/// One kind of fact, for saying which facts an inventory carries at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    Disks,
    Media,
    Passthrough,
    Networks,
    Checkpoints,
    CpuCompat,
    HostNetworks,
    HostCpu,
}

impl Fact {
    pub const ALL: [Fact; 8] = [
        Fact::Disks,
        Fact::Media,
        Fact::Passthrough,
        Fact::Networks,
        Fact::Checkpoints,
        Fact::CpuCompat,
        Fact::HostNetworks,
        Fact::HostCpu,
    ];

    /// The native key that carries it (on a VM, or on a host for the `Host…` facts).
    pub fn key(self) -> &'static str {
        match self {
            Fact::Disks => "disks",
            Fact::Media => "media",
            Fact::Passthrough => "passthrough",
            Fact::Networks | Fact::HostNetworks => "networks",
            Fact::Checkpoints => "checkpoints",
            Fact::CpuCompat => "cpu_compat",
            Fact::HostCpu => "cpu",
        }
    }

    /// How a report names the fact: its key, prefixed with `host.` for a host's fact, so that
    /// a VM's `networks` and a host's `networks` stay apart in a gap's evidence.
    pub fn name(self) -> &'static str {
        match self {
            Fact::HostNetworks => "host.networks",
            Fact::HostCpu => "host.cpu",
            f => f.key(),
        }
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of [`Fact`]s: which facts at least one record of an inventory carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactSet(u16);

impl FactSet {
    pub fn insert(&mut self, fact: Fact) {
        self.0 |= fact.bit();
    }

    pub fn contains(self, fact: Fact) -> bool {
        self.0 & fact.bit() != 0
    }

    pub fn union(self, other: FactSet) -> FactSet {
        FactSet(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl VmFacts {
    /// The facts this record carries (the unknown-when-absent ones).
    pub fn carried(&self) -> FactSet {
        let mut set = FactSet::default();
        let present = [
            (Fact::Disks, self.disks.is_some()),
            (Fact::Media, self.media.is_some()),
            (Fact::Passthrough, self.passthrough.is_some()),
            (Fact::Networks, self.networks.is_some()),
            (Fact::Checkpoints, self.checkpoints.is_some()),
            (Fact::CpuCompat, self.cpu_compat.is_some()),
        ];
        for (fact, here) in present {
            if here {
                set.insert(fact);
            }
        }
        set
    }

    /// The most [`VmFacts::carried`] can say: every fact a VM record can carry.
    pub fn all_carried() -> FactSet {
        let mut set = FactSet::default();
        for fact in [
            Fact::Disks,
            Fact::Media,
            Fact::Passthrough,
            Fact::Networks,
            Fact::Checkpoints,
            Fact::CpuCompat,
        ] {
            set.insert(fact);
        }
        set
    }

    /// Whether a disk or medium is not on shared storage. `Some(true)` as soon as one file is
    /// known to be local; `Some(false)` only when both lists are known and every file in them
    /// is known to be shared; else unknown.
    pub fn local_storage(&self) -> Option<bool> {
        let lists = [self.disks.as_deref(), self.media.as_deref()];
        let mut unknown = false;
        for list in lists {
            let Some(files) = list else {
                unknown = true;
                continue;
            };
            for file in files {
                match file.is_shared() {
                    Some(false) => return Some(true),
                    Some(true) => {}
                    None => unknown = true,
                }
            }
        }
        if unknown { None } else { Some(false) }
    }

    /// Whether a medium (ISO, floppy, host drive) is mounted.
    pub fn media_mounted(&self) -> Option<bool> {
        self.media.as_ref().map(|m| !m.is_empty())
    }

    /// Whether a device is passed through from the host.
    pub fn passthrough(&self) -> Option<bool> {
        self.passthrough.as_ref().map(|p| !p.is_empty())
    }

    /// The MiB of disks not on shared storage (what a move with storage copies), counting a
    /// disk whose sharing or size is unknown as nothing; `None` when the disks are unknown.
    pub fn local_disk_mb(&self) -> Option<u64> {
        let disks = self.disks.as_ref()?;
        Some(
            disks
                .iter()
                .filter(|d| d.is_shared() == Some(false))
                .filter_map(|d| d.size_mb)
                .fold(0u64, u64::saturating_add),
        )
    }
}

impl FileRef {
    /// Whether every host reaches the file: what the export said, else what the path's
    /// convention says ([`infer_shared`]).
    pub fn is_shared(&self) -> Option<bool> {
        self.shared.or_else(|| infer_shared(&self.path))
    }
}

/// Whether a path is on shared storage by the platforms' conventions: a Cluster Shared Volume
/// (`C:\ClusterStorage\…`) or an SMB share (`\\server\share\…`) is; a host drive (`host:D:`)
/// is not. Anything else is for the reader to say (a Proxmox volume takes its storage's flag,
/// a vSphere datastore its host count): unknown here.
pub fn infer_shared(path: &str) -> Option<bool> {
    let path = path.trim();
    if path.len() >= 5 && path[..5].eq_ignore_ascii_case("host:") {
        return Some(false);
    }
    // `\\?\C:\…` and `\\.\…` are local device paths; `\\?\UNC\server\…` is a share.
    if let Some(rest) = path
        .strip_prefix(r"\\?\")
        .or_else(|| path.strip_prefix(r"\\.\"))
    {
        if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case(r"UNC\") {
            return Some(true);
        }
        return on_cluster_storage(rest).then_some(true);
    }
    if path.starts_with(r"\\") || path.starts_with("//") {
        return Some(true);
    }
    on_cluster_storage(path).then_some(true)
}

/// `X:\ClusterStorage\…` with any drive letter and either slash.
fn on_cluster_storage(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() > 17
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && matches!(b[2], b'\\' | b'/')
        && path[3..17].eq_ignore_ascii_case("ClusterStorage")
        && matches!(b[17], b'\\' | b'/')
}

/// Whether a string is what PowerShell 5.1's `ConvertTo-Json` writes for an object nested
/// deeper than its depth (a .NET type name such as `Microsoft.HyperV.PowerShell.HardDiskDrive`,
/// `System.Object[]`, `Selected.Microsoft…`), or the `@{…}` of a hash table, rather than a
/// value. Such a string is never a path or a name: the fact it stands for is unknown.
/// Only the namespaces the platforms' modules live in count, so that a host named
/// `HV01.Contoso.Local` is not taken for a type.
pub fn is_type_name(s: &str) -> bool {
    let s = s.trim();
    if s.starts_with("@{") && s.ends_with('}') {
        return true;
    }
    let s = s.strip_prefix("Selected.").unwrap_or(s);
    let rooted = ["Microsoft.", "System.", "VMware."]
        .iter()
        .any(|root| s.starts_with(root));
    // `System.Collections.Generic.List`1[Some.Type]`, `System.Object[]`.
    let head = s.split(['`', '[']).next().unwrap_or(s);
    let dots = head.matches('.').count();
    rooted
        && (dots >= 2 || (dots == 1 && head.len() < s.len()))
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._`[]+,".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, shared: Option<bool>) -> FileRef {
        FileRef {
            path: path.into(),
            shared,
            size_mb: Some(1024),
        }
    }

    #[test]
    fn shared_is_inferred_from_csv_and_unc_paths_only() {
        let cases = [
            (r"C:\ClusterStorage\Volume1\SQL01\os.vhdx", Some(true)),
            (r"d:\clusterstorage\vol\x.vhdx", Some(true)),
            (r"C:/ClusterStorage/Volume1/x.vhdx", Some(true)),
            (r"\\fs01\vms\x.vhdx", Some(true)),
            (r"\\?\UNC\fs01\vms\x.vhdx", Some(true)),
            (r"\\?\C:\ClusterStorage\Volume1\x.vhdx", Some(true)),
            (r"\\?\C:\VMs\x.vhdx", None),
            (r"\\.\PHYSICALDRIVE2", None),
            ("host:D:", Some(false)),
            ("HOST:E:", Some(false)),
            (r"C:\ClusterStorageX\x.vhdx", None),
            (r"C:\ClusterStorage", None),
            (r"C:\VMs\x.vhdx", None),
            ("local-lvm:vm-100-disk-0", None),
            ("[datastore1] vm/vm.vmdk", None),
            ("", None),
        ];
        for (path, want) in cases {
            assert_eq!(infer_shared(path), want, "{path}");
        }
    }

    #[test]
    fn local_storage_is_three_valued() {
        let mut f = VmFacts::default();
        assert_eq!(f.local_storage(), None, "nothing known");
        f.disks = Some(vec![file(r"C:\ClusterStorage\V1\a.vhdx", None)]);
        assert_eq!(f.local_storage(), None, "media unknown");
        f.media = Some(vec![]);
        assert_eq!(f.local_storage(), Some(false), "all known shared");
        f.media = Some(vec![file(r"C:\ISO\x.iso", None)]);
        assert_eq!(f.local_storage(), None, "an ISO of unknown sharing");
        f.media = Some(vec![file(r"C:\ISO\x.iso", Some(false))]);
        assert_eq!(f.local_storage(), Some(true), "a local ISO");
        f.media = None;
        assert_eq!(f.local_storage(), None, "shared disks, media unknown");
        f.disks = Some(vec![file("host:D:", None)]);
        assert_eq!(f.local_storage(), Some(true), "one local file decides it");
    }

    #[test]
    fn local_disk_mb_sums_only_local_disks() {
        let f = VmFacts {
            disks: Some(vec![
                file(r"C:\VMs\a.vhdx", Some(false)),
                file(r"C:\VMs\b.vhdx", Some(false)),
                file(r"\\fs\vms\c.vhdx", None),
                FileRef {
                    path: "x".into(),
                    shared: Some(false),
                    size_mb: None,
                },
            ]),
            ..VmFacts::default()
        };
        assert_eq!(f.local_disk_mb(), Some(2048));
        assert_eq!(VmFacts::default().local_disk_mb(), None);
    }

    #[test]
    fn empty_lists_are_known_none() {
        let f = VmFacts {
            media: Some(vec![]),
            passthrough: Some(vec![]),
            ..VmFacts::default()
        };
        assert_eq!(f.media_mounted(), Some(false));
        assert_eq!(f.passthrough(), Some(false));
        assert_eq!(VmFacts::default().media_mounted(), None);
        assert_eq!(VmFacts::default().passthrough(), None);
        let carried = f.carried();
        assert!(carried.contains(Fact::Media) && carried.contains(Fact::Passthrough));
        assert!(!carried.contains(Fact::Disks));
        let every = VmFacts {
            disks: Some(vec![]),
            media: Some(vec![]),
            passthrough: Some(vec![]),
            networks: Some(vec![]),
            checkpoints: Some(0),
            cpu_compat: Some(true),
            ..VmFacts::default()
        };
        assert_eq!(every.carried(), VmFacts::all_carried());
        assert_ne!(carried, VmFacts::all_carried());
    }

    #[test]
    fn attributes_keep_key_order_and_the_last_value_like_a_map() {
        let given = [
            ("tier", "1"),
            ("owner", "dba"),
            ("os", "x"),
            ("tier", "2"),
            ("a", ""),
        ];
        let mut map = std::collections::BTreeMap::new();
        let mut inserted = Attributes::default();
        for (k, v) in given {
            map.insert(CompactString::from(k), CompactString::from(v));
            inserted.insert(k.into(), v.into());
        }
        let collected: Attributes = given.into_iter().collect();
        for a in [&inserted, &collected] {
            let pairs: Vec<_> = a.iter().collect();
            assert_eq!(pairs, map.iter().collect::<Vec<_>>());
            assert_eq!(format!("{a:?}"), format!("{map:?}"));
            assert_eq!(a["tier"], "2");
            assert_eq!(a.get("nope"), None);
            assert!(a.contains_key("os") && !a.contains_key("o"));
        }
        assert_eq!(inserted, collected);
        assert_eq!(inserted.insert("os".into(), "y".into()), Some("x".into()));
        assert_eq!(inserted.remove("os"), Some("y".into()));
        assert_eq!(inserted.len(), 3);
    }

    #[test]
    fn type_names_from_a_depth_cut_are_recognised() {
        for s in [
            "Microsoft.HyperV.PowerShell.HardDiskDrive",
            "Microsoft.VirtualManager.Utils.VirtualHardDisk",
            "VMware.VimAutomation.ViCore.Impl.V1.Inventory.VMHostImpl",
            "System.Collections.Generic.List`1[Microsoft.HyperV.PowerShell.DvdDrive]",
            "System.Object[]",
            "@{Path=C:\\x.vhdx; Size=1}",
        ] {
            assert!(is_type_name(s), "{s}");
        }
        for s in [
            r"C:\ClusterStorage\Volume1\x.vhdx",
            "os.vhdx",
            "sql2022.iso",
            "Prod-vSwitch",
            "pci:0000:65:00.0",
            "10.0.0.1",
            "vm.example.com",
            "HV01.Contoso.Local",
            "Microsoft.local",
            "System Center",
            "[ds1] a/b.vmdk",
            "",
        ] {
            assert!(!is_type_name(s), "{s}");
        }
    }
}
