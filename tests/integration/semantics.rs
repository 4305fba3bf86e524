//! Semantics users bring from other routers: the same scenario under each
//! variant, asserting the outcomes that tell them apart.

use crate::common::*;
use switchboard::engine::snapshot::OperatorSnapshot;
use switchboard::engine::{DecisionKind, MoveCause, Snapshot, SnapshotError};
use switchboard::policy::{OfferPolicy, RebalancePolicy};
use switchboard::prelude::*;

fn with(selection: Selection) -> Engine {
    let mut p = policy();
    p.selection = selection;
    let mut e = engine_with(p);
    for o in 1..=3 {
        add(&mut e, t(0), op(o).capacity(CHAT, 10));
    }
    // Only operator 3 speaks Korean.
    e.apply(Event::OperatorSkillsChanged {
        at: t(0),
        operator: OperatorId(3),
        skills: [SkillLevel::new(KOREAN, 3)].into_iter().collect(),
    })
    .unwrap();
    e.assign(t(0)).unwrap();
    e
}

fn next(e: &mut Engine, at: u64, c: ConversationSpec) -> u64 {
    arrive(e, t(at), c);
    e.assign(t(at)).unwrap()[0].operator.0
}

#[test]
fn round_robin_and_ring_differ_after_a_skip() {
    let run = |sel: Selection| {
        let mut e = with(sel);
        vec![
            next(&mut e, 1, chat(1, SMB)),
            next(&mut e, 2, chat(2, SMB).skill(KOREAN, 1)), // skips operator 2
            next(&mut e, 3, chat(3, SMB)),
            next(&mut e, 4, chat(4, SMB)),
        ]
    };
    // Least recently picked: operator 2 was skipped, so it has waited longest.
    assert_eq!(run(Selection::RoundRobin), vec![1, 3, 2, 1]);
    // Ring: after 3 comes 1 again; 2 waits for its turn in the ring.
    assert_eq!(run(Selection::Ring), vec![1, 3, 1, 2]);
    // Fixed order: always the first eligible from the top.
    assert_eq!(run(Selection::FixedOrder), vec![1, 3, 1, 1]);
}

#[test]
fn least_loaded_ratio_and_fewest_conversations_differ_with_unequal_capacities() {
    let run = |sel: Selection| {
        let mut p = policy();
        p.selection = sel;
        let mut e = engine_with(p);
        add(&mut e, t(0), op(1).capacity(CHAT, 10));
        add(&mut e, t(0), op(2).capacity(CHAT, 2));
        for (c, o) in [(1, 1), (2, 1), (3, 1), (4, 2)] {
            arrive(&mut e, t(0), chat(c, SMB));
            e.apply(Event::ConversationClaimed {
                at: t(0),
                conversation: ConversationId(c),
                operator: OperatorId(o),
            })
            .unwrap();
        }
        next(&mut e, 1, chat(5, SMB))
    };
    // Ratios 3/10 against 1/2: operator 1. Counts 3 against 1: operator 2.
    assert_eq!(run(Selection::LeastLoaded), 1);
    assert_eq!(run(Selection::FewestConversations), 2);
}

#[test]
fn the_ring_pointer_survives_snapshot_and_restore() {
    let mut e = with(Selection::Ring);
    next(&mut e, 1, chat(1, SMB));
    next(&mut e, 2, chat(2, SMB));
    let bytes = e.snapshot().to_bytes();
    let mut r = Engine::restore(Snapshot::from_bytes(&bytes).unwrap()).unwrap();
    assert_eq!(next(&mut r, 3, chat(3, SMB)), next(&mut e, 3, chat(3, SMB)));
    assert_eq!(r.state_hash(), e.state_hash());
}

#[test]
fn priority_numbers_lower_first_and_head_start_aging() {
    // Stated once: a lower priority number is served first.
    let mut e = engine_with(policy());
    add(
        &mut e,
        t(0),
        op(1).capacity(CHAT, 1).status(OperatorStatus::Away),
    );
    arrive(&mut e, t(0), chat(1, SMB)); // priority 3
    arrive(&mut e, t(1), chat(2, ENTERPRISE)); // priority 1
    status(&mut e, t(2), 1, OperatorStatus::Available);
    assert_eq!(pairs(&e.assign(t(2)).unwrap()), vec![(2, 1)]);
}

