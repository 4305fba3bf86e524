//! Snapshots: the engine's whole state as data, so a host can stop, restore
//! and replay the rest of its event log into exactly the state (and the
//! decisions) it would have had without stopping.
//!
//! A [`Snapshot`] holds only the entities and counters; the indexes are
//! rebuilt on [`Engine::restore`]. It serialises with serde, and has its own
//! canonical byte encoding ([`Snapshot::to_bytes`]): little-endian, lists in
//! id order, a format version up front and a checksum at the end, so equal
//! states give equal bytes on every platform. [`Engine::state_hash`] hashes
//! those bytes: replicas compare one number instead of whole snapshots.
//!
//! # Example
//!
//! ```
//! use switchboard::engine::Snapshot;
//! use switchboard::prelude::*;
//!
//! let policy = Policy::builder()
//!     .channel(ChannelSpec::new(ChannelId(1), "chat"))
//!     .tier(TierSpec::new(TierId(1), "all", 1))
//!     .build()?;
//! let mut engine = Engine::new(policy)?;
//! engine.apply(Event::OperatorAdded {
//!     at: Timestamp(0),
//!     operator: OperatorSpec::new(OperatorId(1)).status(OperatorStatus::Available).capacity(ChannelId(1), 2),
//! })?;
//! let bytes = engine.snapshot().to_bytes();
//! let restored = Engine::restore(Snapshot::from_bytes(&bytes)?)?;
//! assert_eq!(restored.state_hash(), engine.state_hash());
//! # Ok::<(), switchboard::Error>(())
//! ```

use smallvec::SmallVec;
use thiserror::Error;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::EngineError;
use super::{ConvExtras, Conversation, Engine, MoveCause, Operator, push_slot};
use crate::codec::{CodecError, Reader, Writer, byte_codes, fnv1a};
use crate::ids::{
    ChannelId, ConversationId, OperatorId, ProfileId, QueueId, SkillId, TeamId, TierId,
};
use crate::model::{
    ChannelCapacity, ConversationSpec, ConversationState, OperatorSpec, OperatorStatus, SkillLevel,
};
use crate::policy::{Policy, PolicyError};
use crate::record::{Activity, Finished, FlatFinished, StatusInterval};
use crate::time::{Millis, Timestamp};

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 5;

const MAGIC: &[u8; 4] = b"SWBS";

/// Why a snapshot could not be read or restored. Restoring never leaves a
/// half-built engine: it either returns a whole engine or this error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The bytes end before the snapshot does.
    #[error("snapshot is truncated: needed {needed} more bytes at offset {offset}")]
    Truncated {
        /// Where reading stopped.
        offset: usize,
        /// How many more bytes were needed.
        needed: usize,
    },
    /// Not a switchboard snapshot.
    #[error("not a switchboard snapshot (bad magic bytes)")]
    BadMagic,
    /// Written by a newer (or unknown) format version.
    #[error("snapshot format version {found} is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// Version in the bytes.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The checksum does not match: the bytes were altered.
    #[error("snapshot checksum mismatch: the bytes are corrupted")]
    Corrupted,
    /// A field holds a value that cannot be decoded.
    #[error("snapshot field `{field}` has an invalid value at offset {offset}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// Where.
        offset: usize,
    },
    /// Bytes left over after the snapshot.
    #[error("{0} unexpected bytes after the snapshot")]
    TrailingBytes(usize),
    /// The policy inside is invalid.
    #[error("snapshot policy is invalid: {0}")]
    Policy(#[from] PolicyError),
    /// An operator or conversation inside is invalid.
    #[error("snapshot entity is invalid: {0}")]
    Entity(#[from] EngineError),
    /// The entities contradict each other.
    #[error("snapshot is inconsistent: {what} (id {id})")]
    Inconsistent {
        /// What does not add up.
        what: &'static str,
        /// The operator or conversation id concerned.
        id: u64,
    },
}

/// The codec's errors in this format's words: a length beyond the bytes
/// left is an invalid `length` field at its prefix.
impl From<CodecError> for SnapshotError {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Truncated { offset, needed } => SnapshotError::Truncated { offset, needed },
            CodecError::LengthOverrun { prefix, .. } => SnapshotError::InvalidField {
                field: "length",
                offset: prefix,
            },
            CodecError::NotUtf8 { offset } => SnapshotError::InvalidField {
                field: "string",
                offset,
            },
            CodecError::Invalid { what, offset } => SnapshotError::InvalidField {
                field: what,
                offset,
            },
            CodecError::Trailing { left, .. } => SnapshotError::TrailingBytes(left),
        }
    }
}

