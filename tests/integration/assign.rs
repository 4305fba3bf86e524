//! The core engine: queue orders, selection strategies, eligibility,
//! preferred operator, overflow, wrap-up, blocking channels, claims,
//! transfers, queries and determinism.

use crate::common::*;
use switchboard::prelude::*;

/// One operator with room for one chat frees up while three tiers wait.
fn one_slot_serves(order: QueueOrder, arrivals: &[(u64, TierId, u64)], free_at: u64) -> Vec<u64> {
    let mut p = policy();
    p.queue_order = order;
    let mut e = engine_with(p);
    add(
        &mut e,
        t(0),
        op(1).capacity(CHAT, 1).status(OperatorStatus::Away),
    );
    for &(id, tier, at) in arrivals {
        arrive(&mut e, t(at), chat(id, tier));
    }
    let mut served = Vec::new();
    status(&mut e, t(free_at), 1, OperatorStatus::Available);
    for k in 0..arrivals.len() as u64 {
        let now = t(free_at + k);
        let ds = e.assign(now).unwrap();
        assert_eq!(ds.len(), 1, "one slot, one decision");
        served.push(ds[0].conversation.0);
        resolve(&mut e, now, ds[0].conversation.0);
    }
    served
}

#[test]
fn strict_priority_serves_higher_tiers_first_then_oldest() {
    let served = one_slot_serves(
        QueueOrder::StrictPriority,
        &[
            (1, SMB, 0),
            (2, LARGE, 1),
            (3, ENTERPRISE, 2),
            (4, LARGE, 3),
        ],
        10,
    );
    assert_eq!(served, vec![3, 2, 4, 1]);
}

#[test]
fn strict_priority_lets_a_low_tier_starve_but_aging_does_not() {
    // An SMB conversation waits 20 minutes; Enterprise ones keep arriving.
    // Enterprise head start is 10 minutes, so under aging the SMB one
    // (effective ask 0) beats an Enterprise one asked at minute 15 (effective 5).
    let arrivals = [(1, SMB, 0), (2, ENTERPRISE, 900), (3, ENTERPRISE, 1000)];
    let strict = one_slot_serves(QueueOrder::StrictPriority, &arrivals, 1200);
    assert_eq!(
        strict,
        vec![2, 3, 1],
        "strict classes: SMB waits behind every Enterprise"
    );
    let aging = one_slot_serves(QueueOrder::Aging, &arrivals, 1200);
    assert_eq!(
        aging,
        vec![1, 2, 3],
        "aging: the long-waiting SMB goes first"
    );
    // With a short wait, aging still favours Enterprise.
    let aging_short = one_slot_serves(QueueOrder::Aging, &[(1, SMB, 0), (2, ENTERPRISE, 60)], 100);
    assert_eq!(aging_short, vec![2, 1]);
}

#[test]
fn earliest_deadline_and_fifo_orders() {
    // SMB asked at 0 (deadline 300 s); Enterprise asked at 200 (deadline 260 s).
    let arrivals = [(1, SMB, 0), (2, ENTERPRISE, 200), (3, LARGE, 250)];
    // Large asked at 250 → deadline 370.
    assert_eq!(
        one_slot_serves(QueueOrder::EarliestDeadline, &arrivals, 300),
        vec![2, 1, 3]
    );
    assert_eq!(
        one_slot_serves(QueueOrder::Fifo, &arrivals, 300),
        vec![1, 2, 3]
    );
}

#[test]
fn waiting_query_lists_routing_order() {
    let mut e = engine_with(policy());
    arrive(&mut e, t(0), chat(1, SMB));
    arrive(&mut e, t(1), chat(2, ENTERPRISE));
    arrive(&mut e, t(2), chat(3, LARGE));
    let w: Vec<u64> = e.waiting().iter().map(|c| c.0).collect();
    assert_eq!(w, vec![2, 3, 1]);
}

#[test]
fn least_loaded_compares_load_ratios_exactly() {
    let mut e = engine_with(policy());
    // Operator 1: 1 of 3 (0.333); operator 2: 2 of 5 (0.4). Operator 1 is less loaded.
    add(&mut e, t(0), op(1).capacity(CHAT, 3));
    add(&mut e, t(0), op(2).capacity(CHAT, 5));
    for (c, o) in [(1, 1), (2, 2), (3, 2)] {
        arrive(&mut e, t(0), chat(c, SMB));
        e.apply(Event::ConversationClaimed {
            at: t(0),
            conversation: ConversationId(c),
            operator: OperatorId(o),
        })
        .unwrap();
    }
    arrive(&mut e, t(1), chat(4, SMB));
    let ds = e.assign(t(1)).unwrap();
    assert_eq!(pairs(&ds), vec![(4, 1)]);
    assert_eq!(ds[0].reason.route, Route::LeastLoaded);
    assert_eq!((ds[0].reason.load_before, ds[0].reason.capacity), (1, 3));
    // Now 2/3 (0.667) vs 2/5 (0.4): operator 2.
    arrive(&mut e, t(2), chat(5, SMB));
    assert_eq!(pairs(&e.assign(t(2)).unwrap()), vec![(5, 2)]);
}

