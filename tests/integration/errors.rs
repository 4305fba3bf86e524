//! Bad input: each returns a typed error naming the problem, and the engine
//! is exactly as it was before the call.

use crate::common::*;
use switchboard::prelude::*;

/// A busy engine to throw bad input at.
fn busy() -> Engine {
    let mut e = engine_with(policy());
    add(&mut e, t(0), op(1).skill(BILLING, 3));
    add(&mut e, t(0), op(2).capacity(CHAT, 1));
    arrive(&mut e, t(1), chat(1, SMB));
    arrive(&mut e, t(1), chat(2, SMB).skill(BILLING, 2));
    arrive(&mut e, t(1), chat(3, SMB).skill(BILLING, 5));
    e.assign(t(2)).unwrap();
    e
}

fn rejects(event: Event, expected: EngineError) {
    let mut e = busy();
    let before = e.clone();
    let got = e.apply(event).unwrap_err();
    assert_eq!(got, expected);
    assert!(!got.to_string().is_empty());
    assert_eq!(e, before, "state changed after {expected:?}");
}

#[test]
fn unknown_and_duplicate_ids() {
    rejects(
        Event::OperatorAdded {
            at: t(3),
            operator: op(1),
        },
        EngineError::DuplicateOperator(OperatorId(1)),
    );
    rejects(
        Event::OperatorStatusChanged {
            at: t(3),
            operator: OperatorId(9),
            status: OperatorStatus::Away,
        },
        EngineError::UnknownOperator(OperatorId(9)),
    );
    rejects(
        Event::OperatorRemoved {
            at: t(3),
            operator: OperatorId(9),
        },
        EngineError::UnknownOperator(OperatorId(9)),
    );
    rejects(
        Event::ConversationArrived {
            at: t(3),
            conversation: chat(1, SMB),
        },
        EngineError::DuplicateConversation(ConversationId(1)),
    );
    rejects(
        Event::ConversationResolved {
            at: t(3),
            conversation: ConversationId(77),
        },
        EngineError::UnknownConversation(ConversationId(77)),
    );
    rejects(
        Event::ConversationClaimed {
            at: t(3),
            conversation: ConversationId(3),
            operator: OperatorId(42),
        },
        EngineError::UnknownOperator(OperatorId(42)),
    );
}

#[test]
fn impossible_transitions() {
    let waiting = ConversationId(3);
    rejects(
        Event::FirstResponseSent {
            at: t(3),
            conversation: waiting,
        },
        EngineError::InvalidTransition {
            conversation: waiting,
            action: "send a first response on",
            state: ConversationState::Waiting,
        },
    );
    rejects(
        Event::ConversationResolved {
            at: t(3),
            conversation: waiting,
        },
        EngineError::InvalidTransition {
            conversation: waiting,
            action: "resolve",
            state: ConversationState::Waiting,
        },
    );
    rejects(
        Event::ConversationAbandoned {
            at: t(3),
            conversation: ConversationId(1),
        },
        EngineError::InvalidTransition {
            conversation: ConversationId(1),
            action: "abandon",
            state: ConversationState::Assigned,
        },
    );
    rejects(
        Event::ConversationTransferred {
            at: t(3),
            conversation: waiting,
            to: TransferTarget::Queue,
        },
        EngineError::InvalidTransition {
            conversation: waiting,
            action: "transfer",
            state: ConversationState::Waiting,
        },
    );
    // Resolving twice: the second time the conversation has left the engine.
    let mut e = busy();
    resolve(&mut e, t(3), 1);
    let before = e.clone();
    assert_eq!(
        e.apply(Event::ConversationResolved {
            at: t(4),
            conversation: ConversationId(1)
        })
        .unwrap_err(),
        EngineError::UnknownConversation(ConversationId(1))
    );
    assert_eq!(e, before);
    // A first response twice.
    let mut e = busy();
    e.apply(Event::FirstResponseSent {
        at: t(3),
        conversation: ConversationId(1),
    })
    .unwrap();
    let before = e.clone();
    assert!(matches!(
        e.apply(Event::FirstResponseSent {
            at: t(4),
            conversation: ConversationId(1)
        }),
        Err(EngineError::InvalidTransition {
            state: ConversationState::Responded,
            ..
        })
    ));
    assert_eq!(e, before);
}

