//! Forecast from the live state (`sim::forecast`): a simulation started from an engine
//! snapshot agrees with a plain run from an empty system, counts the backlog's waits so far,
//! matches Erlang C from a steady-state-like queue, frees held operators after their
//! remaining handle time, refuses bad input naming the field, and is deterministic.

use switchboard::engine::{Engine, Event, Snapshot};
use switchboard::ids::{ChannelId, ConversationId, OperatorId, TierId};
use switchboard::model::{ChannelCapacity, ConversationSpec, OperatorSpec, OperatorStatus};
use switchboard::policy::QueueOrder;
use switchboard::sim::forecast::{ArrivalForecast, ForecastError, ForecastOptions, forecast};
use switchboard::sim::report::{Estimate, simulate};
use switchboard::sim::scenario::Scenario;
use switchboard::staffing::{ErlangC, Workload};
use switchboard::time::{Millis, Timestamp};

/// M/M/n: one channel, one tier, FIFO, capacity 1, handle times `handle` (JSON), no reply
/// delay, thresholds 20 and 120 s.
fn scenario(n: u32, per_hour: f64, handle: &str, hours: f64) -> Scenario {
    let json = format!(
        r#"{{
        "name": "M/M/{n}", "seed": 5, "hours": {hours}, "warmup_minutes": 0,
        "policy": {{ "channels": [{{ "id": 1, "name": "call" }}],
                    "tiers": [{{ "id": 1, "name": "all", "priority": 1, "first_response_target": 20000 }}],
                    "queue_order": "fifo" }},
        "arrivals": [{{ "from_hour": 0, "per_hour": {per_hour} }}],
        "tiers": [{{ "value": 1, "p": 1.0 }}], "channels": [{{ "value": 1, "p": 1.0 }}],
        "handle_time": {handle},
        "first_response_delay": {{ "fixed": {{ "secs": 0 }} }},
        "service_level_secs": [20, 120],
        "operators": [{{ "name": "agent", "count": {n}, "capacity": [{{ "channel": 1, "capacity": 1 }}] }}],
        "policies": [{{ "name": "fifo", "routing": {{ "auto": {{}} }} }}]
    }}"#
    );
    serde_json::from_str(&json).expect("scenario parses")
}

const EXP60: &str = r#"{ "exponential": { "mean_secs": 60 } }"#;

/// A live engine under the scenario's policy: `waiting` conversations asked at `asked`
/// (ms), then `busy` of `operators` operators (ids 1..) holding a replied conversation since
/// `held_since`, all on shift from `now`; the snapshot is taken at `now`.
fn live(
    sc: &Scenario,
    operators: u64,
    busy: u64,
    held_since: u64,
    waiting: u64,
    asked: u64,
    now: u64,
) -> Snapshot {
    let mut e = Engine::new(sc.policy_for(&sc.policies[0])).unwrap();
    let mut id = 1;
    let mut arrive = |e: &mut Engine, at: u64| {
        let spec = ConversationSpec::new(ConversationId(id), ChannelId(1), TierId(1));
        id += 1;
        e.apply(Event::ConversationArrived {
            at: Timestamp(at),
            conversation: spec,
        })
        .unwrap();
    };
    let add = |e: &mut Engine, op: u64, at: u64| {
        let mut spec = OperatorSpec::new(OperatorId(op));
        spec.status = OperatorStatus::Available;
        spec.capacity.push(ChannelCapacity {
            channel: ChannelId(1),
            capacity: 1,
        });
        e.apply(Event::OperatorAdded {
            at: Timestamp(at),
            operator: spec,
        })
        .unwrap();
    };
    let first = held_since.min(asked);
    // The busy operators take a conversation each and reply at once.
    for op in 1..=busy {
        arrive(&mut e, first);
        add(&mut e, op, first);
    }
    e.assign(Timestamp(first)).unwrap();
    for c in 1..=busy {
        e.apply(Event::FirstResponseSent {
            at: Timestamp(held_since),
            conversation: ConversationId(c),
        })
        .unwrap();
    }
    for _ in 0..waiting {
        arrive(&mut e, asked);
    }
    for op in busy + 1..=operators {
        add(&mut e, op, now);
    }
    // Nothing assigns the backlog before the snapshot: the busy operators are full and
    // the others join at `now` (no `assign` since).
    e.apply(Event::Tick { at: Timestamp(now) }).unwrap();
    let s = e.snapshot();
    assert_eq!(s.now, Timestamp(now));
    s
}

fn overlap(label: &str, a: Estimate, b: Estimate) {
    eprintln!(
        "{label}: {:.3} ± {:.3} against {:.3} ± {:.3}",
        a.mean, a.half_width, b.mean, b.half_width
    );
    assert!(
        (a.mean - b.mean).abs() <= a.half_width + b.half_width,
        "{label}: {:.3} ± {:.3} and {:.3} ± {:.3} do not overlap",
        a.mean,
        a.half_width,
        b.mean,
        b.half_width
    );
}

