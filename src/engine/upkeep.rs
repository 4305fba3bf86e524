//! Index upkeep: keeping the waiting buckets, the operator facets and the
//! requirement timers in step with every change.

use std::borrow::Cow;

use super::*;

/// The requirements in force for a waiting conversation at some time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InForce {
    pub(super) req: Req,
    /// Overflow steps passed.
    pub(super) step: u8,
    /// Only the preferred operator may take it for now.
    pub(super) in_wait: bool,
    /// When they next change.
    pub(super) next: Option<Timestamp>,
}

impl Engine {
    /// How many of its queue's overflow steps a conversation has passed at
    /// `t` (what [`Engine::requirements_at`] reports as its step, without
    /// building the requirements).
    pub(super) fn step_at(&self, c: &Conversation, t: Timestamp) -> usize {
        self.queues[usize::from(c.q)]
            .step_at
            .iter()
            .take_while(|a| c.routing_since + **a <= t)
            .count()
    }

    /// The requirements in force for a waiting conversation at time `t`, and
    /// when they next change (a step, a profile delay, the preferred wait, a
    /// decline forgotten).
    pub(super) fn requirements_at(&self, c: &Conversation, t: Timestamp) -> InForce {
        let rules = &self.queues[usize::from(c.q)];
        let passed = |after: &Millis| c.routing_since + *after <= t;
        let step = self.step_at(c, t);
        let reach = rules.delays.iter().take_while(|d| passed(d)).count();
        // Built from slices rather than iterators: this runs for every
        // placement and decision, and most conversations have one or two
        // skills, no steps passed and no extras.
        let mut skills: SmallVec<[SkillLevel; MAX_REQUIRED_SKILLS]> =
            SmallVec::from_slice(&c.spec.skills);
        if skills.len() > 1 {
            skills.sort_unstable();
        }
        let mut teams: SmallVec<[TeamId; 2]> = SmallVec::new();
        if let Some(team) = c.spec.team {
            teams.push(team);
        }
        for s in &rules.steps[..step] {
            match &s.relax {
                Relax::LowerLevels(n) => {
                    for sk in &mut skills {
                        sk.level = sk.level.saturating_sub(*n).max(MIN_LEVEL);
                    }
                }
                Relax::AnyTeam => teams.clear(),
                Relax::AnyOperator => {
                    skills.clear();
                    teams.clear();
                }
                Relax::DropSkill(x) => skills.retain(|sk| sk.skill != *x),
                Relax::LowerSkill { skill, by } => {
                    for sk in skills.iter_mut().filter(|sk| sk.skill == *skill) {
                        sk.level = sk.level.saturating_sub(*by).max(MIN_LEVEL);
                    }
                }
                Relax::AddTeam(x) => {
                    if !teams.is_empty() && !teams.contains(x) {
                        teams.push(*x);
                        teams.sort_unstable();
                    }
                }
                Relax::Priority(_) | Relax::HeadStart(_) | Relax::Select(_) => {}
            }
        }
        let next_step = rules.step_at.get(step).map(|&a| c.routing_since + a);
        let next_delay = rules.delays.get(reach).map(|&d| c.routing_since + d);
        let mut next = next_step.into_iter().chain(next_delay).min();
        let mut preferring = None;
        let mut excluded: SmallVec<[OperatorId; 2]> = SmallVec::new();
        if let Some(x) = c.extra.as_deref() {
            preferring = x.preferred_until.filter(|u| t < *u);
            // A decline that runs out makes that operator eligible again.
            let decline_ends = x
                .declined
                .iter()
                .filter_map(|d| d.1)
                .filter(|u| t < *u)
                .min();
            next = [preferring, next, decline_ends].into_iter().flatten().min();
            excluded.extend(
                x.declined
                    .iter()
                    .filter(|d| d.1.is_none_or(|u| t < u))
                    .map(|d| d.0),
            );
            excluded.sort_unstable();
        }
        InForce {
            req: Req::new(c.q, reach as u8, c.ch, &skills, &teams, &excluded),
            step: step as u8,
            in_wait: preferring.is_some(),
            next,
        }
    }

