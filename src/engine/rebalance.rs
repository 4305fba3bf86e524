//! Moving work that is already assigned: offers that are not accepted,
//! operators who go away or offline, capacity cuts, and load skew.
//!
//! Only conversations nobody has answered yet move, unless the operator has
//! been away or offline longer than
//! [`crate::policy::RebalancePolicy::reassign_responded_after_away`]; replied
//! conversations otherwise stay with the operator who answered, so nothing is
//! ever orphaned: every live conversation is held or queued. A moved
//! conversation keeps its original place in the queue (ask time and arrival
//! sequence), so it is not sent to the back of the line.

use super::{Decision, Engine, MoveCause, Timer, Trigger};
use crate::ids::OperatorId;
use crate::model::{ConversationState, OperatorStatus};
use crate::time::{Millis, Timestamp};

impl Engine {
    /// Moves conversations that should move (see [`crate::engine::Event::Rebalance`]),
    /// then matches as [`Engine::assign`] does. Decisions come in this order:
    /// every `Unassigned` move, then the assignments.
    ///
    /// Triggers, all from the time passed in:
    /// * operators who went **away** or **offline** since the last rebalance:
    ///   their unanswered conversations (assigned or offered, no reply yet)
    ///   move; replied ones stay unless the operator has been unavailable
    ///   longer than `reassign_responded_after_away` (a timer, visible in
    ///   `next_deadline`, brings them back to the next rebalance);
    /// * **capacity cuts** below the load (when `on_capacity_cut` is on):
    ///   unanswered conversations, most recently assigned first, until under;
    /// * **load skew** (when `skew_margin_permille` is set): see below.
    ///
    /// Load skew: per channel, while the most loaded available operator's
    /// load ratio exceeds the least loaded one's by more than the margin, one
    /// of their unanswered conversations (most urgent first) moves to the
    /// best eligible operator by the selection strategy whose ratio is more
    /// than the margin below, provided the move does not create a skew the
    /// other way. Each move lowers the highest ratio, so the number of moves
    /// is the fewest this greedy order needs; a conversation moved for skew
    /// is never moved for skew again (no ping-pong across calls).
    /// `max_moves` caps the moves of one call; the rest wait for the next.
    ///
    /// # Errors
    /// [`crate::engine::EngineError::TimeWentBackwards`] or
    /// [`crate::engine::EngineError::TimestampOutOfRange`].
    pub fn rebalance(
        &mut self,
        now: Timestamp,
    ) -> Result<Vec<Decision>, crate::engine::EngineError> {
        self.apply(super::Event::Rebalance { at: now })
    }

    pub(super) fn cancel_offer(&mut self, cs: u32) {
        let c = self.conv_mut(cs);
        let id = c.spec.id;
        if let Some(t) = c.existing_extras().and_then(|x| x.offer_expires_at.take()) {
            self.timers.remove(&(t, Timer::OfferLapses(id)));
        }
    }

    /// The operator accepts: from now on the conversation is answered
    /// (`assigned_at` is the acceptance time, which ends the customer's wait).
    pub(super) fn accept(&mut self, cs: u32, operator: OperatorId, at: Timestamp) {
        self.cancel_offer(cs);
        self.set_state(cs, ConversationState::Assigned);
        let c = self.conv_mut(cs);
        c.assigned_at.set(Some(at));
        c.first_assigned_at.get_or_insert(at);
        if let Some(&os) = self.op_slots.get(&operator) {
            if let Some(x) = self.op_mut(os).existing_extras() {
                x.missed_in_a_row = 0;
            }
        }
    }

