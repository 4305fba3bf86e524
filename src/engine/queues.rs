//! Queues and routing profiles as the engine holds them: each queue's rules
//! by index (0 is the default queue), each profile's access to the queues,
//! and the distinct operator orderings ("kinds") the facets are kept in.
//!
//! Built once from the policy; a policy change rebuilds the engine.

use super::*;
use crate::policy::{OfferPolicy, OperatorAttribute, OverflowStep, PreferredOperatorPolicy};

/// The profile slot of operators without a profile.
pub(super) const NO_PROFILE: u16 = u16::MAX;

/// One queue's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueueRules {
    pub(crate) id: Option<QueueId>,
    pub(crate) selection: Selection,
    /// The facet kind of `selection`.
    pub(crate) kind: u8,
    pub(crate) steps: Vec<OverflowStep>,
    /// When each step takes effect, from entering routing.
    pub(crate) step_at: SmallVec<[Millis; 4]>,
    /// Per step: the facet kind of a [`Relax::Select`] step (else unused).
    pub(crate) step_kinds: SmallVec<[u8; 4]>,
    pub(crate) offers: Option<OfferPolicy>,
    pub(crate) preferred: PreferredOperatorPolicy,
    pub(crate) priority: Option<u32>,
    pub(crate) head_start: Millis,
    /// The distinct positive delays of the profiles that serve this queue,
    /// ascending: the waits at which more operators may take its conversations.
    pub(crate) delays: SmallVec<[Millis; 4]>,
    /// Profiles (slots) that serve this queue, in profile order.
    pub(crate) served_by: SmallVec<[u16; 8]>,
}

/// One profile's access to the queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProfileRules {
    /// Per queue index: `(priority, need)` if served, where `need` is how
    /// many of the queue's delays must have passed (0: no delay).
    pub(crate) access: Vec<Option<(u32, u8)>>,
    /// The queues served, grouped by priority (the group's number first),
    /// most urgent group first; inside a group in queue-index order.
    pub(crate) classes: Vec<(u32, SmallVec<[u16; 4]>)>,
    /// The kinds any of its queues may order by (bit per kind).
    pub(crate) kinds: u64,
}

/// How operators are ordered in one kind of facet: the key function of a
/// selection strategy. Strategies with the same key share facets.
#[derive(Debug, Clone, Eq)]
pub(crate) enum KeyFn {
    /// Load ratio on the channel, then last pick on it.
    Load,
    Idle(IdleClock),
    LastPick,
    Open,
    Handled,
    /// Operator-id order (ring and fixed order).
    Ids,
    Keys(SmallVec<[crate::policy::OrderKey; 2]>),
}

impl KeyFn {
    pub(crate) fn of(s: &Selection) -> KeyFn {
        match s {
            Selection::LeastLoaded
            | Selection::MostProficient
            | Selection::SkillDevelopment { .. } => KeyFn::Load,
            Selection::LongestIdle { clock } => KeyFn::Idle(*clock),
            Selection::RoundRobin => KeyFn::LastPick,
            Selection::FewestConversations => KeyFn::Open,
            Selection::FewestHandled => KeyFn::Handled,
            Selection::Ring | Selection::FixedOrder => KeyFn::Ids,
            Selection::OrderBy { keys } => KeyFn::Keys(keys.iter().copied().collect()),
        }
    }

    /// The operator's position under this key on channel `ch`.
    pub(crate) fn key(&self, o: &Operator, ch: usize) -> (u64, u64) {
        match self {
            KeyFn::Idle(clock) => (idle(o, *clock).0, 0),
            KeyFn::LastPick => (o.last_pick, 0),
            KeyFn::Open => (u64::from(o.open), o.last_pick),
            KeyFn::Handled => (o.handled, o.last_pick),
            KeyFn::Ids => (0, 0),
            // Exact: distinct ratios with capacities below 2^16 differ by
            // at least 2^-32, so 32 fractional bits never merge them.
            // Channel-local on purpose: an assignment on one channel
            // re-keys that channel's index entries only.
            KeyFn::Load => (ratio(o, ch), o.on[ch].pick),
            KeyFn::Keys(keys) => {
                let word = |i: usize| {
                    keys.get(i).map_or(0, |k| {
                        let v = match k.attribute {
                            OperatorAttribute::LoadRatio => ratio(o, ch),
                            OperatorAttribute::OpenConversations => u64::from(o.open),
                            OperatorAttribute::Handled => o.handled,
                            OperatorAttribute::IdleSince(c) => idle(o, c).0,
                            OperatorAttribute::LastPicked => o.last_pick,
                            OperatorAttribute::Level(s) => u64::from(o.level(s)),
                        };
                        if k.descending { u64::MAX - v } else { v }
                    })
                };
                (word(0), word(1))
            }
        }
    }
}

