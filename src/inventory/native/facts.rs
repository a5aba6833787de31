//! The migration facts of the native format (CONTRACT 7.1), as serde reads them, and the checks
//! that need the whole file: a type-name string where a path belongs, an `allowed_hosts` entry
//! naming no host of the file.

use super::values::Name;
use crate::diag::{Code, SourceDiag, SourceFile};
use crate::inventory::locate;
use crate::model::{
    Attributes, CompactString, FileRef, HostKey, HostMap, Vm, VmFacts, is_type_name,
};
use serde::Deserialize;
use serde::de::{self, Deserializer};
use std::ops::Range;

/// More checkpoints than any platform allows (Hyper-V: 50; vSphere: 32 in a chain).
pub(super) const MAX_CHECKPOINTS: u64 = 1_000_000;
/// A larger disk than any platform makes: 1 PiB, in GB.
const MAX_DISK_GB: f64 = 1024.0 * 1024.0;

/// The facts of a VM record, as serde read them (the fields of `RawVm`).
#[derive(Default)]
pub(super) struct RawVmFacts {
    pub(super) disks: Option<Vec<RawFile>>,
    pub(super) media: Option<Vec<RawFile>>,
    pub(super) passthrough: Option<Vec<CompactString>>,
    pub(super) networks: Option<Vec<CompactString>>,
    pub(super) checkpoints: Option<u64>,
    pub(super) cpu_compat: Option<bool>,
    pub(super) anti_affinity: Vec<Name>,
    pub(super) affinity: Vec<Name>,
    pub(super) allowed_hosts: Vec<Name>,
    pub(super) attributes: Attributes,
}

/// The `attributes` object: string values by key, the last of a key used twice kept (as a
/// map reads it).
#[derive(Default)]
pub(super) struct RawAttributes(pub(super) Attributes);

impl<'de> Deserialize<'de> for RawAttributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = RawAttributes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawAttributes, A::Error> {
                // Up to four on the stack, then one allocation of the exact size.
                let mut entries = smallvec::SmallVec::<[(CompactString, CompactString); 4]>::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(RawAttributes(Attributes::from_entries(entries.into_vec())))
            }
        }
        d.deserialize_map(Visit)
    }
}

#[derive(Deserialize)]
pub(super) struct RawFile {
    path: Name,
    #[serde(default)]
    shared: Option<bool>,
    #[serde(default)]
    size_gb: Option<DiskGb>,
}

/// A disk size in GB (GiB, as the platforms count), whole or not, from 0.
struct DiskGb(f64);

impl<'de> Deserialize<'de> for DiskGb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = f64::deserialize(d)?;
        if !n.is_finite() || n < 0.0 {
            return Err(de::Error::custom(format!(
                "{n} is not a size; sizes are numbers from 0"
            )));
        }
        if n > MAX_DISK_GB {
            return Err(de::Error::custom(format!(
                "{n} GB is larger than any disk (at most {MAX_DISK_GB})"
            )));
        }
        Ok(DiskGb(n))
    }
}

impl RawVmFacts {
    /// The model's facts, or `None` when the record carries none: a VM of an export made
    /// before the facts existed stays as small as it was.
    pub(super) fn into_model(self) -> Option<Box<VmFacts>> {
        // The common case at scale, checked before anything is built.
        if self.disks.is_none()
            && self.media.is_none()
            && self.passthrough.is_none()
            && self.networks.is_none()
            && self.checkpoints.is_none()
            && self.cpu_compat.is_none()
            && self.anti_affinity.is_empty()
            && self.affinity.is_empty()
            && self.allowed_hosts.is_empty()
            && self.attributes.is_empty()
        {
            return None;
        }
        let files = |list: Option<Vec<RawFile>>| {
            list.map(|files| {
                files
                    .into_iter()
                    .map(|f| FileRef {
                        path: f.path.0,
                        shared: f.shared,
                        // Rounded up: a copy of 0.4 GiB still takes a MiB.
                        size_mb: f.size_gb.map(|g| (g.0 * 1024.0).ceil() as u64),
                    })
                    .collect()
            })
        };
        let names = |list: Vec<Name>| list.into_iter().map(|n| n.0).collect::<Vec<_>>();
        let facts = VmFacts {
            disks: files(self.disks),
            media: files(self.media),
            passthrough: self.passthrough,
            networks: self.networks,
            checkpoints: self.checkpoints.map(|c| c as u32),
            cpu_compat: self.cpu_compat,
            anti_affinity: names(self.anti_affinity),
            affinity: names(self.affinity),
            allowed_hosts: names(self.allowed_hosts),
            attributes: self.attributes,
        };
        Some(Box::new(facts))
    }
}