/// One operator's state in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct OperatorSnapshot {
    /// As described by the host (skills and teams sorted).
    pub spec: OperatorSpec,
    /// Conversations held, in the order received.
    pub held: Vec<ConversationId>,
    /// In wrap-up until then.
    pub wrap_until: Option<Timestamp>,
    /// Added to the roster.
    pub added_at: Timestamp,
    /// Last became available.
    pub available_since: Timestamp,
    /// Last conversation ended.
    pub last_ended_at: Timestamp,
    /// Last received a conversation.
    pub last_assigned_at: Timestamp,
    /// Pick sequence number of the last assignment (or of joining).
    pub last_pick: u64,
    /// Pick sequence of the last assignment per channel (channels never picked on are left out).
    pub picks_on: Vec<(ChannelId, u64)>,
    /// Last status change.
    pub status_since: Timestamp,
    /// Offers missed or rejected in a row.
    pub missed_in_a_row: u32,
    /// Held back from new work until then (offer cool-down, throughput cap).
    pub held_back_until: Option<Timestamp>,
    /// Times of the most recent picks counted by the throughput cap, oldest first.
    pub recent_picks: Vec<Timestamp>,
    /// Gained room since the last `assign`.
    pub dirty: bool,
    /// A rebalance should look at this operator's work.
    pub rebalance_source: bool,
    /// Reserved for this waiting conversation (blocked work).
    pub reserved_for: Option<ConversationId>,
    /// Since when they have been doing what they do now (the open activity
    /// interval; the activity itself follows from the rest).
    pub activity_since: Timestamp,
    /// Conversations handled since joining or the last reset.
    #[cfg_attr(feature = "serde", serde(default))]
    pub handled: u64,
}

/// A declared queue's own counters (the default queue's are the
/// snapshot's `trainee_credit` and `ring_pointer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct QueueCounters {
    /// The queue.
    pub queue: QueueId,
    /// Skill-development credit, in ‰.
    pub trainee_credit: u32,
    /// The operator picked last under ring selection.
    pub ring_pointer: Option<OperatorId>,
}

/// One live conversation's state in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ConversationSnapshot {
    /// As described by the host.
    pub spec: ConversationSpec,
    /// Lifecycle state.
    pub state: ConversationState,
    /// Bot conversation start (or ask).
    pub started_at: Timestamp,
    /// Ask for an operator.
    pub asked_at: Option<Timestamp>,
    /// Overflow steps are measured from here.
    pub routing_since: Timestamp,
    /// Arrival sequence number.
    pub seq: u64,
    /// End of the preferred-operator wait.
    pub preferred_until: Option<Timestamp>,
    /// Preferred operator it is queued for.
    pub prefers: Option<OperatorId>,
    /// Holder.
    pub holder: Option<OperatorId>,
    /// First offer.
    pub first_offered_at: Option<Timestamp>,
    /// First accepted assignment.
    pub first_assigned_at: Option<Timestamp>,
    /// Current holder's assignment (accepted).
    pub assigned_at: Option<Timestamp>,
    /// First reply.
    pub first_response_at: Option<Timestamp>,
    /// Message left.
    pub message_left_at: Option<Timestamp>,
    /// Transfers.
    pub transfers: u32,
    /// Team it was last targeted at.
    pub last_team: Option<TeamId>,
    /// When a pending offer lapses.
    pub offer_expires_at: Option<Timestamp>,
    /// Operators who declined it, and until when that keeps them from being
    /// offered it again (`None`: the whole wait).
    pub declined: Vec<(OperatorId, Option<Timestamp>)>,
    /// Offers missed.
    pub missed_offers: u32,
    /// Rebalance moves.
    pub moves: u32,
    /// The rebalance cause that last moved it.
    pub last_move_cause: u64,
    /// Entered or changed routing since the last `assign`.
    pub dirty: bool,
}

/// The engine's whole state, without its indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Snapshot {
    /// [`SNAPSHOT_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The policy.
    pub policy: Policy,
    /// Latest time seen.
    pub now: Timestamp,
    /// Inputs applied.
    pub inputs: u64,
    /// Arrival sequence counter.
    pub arrivals: u64,
    /// Pick sequence counter.
    pub picks: u64,
    /// Skill-development credit, in ‰.
    pub trainee_credit: u32,
    /// Rebalance cause counter.
    pub causes: u64,
    /// The operator picked last under ring selection.
    pub ring_pointer: Option<OperatorId>,
    /// The declared queues' counters, in policy order.
    #[cfg_attr(feature = "serde", serde(default))]
    pub queue_counters: Vec<QueueCounters>,
    /// Per channel index: mean recent handle time in ms (wait estimates).
    pub handle_ewma: Vec<u64>,
    /// Operators, by id.
    pub operators: Vec<OperatorSnapshot>,
    /// Live conversations, by id.
    pub conversations: Vec<ConversationSnapshot>,
    /// Finished conversations not yet taken by the host, in order.
    pub finished: Vec<Finished>,
    /// Offers withdrawn or moved before their lapse, remembered until then
    /// so a late answer is refused with the reason, by (conversation, operator).
    pub ended_offers: Vec<EndedOffer>,
    /// Operators' activity intervals not yet taken by the host, in order.
    pub status_intervals: Vec<StatusInterval>,
}

/// An offer that ended before it lapsed, other than by an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct EndedOffer {
    /// The conversation offered.
    pub conversation: ConversationId,
    /// The operator it was offered to.
    pub operator: OperatorId,
    /// When the offer would have lapsed.
    pub lapse: Timestamp,
    /// Why it ended.
    pub cause: MoveCause,
}

