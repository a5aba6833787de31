//! `preflight audit`: inputs → the audit pipeline → report, plan file → exit code.

use super::FormatArg;
use super::inputs::{load_inventories, load_policy, parse_now, record_inputs};
use super::locations::locate_findings;
use super::output::{write_atomically, write_report};
use super::{AuditArgs, Cli, ModeArg, PlatformArg, color_enabled, print_diagnostics};
use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::engine::{Request, resolve_hosts};
use crate::model::Platform;
use crate::pipeline::{self, AuditOptions, Prepared};
use crate::plan::{PlanInput, write_plan};
use crate::platform;
use crate::policy::{Mode, Phase};
use crate::report::{Report, RequestInfo, subjects};
use std::io::IsTerminal;

/// Runs `preflight audit`; the inventory it read is handed to `keep`, for the binary to leave
/// to the OS at exit.
pub fn run(args: &AuditArgs, cli: &Cli, keep: &mut Option<Prepared>) -> Result<i32, Diagnostics> {
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
    let request = Request {
        hosts: hosts.clone(),
        mode,
        platform,
        platform_assumed: platform_source == "assumed",
        now,
        no_waivers: args.report.no_waivers,
    };
    let options = AuditOptions {
        rolling: args.rolling,
        fail_on: args.report.fail_on.threshold(),
        inputs: inventories
            .inputs
            .iter()
            .map(|i| PlanInput {
                path: i.path.clone(),
                sha256: i.sha256.clone(),
            })
            .collect(),
    };
    let run = pipeline::audit(&policy, &inventory, &request, &options);
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
    let mut inputs = record_inputs(inventories.inputs, &policy);
    inputs.collected_at = inventory.collected_at.map(|t| t.to_string());
    if let Some(path) = &args.plan {
        write_atomically(std::path::Path::new(path), |w| write_plan(&run.plan, w)).map_err(
            |e| {
                SourceDiag::plain(
                    Code::OutputWrite,
                    format!("cannot write the plan {path}: {e}"),
                )
            },
        )?;
    }
    let mut report = Report::new(info, inputs, &run.eval, &run.outcome);
    report.set_rules(subjects::rules_run(&policy, &request, Phase::Audit));
    report.checked = run.checked;
    report.floor_used_pct =
        Some(100.0 - crate::plan::floor_pct(&policy, mode)).filter(|f| *f < 100.0);
    if args.report.format == FormatArg::Sarif {
        report.locations = locate_findings(&inventory, &report);
    }
    write_report(&args.report, &report, cli)?;
    *keep = Some(inventory);
    Ok(run.outcome.exit_code)
}
