//! The interchange row: one conversation request with its lifecycle timestamps.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::KpiError;
use crate::{ChannelId, ConversationId, OperatorId, TeamId, TierId, Timestamp};

/// One request for an operator and what became of it: the row the KPI calculators consume.
///
/// The routing engine converts its lifecycle records into this struct; external logs arrive as
/// CSV (see [`csv`](super::csv)). All timestamps are Unix-epoch milliseconds.
///
/// Field meanings (from `guide/kpi-definitions.md` §0):
/// - `asked_at`: the customer asked for an operator (`t_ask`); every demand KPI runs from it.
/// - `offered_at`: first offer made to an operator, when offers must be accepted (`t_offer`);
///   informational: the wait does not end here.
/// - `assigned_at`: first assignment accepted (`t_accept`); ends the wait.
/// - `first_response_at`: first public human operator message after the ask (`t_reply`).
/// - `resolved_at`: resolved (`t_resolve`).
/// - `abandoned_at`: the customer left (`t_leave`): before assignment it is an abandonment;
///   with `message_left` it is when the message was left; after assignment and before any
///   response it counts as *unanswered after assignment*.
/// - `message_left`: the customer left a message instead of waiting. Such a request is never an
///   abandonment, and a later reply to it is counted as *messages answered*, not as an answer.
/// - `transfers`, `missed_offers`: counts (declined or expired offers before acceptance).
/// - `satisfaction`: a CSAT rating on a 1–5 scale, if the customer rated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(default))]
pub struct ConversationRecord {
    /// The conversation (request) id.
    pub conversation: ConversationId,
    /// The contact channel.
    pub channel: ChannelId,
    /// The customer's tier.
    pub tier: TierId,
    /// The team the request was targeted at, if any.
    pub team: Option<TeamId>,
    /// The operator holding the request at the end (credited with its handling), if any.
    pub operator: Option<OperatorId>,
    /// When the customer asked for an operator.
    pub asked_at: Timestamp,
    /// When it was first offered to an operator (offers that must be accepted); `None` when
    /// assignments were direct or the source does not record offers.
    pub offered_at: Option<Timestamp>,
    /// When the first assignment was accepted.
    pub assigned_at: Option<Timestamp>,
    /// When the first operator response was sent.
    pub first_response_at: Option<Timestamp>,
    /// When the request was resolved.
    pub resolved_at: Option<Timestamp>,
    /// When the customer left (see the type docs).
    pub abandoned_at: Option<Timestamp>,
    /// The customer left a message instead of waiting.
    pub message_left: bool,
    /// Number of transfers.
    pub transfers: u32,
    /// Free-form tags; a request counts under each of its tags.
    pub tags: Vec<String>,
    /// CSAT rating 1–5, if rated.
    pub satisfaction: Option<u8>,
    /// Offers declined or expired before the assignment. Default 0.
    pub missed_offers: u32,
}

/// What became of a request, as the queue KPIs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Outcome {
    /// An operator was assigned (`assigned_at` set, no message left).
    Answered,
    /// The customer left before any assignment (`abandoned_at` set, not assigned, no message).
    Abandoned,
    /// The customer left a message (whatever happened afterwards).
    MessageLeft,
    /// Resolved without ever being assigned (e.g. closed by automation); offered but neither
    /// answered nor abandoned.
    ClosedUnassigned,
    /// Still waiting: none of the above.
    Pending,
}

/// Highest accepted satisfaction score.
pub const SATISFACTION_MAX: u8 = 5;

impl ConversationRecord {
    /// A pending request: asked, nothing else happened yet.
    pub fn new(
        conversation: ConversationId,
        channel: ChannelId,
        tier: TierId,
        asked_at: Timestamp,
    ) -> Self {
        ConversationRecord {
            conversation,
            channel,
            tier,
            asked_at,
            ..Default::default()
        }
    }

    /// The request's outcome. Precedence: message left, then assigned, then left (abandoned),
    /// then resolved (closed unassigned), else pending.
    pub fn outcome(&self) -> Outcome {
        if self.message_left {
            Outcome::MessageLeft
        } else if self.assigned_at.is_some() {
            Outcome::Answered
        } else if self.abandoned_at.is_some() {
            Outcome::Abandoned
        } else if self.resolved_at.is_some() {
            Outcome::ClosedUnassigned
        } else {
            Outcome::Pending
        }
    }

    /// Checks the row on its own (no ordering or duplicate checks: see
    /// [`RecordValidator`](super::RecordValidator)). `line` is echoed in the error.
    ///
    /// # Errors
    /// [`KpiError::BeforeAsk`] (field `offered_at`, `assigned_at`, `first_response_at`, `resolved_at` or
    /// `abandoned_at`, in that order), [`KpiError::AssignedAfterResolved`],
    /// [`KpiError::AbandonedBeforeAssigned`], [`KpiError::OutOfRange`] (field `satisfaction`).
    pub fn validate(&self, line: u64) -> Result<(), KpiError> {
        if self.is_valid() {
            return Ok(());
        }
        self.find_error(line)
    }

