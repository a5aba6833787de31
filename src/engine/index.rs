//! An index over the inventory built once per run: hosts by name, VMs by host, clusters, and
//! the canonical order of the VMs.
//!
//! Everything the engine and planner say about "VM `i`" means the VM at canonical position
//! `i`: sorted by name, host and id (see [`Inventory::canonicalize`]), so that no output
//! depends on the order of the export. A prepared inventory ([`Inventory::prepare`]) keeps
//! its VMs where the parser put them, and the index maps canonical positions to them: moving
//! a million VMs into order cost a third of a second, looking them up costs nothing.

use crate::model::{Host, HostPositions, Inventory, Layout, Vm};

#[derive(Clone)]
pub struct InventoryIndex<'a> {
    pub inventory: &'a Inventory,
    /// Host position by name, case-insensitively.
    by_name: HostPositions<'a>,
    /// `inventory.vms[order[i]]` is the VM at canonical position `i`, and `rank` is the
    /// inverse; both `None` when the VMs are in canonical order already.
    order: Option<Vec<u32>>,
    rank: Option<Vec<u32>>,
    /// Canonical VM positions grouped by host, ascending: host `h`'s are
    /// `vms[starts[h]..starts[h + 1]]`. One flat list, not a growing list per host.
    vms: Vec<usize>,
    starts: Vec<usize>,
    /// Host position of each VM by canonical position (`u32::MAX` when its host is not
    /// listed): looked up once, so nothing downstream hashes a host name per VM again.
    host_of: Vec<u32>,
    /// Whether each host is a target of the request.
    is_target: Vec<bool>,
}

impl<'a> InventoryIndex<'a> {
    /// The index of an inventory whose VMs are in canonical order (canonicalized).
    pub fn new(inventory: &'a Inventory, targets: &[String]) -> Self {
        let by_name = hosts_by_name(inventory);
        let mut host_of = Vec::with_capacity(inventory.vms.len());
        // Exports list a host's VMs together: the previous VM's host is the likely one.
        let mut last: Option<(&str, u32)> = None;
        for vm in &inventory.vms {
            let pos = match last {
                Some((name, h)) if name == vm.host => h,
                _ => by_name.get(&vm.host).unwrap_or(u32::MAX),
            };
            host_of.push(pos);
            last = Some((&vm.host, pos));
        }
        Self::build(inventory, by_name, None, host_of, targets)
    }

    /// The index of a prepared inventory, from the [`Layout`] that [`Inventory::prepare`]
    /// returned: no VM's host is looked up again and no VM is moved.
    pub fn with_layout(inventory: &'a Inventory, layout: Layout, targets: &[String]) -> Self {
        let (n, hosts) = (inventory.vms.len(), inventory.hosts.len());
        let fits = layout.vm_hosts.len() == n
            && layout.order.len() == n
            && layout.vm_hosts.iter().all(|&h| (h as usize) < hosts)
            && is_permutation(&layout.order);
        if !fits {
            // Not the layout of this inventory: work it out here instead.
            let mut index = Self::new(inventory, targets);
            let order = inventory.canonical_order();
            index.host_of = order.iter().map(|&p| index.host_of[p as usize]).collect();
            return Self::build(
                inventory,
                index.by_name,
                Some(order),
                index.host_of,
                targets,
            );
        }
        let host_of = layout
            .order
            .iter()
            .map(|&p| layout.vm_hosts[p as usize])
            .collect();
        let by_name = hosts_by_name(inventory);
        Self::build(inventory, by_name, Some(layout.order), host_of, targets)
    }

    fn build(
        inventory: &'a Inventory,
        by_name: HostPositions<'a>,
        order: Option<Vec<u32>>,
        host_of: Vec<u32>,
        targets: &[String],
    ) -> Self {
        let mut counts = vec![0usize; inventory.hosts.len() + 1];
        for &h in &host_of {
            if h != u32::MAX {
                counts[h as usize + 1] += 1;
            }
        }
        for h in 1..counts.len() {
            counts[h] += counts[h - 1];
        }
        let starts = counts.clone();
        let mut vms = vec![0; counts[counts.len() - 1]];
        for (i, &h) in host_of.iter().enumerate() {
            if h != u32::MAX {
                let at = &mut counts[h as usize];
                vms[*at] = i;
                *at += 1;
            }
        }
        let rank = order.as_ref().map(|order| {
            let mut rank = vec![0u32; order.len()];
            for (i, &p) in order.iter().enumerate() {
                rank[p as usize] = i as u32;
            }
            rank
        });
        let mut index = InventoryIndex {
            inventory,
            by_name,
            order,
            rank,
            vms,
            starts,
            host_of,
            is_target: vec![false; inventory.hosts.len()],
        };
        index.set_targets(targets);
        index
    }

    /// Makes `targets` the drained hosts, keeping the rest of the index: a rolling drain asks
    /// the same questions of one host after another without re-reading every VM.
    pub fn set_targets(&mut self, targets: &[String]) {
        self.is_target.fill(false);
        for t in targets {
            if let Some(h) = self.by_name.get(t) {
                self.is_target[h as usize] = true;
            }
        }
    }

