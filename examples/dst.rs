//! Deterministic simulation testing: long random event streams from a seed,
//! every invariant checked after every step.
//!
//! ```sh
//! cargo run --release --example dst -- --seed 7 --events 1000000
//! cargo run --release --example dst -- --seeds 1..200 --events 200000 --seconds 300
//! ```
//!
//! Options: `--seed S` or `--seeds A..B` (half-open), `--events N` per seed
//! (default 100000), `--scan-every K` (the O(operators × conversations)
//! work-conservation sweep after every K-th matching call; default 16),
//! `--full-every F` (whole-state comparison every F events; default 256),
//! `--seconds T` (stop starting new seeds after T seconds),
//! `--no-differential` (skip the lockstep `Matching::Scan` engine),
//! `--record DIR` (write each seed's stream and a fresh engine's state
//! hashes and decision digests after every event into DIR: the recorded
//! streams `tests/integration/recorded.rs` replays).
//!
//! Each seed draws a policy, a roster and a stream with its own SplitMix64
//! generator (no crates), so a failure is reproduced from the seed alone:
//! the runner prints the seed and the event index and exits non-zero.
//!
//! Checked per step (the model and checks are shared with the property
//! tests, `tests/integration/props/check.rs`): accepted/refused as the rules
//! say, a refused event leaves the engine unchanged, loads and holders as
//! the model follows them, capacity (cuts included), one holder per
//! conversation, counts, nothing disappears, every decision valid;
//! periodically the whole state and work conservation. Per seed: a lockstep
//! `Matching::Scan` engine must make identical decisions, and an engine
//! restored from a snapshot (through bytes) taken midway must make the same
//! decisions and end in the same snapshot and state hash.

#[path = "../tests/integration/props/check.rs"]
mod check;
#[path = "../tests/integration/recorded/replay.rs"]
mod replay;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use check::{Checker, Outcome};
use switchboard::engine::{Matching, Snapshot};
use switchboard::policy::{BlockedWork, OfferPolicy, RebalancePolicy};
use switchboard::prelude::*;

const T0: u64 = 1_700_000_000_000;
const CHANNELS: [ChannelId; 3] = [ChannelId(1), ChannelId(2), ChannelId(3)];
const TIERS: [TierId; 3] = [TierId(1), TierId(2), TierId(3)];
const SKILLS: [SkillId; 4] = [SkillId(10), SkillId(11), SkillId(12), SkillId(13)];
const TEAMS: [TeamId; 3] = [TeamId(100), TeamId(101), TeamId(102)];

/// SplitMix64 (Steele, Lea, Flood 2014).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0); the slight modulo bias does not matter here.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> Option<T> {
        (!v.is_empty()).then(|| v[self.below(v.len() as u64) as usize])
    }
}

/// An offer cool-down: none half the time.
fn cooldown(r: &mut Rng) -> Millis {
    if r.chance(500) {
        Millis::ZERO
    } else {
        Millis::from_secs(r.range(1, 15))
    }
}

fn selection(r: &mut Rng) -> Selection {
    match r.below(10) {
        0 => Selection::LeastLoaded,
        1 => Selection::LongestIdle {
            clock: IdleClock::LastConversationEnded,
        },
        2 => Selection::LongestIdle {
            clock: IdleClock::BecameAvailable,
        },
        3 => Selection::LongestIdle {
            clock: IdleClock::LastAssigned,
        },
        4 => Selection::RoundRobin,
        5 => Selection::MostProficient,
        6 => Selection::FewestConversations,
        7 => Selection::Ring,
        8 => Selection::FixedOrder,
        _ => Selection::SkillDevelopment {
            demanding_skills: SKILLS.iter().copied().filter(|_| r.chance(400)).collect(),
            share_permille: r.range(0, 1000) as u16,
        },
    }
}

