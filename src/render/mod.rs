//! The built-in executor: a plan rendered as a script for the platform's own tools.
//!
//! [`render`] is pure: plan in, script text out. Every value that came from an inventory (VM,
//! host, id, note, even the step ids the planner derives from names) is written only through
//! [`quote`]: as a single-quoted literal in code, or as escaped text on a comment line, so no
//! name can become code. Each move is preceded by a guard in the script that stops the run when
//! the VM is no longer where, or in the state, the plan expects; a VM the drain moved (the plan
//! cannot know where) is first looked up where the platform says it is.
//!
//! The plan reader hands over only complete steps ([`crate::plan::StepKind`]); what is checked
//! here is what a target cannot write.
//!
//! The targets differ in cmdlets, not in shape: a header comment, a prelude of helper functions
//! that take names as arguments, then one call per step in plan order.

mod check;
mod fit;
mod govc_sh;
mod hyperv_ps;
mod powercli;
mod powershell;
mod proxmox_sh;
pub mod quote;
mod scvmm_ps;
mod shell;

pub use fit::{Misfit, check_fit};

use crate::model::VmState;
use crate::plan::{Plan, Source, Step, StepKind, StepPhase};
use check::{check_step, unwritable};
use quote::{comment_text, writable};
use std::fmt;

/// The script dialects preflight writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Windows PowerShell with the VirtualMachineManager module (SCVMM).
    ScvmmPs,
    /// Windows PowerShell with the FailoverClusters and Hyper-V modules.
    HypervPs,
    /// bash on a Proxmox VE node (pvesh, ha-manager).
    ProxmoxSh,
    /// PowerShell with VMware PowerCLI, connected to vCenter.
    PowerCli,
    /// bash with govc, govmomi's vSphere CLI.
    Govc,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::ScvmmPs => "scvmm-ps",
            Target::HypervPs => "hyperv-ps",
            Target::ProxmoxSh => "proxmox-sh",
            Target::PowerCli => "powercli",
            Target::Govc => "govc",
        }
    }

    /// Whether a plan made for `platform` can be run with this target's tools. SCVMM manages
    /// Hyper-V clusters, so a plan of either can be run through either module.
    fn accepts(self, platform: &str) -> bool {
        match self {
            Target::ScvmmPs | Target::HypervPs => matches!(platform, "scvmm" | "hyperv"),
            Target::ProxmoxSh => platform == "proxmox",
            Target::PowerCli | Target::Govc => platform == "vsphere",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which part of the plan to render. The patching happens between drain and post, so an
/// operator may render each part on its own; `All` pauses for the operator at maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phases {
    All,
    Only(StepPhase),
}

impl Phases {
    fn includes(self, phase: StepPhase) -> bool {
        match self {
            Phases::All => true,
            Phases::Only(p) => p == phase,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Phases::All => "all (pre, drain, a pause for the maintenance, post)",
            Phases::Only(StepPhase::Pre) => "pre",
            Phases::Only(StepPhase::Drain) => "drain",
            Phases::Only(StepPhase::Maintenance) => "maintenance",
            Phases::Only(StepPhase::Post) => "post",
        }
    }
}

/// What to render and the facts the header records.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    pub target: Target,
    pub phases: Phases,
    /// SHA-256 of the plan file's bytes, so the script names the exact plan it came from.
    pub plan_sha256: &'a str,
}

/// Why a plan cannot be rendered for a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The step's id, when the problem is in one step.
    pub step: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The plan's platform is not one this target drives.
    Platform,
    /// A step lacks something this target needs (a Proxmox step, the guest's numeric id).
    Incomplete,
    /// A value cannot be written safely (NUL, a Proxmox id or node unusable in an API path, a
    /// vSphere VM id govc cannot look up).
    Unwritable,
}

