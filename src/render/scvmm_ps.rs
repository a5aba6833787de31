//! The `scvmm-ps` target: VMM cmdlets (VirtualMachineManager module).
//!
//! VMM jobs are started with `-RunAsynchronously -JobVariable` and then waited for, so a job
//! that fails or is cancelled stops the run with VMM's own error text instead of leaving the
//! next step to run against a half-moved VM. `Disable-SCVMHost -MoveWithinCluster` live-migrates
//! the HA VMs; `Enable-SCVMHost` does not move anything back, so the plan's post steps do: a VM the drain
//! moved is looked up where it is now (`Move-PlanVMBack`), one the plan moved where the plan put it.

use super::powershell::{self, HOW_TO_RUN_COMMON, call, state_name};
use super::{Dialect, Item};
use crate::plan::Plan;

pub struct Scvmm;

const HELPERS: &str = r#"
# Waits for a VMM job started with -RunAsynchronously; a job that does not complete stops the run.
function Wait-PlanJob {
    param($Job, [string]$Step)
    if ($null -eq $Job) { Stop-Plan $Step 'VMM returned no job to wait for' }
    while ([string]$Job.Status -eq 'Running' -or [string]$Job.Status -eq 'NotStarted') {
        Start-Sleep -Seconds 5
        $Job = Get-SCJob -ID $Job.ID
    }
    if ([string]$Job.Status -ne 'Completed' -and [string]$Job.Status -ne 'SucceedWithInfo') {
        Stop-Plan $Step ('VMM job ' + $Job.ID + ' ended ' + $Job.Status + ': ' + $Job.ErrorInfo)
    }
}

# The one VMM host the plan names, or a stop.
function Get-PlanHost {
    param([string]$Step, [string]$Name)
    $found = @(Get-SCVMHost | Where-Object { Test-PlanHost ([string]$_.Name) $Name })
    if ($found.Count -ne 1) { Stop-Plan $Step ('host ' + $Name + ' matches ' + $found.Count + ' VMM hosts, not one') }
    return $found[0]
}

# The guard: the VM the step names (by id when the plan has one, else by exact name) must be on
# $OnHost (on any host with -Anywhere) and, when $Expect is set, in that state. Returns $null
# when it is already on $OrOn (a re-run after a partial run), and stops the run otherwise.
function Get-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [switch]$Anywhere, [string]$Expect, [string]$OrOn)
    $found = @(Get-SCVirtualMachine -All | Where-Object {
        if ($Id) { ([string]$_.ID -eq $Id) -or ([string]$_.VMId -eq $Id) } else { $_.Name -ceq $Name }
    })
    if ($found.Count -eq 0) { Stop-Plan $Step ('VM ' + $Name + ' is gone; the plan no longer fits') }
    if ($found.Count -gt 1) { Stop-Plan $Step ('VM name ' + $Name + ' is not unique; the plan needs VM ids') }
    $vm = $found[0]
    $now = [string]$vm.HostName
    if ($OrOn -and (Test-PlanHost $now $OrOn)) { return $null }
    if ((-not $Anywhere) -and (-not (Test-PlanHost $now $OnHost))) {
        Stop-Plan $Step ('VM ' + $Name + ' is on ' + $now + ', not on ' + $OnHost + '; the plan no longer fits')
    }
    if ($Expect -and ([string]$vm.Status -ne $Expect)) {
        Stop-Plan $Step ('VM ' + $Name + ' is ' + $vm.Status + ', the plan expects ' + $Expect)
    }
    return $vm
}

# Moves the VM object $VM (already guarded) to host $To and waits for VMM's job; with $Storage
# (the plan's words for it), its files move too, into -DestinationStoragePath on $To.
function Move-PlanVMTo {
    param([string]$Step, $VM, [string]$Name, [string]$To, [string]$Storage)
    $target = Get-PlanHost $Step $To
    if ($Storage) {
        # Its files are on the source host's own storage and move with it: VMM needs a folder.
        if ($VM.IsHighlyAvailable) {
            Stop-Plan $Step ('VM ' + $Name + ' is highly available, but the plan says it ' + $Storage + '; the plan no longer fits')
        }
        if (-not $DestinationStoragePath) {
            Stop-Plan $Step ('VM ' + $Name + ' ' + $Storage + ': run again with -DestinationStoragePath <folder on the destination>')
        }
        Write-PlanNote $Step ('moving VM ' + $Name + ' from ' + $VM.HostName + ' to ' + $target.Name + '; it ' + $Storage)
        $path = Join-Path $DestinationStoragePath ([string]$VM.ID)
        Move-SCVirtualMachine -VM $VM -VMHost $target -Path $path -RunAsynchronously -JobVariable 'PlanJob' | Out-Null
    } else {
        Write-PlanNote $Step ('moving VM ' + $Name + ' from ' + $VM.HostName + ' to ' + $target.Name)
        Move-SCVirtualMachine -VM $VM -VMHost $target -RunAsynchronously -JobVariable 'PlanJob' | Out-Null
    }
    Wait-PlanJob -Job $PlanJob -Step $Step
}