impl Engine {
    /// The engine's state as data. Equal states give equal snapshots
    /// (entities are listed in id order).
    pub fn snapshot(&self) -> Snapshot {
        let mut operators: Vec<OperatorSnapshot> = self
            .operators
            .iter()
            .enumerate()
            .filter_map(|(slot, o)| {
                let o = o.as_ref()?;
                Some(OperatorSnapshot {
                    spec: o.spec.clone(),
                    held: o.held.to_vec(),
                    wrap_until: o.wrap_until,
                    added_at: o.added_at,
                    available_since: o.available_since,
                    last_ended_at: o.last_ended_at,
                    last_assigned_at: o.last_assigned_at,
                    last_pick: o.last_pick,
                    picks_on: self
                        .policy
                        .channels
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| o.on[*i].pick != 0)
                        .map(|(i, c)| (c.id, o.on[i].pick))
                        .collect(),
                    status_since: o.status_since,
                    missed_in_a_row: o.extras().missed_in_a_row,
                    held_back_until: o.extras().held_back_until,
                    recent_picks: o.extras().recent_picks.iter().copied().collect(),
                    dirty: self.dirty_ops.contains(&(o.spec.id, slot as u32)),
                    rebalance_source: self.rebalance_sources.contains(&(o.spec.id, slot as u32)),
                    reserved_for: o.extras().reserved_for,
                    activity_since: o.activity_since,
                    handled: o.handled,
                })
            })
            .collect();
        operators.sort_unstable_by_key(|o| o.spec.id);
        let mut conversations: Vec<ConversationSnapshot> = self
            .convs
            .iter()
            .flatten()
            .map(|c| ConversationSnapshot {
                spec: c.spec.clone(),
                state: c.state,
                started_at: c.started_at,
                asked_at: c.asked_at.get(),
                routing_since: c.routing_since,
                seq: c.seq(),
                preferred_until: c.extras().preferred_until,
                prefers: c.extras().prefers,
                holder: c.holder(),
                first_offered_at: c.extras().first_offered_at,
                first_assigned_at: c.first_assigned_at.get(),
                assigned_at: c.assigned_at.get(),
                first_response_at: c.first_response_at.get(),
                message_left_at: c.extras().message_left_at,
                transfers: c.extras().transfers,
                last_team: c.last_team(),
                offer_expires_at: c.extras().offer_expires_at,
                declined: c.extras().declined.to_vec(),
                missed_offers: c.extras().missed_offers,
                moves: c.extras().moves,
                last_move_cause: c.extras().last_move_cause,
                dirty: c.dirty,
            })
            .collect();
        conversations.sort_unstable_by_key(|c| c.spec.id);
        Snapshot {
            format_version: SNAPSHOT_FORMAT_VERSION,
            policy: self.policy.clone(),
            now: self.now,
            inputs: self.inputs,
            arrivals: self.arrivals,
            picks: self.picks,
            trainee_credit: self.trainee_credit[0],
            causes: self.causes,
            ring_pointer: self.ring_pointer[0],
            queue_counters: self
                .queues
                .iter()
                .enumerate()
                .skip(1)
                .filter_map(|(i, q)| {
                    Some(QueueCounters {
                        queue: q.id?,
                        trainee_credit: self.trainee_credit[i],
                        ring_pointer: self.ring_pointer[i],
                    })
                })
                .collect(),
            handle_ewma: self.handle_ewma.clone(),
            operators,
            conversations,
            finished: self.finished.clone(),
            ended_offers: self
                .ended_offers
                .iter()
                .map(|(&(conversation, operator), &(lapse, cause))| EndedOffer {
                    conversation,
                    operator,
                    lapse,
                    cause,
                })
                .collect(),
            status_intervals: self.status_log.clone(),
        }
    }

    /// Rebuilds an engine from a snapshot. Continuing it with the rest of
    /// the event log gives the same decisions as never having stopped.
    ///
    /// # Errors
    /// [`SnapshotError`] if the snapshot is from an unsupported version, its
    /// policy or entities are invalid, or they contradict each other (a
    /// holder that does not hold, a load that does not add up…).
    pub fn restore(snapshot: Snapshot) -> Result<Engine, SnapshotError> {
        if snapshot.format_version != SNAPSHOT_FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                found: snapshot.format_version,
                supported: SNAPSHOT_FORMAT_VERSION,
            });
        }
        let mut e = Engine::new(snapshot.policy)?;
        e.check_time(snapshot.now)?;
        check_consistency(
            &e,
            snapshot.now,
            &snapshot.operators,
            &snapshot.conversations,
        )?;
        e.now = snapshot.now;
        e.inputs = snapshot.inputs;
        e.arrivals = snapshot.arrivals;
        e.picks = snapshot.picks;
        e.trainee_credit[0] = snapshot.trainee_credit;
        e.causes = snapshot.causes;
        e.ring_pointer[0] = snapshot.ring_pointer;
        for qc in &snapshot.queue_counters {
            let q = usize::from(e.queue_index(qc.queue)?);
            e.trainee_credit[q] = qc.trainee_credit;
            e.ring_pointer[q] = qc.ring_pointer;
        }
        if snapshot.handle_ewma.len() > e.policy.channels.len() {
            return Err(SnapshotError::Inconsistent {
                what: "more handle-time averages than channels",
                id: 0,
            });
        }
        e.handle_ewma = snapshot.handle_ewma;
        e.finished = snapshot.finished;
        for s in &snapshot.status_intervals {
            if s.start >= s.end || s.end > e.now {
                return Err(SnapshotError::Inconsistent {
                    what: "an activity interval that is empty or ends after now",
                    id: s.operator.0,
                });
            }
        }
        e.status_log = snapshot.status_intervals;
        for x in snapshot.ended_offers {
            if x.lapse <= e.now {
                return Err(SnapshotError::Inconsistent {
                    what: "an ended offer past its lapse is still remembered",
                    id: x.conversation.0,
                });
            }
            if e.ended_offers
                .insert((x.conversation, x.operator), (x.lapse, x.cause))
                .is_some()
            {
                return Err(SnapshotError::Inconsistent {
                    what: "an ended offer listed twice",
                    id: x.conversation.0,
                });
            }
            e.ended_offer_times
                .insert((x.lapse, x.conversation, x.operator));
        }
        // Conversations first, so operator loads can be rebuilt from them.
        // Restored slabs are sized exactly.
        e.convs.reserve_exact(snapshot.conversations.len());
        for cs in snapshot.conversations {
            let ch = e.channel_idx.get(&cs.spec.channel).copied().unwrap_or(0);
            let q = e.queue_of_spec(&cs.spec);
            // Only conversations that asked for an operator have a queue key
            // (a waiting one's follows its steps when it is placed).
            // Its sequence is the key's last part, kept as it was even for
            // one that never asked (a snapshot may say so).
            let key = match cs.asked_at {
                Some(asked) => e.queue_key(cs.spec.tier, q, asked, cs.seq, 0),
                None => (0, 0, cs.seq),
            };
            let mut conv = Conversation::new(cs.spec, ch, q, cs.started_at);
            conv.state = cs.state;
            conv.asked_at = cs.asked_at.into();
            conv.routing_since = cs.routing_since;
            conv.key = key;
            conv.set_holder(cs.holder);
            conv.first_assigned_at = cs.first_assigned_at.into();
            conv.assigned_at = cs.assigned_at.into();
            conv.first_response_at = cs.first_response_at.into();
            conv.set_last_team(cs.last_team);
            conv.extra = Conversation::extras_from(ConvExtras {
                preferred_until: cs.preferred_until,
                prefers: cs.prefers,
                first_offered_at: cs.first_offered_at,
                message_left_at: cs.message_left_at,
                transfers: cs.transfers,
                offer_expires_at: cs.offer_expires_at,
                declined: cs.declined,
                reserved_by: None,
                missed_offers: cs.missed_offers,
                moves: cs.moves,
                last_move_cause: cs.last_move_cause,
            });
            let id = conv.spec.id;
            let state = conv.state;
            let dirty = cs.dirty;
            let slot = push_slot(&mut e.convs, Some(conv));
            e.conv_slots.insert(id, slot);
            e.count_restored(state);
            if state == ConversationState::Waiting {
                e.place(slot, e.now);
            }
            if let Some(t) = e.conv_at(slot).extras().offer_expires_at {
                e.timers.insert((t, super::Timer::OfferLapses(id)));
            }
            // `place` marks conversations dirty; the snapshot says which are.
            e.dirty_convs.clear();
            e.conv_mut(slot).dirty = dirty;
        }
        let dirty_convs: Vec<u32> = e
            .convs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.as_ref().is_some_and(|c| c.dirty))
            .map(|(s, _)| s as u32)
            .collect();
        e.dirty_convs = dirty_convs;
        // Restored slabs are sized exactly.
        e.operators.reserve_exact(snapshot.operators.len());
        for os in snapshot.operators {
            let mut on = super::OnChannel::none(e.policy.channels.len());
            for c in &os.spec.capacity {
                if let Some(&i) = e.channel_idx.get(&c.channel) {
                    on[i as usize].cap = c.capacity;
                }
            }
            if let (false, Some(x)) = (
                os.spec.status == OperatorStatus::Available,
                e.policy.rebalance.reassign_responded_after_away,
            ) {
                if os.status_since + x > e.now {
                    e.timers
                        .insert((os.status_since + x, super::Timer::AwayTooLong(os.spec.id)));
                }
            }
            for h in &os.held {
                if let Some(&cs) = e.conv_slots.get(h) {
                    let ch = e.conv_at(cs).ch as usize;
                    on[ch].load = on[ch].load.saturating_add(1);
                }
            }
            for (c, p) in &os.picks_on {
                match e.channel_idx.get(c) {
                    Some(&i) => on[i as usize].pick = *p,
                    None => return Err(SnapshotError::Entity(EngineError::UnknownChannel(*c))),
                }
            }
            let id = os.spec.id;
            *e.status_slot(os.spec.status) += 1;
            if let Some(w) = os.wrap_until {
                e.timers.insert((w, super::Timer::WrapUpEnds(id)));
            }
            if let Some(h) = os.held_back_until {
                e.timers.insert((h, super::Timer::HoldBackEnds(id)));
            }
            let op = Operator {
                profile: e.profile_slot(os.spec.profile),
                handled: os.handled,
                open: os.held.len() as u32,
                held: os.held.into_iter().collect(),
                spec: os.spec,
                on,
                wrap_until: os.wrap_until,
                added_at: os.added_at,
                available_since: os.available_since,
                last_ended_at: os.last_ended_at,
                last_assigned_at: os.last_assigned_at,
                last_pick: os.last_pick,
                status_since: os.status_since,
                extra: Operator::extras_from(super::OpExtras {
                    missed_in_a_row: os.missed_in_a_row,
                    held_back_until: os.held_back_until,
                    recent_picks: os.recent_picks.into_iter().collect(),
                    reserved_for: None,
                    reserve_mask: 0,
                }),
                activity: Activity::Offline,
                activity_since: os.activity_since,
                touched: false,
                keys: SmallVec::new(),
                members: SmallVec::new(),
                skill_bits: 0,
                skew_keys: Vec::new(),
            };
            let op = op.settled();
            let slot = push_slot(&mut e.operators, Some(op));
            e.op_slots.insert(id, slot);
            e.count_unprofiled(e.op_at(slot).profile, 1);
            if let Some(cid) = os.reserved_for {
                // Checked by `check_consistency`: a waiting conversation
                // nobody else reserved.
                let cs = e.conv_slots[&cid];
                e.reserve(slot, cs);
            }
            e.refresh_op(slot);
            if os.dirty {
                e.dirty_ops.insert((id, slot));
            }
            if os.rebalance_source {
                e.rebalance_sources.insert((id, slot));
            }
        }
        Ok(e)
    }

    /// A stable 64-bit hash of the state (FNV-1a over the canonical bytes):
    /// the same state gives the same value on every platform and run.
    pub fn state_hash(&self) -> u64 {
        fnv1a(&self.snapshot().to_bytes())
    }
}

