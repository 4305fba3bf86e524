//! Index upkeep: keeping the waiting buckets, the operator facets and the
//! requirement timers in step with every change.

use super::*;

impl Engine {
    /// The requirements in force for a waiting conversation at time `t`, and
    /// when they next change.
    pub(super) fn requirements_at(
        &self,
        c: &Conversation,
        t: Timestamp,
    ) -> (Req, u8, bool, Option<Timestamp>) {
        let steps = &self.policy.overflow;
        let step = self
            .overflow_at
            .iter()
            .take_while(|&&after| c.routing_since + after <= t)
            .count();
        let mut skills: SmallVec<[SkillLevel; MAX_REQUIRED_SKILLS]> =
            c.spec.skills.iter().copied().collect();
        skills.sort_unstable();
        let mut team = c.spec.team;
        for s in &steps[..step] {
            match s.relax {
                Relax::LowerLevels(n) => {
                    for sk in &mut skills {
                        sk.level = sk.level.saturating_sub(n).max(MIN_LEVEL);
                    }
                }
                Relax::AnyTeam => team = None,
                Relax::AnyOperator => {
                    skills.clear();
                    team = None;
                }
            }
        }
        let preferring = c.preferred_until.filter(|u| t < *u);
        let next_step = self.overflow_at.get(step).map(|&a| c.routing_since + a);
        // A decline that runs out makes that operator eligible again.
        let decline_ends = c
            .declined
            .iter()
            .filter_map(|d| d.1)
            .filter(|u| t < *u)
            .min();
        let next = [preferring, next_step, decline_ends]
            .into_iter()
            .flatten()
            .min();
        (
            Req {
                channel: c.ch,
                skills,
                team,
                excluded: {
                    let mut x: SmallVec<[OperatorId; 2]> = c
                        .declined
                        .iter()
                        .filter(|d| d.1.is_none_or(|u| t < u))
                        .map(|d| d.0)
                        .collect();
                    x.sort_unstable();
                    x
                },
            },
            step as u8,
            preferring.is_some(),
            next,
        )
    }

    /// Puts a waiting conversation in the bucket for its requirements at `t`
    /// and schedules its next requirement change.
    pub(super) fn place(&mut self, slot: u32, t: Timestamp) {
        let (req, step, in_wait, next) = self.requirements_at(self.conv_at(slot), t);
        let c = self.conv_at(slot);
        let (key, id, ch, prefers) = (c.key, c.spec.id, c.ch, c.prefers);
        let bucket = (!in_wait).then(|| self.buckets.insert(&req, key, slot));
        if let Some(p) = prefers {
            self.buckets.prefer(p, ch, key, slot);
        }
        if let Some(n) = next {
            self.timers.insert((n, Timer::RequirementsChange(id)));
        }
        let c = self.conv_mut(slot);
        c.bucket = bucket;
        c.in_wait = in_wait;
        c.step = step;
        c.timer = next;
        if !c.dirty {
            c.dirty = true;
            self.dirty_convs.push(slot);
        }
    }

    /// Takes a conversation out of its bucket and cancels its timer.
    pub(super) fn unqueue(&mut self, slot: u32) {
        let c = self.conv_at(slot);
        let (bucket, key, timer, id, ch, prefers) =
            (c.bucket, c.key, c.timer, c.spec.id, c.ch, c.prefers);
        if let Some(b) = bucket {
            self.buckets.remove(b, key, slot);
        }
        if let Some(p) = prefers {
            self.buckets.unprefer(p, ch, key, slot);
        }
        if let Some(t) = timer {
            self.timers.remove(&(t, Timer::RequirementsChange(id)));
        }
        let c = self.conv_mut(slot);
        c.bucket = None;
        c.timer = None;
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
                c.preferred_until = None;
                c.prefers = None;
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
                let c = self.conv_mut(s);
                if !c.dirty {
                    c.dirty = true;
                    self.dirty_convs.push(s);
                }
            }
        }
    }

    /// Back to routing with the original priority and waiting time.
    pub(super) fn requeue(&mut self, slot: u32) {
        let c = self.conv_mut(slot);
        c.holder = None;
        c.assigned_at = None;
        c.preferred_until = None;
        self.set_state(slot, ConversationState::Waiting);
        self.place(slot, self.now);
    }

    pub(super) fn facet_keys_of(o: &Operator, ch: u8) -> SmallVec<[FacetKey; 12]> {
        let mut v = SmallVec::new();
        v.push(FacetKey::All(ch));
        for s in &o.spec.skills {
            v.push(FacetKey::Skill(ch, s.skill, s.level));
        }
        for t in &o.spec.teams {
            v.push(FacetKey::Team(ch, *t));
        }
        v
    }

    /// Brings the operator's facet entries in line with its state.
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
        for ch in 0..nch {
            let o = self.op_at(slot);
            let new = self
                .op_can_take_now(o, ch)
                .then(|| self.op_key(o, ch as usize));
            let old = o.keys.iter().find(|k| k.0 == ch).map(|k| (k.1, k.2));
            if new == old {
                continue;
            }
            let id = o.spec.id;
            // One lookup per facet serves both the removal and the insertion.
            let fids: SmallVec<[u32; 12]> = Self::facet_keys_of(o, ch)
                .into_iter()
                .map(|fk| self.facets.id(fk))
                .collect();
            for &f in &fids {
                if let Some((a, b)) = old {
                    self.facets.remove(f, &(a, b, id, slot));
                }
                if let Some((a, b)) = new {
                    self.facets.insert(f, (a, b, id, slot));
                }
            }
            let o = self.op_mut(slot);
            o.keys.retain(|k| k.0 != ch);
            if let Some((a, b)) = new {
                o.keys.push((ch, a, b));
            }
        }
    }

    /// Removes the operator from every facet (before skills or teams change).
    pub(super) fn unindex_op(&mut self, slot: u32) {
        let o = self.op_at(slot);
        let id = o.spec.id;
        let keys = o.keys.clone();
        for (ch, a, b) in keys {
            for fk in Self::facet_keys_of(self.op_at(slot), ch) {
                if let Some(f) = self.facets.get(fk) {
                    self.facets.remove(f, &(a, b, id, slot));
                }
            }
        }
        self.op_mut(slot).keys.clear();
    }
}
