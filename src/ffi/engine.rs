//! The engine handle: events in (one function per `Event` variant),
//! decisions and queries out.

use smallvec::SmallVec;

use crate::engine::{
    Decision, DecisionKind, Engine, EngineError, Event, MoveCause, QueueStatus, RealTime, Route,
    Snapshot, StateCounts, StatusCounts, Trigger,
};
use crate::ids::{
    ChannelId, ConversationId, OperatorId, ProfileId, QueueId, SkillId, TeamId, TierId,
};
use crate::model::{
    ChannelCapacity, ConversationSpec, ConversationState, MAX_REQUIRED_SKILLS, OperatorSpec,
    OperatorStatus, SkillLevel, TransferTarget,
};
use crate::policy::Policy;
use crate::record::{Activity, Finished, FlatFinished, StatusInterval};
use crate::time::{Millis, Timestamp};

use super::SWITCHBOARD_NO_TIME;
use super::guard::{
    Failure, FfiResult, Handle, Poison, arg_slice, check_buffer, ffi_guard, free_handle, hand_out,
    out_items, out_ptr, with_handle, with_handle_mut,
};
use super::status::switchboard_status;

/// The most skills a conversation may require, and so the size of
/// `switchboard_decision::matched`.
pub const SWITCHBOARD_MAX_REQUIRED_SKILLS: usize = 4;

const _: () = assert!(SWITCHBOARD_MAX_REQUIRED_SKILLS == MAX_REQUIRED_SKILLS);

/// A routing engine with its policy, operators and live conversations.
///
/// Create with `switchboard_engine_new` or `switchboard_engine_restore`,
/// free with `switchboard_engine_free`.
///
/// Thread rule: one thread at a time (no concurrent calls on the same
/// handle, queries included); the handle may move between threads.
#[derive(Debug)]
pub struct switchboard_engine {
    engine: Engine,
    /// Decisions not yet taken by the caller, oldest first: every call
    /// that applies an event appends what it produced (see
    /// `Engine::apply`), so none is lost between two drains.
    decisions: Vec<Decision>,
    /// Finished records already taken from the engine but not yet copied
    /// out (a too-small buffer), oldest first.
    finished: Vec<Finished>,
    /// Activity intervals taken from the engine but not yet copied out.
    status_intervals: Vec<StatusInterval>,
    /// Set while a call runs; left set if it panicked.
    poison: Poison,
}

impl switchboard_engine {
    fn new(engine: Engine) -> Self {
        switchboard_engine {
            engine,
            decisions: Vec::new(),
            finished: Vec::new(),
            status_intervals: Vec::new(),
            poison: Poison::default(),
        }
    }

    /// Applies an event; whatever it decided joins the queue (the one
    /// output channel of every call).
    fn apply(&mut self, event: Event) -> FfiResult {
        self.engine.apply_into(event, &mut self.decisions)?;
        Ok(())
    }

    /// [`Self::apply`], then reports how many decisions are queued.
    fn apply_queued(&mut self, event: Event, out_count: *mut usize) -> FfiResult {
        out_ptr(out_count, "out_count")?;
        self.apply(event)?;
        // SAFETY: checked non-NULL; writable by the caller's contract.
        unsafe { out_count.write(self.decisions.len()) };
        Ok(())
    }
}

impl Handle for switchboard_engine {
    const ARG: &'static str = "engine";

    fn poison(&self) -> &Poison {
        &self.poison
    }
}

// ----- plain data crossing the boundary -------------------------------------

/// Whether an operator takes new work (input as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum switchboard_operator_status {
    /// Receives new conversations.
    Available = 0,
    /// Keeps held conversations, receives no new ones.
    Away = 1,
    /// Logged out.
    Offline = 2,
}

impl TryFrom<u32> for switchboard_operator_status {
    /// The value that is out of range.
    type Error = u32;
    fn try_from(v: u32) -> Result<Self, u32> {
        match v {
            0 => Ok(Self::Available),
            1 => Ok(Self::Away),
            2 => Ok(Self::Offline),
            _ => Err(v),
        }
    }
}

fn status_arg(v: u32) -> Result<switchboard_operator_status, Failure> {
    switchboard_operator_status::try_from(v)
        .map_err(|v| Failure::invalid("status", v, "0 (available), 1 (away), 2 (offline)"))
}

impl From<switchboard_operator_status> for OperatorStatus {
    fn from(s: switchboard_operator_status) -> Self {
        match s {
            switchboard_operator_status::Available => OperatorStatus::Available,
            switchboard_operator_status::Away => OperatorStatus::Away,
            switchboard_operator_status::Offline => OperatorStatus::Offline,
        }
    }
}

/// Where a transfer sends a conversation (input as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum switchboard_transfer_target {
    /// Straight to the operator `target_id`.
    Operator = 0,
    /// Back to routing for the team `target_id` (must fit in 32 bits).
    Team = 1,
    /// Back to routing with no team restriction, in the queue it was in
    /// (`target_id` ignored).
    Queue = 2,
    /// Back to routing with no team restriction, in the queue `target_id`
    /// (must fit in 32 bits): that queue's rules from then on, its wait
    /// counted from the transfer.
    ToQueue = 3,
}

impl TryFrom<u32> for switchboard_transfer_target {
    /// The value that is out of range.
    type Error = u32;
    fn try_from(v: u32) -> Result<Self, u32> {
        match v {
            0 => Ok(Self::Operator),
            1 => Ok(Self::Team),
            2 => Ok(Self::Queue),
            3 => Ok(Self::ToQueue),
            _ => Err(v),
        }
    }
}

/// Where a conversation is in its life.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum switchboard_conversation_state {
    /// Talking to a bot.
    WithBot = 0,
    /// In the routing queue.
    Waiting = 1,
    /// Offered to an operator who has not accepted yet.
    Offered = 2,
    /// Held by an operator who has not replied yet.
    Assigned = 3,
    /// Held by an operator who has replied.
    Responded = 4,
    /// The customer left a message instead of waiting.
    MessageLeft = 5,
    /// Done.
    Resolved = 6,
    /// The customer left before an operator was assigned.
    Abandoned = 7,
}

impl From<ConversationState> for switchboard_conversation_state {
    fn from(s: ConversationState) -> Self {
        match s {
            ConversationState::WithBot => Self::WithBot,
            ConversationState::Waiting => Self::Waiting,
            ConversationState::Offered => Self::Offered,
            ConversationState::Assigned => Self::Assigned,
            ConversationState::Responded => Self::Responded,
            ConversationState::MessageLeft => Self::MessageLeft,
            ConversationState::Resolved => Self::Resolved,
            ConversationState::Abandoned => Self::Abandoned,
        }
    }
}

/// Which rule chose the operator.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum switchboard_route {
    /// The customer's previous operator could take it.
    PreferredOperator = 0,
    /// Lowest load ratio.
    LeastLoaded = 1,
    /// Idle longest.
    LongestIdle = 2,
    /// Least recently picked.
    RoundRobin = 3,
    /// Highest level in the primary skill.
    MostProficient = 4,
    /// A demanding conversation given to the least proficient on purpose.
    SkillDevelopment = 5,
    /// Fewest open conversations.
    FewestConversations = 6,
    /// Next in the ring after the last one picked.
    Ring = 7,
    /// First eligible in fixed order.
    FixedOrder = 8,
    /// Fewest conversations handled since joining or the last
    /// `switchboard_engine_handled_counts_reset`.
    FewestHandled = 9,
    /// First by the queue's order keys (`order_by` selection).
    OrderBy = 10,
}

