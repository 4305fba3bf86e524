//! Staffing maths against published values, against each other and against
//! independent computations.

use proptest::prelude::*;
use switchboard::staffing::{
    DayPlan, ErlangA, ErlangC, Interval, MAX_OPERATORS, Patience, PatienceTarget, ServiceTarget,
    StaffingError, TeamMeasures, Workload, erlang_b, erlang_c, operators_needed,
    operators_needed_with_patience, plan_day,
};

fn close(got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "got {got}, want {want} within {tol}"
    );
}

// ---------------------------------------------------------------- Erlang B

/// Classic Erlang B traffic tables (the "1 % and 2 % grade of service" tables
/// printed in telephony handbooks and on erlang calculators): the offered
/// load N trunks carry at the given blocking, rounded to 3–4 significant
/// digits. Rounding the load moves B by at most ~5e-5 here.
#[test]
fn erlang_b_matches_the_classic_tables() {
    let one_percent = [
        (1, 0.0101),
        (2, 0.153),
        (3, 0.455),
        (4, 0.869),
        (5, 1.361),
        (10, 4.461),
        (20, 12.031),
        (50, 37.901),
        (100, 84.064),
    ];
    for (n, a) in one_percent {
        close(erlang_b(n, a).unwrap(), 0.01, 6e-5);
    }
    close(erlang_b(10, 5.084).unwrap(), 0.02, 6e-5);
}

#[test]
fn erlang_b_small_cases_in_closed_form() {
    // B(1, A) = A / (1 + A); B(2, A) = A²/2 / (1 + A + A²/2).
    close(erlang_b(1, 1.0).unwrap(), 0.5, 1e-15);
    close(erlang_b(2, 1.0).unwrap(), 0.2, 1e-15);
    close(erlang_b(3, 0.0).unwrap(), 0.0, 0.0);
}

// ---------------------------------------------------------------- Erlang C

/// M/M/20 at ρ = 0.9, μ = 1 (performance guide §4e/§5, and every Erlang C
/// calculator): P(wait) = 0.5508, E[Wq] = 0.2754.
#[test]
fn mm20_at_rho_09() {
    let q = ErlangC::new(Workload::new(18.0, 1.0).unwrap(), 20).unwrap();
    close(q.probability_of_waiting(), 0.5508, 5e-5);
    close(q.average_speed_of_answer(), 0.2754, 5e-5);
    close(q.occupancy(), 0.9, 1e-15);
    // Exact rational evaluation of the textbook factorial formula
    // (independent Python `fractions` computation): 0.5507690048161176.
    close(q.probability_of_waiting(), 0.550_769_004_816_117_6, 1e-13);
    close(
        q.mean_queue_length(),
        18.0 * q.average_speed_of_answer(),
        1e-12,
    );
}

/// The classic textbook case (one call a minute, 3-minute service, 5 agents):
/// C(5, 3) = 0.2362, so 76.4 % of callers never wait.
#[test]
fn five_agents_three_erlangs() {
    close(erlang_c(5, 3.0).unwrap(), 0.236_151_603_498_542_3, 1e-14);
}

/// 100 contacts per 30 min, AHT 3 min (10 erlangs): P(wait) for 11–15
/// operators against the exact rational factorial formula, and the service
/// level within 20 s.
#[test]
fn ten_erlangs_table() {
    let w = Workload::per_interval(100.0, 1800.0, 180.0).unwrap();
    let want = [
        (11, 0.682_118_204_689_332_4, 0.3896),
        (12, 0.449_388_224_298_270_9, 0.6402),
        (13, 0.285_270_453_036_493, 0.7956),
        (14, 0.174_131_933_595_049_8, 0.8884),
        (15, 0.102_042_367_007_988, 0.9415),
    ];
    for (n, pw, sl) in want {
        let q = ErlangC::new(w, n).unwrap();
        close(q.probability_of_waiting(), pw, 1e-13);
        close(q.service_level(20.0).unwrap(), sl, 1e-4);
    }
}

/// pyworkforce 0.5.1 `ErlangC(...).required_positions(service_level=0.8,
/// max_occupancy=0.85)` (performance guide §5): 14 and 1,177 raw positions.
#[test]
fn pyworkforce_required_positions() {
    let target = ServiceTarget::new(20.0, 0.8)
        .unwrap()
        .with_max_occupancy(0.85)
        .unwrap();
    let small = Workload::per_interval(100.0, 1800.0, 180.0).unwrap();
    assert_eq!(operators_needed(small, target).unwrap().operators(), 14);
    let large = Workload::per_interval(6000.0, 1800.0, 300.0).unwrap();
    let team = operators_needed(large, target).unwrap();
    assert_eq!(team.operators(), 1177);
    assert!(team.occupancy() <= 0.85);
    // At 1,000 erlangs the occupancy cap binds: the service level alone
    // needs 1,015 (SL 0.8059; 1,014 gives less than 0.8).
    let uncapped = ServiceTarget::new(20.0, 0.8).unwrap();
    let team = operators_needed(large, uncapped).unwrap();
    assert_eq!(team.operators(), 1015);
    assert!(
        ErlangC::new(large, 1014)
            .unwrap()
            .service_level(20.0)
            .unwrap()
            < 0.8
    );
}

/// Erlang C with one operator is M/M/1: P(wait) = ρ, E[Wq] = ρ / (μ − λ),
/// P(Wq ≤ t) = 1 − ρ·e^{−(μ−λ)t}.
#[test]
fn one_operator_is_mm1() {
    for (lambda, mu) in [(0.5, 1.0), (0.9, 1.0), (3.0, 4.0), (0.01, 0.02)] {
        let rho: f64 = lambda / mu;
        let q = ErlangC::new(Workload::new(lambda, 1.0 / mu).unwrap(), 1).unwrap();
        close(q.probability_of_waiting(), rho, 1e-14);
        close(
            q.average_speed_of_answer(),
            rho / (mu - lambda),
            1e-12 * rho / (mu - lambda),
        );
        let t = 1.7;
        close(
            q.service_level(t).unwrap(),
            1.0 - rho * (-(mu - lambda) * t).exp(),
            1e-14,
        );
    }
}

