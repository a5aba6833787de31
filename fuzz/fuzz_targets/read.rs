//! Fuzzes the whole read path: the bytes go to a file, which is read as `preflight` reads an
//! inventory (detection, decoding, every reader), and read again by the native piece reader
//! with small pieces, so that small inputs take the path large ones take. Where the piece
//! reader accepts a file, it must agree with the whole-file read: the same inventory, and the
//! digest of exactly these bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::inventory::{Format, parse, read_and_parse, read_native_in_pieces};
use std::io::{Seek, Write};
use std::sync::Mutex;

/// One file per fuzzing process, rewritten for each input (making a file per input cost more
/// than reading it).
static FILE: Mutex<Option<tempfile::NamedTempFile>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let Some((&piece, bytes)) = data.split_first() else {
        return;
    };
    let mut slot = FILE.lock().unwrap_or_else(|p| p.into_inner());
    let file = slot
        .get_or_insert_with(|| tempfile::NamedTempFile::new().expect("a temporary file"))
        .as_file_mut();
    file.set_len(0).expect("truncating the file");
    file.rewind().expect("rewinding the file");
    file.write_all(bytes).expect("writing the input");
    file.flush().expect("flushing the input");
    let path = slot
        .as_ref()
        .and_then(|f| f.path().to_str())
        .expect("a UTF-8 temporary path")
        .to_string();

    let (digest, parsed) = read_and_parse(&path, None).expect("the file reads");
    assert_eq!(digest, preflight::digest::sha256_hex(bytes));
    if let Err(diags) = &parsed {
        preflight_fuzz::render(diags);
    }

    let handle = std::fs::File::open(&path).expect("the file opens");
    // 64 to 4,144 bytes: small enough to cut names, numbers and records anywhere in inputs of
    // a few KiB, large enough not to spend the run on one-byte reads.
    let piece = 64 + usize::from(piece) * 16;
    if let Some((streamed, digest)) = read_native_in_pieces(&handle, bytes.len() as u64, piece) {
        assert_eq!(
            preflight::digest::hex(&digest),
            preflight::digest::sha256_hex(bytes)
        );
        let whole = parse("whole", bytes, Some(Format::Native))
            .expect("what the piece reader accepts, the whole-file read accepts");
        assert_eq!(streamed.inventory, whole.inventory);
    }
});
