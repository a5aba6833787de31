//! Where the VMs a drain moves can go: a bin-packing search under the placement constraints of
//! CONTRACT 7.4, shared by the capacity rule's drain simulation and the planner so that a
//! verdict never disagrees with its own plan.
//!
//! The search runs in stages and stops at the first that places every VM:
//! 1. largest first, each VM onto the eligible host with the most room (what a drain does, and
//!    the result whenever it succeeds, so plans stay as they were where they fit);
//! 2. best fit: largest first onto the eligible host with the least room that still fits;
//! 3. a depth-first search with pruning, within a budget of steps: on a drain small enough it
//!    either finds a placement or proves there is none;
//! 4. on larger drains, a bounded repair of stage 1: for each VM left over, move one VM
//!    already placed to another host to make room.
//!
//! When nothing places every VM, the result is stage 1's (the VMs it could not place stay
//! where they are), and [`Search`] says whether a placement was proven not to exist or was
//! not found within the budget. Nothing here does I/O.

pub mod constraints;
mod search;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub use search::DEFAULT_BUDGET;

/// One thing to place: a VM, or VMs that must share a host (an affinity group) as one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// Memory in MiB.
    pub size: u64,
    /// Hosts (positions in the room list) it may not go to.
    pub excluded: Vec<u32>,
    /// Anti-affinity groups it belongs to (numbers the caller chose): two items of a group
    /// never share a host.
    pub anti: Vec<u32>,
}

/// What to place where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    pub items: Vec<Item>,
    /// MiB each host can still take.
    pub room: Vec<i64>,
    /// Per anti-affinity group number, the hosts a member that does not move already runs on.
    pub anti_taken: Vec<Vec<u32>>,
}

/// How far the search got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Every item is placed.
    Placed,
    /// The whole search space was searched: no placement of every item exists.
    NoneExists,
    /// No placement of every item was found within the budget; one may exist.
    BudgetSpent,
}

/// Where each item goes (`None`: nowhere found), and how far the search got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    pub destination: Vec<Option<usize>>,
    pub search: Search,
}

/// Why an item cannot go to a host, for the finding that names each candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller excluded it (allowed hosts, networks, CPU: the caller knows which).
    Excluded,
    /// A member of this anti-affinity group is already there.
    AntiAffinity(u32),
    /// Not enough room: the host has `room` MiB, the item needs more.
    NoRoom { room: i64 },
}

impl Problem {
    /// A problem without constraints: sizes onto rooms.
    pub fn sizes(sizes: &[u64], room: &[i64]) -> Problem {
        Problem {
            items: sizes
                .iter()
                .map(|&size| Item {
                    size,
                    ..Item::default()
                })
                .collect(),
            room: room.to_vec(),
            anti_taken: Vec::new(),
        }
    }

    pub(crate) fn constrained(&self) -> bool {
        self.items
            .iter()
            .any(|i| !i.excluded.is_empty() || !i.anti.is_empty())
    }

    /// Why `item` may not go to `host` before anything else is placed, if it may not.
    pub fn refusal(&self, item: usize, host: usize) -> Option<Refusal> {
        let it = &self.items[item];
        if it.excluded.contains(&(host as u32)) {
            return Some(Refusal::Excluded);
        }
        for &g in &it.anti {
            if self
                .anti_taken
                .get(g as usize)
                .is_some_and(|t| t.contains(&(host as u32)))
            {
                return Some(Refusal::AntiAffinity(g));
            }
        }
        let room = self.room[host];
        (room < it.size as i64).then_some(Refusal::NoRoom { room })
    }
}

/// Places the items (see the module's stages) within `budget` search steps, and updates `room`
/// to what is left after the placement returned.
pub fn solve(problem: &Problem, budget: u64, room: &mut [i64]) -> Solution {
    debug_assert_eq!(problem.room, room);
    let greedy = if problem.constrained() {
        search::greedy(problem, search::Fit::Roomiest)
    } else {
        largest_first(
            &problem.items.iter().map(|i| i.size).collect::<Vec<_>>(),
            &problem.room,
        )
    };
    let solution = if greedy.iter().all(Option::is_some) {
        Solution {
            destination: greedy,
            search: Search::Placed,
        }
    } else {
        search::improve(problem, greedy, budget)
    };
    room.copy_from_slice(&problem.room);
    for (item, dest) in problem.items.iter().zip(&solution.destination) {
        if let Some(h) = dest {
            room[*h] -= item.size as i64;
        }
    }
    solution
}

/// [`solve`] for sizes without constraints, without building a [`Problem`] unless largest first
/// leaves a VM over: at a million VMs, a problem's items would cost 56 MB for nothing.
pub fn solve_sizes(sizes: &[u64], budget: u64, room: &mut [i64]) -> Solution {
    let greedy = largest_first(sizes, room);
    if greedy.iter().all(Option::is_some) {
        for (size, dest) in sizes.iter().zip(&greedy) {
            if let Some(h) = dest {
                room[*h] -= *size as i64;
            }
        }
        return Solution {
            destination: greedy,
            search: Search::Placed,
        };
    }
    solve(&Problem::sizes(sizes, room), budget, room)
}

/// Largest first onto the host with the most room (ties: lower position), without constraints:
/// O(n log n + n log h), the path a million VMs take.
fn largest_first(sizes: &[u64], room: &[i64]) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| (Reverse(sizes[i]), i));
    let mut heap: BinaryHeap<(i64, Reverse<usize>)> = room
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, Reverse(i)))
        .collect();
    let mut destination = vec![None; sizes.len()];
    for i in order {
        let need = sizes[i] as i64;
        let Some(&(free, Reverse(h))) = heap.peek() else {
            break;
        };
        if free >= need {
            heap.pop();
            heap.push((free - need, Reverse(h)));
            destination[i] = Some(h);
        }
    }
    destination
}

#[cfg(test)]
mod tests;
