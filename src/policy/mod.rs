//! The policy language: checked rules and waivers, and how they load.
//!
//! Loading happens in two steps, as in cargo-deny: the TOML is parsed into a tree that keeps a
//! span on every value ([`toml::de::DeTable`]), then [`load`] walks it, validating every key and
//! collecting every problem of every file before giving up. Only a fully valid [`PolicySet`]
//! leaves this module.

mod builtin;
mod files;
mod kinds;
mod load;
mod rule;
mod template;
mod waiver;
mod walk;

pub use builtin::{BUILTIN_CASES, BUILTIN_FILES, builtin_sources};
pub use files::{BUILTIN_WORD, collect_sources};
pub use kinds::{DEFAULT_KIND, KINDS, KeyDoc, KindSpec, PlanRole, kind_named};
pub use load::load;
pub(crate) use load::syntax_errors;
pub use template::{PLACEHOLDERS, Template};
// Policy test case files are validated the same way (see `crate::policytest`).
pub(crate) use walk::{TableReader, array_items, type_error};

use crate::diag::SourceFile;
use crate::model::VmState;
use regex::Regex;
use serde::Serialize;
use std::fmt;
use std::ops::Range;

/// Every rule and waiver of the loaded files, valid and cross-checked.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub files: Vec<PolicyFile>,
    pub rules: Vec<Rule>,
    pub waivers: Vec<Waiver>,
    /// The strictest `max_inventory_age` of all files, with where it was set.
    pub max_inventory_age: Option<MaxAge>,
}

/// One loaded policy file.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    pub source: SourceFile,
    pub name: Option<String>,
    pub description: Option<String>,
    pub sha256: String,
}

/// Where a rule or waiver was written: file index into [`PolicySet::files`] and byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct MaxAge {
    pub limit: jiff::SignedDuration,
    pub text: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub severity: Severity,
    pub kind: RuleKind,
    pub phase: Phase,
    pub modes: Vec<Mode>,
    pub action: Action,
    pub message: Template,
    pub remediation: Option<String>,
    pub waivable: bool,
    pub origin: Origin,
    /// The span of the `id` value, for diagnostics about the id itself.
    pub id_span: Range<usize>,
}

impl Rule {
    pub fn applies_in(&self, mode: Mode) -> bool {
        self.modes.contains(&mode)
    }
}

// A policy holds a few rules: the size of the `vm` variant's conditions costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum RuleKind {
    Vm(VmWhen),
    Capacity {
        min_free_memory_pct: f64,
    },
    Placement {
        trust_platform_failback: bool,
    },
    Balance {
        metric: Metric,
        max_imbalance: f64,
    },
    /// The drain against the VMs' placement constraints (CONTRACT 7.2).
    Constraint {
        check: Check,
        /// The severity of the one finding that says no record of the inventory carries a
        /// fact the check needs.
        gap_severity: Severity,
    },
}

/// The `when` conditions of a `vm` rule; every given condition must hold.
#[derive(Debug, Clone, Default)]
pub struct VmWhen {
    pub state: Option<Vec<VmState>>,
    pub ha: Option<bool>,
    pub name: Option<Regex>,
    pub name_not: Option<Regex>,
    pub tags: Option<Vec<String>>,
    pub min_memory_mb: Option<u64>,
    pub max_memory_mb: Option<u64>,
    pub min_vcpus: Option<u32>,
    /// Whether the VM is a template. A rule whose `when` never names `template` does not apply
    /// to templates (they never run; only rules written for them judge them).
    pub template: Option<bool>,
    /// Holds when one of these holds.
    pub any: Option<Vec<VmWhen>>,
    /// Whether a disk or medium is not on shared storage.
    pub local_storage: Option<bool>,
    /// Whether a mounted medium (ISO, floppy, host drive) is not on shared storage.
    pub local_media: Option<bool>,
    /// Whether a medium is mounted.
    pub media_mounted: Option<bool>,
    /// Whether a device is passed through from the host.
    pub passthrough: Option<bool>,
    /// At least this many checkpoints.
    pub min_checkpoints: Option<u32>,
    /// Attributes that must be present and match (absent attribute: false, not unknown).
    pub attr: Option<Vec<(String, Regex)>>,
    /// Holds when this does not hold (unknown stays unknown).
    pub not: Option<Box<VmWhen>>,
    /// The rule's `gap_severity` (set on a rule's top-level `when` only): the severity of the
    /// one finding reporting a fact that no VM of the inventory carries; `None`: warning.
    pub gap_severity: Option<Severity>,
}

#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: String,
    pub vm: Option<Regex>,
    pub host: Option<Regex>,
    pub reason: String,
    pub owner: Option<String>,
    pub ticket: Option<String>,
    /// The last day the waiver applies (inclusive, UTC).
    pub expires: jiff::civil::Date,
    pub origin: Origin,
}

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $word:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            pub const WORDS: &'static [&'static str] = &[$($word,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word,)* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($word => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// How serious a finding is. Ordered so that `Error` is the greatest.
    Severity { Info => "info", Warning => "warning", Error => "error" }
);
word_enum!(
    /// When a rule is evaluated: by `audit` before maintenance, or by `restore` after it.
    Phase { Audit => "audit", Restore => "restore" }
);
word_enum!(
    /// What the maintenance is for.
    Mode { Patch => "patch", Decommission => "decommission" }
);
word_enum!(
    /// The plan step a matching rule asks for.
    Action { Migrate => "migrate", Shutdown => "shutdown", Notify => "notify", None => "none" }
);
word_enum!(
    /// What a `balance` rule measures per host.
    Metric { Memory => "memory", Vcpus => "vcpus", Vms => "vms" }
);
word_enum!(
    /// Which placement constraint a `constraint` rule checks.
    Check {
        AntiAffinity => "anti-affinity",
        Affinity => "affinity",
        AllowedHosts => "allowed-hosts",
        Network => "network",
        Cpu => "cpu",
    }
);
