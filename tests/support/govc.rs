//! A stub `govc` for running rendered govc scripts: a tiny vCenter (one datacenter `DC1`, one
//! cluster `Prod`) kept in a folder, answering the calls the script makes the way govc does,
//! and logging every argv (NUL-delimited, like the Proxmox stubs) for the test to compare.
//!
//! Inventory paths are `/DC1/host/Prod/NAME` and `/DC1/vm/NAME`, with names stored as vCenter
//! stores them (`%` as `%25`, `/` as `%2f`, `\` as `%5c`). `find -name` reads its pattern as
//! Go's path.Match does, but knows only patterns that match one name (every special character
//! escaped) and fails on any other. `host.maintenance.enter` plays DRS: every powered-on VM of
//! the host moves to the first other host that is not in maintenance (none: it stays). Paths given to
//! `-vm.ipath=`/`-host.ipath=` must match exactly, or the stub fails as
//! vCenter's FindByInventoryPath finds nothing. Datastores ([`DATASTORES`]) are
//! `/DC1/datastore/NAME`; `vm.migrate -ds=PATH` must name one of them exactly.

use super::{LOG, StubRun, parse_log};
use preflight::plan::{Plan, StepAction, StepPhase};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsVm {
    pub name: String,
    /// The instance UUID, when the VM is known by one.
    pub uuid: Option<String>,
    /// The name of the host it is on.
    pub host: String,
    /// poweredOn, poweredOff or suspended.
    pub state: String,
}

pub struct GovcRun {
    pub run: StubRun,
    /// The VMs after the run, in the order given.
    pub vms: Vec<VsVm>,
    /// Hosts in maintenance after the run.
    pub in_maintenance: Vec<String>,
}

