//! The `hyperv-ps` target: FailoverClusters and Hyper-V cmdlets.
//!
//! A clustered VM is a cluster role, so the cluster moves it (`Move-ClusterVirtualMachineRole`,
//! live when it runs). A VM the plan moves with its storage (a disk on the node's own storage,
//! which the cluster knows nothing about) moves with `Move-VM -IncludeStorage`, into a folder
//! the operator must pass as `-DestinationStoragePath` (the script does not run without it)
//! because the plan cannot know the destination's disks; a clustered VM there stops the run. A
//! VM that is neither moves with `Move-VM` alone (files on a share both nodes reach).
//!
//! `Suspend-ClusterNode -Drain -Wait` moves the roles off; `Resume-ClusterNode -Failback
//! Immediate` lets the cluster bring them back. Failback returns only what the drain moved, so
//! the plan's move-backs of VMs it moved itself before the drain do not conflict with it. Only
//! when the plan moves the drained VMs back itself (an SCVMM plan run through these modules,
//! where `Move-PlanVMBack` asks the cluster's nodes where each VM is now) does the node resume
//! with `NoFailback`, so that the two do not fight over the same VMs.

use super::powershell::{self, HOW_TO_RUN_COMMON, call, state_name};
use super::{Dialect, Item};
use crate::plan::Plan;

pub struct Hyperv;

const HELPERS: &str = r#"
# The VM on $OnHost the step names: by id (VMId) when the plan has one, else by exact name.
# Get-VM -Name takes wildcards, so the node's VMs are filtered here instead.
function Find-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost)
    $found = @(Get-VM -ComputerName $OnHost | Where-Object {
        if ($Id) { [string]$_.VMId -eq $Id } else { $_.Name -ceq $Name }
    })
    if ($found.Count -gt 1) { Stop-Plan $Step ('VM name ' + $Name + ' is not unique on ' + $OnHost + '; the plan needs VM ids') }
    if ($found.Count -eq 0) { return $null }
    return $found[0]
}

# The guard: the VM must be on $OnHost and, when $Expect is set, in that state. Returns $null
# when it is already on $OrOn (a re-run after a partial run), and stops the run otherwise.
function Get-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [string]$Expect, [string]$OrOn)
    $vm = Find-PlanVM $Step $Name $Id $OnHost
    if ($null -eq $vm) {
        if ($OrOn -and ($null -ne (Find-PlanVM $Step $Name $Id $OrOn))) { return $null }
        Stop-Plan $Step ('VM ' + $Name + ' is not on ' + $OnHost + '; the plan no longer fits')
    }
    if ($Expect -and ([string]$vm.State -ne $Expect)) {
        Stop-Plan $Step ('VM ' + $Name + ' is ' + $vm.State + ', the plan expects ' + $Expect)
    }
    return $vm
}

# The one cluster node the plan names, or a stop.
function Get-PlanNode {
    param([string]$Step, [string]$Name)
    $found = @(Get-ClusterNode | Where-Object { Test-PlanHost ([string]$_.Name) $Name })
    if ($found.Count -ne 1) { Stop-Plan $Step ('node ' + $Name + ' matches ' + $found.Count + ' cluster nodes, not one') }
    return $found[0]
}

function Move-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$From, [string]$To, [string]$Expect, [string]$Storage)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $From -Expect $Expect -OrOn $To
    if ($null -eq $vm) { Write-PlanNote $Step ('VM ' + $Name + ' is already on ' + $To + '; skipped'); return }
    $node = Get-PlanNode $Step $To
    if ($Storage) {
        # Its disks are on the source node's own storage, which the cluster knows nothing about.
        if ($vm.IsClustered) {
            Stop-Plan $Step ('VM ' + $vm.Name + ' is a cluster role, but the plan says it ' + $Storage + '; the plan no longer fits')
        }
        if (-not $DestinationStoragePath) {
            Stop-Plan $Step ('VM ' + $vm.Name + ' ' + $Storage + ': run again with -DestinationStoragePath <folder on ' + $To + '>')
        }
        Write-PlanNote $Step ('moving VM ' + $vm.Name + ' from ' + $From + ' to ' + $node.Name + '; it ' + $Storage)
        # The VM object (not -Name, which takes wildcards) names exactly this VM on $From.
        $path = Join-Path $DestinationStoragePath ([string]$vm.VMId)
        Move-VM -VM $vm -DestinationHost $node.Name -IncludeStorage -DestinationStoragePath $path | Out-Null
    } elseif ($vm.IsClustered) {
        Write-PlanNote $Step ('moving VM ' + $vm.Name + ' from ' + $From + ' to ' + $node.Name)
        $role = @(Get-ClusterGroup | Where-Object { $_.Name -ceq $vm.Name })
        if ($role.Count -ne 1) { Stop-Plan $Step ('no single cluster role is named ' + $vm.Name) }
        if (-not (Test-PlanHost ([string]$role[0].OwnerNode.Name) $From)) {
            Stop-Plan $Step ('the role ' + $vm.Name + ' is owned by ' + $role[0].OwnerNode.Name + ', not ' + $From)
        }
        # Live only moves a running VM; an offline role moves as it is.
        $how = if ([string]$vm.State -eq 'Running') { 'Live' } else { 'Quick' }
        Move-ClusterVirtualMachineRole -Name $role[0].Name -Node $node.Name -MigrationType $how | Out-Null
    } else {
        # Not clustered, and the plan knows of no disk on the node's own storage: its files
        # are on a share both nodes reach. If they are not, Move-VM refuses and the run stops.
        Write-PlanNote $Step ('moving VM ' + $vm.Name + ' from ' + $From + ' to ' + $node.Name)
        Move-VM -VM $vm -DestinationHost $node.Name | Out-Null
    }
    if ($null -eq (Find-PlanVM $Step $Name $Id $To)) { Stop-Plan $Step ('VM ' + $Name + ' did not arrive on ' + $To) }
}

