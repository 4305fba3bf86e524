//! Fitting a scenario from records (`sim::fit`): Kaplan–Meier against known
//! patience and against the naive mean, a hand-computed curve with ties,
//! handle-time family choice, exact arrival rates with their fallbacks, every
//! typed error, the scenario written back as JSON, and the real January 1999
//! bank month.

use switchboard::kpi::bank::{BankOptions, read_file};
use switchboard::kpi::{Ingest, IngestOptions, KpiConfig, Weekday};
use switchboard::record::ConversationRecord;
use switchboard::sim::dist::{DurationDist, Exponential, LogNormal};
use switchboard::sim::fit::{
    Criterion, Family, FitError, FitOptions, Fitted, ProfileDay, RateFallback, RateSource, Wait,
    fit_durations, fit_patience, fit_records, kaplan_meier,
};
use switchboard::sim::rng::Rng;
use switchboard::sim::scenario::Scenario;
use switchboard::{ChannelId, ConversationId, TierId, Timestamp};

const DAY_MS: u64 = 86_400_000;
/// 1999-01-04, a Monday, in days since the epoch.
const MONDAY: u64 = 10_595;

fn record(i: u64, channel: u32, asked_ms: u64) -> ConversationRecord {
    ConversationRecord::new(
        ConversationId(i),
        ChannelId(channel),
        TierId(1),
        Timestamp(asked_ms),
    )
}

fn mm20() -> Scenario {
    serde_json::from_str(include_str!("../../examples/scenarios/mm20.json")).expect("mm20 parses")
}

/// Customers with exponential patience (mean 120 s) served after an
/// exponential time (mean 60 s): two in three are served first, so their
/// patience is censored. Returns the records, handle times log-normal.
fn censored_customers(n: u64, seed: u64) -> Vec<ConversationRecord> {
    let mut rng = Rng::new(seed);
    let patience = Exponential::from_mean(120.0).expect("valid");
    let service_start = Exponential::from_mean(60.0).expect("valid");
    let handle = LogNormal::from_mean_cv(300.0, 0.8).expect("valid");
    let ms = |s: f64| (s * 1000.0).round() as u64;
    (0..n)
        .map(|i| {
            let asked = MONDAY * DAY_MS + i * 4_000;
            let mut r = record(i, 1, asked);
            let p = ms(patience.sample(&mut rng));
            let s = ms(service_start.sample(&mut rng));
            let h = ms(handle.sample(&mut rng)).max(1);
            if p < s {
                r.abandoned_at = Some(Timestamp(asked + p));
            } else {
                r.assigned_at = Some(Timestamp(asked + s));
                r.resolved_at = Some(Timestamp(asked + s + h));
            }
            r
        })
        .collect()
}

/// Three seeds, so one lucky stream cannot carry the comparison.
#[test]
fn kaplan_meier_and_censored_mle_beat_the_naive_mean() {
    for seed in [2026, 1, 2] {
        let records = censored_customers(20_000, seed);
        let report = fit_records(&records, &FitOptions::default()).expect("fits");
        let Fitted::Fit(p) = &report.patience else {
            panic!("20,000 waits are enough")
        };
        let true_mean = 120.0;
        let true_median = 120.0 * std::f64::consts::LN_2;
        let median = p.median_secs.expect("a third leave: the curve crosses 0.5");
        let mle_mean = p.exponential_mean_secs.expect("some left");
        let theta = p.theta_per_sec.expect("time was waited");
        let naive = p.naive_mean_secs.expect("some left");
        println!(
            "seed {seed}: KM median {median:.1} s (true {true_median:.1}), 1/θ {mle_mean:.1} s \
             (true {true_mean}), RMST {:.1} s to {:.0} s, naive {naive:.1} s, left {} of {}",
            p.restricted_mean_secs, p.horizon_secs, p.left, p.waits
        );
        assert_eq!(p.waits, 20_000);
        // P(leave first) = (1/120) / (1/120 + 1/60) = 1/3.
        assert!((p.left as f64 / 20_000.0 - 1.0 / 3.0).abs() < 0.015);
        assert!(
            (median - true_median).abs() / true_median < 0.06,
            "{median}"
        );
        assert!(
            (mle_mean - true_mean).abs() / true_mean < 0.05,
            "{mle_mean}"
        );
        assert!((theta * true_mean - 1.0).abs() < 0.05);
        // The naive mean sees only the impatient: E[P | P < S] = 40 s.
        assert!((naive - 40.0).abs() < 3.0, "{naive}");
        let naive_err = (naive - true_mean).abs();
        assert!((mle_mean - true_mean).abs() * 5.0 < naive_err);
        assert!((median - true_median).abs() * 5.0 < (naive - true_median).abs());
        // The curve is a non-increasing step function from 1.
        assert!(p.curve.windows(2).all(|w| w[1].survival <= w[0].survival));
        assert!(p.curve.windows(2).all(|w| w[0].at_secs < w[1].at_secs));
    }
}

