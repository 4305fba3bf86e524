//! Rebalance: operators going away or offline, capacity cuts, load skew,
//! offers that are not accepted, and the timers behind them.

use crate::common::*;
use switchboard::engine::{DecisionKind, Matching, MoveCause};
use switchboard::policy::{OfferPolicy, OverflowStep, RebalancePolicy, Relax};
use switchboard::prelude::*;

/// These tests exercise `rebalance` itself, so the work of operators who go
/// away or offline waits for it (`defer_to_rebalance`, the behaviour before
/// 0.2); `unavailable_operators_give_work_back_at_once` covers the default.
fn policy() -> Policy {
    let mut p = crate::common::policy();
    p.rebalance.defer_to_rebalance = true;
    p
}

fn moved(ds: &[Decision]) -> Vec<(u64, u64, MoveCause)> {
    ds.iter()
        .filter_map(|d| match d.kind {
            DecisionKind::Unassigned { cause } => Some((d.conversation.0, d.operator.0, cause)),
            _ => None,
        })
        .collect()
}

fn assigned(ds: &[Decision]) -> Vec<(u64, u64)> {
    ds.iter()
        .filter(|d| !matches!(d.kind, DecisionKind::Unassigned { .. }))
        .map(|d| (d.conversation.0, d.operator.0))
        .collect()
}

fn respond(e: &mut Engine, at: Timestamp, id: u64) {
    e.apply(Event::FirstResponseSent {
        at,
        conversation: ConversationId(id),
    })
    .unwrap();
}

#[test]
fn an_operator_going_offline_with_ten_open_conversations_moves_only_the_unanswered_ones() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 10));
    for c in 1..=10 {
        // Tiers alternate so priority matters when they move.
        arrive(
            &mut e,
            t(c),
            chat(c, if c % 2 == 0 { ENTERPRISE } else { SMB }),
        );
    }
    assert_eq!(e.assign(t(10)).unwrap().len(), 10);
    for c in [1, 2, 3, 4] {
        respond(&mut e, t(11), c);
    }
    // A colleague with room for two, and an older waiting SMB conversation.
    add(
        &mut e,
        t(12),
        op(2).capacity(CHAT, 2).status(OperatorStatus::Away),
    );
    status(&mut e, t(20), 1, OperatorStatus::Offline);
    let ds = e.rebalance(t(20)).unwrap();
    let m = moved(&ds);
    assert_eq!(m.len(), 6, "only the six unanswered move: {m:?}");
    assert!(
        m.iter()
            .all(|(c, o, cause)| *c > 4 && *o == 1 && *cause == MoveCause::OperatorOffline)
    );
    // Replied ones stay with the person who answered.
    let mut held: Vec<u64> = e
        .operator(OperatorId(1))
        .unwrap()
        .held
        .iter()
        .map(|c| c.0)
        .collect();
    held.sort_unstable();
    assert_eq!(held, vec![1, 2, 3, 4]);
    // They keep their priority and waiting time: Enterprise first, oldest first.
    let w: Vec<u64> = e.waiting().iter().map(|c| c.0).collect();
    assert_eq!(w, vec![6, 8, 10, 5, 7, 9]);
    status(&mut e, t(21), 2, OperatorStatus::Available);
    let ds = e.assign(t(21)).unwrap();
    assert_eq!(assigned(&ds), vec![(6, 2), (8, 2)]);
    assert_eq!(
        ds[0].reason.waited,
        Millis::from_secs(21 - 6),
        "waiting time counts from the original ask"
    );
    assert_eq!(e.next_deadline(), None);
}