# The move back of a VM the drain moved: the cluster chose its node, so every node that is up
# (or paused) is asked for the VM (by id, else exact name); it must be on exactly one, and it
# then moves from there with the same guards as any other move.
function Move-PlanVMBack {
    param([string]$Step, [string]$Name, [string]$Id, [string]$To, [string]$Expect, [string]$Storage)
    $nodes = @(Get-ClusterNode | Where-Object { ([string]$_.State -eq 'Up') -or ([string]$_.State -eq 'Paused') })
    $at = @($nodes | Where-Object { $null -ne (Find-PlanVM $Step $Name $Id ([string]$_.Name)) })
    if ($at.Count -ne 1) { Stop-Plan $Step ('VM ' + $Name + ' is on ' + $at.Count + ' cluster nodes, not one') }
    $from = [string]$at[0].Name
    if (Test-PlanHost $from $To) { Write-PlanNote $Step ('VM ' + $Name + ' is already on ' + $To + '; skipped'); return }
    Move-PlanVM -Step $Step -Name $Name -Id $Id -From $from -To $To -Expect $Expect -Storage $Storage
}

function Stop-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [string]$Expect)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $OnHost -Expect $Expect -OrOn ''
    Write-PlanNote $Step ('shutting down VM ' + $vm.Name)
    Stop-VM -VM $vm | Out-Null
}

function Start-PlanVM {
    param([string]$Step, [string]$Name, [string]$Id, [string]$OnHost, [string]$Expect)
    $vm = Get-PlanVM -Step $Step -Name $Name -Id $Id -OnHost $OnHost -Expect $Expect -OrOn ''
    Write-PlanNote $Step ('starting VM ' + $vm.Name)
    Start-VM -VM $vm | Out-Null
}

# Pauses the node and drains its roles; a drain that does not complete stops the run.
function Enter-PlanMaintenance {
    param([string]$Step, [string]$Node)
    $n = Get-PlanNode $Step $Node
    Write-PlanNote $Step ('draining node ' + $n.Name)
    Suspend-ClusterNode -Name $n.Name -Drain -Wait | Out-Null
    $n = Get-ClusterNode -Name $n.Name
    if (([string]$n.State -ne 'Paused') -or ([string]$n.DrainStatus -ne 'Completed')) {
        Stop-Plan $Step ('node ' + $n.Name + ' did not drain: state ' + $n.State + ', drain ' + $n.DrainStatus)
    }
}

function Exit-PlanMaintenance {
    param([string]$Step, [string]$Node, [string]$Failback)
    $n = Get-PlanNode $Step $Node
    Write-PlanNote $Step ('resuming node ' + $n.Name + ' (failback ' + $Failback + ')')
    Resume-ClusterNode -Name $n.Name -Failback $Failback | Out-Null
}
"#;

impl Dialect for Hyperv {
    fn prelude(&self, _plan: &Plan, storage: bool) -> String {
        let params = powershell::storage_path_param(storage);
        let mut s = powershell::prelude(&params, "FailoverClusters, Hyper-V");
        s.push_str(HELPERS);
        s
    }

    fn how_to_run(&self) -> Vec<&'static str> {
        vec![
            HOW_TO_RUN_COMMON,
            "Run it on a node of the cluster (or a machine with RSAT), as a cluster and Hyper-V administrator:",
            "  powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\plan.ps1 [-DestinationStoragePath D:\\VMs]",
        ]
    }

    fn step(&self, item: &Item<'_>) -> String {
        powershell::step_call(item, hyperv_state, |step, host, failback| {
            let (mode, why) = if failback {
                (
                    "Immediate",
                    "# The cluster fails back the roles its drain moved off this node.\n",
                )
            } else {
                (
                    "NoFailback",
                    "# The plan moves the drained VMs back itself (post steps), so the cluster must not.\n",
                )
            };
            let mut s = why.to_string();
            s.push_str(&call(
                "Exit-PlanMaintenance",
                &[("Step", step), ("Node", host), ("Failback", mode)],
            ));
            s
        })
    }

    fn pause(&self) -> String {
        powershell::pause()
    }

    fn epilogue(&self) -> String {
        powershell::epilogue()
    }
}

/// `VMState` names: Running, Off, Saved, Paused.
fn hyperv_state(s: Option<crate::model::VmState>) -> &'static str {
    state_name(s, "Saved", "Off")
}
