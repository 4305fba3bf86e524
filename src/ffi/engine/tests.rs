//! Unit tests of the engine handle: every call against the Rust API it wraps, the
//! argument checks, buffers, last-error messages and poisoning.

use super::super::{switchboard_last_error, switchboard_status_str};
use super::*;
use crate::ids::{ProfileId, QueueId};
use crate::policy::{
    ChannelSpec, OverflowStep, ProfileQueue, QueueSpec, Relax, RoutingProfile, Selection,
    SkillSpec, TierSpec,
};
use core::ffi::{CStr, c_char};
use core::ptr::{null, null_mut};

use switchboard_status as S;

const CHAT: u32 = 2;

fn policy() -> Policy {
    Policy::new(
        vec![
            ChannelSpec {
                id: ChannelId(1),
                name: "call".into(),
                blocks: vec![ChannelId(CHAT)],
            },
            ChannelSpec {
                id: ChannelId(CHAT),
                name: "chat".into(),
                blocks: vec![],
            },
        ],
        vec![TierSpec {
            id: TierId(1),
            name: "standard".into(),
            priority: 1,
            first_response_target: Millis::from_mins(5),
            head_start: Millis::ZERO,
        }],
        vec![SkillSpec {
            id: SkillId(10),
            name: "billing".into(),
        }],
    )
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 512];
    let mut len = 0;
    let s = unsafe { switchboard_last_error(buf.as_mut_ptr(), buf.len(), &mut len) };
    assert_eq!(s, S::Ok);
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned()
}

fn new_engine() -> *mut switchboard_engine {
    let json = serde_json::to_string(&policy()).unwrap();
    let mut e = null_mut();
    assert_eq!(
        unsafe { switchboard_engine_new(json.as_ptr(), json.len(), &mut e) },
        S::Ok
    );
    assert!(!e.is_null());
    e
}

/// An engine with operator 1 (chat capacity 2, billing 4) holding
/// conversation 1, conversation 2 waiting (needs level 5), and decisions queued.
fn busy_engine() -> *mut switchboard_engine {
    let e = new_engine();
    let cap = [switchboard_channel_capacity {
        channel_id: CHAT,
        capacity: 2,
    }];
    let skills = [switchboard_skill_level {
        skill_id: 10,
        level: 4,
    }];
    let need5 = [switchboard_skill_level {
        skill_id: 10,
        level: 5,
    }];
    let mut n = 0;
    unsafe {
        assert_eq!(
            switchboard_engine_operator_added(
                e,
                0,
                1,
                switchboard_operator_status::Available as u32,
                cap.as_ptr(),
                1,
                skills.as_ptr(),
                1,
                null(),
                0,
                false,
                0,
                false,
                0
            ),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_conversation_arrived(
                e,
                1_000,
                1,
                CHAT,
                1,
                null(),
                0,
                false,
                0,
                false,
                0,
                false,
                0
            ),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_conversation_arrived(
                e,
                2_000,
                2,
                CHAT,
                1,
                need5.as_ptr(),
                1,
                false,
                0,
                false,
                0,
                false,
                0
            ),
            S::Ok
        );
        assert_eq!(switchboard_engine_assign(e, 3_000, &mut n), S::Ok);
    }
    assert_eq!(n, 1);
    e
}

type State = (Engine, Vec<Decision>, Vec<crate::record::Finished>);

fn state(e: *mut switchboard_engine) -> State {
    let h = unsafe { &*e };
    (h.engine.clone(), h.decisions.clone(), h.finished.clone())
}

/// Runs `f`, expects `status`, and checks the handle did not change.
fn rejects(e: *mut switchboard_engine, status: S, f: impl FnOnce() -> S) {
    let before = state(e);
    assert_eq!(f(), status);
    assert_eq!(state(e), before, "a failing call changed the engine");
    assert!(!last_error().is_empty());
}

#[test]
fn new_checks_pointers_utf8_json_and_policy() {
    let good = serde_json::to_string(&policy()).unwrap();
    let mut e = null_mut();
    unsafe {
        assert_eq!(
            switchboard_engine_new(good.as_ptr(), good.len(), null_mut()),
            S::NullArgument
        );
        assert_eq!(last_error(), "argument `out` is NULL");
        assert_eq!(switchboard_engine_new(null(), 5, &mut e), S::NullArgument);
        assert_eq!(switchboard_engine_new(null(), 0, &mut e), S::InvalidJson);
        let bad_utf8 = [b'{', 0xff, b'}'];
        assert_eq!(
            switchboard_engine_new(bad_utf8.as_ptr(), 3, &mut e),
            S::InvalidUtf8
        );
        let json = b"{\"channels\": 3}";
        assert_eq!(
            switchboard_engine_new(json.as_ptr(), json.len(), &mut e),
            S::InvalidJson
        );
        assert!(last_error().starts_with("policy JSON: "));
        let mut p = policy();
        p.channels.clear();
        let empty = serde_json::to_string(&p).unwrap();
        assert_eq!(
            switchboard_engine_new(empty.as_ptr(), empty.len(), &mut e),
            S::PolicyEmpty
        );
        assert_eq!(
            last_error(),
            crate::policy::PolicyError::Empty { field: "channels" }.to_string()
        );
    }
    assert!(e.is_null(), "out is written only on OK");
    unsafe { switchboard_engine_free(null_mut()) };
}

#[test]
fn null_handle_gives_null_argument_everywhere() {
    let mut n = 0usize;
    let mut t = 0u64;
    let mut b = false;
    let mut u = 0u16;
    let nh = null_mut::<switchboard_engine>();
    let statuses = unsafe {
        [
            switchboard_engine_operator_added(
                nh,
                0,
                1,
                0,
                null(),
                0,
                null(),
                0,
                null(),
                0,
                false,
                0,
                false,
                0,
            ),
            switchboard_engine_operator_removed(nh, 0, 1),
            switchboard_engine_operator_status_changed(nh, 0, 1, 0),
            switchboard_engine_operator_capacity_changed(nh, 0, 1, CHAT, 1),
            switchboard_engine_operator_skills_changed(nh, 0, 1, null(), 0),
            switchboard_engine_operator_teams_changed(nh, 0, 1, null(), 0),
            switchboard_engine_operator_profile_changed(nh, 0, 1, true, 7),
            switchboard_engine_handled_counts_reset(nh, 0),
            switchboard_engine_bot_conversation_started(
                nh,
                0,
                1,
                CHAT,
                1,
                null(),
                0,
                false,
                0,
                false,
                0,
                false,
                0,
            ),
            switchboard_engine_conversation_arrived(
                nh,
                0,
                1,
                CHAT,
                1,
                null(),
                0,
                false,
                0,
                false,
                0,
                false,
                0,
            ),
            switchboard_engine_first_response_sent(nh, 0, 1),
            switchboard_engine_conversation_resolved(nh, 0, 1),
            switchboard_engine_conversation_abandoned(nh, 0, 1),
            switchboard_engine_message_left(nh, 0, 1),
            switchboard_engine_conversation_transferred(nh, 0, 1, 2, 0),
            switchboard_engine_conversation_claimed(nh, 0, 1, 1),
            switchboard_engine_offer_accepted(nh, 0, 1, 1),
            switchboard_engine_offer_rejected(nh, 0, 1, 1, &mut n),
            switchboard_engine_assign(nh, 0, &mut n),
            switchboard_engine_rebalance(nh, 0, &mut n),
            switchboard_engine_tick(nh, 0),
            switchboard_engine_rebalance_operator(nh, 0, 1, &mut n),
            switchboard_engine_decisions(nh, null_mut(), 0, &mut n),
            switchboard_engine_next_deadline(nh, &mut t, &mut b),
            switchboard_engine_now(nh, &mut t),
            switchboard_engine_conversation(nh, 1, &mut core::mem::zeroed()),
            switchboard_engine_operator_load(nh, 1, CHAT, &mut u, &mut u),
            switchboard_engine_operator_held(nh, 1, null_mut(), 0, &mut n),
            switchboard_engine_waiting(nh, null_mut(), 0, &mut n),
            switchboard_engine_state_counts(nh, &mut core::mem::zeroed()),
            switchboard_engine_status_counts(nh, &mut core::mem::zeroed()),
            switchboard_engine_take_finished(nh, null_mut(), 0, &mut n),
            switchboard_engine_snapshot(nh, null_mut(), 0, &mut n),
        ]
    };
    for (i, s) in statuses.iter().enumerate() {
        assert_eq!(*s, S::NullArgument, "function #{i}");
    }
    assert_eq!(last_error(), "argument `engine` is NULL");
}

