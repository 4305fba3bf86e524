//! Selection: the strategy keys operators are ordered by, the queue key
//! conversations are ordered by, the indexed lookups and the reference scan
//! ([`Matching::Scan`]). Changing a strategy touches this file.

use std::borrow::Cow;

use super::*;

impl Engine {
    /// The queue key of a conversation of `tier` in queue `q` that asked at
    /// `asked`, with the first `step` overflow steps in force.
    pub(super) fn queue_key(
        &self,
        tier: TierId,
        q: u16,
        asked: Timestamp,
        seq: u64,
        step: usize,
    ) -> QueueKey {
        let (tier_priority, target, tier_head) =
            self.tiers
                .get(&tier)
                .copied()
                .unwrap_or((0, Millis::ZERO, Millis::ZERO));
        let rules = &self.queues[usize::from(q)];
        let mut priority = rules.priority.unwrap_or(tier_priority);
        let mut head = tier_head.0.saturating_add(rules.head_start.0);
        for s in rules.steps.iter().take(step) {
            match s.relax {
                Relax::Priority(p) => priority = priority.min(p),
                Relax::HeadStart(h) => head = head.saturating_add(h.0),
                _ => {}
            }
        }
        match self.policy.queue_order {
            QueueOrder::StrictPriority => (u64::from(priority), asked.0, seq),
            QueueOrder::Aging => (
                0,
                asked.0 + self.max_head_start - head.min(self.max_head_start),
                seq,
            ),
            QueueOrder::EarliestDeadline => (0, asked.0.saturating_add(target.0), seq),
            QueueOrder::Fifo => (0, asked.0, seq),
        }
    }

    /// The operator's position in the facets of ordering `kind` on `ch`.
    pub(super) fn op_key(&self, o: &Operator, ch: usize, kind: u8) -> (u64, u64) {
        self.kinds[usize::from(kind)].key(o, ch)
    }

    /// The selection in force for a conversation of queue `q` with `step`
    /// overflow steps passed (a [`Relax::Select`] step switches it), and its kind.
    pub(super) fn selection_at(&self, q: u16, step: usize) -> (&Selection, u8) {
        let rules = &self.queues[usize::from(q)];
        let switched = rules.steps[..step.min(rules.steps.len())]
            .iter()
            .zip(&rules.step_kinds)
            .rev()
            .find_map(|(s, k)| match &s.relax {
                Relax::Select(sel) => Some((sel, *k)),
                _ => None,
            });
        switched.unwrap_or((&rules.selection, rules.kind))
    }

    /// The reason's route for a pick by key order under `selection`.
    pub(super) fn route_of(selection: &Selection) -> Route {
        match selection {
            Selection::LeastLoaded => Route::LeastLoaded,
            Selection::LongestIdle { .. } => Route::LongestIdle,
            Selection::RoundRobin => Route::RoundRobin,
            Selection::FewestConversations => Route::FewestConversations,
            Selection::FewestHandled => Route::FewestHandled,
            Selection::OrderBy { .. } => Route::OrderBy,
            Selection::Ring => Route::Ring,
            Selection::FixedOrder => Route::FixedOrder,
            Selection::MostProficient | Selection::SkillDevelopment { .. } => Route::MostProficient,
        }
    }

    /// Whether an operator meets a conversation's requirements: skills,
    /// levels, team, not excluded, and their profile serves its queue with
    /// the delays passed. Readiness is checked separately.
    pub(super) fn fits(&self, o: &Operator, req: &Req) -> bool {
        satisfies(o, req) && self.serves(o, req.queue, req.reach)
    }

