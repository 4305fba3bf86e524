//! Queues with their own rules over one pool of operators, and operators'
//! routing profiles (issue 19): each rule a queue can carry, the cross-queue
//! order, the new overflow actions and selections, and the refusals.

use crate::common::*;
use switchboard::engine::{DecisionKind, Matching, Route};
use switchboard::policy::{
    IdleClock, OfferPolicy, OperatorAttribute, OrderKey, OverflowStep, PreferredOperatorPolicy,
    ProfileQueue, QueueSpec, Relax, RoutingProfile,
};
use switchboard::prelude::*;

const SALES_Q: QueueId = QueueId(1);
const BILLING_Q: QueueId = QueueId(2);
const VIP_Q: QueueId = QueueId(3);
const ALL_ROUND: ProfileId = ProfileId(1);
const BILLING_FIRST: ProfileId = ProfileId(2);

/// Sales: longest idle, anyone after 30 s. Billing: most proficient, one
/// level lower every 20 s. VIP: offers, the preferred operator waited for
/// up to 60 s, priority 0.
fn three_queues() -> Policy {
    let mut p = policy();
    p.queues = vec![
        QueueSpec::new(SALES_Q, "sales")
            .selection(Selection::LongestIdle {
                clock: IdleClock::BecameAvailable,
            })
            .overflow_step(OverflowStep::new(Millis::from_secs(30), Relax::AnyOperator)),
        QueueSpec::new(BILLING_Q, "billing")
            .selection(Selection::MostProficient)
            .overflow_step(OverflowStep::new(
                Millis::from_secs(20),
                Relax::LowerSkill {
                    skill: BILLING,
                    by: 1,
                },
            ))
            .overflow_step(OverflowStep::new(
                Millis::from_secs(40),
                Relax::LowerSkill {
                    skill: BILLING,
                    by: 1,
                },
            )),
        QueueSpec::new(VIP_Q, "vip")
            .offers(OfferPolicy::new(Millis::from_secs(15)))
            .preferred_operator(PreferredOperatorPolicy::new().wait(Millis::from_secs(60)))
            .priority(0),
    ];
    p
}

fn in_queue(id: u64, q: QueueId) -> ConversationSpec {
    chat(id, SMB).queue(q)
}

fn decide(e: &mut Engine, at: Timestamp) -> Vec<Decision> {
    e.assign(at).expect("assign")
}

#[test]
fn each_queue_routes_by_its_own_selection_and_says_so() {
    let mut e = engine_with(three_queues());
    // Op 1 became available first (longest idle); op 2 is the billing expert.
    add(&mut e, t(0), op(1).skill(BILLING, 2));
    add(&mut e, t(1), op(2).skill(BILLING, 5));
    arrive(&mut e, t(2), in_queue(10, SALES_Q));
    arrive(&mut e, t(2), in_queue(11, BILLING_Q).skill(BILLING, 1));
    arrive(&mut e, t(2), chat(12, SMB));
    let ds = decide(&mut e, t(2));
    let by_conv = |c: u64| ds.iter().find(|d| d.conversation.0 == c).expect("decided");
    assert_eq!(by_conv(10).operator, OperatorId(1));
    assert_eq!(by_conv(10).reason.route, Route::LongestIdle);
    assert_eq!(by_conv(10).queue, Some(SALES_Q));
    assert_eq!(by_conv(11).operator, OperatorId(2));
    assert_eq!(by_conv(11).reason.route, Route::MostProficient);
    assert_eq!(by_conv(11).queue, Some(BILLING_Q));
    // The default queue keeps the policy's own rule (least loaded).
    assert_eq!(by_conv(12).reason.route, Route::LeastLoaded);
    assert_eq!(by_conv(12).queue, None);
    assert!(by_conv(10).to_string().starts_with("[queue #1] "));
}

#[test]
fn each_queue_has_its_own_overflow_ladder() {
    let mut e = engine_with(three_queues());
    // Only a level-3 billing operator is on.
    add(&mut e, t(0), op(1).skill(BILLING, 3));
    arrive(&mut e, t(0), in_queue(10, BILLING_Q).skill(BILLING, 5));
    arrive(&mut e, t(0), in_queue(11, SALES_Q).skill(TECH, 1));
    assert!(decide(&mut e, t(0)).is_empty());
    // Billing lowers one level at 20 s (still 4 > 3), another at 40 s.
    assert!(decide(&mut e, t(20)).is_empty());
    let ds = decide(&mut e, t(30));
    // Sales lets anyone take it at 30 s.
    assert_eq!(pairs(&ds), vec![(11, 1)]);
    assert_eq!(ds[0].reason.overflow_step, 1);
    let ds = decide(&mut e, t(40));
    assert_eq!(pairs(&ds), vec![(10, 1)]);
    assert_eq!(ds[0].reason.overflow_step, 2);
    assert_eq!(ds[0].reason.matched[0].required, 3);
}