impl From<Route> for switchboard_route {
    fn from(r: Route) -> Self {
        match r {
            Route::PreferredOperator => Self::PreferredOperator,
            Route::LeastLoaded => Self::LeastLoaded,
            Route::LongestIdle => Self::LongestIdle,
            Route::RoundRobin => Self::RoundRobin,
            Route::MostProficient => Self::MostProficient,
            Route::SkillDevelopment => Self::SkillDevelopment,
            Route::FewestConversations => Self::FewestConversations,
            Route::Ring => Self::Ring,
            Route::FixedOrder => Self::FixedOrder,
            Route::FewestHandled => Self::FewestHandled,
            Route::OrderBy => Self::OrderBy,
        }
    }
}

/// What made the engine look for a match.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum switchboard_trigger {
    /// The conversation entered the queue or its requirements relaxed.
    ConversationQueued = 0,
    /// An operator gained room.
    OperatorFreed = 1,
    /// A rebalance moved it.
    Rebalance = 2,
}

impl From<Trigger> for switchboard_trigger {
    fn from(t: Trigger) -> Self {
        match t {
            Trigger::ConversationQueued => Self::ConversationQueued,
            Trigger::OperatorFreed => Self::OperatorFreed,
            Trigger::Rebalance => Self::Rebalance,
        }
    }
}

/// What a decision does.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum switchboard_decision_kind {
    /// The operator now holds the conversation.
    Assigned = 0,
    /// The conversation is offered to the operator until
    /// `offer_expires_at_ms`.
    Offered = 1,
    /// The conversation was taken away from the operator (see `cause`).
    Unassigned = 2,
}

/// Why a conversation was taken away from an operator.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum switchboard_move_cause {
    /// Not an unassignment.
    None = 0,
    /// The operator went away; it had no reply yet.
    OperatorAway = 1,
    /// The operator went offline.
    OperatorOffline = 2,
    /// The operator has been away longer than the policy allows.
    AwayTooLong = 3,
    /// Load skew beyond the policy's margin.
    LoadSkew = 4,
    /// The operator's capacity was cut below their load.
    CapacityCut = 5,
    /// The host asked to rebalance this operator.
    Requested = 6,
    /// The offer lapsed.
    OfferExpired = 7,
    /// The operator rejected the offer.
    OfferRejected = 8,
    /// The offer was still ringing when the conversation ended or was
    /// transferred: stop ringing the operator.
    Withdrawn = 9,
    /// The operator was removed from the roster.
    OperatorRemoved = 10,
}

impl From<MoveCause> for switchboard_move_cause {
    fn from(c: MoveCause) -> Self {
        match c {
            MoveCause::OperatorAway => Self::OperatorAway,
            MoveCause::OperatorOffline => Self::OperatorOffline,
            MoveCause::AwayTooLong => Self::AwayTooLong,
            MoveCause::LoadSkew => Self::LoadSkew,
            MoveCause::CapacityCut => Self::CapacityCut,
            MoveCause::Requested => Self::Requested,
            MoveCause::OfferExpired => Self::OfferExpired,
            MoveCause::OfferRejected => Self::OfferRejected,
            MoveCause::Withdrawn => Self::Withdrawn,
            MoveCause::OperatorRemoved => Self::OperatorRemoved,
        }
    }
}

/// A skill at a proficiency level (1–5): an operator's skill, or a
/// conversation's requirement (minimum level).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_skill_level {
    /// The skill.
    pub skill_id: u32,
    /// 1 (novice) … 5 (expert).
    pub level: u8,
}

/// An operator's capacity on one channel (channels not listed: 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_channel_capacity {
    /// The channel.
    pub channel_id: u32,
    /// Most conversations held at once on it (at least 1).
    pub capacity: u16,
}

/// A required skill and the chosen operator's level in it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_skill_match {
    /// The skill.
    pub skill_id: u32,
    /// Minimum level in force at the decision (after overflow).
    pub required: u8,
    /// The operator's level.
    pub level: u8,
}

/// One routing decision with its reason (a flat copy of the Rust `Decision`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_decision {
    /// The conversation.
    pub conversation_id: u64,
    /// The operator it goes to (or, for `UNASSIGNED`, leaves).
    pub operator_id: u64,
    /// When (ms since the epoch).
    pub at_ms: u64,
    /// Sequence number of the input that produced it (1 = first input).
    pub input_seq: u64,
    /// How long the customer had waited.
    pub waited_ms: u64,
    /// For `OFFERED`: when the offer lapses; otherwise `SWITCHBOARD_NO_TIME`.
    pub offer_expires_at_ms: u64,
    /// Its channel.
    pub channel_id: u32,
    /// Its tier.
    pub tier_id: u32,
    /// Its queue (valid when `has_queue`; otherwise the default queue).
    pub queue_id: u32,
    /// Assigned, offered or unassigned.
    pub kind: switchboard_decision_kind,
    /// For `UNASSIGNED`: why; otherwise `NONE`.
    pub cause: switchboard_move_cause,
    /// Which rule chose the operator.
    pub route: switchboard_route,
    /// What started the search.
    pub trigger: switchboard_trigger,
    /// The operator's load on the channel just before.
    pub load_before: u16,
    /// The operator's capacity on the channel.
    pub capacity: u16,
    /// Overflow steps in force (0 = original requirements).
    pub overflow_step: u8,
    /// How many entries of `matched` are used.
    pub matched_len: u8,
    /// Whether `queue_id` is set (false: the default queue, the policy's
    /// own rules).
    pub has_queue: bool,
    /// Required skills (in force) and the operator's levels.
    pub matched: [switchboard_skill_match; SWITCHBOARD_MAX_REQUIRED_SKILLS],
}

impl From<&Decision> for switchboard_decision {
    fn from(d: &Decision) -> Self {
        let mut matched = [switchboard_skill_match {
            skill_id: 0,
            required: 0,
            level: 0,
        }; SWITCHBOARD_MAX_REQUIRED_SKILLS];
        // At most MAX_REQUIRED_SKILLS by the engine's validation of every
        // conversation spec (checked equal to the array size above).
        let n = d.reason.matched.len().min(SWITCHBOARD_MAX_REQUIRED_SKILLS);
        for (slot, m) in matched.iter_mut().zip(&d.reason.matched) {
            *slot = switchboard_skill_match {
                skill_id: m.skill.0,
                required: m.required,
                level: m.level,
            };
        }
        let (kind, cause, expires) = match d.kind {
            DecisionKind::Assigned => (
                switchboard_decision_kind::Assigned,
                switchboard_move_cause::None,
                SWITCHBOARD_NO_TIME,
            ),
            DecisionKind::Offered { expires_at } => (
                switchboard_decision_kind::Offered,
                switchboard_move_cause::None,
                expires_at.0,
            ),
            DecisionKind::Unassigned { cause } => (
                switchboard_decision_kind::Unassigned,
                cause.into(),
                SWITCHBOARD_NO_TIME,
            ),
        };
        switchboard_decision {
            conversation_id: d.conversation.0,
            operator_id: d.operator.0,
            at_ms: d.at.0,
            input_seq: d.input_seq,
            waited_ms: d.reason.waited.0,
            offer_expires_at_ms: expires,
            channel_id: d.channel.0,
            tier_id: d.tier.0,
            queue_id: d.queue.map_or(0, |q| q.0),
            kind,
            cause,
            route: d.reason.route.into(),
            trigger: d.reason.trigger.into(),
            load_before: d.reason.load_before,
            capacity: d.reason.capacity,
            overflow_step: d.reason.overflow_step,
            matched_len: n as u8,
            has_queue: d.queue.is_some(),
            matched,
        }
    }
}

