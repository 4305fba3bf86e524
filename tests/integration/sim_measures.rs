//! The simulator's queueing measures (P(wait), mean waits, service levels at the scenario's
//! thresholds, queue length, occupancy and utilisation per operator group) against Erlang C
//! and Erlang A, and the run-length options: a span of hours, a customer count, or
//! replications until a metric's half-width reaches a target.

use switchboard::sim::report::{Estimate, SimReport, StopReason, simulate};
use switchboard::sim::run::run_once;
use switchboard::sim::scenario::{HalfWidthStop, Scenario, ScenarioError, Stop};
use switchboard::staffing::{ErlangA, ErlangC, Workload};

/// M/M/n (+M with `patience_secs`): one channel, one tier, FIFO, capacity 1, exponential
/// handle times of mean 60 s, no reply delay, 30 minutes of warm-up.
fn mmn(n: u32, load: f64, patience_secs: Option<f64>, hours: f64) -> Scenario {
    let per_hour = load * 60.0;
    let patience = patience_secs.map_or(String::new(), |p| {
        format!(r#""patience": {{ "exponential": {{ "mean_secs": {p} }} }},"#)
    });
    let json = format!(
        r#"{{
        "name": "M/M/{n}", "seed": 11, "hours": {hours}, "warmup_minutes": 30,
        "policy": {{ "channels": [{{ "id": 1, "name": "call" }}],
                    "tiers": [{{ "id": 1, "name": "all", "priority": 1, "first_response_target": 20000 }}],
                    "queue_order": "fifo" }},
        "arrivals": [{{ "from_hour": 0, "per_hour": {per_hour} }}],
        "tiers": [{{ "value": 1, "p": 1.0 }}], "channels": [{{ "value": 1, "p": 1.0 }}],
        "handle_time": {{ "exponential": {{ "mean_secs": 60 }} }},
        "first_response_delay": {{ "fixed": {{ "secs": 0 }} }},
        {patience}
        "operators": [{{ "name": "agent", "count": {n}, "capacity": [{{ "channel": 1, "capacity": 1 }}] }}],
        "policies": [{{ "name": "fifo", "routing": {{ "auto": {{}} }} }}]
    }}"#
    );
    serde_json::from_str(&json).expect("scenario parses")
}

/// Checks each (name, simulated, theory) lies within the simulated 99 % interval
/// (the 95 % half-width × 2.58/1.96, as `tests/integration/sim.rs`); a failure names every
/// value outside.
fn within_99(label: &str, checks: &[(&str, Estimate, f64)]) {
    let mut outside = Vec::new();
    for (name, e, theory) in checks {
        assert!(e.n >= 2, "{label}: {name} has {} replications", e.n);
        let tolerance = e.half_width * 2.58 / 1.96 + 1e-9;
        let line = format!(
            "{label}: {name} simulated {:.4} ± {:.4} (99 %), theory {:.4}",
            e.mean, tolerance, theory
        );
        eprintln!("{line}");
        if (e.mean - theory).abs() > tolerance {
            outside.push(line);
        }
    }
    assert!(outside.is_empty(), "{}", outside.join("; "));
}

fn sl(h: &switchboard::sim::report::Headline, secs: f64) -> Estimate {
    h.service_levels
        .iter()
        .find(|l| l.threshold_s == secs)
        .unwrap_or_else(|| panic!("no service level at {secs} s"))
        .pct
}

