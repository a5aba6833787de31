//! Rule kinds: one descriptor per kind, holding everything the rest of the code asks about
//! a kind (its name, its keys, its phases, its default message, how `explain` describes it,
//! how its keys are read, and what the planner does with it). The engine's evaluation of each kind is the one other place a kind
//! appears (`crate::engine`'s dispatch).
//!
//! Adding a kind: a file here with its [`KindSpec`] (listed in [`KINDS`]), its variant of
//! [`RuleKind`] (the compiler then points at [`RuleKind::spec`] and the engine's dispatch),
//! and its evaluation in the engine.

mod balance;
mod capacity;
mod constraint;
mod placement;
mod vm;

use super::walk::TableReader;
use super::{Phase, RuleKind};
use crate::diag::Diagnostics;

/// A key that rules of one kind may set, besides the keys every rule has.
#[derive(Debug)]
pub struct KeyDoc {
    pub name: &'static str,
    /// Whether a rule of the kind must set it (`policy::missing-key` when it does not).
    pub required: bool,
    /// What it means, with its default when it has one.
    pub doc: &'static str,
}

/// Everything about one kind of rule, but its evaluation.
pub struct KindSpec {
    /// The word of `kind = "…"`.
    pub name: &'static str,
    /// The kind's own keys.
    pub keys: &'static [KeyDoc],
    /// The phase a rule of the kind has when it sets none, and the phases it may set.
    pub default_phase: Phase,
    pub phases: &'static [Phase],
    /// The message template of a rule that sets no `message`.
    pub default_message: &'static str,
    /// Reads the kind's keys from a `[[rule]]` table (every problem goes to `diags`); `None`
    /// when one of them is invalid.
    pub(crate) read: for<'a, 'i> fn(&TableReader<'a, 'i>, &mut Diagnostics) -> Option<RuleKind>,
    /// What a rule of this kind checks, in a sentence, for `explain`.
    pub explain: fn(&RuleKind) -> String,
    /// What the planner does with a rule of this kind.
    pub plan: PlanRole,
    /// The memory (percent) a rule of this kind keeps free on every host, which the planner
    /// reserves; `None` for a kind that keeps none.
    pub floor: fn(&RuleKind) -> Option<f64>,
}

/// What the planner does with a rule of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanRole {
    /// Nothing: the rule judges, and the plan does not act on it.
    Judges,
    /// Its findings on a VM ask the plan to act on that VM (the rule's `action`).
    ActsOnVm,
    /// The plan's move-back steps are there because of it.
    MovesBack,
}

/// `floor` of a kind that keeps no memory free.
pub(super) fn no_floor(_: &RuleKind) -> Option<f64> {
    None
}

impl std::fmt::Debug for KindSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KindSpec")
            .field("name", &self.name)
            .finish()
    }
}

/// Every kind, `vm` (the default) first.
pub static KINDS: &[&KindSpec] = &[
    &vm::KIND,
    &capacity::KIND,
    &placement::KIND,
    &balance::KIND,
    &constraint::KIND,
];

/// The kind a rule is when it sets no `kind`.
pub static DEFAULT_KIND: &KindSpec = &vm::KIND;

/// The kind named `name`, if there is one.
pub fn kind_named(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().copied().find(|k| k.name == name)
}

