//! How inventory files are taken in: what is not one inventory fails closed (exit 2), pipes
//! read like files, reads are bounded, and the digest is of the bytes judged.

mod common;

use common::{NOW, json, preflight, run};
use std::path::Path;

const HOSTS: &str = "tests/fixtures/inventory/scvmm-hosts.json";
const ONE_VM: &str = r#"{"vms":[{"name":"A","host":"HV01","state":"running","ha":false}]}"#;

fn audit(inventories: &[&str]) -> (i32, String, String) {
    let mut args = vec!["audit", "--host", "HV01", "--now", NOW, "--format", "json"];
    for inventory in inventories {
        args.extend(["--inventory", inventory]);
    }
    run(&args)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn text_after_a_native_document_is_refused_where_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let end = ONE_VM.len();
    let cases: [(&str, Vec<u8>, String); 3] = [
        // `cat a.json b.json`
        (
            "two.json",
            format!("{ONE_VM}\n{ONE_VM}\n").into_bytes(),
            ":2:1".into(),
        ),
        (
            "nul.json",
            [ONE_VM.as_bytes(), &[0; 16]].concat(),
            format!(":1:{}", end + 1),
        ),
        (
            "junk.json",
            format!("{ONE_VM}  trailing").into_bytes(),
            format!(":1:{}", end + 3),
        ),
    ];
    for (name, bytes, at) in cases {
        let path = write(dir.path(), name, &bytes);
        let (code, _, err) = audit(&[&path]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(
            err.contains("text after the end of the inventory"),
            "{name}: {err}"
        );
        assert!(err.contains(&format!("{name}{at}")), "{name}: {err}");
    }
    // A large file, read a piece at a time, refuses it the same way.
    let vms: Vec<String> = (0..20_000)
        .map(|i| {
            format!(
                r#"{{"name":"vm{i:05}","host":"HV01","state":"off","ha":true,"memory_mb":1024}}"#
            )
        })
        .collect();
    let large = format!("{{\"vms\":[\n{}\n]}}\n", vms.join(",\n"));
    assert!(large.len() > 1 << 20);
    let lines = large.lines().count();
    let path = write(
        dir.path(),
        "large.json",
        format!("{large}{large}").as_bytes(),
    );
    let (code, _, err) = audit(&[&path]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("text after the end of the inventory"), "{err}");
    assert!(
        err.contains(&format!("large.json:{}:1", lines + 1)),
        "{err}"
    );
}

#[test]
fn an_export_of_nothing_is_an_error_whatever_the_other_files() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("zero.json", &b""[..]),
        ("blank.json", &b" \r\n\t\r\n"[..]),
        ("bom.json", &b"\xEF\xBB\xBF"[..]),
        ("bom16.json", &b"\xFF\xFE\r\0\n\0"[..]),
    ] {
        let path = write(dir.path(), name, bytes);
        let (code, _, err) = audit(&[&path, HOSTS]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains("the file is empty"), "{name}: {err}");
        for format in ["native", "scvmm"] {
            let (code, _, err) = run(&[
                "audit",
                "--host",
                "HV01",
                "--inventory",
                &path,
                "--inventory",
                HOSTS,
                "--inventory-format",
                format,
            ]);
            assert_eq!(code, 2, "{name} as {format}: {err}");
        }
    }
}