/// A live conversation as the engine sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_conversation_info {
    /// The holder (valid when `has_operator`).
    pub operator_id: u64,
    /// When the customer asked for an operator, or `SWITCHBOARD_NO_TIME`.
    pub asked_at_ms: u64,
    /// When the current holder got it (for an offer: accepted it), or
    /// `SWITCHBOARD_NO_TIME`.
    pub assigned_at_ms: u64,
    /// When it was first offered, or `SWITCHBOARD_NO_TIME`.
    pub offered_at_ms: u64,
    /// First reply by any operator, or `SWITCHBOARD_NO_TIME`.
    pub first_response_at_ms: u64,
    /// Waiting for the preferred operator until then, or `SWITCHBOARD_NO_TIME`.
    pub preferred_until_ms: u64,
    /// Its channel.
    pub channel_id: u32,
    /// Its tier.
    pub tier_id: u32,
    /// Transfers so far.
    pub transfers: u32,
    /// Where it is in its life.
    pub state: switchboard_conversation_state,
    /// Its queue (valid when `has_queue`): the one it arrived in or was
    /// last transferred to.
    pub queue_id: u32,
    /// Overflow steps in force.
    pub overflow_step: u8,
    /// Whether an operator holds it (or has it offered).
    pub has_operator: bool,
    /// Whether `queue_id` is set (false: the default queue).
    pub has_queue: bool,
}

/// A conversation that left the engine (resolved or abandoned), with the
/// timestamps KPIs are computed from. Absent timestamps are
/// `SWITCHBOARD_NO_TIME`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_finished_conversation {
    /// The conversation.
    pub conversation_id: u64,
    /// The last operator who held it (valid when `has_operator`).
    pub operator_id: u64,
    /// When the bot conversation started, or the ask if there was no bot.
    pub started_at_ms: u64,
    /// When the customer asked for an operator (absent: resolved by the bot).
    pub asked_at_ms: u64,
    /// First offer to an operator (offer policies only).
    pub offered_at_ms: u64,
    /// First accepted assignment (for an offer: its acceptance); ends the wait.
    pub assigned_at_ms: u64,
    /// First reply by an operator.
    pub first_response_at_ms: u64,
    /// Resolution.
    pub resolved_at_ms: u64,
    /// The customer left while waiting.
    pub abandoned_at_ms: u64,
    /// The customer left a message instead of waiting.
    pub message_left_at_ms: u64,
    /// Its channel.
    pub channel_id: u32,
    /// Its tier.
    pub tier_id: u32,
    /// The team it was last targeted at (valid when `has_team`).
    pub team_id: u32,
    /// The queue it was in at the end (valid when `has_queue`).
    pub queue_id: u32,
    /// Transfers.
    pub transfers: u32,
    /// Offers of it that operators missed or rejected.
    pub missed_offers: u32,
    /// Whether `operator_id` is set.
    pub has_operator: bool,
    /// Whether `team_id` is set.
    pub has_team: bool,
    /// Whether `queue_id` is set (false: the default queue, or a
    /// conversation the bot handled alone).
    pub has_queue: bool,
}

fn time_or_none(t: Option<Timestamp>) -> u64 {
    t.map_or(SWITCHBOARD_NO_TIME, |t| t.0)
}

impl From<&Finished> for switchboard_finished_conversation {
    fn from(f: &Finished) -> Self {
        let f = FlatFinished::of(f);
        switchboard_finished_conversation {
            conversation_id: f.id.0,
            operator_id: f.operator.map_or(0, |o| o.0),
            started_at_ms: f.started_at.0,
            asked_at_ms: time_or_none(f.asked_at),
            offered_at_ms: time_or_none(f.offered_at),
            assigned_at_ms: time_or_none(f.assigned_at),
            first_response_at_ms: time_or_none(f.first_response_at),
            resolved_at_ms: time_or_none(f.resolved_at),
            abandoned_at_ms: time_or_none(f.abandoned_at),
            message_left_at_ms: time_or_none(f.message_left_at),
            channel_id: f.channel.0,
            tier_id: f.tier.0,
            team_id: f.team.map_or(0, |t| t.0),
            queue_id: f.queue.map_or(0, |q| q.0),
            transfers: f.transfers,
            missed_offers: f.missed_offers,
            has_operator: f.operator.is_some(),
            has_team: f.team.is_some(),
            has_queue: f.queue.is_some(),
        }
    }
}

/// What an operator was doing, for occupancy (`activity` of
/// `switchboard_status_interval`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum switchboard_activity {
    /// Available and holding a conversation (or an offer ringing), or in
    /// wrap-up.
    Busy = 0,
    /// Available and holding none.
    Idle = 1,
    /// Away: neither busy nor idle.
    Away = 2,
    /// Offline: neither busy nor idle.
    Offline = 3,
}

impl From<Activity> for switchboard_activity {
    fn from(a: Activity) -> Self {
        match a {
            Activity::Busy => Self::Busy,
            Activity::Idle => Self::Idle,
            Activity::Away => Self::Away,
            Activity::Offline => Self::Offline,
        }
    }
}

impl TryFrom<u32> for switchboard_activity {
    type Error = u32;
    fn try_from(v: u32) -> Result<Self, u32> {
        Ok(match v {
            0 => Self::Busy,
            1 => Self::Idle,
            2 => Self::Away,
            3 => Self::Offline,
            _ => return Err(v),
        })
    }
}

impl From<switchboard_activity> for Activity {
    fn from(a: switchboard_activity) -> Self {
        match a {
            switchboard_activity::Busy => Activity::Busy,
            switchboard_activity::Idle => Activity::Idle,
            switchboard_activity::Away => Activity::Away,
            switchboard_activity::Offline => Activity::Offline,
        }
    }
}

/// One interval `[start_ms, end_ms)` of an operator's activity, as
/// `switchboard_engine_take_status_intervals` hands them out and
/// `switchboard_kpi_push_status` takes them.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_status_interval {
    /// The operator.
    pub operator_id: u64,
    /// Start, inclusive.
    pub start_ms: u64,
    /// End, exclusive.
    pub end_ms: u64,
    /// A `switchboard_activity` value.
    pub activity: u32,
}

impl From<&StatusInterval> for switchboard_status_interval {
    fn from(s: &StatusInterval) -> Self {
        switchboard_status_interval {
            operator_id: s.operator.0,
            start_ms: s.start.0,
            end_ms: s.end.0,
            activity: switchboard_activity::from(s.status) as u32,
        }
    }
}

/// Live conversations by state.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_state_counts {
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

impl From<StateCounts> for switchboard_state_counts {
    fn from(c: StateCounts) -> Self {
        switchboard_state_counts {
            with_bot: c.with_bot,
            waiting: c.waiting,
            offered: c.offered,
            with_operator: c.with_operator,
            message_left: c.message_left,
        }
    }
}

/// Operators by status.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_status_counts {
    /// Available.
    pub available: u32,
    /// Away.
    pub away: u32,
    /// Offline.
    pub offline: u32,
}

impl From<StatusCounts> for switchboard_status_counts {
    fn from(c: StatusCounts) -> Self {
        switchboard_status_counts {
            available: c.available,
            away: c.away,
            offline: c.offline,
        }
    }
}

