//! Seeded teams and queues for the benches.
//!
//! Everything is drawn from one inline SplitMix64 generator, so a scale and a
//! seed always give the same engine state, on every machine.
//!
//! Catalogue: 3 channels (call, capacity 1, blocks chat; chat, capacity 5;
//! email, capacity 10), 10 tiers, 200 skills, 20 teams.
//!
//! State built once per scale (`Fixture::build`):
//! 1. `n` available operators, each with 4–6 skills (levels 1–5, mixed), one
//!    team (15 % two), chat 5 and email 10, call 1 for half of them.
//! 2. **Nearly full**: by hand claims (which skip skill checks, as a person
//!    chose) each operator holds 5 chats (10 % hold only 3–4), 4–9 emails of
//!    10, and half of those with a call seat are on a call. Claimed
//!    conversations are built from the holder's own skills.
//! 3. **Backlog**: chats (80 %) and calls (20 %) needing 1–2 random skills at
//!    mixed minimum levels (15 % for a team) arrive, and `assign` runs, until
//!    exactly `w` stay waiting: the spare seats are used up and the rest
//!    cannot be served by anyone with room. No email waits.
//!
//! Decisions timed on that state:
//! * **arrival**: an email built from a random operator's own skills arrives
//!   and `assign` gives it to the best operator by the strategy. Restored
//!   untimed by resolving it (and an `assign` that decides nothing).
//! * **freed**: a *puller* (full on chat, no call seat, able to serve at least
//!   one waiting chat) resolves a held chat, and `assign` hands the most urgent
//!   waiting chat it can serve to the best eligible operator. Restored untimed
//!   by a copy of the taken chat arriving at the back of the queue (nobody has
//!   room for it, so it waits and the queue keeps its length).
//!
//! No policy timers are armed (no overflow, wrap-up or preferred-operator
//! wait), so the clock can advance 1 ms per step without side effects.

use std::collections::{HashMap, VecDeque};

use switchboard::engine::Matching;
use switchboard::policy::{ProfileQueue, QueueSpec, RoutingProfile};
use switchboard::prelude::*;

pub const CALL: ChannelId = ChannelId(1);
pub const CHAT: ChannelId = ChannelId(2);
pub const EMAIL: ChannelId = ChannelId(3);
pub const SKILLS: u32 = 200;
pub const TIERS: u32 = 10;
pub const TEAMS: u32 = 20;
pub const T0: Timestamp = Timestamp(1_700_000_000_000);
pub const SEED: u64 = 0x5b0a_4d20_2026;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough here.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; bias below 2^-32 for these n).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `permille / 1000`.
    pub fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// Every selection strategy, with the name used in benchmark ids.
pub fn strategies() -> Vec<(&'static str, Selection)> {
    vec![
        ("least_loaded", Selection::LeastLoaded),
        (
            "longest_idle",
            Selection::LongestIdle {
                clock: IdleClock::LastConversationEnded,
            },
        ),
        ("round_robin", Selection::RoundRobin),
        ("most_proficient", Selection::MostProficient),
        (
            "skill_development",
            Selection::SkillDevelopment {
                // Every tenth skill is "demanding"; 30 % of those go to trainees.
                demanding_skills: (0..SKILLS).step_by(10).map(SkillId).collect(),
                share_permille: 300,
            },
        ),
        ("fewest_conversations", Selection::FewestConversations),
        ("ring", Selection::Ring),
        ("fixed_order", Selection::FixedOrder),
    ]
}

/// Queues and profiles of the routed fixtures: 10 queues, all with the
/// strategy under test, and 5 routing profiles, each serving two queues
/// first and a third second. (No delays or overflow steps: the benches'
/// clock runs on for minutes, and a step reached by the whole backlog at
/// once would be a different benchmark.)
pub const QUEUES: u32 = 10;
pub const PROFILES: u32 = 5;

/// The queues profile `p` serves without delay.
pub fn served(p: u32) -> [QueueId; 3] {
    [
        QueueId(2 * p + 1),
        QueueId(2 * p + 2),
        QueueId((2 * p + 2) % QUEUES + 1),
    ]
}

