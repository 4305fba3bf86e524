//! Placement: the matching loop of `assign` (freed operators pull, new
//! conversations are placed), blocked-work reservations, and the decision
//! records it emits.

use super::*;

/// Lists of new or relaxed conversations up to this long are sorted in
/// place; longer ones as (key, slot) pairs, which costs an allocation.
const SORT_IN_PLACE_UP_TO: usize = 32;

impl Engine {
    #[inline]
    pub(super) fn op_can_take_now(&self, o: &Operator, ch: u8) -> bool {
        o.on.get(usize::from(ch))
            .is_some_and(|c| c.load < c.cap && self.op_can_take_over_capacity(o, ch))
    }

    /// Ready for new work on `ch` except for free capacity (direct routing
    /// above capacity to a preferred operator), up to what a load can count.
    #[inline]
    pub(super) fn op_can_take_over_capacity(&self, o: &Operator, ch: u8) -> bool {
        let Some(c) = o.on.get(usize::from(ch)) else {
            return false;
        };
        c.cap > 0
            && c.load < u16::MAX
            && self
                .closed_channels(o)
                .is_some_and(|closed| closed & (1 << ch) == 0)
    }

    /// What keeps `o` from new work whatever their load: `None` when
    /// nothing may reach them (not available, in wrap-up, held back), else
    /// the channels closed to them (kept for a reservation, or blocked by
    /// work they hold). The readiness checks all channels share.
    #[inline]
    fn closed_channels(&self, o: &Operator) -> Option<u16> {
        if o.spec.status != OperatorStatus::Available || o.wrap_until.is_some() {
            return None;
        }
        let mut closed = self.blocked_mask(o);
        if let Some(x) = o.extra.as_deref() {
            if x.held_back_until.is_some() {
                return None;
            }
            closed |= x.reserve_mask;
        }
        Some(closed)
    }

    /// The channels `o` can take new work on now, one bit each:
    /// [`Self::op_can_take_now`] for every channel at once, with the checks
    /// all channels share ([`Self::closed_channels`]) made once.
    #[inline]
    pub(super) fn ready_mask(&self, o: &Operator) -> u16 {
        let Some(off) = self.closed_channels(o) else {
            return 0;
        };
        let mut m = 0u16;
        for (ch, c) in o.on.iter().enumerate() {
            // `load < cap` also means a capacity above 0 and a load below
            // `u16::MAX`, the other two per-channel conditions.
            if c.load < c.cap {
                m |= 1 << ch;
            }
        }
        m & !off
    }

    #[inline]
    pub(super) fn blocked_mask(&self, o: &Operator) -> u16 {
        let mut m = 0;
        for (c, &b) in o.on.iter().zip(&self.block_masks) {
            if c.load > 0 {
                m |= b;
            }
        }
        m
    }

    pub(super) fn run_assign(&mut self, at: Timestamp, out: &mut Vec<Decision>) {
        // Work of operators who just became unavailable is placed now too.
        self.requeue_unavailable(out);
        // A placement can end a reservation and so free an operator again:
        // go round until nobody and nothing is left to look at.
        while !self.dirty_ops.is_empty() || !self.dirty_convs.is_empty() {
            self.pull_and_place(at, out);
        }
        debug_assert!(
            self.unplaced
                .iter()
                .all(|&s| !self.conv_at(s).is_unplaced()),
            "a conversation left unplaced"
        );
        debug_assert!(self.deciding.is_none(), "requirements kept past the pass");
        self.unplaced.clear();
    }