#[test]
fn least_loaded_ties_go_to_the_least_recently_assigned_then_lowest_id() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(2));
    add(&mut e, t(0), op(1));
    // Equal load, never assigned on the channel: lowest id first.
    arrive(&mut e, t(1), chat(1, SMB));
    assert_eq!(pairs(&e.assign(t(1)).unwrap()), vec![(1, 1)]);
    arrive(&mut e, t(2), chat(2, SMB));
    assert_eq!(pairs(&e.assign(t(2)).unwrap()), vec![(2, 2)]);
    resolve(&mut e, t(3), 1);
    resolve(&mut e, t(3), 2);
    // Both at 0 again: operator 1 was assigned before operator 2 on chat,
    // so it is the least recently assigned.
    arrive(&mut e, t(4), chat(3, SMB));
    assert_eq!(pairs(&e.assign(t(4)).unwrap()), vec![(3, 1)]);
    resolve(&mut e, t(5), 3);
    arrive(&mut e, t(6), chat(4, SMB));
    assert_eq!(
        pairs(&e.assign(t(6)).unwrap()),
        vec![(4, 2)],
        "a low-volume period alternates"
    );
    // An email assignment does not count against chat ties.
    e.apply(Event::OperatorCapacityChanged {
        at: t(7),
        operator: OperatorId(1),
        channel: EMAIL,
        capacity: 1,
    })
    .unwrap();
    resolve(&mut e, t(7), 4);
    arrive(
        &mut e,
        t(8),
        ConversationSpec::new(ConversationId(5), EMAIL, SMB),
    );
    assert_eq!(pairs(&e.assign(t(8)).unwrap()), vec![(5, 1)]);
    arrive(&mut e, t(9), chat(6, SMB));
    assert_eq!(
        pairs(&e.assign(t(9)).unwrap()),
        vec![(6, 1)],
        "1 was picked on chat before 2"
    );
}

#[test]
fn a_burst_is_spread_evenly_under_least_loaded() {
    let mut e = engine_with(policy());
    for o in 1..=3 {
        add(&mut e, t(0), op(o).capacity(CHAT, 4));
    }
    for c in 1..=9 {
        arrive(&mut e, t(1), chat(c, SMB));
    }
    let ds = e.assign(t(1)).unwrap();
    assert_eq!(ds.len(), 9);
    for o in 1..=3 {
        assert_eq!(e.operator_load(OperatorId(o), CHAT).unwrap(), (3, 4));
    }
}

#[test]
fn longest_idle_reads_the_configured_clock() {
    // Operator 1 finished a conversation at 50 s; operator 2 at 20 s but
    // became available (after a break) at 60 s; operator 3 joined at 0 and
    // never handled anything (idle since it was added). Assignments: 1 at 10,
    // 2 at 5.
    let run = |clock: IdleClock| {
        let mut p = policy();
        p.selection = Selection::LongestIdle { clock };
        let mut e = engine_with(p);
        add(&mut e, t(0), op(3).status(OperatorStatus::Offline));
        add(
            &mut e,
            t(0),
            op(1).capacity(CHAT, 1).status(OperatorStatus::Offline),
        );
        add(
            &mut e,
            t(0),
            op(2).capacity(CHAT, 1).status(OperatorStatus::Offline),
        );
        status(&mut e, t(1), 2, OperatorStatus::Available);
        arrive(&mut e, t(5), chat(20, SMB));
        assert_eq!(pairs(&e.assign(t(5)).unwrap()), vec![(20, 2)]);
        status(&mut e, t(9), 1, OperatorStatus::Available);
        arrive(&mut e, t(10), chat(10, SMB));
        assert_eq!(pairs(&e.assign(t(10)).unwrap()), vec![(10, 1)]);
        resolve(&mut e, t(20), 20);
        status(&mut e, t(30), 2, OperatorStatus::Away);
        resolve(&mut e, t(50), 10);
        status(&mut e, t(60), 2, OperatorStatus::Available);
        status(&mut e, t(61), 3, OperatorStatus::Available);
        e.assign(t(61)).unwrap();
        arrive(&mut e, t(70), chat(30, SMB));
        e.assign(t(70)).unwrap()[0].operator.0
    };
    // Last conversation ended: 3 (never, counts from 0) < 2 (20 s) < 1 (50 s).
    assert_eq!(run(IdleClock::LastConversationEnded), 3);
    // Became available: 1 (9 s) < 2 (60 s) < 3 (61 s).
    assert_eq!(run(IdleClock::BecameAvailable), 1);
    // Last assigned: 3 (never: added at 0) < 2 (5 s) < 1 (10 s).
    assert_eq!(run(IdleClock::LastAssigned), 3);
}

