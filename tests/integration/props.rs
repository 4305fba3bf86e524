//! Property tests over random event streams.
//!
//! One strategies section (`case()`: a small roster, a policy drawn over
//! every queue order, selection strategy, overflow step, preferred-operator
//! wait, wrap-up, offers and rebalance options, and a stream of abstract
//! steps at non-decreasing times). Each step is turned into a concrete event
//! against a model of the ids that exist (`check::Checker`), so most events
//! are valid; about one in ten is deliberately invalid (unknown ids, wrong
//! states, bad specs, time going backwards).
//!
//! After every step `check::Checker::step` verifies: the engine accepts
//! exactly the events the written rules accept, and a refused event leaves
//! it `==` its clone; loads, capacities, holders and states match the
//! model (so no operator is over capacity unless a cut put them there, and
//! then they receive nothing new); nobody holds a conversation twice and
//! every held list agrees with the conversations' operator field; the state
//! and status counts equal a recount; every conversation that ended comes
//! out of `take_records` exactly once and no other disappears; each
//! decision goes to a ready operator who meets the requirements in force
//! (`matched` levels meet `required`, the overflow step is right, the team
//! is honoured, `waited = at − asked_at`) unless it is a preferred-operator
//! route; and right after `Assign`/`Rebalance` no waiting conversation has
//! an eligible operator (work conservation). Then the whole stream is
//! replayed: the same decisions again (determinism), the same decisions
//! under `Matching::Scan` (differential), and the same state and decisions
//! when restored midway from a snapshot (`to_bytes`/`from_bytes`).
//!
//! Cases: `PROPTEST_CASES` (default 96). Failures are minimised and stored
//! in `tests/proptest-regressions/props.txt` (committed).

pub(crate) mod check;

use check::{Checker, Outcome};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;
use switchboard::engine::{DecisionKind, Matching, Snapshot};
use switchboard::policy::{BlockedWork, OfferPolicy, RebalancePolicy};
use switchboard::prelude::*;

const T0: u64 = 1_700_000_000_000;
const CHANNELS: [ChannelId; 3] = [ChannelId(1), ChannelId(2), ChannelId(3)];
const TIERS: [TierId; 3] = [TierId(1), TierId(2), TierId(3)];
const SKILLS: [SkillId; 3] = [SkillId(10), SkillId(11), SkillId(12)];
const TEAMS: [TeamId; 2] = [TeamId(100), TeamId(101)];
const MAX_OP: u64 = 8;

// ------------------------------------------------------------- strategies

fn base_policy(channels: usize, call_blocks_chat: bool) -> Policy {
    let names = ["call", "chat", "email"];
    Policy::new(
        (0..channels)
            .map(|i| {
                ChannelSpec::new(CHANNELS[i], names[i]).blocks(if i == 0 && call_blocks_chat {
                    vec![CHANNELS[1]]
                } else {
                    vec![]
                })
            })
            .collect(),
        TIERS
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                TierSpec::new(id, format!("tier{i}"), i as u32 + 1)
                    .first_response_target(Millis::from_secs(30 * (i as u64 + 1)))
                    .head_start(Millis::from_secs(60 * (2 - i as u64)))
            })
            .collect(),
        SKILLS
            .iter()
            .map(|&id| SkillSpec::new(id, format!("skill{}", id.0)))
            .collect(),
    )
}

fn selection() -> impl Strategy<Value = Selection> {
    prop_oneof![
        Just(Selection::LeastLoaded),
        Just(Selection::LongestIdle {
            clock: IdleClock::LastConversationEnded
        }),
        Just(Selection::LongestIdle {
            clock: IdleClock::BecameAvailable
        }),
        Just(Selection::LongestIdle {
            clock: IdleClock::LastAssigned
        }),
        Just(Selection::RoundRobin),
        Just(Selection::MostProficient),
        Just(Selection::FewestConversations),
        Just(Selection::Ring),
        Just(Selection::FixedOrder),
        (
            prop::sample::subsequence(SKILLS.to_vec(), 0..=2),
            0u16..=1000
        )
            .prop_map(
                |(demanding_skills, share_permille)| Selection::SkillDevelopment {
                    demanding_skills,
                    share_permille,
                }
            ),
    ]
}

fn relax() -> impl Strategy<Value = Relax> {
    prop_oneof![
        (1u8..=4).prop_map(Relax::LowerLevels),
        Just(Relax::AnyTeam),
        Just(Relax::AnyOperator),
    ]
}

fn secs(max: u64) -> impl Strategy<Value = Millis> {
    (1..=max).prop_map(Millis::from_secs)
}

/// The selections of issue 19: fewest handled, and order-by with one or
/// two keys over every attribute.
fn new_selection() -> impl Strategy<Value = Selection> {
    let attribute = prop_oneof![
        Just(OperatorAttribute::LoadRatio),
        Just(OperatorAttribute::OpenConversations),
        Just(OperatorAttribute::Handled),
        Just(OperatorAttribute::IdleSince(
            IdleClock::LastConversationEnded
        )),
        Just(OperatorAttribute::IdleSince(IdleClock::BecameAvailable)),
        Just(OperatorAttribute::IdleSince(IdleClock::LastAssigned)),
        Just(OperatorAttribute::LastPicked),
        (0usize..3).prop_map(|k| OperatorAttribute::Level(SKILLS[k])),
    ];
    let key = (attribute, any::<bool>()).prop_map(|(a, down)| {
        if down {
            OrderKey::descending(a)
        } else {
            OrderKey::ascending(a)
        }
    });
    prop_oneof![
        1 => Just(Selection::FewestHandled),
        2 => prop::collection::vec(key, 1..=2).prop_map(|keys| Selection::OrderBy { keys }),
    ]
}

/// Any selection, the new ones included.
fn any_selection() -> impl Strategy<Value = Selection> {
    prop_oneof![3 => selection(), 2 => new_selection()]
}

/// What a `Relax::Select` step may switch to (not skill development).
fn step_selection() -> impl Strategy<Value = Selection> {
    any_selection().prop_map(|s| match s {
        Selection::SkillDevelopment { .. } => Selection::MostProficient,
        s => s,
    })
}