#[test]
fn offers_and_the_preferred_wait_belong_to_the_queue() {
    let mut e = engine_with(three_queues());
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2).capacity(CHAT, 1));
    arrive(&mut e, t(0), chat(9, SMB).preferred_operator(OperatorId(2)));
    assert_eq!(pairs(&decide(&mut e, t(0))), vec![(9, 2)]);
    // VIP offers; the customer's own operator (full now) is waited for.
    arrive(
        &mut e,
        t(1),
        in_queue(10, VIP_Q).preferred_operator(OperatorId(2)),
    );
    arrive(&mut e, t(1), in_queue(11, SALES_Q));
    let ds = decide(&mut e, t(1));
    assert_eq!(pairs(&ds), vec![(11, 1)]);
    assert_eq!(ds[0].kind, DecisionKind::Assigned);
    resolve(&mut e, t(5), 9);
    let ds = decide(&mut e, t(5));
    assert_eq!(pairs(&ds), vec![(10, 2)]);
    assert!(matches!(ds[0].kind, DecisionKind::Offered { .. }));
    assert_eq!(ds[0].reason.route, Route::PreferredOperator);
}

#[test]
fn a_queue_priority_goes_first_when_an_operator_frees() {
    let mut e = engine_with(three_queues());
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    arrive(&mut e, t(0), chat(1, SMB));
    decide(&mut e, t(0));
    arrive(&mut e, t(1), chat(2, ENTERPRISE));
    arrive(&mut e, t(2), in_queue(3, VIP_Q));
    decide(&mut e, t(2));
    resolve(&mut e, t(3), 1);
    // VIP (priority 0) beats the enterprise tier (priority 1) that asked earlier.
    let ds = decide(&mut e, t(3));
    assert_eq!(pairs(&ds), vec![(3, 1)]);
}

fn with_profiles() -> Policy {
    let mut p = three_queues();
    p.profiles = vec![
        RoutingProfile::new(ALL_ROUND, "all round"),
        RoutingProfile::new(BILLING_FIRST, "billing first")
            .serve(ProfileQueue::new(BILLING_Q, 1))
            .serve(ProfileQueue::new(SALES_Q, 2).delay(Millis::from_secs(20))),
    ];
    p
}

#[test]
fn a_profile_serves_its_first_priority_queue_before_older_work_elsewhere() {
    let mut e = engine_with(with_profiles());
    add(&mut e, t(0), op(1).capacity(CHAT, 1).profile(BILLING_FIRST));
    arrive(&mut e, t(0), chat(1, SMB).queue(BILLING_Q));
    decide(&mut e, t(0));
    // A sales enterprise conversation waits longer than a billing SMB one.
    arrive(&mut e, t(1), in_queue(2, SALES_Q));
    arrive(&mut e, t(30), in_queue(3, BILLING_Q));
    decide(&mut e, t(30));
    resolve(&mut e, t(31), 1);
    assert_eq!(pairs(&decide(&mut e, t(31))), vec![(3, 1)]);
    resolve(&mut e, t(32), 3);
    assert_eq!(pairs(&decide(&mut e, t(32))), vec![(2, 1)]);
}

#[test]
fn a_profile_delay_holds_the_operator_back_until_the_wait_reaches_it() {
    let mut e = engine_with(with_profiles());
    add(&mut e, t(0), op(1).profile(BILLING_FIRST));
    arrive(&mut e, t(0), in_queue(1, SALES_Q));
    assert!(decide(&mut e, t(0)).is_empty());
    // The engine asks to be called when the delay is reached.
    assert_eq!(e.next_deadline(), Some(t(20)));
    assert!(decide(&mut e, t(19)).is_empty());
    assert_eq!(pairs(&decide(&mut e, t(20))), vec![(1, 1)]);
    // An operator without a profile would have taken it at once.
    let mut e = engine_with(with_profiles());
    add(&mut e, t(0), op(2));
    arrive(&mut e, t(0), in_queue(1, SALES_Q));
    assert_eq!(pairs(&decide(&mut e, t(0))), vec![(1, 2)]);
}

