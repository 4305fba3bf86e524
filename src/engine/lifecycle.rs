//! Lifecycle transitions, run only after validation: operators join, change
//! and leave; conversations arrive, are handed over, resolved, transferred
//! and finished into records.

use super::*;

impl Engine {
    /// Forgets ended offers whose lapse time has come: from then on a late
    /// answer would have been refused as lapsed anyway.
    pub(super) fn forget_ended_offers(&mut self, now: Timestamp) {
        while let Some(&(t, c, o)) = self.ended_offer_times.first() {
            if t > now {
                break;
            }
            self.ended_offer_times.remove(&(t, c, o));
            self.ended_offers.remove(&(c, o));
        }
    }

    /// Remembers an offer that ended other than by an answer or a lapse.
    pub(super) fn remember_ended_offer(&mut self, cs: u32, operator: OperatorId, cause: MoveCause) {
        let c = self.conv_at(cs);
        let (id, Some(lapse)) = (c.spec.id, c.extras().offer_expires_at) else {
            return;
        };
        if let Some((old, _)) = self.ended_offers.insert((id, operator), (lapse, cause)) {
            self.ended_offer_times.remove(&(old, id, operator));
        }
        self.ended_offer_times.insert((lapse, id, operator));
    }

    pub(super) fn execute(&mut self, event: Event, out: &mut Vec<Decision>) {
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
            Event::OperatorProfileChanged {
                operator, profile, ..
            } => {
                let p = self.profile_slot(profile);
                let old = self.op_ref(operator).map_or(p, |o| o.profile);
                self.count_unprofiled(old, -1);
                self.count_unprofiled(p, 1);
                self.change_operator(operator, |o| {
                    o.spec.profile = profile;
                    o.profile = p;
                })
            }
            Event::HandledCountsReset { .. } => self.reset_handled(),
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
                self.finish(s, Ending::Abandoned(at));
            }
            Event::MessageLeft { at, conversation } => {
                let s = self.conv_slots[&conversation];
                self.unqueue(s);
                let c = self.conv_mut(s);
                c.extras_mut().message_left_at = Some(at);
                // Out of routing: the preference no longer applies.
                c.clear_preference();
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
            // `apply_into` hands it to `change_policy` before validation:
            // it replaces the whole state rather than changing a part.
            Event::PolicyChanged { .. } => {}
        }
    }

    pub(super) fn count_restored(&mut self, state: ConversationState) {
        if let Some(n) = count_slot(&mut self.state_counts, state) {
            *n += 1;
        }
    }

    pub(super) fn set_state(&mut self, slot: u32, to: ConversationState) {
        let from = self.conv_at(slot).state;
        if from == ConversationState::Waiting && to != from {
            if let Some(r) = self.conv_at(slot).extras().reserved_by {
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

    pub(super) fn status_slot(&mut self, s: OperatorStatus) -> &mut u32 {
        match s {
            OperatorStatus::Available => &mut self.status_counts.available,
            OperatorStatus::Away => &mut self.status_counts.away,
            OperatorStatus::Offline => &mut self.status_counts.offline,
        }
    }

    pub(super) fn add_operator(&mut self, at: Timestamp, mut spec: OperatorSpec) {
        spec.skills.sort_unstable();
        spec.teams.sort_unstable();
        let mut on = OnChannel::none(self.policy.channels.len());
        for c in &spec.capacity {
            if let Some(&i) = self.channel_idx.get(&c.channel) {
                on[i as usize].cap = c.capacity;
            }
        }
        self.picks += 1;
        let id = spec.id;
        *self.status_slot(spec.status) += 1;
        let profile = self.profile_slot(spec.profile);
        let op = Operator {
            profile,
            handled: 0,
            spec,
            on,
            open: 0,
            held: SmallVec::new(),
            wrap_until: None,
            added_at: at,
            available_since: at,
            last_ended_at: at,
            last_assigned_at: at,
            last_pick: self.picks,
            status_since: at,
            extra: None,
            activity: Activity::Offline,
            activity_since: at,
            touched: false,
            keys: SmallVec::new(),
            members: SmallVec::new(),
            skill_bits: 0,
            skew_keys: Vec::new(),
        };
        let op = op.settled();
        let slot = match self.free_op_slots.pop() {
            Some(s) => {
                self.operators[s as usize] = Some(op);
                s
            }
            None => push_slot(&mut self.operators, Some(op)),
        };
        self.op_slots.insert(id, slot);
        self.count_unprofiled(self.op_at(slot).profile, 1);
        self.refresh_op(slot);
        self.dirty_ops.insert((id, slot));
        // Joining away or offline starts the "unavailable too long" clock,
        // as a status change would (and as a restore does).
        if let (false, Some(after)) = (
            self.op_at(slot).spec.status == OperatorStatus::Available,
            self.policy.rebalance.reassign_responded_after_away,
        ) {
            self.timers.insert((at + after, Timer::AwayTooLong(id)));
        }
    }

    pub(super) fn remove_operator(
        &mut self,
        at: Timestamp,
        id: OperatorId,
        out: &mut Vec<Decision>,
    ) {
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
            self.timers.remove(&(w, Timer::WrapUpEnds(id)));
        }
        if let Some(h) = self.op_at(slot).extras().held_back_until {
            self.timers.remove(&(h, Timer::HoldBackEnds(id)));
        }
        let o = self.op_at(slot);
        let (activity, since, status) = (o.activity, o.activity_since, o.spec.status);
        self.log_activity(id, activity, since, at);
        *self.status_slot(status) -= 1;
        if let (false, Some(after)) = (
            status == OperatorStatus::Available,
            self.policy.rebalance.reassign_responded_after_away,
        ) {
            let since = self.op_at(slot).status_since;
            self.timers.remove(&(since + after, Timer::AwayTooLong(id)));
        }
        self.unindex_load(slot);
        self.rebalance_sources.remove(&(id, slot));
        self.requeue_pending.remove(&(id, slot));
        self.dirty_ops.remove(&(id, slot));
        self.op_slots.remove(&id);
        self.count_unprofiled(self.op_at(slot).profile, -1);
        self.operators[slot as usize] = None;
        self.free_op_slots.push(slot);
        // Conversations waiting for this operator fall back to normal routing.
        self.end_preferred_waits(id);
    }

    pub(super) fn set_status(&mut self, at: Timestamp, id: OperatorId, status: OperatorStatus) {
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
                self.timers
                    .remove(&(old_since + after, Timer::AwayTooLong(id)));
            }
        } else {
            if let (true, Some(after)) = (was_available, away_limit) {
                self.timers.insert((at + after, Timer::AwayTooLong(id)));
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

    pub(super) fn set_capacity(&mut self, id: OperatorId, channel: ChannelId, capacity: u16) {
        let slot = self.op_slots[&id];
        let Some(&ch) = self.channel_idx.get(&channel) else {
            return;
        };
        self.unreserve(slot);
        let o = self.op_mut(slot);
        let grew = capacity > o.on[ch as usize].cap;
        let shrank = capacity < o.on[ch as usize].cap;
        o.on[ch as usize].cap = capacity;
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
        let over = shrank && o.on[ch as usize].load > capacity;
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
    pub(super) fn change_operator(&mut self, id: OperatorId, f: impl FnOnce(&mut Operator)) {
        let slot = self.op_slots[&id];
        self.unreserve(slot);
        self.unindex_op(slot);
        f(self.op_mut(slot));
        self.refresh_op(slot);
        self.dirty_ops.insert((id, slot));
    }

    pub(super) fn bot_started(&mut self, at: Timestamp, spec: ConversationSpec) {
        let slot = self.new_conv(at, spec);
        self.set_state(slot, ConversationState::WithBot);
    }

    pub(super) fn new_conv(&mut self, at: Timestamp, spec: ConversationSpec) -> u32 {
        let id = spec.id;
        let ch = self.channel_idx.get(&spec.channel).copied().unwrap_or(0);
        let q = self.queue_of_spec(&spec);
        let conv = Conversation::new(spec, ch, q, at);
        let slot = match self.free_conv_slots.pop() {
            Some(s) => {
                self.convs[s as usize] = Some(conv);
                s
            }
            None => push_slot(&mut self.convs, Some(conv)),
        };
        self.conv_slots.insert(id, slot);
        slot
    }

    pub(super) fn arrived(&mut self, at: Timestamp, spec: ConversationSpec) {
        let slot = match self.conv_slots.get(&spec.id) {
            Some(&s) => {
                let ch = self.channel_idx.get(&spec.channel).copied().unwrap_or(0);
                let q = self.queue_of_spec(&spec);
                let c = self.conv_mut(s);
                c.spec = spec;
                c.ch = ch;
                c.q = q;
                s
            }
            None => self.new_conv(at, spec),
        };
        self.arrivals += 1;
        let seq = self.arrivals;
        let c = self.conv_at(slot);
        let key = self.queue_key(c.spec.tier, c.q, at, seq, 0);
        let wait = self.queues[usize::from(c.q)].preferred.wait;
        let prefers = self.conv_at(slot).spec.preferred_operator.filter(|p| {
            self.op_ref(*p)
                .is_some_and(|o| o.spec.status != OperatorStatus::Offline)
        });
        let preferred_until = prefers.and((wait > Millis::ZERO).then(|| at + wait));
        let c = self.conv_mut(slot);
        c.asked_at.set(Some(at));
        c.routing_since = at;
        c.key = key;
        c.step = 0;
        if prefers.is_some() || preferred_until.is_some() {
            let x = c.extras_mut();
            x.preferred_until = preferred_until;
            x.prefers = prefers;
        } else {
            c.clear_preference();
        }
        c.set_last_team(c.spec.team);
        self.set_state(slot, ConversationState::Waiting);
        self.place(slot, at);
    }

    /// Frees the holder's capacity (the conversation stays as is otherwise).
    pub(super) fn release(&mut self, cs: u32) {
        let c = self.conv_at(cs);
        let (cid, ch) = (c.spec.id, c.ch as usize);
        let Some(holder) = c.holder() else { return };
        let Some(&os) = self.op_slots.get(&holder) else {
            return;
        };
        let o = self.op_mut(os);
        o.on[ch].load = o.on[ch].load.saturating_sub(1);
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
    pub(super) fn hand_over(
        &mut self,
        cs: u32,
        os: u32,
        at: Timestamp,
        how: Handover,
    ) -> (u16, u16) {
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
        let before = (o.on[ch].load, o.on[ch].cap);
        o.on[ch].load += 1;
        o.open += 1;
        o.held.push(cid);
        if let Some(pick) = pick {
            o.last_pick = pick;
            o.on[ch].pick = pick;
        }
        o.last_assigned_at = at;
        let oid = o.spec.id;
        self.refresh_op(os);
        let c = self.conv_mut(cs);
        c.set_holder(Some(oid));
        if how == Handover::Offer {
            // Not an answer yet: the wait ends when the offer is accepted.
            c.assigned_at.set(None);
            c.extras_mut().first_offered_at.get_or_insert(at);
        } else {
            c.assigned_at.set(Some(at));
            c.first_assigned_at.get_or_insert(at);
        }
        // The preference is spent once someone holds it: a later requeue
        // routes normally, and no held conversation names a departed operator.
        c.clear_preference();
        self.set_state(cs, ConversationState::Assigned);
        before
    }

    /// Keeps an operator from new work until `until` (the later of two
    /// hold-backs wins).
    pub(crate) fn hold_back(&mut self, os: u32, until: Timestamp) {
        let o = self.op_mut(os);
        let id = o.spec.id;
        let x = o.extras_mut();
        match x.held_back_until {
            Some(old) if old >= until => return,
            Some(old) => {
                x.held_back_until = Some(until);
                self.timers.remove(&(old, Timer::HoldBackEnds(id)));
            }
            None => x.held_back_until = Some(until),
        }
        self.timers.insert((until, Timer::HoldBackEnds(id)));
        self.refresh_op(os);
    }

    pub(super) fn resolved(&mut self, at: Timestamp, id: ConversationId) {
        let s = self.conv_slots[&id];
        let holder = self.conv_at(s).holder();
        if let (Some(_), Some(assigned)) = (holder, self.conv_at(s).assigned_at.get()) {
            let ch = self.conv_at(s).ch as usize;
            if self.handle_ewma.len() <= ch {
                self.handle_ewma.resize(self.policy.channels.len(), 0);
            }
            let h = at.since(assigned).0;
            let e = &mut self.handle_ewma[ch];
            *e = if *e == 0 { h.max(1) } else { (*e * 7 + h) / 8 };
        }
        // The holder's end of work and wrap-up first, so that the release's
        // one re-key sees all of it (a re-key after each cost a second pass
        // over the operator's channels, and a ready-then-not-ready flicker
        // in the facets when wrap-up follows).
        if let Some(h) = holder {
            if let Some(&os) = self.op_slots.get(&h) {
                let wrap = self.op_at(os).spec.wrap_up.unwrap_or(self.policy.wrap_up);
                let o = self.op_mut(os);
                o.last_ended_at = at;
                o.handled += 1;
                if wrap > Millis::ZERO {
                    let until = at + wrap;
                    if let Some(old) = o.wrap_until.replace(until) {
                        self.timers.remove(&(old, Timer::WrapUpEnds(h)));
                    }
                    self.timers.insert((until, Timer::WrapUpEnds(h)));
                }
            }
        }
        self.release(s);
        self.finish(s, Ending::Resolved(at));
    }

    pub(super) fn transferred(&mut self, at: Timestamp, id: ConversationId, to: TransferTarget) {
        let s = self.conv_slots[&id];
        self.release(s);
        self.conv_mut(s).extras_mut().transfers += 1;
        match to {
            TransferTarget::Operator(p) => {
                let os = self.op_slots[&p];
                self.hand_over(s, os, at, Handover::Host);
            }
            TransferTarget::Team(t) => self.back_to_routing(s, at, Some(t)),
            TransferTarget::Queue => self.back_to_routing(s, at, None),
            TransferTarget::ToQueue(q) => {
                let qi = self.queue_index(q).unwrap_or(0);
                let c = self.conv_mut(s);
                c.spec.queue = Some(q);
                c.q = qi;
                self.back_to_routing(s, at, None);
            }
        }
    }

    pub(super) fn back_to_routing(&mut self, s: u32, at: Timestamp, team: Option<TeamId>) {
        let c = self.conv_mut(s);
        c.spec.team = team;
        c.set_last_team(team);
        c.routing_since = at;
        c.set_holder(None);
        c.assigned_at.set(None);
        c.clear_preference();
        self.set_state(s, ConversationState::Waiting);
        self.place(s, at);
    }

    /// Moves a conversation out of the engine into the finished records.
    pub(super) fn finish(&mut self, s: u32, how: Ending) {
        self.set_state(s, ConversationState::Resolved);
        let Some(c) = self.convs[s as usize].take() else {
            return;
        };
        self.conv_slots.remove(&c.spec.id);
        self.free_conv_slots.push(s);
        let (resolved_at, abandoned_at) = match how {
            Ending::Resolved(t) => (Some(t), None),
            Ending::Abandoned(t) => (None, Some(t)),
        };
        let record = match c.asked_at.get() {
            Some(asked_at) => Finished::Request(ConversationRecord {
                conversation: c.spec.id,
                channel: c.spec.channel,
                tier: c.spec.tier,
                team: c.last_team(),
                queue: c.spec.queue,
                operator: c.holder(),
                started_at: Some(c.started_at),
                asked_at,
                offered_at: c.extras().first_offered_at,
                assigned_at: c.first_assigned_at.get(),
                first_response_at: c.first_response_at.get(),
                resolved_at,
                // A left message is when the customer left (the record's
                // convention); a conversation that left a message is never
                // abandoned (validation refuses it).
                abandoned_at: c.extras().message_left_at.or(abandoned_at),
                message_left: c.extras().message_left_at.is_some(),
                transfers: c.extras().transfers,
                tags: Vec::new(),
                satisfaction: None,
                missed_offers: c.extras().missed_offers,
            }),
            // Only a resolve ends a conversation still with the bot
            // (abandoning needs a waiting or offered one).
            None => Finished::BotOnly(BotConversationRecord {
                conversation: c.spec.id,
                channel: c.spec.channel,
                tier: c.spec.tier,
                started_at: c.started_at,
                resolved_at: resolved_at.or(abandoned_at).unwrap_or(c.started_at),
            }),
        };
        self.finished.push(record);
    }

    /// Ends a ringing offer because the conversation ended or is redirected,
    /// and tells the host to stop ringing (`Unassigned { withdrawn }`).
    pub(super) fn withdraw_offer(&mut self, cs: u32, at: Timestamp, out: &mut Vec<Decision>) {
        let c = self.conv_at(cs);
        if c.state != ConversationState::Offered {
            return;
        }
        let Some(&os) = c.holder().and_then(|h| self.op_slots.get(&h)) else {
            return;
        };
        self.remember_ended_offer(cs, self.op_at(os).spec.id, MoveCause::Withdrawn);
        self.cancel_offer(cs);
        let d = self.unassigned(cs, os, at, MoveCause::Withdrawn);
        self.release(cs);
        self.conv_mut(cs).set_holder(None);
        out.push(d);
    }

    /// The `Unassigned` decision for taking `cs` from operator `os` (built
    /// before the load changes).
    pub(crate) fn unassigned(&self, cs: u32, os: u32, at: Timestamp, cause: MoveCause) -> Decision {
        let c = self.conv_at(cs);
        let o = self.op_at(os);
        let ch = usize::from(c.ch);
        // The step in force now (a held conversation's `step` is only kept
        // up to date while it waits), and the selection of its queue then.
        let step = self.step_at(c, at) as u8;
        Decision {
            conversation: c.spec.id,
            operator: o.spec.id,
            kind: DecisionKind::Unassigned { cause },
            channel: c.spec.channel,
            tier: c.spec.tier,
            queue: c.spec.queue,
            at,
            input_seq: self.inputs,
            reason: Reason {
                route: Self::route_of(self.selection_at(c.q, usize::from(step)).0),
                trigger: Trigger::Rebalance,
                matched: SmallVec::new(),
                load_before: o.on[ch].load,
                capacity: o.on[ch].cap,
                waited: at.since(c.asked_at.get().unwrap_or(at)),
                overflow_step: step,
            },
        }
    }
}

/// Who gives a conversation to an operator, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handover {
    /// The engine assigns it directly.
    Assign,
    /// The engine offers it; the wait ends at acceptance.
    Offer,
    /// The host claims or transfers it to a named operator.
    Host,
}

pub(super) fn count_slot(c: &mut StateCounts, s: ConversationState) -> Option<&mut u32> {
    match s {
        ConversationState::WithBot => Some(&mut c.with_bot),
        ConversationState::Waiting => Some(&mut c.waiting),
        ConversationState::Offered => Some(&mut c.offered),
        ConversationState::Assigned | ConversationState::Responded => Some(&mut c.with_operator),
        ConversationState::MessageLeft => Some(&mut c.message_left),
        ConversationState::Resolved | ConversationState::Abandoned => None,
    }
}

/// How a conversation left the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    Resolved(Timestamp),
    Abandoned(Timestamp),
}
