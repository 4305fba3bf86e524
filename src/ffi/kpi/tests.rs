//! Unit tests of the KPI handle: records in, the same numbers as the Rust accumulator out.

use super::*;
use core::ptr::{null, null_mut};

use switchboard_status as S;

fn finished(id: u64, tier: u32, asked: u64) -> switchboard_finished_conversation {
    switchboard_finished_conversation {
        conversation_id: id,
        operator_id: 1,
        started_at_ms: asked,
        asked_at_ms: asked,
        offered_at_ms: SWITCHBOARD_NO_TIME,
        assigned_at_ms: asked + 10_000,
        first_response_at_ms: asked + 30_000,
        resolved_at_ms: asked + 60_000,
        abandoned_at_ms: SWITCHBOARD_NO_TIME,
        message_left_at_ms: SWITCHBOARD_NO_TIME,
        channel_id: 2,
        tier_id: tier,
        team_id: 0,
        queue_id: 0,
        transfers: 0,
        missed_offers: 0,
        has_operator: true,
        has_team: false,
        has_queue: false,
    }
}

fn report(k: *mut switchboard_kpi) -> switchboard_kpi_summary {
    let mut r = core::mem::MaybeUninit::uninit();
    assert_eq!(unsafe { switchboard_kpi_report(k, r.as_mut_ptr()) }, S::Ok);
    unsafe { r.assume_init() }
}

#[test]
fn feeds_records_and_reports_like_the_rust_accumulator() {
    let mut k = null_mut();
    let mut abandoned = finished(2, 3, 5_000);
    abandoned.assigned_at_ms = SWITCHBOARD_NO_TIME;
    abandoned.first_response_at_ms = SWITCHBOARD_NO_TIME;
    abandoned.resolved_at_ms = SWITCHBOARD_NO_TIME;
    abandoned.abandoned_at_ms = 45_000;
    abandoned.has_operator = false;
    let mut bot_only = finished(3, 1, 0);
    bot_only.asked_at_ms = SWITCHBOARD_NO_TIME;
    bot_only.assigned_at_ms = SWITCHBOARD_NO_TIME;
    bot_only.first_response_at_ms = SWITCHBOARD_NO_TIME;
    bot_only.has_operator = false;
    let recs = [finished(1, 1, 0), abandoned, bot_only];
    unsafe {
        assert_eq!(switchboard_kpi_new(null(), 0, &mut k), S::Ok);
        assert_eq!(switchboard_kpi_push_finished(k, recs.as_ptr(), 3), S::Ok);
    }
    let mut acc = KpiAccumulator::new(KpiConfig::default()).unwrap();
    for (i, r) in recs.iter().enumerate() {
        if let Some(r) = record(i, r).unwrap() {
            acc.push(&r).unwrap();
        }
    }
    let want = acc.report();
    let got = report(k);
    assert_eq!(got.records, 2);
    assert_eq!(got.overall, switchboard_kpi_stats::from(&want.overall));
    assert_eq!((got.overall.offered, got.overall.abandoned), (2, 1));
    assert_eq!(got.overall.wait.p50_ms, 10_000);
    assert_eq!(got.overall.service_level_threshold_ms, 20_000);
    assert_eq!(got.overall.service_level.ratio, 0.5);

    let mut n = 0;
    let mut tiers = [switchboard_kpi_tier_stats {
        tier_id: 99,
        stats: got.overall,
    }; 2];
    unsafe {
        assert_eq!(switchboard_kpi_by_tier(k, null_mut(), 0, &mut n), S::Ok);
        assert_eq!(n, 2);
        assert_eq!(
            switchboard_kpi_by_tier(k, tiers.as_mut_ptr(), 1, &mut n),
            S::BufferTooSmall
        );
        assert_eq!(tiers[0].tier_id, 99);
        assert_eq!(
            switchboard_kpi_by_tier(k, tiers.as_mut_ptr(), 2, &mut n),
            S::Ok
        );
        switchboard_kpi_free(k);
    }
    assert_eq!((tiers[0].tier_id, tiers[1].tier_id), (1, 3));
    assert_eq!(tiers[1].stats.abandoned, 1);
}