/// Validate-then-build: every cross-reference is checked before the engine
/// is assembled, so a crafted snapshot can never make it panic later.
fn check_consistency(
    e: &Engine,
    now: Timestamp,
    ops: &[OperatorSnapshot],
    convs: &[ConversationSnapshot],
) -> Result<(), SnapshotError> {
    use hashbrown::HashMap;
    let bad = |what: &'static str, id: u64| SnapshotError::Inconsistent { what, id };
    let mut op_index: HashMap<OperatorId, &OperatorSnapshot> = HashMap::new();
    for o in ops {
        e.check_operator_spec(&o.spec)?;
        if op_index.insert(o.spec.id, o).is_some() {
            return Err(bad("operator listed twice", o.spec.id.0));
        }
        let cap = e
            .policy
            .throughput_cap
            .map_or(0, |c| c.max_assignments as usize);
        if o.recent_picks.len() > cap {
            return Err(bad(
                "more recent picks than the throughput cap keeps",
                o.spec.id.0,
            ));
        }
        if o.recent_picks.windows(2).any(|w| w[0] > w[1]) {
            return Err(bad("recent picks out of order", o.spec.id.0));
        }
        if o.activity_since > now || o.activity_since < o.added_at {
            return Err(bad(
                "activity since before joining or after now",
                o.spec.id.0,
            ));
        }
        if o.recent_picks.last().is_some_and(|&p| p > now) {
            return Err(bad("a recent pick later than the snapshot", o.spec.id.0));
        }
        if o.held_back_until.is_some_and(|h| h <= now) {
            return Err(bad("a hold-back that has already ended", o.spec.id.0));
        }
        // A full window still open must hold the operator back until it ends.
        if let (Some(c), Some(&first)) = (e.policy.throughput_cap, o.recent_picks.first()) {
            let ends = first + c.window;
            if o.recent_picks.len() == c.max_assignments as usize
                && ends > now
                && o.held_back_until.is_none_or(|h| h < ends)
            {
                return Err(bad(
                    "the throughput cap is reached but the operator is not held back",
                    o.spec.id.0,
                ));
            }
        }
    }
    let mut conv_index: HashMap<ConversationId, &ConversationSnapshot> = HashMap::new();
    for c in convs {
        e.check_conversation_spec(&c.spec)?;
        if conv_index.insert(c.spec.id, c).is_some() {
            return Err(bad("conversation listed twice", c.spec.id.0));
        }
        let id = c.spec.id.0;
        if matches!(
            c.state,
            ConversationState::Resolved | ConversationState::Abandoned
        ) {
            return Err(bad("an ended conversation is listed as live", id));
        }
        if c.state.is_held() != c.holder.is_some() {
            return Err(bad("holder does not match the state", id));
        }
        if c.state != ConversationState::WithBot && c.asked_at.is_none() {
            return Err(bad("a routed conversation has no ask time", id));
        }
        // Event times: the engine stores them compactly and never accepts
        // one beyond the largest timestamp.
        if [
            c.asked_at,
            c.first_assigned_at,
            c.assigned_at,
            c.first_response_at,
        ]
        .into_iter()
        .flatten()
        .any(|t| t > Timestamp::MAX)
        {
            return Err(bad("a conversation time beyond the largest timestamp", id));
        }
        // Deadlines are such a time plus a policy duration (each at most
        // Timestamp::MAX); the requirement timer is one of them.
        let latest = Timestamp(2 * Timestamp::MAX.0);
        if c.preferred_until.is_some_and(|u| u > latest)
            || c.declined.iter().any(|d| d.1.is_some_and(|u| u > latest))
        {
            return Err(bad(
                "a conversation deadline beyond the largest timestamp",
                id,
            ));
        }
        if (c.state == ConversationState::Offered) != c.offer_expires_at.is_some() {
            return Err(bad("offer expiry does not match the state", id));
        }
        if let Some(h) = c.holder {
            let Some(o) = op_index.get(&h) else {
                return Err(bad("held by an unknown operator", id));
            };
            if !o.held.contains(&c.spec.id) {
                return Err(bad("holder does not list the conversation", id));
            }
        }
        if let Some(p) = c.prefers {
            if !op_index.contains_key(&p) {
                return Err(bad("prefers an unknown operator", id));
            }
        }
    }
    for o in ops {
        for (i, h) in o.held.iter().enumerate() {
            if o.held[..i].contains(h) {
                return Err(bad("a conversation is held twice", o.spec.id.0));
            }
            match conv_index.get(h) {
                Some(c) if c.holder == Some(o.spec.id) => {}
                _ => return Err(bad("holds a conversation that is not its own", o.spec.id.0)),
            }
        }
        if let Some(r) = o.reserved_for {
            match conv_index.get(&r) {
                Some(c) if c.state == ConversationState::Waiting => {}
                _ => {
                    return Err(bad(
                        "reserved for a conversation that is not waiting",
                        o.spec.id.0,
                    ));
                }
            }
            if o.spec.status != OperatorStatus::Available {
                return Err(bad("an unavailable operator is reserved", o.spec.id.0));
            }
            if ops
                .iter()
                .filter(|x| x.reserved_for == Some(r))
                .nth(1)
                .is_some()
            {
                return Err(bad("a conversation reserved twice", r.0));
            }
        }
        if o.held.len() > usize::from(u16::MAX) {
            return Err(bad(
                "holds more conversations than a load can count",
                o.spec.id.0,
            ));
        }
    }
    Ok(())
}

