//! The `powercli` target: VMware PowerCLI (VMware.VimAutomation.Core) against a vCenter the
//! operator has connected to with `Connect-VIServer` in the same session.
//!
//! `Move-VM -Destination` live-migrates (vMotion) a running VM and relocates a powered-off one.
//! `Set-VMHost -State Maintenance` enters maintenance mode: the task waits until DRS has
//! migrated every running VM (or it times out), and the plan has already moved the VMs DRS
//! will not move. It runs without `-Evacuate`: the plan leaves powered-off VMs where they are
//! (they do not keep a host from entering maintenance), and with it vCenter would re-register
//! them on hosts the plan did not choose. `Set-VMHost -State Connected` leaves maintenance;
//! vSphere moves nothing back (DRS keeps no memory of placement), so the plan's post steps do:
//! a VM the drain moved is looked up wherever it is (`Move-PlanVMBack`).
//!
//! `Get-VM -Name` and `Get-VMHost -Name` take wildcards, so every lookup lists the objects and
//! compares names (or ids) here; a VM must be found exactly once.

use super::powershell::{self, HOW_TO_RUN_COMMON, call};
use super::{Dialect, Item};
use crate::model::VmState;
use crate::plan::Plan;

pub struct PowerCli;

const HELPERS: &str = r#"
# PowerCLI acts on the vCenter servers of this session: without one there is nothing to check.
$viServers = Get-Variable -Name DefaultVIServers -Scope Global -ValueOnly -ErrorAction SilentlyContinue
if (@($viServers | Where-Object { $null -ne $_ }).Count -eq 0) {
    throw 'preflight: not connected to vCenter: run Connect-VIServer <vcenter> in this session first'
}

# The one host the plan names, or a stop.
function Get-PlanHost {
    param([string]$Step, [string]$Name)
    $found = @(Get-VMHost | Where-Object { Test-PlanHost ([string]$_.Name) $Name })
    if ($found.Count -ne 1) { Stop-Plan $Step ('host ' + $Name + ' matches ' + $found.Count + ' vCenter hosts, not one') }
    return $found[0]
}

# Every id a VM answers to: its PowerCLI id (VirtualMachine-vm-N), its MoRef (vm-N), its
# instance UUID (PersistentId; RVTools' VM UUID) and its BIOS UUID.
function Get-PlanVMIds {
    param($VM)
    $ids = @([string]$VM.Id, [string]$VM.PersistentId)
    $view = $VM.ExtensionData
    if ($null -ne $view) {
        $ids += [string]$view.MoRef.Value
        if ($null -ne $view.Config) { $ids += [string]$view.Config.Uuid }
    }
    return $ids
}

# The guard: the VM the step names (by id when the plan has one, else by exact name) must exist
# once, be on $OnHost (on any host with -Anywhere) and, when $Expect is set, in that power
# state. Returns $null when it is already on $OrOn (a re-run after a partial run).
function Get-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [switch]$Anywhere, [string]$Expect, [string]$OrOn)
    $found = @(Get-VM | Where-Object {
        if ($Id) { (Get-PlanVMIds $_) -contains $Id } else { $_.Name -ceq $Name }
    })
    if ($found.Count -eq 0) { Stop-Plan $Step ('VM ' + $Name + ' is gone; the plan no longer fits') }
    if ($found.Count -gt 1) { Stop-Plan $Step ('VM name ' + $Name + ' is not unique; the plan needs VM ids') }
    $vm = $found[0]
    $now = [string]$vm.VMHost.Name
    if ($OrOn -and (Test-PlanHost $now $OrOn)) { return $null }
    if ((-not $Anywhere) -and (-not (Test-PlanHost $now $OnHost))) {
        Stop-Plan $Step ('VM ' + $Name + ' is on ' + $now + ', not on ' + $OnHost + '; the plan no longer fits')
    }
    if ($Expect -and ([string]$vm.PowerState -ne $Expect)) {
        Stop-Plan $Step ('VM ' + $Name + ' is ' + $vm.PowerState + ', the plan expects ' + $Expect)
    }
    return $vm
}

# Moves the VM object $VM (already guarded) to host $To, then checks that it arrived. With
# $Storage (the plan's words for it) its files move too (vMotion with Storage vMotion), to the
# datastore -DestinationDatastore names, which $To must see. Get-Datastore -Name takes
# wildcards, so the host's datastores are listed and compared by exact name.
function Move-PlanVMTo {
    param([string]$Step, $VM, [string]$Name, [string]$To, [string]$Storage)
    $target = Get-PlanHost $Step $To
    if ($Storage) {
        if (-not $DestinationDatastore) {
            Stop-Plan $Step ('VM ' + $Name + ' ' + $Storage + ': run again with -DestinationDatastore <datastore of ' + $To + '>')
        }
        $ds = @(Get-Datastore -RelatedObject $target -ErrorAction Stop | Where-Object { $_.Name -ceq $DestinationDatastore })
        if ($ds.Count -ne 1) {
            Stop-Plan $Step ('host ' + $target.Name + ' sees ' + $ds.Count + ' datastores named ' + $DestinationDatastore + ', not one')
        }
        Write-PlanNote $Step ('moving VM ' + $Name + ' from ' + $VM.VMHost.Name + ' to ' + $target.Name + ' and datastore ' + $ds[0].Name + '; it ' + $Storage)
        Move-VM -VM $VM -Destination $target -Datastore $ds[0] -Confirm:$false -ErrorAction Stop | Out-Null
    } else {
        Write-PlanNote $Step ('moving VM ' + $Name + ' from ' + $VM.VMHost.Name + ' to ' + $target.Name)
        Move-VM -VM $VM -Destination $target -Confirm:$false -ErrorAction Stop | Out-Null
    }
    $after = Get-VM -Id $VM.Id -ErrorAction Stop
    if (-not (Test-PlanHost ([string]$after.VMHost.Name) $To)) {
        Stop-Plan $Step ('VM ' + $Name + ' did not arrive on ' + $To + '; it is on ' + $after.VMHost.Name)
    }
}