/// One step, checked: every value can be written for the target.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op<'a> {
    /// `from` is `None` for a VM the drain moved: the script asks the platform where it is.
    Migrate {
        guest: Guest<'a>,
        from: Option<&'a str>,
        to: &'a str,
        /// The VM's storage moves with it: the step's own words for it
        /// ([`Step::storage_text`]), or `None`.
        storage: Option<&'a str>,
    },
    /// The VM and the host it must be on.
    Start(Guest<'a>, &'a str),
    Shutdown(Guest<'a>, &'a str),
    EnterMaintenance(&'a str),
    /// The host, and whether the platform should fail back what it drained (no move-back
    /// steps in the plan) or leave that to the plan.
    ExitMaintenance(&'a str, bool),
    Notify,
}

/// A VM as a step names it, and the state it must be in to be acted on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Guest<'a> {
    pub name: &'a str,
    pub id: Option<&'a str>,
    pub expect: Option<VmState>,
}

/// A checked step with its op.
pub(crate) struct Item<'a> {
    pub step: &'a Step,
    pub op: Op<'a>,
}

impl Item<'_> {
    /// Whether the step moves a VM with its storage.
    fn moves_storage(&self) -> bool {
        matches!(
            self.op,
            Op::Migrate {
                storage: Some(_),
                ..
            }
        )
    }
}

