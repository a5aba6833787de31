//! The stages of [`super::solve`] beyond the plain largest-first.

use super::{Problem, Search, Solution};
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// Search steps (hosts tried) allowed beyond the greedy stages: about a tenth of a second.
pub const DEFAULT_BUDGET: u64 = 2_000_000;

/// Drains of at most this many items are searched depth first; larger ones are repaired.
const SEARCH_MAX_ITEMS: usize = 48;

/// Which eligible host a greedy pass picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fit {
    /// The one with the most room (ties: lower position).
    Roomiest,
    /// The one with the least room that still fits (ties: lower position).
    Best,
}

/// What is placed so far: room left per host and the anti-affinity groups on each host.
struct State<'p> {
    problem: &'p Problem,
    room: Vec<i64>,
    /// `taken[group * hosts + host]`: members of the group on the host.
    taken: Vec<u32>,
    hosts: usize,
}

impl<'p> State<'p> {
    fn new(problem: &'p Problem) -> Self {
        let hosts = problem.room.len();
        let groups = problem
            .items
            .iter()
            .flat_map(|i| i.anti.iter())
            .map(|&g| g as usize + 1)
            .chain(std::iter::once(problem.anti_taken.len()))
            .max()
            .unwrap_or(0);
        let mut taken = vec![0u32; groups * hosts];
        for (g, on) in problem.anti_taken.iter().enumerate() {
            for &h in on {
                if (h as usize) < hosts {
                    taken[g * hosts + h as usize] += 1;
                }
            }
        }
        State {
            problem,
            room: problem.room.clone(),
            taken,
            hosts,
        }
    }

    /// Whether `item` may go to `host` now: not excluded, no group member there, room enough.
    fn fits(&self, item: usize, host: usize) -> bool {
        let it = &self.problem.items[item];
        self.room[host] >= it.size as i64
            && !it.excluded.contains(&(host as u32))
            && it
                .anti
                .iter()
                .all(|&g| self.taken[g as usize * self.hosts + host] == 0)
    }

    /// Whether `item` may go to `host` once it has room: the constraints alone.
    fn allowed(&self, item: usize, host: usize) -> bool {
        let it = &self.problem.items[item];
        !it.excluded.contains(&(host as u32))
            && it
                .anti
                .iter()
                .all(|&g| self.taken[g as usize * self.hosts + host] == 0)
    }

    fn put(&mut self, item: usize, host: usize) {
        let it = &self.problem.items[item];
        self.room[host] -= it.size as i64;
        for &g in &it.anti {
            self.taken[g as usize * self.hosts + host] += 1;
        }
    }

    fn take(&mut self, item: usize, host: usize) {
        let it = &self.problem.items[item];
        self.room[host] += it.size as i64;
        for &g in &it.anti {
            self.taken[g as usize * self.hosts + host] -= 1;
        }
    }
}

/// The items, largest first (ties: lower position).
fn by_size(problem: &Problem) -> Vec<usize> {
    let mut order: Vec<usize> = (0..problem.items.len()).collect();
    order.sort_by_key(|&i| (Reverse(problem.items[i].size), i));
    order
}

/// Largest first, each onto the host `fit` picks among those it may go to.
///
/// An item with no constraint may go to any host with room, so its pick is a lookup in the
/// hosts ordered by room, O(log h); only an item with constraints looks at every host. A drain
/// of many VMs of which few carry constraints costs about what the unconstrained path costs.
pub(super) fn greedy(problem: &Problem, fit: Fit) -> Vec<Option<usize>> {
    let mut state = State::new(problem);
    let mut dest = vec![None; problem.items.len()];
    let mut by_room: BTreeSet<(i64, usize)> =
        (0..state.hosts).map(|h| (state.room[h], h)).collect();
    for i in by_size(problem) {
        let item = &problem.items[i];
        let best = if item.excluded.is_empty() && item.anti.is_empty() {
            pick_by_room(&by_room, item.size as i64, fit)
        } else {
            pick_by_scan(&state, i, fit)
        };
        if let Some(h) = best {
            by_room.remove(&(state.room[h], h));
            state.put(i, h);
            by_room.insert((state.room[h], h));
            dest[i] = Some(h);
        }
    }
    dest
}

