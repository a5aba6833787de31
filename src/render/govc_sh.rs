//! The `govc` target: bash with govc (govmomi's vSphere CLI), which reads its connection from
//! `GOVC_URL`, `GOVC_USERNAME`, `GOVC_PASSWORD` (and `GOVC_DATACENTER` when vCenter has
//! several datacenters). Nothing else is needed: no jq, no perl.
//!
//! govc looks objects up by inventory path, and its paths and `-name` filters are glob
//! patterns, so no name from the plan is ever passed where govc would expand it:
//! - a VM is found by id with `govc find -i / -type m -config.instanceUuid ID` (then
//!   `-config.uuid`, the BIOS UUID; a `vm-N` id is its reference already), or by name with
//!   `-name` and the name's pattern characters escaped, so that it matches itself only; the
//!   result must be one reference, whose `name` (`govc object.collect -s`) is checked again;
//! - a host is found among `govc find / -type h`, the inventory paths of all hosts, by the last
//!   part of the path (the host's name; vCenter writes `/` in a name as `%2f`), compared as
//!   `--host` compares (case-insensitive, a short name matches an FQDN);
//! - where a VM is: `govc object.collect -s VM runtime.host` gives the host's reference and
//!   `govc ls -L` its inventory path;
//! - commands that act get exact inventory paths through govc's search flags (`-vm.ipath=`,
//!   `-host.ipath=`: vCenter's FindByInventoryPath, no patterns), always in the `-flag=value`
//!   form, so a name that starts with `-` cannot read as an option.
//!
//! A VM the plan moves with its storage moves with `govc vm.migrate -ds=…` to the datastore the
//! operator names in `DESTINATION_DATASTORE` (the plan cannot know it; a script with such a
//! move does not start without it), found among `govc find / -type s` by exact name.
//!
//! `govc host.maintenance.enter` runs without `-evacuate`: the plan leaves powered-off VMs
//! where they are, and DRS migrates the running ones; vSphere moves nothing back, so a VM the
//! drain moved is looked up wherever it is and moved home (`migrate_vm_back`).

use super::shell::{self, Calls};
use super::{Dialect, Item};
use crate::model::VmState;
use crate::plan::Plan;

pub struct Govc;

const HEAD: &str = r#"
set -euo pipefail

say() { printf 'preflight: %s\n' "$*"; }
die() { printf 'preflight: %s\n' "$*" >&2; exit 1; }
"#;

/// A script that moves a VM with its storage does not start without the datastore to move it to.
const DATASTORE_CHECK: &str = r#"
# The datastore the VMs that move with their storage go to: the plan cannot know it.
if [[ -z ${DESTINATION_DATASTORE:-} ]]; then
  die "this plan moves VMs with their storage: set DESTINATION_DATASTORE to the datastore they go to (one the destination hosts see), then run it again"
fi
"#;

const PRELUDE: &str = r#"
govc about >/dev/null || die "govc cannot reach vCenter: set GOVC_URL (and GOVC_USERNAME, GOVC_PASSWORD) first"

# A -name pattern that matches NAME only. vCenter stores % / and \ in a name as %25 %2f and
# %5c; govc matches names with Go's path.Match, where * ? [ ] and \ are special: those, and
# every - (so the pattern never starts with one), are escaped with a backslash.
glob_literal() {
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      '%') out+='%25' ;;
      '/') out+='%2f' ;;
      '\') out+='%5c' ;;
      '*' | '?' | '[' | ']' | '-') out+="\\$c" ;;
      *) out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

