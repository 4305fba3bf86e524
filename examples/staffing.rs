//! A day's staffing table from half-hourly forecasts, then a timing of the
//! "operators needed" search at 10 and 1,000 erlangs, then a day plan
//! (`plan_day`, Erlang C and Erlang A side by side) from the hourly arrival
//! profile of the simulator scenario `examples/scenarios/evening-drop.json`,
//! each interval's teams then simulated with the real engine
//! (`sim::plan_check`) beside the formulas' predictions.
//!
//! Run: `cargo run --release --example staffing`

use std::hint::black_box;
use std::time::Instant;

use switchboard::staffing::{ErlangA, ServiceTarget, Workload, operators_needed};
#[cfg(feature = "serde")]
use switchboard::staffing::{Interval, Patience, PatienceTarget, plan_day};

/// Contacts per half hour from 08:00 to 20:00: a morning peak, a lunch dip
/// and an afternoon peak (a made-up but typical inbound profile).
const FORECAST: [f64; 24] = [
    40.0, 70.0, 110.0, 150.0, 170.0, 180.0, 175.0, 160.0, 130.0, 120.0, 135.0, 155.0, 165.0, 170.0,
    160.0, 150.0, 130.0, 110.0, 90.0, 75.0, 60.0, 50.0, 40.0, 30.0,
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    #[cfg(feature = "serde")]
    scenario_day_plan()?;
    Ok(())
}

/// Staffs the phone line of `evening-drop.json` hour by hour over its
/// simulated span, from the scenario's own numbers: its arrival profile, its
/// mean handle time plus wrap-up (what keeps an operator from the next call)
/// and its mean patience. Erlang C and A assume exponential handle times;
/// the scenario's log-normal with cv 1 has the same mean and variance.
#[cfg(feature = "serde")]
fn scenario_day_plan() -> Result<(), Box<dyn std::error::Error>> {
    use switchboard::sim::scenario::Scenario;
    let sc: Scenario = serde_json::from_str(include_str!("scenarios/evening-drop.json"))?;
    let start = (sc.start_hour * 60.0).round() as u32;
    let end = start + (sc.hours * 60.0).round() as u32;
    let pieces = sc.arrivals.iter().map(|p| (p.from_hour, p.per_hour));
    let day = Interval::from_rate_profile(pieces, start, end, 60)?;
    let handle = sc.handle_time.mean_secs() + sc.policy.wrap_up.as_millis() as f64 / 1000.0;
    let target = ServiceTarget::new(20.0, 0.8)?.with_max_occupancy(0.85)?;
    let patience = match &sc.patience {
        Some(p) => Some(Patience {
            mean: p.mean_secs(),
            target: PatienceTarget::from(target).with_max_abandonment(0.05)?,
        }),
        None => None,
    };
    println!(
        "\n{}: hourly plan, abandonment <= 5 % under Erlang A",
        sc.name
    );
    let plan = plan_day(&day, handle, target, patience)?;
    print!("{plan}");
    // Each interval's planned teams simulated with the real engine (M/M/n and
    // M/M/n+M at the interval's rate, 8 h of steady state, 5 replications).
    let check = switchboard::sim::plan_check::check_plan(&plan, &Default::default())?;
    println!(
        "\nthe same plan simulated with the engine (SL within {} s, ± 95 % half-width):",
        check.threshold_secs
    );
    print!("{check}");
    Ok(())
}
