//! The floor the benchmarks compare `preflight` against (`benches/run.sh`): the least a tool
//! must do with a native inventory, namely read the whole file and deserialize it into owned,
//! typed values with serde_json, then print the VM count. No validation, no rules, no report.
//! The migration facts (CONTRACT 7.1) are read too when the file has them (`gen_inventory
//! --facts`); absent, they cost the floor nothing.
//!
//! ```text
//! cargo run --release --example floor -- inventory.json
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
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
    #[serde(default)]
    networks: Option<Vec<String>>,
    #[serde(default)]
    cpu: Option<String>,
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
    #[serde(default)]
    template: bool,
    #[serde(default)]
    disks: Option<Vec<FileRef>>,
    #[serde(default)]
    media: Option<Vec<FileRef>>,
    #[serde(default)]
    passthrough: Option<Vec<String>>,
    #[serde(default)]
    networks: Option<Vec<String>>,
    #[serde(default)]
    checkpoints: Option<u64>,
    #[serde(default)]
    cpu_compat: Option<bool>,
    #[serde(default)]
    anti_affinity: Vec<String>,
    #[serde(default)]
    affinity: Vec<String>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct FileRef {
    path: String,
    #[serde(default)]
    shared: Option<bool>,
    #[serde(default)]
    size_gb: Option<f64>,
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
