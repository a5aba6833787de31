//! A step as the plan document spells it: one flat object whose fields depend
//! on the action. Steps are written and read only through this form, and reading checks that
//! the fields make a step ([`super::StepKind`]): a migrate has a source and a destination, a
//! host step a host, and no step carries a field its action does not take. A plan that breaks
//! this is refused where it is read (`plan::invalid`, at the step), so the renderers and
//! `restore` only ever see steps they can act on.
//!
//! A move back of a VM the platform's drain moved has no `from` (the drain chose the host, the
//! plan cannot know it): it says `"from_drain": true` instead, and the executor asks the
//! platform where the VM runs now.

use super::{Gb, Source, Step, StepAction, StepKind, StepPhase, VmRef};
use crate::model::VmState;
use serde::{Deserialize, Serialize};

/// The document's form of a step. Field order is the serialized key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDoc {
    pub id: String,
    pub phase: StepPhase,
    pub action: StepAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The VM is wherever the platform's drain put it (a migrate without `from`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_drain: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_state: Option<VmState>,
    /// The VM's storage moves with it (a disk of it is on the source host's own storage).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_storage: bool,
    /// How many GB a move with storage copies (at most one decimal), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_gb: Option<Gb>,
    #[serde(default)]
    pub because: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl From<Step> for StepDoc {
    fn from(step: Step) -> StepDoc {
        let action = step.action();
        let mut doc = StepDoc {
            id: step.id,
            phase: step.phase,
            action,
            vm: None,
            vm_id: None,
            host: None,
            from: None,
            from_drain: false,
            to: None,
            expect_state: None,
            with_storage: false,
            storage_gb: None,
            because: step.because,
            note: step.note,
        };
        let set_vm = |doc: &mut StepDoc, vm: VmRef| {
            doc.vm = Some(vm.name);
            doc.vm_id = vm.id;
        };
        match step.kind {
            StepKind::Migrate {
                vm,
                from,
                to,
                with_storage,
                storage_gb,
                expect_state,
            } => {
                set_vm(&mut doc, vm);
                match from {
                    Source::Host(h) => doc.from = Some(h),
                    Source::Drained => doc.from_drain = true,
                }
                doc.to = Some(to);
                doc.with_storage = with_storage;
                doc.storage_gb = storage_gb;
                doc.expect_state = expect_state;
            }
            StepKind::Shutdown {
                vm,
                host,
                expect_state,
            }
            | StepKind::Start {
                vm,
                host,
                expect_state,
            } => {
                set_vm(&mut doc, vm);
                doc.host = Some(host);
                doc.expect_state = expect_state;
            }
            StepKind::EnterMaintenance { host } | StepKind::ExitMaintenance { host } => {
                doc.host = Some(host);
            }
            StepKind::Notify { vm, host } => {
                if let Some(vm) = vm {
                    set_vm(&mut doc, vm);
                }
                doc.host = host;
            }
        }
        doc
    }
}

impl TryFrom<StepDoc> for Step {
    type Error = String;