#[test]
fn null_arrays_and_out_params_are_rejected_without_change() {
    let e = busy_engine();
    let mut t = 0u64;
    let mut u = 0u16;
    unsafe {
        rejects(e, S::NullArgument, || {
            switchboard_engine_operator_added(
                e,
                5_000,
                9,
                0,
                null(),
                1,
                null(),
                0,
                null(),
                0,
                false,
                0,
                false,
                0,
            )
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_operator_skills_changed(e, 5_000, 1, null(), 2)
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_operator_teams_changed(e, 5_000, 1, null(), 1)
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_conversation_arrived(
                e,
                5_000,
                7,
                CHAT,
                1,
                null(),
                1,
                false,
                0,
                false,
                0,
                false,
                0,
            )
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_assign(e, 5_000, null_mut())
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_next_deadline(e, &mut t, null_mut())
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_operator_load(e, 1, CHAT, &mut u, null_mut())
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_conversation(e, 1, null_mut())
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_decisions(e, null_mut(), 3, &mut 0)
        });
        rejects(e, S::NullArgument, || {
            switchboard_engine_waiting(e, null_mut(), 0, null_mut())
        });
        switchboard_engine_free(e);
    }
}

#[test]
fn out_of_range_enums_are_invalid_arguments() {
    let e = busy_engine();
    unsafe {
        rejects(e, S::InvalidArgument, || {
            switchboard_engine_operator_added(
                e,
                5_000,
                9,
                3,
                null(),
                0,
                null(),
                0,
                null(),
                0,
                false,
                0,
                false,
                0,
            )
        });
        assert_eq!(
            last_error(),
            "argument `status` is 3; allowed: 0 (available), 1 (away), 2 (offline)"
        );
        rejects(e, S::InvalidArgument, || {
            switchboard_engine_operator_status_changed(e, 5_000, 1, u32::MAX)
        });
        rejects(e, S::InvalidArgument, || {
            switchboard_engine_conversation_transferred(e, 5_000, 1, 4, 0)
        });
        assert_eq!(
            last_error(),
            "argument `target_kind` is 4; allowed: 0 (operator), 1 (team), 2 (queue), 3 (to queue)"
        );
        for kind in [
            switchboard_transfer_target::Team,
            switchboard_transfer_target::ToQueue,
        ] {
            rejects(e, S::InvalidArgument, || {
                switchboard_engine_conversation_transferred(
                    e,
                    5_000,
                    1,
                    kind as u32,
                    u64::from(u32::MAX) + 1,
                )
            });
        }
        switchboard_engine_free(e);
    }
}

#[test]
fn engine_errors_map_to_statuses_with_their_message() {
    let e = busy_engine();
    let mut n = 0;
    let mut u = 0u16;
    let mut info = unsafe { core::mem::zeroed() };
    let dup = [
        switchboard_skill_level {
            skill_id: 10,
            level: 2,
        },
        switchboard_skill_level {
            skill_id: 10,
            level: 3,
        },
    ];
    let bad_level = [switchboard_skill_level {
        skill_id: 10,
        level: 6,
    }];
    unsafe {
        rejects(e, S::UnknownOperator, || {
            switchboard_engine_operator_removed(e, 5_000, 99)
        });
        assert_eq!(
            last_error(),
            crate::engine::EngineError::UnknownOperator(OperatorId(99)).to_string()
        );
        rejects(e, S::UnknownConversation, || {
            switchboard_engine_conversation_resolved(e, 5_000, 99)
        });
        rejects(e, S::UnknownConversation, || {
            switchboard_engine_conversation(e, 99, &mut info)
        });
        rejects(e, S::UnknownChannel, || {
            switchboard_engine_operator_load(e, 1, 77, &mut u, &mut u)
        });
        rejects(e, S::UnknownOperator, || {
            switchboard_engine_operator_held(e, 99, null_mut(), 0, &mut n)
        });
        rejects(e, S::UnknownOperator, || {
            switchboard_engine_rebalance_operator(e, 5_000, 99, &mut n)
        });
        rejects(e, S::DuplicateConversation, || {
            switchboard_engine_conversation_arrived(
                e,
                5_000,
                2,
                CHAT,
                1,
                null(),
                0,
                false,
                0,
                false,
                0,
                false,
                0,
            )
        });
        rejects(e, S::UnknownTier, || {
            switchboard_engine_conversation_arrived(
                e,
                5_000,
                3,
                CHAT,
                9,
                null(),
                0,
                false,
                0,
                false,
                0,
                false,
                0,
            )
        });
        rejects(e, S::DuplicateSkill, || {
            switchboard_engine_operator_skills_changed(e, 5_000, 1, dup.as_ptr(), 2)
        });
        rejects(e, S::LevelOutOfRange, || {
            switchboard_engine_operator_skills_changed(e, 5_000, 1, bad_level.as_ptr(), 1)
        });
        rejects(e, S::InvalidTransition, || {
            switchboard_engine_first_response_sent(e, 5_000, 2)
        });
        rejects(e, S::TimeWentBackwards, || {
            switchboard_engine_assign(e, 10, &mut n)
        });
        rejects(e, S::TimeWentBackwards, || switchboard_engine_tick(e, 10));
        rejects(e, S::TimestampOutOfRange, || {
            switchboard_engine_assign(e, u64::MAX, &mut n)
        });
        rejects(e, S::InvalidTransition, || {
            switchboard_engine_offer_accepted(e, 5_000, 1, 1)
        });
        switchboard_engine_free(e);
    }
}

#[test]
fn buffers_report_the_size_needed_and_stay_untouched() {
    let e = busy_engine();
    let blank = switchboard_decision::from(&unsafe { &*e }.decisions[0]);
    let mut n = usize::MAX;
    unsafe {
        // Size query.
        assert_eq!(
            switchboard_engine_decisions(e, null_mut(), 0, &mut n),
            S::Ok
        );
        assert_eq!(n, 1);
        // Too small: cap 0 with a real buffer.
        let mut buf = [blank; 2];
        buf[0].conversation_id = 4242;
        let before = state(e);
        assert_eq!(
            switchboard_engine_decisions(e, buf.as_mut_ptr(), 0, &mut n),
            S::BufferTooSmall
        );
        assert_eq!((n, buf[0].conversation_id), (1, 4242));
        assert_eq!(state(e), before);
        // Fits; copying twice gives the same.
        for _ in 0..2 {
            assert_eq!(
                switchboard_engine_decisions(e, buf.as_mut_ptr(), 2, &mut n),
                S::Ok
            );
            assert_eq!(n, 1);
            assert_eq!(buf[0], blank);
        }
        assert_eq!((buf[0].conversation_id, buf[0].operator_id), (1, 1));
        assert_eq!(buf[0].kind, switchboard_decision_kind::Assigned);
        assert_eq!(buf[0].cause, switchboard_move_cause::None);
        assert_eq!(buf[0].offer_expires_at_ms, SWITCHBOARD_NO_TIME);

        // Waiting ids.
        let mut ids = [7u64; 1];
        assert_eq!(switchboard_engine_waiting(e, null_mut(), 0, &mut n), S::Ok);
        assert_eq!(n, 1);
        assert_eq!(
            switchboard_engine_waiting(e, ids.as_mut_ptr(), 1, &mut n),
            S::Ok
        );
        assert_eq!(ids, [2]);

        // Snapshot bytes.
        let mut len = 0;
        assert_eq!(
            switchboard_engine_snapshot(e, null_mut(), 0, &mut len),
            S::Ok
        );
        let mut small = vec![0xAAu8; len - 1];
        let mut got = 0;
        assert_eq!(
            switchboard_engine_snapshot(e, small.as_mut_ptr(), small.len(), &mut got),
            S::BufferTooSmall
        );
        assert_eq!(got, len);
        assert!(small.iter().all(|&b| b == 0xAA));
        switchboard_engine_free(e);
    }
}

