//! Writing output: to stdout (a closed pipe is not an error) or to a file replaced atomically.

use crate::diag::{Code, Diagnostics, SourceDiag};
use std::io::{self, Write};
use std::path::Path;

/// Writes what `render` produces to `path` (atomically: a temporary file in the same folder,
/// renamed over the target) or to stdout when `path` is `None`.
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
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
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

/// Replaces `path` with the rendered bytes so a reader never sees half a file.
pub fn write_atomically(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        render(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
