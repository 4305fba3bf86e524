//! What the engine reports must be what happened (issue 16): offers are not
//! answers, a withdrawn offer is reported, every input's decisions reach the
//! host, a blocked conversation's wait is bounded, unavailable operators give
//! work back, declines run out, and claims leave the rotation alone.

use crate::common::*;
use switchboard::engine::{DecisionKind, MoveCause};
use switchboard::kpi::Outcome;
use switchboard::policy::{BlockedWork, OfferPolicy};
use switchboard::prelude::*;

fn offers(timeout_s: u64) -> Policy {
    let mut p = policy();
    p.offers = Some(OfferPolicy::new(Millis::from_secs(timeout_s)));
    p
}

fn kinds(ds: &[Decision]) -> Vec<(u64, u64, DecisionKind)> {
    ds.iter()
        .map(|d| (d.conversation.0, d.operator.0, d.kind))
        .collect()
}

fn unassigned(cause: MoveCause) -> DecisionKind {
    DecisionKind::Unassigned { cause }
}

#[test]
fn a_customer_who_leaves_while_the_offer_rings_was_not_answered() {
    let mut e = engine_with(offers(15));
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(0), chat(1, SMB));
    assert!(matches!(
        e.assign(t(0)).unwrap()[0].kind,
        DecisionKind::Offered { .. }
    ));
    assert_eq!(e.conversation(ConversationId(1)).unwrap().assigned_at, None);
    e.apply(Event::ConversationAbandoned {
        at: t(5),
        conversation: ConversationId(1),
    })
    .unwrap();
    let r = e.take_records().conversations.remove(0);
    assert_eq!((r.offered_at, r.assigned_at), (Some(t(0)), None));
    assert_eq!(r.outcome(), Outcome::Abandoned);
    assert_eq!(r.offered_at, Some(t(0)));
}

#[test]
fn the_wait_ends_at_the_acceptance_not_at_the_first_offer() {
    let mut e = engine_with(offers(15));
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2));
    arrive(&mut e, t(0), chat(1, SMB));
    let first = e.assign(t(0)).unwrap()[0].operator;
    // The offer lapses at 15 s and goes to the other operator, who accepts at 20 s.
    let ds = e.assign(t(15)).unwrap();
    assert_eq!(ds[0].kind, unassigned(MoveCause::OfferExpired));
    let second = ds[1].operator;
    assert_ne!(first, second);
    e.apply(Event::OfferAccepted {
        at: t(20),
        conversation: ConversationId(1),
        operator: second,
    })
    .unwrap();
    assert_eq!(
        e.conversation(ConversationId(1)).unwrap().assigned_at,
        Some(t(20))
    );
    resolve(&mut e, t(60), 1);
    let r = e.take_records().conversations.remove(0);
    assert_eq!((r.offered_at, r.assigned_at), (Some(t(0)), Some(t(20))));
    assert_eq!(r.outcome(), Outcome::Answered);
    assert_eq!(r.missed_offers, 1);
}

#[test]
fn every_path_that_ends_a_ringing_offer_tells_the_host_to_stop_ringing() {
    // Abandoned, resolved, transferred while ringing: each gives
    // `Unassigned { withdrawn }` naming the operator, then its own effect.
    for how in 0..3 {
        let mut e = engine_with(offers(30));
        add(&mut e, t(0), op(1));
        add(&mut e, t(0), op(2));
        arrive(&mut e, t(0), chat(1, SMB));
        let ringing = e.assign(t(0)).unwrap()[0].operator;
        let event = match how {
            0 => Event::ConversationAbandoned {
                at: t(5),
                conversation: ConversationId(1),
            },
            1 => Event::ConversationResolved {
                at: t(5),
                conversation: ConversationId(1),
            },
            _ => Event::ConversationTransferred {
                at: t(5),
                conversation: ConversationId(1),
                to: TransferTarget::Queue,
            },
        };
        let ds = e.apply(event).unwrap();
        assert_eq!(
            kinds(&ds),
            vec![(1, ringing.0, unassigned(MoveCause::Withdrawn))],
            "path {how}"
        );
        assert_eq!(
            e.operator_load(ringing, CHAT).unwrap().0,
            0,
            "capacity freed"
        );
        // Answering it now is refused, naming why, and changes nothing.
        let before = e.clone();
        let err = e
            .apply(Event::OfferAccepted {
                at: t(6),
                conversation: ConversationId(1),
                operator: ringing,
            })
            .unwrap_err();
        assert_eq!(
            err,
            EngineError::OfferWithdrawn {
                conversation: ConversationId(1),
                operator: ringing,
                cause: "withdrawn"
            },
            "path {how}"
        );
        assert!(err.to_string().contains("withdrawn"));
        assert_eq!(e, before);
    }
    // A removed operator's offers (and other work) are reported too.
    let mut e = engine_with(offers(30));
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    let ds = e
        .apply(Event::OperatorRemoved {
            at: t(1),
            operator: OperatorId(1),
        })
        .unwrap();
    assert_eq!(
        kinds(&ds),
        vec![(1, 1, unassigned(MoveCause::OperatorRemoved))]
    );
    assert_eq!(e.waiting(), vec![ConversationId(1)]);
}

