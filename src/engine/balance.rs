//! Load imbalance: the coefficient of variation of per-host load, σ/μ, divided
//! by √(n−1) so that it lies in [0, 1] (0: all hosts equally loaded; 1: one host carries all),
//! over the hosts that are up. The metric Proxmox's resource scheduler uses.

use crate::model::HostState;
use crate::policy::Metric;
use serde::Serialize;

/// One host as the balance sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSample {
    pub host: String,
    pub cluster: Option<String>,
    pub state: HostState,
    pub memory_mb: Option<u64>,
    pub cpus: Option<u32>,
    /// Memory and vCPUs of the host's active VMs, and how many there are.
    pub used_mb: u64,
    pub used_vcpus: u64,
    pub vms: usize,
}

/// The three figures a `balance` rule reports for a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterBalance {
    pub cluster: Option<String>,
    pub rule: String,
    pub metric: Metric,
    pub max_imbalance: f64,
    /// Before maintenance (from the plan), now, and once the move-back plan has run.
    pub before: Option<f64>,
    pub now: Option<f64>,
    pub after_move_back: Option<f64>,
}

/// A host's load for `metric`, or `None` when its capacity is unknown.
pub fn load(metric: Metric, h: &HostSample) -> Option<f64> {
    match metric {
        Metric::Memory => h
            .memory_mb
            .filter(|m| *m > 0)
            .map(|m| h.used_mb as f64 / m as f64),
        Metric::Vcpus => h
            .cpus
            .filter(|c| *c > 0)
            .map(|c| h.used_vcpus as f64 / f64::from(c)),
        Metric::Vms => Some(h.vms as f64),
    }
}

/// The imbalance of `cluster` over its up hosts whose load is known; `None` when no host is.
pub fn cluster_imbalance(
    metric: Metric,
    cluster: Option<&str>,
    hosts: &[HostSample],
) -> Option<f64> {
    let loads: Vec<f64> = hosts
        .iter()
        .filter(|h| h.cluster.as_deref() == cluster && h.state == HostState::Up)
        .filter_map(|h| load(metric, h))
        .collect();
    (!loads.is_empty()).then(|| round3(imbalance(&loads)))
}

/// σ/μ / √(n−1) of `loads` (population σ); 0 for fewer than two hosts or no load at all.
pub fn imbalance(loads: &[f64]) -> f64 {
    let n = loads.len();
    if n < 2 {
        return 0.0;
    }
    let mean = loads.iter().sum::<f64>() / n as f64;
    if mean <= 0.0 {
        return 0.0;
    }
    let var = loads.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n as f64;
    (var.sqrt() / mean / ((n - 1) as f64).sqrt()).clamp(0.0, 1.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_load_is_zero_and_one_host_carrying_all_is_one() {
        assert_eq!(imbalance(&[0.5, 0.5, 0.5]), 0.0);
        assert!((imbalance(&[1.0, 0.0, 0.0, 0.0]) - 1.0).abs() < 1e-12);
        assert_eq!(imbalance(&[0.7]), 0.0);
        assert_eq!(imbalance(&[0.0, 0.0]), 0.0);
    }

    #[test]
    fn a_known_value() {
        // loads 0.2 and 0.6: μ 0.4, σ 0.2, cv 0.5, n−1 = 1.
        assert!((imbalance(&[0.2, 0.6]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn only_up_hosts_of_the_cluster_count() {
        let h = |name: &str, state, used_mb| HostSample {
            host: name.into(),
            cluster: Some("C".into()),
            state,
            memory_mb: Some(1000),
            cpus: Some(10),
            used_mb,
            used_vcpus: used_mb / 100,
            vms: 1,
        };
        let hosts = [
            h("A", HostState::Up, 200),
            h("B", HostState::Up, 600),
            h("C", HostState::Down, 0),
        ];
        assert_eq!(
            cluster_imbalance(Metric::Memory, Some("C"), &hosts),
            Some(0.5)
        );
        assert_eq!(
            cluster_imbalance(Metric::Vcpus, Some("C"), &hosts),
            Some(0.5)
        );
        assert_eq!(cluster_imbalance(Metric::Vms, Some("C"), &hosts), Some(0.0));
        assert_eq!(cluster_imbalance(Metric::Memory, Some("X"), &hosts), None);
    }
}