#[test]
fn a_profile_that_does_not_list_a_queue_never_gets_its_work() {
    let mut e = engine_with(with_profiles());
    add(&mut e, t(0), op(1).profile(ALL_ROUND)); // serves nothing
    add(&mut e, t(0), op(2).profile(BILLING_FIRST));
    arrive(&mut e, t(0), chat(1, SMB)); // default queue: neither serves it
    arrive(&mut e, t(0), in_queue(2, VIP_Q));
    assert!(decide(&mut e, t(100)).is_empty());
    // A profile change brings the operator to the work.
    e.apply(Event::OperatorProfileChanged {
        at: t(101),
        operator: OperatorId(1),
        profile: None,
    })
    .unwrap();
    let mut got = pairs(&decide(&mut e, t(101)));
    got.sort_unstable();
    assert_eq!(got, vec![(1, 1), (2, 1)]);
}

#[test]
fn a_transfer_to_another_queue_follows_that_queues_rules() {
    let mut e = engine_with(three_queues());
    add(&mut e, t(0), op(1).skill(BILLING, 2));
    add(&mut e, t(1), op(2).skill(BILLING, 5));
    arrive(&mut e, t(2), in_queue(1, SALES_Q).skill(BILLING, 1));
    let ds = decide(&mut e, t(2));
    assert_eq!(pairs(&ds), vec![(1, 1)]);
    e.apply(Event::ConversationTransferred {
        at: t(3),
        conversation: ConversationId(1),
        to: TransferTarget::ToQueue(BILLING_Q),
    })
    .unwrap();
    let ds = decide(&mut e, t(3));
    assert_eq!(pairs(&ds), vec![(1, 2)]);
    assert_eq!(ds[0].reason.route, Route::MostProficient);
    assert_eq!(ds[0].queue, Some(BILLING_Q));
    resolve(&mut e, t(4), 1);
    let r = e.take_records();
    assert_eq!(r.conversations[0].queue, Some(BILLING_Q));
}

#[test]
fn drop_skill_keeps_the_language_the_customer_speaks() {
    let mut p = policy();
    p.overflow = vec![OverflowStep::new(
        Millis::from_secs(30),
        Relax::DropSkill(BILLING),
    )];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).skill(BILLING, 1)); // no Korean
    add(&mut e, t(0), op(2).skill(KOREAN, 3)); // Korean, no billing
    arrive(
        &mut e,
        t(0),
        chat(1, SMB).skill(BILLING, 2).skill(KOREAN, 2),
    );
    assert!(decide(&mut e, t(0)).is_empty());
    let ds = decide(&mut e, t(30));
    assert_eq!(pairs(&ds), vec![(1, 2)]);
    assert_eq!(ds[0].reason.matched.len(), 1);
    assert_eq!(ds[0].reason.matched[0].skill, KOREAN);
}

#[test]
fn add_team_widens_a_team_restriction_ring_by_ring() {
    let mut p = policy();
    p.overflow = vec![OverflowStep::new(
        Millis::from_secs(10),
        Relax::AddTeam(SALES),
    )];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).team(SALES));
    add(&mut e, t(0), op(2).team(TeamId(999)));
    arrive(&mut e, t(0), chat(1, SMB).team(SUPPORT));
    assert!(decide(&mut e, t(9)).is_empty());
    // Sales joins the ring; the unrelated team does not.
    assert_eq!(pairs(&decide(&mut e, t(10))), vec![(1, 1)]);
}

#[test]
fn a_priority_step_moves_a_waiting_conversation_ahead() {
    let mut p = policy();
    p.overflow = vec![OverflowStep::new(Millis::from_secs(60), Relax::Priority(0))];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    arrive(&mut e, t(0), chat(1, SMB));
    decide(&mut e, t(0));
    arrive(&mut e, t(0), chat(2, SMB)); // waits from 0
    arrive(&mut e, t(50), chat(3, ENTERPRISE)); // priority 1
    decide(&mut e, t(60)); // step reached for 2 only
    resolve(&mut e, t(61), 1);
    assert_eq!(pairs(&decide(&mut e, t(61))), vec![(2, 1)]);
}

#[test]
fn a_head_start_step_counts_under_aging() {
    let mut p = policy().with_queue_order(QueueOrder::Aging);
    p.overflow = vec![OverflowStep::new(
        Millis::from_secs(5),
        Relax::HeadStart(Millis::from_mins(30)),
    )];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    arrive(&mut e, t(0), chat(1, SMB));
    decide(&mut e, t(0));
    arrive(&mut e, t(10), chat(2, SMB)); // gets 30 min after 5 s
    arrive(&mut e, t(11), chat(3, ENTERPRISE)); // 10 min head start
    decide(&mut e, t(14));
    resolve(&mut e, t(15), 1);
    // Only #2 is past its 5 s: its 30 min beat the enterprise 10 min
    // (without the step, #3 would go first).
    assert_eq!(pairs(&decide(&mut e, t(15))), vec![(2, 1)]);
}

