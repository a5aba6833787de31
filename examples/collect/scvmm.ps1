<#
.SYNOPSIS
    Writes a preflight inventory (native format) of every VM and host an SCVMM server manages.
.DESCRIPTION
    Reads Get-SCVirtualMachine and Get-SCVMHost and writes hosts and VMs with preflight's
    state words (hosts: up, maintenance, down; VMs: running, off, saved, ...), memory in MiB, collected_at in UTC, as UTF-8 without a byte-order mark.
    Runs in Windows PowerShell 5.1 and PowerShell 7 with the VirtualMachineManager module.
.EXAMPLE
    .\scvmm.ps1 -VMMServer vmm01 -Path inventory.json
#>
[CmdletBinding()]
param(
    [string] $VMMServer = 'localhost',
    [string] $Path = 'inventory.json'
)
$ErrorActionPreference = 'Stop'
$MiB = 1048576
Import-Module VirtualMachineManager

# VMComputerSystemState names to preflight's VM states; every other status is 'unknown'.
$vmStates = @{
    Running = 'running'; PowerOff = 'off'; PoweringOff = 'stopping'; Saving = 'stopping'
    Saved = 'saved'; DiscardSavedState = 'saved'; Paused = 'paused'; Pausing = 'paused'
    Starting = 'starting'; Restoring = 'starting'; UnderMigration = 'migrating'
}

$vmm = Get-SCVMMServer -ComputerName $VMMServer

$hosts = foreach ($h in Get-SCVMHost -VMMServer $vmm) {
    # A host whose state is not OK (or not known) offers no room to the drain: 'down'.
    $overall = "$($h.OverallState)"
    $state = 'up'
    if ($overall -match 'Maintenance') { $state = 'maintenance' }
    elseif ("$($h.CommunicationState)" -match 'NotResponding|AccessDenied') { $state = 'down' }
    elseif ($overall -ne 'OK') { $state = 'down' }
    $cluster = $null
    if ($h.HostCluster) { $cluster = $h.HostCluster.Name }
    [ordered]@{
        name      = $h.Name
        cluster   = $cluster
        state     = $state
        # TotalMemory is in bytes.
        memory_mb = [long]([math]::Floor($h.TotalMemory / $MiB))
        cpus      = [int]$h.LogicalProcessorCount
    }
}

$vms = foreach ($vm in Get-SCVirtualMachine -VMMServer $vmm -All) {
    $state = $vmStates["$($vm.Status)"]
    if (-not $state) { $state = 'unknown' }
    $tags = @()
    if ($vm.Tag -and "$($vm.Tag)" -ne '(none)') {
        $tags = @("$($vm.Tag)" -split ';' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
    }
    [ordered]@{
        name      = $vm.Name
        id        = "$($vm.ID)"
        host      = $vm.HostName
        state     = $state
        ha        = [bool]$vm.IsHighlyAvailable
        # Memory is in MB already.
        memory_mb = [long]$vm.Memory
        vcpus     = [int]$vm.CPUCount
        tags      = $tags
    }
}

$inventory = [ordered]@{
    schema       = 'preflight/inventory/v1'
    collected_at = (Get-Date).ToUniversalTime().ToString('o')
    platform     = 'scvmm'
    hosts        = @($hosts)
    vms          = @($vms)
}
$json = ConvertTo-Json -InputObject $inventory -Depth 5
# Out-File and > would write UTF-16 in 5.1; write UTF-8 without BOM in both versions.
$target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
[System.IO.File]::WriteAllText($target, $json, (New-Object System.Text.UTF8Encoding $false))
Write-Host "wrote $(@($vms).Count) VMs on $(@($hosts).Count) hosts to $target"
