//! A day's staffing table from half-hourly forecasts, then a timing of the
//! "operators needed" search at 10 and 1,000 erlangs.
//!
//! Run: `cargo run --release --example staffing`

use std::hint::black_box;
use std::time::Instant;

use switchboard::staffing::{ErlangA, ServiceTarget, StaffingError, Workload, operators_needed};

/// Contacts per half hour from 08:00 to 20:00: a morning peak, a lunch dip
/// and an afternoon peak (a made-up but typical inbound profile).
const FORECAST: [f64; 24] = [
    40.0, 70.0, 110.0, 150.0, 170.0, 180.0, 175.0, 160.0, 130.0, 120.0, 135.0, 155.0, 165.0, 170.0,
    160.0, 150.0, 130.0, 110.0, 90.0, 75.0, 60.0, 50.0, 40.0, 30.0,
];

fn main() -> Result<(), StaffingError> {
    let aht = 240.0; // seconds
    let patience = 180.0; // seconds, for the Erlang A column
    let target = ServiceTarget::new(20.0, 0.8)?.with_max_occupancy(0.85)?;
    println!(
        "80 % within 20 s, occupancy <= 85 %, AHT {aht} s (Erlang C); Erlang A with mean patience {patience} s"
    );
    println!(
        "{:>5} {:>8} {:>7} {:>4} {:>7} {:>7} {:>6} {:>7} {:>7}",
        "start", "contacts", "erlangs", "n", "SL", "ASA s", "occ", "A: SL", "A: aband"
    );
    let mut operator_hours = 0.0;
    for (i, &contacts) in FORECAST.iter().enumerate() {
        let w = Workload::per_interval(contacts, 1800.0, aht)?;
        let team = operators_needed(w, target)?;
        let with_abandons = ErlangA::new(w, team.operators(), patience)?;
        operator_hours += f64::from(team.operators()) * 0.5;
        println!(
            "{:02}:{:02} {:>8} {:>7.2} {:>4} {:>6.1}% {:>7.1} {:>5.1}% {:>6.1}% {:>7.2}%",
            8 + i / 2,
            (i % 2) * 30,
            contacts,
            w.offered_load(),
            team.operators(),
            100.0 * team.service_level(20.0)?,
            team.average_speed_of_answer(),
            100.0 * team.occupancy(),
            100.0 * with_abandons.service_level(20.0)?,
            100.0 * with_abandons.probability_of_abandonment(),
        );
    }
    println!("total: {operator_hours} operator-hours (raw, before shrinkage)\n");

    // Timing: the pyworkforce cases of the performance guide §5.
    let cases = [
        (
            "10 erlangs",
            Workload::per_interval(100.0, 1800.0, 180.0)?,
            14,
            2_000_000u32,
        ),
        (
            "1,000 erlangs",
            Workload::per_interval(6000.0, 1800.0, 300.0)?,
            1177,
            50_000,
        ),
    ];
    for (name, w, want, iters) in cases {
        let team = operators_needed(w, target)?;
        assert_eq!(team.operators(), want);
        // Warm up, then take the best of 5 runs.
        let mut best = f64::INFINITY;
        for _ in 0..6 {
            let start = Instant::now();
            let mut sum = 0u64;
            for _ in 0..iters {
                sum += u64::from(operators_needed(black_box(w), black_box(target))?.operators());
            }
            black_box(sum);
            best = best.min(start.elapsed().as_secs_f64() / f64::from(iters));
        }
        println!(
            "operators_needed, {name}: {want} operators, {:.3} µs per call",
            best * 1e6
        );
        let uncapped = ServiceTarget::new(20.0, 0.8)?;
        let mut best = f64::INFINITY;
        for _ in 0..6 {
            let start = Instant::now();
            let mut sum = 0u64;
            for _ in 0..iters {
                sum += u64::from(operators_needed(black_box(w), black_box(uncapped))?.operators());
            }
            black_box(sum);
            best = best.min(start.elapsed().as_secs_f64() / f64::from(iters));
        }
        println!(
            "operators_needed, {name}, no occupancy cap: {} operators, {:.3} µs per call",
            operators_needed(w, uncapped)?.operators(),
            best * 1e6
        );
    }
    Ok(())
}
