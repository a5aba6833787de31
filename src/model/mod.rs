//! The domain: hosts, VMs and their states, as every inventory format is read into.
//!
//! Parsers build these; the engine, planner and reporters only read them. Nothing here does I/O.

mod names;
mod state;

pub use compact_str::{CompactString, ToCompactString};
pub use names::{HostKey, HostMap, NameHasher, cmp_folded};
pub use state::{HostState, Platform, VmState};

use std::collections::BTreeMap;

/// A merged inventory: every host and VM the exports listed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// When the export was taken (the oldest of the merged files).
    pub collected_at: Option<jiff::Timestamp>,
    /// The platform the export came from, when the format or the file says so.
    pub platform: Option<Platform>,
    pub hosts: Vec<Host>,
    pub vms: Vec<Vm>,
    /// What the export did not carry and so could not be judged (e.g. no HA flag).
    pub gaps: Vec<Gap>,
}

/// A hypervisor host.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: CompactString,
    pub cluster: Option<CompactString>,
    pub state: HostState,
    /// Physical memory in MiB; `None` when the export did not say (capacity unknown).
    pub memory_mb: Option<u64>,
    pub cpus: Option<u32>,
    /// True when the host was not listed but implied by a VM placed on it.
    pub implied: bool,
}

/// A virtual machine.
///
/// Names, ids, hosts and tags are [`CompactString`]s: up to 24 bytes live inside the struct,
/// so reading a million VMs allocates only for the longer ones (GUID ids), and code walking
/// VMs in order finds their names next to them instead of behind a pointer each.
#[derive(Debug, Clone, PartialEq)]
pub struct Vm {
    pub name: CompactString,
    pub id: Option<CompactString>,
    /// The name of the host it runs on, as the export spelled it.
    pub host: CompactString,
    pub state: VmState,
    /// Highly available (clustered role, HA-managed). `None` when the export did not say.
    pub ha: Option<bool>,
    pub memory_mb: Option<u64>,
    pub vcpus: Option<u32>,
    pub tags: Vec<CompactString>,
    /// Raw values from the export worth keeping as evidence (an unknown state's raw value, a lock).
    pub evidence: BTreeMap<String, String>,
}

/// Something the inventory could not tell, and which property to export to close the gap.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gap {
    /// What is missing, e.g. `ha`.
    pub field: String,
    /// How many records lacked it.
    pub count: usize,
    /// What to export next time, e.g. "add IsHighlyAvailable to Select-Object".
    pub hint: String,
}

impl Vm {
    /// The key that identifies a VM: its id when it has one, else its name.
    pub fn key(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
}

impl Inventory {
    /// Adds a host for every VM whose host is not listed, with unknown capacity.
    /// Host names compare case-insensitively; an implied host is spelled as its first VM has it.
    pub fn imply_missing_hosts(&mut self) {
        let mut seen: HostMap<'_, bool> = HostMap::default();
        seen.reserve(self.hosts.len());
        for h in &self.hosts {
            seen.insert(HostKey(&h.name), false);
        }
        let mut implied: Vec<&str> = Vec::new();
        for vm in &self.vms {
            seen.entry(HostKey(&vm.host)).or_insert_with(|| {
                implied.push(&vm.host);
                true
            });
        }
        implied.sort_by(|a, b| cmp_folded(a, b));
        let implied: Vec<String> = implied.into_iter().map(str::to_string).collect();
        for name in implied {
            self.hosts.push(Host {
                name: name.into(),
                cluster: None,
                state: HostState::Up,
                memory_mb: None,
                cpus: None,
                implied: true,
            });
        }
    }

    /// Sorts hosts and VMs into a canonical order so that output never depends on input order.
    pub fn canonicalize(&mut self) {
        self.hosts
            .sort_by(|a, b| cmp_folded(&a.name, &b.name).then_with(|| a.name.cmp(&b.name)));
        // A VM is some 200 bytes: sorting positions and moving each VM once is cheaper than
        // a stable sort moving VMs at every merge step. Ties keep input order (stable sort).
        // Comparing names through their VMs misses the cache at every step, so each VM's
        // first 16 name bytes are sorted instead, as one integer next to its position; the
        // names themselves are read only where those bytes tie.
        let vms = &self.vms;
        let mut keys: Vec<(u128, usize)> = vms
            .iter()
            .enumerate()
            .map(|(i, vm)| (name_prefix(&vm.name), i))
            .collect();
        keys.sort_unstable_by(|&(ka, a), &(kb, b)| {
            ka.cmp(&kb).then_with(|| {
                let (va, vb) = (&vms[a], &vms[b]);
                va.name
                    .cmp(&vb.name)
                    .then_with(|| va.host.cmp(&vb.host))
                    .then_with(|| va.id.cmp(&vb.id))
                    .then(a.cmp(&b))
            })
        });
        let mut order: Vec<usize> = keys.into_iter().map(|(_, i)| i).collect();
        permute(&mut self.vms, &mut order);
        self.gaps.sort();
    }

    /// Finds a host by exact name, case-insensitively.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }
}

/// The first 16 bytes of `name` as a big-endian integer, zero-padded: where two prefixes
/// differ they order as the names do (a name that ends early pads with the least byte).
fn name_prefix(name: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = name.len().min(16);
    bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

/// Reorders `items` so that position `i` holds what was at `order[i]`, swapping along the
/// permutation's cycles: every item moves once, in place. `order` is left as the identity.
fn permute<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start || from == at {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{name_prefix, permute};

    #[test]
    fn prefixes_that_differ_order_as_the_names_do() {
        let names = [
            "",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "abc",
            "B",
            "b",
            "vm-0000000000000001",
            "vm-0000000000000002",
            "vm-000000000000000",
            "é",
            "\u{7f}",
        ];
        for a in names {
            for b in names {
                let (pa, pb) = (name_prefix(a), name_prefix(b));
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), a.cmp(b), "{a:?} vs {b:?}");
                }
            }
        }
    }

    #[test]
    fn permute_follows_every_cycle() {
        let mut items = ['a', 'b', 'c', 'd', 'e', 'f'];
        let mut order = [2, 0, 1, 3, 5, 4];
        permute(&mut items, &mut order);
        assert_eq!(items, ['c', 'a', 'b', 'd', 'f', 'e']);
        assert_eq!(order, [0, 1, 2, 3, 4, 5]);
    }
}
