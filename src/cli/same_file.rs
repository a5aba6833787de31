//! Refusing, before anything is read, a run whose output would destroy one of its inputs or
//! another of its outputs: `--output inv.json --inventory inv.json`, `--output` equal to
//! `--plan`, `render --output` equal to the plan. The same file is recognised through another
//! spelling (`./inv.json`) or a symlink: by device and inode where it exists, by its canonical
//! path where it does not yet. Devices and FIFOs (`/dev/null` as two outputs) are never
//! destroyed by a write and are not refused.

use super::Command;
use crate::diag::{Code, Diagnostics, SourceDiag};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What a path names, for comparing two paths.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// An existing regular file.
    File { dev: u64, ino: u64 },
    /// A file that does not exist yet, by the canonical path it will have.
    New(PathBuf),
    /// A device, FIFO, folder or anything a write does not replace: never a clash.
    Other,
}

fn identity(path: &str) -> Identity {
    let p = Path::new(path);
    match fs::metadata(p) {
        Ok(m) if m.is_file() => file_identity(p, &m),
        Ok(_) => Identity::Other,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Identity::New(new_path(p)),
        Err(_) => Identity::Other,
    }
}

#[cfg(unix)]
fn file_identity(_: &Path, m: &fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity::File {
        dev: m.dev(),
        ino: m.ino(),
    }
}

#[cfg(not(unix))]
fn file_identity(p: &Path, _: &fs::Metadata) -> Identity {
    Identity::New(fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// Where a file that does not exist yet will be: its folder canonical, then its name.
fn new_path(p: &Path) -> PathBuf {
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = fs::canonicalize(parent).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|c| c.join(parent))
            .unwrap_or_else(|_| parent.to_path_buf())
    });
    match p.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

/// Files named on the command line, each with the flag that named it.
pub type Named<'a> = Vec<(&'static str, &'a str)>;

/// The files a command reads and the files it writes.
pub fn files_of(command: &Command) -> (Named<'_>, Named<'_>) {
    let mut inputs: Named<'_> = Vec::new();
    let mut outputs: Named<'_> = Vec::new();
    match command {
        Command::Audit(a) => {
            inputs.extend(
                a.inventory
                    .inventory
                    .iter()
                    .map(|p| ("--inventory", p.as_str())),
            );
            inputs.extend(policy_files(&a.policy.policy));
            outputs.extend(a.report.output.as_deref().map(|p| ("--output", p)));
            outputs.extend(a.plan.as_deref().map(|p| ("--plan", p)));
        }
        Command::Restore(r) => {
            inputs.push(("--plan", r.plan.as_str()));
            inputs.extend(
                r.inventory
                    .inventory
                    .iter()
                    .map(|p| ("--inventory", p.as_str())),
            );
            inputs.extend(policy_files(&r.policy.policy));
            outputs.extend(r.report.output.as_deref().map(|p| ("--output", p)));
            outputs.extend(r.plan_out.as_deref().map(|p| ("--plan-out", p)));
        }
        Command::Render(r) => {
            inputs.push(("the plan", r.plan.as_str()));
            inputs.extend(r.inventory.iter().map(|p| ("--inventory", p.as_str())));
            outputs.extend(r.output.as_deref().map(|p| ("--output", p)));
        }
        _ => {}
    }
    (inputs, outputs)
}

/// `--policy` values that name files (`builtin` names the baseline; folders are `Other`).
fn policy_files(paths: &[String]) -> impl Iterator<Item = (&'static str, &str)> {
    paths
        .iter()
        .filter(|p| p.as_str() != "builtin")
        .map(|p| ("--policy", p.as_str()))
}

/// Refuses outputs that are an input or another output (exit 2, `usage::same-file`).
pub fn check(inputs: &[(&str, &str)], outputs: &[(&str, &str)]) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    let ids: Vec<Identity> = outputs.iter().map(|(_, p)| identity(p)).collect();
    for (i, (flag, path)) in outputs.iter().enumerate() {
        if ids[i] == Identity::Other {
            continue;
        }
        let clash = inputs
            .iter()
            .find(|(_, p)| identity(p) == ids[i])
            .map(|(f, p)| (*f, *p, "input"))
            .or_else(|| {
                outputs[..i]
                    .iter()
                    .zip(&ids)
                    .find(|(_, id)| **id == ids[i])
                    .map(|((f, p), _)| (*f, *p, "output"))
            });
        if let Some((other_flag, other, what)) = clash {
            diags.push(
                SourceDiag::plain(
                    Code::UsageSameFile,
                    format!(
                        "{flag} {} is the same file as the {what} {other_flag} {}: writing it would destroy that {what}",
                        path.escape_debug(),
                        other.escape_debug()
                    ),
                )
                .with_help("write to another file; nothing was read or written"),
            );
        }
    }
    diags.into_result(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_under_any_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inv = dir.path().join("inv.json");
        fs::write(&inv, "{}").unwrap();
        let inv = inv.to_str().unwrap();
        let other_spelling = format!("{}/./inv.json", dir.path().display());
        let err = check(&[("--inventory", inv)], &[("--output", &other_spelling)]).unwrap_err();
        assert_eq!(err.0[0].code, Code::UsageSameFile);
        assert!(
            err.0[0].message.contains("--inventory"),
            "{}",
            err.0[0].message
        );
        #[cfg(unix)]
        {
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink(inv, &link).unwrap();
            assert!(
                check(
                    &[("--inventory", inv)],
                    &[("--output", link.to_str().unwrap())]
                )
                .is_err()
            );
        }
        // Two outputs that do not exist yet, spelled differently.
        let a = dir.path().join("out.json");
        let b = format!(
            "{}/../{}/out.json",
            dir.path().display(),
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let err = check(&[], &[("--output", a.to_str().unwrap()), ("--plan", &b)]).unwrap_err();
        assert!(
            err.0[0].message.contains("output --output"),
            "{}",
            err.0[0].message
        );
    }

    #[test]
    fn different_files_and_devices_pass() {
        let dir = tempfile::tempdir().unwrap();
        let inv = dir.path().join("inv.json");
        fs::write(&inv, "{}").unwrap();
        let out = dir.path().join("report.json");
        fs::write(&out, "{}").unwrap();
        assert!(
            check(
                &[("--inventory", inv.to_str().unwrap())],
                &[("--output", out.to_str().unwrap())]
            )
            .is_ok()
        );
        #[cfg(unix)]
        assert!(check(&[], &[("--output", "/dev/null"), ("--plan", "/dev/null")]).is_ok());
    }
}
