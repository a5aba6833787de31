//! From VMs and hosts to a placement [`Problem`]: the constraints of CONTRACT 7.4 as excluded
//! hosts and anti-affinity groups, and the VMs of an affinity group joined into one item.
//!
//! A constraint excludes a host only when the facts show it is broken there: an unknown fact
//! (a VM's networks, a host's CPU) excludes nothing here. The constraint rules report what the
//! facts leave undetermined; the planner does not invent a violation from a missing fact.

use super::{Item, Problem, Refusal, Search};
use crate::model::{CompactString, Host, HostKey, Vm, cmp_folded};
use std::collections::BTreeMap;

/// Why a VM may not go to a host, as the finding that lists the candidates says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exclusion {
    /// Not among the VM's allowed hosts.
    NotAllowed,
    /// The host lacks these of the VM's networks.
    Networks(Vec<CompactString>),
    /// The host's CPU model differs from the source's, and the VM is not CPU-compatible.
    Cpu {
        from: CompactString,
        to: CompactString,
    },
    /// A member of this anti-affinity group runs there (or is placed there).
    AntiAffinity(CompactString),
    /// Not enough room above the floor: the host has `room` MiB.
    NoRoom { room: i64 },
}

impl std::fmt::Display for Exclusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exclusion::NotAllowed => f.write_str("not among its allowed hosts"),
            Exclusion::Networks(n) => write!(f, "lacks network {}", n.join(", ")),
            Exclusion::Cpu { from, to } => {
                write!(f, "CPU {to}, not {from}, and no CPU compatibility")
            }
            Exclusion::AntiAffinity(g) => write!(f, "runs a member of anti-affinity group {g}"),
            Exclusion::NoRoom { room } => {
                write!(f, "{} MiB of room above the floor", room.max(&0))
            }
        }
    }
}

/// What `vm`, now on `from`, may not do on `to`, judged by its facts alone (not room, not
/// groups).
pub fn excluded(vm: &Vm, from: Option<&Host>, to: &Host) -> Option<Exclusion> {
    let f = vm.facts.as_deref()?;
    if !f.allowed_hosts.is_empty()
        && !f
            .allowed_hosts
            .iter()
            .any(|a| HostKey(a) == HostKey(&to.name))
    {
        return Some(Exclusion::NotAllowed);
    }
    if let (Some(need), Some(offered)) = (&f.networks, &to.facts.networks) {
        let missing: Vec<CompactString> = need
            .iter()
            .filter(|n| !offered.iter().any(|o| o.eq_ignore_ascii_case(n)))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Some(Exclusion::Networks(missing));
        }
    }
    if f.cpu_compat == Some(false)
        && let (Some(a), Some(b)) = (from.and_then(|h| h.facts.cpu.as_ref()), &to.facts.cpu)
        && a != b
    {
        return Some(Exclusion::Cpu {
            from: a.clone(),
            to: b.clone(),
        });
    }
    None
}

/// A placement problem and how to read its solution back.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub problem: Problem,
    /// For each item, the positions (in the `moving` list given) of the VMs it stands for.
    pub members: Vec<Vec<usize>>,
    /// The anti-affinity group names, by the numbers the items use.
    pub groups: Vec<CompactString>,
}