/// Every relaxation, the new ones included.
fn any_relax() -> impl Strategy<Value = Relax> {
    prop_oneof![
        3 => relax(),
        1 => (0usize..3).prop_map(|k| Relax::DropSkill(SKILLS[k])),
        1 => (0usize..3, 1u8..=4).prop_map(|(k, by)| Relax::LowerSkill { skill: SKILLS[k], by }),
        1 => (0usize..2).prop_map(|t| Relax::AddTeam(TEAMS[t])),
        1 => (0u32..=4).prop_map(Relax::Priority),
        1 => secs(120).prop_map(Relax::HeadStart),
        1 => step_selection().prop_map(Relax::Select),
    ]
}

fn offers() -> impl Strategy<Value = Option<OfferPolicy>> {
    let cooldown = || prop_oneof![2 => Just(Millis::ZERO), 1 => secs(15)];
    prop::option::weighted(
        0.3,
        (
            secs(20),
            0u32..=3,
            any::<bool>(),
            cooldown(),
            cooldown(),
            prop::option::weighted(0.5, secs(60)),
        )
            .prop_map(
                |(timeout, away, reoffer, after_reject, after_miss, forget)| {
                    OfferPolicy::new(timeout)
                        .away_after_missed(away)
                        .reoffer_declined(reoffer)
                        .cooldown_after_reject(after_reject)
                        .cooldown_after_miss(after_miss)
                        .forget_decline_after(forget)
                },
            ),
    )
}

/// One declared queue with its own rules (ids are set by `routing`).
fn queue_spec() -> impl Strategy<Value = QueueSpec> {
    (
        any_selection(),
        prop::collection::vec((secs(40), any_relax()), 0..=3),
        any::<bool>(),
        offers(),
        (
            prop_oneof![Just(Millis::ZERO), secs(30)],
            prop::bool::weighted(0.25),
        ),
        prop::option::weighted(0.5, 0u32..=4),
        prop_oneof![Just(Millis::ZERO), secs(120)],
    )
        .prop_map(
            |(sel, steps, from_previous, offers, (wait, over), priority, head_start)| {
                let mut q = QueueSpec::new(QueueId(0), "q").selection(sel);
                let mut after = Millis::ZERO;
                for (d, relax) in steps {
                    after = if from_previous { d } else { after + d };
                    q = q.overflow_step(OverflowStep::new(after, relax));
                }
                if from_previous {
                    q = q.overflow_timing(OverflowTiming::FromPreviousStep);
                }
                q.offers = offers;
                q.preferred_operator.wait = wait;
                q.preferred_operator.over_capacity = over;
                q.priority = priority;
                q.head_start = head_start;
                q
            },
        )
}

/// Issue 19 on top of a policy: 0–4 queues, 0–3 profiles (each serving
/// some of the queues, the default one included, at priorities with ties
/// and delays including 0), and sometimes a new selection for the default
/// queue.
#[derive(Debug, Clone)]
struct Routing {
    queues: Vec<QueueSpec>,
    /// Per profile: (queue index, 0 = default queue; priority; delay).
    profiles: Vec<Vec<(usize, u32, Millis)>>,
    default_selection: Option<Selection>,
}

fn routing() -> impl Strategy<Value = Routing> {
    let served = (
        0usize..=4,
        0u32..=2,
        prop_oneof![2 => Just(Millis::ZERO), 1 => secs(30)],
    );
    (
        prop::collection::vec(queue_spec(), 0..=4),
        prop::collection::vec(prop::collection::vec(served, 0..=4), 0..=3),
        prop::option::weighted(0.3, new_selection()),
    )
        .prop_map(|(queues, profiles, default_selection)| Routing {
            queues,
            profiles,
            default_selection,
        })
}

fn with_routing(mut p: Policy, r: Routing) -> Policy {
    p.queues = r
        .queues
        .into_iter()
        .enumerate()
        .map(|(i, mut q)| {
            q.id = QueueId(i as u32 + 1);
            q.name = format!("queue{}", i + 1);
            q
        })
        .collect();
    let n = p.queues.len();
    p.profiles = r
        .profiles
        .into_iter()
        .enumerate()
        .map(|(i, served)| {
            let mut prof =
                RoutingProfile::new(ProfileId(i as u32 + 1), format!("profile{}", i + 1));
            for (q, priority, delay) in served {
                let queue = (q > 0).then(|| QueueId(((q - 1) % n.max(1)) as u32 + 1));
                if (queue.is_some() && n == 0) || prof.queues.iter().any(|x| x.queue == queue) {
                    continue;
                }
                let pq = match queue {
                    Some(q) => ProfileQueue::new(q, priority),
                    None => ProfileQueue::default_queue(priority),
                };
                prof = prof.serve(pq.delay(delay));
            }
            prof
        })
        .collect();
    if let Some(s) = r.default_selection {
        p.selection = s;
    }
    p
}

fn policy() -> impl Strategy<Value = Policy> {
    let catalogue = (2usize..=3, any::<bool>());
    let order = prop_oneof![
        Just(QueueOrder::StrictPriority),
        Just(QueueOrder::Aging),
        Just(QueueOrder::EarliestDeadline),
        Just(QueueOrder::Fifo),
    ];
    let overflow = prop::collection::vec((secs(40), relax()), 0..=3);
    let waits = (
        prop_oneof![Just(Millis::ZERO), secs(30)],
        prop_oneof![Just(Millis::ZERO), secs(20)],
    );
    let offers = offers();
    // Routers' variants: overflow timing, a throughput cap, direct routing
    // above capacity.
    let variants = (
        any::<bool>(),
        prop::option::weighted(
            0.25,
            (1u32..=3, secs(60))
                .prop_map(|(max_assignments, window)| ThroughputCap::new(max_assignments, window)),
        ),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.25),
    );
    let rebalance = (
        prop::option::weighted(0.3, secs(60)),
        prop::option::weighted(0.3, 0u16..=1000),
        prop::option::weighted(0.3, 1u32..=3),
        any::<bool>(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(after, skew, max, cut, defer)| {
            RebalancePolicy::new()
                .reassign_responded_after_away(after)
                .skew_margin_permille(skew)
                .max_moves(max)
                .on_capacity_cut(cut)
                .defer_to_rebalance(defer)
        });
    (
        catalogue,
        order,
        selection(),
        overflow,
        waits,
        offers,
        rebalance,
        variants,
    )
        .prop_map(
            |(
                (n, blocks),
                order,
                sel,
                steps,
                (pref, wrap),
                offers,
                rebalance,
                (from_previous, cap, over_capacity, first_free),
            )| {
                let mut p = base_policy(n, blocks);
                p.queue_order = order;
                p.selection = sel;
                let mut after = Millis::ZERO;
                p.overflow = steps
                    .into_iter()
                    .map(|(d, relax)| {
                        // Each step's own wait, or the running total.
                        after = if from_previous { d } else { after + d };
                        OverflowStep::new(after, relax)
                    })
                    .collect();
                if from_previous {
                    p.overflow_timing = OverflowTiming::FromPreviousStep;
                }
                p.throughput_cap = cap;
                p.preferred_operator.over_capacity = over_capacity;
                p.preferred_operator.wait = pref;
                p.wrap_up = wrap;
                p.offers = offers;
                p.rebalance = rebalance;
                if first_free {
                    p.blocked_work = BlockedWork::FirstFree;
                }
                p
            },
        )
}

