#!/bin/sh
# Exports a vCenter's VMs, hosts and clusters with govc (github.com/vmware/govmomi) as the one
# JSON document `preflight audit` reads as a govc inventory.
#
# usage: govc.sh [OUT]        (default OUT: vsphere-govc.json)
#
# govc is configured as usual, by its environment: GOVC_URL (https://vcenter.lab.local/sdk),
# GOVC_USERNAME, GOVC_PASSWORD, GOVC_INSECURE=1 for a self-signed certificate, and
# GOVC_DATACENTER when there are several. A read-only vCenter role is enough. Only reads are
# made. It runs:
#
#   govc find / -type m                 the VMs (and templates), then govc vm.info -json
#                                       on them, 200 at a time
#   govc find / -type h                 the hosts, then govc host.info -json on them
#   govc find / -type c                 the clusters, then for each
#                                       govc ls -i <cluster> (its reference) and
#                                       govc object.collect -json <cluster> configurationEx
#                                       (drsConfig, drsVmConfig, dasConfig, rule, group)
#   govc object.collect -json -type n -type g / name
#                                       the networks' and distributed port groups' names,
#                                       which a VM's adapter and a host's network list give
#                                       only by reference
#
# and writes {"preflight_govc": 1, "collected_at", "vm_info": [...], "host_info": [...],
# "clusters": [{"name", "ref", "config"}], "networks": [...]}: govc's own outputs, unchanged,
# wrapped. vm.info -json carries each VM's devices (disks, CD/DVD drives, USB and PCI
# passthrough, network adapters) and snapshot tree, host.info -json each host's datastores
# and networks: with govc 0.30 or later, which writes vim25 JSON with the devices' types.
# Next: preflight audit --inventory OUT --host <host to drain>
set -eu

out=${1:-vsphere-govc.json}
command -v govc >/dev/null 2>&1 || {
    echo "govc.sh: govc is not on PATH (https://github.com/vmware/govmomi/releases)" >&2
    exit 2
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# A JSON string of $1: backslashes and double quotes escaped.
json_string() {
    printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

# Runs `govc $1 -json` on the inventory paths listed in file $2, $3 at a time, printing the
# documents separated by commas.
batched() {
    cmd=$1 list=$2 size=$3 sep='' n=0
    set --
    while IFS= read -r path || [ -n "$path" ]; do
        [ -n "$path" ] || continue
        set -- "$@" "$path"
        n=$((n + 1))
        if [ "$n" -ge "$size" ]; then
            printf '%s' "$sep"
            govc "$cmd" -json "$@"
            sep=','
            set --
            n=0
        fi
    done <"$list"
    if [ "$n" -gt 0 ]; then
        printf '%s' "$sep"
        govc "$cmd" -json "$@"
    fi
}

govc find / -type m >"$tmp/vms"
govc find / -type h >"$tmp/hosts"
govc find / -type c >"$tmp/clusters"

{
    printf '{"preflight_govc": 1, "collected_at": "%s",\n"vm_info": [' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    batched vm.info "$tmp/vms" 200
    printf '],\n"host_info": ['
    batched host.info "$tmp/hosts" 200
    printf '],\n"clusters": ['
    sep=''
    while IFS= read -r path || [ -n "$path" ]; do
        [ -n "$path" ] || continue
        ref=$(govc ls -i "$path")
        printf '%s{"name": %s, "ref": %s, "config": ' "$sep" \
            "$(json_string "${path##*/}")" "$(json_string "$ref")"
        govc object.collect -json "$path" configurationEx
        printf '}'
        sep=','
    done <"$tmp/clusters"
    # One update per network, each starting a line: joined into a JSON list.
    printf '],\n"networks": ['
    govc object.collect -json -type n -type g / name | sed '1!s/^{/,{/'
    printf ']}\n'
} >"$tmp/out"

mv "$tmp/out" "$out"
echo "wrote $out ($(grep -c . "$tmp/vms" || true) VMs, $(grep -c . "$tmp/hosts" || true) hosts)" >&2
echo "next: preflight audit --inventory $out --host <host to drain>" >&2
