//! Writing an output file (report, plan, script) so no reader sees half of it and nothing else
//! is lost:
//! - a regular file, or a new one, is replaced atomically: the bytes go to a temporary file
//!   beside it, `.NAME.preflight-XXXXXX.tmp`, renamed over it once complete. The new file gets
//!   the permissions any file the user creates gets (0666 less the umask), or the ones the
//!   replaced file had; a symlink is followed, so the file it points to is replaced, not the
//!   link;
//! - a device, FIFO or socket (`/dev/null`, `/dev/stdout`, a named pipe) is written to in place:
//!   replacing it would turn `/dev/null` into a regular file for the whole machine;
//! - SIGINT and SIGTERM remove the temporary files of writes under way before the process ends
//!   as the signal says (SIGKILL cannot be caught; the name tells what such a leftover is).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes what `render` produces to `path`, as the module says.
pub fn write_file(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a folder",
        )),
        Ok(m) if !m.is_file() => write_in_place(path, render),
        Ok(m) => {
            let target = match fs::symlink_metadata(path) {
                Ok(l) if l.file_type().is_symlink() => fs::canonicalize(path)?,
                _ => path.to_path_buf(),
            };
            replace(&target, Some(m.permissions()), render)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => replace(path, None, render),
        Err(e) => Err(e),
    }
}

/// Writes into a file that is not a regular one, without creating or truncating anything.
fn write_in_place(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    let mut w = io::BufWriter::new(file);
    render(&mut w)?;
    w.flush()
}

/// The temporary file's name beside `path`: hidden, and saying whose and what it is.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy());
    format!(".{name}.preflight-")
}

fn replace(
    path: &Path,
    keep: Option<fs::Permissions>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = temp_prefix(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp").rand_bytes(6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created with 0666: the kernel takes the umask off, as for any file the user makes.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let (mut tmp, _cleanup) = cleanup::Registered::create(|| builder.tempfile_in(dir))?;
    if let Some(perms) = keep {
        tmp.as_file().set_permissions(perms)?;
    }
    {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        render(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The temporary files being written, removed when SIGINT or SIGTERM ends the run.
mod cleanup {
    use super::PathBuf;
    #[cfg(test)]
    use std::path::Path;
    use std::sync::{Mutex, PoisonError};

    static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    /// A temporary file on the list while it lives.
    pub struct Registered(PathBuf);

    impl Registered {
        /// Creates a temporary file with `create` and lists it. The signal handler is in place
        /// first, and the list stays locked from creation to listing, so a signal at any
        /// moment finds the file on the list.
        pub fn create(
            create: impl FnOnce() -> std::io::Result<tempfile::NamedTempFile>,
        ) -> std::io::Result<(tempfile::NamedTempFile, Registered)> {
            install();
            let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
            let tmp = create()?;
            live.push(tmp.path().to_path_buf());
            let registered = Registered(tmp.path().to_path_buf());
            Ok((tmp, registered))
        }
    }

    impl Drop for Registered {
        fn drop(&mut self) {
            let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(i) = live.iter().position(|p| *p == self.0) {
                live.swap_remove(i);
            }
        }
    }

    /// Removes the listed temporary files `which` picks, as the signal handler removes them
    /// all; returns how many were removed.
    #[cfg(test)]
    pub fn remove(which: impl Fn(&Path) -> bool) -> usize {
        let live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.iter()
            .filter(|p| which(p) && std::fs::remove_file(p).is_ok())
            .count()
    }

    /// Starts, once, a thread that waits for SIGINT or SIGTERM, removes the temporary files, and
    /// then ends the process as the signal would have.
    #[cfg(unix)]
    fn install() {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use signal_hook::iterator::Signals;
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
                return;
            };
            let _ = std::thread::Builder::new()
                .name("output-cleanup".into())
                .spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        // The lock is kept: no new temporary file starts while the process ends.
                        let live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
                        for p in live.iter() {
                            let _ = std::fs::remove_file(p);
                        }
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                        std::process::exit(128 + signal);
                    }
                });
        });
    }

    #[cfg(not(unix))]
    fn install() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".preflight-"))
            .collect()
    }

    #[test]
    fn a_regular_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        fs::write(&path, "old, and longer than the new text").unwrap();
        write_file(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert!(leftovers(dir.path()).is_empty());
        // A failed render leaves the old file and no temporary one.
        let err = write_file(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn the_temporary_file_is_named_after_its_target() {
        assert_eq!(
            temp_prefix(Path::new("out/report.json")),
            ".report.json.preflight-"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_the_permissions_of_any_new_file_and_a_replaced_one_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        // The umask as the kernel applies it to a file created 0666 right now.
        let probe = dir.path().join("probe");
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&probe)
            .unwrap();
        let expected = fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        let path = dir.path().join("plan.json");
        write_file(&path, |w| w.write_all(b"{}")).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "{mode:o} != {expected:o}");
        assert_ne!(mode, 0o600, "the temporary file's 0600 leaked");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_file(&path, |w| w.write_all(b"{}")).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_to_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
        };
        write_file(&fifo, |w| w.write_all(b"through the pipe")).unwrap();
        // Checked before waiting for the reader, which would wait forever had the FIFO been
        // replaced.
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(reader.join().unwrap(), "through the pipe");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn dev_null_stays_a_device() {
        // Only the file type is asserted: the old behaviour would have replaced /dev/null, so
        // this runs only where the fix is in (it is this very function).
        let null = Path::new("/dev/null");
        if !fs::metadata(null).is_ok_and(|m| m.file_type().is_char_device()) {
            return;
        }
        write_file(null, |w| w.write_all(b"discarded")).unwrap();
        assert!(fs::metadata(null).unwrap().file_type().is_char_device());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_keeps_pointing_at_the_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_file(&link, |w| w.write_all(b"new")).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_file(dir.path(), |w| w.write_all(b"x")).is_err());
    }

    #[test]
    fn the_signal_cleanup_removes_files_being_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_file(&path, |_| {
            assert_eq!(leftovers(dir.path()).len(), 1);
            assert_eq!(cleanup::remove(|p| p.starts_with(dir.path())), 1);
            assert!(leftovers(dir.path()).is_empty());
            Ok(())
        })
        .unwrap_err();
    }
}
