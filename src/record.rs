//! Lifecycle records: what happened, as the engine emits it and as the KPI
//! calculators read it. They sit below the engine and the KPIs so that both
//! (and the C API, which mirrors them once) share one shape.
//!
//! # Example
//!
//! ```
//! use switchboard::record::{ConversationRecord, Outcome};
//! use switchboard::{ChannelId, ConversationId, TierId, Timestamp};
//!
//! let mut r = ConversationRecord::new(ConversationId(1), ChannelId(1), TierId(1), Timestamp(0));
//! assert_eq!(r.outcome(), Outcome::Pending);
//! r.assigned_at = Some(Timestamp(15_000));
//! assert_eq!(r.outcome(), Outcome::Answered);
//! ```

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, ConversationId, OperatorId, QueueId, TeamId, TierId};
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

/// One request for an operator and what became of it: the row the KPI calculators consume.
///
/// The routing engine emits it when a conversation that asked for an operator ends
/// ([`crate::engine::Engine::take_records`]); external logs arrive as CSV
/// ([`crate::kpi::csv`]) or from the Anonymous Bank records ([`crate::kpi::bank`]). All
/// timestamps are Unix-epoch milliseconds.
///
/// Field meanings:
/// - `started_at`: when the conversation started, if a bot handled it before the customer
///   asked for an operator (the engine sets the ask when there was no bot part); `None` when
///   the source does not say. No KPI reads it.
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
    /// The queue it was in at the end (`None`: the default queue, or a
    /// source without queues).
    pub queue: Option<QueueId>,
    /// The operator holding the request at the end (credited with its handling), if any.
    pub operator: Option<OperatorId>,
    /// When the conversation started: the bot's start, or the ask (see the type docs).
    pub started_at: Option<Timestamp>,
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
}

/// A conversation the bot handled from start to end: it never asked for an
/// operator, so it is not a request and no queue KPI counts it; a host
/// measuring bot containment counts these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct BotConversationRecord {
    /// The conversation.
    pub conversation: ConversationId,
    /// Its channel.
    pub channel: ChannelId,
    /// The customer's tier.
    pub tier: TierId,
    /// When the bot conversation started.
    pub started_at: Timestamp,
    /// When it was resolved.
    pub resolved_at: Timestamp,
}

/// A conversation that left the engine, in the order they ended: either a
/// request for an operator (the KPI row) or one the bot handled alone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum Finished {
    /// It asked for an operator.
    Request(ConversationRecord),
    /// The bot handled it alone.
    BotOnly(BotConversationRecord),
}

/// A [`Finished`] conversation as one flat row for both kinds: the layout of
/// the snapshot bytes and of the C struct, so each mirrors the record
/// through this one mapping. Absent means "did not happen".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlatFinished {
    pub(crate) id: ConversationId,
    pub(crate) channel: ChannelId,
    pub(crate) tier: TierId,
    pub(crate) team: Option<TeamId>,
    pub(crate) queue: Option<QueueId>,
    pub(crate) operator: Option<OperatorId>,
    pub(crate) started_at: Timestamp,
    pub(crate) asked_at: Option<Timestamp>,
    pub(crate) offered_at: Option<Timestamp>,
    pub(crate) assigned_at: Option<Timestamp>,
    pub(crate) first_response_at: Option<Timestamp>,
    pub(crate) resolved_at: Option<Timestamp>,
    pub(crate) abandoned_at: Option<Timestamp>,
    pub(crate) message_left_at: Option<Timestamp>,
    pub(crate) transfers: u32,
    pub(crate) missed_offers: u32,
}

impl FlatFinished {
    /// The row of a record.
    pub(crate) fn of(f: &Finished) -> FlatFinished {
        match f {
            Finished::Request(r) => FlatFinished {
                id: r.conversation,
                channel: r.channel,
                tier: r.tier,
                team: r.team,
                queue: r.queue,
                operator: r.operator,
                started_at: r.started_at.unwrap_or(r.asked_at),
                asked_at: Some(r.asked_at),
                offered_at: r.offered_at,
                assigned_at: r.assigned_at,
                first_response_at: r.first_response_at,
                resolved_at: r.resolved_at,
                abandoned_at: r.abandoned_at.filter(|_| !r.message_left),
                message_left_at: r.abandoned_at.filter(|_| r.message_left),
                transfers: r.transfers,
                missed_offers: r.missed_offers,
            },
            Finished::BotOnly(b) => FlatFinished {
                id: b.conversation,
                channel: b.channel,
                tier: b.tier,
                team: None,
                queue: None,
                operator: None,
                started_at: b.started_at,
                asked_at: None,
                offered_at: None,
                assigned_at: None,
                first_response_at: None,
                resolved_at: Some(b.resolved_at),
                abandoned_at: None,
                message_left_at: None,
                transfers: 0,
                missed_offers: 0,
            },
        }
    }

    /// The record of a row; `Err` names what no record can be.
    pub(crate) fn into_finished(self) -> Result<Finished, &'static str> {
        let Some(asked_at) = self.asked_at else {
            let bot_only = self.team.is_none()
                && self.queue.is_none()
                && self.operator.is_none()
                && self.offered_at.is_none()
                && self.assigned_at.is_none()
                && self.first_response_at.is_none()
                && self.abandoned_at.is_none()
                && self.message_left_at.is_none()
                && self.transfers == 0
                && self.missed_offers == 0;
            return match (bot_only, self.resolved_at) {
                (true, Some(resolved_at)) => Ok(Finished::BotOnly(BotConversationRecord {
                    conversation: self.id,
                    channel: self.channel,
                    tier: self.tier,
                    started_at: self.started_at,
                    resolved_at,
                })),
                _ => Err(
                    "finished conversation without an ask that is not a resolved bot conversation",
                ),
            };
        };
        if self.abandoned_at.is_some() && self.message_left_at.is_some() {
            return Err("finished conversation both abandoned and with a message left");
        }
        Ok(Finished::Request(ConversationRecord {
            conversation: self.id,
            channel: self.channel,
            tier: self.tier,
            team: self.team,
            queue: self.queue,
            operator: self.operator,
            started_at: Some(self.started_at),
            asked_at,
            offered_at: self.offered_at,
            assigned_at: self.assigned_at,
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            abandoned_at: self.message_left_at.or(self.abandoned_at),
            message_left: self.message_left_at.is_some(),
            transfers: self.transfers,
            tags: Vec::new(),
            satisfaction: None,
            missed_offers: self.missed_offers,
        }))
    }
}
