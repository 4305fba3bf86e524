//! The routing policy: the catalogue (channels, tiers, skills) and every
//! choice that decides who gets which conversation.
//!
//! A policy is plain data (serde), validated once by [`Policy::validate`]
//! before an engine is built from it. Every field has a documented default.
//!
//! Priority numbers: **a lower number is served first** (1 before 2), as in
//! Amazon Connect and Salesforce Omni-Channel.
//!
//! # Choices where other routers disagree
//!
//! Each is an option here, with its default (the README's "Coming from
//! another router" maps every peer's setting): round robin as least recently
//! picked [`Selection::RoundRobin`] or a ring [`Selection::Ring`]; the idle
//! clock [`IdleClock`]; load as a ratio or a count; fixed order from the top
//! [`Selection::FixedOrder`]; strict priority or a head start
//! [`QueueOrder`]; overflow timers from routing or from the previous step
//! [`OverflowTiming`] (default: from routing); per-operator wrap-up,
//! eligible at the end instant; the preferred operator within capacity or
//! above it [`PreferredOperatorPolicy::over_capacity`] (default: within);
//! offer cool-downs [`OfferPolicy`] (default: none); a throughput cap
//! [`ThroughputCap`] (default: none). Operator levels that open with
//! waiting time are skill levels with [`Relax::LowerLevels`] steps.
//!
//! Decided against, and why: after the last step a conversation keeps
//! waiting (a queue timeout is not a routing decision, and what the customer
//! is told is the host's); steps are never skipped for lack of logged-in
//! operators (they wait their time); one preferred operator per conversation,
//! not an ordered list; missed offers set the operator away everywhere, not
//! per team; no ring-all (offers go to one operator at a time) and no random
//! or weighted-random selection (a uniform pick among the eligible needs a
//! scan or an order-statistics index, and the engine draws no randomness, so
//! there is no seed to carry through snapshots).
//!
//! # Example
//!
//! ```
//! use switchboard::policy::{ChannelSpec, Policy, QueueOrder, Selection, SkillSpec, TierSpec};
//! use switchboard::{ChannelId, Millis, SkillId, TierId};
//!
//! let policy = Policy::builder()
//!     .channel(ChannelSpec::new(ChannelId(1), "call").blocks([ChannelId(2)]))
//!     .channel(ChannelSpec::new(ChannelId(2), "chat"))
//!     .tier(TierSpec::new(TierId(1), "enterprise", 1).first_response_target(Millis::from_mins(1)))
//!     .tier(TierSpec::new(TierId(2), "standard", 2).first_response_target(Millis::from_mins(5)))
//!     .skill(SkillSpec::new(SkillId(1), "billing"))
//!     .selection(Selection::MostProficient)
//!     .build()?;
//! assert_eq!(policy.queue_order, QueueOrder::default());
//! // A tier declared twice is refused by name.
//! let twice = Policy::builder()
//!     .channel(ChannelSpec::new(ChannelId(1), "chat"))
//!     .tier(TierSpec::new(TierId(1), "a", 1))
//!     .tier(TierSpec::new(TierId(1), "b", 2))
//!     .build();
//! assert!(twice.is_err());
//! # Ok::<(), switchboard::PolicyError>(())
//! ```

mod codec;
mod queue;

pub use queue::{
    MAX_DELAYS_PER_QUEUE, MAX_PROFILES, MAX_QUEUES, ProfileQueue, QueueSpec, RoutingProfile,
};

use smallvec::SmallVec;
use thiserror::Error;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, ProfileId, QueueId, SkillId, TeamId, TierId};
use crate::model::{MAX_CHANNELS, MAX_LEVEL};
use crate::time::{Millis, Timestamp};

/// A contact channel and which channels it blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct ChannelSpec {
    /// Id used by operators' capacities and conversations.
    pub id: ChannelId,
    /// Display name ("call", "chat").
    pub name: String,
    /// While an operator holds a conversation on this channel, they get no new
    /// work on these channels (a call in progress blocks new chats).
    #[cfg_attr(feature = "serde", serde(default))]
    pub blocks: Vec<ChannelId>,
}

/// A customer tier: how urgent its conversations are and how fast they must be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct TierSpec {
    /// Id used by conversations.
    pub id: TierId,
    /// Display name ("Enterprise").
    pub name: String,
    /// Routing priority: **lower is served first**.
    pub priority: u32,
    /// First-response target (used by earliest-deadline-first ordering and reports).
    pub first_response_target: Millis,
    /// Head start for [`QueueOrder::Aging`]: the conversation is ordered as if
    /// it had asked this much earlier. Default: 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub head_start: Millis,
}

/// A skill known to the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct SkillSpec {
    /// Id used by operators and conversations.
    pub id: SkillId,
    /// Display name ("billing").
    pub name: String,
}

/// The order in which waiting conversations are served.
///
/// Every order ends with arrival sequence (first come, first served), so no
/// two conversations ever tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum QueueOrder {
    /// Tier priority (lower first), then oldest ask first. Low tiers can starve
    /// under sustained load; that is the point of strict classes. Default.
    #[default]
    StrictPriority,
    /// Oldest *effective* ask first, where each tier's
    /// [`TierSpec::head_start`] is subtracted from its ask time
    /// (score = wait + head start, as Asterisk priorities and FreeSWITCH base
    /// scores do). A low-tier conversation that has waited longer than the
    /// difference in head starts goes first, so no tier starves.
    Aging,
    /// Closest first-response deadline first (ask time + the tier's target).
    EarliestDeadline,
    /// Oldest ask first, ignoring tiers.
    Fifo,
}

