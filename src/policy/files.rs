//! Finding and reading policy files: paths, folders of `*.toml`, and the word `builtin`.

use super::builtin::builtin_sources;
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
use std::path::Path;

/// The `--policy` value that names the built-in baseline.
pub const BUILTIN_WORD: &str = "builtin";

/// Reads every policy file the paths name, in a stable order: arguments in the order given,
/// each folder's `*.toml` files (not `*.cases.toml`) sorted by path. No paths: the baseline.
pub fn collect_sources(paths: &[String]) -> Result<Vec<SourceFile>, Diagnostics> {
    if paths.is_empty() {
        return Ok(builtin_sources());
    }
    let mut out = Vec::new();
    let mut diags = Diagnostics::default();
    for p in paths {
        if p == BUILTIN_WORD {
            out.extend(builtin_sources());
            continue;
        }
        let path = Path::new(p);
        if path.is_dir() {
            let mut found = Vec::new();
            if let Err(e) = walk(path, &mut found) {
                diags.push(SourceDiag::plain(
                    Code::PolicyRead,
                    format!("cannot read policy folder {p}: {e}"),
                ));
                continue;
            }
            found.sort();
            if found.is_empty() {
                diags.push(SourceDiag::plain(
                    Code::PolicyRead,
                    format!("policy folder {p} holds no *.toml file"),
                ));
            }
            for f in found {
                read_one(&f.to_string_lossy(), &mut out, &mut diags);
            }
        } else {
            read_one(p, &mut out, &mut diags);
        }
    }
    diags.into_result(out)
}

fn walk(dir: &Path, found: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if is_policy_file(&path) {
            found.push(path);
        }
    }
    Ok(())
}

/// A `*.toml` file that is not a test-case file.
pub fn is_policy_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.ends_with(".toml") && !name.ends_with(".cases.toml")
}

fn read_one(p: &str, out: &mut Vec<SourceFile>, diags: &mut Diagnostics) {
    match std::fs::read(p) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => out.push(SourceFile::new(p, text)),
            Err(e) => diags.push(SourceDiag::plain(
                Code::PolicyRead,
                format!(
                    "policy file {p} is not UTF-8 (byte {})",
                    e.utf8_error().valid_up_to()
                ),
            )),
        },
        Err(e) => diags.push(SourceDiag::plain(
            Code::PolicyRead,
            format!("cannot read policy file {p}: {e}"),
        )),
    }
}
