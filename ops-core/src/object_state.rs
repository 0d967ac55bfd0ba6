//! [`ObjectState`]: the life of an object (an instance, a network, ...), as opposed to an op's.
//!
//! Objects keep their state in the same `object_states` table as ops, one row per object, and move through
//! the per-type machines of Shaken Fist (DOMAIN.md §2). The gate and the maintainer read these states: a
//! network is only checked and repaired while it is alive, and not while its state has just changed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ObjectType;

/// The state of an object (not an op: ops have [`OpState`](crate::OpState)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectState {
    /// Known, not built yet.
    Initial,
    /// Checked before creation (instances).
    Preflight,
    /// Being built (instances).
    Creating,
    /// Built and in use.
    Created,
    /// Waiting for its users to go before it is deleted (networks, instances).
    DeleteWait,
    /// Gone; only a node comes back from it.
    Deleted,
    /// Broken; its message says why.
    Error,
    /// A node being stopped.
    Stopping,
    /// A stopped node.
    Stopped,
    /// A node that stopped answering.
    Missing,
    /// A node that runs with a fault.
    Degraded,
}

impl ObjectState {
    /// Every state.
    pub const ALL: [ObjectState; 11] = [
        ObjectState::Initial,
        ObjectState::Preflight,
        ObjectState::Creating,
        ObjectState::Created,
        ObjectState::DeleteWait,
        ObjectState::Deleted,
        ObjectState::Error,
        ObjectState::Stopping,
        ObjectState::Stopped,
        ObjectState::Missing,
        ObjectState::Degraded,
    ];

    /// The states of an object that is in use or about to be (Shaken Fist's `ACTIVE_STATES`).
    pub const ACTIVE: [ObjectState; 5] = [
        ObjectState::Initial,
        ObjectState::Creating,
        ObjectState::Created,
        ObjectState::Error,
        ObjectState::DeleteWait,
    ];

    /// The states of an object that works or is being built (Shaken Fist's `HEALTHY_STATES`).
    pub const HEALTHY: [ObjectState; 3] = [
        ObjectState::Initial,
        ObjectState::Creating,
        ObjectState::Created,
    ];

    /// The string stored in `object_states.state_value`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ObjectState::Initial => "initial",
            ObjectState::Preflight => "preflight",
            ObjectState::Creating => "creating",
            ObjectState::Created => "created",
            ObjectState::DeleteWait => "delete-wait",
            ObjectState::Deleted => "deleted",
            ObjectState::Error => "error",
            ObjectState::Stopping => "stopping",
            ObjectState::Stopped => "stopped",
            ObjectState::Missing => "missing",
            ObjectState::Degraded => "degraded",
        }
    }

    /// The states an object of `object_type` may move to from this one; `None` for a type whose objects
    /// have no state machine here (ops, and the types nothing creates: DHCP, IPAM, ...).
    ///
    /// These are Shaken Fist's machines (DOMAIN.md §2) with two edges added on purpose: a network may go
    /// from `initial` to `deleted` or `error`, as artifacts, blobs and interfaces may (one deleted, or
    /// failed, before it was ever built: the simulator deletes such networks when a seed ends), and an
    /// instance may go from `initial` straight to `creating`, for a placement that has no preflight step.
    pub fn successors(self, object_type: ObjectType) -> Option<&'static [ObjectState]> {
        use ObjectState::*;
        let next: &'static [ObjectState] = match object_type {
            ObjectType::Network => match self {
                Initial => &[Created, Deleted, Error],
                Created => &[Deleted, DeleteWait, Error],
                DeleteWait => &[Deleted, Error],
                Error => &[Deleted],
                _ => &[],
            },
            ObjectType::Instance => match self {
                Initial => &[Preflight, Creating, DeleteWait, Deleted, Error],
                Preflight => &[Creating, DeleteWait, Deleted, Error],
                Creating => &[Created, DeleteWait, Deleted, Error],
                Created | DeleteWait => &[DeleteWait, Deleted, Error],
                Error => &[DeleteWait, Deleted],
                _ => &[],
            },
            ObjectType::Artifact | ObjectType::Blob | ObjectType::Interface => match self {
                Initial => &[Created, Deleted, Error],
                Created => &[Deleted, Error],
                Error => &[Deleted],
                _ => &[],
            },
            ObjectType::Node => match self {
                Created => &[Stopping, Missing, Degraded, Error, Deleted],
                Stopping => &[Stopped, Error, Deleted],
                Stopped => &[Created, Missing, Deleted],
                Missing | Degraded => &[Created, Missing, Degraded, Error, Deleted],
                Error => &[Created, Deleted],
                // Nodes are the one kind that comes back from `deleted`.
                Deleted => &[Created],
                _ => &[],
            },
            _ => return None,
        };
        Some(next)
    }

    /// The state a new object of `object_type` starts in: `created` for a node (it exists once it reports
    /// in), `initial` for the rest.
    pub fn first(object_type: ObjectType) -> ObjectState {
        match object_type {
            ObjectType::Node => ObjectState::Created,
            _ => ObjectState::Initial,
        }
    }
}

impl fmt::Display for ObjectState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ObjectState {
    type Err = UnknownObjectState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObjectState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownObjectState(s.to_owned()))
    }
}

/// A state string no object state has.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown object state `{0}`")]
pub struct UnknownObjectState(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_strings() {
        for state in ObjectState::ALL {
            assert_eq!(state.as_str().parse::<ObjectState>(), Ok(state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(state.as_str())
            );
        }
        assert_eq!(
            "deletewait".parse::<ObjectState>(),
            Err(UnknownObjectState("deletewait".to_owned()))
        );
    }

    #[test]
    fn a_network_is_created_once_and_only_a_node_leaves_deleted() {
        let network = ObjectType::Network;
        assert!(
            ObjectState::Initial
                .successors(network)
                .unwrap()
                .contains(&ObjectState::Created)
        );
        assert!(
            !ObjectState::Created
                .successors(network)
                .unwrap()
                .contains(&ObjectState::Initial)
        );
        for object_type in [
            ObjectType::Network,
            ObjectType::Instance,
            ObjectType::Artifact,
            ObjectType::Blob,
            ObjectType::Interface,
        ] {
            assert_eq!(ObjectState::Deleted.successors(object_type), Some(&[][..]));
        }
        assert_eq!(
            ObjectState::Deleted.successors(ObjectType::Node),
            Some(&[ObjectState::Created][..])
        );
        assert_eq!(ObjectState::Created.successors(ObjectType::NetOp), None);
    }
}
