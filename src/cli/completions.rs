//! Shell comfort: completion scripts (clap_complete) and the man page (clap_mangen), both
//! generated from the one argument definition so they never drift from it.

use super::Cli;
use super::output::emit;
use crate::diag::{Code, Diagnostics, SourceDiag, did_you_mean};
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

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand, for its own page (preflight-audit(1)); none for preflight(1).
    pub command: Option<String>,
}

/// The subcommands with a page of their own: every visible one, read from the argument
/// definition so a new command has a page without a list to update.
fn pages(cmd: &clap::Command) -> Vec<String> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

pub fn man(args: &ManArgs) -> Result<i32, Diagnostics> {
    let man = clap_mangen::Man::new(man_page(args)?);
    emit(None, |w| man.render(w))?;
    Ok(0)
}

/// The command whose page to print: preflight itself, or a subcommand renamed
/// `preflight-NAME`; an unknown name is an error with the commands that have pages.
fn man_page(args: &ManArgs) -> Result<clap::Command, Diagnostics> {
    let cmd = Cli::command();
    let Some(name) = args.command.as_deref() else {
        return Ok(cmd);
    };
    let names = pages(&cmd);
    match cmd
        .find_subcommand(name)
        .filter(|_| names.iter().any(|n| n == name))
    {
        Some(sub) => {
            let page = format!("preflight-{name}");
            Ok(sub.clone().name(page.clone()).bin_name(page))
        }
        None => {
            let list = names.join(", ");
            let help = match did_you_mean(name, names.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`? commands: {list}"),
                None => format!("commands: {list}"),
            };
            Err(SourceDiag::plain(
                Code::UsageCommand,
                format!("`{name}` is not a preflight command"),
            )
            .with_help(help)
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visible_command_has_a_page() {
        let names = pages(&Cli::command());
        for expected in [
            "audit",
            "restore",
            "render",
            "validate",
            "test",
            "rules",
            "explain",
            "completions",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} has no page: {names:?}"
            );
        }
        assert!(
            names.iter().any(|n| n == "man"),
            "man is listed in --help, so it has a page too"
        );
        for name in &names {
            let args = ManArgs {
                command: Some(name.clone()),
            };
            let page = man_page(&args).map(|p| p.get_name().to_string()).ok();
            assert_eq!(page, Some(format!("preflight-{name}")));
        }
        let misspelled = man_page(&ManArgs {
            command: Some("restor".into()),
        })
        .expect_err("an unknown command");
        assert!(
            misspelled.0[0]
                .help
                .as_deref()
                .is_some_and(|h| h.starts_with("did you mean `restore`?"))
        );
    }
}
