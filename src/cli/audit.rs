//! `preflight audit`: inputs → engine → report → exit code.

use super::inputs::{load_inventories, load_policy, parse_now, record_inputs};
use super::output::{write_atomically, write_report};
use super::{AuditArgs, Cli, ModeArg, PlatformArg, color_enabled, print_diagnostics};
use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::engine::{self, Finding, Request, decide, resolve_hosts};
use crate::model::Platform;
use crate::plan::{PlanInput, PlanOptions, build_plan_indexed, write_plan};
use crate::platform;
use crate::policy::{Mode, Phase};
use crate::report::{Report, RequestInfo, subjects};
use std::io::IsTerminal;

pub fn run(args: &AuditArgs, cli: &Cli) -> Result<i32, Diagnostics> {
    let now = parse_now(args.report.now.as_deref());
    let policy = load_policy(&args.policy);
    let inventories = load_inventories(&args.inventory);
    // Report every input problem at once, not just the first file's.
    let (now, policy, inventories) = match (now, policy, inventories) {
        (Ok(n), Ok(p), Ok(i)) => (n, p, i),
        (n, p, i) => {
            let mut all = Diagnostics::default();
            for e in [n.err(), p.err(), i.err()].into_iter().flatten() {
                all.extend(e);
            }
            return Err(all);
        }
    };
    let stderr_color = color_enabled(cli.color, std::io::stderr().is_terminal());
    if !inventories.warnings.is_empty() {
        print_diagnostics(&inventories.warnings, stderr_color);
    }
    let inventory = inventories.inventory;
    let hosts = resolve_hosts(&inventory, &args.host)?;
    let (platform, platform_source) = match (args.platform, inventory.platform) {
        (PlatformArg::Scvmm, _) => (Platform::Scvmm, "flag"),
        (PlatformArg::Hyperv, _) => (Platform::Hyperv, "flag"),
        (PlatformArg::Proxmox, _) => (Platform::Proxmox, "flag"),
        (PlatformArg::Vsphere, _) => (Platform::Vsphere, "flag"),
        (PlatformArg::Auto, Some(p)) => (p, "inventory"),
        (PlatformArg::Auto, None) => (platform::ASSUMED, "assumed"),
    };
    let mode = match args.mode {
        ModeArg::Patch => Mode::Patch,
        ModeArg::Decommission => Mode::Decommission,
    };
    let fail_on = args.report.fail_on.threshold();
    let request = Request {
        hosts: hosts.clone(),
        mode,
        platform,
        platform_assumed: platform_source == "assumed",
        now,
        no_waivers: args.report.no_waivers,
    };
    // One index of the inventory serves the engine, the planner and the report.
    let index = engine::InventoryIndex::with_layout(&inventory, inventories.layout, &request.hosts);
    let mut eval = engine::audit_indexed(&policy, &index, &request, args.rolling);
    // The plan is always worked out: a VM the policy wants moved that fits nowhere is a finding
    // whether or not the plan is written, so the verdict does not depend on --plan.
    let options = PlanOptions {
        rolling: args.rolling,
        inputs: inventories
            .inputs
            .iter()
            .map(|i| PlanInput {
                path: i.path.clone(),
                sha256: i.sha256.clone(),
            })
            .collect(),
    };
    let built = build_plan_indexed(&policy, &index, &request, &eval.findings, &options);
    engine::fold_findings(&mut eval.findings, built.findings, "plan");
    eval.findings.sort_by(Finding::report_order);
    if args.rolling && hosts.len() > 1 {
        eval.notes.push(format!(
            "--rolling: {} drain one at a time in this order; the host table shows each host at its fullest moment",
            hosts.join(", ")
        ));
    }
    if request.no_waivers && !policy.waivers.is_empty() {
        eval.notes.push(format!(
            "--no-waivers: {} waiver(s) ignored",
            policy.waivers.len()
        ));
    }
    let outcome = decide(&eval, fail_on);
    let info = RequestInfo {
        command: "audit".into(),
        hosts,
        mode: mode.to_string(),
        platform: platform.to_string(),
        platform_source: platform_source.into(),
        fail_on: args.report.fail_on.word().into(),
        waivers: !args.report.no_waivers,
        now: now.to_string(),
    };
    let inputs = record_inputs(inventories.inputs, &policy);
    if let Some(path) = &args.plan {
        write_atomically(std::path::Path::new(path), |w| write_plan(&built.plan, w)).map_err(
            |e| {
                SourceDiag::plain(
                    Code::OutputWrite,
                    format!("cannot write the plan {path}: {e}"),
                )
            },
        )?;
    }
    let mut report = Report::new(info, inputs, &eval, &outcome);
    report.rules = subjects::rules_run(&policy, &request, Phase::Audit);
    report.checked = subjects::checked_indexed(&policy, &index, &request);
    write_report(&args.report, &report, cli)?;
    // The process exits right after this. Freeing a provider-scale inventory (millions of small
    // allocations) took about 8% of a 1M-VM run in profiles, so its memory is left to the OS.
    std::mem::forget(index);
    std::mem::forget(inventory);
    Ok(outcome.exit_code)
}
