//! `Event::PolicyChanged`: a new policy on a running engine. Refused changes
//! leave the engine as it was; accepted ones apply from their time, place
//! nothing themselves, and survive snapshot, restore and replay.

use switchboard::engine::{DecisionKind, MoveCause, PolicyChangeError, UsedBy};
use switchboard::prelude::*;

use crate::common::*;
use crate::props::check::Checker;

fn change(e: &mut Engine, at: Timestamp, p: &Policy) -> Result<Vec<Decision>, EngineError> {
    e.apply(Event::PolicyChanged {
        at,
        policy: Box::new(p.clone()),
    })
}

fn refused(reason: PolicyChangeError) -> EngineError {
    EngineError::PolicyChange { reason }
}

/// Operators 1 and 2 on chat; conversation 1 went to operator 1.
fn two_operators(selection: Selection) -> Engine {
    let mut e = engine_with(policy().with_selection(selection));
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2));
    arrive(&mut e, t(1), chat(1, SMB));
    assert_eq!(pairs(&e.assign(t(1)).unwrap()), [(1, 1)]);
    e
}

#[test]
fn a_selection_change_takes_effect_at_the_next_assign() {
    let mut e = two_operators(Selection::LeastLoaded);
    let mut unchanged = e.clone();
    let ds = change(
        &mut e,
        t(2),
        &policy().with_selection(Selection::FixedOrder),
    )
    .unwrap();
    assert!(ds.is_empty(), "the change itself places nothing");
    assert_eq!(e.policy().selection, Selection::FixedOrder);
    for e in [&mut e, &mut unchanged] {
        arrive(e, t(3), chat(2, SMB));
    }
    // Least loaded gives it to the idle operator 2; fixed order to operator 1.
    assert_eq!(pairs(&unchanged.assign(t(3)).unwrap()), [(2, 2)]);
    let ds = e.assign(t(3)).unwrap();
    assert_eq!(pairs(&ds), [(2, 1)]);
    assert_eq!(ds[0].reason.route, Route::FixedOrder);
}

#[test]
fn a_queue_order_change_reorders_the_waiting() {
    let mut e = engine_with(policy());
    arrive(&mut e, t(0), chat(1, SMB));
    arrive(&mut e, t(10), chat(2, ENTERPRISE));
    let ids = |e: &Engine| e.waiting().iter().map(|c| c.0).collect::<Vec<_>>();
    assert_eq!(ids(&e), [2, 1], "strict priority: enterprise first");
    change(&mut e, t(20), &policy().with_queue_order(QueueOrder::Fifo)).unwrap();
    assert_eq!(ids(&e), [1, 2], "fifo: the older ask first");
    add(&mut e, t(30), op(1).capacity(CHAT, 1));
    let ds = e.assign(t(30)).unwrap();
    assert_eq!(pairs(&ds), [(1, 1)]);
    // The wait counts from the ask, not from the change.
    assert_eq!(ds[0].reason.waited, Millis::from_secs(30));
}

#[test]
fn an_overflow_step_already_reached_is_in_force_at_once() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).skill(BILLING, 2));
    arrive(&mut e, t(0), chat(1, SMB).skill(BILLING, 4));
    assert!(e.assign(t(0)).unwrap().is_empty());
    let mut p = policy();
    p.overflow = vec![OverflowStep::new(
        Millis::from_secs(30),
        Relax::LowerLevels(2),
    )];
    assert!(change(&mut e, t(60), &p).unwrap().is_empty());
    let ds = e.assign(t(60)).unwrap();
    assert_eq!(pairs(&ds), [(1, 1)]);
    assert_eq!(ds[0].reason.overflow_step, 1);
    assert_eq!(ds[0].reason.waited, Millis::from_secs(60));
}

#[test]
fn dropping_what_live_work_uses_is_refused_and_changes_nothing() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).skill(TECH, 3));
    arrive(&mut e, t(1), chat(1, SMB).skill(BILLING, 1));
    let before = e.clone();
    let without = |f: &dyn Fn(&mut Policy)| {
        let mut p = policy();
        f(&mut p);
        p
    };
    let no_chat = without(&|p| {
        p.channels.retain(|c| c.id != CHAT);
        p.channels[0].blocks.clear();
    });
    assert_eq!(
        change(&mut e, t(2), &no_chat),
        Err(refused(PolicyChangeError::ChannelInUse {
            channel: CHAT,
            by: UsedBy::Operator(OperatorId(1)),
        }))
    );
    let no_smb = without(&|p| p.tiers.retain(|t| t.id != SMB));
    assert_eq!(
        change(&mut e, t(2), &no_smb),
        Err(refused(PolicyChangeError::TierInUse {
            tier: SMB,
            by: UsedBy::Conversation(ConversationId(1)),
        }))
    );
    let no_tech = without(&|p| p.skills.retain(|s| s.id != TECH));
    let err = change(&mut e, t(2), &no_tech).unwrap_err();
    assert_eq!(
        err.to_string(),
        "policy change refused: skill #11 is still used by operator #1"
    );
    let no_billing = without(&|p| p.skills.retain(|s| s.id != BILLING));
    assert!(matches!(
        change(&mut e, t(2), &no_billing),
        Err(EngineError::PolicyChange {
            reason: PolicyChangeError::SkillInUse { .. }
        })
    ));
    assert_eq!(e, before, "a refused change leaves the engine as it was");
    // What nobody uses may go.
    let no_email = without(&|p| p.channels.retain(|c| c.id != EMAIL));
    change(&mut e, t(2), &no_email).unwrap();
    assert_eq!(e.policy().channels.len(), 2);
}

