//! A seeded stream of valid events and its clean in-process replay, shared
//! by the crash and failover tests.

use switchboard::prelude::*;

/// xorshift64*: a stream that depends on the seed alone.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The stream, what a clean replay of it gives, and the batch plan.
pub struct Plan {
    /// The events as JSON, input_seq 1 first.
    pub events: Vec<String>,
    /// Every decision: (input_seq, JSON).
    pub decisions: Vec<(u64, String)>,
    /// Batch ends (seq of each batch's last event) and the state hash there.
    pub ends: Vec<(u64, u64)>,
    /// The state hash after the whole stream.
    pub final_hash: u64,
}

/// `n` valid events (operators joining and stepping away, conversations
/// arriving, answered, resolved or abandoned; no timers), replayed in
/// process, cut into batches of 1 to `max_batch` events.
pub fn generate(n: usize, seed: u64, policy: Policy, max_batch: u64) -> Plan {
    let mut rng = Rng(seed | 1);
    let mut engine = Engine::new(policy).expect("policy");
    let chat = ChannelId(1);
    let (mut t, mut next_op, mut next_conv) = (1_000_000u64, 1u64, 1u64);
    let mut live: Vec<u64> = Vec::new();
    let mut ops: Vec<u64> = Vec::new();
    let mut plan = Plan {
        events: Vec::with_capacity(n),
        decisions: Vec::new(),
        ends: Vec::new(),
        final_hash: 0,
    };
    let mut next_end = 1 + rng.below(max_batch);
    let mut refused = 0u64;
    while plan.events.len() < n {
        t += rng.below(40);
        let at = Timestamp(t);
        let r = rng.below(100);
        let ev = if ops.len() < 40 || r < 1 {
            let cap = 1 + rng.below(4) as u16;
            ops.push(next_op);
            next_op += 1;
            Event::OperatorAdded {
                at,
                operator: OperatorSpec::new(OperatorId(next_op - 1))
                    .status(OperatorStatus::Available)
                    .capacity(chat, cap),
            }
        } else if r < 22 {
            live.push(next_conv);
            next_conv += 1;
            let tier = TierId(1 + rng.below(2) as u32);
            Event::ConversationArrived {
                at,
                conversation: ConversationSpec::new(ConversationId(next_conv - 1), chat, tier),
            }
        } else if r < 75 && !live.is_empty() {
            let i = rng.below(live.len() as u64) as usize;
            let id = ConversationId(live[i]);
            let Some(view) = engine.conversation(id) else {
                live.swap_remove(i);
                continue;
            };
            match view.state {
                ConversationState::Assigned => Event::FirstResponseSent {
                    at,
                    conversation: id,
                },
                ConversationState::Responded => {
                    live.swap_remove(i);
                    Event::ConversationResolved {
                        at,
                        conversation: id,
                    }
                }
                ConversationState::Waiting if rng.below(4) == 0 => {
                    live.swap_remove(i);
                    Event::ConversationAbandoned {
                        at,
                        conversation: id,
                    }
                }
                _ => Event::Assign { at },
            }
        } else if r < 80 {
            let op = OperatorId(ops[rng.below(ops.len() as u64) as usize]);
            let status = if rng.below(3) == 0 {
                OperatorStatus::Away
            } else {
                OperatorStatus::Available
            };
            Event::OperatorStatusChanged {
                at,
                operator: op,
                status,
            }
        } else {
            Event::Assign { at }
        };
        let json = serde_json::to_string(&ev).unwrap();
        match engine.apply(ev) {
            Ok(ds) => {
                // The service drains records after every input; so does the
                // replay, or the hashes would differ by the undrained records.
                let _ = engine.take_records();
                let seq = engine.inputs_applied();
                for d in &ds {
                    plan.decisions
                        .push((seq, serde_json::to_string(d).unwrap()));
                }
                plan.events.push(json);
                if seq == next_end || plan.events.len() == n {
                    plan.ends.push((seq, engine.state_hash()));
                    next_end = seq + 1 + rng.below(max_batch);
                }
            }
            Err(_) => refused += 1,
        }
        assert_eq!(
            engine.next_deadline(),
            None,
            "the stream must not need timers"
        );
    }
    plan.final_hash = engine.state_hash();
    eprintln!(
        "generated {n} events ({refused} candidates refused and left out), {} decisions, {} batches",
        plan.decisions.len(),
        plan.ends.len()
    );
    plan
}

/// What the stream client has seen, in order.
#[derive(Default)]
pub struct Seen {
    /// The last input_seq seen.
    pub last: u64,
    /// Every decision seen: (input_seq, decision).
    pub decisions: Vec<(u64, serde_json::Value)>,
}

impl Seen {
    /// Keeps messages, failing on any input seen twice or out of order.
    pub fn take(&mut self, msgs: impl Iterator<Item = (u64, serde_json::Value)>) {
        for (seq, ds) in msgs {
            assert!(
                seq > self.last,
                "input {seq} after {}: repeated or out of order",
                self.last
            );
            self.last = seq;
            for d in ds.as_array().expect("an array per input") {
                self.decisions.push((seq, d.clone()));
            }
        }
    }
}