#[test]
fn kaplan_meier_by_hand_with_a_tie() {
    let w = |secs, left| Wait { secs, left };
    // Input order shuffled; at 3 s one leaves and one is censored.
    let waits = [
        w(7.0, true),
        w(3.0, false),
        w(2.0, true),
        w(8.0, false),
        w(3.0, true),
        w(5.0, false),
    ];
    let curve = kaplan_meier(&waits);
    let got: Vec<(f64, u64, u64, u64)> = curve
        .iter()
        .map(|s| (s.at_secs, s.at_risk, s.events, s.censored))
        .collect();
    assert_eq!(
        got,
        [
            (2.0, 6, 1, 0),
            (3.0, 5, 1, 1),
            (5.0, 3, 0, 1),
            (7.0, 2, 1, 0),
            (8.0, 1, 0, 1)
        ]
    );
    let s: Vec<f64> = curve.iter().map(|s| s.survival).collect();
    let expected = [5.0 / 6.0, 2.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0];
    for (a, b) in s.iter().zip(expected) {
        assert!((a - b).abs() < 1e-12, "{s:?}");
    }
    // Censoring first at the tie would give 5/6 · 3/4 = 5/8 at 3 s.
    assert!((s[1] - 5.0 / 8.0).abs() > 0.04);

    let Fitted::Fit(p) = fit_patience(&waits, 6) else {
        panic!("six waits, six needed")
    };
    assert_eq!((p.waits, p.left, p.censored), (6, 3, 3));
    assert_eq!(p.median_secs, Some(7.0));
    // 2·1 + 1·5/6 + 2·2/3 + 2·2/3 + 1·1/3 = 35/6.
    assert!((p.restricted_mean_secs - 35.0 / 6.0).abs() < 1e-12);
    assert_eq!(p.horizon_secs, 8.0);
    assert!((p.theta_per_sec.unwrap() - 3.0 / 28.0).abs() < 1e-15);
    assert!((p.exponential_mean_secs.unwrap() - 28.0 / 3.0).abs() < 1e-12);
    assert_eq!(p.naive_mean_secs, Some(4.0));

    assert_eq!(fit_patience(&waits, 7), Fitted::TooFew { n: 6, needed: 7 });
    assert_eq!(fit_patience(&[], 0), Fitted::TooFew { n: 0, needed: 1 });
    // Nobody left: no median, no mean, θ = 0.
    let Fitted::Fit(none) = fit_patience(&[w(5.0, false), w(9.0, false)], 1) else {
        panic!("two waits")
    };
    assert_eq!((none.median_secs, none.exponential_mean_secs), (None, None));
    assert_eq!(none.theta_per_sec, Some(0.0));
    assert_eq!(none.restricted_mean_secs, 9.0);
}