#[test]
fn an_invalid_policy_is_refused_with_its_policy_error() {
    let mut e = two_operators(Selection::LeastLoaded);
    let before = e.clone();
    let mut p = policy();
    p.channels.push(ChannelSpec::new(CHAT, "chat again"));
    assert_eq!(
        change(&mut e, t(5), &p),
        Err(refused(PolicyChangeError::Invalid(
            PolicyError::DuplicateChannel(CHAT)
        )))
    );
    assert_eq!(e, before);
    // Time is checked like every input's.
    assert!(matches!(
        change(&mut e, t(0), &policy()),
        Err(EngineError::TimeWentBackwards { .. })
    ));
    assert_eq!(e, before);
}

#[test]
fn held_work_and_offers_in_flight_stay_as_they_were() {
    let mut p = policy();
    p.offers = Some(OfferPolicy::new(Millis::from_secs(20)));
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(0), chat(1, SMB));
    let ds = e.assign(t(0)).unwrap();
    assert_eq!(ds[0].kind, DecisionKind::Offered { expires_at: t(20) });
    // Direct assignment from now on; the offer still rings until 20 s.
    change(&mut e, t(5), &policy()).unwrap();
    let v = e.conversation(ConversationId(1)).unwrap();
    assert_eq!(v.state, ConversationState::Offered);
    assert_eq!(e.next_deadline(), Some(t(20)));
    e.apply(Event::OfferAccepted {
        at: t(6),
        conversation: ConversationId(1),
        operator: OperatorId(1),
    })
    .unwrap();
    // Work held stays with its holder even where the new rules would not
    // give it to them (no skill now, no capacity on chat).
    let mut strict = policy();
    strict.overflow = vec![];
    change(&mut e, t(7), &strict).unwrap();
    assert_eq!(holder(&e, 1), Some(1));
}

#[test]
fn a_lowered_throughput_cap_keeps_the_most_recent_picks() {
    let mut p = policy();
    p.throughput_cap = Some(ThroughputCap::new(5, Millis::from_secs(60)));
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 10));
    for (i, s) in [0u64, 10, 20].into_iter().enumerate() {
        arrive(&mut e, t(s), chat(i as u64 + 1, SMB));
        assert_eq!(e.assign(t(s)).unwrap().len(), 1);
    }
    // Two picks per 30 s: the kept picks (10 s, 20 s) fill it until 40 s.
    let mut p = policy();
    p.throughput_cap = Some(ThroughputCap::new(2, Millis::from_secs(30)));
    change(&mut e, t(25), &p).unwrap();
    let o = e.operator(OperatorId(1)).unwrap();
    assert_eq!(
        o.held_back_until,
        Some(t(40)),
        "three picks were within the old cap"
    );
    arrive(&mut e, t(30), chat(4, SMB));
    assert!(e.assign(t(30)).unwrap().is_empty());
    assert_eq!(pairs(&e.assign(t(40)).unwrap()), [(4, 1)]);
}

