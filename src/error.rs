//! Typed errors. Every failing call names what was wrong and leaves the
//! state exactly as it was before the call.

use thiserror::Error;

use crate::ids::{ChannelId, ConversationId, OperatorId, SkillId, TeamId, TierId};
use crate::model::ConversationState;
use crate::time::Timestamp;

/// A policy that cannot be used to build an engine.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A list that needs at least one entry is empty.
    #[error("policy field `{field}` must not be empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// More channels than the engine supports.
    #[error("policy declares {count} channels; at most {max} are supported")]
    TooManyChannels {
        /// Declared.
        count: usize,
        /// Supported.
        max: usize,
    },
    /// A channel id declared twice.
    #[error("channel {0} is declared twice")]
    DuplicateChannel(ChannelId),
    /// A tier id declared twice.
    #[error("tier {0} is declared twice")]
    DuplicateTier(TierId),
    /// A skill id declared twice.
    #[error("skill {0} is declared twice")]
    DuplicateSkill(SkillId),
    /// A field references a channel that is not declared.
    #[error("policy field `{field}` references undeclared {channel}")]
    UnknownChannel {
        /// The field.
        field: &'static str,
        /// The channel.
        channel: ChannelId,
    },
    /// A field references a skill that is not declared.
    #[error("policy field `{field}` references undeclared {skill}")]
    UnknownSkill {
        /// The field.
        field: &'static str,
        /// The skill.
        skill: SkillId,
    },
    /// A field references a tier that is not declared.
    #[error("policy field `{field}` references undeclared {tier}")]
    UnknownTier {
        /// The field.
        field: &'static str,
        /// The tier.
        tier: TierId,
    },
    /// A number outside its allowed range.
    #[error("policy field `{field}` is {value}; allowed at most {max}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A value that must be positive is zero.
    #[error("policy field `{field}` must not be zero")]
    Zero {
        /// The field.
        field: &'static str,
    },
    /// Overflow steps must take effect strictly one after the other.
    #[error(
        "overflow[{index}].after: the step does not take effect after the step before it \
         (from_routing timing needs increasing `after`, from_previous_step needs `after` above 0)"
    )]
    OverflowOutOfOrder {
        /// Index of the offending step.
        index: usize,
    },
}

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
}

/// Any error from this crate.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`PolicyError`].
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// See [`EngineError`].
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// See [`crate::engine::SnapshotError`].
    #[error(transparent)]
    Snapshot(#[from] crate::engine::SnapshotError),
    /// See [`crate::kpi::KpiError`].
    #[error(transparent)]
    Kpi(#[from] crate::kpi::KpiError),
    /// See [`crate::staffing::StaffingError`].
    #[error(transparent)]
    Staffing(#[from] crate::staffing::StaffingError),
    /// See [`crate::sim::run::SimError`].
    #[error(transparent)]
    Sim(#[from] crate::sim::run::SimError),
    /// See [`crate::proficiency::ProficiencyError`].
    #[error(transparent)]
    Proficiency(#[from] crate::proficiency::ProficiencyError),
}
