//! Property: the order of rules, of policy files and of VMs in the inventory never changes
//! what an audit finds. The whole pipeline runs: parse, merge, prepare, evaluate, plan, decide.

use preflight::diag::SourceFile;
use preflight::engine::Request;
use preflight::model::Platform;
use preflight::pipeline::{self, AuditOptions, Prepared};
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
    // An empty policy file is refused, so a split that leaves one side empty loads one file.
    let files: Vec<SourceFile> = [
        ("a.toml", rules[..split].concat()),
        ("b.toml", rules[split..].concat()),
        ("waivers.toml", WAIVERS.to_string()),
    ]
    .into_iter()
    .filter(|(_, text)| !text.is_empty())
    .map(|(name, text)| SourceFile::new(name, text))
    .collect();
    let policy = load(files).expect("the policy is valid");
    let parsed = preflight::inventory::parse("inv.json", inventory.as_bytes(), None)
        .expect("the inventory is valid");
    let inv = Prepared::new(
        preflight::inventory::merge(vec![("inv.json".into(), parsed.inventory)]).expect("merges"),
    );
    let request = Request {
        hosts: targets.to_vec(),
        mode,
        platform: Platform::Scvmm,
        platform_assumed: false,
        now: "2026-11-25T17:00:00Z".parse().unwrap(),
        no_waivers: false,
    };
    let run = pipeline::audit(&policy, &inv, &request, &AuditOptions::default());
    let eval = &run.eval;
    serde_json::to_string(&(
        &eval.findings,
        &eval.loads,
        &eval.notes,
        &run.plan,
        run.outcome.exit_code,
    ))
    .unwrap()
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

/// A VM for the command-line property: names repeat among VMs with ids (ids tell them apart,
/// and the canonical order has to fall back on host and id), while VMs without an id have
/// names of their own (a name is then the key).
#[derive(Debug, Clone)]
struct CliVm {
    host: usize,
    /// Where the fresh export after maintenance has it.
    host_after: usize,
    state: &'static str,
    ha: bool,
    memory_gib: u64,
    with_id: bool,
}

fn cli_vm() -> impl Strategy<Value = CliVm> {
    (
        0usize..4,
        0usize..4,
        prop::sample::select(vec!["running", "running", "off", "saved"]),
        any::<bool>(),
        1u64..48,
        prop::bool::weighted(0.8),
    )
        .prop_map(|(host, host_after, state, ha, memory_gib, with_id)| CliVm {
            host,
            host_after,
            state,
            ha,
            memory_gib,
            with_id,
        })
}

fn cli_inventory(vms: &[(usize, CliVm)], order: &[usize], after: bool) -> String {
    let hosts: Vec<String> = (0..4)
        .map(|h| format!(r#"{{"name":"HV{h}","cluster":"c","state":"up","memory_mb":262144}}"#))
        .collect();
    let vms: Vec<String> = order
        .iter()
        .map(|&k| {
            let (i, v) = &vms[k];
            let (name, id) = if v.with_id {
                (format!("vm-{}", i % 5), format!(r#","id":"id-{i}""#))
            } else {
                (format!("solo-{i}"), String::new())
            };
            let host = if after { v.host_after } else { v.host };
            format!(
                r#"{{"name":"{name}"{id},"host":"hv{host}","state":"{}","ha":{},"memory_mb":{}}}"#,
                v.state,
                v.ha,
                v.memory_gib * 1024
            )
        })
        .collect();
    format!(
        r#"{{"collected_at":"2026-11-25T16:00:00Z","platform":"scvmm","hosts":[{}],"vms":[{}]}}"#,
        hosts.join(","),
        vms.join(",")
    )
}

/// Runs `preflight` in `dir` and returns every byte it wrote: stdout and the named files.
fn cli_run(dir: &std::path::Path, args: &[&str], files: &[&str]) -> Vec<Vec<u8>> {
    let out = assert_cmd::Command::cargo_bin("preflight")
        .expect("the binary")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = vec![out.stdout];
    all.extend(
        files
            .iter()
            .map(|f| std::fs::read(dir.join(f)).expect("written")),
    );
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The command line keeps VMs in the order the export lists them and orders them only
    /// through its index: the plan, the reports and the move-back must not notice the order.
    #[test]
    fn command_line_outputs_do_not_depend_on_vm_order(
        vms in prop::collection::vec(cli_vm(), 1..30),
        seed in any::<u64>(),
    ) {
        let vms: Vec<(usize, CliVm)> = vms.into_iter().enumerate().collect();
        let listed: Vec<usize> = (0..vms.len()).collect();
        let mut shuffled = listed.clone();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut outputs = Vec::new();
        for (k, order) in [&listed, &shuffled].into_iter().enumerate() {
            let before = format!("before-{k}.json");
            let after = format!("after-{k}.json");
            std::fs::write(dir.path().join(&before), cli_inventory(&vms, order, false)).unwrap();
            std::fs::write(dir.path().join(&after), cli_inventory(&vms, order, true)).unwrap();
            let audit = cli_run(
                dir.path(),
                &["audit", "--inventory", &before, "--rolling", "--host", "hv0", "--host", "hv1",
                  "--plan", "plan.json", "--format", "json", "--now", "2026-11-25T17:00:00Z"],
                &["plan.json"],
            );
            // Both restores read the first run's plan, so only the inventory's order differs.
            let plan = if k == 0 { "plan.json" } else { "plan-0.json" };
            if k == 0 {
                std::fs::copy(dir.path().join("plan.json"), dir.path().join("plan-0.json")).unwrap();
            }
            let restore = cli_run(
                dir.path(),
                &["restore", "--plan", plan, "--inventory", &after, "--plan-out", "back.json",
                  "--format", "json", "--now", "2026-11-26T07:00:00Z"],
                &["back.json"],
            );
            outputs.push((audit, restore));
        }
        // The inventory's and the plan's file names are part of the record: make them the same
        // for comparing.
        let same_names = |bytes: &Vec<u8>| {
            String::from_utf8_lossy(bytes)
                .replace("plan-0.json", "plan.json")
                .replace("-1.json", "-0.json")
        };
        let digest_free = |s: String| {
            s.lines().filter(|l| !l.contains("sha256")).collect::<Vec<_>>().join("\n")
        };
        for (a, b) in outputs[0].0.iter().zip(&outputs[1].0).chain(outputs[0].1.iter().zip(&outputs[1].1)) {
            prop_assert_eq!(digest_free(same_names(a)), digest_free(same_names(b)));
        }
    }
}