/// Written out field by field: the derived comparison of these small enums
/// compiles (at opt-level 1) to wide loads that include padding bytes,
/// which valgrind reports as a branch on uninitialised memory.
impl PartialEq for KeyFn {
    fn eq(&self, other: &Self) -> bool {
        let attr = |a: &OperatorAttribute, b: &OperatorAttribute| match (a, b) {
            (OperatorAttribute::IdleSince(x), OperatorAttribute::IdleSince(y)) => {
                x.code() == y.code()
            }
            (OperatorAttribute::Level(x), OperatorAttribute::Level(y)) => x.0 == y.0,
            _ => a.code() == b.code(),
        };
        match (self, other) {
            (KeyFn::Idle(x), KeyFn::Idle(y)) => x.code() == y.code(),
            (KeyFn::Keys(x), KeyFn::Keys(y)) => {
                x.len() == y.len()
                    && x.iter().zip(y.iter()).all(|(p, q)| {
                        p.descending == q.descending && attr(&p.attribute, &q.attribute)
                    })
            }
            (KeyFn::Load, KeyFn::Load)
            | (KeyFn::LastPick, KeyFn::LastPick)
            | (KeyFn::Open, KeyFn::Open)
            | (KeyFn::Handled, KeyFn::Handled)
            | (KeyFn::Ids, KeyFn::Ids) => true,
            _ => false,
        }
    }
}

fn ratio(o: &Operator, ch: usize) -> u64 {
    (u64::from(o.on[ch].load) << 32) / u64::from(o.on[ch].cap.max(1))
}

fn idle(o: &Operator, clock: IdleClock) -> Timestamp {
    match clock {
        IdleClock::LastConversationEnded => o.last_ended_at,
        IdleClock::BecameAvailable => o.available_since,
        IdleClock::LastAssigned => o.last_assigned_at,
    }
}

/// The queues, profiles and kinds of a (validated) policy.
pub(crate) struct Routing {
    pub(crate) queues: Vec<QueueRules>,
    pub(crate) queue_idx: HashMap<QueueId, u16>,
    pub(crate) profiles: Vec<ProfileRules>,
    pub(crate) profile_idx: HashMap<ProfileId, u16>,
    pub(crate) kinds: Vec<KeyFn>,
    /// The largest head start any conversation can have (tier + queue +
    /// head-start steps), so aging keys stay unsigned.
    pub(crate) max_head_start: u64,
}

/// The most distinct operator orderings a policy may use across its queues
/// and steps (they are kept in a 64-bit mask per profile).
pub const MAX_ORDERINGS: usize = 64;

impl Routing {
    pub(crate) fn build(policy: &Policy) -> Result<Routing, PolicyError> {
        let mut kinds: Vec<KeyFn> = Vec::new();
        let mut kind_of = |s: &Selection| -> Result<u8, PolicyError> {
            let k = KeyFn::of(s);
            if let Some(i) = kinds.iter().position(|x| *x == k) {
                return Ok(i as u8);
            }
            if kinds.len() == MAX_ORDERINGS {
                return Err(PolicyError::OutOfRange {
                    field: "queues[].selection (distinct operator orderings)",
                    value: kinds.len() as u64 + 1,
                    max: MAX_ORDERINGS as u64,
                });
            }
            kinds.push(k);
            Ok((kinds.len() - 1) as u8)
        };
        let max_tier_head = policy
            .tiers
            .iter()
            .map(|t| t.head_start.0.min(Timestamp::MAX.0))
            .max()
            .unwrap_or(0);
        let mut queues = Vec::with_capacity(policy.queues.len() + 1);
        let default = (
            None,
            &policy.selection,
            &policy.overflow,
            policy.overflow_offsets(),
            policy.offers,
            policy.preferred_operator,
            None,
            Millis::ZERO,
        );
        let declared = policy.queues.iter().map(|q| {
            (
                Some(q.id),
                &q.selection,
                &q.overflow,
                q.overflow_offsets(),
                q.offers,
                q.preferred_operator,
                q.priority,
                q.head_start,
            )
        });
        let mut max_head_start = 0u64;
        for (id, selection, steps, at, offers, preferred, priority, head_start) in
            std::iter::once(default).chain(declared)
        {
            let kind = kind_of(selection)?;
            let mut step_kinds = SmallVec::new();
            let mut head = max_tier_head.saturating_add(head_start.0);
            for s in steps {
                step_kinds.push(match &s.relax {
                    Relax::Select(sel) => kind_of(sel)?,
                    _ => kind,
                });
                if let Relax::HeadStart(h) = s.relax {
                    head = head.saturating_add(h.0);
                }
            }
            max_head_start = max_head_start.max(head.min(Timestamp::MAX.0));
            queues.push(QueueRules {
                id,
                selection: selection.clone(),
                kind,
                steps: steps.clone(),
                step_at: at.into_iter().collect(),
                step_kinds,
                offers,
                preferred,
                priority,
                head_start,
                delays: SmallVec::new(),
                served_by: SmallVec::new(),
            });
        }
        let queue_idx: HashMap<QueueId, u16> = policy
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| (q.id, i as u16 + 1))
            .collect();
        let index_of = |q: Option<QueueId>| q.map_or(0, |q| queue_idx[&q]);
        for p in &policy.profiles {
            for pq in &p.queues {
                let d = &mut queues[usize::from(index_of(pq.queue))].delays;
                if pq.delay > Millis::ZERO && !d.contains(&pq.delay) {
                    d.push(pq.delay);
                }
            }
        }
        for q in &mut queues {
            q.delays.sort_unstable();
        }
        let mut profiles = Vec::with_capacity(policy.profiles.len());
        for (slot, p) in policy.profiles.iter().enumerate() {
            let mut access = vec![None; queues.len()];
            let mut served: Vec<(u32, u16)> = Vec::new();
            let mut mask = 0u64;
            for pq in &p.queues {
                let qi = index_of(pq.queue);
                let q = &mut queues[usize::from(qi)];
                let need = match q.delays.iter().position(|d| *d == pq.delay) {
                    Some(i) => i as u8 + 1,
                    None => 0,
                };
                access[usize::from(qi)] = Some((pq.priority, need));
                q.served_by.push(slot as u16);
                served.push((pq.priority, qi));
                mask |= 1 << q.kind;
                for k in &q.step_kinds {
                    mask |= 1 << k;
                }
            }
            served.sort_unstable();
            let mut classes: Vec<(u32, SmallVec<[u16; 4]>)> = Vec::new();
            for (prio, qi) in served {
                match classes.last_mut() {
                    Some((p, c)) if *p == prio => c.push(qi),
                    _ => classes.push((prio, [qi].into_iter().collect())),
                }
            }
            profiles.push(ProfileRules {
                access,
                classes,
                kinds: mask,
            });
        }
        let profile_idx = policy
            .profiles
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i as u16))
            .collect();
        Ok(Routing {
            queues,
            queue_idx,
            profiles,
            profile_idx,
            kinds,
            max_head_start,
        })
    }
}

