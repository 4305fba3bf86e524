//! What a supervisor's wall board shows right now, and what a waiting
//! customer asks: "how long will I wait?".
//!
//! These are queries, not routing decisions: each makes one pass over the
//! live conversations (and, for the estimate, the roster), so call them for
//! a dashboard refresh, not inside a routing loop.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::{Engine, StateCounts, StatusCounts};
use crate::ids::{ConversationId, OperatorId, QueueId};
use crate::model::{ConversationState, OperatorStatus};
use crate::time::{Millis, Timestamp};

/// The real-time picture.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RealTime {
    /// When.
    pub at: Timestamp,
    /// With the bot / waiting / offered / with an operator / message left.
    pub conversations: StateCounts,
    /// Operators by status.
    pub operators: StatusCounts,
    /// The longest current wait for an operator, and whose.
    pub longest_wait: Option<(ConversationId, Millis)>,
    /// The bottleneck now: the operator holding the oldest unanswered
    /// conversation (assigned or offered, no reply yet), and how long that
    /// customer has waited since asking.
    pub bottleneck: Option<(OperatorId, ConversationId, Millis)>,
    /// One line per queue: the default queue first, then the declared
    /// queues in policy order.
    pub queues: Vec<QueueNow>,
}

/// A queue's part of the real-time picture.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct QueueNow {
    /// The queue (`None`: the default queue).
    pub queue: Option<QueueId>,
    /// Waiting for an operator.
    pub waiting: u32,
    /// Offered, not accepted yet.
    pub offered: u32,
    /// With an operator (assigned or replied).
    pub with_operator: u32,
    /// The longest current wait in this queue, and whose.
    pub longest_wait: Option<(ConversationId, Millis)>,
}

/// Where a waiting conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct QueueStatus {
    /// 1-based position in routing order among waiting conversations on the
    /// same channel.
    pub position: u32,
    /// Logged-in (available) operators whose skills, levels and team fit it.
    pub eligible_operators: u32,
    /// Their total capacity on the channel.
    pub eligible_slots: u32,
    /// Their free capacity on the channel right now.
    pub free_slots: u32,
    /// Estimated wait from now; `None` when no logged-in operator fits it.
    pub estimated_wait: Option<Millis>,
    /// Its queue (`None`: the default queue).
    pub queue: Option<QueueId>,
    /// 1-based position in routing order among waiting conversations of
    /// the same queue on the same channel.
    pub queue_position: u32,
}

impl Engine {
    /// The real-time picture at the engine's current time.
    pub fn real_time(&self) -> RealTime {
        let now = self.now;
        let mut longest: Option<(Timestamp, u64, ConversationId)> = None;
        let mut bottleneck: Option<(Timestamp, u64, ConversationId, OperatorId)> = None;
        let mut queues: Vec<(QueueNow, Option<(Timestamp, u64)>)> = self
            .queues
            .iter()
            .map(|q| {
                let line = QueueNow {
                    queue: q.id,
                    waiting: 0,
                    offered: 0,
                    with_operator: 0,
                    longest_wait: None,
                };
                (line, None)
            })
            .collect();
        for c in self.convs.iter().flatten() {
            let Some(asked) = c.asked_at.get() else {
                continue;
            };
            let (line, oldest) = &mut queues[usize::from(c.q)];
            match c.state {
                ConversationState::Waiting => {
                    line.waiting += 1;
                    if oldest.is_none_or(|o| (asked, c.seq()) < o) {
                        *oldest = Some((asked, c.seq()));
                        line.longest_wait = Some((c.spec.id, now.since(asked)));
                    }
                }
                ConversationState::Offered => line.offered += 1,
                ConversationState::Assigned | ConversationState::Responded => {
                    line.with_operator += 1;
                }
                _ => {}
            }
            let older = |b: Option<(Timestamp, u64)>| b.is_none_or(|b| (asked, c.seq()) < b);
            match (c.state, c.holder()) {
                (ConversationState::Waiting, _) if older(longest.map(|l| (l.0, l.1))) => {
                    longest = Some((asked, c.seq(), c.spec.id));
                }
                (ConversationState::Assigned | ConversationState::Offered, Some(h))
                    if older(bottleneck.map(|b| (b.0, b.1))) =>
                {
                    bottleneck = Some((asked, c.seq(), c.spec.id, h));
                }
                _ => {}
            }
        }
        RealTime {
            at: now,
            conversations: self.state_counts,
            operators: self.status_counts,
            longest_wait: longest.map(|(a, _, id)| (id, now.since(a))),
            bottleneck: bottleneck.map(|(a, _, id, op)| (op, id, now.since(a))),
            queues: queues.into_iter().map(|(l, _)| l).collect(),
        }
    }

    /// Position and estimated wait of a waiting conversation.
    ///
    /// The estimator (documented so hosts can show it honestly): with `S`
    /// the total channel capacity of available operators who fit the
    /// conversation, `F` their free capacity now, `k` the conversations
    /// ahead of it on the channel and `H` the mean handle time of the last
    /// conversations resolved on the channel (an exponentially weighted
    /// average, weight 1/8, started at the first resolution), the wait is
    /// `0` if `k < F`, else `(k − F + 1) · H / S`. It assumes every
    /// conversation ahead competes for the same operators and that a slot
    /// frees every `H / S` on average; the simulator measures its error.
    /// `None` if the conversation is not waiting.
    pub fn queue_status(&self, conversation: ConversationId) -> Option<QueueStatus> {
        let c = self.conv_ref(conversation)?;
        if c.state != ConversationState::Waiting {
            return None;
        }
        // One pass: ahead on the channel, and of those, in the same queue.
        let (mut position, mut queue_position) = (1u32, 1u32);
        for x in self.convs.iter().flatten() {
            if x.state == ConversationState::Waiting && x.ch == c.ch && x.key < c.key {
                position += 1;
                queue_position += u32::from(x.q == c.q);
            }
        }
        let r = self.requirements_at(c, self.now);
        let (req, in_wait) = (r.req, r.in_wait);
        let (mut n, mut slots, mut free) = (0u32, 0u32, 0u32);
        for o in self.operators.iter().flatten() {
            let fits = if in_wait {
                c.extras().prefers == Some(o.spec.id)
            } else {
                self.fits(o, &req) || c.extras().prefers == Some(o.spec.id)
            };
            let ch = c.ch as usize;
            if !fits || o.spec.status != OperatorStatus::Available || o.on[ch].cap == 0 {
                continue;
            }
            n += 1;
            slots += u32::from(o.on[ch].cap);
            if self.op_can_take_now(o, c.ch) {
                free += u32::from(o.on[ch].cap - o.on[ch].load);
            }
        }
        let ahead = position - 1;
        let handle = self.handle_ewma.get(c.ch as usize).copied().unwrap_or(0);
        let estimated_wait = (slots > 0).then(|| {
            if ahead < free {
                Millis::ZERO
            } else {
                Millis(u64::from(ahead - free + 1) * handle / u64::from(slots))
            }
        });
        Some(QueueStatus {
            position,
            eligible_operators: n,
            eligible_slots: slots,
            free_slots: free,
            estimated_wait,
            queue: c.spec.queue,
            queue_position,
        })
    }
}
