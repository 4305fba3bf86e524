//! Simulator speed (goal G12): simulated customers per second on M/M/20 at
//! load 0.9 with the real engine in the loop; `scripts/mm20_compare.py`
//! runs ciw, SimPy and a heapq loop of the same model for the ratios.

use criterion::{Criterion, Throughput};
use switchboard::sim::run::run_once;
use switchboard::sim::scenario::Scenario;

pub fn register(c: &mut Criterion) {
    let mut sc: Scenario =
        serde_json::from_str(include_str!("../examples/scenarios/mm20.json")).unwrap();
    sc.hours = 20.0;
    sc.warmup_minutes = 0.0;
    let customers = run_once(&sc, &sc.policies[0], 0, false).unwrap().customers;
    let mut g = c.benchmark_group("sim");
    g.sample_size(10);
    g.throughput(Throughput::Elements(customers));
    g.bench_function(format!("mm20_load0.9/{customers}customers"), |b| {
        b.iter(|| run_once(&sc, &sc.policies[0], 0, false).unwrap().customers)
    });
    g.finish();
}