#[test]
fn inputs_that_pass_an_offer_expiry_report_the_lapse() {
    // A tick, an arrival and a resolution whose time passes the expiry:
    // each returns the `offer_expired` decision (the C API queues it).
    let inputs = [
        Event::Tick { at: t(20) },
        Event::ConversationArrived {
            at: t(20),
            conversation: chat(9, SMB),
        },
        Event::ConversationResolved {
            at: t(20),
            conversation: ConversationId(2),
        },
    ];
    for ev in inputs {
        let mut e = engine_with(offers(15));
        add(&mut e, t(0), op(1));
        arrive(&mut e, t(0), chat(1, SMB));
        e.assign(t(0)).unwrap();
        // Conversation 2 claimed by hand, so that it can be resolved later.
        arrive(&mut e, t(0), chat(2, SMB));
        e.apply(Event::ConversationClaimed {
            at: t(0),
            conversation: ConversationId(2),
            operator: OperatorId(1),
        })
        .unwrap();
        let ds = e.apply(ev.clone()).unwrap();
        assert_eq!(
            kinds(&ds),
            vec![(1, 1, unassigned(MoveCause::OfferExpired))],
            "{ev:?}"
        );
    }
}

/// Operator 1 takes calls and chats (each blocks the other), holds two
/// chats, a call waits, and a chat arrives every 5 s for 10 minutes, each
/// handled for 30 s. Returns (when the call was assigned, chats served
/// before it that arrived after it).
fn blocked_call(work: BlockedWork) -> (Option<u64>, usize) {
    let mut p = policy();
    p.channels[1].blocks = vec![CALL];
    p.queue_order = switchboard::policy::QueueOrder::Fifo;
    p.blocked_work = work;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 3).capacity(CALL, 1));
    let mut open: Vec<(u64, u64)> = Vec::new(); // (conversation, ends at s)
    let mut next_id = 1;
    let chat_at = |e: &mut Engine, now: u64, open: &mut Vec<(u64, u64)>, id: &mut u64| {
        arrive(e, t(now), chat(*id, SMB));
        *id += 1;
        for d in e.assign(t(now)).unwrap() {
            open.push((d.conversation.0, now + 30));
        }
    };
    chat_at(&mut e, 0, &mut open, &mut next_id);
    chat_at(&mut e, 1, &mut open, &mut next_id);
    let call = 1000;
    arrive(
        &mut e,
        t(2),
        ConversationSpec::new(ConversationId(call), CALL, SMB),
    );
    let mut call_at = None;
    let mut younger = 0;
    for now in 3..=600 {
        let due: Vec<u64> = open.iter().filter(|o| o.1 == now).map(|o| o.0).collect();
        open.retain(|o| o.1 != now);
        for c in due {
            if c == call {
                continue;
            }
            resolve(&mut e, t(now), c);
        }
        if now % 5 == 0 {
            arrive(&mut e, t(now), chat(next_id, SMB));
            next_id += 1;
        }
        for d in e.assign(t(now)).unwrap() {
            if d.conversation.0 == call {
                call_at.get_or_insert(now);
            } else {
                if call_at.is_none() {
                    younger += 1;
                }
                open.push((d.conversation.0, now + 30));
            }
        }
    }
    (call_at, younger)
}

#[test]
fn a_call_blocked_by_chats_is_not_starved_by_younger_chats() {
    let (at, younger) = blocked_call(BlockedWork::Reserve);
    // Operator 1 is reserved at once: no new chat, the two held end at 30
    // and 31 s, and the call follows.
    assert_eq!(
        at,
        Some(31),
        "the call waits only for the chats already held"
    );
    assert_eq!(younger, 0, "no younger chat goes first");
    let (at, younger) = blocked_call(BlockedWork::FirstFree);
    assert_eq!(
        at, None,
        "without reservation the call starves for 10 minutes"
    );
    // Capacity 3 at 30 s a chat: a chat every 10 s, all of them younger.
    assert!(younger >= 55, "{younger} younger chats went first");
}