#[test]
fn finished_records_wait_for_a_buffer_that_fits() {
    let e = busy_engine();
    let mut n = 0;
    unsafe {
        assert_eq!(switchboard_engine_first_response_sent(e, 4_000, 1), S::Ok);
        assert_eq!(switchboard_engine_conversation_resolved(e, 5_000, 1), S::Ok);
        assert_eq!(
            switchboard_engine_conversation_abandoned(e, 6_000, 2),
            S::Ok
        );
        let mut one: [switchboard_finished_conversation; 1] = core::mem::zeroed();
        assert_eq!(
            switchboard_engine_take_finished(e, one.as_mut_ptr(), 1, &mut n),
            S::BufferTooSmall
        );
        assert_eq!((n, one[0].conversation_id), (2, 0));
        // Taken from the engine into the handle, but the snapshot still has them.
        let mut len = 0;
        assert_eq!(
            switchboard_engine_snapshot(e, null_mut(), 0, &mut len),
            S::Ok
        );
        let mut bytes = vec![0u8; len];
        assert_eq!(
            switchboard_engine_snapshot(e, bytes.as_mut_ptr(), len, &mut len),
            S::Ok
        );
        let snap = Snapshot::from_bytes(&bytes).unwrap();
        assert_eq!(snap.finished.len(), 2);

        let mut two: [switchboard_finished_conversation; 2] = core::mem::zeroed();
        assert_eq!(
            switchboard_engine_take_finished(e, two.as_mut_ptr(), 2, &mut n),
            S::Ok
        );
        assert_eq!(n, 2);
        let (r, a) = (two[0], two[1]);
        assert_eq!((r.conversation_id, r.resolved_at_ms), (1, 5_000));
        assert_eq!((r.asked_at_ms, r.assigned_at_ms), (1_000, 3_000));
        assert_eq!(r.first_response_at_ms, 4_000);
        assert!(r.has_operator && r.operator_id == 1 && !r.has_team);
        assert_eq!((a.conversation_id, a.abandoned_at_ms), (2, 6_000));
        assert_eq!(a.assigned_at_ms, SWITCHBOARD_NO_TIME);
        assert!(!a.has_operator);
        // Handed out once.
        assert_eq!(
            switchboard_engine_take_finished(e, two.as_mut_ptr(), 2, &mut n),
            S::Ok
        );
        assert_eq!(n, 0);
        switchboard_engine_free(e);
    }
}

/// Activity intervals come out like finished records: sized, kept in the
/// snapshot until they fit, handed out once, and fed to the KPI handle.
#[test]
fn status_intervals_wait_for_a_buffer_that_fits_and_reach_the_kpis() {
    let e = busy_engine();
    let mut n = 0;
    unsafe {
        // Operator 1: idle from 0 until the assignment at 3 s, busy until
        // resolving at 5 s with nothing left to hold, then away at 8 s.
        assert_eq!(switchboard_engine_conversation_resolved(e, 5_000, 1), S::Ok);
        assert_eq!(
            switchboard_engine_operator_status_changed(
                e,
                8_000,
                1,
                switchboard_operator_status::Away as u32
            ),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_take_status_intervals(e, null_mut(), 0, &mut n),
            S::Ok
        );
        let waiting = n;
        assert!(waiting >= 3, "{waiting}");
        let mut one: [switchboard_status_interval; 1] = core::mem::zeroed();
        assert_eq!(
            switchboard_engine_take_status_intervals(e, one.as_mut_ptr(), 1, &mut n),
            S::BufferTooSmall
        );
        assert_eq!((n, one[0].operator_id), (waiting, 0));
        let snap = Snapshot::from_bytes(&snapshot_bytes(e)).unwrap();
        assert_eq!(snap.status_intervals.len(), waiting);

        let mut all = vec![core::mem::zeroed::<switchboard_status_interval>(); waiting];
        assert_eq!(
            switchboard_engine_take_status_intervals(e, all.as_mut_ptr(), waiting, &mut n),
            S::Ok
        );
        let last = all[waiting - 1];
        assert_eq!(
            (last.operator_id, last.end_ms, last.activity),
            (1, 8_000, switchboard_activity::Idle as u32)
        );
        assert!(all.windows(2).all(|w| w[0].end_ms <= w[1].end_ms));
        assert_eq!(
            switchboard_engine_take_status_intervals(e, all.as_mut_ptr(), waiting, &mut n),
            S::Ok
        );
        assert_eq!(n, 0, "handed out once");

        let mut k = null_mut();
        assert_eq!(crate::ffi::switchboard_kpi_new(null(), 0, &mut k), S::Ok);
        assert_eq!(
            crate::ffi::switchboard_kpi_push_status(k, all.as_ptr(), waiting),
            S::Ok
        );
        let mut bad = all[0];
        bad.activity = 9;
        assert_eq!(
            crate::ffi::switchboard_kpi_push_status(k, &bad, 1),
            S::InvalidArgument
        );
        assert!(
            last_error().contains("intervals[0].activity"),
            "{}",
            last_error()
        );
        let mut r = core::mem::MaybeUninit::uninit();
        assert_eq!(crate::ffi::switchboard_kpi_report(k, r.as_mut_ptr()), S::Ok);
        let r = r.assume_init();
        let busy: u64 = all
            .iter()
            .filter(|s| s.activity == switchboard_activity::Busy as u32)
            .map(|s| s.end_ms - s.start_ms)
            .sum();
        assert_eq!(r.overall.busy_ms, busy);
        assert!(busy > 0);
        crate::ffi::switchboard_kpi_free(k);
        switchboard_engine_free(e);
    }
}

fn snapshot_bytes(e: *mut switchboard_engine) -> Vec<u8> {
    let mut len = 0;
    unsafe {
        assert_eq!(
            switchboard_engine_snapshot(e, null_mut(), 0, &mut len),
            S::Ok
        );
        let mut bytes = vec![0u8; len];
        assert_eq!(
            switchboard_engine_snapshot(e, bytes.as_mut_ptr(), len, &mut len),
            S::Ok
        );
        bytes
    }
}

#[test]
fn queries_read_the_engine() {
    let e = busy_engine();
    let (mut load, mut cap, mut t) = (0u16, 0u16, 0u64);
    let mut has = true;
    let mut info: switchboard_conversation_info = unsafe { core::mem::zeroed() };
    let mut sc: switchboard_state_counts = unsafe { core::mem::zeroed() };
    let mut oc: switchboard_status_counts = unsafe { core::mem::zeroed() };
    let mut held = [0u64; 4];
    let mut n = 0;
    unsafe {
        assert_eq!(
            switchboard_engine_operator_load(e, 1, CHAT, &mut load, &mut cap),
            S::Ok
        );
        assert_eq!((load, cap), (1, 2));
        assert_eq!(switchboard_engine_conversation(e, 1, &mut info), S::Ok);
        assert_eq!(info.state, switchboard_conversation_state::Assigned);
        assert!(info.has_operator && info.operator_id == 1);
        assert_eq!((info.asked_at_ms, info.assigned_at_ms), (1_000, 3_000));
        assert_eq!(info.first_response_at_ms, SWITCHBOARD_NO_TIME);
        assert_eq!(switchboard_engine_conversation(e, 2, &mut info), S::Ok);
        assert_eq!(info.state, switchboard_conversation_state::Waiting);
        assert!(!info.has_operator);
        assert_eq!(switchboard_engine_state_counts(e, &mut sc), S::Ok);
        assert_eq!((sc.waiting, sc.with_operator), (1, 1));
        assert_eq!(switchboard_engine_status_counts(e, &mut oc), S::Ok);
        assert_eq!((oc.available, oc.away, oc.offline), (1, 0, 0));
        assert_eq!(
            switchboard_engine_operator_held(e, 1, held.as_mut_ptr(), 4, &mut n),
            S::Ok
        );
        assert_eq!(&held[..n], &[1]);
        assert_eq!(switchboard_engine_next_deadline(e, &mut t, &mut has), S::Ok);
        assert!(!has);
        assert_eq!(t, SWITCHBOARD_NO_TIME);
        assert_eq!(switchboard_engine_now(e, &mut t), S::Ok);
        assert_eq!(t, 3_000);
        switchboard_engine_free(e);
    }
}

