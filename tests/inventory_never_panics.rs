//! Damaged exports never panic: the samples are truncated, flipped and spliced at random and
//! read with format detection and with every forced format. Any result is fine but a panic.

use preflight::inventory::{self, Format};
use proptest::prelude::*;

const SAMPLES: [&str; 8] = [
    "scvmm-ps51.json",
    "scvmm-ps51-redirected-utf16le.json",
    "scvmm-ps7-enums-as-strings.json",
    "scvmm-hosts.json",
    "hyperv-getvm.csv",
    "hyperv-getvm.json",
    "proxmox-resources.json",
    "proxmox-cluster-full.json",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/inventory/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to the parsers are likelier than random ones.
    let interesting = prop::sample::select(b"{}[]\",:;\r\n\0-9#eE.\\\xFF\xFE".to_vec());
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Remove(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match m {
        Mutation::Truncate(i) => bytes.truncate(at(*i, bytes.len())),
        Mutation::Flip(i, b) => {
            if !bytes.is_empty() {
                let i = i % bytes.len();
                bytes[i] = *b;
            }
        }
        Mutation::Insert(i, b) => {
            let i = at(*i, bytes.len());
            bytes.splice(i..i, b.iter().copied());
        }
        Mutation::Remove(i, n) => {
            let i = at(*i, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn damaged_exports_never_panic(
        sample in prop::sample::select(SAMPLES.to_vec()),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = fixture(sample);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let _ = inventory::parse(sample, &bytes, None);
        for format in Format::ALL {
            let _ = inventory::parse(sample, &bytes, Some(format));
        }
    }
}

#[test]
fn a_combined_inventory_truncated_anywhere_never_panics() {
    let bytes = fixture("scvmm-get-inventory-combined.json");
    for cut in (0..bytes.len()).step_by(211) {
        let _ = inventory::parse("combined.json", &bytes[..cut], None);
    }
}