/// Which clock "longest idle" reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum IdleClock {
    /// Since the operator's last conversation ended (Asterisk `leastrecent`,
    /// FreeSWITCH). Operators who never handled one count from when they were
    /// added. Default.
    #[default]
    LastConversationEnded,
    /// Since the operator last became available (Azure Job Router, Amazon Connect).
    BecameAvailable,
    /// Since the operator last received a conversation (Salesforce).
    LastAssigned,
}

/// How the operator is chosen among those eligible for a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum Selection {
    /// Lowest load ratio on the conversation's channel (load ÷ capacity,
    /// compared exactly), then least recently assigned on that channel
    /// (never assigned first), then lowest operator id. Default.
    #[default]
    LeastLoaded,
    /// Idle longest by the given clock, then lowest operator id.
    LongestIdle {
        /// Which clock.
        #[cfg_attr(feature = "serde", serde(default))]
        clock: IdleClock,
    },
    /// Least recently picked among those eligible now (help-desk round robin),
    /// then lowest operator id. A newly added operator joins at the back of
    /// the rotation.
    RoundRobin,
    /// Highest level in the conversation's primary (first) required skill,
    /// then as [`Selection::LeastLoaded`].
    MostProficient,
    /// Fewest open conversations on all channels (a count, not a ratio:
    /// Asterisk `fewestcalls`, Chatwoot "balanced"), then least recently
    /// assigned, then lowest operator id.
    FewestConversations,
    /// A fixed ring in operator-id order that continues after the operator
    /// picked last, wrapping around (Asterisk `rrmemory`, FreeSWITCH
    /// `round-robin`). Differs from [`Selection::RoundRobin`] once someone
    /// is skipped: the ring goes on from where it was, the rotation favours
    /// whoever waited longest for a pick. The pointer moves on each decision
    /// (an offer counts); a newly added operator takes their id's place.
    Ring,
    /// Always from the top: the lowest operator id that is eligible
    /// (Asterisk `linear`, FreeSWITCH `top-down`). Give ids in the order of
    /// your list.
    FixedOrder,
    /// Gives `share_permille` of demanding conversations (those requiring one
    /// of `demanding_skills`) to the *least* proficient eligible operator in
    /// the primary skill; the rest go to the most proficient. The share is
    /// spread evenly (every ⌈1000/share⌉-th demanding conversation, by a
    /// deterministic credit counter), never drawn at random.
    SkillDevelopment {
        /// Skills that make a conversation demanding.
        demanding_skills: Vec<SkillId>,
        /// Share of demanding conversations sent to the least proficient, in ‰ (0–1000).
        share_permille: u16,
    },
    /// Fewest conversations *handled* (resolved while held by the operator)
    /// since the operator joined or the last [`crate::engine::Event::HandledCountsReset`]
    /// (Asterisk `fewestcalls` counts completed calls, not open ones), then
    /// least recently picked, then lowest operator id.
    FewestHandled,
    /// Operators ordered by up to [`MAX_ORDER_KEYS`] attributes in turn, each
    /// ascending or descending (TaskRouter `order_by`), then lowest operator
    /// id. The first key decides; the second breaks its ties.
    OrderBy {
        /// The keys, most significant first (1 or 2).
        keys: Vec<OrderKey>,
    },
}

/// The most keys a [`Selection::OrderBy`] takes: the operator indexes keep
/// two 64-bit key words per entry, so a third key would grow every entry of
/// every facet by a third.
pub const MAX_ORDER_KEYS: usize = 2;

/// One key of [`Selection::OrderBy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct OrderKey {
    /// What is compared.
    pub attribute: OperatorAttribute,
    /// Largest first instead of smallest first. Default: false.
    #[cfg_attr(feature = "serde", serde(default))]
    pub descending: bool,
}

impl OrderKey {
    /// Smallest first.
    pub const fn ascending(attribute: OperatorAttribute) -> Self {
        OrderKey {
            attribute,
            descending: false,
        }
    }

    /// Largest first.
    pub const fn descending(attribute: OperatorAttribute) -> Self {
        OrderKey {
            attribute,
            descending: true,
        }
    }
}

/// An operator attribute [`Selection::OrderBy`] can order by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum OperatorAttribute {
    /// Load ÷ capacity on the conversation's channel (exact). Default.
    #[default]
    LoadRatio,
    /// Open conversations on all channels.
    OpenConversations,
    /// Conversations handled since the reset point (see [`Selection::FewestHandled`]).
    Handled,
    /// The time the given idle clock reads (ascending: idle longest first).
    IdleSince(IdleClock),
    /// When the engine last picked them (ascending: least recently first;
    /// never picked counts from joining).
    LastPicked,
    /// Level in this skill (0 without it; descending: most proficient first).
    Level(SkillId),
}

impl Selection {
    /// A stable lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            Selection::LeastLoaded => "least_loaded",
            Selection::LongestIdle { .. } => "longest_idle",
            Selection::RoundRobin => "round_robin",
            Selection::MostProficient => "most_proficient",
            Selection::FewestConversations => "fewest_conversations",
            Selection::Ring => "ring",
            Selection::FixedOrder => "fixed_order",
            Selection::SkillDevelopment { .. } => "skill_development",
            Selection::FewestHandled => "fewest_handled",
            Selection::OrderBy { .. } => "order_by",
        }
    }
}

/// Returning customers and their previous operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct PreferredOperatorPolicy {
    /// How long a conversation waits for its preferred operator when that
    /// operator is logged in (available or away) but cannot take it now.
    /// Offline or unknown preferred operators are skipped at once. Default: 0
    /// (take them if they can take it now, otherwise route normally). At
    /// most [`Timestamp::MAX`] milliseconds.
    #[cfg_attr(feature = "serde", serde(default))]
    pub wait: Millis,
    /// Direct routing above capacity: the preferred operator gets the
    /// conversation even when their capacity on its channel is full, as long
    /// as they are available (not away, not in wrap-up or held back), have
    /// some capacity on the channel and nothing blocks it. (As always for the
    /// preferred operator, skills and team are not checked.) Default: false:
    /// the preferred operator must have room, like everyone.
    #[cfg_attr(feature = "serde", serde(default))]
    pub over_capacity: bool,
}

