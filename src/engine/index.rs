//! An index over the inventory built once per run: hosts by name, VMs by host, clusters.

use crate::model::{Host, HostKey, HostMap, Inventory, Vm};

pub struct InventoryIndex<'a> {
    pub inventory: &'a Inventory,
    /// Host position by name, case-insensitively (borrowed: no lowercase copies).
    by_name: HostMap<'a, usize>,
    /// VM positions per host position.
    vms_of: Vec<Vec<usize>>,
    /// Whether each host is a target of the request.
    is_target: Vec<bool>,
}

impl<'a> InventoryIndex<'a> {
    pub fn new(inventory: &'a Inventory, targets: &[String]) -> Self {
        let mut by_name = HostMap::default();
        by_name.reserve(inventory.hosts.len());
        for (i, h) in inventory.hosts.iter().enumerate() {
            by_name.entry(HostKey(h.name.as_str())).or_insert(i);
        }
        let mut vms_of = vec![Vec::new(); inventory.hosts.len()];
        for (i, vm) in inventory.vms.iter().enumerate() {
            if let Some(&h) = by_name.get(&HostKey(&vm.host)) {
                vms_of[h].push(i);
            }
        }
        let mut index = InventoryIndex {
            inventory,
            by_name,
            vms_of,
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

    pub fn host(&self, pos: usize) -> &'a Host {
        &self.inventory.hosts[pos]
    }

    pub fn vms_on(&self, pos: usize) -> impl Iterator<Item = &'a Vm> + '_ {
        self.vms_of[pos].iter().map(|&i| &self.inventory.vms[i])
    }

    /// Positions in `inventory.vms` of the VMs on a host, in inventory order.
    pub fn vm_positions_on(&self, pos: usize) -> &[usize] {
        &self.vms_of[pos]
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