#[test]
fn bad_specs() {
    rejects(
        Event::OperatorAdded {
            at: t(3),
            operator: op(5).skill(BILLING, 6),
        },
        EngineError::LevelOutOfRange {
            skill: BILLING,
            level: 6,
        },
    );
    rejects(
        Event::OperatorAdded {
            at: t(3),
            operator: op(5).skill(BILLING, 0),
        },
        EngineError::LevelOutOfRange {
            skill: BILLING,
            level: 0,
        },
    );
    rejects(
        Event::OperatorAdded {
            at: t(3),
            operator: op(5).skill(SkillId(999), 2),
        },
        EngineError::UnknownSkill(SkillId(999)),
    );
    rejects(
        Event::OperatorAdded {
            at: t(3),
            operator: op(5).skill(BILLING, 2).skill(BILLING, 3),
        },
        EngineError::DuplicateSkill(BILLING),
    );
    rejects(
        Event::OperatorAdded {
            at: t(3),
            operator: op(5).team(SALES).team(SALES),
        },
        EngineError::DuplicateTeam(SALES),
    );
    rejects(
        Event::OperatorAdded {
            at: t(3),
            operator: op(5).capacity(EMAIL, 0),
        },
        EngineError::ZeroCapacity {
            operator: OperatorId(5),
            channel: EMAIL,
        },
    );
    rejects(
        Event::OperatorAdded {
            at: t(3),
            operator: op(5).capacity(ChannelId(77), 2),
        },
        EngineError::UnknownChannel(ChannelId(77)),
    );
    rejects(
        Event::ConversationArrived {
            at: t(3),
            conversation: chat(9, TierId(55)),
        },
        EngineError::UnknownTier(TierId(55)),
    );
    rejects(
        Event::ConversationArrived {
            at: t(3),
            conversation: ConversationSpec::new(ConversationId(9), ChannelId(8), SMB),
        },
        EngineError::UnknownChannel(ChannelId(8)),
    );
    rejects(
        Event::ConversationArrived {
            at: t(3),
            conversation: chat(9, SMB)
                .skill(BILLING, 1)
                .skill(TECH, 1)
                .skill(KOREAN, 1)
                .skill(SkillId(999), 1),
        },
        EngineError::UnknownSkill(SkillId(999)),
    );
    rejects(
        Event::OperatorSkillsChanged {
            at: t(3),
            operator: OperatorId(1),
            skills: [SkillLevel::new(TECH, 9)].into_iter().collect(),
        },
        EngineError::LevelOutOfRange {
            skill: TECH,
            level: 9,
        },
    );
    rejects(
        Event::OperatorCapacityChanged {
            at: t(3),
            operator: OperatorId(1),
            channel: ChannelId(8),
            capacity: 1,
        },
        EngineError::UnknownChannel(ChannelId(8)),
    );
}

#[test]
fn too_many_required_skills() {
    let mut p = policy();
    for k in 0..5 {
        p.skills
            .push(SkillSpec::new(SkillId(50 + k), format!("s{k}")));
    }
    let mut e = engine_with(p);
    let before = e.clone();
    let mut c = chat(1, SMB);
    for k in 0..5 {
        c = c.skill(SkillId(50 + k), 1);
    }
    assert_eq!(
        e.apply(Event::ConversationArrived {
            at: t(0),
            conversation: c
        })
        .unwrap_err(),
        EngineError::TooManySkills {
            conversation: ConversationId(1),
            count: 5,
            max: 4
        }
    );
    assert_eq!(e, before);
}

#[test]
fn time_never_goes_backwards() {
    rejects(
        Event::Assign { at: t(1) },
        EngineError::TimeWentBackwards {
            got: t(1),
            last: t(2),
        },
    );
    rejects(
        Event::Assign {
            at: Timestamp(u64::MAX),
        },
        EngineError::TimestampOutOfRange(Timestamp(u64::MAX)),
    );
}

