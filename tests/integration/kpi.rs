//! KPI calculators: hand-checked metrics, bad input, merge laws, encoding, sketch bound.

use std::collections::BTreeMap;

use proptest::prelude::*;
use switchboard::kpi::csv::{CsvReader, RecordCsvWriter, read_csv, write_operator_table_csv};
use switchboard::kpi::{
    Activity, BusinessHours, Calendar, CivilDate, ConversationRecord, DurationStats, Ingest,
    IngestOptions, KpiAccumulator, KpiConfig, KpiError, KpiReport, OpenInterval, Period,
    PeriodAnchor, RELATIVE_ACCURACY, SkipReason, StatusInterval, Weekday,
};
use switchboard::{
    ChannelId, ConversationId, Millis, OperatorId, QueueId, TeamId, TierId, Timestamp,
};

const S: u64 = 1000;

fn rec(id: u64, ask: u64) -> ConversationRecord {
    ConversationRecord::new(ConversationId(id), ChannelId(1), TierId(1), Timestamp(ask))
}

fn answered(id: u64, ask: u64, wait: u64, frt: u64, handle: Option<u64>) -> ConversationRecord {
    let mut r = rec(id, ask);
    r.assigned_at = Some(Timestamp(ask + wait));
    r.first_response_at = Some(Timestamp(ask + frt));
    r.resolved_at = handle.map(|h| Timestamp(ask + wait + h));
    r
}

fn abandoned(id: u64, ask: u64, after: u64) -> ConversationRecord {
    let mut r = rec(id, ask);
    r.abandoned_at = Some(Timestamp(ask + after));
    r
}

fn report(cfg: KpiConfig, recs: &[ConversationRecord]) -> KpiReport {
    let mut acc = KpiAccumulator::new(cfg).expect("config");
    for r in recs {
        acc.push(r).expect("valid record");
    }
    acc.report()
}

fn ratio(r: &switchboard::kpi::Rate) -> (u64, u64) {
    (r.numerator, r.denominator)
}

/// The worked example of the `switchboard::kpi` module docs: N = 100, A = 80 (A_T = 60), B = 15
/// (B_T = 6, B_S = 4), M = 5 (M_T = 3), H = 80, T = 20 s, S = 5 s.
fn worked_example() -> Vec<ConversationRecord> {
    let mut v = Vec::new();
    let mut id = 0;
    let mut next = || {
        id += 1;
        id
    };
    for i in 0..80 {
        let wait = if i < 60 { 20 * S } else { 20 * S + 1 };
        v.push(answered(next(), 1_000_000, wait, wait + S, Some(60 * S)));
    }
    for i in 0..15 {
        let after = match i {
            0..4 => 5 * S, // short and within T
            4..6 => 6 * S, // within T, not short
            _ => 21 * S,   // late
        };
        v.push(abandoned(next(), 1_000_000, after));
    }
    for i in 0..5 {
        let mut r = rec(next(), 1_000_000);
        r.message_left = true;
        r.abandoned_at = Some(Timestamp(1_000_000 + if i < 3 { 10 * S } else { 30 * S }));
        v.push(r);
    }
    v
}

#[test]
fn worked_example_abandonment_variants() {
    let cfg = KpiConfig {
        short_abandon: Some(Millis(5 * S)),
        ..KpiConfig::default()
    };
    let r = report(cfg, &worked_example()).overall;
    assert_eq!(
        (r.offered, r.answered, r.abandoned, r.messages_left),
        (100, 80, 15, 5)
    );
    assert_eq!((r.handled, r.short_abandoned, r.pending), (80, 4, 0));
    let a = r.abandonment;
    assert_eq!(ratio(&a.per_handled), (15, 80));
    assert_eq!(
        a.per_handled.percent().map(|p| (p * 100.0).round()),
        Some(1875.0)
    );
    assert_eq!(ratio(&a.per_offered), (15, 100));
    assert_eq!(ratio(&a.per_answered_and_abandoned), (15, 95));
    assert_eq!(
        a.short_excluded_per_offered.map(|r| ratio(&r)),
        Some((11, 96))
    );
    assert_eq!(
        a.short_excluded_per_answered_and_abandoned
            .map(|r| ratio(&r)),
        Some((11, 91))
    );
    // 11/96 = 11.46 % as in the guide's table.
    let d = a
        .short_excluded_per_offered
        .and_then(|r| r.percent())
        .unwrap_or(0.0);
    assert!((d - 11.458).abs() < 0.01, "{d}");
}

#[test]
fn worked_example_service_level_variants() {
    let cfg = KpiConfig {
        short_abandon: Some(Millis(5 * S)),
        ..KpiConfig::default()
    };
    let r = report(cfg, &worked_example()).overall;
    let sl = &r.service_levels[0];
    assert_eq!(sl.threshold, Millis(20 * S));
    assert_eq!(
        (
            sl.answered_within,
            sl.abandoned_within,
            sl.message_left_within
        ),
        (60, 6, 3)
    );
    assert_eq!(ratio(&sl.answered_only), (60, 80));
    assert_eq!(ratio(&sl.abandons_within_pass), (66, 95));
    assert_eq!(ratio(&sl.left_queue_within), (69, 100));
    assert_eq!(ratio(&sl.abandons_within_excluded), (60, 89));
    assert_eq!(
        sl.short_abandons_excluded.map(|r| ratio(&r)),
        Some((60, 91))
    );
    assert_eq!(ratio(&sl.default), (60, 95));
    assert_eq!(ratio(&sl.with_messages_left), (60, 100));
    assert_eq!(ratio(&r.response_rate), (80, 100));
    let pct = sl.default.percent().unwrap_or(0.0);
    assert!((pct - 63.16).abs() < 0.01, "{pct}");
    // FRT = wait + 1 s, so even the 60 on-time answers have FRT 21 s: none within 20 s.
    assert_eq!(ratio(&sl.first_response_within), (0, 80));
    // Without a short-abandon threshold the D variants are absent.
    let r = report(KpiConfig::default(), &worked_example()).overall;
    assert_eq!(r.abandonment.short_excluded_per_offered, None);
    assert_eq!(r.service_levels[0].short_abandons_excluded, None);
    assert_eq!(r.short_abandoned, 0);
}

