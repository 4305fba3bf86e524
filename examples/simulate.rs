//! Compare routing policies on a virtual contact center.
//!
//! ```text
//! cargo run --release --example simulate                      # the embedded CX-team scenario
//! cargo run --release --example simulate -- examples/scenarios/mm20.json --replications 5
//! cargo run --release --example simulate -- --seed 9 --json > report.json
//! cargo run --release --example simulate -- --csv out/ --plot frt.svg
//! cargo run --release --example simulate -- examples/scenarios/mm20.json --tables out/ \
//!     --stop '{"half_width": {"metric": "wait_all_mean_s", "target": 1.0, "max_replications": 50}}'
//! ```
//!
//! With no scenario file it runs `examples/scenarios/cx-team.json` (embedded):
//! manual picking (oldest first, and cherry-picking) against two automatic
//! policies, and prints first response time per tier, abandonment and handled
//! counts per operator, policy by policy, with 95 % confidence intervals, then
//! the queueing measures: P(wait), mean wait over all arrivals and over the
//! served, service level at every threshold of the scenario's
//! `service_level_secs` (or `--service-levels 10,20,60`), queue length, and
//! occupancy and utilisation per operator group. `--stop JSON` replaces the
//! scenario's run length (`{"hours": 8}`, `{"customers": 100000}` or
//! `{"half_width": {"metric", "target", "max_replications"}}`); `--tables DIR`
//! writes `tiers.csv` (everyone and each tier) and `groups.csv` (each operator
//! group) with the same figures and their half-widths.

use std::io::Write;
use std::time::Instant;

use switchboard::sim::report::{Estimate, PolicySummary, SimReport, StopReason, simulate};
use switchboard::sim::scenario::{Scenario, Stop};

const DEFAULT: &str = include_str!("scenarios/cx-team.json");

struct Args {
    scenario: Option<String>,
    seed: Option<u64>,
    replications: u32,
    json: bool,
    csv: Option<String>,
    plot: Option<String>,
    tables: Option<String>,
    stop: Option<String>,
    service_levels: Option<Vec<f64>>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        scenario: None,
        seed: None,
        replications: 5,
        json: false,
        csv: None,
        plot: None,
        tables: None,
        stop: None,
        service_levels: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seed" => a.seed = Some(it.next().and_then(|v| v.parse().ok()).ok_or("--seed needs a number")?),
            "--replications" | "-r" => {
                a.replications = it.next().and_then(|v| v.parse().ok()).ok_or("--replications needs a number")?
            }
            "--json" => a.json = true,
            "--csv" => a.csv = Some(it.next().ok_or("--csv needs a directory")?),
            "--plot" => a.plot = Some(it.next().ok_or("--plot needs a file name")?),
            "--tables" => a.tables = Some(it.next().ok_or("--tables needs a directory")?),
            "--stop" => a.stop = Some(it.next().ok_or("--stop needs a JSON rule, e.g. '{\"customers\": 100000}'")?),
            "--service-levels" => {
                let list = it.next().ok_or("--service-levels needs seconds, e.g. 10,20,60")?;
                let secs: Result<Vec<f64>, _> = list.split(',').map(|x| x.trim().parse::<f64>()).collect();
                a.service_levels = Some(secs.map_err(|_| format!("--service-levels: `{list}` is not a list of seconds"))?);
            }
            "-h" | "--help" => {
                return Err("usage: simulate [SCENARIO.json] [--seed N] [--replications N] [--json] [--csv DIR] [--plot FILE.svg] [--tables DIR] [--stop JSON] [--service-levels S,S,...]".into())
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s => a.scenario = Some(s.to_string()),
        }
    }
    Ok(a)
}

fn fmt(e: &Estimate, unit: &str) -> String {
    if e.n == 0 {
        return "—".into();
    }
    format!("{:.1}{unit} ±{:.1}", e.mean, e.half_width)
}