#[test]
fn a_select_step_switches_the_strategy_for_the_rest_of_the_wait() {
    let mut p = policy().with_selection(Selection::FixedOrder);
    p.overflow = vec![OverflowStep::new(
        Millis::from_secs(10),
        Relax::Select(Selection::MostProficient),
    )];
    let mut e = engine_with(p);
    let away = |o: u64, level: u8| op(o).skill(BILLING, level).status(OperatorStatus::Away);
    add(&mut e, t(0), away(1, 1));
    add(&mut e, t(0), away(2, 4));
    arrive(&mut e, t(0), chat(1, SMB).skill(BILLING, 1));
    assert!(decide(&mut e, t(11)).is_empty());
    status(&mut e, t(12), 1, OperatorStatus::Available);
    status(&mut e, t(12), 2, OperatorStatus::Available);
    arrive(&mut e, t(12), chat(2, SMB).skill(BILLING, 1));
    let ds = decide(&mut e, t(12));
    // Past 10 s the first goes to the most proficient; the newcomer still
    // goes by fixed order.
    let d = |c: u64| ds.iter().find(|d| d.conversation.0 == c).expect("decided");
    assert_eq!(
        (d(1).operator, d(1).reason.route),
        (OperatorId(2), Route::MostProficient)
    );
    assert_eq!(
        (d(2).operator, d(2).reason.route),
        (OperatorId(1), Route::FixedOrder)
    );
}

fn handled_policy(selection: Selection) -> Policy {
    policy().with_selection(selection)
}

#[test]
fn fewest_handled_counts_completed_conversations_until_a_reset() {
    let mut e = engine_with(handled_policy(Selection::FewestHandled));
    add(&mut e, t(0), op(1));
    add(&mut e, t(0), op(2));
    // Nobody has handled anything: least recently picked, so 1, 2, 1.
    for (c, at) in [(1, 1), (2, 2), (3, 3)] {
        arrive(&mut e, t(at), chat(c, SMB));
        decide(&mut e, t(at));
    }
    assert_eq!(
        [1, 2, 3].map(|c| holder(&e, c)),
        [Some(1), Some(2), Some(1)]
    );
    for c in [1, 3] {
        resolve(&mut e, t(10), c);
    }
    let handled = |e: &Engine| [1, 2].map(|o| e.operator(OperatorId(o)).unwrap().handled);
    assert_eq!(handled(&e), [2, 0]);
    // Op 1 holds nothing now, op 2 still holds #2: fewest open
    // conversations would pick op 1; fewest handled picks op 2.
    arrive(&mut e, t(11), chat(4, SMB));
    let ds = decide(&mut e, t(11));
    assert_eq!(pairs(&ds), vec![(4, 2)]);
    assert_eq!(ds[0].reason.route, Route::FewestHandled);
    // After a reset both count 0 again: back to least recently picked.
    e.apply(Event::HandledCountsReset { at: t(12) }).unwrap();
    assert_eq!(handled(&e), [0, 0]);
    arrive(&mut e, t(13), chat(5, SMB));
    assert_eq!(pairs(&decide(&mut e, t(13))), vec![(5, 1)]);
}

#[test]
fn order_by_two_keys_ranks_by_the_first_then_the_second() {
    let keys = vec![
        OrderKey::descending(OperatorAttribute::Level(BILLING)),
        OrderKey::ascending(OperatorAttribute::IdleSince(IdleClock::BecameAvailable)),
    ];
    let mut e = engine_with(handled_policy(Selection::OrderBy { keys }));
    add(&mut e, t(0), op(1).skill(BILLING, 3));
    add(&mut e, t(1), op(2).skill(BILLING, 5));
    add(&mut e, t(2), op(3).skill(BILLING, 5));
    arrive(&mut e, t(3), chat(1, SMB));
    let ds = decide(&mut e, t(3));
    // Level 5 first; of the two, the one available longer.
    assert_eq!(pairs(&ds), vec![(1, 2)]);
    assert_eq!(ds[0].reason.route, Route::OrderBy);
}

