//! Every input the engine accepts, as one type, so a stored log replays into
//! the identical state and decisions.

use smallvec::SmallVec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, ConversationId, OperatorId, ProfileId, TeamId};
use crate::model::{ConversationSpec, OperatorSpec, OperatorStatus, SkillLevel, TransferTarget};
use crate::policy::Policy;
use crate::time::Timestamp;

/// One input to the engine. Each carries the time it happened (`at`), which
/// must never be earlier than the previous input's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case", tag = "type")
)]
#[non_exhaustive]
pub enum Event {
    /// An operator joins the roster.
    OperatorAdded {
        /// When.
        at: Timestamp,
        /// Who, with status, capacity, skills and teams.
        operator: OperatorSpec,
    },
    /// An operator leaves the roster; every conversation they hold goes back
    /// to routing with its original priority.
    OperatorRemoved {
        /// When.
        at: Timestamp,
        /// Who.
        operator: OperatorId,
    },
    /// Available, away or offline.
    OperatorStatusChanged {
        /// When.
        at: Timestamp,
        /// Who.
        operator: OperatorId,
        /// The new status.
        status: OperatorStatus,
    },
    /// Capacity on one channel changes (0 stops new work there; held
    /// conversations are never dropped, the operator receives nothing until
    /// under the new capacity).
    OperatorCapacityChanged {
        /// When.
        at: Timestamp,
        /// Who.
        operator: OperatorId,
        /// Which channel.
        channel: ChannelId,
        /// The new capacity.
        capacity: u16,
    },
    /// The operator's skills and levels are replaced.
    OperatorSkillsChanged {
        /// When.
        at: Timestamp,
        /// Who.
        operator: OperatorId,
        /// The new skills.
        skills: SmallVec<[SkillLevel; 8]>,
    },
    /// The operator's teams are replaced.
    OperatorTeamsChanged {
        /// When.
        at: Timestamp,
        /// Who.
        operator: OperatorId,
        /// The new teams.
        teams: SmallVec<[TeamId; 2]>,
    },
    /// The operator's routing profile is replaced (`None`: every queue alike).
    /// Their held work stays with them.
    OperatorProfileChanged {
        /// When.
        at: Timestamp,
        /// Who.
        operator: OperatorId,
        /// The new profile.
        profile: Option<ProfileId>,
    },
    /// Every operator's count of handled conversations starts again from 0
    /// (the reset point of [`crate::policy::Selection::FewestHandled`], a
    /// shift or day start). Re-keys every ready operator once.
    HandledCountsReset {
        /// When.
        at: Timestamp,
    },
    /// A customer starts talking to the bot (counted as "with the bot"; not routed).
    BotConversationStarted {
        /// When.
        at: Timestamp,
        /// The conversation as known so far.
        conversation: ConversationSpec,
    },
    /// The customer asks for an operator: the conversation enters the queue.
    /// If it was with the bot, the spec given here replaces the bot's.
    ConversationArrived {
        /// When the customer asked (the start of every wait).
        at: Timestamp,
        /// The conversation.
        conversation: ConversationSpec,
    },
    /// The holding operator sent their first reply.
    FirstResponseSent {
        /// When.
        at: Timestamp,
        /// Which conversation.
        conversation: ConversationId,
    },
    /// Done; the operator enters wrap-up.
    ConversationResolved {
        /// When.
        at: Timestamp,
        /// Which conversation.
        conversation: ConversationId,
    },
    /// The customer left while waiting.
    ConversationAbandoned {
        /// When.
        at: Timestamp,
        /// Which conversation.
        conversation: ConversationId,
    },
    /// The customer left a message instead of waiting.
    MessageLeft {
        /// When.
        at: Timestamp,
        /// Which conversation.
        conversation: ConversationId,
    },
    /// A held conversation moves to another operator, or back to routing.
    ConversationTransferred {
        /// When.
        at: Timestamp,
        /// Which conversation.
        conversation: ConversationId,
        /// Where to.
        to: TransferTarget,
    },
    /// An operator takes a waiting conversation by hand. Checks status (not
    /// offline) and capacity, not skills: the operator chose it.
    ConversationClaimed {
        /// When.
        at: Timestamp,
        /// Which conversation.
        conversation: ConversationId,
        /// Who claims it.
        operator: OperatorId,
    },
    /// The operator accepts a pending offer.
    OfferAccepted {
        /// When.
        at: Timestamp,
        /// Which conversation.
        conversation: ConversationId,
        /// Who accepts.
        operator: OperatorId,
    },
    /// The operator rejects a pending offer; it goes to the next eligible operator.
    OfferRejected {
        /// When.
        at: Timestamp,
        /// Which conversation.
        conversation: ConversationId,
        /// Who rejects.
        operator: OperatorId,
    },
    /// Time passes: timers up to `at` fire (wrap-up ends, offer lapses,
    /// overflow steps), nothing is matched. For hosts that route by hand.
    Tick {
        /// When.
        at: Timestamp,
    },
    /// Match waiting conversations with operators; see [`crate::engine::Engine::assign`].
    Assign {
        /// When.
        at: Timestamp,
    },
    /// Move work that should move, then match; see [`crate::engine::Engine::rebalance`].
    Rebalance {
        /// When.
        at: Timestamp,
    },
    /// Move this operator's unanswered conversations to others (they are
    /// not routed back to this operator), then match.
    RebalanceOperator {
        /// When.
        at: Timestamp,
        /// Whose work moves.
        operator: OperatorId,
    },
    /// The policy changes; its rules apply from `at`. Refused (the engine
    /// unchanged) if the policy is invalid or drops a channel, tier or
    /// skill that live work still uses. Waiting conversations are queued
    /// again under the new order, tiers and overflow (their waits keep
    /// counting from when they asked), operators are indexed under the new
    /// selection; held work stays with its holder, offers in flight keep
    /// their expiry. Places nothing itself: the next `assign` does, under
    /// the new rules. See the README's "Policies and defaults".
    PolicyChanged {
        /// When.
        at: Timestamp,
        /// The new policy (boxed: it is far larger than any other event).
        policy: Box<Policy>,
    },
}

impl Event {
    /// When the event happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Event::OperatorAdded { at, .. }
            | Event::OperatorRemoved { at, .. }
            | Event::OperatorStatusChanged { at, .. }
            | Event::OperatorCapacityChanged { at, .. }
            | Event::OperatorSkillsChanged { at, .. }
            | Event::OperatorTeamsChanged { at, .. }
            | Event::OperatorProfileChanged { at, .. }
            | Event::HandledCountsReset { at }
            | Event::BotConversationStarted { at, .. }
            | Event::ConversationArrived { at, .. }
            | Event::FirstResponseSent { at, .. }
            | Event::ConversationResolved { at, .. }
            | Event::ConversationAbandoned { at, .. }
            | Event::MessageLeft { at, .. }
            | Event::ConversationTransferred { at, .. }
            | Event::ConversationClaimed { at, .. }
            | Event::OfferAccepted { at, .. }
            | Event::OfferRejected { at, .. }
            | Event::Tick { at }
            | Event::Assign { at }
            | Event::Rebalance { at }
            | Event::RebalanceOperator { at, .. }
            | Event::PolicyChanged { at, .. } => *at,
        }
    }
}