#[test]
fn durations_hand_checked() {
    // Waits 10, 20, 30, 40 s; FRT 15, 25, 35, 45 s; handle 100, 300 s (two resolved).
    let recs = vec![
        answered(1, 0, 10 * S, 15 * S, Some(100 * S)),
        answered(2, 1, 20 * S, 25 * S, None),
        answered(3, 2, 30 * S, 35 * S, Some(300 * S)),
        answered(4, 3, 40 * S, 45 * S, None),
    ];
    let r = report(KpiConfig::default(), &recs).overall;
    assert_eq!(r.wait.count, 4);
    assert_eq!(r.wait.mean_ms, Some(25_000.0));
    assert_eq!(
        (r.wait.min, r.wait.max),
        (Some(Millis(10 * S)), Some(Millis(40 * S)))
    );
    // Nearest rank: p50 = rank 2, p90 = rank 4.
    assert_eq!(r.wait.p50, Some(Millis(20 * S)));
    assert_eq!(r.wait.p90, Some(Millis(40 * S)));
    assert!(r.wait.exact);
    assert_eq!(r.first_response.mean_ms, Some(30_000.0));
    assert_eq!(r.first_response.p50, Some(Millis(25 * S)));
    assert_eq!(r.handle.count, 2);
    assert_eq!(r.handle.mean_ms, Some(200_000.0));
    assert_eq!(r.handle.max, Some(Millis(300 * S)));
    assert_eq!(r.handled, 2);
    // SL within 20 s: waits 10 and 20 qualify ("within" is ≤).
    assert_eq!(ratio(&r.service_levels[0].default), (2, 4));
    assert_eq!(ratio(&r.service_levels[0].first_response_within), (1, 4));
}

#[test]
fn empty_input_gives_none_not_zero() {
    let r = report(KpiConfig::default(), &[]);
    assert_eq!(r.records, 0);
    assert_eq!(r.overall.offered, 0);
    assert_eq!(r.overall.response_rate.ratio, None);
    assert_eq!(r.overall.abandonment.per_offered.ratio, None);
    assert_eq!(r.overall.service_levels[0].default.ratio, None);
    assert_eq!(r.overall.wait.mean_ms, None);
    assert_eq!(r.overall.wait.p50, None);
    assert!(r.by_tier.is_empty() && r.operators.is_empty());
    assert!(r.overall.is_final);
}

#[test]
fn single_record_every_breakdown() {
    let mut r = answered(9, 5_000, 3 * S, 4 * S, Some(10 * S));
    r.team = Some(TeamId(4));
    r.operator = Some(OperatorId(77));
    r.channel = ChannelId(2);
    r.tier = TierId(3);
    r.tags = vec!["billing".into(), "vip".into(), "billing".into()];
    r.satisfaction = Some(4);
    r.transfers = 2;
    r.missed_offers = 1;
    let rep = report(KpiConfig::default(), &[r]);
    for s in [
        &rep.overall,
        &rep.by_tier[&TierId(3)],
        &rep.by_channel[&ChannelId(2)],
        &rep.by_team[&TeamId(4)],
        &rep.by_operator[&OperatorId(77)],
    ] {
        assert_eq!((s.offered, s.answered, s.handled), (1, 1, 1));
        assert_eq!(s.wait.p99, Some(Millis(3 * S)));
        assert_eq!(s.handle.mean_ms, Some(10_000.0));
        assert_eq!((s.transfers, s.transferred, s.missed_offers), (2, 1, 1));
        assert_eq!(s.satisfaction.mean, Some(4.0));
        assert_eq!(ratio(&s.satisfaction.top_two_box), (1, 1));
        // A repeated tag on one request counts once.
        let tags: Vec<_> = s.tags.iter().map(|t| (t.tag.as_str(), t.count)).collect();
        assert_eq!(tags, vec![("billing", 1), ("vip", 1)]);
    }
    assert_eq!(rep.operators.len(), 1);
    assert_eq!(rep.operators[0].handled, 1);
}

#[test]
fn messages_left_pending_unanswered_after_assign_and_closed() {
    let mut ml = rec(1, 0);
    ml.message_left = true;
    ml.abandoned_at = Some(Timestamp(30 * S));
    // Answered later: not an answer for SL, but handled.
    ml.assigned_at = Some(Timestamp(3_600 * S));
    ml.first_response_at = Some(Timestamp(3_700 * S));
    ml.resolved_at = Some(Timestamp(4_000 * S));
    let pending = rec(2, 0);
    let mut gone = answered(3, 0, 5 * S, 0, None);
    gone.first_response_at = None;
    gone.abandoned_at = Some(Timestamp(50 * S));
    let mut closed = rec(4, 0);
    closed.resolved_at = Some(Timestamp(9 * S));
    let r = report(KpiConfig::default(), &[ml, pending, gone, closed]).overall;
    assert_eq!(r.offered, 4);
    assert_eq!((r.messages_left, r.messages_answered), (1, 1));
    assert_eq!((r.answered, r.pending, r.closed_unassigned), (1, 1, 1));
    assert!(!r.is_final);
    assert_eq!(r.unanswered_after_assign, 1);
    assert_eq!(r.abandoned, 0);
    assert_eq!(r.handled, 1); // the message, handled in 400 s
    assert_eq!(r.handle.max, Some(Millis(400 * S)));
    assert_eq!(r.wait.count, 1); // only the real answer
    assert_eq!(r.first_response.count, 0);
}

