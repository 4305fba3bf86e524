//! `switchboard staffing`: operators needed for a service-level target, from
//! `switchboard::staffing` (Erlang C; Erlang A when a mean patience is given), and the table of
//! team sizes around the answer.

use std::fmt::Write as _;

use anyhow::Context;
use switchboard::staffing::{
    ErlangA, ErlangC, MAX_OPERATORS, ServiceTarget, StaffingError, Workload, operators_needed,
    operators_needed_with_patience,
};

use crate::units::{Duration, parse_duration, parse_percent, parse_rate};

/// Arguments of `switchboard staffing`. Durations accept `20s`, `5m`, `1h` or plain seconds.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Contacts arriving per hour.
    #[arg(long, value_name = "PER_HOUR", value_parser = parse_rate)]
    rate: f64,
    /// Mean handle time.
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    handle: Duration,
    /// Share of contacts to answer within `--within`, in percent (80 or 80%).
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    target_sl: f64,
    /// The service-level threshold.
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    within: Duration,
    /// Mean customer patience: use Erlang A (customers abandon) instead of Erlang C.
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    patience: Option<Duration>,
    /// Highest acceptable occupancy, in percent.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    max_occupancy: Option<f64>,
    /// Print the answer and the table as JSON.
    #[arg(long)]
    json: bool,
}

/// Team sizes shown below and above the answer.
const AROUND: u32 = 3;

/// One row of the table: a team size and how it performs.
struct Row {
    operators: u32,
    /// `None` when Erlang C has no steady state (load ≥ operators).
    service_level: Option<f64>,
    /// Erlang C: average speed of answer; Erlang A: mean wait over all arrivals. Seconds.
    wait: Option<f64>,
    probability_of_waiting: Option<f64>,
    /// Erlang A only.
    abandonment: Option<f64>,
    occupancy: Option<f64>,
}

/// Finds the smallest team meeting the target and returns it with the table around it (or the
/// JSON).
pub fn run(args: Args) -> anyhow::Result<String> {
    let workload =
        Workload::per_interval(args.rate, 3600.0, args.handle.secs()).context("--rate/--handle")?;
    let within = args.within.secs();
    let mut target = ServiceTarget::new(within, args.target_sl).context("--target-sl/--within")?;
    if let Some(cap) = args.max_occupancy {
        target = target.with_max_occupancy(cap).context("--max-occupancy")?;
    }
    let (needed, rows) = match args.patience {
        None => {
            let team = operators_needed(workload, target)?;
            let n = team.operators();
            let rows = around(n)
                .map(|k| erlang_c_row(workload, k, within))
                .collect::<Result<Vec<_>, _>>()?;
            (n, rows)
        }
        Some(patience) => {
            let patience = patience.secs();
            // Check the patience once, so a bad one is reported rather than read as "too few".
            ErlangA::new(workload, 1, patience).context("--patience")?;
            let n = erlang_a_needed(workload, target, patience)?;
            let rows = around(n)
                .map(|k| erlang_a_row(workload, k, within, patience))
                .collect::<Result<Vec<_>, _>>()?;
            (n, rows)
        }
    };
    if args.json {
        return Ok(json(&args, workload, needed, &rows));
    }
    Ok(text(&args, workload, needed, &rows))
}

fn around(n: u32) -> impl Iterator<Item = u32> {
    n.saturating_sub(AROUND).max(1)..=n.saturating_add(AROUND).min(MAX_OPERATORS)
}

fn erlang_c_row(w: Workload, n: u32, within: f64) -> Result<Row, StaffingError> {
    match ErlangC::new(w, n) {
        Ok(q) => Ok(Row {
            operators: n,
            service_level: Some(q.service_level(within)?),
            wait: Some(q.average_speed_of_answer()),
            probability_of_waiting: Some(q.probability_of_waiting()),
            abandonment: None,
            occupancy: Some(q.occupancy()),
        }),
        Err(StaffingError::Overloaded { .. }) => Ok(Row {
            operators: n,
            service_level: None,
            wait: None,
            probability_of_waiting: None,
            abandonment: None,
            occupancy: None,
        }),
        Err(e) => Err(e),
    }
}

