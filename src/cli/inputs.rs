//! Reading the run's inputs: inventories (merged), policies, `--now`.

use super::progress::Progress;
use super::{InventoryArgs, InventoryFormatArg, PolicyArgs};
use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::inventory::{self, Format};
use crate::model::Inventory;
use crate::pipeline::Prepared;
use crate::policy::{self, PolicySet};
use crate::report::{Inputs, InventoryInput, PolicyInput};
use std::io::IsTerminal;

/// The merged inventory, a record of each file, and warnings raised while reading.
pub struct Inventories {
    /// Prepared once: the VMs stay in the order they were read, the index orders them.
    pub inventory: Prepared,
    pub inputs: Vec<InventoryInput>,
    pub warnings: Diagnostics,
}

pub fn load_inventories(args: &InventoryArgs) -> Result<Inventories, Diagnostics> {
    let forced = match args.inventory_format {
        InventoryFormatArg::Auto => None,
        InventoryFormatArg::Native => Some(Format::Native),
        InventoryFormatArg::Scvmm => Some(Format::Scvmm),
        InventoryFormatArg::Hyperv => Some(Format::Hyperv),
        InventoryFormatArg::Proxmox => Some(Format::Proxmox),
    };
    let mut diags = Diagnostics::default();
    let mut warnings = Diagnostics::default();
    let mut parts = Vec::new();
    let mut inputs = Vec::new();
    let on_terminal = std::io::stderr().is_terminal();
    for path in &args.inventory {
        let _progress = Progress::start(format!("reading {path}"), on_terminal);
        let (sha256, parsed) = match inventory::read_and_parse(path, forced) {
            Ok(read) => read,
            Err(e) => {
                diags.push(SourceDiag::plain(
                    Code::InventoryRead,
                    format!("cannot read inventory {path}: {e}"),
                ));
                continue;
            }
        };
        match parsed {
            Ok(parsed) => {
                inputs.push(InventoryInput {
                    path: path.clone(),
                    sha256,
                    format: parsed.format.to_string(),
                });
                warnings.0.extend(parsed.warnings);
                parts.push((path.clone(), parsed.inventory));
            }
            Err(e) => diags.extend(e),
        }
    }
    if !diags.is_empty() {
        return diags.into_result(Inventories {
            inventory: Prepared::new(Inventory::default()),
            inputs,
            warnings,
        });
    }
    let inventory = Prepared::new(inventory::merge(parts)?);
    Ok(Inventories {
        inventory,
        inputs,
        warnings,
    })
}

pub fn load_policy(args: &PolicyArgs) -> Result<PolicySet, Diagnostics> {
    let sources = policy::collect_sources(&args.policy)?;
    policy::load(sources)
}

/// What the decision record says was judged: every input file with its digest, and the tool.
pub fn record_inputs(inventory: Vec<InventoryInput>, set: &PolicySet) -> Inputs {
    let policies = set
        .files
        .iter()
        .map(|f| PolicyInput {
            path: f.source.name.clone(),
            sha256: f.sha256.clone(),
        })
        .collect();
    Inputs {
        plan: None,
        inventory,
        policies,
        tool_version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// `--now`, or the system clock.
pub fn parse_now(now: Option<&str>) -> Result<jiff::Timestamp, Diagnostics> {
    match now {
        None => Ok(jiff::Timestamp::now()),
        Some(s) => s.parse::<jiff::Timestamp>().map_err(|e| {
            SourceDiag::plain(
                Code::UsageNow,
                format!("--now {s} is not an RFC 3339 timestamp: {e}"),
            )
            .with_help("write it like 2026-11-25T08:00:00Z or 2026-11-25T09:00:00+01:00")
            .into()
        }),
    }
}