#[test]
fn zero_arrivals_need_one_operator() {
    let w = Workload::new(0.0, 180.0).unwrap();
    let team = operators_needed(w, ServiceTarget::new(20.0, 0.95).unwrap()).unwrap();
    assert_eq!(team.operators(), 1);
    assert_eq!(team.probability_of_waiting(), 0.0);
    assert_eq!(team.service_level(0.0).unwrap(), 1.0);
}

#[test]
fn large_teams_stay_finite() {
    let b = erlang_b(5000, 4500.0).unwrap();
    assert!(b.is_finite() && b > 0.0 && b < 1.0);
    let q = ErlangC::new(Workload::new(4900.0, 1.0).unwrap(), 5000).unwrap();
    let p = q.probability_of_waiting();
    assert!(p.is_finite() && p > 0.0 && p < 1.0, "{p}");
    assert!(q.average_speed_of_answer().is_finite());
    // Tiny load on a huge team: B underflows towards 0, nothing turns NaN.
    let idle = ErlangC::new(Workload::new(1.0, 1.0).unwrap(), 5000).unwrap();
    assert_eq!(idle.probability_of_waiting(), 0.0);
    let team = operators_needed(
        Workload::new(4800.0, 1.0).unwrap(),
        ServiceTarget::new(0.05, 0.9).unwrap(),
    )
    .unwrap();
    assert!(team.operators() > 4800 && team.operators() < 5000);
    // Square-root staffing: n ≈ A + β√A with β = O(1).
    let beta = (f64::from(team.operators()) - 4800.0) / 4800f64.sqrt();
    assert!(beta > 0.2 && beta < 3.0, "{beta}");
}

// ---------------------------------------------------------------- Erlang A

/// With θ = μ every customer in the system leaves at rate μ, so the number
/// present is Poisson(A) as in M/M/∞: P(wait) = P(N ≥ n), E[Lq] = E[(N − n)⁺].
/// A = 7, n = 6 (independent Python sum): 0.6992917238256389, 1.593308401871666.
#[test]
fn erlang_a_with_patience_equal_to_handle_time_is_poisson() {
    let q = ErlangA::new(Workload::new(7.0, 1.0).unwrap(), 6, 1.0).unwrap();
    close(q.probability_of_waiting(), 0.699_291_723_825_638_9, 1e-13);
    close(q.mean_queue_length(), 1.593_308_401_871_666, 1e-12);
    close(
        q.probability_of_abandonment(),
        1.593_308_401_871_666 / 7.0,
        1e-13,
    );
    close(q.mean_wait(), 1.593_308_401_871_666 / 7.0, 1e-13);
}

/// Erlang A with θ → 0 approaches Erlang C.
#[test]
fn erlang_a_approaches_erlang_c_as_patience_grows() {
    for (lambda, n) in [(18.0, 20), (0.9, 1), (8.0, 10), (950.0, 1000)] {
        let w = Workload::new(lambda, 1.0).unwrap();
        let c = ErlangC::new(w, n).unwrap();
        let a = ErlangA::new(w, n, 1e9).unwrap();
        close(a.probability_of_waiting(), c.probability_of_waiting(), 1e-6);
        close(a.mean_wait(), c.average_speed_of_answer(), 1e-5);
        assert!(a.probability_of_abandonment() < 1e-6);
        for t in [0.0, 0.05, 0.3, 2.0] {
            close(
                a.service_level(t).unwrap(),
                c.service_level(t).unwrap(),
                1e-6,
            );
        }
    }
}