/// An operator to add: capacity per channel (0 = not listed), skills,
/// teams, own wrap-up.
#[derive(Debug, Clone)]
struct OpGen {
    id: u64,
    status: OperatorStatus,
    caps: [u16; 3],
    skills: Vec<(usize, u8)>,
    teams: Vec<usize>,
    wrap_up: Option<Millis>,
    /// Picks one of the policy's profiles, if it has any.
    profile: Option<Index>,
}

fn status() -> impl Strategy<Value = OperatorStatus> {
    prop_oneof![
        4 => Just(OperatorStatus::Available),
        1 => Just(OperatorStatus::Away),
        1 => Just(OperatorStatus::Offline),
    ]
}

fn skill_levels() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((0usize..3, 1u8..=5), 0..=3)
}

fn op_gen() -> impl Strategy<Value = OpGen> {
    (
        1..=MAX_OP,
        status(),
        [0u16..=3, 0u16..=3, 0u16..=3],
        skill_levels(),
        prop::collection::vec(0usize..2, 0..=2),
        prop::option::weighted(0.3, prop_oneof![Just(Millis::ZERO), secs(10)]),
        prop::option::weighted(0.7, any::<Index>()),
    )
        .prop_map(
            |(id, status, caps, skills, teams, wrap_up, profile)| OpGen {
                id,
                status,
                caps,
                skills,
                teams,
                wrap_up,
                profile,
            },
        )
}

/// A conversation to start: channel, tier, required skills, team,
/// preferred operator.
#[derive(Debug, Clone)]
struct ConvGen {
    channel: usize,
    tier: usize,
    skills: Vec<(usize, u8)>,
    team: Option<usize>,
    preferred: Option<u64>,
    /// Picks one of the policy's queues, if it has any.
    queue: Option<Index>,
}

fn conv_gen() -> impl Strategy<Value = ConvGen> {
    (
        0usize..3,
        0usize..3,
        prop::collection::vec((0usize..3, 1u8..=5), 0..=2),
        prop::option::weighted(0.25, 0usize..2),
        prop::option::weighted(0.25, 1..=MAX_OP),
        prop::option::weighted(0.6, any::<Index>()),
    )
        .prop_map(|(channel, tier, skills, team, preferred, queue)| ConvGen {
            channel,
            tier,
            skills,
            team,
            preferred,
            queue,
        })
}

/// One abstract step; indices pick among the ids that exist when the step
/// is turned into an event.
#[derive(Debug, Clone)]
enum Act {
    AddOp(OpGen),
    RemoveOp(Index),
    Status(Index, OperatorStatus),
    Capacity(Index, usize, u16),
    Skills(Index, Vec<(usize, u8)>),
    Teams(Index, Vec<usize>),
    /// A profile change: one of the policy's profiles, or none.
    Profile(Index, Option<Index>),
    HandledReset,
    Bot(ConvGen),
    Arrive(ConvGen),
    BotAsks(Index),
    FirstResponse(Index),
    Resolve(Index),
    Abandon(Index),
    LeaveMessage(Index),
    Transfer(Index, Index, u8),
    Claim(Index, Index),
    Answer(Index, Index, bool),
    Tick,
    Assign,
    Rebalance,
    RebalanceOp(Index),
}

fn act() -> impl Strategy<Value = Act> {
    let i = any::<Index>;
    prop_oneof![
        3 => op_gen().prop_map(Act::AddOp),
        1 => i().prop_map(Act::RemoveOp),
        4 => (i(), status()).prop_map(|(o, s)| Act::Status(o, s)),
        3 => (i(), 0usize..3, prop_oneof![Just(0u16), 0u16..=4]).prop_map(|(o, c, n)| Act::Capacity(o, c, n)),
        1 => (i(), skill_levels()).prop_map(|(o, s)| Act::Skills(o, s)),
        1 => (i(), prop::collection::vec(0usize..2, 0..=2)).prop_map(|(o, t)| Act::Teams(o, t)),
        2 => (i(), prop::option::weighted(0.8, i())).prop_map(|(o, p)| Act::Profile(o, p)),
        1 => Just(Act::HandledReset),
        2 => conv_gen().prop_map(Act::Bot),
        10 => conv_gen().prop_map(Act::Arrive),
        2 => i().prop_map(Act::BotAsks),
        4 => i().prop_map(Act::FirstResponse),
        6 => i().prop_map(Act::Resolve),
        2 => i().prop_map(Act::Abandon),
        1 => i().prop_map(Act::LeaveMessage),
        2 => (i(), i(), 0u8..4).prop_map(|(c, o, k)| Act::Transfer(c, o, k)),
        2 => (i(), i()).prop_map(|(c, o)| Act::Claim(c, o)),
        3 => (i(), i(), any::<bool>()).prop_map(|(c, o, yes)| Act::Answer(c, o, yes)),
        1 => Just(Act::Tick),
        10 => Just(Act::Assign),
        2 => Just(Act::Rebalance),
        1 => i().prop_map(Act::RebalanceOp),
    ]
}

#[derive(Debug, Clone)]
struct Step {
    /// Milliseconds after the previous step.
    dt: u64,
    act: Act,
    /// Make this step invalid on purpose (about one in ten).
    bad: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop_oneof![3 => Just(0u64), 5 => 1u64..5_000, 1 => 5_000u64..90_000],
        act(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(dt, act, bad)| Step { dt, act, bad })
}

