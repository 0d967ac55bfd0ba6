//! [`PassRecord`]: how a maintainer pass ended, as the status event it leaves on its node records it, for
//! operators (the dashboard's maintainer page) to read without the maintainer's logs.

use serde::{Deserialize, Serialize};

use super::maintainer::{PassReport, Refused, Repaired, Role};
use crate::NetworkId;

/// The message of a pass's status event.
pub const MAINTENANCE_PASS: &str = "network maintenance pass";

/// The most networks one outcome lists in a [`PassRecord`]; the count says how many there were. A pass
/// over a large fleet must not write an event the size of the fleet at every pass.
pub const MAX_LISTED: usize = 100;

/// How many of one outcome a pass saw, and the first [`MAX_LISTED`] of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed<T> {
    /// How many there were.
    pub count: usize,
    /// The first of them, at most [`MAX_LISTED`].
    pub first: Vec<T>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            count: 0,
            first: Vec::new(),
        }
    }
}

impl<T: Clone> Listed<T> {
    fn of(all: &[T]) -> Self {
        Listed {
            count: all.len(),
            first: all.iter().take(MAX_LISTED).cloned().collect(),
        }
    }

    /// Whether some were left out of [`Listed::first`].
    pub fn is_truncated(&self) -> bool {
        self.count > self.first.len()
    }
}

/// A [`PassReport`] as its status event keeps it: who ran the pass, and each outcome's count and first
/// networks. A field missing from a record (written by an older build) reads as zero or empty, so that
/// records of mixed versions read together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PassRecord {
    /// The maintainer's role and node.
    pub maintainer: Role,
    /// The depth of the node's network queues when the pass began.
    #[serde(default)]
    pub queue_depth: u64,
    /// Whether the pass stopped there, the queues being too deep.
    #[serde(default)]
    pub skipped_for_queue_depth: bool,
    /// How many networks the pass looked after.
    #[serde(default)]
    pub networks: usize,
    /// How many were fine.
    #[serde(default)]
    pub okay: usize,
    /// Left alone: an op is working on them.
    #[serde(default)]
    pub busy: Listed<NetworkId>,
    /// Left alone: their state changed moments ago.
    #[serde(default)]
    pub settling: Listed<NetworkId>,
    /// Left alone: their health could not be read.
    #[serde(default)]
    pub unknown: Listed<NetworkId>,
    /// Left alone: their last repair failed moments ago.
    #[serde(default)]
    pub cooling_down: Listed<NetworkId>,
    /// Left alone: their repairs keep failing, until an operator looks.
    #[serde(default)]
    pub breaker_open: Listed<NetworkId>,
    /// Repaired: the ops enqueued for each.
    #[serde(default)]
    pub repaired: Listed<Repaired>,
    /// Deleted, their last interface gone.
    #[serde(default)]
    pub deleted: Listed<Repaired>,
    /// Their repair was refused by the enqueue.
    #[serde(default)]
    pub refused: Listed<Refused>,
}

impl PassRecord {
    /// The record of `report`, a pass by `maintainer`.
    pub fn new(maintainer: Role, report: &PassReport) -> Self {
        PassRecord {
            maintainer,
            queue_depth: report.queue_depth,
            skipped_for_queue_depth: report.skipped_for_queue_depth,
            networks: report.networks,
            okay: report.okay,
            busy: Listed::of(&report.busy),
            settling: Listed::of(&report.settling),
            unknown: Listed::of(&report.unknown),
            cooling_down: Listed::of(&report.cooling_down),
            breaker_open: Listed::of(&report.breaker_open),
            repaired: Listed::of(&report.repaired),
            deleted: Listed::of(&report.deleted),
            refused: Listed::of(&report.refused),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeId;

    #[test]
    fn a_record_lists_the_first_networks_of_each_outcome_and_counts_them_all() {
        let busy: Vec<NetworkId> = (0..MAX_LISTED + 5).map(|_| NetworkId::new_v4()).collect();
        let report = PassReport {
            networks: busy.len() + 1,
            okay: 1,
            busy: busy.clone(),
            ..PassReport::default()
        };
        let record = PassRecord::new(Role::NetworkNode(NodeId::new_v4()), &report);
        assert_eq!(record.busy.count, MAX_LISTED + 5);
        assert_eq!(record.busy.first, busy[..MAX_LISTED]);
        assert!(record.busy.is_truncated());
        assert_eq!(record.repaired, Listed::default());
        assert!(!record.repaired.is_truncated());
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(serde_json::from_value::<PassRecord>(json).unwrap(), record);
        let older = serde_json::json!({"maintainer": {"role": "hypervisor", "node": NodeId::new_v4()}, "networks": 2});
        let older: PassRecord = serde_json::from_value(older).unwrap();
        assert_eq!(
            (
                older.networks,
                older.busy.count,
                older.skipped_for_queue_depth
            ),
            (2, 0, false)
        );
    }
}
