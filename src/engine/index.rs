//! An index over the inventory built once per run: hosts by name, VMs by host, clusters.

use crate::model::{Host, HostKey, HostMap, Inventory, Vm};

pub struct InventoryIndex<'a> {
    pub inventory: &'a Inventory,
    /// Host position by name, case-insensitively (borrowed: no lowercase copies).
    by_name: HostMap<'a, usize>,
    /// VM positions grouped by host: host `h`'s are `vms[starts[h]..starts[h + 1]]`, in
    /// inventory order. One flat list, not a growing list per host.
    vms: Vec<usize>,
    starts: Vec<usize>,
    /// Host position of each VM (`u32::MAX` when its host is not listed): looked up once,
    /// so nothing downstream hashes a host name per VM again.
    host_of: Vec<u32>,
    /// Whether each host is a target of the request.
    is_target: Vec<bool>,
}

impl<'a> InventoryIndex<'a> {
    pub fn new(inventory: &'a Inventory, targets: &[String]) -> Self {
        let by_name = hosts_by_name(inventory);
        let mut host_of = Vec::with_capacity(inventory.vms.len());
        // Exports list a host's VMs together: the previous VM's host is the likely one.
        let mut last: Option<(&str, u32)> = None;
        for vm in &inventory.vms {
            let pos = match last {
                Some((name, h)) if name == vm.host => h,
                _ => by_name
                    .get(&HostKey(&vm.host))
                    .map_or(u32::MAX, |&h| h as u32),
            };
            host_of.push(pos);
            last = Some((&vm.host, pos));
        }
        Self::build(inventory, by_name, host_of, targets)
    }

    /// The index of a prepared inventory, given the host position of each VM that
    /// [`Inventory::prepare`] returned: no VM's host is looked up again.
    pub fn with_vm_hosts(inventory: &'a Inventory, vm_hosts: Vec<u32>, targets: &[String]) -> Self {
        let hosts = inventory.hosts.len();
        if vm_hosts.len() != inventory.vms.len() || vm_hosts.iter().any(|&h| h as usize >= hosts) {
            // Not the positions of this inventory: look them up after all.
            return Self::new(inventory, targets);
        }
        Self::build(inventory, hosts_by_name(inventory), vm_hosts, targets)
    }

    fn build(
        inventory: &'a Inventory,
        by_name: HostMap<'a, usize>,
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
        let mut index = InventoryIndex {
            inventory,
            by_name,
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
            if let Some(&h) = self.by_name.get(&HostKey(t)) {
                self.is_target[h] = true;
            }
        }
    }

    pub fn host_pos(&self, name: &str) -> Option<usize> {
        self.by_name.get(&HostKey(name)).copied()
    }

    /// The position of the host VM `vm` (a position in `inventory.vms`) runs on.
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
        self.vm_positions_on(pos)
            .iter()
            .map(|&i| &self.inventory.vms[i])
    }

    /// Positions in `inventory.vms` of the VMs on a host, in inventory order.
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

    /// The hosts of the same cluster as `pos` (including it). Hosts without a cluster are taken
    /// as one group: an export that names no cluster usually comes from a single one.
    pub fn cluster_peers(&self, pos: usize) -> impl Iterator<Item = usize> + '_ {
        let cluster = self.inventory.hosts[pos].cluster.clone();
        (0..self.inventory.hosts.len()).filter(move |&i| self.inventory.hosts[i].cluster == cluster)
    }
}

/// Host position by name, case-insensitively; the first of names differing only in case.
fn hosts_by_name(inventory: &Inventory) -> HostMap<'_, usize> {
    let mut by_name = HostMap::default();
    by_name.reserve(inventory.hosts.len());
    for (i, h) in inventory.hosts.iter().enumerate() {
        by_name.entry(HostKey(h.name.as_str())).or_insert(i);
    }
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HostState, VmState};

    #[test]
    fn prepared_positions_give_the_index_a_lookup_would() {
        let host = |name: &str| Host {
            name: name.into(),
            cluster: None,
            state: HostState::Up,
            memory_mb: None,
            cpus: None,
            implied: false,
        };
        let vm = |name: &str, on: &str| Vm {
            name: name.into(),
            id: None,
            host: on.into(),
            state: VmState::Running,
            ha: None,
            memory_mb: None,
            vcpus: None,
            tags: Vec::new(),
            evidence: Default::default(),
        };
        let mut inventory = Inventory {
            hosts: vec![host("b"), host("A")],
            vms: vec![
                vm("1", "a"),
                vm("2", "B"),
                vm("3", "c"),
                vm("4", "A"),
                vm("5", "b"),
            ],
            ..Inventory::default()
        };
        let vm_hosts = inventory.prepare();
        let targets = ["a".to_string()];
        let looked_up = InventoryIndex::new(&inventory, &targets);
        let given = InventoryIndex::with_vm_hosts(&inventory, vm_hosts, &targets);
        for h in 0..inventory.hosts.len() {
            assert_eq!(given.vm_positions_on(h), looked_up.vm_positions_on(h));
            assert_eq!(given.is_target(h), looked_up.is_target(h));
        }
        for v in 0..inventory.vms.len() {
            assert_eq!(given.host_of_vm(v), looked_up.host_of_vm(v));
        }
        assert_eq!(given.vm_positions_on(0).len(), 2, "a and A");
        // Positions of another inventory are not trusted.
        let wrong = InventoryIndex::with_vm_hosts(&inventory, vec![9; 5], &targets);
        assert_eq!(wrong.vm_positions_on(0), looked_up.vm_positions_on(0));
    }
}