/// (a) From an empty engine with the scenario's operators, the forecast of the next hour
/// agrees with a plain simulation of that hour (95 % intervals overlap; another seed, so the
/// two are independent).
#[test]
fn a_forecast_from_an_empty_engine_agrees_with_a_plain_run_of_the_hour() {
    let sc = scenario(5, 240.0, EXP60, 1.0);
    let plain = simulate(&sc, 20, false, &mut |_, _| {}).unwrap();
    let p = &plain.policies[0].overall;
    let snapshot = live(&sc, 5, 0, 0, 0, 0, 0);
    let opts = ForecastOptions {
        seed: Some(77),
        ..ForecastOptions::default()
    };
    let f = forecast(&snapshot, &sc, &opts).unwrap();
    assert_eq!(f.replications, 20);
    assert_eq!(f.overall.waiting_now, 0);
    overlap("customers", f.overall.customers, p.offered);
    overlap("mean wait", f.overall.wait_mean_s, p.wait_all_mean_s);
    overlap("P(wait)", f.overall.p_wait_pct, p.p_wait_pct);
    overlap(
        "SL 20 s",
        f.overall.service_level(20.0).unwrap(),
        p.service_levels[0].pct,
    );
    // One tier: the tier's line is everyone's.
    assert_eq!(f.by_tier.len(), 1);
    assert_eq!(f.by_tier[0].wait_mean_s, f.overall.wait_mean_s);
}

/// (b) A backlog of 30 customers who have waited 10 minutes: longer waits and a lower
/// service level than the same engine without it, and their waits so far are counted (none
/// of them is within 20 s, each adds at least 600 s).
#[test]
fn a_backlog_forecasts_longer_waits_and_counts_the_waits_so_far() {
    let sc = scenario(5, 240.0, EXP60, 1.0);
    let now = 600_000;
    let with = live(&sc, 5, 0, 0, 30, 0, now);
    let without = live(&sc, 5, 0, 0, 0, 0, now);
    let f_with = forecast(&with, &sc, &ForecastOptions::default()).unwrap();
    let f_without = forecast(&without, &sc, &ForecastOptions::default()).unwrap();
    let (w, wo) = (&f_with.overall, &f_without.overall);
    eprintln!(
        "mean wait {:.1} s against {:.1} s; SL 20 s {:.1} % against {:.1} %",
        w.wait_mean_s.mean,
        wo.wait_mean_s.mean,
        w.service_level(20.0).unwrap().mean,
        wo.service_level(20.0).unwrap().mean
    );
    assert_eq!(w.waiting_now, 30);
    assert!(w.wait_mean_s.mean - w.wait_mean_s.half_width > wo.wait_mean_s.mean);
    let sl = |l: &switchboard::sim::forecast::ForecastLine| l.service_level(20.0).unwrap();
    assert!(sl(w).mean + sl(w).half_width < sl(wo).mean);
    // The 30 count with their 10 minutes: customers include them, the mean wait is at least
    // 600 s × 30 / customers and at most (customers − 30) / customers are within 20 s.
    let n = w.customers.mean;
    assert!(n >= wo.customers.mean - wo.customers.half_width - w.customers.half_width + 30.0);
    assert!(w.wait_mean_s.mean >= 600.0 * 30.0 / n);
    assert!(sl(w).mean <= 100.0 * (n - 30.0) / n + 1e-9);
    assert!(w.p_wait_pct.mean >= 100.0 * 30.0 / n);
    // Load 0.8: the backlog is worked off within the hour.
    assert!(w.waiting_at_end.mean < 10.0);
}

/// (c) M/M/20 at 18 erlangs started from a steady-state-like state (18 busy, 2 waiting):
/// over a 24-hour horizon the forecast mean wait, P(wait) and SL at 20 s match Erlang C
/// within the 99 % interval of 8 replications.
#[test]
fn a_long_forecast_from_a_steady_state_matches_erlang_c() {
    let sc = scenario(20, 1080.0, EXP60, 24.0);
    let snapshot = live(&sc, 20, 18, 0, 2, 30_000, 30_000);
    let opts = ForecastOptions {
        horizon: Millis::from_mins(24 * 60),
        replications: 8,
        ..ForecastOptions::default()
    };
    let f = forecast(&snapshot, &sc, &opts).unwrap();
    let c = ErlangC::new(Workload::new(18.0 / 60.0, 60.0).unwrap(), 20).unwrap();
    let o = &f.overall;
    let checks = [
        ("mean wait s", o.wait_mean_s, c.average_speed_of_answer()),
        (
            "P(wait) %",
            o.p_wait_pct,
            100.0 * c.probability_of_waiting(),
        ),
        (
            "SL 20 s %",
            o.service_level(20.0).unwrap(),
            100.0 * c.service_level(20.0).unwrap(),
        ),
    ];
    for (name, e, theory) in checks {
        let tolerance = e.half_width * 2.58 / 1.96;
        eprintln!(
            "{name}: {:.3} ± {:.3} (99 %), Erlang C {theory:.3}",
            e.mean, tolerance
        );
        assert!(
            (e.mean - theory).abs() <= tolerance,
            "{name}: {:.3} ± {:.3}, Erlang C {theory:.3}",
            e.mean,
            tolerance
        );
    }
}