/// Whether any VM's facts need a look at the file's text ([`check`]), that is whether `check`
/// would warn: the streamed reader, which has no text, hands such files to the ordinary read.
/// An `allowed_hosts` entry naming a host of the file, or a VM's host, needs no look: at scale
/// a few percent of VMs carry one, and reading the whole file again for them would double the
/// run.
pub(super) fn need_check(vms: &[Vm], host_names: &[&str]) -> bool {
    // The listed hosts first; the VMs' hosts (a walk over every VM) only for an entry that
    // names none of them, which a file listing its hosts never has.
    let mut listed: Option<HostMap<'_, ()>> = None;
    let mut vm_hosts: Option<HostMap<'_, ()>> = None;
    vms.iter().any(|vm| {
        let Some(f) = vm.facts.as_deref() else {
            return false;
        };
        if type_names(f).next().is_some() {
            return true;
        }
        if f.allowed_hosts.is_empty() {
            return false;
        }
        let listed =
            listed.get_or_insert_with(|| host_names.iter().map(|n| (HostKey(n), ())).collect());
        f.allowed_hosts.iter().any(|a| {
            if listed.contains_key(&HostKey(a)) {
                return false;
            }
            let vm_hosts = vm_hosts
                .get_or_insert_with(|| vms.iter().map(|v| (HostKey(&v.host), ())).collect());
            !vm_hosts.contains_key(&HostKey(a))
        })
    })
}

/// The values of a VM's facts that are type names of a depth cut, with the key they sit under.
fn type_names(f: &VmFacts) -> impl Iterator<Item = (&'static str, &str)> {
    let files = [&f.disks, &f.media]
        .into_iter()
        .flat_map(|list| list.iter().flatten())
        .map(|file| ("path", file.path.as_str()));
    let strings = [("passthrough", &f.passthrough), ("networks", &f.networks)]
        .into_iter()
        .flat_map(|(key, list)| list.iter().flatten().map(move |s| (key, s.as_str())));
    files.chain(strings).filter(|(_, s)| is_type_name(s))
}

