//! An independent model of the engine's observable state and the invariants
//! checked after every step. Shared by the property tests (`props.rs`) and
//! the long-running deterministic simulation (`examples/dst.rs`, which
//! includes this file by path), so both check exactly the same rules.
//!
//! The model is written from the documented rules (README, `engine` module
//! docs, event docs), not from the engine's code: it predicts whether each
//! event is accepted, follows loads, holders and states through events and
//! decisions, and checks each decision against the eligibility rule.
//!
//! Only the public API is used.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use switchboard::engine::{DecisionKind, MAX_TIMESTAMP, MoveCause, Records};
use switchboard::policy::{BlockedWork, OfferPolicy};
use switchboard::prelude::*;

/// The outcome of one `apply`.
pub type Outcome = Result<Vec<Decision>, EngineError>;

/// A conversation's place in routing order (priority, time, arrival).
type QueueKey = (u64, u64, u64);

/// An operator as the model sees them.
#[derive(Debug, Clone)]
pub struct MOp {
    /// Available, away, offline.
    pub status: OperatorStatus,
    /// Capacity per channel index.
    pub cap: Vec<u16>,
    /// Load per channel index.
    pub load: Vec<u16>,
    /// Set when a capacity cut left the load above capacity: the load at the
    /// cut, which must never be exceeded until the load is back under.
    pub over: Vec<Option<u16>>,
    /// Skills, sorted by id.
    pub skills: Vec<SkillLevel>,
    /// Teams, sorted.
    pub teams: Vec<TeamId>,
    /// The operator's own wrap-up.
    pub wrap_up: Option<Millis>,
    /// In wrap-up until then.
    pub wrap_until: Option<Timestamp>,
    /// Offers missed or rejected in a row.
    pub missed: u32,
    /// Held back from new work until then (offer cool-down, throughput cap).
    pub held_until: Option<Timestamp>,
    /// Times of the engine's picks of this operator, newest last.
    pub picks: VecDeque<Timestamp>,
    /// Conversations held.
    pub held: BTreeSet<ConversationId>,
    /// Routing profile (`None`: serves every queue at once).
    pub profile: Option<ProfileId>,
    /// Conversations resolved while they held them, since joining or the
    /// last `HandledCountsReset`.
    pub handled: u64,
}

/// One queue's rules as the model reads them: a declared queue's own, or
/// the policy's top-level ones for the default queue.
#[derive(Debug, Clone)]
pub struct QRules {
    /// Operator selection.
    pub selection: Selection,
    /// Overflow ladder.
    pub overflow: Vec<OverflowStep>,
    /// Where its steps are measured from.
    pub timing: OverflowTiming,
    /// Offers, or direct assignment.
    pub offers: Option<OfferPolicy>,
    /// Returning customers.
    pub preferred: PreferredOperatorPolicy,
    /// Replaces the tier priority under strict priority.
    pub priority: Option<u32>,
    /// Added to the tier head start under aging.
    pub head_start: Millis,
}

impl MOp {
    fn level(&self, skill: SkillId) -> u8 {
        self.skills
            .iter()
            .find(|s| s.skill == skill)
            .map_or(0, |s| s.level)
    }
}

/// A live conversation as the model sees it.
#[derive(Debug, Clone)]
pub struct MConv {
    /// As last described (team updated by transfers).
    pub spec: ConversationSpec,
    /// Channel index.
    pub ch: usize,
    /// Lifecycle state.
    pub state: ConversationState,
    /// Who holds it (assigned, responded or offered).
    pub holder: Option<OperatorId>,
    /// When the customer asked.
    pub asked_at: Option<Timestamp>,
    /// Overflow steps are measured from here.
    pub routing_since: Timestamp,
    /// A pending offer lapses then.
    pub offer_expires: Option<Timestamp>,
    /// Only the preferred operator may take it before then.
    pub preferred_until: Option<Timestamp>,
    /// The preference is live (named at arrival while that operator was
    /// logged in; spent once anyone holds it, ended by their logging off).
    pub prefers: Option<OperatorId>,
    /// Operators who declined or missed an offer of it (when not re-offered),
    /// and until when (`None`: the whole wait).
    pub declined: Vec<(OperatorId, Option<Timestamp>)>,
    /// Arrival sequence (queue order's last tie-break).
    pub seq: u64,
    /// First offer made.
    pub offered_at: Option<Timestamp>,
    /// First accepted assignment (direct, accepted offer, claim, transfer to
    /// an operator): what the finished record must report as `assigned_at`.
    pub accepted_at: Option<Timestamp>,
    /// Taken away from an operator at least once (rebalance may then exclude
    /// operators the model does not track).
    pub moved: bool,
}

/// Counters for the summary line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Events applied (accepted or refused).
    pub events: u64,
    /// Events refused (all predicted).
    pub refused: u64,
    /// Decisions checked.
    pub decisions: u64,
    /// Individual invariant checks that passed.
    pub checks: u64,
    /// Work-conservation sweeps (every waiting conversation × every operator).
    pub conservation_sweeps: u64,
}

/// The model and the invariant checks.
#[derive(Debug, Clone)]
pub struct Checker {
    /// The policy under test.
    pub policy: Policy,
    /// Channel ids by index.
    pub chans: Vec<ChannelId>,
    /// Operators.
    pub ops: BTreeMap<OperatorId, MOp>,
    /// Live conversations.
    pub convs: BTreeMap<ConversationId, MConv>,
    /// The latest accepted time.
    pub now: Timestamp,
    /// Counters.
    pub stats: Stats,
    /// Ended this step: id, first offer, first acceptance.
    finished: Vec<(ConversationId, Option<Timestamp>, Option<Timestamp>)>,
    arrivals: u64,
    /// Given by the host (claim, transfer) to an operator who was not
    /// available, with no status change since: stays with them.
    claimed_while_away: BTreeSet<ConversationId>,
    /// Blocked conversations a decision of this step passed over for less
    /// urgent blocking work: (conversation, operator who got that work).
    passed_over: Vec<(ConversationId, OperatorId)>,
    touched_ops: BTreeSet<OperatorId>,
    touched_convs: BTreeSet<ConversationId>,
}

