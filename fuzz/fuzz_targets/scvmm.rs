//! Fuzzes the scvmm inventory reader: any bytes give an inventory or diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::inventory::{Format, parse};

fuzz_target!(|data: &[u8]| {
    if let Err(diags) = parse("fuzz", data, Some(Format::Scvmm)) {
        preflight_fuzz::render(&diags);
    }
});