/// Issue 19's selections: fewest handled, order-by over one or two keys.
fn new_selection(r: &mut Rng) -> Selection {
    if r.chance(300) {
        return Selection::FewestHandled;
    }
    let keys = (0..r.range(1, 2))
        .map(|_| {
            let a = match r.below(8) {
                0 => OperatorAttribute::LoadRatio,
                1 => OperatorAttribute::OpenConversations,
                2 => OperatorAttribute::Handled,
                3 => OperatorAttribute::IdleSince(IdleClock::LastConversationEnded),
                4 => OperatorAttribute::IdleSince(IdleClock::BecameAvailable),
                5 => OperatorAttribute::IdleSince(IdleClock::LastAssigned),
                6 => OperatorAttribute::LastPicked,
                _ => OperatorAttribute::Level(SKILLS[r.below(SKILLS.len() as u64) as usize]),
            };
            if r.chance(500) {
                OrderKey::descending(a)
            } else {
                OrderKey::ascending(a)
            }
        })
        .collect();
    Selection::OrderBy { keys }
}

fn any_selection(r: &mut Rng) -> Selection {
    if r.chance(400) {
        new_selection(r)
    } else {
        selection(r)
    }
}

fn offers(r: &mut Rng) -> OfferPolicy {
    OfferPolicy::new(Millis::from_secs(r.range(1, 20)))
        .away_after_missed(r.below(4) as u32)
        .reoffer_declined(r.chance(500))
        .cooldown_after_reject(cooldown(r))
        .cooldown_after_miss(cooldown(r))
        .forget_decline_after(r.chance(500).then(|| Millis::from_secs(r.range(1, 60))))
}

/// Queues (0-4, every selection and relaxation, own timing, offers,
/// preferred wait, priority, head start) and profiles (0-3, the default
/// queue included, tied priorities, delays incl. 0) from the second
/// generator `q`, in about half the seeds: with the gate off the seed's
/// policy and stream are what they were before issue 19.
fn gen_routing(q: &mut Rng, p: &mut Policy) {
    if !q.chance(500) {
        return;
    }
    let n = q.below(5) as u32;
    for i in 1..=n {
        let mut spec = QueueSpec::new(QueueId(i), format!("queue{i}")).selection(any_selection(q));
        let from_previous = q.chance(300);
        if from_previous {
            spec = spec.overflow_timing(OverflowTiming::FromPreviousStep);
        }
        let mut after = 0;
        for _ in 0..q.below(4) {
            after = if from_previous { 0 } else { after } + q.range(1, 60);
            let relax = match q.below(9) {
                0 => Relax::LowerLevels(q.range(1, 4) as u8),
                1 => Relax::AnyTeam,
                2 => Relax::AnyOperator,
                3 => Relax::DropSkill(SKILLS[q.below(SKILLS.len() as u64) as usize]),
                4 => Relax::LowerSkill {
                    skill: SKILLS[q.below(SKILLS.len() as u64) as usize],
                    by: q.range(1, 4) as u8,
                },
                5 => Relax::AddTeam(TEAMS[q.below(TEAMS.len() as u64) as usize]),
                6 => Relax::Priority(q.range(0, 4) as u32),
                7 => Relax::HeadStart(Millis::from_secs(q.range(1, 120))),
                _ => Relax::Select(match any_selection(q) {
                    Selection::SkillDevelopment { .. } => Selection::MostProficient,
                    s => s,
                }),
            };
            spec = spec.overflow_step(OverflowStep::new(Millis::from_secs(after), relax));
        }
        if q.chance(300) {
            spec = spec.offers(offers(q));
        }
        if q.chance(500) {
            spec.preferred_operator.wait = Millis::from_secs(q.range(1, 30));
        }
        spec.preferred_operator.over_capacity = q.chance(250);
        if q.chance(500) {
            spec = spec.priority(q.range(0, 4) as u32);
        }
        if q.chance(500) {
            spec = spec.head_start(Millis::from_secs(q.range(1, 120)));
        }
        p.queues.push(spec);
    }
    for i in 1..=q.below(4) as u32 {
        let mut prof = RoutingProfile::new(ProfileId(i), format!("profile{i}"));
        for k in 0..=n {
            if !q.chance(600) {
                continue;
            }
            let priority = q.range(0, 2) as u32;
            let pq = if k == 0 {
                ProfileQueue::default_queue(priority)
            } else {
                ProfileQueue::new(QueueId(k), priority)
            };
            let delay = if q.chance(300) {
                Millis::from_secs(q.range(1, 30))
            } else {
                Millis::ZERO
            };
            prof = prof.serve(pq.delay(delay));
        }
        p.profiles.push(prof);
    }
    if q.chance(300) {
        p.selection = new_selection(q);
    }
}

