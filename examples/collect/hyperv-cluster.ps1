<#
.SYNOPSIS
    Writes a preflight inventory (native format) of a Hyper-V failover cluster.
.DESCRIPTION
    Lists the nodes with Get-ClusterNode and the VMs of each node with Get-VM; IsClustered is
    the HA flag. Memory is written in MiB (MemoryAssigned is 0 for a VM that is off, so
    MemoryStartup stands in), collected_at in UTC, as UTF-8 without a byte-order mark.
.EXAMPLE
    .\hyperv-cluster.ps1 -Cluster CL01 -Path inventory.json
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
    $hostEntry.memory_mb = [long]([math]::Floor($vmHost.MemoryCapacity / $MiB))
    $hostEntry.cpus = [int]$vmHost.LogicalProcessorCount
    $hosts += $hostEntry
    foreach ($vm in Get-VM -ComputerName $node.Name) {
        $state = $vmStates["$($vm.State)" -replace 'Critical$', '']
        if (-not $state) { $state = 'unknown' }
        $memory = $vm.MemoryAssigned
        if ($memory -le 0) { $memory = $vm.MemoryStartup }
        $vms += [ordered]@{
            name      = $vm.Name
            id        = "$($vm.VMId)"
            host      = $node.Name
            state     = $state
            ha        = [bool]$vm.IsClustered
            memory_mb = [long]([math]::Floor($memory / $MiB))
            vcpus     = [int]$vm.ProcessorCount
        }
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
