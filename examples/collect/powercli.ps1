<#
.SYNOPSIS
    Exports a vCenter's VMs, hosts and clusters (with their DRS settings) as the one JSON
    document that `preflight audit` reads as a PowerCLI inventory.

.DESCRIPTION
    Writes {"Source", "CollectedAt", "VMs": [...], "VMHosts": [...], "Clusters": [...]}.
    Every property is flattened with calculated properties and every enum is written as its
    name, so that the output is the same from Windows PowerShell 5.1 (whose ConvertTo-Json
    cuts nesting at -Depth 2 and writes enums as numbers) and from PowerShell 7: a VM's host
    never arrives as the type name VMware.VimAutomation.ViCore.Impl.V1.Inventory.VMHostImpl.

    What preflight needs to know is whether entering maintenance mode moves each running VM:
    on vSphere that is DRS, enabled and fully automated on the cluster, with no manual,
    partially automated or disabled override on the VM. vSphere HA alone moves nothing at
    maintenance. The migration facts are exported too (preflight's CONTRACT 7.1): each VM's
    disks (path, size, shared when more than one host mounts the datastore), connected CD/ISO
    media, USB and PCI passthrough devices, port groups, snapshot count, CPU compatibility (the
    cluster has an EVC mode), DRS VM-VM rules (AntiAffinity, Affinity), VM-Host must rules
    (AllowedHosts, the host group's members) and custom attributes; each host's port groups
    and CPU model.

    The file is written as UTF-8. Only reads are made.

.PARAMETER Server
    The vCenter Server (or ESXi host) to connect to. When a connection to it is already open
    in this session (Connect-VIServer), it is used and left open.

.PARAMETER OutFile
    Where to write the JSON document. Default: vsphere-powercli.json in the current directory.

.PARAMETER Cluster
    Export only these clusters' hosts and VMs (names, wildcards allowed). Default: all.

.PARAMETER Credential
    Credentials for Connect-VIServer; without it PowerCLI uses the session's (or asks).

.EXAMPLE
    .\powercli.ps1 -Server vcenter.lab.local -OutFile vsphere.json
    preflight audit --inventory vsphere.json --host esx01.lab.local

    Exports everything, then asks preflight whether esx01 may go into maintenance.

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File .\powercli.ps1 -Server vcenter.lab.local -Cluster Prod

    Runs the script where the execution policy would refuse an unsigned one (Windows
    PowerShell 5.1), for this process only.

.NOTES
    Modules: VMware.PowerCLI (VMware.VimAutomation.Core), from the PowerShell Gallery:
        Install-Module VMware.PowerCLI -Scope CurrentUser
    Rights: a vCenter user with the read-only role on the clusters exported is enough.
    Execution policy: an unsigned script downloaded from the internet needs
        Set-ExecutionPolicy -Scope Process -ExecutionPolicy RemoteSigned
    (or Unblock-File on this file, or -ExecutionPolicy Bypass as in the example).
    Next: preflight audit --inventory <OutFile> --host <host to drain> [--mode decommission]
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string]$Server,

    [string]$OutFile = 'vsphere-powercli.json',

    [string[]]$Cluster,

    [System.Management.Automation.PSCredential]$Credential
)

$ErrorActionPreference = 'Stop'
Import-Module VMware.VimAutomation.Core

$opened = $null
$connection = $global:DefaultVIServers | Where-Object { $_.Name -eq $Server -and $_.IsConnected }
if (-not $connection) {
    if ($Credential) {
        $opened = Connect-VIServer -Server $Server -Credential $Credential
    }
    else {
        $opened = Connect-VIServer -Server $Server
    }
    $connection = $opened
}