pub fn routed_policy(selection: Selection) -> Policy {
    let mut p = policy(selection.clone());
    p.queues = (1..=QUEUES)
        .map(|q| QueueSpec::new(QueueId(q), format!("queue{q}")).selection(selection.clone()))
        .collect();
    p.profiles = (0..PROFILES)
        .map(|i| {
            let [a, b, c] = served(i);
            RoutingProfile::new(ProfileId(i), format!("profile{i}"))
                .serve(ProfileQueue::new(a, 1))
                .serve(ProfileQueue::new(b, 1))
                .serve(ProfileQueue::new(c, 2))
        })
        .collect();
    p
}

pub fn policy(selection: Selection) -> Policy {
    let channel = |id, name: &str, blocks| ChannelSpec::new(id, name).blocks(blocks);
    let mut p = Policy::new(
        vec![
            channel(CALL, "call", vec![CHAT]),
            channel(CHAT, "chat", vec![]),
            channel(EMAIL, "email", vec![]),
        ],
        (0..TIERS)
            .map(|i| {
                TierSpec::new(TierId(i), format!("tier{i}"), i + 1)
                    .first_response_target(Millis::from_secs(30 + 30 * u64::from(i)))
                    .head_start(Millis::from_secs(60 * u64::from(TIERS - i)))
            })
            .collect(),
        (0..SKILLS)
            .map(|i| SkillSpec::new(SkillId(i), format!("skill{i}")))
            .collect(),
    );
    p.selection = selection;
    p
}

/// What the fixture remembers about an operator (the engine keeps its own copy).
#[derive(Debug, Clone)]
pub struct OpInfo {
    pub id: OperatorId,
    /// Sorted by skill id.
    pub skills: Vec<SkillLevel>,
    pub teams: Vec<TeamId>,
    pub call_seat: bool,
    /// Queues served without delay (empty: unrouted fixture, every queue).
    pub queues: Vec<QueueId>,
}

impl OpInfo {
    fn level(&self, s: SkillId) -> u8 {
        self.skills
            .iter()
            .find(|x| x.skill == s)
            .map_or(0, |x| x.level)
    }

    /// The engine's eligibility rule minus readiness (skills, levels, team).
    pub fn satisfies(&self, c: &ConversationSpec) -> bool {
        c.skills.iter().all(|s| self.level(s.skill) >= s.level)
            && c.team.is_none_or(|t| self.teams.contains(&t))
            && (self.queues.is_empty() || c.queue.is_some_and(|q| self.queues.contains(&q)))
    }
}

/// Operator proficiency mix: levels 1..=5.
const OP_LEVELS: [u64; 5] = [15, 25, 30, 20, 10];
/// Minimum levels asked by conversations: 1..=5.
const REQ_LEVELS: [u64; 5] = [30, 30, 25, 10, 5];

pub fn operator(
    rng: &mut Rng,
    id: u64,
    skill_count: usize,
    routed: bool,
) -> (OperatorSpec, OpInfo) {
    let mut skills: Vec<SkillLevel> = Vec::with_capacity(skill_count);
    while skills.len() < skill_count {
        let s = SkillId(rng.below(u64::from(SKILLS)) as u32);
        if skills.iter().all(|x| x.skill != s) {
            let level = rng.weighted(&OP_LEVELS) as u8 + 1;
            skills.push(SkillLevel::new(s, level));
        }
    }
    skills.sort_unstable();
    let mut teams = vec![TeamId(rng.below(u64::from(TEAMS)) as u32)];
    if rng.chance(150) {
        let t = TeamId(rng.below(u64::from(TEAMS)) as u32);
        if t != teams[0] {
            teams.push(t);
        }
    }
    let call_seat = rng.chance(500);
    let mut spec = OperatorSpec::new(OperatorId(id))
        .status(OperatorStatus::Available)
        .capacity(CHAT, 5)
        .capacity(EMAIL, 10);
    if call_seat {
        spec = spec.capacity(CALL, 1);
    }
    for s in &skills {
        spec = spec.skill(s.skill, s.level);
    }
    for t in &teams {
        spec = spec.team(*t);
    }
    let mut queues = Vec::new();
    if routed {
        let p = (id % u64::from(PROFILES)) as u32;
        spec = spec.profile(ProfileId(p));
        queues = served(p).to_vec();
    }
    let info = OpInfo {
        id: OperatorId(id),
        skills,
        teams,
        call_seat,
        queues,
    };
    (spec, info)
}