    /// One round of `assign`: freed operators pull, then new or relaxed
    /// conversations are placed.
    pub(super) fn pull_and_place(&mut self, at: Timestamp, out: &mut Vec<Decision>) {
        // Freed operators pull the most urgent conversation they can serve.
        while let Some(&(oid, os)) = self.dirty_ops.first() {
            let ready = self.ready_channels(os);
            if !ready.is_empty() {
                // A pull reads the buckets: everything waiting is in them.
                self.place_unplaced();
            }
            let pulls = ready.into_iter().map(|ch| self.pull_on(os, ch));
            match Pull::pick(pulls) {
                None => {
                    self.dirty_ops.remove(&(oid, os));
                    if self.any_over_capacity {
                        self.place_unplaced();
                        self.wake_preferring(oid);
                    }
                }
                Some((_, cs)) => {
                    let reserved_before = self.op_at(os).extras().reserved_for;
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
                        None if self.op_at(os).extras().reserved_for != reserved_before => {}
                        None => {
                            let c = self.conv_at(cs);
                            let route =
                                Self::route_of(self.selection_at(c.q, usize::from(c.step)).0);
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
        if list.len() <= SORT_IN_PLACE_UP_TO {
            list.sort_unstable_by_key(|&s| (self.conv_at(s).key, s));
        } else {
            // A long list (a shift change moves thousands at once) is sorted
            // as (key, slot) pairs: in place, every comparison read two
            // records scattered over the slab.
            let mut order: Vec<(QueueKey, u32)> =
                list.iter().map(|&s| (self.conv_at(s).key, s)).collect();
            order.sort_unstable();
            for (s, (_, o)) in list.iter_mut().zip(order) {
                *s = o;
            }
        }
        for &cs in &list {
            let c = self.conv_at(cs);
            if c.state != ConversationState::Waiting {
                if c.is_unplaced() {
                    self.forget_unplaced(cs);
                }
                continue;
            }
            if c.is_unplaced() {
                self.deciding = Some((cs, self.now, self.requirements_at(c, self.now)));
            }
            // Choosing may place it (a reservation reads the buckets).
            let chosen = self.choose(cs);
            let unplaced = self.conv_at(cs).is_unplaced();
            match chosen {
                Some((os, route, trainee)) => {
                    if unplaced {
                        self.forget_unplaced(cs);
                    }
                    self.decide(cs, os, route, trainee, Trigger::ConversationQueued, at, out);
                }
                // Nobody for it now: it waits in its bucket like the rest.
                None if unplaced => self.index_unplaced(cs),
                None => {}
            }
            self.deciding = None;
        }
        // Given back empty unless placing marked more, so it keeps its capacity.
        if self.dirty_convs.is_empty() {
            list.clear();
            self.dirty_convs = list;
        }
    }

    /// The operator to give a waiting conversation to. Before giving an
    /// operator work that would keep them blocked from a more urgent
    /// conversation, reserves them for that one instead and looks again
    /// (see [`BlockedWork::Reserve`]); each round reserves one more
    /// operator, so this ends.
    pub(super) fn choose(&mut self, cs: u32) -> Option<(u32, Route, bool)> {
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
    /// `os` for the most urgent such conversation. Urgent *for them*: the
    /// order they would pull in ([`Pull::pick`] over `cs` and the blocked
    /// channels), so a queue their profile serves first wins over queue
    /// order.
    pub(super) fn reserve_instead(&mut self, os: u32, cs: u32) -> bool {
        if self.policy.blocked_work != BlockedWork::Reserve {
            return false;
        }
        let c = self.conv_at(cs);
        let o = self.op_at(os);
        let blocks = self.block_masks[usize::from(c.ch)];
        let blocked_now = self.blocked_mask(o);
        if blocks & blocked_now == 0
            || o.extras().reserved_for.is_some()
            || o.spec.status != OperatorStatus::Available
            || o.wrap_until.is_some()
            || o.extras().held_back_until.is_some()
        {
            return false;
        }
        // The pulls below read the buckets: everything waiting is in them.
        self.place_unplaced();
        let (c, o) = (self.conv_at(cs), self.op_at(os));
        // `cs` as the operator would see it in a pull.
        let mut own = Pull::default();
        if c.extras().prefers == Some(o.spec.id) && !c.declined_by(o.spec.id, self.now) {
            own.preferred = Some((c.key, cs));
        }
        if let (Some(prio), Some(req)) = (self.priority_for(o, c.q), self.req_of(cs)) {
            if self.fits(o, &req) {
                own.class = Some((prio, (c.key, cs)));
            }
        }
        let mut pulls: SmallVec<[Pull; 4]> = SmallVec::new();
        pulls.push(own);
        for x in 0..self.policy.channels.len() as u8 {
            let xi = usize::from(x);
            if blocks & blocked_now & (1 << x) == 0 || o.on[xi].load >= o.on[xi].cap {
                continue;
            }
            pulls.push(self.pull_on(os, x));
        }
        match Pull::pick(pulls) {
            Some((_, blocked))
                if blocked != cs && self.conv_at(blocked).extras().reserved_by.is_none() =>
            {
                self.reserve(os, blocked);
                true
            }
            _ => false,
        }
    }

    /// Reserves operator `os` for waiting conversation `cs`: no new work on
    /// the channels that block it until it is taken or leaves the queue.
    pub(super) fn reserve(&mut self, os: u32, cs: u32) {
        let x = self.conv_at(cs).ch;
        let mask = (0..self.policy.channels.len())
            .filter(|&j| self.block_masks[j] & (1 << x) != 0)
            .fold(0u16, |m, j| m | 1 << j);
        let cid = self.conv_at(cs).spec.id;
        let o = self.op_mut(os);
        let oid = o.spec.id;
        let x = o.extras_mut();
        x.reserved_for = Some(cid);
        x.reserve_mask = mask;
        self.conv_mut(cs).extras_mut().reserved_by = Some(oid);
        self.refresh_op(os);
    }

    /// Ends operator `os`'s reservation, if any; they may take blocking work
    /// again (and are looked at in the next `assign`).
    pub(super) fn unreserve(&mut self, os: u32) {
        let o = self.op_mut(os);
        let oid = o.spec.id;
        let Some(x) = o.existing_extras() else {
            return;
        };
        let Some(cid) = x.reserved_for.take() else {
            return;
        };
        x.reserve_mask = 0;
        if let Some(&cs) = self.conv_slots.get(&cid) {
            if let Some(x) = self.conv_mut(cs).existing_extras() {
                x.reserved_by = None;
            }
        }
        self.refresh_op(os);
        self.dirty_ops.insert((oid, os));
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide(
        &mut self,
        cs: u32,
        os: u32,
        route: Route,
        trainee: bool,
        trigger: Trigger,
        at: Timestamp,
        out: &mut Vec<Decision>,
    ) {
        let c = self.conv_at(cs);
        let q = usize::from(c.q);
        let o = self.op_at(os);
        let matched_by = |req: &Req| -> SmallVec<[SkillMatch; 2]> {
            req.skills()
                .iter()
                .map(|s| SkillMatch {
                    skill: s.skill,
                    required: s.level,
                    level: o.level(s.skill),
                })
                .collect()
        };
        // A waiting conversation's bucket holds its requirements in force
        // (every change re-places it); otherwise they are worked out.
        let (matched, step_now) = match c
            .bucket
            .get()
            .filter(|_| self.matching == Matching::Indexed)
        {
            Some(b) => (matched_by(&self.buckets.buckets[b as usize].req), c.step),
            None => {
                let r = self.requirements_of(cs, at);
                (matched_by(&r.req), r.step)
            }
        };
        let (selection, _) = self.selection_at(q as u16, usize::from(step_now));
        let ring = *selection == Selection::Ring;
        let share = match selection {
            Selection::SkillDevelopment {
                demanding_skills,
                share_permille,
            } if route != Route::PreferredOperator && self.is_demanding(cs, demanding_skills) => {
                Some(*share_permille)
            }
            _ => None,
        };
        if let Some(share) = share {
            let credit = &mut self.trainee_credit[q];
            *credit = credit.saturating_add(u32::from(share));
            if trainee {
                *credit = credit.saturating_sub(1000);
            }
        }
        let c = self.conv_at(cs);
        let waited = at.since(c.asked_at.get().unwrap_or(at));
        let (conversation, channel, tier, step) = (c.spec.id, c.spec.channel, c.spec.tier, c.step);
        let queue = c.spec.queue;
        let offers = self.queues[q].offers;
        self.unqueue(cs);
        let how = match offers {
            Some(_) => Handover::Offer,
            None => Handover::Assign,
        };
        let (load_before, capacity) = self.hand_over(cs, os, at, how);
        if let Some(cap) = self.policy.throughput_cap {
            let picks = &mut self.op_mut(os).extras_mut().recent_picks;
            picks.push_back(at);
            if picks.len() > cap.max_assignments as usize {
                picks.pop_front();
            }
            if picks.len() == cap.max_assignments as usize {
                let until = picks[0] + cap.window;
                if until > at {
                    self.hold_back(os, until);
                }
            }
        }
        if ring {
            self.ring_pointer[q] = Some(self.op_at(os).spec.id);
        }
        let kind = match offers {
            Some(offers) => {
                let expires_at = at + offers.timeout;
                self.set_state(cs, ConversationState::Offered);
                self.conv_mut(cs).extras_mut().offer_expires_at = Some(expires_at);
                self.timers
                    .insert((expires_at, Timer::OfferLapses(conversation)));
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
            queue,
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

    pub(super) fn is_demanding(&self, cs: u32, demanding: &[SkillId]) -> bool {
        self.conv_at(cs)
            .spec
            .skills
            .iter()
            .any(|s| demanding.contains(&s.skill))
    }

    pub(super) fn ready_channels(&self, os: u32) -> SmallVec<[u8; 4]> {
        let o = self.op_at(os);
        match self.matching {
            Matching::Indexed => o.keys.iter().filter(|k| k.1 == 0).map(|k| k.0).collect(),
            Matching::Scan => (0..self.policy.channels.len() as u8)
                .filter(|&ch| self.op_can_take_now(o, ch))
                .collect(),
        }
    }

    pub(super) fn is_ready(&self, os: u32, ch: u8) -> bool {
        match self.matching {
            Matching::Indexed => self.op_at(os).ready_on(ch),
            Matching::Scan => self.op_can_take_now(self.op_at(os), ch),
        }
    }
}