#[test]
fn replied_conversations_move_once_the_operator_has_been_away_too_long() {
    let mut p = policy();
    p.rebalance.reassign_responded_after_away = Some(Millis::from_mins(10));
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2).status(OperatorStatus::Away));
    arrive(&mut e, t(0), chat(1, SMB));
    arrive(&mut e, t(0), chat(2, SMB));
    e.assign(t(0)).unwrap();
    respond(&mut e, t(1), 1);
    // Operator 2 joined away at 0: its clock runs out at 600 s.
    assert_eq!(e.next_deadline(), Some(t(600)));
    status(&mut e, t(100), 1, OperatorStatus::Away);
    status(&mut e, t(101), 2, OperatorStatus::Available);
    // Back at work: only operator 1's clock (away since 100 s) is left.
    assert_eq!(e.next_deadline(), Some(t(700)));
    let ds = e.rebalance(t(101)).unwrap();
    assert_eq!(moved(&ds), vec![(2, 1, MoveCause::OperatorAway)]);
    assert_eq!(assigned(&ds), vec![(2, 2)]);
    // Going offline does not restart the clock.
    status(&mut e, t(300), 1, OperatorStatus::Offline);
    assert!(moved(&e.rebalance(t(699)).unwrap()).is_empty());
    let ds = e.rebalance(t(700)).unwrap();
    assert_eq!(moved(&ds), vec![(1, 1, MoveCause::AwayTooLong)]);
    assert_eq!(assigned(&ds), vec![(1, 2)]);
}

#[test]
fn coming_back_before_a_rebalance_keeps_the_work() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    let h = holder(&e, 1).unwrap();
    status(&mut e, t(5), h, OperatorStatus::Away);
    status(&mut e, t(6), h, OperatorStatus::Available);
    assert!(moved(&e.rebalance(t(7)).unwrap()).is_empty());
}

#[test]
fn a_capacity_cut_moves_the_most_recent_unanswered_work_when_asked_to() {
    let mut p = policy();
    p.rebalance.on_capacity_cut = true;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 4));
    for c in 1..=4 {
        arrive(&mut e, t(c), chat(c, SMB));
        e.assign(t(c)).unwrap();
    }
    respond(&mut e, t(5), 4);
    add(&mut e, t(5), op(2).capacity(CHAT, 5));
    e.apply(Event::OperatorCapacityChanged {
        at: t(6),
        operator: OperatorId(1),
        channel: CHAT,
        capacity: 2,
    })
    .unwrap();
    let ds = e.rebalance(t(6)).unwrap();
    // Load 4 → 2: two move, the most recently assigned unanswered ones (3, 2), never the replied 4.
    assert_eq!(
        moved(&ds),
        vec![
            (2, 1, MoveCause::CapacityCut),
            (3, 1, MoveCause::CapacityCut)
        ]
    );
    assert_eq!(e.operator_load(OperatorId(1), CHAT).unwrap(), (2, 2));
}

#[test]
fn a_load_skew_is_fixed_with_the_fewest_moves_and_never_ping_pongs() {
    let mut p = policy();
    p.rebalance.skew_margin_permille = Some(250);
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 8));
    for c in 1..=8 {
        arrive(&mut e, t(c), chat(c, SMB));
    }
    e.assign(t(8)).unwrap();
    respond(&mut e, t(8), 1);
    // Two colleagues log in: operator 1 is at 8/8 = 1.0, they are at 0.
    add(
        &mut e,
        t(9),
        op(2).capacity(CHAT, 8).status(OperatorStatus::Away),
    );
    add(
        &mut e,
        t(9),
        op(3).capacity(CHAT, 8).status(OperatorStatus::Away),
    );
    status(&mut e, t(10), 2, OperatorStatus::Available);
    status(&mut e, t(10), 3, OperatorStatus::Available);
    let ds = e.rebalance(t(10)).unwrap();
    let m = moved(&ds);
    // Greedy from 8/0/0 with a 0.25 margin: each move takes one from the
    // most loaded; 8,0,0 → 7,1,0 → 6,1,1 → 5,2,1 → 4,2,2 (gap 2/8 = 0.25, within).
    assert_eq!(m.len(), 4, "{m:?}");
    assert!(
        m.iter().all(|x| x.2 == MoveCause::LoadSkew && x.0 != 1),
        "the replied conversation stays"
    );
    let loads: Vec<u16> = (1..=3)
        .map(|o| e.operator_load(OperatorId(o), CHAT).unwrap().0)
        .collect();
    assert_eq!(loads, vec![4, 2, 2]);
    // Unanswered, most urgent (oldest) first.
    assert_eq!(m.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2, 3, 4, 5]);
    // A second call finds nothing to do, and never moves those back.
    assert!(moved(&e.rebalance(t(11)).unwrap()).is_empty());
    // New skew: operators 2 and 3 resolve everything; 1 is at 4/8 against 0:
    // 4,0,0 → 3,1,0 (gap 3/8 still > 1/4) → 2,1,1. Two moves, oldest unanswered first.
    for c in [2, 3, 4, 5] {
        resolve(&mut e, t(12), c);
    }
    let ds = e.rebalance(t(13)).unwrap();
    assert_eq!(
        moved(&ds),
        vec![(6, 1, MoveCause::LoadSkew), (7, 1, MoveCause::LoadSkew)]
    );
    // Those two were moved for skew: later skews never move them again.
    status(&mut e, t(14), 1, OperatorStatus::Away);
    status(&mut e, t(14), 3, OperatorStatus::Away);
    let ds = e.rebalance(t(15)).unwrap();
    assert!(
        moved(&ds).iter().all(|m| m.2 != MoveCause::LoadSkew),
        "{ds:?}"
    );
}