/// A backlog conversation: chat or call, 1–2 random skills, mixed levels.
pub fn backlog_conversation(rng: &mut Rng, id: u64, routed: bool) -> ConversationSpec {
    let channel = if rng.chance(800) { CHAT } else { CALL };
    let mut c = ConversationSpec::new(
        ConversationId(id),
        channel,
        TierId(rng.below(u64::from(TIERS)) as u32),
    );
    let n = if rng.chance(600) { 1 } else { 2 };
    while c.skills.len() < n {
        let s = SkillId(rng.below(u64::from(SKILLS)) as u32);
        if c.skills.iter().all(|x| x.skill != s) {
            let level = rng.weighted(&REQ_LEVELS) as u8 + 1;
            c = c.skill(s, level);
        }
    }
    if rng.chance(150) {
        c = c.team(TeamId(rng.below(u64::from(TEAMS)) as u32));
    }
    if routed {
        c = c.queue(QueueId(rng.below(u64::from(QUEUES)) as u32 + 1));
    }
    c
}

/// A conversation `op` can serve: 1–2 of its skills at or below its levels,
/// sometimes for its team.
pub fn servable_conversation(
    rng: &mut Rng,
    id: u64,
    op: &OpInfo,
    channel: ChannelId,
) -> ConversationSpec {
    let mut c = ConversationSpec::new(
        ConversationId(id),
        channel,
        TierId(rng.below(u64::from(TIERS)) as u32),
    );
    let n = if rng.chance(600) { 1 } else { 2 };
    while c.skills.len() < n.min(op.skills.len()) {
        let s = op.skills[rng.below(op.skills.len() as u64) as usize];
        if c.skills.iter().all(|x| x.skill != s.skill) {
            let level = rng.below(u64::from(s.level)) as u8 + 1;
            c = c.skill(s.skill, level);
        }
    }
    if rng.chance(150) {
        c = c.team(op.teams[0]);
    }
    if !op.queues.is_empty() {
        c = c.queue(op.queues[rng.below(op.queues.len() as u64) as usize]);
    }
    c
}

/// Drives one engine through the timed steps; cloned alongside the engine for
/// the scan-equivalence check so both see the same inputs.
#[derive(Debug, Clone)]
pub struct Driver {
    pub rng: Rng,
    pub now: Timestamp,
    pub next_conv: u64,
    pub ops: Vec<OpInfo>,
    /// Indexes into `ops` of operators whose freed chat seat always finds work.
    pub pullers: Vec<usize>,
    next_puller: usize,
    /// Prepared arriving emails (ids are replaced when used).
    pool: Vec<ConversationSpec>,
    next_pool: usize,
}

/// A prepared "arrival" step.
pub struct Arrival {
    pub at: Timestamp,
    pub spec: ConversationSpec,
}

/// A prepared "freed" step.
pub struct Freed {
    pub at: Timestamp,
    pub resolve: ConversationId,
}

impl Driver {
    fn tick(&mut self) -> Timestamp {
        self.now = Timestamp(self.now.0 + 1);
        self.now
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_conv += 1;
        self.next_conv
    }

    pub fn prepare_arrival(&mut self) -> Arrival {
        let mut spec = self.pool[self.next_pool].clone();
        self.next_pool = (self.next_pool + 1) % self.pool.len();
        spec.id = ConversationId(self.fresh_id());
        Arrival {
            at: self.tick(),
            spec,
        }
    }

    /// Undoes an arrival step: resolve what was assigned.
    pub fn restore_arrival(
        &mut self,
        e: &mut Engine,
        decided: &[Decision],
        out: &mut Vec<Decision>,
    ) {
        assert_eq!(decided.len(), 1, "arrival must be assigned");
        let at = self.tick();
        let conversation = decided[0].conversation;
        e.apply_into(Event::ConversationResolved { at, conversation }, out)
            .unwrap();
        let before = out.len();
        e.apply_into(Event::Assign { at }, out).unwrap();
        assert_eq!(out.len(), before, "resolving the arrival must free no work");
        let _ = e.take_records();
    }

    pub fn prepare_freed(&mut self, e: &Engine) -> Freed {
        let op = &self.ops[self.pullers[self.next_puller]];
        self.next_puller = (self.next_puller + 1) % self.pullers.len();
        let view = e.operator(op.id).unwrap();
        let resolve = *view
            .held
            .iter()
            .find(|c| e.conversation(**c).unwrap().spec.channel == CHAT)
            .unwrap();
        Freed {
            at: self.tick(),
            resolve,
        }
    }