    /// An offer rejected or lapsed: the conversation waits again (keeping
    /// its place) and is not offered to this operator again unless the
    /// policy allows; the operator may be set away after too many misses.
    /// A missed offer never starts wrap-up; the policy's cool-down after a
    /// reject or a miss holds the operator back from new work.
    pub(super) fn decline(
        &mut self,
        cs: u32,
        at: Timestamp,
        cause: MoveCause,
        out: &mut Vec<Decision>,
    ) {
        let Some(holder) = self.conv_at(cs).holder() else {
            return;
        };
        let Some(&os) = self.op_slots.get(&holder) else {
            return;
        };
        // The offer rules of the conversation's queue.
        let offers = self.queues[usize::from(self.conv_at(cs).q)].offers;
        let reoffer = offers.is_some_and(|o| o.reoffer_declined);
        let away_after = offers.map_or(0, |o| o.away_after_missed);
        let cooldown = offers.map_or(Millis::ZERO, |o| match cause {
            MoveCause::OfferRejected => o.cooldown_after_reject,
            _ => o.cooldown_after_miss,
        });
        let forget = offers.and_then(|o| o.forget_decline_after).map(|d| at + d);
        self.cancel_offer(cs);
        let c = self.conv_mut(cs);
        c.extras_mut().missed_offers += 1;
        if !reoffer {
            match c.extras_mut().declined.iter_mut().find(|d| d.0 == holder) {
                // A decline for the whole wait stays one.
                Some(d) => {
                    d.1 = match (d.1, forget) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    }
                }
                None => c.extras_mut().declined.push((holder, forget)),
            }
        }
        self.take_away(cs, os, at, cause, out);
        let o = self.op_mut(os);
        o.extras_mut().missed_in_a_row += 1;
        if away_after > 0
            && o.extras().missed_in_a_row >= away_after
            && o.spec.status == OperatorStatus::Available
        {
            self.set_status(at, holder, OperatorStatus::Away);
        }
        if cooldown > Millis::ZERO {
            self.hold_back(os, at + cooldown);
        }
    }

    /// Takes a held conversation from its operator back to the queue, with
    /// its original priority, and reports it.
    pub(super) fn take_away(
        &mut self,
        cs: u32,
        os: u32,
        at: Timestamp,
        cause: MoveCause,
        out: &mut Vec<Decision>,
    ) {
        self.take_back(cs, os, at, cause, out);
        self.place(cs, self.now);
    }

    /// [`Engine::take_away`] up to the placing: the conversation waits
    /// again but is not yet in its bucket. A skew move decides it again at
    /// once, and `decide` would take it straight out of the bucket.
    fn take_back(
        &mut self,
        cs: u32,
        os: u32,
        at: Timestamp,
        cause: MoveCause,
        out: &mut Vec<Decision>,
    ) {
        if self.conv_at(cs).state == ConversationState::Offered {
            if !matches!(cause, MoveCause::OfferExpired | MoveCause::OfferRejected) {
                self.remember_ended_offer(cs, self.op_at(os).spec.id, cause);
            }
            self.cancel_offer(cs);
        }
        // Load and capacity as they were before the move.
        let d = self.unassigned(cs, os, at, cause);
        self.release(cs);
        self.unhold(cs);
        self.conv_mut(cs).extras_mut().moves += 1;
        out.push(d);
    }

    pub(super) fn run_rebalance(
        &mut self,
        at: Timestamp,
        only: Option<u32>,
        out: &mut Vec<Decision>,
    ) {
        self.causes += 1;
        let mut budget = self
            .policy
            .rebalance
            .max_moves
            .map_or(usize::MAX, |m| m as usize);
        let sources: Vec<(OperatorId, u32)> = match only {
            Some(os) => vec![(self.op_at(os).spec.id, os)],
            None => std::mem::take(&mut self.rebalance_sources)
                .into_iter()
                .collect(),
        };
        for (oid, os) in sources {
            let o = self.op_at(os);
            let away_long = self
                .policy
                .rebalance
                .reassign_responded_after_away
                .is_some_and(|x| {
                    o.spec.status != OperatorStatus::Available && o.status_since + x <= at
                });
            let (cause, responded_too) = match (only, o.spec.status) {
                (Some(_), _) => (MoveCause::Requested, false),
                (None, OperatorStatus::Available) => (MoveCause::CapacityCut, false),
                (None, _) if away_long => (MoveCause::AwayTooLong, true),
                (None, OperatorStatus::Offline) => (MoveCause::OperatorOffline, false),
                (None, OperatorStatus::Away) => (MoveCause::OperatorAway, false),
            };
            // Away operators stay a source while replied work may still move later.
            // The reference scan places them at once, as it always did: the
            // differential tests and DST compare the two.
            let later = self.matching == super::Matching::Indexed;
            if self.move_unanswered(os, cause, responded_too, later, at, &mut budget, out) {
                self.rebalance_sources.insert((oid, os));
            }
        }
        if let Some(margin) = self.policy.rebalance.skew_margin_permille {
            self.skew_pass(at, margin, &mut budget, out);
        }
        self.run_assign(at, out);
    }

    /// Moves operator `os`'s unanswered conversations (and replied ones when
    /// `responded_too`) back to the queue, most urgent first, for `cause`;
    /// a capacity cut moves only the most recent ones until under capacity;
    /// with `later`, they are placed by the assignment pass that ends the
    /// rebalance ([`Engine::place_later`]). Returns whether the budget ran
    /// out before all had moved.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn move_unanswered(
        &mut self,
        os: u32,
        cause: MoveCause,
        responded_too: bool,
        later: bool,
        at: Timestamp,
        budget: &mut usize,
        out: &mut Vec<Decision>,
    ) -> bool {
        let o = self.op_at(os);
        let oid = o.spec.id;
        let movable = |s: ConversationState| {
            matches!(s, ConversationState::Assigned | ConversationState::Offered)
                || (responded_too && s == ConversationState::Responded)
        };
        let mut picked: Vec<(super::index::QueueKey, u32)> = Vec::new();
        if cause == MoveCause::CapacityCut {
            // Most recently assigned first, only until under capacity.
            let mut over = [0u16; crate::model::MAX_CHANNELS];
            for (x, c) in over.iter_mut().zip(o.on.iter()) {
                *x = c.load.saturating_sub(c.cap);
            }
            for h in o.held.iter().rev() {
                let cs = self.conv_slots[h];
                let c = self.conv_at(cs);
                if movable(c.state) && over[c.ch as usize] > 0 {
                    over[c.ch as usize] -= 1;
                    picked.push((c.key, cs));
                }
            }
        } else {
            for h in &o.held {
                let cs = self.conv_slots[h];
                let c = self.conv_at(cs);
                if movable(c.state) {
                    picked.push((c.key, cs));
                }
            }
        }
        picked.sort_unstable();
        for (_, cs) in picked {
            if *budget == 0 {
                return true;
            }
            *budget -= 1;
            if cause == MoveCause::Requested {
                // Never routed back to the operator the host took it from.
                let c = self.conv_mut(cs);
                match c.extras_mut().declined.iter_mut().find(|d| d.0 == oid) {
                    Some(d) => d.1 = None,
                    None => c.extras_mut().declined.push((oid, None)),
                }
            }
            if later {
                self.take_back(cs, os, at, cause, out);
                self.place_later(cs);
            } else {
                self.take_away(cs, os, at, cause, out);
            }
        }
        false
    }

    /// Puts the unanswered work of operators who became unavailable during
    /// this input back in the queue (their replied work too once away longer
    /// than `reassign_responded_after_away`), each move reported. Runs after
    /// the input's own effect, so an event validated against the state
    /// before its timers fired still finds its conversation where it was.
    pub(super) fn requeue_unavailable(&mut self, out: &mut Vec<Decision>) {
        while let Some((oid, os)) = self.requeue_pending.pop_first() {
            let at = self.now;
            let Some(o) = self.operators.get(os as usize).and_then(|o| o.as_ref()) else {
                continue;
            };
            if o.spec.id != oid || o.spec.status == OperatorStatus::Available {
                continue;
            }
            let away_long = self
                .policy
                .rebalance
                .reassign_responded_after_away
                .is_some_and(|x| o.status_since + x <= at);
            let cause = match o.spec.status {
                _ if away_long => MoveCause::AwayTooLong,
                OperatorStatus::Offline => MoveCause::OperatorOffline,
                _ => MoveCause::OperatorAway,
            };
            self.rebalance_sources.remove(&(oid, os));
            let mut budget = usize::MAX;
            self.move_unanswered(os, cause, away_long, false, at, &mut budget, out);
        }
    }

    /// Load ratio of `load / cap` with 32 fractional bits (exact ordering).
    fn ratio(load: u16, cap: u16) -> u64 {
        (u64::from(load) << 32) / u64::from(cap.max(1))
    }

    fn skew_pass(
        &mut self,
        at: Timestamp,
        margin_permille: u16,
        budget: &mut usize,
        out: &mut Vec<Decision>,
    ) {
        let margin = (u64::from(margin_permille) << 32) / 1000;
        let cause = self.causes;
        for ch in 0..self.load_index.len() {
            'again: while *budget > 0 {
                let Some(&(low, _, _)) = self.load_index[ch].first() else {
                    break;
                };
                // Most loaded first; stop at the first operator within the
                // margin. Walked one entry at a time (usually the top one
                // moves), never collected: a full pass stays O(moves · log n).
                let mut next = self.load_index[ch].last().copied();
                while let Some((ra, aid, aslot)) = next {
                    if ra.saturating_sub(low) <= margin {
                        break;
                    }
                    if self.move_one_for_skew(ch as u8, ra, aid, aslot, margin, cause, at, out) {
                        *budget -= 1;
                        continue 'again;
                    }
                    next = self.load_index[ch]
                        .range(..(ra, aid, aslot))
                        .next_back()
                        .copied();
                }
                break;
            }
        }
    }

    /// Moves one unanswered conversation of operator `a` on channel `ch`
    /// to a much less loaded eligible operator; false if none can move.
    #[allow(clippy::too_many_arguments)]
    fn move_one_for_skew(
        &mut self,
        ch: u8,
        ra: u64,
        aid: OperatorId,
        aslot: u32,
        margin: u64,
        cause: u64,
        at: Timestamp,
        out: &mut Vec<Decision>,
    ) -> bool {
        // Inline: an operator rarely holds more than a handful on a channel,
        // and this runs once per move.
        let mut mine: smallvec::SmallVec<[(super::index::QueueKey, u32); 16]> = self
            .op_at(aslot)
            .held
            .iter()
            .filter_map(|h| {
                let cs = *self.conv_slots.get(h)?;
                let c = self.conv_at(cs);
                // A returning customer stays with the operator they asked
                // for, even when direct routing put that operator above
                // capacity and so at the top of the skew order.
                (c.ch == ch
                    && c.state == ConversationState::Assigned
                    && c.extras().last_move_cause == 0
                    && c.spec.preferred_operator != Some(aid))
                .then_some((c.key, cs))
            })
            .collect();
        mine.sort_unstable();
        let (la, ca) = {
            let a = self.op_at(aslot);
            (a.on[ch as usize].load, a.on[ch as usize].cap)
        };
        for (_, cs) in mine {
            let r = self.requirements_at(self.conv_at(cs), at);
            self.want_facets(&r.req);
            let Some(bslot) = self.best_other(&r.req, r.step, aid) else {
                continue;
            };
            let b = self.op_at(bslot);
            let (lb, cb) = (b.on[ch as usize].load, b.on[ch as usize].cap);
            let rb = Self::ratio(lb, cb);
            let after_b = Self::ratio(lb + 1, cb);
            let after_a = Self::ratio(la.saturating_sub(1), ca);
            if ra.saturating_sub(rb) <= margin || after_b.saturating_sub(after_a) > margin {
                continue;
            }
            self.conv_mut(cs).extras_mut().last_move_cause = cause;
            // Not placed in its bucket: `decide` would take it out again.
            // What placing would have left behind is set here: the overflow
            // step and preferred wait in force (its key, timer and bucket
            // end as `decide` leaves them either way). Placing also marked
            // it for the next assignment pass, which drops it again as no
            // longer waiting; the skew pass runs only inside
            // `run_rebalance`, which ends with that pass.
            self.take_back(cs, aslot, at, MoveCause::LoadSkew, out);
            let now = self.requirements_at(self.conv_at(cs), self.now);
            let c = self.conv_mut(cs);
            c.step = now.step;
            c.in_wait = now.in_wait;
            let route = Self::route_of(self.selection_at(r.req.queue, usize::from(r.step)).0);
            self.decide(cs, bslot, route, false, Trigger::Rebalance, at, out);
            return true;
        }
        false
    }

    /// The best ready operator for `req` other than `not`, by the selection order.
    fn best_other(&self, req: &super::index::Req, step: u8, not: OperatorId) -> Option<u32> {
        let req = req.excluding(not);
        let (selection, kind) = self.selection_at(req.queue, usize::from(step));
        let ring = match selection {
            crate::policy::Selection::Ring => self.ring_pointer[usize::from(req.queue)],
            _ => None,
        };
        match self.matching {
            super::Matching::Indexed => self.by_plan(&req, kind, ring),
            super::Matching::Scan => self.scan_select(&req, super::Order::Key, kind, ring),
        }
    }

    /// Keeps the operator's entries in the per-channel load-ratio index.
    pub(super) fn refresh_load(&mut self, slot: u32) {
        let nch = self.policy.channels.len();
        if self.load_index.len() < nch {
            self.load_index.resize_with(nch, Default::default);
        }
        for ch in 0..nch as u8 {
            let o = self.op_at(slot);
            let c = ch as usize;
            let new = (o.spec.status == OperatorStatus::Available && o.on[c].cap > 0)
                .then(|| Self::ratio(o.on[c].load, o.on[c].cap));
            let old = o.skew_keys.iter().find(|k| k.0 == ch).map(|k| k.1);
            if new == old {
                continue;
            }
            let id = o.spec.id;
            if let Some(r) = old {
                self.load_index[c].remove(&(r, id, slot));
            }
            if let Some(r) = new {
                self.load_index[c].insert((r, id, slot));
            }
            let o = self.op_mut(slot);
            o.skew_keys.retain(|k| k.0 != ch);
            if let Some(r) = new {
                o.skew_keys.push((ch, r));
            }
        }
    }

    pub(super) fn unindex_load(&mut self, slot: u32) {
        let keys = std::mem::take(&mut self.op_mut(slot).skew_keys);
        let id = self.op_at(slot).spec.id;
        for (ch, r) in keys {
            if let Some(set) = self.load_index.get_mut(ch as usize) {
                set.remove(&(r, id, slot));
            }
        }
    }
}