#[test]
fn an_operator_who_goes_away_gives_unanswered_work_back_at_once() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2).status(OperatorStatus::Away));
    arrive(&mut e, t(0), chat(1, SMB));
    arrive(&mut e, t(0), chat(2, SMB));
    e.assign(t(0)).unwrap();
    e.apply(Event::FirstResponseSent {
        at: t(1),
        conversation: ConversationId(1),
    })
    .unwrap();
    let ds = e
        .apply(Event::OperatorStatusChanged {
            at: t(2),
            operator: OperatorId(1),
            status: OperatorStatus::Away,
        })
        .unwrap();
    // The replied one stays with the person who answered.
    assert_eq!(
        kinds(&ds),
        vec![(2, 1, unassigned(MoveCause::OperatorAway))]
    );
    assert_eq!(e.waiting(), vec![ConversationId(2)]);
    status(&mut e, t(3), 2, OperatorStatus::Available);
    let ds = e.assign(t(3)).unwrap();
    assert_eq!(kinds(&ds), vec![(2, 2, DecisionKind::Assigned)]);

    // The old behaviour on request: nothing moves until `rebalance`.
    let mut p = policy();
    p.rebalance.defer_to_rebalance = true;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    let ds = e
        .apply(Event::OperatorStatusChanged {
            at: t(2),
            operator: OperatorId(1),
            status: OperatorStatus::Offline,
        })
        .unwrap();
    assert!(ds.is_empty());
    assert!(e.assign(t(3)).unwrap().is_empty());
    let ds = e.rebalance(t(4)).unwrap();
    assert_eq!(
        kinds(&ds),
        vec![(1, 1, unassigned(MoveCause::OperatorOffline))]
    );
}

#[test]
fn a_conversation_everyone_declined_is_offered_again_once_the_declines_run_out() {
    let mut e = engine_with(offers(10));
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2));
    arrive(&mut e, t(0), chat(1, SMB));
    let a = e.assign(t(0)).unwrap()[0].operator;
    e.apply(Event::OfferRejected {
        at: t(1),
        conversation: ConversationId(1),
        operator: a,
    })
    .unwrap();
    let b = e.assign(t(1)).unwrap()[0].operator;
    assert_ne!(a, b);
    e.apply(Event::OfferRejected {
        at: t(2),
        conversation: ConversationId(1),
        operator: b,
    })
    .unwrap();
    // Declined by all: it waits, and says so.
    assert!(e.assign(t(2)).unwrap().is_empty());
    assert_eq!(e.conversation(ConversationId(1)).unwrap().declined_by, 2);
    // The first decline runs out 60 s later (the default); the engine says
    // when to call again, and offers it again then.
    assert_eq!(e.next_deadline(), Some(t(61)));
    let ds = e.assign(t(61)).unwrap();
    assert_eq!(kinds(&ds)[0].1, a.0);
    assert!(matches!(ds[0].kind, DecisionKind::Offered { .. }));
    // `None` keeps the old behaviour: declined for the whole wait.
    let mut p = offers(10);
    p.offers.as_mut().unwrap().forget_decline_after = None;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    e.apply(Event::OfferRejected {
        at: t(1),
        conversation: ConversationId(1),
        operator: OperatorId(1),
    })
    .unwrap();
    assert!(e.assign(t(1_000)).unwrap().is_empty());
    assert_eq!(e.next_deadline(), None);
}

#[test]
fn a_claim_does_not_move_the_rotation() {
    let mut p = policy();
    p.selection = Selection::RoundRobin;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2));
    arrive(&mut e, t(1), chat(1, SMB));
    // The host hands conversation 1 to operator 1 by hand.
    e.apply(Event::ConversationClaimed {
        at: t(1),
        conversation: ConversationId(1),
        operator: OperatorId(1),
    })
    .unwrap();
    // Operator 1 is still first in the rotation (joined first, never picked).
    arrive(&mut e, t(2), chat(2, SMB));
    assert_eq!(kinds(&e.assign(t(2)).unwrap())[0].1, 1);
    arrive(&mut e, t(3), chat(3, SMB));
    assert_eq!(kinds(&e.assign(t(3)).unwrap())[0].1, 2);
    // The `last_assigned` idle clock does see the claim: the operator
    // received work.
    let mut p = policy();
    p.selection = Selection::LongestIdle {
        clock: IdleClock::LastAssigned,
    };
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2));
    arrive(&mut e, t(1), chat(1, SMB));
    e.apply(Event::ConversationClaimed {
        at: t(1),
        conversation: ConversationId(1),
        operator: OperatorId(1),
    })
    .unwrap();
    arrive(&mut e, t(2), chat(2, SMB));
    assert_eq!(kinds(&e.assign(t(2)).unwrap())[0].1, 2);
}
