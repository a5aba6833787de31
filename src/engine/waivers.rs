//! Waivers: mark matching findings waived; report expired and unused waivers.

use super::Request;
use super::finding::{AppliedWaiver, Finding, WAIVER_EXPIRED, WAIVER_UNUSED};
use crate::policy::{PolicySet, Severity, Waiver};
use serde_json::json;
use std::collections::BTreeMap;

/// Applies the policy's waivers to `findings` (unless `--no-waivers`), then appends a warning
/// for every waiver that has expired or matched nothing, pointing at its place in the file.
pub fn apply_waivers(policy: &PolicySet, request: &Request, findings: &mut Vec<Finding>) {
    if request.no_waivers {
        return;
    }
    let today = request
        .now
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let mut used = vec![false; policy.waivers.len()];
    for f in findings.iter_mut() {
        for (i, w) in policy.waivers.iter().enumerate() {
            if w.rule != f.rule || !subject_matches(w, f) {
                continue;
            }
            used[i] = true;
            if today > w.expires {
                continue;
            }
            f.waived = true;
            f.waiver = Some(AppliedWaiver {
                reason: w.reason.clone(),
                owner: w.owner.clone(),
                ticket: w.ticket.clone(),
                expires: w.expires.to_string(),
                location: location(policy, w),
            });
            break;
        }
    }
    for (i, w) in policy.waivers.iter().enumerate() {
        let expired = today > w.expires;
        if !expired && used[i] {
            continue;
        }
        let (rule, message) = if expired {
            (
                WAIVER_EXPIRED,
                format!(
                    "the waiver for `{}` at {} expired on {}: it no longer applies",
                    w.rule,
                    location(policy, w),
                    w.expires
                ),
            )
        } else {
            (
                WAIVER_UNUSED,
                format!(
                    "the waiver for `{}` at {} matched no finding: remove it, or check its vm/host pattern",
                    w.rule,
                    location(policy, w)
                ),
            )
        };
        let mut evidence = BTreeMap::new();
        evidence.insert("waiver_rule".into(), json!(w.rule));
        evidence.insert("location".into(), json!(location(policy, w)));
        evidence.insert("expires".into(), json!(w.expires.to_string()));
        if let Some(re) = &w.vm {
            evidence.insert("vm_pattern".into(), json!(re.as_str()));
        }
        if let Some(re) = &w.host {
            evidence.insert("host_pattern".into(), json!(re.as_str()));
        }
        findings.push(Finding {
            rule: rule.into(),
            title: None,
            severity: Severity::Warning,
            vm: None,
            vm_id: None,
            host: None,
            cluster: None,
            message,
            remediation: Some(if expired {
                "renew the waiver with a new date and reason, or fix what it waived".into()
            } else {
                "delete the waiver so it cannot silently waive a future finding".into()
            }),
            evidence,
            waived: false,
            waiver: None,
        });
    }
}

fn subject_matches(w: &Waiver, f: &Finding) -> bool {
    let vm_ok = match (&w.vm, &f.vm) {
        (Some(re), Some(vm)) => re.is_match(vm),
        (Some(_), None) => false,
        (None, _) => true,
    };
    let host_ok = match (&w.host, &f.host) {
        (Some(re), Some(h)) => re.is_match(h),
        (Some(_), None) => false,
        (None, _) => true,
    };
    vm_ok && host_ok
}

/// `file:line:column` of a waiver.
pub fn location(policy: &PolicySet, w: &Waiver) -> String {
    let file = &policy.files[w.origin.file].source;
    let (line, col) = file.line_col(w.origin.span.start);
    format!("{}:{line}:{col}", file.name)
}