    /// Whether [`ConversationRecord::validate`] passes: the same checks as booleans, with no
    /// error to build, since nearly every row is valid and this runs once per row.
    #[inline]
    pub(crate) fn is_valid(&self) -> bool {
        let ask = self.asked_at;
        let after_ask = |t: Option<Timestamp>| t.is_none_or(|t| t >= ask);
        after_ask(self.offered_at)
            & after_ask(self.assigned_at)
            & after_ask(self.first_response_at)
            & after_ask(self.resolved_at)
            & after_ask(self.abandoned_at)
            & match (self.assigned_at, self.resolved_at) {
                (Some(a), Some(r)) => a <= r,
                _ => true,
            }
            & match (self.assigned_at, self.abandoned_at) {
                (Some(a), Some(l)) => l >= a || self.message_left,
                _ => true,
            }
            & self
                .satisfaction
                .is_none_or(|s| (1..=SATISFACTION_MAX).contains(&s))
    }

    /// The first failing check, in the documented order (`Ok` if none fails).
    fn find_error(&self, line: u64) -> Result<(), KpiError> {
        let ask = self.asked_at.0;
        for (field, t) in [
            ("offered_at", self.offered_at),
            ("assigned_at", self.assigned_at),
            ("first_response_at", self.first_response_at),
            ("resolved_at", self.resolved_at),
            ("abandoned_at", self.abandoned_at),
        ] {
            if let Some(t) = t {
                if t.0 < ask {
                    return Err(KpiError::BeforeAsk {
                        line,
                        field,
                        at: t.0,
                        asked_at: ask,
                    });
                }
            }
        }
        if let (Some(a), Some(r)) = (self.assigned_at, self.resolved_at) {
            if a > r {
                return Err(KpiError::AssignedAfterResolved {
                    line,
                    assigned_at: a.0,
                    resolved_at: r.0,
                });
            }
        }
        if let (Some(a), Some(l)) = (self.assigned_at, self.abandoned_at) {
            if l < a && !self.message_left {
                return Err(KpiError::AbandonedBeforeAssigned {
                    line,
                    abandoned_at: l.0,
                    assigned_at: a.0,
                });
            }
        }
        if let Some(s) = self.satisfaction {
            if !(1..=SATISFACTION_MAX).contains(&s) {
                return Err(KpiError::OutOfRange {
                    line,
                    field: "satisfaction",
                    value: u64::from(s),
                    reason: "a satisfaction score is 1 to 5",
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> ConversationRecord {
        ConversationRecord::new(ConversationId(1), ChannelId(0), TierId(0), Timestamp(1_000))
    }

    #[test]
    fn outcome_precedence() {
        let mut r = rec();
        assert_eq!(r.outcome(), Outcome::Pending);
        r.resolved_at = Some(Timestamp(5_000));
        assert_eq!(r.outcome(), Outcome::ClosedUnassigned);
        r.abandoned_at = Some(Timestamp(2_000));
        assert_eq!(r.outcome(), Outcome::Abandoned);
        r.assigned_at = Some(Timestamp(1_500));
        assert_eq!(r.outcome(), Outcome::Answered);
        r.message_left = true;
        assert_eq!(r.outcome(), Outcome::MessageLeft);
    }

    /// The boolean fast path agrees with the checks that build errors, on every combination of
    /// timestamps around the ask, message-left flag and satisfaction value.
    #[test]
    fn fast_check_agrees_with_errors() {
        let times = [
            None,
            Some(0),
            Some(999),
            Some(1_000),
            Some(1_001),
            Some(2_000),
        ];
        for &a in &times {
            for &f in &times {
                for &r in &times {
                    for &l in &times {
                        for ml in [false, true] {
                            for sat in [None, Some(0), Some(1), Some(5), Some(6)] {
                                let mut x = rec();
                                x.assigned_at = a.map(Timestamp);
                                x.first_response_at = f.map(Timestamp);
                                x.resolved_at = r.map(Timestamp);
                                x.abandoned_at = l.map(Timestamp);
                                x.message_left = ml;
                                x.satisfaction = sat;
                                assert_eq!(x.is_valid(), x.find_error(1).is_ok(), "{x:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn validate_names_the_field() {
        let mut r = rec();
        r.first_response_at = Some(Timestamp(999));
        assert_eq!(
            r.validate(3).err().and_then(|e| e.field()),
            Some("first_response_at")
        );
        let mut r = rec();
        r.assigned_at = Some(Timestamp(3_000));
        r.resolved_at = Some(Timestamp(2_000));
        assert!(matches!(
            r.validate(4),
            Err(KpiError::AssignedAfterResolved { line: 4, .. })
        ));
        let mut r = rec();
        r.satisfaction = Some(0);
        assert!(matches!(r.validate(1), Err(KpiError::OutOfRange { .. })));
        r.satisfaction = Some(5);
        assert_eq!(r.validate(1), Ok(()));
    }
}