#[test]
fn the_moves_per_call_cap_leaves_the_rest_for_the_next_call() {
    let mut p = policy();
    p.rebalance.max_moves = Some(2);
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 5));
    for c in 1..=5 {
        arrive(&mut e, t(0), chat(c, SMB));
    }
    e.assign(t(0)).unwrap();
    status(&mut e, t(1), 1, OperatorStatus::Away);
    assert_eq!(moved(&e.rebalance(t(1)).unwrap()).len(), 2);
    assert_eq!(moved(&e.rebalance(t(2)).unwrap()).len(), 2);
    assert_eq!(moved(&e.rebalance(t(3)).unwrap()).len(), 1);
    assert!(moved(&e.rebalance(t(4)).unwrap()).is_empty());
}

#[test]
fn rebalancing_one_operator_on_request_never_routes_back_to_them() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 3));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    add(
        &mut e,
        t(1),
        op(2).capacity(CHAT, 3).status(OperatorStatus::Away),
    );
    let ds = e
        .apply(Event::RebalanceOperator {
            at: t(2),
            operator: OperatorId(1),
        })
        .unwrap();
    assert_eq!(moved(&ds), vec![(1, 1, MoveCause::Requested)]);
    assert!(
        assigned(&ds).is_empty(),
        "operator 1 is the only one available, and excluded"
    );
    status(&mut e, t(3), 2, OperatorStatus::Available);
    assert_eq!(pairs(&e.assign(t(3)).unwrap()), vec![(1, 2)]);
    let before = e.clone();
    assert_eq!(
        e.apply(Event::RebalanceOperator {
            at: t(4),
            operator: OperatorId(9)
        })
        .unwrap_err(),
        EngineError::UnknownOperator(OperatorId(9))
    );
    assert_eq!(e, before);
}

fn offers_policy() -> Policy {
    let mut p = policy();
    p.offers = Some(OfferPolicy::new(Millis::from_secs(20)));
    p.selection = Selection::RoundRobin;
    p
}

#[test]
fn offers_time_out_through_three_operators_in_order() {
    let mut e = engine_with(offers_policy());
    for o in 1..=4 {
        add(&mut e, t(0), op(o).capacity(CHAT, 1));
    }
    arrive(&mut e, t(1), chat(1, SMB));
    let ds = e.assign(t(1)).unwrap();
    assert_eq!(ds[0].kind, DecisionKind::Offered { expires_at: t(21) });
    assert_eq!(ds[0].operator.0, 1);
    assert_eq!(
        e.conversation(ConversationId(1)).unwrap().state,
        ConversationState::Offered
    );
    assert_eq!(e.next_deadline(), Some(t(21)));
    let mut chain = vec![1];
    let mut now = 21;
    for _ in 0..2 {
        // The offer lapses exactly at its expiry; the next assign offers it on.
        let ds = e.assign(t(now)).unwrap();
        assert_eq!(
            moved(&ds),
            vec![(1, *chain.last().unwrap(), MoveCause::OfferExpired)]
        );
        let next = assigned(&ds)[0].1;
        chain.push(next);
        now += 20;
    }
    assert_eq!(
        chain,
        vec![1, 2, 3],
        "round robin, never back to who missed it"
    );
    let ds = e
        .apply(Event::OfferAccepted {
            at: t(now - 1),
            conversation: ConversationId(1),
            operator: OperatorId(3),
        })
        .unwrap();
    assert!(ds.is_empty());
    let v = e.conversation(ConversationId(1)).unwrap();
    assert_eq!(
        (v.state, v.operator),
        (ConversationState::Assigned, Some(OperatorId(3)))
    );
    resolve(&mut e, t(now), 1);
    let f = e.take_records().conversations;
    assert_eq!(f[0].missed_offers, 2);
    // The wait ends at the acceptance, not at the first offer.
    assert_eq!(f[0].offered_at, Some(t(1)), "first offer");
    assert_eq!(f[0].assigned_at, Some(t(now - 1)), "accepted");
    // Missed offers never start wrap-up.
    assert_eq!(e.operator(OperatorId(1)).unwrap().wrap_up_until, None);
}