impl Engine {
    /// The index of a declared queue.
    pub(super) fn queue_index(&self, q: QueueId) -> Result<u16, EngineError> {
        self.queue_idx
            .get(&q)
            .copied()
            .ok_or(EngineError::UnknownQueue(q))
    }

    /// The queue index of a conversation's spec (validated before).
    pub(super) fn queue_of_spec(&self, spec: &ConversationSpec) -> u16 {
        spec.queue
            .and_then(|q| self.queue_idx.get(&q).copied())
            .unwrap_or(0)
    }

    /// The profile slot of an operator's profile (validated before).
    pub(super) fn profile_slot(&self, p: Option<ProfileId>) -> u16 {
        p.and_then(|p| self.profile_idx.get(&p).copied())
            .unwrap_or(NO_PROFILE)
    }

    /// The kinds an operator is kept in: those of the queues they serve.
    pub(super) fn kinds_of(&self, o: &Operator) -> u64 {
        match self.profiles.get(usize::from(o.profile)) {
            // Kind 0 (the default queue's) always, so readiness is known
            // even for a profile that serves nothing.
            Some(p) => p.kinds | 1,
            None => self.all_kinds,
        }
    }

    /// Whether the operator serves queue `q` with the delays passed in
    /// `reach`; operators without a profile serve every queue at once.
    pub(super) fn serves(&self, o: &Operator, q: u16, reach: u8) -> bool {
        match self.profiles.get(usize::from(o.profile)) {
            None => true,
            Some(p) => p
                .access
                .get(usize::from(q))
                .copied()
                .flatten()
                .is_some_and(|(_, need)| need <= reach),
        }
    }

    /// The operator's priority for queue `q` (0 for operators without a
    /// profile), `None` if they do not serve it.
    pub(super) fn priority_for(&self, o: &Operator, q: u16) -> Option<u32> {
        match self.profiles.get(usize::from(o.profile)) {
            None => Some(0),
            Some(p) => p.access.get(usize::from(q)).copied().flatten().map(|a| a.0),
        }
    }

    /// Keeps the count of operators without a profile, and the waiting
    /// groups across queues that only they read: kept while there is one
    /// (and several queues), dropped when the last goes.
    pub(super) fn count_unprofiled(&mut self, profile: u16, delta: i32) {
        if profile != NO_PROFILE {
            return;
        }
        self.unprofiled = self.unprofiled.saturating_add_signed(delta);
        self.buckets
            .set_multi(self.multi_queue && self.unprofiled > 0);
    }

    /// Every handled count back to 0; ready operators are re-keyed.
    pub(super) fn reset_handled(&mut self) {
        for slot in 0..self.operators.len() as u32 {
            if let Some(o) = self.operators[slot as usize].as_mut() {
                if o.handled != 0 {
                    o.handled = 0;
                    self.refresh_op(slot);
                }
            }
        }
    }
}