fn real_time(e: *mut switchboard_engine) -> switchboard_real_time {
    let mut out: switchboard_real_time = unsafe { core::mem::zeroed() };
    assert_eq!(unsafe { switchboard_engine_real_time(e, &mut out) }, S::Ok);
    out
}

fn queue_status(e: *mut switchboard_engine, conversation: u64) -> switchboard_queue_status {
    let mut out: switchboard_queue_status = unsafe { core::mem::zeroed() };
    assert_eq!(
        unsafe { switchboard_engine_queue_status(e, conversation, &mut out) },
        S::Ok
    );
    out
}

#[test]
fn wall_board_and_queue_position_match_the_rust_api() {
    let e = busy_engine();
    let engine = || unsafe { &(*e).engine };
    // Operator 1 holds conversation 1 (asked at 1 s, assigned at 3 s);
    // conversation 2 (asked at 2 s) waits for a level nobody has.
    let board = real_time(e);
    assert_eq!(board, switchboard_real_time::from(&engine().real_time()));
    assert_eq!(board.at_ms, 3_000);
    assert!(board.has_longest_wait && board.has_bottleneck);
    assert_eq!(
        (board.longest_wait_conversation_id, board.longest_wait_ms),
        (2, 1_000)
    );
    assert_eq!(
        (
            board.bottleneck_operator_id,
            board.bottleneck_conversation_id,
            board.bottleneck_wait_ms
        ),
        (1, 1, 2_000)
    );
    assert_eq!(board.conversations, engine().state_counts().into());
    assert_eq!((board.operators.available, board.operators.away), (1, 0));

    let q = queue_status(e, 2);
    assert_eq!(q, engine().queue_status(ConversationId(2)).unwrap().into());
    assert_eq!(
        (q.position, q.eligible_operators, q.eligible_slots),
        (1, 0, 0)
    );
    assert!(!q.has_estimated_wait, "nobody fits it: no estimate");
    assert_eq!(q.estimated_wait_ms, 0);

    // Operator 1 full on chat (capacity 1): conversation 3, which anyone
    // fits, waits behind conversation 2 with an estimate.
    let mut n = 0;
    unsafe {
        assert_eq!(
            switchboard_engine_operator_capacity_changed(e, 3_500, 1, CHAT, 1),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_conversation_arrived(
                e,
                4_000,
                3,
                CHAT,
                1,
                null(),
                0,
                false,
                0,
                false,
                0,
                false,
                0
            ),
            S::Ok
        );
        assert_eq!(switchboard_engine_assign(e, 4_000, &mut n), S::Ok);
    }
    let q = queue_status(e, 3);
    let rust = engine().queue_status(ConversationId(3)).unwrap();
    assert_eq!(q, rust.into());
    assert_eq!(
        (
            q.position,
            q.eligible_operators,
            q.eligible_slots,
            q.free_slots
        ),
        (2, 1, 1, 0)
    );
    assert!(q.has_estimated_wait);
    assert_eq!(Some(Millis(q.estimated_wait_ms)), rust.estimated_wait);
    assert_eq!(
        real_time(e),
        switchboard_real_time::from(&engine().real_time())
    );

    // Not waiting, unknown, NULL: refused, nothing written.
    let mut out: switchboard_queue_status = unsafe { core::mem::zeroed() };
    out.position = 77;
    rejects(e, S::InvalidTransition, || unsafe {
        switchboard_engine_queue_status(e, 1, &mut out)
    });
    assert_eq!(
        last_error(),
        "cannot report the queue position of conversation #1: it is Assigned"
    );
    rejects(e, S::UnknownConversation, || unsafe {
        switchboard_engine_queue_status(e, 99, &mut out)
    });
    assert_eq!(out.position, 77, "out is written only on OK");
    rejects(e, S::NullArgument, || unsafe {
        switchboard_engine_queue_status(e, 3, null_mut())
    });
    rejects(e, S::NullArgument, || unsafe {
        switchboard_engine_real_time(e, null_mut())
    });
    unsafe {
        assert_eq!(
            switchboard_engine_real_time(null(), &mut real_time(e)),
            S::NullArgument
        );
        assert_eq!(
            switchboard_engine_queue_status(null(), 3, &mut out),
            S::NullArgument
        );
        switchboard_engine_free(e);
    }
}