#[test]
fn a_null_export_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "null.json", b"\xEF\xBB\xBFnull\r\n");
    let (code, _, err) = audit(&[&path, HOSTS]);
    assert_eq!(code, 2, "{err}");
    // (miette wraps the message where it likes.)
    assert!(
        err.contains("the export is `null`: the command that wrote it had no input"),
        "{err}"
    );
    assert!(err.contains("Get-VM returned nothing"), "{err}");
    assert!(err.contains("null.json:1:1"), "{err}");
    assert!(
        !err.contains("TOML") && !err.contains("expected `=`"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "audit",
        "--host",
        "HV01",
        "--inventory",
        &path,
        "--inventory-format",
        "scvmm",
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn names_that_are_scvmm_keys_do_not_make_a_native_file_scvmm() {
    let dir = tempfile::tempdir().unwrap();
    for word in ["HostName", "ems", "StatusString", "vmnetworks"] {
        let text = format!(
            r#"{{"hosts":[{{"name":"HV01","memory_mb":65536}}],"vms":[{{"name":"{word}","host":"HV01","state":"off","ha":true,"tags":["{word}"]}}]}}"#
        );
        let path = write(dir.path(), &format!("{word}.json"), text.as_bytes());
        let (code, out, err) = audit(&[&path]);
        assert!(code == 0 || code == 1, "{word}: exit {code}: {err}");
        assert_eq!(json(&out)["inputs"]["inventory"][0]["format"], "native");
    }
}

#[test]
fn an_inventory_can_come_from_standard_input() {
    let out = preflight()
        .args(["audit", "--host", "HV01", "--now", NOW, "--format", "json"])
        .args(["--inventory", "/dev/stdin"])
        .write_stdin(ONE_VM)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let report = json(&String::from_utf8_lossy(&out.stdout));
    let input = &report["inputs"]["inventory"][0];
    assert_eq!(input["path"], "/dev/stdin");
    assert_eq!(
        input["sha256"],
        preflight::digest::sha256_hex(ONE_VM.as_bytes())
    );
}

#[test]
fn standard_input_merged_with_another_file_is_read_whole() {
    // With several inventories, each is first looked at to find RVTools tabs read together;
    // that look must not eat the start of a pipe.
    let vms = std::fs::read_to_string("tests/fixtures/inventory/scvmm-ps51.json").unwrap();
    let hosts = "tests/fixtures/inventory/scvmm-hosts.json";
    let args = ["audit", "--host", "HV01", "--now", NOW, "--format", "json"];
    let piped = preflight()
        .args(args)
        .args(["--inventory", "/dev/stdin", "--inventory", hosts])
        .write_stdin(vms.as_str())
        .output()
        .unwrap();
    let named = preflight()
        .args(args)
        .args(["--inventory", "tests/fixtures/inventory/scvmm-ps51.json"])
        .args(["--inventory", hosts])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&piped.stderr);
    assert_eq!(piped.status.code(), named.status.code(), "{err}");
    let (piped, named) = (
        json(&String::from_utf8_lossy(&piped.stdout)),
        json(&String::from_utf8_lossy(&named.stdout)),
    );
    assert_eq!(piped["findings"], named["findings"]);
    assert_eq!(
        piped["inputs"]["inventory"][0]["sha256"],
        preflight::digest::sha256_hex(vms.as_bytes())
    );
}

#[cfg(unix)]
#[test]
fn an_inventory_can_come_from_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("inventory.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    // Larger than a piece, so that a size-based choice would have read it in pieces.
    let vms: Vec<String> = (0..20_000)
        .map(|i| format!(r#"{{"name":"vm{i:05}","host":"HV01","state":"off","ha":true}}"#))
        .collect();
    let text = format!("{{\"vms\":[{}]}}", vms.join(",\n"));
    assert!(text.len() > 1 << 20);
    let writer = {
        let (fifo, text) = (fifo.clone(), text.clone());
        std::thread::spawn(move || std::fs::write(fifo, text))
    };
    let (code, out, err) = audit(&[fifo.to_str().unwrap()]);
    // Once preflight has ended, the writer ends too, unless preflight never opened the FIFO:
    // then it waits for a reader, and the test reads rather than hang.
    for _ in 0..100 {
        if writer.is_finished() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if !writer.is_finished() {
        std::fs::read(&fifo).unwrap();
    }
    let written = writer.join().unwrap();
    assert!(written.is_ok(), "preflight read it all: {written:?}");
    assert_eq!(code, 0, "{err}");
    let report = json(&out);
    assert_eq!(
        report["inputs"]["inventory"][0]["sha256"],
        preflight::digest::sha256_hex(text.as_bytes())
    );
}

#[cfg(unix)]
#[test]
fn an_endless_device_is_read_to_a_bound_and_refused() {
    let (code, _, err) = audit(&["/dev/zero"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("inventory::read"), "{err}");
    assert!(err.contains("cannot read inventory /dev/zero"), "{err}");
    assert!(err.contains("more than 1.0 GiB"), "{err}");
}

#[test]
fn a_file_larger_than_can_be_read_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: it claims a terabyte and holds nothing.
    if file.set_len(1 << 40).is_err() {
        return; // a file system without sparse files
    }
    let (code, _, err) = audit(&[path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("inventory::read"), "{err}");
    assert!(err.contains("more than 4.0 GiB"), "{err}");
}

#[test]
fn the_digest_is_the_files_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = format!("\u{feff}{ONE_VM}\r\n");
    let path = write(dir.path(), "bom.json", bytes.as_bytes());
    let (code, out, err) = audit(&[&path]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        json(&out)["inputs"]["inventory"][0]["sha256"],
        preflight::digest::sha256_hex(bytes.as_bytes())
    );
}

#[test]
fn an_allowed_host_listed_by_another_file_is_no_unknown_host() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = write(
        dir.path(),
        "hosts.json",
        br#"{"hosts":[
  {"name":"HV01","cluster":"C","state":"up","memory_mb":65536},
  {"name":"HV02","cluster":"C","state":"up","memory_mb":65536},
  {"name":"HV03","cluster":"C","state":"up","memory_mb":65536}]}"#,
    );
    let vms = write(
        dir.path(),
        "vms.json",
        br#"{"vms":[
  {"name":"A","host":"HV01","state":"running","ha":true,"memory_mb":1024,"allowed_hosts":["HV01","HV03"]},
  {"name":"B","host":"HV02","state":"running","ha":true,"memory_mb":1024,"allowed_hosts":["HV02","HV09"]}]}"#,
    );
    let (code, _, err) = audit(&[&hosts, &vms]);
    assert_eq!(code, 0, "{err}");
    // HV03 is in hosts.json: the merged inventory has it, so no file's warning may say otherwise.
    assert!(!err.contains("`HV03`, which is no host"), "{err}");
    // HV09 is in no file: still a located warning.
    assert!(
        err.contains("`HV09`, which is no host of this inventory"),
        "{err}"
    );
    assert!(err.contains("vms.json:3:"), "{err}");
}
