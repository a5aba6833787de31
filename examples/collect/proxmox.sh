#!/usr/bin/env bash
# Writes a preflight inventory (native format) of a Proxmox VE cluster.
#
# Usage: proxmox.sh [OUTPUT]     (default: inventory.json; -h prints this help)
#
# Needs: bash, jq (apt install jq) and pvesh, so run it as root on any node of the cluster
# (pvesh talks to the node's API as root@pam; no API token is needed).
#
# Reads `pvesh get /cluster/resources` and converts it with jq: qemu and lxc guests become VMs
# (templates too, stopped, with template = true; a guest is HA-protected when it has a
# `hastate` other than error, disabled or ignored, which the HA manager does not move), nodes
# become hosts. A guest status this script does not map is written as state unknown with the
# status kept as raw_state (`status=...`), as preflight's own reader of the export keeps it.
# Memory is written in MiB (0 or missing: unknown), collected_at in UTC.
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
out="${1:-inventory.json}"
command -v jq >/dev/null || { echo "proxmox.sh: jq is needed (apt install jq)" >&2; exit 1; }

resources="$(pvesh get /cluster/resources --output-format json)"
# The cluster's name is not in /cluster/resources; a standalone node has none.
cluster="$(pvesh get /cluster/status --output-format json |
    jq -r '.[] | select(.type == "cluster") | .name' 2>/dev/null || true)"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

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