// ----- canonical bytes ------------------------------------------------------

impl Snapshot {
    /// The canonical bytes: magic, format version, body, FNV-1a checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(256);
        w.bytes(MAGIC);
        w.u32(self.format_version);
        self.encode(&mut w);
        let sum = fnv1a(w.as_bytes());
        w.u64(sum);
        w.into_bytes()
    }

    /// Reads canonical bytes.
    ///
    /// # Errors
    /// [`SnapshotError`]: truncated, bad magic, unsupported version,
    /// checksum mismatch, an undecodable field, or trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        if bytes.len() < 4 + 4 + 8 {
            return Err(SnapshotError::Truncated {
                offset: bytes.len(),
                needed: 16 - bytes.len(),
            });
        }
        if &bytes[..4] != MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        let mut r = Reader::new(bytes);
        r.take(MAGIC.len())?;
        let version = r.u32()?;
        if version != SNAPSHOT_FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                found: version,
                supported: SNAPSHOT_FORMAT_VERSION,
            });
        }
        let body_end = bytes.len() - 8;
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&bytes[body_end..]);
        if fnv1a(&bytes[..body_end]) != u64::from_le_bytes(sum) {
            return Err(SnapshotError::Corrupted);
        }
        let mut r = Reader::new(&bytes[..body_end]);
        // Past the magic and the version, read above.
        r.take(MAGIC.len() + 4)?;
        let s = Snapshot::decode(&mut r, version)?;
        r.finish()?;
        Ok(s)
    }

    fn encode(&self, w: &mut Writer) {
        self.policy.encode(w);
        w.u64(self.now.0);
        w.u64(self.inputs);
        w.u64(self.arrivals);
        w.u64(self.picks);
        w.u32(self.trainee_credit);
        w.u64(self.causes);
        w.opt_u64(self.ring_pointer.map(|o| o.0));
        w.list(&self.queue_counters, |w, q| {
            w.u32(q.queue.0);
            w.u32(q.trainee_credit);
            w.opt_u64(q.ring_pointer.map(|o| o.0));
        });
        w.len(self.handle_ewma.len());
        for h in &self.handle_ewma {
            w.u64(*h);
        }
        w.len(self.operators.len());
        for o in &self.operators {
            encode_operator_spec(w, &o.spec);
            w.len(o.held.len());
            for h in &o.held {
                w.u64(h.0);
            }
            w.opt_ts(o.wrap_until);
            w.u64(o.added_at.0);
            w.u64(o.available_since.0);
            w.u64(o.last_ended_at.0);
            w.u64(o.last_assigned_at.0);
            w.u64(o.last_pick);
            w.len(o.picks_on.len());
            for (c, p) in &o.picks_on {
                w.u32(c.0);
                w.u64(*p);
            }
            w.u64(o.status_since.0);
            w.u32(o.missed_in_a_row);
            w.opt_ts(o.held_back_until);
            w.len(o.recent_picks.len());
            for t in &o.recent_picks {
                w.u64(t.0);
            }
            w.bool(o.dirty);
            w.bool(o.rebalance_source);
            w.opt_u64(o.reserved_for.map(|c| c.0));
            w.u64(o.activity_since.0);
            w.u64(o.handled);
        }
        w.len(self.conversations.len());
        for c in &self.conversations {
            encode_conversation_spec(w, &c.spec);
            w.u8(c.state.code());
            w.u64(c.started_at.0);
            w.opt_ts(c.asked_at);
            w.u64(c.routing_since.0);
            w.u64(c.seq);
            w.opt_ts(c.preferred_until);
            w.opt_u64(c.prefers.map(|o| o.0));
            w.opt_u64(c.holder.map(|o| o.0));
            w.opt_ts(c.first_offered_at);
            w.opt_ts(c.first_assigned_at);
            w.opt_ts(c.assigned_at);
            w.opt_ts(c.first_response_at);
            w.opt_ts(c.message_left_at);
            w.u32(c.transfers);
            w.opt_u64(c.last_team.map(|t| u64::from(t.0)));
            w.opt_ts(c.offer_expires_at);
            w.len(c.declined.len());
            for (o, until) in &c.declined {
                w.u64(o.0);
                w.opt_ts(*until);
            }
            w.u32(c.missed_offers);
            w.u32(c.moves);
            w.u64(c.last_move_cause);
            w.bool(c.dirty);
        }
        w.len(self.finished.len());
        for f in &self.finished {
            let f = FlatFinished::of(f);
            w.u64(f.id.0);
            w.u32(f.channel.0);
            w.u32(f.tier.0);
            w.opt_u64(f.team.map(|t| u64::from(t.0)));
            w.opt_u64(f.queue.map(|q| u64::from(q.0)));
            w.opt_u64(f.operator.map(|o| o.0));
            w.u64(f.started_at.0);
            w.opt_ts(f.asked_at);
            w.opt_ts(f.offered_at);
            w.opt_ts(f.assigned_at);
            w.opt_ts(f.first_response_at);
            w.opt_ts(f.resolved_at);
            w.opt_ts(f.abandoned_at);
            w.opt_ts(f.message_left_at);
            w.u32(f.transfers);
            w.u32(f.missed_offers);
        }
        w.len(self.status_intervals.len());
        for s in &self.status_intervals {
            w.u64(s.operator.0);
            w.u8(s.status.code());
            w.u64(s.start.0);
            w.u64(s.end.0);
        }
        w.len(self.ended_offers.len());
        for x in &self.ended_offers {
            w.u64(x.conversation.0);
            w.u64(x.operator.0);
            w.u64(x.lapse.0);
            w.u8(x.cause.code());
        }
    }

    /// Every length is checked as at least one byte per item (`len(1)`),
    /// as this format always has: a tighter bound would change which error
    /// damaged bytes give.
    fn decode(r: &mut Reader<'_>, version: u32) -> Result<Snapshot, SnapshotError> {
        let policy = Policy::decode(r)?;
        let now = Timestamp(r.u64()?);
        let inputs = r.u64()?;
        let arrivals = r.u64()?;
        let picks = r.u64()?;
        let trainee_credit = r.u32()?;
        let causes = r.u64()?;
        let ring_pointer = r.opt_u64()?.map(OperatorId);
        let queue_counters = r.list(1, |r| {
            Ok(QueueCounters {
                queue: QueueId(r.u32()?),
                trainee_credit: r.u32()?,
                ring_pointer: r.opt_u64()?.map(OperatorId),
            })
        })?;
        let n = r.len(1)?;
        let mut handle_ewma = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            handle_ewma.push(r.u64()?);
        }
        let n = r.len(1)?;
        let mut operators = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let spec = decode_operator_spec(r)?;
            let m = r.len(1)?;
            let mut held = Vec::with_capacity(m.min(1024));
            for _ in 0..m {
                held.push(ConversationId(r.u64()?));
            }
            operators.push(OperatorSnapshot {
                spec,
                held,
                wrap_until: r.opt_ts()?,
                added_at: Timestamp(r.u64()?),
                available_since: Timestamp(r.u64()?),
                last_ended_at: Timestamp(r.u64()?),
                last_assigned_at: Timestamp(r.u64()?),
                last_pick: r.u64()?,
                picks_on: {
                    let n = r.len(1)?;
                    let mut v = Vec::with_capacity(n.min(64));
                    for _ in 0..n {
                        v.push((ChannelId(r.u32()?), r.u64()?));
                    }
                    v
                },
                status_since: Timestamp(r.u64()?),
                missed_in_a_row: r.u32()?,
                held_back_until: r.opt_ts()?,
                recent_picks: {
                    let n = r.len(1)?;
                    let mut v = Vec::with_capacity(n.min(1024));
                    for _ in 0..n {
                        v.push(Timestamp(r.u64()?));
                    }
                    v
                },
                dirty: r.bool()?,
                rebalance_source: r.bool()?,
                reserved_for: r.opt_u64()?.map(ConversationId),
                activity_since: Timestamp(r.u64()?),
                handled: r.u64()?,
            });
        }
        let n = r.len(1)?;
        let mut conversations = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let spec = decode_conversation_spec(r)?;
            let state = r.code("state", ConversationState::from_code)?;
            let started_at = Timestamp(r.u64()?);
            let asked_at = r.opt_ts()?;
            let routing_since = Timestamp(r.u64()?);
            let seq = r.u64()?;
            let preferred_until = r.opt_ts()?;
            let prefers = r.opt_u64()?.map(OperatorId);
            let holder = r.opt_u64()?.map(OperatorId);
            let first_offered_at = r.opt_ts()?;
            let first_assigned_at = r.opt_ts()?;
            let assigned_at = r.opt_ts()?;
            let first_response_at = r.opt_ts()?;
            let message_left_at = r.opt_ts()?;
            let transfers = r.u32()?;
            let last_team = r.opt_narrow::<u32>("id")?.map(TeamId);
            let offer_expires_at = r.opt_ts()?;
            let m = r.len(1)?;
            let mut declined = Vec::with_capacity(m.min(1024));
            for _ in 0..m {
                declined.push((OperatorId(r.u64()?), r.opt_ts()?));
            }
            conversations.push(ConversationSnapshot {
                spec,
                state,
                started_at,
                asked_at,
                routing_since,
                seq,
                preferred_until,
                prefers,
                holder,
                first_offered_at,
                first_assigned_at,
                assigned_at,
                first_response_at,
                message_left_at,
                transfers,
                last_team,
                offer_expires_at,
                declined,
                missed_offers: r.u32()?,
                moves: r.u32()?,
                last_move_cause: r.u64()?,
                dirty: r.bool()?,
            });
        }
        let n = r.len(1)?;
        let mut finished = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let f = FlatFinished {
                id: ConversationId(r.u64()?),
                channel: ChannelId(r.u32()?),
                tier: TierId(r.u32()?),
                team: r.opt_narrow::<u32>("id")?.map(TeamId),
                queue: r.opt_narrow::<u32>("id")?.map(QueueId),
                operator: r.opt_u64()?.map(OperatorId),
                started_at: Timestamp(r.u64()?),
                asked_at: r.opt_ts()?,
                offered_at: r.opt_ts()?,
                assigned_at: r.opt_ts()?,
                first_response_at: r.opt_ts()?,
                resolved_at: r.opt_ts()?,
                abandoned_at: r.opt_ts()?,
                message_left_at: r.opt_ts()?,
                transfers: r.u32()?,
                missed_offers: r.u32()?,
            };
            let id = f.id.0;
            finished.push(
                f.into_finished()
                    .map_err(|what| SnapshotError::Inconsistent { what, id })?,
            );
        }
        let n = r.len(1)?;
        let mut status_intervals = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            status_intervals.push(StatusInterval {
                operator: OperatorId(r.u64()?),
                status: r.code("status_intervals[].status", Activity::from_code)?,
                start: Timestamp(r.u64()?),
                end: Timestamp(r.u64()?),
            });
        }
        let n = r.len(1)?;
        let mut ended_offers = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let conversation = ConversationId(r.u64()?);
            let operator = OperatorId(r.u64()?);
            let lapse = Timestamp(r.u64()?);
            let cause = r.code("ended_offers[].cause", MoveCause::from_code)?;
            ended_offers.push(EndedOffer {
                conversation,
                operator,
                lapse,
                cause,
            });
        }
        Ok(Snapshot {
            format_version: version,
            policy,
            now,
            inputs,
            arrivals,
            picks,
            trainee_credit,
            causes,
            ring_pointer,
            queue_counters,
            handle_ewma,
            operators,
            conversations,
            finished,
            ended_offers,
            status_intervals,
        })
    }
}

