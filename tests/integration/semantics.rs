//! Semantics users bring from other routers: the same scenario under each
//! variant, asserting the outcomes that tell them apart.

use crate::common::*;
use switchboard::engine::Snapshot;
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