    /// Puts a waiting conversation in the bucket for its requirements at `t`
    /// and schedules its next requirement change. Its queue key follows the
    /// steps in force (a priority or head-start step re-keys it).
    pub(super) fn place(&mut self, slot: u32, t: Timestamp) {
        self.index_waiting(slot, t);
        self.mark_dirty(slot);
    }

    /// Marks a conversation for the next assignment pass.
    fn mark_dirty(&mut self, slot: u32) {
        let c = self.conv_mut(slot);
        if !c.dirty {
            c.dirty = true;
            self.dirty_convs.push(slot);
        }
    }

    /// [`Engine::place`] without the indexes: the key, step and wait in
    /// force are set and the conversation is marked for the assignment
    /// pass, which decides it at once or indexes it then
    /// ([`Engine::pull_and_place`]), at the engine's time. A shift change
    /// moves thousands of conversations back to the queue in one input and
    /// the pass gives most of them away again: placing each in its bucket,
    /// group and timers only for `decide` to take it out again was about
    /// 30 % of the instructions. Anything that reads the indexes before the
    /// pass has decided them places them first
    /// ([`Engine::place_unplaced`]): a freed operator's pull, a blocked-work
    /// reservation's, a preferred operator's wake-up. Its first lines are
    /// [`Engine::index_with`]'s: a shared helper returning the requirements
    /// moved them once more and cost 0.7 % of the 1k stream's instructions.
    pub(super) fn place_later(&mut self, slot: u32) {
        let InForce {
            req, step, in_wait, ..
        } = self.requirements_at(self.conv_at(slot), self.now);
        let c = self.conv_at(slot);
        let key = match c.asked_at.get() {
            Some(asked) => self.queue_key(c.spec.tier, c.q, asked, c.seq(), usize::from(step)),
            None => c.key,
        };
        if !in_wait {
            self.want_facets(&req);
        }
        let c = self.conv_mut(slot);
        c.key = key;
        c.in_wait = in_wait;
        c.step = step;
        c.set_unplaced(true);
        self.unplaced.push(slot);
        self.mark_dirty(slot);
    }

    /// Places every conversation [`Engine::place_later`] left unplaced.
    pub(super) fn place_unplaced(&mut self) {
        for s in std::mem::take(&mut self.unplaced) {
            if self.conv_at(s).is_unplaced() {
                self.index_unplaced(s);
            }
        }
    }

    /// Indexes one conversation [`Engine::place_later`] left unplaced.
    pub(super) fn index_unplaced(&mut self, slot: u32) {
        self.conv_mut(slot).set_unplaced(false);
        let r = match self
            .deciding
            .take_if(|(s, t, _)| *s == slot && *t == self.now)
        {
            Some((_, _, r)) => r,
            None => self.requirements_at(self.conv_at(slot), self.now),
        };
        self.index_with(slot, r);
    }