fn weekday_hours(days: &[Weekday], from_h: u16, to_h: u16) -> Vec<OpenInterval> {
    days.iter()
        .map(|&weekday| OpenInterval {
            weekday,
            start_minute: from_h * 60,
            end_minute: to_h * 60,
        })
        .collect()
}

#[test]
fn business_hours_first_response() {
    use Weekday::*;
    let open = weekday_hours(&[Monday, Tuesday, Wednesday, Thursday, Friday], 9, 18);
    // 2024-05-17 is a Friday. Asia/Seoul, UTC+9.
    let off = 540i64;
    let local = |d: CivilDate, h: u64, m: u64| {
        (d.days_since_epoch() * 86_400_000 - off * 60_000) as u64 + h * 3_600_000 + m * 60_000
    };
    let fri = CivilDate::new(2024, 5, 17).expect("date");
    let mon = CivilDate::new(2024, 5, 20).expect("date");
    let tue = CivilDate::new(2024, 5, 21).expect("date");
    let bh = BusinessHours::new(540, open.clone(), vec![]).expect("valid");
    // Friday 17:50 → Monday 09:10 = 10 + 10 minutes open.
    assert_eq!(
        bh.business_ms(Timestamp(local(fri, 17, 50)), Timestamp(local(mon, 9, 10))),
        Millis::from_mins(20)
    );
    // Asked Saturday, replied Monday 08:00: before opening, 0.
    let sat = CivilDate::new(2024, 5, 18).expect("date");
    assert_eq!(
        bh.business_ms(Timestamp(local(sat, 11, 0)), Timestamp(local(mon, 8, 0))),
        Millis(0)
    );
    // Monday closed (holiday): Friday 17:50 → Tuesday 09:10 is still 20 minutes.
    let closed = BusinessHours::new(540, open.clone(), vec![mon]).expect("valid");
    assert_eq!(
        closed.business_ms(Timestamp(local(fri, 17, 50)), Timestamp(local(tue, 9, 10))),
        Millis::from_mins(20)
    );
    // Three whole weeks: 3 × 5 × 9 h.
    assert_eq!(
        bh.business_ms(
            Timestamp(local(mon, 0, 0)),
            Timestamp(local(mon, 0, 0) + 21 * 86_400_000)
        ),
        Millis::from_mins(3 * 5 * 9 * 60)
    );
    // Through the accumulator: calendar FRT and business FRT side by side.
    let ask = local(fri, 17, 50);
    let mut r = rec(1, ask);
    r.assigned_at = Some(Timestamp(ask + 60 * S));
    r.first_response_at = Some(Timestamp(local(mon, 9, 10)));
    let cfg = KpiConfig {
        business_hours: Some(bh),
        ..KpiConfig::default()
    };
    let rep = report(cfg, &[r]).overall;
    assert_eq!(
        rep.first_response.max,
        Some(Millis((63 * 60 + 20) * 60_000))
    );
    assert_eq!(
        rep.first_response_business.and_then(|s| s.max),
        Some(Millis::from_mins(20))
    );
    assert!(
        report(KpiConfig::default(), &[])
            .overall
            .first_response_business
            .is_none()
    );
    // Invalid schedules.
    let overlap = vec![
        OpenInterval {
            weekday: Monday,
            start_minute: 60,
            end_minute: 600,
        },
        OpenInterval {
            weekday: Monday,
            start_minute: 500,
            end_minute: 700,
        },
    ];
    assert!(matches!(
        BusinessHours::new(0, overlap, vec![]),
        Err(KpiError::InvalidBusinessHours { .. })
    ));
    let late = vec![OpenInterval {
        weekday: Monday,
        start_minute: 60,
        end_minute: 1441,
    }];
    assert!(BusinessHours::new(0, late, vec![]).is_err());
}