#[test]
fn round_robin_rotates_and_newcomers_join_at_the_back() {
    let mut p = policy();
    p.selection = Selection::RoundRobin;
    let mut e = engine_with(p);
    for o in 1..=3 {
        add(&mut e, t(0), op(o).capacity(CHAT, 10));
    }
    let mut got = Vec::new();
    for c in 1..=4 {
        arrive(&mut e, t(c), chat(c, SMB));
        got.push(e.assign(t(c)).unwrap()[0].operator.0);
    }
    assert_eq!(got, vec![1, 2, 3, 1]);
    add(&mut e, t(5), op(4).capacity(CHAT, 10));
    let mut got = Vec::new();
    for c in 5..=8 {
        arrive(&mut e, t(c), chat(c, SMB));
        got.push(e.assign(t(c)).unwrap()[0].operator.0);
    }
    // Operator 1 was picked last before 4 joined; 4 comes after everyone.
    assert_eq!(
        got,
        vec![2, 3, 1, 4],
        "operator 4 joins at the back of the rotation"
    );
}

#[test]
fn most_proficient_takes_the_highest_level_in_the_primary_skill() {
    let mut p = policy();
    p.selection = Selection::MostProficient;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).skill(BILLING, 2));
    add(&mut e, t(0), op(2).skill(BILLING, 5).skill(TECH, 1));
    add(&mut e, t(0), op(3).skill(BILLING, 4).skill(TECH, 3));
    arrive(&mut e, t(1), chat(1, SMB).skill(BILLING, 2));
    let d = &e.assign(t(1)).unwrap()[0];
    assert_eq!((d.operator.0, d.reason.route), (2, Route::MostProficient));
    assert_eq!(
        d.reason.matched[0],
        switchboard::engine::SkillMatch {
            skill: BILLING,
            required: 2,
            level: 5
        }
    );
    // Needs tech ≥ 2 as well: only operator 3 qualifies.
    arrive(&mut e, t(2), chat(2, SMB).skill(BILLING, 1).skill(TECH, 2));
    assert_eq!(pairs(&e.assign(t(2)).unwrap()), vec![(2, 3)]);
}

#[test]
fn skill_development_sends_the_configured_share_to_juniors() {
    let mut p = policy();
    p.selection = Selection::SkillDevelopment {
        demanding_skills: vec![BILLING],
        share_permille: 500,
    };
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 100).skill(BILLING, 5)); // senior
    add(
        &mut e,
        t(0),
        op(2).capacity(CHAT, 100).skill(BILLING, 1).skill(TECH, 5),
    ); // junior
    let mut to_junior = 0;
    for c in 1..=10 {
        arrive(&mut e, t(c), chat(c, SMB).skill(BILLING, 1));
        let d = &e.assign(t(c)).unwrap()[0];
        if d.operator.0 == 2 {
            assert_eq!(d.reason.route, Route::SkillDevelopment);
            to_junior += 1;
        } else {
            assert_eq!(d.reason.route, Route::MostProficient);
        }
    }
    assert_eq!(to_junior, 5, "half of the demanding conversations");
    // Non-demanding conversations go to the most proficient in their skill.
    arrive(&mut e, t(20), chat(20, SMB).skill(TECH, 1));
    assert_eq!(pairs(&e.assign(t(20)).unwrap()), vec![(20, 2)]);
}

#[test]
fn skills_levels_and_teams_decide_eligibility() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).skill(BILLING, 2).team(SUPPORT));
    add(&mut e, t(0), op(2).skill(BILLING, 4).team(SALES));
    arrive(&mut e, t(1), chat(1, SMB).skill(BILLING, 3));
    arrive(&mut e, t(1), chat(2, SMB).skill(BILLING, 1).team(SUPPORT));
    arrive(&mut e, t(1), chat(3, SMB).skill(KOREAN, 1));
    let ds = e.assign(t(1)).unwrap();
    // Freed operators pull in id order: operator 1 can only serve 2.
    assert_eq!(pairs(&ds), vec![(2, 1), (1, 2)]);
    assert_eq!(
        e.conversation(ConversationId(3)).unwrap().state,
        ConversationState::Waiting
    );
    // Give operator 1 Korean: the freed operator pulls it.
    e.apply(Event::OperatorSkillsChanged {
        at: t(2),
        operator: OperatorId(1),
        skills: [SkillLevel::new(BILLING, 2), SkillLevel::new(KOREAN, 3)]
            .into_iter()
            .collect(),
    })
    .unwrap();
    let ds = e.assign(t(2)).unwrap();
    assert_eq!(pairs(&ds), vec![(3, 1)]);
    assert_eq!(ds[0].reason.trigger, Trigger::OperatorFreed);
}

#[test]
fn a_freed_operator_takes_the_most_urgent_conversation_it_can_serve() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 1).skill(BILLING, 3));
    arrive(&mut e, t(0), chat(9, SMB));
    e.assign(t(0)).unwrap();
    arrive(&mut e, t(1), chat(1, SMB).skill(BILLING, 1));
    arrive(&mut e, t(2), chat(2, ENTERPRISE).skill(TECH, 1)); // cannot serve
    arrive(&mut e, t(3), chat(3, LARGE).skill(BILLING, 3));
    arrive(&mut e, t(4), chat(4, LARGE).skill(BILLING, 4)); // level too low
    assert!(e.assign(t(4)).unwrap().is_empty());
    resolve(&mut e, t(5), 9);
    assert_eq!(pairs(&e.assign(t(5)).unwrap()), vec![(3, 1)]);
}

