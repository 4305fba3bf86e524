//! Crash test, single node, loopback only: a seeded stream of valid events
//! (100,000 by default; `SWITCHBOARD_CRASH_EVENTS` to change, `..._SEED`
//! for another stream) posted in batches while the service is SIGKILLed at
//! random points; after each restart the client resumes from the seq the
//! server reports. At the end the state hash must equal an in-process
//! replay of the same stream, and the decisions table must hold exactly the
//! replay's decisions, each input's once, in input_seq order; so must what a
//! client reading the decision stream throughout (reconnecting after each
//! kill from the last input_seq it saw) has received.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Scratch, Server, policy, tenants_file};
use serde_json::json;
use switchboard::prelude::*;

const KEY: &str = "crash-key";

/// xorshift64*: a stream that depends on the seed alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The stream, what a clean replay of it gives, and the batch plan.
struct Plan {
    events: Vec<String>,
    decisions: Vec<(u64, String)>,
    /// Batch ends (seq of each batch's last event) and the state hash there.
    ends: Vec<(u64, u64)>,
    final_hash: u64,
}

fn generate(n: usize, seed: u64, policy: Policy) -> Plan {
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
    let mut next_end = 1 + rng.below(800);
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
                    next_end = seq + 1 + rng.below(800);
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
        "crash: generated {n} events ({refused} candidates refused and left out), {} decisions, {} batches",
        plan.decisions.len(),
        plan.ends.len()
    );
    plan
}

/// What the stream client has seen, in order.
#[derive(Default)]
struct Seen {
    last: u64,
    decisions: Vec<(u64, serde_json::Value)>,
}