# A name as vCenter stores it (/ as %2f, \ as %5c, % as %25) back to the name itself.
unescape_name() {
  local s=$1
  s=${s//%2[fF]//}
  s=${s//%5[cC]/\\}
  s=${s//%25/%}
  printf '%s' "$s"
}

# Whether host name $1 is the one the plan names ($2): case-insensitive, and a short name
# matches an FQDN by its first label (esx01 matches esx01.example.com).
same_host() {
  local a=${1,,} b=${2,,}
  if [[ $a == "$b" ]]; then return 0; fi
  if [[ $a == *.* && $b == *.* ]]; then return 1; fi
  [[ ${a%%.*} == "${b%%.*}" ]]
}

# The inventory paths of every host, read once.
host_paths=''
hosts_read=0

# Sets host_path to the inventory path of the one host named $2, or stops step $1.
find_host() {
  local step=$1 name=$2 p n=0
  if ((hosts_read == 0)); then
    host_paths=$(govc find / -type h) || die "step ${step}: govc could not list the hosts"
    hosts_read=1
  fi
  host_path=''
  while IFS= read -r p; do
    if [[ -n $p ]] && same_host "$(unescape_name "${p##*/}")" "$name"; then
      host_path=$p
      n=$((n + 1))
    fi
  done <<<"$host_paths"
  if ((n != 1)); then die "step ${step}: host ${name} matches ${n} vCenter hosts, not one"; fi
}

# Sets vm_ref to the one VM the step names (by id when the plan has one, else by exact name)
# and vm_host to the name of the host it is on.
locate_vm() {
  local step=$1 name=$2 id=$3 refs='' r n=0 actual host_ref pattern
  if [[ $id =~ ^(VirtualMachine[-:])?(vm-[0-9]+)$ ]]; then
    refs="VirtualMachine:${BASH_REMATCH[2]}"
  elif [[ -n $id ]]; then
    refs=$(govc find -i / -type m -config.instanceUuid "$id") || die "step ${step}: govc could not search for VM ${name}"
    if [[ -z $refs ]]; then
      refs=$(govc find -i / -type m -config.uuid "$id") || die "step ${step}: govc could not search for VM ${name}"
    fi
  else
    # (The x keeps a trailing newline of the name through the command substitution.)
    pattern=$(glob_literal "$name"; printf x)
    refs=$(govc find -i / -type m -name "${pattern%x}") || die "step ${step}: govc could not search for VM ${name}"
  fi
  while IFS= read -r r; do
    if [[ -n $r ]]; then n=$((n + 1)); fi
  done <<<"$refs"
  if ((n == 0)); then die "step ${step}: VM ${name} is gone; the plan no longer fits"; fi
  if ((n > 1)); then die "step ${step}: VM name ${name} is not unique; the plan needs VM ids"; fi
  vm_ref=$refs
  actual=$(govc object.collect -s "$vm_ref" name) || die "step ${step}: VM ${name} is gone; the plan no longer fits"
  if [[ -z $id && $(unescape_name "$actual") != "$name" ]]; then
    die "step ${step}: the VM found for ${name} is named ${actual}"
  fi
  host_ref=$(govc object.collect -s "$vm_ref" runtime.host) || die "step ${step}: govc could not read the host of VM ${name}"
  vm_host=$(govc ls -L "$host_ref") || die "step ${step}: govc could not read the host of VM ${name}"
  vm_host=$(unescape_name "${vm_host##*/}")
}

# The guard, after locate_vm: the VM is on host $3 (when set) and in power state $4 (when set).
check_vm() {
  local step=$1 name=$2 on=$3 expect=$4 state
  if [[ -n $on ]] && ! same_host "$vm_host" "$on"; then
    die "step ${step}: VM ${name} is on ${vm_host}, not on ${on}; the plan no longer fits"
  fi
  if [[ -n $expect ]]; then
    state=$(govc object.collect -s "$vm_ref" runtime.powerState) || die "step ${step}: govc could not read the state of VM ${name}"
    if [[ $state != "$expect" ]]; then die "step ${step}: VM ${name} is ${state}, the plan expects ${expect}"; fi
  fi
}

# Sets ds_path to the inventory path of the one datastore named $DESTINATION_DATASTORE (compared
# like a host, by the last part of its path), or stops step $1. govc's -ds reads its value as a
# path pattern, so a path holding pattern characters is refused rather than expanded.
find_datastore() {
  local step=$1 paths p n=0
  paths=$(govc find / -type s) || die "step ${step}: govc could not list the datastores"
  ds_path=''
  while IFS= read -r p; do
    if [[ -n $p && $(unescape_name "${p##*/}") == "$DESTINATION_DATASTORE" ]]; then
      ds_path=$p
      n=$((n + 1))
    fi
  done <<<"$paths"
  if ((n != 1)); then die "step ${step}: datastore ${DESTINATION_DATASTORE} matches ${n} vCenter datastores, not one"; fi
  case $ds_path in
    *'*'* | *'?'* | *'['* | *']'* | *'\'*) die "step ${step}: datastore ${ds_path} holds pattern characters govc would expand" ;;
  esac
}

# Moves the located and guarded VM to host $3 and checks that it arrived. With $4 (the plan's
# words for a move with storage) its files move too, to $DESTINATION_DATASTORE.
move_vm() {
  local step=$1 name=$2 to=$3 storage=$4 vm_path from=$vm_host
  find_host "$step" "$to"
  vm_path=$(govc ls -L "$vm_ref") || die "step ${step}: govc could not read the path of VM ${name}"
  if [[ -n $storage ]]; then
    find_datastore "$step"
    say "step ${step}: moving VM ${name} from ${from} to ${to} and datastore ${DESTINATION_DATASTORE}; it ${storage}"
    govc vm.migrate "-host.ipath=${host_path}" "-ds=${ds_path}" "-vm.ipath=${vm_path}"
  else
    say "step ${step}: moving VM ${name} from ${from} to ${to}"
    govc vm.migrate "-host.ipath=${host_path}" "-vm.ipath=${vm_path}"
  fi
  locate_vm "$step" "$name" "${vm_ref#VirtualMachine:}"
  if ! same_host "$vm_host" "$to"; then die "step ${step}: VM ${name} did not arrive on ${to}; it is on ${vm_host}"; fi
}

migrate_vm() {
  local step=$1 name=$2 id=$3 from=$4 to=$5 expect=$6 storage=$7
  locate_vm "$step" "$name" "$id"
  if same_host "$vm_host" "$to"; then
    say "step ${step}: VM ${name} is already on ${to}; skipped"
    return 0
  fi
  check_vm "$step" "$name" "$from" "$expect"
  move_vm "$step" "$name" "$to" "$storage"
}

# A VM the drain moved is wherever DRS put it: it is looked up and moved home from there.
migrate_vm_back() {
  local step=$1 name=$2 id=$3 to=$4 expect=$5 storage=$6
  locate_vm "$step" "$name" "$id"
  if same_host "$vm_host" "$to"; then
    say "step ${step}: VM ${name} is already on ${to}; skipped"
    return 0
  fi
  check_vm "$step" "$name" "" "$expect"
  move_vm "$step" "$name" "$to" "$storage"
}

# start: powers the VM on. shutdown: shuts the guest down (VMware Tools), which returns at
# once, and waits until the VM is off.
power_vm() {
  local action=$1 step=$2 name=$3 id=$4 on=$5 expect=$6 vm_path tries=0
  locate_vm "$step" "$name" "$id"
  check_vm "$step" "$name" "$on" "$expect"
  vm_path=$(govc ls -L "$vm_ref") || die "step ${step}: govc could not read the path of VM ${name}"
  if [[ $action == start ]]; then
    say "step ${step}: starting VM ${name} on ${vm_host}"
    govc vm.power -on "-vm.ipath=${vm_path}"
    return 0
  fi
  say "step ${step}: shutting down the guest of VM ${name} on ${vm_host}"
  govc vm.power -s "-vm.ipath=${vm_path}"
  until [[ $(govc object.collect -s "$vm_ref" runtime.powerState) == poweredOff ]]; do
    tries=$((tries + 1))
    if ((tries >= 360)); then die "step ${step}: VM ${name} did not power off within 30 minutes"; fi
    sleep 5
  done
}

# The task ends when DRS has migrated the running VMs; powered-off VMs stay (no -evacuate).
enter_maintenance() {
  local step=$1 name=$2 p in=0
  find_host "$step" "$name"
  say "step ${step}: host ${name} enters maintenance mode"
  govc host.maintenance.enter "-host.ipath=${host_path}"
  while IFS= read -r p; do
    if [[ $p == "$host_path" ]]; then in=1; fi
  done <<<"$(govc find / -type h -runtime.inMaintenanceMode true)"
  if ((in == 0)); then die "step ${step}: host ${name} is not in maintenance mode"; fi
}

# Returns the host to service. vSphere moves nothing back; the plan's post steps do that.
exit_maintenance() {
  local step=$1 name=$2
  find_host "$step" "$name"
  say "step ${step}: host ${name} leaves maintenance mode"
  govc host.maintenance.exit "-host.ipath=${host_path}"
}

note() { say "step $1: $2"; }

# The maintenance itself is the operator's. A full run waits here until they say it is done.
pause_for_maintenance() {
  local answer=''
  printf 'preflight: the hosts are in maintenance. Patch them, then type continue to run the post steps: '
  read -r answer || true
  [[ $answer == continue ]] || die "stopped before the post steps; render them with --phase post to run them later"
}
"#;

/// The prelude's step functions.
const CALLS: Calls = Calls {
    migrate: "migrate_vm",
    migrate_back: "migrate_vm_back",
    power: "power_vm",
    state: govc_state,
};

impl Dialect for Govc {
    fn prelude(&self, _plan: &Plan, storage: bool) -> String {
        let mut s = HEAD.to_string();
        if storage {
            s.push_str(DATASTORE_CHECK);
        }
        s.push_str(PRELUDE);
        s
    }

    fn how_to_run(&self) -> Vec<&'static str> {
        vec![
            "Review it, then run it where govc can reach the vCenter (GOVC_URL, GOVC_USERNAME, GOVC_PASSWORD set): bash ./plan.sh",
            "A plan that moves VMs with their storage also needs DESTINATION_DATASTORE=<datastore> set.",
            "It stops at the first failed guard or command (set -euo pipefail).",
        ]
    }

    fn step(&self, item: &Item<'_>) -> String {
        shell::step(&CALLS, item)
    }

    fn pause(&self) -> String {
        shell::pause()
    }

    fn epilogue(&self) -> String {
        shell::epilogue()
    }
}

/// vSphere's `runtime.powerState` words. vSphere has no paused VM: not checked (`''`).
fn govc_state(s: Option<VmState>) -> &'static str {
    match s {
        Some(VmState::Running) => "poweredOn",
        Some(VmState::Off) => "poweredOff",
        Some(VmState::Saved) => "suspended",
        _ => "",
    }
}