/// Independent check of every Erlang A measure: the stationary law from
/// plain products (small n, no overflow), then the fate of a tagged arrival
/// by integrating the forward equations of "k customers still ahead of it"
/// with RK4. From k ahead it moves to k − 1 (or into service from 0) at rate
/// n·μ + k·θ, and abandons at rate θ.
#[test]
fn erlang_a_matches_forward_equations() {
    for &(lambda, mu, theta, n) in &[
        (2.5, 1.0, 0.5, 3u32),
        (4.0, 1.0, 2.0, 3),
        (9.0, 1.0, 0.2, 10),
        (0.5, 0.25, 1.0 / 3.0, 2),
    ] {
        let n_mu = f64::from(n) * mu;
        let kmax = 150usize;
        // Stationary distribution by products from π_0.
        let mut pi = vec![1.0f64];
        for j in 1..=(n as usize + kmax) {
            let death = if j <= n as usize {
                j as f64 * mu
            } else {
                n_mu + (j - n as usize) as f64 * theta
            };
            let prev = pi[j - 1];
            pi.push(prev * lambda / death);
        }
        let total: f64 = pi.iter().sum();
        pi.iter_mut().for_each(|p| *p /= total);
        let p_wait: f64 = pi[n as usize..].iter().sum();
        let lq: f64 = pi[n as usize..]
            .iter()
            .enumerate()
            .map(|(k, p)| k as f64 * p)
            .sum();

        let q = ErlangA::new(Workload::new(lambda, 1.0 / mu).unwrap(), n, 1.0 / theta).unwrap();
        close(q.probability_of_waiting(), p_wait, 1e-12);
        close(q.mean_queue_length(), lq, 1e-11);
        close(q.probability_of_abandonment(), theta * lq / lambda, 1e-12);

        // Tagged arrival: x[k] = P(waiting with k ahead); served / abandoned absorb.
        let mut x: Vec<f64> = pi[n as usize..].to_vec();
        let mut served = 1.0 - p_wait;
        let mut waited_area = 0.0; // ∫ P(still waiting) ds = E[Wq]
        let deriv = |x: &[f64]| -> (Vec<f64>, f64) {
            let mut d = vec![0.0; x.len()];
            let mut to_service = 0.0;
            for k in 0..x.len() {
                let out = n_mu + k as f64 * theta;
                d[k] -= (out + theta) * x[k];
                if k == 0 {
                    to_service += out * x[k];
                } else {
                    d[k - 1] += out * x[k];
                }
            }
            (d, to_service)
        };
        // One RK4 step: advances x, returns (∫ P(waiting), ∫ flow into service).
        let rk4 = |x: &mut Vec<f64>, dt: f64| -> (f64, f64) {
            let (k1, s1) = deriv(x);
            let x2: Vec<f64> = x.iter().zip(&k1).map(|(a, b)| a + 0.5 * dt * b).collect();
            let (k2, s2) = deriv(&x2);
            let x3: Vec<f64> = x.iter().zip(&k2).map(|(a, b)| a + 0.5 * dt * b).collect();
            let (k3, s3) = deriv(&x3);
            let x4: Vec<f64> = x.iter().zip(&k3).map(|(a, b)| a + dt * b).collect();
            let (k4, s4) = deriv(&x4);
            let w1: f64 = x.iter().sum();
            let w2: f64 = x2.iter().sum();
            let w3: f64 = x3.iter().sum();
            let w4: f64 = x4.iter().sum();
            for i in 0..x.len() {
                x[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
            }
            (
                dt / 6.0 * (w1 + 2.0 * w2 + 2.0 * w3 + w4),
                dt / 6.0 * (s1 + 2.0 * s2 + 2.0 * s3 + s4),
            )
        };
        let dt = 1e-2 / (n_mu + theta);
        let mut t = 0.0;
        for checkpoint in [0.1 / mu, 0.5 / mu, 2.0 / mu] {
            while t < checkpoint - 1e-12 {
                let (area, flow) = rk4(&mut x, dt);
                waited_area += area;
                served += flow;
                t += dt;
            }
            close(q.service_level(t).unwrap(), served, 1e-8);
        }
        // Run on until (almost) nobody is waiting: the area is E[Wq].
        while x.iter().sum::<f64>() > 1e-13 {
            waited_area += rk4(&mut x, dt).0;
        }
        close(q.mean_wait(), waited_area, 1e-5 * q.mean_wait().max(1e-3));
    }
}

#[test]
fn erlang_a_service_level_limits() {
    let w = Workload::per_interval(100.0, 1800.0, 180.0).unwrap();
    let q = ErlangA::new(w, 10, 120.0).unwrap();
    close(
        q.service_level(0.0).unwrap(),
        1.0 - q.probability_of_waiting(),
        1e-14,
    );
    close(
        q.service_level(1e6).unwrap(),
        1.0 - q.probability_of_abandonment(),
        1e-12,
    );
}

#[test]
fn erlang_a_overload_and_large_teams() {
    // Overloaded (A > n) is fine with abandonment: the excess abandons.
    let q = ErlangA::new(Workload::new(6000.0, 1.0).unwrap(), 5000, 2.0).unwrap();
    let p = q.probability_of_abandonment();
    assert!(p.is_finite() && (p - 1.0 / 6.0).abs() < 0.01, "{p}");
    assert!(q.probability_of_waiting() > 0.99);
    assert!(q.service_level(0.01).unwrap().is_finite());
    // Heavy overload, slow abandonment: partial products overflow without rescaling.
    let q = ErlangA::new(Workload::new(10_000.0, 1.0).unwrap(), 5000, 100.0).unwrap();
    assert!(q.probability_of_abandonment() > 0.49 && q.probability_of_abandonment() < 0.51);
    // Idle huge team.
    let q = ErlangA::new(Workload::new(10.0, 1.0).unwrap(), 5000, 1.0).unwrap();
    assert_eq!(q.probability_of_waiting(), 0.0);
    assert_eq!(q.service_level(1.0).unwrap(), 1.0);
    let q = ErlangA::new(Workload::new(0.0, 1.0).unwrap(), 3, 1.0).unwrap();
    assert_eq!(q.probability_of_abandonment(), 0.0);
    assert_eq!(q.mean_wait(), 0.0);
}

// ---------------------------------------------------------------- errors

#[test]
fn bad_input_is_a_typed_error_naming_the_field() {
    let e = Workload::new(-1.0, 180.0).unwrap_err();
    assert!(matches!(
        e,
        StaffingError::InvalidParameter {
            field: "arrival_rate",
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "arrival_rate must be a finite number >= 0, got -1"
    );
    assert!(matches!(
        Workload::new(f64::NAN, 1.0),
        Err(StaffingError::InvalidParameter {
            field: "arrival_rate",
            ..
        })
    ));
    assert!(matches!(
        Workload::new(1.0, 0.0),
        Err(StaffingError::InvalidParameter {
            field: "mean_handle_time",
            ..
        })
    ));
    assert!(matches!(
        Workload::per_interval(1.0, 0.0, 1.0),
        Err(StaffingError::InvalidParameter {
            field: "interval",
            ..
        })
    ));
    assert!(matches!(
        Workload::new(1e300, 1e300),
        Err(StaffingError::InvalidParameter {
            field: "offered_load",
            ..
        })
    ));
    // Public fields can bypass `new`; every entry point re-validates.
    let bad = Workload {
        arrival_rate: -3.0,
        mean_handle_time: 1.0,
    };
    assert!(ErlangC::new(bad, 3).is_err());
    assert!(ErlangA::new(bad, 3, 1.0).is_err());
    assert!(operators_needed(bad, ServiceTarget::new(1.0, 0.5).unwrap()).is_err());

    assert_eq!(erlang_b(0, 1.0), Err(StaffingError::ZeroOperators));
    assert_eq!(
        StaffingError::ZeroOperators.to_string(),
        "operators must be at least 1, got 0"
    );
    assert!(matches!(
        erlang_b(MAX_OPERATORS + 1, 1.0),
        Err(StaffingError::TooManyOperators { .. })
    ));
    assert!(matches!(
        erlang_b(3, -0.5),
        Err(StaffingError::InvalidParameter { field: "load", .. })
    ));
    let w = Workload::new(10.0, 1.0).unwrap();
    let e = ErlangC::new(w, 10).unwrap_err();
    assert_eq!(
        e,
        StaffingError::Overloaded {
            load: 10.0,
            operators: 10
        }
    );
    assert_eq!(
        e.to_string(),
        "erlang c needs an offered load below the operators: 10 erlangs with 10 operators"
    );
    assert!(matches!(
        erlang_c(2, 2.5),
        Err(StaffingError::Overloaded { .. })
    ));
    let q = ErlangC::new(w, 12).unwrap();
    assert!(matches!(
        q.service_level(-1.0),
        Err(StaffingError::InvalidParameter {
            field: "threshold",
            ..
        })
    ));
    for sl in [0.0, 1.0, -0.2, 1.5, f64::NAN] {
        assert!(matches!(
            ServiceTarget::new(20.0, sl),
            Err(StaffingError::InvalidParameter {
                field: "service_level",
                ..
            })
        ));
    }
    for cap in [0.0, 1.01, f64::NAN] {
        assert!(matches!(
            ServiceTarget::new(20.0, 0.8)
                .unwrap()
                .with_max_occupancy(cap),
            Err(StaffingError::InvalidParameter {
                field: "max_occupancy",
                ..
            })
        ));
    }
    assert!(matches!(
        ErlangA::new(w, 3, 0.0),
        Err(StaffingError::InvalidParameter {
            field: "mean_patience",
            ..
        })
    ));
    assert!(matches!(
        ErlangA::new(w, 3, f64::INFINITY),
        Err(StaffingError::InvalidParameter {
            field: "mean_patience",
            ..
        })
    ));
    // Demand beyond the largest team.
    assert!(matches!(
        operators_needed(
            Workload::new(2e6, 1.0).unwrap(),
            ServiceTarget::new(1.0, 0.8).unwrap()
        ),
        Err(StaffingError::TooManyOperators { .. })
    ));
}

#[cfg(feature = "serde")]
#[test]
fn targets_and_workloads_deserialise() {
    let t: ServiceTarget =
        serde_json::from_str(r#"{"threshold": 20, "service_level": 0.8}"#).unwrap();
    assert_eq!(t, ServiceTarget::new(20.0, 0.8).unwrap());
    let w: Workload =
        serde_json::from_str(r#"{"arrival_rate": 0.05, "mean_handle_time": 180}"#).unwrap();
    assert!(w.validate().is_ok());
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// More operators never raise P(wait) (Erlang B, C and A) nor lower the
    /// service level.
    #[test]
    fn more_operators_never_raise_waiting(load in 0.01f64..500.0, extra in 0u32..50, patience in 0.05f64..50.0) {
        let n = load.floor() as u32 + 1 + extra;
        let w = Workload::new(load, 1.0).unwrap();
        let c1 = ErlangC::new(w, n).unwrap();
        let c2 = ErlangC::new(w, n + 1).unwrap();
        prop_assert!(c2.probability_of_waiting() <= c1.probability_of_waiting() * (1.0 + 1e-12));
        prop_assert!(c2.service_level(0.1).unwrap() >= c1.service_level(0.1).unwrap() - 1e-12);
        prop_assert!(erlang_b(n + 1, load).unwrap() <= erlang_b(n, load).unwrap());
        let a1 = ErlangA::new(w, n, patience).unwrap();
        let a2 = ErlangA::new(w, n + 1, patience).unwrap();
        prop_assert!(a2.probability_of_waiting() <= a1.probability_of_waiting() * (1.0 + 1e-12));
        prop_assert!(a2.probability_of_abandonment() <= a1.probability_of_abandonment() * (1.0 + 1e-12));
    }

    /// Erlang A: probabilities in range, SL non-decreasing in t and bounded
    /// by 1 − P(wait) below and 1 − P(abandon) above.
    #[test]
    fn erlang_a_is_coherent(load in 0.01f64..300.0, n in 1u32..300, patience in 0.05f64..50.0, t in 0.0f64..5.0) {
        let q = ErlangA::new(Workload::new(load, 1.0).unwrap(), n, patience).unwrap();
        let (pw, pa) = (q.probability_of_waiting(), q.probability_of_abandonment());
        prop_assert!((0.0..=1.0).contains(&pw) && (0.0..=pw + 1e-12).contains(&pa));
        let sl = q.service_level(t).unwrap();
        let later = q.service_level(t + 0.5).unwrap();
        prop_assert!(sl >= 1.0 - pw - 1e-9 && sl <= 1.0 - pa + 1e-9);
        prop_assert!(later >= sl - 1e-9);
    }

    /// The search returns the smallest team that meets the target.
    #[test]
    fn operators_needed_is_minimal(load in 0.0f64..2000.0, t in 0.0f64..2.0, goal in 0.05f64..0.99, cap in proptest::option::of(0.5f64..1.0)) {
        let w = Workload::new(load, 1.0).unwrap();
        let mut target = ServiceTarget::new(t, goal).unwrap();
        if let Some(cap) = cap {
            target = target.with_max_occupancy(cap).unwrap();
        }
        let team = operators_needed(w, target).unwrap();
        let n = team.operators();
        prop_assert!(team.service_level(t).unwrap() >= goal);
        prop_assert!(team.occupancy() <= cap.unwrap_or(1.0));
        prop_assert_eq!(team, ErlangC::new(w, n).unwrap());
        if n > 1 {
            let fails = match ErlangC::new(w, n - 1) {
                Err(_) => true,
                Ok(smaller) => smaller.service_level(t).unwrap() < goal
                    || smaller.occupancy() > cap.unwrap_or(1.0),
            };
            prop_assert!(fails);
        }
    }
}

// ---------------------------------------------------------------- Erlang A search

/// Whether `n` operators meet `target` under Erlang A, from `ErlangA::new`
/// directly (the search's own check is not used).
fn erlang_a_meets(w: Workload, patience: f64, target: PatienceTarget, n: u32) -> bool {
    let q = ErlangA::new(w, n, patience).unwrap();
    target.max_occupancy.is_none_or(|cap| q.occupancy() <= cap)
        && target
            .max_abandonment
            .is_none_or(|p| q.probability_of_abandonment() <= p)
        && target
            .service_level
            .is_none_or(|sl| q.service_level(target.threshold).unwrap() >= sl)
}

/// The search's team meets the target, is exactly `ErlangA::new` of its
/// size, and one operator fewer does not meet it.
fn assert_minimal(w: Workload, patience: f64, target: PatienceTarget) -> u32 {
    let team = operators_needed_with_patience(w, patience, target).unwrap();
    let n = team.operators();
    assert_eq!(team, ErlangA::new(w, n, patience).unwrap());
    assert!(
        erlang_a_meets(w, patience, target, n),
        "{n} misses {target:?}"
    );
    assert!(
        n == 1 || !erlang_a_meets(w, patience, target, n - 1),
        "{} already meets {target:?}",
        n - 1
    );
    n
}

#[test]
fn erlang_a_search_returns_the_smallest_team() {
    let sl = PatienceTarget::answered_within(20.0, 0.8).unwrap();
    let cases = [
        // 10 erlangs (seconds), mean patience 2 minutes.
        (
            Workload::per_interval(100.0, 1800.0, 180.0).unwrap(),
            120.0,
            sl,
        ),
        // 18 erlangs with an abandonment cap as well.
        (
            Workload::new(18.0, 1.0).unwrap(),
            0.5,
            PatienceTarget::answered_within(0.05, 0.9)
                .unwrap()
                .with_max_abandonment(0.01)
                .unwrap(),
        ),
        // Occupancy cap binding on a light load.
        (
            Workload::new(3.0, 1.0).unwrap(),
            2.0,
            PatienceTarget::answered_within(0.1, 0.5)
                .unwrap()
                .with_max_occupancy(0.6)
                .unwrap(),
        ),
        // 1,000 erlangs.
        (
            Workload::per_interval(6000.0, 1800.0, 300.0).unwrap(),
            180.0,
            sl,
        ),
        // A tiny load: one operator suffices.
        (Workload::new(0.01, 1.0).unwrap(), 1.0, sl),
    ];
    let mut sizes = Vec::new();
    for (w, patience, target) in cases {
        sizes.push(assert_minimal(w, patience, target));
    }
    assert_eq!(sizes[4], 1);
    // Patience lets fewer operators meet a goal than Erlang C needs.
    let erlang_c = operators_needed(cases[0].0, ServiceTarget::new(20.0, 0.8).unwrap()).unwrap();
    assert!(sizes[0] <= erlang_c.operators());
}

/// With a patience far longer than any wait nobody abandons, and the
/// Erlang A answer is the Erlang C one.
#[test]
fn erlang_a_search_with_endless_patience_is_erlang_c() {
    let targets = [
        ServiceTarget::new(20.0, 0.8).unwrap(),
        ServiceTarget::new(20.0, 0.8)
            .unwrap()
            .with_max_occupancy(0.85)
            .unwrap(),
        ServiceTarget::new(60.0, 0.95).unwrap(),
    ];
    for w in [
        Workload::per_interval(100.0, 1800.0, 180.0).unwrap(),
        Workload::per_interval(37.0, 1800.0, 240.0).unwrap(),
        Workload::per_interval(900.0, 1800.0, 300.0).unwrap(),
    ] {
        for target in targets {
            let c = operators_needed(w, target).unwrap();
            let a = operators_needed_with_patience(w, 1e9, PatienceTarget::from(target)).unwrap();
            assert_eq!(a.operators(), c.operators(), "{w:?} {target:?}");
            assert!(a.probability_of_abandonment() < 1e-6);
        }
    }
}

#[test]
fn erlang_a_search_on_abandonment_alone() {
    // 20 erlangs, customers who give up after 30 s on average (5-minute
    // calls): at most 30 % abandoning needs fewer operators than the load.
    let w = Workload::new(20.0 / 300.0, 300.0).unwrap();
    let loose = PatienceTarget::abandoning_at_most(0.3).unwrap();
    let n = assert_minimal(w, 30.0, loose);
    assert!(n < 20, "{n}");
    // A tighter goal needs more, and every tighter goal is met by more.
    let mut previous = n;
    for p in [0.1, 0.05, 0.02, 0.005] {
        let m = assert_minimal(w, 30.0, PatienceTarget::abandoning_at_most(p).unwrap());
        assert!(m >= previous, "{p}: {m} < {previous}");
        previous = m;
    }
    assert!(previous > 20);
    // Abandoning at most 100 %: one operator is enough.
    let all = PatienceTarget::abandoning_at_most(1.0).unwrap();
    assert_eq!(
        operators_needed_with_patience(w, 30.0, all)
            .unwrap()
            .operators(),
        1
    );
    // No arrivals: one operator meets any target.
    let idle = Workload::new(0.0, 300.0).unwrap();
    let team = operators_needed_with_patience(idle, 30.0, loose).unwrap();
    assert_eq!(team.operators(), 1);
}

#[test]
fn erlang_a_search_refuses_bad_input() {
    let w = Workload::new(10.0, 1.0).unwrap();
    let target = PatienceTarget::answered_within(0.1, 0.8).unwrap();
    for patience in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            operators_needed_with_patience(w, patience, target),
            Err(StaffingError::InvalidParameter {
                field: "mean_patience",
                ..
            })
        ));
    }
    for sl in [0.0, 1.0, 1.5, -0.1, f64::NAN] {
        assert!(matches!(
            PatienceTarget::answered_within(0.1, sl),
            Err(StaffingError::InvalidParameter {
                field: "service_level",
                ..
            })
        ));
    }
    for t in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            PatienceTarget::answered_within(t, 0.8),
            Err(StaffingError::InvalidParameter {
                field: "threshold",
                ..
            })
        ));
    }
    for p in [0.0, -0.5, 1.01, f64::NAN] {
        assert!(matches!(
            PatienceTarget::abandoning_at_most(p),
            Err(StaffingError::InvalidParameter {
                field: "max_abandonment",
                ..
            })
        ));
        assert!(matches!(
            target.with_max_occupancy(p),
            Err(StaffingError::InvalidParameter {
                field: "max_occupancy",
                ..
            })
        ));
    }
    // Public fields can bypass the constructors; the search re-validates.
    let empty = PatienceTarget {
        threshold: 0.0,
        service_level: None,
        max_abandonment: None,
        max_occupancy: None,
    };
    assert_eq!(
        operators_needed_with_patience(w, 1.0, empty),
        Err(StaffingError::EmptyTarget)
    );
    let bad = PatienceTarget {
        service_level: Some(2.0),
        ..target
    };
    assert!(matches!(
        operators_needed_with_patience(w, 1.0, bad),
        Err(StaffingError::InvalidParameter {
            field: "service_level",
            ..
        })
    ));
    let bad_workload = Workload {
        arrival_rate: f64::NAN,
        mean_handle_time: 1.0,
    };
    assert!(operators_needed_with_patience(bad_workload, 1.0, target).is_err());
    // Demand beyond the largest team.
    assert!(matches!(
        operators_needed_with_patience(Workload::new(2e6, 1.0).unwrap(), 1.0, target),
        Err(StaffingError::TooManyOperators { .. })
    ));
}

