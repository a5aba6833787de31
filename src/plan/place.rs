//! Room on a host: how much memory it can take without dropping below the capacity floor.
//!
//! The planner and the move-back both place VMs with [`crate::engine::place_largest_first`];
//! this file turns hosts into the `room` that function takes, with the floor reserved.

use crate::policy::{Mode, Phase, PolicySet};

/// The strictest `min_free_memory_pct` of the policy's audit-phase capacity rules that apply
/// in `mode`; 0 when there is none (then a host may be filled to the brim).
pub fn floor_pct(policy: &PolicySet, mode: Mode) -> f64 {
    policy
        .rules
        .iter()
        .filter(|r| r.phase == Phase::Audit && r.applies_in(mode))
        .filter_map(|r| r.kind.floor_pct())
        .fold(0.0, f64::max)
}

/// MiB a host can still take while keeping `floor_pct` % of its memory free. A host whose
/// memory is unknown offers no room (-1, so that not even a VM of size 0 lands there).
pub fn room_above_floor(memory_mb: Option<u64>, used_mb: u64, floor_pct: f64) -> i64 {
    match memory_mb {
        Some(m) => usable(m, floor_pct) - used_mb as i64,
        None => -1,
    }
}

/// The memory a host may fill, in MiB, rounded down so that the floor always holds.
fn usable(memory_mb: u64, floor_pct: f64) -> i64 {
    let pct = floor_pct.clamp(0.0, 100.0);
    // Integer arithmetic in hundredths of a percent: no float rounding puts a VM past the floor.
    let keep = (10_000.0 - (pct * 100.0).ceil()).max(0.0) as i128;
    (memory_mb as i128 * keep / 10_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_kept_free() {
        assert_eq!(room_above_floor(Some(100_000), 50_000, 10.0), 40_000);
        assert_eq!(room_above_floor(Some(100_000), 95_000, 10.0), -5_000);
        assert_eq!(room_above_floor(Some(1000), 0, 0.0), 1000);
        assert_eq!(room_above_floor(None, 0, 0.0), -1);
        // 12.5% of 262144 is 32768: exactly that much stays free.
        assert_eq!(room_above_floor(Some(262_144), 0, 12.5), 229_376);
    }

    #[test]
    fn a_fractional_floor_rounds_toward_more_free_memory() {
        let room = room_above_floor(Some(999), 0, 33.333);
        let free_pct = (999 - room) as f64 * 100.0 / 999.0;
        assert!(free_pct >= 33.333, "{free_pct}");
    }
}
