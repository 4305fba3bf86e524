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
//!    most urgent waiting conversation they can serve (queue order; with a
//!    routing profile, from the first of their queue-priority classes that
//!    has one); that conversation then goes to the best eligible operator by
//!    its queue's selection strategy (usually the one who pulled it, but a
//!    less loaded colleague wins under least-loaded). This repeats until the
//!    operator has nothing eligible left.
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
//! above the minimum level in force, belong to its team if one is targeted,
//! and, with a routing profile, serve its queue with the delay passed.
//! While a conversation waits for its preferred operator, only that operator
//! is eligible.
//!
//! # Files
//!
//! | file | its one job |
//! | --- | --- |
//! | `mod.rs` | the [`Engine`] state and its public entry points |
//! | `event.rs`, `decision.rs`, `error.rs` | what goes in, what comes out, what is refused |
//! | `validate.rs` | every check an input passes before anything changes |
//! | `lifecycle.rs` | operators join, change and leave; conversations arrive, are handed over and finish |
//! | `timers.rs` | the typed timers and what fires when time passes |
//! | `placement.rs` | the matching loop of `assign`, reservations, decision records |
//! | `selection.rs` | strategy keys, queue keys, indexed lookups and the reference scan |
//! | `queues.rs` | each queue's rules, the profiles' access to the queues, the operator orderings in use |
//! | `upkeep.rs`, `index.rs` | keeping the waiting buckets and operator facets in step |
//! | `rebalance.rs` | moving work off absent, cut or overloaded operators |
//! | `policy_change.rs` | a new policy on a running engine, through its own snapshot |
//! | `view.rs`, `realtime.rs` | read-only views for hosts and dashboards |
//! | `snapshot.rs` | entities out and back in, canonical bytes, the state hash |
//!
//! # Example
//!
//! ```
//! use switchboard::prelude::*;
//!
//! let chat = ChannelId(1);
//! let policy = Policy::builder()
//!     .channel(ChannelSpec::new(chat, "chat"))
//!     .tier(TierSpec::new(TierId(1), "all", 1))
//!     .build()?;
//! let mut engine = Engine::new(policy)?;
//! engine.apply(Event::OperatorAdded {
//!     at: Timestamp(0),
//!     operator: OperatorSpec::new(OperatorId(7)).status(OperatorStatus::Available).capacity(chat, 2),
//! })?;
//! engine.apply(Event::ConversationArrived {
//!     at: Timestamp(1_000),
//!     conversation: ConversationSpec::new(ConversationId(1), chat, TierId(1)),
//! })?;
//! let decisions = engine.assign(Timestamp(1_000))?;
//! assert_eq!(decisions[0].operator, OperatorId(7));
//! println!("{}", decisions[0]); // a sentence: who got what, and why
//! let records = engine.take_records(); // what happened, for the KPIs
//! assert!(records.conversations.is_empty()); // nothing has ended yet
//! # Ok::<(), switchboard::Error>(())
//! ```

mod compact;
mod decision;
mod error;
mod event;
pub(crate) mod index;
mod lifecycle;
mod placement;
mod policy_change;
mod queues;
mod realtime;
mod rebalance;
mod records;
mod selection;
pub mod snapshot;
mod timers;
mod upkeep;
mod validate;
mod view;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hashbrown::HashMap;
use smallvec::SmallVec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

pub use decision::{Decision, DecisionKind, MoveCause, Reason, Route, SkillMatch, Trigger};
pub use error::{EngineError, PolicyChangeError, UsedBy};
pub use event::Event;
pub use realtime::{QueueNow, QueueStatus, RealTime};
pub use records::Records;
pub use snapshot::{Snapshot, SnapshotError};
pub use view::{ConversationView, OperatorView, StateCounts, StatusCounts};

