//! Rebalance (goals G6, G7, G8). Each iteration starts from a fresh clone of
//! the same state (the clone is untimed).
//!
//! * `offline_with_10_unanswered/<n>ops` (G6): an operator with 10
//!   unanswered conversations goes offline and their work is re-placed.
//! * `skew_10_to_idle/<n>ops` (G8, few moves): one operator holds 10, the
//!   others are idle.
//! * `skew_full/<n>ops` (G8, many moves): two channels (chat 10, email 20),
//!   no skills. Half of the operators take a burst while the other half is
//!   away (chat 8 of 10, email 12 of 20 each: `4 n` chats and `6 n` emails,
//!   100,000 conversations at 10,000 operators); the other half comes back
//!   idle. One `rebalance` with a 200 ‰ margin evens the load out. The number of moves is printed (and
//!   written to `switchboard-bench/rebalance/`) so µs per move can be read
//!   off; an untimed run first checks that no available operator's load
//!   ratio exceeds another's by more than the margin afterwards.
//! * `from_scratch/<n>x<m>` (G7): a shift change. `n / 2` outgoing operators
//!   (the bench fixture's skills and teams: 4–6 of 200 skills, 10 tiers) hold
//!   all `m` conversations, every one unanswered, half chat and half email;
//!   their `n / 2` twins (same skills, teams and capacities) are available
//!   and idle. The outgoing shift goes offline and one `rebalance` call takes
//!   every conversation back to the queue (its original place) and
//!   re-decides each one. This is the closest the public API comes to "re-
//!   decide every unanswered conversation from scratch": the engine keeps its
//!   indexes incrementally, so no index is rebuilt (an operator going away and
//!   coming back before the call moves nothing, and a capacity cut on
//!   everyone only re-queues work nobody has room for).
//!
//! Scale: `SWITCHBOARD_BENCH_REBALANCE_SCALES=10000x100000,...` (operators ×
//! conversations; `skew_full` uses the operator count); default
//! `10000x100000`, `1000x10000` under `SWITCHBOARD_BENCH_QUICK=1`.

use std::hint::black_box;
use std::time::Instant;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode};
use switchboard::engine::{DecisionKind, MoveCause};
use switchboard::prelude::*;

use crate::fixtures::{self, Rng, servable_conversation};
use crate::report;

const CHAT: ChannelId = ChannelId(1);
const EMAIL: ChannelId = ChannelId(2);
/// Skew margin of the skew benches, in thousandths.
const MARGIN: u16 = 200;

/// (operators, conversations) for `skew_full` and `from_scratch`.
fn scales() -> Vec<(usize, usize)> {
    if let Some(v) = report::list("SWITCHBOARD_BENCH_REBALANCE_SCALES") {
        return v
            .iter()
            .filter_map(|s| {
                let (n, m) = s.split_once('x')?;
                Some((n.parse().ok()?, m.parse().ok()?))
            })
            .collect();
    }
    if report::quick() {
        vec![(1_000, 10_000)]
    } else {
        vec![(10_000, 100_000)]
    }
}

fn engine(operators: u64, skew: bool) -> Engine {
    let mut p = Policy::new(
        vec![ChannelSpec::new(CHAT, "chat")],
        vec![TierSpec::new(TierId(1), "all", 1).first_response_target(Millis(60_000))],
        vec![],
    );
    if skew {
        p.rebalance.skew_margin_permille = Some(200);
    }
    let mut e = Engine::new(p).unwrap();
    let t = Timestamp(1_000);
    // Operator 0 takes 10 conversations while alone; the others log in afterwards.
    for o in 0..operators {
        let status = if o == 0 {
            OperatorStatus::Available
        } else {
            OperatorStatus::Away
        };
        e.apply(Event::OperatorAdded {
            at: t,
            operator: OperatorSpec::new(OperatorId(o))
                .status(status)
                .capacity(CHAT, 10),
        })
        .unwrap();
    }
    for c in 0..10 {
        e.apply(Event::ConversationArrived {
            at: t,
            conversation: ConversationSpec::new(ConversationId(c), CHAT, TierId(1)),
        })
        .unwrap();
    }
    e.assign(t).unwrap();
    for o in 1..operators {
        e.apply(Event::OperatorStatusChanged {
            at: Timestamp(2_000),
            operator: OperatorId(o),
            status: OperatorStatus::Available,
        })
        .unwrap();
    }
    e.assign(Timestamp(2_000)).unwrap();
    e
}

