//! `switchboard simulate`: runs `switchboard::sim::report::simulate` on a scenario and prints
//! each policy's first response, wait, abandonment, service level (per tier, and per queue when
//! the scenario has queues), occupancy and per-operator utilisation with 95 % intervals.

use std::fmt::Write as _;
use std::io::IsTerminal;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use switchboard::sim::report::{Estimate, SimReport, simulate};
use switchboard::sim::scenario::Scenario;

/// The scenario `examples/simulate.rs` runs by default: a CX team of seniors and juniors,
/// manual picking against automatic assignment.
const DEFAULT_SCENARIO: &str = include_str!("../../examples/scenarios/cx-team.json");
const DEFAULT_NAME: &str = "built-in scenario cx-team.json";

/// Arguments of `switchboard simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (JSON, `switchboard::sim::scenario::Scenario`); default: the built-in
    /// CX-team scenario (examples/scenarios/cx-team.json).
    #[arg(value_name = "SCENARIO.json")]
    scenario: Option<String>,
    /// Replications per policy (each draws from its own random stream).
    #[arg(short, long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    replications: u32,
    /// Seed, replacing the scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// Print the per-policy summaries as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// Runs the scenario's policies and returns the tables (or the JSON).
pub fn run(args: Args) -> anyhow::Result<String> {
    let (source, text) = match &args.scenario {
        Some(path) => (path.clone(), crate::read_text(path)?),
        None => (DEFAULT_NAME.to_string(), DEFAULT_SCENARIO.to_string()),
    };
    let mut scenario: Scenario =
        serde_json::from_str(&text).with_context(|| format!("{source}: not a valid scenario"))?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }

    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "  simulating {bar:30} {pos}/{len} runs, {elapsed_precise} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut progress = |done: u32, total: u32| {
        bar.set_length(u64::from(total));
        bar.set_position(u64::from(done));
    };
    let result = simulate(&scenario, args.replications, false, &mut progress);
    bar.finish_and_clear();
    let report = result.with_context(|| format!("{source}: simulation refused"))?;

    if args.json {
        let value = serde_json::json!({
            "scenario": report.scenario,
            "seed": report.seed,
            "replications": report.replications,
            "policies": report.policies,
        });
        let mut out = serde_json::to_string_pretty(&value)?;
        out.push('\n');
        return Ok(out);
    }
    Ok(table(&report, &scenario))
}

fn est(e: &Estimate, unit: &str) -> String {
    match e.n {
        0 => "—".into(),
        // One replication has no interval.
        1 => format!("{:.1}{unit}", e.mean),
        _ => format!("{:.1}{unit} ±{:.1}", e.mean, e.half_width),
    }
}

/// The tables of `examples/simulate.rs`, with an operator table (handled, mean handle time,
/// utilisation) in place of its one-line list.
fn table(r: &SimReport, scenario: &Scenario) -> String {
    let tier_name = |id: u32| {
        scenario
            .policy
            .tiers
            .iter()
            .find(|t| t.id.0 == id)
            .map_or(format!("tier {id}"), |t| t.name.clone())
    };
    let queue_name = |id: Option<switchboard::QueueId>| match id {
        None => "default".to_string(),
        Some(q) => scenario
            .policy
            .queues
            .iter()
            .find(|x| x.id == q)
            .map_or(format!("queue {}", q.0), |x| x.name.clone()),
    };
    let operator_name = |id: switchboard::OperatorId| {
        scenario
            .operators
            .iter()
            .enumerate()
            .find_map(|(g, group)| {
                (0..group.count)
                    .find(|&k| Scenario::operator_id(g, k) == id)
                    .map(|k| format!("{} {}", group.name, k + 1))
            })
            .unwrap_or_else(|| id.to_string())
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} — seed {}, {} replication{} per policy, 95 % intervals\n",
        r.scenario,
        r.seed,
        r.replications,
        if r.replications == 1 { "" } else { "s" }
    );
    for p in &r.policies {
        let _ = writeln!(s, "== {} ==", p.name);
        let _ = writeln!(
            s,
            "  {:<12} {:>9} {:>16} {:>16} {:>14} {:>14} {:>14}",
            "tier", "offered", "FRT mean", "FRT p90", "wait mean", "abandoned", "SL 20 s"
        );
        for h in std::iter::once(&p.overall).chain(p.by_tier.iter()) {
            let name = h.tier.map_or("all".to_string(), |t| tier_name(t.0));
            let _ = writeln!(
                s,
                "  {:<12} {:>9.0} {:>16} {:>16} {:>14} {:>14} {:>14}",
                name,
                h.offered.mean,
                est(&h.first_response_mean_s, " s"),
                est(&h.first_response_p90_s, " s"),
                est(&h.wait_mean_s, " s"),
                est(&h.abandonment_pct, " %"),
                est(&h.service_level_20s_pct, " %"),
            );
        }
        if !p.by_queue.is_empty() {
            let _ = writeln!(
                s,
                "  {:<12} {:>9} {:>16} {:>16} {:>14} {:>14} {:>14}",
                "queue", "offered", "FRT mean", "FRT p90", "ASA", "abandoned", "SL 20 s"
            );
            for q in &p.by_queue {
                let h = &q.headline;
                let _ = writeln!(
                    s,
                    "  {:<12} {:>9.0} {:>16} {:>16} {:>14} {:>14} {:>14}",
                    queue_name(q.queue),
                    h.offered.mean,
                    est(&h.first_response_mean_s, " s"),
                    est(&h.first_response_p90_s, " s"),
                    est(&h.wait_mean_s, " s"),
                    est(&h.abandonment_pct, " %"),
                    est(&h.service_level_20s_pct, " %"),
                );
            }
        }
        let _ = writeln!(
            s,
            "  occupancy (busy ÷ busy + idle, from the engine's activity records): {}",
            est(&p.overall.occupancy_pct, " %")
        );
        let _ = writeln!(
            s,
            "  {:<14} {:>14} {:>16} {:>14}",
            "operator", "handled", "handle mean", "utilisation"
        );
        let mut operators: Vec<_> = p.operators.iter().collect();
        // Most handled first, as the KPI operator table orders them; then by id.
        operators.sort_by(|a, b| {
            b.handled
                .mean
                .total_cmp(&a.handled.mean)
                .then(a.operator.cmp(&b.operator))
        });
        for o in operators {
            let _ = writeln!(
                s,
                "  {:<14} {:>14} {:>16} {:>14}",
                operator_name(o.operator),
                est(&o.handled, ""),
                est(&o.handle_mean_s, " s"),
                est(&o.occupancy_pct, " %"),
            );
        }
        if !p.exposure.is_empty() {
            let groups: Vec<String> = p
                .exposure
                .iter()
                .map(|g| {
                    format!(
                        "{} {:.1} per operator ({:.0} % of theirs), level +{:.2}",
                        g.group, g.hard_per_operator.mean, g.hard_share_pct.mean, g.level_gain.mean
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "  hard work received: {}; Gini {:.2}",
                groups.join("; "),
                p.hard_gini.mean
            );
        }
        if !p.wait_estimate_mae_ms.is_empty() {
            let maes: Vec<String> = p
                .wait_estimate_mae_ms
                .iter()
                .map(|(t, e)| format!("{} {:.0} s", tier_name(t.0), e.mean / 1000.0))
                .collect();
            let _ = writeln!(
                s,
                "  wait estimate, mean absolute error: {}",
                maes.join(", ")
            );
        }
        s.push('\n');
    }
    s
}