/// Simulated P(wait), mean wait over all arrivals and over the served, service level at
/// 20 s and 60 s, mean queue length (Lq) and occupancy against Erlang C, M/M/5 at 4
/// erlangs and M/M/20 at 18, 8 replications each.
#[test]
fn report_measures_match_erlang_c_on_mmn() {
    for (n, load, hours) in [(5, 4.0, 60.0), (20, 18.0, 24.0)] {
        let sc = mmn(n, load, None, hours);
        let c = ErlangC::new(Workload::new(load / 60.0, 60.0).unwrap(), n).unwrap();
        let r = simulate(&sc, 8, false, &mut |_, _| {}).unwrap();
        let o = &r.policies[0].overall;
        let pct = |e: Estimate| Estimate {
            mean: e.mean / 100.0,
            half_width: e.half_width / 100.0,
            n: e.n,
        };
        within_99(
            &sc.name,
            &[
                ("P(wait)", pct(o.p_wait_pct), c.probability_of_waiting()),
                (
                    "mean wait, all arrivals (s)",
                    o.wait_all_mean_s,
                    c.average_speed_of_answer(),
                ),
                (
                    "mean wait, served (s)",
                    o.wait_served_mean_s,
                    c.average_speed_of_answer(),
                ),
                ("SL 20 s", pct(sl(o, 20.0)), c.service_level(20.0).unwrap()),
                ("SL 60 s", pct(sl(o, 60.0)), c.service_level(60.0).unwrap()),
                ("Lq", o.queue_length_mean, c.mean_queue_length()),
                ("occupancy", pct(o.occupancy_pct), c.occupancy()),
            ],
        );
        // One tier: the tier's figures are everyone's.
        let t = &r.policies[0].by_tier[0];
        assert_eq!(t.p_wait_pct, o.p_wait_pct);
        assert_eq!(t.wait_all_mean_s, o.wait_all_mean_s);
        assert_eq!(t.service_levels, o.service_levels);
        // The SL at 20 s is the KPI's own (the existing headline figure), computed apart.
        assert!((sl(o, 20.0).mean - o.service_level_20s_pct.mean).abs() < 1e-9);
        // The largest queue is at least the average one, in every replication.
        for run in &r.runs {
            let m = &run.measures;
            assert!(f64::from(m.queue_length_max) >= m.queue_length_mean.unwrap());
        }
        assert!(o.queue_length_max.mean >= o.queue_length_mean.mean);
    }
}

/// M/M/n+M: mean wait over all arrivals (abandoners counted up to leaving), P(abandon),
/// P(wait) and Lq against Erlang A, M/M/3 with mean patience 120 s at 2.7 erlangs and
/// M/M/30 with 300 s at 30 erlangs (critically loaded), 8 replications.
#[test]
fn report_measures_match_erlang_a_with_patience() {
    for (n, load, patience, hours) in [(3, 2.7, 120.0, 40.0), (30, 30.0, 300.0, 12.0)] {
        let sc = mmn(n, load, Some(patience), hours);
        let a = ErlangA::new(Workload::new(load / 60.0, 60.0).unwrap(), n, patience).unwrap();
        let r = simulate(&sc, 8, false, &mut |_, _| {}).unwrap();
        let o = &r.policies[0].overall;
        let pct = |e: Estimate| Estimate {
            mean: e.mean / 100.0,
            half_width: e.half_width / 100.0,
            n: e.n,
        };
        within_99(
            &format!("{}+M", sc.name),
            &[
                (
                    "mean wait, all arrivals (s)",
                    o.wait_all_mean_s,
                    a.mean_wait(),
                ),
                (
                    "P(abandon)",
                    pct(o.abandonment_pct),
                    a.probability_of_abandonment(),
                ),
                ("P(wait)", pct(o.p_wait_pct), a.probability_of_waiting()),
                ("Lq", o.queue_length_mean, a.mean_queue_length()),
            ],
        );
        // Abandoners count in the mean over all arrivals, with their wait up to leaving.
        for run in &r.runs {
            let t = &run.measures.overall;
            assert!(t.abandoned > 0 && t.left_wait_ms > 0);
            assert_eq!(t.served + t.abandoned, run.report.overall.offered);
        }
    }
}