    fn try_from(doc: StepDoc) -> Result<Step, String> {
        let action = doc.action;
        let why = |what: String| format!("step `{}`: {what}", doc.id.escape_debug());
        // Fields the action does not take: a plan that has them was not written by preflight,
        // and guessing what the writer meant is how a script ends up acting on the wrong thing.
        let takes: &[&str] = match action {
            StepAction::Migrate => &[
                "vm",
                "vm_id",
                "from",
                "from_drain",
                "to",
                "expect_state",
                "with_storage",
                "storage_gb",
            ],
            StepAction::Shutdown | StepAction::Start => &["vm", "vm_id", "host", "expect_state"],
            StepAction::EnterMaintenance | StepAction::ExitMaintenance => &["host"],
            StepAction::Notify => &["vm", "vm_id", "host"],
        };
        let present = [
            ("vm", doc.vm.is_some()),
            ("vm_id", doc.vm_id.is_some()),
            ("host", doc.host.is_some()),
            ("from", doc.from.is_some()),
            ("from_drain", doc.from_drain),
            ("to", doc.to.is_some()),
            ("expect_state", doc.expect_state.is_some()),
            ("with_storage", doc.with_storage),
            ("storage_gb", doc.storage_gb.is_some()),
        ];
        if let Some((field, _)) = present.iter().find(|(f, p)| *p && !takes.contains(f)) {
            return Err(why(format!("{} step has no `{field}`", article(action))));
        }
        let need = |field: &str, v: Option<String>| match v {
            Some(v) if !v.trim().is_empty() => Ok(v),
            Some(_) => Err(why(format!("`{field}` is blank"))),
            None => Err(why(format!("{} step needs `{field}`", article(action)))),
        };
        if doc.vm.is_none() && doc.vm_id.is_some() {
            return Err(why(
                "`vm_id` without `vm`: a step names its VM by `vm`".into()
            ));
        }
        let vm = match doc.vm {
            Some(name) => Some(VmRef {
                name: need("vm", Some(name))?,
                id: doc.vm_id,
            }),
            None => None,
        };
        let need_vm = |vm: Option<VmRef>| {
            vm.ok_or_else(|| why(format!("{} step needs `vm`", article(action))))
        };
        let kind = match action {
            StepAction::Migrate => {
                let vm = need_vm(vm)?;
                let from = match (doc.from, doc.from_drain) {
                    (Some(h), false) => Source::Host(need("from", Some(h))?),
                    (None, true) => Source::Drained,
                    (Some(_), true) => {
                        return Err(why(
                            "`from` and `\"from_drain\": true` contradict each other: the VM is on `from`, or wherever the drain put it".into(),
                        ));
                    }
                    (None, false) => {
                        return Err(why(
                            "a migrate step needs `from` (the host the VM is on), or `\"from_drain\": true` for a VM the platform's drain moved".into(),
                        ));
                    }
                };
                // A size without the move would have a script copy nothing while the plan
                // says it copies; a move without a size is what plans wrote before the size.
                if doc.storage_gb.is_some() && !doc.with_storage {
                    return Err(why(
                        "`storage_gb` without `\"with_storage\": true`: a size is for a move with storage".into(),
                    ));
                }
                StepKind::Migrate {
                    vm,
                    from,
                    to: need("to", doc.to)?,
                    with_storage: doc.with_storage,
                    storage_gb: doc.storage_gb,
                    expect_state: doc.expect_state,
                }
            }
            StepAction::Shutdown => StepKind::Shutdown {
                vm: need_vm(vm)?,
                host: need("host", doc.host)?,
                expect_state: doc.expect_state,
            },
            StepAction::Start => StepKind::Start {
                vm: need_vm(vm)?,
                host: need("host", doc.host)?,
                expect_state: doc.expect_state,
            },
            StepAction::EnterMaintenance => StepKind::EnterMaintenance {
                host: need("host", doc.host)?,
            },
            StepAction::ExitMaintenance => StepKind::ExitMaintenance {
                host: need("host", doc.host)?,
            },
            StepAction::Notify => StepKind::Notify {
                vm,
                host: match doc.host {
                    Some(h) => Some(need("host", Some(h))?),
                    None => None,
                },
            },
        };
        Ok(Step {
            id: doc.id,
            phase: doc.phase,
            kind,
            because: doc.because,
            note: doc.note,
        })
    }
}