    /// Undoes a freed step: a copy of the taken chat joins the back of the queue.
    pub fn restore_freed(&mut self, e: &mut Engine, decided: &[Decision], out: &mut Vec<Decision>) {
        assert_eq!(decided.len(), 1, "a freed puller must take one chat");
        let mut spec = e
            .conversation(decided[0].conversation)
            .unwrap()
            .spec
            .clone();
        spec.id = ConversationId(self.fresh_id());
        spec.preferred_operator = None;
        let at = self.tick();
        e.apply_into(
            Event::ConversationArrived {
                at,
                conversation: spec,
            },
            out,
        )
        .unwrap();
        let before = out.len();
        e.apply_into(Event::Assign { at }, out).unwrap();
        assert_eq!(out.len(), before, "the copy must wait");
        let _ = e.take_records();
    }
}

/// The timed part of an arrival step (never inlined, so profilers can
/// toggle on it: `valgrind --tool=callgrind --toggle-collect=*do_arrival*`).
#[inline(never)]
pub fn do_arrival(e: &mut Engine, a: Arrival, out: &mut Vec<Decision>) {
    e.apply_into(
        Event::ConversationArrived {
            at: a.at,
            conversation: a.spec,
        },
        out,
    )
    .unwrap();
    e.apply_into(Event::Assign { at: a.at }, out).unwrap();
}

/// The timed part of a freed step (never inlined, see `do_arrival`).
#[inline(never)]
pub fn do_freed(e: &mut Engine, f: Freed, out: &mut Vec<Decision>) {
    e.apply_into(
        Event::ConversationResolved {
            at: f.at,
            conversation: f.resolve,
        },
        out,
    )
    .unwrap();
    e.apply_into(Event::Assign { at: f.at }, out).unwrap();
}

pub struct Fixture {
    pub engine: Engine,
    pub driver: Driver,
}

impl Fixture {
    /// `n` operators nearly full, exactly `w` waiting that nobody with room can serve.
    pub fn build(n: usize, w: usize, selection: Selection) -> Fixture {
        Self::build_with(n, w, selection, false)
    }

    /// As [`Fixture::build`], with [`routed_policy`]'s queues and profiles
    /// when `routed`: every operator has a profile, every conversation a queue.
    pub fn build_with(n: usize, w: usize, selection: Selection, routed: bool) -> Fixture {
        let mut rng = Rng::new(SEED ^ (n as u64) << 20 ^ w as u64);
        let policy = if routed {
            routed_policy(selection)
        } else {
            policy(selection)
        };
        let mut e = Engine::new(policy).unwrap();
        let at = T0;
        let mut ops = Vec::with_capacity(n);
        for i in 0..n {
            let count = 4 + rng.below(3) as usize;
            let (spec, info) = operator(&mut rng, i as u64 + 1, count, routed);
            e.apply(Event::OperatorAdded { at, operator: spec })
                .unwrap();
            ops.push(info);
        }
        let mut next_conv = 0u64;
        let mut claim = |e: &mut Engine, rng: &mut Rng, op: &OpInfo, ch: ChannelId| {
            next_conv += 1;
            let c = servable_conversation(rng, next_conv, op, ch);
            let conversation = c.id;
            e.apply(Event::ConversationArrived {
                at,
                conversation: c,
            })
            .unwrap();
            e.apply(Event::ConversationClaimed {
                at,
                conversation,
                operator: op.id,
            })
            .unwrap();
        };
        for op in &ops {
            if op.call_seat && rng.chance(500) {
                claim(&mut e, &mut rng, op, CALL);
            }
            let chats = if rng.chance(100) { 3 + rng.below(2) } else { 5 };
            for _ in 0..chats {
                claim(&mut e, &mut rng, op, CHAT);
            }
            for _ in 0..4 + rng.below(6) {
                claim(&mut e, &mut rng, op, EMAIL);
            }
        }
        let d = e.assign(at).unwrap();
        assert!(d.is_empty());
        // Backlog until exactly `w` wait.
        let mut rounds = 0;
        loop {
            let waiting = e.state_counts().waiting as usize;
            if waiting >= w {
                break;
            }
            for _ in 0..w - waiting {
                next_conv += 1;
                let c = backlog_conversation(&mut rng, next_conv, routed);
                e.apply(Event::ConversationArrived {
                    at,
                    conversation: c,
                })
                .unwrap();
            }
            let _ = e.assign(at).unwrap();
            rounds += 1;
            assert!(rounds < 100, "backlog did not settle");
        }
        assert_eq!(e.state_counts().waiting as usize, w);
        let pullers = find_pullers(&e, &ops);
        assert!(!pullers.is_empty(), "no operator can serve the backlog");
        let mut pool = Vec::with_capacity(4096);
        for _ in 0..4096 {
            let op = &ops[rng.below(n as u64) as usize];
            pool.push(servable_conversation(&mut rng, 0, op, EMAIL));
        }
        Fixture {
            engine: e,
            driver: Driver {
                rng,
                now: at,
                next_conv,
                ops,
                pullers,
                next_puller: 0,
                pool,
                next_pool: 0,
            },
        }
    }