/// `stop: {"customers": N}`: every replication counts exactly N arrivals after the warm-up
/// (the KPI report's offered and the measures' arrivals), the ones during the warm-up are
/// extra, and every counted customer is served in the drain.
#[test]
fn a_customer_count_stops_arrivals_after_exactly_n() {
    let mut sc = mmn(4, 3.0, None, 1.0);
    sc.stop = Some(Stop::Customers(1_234));
    sc.validate().unwrap();
    let r = simulate(&sc, 3, false, &mut |_, _| {}).unwrap();
    assert_eq!(r.stop.reason, StopReason::Replications);
    assert_eq!(r.stop.replications, 3);
    for run in &r.runs {
        assert_eq!(run.report.overall.offered, 1_234);
        assert_eq!(run.measures.arrivals, 1_234);
        assert_eq!(run.measures.overall.served, 1_234, "all counted are served");
        // 30 minutes of warm-up at 180 per hour came before them.
        assert!(run.customers > 1_234 + 50, "{} customers", run.customers);
        // 1,234 arrivals at 180 an hour take about 6.9 hours, not the scenario's 1 hour.
        let span_h = (run.measures.measured_to_ms - run.measures.measured_from_ms) as f64 / 3.6e6;
        assert!((5.5..8.5).contains(&span_h), "span {span_h} h");
    }
    let o = &r.policies[0].overall;
    assert_eq!((o.offered.mean, o.offered.half_width), (1_234.0, 0.0));
    // `{"hours": h}` overrides the scenario's hours.
    let mut h = mmn(4, 3.0, None, 1.0);
    h.stop = Some(Stop::Hours(2.5));
    let run = run_once(&h, &h.policies[0], 0, false).unwrap();
    assert_eq!(run.measures.measured_to_ms, 9_000_000);
}

/// `stop: {"half_width": …}`: when it stops for the target, the reported half-width of the
/// named metric is at most the target for every policy (and one replication fewer was
/// not); with an unreachable target it runs `max_replications` and says so.
#[test]
fn a_half_width_target_stops_replications_when_reached_or_at_the_maximum() {
    // M/M/3 at 0.8 per operator, 2 hours a replication: a mean wait near 65 s whose
    // half-width with 2 replications is far above 30 s.
    let mut sc = mmn(3, 2.4, None, 2.0);
    sc.stop = Some(Stop::HalfWidth(HalfWidthStop {
        metric: "wait_all_mean_s".into(),
        target: 30.0,
        max_replications: 40,
    }));
    let r = simulate(&sc, 2, false, &mut |_, _| {}).unwrap();
    eprintln!(
        "half-width stop: {:?} after {} replications, {:?}",
        r.stop.reason, r.stop.replications, r.stop.half_widths
    );
    assert_eq!(r.stop.reason, StopReason::TargetReached);
    let hw = r.stop.half_widths[0].1;
    assert!(hw.half_width <= 30.0);
    assert_eq!(hw, r.policies[0].overall.wait_all_mean_s);
    assert_eq!(r.replications, r.stop.replications);
    assert_eq!(r.runs.len() as u32, r.stop.replications);
    assert_eq!(hw.n, r.stop.replications);
    if r.stop.replications > 2 {
        let mut fixed = sc.clone();
        fixed.stop = None;
        let fewer = simulate(&fixed, r.stop.replications - 1, false, &mut |_, _| {}).unwrap();
        assert!(fewer.policies[0].overall.wait_all_mean_s.half_width > 30.0);
        // The same streams: the runs the rule made are the fixed count's runs.
        assert_eq!(fewer.runs[..], r.runs[..fewer.runs.len()]);
    }
    // A service level named by its threshold works too; an unreachable target runs to
    // the maximum and reports it.
    sc.stop = Some(Stop::HalfWidth(HalfWidthStop {
        metric: "service_level_60s_pct".into(),
        target: 1e-9,
        max_replications: 4,
    }));
    let mut calls = Vec::new();
    let r = simulate(&sc, 2, false, &mut |d, t| calls.push((d, t))).unwrap();
    assert_eq!(r.stop.reason, StopReason::MaxReplications);
    assert_eq!(r.stop.replications, 4);
    assert!(r.stop.half_widths[0].1.half_width > 1e-9);
    assert_eq!(calls.last(), Some(&(4, 4)));
}

