//! docs/reference.md, generated from the one argument definition: every command, argument and
//! flag with its help, values and default. A test fails when the committed file is stale;
//! `UPDATE_DOCS=1 cargo test --lib reference` writes it again.

use super::Cli;
use clap::{Arg, ArgAction, Command, CommandFactory};
use std::fmt::Write;

/// The whole reference page.
pub fn markdown() -> String {
    let cmd = Cli::command();
    let mut s = String::new();
    s.push_str("# Command reference\n\n");
    s.push_str(
        "<!-- Generated from the argument definition (src/cli/mod.rs) by src/cli/reference.rs; \
         do not edit by hand: `UPDATE_DOCS=1 cargo test --lib reference` writes it again. -->\n\n",
    );
    let _ = writeln!(
        s,
        "{}\n",
        cmd.get_about().map(|a| a.to_string()).unwrap_or_default()
    );
    s.push_str("Exit codes: 0 go, 1 no-go, 2 could not evaluate, 3 untrusted input ");
    s.push_str("(see the README's \"Exit codes\").\n\n");
    s.push_str("| command | what it does |\n|---|---|\n");
    for sub in visible_subcommands(&cmd) {
        let _ = writeln!(
            s,
            "| [`preflight {0}`](#preflight-{0}) | {1} |",
            sub.get_name(),
            about(sub)
        );
    }
    s.push_str("\nOptions of every command:\n\n");
    for arg in cmd.get_arguments().filter(|a| shown(a)) {
        arg_item(&mut s, arg);
    }
    for sub in visible_subcommands(&cmd) {
        command_section(&mut s, sub);
    }
    s
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

fn shown(arg: &Arg) -> bool {
    !arg.is_hide_set() && !matches!(arg.get_id().as_str(), "help" | "version")
}

fn about(cmd: &Command) -> String {
    cmd.get_long_about()
        .or(cmd.get_about())
        .map(|a| a.to_string())
        .unwrap_or_default()
}

fn command_section(s: &mut String, cmd: &Command) {
    let name = cmd.get_name();
    let _ = writeln!(s, "\n## preflight {name}\n\n{}\n", about(cmd));
    let usage = cmd
        .clone()
        .bin_name(format!("preflight {name}"))
        .render_usage()
        .to_string();
    let usage = usage.trim_start_matches("Usage: ");
    let _ = writeln!(s, "```text\n{usage}\n```\n");
    let positionals: Vec<&Arg> = cmd.get_positionals().filter(|a| shown(a)).collect();
    if !positionals.is_empty() {
        s.push_str("Arguments:\n\n");
        for arg in positionals {
            arg_item(s, arg);
        }
    }
    let options: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && shown(a) && !a.is_global_set())
        .collect();
    if !options.is_empty() {
        if s.ends_with(".\n") {
            s.push('\n');
        }
        s.push_str("Options (and `--color`):\n\n");
        for arg in options {
            arg_item(s, arg);
        }
    }
    if let Some(after) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        let _ = writeln!(s, "\n```text\n{}\n```", after.to_string().trim_end());
    }
}

/// One argument as a list item: its spelling, help, values, default, and whether it is
/// required or repeatable.
fn arg_item(s: &mut String, arg: &Arg) {
    let value = arg
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
    let repeat = matches!(arg.get_action(), ArgAction::Append);
    let spelling = if arg.is_positional() {
        let v = if arg.is_required_set() {
            format!("<{value}>")
        } else {
            format!("[{value}]")
        };
        if repeat || arg.get_num_args().is_some_and(|n| n.max_values() > 1) {
            format!("{v}...")
        } else {
            v
        }
    } else {
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("-{short}"));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("--{long}"));
        }
        let takes_value = arg.get_action().takes_values();
        let names = names.join(", ");
        if takes_value {
            format!("{names} <{value}>")
        } else {
            names
        }
    };
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut notes = Vec::new();
    if arg.is_required_set() {
        notes.push("required".to_string());
    }
    if repeat && !arg.is_positional() {
        notes.push("repeatable".to_string());
    }
    let takes_value = arg.is_positional() || arg.get_action().takes_values();
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|d| format!("`{}`", d.to_string_lossy()))
        .collect();
    if takes_value && !defaults.is_empty() {
        notes.push(format!("default {}", defaults.join(", ")));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    let _ = writeln!(s, "- `{spelling}`{notes}: {}", one_line(&help));
    let values: Vec<_> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .collect();
    if takes_value && !values.is_empty() {
        let described = values.iter().any(|v| v.get_help().is_some());
        if described {
            for v in values {
                match v.get_help() {
                    Some(h) => {
                        let _ = writeln!(s, "  - `{}`: {}", v.get_name(), one_line(&h.to_string()));
                    }
                    None => {
                        let _ = writeln!(s, "  - `{}`", v.get_name());
                    }
                }
            }
        } else {
            let names: Vec<String> = values
                .iter()
                .map(|v| format!("`{}`", v.get_name()))
                .collect();
            let _ = writeln!(s, "  - values: {}", names.join(", "));
        }
    }
}

/// Help text on one line (the list item's).
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let joined = joined.trim_end_matches('.');
    format!("{joined}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/reference.md is what the argument definition says today.
    #[test]
    fn reference_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md");
        let generated = markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).expect("docs/reference.md is writable");
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/reference.md is stale: run `UPDATE_DOCS=1 cargo test --lib reference` and commit it"
        );
    }

    /// Every flag of every command appears in the reference.
    #[test]
    fn reference_names_every_flag() {
        let text = markdown();
        let cmd = Cli::command();
        for sub in visible_subcommands(&cmd) {
            assert!(text.contains(&format!("## preflight {}", sub.get_name())));
            for arg in sub.get_arguments().filter(|a| shown(a)) {
                if let Some(long) = arg.get_long() {
                    let listed = [
                        format!("`--{long}`"),
                        format!("`--{long} <"),
                        format!(", --{long}`"),
                    ];
                    assert!(listed.iter().any(|l| text.contains(l)), "--{long}");
                }
                let takes_value = arg.is_positional() || arg.get_action().takes_values();
                for v in arg.get_possible_values().iter().filter(|_| takes_value) {
                    assert!(
                        text.contains(&format!("`{}`", v.get_name())),
                        "{}",
                        v.get_name()
                    );
                }
            }
        }
    }
}