/// A stream with policy changes: a snapshot restored midway, and the log
/// read back from JSON into a fresh engine, give the same decisions and
/// state hashes; the model checker follows every step.
#[test]
fn the_change_survives_snapshot_restore_and_replay_and_the_model_agrees() {
    let first = policy();
    let mut fifo = policy().with_queue_order(QueueOrder::Fifo);
    fifo.selection = Selection::RoundRobin;
    fifo.overflow = vec![OverflowStep::new(Millis::from_secs(20), Relax::AnyOperator)];
    fifo.throughput_cap = Some(ThroughputCap::new(1, Millis::from_secs(15)));
    let mut no_email = fifo.clone();
    no_email.channels.retain(|c| c.id != EMAIL);
    no_email.rebalance = no_email
        .rebalance
        .reassign_responded_after_away(Millis::from_secs(5));
    let mut no_chat = policy();
    no_chat.channels.retain(|c| c.id != CHAT);
    no_chat.channels[0].blocks.clear();
    let mut invalid = policy();
    invalid.tiers.clear();
    let pc = |at: u64, p: &Policy| Event::PolicyChanged {
        at: t(at),
        policy: Box::new(p.clone()),
    };
    let mut events = vec![
        Event::OperatorAdded {
            at: t(0),
            operator: op(1).skill(BILLING, 2),
        },
        Event::OperatorAdded {
            at: t(0),
            operator: op(2).skill(TECH, 5),
        },
    ];
    for i in 1..=6 {
        let tier = [SMB, ENTERPRISE, LARGE][i as usize % 3];
        events.push(Event::ConversationArrived {
            at: t(i),
            conversation: chat(i, tier).skill(BILLING, 1 + (i as u8 % 4)),
        });
    }
    events.extend([
        Event::Assign { at: t(6) },
        pc(8, &fifo),
        Event::Assign { at: t(8) },
        Event::FirstResponseSent {
            at: t(9),
            conversation: ConversationId(1),
        },
        Event::OperatorStatusChanged {
            at: t(10),
            operator: OperatorId(1),
            status: OperatorStatus::Away,
        },
        pc(12, &no_chat),
        pc(13, &invalid),
        pc(30, &no_email),
        Event::Assign { at: t(30) },
        Event::Assign { at: t(40) },
        Event::Assign { at: t(45) },
        pc(46, &first),
        Event::OperatorAdded {
            at: t(47),
            operator: op(3).skill(BILLING, 5),
        },
        Event::Assign { at: t(50) },
    ]);
    // The recorded log: JSON lines, read back.
    let log: Vec<Event> = events
        .iter()
        .map(|e| serde_json::from_str(&serde_json::to_string(e).unwrap()).unwrap())
        .collect();
    assert_eq!(log, events);

    let mut e = engine_with(first.clone());
    let mut m = Checker::new(&first);
    let mut outcomes = Vec::new();
    let mut hashes = Vec::new();
    let mut restored: Option<Engine> = None;
    for (i, ev) in events.iter().enumerate() {
        let out = m
            .step(&mut e, ev, true, true)
            .unwrap_or_else(|why| panic!("event {i} {ev:?}: {why}"));
        if let Some(r) = restored.as_mut() {
            assert_eq!(r.apply(ev.clone()), out, "restored engine, event {i}");
            // The checker drains the records of `e` after every step.
            let _ = r.take_records();
            assert_eq!(r.state_hash(), e.state_hash(), "restored engine, event {i}");
        }
        if matches!(ev, Event::PolicyChanged { .. }) && restored.is_none() && out.is_ok() {
            let bytes = e.snapshot().to_bytes();
            let s = switchboard::engine::Snapshot::from_bytes(&bytes).unwrap();
            restored = Some(Engine::restore(s).unwrap());
        }
        outcomes.push(out);
        hashes.push(e.state_hash());
    }
    // The shorter "away too long" of the change at 30 s moves the replied
    // work of operator 1 (away since 10 s) as part of the change.
    let at_30 = events
        .iter()
        .position(|ev| matches!(ev, Event::PolicyChanged { at, .. } if *at == t(30)))
        .unwrap();
    let moved = outcomes[at_30].as_ref().unwrap();
    assert_eq!(pairs(moved), [(1, 1)]);
    assert_eq!(
        moved[0].kind,
        DecisionKind::Unassigned {
            cause: MoveCause::AwayTooLong
        }
    );
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Err(EngineError::PolicyChange { .. }))),
        "the stream has a refused change"
    );
    assert_eq!(
        outcomes
            .iter()
            .zip(&events)
            .filter(|(o, ev)| o.is_ok() && matches!(ev, Event::PolicyChanged { .. }))
            .count(),
        3
    );
    let mut fresh = engine_with(first);
    for (i, ev) in log.into_iter().enumerate() {
        assert_eq!(fresh.apply(ev), outcomes[i], "replay, event {i}");
        let _ = fresh.take_records();
        assert_eq!(fresh.state_hash(), hashes[i], "replay, event {i}");
    }
}

#[test]
fn work_left_for_rebalance_moves_when_the_new_policy_no_longer_defers() {
    let mut p = policy();
    p.rebalance = RebalancePolicy::new().defer_to_rebalance(true);
    let mut e = engine_with(p.clone());
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(0), chat(1, SMB));
    assert_eq!(pairs(&e.assign(t(0)).unwrap()), [(1, 1)]);
    status(&mut e, t(5), 1, OperatorStatus::Away);
    assert_eq!(holder(&e, 1), Some(1), "deferred: it waits for a rebalance");
    p.rebalance = RebalancePolicy::new();
    let ds = change(&mut e, t(6), &p).unwrap();
    assert_eq!(pairs(&ds), [(1, 1)]);
    assert_eq!(
        ds[0].kind,
        DecisionKind::Unassigned {
            cause: MoveCause::OperatorAway
        }
    );
    assert_eq!(e.waiting(), [ConversationId(1)]);
}
