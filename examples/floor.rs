//! The floor the benchmarks compare `preflight` against (`benches/run.sh`): the least a tool
//! must do with a native inventory, namely read the whole file and deserialize it into owned,
//! typed values with serde_json, then print the VM count. No validation, no rules, no report.
//!
//! ```text
//! cargo run --release --example floor -- inventory.json
//! ```

use serde::Deserialize;
use std::process::ExitCode;

// The fields are only there to be deserialized: the floor pays for building them, not using them.
#[allow(dead_code)]
#[derive(Deserialize)]
struct Inventory {
    schema: String,
    collected_at: String,
    platform: String,
    hosts: Vec<Host>,
    vms: Vec<Vm>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Host {
    name: String,
    cluster: String,
    state: String,
    memory_mb: u64,
    cpus: u32,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct Vm {
    name: String,
    id: String,
    host: String,
    state: String,
    ha: bool,
    memory_mb: u64,
    vcpus: u32,
    tags: Vec<String>,
}

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: floor INVENTORY.json");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    match serde_json::from_slice::<Inventory>(&bytes) {
        Ok(inv) => {
            println!("{}", inv.vms.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", path.to_string_lossy());
            ExitCode::from(2)
        }
    }
}