impl Seen {
    /// Keeps messages, failing on any input seen twice or out of order.
    fn take(&mut self, msgs: impl Iterator<Item = (u64, serde_json::Value)>) {
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

#[test]
fn sigkill_at_random_points_loses_and_duplicates_nothing() {
    let n: usize = std::env::var("SWITCHBOARD_CRASH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seed: u64 = std::env::var("SWITCHBOARD_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(23);
    let started = Instant::now();
    let pol = policy(json!({}));
    let plan = generate(n, seed, serde_json::from_value(pol.clone()).unwrap());

    let dir = Scratch::new("crash");
    let tenants = tenants_file(&dir.0, &[("t", KEY, pol)]);
    let data = dir.0.join("data");
    let args = [
        "--snapshot-every",
        "7000",
        "--rate",
        "1000000",
        "--burst",
        "1000000",
    ];
    let mut server = Server::start(&data, &tenants, &args);
    // A client reading the decision stream throughout, reconnecting after
    // each kill from the last input_seq it saw.
    let mut seen = Seen::default();
    let mut rx = server.stream("t", KEY, Some(0));

    // At least 3 kills (4 by default), in distinct batches after the first.
    let mut rng = Rng(seed.wrapping_mul(7919) | 1);
    let batches = plan.ends.len();
    let mut kill_at = BTreeSet::new();
    let want = 6.min(batches.saturating_sub(1));
    while kill_at.len() < want {
        kill_at.insert(1 + rng.below(batches as u64 - 1) as usize);
    }
    let (mut acked, mut kills, mut batch, mut cursor) = (0u64, 0, 0usize, 0u64);
    let mut refused = 0;
    let posting = Instant::now();
    while cursor < n as u64 {
        let end = plan.ends[batch].0;
        assert!(end > cursor, "batch plan out of step");
        let body = format!("[{}]", plan.events[cursor as usize..end as usize].join(","));
        let killer = kill_at.remove(&batch).then(|| {
            let pid = server.child.id().to_string();
            // Within a batch's usual round trip (about 10 ms here), so some
            // kills land before the commit and some after.
            let delay = rng.below(12_000);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_micros(delay));
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid])
                    .status();
            })
        });
        let result = server.try_post("/v1/tenants/t/events", KEY, &body);
        if let Some(k) = killer {
            k.join().unwrap();
            server.kill();
            // The reader ends with the connection; keep what it got.
            seen.take(rx.iter());
            kills += 1;
            server = Server::start(&data, &tenants, &args);
            rx = server.stream("t", KEY, Some(seen.last));
            let st = server.get_json("/v1/tenants/t/status", KEY);
            let held = st["last_seq"].as_u64().unwrap();
            let ok = matches!(result, Ok((200, _)));
            eprintln!(
                "crash: kill {kills} during batch {cursor}..{end}: post {}, server holds {held}",
                if ok {
                    "acknowledged"
                } else {
                    "not acknowledged"
                }
            );
            // All or nothing of the batch, and nothing acknowledged is lost.
            assert!(
                held == cursor || held == end,
                "held {held}, batch {cursor}..{end}"
            );
            if ok {
                assert_eq!(held, end, "an acknowledged batch was lost");
            }
            assert!(held >= acked);
            if let Some(&(_, hash)) = plan.ends[..=batch].iter().find(|e| e.0 == held) {
                assert_eq!(
                    st["state_hash"],
                    format!("{hash:016x}"),
                    "state after restart at seq {held}"
                );
            }
            cursor = held;
            batch = plan.ends.iter().position(|e| e.0 > cursor).unwrap_or(batch);
            continue;
        }
        let (status, text) = result.expect("post without a kill");
        assert_eq!(status, 200, "batch {cursor}..{end}: {text}");
        if batch % 40 == 20 {
            // Now and then an event the engine refuses: it must not enter
            // the log (the final counts and hash would show it).
            let (status, text) =
                server.post("/v1/tenants/t/events", KEY, r#"{"type":"assign","at":0}"#);
            assert_eq!(status, 422, "{text}");
            refused += 1;
        }
        acked = end;
        seen.take(rx.try_iter());
        cursor = end;
        batch += 1;
    }
    let post_secs = posting.elapsed().as_secs_f64();
    let last_with_decisions = plan.decisions.last().map_or(0, |d| d.0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.last < last_with_decisions && Instant::now() < deadline {
        if let Ok(m) = rx.recv_timeout(Duration::from_secs(1)) {
            seen.take(std::iter::once(m));
        }
    }
    let expected: Vec<(u64, serde_json::Value)> = plan
        .decisions
        .iter()
        .map(|(q, d)| (*q, serde_json::from_str(d).unwrap()))
        .collect();
    assert_eq!(
        seen.decisions.len(),
        expected.len(),
        "decisions seen on the stream"
    );
    assert!(
        seen.decisions == expected,
        "the stream differs from the replay"
    );
    assert!(kills >= 3, "only {kills} kills");

    let st = server.get_json("/v1/tenants/t/status", KEY);
    assert_eq!(st["last_seq"], n as u64);
    assert_eq!(st["log_events"], n as u64);
    assert_eq!(st["state_hash"], format!("{:016x}", plan.final_hash));
    server.kill();

    // The tables against the clean replay.
    {
        let conn = rusqlite::Connection::open(data.join("switchboard.sqlite3")).unwrap();
        let mut q = conn
        .prepare("SELECT input_seq, decision FROM decisions WHERE tenant = 't' ORDER BY input_seq, idx")
        .unwrap();
        let stored: Vec<(u64, String)> = q
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(stored.len(), plan.decisions.len(), "decision count");
        for (i, (s, p)) in stored.iter().zip(&plan.decisions).enumerate() {
            assert_eq!(s, p, "decision {i}");
        }
        let mut q = conn
            .prepare("SELECT seq, event FROM events WHERE tenant = 't' ORDER BY seq")
            .unwrap();
        let events: Vec<(u64, String)> = q
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(events.len(), n);
        for (i, (seq, e)) in events.iter().enumerate() {
            assert_eq!(*seq, i as u64 + 1);
            assert_eq!(e, &plan.events[i], "event {seq}");
        }
    };

    // One more start: the last snapshot plus the log after it.
    let t0 = Instant::now();
    let server = Server::start(&data, &tenants, &args);
    let restart_ms = t0.elapsed().as_millis();
    let st = server.get_json("/v1/tenants/t/status", KEY);
    assert_eq!(st["state_hash"], format!("{:016x}", plan.final_hash));
    assert!(st["snapshot_seq"].as_u64().unwrap() > 0);
    eprintln!(
        "crash: {n} events ({refused} refused posts between), {kills} kills, posting {post_secs:.1} s ({:.0} events/s incl. restarts), last restart {restart_ms} ms, total {:.1} s",
        n as f64 / post_secs,
        started.elapsed().as_secs_f64()
    );
}
