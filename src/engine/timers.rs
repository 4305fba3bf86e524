//! Timers: what fires when time passes.
//!
//! Each pending timer is `(due time, Timer)` in one ordered set. Timers due
//! at the same instant fire in the order of the [`Timer`] variants below,
//! then by id: the derived `Ord` is that order, so it is written once.

use super::*;

/// A pending timer: what happens when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Timer {
    /// The operator's wrap-up ends.
    WrapUpEnds(OperatorId),
    /// The offer of the conversation lapses unanswered.
    OfferLapses(ConversationId),
    /// The operator has been away (or offline) long enough for their
    /// answered work to be moved too.
    AwayTooLong(OperatorId),
    /// The conversation's requirements change (preferred-operator wait
    /// over, an overflow step reached, a decline forgotten).
    RequirementsChange(ConversationId),
    /// The operator's hold-back (offer cool-down, throughput cap) ends.
    HoldBackEnds(OperatorId),
}

impl Engine {
    /// Fires every timer due at or before `now`, in (time, timer) order.
    /// Lapsed offers are reported as [`DecisionKind::Unassigned`] decisions.
    pub(super) fn advance_to(&mut self, now: Timestamp, out: &mut Vec<Decision>) {
        while let Some(&(t, timer)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.remove(&(t, timer));
            self.now = t;
            match timer {
                Timer::WrapUpEnds(id) => {
                    if let Some(&os) = self.op_slots.get(&id) {
                        self.op_mut(os).wrap_until = None;
                        self.refresh_op(os);
                        self.dirty_ops.insert((id, os));
                    }
                }
                Timer::OfferLapses(id) => {
                    if let Some(&cs) = self.conv_slots.get(&id) {
                        self.decline(cs, t, MoveCause::OfferExpired, out);
                    }
                }
                Timer::AwayTooLong(id) => {
                    if let Some(&os) = self.op_slots.get(&id) {
                        self.rebalance_sources.insert((id, os));
                        if !self.policy.rebalance.defer_to_rebalance {
                            self.requeue_pending.insert((id, os));
                        }
                    }
                }
                Timer::HoldBackEnds(id) => {
                    if let Some(&os) = self.op_slots.get(&id) {
                        if let Some(x) = self.op_mut(os).existing_extras() {
                            x.held_back_until = None;
                        }
                        self.refresh_op(os);
                        self.dirty_ops.insert((id, os));
                    }
                }
                Timer::RequirementsChange(id) => {
                    if let Some(&cs) = self.conv_slots.get(&id) {
                        self.unqueue(cs);
                        self.place(cs, t);
                    }
                }
            }
            self.close_activities(t);
        }
        self.now = now;
    }
}

#[cfg(test)]
mod tests {
    use super::Timer;
    use crate::ids::{ConversationId, OperatorId};

    /// Timers due together fire by kind first, then by id; the snapshot
    /// rebuilds timers, so this order is part of the recorded behaviour.
    #[test]
    fn timers_due_together_fire_by_kind_then_id() {
        let mut v = vec![
            Timer::HoldBackEnds(OperatorId(1)),
            Timer::RequirementsChange(ConversationId(1)),
            Timer::AwayTooLong(OperatorId(2)),
            Timer::AwayTooLong(OperatorId(1)),
            Timer::OfferLapses(ConversationId(9)),
            Timer::WrapUpEnds(OperatorId(5)),
        ];
        v.sort();
        assert_eq!(
            v,
            [
                Timer::WrapUpEnds(OperatorId(5)),
                Timer::OfferLapses(ConversationId(9)),
                Timer::AwayTooLong(OperatorId(1)),
                Timer::AwayTooLong(OperatorId(2)),
                Timer::RequirementsChange(ConversationId(1)),
                Timer::HoldBackEnds(OperatorId(1)),
            ]
        );
    }
}
