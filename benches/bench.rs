//! Benchmarks. See BENCHMARKS.md for the commands and results.
//!
//! `cargo bench -p switchboard-bench` runs everything (~10 min on 2 cores);
//! `SWITCHBOARD_BENCH_QUICK=1` runs a reduced set (~2 min);
//! `SWITCHBOARD_BENCH_ONLY=floor,memory,assign,throughput,rebalance,kpi,sim,staffing` picks modules.

mod assign;
mod fixtures;
mod floor;
mod kpi;
mod memory;
mod rebalance;
mod report;
mod sim;
mod staffing;
mod throughput;

use criterion::Criterion;

#[global_allocator]
static GLOBAL: memory::Counting = memory::Counting;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    if report::enabled("floor") {
        floor::register(&mut c);
    }
    if report::enabled("memory") {
        memory::register(&mut c);
    }
    if report::enabled("assign") {
        assign::register(&mut c);
    }
    if report::enabled("throughput") {
        throughput::register(&mut c);
    }
    if report::enabled("rebalance") {
        rebalance::register(&mut c);
    }
    if report::enabled("kpi") {
        kpi::register(&mut c);
    }
    if report::enabled("sim") {
        sim::register(&mut c);
    }
    if report::enabled("staffing") {
        staffing::register(&mut c);
    }
    c.final_summary();
}