/// Under heavy overload `1 − P(abandon)` cancels; occupancy comes from the
/// idle operators instead, so it never passes 1 nor rises with the team
/// (found by the property test below: 1.0000000000017 at 10 operators).
#[test]
fn erlang_a_occupancy_under_heavy_overload() {
    let w = Workload::new(281.282_385_248_091_94, 1.0).unwrap();
    let mut previous = f64::INFINITY;
    for n in 1..40 {
        let occ = ErlangA::new(w, n, 2.511_094_817_180_341_6)
            .unwrap()
            .occupancy();
        assert!(occ <= 1.0 && occ <= previous, "{n}: {occ} after {previous}");
        previous = occ;
    }
}

// ---------------------------------------------------------------- day plan

/// The smallest Erlang C team by trying every size from 1 with
/// `ErlangC::new` (independent of `operators_needed`).
fn erlang_c_scan(w: Workload, target: ServiceTarget) -> ErlangC {
    (1..)
        .filter_map(|n| ErlangC::new(w, n).ok())
        .find(|q| {
            q.service_level(target.threshold).unwrap() >= target.service_level
                && target.max_occupancy.is_none_or(|cap| q.occupancy() <= cap)
        })
        .unwrap()
}

/// The smallest Erlang A team by trying every size from 1 with `ErlangA::new`.
fn erlang_a_scan(w: Workload, patience: f64, target: PatienceTarget) -> ErlangA {
    let n = (1..)
        .find(|&n| erlang_a_meets(w, patience, target, n))
        .unwrap();
    ErlangA::new(w, n, patience).unwrap()
}