use crate::ids::{
    ChannelId, ConversationId, OperatorId, ProfileId, QueueId, SkillId, TeamId, TierId,
};
use crate::model::{
    ConversationSpec, ConversationState, MAX_CHANNELS, MAX_LEVEL, MAX_REQUIRED_SKILLS, MIN_LEVEL,
    OperatorSpec, OperatorStatus, SkillLevel, TransferTarget,
};
use crate::policy::PolicyError;
use crate::policy::{BlockedWork, IdleClock, Policy, QueueOrder, Relax, Selection};
use crate::record::{
    Activity, BotConversationRecord, ConversationRecord, Finished, StatusInterval,
};
use crate::time::{Millis, Timestamp};
use compact::{OptSlot, OptTime};
use index::{Buckets, FacetSet, Facets, Kept, Member, OpEntry, QueueKey, Req, for_each_subset};
use lifecycle::Handover;
use queues::{KeyFn, NO_PROFILE, ProfileRules, QueueRules, Routing};
use selection::{Order, Pull};
use timers::Timer;

pub use queues::MAX_ORDERINGS;

/// The largest timestamp accepted; the same as [`Timestamp::MAX`].
pub const MAX_TIMESTAMP: Timestamp = Timestamp::MAX;

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

/// An operator's runtime state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operator {
    /// Skills sorted by id, teams sorted.
    pub(crate) spec: OperatorSpec,
    /// Capacity, load and last pick per policy channel.
    pub(crate) on: Box<[OnChannel]>,
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
    /// When the status last changed.
    pub(crate) status_since: Timestamp,
    /// What only offer, throughput-cap and reservation policies use;
    /// `None`: all at their defaults.
    extra: Option<Box<OpExtras>>,
    /// What they are doing (for occupancy) and since when; a change closes
    /// a [`StatusInterval`] into the records.
    pub(crate) activity: Activity,
    pub(crate) activity_since: Timestamp,
    /// Marked by `refresh_op` during an input; the activity is looked at
    /// again when the input (or the timer) is done.
    touched: bool,
    /// Slot of the routing profile ([`queues::NO_PROFILE`] without one).
    pub(crate) profile: u16,
    /// Conversations resolved while held by them since joining or the last
    /// handled-count reset.
    pub(crate) handled: u64,
    /// Index bookkeeping: the key under which the operator sits in each
    /// (channel, kind)'s facets, for channels where it is ready.
    keys: SmallVec<[(u8, u8, u64, u64); 3]>,
    /// Index bookkeeping: the ids of the facets ([`Member`]s) it sits in on
    /// each ready channel; empty until first indexed, cleared when skills,
    /// teams or the profile change.
    members: SmallVec<[u32; 8]>,
    /// Index bookkeeping: [`index::skill_bits`] of its skills, carried in
    /// its facet entries so a walk skips operators lacking a required skill
    /// without reading their record; set with `members`.
    skill_bits: u32,
    /// Index bookkeeping: load-ratio keys in `load_index`, per channel
    /// (empty unless load skew rebalancing is on).
    skew_keys: Vec<(u8, u64)>,
}

/// An operator on one policy channel. Kept per policy channel, not per
/// [`MAX_CHANNELS`]: most policies have two or three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct OnChannel {
    pub(crate) cap: u16,
    pub(crate) load: u16,
    /// Pick sequence of the last assignment here (0 = never), so
    /// least-loaded ties re-key only the channel that changed.
    pub(crate) pick: u64,
}

impl OnChannel {
    /// All channels at capacity 0, no load, never picked.
    fn none(channels: usize) -> Box<[OnChannel]> {
        vec![OnChannel::default(); channels].into_boxed_slice()
    }
}

/// The fields of an [`Operator`] that only offer, throughput-cap and
/// blocked-work reservation policies set, boxed so the record stays small.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct OpExtras {
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
}

/// What [`Operator::extras`] reads when none were allocated.
static NO_OP_EXTRAS: OpExtras = OpExtras {
    missed_in_a_row: 0,
    held_back_until: None,
    recent_picks: VecDeque::new(),
    reserved_for: None,
    reserve_mask: 0,
};

