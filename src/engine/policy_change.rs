//! Changing the policy of a running engine ([`Event::PolicyChanged`]).
//!
//! The engine's own snapshot is carried over to the new policy and
//! restored: the restore path rebuilds every index under the new rules and
//! checks every cross-reference, so a change is exactly as sound as a
//! restore. It all happens on a copy, swapped in only when every step
//! succeeded (validate-then-commit).

use super::*;

impl Engine {
    /// Applies [`Event::PolicyChanged`] at `at` (time already checked).
    pub(super) fn change_policy(
        &mut self,
        at: Timestamp,
        policy: Policy,
        out: &mut Vec<Decision>,
    ) -> Result<usize, EngineError> {
        let refused = |reason: PolicyChangeError| EngineError::PolicyChange { reason };
        // Timers firing up to `at` only free capacity or widen eligibility:
        // they add no use of a channel, tier or skill, so this check on the
        // state before them holds after them.
        self.check_policy_change(&policy)?;
        let mut next = self.clone();
        let mut moved = Vec::new();
        next.begin_input(at, &mut moved);
        next.requeue_unavailable(&mut moved);
        next.close_activities(at);
        let mut next = next.with_policy(policy).map_err(refused)?;
        next.requeue_unavailable(&mut moved);
        next.close_activities(at);
        *self = next;
        let n = moved.len();
        out.append(&mut moved);
        Ok(n)
    }

    /// The checks a policy change passes before anything is built: the
    /// policy is valid and fits the live state.
    pub(super) fn check_policy_change(&self, policy: &Policy) -> Result<(), EngineError> {
        policy
            .validate()
            .map_err(PolicyChangeError::from)
            .and_then(|()| self.check_policy_fits(policy))
            .map_err(|reason| EngineError::PolicyChange { reason })
    }

    /// Whether every live operator and conversation uses only channels,
    /// tiers, skills, queues and profiles the new policy declares.
    fn check_policy_fits(&self, policy: &Policy) -> Result<(), PolicyChangeError> {
        let has_channel = |c: ChannelId| policy.channels.iter().any(|x| x.id == c);
        let has_skill = |s: SkillId| policy.skills.iter().any(|x| x.id == s);
        let mut ops: Vec<&Operator> = self.operators.iter().flatten().collect();
        ops.sort_unstable_by_key(|o| o.spec.id);
        for o in ops {
            let by = UsedBy::Operator(o.spec.id);
            if let Some(c) = o.spec.capacity.iter().find(|c| !has_channel(c.channel)) {
                return Err(PolicyChangeError::ChannelInUse {
                    channel: c.channel,
                    by,
                });
            }
            if let Some(s) = o.spec.skills.iter().find(|s| !has_skill(s.skill)) {
                return Err(PolicyChangeError::SkillInUse { skill: s.skill, by });
            }
            if let Some(p) = o
                .spec
                .profile
                .filter(|p| !policy.profiles.iter().any(|x| x.id == *p))
            {
                return Err(PolicyChangeError::ProfileInUse { profile: p, by });
            }
        }
        let mut convs: Vec<&Conversation> = self.convs.iter().flatten().collect();
        convs.sort_unstable_by_key(|c| c.spec.id);
        for c in convs {
            let by = UsedBy::Conversation(c.spec.id);
            if !has_channel(c.spec.channel) {
                return Err(PolicyChangeError::ChannelInUse {
                    channel: c.spec.channel,
                    by,
                });
            }
            if !policy.tiers.iter().any(|t| t.id == c.spec.tier) {
                return Err(PolicyChangeError::TierInUse {
                    tier: c.spec.tier,
                    by,
                });
            }
            if let Some(s) = c.spec.skills.iter().find(|s| !has_skill(s.skill)) {
                return Err(PolicyChangeError::SkillInUse { skill: s.skill, by });
            }
            if let Some(q) = c
                .spec
                .queue
                .filter(|q| !policy.queues.iter().any(|x| x.id == *q))
            {
                return Err(PolicyChangeError::QueueInUse { queue: q, by });
            }
        }
        Ok(())
    }

