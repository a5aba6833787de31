//! `preflight render`: plan → (checked against the current inventory) → script.
//!
//! Exit 2 when the plan cannot be read or rendered, 3 when `--inventory` shows the plan no
//! longer fits (a VM it moves is gone or elsewhere, a host is missing); nothing is written then.

use super::inputs::load_inventories;
use super::output::emit;
use super::{
    Cli, InventoryArgs, RenderArgs, RenderPhaseArg, RenderTargetArg, color_enabled,
    print_diagnostics,
};
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use crate::plan::{LoadedPlan, StepPhase, read_plan_located};
use crate::render::{self, Options, Phases, ProblemKind, Target, check_fit};
use std::io::IsTerminal;

pub fn run(args: &RenderArgs, cli: &Cli) -> Result<i32, Diagnostics> {
    let bytes = std::fs::read(&args.plan).map_err(|e| {
        SourceDiag::plain(
            Code::PlanRead,
            format!("cannot read plan {}: {e}", args.plan),
        )
    })?;
    let sha256 = crate::digest::sha256_hex(&bytes);
    let (LoadedPlan { plan, .. }, file) = read_plan_located(&args.plan, &bytes)?;
    let phases = match args.phase {
        RenderPhaseArg::All => Phases::All,
        RenderPhaseArg::Pre => Phases::Only(StepPhase::Pre),
        RenderPhaseArg::Drain => Phases::Only(StepPhase::Drain),
        RenderPhaseArg::Post => Phases::Only(StepPhase::Post),
    };
    let target = match args.target {
        RenderTargetArg::ScvmmPs => Target::ScvmmPs,
        RenderTargetArg::HypervPs => Target::HypervPs,
        RenderTargetArg::ProxmoxSh => Target::ProxmoxSh,
        RenderTargetArg::Powercli => Target::PowerCli,
        RenderTargetArg::Govc => Target::Govc,
    };
    let opts = Options {
        target,
        phases,
        plan_sha256: &sha256,
    };
    let script = render::render(&plan, &opts).map_err(|problems| {
        let mut diags = Diagnostics::default();
        for p in problems {
            let code = match p.kind {
                ProblemKind::Platform => Code::RenderTarget,
                ProblemKind::Incomplete => Code::PlanInvalid,
                ProblemKind::Unwritable => Code::RenderUnwritable,
            };
            diags.push(at_step(&file, code, p.message, p.step.as_deref()));
        }
        diags
    })?;
    if !args.inventory.is_empty() {
        let inventories = load_inventories(&InventoryArgs {
            inventory: args.inventory.clone(),
            inventory_format: args.inventory_format,
        })?;
        let color = color_enabled(cli.color, std::io::stderr().is_terminal());
        if !inventories.warnings.is_empty() {
            print_diagnostics(&inventories.warnings, color);
        }
        let misfits = check_fit(&plan, phases, &inventories.inventory);
        if !misfits.is_empty() {
            let mut diags = Diagnostics::default();
            for m in misfits {
                let message = format!("step `{}`: {}", m.step.escape_debug(), m.message);
                diags.push(
                    at_step(&file, Code::PlanStale, message, Some(&m.step)).with_help(
                        "the inventory changed since the plan was made: run `preflight audit --plan` again",
                    ),
                );
            }
            print_diagnostics(&diags, color);
            eprintln!("error: the plan does not fit the current inventory; no script was written");
            return Ok(3);
        }
    }
    emit(args.output.as_deref(), |w| w.write_all(script.as_bytes()))?;
    Ok(0)
}

/// A diagnostic pointing at the step's `"id"` in the plan file when it can be found.
fn at_step(file: &SourceFile, code: Code, message: String, step: Option<&str>) -> SourceDiag {
    let span = step.and_then(|id| {
        let needle = serde_json::to_string(id).ok()?;
        let i = file
            .text
            .find(&format!("\"id\": {needle}"))
            .or_else(|| file.text.find(&format!("\"id\":{needle}")))?;
        let start = i + file.text[i..].find(&needle)?;
        Some(start..start + needle.len())
    });
    match span {
        Some(span) => SourceDiag::at(code, message, file, span, "this step"),
        None => SourceDiag::plain(code, message),
    }
}