    /// What operator `os` could pull on channel `ch`: the most urgent
    /// conversation (queue order) of the first of their profile's priority
    /// classes that has one they can serve (one class without a profile),
    /// and the most urgent conversation that prefers them.
    pub(super) fn pull_on(&self, os: u32, ch: u8) -> Pull {
        if self.matching == Matching::Scan {
            return self.scan_pull_on(os, ch);
        }
        let mut pull = Pull::default();
        if self.buckets.on_channel[usize::from(ch)] == 0 {
            return pull;
        }
        let o = self.op_at(os);
        if let Some(q) = self.buckets.preferring.get(&(o.spec.id, ch)) {
            pull.preferred = q.first().copied();
        }
        // Each skill's share of the group hashes, once for all its subsets.
        let ids: SmallVec<[index::HeldSkill; 8]> = o
            .spec
            .skills
            .iter()
            .map(|s| (s.skill, index::skill_print(s.skill), s.level))
            .collect();
        let teams = index::team_bits(&o.spec.teams);
        let max_len = self.buckets.max_skill_count();
        let in_queue = |q: u16, best: &mut Option<(QueueKey, u32)>| {
            let base = index::GroupKey::partial(q, ch);
            for_each_subset(&ids, max_len, base, |sub, sum, have| {
                let hash = index::finish_hash(sum);
                let Some(group) = self.buckets.groups.get_hashed(hash, q, ch, sub) else {
                    return;
                };
                // Most hits end here: the group's most urgent bucket is no
                // better than what an earlier subset found.
                if best.is_some_and(|x| group.first().is_none_or(|f| x.0 <= f.0)) {
                    return;
                }
                // Most urgent head first: the first bucket this operator can
                // serve is the group's best for them.
                for &(head, b, summary) in group.iter() {
                    if best.is_some_and(|x| x.0 <= head) {
                        break;
                    }
                    // A level short or no team in common: `fits` would
                    // say no, and the bucket stays unread.
                    if !index::may_fit(have, teams, summary) {
                        continue;
                    }
                    if self.fits(o, &self.buckets.buckets[b as usize].req) {
                        *best = self.buckets.head(b);
                        break;
                    }
                }
            });
        };
        match self.profiles.get(usize::from(o.profile)) {
            None => {
                // One class; starting from the preferred conversation only
                // prunes class work it beats, which `pick` would not take.
                let mut best = pull.preferred;
                let q = if self.multi_queue {
                    index::ANY_QUEUE
                } else {
                    0
                };
                in_queue(q, &mut best);
                if best != pull.preferred {
                    pull.class = best.map(|b| (0, b));
                }
            }
            Some(p) => {
                for (prio, class) in &p.classes {
                    let mut found = None;
                    for &q in class {
                        if self.buckets.waiting_in(q, ch) > 0 {
                            in_queue(q, &mut found);
                        }
                    }
                    if let Some(f) = found {
                        pull.class = Some((*prio, f));
                        break;
                    }
                }
            }
        }
        pull
    }