fn same(got: TeamMeasures, want: TeamMeasures) {
    assert_eq!(got.operators, want.operators);
    for (g, w) in [
        (got.service_level, want.service_level),
        (got.probability_of_waiting, want.probability_of_waiting),
        (got.mean_wait, want.mean_wait),
        (got.abandonment, want.abandonment),
        (got.occupancy, want.occupancy),
    ] {
        close(g, w, 1e-12);
    }
}

fn hand_made_plan() -> (Vec<Interval>, ServiceTarget, Patience, DayPlan) {
    let day = vec![
        Interval::new(480, 30, 0.0),
        Interval::new(510, 30, 42.0),
        Interval::new(540, 60, 240.0),
        Interval::new(660, 15, 310.5),
        Interval::new(675, 45, 0.0),
    ];
    let target = ServiceTarget::new(20.0, 0.8)
        .unwrap()
        .with_max_occupancy(0.85)
        .unwrap();
    let patience = Patience {
        mean: 180.0,
        target: PatienceTarget::from(target)
            .with_max_abandonment(0.04)
            .unwrap(),
    };
    let plan = plan_day(&day, 215.0, target, Some(patience)).unwrap();
    (day, target, patience, plan)
}

#[test]
fn day_plan_matches_erlang_c_and_a_interval_by_interval() {
    let (day, target, patience, plan) = hand_made_plan();
    assert_eq!(plan.rows().len(), day.len());
    let (mut hours_c, mut hours_a, mut contacts) = (0.0, 0.0, 0.0);
    for (row, interval) in plan.rows().iter().zip(&day) {
        assert_eq!(row.interval, *interval);
        let w = Workload::new(interval.arrival_rate_per_hour / 3600.0, 215.0).unwrap();
        close(row.offered_load, w.offered_load(), 0.0);
        let a = row.erlang_a.unwrap();
        if interval.arrival_rate_per_hour == 0.0 {
            // Nobody arrives: nobody is needed, nothing is missed.
            for m in [row.erlang_c, a] {
                assert_eq!(m.operators, 0);
                assert_eq!((m.service_level, m.occupancy), (1.0, 0.0));
                assert_eq!((m.probability_of_waiting, m.mean_wait), (0.0, 0.0));
                assert_eq!(m.abandonment, 0.0);
            }
            continue;
        }
        let c = erlang_c_scan(w, target);
        same(
            row.erlang_c,
            TeamMeasures {
                operators: c.operators(),
                service_level: c.service_level(20.0).unwrap(),
                probability_of_waiting: c.probability_of_waiting(),
                mean_wait: c.average_speed_of_answer(),
                abandonment: 0.0,
                occupancy: c.occupancy(),
            },
        );
        let q = erlang_a_scan(w, patience.mean, patience.target);
        same(
            a,
            TeamMeasures {
                operators: q.operators(),
                service_level: q.service_level(20.0).unwrap(),
                probability_of_waiting: q.probability_of_waiting(),
                mean_wait: q.mean_wait(),
                abandonment: q.probability_of_abandonment(),
                occupancy: q.occupancy(),
            },
        );
        let h = f64::from(interval.minutes) / 60.0;
        hours_c += f64::from(c.operators()) * h;
        hours_a += f64::from(q.operators()) * h;
        contacts += interval.arrival_rate_per_hour * h;
    }
    let totals = plan.totals();
    close(totals.operator_hours_erlang_c, hours_c, 1e-12);
    close(totals.operator_hours_erlang_a.unwrap(), hours_a, 1e-12);
    close(totals.contacts, contacts, 1e-9);
    let peak_c = plan.rows().iter().map(|r| r.erlang_c.operators).max();
    assert_eq!(Some(totals.peak_erlang_c), peak_c);
    assert!(totals.peak_erlang_c > 0);
    let peak_a = plan
        .rows()
        .iter()
        .map(|r| r.erlang_a.unwrap().operators)
        .max();
    assert_eq!(totals.peak_erlang_a, peak_a);
}

