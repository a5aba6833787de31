//! Writing output: to stdout (a closed pipe is not an error) or to a file replaced atomically
//! (a device or FIFO is written to in place).

use super::{Cli, FormatArg, ReportArgs, color_enabled};
use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::report::{Html, Json, Junit, Markdown, Report, Reporter, Sarif, Table, verdict_line};
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
    let color = args.output.is_none() && color_enabled(cli.color, io::stdout().is_terminal());
    let reporter: Box<dyn Reporter> = match args.format {
        FormatArg::Table => Box::new(Table { color }),
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
