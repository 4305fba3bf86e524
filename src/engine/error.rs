//! What the engine refuses: every refused input names what was wrong and
//! leaves the engine exactly as it was before the call.

use thiserror::Error;

use crate::ids::{
    ChannelId, ConversationId, OperatorId, ProfileId, QueueId, SkillId, TeamId, TierId,
};
use crate::model::ConversationState;
use crate::policy::PolicyError;
use crate::time::Timestamp;

/// An event or command the engine cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No operator with this id.
    #[error("unknown {0}")]
    UnknownOperator(OperatorId),
    /// An operator with this id already exists.
    #[error("{0} already exists")]
    DuplicateOperator(OperatorId),
    /// No live conversation with this id (it may already have ended).
    #[error("unknown {0} (never arrived, or already resolved or abandoned)")]
    UnknownConversation(ConversationId),
    /// A live conversation with this id already exists.
    #[error("{0} already exists")]
    DuplicateConversation(ConversationId),
    /// The channel is not declared in the policy.
    #[error("unknown {0}")]
    UnknownChannel(ChannelId),
    /// The tier is not declared in the policy.
    #[error("unknown {0}")]
    UnknownTier(TierId),
    /// The skill is not declared in the policy.
    #[error("unknown {0}")]
    UnknownSkill(SkillId),
    /// The queue is not declared in the policy (a conversation's `queue`,
    /// or a transfer's).
    #[error("unknown {0}: declare it in the policy's `queues`")]
    UnknownQueue(QueueId),
    /// The routing profile is not declared in the policy (an operator's `profile`).
    #[error("unknown {0}: declare it in the policy's `profiles`")]
    UnknownProfile(ProfileId),
    /// A proficiency level outside 1–5.
    #[error("{skill} has level {level}; levels run from 1 to 5")]
    LevelOutOfRange {
        /// The skill.
        skill: SkillId,
        /// The level given.
        level: u8,
    },
    /// A skill listed twice for one operator or conversation.
    #[error("{0} is listed twice")]
    DuplicateSkill(SkillId),
    /// A team listed twice for one operator.
    #[error("{0} is listed twice")]
    DuplicateTeam(TeamId),
    /// A channel listed twice in one capacity list.
    #[error("{0} is listed twice in the capacity list")]
    DuplicateChannel(ChannelId),
    /// A conversation requires more skills than supported.
    #[error("{conversation} requires {count} skills; at most {max} are supported")]
    TooManySkills {
        /// The conversation.
        conversation: ConversationId,
        /// Skills required.
        count: usize,
        /// Supported.
        max: usize,
    },
    /// A capacity of 0 listed for a channel (omit the channel instead), or a
    /// claim or transfer on a channel where the operator has no capacity.
    #[error("{operator} has capacity 0 on {channel}")]
    ZeroCapacity {
        /// The operator.
        operator: OperatorId,
        /// The channel.
        channel: ChannelId,
    },
    /// The operator has no free capacity for a claim or transfer.
    #[error("{operator} is at capacity on {channel}")]
    AtCapacity {
        /// The operator.
        operator: OperatorId,
        /// The channel.
        channel: ChannelId,
    },
    /// The operator is offline and cannot take a conversation.
    #[error("{0} is offline")]
    OperatorOffline(OperatorId),
    /// The event does not fit the conversation's current state.
    #[error("cannot {action} {conversation}: it is {state:?}")]
    InvalidTransition {
        /// The conversation.
        conversation: ConversationId,
        /// What was attempted ("resolve", "send a first response on").
        action: &'static str,
        /// Its state.
        state: ConversationState,
    },
    /// No pending offer of this conversation to this operator.
    #[error("{conversation} is not offered to {operator}")]
    NoSuchOffer {
        /// The conversation.
        conversation: ConversationId,
        /// The operator.
        operator: OperatorId,
    },
    /// The offer lapsed before the answer came.
    #[error("the offer of {conversation} lapsed at {expired_at}")]
    OfferExpired {
        /// The conversation.
        conversation: ConversationId,
        /// When it lapsed.
        expired_at: Timestamp,
    },
    /// The offer ended before the answer came, other than by lapsing: the
    /// customer left, the host resolved or transferred the conversation, or
    /// the operator's work was moved (a `Unassigned` decision said so).
    #[error("the offer of {conversation} to {operator} was withdrawn ({cause})")]
    OfferWithdrawn {
        /// The conversation.
        conversation: ConversationId,
        /// The operator who was offered it.
        operator: OperatorId,
        /// Why, as the `Unassigned` decision's cause named it
        /// (`withdrawn`, `operator_away`, …).
        cause: &'static str,
    },
    /// Time went backwards.
    #[error("time went backwards: {got} is before {last}")]
    TimeWentBackwards {
        /// Time given.
        got: Timestamp,
        /// Latest time seen.
        last: Timestamp,
    },
    /// A timestamp too far in the future to be real (beyond 2^53 ms).
    #[error("timestamp {0} is out of range")]
    TimestampOutOfRange(Timestamp),
    /// A [`crate::engine::Event::PolicyChanged`] the engine cannot make;
    /// it keeps the policy it had.
    #[error("policy change refused: {reason}")]
    PolicyChange {
        /// What blocks it.
        reason: PolicyChangeError,
    },
}

/// What blocks a policy change: the new policy itself, or live work that
/// still uses what it drops (end or move that work first).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyChangeError {
    /// The new policy fails [`crate::policy::Policy::validate`].
    #[error("the new policy is invalid: {0}")]
    Invalid(#[from] PolicyError),
    /// The new policy drops a channel a live operator has capacity on or a
    /// live conversation is on.
    #[error("{channel} is still used by {by}")]
    ChannelInUse {
        /// The channel.
        channel: ChannelId,
        /// Who uses it.
        by: UsedBy,
    },
    /// The new policy drops the tier of a live conversation.
    #[error("{tier} is still used by {by}")]
    TierInUse {
        /// The tier.
        tier: TierId,
        /// Who uses it.
        by: UsedBy,
    },
    /// The new policy drops a skill a live operator holds or a live
    /// conversation requires.
    #[error("{skill} is still used by {by}")]
    SkillInUse {
        /// The skill.
        skill: SkillId,
        /// Who uses it.
        by: UsedBy,
    },
    /// The new policy drops the queue of a live conversation.
    #[error("{queue} is still used by {by}")]
    QueueInUse {
        /// The queue.
        queue: QueueId,
        /// Who uses it.
        by: UsedBy,
    },
    /// The new policy drops the routing profile of a live operator.
    #[error("{profile} is still used by {by}")]
    ProfileInUse {
        /// The profile.
        profile: ProfileId,
        /// Who uses it.
        by: UsedBy,
    },
    /// The state does not fit the new policy in another way (as a restore
    /// would refuse it).
    #[error("the state does not fit the new policy: {what} (id {id})")]
    Inconsistent {
        /// What does not add up.
        what: &'static str,
        /// The operator or conversation id concerned (0 if none).
        id: u64,
    },
}

/// Who still uses a channel, tier or skill a new policy drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsedBy {
    /// A live operator.
    Operator(OperatorId),
    /// A live conversation.
    Conversation(ConversationId),
}

impl core::fmt::Display for UsedBy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            UsedBy::Operator(o) => o.fmt(f),
            UsedBy::Conversation(c) => c.fmt(f),
        }
    }
}