function Move-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$From, [string]$To, [string]$Expect, [string]$Storage)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $From -Expect $Expect -OrOn $To
    if ($null -eq $vm) { Write-PlanNote $Step ('VM ' + $Name + ' is already on ' + $To + '; skipped'); return }
    Move-PlanVMTo -Step $Step -VM $vm -Name $Name -To $To -Storage $Storage
}

# The move back of a VM the drain moved: Disable-SCVMHost chose its host, so VMM is asked where
# it is now (Get-SCVirtualMachine, by id or exact name) and it moves from there.
function Move-PlanVMBack {
    param([string]$Step, [string]$Name, [string]$Id, [string]$To, [string]$Expect, [string]$Storage)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -Anywhere -Expect $Expect -OrOn $To
    if ($null -eq $vm) { Write-PlanNote $Step ('VM ' + $Name + ' is already on ' + $To + '; skipped'); return }
    Move-PlanVMTo -Step $Step -VM $vm -Name $Name -To $To -Storage $Storage
}

function Stop-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [string]$Expect)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $OnHost -Expect $Expect -OrOn ''
    Write-PlanNote $Step ('shutting down VM ' + $Name)
    Stop-SCVirtualMachine -VM $vm -Shutdown -RunAsynchronously -JobVariable 'PlanJob' | Out-Null
    Wait-PlanJob -Job $PlanJob -Step $Step
}

function Start-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [string]$Expect)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $OnHost -Expect $Expect -OrOn ''
    Write-PlanNote $Step ('starting VM ' + $Name)
    Start-SCVirtualMachine -VM $vm -RunAsynchronously -JobVariable 'PlanJob' | Out-Null
    Wait-PlanJob -Job $PlanJob -Step $Step
}

# Live-migrates the host's running HA VMs within the cluster, then puts it in maintenance mode.
function Enter-PlanMaintenance {
    param([string]$Step, [string]$Node)
    $h = Get-PlanHost $Step $Node
    Write-PlanNote $Step ('host ' + $h.Name + ' enters maintenance mode')
    Disable-SCVMHost -VMHost $h -MoveWithinCluster -RunAsynchronously -JobVariable 'PlanJob' | Out-Null
    Wait-PlanJob -Job $PlanJob -Step $Step
}

# Returns the host to service. VMM moves nothing back; the plan's post steps do that.
function Exit-PlanMaintenance {
    param([string]$Step, [string]$Node)
    $h = Get-PlanHost $Step $Node
    Write-PlanNote $Step ('host ' + $h.Name + ' leaves maintenance mode')
    Enable-SCVMHost -VMHost $h | Out-Null
}
"#;

impl Dialect for Scvmm {
    fn prelude(&self, _plan: &Plan, storage: bool) -> String {
        let params = powershell::storage_path_param(storage);
        let mut s = powershell::prelude(&params, "VirtualMachineManager");
        s.push_str(HELPERS);
        s
    }

    fn how_to_run(&self) -> Vec<&'static str> {
        vec![
            HOW_TO_RUN_COMMON,
            "Run it where the VMM console is installed, as a VMM administrator:",
            "  powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\plan.ps1 [-DestinationStoragePath D:\\VMs]",
        ]
    }

    fn step(&self, item: &Item<'_>) -> String {
        powershell::step_call(item, vmm_state, |step, host, _| {
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

/// `VMComputerSystemState` names: PowerOff, Saved, Running, Paused.
fn vmm_state(s: Option<crate::model::VmState>) -> &'static str {
    state_name(s, "Saved", "PowerOff")
}
