//! The deterministic auto-assignment engine.
//!
//! The host feeds [`Event`]s with their timestamps and calls
//! [`Engine::assign`]; the engine answers with [`Decision`]s, each with its
//! [`Reason`]. No clock, no I/O, no threads, no randomness: the same events
//! give the same decisions in the same order on every machine.
//!
//! # How `assign(now)` decides
//!
//! 1. **Timers up to `now` fire** in order of (time, kind, id): wrap-up ends,
//!    offer lapses, "away too long", conversations whose requirements change
//!    (preferred-operator wait over, overflow step reached), then hold-backs
//!    ending (offer cool-downs, throughput caps).
//! 2. **Freed operators pull.** Every operator who gained room since the last
//!    call (became available, finished wrap-up, resolved or lost a
//!    conversation, gained capacity or skills), in operator-id order, takes the
//!    most urgent waiting conversation they can serve (queue order); that
//!    conversation then goes to the best eligible operator by the selection
//!    strategy (usually the one who pulled it, but a less loaded colleague
//!    wins under least-loaded). This repeats until the operator has nothing
//!    eligible left.
//! 3. **New conversations are placed**, in queue order: each goes to the best
//!    eligible operator by the selection strategy, if any.
//!
//! After `assign` returns, no waiting conversation has an eligible operator
//! with free capacity (work conservation).
//!
//! # Tie-break rule
//!
//! Queue order always ends with arrival sequence (the order `ConversationArrived`
//! events were applied). Operator order always ends with the operator id
//! (lowest first). Hash maps are used only for id → slot lookups and are
//! never iterated to make a decision.
//!
//! # Eligibility
//!
//! An operator is eligible for a waiting conversation when they are
//! available, not in wrap-up, not held back (an offer cool-down or the
//! throughput cap), have free capacity on its channel, hold no
//! conversation on a channel that blocks it, hold every required skill at or
//! above the minimum level in force, and belong to its team if one is targeted.
//! While a conversation waits for its preferred operator, only that operator
//! is eligible.

mod decision;
mod event;
pub(crate) mod index;
mod realtime;
mod rebalance;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hashbrown::HashMap;
use smallvec::SmallVec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

pub use decision::{Decision, DecisionKind, MoveCause, Reason, Route, SkillMatch, Trigger};
pub use event::Event;
pub use realtime::{QueueStatus, RealTime};
pub use snapshot::{Snapshot, SnapshotError};

use crate::error::{EngineError, PolicyError};
use crate::ids::{ChannelId, ConversationId, OperatorId, SkillId, TeamId, TierId};
use crate::model::{
    ConversationSpec, ConversationState, MAX_CHANNELS, MAX_LEVEL, MAX_REQUIRED_SKILLS, MIN_LEVEL,
    OperatorSpec, OperatorStatus, SkillLevel, TransferTarget,
};
use crate::policy::{BlockedWork, IdleClock, Policy, QueueOrder, Relax, Selection};
use crate::time::{Millis, Timestamp};
use index::{Buckets, FacetKey, Facets, OpEntry, QueueKey, Req, for_each_subset};

/// The largest timestamp accepted (2^53 ms, about the year 287,000): keeps
/// every sum of a timestamp and a policy duration exact.
pub const MAX_TIMESTAMP: Timestamp = Timestamp(1 << 53);

// Timers due at the same instant fire in this order.
const TIMER_WRAP_UP: u8 = 0;
const TIMER_OFFER: u8 = 1;
const TIMER_AWAY: u8 = 2;
const TIMER_REQUIREMENTS: u8 = 3;
const TIMER_HOLD_BACK: u8 = 4;

/// How the engine finds matches. Both give identical decisions; `Scan` is
/// the plain reading of the eligibility and selection rules, kept as the
/// reference the indexes are tested and benchmarked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Matching {
    /// Ordered indexes: a few set operations per decision. Default.
    #[default]
    Indexed,
    /// Scan every operator and every waiting conversation per decision
    /// (slow; for tests and benchmarks).
    Scan,
}

/// Which end of the primary skill's levels to prefer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Key,
    HighestLevel(SkillLevel),
    LowestLevel(SkillLevel),
}

/// Who gives a conversation to an operator, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handover {
    /// The engine assigns it directly.
    Assign,
    /// The engine offers it; the wait ends at acceptance.
    Offer,
    /// The host claims or transfers it to a named operator.
    Host,
}

/// An operator's runtime state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operator {
    /// Skills sorted by id, teams sorted.
    pub(crate) spec: OperatorSpec,
    pub(crate) cap: [u16; MAX_CHANNELS],
    pub(crate) load: [u16; MAX_CHANNELS],
    pub(crate) open: u32,
    /// Conversations held, in the order received.
    pub(crate) held: SmallVec<[ConversationId; 4]>,
    pub(crate) wrap_until: Option<Timestamp>,
    pub(crate) added_at: Timestamp,
    pub(crate) available_since: Timestamp,
    pub(crate) last_ended_at: Timestamp,
    pub(crate) last_assigned_at: Timestamp,
    /// Sequence of the last pick (or of joining, so newcomers join at the back).
    pub(crate) last_pick: u64,
    /// Pick sequence of the last assignment on each channel (0 = never), so
    /// least-loaded ties re-key only the channel that changed.
    pub(crate) pick_on: [u64; MAX_CHANNELS],
    /// When the status last changed.
    pub(crate) status_since: Timestamp,
    /// Offers missed or rejected in a row.
    pub(crate) missed_in_a_row: u32,
    /// Held back from new work until then (an offer cool-down, or the
    /// throughput cap reached).
    pub(crate) held_back_until: Option<Timestamp>,
    /// Times of the most recent picks, oldest first, at most the throughput
    /// cap's `max_assignments` (empty without a cap).
    pub(crate) recent_picks: VecDeque<Timestamp>,
    /// Reserved for this waiting conversation, which they could take but
    /// for a blocking channel ([`crate::policy::BlockedWork::Reserve`]).
    pub(crate) reserved_for: Option<ConversationId>,
    /// While reserved: the channels whose new work would keep the block.
    pub(crate) reserve_mask: u16,
    /// Index bookkeeping: the key under which the operator sits in each
    /// channel's facets, for channels where it is ready.
    keys: SmallVec<[(u8, u64, u64); 3]>,
    /// Index bookkeeping: load-ratio keys in `load_index`, per channel.
    skew_keys: SmallVec<[(u8, u64); 3]>,
}

impl Operator {
    fn level(&self, skill: SkillId) -> u8 {
        match self.spec.skills.binary_search_by_key(&skill, |s| s.skill) {
            Ok(i) => self.spec.skills[i].level,
            Err(_) => 0,
        }
    }

    fn ready_on(&self, ch: u8) -> bool {
        self.keys.iter().any(|k| k.0 == ch)
    }
}

/// A conversation's runtime state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conversation {
    pub(crate) spec: ConversationSpec,
    pub(crate) ch: u8,
    pub(crate) state: ConversationState,
    pub(crate) started_at: Timestamp,
    pub(crate) asked_at: Option<Timestamp>,
    /// Overflow steps are measured from here (arrival, or a transfer back to routing).
    pub(crate) routing_since: Timestamp,
    pub(crate) seq: u64,
    pub(crate) key: QueueKey,
    pub(crate) step: u8,
    pub(crate) preferred_until: Option<Timestamp>,
    /// Indexed as preferring this operator (the spec's preferred operator,
    /// while they are logged in).
    pub(crate) prefers: Option<OperatorId>,
    /// Only the preferred operator may take it for now.
    pub(crate) in_wait: bool,
    pub(crate) holder: Option<OperatorId>,
    /// First offer made (with an offer policy).
    pub(crate) first_offered_at: Option<Timestamp>,
    /// First accepted assignment (a direct assignment, an accepted offer, a
    /// claim or a transfer to an operator).
    pub(crate) first_assigned_at: Option<Timestamp>,
    pub(crate) assigned_at: Option<Timestamp>,
    pub(crate) first_response_at: Option<Timestamp>,
    pub(crate) message_left_at: Option<Timestamp>,
    pub(crate) transfers: u32,
    pub(crate) last_team: Option<TeamId>,
    /// While offered: when the offer lapses.
    pub(crate) offer_expires_at: Option<Timestamp>,
    /// Operators who rejected or missed an offer of it, and until when that
    /// keeps them from being offered it again (`None`: for the whole wait).
    pub(crate) declined: SmallVec<[(OperatorId, Option<Timestamp>); 2]>,
    /// The operator reserved for it (see [`crate::policy::BlockedWork`]).
    pub(crate) reserved_by: Option<OperatorId>,
    pub(crate) missed_offers: u32,
    /// Rebalance moves so far, and the rebalance cause that last moved it
    /// (a conversation is never moved twice for the same cause).
    pub(crate) moves: u32,
    pub(crate) last_move_cause: u64,
    /// Index bookkeeping.
    bucket: Option<u32>,
    timer: Option<Timestamp>,
    dirty: bool,
}

impl Conversation {
    /// Whether `op` declined it and the decline still keeps them away at `t`.
    fn declined_by(&self, op: OperatorId, t: Timestamp) -> bool {
        self.declined
            .iter()
            .any(|&(o, until)| o == op && until.is_none_or(|u| t < u))
    }
}

/// A conversation that has left the engine (resolved or abandoned), with the
/// timestamps the KPI calculators need.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct FinishedConversation {
    /// The conversation.
    pub id: ConversationId,
    /// Its channel.
    pub channel: ChannelId,
    /// Its tier.
    pub tier: TierId,
    /// The team it was last targeted at, if any.
    pub team: Option<TeamId>,
    /// The last operator who held it.
    pub operator: Option<OperatorId>,
    /// When the bot conversation started, or the ask if there was no bot.
    pub started_at: Timestamp,
    /// When the customer asked for an operator (None: resolved by the bot).
    pub asked_at: Option<Timestamp>,
    /// First offer made to an operator (with an offer policy; `None` for
    /// direct assignments, claims and transfers).
    pub offered_at: Option<Timestamp>,
    /// First *accepted* assignment: a direct assignment, an accepted offer
    /// (the acceptance time, not the offer's), a claim or a transfer to an
    /// operator. Ends the customer's wait.
    pub assigned_at: Option<Timestamp>,
    /// First reply by an operator.
    pub first_response_at: Option<Timestamp>,
    /// Resolution.
    pub resolved_at: Option<Timestamp>,
    /// The customer left while waiting.
    pub abandoned_at: Option<Timestamp>,
    /// The customer left a message instead of waiting.
    pub message_left_at: Option<Timestamp>,
    /// Transfers.
    pub transfers: u32,
    /// Offers of it that operators missed or rejected.
    pub missed_offers: u32,
}

impl FinishedConversation {
    /// The row the KPI calculators read; `None` for a conversation the bot
    /// resolved (it never asked for an operator).
    pub fn to_record(&self) -> Option<crate::kpi::ConversationRecord> {
        Some(crate::kpi::ConversationRecord {
            conversation: self.id,
            channel: self.channel,
            tier: self.tier,
            team: self.team,
            operator: self.operator,
            asked_at: self.asked_at?,
            offered_at: self.offered_at,
            assigned_at: self.assigned_at,
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            // A left message is when the customer left (the record's convention).
            abandoned_at: self.message_left_at.or(self.abandoned_at),
            message_left: self.message_left_at.is_some(),
            transfers: self.transfers,
            tags: Vec::new(),
            satisfaction: None,
            missed_offers: self.missed_offers,
        })
    }
}