/// Occupancy and utilisation per group: with breaks (logged-in time below the scheduled
/// time) utilisation is below occupancy; a group on duty the whole span has them equal
/// up to the last event; a late shift counts only its own hours as scheduled.
#[test]
fn utilisation_is_at_most_occupancy_per_operator_group() {
    let json = r#"{
        "name": "groups", "seed": 5, "hours": 4, "start_hour": 9, "warmup_minutes": 15,
        "policy": { "channels": [{ "id": 1, "name": "call" }],
                    "tiers": [{ "id": 1, "name": "all", "priority": 1, "first_response_target": 20000 }] },
        "arrivals": [{ "from_hour": 0, "per_hour": 100 }],
        "tiers": [{ "value": 1, "p": 1.0 }], "channels": [{ "value": 1, "p": 1.0 }],
        "handle_time": { "exponential": { "mean_secs": 90 } },
        "first_response_delay": { "fixed": { "secs": 0 } },
        "operators": [
            { "name": "with breaks", "count": 2, "capacity": [{ "channel": 1, "capacity": 1 }],
              "breaks": [{ "at_hour": 10, "minutes": 30 }, { "at_hour": 11.5, "minutes": 30 }] },
            { "name": "all day", "count": 2, "capacity": [{ "channel": 1, "capacity": 1 }] },
            { "name": "late", "count": 1, "capacity": [{ "channel": 1, "capacity": 1 }], "shift": [11, 13] }
        ],
        "policies": [{ "name": "auto", "routing": { "auto": {} } }]
    }"#;
    let sc: Scenario = serde_json::from_str(json).unwrap();
    let r = simulate(&sc, 4, false, &mut |_, _| {}).unwrap();
    let groups = &r.policies[0].groups;
    assert_eq!(
        groups.iter().map(|g| g.group.as_str()).collect::<Vec<_>>(),
        ["with breaks", "all day", "late"]
    );
    for g in groups {
        eprintln!(
            "{}: occupancy {:.1} %, utilisation {:.1} %",
            g.group, g.occupancy_pct.mean, g.utilisation_pct.mean
        );
        assert!(g.occupancy_pct.n == 4 && g.utilisation_pct.n == 4);
        assert!(g.utilisation_pct.mean <= g.occupancy_pct.mean + 1e-9);
        assert!(g.occupancy_pct.mean > 20.0 && g.occupancy_pct.mean <= 100.0);
    }
    // An hour of breaks in 3.75 measured hours: utilisation about 0.73 of occupancy.
    let ratio = groups[0].utilisation_pct.mean / groups[0].occupancy_pct.mean;
    assert!((0.65..0.8).contains(&ratio), "with breaks: ratio {ratio}");
    let ratio = groups[1].utilisation_pct.mean / groups[1].occupancy_pct.mean;
    assert!(ratio > 0.98, "all day: ratio {ratio}");
    let ratio = groups[2].utilisation_pct.mean / groups[2].occupancy_pct.mean;
    assert!(ratio > 0.98, "late shift: ratio {ratio}");
    assert_eq!(sc.shift_window_ms(2), (7_200_000, 14_400_000));
}

/// A change made to a good scenario.
type Edit = Box<dyn Fn(&mut Scenario)>;

