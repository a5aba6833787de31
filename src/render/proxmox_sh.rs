//! The `proxmox-sh` target: bash on a Proxmox VE node.
//!
//! Guests move through the API with `pvesh create /nodes/FROM/{qemu|lxc}/VMID/migrate`, the
//! call `qm migrate` and `pct migrate` make: those two act only on guests of the node they run
//! on, while the API path reaches the guest's node from any node of the cluster, which a plan
//! moving guests off the drained node and later back from several others needs. Whether a
//! guest is a VM or a container, and where it is, is asked the same way: the
//! `/nodes/NODE/TYPE/VMID/status/current` path exists only on the node holding the guest.
//!
//! A guest the plan moves with its storage migrates with `--with-local-disks 1` (what `qm
//! migrate --with-local-disks` asks: the disks are copied to the same-named storage of the
//! target node; the plan does not know another, so there is no `--targetstorage`); any other
//! guest migrates without it, so one with a local disk the plan did not know of is refused by
//! Proxmox instead of copied unplanned.
//!
//! `ha-manager crm-command node-maintenance enable` makes HA migrate the node's running HA
//! services; `disable` moves them back (Proxmox always does), so the plan's own move-back
//! steps cover only the guests the plan moved itself, and a guest already home is skipped. A
//! move back of a guest the drain moved (`migrate_guest_back`, for a plan that has one) asks
//! `/cluster/resources` which node runs it.

use super::shell::{self, Calls};
use super::{Dialect, Item};
use crate::model::VmState;
use crate::plan::Plan;

pub struct Proxmox;

const PRELUDE: &str = r#"
set -euo pipefail

say() { printf 'preflight: %s\n' "$*"; }
die() { printf 'preflight: %s\n' "$*" >&2; exit 1; }

# Finds guest VMID on NODE: sets guest_type (qemu or lxc) and guest_state (running, paused,
# stopped or unknown), or returns 1 when the node does not hold it.
find_guest() {
  local node=$1 vmid=$2 type json
  for type in qemu lxc; do
    if json=$(pvesh get "/nodes/${node}/${type}/${vmid}/status/current" --output-format json 2>/dev/null); then
      guest_type=$type
      case $json in
        *'"qmpstatus":"paused"'*) guest_state=paused ;;
        *'"status":"running"'*) guest_state=running ;;
        *'"status":"stopped"'*) guest_state=stopped ;;
        *) guest_state=unknown ;;
      esac
      return 0
    fi
  done
  return 1
}

# The guard: the guest must be on FROM and, when EXPECT is set, in that state.
guard() {
  local step=$1 name=$2 vmid=$3 from=$4 expect=$5
  find_guest "$from" "$vmid" || die "step ${step}: guest ${vmid} (${name}) is not on ${from}; the plan no longer fits"
  if [[ -n $expect && $guest_state != "$expect" ]]; then
    die "step ${step}: guest ${vmid} (${name}) is ${guest_state}, the plan expects ${expect}"
  fi
}

# Waits until the guest shows on NODE (a migration the API hands to a task may still run).
wait_on() {
  local step=$1 name=$2 vmid=$3 node=$4 tries=0
  until find_guest "$node" "$vmid"; do
    tries=$((tries + 1))
    if ((tries >= 360)); then die "step ${step}: guest ${vmid} (${name}) did not arrive on ${node}"; fi
    sleep 5
  done
}

# STORAGE is the plan's words for a move with storage (its disks are on the node's own
# storage: they are copied to the target node's storage of the same name), empty for none.
migrate_guest() {
  local step=$1 name=$2 vmid=$3 from=$4 to=$5 expect=$6 storage=$7
  if ! find_guest "$from" "$vmid" && find_guest "$to" "$vmid"; then
    say "step ${step}: guest ${vmid} (${name}) is already on ${to}; skipped"
    return 0
  fi
  guard "$step" "$name" "$vmid" "$from" "$expect"
  say "step ${step}: moving ${guest_type} ${vmid} (${name}) from ${from} to ${to}${storage:+; it ${storage}}"
  if [[ $guest_type == qemu && -n $storage ]]; then
    pvesh create "/nodes/${from}/qemu/${vmid}/migrate" --target "$to" --online 1 --with-local-disks 1
  elif [[ $guest_type == qemu ]]; then
    # No local disk in the plan: a guest that has one is refused by Proxmox, and the run stops.
    pvesh create "/nodes/${from}/qemu/${vmid}/migrate" --target "$to" --online 1
  elif [[ $guest_state == running ]]; then
    pvesh create "/nodes/${from}/lxc/${vmid}/migrate" --target "$to" --restart 1
  else
    pvesh create "/nodes/${from}/lxc/${vmid}/migrate" --target "$to"
  fi
  wait_on "$step" "$name" "$vmid" "$to"
}