/// The wall board: what a supervisor's dashboard shows right now (the Rust
/// `RealTime`). Absent parts have a `has_` flag; their fields are then 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_real_time {
    /// The engine's current time (the latest it has seen).
    pub at_ms: u64,
    /// The conversation waiting longest for an operator (valid when
    /// `has_longest_wait`).
    pub longest_wait_conversation_id: u64,
    /// How long it has waited since asking.
    pub longest_wait_ms: u64,
    /// The bottleneck: the operator holding the oldest unanswered
    /// conversation, assigned or offered with no reply yet (valid when
    /// `has_bottleneck`).
    pub bottleneck_operator_id: u64,
    /// That conversation.
    pub bottleneck_conversation_id: u64,
    /// How long its customer has waited since asking.
    pub bottleneck_wait_ms: u64,
    /// Live conversations by state.
    pub conversations: switchboard_state_counts,
    /// Operators by status.
    pub operators: switchboard_status_counts,
    /// Whether a conversation is waiting for an operator.
    pub has_longest_wait: bool,
    /// Whether an operator holds an unanswered conversation.
    pub has_bottleneck: bool,
}

impl From<&RealTime> for switchboard_real_time {
    fn from(r: &RealTime) -> Self {
        let (longest_conv, longest_ms) = r.longest_wait.map_or((0, 0), |(c, w)| (c.0, w.0));
        let (bottleneck_op, bottleneck_conv, bottleneck_ms) =
            r.bottleneck.map_or((0, 0, 0), |(o, c, w)| (o.0, c.0, w.0));
        switchboard_real_time {
            at_ms: r.at.0,
            longest_wait_conversation_id: longest_conv,
            longest_wait_ms: longest_ms,
            bottleneck_operator_id: bottleneck_op,
            bottleneck_conversation_id: bottleneck_conv,
            bottleneck_wait_ms: bottleneck_ms,
            conversations: r.conversations.into(),
            operators: r.operators.into(),
            has_longest_wait: r.longest_wait.is_some(),
            has_bottleneck: r.bottleneck.is_some(),
        }
    }
}

/// Where a waiting conversation stands: what a customer asks ("how long
/// will I wait?"), the Rust `QueueStatus`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct switchboard_queue_status {
    /// The estimated wait from now (valid when `has_estimated_wait`). The
    /// estimator is documented on the Rust `Engine::queue_status`.
    pub estimated_wait_ms: u64,
    /// 1-based position in routing order among the conversations waiting
    /// on the same channel.
    pub position: u32,
    /// Available operators whose skills, levels and team fit it.
    pub eligible_operators: u32,
    /// Their total capacity on the channel.
    pub eligible_slots: u32,
    /// Their free capacity on the channel right now.
    pub free_slots: u32,
    /// False when no available operator fits it (no estimate).
    pub has_estimated_wait: bool,
}

impl From<QueueStatus> for switchboard_queue_status {
    fn from(q: QueueStatus) -> Self {
        switchboard_queue_status {
            estimated_wait_ms: q.estimated_wait.map_or(0, |w| w.0),
            position: q.position,
            eligible_operators: q.eligible_operators,
            eligible_slots: q.eligible_slots,
            free_slots: q.free_slots,
            has_estimated_wait: q.estimated_wait.is_some(),
        }
    }
}

// ----- argument conversion ----------------------------------------------------

fn skill_levels<const N: usize>(skills: &[switchboard_skill_level]) -> SmallVec<[SkillLevel; N]> {
    skills
        .iter()
        .map(|s| SkillLevel::new(SkillId(s.skill_id), s.level))
        .collect()
}

/// Builds a conversation spec from C arguments.
///
/// # Safety
/// `skills` must be valid for `skills_len` items (or NULL with 0).
#[allow(clippy::too_many_arguments)]
unsafe fn conversation_spec(
    conversation_id: u64,
    channel_id: u32,
    tier_id: u32,
    skills: *const switchboard_skill_level,
    skills_len: usize,
    has_team: bool,
    team_id: u32,
    has_preferred_operator: bool,
    preferred_operator_id: u64,
    has_queue: bool,
    queue_id: u32,
) -> Result<ConversationSpec, Failure> {
    // SAFETY: forwarded contract.
    let skills = unsafe { arg_slice(skills, skills_len, "skills") }?;
    Ok(ConversationSpec {
        id: ConversationId(conversation_id),
        channel: ChannelId(channel_id),
        tier: TierId(tier_id),
        skills: skill_levels(skills),
        team: has_team.then_some(TeamId(team_id)),
        preferred_operator: has_preferred_operator.then_some(OperatorId(preferred_operator_id)),
        queue: has_queue.then_some(QueueId(queue_id)),
    })
}

// ----- lifecycle ----------------------------------------------------------------

/// Creates an engine from a policy given as UTF-8 JSON (the serde form of
/// the Rust `Policy`; see the README's "Use from C / C++" for an example).
///
/// # Errors
/// `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_JSON` (syntax, or fields that
/// do not describe a policy), or a `POLICY_*` status naming what is
/// inconsistent.
///
/// # Safety
/// `policy_json` must point to `len` readable bytes (or be NULL with
/// `len == 0`); `out` must point to a writable pointer. On OK `*out` holds a
/// new handle the caller frees with `switchboard_engine_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_new(
    policy_json: *const u8,
    len: usize,
    out: *mut *mut switchboard_engine,
) -> switchboard_status {
    ffi_guard(|| {
        let out = out_ptr(out, "out")?;
        // SAFETY: caller's contract.
        let bytes = unsafe { arg_slice(policy_json, len, "policy_json") }?;
        let text = core::str::from_utf8(bytes).map_err(|e| {
            Failure::new(
                switchboard_status::InvalidUtf8,
                format!("policy is not UTF-8: {e}"),
            )
        })?;
        let policy: Policy = serde_json::from_str(text).map_err(|e| {
            Failure::new(switchboard_status::InvalidJson, format!("policy JSON: {e}"))
        })?;
        let engine = Engine::new(policy)?;
        let handle = Box::into_raw(Box::new(switchboard_engine::new(engine)));
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Frees an engine handle. NULL is a no-op. Works on a poisoned handle.
///
/// # Safety
/// `engine` must be NULL or a handle from `switchboard_engine_new` /
/// `switchboard_engine_restore` not yet freed; it must not be used after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_free(engine: *mut switchboard_engine) {
    // SAFETY: the caller's contract is `free_handle`'s.
    unsafe { free_handle(engine) }
}

/// Writes the engine's whole state as canonical snapshot bytes (equal
/// states give equal bytes on every platform). Queued decisions are not
/// part of it; finished records not yet taken are.
///
/// # Errors
/// `NULL_ARGUMENT`, `BUFFER_TOO_SMALL` (`*out_len` = bytes needed).
///
/// # Safety
/// `engine` must be a live handle; `buf` NULL (with `cap == 0`) or valid
/// for `cap` bytes; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_snapshot(
    engine: *const switchboard_engine,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> switchboard_status {
    with_handle(engine, |h| {
        check_buffer(buf, cap, out_len)?;
        let bytes = h.snapshot().to_bytes();
        // SAFETY: caller's contract.
        unsafe { out_items(bytes.len(), bytes.iter().copied(), buf, cap, out_len) }
    })
}

impl switchboard_engine {
    /// The engine's snapshot, with records this handle took but did not
    /// hand out yet put back in front (they finished first).
    fn snapshot(&self) -> Snapshot {
        let mut s = self.engine.snapshot();
        if !self.finished.is_empty() {
            s.finished.splice(0..0, self.finished.iter().cloned());
        }
        if !self.status_intervals.is_empty() {
            s.status_intervals
                .splice(0..0, self.status_intervals.iter().copied());
        }
        s
    }
}

/// Rebuilds an engine from snapshot bytes; continuing it with the rest of
/// the event log gives the same decisions as never having stopped.
///
/// # Errors
/// `NULL_ARGUMENT`, or a `SNAPSHOT_*` status.
///
/// # Safety
/// `bytes` must point to `len` readable bytes (or be NULL with `len == 0`);
/// `out` must be writable. On OK the caller owns `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_restore(
    bytes: *const u8,
    len: usize,
    out: *mut *mut switchboard_engine,
) -> switchboard_status {
    ffi_guard(|| {
        let out = out_ptr(out, "out")?;
        // SAFETY: caller's contract.
        let bytes = unsafe { arg_slice(bytes, len, "bytes") }?;
        let engine = Engine::restore(Snapshot::from_bytes(bytes)?)?;
        let handle = Box::into_raw(Box::new(switchboard_engine::new(engine)));
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

// ----- operators --------------------------------------------------------------

/// An operator joins the roster (`Event::OperatorAdded`).
///
/// `status` is a `switchboard_operator_status`. Capacities per channel
/// (channels not listed: 0), skills with levels, teams; `has_wrap_up`
/// gives the operator their own wrap-up time instead of the policy's;
/// `has_profile` gives them the routing profile `profile_id` from the
/// policy's `profiles` (which queues they serve, in which priority, after
/// which delay; without one they serve every queue alike).
///
/// # Errors
/// `NULL_ARGUMENT`, `INVALID_ARGUMENT` (status), `DUPLICATE_OPERATOR`,
/// `UNKNOWN_CHANNEL`, `UNKNOWN_SKILL`, `UNKNOWN_PROFILE`, `LEVEL_OUT_OF_RANGE`,
/// `DUPLICATE_SKILL`, `DUPLICATE_TEAM`, `DUPLICATE_CHANNEL`,
/// `ZERO_CAPACITY`, `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; each array must hold its length in items
/// (or be NULL with length 0).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn switchboard_engine_operator_added(
    engine: *mut switchboard_engine,
    at_ms: u64,
    operator_id: u64,
    status: u32,
    capacities: *const switchboard_channel_capacity,
    capacities_len: usize,
    skills: *const switchboard_skill_level,
    skills_len: usize,
    teams: *const u32,
    teams_len: usize,
    has_wrap_up: bool,
    wrap_up_ms: u64,
    has_profile: bool,
    profile_id: u32,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        let status = status_arg(status)?;
        // SAFETY: caller's contract.
        let (capacities, skills, teams) = unsafe {
            (
                arg_slice(capacities, capacities_len, "capacities")?,
                arg_slice(skills, skills_len, "skills")?,
                arg_slice(teams, teams_len, "teams")?,
            )
        };
        let operator = OperatorSpec {
            id: OperatorId(operator_id),
            status: status.into(),
            capacity: capacities
                .iter()
                .map(|c| ChannelCapacity {
                    channel: ChannelId(c.channel_id),
                    capacity: c.capacity,
                })
                .collect(),
            skills: skill_levels(skills),
            teams: teams.iter().map(|&t| TeamId(t)).collect(),
            wrap_up: has_wrap_up.then_some(Millis(wrap_up_ms)),
            profile: has_profile.then_some(ProfileId(profile_id)),
        };
        h.apply(Event::OperatorAdded {
            at: Timestamp(at_ms),
            operator,
        })
    })
}

/// An operator leaves the roster; what they held goes back to routing
/// (`Event::OperatorRemoved`).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_OPERATOR`, `TIME_WENT_BACKWARDS`,
/// `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_operator_removed(
    engine: *mut switchboard_engine,
    at_ms: u64,
    operator_id: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::OperatorRemoved {
            at: Timestamp(at_ms),
            operator: OperatorId(operator_id),
        })
    })
}