#[test]
fn wall_board_of_an_empty_engine_has_no_waits() {
    let e = new_engine();
    let board = real_time(e);
    assert!(!board.has_longest_wait && !board.has_bottleneck);
    assert_eq!(
        (
            board.longest_wait_conversation_id,
            board.longest_wait_ms,
            board.bottleneck_operator_id,
            board.bottleneck_conversation_id,
            board.bottleneck_wait_ms
        ),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(
        board,
        switchboard_real_time::from(&unsafe { &(*e).engine }.real_time())
    );
    unsafe { switchboard_engine_free(e) };
}

#[test]
fn events_build_the_same_engine_as_the_rust_api() {
    let e = busy_engine();
    let teams = [100u32, 101];
    let mut n = 0;
    unsafe {
        assert_eq!(
            switchboard_engine_operator_teams_changed(e, 4_000, 1, teams.as_ptr(), 2),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_operator_capacity_changed(e, 4_000, 1, CHAT, 3),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_bot_conversation_started(
                e,
                4_500,
                5,
                CHAT,
                1,
                null(),
                0,
                true,
                100,
                true,
                1,
                false,
                0
            ),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_conversation_transferred(
                e,
                5_000,
                1,
                switchboard_transfer_target::Queue as u32,
                12345
            ),
            S::Ok
        );
        assert_eq!(switchboard_engine_assign(e, 5_000, &mut n), S::Ok);
    }
    let mut r = Engine::new(policy()).unwrap();
    let at = Timestamp;
    let events = [
        Event::OperatorAdded {
            at: at(0),
            operator: OperatorSpec::new(OperatorId(1))
                .status(OperatorStatus::Available)
                .capacity(ChannelId(CHAT), 2)
                .skill(SkillId(10), 4),
        },
        Event::ConversationArrived {
            at: at(1_000),
            conversation: ConversationSpec::new(ConversationId(1), ChannelId(CHAT), TierId(1)),
        },
        Event::ConversationArrived {
            at: at(2_000),
            conversation: ConversationSpec::new(ConversationId(2), ChannelId(CHAT), TierId(1))
                .skill(SkillId(10), 5),
        },
        Event::Assign { at: at(3_000) },
        Event::OperatorTeamsChanged {
            at: at(4_000),
            operator: OperatorId(1),
            teams: [TeamId(100), TeamId(101)].into_iter().collect(),
        },
        Event::OperatorCapacityChanged {
            at: at(4_000),
            operator: OperatorId(1),
            channel: ChannelId(CHAT),
            capacity: 3,
        },
        Event::BotConversationStarted {
            at: at(4_500),
            conversation: ConversationSpec::new(ConversationId(5), ChannelId(CHAT), TierId(1))
                .team(TeamId(100))
                .preferred_operator(OperatorId(1)),
        },
        Event::ConversationTransferred {
            at: at(5_000),
            conversation: ConversationId(1),
            to: TransferTarget::Queue,
        },
    ];
    // Every call's decisions join the handle's queue, none replaced.
    let mut decisions = Vec::new();
    for ev in events {
        decisions.extend(r.apply(ev).unwrap());
    }
    decisions.extend(r.assign(at(5_000)).unwrap());
    let h = unsafe { &*e };
    assert_eq!(h.engine, r);
    assert_eq!(h.decisions, decisions);
    assert_eq!(n, decisions.len());
    unsafe { switchboard_engine_free(e) };
}

#[test]
fn snapshot_restores_an_equal_engine_and_bad_bytes_are_rejected() {
    let e = busy_engine();
    let mut len = 0;
    let mut copy = null_mut();
    unsafe {
        assert_eq!(
            switchboard_engine_snapshot(e, null_mut(), 0, &mut len),
            S::Ok
        );
        let mut bytes = vec![0u8; len];
        assert_eq!(
            switchboard_engine_snapshot(e, bytes.as_mut_ptr(), len, &mut len),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_restore(bytes.as_ptr(), len, &mut copy),
            S::Ok
        );
        // Equal state (the indexes are rebuilt, so compare snapshots).
        assert_eq!((*copy).engine.snapshot(), (*e).engine.snapshot());
        switchboard_engine_free(copy);
        copy = null_mut();
        assert_eq!(
            switchboard_engine_restore(bytes.as_ptr(), len - 1, &mut copy),
            S::SnapshotCorrupted
        );
        assert_eq!(
            switchboard_engine_restore(bytes.as_ptr(), 3, &mut copy),
            S::SnapshotTruncated
        );
        bytes[0] = b'X';
        assert_eq!(
            switchboard_engine_restore(bytes.as_ptr(), len, &mut copy),
            S::SnapshotBadMagic
        );
        assert_eq!(
            switchboard_engine_restore(null(), 4, &mut copy),
            S::NullArgument
        );
        assert_eq!(
            switchboard_engine_restore(bytes.as_ptr(), len, null_mut()),
            S::NullArgument
        );
        assert!(copy.is_null());
        switchboard_engine_free(e);
    }
}

#[test]
fn a_panic_poisons_the_handle_and_free_still_works() {
    let e = busy_engine();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let s = with_handle_mut(e, |_| panic!("boom"));
    std::panic::set_hook(hook);
    assert_eq!(s, S::Panic);
    assert_eq!(last_error(), "panic inside switchboard: boom");
    let mut n = 0;
    unsafe {
        assert_eq!(switchboard_engine_assign(e, 9_000, &mut n), S::Panic);
        assert_eq!(
            switchboard_engine_waiting(e, null_mut(), 0, &mut n),
            S::Panic
        );
        switchboard_engine_free(e);
    }
}

#[test]
fn last_error_sizes_and_never_overwrites_itself() {
    unsafe {
        assert_eq!(
            switchboard_engine_operator_removed(null_mut(), 0, 1),
            S::NullArgument
        );
        let msg = "argument `engine` is NULL";
        let mut len = 0;
        assert_eq!(switchboard_last_error(null_mut(), 0, &mut len), S::Ok);
        assert_eq!(len, msg.len() + 1);
        let mut small = [1 as c_char; 4];
        assert_eq!(
            switchboard_last_error(small.as_mut_ptr(), 4, &mut len),
            S::BufferTooSmall
        );
        assert_eq!(small, [1; 4]);
        assert_eq!(
            switchboard_last_error(null_mut(), 1, &mut len),
            S::NullArgument
        );
        assert_eq!(
            switchboard_last_error(null_mut(), 0, null_mut()),
            S::NullArgument
        );
        assert_eq!(last_error(), msg);
        // Other threads have their own.
        std::thread::spawn(|| assert_eq!(last_error(), ""))
            .join()
            .unwrap();
    }
}

/// Every call queues what it decided, plain events included: a tick, an
/// arrival and a resolution that pass an offer's expiry each queue the
/// lapse (no debug-build panic, nothing dropped), and the queue keeps
/// it until the caller takes it.
#[test]
fn plain_event_calls_queue_the_decisions_they_make() {
    let mut p = policy();
    p.offers = Some(crate::policy::OfferPolicy::new(Millis(15_000)));
    let json = serde_json::to_string(&p).unwrap();
    let cap = [switchboard_channel_capacity {
        channel_id: CHAT,
        capacity: 2,
    }];
    for call in 0..3 {
        let mut e = null_mut();
        let mut n = 0;
        unsafe {
            assert_eq!(
                switchboard_engine_new(json.as_ptr(), json.len(), &mut e),
                S::Ok
            );
            let status = switchboard_operator_status::Available as u32;
            assert_eq!(
                switchboard_engine_operator_added(
                    e,
                    0,
                    1,
                    status,
                    cap.as_ptr(),
                    1,
                    null(),
                    0,
                    null(),
                    0,
                    false,
                    0,
                    false,
                    0
                ),
                S::Ok
            );
            for c in [1, 2] {
                if c == 2 {
                    assert_eq!(switchboard_engine_assign(e, 0, &mut n), S::Ok);
                }
                let arrived = switchboard_engine_conversation_arrived(
                    e,
                    0,
                    c,
                    CHAT,
                    1,
                    null(),
                    0,
                    false,
                    0,
                    false,
                    0,
                    false,
                    0,
                );
                assert_eq!(arrived, S::Ok);
            }
            // Conversation 1 is offered, conversation 2 claimed by hand.
            assert_eq!(switchboard_engine_conversation_claimed(e, 0, 2, 1), S::Ok);
            let mut first = [switchboard_decision::from(&(&(*e).decisions)[0]); 4];
            assert_eq!(
                switchboard_engine_take_decisions(e, first.as_mut_ptr(), 4, &mut n),
                S::Ok
            );
            assert_eq!((n, first[0].kind), (1, switchboard_decision_kind::Offered));
            let r = match call {
                0 => switchboard_engine_tick(e, 20_000),
                1 => switchboard_engine_conversation_arrived(
                    e,
                    20_000,
                    3,
                    CHAT,
                    1,
                    null(),
                    0,
                    false,
                    0,
                    false,
                    0,
                    false,
                    0,
                ),
                _ => switchboard_engine_conversation_resolved(e, 20_000, 2),
            };
            assert_eq!(r, S::Ok, "call {call}");
            // Peeking leaves it queued; taking hands it out once.
            assert_eq!(
                switchboard_engine_decisions(e, null_mut(), 0, &mut n),
                S::Ok
            );
            assert_eq!(n, 1, "call {call}");
            let mut got = first;
            assert_eq!(
                switchboard_engine_take_decisions(e, got.as_mut_ptr(), 4, &mut n),
                S::Ok
            );
            assert_eq!(n, 1);
            assert_eq!(got[0].kind, switchboard_decision_kind::Unassigned);
            assert_eq!(got[0].cause, switchboard_move_cause::OfferExpired);
            assert_eq!(got[0].conversation_id, 1);
            assert_eq!(
                switchboard_engine_take_decisions(e, null_mut(), 0, &mut n),
                S::Ok
            );
            assert_eq!(n, 0, "taken once");
            switchboard_engine_free(e);
        }
    }
}

#[test]
fn status_names_and_versions() {
    let name = |s: u32| {
        unsafe { CStr::from_ptr(switchboard_status_str(s)) }
            .to_str()
            .unwrap()
    };
    assert_eq!(name(0), "ok");
    assert_eq!(name(202), "unknown_conversation");
    assert_eq!(name(999), "panic");
    assert_eq!(name(7), "unknown_status");
    let v = unsafe { CStr::from_ptr(super::super::switchboard_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(
        super::super::switchboard_abi_version(),
        super::super::SWITCHBOARD_ABI_VERSION
    );
}

/// Every route serde knows of (`tests/integration/mirrors.rs` walks every
/// selection strategy to its route) has its C enum variant, a value of its
/// own and its line in the committed header.
#[test]
fn every_route_has_its_c_enum_value_and_header_line() {
    let err = serde_json::from_str::<Route>("\"no_such_route\"")
        .unwrap_err()
        .to_string();
    let list = err
        .split("expected one of ")
        .nth(1)
        .expect("a variant list");
    let names: Vec<&str> = list
        .split(", ")
        .filter_map(|s| s.trim_start_matches('`').split('`').next())
        .collect();
    assert_eq!(names.len(), 11, "{names:?}");
    let header = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/include/switchboard.h"
    ))
    .unwrap();
    let mut values = Vec::new();
    for name in names {
        let route: Route = serde_json::from_str(&format!("\"{name}\"")).unwrap();
        assert_eq!(route.as_str(), name);
        let c = switchboard_route::from(route);
        let camel: String = name
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        assert_eq!(format!("{c:?}"), camel, "{name}: C enum variant");
        let define = format!("SWITCHBOARD_ROUTE_{} = {},", name.to_uppercase(), c as u32);
        assert!(header.contains(&define), "{name}: header has `{define}`");
        values.push(c as u32);
    }
    values.sort_unstable();
    values.dedup();
    assert_eq!(values.len(), 11, "distinct C values");
}

#[test]
fn policy_changed_checks_its_json_and_refuses_without_change() {
    let e = busy_engine();
    let json = |p: &Policy| serde_json::to_string(p).unwrap();
    unsafe {
        rejects(e, S::NullArgument, || {
            switchboard_engine_policy_changed(e, 4_000, null(), 3)
        });
        let bad_utf8 = [b'{', 0xff, b'}'];
        rejects(e, S::InvalidUtf8, || {
            switchboard_engine_policy_changed(e, 4_000, bad_utf8.as_ptr(), 3)
        });
        let not_policy = b"{\"channels\": 3}";
        rejects(e, S::InvalidJson, || {
            switchboard_engine_policy_changed(e, 4_000, not_policy.as_ptr(), not_policy.len())
        });
        // An invalid policy reads as its own POLICY_* status.
        let mut p = policy();
        p.tiers.clear();
        let empty = json(&p);
        rejects(e, S::PolicyEmpty, || {
            switchboard_engine_policy_changed(e, 4_000, empty.as_ptr(), empty.len())
        });
        assert!(last_error().starts_with("policy change refused: the new policy is invalid"));
        // Dropping the chat channel, which operator 1 and both
        // conversations use, reads as the channel being unknown.
        let mut p = policy();
        p.channels.retain(|c| c.id != ChannelId(CHAT));
        p.channels[0].blocks.clear();
        let no_chat = json(&p);
        rejects(e, S::UnknownChannel, || {
            switchboard_engine_policy_changed(e, 4_000, no_chat.as_ptr(), no_chat.len())
        });
        assert_eq!(
            last_error(),
            "policy change refused: channel #2 is still used by operator #1"
        );
        rejects(e, S::TimeWentBackwards, || {
            switchboard_engine_policy_changed(e, 1, empty.as_ptr(), empty.len())
        });
        assert_eq!(
            switchboard_engine_policy_changed(null_mut(), 4_000, null(), 0),
            S::NullArgument
        );
    }
    // Accepted: the handle's engine is the Rust engine given the same event.
    let mut p = policy();
    p.overflow = vec![crate::policy::OverflowStep::new(
        Millis::from_secs(1),
        crate::policy::Relax::LowerLevels(1),
    )];
    let mut rust = state(e).0;
    rust.apply(Event::PolicyChanged {
        at: Timestamp(4_000),
        policy: Box::new(p.clone()),
    })
    .unwrap();
    let text = json(&p);
    let mut n = 0;
    unsafe {
        assert_eq!(
            switchboard_engine_policy_changed(e, 4_000, text.as_ptr(), text.len()),
            S::Ok
        );
        assert_eq!(state(e).0.state_hash(), rust.state_hash());
        assert_eq!(state(e).0.policy(), &p);
        // Conversation 2 (needs billing 5) now overflows to level 4 and
        // goes to operator 1 at the next assign.
        assert_eq!(switchboard_engine_assign(e, 4_000, &mut n), S::Ok);
        assert_eq!(n, 2);
        switchboard_engine_free(e);
    }
}

// ----- queues and routing profiles (issue 19) ------------------------------------

/// Queue A: fewest handled first.
const VIP: u32 = 1;
/// Queue B: the most proficient first.
const SALES: u32 = 2;
/// A routing profile that serves `SALES` only.
const SALES_ONLY: u32 = 7;

/// [`policy`] with two queues and a profile, written by hand as a C host
/// writes it (fields left out take their defaults).
const QUEUES_JSON: &str = r#"{
  "channels": [{"id": 1, "name": "call", "blocks": [2]}, {"id": 2, "name": "chat"}],
  "tiers": [{"id": 1, "name": "standard", "priority": 1, "first_response_target": 300000}],
  "skills": [{"id": 10, "name": "billing"}],
  "queues": [
    {"id": 1, "name": "vip", "selection": "fewest_handled"},
    {"id": 2, "name": "sales", "selection": "most_proficient"}
  ],
  "profiles": [{"id": 7, "name": "sales only", "queues": [{"queue": 2, "priority": 1}]}]
}"#;

