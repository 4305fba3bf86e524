//! The domain model: operators, conversations, skills, tiers and channels,
//! as the host describes them to the engine.
//!
//! These are plain descriptions ("specs"). The engine keeps its own runtime
//! state (load, lifecycle, timers) beside them.
//!
//! # Example
//!
//! ```
//! use switchboard::model::{ConversationSpec, OperatorSpec, OperatorStatus};
//! use switchboard::{ChannelId, ConversationId, OperatorId, SkillId, TeamId, TierId};
//!
//! let chat = ChannelId(1);
//! let mina = OperatorSpec::new(OperatorId(7))
//!     .status(OperatorStatus::Available)
//!     .capacity(chat, 3)
//!     .skill(SkillId(1), 4)
//!     .team(TeamId(100));
//! let question = ConversationSpec::new(ConversationId(1), chat, TierId(1)).skill(SkillId(1), 2);
//! assert_eq!(mina.skills[0].level, 4);
//! assert_eq!(question.skills[0].level, 2);
//! ```

use smallvec::SmallVec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::ids::{
    ChannelId, ConversationId, OperatorId, ProfileId, QueueId, SkillId, TeamId, TierId,
};
use crate::time::Millis;

/// The lowest proficiency level.
pub const MIN_LEVEL: u8 = 1;
/// The highest proficiency level.
pub const MAX_LEVEL: u8 = 5;
/// The most channels a policy may declare (they are kept in bit masks).
pub const MAX_CHANNELS: usize = 16;
/// The most skills one conversation may require.
pub const MAX_REQUIRED_SKILLS: usize = 4;

/// A skill an operator holds, at a proficiency level from 1 (novice) to 5 (expert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SkillLevel {
    /// The skill.
    pub skill: SkillId,
    /// Proficiency, 1–5.
    pub level: u8,
}

impl SkillLevel {
    /// Shorthand for `SkillLevel { skill, level }`.
    pub const fn new(skill: SkillId, level: u8) -> Self {
        SkillLevel { skill, level }
    }
}

/// How many conversations an operator may hold at once on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ChannelCapacity {
    /// The channel.
    pub channel: ChannelId,
    /// Most conversations held at once on it (0 = never routed this channel).
    pub capacity: u16,
}

/// Whether an operator takes new work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum OperatorStatus {
    /// Receives new conversations (within capacity, skills, team and wrap-up).
    Available,
    /// Keeps the conversations held but receives no new ones (break, meeting).
    Away,
    /// Logged out: receives nothing.
    #[default]
    Offline,
}

impl OperatorStatus {
    /// Every status, in a fixed order (for counts and reports).
    pub const ALL: [OperatorStatus; 3] = [Self::Available, Self::Away, Self::Offline];

    /// A stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }
}

/// An operator as the host describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct OperatorSpec {
    /// The host's id for this operator.
    pub id: OperatorId,
    /// Initial status.
    #[cfg_attr(feature = "serde", serde(default))]
    pub status: OperatorStatus,
    /// Capacity per channel; channels not listed have capacity 0.
    pub capacity: SmallVec<[ChannelCapacity; 4]>,
    /// Skills with their levels; each skill at most once.
    #[cfg_attr(feature = "serde", serde(default))]
    pub skills: SmallVec<[SkillLevel; 8]>,
    /// Teams the operator belongs to.
    #[cfg_attr(feature = "serde", serde(default))]
    pub teams: SmallVec<[TeamId; 2]>,
    /// Wrap-up time after each resolved conversation, overriding the policy's
    /// default for this operator.
    #[cfg_attr(feature = "serde", serde(default))]
    pub wrap_up: Option<Millis>,
    /// The routing profile ([`crate::policy::RoutingProfile`]): which queues
    /// they serve, in which priority, after which delay. `None`: every
    /// queue, alike.
    #[cfg_attr(feature = "serde", serde(default))]
    pub profile: Option<ProfileId>,
}

impl OperatorSpec {
    /// An offline operator with no capacity, skills or teams yet.
    pub fn new(id: OperatorId) -> Self {
        OperatorSpec {
            id,
            status: OperatorStatus::Offline,
            capacity: SmallVec::new(),
            skills: SmallVec::new(),
            teams: SmallVec::new(),
            wrap_up: None,
            profile: None,
        }
    }

