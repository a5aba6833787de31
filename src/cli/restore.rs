//! `preflight restore`: plan + fresh inventory → findings, balance figures, move-back plan.

use super::FormatArg;
use super::inputs::{load_inventories, load_policy, parse_now, record_inputs};
use super::locations::locate_findings;
use super::output::{write_atomically, write_report};
use super::{Cli, RestoreArgs, color_enabled, print_diagnostics};
use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::digest::sha256_hex;
use crate::engine::Request;
use crate::pipeline::{self, Prepared, RestoreRun};
use crate::plan::{LoadedPlan, PlanInput, read_plan, write_plan};
use crate::policy::Phase;
use crate::report::{Report, RequestInfo, subjects};
use std::io::IsTerminal;

/// Runs `preflight restore`; the inventory it read is handed to `keep`, for the binary to
/// leave to the OS at exit.
pub fn run(args: &RestoreArgs, cli: &Cli, keep: &mut Option<Prepared>) -> Result<i32, Diagnostics> {
    let now = parse_now(args.report.now.as_deref());
    let policy = load_policy(&args.policy);
    let inventories = load_inventories(&args.inventory);
    let plan = load_plan(&args.plan);
    // Every input problem at once, as audit does.
    let (now, policy, inventories, (loaded, plan_digest)) = match (now, policy, inventories, plan) {
        (Ok(n), Ok(p), Ok(i), Ok(l)) => (n, p, i, l),
        (n, p, i, l) => {
            let mut all = Diagnostics::default();
            for e in [n.err(), p.err(), i.err(), l.err()].into_iter().flatten() {
                all.extend(e);
            }
            return Err(all);
        }
    };
    if !inventories.warnings.is_empty() {
        print_diagnostics(
            &inventories.warnings,
            color_enabled(cli.color, std::io::stderr().is_terminal()),
        );
    }
    let LoadedPlan {
        plan,
        mode,
        platform,
    } = loaded;
    let request = Request {
        hosts: plan.request.hosts.clone(),
        mode,
        platform,
        platform_assumed: false,
        now,
        no_waivers: args.report.no_waivers,
    };
    let inputs: Vec<PlanInput> = inventories
        .inputs
        .iter()
        .map(|i| PlanInput {
            path: i.path.clone(),
            sha256: i.sha256.clone(),
        })
        .collect();
    let fail_on = args.report.fail_on.threshold();
    let run = pipeline::restore(
        &policy,
        &inventories.inventory,
        &plan,
        &request,
        fail_on,
        &inputs,
    );
    let RestoreRun {
        mut restored,
        outcome,
        checked,
    } = run;
    if let Some(path) = &args.plan_out {
        if outcome.exit_code == 3 {
            restored.eval.notes.push(format!(
                "no move-back plan written to {path}: the inventory cannot be trusted for one"
            ));
        } else {
            write_atomically(std::path::Path::new(path), |w| {
                write_plan(&restored.plan, w)
            })
            .map_err(|e| {
                SourceDiag::plain(
                    Code::OutputWrite,
                    format!("cannot write the move-back plan {path}: {e}"),
                )
            })?;
        }
    }
    let info = RequestInfo {
        command: "restore".into(),
        hosts: plan.request.hosts.clone(),
        mode: mode.to_string(),
        platform: platform.to_string(),
        platform_source: "plan".into(),
        fail_on: args.report.fail_on.word().into(),
        waivers: !args.report.no_waivers,
        now: now.to_string(),
    };
    let mut inputs = record_inputs(inventories.inputs, &policy);
    inputs.plan = Some(plan_digest);
    inputs.collected_at = inventories.inventory.collected_at.map(|t| t.to_string());
    let mut report = Report::new(info, inputs, &restored.eval, &outcome);
    report.balance = restored.balance;
    report.set_move_back_loads(&restored.hosts_after);
    report.set_rules(subjects::rules_run(&policy, &request, Phase::Restore));
    report.checked = checked;
    report.floor_used_pct =
        Some(100.0 - crate::plan::floor_pct(&policy, mode)).filter(|f| *f < 100.0);
    if args.report.format == FormatArg::Sarif {
        report.locations = locate_findings(&inventories.inventory, &report);
    }
    write_report(&args.report, &report, cli)?;
    *keep = Some(inventories.inventory);
    Ok(outcome.exit_code)
}

/// The plan file, read and checked, with the record of it the report keeps.
fn load_plan(path: &str) -> Result<(LoadedPlan, PlanInput), Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostics::from(SourceDiag::plain(
            Code::PlanRead,
            format!("cannot read plan {path}: {e}"),
        ))
    })?;
    let record = PlanInput {
        path: path.to_string(),
        sha256: sha256_hex(&bytes),
    };
    Ok((read_plan(path, &bytes)?, record))
}
