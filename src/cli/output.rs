//! Writing output: to stdout (a closed pipe is not an error) or to a file replaced atomically
//! (a device or FIFO is written to in place).

use super::{Cli, Command, FormatArg, ReportArgs, color_enabled, print_diagnostics};
use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::report::{
    ErrorFormat, ErrorRecord, Html, Json, Junit, Markdown, Report, Reporter, Sarif, Table,
    verdict_line, write_error,
};
use clap::ValueEnum;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::io::{self, Write};
use std::path::Path;

/// Writes what `render` produces to `path` (see [`write_atomically`]) or to stdout when `path`
/// is `None`.
pub fn emit(
    path: Option<&str>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Diagnostics> {
    match path {
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            match render(&mut out).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if is_broken_pipe(&e) => Ok(()),
                Err(e) => Err(SourceDiag::plain(
                    Code::OutputWrite,
                    format!("cannot write to stdout: {e}"),
                )
                .into()),
            }
        }
        Some(p) => write_atomically(Path::new(p), render).map_err(|e| {
            SourceDiag::plain(Code::OutputWrite, format!("cannot write {p}: {e}")).into()
        }),
    }
}

/// Whether writing failed because the reader went away (`preflight … | head`), also when a
/// serializer wrapped the I/O error in its own.
fn is_broken_pipe(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return true;
    }
    let inner = e.get_ref();
    inner
        .and_then(|i| i.downcast_ref::<serde_json::Error>())
        .and_then(serde_json::Error::io_error_kind)
        .is_some_and(|k| k == io::ErrorKind::BrokenPipe)
        || inner
            .and_then(|i| i.downcast_ref::<io::Error>())
            .is_some_and(is_broken_pipe)
}

/// Writes the rendered bytes to `path`: a regular file is replaced atomically so a reader never
/// sees half of it; a device or FIFO is written to in place (see [`super::replace`]).
pub fn write_atomically(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    super::replace::write_file(path, render)
}

/// Writes the report in the format asked for, to `--output` or stdout; with `--quiet`, stdout
/// gets the verdict line alone and the report goes only where `--output` says.
pub fn write_report(args: &ReportArgs, report: &Report, cli: &Cli) -> Result<(), Diagnostics> {
    let to_stdout = args.output.is_none();
    let color = to_stdout && color_enabled(cli.color, io::stdout().is_terminal());
    let reporter: Box<dyn Reporter> = match args.format {
        FormatArg::Table => Box::new(Table {
            color,
            width: table_width(to_stdout),
        }),
        FormatArg::Json => Box::new(Json),
        FormatArg::Sarif => Box::new(Sarif),
        FormatArg::Junit => Box::new(Junit),
        FormatArg::Markdown => Box::new(Markdown),
        FormatArg::Html => Box::new(Html),
    };
    if args.quiet {
        if let Some(path) = args.output.as_deref() {
            emit(Some(path), |w| reporter.write(report, w))?;
        }
        return emit(None, |w| writeln!(w, "{}", verdict_line(report)));
    }
    emit(args.output.as_deref(), |w| reporter.write(report, w))
}

/// The width of a table report: on stdout, the terminal's (or `COLUMNS`, see
/// [`crate::report::table_width`]); in a file, the fixed width, whatever started the run.
fn table_width(to_stdout: bool) -> u16 {
    if !to_stdout {
        return crate::report::TABLE_WIDTH;
    }
    let stdout = io::stdout();
    let terminal = if stdout.is_terminal() {
        terminal_size::terminal_size_of(&stdout).map(|(w, _)| w.0)
    } else {
        None
    };
    let columns = std::env::var("COLUMNS").ok();
    crate::report::table_width(terminal, columns.as_deref())
}

fn error_format(format: FormatArg) -> ErrorFormat {
    match format {
        FormatArg::Table => ErrorFormat::Table,
        FormatArg::Json => ErrorFormat::Json,
        FormatArg::Sarif => ErrorFormat::Sarif,
        FormatArg::Junit => ErrorFormat::Junit,
        FormatArg::Markdown => ErrorFormat::Markdown,
        FormatArg::Html => ErrorFormat::Html,
    }
}

/// After a run that could not evaluate (exit 2): the record saying so, with the diagnostics,
/// at `--output` in the format asked for, in place of any earlier report there.
pub fn write_error_record(command: &Command, diags: &Diagnostics, color: bool) {
    let (name, report, hosts) = match command {
        Command::Audit(a) => ("audit", &a.report, a.host.clone()),
        Command::Restore(r) => ("restore", &r.report, Vec::new()),
        _ => return,
    };
    if let Some(path) = report.output.as_deref() {
        let record = ErrorRecord::new(name, hosts, diags);
        let format = error_format(report.format);
        write_record(path, format, &record, color);
    }
}

fn write_record(path: &str, format: ErrorFormat, record: &ErrorRecord, color: bool) {
    if let Err(e) = write_atomically(Path::new(path), |w| write_error(format, record, w)) {
        print_diagnostics(
            &SourceDiag::plain(
                Code::OutputWrite,
                format!("cannot write the error record {path}: {e}"),
            )
            .into(),
            color,
        );
    }
}

/// After a command line that could not be parsed: the error record at the `--output` of an
/// `audit` or `restore`, found by a lenient reading of the words, unless that file is also one
/// of the words' inputs.
pub fn record_unparsed(args: &[OsString], error: &clap::Error) {
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(command) = words.iter().find(|w| *w == "audit" || *w == "restore") else {
        return;
    };
    let values = |flag: &str| -> Vec<&str> {
        let eq = format!("{flag}=");
        let mut found = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if w == flag {
                found.extend(words.get(i + 1).map(String::as_str));
            } else if let Some(v) = w.strip_prefix(&eq) {
                found.push(v);
            }
        }
        found
    };
    let Some(output) = values("--output").last().copied() else {
        return;
    };
    let mut inputs: Vec<(&str, &str)> = Vec::new();
    for flag in ["--inventory", "--policy", "--plan", "--plan-out"] {
        inputs.extend(values(flag).into_iter().map(|v| (flag, v)));
    }
    let others: Vec<&str> = values("--output");
    if others.len() > 1 || super::same_file::check(&inputs, &[("--output", output)]).is_err() {
        return;
    }
    let format = values("--format")
        .last()
        .and_then(|f| FormatArg::from_str(f, true).ok())
        .map_or(ErrorFormat::Table, error_format);
    let text = error.render().to_string();
    let message = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    let diags: Diagnostics = SourceDiag::plain(Code::UsageArguments, message).into();
    let record = ErrorRecord::new(
        command,
        values("--host").into_iter().map(String::from).collect(),
        &diags,
    );
    write_record(output, format, &record, false);
}
