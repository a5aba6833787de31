<#
.SYNOPSIS
    Writes a preflight inventory (native format) of every VM and host an SCVMM server manages.
.DESCRIPTION
    Reads Get-SCVirtualMachine and Get-SCVMHost and writes hosts and VMs with preflight's
    state words (hosts: up, maintenance, paused, down; VMs: running, off, saved, ...), memory
    in MiB, collected_at in UTC, as UTF-8 without a byte-order mark.

    Each VM's migration facts are written too (virtual disks with size, DVD media, whether it
    has a pass-through disk, virtual networks, checkpoint count, LimitCPUForMigration,
    availability sets as anti_affinity, custom properties and OS as attributes), and each
    host's virtual networks and CPU model.

    What is not known is written as not known, so that preflight reports it instead of
    guessing: a host whose TotalMemory is missing or 0 (VMM reports 0 for a host it cannot
    reach) gets no memory_mb; a VM without IsHighlyAvailable or Memory gets none; a VM status
    this script does not map is written as state unknown with the raw status kept (raw_state).
    A host is paused when its ClusterNodeStatus is Paused (the failover cluster node is paused:
    nothing moves onto it). A VM without a host (stored in the VMM library, not deployed) is
    skipped with a warning on the warning stream: it runs nowhere, so no drain touches it.

    Needs: Windows PowerShell 5.1 or PowerShell 7, the VirtualMachineManager module (installed
    with the VMM console), and a VMM user role that can read every host and VM (a read-only
    administrator is enough; a scoped role sees, and writes, only its scope).

    A script downloaded from the internet is blocked by the execution policy: unblock it once
    with Unblock-File, or allow scripts for this PowerShell session only:
        Unblock-File .\scvmm.ps1
        Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass

    Then audit the host about to be drained with the inventory written:
        preflight audit --inventory inventory.json --host HV01
    docs/collect.md in preflight's repository says more.
.PARAMETER VMMServer
    The VMM management server to ask (default: localhost).
.PARAMETER Path
    Where to write the inventory (default: inventory.json in the current directory); the file
    is replaced.
.EXAMPLE
    .\scvmm.ps1 -VMMServer vmm01 -Path inventory.json
    Writes the inventory of everything vmm01 manages to inventory.json.
.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File .\scvmm.ps1 -VMMServer vmm01
    Runs the script from cmd.exe or a scheduled task without changing the machine's policy.
#>
[CmdletBinding()]
param(
    [string] $VMMServer = 'localhost',
    [string] $Path = 'inventory.json'
)
$ErrorActionPreference = 'Stop'
$MiB = 1048576
$GiB = 1073741824
Import-Module VirtualMachineManager

# VMComputerSystemState names to preflight's VM states; any other status is 'unknown', with
# the status kept as raw_state.
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
    elseif ("$($h.ClusterNodeStatus)" -eq 'Paused') { $state = 'paused' }
    elseif ($overall -ne 'OK') { $state = 'down' }
    $cluster = $null
    if ($h.HostCluster) { $cluster = $h.HostCluster.Name }
    $entry = [ordered]@{ name = $h.Name; cluster = $cluster; state = $state }
    # TotalMemory is in bytes; missing or 0 is unknown, never "no room".
    if ($h.TotalMemory -gt 0) { $entry.memory_mb = [long]([math]::Floor($h.TotalMemory / $MiB)) }
    if ($h.LogicalProcessorCount -gt 0) { $entry.cpus = [int]$h.LogicalProcessorCount }
    # Migration facts: the virtual networks the host offers, its CPU model.
    if ($null -ne $h.VirtualNetworks) {
        $entry.networks = @($h.VirtualNetworks | ForEach-Object { "$($_.Name)" } | Where-Object { $_ } | Sort-Object -Unique)
    }
    if ("$($h.ProcessorModel)".Trim()) { $entry.cpu = "$($h.ProcessorModel)".Trim() }
    $entry
}

