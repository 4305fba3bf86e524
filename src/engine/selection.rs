//! Selection: the strategy keys operators are ordered by, the queue key
//! conversations are ordered by, the indexed lookups and the reference scan
//! ([`Matching::Scan`]). Changing a strategy touches this file.

use super::*;

impl Engine {
    pub(super) fn queue_key(&self, tier: TierId, asked: Timestamp, seq: u64) -> QueueKey {
        let (priority, target, head) =
            self.tiers
                .get(&tier)
                .copied()
                .unwrap_or((0, Millis::ZERO, Millis::ZERO));
        match self.policy.queue_order {
            QueueOrder::StrictPriority => (u64::from(priority), asked.0, seq),
            QueueOrder::Aging => (
                0,
                asked.0 + self.max_head_start - head.0.min(self.max_head_start),
                seq,
            ),
            QueueOrder::EarliestDeadline => (0, asked.0.saturating_add(target.0), seq),
            QueueOrder::Fifo => (0, asked.0, seq),
        }
    }

    pub(super) fn op_key(&self, o: &Operator, ch: usize) -> (u64, u64) {
        match &self.policy.selection {
            Selection::LongestIdle { clock } => {
                let t = match clock {
                    IdleClock::LastConversationEnded => o.last_ended_at,
                    IdleClock::BecameAvailable => o.available_since,
                    IdleClock::LastAssigned => o.last_assigned_at,
                };
                (t.0, 0)
            }
            Selection::RoundRobin => (o.last_pick, 0),
            Selection::FewestConversations => (u64::from(o.open), o.last_pick),
            // Operator-id order; the ring's starting point is applied when walking.
            Selection::Ring | Selection::FixedOrder => (0, 0),
            Selection::LeastLoaded
            | Selection::MostProficient
            | Selection::SkillDevelopment { .. } => {
                // Exact: distinct ratios with capacities below 2^16 differ by
                // at least 2^-32, so 32 fractional bits never merge them.
                // Channel-local on purpose: an assignment on one channel
                // re-keys that channel's index entries only.
                let ratio = (u64::from(o.load[ch]) << 32) / u64::from(o.cap[ch].max(1));
                (ratio, o.pick_on[ch])
            }
        }
    }

    pub(super) fn default_route(&self) -> Route {
        match self.policy.selection {
            Selection::LeastLoaded => Route::LeastLoaded,
            Selection::LongestIdle { .. } => Route::LongestIdle,
            Selection::RoundRobin => Route::RoundRobin,
            Selection::FewestConversations => Route::FewestConversations,
            Selection::Ring => Route::Ring,
            Selection::FixedOrder => Route::FixedOrder,
            Selection::MostProficient | Selection::SkillDevelopment { .. } => Route::MostProficient,
        }
    }

    /// The most urgent waiting conversation operator `os` can serve on `ch`.
    pub(super) fn best_conv_for(&self, os: u32, ch: u8) -> Option<(QueueKey, u32)> {
        if self.matching == Matching::Scan {
            return self.scan_best_conv_for(os, ch);
        }
        if self.buckets.on_channel[usize::from(ch)] == 0 {
            return None;
        }
        let o = self.op_at(os);
        let mut best: Option<(QueueKey, u32)> = None;
        if let Some(q) = self.buckets.preferring.get(&(o.spec.id, ch)) {
            best = q.first().copied();
        }
        let ids: SmallVec<[SkillId; 8]> = o.spec.skills.iter().map(|s| s.skill).collect();
        for_each_subset(&ids, self.buckets.max_skill_count(), |sub| {
            let g = index::GroupKey::new(ch, sub.iter().copied());
            let Some(group) = self.buckets.groups.get(&g) else {
                return;
            };
            // Most urgent head first: the first bucket this operator can
            // serve is the group's best for them.
            for &(head, b) in group.iter() {
                if best.is_some_and(|x| x.0 <= head) {
                    break;
                }
                if satisfies(o, &self.buckets.buckets[b as usize].req) {
                    best = self.buckets.head(b);
                    break;
                }
            }
        });
        best
    }

    /// The requirements in force for a waiting conversation.
    pub(super) fn req_of(&self, c: &Conversation) -> Option<Req> {
        match self.matching {
            Matching::Indexed => c
                .bucket
                .map(|b| self.buckets.buckets[b as usize].req.clone()),
            Matching::Scan => {
                let (req, _, in_wait, _) = self.requirements_at(c, self.now);
                (!in_wait).then_some(req)
            }
        }
    }