    /// The requirements in force for waiting conversation `cs`: its bucket's, borrowed, or, not
    /// yet in a bucket (unplaced) or matched by the reference scan, worked out (`None`: only
    /// its preferred operator may take it for now).
    pub(super) fn req_of(&self, cs: u32) -> Option<Cow<'_, Req>> {
        let c = self.conv_at(cs);
        let worked_out = || {
            let r = self.requirements_of(cs, self.now);
            (!r.in_wait).then_some(match r {
                Cow::Borrowed(r) => Cow::Borrowed(&r.req),
                Cow::Owned(r) => Cow::Owned(r.req),
            })
        };
        match self.matching {
            Matching::Indexed => match c.bucket.get() {
                Some(b) => Some(Cow::Borrowed(&self.buckets.buckets[b as usize].req)),
                None if c.is_unplaced() => worked_out(),
                None => None,
            },
            Matching::Scan => worked_out(),
        }
    }

    /// The best ready operator for a waiting conversation, the route that
    /// chose them, and whether this is a skill-development (trainee) pick.
    pub(super) fn best_op_for(&self, cs: u32) -> Option<(u32, Route, bool)> {
        let c = self.conv_at(cs);
        if let Some(p) = c.extras().prefers.filter(|p| !c.declined_by(*p, self.now)) {
            if let Some(&ps) = self.op_slots.get(&p) {
                let over = self.queues[usize::from(c.q)].preferred.over_capacity
                    && self.op_can_take_over_capacity(self.op_at(ps), c.ch);
                if self.is_ready(ps, c.ch) || over {
                    return Some((ps, Route::PreferredOperator, false));
                }
            }
        }
        let req = self.req_of(cs)?;
        let (selection, kind) = self.selection_at(c.q, usize::from(c.step));
        // The primary skill still required after relaxations.
        let primary = c
            .spec
            .skills
            .first()
            .and_then(|p| req.skills().iter().find(|s| s.skill == p.skill).copied());
        let (order, route, trainee) = match (selection, primary) {
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
                    && self.trainee_credit[usize::from(c.q)] + u32::from(*share_permille) >= 1000;
                if trainee {
                    (Order::LowestLevel(p), Route::SkillDevelopment, true)
                } else {
                    (Order::HighestLevel(p), Route::MostProficient, false)
                }
            }
            _ => (Order::Key, Self::route_of(selection), false),
        };
        let ring = match selection {
            Selection::Ring => self.ring_pointer[usize::from(c.q)],
            _ => None,
        };
        let chosen = match (self.matching, order) {
            (Matching::Scan, _) => self.scan_select(&req, order, kind, ring),
            (Matching::Indexed, Order::Key) => self.by_plan(&req, kind, ring),
            (Matching::Indexed, Order::HighestLevel(p)) => self.by_level(&req, p, true, kind),
            (Matching::Indexed, Order::LowestLevel(p)) => self.by_level(&req, p, false, kind),
        };
        chosen.map(|s| (s, route, trainee))
    }

    /// Reference matching: the best eligible operator by scanning them all.
    pub(super) fn scan_select(
        &self,
        req: &Req,
        order: Order,
        kind: u8,
        ring: Option<OperatorId>,
    ) -> Option<u32> {
        let mut best: Option<((u8, u64, u64, OperatorId), u32)> = None;
        for (slot, o) in self.operators.iter().enumerate() {
            let Some(o) = o else { continue };
            if !self.op_can_take_now(o, req.channel) || !self.fits(o, req) {
                continue;
            }
            let level_rank = match order {
                Order::Key => 0,
                Order::HighestLevel(p) => MAX_LEVEL - o.level(p.skill),
                Order::LowestLevel(p) => o.level(p.skill),
            };
            let (mut a, b) = self.op_key(o, req.channel as usize, kind);
            if let Some(p) = ring {
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

    /// Reference matching: [`Engine::pull_on`] by scanning every waiting
    /// conversation: the lowest profile priority among the conversations
    /// the operator can serve, the most urgent of that priority, and the
    /// most urgent that prefers them.
    pub(super) fn scan_pull_on(&self, os: u32, ch: u8) -> Pull {
        let o = self.op_at(os);
        let mut pull = Pull::default();
        for (slot, c) in self.convs.iter().enumerate() {
            let Some(c) = c else { continue };
            if c.state != ConversationState::Waiting || c.ch != ch {
                continue;
            }
            if c.extras().prefers == Some(o.spec.id)
                && !c.declined_by(o.spec.id, self.now)
                && pull.preferred.is_none_or(|p| c.key < p.0)
            {
                pull.preferred = Some((c.key, slot as u32));
            }
            let r = self.requirements_at(c, self.now);
            if r.in_wait || !self.fits(o, &r.req) {
                continue;
            }
            let Some(prio) = self.priority_for(o, c.q) else {
                continue;
            };
            if pull.class.is_none_or(|b| (prio, c.key) < (b.0, b.1.0)) {
                pull.class = Some((prio, (c.key, slot as u32)));
            }
        }
        pull
    }

    /// Walks the primary skill's level facets from the top level down
    /// (`highest_first`) or from the minimum up; inside a level, in
    /// the order of `kind`.
    pub(super) fn by_level(
        &self,
        req: &Req,
        primary: SkillLevel,
        highest_first: bool,
        kind: u8,
    ) -> Option<u32> {
        let mut levels: SmallVec<[&FacetSet; 5]> = self
            .facets
            .skill_facets(req.channel, kind, primary.skill, primary.level)
            .collect();
        if highest_first {
            levels.reverse();
        }
        for f in levels {
            if let Some(s) = self.first_matching(&[f], req, None) {
                return Some(s);
            }
        }
        None
    }

    /// Picks the smallest set of facets that contains every operator able to
    /// take the conversation, and walks it in the order of `kind` (a ring
    /// from after its pointer).
    pub(super) fn by_plan<'a>(
        &'a self,
        req: &Req,
        kind: u8,
        ring: Option<OperatorId>,
    ) -> Option<u32> {
        let ch = req.channel;
        let mut plan: SmallVec<[&'a FacetSet; 5]> = SmallVec::new();
        let mut plan_size = usize::MAX;
        if req.skills().is_empty() && req.teams().is_empty() {
            debug_assert!(
                self.facets.kept(ch, Kept::All),
                "all-operators facet read before kept"
            );
            plan.push(self.facets.get(ch, kind, Member::All)?);
            plan_size = plan[0].len();
        }
        // A candidate plan: the non-empty facets among `facets`.
        let mut consider = |facets: &mut dyn Iterator<Item = &'a FacetSet>| {
            let mut p: SmallVec<[&'a FacetSet; 5]> = SmallVec::new();
            let mut size = 0;
            for f in facets.filter(|f| f.len() > 0) {
                size += f.len();
                p.push(f);
            }
            if size < plan_size {
                plan = p;
                plan_size = size;
            }
        };
        let member = |m: Member| self.facets.get(ch, kind, m);
        for s in req.skills() {
            consider(&mut self.facets.skill_facets(ch, kind, s.skill, s.level));
        }
        // Team facets are kept once a team requirement without skills
        // needs them; before that a skill plan holds everyone eligible.
        if !req.teams().is_empty() && self.facets.kept(ch, Kept::Teams) {
            consider(&mut req.teams().iter().filter_map(|t| member(Member::Team(*t))));
        }
        debug_assert!(
            !req.skills().is_empty() || req.teams().is_empty() || self.facets.kept(ch, Kept::Teams),
            "team facets read before kept"
        );
        if !self.profiles.is_empty() {
            let q = &self.queues[usize::from(req.queue)];
            consider(
                &mut q
                    .served_by
                    .iter()
                    .map(|p| Member::Profile(*p))
                    .chain(std::iter::once(Member::NoProfile))
                    .filter_map(member),
            );
        }
        if plan_size == 0 {
            return None;
        }
        match ring {
            // Continue after the pointer; wrap around if nobody after it fits.
            Some(p) => self
                .first_matching(
                    &plan,
                    req,
                    Some((0, 0, OperatorId(p.0.saturating_add(1)), 0, 0)),
                )
                .or_else(|| self.first_matching(&plan, req, None)),
            None => self.first_matching(&plan, req, None),
        }
    }

    /// Merges the facets in key order and returns the first operator that
    /// meets every requirement.
    pub(super) fn first_matching(
        &self,
        facets: &[&FacetSet],
        req: &Req,
        from: Option<OpEntry>,
    ) -> Option<u32> {
        let need = index::skill_bits(req.skills().iter().map(|s| s.skill));
        if let Some(found) = self.first_matching_sorted(facets, req, from, need) {
            return found;
        }
        // Lacking a required skill's bit: lacking the skill. Filtered before
        // the merge, so the entries a walk passes over cost no merge step.
        let has_bits = move |e: &&OpEntry| e.4 & need == need;
        let mut iters: SmallVec<[_; 5]> = facets
            .iter()
            .map(|f| f.range_from(from).filter(has_bits).peekable())
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
            if self.fits(self.op_at(e.3), req) {
                return Some(e.3);
            }
        }
    }

    /// [`Engine::first_matching`] when every facet is a sorted vector (all
    /// but the largest): the same merge over slices, without building an
    /// iterator per facet. `None` if some facet is a B-tree.
    fn first_matching_sorted(
        &self,
        facets: &[&FacetSet],
        req: &Req,
        from: Option<OpEntry>,
        need: u32,
    ) -> Option<Option<u32>> {
        let mut heads: SmallVec<[&[OpEntry]; 5]> = SmallVec::new();
        for f in facets {
            let FacetSet::Sorted(v) = f else {
                return None;
            };
            heads.push(match from {
                None => v,
                Some(l) => &v[v.partition_point(|e| *e < l)..],
            });
        }
        loop {
            let mut best: Option<(usize, &OpEntry)> = None;
            for (i, h) in heads.iter_mut().enumerate() {
                // Entries lacking a required skill's bit are passed over.
                while let Some((e, rest)) = h.split_first() {
                    if e.4 & need == need {
                        if best.is_none_or(|(_, b)| e < b) {
                            best = Some((i, e));
                        }
                        break;
                    }
                    *h = rest;
                }
            }
            let Some((i, e)) = best else {
                return Some(None);
            };
            heads[i] = &heads[i][1..];
            if self.fits(self.op_at(e.3), req) {
                return Some(Some(e.3));
            }
        }
    }
}

/// What an operator could pull on one channel (see [`Engine::pull_on`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Pull {
    /// Their profile priority of the class, and its most urgent conversation.
    pub(super) class: Option<(u32, (QueueKey, u32))>,
    /// The most urgent conversation that prefers them.
    pub(super) preferred: Option<(QueueKey, u32)>,
}