    /// A copy under `Matching::Scan`, after checking on `steps` arrival and
    /// `steps` freed decisions (and their restores) that both engines decide
    /// exactly alike. Both fixtures advance by the same steps.
    pub fn scan_twin(&mut self, steps: usize) -> Fixture {
        let mut scan = Fixture {
            engine: self.engine.clone(),
            driver: self.driver.clone(),
        };
        scan.engine.set_matching(Matching::Scan);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..2 * steps {
            a.clear();
            b.clear();
            if i % 2 == 0 {
                let x = self.driver.prepare_arrival();
                let y = scan.driver.prepare_arrival();
                do_arrival(&mut self.engine, x, &mut a);
                do_arrival(&mut scan.engine, y, &mut b);
                assert_eq!(a, b, "scan and indexed disagree on an arrival");
                let (mut ra, mut rb) = (Vec::new(), Vec::new());
                self.driver.restore_arrival(&mut self.engine, &a, &mut ra);
                scan.driver.restore_arrival(&mut scan.engine, &b, &mut rb);
            } else {
                let x = self.driver.prepare_freed(&self.engine);
                let y = scan.driver.prepare_freed(&scan.engine);
                do_freed(&mut self.engine, x, &mut a);
                do_freed(&mut scan.engine, y, &mut b);
                assert_eq!(a, b, "scan and indexed disagree on a freed operator");
                let (mut ra, mut rb) = (Vec::new(), Vec::new());
                self.driver.restore_freed(&mut self.engine, &a, &mut ra);
                scan.driver.restore_freed(&mut scan.engine, &b, &mut rb);
            }
        }
        assert_eq!(self.engine.waiting(), scan.engine.waiting());
        scan
    }
}

/// Operators with no call seat, full on chat, who can serve a waiting chat.
fn find_pullers(e: &Engine, ops: &[OpInfo]) -> Vec<usize> {
    // Distinct waiting chat requirements, grouped by sorted skill set.
    let mut by_skills: HashMap<Vec<SkillId>, Vec<ConversationSpec>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for id in e.waiting() {
        let c = e.conversation(id).unwrap().spec;
        if c.channel != CHAT {
            continue;
        }
        let mut key: Vec<(SkillId, u8)> = c.skills.iter().map(|s| (s.skill, s.level)).collect();
        key.sort_unstable();
        if !seen.insert((key.clone(), c.team)) {
            continue;
        }
        by_skills
            .entry(key.iter().map(|k| k.0).collect())
            .or_default()
            .push(c.clone());
    }
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if op.call_seat || e.operator_load(op.id, CHAT).unwrap() != (5, 5) {
            continue;
        }
        let ids: Vec<SkillId> = op.skills.iter().map(|s| s.skill).collect();
        let mut subsets: VecDeque<Vec<SkillId>> = VecDeque::new();
        for (a, x) in ids.iter().enumerate() {
            subsets.push_back(vec![*x]);
            for y in &ids[a + 1..] {
                subsets.push_back(vec![*x, *y]);
            }
        }
        if subsets.iter().any(|s| {
            by_skills
                .get(s)
                .is_some_and(|cs| cs.iter().any(|c| op.satisfies(c)))
        }) {
            out.push(i);
        }
    }
    out
}
