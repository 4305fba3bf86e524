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
}

impl Trigger {
    /// A stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Trigger::ConversationQueued => "conversation_queued",
            Trigger::OperatorFreed => "operator_freed",
        }
    }
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
    /// The operator who now holds it.
    pub operator: OperatorId,
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