impl Operator {
    /// The record with its activity set from the rest (a new or restored
    /// operator).
    fn settled(self) -> Self {
        Operator {
            activity: self.current_activity(),
            ..self
        }
    }

    /// What the operator is doing now, for occupancy.
    fn current_activity(&self) -> Activity {
        match self.spec.status {
            OperatorStatus::Offline => Activity::Offline,
            OperatorStatus::Away => Activity::Away,
            OperatorStatus::Available if !self.held.is_empty() || self.wrap_until.is_some() => {
                Activity::Busy
            }
            OperatorStatus::Available => Activity::Idle,
        }
    }

    fn level(&self, skill: SkillId) -> u8 {
        match self.spec.skills.binary_search_by_key(&skill, |s| s.skill) {
            Ok(i) => self.spec.skills[i].level,
            Err(_) => 0,
        }
    }

    /// The rarely used fields (defaults when none were allocated).
    #[inline]
    pub(crate) fn extras(&self) -> &OpExtras {
        self.extra.as_deref().unwrap_or(&NO_OP_EXTRAS)
    }

    /// The rarely used fields, allocated on first use. Only for setting a
    /// value; clearing goes through [`Operator::existing_extras`].
    pub(crate) fn extras_mut(&mut self) -> &mut OpExtras {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The rarely used fields if allocated (clearing never allocates).
    #[inline]
    pub(crate) fn existing_extras(&mut self) -> Option<&mut OpExtras> {
        self.extra.as_deref_mut()
    }

    /// Extras as restored from a snapshot: allocated only if any is set.
    fn extras_from(x: OpExtras) -> Option<Box<OpExtras>> {
        (x != NO_OP_EXTRAS).then(|| Box::new(x))
    }

    fn ready_on(&self, ch: u8) -> bool {
        self.keys.iter().any(|k| k.0 == ch)
    }
}

/// A conversation's runtime state.
///
/// Kept small: it is most of the memory per waiting conversation. What only
/// some conversations ever use (offers, declines, reservations, moves,
/// transfers, a preferred operator, a left message) is in [`ConvExtras`],
/// allocated the first time one of those is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conversation {
    pub(crate) spec: ConversationSpec,
    pub(crate) ch: u8,
    /// Index of its queue's rules (0: the default queue).
    pub(crate) q: u16,
    pub(crate) state: ConversationState,
    pub(crate) started_at: Timestamp,
    pub(crate) asked_at: OptTime,
    /// Overflow steps are measured from here (arrival, or a transfer back to routing).
    pub(crate) routing_since: Timestamp,
    /// Its place in the queue; the third part is its arrival sequence.
    pub(crate) key: QueueKey,
    pub(crate) step: u8,
    /// Only the preferred operator may take it for now.
    pub(crate) in_wait: bool,
    /// [`Conversation::holder`] and [`Conversation::last_team`] are kept as
    /// a value plus a bit here: ids are the host's, every value of them is
    /// valid, and an `Option` of one would take twice its bytes.
    flags: u8,
    holder_id: OperatorId,
    last_team_id: TeamId,
    /// First accepted assignment (a direct assignment, an accepted offer, a
    /// claim or a transfer to an operator).
    pub(crate) first_assigned_at: OptTime,
    pub(crate) assigned_at: OptTime,
    pub(crate) first_response_at: OptTime,
    /// The rarely used fields; `None`: all at their defaults.
    extra: Option<Box<ConvExtras>>,
    /// Index bookkeeping.
    bucket: OptSlot,
    timer: OptTime,
    dirty: bool,
}

/// [`Conversation::flags`]: a holder is set.
const HAS_HOLDER: u8 = 1;
/// [`Conversation::flags`]: a last team is set.
const HAS_LAST_TEAM: u8 = 2;
/// [`Conversation::flags`]: waiting with its key, step and wait set, but
/// not yet in its bucket, preference queue or timers (see
/// [`Engine::place_later`]).
const UNPLACED: u8 = 4;