/// Checks the facts against the file: a list holding a type name of PowerShell's depth cut
/// becomes unknown (never a path), and an `allowed_hosts` entry naming no host of the file is
/// reported. Both are warnings located at the value; `within` is the part of the file the
/// inventory spans.
pub(super) fn check(
    file: &SourceFile,
    vms: &mut [Vm],
    host_names: &[&str],
    within: &Range<usize>,
) -> Vec<SourceDiag> {
    let part = file.text.get(within.clone()).unwrap_or_default();
    let at = |key: &str, value: &str| {
        locate::string_value(part, key, value, 0)
            .or_else(|| in_array(part, key, value))
            .map(|r| within.start + r.start..within.start + r.end)
            .unwrap_or(within.start..within.start)
    };
    let mut known: HostMap<'_, ()> = HostMap::default();
    for name in host_names {
        known.insert(HostKey(name), ());
    }
    let vm_hosts: Vec<CompactString> = vms.iter().map(|v| v.host.clone()).collect();
    for name in &vm_hosts {
        known.insert(HostKey(name), ());
    }
    let mut warnings = Vec::new();
    let mut reported: std::collections::HashSet<String> = Default::default();
    for vm in vms.iter_mut() {
        let Some(f) = vm.facts.as_deref_mut() else {
            continue;
        };
        let cut: Vec<(&'static str, String)> =
            type_names(f).map(|(k, s)| (k, s.to_string())).collect();
        for (key, value) in &cut {
            let what = match *key {
                "path" if list_has(&f.disks, value) => "disks",
                "path" => "media",
                other => other,
            };
            match what {
                "disks" => f.disks = None,
                "media" => f.media = None,
                "passthrough" => f.passthrough = None,
                _ => f.networks = None,
            }
            let mut w = SourceDiag::at(
                    Code::InventoryTruncated,
                    format!(
                        "{}: VM `{}`: `{value}` is a .NET type name, not a value: its {what} are read as unknown",
                        file.name, vm.name
                    ),
                    file,
                    at(key, value),
                    "a type name where a value belongs",
                )
                .with_help(
                    "Windows PowerShell's ConvertTo-Json writes objects nested deeper than -Depth (2 by default) as their type name; flatten them with a calculated property as the collectors in examples/collect/ do, or pass -Depth 5",
                );
            w.warning = true;
            warnings.push(w);
        }
        for allowed in &f.allowed_hosts {
            if !known.contains_key(&HostKey(allowed))
                && reported.insert(allowed.to_lowercase().to_string())
            {
                let hint = crate::diag::did_you_mean(allowed, host_names.iter().copied())
                    .map(|best| format!("did you mean `{best}`? "))
                    .unwrap_or_default();
                let mut w = SourceDiag::at(
                    Code::InventoryField,
                    format!(
                        "{}: VM `{}` may run only on `{allowed}`, which is no host of this inventory",
                        file.name, vm.name
                    ),
                    file,
                    at("allowed_hosts", allowed),
                    "no host of this name",
                )
                .with_help(format!(
                    "{hint}a host that is not in the inventory can take no VM: the VM's other allowed hosts are all it has"
                ));
                w.warning = true;
                w.unless_host = Some(allowed.to_string());
                warnings.push(w);
            }
        }
    }
    warnings
}

/// The span of the string `"value"` in the first array that follows `key` and holds it
/// (`"allowed_hosts": ["HV01", "HV03"]`, or `allowed_hosts = [...]` in TOML).
fn in_array(text: &str, key: &str, value: &str) -> Option<Range<usize>> {
    let needle = format!("\"{value}\"");
    let mut from = 0;
    while let Some(rel) = text[from..].find(key) {
        let after = from + rel + key.len();
        from = after;
        let rest = text[after..].trim_start_matches(['"', ' ', '\t', '\r', '\n']);
        let Some(rest) = rest.strip_prefix([':', '=']) else {
            continue;
        };
        let open = text.len() - rest.len() + rest.len() - rest.trim_start().len();
        if !text[open..].starts_with('[') {
            continue;
        }
        let close = text[open..].find(']').map_or(text.len(), |c| open + c);
        if let Some(at) = text[open..close].find(&needle) {
            return Some(open + at..open + at + needle.len());
        }
    }
    None
}

fn list_has(list: &Option<Vec<FileRef>>, path: &str) -> bool {
    list.iter().flatten().any(|f| f.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Parsed;

    /// Reads an inventory of one VM `SQL01` on `HV01` with these extra keys, and a host `HV02`.
    fn read(vm_keys: &str) -> Result<Parsed, crate::diag::Diagnostics> {
        let text = format!(
            r#"{{"hosts": [{{"name": "HV01"}}, {{"name": "HV02", "networks": ["Prod"], "cpu": "Xeon"}}],
  "vms": [{{"name": "SQL01", "host": "HV01", "state": "running"{vm_keys}}}]}}"#
        );
        super::super::parse(&SourceFile::new("t.json", text))
    }

    fn facts(vm_keys: &str) -> Option<Box<VmFacts>> {
        read(vm_keys).unwrap().inventory.vms.remove(0).facts
    }

    #[test]
    fn a_record_without_facts_keeps_none() {
        assert!(RawVmFacts::default().into_model().is_none());
        assert!(facts("").is_none());
        let host = &read("").unwrap().inventory.hosts[1];
        assert_eq!(host.facts.cpu.as_deref(), Some("Xeon"));
        assert_eq!(host.facts.networks.as_deref(), Some(&["Prod".into()][..]));
    }

    #[test]
    fn every_key_of_the_contract_is_read() {
        let f = facts(
            r#", "disks": [{"path": "C:\\ClusterStorage\\V1\\os.vhdx", "shared": true, "size_gb": 80}],
            "media": [{"path": "C:\\ISO\\sql.iso", "shared": false}], "passthrough": ["pci:0000:65:00.0"],
            "networks": ["Prod"], "checkpoints": 2, "cpu_compat": false, "anti_affinity": ["sql-ag"],
            "affinity": ["app"], "allowed_hosts": ["HV01", "HV02"], "attributes": {"owner": "dba"}"#,
        )
        .unwrap();
        assert_eq!(f.disks.as_ref().unwrap()[0].size_mb, Some(80 * 1024));
        assert_eq!(f.local_storage(), Some(true));
        assert_eq!(f.passthrough(), Some(true));
        assert_eq!(f.checkpoints, Some(2));
        assert_eq!(f.cpu_compat, Some(false));
        assert_eq!(f.anti_affinity, ["sql-ag"]);
        assert_eq!(f.affinity, ["app"]);
        assert_eq!(f.allowed_hosts, ["HV01", "HV02"]);
        assert_eq!(f.attributes["owner"], "dba");
    }

    #[test]
    fn lists_are_kept_at_their_exact_length() {
        // serde alone keeps room for four in every list; at a million VMs that room was a
        // tenth of the memory.
        let parsed = read(
            r#", "tags": ["a"], "disks": [{"path": "C:\\ClusterStorage\\Volume01\\sql01\\sql01-0.vhdx", "size_gb": 80}],
            "media": [], "networks": ["Prod", "Backup"], "anti_affinity": ["g"],
            "allowed_hosts": ["HV01", "HV02", "HV01", "HV02", "HV01"],
            "attributes": {"tier": "1", "owner": "dba", "tier": "2"}"#,
        )
        .unwrap();
        let vm = &parsed.inventory.vms[0];
        let f = vm.facts.as_deref().unwrap();
        let disks = f.disks.as_ref().unwrap();
        let networks = f.networks.as_ref().unwrap();
        assert_eq!((vm.tags.len(), vm.tags.capacity()), (1, 1));
        assert_eq!((disks.len(), disks.capacity()), (1, 1));
        assert_eq!(f.media.as_ref().unwrap().capacity(), 0);
        assert_eq!((networks.len(), networks.capacity()), (2, 2));
        assert_eq!(f.anti_affinity.capacity(), 1);
        assert_eq!(f.allowed_hosts.len(), 5, "more than fit on the stack");
        assert_eq!(f.allowed_hosts.capacity(), 5);
        // A key given twice keeps its last value, as a map read it.
        let attrs: Vec<_> = f
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(attrs, [("owner", "dba"), ("tier", "2")]);
    }

    #[test]
    fn only_an_allowed_host_of_no_host_and_no_vm_needs_the_text() {
        let pinned = |name: &str, host: &str, allowed: &[&str]| Vm {
            facts: Some(Box::new(VmFacts {
                allowed_hosts: allowed.iter().map(|&a| a.into()).collect(),
                ..VmFacts::default()
            })),
            ..Vm::on(name, host)
        };
        let listed = ["HV01", "HV02"];
        let vms = [
            Vm::on("a", "HV01"),
            pinned("b", "HV01", &["hv02", "HV01"]),
            pinned("c", "HV09", &["HV01"]),
        ];
        assert!(!need_check(&vms, &listed), "listed hosts, any case");
        let vms = [pinned("a", "HV01", &["HV09"]), Vm::on("b", "hv09")];
        assert!(!need_check(&vms, &listed), "a VM's host (not listed)");
        let vms = [pinned("a", "HV01", &["HV01", "HV07"]), Vm::on("b", "HV09")];
        assert!(need_check(&vms, &listed), "HV07 is no host of the file");
        assert!(need_check(&vms[..1], &[]));
    }

    #[test]
    fn sizes_round_up_to_a_mib() {
        let f = facts(
            r#", "disks": [{"path": "a.vhdx", "size_gb": 0.0001}, {"path": "b", "size_gb": 80}]"#,
        )
        .unwrap();
        let sizes: Vec<_> = f.disks.unwrap().iter().map(|d| d.size_mb).collect();
        assert_eq!(sizes, [Some(1), Some(80 * 1024)]);
    }

    #[test]
    fn an_empty_list_is_a_fact() {
        let f = facts(r#", "media": []"#).unwrap();
        assert_eq!(f.media_mounted(), Some(false));
    }

    #[test]
    fn bad_values_are_refused_at_their_place() {
        for keys in [
            r#", "disks": [{"path": "", "size_gb": 1}]"#,
            r#", "disks": [{"path": "a", "size_gb": -1}]"#,
            r#", "disks": [{"path": "a", "size_gb": 1e30}]"#,
            r#", "anti_affinity": [""]"#,
            r#", "allowed_hosts": ["  "]"#,
            r#", "checkpoints": -2"#,
            r#", "disks": "C:\\x.vhdx""#,
        ] {
            let err = read(keys)
                .err()
                .unwrap_or_else(|| panic!("accepted {keys}"));
            let d = &err.0[0];
            assert_eq!(d.code, Code::InventoryField, "{keys}");
            assert_eq!(d.line_col().map(|(l, _)| l), Some(2), "{keys}");
        }
    }

    #[test]
    fn a_type_name_is_an_unknown_fact_with_a_located_warning() {
        let parsed = read(
            r#", "disks": [{"path": "Microsoft.HyperV.PowerShell.HardDiskDrive"}], "media": []"#,
        )
        .unwrap();
        let f = parsed.inventory.vms[0].facts.as_deref().unwrap();
        assert_eq!(f.disks, None, "never read as a path");
        assert_eq!(f.media.as_deref(), Some(&[][..]));
        assert_eq!(parsed.warnings.len(), 1);
        let w = &parsed.warnings[0];
        assert!(w.warning);
        assert_eq!(w.code, Code::InventoryTruncated);
        assert_eq!(w.line_col(), Some((2, 84)), "at the type name");
    }

    #[test]
    fn an_allowed_host_of_no_record_is_a_warning_with_a_suggestion() {
        let parsed = read(r#", "allowed_hosts": ["HV01", "HV03", "hv02"]"#).unwrap();
        let texts: Vec<_> = parsed.warnings.iter().map(|w| w.message.clone()).collect();
        assert_eq!(parsed.warnings.len(), 1, "HV01 and hv02 exist: {texts:?}");
        let w = &parsed.warnings[0];
        assert!(w.warning && w.message.contains("`HV03`"));
        assert!(w.help.as_deref().unwrap().contains("did you mean `HV01`?"));
        let text = &w.src.as_ref().unwrap().text;
        let at = w.labels[0].offset();
        assert_eq!(&text[at..at + 6], "\"HV03\"", "under the value");
    }
}