#[test]
fn day_plan_prints_a_table_and_csv() {
    let (day, target, _, plan) = hand_made_plan();
    let text = plan.to_string();
    assert!(text.contains("C: n") && text.contains("A: n"), "{text}");
    assert_eq!(text.lines().count(), 2 + day.len() + 1, "{text}");
    assert!(text.lines().nth(4).unwrap().starts_with("09:00"), "{text}");
    let totals = plan.totals();
    assert!(text.contains(&format!(
        "Erlang C {} operator-hours (peak {})",
        totals.operator_hours_erlang_c, totals.peak_erlang_c
    )));

    let csv = plan.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + day.len());
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header.len(), 16);
    for (line, row) in lines[1..].iter().zip(plan.rows()) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        let cell = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!(cell("start_minute"), row.interval.start_minute.to_string());
        // Numbers round-trip exactly.
        assert_eq!(
            cell("c_operators").parse::<u32>().unwrap(),
            row.erlang_c.operators
        );
        assert_eq!(
            cell("c_service_level").parse::<f64>().unwrap(),
            row.erlang_c.service_level
        );
        assert_eq!(
            cell("a_abandonment").parse::<f64>().unwrap(),
            row.erlang_a.unwrap().abandonment
        );
    }
    assert!(lines[3].starts_with("09:00,540,60,240,"), "{}", lines[3]);

    // Without a patience: no Erlang A anywhere, empty CSV columns.
    let plain = plan_day(&day, 215.0, target, None).unwrap();
    assert!(plain.rows().iter().all(|r| r.erlang_a.is_none()));
    assert_eq!(plain.totals().operator_hours_erlang_a, None);
    assert_eq!(
        plain.totals().operator_hours_erlang_c,
        totals.operator_hours_erlang_c
    );
    assert!(!plain.to_string().contains("A: n"));
    assert!(
        plain
            .to_csv()
            .lines()
            .skip(1)
            .all(|l| l.ends_with(",,,,,,"))
    );
}

