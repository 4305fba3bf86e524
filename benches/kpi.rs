//! KPI aggregation (goals G9, G11): records per second through a full
//! accumulator (every breakdown, percentiles included), beside the memory
//! bandwidth floor measured in the same run, and accumulator merges.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use switchboard::kpi::{ConversationRecord, KpiAccumulator, KpiConfig};
use switchboard::{ChannelId, ConversationId, OperatorId, TeamId, TierId, Timestamp};

use crate::fixtures::Rng;

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

pub fn register(c: &mut Criterion) {
    let quick = std::env::var("SWITCHBOARD_BENCH_QUICK").is_ok_and(|v| !v.is_empty());
    let n = if quick { 200_000 } else { 1_000_000 };
    let recs = records(n, 42);
    println!(
        "kpi: {} records of {} bytes each in memory (ConversationRecord, tags empty)",
        n,
        std::mem::size_of::<ConversationRecord>()
    );
    let mut g = c.benchmark_group("kpi");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("aggregate/{n}records"), |b| {
        b.iter(|| {
            let mut acc = KpiAccumulator::new(KpiConfig::default()).unwrap();
            for r in &recs {
                acc.push(r).unwrap();
            }
            black_box(acc.report().overall.offered)
        })
    });
    // The floor: reading the same number of bytes sequentially.
    let words = vec![1u64; n * std::mem::size_of::<ConversationRecord>() / 8];
    g.throughput(Throughput::Bytes((words.len() * 8) as u64));
    g.bench_function(
        format!("floor_sequential_read/{}bytes", words.len() * 8),
        |b| b.iter(|| black_box(words.iter().fold(0u64, |a, x| a.wrapping_add(*x)))),
    );
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
    let keys = {
        let rep = left.report();
        rep.by_tier.len() + rep.by_channel.len() + rep.by_team.len() + rep.by_operator.len() + 1
    };
    println!("kpi: merge covers {keys} group keys");
    g.throughput(Throughput::Elements(keys as u64));
    g.bench_function(format!("merge/{keys}keys"), |b| {
        b.iter_batched(
            || left.clone(),
            |mut l| {
                l.merge(&right).unwrap();
                black_box(l.records())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}