#[test]
fn preferred_operator_gets_the_customer_back_or_the_wait_runs_out() {
    let mut p = policy();
    p.preferred_operator.wait = Millis::from_secs(30);
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    add(&mut e, t(0), op(2).capacity(CHAT, 1));
    // Preferred operator free: straight to them, although both are idle and 1 is "first".
    arrive(&mut e, t(1), chat(1, SMB).preferred_operator(OperatorId(2)));
    let d = &e.assign(t(1)).unwrap()[0];
    assert_eq!(
        (d.operator.0, d.reason.route),
        (2, Route::PreferredOperator)
    );
    // Preferred operator busy: the conversation waits for them although 1 is free.
    arrive(&mut e, t(2), chat(2, SMB).preferred_operator(OperatorId(2)));
    assert!(e.assign(t(2)).unwrap().is_empty());
    assert_eq!(e.next_deadline(), Some(t(32)));
    // They free up within the wait: they get it.
    resolve(&mut e, t(10), 1);
    let d = &e.assign(t(10)).unwrap()[0];
    assert_eq!((d.conversation.0, d.operator.0), (2, 2));
    // Busy again; this time the wait runs out and operator 1 takes it.
    arrive(
        &mut e,
        t(11),
        chat(3, SMB).preferred_operator(OperatorId(2)),
    );
    assert!(e.assign(t(40)).unwrap().is_empty(), "still within 30 s");
    let ds = e.assign(t(41)).unwrap();
    assert_eq!(pairs(&ds), vec![(3, 1)]);
    assert_eq!(ds[0].reason.route, Route::LeastLoaded);
}

#[test]
fn an_offline_preferred_operator_is_skipped_at_once() {
    let mut p = policy();
    p.preferred_operator.wait = Millis::from_mins(5);
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2).status(OperatorStatus::Away));
    add(&mut e, t(0), op(3).status(OperatorStatus::Offline));
    arrive(&mut e, t(1), chat(1, SMB).preferred_operator(OperatorId(3)));
    arrive(
        &mut e,
        t(1),
        chat(2, SMB).preferred_operator(OperatorId(99)),
    );
    arrive(&mut e, t(1), chat(3, SMB).preferred_operator(OperatorId(2)));
    assert_eq!(pairs(&e.assign(t(1)).unwrap()), vec![(1, 1), (2, 1)]);
    // The away one is waited for; when they log off the wait ends.
    status(&mut e, t(2), 2, OperatorStatus::Offline);
    assert_eq!(pairs(&e.assign(t(2)).unwrap()), vec![(3, 1)]);
}

#[test]
fn overflow_steps_relax_levels_then_teams_then_everything_on_time() {
    let mut p = policy();
    p.overflow = vec![
        OverflowStep::new(Millis::from_secs(30), Relax::LowerLevels(2)),
        OverflowStep::new(Millis::from_secs(60), Relax::AnyTeam),
        OverflowStep::new(Millis::from_secs(120), Relax::AnyOperator),
    ];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).skill(BILLING, 2).team(SUPPORT));
    add(&mut e, t(0), op(2).skill(BILLING, 5).team(SALES));
    add(&mut e, t(0), op(3).skill(TECH, 5).team(SALES));
    arrive(&mut e, t(0), chat(1, SMB).skill(BILLING, 4).team(SUPPORT));
    arrive(&mut e, t(0), chat(2, SMB).skill(KOREAN, 3).team(SUPPORT));
    assert!(e.assign(t(0)).unwrap().is_empty());
    assert_eq!(e.next_deadline(), Some(t(30)));
    assert!(e.assign(t(29)).unwrap().is_empty());
    // 30 s: billing ≥ 2 in support → operator 1.
    let ds = e.assign(t(30)).unwrap();
    assert_eq!(pairs(&ds), vec![(1, 1)]);
    assert_eq!(ds[0].reason.overflow_step, 1);
    assert_eq!(ds[0].reason.matched[0].required, 2);
    assert_eq!(ds[0].reason.waited, Millis::from_secs(30));
    // Korean: nobody even after widening teams; at 120 s anyone on chat.
    assert!(e.assign(t(119)).unwrap().is_empty());
    assert_eq!(e.conversation(ConversationId(2)).unwrap().overflow_step, 2);
    let ds = e.assign(t(120)).unwrap();
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].reason.overflow_step, 3);
    assert!(ds[0].reason.matched.is_empty());
    assert_eq!(
        ds[0].operator.0, 2,
        "least loaded and earliest in rotation among 2 and 3"
    );
    assert_eq!(e.next_deadline(), None);
}

#[test]
fn overflow_steps_fire_in_order_even_when_the_host_calls_late() {
    let mut p = policy();
    p.overflow = vec![
        OverflowStep::new(Millis::from_secs(10), Relax::AnyTeam),
        OverflowStep::new(Millis::from_secs(20), Relax::AnyOperator),
    ];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(0), chat(1, SMB).skill(KOREAN, 5).team(SALES));
    let ds = e.assign(t(500)).unwrap();
    assert_eq!(ds[0].reason.overflow_step, 2);
}