#[test]
fn too_many_missed_offers_set_the_operator_away() {
    let mut p = offers_policy();
    p.offers = Some(OfferPolicy::new(Millis::from_secs(10)).away_after_missed(2));
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    arrive(&mut e, t(0), chat(1, SMB));
    arrive(&mut e, t(0), chat(2, SMB));
    e.assign(t(0)).unwrap();
    e.apply(Event::OfferRejected {
        at: t(1),
        conversation: ConversationId(1),
        operator: OperatorId(1),
    })
    .unwrap();
    let ds = e.assign(t(1)).unwrap();
    assert_eq!(
        assigned(&ds),
        vec![(2, 1)],
        "conversation 1 is not offered to them again"
    );
    assert_eq!(
        e.operator(OperatorId(1)).unwrap().spec.status,
        OperatorStatus::Available
    );
    let ds = e.assign(t(11)).unwrap();
    assert_eq!(moved(&ds), vec![(2, 1, MoveCause::OfferExpired)]);
    assert_eq!(
        e.operator(OperatorId(1)).unwrap().spec.status,
        OperatorStatus::Away,
        "second miss in a row"
    );
}

#[test]
fn offer_answers_must_match_a_pending_offer() {
    let mut e = engine_with(offers_policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 2));
    add(&mut e, t(0), op(2).capacity(CHAT, 2));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    let check = |e: &mut Engine, ev: Event, want: EngineError| {
        let before = e.clone();
        assert_eq!(e.apply(ev).unwrap_err(), want);
        assert_eq!(*e, before);
    };
    // Offered to operator 1, not 2.
    check(
        &mut e,
        Event::OfferAccepted {
            at: t(1),
            conversation: ConversationId(1),
            operator: OperatorId(2),
        },
        EngineError::NoSuchOffer {
            conversation: ConversationId(1),
            operator: OperatorId(2),
        },
    );
    // After it lapsed (at exactly 20 s).
    check(
        &mut e,
        Event::OfferAccepted {
            at: t(20),
            conversation: ConversationId(1),
            operator: OperatorId(1),
        },
        EngineError::OfferExpired {
            conversation: ConversationId(1),
            expired_at: t(20),
        },
    );
    e.apply(Event::OfferAccepted {
        at: t(5),
        conversation: ConversationId(1),
        operator: OperatorId(1),
    })
    .unwrap();
    // Accepting twice.
    check(
        &mut e,
        Event::OfferAccepted {
            at: t(6),
            conversation: ConversationId(1),
            operator: OperatorId(1),
        },
        EngineError::InvalidTransition {
            conversation: ConversationId(1),
            action: "answer an offer of",
            state: ConversationState::Assigned,
        },
    );
    // Never offered.
    arrive(&mut e, t(7), chat(2, SMB));
    check(
        &mut e,
        Event::OfferRejected {
            at: t(7),
            conversation: ConversationId(2),
            operator: OperatorId(1),
        },
        EngineError::NoSuchOffer {
            conversation: ConversationId(2),
            operator: OperatorId(1),
        },
    );
}