/// Bad thresholds and run-length options are refused before anything runs, naming the
/// field (and the metric).
#[test]
fn bad_measure_options_are_refused_naming_the_field() {
    let good = mmn(2, 1.0, None, 1.0);
    let half = |metric: &str, target: f64, max_replications: u32| {
        Some(Stop::HalfWidth(HalfWidthStop {
            metric: metric.into(),
            target,
            max_replications,
        }))
    };
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|s| s.service_level_secs.clear()),
            "service_level_secs",
            "at least one",
        ),
        (
            Box::new(|s| s.service_level_secs = vec![20.0, -5.0]),
            "service_level_secs[1]",
            "-5",
        ),
        (
            Box::new(|s| s.service_level_secs = vec![0.0]),
            "service_level_secs[0]",
            "positive",
        ),
        (
            Box::new(|s| s.service_level_secs = vec![f64::NAN]),
            "service_level_secs[0]",
            "NaN",
        ),
        (
            Box::new(|s| s.service_level_secs = vec![60.0, 20.0]),
            "service_level_secs[1]",
            "increasing",
        ),
        (
            Box::new(|s| s.service_level_secs = vec![20.0, 20.0]),
            "service_level_secs[1]",
            "repeats",
        ),
        (
            Box::new(|s| s.stop = Some(Stop::Customers(0))),
            "stop.customers",
            "at least 1",
        ),
        (
            Box::new(|s| s.stop = Some(Stop::Hours(-1.0))),
            "stop.hours",
            "-1",
        ),
        (
            Box::new(move |s| s.stop = half("wait_mean_s", 0.0, 10)),
            "stop.half_width.target",
            "0",
        ),
        (
            Box::new(move |s| s.stop = half("wait_mean_s", -2.0, 10)),
            "stop.half_width.target",
            "-2",
        ),
        (
            Box::new(move |s| s.stop = half("wait_p99_s", 1.0, 10)),
            "stop.half_width.metric",
            "wait_p99_s",
        ),
        (
            // Named by a threshold the scenario does not list.
            Box::new(move |s| s.stop = half("service_level_30s_pct", 1.0, 10)),
            "stop.half_width.metric",
            "service_level_30s_pct",
        ),
        (
            Box::new(move |s| s.stop = half("wait_mean_s", 1.0, 1)),
            "stop.half_width.max_replications",
            "at least 2",
        ),
    ];
    for (f, field, needle) in &cases {
        let mut s = good.clone();
        f(&mut s);
        let err = simulate(&s, 1, false, &mut |_, _| panic!("nothing may run")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("`{field}`")) && text.contains(needle),
            "{text} should name `{field}` and {needle}"
        );
        let typed = match s.validate().unwrap_err() {
            ScenarioError::Invalid { field, .. } | ScenarioError::Unknown { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(typed, *field);
    }
    // Bad JSON forms are refused by the parser.
    let bad = serde_json::to_string(&good).unwrap().replacen(
        "\"stop\":null",
        "\"stop\":{\"minutes\":5}",
        1,
    );
    assert!(serde_json::from_str::<Scenario>(&bad).is_err());
}

/// Scenario files written before these options keep loading, with the defaults: SL at 20 and
/// 60 s, arrivals for `hours`.
#[test]
fn existing_scenarios_load_with_default_thresholds_and_hours() {
    for text in [
        include_str!("../../examples/scenarios/cx-team.json"),
        include_str!("../../examples/scenarios/evening-drop.json"),
        include_str!("../../examples/scenarios/mm20.json"),
        include_str!("../../examples/scenarios/queues.json"),
    ] {
        let sc: Scenario = serde_json::from_str(text).unwrap();
        sc.validate().unwrap();
        assert_eq!(sc.service_level_secs, [20.0, 60.0]);
        assert_eq!(sc.stop, None);
        assert_eq!(sc.arrival_hours(), Some(sc.hours));
    }
    let s: Stop = serde_json::from_str(r#"{"hours": 8}"#).unwrap();
    assert_eq!(s, Stop::Hours(8.0));
    let s: Stop =
        serde_json::from_str(r#"{"half_width": {"metric": "wait_mean_s", "target": 2.0}}"#)
            .unwrap();
    assert!(matches!(s, Stop::HalfWidth(h) if h.max_replications == 100));
}

/// The same seed gives the same report, new measures included (per tier, per group, the
/// stop outcome), under every run-length option; another seed changes the measures.
#[test]
fn the_same_seed_gives_identical_measures() {
    let mut sc: Scenario =
        serde_json::from_str(include_str!("../../examples/scenarios/cx-team.json")).unwrap();
    sc.hours = 2.0;
    sc.service_level_secs = vec![10.0, 30.0, 120.0];
    let run = |sc: &Scenario| -> SimReport { simulate(sc, 2, false, &mut |_, _| {}).unwrap() };
    for stop in [
        None,
        Some(Stop::Customers(300)),
        Some(Stop::HalfWidth(HalfWidthStop {
            metric: "p_wait_pct".into(),
            target: 5.0,
            max_replications: 3,
        })),
    ] {
        sc.stop = stop;
        let (a, b) = (run(&sc), run(&sc));
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let p = &a.policies[0];
        assert_eq!(p.overall.service_levels.len(), 3);
        assert_eq!(p.by_tier.len(), 4);
        assert!(p.by_tier.iter().all(|t| t.service_levels.len() == 3));
        assert_eq!(p.groups.len(), 2);
        let mut other = sc.clone();
        other.seed += 1;
        assert_ne!(
            run(&other).policies[0].overall.wait_all_mean_s,
            p.overall.wait_all_mean_s
        );
    }
}
