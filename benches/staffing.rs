//! Staffing (goal G14): Erlang C "operators needed for a service level" at
//! 10 and 1,000 erlangs, the cases the performance guide times pyworkforce
//! on (10.7 µs and 1,767 µs there). The answers are checked before timing.

use std::hint::black_box;

use criterion::Criterion;
use switchboard::staffing::{ServiceTarget, Workload, operators_needed};

pub fn register(c: &mut Criterion) {
    let target = ServiceTarget::new(20.0, 0.8)
        .and_then(|t| t.with_max_occupancy(0.85))
        .unwrap();
    let cases = [
        (
            "10erlangs",
            Workload::per_interval(100.0, 1800.0, 180.0),
            14,
        ),
        (
            "1000erlangs",
            Workload::per_interval(6000.0, 1800.0, 300.0),
            1177,
        ),
    ];
    let mut g = c.benchmark_group("staffing");
    for (name, w, want) in cases {
        let w = w.unwrap();
        assert_eq!(operators_needed(w, target).unwrap().operators(), want);
        g.bench_function(format!("operators_needed/{name}"), |b| {
            b.iter(|| operators_needed(black_box(w), black_box(target)).unwrap())
        });
    }
    g.finish();
}