/// Live conversations by state, as a real-time dashboard shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StateCounts {
    /// With the bot.
    pub with_bot: u32,
    /// Waiting for an operator.
    pub waiting: u32,
    /// Offered, not yet accepted.
    pub offered: u32,
    /// With an operator (assigned or responded).
    pub with_operator: u32,
    /// Message left, not yet resolved.
    pub message_left: u32,
}

/// Operators by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StatusCounts {
    /// Available.
    pub available: u32,
    /// Away.
    pub away: u32,
    /// Offline.
    pub offline: u32,
}

/// A read-only view of a live conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationView<'a> {
    /// As the host described it.
    pub spec: &'a ConversationSpec,
    /// Where it is in its life.
    pub state: ConversationState,
    /// Who holds it.
    pub operator: Option<OperatorId>,
    /// When the customer asked for an operator.
    pub asked_at: Option<Timestamp>,
    /// When the current holder got it (for an offer: when it was accepted;
    /// `None` while it rings).
    pub assigned_at: Option<Timestamp>,
    /// When it was first offered to an operator.
    pub offered_at: Option<Timestamp>,
    /// First reply by any operator.
    pub first_response_at: Option<Timestamp>,
    /// The operator reserved for it (they could take it but for a blocking
    /// channel, and get no new blocking work until it is taken).
    pub reserved_by: Option<OperatorId>,
    /// Operators whose decline of it is still in force.
    pub declined_by: u32,
    /// Overflow steps in force.
    pub overflow_step: u8,
    /// Still waiting for the preferred operator until then.
    pub preferred_until: Option<Timestamp>,
    /// Transfers so far.
    pub transfers: u32,
}

/// A read-only view of an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorView<'a> {
    /// As the host described them (skills sorted by id).
    pub spec: &'a OperatorSpec,
    /// Conversations held, in the order received.
    pub held: &'a [ConversationId],
    /// In wrap-up until then.
    pub wrap_up_until: Option<Timestamp>,
    /// Held back from new work until then: an offer cool-down, or the
    /// throughput cap reached.
    pub held_back_until: Option<Timestamp>,
    /// Conversations held on all channels.
    pub open: u32,
    /// Reserved for this waiting conversation: no new work on the channels
    /// that block it until it is taken (see [`crate::policy::BlockedWork`]).
    pub reserved_for: Option<ConversationId>,
}

/// The routing engine. See the [module docs](self) for how it decides.
///
/// `==` compares the whole engine, internal layout included (it is what the
/// "a refused event changes nothing" checks use). Two engines with the same
/// state but built differently (one restored from a snapshot) compare equal
/// by [`Engine::snapshot`] or [`Engine::state_hash`], not by `==`.
///
/// ```
/// use switchboard::prelude::*;
///
/// let chat = ChannelId(1);
/// let std_tier = TierId(1);
/// let policy = Policy::new(
///     vec![ChannelSpec { id: chat, name: "chat".into(), blocks: vec![] }],
///     vec![TierSpec { id: std_tier, name: "standard".into(), priority: 1,
///                     first_response_target: Millis::from_mins(5), head_start: Millis::ZERO }],
///     vec![],
/// );
/// let mut engine = Engine::new(policy)?;
/// let t = Timestamp(1_000);
/// engine.apply(Event::OperatorAdded {
///     at: t,
///     operator: OperatorSpec::new(OperatorId(7)).status(OperatorStatus::Available).capacity(chat, 3),
/// })?;
/// engine.apply(Event::ConversationArrived {
///     at: t,
///     conversation: ConversationSpec::new(ConversationId(1), chat, std_tier),
/// })?;
/// let decisions = engine.assign(t)?;
/// assert_eq!(decisions[0].operator, OperatorId(7));
/// # Ok::<(), switchboard::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    policy: Policy,
    matching: Matching,
    channel_idx: HashMap<ChannelId, u8>,
    /// For each channel index, the mask of channels it blocks.
    block_masks: [u16; MAX_CHANNELS],
    tiers: HashMap<TierId, (u32, Millis, Millis)>,
    skills: HashMap<SkillId, ()>,
    max_head_start: u64,
    /// When each overflow step takes effect, from entering routing.
    overflow_at: SmallVec<[Millis; 4]>,

    now: Timestamp,
    inputs: u64,
    arrivals: u64,
    picks: u64,
    trainee_credit: u32,
    /// Rebalance cause counter: a conversation moved for load skew records
    /// the cause and is never moved for skew again.
    causes: u64,
    /// The ring's pointer: the operator picked last under [`Selection::Ring`].
    ring_pointer: Option<OperatorId>,
    /// Per channel: mean handle time of recent resolutions (EWMA, weight
    /// 1/8, integer ms), for the wait estimate.
    handle_ewma: Vec<u64>,

    operators: Vec<Option<Operator>>,
    free_op_slots: Vec<u32>,
    op_slots: HashMap<OperatorId, u32>,
    convs: Vec<Option<Conversation>>,
    free_conv_slots: Vec<u32>,
    conv_slots: HashMap<ConversationId, u32>,

    facets: Facets,
    buckets: Buckets,
    timers: BTreeSet<(Timestamp, u8, u64)>,
    dirty_ops: BTreeSet<(OperatorId, u32)>,
    dirty_convs: Vec<u32>,
    /// Operators whose work a rebalance should look at (went away or
    /// offline, away too long, capacity cut), by id.
    rebalance_sources: BTreeSet<(OperatorId, u32)>,
    /// Unavailable operators whose work goes back to the queue at the end of
    /// this input (or before its matching), unless `defer_to_rebalance`.
    /// Always empty between inputs.
    requeue_pending: BTreeSet<(OperatorId, u32)>,
    /// Per channel: available operators by load ratio (kept only when load
    /// skew rebalancing is on).
    load_index: Vec<BTreeSet<(u64, OperatorId, u32)>>,

    finished: Vec<FinishedConversation>,
    /// Offers that ended before their lapse other than by an answer
    /// (withdrawn, moved), kept until they would have lapsed so that a late
    /// answer gets an error naming why: (conversation, operator) → (lapse
    /// time, cause).
    ended_offers: BTreeMap<(ConversationId, OperatorId), (Timestamp, MoveCause)>,
    /// The same, by lapse time, for pruning.
    ended_offer_times: BTreeSet<(Timestamp, ConversationId, OperatorId)>,
    state_counts: StateCounts,
    status_counts: StatusCounts,
}

