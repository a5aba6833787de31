//! `preflight restore`: plan + fresh inventory → findings, balance figures, move-back plan.

use super::inputs::{load_inventories, load_policy, parse_now, record_inputs};
use super::output::{write_atomically, write_report};
use super::{Cli, RestoreArgs, color_enabled, print_diagnostics};
use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::engine::{self, Request, decide};
use crate::plan::{LoadedPlan, PlanInput, read_plan, write_plan};
use crate::policy::Phase;
use crate::report::{Report, RequestInfo, subjects};
use std::io::IsTerminal;

pub fn run(args: &RestoreArgs, cli: &Cli) -> Result<i32, Diagnostics> {
    let now = parse_now(args.report.now.as_deref());
    let policy = load_policy(&args.policy);
    let inventories = load_inventories(&args.inventory);
    let plan = load_plan(&args.plan);
    // Every input problem at once, as audit does.
    let (now, policy, mut inventories, loaded) = match (now, policy, inventories, plan) {
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
    let fail_on = args.report.fail_on.threshold();
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
    let index = engine::InventoryIndex::with_layout(
        &inventories.inventory,
        std::mem::take(&mut inventories.layout),
        &[],
    );
    let mut restored = engine::restore_indexed(&policy, &index, &plan, &request, &inputs);
    let outcome = decide(&restored.eval, fail_on);
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
    let inputs = record_inputs(inventories.inputs, &policy);
    let mut report = Report::new(info, inputs, &restored.eval, &outcome);
    report.balance = restored.balance;
    report.set_move_back_loads(&restored.hosts_after);
    report.rules = subjects::rules_run(&policy, &request, Phase::Restore);
    // Another cluster's export is not judged at all (exit 3): then no subject was checked, and
    // none may show as passed.
    if !restored.hosts_after.is_empty() {
        report.checked = subjects::checked_restore(&policy, &plan, &request);
    }
    write_report(&args.report, &report, cli)?;
    // As in `audit`: the process exits next, so a provider-scale inventory is left to the OS
    // instead of being freed one allocation at a time.
    std::mem::forget(index);
    std::mem::forget(inventories.inventory);
    Ok(outcome.exit_code)
}

fn load_plan(path: &str) -> Result<LoadedPlan, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostics::from(SourceDiag::plain(
            Code::PlanRead,
            format!("cannot read plan {path}: {e}"),
        ))
    })?;
    read_plan(path, &bytes)
}
