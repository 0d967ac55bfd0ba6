//! Whether a claimed op may run now, given the states of the ops it names in `depends_on` and
//! `runs_after` — Shaken Fist's dispatcher rules (DOMAIN.md §3 "Dependencies").

use serde::Deserialize;

use crate::{Dependency, OpState};

/// The dependency lists of a stored op, read from its JSON whatever its type.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Dependencies {
    #[serde(default)]
    pub(crate) depends_on: Option<Vec<Dependency>>,
    #[serde(default)]
    pub(crate) runs_after: Option<Vec<Dependency>>,
}

impl Dependencies {
    /// Every op named, `depends_on` first: the order the states must be given to [`decide`] in.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Dependency> {
        self.depends_on
            .iter()
            .flatten()
            .chain(self.runs_after.iter().flatten())
    }
}

/// What the dependencies say.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Run the op; `warnings` are audit messages to record with its outcome.
    Run { warnings: Vec<String> },
    /// A dependency is still in flight: put the op back, `queued`, without counting an attempt.
    Defer { waiting_on: Dependency },
    /// A hard dependency does not exist: the op goes to `error`.
    Error { message: String },
    /// A hard dependency ended badly (`error`, `deleted`, `abort`): the op goes to `abort`.
    Abort { message: String },
}

/// Decides from `states`, one per [`Dependencies::all`] in order (`None`: the op has no state row).
///
/// `depends_on`: missing → error; `error`/`deleted`/`abort` → abort; in flight → defer; `complete` → fine.
/// `runs_after`: missing → a warning, and on; in flight → defer; any terminal state → fine. A failed hard
/// dependency wins over one that would only defer, so an op never waits for an outcome it cannot use.
pub(crate) fn decide(dependencies: &Dependencies, states: &[Option<OpState>]) -> Verdict {
    let hard = dependencies.depends_on.iter().flatten();
    let ordering = dependencies.runs_after.iter().flatten();
    let (hard_states, ordering_states) = states.split_at(
        dependencies
            .depends_on
            .as_ref()
            .map_or(0, Vec::len)
            .min(states.len()),
    );
    let mut waiting_on = None;
    for (dependency, state) in hard.zip(hard_states) {
        match state {
            None => {
                return Verdict::Error {
                    message: format!(
                        "cancelling operation, as dependency does not exist: {} {}",
                        dependency.op_type, dependency.op_uuid
                    ),
                };
            }
            Some(state @ (OpState::Error | OpState::Deleted | OpState::Abort)) => {
                return Verdict::Abort {
                    message: format!(
                        "aborting operation, as dependency is unsuitable: {} {} is {state}",
                        dependency.op_type, dependency.op_uuid
                    ),
                };
            }
            Some(state) if state.is_in_flight() => {
                waiting_on.get_or_insert_with(|| dependency.clone());
            }
            Some(_) => {}
        }
    }
    let mut warnings = Vec::new();
    for (dependency, state) in ordering.zip(ordering_states) {
        match state {
            None => warnings.push(format!(
                "warning, runs_after dependency is missing: {} {}",
                dependency.op_type, dependency.op_uuid
            )),
            Some(state) if state.is_in_flight() => {
                waiting_on.get_or_insert_with(|| dependency.clone());
            }
            Some(_) => {}
        }
    }
    match waiting_on {
        Some(waiting_on) => Verdict::Defer { waiting_on },
        None => Verdict::Run { warnings },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpId;

    fn dep() -> Dependency {
        Dependency {
            op_type: "net_op".to_owned(),
            op_uuid: OpId::new_v4(),
        }
    }

    fn lists(hard: usize, ordering: usize) -> Dependencies {
        Dependencies {
            depends_on: Some((0..hard).map(|_| dep()).collect()),
            runs_after: Some((0..ordering).map(|_| dep()).collect()),
        }
    }

    fn run() -> Verdict {
        Verdict::Run { warnings: vec![] }
    }

    #[test]
    fn no_dependencies_run() {
        assert_eq!(decide(&Dependencies::default(), &[]), run());
    }

    #[test]
    fn a_hard_dependency_waits_for_complete() {
        let deps = lists(1, 0);
        for state in OpState::IN_FLIGHT {
            assert!(
                matches!(decide(&deps, &[Some(state)]), Verdict::Defer { .. }),
                "{state}"
            );
        }
        assert_eq!(decide(&deps, &[Some(OpState::Complete)]), run());
    }

    #[test]
    fn a_missing_hard_dependency_is_an_error_and_a_failed_one_an_abort() {
        let deps = lists(1, 0);
        let Verdict::Error { message } = decide(&deps, &[None]) else {
            panic!()
        };
        assert!(
            message.starts_with("cancelling operation, as dependency does not exist"),
            "{message}"
        );
        for state in [OpState::Error, OpState::Deleted, OpState::Abort] {
            let Verdict::Abort { message } = decide(&deps, &[Some(state)]) else {
                panic!("{state}")
            };
            assert!(
                message.starts_with("aborting operation, as dependency is unsuitable"),
                "{message}"
            );
            assert!(message.ends_with(&format!("is {state}")), "{message}");
        }
    }

    #[test]
    fn a_failed_hard_dependency_wins_over_one_still_running() {
        let deps = lists(2, 0);
        let verdict = decide(&deps, &[Some(OpState::Executing), Some(OpState::Abort)]);
        assert!(matches!(verdict, Verdict::Abort { .. }), "{verdict:?}");
    }

    #[test]
    fn runs_after_waits_for_any_end_and_warns_when_missing() {
        let deps = lists(0, 1);
        assert!(matches!(
            decide(&deps, &[Some(OpState::Queued)]),
            Verdict::Defer { .. }
        ));
        for state in [
            OpState::Complete,
            OpState::Error,
            OpState::Abort,
            OpState::Deleted,
        ] {
            assert_eq!(decide(&deps, &[Some(state)]), run(), "{state}");
        }
        let Verdict::Run { warnings } = decide(&deps, &[None]) else {
            panic!()
        };
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("warning, runs_after dependency is missing"));
    }

    #[test]
    fn the_first_dependency_in_flight_is_named() {
        let deps = lists(1, 1);
        let Verdict::Defer { waiting_on } =
            decide(&deps, &[Some(OpState::Complete), Some(OpState::Executing)])
        else {
            panic!()
        };
        assert_eq!(
            &waiting_on,
            deps.runs_after.as_ref().unwrap().first().unwrap()
        );
    }

    #[test]
    fn null_lists_read_as_empty() {
        let deps: Dependencies =
            serde_json::from_str(r#"{"depends_on": null, "runs_after": null, "uuid": "x"}"#)
                .unwrap();
        assert_eq!(deps.all().count(), 0);
        assert_eq!(decide(&deps, &[]), run());
    }
}