try {
    if ($Cluster) {
        $clusters = @(Get-Cluster -Server $connection -Name $Cluster)
        $hosts = @($clusters | Get-VMHost)
        $vms = @($clusters | Get-VM)
    }
    else {
        $clusters = @(Get-Cluster -Server $connection)
        $hosts = @(Get-VMHost -Server $connection)
        $vms = @(Get-VM -Server $connection)
    }

    # Lookups made once, not per VM.
    $clusterByName = @{}
    foreach ($c in $clusters) { $clusterByName[$c.Name] = $c }
    $datastoreShared = @{}
    foreach ($d in Get-Datastore -Server $connection) {
        # A datastore more than one host mounts is shared: a vMotion keeps its files.
        $datastoreShared[$d.Name] = @($d.ExtensionData.Host).Count -gt 1
    }
    $networkName = @{}
    foreach ($n in Get-View -Server $connection -ViewType Network -Property Name) {
        $networkName[$n.MoRef.ToString()] = $n.Name
    }
    $antiOf = @{}
    $affineOf = @{}
    $allowedOf = @{}
    foreach ($c in $clusters) {
        foreach ($rule in @(Get-DrsRule -Cluster $c | Where-Object { $_.Enabled })) {
            $into = if ("$($rule.Type)" -eq 'VMAntiAffinity') { $antiOf } else { $affineOf }
            foreach ($id in $rule.VMIds) {
                if (-not $into.ContainsKey($id)) { $into[$id] = @() }
                $into[$id] += $rule.Name
            }
        }
        # VM-Host must rules: the VM group's members may run only on the host group's.
        foreach ($rule in @(Get-DrsVMHostRule -Cluster $c -Type MustRunOn | Where-Object { $_.Enabled })) {
            $members = @($rule.VMHostGroup.Member | ForEach-Object { $_.Name })
            foreach ($v in @($rule.VMGroup.Member)) {
                if ($allowedOf.ContainsKey($v.Id)) {
                    # Two must rules: only the hosts both allow.
                    $allowedOf[$v.Id] = @($allowedOf[$v.Id] | Where-Object { $members -contains $_ })
                }
                else {
                    $allowedOf[$v.Id] = $members
                }
            }
        }
    }

    # Whether a datastore path's ("[ds] dir/file") datastore is shared; $null when unknown.
    # "[] /usr/lib/vmware/isoimages/..." is a file of the host itself.
    function Get-Shared([string]$Path) {
        if ($Path -match '^\[([^\]]*)\]') {
            if ($Matches[1] -eq '') { return $false }
            if ($datastoreShared.ContainsKey($Matches[1])) { return $datastoreShared[$Matches[1]] }
        }
        return $null
    }

    function Get-SnapshotCount($List) {
        $n = 0
        foreach ($s in @($List)) {
            if ($null -ne $s) { $n += 1 + (Get-SnapshotCount $s.ChildSnapshotList) }
        }
        return $n
    }

    $hostName = @{}
    foreach ($h in $hosts) { $hostName[$h.ExtensionData.MoRef.ToString()] = $h.Name }

    $vmRecords = foreach ($vm in $vms) {
        $parent = $vm.VMHost.Parent
        $inCluster = $clusterByName.ContainsKey("$($parent.Name)")
        $devices = @($vm.ExtensionData.Config.Hardware.Device)
        $disks = @($devices | Where-Object { $_ -is [VMware.Vim.VirtualDisk] } | ForEach-Object {
                $file = "$($_.Backing.FileName)"
                [pscustomobject][ordered]@{ Path = $file; SizeMB = [long][math]::Ceiling($_.CapacityInKB / 1024); Shared = Get-Shared $file }
            })
        # Connected CD/DVD drives: an ISO is as shared as its datastore; a host's drive or a
        # client's device never is.
        $media = @($devices | Where-Object { $_ -is [VMware.Vim.VirtualCdrom] -and $_.Connectable.Connected } | ForEach-Object {
                if ($_.Backing -is [VMware.Vim.VirtualCdromIsoBackingInfo]) {
                    [pscustomobject][ordered]@{ Path = "$($_.Backing.FileName)"; Shared = Get-Shared "$($_.Backing.FileName)" }
                }
                elseif ($_.Backing -is [VMware.Vim.VirtualCdromAtapiBackingInfo] -or $_.Backing -is [VMware.Vim.VirtualCdromPassthroughBackingInfo]) {
                    [pscustomobject][ordered]@{ Path = "host:$($_.Backing.DeviceName)"; Shared = $false }
                }
                else {
                    [pscustomobject][ordered]@{ Path = "client:$($_.DeviceInfo.Label)"; Shared = $false }
                }
            })
        $passthrough = @($devices | ForEach-Object {
                if ($_ -is [VMware.Vim.VirtualUSB]) { "usb:$($_.DeviceInfo.Label)" }
                elseif ($_ -is [VMware.Vim.VirtualPCIPassthrough]) { "pci:$($_.DeviceInfo.Summary)" }
            })
        $attributes = [ordered]@{}
        foreach ($kv in @($vm.CustomFields)) {
            if ("$($kv.Value)" -ne '') { $attributes["$($kv.Key)"] = "$($kv.Value)" }
        }
        if ($vm.ExtensionData.Config.GuestFullName) { $attributes['os'] = $vm.ExtensionData.Config.GuestFullName }
        [pscustomobject][ordered]@{
            Name                      = $vm.Name
            Id                        = $vm.Id
            PowerState                = "$($vm.PowerState)"
            NumCpu                    = $vm.NumCpu
            MemoryMB                  = [long]$vm.MemoryMB
            VMHost                    = $vm.VMHost.Name
            Cluster                   = if ($inCluster) { $parent.Name } else { $null }
            DrsAutomationLevel        = "$($vm.DrsAutomationLevel)"
            HARestartPriority         = "$($vm.HARestartPriority)"
            ClusterDrsEnabled         = if ($inCluster) { [bool]$parent.DrsEnabled } else { $false }
            ClusterDrsAutomationLevel = if ($inCluster) { "$($parent.DrsAutomationLevel)" } else { $null }
            ClusterHAEnabled          = if ($inCluster) { [bool]$parent.HAEnabled } else { $false }
            CpuCompat                 = if ($inCluster) { "$($parent.EVCMode)" -ne '' } else { $null }
            Disks                     = $disks
            Media                     = $media
            Passthrough               = $passthrough
            Networks                  = @($vm.ExtensionData.Network | ForEach-Object { $networkName[$_.ToString()] })
            Checkpoints               = Get-SnapshotCount $vm.ExtensionData.Snapshot.RootSnapshotList
            AntiAffinity              = @($antiOf[$vm.Id])
            Affinity                  = @($affineOf[$vm.Id])
            AllowedHosts              = @($allowedOf[$vm.Id])
            Attributes                = [pscustomobject]$attributes
            Template                  = $false
        }
    }

    # Templates never run, but they are stored on a host and lost with it when it is retired.
    $templates = if ($Cluster) { @($clusters | Get-Template) } else { @(Get-Template -Server $connection) }
    $templateRecords = foreach ($t in $templates) {
        $on = $hostName[$t.ExtensionData.Runtime.Host.ToString()]
        [pscustomobject][ordered]@{
            Name       = $t.Name
            Id         = $t.Id
            PowerState = 'PoweredOff'
            NumCpu     = $t.ExtensionData.Config.Hardware.NumCPU
            MemoryMB   = [long]$t.ExtensionData.Config.Hardware.MemoryMB
            VMHost     = $on
            Template   = $true
        }
    }

    $hostRecords = foreach ($h in $hosts) {
        [pscustomobject][ordered]@{
            Name            = $h.Name
            ConnectionState = "$($h.ConnectionState)"
            MemoryTotalMB   = [long][math]::Floor($h.MemoryTotalMB)
            NumCpu          = $h.NumCpu
            ProcessorType   = $h.ProcessorType
            Cluster         = if ($clusterByName.ContainsKey("$($h.Parent.Name)")) { $h.Parent.Name } else { $null }
            Networks        = @(Get-VirtualPortGroup -VMHost $h | ForEach-Object { $_.Name } | Sort-Object -Unique)
        }
    }

    $clusterRecords = foreach ($c in $clusters) {
        [pscustomobject][ordered]@{
            Name               = $c.Name
            HAEnabled          = [bool]$c.HAEnabled
            DrsEnabled         = [bool]$c.DrsEnabled
            DrsAutomationLevel = "$($c.DrsAutomationLevel)"
        }
    }

    $document = [pscustomobject][ordered]@{
        Source      = 'preflight examples/collect/powercli.ps1'
        CollectedAt = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
        VMs         = @($vmRecords) + @($templateRecords)
        VMHosts     = @($hostRecords)
        Clusters    = @($clusterRecords)
    }
    # Depth 6 holds the document (object, list, record, list of disks, disk, value) with room
    # to spare; UTF-8 whatever the edition (5.1's `>` would write UTF-16).
    $json = ConvertTo-Json -InputObject $document -Depth 6
    $path = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
    [System.IO.File]::WriteAllText($path, $json, (New-Object System.Text.UTF8Encoding $false))
    Write-Host "wrote $OutFile ($($vmRecords.Count) VMs, $($hostRecords.Count) hosts, $($clusterRecords.Count) clusters)"
    Write-Host "next: preflight audit --inventory $OutFile --host <host to drain>"
}
finally {
    if ($opened) {
        Disconnect-VIServer -Server $opened -Confirm:$false
    }
}