#[test]
fn wrap_up_holds_new_work_until_its_end_instant() {
    let mut p = policy();
    p.wrap_up = Millis::from_secs(20);
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    add(
        &mut e,
        t(0),
        op(2).capacity(CHAT, 1).wrap_up(Millis::from_secs(5)),
    );
    arrive(&mut e, t(0), chat(1, SMB));
    arrive(&mut e, t(0), chat(2, SMB));
    assert_eq!(e.assign(t(0)).unwrap().len(), 2);
    resolve(&mut e, t(10), 1);
    resolve(&mut e, t(10), 2);
    arrive(&mut e, t(11), chat(3, SMB));
    arrive(&mut e, t(11), chat(4, SMB));
    assert!(e.assign(t(11)).unwrap().is_empty(), "both in wrap-up");
    assert_eq!(e.next_deadline(), Some(t(15)));
    // Operator 2's own 5 s wrap-up ends at 15 s exactly: eligible at that instant.
    assert_eq!(pairs(&e.assign(t(15)).unwrap()), vec![(3, 2)]);
    assert!(e.assign(t(29)).unwrap().is_empty());
    assert_eq!(pairs(&e.assign(t(30)).unwrap()), vec![(4, 1)]);
    assert_eq!(e.operator(OperatorId(1)).unwrap().wrap_up_until, None);
}

#[test]
fn a_call_in_progress_blocks_new_chats_but_not_email() {
    let mut e = engine_with(policy());
    add(
        &mut e,
        t(0),
        op(1).capacity(CALL, 1).capacity(CHAT, 3).capacity(EMAIL, 5),
    );
    arrive(
        &mut e,
        t(0),
        ConversationSpec::new(ConversationId(1), CALL, SMB),
    );
    assert_eq!(e.assign(t(0)).unwrap().len(), 1);
    arrive(&mut e, t(1), chat(2, SMB));
    arrive(
        &mut e,
        t(1),
        ConversationSpec::new(ConversationId(3), EMAIL, SMB),
    );
    assert_eq!(pairs(&e.assign(t(1)).unwrap()), vec![(3, 1)]);
    resolve(&mut e, t(2), 1);
    assert_eq!(
        pairs(&e.assign(t(2)).unwrap()),
        vec![(2, 1)],
        "call over: the chat flows"
    );
}

#[test]
fn capacity_is_never_exceeded_and_a_cut_stops_new_work() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 3));
    for c in 1..=5 {
        arrive(&mut e, t(0), chat(c, SMB));
    }
    assert_eq!(e.assign(t(0)).unwrap().len(), 3);
    e.apply(Event::OperatorCapacityChanged {
        at: t(1),
        operator: OperatorId(1),
        channel: CHAT,
        capacity: 1,
    })
    .unwrap();
    assert_eq!(
        e.operator_load(OperatorId(1), CHAT).unwrap(),
        (3, 1),
        "nothing dropped"
    );
    resolve(&mut e, t(2), 1);
    resolve(&mut e, t(2), 2);
    assert!(
        e.assign(t(2)).unwrap().is_empty(),
        "still at the new capacity"
    );
    resolve(&mut e, t(3), 3);
    assert_eq!(e.assign(t(3)).unwrap().len(), 1);
    e.apply(Event::OperatorCapacityChanged {
        at: t(4),
        operator: OperatorId(1),
        channel: CHAT,
        capacity: 2,
    })
    .unwrap();
    assert_eq!(e.assign(t(4)).unwrap().len(), 1);
}

#[test]
fn manual_claims_count_against_capacity() {
    let mut e = engine_with(policy());
    add(
        &mut e,
        t(0),
        op(1).capacity(CHAT, 2).status(OperatorStatus::Away),
    );
    add(&mut e, t(0), op(2).capacity(CHAT, 1));
    arrive(&mut e, t(0), chat(1, SMB).skill(BILLING, 5));
    arrive(&mut e, t(0), chat(2, SMB));
    // Operator 1 is away but logged in: may claim, skills not checked.
    e.apply(Event::ConversationClaimed {
        at: t(1),
        conversation: ConversationId(1),
        operator: OperatorId(1),
    })
    .unwrap();
    e.apply(Event::ConversationClaimed {
        at: t(1),
        conversation: ConversationId(2),
        operator: OperatorId(2),
    })
    .unwrap();
    assert_eq!(holder(&e, 1), Some(1));
    arrive(&mut e, t(2), chat(3, SMB));
    assert!(e.assign(t(2)).unwrap().is_empty(), "2 is full, 1 is away");
    let before = e.clone();
    let err = e
        .apply(Event::ConversationClaimed {
            at: t(3),
            conversation: ConversationId(3),
            operator: OperatorId(2),
        })
        .unwrap_err();
    assert_eq!(
        err,
        EngineError::AtCapacity {
            operator: OperatorId(2),
            channel: CHAT
        }
    );
    assert_eq!(e, before);
}