/// The fields of a [`Conversation`] that most conversations never set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ConvExtras {
    pub(crate) preferred_until: Option<Timestamp>,
    /// Indexed as preferring this operator (the spec's preferred operator,
    /// while they are logged in).
    pub(crate) prefers: Option<OperatorId>,
    /// First offer made (with an offer policy).
    pub(crate) first_offered_at: Option<Timestamp>,
    pub(crate) message_left_at: Option<Timestamp>,
    pub(crate) transfers: u32,
    /// While offered: when the offer lapses.
    pub(crate) offer_expires_at: Option<Timestamp>,
    /// Operators who rejected or missed an offer of it, and until when that
    /// keeps them from being offered it again (`None`: for the whole wait).
    pub(crate) declined: Vec<(OperatorId, Option<Timestamp>)>,
    /// The operator reserved for it (see [`crate::policy::BlockedWork`]).
    pub(crate) reserved_by: Option<OperatorId>,
    pub(crate) missed_offers: u32,
    /// Rebalance moves so far, and the rebalance cause that last moved it
    /// (a conversation is never moved twice for the same cause).
    pub(crate) moves: u32,
    pub(crate) last_move_cause: u64,
}

impl ConvExtras {
    /// All at their defaults (what a conversation without extras reads).
    const NONE: ConvExtras = ConvExtras {
        preferred_until: None,
        prefers: None,
        first_offered_at: None,
        message_left_at: None,
        transfers: 0,
        offer_expires_at: None,
        declined: Vec::new(),
        reserved_by: None,
        missed_offers: 0,
        moves: 0,
        last_move_cause: 0,
    };
}

/// What [`Conversation::extras`] reads when none were allocated.
static NO_EXTRAS: ConvExtras = ConvExtras::NONE;

impl Conversation {
    /// A conversation's record before its first event: resolved, never
    /// queued, no holder.
    fn new(spec: ConversationSpec, ch: u8, q: u16, at: Timestamp) -> Self {
        Conversation {
            spec,
            ch,
            q,
            state: ConversationState::Resolved,
            started_at: at,
            asked_at: OptTime::NONE,
            routing_since: at,
            key: (0, 0, 0),
            step: 0,
            in_wait: false,
            flags: 0,
            holder_id: OperatorId(0),
            last_team_id: TeamId(0),
            first_assigned_at: OptTime::NONE,
            assigned_at: OptTime::NONE,
            first_response_at: OptTime::NONE,
            extra: None,
            bucket: OptSlot::NONE,
            timer: OptTime::NONE,
            dirty: false,
        }
    }

    /// Its arrival sequence: the last part of its queue key (0 before it
    /// first asked, unless a snapshot said otherwise).
    #[inline]
    pub(crate) fn seq(&self) -> u64 {
        self.key.2
    }

    /// The operator holding it (offered to them, or assigned and maybe
    /// answered).
    #[inline]
    pub(crate) fn holder(&self) -> Option<OperatorId> {
        (self.flags & HAS_HOLDER != 0).then_some(self.holder_id)
    }

    pub(crate) fn set_holder(&mut self, op: Option<OperatorId>) {
        self.holder_id = op.unwrap_or(OperatorId(0));
        self.flags = (self.flags & !HAS_HOLDER) | if op.is_some() { HAS_HOLDER } else { 0 };
    }

    /// The team it was last routed to: its own at arrival, a transfer's
    /// team after one.
    #[inline]
    pub(crate) fn last_team(&self) -> Option<TeamId> {
        (self.flags & HAS_LAST_TEAM != 0).then_some(self.last_team_id)
    }

    pub(crate) fn set_last_team(&mut self, team: Option<TeamId>) {
        self.last_team_id = team.unwrap_or(TeamId(0));
        self.flags = (self.flags & !HAS_LAST_TEAM) | if team.is_some() { HAS_LAST_TEAM } else { 0 };
    }

    /// Waiting but not yet indexed (see [`Engine::place_later`]).
    #[inline]
    pub(crate) fn is_unplaced(&self) -> bool {
        self.flags & UNPLACED != 0
    }

