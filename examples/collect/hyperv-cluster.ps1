<#
.SYNOPSIS
    Writes a preflight inventory (native format) of a Hyper-V failover cluster.
.DESCRIPTION
    Lists the nodes with Get-ClusterNode and the VMs of each node with Get-VM; IsClustered is
    the HA flag. Memory is written in MiB (MemoryAssigned is 0 for a VM that is off, so
    MemoryStartup stands in), collected_at in UTC, as UTF-8 without a byte-order mark.
    Each VM's migration facts are written too (disks with size, DVD media, pass-through disks
    and DDA devices, switch names, checkpoint count, processor compatibility, anti-affinity
    class names, possible owners as allowed_hosts, notes), and each node's switches and CPU
    model. A node that is Paused is written as paused, one that is Down (or Joining, or not known) as
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
$GiB = 1073741824
Import-Module FailoverClusters, Hyper-V

# VMState names to preflight's VM states (the ...Critical variants carry the same state).
$vmStates = @{
    Running = 'running'; Off = 'off'; Stopping = 'stopping'; Saving = 'stopping'
    FastSaving = 'stopping'; Saved = 'saved'; FastSaved = 'saved'; Paused = 'paused'
    Pausing = 'paused'; Starting = 'starting'; Resuming = 'starting'; Reset = 'starting'
}

$clusterName = (Get-Cluster -Name $Cluster).Name
$nodeNames = @(Get-ClusterNode -Cluster $Cluster | ForEach-Object { $_.Name })

# Failover clustering's placement constraints, by VM id: the anti-affinity class names of the
# VM's cluster group, and the possible owners of its Virtual Machine resource (the nodes it
# may run on; preferred owners only order them).
$antiOf = @{}
$ownersOf = @{}
foreach ($resource in Get-ClusterResource -Cluster $Cluster | Where-Object { "$($_.ResourceType)" -eq 'Virtual Machine' }) {
    $vmId = "$((Get-ClusterParameter -InputObject $resource -Name VmID).Value)"
    if (-not $vmId) { continue }
    $antiOf[$vmId] = @($resource.OwnerGroup.AntiAffinityClassNames | Where-Object { $_ })
    $owners = @((Get-ClusterOwnerNode -InputObject $resource).OwnerNodes | ForEach-Object { "$($_.Name)" })
    # Every node a possible owner is no restriction.
    if ($owners.Count -gt 0 -and $owners.Count -lt $nodeNames.Count) { $ownersOf[$vmId] = $owners }
}

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
    # Migration facts: the switches the node offers, its CPU model.
    $hostEntry.networks = @(Get-VMSwitch -ComputerName $node.Name | ForEach-Object { $_.Name } | Sort-Object -Unique)
    $cpu = @(Get-CimInstance -ComputerName $node.Name -ClassName Win32_Processor)[0].Name
    if ("$cpu".Trim()) { $hostEntry.cpu = "$cpu".Trim() }
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
        # Migration facts (preflight's CONTRACT 7.1), flattened here so that no -Depth cuts them.
        $drives = @(Get-VMHardDiskDrive -VM $vm)
        $entry.disks = @($drives | Where-Object { $_.Path -and $null -eq $_.DiskNumber } | ForEach-Object {
                $disk = [ordered]@{ path = "$($_.Path)" }
                $vhd = Get-VHD -ComputerName $node.Name -Path $_.Path -ErrorAction SilentlyContinue
                if ($vhd.FileSize -gt 0) { $disk.size_gb = [math]::Round($vhd.FileSize / $GiB, 3) }
                $disk
            })
        # A pass-through disk and a device assigned with DDA are bound to this node.
        $entry.passthrough = @($drives | Where-Object { $null -ne $_.DiskNumber } | ForEach-Object { "disk:$($_.DiskNumber)" }) +
            @(Get-VMAssignableDevice -VM $vm | ForEach-Object { "pci:$($_.LocationPath)" })
        $entry.media = @(Get-VMDvdDrive -VM $vm | Where-Object { $_.Path } | ForEach-Object {
                if ("$($_.DvdMediaType)" -eq 'PassThrough') { [ordered]@{ path = "host:$($_.Path)"; shared = $false } }
                else { [ordered]@{ path = "$($_.Path)" } }
            })
        $entry.networks = @(Get-VMNetworkAdapter -VM $vm | ForEach-Object { $_.SwitchName } | Where-Object { $_ } | Sort-Object -Unique)
        $entry.checkpoints = @(Get-VMSnapshot -VM $vm).Count
        $entry.cpu_compat = [bool](Get-VMProcessor -VM $vm).CompatibilityForMigrationEnabled
        $id = "$($vm.VMId)"
        if ($antiOf.ContainsKey($id) -and $antiOf[$id].Count -gt 0) { $entry.anti_affinity = $antiOf[$id] }
        if ($ownersOf.ContainsKey($id)) { $entry.allowed_hosts = $ownersOf[$id] }
        if ($vm.Notes) { $entry.attributes = [ordered]@{ notes = "$($vm.Notes)" } }
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
# Depth 6: document, list, VM, list of disks, disk, value; nothing is cut to a type name.
$json = ConvertTo-Json -InputObject $inventory -Depth 6
# Out-File and > would write UTF-16 in 5.1; write UTF-8 without BOM in both versions.
$target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
[System.IO.File]::WriteAllText($target, $json, (New-Object System.Text.UTF8Encoding $false))
Write-Host "wrote $($vms.Count) VMs on $($hosts.Count) nodes of $clusterName to $target"
Write-Host "next: preflight audit --inventory $Path --host <node to drain>"
