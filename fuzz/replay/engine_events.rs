//! The engine-events fuzz target's body, shared with the regression test
//! (`tests/integration/fuzz_regressions.rs`) that replays every saved crash.
//! Interprets bytes as a policy choice and a stream of events; asserts that
//! refused events leave the engine unchanged and that the engine's own
//! snapshot restores to the same state.

use switchboard::policy::{OfferPolicy, RebalancePolicy};
use switchboard::prelude::*;

pub fn policy(b: u8) -> Policy {
    let mut p = Policy::new(
        vec![
            ChannelSpec::new(ChannelId(1), "call").blocks([ChannelId(2)]),
            ChannelSpec::new(ChannelId(2), "chat"),
        ],
        vec![
            TierSpec::new(TierId(1), "a", 1)
                .first_response_target(Millis(60_000))
                .head_start(Millis(30_000)),
            TierSpec::new(TierId(2), "b", 2).first_response_target(Millis(300_000)),
        ],
        vec![
            SkillSpec::new(SkillId(1), "x"),
            SkillSpec::new(SkillId(2), "y"),
        ],
    );
    p.queue_order = [
        QueueOrder::StrictPriority,
        QueueOrder::Aging,
        QueueOrder::EarliestDeadline,
        QueueOrder::Fifo,
    ][usize::from(b & 3)];
    p.selection = match (b >> 2) % 8 {
        0 => Selection::LeastLoaded,
        1 => Selection::LongestIdle {
            clock: IdleClock::BecameAvailable,
        },
        2 => Selection::RoundRobin,
        3 => Selection::MostProficient,
        4 => Selection::SkillDevelopment {
            demanding_skills: vec![SkillId(2)],
            share_permille: 500,
        },
        5 => Selection::Ring,
        6 => Selection::FixedOrder,
        _ => Selection::FewestConversations,
    };
    if b & 0x20 != 0 {
        p.offers = Some(OfferPolicy::new(Millis(5_000)));
    }
    if b & 0x40 != 0 {
        p.rebalance = RebalancePolicy::new()
            .skew_margin_permille(Some(300))
            .on_capacity_cut(true)
            .reassign_responded_after_away(Some(Millis(20_000)))
            .max_moves(Some(3))
            .defer_to_rebalance(false);
        p.preferred_operator.wait = Millis(4_000);
        p.wrap_up = Millis(2_000);
        p.overflow = vec![
            OverflowStep::new(Millis(3_000), Relax::LowerLevels(2)),
            OverflowStep::new(Millis(9_000), Relax::AnyOperator),
        ];
    }
    p
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(mut e) = Engine::new(policy(first)) else {
        return;
    };
    let mut t = 0u64;
    for chunk in rest.chunks(4) {
        let [k, a, b, c] = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
            *chunk.get(3).unwrap_or(&0),
        ];
        t += u64::from(c % 8) * 500;
        let at = Timestamp(t);
        let op = OperatorId(u64::from(a % 6));
        let conv = ConversationId(u64::from(b % 12));
        let ch = ChannelId(u32::from(a % 3));
        let ev = match k % 16 {
            0 => Event::OperatorAdded {
                at,
                operator: OperatorSpec::new(op)
                    .status(
                        [
                            OperatorStatus::Available,
                            OperatorStatus::Away,
                            OperatorStatus::Offline,
                        ][usize::from(b % 3)],
                    )
                    .capacity(ChannelId(2), u16::from(c % 4))
                    .capacity(ChannelId(1), 1)
                    .skill(SkillId(u32::from(b % 3)), c % 7),
            },
            1 => Event::OperatorRemoved { at, operator: op },
            2 => Event::OperatorStatusChanged {
                at,
                operator: op,
                status: [
                    OperatorStatus::Available,
                    OperatorStatus::Away,
                    OperatorStatus::Offline,
                ][usize::from(b % 3)],
            },
            3 => Event::OperatorCapacityChanged {
                at,
                operator: op,
                channel: ch,
                capacity: u16::from(b % 5),
            },
            4 => Event::ConversationArrived {
                at,
                conversation: ConversationSpec::new(conv, ch, TierId(u32::from(c % 3)))
                    .skill(SkillId(u32::from(a % 3)), b % 6)
                    .preferred_operator(OperatorId(u64::from(c % 7))),
            },
            5 => Event::FirstResponseSent {
                at,
                conversation: conv,
            },
            6 => Event::ConversationResolved {
                at,
                conversation: conv,
            },
            7 => Event::ConversationAbandoned {
                at,
                conversation: conv,
            },
            8 => Event::MessageLeft {
                at,
                conversation: conv,
            },
            9 => Event::ConversationTransferred {
                at,
                conversation: conv,
                to: [
                    TransferTarget::Operator(op),
                    TransferTarget::Team(TeamId(1)),
                    TransferTarget::Queue,
                ][usize::from(c % 3)],
            },
            10 => Event::ConversationClaimed {
                at,
                conversation: conv,
                operator: op,
            },
            11 => Event::OfferAccepted {
                at,
                conversation: conv,
                operator: op,
            },
            12 => Event::OfferRejected {
                at,
                conversation: conv,
                operator: op,
            },
            13 => Event::Rebalance { at },
            14 => Event::BotConversationStarted {
                at,
                conversation: ConversationSpec::new(conv, ch, TierId(1)),
            },
            _ => Event::Assign { at },
        };
        let before = e.clone();
        if e.apply(ev).is_err() {
            assert!(e == before, "a refused event changed the state");
        }
    }
    // Snapshots of whatever state we reached restore to the same state.
    let bytes = e.snapshot().to_bytes();
    let back = Engine::restore(
        switchboard::engine::Snapshot::from_bytes(&bytes).expect("own bytes decode"),
    )
    .expect("own snapshot restores");
    assert_eq!(back.state_hash(), e.state_hash());
}