/// A whole case: policy, initial roster, steps.
#[derive(Debug, Clone)]
struct Case {
    policy: Policy,
    roster: Vec<OpGen>,
    steps: Vec<Step>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        policy(),
        // Queues and profiles in about half the cases.
        prop::option::weighted(0.5, routing()),
        prop::collection::vec(op_gen(), 1..=6),
        prop::collection::vec(step(), 1..200),
    )
        .prop_map(|(policy, routing, mut roster, steps)| {
            let policy = match routing {
                Some(r) => with_routing(policy, r),
                None => policy,
            };
            for (i, o) in roster.iter_mut().enumerate() {
                o.id = i as u64 + 1;
            }
            Case {
                policy,
                roster,
                steps,
            }
        })
}

// ------------------------------------------------ abstract step → event

fn op_spec(g: &OpGen, policy: &Policy, bad: bool) -> OperatorSpec {
    let channels = policy.channels.len();
    let mut s = OperatorSpec::new(OperatorId(g.id)).status(g.status);
    for (i, &c) in g.caps.iter().enumerate().take(channels) {
        if c > 0 {
            s = s.capacity(CHANNELS[i], c);
        }
    }
    for &(k, level) in &g.skills {
        if !s.skills.iter().any(|x| x.skill == SKILLS[k]) {
            s = s.skill(SKILLS[k], level);
        }
    }
    for &t in &g.teams {
        if !s.teams.contains(&TEAMS[t]) {
            s = s.team(TEAMS[t]);
        }
    }
    if let Some(w) = g.wrap_up {
        s = s.wrap_up(w);
    }
    if let Some(i) = &g.profile {
        if !policy.profiles.is_empty() {
            s = s.profile(policy.profiles[i.index(policy.profiles.len())].id);
        }
    }
    if bad {
        match g.id % 4 {
            0 => s = s.capacity(CHANNELS[0], 0),
            1 => s = s.skill(SkillId(99), 2),
            2 => s.skills.push(SkillLevel::new(SKILLS[0], 6)),
            _ if g.id % 8 == 7 => s = s.profile(ProfileId(99)),
            _ => s.teams.extend([TEAMS[0], TEAMS[0]]),
        }
    }
    s
}

fn conv_spec(g: &ConvGen, id: u64, policy: &Policy, bad: bool) -> ConversationSpec {
    let channels = policy.channels.len();
    let mut s = ConversationSpec::new(
        ConversationId(id),
        CHANNELS[g.channel % channels],
        TIERS[g.tier],
    );
    for &(k, level) in &g.skills {
        if !s.skills.iter().any(|x| x.skill == SKILLS[k]) {
            s = s.skill(SKILLS[k], level);
        }
    }
    if let Some(t) = g.team {
        s = s.team(TEAMS[t]);
    }
    if let Some(p) = g.preferred {
        s = s.preferred_operator(OperatorId(p));
    }
    if let Some(i) = &g.queue {
        if !policy.queues.is_empty() {
            s = s.queue(policy.queues[i.index(policy.queues.len())].id);
        }
    }
    if bad {
        match id % 3 {
            2 if id % 6 == 5 => s.queue = Some(QueueId(99)),
            0 => s.tier = TierId(99),
            1 => s.channel = ChannelId(99),
            _ => s.skills.push(SkillLevel::new(SKILLS[0], 0)),
        }
    }
    s
}

fn pick<T: Copy>(v: &[T], i: &Index) -> Option<T> {
    (!v.is_empty()).then(|| v[i.index(v.len())])
}

