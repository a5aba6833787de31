#!/usr/bin/env bash
# Writes a preflight inventory (native format) of a Proxmox VE cluster.
#
# Usage: proxmox.sh [OUTPUT]     (default: inventory.json; run as root on any cluster node)
#
# Reads `pvesh get /cluster/resources` and converts it with jq: qemu and lxc guests become VMs
# (templates too, stopped, with template = true; a guest is HA-protected when it has a
# `hastate` other than error, disabled or ignored, which the HA manager does not move), nodes
# become hosts.
# Memory is written in MiB, collected_at in UTC.
set -euo pipefail

out="${1:-inventory.json}"
command -v jq >/dev/null || { echo "proxmox.sh: jq is needed (apt install jq)" >&2; exit 1; }

resources="$(pvesh get /cluster/resources --output-format json)"
# The cluster's name is not in /cluster/resources; a standalone node has none.
cluster="$(pvesh get /cluster/status --output-format json |
    jq -r '.[] | select(.type == "cluster") | .name' 2>/dev/null || true)"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

printf '%s' "$resources" | jq --arg now "$now" --arg cluster "$cluster" '
  def mib: if . == null or . == 0 then null else (. / 1048576 | floor) end;
  def vm_state: {running: "running", stopped: "off", paused: "paused", prelaunch: "starting"}[.] // "unknown";
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
      state: (if $template then "off" else (.status | vm_state) end),
      ha: (.hastate != null and (.hastate | IN("error", "disabled", "ignored") | not)),
      template: $template,
      memory_mb: (.maxmem | mib),
      vcpus: .maxcpu,
      tags: ((.tags // "") | split(";") | map(select(. != "")))
    }]
  }' >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $(jq '.vms | length' "$out") guests on $(jq '.hosts | length' "$out") nodes to $out" >&2