// Snapshot codes: one table each, so encoder and decoder cannot disagree.
byte_codes!(MoveCause {
    0 => OperatorAway,
    1 => OperatorOffline,
    2 => AwayTooLong,
    3 => LoadSkew,
    4 => CapacityCut,
    5 => Requested,
    6 => OfferExpired,
    7 => OfferRejected,
    8 => Withdrawn,
    9 => OperatorRemoved,
});

byte_codes!(OperatorStatus {
    0 => Available,
    1 => Away,
    2 => Offline,
});

byte_codes!(Activity {
    0 => Busy,
    1 => Idle,
    2 => Away,
    3 => Offline,
});

byte_codes!(ConversationState {
    0 => WithBot,
    1 => Waiting,
    2 => Offered,
    3 => Assigned,
    4 => Responded,
    5 => MessageLeft,
    6 => Resolved,
    7 => Abandoned,
});

fn encode_operator_spec(w: &mut Writer, s: &OperatorSpec) {
    w.u64(s.id.0);
    w.u8(s.status.code());
    w.len(s.capacity.len());
    for c in &s.capacity {
        w.u32(c.channel.0);
        w.u16(c.capacity);
    }
    w.len(s.skills.len());
    for k in &s.skills {
        w.u32(k.skill.0);
        w.u8(k.level);
    }
    w.len(s.teams.len());
    for t in &s.teams {
        w.u32(t.0);
    }
    w.opt_u64(s.wrap_up.map(|m| m.0));
    w.opt_u64(s.profile.map(|p| u64::from(p.0)));
}

