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
        let mut by_name = HostMap::default();
        by_name.reserve(inventory.hosts.len());
        for (i, h) in inventory.hosts.iter().enumerate() {
            by_name.entry(HostKey(h.name.as_str())).or_insert(i);
        }
        let mut host_of = Vec::with_capacity(inventory.vms.len());
        let mut counts = vec![0usize; inventory.hosts.len() + 1];
        // Exports list a host's VMs together: the previous VM's host is the likely one.
        let mut last: Option<(&str, usize)> = None;
        for vm in &inventory.vms {
            let pos = match last {
                Some((name, h)) if name == vm.host => Some(h),
                _ => by_name.get(&HostKey(&vm.host)).copied(),
            };
            match pos {
                Some(h) => {
                    counts[h + 1] += 1;
                    host_of.push(h as u32);
                    last = Some((&vm.host, h));
                }
                None => host_of.push(u32::MAX),
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