impl Pull {
    /// The cross-queue order over one or more channels: among the class
    /// winners of the lowest profile priority any channel has, and every
    /// conversation preferring the operator, the most urgent by queue order.
    pub(super) fn pick(pulls: impl IntoIterator<Item = Pull>) -> Option<(QueueKey, u32)> {
        let mut top: Option<u32> = None;
        let mut class: Option<(QueueKey, u32)> = None;
        let mut preferred: Option<(QueueKey, u32)> = None;
        for p in pulls {
            if let Some((prio, c)) = p.class {
                if top.is_none_or(|t| prio < t) {
                    top = Some(prio);
                    class = Some(c);
                } else if top == Some(prio) && class.is_none_or(|x| c.0 < x.0) {
                    class = Some(c);
                }
            }
            if let Some(c) = p.preferred {
                if preferred.is_none_or(|x| c.0 < x.0) {
                    preferred = Some(c);
                }
            }
        }
        match (class, preferred) {
            (Some(c), Some(p)) => Some(if p.0 < c.0 { p } else { c }),
            (c, p) => c.or(p),
        }
    }
}

/// Which end of the primary skill's levels to prefer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Key,
    HighestLevel(SkillLevel),
    LowestLevel(SkillLevel),
}

/// Whether an operator meets a conversation's skills, levels and team, and
/// is not excluded from it. The profile is checked by [`Engine::fits`].
pub(super) fn satisfies(o: &Operator, req: &Req) -> bool {
    !req.excluded().contains(&o.spec.id)
        && req.skills().iter().all(|s| o.level(s.skill) >= s.level)
        && (req.teams().is_empty()
            || req
                .teams()
                .iter()
                .any(|t| o.spec.teams.binary_search(t).is_ok()))
}