/// Two operators in fixed order (1 before 2), chat capacity 10 each.
fn fixed_pair(p: Policy) -> Engine {
    let mut p = p;
    p.selection = Selection::FixedOrder;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 10));
    add(&mut e, t(0), op(2).capacity(CHAT, 10));
    e
}

#[test]
fn a_throughput_cap_limits_picks_per_window_not_concurrency() {
    let run = |cap: Option<ThroughputCap>| {
        let mut p = policy();
        p.throughput_cap = cap;
        let mut e = fixed_pair(p);
        let mut got = Vec::new();
        for (c, at) in [(1, 0), (2, 10), (3, 20), (4, 59), (5, 60)] {
            got.push(next(&mut e, at, chat(c, SMB)));
        }
        (got, e)
    };
    // Capacity alone: the top of the list takes everything.
    assert_eq!(run(None).0, vec![1, 1, 1, 1, 1]);
    // Two picks per minute: operator 1 is held back from its second pick
    // (t = 10 s) until its first is a minute old (t = 60 s, inclusive).
    let cap = ThroughputCap::new(2, Millis::from_secs(60));
    let (got, e) = run(Some(cap));
    assert_eq!(got, vec![1, 1, 2, 2, 1]);
    // It still has free capacity; the cap is what holds it back, until its
    // second pick (t = 10 s) is a minute old.
    let o = e.operator(OperatorId(1)).unwrap();
    assert_eq!(o.open, 3);
    assert_eq!(o.held_back_until, Some(t(70)));
    assert_eq!(e.next_deadline(), Some(t(70)));
}

/// A cap of two picks per minute; operator 1 picked at 0 s and 10 s.
fn two_picks_of_two_per_minute() -> Engine {
    let mut p = policy();
    p.throughput_cap = Some(ThroughputCap::new(2, Millis::from_secs(60)));
    let mut e = fixed_pair(p);
    next(&mut e, 0, chat(1, SMB));
    next(&mut e, 10, chat(2, SMB));
    e
}

#[test]
fn the_throughput_window_survives_snapshot_and_restore() {
    let mut e = two_picks_of_two_per_minute();
    let snap = e.snapshot();
    // The cap keeps two pick times per operator; a third is refused.
    let mut bad = snap.clone();
    bad.operators[0].recent_picks.push(t(10));
    assert!(matches!(
        Engine::restore(bad).unwrap_err(),
        SnapshotError::Inconsistent { .. }
    ));
    let bytes = snap.to_bytes();
    let mut r = Engine::restore(Snapshot::from_bytes(&bytes).unwrap()).unwrap();
    for (c, at) in [(3, 20), (4, 60), (5, 61)] {
        assert_eq!(
            next(&mut r, at, chat(c, SMB)),
            next(&mut e, at, chat(c, SMB))
        );
    }
    assert_eq!(r.state_hash(), e.state_hash());
}

fn offered_pair(offers: OfferPolicy) -> Engine {
    let mut p = policy();
    p.offers = Some(offers);
    fixed_pair(p)
}

#[test]
fn a_reject_cool_down_keeps_the_operator_from_the_next_offer() {
    let run = |cooldown: Millis| {
        let mut e =
            offered_pair(OfferPolicy::new(Millis::from_secs(60)).cooldown_after_reject(cooldown));
        assert_eq!(next(&mut e, 0, chat(1, SMB)), 1);
        let ds = e
            .apply(Event::OfferRejected {
                at: t(1),
                conversation: ConversationId(1),
                operator: OperatorId(1),
            })
            .unwrap();
        assert_eq!(
            pairs(&ds),
            vec![(1, 1)],
            "the reject moves it off operator 1"
        );
        // Declined conversations never return to the same operator: the
        // assign call hands conversation 1 to operator 2.
        assert_eq!(pairs(&e.assign(t(1)).unwrap()), vec![(1, 2)]);
        arrive(&mut e, t(5), chat(2, SMB));
        let a = pairs(&e.assign(t(5)).unwrap());
        arrive(&mut e, t(31), chat(3, SMB));
        let b = pairs(&e.assign(t(31)).unwrap());
        (a, b)
    };
    // No cool-down: operator 1 is offered the next conversation at once.
    assert_eq!(run(Millis::ZERO), (vec![(2, 1)], vec![(3, 1)]));
    // FreeSWITCH reject-delay-time 30 s: operator 2 takes the next one;
    // operator 1 is back at t = 31 s (the cool-down ended at 31 s).
    assert_eq!(run(Millis::from_secs(30)), (vec![(2, 2)], vec![(3, 1)]));
}

