//! The task enum the trybuild cases share, so each case shows only what it is about.

use ops_core::OpTask;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    Run,
}

impl OpTask for Task {
    fn name(self) -> &'static str {
        "run"
    }
}
