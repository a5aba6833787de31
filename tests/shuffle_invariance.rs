//! Property: the order of rules, of policy files and of VMs in the inventory never changes
//! what an audit finds. The whole pipeline runs: parse, merge, canonicalise, evaluate.

use preflight::diag::SourceFile;
use preflight::engine::{Request, audit};
use preflight::model::Platform;
use preflight::policy::{Mode, load};
use proptest::prelude::*;

const BASELINE: &str = include_str!("../policies/baseline.toml");
const WAIVERS: &str = r#"
[[waiver]]
rule = "non-ha-running"
vm = "^vm-1"
reason = "test"
expires = 2027-01-31
"#;

/// The baseline's `[[rule]]` blocks, so they can be reordered and spread over files.
fn rule_blocks() -> Vec<String> {
    let mut parts = BASELINE.split("[[rule]]");
    let _header = parts.next();
    parts.map(|p| format!("[[rule]]{p}")).collect()
}

#[derive(Debug, Clone)]
struct GenVm {
    host: usize,
    state: &'static str,
    ha: Option<bool>,
    memory_mb: u64,
}

fn gen_vm(hosts: usize) -> impl Strategy<Value = GenVm> {
    (
        0..hosts,
        prop::sample::select(vec!["running", "off", "saved", "paused", "unknown"]),
        prop::option::of(any::<bool>()),
        1u64..64,
    )
        .prop_map(|(host, state, ha, gib)| GenVm {
            host,
            state,
            ha,
            memory_mb: gib * 1024,
        })
}

fn inventory_json(hosts: usize, vms: &[(usize, GenVm)]) -> String {
    let hosts_json: Vec<String> = (0..hosts)
        .map(|h| {
            format!(
                r#"{{"name":"hv{h}","cluster":"c{}","state":"up","memory_mb":{}}}"#,
                h % 2,
                131072 + h as u64 * 16384
            )
        })
        .collect();
    let vms_json: Vec<String> = vms
        .iter()
        .map(|(i, v)| {
            let ha = v.ha.map_or(String::new(), |b| format!(r#","ha":{b}"#));
            format!(r#"{{"name":"vm-{i}","id":"id-{i}","host":"hv{}","state":"{}","memory_mb":{}{ha}}}"#, v.host, v.state, v.memory_mb)
        })
        .collect();
    format!(
        r#"{{"collected_at":"2026-11-25T16:00:00Z","hosts":[{}],"vms":[{}]}}"#,
        hosts_json.join(","),
        vms_json.join(",")
    )
}

fn run(rules: &[String], split: usize, inventory: &str, targets: &[String], mode: Mode) -> String {
    let split = split.min(rules.len());
    let files = vec![
        SourceFile::new("a.toml", rules[..split].concat()),
        SourceFile::new("b.toml", rules[split..].concat()),
        SourceFile::new("waivers.toml", WAIVERS),
    ];
    let policy = load(files).expect("the policy is valid");
    let parsed = preflight::inventory::parse("inv.json", inventory.as_bytes(), None)
        .expect("the inventory is valid");
    let mut inv =
        preflight::inventory::merge(vec![("inv.json".into(), parsed.inventory)]).expect("merges");
    inv.imply_missing_hosts();
    inv.canonicalize();
    let request = Request {
        hosts: targets.to_vec(),
        mode,
        platform: Platform::Scvmm,
        platform_assumed: false,
        now: "2026-11-25T17:00:00Z".parse().unwrap(),
        no_waivers: false,
    };
    let eval = audit(&policy, &inv, &request);
    serde_json::to_string(&(&eval.findings, &eval.loads, &eval.notes)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn order_of_rules_files_and_vms_does_not_matter(
        hosts in 2usize..6,
        vms in prop::collection::vec(gen_vm(5), 0..40),
        rule_perm in Just(rule_blocks()).prop_shuffle(),
        split in 0usize..6,
        vm_seed in any::<u64>(),
        decommission in any::<bool>(),
    ) {
        let vms: Vec<(usize, GenVm)> = vms.into_iter().map(|mut v| { v.host %= hosts; v }).enumerate().collect();
        let mut shuffled = vms.clone();
        // A deterministic permutation from the seed (Fisher-Yates with an LCG).
        let mut state = vm_seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (state >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        let mode = if decommission { Mode::Decommission } else { Mode::Patch };
        let targets = vec!["hv0".to_string()];
        let reference = run(&rule_blocks(), 2, &inventory_json(hosts, &vms), &targets, mode);
        let permuted = run(&rule_perm, split, &inventory_json(hosts, &shuffled), &targets, mode);
        prop_assert_eq!(reference, permuted);
    }
}
