//! Fuzzes the plan reader: any bytes give a plan or located diagnostics; a plan that reads
//! writes back to a document that reads again to the same plan.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::plan::{read_plan, write_plan};

fuzz_target!(|data: &[u8]| {
    match read_plan("fuzz.json", data) {
        Ok(loaded) => {
            let mut out = Vec::new();
            write_plan(&loaded.plan, &mut out).expect("writing to memory");
            let again = read_plan("again.json", &out).expect("a written plan reads back");
            assert_eq!(again.plan, loaded.plan);
        }
        Err(diags) => preflight_fuzz::render(&diags),
    }
});
