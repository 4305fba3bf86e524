//! KPI aggregation (goals G9, G11): records per second through a full
//! accumulator (every breakdown, percentiles included), beside the memory
//! bandwidth floor measured in the same run over the same number of bytes,
//! and accumulator merges (cost per group key).
//!
//! Size: 10,000,000 records in the full run, 200,000 in quick mode;
//! `SWITCHBOARD_BENCH_KPI_RECORDS=n` overrides both. The records alone take
//! `n × 152` bytes (1.5 GB at 10 M) and the floor's array as much again,
//! allocated only while the floor runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use switchboard::kpi::{ConversationRecord, KpiAccumulator, KpiConfig};
use switchboard::{ChannelId, ConversationId, OperatorId, TeamId, TierId, Timestamp};

use crate::fixtures::Rng;
use crate::report;

fn records(n: usize, seed: u64) -> Vec<ConversationRecord> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|i| {
            let asked = 1_700_000_000_000 + i as u64 * 500;
            let mut rec = ConversationRecord::new(
                ConversationId(i as u64),
                ChannelId(r.below(3) as u32),
                TierId(r.below(10) as u32),
                Timestamp(asked),
            );
            rec.team = Some(TeamId(r.below(5) as u32));
            if r.below(10) == 0 {
                rec.abandoned_at = Some(Timestamp(asked + r.below(300_000)));
            } else {
                let a = asked + r.below(120_000);
                let f = a + r.below(60_000);
                rec.operator = Some(OperatorId(r.below(1000)));
                rec.assigned_at = Some(Timestamp(a));
                rec.first_response_at = Some(Timestamp(f));
                rec.resolved_at = Some(Timestamp(f + 60_000 + r.below(900_000)));
            }
            rec
        })
        .collect()
}

/// Median of per-iteration times recorded by `iter_custom` (warm-up included; the
/// medians are what the ratio line compares, criterion's own report is unaffected).
fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

pub fn register(c: &mut Criterion) {
    let n = std::env::var("SWITCHBOARD_BENCH_KPI_RECORDS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n >= 2)
        .unwrap_or(if report::quick() { 200_000 } else { 10_000_000 });
    let size = std::mem::size_of::<ConversationRecord>();
    let mut recs = records(n, 42);
    // Input order, for the measurement of where the pass waits on memory: `operator` puts each
    // operator's records together (its cell stays in cache), `combination` each (tier,
    // channel, team)'s, `both` the two. The state and report are the same in any order.
    match std::env::var("SWITCHBOARD_BENCH_KPI_ORDER").as_deref() {
        Ok("operator") => recs.sort_by_key(|r| r.operator),
        Ok("combination") => recs.sort_by_key(|r| (r.tier, r.channel, r.team)),
        Ok("both") => recs.sort_by_key(|r| (r.operator, r.tier, r.channel, r.team)),
        Ok(other) => {
            panic!("SWITCHBOARD_BENCH_KPI_ORDER={other}: use operator, combination or both")
        }
        Err(_) => {}
    }
    println!("kpi: {n} records of {size} bytes each in memory (ConversationRecord, tags empty)");
    let mut g = c.benchmark_group("kpi");
    // One pass over 10 M records takes seconds: flat sampling, ten samples of one or a few
    // iterations each, so the group ends in minutes.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(report::secs(1.0))
        .measurement_time(report::secs(if report::quick() { 3.0 } else { 8.0 }));
    g.throughput(Throughput::Elements(n as u64));
    let mut agg_times = Vec::new();
    g.bench_function(format!("aggregate/{n}records"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let mut acc = KpiAccumulator::new(KpiConfig::default()).unwrap();
                for r in &recs {
                    acc.push(r).unwrap();
                }
                black_box(acc.report().overall.offered);
            }
            let took = start.elapsed();
            agg_times.push(took / iters as u32);
            took
        })
    });
    // The floor: reading the same number of bytes sequentially.
    let bytes = n * size;
    let mut floor_times = Vec::new();
    {
        let words = vec![1u64; bytes / 8];
        g.throughput(Throughput::Bytes((words.len() * 8) as u64));
        g.bench_function(
            format!("floor_sequential_read/{}bytes", words.len() * 8),
            |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(words.iter().fold(0u64, |a, x| a.wrapping_add(*x)));
                    }
                    let took = start.elapsed();
                    floor_times.push(took / iters as u32);
                    took
                })
            },
        );
    }
    let (agg, floor) = (median(&mut agg_times), median(&mut floor_times));
    if !agg.is_zero() && !floor.is_zero() {
        let gib = (1u64 << 30) as f64;
        let rate = n as f64 / agg.as_secs_f64();
        let agg_bw = bytes as f64 / agg.as_secs_f64() / gib;
        let floor_bw = bytes as f64 / floor.as_secs_f64() / gib;
        // G9: at least a quarter of the floor's records per second.
        let goal = 0.25 * floor_bw * gib / size as f64;
        println!(
            "kpi: aggregate {:.2} M records/s = {agg_bw:.3} GiB/s of {size}-byte records; \
             floor {floor_bw:.2} GiB/s = {:.1} M records/s; ratio {:.2} % of the floor \
             (G9 wants ≥ 25 %: {:.1} M records/s)",
            rate / 1e6,
            floor_bw * gib / size as f64 / 1e6,
            100.0 * agg_bw / floor_bw,
            goal / 1e6,
        );
        report::write(
            "kpi",
            &format!("aggregate_vs_floor_{n}"),
            &[
                ("records", n.to_string()),
                ("record_bytes", size.to_string()),
                ("records_per_s", format!("{rate:.0}")),
                ("aggregate_gib_per_s", format!("{agg_bw:.4}")),
                ("floor_gib_per_s", format!("{floor_bw:.4}")),
                ("ratio", format!("{:.5}", agg_bw / floor_bw)),
            ],
        );
    }
    // Merging two halves: cost per group key (tiers + channels + teams + operators).
    let mut left = KpiAccumulator::new(KpiConfig::default()).unwrap();
    let mut right = KpiAccumulator::new(KpiConfig::default()).unwrap();
    for (i, r) in recs.iter().enumerate() {
        if i % 2 == 0 {
            left.push(r).unwrap()
        } else {
            right.push(r).unwrap()
        }
    }
    drop(recs);
    let keys = {
        let rep = left.report();
        rep.by_tier.len() + rep.by_channel.len() + rep.by_team.len() + rep.by_operator.len() + 1
    };
    println!("kpi: merge covers {keys} group keys");
    g.sampling_mode(SamplingMode::Auto)
        .measurement_time(report::secs(if report::quick() { 2.0 } else { 4.0 }));
    g.throughput(Throughput::Elements(keys as u64));
    g.bench_function(format!("merge/{keys}keys"), |b| {
        // The merged accumulator is returned so its drop is not timed: the merge only.
        b.iter_batched(
            || left.clone(),
            |mut l| {
                l.merge(&right).unwrap();
                l
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}