#[test]
fn a_customer_leaving_during_an_offer_frees_the_operator() {
    let mut e = engine_with(offers_policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    e.apply(Event::ConversationAbandoned {
        at: t(3),
        conversation: ConversationId(1),
    })
    .unwrap();
    assert_eq!(e.operator_load(OperatorId(1), CHAT).unwrap().0, 0);
    assert_eq!(e.next_deadline(), None, "the offer timer is gone");
    arrive(&mut e, t(4), chat(2, SMB));
    assert_eq!(assigned(&e.assign(t(4)).unwrap()), vec![(2, 1)]);
}

#[test]
fn rebalance_policy_validation() {
    let mut p = policy();
    p.rebalance = RebalancePolicy::new().max_moves(Some(0));
    assert_eq!(
        Engine::new(p).unwrap_err(),
        PolicyError::Zero {
            field: "rebalance.max_moves"
        }
    );
    let mut p = policy();
    p.offers = Some(OfferPolicy::new(Millis::ZERO));
    assert_eq!(
        Engine::new(p).unwrap_err(),
        PolicyError::Zero {
            field: "offers.timeout"
        }
    );
    let mut p = policy();
    p.rebalance.skew_margin_permille = Some(1500);
    assert!(matches!(
        Engine::new(p).unwrap_err(),
        PolicyError::OutOfRange { .. }
    ));
}

#[test]
fn work_moved_for_skew_is_never_moved_back_without_a_new_cause() {
    let mut p = policy();
    p.rebalance.skew_margin_permille = Some(100);
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 4));
    for c in 1..=4 {
        arrive(&mut e, t(c), chat(c, SMB));
    }
    e.assign(t(4)).unwrap();
    respond(&mut e, t(4), 1);
    add(
        &mut e,
        t(5),
        op(2).capacity(CHAT, 4).status(OperatorStatus::Away),
    );
    status(&mut e, t(6), 2, OperatorStatus::Available);
    // 4/4 against 0/4: 4,0 → 3,1 → 2,2.
    let ds = e.rebalance(t(6)).unwrap();
    assert_eq!(
        moved(&ds),
        vec![(2, 1, MoveCause::LoadSkew), (3, 1, MoveCause::LoadSkew)]
    );
    assert_eq!(assigned(&ds), vec![(2, 2), (3, 2)]);
    // Operator 1 finishes its two: now 0/4 against 2/4, but both of 2's were
    // moved for skew already — nothing ping-pongs back.
    resolve(&mut e, t(7), 1);
    resolve(&mut e, t(7), 4);
    for k in 8..12 {
        assert!(moved(&e.rebalance(t(k)).unwrap()).is_empty());
    }
    // A new cause (operator 2 goes away) does move them.
    status(&mut e, t(12), 2, OperatorStatus::Away);
    let ds = e.rebalance(t(12)).unwrap();
    assert_eq!(
        moved(&ds),
        vec![
            (2, 2, MoveCause::OperatorAway),
            (3, 2, MoveCause::OperatorAway)
        ]
    );
    assert_eq!(assigned(&ds), vec![(2, 1), (3, 1)]);
}

/// A shift change: with indexed matching the outgoing operators' work is
/// decided by the pass that ends the rebalance without being placed in
/// the buckets first, and what nobody can take yet is placed then; the
/// reference scan places every moved conversation at once. Freed
/// operators pull the rest later from the buckets, so the two must agree
/// decision by decision, with a priority step that re-keys the moved
/// conversations, levels and teams some incoming operators lack, and a
/// snapshot restored between the rebalance and the pulls.
#[test]
fn a_shift_change_decides_as_the_scan_does_and_the_rest_is_pulled_later() {
    shift_change_against_the_scan(true);
}

/// The same with the incoming shift freed but not yet looked at when the
/// rebalance comes: their pulls, first in its pass, read the buckets, so
/// every moved conversation is placed before any is decided.
#[test]
fn a_shift_change_with_freed_operators_waiting_to_pull_decides_as_the_scan_does() {
    shift_change_against_the_scan(false);
}