/// Every refusal names what was wrong and changes nothing.
#[test]
fn bad_queue_and_profile_input_is_refused_by_name() {
    let mut e = engine_with(with_profiles());
    add(&mut e, t(0), op(1));
    let before = e.state_hash();
    let err = e
        .apply(Event::ConversationArrived {
            at: t(1),
            conversation: in_queue(1, QueueId(77)),
        })
        .unwrap_err();
    assert_eq!(err, EngineError::UnknownQueue(QueueId(77)));
    assert!(err.to_string().contains("queue #77"));
    let err = e
        .apply(Event::OperatorAdded {
            at: t(1),
            operator: op(2).profile(ProfileId(9)),
        })
        .unwrap_err();
    assert_eq!(err, EngineError::UnknownProfile(ProfileId(9)));
    let err = e
        .apply(Event::OperatorProfileChanged {
            at: t(1),
            operator: OperatorId(1),
            profile: Some(ProfileId(9)),
        })
        .unwrap_err();
    assert_eq!(err, EngineError::UnknownProfile(ProfileId(9)));
    assert_eq!(e.state_hash(), before);

    let build = |f: &dyn Fn(&mut Policy)| {
        let mut p = with_profiles();
        f(&mut p);
        Engine::new(p).map(|_| ())
    };
    assert_eq!(
        build(&|p| p.profiles[1].queues.push(ProfileQueue::new(QueueId(42), 1))),
        Err(PolicyError::UnknownQueue {
            field: "profiles[].queues[].queue",
            queue: QueueId(42)
        })
    );
    assert_eq!(
        build(&|p| p.queues.push(QueueSpec::new(SALES_Q, "again"))),
        Err(PolicyError::DuplicateQueue(SALES_Q))
    );
    assert_eq!(
        build(&|p| p.profiles.push(RoutingProfile::new(ALL_ROUND, "again"))),
        Err(PolicyError::DuplicateProfile(ALL_ROUND))
    );
    // The policy's own preferred-operator wait is bounded like a queue's.
    assert_eq!(
        build(&|p| p.preferred_operator.wait = Millis(Timestamp::MAX.0 + 1)),
        Err(PolicyError::OutOfRange {
            field: "preferred_operator.wait",
            value: Timestamp::MAX.0 + 1,
            max: Timestamp::MAX.0
        })
    );
    assert_eq!(
        build(&|p| p.preferred_operator.wait = Millis(Timestamp::MAX.0)),
        Ok(())
    );
    assert_eq!(
        build(&|p| p.profiles[1].queues[0].delay = Millis(u64::MAX)),
        Err(PolicyError::OutOfRange {
            field: "profiles[].queues[].delay",
            value: u64::MAX,
            max: Timestamp::MAX.0
        })
    );
    let undeclared = SkillId(555);
    let err = build(&|p| {
        p.queues[0].overflow = vec![OverflowStep::new(
            Millis::from_secs(1),
            Relax::DropSkill(undeclared),
        )]
    })
    .unwrap_err();
    assert_eq!(
        err,
        PolicyError::InQueue {
            queue: SALES_Q,
            source: Box::new(PolicyError::UnknownSkill {
                field: "overflow[].relax.drop_skill",
                skill: undeclared
            })
        }
    );
    assert!(err.to_string().contains("queues[queue #1]"));
    let three = vec![OrderKey::ascending(OperatorAttribute::Handled); 3];
    assert!(matches!(
        build(&|p| p.selection = Selection::OrderBy {
            keys: three.clone()
        }),
        Err(PolicyError::OutOfRange {
            field: "selection.order_by.keys",
            ..
        })
    ));
    assert!(matches!(
        build(&|p| p.profiles[1].queues.push(ProfileQueue::new(BILLING_Q, 3))),
        Err(PolicyError::Unsupported { .. })
    ));
}