#[test]
fn a_miss_cool_down_starts_when_the_offer_lapses() {
    let mut e = offered_pair(
        OfferPolicy::new(Millis::from_secs(20))
            .cooldown_after_miss(Millis::from_secs(60))
            .cooldown_after_reject(Millis::ZERO),
    );
    assert_eq!(next(&mut e, 0, chat(1, SMB)), 1);
    // The offer lapses at 20 s; the cool-down runs to 80 s.
    let ds = e.assign(t(25)).unwrap();
    assert_eq!(pairs(&ds), vec![(1, 1), (1, 2)], "lapse, then re-offer");
    e.apply(Event::OfferAccepted {
        at: t(26),
        conversation: ConversationId(1),
        operator: OperatorId(2),
    })
    .unwrap();
    assert_eq!(
        e.operator(OperatorId(1)).unwrap().held_back_until,
        Some(t(80))
    );
    assert_eq!(next(&mut e, 79, chat(2, SMB)), 2);
    assert_eq!(next(&mut e, 80, chat(3, SMB)), 1);
}

#[test]
fn overflow_timers_from_routing_or_from_the_previous_step() {
    // Korean at level 3 is wanted; nobody has it. Step 1 lowers the level
    // (still nobody), step 2 opens it to anyone.
    let run = |timing: OverflowTiming| {
        let mut p = policy();
        p.overflow_timing = timing;
        p.overflow = vec![
            OverflowStep::new(Millis::from_secs(30), Relax::LowerLevels(1)),
            OverflowStep::new(Millis::from_secs(40), Relax::AnyOperator),
        ];
        let mut e = engine_with(p);
        add(&mut e, t(0), op(1));
        arrive(&mut e, t(0), chat(1, SMB).skill(KOREAN, 3));
        assert!(e.assign(t(0)).unwrap().is_empty());
        let deadlines = (e.next_deadline(), {
            e.assign(t(30)).unwrap();
            e.next_deadline()
        });
        // Assign every second from 31 s: when does operator 1 get it?
        let at = (31..=80).find(|&s| !e.assign(t(s)).unwrap().is_empty());
        (deadlines, at)
    };
    // Asterisk penaltychange: 40 s after the conversation entered routing.
    let (deadlines, at) = run(OverflowTiming::FromRouting);
    assert_eq!(deadlines, (Some(t(30)), Some(t(40))));
    assert_eq!(at, Some(40));
    // TaskRouter / Amazon Connect / FreeSWITCH: 40 s after step 1 took
    // effect (30 + 40 = 70 s).
    let (deadlines, at) = run(OverflowTiming::FromPreviousStep);
    assert_eq!(deadlines, (Some(t(30)), Some(t(70))));
    assert_eq!(at, Some(70));
}

#[test]
fn operator_levels_open_with_waiting_time_like_penalties() {
    // Asterisk penalties / FreeSWITCH tier levels as skill levels: level 5
    // is penalty 0, level 4 is penalty 1. The conversation wants level 5
    // first; each overflow step opens the next level down. Most proficient
    // keeps lower-penalty operators first once a level is open.
    let mut p = policy();
    p.selection = Selection::MostProficient;
    p.overflow_timing = OverflowTiming::FromPreviousStep;
    p.overflow = vec![OverflowStep::new(
        Millis::from_secs(20),
        Relax::LowerLevels(1),
    )];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1).skill(BILLING, 5));
    add(&mut e, t(0), op(2).capacity(CHAT, 1).skill(BILLING, 4));
    add(&mut e, t(0), op(3).capacity(CHAT, 1).skill(BILLING, 4));
    // Penalty 0 is free: it takes the first conversation.
    assert_eq!(next(&mut e, 0, chat(1, SMB).skill(BILLING, 5)), 1);
    // The second waits while only penalty-1 operators are free...
    arrive(&mut e, t(1), chat(2, SMB).skill(BILLING, 5));
    assert!(e.assign(t(20)).unwrap().is_empty());
    // ...and the level opens 20 s after it entered routing.
    let ds = e.assign(t(21)).unwrap();
    assert_eq!(pairs(&ds), vec![(2, 2)]);
    assert_eq!(ds[0].reason.overflow_step, 1);
}