/// See the two tests above; `settled`: the incoming shift's readiness was
/// looked at (an `assign`) before the outgoing one leaves.
fn shift_change_against_the_scan(settled: bool) {
    let mut p = policy();
    // A priority step passed by the rebalance (it re-keys the moved
    // conversations) and a level step still ahead (a timer each).
    p.overflow = vec![
        OverflowStep::new(Millis::from_secs(30), Relax::Priority(0)),
        OverflowStep::new(Millis::from_secs(120), Relax::LowerLevels(1)),
    ];
    let skills = [BILLING, TECH, KOREAN];
    let teams = [SUPPORT, SALES];
    let mut events = Vec::new();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    // The outgoing shift (1..=30) takes every conversation while the
    // incoming one (31..=50, fewer skills, lower levels) is away.
    for o in 1..=50u64 {
        let mut s = op(o).capacity(CHAT, 6).team(teams[(o % 2) as usize]);
        for (i, sk) in skills.iter().enumerate() {
            if o <= 30 || rnd(3) > 0 {
                let level = if o <= 30 { 5 } else { 1 + rnd(5) as u8 };
                s = s.skill(*sk, level);
            } else if i == 0 {
                s = s.skill(*sk, 1);
            }
        }
        if o > 30 {
            s = s.status(OperatorStatus::Away);
        }
        events.push(Event::OperatorAdded {
            at: t(0),
            operator: s,
        });
    }
    let tiers = [ENTERPRISE, LARGE, SMB];
    for c in 1..=170u64 {
        let mut spec =
            chat(c, tiers[rnd(3) as usize]).skill(skills[rnd(3) as usize], 1 + rnd(5) as u8);
        if rnd(4) == 0 {
            spec = spec.team(teams[rnd(2) as usize]);
        }
        events.push(Event::ConversationArrived {
            at: t(1 + c / 10),
            conversation: spec,
        });
    }
    events.push(Event::Assign { at: t(20) });
    for o in 31..=50 {
        events.push(Event::OperatorStatusChanged {
            at: t(21),
            operator: OperatorId(o),
            status: OperatorStatus::Available,
        });
    }
    if settled {
        // Nothing waits: the incoming shift pulls nothing and is idle.
        events.push(Event::Assign { at: t(22) });
    }
    for o in 1..=30 {
        events.push(Event::OperatorStatusChanged {
            at: t(40),
            operator: OperatorId(o),
            status: OperatorStatus::Offline,
        });
    }
    let rebalance_at = events.len();
    events.push(Event::Rebalance { at: t(41) });
    // Then the incoming shift resolves work; freed operators pull what
    // the rebalance left waiting (resolving one still waiting is refused,
    // alike in every run).
    for c in 1..=170u64 {
        events.push(Event::ConversationResolved {
            at: t(50 + c),
            conversation: ConversationId(c),
        });
        events.push(Event::Assign { at: t(50 + c) });
    }
    let run = |m: Matching, snapshot_after: Option<usize>| {
        let mut e = engine_with(p.clone());
        e.set_matching(m);
        let mut out = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            out.push(e.apply(ev.clone()).map_err(|x| x.to_string()));
            if snapshot_after == Some(i) {
                e = Engine::restore(e.snapshot()).expect("restores");
                e.set_matching(m);
            }
        }
        (out, e.state_hash())
    };
    let indexed = run(Matching::Indexed, None);
    let at_rebalance = indexed.0[rebalance_at].as_ref().expect("rebalances");
    let moves = moved(at_rebalance).len();
    let placed = assigned(at_rebalance).len();
    assert!(moves >= 150, "the outgoing shift's work moves ({moves})");
    assert!(
        placed > 20 && placed < 150,
        "some placed, some left ({placed})"
    );
    let pulled: usize = indexed.0[rebalance_at + 1..]
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|ds| assigned(ds).len())
        .sum();
    assert!(pulled > 0, "freed operators pull the rest");
    // The first input whose outcome differs, if any (the whole runs are
    // too long to print).
    let differ = |other: &(Vec<Result<Vec<Decision>, String>>, u64)| {
        let at = indexed.0.iter().zip(&other.0).position(|(a, b)| a != b);
        assert_eq!(at, None, "first input that differs");
        assert_eq!(indexed.1, other.1, "state hash");
    };
    differ(&run(Matching::Scan, None));
    differ(&run(Matching::Indexed, Some(rebalance_at)));
}