/// The problem of placing `moving` (each with the host it leaves) onto `receivers` with
/// `room` MiB each, while `staying` VMs keep their hosts (positions in `receivers`).
pub fn build(
    moving: &[(&Vm, Option<&Host>)],
    receivers: &[&Host],
    room: &[i64],
    staying: &[(&Vm, usize)],
) -> Built {
    let mut groups: BTreeMap<CompactString, u32> = BTreeMap::new();
    let group_of = |name: &CompactString, groups: &mut BTreeMap<CompactString, u32>| {
        let key: CompactString = name.to_lowercase();
        let n = groups.len() as u32;
        *groups.entry(key).or_insert(n)
    };
    // Affinity: moving VMs that share a group name become one item.
    let mut unit_of: Vec<usize> = (0..moving.len()).collect();
    let mut first: BTreeMap<CompactString, usize> = BTreeMap::new();
    for (i, (vm, _)) in moving.iter().enumerate() {
        for g in vm.facts.iter().flat_map(|f| f.affinity.iter()) {
            let key: CompactString = g.to_lowercase();
            match first.get(&key) {
                Some(&j) => {
                    let root = find(&mut unit_of, j);
                    let me = find(&mut unit_of, i);
                    unit_of[me.max(root)] = me.min(root);
                }
                None => {
                    first.insert(key, i);
                }
            }
        }
    }
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut item_of_root: BTreeMap<usize, usize> = BTreeMap::new();
    for i in 0..moving.len() {
        let root = find(&mut unit_of, i);
        let item = *item_of_root.entry(root).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[item].push(i);
    }
    let mut items = Vec::with_capacity(members.len());
    for unit in &members {
        let mut item = Item::default();
        for &i in unit {
            let (vm, from) = moving[i];
            item.size += vm.memory_mb.unwrap_or(0);
            for (h, to) in receivers.iter().enumerate() {
                if excluded(vm, from, to).is_some() && !item.excluded.contains(&(h as u32)) {
                    item.excluded.push(h as u32);
                }
            }
            // Staying members of its affinity groups pin it to their host.
            for g in vm.facts.iter().flat_map(|f| f.affinity.iter()) {
                for (other, at) in staying {
                    let shares = other
                        .facts
                        .iter()
                        .flat_map(|f| f.affinity.iter())
                        .any(|o| o.eq_ignore_ascii_case(g));
                    if shares {
                        for h in (0..receivers.len()).filter(|h| h != at) {
                            if !item.excluded.contains(&(h as u32)) {
                                item.excluded.push(h as u32);
                            }
                        }
                    }
                }
            }
            for g in vm.facts.iter().flat_map(|f| f.anti_affinity.iter()) {
                let n = group_of(g, &mut groups);
                if !item.anti.contains(&n) {
                    item.anti.push(n);
                }
            }
        }
        item.excluded.sort_unstable();
        items.push(item);
    }
    let mut anti_taken: Vec<Vec<u32>> = vec![Vec::new(); groups.len()];
    for (vm, at) in staying {
        for g in vm.facts.iter().flat_map(|f| f.anti_affinity.iter()) {
            let key: CompactString = g.to_lowercase();
            if let Some(&n) = groups.get(&key) {
                anti_taken[n as usize].push(*at as u32);
            }
        }
    }
    let mut names: Vec<(u32, CompactString)> = groups.into_iter().map(|(k, n)| (n, k)).collect();
    names.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| cmp_folded(&a.1, &b.1)));
    Built {
        problem: Problem {
            items,
            room: room.to_vec(),
            anti_taken,
        },
        members,
        groups: names.into_iter().map(|(_, k)| k).collect(),
    }
}

/// Where each moving VM of one drain goes, placed under its constraints.
#[derive(Debug, Clone)]
pub struct Placed {
    /// Per moving VM (positions of the `moving` list given), the receiver it goes to.
    pub destination: Vec<Option<usize>>,
    pub search: Search,
    /// The problem solved, when a moving VM carried facts (else the sizes alone were placed).
    pub built: Option<Built>,
    /// The room each receiver had before the placement.
    pub room_before: Vec<i64>,
}

/// Places `moving` (each with the host it leaves) onto `receivers` with `room` MiB each (updated
/// to what is left), honouring every constraint of their facts while `staying()` VMs keep their
/// receivers: the one placement the capacity rule's drain simulation and the planner share.
/// When no moving VM carries a fact, the sizes alone are placed ([`super::solve_sizes`]: the
/// path a million VMs take), and `staying` is never called.
pub fn place<'v>(
    moving: &[(&'v Vm, Option<&'v Host>)],
    receivers: &[&Host],
    room: &mut [i64],
    staying: impl FnOnce() -> Vec<(&'v Vm, usize)>,
    budget: u64,
) -> Placed {
    let room_before = room.to_vec();
    if moving.iter().all(|(vm, _)| vm.facts.is_none()) {
        let sizes: Vec<u64> = moving
            .iter()
            .map(|(vm, _)| vm.memory_mb.unwrap_or(0))
            .collect();
        let s = super::solve_sizes(&sizes, budget, room);
        return Placed {
            destination: s.destination,
            search: s.search,
            built: None,
            room_before,
        };
    }
    let built = build(moving, receivers, room, &staying());
    let s = super::solve(&built.problem, budget, room);
    let mut destination = vec![None; moving.len()];
    for (item, dest) in s.destination.iter().enumerate() {
        for &m in &built.members[item] {
            destination[m] = *dest;
        }
    }
    Placed {
        destination,
        search: s.search,
        built: Some(built),
        room_before,
    }
}