#[test]
fn direct_routing_above_capacity_is_an_option() {
    let run = |over_capacity: bool| {
        let mut p = policy();
        p.preferred_operator.over_capacity = over_capacity;
        let mut e = operator_one_full(p, 1);
        arrive(&mut e, t(1), chat(2, SMB).preferred_operator(OperatorId(1)));
        let d = e.assign(t(1)).unwrap().remove(0);
        (
            d.operator.0,
            d.reason.route,
            d.reason.load_before,
            d.reason.capacity,
        )
    };
    // Default: the preferred operator must have room; someone else takes it.
    assert_eq!(run(false), (2, Route::LeastLoaded, 0, 1));
    // Over capacity: the returning customer reaches their operator anyway.
    assert_eq!(run(true), (1, Route::PreferredOperator, 1, 1));
}

#[test]
fn direct_routing_above_capacity_waits_for_an_away_operator_to_return() {
    let mut p = policy();
    // Operator 1 keeps the conversation that fills them while away.
    p.rebalance.defer_to_rebalance = true;
    p.preferred_operator.over_capacity = true;
    p.preferred_operator.wait = Millis::from_secs(60);
    let mut e = operator_one_full(p, 1);
    status(&mut e, t(1), 1, OperatorStatus::Away);
    arrive(&mut e, t(2), chat(2, SMB).preferred_operator(OperatorId(1)));
    // Away but logged in: the conversation waits for them.
    assert!(e.assign(t(2)).unwrap().is_empty());
    status(&mut e, t(10), 1, OperatorStatus::Available);
    let ds = e.assign(t(10)).unwrap();
    assert_eq!(pairs(&ds), vec![(2, 1)]);
    assert_eq!(ds[0].reason.route, Route::PreferredOperator);
    assert_eq!(e.operator_load(OperatorId(1), CHAT).unwrap(), (2, 1));
}

#[test]
fn after_the_last_step_and_with_nobody_logged_in_the_conversation_keeps_waiting() {
    let mut p = policy();
    p.overflow = vec![OverflowStep::new(Millis::from_secs(30), Relax::AnyTeam)];
    let mut e = engine_with(p);
    // Nobody on the support team is logged in: the step still waits its
    // 30 s (no FreeSWITCH-style "no agent, no wait" skip).
    add(
        &mut e,
        t(0),
        op(1).team(SUPPORT).status(OperatorStatus::Offline),
    );
    add(&mut e, t(0), op(2).status(OperatorStatus::Away));
    arrive(&mut e, t(0), chat(1, SMB).team(SUPPORT));
    assert!(e.assign(t(0)).unwrap().is_empty());
    assert_eq!(e.next_deadline(), Some(t(30)));
    assert!(e.assign(t(30)).unwrap().is_empty());
    // After the last step nothing ends it: hours later it is still waiting,
    // with its place and its wait, until the host ends it or someone frees up.
    assert_eq!(e.next_deadline(), None);
    assert!(e.assign(t(4 * 3600)).unwrap().is_empty());
    let v = e.conversation(ConversationId(1)).unwrap();
    assert_eq!(v.state, ConversationState::Waiting);
    assert_eq!(v.overflow_step, 1);
    status(&mut e, t(4 * 3600 + 1), 2, OperatorStatus::Available);
    let ds = e.assign(t(4 * 3600 + 1)).unwrap();
    assert_eq!(pairs(&ds), vec![(1, 2)]);
    assert_eq!(ds[0].reason.waited, Millis::from_secs(4 * 3600 + 1));
}

#[test]
fn once_a_level_is_open_penalty_zero_still_wins() {
    // Level 4 is open for the conversation (step 1), and both a level-4
    // operator with the lower id and the level-5 operator are free: the
    // penalty-0 (level 5) operator takes it, as an Asterisk member with the
    // lower penalty would.
    let mut p = policy();
    p.selection = Selection::MostProficient;
    p.overflow = vec![OverflowStep::new(
        Millis::from_secs(20),
        Relax::LowerLevels(1),
    )];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1).skill(BILLING, 4));
    add(
        &mut e,
        t(0),
        op(2)
            .capacity(CHAT, 1)
            .skill(BILLING, 5)
            .status(OperatorStatus::Away),
    );
    arrive(&mut e, t(0), chat(1, SMB).skill(BILLING, 5));
    assert!(e.assign(t(0)).unwrap().is_empty());
    // At 20 s both become possible at once: the level opens and operator 2
    // comes back.
    status(&mut e, t(20), 2, OperatorStatus::Available);
    let ds = e.assign(t(20)).unwrap();
    assert_eq!(pairs(&ds), vec![(1, 2)]);
    assert_eq!(ds[0].reason.overflow_step, 1);
}