#[test]
fn transfers_move_work_to_an_operator_or_back_to_routing() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).team(SUPPORT));
    add(&mut e, t(0), op(2).team(SALES).status(OperatorStatus::Away));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    e.apply(Event::FirstResponseSent {
        at: t(5),
        conversation: ConversationId(1),
    })
    .unwrap();
    e.apply(Event::ConversationTransferred {
        at: t(6),
        conversation: ConversationId(1),
        to: TransferTarget::Operator(OperatorId(2)),
    })
    .unwrap();
    let v = e.conversation(ConversationId(1)).unwrap();
    assert_eq!(
        (v.operator, v.state, v.transfers),
        (Some(OperatorId(2)), ConversationState::Assigned, 1)
    );
    assert_eq!(
        v.first_response_at,
        Some(t(5)),
        "the first response ever is kept"
    );
    assert_eq!(e.operator_load(OperatorId(1), CHAT).unwrap().0, 0);
    // To the sales team: operator 2 is away, operator 1 is support → waits.
    e.apply(Event::ConversationTransferred {
        at: t(7),
        conversation: ConversationId(1),
        to: TransferTarget::Team(SALES),
    })
    .unwrap();
    assert!(e.assign(t(7)).unwrap().is_empty());
    status(&mut e, t(8), 2, OperatorStatus::Available);
    assert_eq!(pairs(&e.assign(t(8)).unwrap()), vec![(1, 2)]);
    resolve(&mut e, t(9), 1);
    let f = e.take_records().conversations;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].transfers, f[0].team, f[0].operator),
        (2, Some(SALES), Some(OperatorId(2)))
    );
    assert_eq!(
        (f[0].assigned_at, f[0].first_response_at, f[0].resolved_at),
        (Some(t(0)), Some(t(5)), Some(t(9)))
    );
}

#[test]
fn removing_an_operator_requeues_their_work_with_its_original_priority() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 2));
    arrive(&mut e, t(0), chat(1, SMB));
    e.assign(t(0)).unwrap();
    arrive(&mut e, t(10), chat(2, SMB));
    arrive(&mut e, t(10), chat(3, SMB));
    e.assign(t(10)).unwrap();
    arrive(&mut e, t(20), chat(4, SMB));
    e.apply(Event::OperatorRemoved {
        at: t(30),
        operator: OperatorId(1),
    })
    .unwrap();
    let w: Vec<u64> = e.waiting().iter().map(|c| c.0).collect();
    assert_eq!(w, vec![1, 2, 3, 4], "back in line by original ask time");
    add(&mut e, t(31), op(5).capacity(CHAT, 1));
    let ds = e.assign(t(31)).unwrap();
    assert_eq!(pairs(&ds), vec![(1, 5)]);
    assert_eq!(ds[0].reason.waited, Millis::from_secs(31));
}

#[test]
fn counts_by_state_and_status() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    add(&mut e, t(0), op(2).status(OperatorStatus::Away));
    add(&mut e, t(0), op(3).status(OperatorStatus::Offline));
    e.apply(Event::BotConversationStarted {
        at: t(0),
        conversation: chat(1, SMB),
    })
    .unwrap();
    e.apply(Event::BotConversationStarted {
        at: t(0),
        conversation: chat(2, SMB),
    })
    .unwrap();
    arrive(&mut e, t(1), chat(2, SMB));
    arrive(&mut e, t(1), chat(3, SMB));
    arrive(&mut e, t(1), chat(4, SMB));
    e.assign(t(1)).unwrap();
    e.apply(Event::MessageLeft {
        at: t(2),
        conversation: ConversationId(4),
    })
    .unwrap();
    let c = e.state_counts();
    assert_eq!(
        (c.with_bot, c.waiting, c.with_operator, c.message_left),
        (1, 1, 1, 1)
    );
    let s = e.status_counts();
    assert_eq!((s.available, s.away, s.offline), (1, 1, 1));
    // The bot solves conversation 1; the customer of 3 gives up.
    resolve(&mut e, t(3), 1);
    e.apply(Event::ConversationAbandoned {
        at: t(4),
        conversation: ConversationId(3),
    })
    .unwrap();
    let r = e.take_records();
    assert_eq!((r.bot_conversations.len(), r.conversations.len()), (1, 1));
    let (bot, f) = (&r.bot_conversations[0], &r.conversations[0]);
    assert_eq!(
        (bot.conversation, bot.resolved_at),
        (ConversationId(1), t(3))
    );
    assert_eq!(
        (f.asked_at, f.abandoned_at, f.assigned_at),
        (t(1), Some(t(4)), None)
    );
    assert_eq!(e.state_counts().waiting, 0);
}

/// A deterministic pseudo-random scenario (own LCG: no dependency, same on every machine).
fn scripted_run(seed: u64) -> Vec<Decision> {
    scripted_run_with(
        seed,
        Selection::LeastLoaded,
        switchboard::engine::Matching::Indexed,
    )
}

fn scripted_run_with(
    seed: u64,
    selection: Selection,
    matching: switchboard::engine::Matching,
) -> Vec<Decision> {
    scripted_run_from(seed, selection, matching, 0, 12, 5)
}