/// How the run length was decided, in words.
fn stop_line(r: &SimReport) -> String {
    let rule = match &r.stop.rule {
        None => "the scenario's hours".to_string(),
        Some(Stop::Hours(h)) => format!("{h} hours of arrivals"),
        Some(Stop::Customers(n)) => format!("{n} customers after the warm-up"),
        Some(Stop::HalfWidth(h)) => format!(
            "half-width of {} ≤ {} (at most {} replications)",
            h.metric, h.target, h.max_replications
        ),
    };
    let why = match r.stop.reason {
        StopReason::TargetReached => ": target reached",
        StopReason::MaxReplications => ": target NOT reached, maximum replications ran",
        _ => "",
    };
    let widths: Vec<String> = r
        .stop
        .half_widths
        .iter()
        .map(|(p, e)| format!("{p} {:.3} ±{:.3}", e.mean, e.half_width))
        .collect();
    let widths = if widths.is_empty() {
        String::new()
    } else {
        format!(" ({})", widths.join("; "))
    };
    format!(
        "run length: {rule}; {} replications{why}{widths}",
        r.stop.replications
    )
}

fn print_table(r: &SimReport, tier_names: &dyn Fn(u32) -> String) {
    println!(
        "{} — seed {}, {} replications per policy, 95 % intervals",
        r.scenario, r.seed, r.replications
    );
    println!("{}\n", stop_line(r));
    for p in &r.policies {
        println!("== {} ==", p.name);
        println!(
            "  {:<12} {:>9} {:>16} {:>16} {:>14} {:>14} {:>14}",
            "tier", "offered", "FRT mean", "FRT p90", "wait mean", "abandoned", "SL 20 s"
        );
        for h in std::iter::once(&p.overall).chain(p.by_tier.iter()) {
            let name = h.tier.map_or("all".to_string(), |t| tier_names(t.0));
            println!(
                "  {:<12} {:>9.0} {:>16} {:>16} {:>14} {:>14} {:>14}",
                name,
                h.offered.mean,
                fmt(&h.first_response_mean_s, " s"),
                fmt(&h.first_response_p90_s, " s"),
                fmt(&h.wait_mean_s, " s"),
                fmt(&h.abandonment_pct, " %"),
                fmt(&h.service_level_20s_pct, " %"),
            );
        }
        let handled: Vec<String> = p
            .operators
            .iter()
            .map(|o| {
                format!(
                    "#{} {:.0} ({:.0} % busy)",
                    o.operator.0, o.handled.mean, o.occupancy_pct.mean
                )
            })
            .collect();
        println!(
            "  occupancy (busy ÷ busy + idle, from the engine's activity records): {}",
            fmt(&p.overall.occupancy_pct, " %")
        );
        println!(
            "  handled per operator, and their utilisation (most handled first): {}",
            handled.join(", ")
        );
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
            println!(
                "  hard work received: {}; Gini {:.2}",
                groups.join("; "),
                p.hard_gini.mean
            );
        }
        print_measures(p, tier_names);
        if !p.wait_estimate_mae_ms.is_empty() {
            let maes: Vec<String> = p
                .wait_estimate_mae_ms
                .iter()
                .map(|(t, e)| format!("{} {:.0} s", tier_names(t.0), e.mean / 1000.0))
                .collect();
            println!("  wait estimate, mean absolute error: {}", maes.join(", "));
        }
        println!();
    }
}

/// The queueing measures of one policy: per tier, then per operator group.
fn print_measures(p: &PolicySummary, tier_names: &dyn Fn(u32) -> String) {
    let sls: Vec<String> = p
        .overall
        .service_levels
        .iter()
        .map(|l| format!("SL {} s", l.threshold_s))
        .collect();
    print!(
        "  {:<12} {:>12} {:>14} {:>14}",
        "queueing", "P(wait)", "wait, all", "wait, served"
    );
    for name in &sls {
        print!(" {name:>14}");
    }
    println!();
    for h in std::iter::once(&p.overall).chain(p.by_tier.iter()) {
        let name = h.tier.map_or("all".to_string(), |t| tier_names(t.0));
        print!(
            "  {:<12} {:>12} {:>14} {:>14}",
            name,
            fmt(&h.p_wait_pct, " %"),
            fmt(&h.wait_all_mean_s, " s"),
            fmt(&h.wait_served_mean_s, " s"),
        );
        for l in &h.service_levels {
            print!(" {:>14}", fmt(&l.pct, " %"));
        }
        println!();
    }
    println!(
        "  queue length (number waiting, after the warm-up): mean {}, max {}",
        fmt2(&p.overall.queue_length_mean),
        fmt2(&p.overall.queue_length_max)
    );
    let groups: Vec<String> = p
        .groups
        .iter()
        .map(|g| {
            format!(
                "{} ({}) occupancy {}, utilisation {}",
                g.group,
                g.operators,
                fmt(&g.occupancy_pct, " %"),
                fmt(&g.utilisation_pct, " %")
            )
        })
        .collect();
    println!(
        "  per group (occupancy = busy ÷ logged in, utilisation = busy ÷ scheduled): {}",
        groups.join("; ")
    );
}

