//! The command line: argument definitions and dispatch. Each command lives in its own file;
//! every command returns its exit code, and input errors are rendered here (exit 2).

mod audit;
mod completions;
mod inputs;
mod locations;
mod output;
mod policy_cmds;
mod policytest;
mod progress;
#[cfg(test)]
mod reference;
mod render;
mod replace;
mod restore;
mod same_file;

use crate::diag::Diagnostics;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;

#[derive(Debug, Parser)]
#[command(name = "preflight", version, about = "Decide whether a hypervisor host may go into maintenance", long_about = None)]
pub struct Cli {
    /// When to colour output: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge the hosts about to be drained: findings, verdict by exit code.
    Audit(AuditArgs),
    /// After maintenance: compare a plan's baseline with a fresh inventory, plan the move-back.
    Restore(RestoreArgs),
    /// Check policy files only.
    Validate(PolicyArgs),
    /// List the loaded rules.
    Rules(RulesArgs),
    /// Explain one rule: what it checks, why it matters, how to fix it.
    Explain(ExplainArgs),
    /// Run policy test cases (*.cases.toml): each an inventory and the findings it must give.
    Test(policytest::TestArgs),
    /// Write a plan as a script for the platform's own tools.
    Render(RenderArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) to stdout: preflight(1), or a subcommand's.
    Man(completions::ManArgs),
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Policy files or folders of *.toml; they replace the built-in baseline (`builtin` names it).
    #[arg(long = "policy", value_name = "PATH")]
    pub policy: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Inventory file (native JSON/TOML, or a platform export); repeat to merge several.
    #[arg(long = "inventory", value_name = "FILE", required = true)]
    pub inventory: Vec<String>,
    /// The inventory's format; auto detects it.
    #[arg(long = "inventory-format", value_enum, default_value_t = InventoryFormatArg::Auto)]
    pub inventory_format: InventoryFormatArg,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// A host about to be drained (case-insensitive; a short name matches an FQDN); repeatable.
    #[arg(long = "host", value_name = "NAME", required = true)]
    pub host: Vec<String>,
    /// What the maintenance is for.
    #[arg(long, value_enum, default_value_t = ModeArg::Patch)]
    pub mode: ModeArg,
    /// Whose drain semantics apply; auto takes it from the inventory.
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Write the action list (the plan) to FILE, replaced atomically; written even on no-go.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<String>,
    /// Drain the hosts one at a time, in the order given, each back before the next goes.
    #[arg(long)]
    pub rolling: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The plan `audit --plan` wrote before maintenance.
    #[arg(long, value_name = "FILE", required = true)]
    pub plan: String,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Write the move-back plan to FILE (replaced atomically).
    #[arg(long = "plan-out", value_name = "FILE")]
    pub plan_out: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write the report to FILE (replaced atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
    /// Print only the verdict line to stdout; the report is written to --output, if given.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// The lowest unwaived severity that makes the verdict no-go (exit 1).
    #[arg(long = "fail-on", value_enum, default_value_t = FailOnArg::Error)]
    pub fail_on: FailOnArg,
    /// Ignore every waiver (for gates that must not honour them).
    #[arg(long = "no-waivers")]
    pub no_waivers: bool,
    /// The time to judge waiver expiry and inventory age by (RFC 3339); default: the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule id, e.g. non-ha-running.
    pub rule_id: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The plan (written by `audit --plan` or `restore --plan-out`).
    #[arg(value_name = "PLAN_FILE")]
    pub plan: String,
    /// The script dialect: the tools that will run it.
    #[arg(long, value_enum)]
    pub target: RenderTargetArg,
    /// Write the script to FILE (replaced atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
    /// The phases to write: all (pre, drain, a pause for the patching, then post), or one of them
    /// alone, to run at its own time.
    #[arg(long, value_enum, default_value_t = RenderPhaseArg::All)]
    pub phase: RenderPhaseArg,
    /// The current inventory: refuse (exit 3) a plan it no longer fits; repeat to merge several.
    #[arg(long = "inventory", value_name = "FILE")]
    pub inventory: Vec<String>,
    /// The inventory's format; auto detects it.
    #[arg(long = "inventory-format", value_enum, default_value_t = InventoryFormatArg::Auto)]
    pub inventory_format: InventoryFormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderTargetArg {
    ScvmmPs,
    HypervPs,
    ProxmoxSh,
    Powercli,
    Govc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderPhaseArg {
    All,
    Pre,
    Drain,
    Post,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Patch,
    Decommission,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    Auto,
    Scvmm,
    Hyperv,
    Proxmox,
    Vsphere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InventoryFormatArg {
    Auto,
    Native,
    Scvmm,
    Hyperv,
    Proxmox,
    /// vSphere RVTools: an .xlsx workbook or its per-tab CSV files.
    Rvtools,
    /// vSphere PowerCLI: Get-VM / Get-VMHost / Get-Cluster as JSON or CSV.
    Powercli,
    /// vSphere govc: vm.info / host.info JSON, or examples/collect/govc.sh's document.
    Govc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// JUnit XML: a suite per rule, a test case per subject checked.
    Junit,
    /// Markdown to paste into a change ticket.
    Markdown,
    /// One self-contained HTML page, with a chart of each host's load.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Error,
    Warning,
    Never,
}

impl FailOnArg {
    pub fn threshold(self) -> crate::engine::FailOn {
        match self {
            FailOnArg::Error => crate::engine::FailOn::Error,
            FailOnArg::Warning => crate::engine::FailOn::Warning,
            FailOnArg::Never => crate::engine::FailOn::Never,
        }
    }

    /// The flag's word, as the report's request records it.
    pub fn word(self) -> &'static str {
        match self {
            FailOnArg::Error => "error",
            FailOnArg::Warning => "warning",
            FailOnArg::Never => "never",
        }
    }
}

/// Runs preflight with these arguments: the process exit code, and the inventory the command
/// read (left to the binary, which exits next).
pub fn run(args: impl IntoIterator<Item = OsString>) -> crate::Finished {
    let mut inputs = None;
    let code = run_command(args, &mut inputs);
    crate::Finished { code, inputs }
}

fn run_command(
    args: impl IntoIterator<Item = OsString>,
    inputs: &mut Option<crate::pipeline::Prepared>,
) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            if code == 2 {
                output::record_unparsed(&args, &e);
            }
            return code;
        }
    };
    let color = color_enabled(
        cli.color,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    // Before anything is read: an output that is an input would destroy it.
    let (read, written) = same_file::files_of(&cli.command);
    if let Err(diags) = same_file::check(&read, &written) {
        print_diagnostics(&diags, color);
        return 2;
    }
    let result = match &cli.command {
        Command::Audit(a) => audit::run(a, &cli, inputs),
        Command::Restore(r) => restore::run(r, &cli, inputs),
        Command::Validate(p) => policy_cmds::validate(p),
        Command::Rules(r) => policy_cmds::rules(r, &cli),
        Command::Explain(e) => policy_cmds::explain(e),
        Command::Test(t) => policytest::run(t),
        Command::Render(r) => render::run(r, &cli),
        Command::Completions(c) => completions::completions(c),
        Command::Man(m) => completions::man(m),
    };
    match result {
        Ok(code) => code,
        Err(diags) => {
            print_diagnostics(&diags, color);
            // The report's place gets this run's record, never an earlier run's verdict.
            output::write_error_record(&cli.command, &diags, color);
            2
        }
    }
}

/// Whether to colour: `always`, or `auto` on a terminal with NO_COLOR unset.
pub(crate) fn color_enabled(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Renders diagnostics to stderr with miette (file, line, column, labels, help).
pub(crate) fn print_diagnostics(diags: &Diagnostics, color: bool) {
    use std::io::Write;
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    // Rule ids and file names hold hyphens: a line never breaks inside one (`not-`/`restored`).
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut text = String::new();
    for d in &diags.0 {
        let _ = handler.render_report(&mut text, d);
        text.push('\n');
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let n = diags.0.iter().filter(|d| !d.warning).count();
    if n > 1 {
        let _ = writeln!(err, "error: {n} problems; nothing was evaluated");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_argument_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
