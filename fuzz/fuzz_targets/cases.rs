//! Fuzzes the policy test case reader, and runs every case that reads against the built-in
//! baseline: any text gives results or located diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::diag::SourceFile;
use preflight::policy::{self, PolicySet, builtin_sources};
use preflight::policytest;
use std::sync::OnceLock;

fn baseline() -> &'static PolicySet {
    static BASELINE: OnceLock<PolicySet> = OnceLock::new();
    BASELINE.get_or_init(|| policy::load(builtin_sources()).expect("the baseline loads"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match policytest::parse(SourceFile::new("fuzz.cases.toml", text)) {
        Ok(file) => {
            for case in &file.cases {
                let _ = policytest::run_case(baseline(), case);
            }
        }
        Err(diags) => preflight_fuzz::render(&diags),
    }
});