/// A stream through three queues and two profiles gives the same decisions
/// with the indexes and with the reference scan, and a snapshot taken
/// halfway continues identically.
#[test]
fn queues_match_the_reference_scan_and_survive_a_snapshot() {
    let mut p = with_profiles();
    p.profiles[0] = RoutingProfile::new(ALL_ROUND, "all round")
        .serve(ProfileQueue::default_queue(1))
        .serve(ProfileQueue::new(VIP_Q, 1))
        .serve(ProfileQueue::new(SALES_Q, 2).delay(Millis::from_secs(10)));
    let events = {
        let mut v = Vec::new();
        for o in 1..=6u64 {
            let mut spec = op(o).capacity(CHAT, 2).skill(BILLING, (o % 5 + 1) as u8);
            if o % 3 == 1 {
                spec = spec.profile(ALL_ROUND);
            } else if o % 3 == 2 {
                spec = spec.profile(BILLING_FIRST);
            }
            v.push(Event::OperatorAdded {
                at: t(0),
                operator: spec,
            });
        }
        for c in 1..=60u64 {
            let at = t(c * 2);
            let spec = match c % 4 {
                0 => chat(c, SMB),
                1 => in_queue(c, SALES_Q),
                2 => in_queue(c, BILLING_Q).skill(BILLING, 4),
                _ => in_queue(c, VIP_Q).preferred_operator(OperatorId(c % 6 + 1)),
            };
            v.push(Event::ConversationArrived {
                at,
                conversation: spec,
            });
            v.push(Event::Assign { at });
            if c > 6 && c % 2 == 0 {
                v.push(Event::ConversationResolved {
                    at,
                    conversation: ConversationId(c - 6),
                });
            }
            if c % 9 == 0 {
                v.push(Event::OfferAccepted {
                    at,
                    conversation: ConversationId(c - 1),
                    operator: OperatorId(1),
                });
            }
            if c == 30 {
                v.push(Event::HandledCountsReset { at });
            }
            // Every operator profiled for a while (the groups across
            // queues are dropped), then one without a profile again.
            let profile = |o: u64, p: Option<ProfileId>| Event::OperatorProfileChanged {
                at,
                operator: OperatorId(o),
                profile: p,
            };
            if c == 20 {
                v.push(profile(3, Some(ALL_ROUND)));
                v.push(profile(6, Some(BILLING_FIRST)));
            }
            if c == 40 {
                v.push(profile(3, None));
            }
        }
        v.push(Event::Assign { at: t(400) });
        v
    };
    let run = |m: Matching, snapshot_at: Option<usize>| {
        let mut e = engine_with(p.clone());
        e.set_matching(m);
        let mut out = Vec::new();
        for (i, ev) in events.iter().enumerate() {
            if snapshot_at == Some(i) {
                // Through the canonical bytes: queues, profiles, handled
                // counts and queue counters all travel.
                let bytes = e.snapshot().to_bytes();
                let back = switchboard::engine::Snapshot::from_bytes(&bytes).expect("decodes");
                assert_eq!(back, e.snapshot());
                e = Engine::restore(back).expect("restores");
                e.set_matching(m);
            }
            out.push(e.apply(ev.clone()).map_err(|x| x.to_string()));
        }
        (out, e.state_hash())
    };
    let indexed = run(Matching::Indexed, None);
    let decided = indexed
        .0
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(Vec::len)
        .sum::<usize>();
    assert!(decided >= 30, "the stream decides ({decided})");
    assert_eq!(indexed, run(Matching::Scan, None));
    assert_eq!(indexed, run(Matching::Indexed, Some(events.len() / 2)));
}

#[test]
fn the_wall_board_and_queue_status_are_per_queue() {
    let mut e = engine_with(with_profiles());
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    arrive(&mut e, t(0), in_queue(1, SALES_Q));
    decide(&mut e, t(0));
    arrive(&mut e, t(1), in_queue(2, BILLING_Q));
    arrive(&mut e, t(2), in_queue(3, SALES_Q));
    arrive(&mut e, t(3), in_queue(4, BILLING_Q));
    decide(&mut e, t(5));
    let rt = e.real_time();
    let line = |q: Option<QueueId>| rt.queues.iter().find(|l| l.queue == q).expect("a line");
    assert_eq!(rt.queues.len(), 4, "default + three declared");
    assert_eq!(rt.queues[0].queue, None);
    assert_eq!(
        (
            line(Some(SALES_Q)).waiting,
            line(Some(SALES_Q)).with_operator
        ),
        (1, 1)
    );
    assert_eq!(line(Some(BILLING_Q)).waiting, 2);
    assert_eq!(
        line(Some(BILLING_Q)).longest_wait,
        Some((ConversationId(2), Millis::from_secs(4)))
    );
    assert_eq!(line(Some(VIP_Q)).waiting, 0);
    let s = e.queue_status(ConversationId(4)).expect("waiting");
    assert_eq!(s.queue, Some(BILLING_Q));
    // Third on the channel, second in its queue.
    assert_eq!((s.position, s.queue_position), (3, 2));
    assert_eq!(s.eligible_operators, 1);
    // An operator whose profile does not serve the queue is not counted.
    e.apply(Event::OperatorProfileChanged {
        at: t(6),
        operator: OperatorId(1),
        profile: Some(ALL_ROUND),
    })
    .unwrap();
    assert_eq!(
        e.queue_status(ConversationId(4))
            .unwrap()
            .eligible_operators,
        0
    );
}