/// Available, away or offline (`Event::OperatorStatusChanged`); `status` is
/// a `switchboard_operator_status`.
///
/// # Errors
/// `NULL_ARGUMENT`, `INVALID_ARGUMENT`, `UNKNOWN_OPERATOR`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_operator_status_changed(
    engine: *mut switchboard_engine,
    at_ms: u64,
    operator_id: u64,
    status: u32,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        let status = status_arg(status)?;
        h.apply(Event::OperatorStatusChanged {
            at: Timestamp(at_ms),
            operator: OperatorId(operator_id),
            status: status.into(),
        })
    })
}

/// Capacity on one channel changes (`Event::OperatorCapacityChanged`; 0
/// stops new work there).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_OPERATOR`, `UNKNOWN_CHANNEL`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_operator_capacity_changed(
    engine: *mut switchboard_engine,
    at_ms: u64,
    operator_id: u64,
    channel_id: u32,
    capacity: u16,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::OperatorCapacityChanged {
            at: Timestamp(at_ms),
            operator: OperatorId(operator_id),
            channel: ChannelId(channel_id),
            capacity,
        })
    })
}

/// The operator's skills and levels are replaced
/// (`Event::OperatorSkillsChanged`).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_OPERATOR`, `UNKNOWN_SKILL`,
/// `LEVEL_OUT_OF_RANGE`, `DUPLICATE_SKILL`, `TIME_WENT_BACKWARDS`,
/// `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; `skills` must hold `skills_len` items
/// (or be NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_operator_skills_changed(
    engine: *mut switchboard_engine,
    at_ms: u64,
    operator_id: u64,
    skills: *const switchboard_skill_level,
    skills_len: usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        // SAFETY: caller's contract.
        let skills = unsafe { arg_slice(skills, skills_len, "skills") }?;
        h.apply(Event::OperatorSkillsChanged {
            at: Timestamp(at_ms),
            operator: OperatorId(operator_id),
            skills: skill_levels(skills),
        })
    })
}

/// The operator's teams are replaced (`Event::OperatorTeamsChanged`).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_OPERATOR`, `DUPLICATE_TEAM`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; `teams` must hold `teams_len` items (or
/// be NULL with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_operator_teams_changed(
    engine: *mut switchboard_engine,
    at_ms: u64,
    operator_id: u64,
    teams: *const u32,
    teams_len: usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        // SAFETY: caller's contract.
        let teams = unsafe { arg_slice(teams, teams_len, "teams") }?;
        h.apply(Event::OperatorTeamsChanged {
            at: Timestamp(at_ms),
            operator: OperatorId(operator_id),
            teams: teams.iter().map(|&t| TeamId(t)).collect(),
        })
    })
}

/// The operator's routing profile is replaced
/// (`Event::OperatorProfileChanged`): `profile_id` when `has_profile`,
/// otherwise none (every queue alike). What they hold stays with them; the
/// new profile counts for the work they take from now on.
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_OPERATOR`, `UNKNOWN_PROFILE`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_operator_profile_changed(
    engine: *mut switchboard_engine,
    at_ms: u64,
    operator_id: u64,
    has_profile: bool,
    profile_id: u32,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::OperatorProfileChanged {
            at: Timestamp(at_ms),
            operator: OperatorId(operator_id),
            profile: has_profile.then_some(ProfileId(profile_id)),
        })
    })
}

/// Every operator's count of handled conversations (conversations resolved
/// while they held them, the key of the `fewest_handled` selection) starts
/// again from 0 (`Event::HandledCountsReset`; a shift or day start).
///
/// # Errors
/// `NULL_ARGUMENT`, `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_handled_counts_reset(
    engine: *mut switchboard_engine,
    at_ms: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::HandledCountsReset {
            at: Timestamp(at_ms),
        })
    })
}

// ----- conversations ------------------------------------------------------------