#[test]
fn rate_profile_becomes_intervals_with_average_rates() {
    let rates =
        |v: Vec<Interval>| -> Vec<f64> { v.iter().map(|i| i.arrival_rate_per_hour).collect() };
    // A step inside an interval keeps the expected contacts: 15 min at 60
    // and 15 min at 240.
    let steps = [(0.0, 60.0), (9.25, 240.0)];
    let v = Interval::from_rate_profile(steps, 510, 600, 30).unwrap();
    assert_eq!(rates(v.clone()), [60.0, 150.0, 240.0]);
    assert_eq!(
        v.iter()
            .map(|i| (i.start_minute, i.minutes))
            .collect::<Vec<_>>(),
        [(510, 30), (540, 30), (570, 30)]
    );
    // A span that is not a multiple ends on a shorter interval.
    let v = Interval::from_rate_profile(steps, 540, 600, 45).unwrap();
    assert_eq!(
        v.iter()
            .map(|i| (i.start_minute, i.minutes))
            .collect::<Vec<_>>(),
        [(540, 45), (585, 15)]
    );
    // Before the day's first piece, the last one runs on from yesterday;
    // after midnight the profile repeats.
    let late = [(6.0, 100.0), (23.0, 50.0)];
    let v = Interval::from_rate_profile(late, 0, 60, 60).unwrap();
    assert_eq!(rates(v), [50.0]);
    let v = Interval::from_rate_profile(late, 1380, 1740, 60).unwrap();
    assert_eq!(rates(v), [50.0; 6]);
    // 05:30–06:30 and 06:30–07:30 on the second day.
    let v = Interval::from_rate_profile(late, 1410, 1890, 60).unwrap();
    assert_eq!(rates(v)[6..], [75.0, 100.0]);
}

/// A fitted simulator scenario feeds the plan through its rate pieces.
#[cfg(feature = "serde")]
#[test]
fn a_scenario_profile_feeds_the_day_plan() {
    let sc: switchboard::sim::scenario::Scenario =
        serde_json::from_str(include_str!("../../examples/scenarios/evening-drop.json")).unwrap();
    let start = (sc.start_hour * 60.0) as u32;
    let end = start + (sc.hours * 60.0) as u32;
    let pieces = sc.arrivals.iter().map(|p| (p.from_hour, p.per_hour));
    let day = Interval::from_rate_profile(pieces, start, end, 60).unwrap();
    assert_eq!(day.len(), 12);
    for (k, interval) in day.iter().enumerate() {
        let hour = sc.start_hour + k as f64;
        let want = sc
            .arrivals
            .iter()
            .rev()
            .find(|p| p.from_hour <= hour)
            .unwrap()
            .per_hour;
        assert_eq!(interval.arrival_rate_per_hour, want);
    }
    let target = ServiceTarget::new(20.0, 0.8).unwrap();
    let plan = plan_day(&day, 215.0, target, None).unwrap();
    let n: Vec<u32> = plan.rows().iter().map(|r| r.erlang_c.operators).collect();
    // Half the volume after 18:00 needs fewer operators.
    assert!(n[9] < n[8], "{n:?}");
}