/// As [`scripted_run_with`], with every conversation before step
/// `skill_less_from` given skills (the same random draws either way), and
/// `ops` operators with skill levels `1..=levels`.
fn scripted_run_from(
    seed: u64,
    selection: Selection,
    matching: switchboard::engine::Matching,
    skill_less_from: u64,
    ops: u64,
    levels: u64,
) -> Vec<Decision> {
    let mut x = seed;
    let mut rnd = move |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    let mut p = policy();
    p.selection = selection;
    p.wrap_up = Millis::from_secs(3);
    p.preferred_operator.wait = Millis::from_secs(10);
    p.overflow = vec![
        OverflowStep::new(Millis::from_secs(20), Relax::LowerLevels(2)),
        OverflowStep::new(Millis::from_secs(40), Relax::AnyOperator),
    ];
    let mut e = engine_with(p);
    e.set_matching(matching);
    let skills = [BILLING, TECH, KOREAN];
    for o in 1..=ops {
        let mut s = op(o).capacity(CHAT, 1 + rnd(3) as u16).capacity(EMAIL, 2);
        let first = rnd(3) as usize;
        s = s.skill(skills[first], 1 + rnd(levels) as u8);
        if rnd(2) == 0 {
            s = s.skill(skills[(first + 1) % 3], 1 + rnd(levels) as u8);
        }
        s = s.team([SUPPORT, SALES][rnd(2) as usize]);
        add(&mut e, t(0), s);
    }
    let mut out = Vec::new();
    let mut open: Vec<u64> = Vec::new();
    for step in 1..400u64 {
        let now = t(step);
        match rnd(4) {
            0 | 1 => {
                let tier = [ENTERPRISE, LARGE, SMB][rnd(3) as usize];
                let ch = if rnd(4) == 0 { EMAIL } else { CHAT };
                let mut c = ConversationSpec::new(ConversationId(step), ch, tier);
                if rnd(2) == 0 || step < skill_less_from {
                    let first = rnd(3) as usize;
                    c = c.skill(skills[first], 1 + rnd(4) as u8);
                    if rnd(3) == 0 {
                        c = c.skill(skills[(first + 2) % 3], 1 + rnd(3) as u8);
                    }
                }
                if rnd(4) == 0 {
                    c = c.team([SUPPORT, SALES][rnd(2) as usize]);
                }
                if rnd(5) == 0 {
                    c = c.preferred_operator(OperatorId(1 + rnd(12)));
                }
                arrive(&mut e, now, c);
            }
            3 if rnd(3) == 0 => {
                let o = 1 + rnd(12);
                let s = [OperatorStatus::Available, OperatorStatus::Away][rnd(2) as usize];
                // Going away puts unanswered work back in the queue at once.
                let moved = e
                    .apply(Event::OperatorStatusChanged {
                        at: now,
                        operator: OperatorId(o),
                        status: s,
                    })
                    .unwrap();
                open.retain(|c| !moved.iter().any(|d| d.conversation.0 == *c));
                out.extend(moved);
            }
            2 if !open.is_empty() => {
                let c = open.remove(rnd(open.len() as u64) as usize);
                resolve(&mut e, now, c);
            }
            _ => {}
        }
        let ds = e.assign(now).unwrap();
        for d in &ds {
            if d.reason.route != Route::PreferredOperator {
                for m in &d.reason.matched {
                    assert!(m.level >= m.required, "{d:?}");
                }
            }
        }
        open.extend(ds.iter().map(|d| d.conversation.0));
        out.extend(ds);
    }
    out
}

#[test]
fn the_same_events_give_the_same_decisions_in_the_same_order() {
    let a = scripted_run(7);
    let b = scripted_run(7);
    assert!(
        a.len() > 100,
        "the scenario makes plenty of decisions ({})",
        a.len()
    );
    assert_eq!(a, b);
    assert_ne!(a, scripted_run(8), "a different scenario differs");
}

/// The all-operators facets are kept only from the first requirement with
/// no skill and no team on a channel, team facets from the first with a
/// team and no skill: built then from the operators' keys, they must order
/// ready operators as if they had always been kept. (Before step 200 every
/// conversation has skills; after it, half have none, a quarter of those a
/// team.)
#[test]
fn facets_kept_only_once_needed_decide_as_the_scan_does() {
    use switchboard::engine::Matching;
    for sel in [
        Selection::LeastLoaded,
        Selection::RoundRobin,
        Selection::Ring,
        Selection::FewestConversations,
    ] {
        let mut late_skill_less = 0;
        for seed in 1..=4 {
            let fast = scripted_run_from(seed, sel.clone(), Matching::Indexed, 200, 12, 5);
            let slow = scripted_run_from(seed, sel.clone(), Matching::Scan, 200, 12, 5);
            assert_eq!(fast, slow, "{sel:?} seed {seed}");
            // Team-less conversations without skills, placed after step 200.
            late_skill_less += fast
                .iter()
                .filter(|d| {
                    d.conversation.0 >= 200
                        && d.reason.matched.is_empty()
                        && d.reason.route != Route::PreferredOperator
                })
                .count();
        }
        assert!(late_skill_less > 10, "{sel:?}: {late_skill_less}");
    }
}

