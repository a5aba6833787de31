//! Fuzzes the policy loader: any text gives a policy set or located diagnostics, and every
//! diagnostic renders (miette's handler is where located diagnostics used to panic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::diag::SourceFile;
use preflight::policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(diags) = policy::load(vec![SourceFile::new("fuzz.toml", text)]) {
        preflight_fuzz::render(&diags);
    }
});
