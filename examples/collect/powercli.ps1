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
    maintenance. The VM's datastores, networks, CD/ISO, USB devices, the cluster's EVC mode and
    the DRS rules naming it are exported too, as evidence for the migration checks.

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
    $datastoreName = @{}
    foreach ($d in Get-Datastore -Server $connection) { $datastoreName[$d.Id] = $d.Name }
    $networkName = @{}
    foreach ($n in Get-View -Server $connection -ViewType Network -Property Name) {
        $networkName[$n.MoRef.ToString()] = $n.Name
    }
    $rulesOf = @{}
    foreach ($c in $clusters) {
        foreach ($rule in Get-DrsRule -Cluster $c) {
            foreach ($id in $rule.VMIds) {
                if (-not $rulesOf.ContainsKey($id)) { $rulesOf[$id] = @() }
                $rulesOf[$id] += "$($rule.Type): $($rule.Name)"
            }
        }
    }
    $hostName = @{}
    foreach ($h in $hosts) { $hostName[$h.ExtensionData.MoRef.ToString()] = $h.Name }

    $vmRecords = foreach ($vm in $vms) {
        $parent = $vm.VMHost.Parent
        $inCluster = $clusterByName.ContainsKey("$($parent.Name)")
        $devices = @($vm.ExtensionData.Config.Hardware.Device)
        $cds = @($devices | Where-Object { $_ -is [VMware.Vim.VirtualCdrom] })
        $connectedCds = @($cds | Where-Object { $_.Connectable.Connected })
        $isoPaths = @($cds | Where-Object { $_.Backing -is [VMware.Vim.VirtualCdromIsoBackingInfo] } |
                ForEach-Object { $_.Backing.FileName })
        $usb = @($devices | Where-Object { $_ -is [VMware.Vim.VirtualUSB] } |
                ForEach-Object { $_.DeviceInfo.Label })
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
            EvcMode                   = if ($inCluster) { "$($parent.EVCMode)" } else { $null }
            Datastores                = (@($vm.DatastoreIdList | ForEach-Object { $datastoreName[$_] }) -join '; ')
            Networks                  = (@($vm.ExtensionData.Network | ForEach-Object { $networkName[$_.ToString()] }) -join '; ')
            CdConnected               = (@($connectedCds | ForEach-Object { $_.DeviceInfo.Label }) -join '; ')
            CdIsoPath                 = ($isoPaths -join '; ')
            UsbDevices                = ($usb -join '; ')
            DrsRules                  = (@($rulesOf[$vm.Id]) -join '; ')
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
    # Depth 4 holds the document (object, list, record, value) with room to spare; UTF-8
    # whatever the edition (5.1's `>` would write UTF-16).
    $json = ConvertTo-Json -InputObject $document -Depth 4
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
