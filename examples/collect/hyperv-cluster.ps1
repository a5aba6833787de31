<#
.SYNOPSIS
    Writes a preflight inventory (native format) of a Hyper-V failover cluster.
.DESCRIPTION
    Lists the nodes with Get-ClusterNode and the VMs of each node with Get-VM; IsClustered is
    the HA flag. Memory is written in MiB (MemoryAssigned is 0 for a VM that is off, so
    MemoryStartup stands in), collected_at in UTC, as UTF-8 without a byte-order mark.
    A node that is Paused is written as paused, one that is Down (or Joining, or not known) as
    down, without capacity and without VMs (it cannot be asked). A VM state this script does
    not map is written as unknown with the raw state kept (raw_state).

    Needs: Windows PowerShell 5.1 or PowerShell 7 on a cluster node or a management machine
    with the FailoverClusters and Hyper-V modules (RSAT), and an account that is a local
    administrator of every node (or in Hyper-V Administrators) with read access to the
    cluster; WinRM must reach every node.

    A script downloaded from the internet is blocked by the execution policy: unblock it once
    with Unblock-File, or allow scripts for this PowerShell session only:
        Unblock-File .\hyperv-cluster.ps1
        Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass

    Then audit the node about to be drained with the inventory written:
        preflight audit --inventory inventory.json --host HV01
    docs/collect.md in preflight's repository says more.
.PARAMETER Cluster
    The cluster to read, by name (default: '.', the cluster of the machine the script runs on).
.PARAMETER Path
    Where to write the inventory (default: inventory.json in the current directory); the file
    is replaced.
.EXAMPLE
    .\hyperv-cluster.ps1 -Cluster CL01 -Path inventory.json
    Writes the inventory of cluster CL01 to inventory.json.
.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File .\hyperv-cluster.ps1 -Cluster CL01
    Runs the script from cmd.exe or a scheduled task without changing the machine's policy.
#>
[CmdletBinding()]
param(
    [string] $Cluster = '.',
    [string] $Path = 'inventory.json'
)
$ErrorActionPreference = 'Stop'
$MiB = 1048576
Import-Module FailoverClusters, Hyper-V

# VMState names to preflight's VM states (the ...Critical variants carry the same state).
$vmStates = @{
    Running = 'running'; Off = 'off'; Stopping = 'stopping'; Saving = 'stopping'
    FastSaving = 'stopping'; Saved = 'saved'; FastSaved = 'saved'; Paused = 'paused'
    Pausing = 'paused'; Starting = 'starting'; Resuming = 'starting'; Reset = 'starting'
}

$clusterName = (Get-Cluster -Name $Cluster).Name
$hosts = @()
$vms = @()
foreach ($node in Get-ClusterNode -Cluster $Cluster) {
    $state = switch ("$($node.State)") {
        'Up' { 'up' }
        'Paused' { 'paused' }
        default { 'down' }
    }
    $hostEntry = [ordered]@{ name = $node.Name; cluster = $clusterName; state = $state }
    if ($state -eq 'down') {
        # Unreachable: capacity unknown, and its VMs cannot be listed.
        $hosts += $hostEntry
        continue
    }
    $vmHost = Get-VMHost -ComputerName $node.Name
    # Missing or 0 is unknown, never "no room".
    if ($vmHost.MemoryCapacity -gt 0) {
        $hostEntry.memory_mb = [long]([math]::Floor($vmHost.MemoryCapacity / $MiB))
    }
    if ($vmHost.LogicalProcessorCount -gt 0) { $hostEntry.cpus = [int]$vmHost.LogicalProcessorCount }
    $hosts += $hostEntry
    foreach ($vm in Get-VM -ComputerName $node.Name) {
        $raw = "$($vm.State)"
        $state = $vmStates[$raw -replace 'Critical$', '']
        $entry = [ordered]@{
            name  = $vm.Name
            id    = "$($vm.VMId)"
            host  = $node.Name
            state = $state
            ha    = [bool]$vm.IsClustered
        }
        if (-not $state) {
            $entry.state = 'unknown'
            $entry.raw_state = "State=$raw"
        }
        $memory = $vm.MemoryAssigned
        if ($memory -le 0) { $memory = $vm.MemoryStartup }
        if ($memory -gt 0) { $entry.memory_mb = [long]([math]::Floor($memory / $MiB)) }
        if ($vm.ProcessorCount -gt 0) { $entry.vcpus = [int]$vm.ProcessorCount }
        $vms += $entry
    }
}

$inventory = [ordered]@{
    schema       = 'preflight/inventory/v1'
    collected_at = (Get-Date).ToUniversalTime().ToString('o')
    platform     = 'hyperv'
    hosts        = $hosts
    vms          = $vms
}
$json = ConvertTo-Json -InputObject $inventory -Depth 5
# Out-File and > would write UTF-16 in 5.1; write UTF-8 without BOM in both versions.
$target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
[System.IO.File]::WriteAllText($target, $json, (New-Object System.Text.UTF8Encoding $false))
Write-Host "wrote $($vms.Count) VMs on $($hosts.Count) nodes of $clusterName to $target"
Write-Host "next: preflight audit --inventory $Path --host <node to drain>"
