//! The built-in baseline: the files under `policies/`, embedded in the binary.

use crate::diag::SourceFile;

/// `(name, text)` of every shipped policy file, in load order.
pub const BUILTIN_FILES: &[(&str, &str)] = &[(
    "builtin/baseline.toml",
    include_str!("../../policies/baseline.toml"),
)];

/// `(name, text)` of the baseline's test cases (`preflight test` without a path). Kept apart
/// from [`BUILTIN_FILES`] so the policy loader never reads a case file as a policy.
pub const BUILTIN_CASES: (&str, &str) = (
    "builtin/baseline.cases.toml",
    include_str!("../../policies/baseline.cases.toml"),
);

/// The baseline as source files, named `builtin/...` so reports never show a local path.
pub fn builtin_sources() -> Vec<SourceFile> {
    BUILTIN_FILES
        .iter()
        .map(|(name, text)| SourceFile::new(*name, *text))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_loads_with_its_five_rules() {
        let set = crate::policy::load(builtin_sources()).expect("the shipped baseline is valid");
        let ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        for id in [
            "non-ha-running",
            "stranded-ha-vm",
            "stranded-vm",
            "capacity",
            "not-restored",
            "imbalance",
        ] {
            assert!(ids.contains(&id), "baseline lacks {id}");
        }
        for r in &set.rules {
            assert!(r.remediation.is_some(), "{} has no remediation", r.id);
        }
    }
}