#[test]
fn calendar_presets() {
    // 2024-03-01 (Friday) 01:30 in UTC+9 = 2024-02-29 16:30 UTC.
    let now = Timestamp(1_709_224_200_000);
    let utc_ms = |y, m, d, h: u64| {
        (CivilDate::new(y, m, d).expect("date").days_since_epoch() * 86_400_000) as u64
            + h * 3_600_000
    };
    let seoul = Calendar::new(540, Weekday::Monday).expect("calendar");
    let p = |f: Result<Period, KpiError>| f.map(|p| (p.start.0, p.end.0)).expect("period");
    // Local midnight 2024-03-01 = 2024-02-29 15:00 UTC.
    assert_eq!(
        p(seoul.today(now)),
        (utc_ms(2024, 2, 29, 15), utc_ms(2024, 3, 1, 15))
    );
    assert_eq!(
        p(seoul.yesterday(now)),
        (utc_ms(2024, 2, 28, 15), utc_ms(2024, 2, 29, 15))
    );
    // Week from Monday 2024-02-26.
    assert_eq!(
        p(seoul.this_week(now)),
        (utc_ms(2024, 2, 25, 15), utc_ms(2024, 3, 3, 15))
    );
    assert_eq!(
        p(seoul.last_week(now)),
        (utc_ms(2024, 2, 18, 15), utc_ms(2024, 2, 25, 15))
    );
    assert_eq!(
        p(seoul.this_month(now)),
        (utc_ms(2024, 2, 29, 15), utc_ms(2024, 3, 31, 15))
    );
    // Last month is February 2024: 29 days.
    let lm = seoul.last_month(now).expect("period");
    assert_eq!(lm.duration(), Millis(29 * 86_400_000));
    assert_eq!(
        p(Ok(lm)),
        (utc_ms(2024, 1, 31, 15), utc_ms(2024, 2, 29, 15))
    );
    // In UTC it is still Thursday 2024-02-29; Sunday-start week began 2024-02-25.
    let utc = Calendar::new(0, Weekday::Sunday).expect("calendar");
    assert_eq!(
        p(utc.this_week(now)),
        (utc_ms(2024, 2, 25, 0), utc_ms(2024, 3, 3, 0))
    );
    assert_eq!(
        p(utc.this_month(now)),
        (utc_ms(2024, 2, 1, 0), utc_ms(2024, 3, 1, 0))
    );
    // January's last month is December of the year before.
    let jan = Timestamp(utc_ms(2024, 1, 10, 12));
    assert_eq!(
        p(utc.last_month(jan)),
        (utc_ms(2023, 12, 1, 0), utc_ms(2024, 1, 1, 0))
    );
    // Before the epoch: an error, not a wrap.
    assert!(matches!(
        utc.yesterday(Timestamp(5)),
        Err(KpiError::InvalidPeriod { .. })
    ));
    assert!(Calendar::new(24 * 60, Weekday::Monday).is_err());
}

#[test]
fn period_filter_and_anchors() {
    let period = Period::new(Timestamp(100 * S), Timestamp(200 * S)).expect("period");
    // Asked before the period, resolved inside it.
    let early = answered(1, 50 * S, S, S, Some(100 * S));
    // Asked at the start (inside), resolved after the end.
    let start = answered(2, 100 * S, S, S, Some(500 * S));
    // Asked exactly at the end (outside: half-open).
    let end = answered(3, 200 * S, S, S, Some(S));
    let recs = [early, start, end];
    let asked = report(
        KpiConfig {
            period: Some(period),
            ..KpiConfig::default()
        },
        &recs,
    );
    assert_eq!((asked.records, asked.out_of_period), (3, 2));
    assert_eq!((asked.overall.offered, asked.overall.handled), (1, 1));
    assert_eq!(asked.overall.handle.max, Some(Millis(500 * S)));
    let per_kpi = report(
        KpiConfig {
            period: Some(period),
            anchor: PeriodAnchor::PerKpi,
            ..KpiConfig::default()
        },
        &recs,
    );
    // Demand: only #2; output: only #1 (resolved at 151 s).
    assert_eq!((per_kpi.overall.offered, per_kpi.overall.handled), (1, 1));
    assert_eq!(per_kpi.overall.handle.max, Some(Millis(100 * S)));
    assert_eq!(per_kpi.out_of_period, 1);
}

#[test]
fn operator_table_order_and_occupancy() {
    let mk = |id, op, handle| {
        let mut r = answered(id, 0, S, S, Some(handle));
        r.operator = Some(OperatorId(op));
        r
    };
    // op 5: 2 handled, mean 30 s; op 3: 2 handled, mean 30 s (tie → id); op 9: 2 handled mean
    // 20 s; op 1: 1 handled; op 7: answered, unresolved.
    let mut unresolved = answered(10, 0, S, S, None);
    unresolved.operator = Some(OperatorId(7));
    let recs = vec![
        mk(1, 5, 20 * S),
        mk(2, 5, 40 * S),
        mk(3, 3, 30 * S),
        mk(4, 3, 30 * S),
        mk(5, 9, 10 * S),
        mk(6, 9, 30 * S),
        mk(7, 1, 5 * S),
        unresolved,
    ];
    let mut acc = KpiAccumulator::new(KpiConfig::default()).expect("config");
    for r in &recs {
        acc.push(r).expect("valid");
    }
    for (op, status, a, b) in [
        (5, Activity::Busy, 0, 30 * S),
        (5, Activity::Idle, 30 * S, 40 * S),
        (5, Activity::Away, 40 * S, 90 * S),
        (3, Activity::Idle, 0, 10 * S),
    ] {
        acc.push_status(&StatusInterval {
            operator: OperatorId(op),
            status,
            start: Timestamp(a),
            end: Timestamp(b),
        })
        .expect("valid interval");
    }
    assert!(
        acc.push_status(&StatusInterval {
            operator: OperatorId(1),
            status: Activity::Busy,
            start: Timestamp(5),
            end: Timestamp(4),
        })
        .is_err()
    );
    let rep = acc.report();
    let order: Vec<u64> = rep.operators.iter().map(|o| o.operator.0).collect();
    assert_eq!(order, vec![9, 3, 5, 1, 7]);
    let five = rep
        .operators
        .iter()
        .find(|o| o.operator.0 == 5)
        .expect("row");
    assert_eq!(five.mean_handle_ms, Some(30_000.0));
    assert_eq!(ratio(&five.occupancy), (30 * S, 40 * S));
    let three = rep
        .operators
        .iter()
        .find(|o| o.operator.0 == 3)
        .expect("row");
    assert_eq!(three.occupancy.ratio, Some(0.0));
    assert_eq!(ratio(&rep.overall.occupancy.occupancy), (30 * S, 50 * S));
    let mut out = Vec::new();
    write_operator_table_csv(&mut out, &rep).expect("write");
    let text = String::from_utf8(out).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "operator,handled,mean_handle_ms,max_handle_ms,answered,mean_first_response_ms,missed_offers,transfers,occupancy,satisfaction_mean"
    );
    assert_eq!(lines[1], "9,2,20000.000,30000,2,1000.000,0,0,,");
    assert_eq!(lines[3], "5,2,30000.000,40000,2,1000.000,0,0,0.750000,");
    assert_eq!(lines.len(), 6);
}

