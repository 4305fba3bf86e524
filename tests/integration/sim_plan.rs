//! A day plan checked by simulation with the real engine
//! (`sim::plan_check`): each interval's Erlang C and Erlang A team,
//! simulated as M/M/n(+M), meets the formulas' predictions within the
//! replications' 99 % interval.

use switchboard::sim::plan_check::{PlanCheckError, PlanCheckOptions, check_plan};
use switchboard::sim::report::Estimate;
use switchboard::staffing::{DayPlan, Interval, Patience, PatienceTarget, ServiceTarget, plan_day};

fn plan() -> DayPlan {
    let intervals = vec![
        Interval::new(8 * 60, 60, 0.0),
        Interval::new(9 * 60, 60, 60.0),
        Interval::new(10 * 60, 60, 150.0),
    ];
    let patience = Patience {
        mean: 300.0,
        target: PatienceTarget::answered_within(20.0, 0.8)
            .unwrap()
            .with_max_abandonment(0.05)
            .unwrap(),
    };
    plan_day(
        &intervals,
        180.0,
        ServiceTarget::new(20.0, 0.8).unwrap(),
        Some(patience),
    )
    .unwrap()
}

fn within_99(what: &str, e: Estimate, predicted: f64, floor: f64) {
    let tol = e.half_width * 2.58 / 1.96 + floor;
    eprintln!(
        "{what}: simulated {:.4} ± {tol:.4}, predicted {predicted:.4}",
        e.mean
    );
    assert!(
        (e.mean - predicted).abs() <= tol,
        "{what}: simulated {:.4} ± {tol:.4} (99 %), predicted {predicted:.4}",
        e.mean
    );
}

#[test]
fn planned_teams_meet_their_predictions_in_simulation() {
    let plan = plan();
    let opts = PlanCheckOptions {
        replications: 6,
        hours_per_interval: 8.0,
        warmup_minutes: 30.0,
        seed: 7,
    };
    let check = check_plan(&plan, &opts).unwrap();
    assert_eq!(check.rows.len(), 3);
    assert_eq!(check.threshold_secs, 20.0);
    // No arrivals: nothing to simulate, said so.
    assert!(check.rows[0].erlang_c.is_none() && check.rows[0].erlang_a.is_none());
    for (row, planned) in check.rows.iter().zip(plan.rows()).skip(1) {
        let c = row.erlang_c.as_ref().expect("an Erlang C team");
        let a = row.erlang_a.as_ref().expect("an Erlang A team");
        assert_eq!(c.operators, planned.erlang_c.operators);
        assert_eq!(a.operators, planned.erlang_a.as_ref().unwrap().operators);
        let at = format!("{:02}:00", row.start_minute / 60);
        // A small floor for the rounding of ms arrival instants and the
        // finite run; the half-widths here are a few points.
        within_99(
            &format!("{at} C SL"),
            c.simulated_service_level,
            c.predicted_service_level,
            0.01,
        );
        within_99(
            &format!("{at} C wait"),
            c.simulated_mean_wait,
            c.predicted_mean_wait,
            1.0,
        );
        assert_eq!(c.predicted_abandonment, 0.0);
        assert_eq!(
            c.simulated_abandonment.mean, 0.0,
            "no patience in the C run"
        );
        within_99(
            &format!("{at} A SL"),
            a.simulated_service_level,
            a.predicted_service_level,
            0.01,
        );
        within_99(
            &format!("{at} A abandonment"),
            a.simulated_abandonment,
            a.predicted_abandonment,
            0.005,
        );
        within_99(
            &format!("{at} A wait"),
            a.simulated_mean_wait,
            a.predicted_mean_wait,
            1.0,
        );
    }
    let text = check.to_string();
    assert_eq!(
        text.lines().count(),
        4,
        "a header and one line per interval:\n{text}"
    );
    assert!(text.contains("no arrivals"));
}

#[test]
fn the_same_seed_gives_the_same_check() {
    let plan = plan();
    let opts = PlanCheckOptions {
        replications: 2,
        hours_per_interval: 1.0,
        warmup_minutes: 0.0,
        seed: 3,
    };
    assert_eq!(
        check_plan(&plan, &opts).unwrap(),
        check_plan(&plan, &opts).unwrap()
    );
}

#[test]
fn bad_options_are_refused_naming_the_option() {
    let plan = plan();
    let cases = [
        (
            PlanCheckOptions {
                replications: 1,
                ..Default::default()
            },
            "replications",
        ),
        (
            PlanCheckOptions {
                hours_per_interval: 0.0,
                ..Default::default()
            },
            "hours_per_interval",
        ),
        (
            PlanCheckOptions {
                hours_per_interval: f64::NAN,
                ..Default::default()
            },
            "hours_per_interval",
        ),
        (
            PlanCheckOptions {
                warmup_minutes: -1.0,
                ..Default::default()
            },
            "warmup_minutes",
        ),
    ];
    for (opts, field) in cases {
        match check_plan(&plan, &opts) {
            Err(PlanCheckError::Option { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected an option error, got {other:?}"),
        }
    }
}