#[test]
fn day_plan_refuses_bad_input_naming_the_interval() {
    let target = ServiceTarget::new(20.0, 0.8).unwrap();
    let ok = Interval::new(0, 30, 10.0);
    for (bad, field) in [
        (Interval::new(30, 30, -1.0), "arrival_rate_per_hour"),
        (Interval::new(30, 30, f64::NAN), "arrival_rate_per_hour"),
        (
            Interval::new(30, 30, f64::INFINITY),
            "arrival_rate_per_hour",
        ),
        (Interval::new(30, 0, 10.0), "minutes"),
        (Interval::new(15, 30, 10.0), "start_minute"),
    ] {
        let e = plan_day(&[ok, bad], 180.0, target, None).unwrap_err();
        match e {
            StaffingError::InvalidEntry {
                list: "intervals",
                index: 1,
                field: f,
                ..
            } => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        plan_day(&[ok, Interval::new(30, 30, -2.0)], 180.0, target, None)
            .unwrap_err()
            .to_string(),
        "intervals[1].arrival_rate_per_hour must be a finite number >= 0, got -2"
    );
    for aht in [0.0, -3.0, f64::NAN] {
        assert!(matches!(
            plan_day(&[ok], aht, target, None),
            Err(StaffingError::InvalidParameter {
                field: "mean_handle_time",
                ..
            })
        ));
    }
    for mean in [0.0, -1.0, f64::NAN] {
        let patience = Patience {
            mean,
            target: target.into(),
        };
        assert!(matches!(
            plan_day(&[ok], 180.0, target, Some(patience)),
            Err(StaffingError::InvalidParameter {
                field: "mean_patience",
                ..
            })
        ));
    }
    let bad_target = ServiceTarget {
        service_level: 1.2,
        ..target
    };
    assert!(matches!(
        plan_day(&[ok], 180.0, bad_target, None),
        Err(StaffingError::InvalidParameter {
            field: "service_level",
            ..
        })
    ));
    // An interval no team can staff says which one it is.
    let flood = Interval::new(30, 30, 1e10);
    match plan_day(&[ok, flood], 3600.0, target, None).unwrap_err() {
        StaffingError::InInterval { index: 1, source } => {
            assert!(matches!(*source, StaffingError::TooManyOperators { .. }))
        }
        other => panic!("{other:?}"),
    }
    // An empty day is an empty plan.
    let empty = plan_day(&[], 180.0, target, None).unwrap();
    assert!(empty.rows().is_empty());
    assert_eq!(empty.totals().operator_hours_erlang_c, 0.0);
}

#[test]
fn rate_profile_refuses_bad_pieces() {
    let piece_error = |pieces: Vec<(f64, f64)>| match Interval::from_rate_profile(pieces, 0, 60, 30)
        .unwrap_err()
    {
        StaffingError::InvalidEntry {
            list: "pieces",
            index,
            field,
            ..
        } => (index, field),
        other => panic!("{other:?}"),
    };
    assert_eq!(piece_error(vec![(0.0, 1.0), (24.0, 1.0)]), (1, "from_hour"));
    assert_eq!(piece_error(vec![(-1.0, 1.0)]), (0, "from_hour"));
    assert_eq!(piece_error(vec![(f64::NAN, 1.0)]), (0, "from_hour"));
    assert_eq!(piece_error(vec![(5.0, 1.0), (5.0, 2.0)]), (1, "from_hour"));
    assert_eq!(piece_error(vec![(5.0, 1.0), (4.0, 2.0)]), (1, "from_hour"));
    assert_eq!(piece_error(vec![(0.0, 1.0), (6.0, -1.0)]), (1, "per_hour"));
    assert_eq!(piece_error(vec![(0.0, f64::NAN)]), (0, "per_hour"));
    for (pieces, from, to, len, field) in [
        (vec![], 0, 60, 30, "pieces"),
        (vec![(0.0, 1.0)], 0, 60, 0, "interval_minutes"),
        (vec![(0.0, 1.0)], 60, 60, 30, "to_minute"),
        (vec![(0.0, 1.0)], 90, 60, 30, "to_minute"),
    ] {
        assert!(matches!(
            Interval::from_rate_profile(pieces, from, to, len),
            Err(StaffingError::InvalidParameter { field: f, .. }) if f == field
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The Erlang A search returns the smallest team meeting any mix of goals.
    #[test]
    fn operators_needed_with_patience_is_minimal(
        load in 0.0f64..300.0,
        patience in 0.05f64..20.0,
        t in 0.0f64..1.0,
        sl in proptest::option::of(0.05f64..0.99),
        ab in proptest::option::of(0.005f64..0.5),
        cap in proptest::option::of(0.5f64..1.0),
    ) {
        let target = PatienceTarget { threshold: t, service_level: sl, max_abandonment: ab, max_occupancy: cap };
        prop_assume!(target.validate().is_ok());
        let w = Workload::new(load, 1.0).unwrap();
        let team = operators_needed_with_patience(w, patience, target).unwrap();
        let n = team.operators();
        prop_assert!(erlang_a_meets(w, patience, target, n));
        prop_assert!(n == 1 || !erlang_a_meets(w, patience, target, n - 1));
    }

    /// Erlang A occupancy falls as the team grows (the search bisects on
    /// it), stays in [0, 1], and is the served load per operator.
    #[test]
    fn erlang_a_occupancy_falls_with_the_team(load in 0.01f64..300.0, n in 1u32..400, patience in 0.05f64..50.0) {
        let w = Workload::new(load, 1.0).unwrap();
        let small = ErlangA::new(w, n, patience).unwrap();
        let large = ErlangA::new(w, n + 1, patience).unwrap();
        prop_assert!(large.occupancy() <= small.occupancy() * (1.0 + 1e-12));
        prop_assert!((0.0..=1.0).contains(&small.occupancy()));
        let served = load * (1.0 - small.probability_of_abandonment()) / f64::from(n);
        prop_assert!((small.occupancy() - served).abs() <= 1e-9, "{} vs {served}", small.occupancy());
    }
}