fn gen_policy(r: &mut Rng) -> Policy {
    let n = r.range(2, 3) as usize;
    let names = ["call", "chat", "email"];
    let call_blocks_chat = r.chance(500);
    let mut p = Policy::new(
        (0..n)
            .map(|i| {
                ChannelSpec::new(CHANNELS[i], names[i]).blocks(if i == 0 && call_blocks_chat {
                    vec![CHANNELS[1]]
                } else {
                    vec![]
                })
            })
            .collect(),
        (0..3)
            .map(|i| {
                TierSpec::new(TIERS[i], format!("tier{i}"), i as u32 + 1)
                    .first_response_target(Millis::from_secs(30 * (i as u64 + 1)))
                    .head_start(Millis::from_secs(r.range(0, 180)))
            })
            .collect(),
        SKILLS
            .iter()
            .map(|&id| SkillSpec::new(id, format!("skill{}", id.0)))
            .collect(),
    );
    p.queue_order = [
        QueueOrder::StrictPriority,
        QueueOrder::Aging,
        QueueOrder::EarliestDeadline,
        QueueOrder::Fifo,
    ][r.below(4) as usize];
    p.selection = selection(r);
    let from_previous = r.chance(300);
    if from_previous {
        p.overflow_timing = OverflowTiming::FromPreviousStep;
    }
    let mut after = 0;
    for _ in 0..r.below(4) {
        // Under from-previous-step timing each step carries its own wait.
        after = if from_previous { 0 } else { after } + r.range(1, 60);
        let relax = match r.below(3) {
            0 => Relax::LowerLevels(r.range(1, 4) as u8),
            1 => Relax::AnyTeam,
            _ => Relax::AnyOperator,
        };
        p.overflow
            .push(OverflowStep::new(Millis::from_secs(after), relax));
    }
    if r.chance(500) {
        p.preferred_operator.wait = Millis::from_secs(r.range(1, 30));
    }
    if r.chance(500) {
        p.wrap_up = Millis::from_secs(r.range(1, 20));
    }
    if r.chance(300) {
        p.offers = Some(
            OfferPolicy::new(Millis::from_secs(r.range(1, 20)))
                .away_after_missed(r.below(4) as u32)
                .reoffer_declined(r.chance(500))
                .cooldown_after_reject(cooldown(r))
                .cooldown_after_miss(cooldown(r))
                .forget_decline_after(r.chance(500).then(|| Millis::from_secs(r.range(1, 60)))),
        );
    }
    if r.chance(250) {
        p.throughput_cap = Some(ThroughputCap::new(
            r.range(1, 4) as u32,
            Millis::from_secs(r.range(1, 60)),
        ));
    }
    p.preferred_operator.over_capacity = r.chance(250);
    p.rebalance = RebalancePolicy::new()
        .reassign_responded_after_away(r.chance(300).then(|| Millis::from_secs(r.range(1, 120))))
        .skew_margin_permille(r.chance(300).then(|| r.range(0, 1000) as u16))
        .max_moves(r.chance(300).then(|| r.range(1, 5) as u32))
        .on_capacity_cut(r.chance(500))
        .defer_to_rebalance(r.chance(300));
    if r.chance(250) {
        p.blocked_work = BlockedWork::FirstFree;
    }
    p
}