/// The host `fit` picks for an item of `size` with no constraint, from the hosts ordered by
/// (room, position): the same host [`pick_by_scan`] picks.
fn pick_by_room(by_room: &BTreeSet<(i64, usize)>, size: i64, fit: Fit) -> Option<usize> {
    let first_with = |room: i64| by_room.range((room, 0)..).next().map(|&(_, h)| h);
    match fit {
        // The most room; among hosts with that room, the lowest position.
        Fit::Roomiest => match by_room.last() {
            Some(&(most, _)) if most >= size => first_with(most),
            _ => None,
        },
        // The least room that still fits; among hosts with that room, the lowest position.
        Fit::Best => first_with(size),
    }
}

/// The host `fit` picks among every host `item` may go to now.
fn pick_by_scan(state: &State, item: usize, fit: Fit) -> Option<usize> {
    let mut best: Option<usize> = None;
    for h in 0..state.hosts {
        if !state.fits(item, h) {
            continue;
        }
        best = match best {
            None => Some(h),
            Some(b) => {
                let better = match fit {
                    Fit::Roomiest => state.room[h] > state.room[b],
                    Fit::Best => state.room[h] < state.room[b],
                };
                Some(if better { h } else { b })
            }
        };
    }
    best
}

/// The stages after a greedy pass that left `greedy` items unplaced.
pub(super) fn improve(problem: &Problem, greedy: Vec<Option<usize>>, budget: u64) -> Solution {
    if let Some(solution) = without_hopeless(problem, &greedy, budget) {
        return solution;
    }
    let best_fit = self::greedy(problem, Fit::Best);
    if best_fit.iter().all(Option::is_some) {
        return Solution {
            destination: best_fit,
            search: Search::Placed,
        };
    }
    let mut steps = 0u64;
    if problem.items.len() <= SEARCH_MAX_ITEMS {
        match depth_first(problem, budget, &mut steps) {
            Outcome::Found(dest) => {
                return Solution {
                    destination: dest.into_iter().map(Some).collect(),
                    search: Search::Placed,
                };
            }
            Outcome::NoneExists => return partial(greedy, best_fit, Search::NoneExists),
            Outcome::Spent => {}
        }
    }
    let repaired = repair(problem, &greedy, budget.saturating_sub(steps));
    if repaired.iter().all(Option::is_some) {
        return Solution {
            destination: repaired,
            search: Search::Placed,
        };
    }
    let best = if placed(&repaired) > placed(&best_fit) {
        repaired
    } else {
        best_fit
    };
    partial(greedy, best, Search::BudgetSpent)
}

/// When some items fit on no host even with nothing else placed (excluded everywhere, a group
/// member on every other host, or larger than the room of every host they may use), no
/// placement of every item exists, and one look proves it: the search would only spend its
/// budget finding it out. The other items are placed as well as the search can without them.
/// `None` when every item has a host it could go to.
fn without_hopeless(problem: &Problem, greedy: &[Option<usize>], budget: u64) -> Option<Solution> {
    let fresh = State::new(problem);
    let keep: Vec<usize> = (0..problem.items.len())
        .filter(|&i| (0..fresh.hosts).any(|h| fresh.fits(i, h)))
        .collect();
    if keep.len() == problem.items.len() {
        return None;
    }
    let rest = Problem {
        items: keep.iter().map(|&i| problem.items[i].clone()).collect(),
        room: problem.room.clone(),
        anti_taken: problem.anti_taken.clone(),
    };
    // A hopeless item never took room or a group's host, so the greedy pass over the rest
    // is the greedy pass over everything, less those items.
    let rest_greedy: Vec<Option<usize>> = keep.iter().map(|&i| greedy[i]).collect();
    let placed_rest = if rest_greedy.iter().all(Option::is_some) {
        rest_greedy
    } else {
        improve(&rest, rest_greedy, budget).destination
    };
    let mut destination = vec![None; problem.items.len()];
    for (k, &i) in keep.iter().enumerate() {
        destination[i] = placed_rest[k];
    }
    Some(Solution {
        destination,
        search: Search::NoneExists,
    })
}

fn placed(dest: &[Option<usize>]) -> usize {
    dest.iter().filter(|d| d.is_some()).count()
}

/// The partial placement to report: the greedy one unless another places more.
fn partial(greedy: Vec<Option<usize>>, other: Vec<Option<usize>>, search: Search) -> Solution {
    let destination = if placed(&other) > placed(&greedy) {
        other
    } else {
        greedy
    };
    Solution {
        destination,
        search,
    }
}