    /// This engine's state under `policy`, between inputs (timers up to now
    /// fired, nothing pending).
    fn with_policy(&self, policy: Policy) -> Result<Engine, PolicyChangeError> {
        let mut s: Snapshot = self.snapshot();
        let old = std::mem::replace(&mut s.policy, policy);
        let new = &s.policy;
        // Per-channel averages follow their channel id, not its position.
        if !s.handle_ewma.is_empty() {
            let ewma = &s.handle_ewma;
            s.handle_ewma = new
                .channels
                .iter()
                .map(|c| {
                    old.channels
                        .iter()
                        .position(|x| x.id == c.id)
                        .and_then(|i| ewma.get(i).copied())
                        .unwrap_or(0)
                })
                .collect();
        }
        // A queue the policy drops (no live conversation is in it) takes
        // its counters along.
        s.queue_counters
            .retain(|q| new.queues.iter().any(|x| x.id == q.queue));
        let keep = new.throughput_cap.map_or(0, |c| c.max_assignments as usize);
        for o in &mut s.operators {
            // Pick history on a channel the policy drops goes with it.
            o.picks_on
                .retain(|(c, _)| new.channels.iter().any(|x| x.id == *c));
            // A lowered cap keeps the most recent picks; a full window
            // still open holds the operator back until it ends.
            if o.recent_picks.len() > keep {
                o.recent_picks.drain(..o.recent_picks.len() - keep);
            }
            if let (Some(cap), Some(&first)) = (new.throughput_cap, o.recent_picks.first()) {
                let ends = first + cap.window;
                if o.recent_picks.len() == keep
                    && ends > s.now
                    && o.held_back_until.is_none_or(|h| h < ends)
                {
                    o.held_back_until = Some(ends);
                }
            }
            // Reservations for blocked work are made afresh by the next
            // `assign` under the new channels and blocked-work rule.
            if o.reserved_for.take().is_some() {
                o.dirty = true;
            }
        }
        // Every waiting conversation is looked at again by the next
        // `assign`: new overflow steps, tiers or order may place it now.
        for c in &mut s.conversations {
            if c.state == ConversationState::Waiting {
                c.dirty = true;
            }
        }
        let now = s.now;
        // Work an old policy left for `rebalance` goes back to the queue at
        // once when the new one no longer defers it, as a status change
        // under the new rules would have sent it.
        let undefer = old.rebalance.defer_to_rebalance && !new.rebalance.defer_to_rebalance;
        let away_after = (
            old.rebalance.reassign_responded_after_away,
            new.rebalance.reassign_responded_after_away,
        );
        let mut e = Engine::restore(s).map_err(|e| match e {
            SnapshotError::Policy(p) => PolicyChangeError::Invalid(p),
            SnapshotError::Inconsistent { what, id } => {
                PolicyChangeError::Inconsistent { what, id }
            }
            _ => PolicyChangeError::Inconsistent {
                what: "an operator or conversation does not fit the new policy",
                id: 0,
            },
        })?;
        e.matching = self.matching;
        if undefer {
            let unavailable: Vec<(OperatorId, u32)> = e
                .rebalance_sources
                .iter()
                .copied()
                .filter(|&(_, slot)| e.op_at(slot).spec.status != OperatorStatus::Available)
                .collect();
            e.requeue_pending.extend(unavailable);
        }
        // An operator away longer than a new, shorter "away too long" limit
        // has passed it now: their replied work moves as if the timer had
        // fired at this input (the restore schedules only future ones).
        if let (old_x, Some(x)) = away_after {
            let due: Vec<(OperatorId, u32)> = e
                .op_slots
                .iter()
                .map(|(&id, &slot)| (id, slot))
                .filter(|&(_, slot)| {
                    let o = e.op_at(slot);
                    o.spec.status != OperatorStatus::Available
                        && o.status_since + x <= now
                        && old_x.is_none_or(|ox| o.status_since + ox > now)
                })
                .collect();
            for (id, slot) in due {
                e.rebalance_sources.insert((id, slot));
                if !e.policy.rebalance.defer_to_rebalance {
                    e.requeue_pending.insert((id, slot));
                }
            }
        }
        Ok(e)
    }
}