function Move-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$From, [string]$To, [string]$Expect, [string]$Storage)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $From -Expect $Expect -OrOn $To
    if ($null -eq $vm) { Write-PlanNote $Step ('VM ' + $Name + ' is already on ' + $To + '; skipped'); return }
    Move-PlanVMTo -Step $Step -VM $vm -Name $Name -To $To -Storage $Storage
}

# The move back of a VM the drain moved: DRS chose its host, so vCenter is asked where it is
# now (by id or exact name) and it moves from there.
function Move-PlanVMBack {
    param([string]$Step, [string]$Name, [string]$Id, [string]$To, [string]$Expect, [string]$Storage)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -Anywhere -Expect $Expect -OrOn $To
    if ($null -eq $vm) { Write-PlanNote $Step ('VM ' + $Name + ' is already on ' + $To + '; skipped'); return }
    Move-PlanVMTo -Step $Step -VM $vm -Name $Name -To $To -Storage $Storage
}

# A guest OS shutdown (VMware Tools) returns at once: wait until the VM is off.
function Stop-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [string]$Expect)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $OnHost -Expect $Expect -OrOn ''
    Write-PlanNote $Step ('shutting down the guest of VM ' + $Name)
    Stop-VMGuest -VM $vm -Confirm:$false -ErrorAction Stop | Out-Null
    for ($i = 0; $i -lt 360; $i++) {
        if ([string](Get-VM -Id $vm.Id -ErrorAction Stop).PowerState -eq 'PoweredOff') { return }
        Start-Sleep -Seconds 5
    }
    Stop-Plan $Step ('VM ' + $Name + ' did not power off within 30 minutes')
}

function Start-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [string]$Expect)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $OnHost -Expect $Expect -OrOn ''
    Write-PlanNote $Step ('starting VM ' + $Name)
    Start-VM -VM $vm -Confirm:$false -ErrorAction Stop | Out-Null
}

# Enters maintenance mode; the task ends when DRS has migrated the running VMs. Powered-off VMs
# stay (no -Evacuate). A host that is not in maintenance afterwards stops the run.
function Enter-PlanMaintenance {
    param([string]$Step, [string]$Node)
    $h = Get-PlanHost $Step $Node
    Write-PlanNote $Step ('host ' + $h.Name + ' enters maintenance mode')
    Set-VMHost -VMHost $h -State Maintenance -Confirm:$false -ErrorAction Stop | Out-Null
    $state = [string](Get-VMHost -Id $h.Id -ErrorAction Stop).ConnectionState
    if ($state -ne 'Maintenance') { Stop-Plan $Step ('host ' + $h.Name + ' is ' + $state + ', not in maintenance') }
}

# Returns the host to service. vSphere moves nothing back; the plan's post steps do that.
function Exit-PlanMaintenance {
    param([string]$Step, [string]$Node)
    $h = Get-PlanHost $Step $Node
    Write-PlanNote $Step ('host ' + $h.Name + ' leaves maintenance mode')
    Set-VMHost -VMHost $h -State Connected -Confirm:$false -ErrorAction Stop | Out-Null
}
"#;

impl Dialect for PowerCli {
    fn prelude(&self, _plan: &Plan, storage: bool) -> String {
        let params = powershell::storage_param(
            "    # The datastore a VM that moves with its storage goes to (its disks are on the source\n    \
             # host's own datastore); the destination host must see it. Required when the plan\n    \
             # moves such a VM.\n",
            "DestinationDatastore",
            storage,
        );
        let mut s = powershell::prelude(&params, "VMware.VimAutomation.Core");
        s.push_str(HELPERS);
        s
    }

    fn how_to_run(&self) -> Vec<&'static str> {
        vec![
            HOW_TO_RUN_COMMON,
            "Run it in a PowerShell session with PowerCLI, connected to the vCenter as an administrator:",
            "  Connect-VIServer vcenter.example.com; & .\\plan.ps1 [-DestinationDatastore datastore2]",
        ]
    }

    fn step(&self, item: &Item<'_>) -> String {
        powershell::step_call(item, vsphere_state, |step, host, _| {
            call("Exit-PlanMaintenance", &[("Step", step), ("Node", host)])
        })
    }

    fn pause(&self) -> String {
        powershell::pause()
    }

    fn epilogue(&self) -> String {
        powershell::epilogue()
    }
}

/// PowerCLI's `PowerState` names: PoweredOn, PoweredOff, Suspended. vSphere has no paused VM.
fn vsphere_state(s: Option<VmState>) -> &'static str {
    match s {
        Some(VmState::Running) => "PoweredOn",
        Some(VmState::Off) => "PoweredOff",
        Some(VmState::Saved) => "Suspended",
        _ => "",
    }
}