impl Placed {
    /// For a moving VM that fits nowhere, each receiver with why it was excluded (judged
    /// before anything else is placed).
    pub fn why_not(
        &self,
        vm: usize,
        moving: &[(&Vm, Option<&Host>)],
        receivers: &[&Host],
    ) -> Vec<(CompactString, Exclusion)> {
        match &self.built {
            Some(b) => match b.members.iter().position(|m| m.contains(&vm)) {
                Some(item) => b.why_not(item, moving, receivers),
                None => Vec::new(),
            },
            None => {
                let need = moving[vm].0.memory_mb.unwrap_or(0) as i64;
                receivers
                    .iter()
                    .zip(&self.room_before)
                    .filter(|(_, r)| **r < need)
                    .map(|(h, r)| (h.name.clone(), Exclusion::NoRoom { room: *r }))
                    .collect()
            }
        }
    }

    /// How the search ended, in words for a finding about a VM that fits nowhere.
    pub fn search_words(&self) -> &'static str {
        match self.search {
            Search::Placed => "a placement was found",
            Search::NoneExists => "no placement of every VM exists",
            Search::BudgetSpent => {
                "no placement of every VM was found within the search budget (one may exist)"
            }
        }
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

impl Built {
    /// For an item that fits nowhere, each candidate host with why it was excluded, judged
    /// before anything else is placed (what the finding lists).
    pub fn why_not(
        &self,
        item: usize,
        moving: &[(&Vm, Option<&Host>)],
        receivers: &[&Host],
    ) -> Vec<(CompactString, Exclusion)> {
        let mut out = Vec::with_capacity(receivers.len());
        for (h, to) in receivers.iter().enumerate() {
            let by_facts = self.members[item]
                .iter()
                .find_map(|&i| excluded(moving[i].0, moving[i].1, to));
            let why = by_facts.or_else(|| {
                self.problem.refusal(item, h).map(|r| match r {
                    Refusal::AntiAffinity(g) => {
                        Exclusion::AntiAffinity(self.groups[g as usize].clone())
                    }
                    Refusal::NoRoom { room } => Exclusion::NoRoom { room },
                    // Pinned by a staying affinity member elsewhere.
                    Refusal::Excluded => Exclusion::NotAllowed,
                })
            });
            if let Some(why) = why {
                out.push((to.name.clone(), why));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HostFacts, VmFacts, VmState};
    use crate::placement::{DEFAULT_BUDGET, Search, solve};

    fn host(name: &str, networks: &[&str], cpu: &str) -> Host {
        let mut h = crate::model::Host {
            name: name.into(),
            cluster: None,
            state: crate::model::HostState::Up,
            memory_mb: Some(100),
            cpus: None,
            implied: false,
            facts: HostFacts::default(),
        };
        h.facts.networks = Some(networks.iter().map(|n| (*n).into()).collect());
        h.facts.cpu = Some(cpu.into());
        h
    }

    fn vm(name: &str, mb: u64, facts: VmFacts) -> Vm {
        Vm {
            name: name.into(),
            id: None,
            host: "H0".into(),
            state: VmState::Running,
            ha: Some(true),
            memory_mb: Some(mb),
            vcpus: None,
            tags: vec![],
            template: false,
            evidence: Default::default(),
            facts: Some(Box::new(facts)),
        }
    }

    #[test]
    fn facts_exclude_hosts_only_when_known_to_break() {
        let from = host("H0", &["Prod"], "Xeon");
        let to = host("H1", &["Backup"], "EPYC");
        let mut f = VmFacts {
            networks: Some(vec!["Prod".into()]),
            ..VmFacts::default()
        };
        assert_eq!(
            excluded(&vm("a", 1, f.clone()), Some(&from), &to),
            Some(Exclusion::Networks(vec!["Prod".into()]))
        );
        f.networks = None;
        assert_eq!(
            excluded(&vm("a", 1, f.clone()), Some(&from), &to),
            None,
            "unknown"
        );
        f.cpu_compat = Some(false);
        assert!(matches!(
            excluded(&vm("a", 1, f.clone()), Some(&from), &to),
            Some(Exclusion::Cpu { .. })
        ));
        f.cpu_compat = None;
        assert_eq!(excluded(&vm("a", 1, f.clone()), Some(&from), &to), None);
        f.allowed_hosts = vec!["h2".into()];
        assert_eq!(
            excluded(&vm("a", 1, f.clone()), Some(&from), &to),
            Some(Exclusion::NotAllowed)
        );
    }

    #[test]
    fn an_availability_group_drained_together_lands_apart() {
        let from = host("H0", &[], "X");
        let (h1, h2, h3) = (
            host("H1", &[], "X"),
            host("H2", &[], "X"),
            host("H3", &[], "X"),
        );
        let ag = VmFacts {
            anti_affinity: vec!["sql-ag".into()],
            ..VmFacts::default()
        };
        let (a, b) = (vm("SQL01", 10, ag.clone()), vm("SQL02", 10, ag.clone()));
        let c = vm("SQL03", 10, ag);
        let moving = [(&a, Some(&from)), (&b, Some(&from))];
        let receivers = [&h1, &h2, &h3];
        // SQL03 stays on H1; H2 has the most room, so largest first would stack both there.
        let built = build(&moving, &receivers, &[50, 90, 40], &[(&c, 0)]);
        let mut room = built.problem.room.clone();
        let s = solve(&built.problem, DEFAULT_BUDGET, &mut room);
        assert_eq!(s.search, Search::Placed);
        let mut dest: Vec<usize> = s.destination.iter().map(|d| d.unwrap()).collect();
        dest.sort();
        assert_eq!(dest, [1, 2], "apart, and not beside SQL03");
    }

    #[test]
    fn affinity_moves_a_group_as_one_and_a_staying_member_pins_it() {
        let from = host("H0", &[], "X");
        let (h1, h2) = (host("H1", &[], "X"), host("H2", &[], "X"));
        let tier = VmFacts {
            affinity: vec!["app".into()],
            ..VmFacts::default()
        };
        let (a, b) = (vm("APP1", 30, tier.clone()), vm("APP2", 30, tier.clone()));
        let moving = [(&a, Some(&from)), (&b, Some(&from))];
        let built = build(&moving, &[&h1, &h2], &[100, 100], &[]);
        assert_eq!(built.members, [vec![0, 1]]);
        assert_eq!(built.problem.items[0].size, 60);
        let c = vm("APP3", 5, tier);
        let pinned = build(&moving, &[&h1, &h2], &[100, 100], &[(&c, 1)]);
        assert_eq!(pinned.problem.items[0].excluded, [0]);
    }

    #[test]
    fn fitting_nowhere_names_each_candidate_and_why() {
        let from = host("H0", &["Prod"], "X");
        let (h1, h2, h3) = (
            host("H1", &["Backup"], "X"),
            host("H2", &["Prod"], "X"),
            host("H3", &["Prod"], "X"),
        );
        let f = VmFacts {
            networks: Some(vec!["Prod".into()]),
            allowed_hosts: vec!["H1".into(), "H2".into()],
            ..VmFacts::default()
        };
        let a = vm("A", 50, f);
        let moving = [(&a, Some(&from))];
        let receivers = [&h1, &h2, &h3];
        let built = build(&moving, &receivers, &[100, 10, 100], &[]);
        let why = built.why_not(0, &moving, &receivers);
        let text: Vec<String> = why.iter().map(|(h, w)| format!("{h}: {w}")).collect();
        assert_eq!(
            text,
            [
                "H1: lacks network Prod",
                "H2: 10 MiB of room above the floor",
                "H3: not among its allowed hosts"
            ]
        );
    }
}