impl Engine {
    /// Builds an engine from a policy, after validating it.
    ///
    /// # Errors
    /// [`PolicyError`] if the policy is inconsistent (see [`Policy::validate`]).
    pub fn new(policy: Policy) -> Result<Self, PolicyError> {
        policy.validate()?;
        let channel_idx: HashMap<ChannelId, u8> = policy
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i as u8))
            .collect();
        let mut block_masks = [0u16; MAX_CHANNELS];
        for (i, c) in policy.channels.iter().enumerate() {
            for b in &c.blocks {
                if let Some(&j) = channel_idx.get(b) {
                    block_masks[i] |= 1 << j;
                }
            }
        }
        let tiers = policy
            .tiers
            .iter()
            .map(|t| (t.id, (t.priority, t.first_response_target, t.head_start)))
            .collect();
        let skills = policy.skills.iter().map(|s| (s.id, ())).collect();
        let max_head_start = policy
            .tiers
            .iter()
            .map(|t| t.head_start.0.min(MAX_TIMESTAMP.0))
            .max()
            .unwrap_or(0);
        let overflow_at = policy.overflow_offsets().into_iter().collect();
        Ok(Engine {
            policy,
            overflow_at,
            matching: Matching::Indexed,
            channel_idx,
            block_masks,
            tiers,
            skills,
            max_head_start,
            now: Timestamp(0),
            inputs: 0,
            arrivals: 0,
            picks: 0,
            trainee_credit: 0,
            causes: 0,
            ring_pointer: None,
            handle_ewma: Vec::new(),
            operators: Vec::new(),
            free_op_slots: Vec::new(),
            op_slots: HashMap::new(),
            convs: Vec::new(),
            free_conv_slots: Vec::new(),
            conv_slots: HashMap::new(),
            facets: Facets::default(),
            buckets: Buckets::default(),
            timers: BTreeSet::new(),
            dirty_ops: BTreeSet::new(),
            dirty_convs: Vec::new(),
            rebalance_sources: BTreeSet::new(),
            requeue_pending: BTreeSet::new(),
            load_index: Vec::new(),
            finished: Vec::new(),
            ended_offers: BTreeMap::new(),
            ended_offer_times: BTreeSet::new(),
            state_counts: StateCounts::default(),
            status_counts: StatusCounts::default(),
        })
    }

    /// Chooses how matches are found (see [`Matching`]); decisions are the same.
    pub fn set_matching(&mut self, matching: Matching) {
        self.matching = matching;
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The latest time the engine has seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// How many inputs have been applied (the `input_seq` of the last one).
    pub fn inputs_applied(&self) -> u64 {
        self.inputs
    }

    /// Applies one input and returns the decisions it produced, in order.
    ///
    /// Any input may produce decisions, so a host must handle the result of
    /// every call, not only of `assign`:
    /// - [`Event::Assign`], [`Event::Rebalance`] and
    ///   [`Event::RebalanceOperator`] place waiting conversations
    ///   (`Assigned` / `Offered`), the rebalances after their moves
    ///   (`Unassigned`);
    /// - **every input** first fires the timers due up to its time: an offer
    ///   that lapses is reported as `Unassigned { cause: offer_expired }`, and
    ///   an operator away longer than `reassign_responded_after_away` gives up
    ///   their replied work (`away_too_long`);
    /// - [`Event::OfferRejected`]: `Unassigned { cause: offer_rejected }`;
    /// - [`Event::ConversationAbandoned`], [`Event::ConversationResolved`] and
    ///   [`Event::ConversationTransferred`] of a conversation whose offer is
    ///   still ringing: `Unassigned { cause: withdrawn }` naming the operator
    ///   to stop ringing;
    /// - [`Event::OperatorStatusChanged`] to away or offline: the operator's
    ///   unanswered work back to the queue (`operator_away` /
    ///   `operator_offline`), unless `rebalance.defer_to_rebalance`;
    /// - [`Event::OperatorRemoved`]: everything they held back to the queue
    ///   (`operator_removed`).
    ///
    /// Only the first group assigns; conversations put back in the queue by
    /// the others are placed by the next `assign`.
    ///
    /// # Errors
    /// [`EngineError`] naming the problem; the engine is then exactly as
    /// before the call.
    pub fn apply(&mut self, event: Event) -> Result<Vec<Decision>, EngineError> {
        let mut out = Vec::new();
        self.apply_into(event, &mut out)?;
        Ok(out)
    }

    /// Like [`Engine::apply`], appending decisions to the caller's buffer
    /// (so a busy host reuses one allocation). Returns how many were appended.
    ///
    /// # Errors
    /// As [`Engine::apply`]; `out` is untouched on error.
    pub fn apply_into(
        &mut self,
        event: Event,
        out: &mut Vec<Decision>,
    ) -> Result<usize, EngineError> {
        let at = event.at();
        self.check_time(at)?;
        self.validate(&event)?;
        // Validation passed: from here on nothing fails. Timers up to `at`
        // only free capacity or widen eligibility, so they cannot invalidate
        // what was checked.
        self.inputs += 1;
        self.forget_ended_offers(at);
        self.advance_to(at, out);
        let before = out.len();
        self.execute(event, out);
        self.requeue_unavailable(out);
        Ok(out.len() - before)
    }

    /// Forgets ended offers whose lapse time has come: from then on a late
    /// answer would have been refused as lapsed anyway.
    fn forget_ended_offers(&mut self, now: Timestamp) {
        while let Some(&(t, c, o)) = self.ended_offer_times.first() {
            if t > now {
                break;
            }
            self.ended_offer_times.remove(&(t, c, o));
            self.ended_offers.remove(&(c, o));
        }
    }

    /// Remembers an offer that ended other than by an answer or a lapse.
    fn remember_ended_offer(&mut self, cs: u32, operator: OperatorId, cause: MoveCause) {
        let c = self.conv_at(cs);
        let (id, Some(lapse)) = (c.spec.id, c.offer_expires_at) else {
            return;
        };
        if let Some((old, _)) = self.ended_offers.insert((id, operator), (lapse, cause)) {
            self.ended_offer_times.remove(&(old, id, operator));
        }
        self.ended_offer_times.insert((lapse, id, operator));
    }

    /// Matches waiting conversations with operators at `now`. Shorthand for
    /// `apply(Event::Assign { at: now })`.
    ///
    /// # Errors
    /// [`EngineError::TimeWentBackwards`] or
    /// [`EngineError::TimestampOutOfRange`].
    pub fn assign(&mut self, now: Timestamp) -> Result<Vec<Decision>, EngineError> {
        self.apply(Event::Assign { at: now })
    }

    /// When the engine next needs to be called (a wrap-up ends, a preferred
    /// wait runs out, an overflow step is reached, an offer lapses, a
    /// hold-back ends), so a host can sleep until
    /// then instead of polling. `None`: nothing is scheduled.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.timers.first().map(|t| t.0)
    }

    /// Conversations that left the engine since the last call, in the order
    /// they ended. Feed them to the KPI calculators.
    pub fn take_finished(&mut self) -> Vec<FinishedConversation> {
        std::mem::take(&mut self.finished)
    }

    /// A live conversation.
    pub fn conversation(&self, id: ConversationId) -> Option<ConversationView<'_>> {
        let c = self.conv_ref(id)?;
        Some(ConversationView {
            spec: &c.spec,
            state: c.state,
            operator: c.holder,
            asked_at: c.asked_at,
            assigned_at: c.assigned_at,
            offered_at: c.first_offered_at,
            first_response_at: c.first_response_at,
            reserved_by: c.reserved_by,
            declined_by: c
                .declined
                .iter()
                .filter(|d| c.declined_by(d.0, self.now))
                .count() as u32,
            overflow_step: c.step,
            preferred_until: c.preferred_until,
            transfers: c.transfers,
        })
    }

    /// An operator.
    pub fn operator(&self, id: OperatorId) -> Option<OperatorView<'_>> {
        let o = self.op_ref(id)?;
        Some(OperatorView {
            spec: &o.spec,
            held: &o.held,
            wrap_up_until: o.wrap_until,
            held_back_until: o.held_back_until,
            open: o.open,
            reserved_for: o.reserved_for,
        })
    }

    /// An operator's load and capacity on a channel.
    ///
    /// # Errors
    /// [`EngineError::UnknownOperator`], [`EngineError::UnknownChannel`].
    pub fn operator_load(
        &self,
        id: OperatorId,
        channel: ChannelId,
    ) -> Result<(u16, u16), EngineError> {
        let o = self.op_ref(id).ok_or(EngineError::UnknownOperator(id))?;
        let ch = self.ch(channel)? as usize;
        Ok((o.load[ch], o.cap[ch]))
    }

    /// Waiting conversations in routing order (the order `assign` serves
    /// them when several operators could take them).
    pub fn waiting(&self) -> Vec<ConversationId> {
        let mut v: Vec<(QueueKey, ConversationId)> = self
            .convs
            .iter()
            .flatten()
            .filter(|c| c.state == ConversationState::Waiting)
            .map(|c| (c.key, c.spec.id))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|x| x.1).collect()
    }

    /// Live conversations by state.
    pub fn state_counts(&self) -> StateCounts {
        self.state_counts
    }

    /// Operators by status.
    pub fn status_counts(&self) -> StatusCounts {
        self.status_counts
    }

    /// Every operator id, ascending.
    pub fn operator_ids(&self) -> Vec<OperatorId> {
        let mut v: Vec<OperatorId> = self.operators.iter().flatten().map(|o| o.spec.id).collect();
        v.sort_unstable();
        v
    }

    /// Every live conversation id, ascending.
    pub fn conversation_ids(&self) -> Vec<ConversationId> {
        let mut v: Vec<ConversationId> = self.convs.iter().flatten().map(|c| c.spec.id).collect();
        v.sort_unstable();
        v
    }

    /// Whether `operator` could take `conversation` right now under the
    /// eligibility rule (the definition the indexes accelerate; used by tests
    /// and reference routers), direct routing above capacity to a preferred
    /// operator included.
    pub fn is_eligible(&self, operator: OperatorId, conversation: ConversationId) -> bool {
        let (Some(o), Some(c)) = (self.op_ref(operator), self.conv_ref(conversation)) else {
            return false;
        };
        if c.state != ConversationState::Waiting {
            return false;
        }
        if c.prefers == Some(operator) && !c.declined_by(operator, self.now) {
            return self.op_can_take_now(o, c.ch)
                || (self.policy.preferred_operator.over_capacity
                    && self.op_can_take_over_capacity(o, c.ch));
        }
        if !self.op_can_take_now(o, c.ch) {
            return false;
        }
        let (req, _, in_wait, _) = self.requirements_at(c, self.now);
        !in_wait && satisfies(o, &req)
    }

    // ----- lookups -------------------------------------------------------

    fn ch(&self, channel: ChannelId) -> Result<u8, EngineError> {
        self.channel_idx
            .get(&channel)
            .copied()
            .ok_or(EngineError::UnknownChannel(channel))
    }

    fn op_ref(&self, id: OperatorId) -> Option<&Operator> {
        let s = *self.op_slots.get(&id)?;
        self.operators[s as usize].as_ref()
    }

    fn conv_ref(&self, id: ConversationId) -> Option<&Conversation> {
        let s = *self.conv_slots.get(&id)?;
        self.convs[s as usize].as_ref()
    }

    fn op_at(&self, slot: u32) -> &Operator {
        match &self.operators[slot as usize] {
            Some(o) => o,
            None => unreachable_slot(),
        }
    }

    fn op_mut(&mut self, slot: u32) -> &mut Operator {
        match &mut self.operators[slot as usize] {
            Some(o) => o,
            None => unreachable_slot(),
        }
    }

    fn conv_at(&self, slot: u32) -> &Conversation {
        match &self.convs[slot as usize] {
            Some(c) => c,
            None => unreachable_slot(),
        }
    }

    fn conv_mut(&mut self, slot: u32) -> &mut Conversation {
        match &mut self.convs[slot as usize] {
            Some(c) => c,
            None => unreachable_slot(),
        }
    }

    fn op_can_take_now(&self, o: &Operator, ch: u8) -> bool {
        o.load[usize::from(ch)] < o.cap[usize::from(ch)] && self.op_can_take_over_capacity(o, ch)
    }

    /// Ready for new work on `ch` except for free capacity (direct routing
    /// above capacity to a preferred operator), up to what a load can count.
    fn op_can_take_over_capacity(&self, o: &Operator, ch: u8) -> bool {
        o.spec.status == OperatorStatus::Available
            && o.wrap_until.is_none()
            && o.held_back_until.is_none()
            && o.cap[usize::from(ch)] > 0
            && o.load[usize::from(ch)] < u16::MAX
            && (self.blocked_mask(o) | o.reserve_mask) & (1 << ch) == 0
    }

    fn blocked_mask(&self, o: &Operator) -> u16 {
        let mut m = 0;
        for i in 0..self.policy.channels.len() {
            if o.load[i] > 0 {
                m |= self.block_masks[i];
            }
        }
        m
    }

    // ----- validation ----------------------------------------------------

    fn check_time(&self, at: Timestamp) -> Result<(), EngineError> {
        if at > MAX_TIMESTAMP {
            return Err(EngineError::TimestampOutOfRange(at));
        }
        if at < self.now {
            return Err(EngineError::TimeWentBackwards {
                got: at,
                last: self.now,
            });
        }
        Ok(())
    }

    fn check_skills(&self, skills: &[SkillLevel]) -> Result<(), EngineError> {
        for (i, s) in skills.iter().enumerate() {
            if !self.skills.contains_key(&s.skill) {
                return Err(EngineError::UnknownSkill(s.skill));
            }
            if !(MIN_LEVEL..=MAX_LEVEL).contains(&s.level) {
                return Err(EngineError::LevelOutOfRange {
                    skill: s.skill,
                    level: s.level,
                });
            }
            if skills[..i].iter().any(|x| x.skill == s.skill) {
                return Err(EngineError::DuplicateSkill(s.skill));
            }
        }
        Ok(())
    }

    fn check_teams(teams: &[TeamId]) -> Result<(), EngineError> {
        for (i, t) in teams.iter().enumerate() {
            if teams[..i].contains(t) {
                return Err(EngineError::DuplicateTeam(*t));
            }
        }
        Ok(())
    }

    fn check_operator_spec(&self, spec: &OperatorSpec) -> Result<(), EngineError> {
        for (i, c) in spec.capacity.iter().enumerate() {
            self.ch(c.channel)?;
            if spec.capacity[..i].iter().any(|x| x.channel == c.channel) {
                return Err(EngineError::DuplicateChannel(c.channel));
            }
            if c.capacity == 0 {
                return Err(EngineError::ZeroCapacity {
                    operator: spec.id,
                    channel: c.channel,
                });
            }
        }
        self.check_skills(&spec.skills)?;
        Self::check_teams(&spec.teams)
    }

    fn check_conversation_spec(&self, spec: &ConversationSpec) -> Result<(), EngineError> {
        self.ch(spec.channel)?;
        if !self.tiers.contains_key(&spec.tier) {
            return Err(EngineError::UnknownTier(spec.tier));
        }
        if spec.skills.len() > MAX_REQUIRED_SKILLS {
            return Err(EngineError::TooManySkills {
                conversation: spec.id,
                count: spec.skills.len(),
                max: MAX_REQUIRED_SKILLS,
            });
        }
        self.check_skills(&spec.skills)
    }

    fn live_conv(&self, id: ConversationId) -> Result<&Conversation, EngineError> {
        self.conv_ref(id)
            .ok_or(EngineError::UnknownConversation(id))
    }

    fn known_op(&self, id: OperatorId) -> Result<&Operator, EngineError> {
        self.op_ref(id).ok_or(EngineError::UnknownOperator(id))
    }

    /// Checks the state the conversation will be in when an event at `at`
    /// executes: an offer due to lapse by then will have lapsed (timers fire
    /// first), so the conversation will be waiting again.
    fn check_state(
        c: &Conversation,
        at: Timestamp,
        action: &'static str,
        allowed: &[ConversationState],
    ) -> Result<(), EngineError> {
        let state = match (c.state, c.offer_expires_at) {
            (ConversationState::Offered, Some(x)) if x <= at => ConversationState::Waiting,
            (s, _) => s,
        };
        if allowed.contains(&state) {
            Ok(())
        } else {
            Err(EngineError::InvalidTransition {
                conversation: c.spec.id,
                action,
                state,
            })
        }
    }

    /// A logged-in operator with room on the channel, for claims and
    /// transfers (which skip skills: a person chose).
    fn check_can_hold(&self, o: &Operator, ch: u8, channel: ChannelId) -> Result<(), EngineError> {
        if o.spec.status == OperatorStatus::Offline {
            return Err(EngineError::OperatorOffline(o.spec.id));
        }
        let c = ch as usize;
        if o.cap[c] == 0 {
            return Err(EngineError::ZeroCapacity {
                operator: o.spec.id,
                channel,
            });
        }
        if o.load[c] >= o.cap[c] {
            return Err(EngineError::AtCapacity {
                operator: o.spec.id,
                channel,
            });
        }
        Ok(())
    }

    fn validate(&self, event: &Event) -> Result<(), EngineError> {
        use ConversationState as S;
        let at = event.at();
        match event {
            Event::OperatorAdded { operator, .. } => {
                if self.op_slots.contains_key(&operator.id) {
                    return Err(EngineError::DuplicateOperator(operator.id));
                }
                self.check_operator_spec(operator)
            }
            Event::OperatorRemoved { operator, .. }
            | Event::OperatorStatusChanged { operator, .. } => self.known_op(*operator).map(|_| ()),
            Event::OperatorCapacityChanged {
                operator, channel, ..
            } => {
                self.known_op(*operator)?;
                self.ch(*channel).map(|_| ())
            }
            Event::OperatorSkillsChanged {
                operator, skills, ..
            } => {
                self.known_op(*operator)?;
                self.check_skills(skills)
            }
            Event::OperatorTeamsChanged {
                operator, teams, ..
            } => {
                self.known_op(*operator)?;
                Self::check_teams(teams)
            }
            Event::BotConversationStarted { conversation, .. } => {
                if self.conv_slots.contains_key(&conversation.id) {
                    return Err(EngineError::DuplicateConversation(conversation.id));
                }
                self.check_conversation_spec(conversation)
            }
            Event::ConversationArrived { conversation, .. } => {
                if let Some(c) = self.conv_ref(conversation.id) {
                    if c.state != S::WithBot {
                        return Err(EngineError::DuplicateConversation(conversation.id));
                    }
                }
                self.check_conversation_spec(conversation)
            }
            Event::FirstResponseSent { conversation, .. } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "send a first response on", &[S::Assigned])
            }
            Event::ConversationResolved { conversation, .. } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(
                    c,
                    at,
                    "resolve",
                    &[
                        S::WithBot,
                        S::Offered,
                        S::Assigned,
                        S::Responded,
                        S::MessageLeft,
                    ],
                )
            }
            Event::ConversationAbandoned { conversation, .. } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "abandon", &[S::Waiting, S::Offered])
            }
            Event::MessageLeft { conversation, .. } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "leave a message on", &[S::Waiting])
            }
            Event::ConversationTransferred {
                conversation, to, ..
            } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "transfer", &[S::Offered, S::Assigned, S::Responded])?;
                if let TransferTarget::Operator(p) = to {
                    let o = self.known_op(*p)?;
                    if c.holder == Some(*p) {
                        return Err(EngineError::InvalidTransition {
                            conversation: *conversation,
                            action: "transfer to its own holder",
                            state: c.state,
                        });
                    }
                    self.check_can_hold(o, c.ch, c.spec.channel)?;
                }
                Ok(())
            }
            Event::ConversationClaimed {
                conversation,
                operator,
                ..
            } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "claim", &[S::Waiting])?;
                let o = self.known_op(*operator)?;
                self.check_can_hold(o, c.ch, c.spec.channel)
            }
            Event::Assign { .. } | Event::Rebalance { .. } | Event::Tick { .. } => Ok(()),
            Event::RebalanceOperator { operator, .. } => self.known_op(*operator).map(|_| ()),
            Event::OfferAccepted {
                at,
                conversation,
                operator,
            }
            | Event::OfferRejected {
                at,
                conversation,
                operator,
            } => {
                if let Some(&(lapse, cause)) = self.ended_offers.get(&(*conversation, *operator)) {
                    let live = self
                        .conv_ref(*conversation)
                        .is_some_and(|c| c.state == S::Offered && c.holder == Some(*operator));
                    if !live && *at < lapse {
                        return Err(EngineError::OfferWithdrawn {
                            conversation: *conversation,
                            operator: *operator,
                            cause: cause.as_str(),
                        });
                    }
                }
                let c = self.live_conv(*conversation)?;
                self.known_op(*operator)?;
                if c.state != S::Offered || c.holder != Some(*operator) {
                    if c.holder == Some(*operator) {
                        return Err(EngineError::InvalidTransition {
                            conversation: *conversation,
                            action: "answer an offer of",
                            state: c.state,
                        });
                    }
                    return Err(EngineError::NoSuchOffer {
                        conversation: *conversation,
                        operator: *operator,
                    });
                }
                match c.offer_expires_at {
                    Some(x) if *at >= x => Err(EngineError::OfferExpired {
                        conversation: *conversation,
                        expired_at: x,
                    }),
                    _ => Ok(()),
                }
            }
        }
    }

    // ----- execution (infallible after validation) -----------------------

    fn execute(&mut self, event: Event, out: &mut Vec<Decision>) {
        match event {
            Event::OperatorAdded { at, operator } => self.add_operator(at, operator),
            Event::OperatorRemoved { at, operator } => self.remove_operator(at, operator, out),
            Event::OperatorStatusChanged {
                at,
                operator,
                status,
            } => self.set_status(at, operator, status),
            Event::OperatorCapacityChanged {
                operator,
                channel,
                capacity,
                ..
            } => self.set_capacity(operator, channel, capacity),
            Event::OperatorSkillsChanged {
                operator, skills, ..
            } => self.change_operator(operator, |o| {
                o.spec.skills = skills;
                o.spec.skills.sort_unstable();
            }),
            Event::OperatorTeamsChanged {
                operator, teams, ..
            } => self.change_operator(operator, |o| {
                o.spec.teams = teams;
                o.spec.teams.sort_unstable();
            }),
            Event::BotConversationStarted { at, conversation } => {
                self.bot_started(at, conversation)
            }
            Event::ConversationArrived { at, conversation } => self.arrived(at, conversation),
            Event::FirstResponseSent { at, conversation } => {
                let s = self.conv_slots[&conversation];
                let c = self.conv_mut(s);
                c.first_response_at.get_or_insert(at);
                self.set_state(s, ConversationState::Responded);
            }
            Event::ConversationResolved { at, conversation } => {
                let s = self.conv_slots[&conversation];
                self.withdraw_offer(s, at, out);
                self.resolved(at, conversation);
            }
            Event::ConversationAbandoned { at, conversation } => {
                let s = self.conv_slots[&conversation];
                self.unqueue(s);
                self.withdraw_offer(s, at, out);
                self.finish(s, |f| f.abandoned_at = Some(at));
            }
            Event::MessageLeft { at, conversation } => {
                let s = self.conv_slots[&conversation];
                self.unqueue(s);
                let c = self.conv_mut(s);
                c.message_left_at = Some(at);
                // Out of routing: the preference no longer applies.
                c.prefers = None;
                c.preferred_until = None;
                self.set_state(s, ConversationState::MessageLeft);
            }
            Event::ConversationTransferred {
                at,
                conversation,
                to,
            } => {
                let s = self.conv_slots[&conversation];
                self.withdraw_offer(s, at, out);
                self.transferred(at, conversation, to);
            }
            Event::ConversationClaimed {
                at,
                conversation,
                operator,
            } => {
                let cs = self.conv_slots[&conversation];
                let os = self.op_slots[&operator];
                self.unqueue(cs);
                self.hand_over(cs, os, at, Handover::Host);
            }
            Event::Assign { at } => self.run_assign(at, out),
            Event::Tick { .. } => {}
            Event::OfferAccepted {
                at,
                conversation,
                operator,
            } => {
                let cs = self.conv_slots[&conversation];
                self.accept(cs, operator, at);
            }
            Event::OfferRejected {
                at, conversation, ..
            } => {
                let cs = self.conv_slots[&conversation];
                self.decline(cs, at, MoveCause::OfferRejected, out);
            }
            Event::Rebalance { at } => self.run_rebalance(at, None, out),
            Event::RebalanceOperator { at, operator } => {
                let os = self.op_slots[&operator];
                self.run_rebalance(at, Some(os), out);
            }
        }
    }

    fn count_restored(&mut self, state: ConversationState) {
        if let Some(n) = count_slot(&mut self.state_counts, state) {
            *n += 1;
        }
    }

    fn set_state(&mut self, slot: u32, to: ConversationState) {
        let from = self.conv_at(slot).state;
        if from == ConversationState::Waiting && to != from {
            if let Some(r) = self.conv_at(slot).reserved_by {
                if let Some(&os) = self.op_slots.get(&r) {
                    self.unreserve(os);
                }
            }
        }
        if let Some(n) = count_slot(&mut self.state_counts, from) {
            *n -= 1;
        }
        if let Some(n) = count_slot(&mut self.state_counts, to) {
            *n += 1;
        }
        self.conv_mut(slot).state = to;
    }

    fn status_slot(&mut self, s: OperatorStatus) -> &mut u32 {
        match s {
            OperatorStatus::Available => &mut self.status_counts.available,
            OperatorStatus::Away => &mut self.status_counts.away,
            OperatorStatus::Offline => &mut self.status_counts.offline,
        }
    }

    fn add_operator(&mut self, at: Timestamp, mut spec: OperatorSpec) {
        spec.skills.sort_unstable();
        spec.teams.sort_unstable();
        let mut cap = [0u16; MAX_CHANNELS];
        for c in &spec.capacity {
            if let Some(&i) = self.channel_idx.get(&c.channel) {
                cap[i as usize] = c.capacity;
            }
        }
        self.picks += 1;
        let id = spec.id;
        *self.status_slot(spec.status) += 1;
        let op = Operator {
            spec,
            cap,
            load: [0; MAX_CHANNELS],
            open: 0,
            held: SmallVec::new(),
            wrap_until: None,
            added_at: at,
            available_since: at,
            last_ended_at: at,
            last_assigned_at: at,
            last_pick: self.picks,
            pick_on: [0; MAX_CHANNELS],
            status_since: at,
            missed_in_a_row: 0,
            held_back_until: None,
            recent_picks: VecDeque::new(),
            reserved_for: None,
            reserve_mask: 0,
            keys: SmallVec::new(),
            skew_keys: SmallVec::new(),
        };
        let slot = match self.free_op_slots.pop() {
            Some(s) => {
                self.operators[s as usize] = Some(op);
                s
            }
            None => {
                self.operators.push(Some(op));
                (self.operators.len() - 1) as u32
            }
        };
        self.op_slots.insert(id, slot);
        self.refresh_op(slot);
        self.dirty_ops.insert((id, slot));
        // Joining away or offline starts the "unavailable too long" clock,
        // as a status change would (and as a restore does).
        if let (false, Some(after)) = (
            self.op_at(slot).spec.status == OperatorStatus::Available,
            self.policy.rebalance.reassign_responded_after_away,
        ) {
            self.timers.insert((at + after, TIMER_AWAY, id.0));
        }
    }

    fn remove_operator(&mut self, at: Timestamp, id: OperatorId, out: &mut Vec<Decision>) {
        let slot = self.op_slots[&id];
        self.unreserve(slot);
        // Everything they held waits again, each move reported.
        let held: SmallVec<[ConversationId; 4]> = self.op_at(slot).held.clone();
        for cid in held {
            let cs = self.conv_slots[&cid];
            self.take_away(cs, slot, at, MoveCause::OperatorRemoved, out);
        }
        self.unindex_op(slot);
        if let Some(w) = self.op_at(slot).wrap_until {
            self.timers.remove(&(w, TIMER_WRAP_UP, id.0));
        }
        if let Some(h) = self.op_at(slot).held_back_until {
            self.timers.remove(&(h, TIMER_HOLD_BACK, id.0));
        }
        let status = self.op_at(slot).spec.status;
        *self.status_slot(status) -= 1;
        if let (false, Some(after)) = (
            status == OperatorStatus::Available,
            self.policy.rebalance.reassign_responded_after_away,
        ) {
            let since = self.op_at(slot).status_since;
            self.timers.remove(&(since + after, TIMER_AWAY, id.0));
        }
        self.unindex_load(slot);
        self.rebalance_sources.remove(&(id, slot));
        self.requeue_pending.remove(&(id, slot));
        self.dirty_ops.remove(&(id, slot));
        self.op_slots.remove(&id);
        self.operators[slot as usize] = None;
        self.free_op_slots.push(slot);
        // Conversations waiting for this operator fall back to normal routing.
        self.end_preferred_waits(id);
    }

    fn set_status(&mut self, at: Timestamp, id: OperatorId, status: OperatorStatus) {
        let slot = self.op_slots[&id];
        let old = self.op_at(slot).spec.status;
        let old_since = self.op_at(slot).status_since;
        if old == status {
            return;
        }
        if status != OperatorStatus::Available {
            self.unreserve(slot);
        }
        *self.status_slot(old) -= 1;
        *self.status_slot(status) += 1;
        let was_available = old == OperatorStatus::Available;
        let available = status == OperatorStatus::Available;
        let o = self.op_mut(slot);
        o.spec.status = status;
        // Away ↔ offline keeps the clock: "away too long" counts from when
        // the operator stopped being available.
        if was_available != available {
            o.status_since = at;
        }
        if available {
            o.available_since = at;
        }
        self.refresh_op(slot);
        let away_limit = self.policy.rebalance.reassign_responded_after_away;
        if available {
            self.dirty_ops.insert((id, slot));
            self.rebalance_sources.remove(&(id, slot));
            if let Some(after) = away_limit {
                self.timers.remove(&(old_since + after, TIMER_AWAY, id.0));
            }
        } else {
            if let (true, Some(after)) = (was_available, away_limit) {
                self.timers.insert((at + after, TIMER_AWAY, id.0));
            }
            if !self.op_at(slot).held.is_empty() {
                self.rebalance_sources.insert((id, slot));
                if !self.policy.rebalance.defer_to_rebalance {
                    self.requeue_pending.insert((id, slot));
                }
            }
        }
        if status == OperatorStatus::Offline {
            self.end_preferred_waits(id);
        }
    }

    fn set_capacity(&mut self, id: OperatorId, channel: ChannelId, capacity: u16) {
        let slot = self.op_slots[&id];
        let Some(&ch) = self.channel_idx.get(&channel) else {
            return;
        };
        self.unreserve(slot);
        let o = self.op_mut(slot);
        let grew = capacity > o.cap[ch as usize];
        let shrank = capacity < o.cap[ch as usize];
        o.cap[ch as usize] = capacity;
        match o.spec.capacity.iter_mut().find(|c| c.channel == channel) {
            Some(c) => c.capacity = capacity,
            None => o
                .spec
                .capacity
                .push(crate::model::ChannelCapacity { channel, capacity }),
        }
        o.spec.capacity.retain(|c| c.capacity > 0);
        // A cut below the load; a load above capacity from direct routing to
        // a preferred operator is not a cut when capacity is raised or kept.
        let over = shrank && o.load[ch as usize] > capacity;
        self.refresh_op(slot);
        if grew {
            self.dirty_ops.insert((id, slot));
        }
        if over && self.policy.rebalance.on_capacity_cut {
            self.rebalance_sources.insert((id, slot));
        }
    }

    /// Changes skills or teams: the operator leaves every facet under the old
    /// ones first.
    fn change_operator(&mut self, id: OperatorId, f: impl FnOnce(&mut Operator)) {
        let slot = self.op_slots[&id];
        self.unreserve(slot);
        self.unindex_op(slot);
        f(self.op_mut(slot));
        self.refresh_op(slot);
        self.dirty_ops.insert((id, slot));
    }

    fn bot_started(&mut self, at: Timestamp, spec: ConversationSpec) {
        let slot = self.new_conv(at, spec);
        self.set_state(slot, ConversationState::WithBot);
    }

    fn new_conv(&mut self, at: Timestamp, spec: ConversationSpec) -> u32 {
        let id = spec.id;
        let ch = self.channel_idx.get(&spec.channel).copied().unwrap_or(0);
        let conv = Conversation {
            spec,
            ch,
            state: ConversationState::Resolved,
            started_at: at,
            asked_at: None,
            routing_since: at,
            seq: 0,
            key: (0, 0, 0),
            step: 0,
            preferred_until: None,
            prefers: None,
            in_wait: false,
            holder: None,
            first_offered_at: None,
            first_assigned_at: None,
            assigned_at: None,
            first_response_at: None,
            message_left_at: None,
            transfers: 0,
            last_team: None,
            offer_expires_at: None,
            declined: SmallVec::new(),
            reserved_by: None,
            missed_offers: 0,
            moves: 0,
            last_move_cause: 0,
            bucket: None,
            timer: None,
            dirty: false,
        };
        let slot = match self.free_conv_slots.pop() {
            Some(s) => {
                self.convs[s as usize] = Some(conv);
                s
            }
            None => {
                self.convs.push(Some(conv));
                (self.convs.len() - 1) as u32
            }
        };
        self.conv_slots.insert(id, slot);
        slot
    }

    fn arrived(&mut self, at: Timestamp, spec: ConversationSpec) {
        let slot = match self.conv_slots.get(&spec.id) {
            Some(&s) => {
                let ch = self.channel_idx.get(&spec.channel).copied().unwrap_or(0);
                let c = self.conv_mut(s);
                c.spec = spec;
                c.ch = ch;
                s
            }
            None => self.new_conv(at, spec),
        };
        self.arrivals += 1;
        let seq = self.arrivals;
        let key = self.queue_key(self.conv_at(slot).spec.tier, at, seq);
        let wait = self.policy.preferred_operator.wait;
        let prefers = self.conv_at(slot).spec.preferred_operator.filter(|p| {
            self.op_ref(*p)
                .is_some_and(|o| o.spec.status != OperatorStatus::Offline)
        });
        let preferred_until = prefers.and((wait > Millis::ZERO).then(|| at + wait));
        let c = self.conv_mut(slot);
        c.asked_at = Some(at);
        c.routing_since = at;
        c.seq = seq;
        c.key = key;
        c.step = 0;
        c.preferred_until = preferred_until;
        c.prefers = prefers;
        c.last_team = c.spec.team;
        self.set_state(slot, ConversationState::Waiting);
        self.place(slot, at);
    }

    fn queue_key(&self, tier: TierId, asked: Timestamp, seq: u64) -> QueueKey {
        let (priority, target, head) =
            self.tiers
                .get(&tier)
                .copied()
                .unwrap_or((0, Millis::ZERO, Millis::ZERO));
        match self.policy.queue_order {
            QueueOrder::StrictPriority => (u64::from(priority), asked.0, seq),
            QueueOrder::Aging => (
                0,
                asked.0 + self.max_head_start - head.0.min(self.max_head_start),
                seq,
            ),
            QueueOrder::EarliestDeadline => (0, asked.0.saturating_add(target.0), seq),
            QueueOrder::Fifo => (0, asked.0, seq),
        }
    }

    /// The requirements in force for a waiting conversation at time `t`, and
    /// when they next change.
    fn requirements_at(
        &self,
        c: &Conversation,
        t: Timestamp,
    ) -> (Req, u8, bool, Option<Timestamp>) {
        let steps = &self.policy.overflow;
        let step = self
            .overflow_at
            .iter()
            .take_while(|&&after| c.routing_since + after <= t)
            .count();
        let mut skills: SmallVec<[SkillLevel; MAX_REQUIRED_SKILLS]> =
            c.spec.skills.iter().copied().collect();
        skills.sort_unstable();
        let mut team = c.spec.team;
        for s in &steps[..step] {
            match s.relax {
                Relax::LowerLevels(n) => {
                    for sk in &mut skills {
                        sk.level = sk.level.saturating_sub(n).max(MIN_LEVEL);
                    }
                }
                Relax::AnyTeam => team = None,
                Relax::AnyOperator => {
                    skills.clear();
                    team = None;
                }
            }
        }
        let preferring = c.preferred_until.filter(|u| t < *u);
        let next_step = self.overflow_at.get(step).map(|&a| c.routing_since + a);
        // A decline that runs out makes that operator eligible again.
        let decline_ends = c
            .declined
            .iter()
            .filter_map(|d| d.1)
            .filter(|u| t < *u)
            .min();
        let next = [preferring, next_step, decline_ends]
            .into_iter()
            .flatten()
            .min();
        (
            Req {
                channel: c.ch,
                skills,
                team,
                excluded: {
                    let mut x: SmallVec<[OperatorId; 2]> = c
                        .declined
                        .iter()
                        .filter(|d| d.1.is_none_or(|u| t < u))
                        .map(|d| d.0)
                        .collect();
                    x.sort_unstable();
                    x
                },
            },
            step as u8,
            preferring.is_some(),
            next,
        )
    }

    /// Puts a waiting conversation in the bucket for its requirements at `t`
    /// and schedules its next requirement change.
    fn place(&mut self, slot: u32, t: Timestamp) {
        let (req, step, in_wait, next) = self.requirements_at(self.conv_at(slot), t);
        let c = self.conv_at(slot);
        let (key, id, ch, prefers) = (c.key, c.spec.id, c.ch, c.prefers);
        let bucket = (!in_wait).then(|| self.buckets.insert(&req, key, slot));
        if let Some(p) = prefers {
            self.buckets.prefer(p, ch, key, slot);
        }
        if let Some(n) = next {
            self.timers.insert((n, TIMER_REQUIREMENTS, id.0));
        }
        let c = self.conv_mut(slot);
        c.bucket = bucket;
        c.in_wait = in_wait;
        c.step = step;
        c.timer = next;
        if !c.dirty {
            c.dirty = true;
            self.dirty_convs.push(slot);
        }
    }

    /// Takes a conversation out of its bucket and cancels its timer.
    fn unqueue(&mut self, slot: u32) {
        let c = self.conv_at(slot);
        let (bucket, key, timer, id, ch, prefers) =
            (c.bucket, c.key, c.timer, c.spec.id, c.ch, c.prefers);
        if let Some(b) = bucket {
            self.buckets.remove(b, key, slot);
        }
        if let Some(p) = prefers {
            self.buckets.unprefer(p, ch, key, slot);
        }
        if let Some(t) = timer {
            self.timers.remove(&(t, TIMER_REQUIREMENTS, id.0));
        }
        let c = self.conv_mut(slot);
        c.bucket = None;
        c.timer = None;
    }

    /// Conversations waiting for `op` stop waiting for them.
    fn end_preferred_waits(&mut self, op: OperatorId) {
        for ch in 0..self.policy.channels.len() as u8 {
            let Some(q) = self.buckets.preferring.get(&(op, ch)) else {
                continue;
            };
            let slots: Vec<u32> = q.iter().map(|e| e.1).collect();
            for s in slots {
                self.unqueue(s);
                let c = self.conv_mut(s);
                c.preferred_until = None;
                c.prefers = None;
                self.place(s, self.now);
            }
        }
    }

    /// Conversations preferring `op` are looked at again in this `assign`
    /// (direct routing above capacity: a full preferred operator who just
    /// became available takes them).
    fn wake_preferring(&mut self, op: OperatorId) {
        for ch in 0..self.policy.channels.len() as u8 {
            let Some(q) = self.buckets.preferring.get(&(op, ch)) else {
                continue;
            };
            let slots: SmallVec<[u32; 8]> = q.iter().map(|e| e.1).collect();
            for s in slots {
                let c = self.conv_mut(s);
                if !c.dirty {
                    c.dirty = true;
                    self.dirty_convs.push(s);
                }
            }
        }
    }

    /// Back to routing with the original priority and waiting time.
    fn requeue(&mut self, slot: u32) {
        let c = self.conv_mut(slot);
        c.holder = None;
        c.assigned_at = None;
        c.preferred_until = None;
        self.set_state(slot, ConversationState::Waiting);
        self.place(slot, self.now);
    }

    /// Frees the holder's capacity (the conversation stays as is otherwise).
    fn release(&mut self, cs: u32) {
        let c = self.conv_at(cs);
        let (cid, ch) = (c.spec.id, c.ch as usize);
        let Some(holder) = c.holder else { return };
        let Some(&os) = self.op_slots.get(&holder) else {
            return;
        };
        let o = self.op_mut(os);
        o.load[ch] = o.load[ch].saturating_sub(1);
        o.open = o.open.saturating_sub(1);
        if let Some(i) = o.held.iter().position(|h| *h == cid) {
            o.held.remove(i);
        }
        self.refresh_op(os);
        self.dirty_ops.insert((holder, os));
    }

    /// Gives a (no longer queued) conversation to an operator.
    ///
    /// Only the engine's own picks move the rotation: round robin's and
    /// fewest-conversations' "least recently picked", least-loaded's tie-break
    /// and (in `decide`) the ring pointer and the throughput window. A host's
    /// claim or transfer to a named operator changes load and held work, and
    /// the `last_assigned` idle clock (the operator did receive work), but
    /// not the rotation: a person chose, so the engine's fairness order is
    /// not charged for it.
    fn hand_over(&mut self, cs: u32, os: u32, at: Timestamp, how: Handover) -> (u16, u16) {
        let (cid, ch) = {
            let c = self.conv_at(cs);
            (c.spec.id, c.ch as usize)
        };
        let pick = match how {
            Handover::Host => None,
            Handover::Assign | Handover::Offer => {
                self.picks += 1;
                Some(self.picks)
            }
        };
        let o = self.op_mut(os);
        let before = (o.load[ch], o.cap[ch]);
        o.load[ch] += 1;
        o.open += 1;
        o.held.push(cid);
        if let Some(pick) = pick {
            o.last_pick = pick;
            o.pick_on[ch] = pick;
        }
        o.last_assigned_at = at;
        let oid = o.spec.id;
        self.refresh_op(os);
        let c = self.conv_mut(cs);
        c.holder = Some(oid);
        if how == Handover::Offer {
            // Not an answer yet: the wait ends when the offer is accepted.
            c.assigned_at = None;
            c.first_offered_at.get_or_insert(at);
        } else {
            c.assigned_at = Some(at);
            c.first_assigned_at.get_or_insert(at);
        }
        // The preference is spent once someone holds it: a later requeue
        // routes normally, and no held conversation names a departed operator.
        c.preferred_until = None;
        c.prefers = None;
        self.set_state(cs, ConversationState::Assigned);
        before
    }

    /// Keeps an operator from new work until `until` (the later of two
    /// hold-backs wins).
    pub(crate) fn hold_back(&mut self, os: u32, until: Timestamp) {
        let o = self.op_mut(os);
        let id = o.spec.id;
        match o.held_back_until {
            Some(old) if old >= until => return,
            Some(old) => {
                o.held_back_until = Some(until);
                self.timers.remove(&(old, TIMER_HOLD_BACK, id.0));
            }
            None => o.held_back_until = Some(until),
        }
        self.timers.insert((until, TIMER_HOLD_BACK, id.0));
        self.refresh_op(os);
    }

    fn resolved(&mut self, at: Timestamp, id: ConversationId) {
        let s = self.conv_slots[&id];
        let holder = self.conv_at(s).holder;
        if let (Some(_), Some(assigned)) = (holder, self.conv_at(s).assigned_at) {
            let ch = self.conv_at(s).ch as usize;
            if self.handle_ewma.len() <= ch {
                self.handle_ewma.resize(self.policy.channels.len(), 0);
            }
            let h = at.since(assigned).0;
            let e = &mut self.handle_ewma[ch];
            *e = if *e == 0 { h.max(1) } else { (*e * 7 + h) / 8 };
        }
        self.release(s);
        if let Some(h) = holder {
            if let Some(&os) = self.op_slots.get(&h) {
                let wrap = self.op_at(os).spec.wrap_up.unwrap_or(self.policy.wrap_up);
                let o = self.op_mut(os);
                o.last_ended_at = at;
                if wrap > Millis::ZERO {
                    let until = at + wrap;
                    if let Some(old) = o.wrap_until.replace(until) {
                        self.timers.remove(&(old, TIMER_WRAP_UP, h.0));
                    }
                    self.timers.insert((until, TIMER_WRAP_UP, h.0));
                }
                self.refresh_op(os);
            }
        }
        self.finish(s, |f| f.resolved_at = Some(at));
    }

    fn transferred(&mut self, at: Timestamp, id: ConversationId, to: TransferTarget) {
        let s = self.conv_slots[&id];
        self.release(s);
        self.conv_mut(s).transfers += 1;
        match to {
            TransferTarget::Operator(p) => {
                let os = self.op_slots[&p];
                self.hand_over(s, os, at, Handover::Host);
            }
            TransferTarget::Team(t) => self.back_to_routing(s, at, Some(t)),
            TransferTarget::Queue => self.back_to_routing(s, at, None),
        }
    }

    fn back_to_routing(&mut self, s: u32, at: Timestamp, team: Option<TeamId>) {
        let c = self.conv_mut(s);
        c.spec.team = team;
        c.last_team = team;
        c.routing_since = at;
        c.holder = None;
        c.assigned_at = None;
        c.preferred_until = None;
        c.prefers = None;
        self.set_state(s, ConversationState::Waiting);
        self.place(s, at);
    }

    /// Moves a conversation out of the engine into the finished records.
    fn finish(&mut self, s: u32, f: impl FnOnce(&mut FinishedConversation)) {
        self.set_state(s, ConversationState::Resolved);
        let Some(c) = self.convs[s as usize].take() else {
            return;
        };
        self.conv_slots.remove(&c.spec.id);
        self.free_conv_slots.push(s);
        let mut rec = FinishedConversation {
            id: c.spec.id,
            channel: c.spec.channel,
            tier: c.spec.tier,
            team: c.last_team,
            operator: c.holder,
            started_at: c.started_at,
            asked_at: c.asked_at,
            offered_at: c.first_offered_at,
            assigned_at: c.first_assigned_at,
            first_response_at: c.first_response_at,
            resolved_at: None,
            abandoned_at: None,
            message_left_at: c.message_left_at,
            transfers: c.transfers,
            missed_offers: c.missed_offers,
        };
        f(&mut rec);
        self.finished.push(rec);
    }

    // ----- timers ----------------------------------------------------------

    /// Fires every timer due at or before `now`, in (time, kind, id) order.
    /// Lapsed offers are reported as [`DecisionKind::Unassigned`] decisions.
    fn advance_to(&mut self, now: Timestamp, out: &mut Vec<Decision>) {
        while let Some(&(t, kind, id)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.remove(&(t, kind, id));
            self.now = t;
            match kind {
                TIMER_WRAP_UP => {
                    if let Some(&os) = self.op_slots.get(&OperatorId(id)) {
                        self.op_mut(os).wrap_until = None;
                        self.refresh_op(os);
                        self.dirty_ops.insert((OperatorId(id), os));
                    }
                }
                TIMER_OFFER => {
                    if let Some(&cs) = self.conv_slots.get(&ConversationId(id)) {
                        self.decline(cs, t, MoveCause::OfferExpired, out);
                    }
                }
                TIMER_AWAY => {
                    if let Some(&os) = self.op_slots.get(&OperatorId(id)) {
                        self.rebalance_sources.insert((OperatorId(id), os));
                        if !self.policy.rebalance.defer_to_rebalance {
                            self.requeue_pending.insert((OperatorId(id), os));
                        }
                    }
                }
                TIMER_HOLD_BACK => {
                    if let Some(&os) = self.op_slots.get(&OperatorId(id)) {
                        self.op_mut(os).held_back_until = None;
                        self.refresh_op(os);
                        self.dirty_ops.insert((OperatorId(id), os));
                    }
                }
                _ => {
                    if let Some(&cs) = self.conv_slots.get(&ConversationId(id)) {
                        self.unqueue(cs);
                        self.place(cs, t);
                    }
                }
            }
        }
        self.now = now;
    }

    // ----- operator index ------------------------------------------------

    fn op_key(&self, o: &Operator, ch: usize) -> (u64, u64) {
        match &self.policy.selection {
            Selection::LongestIdle { clock } => {
                let t = match clock {
                    IdleClock::LastConversationEnded => o.last_ended_at,
                    IdleClock::BecameAvailable => o.available_since,
                    IdleClock::LastAssigned => o.last_assigned_at,
                };
                (t.0, 0)
            }
            Selection::RoundRobin => (o.last_pick, 0),
            Selection::FewestConversations => (u64::from(o.open), o.last_pick),
            // Operator-id order; the ring's starting point is applied when walking.
            Selection::Ring | Selection::FixedOrder => (0, 0),
            Selection::LeastLoaded
            | Selection::MostProficient
            | Selection::SkillDevelopment { .. } => {
                // Exact: distinct ratios with capacities below 2^16 differ by
                // at least 2^-32, so 32 fractional bits never merge them.
                // Channel-local on purpose: an assignment on one channel
                // re-keys that channel's index entries only.
                let ratio = (u64::from(o.load[ch]) << 32) / u64::from(o.cap[ch].max(1));
                (ratio, o.pick_on[ch])
            }
        }
    }

    fn facet_keys_of(o: &Operator, ch: u8) -> SmallVec<[FacetKey; 12]> {
        let mut v = SmallVec::new();
        v.push(FacetKey::All(ch));
        for s in &o.spec.skills {
            v.push(FacetKey::Skill(ch, s.skill, s.level));
        }
        for t in &o.spec.teams {
            v.push(FacetKey::Team(ch, *t));
        }
        v
    }

    /// Brings the operator's facet entries in line with its state.
    fn refresh_op(&mut self, slot: u32) {
        if self.policy.rebalance.skew_margin_permille.is_some() {
            self.refresh_load(slot);
        }
        let nch = self.policy.channels.len() as u8;
        for ch in 0..nch {
            let o = self.op_at(slot);
            let new = self
                .op_can_take_now(o, ch)
                .then(|| self.op_key(o, ch as usize));
            let old = o.keys.iter().find(|k| k.0 == ch).map(|k| (k.1, k.2));
            if new == old {
                continue;
            }
            let id = o.spec.id;
            // One lookup per facet serves both the removal and the insertion.
            let fids: SmallVec<[u32; 12]> = Self::facet_keys_of(o, ch)
                .into_iter()
                .map(|fk| self.facets.id(fk))
                .collect();
            for &f in &fids {
                if let Some((a, b)) = old {
                    self.facets.remove(f, &(a, b, id, slot));
                }
                if let Some((a, b)) = new {
                    self.facets.insert(f, (a, b, id, slot));
                }
            }
            let o = self.op_mut(slot);
            o.keys.retain(|k| k.0 != ch);
            if let Some((a, b)) = new {
                o.keys.push((ch, a, b));
            }
        }
    }

    /// Removes the operator from every facet (before skills or teams change).
    fn unindex_op(&mut self, slot: u32) {
        let o = self.op_at(slot);
        let id = o.spec.id;
        let keys = o.keys.clone();
        for (ch, a, b) in keys {
            for fk in Self::facet_keys_of(self.op_at(slot), ch) {
                if let Some(f) = self.facets.get(fk) {
                    self.facets.remove(f, &(a, b, id, slot));
                }
            }
        }
        self.op_mut(slot).keys.clear();
    }

    // ----- matching --------------------------------------------------------

    fn run_assign(&mut self, at: Timestamp, out: &mut Vec<Decision>) {
        // Work of operators who just became unavailable is placed now too.
        self.requeue_unavailable(out);
        // A placement can end a reservation and so free an operator again:
        // go round until nobody and nothing is left to look at.
        while !self.dirty_ops.is_empty() || !self.dirty_convs.is_empty() {
            self.pull_and_place(at, out);
        }
    }

    /// One round of `assign`: freed operators pull, then new or relaxed
    /// conversations are placed.
    fn pull_and_place(&mut self, at: Timestamp, out: &mut Vec<Decision>) {
        // Freed operators pull the most urgent conversation they can serve.
        while let Some(&(oid, os)) = self.dirty_ops.first() {
            let mut best: Option<(QueueKey, u32)> = None;
            for ch in self.ready_channels(os) {
                if let Some(h) = self.best_conv_for(os, ch) {
                    if best.is_none_or(|b| h.0 < b.0) {
                        best = Some(h);
                    }
                }
            }
            match best {
                None => {
                    self.dirty_ops.remove(&(oid, os));
                    if self.policy.preferred_operator.over_capacity {
                        self.wake_preferring(oid);
                    }
                }
                Some((_, cs)) => {
                    let reserved_before = self.op_at(os).reserved_for;
                    match self.choose(cs) {
                        Some((target, route, trainee)) => {
                            self.decide(
                                cs,
                                target,
                                route,
                                trainee,
                                Trigger::OperatorFreed,
                                at,
                                out,
                            );
                        }
                        // The puller was just reserved for a blocked
                        // conversation instead: look again.
                        None if self.op_at(os).reserved_for != reserved_before => {}
                        None => {
                            let route = self.default_route();
                            self.decide(cs, os, route, false, Trigger::OperatorFreed, at, out);
                        }
                    }
                }
            }
        }
        // New or relaxed conversations, most urgent first.
        let mut list = std::mem::take(&mut self.dirty_convs);
        list.retain(|&s| match &mut self.convs[s as usize] {
            Some(c) if c.dirty => {
                c.dirty = false;
                c.state == ConversationState::Waiting
            }
            _ => false,
        });
        list.sort_unstable_by_key(|&s| self.conv_at(s).key);
        for cs in list {
            if self.conv_at(cs).state != ConversationState::Waiting {
                continue;
            }
            if let Some((os, route, trainee)) = self.choose(cs) {
                self.decide(cs, os, route, trainee, Trigger::ConversationQueued, at, out);
            }
        }
    }

    /// The operator to give a waiting conversation to. Before giving an
    /// operator work that would keep them blocked from a more urgent
    /// conversation, reserves them for that one instead and looks again
    /// (see [`BlockedWork::Reserve`]); each round reserves one more
    /// operator, so this ends.
    fn choose(&mut self, cs: u32) -> Option<(u32, Route, bool)> {
        loop {
            let pick = self.best_op_for(cs)?;
            if !self.reserve_instead(pick.0, cs) {
                return Some(pick);
            }
        }
    }

    /// Whether giving `cs` to operator `os` would keep them from a more
    /// urgent waiting conversation they could take but for a channel that
    /// `cs`'s channel blocks, with nobody reserved for it yet; if so, reserves
    /// `os` for the most urgent such conversation.
    fn reserve_instead(&mut self, os: u32, cs: u32) -> bool {
        if self.policy.blocked_work != BlockedWork::Reserve {
            return false;
        }
        let c = self.conv_at(cs);
        let (blocks, key) = (self.block_masks[usize::from(c.ch)], c.key);
        let o = self.op_at(os);
        let blocked_now = self.blocked_mask(o);
        if blocks & blocked_now == 0
            || o.reserved_for.is_some()
            || o.spec.status != OperatorStatus::Available
            || o.wrap_until.is_some()
            || o.held_back_until.is_some()
        {
            return false;
        }
        let mut most_urgent: Option<(QueueKey, u32)> = None;
        for x in 0..self.policy.channels.len() as u8 {
            let xi = usize::from(x);
            if blocks & blocked_now & (1 << x) == 0 || o.load[xi] >= o.cap[xi] {
                continue;
            }
            if let Some(h) = self.best_conv_for(os, x) {
                if most_urgent.is_none_or(|m| h.0 < m.0) {
                    most_urgent = Some(h);
                }
            }
        }
        match most_urgent {
            Some((k, blocked)) if k < key && self.conv_at(blocked).reserved_by.is_none() => {
                self.reserve(os, blocked);
                true
            }
            _ => false,
        }
    }

    /// Reserves operator `os` for waiting conversation `cs`: no new work on
    /// the channels that block it until it is taken or leaves the queue.
    fn reserve(&mut self, os: u32, cs: u32) {
        let x = self.conv_at(cs).ch;
        let mask = (0..self.policy.channels.len())
            .filter(|&j| self.block_masks[j] & (1 << x) != 0)
            .fold(0u16, |m, j| m | 1 << j);
        let cid = self.conv_at(cs).spec.id;
        let o = self.op_mut(os);
        o.reserved_for = Some(cid);
        o.reserve_mask = mask;
        let oid = o.spec.id;
        self.conv_mut(cs).reserved_by = Some(oid);
        self.refresh_op(os);
    }

    /// Ends operator `os`'s reservation, if any; they may take blocking work
    /// again (and are looked at in the next `assign`).
    fn unreserve(&mut self, os: u32) {
        let o = self.op_mut(os);
        let Some(cid) = o.reserved_for.take() else {
            return;
        };
        o.reserve_mask = 0;
        let oid = o.spec.id;
        if let Some(&cs) = self.conv_slots.get(&cid) {
            self.conv_mut(cs).reserved_by = None;
        }
        self.refresh_op(os);
        self.dirty_ops.insert((oid, os));
    }

    /// Ends a ringing offer because the conversation ended or is redirected,
    /// and tells the host to stop ringing (`Unassigned { withdrawn }`).
    fn withdraw_offer(&mut self, cs: u32, at: Timestamp, out: &mut Vec<Decision>) {
        let c = self.conv_at(cs);
        if c.state != ConversationState::Offered {
            return;
        }
        let Some(&os) = c.holder.and_then(|h| self.op_slots.get(&h)) else {
            return;
        };
        self.remember_ended_offer(cs, self.op_at(os).spec.id, MoveCause::Withdrawn);
        self.cancel_offer(cs);
        let d = self.unassigned(cs, os, at, MoveCause::Withdrawn);
        self.release(cs);
        self.conv_mut(cs).holder = None;
        out.push(d);
    }

    /// The `Unassigned` decision for taking `cs` from operator `os` (built
    /// before the load changes).
    pub(crate) fn unassigned(&self, cs: u32, os: u32, at: Timestamp, cause: MoveCause) -> Decision {
        let c = self.conv_at(cs);
        let o = self.op_at(os);
        let ch = usize::from(c.ch);
        Decision {
            conversation: c.spec.id,
            operator: o.spec.id,
            kind: DecisionKind::Unassigned { cause },
            channel: c.spec.channel,
            tier: c.spec.tier,
            at,
            input_seq: self.inputs,
            reason: Reason {
                route: self.default_route(),
                trigger: Trigger::Rebalance,
                matched: SmallVec::new(),
                load_before: o.load[ch],
                capacity: o.cap[ch],
                waited: at.since(c.asked_at.unwrap_or(at)),
                // The step in force now (a held conversation's `step` is
                // only kept up to date while it waits).
                overflow_step: self.requirements_at(c, at).1,
            },
        }
    }

    fn default_route(&self) -> Route {
        match self.policy.selection {
            Selection::LeastLoaded => Route::LeastLoaded,
            Selection::LongestIdle { .. } => Route::LongestIdle,
            Selection::RoundRobin => Route::RoundRobin,
            Selection::FewestConversations => Route::FewestConversations,
            Selection::Ring => Route::Ring,
            Selection::FixedOrder => Route::FixedOrder,
            Selection::MostProficient | Selection::SkillDevelopment { .. } => Route::MostProficient,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        cs: u32,
        os: u32,
        route: Route,
        trainee: bool,
        trigger: Trigger,
        at: Timestamp,
        out: &mut Vec<Decision>,
    ) {
        let req = self.requirements_at(self.conv_at(cs), at).0;
        if let Selection::SkillDevelopment {
            demanding_skills,
            share_permille,
        } = &self.policy.selection
        {
            if route != Route::PreferredOperator && self.is_demanding(cs, demanding_skills) {
                self.trainee_credit += u32::from(*share_permille);
                if trainee {
                    self.trainee_credit = self.trainee_credit.saturating_sub(1000);
                }
            }
        }
        let o = self.op_at(os);
        let matched = req
            .skills
            .iter()
            .map(|s| SkillMatch {
                skill: s.skill,
                required: s.level,
                level: o.level(s.skill),
            })
            .collect();
        let c = self.conv_at(cs);
        let waited = at.since(c.asked_at.unwrap_or(at));
        let (conversation, channel, tier, step) = (c.spec.id, c.spec.channel, c.spec.tier, c.step);
        self.unqueue(cs);
        let how = match self.policy.offers {
            Some(_) => Handover::Offer,
            None => Handover::Assign,
        };
        let (load_before, capacity) = self.hand_over(cs, os, at, how);
        if let Some(cap) = self.policy.throughput_cap {
            let o = self.op_mut(os);
            o.recent_picks.push_back(at);
            if o.recent_picks.len() > cap.max_assignments as usize {
                o.recent_picks.pop_front();
            }
            if o.recent_picks.len() == cap.max_assignments as usize {
                let until = o.recent_picks[0] + cap.window;
                if until > at {
                    self.hold_back(os, until);
                }
            }
        }
        if self.policy.selection == Selection::Ring {
            self.ring_pointer = Some(self.op_at(os).spec.id);
        }
        let kind = match self.policy.offers {
            Some(offers) => {
                let expires_at = at + offers.timeout;
                self.set_state(cs, ConversationState::Offered);
                self.conv_mut(cs).offer_expires_at = Some(expires_at);
                self.timers
                    .insert((expires_at, TIMER_OFFER, conversation.0));
                DecisionKind::Offered { expires_at }
            }
            None => DecisionKind::Assigned,
        };
        out.push(Decision {
            conversation,
            operator: self.op_at(os).spec.id,
            kind,
            channel,
            tier,
            at,
            input_seq: self.inputs,
            reason: Reason {
                route,
                trigger,
                matched,
                load_before,
                capacity,
                waited,
                overflow_step: step,
            },
        });
    }

    fn is_demanding(&self, cs: u32, demanding: &[SkillId]) -> bool {
        self.conv_at(cs)
            .spec
            .skills
            .iter()
            .any(|s| demanding.contains(&s.skill))
    }

    fn ready_channels(&self, os: u32) -> SmallVec<[u8; 4]> {
        let o = self.op_at(os);
        match self.matching {
            Matching::Indexed => o.keys.iter().map(|k| k.0).collect(),
            Matching::Scan => (0..self.policy.channels.len() as u8)
                .filter(|&ch| self.op_can_take_now(o, ch))
                .collect(),
        }
    }

    fn is_ready(&self, os: u32, ch: u8) -> bool {
        match self.matching {
            Matching::Indexed => self.op_at(os).ready_on(ch),
            Matching::Scan => self.op_can_take_now(self.op_at(os), ch),
        }
    }

    /// The most urgent waiting conversation operator `os` can serve on `ch`.
    fn best_conv_for(&self, os: u32, ch: u8) -> Option<(QueueKey, u32)> {
        if self.matching == Matching::Scan {
            return self.scan_best_conv_for(os, ch);
        }
        if self.buckets.on_channel[usize::from(ch)] == 0 {
            return None;
        }
        let o = self.op_at(os);
        let mut best: Option<(QueueKey, u32)> = None;
        if let Some(q) = self.buckets.preferring.get(&(o.spec.id, ch)) {
            best = q.first().copied();
        }
        let ids: SmallVec<[SkillId; 8]> = o.spec.skills.iter().map(|s| s.skill).collect();
        for_each_subset(&ids, self.buckets.max_skill_count(), |sub| {
            let g = index::GroupKey::new(ch, sub.iter().copied());
            let Some(group) = self.buckets.groups.get(&g) else {
                return;
            };
            // Most urgent head first: the first bucket this operator can
            // serve is the group's best for them.
            for &(head, b) in group.iter() {
                if best.is_some_and(|x| x.0 <= head) {
                    break;
                }
                if satisfies(o, &self.buckets.buckets[b as usize].req) {
                    best = self.buckets.head(b);
                    break;
                }
            }
        });
        best
    }

    /// The requirements in force for a waiting conversation.
    fn req_of(&self, c: &Conversation) -> Option<Req> {
        match self.matching {
            Matching::Indexed => c
                .bucket
                .map(|b| self.buckets.buckets[b as usize].req.clone()),
            Matching::Scan => {
                let (req, _, in_wait, _) = self.requirements_at(c, self.now);
                (!in_wait).then_some(req)
            }
        }
    }

    /// The best ready operator for a waiting conversation, the route that
    /// chose them, and whether this is a skill-development (trainee) pick.
    fn best_op_for(&self, cs: u32) -> Option<(u32, Route, bool)> {
        let c = self.conv_at(cs);
        if let Some(p) = c.prefers.filter(|p| !c.declined_by(*p, self.now)) {
            if let Some(&ps) = self.op_slots.get(&p) {
                let over = self.policy.preferred_operator.over_capacity
                    && self.op_can_take_over_capacity(self.op_at(ps), c.ch);
                if self.is_ready(ps, c.ch) || over {
                    return Some((ps, Route::PreferredOperator, false));
                }
            }
        }
        let req = self.req_of(c)?;
        // The primary skill still required after relaxations.
        let primary = c
            .spec
            .skills
            .first()
            .and_then(|p| req.skills.iter().find(|s| s.skill == p.skill).copied());
        let (order, route, trainee) = match (&self.policy.selection, primary) {
            (Selection::MostProficient, Some(p)) => {
                (Order::HighestLevel(p), Route::MostProficient, false)
            }
            (
                Selection::SkillDevelopment {
                    demanding_skills,
                    share_permille,
                },
                Some(p),
            ) => {
                let trainee = self.is_demanding(cs, demanding_skills)
                    && self.trainee_credit + u32::from(*share_permille) >= 1000;
                if trainee {
                    (Order::LowestLevel(p), Route::SkillDevelopment, true)
                } else {
                    (Order::HighestLevel(p), Route::MostProficient, false)
                }
            }
            _ => (Order::Key, self.default_route(), false),
        };
        let chosen = match (self.matching, order) {
            (Matching::Scan, _) => self.scan_select(&req, order),
            (Matching::Indexed, Order::Key) => self.by_plan(&req),
            (Matching::Indexed, Order::HighestLevel(p)) => self.by_level(&req, p, true),
            (Matching::Indexed, Order::LowestLevel(p)) => self.by_level(&req, p, false),
        };
        chosen.map(|s| (s, route, trainee))
    }

    /// Reference matching: the best eligible operator by scanning them all.
    fn scan_select(&self, req: &Req, order: Order) -> Option<u32> {
        let mut best: Option<((u8, u64, u64, OperatorId), u32)> = None;
        for (slot, o) in self.operators.iter().enumerate() {
            let Some(o) = o else { continue };
            if !self.op_can_take_now(o, req.channel) || !satisfies(o, req) {
                continue;
            }
            let level_rank = match order {
                Order::Key => 0,
                Order::HighestLevel(p) => MAX_LEVEL - o.level(p.skill),
                Order::LowestLevel(p) => o.level(p.skill),
            };
            let (mut a, b) = self.op_key(o, req.channel as usize);
            if let (Selection::Ring, Some(p)) = (&self.policy.selection, self.ring_pointer) {
                // Those after the pointer first, then wrap around.
                a = u64::from(o.spec.id <= p);
            }
            let rank = (level_rank, a, b, o.spec.id);
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, slot as u32));
            }
        }
        best.map(|b| b.1)
    }

    /// Reference matching: the most urgent conversation by scanning them all.
    fn scan_best_conv_for(&self, os: u32, ch: u8) -> Option<(QueueKey, u32)> {
        let o = self.op_at(os);
        let mut best: Option<(QueueKey, u32)> = None;
        for (slot, c) in self.convs.iter().enumerate() {
            let Some(c) = c else { continue };
            if c.state != ConversationState::Waiting || c.ch != ch {
                continue;
            }
            if best.is_some_and(|b| b.0 <= c.key) {
                continue;
            }
            let (req, _, in_wait, _) = self.requirements_at(c, self.now);
            if (c.prefers == Some(o.spec.id) && !c.declined_by(o.spec.id, self.now))
                || (!in_wait && satisfies(o, &req))
            {
                best = Some((c.key, slot as u32));
            }
        }
        best
    }

    /// Walks the primary skill's level facets from the top level down
    /// (`highest_first`) or from the minimum up; inside a level, in
    /// least-loaded order.
    fn by_level(&self, req: &Req, primary: SkillLevel, highest_first: bool) -> Option<u32> {
        let mut levels: SmallVec<[u8; 5]> = (primary.level..=MAX_LEVEL).collect();
        if highest_first {
            levels.reverse();
        }
        for l in levels {
            let Some(f) = self
                .facets
                .get(FacetKey::Skill(req.channel, primary.skill, l))
            else {
                continue;
            };
            if let Some(s) = self.first_matching(&[f], req, None) {
                return Some(s);
            }
        }
        None
    }

    /// Picks the smallest set of facets that contains every operator able to
    /// take the conversation, and walks it in strategy order.
    fn by_plan(&self, req: &Req) -> Option<u32> {
        let ch = req.channel;
        let mut plan: SmallVec<[u32; 5]> = SmallVec::new();
        let mut plan_size = usize::MAX;
        if req.skills.is_empty() && req.team.is_none() {
            plan.push(self.facets.get(FacetKey::All(ch))?);
            plan_size = 0;
        }
        for s in &req.skills {
            let mut p: SmallVec<[u32; 5]> = SmallVec::new();
            let mut size = 0;
            for l in s.level..=MAX_LEVEL {
                if let Some(f) = self.facets.get(FacetKey::Skill(ch, s.skill, l)) {
                    size += self.facets.len(f);
                    p.push(f);
                }
            }
            if size == 0 {
                return None;
            }
            if size < plan_size {
                plan = p;
                plan_size = size;
            }
        }
        if let Some(t) = req.team {
            let f = self.facets.get(FacetKey::Team(ch, t))?;
            let size = self.facets.len(f);
            if size < plan_size {
                plan.clear();
                plan.push(f);
            }
        }
        match (&self.policy.selection, self.ring_pointer) {
            // Continue after the pointer; wrap around if nobody after it fits.
            (Selection::Ring, Some(p)) => self
                .first_matching(
                    &plan,
                    req,
                    Some((0, 0, OperatorId(p.0.saturating_add(1)), 0)),
                )
                .or_else(|| self.first_matching(&plan, req, None)),
            _ => self.first_matching(&plan, req, None),
        }
    }

    /// Merges the facets in key order and returns the first operator that
    /// meets every requirement.
    fn first_matching(&self, facets: &[u32], req: &Req, from: Option<OpEntry>) -> Option<u32> {
        let lower = from.unwrap_or((0, 0, OperatorId(0), 0));
        let mut iters: SmallVec<
            [std::iter::Peekable<std::collections::btree_set::Range<'_, OpEntry>>; 5],
        > = facets
            .iter()
            .map(|&f| self.facets.set(f).range(lower..).peekable())
            .collect();
        loop {
            let mut best: Option<(usize, OpEntry)> = None;
            for (i, it) in iters.iter_mut().enumerate() {
                if let Some(e) = it.peek() {
                    if best.is_none_or(|(_, b)| **e < b) {
                        best = Some((i, **e));
                    }
                }
            }
            let (i, e) = best?;
            iters[i].next();
            if satisfies(self.op_at(e.3), req) {
                return Some(e.3);
            }
        }
    }
}