$vms = foreach ($vm in Get-SCVirtualMachine -VMMServer $vmm -All) {
    if (-not $vm.HostName) {
        Write-Warning "skipped VM '$($vm.Name)': it has no host (stored in the library)"
        continue
    }
    $status = "$($vm.Status)"
    $state = $vmStates[$status]
    $tags = @()
    if ($vm.Tag -and "$($vm.Tag)" -ne '(none)') {
        $tags = @("$($vm.Tag)" -split ';' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
    }
    $entry = [ordered]@{
        name  = $vm.Name
        id    = "$($vm.ID)"
        host  = $vm.HostName
        state = $state
    }
    if (-not $state) {
        $entry.state = 'unknown'
        $entry.raw_state = "Status=$status"
    }
    # Not known is written as not known: preflight reports the VM as undetermined.
    if ($null -ne $vm.IsHighlyAvailable) { $entry.ha = [bool]$vm.IsHighlyAvailable }
    # Memory is in MB already.
    if ($vm.Memory -gt 0) { $entry.memory_mb = [long]$vm.Memory }
    if ($vm.CPUCount -gt 0) { $entry.vcpus = [int]$vm.CPUCount }
    $entry.tags = $tags
    # Migration facts (preflight's CONTRACT 7.1). What VMM does not say is left out: unknown.
    $entry.disks = @($vm.VirtualHardDisks | ForEach-Object {
            $disk = [ordered]@{ path = "$($_.Location)" }
            if ($_.MaximumSize -gt 0) { $disk.size_gb = [math]::Round($_.MaximumSize / $GiB, 3) }
            $disk
        })
    # A host drive is bound to the host; a linked ISO is used in place from the library share;
    # any other ISO VMM copied next to the VM, as shared as the VM's own folder.
    $entry.media = @($vm.VirtualDVDDrives | ForEach-Object {
            if ($_.HostDrive) { [ordered]@{ path = "host:$($_.HostDrive)"; shared = $false } }
            elseif ($_.ISO -and $_.ISOLinked) { [ordered]@{ path = "$($_.ISO.SharePath)"; shared = $true } }
            elseif ($_.ISO) { [ordered]@{ path = "$($vm.Location)\$($_.ISO.Name)" } }
        })
    if ($null -ne $vm.HasPassthroughDisk) {
        $entry.passthrough = @(if ($vm.HasPassthroughDisk) { 'passthrough-disk' })
    }
    $entry.networks = @($vm.VirtualNetworkAdapters | ForEach-Object { "$($_.VirtualNetwork)" } | Where-Object { $_ } | Sort-Object -Unique)
    $entry.checkpoints = @($vm.VMCheckpoints | Where-Object { $_ }).Count
    if ($null -ne $vm.LimitCPUForMigration) { $entry.cpu_compat = [bool]$vm.LimitCPUForMigration }
    $sets = @($vm.AvailabilitySetNames | Where-Object { $_ })
    if ($sets.Count -gt 0) { $entry.anti_affinity = $sets }
    $attributes = [ordered]@{}
    if ($vm.CustomProperty) {
        foreach ($key in $vm.CustomProperty.Keys) {
            if ("$($vm.CustomProperty[$key])") { $attributes["$key"] = "$($vm.CustomProperty[$key])" }
        }
    }
    if ($vm.OperatingSystem) { $attributes['os'] = "$($vm.OperatingSystem.Name)" }
    if ($attributes.Count -gt 0) { $entry.attributes = $attributes }
    $entry
}

$inventory = [ordered]@{
    schema       = 'preflight/inventory/v1'
    collected_at = (Get-Date).ToUniversalTime().ToString('o')
    platform     = 'scvmm'
    hosts        = @($hosts)
    vms          = @($vms)
}
# Depth 6: document, list, VM, list of disks, disk, value; nothing is cut to a type name.
$json = ConvertTo-Json -InputObject $inventory -Depth 6
# Out-File and > would write UTF-16 in 5.1; write UTF-8 without BOM in both versions.
$target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
[System.IO.File]::WriteAllText($target, $json, (New-Object System.Text.UTF8Encoding $false))
Write-Host "wrote $(@($vms).Count) VMs on $(@($hosts).Count) hosts to $target"
Write-Host "next: preflight audit --inventory $Path --host <host to drain>"