/// The stream generator: draws each event against the model's ids, about
/// one in twelve invalid on purpose.
struct Gen {
    r: Rng,
    /// Draws for queues and profiles only (see `gen_routing`).
    q: Rng,
    now: u64,
    next_conv: u64,
    max_op: u64,
}

impl Gen {
    fn status(&mut self) -> OperatorStatus {
        match self.r.below(6) {
            0 => OperatorStatus::Away,
            1 => OperatorStatus::Offline,
            _ => OperatorStatus::Available,
        }
    }

    fn skills(&mut self, max: u64, lo: u64) -> Vec<SkillLevel> {
        let mut v: Vec<SkillLevel> = Vec::new();
        for _ in 0..self.r.below(max + 1) {
            let s = SKILLS[self.r.below(SKILLS.len() as u64) as usize];
            if !v.iter().any(|x| x.skill == s) {
                v.push(SkillLevel::new(s, self.r.range(lo, 5) as u8));
            }
        }
        v
    }

    fn teams(&mut self) -> Vec<TeamId> {
        TEAMS
            .iter()
            .copied()
            .filter(|_| self.r.chance(350))
            .collect()
    }

    fn op_spec(&mut self, m: &Checker, id: u64, bad: bool) -> OperatorSpec {
        // Operators join available under `reassign_responded_after_away`
        // (see `adding_an_away_operator_starts_the_away_clock` in props.rs).
        let status = if m.policy.rebalance.reassign_responded_after_away.is_some() {
            OperatorStatus::Available
        } else {
            self.status()
        };
        let mut s = OperatorSpec::new(OperatorId(id)).status(status);
        for &c in &m.chans {
            let cap = self.r.below(5) as u16;
            if cap > 0 {
                s = s.capacity(c, cap);
            }
        }
        for sk in self.skills(3, 1) {
            s = s.skill(sk.skill, sk.level);
        }
        for t in self.teams() {
            s = s.team(t);
        }
        if self.r.chance(200) {
            s = s.wrap_up(Millis::from_secs(self.r.range(0, 10)));
        }
        let profiles = &m.policy.profiles;
        if !profiles.is_empty() && self.q.chance(700) {
            s = s.profile(profiles[self.q.below(profiles.len() as u64) as usize].id);
        }
        if bad {
            match self.r.below(3) {
                0 => s = s.capacity(m.chans[0], 0),
                1 => s = s.skill(SkillId(99), 1),
                _ => s.skills.push(SkillLevel::new(SKILLS[0], 7)),
            }
        }
        s
    }

    fn conv_spec(&mut self, m: &Checker, id: u64, bad: bool) -> ConversationSpec {
        let ch = m.chans[self.r.below(m.chans.len() as u64) as usize];
        let mut s = ConversationSpec::new(ConversationId(id), ch, TIERS[self.r.below(3) as usize]);
        for sk in self.skills(2, 1) {
            s = s.skill(sk.skill, sk.level);
        }
        if self.r.chance(200) {
            s = s.team(TEAMS[self.r.below(3) as usize]);
        }
        if self.r.chance(200) {
            s = s.preferred_operator(OperatorId(self.r.range(1, self.max_op)));
        }
        let queues = &m.policy.queues;
        if !queues.is_empty() && self.q.chance(600) {
            s = s.queue(queues[self.q.below(queues.len() as u64) as usize].id);
        }
        if bad {
            match self.r.below(2) {
                0 => s.tier = TierId(99),
                _ => s.channel = ChannelId(99),
            }
        }
        s
    }