    pub fn host_pos(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).map(|h| h as usize)
    }

    /// The VM at canonical position `i`.
    pub fn vm(&self, i: usize) -> &'a Vm {
        let inventory: &'a Inventory = self.inventory;
        match &self.order {
            Some(order) => &inventory.vms[order[i] as usize],
            None => &inventory.vms[i],
        }
    }

    /// Every VM with its canonical position, in the order they lie in memory: for sums and
    /// lookups over all VMs, where reading them in canonical order would miss the cache.
    pub fn each_vm(&self) -> impl Iterator<Item = (usize, &'a Vm)> + '_ {
        let inventory: &'a Inventory = self.inventory;
        inventory
            .vms
            .iter()
            .enumerate()
            .map(|(p, vm)| match &self.rank {
                Some(rank) => (rank[p] as usize, vm),
                None => (p, vm),
            })
    }

    /// The position of the host VM `vm` (a canonical position) runs on.
    pub fn host_of_vm(&self, vm: usize) -> Option<usize> {
        match self.host_of[vm] {
            u32::MAX => None,
            h => Some(h as usize),
        }
    }

    pub fn host(&self, pos: usize) -> &'a Host {
        &self.inventory.hosts[pos]
    }

    pub fn vms_on(&self, pos: usize) -> impl Iterator<Item = &'a Vm> + '_ {
        self.vm_positions_on(pos).iter().map(|&i| self.vm(i))
    }

    /// Canonical positions of the VMs on a host, ascending.
    pub fn vm_positions_on(&self, pos: usize) -> &[usize] {
        &self.vms[self.starts[pos]..self.starts[pos + 1]]
    }

    pub fn is_target(&self, pos: usize) -> bool {
        self.is_target[pos]
    }

    /// Target host positions, in inventory order.
    pub fn targets(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.is_target.len()).filter(|&i| self.is_target[i])
    }

    /// `hosts` grouped by cluster name, clusters in name order (hosts without one together).
    pub fn by_cluster(
        &self,
        hosts: impl IntoIterator<Item = usize>,
    ) -> std::collections::BTreeMap<Option<String>, Vec<usize>> {
        let mut out: std::collections::BTreeMap<Option<String>, Vec<usize>> = Default::default();
        for h in hosts {
            out.entry(self.host(h).cluster.as_deref().map(str::to_string))
                .or_default()
                .push(h);
        }
        out
    }

    /// The hosts of the same cluster as `pos` (including it). Hosts without a cluster are taken
    /// as one group: an export that names no cluster usually comes from a single one.
    pub fn cluster_peers(&self, pos: usize) -> impl Iterator<Item = usize> + '_ {
        let cluster = self.inventory.hosts[pos].cluster.clone();
        (0..self.inventory.hosts.len()).filter(move |&i| self.inventory.hosts[i].cluster == cluster)
    }
}

/// Whether `order` holds each of `0..order.len()` once.
fn is_permutation(order: &[u32]) -> bool {
    let mut seen = vec![false; order.len()];
    order.iter().all(|&p| {
        seen.get_mut(p as usize)
            .is_some_and(|s| !std::mem::replace(s, true))
    })
}

/// Host position by name, case-insensitively; the first of names differing only in case.
fn hosts_by_name(inventory: &Inventory) -> HostPositions<'_> {
    let mut by_name = HostPositions::default();
    for (i, h) in inventory.hosts.iter().enumerate() {
        by_name.insert(&h.name, i as u32);
    }
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Layout, VmState};

    #[test]
    fn prepared_positions_give_the_index_a_lookup_would() {
        let host = Host::named;
        let vm = |name: &str, on: &str| Vm {
            state: VmState::Running,
            ..Vm::on(name, on)
        };
        let read = Inventory {
            hosts: vec![host("b"), host("A")],
            vms: vec![
                vm("5", "b"),
                vm("1", "a"),
                vm("3", "c"),
                vm("4", "A"),
                vm("2", "B"),
            ],
            ..Inventory::default()
        };
        let (prepared, layout, sorted) = read.prepared_beside_canonical();
        assert_eq!(
            prepared.vms[0].name, "5",
            "prepare leaves the VMs where they are"
        );
        let targets = ["a".to_string()];
        let looked_up = InventoryIndex::new(&sorted, &targets);
        let laid_out = InventoryIndex::with_layout(&prepared, layout, &targets);
        let names = |index: &InventoryIndex<'_>, h: usize| -> Vec<String> {
            index.vms_on(h).map(|v| v.name.to_string()).collect()
        };
        for h in 0..sorted.hosts.len() {
            assert_eq!(names(&laid_out, h), names(&looked_up, h));
            assert_eq!(laid_out.vm_positions_on(h), looked_up.vm_positions_on(h));
            assert_eq!(laid_out.is_target(h), looked_up.is_target(h));
        }
        for i in 0..sorted.vms.len() {
            assert_eq!(laid_out.vm(i), looked_up.vm(i));
            assert_eq!(laid_out.host_of_vm(i), looked_up.host_of_vm(i));
        }
        let mut each: Vec<(usize, String)> = laid_out
            .each_vm()
            .map(|(i, v)| (i, v.name.to_string()))
            .collect();
        each.sort();
        let expected: Vec<(usize, String)> = looked_up
            .each_vm()
            .map(|(i, v)| (i, v.name.to_string()))
            .collect();
        assert_eq!(each, expected);
        assert_eq!(names(&laid_out, 0), ["1", "4"], "a and A, by name");
        // A layout of another inventory is not trusted: the index works it out itself.
        let wrong = Layout {
            vm_hosts: vec![9; 5],
            order: vec![0; 5],
        };
        let fallback = InventoryIndex::with_layout(&prepared, wrong, &targets);
        for i in 0..sorted.vms.len() {
            assert_eq!(fallback.vm(i), looked_up.vm(i));
            assert_eq!(fallback.host_of_vm(i), looked_up.host_of_vm(i));
        }
    }
}