macro_rules! ensure {
    ($self:ident, $cond:expr, $($fmt:tt)+) => {
        $self.stats.checks += 1;
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

impl Checker {
    /// A model of an empty engine under `policy`.
    pub fn new(policy: &Policy) -> Self {
        Checker {
            chans: policy.channels.iter().map(|c| c.id).collect(),
            policy: policy.clone(),
            ops: BTreeMap::new(),
            convs: BTreeMap::new(),
            arrivals: 0,
            claimed_while_away: BTreeSet::new(),
            passed_over: Vec::new(),
            now: Timestamp(0),
            stats: Stats::default(),
            finished: Vec::new(),
            touched_ops: BTreeSet::new(),
            touched_convs: BTreeSet::new(),
        }
    }

    fn ch(&self, c: ChannelId) -> Option<usize> {
        self.chans.iter().position(|x| *x == c)
    }

    /// Live conversations in one of these states, ascending id.
    pub fn convs_in(&self, states: &[ConversationState]) -> Vec<ConversationId> {
        self.convs
            .iter()
            .filter(|(_, c)| states.contains(&c.state))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Operator ids, ascending.
    pub fn op_ids(&self) -> Vec<OperatorId> {
        self.ops.keys().copied().collect()
    }

    // ----- prediction --------------------------------------------------

    fn skills_ok(&self, skills: &[SkillLevel]) -> Result<(), &'static str> {
        for (i, s) in skills.iter().enumerate() {
            if !self.policy.skills.iter().any(|x| x.id == s.skill) {
                return Err("unknown skill");
            }
            if !(1..=5).contains(&s.level) {
                return Err("level out of range");
            }
            if skills[..i].iter().any(|x| x.skill == s.skill) {
                return Err("duplicate skill");
            }
        }
        Ok(())
    }

    fn teams_ok(teams: &[TeamId]) -> Result<(), &'static str> {
        for (i, t) in teams.iter().enumerate() {
            if teams[..i].contains(t) {
                return Err("duplicate team");
            }
        }
        Ok(())
    }

    fn conv_spec_ok(&self, s: &ConversationSpec) -> Result<(), &'static str> {
        self.ch(s.channel).ok_or("unknown channel")?;
        if !self.policy.tiers.iter().any(|t| t.id == s.tier) {
            return Err("unknown tier");
        }
        if s.skills.len() > 4 {
            return Err("too many skills");
        }
        if s.queue.is_some_and(|q| !self.queue_declared(q)) {
            return Err("unknown queue");
        }
        self.skills_ok(&s.skills)
    }

    fn queue_declared(&self, q: QueueId) -> bool {
        self.policy.queues.iter().any(|x| x.id == q)
    }

    fn profile_declared(&self, p: ProfileId) -> bool {
        self.policy.profiles.iter().any(|x| x.id == p)
    }

    /// The rules of queue `q` (`None`: the default queue, the policy's own
    /// top-level rules). A declared queue's fields stand alone.
    pub fn rules(&self, q: Option<QueueId>) -> QRules {
        match q.and_then(|q| self.policy.queues.iter().find(|x| x.id == q)) {
            Some(x) => QRules {
                selection: x.selection.clone(),
                overflow: x.overflow.clone(),
                timing: x.overflow_timing,
                offers: x.offers,
                preferred: x.preferred_operator,
                priority: x.priority,
                head_start: x.head_start,
            },
            None => QRules {
                selection: self.policy.selection.clone(),
                overflow: self.policy.overflow.clone(),
                timing: self.policy.overflow_timing,
                offers: self.policy.offers,
                preferred: self.policy.preferred_operator,
                priority: None,
                head_start: Millis::ZERO,
            },
        }
    }

    /// The operator's profile entry for queue `q`: `Some(None)` when they
    /// have no profile (every queue, priority 0, no delay), `None` when
    /// their profile does not serve `q`.
    fn profile_entry(&self, o: &MOp, q: Option<QueueId>) -> Option<Option<ProfileQueue>> {
        let Some(p) = o.profile else {
            return Some(None);
        };
        let prof = self.policy.profiles.iter().find(|x| x.id == p)?;
        prof.queues.iter().find(|x| x.queue == q).map(|x| Some(*x))
    }

    /// Whether operator `o`'s profile lets them take `c` at `t`: it serves
    /// `c`'s queue and `c` has waited the delay since `routing_since`.
    fn serves(&self, o: &MOp, c: &MConv, t: Timestamp) -> bool {
        match self.profile_entry(o, c.spec.queue) {
            None => false,
            Some(None) => true,
            Some(Some(pq)) => c.routing_since + pq.delay <= t,
        }
    }

    /// The operator's profile priority for `c`'s queue (0 without a profile).
    fn class_of(&self, o: &MOp, c: &MConv) -> u32 {
        self.profile_entry(o, c.spec.queue)
            .flatten()
            .map_or(0, |pq| pq.priority)
    }

    fn op(&self, id: OperatorId) -> Result<&MOp, &'static str> {
        self.ops.get(&id).ok_or("unknown operator")
    }

    fn conv(&self, id: ConversationId) -> Result<&MConv, &'static str> {
        self.convs.get(&id).ok_or("unknown conversation")
    }

    fn can_hold(o: &MOp, ch: usize) -> Result<(), &'static str> {
        if o.status == OperatorStatus::Offline {
            return Err("operator offline");
        }
        if o.cap[ch] == 0 {
            return Err("zero capacity");
        }
        if o.load[ch] >= o.cap[ch] {
            return Err("at capacity");
        }
        Ok(())
    }

    /// Whether the engine must accept `event` (Ok) or refuse it (Err: why).
    pub fn predict(&self, event: &Event) -> Result<(), &'static str> {
        use ConversationState as S;
        let at = event.at();
        if at > MAX_TIMESTAMP {
            return Err("timestamp out of range");
        }
        if at < self.now {
            return Err("time went backwards");
        }
        // An offer due to lapse by `at` lapses before the event (timers
        // fire first), so the conversation is waiting again by then.
        let state_in = |c: &MConv, ok: &[S]| {
            let state = match (c.state, c.offer_expires) {
                (S::Offered, Some(x)) if x <= at => S::Waiting,
                (s, _) => s,
            };
            if ok.contains(&state) {
                Ok(())
            } else {
                Err("wrong state")
            }
        };
        match event {
            Event::OperatorAdded { operator: s, .. } => {
                if self.ops.contains_key(&s.id) {
                    return Err("duplicate operator");
                }
                for (i, c) in s.capacity.iter().enumerate() {
                    self.ch(c.channel).ok_or("unknown channel")?;
                    if s.capacity[..i].iter().any(|x| x.channel == c.channel) {
                        return Err("duplicate channel");
                    }
                    if c.capacity == 0 {
                        return Err("zero capacity listed");
                    }
                }
                self.skills_ok(&s.skills)?;
                if s.profile.is_some_and(|p| !self.profile_declared(p)) {
                    return Err("unknown profile");
                }
                Self::teams_ok(&s.teams)
            }
            Event::OperatorProfileChanged {
                operator, profile, ..
            } => {
                self.op(*operator)?;
                if profile.is_some_and(|p| !self.profile_declared(p)) {
                    return Err("unknown profile");
                }
                Ok(())
            }
            Event::HandledCountsReset { .. } => Ok(()),
            Event::OperatorRemoved { operator, .. }
            | Event::OperatorStatusChanged { operator, .. }
            | Event::RebalanceOperator { operator, .. } => self.op(*operator).map(|_| ()),
            Event::OperatorCapacityChanged {
                operator, channel, ..
            } => {
                self.op(*operator)?;
                self.ch(*channel).map(|_| ()).ok_or("unknown channel")
            }
            Event::OperatorSkillsChanged {
                operator, skills, ..
            } => {
                self.op(*operator)?;
                self.skills_ok(skills)
            }
            Event::OperatorTeamsChanged {
                operator, teams, ..
            } => {
                self.op(*operator)?;
                Self::teams_ok(teams)
            }
            Event::BotConversationStarted { conversation, .. } => {
                if self.convs.contains_key(&conversation.id) {
                    return Err("duplicate conversation");
                }
                self.conv_spec_ok(conversation)
            }
            Event::ConversationArrived { conversation, .. } => {
                if self
                    .convs
                    .get(&conversation.id)
                    .is_some_and(|c| c.state != S::WithBot)
                {
                    return Err("duplicate conversation");
                }
                self.conv_spec_ok(conversation)
            }
            Event::FirstResponseSent { conversation, .. } => {
                state_in(self.conv(*conversation)?, &[S::Assigned])
            }
            Event::ConversationResolved { conversation, .. } => state_in(
                self.conv(*conversation)?,
                &[
                    S::WithBot,
                    S::Offered,
                    S::Assigned,
                    S::Responded,
                    S::MessageLeft,
                ],
            ),
            // The customer may hang up while the offer rings.
            Event::ConversationAbandoned { conversation, .. } => {
                state_in(self.conv(*conversation)?, &[S::Waiting, S::Offered])
            }
            Event::MessageLeft { conversation, .. } => {
                state_in(self.conv(*conversation)?, &[S::Waiting])
            }
            Event::ConversationTransferred {
                conversation, to, ..
            } => {
                let c = self.conv(*conversation)?;
                state_in(c, &[S::Offered, S::Assigned, S::Responded])?;
                if let TransferTarget::Operator(p) = to {
                    let o = self.op(*p)?;
                    if c.holder == Some(*p) {
                        return Err("transfer to own holder");
                    }
                    Self::can_hold(o, c.ch)?;
                }
                if let TransferTarget::ToQueue(q) = to {
                    if !self.queue_declared(*q) {
                        return Err("unknown queue");
                    }
                }
                Ok(())
            }
            Event::ConversationClaimed {
                conversation,
                operator,
                ..
            } => {
                let c = self.conv(*conversation)?;
                state_in(c, &[S::Waiting])?;
                Self::can_hold(self.op(*operator)?, c.ch)
            }
            Event::OfferAccepted {
                conversation,
                operator,
                ..
            }
            | Event::OfferRejected {
                conversation,
                operator,
                ..
            } => {
                let c = self.conv(*conversation)?;
                self.op(*operator)?;
                if c.state != S::Offered || c.holder != Some(*operator) {
                    return Err("no such offer");
                }
                match c.offer_expires {
                    Some(x) if at >= x => Err("offer expired"),
                    _ => Ok(()),
                }
            }
            Event::Tick { .. } | Event::Assign { .. } | Event::Rebalance { .. } => Ok(()),
            _ => Err("an event this model does not know"),
        }
    }

    // ----- the step ------------------------------------------------------

    /// Applies `event` to `engine` and checks every invariant that applies.
    /// `full`: compare the whole state (else only what the step touched).
    /// `conserve`: after a matching call, sweep every waiting conversation ×
    /// every operator for a missed match.
    pub fn step(
        &mut self,
        engine: &mut Engine,
        event: &Event,
        full: bool,
        conserve: bool,
    ) -> Result<Outcome, String> {
        self.stats.events += 1;
        self.touched_ops.clear();
        self.touched_convs.clear();
        if let Event::PolicyChanged { policy, .. } = event {
            return self.policy_step(engine, event, policy);
        }
        let expect = self.predict(event);
        let before = expect.is_err().then(|| engine.clone());
        let res = engine.apply(event.clone());
        match (expect, &res) {
            (Err(why), Ok(ds)) => {
                return Err(format!(
                    "engine accepted an event the rules refuse ({why}); decisions {ds:?}"
                ));
            }
            (Ok(()), Err(e)) => {
                return Err(format!("engine refused a valid event: {e}"));
            }
            (Err(_), Err(e)) => {
                self.stats.refused += 1;
                ensure!(self, !e.to_string().is_empty(), "empty error message");
                let before = before.expect("cloned when refusal predicted");
                ensure!(
                    self,
                    *engine == before,
                    "refused event ({e}) changed the engine"
                );
                let fin = engine.take_records();
                ensure!(
                    self,
                    fin == Records::default(),
                    "refused event closed records {fin:?}"
                );
                return Ok(res);
            }
            (Ok(()), Ok(_)) => {}
        }
        let ds = res.as_ref().map_err(|e| e.to_string())?;
        let at = event.at();
        // Offers lapse while time advances, before the event itself.
        let lapsed = ds
            .iter()
            .take_while(|d| {
                matches!(
                    d.kind,
                    DecisionKind::Unassigned {
                        cause: MoveCause::OfferExpired
                    }
                )
            })
            .count();
        for d in &ds[..lapsed] {
            self.decision(d, at)?;
        }
        self.now = at;
        // The event's own withdrawals and removals come before its effect.
        let own = ds[lapsed..]
            .iter()
            .take_while(|d| {
                matches!(
                    d.kind,
                    DecisionKind::Unassigned {
                        cause: MoveCause::Withdrawn | MoveCause::OperatorRemoved
                    }
                )
            })
            .count();
        for d in &ds[lapsed..lapsed + own] {
            self.decision(d, at)?;
        }
        self.event(event)?;
        let mut matched_any = false;
        for d in &ds[lapsed + own..] {
            matched_any |= !matches!(d.kind, DecisionKind::Unassigned { .. });
            self.decision(d, at)?;
        }
        // No silent offer end and no work left behind: an unavailable
        // operator keeps no unanswered work unless the host defers moves.
        if !self.policy.rebalance.defer_to_rebalance {
            for (id, o) in &self.ops {
                if o.status == OperatorStatus::Available {
                    continue;
                }
                for c in &o.held {
                    let st = self.convs[c].state;
                    self.stats.checks += 1;
                    if matches!(st, ConversationState::Assigned | ConversationState::Offered)
                        && !self.claimed_while_away.contains(c)
                    {
                        return Err(format!(
                            "{c} ({st:?}) stays with {id}, who is {:?}",
                            o.status
                        ));
                    }
                }
            }
        }
        // A blocked conversation passed over for less urgent blocking work
        // must have been taken or have an operator reserved for it.
        for (c, t) in std::mem::take(&mut self.passed_over) {
            let Some(v) = engine.conversation(c) else {
                continue;
            };
            if v.state != ConversationState::Waiting {
                continue;
            }
            ensure!(
                self,
                v.reserved_by.is_some_and(|r| r != t)
                    || engine.operator(t).is_some_and(|o| o.reserved_for.is_some()),
                "{t} got less urgent blocking work while {c}, which they could take but for \
                 the block, waits unreserved ({:?})",
                v.reserved_by
            );
        }
        let matching = matches!(
            event,
            Event::Assign { .. } | Event::Rebalance { .. } | Event::RebalanceOperator { .. }
        );
        ensure!(
            self,
            matching || !matched_any,
            "only matching calls assign; {event:?} gave {ds:?}"
        );
        for d in ds {
            ensure!(self, d.at == at || d.at <= at, "decision from the future");
            ensure!(
                self,
                d.input_seq == engine.inputs_applied(),
                "decision input_seq {} != {}",
                d.input_seq,
                engine.inputs_applied()
            );
        }
        // Nothing disappears: exactly the conversations that ended come out,
        // with the first offer and the first acceptance (not the offer) as
        // the end of the wait.
        let records = engine.take_records();
        let mut fin: Vec<(ConversationId, Option<Timestamp>, Option<Timestamp>)> = records
            .conversations
            .iter()
            .map(|f| (f.conversation, f.offered_at, f.assigned_at))
            .chain(
                records
                    .bot_conversations
                    .iter()
                    .map(|b| (b.conversation, None, None)),
            )
            .collect();
        fin.sort_unstable();
        self.finished.sort_unstable();
        ensure!(
            self,
            fin == self.finished,
            "finished {fin:?}, expected {:?}",
            self.finished
        );
        self.finished.clear();
        if full {
            self.compare_all(engine)?;
        } else {
            let ops: Vec<OperatorId> = self.touched_ops.iter().copied().collect();
            for id in ops {
                self.compare_op(engine, id)?;
            }
            let convs: Vec<ConversationId> = self.touched_convs.iter().copied().collect();
            for id in convs {
                self.compare_conv(engine, id)?;
            }
        }
        if conserve && matches!(event, Event::Assign { .. } | Event::Rebalance { .. }) {
            self.work_conserved(engine)?;
        }
        Ok(res)
    }

    // ----- a policy change ------------------------------------------------

    /// Whether a policy change at `at` is accepted: a valid policy that
    /// declares every channel, tier and skill live work uses.
    fn predict_policy(&self, at: Timestamp, p: &Policy) -> Result<(), &'static str> {
        if at > MAX_TIMESTAMP || at < self.now {
            return Err("bad time");
        }
        p.validate().map_err(|_| "invalid policy")?;
        let chan = |c: ChannelId| p.channels.iter().any(|x| x.id == c);
        let skill = |s: &SkillLevel| p.skills.iter().any(|x| x.id == s.skill);
        for o in self.ops.values() {
            if (0..self.chans.len()).any(|i| o.cap[i] > 0 && !chan(self.chans[i])) {
                return Err("an operator has capacity on a dropped channel");
            }
            if !o.skills.iter().all(skill) {
                return Err("an operator holds a dropped skill");
            }
            // As with channels, tiers and skills: a profile in use stays
            // declared.
            if o.profile
                .is_some_and(|x| !p.profiles.iter().any(|d| d.id == x))
            {
                return Err("an operator has a dropped profile");
            }
        }
        for c in self.convs.values() {
            if !chan(c.spec.channel) {
                return Err("a conversation is on a dropped channel");
            }
            if !p.tiers.iter().any(|t| t.id == c.spec.tier) {
                return Err("a conversation is of a dropped tier");
            }
            if !c.spec.skills.iter().all(skill) {
                return Err("a conversation requires a dropped skill");
            }
            if c.spec
                .queue
                .is_some_and(|q| !p.queues.iter().any(|d| d.id == q))
            {
                return Err("a conversation is in a dropped queue");
            }
        }
        Ok(())
    }

    /// A policy change: refused with the engine unchanged, or accepted with
    /// only timer moves as decisions, then the model takes the new policy
    /// (channel indexes by id, the new cap's picks and hold-back) and the
    /// whole state is compared.
    fn policy_step(
        &mut self,
        engine: &mut Engine,
        event: &Event,
        policy: &Policy,
    ) -> Result<Outcome, String> {
        let at = event.at();
        let expect = self.predict_policy(at, policy);
        let before = engine.clone();
        let res = engine.apply(event.clone());
        match (expect, &res) {
            (Err(why), Ok(ds)) => {
                return Err(format!(
                    "engine accepted a policy change the rules refuse ({why}); decisions {ds:?}"
                ));
            }
            (Ok(()), Err(e)) => return Err(format!("engine refused a valid policy change: {e}")),
            (Err(_), Err(e)) => {
                self.stats.refused += 1;
                ensure!(
                    self,
                    *engine == before,
                    "refused change ({e}) changed the engine"
                );
                let fin = engine.take_records();
                ensure!(
                    self,
                    fin == Records::default(),
                    "refused change closed records"
                );
                return Ok(res);
            }
            (Ok(()), Ok(_)) => {}
        }
        let ds = res.as_ref().map_err(|e| e.to_string())?;
        // Timers due by `at` fire under the old rules; then only operators
        // newly away too long under the new ones give up work.
        let lapsed = ds
            .iter()
            .take_while(|d| {
                matches!(
                    d.kind,
                    DecisionKind::Unassigned {
                        cause: MoveCause::OfferExpired
                    }
                )
            })
            .count();
        for d in &ds[..lapsed] {
            self.decision(d, at)?;
        }
        self.now = at;
        self.adopt(policy);
        for d in &ds[lapsed..] {
            // Work of absent operators the new rules move at once.
            ensure!(
                self,
                matches!(
                    d.kind,
                    DecisionKind::Unassigned {
                        cause: MoveCause::AwayTooLong
                            | MoveCause::OperatorAway
                            | MoveCause::OperatorOffline
                    }
                ),
                "a policy change placed work: {d:?}"
            );
            self.decision(d, at)?;
        }
        let records = engine.take_records();
        ensure!(
            self,
            records.conversations.is_empty() && records.bot_conversations.is_empty(),
            "a policy change ended conversations"
        );
        self.finished.clear();
        self.compare_all(engine)?;
        Ok(res)
    }

    /// The model under a new policy, as the README describes the change.
    fn adopt(&mut self, p: &Policy) {
        let chans: Vec<ChannelId> = p.channels.iter().map(|c| c.id).collect();
        let old: Vec<Option<usize>> = chans
            .iter()
            .map(|id| self.chans.iter().position(|x| x == id))
            .collect();
        let keep = p.throughput_cap.map_or(0, |c| c.max_assignments as usize);
        for o in self.ops.values_mut() {
            o.cap = old.iter().map(|i| i.map_or(0, |i| o.cap[i])).collect();
            o.load = old.iter().map(|i| i.map_or(0, |i| o.load[i])).collect();
            o.over = old.iter().map(|i| i.and_then(|i| o.over[i])).collect();
            // Held work stays: a load above capacity (direct routing the new
            // policy no longer allows) is then like a cut's.
            for i in 0..chans.len() {
                if o.load[i] > o.cap[i] {
                    o.over[i] = Some(o.load[i].max(o.over[i].unwrap_or(0)));
                }
            }
            while o.picks.len() > keep {
                o.picks.pop_front();
            }
            if let (Some(cap), Some(&first)) = (p.throughput_cap, o.picks.front()) {
                let until = first + cap.window;
                if o.picks.len() == keep && until > self.now {
                    o.held_until = o.held_until.max(Some(until));
                }
            }
        }
        for c in self.convs.values_mut() {
            c.ch = chans
                .iter()
                .position(|x| *x == c.spec.channel)
                .expect("checked: the channel is kept");
        }
        self.chans = chans;
        self.policy = p.clone();
    }

    fn release(&mut self, cid: ConversationId) {
        let Some(c) = self.convs.get_mut(&cid) else {
            return;
        };
        let ch = c.ch;
        if let Some(h) = c.holder.take() {
            if let Some(o) = self.ops.get_mut(&h) {
                o.load[ch] -= 1;
                o.held.remove(&cid);
                if o.over[ch].is_some() && o.load[ch] <= o.cap[ch] {
                    o.over[ch] = None;
                }
                self.touched_ops.insert(h);
            }
        }
        c.offer_expires = None;
        c.preferred_until = None;
    }

    fn hold(&mut self, cid: ConversationId, op: OperatorId, state: ConversationState) {
        let c = self.convs.get_mut(&cid).expect("live");
        c.holder = Some(op);
        c.state = state;
        c.preferred_until = None;
        c.prefers = None;
        let ch = c.ch;
        let o = self.ops.get_mut(&op).expect("known");
        o.load[ch] += 1;
        o.held.insert(cid);
        self.touched_ops.insert(op);
        self.touched_convs.insert(cid);
    }

    fn finish(&mut self, cid: ConversationId) {
        self.release(cid);
        self.claimed_while_away.remove(&cid);
        if let Some(c) = self.convs.remove(&cid) {
            self.finished.push((cid, c.offered_at, c.accepted_at));
        }
        self.touched_convs.insert(cid);
    }

    /// Whether `op`'s decline of `c` still keeps them from it at `t`.
    fn declined(c: &MConv, op: OperatorId, t: Timestamp) -> bool {
        c.declined
            .iter()
            .any(|&(o, until)| o == op && until.is_none_or(|u| t < u))
    }

    fn set_status(&mut self, id: OperatorId, status: OperatorStatus) {
        let o = self.ops.get_mut(&id).expect("known");
        if o.status != status {
            for c in &o.held {
                self.claimed_while_away.remove(c);
            }
        }
        o.status = status;
        self.touched_ops.insert(id);
        if status == OperatorStatus::Offline {
            self.end_waits_for(id);
        }
    }

    fn end_waits_for(&mut self, id: OperatorId) {
        for c in self.convs.values_mut() {
            if c.state == ConversationState::Waiting && c.spec.preferred_operator == Some(id) {
                c.preferred_until = None;
                c.prefers = None;
            }
        }
    }

    /// An offer that ends with the conversation must have been reported
    /// (`Unassigned { withdrawn }` before the event's own effect).
    fn not_ringing(&mut self, cid: ConversationId, how: &str) -> Result<(), String> {
        self.stats.checks += 1;
        match self.convs.get(&cid) {
            Some(c) if c.state == ConversationState::Offered => Err(format!(
                "{cid} was {how} while offered to {:?} and no decision withdrew the offer",
                c.holder
            )),
            _ => Ok(()),
        }
    }

    /// A claim or a transfer to a named operator: answered from now on.
    fn host_gave(&mut self, cid: ConversationId, op: OperatorId, at: Timestamp) {
        let c = self.convs.get_mut(&cid).expect("live");
        c.accepted_at.get_or_insert(at);
        if self.ops[&op].status != OperatorStatus::Available {
            self.claimed_while_away.insert(cid);
        }
    }

    /// Whether the engine has `op` reserved for a blocked conversation whose
    /// channel work on `ch` would keep blocked (then `op` takes none).
    fn reserved_against(&self, e: &Engine, op: OperatorId, ch: usize) -> bool {
        e.operator(op)
            .and_then(|v| v.reserved_for)
            .and_then(|r| self.convs.get(&r))
            .is_some_and(|r| self.policy.channels[ch].blocks.contains(&r.spec.channel))
    }

    /// Queue order (the documented keys) at `t`, ending with the arrival
    /// sequence: strict priority uses the queue's priority (else the
    /// tier's), lowered by `Relax::Priority` steps passed; aging adds the
    /// queue's head start and the `Relax::HeadStart` steps passed to the
    /// tier's.
    fn queue_key(&self, c: &MConv, t: Timestamp) -> (u64, u64, u64) {
        let asked = c.asked_at.map_or(0, |t| t.0);
        let tier = self.policy.tiers.iter().find(|t| t.id == c.spec.tier);
        let rules = self.rules(c.spec.queue);
        let passed = if c.state == ConversationState::Waiting {
            self.steps_passed(&rules, c, t)
        } else {
            0
        };
        let mut priority = rules
            .priority
            .unwrap_or_else(|| tier.map_or(0, |t| t.priority));
        let mut head = tier
            .map_or(0, |t| t.head_start.0.min(MAX_TIMESTAMP.0))
            .saturating_add(rules.head_start.0);
        for s in &rules.overflow[..passed] {
            match s.relax {
                Relax::Priority(p) => priority = priority.min(p),
                Relax::HeadStart(h) => head = head.saturating_add(h.0),
                _ => {}
            }
        }
        // Only the order matters: a large offset keeps aging keys unsigned.
        const LATER: u64 = 1 << 62;
        match self.policy.queue_order {
            QueueOrder::StrictPriority => (u64::from(priority), asked, c.seq),
            QueueOrder::Aging => (0, asked + LATER - head.min(LATER), c.seq),
            QueueOrder::EarliestDeadline => (
                0,
                asked.saturating_add(tier.map_or(0, |t| t.first_response_target.0)),
                c.seq,
            ),
            QueueOrder::Fifo => (0, asked, c.seq),
            other => panic!("queue order {other:?} is not modelled"),
        }
    }

    /// What operator `oid` pulls first among `cands` (conversations they can
    /// take) at `t`, by the cross-queue order: their profile's priority
    /// classes (lowest first; one class without a profile) among the
    /// conversations they fit as anyone would, queue order inside the
    /// class; conversations preferring them compete by queue key with the
    /// winning class (and count in their own class when they also fit).
    fn pull_pick<'a>(
        &self,
        oid: OperatorId,
        o: &MOp,
        cands: impl Iterator<Item = (&'a ConversationId, &'a MConv)>,
        t: Timestamp,
    ) -> Option<(QueueKey, ConversationId)> {
        let mut best: Option<((u32, QueueKey), ConversationId)> = None;
        let mut preferred: Option<(QueueKey, ConversationId)> = None;
        for (id, c) in cands {
            let key = self.queue_key(c, t);
            if c.prefers == Some(oid)
                && !Self::declined(c, oid, t)
                && preferred.is_none_or(|p| key < p.0)
            {
                preferred = Some((key, *id));
            }
            if !self.fits_normally(oid, o, c, t) {
                continue;
            }
            let rank = (self.class_of(o, c), key);
            if best.is_none_or(|b| rank < b.0) {
                best = Some((rank, *id));
            }
        }
        match (best, preferred) {
            (Some(((_, k), b)), Some(p)) => Some(if p.0 < k { p } else { (k, b) }),
            (Some(((_, k), b)), None) => Some((k, b)),
            (None, p) => p,
        }
    }

    /// Whether operator `o` could take waiting conversation `c` at `t` but
    /// for a channel that blocks it (everything else in order).
    fn blocked_but_eligible(&self, oid: OperatorId, o: &MOp, c: &MConv, t: Timestamp) -> bool {
        let ch = c.ch;
        if c.state != ConversationState::Waiting
            || !self.blocked(o, ch)
            || o.status != OperatorStatus::Available
            || o.wrap_until.is_some_and(|w| w > t)
            || o.held_until.is_some_and(|h| h > t)
            || o.load[ch] >= o.cap[ch]
        {
            return false;
        }
        if c.prefers == Some(oid) && !Self::declined(c, oid, t) {
            return true;
        }
        self.fits_normally(oid, o, c, t)
    }

    /// Whether operator `o` meets `c`'s requirements in force at `t` as any
    /// operator would (not as its preferred operator): no preferred wait
    /// running, no decline, skills, teams, and their profile serves its
    /// queue with the delay passed. Readiness is not checked.
    fn fits_normally(&self, oid: OperatorId, o: &MOp, c: &MConv, t: Timestamp) -> bool {
        if c.preferred_until.is_some_and(|u| t < u) || Self::declined(c, oid, t) {
            return false;
        }
        let (_, skills, teams) = self.req_at(c, t);
        skills.iter().all(|s| o.level(s.skill) >= s.level)
            && Self::teams_fit(o, &teams)
            && self.serves(o, c, t)
    }

    /// A team restriction is a set: the operator must be in any of them.
    fn teams_fit(o: &MOp, teams: &[TeamId]) -> bool {
        teams.is_empty() || teams.iter().any(|t| o.teams.contains(t))
    }

    /// The event's own effect (validated already).
    fn event(&mut self, event: &Event) -> Result<(), String> {
        use ConversationState as S;
        let n = self.chans.len();
        match event.clone() {
            Event::OperatorAdded { operator: s, .. } => {
                let mut cap = vec![0; n];
                for c in &s.capacity {
                    cap[self.ch(c.channel).expect("checked")] = c.capacity;
                }
                let mut skills = s.skills.to_vec();
                skills.sort_unstable();
                let mut teams = s.teams.to_vec();
                teams.sort_unstable();
                self.ops.insert(
                    s.id,
                    MOp {
                        status: s.status,
                        cap,
                        load: vec![0; n],
                        over: vec![None; n],
                        skills,
                        teams,
                        wrap_up: s.wrap_up,
                        wrap_until: None,
                        missed: 0,
                        held_until: None,
                        picks: VecDeque::new(),
                        held: BTreeSet::new(),
                        profile: s.profile,
                        handled: 0,
                    },
                );
                self.touched_ops.insert(s.id);
            }
            Event::OperatorRemoved { operator, .. } => {
                let held: Vec<ConversationId> = self.ops[&operator].held.iter().copied().collect();
                if !held.is_empty() {
                    return Err(format!(
                        "{operator} was removed holding {held:?} without a decision for them"
                    ));
                }
                for cid in held {
                    self.release(cid);
                    let c = self.convs.get_mut(&cid).expect("held is live");
                    c.state = S::Waiting;
                    self.touched_convs.insert(cid);
                }
                self.ops.remove(&operator);
                self.touched_ops.insert(operator);
                self.end_waits_for(operator);
            }
            Event::OperatorStatusChanged {
                operator, status, ..
            } => self.set_status(operator, status),
            Event::OperatorCapacityChanged {
                operator,
                channel,
                capacity,
                ..
            } => {
                let ch = self.ch(channel).expect("checked");
                let o = self.ops.get_mut(&operator).expect("checked");
                o.cap[ch] = capacity;
                if o.load[ch] > capacity {
                    let mark = o.over[ch].unwrap_or(o.load[ch]).min(o.load[ch]);
                    o.over[ch] = Some(mark);
                } else {
                    o.over[ch] = None;
                }
                self.touched_ops.insert(operator);
            }
            Event::OperatorSkillsChanged {
                operator, skills, ..
            } => {
                let o = self.ops.get_mut(&operator).expect("checked");
                o.skills = skills.to_vec();
                o.skills.sort_unstable();
                self.touched_ops.insert(operator);
            }
            Event::OperatorTeamsChanged {
                operator, teams, ..
            } => {
                let o = self.ops.get_mut(&operator).expect("checked");
                o.teams = teams.to_vec();
                o.teams.sort_unstable();
                self.touched_ops.insert(operator);
            }
            Event::OperatorProfileChanged {
                operator, profile, ..
            } => {
                self.ops.get_mut(&operator).expect("checked").profile = profile;
                self.touched_ops.insert(operator);
            }
            Event::HandledCountsReset { .. } => {
                for o in self.ops.values_mut() {
                    o.handled = 0;
                }
            }
            Event::BotConversationStarted { conversation, .. } => {
                let ch = self.ch(conversation.channel).expect("checked");
                self.touched_convs.insert(conversation.id);
                self.convs.insert(
                    conversation.id,
                    MConv {
                        spec: conversation,
                        ch,
                        state: S::WithBot,
                        holder: None,
                        asked_at: None,
                        routing_since: self.now,
                        offer_expires: None,
                        preferred_until: None,
                        prefers: None,
                        declined: Vec::new(),
                        seq: 0,
                        offered_at: None,
                        accepted_at: None,
                        moved: false,
                    },
                );
            }
            Event::ConversationArrived { at, conversation } => {
                let ch = self.ch(conversation.channel).expect("checked");
                let wait = self.rules(conversation.queue).preferred.wait;
                let prefers = conversation.preferred_operator.filter(|p| {
                    self.ops
                        .get(p)
                        .is_some_and(|o| o.status != OperatorStatus::Offline)
                });
                let preferred_until = prefers.and((wait > Millis::ZERO).then(|| at + wait));
                self.touched_convs.insert(conversation.id);
                self.arrivals += 1;
                let seq = self.arrivals;
                self.convs.insert(
                    conversation.id,
                    MConv {
                        spec: conversation,
                        ch,
                        state: S::Waiting,
                        holder: None,
                        asked_at: Some(at),
                        routing_since: at,
                        offer_expires: None,
                        preferred_until,
                        prefers,
                        declined: Vec::new(),
                        seq,
                        offered_at: None,
                        accepted_at: None,
                        moved: false,
                    },
                );
            }
            Event::FirstResponseSent { conversation, .. } => {
                self.convs.get_mut(&conversation).expect("checked").state = S::Responded;
                self.touched_convs.insert(conversation);
            }
            Event::ConversationResolved { at, conversation } => {
                self.not_ringing(conversation, "resolved")?;
                if let Some(h) = self.convs[&conversation].holder {
                    let o = self.ops.get_mut(&h).expect("holder is known");
                    o.handled += 1;
                    let wrap = o.wrap_up.unwrap_or(self.policy.wrap_up);
                    if wrap > Millis::ZERO {
                        o.wrap_until = Some(at + wrap);
                    }
                }
                self.finish(conversation);
            }
            Event::ConversationAbandoned { conversation, .. } => {
                self.not_ringing(conversation, "abandoned")?;
                self.finish(conversation);
            }
            Event::MessageLeft { conversation, .. } => {
                let c = self.convs.get_mut(&conversation).expect("checked");
                c.state = S::MessageLeft;
                c.prefers = None;
                c.preferred_until = None;
                self.touched_convs.insert(conversation);
            }
            Event::ConversationTransferred {
                at,
                conversation,
                to,
            } => {
                self.not_ringing(conversation, "transferred")?;
                self.release(conversation);
                self.touched_convs.insert(conversation);
                match to {
                    TransferTarget::Operator(p) => {
                        self.hold(conversation, p, S::Assigned);
                        self.host_gave(conversation, p, at);
                    }
                    TransferTarget::Team(_)
                    | TransferTarget::Queue
                    | TransferTarget::ToQueue(_) => {
                        let c = self.convs.get_mut(&conversation).expect("checked");
                        c.state = S::Waiting;
                        c.routing_since = at;
                        c.spec.team = match to {
                            TransferTarget::Team(t) => Some(t),
                            _ => None,
                        };
                        // Into that queue: its rules from now on.
                        if let TransferTarget::ToQueue(q) = to {
                            c.spec.queue = Some(q);
                        }
                    }
                }
            }
            Event::ConversationClaimed {
                conversation,
                operator,
                ..
            } => {
                let c = &self.convs[&conversation];
                let o = &self.ops[&operator];
                self.stats.checks += 1;
                if o.load[c.ch] >= o.cap[c.ch] {
                    return Err("claim beyond capacity accepted".into());
                }
                self.hold(conversation, operator, S::Assigned);
                self.host_gave(conversation, operator, self.now);
            }
            Event::OfferAccepted {
                at,
                conversation,
                operator,
            } => {
                let c = self.convs.get_mut(&conversation).expect("checked");
                c.state = S::Assigned;
                c.offer_expires = None;
                // The wait ends here, not at the offer.
                c.accepted_at.get_or_insert(at);
                self.ops.get_mut(&operator).expect("checked").missed = 0;
                self.touched_convs.insert(conversation);
                self.touched_ops.insert(operator);
            }
            // Their effects arrive as decisions.
            Event::OfferRejected { .. }
            | Event::Tick { .. }
            | Event::Assign { .. }
            | Event::Rebalance { .. }
            | Event::RebalanceOperator { .. } => {}
            other => return Err(format!("event not modelled: {other:?}")),
        }
        Ok(())
    }

    /// How many of the queue's overflow steps are in force at `t`; each
    /// step's `after` counts from routing, or from the step before.
    fn steps_passed(&self, rules: &QRules, c: &MConv, t: Timestamp) -> usize {
        let mut from = c.routing_since;
        rules
            .overflow
            .iter()
            .take_while(|s| {
                let due = from + s.after;
                if rules.timing == OverflowTiming::FromPreviousStep {
                    from = due;
                }
                due <= t
            })
            .count()
    }

    /// Requirements in force for a waiting conversation at `t` under its
    /// queue's ladder: overflow step, skills (sorted by id), teams (any of
    /// them; empty: no restriction).
    fn req_at(&self, c: &MConv, t: Timestamp) -> (u8, Vec<SkillLevel>, Vec<TeamId>) {
        let rules = self.rules(c.spec.queue);
        let step = self.steps_passed(&rules, c, t);
        let mut skills = c.spec.skills.to_vec();
        skills.sort_unstable();
        let mut teams: Vec<TeamId> = c.spec.team.into_iter().collect();
        for s in &rules.overflow[..step] {
            match &s.relax {
                Relax::LowerLevels(n) => {
                    for sk in &mut skills {
                        sk.level = sk.level.saturating_sub(*n).max(1);
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
                        sk.level = sk.level.saturating_sub(*by).max(1);
                    }
                }
                // Widens a restriction; nothing to widen without one.
                Relax::AddTeam(x) => {
                    if !teams.is_empty() && !teams.contains(x) {
                        teams.push(*x);
                    }
                }
                // Order and selection only.
                Relax::Priority(_) | Relax::HeadStart(_) | Relax::Select(_) => {}
                other => panic!("relaxation {other:?} is not modelled"),
            }
        }
        (step as u8, skills, teams)
    }

    /// The selection in force after `step` steps of the queue: the last
    /// `Relax::Select` passed, else the queue's own.
    fn selection_at(rules: &QRules, step: usize) -> &Selection {
        rules.overflow[..step]
            .iter()
            .rev()
            .find_map(|s| match &s.relax {
                Relax::Select(sel) => Some(sel),
                _ => None,
            })
            .unwrap_or(&rules.selection)
    }

    /// The routes a pick under `selection` may report.
    fn routes_of(selection: &Selection) -> &'static [Route] {
        match selection {
            Selection::LeastLoaded => &[Route::LeastLoaded],
            Selection::LongestIdle { .. } => &[Route::LongestIdle],
            Selection::RoundRobin => &[Route::RoundRobin],
            Selection::FewestConversations => &[Route::FewestConversations],
            Selection::FewestHandled => &[Route::FewestHandled],
            Selection::OrderBy { .. } => &[Route::OrderBy],
            Selection::Ring => &[Route::Ring],
            Selection::FixedOrder => &[Route::FixedOrder],
            Selection::MostProficient => &[Route::MostProficient],
            Selection::SkillDevelopment { .. } => &[Route::SkillDevelopment, Route::MostProficient],
            _ => &[],
        }
    }

    fn blocked(&self, o: &MOp, ch: usize) -> bool {
        let target = self.chans[ch];
        self.policy
            .channels
            .iter()
            .enumerate()
            .any(|(j, spec)| o.load[j] > 0 && spec.blocks.contains(&target))
    }

    /// Ready for new work on `ch` at `t` (status, wrap-up, hold-back, room,
    /// blocking).
    fn ready(&self, o: &MOp, ch: usize, t: Timestamp) -> bool {
        o.load[ch] < o.cap[ch] && self.ready_above_capacity(o, ch, t)
    }

    /// Everything but room: what direct routing above capacity to a
    /// preferred operator needs (some capacity on the channel, and a load
    /// that can still count).
    fn ready_above_capacity(&self, o: &MOp, ch: usize, t: Timestamp) -> bool {
        o.status == OperatorStatus::Available
            && o.wrap_until.is_none_or(|w| w <= t)
            && o.held_until.is_none_or(|h| h <= t)
            && o.cap[ch] > 0
            && o.load[ch] < u16::MAX
            && !self.blocked(o, ch)
    }

    /// Checks one decision against the rules and follows it in the model.
    fn decision(&mut self, d: &Decision, at: Timestamp) -> Result<(), String> {
        use ConversationState as S;
        self.stats.decisions += 1;
        let Some(c) = self.convs.get(&d.conversation) else {
            return Err(format!("decision on a conversation not live: {d:?}"));
        };
        let Some(o) = self.ops.get(&d.operator) else {
            return Err(format!("decision names an unknown operator: {d:?}"));
        };
        ensure!(self, d.channel == c.spec.channel, "channel {d:?}");
        ensure!(self, d.tier == c.spec.tier, "tier {d:?}");
        ensure!(
            self,
            d.queue == c.spec.queue,
            "queue {:?}, the conversation is in {:?}: {d:?}",
            d.queue,
            c.spec.queue
        );
        let ch = c.ch;
        // The conversation's queue decides offers, the preferred-operator
        // rules, the ladder and the selection.
        let rules = self.rules(c.spec.queue);
        match d.kind {
            DecisionKind::Unassigned { cause } => {
                ensure!(
                    self,
                    c.holder == Some(d.operator) && c.state.is_held(),
                    "unassigned from a non-holder: {d:?} (model {:?} {:?})",
                    c.state,
                    c.holder
                );
                ensure!(
                    self,
                    d.reason.load_before == o.load[ch] && d.reason.capacity == o.cap[ch],
                    "unassign load/capacity {:?} vs model {}/{}",
                    d.reason,
                    o.load[ch],
                    o.cap[ch]
                );
                let offer = matches!(cause, MoveCause::OfferExpired | MoveCause::OfferRejected);
                if offer || cause == MoveCause::Withdrawn {
                    ensure!(
                        self,
                        c.state == S::Offered,
                        "offer cause on a {:?} conversation",
                        c.state
                    );
                }
                if cause == MoveCause::OfferExpired {
                    ensure!(
                        self,
                        c.offer_expires == Some(d.at) && d.at <= at,
                        "lapse at {:?}, offer expires {:?}",
                        d.at,
                        c.offer_expires
                    );
                }
                if cause == MoveCause::CapacityCut {
                    ensure!(
                        self,
                        o.load[ch] > o.cap[ch],
                        "capacity-cut move from an operator within capacity"
                    );
                }
                if c.state == S::Responded {
                    ensure!(
                        self,
                        matches!(
                            cause,
                            MoveCause::AwayTooLong
                                | MoveCause::OperatorOffline
                                | MoveCause::OperatorRemoved
                        ),
                        "a replied conversation moved for {cause:?}"
                    );
                }
                let reoffer = rules.offers.is_some_and(|o| o.reoffer_declined);
                let away_after = rules.offers.map_or(0, |o| o.away_after_missed);
                let cooldown = rules.offers.map_or(Millis::ZERO, |o| {
                    if cause == MoveCause::OfferRejected {
                        o.cooldown_after_reject
                    } else {
                        o.cooldown_after_miss
                    }
                });
                let forget = rules
                    .offers
                    .and_then(|o| o.forget_decline_after)
                    .map(|x| d.at + x);
                self.release(d.conversation);
                self.claimed_while_away.remove(&d.conversation);
                let c = self.convs.get_mut(&d.conversation).expect("live");
                c.state = S::Waiting;
                c.moved = true;
                if cause == MoveCause::Requested {
                    // Never routed back to the operator the host took it from.
                    c.declined.retain(|x| x.0 != d.operator);
                    c.declined.push((d.operator, None));
                } else if offer && !reoffer {
                    match c.declined.iter_mut().find(|x| x.0 == d.operator) {
                        Some(x) => {
                            x.1 = match (x.1, forget) {
                                (Some(a), Some(b)) => Some(a.max(b)),
                                _ => None,
                            }
                        }
                        None => c.declined.push((d.operator, forget)),
                    }
                }
                self.touched_convs.insert(d.conversation);
                if offer {
                    let o = self.ops.get_mut(&d.operator).expect("known");
                    o.missed += 1;
                    if away_after > 0
                        && o.missed >= away_after
                        && o.status == OperatorStatus::Available
                    {
                        self.set_status(d.operator, OperatorStatus::Away);
                    }
                    if cooldown > Millis::ZERO {
                        let o = self.ops.get_mut(&d.operator).expect("known");
                        o.held_until = o.held_until.max(Some(d.at + cooldown));
                    }
                }
            }
            DecisionKind::Assigned | DecisionKind::Offered { .. } => {
                ensure!(
                    self,
                    c.state == S::Waiting,
                    "assigned a {:?} conversation: {d:?}",
                    c.state
                );
                ensure!(self, d.at == at, "decision time {:?} != {at:?}", d.at);
                ensure!(
                    self,
                    d.reason.load_before == o.load[ch] && d.reason.capacity == o.cap[ch],
                    "reason load {}/{} vs model {}/{}: {d:?}",
                    d.reason.load_before,
                    d.reason.capacity,
                    o.load[ch],
                    o.cap[ch]
                );
                // Direct routing above capacity: the preferred operator only
                // needs to be available, free of wrap-up and hold-back, with
                // some capacity on the channel, and not blocked.
                let over_ok = rules.preferred.over_capacity
                    && d.reason.route == Route::PreferredOperator
                    && self.ready_above_capacity(o, ch, at);
                ensure!(
                    self,
                    self.ready(o, ch, at) || over_ok,
                    "operator not ready (status {:?}, wrap {:?}, load {:?}/{:?}, blocked {}): {d:?}",
                    o.status,
                    o.wrap_until,
                    o.load,
                    o.cap,
                    self.blocked(o, ch)
                );
                ensure!(
                    self,
                    !Self::declined(c, d.operator, at),
                    "{} declined {} before and re-offers are off: {d:?}",
                    d.operator,
                    d.conversation
                );
                let asked = c.asked_at.expect("waiting has asked");
                ensure!(
                    self,
                    d.reason.waited == at.since(asked),
                    "waited {:?}, expected {:?}",
                    d.reason.waited,
                    at.since(asked)
                );
                let preferred = c.spec.preferred_operator;
                if c.preferred_until.is_some_and(|u| at < u) {
                    ensure!(
                        self,
                        preferred == Some(d.operator),
                        "{} went to {} during the wait for {:?}",
                        d.conversation,
                        d.operator,
                        preferred
                    );
                }
                if d.reason.route == Route::PreferredOperator {
                    ensure!(
                        self,
                        preferred == Some(d.operator),
                        "preferred route to a non-preferred operator: {d:?}"
                    );
                } else {
                    let (step, skills, teams) = self.req_at(c, at);
                    ensure!(
                        self,
                        d.reason.overflow_step == step,
                        "overflow step {} expected {step}: {d:?}",
                        d.reason.overflow_step
                    );
                    let selection = Self::selection_at(&rules, usize::from(step));
                    ensure!(
                        self,
                        Self::routes_of(selection).contains(&d.reason.route),
                        "route {:?} under selection {selection:?} in force: {d:?}",
                        d.reason.route
                    );
                    // Profile: serves the queue, and the delay has passed.
                    ensure!(
                        self,
                        self.serves(o, c, at),
                        "{} (profile {:?}) does not serve {:?} for {} yet (routing since {:?}): {d:?}",
                        d.operator,
                        o.profile,
                        c.spec.queue,
                        d.conversation,
                        c.routing_since
                    );
                    let mut got: Vec<(SkillId, u8)> = d
                        .reason
                        .matched
                        .iter()
                        .map(|m| (m.skill, m.required))
                        .collect();
                    got.sort_unstable();
                    let want: Vec<(SkillId, u8)> =
                        skills.iter().map(|s| (s.skill, s.level)).collect();
                    ensure!(
                        self,
                        got == want,
                        "matched {got:?}, required in force {want:?}"
                    );
                    for m in &d.reason.matched {
                        ensure!(
                            self,
                            m.level >= m.required && m.level == o.level(m.skill),
                            "skill match {m:?}, operator has {}",
                            o.level(m.skill)
                        );
                    }
                    ensure!(
                        self,
                        Self::teams_fit(o, &teams),
                        "{} is not in any of {teams:?} required by {}",
                        d.operator,
                        d.conversation
                    );
                }
                // Blocking work for `d.operator` while a more urgent
                // conversation they are blocked from waits (skew moves,
                // which pick among a few candidates, excepted).
                if self.policy.blocked_work == BlockedWork::Reserve
                    && d.reason.trigger != Trigger::Rebalance
                {
                    let blocks = &self.policy.channels[ch].blocks;
                    // The one the operator would pull first, this
                    // conversation included (cross-queue order of their
                    // profile): a blocked one means it was passed over.
                    let most_urgent = self.pull_pick(
                        d.operator,
                        o,
                        self.convs.iter().filter(|(id, x)| {
                            **id == d.conversation
                                || (blocks.contains(&x.spec.channel)
                                    && self.blocked_but_eligible(d.operator, o, x, at))
                        }),
                        at,
                    );
                    if let Some((_, blocked)) = most_urgent {
                        if blocked != d.conversation {
                            self.passed_over.push((blocked, d.operator));
                        }
                    }
                }
                match d.kind {
                    DecisionKind::Offered { expires_at } => {
                        let Some(p) = rules.offers else {
                            return Err(format!("offer without an offer policy: {d:?}"));
                        };
                        ensure!(
                            self,
                            expires_at == at + p.timeout,
                            "offer expires {expires_at:?}"
                        );
                        self.hold(d.conversation, d.operator, S::Offered);
                        let c = self.convs.get_mut(&d.conversation).expect("live");
                        c.offer_expires = Some(expires_at);
                        c.offered_at.get_or_insert(at);
                    }
                    _ => {
                        ensure!(
                            self,
                            rules.offers.is_none(),
                            "direct assignment under an offer policy: {d:?}"
                        );
                        self.hold(d.conversation, d.operator, S::Assigned);
                        let c = self.convs.get_mut(&d.conversation).expect("live");
                        c.accepted_at.get_or_insert(at);
                    }
                }
                if let Some(cap) = self.policy.throughput_cap {
                    let o = self.ops.get_mut(&d.operator).expect("known");
                    o.picks.push_back(at);
                    while o.picks.len() > cap.max_assignments as usize {
                        o.picks.pop_front();
                    }
                    if o.picks.len() == cap.max_assignments as usize {
                        let until = o.picks[0] + cap.window;
                        if until > at {
                            o.held_until = o.held_until.max(Some(until));
                        }
                    }
                }
            }
            other => return Err(format!("decision kind not modelled: {other:?}")),
        }
        Ok(())
    }

    // ----- state comparison ----------------------------------------------

    fn compare_op(&mut self, e: &Engine, id: OperatorId) -> Result<(), String> {
        let Some(m) = self.ops.get(&id) else {
            ensure!(self, e.operator(id).is_none(), "{id} should be gone");
            return Ok(());
        };
        let Some(v) = e.operator(id) else {
            return Err(format!("{id} missing from the engine"));
        };
        ensure!(
            self,
            v.spec.status == m.status,
            "{id} status {:?}, model {:?}",
            v.spec.status,
            m.status
        );
        let held: BTreeSet<ConversationId> = v.held.iter().copied().collect();
        ensure!(
            self,
            held.len() == v.held.len() && held == m.held,
            "{id} holds {:?}, model {:?}",
            v.held,
            m.held
        );
        let open: u32 = m.load.iter().map(|&l| u32::from(l)).sum();
        ensure!(self, v.open == open, "{id} open {} != {open}", v.open);
        for (i, ch) in self.chans.iter().enumerate() {
            let got = e.operator_load(id, *ch).map_err(|e| e.to_string())?;
            ensure!(
                self,
                got == (m.load[i], m.cap[i]),
                "{id} on {ch}: engine {got:?}, model {:?}",
                (m.load[i], m.cap[i])
            );
            // Capacity: never over, unless a cut put it there and it has
            // received nothing since.
            // Direct routing above capacity: at most one over per held
            // conversation whose customer prefers this operator.
            let preferred_here = m
                .held
                .iter()
                .filter(|c| {
                    self.convs.get(c).is_some_and(|c| {
                        c.ch == i
                            && c.spec.preferred_operator == Some(id)
                            && self.rules(c.spec.queue).preferred.over_capacity
                    })
                })
                .count() as u16;
            ensure!(
                self,
                m.load[i]
                    <= m.cap[i]
                        .max(m.over[i].unwrap_or(0))
                        .saturating_add(preferred_here),
                "{id} over capacity on {ch}: {}/{}",
                m.load[i],
                m.cap[i]
            );
        }
        let held_back = m.held_until.filter(|&h| h > e.now());
        ensure!(
            self,
            v.held_back_until == held_back,
            "{id} held back until {:?}, model {held_back:?}",
            v.held_back_until
        );
        if let Some(w) = v.wrap_up_until {
            ensure!(
                self,
                w > e.now(),
                "{id} wrap-up ended at {w:?} but still set"
            );
        }
        Ok(())
    }

    fn compare_conv(&mut self, e: &Engine, id: ConversationId) -> Result<(), String> {
        let Some(m) = self.convs.get(&id) else {
            ensure!(self, e.conversation(id).is_none(), "{id} should be gone");
            return Ok(());
        };
        let Some(v) = e.conversation(id) else {
            return Err(format!("{id} disappeared (model: {:?})", m.state));
        };
        ensure!(
            self,
            v.state == m.state && v.operator == m.holder,
            "{id}: engine {:?} held by {:?}, model {:?} held by {:?}",
            v.state,
            v.operator,
            m.state,
            m.holder
        );
        ensure!(
            self,
            v.state.is_held() == v.operator.is_some(),
            "{id} {:?} with holder {:?}",
            v.state,
            v.operator
        );
        if let Some(h) = v.operator {
            let holds = e.operator(h).is_some_and(|o| o.held.contains(&id));
            ensure!(self, holds, "{id} says {h} holds it; {h} disagrees");
        }
        ensure!(self, v.asked_at == m.asked_at, "{id} asked_at");
        Ok(())
    }

    /// Whole-state comparison, counts, single ownership, and the model's
    /// own eligibility against `is_eligible`.
    pub fn compare_all(&mut self, e: &Engine) -> Result<(), String> {
        use ConversationState as S;
        let ops = e.operator_ids();
        ensure!(
            self,
            ops == self.op_ids(),
            "operators {ops:?}, model {:?}",
            self.op_ids()
        );
        let convs = e.conversation_ids();
        let model_convs: Vec<ConversationId> = self.convs.keys().copied().collect();
        ensure!(
            self,
            convs == model_convs,
            "conversations {convs:?}, model {model_convs:?}"
        );
        let mut owner: BTreeMap<ConversationId, OperatorId> = BTreeMap::new();
        for &id in &ops {
            self.compare_op(e, id)?;
            for &c in e.operator(id).expect("listed").held {
                ensure!(
                    self,
                    owner.insert(c, id).is_none(),
                    "{c} held by two operators"
                );
            }
        }
        let mut counts = switchboard::engine::StateCounts::default();
        let mut status = switchboard::engine::StatusCounts::default();
        for &id in &convs {
            self.compare_conv(e, id)?;
            let v = e.conversation(id).expect("listed");
            ensure!(
                self,
                owner.get(&id).copied() == v.operator,
                "{id}: operator field {:?}, held lists say {:?}",
                v.operator,
                owner.get(&id)
            );
            match v.state {
                S::WithBot => counts.with_bot += 1,
                S::Waiting => counts.waiting += 1,
                S::Offered => counts.offered += 1,
                S::Assigned | S::Responded => counts.with_operator += 1,
                S::MessageLeft => counts.message_left += 1,
                S::Resolved | S::Abandoned => {
                    return Err(format!("{id} is live but {:?}", v.state));
                }
            }
        }
        ensure!(
            self,
            owner.keys().all(|c| self.convs.contains_key(c)),
            "an operator holds a conversation that is not live"
        );
        ensure!(
            self,
            e.state_counts() == counts,
            "state_counts {:?}, recount {counts:?}",
            e.state_counts()
        );
        for &id in &ops {
            match e.operator(id).expect("listed").spec.status {
                OperatorStatus::Available => status.available += 1,
                OperatorStatus::Away => status.away += 1,
                OperatorStatus::Offline => status.offline += 1,
            }
        }
        ensure!(
            self,
            e.status_counts() == status,
            "status_counts {:?}, recount {status:?}",
            e.status_counts()
        );
        let mut waiting = e.waiting();
        waiting.sort_unstable();
        ensure!(
            self,
            waiting == self.convs_in(&[S::Waiting]),
            "waiting() {waiting:?}"
        );
        // Reservations point both ways, at a waiting conversation, from an
        // available operator.
        for &id in &ops {
            let v = e.operator(id).expect("listed");
            if let Some(r) = v.reserved_for {
                let c = e.conversation(r);
                ensure!(
                    self,
                    v.spec.status == OperatorStatus::Available
                        && c.is_some_and(|c| c.state == S::Waiting && c.reserved_by == Some(id)),
                    "{id} is reserved for {r}, which does not point back or is not waiting"
                );
            }
        }
        // Eligibility by the written rule, where the model knows everything
        // that matters (no preferred operator, never moved).
        let now = e.now();
        for (cid, c) in &self.convs {
            if !Self::fully_known(c) {
                continue;
            }
            for (oid, o) in &self.ops {
                let want = self.model_eligible(e, *oid, o, c, now);
                let got = e.is_eligible(*oid, *cid);
                self.stats.checks += 1;
                if got != want {
                    let (_, skills, teams) = self.req_at(c, now);
                    return Err(format!(
                        "is_eligible({oid}, {cid}) = {got}, the rule says {want} \
                         (required {skills:?} teams {teams:?} queue {:?} routing since {:?}; \
                         operator {o:?})",
                        c.spec.queue, c.routing_since
                    ));
                }
            }
        }
        // Handled counts: conversations resolved while held, since joining
        // or the last reset.
        for o in e.snapshot().operators {
            let want = self.ops.get(&o.spec.id).map_or(0, |m| m.handled);
            ensure!(
                self,
                o.handled == want,
                "{} handled {}, model {want}",
                o.spec.id,
                o.handled
            );
        }
        Ok(())
    }

    /// A waiting conversation whose eligibility the model knows completely
    /// (no preferred operator, never moved away from anyone).
    fn fully_known(c: &MConv) -> bool {
        c.state == ConversationState::Waiting && c.spec.preferred_operator.is_none() && !c.moved
    }

    /// The written eligibility rule for such a conversation: ready on its
    /// channel, not reserved against it, skills and levels and teams in
    /// force, and a profile that serves its queue with the delay passed.
    fn model_eligible(
        &self,
        e: &Engine,
        oid: OperatorId,
        o: &MOp,
        c: &MConv,
        t: Timestamp,
    ) -> bool {
        // An operator reserved for a blocked conversation takes no new work
        // on the channels that block it.
        if !self.ready(o, c.ch, t) || self.reserved_against(e, oid, c.ch) {
            return false;
        }
        let (_, skills, teams) = self.req_at(c, t);
        skills.iter().all(|s| o.level(s.skill) >= s.level)
            && Self::teams_fit(o, &teams)
            && self.serves(o, c, t)
    }

    /// Work conservation: no waiting conversation has an eligible operator.
    pub fn work_conserved(&mut self, e: &Engine) -> Result<(), String> {
        self.stats.conservation_sweeps += 1;
        // Direct routing above capacity: a live preference for an operator
        // who is available, free of wrap-up and hold-back, has the channel
        // and is not blocked must have been served, full or not.
        {
            let now = e.now();
            for (cid, c) in &self.convs {
                if !self.rules(c.spec.queue).preferred.over_capacity {
                    continue;
                }
                let Some(p) = c.prefers.filter(|p| !Self::declined(c, *p, now)) else {
                    continue;
                };
                if c.state != ConversationState::Waiting {
                    continue;
                }
                let Some(o) = self.ops.get(&p) else { continue };
                if self.reserved_against(e, p, c.ch) {
                    continue;
                }
                ensure!(
                    self,
                    !self.ready_above_capacity(o, c.ch, now),
                    "{cid} waits although its preferred operator {p} could take it above capacity"
                );
            }
        }
        // By the model's own rule (profiles and delays included), not only
        // the engine's `is_eligible`.
        let now = e.now();
        for (cid, c) in &self.convs {
            if !Self::fully_known(c) {
                continue;
            }
            for (oid, o) in &self.ops {
                ensure!(
                    self,
                    !self.model_eligible(e, *oid, o, c, now),
                    "work not conserved: {oid} (profile {:?}) fits waiting {cid} (queue {:?}) \
                     after matching",
                    o.profile,
                    c.spec.queue
                );
            }
        }
        let ops = e.operator_ids();
        for c in e.waiting() {
            for &o in &ops {
                ensure!(
                    self,
                    !e.is_eligible(o, c),
                    "work not conserved: {o} is eligible for waiting {c} after matching"
                );
            }
        }
        Ok(())
    }
}
