//! [`Priority`]: how urgent an operation is. Lower values are more urgent.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The priority of a cluster operation (Shaken Fist's `PRIORITY`), serialised by name.
///
/// There is no `Default`: every caller chooses, as in Shaken Fist, because a wrong default silently starves
/// user-facing work behind background sweeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// A user is blocked waiting on this op (10).
    UserWaiting,
    /// Triggered by a user request (20).
    UserFacing,
    /// Triggered by a user request and heavy on I/O (25).
    UserFacingHighIo,
    /// Housekeeping (30).
    Background,
    /// Housekeeping heavy on I/O (40).
    BackgroundHighIo,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 5] = [
        Priority::UserWaiting,
        Priority::UserFacing,
        Priority::UserFacingHighIo,
        Priority::Background,
        Priority::BackgroundHighIo,
    ];

    /// The numeric value; lower is more urgent.
    pub const fn value(self) -> u8 {
        match self {
            Priority::UserWaiting => 10,
            Priority::UserFacing => 20,
            Priority::UserFacingHighIo => 25,
            Priority::Background => 30,
            Priority::BackgroundHighIo => 40,
        }
    }

    /// The name used on the wire, in queue names and in the database.
    pub const fn name(self) -> &'static str {
        match self {
            Priority::UserWaiting => "user_waiting",
            Priority::UserFacing => "user_facing",
            Priority::UserFacingHighIo => "user_facing_high_io",
            Priority::Background => "background",
            Priority::BackgroundHighIo => "background_high_io",
        }
    }
}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Ordered by value: `UserWaiting < Background`, so "more urgent" is "less than".
impl Ord for Priority {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value().cmp(&other.value())
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Priority {
    type Err = UnknownPriority;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPriority(s.to_owned()))
    }
}

/// A string that names no [`Priority`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown priority `{0}`; expected one of: user_waiting, user_facing, user_facing_high_io, background, background_high_io"
)]
pub struct UnknownPriority(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_shaken_fist() {
        let values: Vec<u8> = Priority::ALL.iter().map(|p| p.value()).collect();
        assert_eq!(values, [10, 20, 25, 30, 40]);
    }

    #[test]
    fn serialises_by_name() {
        for p in Priority::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<Priority>(&json).unwrap(), p);
            assert_eq!(p.name().parse::<Priority>().unwrap(), p);
        }
        assert!(serde_json::from_str::<Priority>("20").is_err());
        assert!(serde_json::from_str::<Priority>("\"USER_FACING\"").is_err());
    }

    #[test]
    fn lower_value_is_more_urgent() {
        assert!(Priority::UserWaiting < Priority::UserFacing);
        assert!(Priority::UserFacingHighIo < Priority::Background);
        assert_eq!(Priority::ALL.iter().min(), Some(&Priority::UserWaiting));
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        let err = "urgent".parse::<Priority>().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown priority `urgent`; expected one of: user_waiting")
        );
    }
}