const HEADER: &str = "conversation_id,channel,tier,team,operator,asked_at,assigned_at,first_response_at,resolved_at,abandoned_at,message_left,transfers,tags,satisfaction,missed_offers";

fn ingest(text: &str, options: IngestOptions) -> Result<Ingest, KpiError> {
    let mut ing = Ingest::new(KpiConfig::default(), options)?;
    read_csv(text.as_bytes(), &mut ing)?;
    Ok(ing)
}

#[test]
fn csv_errors_name_line_and_field() {
    let bad_ts = format!("{HEADER}\n1,1,1,,,1000,,,,,false,0,,,0\n2,1,1,,,12x4,,,,,false,0,,,0\n");
    match ingest(&bad_ts, IngestOptions::default()) {
        Err(KpiError::Parse {
            line: 3,
            field: "asked_at",
            value,
            ..
        }) => assert_eq!(value, "12x4"),
        other => panic!("{other:?}"),
    }
    let before_ask = format!("{HEADER}\n1,1,1,,,1000,1500,900,,,false,0,,,0\n");
    let e = ingest(&before_ask, IngestOptions::default()).err();
    assert_eq!(e.as_ref().and_then(KpiError::line), Some(2));
    assert_eq!(
        e.as_ref().and_then(KpiError::field),
        Some("first_response_at")
    );
    let after_resolve = format!("{HEADER}\n\n1,1,1,,,1000,3000,,2000,,false,0,,,0\n");
    assert!(matches!(
        ingest(&after_resolve, IngestOptions::default()),
        Err(KpiError::AssignedAfterResolved {
            line: 3,
            assigned_at: 3000,
            resolved_at: 2000
        })
    ));
    let sat = format!("{HEADER}\n1,1,1,,,1000,,,,,false,0,,9,0\n");
    assert!(matches!(
        ingest(&sat, IngestOptions::default()),
        Err(KpiError::OutOfRange {
            line: 2,
            field: "satisfaction",
            value: 9,
            ..
        })
    ));
    let flag = format!("{HEADER}\n1,1,1,,,1000,,,,,maybe,0,,,0\n");
    assert!(matches!(
        ingest(&flag, IngestOptions::default()),
        Err(KpiError::Parse {
            line: 2,
            field: "message_left",
            ..
        })
    ));
    let count = format!("{HEADER}\n1,1,1,,,1000\n");
    assert!(matches!(
        ingest(&count, IngestOptions::default()),
        Err(KpiError::FieldCount {
            line: 2,
            expected: 15,
            found: 6
        })
    ));
    let big_tier = format!("{HEADER}\n1,1,4294967296,,,1000,,,,,false,0,,,0\n");
    assert!(matches!(
        ingest(&big_tier, IngestOptions::default()),
        Err(KpiError::Parse { field: "tier", .. })
    ));
    let order = format!("{HEADER}\n1,1,1,,,1000,,,,,,,,,\n2,1,1,,,999,,,,,,,,,\n");
    assert!(ingest(&order, IngestOptions::default()).is_ok());
    let strict = IngestOptions {
        strict_order: true,
        ..IngestOptions::default()
    };
    assert!(matches!(
        ingest(&order, strict),
        Err(KpiError::OutOfOrder {
            line: 3,
            asked_at: 999,
            previous: 1000
        })
    ));
    let dup = format!("{HEADER}\n7,1,1,,,1000,,,,,,,,,\n7,1,1,,,1001,,,,,,,,,\n");
    let dups = IngestOptions {
        detect_duplicates: true,
        ..IngestOptions::default()
    };
    assert!(matches!(
        ingest(&dup, dups),
        Err(KpiError::DuplicateId {
            line: 3,
            first_line: 2,
            conversation: ConversationId(7)
        })
    ));
    // Header problems are never skippable.
    let skip = IngestOptions {
        skip_bad_rows: true,
        ..IngestOptions::default()
    };
    assert!(matches!(
        ingest("conversation_id,channel,tier,asked,x\n", skip),
        Err(KpiError::UnknownColumn { .. })
    ));
    assert!(matches!(
        ingest("conversation_id,channel,asked_at\n", skip),
        Err(KpiError::MissingColumn { column: "tier" })
    ));
    assert!(matches!(ingest("", skip), Err(KpiError::EmptyInput)));
    assert!(matches!(
        ingest("tier,tier\n", skip),
        Err(KpiError::DuplicateColumn { column: "tier" })
    ));
}