/// A customer starts talking to the bot (`Event::BotConversationStarted`;
/// counted, not routed). Arguments as for
/// `switchboard_engine_conversation_arrived`.
///
/// # Errors
/// As `switchboard_engine_conversation_arrived`.
///
/// # Safety
/// As `switchboard_engine_conversation_arrived`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn switchboard_engine_bot_conversation_started(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
    channel_id: u32,
    tier_id: u32,
    skills: *const switchboard_skill_level,
    skills_len: usize,
    has_team: bool,
    team_id: u32,
    has_preferred_operator: bool,
    preferred_operator_id: u64,
    has_queue: bool,
    queue_id: u32,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        // SAFETY: caller's contract.
        let conversation = unsafe {
            conversation_spec(
                conversation_id,
                channel_id,
                tier_id,
                skills,
                skills_len,
                has_team,
                team_id,
                has_preferred_operator,
                preferred_operator_id,
                has_queue,
                queue_id,
            )
        }?;
        h.apply(Event::BotConversationStarted {
            at: Timestamp(at_ms),
            conversation,
        })
    })
}

/// The customer asks for an operator: the conversation enters the queue
/// (`Event::ConversationArrived`). `skills` are requirements with minimum
/// levels, the first one primary. `team_id` counts only when `has_team`,
/// `preferred_operator_id` only when `has_preferred_operator`, `queue_id`
/// only when `has_queue` (without it the conversation is in the default
/// queue, routed by the policy's own rules; with it, by that queue's rules
/// from the policy's `queues`).
///
/// # Errors
/// `NULL_ARGUMENT`, `DUPLICATE_CONVERSATION`, `UNKNOWN_CHANNEL`,
/// `UNKNOWN_TIER`, `UNKNOWN_SKILL`, `UNKNOWN_QUEUE`, `LEVEL_OUT_OF_RANGE`,
/// `DUPLICATE_SKILL`, `TOO_MANY_SKILLS`, `INVALID_TRANSITION`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; `skills` must hold `skills_len` items
/// (or be NULL with 0).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn switchboard_engine_conversation_arrived(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
    channel_id: u32,
    tier_id: u32,
    skills: *const switchboard_skill_level,
    skills_len: usize,
    has_team: bool,
    team_id: u32,
    has_preferred_operator: bool,
    preferred_operator_id: u64,
    has_queue: bool,
    queue_id: u32,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        // SAFETY: caller's contract.
        let conversation = unsafe {
            conversation_spec(
                conversation_id,
                channel_id,
                tier_id,
                skills,
                skills_len,
                has_team,
                team_id,
                has_preferred_operator,
                preferred_operator_id,
                has_queue,
                queue_id,
            )
        }?;
        h.apply(Event::ConversationArrived {
            at: Timestamp(at_ms),
            conversation,
        })
    })
}

/// The holding operator sent their first reply (`Event::FirstResponseSent`).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION`, `INVALID_TRANSITION`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_first_response_sent(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::FirstResponseSent {
            at: Timestamp(at_ms),
            conversation: ConversationId(conversation_id),
        })
    })
}

/// Done; the operator enters wrap-up (`Event::ConversationResolved`). The
/// conversation leaves the engine; take its record with
/// `switchboard_engine_take_finished`.
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION`, `INVALID_TRANSITION`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_conversation_resolved(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::ConversationResolved {
            at: Timestamp(at_ms),
            conversation: ConversationId(conversation_id),
        })
    })
}

/// The customer left while waiting (`Event::ConversationAbandoned`).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION`, `INVALID_TRANSITION`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_conversation_abandoned(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::ConversationAbandoned {
            at: Timestamp(at_ms),
            conversation: ConversationId(conversation_id),
        })
    })
}

/// The customer left a message instead of waiting (`Event::MessageLeft`).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION`, `INVALID_TRANSITION`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_message_left(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::MessageLeft {
            at: Timestamp(at_ms),
            conversation: ConversationId(conversation_id),
        })
    })
}

/// A held conversation moves to another operator or back to routing
/// (`Event::ConversationTransferred`). `target_kind` is a
/// `switchboard_transfer_target`: `OPERATOR` (`target_id` = operator id),
/// `TEAM` (`target_id` = team id, at most `UINT32_MAX`), `QUEUE` (back to
/// routing in the queue it was in; `target_id` ignored) or `TO_QUEUE`
/// (back to routing in the queue `target_id`, at most `UINT32_MAX`).
///
/// # Errors
/// `NULL_ARGUMENT`, `INVALID_ARGUMENT` (kind, or a team or queue id above
/// 32 bits), `UNKNOWN_CONVERSATION`, `UNKNOWN_OPERATOR`, `UNKNOWN_QUEUE`,
/// `INVALID_TRANSITION`,
/// `OPERATOR_OFFLINE`, `ZERO_CAPACITY`, `AT_CAPACITY`,
/// `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_conversation_transferred(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
    target_kind: u32,
    target_id: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        let kind = switchboard_transfer_target::try_from(target_kind).map_err(|v| {
            Failure::invalid(
                "target_kind",
                v,
                "0 (operator), 1 (team), 2 (queue), 3 (to queue)",
            )
        })?;
        let to = match kind {
            switchboard_transfer_target::Operator => {
                TransferTarget::Operator(OperatorId(target_id))
            }
            switchboard_transfer_target::Team => {
                let team = u32::try_from(target_id).map_err(|_| {
                    Failure::invalid("target_id", target_id, "a team id of at most 32 bits")
                })?;
                TransferTarget::Team(TeamId(team))
            }
            switchboard_transfer_target::Queue => TransferTarget::Queue,
            switchboard_transfer_target::ToQueue => {
                let queue = u32::try_from(target_id).map_err(|_| {
                    Failure::invalid("target_id", target_id, "a queue id of at most 32 bits")
                })?;
                TransferTarget::ToQueue(QueueId(queue))
            }
        };
        h.apply(Event::ConversationTransferred {
            at: Timestamp(at_ms),
            conversation: ConversationId(conversation_id),
            to,
        })
    })
}

/// An operator takes a waiting conversation by hand
/// (`Event::ConversationClaimed`; checks status and capacity, not skills).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION`, `UNKNOWN_OPERATOR`,
/// `INVALID_TRANSITION`, `OPERATOR_OFFLINE`, `ZERO_CAPACITY`,
/// `AT_CAPACITY`, `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_conversation_claimed(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
    operator_id: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::ConversationClaimed {
            at: Timestamp(at_ms),
            conversation: ConversationId(conversation_id),
            operator: OperatorId(operator_id),
        })
    })
}

/// The operator accepts a pending offer (`Event::OfferAccepted`).
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION`, `UNKNOWN_OPERATOR`,
/// `NO_SUCH_OFFER`, `OFFER_EXPIRED`, `TIME_WENT_BACKWARDS`,
/// `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_offer_accepted(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
    operator_id: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::OfferAccepted {
            at: Timestamp(at_ms),
            conversation: ConversationId(conversation_id),
            operator: OperatorId(operator_id),
        })
    })
}

/// The operator rejects a pending offer; it goes to the next eligible
/// operator (`Event::OfferRejected`). Like every call, its decisions join
/// the handle's queue; `*out_count` is how many are queued.
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION`, `UNKNOWN_OPERATOR`,
/// `NO_SUCH_OFFER`, `OFFER_EXPIRED`, `TIME_WENT_BACKWARDS`,
/// `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; `out_count` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_offer_rejected(
    engine: *mut switchboard_engine,
    at_ms: u64,
    conversation_id: u64,
    operator_id: u64,
    out_count: *mut usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply_queued(
            Event::OfferRejected {
                at: Timestamp(at_ms),
                conversation: ConversationId(conversation_id),
                operator: OperatorId(operator_id),
            },
            out_count,
        )
    })
}

// ----- commands -------------------------------------------------------------------

/// Matches waiting conversations with operators at `now_ms`
/// (`Event::Assign`). The decisions join the handle's queue (take them with
/// `switchboard_engine_take_decisions`); `*out_count` is how many are
/// queued now (this call's, when the caller drains after every call).
///
/// # Errors
/// `NULL_ARGUMENT`, `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; `out_count` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_assign(
    engine: *mut switchboard_engine,
    now_ms: u64,
    out_count: *mut usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply_queued(
            Event::Assign {
                at: Timestamp(now_ms),
            },
            out_count,
        )
    })
}