/// Operator 1 (chat capacity 1) holding conversation 1 by a claim, and an
/// idle operator 2 with chat capacity `second`.
fn operator_one_full(p: Policy, second: u16) -> Engine {
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    add(&mut e, t(0), op(2).capacity(CHAT, second));
    arrive(&mut e, t(0), chat(1, SMB));
    claim(&mut e, 0, 1, 1);
    e
}

fn claim(e: &mut Engine, at: u64, conv: u64, operator: u64) {
    e.apply(Event::ConversationClaimed {
        at: t(at),
        conversation: ConversationId(conv),
        operator: OperatorId(operator),
    })
    .unwrap();
}

/// Operator 1 (chat capacity 1) holds conversation 1 and then, by direct
/// routing above capacity, two returning customers: load 3 of 1.
fn above_capacity(rebalance: RebalancePolicy) -> Engine {
    let mut p = policy();
    p.preferred_operator.over_capacity = true;
    p.rebalance = rebalance;
    let mut e = operator_one_full(p, 5);
    arrive(&mut e, t(1), chat(2, SMB).preferred_operator(OperatorId(1)));
    arrive(&mut e, t(1), chat(3, SMB).preferred_operator(OperatorId(1)));
    assert_eq!(pairs(&e.assign(t(1)).unwrap()), vec![(2, 1), (3, 1)]);
    assert_eq!(e.operator_load(OperatorId(1), CHAT).unwrap(), (3, 1));
    e
}

#[test]
fn raising_capacity_after_direct_routing_is_not_a_capacity_cut() {
    let mut e = above_capacity(RebalancePolicy::new().on_capacity_cut(true));
    e.apply(Event::OperatorCapacityChanged {
        at: t(2),
        operator: OperatorId(1),
        channel: CHAT,
        capacity: 2,
    })
    .unwrap();
    assert_eq!(e.rebalance(t(3)).unwrap(), vec![]);
    // A real cut still moves unanswered work, most recent first.
    e.apply(Event::OperatorCapacityChanged {
        at: t(4),
        operator: OperatorId(1),
        channel: CHAT,
        capacity: 1,
    })
    .unwrap();
    let ds = e.rebalance(t(5)).unwrap();
    assert_eq!(ds[0].operator, OperatorId(1));
    assert_eq!(
        ds[0].kind,
        DecisionKind::Unassigned {
            cause: MoveCause::CapacityCut
        }
    );
}

#[test]
fn a_skew_rebalance_leaves_returning_customers_with_their_operator() {
    let mut e = above_capacity(RebalancePolicy::new().skew_margin_permille(Some(100)));
    // Operator 1 is at 3/1 against 0/5, but both preferred conversations
    // stay; only conversation 1 (claimed, no preference) may move.
    let ds = e.rebalance(t(2)).unwrap();
    assert_eq!(pairs(&ds), vec![(1, 1), (1, 2)]);
    assert_eq!(holder(&e, 2), Some(1));
    assert_eq!(holder(&e, 3), Some(1));
}

#[test]
fn is_eligible_agrees_with_direct_routing_above_capacity() {
    let mut p = policy();
    // Operator 1 keeps the conversation that fills them while away.
    p.rebalance.defer_to_rebalance = true;
    p.preferred_operator.over_capacity = true;
    p.preferred_operator.wait = Millis::from_secs(60);
    let mut e = operator_one_full(p, 1);
    status(&mut e, t(0), 1, OperatorStatus::Away);
    arrive(&mut e, t(1), chat(2, SMB).preferred_operator(OperatorId(1)));
    assert!(e.assign(t(1)).unwrap().is_empty());
    assert!(!e.is_eligible(OperatorId(1), ConversationId(2)), "away");
    status(&mut e, t(2), 1, OperatorStatus::Available);
    assert!(
        e.is_eligible(OperatorId(1), ConversationId(2)),
        "full but preferred"
    );
    assert_eq!(pairs(&e.assign(t(2)).unwrap()), vec![(2, 1)]);
}