#[test]
fn skip_bad_rows_counts_every_reason() {
    let text = format!(
        "{HEADER}\n\
         1,1,1,,,1000,1100,1200,1300,,false,0,a,,0\n\
         2,1,1,,,oops,,,,,false,0,,,0\n\
         3,1,1,,,1000,900,,,,false,0,,,0\n\
         4,1,1,,,1000,1100,,1000,,false,0,,,0\n\
         1,1,1,,,1500,,,,,false,0,,,0\n\
         5,1,1,,,500,,,,,false,0,,,0\n\
         6,1,1,,,1600\n\
         7,1,1,,,1700,,,,,false,0,,7,0\n\
         8,1,1,,,1800,,,,1900,false,0,b,,0\n"
    );
    let opts = IngestOptions {
        strict_order: true,
        detect_duplicates: true,
        skip_bad_rows: true,
    };
    let ing = ingest(&text, opts).expect("skipping");
    let acc = ing.accumulator();
    assert_eq!(acc.records(), 2);
    assert_eq!(acc.skipped_total(), 7);
    for (reason, n) in [
        (SkipReason::Unparsable, 1),
        (SkipReason::BeforeAsk, 1),
        (SkipReason::AssignedAfterResolved, 1),
        (SkipReason::DuplicateId, 1),
        (SkipReason::OutOfOrder, 1),
        (SkipReason::Malformed, 1),
        (SkipReason::OutOfRange, 1),
    ] {
        assert_eq!(acc.skipped(reason), n, "{reason:?}");
    }
    let lines: Vec<u64> = ing
        .skipped_examples()
        .iter()
        .filter_map(KpiError::line)
        .collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9]);
    let rep = acc.report();
    assert_eq!(rep.skipped, 7);
    assert_eq!(rep.skipped_by_reason.len(), 7);
    assert_eq!((rep.overall.answered, rep.overall.abandoned), (1, 1));
    // The skip counts survive encoding and merging.
    let back = KpiAccumulator::from_bytes(&acc.to_bytes()).expect("decode");
    assert_eq!(back.skipped(SkipReason::OutOfOrder), 1);
}

#[test]
fn csv_round_trip() {
    let mut a = answered(1, 10, 5, 7, Some(100));
    a.team = Some(TeamId(3));
    a.operator = Some(OperatorId(u64::MAX));
    a.tags = vec![
        "needs, quoting".into(),
        "say \"hi\"".into(),
        "multi\nline".into(),
    ];
    a.satisfaction = Some(5);
    a.transfers = 2;
    a.missed_offers = 3;
    let mut b = abandoned(2, 20, 4);
    b.message_left = true;
    let c = rec(3, 30);
    let mut w = RecordCsvWriter::new(Vec::new()).expect("header");
    for r in [&a, &b, &c] {
        w.write(r).expect("row");
    }
    let bytes = w.finish().expect("flush");
    let mut reader = CsvReader::new(bytes.as_slice()).expect("header");
    let mut back = Vec::new();
    while let Some((_, r)) = reader.read_record().expect("row") {
        back.push(r);
    }
    assert_eq!(back, vec![a, b, c]);
    let mut bad = rec(4, 0);
    bad.tags = vec!["a;b".into()];
    let mut w = RecordCsvWriter::new(Vec::new()).expect("header");
    assert!(matches!(
        w.write(&bad),
        Err(KpiError::Unwritable { field: "tags", .. })
    ));
}

#[test]
fn sample_file_reads_cleanly() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/sample.csv");
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("sample"));
    let opts = IngestOptions {
        strict_order: false,
        detect_duplicates: true,
        skip_bad_rows: false,
    };
    let mut ing = Ingest::new(KpiConfig::default(), opts).expect("config");
    read_csv(file, &mut ing).expect("sample is valid");
    let rep = ing.accumulator().report();
    assert!(rep.records >= 30);
    assert!(rep.overall.abandoned > 0 && rep.overall.messages_left > 0);
    assert!(rep.by_tier.len() >= 3 && rep.by_channel.len() >= 2 && rep.by_team.len() >= 2);
    let o = &rep.overall;
    assert_eq!(
        o.offered,
        o.answered + o.abandoned + o.messages_left + o.pending + o.closed_unassigned
    );
}

#[test]
fn merge_rejects_other_configs_and_encoding_errors_are_typed() {
    let mut a = KpiAccumulator::new(KpiConfig::default()).expect("config");
    let b = KpiAccumulator::new(KpiConfig {
        short_abandon: Some(Millis(1)),
        ..KpiConfig::default()
    })
    .expect("config");
    a.push(&rec(1, 1)).expect("valid");
    let before = a.clone();
    assert_eq!(a.merge(&b), Err(KpiError::ConfigMismatch));
    assert_eq!(a, before);
    let bytes = a.to_bytes();
    assert_eq!(KpiAccumulator::from_bytes(b"nope"), Err(KpiError::BadMagic));
    let mut future = bytes.clone();
    future[4] = 2;
    assert_eq!(
        KpiAccumulator::from_bytes(&future),
        Err(KpiError::UnsupportedVersion {
            found: 2,
            supported: 1
        })
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        KpiAccumulator::from_bytes(&trailing),
        Err(KpiError::Corrupt { .. })
    ));
    for cut in 0..bytes.len() {
        let e = KpiAccumulator::from_bytes(&bytes[..cut]);
        assert!(
            matches!(e, Err(KpiError::Truncated { .. }) | Err(KpiError::BadMagic)),
            "cut {cut}: {e:?}"
        );
    }
    assert!(
        KpiAccumulator::new(KpiConfig {
            service_level_thresholds: vec![],
            ..KpiConfig::default()
        })
        .is_err()
    );
}

// ---- property tests ----