/// What an overflow step relaxes (or, for the last three, changes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum Relax {
    /// Lower every required minimum level by this much (never below 1).
    LowerLevels(u8),
    /// Drop the team restriction.
    AnyTeam,
    /// Drop skills and team: any operator on the channel.
    AnyOperator,
    /// Drop one named skill requirement and keep the others (Omni-Channel
    /// additional-skill drop-off: the product skill goes, the language the
    /// customer speaks stays). A conversation that does not require it is
    /// unchanged.
    DropSkill(SkillId),
    /// Lower the minimum level of one named skill by `by` (never below 1).
    LowerSkill {
        /// The skill.
        skill: SkillId,
        /// Levels to lower it by (1–4).
        by: u8,
    },
    /// Widen a team restriction to one more team (bullseye rings): operators
    /// of the conversation's team *or* this one. No effect on a conversation
    /// without a team restriction (anyone may take it already).
    AddTeam(TeamId),
    /// From this step the conversation is ordered as if its priority were
    /// this number, when that is more urgent (lower) than its own. Counts
    /// under [`QueueOrder::StrictPriority`], as tier priorities do.
    Priority(u32),
    /// From this step the conversation is ordered as if it had asked this
    /// much earlier on top of its head starts. Counts under
    /// [`QueueOrder::Aging`], as tier head starts do.
    HeadStart(Millis),
    /// From this step, operators are chosen for it by this strategy instead
    /// of its queue's.
    Select(Selection),
}

/// One overflow step: after `after` of waiting, relax its requirements.
/// Steps accumulate. Where `after` is measured from is the policy's
/// [`OverflowTiming`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct OverflowStep {
    /// Wait before this step applies.
    pub after: Millis,
    /// What it relaxes.
    pub relax: Relax,
}

/// Where each overflow step's `after` is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum OverflowTiming {
    /// From when the conversation entered routing (arrival, or a transfer
    /// back to the queue), as Asterisk `penaltychange` rules count. Steps
    /// must then have increasing `after`. Default.
    #[default]
    FromRouting,
    /// From when the previous step took effect (the first step: from entering
    /// routing), as TaskRouter workflow step timeouts, Amazon Connect step
    /// expiry and FreeSWITCH tier waits count. Every step after the first needs `after > 0`.
    FromPreviousStep,
}

/// At most `max_assignments` picks per operator in any `window` (Chatwoot's
/// fair distribution), on top of concurrency capacity: an operator who has
/// had `max_assignments` picks within the last `window` is held back until
/// the oldest of them is `window` old (eligible at that instant).
///
/// What counts: the engine's own picks (assignments and offers, including
/// rebalance moves), not claims or transfers to a named operator. Free
/// capacity alone never lifts the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct ThroughputCap {
    /// Picks allowed per window (1–10,000).
    pub max_assignments: u32,
    /// The sliding window.
    pub window: Millis,
}

/// The most overflow steps one queue may have (a conversation counts the
/// steps it passed in a byte).
pub const MAX_OVERFLOW_STEPS: usize = 255;

/// The largest [`ThroughputCap::max_assignments`]: the engine keeps that
/// many pick times per operator.
pub const MAX_THROUGHPUT_CAP: u32 = 10_000;

/// Offers that the operator must accept (as phone ACDs ring and TaskRouter
/// reserves). Without an offer policy, assignments are direct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct OfferPolicy {
    /// How long an operator has to accept. The offer lapses at exactly
    /// `offered_at + timeout` and the conversation goes to the next eligible
    /// operator.
    pub timeout: Millis,
    /// After this many offers missed or rejected in a row the operator is set
    /// away (0 = never). Default: 3.
    #[cfg_attr(feature = "serde", serde(default = "default_missed"))]
    pub away_after_missed: u32,
    /// Whether an operator who rejected or missed a conversation may be
    /// offered the same conversation again. Default: false.
    #[cfg_attr(feature = "serde", serde(default))]
    pub reoffer_declined: bool,
    /// After rejecting an offer, the operator gets no new work for this long
    /// (FreeSWITCH `reject-delay-time`). Default: 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub cooldown_after_reject: Millis,
    /// After letting an offer lapse, the operator gets no new work for this
    /// long (FreeSWITCH `no-answer-delay-time`). Default: 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub cooldown_after_miss: Millis,
    /// How long a decline (a rejected or lapsed offer) keeps that operator
    /// from being offered the same conversation again, when
    /// `reoffer_declined` is false. `None`: for the rest of its wait.
    /// Default: 60 s, so a conversation every eligible operator declined is
    /// offered again (to the first of them the selection order picks) once
    /// the decline is a minute old, instead of waiting silently for ever
    /// (Asterisk and Genesys ring agents again on the next pass; TaskRouter
    /// re-reserves a worker on the next evaluation).
    #[cfg_attr(feature = "serde", serde(default = "default_forget_decline"))]
    pub forget_decline_after: Option<Millis>,
}

/// The default of [`OfferPolicy::forget_decline_after`].
pub const DEFAULT_FORGET_DECLINE_AFTER: Millis = Millis(60_000);

#[cfg(feature = "serde")]
fn default_forget_decline() -> Option<Millis> {
    Some(DEFAULT_FORGET_DECLINE_AFTER)
}