/// Whether an operator meets a conversation's requirements (skills, levels,
/// team). Readiness is checked separately.
fn satisfies(o: &Operator, req: &Req) -> bool {
    !req.excluded.contains(&o.spec.id)
        && req.skills.iter().all(|s| o.level(s.skill) >= s.level)
        && req
            .team
            .is_none_or(|t| o.spec.teams.binary_search(&t).is_ok())
}

fn count_slot(c: &mut StateCounts, s: ConversationState) -> Option<&mut u32> {
    match s {
        ConversationState::WithBot => Some(&mut c.with_bot),
        ConversationState::Waiting => Some(&mut c.waiting),
        ConversationState::Offered => Some(&mut c.offered),
        ConversationState::Assigned | ConversationState::Responded => Some(&mut c.with_operator),
        ConversationState::MessageLeft => Some(&mut c.message_left),
        ConversationState::Resolved | ConversationState::Abandoned => None,
    }
}

#[cold]
fn unreachable_slot() -> ! {
    // Slots come only from the engine's own id maps, which are updated in
    // the same step as the slabs; a miss is a bug in this module, not input.
    #[allow(clippy::panic)]
    {
        panic!("switchboard: internal slot map out of sync")
    }
}

#[cfg(test)]
mod tests {
    /// The record sizes BENCHMARKS.md quotes when it explains the memory per
    /// operator and per waiting conversation; a growth shows up here first.
    /// `cargo test --lib record_sizes -- --nocapture` prints them.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn record_sizes_stay_within_what_benchmarks_md_states() {
        let op = std::mem::size_of::<super::Operator>();
        let conv = std::mem::size_of::<super::Conversation>();
        eprintln!("Operator {op} B, Conversation {conv} B");
        assert!(op <= 680, "Operator grew to {op} B");
        assert!(conv <= 408, "Conversation grew to {conv} B");
    }
}
