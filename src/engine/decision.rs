//! What the engine answers: decisions, each with the reason it was made.

use smallvec::SmallVec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, ConversationId, OperatorId, SkillId, TierId};
use crate::time::{Millis, Timestamp};

/// Why this operator was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Route {
    /// The customer's previous operator could take it.
    PreferredOperator,
    /// Lowest load ratio.
    LeastLoaded,
    /// Idle longest.
    LongestIdle,
    /// Least recently picked.
    RoundRobin,
    /// Highest level in the primary skill.
    MostProficient,
    /// Fewest open conversations.
    FewestConversations,
    /// Next in the ring after the last one picked.
    Ring,
    /// First eligible in fixed order.
    FixedOrder,
    /// Skill development: a demanding conversation deliberately given to the
    /// least proficient eligible operator.
    SkillDevelopment,
}

impl Route {
    /// A stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Route::PreferredOperator => "preferred_operator",
            Route::LeastLoaded => "least_loaded",
            Route::LongestIdle => "longest_idle",
            Route::RoundRobin => "round_robin",
            Route::MostProficient => "most_proficient",
            Route::FewestConversations => "fewest_conversations",
            Route::Ring => "ring",
            Route::FixedOrder => "fixed_order",
            Route::SkillDevelopment => "skill_development",
        }
    }
}

/// What made the engine look for a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Trigger {
    /// The conversation entered the queue or its requirements relaxed.
    ConversationQueued,
    /// An operator gained room (freed capacity, became available, wrap-up ended).
    OperatorFreed,
    /// A rebalance moved it.
    Rebalance,
}

impl Trigger {
    /// A stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Trigger::ConversationQueued => "conversation_queued",
            Trigger::OperatorFreed => "operator_freed",
            Trigger::Rebalance => "rebalance",
        }
    }
}

/// Why a conversation was taken away from an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum MoveCause {
    /// The operator went away; it had no reply yet.
    OperatorAway,
    /// The operator went offline (every conversation they held moves).
    OperatorOffline,
    /// The operator has been away longer than the policy allows; replied ones move too.
    AwayTooLong,
    /// The operator's load ratio exceeded another eligible operator's by more than the margin.
    LoadSkew,
    /// The operator's capacity was cut below their load.
    CapacityCut,
    /// The host asked to rebalance this operator.
    Requested,
    /// The operator did not accept the offer in time.
    OfferExpired,
    /// The operator rejected the offer.
    OfferRejected,
    /// The offer was still ringing when the conversation ended or was
    /// redirected (the customer left, the host resolved or transferred it):
    /// stop ringing that operator. The conversation does not wait again
    /// unless the transfer sent it back to the queue.
    Withdrawn,
    /// The operator was removed from the roster; what they held waits again.
    OperatorRemoved,
}

impl MoveCause {
    /// A stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            MoveCause::OperatorAway => "operator_away",
            MoveCause::OperatorOffline => "operator_offline",
            MoveCause::AwayTooLong => "away_too_long",
            MoveCause::LoadSkew => "load_skew",
            MoveCause::CapacityCut => "capacity_cut",
            MoveCause::Requested => "requested",
            MoveCause::OfferExpired => "offer_expired",
            MoveCause::OfferRejected => "offer_rejected",
            MoveCause::Withdrawn => "withdrawn",
            MoveCause::OperatorRemoved => "operator_removed",
        }
    }
}

/// What a decision does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum DecisionKind {
    /// The operator now holds the conversation.
    Assigned,
    /// The conversation is offered; the operator holds it (and its capacity)
    /// until they accept, reject, or the offer lapses.
    Offered {
        /// When the offer lapses.
        expires_at: Timestamp,
    },
    /// The conversation was taken away from the operator (for an offer: stop
    /// ringing them) and is waiting again (a later decision in the same batch
    /// may place it), except after [`MoveCause::Withdrawn`], where it ended
    /// or went where the host's transfer sent it.
    Unassigned {
        /// Why.
        cause: MoveCause,
    },
}

/// One required skill and the level the chosen operator holds in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SkillMatch {
    /// The skill.
    pub skill: SkillId,
    /// The minimum level in force at the decision (after overflow relaxations).
    pub required: u8,
    /// The operator's level.
    pub level: u8,
}

/// Why a decision was made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Reason {
    /// Which rule chose the operator.
    pub route: Route,
    /// What started the search.
    pub trigger: Trigger,
    /// Required skills (in force) and the operator's levels.
    pub matched: SmallVec<[SkillMatch; 2]>,
    /// The operator's load on the channel just before.
    pub load_before: u16,
    /// The operator's capacity on the channel.
    pub capacity: u16,
    /// How long the customer had waited.
    pub waited: Millis,
    /// Overflow steps in force (0 = original requirements).
    pub overflow_step: u8,
}

/// One routing decision: this conversation goes to this operator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[must_use]
pub struct Decision {
    /// The conversation.
    pub conversation: ConversationId,
    /// The operator it goes to (or, for [`DecisionKind::Unassigned`], leaves).
    pub operator: OperatorId,
    /// Assigned, offered or unassigned.
    pub kind: DecisionKind,
    /// Its channel.
    pub channel: ChannelId,
    /// Its tier.
    pub tier: TierId,
    /// When.
    pub at: Timestamp,
    /// Sequence number of the input that produced it (1 = first input the
    /// engine applied), so a consumer can drop duplicates after a failover.
    pub input_seq: u64,
    /// Why.
    pub reason: Reason,
}