#[cfg(feature = "serde")]
fn default_missed() -> u32 {
    3
}

impl OfferPolicy {
    /// Offers lapsing after `timeout`, three misses in a row set the operator
    /// away, declined conversations are not offered again to the same operator.
    pub fn new(timeout: Millis) -> Self {
        OfferPolicy {
            timeout,
            away_after_missed: 3,
            reoffer_declined: false,
            cooldown_after_reject: Millis::ZERO,
            cooldown_after_miss: Millis::ZERO,
            forget_decline_after: Some(DEFAULT_FORGET_DECLINE_AFTER),
        }
    }
}

/// When [`crate::engine::Engine::rebalance`] moves conversations that are
/// already assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct RebalancePolicy {
    /// Conversations that already got a reply stay with an operator who went
    /// away or offline, unless they have been unavailable longer than this.
    /// Default: never (they stay with the person who answered).
    #[cfg_attr(feature = "serde", serde(default))]
    pub reassign_responded_after_away: Option<Millis>,
    /// Move unanswered conversations from an operator whose load ratio on a
    /// channel exceeds another eligible operator's by more than this many
    /// thousandths. Default: off.
    #[cfg_attr(feature = "serde", serde(default))]
    pub skew_margin_permille: Option<u16>,
    /// At most this many moves per rebalance call. Default: no cap.
    #[cfg_attr(feature = "serde", serde(default))]
    pub max_moves: Option<u32>,
    /// When capacity is cut below the current load, move unanswered
    /// conversations (most recently assigned first) until under it. Default:
    /// false (the operator keeps them and simply receives nothing new).
    #[cfg_attr(feature = "serde", serde(default))]
    pub on_capacity_cut: bool,
    /// Leave the unanswered work of an operator who goes away or offline
    /// (and the replied work of one away too long) where it is until the
    /// host calls `rebalance`, as before version 0.2. Default: false: that
    /// work goes back to the queue as soon as the status change (or the
    /// "away too long" timer) is applied, each move reported as an
    /// `Unassigned` decision of that input, and the next `assign` places it.
    #[cfg_attr(feature = "serde", serde(default))]
    pub defer_to_rebalance: bool,
}

/// What happens when a waiting conversation could be served by an operator
/// except that the operator holds work on a channel that blocks it (a call
/// waiting for an operator busy with chats, when chats block calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum BlockedWork {
    /// Default. When the engine would give such an operator new work on a
    /// blocking channel that is less urgent (queue order) than the most
    /// urgent conversation they are blocked from, and nobody is reserved for
    /// that conversation yet, it *reserves* the operator for it instead: the
    /// operator gets no new work on the channels that block it until the
    /// conversation is taken (by them once their blocking work ends, or by
    /// anyone sooner) or leaves the queue. The blocked conversation's wait is
    /// then bounded by the blocking work the operator already holds.
    #[default]
    Reserve,
    /// No reservation: blocking work keeps flowing to the operator, and a
    /// blocked conversation waits until an operator is free of it by chance
    /// (can be for ever under a steady stream of blocking work).
    FirstFree,
}

/// The whole routing policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct Policy {
    /// Channels (at most 16).
    pub channels: Vec<ChannelSpec>,
    /// Customer tiers.
    pub tiers: Vec<TierSpec>,
    /// Skills.
    #[cfg_attr(feature = "serde", serde(default))]
    pub skills: Vec<SkillSpec>,
    /// Queue order. Default: [`QueueOrder::StrictPriority`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub queue_order: QueueOrder,
    /// Operator selection. Default: [`Selection::LeastLoaded`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub selection: Selection,
    /// Returning customers. Default: no waiting.
    #[cfg_attr(feature = "serde", serde(default))]
    pub preferred_operator: PreferredOperatorPolicy,
    /// Overflow steps, in the order they take effect. Default: none.
    #[cfg_attr(feature = "serde", serde(default))]
    pub overflow: Vec<OverflowStep>,
    /// Where overflow timers are measured from. Default:
    /// [`OverflowTiming::FromRouting`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub overflow_timing: OverflowTiming,
    /// Wrap-up after each resolved conversation before new work, unless the
    /// operator has their own. The operator is eligible again at the end
    /// instant itself. Default: 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub wrap_up: Millis,
    /// Offers the operator must accept. Default: none (direct assignment).
    #[cfg_attr(feature = "serde", serde(default))]
    pub offers: Option<OfferPolicy>,
    /// Picks per operator per time window. Default: none (capacity only).
    #[cfg_attr(feature = "serde", serde(default))]
    pub throughput_cap: Option<ThroughputCap>,
    /// Rebalance triggers. Default: move unanswered work of operators who go
    /// away or offline; nothing else.
    #[cfg_attr(feature = "serde", serde(default))]
    pub rebalance: RebalancePolicy,
    /// Conversations an operator could take but for a blocking channel.
    /// Default: [`BlockedWork::Reserve`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub blocked_work: BlockedWork,
    /// Routing queues, each with its own selection, overflow, offers and
    /// preferred-operator rules, over the one pool of operators. A
    /// conversation names its queue at arrival; one that names none is in
    /// the *default queue*, whose rules are this policy's own fields above.
    /// Default: none (everything is in the default queue).
    #[cfg_attr(feature = "serde", serde(default))]
    pub queues: Vec<QueueSpec>,
    /// Operators' routing profiles: which queues an operator serves, in
    /// which priority and after which delay. Operators without a profile
    /// serve every queue alike. Default: none.
    #[cfg_attr(feature = "serde", serde(default))]
    pub profiles: Vec<RoutingProfile>,
}

