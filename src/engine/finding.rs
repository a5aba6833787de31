//! A finding: one rule's judgement about one subject (a VM, a host or a cluster).

use crate::policy::Severity;
use serde::Serialize;
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Pseudo rule ids for findings about the policy itself. The `::` keeps them apart from user
/// rule ids, which are `[a-z0-9][a-z0-9-]*`.
pub const WAIVER_EXPIRED: &str = "waiver::expired";
pub const WAIVER_UNUSED: &str = "waiver::unused";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    /// The rule's title, filled in by the report from the rules it ran (`None` until then).
    pub title: Option<String>,
    pub severity: Severity,
    pub vm: Option<String>,
    /// The VM's id in the inventory, where the finding is about a VM that has one.
    pub vm_id: Option<String>,
    pub host: Option<String>,
    pub cluster: Option<String>,
    pub message: String,
    pub remediation: Option<String>,
    /// The values that made the rule fire.
    pub evidence: BTreeMap<String, Value>,
    pub waived: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
}

/// The waiver that waived a finding, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedWaiver {
    pub reason: String,
    pub owner: Option<String>,
    pub ticket: Option<String>,
    pub expires: String,
    /// `file:line:column` of the `[[waiver]]`.
    pub location: String,
}

impl Finding {
    /// A finding of `rule` about `vm` on its host, unwaived, with the rule's severity.
    pub fn about_vm(
        rule: &crate::policy::Rule,
        vm: &crate::model::Vm,
        cluster: Option<&str>,
        message: String,
        remediation: &str,
        evidence: BTreeMap<String, Value>,
    ) -> Finding {
        Finding {
            rule: rule.id.clone(),
            title: None,
            severity: rule.severity,
            vm: Some(vm.name.to_string()),
            vm_id: vm.id.as_deref().map(String::from),
            host: Some(vm.host.to_string()),
            cluster: cluster.map(String::from),
            message,
            remediation: Some(remediation.into()),
            evidence,
            waived: false,
            waiver: None,
        }
    }

    /// The contract's order: severity (error first), then rule, host, vm.
    pub fn report_order(a: &Finding, b: &Finding) -> Ordering {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.host.cmp(&b.host))
            .then_with(|| a.vm.cmp(&b.vm))
            .then_with(|| a.message.cmp(&b.message))
    }

    /// Counts against the verdict: not waived.
    pub fn is_blocking_at(&self, threshold: Option<Severity>) -> bool {
        !self.waived && threshold.is_some_and(|t| self.severity >= t)
    }
}

/// Adds `extra` findings (e.g. the planner's "nowhere to put it") to `findings`, folding each
/// into an existing unwaived finding of the same rule and subject, so a subject is reported once
/// per rule: the message gains the extra sentence and the evidence an `extra_key` entry. The
/// subject is the VM by name and id: two VMs of one name on one host are two subjects.
pub fn fold_findings(findings: &mut Vec<Finding>, extra: Vec<Finding>, extra_key: &str) {
    for e in extra {
        let same = findings.iter_mut().find(|f| {
            !f.waived && f.rule == e.rule && f.host == e.host && f.vm == e.vm && f.vm_id == e.vm_id
        });
        match same {
            Some(f) => {
                f.message = format!("{}; {}", f.message, e.message);
                f.severity = f.severity.max(e.severity);
                f.evidence
                    .insert(extra_key.to_string(), serde_json::json!(e.evidence));
                if f.remediation.is_none() {
                    f.remediation = e.remediation;
                }
            }
            None => findings.push(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(vm: &str, vm_id: Option<&str>, message: &str) -> Finding {
        Finding {
            rule: "non-ha-running".into(),
            title: None,
            severity: Severity::Warning,
            vm: Some(vm.into()),
            vm_id: vm_id.map(String::from),
            host: Some("HV01".into()),
            cluster: None,
            message: message.into(),
            remediation: None,
            evidence: BTreeMap::new(),
            waived: false,
            waiver: None,
        }
    }

    #[test]
    fn a_finding_folds_into_the_same_vm_only_not_a_namesake() {
        // Two VMs named APP on the same host, told apart by id: the planner's finding about
        // the second belongs to the second.
        let mut findings = vec![
            finding("APP", Some("1"), "APP (1) is not HA"),
            finding("APP", Some("2"), "APP (2) is not HA"),
        ];
        let mut extra = finding("APP", Some("2"), "it fits on no host");
        extra.severity = Severity::Error;
        fold_findings(&mut findings, vec![extra], "plan");
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].message, "APP (1) is not HA");
        assert_eq!(findings[0].severity, Severity::Warning);
        assert!(!findings[0].evidence.contains_key("plan"));
        assert_eq!(findings[1].message, "APP (2) is not HA; it fits on no host");
        assert_eq!(findings[1].severity, Severity::Error);
        assert!(findings[1].evidence.contains_key("plan"));
        // Without ids, the name is all there is.
        let mut findings = vec![finding("WEB", None, "WEB is not HA")];
        fold_findings(&mut findings, vec![finding("WEB", None, "no room")], "plan");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].message, "WEB is not HA; no room");
    }
}
