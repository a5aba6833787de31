//! The domain: hosts, VMs and their states, as every inventory format is read into.
//!
//! Parsers build these; the engine, planner and reporters only read them. Nothing here does I/O.

mod facts;
mod names;
mod state;

pub use compact_str::CompactString;
pub use facts::{
    Attributes, Fact, FactSet, FileRef, HostFacts, VmFacts, infer_shared, is_type_name,
};
pub(crate) use names::HostPositions;
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
    /// The networks and CPU it offers (CONTRACT 7.1), as far as the export says.
    pub facts: HostFacts,
}

/// Where the VMs of a prepared inventory are ([`Inventory::prepare`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The position in `hosts` of each VM's host, VM by VM.
    pub vm_hosts: Vec<u32>,
    /// The positions of the VMs in canonical order: `vms[order[0]]` comes first.
    pub order: Vec<u32>,
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
    /// A template (Proxmox `template: 1`, vSphere templates): never runs, but is stored on the
    /// host and lost with it when the host is retired. Absent in an export means false.
    pub template: bool,
    /// Raw values from the export worth keeping as evidence (an unknown state's raw value, a lock).
    pub evidence: BTreeMap<String, String>,
    /// What ties it to its host (CONTRACT 7.1); `None` when the export carries none of it,
    /// which keeps a VM of an older export one pointer larger and no more.
    pub facts: Option<Box<VmFacts>>,
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
    /// The facts (CONTRACT 7.1) at least one VM or host carries: a rule that needs a fact no
    /// record carries reports one gap for the export rather than one finding per VM.
    pub fn facts_carried(&self) -> FactSet {
        let mut set = FactSet::default();
        // Every rule that needs a fact asks this: stop at the first VM that carries them all
        // (at scale, most do) rather than walk a million VMs per rule.
        let all = VmFacts::all_carried();
        for f in self.vms.iter().filter_map(|vm| vm.facts.as_deref()) {
            set = set.union(f.carried());
            if set == all {
                break;
            }
        }
        for h in &self.hosts {
            if h.facts.networks.is_some() {
                set.insert(Fact::HostNetworks);
            }
            if h.facts.cpu.is_some() {
                set.insert(Fact::HostCpu);
            }
        }
        set
    }

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
                facts: HostFacts::default(),
            });
        }
    }

    /// Sorts hosts and VMs into a canonical order so that output never depends on input order.
    pub fn canonicalize(&mut self) {
        self.sort_hosts();
        let order = self.canonical_order();
        permute(&mut self.vms, &order);
        self.gaps.sort();
    }

    /// Implies missing hosts and sorts hosts and gaps, as [`imply_missing_hosts`] and
    /// [`canonicalize`] do, but leaves the VMs where they are: the returned [`Layout`] gives
    /// their canonical order and each VM's host position instead (see
    /// `engine::InventoryIndex::with_layout`). At a million VMs, moving them into order cost
    /// a third of a second and joining each to its host another fifth, done twice; here the
    /// join is done once and nothing moves.
    ///
    /// [`imply_missing_hosts`]: Inventory::imply_missing_hosts
    /// [`canonicalize`]: Inventory::canonicalize
    pub fn prepare(&mut self) -> Layout {
        // Joining and ordering read different fields of the VMs: at scale, on two threads.
        let ((mut vm_hosts, implied), order) = crate::par::join_if(
            self.vms.len(),
            || self.join_hosts(),
            || self.canonical_order(),
        );
        for name in implied {
            self.hosts.push(Host {
                name,
                cluster: None,
                state: HostState::Up,
                memory_mb: None,
                cpus: None,
                implied: true,
                facts: HostFacts::default(),
            });
        }
        let new_pos = self.sort_hosts();
        for h in &mut vm_hosts {
            *h = new_pos[*h as usize];
        }
        self.gaps.sort();
        Layout { vm_hosts, order }
    }

    /// Each VM's host position, where a host not listed gets the next position after the
    /// listed ones in order of first use; and the names of those implied hosts.
    fn join_hosts(&self) -> (Vec<u32>, Vec<CompactString>) {
        let mut by_name = HostPositions::default();
        for (i, h) in self.hosts.iter().enumerate() {
            by_name.insert(&h.name, i as u32);
        }
        let mut implied = Vec::new();
        let mut vm_hosts = Vec::with_capacity(self.vms.len());
        // Exports often list a host's VMs together: the previous VM's host is the likely one.
        let mut last: Option<(&str, u32)> = None;
        for vm in &self.vms {
            let pos = match last {
                Some((name, h)) if name == vm.host => h,
                _ => by_name.get(&vm.host).unwrap_or_else(|| {
                    let pos = (self.hosts.len() + implied.len()) as u32;
                    implied.push(vm.host.clone());
                    by_name.insert(&vm.host, pos);
                    pos
                }),
            };
            vm_hosts.push(pos);
            last = Some((&vm.host, pos));
        }
        (vm_hosts, implied)
    }

    /// Sorts the hosts by name and returns each old position's new one. Hosts whose names
    /// differ only in case (which merging leaves none of) all map to the first of them, as
    /// looking the name up would.
    fn sort_hosts(&mut self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.hosts.len() as u32).collect();
        let hosts = &self.hosts;
        order.sort_by(|&a, &b| {
            let (a, b) = (&hosts[a as usize].name, &hosts[b as usize].name);
            cmp_folded(a, b).then_with(|| a.cmp(b))
        });
        let mut new_pos = vec![0u32; order.len()];
        let mut first = 0;
        for (rank, &old) in order.iter().enumerate() {
            if rank > 0
                && !hosts[order[rank - 1] as usize]
                    .name
                    .eq_ignore_ascii_case(&hosts[old as usize].name)
            {
                first = rank;
            }
            new_pos[old as usize] = first as u32;
        }
        permute(&mut self.hosts, &order);
        new_pos
    }

    /// The canonical order of the VMs (by name, host, id, then position), as positions.
    pub fn canonical_order(&self) -> Vec<u32> {
        // Comparing names through their VMs misses the cache at every step, so each VM's
        // first 16 name bytes are sorted instead, as one integer next to its position; the
        // names themselves are read only where those bytes tie.
        // The prefix is kept as two halves next to a 4-byte position: 24 bytes a VM where a
        // 16-byte-aligned u128 and a usize took 32 (the largest buffer of a 1M-VM run).
        let vms = &self.vms;
        let mut keys: Vec<(u64, u64, u32)> = vms
            .iter()
            .enumerate()
            .map(|(i, vm)| {
                let prefix = name_prefix(&vm.name);
                ((prefix >> 64) as u64, prefix as u64, i as u32)
            })
            .collect();
        keys.sort_unstable_by(|&(ha, la, a), &(hb, lb, b)| {
            (ha, la).cmp(&(hb, lb)).then_with(|| {
                let (va, vb) = (&vms[a as usize], &vms[b as usize]);
                va.name
                    .cmp(&vb.name)
                    .then_with(|| va.host.cmp(&vb.host))
                    .then_with(|| va.id.cmp(&vb.id))
                    .then(a.cmp(&b))
            })
        });
        keys.into_iter().map(|(_, _, i)| i).collect()
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

/// Reorders `items` in place so that position `i` holds what was at `order[i]`, swapping
/// along the permutation's cycles: every item moves once.
fn permute<T>(items: &mut [T], order: &[u32]) {
    let mut done = vec![false; order.len()];
    for start in 0..order.len() {
        let mut at = start;
        while !done[at] {
            done[at] = true;
            let from = order[at] as usize;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// Test values: a VM or host with a name and nothing else known.
#[cfg(test)]
impl Vm {
    /// The VM `name` on `host`, its state unknown and nothing else said.
    pub(crate) fn on(name: &str, host: &str) -> Vm {
        Vm {
            name: name.into(),
            id: None,
            host: host.into(),
            state: VmState::Unknown,
            ha: None,
            memory_mb: None,
            vcpus: None,
            tags: Vec::new(),
            template: false,
            evidence: BTreeMap::new(),
            facts: None,
        }
    }
}

#[cfg(test)]
impl Inventory {
    /// This inventory prepared, its layout, and the same inventory implied and canonicalized
    /// (what `prepare` must agree with).
    pub(crate) fn prepared_beside_canonical(self) -> (Inventory, Layout, Inventory) {
        let mut canonical = self.clone();
        canonical.imply_missing_hosts();
        canonical.canonicalize();
        let mut prepared = self;
        let layout = prepared.prepare();
        (prepared, layout, canonical)
    }
}

#[cfg(test)]
impl Host {
    /// The host `name`, up, its capacity unknown.
    pub(crate) fn named(name: &str) -> Host {
        Host {
            name: name.into(),
            cluster: None,
            state: HostState::Up,
            memory_mb: None,
            cpus: None,
            implied: false,
            facts: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_vm_without_facts_costs_one_pointer() {
        // 152 bytes before the facts existed; the boxed facts add one pointer and no more.
        assert!(
            std::mem::size_of::<Vm>() <= 160,
            "{}",
            std::mem::size_of::<Vm>()
        );
        assert_eq!(std::mem::size_of::<Option<Box<VmFacts>>>(), 8);
    }

    #[test]
    fn facts_carried_unions_vms_and_hosts() {
        let mut inv = Inventory {
            vms: vec![vm("a", "H1"), vm("b", "H1")],
            hosts: vec![host("H1")],
            ..Inventory::default()
        };
        assert!(inv.facts_carried().is_empty());
        inv.vms[1].facts = Some(Box::new(VmFacts {
            media: Some(vec![]),
            anti_affinity: vec!["g".into()],
            ..VmFacts::default()
        }));
        inv.hosts[0].facts.cpu = Some("Xeon".into());
        let set = inv.facts_carried();
        assert!(set.contains(Fact::Media) && set.contains(Fact::HostCpu));
        assert!(!set.contains(Fact::Disks) && !set.contains(Fact::HostNetworks));
    }

    #[test]
    fn permute_follows_every_cycle() {
        let mut items = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
        permute(&mut items, &[2, 0, 1, 3, 5, 4, 6]);
        assert_eq!(items, ['c', 'a', 'b', 'd', 'f', 'e', 'g']);
    }

    fn vm(name: &str, host: &str) -> Vm {
        Vm::on(name, host)
    }

    fn host(name: &str) -> Host {
        Host::named(name)
    }

    #[test]
    fn prepare_is_imply_then_canonicalize_and_joins_every_vm_to_its_host() {
        let inventory = Inventory {
            hosts: vec![host("hv02"), host("HV01"), host("a")],
            vms: vec![
                vm("z", "HV02"),
                vm("y", "new2"),
                vm("x", "hv01"),
                vm("w", "New1"),
                vm("v", "NEW2"),
                vm("u", "hv02"),
            ],
            ..Inventory::default()
        };
        check_prepare(inventory);
    }

    /// Prepares `inventory` and checks that the layout joins every VM to the first host of its
    /// name (any case) and, applied, gives what implying and canonicalizing give.
    fn check_prepare(inventory: Inventory) {
        let (prepared, layout, expected) = inventory.prepared_beside_canonical();
        assert_eq!(layout.vm_hosts.len(), prepared.vms.len());
        for (vm, &h) in prepared.vms.iter().zip(&layout.vm_hosts) {
            let first = prepared
                .hosts
                .iter()
                .position(|x| x.name.eq_ignore_ascii_case(&vm.host));
            assert_eq!(Some(h as usize), first, "{} on {}", vm.name, vm.host);
        }
        assert_eq!(in_order(prepared, &layout), expected);
    }

    /// A prepared inventory with its VMs moved into the layout's order.
    fn in_order(mut inventory: Inventory, layout: &Layout) -> Inventory {
        permute(&mut inventory.vms, &layout.order);
        inventory
    }

    #[test]
    fn hosts_differing_in_case_join_the_first_in_order() {
        let mut inventory = Inventory {
            hosts: vec![host("hv01"), host("HV01")],
            vms: vec![vm("a", "hv01")],
            ..Inventory::default()
        };
        let layout = inventory.prepare();
        assert_eq!(inventory.hosts[layout.vm_hosts[0] as usize].name, "HV01");
    }

    proptest::proptest! {
        /// `prepare` equals implying then canonicalizing, for any mix of listed, unlisted and
        /// differently cased host names, and joins every VM to the host its name matches.
        #[test]
        fn prepare_matches_the_two_steps(
            hosts in proptest::collection::vec(0usize..8, 0..6),
            vms in proptest::collection::vec((0usize..4, 0usize..8), 0..30),
        ) {
            const NAMES: [&str; 8] = ["hv1", "HV1", "Hv2", "hv2", "x", "X", "y", "hv10"];
            let inventory = Inventory {
                hosts: hosts.iter().map(|&h| host(NAMES[h])).collect(),
                vms: vms.iter().map(|&(n, h)| vm(["a", "b", "B", "c"][n], NAMES[h])).collect(),
                ..Inventory::default()
            };
            check_prepare(inventory);
        }
    }
}
