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
        InventoryFormatArg::Rvtools => Some(Format::Rvtools),
        InventoryFormatArg::Powercli => Some(Format::Powercli),
        InventoryFormatArg::Govc => Some(Format::Govc),
    };
    let mut diags = Diagnostics::default();
    let mut warnings = Diagnostics::default();
    let mut parts = Vec::new();
    let mut inputs = Vec::new();
    let on_terminal = std::io::stderr().is_terminal();
    // RVTools per-tab CSV files are one export: vInfo's VMs need vCluster's DRS settings;
    // so are PowerCLI's Get-VM, Get-VMHost and Get-Cluster files, and govc's.
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
                format: set.format.to_string(),
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
        let _progress = Progress::start(
            format!("reading {}", crate::diag::escape_controls_inline(path)),
            on_terminal,
        );
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
    let merged = inventory::merge(parts)?;
    drop_hosts_found_elsewhere(&mut warnings, &merged);
    let inventory = Prepared::new(merged);
    Ok(Inventories {
        inventory,
        inputs,
        warnings,
    })
}

/// Drops each warning about a host that one file names and does not list, when another file
/// of the run lists it: the merged inventory has the host, so the warning would be false.
fn drop_hosts_found_elsewhere(warnings: &mut Diagnostics, merged: &Inventory) {
    if warnings.0.iter().all(|w| w.unless_host.is_none()) {
        return;
    }
    let hosts: std::collections::HashSet<String> = merged
        .hosts
        .iter()
        .map(|h| h.name.as_str().to_lowercase())
        .collect();
    warnings.0.retain(|w| {
        w.unless_host
            .as_deref()
            .is_none_or(|h| !hosts.contains(&h.to_lowercase()))
    });
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
        collected_at: None,
        policies,
        tool_version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// `--now`, or the system clock. Beyond what the timestamp parser checks, the UTC offset must be
/// one RFC 3339 allows (at most 23:59 either way; `+24:00` would silently mean a day earlier),
/// and a time zone annotation (`…+01:00[Europe/Paris]`) must agree with the offset: when they
/// disagree, which instant was meant is unknown, so the run stops rather than guess.
pub fn parse_now(now: Option<&str>) -> Result<jiff::Timestamp, Diagnostics> {
    let Some(s) = now else {
        return Ok(jiff::Timestamp::now());
    };
    let bad = |why: String| -> Diagnostics {
        SourceDiag::plain(
            Code::UsageNow,
            format!(
                "--now {} is not an RFC 3339 timestamp: {why}",
                s.escape_debug()
            ),
        )
        .with_help("write it like 2026-11-25T08:00:00Z or 2026-11-25T09:00:00+01:00")
        .into()
    };
    let ts = s
        .parse::<jiff::Timestamp>()
        .map_err(|e| bad(e.to_string()))?;
    let (body, annotations) = s.split_at(s.find('[').unwrap_or(s.len()));
    let offset = offset_seconds(body).map_err(&bad)?;
    for note in annotations
        .split(['[', ']'])
        .filter(|a| !a.is_empty())
        .map(|a| a.trim_start_matches('!'))
        // `key=value` tags (a calendar) say nothing about the instant.
        .filter(|a| !a.contains('='))
    {
        let zone_offset = if note.starts_with(['+', '-']) {
            offset_seconds(note).map_err(&bad)?
        } else {
            let tz = jiff::tz::TimeZone::get(note)
                .map_err(|e| bad(format!("time zone `{}`: {e}", note.escape_debug())))?;
            Some(tz.to_offset(ts).seconds())
        };
        // `Z` says the UTC instant is known and the local offset is not: any zone fits it.
        if let (Some(given), Some(zone)) = (offset, zone_offset)
            && given != zone
        {
            return Err(bad(format!(
                "its offset {} is not {}'s offset at that time ({})",
                hhmm(given),
                note.escape_debug(),
                hhmm(zone)
            )));
        }
    }
    Ok(ts)
}

/// The UTC offset at the end of `text` in seconds: `None` for `Z`, an error past ±23:59.
fn offset_seconds(text: &str) -> Result<Option<i32>, String> {
    if text.ends_with(['Z', 'z']) {
        return Ok(None);
    }
    // The offset starts at the last sign after the time of day (the date has hyphens too).
    let time_start = text.find(['T', 't', ' ']).map_or(0, |i| i + 1);
    let Some(sign_at) = text[time_start..].rfind(['+', '-']).map(|i| i + time_start) else {
        return Err("it has no UTC offset".into());
    };
    let digits: String = text[sign_at + 1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = digits.split_at(digits.len().min(2));
    let hours: i32 = h
        .parse()
        .map_err(|_| format!("bad offset `{}`", &text[sign_at..]))?;
    let minutes: i32 = if m.is_empty() {
        0
    } else {
        m.get(..2)
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| format!("bad offset `{}`", &text[sign_at..]))?
    };
    if hours > 23 || minutes > 59 {
        return Err(format!(
            "the offset `{}` is out of range (-23:59 to +23:59)",
            &text[sign_at..]
        ));
    }
    let sign = if text[sign_at..].starts_with('-') {
        -1
    } else {
        1
    };
    Ok(Some(sign * (hours * 3600 + minutes * 60)))
}

fn hhmm(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    format!("{sign}{:02}:{:02}", s / 3600, s % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> Option<Code> {
        parse_now(Some(s)).err().map(|d| d.0[0].code)
    }

    #[test]
    fn now_accepts_rfc3339_and_agreeing_zones() {
        for ok in [
            "2026-11-25T08:00:00Z",
            "2026-11-25T09:00:00+01:00",
            "2026-11-25T02:00:00-06:00",
            "2026-11-25T08:00:00+23:59",
            "2026-11-25T09:00:00+01:00[Europe/Paris]",
            "2026-07-25T10:00:00+02:00[!Europe/Paris]",
            "2026-11-25T08:00:00Z[America/New_York]",
            "2026-11-25T09:00:00+01:00[+01:00]",
            "2026-11-25T09:00:00+01:00[u-ca=iso8601]",
        ] {
            assert_eq!(code(ok), None, "{ok}");
        }
        assert_eq!(
            parse_now(Some("2026-11-25T09:00:00+01:00[Europe/Paris]")).unwrap(),
            "2026-11-25T08:00:00Z".parse().unwrap()
        );
    }

    #[test]
    fn now_refuses_offsets_out_of_range_and_zones_that_disagree() {
        for bad in [
            "2026-11-25T08:00:00+24:00",
            "2026-11-25T08:00:00-24:00",
            "2026-11-25T08:00:00+01:00[America/New_York]",
            "2026-07-25T09:00:00+01:00[Europe/Paris]",
            "2026-11-25T09:00:00+01:00[+02:00]",
            "2026-11-25T09:00:00+01:00[Nowhere/Atlantis]",
            "yesterday",
        ] {
            assert_eq!(code(bad), Some(Code::UsageNow), "{bad}");
        }
    }
}
