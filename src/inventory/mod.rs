//! Reading inventories: the native format and the exports the platforms' own tools write.
//!
//! [`parse`] turns one file's bytes into an [`Inventory`], detecting the format unless one is
//! forced; [`merge`] combines several files (a VM export and a host export, say). Parsers never
//! panic on bad input: every problem is a located [`SourceDiag`].

mod csv_spans;
mod decode;
mod detect;
mod facts_read;
pub mod govc;
mod hyperv;
mod hyperv_csv;
mod load;
mod locate;
mod merge;
mod native;
pub mod powercli;
mod proxmox;
mod proxmox_facts;
mod read;
mod record;
pub mod records_at;
pub mod rvtools;
mod scvmm;
mod scvmm_hosts;
mod states;

pub use decode::decode;
pub use detect::detect;
pub use load::{parse_and_digest, read_and_parse};
pub use merge::merge;
pub use native::from_toml_value as native_from_toml;

/// The native piece reader with pieces of `piece` bytes: the parsed inventory and the SHA-256
/// of the bytes parsed, or `None` where it leaves the file to the whole-file read. For the fuzz
/// target that holds it to the whole-file read on small inputs; not part of the interface.
#[doc(hidden)]
pub fn read_native_in_pieces(
    file: &std::fs::File,
    size: u64,
    piece: usize,
) -> Option<(Parsed, [u8; 32])> {
    native::parse_streamed_in(file, size, piece.max(1))
}

use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};
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
    Rvtools,
    Powercli,
    Govc,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Native,
        Format::Scvmm,
        Format::Hyperv,
        Format::Proxmox,
        Format::Rvtools,
        Format::Powercli,
        Format::Govc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Scvmm => "scvmm",
            Format::Hyperv => "hyperv",
            Format::Proxmox => "proxmox",
            Format::Rvtools => "rvtools",
            Format::Powercli => "powercli",
            Format::Govc => "govc",
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
    // A workbook is binary: read before any decoding to text.
    if matches!(forced, None | Some(Format::Rvtools))
        && (rvtools::is_zip(bytes) || rvtools::is_ole(bytes))
    {
        return rvtools::parse_xlsx(name, bytes);
    }
    let text = decode(name, bytes)?;
    parse_file(&SourceFile::new(name, text), forced)
}

/// Parses one inventory file already decoded to text.
fn parse_file(file: &SourceFile, forced: Option<Format>) -> Result<Parsed, Diagnostics> {
    no_output(file)?;
    let format = match forced {
        Some(f) => f,
        None => detect(file)?,
    };
    let mut parsed = match format {
        Format::Native => native::parse(file)?,
        Format::Scvmm => scvmm::parse(file)?,
        Format::Hyperv => hyperv::parse(file)?,
        Format::Proxmox => proxmox::parse(file)?,
        Format::Rvtools => rvtools::parse_csv(file)?,
        Format::Powercli => powercli::parse(file)?,
        Format::Govc => govc::parse(file)?,
    };
    parsed.format = format;
    Ok(parsed)
}

/// An export of nothing, whatever the format: an empty (or blank) file, which Windows
/// PowerShell 5.1 writes when the pipeline had no objects, or `null`, which PowerShell 7's
/// `ConvertTo-Json` writes then. Read as an inventory without VMs, merged with a host export,
/// it would clear every host: it is an input error instead.
fn no_output(file: &SourceFile) -> Result<(), Diagnostics> {
    let text = file.text.trim();
    if text.is_empty() {
        return Err(SourceDiag::plain(
            Code::InventoryFormat,
            format!("{}: the file is empty: the command that wrote it had no output", file.name),
        )
        .with_help("Windows PowerShell 5.1 writes nothing when the pipeline had no objects (e.g. Get-VM returned nothing); check the cmdlet and its filter")
        .into());
    }
    if text == "null" {
        let at = file.text.len() - file.text.trim_start().len();
        return Err(SourceDiag::at(
            Code::InventoryFormat,
            format!(
                "{}: the export is `null`: the command that wrote it had no input, e.g. Get-VM returned nothing",
                file.name
            ),
            file,
            at..at + 4,
            "ConvertTo-Json wrote this for no input",
        )
        .with_help("check the cmdlet and its filter; an inventory must list the VMs")
        .into());
    }
    Ok(())
}

/// What an export left out that rules need (the HA flag, the memory size), with the property to
/// export next time: `ha_hint` and `memory_hint` name it in the platform's own words.
pub(crate) fn missing_fields(
    vms: &[crate::model::Vm],
    ha_hint: &str,
    memory_hint: &str,
) -> Vec<crate::model::Gap> {
    let mut out = Vec::new();
    let no_ha = vms.iter().filter(|v| v.ha.is_none()).count();
    if no_ha > 0 {
        out.push(crate::model::Gap {
            field: "ha".to_string(),
            count: no_ha,
            hint: ha_hint.to_string(),
        });
    }
    let no_mem = vms.iter().filter(|v| v.memory_mb.is_none()).count();
    if no_mem > 0 {
        out.push(crate::model::Gap {
            field: "memory_mb".to_string(),
            count: no_mem,
            hint: memory_hint.to_string(),
        });
    }
    out
}