/// [`QUEUES_JSON`] built in Rust.
fn queue_policy() -> Policy {
    let mut p = policy();
    p.queues = vec![
        QueueSpec::new(QueueId(VIP), "vip").selection(Selection::FewestHandled),
        QueueSpec::new(QueueId(SALES), "sales").selection(Selection::MostProficient),
    ];
    p.profiles = vec![
        RoutingProfile::new(ProfileId(SALES_ONLY), "sales only")
            .serve(ProfileQueue::new(QueueId(SALES), 1)),
    ];
    p
}

/// Adds an operator with chat capacity 3 and billing at `level`.
unsafe fn add_operator(
    e: *mut switchboard_engine,
    at: u64,
    id: u64,
    level: u8,
    profile: Option<u32>,
) -> S {
    let cap = [switchboard_channel_capacity {
        channel_id: CHAT,
        capacity: 3,
    }];
    let skills = [switchboard_skill_level {
        skill_id: 10,
        level,
    }];
    unsafe {
        switchboard_engine_operator_added(
            e,
            at,
            id,
            switchboard_operator_status::Available as u32,
            cap.as_ptr(),
            1,
            skills.as_ptr(),
            1,
            null(),
            0,
            false,
            0,
            profile.is_some(),
            profile.unwrap_or(0),
        )
    }
}

/// A chat conversation needing billing 1, in `queue` (`None`: the default queue).
unsafe fn arrive(e: *mut switchboard_engine, at: u64, id: u64, queue: Option<u32>) -> S {
    let need = [switchboard_skill_level {
        skill_id: 10,
        level: 1,
    }];
    unsafe {
        switchboard_engine_conversation_arrived(
            e,
            at,
            id,
            CHAT,
            1,
            need.as_ptr(),
            1,
            false,
            0,
            false,
            0,
            queue.is_some(),
            queue.unwrap_or(0),
        )
    }
}

/// Assigns at `at` and takes every queued decision.
fn assign_and_take(e: *mut switchboard_engine, at: u64) -> Vec<switchboard_decision> {
    let mut n = 0;
    unsafe {
        assert_eq!(switchboard_engine_assign(e, at, &mut n), S::Ok);
        let mut buf = vec![core::mem::zeroed::<switchboard_decision>(); n];
        assert_eq!(
            switchboard_engine_take_decisions(e, buf.as_mut_ptr(), n, &mut n),
            S::Ok
        );
        buf.truncate(n);
        buf
    }
}

/// The one decision of an assign: (conversation, operator, route, queue).
fn only(ds: &[switchboard_decision]) -> (u64, u64, switchboard_route, Option<u32>) {
    assert_eq!(ds.len(), 1, "{ds:?}");
    let d = &ds[0];
    assert_eq!(d.kind, switchboard_decision_kind::Assigned);
    (
        d.conversation_id,
        d.operator_id,
        d.route,
        d.has_queue.then_some(d.queue_id),
    )
}

