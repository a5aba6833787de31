//! Reading the run's inputs: inventories (merged), policies, `--now`.

use super::progress::Progress;
use super::{InventoryArgs, InventoryFormatArg, PolicyArgs};
use crate::diag::{Code, Diagnostics, SourceDiag};
use crate::inventory::{self, Format};
use crate::model::{Inventory, Layout};
use crate::policy::{self, PolicySet};
use crate::report::{Inputs, InventoryInput, PolicyInput};
use std::io::IsTerminal;

/// The merged inventory, a record of each file, and warnings raised while reading.
pub struct Inventories {
    pub inventory: Inventory,
    /// Where the VMs are, from [`Inventory::prepare`], for the index: the VMs themselves
    /// stay in the order they were read.
    pub layout: Layout,
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
        InventoryFormatArg::Rvtools => Some(Format::Rvtools),
    };
    let mut diags = Diagnostics::default();
    let mut warnings = Diagnostics::default();
    let mut parts = Vec::new();
    let mut inputs = Vec::new();
    let on_terminal = std::io::stderr().is_terminal();
    // RVTools per-tab CSV files are one export: vInfo's VMs need vCluster's DRS settings.
    let tab_set = inventory::rvtools::read_tab_set(&args.inventory, forced);
    let in_set: Vec<usize> = tab_set
        .iter()
        .flat_map(|s| s.files.iter().map(|f| f.0))
        .collect();
    if let Some(set) = tab_set {
        for (i, sha256) in &set.files {
            inputs.push(InventoryInput {
                path: args.inventory[*i].clone(),
                sha256: sha256.clone(),
                format: Format::Rvtools.to_string(),
            });
        }
        match set.parsed {
            Ok(parsed) => {
                warnings.0.extend(parsed.warnings);
                let names: Vec<&str> = set
                    .files
                    .iter()
                    .map(|f| args.inventory[f.0].as_str())
                    .collect();
                parts.push((names.join(" + "), parsed.inventory));
            }
            Err(e) => diags.extend(e),
        }
    }
    for (i, path) in args.inventory.iter().enumerate() {
        if in_set.contains(&i) {
            continue;
        }
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
            inventory: Inventory::default(),
            layout: Layout::default(),
            inputs,
            warnings,
        });
    }
    let mut inventory = inventory::merge(parts)?;
    let layout = inventory.prepare();
    Ok(Inventories {
        inventory,
        layout,
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
