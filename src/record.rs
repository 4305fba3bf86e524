//! Lifecycle records: what happened, as the engine emits it and as the KPI
//! calculators read it. They sit below the engine and the KPIs so that both
//! (and the C API, which mirrors them once) share one shape.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::ids::OperatorId;
use crate::time::Timestamp;

/// What an operator was doing, for occupancy: busy ÷ (busy + idle).
///
/// Not the same as [`crate::model::OperatorStatus`], which is what the
/// operator *chose* (available, away, offline): an available operator is
/// busy or idle depending on the work they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Activity {
    /// Available and holding at least one conversation (an offer ringing
    /// counts), or in wrap-up after one: after-contact work is work.
    Busy,
    /// Available and holding none, not in wrap-up.
    Idle,
    /// Logged in but not taking work; counts as neither busy nor idle.
    Away,
    /// Logged out; counts as neither.
    Offline,
}

impl Activity {
    /// A stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Activity::Busy => "busy",
            Activity::Idle => "idle",
            Activity::Away => "away",
            Activity::Offline => "offline",
        }
    }
}

/// One interval `[start, end)` of an operator's activity: emitted by the
/// engine each time an operator's activity changes (see
/// [`crate::engine::Engine::take_records`]), or passed in by a host with
/// its own status history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StatusInterval {
    /// The operator.
    pub operator: OperatorId,
    /// What they were doing.
    pub status: Activity,
    /// Start, inclusive.
    pub start: Timestamp,
    /// End, exclusive.
    pub end: Timestamp,
}
