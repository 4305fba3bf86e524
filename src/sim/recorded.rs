//! What a lifecycle record says about its customer's wait, read the same
//! way by [`super::fit`] (patience estimates) and [`super::trace`] (replayed
//! patience): messages left at `abandoned_at` and abandons are observed
//! patience; an assignment, or a close without one at `resolved_at`, ends the
//! wait otherwise (patience is at least that: right-censored).

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::record::ConversationRecord;
use crate::time::{Millis, Timestamp};

/// How a recorded wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum RecordedWait {
    /// The customer left (abandoned, or left a message) after this long: an observed patience.
    Left(Millis),
    /// The wait ended otherwise (assigned, or closed unassigned) after this long: patience is
    /// at least this (right-censored).
    Censored(Millis),
    /// Nothing says (still pending, or a message left without its time).
    Unknown,
}

/// The customer's wait as the record ends it.
pub(super) fn wait_of(r: &ConversationRecord) -> RecordedWait {
    let since = |t: Timestamp| Millis(t.0.saturating_sub(r.asked_at.0));
    if r.message_left {
        return r
            .abandoned_at
            .map_or(RecordedWait::Unknown, |t| RecordedWait::Left(since(t)));
    }
    if let Some(t) = r.assigned_at {
        return RecordedWait::Censored(since(t));
    }
    if let Some(t) = r.abandoned_at {
        return RecordedWait::Left(since(t));
    }
    r.resolved_at
        .map_or(RecordedWait::Unknown, |t| RecordedWait::Censored(since(t)))
}

/// The first pair of times out of order (`(field, before)`: `field` is
/// earlier than `before`), if any: a wait or handle time cannot be read
/// from such a record.
pub(super) fn out_of_order(r: &ConversationRecord) -> Option<(&'static str, &'static str)> {
    if r.assigned_at.is_some_and(|t| t < r.asked_at) {
        return Some(("assigned_at", "asked_at"));
    }
    if r.abandoned_at.is_some_and(|t| t < r.asked_at) {
        return Some(("abandoned_at", "asked_at"));
    }
    if r.resolved_at.is_some_and(|t| t < r.asked_at) {
        return Some(("resolved_at", "asked_at"));
    }
    match (r.assigned_at, r.resolved_at) {
        (Some(a), Some(z)) if z < a => Some(("resolved_at", "assigned_at")),
        _ => None,
    }
}
