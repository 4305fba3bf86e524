//! Snapshots: restore then continue gives the same decisions as never
//! stopping; bad bytes give typed errors, never a panic or half an engine.

use crate::common::*;
use switchboard::engine::snapshot::SNAPSHOT_FORMAT_VERSION;
use switchboard::engine::{Snapshot, SnapshotError};
use switchboard::policy::OfferPolicy;
use switchboard::prelude::*;

/// A stream that exercises waits, offers, wrap-up, overflow, preferences and rebalance.
fn stream() -> Vec<Event> {
    let mut ev = Vec::new();
    let mut x: u64 = 42;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for o in 1..=6 {
        let mut s = op(o).capacity(CHAT, 1 + rnd(3) as u16).capacity(EMAIL, 2);
        s = s.skill([BILLING, TECH, KOREAN][rnd(3) as usize], 1 + rnd(5) as u8);
        ev.push(Event::OperatorAdded {
            at: t(0),
            operator: s,
        });
    }
    let mut open: Vec<u64> = Vec::new();
    for k in 1..300u64 {
        let at = t(k);
        match rnd(6) {
            0 | 1 => {
                let mut c = chat(k, [ENTERPRISE, LARGE, SMB][rnd(3) as usize]);
                if rnd(2) == 0 {
                    c = c.skill([BILLING, TECH, KOREAN][rnd(3) as usize], 1 + rnd(3) as u8);
                }
                if rnd(6) == 0 {
                    c = c.preferred_operator(OperatorId(1 + rnd(6)));
                }
                ev.push(Event::ConversationArrived {
                    at,
                    conversation: c,
                });
                open.push(k);
            }
            2 => ev.push(Event::OperatorStatusChanged {
                at,
                operator: OperatorId(1 + rnd(6)),
                status: [OperatorStatus::Available, OperatorStatus::Away][rnd(2) as usize],
            }),
            3 if !open.is_empty() => {
                let c = open[rnd(open.len() as u64) as usize];
                ev.push(Event::OfferAccepted {
                    at,
                    conversation: ConversationId(c),
                    operator: OperatorId(1 + rnd(6)),
                });
                ev.push(Event::ConversationResolved {
                    at,
                    conversation: ConversationId(c),
                });
            }
            4 => ev.push(Event::Rebalance { at }),
            _ => {}
        }
        ev.push(Event::Assign { at });
    }
    ev
}

fn replay_policy() -> Policy {
    let mut p = policy();
    p.wrap_up = Millis::from_secs(4);
    p.preferred_operator.wait = Millis::from_secs(8);
    p.offers = Some(OfferPolicy::new(Millis::from_secs(6)));
    p.rebalance.skew_margin_permille = Some(300);
    p.rebalance.reassign_responded_after_away = Some(Millis::from_secs(30));
    p.overflow = vec![OverflowStep::new(Millis::from_secs(15), Relax::AnyOperator)];
    p
}

/// Applies events, ignoring the ones the engine refuses (the stream is random).
fn run(e: &mut Engine, events: &[Event]) -> Vec<Decision> {
    let mut out = Vec::new();
    for ev in events {
        let _ = e.apply_into(ev.clone(), &mut out);
    }
    out
}

#[test]
fn restore_midway_then_continue_equals_never_stopping() {
    let events = stream();
    let mut whole = engine_with(replay_policy());
    let all = run(&mut whole, &events);
    assert!(all.len() > 50, "the stream makes decisions ({})", all.len());
    for cut in [1, events.len() / 3, events.len() / 2, events.len() - 5] {
        let mut first = engine_with(replay_policy());
        let mut got = run(&mut first, &events[..cut]);
        let bytes = first.snapshot().to_bytes();
        let mut restored = Engine::restore(Snapshot::from_bytes(&bytes).unwrap()).unwrap();
        assert_eq!(
            restored.snapshot(),
            first.snapshot(),
            "restore is exact at cut {cut}"
        );
        assert_eq!(restored.state_hash(), first.state_hash());
        got.extend(run(&mut restored, &events[cut..]));
        assert_eq!(got, all, "cut at {cut}");
        assert_eq!(restored.snapshot(), whole.snapshot());
        assert_eq!(restored.state_hash(), whole.state_hash());
    }
}