const GOVC: &str = r#"
W=$WORLD
get() { REPLY=$(cat "$1"; printf x); REPLY=${REPLY%x}; }
hpath() { get "$W/hosts/$1/name"; REPLY="/DC1/host/Prod/$REPLY"; }
vpath() { get "$W/vms/$1/name"; REPLY="/DC1/vm/$REPLY"; }
cmd=$1
shift
case $cmd in
  about) echo 'Name: stub vCenter' ;;
  find)
    ids=0 root='' type='' name='' iuuid='' buuid='' maint=''
    while (($#)); do
      case $1 in
        -i) ids=1 ;;
        -type) type=$2; shift ;;
        -name) name=$2; name_set=1; shift ;;
        -config.instanceUuid) iuuid=$2; shift ;;
        -config.uuid) buuid=$2; shift ;;
        -runtime.inMaintenanceMode) maint=$2; shift ;;
        -*) echo "stub govc find: unexpected $1" >&2; exit 9 ;;
        *) root=$1 ;;
      esac
      shift
    done
    [[ $root == / ]] || { echo "stub govc find: root $root" >&2; exit 9; }
    # The -name pattern read as Go's path.Match reads it; the stub knows only patterns that
    # match one name (every special character escaped), and fails on any other.
    literal='' p=$name
    while [[ -n $p ]]; do
      c=${p:0:1} p=${p:1}
      case $c in
        '\') [[ -n $p ]] || { echo "govc: syntax error in pattern" >&2; exit 1; }
              literal+=${p:0:1} p=${p:1} ;;
        '*' | '?' | '[') echo "stub govc find: a pattern that is not one name: $name" >&2; exit 9 ;;
        *) literal+=$c ;;
      esac
    done
    case $type in
      h)
        for d in "$W"/hosts/*; do
          ref=${d##*/}
          if [[ -n $maint ]]; then get "$d/maint"; [[ $REPLY == "$maint" ]] || continue; fi
          if ((ids)); then printf 'HostSystem:%s\n' "$ref"; else hpath "$ref"; printf '%s\n' "$REPLY"; fi
        done ;;
      s)
        for d in "$W"/datastores/*; do
          get "$d"
          if ((ids)); then printf 'Datastore:%s\n' "${d##*/}"; else printf '/DC1/datastore/%s\n' "$REPLY"; fi
        done ;;
      m)
        for d in "$W"/vms/*; do
          ref=${d##*/}
          get "$d/name"
          if [[ -n ${name_set:-} ]]; then [[ $REPLY == "$literal" ]] || continue; fi
          get "$d/uuid"
          if [[ -n $iuuid ]]; then [[ -n $REPLY && $REPLY == "$iuuid" ]] || continue; fi
          if [[ -n $buuid ]]; then continue; fi # the stub's VMs have no BIOS UUID
          if ((ids)); then printf 'VirtualMachine:%s\n' "$ref"; else vpath "$ref"; printf '%s\n' "$REPLY"; fi
        done ;;
      *) echo "stub govc find: type $type" >&2; exit 9 ;;
    esac ;;
  object.collect)
    [[ $1 == -s ]] || { echo "stub govc object.collect: $1" >&2; exit 9; }
    ref=$2 prop=$3
    case $ref in
      VirtualMachine:*) d="$W/vms/${ref#VirtualMachine:}" ;;
      HostSystem:*) d="$W/hosts/${ref#HostSystem:}" ;;
      *) echo "stub govc object.collect: not a reference: $ref" >&2; exit 9 ;;
    esac
    [[ -d $d ]] || { echo "govc: ManagedObjectNotFound: $ref" >&2; exit 1; }
    case $prop in
      name) get "$d/name"; printf '%s\n' "$REPLY" ;;
      runtime.host) get "$d/host"; printf 'HostSystem:%s\n' "$REPLY" ;;
      runtime.powerState) get "$d/state"; printf '%s\n' "$REPLY" ;;
      *) echo "stub govc object.collect: property $prop" >&2; exit 9 ;;
    esac ;;
  ls)
    [[ $1 == -L ]] || { echo "stub govc ls: $1" >&2; exit 9; }
    case $2 in
      VirtualMachine:*) vpath "${2#VirtualMachine:}" ;;
      HostSystem:*) hpath "${2#HostSystem:}" ;;
      *) echo "stub govc ls: $2" >&2; exit 9 ;;
    esac
    printf '%s\n' "$REPLY" ;;
  vm.migrate | vm.power | host.maintenance.enter | host.maintenance.exit)
    vm='' host='' power='' ds=''
    for a in "$@"; do
      case $a in
        -ds=*)
          for d in "$W"/datastores/*; do get "$d"; [[ "/DC1/datastore/$REPLY" == "${a#-ds=}" ]] && ds=${d##*/}; done
          [[ -n $ds && $cmd == vm.migrate ]] || { echo "govc: datastore not found" >&2; exit 1; } ;;
        -vm.ipath=*)
          for d in "$W"/vms/*; do vpath "${d##*/}"; [[ $REPLY == "${a#-vm.ipath=}" ]] && vm=$d; done
          [[ -n $vm ]] || { echo "govc: vm not found" >&2; exit 1; } ;;
        -host.ipath=*)
          for d in "$W"/hosts/*; do hpath "${d##*/}"; [[ $REPLY == "${a#-host.ipath=}" ]] && host=$d; done
          [[ -n $host ]] || { echo "govc: host not found" >&2; exit 1; } ;;
        -on) power=poweredOn ;;
        -s) power=poweredOff ;;
        *) echo "stub govc $cmd: unexpected $a" >&2; exit 9 ;;
      esac
    done
    case $cmd in
      vm.migrate)
        printf '%s' "${host##*/}" >"$vm/host"
        if [[ -n $ds ]]; then printf '%s' "$ds" >"$vm/ds"; fi ;;
      vm.power) printf '%s' "$power" >"$vm/state" ;;
      host.maintenance.exit) printf false >"$host/maint" ;;
      host.maintenance.enter)
        printf true >"$host/maint"
        # DRS: the running VMs go to the first host that is not in maintenance.
        dest=''
        for d in "$W"/hosts/*; do get "$d/maint"; if [[ $REPLY == false ]]; then dest=${d##*/}; break; fi; done
        for d in "$W"/vms/*; do
          get "$d/host"; h=$REPLY; get "$d/state"
          if [[ $h == "${host##*/}" && $REPLY == poweredOn ]]; then
            # With no host to go to, the VM stays (vCenter's task would time out).
            if [[ -n $dest ]]; then printf '%s' "$dest" >"$d/host"; fi
          fi
        done ;;
    esac ;;
  *) echo "stub govc: unexpected $cmd" >&2; exit 9 ;;
