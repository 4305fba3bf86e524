//! One routing decision, per selection strategy and scale, indexed and under
//! the reference scan (`Matching::Scan`), side by side.
//!
//! Groups `arrival` and `freed` (see `fixtures.rs` for what each step does);
//! ids `<strategy>[_scan]/<n>ops_<w>waiting`. Every decision is timed on its
//! own with `Instant` (setup and restore excluded); criterion gets the sum,
//! and the per-decision nanoseconds give p50/p99, written to
//! `switchboard-bench/latency/<group>__<id>.json`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use switchboard::engine::Matching;
use switchboard::prelude::*;

use crate::fixtures::{
    EMAIL, Fixture, Rng, SEED, T0, do_arrival, do_freed, operator, policy, strategies,
};
use crate::report;

/// (operators, waiting) pairs; `SWITCHBOARD_BENCH_SCALES=10000x100000,...` overrides.
fn scales() -> Vec<(usize, usize)> {
    if let Some(v) = report::list("SWITCHBOARD_BENCH_SCALES") {
        return v
            .iter()
            .filter_map(|s| {
                let (n, w) = s.split_once('x')?;
                Some((n.parse().ok()?, w.parse().ok()?))
            })
            .collect();
    }
    if report::quick() {
        vec![
            (1_000, 1_000),
            (1_000, 100_000),
            (10_000, 1_000),
            (10_000, 100_000),
        ]
    } else {
        let mut v = Vec::new();
        for n in [100, 1_000, 10_000] {
            for w in [1_000, 100_000] {
                v.push((n, w));
            }
        }
        v
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Arrival,
    Freed,
}

impl Step {
    fn group(self) -> &'static str {
        match self {
            Step::Arrival => "arrival",
            Step::Freed => "freed",
        }
    }
}

pub fn register(c: &mut Criterion) {
    let quick = report::quick();
    let all = strategies();
    // `SWITCHBOARD_BENCH_STRATEGIES=least_loaded,round_robin` overrides.
    let chosen: Vec<_> = match report::list("SWITCHBOARD_BENCH_STRATEGIES") {
        Some(names) => all
            .into_iter()
            .filter(|(n, _)| names.iter().any(|x| x == n))
            .collect(),
        None if quick => all.into_iter().take(1).collect(),
        None => all,
    };
    // `SWITCHBOARD_BENCH_ROUTED=1` also runs each strategy with 10 queues
    // and 5 routing profiles (ids `<strategy>_routed`), for the ratio to
    // the single-queue p50 in the same run; `=only` runs just those (for
    // instruction counts under callgrind, one process per variant).
    let variants: &[bool] = match std::env::var("SWITCHBOARD_BENCH_ROUTED").as_deref() {
        Ok("1") => &[false, true],
        Ok("only") => &[true],
        _ => &[false],
    };
    for (n, w) in scales() {
        for (name, selection) in &chosen {
            for &routed in variants {
                let name: &str = &if routed {
                    format!("{name}_routed")
                } else {
                    name.to_string()
                };
                let t = Instant::now();
                let mut fx = Fixture::build_with(n, w, selection.clone(), routed);
                let built = t.elapsed();
                let t = Instant::now();
                // `SWITCHBOARD_BENCH_SCAN=0` skips the reference baseline (for profiling).
                let with_scan = std::env::var("SWITCHBOARD_BENCH_SCAN").map_or(true, |v| v != "0");
                let mut scan = with_scan.then(|| fx.scan_twin(if quick { 50 } else { 150 }));
                eprintln!(
                    "fixture {name} {n}ops_{w}waiting: built in {:.2?}, scan twin checked in {:.2?} \
                 ({} pullers, {} conversations held or waiting)",
                    built,
                    t.elapsed(),
                    fx.driver.pullers.len(),
                    fx.engine.conversation_ids().len(),
                );
                let param = format!("{n}ops_{w}waiting");
                for step in [Step::Arrival, Step::Freed] {
                    run(c, step, name, &param, &mut fx, false);
                    if let Some(scan) = scan.as_mut() {
                        run(c, step, &format!("{name}_scan"), &param, scan, true);
                    }
                }
            }
        }
    }
    facet_build(c);
}