#[test]
fn bad_input_is_rejected_whole() {
    let mut k = null_mut();
    let json = br#"{"service_level_thresholds": []}"#;
    unsafe {
        assert_eq!(
            switchboard_kpi_new(json.as_ptr(), json.len(), &mut k),
            S::KpiInvalidConfig
        );
        assert!(k.is_null());
        let json = br#"{"service_level_thresholds": "x"}"#;
        assert_eq!(
            switchboard_kpi_new(json.as_ptr(), json.len(), &mut k),
            S::InvalidJson
        );
        let json = br#"{"service_level_thresholds": [10000, 30000]}"#;
        assert_eq!(
            switchboard_kpi_new(json.as_ptr(), json.len(), &mut k),
            S::Ok
        );
        let mut bad = finished(2, 1, 50_000);
        bad.assigned_at_ms = 1_000; // before the ask
        let recs = [finished(1, 1, 0), bad];
        let before = (*k).acc.clone();
        assert_eq!(
            switchboard_kpi_push_finished(k, recs.as_ptr(), 2),
            S::KpiBeforeAsk
        );
        assert_eq!((*k).acc, before, "nothing of a failing call counts");
        assert_eq!(switchboard_kpi_push_finished(k, null(), 1), S::NullArgument);
        assert_eq!(
            switchboard_kpi_push_finished(null_mut(), recs.as_ptr(), 1),
            S::NullArgument
        );
        assert_eq!(switchboard_kpi_report(null(), null_mut()), S::NullArgument);
        assert_eq!(switchboard_kpi_report(k, null_mut()), S::NullArgument);
        assert_eq!(
            switchboard_kpi_by_tier(k, null_mut(), 0, null_mut()),
            S::NullArgument
        );
        switchboard_kpi_free(k);
        switchboard_kpi_free(null_mut());
    }
}

/// The KPI handle goes through the same guard as the engine handle; this
/// pins that it poisons, refuses and frees the same way.
#[test]
fn a_panic_poisons_the_kpi_handle_and_free_still_works() {
    let last_error = || super::super::guard::with_last_error(str::to_owned);
    let mut k = null_mut();
    let mut n = 0;
    unsafe {
        assert_eq!(switchboard_kpi_new(null(), 0, &mut k), S::Ok);
        assert_eq!(switchboard_kpi_report(null(), null_mut()), S::NullArgument);
        assert_eq!(last_error(), "argument `kpi` is NULL");
    }
    // The panic message goes to the test's captured output.
    let s = with_handle_mut(k, |_| panic!("boom"));
    assert_eq!(s, S::Panic);
    assert_eq!(last_error(), "panic inside switchboard: boom");
    unsafe {
        assert_eq!(switchboard_kpi_push_finished(k, null(), 0), S::Panic);
        assert_eq!(switchboard_kpi_by_tier(k, null_mut(), 0, &mut n), S::Panic);
        assert_eq!(
            last_error(),
            "the handle is unusable: an earlier call on it panicked (free it)"
        );
        switchboard_kpi_free(k);
    }
}

/// A record no engine can produce (an operator answered a conversation that
/// never asked for one) is refused by name, and nothing of the call counts.
#[test]
fn an_inconsistent_record_is_refused_and_nothing_counts() {
    let mut k = null_mut();
    let mut bad = finished(2, 1, 0);
    bad.asked_at_ms = SWITCHBOARD_NO_TIME;
    let recs = [finished(1, 1, 0), bad];
    unsafe {
        assert_eq!(switchboard_kpi_new(null(), 0, &mut k), S::Ok);
        assert_eq!(
            switchboard_kpi_push_finished(k, recs.as_ptr(), 2),
            S::InvalidArgument
        );
    }
    let msg = crate::ffi::guard::with_last_error(str::to_owned);
    assert!(msg.starts_with("records[1]: "), "{msg}");
    assert_eq!(report(k).records, 0);
    unsafe { switchboard_kpi_free(k) };
}

/// `queue_id` counts only with `has_queue`: it reaches the Rust record, and
/// a bot-only record (no ask) in a queue is one no engine makes.
#[test]
fn the_queue_reaches_the_record_and_a_bot_only_record_has_none() {
    let mut in_queue = finished(1, 1, 0);
    in_queue.queue_id = 4;
    assert_eq!(record(0, &in_queue).unwrap().unwrap().queue, None);
    in_queue.has_queue = true;
    let r = record(0, &in_queue).unwrap().unwrap();
    assert_eq!(r.queue, Some(QueueId(4)));
    // Back to C unchanged.
    assert_eq!(
        switchboard_finished_conversation::from(&Finished::Request(r)),
        in_queue
    );

    let mut bot_only = finished(2, 1, 0);
    bot_only.asked_at_ms = SWITCHBOARD_NO_TIME;
    bot_only.assigned_at_ms = SWITCHBOARD_NO_TIME;
    bot_only.first_response_at_ms = SWITCHBOARD_NO_TIME;
    bot_only.has_operator = false;
    bot_only.operator_id = 0;
    assert!(record(0, &bot_only).unwrap().is_none());
    bot_only.has_queue = true;
    let mut k = null_mut();
    unsafe {
        assert_eq!(switchboard_kpi_new(null(), 0, &mut k), S::Ok);
        assert_eq!(
            switchboard_kpi_push_finished(k, &bot_only, 1),
            S::InvalidArgument
        );
        switchboard_kpi_free(k);
    }
}