fn arb_record() -> impl Strategy<Value = ConversationRecord> {
    (
        (
            0u64..1_000,
            0u32..3,
            0u32..3,
            prop::option::of(0u32..3),
            prop::option::of(0u64..4),
        ),
        (
            0u64..10_000_000,
            0u8..6,
            0u64..400_000,
            0u64..400_000,
            0u64..5_000_000,
        ),
        (
            any::<bool>(),
            0u32..3,
            prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d"]), 0..3),
        ),
        (prop::option::of(1u8..=5), 0u32..3, 0u64..40_000),
    )
        .prop_map(
            |(
                (id, ch, tier, team, op),
                (ask, kind, w, f, h),
                (ml, tr, tags),
                (sat, missed, leave),
            )| {
                let mut r = ConversationRecord::new(
                    ConversationId(id),
                    ChannelId(ch),
                    TierId(tier),
                    Timestamp(ask),
                );
                r.team = team.map(TeamId);
                r.operator = op.map(OperatorId);
                match kind {
                    0 | 1 => {
                        r.assigned_at = Some(Timestamp(ask + w));
                        r.first_response_at = Some(Timestamp(ask + w + f));
                        if kind == 0 {
                            r.resolved_at = Some(Timestamp(ask + w + f + h));
                        }
                    }
                    2 => r.abandoned_at = Some(Timestamp(ask + leave)),
                    3 => {
                        r.message_left = ml;
                        r.abandoned_at = Some(Timestamp(ask + leave));
                    }
                    4 => r.resolved_at = Some(Timestamp(ask + h)),
                    _ => {}
                }
                r.transfers = tr;
                r.tags = tags.into_iter().map(String::from).collect();
                r.satisfaction = sat;
                r.missed_offers = missed;
                r
            },
        )
}

fn arb_config() -> impl Strategy<Value = KpiConfig> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(period, per_kpi, short)| KpiConfig {
        period: period
            .then(|| Period::new(Timestamp(2_000_000), Timestamp(8_000_000)).expect("period")),
        anchor: if per_kpi {
            PeriodAnchor::PerKpi
        } else {
            PeriodAnchor::AskedAt
        },
        service_level_thresholds: vec![Millis(10_000), Millis(60_000)],
        short_abandon: short.then_some(Millis(5_000)),
        business_hours: period.then(|| {
            BusinessHours::new(
                60,
                weekday_hours(&[Weekday::Monday, Weekday::Thursday], 9, 17),
                vec![],
            )
            .expect("valid")
        }),
    })
}