    /// Issue 19's events, drawn from `q` while the policy has queues or
    /// profiles: profile changes, handled-count resets, transfers to a queue.
    fn routing_event(&mut self, m: &Checker) -> Option<Event> {
        let (queues, profiles) = (&m.policy.queues, &m.policy.profiles);
        if (queues.is_empty() && profiles.is_empty()) || !self.q.chance(40) {
            return None;
        }
        self.now += self.q.range(0, 2_000);
        let at = Timestamp(self.now);
        let bad = self.q.chance(80);
        let ops = m.op_ids();
        Some(match self.q.below(3) {
            0 => Event::OperatorProfileChanged {
                at,
                operator: if bad && profiles.is_empty() {
                    OperatorId(9_999)
                } else {
                    ops.get(self.q.below(ops.len().max(1) as u64) as usize)
                        .copied()
                        .unwrap_or(OperatorId(9_999))
                },
                profile: match (bad, profiles.is_empty()) {
                    (true, false) => Some(ProfileId(99)),
                    (false, false) if self.q.chance(800) => {
                        Some(profiles[self.q.below(profiles.len() as u64) as usize].id)
                    }
                    _ => None,
                },
            },
            1 => Event::HandledCountsReset { at },
            _ => {
                let held = m.convs_in(&[ConversationState::Assigned, ConversationState::Responded]);
                let Some(&c) = held.get(self.q.below(held.len().max(1) as u64) as usize) else {
                    return Some(Event::Assign { at });
                };
                let to = match queues.get(self.q.below(queues.len().max(1) as u64) as usize) {
                    _ if bad => QueueId(99),
                    Some(x) => x.id,
                    None => return Some(Event::Assign { at }),
                };
                Event::ConversationTransferred {
                    at,
                    conversation: c,
                    to: TransferTarget::ToQueue(to),
                }
            }
        })
    }