fn erlang_a_row(w: Workload, n: u32, within: f64, patience: f64) -> anyhow::Result<Row> {
    let q = ErlangA::new(w, n, patience)?;
    Ok(Row {
        operators: n,
        service_level: Some(q.service_level(within)?),
        wait: Some(q.mean_wait()),
        probability_of_waiting: Some(q.probability_of_waiting()),
        abandonment: Some(q.probability_of_abandonment()),
        occupancy: Some(q.occupancy()),
    })
}

/// The smallest team meeting the target under Erlang A: the library's search.
fn erlang_a_needed(w: Workload, target: ServiceTarget, patience: f64) -> anyhow::Result<u32> {
    Ok(operators_needed_with_patience(w, patience, target.into())?.operators())
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{:.1} %", 100.0 * x))
}

fn secs(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{x:.1} s"))
}

fn text(args: &Args, w: Workload, needed: u32, rows: &[Row]) -> String {
    let mut s = String::new();
    let model = match args.patience {
        None => "Erlang C (customers wait as long as it takes)".to_string(),
        Some(p) => format!("Erlang A (mean patience {} s)", p.secs()),
    };
    let _ = writeln!(
        s,
        "{} contacts/h, mean handle {} s: {:.2} erlangs; target {} % within {} s{}; {model}",
        args.rate,
        args.handle.secs(),
        w.offered_load(),
        100.0 * args.target_sl,
        args.within.secs(),
        args.max_occupancy.map_or(String::new(), |c| format!(
            ", occupancy at most {} %",
            100.0 * c
        )),
    );
    let _ = writeln!(s, "operators needed: {needed}\n");
    let wait_head = if args.patience.is_some() {
        "mean wait"
    } else {
        "ASA"
    };
    let _ = write!(
        s,
        "  {:>9} {:>10} {:>10} {:>10} {:>10}",
        "operators", "SL", wait_head, "P(wait)", "occupancy"
    );
    if args.patience.is_some() {
        let _ = write!(s, " {:>10}", "abandoned");
    }
    s.push('\n');
    for r in rows {
        let mark = if r.operators == needed { "→" } else { " " };
        let _ = write!(
            s,
            "{mark} {:>9} {:>10} {:>10} {:>10} {:>10}",
            r.operators,
            pct(r.service_level),
            secs(r.wait),
            pct(r.probability_of_waiting),
            pct(r.occupancy),
        );
        if args.patience.is_some() {
            let _ = write!(s, " {:>10}", pct(r.abandonment));
        }
        if r.service_level.is_none() {
            s.push_str("   overloaded: load ≥ operators, the queue grows without bound");
        }
        s.push('\n');
    }
    if args.patience.is_some() {
        s.push_str("\nSL = answered within the threshold ÷ all arrivals (abandons count as misses); mean wait over all arrivals.\n");
    }
    s
}

fn json(args: &Args, w: Workload, needed: u32, rows: &[Row]) -> String {
    let rows: Vec<_> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "operators": r.operators,
                "service_level": r.service_level,
                "wait_s": r.wait,
                "probability_of_waiting": r.probability_of_waiting,
                "abandonment": r.abandonment,
                "occupancy": r.occupancy,
            })
        })
        .collect();
    let v = serde_json::json!({
        "model": if args.patience.is_some() { "erlang_a" } else { "erlang_c" },
        "rate_per_hour": args.rate,
        "handle_s": args.handle.secs(),
        "offered_load": w.offered_load(),
        "target_service_level": args.target_sl,
        "within_s": args.within.secs(),
        "patience_s": args.patience.map(Duration::secs),
        "max_occupancy": args.max_occupancy,
        "operators_needed": needed,
        "table": rows,
    });
    let mut out = serde_json::to_string_pretty(&v).unwrap_or_default();
    out.push('\n');
    out
}