/// Capacities of the `skew_full` operators and the burst each loaded one holds.
const SKEW_CAP: [(ChannelId, u16, u16); 2] = [(CHAT, 10, 8), (EMAIL, 20, 12)];

/// `n` operators (ids `0..n`); the even ones take a burst of `n / 2 × 8`
/// chats and `n / 2 × 12` emails while the odd ones are away (least loaded
/// spreads it evenly: chat 0.8, email 0.6 each), then the odd ones come
/// back idle (ratio 0). Nothing waits.
fn skew_engine(n: usize) -> Engine {
    let mut p = Policy::new(
        SKEW_CAP
            .iter()
            .map(|&(id, _, _)| ChannelSpec::new(id, format!("ch{}", id.0)))
            .collect(),
        vec![TierSpec::new(TierId(1), "all", 1).first_response_target(Millis(60_000))],
        vec![],
    );
    p.rebalance.skew_margin_permille = Some(MARGIN);
    let mut e = Engine::new(p).unwrap();
    let t = Timestamp(1_000);
    for o in 0..n as u64 {
        let status = if o % 2 == 0 {
            OperatorStatus::Available
        } else {
            OperatorStatus::Away
        };
        let mut spec = OperatorSpec::new(OperatorId(o)).status(status);
        for &(ch, cap, _) in &SKEW_CAP {
            spec = spec.capacity(ch, cap);
        }
        e.apply(Event::OperatorAdded {
            at: t,
            operator: spec,
        })
        .unwrap();
    }
    let mut id = 0;
    for &(ch, _, burst) in &SKEW_CAP {
        for _ in 0..(n / 2) * usize::from(burst) {
            id += 1;
            e.apply(Event::ConversationArrived {
                at: t,
                conversation: ConversationSpec::new(ConversationId(id), ch, TierId(1)),
            })
            .unwrap();
        }
    }
    e.assign(t).unwrap();
    assert_eq!(e.state_counts().waiting, 0, "the burst must all be held");
    let t2 = Timestamp(2_000);
    for o in (1..n as u64).step_by(2) {
        e.apply(Event::OperatorStatusChanged {
            at: t2,
            operator: OperatorId(o),
            status: OperatorStatus::Available,
        })
        .unwrap();
    }
    e.assign(t2).unwrap();
    e
}

/// The engine's exact load ratio (32 fractional bits), as `rebalance` compares them.
fn ratio(load: u16, cap: u16) -> u64 {
    (u64::from(load) << 32) / u64::from(cap.max(1))
}

/// Largest minus smallest load ratio over the available operators with
/// capacity on `ch` (every operator of `skew_engine` is eligible for every
/// conversation of its channel), with 32 fractional bits.
fn spread(e: &Engine, ch: ChannelId) -> u64 {
    let (mut lo, mut hi) = (u64::MAX, 0);
    for id in e.operator_ids() {
        if e.operator(id).unwrap().spec.status != OperatorStatus::Available {
            continue;
        }
        let (load, cap) = e.operator_load(id, ch).unwrap();
        if cap == 0 {
            continue;
        }
        let r = ratio(load, cap);
        lo = lo.min(r);
        hi = hi.max(r);
    }
    hi.saturating_sub(lo)
}

/// Counts (moves, placements) in a rebalance's decisions.
fn count(ds: &[Decision], cause: MoveCause) -> (usize, usize) {
    let moves = ds
        .iter()
        .filter(|d| d.kind == DecisionKind::Unassigned { cause })
        .count();
    let placed = ds
        .iter()
        .filter(|d| d.kind == DecisionKind::Assigned)
        .count();
    (moves, placed)
}

/// One untimed rebalance of a clone: what it did and how long it took.
struct Check {
    decisions: usize,
    moves: usize,
    placed: usize,
    left_waiting: u32,
}

