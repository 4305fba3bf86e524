//! What the engine answers: decisions, each with the reason it was made.

use core::fmt;

use smallvec::SmallVec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, ConversationId, OperatorId, QueueId, SkillId, TierId};
use crate::time::{Millis, Timestamp};

/// Why this operator was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
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
    /// Fewest conversations handled since the reset point.
    FewestHandled,
    /// First by the queue's order keys.
    OrderBy,
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
            Route::FewestHandled => "fewest_handled",
            Route::OrderBy => "order_by",
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// Its queue (`None`: the default queue; left out of JSON then, so
    /// logs of engines without queues read as before).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub queue: Option<QueueId>,
    /// When.
    pub at: Timestamp,
    /// Sequence number of the input that produced it (1 = first input the
    /// engine applied), so a consumer can drop duplicates after a failover.
    pub input_seq: u64,
    /// Why.
    pub reason: Reason,
}

// ----- sentences --------------------------------------------------------------
// `Display` reads as a sentence for logs and examples; `as_str` stays the
// stable machine name.

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Route::PreferredOperator => "preferred operator",
            Route::LeastLoaded => "least loaded",
            Route::LongestIdle => "longest idle",
            Route::RoundRobin => "round robin",
            Route::MostProficient => "most proficient",
            Route::FewestConversations => "fewest conversations",
            Route::Ring => "next in the ring",
            Route::FixedOrder => "first in fixed order",
            Route::FewestHandled => "fewest handled",
            Route::OrderBy => "first by the queue's order keys",
            Route::SkillDevelopment => "skill development",
        })
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Trigger::ConversationQueued => "conversation queued",
            Trigger::OperatorFreed => "operator freed",
            Trigger::Rebalance => "rebalance",
        })
    }
}

impl fmt::Display for MoveCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoveCause::OperatorAway => "operator went away",
            MoveCause::OperatorOffline => "operator went offline",
            MoveCause::AwayTooLong => "operator away too long",
            MoveCause::LoadSkew => "load skew",
            MoveCause::CapacityCut => "capacity cut",
            MoveCause::Requested => "rebalance requested",
            MoveCause::OfferExpired => "offer expired",
            MoveCause::OfferRejected => "offer rejected",
            MoveCause::Withdrawn => "offer withdrawn",
            MoveCause::OperatorRemoved => "operator removed",
        })
    }
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecisionKind::Assigned => f.write_str("assigned"),
            DecisionKind::Offered { expires_at } => write!(f, "offered until {expires_at}"),
            DecisionKind::Unassigned { cause } => write!(f, "unassigned: {cause}"),
        }
    }
}

/// `least loaded (load 1/3), on conversation queued, waited 12 s`, then the
/// overflow step and the skills matched when there are any.
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (load {}/{}), on {}, waited {}",
            self.route, self.load_before, self.capacity, self.trigger, self.waited
        )?;
        if self.overflow_step > 0 {
            write!(f, ", overflow step {}", self.overflow_step)?;
        }
        for m in &self.matched {
            write!(f, ", {} ≥{} (has {})", m.skill, m.required, m.level)?;
        }
        Ok(())
    }
}

/// `conversation #3 → operator #7: least loaded (load 1/3), on conversation
/// queued, waited 12 s`; an offer names its lapse, a move its cause.
impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(q) = self.queue {
            write!(f, "[{q}] ")?;
        }
        match self.kind {
            DecisionKind::Assigned => {
                write!(
                    f,
                    "{} → {}: {}",
                    self.conversation, self.operator, self.reason
                )
            }
            DecisionKind::Offered { expires_at } => write!(
                f,
                "{} offered to {} until {}: {}",
                self.conversation, self.operator, expires_at, self.reason
            ),
            DecisionKind::Unassigned { cause } => write!(
                f,
                "{} taken from {}: {}",
                self.conversation, self.operator, cause
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(kind: DecisionKind) -> Decision {
        Decision {
            conversation: ConversationId(3),
            operator: OperatorId(7),
            kind,
            channel: ChannelId(1),
            tier: TierId(1),
            queue: None,
            at: Timestamp(12_000),
            input_seq: 4,
            reason: Reason {
                route: Route::LeastLoaded,
                trigger: Trigger::ConversationQueued,
                matched: SmallVec::new(),
                load_before: 1,
                capacity: 3,
                waited: Millis(12_000),
                overflow_step: 0,
            },
        }
    }

    #[test]
    fn decisions_read_as_sentences() {
        assert_eq!(
            decision(DecisionKind::Assigned).to_string(),
            "conversation #3 → operator #7: least loaded (load 1/3), on conversation queued, waited 12 s"
        );
        assert_eq!(
            decision(DecisionKind::Offered {
                expires_at: Timestamp(42_000)
            })
            .to_string(),
            "conversation #3 offered to operator #7 until 42000 ms: least loaded (load 1/3), \
             on conversation queued, waited 12 s"
        );
        assert_eq!(
            decision(DecisionKind::Unassigned {
                cause: MoveCause::OfferExpired
            })
            .to_string(),
            "conversation #3 taken from operator #7: offer expired"
        );
        let mut d = decision(DecisionKind::Assigned);
        d.reason.overflow_step = 1;
        d.reason.matched.push(SkillMatch {
            skill: SkillId(2),
            required: 3,
            level: 5,
        });
        assert!(
            d.reason
                .to_string()
                .ends_with("waited 12 s, overflow step 1, skill #2 ≥3 (has 5)")
        );
        assert_eq!(
            DecisionKind::Unassigned {
                cause: MoveCause::Withdrawn
            }
            .to_string(),
            "unassigned: offer withdrawn"
        );
    }

    /// Every variant has a sentence distinct from the others.
    #[test]
    fn every_variant_has_its_own_words() {
        use MoveCause as M;
        let causes = [
            M::OperatorAway,
            M::OperatorOffline,
            M::AwayTooLong,
            M::LoadSkew,
            M::CapacityCut,
            M::Requested,
            M::OfferExpired,
            M::OfferRejected,
            M::Withdrawn,
            M::OperatorRemoved,
        ];
        let mut words: Vec<String> = causes.iter().map(|c| c.to_string()).collect();
        words.sort();
        words.dedup();
        assert_eq!(words.len(), causes.len());
        use Route as R;
        let routes = [
            R::PreferredOperator,
            R::LeastLoaded,
            R::LongestIdle,
            R::RoundRobin,
            R::MostProficient,
            R::FewestConversations,
            R::Ring,
            R::FixedOrder,
            R::SkillDevelopment,
        ];
        let mut words: Vec<String> = routes.iter().map(|r| r.to_string()).collect();
        words.sort();
        words.dedup();
        assert_eq!(words.len(), routes.len());
    }
}