#[test]
fn claims_and_transfers_need_a_logged_in_operator_with_room() {
    let mut e = busy();
    assert_eq!(holder(&e, 1), Some(1));
    arrive(&mut e, t(3), chat(4, SMB));
    e.apply(Event::ConversationClaimed {
        at: t(3),
        conversation: ConversationId(4),
        operator: OperatorId(2),
    })
    .unwrap();
    // Replied, so it stays with operator 1 when they log off.
    e.apply(Event::FirstResponseSent {
        at: t(3),
        conversation: ConversationId(1),
    })
    .unwrap();
    status(&mut e, t(3), 1, OperatorStatus::Offline);
    let before = e.clone();
    assert_eq!(
        e.apply(Event::ConversationClaimed {
            at: t(4),
            conversation: ConversationId(3),
            operator: OperatorId(1)
        })
        .unwrap_err(),
        EngineError::OperatorOffline(OperatorId(1))
    );
    assert_eq!(
        e.apply(Event::ConversationClaimed {
            at: t(4),
            conversation: ConversationId(3),
            operator: OperatorId(2)
        })
        .unwrap_err(),
        EngineError::AtCapacity {
            operator: OperatorId(2),
            channel: CHAT
        }
    );
    assert_eq!(
        e.apply(Event::ConversationTransferred {
            at: t(4),
            conversation: ConversationId(1),
            to: TransferTarget::Operator(OperatorId(2))
        })
        .unwrap_err(),
        EngineError::AtCapacity {
            operator: OperatorId(2),
            channel: CHAT
        }
    );
    assert_eq!(e, before);
}

#[test]
fn policies_that_contradict_themselves_are_refused() {
    let mut p = policy();
    p.selection = Selection::SkillDevelopment {
        demanding_skills: vec![SkillId(404)],
        share_permille: 100,
    };
    assert_eq!(
        Engine::new(p).unwrap_err(),
        PolicyError::UnknownSkill {
            field: "selection.demanding_skills",
            skill: SkillId(404)
        }
    );
    let mut p = policy();
    p.selection = Selection::SkillDevelopment {
        demanding_skills: vec![BILLING],
        share_permille: 1001,
    };
    assert!(matches!(
        Engine::new(p).unwrap_err(),
        PolicyError::OutOfRange {
            field: "selection.share_permille",
            ..
        }
    ));
    let mut p = policy();
    p.overflow = vec![
        OverflowStep::new(Millis::from_secs(60), Relax::AnyTeam),
        OverflowStep::new(Millis::from_secs(30), Relax::AnyOperator),
    ];
    assert_eq!(
        Engine::new(p).unwrap_err(),
        PolicyError::OverflowOutOfOrder { index: 1 }
    );
    let mut p = policy();
    p.channels[0].blocks.push(ChannelId(99));
    assert_eq!(
        Engine::new(p).unwrap_err(),
        PolicyError::UnknownChannel {
            field: "channels[].blocks",
            channel: ChannelId(99)
        }
    );
    let mut p = policy();
    p.tiers.push(p.tiers[0].clone());
    assert_eq!(
        Engine::new(p).unwrap_err(),
        PolicyError::DuplicateTier(ENTERPRISE)
    );
    let mut p = policy();
    p.tiers.clear();
    assert_eq!(
        Engine::new(p).unwrap_err(),
        PolicyError::Empty { field: "tiers" }
    );
}

#[test]
fn router_variants_that_contradict_themselves_are_refused() {
    let cap = |max_assignments, window| {
        let mut p = policy();
        p.throughput_cap = Some(ThroughputCap::new(max_assignments, window));
        Engine::new(p).unwrap_err()
    };
    assert_eq!(
        cap(0, Millis::from_secs(60)),
        PolicyError::Zero {
            field: "throughput_cap.max_assignments"
        }
    );
    assert_eq!(
        cap(5, Millis::ZERO),
        PolicyError::Zero {
            field: "throughput_cap.window"
        }
    );
    assert_eq!(
        cap(10_001, Millis::from_secs(60)),
        PolicyError::OutOfRange {
            field: "throughput_cap.max_assignments",
            value: 10_001,
            max: 10_000
        }
    );
    // Measured from the previous step, a second step with no wait of its
    // own would take effect together with the first.
    let mut p = policy();
    p.overflow_timing = OverflowTiming::FromPreviousStep;
    p.overflow = vec![
        OverflowStep::new(Millis::from_secs(30), Relax::AnyTeam),
        OverflowStep::new(Millis::ZERO, Relax::AnyOperator),
    ];
    let err = Engine::new(p.clone()).unwrap_err();
    assert_eq!(err, PolicyError::OverflowOutOfOrder { index: 1 });
    assert!(err.to_string().contains("overflow[1].after"), "{err}");
    // The same waits are fine measured from the previous step when each is
    // positive, even if they do not increase.
    p.overflow[1].after = Millis::from_secs(10);
    assert!(Engine::new(p.clone()).is_ok());
    p.overflow_timing = OverflowTiming::FromRouting;
    assert_eq!(
        Engine::new(p).unwrap_err(),
        PolicyError::OverflowOutOfOrder { index: 1 }
    );
}