    fn set_unplaced(&mut self, on: bool) {
        self.flags = (self.flags & !UNPLACED) | if on { UNPLACED } else { 0 };
    }

    /// The rarely used fields (their defaults if never set).
    #[inline]
    pub(crate) fn extras(&self) -> &ConvExtras {
        self.extra.as_deref().unwrap_or(&NO_EXTRAS)
    }

    /// The rarely used fields, allocated on first use. Only for setting a
    /// value; clearing goes through [`Conversation::existing_extras`].
    pub(crate) fn extras_mut(&mut self) -> &mut ConvExtras {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The rarely used fields if allocated (clearing never allocates).
    #[inline]
    pub(crate) fn existing_extras(&mut self) -> Option<&mut ConvExtras> {
        self.extra.as_deref_mut()
    }

    /// Extras as restored from a snapshot: allocated only if any is set.
    fn extras_from(x: ConvExtras) -> Option<Box<ConvExtras>> {
        (x != ConvExtras::NONE).then(|| Box::new(x))
    }

    /// Ends the preferred-operator wait (no preferred operator, no deadline).
    pub(crate) fn clear_preference(&mut self) {
        if let Some(x) = self.existing_extras() {
            x.prefers = None;
            x.preferred_until = None;
        }
    }

    /// Whether `op` declined it and the decline still keeps them away at `t`.
    fn declined_by(&self, op: OperatorId, t: Timestamp) -> bool {
        self.extras()
            .declined
            .iter()
            .any(|&(o, until)| o == op && until.is_none_or(|u| t < u))
    }
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
///     vec![ChannelSpec::new(chat, "chat")],
///     vec![TierSpec::new(std_tier, "standard", 1).first_response_target(Millis::from_mins(5))],
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
    /// Each queue's rules; 0 is the default queue.
    queues: Vec<QueueRules>,
    queue_idx: HashMap<QueueId, u16>,
    profiles: Vec<ProfileRules>,
    profile_idx: HashMap<ProfileId, u16>,
    /// The operator orderings the facets are kept in.
    kinds: Vec<KeyFn>,
    /// One bit per kind.
    all_kinds: u64,
    /// Queue index of the waiting groups that span every queue, kept only
    /// when there are several queues (for operators without a profile).
    multi_queue: bool,
    /// Operators without a routing profile.
    unprofiled: u32,
    /// Conversations placed later (see [`Engine::place_later`]), by slot;
    /// some may have been placed or decided since. Always empty between
    /// inputs.
    unplaced: Vec<u32>,
    /// The requirements of the unplaced conversation the assignment pass is deciding, with its
    /// slot and the time: worked out once there for choosing its operator and then either the
    /// decision or its placing, which each worked them out anew before. A moved conversation's
    /// requirements are now worked out twice (placed later, then decided), not three times.
    /// `None` between inputs.
    deciding: Option<(u32, Timestamp, upkeep::InForce)>,
    /// Some queue lets the preferred operator go above capacity.
    any_over_capacity: bool,

    now: Timestamp,
    inputs: u64,
    arrivals: u64,
    picks: u64,
    /// Skill-development credit per queue, in ‰.
    trainee_credit: Vec<u32>,
    /// Rebalance cause counter: a conversation moved for load skew records
    /// the cause and is never moved for skew again.
    causes: u64,
    /// Per queue, the ring's pointer: the operator picked last under [`Selection::Ring`].
    ring_pointer: Vec<Option<OperatorId>>,
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
    /// Pending timers by due time; see [`Timer`] for the order.
    timers: BTreeSet<(Timestamp, Timer)>,
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

    finished: Vec<Finished>,
    /// Closed activity intervals not yet taken by the host.
    status_log: Vec<StatusInterval>,
    /// Operators whose activity may have changed during this input; always
    /// empty between inputs.
    touched_ops: Vec<u32>,
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
        let r = Routing::build(&policy)?;
        let nq = r.queues.len();
        let buckets = Buckets::default();
        let all_kinds = if r.kinds.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << r.kinds.len()) - 1
        };
        Ok(Engine {
            matching: Matching::Indexed,
            channel_idx,
            block_masks,
            tiers,
            skills,
            max_head_start: r.max_head_start,
            multi_queue: nq > 1,
            unprofiled: 0,
            unplaced: Vec::new(),
            deciding: None,
            any_over_capacity: r.queues.iter().any(|q| q.preferred.over_capacity),
            queues: r.queues,
            queue_idx: r.queue_idx,
            profiles: r.profiles,
            profile_idx: r.profile_idx,
            kinds: r.kinds,
            all_kinds,
            policy,
            now: Timestamp(0),
            inputs: 0,
            arrivals: 0,
            picks: 0,
            trainee_credit: vec![0; nq],
            causes: 0,
            ring_pointer: vec![None; nq],
            handle_ewma: Vec::new(),
            operators: Vec::new(),
            free_op_slots: Vec::new(),
            op_slots: HashMap::new(),
            convs: Vec::new(),
            free_conv_slots: Vec::new(),
            conv_slots: HashMap::new(),
            facets: Facets::default(),
            buckets,
            timers: BTreeSet::new(),
            dirty_ops: BTreeSet::new(),
            dirty_convs: Vec::new(),
            rebalance_sources: BTreeSet::new(),
            requeue_pending: BTreeSet::new(),
            load_index: Vec::new(),
            finished: Vec::new(),
            status_log: Vec::new(),
            touched_ops: Vec::new(),
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
        if let Event::PolicyChanged { policy, .. } = event {
            // Replaces the whole engine state, so it runs on a copy of its own.
            return self.change_policy(at, *policy, out);
        }
        self.validate(&event)?;
        // Validation passed: from here on nothing fails. Timers up to `at`
        // only free capacity or widen eligibility, so they cannot invalidate
        // what was checked.
        self.begin_input(at, out);
        let before = out.len();
        self.execute(event, out);
        self.requeue_unavailable(out);
        self.close_activities(at);
        Ok(out.len() - before)
    }

    /// What every accepted input does first: count it, forget offers past
    /// their lapse, and fire the timers due up to `at`.
    fn begin_input(&mut self, at: Timestamp, out: &mut Vec<Decision>) {
        self.inputs += 1;
        self.forget_ended_offers(at);
        self.advance_to(at, out);
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
}

/// Slabs double up to this many slots, then grow by an eighth.
const SLAB_DOUBLING_UP_TO: usize = 4096;

/// Pushes `x` onto a slab of records and returns its slot. Past
/// [`SLAB_DOUBLING_UP_TO`] slots the slab grows by an eighth instead of
/// doubling: at most ~11 % of a large slab is spare, where a doubled one can
/// be half empty (100,000 conversations: 110,768 slots instead of 131,072).
fn push_slot<T>(slab: &mut Vec<T>, x: T) -> u32 {
    if slab.len() == slab.capacity() && slab.len() >= SLAB_DOUBLING_UP_TO {
        slab.reserve_exact(slab.len() / 8);
    }
    slab.push(x);
    (slab.len() - 1) as u32
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
        assert!(op <= 480, "Operator grew to {op} B");
        assert!(conv <= 184, "Conversation grew to {conv} B");
        // The slabs hold `Option`s of the records: no larger.
        assert_eq!(std::mem::size_of::<Option<super::Conversation>>(), conv);
        assert_eq!(std::mem::size_of::<Option<super::Operator>>(), op);
    }

    #[test]
    fn large_slabs_grow_by_an_eighth() {
        let mut slab: Vec<u64> = Vec::new();
        for i in 0..100_000u64 {
            assert_eq!(super::push_slot(&mut slab, i), i as u32);
        }
        assert!(
            slab.capacity() <= 100_000 + 100_000 / 8,
            "{}",
            slab.capacity()
        );
    }
}
