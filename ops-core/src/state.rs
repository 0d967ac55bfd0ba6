//! [`OpState`]: the life of a cluster operation, and which moves between states are legal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The state of a cluster operation, as stored in `object_states.state_value`.
///
/// `queued`, `preflight` and `executing` are *in flight*; everything else is terminal. Terminal is defined by
/// exclusion everywhere, so a state this crate does not know (written by another program) or a missing
/// state row counts as terminal, exactly as Shaken Fist's queries do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    /// Waiting in the work queue.
    Queued,
    /// Shared with agent operations; no transition of a cluster op enters it, but it is in flight when read.
    Preflight,
    /// A worker is running it.
    Executing,
    /// Finished successfully.
    Complete,
    /// Stopped on purpose, e.g. because a hard dependency failed.
    Abort,
    /// Failed; an error report row is written first.
    Error,
    /// Soft-deleted; the end of every path.
    Deleted,
}

impl OpState {
    /// Every state.
    pub const ALL: [OpState; 7] = [
        OpState::Queued,
        OpState::Preflight,
        OpState::Executing,
        OpState::Complete,
        OpState::Abort,
        OpState::Error,
        OpState::Deleted,
    ];

    /// The in-flight set (`_ACTIVE_OPERATION_STATES`).
    pub const IN_FLIGHT: [OpState; 3] = [OpState::Queued, OpState::Preflight, OpState::Executing];

    /// The string stored in `object_states.state_value`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OpState::Queued => "queued",
            OpState::Preflight => "preflight",
            OpState::Executing => "executing",
            OpState::Complete => "complete",
            OpState::Abort => "abort",
            OpState::Error => "error",
            OpState::Deleted => "deleted",
        }
    }

    /// Whether an op in this state is still being worked on.
    pub const fn is_in_flight(self) -> bool {
        matches!(
            self,
            OpState::Queued | OpState::Preflight | OpState::Executing
        )
    }

    /// Whether the op is done with, by exclusion from the in-flight set.
    pub const fn is_terminal(self) -> bool {
        !self.is_in_flight()
    }

    /// The states this one may move to (Shaken Fist's `BaseClusterOperation.state_targets`).
    ///
    /// `executing → queued` is how a deferred op goes back to the queue. Nothing moves into `preflight`,
    /// and nothing leaves it: cluster ops never use it.
    pub const fn successors(self) -> &'static [OpState] {
        match self {
            OpState::Queued => &[
                OpState::Executing,
                OpState::Deleted,
                OpState::Error,
                OpState::Abort,
            ],
            OpState::Executing => &[
                OpState::Complete,
                OpState::Deleted,
                OpState::Error,
                OpState::Abort,
                OpState::Queued,
            ],
            OpState::Complete | OpState::Abort | OpState::Error => &[OpState::Deleted],
            OpState::Preflight | OpState::Deleted => &[],
        }
    }

    /// Checks a move from `self` to `to`.
    ///
    /// Setting the same state again is allowed and changes nothing, as in Shaken Fist's base object.
    pub fn check_transition(self, to: OpState) -> Result<(), IllegalTransition> {
        if self == to || self.successors().contains(&to) {
            Ok(())
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

impl fmt::Display for OpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// A move between two states that the state machine forbids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("illegal operation state transition from `{from}` to `{to}`")]
pub struct IllegalTransition {
    /// The state the op is in.
    pub from: OpState,
    /// The state that was asked for.
    pub to: OpState,
}

/// A string that names no [`OpState`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation state `{0}`")]
pub struct UnknownState(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use OpState::*;

    /// Shaken Fist's full transition table, written out so that a change to `successors` must change it too.
    const LEGAL: &[(OpState, OpState)] = &[
        (Queued, Executing),
        (Queued, Deleted),
        (Queued, Error),
        (Queued, Abort),
        (Executing, Complete),
        (Executing, Deleted),
        (Executing, Error),
        (Executing, Abort),
        (Executing, Queued),
        (Complete, Deleted),
        (Abort, Deleted),
        (Error, Deleted),
    ];

    #[test]
    fn every_pair_is_legal_exactly_when_listed() {
        for from in OpState::ALL {
            for to in OpState::ALL {
                let expected = from == to || LEGAL.contains(&(from, to));
                let got = from.check_transition(to);
                assert_eq!(got.is_ok(), expected, "{from} -> {to}");
                if !expected {
                    assert_eq!(got, Err(IllegalTransition { from, to }));
                }
            }
        }
    }

    #[test]
    fn deleted_is_final_and_preflight_is_never_entered() {
        assert!(Deleted.successors().is_empty());
        for from in OpState::ALL {
            if from != Preflight {
                assert!(
                    from.check_transition(Preflight).is_err(),
                    "{from} -> preflight"
                );
            }
        }
    }

    #[test]
    fn in_flight_is_queued_preflight_executing() {
        let in_flight: Vec<_> = OpState::ALL
            .into_iter()
            .filter(|s| s.is_in_flight())
            .collect();
        assert_eq!(in_flight, OpState::IN_FLIGHT);
        for state in [Complete, Abort, Error, Deleted] {
            assert!(state.is_terminal());
        }
    }

    #[test]
    fn serde_and_strings_agree() {
        for state in OpState::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(serde_json::from_str::<OpState>(&json).unwrap(), state);
            assert_eq!(state.as_str().parse::<OpState>().unwrap(), state);
        }
        assert_eq!(
            "hard-deleted".parse::<OpState>(),
            Err(UnknownState("hard-deleted".into()))
        );
    }

    #[test]
    fn illegal_transition_message_names_both_states() {
        let err = Complete.check_transition(Queued).unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal operation state transition from `complete` to `queued`"
        );
    }
}