/// Time passes: timers up to `now_ms` fire (wrap-up ends, offer lapses,
/// overflow steps) and nothing is matched (`Event::Tick`; for hosts that
/// route by hand). Lapsed offers and work moved by timers join the
/// decision queue, as for every call.
///
/// # Errors
/// `NULL_ARGUMENT`, `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_tick(
    engine: *mut switchboard_engine,
    now_ms: u64,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply(Event::Tick {
            at: Timestamp(now_ms),
        })
    })
}

/// Moves work that should move, then matches (`Event::Rebalance`).
/// Decisions join the queue, as for `switchboard_engine_assign`.
///
/// # Errors
/// `NULL_ARGUMENT`, `TIME_WENT_BACKWARDS`, `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; `out_count` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_rebalance(
    engine: *mut switchboard_engine,
    now_ms: u64,
    out_count: *mut usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply_queued(
            Event::Rebalance {
                at: Timestamp(now_ms),
            },
            out_count,
        )
    })
}

/// Moves this operator's unanswered conversations to others, then matches
/// (`Event::RebalanceOperator`). Decisions join the queue.
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_OPERATOR`, `TIME_WENT_BACKWARDS`,
/// `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; `out_count` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_rebalance_operator(
    engine: *mut switchboard_engine,
    now_ms: u64,
    operator_id: u64,
    out_count: *mut usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        h.apply_queued(
            Event::RebalanceOperator {
                at: Timestamp(now_ms),
                operator: OperatorId(operator_id),
            },
            out_count,
        )
    })
}

/// The policy changes from `at_ms` on (`Event::PolicyChanged`), given as
/// UTF-8 JSON like `switchboard_engine_new`'s. Waiting conversations are
/// queued again under the new rules, held work stays with its holder,
/// offers in flight keep their expiry; the next `switchboard_engine_assign`
/// places work under the new rules. Timers due by `at_ms` fire first (their
/// decisions join the queue). A refused change leaves the engine as it was.
///
/// # Errors
/// `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_JSON`, a `POLICY_*` status
/// (the new policy is inconsistent), `UNKNOWN_CHANNEL` / `UNKNOWN_TIER` /
/// `UNKNOWN_SKILL` (the new policy drops one that a live operator or
/// conversation still uses; the message names which), `TIME_WENT_BACKWARDS`,
/// `TIMESTAMP_OUT_OF_RANGE`.
///
/// # Safety
/// `engine` must be a live handle; `policy_json` must point to `len`
/// readable bytes (or be NULL with `len == 0`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_policy_changed(
    engine: *mut switchboard_engine,
    at_ms: u64,
    policy_json: *const u8,
    len: usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        // SAFETY: caller's contract.
        let bytes = unsafe { arg_slice(policy_json, len, "policy_json") }?;
        let text = core::str::from_utf8(bytes).map_err(|e| {
            Failure::new(
                switchboard_status::InvalidUtf8,
                format!("policy is not UTF-8: {e}"),
            )
        })?;
        let policy: Policy = serde_json::from_str(text).map_err(|e| {
            Failure::new(switchboard_status::InvalidJson, format!("policy JSON: {e}"))
        })?;
        h.apply(Event::PolicyChanged {
            at: Timestamp(at_ms),
            policy: Box::new(policy),
        })
    })
}

// ----- queries --------------------------------------------------------------------

/// Copies the queued decisions (those not yet taken), in the order they
/// were made, without taking them.
///
/// # Errors
/// `NULL_ARGUMENT`, `BUFFER_TOO_SMALL` (`*out_len` = decisions queued).
///
/// # Safety
/// `engine` must be a live handle; `buf` NULL (with `cap == 0`) or valid for
/// `cap` items; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_decisions(
    engine: *const switchboard_engine,
    buf: *mut switchboard_decision,
    cap: usize,
    out_len: *mut usize,
) -> switchboard_status {
    with_handle(engine, |h| {
        let items = h.decisions.iter().map(switchboard_decision::from);
        // SAFETY: caller's contract.
        unsafe { out_items(h.decisions.len(), items, buf, cap, out_len) }
    })
}

/// When the engine next needs a call (a wrap-up ends, a preferred wait runs
/// out, an overflow step is reached, an offer lapses). `*has_deadline` is
/// false when nothing is scheduled (then `*out_ms` is `SWITCHBOARD_NO_TIME`).
///
/// # Errors
/// `NULL_ARGUMENT`.
///
/// # Safety
/// `engine` must be a live handle; `out_ms` and `has_deadline` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_next_deadline(
    engine: *const switchboard_engine,
    out_ms: *mut u64,
    has_deadline: *mut bool,
) -> switchboard_status {
    with_handle(engine, |h| {
        let out_ms = out_ptr(out_ms, "out_ms")?;
        let has_deadline = out_ptr(has_deadline, "has_deadline")?;
        let d = h.engine.next_deadline();
        // SAFETY: checked non-NULL; writable by contract.
        unsafe {
            out_ms.write(time_or_none(d));
            has_deadline.write(d.is_some());
        }
        Ok(())
    })
}

/// The latest time the engine has seen (0 before the first event).
///
/// # Errors
/// `NULL_ARGUMENT`.
///
/// # Safety
/// `engine` must be a live handle; `out_ms` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_now(
    engine: *const switchboard_engine,
    out_ms: *mut u64,
) -> switchboard_status {
    with_handle(engine, |h| {
        let out_ms = out_ptr(out_ms, "out_ms")?;
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out_ms.write(h.engine.now().0) };
        Ok(())
    })
}

/// A live conversation: state, holder, timestamps.
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION` (never arrived, or already
/// resolved or abandoned).
///
/// # Safety
/// `engine` must be a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_conversation(
    engine: *const switchboard_engine,
    conversation_id: u64,
    out: *mut switchboard_conversation_info,
) -> switchboard_status {
    with_handle(engine, |h| {
        let out = out_ptr(out, "out")?;
        let id = ConversationId(conversation_id);
        let c = h
            .engine
            .conversation(id)
            .ok_or(EngineError::UnknownConversation(id))?;
        let info = switchboard_conversation_info {
            operator_id: c.operator.map_or(0, |o| o.0),
            asked_at_ms: time_or_none(c.asked_at),
            assigned_at_ms: time_or_none(c.assigned_at),
            offered_at_ms: time_or_none(c.offered_at),
            first_response_at_ms: time_or_none(c.first_response_at),
            preferred_until_ms: time_or_none(c.preferred_until),
            channel_id: c.spec.channel.0,
            tier_id: c.spec.tier.0,
            transfers: c.transfers,
            state: c.state.into(),
            queue_id: c.spec.queue.map_or(0, |q| q.0),
            overflow_step: c.overflow_step,
            has_operator: c.operator.is_some(),
            has_queue: c.spec.queue.is_some(),
        };
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(info) };
        Ok(())
    })
}

/// An operator's load and capacity on a channel.
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_OPERATOR`, `UNKNOWN_CHANNEL`.
///
/// # Safety
/// `engine` must be a live handle; `out_load` and `out_capacity` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_operator_load(
    engine: *const switchboard_engine,
    operator_id: u64,
    channel_id: u32,
    out_load: *mut u16,
    out_capacity: *mut u16,
) -> switchboard_status {
    with_handle(engine, |h| {
        let out_load = out_ptr(out_load, "out_load")?;
        let out_capacity = out_ptr(out_capacity, "out_capacity")?;
        let (load, capacity) = h
            .engine
            .operator_load(OperatorId(operator_id), ChannelId(channel_id))?;
        // SAFETY: checked non-NULL; writable by contract.
        unsafe {
            out_load.write(load);
            out_capacity.write(capacity);
        }
        Ok(())
    })
}