/// What a dialect writes; [`render`] strings the parts together in plan order.
pub(crate) trait Dialect {
    /// Lines after the header: settings and helper functions. `storage`: a step of the script
    /// moves a VM with its storage, so the script must not run without the destination storage
    /// the plan cannot know (a required parameter or variable, checked before any step).
    fn prelude(&self, plan: &Plan, storage: bool) -> String;
    /// How to run the script, as comment text (one entry a line).
    fn how_to_run(&self) -> Vec<&'static str>;
    /// The call for one step.
    fn step(&self, item: &Item<'_>) -> String;
    /// A stop that waits for the operator to finish the maintenance.
    fn pause(&self) -> String;
    /// The closing lines.
    fn epilogue(&self) -> String;
}

/// Renders the selected phases of `plan` as a script for `opts.target`.
pub fn render(plan: &Plan, opts: &Options<'_>) -> Result<String, Vec<Problem>> {
    // The step checks below are the target platform's rules; on another platform's plan they
    // would only repeat this one problem once per step.
    if !opts.target.accepts(&plan.request.platform) {
        return Err(vec![Problem {
            kind: ProblemKind::Platform,
            step: None,
            message: format!(
                "the plan is for platform `{}`, which {} does not drive",
                plan.request.platform, opts.target
            ),
        }]);
    }
    let mut problems = Vec::new();
    for (what, value) in [("request.now", &plan.request.now)]
        .into_iter()
        .chain(plan.request.hosts.iter().map(|h| ("request.hosts", h)))
    {
        if !writable(value) {
            problems.push(unwritable(None, format!("{what} contains a NUL character")));
        }
    }
    let texts: Vec<Option<String>> = plan.steps.iter().map(Step::storage_text).collect();
    let items: Vec<Item<'_>> = plan
        .steps
        .iter()
        .zip(&texts)
        .filter(|(s, _)| opts.phases.includes(s.phase))
        .filter_map(
            |(s, text)| match check_step(plan, s, text.as_deref(), opts.target) {
                Ok(op) => Some(Item { step: s, op }),
                Err(mut p) => {
                    problems.append(&mut p);
                    None
                }
            },
        )
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let dialect: &dyn Dialect = match opts.target {
        Target::ScvmmPs => &scvmm_ps::Scvmm,
        Target::HypervPs => &hyperv_ps::Hyperv,
        Target::ProxmoxSh => &proxmox_sh::Proxmox,
        Target::PowerCli => &powercli::PowerCli,
        Target::Govc => &govc_sh::Govc,
    };
    let mut out = header(plan, opts, dialect);
    let storage = items.iter().any(Item::moves_storage);
    out.push_str(&dialect.prelude(plan, storage));
    let mut phase = None;
    for (i, item) in items.iter().enumerate() {
        if phase != Some(item.step.phase) {
            phase = Some(item.step.phase);
            out.push_str(&format!(
                "\n# ---- phase: {} ----\n",
                item.step.phase.as_str()
            ));
        }
        out.push('\n');
        out.push_str(&step_comment(item.step));
        if item.step.phase == StepPhase::Maintenance {
            // The maintenance itself (patching, a reboot) is the operator's: its steps are
            // notes, and a full run stops after the last of them until the operator returns.
            let next = items.get(i + 1).map(|n| n.step.phase);
            if next != Some(StepPhase::Maintenance) {
                out.push_str(&dialect.pause());
            }
        } else {
            out.push_str(&dialect.step(item));
        }
    }
    if items.is_empty() {
        out.push_str("\n# The plan has no steps in this phase.\n");
    }
    out.push_str(&dialect.epilogue());
    Ok(out)
}

fn header(plan: &Plan, opts: &Options<'_>, dialect: &dyn Dialect) -> String {
    let mut out = String::new();
    match opts.target {
        Target::ProxmoxSh | Target::Govc => out.push_str("#!/usr/bin/env bash\n"),
        // Windows PowerShell 5.1 reads a .ps1 without a BOM in the ANSI code page, where the
        // UTF-8 bytes of some characters (U+2011 ends in 0x91) read as typographic quotes that
        // PowerShell ends strings at. With the BOM it reads the UTF-8 the literals were made for.
        Target::ScvmmPs | Target::HypervPs | Target::PowerCli => out.push('\u{FEFF}'),
    }
    let hosts: Vec<String> = plan.request.hosts.iter().map(|h| comment_text(h)).collect();
    out.push_str(&format!(
        "# Generated by preflight {} ({}) from a {} plan.\n\
         # Do not edit: change the plan (or the inventory and policy it came from) and render again.\n\
         # Plan sha256: {}\n\
         # Plan made by: preflight {}, mode {}, platform {}, at {}\n\
         # Hosts: {}\n\
         # Phase: {}\n",
        env!("CARGO_PKG_VERSION"),
        opts.target,
        crate::plan::PLAN_SCHEMA,
        comment_text(opts.plan_sha256),
        comment_text(&plan.request.command),
        comment_text(&plan.request.mode),
        comment_text(&plan.request.platform),
        comment_text(&plan.request.now),
        hosts.join(", "),
        opts.phases.describe(),
    ));
    for line in dialect.how_to_run() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The comment above a step: its id, what it does and why, with every value escaped.
fn step_comment(step: &Step) -> String {
    let mut line = format!(
        "# Step {}: {}",
        comment_text(&step.id),
        step.action().as_str()
    );
    let vm = step.vm();
    let drained = matches!(
        step.kind,
        StepKind::Migrate {
            from: Source::Drained,
            ..
        }
    );
    let fields = [
        ("vm", vm.map(|v| v.name.as_str())),
        ("id", vm.and_then(|v| v.id.as_deref())),
        ("host", step.host()),
        ("from", step.from_host()),
        ("from", drained.then_some("wherever the drain put it")),
        ("to", step.to()),
    ];
    for (label, v) in fields {
        if let Some(v) = v {
            line.push_str(&format!(" {label} {}", comment_text(v)));
        }
    }
    if let Some(s) = step.expect_state() {
        line.push_str(&format!(" (expect {s})"));
    }
    line.push('\n');
    if let Some(storage) = step.storage_text() {
        line.push_str(&format!("#   {storage}\n"));
    }
    if !step.because.is_empty() {
        let rules: Vec<String> = step.because.iter().map(|r| comment_text(r)).collect();
        line.push_str(&format!("#   because: {}\n", rules.join(", ")));
    }
    if let Some(note) = &step.note {
        line.push_str(&format!("#   note: {}\n", comment_text(note)));
    }
    line
}

#[cfg(test)]
mod tests;