    /// Sets the status.
    pub fn status(mut self, status: OperatorStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets the capacity on one channel.
    pub fn capacity(mut self, channel: ChannelId, capacity: u16) -> Self {
        match self.capacity.iter_mut().find(|c| c.channel == channel) {
            Some(c) => c.capacity = capacity,
            None => self.capacity.push(ChannelCapacity { channel, capacity }),
        }
        self
    }

    /// Adds a skill at a level.
    pub fn skill(mut self, skill: SkillId, level: u8) -> Self {
        self.skills.push(SkillLevel { skill, level });
        self
    }

    /// Adds a team.
    pub fn team(mut self, team: TeamId) -> Self {
        self.teams.push(team);
        self
    }

    /// Sets this operator's own wrap-up time.
    pub fn wrap_up(mut self, wrap_up: Millis) -> Self {
        self.wrap_up = Some(wrap_up);
        self
    }

    /// Sets the routing profile.
    pub fn profile(mut self, profile: ProfileId) -> Self {
        self.profile = Some(profile);
        self
    }
}

/// A conversation as the host describes it when the customer asks for an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct ConversationSpec {
    /// The host's id for this conversation.
    pub id: ConversationId,
    /// The channel it arrives on.
    pub channel: ChannelId,
    /// The customer's tier (plan / segment).
    pub tier: TierId,
    /// Skills required, each with a minimum level. The first is the primary
    /// skill (used by proficiency-based selection).
    #[cfg_attr(feature = "serde", serde(default))]
    pub skills: SmallVec<[SkillLevel; 2]>,
    /// Only operators of this team may take it (until an overflow step widens it).
    #[cfg_attr(feature = "serde", serde(default))]
    pub team: Option<TeamId>,
    /// The customer's previous operator, tried first.
    #[cfg_attr(feature = "serde", serde(default))]
    pub preferred_operator: Option<OperatorId>,
    /// The queue whose rules route it ([`crate::policy::QueueSpec`]);
    /// `None`: the default queue (the policy's own rules).
    #[cfg_attr(feature = "serde", serde(default))]
    pub queue: Option<QueueId>,
}

impl ConversationSpec {
    /// A conversation with no skill, team or preference.
    pub fn new(id: ConversationId, channel: ChannelId, tier: TierId) -> Self {
        ConversationSpec {
            id,
            channel,
            tier,
            skills: SmallVec::new(),
            team: None,
            preferred_operator: None,
            queue: None,
        }
    }

    /// Requires a skill at a minimum level.
    pub fn skill(mut self, skill: SkillId, min_level: u8) -> Self {
        self.skills.push(SkillLevel {
            skill,
            level: min_level,
        });
        self
    }

    /// Targets a team.
    pub fn team(mut self, team: TeamId) -> Self {
        self.team = Some(team);
        self
    }

    /// Names the customer's previous operator.
    pub fn preferred_operator(mut self, operator: OperatorId) -> Self {
        self.preferred_operator = Some(operator);
        self
    }

    /// Puts it in a queue.
    pub fn queue(mut self, queue: QueueId) -> Self {
        self.queue = Some(queue);
        self
    }
}

/// Where a conversation is in its life.
///
/// `WithBot → Waiting → (Offered →) Assigned → Responded → Resolved`, or
/// `Waiting → Abandoned`, or `Waiting → MessageLeft → Resolved`. Resolved and
/// Abandoned conversations leave the engine (their lifecycle record is kept
/// for the KPI calculators, see [`crate::engine::Engine::take_records`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum ConversationState {
    /// Talking to a bot; has not asked for an operator yet.
    WithBot,
    /// Asked for an operator; in the routing queue.
    Waiting,
    /// Offered to an operator who has not accepted yet.
    Offered,
    /// Held by an operator who has not replied yet.
    Assigned,
    /// Held by an operator who has replied.
    Responded,
    /// The customer left a message instead of waiting; not routed.
    MessageLeft,
    /// Done (terminal).
    Resolved,
    /// The customer left before an operator was assigned (terminal).
    Abandoned,
}

impl ConversationState {
    /// A stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WithBot => "with_bot",
            Self::Waiting => "waiting",
            Self::Offered => "offered",
            Self::Assigned => "assigned",
            Self::Responded => "responded",
            Self::MessageLeft => "message_left",
            Self::Resolved => "resolved",
            Self::Abandoned => "abandoned",
        }
    }

    /// Held by (or offered to) an operator.
    pub const fn is_held(self) -> bool {
        matches!(self, Self::Offered | Self::Assigned | Self::Responded)
    }
}

/// Where a transfer sends a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum TransferTarget {
    /// Straight to this operator (who must be logged in and have capacity).
    Operator(OperatorId),
    /// Back to routing, for this team only.
    Team(TeamId),
    /// Back to routing with no team restriction, in the same queue.
    Queue,
    /// Back to routing with no team restriction, in another queue (its
    /// rules from now on, its wait counted from the transfer).
    ToQueue(QueueId),
}