    /// The requirements in force for waiting conversation `slot` at `t`: as the assignment
    /// pass worked them out for deciding it (see `Engine::deciding`), or worked out now.
    pub(super) fn requirements_of(&self, slot: u32, t: Timestamp) -> Cow<'_, InForce> {
        match &self.deciding {
            Some((s, at, r)) if *s == slot && *at == t => Cow::Borrowed(r),
            _ => Cow::Owned(self.requirements_at(self.conv_at(slot), t)),
        }
    }

    /// Clears the mark of [`Engine::place_later`] (the conversation is
    /// decided, or no longer waiting).
    pub(super) fn forget_unplaced(&mut self, slot: u32) {
        self.conv_mut(slot).set_unplaced(false);
    }

    /// [`Engine::place`] without marking the conversation for the pass.
    fn index_waiting(&mut self, slot: u32, t: Timestamp) {
        let r = self.requirements_at(self.conv_at(slot), t);
        self.index_with(slot, r);
    }

    /// Indexes a waiting conversation under its requirements in force `r` (inlined, so they
    /// are not moved once more).
    #[inline]
    fn index_with(&mut self, slot: u32, r: InForce) {
        let InForce {
            req,
            step,
            in_wait,
            next,
        } = r;
        let c = self.conv_at(slot);
        let key = match c.asked_at.get() {
            Some(asked) => self.queue_key(c.spec.tier, c.q, asked, c.seq(), usize::from(step)),
            None => c.key,
        };
        let (id, ch, prefers) = (c.spec.id, c.ch, c.extras().prefers);
        if !in_wait {
            self.want_facets(&req);
        }
        let bucket = (!in_wait).then(|| self.buckets.insert(req, key, slot));
        if let Some(p) = prefers {
            self.buckets.prefer(p, ch, key, slot);
        }
        if let Some(n) = next {
            self.timers.insert((n, Timer::RequirementsChange(id)));
        }
        let c = self.conv_mut(slot);
        c.key = key;
        c.bucket = bucket.into();
        c.in_wait = in_wait;
        c.step = step;
        c.timer.set(next);
    }

    /// Takes a conversation out of its bucket and cancels its timer.
    pub(super) fn unqueue(&mut self, slot: u32) {
        let c = self.conv_at(slot);
        let (bucket, key, timer, id, ch, prefers) = (
            c.bucket.get(),
            c.key,
            c.timer,
            c.spec.id,
            c.ch,
            c.extras().prefers,
        );
        if let Some(b) = bucket {
            self.buckets.remove(b, key, slot);
        }
        if let Some(p) = prefers {
            self.buckets.unprefer(p, ch, key, slot);
        }
        if let Some(t) = timer.get() {
            self.timers.remove(&(t, Timer::RequirementsChange(id)));
        }
        // Out of the queue, the key is the one without steps (what a
        // restored engine computes); `place` applies the steps again.
        let c = self.conv_at(slot);
        let base = c
            .asked_at
            .get()
            .map(|a| self.queue_key(c.spec.tier, c.q, a, c.seq(), 0));
        let c = self.conv_mut(slot);
        c.bucket = OptSlot::NONE;
        c.timer.set(None);
        if let Some(k) = base {
            c.key = k;
        }
    }

    /// Conversations waiting for `op` stop waiting for them.
    pub(super) fn end_preferred_waits(&mut self, op: OperatorId) {
        for ch in 0..self.policy.channels.len() as u8 {
            let Some(q) = self.buckets.preferring.get(&(op, ch)) else {
                continue;
            };
            let slots: Vec<u32> = q.iter().map(|e| e.1).collect();
            for s in slots {
                self.unqueue(s);
                let c = self.conv_mut(s);
                c.clear_preference();
                self.place(s, self.now);
            }
        }
    }

    /// Conversations preferring `op` are looked at again in this `assign`
    /// (direct routing above capacity: a full preferred operator who just
    /// became available takes them).
    pub(super) fn wake_preferring(&mut self, op: OperatorId) {
        for ch in 0..self.policy.channels.len() as u8 {
            let Some(q) = self.buckets.preferring.get(&(op, ch)) else {
                continue;
            };
            let slots: SmallVec<[u32; 8]> = q.iter().map(|e| e.1).collect();
            for s in slots {
                self.mark_dirty(s);
            }
        }
    }

    /// Back to waiting with the original priority and waiting time; not
    /// yet placed in its bucket (see [`Engine::place`]).
    pub(super) fn unhold(&mut self, slot: u32) {
        let c = self.conv_mut(slot);
        c.set_holder(None);
        c.assigned_at.set(None);
        if let Some(x) = c.existing_extras() {
            x.preferred_until = None;
        }
        self.set_state(slot, ConversationState::Waiting);
    }

    /// The facets an operator sits in on each ready channel: all, each
    /// (skill, level), each team, and the profile when the policy has any.
    fn members_of(&mut self, slot: u32) -> SmallVec<[u32; 8]> {
        let o = self.op_at(slot);
        let mut keys: SmallVec<[Member; 12]> = SmallVec::new();
        keys.push(Member::All);
        keys.extend(
            o.spec
                .skills
                .iter()
                .map(|s| Member::Skill(s.skill, s.level)),
        );
        keys.extend(o.spec.teams.iter().map(|t| Member::Team(*t)));
        if !self.profiles.is_empty() {
            keys.push(match o.profile {
                NO_PROFILE => Member::NoProfile,
                p => Member::Profile(p),
            });
        }
        keys.into_iter().map(|m| self.facets.member(m)).collect()
    }

    /// Brings the operator's facet entries in line with its state: for each
    /// channel it is ready on, one entry per ordering kind of the queues it
    /// serves.
    pub(super) fn refresh_op(&mut self, slot: u32) {
        let o = self.op_mut(slot);
        if !o.touched {
            o.touched = true;
            self.touched_ops.push(slot);
        }
        if self.policy.rebalance.skew_margin_permille.is_some() {
            self.refresh_load(slot);
        }
        let nch = self.policy.channels.len() as u8;
        let kinds = self.kinds_of(self.op_at(slot));
        if self.op_at(slot).members.is_empty() {
            let m = self.members_of(slot);
            let o = self.op_mut(slot);
            o.members = m;
            o.skill_bits = index::skill_bits(o.spec.skills.iter().map(|s| s.skill));
        }
        let ready_on = self.ready_mask(self.op_at(slot));
        for ch in 0..nch {
            let ready = ready_on & (1 << ch) != 0;
            for kind in 0..self.kinds.len() as u8 {
                if kinds & (1 << kind) == 0 {
                    continue;
                }
                let o = self.op_at(slot);
                let new = ready.then(|| self.op_key(o, ch as usize, kind));
                let at = o.keys.iter().position(|k| k.0 == ch && k.1 == kind);
                let old = at.map(|i| (o.keys[i].2, o.keys[i].3));
                if new == old {
                    continue;
                }
                let (id, bits) = (o.spec.id, o.skill_bits);
                let o = self.operators[slot as usize]
                    .as_mut()
                    .unwrap_or_else(|| unreachable_slot());
                self.facets.rekey(
                    ch,
                    kind,
                    &o.members,
                    old.map(|(a, b)| (a, b, id, slot, bits)),
                    new.map(|(a, b)| (a, b, id, slot, bits)),
                );
                match (at, new) {
                    (Some(i), Some((a, b))) => o.keys[i] = (ch, kind, a, b),
                    (Some(i), None) => {
                        o.keys.remove(i);
                    }
                    (None, Some((a, b))) => o.keys.push((ch, kind, a, b)),
                    (None, None) => {}
                }
            }
        }
    }

    /// Keeps the facets a requirement on channel `ch` needs from now on
    /// (see [`Facets`]): the all-operators facet for one with no skill and
    /// no team, team facets for one with a team and no skill. Called before
    /// such a requirement is looked up.
    pub(super) fn want_facets(&mut self, req: &Req) {
        if !req.skills().is_empty() {
            return;
        }
        let k = if req.teams().is_empty() {
            Kept::All
        } else {
            Kept::Teams
        };
        let ch = req.channel;
        if self.facets.kept(ch, k) {
            return;
        }
        let mut entries: Vec<(u8, u32, OpEntry)> = Vec::new();
        for (slot, o) in self.operators.iter().enumerate() {
            let Some(o) = o else { continue };
            for &(_, kind, a, b) in o.keys.iter().filter(|key| key.0 == ch) {
                for &m in o.members.iter().filter(|&&m| self.facets.is(m, k)) {
                    entries.push((kind, m, (a, b, o.spec.id, slot as u32, o.skill_bits)));
                }
            }
        }
        self.facets.keep(ch, k, entries.into_iter());
    }

    /// Removes the operator from every facet (before skills, teams or the
    /// profile change).
    pub(super) fn unindex_op(&mut self, slot: u32) {
        let o = self.operators[slot as usize]
            .as_mut()
            .unwrap_or_else(|| unreachable_slot());
        let (id, bits) = (o.spec.id, o.skill_bits);
        for &(ch, kind, a, b) in &o.keys {
            self.facets
                .rekey(ch, kind, &o.members, Some((a, b, id, slot, bits)), None);
        }
        o.keys.clear();
        o.members.clear();
        o.skill_bits = 0;
    }
}