#[test]
fn handle_time_family_is_chosen_from_the_data() {
    let mut rng = Rng::new(11);
    let ln = LogNormal::from_mean_cv(300.0, 0.8).unwrap();
    let ex = Exponential::from_mean(180.0).unwrap();
    let ln_sample: Vec<f64> = (0..5_000).map(|_| ln.sample(&mut rng)).collect();
    let ex_sample: Vec<f64> = (0..5_000).map(|_| ex.sample(&mut rng)).collect();

    for criterion in [Criterion::Aic, Criterion::Ks] {
        let f = fit_durations(&ln_sample, criterion, 30);
        let f = f.fit().expect("5,000 durations");
        println!(
            "log-normal sample: KS ln {:.4} exp {:.4}, AIC ln {:.0} exp {:.0}",
            f.log_normal.ks, f.exponential.ks, f.log_normal.aic, f.exponential.aic
        );
        assert_eq!(f.chosen, Family::LogNormal);
        assert!(f.log_normal.ks < f.exponential.ks / 2.0);
        assert!(f.log_normal.aic < f.exponential.aic);
        assert!((f.log_normal.mean_secs - 300.0).abs() / 300.0 < 0.03);
        assert!((f.log_normal.cv - 0.8).abs() < 0.04);
        let DurationDist::LogNormal { mean_secs, cv } = f.dist else {
            panic!("log-normal chosen")
        };
        assert_eq!((mean_secs, cv), (f.log_normal.mean_secs, f.log_normal.cv));

        let f = fit_durations(&ex_sample, criterion, 30);
        let f = f.fit().expect("5,000 durations");
        println!(
            "exponential sample: KS ln {:.4} exp {:.4}, AIC ln {:.0} exp {:.0}",
            f.log_normal.ks, f.exponential.ks, f.log_normal.aic, f.exponential.aic
        );
        assert_eq!(f.chosen, Family::Exponential);
        assert!(f.exponential.ks < f.log_normal.ks);
        assert!(f.exponential.aic < f.log_normal.aic);
        assert!((f.exponential.mean_secs - 180.0).abs() / 180.0 < 0.03);
        assert_eq!(
            f.dist,
            DurationDist::Exponential {
                mean_secs: f.sample_mean_secs
            }
        );
    }

    // Through records: channel 1 log-normal, channel 2 exponential, and
    // zero handle times counted, not fitted.
    let mut records = Vec::new();
    for (i, (&a, &b)) in ln_sample.iter().zip(&ex_sample).enumerate() {
        let i = i as u64;
        for (k, (channel, secs)) in [(1, a), (2, b)].into_iter().enumerate() {
            let asked = MONDAY * DAY_MS + i * 10_000 + k as u64;
            let mut r = record(2 * i + k as u64, channel, asked);
            r.assigned_at = Some(Timestamp(asked));
            r.resolved_at = Some(Timestamp(asked + (secs * 1000.0).round().max(1.0) as u64));
            records.push(r);
        }
    }
    let mut zero = record(99_999, 2, MONDAY * DAY_MS);
    zero.assigned_at = Some(zero.asked_at);
    zero.resolved_at = Some(zero.asked_at);
    records.push(zero);
    let report = fit_records(&records, &FitOptions::default()).unwrap();
    let groups: Vec<_> = report
        .handle_time_by_key
        .iter()
        .map(|g| (g.channel, g.served, g.zero, g.fit.fit().map(|f| f.chosen)))
        .collect();
    assert_eq!(
        groups,
        [
            (ChannelId(1), 5_000, 0, Some(Family::LogNormal)),
            (ChannelId(2), 5_001, 1, Some(Family::Exponential)),
        ]
    );
    assert_eq!(report.skipped.handle_zero, 1);
    assert_eq!(
        fit_durations(&[1.0, 0.0, f64::NAN, -3.0], Criterion::Aic, 2),
        Fitted::TooFew { n: 1, needed: 2 }
    );
}

/// Two weeks from Monday 1999-01-04 to Sunday 1999-01-17: twelve asks each
/// Monday 09:00–09:30, three on the first Tuesday in that half hour, one on
/// the last Sunday at 23:45 (which ends the span).
fn two_weeks() -> Vec<ConversationRecord> {
    let mut v = Vec::new();
    let mut i = 0;
    let mut ask = |day: u64, secs_of_day: u64| {
        i += 1;
        record(i, 1, (MONDAY + day) * DAY_MS + secs_of_day * 1000)
    };
    for week in 0..2 {
        for k in 0..12 {
            v.push(ask(7 * week, 9 * 3600 + k * 120));
        }
    }
    for k in 0..3 {
        v.push(ask(1, 9 * 3600 + 60 + k));
    }
    v.push(ask(13, 23 * 3600 + 45 * 60));
    v
}