/// Times one `rebalance` call on clones of `base` (cloning untimed; the
/// engine and decisions are returned so dropping them is not timed either).
fn time_rebalance(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: String,
    base: &Engine,
    at: Timestamp,
    decisions: usize,
) {
    g.bench_function(name, |b| {
        b.iter_batched(
            || base.clone(),
            |mut e| {
                let ds = e.rebalance(at).unwrap();
                assert_eq!(ds.len(), decisions);
                (e, ds)
            },
            BatchSize::LargeInput,
        )
    });
}

fn check_run(name: &str, base: &Engine, at: Timestamp, cause: MoveCause) -> (Engine, Check) {
    let mut e = base.clone();
    let t = Instant::now();
    let ds = e.rebalance(at).unwrap();
    let dt = t.elapsed();
    let (moves, placed) = count(&ds, cause);
    let c = Check {
        decisions: ds.len(),
        moves,
        placed,
        left_waiting: e.state_counts().waiting,
    };
    let per_move = dt.as_secs_f64() * 1e6 / moves.max(1) as f64;
    eprintln!(
        "rebalance/{name}: {} moves, {} placements, {} left waiting; untimed check run {:.2?} ({per_move:.2} µs per move)",
        c.moves, c.placed, c.left_waiting, dt
    );
    report::write(
        "rebalance",
        name,
        &[
            ("id", report::quoted(&format!("rebalance/{name}"))),
            ("moves", c.moves.to_string()),
            ("placements", c.placed.to_string()),
            ("left_waiting", c.left_waiting.to_string()),
            ("check_run_s", format!("{:.6}", dt.as_secs_f64())),
        ],
    );
    (e, c)
}

/// The `from_scratch` state: `n / 2` outgoing operators (ids `1..=n/2`, the
/// fixture's skills and teams) hold `m` unanswered conversations (half chat,
/// half email, each built from its holder's skills, random tiers), their
/// idle twins (ids `n/2 + 1..=n`) are available, and the outgoing shift has
/// just gone offline. Capacities: chat and email each equal to the outgoing
/// operators' load, so the twins have exactly room for everything.
fn shift_change(n: usize, m: usize) -> Engine {
    let half = n / 2;
    let per = m / half;
    assert!(per >= 2 && per * half == m, "m must be a multiple of n / 2");
    let (chats, emails) = (per / 2, per - per / 2);
    let mut rng = Rng::new(fixtures::SEED ^ 0x5ca1e ^ (n as u64) << 24 ^ m as u64);
    // The outgoing shift's work stays with them until the timed rebalance
    // (by default it would go back to the queue with the status change).
    let mut policy = fixtures::policy(Selection::LeastLoaded);
    policy.rebalance.defer_to_rebalance = true;
    let mut e = Engine::new(policy).unwrap();
    let t = fixtures::T0;
    let mut twins = Vec::with_capacity(half);
    for i in 0..half as u64 {
        let count = 4 + rng.below(3) as usize;
        let (_, info) = fixtures::operator(&mut rng, i + 1, count, false);
        for (id, status) in [
            (info.id, OperatorStatus::Available),
            (OperatorId(half as u64 + i + 1), OperatorStatus::Away),
        ] {
            let mut spec = OperatorSpec::new(id)
                .status(status)
                .capacity(fixtures::CHAT, chats as u16)
                .capacity(fixtures::EMAIL, emails as u16);
            for s in &info.skills {
                spec = spec.skill(s.skill, s.level);
            }
            for team in &info.teams {
                spec = spec.team(*team);
            }
            e.apply(Event::OperatorAdded {
                at: t,
                operator: spec,
            })
            .unwrap();
        }
        twins.push(info);
    }
    let mut next = 0;
    for op in &twins {
        for (ch, k) in [(fixtures::CHAT, chats), (fixtures::EMAIL, emails)] {
            for _ in 0..k {
                next += 1;
                let c = servable_conversation(&mut rng, next, op, ch);
                let conversation = c.id;
                e.apply(Event::ConversationArrived {
                    at: t,
                    conversation: c,
                })
                .unwrap();
                e.apply(Event::ConversationClaimed {
                    at: t,
                    conversation,
                    operator: op.id,
                })
                .unwrap();
            }
        }
    }
    let t2 = Timestamp(t.0 + 60_000);
    for i in 0..half as u64 {
        e.apply(Event::OperatorStatusChanged {
            at: t2,
            operator: OperatorId(half as u64 + i + 1),
            status: OperatorStatus::Available,
        })
        .unwrap();
    }
    assert!(e.assign(t2).unwrap().is_empty(), "nothing waits yet");
    for i in 0..half as u64 {
        e.apply(Event::OperatorStatusChanged {
            at: t2,
            operator: OperatorId(i + 1),
            status: OperatorStatus::Offline,
        })
        .unwrap();
    }
    let counts = e.state_counts();
    assert_eq!((counts.waiting, counts.with_operator), (0, m as u32));
    e
}

