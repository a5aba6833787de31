//! Stub Proxmox tools for running rendered bash scripts in a temporary folder.
//!
//! `pvesh` answers from a tiny world (a folder per guest holding its node, type and state) and
//! moves guests on `create .../migrate`; `ha-manager`, `qm` and `pct` only log. Every stub
//! appends its name, argc and argv to one log, NUL-delimited (names cannot hold NUL), so the
//! test reads back exactly the bytes each command received.

#![allow(dead_code)]

pub mod govc;

use preflight::plan::{Plan, StepAction, StepPhase};
use std::path::Path;
use std::process::{Command, Stdio};

/// One guest of the stub world.
#[derive(Debug, Clone)]
pub struct Guest {
    pub vmid: String,
    pub node: String,
    pub lxc: bool,
    pub state: String,
}

pub struct StubRun {
    pub status_ok: bool,
    pub stdout: String,
    pub stderr: String,
    /// Each call's argv, the program name first.
    pub calls: Vec<Vec<String>>,
    /// Files in the work folder that the script had no business creating.
    pub stray_files: Vec<String>,
}

const LOG: &str = r#"printf '%s\0%s\0' "${0##*/}" "$#" >>"$STUB_LOG"
for a in "$@"; do printf '%s\0' "$a" >>"$STUB_LOG"; done
"#;

const PVESH: &str = r#"
op=$1 path=$2
shift 2
if [[ $op/$path == get//cluster/resources ]]; then
  # The world as the cluster lists it: one line of JSON, as pvesh's json output is.
  exec perl -MJSON::PP -e '
    my @all;
    for my $d (sort glob("$ENV{WORLD}/*")) {
      my ($id) = $d =~ m{([^/]+)$};
      my %f;
      for my $k (qw(node type state)) { open my $h, "<", "$d/$k" or die; local $/; $f{$k} = <$h>; }
      chomp $f{type}; chomp $f{state};
      push @all, { id => "$f{type}/$id", node => $f{node}, type => $f{type}, vmid => $id + 0, status => $f{state} };
    }
    print JSON::PP->new->canonical->encode(\@all), "\n";'
fi
rest=${path#/nodes/}
node=${rest%%/*}; rest=${rest#*/}
type=${rest%%/*}; rest=${rest#*/}
vmid=${rest%%/*}; what=${rest#*/}
d="$WORLD/$vmid"
[[ -d $d ]] || { echo "no guest $vmid" >&2; exit 2; }
cur=$(cat "$d/node"; printf x); cur=${cur%x}
if [[ $cur != "$node" || $(<"$d/type") != "$type" ]]; then
  echo "Configuration file 'nodes/$node/$type/$vmid.conf' does not exist" >&2
  exit 2
fi
case $op/$what in
  get/status/current)
    state=$(<"$d/state")
    if [[ $state == paused ]]; then
      printf '{"qmpstatus":"paused","status":"running","vmid":%s}\n' "$vmid"
    else
      printf '{"status":"%s","vmid":%s}\n' "$state" "$vmid"
    fi ;;
  create/migrate)
    while (($#)); do
      if [[ $1 == --target ]]; then printf '%s' "$2" >"$d/node"; shift; fi
      shift
    done
    echo "UPID:stub:migrate" ;;
  create/status/start) echo running >"$d/state" ;;
  create/status/shutdown) echo stopped >"$d/state" ;;
  *) echo "stub pvesh: unexpected $op $path" >&2; exit 9 ;;
esac
"#;

const HA_MANAGER: &str = r#"
if [[ $1 == status ]]; then
  printf 'quorum OK\nmaster pve9 (active)\nservice vm:999 (elsewhere, started)\n'
fi
"#;

