//! Reading inventories: the native format and the exports the platforms' own tools write.
//!
//! [`parse`] turns one file's bytes into an [`Inventory`], detecting the format unless one is
//! forced; [`merge`] combines several files (a VM export and a host export, say). Parsers never
//! panic on bad input: every problem is a located [`SourceDiag`].

mod decode;
mod detect;
mod hyperv;
mod hyperv_csv;
mod load;
mod locate;
mod merge;
mod native;
mod proxmox;
mod read;
mod record;
mod scvmm;
mod scvmm_hosts;
mod states;

pub use decode::decode;
pub use detect::detect;
pub use load::parse_and_digest;
pub use merge::merge;
pub use native::from_toml_value as native_from_toml;

use crate::diag::{Diagnostics, SourceDiag, SourceFile};
use crate::model::Inventory;
use serde::Serialize;
use std::fmt;

/// The inventory formats preflight reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Native,
    Scvmm,
    Hyperv,
    Proxmox,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Native,
        Format::Scvmm,
        Format::Hyperv,
        Format::Proxmox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Scvmm => "scvmm",
            Format::Hyperv => "hyperv",
            Format::Proxmox => "proxmox",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One parsed file: what it held, in which format, and the warnings it raised
/// (unknown enum values, truncated properties).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub inventory: Inventory,
    pub format: Format,
    pub warnings: Vec<SourceDiag>,
}

/// Parses one inventory file. `name` is the path as the user gave it (used in diagnostics).
pub fn parse(name: &str, bytes: &[u8], forced: Option<Format>) -> Result<Parsed, Diagnostics> {
    let text = decode(name, bytes)?;
    parse_file(&SourceFile::new(name, text), forced)
}

/// Parses one inventory file already decoded to text.
fn parse_file(file: &SourceFile, forced: Option<Format>) -> Result<Parsed, Diagnostics> {
    let format = match forced {
        Some(f) => f,
        None => detect(file)?,
    };
    let mut parsed = match format {
        Format::Native => native::parse(file)?,
        Format::Scvmm => scvmm::parse(file)?,
        Format::Hyperv => hyperv::parse(file)?,
        Format::Proxmox => proxmox::parse(file)?,
    };
    parsed.format = format;
    Ok(parsed)
}