/// "a migrate", "an exit-maintenance": the action with its article, for messages.
fn article(action: StepAction) -> String {
    let word = action.as_str();
    let an = word.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {word}", if an { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<Step, String> {
        serde_json::from_str::<Step>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn a_move_back_from_the_drain_round_trips_as_from_drain() {
        let step = Step {
            id: "post-migrate-DC01".into(),
            phase: StepPhase::Post,
            kind: StepKind::Migrate {
                vm: VmRef {
                    name: "DC01".into(),
                    id: None,
                },
                from: Source::Drained,
                to: "HV01".into(),
                with_storage: false,
                storage_gb: None,
                expect_state: Some(VmState::Running),
            },
            because: vec![],
            note: None,
        };
        let json = serde_json::to_string(&step).unwrap();
        assert_eq!(
            json,
            r#"{"id":"post-migrate-DC01","phase":"post","action":"migrate","vm":"DC01","from_drain":true,"to":"HV01","expect_state":"running","because":[]}"#
        );
        assert_eq!(read(&json).unwrap(), step);
    }

    #[test]
    fn a_move_with_storage_round_trips_with_its_size() {
        let json = r#"{"id":"pre-migrate-V","phase":"pre","action":"migrate","vm":"V","from":"H1","to":"H2","expect_state":"running","with_storage":true,"storage_gb":120.5,"because":["r"]}"#;
        let step = read(json).unwrap();
        assert!(step.with_storage());
        assert_eq!(step.storage_gb().map(|g| g.tenths()), Some(1205));
        assert_eq!(
            step.storage_text().as_deref(),
            Some("moves with its storage, 120.5 GB")
        );
        assert_eq!(serde_json::to_string(&step).unwrap(), json);
        // A plan written before the size: a move with storage of unknown size.
        let old = read(r#"{"id":"p","phase":"pre","action":"migrate","vm":"V","from":"H1","to":"H2","with_storage":true}"#).unwrap();
        assert!(old.with_storage());
        assert_eq!(old.storage_gb(), None);
        assert_eq!(
            old.storage_text().as_deref(),
            Some("moves with its storage (size unknown)")
        );
        // Absent: no storage move, and no words for one.
        let plain =
            read(r#"{"id":"p","phase":"pre","action":"migrate","vm":"V","from":"H1","to":"H2"}"#)
                .unwrap();
        assert!(!plain.with_storage());
        assert_eq!(plain.storage_text(), None);
    }

    #[test]
    fn every_action_reads_into_its_kind() {
        let s = read(r#"{"id":"a","phase":"pre","action":"shutdown","vm":"V","vm_id":"1","host":"H","expect_state":"running"}"#).unwrap();
        assert_eq!(s.host(), Some("H"));
        assert_eq!(s.vm().and_then(|v| v.id.as_deref()), Some("1"));
        let s =
            read(r#"{"id":"a","phase":"drain","action":"enter-maintenance","host":"H"}"#).unwrap();
        assert_eq!(s.kind, StepKind::EnterMaintenance { host: "H".into() });
        let s = read(r#"{"id":"a","phase":"maintenance","action":"notify","note":"hi"}"#).unwrap();
        assert_eq!(
            s.kind,
            StepKind::Notify {
                vm: None,
                host: None
            }
        );
    }

    #[test]
    fn invalid_combinations_are_refused() {
        let cases = [
            // The plan `audit` wrote for SCVMM before move-backs of drained VMs were typed.
            (
                r#"{"id":"p","phase":"post","action":"migrate","vm":"DC01","to":"HV01"}"#,
                "a migrate step needs `from`",
            ),
            (
                r#"{"id":"p","phase":"post","action":"migrate","vm":"DC01","from":"HV02","from_drain":true,"to":"HV01"}"#,
                "contradict",
            ),
            (
                r#"{"id":"p","phase":"pre","action":"migrate","vm":"V","from":"H1"}"#,
                "a migrate step needs `to`",
            ),
            (
                r#"{"id":"p","phase":"pre","action":"migrate","from":"H1","to":"H2"}"#,
                "a migrate step needs `vm`",
            ),
            (
                r#"{"id":"p","phase":"pre","action":"migrate","vm":"V","from":" ","to":"H2"}"#,
                "`from` is blank",
            ),
            (
                r#"{"id":"p","phase":"pre","action":"migrate","vm":"V","host":"H1","from":"H1","to":"H2"}"#,
                "a migrate step has no `host`",
            ),
            (
                r#"{"id":"d","phase":"drain","action":"enter-maintenance"}"#,
                "an enter-maintenance step needs `host`",
            ),
            (
                r#"{"id":"d","phase":"drain","action":"exit-maintenance","host":"H","vm":"V"}"#,
                "an exit-maintenance step has no `vm`",
            ),
            (
                r#"{"id":"s","phase":"pre","action":"start","vm":"V"}"#,
                "a start step needs `host`",
            ),
            (
                r#"{"id":"s","phase":"pre","action":"shutdown","vm":"V","host":"H","with_storage":true}"#,
                "a shutdown step has no `with_storage`",
            ),
            (
                r#"{"id":"p","phase":"pre","action":"migrate","vm":"V","from":"H1","to":"H2","storage_gb":12}"#,
                "`storage_gb` without `\"with_storage\": true`",
            ),
            (
                r#"{"id":"p","phase":"pre","action":"migrate","vm":"V","from":"H1","to":"H2","with_storage":true,"storage_gb":-12}"#,
                "`storage_gb` is -12, not a size in GB",
            ),
            (
                r#"{"id":"p","phase":"pre","action":"migrate","vm":"V","from":"H1","to":"H2","with_storage":true,"storage_gb":"12"}"#,
                "invalid type: string",
            ),
            (
                r#"{"id":"s","phase":"pre","action":"start","vm":"V","host":"H","storage_gb":1}"#,
                "a start step has no `storage_gb`",
            ),
            (
                r#"{"id":"n","phase":"pre","action":"notify","vm_id":"1"}"#,
                "`vm_id` without `vm`",
            ),
            (
                r#"{"id":"n","phase":"pre","action":"notify","to":"H"}"#,
                "a notify step has no `to`",
            ),
        ];
        for (json, want) in cases {
            let err = read(json).unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
    }
}