fn stub(bin: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    std::fs::write(&path, format!("#!/usr/bin/env bash\n{LOG}{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `script` under bash in a fresh folder with the stubs first on PATH.
pub fn run_with_stubs(script: &str, world: &[Guest], stdin: &str) -> StubRun {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let w = dir.path().join("world");
    std::fs::create_dir_all(&bin).unwrap();
    for g in world {
        let d = w.join(&g.vmid);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("node"), &g.node).unwrap();
        std::fs::write(d.join("type"), if g.lxc { "lxc" } else { "qemu" }).unwrap();
        std::fs::write(d.join("state"), &g.state).unwrap();
    }
    stub(&bin, "pvesh", PVESH);
    stub(&bin, "ha-manager", HA_MANAGER);
    stub(&bin, "qm", "");
    stub(&bin, "pct", "");
    // A wait loop would sleep; the stub world answers at once, so sleeping is a failure.
    stub(&bin, "sleep", "exit 1\n");
    let log = dir.path().join("calls.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("script.sh"), script).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("bash")
        .arg("script.sh")
        .current_dir(dir.path())
        .env("PATH", path)
        .env("STUB_LOG", &log)
        .env("WORLD", &w)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().unwrap();
    let bytes = std::fs::read(&log).unwrap();
    let stray_files = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !matches!(n.as_str(), "bin" | "world" | "calls.log" | "script.sh"))
        .collect();
    StubRun {
        status_ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        calls: parse_log(&bytes),
        stray_files,
    }
}

fn parse_log(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut fields = bytes
        .split(|b| *b == 0)
        .map(|f| String::from_utf8(f.to_vec()).unwrap());
    let mut calls = Vec::new();
    while let Some(name) = fields.next() {
        if name.is_empty() {
            break; // the split's tail after the last NUL
        }
        let argc: usize = fields.next().unwrap().parse().unwrap();
        let mut call = vec![name];
        call.extend(fields.by_ref().take(argc));
        calls.push(call);
    }
    calls
}

fn v(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The calls the script must make for `plan` in `world`, worked out independently of the
/// renderer: `find_guest` asks qemu, then lxc; a move checks, guards, migrates, then waits.
pub fn expected_calls(plan: &Plan, world: &[Guest]) -> Vec<Vec<String>> {
    let mut w = world.to_vec();
    let mut calls = Vec::new();
    let find = |w: &[Guest], node: &str, vmid: &str, calls: &mut Vec<Vec<String>>| {
        let g = w.iter().find(|g| g.vmid == vmid && g.node == node);
        for ty in ["qemu", "lxc"] {
            let path = format!("/nodes/{node}/{ty}/{vmid}/status/current");
            calls.push(v(&["pvesh", "get", &path, "--output-format", "json"]));
            if g.is_some_and(|g| g.lxc == (ty == "lxc")) {
                return;
            }
        }
    };
    for s in &plan.steps {
        let host = s.host().unwrap_or_default();
        match (s.phase, s.action()) {
            (StepPhase::Maintenance, _) => {}
            (_, StepAction::Migrate) => {
                let vmid = s.vm().and_then(|v| v.id.as_deref()).unwrap();
                let to = s.to().unwrap();
                let from = match s.from_host() {
                    Some(from) => from.to_string(),
                    None => {
                        // From wherever the drain put it: the script asks the cluster first.
                        calls.push(v(&[
                            "pvesh",
                            "get",
                            "/cluster/resources",
                            "--type",
                            "vm",
                            "--output-format",
                            "json",
                        ]));
                        let now = w.iter().find(|g| g.vmid == vmid).unwrap().node.clone();
                        if now == to {
                            continue;
                        }
                        now
                    }
                };
                let from = from.as_str();
                find(&w, from, vmid, &mut calls);
                find(&w, from, vmid, &mut calls);
                let g = w.iter_mut().find(|g| g.vmid == vmid).unwrap();
                let ty = if g.lxc { "lxc" } else { "qemu" };
                let path = format!("/nodes/{from}/{ty}/{vmid}/migrate");
                let mut call = v(&["pvesh", "create", &path, "--target", to]);
                if !g.lxc {
                    call.extend(v(&["--online", "1"]));
                    if s.with_storage() {
                        call.extend(v(&["--with-local-disks", "1"]));
                    }
                } else if g.state == "running" {
                    call.extend(v(&["--restart", "1"]));
                }
                calls.push(call);
                g.node = to.to_string();
                find(&w, to, vmid, &mut calls);
            }
            (_, action @ (StepAction::Start | StepAction::Shutdown)) => {
                let vmid = s.vm().and_then(|v| v.id.as_deref()).unwrap();
                find(&w, host, vmid, &mut calls);
                let g = w.iter_mut().find(|g| g.vmid == vmid).unwrap();
                let ty = if g.lxc { "lxc" } else { "qemu" };
                let (word, state) = if action == StepAction::Start {
                    ("start", "running")
                } else {
                    ("shutdown", "stopped")
                };
                let path = format!("/nodes/{host}/{ty}/{vmid}/status/{word}");
                calls.push(v(&["pvesh", "create", &path]));
                g.state = state.to_string();
            }
            (_, StepAction::Notify) => {}
            (_, StepAction::EnterMaintenance) => {
                calls.push(v(&[
                    "ha-manager",
                    "crm-command",
                    "node-maintenance",
                    "enable",
                    host,
                ]));
                calls.push(v(&["ha-manager", "status"]));
            }
            (_, StepAction::ExitMaintenance) => {
                calls.push(v(&[
                    "ha-manager",
                    "crm-command",
                    "node-maintenance",
                    "disable",
                    host,
                ]));
            }
        }
    }
    calls
}

/// Parses a rendered PowerShell script with tree-sitter and fails, naming `what` and the
/// place, at the first ERROR or MISSING node.
pub fn assert_powershell_parses(what: &str, script: &str) {
    let src = script.strip_prefix('\u{FEFF}').unwrap_or(script);
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .unwrap();
    let tree = parser.parse(src, None).unwrap();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        assert!(
            !node.is_error() && !node.is_missing(),
            "{what}: {} at {:?}: {:?}",
            node.kind(),
            node.start_position(),
            node.utf8_text(src.as_bytes()).unwrap_or_default()
        );
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
}