#[test]
fn the_state_hash_tells_different_states_apart() {
    let events = stream();
    let mut a = engine_with(replay_policy());
    run(&mut a, &events[..100]);
    let h = a.state_hash();
    assert_eq!(h, a.clone().state_hash());
    a.apply(Event::ConversationArrived {
        at: a.now(),
        conversation: chat(10_000, SMB),
    })
    .unwrap();
    assert_ne!(a.state_hash(), h);
}

#[test]
fn snapshots_serialise_with_serde_too() {
    let events = stream();
    let mut e = engine_with(replay_policy());
    run(&mut e, &events[..150]);
    let json = serde_json::to_string(&e.snapshot()).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(Engine::restore(back).unwrap().state_hash(), e.state_hash());
}

#[test]
fn truncated_corrupted_and_future_snapshots_are_refused() {
    let events = stream();
    let mut e = engine_with(replay_policy());
    run(&mut e, &events[..200]);
    let bytes = e.snapshot().to_bytes();
    // Every truncation is an error, never a panic.
    for n in 0..bytes.len() {
        assert!(
            Snapshot::from_bytes(&bytes[..n]).is_err(),
            "truncated at {n}"
        );
    }
    // Every single-byte change is caught (checksum, magic or version).
    for i in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        assert!(Snapshot::from_bytes(&b).is_err(), "flipped byte {i}");
    }
    let mut future = bytes.clone();
    future[4] = 99;
    assert_eq!(
        Snapshot::from_bytes(&future).unwrap_err(),
        SnapshotError::UnsupportedVersion {
            found: 99,
            supported: SNAPSHOT_FORMAT_VERSION
        }
    );
    assert_eq!(
        Snapshot::from_bytes(b"nope, not a snapshot").unwrap_err(),
        SnapshotError::BadMagic
    );
    let mut s = e.snapshot();
    s.format_version = SNAPSHOT_FORMAT_VERSION + 1;
    assert!(matches!(
        Engine::restore(s).unwrap_err(),
        SnapshotError::UnsupportedVersion { .. }
    ));
}

#[test]
fn inconsistent_snapshots_are_refused_before_anything_is_built() {
    let events = stream();
    let mut e = engine_with(replay_policy());
    run(&mut e, &events[..200]);
    let good = e.snapshot();
    let held = good
        .operators
        .iter()
        .find(|o| !o.held.is_empty())
        .expect("someone holds work")
        .spec
        .id;
    // A holder that does not list its conversation.
    let mut s = good.clone();
    let o = s.operators.iter_mut().find(|o| o.spec.id == held).unwrap();
    o.held.clear();
    assert!(matches!(
        Engine::restore(s).unwrap_err(),
        SnapshotError::Inconsistent { .. }
    ));
    // An operator listed twice.
    let mut s = good.clone();
    let dup = s.operators[0].clone();
    s.operators.push(dup);
    assert!(matches!(
        Engine::restore(s).unwrap_err(),
        SnapshotError::Inconsistent { .. }
    ));
    // A conversation referencing an unknown tier.
    let mut s = good.clone();
    if let Some(c) = s.conversations.first_mut() {
        c.spec.tier = TierId(999);
        assert_eq!(
            Engine::restore(s).unwrap_err(),
            SnapshotError::Entity(EngineError::UnknownTier(TierId(999)))
        );
    }
    // A conversation time beyond the largest timestamp (the engine stores
    // them in 8 bytes, `u64::MAX` meaning none, and never accepts one).
    for beyond in [Timestamp(Timestamp::MAX.0 + 1), Timestamp(u64::MAX)] {
        let mut s = good.clone();
        let c = s
            .conversations
            .iter_mut()
            .find(|c| c.asked_at.is_some())
            .expect("someone asked");
        c.asked_at = Some(beyond);
        assert!(matches!(
            Engine::restore(s).unwrap_err(),
            SnapshotError::Inconsistent { what, .. } if what.contains("beyond the largest timestamp")
        ));
    }
    // A deadline beyond the largest timestamp plus the largest duration.
    let mut s = good.clone();
    s.conversations[0].preferred_until = Some(Timestamp(u64::MAX));
    assert!(matches!(
        Engine::restore(s).unwrap_err(),
        SnapshotError::Inconsistent { what, .. } if what.contains("deadline beyond")
    ));
    // A broken policy.
    let mut s = good.clone();
    s.policy.tiers.clear();
    assert!(matches!(
        Engine::restore(s).unwrap_err(),
        SnapshotError::Policy(_)
    ));
}