fn conversation_info(e: *mut switchboard_engine, id: u64) -> switchboard_conversation_info {
    let mut info = core::mem::MaybeUninit::uninit();
    assert_eq!(
        unsafe { switchboard_engine_conversation(e, id, info.as_mut_ptr()) },
        S::Ok
    );
    unsafe { info.assume_init() }
}

fn handled(e: *mut switchboard_engine) -> Vec<(u64, u64)> {
    let snap = unsafe { &*e }.engine.snapshot();
    let mut h: Vec<(u64, u64)> = snap
        .operators
        .iter()
        .map(|o| (o.spec.id.0, o.handled))
        .collect();
    h.sort_unstable();
    h
}

/// Runs `f`, expects `status`, and checks that the state hash and the
/// whole handle stayed as they were.
fn rejects_hashed(e: *mut switchboard_engine, status: S, f: impl FnOnce() -> S) {
    let hash = state(e).0.state_hash();
    rejects(e, status, f);
    assert_eq!(state(e).0.state_hash(), hash, "state hash changed");
}

/// A C host with two queues and a profile: each conversation is routed by
/// its queue's rules and its decision names the queue; an operator's
/// profile limits the queues they serve and can change; unknown queues and
/// profiles are refused without a change; handled counts reset; a transfer
/// moves a conversation to another queue; the finished records carry the
/// queue out of the engine and into the KPI calculator. The same events
/// through the Rust API give the same engine and decisions.
#[test]
fn queues_and_profiles_route_through_the_c_api() {
    let mut e = null_mut();
    unsafe {
        assert_eq!(
            switchboard_engine_new(QUEUES_JSON.as_ptr(), QUEUES_JSON.len(), &mut e),
            S::Ok
        );
    }
    assert_eq!(
        unsafe { &*e }.engine.policy(),
        &queue_policy(),
        "queues and profiles come through the policy JSON"
    );
    let at = Timestamp;
    let op = |id: u64, level: u8| {
        OperatorSpec::new(OperatorId(id))
            .status(OperatorStatus::Available)
            .capacity(ChannelId(CHAT), 3)
            .skill(SkillId(10), level)
    };
    let conv = |id: u64| {
        ConversationSpec::new(ConversationId(id), ChannelId(CHAT), TierId(1)).skill(SkillId(10), 1)
    };
    // The same inputs for the Rust engine, in order.
    let mut events = vec![
        Event::OperatorAdded {
            at: at(0),
            operator: op(1, 2),
        },
        Event::OperatorAdded {
            at: at(0),
            operator: op(3, 2),
        },
        Event::OperatorAdded {
            at: at(0),
            operator: op(2, 5).profile(ProfileId(SALES_ONLY)),
        },
    ];
    let mut c_decisions = Vec::new();
    unsafe {
        assert_eq!(add_operator(e, 0, 1, 2, None), S::Ok);
        assert_eq!(add_operator(e, 0, 3, 2, None), S::Ok);
        assert_eq!(add_operator(e, 0, 2, 5, Some(SALES_ONLY)), S::Ok);

        // The default queue, least loaded: operator 2 serves sales only.
        assert_eq!(arrive(e, 1_000, 10, None), S::Ok);
        let ds = assign_and_take(e, 1_000);
        assert_eq!(only(&ds), (10, 1, switchboard_route::LeastLoaded, None));
        c_decisions.extend(ds);
        assert_eq!(
            switchboard_engine_conversation_resolved(e, 2_000, 10),
            S::Ok
        );
        assert_eq!(arrive(e, 3_000, 11, None), S::Ok);
        let ds = assign_and_take(e, 3_000);
        // Never assigned before, operator 2 would come first but for the profile.
        assert_eq!(only(&ds), (11, 3, switchboard_route::LeastLoaded, None));
        c_decisions.extend(ds);
        events.extend([
            Event::ConversationArrived {
                at: at(1_000),
                conversation: conv(10),
            },
            Event::Assign { at: at(1_000) },
            Event::ConversationResolved {
                at: at(2_000),
                conversation: ConversationId(10),
            },
            Event::ConversationArrived {
                at: at(3_000),
                conversation: conv(11),
            },
            Event::Assign { at: at(3_000) },
        ]);

        // Queue A by its own rule: operator 1 has handled one, operator 3
        // none (least loaded would pick operator 1, who holds nothing).
        assert_eq!(handled(e), [(1, 1), (2, 0), (3, 0)]);
        assert_eq!(arrive(e, 4_000, 12, Some(VIP)), S::Ok);
        let info = conversation_info(e, 12);
        assert_eq!((info.has_queue, info.queue_id), (true, VIP));
        let ds = assign_and_take(e, 4_000);
        assert_eq!(
            only(&ds),
            (12, 3, switchboard_route::FewestHandled, Some(VIP))
        );
        c_decisions.extend(ds);
        // Queue B: the most proficient, operator 2 (profile: sales only).
        assert_eq!(arrive(e, 5_000, 13, Some(SALES)), S::Ok);
        let ds = assign_and_take(e, 5_000);
        assert_eq!(
            only(&ds),
            (13, 2, switchboard_route::MostProficient, Some(SALES))
        );
        c_decisions.extend(ds);
        events.extend([
            Event::ConversationArrived {
                at: at(4_000),
                conversation: conv(12).queue(QueueId(VIP)),
            },
            Event::Assign { at: at(4_000) },
            Event::ConversationArrived {
                at: at(5_000),
                conversation: conv(13).queue(QueueId(SALES)),
            },
            Event::Assign { at: at(5_000) },
        ]);

        // Unknown queues and profiles: refused by name, nothing changes.
        rejects_hashed(e, S::UnknownQueue, || arrive(e, 5_500, 20, Some(99)));
        assert_eq!(
            last_error(),
            EngineError::UnknownQueue(QueueId(99)).to_string()
        );
        rejects_hashed(e, S::UnknownQueue, || {
            switchboard_engine_bot_conversation_started(
                e,
                5_500,
                20,
                CHAT,
                1,
                null(),
                0,
                false,
                0,
                false,
                0,
                true,
                99,
            )
        });
        rejects_hashed(e, S::UnknownQueue, || {
            switchboard_engine_conversation_transferred(
                e,
                5_500,
                11,
                switchboard_transfer_target::ToQueue as u32,
                99,
            )
        });
        rejects_hashed(e, S::UnknownProfile, || {
            add_operator(e, 5_500, 9, 3, Some(99))
        });
        assert_eq!(
            last_error(),
            EngineError::UnknownProfile(ProfileId(99)).to_string()
        );
        rejects_hashed(e, S::UnknownProfile, || {
            switchboard_engine_operator_profile_changed(e, 5_500, 1, true, 99)
        });
        rejects_hashed(e, S::UnknownOperator, || {
            switchboard_engine_operator_profile_changed(e, 5_500, 9, false, 0)
        });

        // Profiles change: operator 2 serves every queue, operator 1 sales
        // only; the next default-queue conversation goes to operator 2
        // (load 1/3), not operator 1 (load 0/3).
        assert_eq!(
            switchboard_engine_operator_profile_changed(e, 6_000, 2, false, 0),
            S::Ok
        );
        assert_eq!(
            switchboard_engine_operator_profile_changed(e, 6_000, 1, true, SALES_ONLY),
            S::Ok
        );
        let h = &*e;
        assert_eq!(h.engine.operator(OperatorId(2)).unwrap().spec.profile, None);
        assert_eq!(
            h.engine.operator(OperatorId(1)).unwrap().spec.profile,
            Some(ProfileId(SALES_ONLY))
        );
        assert_eq!(arrive(e, 6_000, 14, None), S::Ok);
        let ds = assign_and_take(e, 6_000);
        assert_eq!(only(&ds), (14, 2, switchboard_route::LeastLoaded, None));
        c_decisions.extend(ds);

        // Handled counts start again from 0.
        assert_eq!(switchboard_engine_handled_counts_reset(e, 7_000), S::Ok);
        assert_eq!(handled(e), [(1, 0), (2, 0), (3, 0)]);
        rejects_hashed(e, S::TimeWentBackwards, || {
            switchboard_engine_handled_counts_reset(e, 6_999)
        });
        events.extend([
            Event::OperatorProfileChanged {
                at: at(6_000),
                operator: OperatorId(2),
                profile: None,
            },
            Event::OperatorProfileChanged {
                at: at(6_000),
                operator: OperatorId(1),
                profile: Some(ProfileId(SALES_ONLY)),
            },
            Event::ConversationArrived {
                at: at(6_000),
                conversation: conv(14),
            },
            Event::Assign { at: at(6_000) },
            Event::HandledCountsReset { at: at(7_000) },
        ]);

        // Transfer to queue B: back to routing there, then its rule (the
        // most proficient) picks operator 2.
        assert_eq!(
            switchboard_engine_conversation_transferred(
                e,
                8_000,
                11,
                switchboard_transfer_target::ToQueue as u32,
                u64::from(SALES),
            ),
            S::Ok
        );
        let info = conversation_info(e, 11);
        assert_eq!(
            (info.state, info.has_queue, info.queue_id, info.transfers),
            (switchboard_conversation_state::Waiting, true, SALES, 1)
        );
        let ds = assign_and_take(e, 8_000);
        assert_eq!(
            only(&ds),
            (11, 2, switchboard_route::MostProficient, Some(SALES))
        );
        c_decisions.extend(ds);
        for c in [11, 12, 13, 14] {
            assert_eq!(switchboard_engine_conversation_resolved(e, 9_000, c), S::Ok);
        }
        events.extend([
            Event::ConversationTransferred {
                at: at(8_000),
                conversation: ConversationId(11),
                to: TransferTarget::ToQueue(QueueId(SALES)),
            },
            Event::Assign { at: at(8_000) },
        ]);
        events.extend([11, 12, 13, 14].map(|c| Event::ConversationResolved {
            at: at(9_000),
            conversation: ConversationId(c),
        }));
    }

    // The Rust API given the same inputs: the same engine, the same decisions.
    let mut rust = Engine::new(queue_policy()).unwrap();
    let mut rust_decisions = Vec::new();
    for ev in events {
        rust_decisions.extend(rust.apply(ev).unwrap());
    }
    assert_eq!(state(e).0.state_hash(), rust.state_hash());
    assert_eq!(unsafe { &*e }.engine, rust);
    let want: Vec<switchboard_decision> = rust_decisions
        .iter()
        .map(switchboard_decision::from)
        .collect();
    assert_eq!(c_decisions, want);

    // The finished records carry the queue each one ended in.
    let mut n = 0;
    let mut finished = vec![unsafe { core::mem::zeroed::<switchboard_finished_conversation>() }; 8];
    unsafe {
        assert_eq!(
            switchboard_engine_take_finished(e, finished.as_mut_ptr(), 8, &mut n),
            S::Ok
        );
    }
    finished.truncate(n);
    let queues: Vec<(u64, Option<u32>)> = finished
        .iter()
        .map(|f| (f.conversation_id, f.has_queue.then_some(f.queue_id)))
        .collect();
    assert_eq!(
        queues,
        [
            (10, None),
            (11, Some(SALES)),
            (12, Some(VIP)),
            (13, Some(SALES)),
            (14, None)
        ]
    );
    // … and back into Rust records through the KPI calculator's input:
    // the records the Rust engine made, queues included.
    let rust_records = rust.take_records().conversations;
    let back: Vec<_> = finished
        .iter()
        .enumerate()
        .map(|(i, f)| crate::ffi::kpi::record(i, f).unwrap().unwrap())
        .collect();
    assert_eq!(back, rust_records);
    assert_eq!(back[1].queue, Some(QueueId(SALES)));
    let mut k = null_mut();
    let mut summary = core::mem::MaybeUninit::uninit();
    unsafe {
        assert_eq!(crate::ffi::switchboard_kpi_new(null(), 0, &mut k), S::Ok);
        assert_eq!(
            crate::ffi::switchboard_kpi_push_finished(k, finished.as_ptr(), finished.len()),
            S::Ok
        );
        assert_eq!(
            crate::ffi::switchboard_kpi_report(k, summary.as_mut_ptr()),
            S::Ok
        );
        assert_eq!(summary.assume_init().overall.handled, 5);
        crate::ffi::switchboard_kpi_free(k);
        switchboard_engine_free(e);
    }
}

