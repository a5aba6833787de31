//! Recognising an inventory's format from its first record.

use super::Format;
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};

/// Guesses the format from the text: a native document has `vms` or `hosts` at the top;
/// SCVMM, Hyper-V and Proxmox exports are told apart by their property names.
pub fn detect(file: &SourceFile) -> Result<Format, Diagnostics> {
    let text = file.text.trim_start();
    if super::rvtools::is_tab_csv(text) {
        return Ok(Format::Rvtools);
    }
    if text.starts_with("#TYPE") || text.starts_with("\"") {
        return Ok(Format::Hyperv);
    }
    if !(text.starts_with('{') || text.starts_with('[')) {
        // Not JSON: the native format's TOML spelling, or a CSV export without #TYPE.
        let first = text.lines().next().unwrap_or("");
        if first.contains("Name")
            && (first.contains(',') || first.contains(';'))
            && !first.contains('=')
        {
            return Ok(Format::Hyperv);
        }
        return Ok(Format::Native);
    }
    // Look at the keys of the first object only: cheap on a file of any size.
    let head: String = text.chars().take(8192).collect();
    let has = |key: &str| head.contains(&format!("\"{key}\""));
    // A combined SCVMM inventory object also has `vms` and `hosts`, but with VMM's key names.
    let scvmm_combined = has("ems") || has("vmnetworks") || has("HostName") || has("StatusString");
    if (has("vms") || has("hosts") || has("schema")) && !scvmm_combined {
        return Ok(Format::Native);
    }
    if scvmm_combined && (has("vms") || has("hosts") || has("clusters")) {
        return Ok(Format::Scvmm);
    }
    if has("vmid") || (has("node") && has("type")) {
        return Ok(Format::Proxmox);
    }
    if has("IsClustered") || has("State") && has("ComputerName") {
        return Ok(Format::Hyperv);
    }
    if has("IsHighlyAvailable")
        || has("HostName")
        || has("VMHost")
        || has("StatusString")
        || has("CPUCount")
        || has("VirtualMachineStateString")
        || has("OverallState")
        || has("TotalMemory")
        || has("LogicalProcessorCount")
    {
        return Ok(Format::Scvmm);
    }
    Err(SourceDiag::at(
        Code::InventoryFormat,
        format!("cannot tell what produced {}", file.name),
        file,
        0..1.min(file.text.len()),
        "unrecognised start",
    )
    .with_help("use --inventory-format native|scvmm|hyperv|proxmox|rvtools to say which it is")
    .into())
}