/// The conversations an operator holds (or has offered), in the order
/// received.
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_OPERATOR`, `BUFFER_TOO_SMALL`.
///
/// # Safety
/// `engine` must be a live handle; `buf` NULL (with `cap == 0`) or valid for
/// `cap` items; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_operator_held(
    engine: *const switchboard_engine,
    operator_id: u64,
    buf: *mut u64,
    cap: usize,
    out_len: *mut usize,
) -> switchboard_status {
    with_handle(engine, |h| {
        check_buffer(buf, cap, out_len)?;
        let id = OperatorId(operator_id);
        let o = h
            .engine
            .operator(id)
            .ok_or(crate::engine::EngineError::UnknownOperator(id))?;
        let items = o.held.iter().map(|c| c.0);
        // SAFETY: caller's contract.
        unsafe { out_items(o.held.len(), items, buf, cap, out_len) }
    })
}

/// Waiting conversation ids in routing order (the order assign serves them).
///
/// # Errors
/// `NULL_ARGUMENT`, `BUFFER_TOO_SMALL`.
///
/// # Safety
/// `engine` must be a live handle; `buf` NULL (with `cap == 0`) or valid for
/// `cap` items; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_waiting(
    engine: *const switchboard_engine,
    buf: *mut u64,
    cap: usize,
    out_len: *mut usize,
) -> switchboard_status {
    with_handle(engine, |h| {
        check_buffer(buf, cap, out_len)?;
        let waiting = h.engine.waiting();
        // SAFETY: caller's contract.
        unsafe {
            out_items(
                waiting.len(),
                waiting.iter().map(|c| c.0),
                buf,
                cap,
                out_len,
            )
        }
    })
}

/// Live conversations by state.
///
/// # Errors
/// `NULL_ARGUMENT`.
///
/// # Safety
/// `engine` must be a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_state_counts(
    engine: *const switchboard_engine,
    out: *mut switchboard_state_counts,
) -> switchboard_status {
    with_handle(engine, |h| {
        let out = out_ptr(out, "out")?;
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(h.engine.state_counts().into()) };
        Ok(())
    })
}

/// Operators by status.
///
/// # Errors
/// `NULL_ARGUMENT`.
///
/// # Safety
/// `engine` must be a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_status_counts(
    engine: *const switchboard_engine,
    out: *mut switchboard_status_counts,
) -> switchboard_status {
    with_handle(engine, |h| {
        let out = out_ptr(out, "out")?;
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(h.engine.status_counts().into()) };
        Ok(())
    })
}

/// The wall board at the engine's current time: conversations by state,
/// operators by status, the longest wait and the bottleneck. One pass over
/// the live conversations: call it for a dashboard refresh, not inside a
/// routing loop.
///
/// # Errors
/// `NULL_ARGUMENT`.
///
/// # Safety
/// `engine` must be a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_real_time(
    engine: *const switchboard_engine,
    out: *mut switchboard_real_time,
) -> switchboard_status {
    with_handle(engine, |h| {
        let out = out_ptr(out, "out")?;
        let board = switchboard_real_time::from(&h.engine.real_time());
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(board) };
        Ok(())
    })
}

/// Position, eligible operators and estimated wait of a waiting
/// conversation. One pass over the live conversations and the roster.
///
/// # Errors
/// `NULL_ARGUMENT`, `UNKNOWN_CONVERSATION` (never arrived, or already
/// resolved or abandoned), `INVALID_TRANSITION` (live but not waiting for
/// an operator: with the bot, offered, assigned or message left).
///
/// # Safety
/// `engine` must be a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_queue_status(
    engine: *const switchboard_engine,
    conversation_id: u64,
    out: *mut switchboard_queue_status,
) -> switchboard_status {
    with_handle(engine, |h| {
        let out = out_ptr(out, "out")?;
        let id = ConversationId(conversation_id);
        let c = h
            .engine
            .conversation(id)
            .ok_or(EngineError::UnknownConversation(id))?;
        let status = h
            .engine
            .queue_status(id)
            .ok_or(EngineError::InvalidTransition {
                conversation: id,
                action: "report the queue position of",
                state: c.state,
            })?;
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(status.into()) };
        Ok(())
    })
}

/// Moves the queued decisions into `buf`, oldest first; they are handed out
/// once. Every call that applies an event (an arrival, a resolution, a tick,
/// a status change… not only `assign`) may queue decisions (an offer that
/// lapsed, an offer withdrawn, work moved back to the queue), so a host
/// drains after every call. A size query or a too-small buffer hands out
/// nothing: the decisions stay queued for the next call.
///
/// # Errors
/// `NULL_ARGUMENT`, `BUFFER_TOO_SMALL` (`*out_len` = decisions queued).
///
/// # Safety
/// `engine` must be a live handle; `buf` NULL (with `cap == 0`) or valid for
/// `cap` items; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_take_decisions(
    engine: *mut switchboard_engine,
    buf: *mut switchboard_decision,
    cap: usize,
    out_len: *mut usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        // SAFETY: caller's contract.
        unsafe {
            hand_out(
                &mut h.decisions,
                Vec::new(),
                |d| switchboard_decision::from(d),
                buf,
                cap,
                out_len,
            )
        }
    })
}

/// Moves the records of conversations that finished (resolved or abandoned)
/// since the last call into `buf`, in the order they ended; they are handed
/// out once. A size query or a too-small buffer hands out nothing: the
/// records stay for the next call.
///
/// # Errors
/// `NULL_ARGUMENT`, `BUFFER_TOO_SMALL` (`*out_len` = records waiting).
///
/// # Safety
/// `engine` must be a live handle; `buf` NULL (with `cap == 0`) or valid for
/// `cap` items; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_take_finished(
    engine: *mut switchboard_engine,
    buf: *mut switchboard_finished_conversation,
    cap: usize,
    out_len: *mut usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        // Records move from the engine to the handle (same logical state:
        // the snapshot puts them back in front), then out once they fit.
        let more = h.engine.take_finished_in_order();
        // SAFETY: caller's contract.
        unsafe {
            hand_out(
                &mut h.finished,
                more,
                |f| switchboard_finished_conversation::from(f),
                buf,
                cap,
                out_len,
            )
        }
    })
}

/// Moves the operators' activity intervals closed since the last call
/// into `buf`, in the order they closed (an interval closes when the
/// activity changes or the operator is removed); they are handed out once.
/// Feed them to `switchboard_kpi_push_status` for occupancy. Until taken
/// they stay in the handle and in its snapshots. A size query or a
/// too-small buffer hands out nothing.
///
/// # Errors
/// `NULL_ARGUMENT`, `BUFFER_TOO_SMALL` (`*out_len` = intervals waiting).
///
/// # Safety
/// `engine` must be a live handle; `buf` NULL (with `cap == 0`) or valid for
/// `cap` items; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_engine_take_status_intervals(
    engine: *mut switchboard_engine,
    buf: *mut switchboard_status_interval,
    cap: usize,
    out_len: *mut usize,
) -> switchboard_status {
    with_handle_mut(engine, |h| {
        let more = h.engine.take_status_intervals();
        // SAFETY: caller's contract.
        unsafe {
            hand_out(
                &mut h.status_intervals,
                more,
                |s| switchboard_status_interval::from(s),
                buf,
                cap,
                out_len,
            )
        }
    })
}

#[cfg(test)]
mod tests;