esac
"#;

/// A name as vCenter stores it.
pub fn vc_name(name: &str) -> String {
    name.replace('%', "%25")
        .replace('/', "%2f")
        .replace('\\', "%5c")
}

/// The inventory path of a host of the stub world.
pub fn host_path(name: &str) -> String {
    format!("/DC1/host/Prod/{}", vc_name(name))
}

/// The inventory path of a VM of the stub world.
pub fn vm_path(name: &str) -> String {
    format!("/DC1/vm/{}", vc_name(name))
}

fn write_stub(bin: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    std::fs::write(&path, format!("#!/usr/bin/env bash\n{LOG}{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The datastores of the stub world (each in `/DC1/datastore/`), and the one `run_with_govc`
/// names in `DESTINATION_DATASTORE` for the moves with storage.
pub const DATASTORES: [&str; 2] = ["datastore1", "local esx02"];
pub const DESTINATION_DATASTORE: &str = "local esx02";

/// The inventory path of the datastore the moves with storage go to.
pub fn destination_ds_path() -> String {
    format!("/DC1/datastore/{DESTINATION_DATASTORE}")
}

/// Runs `script` under bash with the stub govc on PATH, in a world of `hosts` (by name, in
/// this order; none in maintenance) and `vms`, with `DESTINATION_DATASTORE` set.
pub fn run_with_govc(script: &str, hosts: &[&str], vms: &[VsVm], stdin: &str) -> GovcRun {
    run_with_govc_ds(script, hosts, vms, stdin, Some(DESTINATION_DATASTORE))
}

/// [`run_with_govc`], with `DESTINATION_DATASTORE` set to `datastore`, or unset.
pub fn run_with_govc_ds(
    script: &str,
    hosts: &[&str],
    vms: &[VsVm],
    stdin: &str,
    datastore: Option<&str>,
) -> GovcRun {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let w = dir.path().join("world");
    std::fs::create_dir_all(&bin).unwrap();
    let host_ref = |name: &str| {
        let i = hosts
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no host {name:?} in the stub world"));
        format!("host-{:03}", i + 10)
    };
    for h in hosts {
        let d = w.join("hosts").join(host_ref(h));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("name"), vc_name(h)).unwrap();
        std::fs::write(d.join("maint"), "false").unwrap();
    }
    std::fs::create_dir_all(w.join("vms")).unwrap();
    std::fs::create_dir_all(w.join("datastores")).unwrap();
    for (i, ds) in DATASTORES.iter().enumerate() {
        std::fs::write(
            w.join("datastores").join(format!("datastore-{}", 20 + i)),
            ds,
        )
        .unwrap();
    }
    for (i, vm) in vms.iter().enumerate() {
        let d = w.join("vms").join(format!("vm-{}", 100 + i));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("name"), vc_name(&vm.name)).unwrap();
        std::fs::write(d.join("uuid"), vm.uuid.as_deref().unwrap_or("")).unwrap();
        std::fs::write(d.join("host"), host_ref(&vm.host)).unwrap();
        std::fs::write(d.join("state"), &vm.state).unwrap();
    }
    write_stub(&bin, "govc", GOVC);
    // A wait loop would sleep; the stub world answers at once, so sleeping is a failure.
    write_stub(&bin, "sleep", "exit 1\n");
    let log = dir.path().join("calls.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("script.sh"), script).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command.env_remove("DESTINATION_DATASTORE");
    if let Some(ds) = datastore {
        command.env("DESTINATION_DATASTORE", ds);
    }
    let mut child = command
        .arg("script.sh")
        .current_dir(dir.path())
        .env("PATH", path)
        .env("STUB_LOG", &log)
        .env("WORLD", &w)
        .env("LC_ALL", "C.UTF-8")
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
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap();
    let host_name = |r: &str| hosts[r["host-".len()..].parse::<usize>().unwrap() - 10].to_string();
    let after: Vec<VsVm> = vms
        .iter()
        .enumerate()
        .map(|(i, vm)| {
            let d = w.join("vms").join(format!("vm-{}", 100 + i));
            VsVm {
                host: host_name(&read(d.join("host"))),
                state: read(d.join("state")),
                ..vm.clone()
            }
        })
        .collect();
    let in_maintenance = hosts
        .iter()
        .filter(|h| read(w.join("hosts").join(host_ref(h)).join("maint")) == "true")
        .map(|h| h.to_string())
        .collect();
    GovcRun {
        run: StubRun {
            status_ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            calls: parse_log(&bytes),
            stray_files,
        },
        vms: after,
        in_maintenance,
    }
}

/// The calls of a run that change something (moves, power, maintenance), in order.
pub fn mutations(calls: &[Vec<String>]) -> Vec<Vec<String>> {
    calls
        .iter()
        .filter(|c| {
            c.len() > 1
                && matches!(
                    c[1].as_str(),
                    "vm.migrate" | "vm.power" | "host.maintenance.enter" | "host.maintenance.exit"
                )
        })
        .cloned()
        .collect()
}

/// What the govc script must change, worked out from the plan and the world alone: each move
/// (unless the VM is already there), each power change, maintenance in and out, with the
/// stub's DRS moving the running VMs of a host entering maintenance to the first other host.
pub fn expected_govc(plan: &Plan, hosts: &[String], vms: &[VsVm]) -> (Vec<Vec<String>>, Vec<VsVm>) {
    let mut w = vms.to_vec();
    let mut maint: BTreeMap<String, bool> = BTreeMap::new();
    let mut calls = Vec::new();
    let v = |words: &[&str]| words.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for s in plan
        .steps
        .iter()
        .filter(|s| s.phase != StepPhase::Maintenance)
    {
        match s.action() {
            StepAction::Migrate => {
                let name = s.vm_name().unwrap();
                let to = s.to().unwrap();
                let vm = w.iter_mut().find(|x| x.name == name).unwrap();
                if vm.host != to {
                    let mut call = v(&["govc", "vm.migrate"]);
                    call.push(format!("-host.ipath={}", host_path(to)));
                    if s.with_storage() {
                        call.push(format!("-ds={}", destination_ds_path()));
                    }
                    call.push(format!("-vm.ipath={}", vm_path(name)));
                    calls.push(call);
                    vm.host = to.to_string();
                }
            }
            StepAction::Start | StepAction::Shutdown => {
                let name = s.vm_name().unwrap();
                let on = s.action() == StepAction::Start;
                calls.push(v(&[
                    "govc",
                    "vm.power",
                    if on { "-on" } else { "-s" },
                    &format!("-vm.ipath={}", vm_path(name)),
                ]));
                let vm = w.iter_mut().find(|x| x.name == name).unwrap();
                vm.state = if on { "poweredOn" } else { "poweredOff" }.into();
            }
            StepAction::EnterMaintenance => {
                let h = s.host().unwrap();
                calls.push(v(&[
                    "govc",
                    "host.maintenance.enter",
                    &format!("-host.ipath={}", host_path(h)),
                ]));
                maint.insert(h.to_string(), true);
                let dest = hosts
                    .iter()
                    .find(|x| !maint.get(*x).copied().unwrap_or(false));
                if let Some(dest) = dest {
                    for vm in w
                        .iter_mut()
                        .filter(|x| x.host == h && x.state == "poweredOn")
                    {
                        vm.host = dest.clone();
                    }
                }
            }
            StepAction::ExitMaintenance => {
                let h = s.host().unwrap();
                calls.push(v(&[
                    "govc",
                    "host.maintenance.exit",
                    &format!("-host.ipath={}", host_path(h)),
                ]));
                maint.insert(h.to_string(), false);
            }
            StepAction::Notify => {}
        }
    }
    (calls, w)
}