/// Turns a step into an event against the ids the model knows.
fn concrete(m: &Checker, s: &Step, at: Timestamp, next_conv: &mut u64) -> Event {
    use ConversationState as S;
    let n = m.chans.len();
    let unknown_op = OperatorId(99);
    let unknown_conv = ConversationId(99_999);
    let op = |i: &Index| {
        if s.bad {
            unknown_op
        } else {
            pick(&m.op_ids(), i).unwrap_or(unknown_op)
        }
    };
    // A conversation in one of `ok` (or, for a bad step, in any other state).
    let conv = |i: &Index, ok: &[S]| -> Option<ConversationId> {
        if s.bad {
            let all = [
                S::WithBot,
                S::Waiting,
                S::Offered,
                S::Assigned,
                S::Responded,
                S::MessageLeft,
            ];
            let wrong: Vec<S> = all.into_iter().filter(|x| !ok.contains(x)).collect();
            Some(pick(&m.convs_in(&wrong), i).unwrap_or(unknown_conv))
        } else {
            pick(&m.convs_in(ok), i)
        }
    };
    let assign = Event::Assign { at };
    match &s.act {
        Act::AddOp(g) => {
            let mut spec = op_spec(g, &m.policy, s.bad && g.id % 2 == 0);
            if s.bad && g.id % 2 == 1 {
                // A duplicate id when there is one.
                spec.id = m.op_ids().first().copied().unwrap_or(spec.id);
            }
            Event::OperatorAdded { at, operator: spec }
        }
        Act::RemoveOp(i) => Event::OperatorRemoved {
            at,
            operator: op(i),
        },
        Act::Status(i, st) => Event::OperatorStatusChanged {
            at,
            operator: op(i),
            status: *st,
        },
        Act::Capacity(i, c, cap) => Event::OperatorCapacityChanged {
            at,
            operator: op(i),
            channel: CHANNELS[c % n],
            capacity: *cap,
        },
        Act::Skills(i, sk) => {
            let mut skills: Vec<SkillLevel> = Vec::new();
            for &(k, level) in sk {
                if !skills.iter().any(|x| x.skill == SKILLS[k]) {
                    skills.push(SkillLevel::new(SKILLS[k], level));
                }
            }
            Event::OperatorSkillsChanged {
                at,
                operator: op(i),
                skills: skills.into_iter().collect(),
            }
        }
        Act::Teams(i, ts) => {
            let mut teams: Vec<TeamId> = Vec::new();
            for &t in ts {
                if !teams.contains(&TEAMS[t]) {
                    teams.push(TEAMS[t]);
                }
            }
            Event::OperatorTeamsChanged {
                at,
                operator: op(i),
                teams: teams.into_iter().collect(),
            }
        }
        Act::Profile(i, p) => {
            let profiles = &m.policy.profiles;
            let profile = match p {
                _ if s.bad && !profiles.is_empty() => Some(ProfileId(99)),
                Some(p) if !profiles.is_empty() => Some(profiles[p.index(profiles.len())].id),
                _ => None,
            };
            Event::OperatorProfileChanged {
                at,
                operator: if s.bad && !profiles.is_empty() {
                    pick(&m.op_ids(), i).unwrap_or(unknown_op)
                } else {
                    op(i)
                },
                profile,
            }
        }
        Act::HandledReset => Event::HandledCountsReset { at },
        Act::Bot(g) | Act::Arrive(g) => {
            *next_conv += 1;
            let mut id = *next_conv;
            if s.bad && id % 2 == 0 {
                // A duplicate of a live conversation that is not with the bot.
                if let Some(c) = m.convs_in(&[S::Waiting, S::Assigned, S::Responded]).first() {
                    id = c.0;
                }
            }
            let conversation = conv_spec(g, id, &m.policy, s.bad && id % 2 == 1);
            if matches!(s.act, Act::Bot(_)) {
                Event::BotConversationStarted { at, conversation }
            } else {
                Event::ConversationArrived { at, conversation }
            }
        }
        Act::BotAsks(i) => match conv(i, &[S::WithBot]) {
            Some(c) => {
                let spec = m
                    .convs
                    .get(&c)
                    .map(|x| x.spec.clone())
                    .unwrap_or_else(|| ConversationSpec::new(c, CHANNELS[0], TIERS[0]));
                Event::ConversationArrived {
                    at,
                    conversation: spec,
                }
            }
            None => assign,
        },
        Act::FirstResponse(i) => match conv(i, &[S::Assigned]) {
            Some(c) => Event::FirstResponseSent {
                at,
                conversation: c,
            },
            None => assign,
        },
        Act::Resolve(i) => {
            match conv(i, &[S::WithBot, S::Assigned, S::Responded, S::MessageLeft]) {
                Some(c) => Event::ConversationResolved {
                    at,
                    conversation: c,
                },
                None => assign,
            }
        }
        Act::Abandon(i) => match conv(i, &[S::Waiting, S::Offered]) {
            Some(c) => Event::ConversationAbandoned {
                at,
                conversation: c,
            },
            None => assign,
        },
        Act::LeaveMessage(i) => match conv(i, &[S::Waiting]) {
            Some(c) => Event::MessageLeft {
                at,
                conversation: c,
            },
            None => assign,
        },
        Act::Transfer(c, o, kind) => match conv(c, &[S::Assigned, S::Responded]) {
            Some(c) => Event::ConversationTransferred {
                at,
                conversation: c,
                to: match kind {
                    0 => TransferTarget::Operator(op(o)),
                    1 => TransferTarget::Team(TEAMS[o.index(2)]),
                    3 if !m.policy.queues.is_empty() => {
                        TransferTarget::ToQueue(m.policy.queues[o.index(m.policy.queues.len())].id)
                    }
                    _ => TransferTarget::Queue,
                },
            },
            None => assign,
        },
        Act::Claim(c, o) => match conv(c, &[S::Waiting]) {
            Some(c) => Event::ConversationClaimed {
                at,
                conversation: c,
                operator: op(o),
            },
            None => assign,
        },
        Act::Answer(c, o, yes) => match conv(c, &[S::Offered]) {
            Some(c) => {
                let holder = m.convs.get(&c).and_then(|x| x.holder);
                let operator = match (s.bad, holder) {
                    (false, Some(h)) => h,
                    _ => pick(&m.op_ids(), o).unwrap_or(unknown_op),
                };
                if *yes {
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
        Act::Tick if s.bad && at.0 > T0 => Event::Tick {
            at: Timestamp(m.now.0.saturating_sub(1)),
        },
        Act::Tick => Event::Tick { at },
        Act::Assign => assign,
        Act::Rebalance => Event::Rebalance { at },
        Act::RebalanceOp(i) => Event::RebalanceOperator {
            at,
            operator: op(i),
        },
    }
}

// ------------------------------------------------------------- runners

/// The concrete events of a case and what the engine answered, checked
/// step by step.
struct Run {
    events: Vec<Event>,
    outcomes: Vec<Outcome>,
    engine: Engine,
}

fn run_checked(case: &Case) -> Result<Run, String> {
    let mut engine = Engine::new(case.policy.clone()).map_err(|e| e.to_string())?;
    let mut m = Checker::new(&case.policy);
    let mut events = Vec::new();
    let mut outcomes = Vec::new();
    let mut now = T0;
    let mut next_conv = 0;
    for g in &case.roster {
        events.push(Event::OperatorAdded {
            at: Timestamp(now),
            operator: op_spec(g, &case.policy, false),
        });
    }
    let roster = events.len();
    for i in 0..roster + case.steps.len() {
        let ev = if i < roster {
            events[i].clone()
        } else {
            let s = &case.steps[i - roster];
            now += s.dt;
            let ev = concrete(&m, s, Timestamp(now), &mut next_conv);
            events.push(ev.clone());
            ev
        };
        let out = m
            .step(&mut engine, &ev, true, true)
            .map_err(|e| format!("step {i}: {ev:?}\n  {e}"))?;
        if out.is_ok() {
            now = now.max(ev.at().0);
        }
        outcomes.push(out);
    }
    Ok(Run {
        events,
        outcomes,
        engine,
    })
}

fn replay(policy: &Policy, events: &[Event], matching: Matching) -> (Vec<Outcome>, Engine) {
    let mut e = Engine::new(policy.clone()).expect("valid policy");
    e.set_matching(matching);
    let out = events
        .iter()
        .map(|ev| {
            let r = e.apply(ev.clone());
            let _ = e.take_records();
            r
        })
        .collect();
    (out, e)
}

fn first_difference(a: &[Outcome], b: &[Outcome]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let run = run_checked(case).map_err(TestCaseError::fail)?;
    // Determinism: the same stream again gives the same answers and state.
    let (again, e2) = replay(&case.policy, &run.events, Matching::Indexed);
    if let Some(i) = first_difference(&run.outcomes, &again) {
        return Err(TestCaseError::fail(format!(
            "rerun differs at event {i} {:?}:\n  first {:?}\n  again {:?}",
            run.events[i],
            run.outcomes[i],
            again.get(i)
        )));
    }
    prop_assert!(e2 == run.engine, "rerun ends in a different state");
    // Differential: scanning everything decides the same.
    let (scan, _) = replay(&case.policy, &run.events, Matching::Scan);
    if let Some(i) = first_difference(&run.outcomes, &scan) {
        return Err(TestCaseError::fail(format!(
            "Matching::Scan differs at event {i} {:?}:\n  indexed {:?}\n  scan    {:?}",
            run.events[i],
            run.outcomes[i],
            scan.get(i)
        )));
    }
    // Replay: a snapshot midway (through bytes) plus the rest of the stream
    // ends in the same state with the same decisions.
    let cut = run.events.len() / 2;
    let (head, mut first) = replay(&case.policy, &run.events[..cut], Matching::Indexed);
    let bytes = first.snapshot().to_bytes();
    let snap = Snapshot::from_bytes(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&snap, &first.snapshot());
    let mut restored = match Engine::restore(snap) {
        Ok(e) => e,
        Err(e) => return Err(TestCaseError::fail(format!("restore at {cut}: {e}"))),
    };
    prop_assert_eq!(restored.state_hash(), first.state_hash());
    prop_assert_eq!(restored.take_records(), first.take_records());
    let mut tail = Vec::new();
    for ev in &run.events[cut..] {
        tail.push(restored.apply(ev.clone()));
        let _ = restored.take_records();
    }
    let mut all = head;
    all.extend(tail);
    if let Some(i) = first_difference(&run.outcomes, &all) {
        return Err(TestCaseError::fail(format!(
            "restored at {cut}, differs at event {i} {:?}:\n  whole    {:?}\n  restored {:?}",
            run.events[i],
            run.outcomes[i],
            all.get(i)
        )));
    }
    let whole = run.engine;
    prop_assert_eq!(restored.snapshot(), whole.snapshot());
    prop_assert_eq!(restored.state_hash(), whole.state_hash());
    // Not `==`: the derived `PartialEq` also compares slot layout and index
    // numbering, which a restore rebuilds differently (see the ignored
    // tests at the end of this file).
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(96);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/proptest-regressions/props.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_event_streams_keep_every_invariant(case in case()) {
        check_case(&case)?;
    }
}

// ------------------------------------------------- engine bugs found here

/// Found by `random_event_streams_keep_every_invariant` (minimised by hand
/// from its cases): `Engine`'s derived `PartialEq` compares slot layout, so
/// an engine restored from a snapshot is not `==` the engine that never
/// stopped once a slot has been freed, although their snapshots and state
/// hashes are equal and every later decision is the same. Ignored until the
/// lead decides between a semantic `PartialEq` (compare snapshots) and a
/// restore that rebuilds the same layout.
/// `Engine`'s `==` also compares internal layout (slots, index numbering),
/// which a restore rebuilds differently; the documented state equality is
/// `snapshot()` / `state_hash()`, and continuing must decide identically.
#[test]
fn restoring_after_a_conversation_ended_gives_an_equal_engine() {
    let mut e = Engine::new(base_policy(2, false)).expect("valid policy");
    let at = Timestamp(T0);
    for id in [1, 2] {
        e.apply(Event::ConversationArrived {
            at,
            conversation: ConversationSpec::new(ConversationId(id), CHANNELS[0], TIERS[0]),
        })
        .expect("arrived");
    }
    e.apply(Event::ConversationAbandoned {
        at,
        conversation: ConversationId(1),
    })
    .expect("abandoned");
    let _ = e.take_records();
    let bytes = e.snapshot().to_bytes();
    let restored = Engine::restore(Snapshot::from_bytes(&bytes).expect("bytes")).expect("restore");
    assert_eq!(restored.snapshot(), e.snapshot());
    assert_eq!(restored.state_hash(), e.state_hash());
    let (mut a, mut b) = (restored, e);
    for k in 0..3u64 {
        let at = Timestamp(T0 + 1_000 * (k + 1));
        let ev = Event::ConversationArrived {
            at,
            conversation: ConversationSpec::new(ConversationId(10 + k), CHANNELS[0], TIERS[0]),
        };
        a.apply(ev.clone()).expect("arrived");
        b.apply(ev).expect("arrived");
        assert_eq!(a.assign(at).expect("assign"), b.assign(at).expect("assign"));
    }
    assert_eq!(a.state_hash(), b.state_hash());
}

/// Found by the property test (minimised by hand from its case): a
/// conversation keeps its preferred operator in `prefers` while another
/// operator holds it; when the preferred operator is then removed,
/// `end_preferred_waits` only visits conversations still queued for them, so
/// the held one keeps pointing at an operator who no longer exists. The
/// engine's own snapshot is then refused by `Engine::restore` ("prefers an
/// unknown operator"): a host cannot restore a state the engine produced.
/// Fix (one of): clear `prefers` in `hand_over` (the preference has been
/// used up once the conversation is placed), or clear it for every
/// conversation naming the operator in `remove_operator`, or accept the
/// dangling id in `check_consistency` as the live engine does.
#[test]
fn a_snapshot_after_the_preferred_operator_left_restores() {
    let call = CHANNELS[0];
    let mut e = Engine::new(base_policy(2, false)).expect("valid policy");
    let at = Timestamp(T0);
    for (id, cap) in [(1, 1), (2, 0)] {
        let mut spec = OperatorSpec::new(OperatorId(id)).status(OperatorStatus::Available);
        if cap > 0 {
            spec = spec.capacity(call, cap);
        }
        e.apply(Event::OperatorAdded { at, operator: spec })
            .expect("added");
    }
    e.apply(Event::ConversationArrived {
        at,
        conversation: ConversationSpec::new(ConversationId(1), call, TIERS[0])
            .preferred_operator(OperatorId(2)),
    })
    .expect("arrived");
    let ds = e.assign(at).expect("assign");
    assert_eq!(ds[0].operator, OperatorId(1), "#2 has no room: #1 takes it");
    e.apply(Event::OperatorRemoved {
        at,
        operator: OperatorId(2),
    })
    .expect("removed");
    let bytes = e.snapshot().to_bytes();
    let restored = Engine::restore(Snapshot::from_bytes(&bytes).expect("bytes"));
    assert!(restored.is_ok(), "{:?}", restored.err());
}

/// Found by the DST runner (`examples/dst.rs`, seed 9 slows down steadily;
/// profiled): waiting-conversation buckets are keyed by the whole
/// requirement, declined operators included (`Req::excluded`), and are
/// never dropped when empty. Every distinct set of operators who declined
/// a conversation leaves a bucket behind for good, and a freed operator's
/// pull (`best_conv_for`) walks every bucket of its skill groups, empty or
/// not. A long-running engine with offers therefore grows without bound
/// and each pull gets slower. Here: a drained engine (no conversations
/// left) is many times larger than one that never saw the declines. Fix
/// (one of): drop a bucket (and its `groups` entry) when its queue empties,
/// or keep `excluded` out of the bucket key and filter it per candidate.
#[test]
fn a_drained_engine_does_not_keep_what_it_no_longer_needs() {
    let chat = CHANNELS[1];
    let mut p = base_policy(2, false);
    p.offers = Some(OfferPolicy::new(Millis::from_secs(60)).away_after_missed(0));
    let mut e = Engine::new(p).expect("valid policy");
    let at = Timestamp(T0);
    let ops = 40u64;
    for id in 1..=ops {
        e.apply(Event::OperatorAdded {
            at,
            operator: OperatorSpec::new(OperatorId(id))
                .status(OperatorStatus::Available)
                .capacity(chat, 1),
        })
        .expect("added");
    }
    let fresh = format!("{e:?}").len();
    // Conversation k is rejected by k operators in turn (k distinct
    // declined sets), then abandoned.
    for k in 1..=ops {
        e.apply(Event::ConversationArrived {
            at,
            conversation: ConversationSpec::new(ConversationId(k), chat, TIERS[0]),
        })
        .expect("arrived");
        for _ in 0..k {
            let ds = e.assign(at).expect("assign");
            let by = ds[0].operator;
            e.apply(Event::OfferRejected {
                at,
                conversation: ConversationId(k),
                operator: by,
            })
            .expect("rejected");
        }
        e.apply(Event::ConversationAbandoned {
            at,
            conversation: ConversationId(k),
        })
        .expect("abandoned");
        let _ = e.take_records();
    }
    assert_eq!(e.conversation_ids(), vec![]);
    let drained = format!("{e:?}").len();
    assert!(
        drained < 2 * fresh,
        "drained engine is {drained} bytes of Debug, fresh {fresh}"
    );
}

/// Found by the property test (minimised): under a policy with
/// `reassign_responded_after_away`, an operator who *joins* away or offline
/// gets no "away too long" timer (`add_operator` starts it only on a status
/// change from available), but `Engine::restore` starts one for every
/// operator who is not available. A restored engine therefore marks the
/// operator as a rebalance source when the timer fires and the one that
/// never stopped does not: their snapshots differ, and a later `Rebalance`
/// can move different conversations. Fix (one of): start the timer in
/// `add_operator` when the operator joins unavailable, or have the
/// snapshot say whether it is pending.
#[test]
fn adding_an_away_operator_starts_the_away_clock() {
    let mut p = base_policy(2, false);
    p.rebalance.reassign_responded_after_away = Some(Millis::from_secs(1));
    let mut whole = Engine::new(p).expect("valid policy");
    whole
        .apply(Event::OperatorAdded {
            at: Timestamp(T0),
            operator: OperatorSpec::new(OperatorId(1))
                .status(OperatorStatus::Away)
                .capacity(CHANNELS[1], 1),
        })
        .expect("added");
    let bytes = whole.snapshot().to_bytes();
    let mut restored =
        Engine::restore(Snapshot::from_bytes(&bytes).expect("bytes")).expect("restore");
    assert_eq!(restored.next_deadline(), whole.next_deadline());
    let later = Event::Tick {
        at: Timestamp(T0 + 5_000),
    };
    whole.apply(later.clone()).expect("tick");
    restored.apply(later).expect("tick");
    assert_eq!(restored.snapshot(), whole.snapshot());
}

/// Found by the property test (minimised): with offers on and
/// `reoffer_declined: false`, a conversation whose preferred operator let
/// the offer lapse (or rejected it) is offered to that operator again, by
/// the preferred-operator route, at the very next `assign`. The route is
/// tried before the declined list is consulted (`best_op_for` checks
/// `prefers` first; `is_eligible`/`scan_best_conv_for`/the preferring queue
/// likewise). Fixed: a preference is spent at the first assignment.
#[test]
fn a_declined_preferred_operator_is_not_offered_again() {
    let email = CHANNELS[2];
    let mut p = base_policy(3, false);
    p.offers = Some(OfferPolicy::new(Millis::from_secs(1)).away_after_missed(0));
    let mut e = Engine::new(p).expect("valid policy");
    let t0 = Timestamp(T0);
    e.apply(Event::OperatorAdded {
        at: t0,
        operator: OperatorSpec::new(OperatorId(4))
            .status(OperatorStatus::Available)
            .capacity(email, 1),
    })
    .expect("added");
    e.apply(Event::ConversationArrived {
        at: t0,
        conversation: ConversationSpec::new(ConversationId(1), email, TIERS[0])
            .preferred_operator(OperatorId(4)),
    })
    .expect("arrived");
    let first = e.assign(t0).expect("assign");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].operator, OperatorId(4));
    // The offer lapses at t0 + 1 s; the same assign must not offer it to #4 again.
    let later = e.assign(Timestamp(T0 + 1_000)).expect("assign");
    assert!(
        matches!(later[0].kind, DecisionKind::Unassigned { .. }),
        "{later:?}"
    );
    assert!(
        later[1..].iter().all(|d| d.operator != OperatorId(4)),
        "offered again to the operator who missed it: {later:?}"
    );
}

/// Also found by the property test (minimised): a conversation still with
/// the bot at the snapshot is restored with a queue key computed from its
/// start time; the original has none until the customer asks. Harmless for
/// decisions (the key is recomputed on arrival) but another `!=`. Fix: in
/// `Engine::restore`, compute the key only when `asked_at` is set.
#[test]
fn restoring_a_bot_conversation_gives_an_equal_engine() {
    let mut e = Engine::new(base_policy(2, false)).expect("valid policy");
    e.apply(Event::BotConversationStarted {
        at: Timestamp(T0),
        conversation: ConversationSpec::new(ConversationId(1), CHANNELS[0], TIERS[0]),
    })
    .expect("bot conversation");
    let bytes = e.snapshot().to_bytes();
    let restored = Engine::restore(Snapshot::from_bytes(&bytes).expect("bytes")).expect("restore");
    assert_eq!(restored.state_hash(), e.state_hash());
    assert!(restored == e, "restored engine != original");
}

// ------------------------------------- engine bugs found here (issue 19)

fn op_on(id: u64, channels: &[(ChannelId, u16)], status: OperatorStatus) -> OperatorSpec {
    let mut s = OperatorSpec::new(OperatorId(id)).status(status);
    for &(c, n) in channels {
        s = s.capacity(c, n);
    }
    s
}

/// Found while writing the cross-queue model: a freed operator pulls on
/// each ready channel by its profile's classes (`best_conv_for`), but
/// `pull_and_place` then takes the best of the channels by queue key alone,
/// so a lower class on one channel beats a higher class on another. The
/// semantics ("the first class that has a conversation they can serve
/// wins") say otherwise. Here #1 serves queue A at priority 1, B at 2; call
/// blocks chat. B's call (asked first) is pulled, #1 is then blocked from
/// A's chat, which waits. By the semantics #1 takes A's chat first (and
/// then B's call too, which the chat does not block). Indexed and
/// `Matching::Scan` agree, so only the model of the order sees it.
#[test]

fn a_freed_operator_takes_the_first_class_across_channels() {
    let (call, chat) = (CHANNELS[0], CHANNELS[1]);
    let (a, b) = (QueueId(1), QueueId(2));
    let mut p = base_policy(2, true);
    p.queues = vec![QueueSpec::new(a, "a"), QueueSpec::new(b, "b")];
    p.profiles = vec![
        RoutingProfile::new(ProfileId(1), "a first")
            .serve(ProfileQueue::new(a, 1))
            .serve(ProfileQueue::new(b, 2)),
    ];
    let mut e = Engine::new(p).expect("valid policy");
    let t = |s: u64| Timestamp(T0 + 1_000 * s);
    e.apply(Event::OperatorAdded {
        at: t(0),
        operator: op_on(1, &[(call, 1), (chat, 1)], OperatorStatus::Away).profile(ProfileId(1)),
    })
    .expect("added");
    e.apply(Event::ConversationArrived {
        at: t(0),
        conversation: ConversationSpec::new(ConversationId(1), call, TIERS[0]).queue(b),
    })
    .expect("arrived");
    e.apply(Event::ConversationArrived {
        at: t(1),
        conversation: ConversationSpec::new(ConversationId(2), chat, TIERS[0]).queue(a),
    })
    .expect("arrived");
    e.apply(Event::OperatorStatusChanged {
        at: t(2),
        operator: OperatorId(1),
        status: OperatorStatus::Available,
    })
    .expect("status");
    let ds = e.assign(t(2)).expect("assign");
    let got: Vec<ConversationId> = ds.iter().map(|d| d.conversation).collect();
    assert_eq!(got.first(), Some(&ConversationId(2)), "{ds:?}");
}

/// Found by the property test (differential, minimised by proptest): the
/// reference scan (`scan_best_conv_for`) sets a conversation that prefers
/// the pulling operator aside (`continue`), so it never counts in its own
/// queue's priority class. #2's profile serves queue 1 at priority 0 and
/// the default queue at 1; conversation 2 (queue 1) prefers #2,
/// conversation 1 (default queue) asked first. Indexed: class 0 has work
/// (conversation 2), it wins (semantics doc). `Matching::Scan`: class 0
/// looks empty, class 1's conversation 1 beats the preference by key.
#[test]

fn a_preferring_conversation_counts_in_its_class_under_scan() {
    let call = CHANNELS[0];
    let mut p = base_policy(2, false);
    p.queues = vec![QueueSpec::new(QueueId(1), "queue1")];
    p.profiles = vec![
        RoutingProfile::new(ProfileId(2), "profile2")
            .serve(ProfileQueue::default_queue(1))
            .serve(ProfileQueue::new(QueueId(1), 0)),
    ];
    let at = Timestamp(T0);
    let events = [
        Event::OperatorAdded {
            at,
            operator: op_on(2, &[(call, 2)], OperatorStatus::Available),
        },
        Event::OperatorProfileChanged {
            at,
            operator: OperatorId(2),
            profile: Some(ProfileId(2)),
        },
        Event::ConversationArrived {
            at,
            conversation: ConversationSpec::new(ConversationId(1), call, TIERS[0]),
        },
        Event::ConversationArrived {
            at,
            conversation: ConversationSpec::new(ConversationId(2), call, TIERS[0])
                .queue(QueueId(1))
                .preferred_operator(OperatorId(2)),
        },
        Event::Assign { at },
    ];
    let (indexed, _) = replay(&p, &events, Matching::Indexed);
    let (scan, _) = replay(&p, &events, Matching::Scan);
    assert_eq!(indexed, scan);
}

/// Found by the DST runner (seed 5 with queues): a policy change that drops
/// a queue *nobody uses* is refused ("an operator or conversation does not
/// fit the new policy (id 0)"): the snapshot carries every old queue's
/// counters (`queue_counters`: ring pointer, trainee credit) and
/// `Engine::restore` looks each up with `queue_index(qc.queue)?`, which
/// fails for the dropped queue. Dropping an unused channel, tier or skill
/// is accepted. Fix: drop the counters of queues the new policy does not
/// declare in `with_policy` (or skip them in restore).
#[test]

fn a_policy_change_may_drop_an_unused_queue() {
    let mut p = base_policy(2, false);
    p.queues = vec![QueueSpec::new(QueueId(1), "sales")];
    let mut e = Engine::new(p.clone()).expect("valid policy");
    let mut q = p;
    q.queues.clear();
    let res = e.apply(Event::PolicyChanged {
        at: Timestamp(T0),
        policy: Box::new(q),
    });
    assert!(res.is_ok(), "{res:?}");
}