impl Policy {
    /// A policy with the given catalogue and every option at its default.
    pub fn new(channels: Vec<ChannelSpec>, tiers: Vec<TierSpec>, skills: Vec<SkillSpec>) -> Self {
        Policy {
            channels,
            tiers,
            skills,
            queue_order: QueueOrder::default(),
            selection: Selection::default(),
            preferred_operator: PreferredOperatorPolicy::default(),
            overflow: Vec::new(),
            overflow_timing: OverflowTiming::default(),
            wrap_up: Millis::ZERO,
            offers: None,
            throughput_cap: None,
            rebalance: RebalancePolicy::default(),
            blocked_work: BlockedWork::default(),
            queues: Vec::new(),
            profiles: Vec::new(),
        }
    }

    /// Checks the policy is self-consistent. Every engine constructor calls it.
    ///
    /// # Errors
    /// [`PolicyError`] naming the field: no channels or tiers, too many
    /// channels, duplicate ids, a channel blocking an unknown channel, a
    /// demanding skill that is not declared, a share above 1000 ‰, overflow
    /// steps that do not take effect strictly one after the other, a level
    /// relaxation of 0, a zero offer timeout, a duration (overflow step,
    /// head start, preferred-operator wait, profile delay) beyond
    /// [`Timestamp::MAX`], a throughput cap of zero
    /// assignments, above [`MAX_THROUGHPUT_CAP`] or over a zero window.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.channels.is_empty() {
            return Err(PolicyError::Empty { field: "channels" });
        }
        if self.channels.len() > MAX_CHANNELS {
            return Err(PolicyError::TooManyChannels {
                count: self.channels.len(),
                max: MAX_CHANNELS,
            });
        }
        if self.tiers.is_empty() {
            return Err(PolicyError::Empty { field: "tiers" });
        }
        if let Some(id) = first_duplicate(self.channels.iter().map(|c| c.id)) {
            return Err(PolicyError::DuplicateChannel(id));
        }
        if let Some(id) = first_duplicate(self.tiers.iter().map(|t| t.id)) {
            return Err(PolicyError::DuplicateTier(id));
        }
        if let Some(id) = first_duplicate(self.skills.iter().map(|s| s.id)) {
            return Err(PolicyError::DuplicateSkill(id));
        }
        for c in &self.channels {
            if let Some(b) = c
                .blocks
                .iter()
                .find(|b| !self.channels.iter().any(|x| x.id == **b))
            {
                return Err(PolicyError::UnknownChannel {
                    field: "channels[].blocks",
                    channel: *b,
                });
            }
        }
        // As a queue's: a wait past every timestamp never ends (and the
        // engine keeps its deadline in 8 bytes, which needs it bounded).
        if self.preferred_operator.wait > Millis(Timestamp::MAX.0) {
            return Err(PolicyError::OutOfRange {
                field: "preferred_operator.wait",
                value: self.preferred_operator.wait.0,
                max: Timestamp::MAX.0,
            });
        }
        validate_rules(
            &self.skills,
            &self.selection,
            &self.overflow,
            &self.overflow_offsets(),
            self.offers.as_ref(),
        )?;
        queue::validate(self)?;
        if let Some(cap) = &self.throughput_cap {
            if cap.max_assignments == 0 {
                return Err(PolicyError::Zero {
                    field: "throughput_cap.max_assignments",
                });
            }
            if cap.max_assignments > MAX_THROUGHPUT_CAP {
                return Err(PolicyError::OutOfRange {
                    field: "throughput_cap.max_assignments",
                    value: u64::from(cap.max_assignments),
                    max: u64::from(MAX_THROUGHPUT_CAP),
                });
            }
            if cap.window == Millis::ZERO {
                return Err(PolicyError::Zero {
                    field: "throughput_cap.window",
                });
            }
        }
        if let Some(m) = self.rebalance.skew_margin_permille {
            if m > 1000 {
                return Err(PolicyError::OutOfRange {
                    field: "rebalance.skew_margin_permille",
                    value: u64::from(m),
                    max: 1000,
                });
            }
        }
        if self.rebalance.max_moves == Some(0) {
            return Err(PolicyError::Zero {
                field: "rebalance.max_moves",
            });
        }
        Ok(())
    }
}