fn run(c: &mut Criterion, step: Step, function: &str, param: &str, fx: &mut Fixture, scan: bool) {
    let quick = report::quick();
    let mut g = c.benchmark_group(step.group());
    g.throughput(Throughput::Elements(1));
    if scan {
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(report::secs(0.2))
            .measurement_time(report::secs(if quick { 0.5 } else { 1.0 }));
    } else {
        g.sample_size(if quick { 10 } else { 20 })
            .warm_up_time(report::secs(if quick { 0.2 } else { 0.3 }))
            .measurement_time(report::secs(if quick { 0.5 } else { 1.0 }));
    }
    let mut out: Vec<Decision> = Vec::with_capacity(4);
    let mut restore_out: Vec<Decision> = Vec::with_capacity(4);
    let mut one = |fx: &mut Fixture| {
        out.clear();
        restore_out.clear();
        let dt = match step {
            Step::Arrival => {
                let a = fx.driver.prepare_arrival();
                let t = Instant::now();
                do_arrival(&mut fx.engine, a, &mut out);
                let dt = t.elapsed();
                if scan {
                    fx.engine.set_matching(Matching::Indexed);
                }
                fx.driver
                    .restore_arrival(&mut fx.engine, black_box(&out), &mut restore_out);
                dt
            }
            Step::Freed => {
                let f = fx.driver.prepare_freed(&fx.engine);
                let t = Instant::now();
                do_freed(&mut fx.engine, f, &mut out);
                let dt = t.elapsed();
                if scan {
                    fx.engine.set_matching(Matching::Indexed);
                }
                fx.driver
                    .restore_freed(&mut fx.engine, black_box(&out), &mut restore_out);
                dt
            }
        };
        if scan {
            fx.engine.set_matching(Matching::Scan);
        }
        dt
    };
    if let Some(n) = report::fixed_steps() {
        for _ in 0..n {
            one(fx);
        }
        eprintln!("  {}/{function}/{param}: {n} steps (fixed)", step.group());
        return;
    }
    let mut samples: Vec<u32> = Vec::with_capacity(1 << 20);
    g.bench_function(BenchmarkId::new(function, param), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dt = one(fx);
                total += dt;
                if samples.len() < samples.capacity() {
                    samples.push(u32::try_from(dt.as_nanos()).unwrap_or(u32::MAX));
                }
            }
            total
        })
    });
    g.finish();
    let count = samples.len();
    if count == 0 {
        return; // filtered out on the command line
    }
    let (p50, p99, max, mean) = report::percentiles(&mut samples);
    eprintln!(
        "  {}/{function}/{param}: {count} decisions timed, p50 {p50} ns, p99 {p99} ns, max {max} ns",
        step.group()
    );
    report::write(
        "latency",
        &format!("{}/{function}/{param}", step.group()),
        &[
            ("group", report::quoted(step.group())),
            ("function", report::quoted(function)),
            ("param", report::quoted(param)),
            ("decisions", count.to_string()),
            ("p50_ns", p50.to_string()),
            ("p99_ns", p99.to_string()),
            ("max_ns", max.to_string()),
            ("mean_ns", format!("{mean:.1}")),
            (
                "waiting_after",
                fx.engine.state_counts().waiting.to_string(),
            ),
        ],
    );
}

/// The one-off cost of a facet kept only once needed (BENCHMARKS.md, "Why
/// the misses", session 9): with `n` ready operators and only skilled work
/// so far, the first email without skills builds the channel's
/// all-operators facet from every ready operator's keys; `later_skill_less`
/// is the same arrival once the facet is kept. Timed: `apply(ConversationArrived)`
/// + `apply(Assign)`; the engine is cloned untimed for each sample.
fn facet_build(c: &mut Criterion) {
    let mut g = c.benchmark_group("facet_build");
    g.sample_size(10);
    let sizes: &[u64] = if report::quick() {
        &[1_000]
    } else {
        &[1_000, 10_000]
    };
    for &n in sizes {
        let mut rng = Rng::new(SEED ^ n);
        let mut base = Engine::new(policy(Selection::LeastLoaded)).unwrap();
        for id in 1..=n {
            let (spec, _) = operator(&mut rng, id, 5, false);
            base.apply(Event::OperatorAdded {
                at: T0,
                operator: spec,
            })
            .unwrap();
        }
        let skill_less = |e: &mut Engine, id: u64| {
            e.apply(Event::ConversationArrived {
                at: T0,
                conversation: ConversationSpec::new(ConversationId(id), EMAIL, TierId(0)),
            })
            .unwrap();
            let d = e.apply(Event::Assign { at: T0 }).unwrap();
            assert_eq!(d.len(), 1, "a ready operator takes it");
        };
        for (label, warm) in [("first_skill_less", false), ("later_skill_less", true)] {
            g.bench_function(format!("{label}/{n}ops"), |b| {
                b.iter_batched(
                    || {
                        let mut e = base.clone();
                        if warm {
                            skill_less(&mut e, 1);
                        }
                        e
                    },
                    |mut e| {
                        skill_less(&mut e, 2);
                        // Returned, so dropping the engine is not timed.
                        e
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
}