#[test]
fn direct_routing_above_capacity_stops_at_what_a_load_can_count() {
    let mut p = policy();
    p.preferred_operator.over_capacity = true;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    add(&mut e, t(0), op(2).capacity(CHAT, 1));
    let n = u64::from(u16::MAX) + 2;
    for c in 1..=n {
        arrive(&mut e, t(0), chat(c, SMB).preferred_operator(OperatorId(1)));
    }
    let ds = e.assign(t(0)).unwrap();
    assert_eq!(e.operator_load(OperatorId(1), CHAT).unwrap(), (u16::MAX, 1));
    // The rest go by the normal rule: one to operator 2, one waits.
    assert_eq!(ds.len(), usize::from(u16::MAX) + 1);
    assert_eq!(e.state_counts().waiting, 1);
    assert!(Engine::restore(e.snapshot()).is_ok());
}

#[test]
fn restore_refuses_a_full_window_without_a_hold_back() {
    let e = two_picks_of_two_per_minute();
    let good = e.snapshot();
    assert_eq!(good.operators[0].held_back_until, Some(t(60)));
    for spoil in [
        |o: &mut OperatorSnapshot| o.held_back_until = None,
        |o: &mut OperatorSnapshot| o.recent_picks[1] = t(11),
        |o: &mut OperatorSnapshot| o.held_back_until = Some(t(10)),
    ] {
        let mut bad = good.clone();
        spoil(&mut bad.operators[0]);
        assert!(matches!(
            Engine::restore(bad).unwrap_err(),
            SnapshotError::Inconsistent { .. }
        ));
    }
}

#[test]
fn a_declined_conversation_returns_to_the_same_operator_only_when_reoffers_are_on() {
    let run = |reoffer_declined: bool| {
        let mut p = policy();
        p.offers = Some(
            OfferPolicy::new(Millis::from_secs(20))
                .reoffer_declined(reoffer_declined)
                .away_after_missed(0),
        );
        let mut e = engine_with(p);
        add(&mut e, t(0), op(1));
        arrive(&mut e, t(0), chat(1, SMB));
        assert_eq!(pairs(&e.assign(t(0)).unwrap()), vec![(1, 1)]);
        e.apply(Event::OfferRejected {
            at: t(1),
            conversation: ConversationId(1),
            operator: OperatorId(1),
        })
        .unwrap();
        pairs(&e.assign(t(1)).unwrap())
    };
    // Default (TaskRouter-like): never offered to the same operator again.
    assert_eq!(run(false), vec![]);
    // Asterisk-like: the only member rings again.
    assert_eq!(run(true), vec![(1, 1)]);
}

#[test]
fn the_ring_pointer_moves_on_an_offer_not_on_its_acceptance() {
    let mut p = policy();
    p.selection = Selection::Ring;
    p.offers = Some(OfferPolicy::new(Millis::from_secs(20)).away_after_missed(0));
    let mut e = engine_with(p);
    for o in 1..=3 {
        add(&mut e, t(0), op(o).capacity(CHAT, 10));
    }
    // Conversation 1 is offered to operator 1 and not yet answered. If the
    // pointer waited for the acceptance, conversation 2 would start from the
    // top again and go to operator 1; it moved with the offer, so 2 goes on.
    assert_eq!(next(&mut e, 0, chat(1, SMB)), 1);
    assert_eq!(
        pairs(&{
            arrive(&mut e, t(1), chat(2, SMB));
            e.assign(t(1)).unwrap()
        }),
        vec![(2, 2)]
    );
    e.apply(Event::OfferAccepted {
        at: t(2),
        conversation: ConversationId(1),
        operator: OperatorId(1),
    })
    .unwrap();
    arrive(&mut e, t(3), chat(3, SMB));
    assert_eq!(pairs(&e.assign(t(3)).unwrap()), vec![(3, 3)]);
}

#[test]
fn a_newcomer_takes_their_id_place_in_the_ring() {
    let mut p = policy();
    p.selection = Selection::Ring;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 10));
    add(&mut e, t(0), op(3).capacity(CHAT, 10));
    assert_eq!(next(&mut e, 1, chat(1, SMB)), 1);
    // Operator 2 logs in after 1 was picked: the ring continues at 2, not
    // at 3 (round robin would put the newcomer at the back instead).
    add(&mut e, t(2), op(2).capacity(CHAT, 10));
    e.assign(t(2)).unwrap();
    assert_eq!(next(&mut e, 3, chat(2, SMB)), 2);
    assert_eq!(next(&mut e, 4, chat(3, SMB)), 3);
}
