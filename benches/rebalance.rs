//! Rebalance (goals G6, G8): an operator with 10 unanswered conversations
//! goes away and their work is re-placed; a skew between two operators is
//! evened out. Each iteration starts from a fresh clone of the same state.

use std::hint::black_box;

use criterion::{BatchSize, Criterion};
use switchboard::prelude::*;

const CHAT: ChannelId = ChannelId(1);

fn engine(operators: u64, skew: bool) -> Engine {
    let mut p = Policy::new(
        vec![ChannelSpec {
            id: CHAT,
            name: "chat".into(),
            blocks: vec![],
        }],
        vec![TierSpec {
            id: TierId(1),
            name: "all".into(),
            priority: 1,
            first_response_target: Millis(60_000),
            head_start: Millis::ZERO,
        }],
        vec![],
    );
    if skew {
        p.rebalance.skew_margin_permille = Some(200);
    }
    let mut e = Engine::new(p).unwrap();
    let t = Timestamp(1_000);
    // Operator 0 takes 10 conversations while alone; the others log in afterwards.
    for o in 0..operators {
        let status = if o == 0 {
            OperatorStatus::Available
        } else {
            OperatorStatus::Away
        };
        e.apply(Event::OperatorAdded {
            at: t,
            operator: OperatorSpec::new(OperatorId(o))
                .status(status)
                .capacity(CHAT, 10),
        })
        .unwrap();
    }
    for c in 0..10 {
        e.apply(Event::ConversationArrived {
            at: t,
            conversation: ConversationSpec::new(ConversationId(c), CHAT, TierId(1)),
        })
        .unwrap();
    }
    e.assign(t).unwrap();
    for o in 1..operators {
        e.apply(Event::OperatorStatusChanged {
            at: Timestamp(2_000),
            operator: OperatorId(o),
            status: OperatorStatus::Available,
        })
        .unwrap();
    }
    e.assign(Timestamp(2_000)).unwrap();
    e
}

pub fn register(c: &mut Criterion) {
    let mut g = c.benchmark_group("rebalance");
    g.sample_size(20);
    for ops in [100u64, 1000] {
        let base = engine(ops, false);
        g.bench_function(format!("away_with_10_unanswered/{ops}ops"), |b| {
            b.iter_batched(
                || base.clone(),
                |mut e| {
                    e.apply(Event::OperatorStatusChanged {
                        at: Timestamp(3_000),
                        operator: OperatorId(0),
                        status: OperatorStatus::Away,
                    })
                    .unwrap();
                    let ds = e.rebalance(Timestamp(3_000)).unwrap();
                    assert_eq!(ds.len(), 20, "10 moves and 10 placements");
                    black_box(ds.len())
                },
                BatchSize::LargeInput,
            )
        });
        let skewed = engine(ops, true);
        g.bench_function(format!("skew_10_to_idle/{ops}ops"), |b| {
            b.iter_batched(
                || skewed.clone(),
                |mut e| black_box(e.rebalance(Timestamp(3_000)).unwrap().len()),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}
