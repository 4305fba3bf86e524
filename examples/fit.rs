//! Fit a scenario on one month of the Anonymous Bank call records and validate the simulator
//! against that month: simulated against real service level, abandonment and waits.
//!
//! ```text
//! cargo run --release --example fit -- [--month PATH|january|february|october]
//!     [--replications N] [--interval MIN] [--seed N] [--queue-order fifo|strict_priority]
//!     [--scenario-out FILE.json] [--csv DIR] [--plot FILE.svg]
//! ```
//!
//! Defaults: January, 10 replications (about 2 s in release), 60-minute intervals, seed
//! 1999, FIFO, short intervals keeping their own count (`--fallback own`; `pooled` gives a
//! closed Friday afternoon the all-days rate). The records are read from `../shared/data/anonymous-bank-1999/` next to the repository
//! (January 1999 by default) or from the path given. The fit summary and the validation
//! table go to stdout, progress to stderr. `--scenario-out` writes the fitted scenario (one
//! daily profile, all days pooled) as editable JSON; `--csv DIR` writes `DIR/validation.csv`
//! and `DIR/validation_hours.csv`; `--plot` the mean wait per hour as SVG.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use switchboard::kpi::bank::{BankOptions, CALL_TYPES, OTHER_CALL_TYPE, read_file};
use switchboard::kpi::{Ingest, IngestOptions, KpiConfig, Weekday};
use switchboard::record::ConversationRecord;
use switchboard::sim::fit::{FitOptions, Fitted, ProfileDay, RateFallback};
use switchboard::sim::scenario::Scenario;
use switchboard::sim::trace::{Roster, Shift, Trace, TraceOptions};
use switchboard::sim::validate::{Stage, ValidateOptions, synthetic_span, validate_with_progress};
use switchboard::{OperatorId, Timestamp};

struct Args {
    month: Option<String>,
    replications: u32,
    interval: u32,
    seed: u64,
    queue_order: String,
    fallback: RateFallback,
    scenario_out: Option<String>,
    csv: Option<String>,
    plot: Option<String>,
    split_gap: Option<u64>,
}

const USAGE: &str = "usage: fit [--month PATH|january|february|october] [--replications N] [--interval MIN] [--seed N] [--queue-order fifo|strict_priority] [--fallback own|pooled] [--scenario-out FILE.json] [--csv DIR] [--plot FILE.svg] [--split-gap MIN]";

fn parse() -> Result<Args, String> {
    let mut a = Args {
        month: None,
        replications: 10,
        interval: 60,
        seed: 1999,
        queue_order: "fifo".into(),
        fallback: RateFallback::OwnBelowMinimum,
        scenario_out: None,
        csv: None,
        plot: None,
        split_gap: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        let number = |name: &str, v: String| {
            v.parse::<u64>()
                .map_err(|e| format!("{name} {v}: {e}\n{USAGE}"))
        };
        match arg.as_str() {
            "--month" => a.month = Some(value("--month")?),
            "--replications" => {
                let v = value("--replications")?;
                a.replications = u32::try_from(number("--replications", v)?)
                    .map_err(|e| format!("--replications: {e}"))?;
            }
            "--interval" => {
                let v = value("--interval")?;
                a.interval = u32::try_from(number("--interval", v)?)
                    .map_err(|e| format!("--interval: {e}"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                a.seed = number("--seed", v)?;
            }
            "--queue-order" => {
                let v = value("--queue-order")?;
                if v != "fifo" && v != "strict_priority" {
                    return Err(format!(
                        "--queue-order {v}: fifo or strict_priority\n{USAGE}"
                    ));
                }
                a.queue_order = v;
            }
            "--fallback" => {
                a.fallback = match value("--fallback")?.as_str() {
                    "own" => RateFallback::OwnBelowMinimum,
                    "pooled" => RateFallback::PooledOverWeekdays,
                    v => return Err(format!("--fallback {v}: own or pooled\n{USAGE}")),
                }
            }
            "--scenario-out" => a.scenario_out = Some(value("--scenario-out")?),
            "--csv" => a.csv = Some(value("--csv")?),
            "--plot" => a.plot = Some(value("--plot")?),
            "--split-gap" => {
                let v = value("--split-gap")?;
                a.split_gap = Some(number("--split-gap", v)?);
            }
            _ => return Err(USAGE.into()),
        }
    }
    Ok(a)
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/anonymous-bank-1999")
}

/// A path, or a month name of the shared data directory.
fn month_path(month: Option<&str>) -> Result<PathBuf, String> {
    let name = month.unwrap_or("january");
    let path = Path::new(name);
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    let dir = data_dir();
    if !dir.is_dir() {
        return Err(format!(
            "the bank records are not at {} (give --month PATH to a month's file)",
            dir.display()
        ));
    }
    let lower = name.to_lowercase();
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "txt")
                && p.file_name()
                    .is_some_and(|f| f.to_string_lossy().to_lowercase().contains(&lower))
        })
        .collect();
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!(
            "no month file matching `{name}` in {} (and no such file)",
            dir.display()
        )),
        many => Err(format!(
            "`{name}` matches {} files in {}: be more specific",
            many.len(),
            dir.display()
        )),
    }
}

