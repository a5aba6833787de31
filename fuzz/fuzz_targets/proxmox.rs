//! Fuzzes the proxmox inventory reader: any bytes give an inventory or diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::inventory::{Format, parse};

fuzz_target!(|data: &[u8]| {
    let _ = parse("fuzz", data, Some(Format::Proxmox));
});
