//! Shell comfort: completion scripts (clap_complete) and the man page (clap_mangen), both
//! generated from the one argument definition so they never drift from it.

use super::Cli;
use super::output::emit;
use crate::diag::Diagnostics;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn completions(args: &CompletionsArgs) -> Result<i32, Diagnostics> {
    let mut cmd = Cli::command();
    emit(None, |w| {
        clap_complete::generate(args.shell, &mut cmd, "preflight", w);
        Ok(())
    })?;
    Ok(0)
}

/// The subcommands with a page of their own, and the page's name.
const PAGES: &[(&str, &str)] = &[
    ("audit", "preflight-audit"),
    ("validate", "preflight-validate"),
    ("rules", "preflight-rules"),
    ("explain", "preflight-explain"),
    ("completions", "preflight-completions"),
];

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand, for its own page (preflight-audit(1)); none for preflight(1).
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(PAGES.iter().map(|p| p.0)))]
    pub command: Option<String>,
}

pub fn man(args: &ManArgs) -> Result<i32, Diagnostics> {
    let cmd = Cli::command();
    let wanted = args
        .command
        .as_deref()
        .and_then(|n| PAGES.iter().find(|p| p.0 == n));
    let page = match wanted.and_then(|(sub, page)| Some((cmd.find_subcommand(sub)?, *page))) {
        Some((sub, page)) => sub.clone().name(page).bin_name(page),
        None => cmd,
    };
    let man = clap_mangen::Man::new(page);
    emit(None, |w| man.render(w))?;
    Ok(0)
}
