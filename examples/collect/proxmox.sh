#!/usr/bin/env bash
# Writes a preflight inventory of a Proxmox VE cluster, with each guest's migration facts.
#
# Usage: proxmox.sh [--native] [OUTPUT]   (default: inventory.json; -h prints this help)
#
# Needs: bash, jq (apt install jq) and pvesh, so run it as root on any node of the cluster
# (pvesh talks to the node's API as root@pam; no API token is needed). Only reads are made.
#
# By default it writes the combined document preflight reads as a Proxmox export:
#   {"preflight_proxmox": 1, "collected_at", "cluster",
#    "resources":     pvesh get /cluster/resources,
#    "configs":       {"<vmid>": pvesh get /nodes/<node>/<qemu|lxc>/<vmid>/config, ...},
#    "storage":       pvesh get /storage,
#    "ha_rules":      pvesh get /cluster/ha/rules       (PVE 9),
#    "ha_groups":     pvesh get /cluster/ha/groups      (PVE 8),
#    "ha_resources":  pvesh get /cluster/ha/resources,
#    "node_networks": {"<node>": pvesh get /nodes/<node>/network, ...},
#    "node_status":   {"<node>": pvesh get /nodes/<node>/status, ...}}
# The configs give each guest's disks and CD-ROM media (shared as their storage is), host
# devices (hostpci, usb, serial), bridges and CPU type; the HA rules and groups its
# constraints; the nodes their bridges and CPU models. An endpoint the cluster does not have
# (ha_rules before PVE 9, ha_groups from PVE 9) or a guest or node that does not answer is
# left out, and preflight reads those facts as unknown.
#
# With --native it writes preflight's native format instead, converted with jq from
# /cluster/resources alone (no migration facts): qemu and lxc guests become VMs (templates too,
# stopped, with template = true; a guest is HA-protected when it has a `hastate` other than
# error, disabled or ignored, which the HA manager does not move), nodes become hosts. A guest
# status this script does not map is written as state unknown with the status kept as
# raw_state (`status=...`), as preflight's own reader of the export keeps it. Memory is written
# in MiB (0 or missing: unknown), collected_at in UTC.
#
# Then audit the node about to be drained with the inventory written:
#   preflight audit --inventory inventory.json --host pve1
# docs/collect.md in preflight's repository says more.
set -euo pipefail

case "${1:-}" in
-h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
esac
native=0
if [ "${1:-}" = "--native" ]; then
    native=1
    shift
fi
out="${1:-inventory.json}"
command -v jq >/dev/null || { echo "proxmox.sh: jq is needed (apt install jq)" >&2; exit 1; }

resources="$(pvesh get /cluster/resources --output-format json)"
# The cluster's name is not in /cluster/resources; a standalone node has none.
cluster="$(pvesh get /cluster/status --output-format json |
    jq -r '.[] | select(.type == "cluster") | .name' 2>/dev/null || true)"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

if [ "$native" = 0 ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    # An endpoint this cluster lacks (or that fails) is written as null and left out.
    get() { pvesh get "$1" --output-format json </dev/null 2>/dev/null || echo null; }
    printf '%s' "$resources" >"$tmp/resources"
    printf '%s' "$resources" |
        jq -r '.[] | select(.type == "qemu" or .type == "lxc") | "\(.node) \(.type) \(.vmid)"' |
        while read -r node type vmid; do
            if cfg="$(pvesh get "/nodes/$node/$type/$vmid/config" --output-format json </dev/null 2>/dev/null)"; then
                printf '%s' "$cfg" | jq --arg id "$vmid" '{($id): .}'
            else
                echo "proxmox.sh: no config for $type $vmid on $node; its facts will be unknown" >&2
            fi
        done | jq -s 'add // {}' >"$tmp/configs"
    get /storage >"$tmp/storage"
    get /cluster/ha/rules >"$tmp/ha_rules"
    get /cluster/ha/groups >"$tmp/ha_groups"
    get /cluster/ha/resources >"$tmp/ha_resources"
    printf '%s' "$resources" | jq -r '.[] | select(.type == "node" and .status == "online") | .node' |
        while read -r node; do
            get "/nodes/$node/network" | jq --arg n "$node" '{($n): .}'
        done | jq -s 'add // {}' >"$tmp/node_networks"
    printf '%s' "$resources" | jq -r '.[] | select(.type == "node" and .status == "online") | .node' |
        while read -r node; do
            get "/nodes/$node/status" | jq --arg n "$node" '{($n): .}'
        done | jq -s 'add // {}' >"$tmp/node_status"
    args=()
    for m in resources configs storage ha_rules ha_groups ha_resources node_networks node_status; do
        args+=(--slurpfile "$m" "$tmp/$m")
    done
    jq -n --arg now "$now" --arg cluster "$cluster" "${args[@]}" '
      {preflight_proxmox: 1, collected_at: $now,
       cluster: (if $cluster == "" then null else $cluster end),
       resources: $resources[0], configs: $configs[0], storage: $storage[0],
       ha_rules: $ha_rules[0], ha_groups: $ha_groups[0], ha_resources: $ha_resources[0],
       node_networks: $node_networks[0], node_status: $node_status[0]}
      | with_entries(select(.value != null))' >"$out.tmp"
    mv "$out.tmp" "$out"
    echo "wrote $(jq '[.resources[] | select(.type == "qemu" or .type == "lxc")] | length' "$out") guests ($(jq '.configs | length' "$out") configs) on $(jq '[.resources[] | select(.type == "node")] | length' "$out") nodes to $out" >&2
    echo "next: preflight audit --inventory $out --host <node to drain>" >&2
    exit 0
fi

printf '%s' "$resources" | jq --arg now "$now" --arg cluster "$cluster" '
  def mib: if . == null or . == 0 then null else (. / 1048576 | floor) end;
  def vm_states: {running: "running", stopped: "off", paused: "paused", prelaunch: "starting"};
  {
    schema: "preflight/inventory/v1",
    collected_at: $now,
    platform: "proxmox",
    hosts: [.[] | select(.type == "node") | {
      name: .node,
      cluster: (if $cluster == "" then null else $cluster end),
      state: (if .hastate == "maintenance" then "maintenance"
              elif .status == "online" then "up" else "down" end),
      memory_mb: (.maxmem | mib),
      cpus: (if (.maxcpu // 0) == 0 then null else .maxcpu end)
    }],
    vms: [.[] | select(.type == "qemu" or .type == "lxc")
      | ((.template // 0) == 1 or .template == true) as $template | {
      name: (.name // (.vmid | tostring)),
      id: (.vmid | tostring),
      host: .node,
      state: (if $template then "off" else (vm_states[.status // ""] // "unknown") end),
      # A status this script does not map is passed through, as the export reader keeps it.
      raw_state: (if $template or vm_states[.status // ""] != null then null
                  elif .status == null then "status missing"
                  else "status=\(.status)" end),
      ha: (.hastate != null and (.hastate | IN("error", "disabled", "ignored") | not)),
      template: $template,
      memory_mb: (.maxmem | mib),
      vcpus: .maxcpu,
      tags: ((.tags // "") | split(";") | map(select(. != "")))
    }]
  }' >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $(jq '.vms | length' "$out") guests on $(jq '.hosts | length' "$out") nodes to $out" >&2
echo "next: preflight audit --inventory $out --host <node to drain>" >&2