/// (d) Held conversations free their operators: two operators each hold a conversation
/// replied to 200 s ago with a fixed handle time of 300 s; two customers waiting now and
/// no new arrivals: each is served exactly when a held one finishes, 100 s from now.
/// With exponential handle times (mean 60 s, memoryless), the first customer waits for the
/// first of two to finish (30 s on average) and the second for the next (60 s on average).
#[test]
fn held_conversations_free_their_operators_after_the_remaining_handle_time() {
    let quiet = || ForecastOptions {
        arrivals: ArrivalForecast::Rates {
            interval: Millis::from_mins(60),
            rates: vec![0.0],
        },
        ..ForecastOptions::default()
    };
    let fixed = scenario(2, 60.0, r#"{ "fixed": { "secs": 300 } }"#, 1.0);
    let snapshot = live(&fixed, 2, 2, 1_000_000, 2, 1_200_000, 1_200_000);
    let f = forecast(&snapshot, &fixed, &quiet()).unwrap();
    let o = &f.overall;
    assert_eq!((o.waiting_now, o.held_now), (2, 2));
    assert_eq!(o.customers.mean, 2.0);
    assert!(
        (o.wait_mean_s.mean - 100.0).abs() < 1e-9,
        "{:?}",
        o.wait_mean_s
    );
    assert_eq!(o.service_level(20.0).unwrap().mean, 0.0);
    assert_eq!(o.service_level(120.0).unwrap().mean, 100.0);
    assert_eq!(o.waiting_at_end.mean, 0.0);

    let exp = scenario(2, 60.0, EXP60, 1.0);
    let snapshot = live(&exp, 2, 2, 1_000_000, 2, 1_200_000, 1_200_000);
    let opts = ForecastOptions {
        replications: 200,
        ..quiet()
    };
    let f = forecast(&snapshot, &exp, &opts).unwrap();
    let w = f.overall.wait_mean_s;
    eprintln!(
        "exponential: mean wait {:.2} ± {:.2} s, theory 45 s",
        w.mean, w.half_width
    );
    assert!((w.mean - 45.0).abs() <= w.half_width * 2.58 / 1.96, "{w:?}");
}

/// (e) Bad input is refused naming the field; the same seed gives the same report and
/// another seed another.
#[test]
fn bad_input_is_refused_naming_the_field_and_forecasts_are_deterministic() {
    let sc = scenario(3, 120.0, EXP60, 1.0);
    let snapshot = live(&sc, 3, 1, 0, 4, 10_000, 60_000);
    let field = |r: Result<_, ForecastError>| r.map(|_| ()).unwrap_err().field().map(String::from);
    let opts = ForecastOptions::default;

    // A snapshot of an engine under another policy.
    let mut other = sc.clone();
    other.policy.queue_order = QueueOrder::Aging;
    let foreign = live(&other, 3, 1, 0, 4, 10_000, 60_000);
    let err = forecast(&foreign, &sc, &opts()).unwrap_err();
    assert!(matches!(err, ForecastError::PolicyMismatch { .. }), "{err}");
    assert_eq!(err.field(), Some("policy.queue_order"), "{err}");

    let rates = |rates: Vec<f64>| ForecastOptions {
        arrivals: ArrivalForecast::Rates {
            interval: Millis::from_mins(15),
            rates,
        },
        ..opts()
    };
    assert_eq!(
        field(forecast(&snapshot, &sc, &rates(vec![60.0, -1.0]))),
        Some("rates[1]".into())
    );
    assert_eq!(
        field(forecast(&snapshot, &sc, &rates(vec![f64::NAN]))),
        Some("rates[0]".into())
    );
    assert_eq!(
        field(forecast(
            &snapshot,
            &sc,
            &rates(vec![60.0, 60.0, f64::INFINITY])
        )),
        Some("rates[2]".into())
    );
    // Nobody on shift: a snapshot without operators.
    let empty = Engine::new(sc.policy_for(&sc.policies[0]))
        .unwrap()
        .snapshot();
    assert_eq!(
        field(forecast(&empty, &sc, &opts())),
        Some("operators".into())
    );
    let zero = ForecastOptions {
        horizon: Millis(0),
        ..opts()
    };
    assert_eq!(
        field(forecast(&snapshot, &sc, &zero)),
        Some("horizon".into())
    );
    let one = ForecastOptions {
        replications: 1,
        ..opts()
    };
    assert_eq!(
        field(forecast(&snapshot, &sc, &one)),
        Some("replications".into())
    );
    let unknown = ForecastOptions {
        policy: Some("nope".into()),
        ..opts()
    };
    assert_eq!(
        field(forecast(&snapshot, &sc, &unknown)),
        Some("policy".into())
    );

    // Determinism.
    let a = forecast(&snapshot, &sc, &opts()).unwrap();
    let b = forecast(&snapshot, &sc, &opts()).unwrap();
    assert_eq!(a, b);
    let c = forecast(
        &snapshot,
        &sc,
        &ForecastOptions {
            seed: Some(99),
            ..opts()
        },
    )
    .unwrap();
    assert_ne!(a, c);
}