fn decode_operator_spec(r: &mut Reader<'_>) -> Result<OperatorSpec, SnapshotError> {
    let id = OperatorId(r.u64()?);
    let status = r.code("operator.status", OperatorStatus::from_code)?;
    let mut spec = OperatorSpec::new(id).status(status);
    for _ in 0..r.len(1)? {
        spec.capacity.push(ChannelCapacity {
            channel: ChannelId(r.u32()?),
            capacity: r.u16()?,
        });
    }
    for _ in 0..r.len(1)? {
        spec.skills.push(SkillLevel {
            skill: SkillId(r.u32()?),
            level: r.u8()?,
        });
    }
    for _ in 0..r.len(1)? {
        spec.teams.push(TeamId(r.u32()?));
    }
    spec.wrap_up = r.opt_u64()?.map(Millis);
    spec.profile = r.opt_narrow::<u32>("id")?.map(ProfileId);
    Ok(spec)
}

fn encode_conversation_spec(w: &mut Writer, s: &ConversationSpec) {
    w.u64(s.id.0);
    w.u32(s.channel.0);
    w.u32(s.tier.0);
    w.len(s.skills.len());
    for k in &s.skills {
        w.u32(k.skill.0);
        w.u8(k.level);
    }
    w.opt_u64(s.team.map(|t| u64::from(t.0)));
    w.opt_u64(s.preferred_operator.map(|o| o.0));
    w.opt_u64(s.queue.map(|q| u64::from(q.0)));
}

fn decode_conversation_spec(r: &mut Reader<'_>) -> Result<ConversationSpec, SnapshotError> {
    let mut spec = ConversationSpec::new(
        ConversationId(r.u64()?),
        ChannelId(r.u32()?),
        TierId(r.u32()?),
    );
    for _ in 0..r.len(1)? {
        spec.skills.push(SkillLevel {
            skill: SkillId(r.u32()?),
            level: r.u8()?,
        });
    }
    spec.team = r.opt_narrow::<u32>("id")?.map(TeamId);
    spec.preferred_operator = r.opt_u64()?.map(OperatorId);
    spec.queue = r.opt_narrow::<u32>("id")?.map(QueueId);
    Ok(spec)
}