    fn event(&mut self, m: &Checker) -> Event {
        use ConversationState as S;
        if let Some(ev) = self.routing_event(m) {
            return ev;
        }
        let dt = match self.r.below(10) {
            0..=3 => 0,
            4..=8 => self.r.range(1, 4_000),
            _ => self.r.range(4_000, 60_000),
        };
        self.now += dt;
        let at = Timestamp(self.now);
        let bad = self.r.chance(80);
        let ops = m.op_ids();
        let op = |g: &mut Gen| {
            if bad {
                OperatorId(9_999)
            } else {
                g.r.pick(&ops).unwrap_or(OperatorId(9_999))
            }
        };
        let conv = |g: &mut Gen, ok: &[S]| -> Option<ConversationId> {
            if bad {
                let all = [
                    S::WithBot,
                    S::Waiting,
                    S::Offered,
                    S::Assigned,
                    S::Responded,
                    S::MessageLeft,
                ];
                let wrong: Vec<S> = all.into_iter().filter(|s| !ok.contains(s)).collect();
                Some(
                    g.r.pick(&m.convs_in(&wrong))
                        .unwrap_or(ConversationId(u64::MAX >> 12)),
                )
            } else {
                g.r.pick(&m.convs_in(ok))
            }
        };
        let crowded = m.convs.len() > 40 + 8 * ops.len();
        let assign = Event::Assign { at };
        match self.r.below(100) {
            0..=2 => {
                let id = if bad {
                    self.r.pick(&ops).map_or(1, |o| o.0)
                } else {
                    self.r.range(1, self.max_op)
                };
                let bad_spec = bad && self.r.chance(500);
                let spec = self.op_spec(m, id, bad_spec);
                Event::OperatorAdded { at, operator: spec }
            }
            3 => Event::OperatorRemoved {
                at,
                operator: op(self),
            },
            4..=8 => Event::OperatorStatusChanged {
                at,
                operator: op(self),
                status: self.status(),
            },
            9..=11 => Event::OperatorCapacityChanged {
                at,
                operator: op(self),
                channel: m.chans[self.r.below(m.chans.len() as u64) as usize],
                capacity: if self.r.chance(250) {
                    0
                } else {
                    self.r.range(0, 5) as u16
                },
            },
            12 => Event::OperatorSkillsChanged {
                at,
                operator: op(self),
                skills: self
                    .skills(3, if bad { 0 } else { 1 })
                    .into_iter()
                    .collect(),
            },
            13 => Event::OperatorTeamsChanged {
                at,
                operator: op(self),
                teams: self.teams().into_iter().collect(),
            },
            14..=31 if crowded && !bad => assign,
            14..=31 => {
                self.next_conv += 1;
                let mut id = self.next_conv;
                if bad && self.r.chance(500) {
                    if let Some(c) = self.r.pick(&m.convs_in(&[S::Waiting, S::Assigned])) {
                        id = c.0;
                    }
                }
                let spec = self.conv_spec(m, id, bad);
                if self.r.below(17) < 3 {
                    Event::BotConversationStarted {
                        at,
                        conversation: spec,
                    }
                } else {
                    Event::ConversationArrived {
                        at,
                        conversation: spec,
                    }
                }
            }
            32..=34 => match conv(self, &[S::WithBot]) {
                Some(c) => Event::ConversationArrived {
                    at,
                    conversation: m.convs.get(&c).map_or_else(
                        || ConversationSpec::new(c, m.chans[0], TIERS[0]),
                        |x| x.spec.clone(),
                    ),
                },
                None => assign,
            },
            35..=42 => match conv(self, &[S::Assigned]) {
                Some(c) => Event::FirstResponseSent {
                    at,
                    conversation: c,
                },
                None => assign,
            },
            43..=56 => match conv(
                self,
                &[S::WithBot, S::Assigned, S::Responded, S::MessageLeft],
            ) {
                Some(c) => Event::ConversationResolved {
                    at,
                    conversation: c,
                },
                None => assign,
            },
            57..=59 => match conv(self, &[S::Waiting, S::Offered]) {
                Some(c) => Event::ConversationAbandoned {
                    at,
                    conversation: c,
                },
                None => assign,
            },
            60 => match conv(self, &[S::Waiting]) {
                Some(c) => Event::MessageLeft {
                    at,
                    conversation: c,
                },
                None => assign,
            },
            61..=63 => match conv(self, &[S::Assigned, S::Responded]) {
                Some(c) => Event::ConversationTransferred {
                    at,
                    conversation: c,
                    to: match self.r.below(3) {
                        0 => TransferTarget::Operator(op(self)),
                        1 => TransferTarget::Team(TEAMS[self.r.below(3) as usize]),
                        _ => TransferTarget::Queue,
                    },
                },
                None => assign,
            },
            64..=65 => match conv(self, &[S::Waiting]) {
                Some(c) => Event::ConversationClaimed {
                    at,
                    conversation: c,
                    operator: op(self),
                },
                None => assign,
            },
            66..=70 => match conv(self, &[S::Offered]) {
                Some(c) => {
                    let holder = m.convs.get(&c).and_then(|x| x.holder);
                    let operator = match (bad, holder) {
                        (false, Some(h)) => h,
                        _ => self.r.pick(&ops).unwrap_or(OperatorId(9_999)),
                    };
                    if self.r.chance(600) {
                        Event::OfferAccepted {
                            at,
                            conversation: c,
                            operator,
                        }
                    } else {
                        Event::OfferRejected {
                            at,
                            conversation: c,
                            operator,
                        }
                    }
                }
                None => assign,
            },
            71 if bad && m.now.0 > T0 => Event::Tick {
                at: Timestamp(m.now.0 - 1),
            },
            71 => Event::Tick { at },
            72..=75 => Event::Rebalance { at },
            76 => Event::RebalanceOperator {
                at,
                operator: op(self),
            },
            // Rarely, a new policy: drawn like the first (two or three
            // channels, so dropping email may be refused), or invalid.
            77 if self.r.chance(60) => {
                let mut p = gen_policy(&mut self.r);
                gen_routing(&mut self.q, &mut p);
                // Queues and profiles still in use stay declared (dropping
                // one is refused, as for channels, tiers and skills).
                for c in m.convs.values() {
                    if let Some(q) = c.spec.queue {
                        if !p.queues.iter().any(|x| x.id == q) {
                            p.queues.push(QueueSpec::new(q, format!("queue{}", q.0)));
                        }
                    }
                }
                for o in m.ops.values() {
                    if let Some(x) = o.profile {
                        if !p.profiles.iter().any(|y| y.id == x) {
                            p.profiles
                                .push(RoutingProfile::new(x, format!("profile{}", x.0)));
                        }
                    }
                }
                if bad {
                    p.tiers.clear();
                }
                Event::PolicyChanged {
                    at,
                    policy: Box::new(p),
                }
            }
            _ => assign,
        }
    }
}