#[test]
fn a_policy_change_keeps_queues_in_use_and_refuses_dropping_them() {
    let mut e = engine_with(with_profiles());
    add(&mut e, t(0), op(1).profile(BILLING_FIRST).capacity(CHAT, 1));
    arrive(&mut e, t(0), in_queue(1, BILLING_Q));
    arrive(&mut e, t(0), in_queue(2, BILLING_Q));
    decide(&mut e, t(0));
    let before = e.state_hash();
    let change = |p: Policy| Event::PolicyChanged {
        at: t(1),
        policy: Box::new(p),
    };
    let mut no_billing = with_profiles();
    no_billing.queues.retain(|q| q.id != BILLING_Q);
    no_billing.profiles[1]
        .queues
        .retain(|q| q.queue != Some(BILLING_Q));
    let err = e.apply(change(no_billing)).unwrap_err();
    assert!(
        err.to_string()
            .contains("queue #2 is still used by conversation #1"),
        "{err}"
    );
    let mut no_profile = with_profiles();
    no_profile.profiles.truncate(1);
    let err = e.apply(change(no_profile)).unwrap_err();
    assert!(
        err.to_string()
            .contains("profile #2 is still used by operator #1"),
        "{err}"
    );
    assert_eq!(e.state_hash(), before);
    // Billing becomes fewest-handled: the waiting one keeps its queue.
    let mut p = with_profiles();
    p.queues[1].selection = Selection::FewestHandled;
    e.apply(change(p)).unwrap();
    resolve(&mut e, t(2), 1);
    let ds = decide(&mut e, t(2));
    assert_eq!(pairs(&ds), vec![(2, 1)]);
    assert_eq!(ds[0].reason.route, Route::FewestHandled);
}

/// A chat blocked by a call reserves its operator only when it is more
/// urgent for that operator: a queue their profile serves first wins over
/// queue order.
#[test]
fn blocked_work_reserves_by_the_operators_own_priority() {
    let run = |profiled: bool| {
        let mut p = with_profiles();
        p.profiles[0] = RoutingProfile::new(ALL_ROUND, "calls first")
            .serve(ProfileQueue::new(SALES_Q, 1))
            .serve(ProfileQueue::new(BILLING_Q, 2));
        let mut e = engine_with(p);
        let mut spec = op(1).capacity(CALL, 2);
        if profiled {
            spec = spec.profile(ALL_ROUND);
        }
        add(&mut e, t(0), spec);
        let call = |id| ConversationSpec::new(ConversationId(id), CALL, SMB).queue(SALES_Q);
        arrive(&mut e, t(0), call(1));
        decide(&mut e, t(0));
        // A chat waits (calls block chats), then a younger call comes.
        arrive(&mut e, t(1), in_queue(2, BILLING_Q));
        arrive(&mut e, t(2), call(3));
        let ds = decide(&mut e, t(2));
        (pairs(&ds), e.operator(OperatorId(1)).unwrap().reserved_for)
    };
    // Without a profile the older chat is more urgent: reserved, no call.
    assert_eq!(run(false), (vec![], Some(ConversationId(2))));
    // Calls first for this operator: the call is theirs, nobody reserved.
    assert_eq!(run(true), (vec![(3, 1)], None));
}

/// The policy as a host writes it in JSON: queues, profiles, the new steps
/// and selections, read back equal.
#[test]
fn queues_and_profiles_read_from_json() {
    let json = r#"{
      "channels": [{"id": 2, "name": "chat"}],
      "tiers": [{"id": 3, "name": "smb", "priority": 3, "first_response_target": 300000}],
      "skills": [{"id": 10, "name": "billing"}, {"id": 12, "name": "korean"}],
      "queues": [
        {"id": 1, "name": "sales",
         "selection": {"order_by": {"keys": [
            {"attribute": {"level": 10}, "descending": true},
            {"attribute": {"idle_since": "became_available"}}]}},
         "overflow": [
            {"after": 20000, "relax": {"drop_skill": 10}},
            {"after": 30000, "relax": {"lower_skill": {"skill": 12, "by": 1}}},
            {"after": 40000, "relax": {"add_team": 101}},
            {"after": 50000, "relax": {"priority": 0}},
            {"after": 60000, "relax": {"head_start": 60000}},
            {"after": 70000, "relax": {"select": "fewest_handled"}}],
         "offers": {"timeout": 15000},
         "priority": 1}
      ],
      "profiles": [
        {"id": 7, "name": "sales first", "queues": [
          {"queue": 1, "priority": 1},
          {"priority": 2, "delay": 20000}]}
      ]
    }"#;
    let p: Policy = serde_json::from_str(json).expect("reads");
    p.validate().expect("valid");
    assert_eq!(p.queues[0].overflow.len(), 6);
    assert_eq!(
        p.queues[0].overflow[5].relax,
        Relax::Select(Selection::FewestHandled)
    );
    assert_eq!(
        p.profiles[0].queues[1].queue, None,
        "absent: the default queue"
    );
    assert_eq!(p.profiles[0].queues[1].delay, Millis::from_secs(20));
    let back: Policy = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
    Engine::new(p).expect("an engine");
}

