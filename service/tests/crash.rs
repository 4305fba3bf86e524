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

use common::stream::{Rng, Seen, generate};
use common::{Scratch, Server, policy, tenants_file};
use serde_json::json;

const KEY: &str = "crash-key";

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
    let plan = generate(n, seed, serde_json::from_value(pol.clone()).unwrap(), 800);

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