/// What is wrong with a policy's queues or profiles has its own code, on
/// creation and on a policy change (refused without a change); a bad rule
/// inside a queue reads as the code of the same rule at the top level, the
/// message naming the queue.
#[test]
fn queue_and_profile_policy_errors_have_their_codes() {
    type Spoil = fn(&mut Policy);
    let live = busy_engine();
    let cases: [(Spoil, S); 6] = [
        (
            |p| p.queues.push(QueueSpec::new(QueueId(VIP), "again")),
            S::PolicyDuplicateQueue,
        ),
        (
            |p| {
                let again = p.profiles[0].clone();
                p.profiles.push(again);
            },
            S::PolicyDuplicateProfile,
        ),
        (
            |p| p.profiles[0].queues.push(ProfileQueue::new(QueueId(9), 2)),
            S::PolicyUnknownQueue,
        ),
        (
            |p| {
                p.profiles[0]
                    .queues
                    .push(ProfileQueue::new(QueueId(SALES), 2))
            },
            S::PolicyUnsupported,
        ),
        (
            |p| {
                p.queues[0].overflow = vec![OverflowStep::new(
                    Millis::from_secs(10),
                    Relax::DropSkill(SkillId(99)),
                )];
            },
            S::PolicyUnknownSkill,
        ),
        // The same rule at the top level: the same code.
        (
            |p| {
                p.overflow = vec![OverflowStep::new(
                    Millis::from_secs(10),
                    Relax::DropSkill(SkillId(99)),
                )];
            },
            S::PolicyUnknownSkill,
        ),
    ];
    for (i, (spoil, status)) in cases.into_iter().enumerate() {
        let mut p = queue_policy();
        spoil(&mut p);
        let want = p.validate().unwrap_err();
        let json = serde_json::to_string(&p).unwrap();
        let mut e = null_mut();
        unsafe {
            assert_eq!(
                switchboard_engine_new(json.as_ptr(), json.len(), &mut e),
                status,
                "case {i}"
            );
            assert!(e.is_null());
            assert_eq!(last_error(), want.to_string(), "case {i}");
            rejects_hashed(live, status, || {
                switchboard_engine_policy_changed(live, 4_000, json.as_ptr(), json.len())
            });
        }
        if i == 4 {
            assert!(
                matches!(want, crate::policy::PolicyError::InQueue { .. }),
                "{want:?}"
            );
            assert!(want.to_string().starts_with("queues[queue #1]: "), "{want}");
        }
    }
    // A good one is taken, queues and profiles included.
    let json = serde_json::to_string(&queue_policy()).unwrap();
    unsafe {
        assert_eq!(
            switchboard_engine_policy_changed(live, 4_000, json.as_ptr(), json.len()),
            S::Ok
        );
        assert_eq!((*live).engine.policy(), &queue_policy());
        switchboard_engine_free(live);
    }
}

#[test]
fn queue_and_profile_status_names() {
    for (code, name) in [
        (221, "unknown_queue"),
        (222, "unknown_profile"),
        (311, "policy_duplicate_queue"),
        (312, "policy_duplicate_profile"),
        (313, "policy_unknown_queue"),
        (314, "policy_unsupported"),
    ] {
        let got = unsafe { CStr::from_ptr(switchboard_status_str(code)) };
        assert_eq!(got.to_str().unwrap(), name);
    }
}