/// Facets larger than a walk: with 1,500 operators (levels 1 to 5) the
/// all-operators and team facets are B-trees and the skill facets sorted
/// vectors of about 150 (lock-step searches); with 3,000 (levels 1 and 2)
/// the skill facets are B-trees too, so a requirement's plan merges several
/// B-trees. Each decides as the scan does.
#[test]
fn large_facets_decide_as_the_scan_does() {
    use switchboard::engine::Matching;
    for sel in [Selection::LeastLoaded, Selection::Ring] {
        for (seed, ops, levels) in [(1, 1_500, 5), (2, 1_500, 5), (3, 3_000, 2)] {
            let run = |m| scripted_run_from(seed, sel.clone(), m, 100, ops, levels);
            let fast = run(Matching::Indexed);
            assert!(fast.len() > 100, "{sel:?} seed {seed}: {}", fast.len());
            assert_eq!(fast, run(Matching::Scan), "{sel:?} seed {seed}");
        }
    }
}

#[test]
fn indexed_matching_makes_the_same_decisions_as_scanning_everything() {
    use switchboard::engine::Matching;
    let selections = [
        Selection::LeastLoaded,
        Selection::LongestIdle {
            clock: IdleClock::LastConversationEnded,
        },
        Selection::LongestIdle {
            clock: IdleClock::BecameAvailable,
        },
        Selection::RoundRobin,
        Selection::MostProficient,
        Selection::FewestConversations,
        Selection::Ring,
        Selection::FixedOrder,
        Selection::SkillDevelopment {
            demanding_skills: vec![BILLING],
            share_permille: 300,
        },
    ];
    for sel in selections {
        for seed in 1..=6 {
            let fast = scripted_run_with(seed, sel.clone(), Matching::Indexed);
            let slow = scripted_run_with(seed, sel.clone(), Matching::Scan);
            assert!(fast.len() > 50);
            if let Some(i) = (0..fast.len().min(slow.len())).find(|&i| fast[i] != slow[i]) {
                panic!(
                    "{} seed {seed}: first difference at decision {i}:\nindexed {:?}\nscan    {:?}",
                    sel.name(),
                    fast[i],
                    slow[i]
                );
            }
            assert_eq!(fast.len(), slow.len(), "{} seed {seed}", sel.name());
        }
    }
}

#[test]
fn real_time_picture_and_wait_estimates() {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).capacity(CHAT, 1).skill(BILLING, 3));
    add(&mut e, t(0), op(2).capacity(CHAT, 1).skill(BILLING, 1));
    add(
        &mut e,
        t(0),
        op(3).status(OperatorStatus::Away).skill(BILLING, 5),
    );
    // Teach the engine a 60 s handle time.
    arrive(&mut e, t(0), chat(100, SMB));
    e.assign(t(0)).unwrap();
    resolve(&mut e, t(60), 100);
    arrive(&mut e, t(100), chat(1, SMB));
    arrive(&mut e, t(101), chat(2, SMB));
    e.assign(t(101)).unwrap();
    arrive(&mut e, t(110), chat(3, SMB).skill(BILLING, 1));
    arrive(&mut e, t(120), chat(4, ENTERPRISE).skill(BILLING, 2));
    arrive(&mut e, t(130), chat(5, SMB).skill(KOREAN, 1));
    e.assign(t(130)).unwrap();
    let rt = e.real_time();
    assert_eq!(rt.conversations.waiting, 3);
    assert_eq!(rt.conversations.with_operator, 2);
    assert_eq!((rt.operators.available, rt.operators.away), (2, 1));
    assert_eq!(
        rt.longest_wait,
        Some((ConversationId(3), Millis::from_secs(20)))
    );
    // Operator 1 handled conversation 100, so 1 went to operator 2 (least recently assigned).
    assert_eq!(
        rt.bottleneck.map(|b| (b.0, b.1)),
        Some((OperatorId(2), ConversationId(1)))
    );
    assert_eq!(rt.bottleneck.unwrap().2, Millis::from_secs(30));
    // Conversation 4 (Enterprise) is first in line; only operator 1 fits
    // (billing ≥ 2), one slot, busy: (0 − 0 + 1) × 60 s / 1.
    let q4 = e.queue_status(ConversationId(4)).unwrap();
    assert_eq!(
        (
            q4.position,
            q4.eligible_operators,
            q4.eligible_slots,
            q4.free_slots
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(q4.estimated_wait, Some(Millis::from_secs(60)));
    // Conversation 3: second in line, operators 1 and 2 fit: (1 + 1) × 60 / 2.
    let q3 = e.queue_status(ConversationId(3)).unwrap();
    assert_eq!((q3.position, q3.eligible_slots), (2, 2));
    assert_eq!(q3.estimated_wait, Some(Millis::from_secs(60)));
    // Nobody logged in speaks Korean: no estimate.
    assert_eq!(
        e.queue_status(ConversationId(5)).unwrap().estimated_wait,
        None
    );
    assert_eq!(e.queue_status(ConversationId(1)), None, "not waiting");
}
