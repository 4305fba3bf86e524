//! Physical anchors measured in the same run as the engine (the floors
//! BENCHMARKS.md compares against): a `BinaryHeap` push+pop and a
//! `BTreeSet` remove+insert at 100k entries, a scan of 10k 32-byte operator
//! records, and the cost of the per-decision timer itself.

use std::collections::{BTreeSet, BinaryHeap};
use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};

use crate::fixtures::Rng;
use crate::report;

pub fn register(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor");
    g.sample_size(if report::quick() { 10 } else { 30 })
        .warm_up_time(report::secs(0.3))
        .measurement_time(report::secs(if report::quick() { 0.5 } else { 1.0 }))
        .throughput(Throughput::Elements(1));

    let n = 100_000;
    let mut rng = Rng::new(7);
    let mut heap: BinaryHeap<(u64, u64)> = (0..n).map(|i| (rng.next_u64(), i)).collect();
    g.bench_function(BenchmarkId::new("binary_heap_push_pop", n), |b| {
        b.iter(|| {
            heap.push((rng.next_u64(), 0));
            black_box(heap.pop())
        })
    });

    let mut set: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut keys: Vec<(u64, u64)> = (0..n).map(|i| (rng.next_u64(), i)).collect();
    set.extend(keys.iter().copied());
    let mut i = 0usize;
    g.bench_function(BenchmarkId::new("btree_remove_insert", n), |b| {
        b.iter(|| {
            // Remove a random present key, insert a fresh one in its place.
            let j = rng.below(keys.len() as u64) as usize;
            set.remove(&keys[j]);
            i += 1;
            keys[j] = (rng.next_u64(), i as u64);
            set.insert(black_box(keys[j]))
        })
    });

    // 10k operator-like records of 32 bytes: the naive router's inner loop.
    #[derive(Clone, Copy)]
    struct Rec {
        load: u32,
        cap: u32,
        skills: u64,
        last: u64,
        id: u64,
    }
    let recs: Vec<Rec> = (0..10_000u64)
        .map(|id| Rec {
            load: rng.below(6) as u32,
            cap: 5,
            skills: rng.next_u64(),
            last: rng.next_u64(),
            id,
        })
        .collect();
    g.bench_function(BenchmarkId::new("scan_operator_records", 10_000), |b| {
        b.iter(|| {
            let want = black_box(0x11u64);
            let mut best: Option<(u32, u64, u64)> = None;
            for r in &recs {
                if r.load < r.cap && r.skills & want == want {
                    let k = (r.load, r.last, r.id);
                    if best.is_none_or(|x| k < x) {
                        best = Some(k);
                    }
                }
            }
            best
        })
    });

    g.bench_function("instant_pair", |b| {
        b.iter(|| {
            let t = Instant::now();
            black_box(t.elapsed())
        })
    });
    g.finish();
}
