//! `preflight audit`: inputs → engine → report → exit code.

use super::inputs::{load_inventories, load_policy, parse_now, policy_inputs};
use super::output::emit;
use super::{
    AuditArgs, Cli, FailOnArg, FormatArg, ModeArg, PlatformArg, color_enabled, print_diagnostics,
};
use crate::diag::Diagnostics;
use crate::engine::{self, FailOn, Request, decide, resolve_hosts};
use crate::model::Platform;
use crate::platform;
use crate::policy::{Mode, Phase};
use crate::report::{
    Html, Inputs, Json, Junit, Markdown, Report, Reporter, RequestInfo, Sarif, Table, subjects,
    verdict_line,
};
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
    let fail_on = match args.report.fail_on {
        FailOnArg::Error => FailOn::Error,
        FailOnArg::Warning => FailOn::Warning,
        FailOnArg::Never => FailOn::Never,
    };
    let request = Request {
        hosts: hosts.clone(),
        mode,
        platform,
        platform_assumed: platform_source == "assumed",
        now,
        no_waivers: args.report.no_waivers,
    };
    let mut eval = engine::audit(&policy, &inventory, &request);
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
        fail_on: format!("{:?}", args.report.fail_on).to_lowercase(),
        waivers: !args.report.no_waivers,
        now: now.to_string(),
    };
    let inputs = Inputs {
        inventory: inventories.inputs,
        policies: policy_inputs(&policy),
        tool_version: env!("CARGO_PKG_VERSION").into(),
    };
    let mut report = Report::new(info, inputs, &eval, &outcome);
    report.rules = subjects::rules_run(&policy, &request, Phase::Audit);
    report.checked = subjects::checked(&policy, &inventory, &request);
    let color =
        args.report.output.is_none() && color_enabled(cli.color, std::io::stdout().is_terminal());
    let reporter: Box<dyn Reporter> = match args.report.format {
        FormatArg::Table => Box::new(Table { color }),
        FormatArg::Json => Box::new(Json),
        FormatArg::Sarif => Box::new(Sarif),
        FormatArg::Junit => Box::new(Junit),
        FormatArg::Markdown => Box::new(Markdown),
        FormatArg::Html => Box::new(Html),
    };
    if args.report.quiet {
        // The verdict line alone on stdout; the full report only where --output asks for it.
        if let Some(path) = args.report.output.as_deref() {
            emit(Some(path), |w| reporter.write(&report, w))?;
        }
        emit(None, |w| writeln!(w, "{}", verdict_line(&report)))?;
        return Ok(outcome.exit_code);
    }
    emit(args.report.output.as_deref(), |w| {
        reporter.write(&report, w)
    })?;
    Ok(outcome.exit_code)
}