/// Overflow timing belongs to the queue: from the previous step in one,
/// from routing in the other, with the same steps.
#[test]
fn each_queue_times_its_own_steps() {
    let steps = |q: QueueSpec| {
        q.overflow_step(OverflowStep::new(
            Millis::from_secs(10),
            Relax::LowerLevels(1),
        ))
        .overflow_step(OverflowStep::new(Millis::from_secs(20), Relax::AnyOperator))
    };
    let mut p = policy();
    p.queues = vec![
        steps(QueueSpec::new(SALES_Q, "from routing")),
        steps(QueueSpec::new(BILLING_Q, "from the previous step"))
            .overflow_timing(switchboard::policy::OverflowTiming::FromPreviousStep),
    ];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).skill(TECH, 1));
    arrive(&mut e, t(0), in_queue(1, SALES_Q).skill(BILLING, 5));
    arrive(&mut e, t(0), in_queue(2, BILLING_Q).skill(BILLING, 5));
    // Anyone at 20 s in the first; at 10 + 20 = 30 s in the second.
    assert_eq!(pairs(&decide(&mut e, t(20))), vec![(1, 1)]);
    assert!(decide(&mut e, t(29)).is_empty());
    assert_eq!(pairs(&decide(&mut e, t(30))), vec![(2, 1)]);
}

/// A queue's head start adds to its tiers' under aging.
#[test]
fn a_queue_head_start_counts_under_aging() {
    let mut p = policy().with_queue_order(QueueOrder::Aging);
    p.queues = vec![QueueSpec::new(VIP_Q, "vip").head_start(Millis::from_mins(20))];
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1).capacity(CHAT, 1));
    arrive(&mut e, t(0), chat(1, SMB));
    decide(&mut e, t(0));
    arrive(&mut e, t(1), chat(2, ENTERPRISE)); // 10 min head start
    arrive(&mut e, t(2), in_queue(3, VIP_Q)); // SMB tier, 20 min from its queue
    decide(&mut e, t(2));
    resolve(&mut e, t(3), 1);
    assert_eq!(pairs(&decide(&mut e, t(3))), vec![(3, 1)]);
}

/// Limits a conversation's byte-sized counters rely on are refused by name:
/// more than 255 distinct delays for one queue, more than 255 steps.
#[test]
fn counters_that_fit_a_byte_are_refused_beyond_it() {
    let mut p = policy();
    p.queues = vec![QueueSpec::new(SALES_Q, "sales")];
    p.profiles = (0..256u32)
        .map(|i| {
            RoutingProfile::new(ProfileId(i), "p")
                .serve(ProfileQueue::new(SALES_Q, 1).delay(Millis(u64::from(i) + 1)))
        })
        .collect();
    assert!(matches!(
        Engine::new(p.clone()),
        Err(PolicyError::OutOfRange {
            value: 256,
            max: 255,
            ..
        })
    ));
    p.profiles.pop();
    Engine::new(p).expect("255 delays fit");
    let mut p = policy();
    p.overflow = (1..=256u64)
        .map(|i| OverflowStep::new(Millis(i), Relax::LowerLevels(1)))
        .collect();
    assert_eq!(
        Engine::new(p).map(|_| ()),
        Err(PolicyError::OutOfRange {
            field: "overflow",
            value: 256,
            max: 255
        })
    );
}

/// A move taken back from an operator names the selection of the
/// conversation's own queue.
#[test]
fn an_unassigned_decision_names_its_queues_route() {
    let mut p = three_queues();
    p.queues[0].selection = Selection::FewestHandled;
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(0), in_queue(1, SALES_Q));
    decide(&mut e, t(0));
    let ds = e
        .apply(Event::OperatorStatusChanged {
            at: t(1),
            operator: OperatorId(1),
            status: OperatorStatus::Away,
        })
        .unwrap();
    assert!(matches!(ds[0].kind, DecisionKind::Unassigned { .. }));
    assert_eq!(ds[0].reason.route, Route::FewestHandled);
}