/// The bank's call types as channels (a call blocks every other: one call at a time per
/// agent) and its priorities as tiers (0 and 1 regular, 2 priority).
fn base_scenario(seed: u64, queue_order: &str) -> Scenario {
    let mut ids: Vec<u32> = (0..CALL_TYPES.len() as u32).collect();
    ids.push(OTHER_CALL_TYPE.0);
    let names: Vec<&str> = CALL_TYPES.iter().copied().chain(["other"]).collect();
    let all = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let channels = ids
        .iter()
        .zip(&names)
        .map(|(id, name)| format!(r#"{{ "id": {id}, "name": "{name}", "blocks": [{all}] }}"#))
        .collect::<Vec<_>>()
        .join(",");
    let json = format!(
        r#"{{
        "name": "anonymous bank", "seed": {seed}, "hours": 24, "warmup_minutes": 0,
        "policy": {{ "channels": [{channels}],
                    "tiers": [{{ "id": 0, "name": "regular 0", "priority": 2, "first_response_target": 60000 }},
                              {{ "id": 1, "name": "regular", "priority": 2, "first_response_target": 60000 }},
                              {{ "id": 2, "name": "priority", "priority": 1, "first_response_target": 60000 }}],
                    "queue_order": "{queue_order}" }},
        "arrivals": [{{ "from_hour": 0, "per_hour": 60 }}],
        "tiers": [{{ "value": 1, "p": 1.0 }}], "channels": [{{ "value": 0, "p": 1.0 }}],
        "handle_time": {{ "exponential": {{ "mean_secs": 200 }} }},
        "first_response_delay": {{ "fixed": {{ "secs": 0 }} }},
        "operators": [],
        "policies": [{{ "name": "{queue_order}", "routing": {{ "auto": {{}} }} }}]
    }}"#
    );
    serde_json::from_str(&json).expect("the base scenario parses")
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let path = month_path(args.month.as_deref())?;
    let started = Instant::now();
    let mut ing = Ingest::new(
        KpiConfig::default(),
        IngestOptions {
            skip_bad_rows: false,
            detect_duplicates: true,
            strict_order: false,
        },
    )
    .map_err(|e| e.to_string())?;
    let bank = read_file(&path, BankOptions::default(), &mut ing).map_err(|e| e.to_string())?;
    eprintln!(
        "read {} records from {} in {:.1} s",
        bank.records.len(),
        path.display(),
        started.elapsed().as_secs_f64()
    );

    let base = base_scenario(args.seed, &args.queue_order);
    let opts = ValidateOptions {
        fit: FitOptions {
            interval_minutes: args.interval,
            rate_fallback: args.fallback,
            ..FitOptions::default()
        },
        replications: args.replications,
        seed: None,
        ..ValidateOptions::default()
    };
    // The roster both simulations use: inferred from the records (first
    // assignment to last resolution per operator and day), or with each
    // shift split where the operator was idle longer than `--split-gap`.
    let trace =
        Trace::from_records(&bank.records, TraceOptions::default()).map_err(|e| e.to_string())?;
    let inferred = trace.infer_roster().map_err(|e| e.to_string())?;
    let roster = match args.split_gap {
        Some(min) => split_at_idle_gaps(&bank.records, &inferred, min * 60_000),
        None => inferred,
    };
    let opts = ValidateOptions {
        roster: Some(roster.clone()),
        ..opts
    };
    let n = args.replications;
    let v = validate_with_progress(&bank.records, &base, &opts, &mut |stage, rep| {
        let what = match stage {
            Stage::Fitted => "fitted-model",
            Stage::Trace => "trace-driven",
        };
        eprintln!(
            "{what} replication {}/{n} done ({:.1} s)",
            rep + 1,
            started.elapsed().as_secs_f64()
        );
    })
    .map_err(|e| e.to_string())?;

    print_fit(&v.fit);
    print_supply(&bank.records, &roster, &v.fit, args.seed)?;
    if let Some(out) = &args.scenario_out {
        // The editable scenario: all days pooled into one daily profile.
        let pooled = switchboard::sim::fit::FitReport {
            options: FitOptions {
                profile_day: ProfileDay::AllDays,
                ..v.fit.options
            },
            ..v.fit.clone()
        };
        let sc = pooled.to_scenario(&base).map_err(|e| e.to_string())?;
        let json = serde_json::to_string_pretty(&sc).map_err(|e| e.to_string())?;
        std::fs::write(out, json + "\n").map_err(|e| format!("cannot write {out}: {e}"))?;
        println!("fitted scenario written to {out}");
    }
    println!();
    println!(
        "Validation ({}, queue order {}):",
        path.display(),
        args.queue_order
    );
    print!("{v}");
    if let Some(dir) = &args.csv {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
        for (name, text) in [
            ("validation.csv", v.to_csv()),
            ("validation_hours.csv", v.hours_to_csv()),
        ] {
            let p = Path::new(dir).join(name);
            std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        }
        println!("tables written to {dir}/validation.csv and {dir}/validation_hours.csv");
    }
    if let Some(p) = &args.plot {
        std::fs::write(p, v.svg_per_hour()).map_err(|e| format!("cannot write {p}: {e}"))?;
        println!("plot written to {p}");
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Logged-in against busy hours of the roster, and the arrivals (real, and
/// of the first fitted-model replication) that find nobody on shift.
fn print_supply(
    records: &[ConversationRecord],
    roster: &Roster,
    fit: &switchboard::sim::fit::FitReport,
    seed: u64,
) -> Result<(), String> {
    let logged_in: f64 = roster
        .operators
        .iter()
        .flat_map(|o| &o.shifts)
        .map(|s| (s.end.0 - s.start.0) as f64 / 3.6e6)
        .sum();
    let busy: f64 = records
        .iter()
        .filter_map(|r| Some(r.resolved_at?.0.saturating_sub(r.assigned_at?.0) as f64 / 3.6e6))
        .sum();
    let synthetic = synthetic_span(fit, seed, 0).map_err(|e| e.to_string())?;
    println!(
        "\nroster: {logged_in:.0} logged-in hours, {busy:.0} busy hours (occupancy {:.0} %); \
         arrivals with nobody on shift: {} of {} real, {} of {} in fitted-model replication 1",
        100.0 * busy / logged_in,
        uncovered(records, roster),
        records.len(),
        uncovered(&synthetic, roster),
        synthetic.len()
    );
    Ok(())
}

/// Arrivals asked while no roster shift is open.
fn uncovered(records: &[ConversationRecord], roster: &Roster) -> usize {
    let spans: Vec<(u64, u64)> = roster
        .operators
        .iter()
        .flat_map(|o| o.shifts.iter().map(|s| (s.start.0, s.end.0)))
        .collect();
    records
        .iter()
        .filter(|r| {
            !spans
                .iter()
                .any(|&(a, b)| a <= r.asked_at.0 && r.asked_at.0 < b)
        })
        .count()
}

/// The inferred roster with each operator's shifts cut where they were idle
/// (between one call's end and the next call's assignment) longer than `gap_ms`.
fn split_at_idle_gaps(records: &[ConversationRecord], inferred: &Roster, gap_ms: u64) -> Roster {
    let mut calls: BTreeMap<OperatorId, Vec<(u64, u64)>> = BTreeMap::new();
    for r in records {
        if let (Some(op), Some(a)) = (r.operator, r.assigned_at) {
            let z = r.resolved_at.map_or(a.0, |t| t.0).max(a.0 + 1000);
            calls.entry(op).or_default().push((a.0, z));
        }
    }
    let mut out = inferred.clone();
    for o in &mut out.operators {
        let mut c = calls.remove(&o.operator).unwrap_or_default();
        c.sort_unstable();
        let mut shifts: Vec<Shift> = Vec::new();
        for (a, z) in c {
            match shifts.last_mut() {
                Some(s) if a <= s.end.0 + gap_ms => s.end = Timestamp(s.end.0.max(z)),
                _ => shifts.push(Shift {
                    start: Timestamp(a),
                    end: Timestamp(z),
                }),
            }
        }
        o.shifts = shifts;
    }
    out
}

fn print_fit(fit: &switchboard::sim::fit::FitReport) {
    let a = &fit.arrivals;
    println!(
        "Fit: {} records over {} days, intervals of {} min",
        fit.records, a.days, a.interval_minutes
    );
    println!("Arrival rates per hour (source):");
    let minutes = [8 * 60, 10 * 60, 14 * 60, 20 * 60];
    let head: Vec<String> = minutes
        .iter()
        .map(|m| format!(" {:>25}", format!("{:02}:{:02}", m / 60, m % 60)))
        .collect();
    println!("  {:<10}{}", "", head.join(""));
    let days = [
        ProfileDay::AllDays,
        ProfileDay::Weekday(Weekday::Sunday),
        ProfileDay::Weekday(Weekday::Monday),
        ProfileDay::Weekday(Weekday::Friday),
        ProfileDay::Weekday(Weekday::Saturday),
    ];
    for d in days {
        let label = match d {
            ProfileDay::AllDays => "all days".to_string(),
            ProfileDay::Weekday(w) => format!("{w:?}"),
        };
        let cells: Vec<String> = minutes
            .iter()
            .map(|m| {
                let r = a.profile(d).iter().find(|r| r.start_minute == *m);
                let c = r.map_or("—".into(), |r| {
                    format!(
                        "{} ({})",
                        r.per_hour.map_or("—".into(), |v| format!("{v:.1}")),
                        r.source.as_str()
                    )
                });
                format!(" {c:>25}")
            })
            .collect();
        println!("  {label:<10}{}", cells.join(""));
    }
    match &fit.handle_time {
        Fitted::Fit(h) => println!(
            "Handle time: n {}, sample mean {:.1} s; exponential KS {:.4} AIC {:.0}; log-normal \
             (mean {:.1} s, cv {:.2}) KS {:.4} AIC {:.0}; chosen {:?}",
            h.n,
            h.sample_mean_secs,
            h.exponential.ks,
            h.exponential.aic,
            h.log_normal.mean_secs,
            h.log_normal.cv,
            h.log_normal.ks,
            h.log_normal.aic,
            h.chosen
        ),
        Fitted::TooFew { n, needed } => println!("Handle time: too few ({n} < {needed})"),
    }
    let secs = |v: Option<f64>| v.map_or("—".into(), |x| format!("{x:.1} s"));
    match &fit.patience {
        Fitted::Fit(p) => println!(
            "Patience: {} waits, {} left, {} censored; Kaplan–Meier median {}, 1/θ {} \
             (censored exponential MLE, used), naive mean of leavers' waits {}",
            p.waits,
            p.left,
            p.censored,
            secs(p.median_secs),
            secs(p.exponential_mean_secs),
            secs(p.naive_mean_secs)
        ),
        Fitted::TooFew { n, needed } => println!("Patience: too few ({n} < {needed})"),
    }
}