# A guest the drain moved is wherever HA put it: ask the cluster which node runs it now and
# migrate it from there (skipped when it is already on TO). The resource list is JSON; perl's
# core JSON::PP reads it, and only a node name that is usable in an API path is taken.
migrate_guest_back() {
  local step=$1 name=$2 vmid=$3 to=$4 expect=$5 storage=$6 from
  from=$(pvesh get /cluster/resources --type vm --output-format json |
    perl -MJSON::PP -e 'local $/; my $id = shift; my $all = JSON::PP->new->utf8->decode(<STDIN>);
      my @at = map { $_->{node} } grep { ($_->{vmid} // "") eq $id } @$all;
      exit 1 if @at != 1 || !defined $at[0]; binmode STDOUT, ":encoding(UTF-8)"; print $at[0];' "$vmid") ||
    die "step ${step}: the cluster does not list guest ${vmid} (${name}) exactly once"
  if [[ -z $from || $from == */* || $from == -* || $from == . || $from == .. ]]; then
    die "step ${step}: guest ${vmid} (${name}) is on a node whose name is not usable: ${from}"
  fi
  if [[ $from == "$to" ]]; then
    say "step ${step}: guest ${vmid} (${name}) is already on ${to}; skipped"
    return 0
  fi
  migrate_guest "$step" "$name" "$vmid" "$from" "$to" "$expect" "$storage"
}

power_guest() {
  local action=$1 step=$2 name=$3 vmid=$4 node=$5 expect=$6
  guard "$step" "$name" "$vmid" "$node" "$expect"
  say "step ${step}: ${action} ${guest_type} ${vmid} (${name}) on ${node}"
  pvesh create "/nodes/${node}/${guest_type}/${vmid}/status/${action}"
}

# Waits until HA no longer runs or moves any service on NODE. Stopped HA services stay.
wait_drained() {
  local step=$1 node=$2 tries=0 status line busy
  while :; do
    status=$(ha-manager status) || die "step ${step}: ha-manager status failed"
    busy=0
    while IFS= read -r line; do
      case $line in
        "service "*" (${node}, started)" | "service "*" (${node}, starting)" | \
          "service "*" (${node}, migrate)" | "service "*" (${node}, relocate)") busy=1 ;;
      esac
    done <<<"$status"
    if ((busy == 0)); then return 0; fi
    tries=$((tries + 1))
    if ((tries >= 360)); then die "step ${step}: HA services are still on ${node}"; fi
    sleep 5
  done
}

enter_maintenance() {
  local step=$1 node=$2
  say "step ${step}: node ${node} enters maintenance; HA moves its running services"
  ha-manager crm-command node-maintenance enable "$node"
  wait_drained "$step" "$node"
}

exit_maintenance() {
  local step=$1 node=$2
  say "step ${step}: node ${node} leaves maintenance; HA moves its services back"
  ha-manager crm-command node-maintenance disable "$node"
}

note() { say "step $1: $2"; }

# The maintenance itself is the operator's. A full run waits here until they say it is done.
pause_for_maintenance() {
  local answer=''
  printf 'preflight: the nodes are in maintenance. Patch them, then type continue to run the post steps: '
  read -r answer || true
  [[ $answer == continue ]] || die "stopped before the post steps; render them with --phase post to run them later"
}
"#;

/// The prelude's step functions.
const CALLS: Calls = Calls {
    migrate: "migrate_guest",
    migrate_back: "migrate_guest_back",
    power: "power_guest",
    state: pve_state,
};

impl Dialect for Proxmox {
    fn prelude(&self, _plan: &Plan, _storage: bool) -> String {
        PRELUDE.to_string()
    }

    fn how_to_run(&self) -> Vec<&'static str> {
        vec![
            "Review it, then run it as root on any node of the cluster: bash ./plan.sh",
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

/// What the guard reads for a plan state; a hibernated (saved) guest reads as stopped.
/// Transitional states are not checked (`''`); the location still is.
fn pve_state(s: Option<VmState>) -> &'static str {
    match s {
        Some(VmState::Running) => "running",
        Some(VmState::Off) | Some(VmState::Saved) => "stopped",
        Some(VmState::Paused) => "paused",
        _ => "",
    }
}