    /// The best ready operator for a waiting conversation, the route that
    /// chose them, and whether this is a skill-development (trainee) pick.
    pub(super) fn best_op_for(&self, cs: u32) -> Option<(u32, Route, bool)> {
        let c = self.conv_at(cs);
        if let Some(p) = c.prefers.filter(|p| !c.declined_by(*p, self.now)) {
            if let Some(&ps) = self.op_slots.get(&p) {
                let over = self.policy.preferred_operator.over_capacity
                    && self.op_can_take_over_capacity(self.op_at(ps), c.ch);
                if self.is_ready(ps, c.ch) || over {
                    return Some((ps, Route::PreferredOperator, false));
                }
            }
        }
        let req = self.req_of(c)?;
        // The primary skill still required after relaxations.
        let primary = c
            .spec
            .skills
            .first()
            .and_then(|p| req.skills.iter().find(|s| s.skill == p.skill).copied());
        let (order, route, trainee) = match (&self.policy.selection, primary) {
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
                    && self.trainee_credit + u32::from(*share_permille) >= 1000;
                if trainee {
                    (Order::LowestLevel(p), Route::SkillDevelopment, true)
                } else {
                    (Order::HighestLevel(p), Route::MostProficient, false)
                }
            }
            _ => (Order::Key, self.default_route(), false),
        };
        let chosen = match (self.matching, order) {
            (Matching::Scan, _) => self.scan_select(&req, order),
            (Matching::Indexed, Order::Key) => self.by_plan(&req),
            (Matching::Indexed, Order::HighestLevel(p)) => self.by_level(&req, p, true),
            (Matching::Indexed, Order::LowestLevel(p)) => self.by_level(&req, p, false),
        };
        chosen.map(|s| (s, route, trainee))
    }

    /// Reference matching: the best eligible operator by scanning them all.
    pub(super) fn scan_select(&self, req: &Req, order: Order) -> Option<u32> {
        let mut best: Option<((u8, u64, u64, OperatorId), u32)> = None;
        for (slot, o) in self.operators.iter().enumerate() {
            let Some(o) = o else { continue };
            if !self.op_can_take_now(o, req.channel) || !satisfies(o, req) {
                continue;
            }
            let level_rank = match order {
                Order::Key => 0,
                Order::HighestLevel(p) => MAX_LEVEL - o.level(p.skill),
                Order::LowestLevel(p) => o.level(p.skill),
            };
            let (mut a, b) = self.op_key(o, req.channel as usize);
            if let (Selection::Ring, Some(p)) = (&self.policy.selection, self.ring_pointer) {
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

    /// Reference matching: the most urgent conversation by scanning them all.
    pub(super) fn scan_best_conv_for(&self, os: u32, ch: u8) -> Option<(QueueKey, u32)> {
        let o = self.op_at(os);
        let mut best: Option<(QueueKey, u32)> = None;
        for (slot, c) in self.convs.iter().enumerate() {
            let Some(c) = c else { continue };
            if c.state != ConversationState::Waiting || c.ch != ch {
                continue;
            }
            if best.is_some_and(|b| b.0 <= c.key) {
                continue;
            }
            let (req, _, in_wait, _) = self.requirements_at(c, self.now);
            if (c.prefers == Some(o.spec.id) && !c.declined_by(o.spec.id, self.now))
                || (!in_wait && satisfies(o, &req))
            {
                best = Some((c.key, slot as u32));
            }
        }
        best
    }

    /// Walks the primary skill's level facets from the top level down
    /// (`highest_first`) or from the minimum up; inside a level, in
    /// least-loaded order.
    pub(super) fn by_level(
        &self,
        req: &Req,
        primary: SkillLevel,
        highest_first: bool,
    ) -> Option<u32> {
        let mut levels: SmallVec<[u8; 5]> = (primary.level..=MAX_LEVEL).collect();
        if highest_first {
            levels.reverse();
        }
        for l in levels {
            let Some(f) = self
                .facets
                .get(FacetKey::Skill(req.channel, primary.skill, l))
            else {
                continue;
            };
            if let Some(s) = self.first_matching(&[f], req, None) {
                return Some(s);
            }
        }
        None
    }

    /// Picks the smallest set of facets that contains every operator able to
    /// take the conversation, and walks it in strategy order.
    pub(super) fn by_plan(&self, req: &Req) -> Option<u32> {
        let ch = req.channel;
        let mut plan: SmallVec<[u32; 5]> = SmallVec::new();
        let mut plan_size = usize::MAX;
        if req.skills.is_empty() && req.team.is_none() {
            plan.push(self.facets.get(FacetKey::All(ch))?);
            plan_size = 0;
        }
        for s in &req.skills {
            let mut p: SmallVec<[u32; 5]> = SmallVec::new();
            let mut size = 0;
            for l in s.level..=MAX_LEVEL {
                if let Some(f) = self.facets.get(FacetKey::Skill(ch, s.skill, l)) {
                    size += self.facets.len(f);
                    p.push(f);
                }
            }
            if size == 0 {
                return None;
            }
            if size < plan_size {
                plan = p;
                plan_size = size;
            }
        }
        if let Some(t) = req.team {
            let f = self.facets.get(FacetKey::Team(ch, t))?;
            let size = self.facets.len(f);
            if size < plan_size {
                plan.clear();
                plan.push(f);
            }
        }
        match (&self.policy.selection, self.ring_pointer) {
            // Continue after the pointer; wrap around if nobody after it fits.
            (Selection::Ring, Some(p)) => self
                .first_matching(
                    &plan,
                    req,
                    Some((0, 0, OperatorId(p.0.saturating_add(1)), 0)),
                )
                .or_else(|| self.first_matching(&plan, req, None)),
            _ => self.first_matching(&plan, req, None),
        }
    }

    /// Merges the facets in key order and returns the first operator that
    /// meets every requirement.
    pub(super) fn first_matching(
        &self,
        facets: &[u32],
        req: &Req,
        from: Option<OpEntry>,
    ) -> Option<u32> {
        let lower = from.unwrap_or((0, 0, OperatorId(0), 0));
        let mut iters: SmallVec<
            [std::iter::Peekable<std::collections::btree_set::Range<'_, OpEntry>>; 5],
        > = facets
            .iter()
            .map(|&f| self.facets.set(f).range(lower..).peekable())
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
            if satisfies(self.op_at(e.3), req) {
                return Some(e.3);
            }
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

/// Whether an operator meets a conversation's requirements (skills, levels,
/// team). Readiness is checked separately.
pub(super) fn satisfies(o: &Operator, req: &Req) -> bool {
    !req.excluded.contains(&o.spec.id)
        && req.skills.iter().all(|s| o.level(s.skill) >= s.level)
        && req
            .team
            .is_none_or(|t| o.spec.teams.binary_search(&t).is_ok())
}