enum Outcome {
    Found(Vec<usize>),
    NoneExists,
    Spent,
}

/// Every placement, largest item first, hosts by most room first; a branch is cut when the
/// items left need more than the room left. Hosts that are interchangeable (same room, no
/// constraint in the problem) are tried once.
fn depth_first(problem: &Problem, budget: u64, steps: &mut u64) -> Outcome {
    let order = by_size(problem);
    // Memory still to place from position k of the order on.
    let mut rest = vec![0u64; order.len() + 1];
    for k in (0..order.len()).rev() {
        rest[k] = rest[k + 1] + problem.items[order[k]].size;
    }
    let symmetric = !problem.constrained();
    let mut state = State::new(problem);
    let mut chosen = vec![0usize; problem.items.len()];
    // Per depth: the hosts to try (in order) and how far along they are.
    let mut frames: Vec<(Vec<usize>, usize)> = Vec::with_capacity(order.len());
    let candidates = |state: &State, k: usize| -> Vec<usize> {
        let item = order[k];
        let mut hosts: Vec<usize> = (0..state.hosts).filter(|&h| state.fits(item, h)).collect();
        hosts.sort_by_key(|&h| (Reverse(state.room[h]), h));
        if symmetric {
            hosts.dedup_by_key(|h| state.room[*h]);
        }
        let free: u64 = state.room.iter().map(|&r| r.max(0) as u64).sum();
        if free < rest[k] {
            hosts.clear();
        }
        hosts
    };
    if order.is_empty() {
        return Outcome::Found(Vec::new());
    }
    frames.push((candidates(&state, 0), 0));
    loop {
        let k = frames.len() - 1;
        let (hosts, next) = &mut frames[k];
        if *next > 0 {
            state.take(order[k], hosts[*next - 1]);
        }
        if *next == hosts.len() {
            frames.pop();
            if frames.is_empty() {
                return Outcome::NoneExists;
            }
            continue;
        }
        *steps += 1;
        if *steps > budget {
            return Outcome::Spent;
        }
        let h = hosts[*next];
        *next += 1;
        state.put(order[k], h);
        chosen[order[k]] = h;
        if k + 1 == order.len() {
            return Outcome::Found(chosen);
        }
        let c = candidates(&state, k + 1);
        frames.push((c, 0));
    }
}

/// For each item the greedy pass left over (largest first), moves one item already placed to
/// another host to make room for it, within `budget` steps.
fn repair(problem: &Problem, greedy: &[Option<usize>], budget: u64) -> Vec<Option<usize>> {
    let mut state = State::new(problem);
    let mut dest = greedy.to_vec();
    let mut on_host: Vec<Vec<usize>> = vec![Vec::new(); state.hosts];
    for (i, d) in dest.iter().enumerate() {
        if let Some(h) = d {
            state.put(i, *h);
            on_host[*h].push(i);
        }
    }
    for hosts in &mut on_host {
        hosts.sort_by_key(|&i| (problem.items[i].size, i));
    }
    let mut steps = 0u64;
    let unplaced: Vec<usize> = by_size(problem)
        .into_iter()
        .filter(|&i| dest[i].is_none())
        .collect();
    'items: for u in unplaced {
        for h in 0..state.hosts {
            if steps > budget {
                break 'items;
            }
            steps += 1;
            if state.fits(u, h) {
                state.put(u, h);
                dest[u] = Some(h);
                on_host[h].push(u);
                continue 'items;
            }
            if !state.allowed(u, h) {
                continue;
            }
            let need = problem.items[u].size as i64 - state.room[h];
            // The smallest VM on h whose leaving makes room, that fits elsewhere.
            for slot in 0..on_host[h].len() {
                let v = on_host[h][slot];
                if (problem.items[v].size as i64) < need {
                    continue;
                }
                state.take(v, h);
                let elsewhere = (0..state.hosts).find(|&h2| {
                    steps += 1;
                    h2 != h && state.fits(v, h2)
                });
                match elsewhere {
                    Some(h2) if state.fits(u, h) => {
                        state.put(v, h2);
                        state.put(u, h);
                        on_host[h].remove(slot);
                        on_host[h2].push(v);
                        on_host[h].push(u);
                        dest[v] = Some(h2);
                        dest[u] = Some(h);
                        continue 'items;
                    }
                    _ => state.put(v, h),
                }
                if steps > budget {
                    break 'items;
                }
            }
        }
    }
    dest
}