pub fn register(c: &mut Criterion) {
    let mut g = c.benchmark_group("rebalance");
    g.sample_size(20);
    for ops in [100u64, 1000] {
        let base = engine(ops, false);
        g.bench_function(format!("offline_with_10_unanswered/{ops}ops"), |b| {
            b.iter_batched(
                || base.clone(),
                |mut e| {
                    // The status change moves the work back to the queue (the
                    // default since absent operators keep nothing), the
                    // rebalance places it: both are timed.
                    let moved = e
                        .apply(Event::OperatorStatusChanged {
                            at: Timestamp(3_000),
                            operator: OperatorId(0),
                            status: OperatorStatus::Offline,
                        })
                        .unwrap()
                        .len();
                    let placed = e.rebalance(Timestamp(3_000)).unwrap().len();
                    assert_eq!((moved, placed), (10, 10), "10 moves and 10 placements");
                    // Returned, so dropping the engine is not timed.
                    (e, black_box(moved + placed))
                },
                BatchSize::LargeInput,
            )
        });
        let skewed = engine(ops, true);
        g.bench_function(format!("skew_10_to_idle/{ops}ops"), |b| {
            b.iter_batched(
                || skewed.clone(),
                |mut e| {
                    let n = black_box(e.rebalance(Timestamp(3_000)).unwrap().len());
                    (e, n)
                },
                BatchSize::LargeInput,
            )
        });
    }
    // The large ones: few samples of one call each; the engine and the
    // decisions are returned so their drop is not timed.
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(report::secs(1.0));
    for (n, m) in scales() {
        let at = Timestamp(3_000);
        let base = skew_engine(n);
        let margin = (u64::from(MARGIN) << 32) / 1000;
        for &(ch, _, _) in &SKEW_CAP {
            assert!(spread(&base, ch) > margin, "the state must be skewed");
        }
        let name = format!("skew_full/{n}ops");
        let (after, check) = check_run(&name, &base, at, MoveCause::LoadSkew);
        assert!(check.moves > 0, "a skew rebalance must move work");
        assert_eq!(check.decisions, 2 * check.moves, "each move is re-placed");
        assert_eq!(check.left_waiting, 0);
        for &(ch, _, _) in &SKEW_CAP {
            let s = spread(&after, ch);
            assert!(
                s <= margin,
                "channel {}: load ratios still {:.3} apart after the rebalance",
                ch.0,
                s as f64 / (1u64 << 32) as f64
            );
        }
        drop(after);
        time_rebalance(&mut g, name, &base, at, check.decisions);
        drop(base);

        let base = shift_change(n, m);
        let at = Timestamp(fixtures::T0.0 + 120_000);
        let name = format!("from_scratch/{n}x{m}");
        let (after, check) = check_run(&name, &base, at, MoveCause::OperatorOffline);
        assert_eq!(check.moves, m, "every unanswered conversation moves");
        assert_eq!(check.decisions, check.moves + check.placed);
        assert_eq!(check.placed + check.left_waiting as usize, m);
        assert!(check.placed > 0);
        drop(after);
        time_rebalance(&mut g, name, &base, at, check.decisions);
    }
    g.finish();
}