#[test]
fn arrival_rates_are_exact_and_fallbacks_explicit() {
    let records = two_weeks();
    let options = FitOptions {
        interval_minutes: 30,
        min_asks: 10,
        rate_fallback: RateFallback::PooledOverWeekdays,
        ..FitOptions::default()
    };
    let report = fit_records(&records, &options).unwrap();
    let a = &report.arrivals;
    assert_eq!(
        (a.first_day, a.days, a.days_by_weekday),
        (MONDAY, 14, [2; 7])
    );
    assert_eq!(a.by_weekday.len(), 7 * 48);
    let monday = a.profile(ProfileDay::Weekday(Weekday::Monday));
    let nine = &monday[18];
    assert_eq!(
        (nine.weekday, nine.start_minute),
        (Some(Weekday::Monday), 540)
    );
    // 24 asks over 2 Mondays × 0.5 h.
    assert_eq!((nine.asks, nine.own.clone()), (24, Fitted::Fit(24.0)));
    assert_eq!((nine.per_hour, nine.source), (Some(24.0), RateSource::Own));

    let tuesday = &a.profile(ProfileDay::Weekday(Weekday::Tuesday))[18];
    assert_eq!(tuesday.asks, 3);
    assert_eq!(tuesday.own, Fitted::TooFew { n: 3, needed: 10 });
    // 27 asks over 14 days × 0.5 h.
    assert_eq!(tuesday.source, RateSource::PooledOverWeekdays);
    assert_eq!(tuesday.per_hour, Some(27.0 / 7.0));
    let pooled = &a.profile(ProfileDay::AllDays)[18];
    assert_eq!((pooled.asks, pooled.per_hour), (27, Some(27.0 / 7.0)));
    // Sunday 23:30: one ask, pooled also short, marked so.
    let late = &a.profile(ProfileDay::Weekday(Weekday::Sunday))[47];
    assert_eq!(late.source, RateSource::PooledBelowMinimum);
    assert_eq!(late.per_hour, Some(1.0 / 7.0));

    // Own counts below the minimum, marked.
    let own = FitOptions {
        rate_fallback: RateFallback::OwnBelowMinimum,
        ..options
    };
    let a = fit_records(&records, &own).unwrap().arrivals;
    let tuesday = &a.profile(ProfileDay::Weekday(Weekday::Tuesday))[18];
    assert_eq!(
        (tuesday.per_hour, tuesday.source),
        (Some(3.0), RateSource::OwnBelowMinimum)
    );

    // No fallback: no rate, and the scenario refuses the profile.
    let none = FitOptions {
        rate_fallback: RateFallback::None,
        min_handle_times: 0,
        min_waits: 0,
        profile_day: ProfileDay::Weekday(Weekday::Monday),
        ..options
    };
    let report = fit_records(&records, &none).unwrap();
    let tuesday = &report
        .arrivals
        .profile(ProfileDay::Weekday(Weekday::Tuesday))[18];
    assert_eq!((tuesday.per_hour, tuesday.source), (None, RateSource::None));
    match report.to_scenario(&mm20()) {
        Err(FitError::NoRate {
            day,
            start_minute,
            asks,
            fallback,
        }) => assert_eq!(
            (day.as_str(), start_minute, asks, fallback),
            ("Monday", 0, 0, "none")
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fitted_scenario_round_trips_as_json() {
    let records = censored_customers(5_000, 7);
    let options = FitOptions {
        interval_minutes: 15,
        min_asks: 0,
        ..FitOptions::default()
    };
    let report = fit_records(&records, &options).unwrap();
    let scenario = report.to_scenario(&mm20()).unwrap();
    scenario.validate().expect("a runnable scenario");
    assert_eq!(scenario.arrivals.len(), 96);
    assert_eq!(scenario.arrivals[4].from_hour, 1.0);
    // 5,000 asks 4 s apart from midnight: 225 per 15 min = 900 per hour.
    assert_eq!(scenario.arrivals[0].per_hour, 900.0);
    assert!(matches!(
        scenario.handle_time,
        DurationDist::LogNormal { .. }
    ));
    let Some(DurationDist::Exponential { mean_secs }) = scenario.patience else {
        panic!("patience fitted: {:?}", scenario.patience)
    };
    assert!((mean_secs - 120.0).abs() < 12.0);
    assert_eq!(scenario.channels.len(), 1);
    assert_eq!(scenario.leave_message_share, 0.0);
    let json = serde_json::to_string_pretty(&scenario).unwrap();
    assert!(json.contains("\"log_normal\""));
    let back: Scenario = serde_json::from_str(&json).unwrap();
    assert_eq!(back, scenario);
    // The report prints too.
    let printed = serde_json::to_string(&report).unwrap();
    assert!(printed.contains("\"pooled_over_weekdays\""));
}

#[test]
fn messages_are_shares_of_arrivals_and_of_leavers() {
    let mut v = Vec::new();
    for i in 0..10 {
        let mut r = record(i, if i < 6 { 1 } else { 2 }, MONDAY * DAY_MS + i * 1000);
        match i {
            0 | 1 | 6 => {
                r.message_left = true;
                r.abandoned_at = Some(Timestamp(r.asked_at.0 + 30_000));
            }
            2 => r.abandoned_at = Some(Timestamp(r.asked_at.0 + 10_000)),
            7 => r.message_left = true,
            _ => {}
        }
        v.push(r);
    }
    let report = fit_records(&v, &FitOptions::default()).unwrap();
    let by: Vec<_> = report
        .messages_by_channel
        .iter()
        .map(|m| (m.channel, m.arrivals, m.messages, m.abandoned))
        .collect();
    assert_eq!(
        by,
        [(Some(ChannelId(1)), 6, 2, 1), (Some(ChannelId(2)), 4, 2, 0)]
    );
    assert_eq!(report.messages_by_channel[0].share_of_arrivals, 2.0 / 6.0);
    assert_eq!(report.messages_by_channel[1].share_of_arrivals, 0.5);
    assert_eq!(report.messages.share_of_leavers, Some(0.8));
    // The message without a time and the pending ones are counted, not lost.
    assert_eq!(report.skipped.wait_message_without_time, 1);
    assert_eq!(report.skipped.wait_pending, 5);
    assert_eq!(report.skipped.handle_unassigned, 10);
    let ch: Vec<_> = report.channels.iter().map(|w| (w.value, w.p)).collect();
    assert_eq!(ch, [(ChannelId(1), 0.6), (ChannelId(2), 0.4)]);
}

#[test]
fn bad_input_is_a_typed_error() {
    let o = FitOptions::default();
    assert_eq!(fit_records(&[], &o), Err(FitError::Empty));
    let r = record(5, 1, 1_000_000);
    for minutes in [0, 7, 1441] {
        let bad = FitOptions {
            interval_minutes: minutes,
            ..o
        };
        assert_eq!(
            fit_records(std::slice::from_ref(&r), &bad),
            Err(FitError::IntervalMinutes(minutes))
        );
    }
    let day = FitOptions {
        interval_minutes: 1440,
        ..o
    };
    assert!(fit_records(std::slice::from_ref(&r), &day).is_ok());

    fn at(ms: u64) -> Option<Timestamp> {
        Some(Timestamp(ms))
    }
    type Spoil = fn(&mut ConversationRecord);
    let cases: [(Spoil, &str, &str); 4] = [
        (|r| r.assigned_at = at(999_999), "assigned_at", "asked_at"),
        (|r| r.abandoned_at = at(0), "abandoned_at", "asked_at"),
        (|r| r.resolved_at = at(1), "resolved_at", "asked_at"),
        (
            |r| {
                r.assigned_at = at(2_000_000);
                r.resolved_at = at(1_500_000);
            },
            "resolved_at",
            "assigned_at",
        ),
    ];
    for (spoil, field, before) in cases {
        let mut bad = r.clone();
        spoil(&mut bad);
        let got = fit_records(&[r.clone(), bad], &o);
        assert_eq!(
            got,
            Err(FitError::OutOfOrder {
                index: 1,
                conversation: ConversationId(5),
                field,
                before
            })
        );
        assert!(got.unwrap_err().to_string().contains(field));
    }

    // The scenario needs a handle time, a patience and declared ids.
    let lenient = FitOptions { min_asks: 0, ..o };
    let report = fit_records(std::slice::from_ref(&r), &lenient).unwrap();
    assert_eq!(
        report.to_scenario(&mm20()),
        Err(FitError::TooFew {
            what: "handle_time",
            n: 0,
            needed: 30
        })
    );
    let mut served = censored_customers(200, 3);
    let report = fit_records(&served, &lenient).unwrap();
    assert!(report.to_scenario(&mm20()).is_ok());
    served[0].channel = ChannelId(9);
    let report = fit_records(&served, &lenient).unwrap();
    assert_eq!(
        report.to_scenario(&mm20()),
        Err(FitError::Undeclared {
            field: "channels",
            what: ChannelId(9).to_string()
        })
    );
    let few = FitOptions {
        min_waits: 1_000,
        min_handle_times: 1,
        ..lenient
    };
    let report = fit_records(&served[..50], &few).unwrap();
    assert!(matches!(
        report.to_scenario(&mm20()),
        Err(FitError::TooFew {
            what: "patience",
            n: 50,
            needed: 1_000
        })
    ));
}

/// The real January 1999 bank month, if it is next to the repository.
#[test]
fn january_bank_month_fits_sensibly() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/anonymous-bank-1999");
    let path = dir.join("anonymous_bank_1999-01_january.txt");
    if !dir.is_dir() {
        println!("skipped: {} is absent", dir.display());
        return;
    }
    let options = IngestOptions {
        skip_bad_rows: false,
        detect_duplicates: true,
        strict_order: false,
    };
    let mut ing = Ingest::new(KpiConfig::default(), options).unwrap();
    let got = read_file(&path, BankOptions::default(), &mut ing).expect("January reads");
    let report = fit_records(&got.records, &FitOptions::default()).expect("January fits");
    let a = &report.arrivals;
    assert_eq!(a.days, 31);
    // Sunday to Thursday are the bank's working days; 10:00–11:00 is busy.
    for w in [
        Weekday::Sunday,
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
    ] {
        let ten = &a.profile(ProfileDay::Weekday(w))[10];
        println!("{w:?} 10:00: {} asks, {:?}/h", ten.asks, ten.per_hour);
        assert_eq!(ten.source, RateSource::Own);
        assert!(ten.per_hour.unwrap() > 10.0);
    }
    let fallbacks = a
        .by_weekday
        .iter()
        .filter(|r| r.source != RateSource::Own)
        .count();
    println!(
        "{fallbacks} of {} weekday cells fell back",
        a.by_weekday.len()
    );

    let Fitted::Fit(p) = &report.patience else {
        panic!("thousands of waits")
    };
    let theta = p.theta_per_sec.unwrap();
    println!(
        "patience: θ {theta:.6}/s (1/θ {:.1} s), KM median {:?} s, RMST {:.1} s to {} s, \
         naive {:?} s, {} left of {} waits",
        1.0 / theta,
        p.median_secs,
        p.restricted_mean_secs,
        p.horizon_secs,
        p.naive_mean_secs,
        p.left,
        p.waits
    );
    assert!(theta.is_finite() && theta > 0.0);
    assert!(p.exponential_mean_secs.unwrap() > p.naive_mean_secs.unwrap());

    let Fitted::Fit(h) = &report.handle_time else {
        panic!("thousands served")
    };
    println!(
        "handle time: n {}, sample mean {:.1} s, chose {:?}; exp KS {:.4} AIC {:.0}; \
         log-normal KS {:.4} AIC {:.0} (mean {:.1} s, cv {:.2}); skipped {:?}",
        h.n,
        h.sample_mean_secs,
        h.chosen,
        h.exponential.ks,
        h.exponential.aic,
        h.log_normal.ks,
        h.log_normal.aic,
        h.log_normal.mean_secs,
        h.log_normal.cv,
        report.skipped
    );
    assert!((h.dist.mean_secs() - h.sample_mean_secs).abs() / h.sample_mean_secs < 0.05);
    for g in &report.handle_time_by_key {
        if let Fitted::Fit(f) = &g.fit {
            println!(
                "  {} {}: n {}, {:?}, KS exp {:.4} ln {:.4}",
                g.channel, g.tier, f.n, f.chosen, f.exponential.ks, f.log_normal.ks
            );
        }
    }
    assert_eq!(report.records, got.records.len() as u64);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn maybe(asked: u64) -> impl Strategy<Value = Option<Timestamp>> {
        // Mostly consistent (at or after `asked`); now and then anything, so
        // both reports and errors are exercised.
        prop_oneof![
            10 => Just(None),
            30 => (0u64..600_000).prop_map(move |d| Some(Timestamp(asked.saturating_add(d)))),
            1 => any::<u64>().prop_map(|t| Some(Timestamp(t))),
        ]
    }

    fn any_record() -> impl Strategy<Value = ConversationRecord> {
        (
            prop_oneof![0u64..40 * DAY_MS, any::<u64>()],
            0u32..3,
            0u32..3,
            any::<bool>(),
        )
            .prop_flat_map(|(asked, channel, tier, message_left)| {
                (maybe(asked), maybe(asked), maybe(asked)).prop_map(
                    move |(assigned_at, resolved_at, abandoned_at)| {
                        // Resolved after the assignment, as offsets from it.
                        let resolved_at = match (assigned_at, resolved_at) {
                            (Some(a), Some(z)) if z.0 >= asked => {
                                Some(Timestamp(a.0.saturating_add(z.0 - asked)))
                            }
                            (_, z) => z,
                        };
                        let mut r = record(0, channel, asked);
                        r.tier = TierId(tier);
                        r.message_left = message_left;
                        r.assigned_at = assigned_at;
                        r.resolved_at = resolved_at;
                        r.abandoned_at = abandoned_at;
                        r
                    },
                )
            })
    }

    /// Any records and interval: an error that says what is wrong, or a
    /// report in which every record is an arrival and is used or counted by
    /// every estimate. At least a quarter of the cases must reach a report.
    #[test]
    fn any_input_fits_or_errs_and_loses_nothing() {
        let config = ProptestConfig {
            cases: 200,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let reports = std::cell::Cell::new(0u32);
        let strategy = (
            proptest::collection::vec(any_record(), 0..25),
            prop_oneof![Just(15u32), Just(60), 0u32..100],
            0u64..5,
        );
        let mut runner = proptest::test_runner::TestRunner::new(config);
        let result = runner.run(&strategy, |(records, interval, min)| {
            let options = FitOptions {
                interval_minutes: interval,
                min_asks: min,
                min_handle_times: min,
                min_waits: min,
                ..FitOptions::default()
            };
            let report = match fit_records(&records, &options) {
                Ok(report) => report,
                Err(FitError::Empty) => {
                    prop_assert!(records.is_empty());
                    return Ok(());
                }
                Err(FitError::IntervalMinutes(m)) => {
                    prop_assert!(m == 0 || 1440 % m != 0);
                    return Ok(());
                }
                Err(FitError::OutOfOrder { index, .. }) => {
                    prop_assert!(index < records.len());
                    return Ok(());
                }
                Err(e) => {
                    prop_assert!(false, "fit_records never returns {e}");
                    return Ok(());
                }
            };
            reports.set(reports.get() + 1);
            let n = records.len() as u64;
            prop_assert_eq!(report.records, n);
            prop_assert_eq!(
                report.arrivals.pooled.iter().map(|r| r.asks).sum::<u64>(),
                n
            );
            prop_assert_eq!(
                report
                    .arrivals
                    .by_weekday
                    .iter()
                    .map(|r| r.asks)
                    .sum::<u64>(),
                n
            );
            let s = report.skipped;
            let handled: u64 = report
                .handle_time_by_key
                .iter()
                .map(|g| g.served - g.zero)
                .sum();
            prop_assert_eq!(
                handled + s.handle_zero + s.handle_unassigned + s.handle_unresolved,
                n
            );
            let waits = match &report.patience {
                Fitted::Fit(p) => p.waits,
                Fitted::TooFew { n, .. } => *n,
            };
            prop_assert_eq!(waits + s.wait_pending + s.wait_message_without_time, n);
            let p: f64 = report.channels.iter().map(|w| w.p).sum();
            prop_assert!((p - 1.0).abs() < 1e-9);
            let _ = report.to_scenario(&mm20());
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        assert!(
            reports.get() >= 50,
            "only {} reports in 200 cases",
            reports.get()
        );
    }
}