struct Options {
    seeds: std::ops::Range<u64>,
    events: u64,
    scan_every: u64,
    full_every: u64,
    seconds: Option<u64>,
    differential: bool,
    record: Option<std::path::PathBuf>,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        seeds: 1..2,
        events: 100_000,
        scan_every: 16,
        full_every: 256,
        seconds: None,
        differential: true,
        record: None,
    };
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>, name: &str| -> Result<u64, String> {
        v.ok_or(format!("{name} needs a value"))?
            .parse()
            .map_err(|e| format!("{name}: {e}"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => {
                let s = num(args.next(), "--seed")?;
                o.seeds = s..s + 1;
            }
            "--seeds" => {
                let v = args.next().ok_or("--seeds needs A..B")?;
                let (a, b) = v.split_once("..").ok_or("--seeds needs A..B")?;
                let a: u64 = a.parse().map_err(|e| format!("--seeds: {e}"))?;
                let b: u64 = b.parse().map_err(|e| format!("--seeds: {e}"))?;
                o.seeds = a..b;
            }
            "--events" => o.events = num(args.next(), "--events")?,
            "--scan-every" => o.scan_every = num(args.next(), "--scan-every")?.max(1),
            "--full-every" => o.full_every = num(args.next(), "--full-every")?.max(1),
            "--seconds" => o.seconds = Some(num(args.next(), "--seconds")?),
            "--no-differential" => o.differential = false,
            "--record" => o.record = Some(args.next().ok_or("--record needs DIR")?.into()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

#[derive(Default)]
struct Totals {
    seeds: u64,
    events: u64,
    refused: u64,
    decisions: u64,
    checks: u64,
    sweeps: u64,
    restores_skipped: u64,
}

/// Runs one seed; `Err((event index, message))` on the first violation.
fn run_seed(seed: u64, o: &Options, t: &mut Totals) -> Result<(), (u64, String)> {
    let mut r = Rng(seed);
    let mut q = Rng(seed ^ 0x5155_4555_4553_0019);
    let mut policy = gen_policy(&mut r);
    gen_routing(&mut q, &mut policy);
    let max_op = r.range(3, 24);
    let mut g = Gen {
        r,
        q,
        now: T0,
        next_conv: 0,
        max_op,
    };
    let mut e = Engine::new(policy.clone()).map_err(|e| (0, e.to_string()))?;
    let mut scan = o.differential.then(|| {
        let mut s = e.clone();
        s.set_matching(Matching::Scan);
        s
    });
    let mut m = Checker::new(&policy);
    let mut restored: Option<Engine> = None;
    let mut recorded: Vec<Event> = Vec::new();
    let mut matchings = 0u64;
    let roster = g.r.range(2, max_op);
    for i in 0..o.events {
        let ev = if i < roster {
            Event::OperatorAdded {
                at: Timestamp(T0),
                operator: g.op_spec(&m, i + 1, false),
            }
        } else {
            g.event(&m)
        };
        if o.record.is_some() {
            recorded.push(ev.clone());
        }
        let is_matching = matches!(ev, Event::Assign { .. } | Event::Rebalance { .. });
        if is_matching {
            matchings += 1;
        }
        let full = i % o.full_every == o.full_every - 1;
        let sweep = is_matching && matchings % o.scan_every == 0;
        let out: Outcome = m
            .step(&mut e, &ev, full, sweep)
            .map_err(|msg| (i, format!("{ev:?}\n  {msg}")))?;
        g.now = g.now.max(m.now.0);
        let other = |name: &str, x: &mut Engine| -> Result<(), (u64, String)> {
            let got = x.apply(ev.clone());
            let _ = x.take_records();
            if got != out {
                return Err((
                    i,
                    format!("{name} differs on {ev:?}:\n  indexed {out:?}\n  {name} {got:?}"),
                ));
            }
            Ok(())
        };
        if let Some(s) = scan.as_mut() {
            other("scan", s)?;
        }
        if let Some(x) = restored.as_mut() {
            other("restored", x)?;
        }
        if i == o.events / 2 {
            let bytes = e.snapshot().to_bytes();
            let snap = Snapshot::from_bytes(&bytes).map_err(|x| (i, x.to_string()))?;
            match Engine::restore(snap) {
                Ok(x) => {
                    if x.state_hash() != e.state_hash() {
                        return Err((i, "restored state hash differs".into()));
                    }
                    restored = Some(x);
                }
                Err(x) => return Err((i, format!("restore: {x}"))),
            }
        }
    }
    m.compare_all(&e).map_err(|msg| (o.events, msg))?;
    if let Some(x) = &restored {
        if x.snapshot() != e.snapshot() || x.state_hash() != e.state_hash() {
            return Err((o.events, "restored engine ends in a different state".into()));
        }
    }
    if let Some(dir) = &o.record {
        record(dir, seed, policy, &recorded).map_err(|msg| (o.events, msg))?;
    }
    t.seeds += 1;
    t.events += m.stats.events;
    t.refused += m.stats.refused;
    t.decisions += m.stats.decisions;
    t.checks += m.stats.checks;
    t.sweeps += m.stats.conservation_sweeps;
    Ok(())
}

/// Writes the seed's stream (`seed-S.jsonl`: policy, then one event a line)
/// and what a fresh engine does with it (`seed-S.expected`), for
/// `tests/integration/recorded.rs`.
fn record(
    dir: &std::path::Path,
    seed: u64,
    policy: Policy,
    events: &[Event],
) -> Result<(), String> {
    use std::fmt::Write as _;
    let mut stream = serde_json::to_string(&policy).map_err(|e| e.to_string())?;
    for ev in events {
        stream.push('\n');
        stream.push_str(&serde_json::to_string(ev).map_err(|e| e.to_string())?);
    }
    stream.push('\n');
    let mut expected = String::new();
    for (hash, digest) in replay::fingerprints(policy, events)? {
        let _ = writeln!(expected, "{hash:016x} {digest:016x}");
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let write = |name: String, text: &str| {
        std::fs::write(dir.join(&name), text).map_err(|e| format!("{name}: {e}"))
    };
    write(format!("seed-{seed}.jsonl"), &stream)?;
    write(format!("seed-{seed}.expected"), &expected)
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dst: {e}");
            eprintln!(
                "usage: dst [--seed S | --seeds A..B] [--events N] [--scan-every K] \
                 [--full-every F] [--seconds T] [--no-differential] [--record DIR]"
            );
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let budget = o.seconds.map(Duration::from_secs);
    let mut t = Totals::default();
    let mut failures = 0u64;
    for seed in o.seeds.clone() {
        if budget.is_some_and(|b| start.elapsed() >= b) {
            break;
        }
        if let Err((i, msg)) = run_seed(seed, &o, &mut t) {
            failures += 1;
            eprintln!("FAIL seed {seed} at event {i}: {msg}");
            eprintln!(
                "reproduce: cargo run --release --example dst -- --seed {seed} --events {}",
                o.events
            );
            break;
        }
    }
    println!(
        "dst: seeds {} events {} (refused {}) decisions {} checks {} sweeps {} \
         restores_skipped {} failures {failures} in {:.1} s",
        t.seeds,
        t.events,
        t.refused,
        t.decisions,
        t.checks,
        t.sweeps,
        t.restores_skipped,
        start.elapsed().as_secs_f64()
    );
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