fn acc_of(cfg: &KpiConfig, recs: &[ConversationRecord]) -> KpiAccumulator {
    let mut acc = KpiAccumulator::new(cfg.clone()).expect("config");
    for r in recs {
        acc.push(r).expect("generated records are valid");
    }
    acc
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// merge(acc(A₁), …, acc(Aₖ)) == acc(A) for any split into k parts merged in any order, and
    /// every accumulator round-trips through its bytes.
    #[test]
    fn merged_splits_equal_the_whole(
        cfg in arb_config(),
        recs in prop::collection::vec(arb_record(), 0..700),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
        order in any::<u64>(),
    ) {
        let whole = acc_of(&cfg, &recs);
        let mut bounds: Vec<usize> = cuts.iter().map(|i| i.index(recs.len() + 1)).collect();
        bounds.push(0);
        bounds.push(recs.len());
        bounds.sort_unstable();
        let mut parts: Vec<KpiAccumulator> =
            bounds.windows(2).map(|w| acc_of(&cfg, &recs[w[0]..w[1]])).collect();
        for p in &parts {
            let back = KpiAccumulator::from_bytes(&p.to_bytes());
            prop_assert_eq!(back.as_ref(), Ok(p));
        }
        // Merge in a pseudo-random tree order: repeatedly merge two chosen parts.
        let mut state = order | 1;
        while parts.len() > 1 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            let i = (state % parts.len() as u64) as usize;
            let b = parts.swap_remove(i);
            let j = (state / 7 % parts.len() as u64) as usize;
            parts[j].merge(&b).expect("same config");
        }
        let merged = parts.pop().expect("one part");
        prop_assert_eq!(merged.to_bytes(), whole.to_bytes());
        prop_assert_eq!(merged.report(), whole.report());
        // The identity.
        let mut with_empty = whole.clone();
        with_empty.merge(&KpiAccumulator::new(cfg.clone()).expect("config")).expect("merge");
        prop_assert_eq!(&with_empty, &whole);
        let back = KpiAccumulator::from_bytes(&whole.to_bytes());
        prop_assert_eq!(back.as_ref(), Ok(&whole));
    }

    /// Breakdown keys find their cells through a direct table when small and a hash table
    /// otherwise: the same records with some ids moved far up (past both ranges), or moved
    /// across the edges of the direct ranges (ids near 16,384; tier 16, channel 8, team 15 and
    /// queue 7 for a record's key combination), count the same in every breakdown, key for key.
    #[test]
    fn large_ids_count_as_small_ones_do(
        cfg in arb_config(),
        recs in prop::collection::vec(arb_record(), 0..400),
        queues in prop::collection::vec(prop::option::of(0u32..9), 400),
    ) {
        let small: Vec<ConversationRecord> = recs
            .iter()
            .zip(&queues)
            .map(|(r, q)| {
                let mut r = r.clone();
                r.queue = q.map(QueueId);
                r
            })
            .collect();
        let a = acc_of(&cfg, &small).report();
        // Far: odd ids up by 2^30 (2^40 for operators). Edges: every id up by an offset that
        // puts the generated ids on both sides of each limit.
        let far = (1u32 << 30, 1u32 << 30, 1u32 << 30, 1u32 << 30, 1u64 << 40);
        let edges = (14, 6, 13, 5, 16_382);
        for (odd_only, (tier, channel, team, queue, operator)) in [(true, far), (false, edges)] {
            let moves = |x: u64| !odd_only || x % 2 == 1;
            let up32 = |x: u32, by: u32| if moves(u64::from(x)) { x + by } else { x };
            let down32 = |x: u32, by: u32| {
                if x >= by && moves(u64::from(x - by)) { x - by } else { x }
            };
            let up64 = |x: u64| if moves(x) { x + operator } else { x };
            let down64 = |x: u64| {
                if x >= operator && moves(x - operator) { x - operator } else { x }
            };
            let large: Vec<ConversationRecord> = small
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.tier = TierId(up32(r.tier.0, tier));
                    r.channel = ChannelId(up32(r.channel.0, channel));
                    r.team = r.team.map(|t| TeamId(up32(t.0, team)));
                    r.queue = r.queue.map(|q| QueueId(up32(q.0, queue)));
                    r.operator = r.operator.map(|o| OperatorId(up64(o.0)));
                    r
                })
                .collect();
            let b = acc_of(&cfg, &large).report();
            prop_assert_eq!(&a.overall, &b.overall);
            let tiers: BTreeMap<_, _> =
                b.by_tier.iter().map(|(k, v)| (TierId(down32(k.0, tier)), v.clone())).collect();
            prop_assert_eq!(&a.by_tier, &tiers);
            let channels: BTreeMap<_, _> = b
                .by_channel
                .iter()
                .map(|(k, v)| (ChannelId(down32(k.0, channel)), v.clone()))
                .collect();
            prop_assert_eq!(&a.by_channel, &channels);
            let teams: BTreeMap<_, _> =
                b.by_team.iter().map(|(k, v)| (TeamId(down32(k.0, team)), v.clone())).collect();
            prop_assert_eq!(&a.by_team, &teams);
            let queues: BTreeMap<_, _> = b
                .by_queue
                .iter()
                .map(|(k, v)| (k.map(|q| QueueId(down32(q.0, queue))), v.clone()))
                .collect();
            prop_assert_eq!(&a.by_queue, &queues);
            let operators: BTreeMap<_, _> = b
                .by_operator
                .iter()
                .map(|(k, v)| (OperatorId(down64(k.0)), v.clone()))
                .collect();
            prop_assert_eq!(&a.by_operator, &operators);
        }
    }

    /// Corrupting any byte never panics: it decodes to an error or to some valid state.
    #[test]
    fn corrupt_bytes_never_panic(
        recs in prop::collection::vec(arb_record(), 0..40),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let acc = acc_of(&KpiConfig::default(), &recs);
        let mut bytes = acc.to_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(a) = KpiAccumulator::from_bytes(&bytes) {
            let _ = a.report();
            let mut b = a.clone();
            let _ = b.merge(&a);
        }
    }

    /// The sketch's documented bound: every nearest-rank quantile is within α·x + 0.5 ms of the
    /// exact value, on lognormal-like, Pareto-like, constant and boundary-heavy data, and a split
    /// sketch merges to exactly the same statistics.
    #[test]
    fn sketch_relative_error_bound(
        kind in 0u8..4,
        seed in any::<u64>(),
        n in 257usize..3_000,
        split in any::<prop::sample::Index>(),
    ) {
        let mut s = seed | 1;
        let mut next = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s };
        let values: Vec<u64> = (0..n).map(|_| {
            let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
            match kind {
                0 => (8.0 + 3.0 * (u - 0.5) * 4.0).exp() as u64,          // wide, lognormal-like
                1 => (1_000.0 / (1.0 - u).max(1e-9).powf(0.8)) as u64,   // Pareto-like tail
                2 => 42_000,                                             // constant
                _ => [0u64, 1, 2, 3, 50, 51, 1_000_000, u64::MAX / 2][(next() % 8) as usize],
            }
        }).collect();
        let mut stats = DurationStats::new();
        values.iter().for_each(|&v| stats.push(v));
        prop_assert!(!stats.is_exact());
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let mut qs: Vec<f64> = (0..=1000).map(|i| i as f64 / 1000.0).collect();
        qs.push((next() % 1_000_001) as f64 / 1e6);
        for q in qs {
            let k = ((q * 1e6).round() as u128 * n as u128).div_ceil(1_000_000).max(1) as usize;
            let exact = sorted[k - 1] as f64;
            let est = stats.quantile(q).expect("non-empty").0 as f64;
            prop_assert!(
                (est - exact).abs() <= RELATIVE_ACCURACY * exact * (1.0 + 1e-12) + 0.5,
                "q {} exact {} est {}", q, exact, est
            );
        }
        let cut = split.index(n + 1);
        let mut a = DurationStats::new();
        let mut b = DurationStats::new();
        values[..cut].iter().for_each(|&v| a.push(v));
        values[cut..].iter().for_each(|&v| b.push(v));
        let mut ba = b.clone();
        ba.merge(&a);
        a.merge(&b);
        prop_assert_eq!(&a, &stats);
        prop_assert_eq!(&ba, &stats);
    }
}

#[test]
fn exact_percentiles_below_the_limit() {
    let mut s = DurationStats::new();
    for v in [7u64, 1, 9, 3, 5] {
        s.push(v);
    }
    // Sorted 1 3 5 7 9: nearest rank ⌈q·5⌉.
    assert_eq!(s.quantile(0.2), Some(Millis(1)));
    assert_eq!(s.quantile(0.21), Some(Millis(3)));
    assert_eq!(s.quantile(0.5), Some(Millis(5)));
    assert_eq!(s.quantile(1.0), Some(Millis(9)));
    assert_eq!(s.quantile(1.5), None);
    assert!(s.is_exact());
}