fn fmt2(e: &Estimate) -> String {
    if e.n == 0 {
        return "—".into();
    }
    format!("{:.2} ±{:.2}", e.mean, e.half_width)
}

/// `tiers.csv` (everyone, then each tier) and `groups.csv` (each operator group), one row
/// per policy and population, every estimate as mean and 95 % half-width.
fn write_tables(
    dir: &str,
    r: &SimReport,
    tier_names: &dyn Fn(u32) -> String,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let cell = |e: &Estimate| {
        if e.n == 0 {
            ",".to_string()
        } else {
            format!("{},{}", e.mean, e.half_width)
        }
    };
    let thresholds: Vec<f64> = r
        .policies
        .first()
        .map(|p| {
            p.overall
                .service_levels
                .iter()
                .map(|l| l.threshold_s)
                .collect()
        })
        .unwrap_or_default();
    let mut tiers = String::from(
        "policy,tier,replications,offered,offered_hw,p_wait_pct,p_wait_pct_hw,wait_all_mean_s,wait_all_mean_s_hw,wait_served_mean_s,wait_served_mean_s_hw,abandonment_pct,abandonment_pct_hw",
    );
    for t in &thresholds {
        tiers += &format!(",service_level_{t}s_pct,service_level_{t}s_pct_hw");
    }
    tiers += ",queue_length_mean,queue_length_mean_hw,queue_length_max,queue_length_max_hw,occupancy_pct,occupancy_pct_hw\n";
    for p in &r.policies {
        for h in std::iter::once(&p.overall).chain(p.by_tier.iter()) {
            let name = h.tier.map_or("all".to_string(), |t| tier_names(t.0));
            tiers += &format!(
                "{},{},{},{},{},{},{},{}",
                quote(&p.name),
                quote(&name),
                r.replications,
                cell(&h.offered),
                cell(&h.p_wait_pct),
                cell(&h.wait_all_mean_s),
                cell(&h.wait_served_mean_s),
                cell(&h.abandonment_pct),
            );
            for l in &h.service_levels {
                tiers += &format!(",{}", cell(&l.pct));
            }
            tiers += &format!(
                ",{},{},{}\n",
                cell(&h.queue_length_mean),
                cell(&h.queue_length_max),
                cell(&h.occupancy_pct)
            );
        }
    }
    let mut groups = String::from(
        "policy,group,operators,replications,occupancy_pct,occupancy_pct_hw,utilisation_pct,utilisation_pct_hw\n",
    );
    for p in &r.policies {
        for g in &p.groups {
            groups += &format!(
                "{},{},{},{},{},{}\n",
                quote(&p.name),
                quote(&g.group),
                g.operators,
                r.replications,
                cell(&g.occupancy_pct),
                cell(&g.utilisation_pct)
            );
        }
    }
    for (name, text) in [("tiers.csv", tiers), ("groups.csv", groups)] {
        let path = format!("{dir}/{name}");
        std::fs::write(&path, text).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

/// A grouped bar chart of mean first response time by tier and policy, as SVG.
fn plot(r: &SimReport, tier_names: &dyn Fn(u32) -> String) -> String {
    let tiers: Vec<u32> = r
        .policies
        .first()
        .map(|p| {
            p.by_tier
                .iter()
                .filter_map(|h| h.tier.map(|t| t.0))
                .collect()
        })
        .unwrap_or_default();
    let max = r
        .policies
        .iter()
        .flat_map(|p| {
            p.by_tier
                .iter()
                .map(|h| h.first_response_mean_s.mean + h.first_response_mean_s.half_width)
        })
        .fold(1.0_f64, f64::max);
    let (w, h, left, bottom, top) = (760.0, 420.0, 60.0, 60.0, 40.0);
    let group_w = (w - left - 20.0) / tiers.len().max(1) as f64;
    let bar_w = group_w * 0.8 / r.policies.len().max(1) as f64;
    let colors = [
        "#9e9e9e", "#d08c60", "#4e79a7", "#59a14f", "#e15759", "#76b7b2",
    ];
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<text x=\"{left}\" y=\"22\" font-size=\"14\">Mean first response time by tier and policy (s), {} replications, 95 % intervals</text>\n",
        r.replications
    );
    s += &format!(
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n",
        y(0.0),
        w - 20.0,
        y(0.0)
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        s += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.0}</text>\n",
            left - 6.0,
            y(v) + 4.0,
            v
        );
    }
    for (ti, t) in tiers.iter().enumerate() {
        let gx = left + group_w * ti as f64 + group_w * 0.1;
        for (pi, p) in r.policies.iter().enumerate() {
            let Some(hd) = p.by_tier.iter().find(|h| h.tier.map(|x| x.0) == Some(*t)) else {
                continue;
            };
            let e = hd.first_response_mean_s;
            let x = gx + bar_w * pi as f64;
            s += &format!(
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>\n",
                y(e.mean),
                bar_w * 0.9,
                y(0.0) - y(e.mean),
                colors[pi % colors.len()]
            );
            let cx = x + bar_w * 0.45;
            s += &format!(
                "<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\n",
                y(e.mean + e.half_width),
                y((e.mean - e.half_width).max(0.0))
            );
        }
        s += &format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            gx + group_w * 0.4,
            y(0.0) + 16.0,
            tier_names(*t)
        );
    }
    for (pi, p) in r.policies.iter().enumerate() {
        let x = left + 180.0 * (pi % 4) as f64;
        let yy = h - 18.0 + 0.0 * (pi / 4) as f64;
        s += &format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
            yy - 9.0,
            colors[pi % colors.len()],
            x + 14.0,
            yy,
            p.name
        );
    }
    s + "</svg>\n"
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let text = match &args.scenario {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                std::process::exit(2);
            }
        },
        None => DEFAULT.to_string(),
    };
    let mut scenario: Scenario = match serde_json::from_str(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("scenario is not valid JSON for the scenario format: {e}");
            std::process::exit(2);
        }
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(rule) = &args.stop {
        match serde_json::from_str::<Stop>(rule) {
            Ok(s) => scenario.stop = Some(s),
            Err(e) => {
                eprintln!("--stop: {e}");
                std::process::exit(2);
            }
        }
    }
    if let Some(secs) = args.service_levels.clone() {
        scenario.service_level_secs = secs;
    }
    let tiers = scenario.policy.tiers.clone();
    let tier_names = move |id: u32| {
        tiers
            .iter()
            .find(|t| t.id.0 == id)
            .map_or(format!("tier {id}"), |t| t.name.clone())
    };
    let started = Instant::now();
    let mut progress = |done: u32, total: u32| {
        eprint!(
            "\r  simulating: {done}/{total} runs, {:.1} s",
            started.elapsed().as_secs_f64()
        );
    };
    let report = match simulate(
        &scenario,
        args.replications,
        args.csv.is_some(),
        &mut progress,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("simulation refused: {e}");
            std::process::exit(1);
        }
    };
    eprintln!();
    let customers: u64 = report.runs.iter().map(|r| r.customers).sum();
    eprintln!(
        "  {customers} simulated customers in {:.2} s ({:.0} customers/s)",
        started.elapsed().as_secs_f64(),
        customers as f64 / started.elapsed().as_secs_f64()
    );
    if let Some(dir) = &args.csv {
        if let Err(e) = write_csv(dir, &report) {
            eprintln!("cannot write CSV: {e}");
            std::process::exit(1);
        }
    }
    if let Some(dir) = &args.tables {
        if let Err(e) = write_tables(dir, &report, &tier_names) {
            eprintln!("cannot write tables: {e}");
            std::process::exit(1);
        }
    }
    if let Some(file) = &args.plot {
        if let Err(e) = std::fs::write(file, plot(&report, &tier_names)) {
            eprintln!("cannot write {file}: {e}");
            std::process::exit(1);
        }
    }
    if args.json {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, &report.policies);
        let _ = writeln!(out);
        eprintln!("  {}", stop_line(&report));
    } else {
        print_table(&report, &tier_names);
    }
}

fn write_csv(dir: &str, report: &SimReport) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for run in &report.runs {
        let slug: String = run
            .policy
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = format!("{dir}/{slug}_r{}.csv", run.replication);
        let file = std::fs::File::create(&path).map_err(|e| format!("{path}: {e}"))?;
        // With a queue column when the scenario routes through queues.
        let out =
            switchboard::kpi::csv::write_records_csv(std::io::BufWriter::new(file), &run.records)
                .map_err(|e| e.to_string())?;
        drop(out);
    }
    Ok(())
}