/// The checks every queue's rules pass (the default queue's are the
/// policy's own fields): selection, overflow steps, offers.
pub(crate) fn validate_rules(
    skills: &[SkillSpec],
    selection: &Selection,
    overflow: &[OverflowStep],
    offsets: &[Millis],
    offers: Option<&OfferPolicy>,
) -> Result<(), PolicyError> {
    if let Selection::SkillDevelopment {
        demanding_skills,
        share_permille,
    } = selection
    {
        if *share_permille > 1000 {
            return Err(PolicyError::OutOfRange {
                field: "selection.share_permille",
                value: u64::from(*share_permille),
                max: 1000,
            });
        }
        if let Some(s) = demanding_skills
            .iter()
            .find(|s| !skills.iter().any(|x| x.id == **s))
        {
            return Err(PolicyError::UnknownSkill {
                field: "selection.demanding_skills",
                skill: *s,
            });
        }
    }
    validate_selection(skills, selection)?;
    if overflow.len() > MAX_OVERFLOW_STEPS {
        return Err(PolicyError::OutOfRange {
            field: "overflow",
            value: overflow.len() as u64,
            max: MAX_OVERFLOW_STEPS as u64,
        });
    }
    let mut prev: Option<Millis> = None;
    for (i, (step, &at)) in overflow.iter().zip(offsets).enumerate() {
        // Measured from routing, a step later than any timestamp can
        // never take effect (and sums of waits must stay exact).
        if at > Millis(Timestamp::MAX.0) {
            return Err(PolicyError::OutOfRange {
                field: "overflow[].after",
                value: at.0,
                max: Timestamp::MAX.0,
            });
        }
        if prev.is_some_and(|p| at <= p) {
            return Err(PolicyError::OverflowOutOfOrder { index: i });
        }
        prev = Some(at);
        validate_relax(skills, &step.relax)?;
    }
    if let Some(o) = offers {
        if o.timeout == Millis::ZERO {
            return Err(PolicyError::Zero {
                field: "offers.timeout",
            });
        }
        match o.forget_decline_after {
            Some(Millis::ZERO) => {
                return Err(PolicyError::Zero {
                    field: "offers.forget_decline_after",
                });
            }
            Some(x) if x > Millis(Timestamp::MAX.0) => {
                return Err(PolicyError::OutOfRange {
                    field: "offers.forget_decline_after",
                    value: x.0,
                    max: Timestamp::MAX.0,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The order keys of [`Selection::OrderBy`] (the other strategies' fields
/// are checked where they are used).
fn validate_selection(skills: &[SkillSpec], selection: &Selection) -> Result<(), PolicyError> {
    let declared = |s: &SkillId| skills.iter().any(|x| x.id == *s);
    let Selection::OrderBy { keys } = selection else {
        return Ok(());
    };
    if keys.is_empty() || keys.len() > MAX_ORDER_KEYS {
        return Err(PolicyError::OutOfRange {
            field: "selection.order_by.keys",
            value: keys.len() as u64,
            max: MAX_ORDER_KEYS as u64,
        });
    }
    for k in keys {
        if let OperatorAttribute::Level(s) = k.attribute {
            if !declared(&s) {
                return Err(PolicyError::UnknownSkill {
                    field: "selection.order_by.keys[].level",
                    skill: s,
                });
            }
        }
    }
    Ok(())
}

fn validate_relax(skills: &[SkillSpec], relax: &Relax) -> Result<(), PolicyError> {
    let declared = |s: &SkillId| skills.iter().any(|x| x.id == *s);
    let levels = |field, n: u8| {
        if n == 0 || n >= MAX_LEVEL {
            Err(PolicyError::OutOfRange {
                field,
                value: u64::from(n),
                max: u64::from(MAX_LEVEL - 1),
            })
        } else {
            Ok(())
        }
    };
    match relax {
        Relax::LowerLevels(n) => levels("overflow[].relax.lower_levels", *n),
        Relax::DropSkill(s) if !declared(s) => Err(PolicyError::UnknownSkill {
            field: "overflow[].relax.drop_skill",
            skill: *s,
        }),
        Relax::LowerSkill { skill, .. } if !declared(skill) => Err(PolicyError::UnknownSkill {
            field: "overflow[].relax.lower_skill.skill",
            skill: *skill,
        }),
        Relax::LowerSkill { by, .. } => levels("overflow[].relax.lower_skill.by", *by),
        Relax::HeadStart(h) if *h > Millis(Timestamp::MAX.0) => Err(PolicyError::OutOfRange {
            field: "overflow[].relax.head_start",
            value: h.0,
            max: Timestamp::MAX.0,
        }),
        Relax::Select(sel) => {
            if matches!(sel, Selection::SkillDevelopment { .. }) {
                // A trainee share counts demanding conversations as they
                // arrive; switching into it halfway has no share to keep.
                return Err(PolicyError::Unsupported {
                    field: "overflow[].relax.select",
                    what: "skill_development",
                });
            }
            validate_selection(skills, sel)
        }
        _ => Ok(()),
    }
}

impl Policy {
    /// When each of the default queue's overflow steps takes effect,
    /// measured from entering routing (the [`OverflowTiming`] applied).
    pub fn overflow_offsets(&self) -> Vec<Millis> {
        overflow_offsets(&self.overflow, self.overflow_timing)
    }
}

/// When each step takes effect, measured from entering routing.
pub(crate) fn overflow_offsets(steps: &[OverflowStep], timing: OverflowTiming) -> Vec<Millis> {
    let mut at = Millis::ZERO;
    steps
        .iter()
        .map(|s| {
            at = match timing {
                OverflowTiming::FromRouting => s.after,
                OverflowTiming::FromPreviousStep => at + s.after,
            };
            at
        })
        .collect()
}

fn first_duplicate<T: Ord + Copy>(ids: impl Iterator<Item = T>) -> Option<T> {
    let mut v: SmallVec<[T; 32]> = ids.collect();
    v.sort_unstable();
    v.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

// ----- constructors ------------------------------------------------------------
// The policy types are `#[non_exhaustive]` so an option can be added without
// breaking callers; these constructors and chainable setters are how code
// outside the crate builds them.

impl ChannelSpec {
    /// A channel that blocks nothing.
    pub fn new(id: ChannelId, name: impl Into<String>) -> Self {
        ChannelSpec {
            id,
            name: name.into(),
            blocks: Vec::new(),
        }
    }

    /// Sets the channels it blocks (replacing any set before).
    pub fn blocks(mut self, blocks: impl IntoIterator<Item = ChannelId>) -> Self {
        self.blocks = blocks.into_iter().collect();
        self
    }
}

impl TierSpec {
    /// A tier with a first-response target of 0 (set it with
    /// [`TierSpec::first_response_target`] for deadline ordering and service
    /// reports) and no head start.
    pub fn new(id: TierId, name: impl Into<String>, priority: u32) -> Self {
        TierSpec {
            id,
            name: name.into(),
            priority,
            first_response_target: Millis::ZERO,
            head_start: Millis::ZERO,
        }
    }

    /// Sets the first-response target.
    pub fn first_response_target(mut self, target: Millis) -> Self {
        self.first_response_target = target;
        self
    }

    /// Sets the head start under [`QueueOrder::Aging`].
    pub fn head_start(mut self, head_start: Millis) -> Self {
        self.head_start = head_start;
        self
    }
}

impl SkillSpec {
    /// A skill.
    pub fn new(id: SkillId, name: impl Into<String>) -> Self {
        SkillSpec {
            id,
            name: name.into(),
        }
    }
}

impl PreferredOperatorPolicy {
    /// No waiting, within capacity (the default).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how long a conversation waits for its logged-in preferred operator.
    pub fn wait(mut self, wait: Millis) -> Self {
        self.wait = wait;
        self
    }

    /// Sets whether the preferred operator may go above capacity.
    pub fn over_capacity(mut self, over_capacity: bool) -> Self {
        self.over_capacity = over_capacity;
        self
    }
}

impl OverflowStep {
    /// After `after` of waiting, relax `relax`.
    pub const fn new(after: Millis, relax: Relax) -> Self {
        OverflowStep { after, relax }
    }
}

impl ThroughputCap {
    /// At most `max_assignments` picks per operator in any `window`.
    pub const fn new(max_assignments: u32, window: Millis) -> Self {
        ThroughputCap {
            max_assignments,
            window,
        }
    }
}

impl OfferPolicy {
    /// Sets how long an operator has to accept.
    pub fn timeout(mut self, timeout: Millis) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how many missed or rejected offers in a row set the operator away (0 = never).
    pub fn away_after_missed(mut self, n: u32) -> Self {
        self.away_after_missed = n;
        self
    }

    /// Sets whether a declined conversation may be offered to the same operator again.
    pub fn reoffer_declined(mut self, reoffer: bool) -> Self {
        self.reoffer_declined = reoffer;
        self
    }

    /// Sets the cool-down after a rejected offer.
    pub fn cooldown_after_reject(mut self, cooldown: Millis) -> Self {
        self.cooldown_after_reject = cooldown;
        self
    }

    /// Sets the cool-down after a lapsed offer.
    pub fn cooldown_after_miss(mut self, cooldown: Millis) -> Self {
        self.cooldown_after_miss = cooldown;
        self
    }

    /// Sets how long a decline keeps the operator from the same
    /// conversation (`None`: for the rest of its wait).
    pub fn forget_decline_after(mut self, after: impl Into<Option<Millis>>) -> Self {
        self.forget_decline_after = after.into();
        self
    }
}

impl RebalancePolicy {
    /// The default: unanswered work of absent operators moves, nothing else.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves replied work too once its operator has been away this long
    /// (`None`: never).
    pub fn reassign_responded_after_away(mut self, after: impl Into<Option<Millis>>) -> Self {
        self.reassign_responded_after_away = after.into();
        self
    }

    /// Turns on load-skew moves above this margin, in ‰ (`None`: off).
    pub fn skew_margin_permille(mut self, margin: impl Into<Option<u16>>) -> Self {
        self.skew_margin_permille = margin.into();
        self
    }

    /// Caps the moves per rebalance call (`None`: no cap).
    pub fn max_moves(mut self, max: impl Into<Option<u32>>) -> Self {
        self.max_moves = max.into();
        self
    }

    /// Sets whether a capacity cut below the load moves unanswered work.
    pub fn on_capacity_cut(mut self, on: bool) -> Self {
        self.on_capacity_cut = on;
        self
    }

    /// Sets whether absent operators' work waits for an explicit rebalance.
    pub fn defer_to_rebalance(mut self, defer: bool) -> Self {
        self.defer_to_rebalance = defer;
        self
    }
}

impl Policy {
    /// A builder: the catalogue entry by entry, then the options, checked by
    /// [`PolicyBuilder::build`].
    ///
    /// ```
    /// use switchboard::prelude::*;
    ///
    /// let policy = Policy::builder()
    ///     .channel(ChannelSpec::new(ChannelId(1), "call").blocks([ChannelId(2)]))
    ///     .channel(ChannelSpec::new(ChannelId(2), "chat"))
    ///     .tier(TierSpec::new(TierId(1), "enterprise", 1).first_response_target(Millis::from_mins(1)))
    ///     .skill(SkillSpec::new(SkillId(1), "billing"))
    ///     .selection(Selection::RoundRobin)
    ///     .build()?;
    /// assert_eq!(policy.channels.len(), 2);
    /// # Ok::<(), switchboard::PolicyError>(())
    /// ```
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder {
            policy: Policy::new(Vec::new(), Vec::new(), Vec::new()),
        }
    }

    /// Sets the queue order.
    pub fn with_queue_order(mut self, order: QueueOrder) -> Self {
        self.queue_order = order;
        self
    }

    /// Sets the operator selection.
    pub fn with_selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }
}

/// Builds a [`Policy`] step by step; [`PolicyBuilder::build`] validates it.
#[derive(Debug, Clone)]
#[must_use]
pub struct PolicyBuilder {
    policy: Policy,
}

impl PolicyBuilder {
    /// Adds a channel.
    pub fn channel(mut self, channel: ChannelSpec) -> Self {
        self.policy.channels.push(channel);
        self
    }

    /// Adds a tier.
    pub fn tier(mut self, tier: TierSpec) -> Self {
        self.policy.tiers.push(tier);
        self
    }

    /// Adds a skill.
    pub fn skill(mut self, skill: SkillSpec) -> Self {
        self.policy.skills.push(skill);
        self
    }

    /// Sets the queue order.
    pub fn queue_order(mut self, order: QueueOrder) -> Self {
        self.policy.queue_order = order;
        self
    }

    /// Sets the operator selection.
    pub fn selection(mut self, selection: Selection) -> Self {
        self.policy.selection = selection;
        self
    }

    /// Sets the returning-customer rules.
    pub fn preferred_operator(mut self, preferred: PreferredOperatorPolicy) -> Self {
        self.policy.preferred_operator = preferred;
        self
    }

    /// Adds an overflow step (steps take effect in the order added).
    pub fn overflow_step(mut self, step: OverflowStep) -> Self {
        self.policy.overflow.push(step);
        self
    }

    /// Sets where overflow timers are measured from.
    pub fn overflow_timing(mut self, timing: OverflowTiming) -> Self {
        self.policy.overflow_timing = timing;
        self
    }

    /// Sets the default wrap-up.
    pub fn wrap_up(mut self, wrap_up: Millis) -> Self {
        self.policy.wrap_up = wrap_up;
        self
    }

    /// Turns on offers.
    pub fn offers(mut self, offers: OfferPolicy) -> Self {
        self.policy.offers = Some(offers);
        self
    }

    /// Sets a throughput cap.
    pub fn throughput_cap(mut self, cap: ThroughputCap) -> Self {
        self.policy.throughput_cap = Some(cap);
        self
    }

    /// Sets the rebalance triggers.
    pub fn rebalance(mut self, rebalance: RebalancePolicy) -> Self {
        self.policy.rebalance = rebalance;
        self
    }

    /// Sets what happens to blocked work.
    pub fn blocked_work(mut self, blocked: BlockedWork) -> Self {
        self.policy.blocked_work = blocked;
        self
    }

    /// The policy, if [`Policy::validate`] accepts it.
    ///
    /// # Errors
    /// [`PolicyError`] naming the field, as [`Policy::validate`].
    pub fn build(self) -> Result<Policy, PolicyError> {
        self.policy.validate()?;
        Ok(self.policy)
    }
}

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
    /// A queue id declared twice.
    #[error("queue {0} is declared twice")]
    DuplicateQueue(QueueId),
    /// A routing profile id declared twice.
    #[error("routing profile {0} is declared twice")]
    DuplicateProfile(ProfileId),
    /// A field references a queue that is not declared.
    #[error("policy field `{field}` references undeclared {queue}")]
    UnknownQueue {
        /// The field.
        field: &'static str,
        /// The queue.
        queue: QueueId,
    },
    /// A combination the engine does not support, and why is in the docs
    /// of the field.
    #[error("policy field `{field}`: {what} is not supported here")]
    Unsupported {
        /// The field.
        field: &'static str,
        /// What was given.
        what: &'static str,
    },
    /// One of a queue's own rules is wrong; `source` names the field inside
    /// the queue.
    #[error("queues[{queue}]: {source}")]
    InQueue {
        /// The queue.
        queue: QueueId,
        /// What is wrong with its rules.
        source: Box<PolicyError>,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The constructors fill every field the way the serde defaults do, so
    /// a policy built in code and one read from JSON agree.
    #[test]
    fn constructors_and_the_builder_give_the_documented_defaults() {
        let built = Policy::builder()
            .channel(ChannelSpec::new(ChannelId(1), "call").blocks([ChannelId(2)]))
            .channel(ChannelSpec::new(ChannelId(2), "chat"))
            .tier(
                TierSpec::new(TierId(1), "vip", 1)
                    .first_response_target(Millis(60_000))
                    .head_start(Millis(5_000)),
            )
            .skill(SkillSpec::new(SkillId(3), "billing"))
            .overflow_step(OverflowStep::new(Millis(30_000), Relax::AnyTeam))
            .throughput_cap(ThroughputCap::new(2, Millis(60_000)))
            .offers(OfferPolicy::new(Millis(20_000)).forget_decline_after(None))
            .rebalance(
                RebalancePolicy::new()
                    .max_moves(3)
                    .skew_margin_permille(None),
            )
            .build();
        let mut by_hand = Policy::new(
            vec![
                ChannelSpec {
                    id: ChannelId(1),
                    name: "call".into(),
                    blocks: vec![ChannelId(2)],
                },
                ChannelSpec {
                    id: ChannelId(2),
                    name: "chat".into(),
                    blocks: vec![],
                },
            ],
            vec![TierSpec {
                id: TierId(1),
                name: "vip".into(),
                priority: 1,
                first_response_target: Millis(60_000),
                head_start: Millis(5_000),
            }],
            vec![SkillSpec {
                id: SkillId(3),
                name: "billing".into(),
            }],
        );
        by_hand.overflow = vec![OverflowStep {
            after: Millis(30_000),
            relax: Relax::AnyTeam,
        }];
        by_hand.throughput_cap = Some(ThroughputCap {
            max_assignments: 2,
            window: Millis(60_000),
        });
        by_hand.offers = Some(OfferPolicy {
            forget_decline_after: None,
            ..OfferPolicy::new(Millis(20_000))
        });
        by_hand.rebalance.max_moves = Some(3);
        assert_eq!(built, Ok(by_hand));
        assert_eq!(
            TierSpec::new(TierId(1), "t", 2).first_response_target,
            Millis::ZERO
        );
        assert_eq!(
            PreferredOperatorPolicy::new().wait(Millis(5)).wait,
            Millis(5)
        );
    }

    #[test]
    fn the_builder_validates() {
        assert_eq!(
            Policy::builder()
                .channel(ChannelSpec::new(ChannelId(1), "chat"))
                .build(),
            Err(PolicyError::Empty { field: "tiers" })
        );
        assert_eq!(
            Policy::builder()
                .channel(ChannelSpec::new(ChannelId(1), "chat"))
                .tier(TierSpec::new(TierId(1), "t", 1))
                .throughput_cap(ThroughputCap::new(0, Millis(1)))
                .build(),
            Err(PolicyError::Zero {
                field: "throughput_cap.max_assignments"
            })
        );
    }
}