impl RuleKind {
    /// The descriptor of this rule's kind.
    pub fn spec(&self) -> &'static KindSpec {
        match self {
            RuleKind::Vm(_) => &vm::KIND,
            RuleKind::Capacity { .. } => &capacity::KIND,
            RuleKind::Placement { .. } => &placement::KIND,
            RuleKind::Balance { .. } => &balance::KIND,
            RuleKind::Constraint { .. } => &constraint::KIND,
        }
    }

    /// The word of `kind = "…"`.
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// What the rule checks, in a sentence, for `explain`.
    pub fn explain(&self) -> String {
        (self.spec().explain)(self)
    }

    /// What the planner does with the rule.
    pub fn plan_role(&self) -> PlanRole {
        self.spec().plan
    }

    /// The memory (percent) the rule keeps free on every host, if it keeps any.
    pub fn floor_pct(&self) -> Option<f64> {
        (self.spec().floor)(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;

    fn load(text: &str) -> crate::policy::PolicySet {
        crate::policy::load(vec![SourceFile::new("p.toml", text.to_string())]).expect("valid")
    }

    /// Every kind is fully described: a unique name, documented keys, a default phase among
    /// its phases, a default message that parses, and an explanation for a rule of the kind.
    #[test]
    fn every_kind_is_fully_described() {
        let mut names = Vec::new();
        for k in KINDS {
            assert!(!names.contains(&k.name), "{} listed twice", k.name);
            names.push(k.name);
            assert!(kind_named(k.name).is_some_and(|n| std::ptr::eq(n, *k)));
            for key in k.keys {
                assert!(
                    !key.doc.trim().is_empty(),
                    "{}.{} has no doc",
                    k.name,
                    key.name
                );
            }
            assert!(
                k.phases.contains(&k.default_phase),
                "{}: default phase not allowed",
                k.name
            );
            assert!(
                crate::policy::Template::parse(k.default_message).is_ok(),
                "{}: default message",
                k.name
            );
            // A rule of the kind with only the required keys loads, has the default phase,
            // and is explained by its own kind.
            let required: String = k
                .keys
                .iter()
                .filter(|key| key.required)
                .map(|key| format!("{} = {}\n", key.name, example(key.name)))
                .collect();
            let set = load(&format!(
                "[[rule]]\nid = \"r\"\ntitle = \"t\"\nkind = \"{}\"\n{required}",
                k.name
            ));
            let rule = &set.rules[0];
            assert!(std::ptr::eq(rule.kind.spec(), *k), "{}", k.name);
            assert_eq!(rule.phase, k.default_phase, "{}", k.name);
            let text = rule.kind.explain();
            assert!(text.len() > 20, "{}: explain says {text:?}", k.name);
        }
        assert_eq!(DEFAULT_KIND.name, "vm");
    }

    /// The planner acts on vm rules' findings, cites placement rules in its move-back, and
    /// keeps the capacity rules' floor; it learns each from the kind, not from the variant.
    #[test]
    fn the_planner_learns_roles_and_floors_from_the_kinds() {
        let set = crate::policy::load(crate::policy::builtin_sources()).expect("builtin");
        for r in &set.rules {
            let want = match r.kind.name() {
                "vm" => PlanRole::ActsOnVm,
                "placement" => PlanRole::MovesBack,
                _ => PlanRole::Judges,
            };
            assert_eq!(r.kind.plan_role(), want, "{}", r.id);
            assert_eq!(
                r.kind.floor_pct().is_some(),
                r.kind.name() == "capacity",
                "{}",
                r.id
            );
        }
        let set = load(
            "[[rule]]\nid = \"c\"\ntitle = \"t\"\nkind = \"capacity\"\nmin_free_memory_pct = 12.5\n",
        );
        assert_eq!(set.rules[0].kind.floor_pct(), Some(12.5));
    }

    /// A value for a required key, for the test above; a kind with a required key adds its
    /// example here.
    fn example(key: &str) -> &'static str {
        if key == "check" {
            return "\"network\"";
        }
        panic!("no example value for the required key `{key}`")
    }

    /// The kinds of the built-in rules are all described (a kind missing from [`KINDS`] could
    /// not be written in a policy).
    #[test]
    fn builtin_rules_use_listed_kinds() {
        let set = crate::policy::load(crate::policy::builtin_sources()).expect("builtin");
        let mut seen: Vec<&str> = set.rules.iter().map(|r| r.kind.name()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(
            seen,
            ["balance", "capacity", "constraint", "placement", "vm"]
        );
        for name in seen {
            assert!(kind_named(name).is_some());
        }
    }
}
