//! Failover on JetStream, loopback only: a `nats-server` and two service
//! instances sharing eight tenants. A seeded stream of valid events (100,000
//! by default; `SWITCHBOARD_FAILOVER_EVENTS` to change) is posted to one
//! tenant, following the tenant wherever it is served, while
//!
//! 1. its instance is SIGKILLed during a post: the other instance takes the
//!    tenant over (snapshot + replay from the stream), and the killed one is
//!    started again under the same name, so the tenant is later handed back;
//! 2. its instance is SIGSTOPped past its lease: the other takes over and
//!    appends; then the stopped one is resumed with a post already waiting
//!    on it: the batch the new owner has just appended, which the stale
//!    engine accepts; its append must be refused (JetStream's
//!    expected-last-sequence check) or the instance must have stood down
//!    first, never the batch logged twice.
//!
//! Checks, as in the single-node crash test: each interrupted batch is all
//! or nothing, nothing acknowledged is lost, the state hash equals a clean
//! in-process replay at every takeover and at the end, and a client reading
//! the decision stream throughout (reconnecting to whichever instance serves
//! the tenant, from the last input_seq it saw) receives every decision of
//! the replay once, in order.

mod common;

use std::sync::mpsc::{self, TryRecvError};
use std::time::{Duration, Instant};

use common::stream::{Rng, Seen, generate};
use common::{Nats, Scratch, Server, policy, tenants_file};
use serde_json::{Value, json};

const KEY: &str = "failover-key";
const LEASE_MS: u64 = 1_000;

/// The two instances by name; `None` while one is down.
struct Pair {
    names: [&'static str; 2],
    servers: [Option<Server>; 2],
    data: std::path::PathBuf,
    tenants: std::path::PathBuf,
    nats: String,
}

impl Pair {
    fn start(&mut self, i: usize) {
        let lease = LEASE_MS.to_string();
        let args = [
            "--nats",
            &self.nats,
            "--instance",
            self.names[i],
            "--lease-ms",
            &lease,
            "--snapshot-every",
            "4000",
            "--rate",
            "1000000",
            "--burst",
            "1000000",
        ];
        self.servers[i] = Some(Server::start(
            &self.data.join(self.names[i]),
            &self.tenants,
            &args,
        ));
    }

    fn server(&self, i: usize) -> &Server {
        self.servers[i].as_ref().expect("instance up")
    }

    /// Which instance serves `tenant`, waiting (up to 30 s) through a
    /// takeover. The other instance must point at it (421 with its URL) or
    /// say it is being taken over (503).
    fn owner(&self, tenant: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut found = None;
            for (i, s) in self.servers.iter().enumerate() {
                let Some(s) = s else { continue };
                let (status, body) = s.get(&format!("/v1/tenants/{tenant}/status"), Some(KEY));
                match status {
                    200 => found = Some(i),
                    421 => {
                        let v: Value = serde_json::from_str(&body).unwrap();
                        let url = v["owner"].as_str().expect("421 names the owner");
                        // The owner named may have just died; otherwise it is
                        // one of ours.
                        if let Some(j) = self
                            .servers
                            .iter()
                            .position(|o| o.as_ref().is_some_and(|o| o.base == url))
                        {
                            assert_ne!(j, i, "an instance sent a client to itself");
                        }
                    }
                    503 => {}
                    other => panic!("status of {tenant}: {other} {body}"),
                }
            }
            if let Some(i) = found {
                return i;
            }
            assert!(
                Instant::now() < deadline,
                "nobody serves {tenant} after 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// GET `path` of `tenant` from whoever serves it, asking again if the
    /// tenant moves between finding its owner and the request.
    fn served_get(&self, tenant: &str, path: &str) -> (usize, Value) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let o = self.owner(tenant);
            let (s, b) = self
                .server(o)
                .get(&format!("/v1/tenants/{tenant}{path}"), Some(KEY));
            match s {
                200 => return (o, serde_json::from_str(&b).unwrap()),
                421 | 503 => assert!(Instant::now() < deadline, "{tenant} keeps moving"),
                other => panic!("GET {path}: {other} {b}"),
            }
        }
    }

    fn status(&self, i: usize, tenant: &str) -> Option<Value> {
        let (s, b) = self
            .server(i)
            .get(&format!("/v1/tenants/{tenant}/status"), Some(KEY));
        (s == 200).then(|| serde_json::from_str(&b).unwrap())
    }
}

/// The decision stream of `tenant`, opened on whoever serves it.
fn reconnect(pair: &Pair, seen: &Seen) -> mpsc::Receiver<(u64, Value)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = pair.owner("t");
        match pair.server(o).try_stream("t", KEY, Some(seen.last)) {
            Ok(rx) => return rx,
            Err((s, b)) => {
                assert!(s == 421 || s == 503 || s == 0, "stream refused: {s} {b}");
                assert!(Instant::now() < deadline, "cannot reopen the stream");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Takes what the stream delivered; reopens it if it ended (the instance
/// died or handed the tenant over).
fn drain(pair: &Pair, seen: &mut Seen, rx: &mut mpsc::Receiver<(u64, Value)>) {
    loop {
        match rx.try_recv() {
            Ok(m) => seen.take(std::iter::once(m)),
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => *rx = reconnect(pair, seen),
        }
    }
}

#[test]
fn instances_take_over_from_a_killed_or_stopped_one_and_lose_nothing() {
    let n: usize = std::env::var("SWITCHBOARD_FAILOVER_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seed = 41u64;
    let started = Instant::now();
    let pol = policy(json!({}));
    let plan = generate(n, seed, serde_json::from_value(pol.clone()).unwrap(), 300);

    let dir = Scratch::new("failover");
    let nats = Nats::start(&dir.0);
    let names = ["t", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];
    let keys: Vec<String> = names.iter().map(|n| format!("{n}-key")).collect();
    let list: Vec<(&str, &str, Value)> = names
        .iter()
        .zip(&keys)
        .map(|(n, k)| (*n, if *n == "t" { KEY } else { k.as_str() }, pol.clone()))
        .collect();
    let mut pair = Pair {
        names: ["a", "b"],
        servers: [None, None],
        data: dir.0.clone(),
        tenants: tenants_file(&dir.0, &list),
        nats: nats.url.clone(),
    };
    pair.start(0);
    pair.start(1);

    // Every tenant gets served, the two instances share them out, and the
    // sharing holds still for two leases: right after the second instance
    // joins, the first still holds tenants it is handing over one by one,
    // so a single look can catch a tenant before it moves.
    let settle = Instant::now() + Duration::from_secs(30);
    let mut last: Option<(Vec<Vec<usize>>, Instant)> = None;
    let owners = loop {
        let mut owners = Vec::new();
        for (n, k) in names.iter().zip(&keys) {
            let key = if *n == "t" { KEY } else { k.as_str() };
            let served: Vec<usize> = (0..2)
                .filter(|i| {
                    pair.server(*i)
                        .get(&format!("/v1/tenants/{n}/status"), Some(key))
                        .0
                        == 200
                })
                .collect();
            owners.push(served);
        }
        let settled = owners.iter().all(|o| o.len() == 1)
            && owners.iter().any(|o| o[0] == 0)
            && owners.iter().any(|o| o[0] == 1);
        assert!(
            Instant::now() < settle,
            "tenants not shared out and still: {owners:?}"
        );
        if !settled {
            last = None;
        } else if let Some((before, since)) = &last {
            if *before != owners {
                last = Some((owners, Instant::now()));
            } else if since.elapsed() >= Duration::from_millis(2 * LEASE_MS) {
                break owners;
            }
        } else {
            last = Some((owners, Instant::now()));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!("failover: tenants by instance {owners:?}");
    // The instance that does not serve "t" points at the one that does.
    let o = pair.owner("t");
    let (status, body) =
        pair.server(1 - o)
            .post("/v1/tenants/t/events", KEY, r#"{"type":"assign","at":1}"#);
    assert_eq!(status, 421, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["owner"], pair.server(o).base.as_str());

    let mut seen = Seen::default();
    let mut rx = pair.server(o).stream("t", KEY, Some(0));
    let batches = plan.ends.len();
    let kill_batch = batches / 3;
    let stop_batch = 2 * batches / 3;
    let mut rng = Rng(seed | 1);
    let (mut cursor, mut batch, mut acked) = (0u64, 0usize, 0u64);
    let (mut kills, mut stops, mut handoffs, mut fenced) = (0, 0, 0, 0);
    let mut takeovers_ms = Vec::new();
    // The instance restarted after the kill, until the tenant is back on it.
    let mut expect_back: Option<(usize, Instant)> = None;
    let mut handback_ms = None;
    let check = |st: &Value, held: u64, plan_ends: &[(u64, u64)]| {
        if let Some(&(_, hash)) = plan_ends.iter().find(|e| e.0 == held) {
            assert_eq!(st["state_hash"], format!("{hash:016x}"), "state at {held}");
        }
    };
    while cursor < n as u64 {
        let end = plan.ends[batch].0;
        let body = format!("[{}]", plan.events[cursor as usize..end as usize].join(","));
        let mut o = pair.owner("t");
        if let Some((home, since)) = expect_back {
            if o == home {
                handback_ms = Some(since.elapsed().as_millis());
                expect_back = None;
            } else if batch >= stop_batch {
                // Not handed back yet: wait for it before the next phase.
                while pair.owner("t") != home {
                    assert!(
                        since.elapsed() < Duration::from_secs(30),
                        "never handed back"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
                handback_ms = Some(since.elapsed().as_millis());
                expect_back = None;
                o = home;
                drain(&pair, &mut seen, &mut rx);
            }
        }
        if batch == kill_batch && kills == 0 {
            // 1. SIGKILL the owner during a post.
            let pid = pair.server(o).child.id().to_string();
            let delay = rng.below(8_000);
            let killer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_micros(delay));
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid])
                    .status();
            });
            let result = pair.server(o).try_post("/v1/tenants/t/events", KEY, &body);
            killer.join().unwrap();
            pair.servers[o].as_mut().unwrap().kill();
            pair.servers[o] = None;
            seen.take(rx.iter());
            kills += 1;
            let t0 = Instant::now();
            let o2 = pair.owner("t");
            takeovers_ms.push(t0.elapsed().as_millis());
            assert_ne!(o2, o);
            let st = pair.status(o2, "t").expect("new owner's status");
            let held = st["last_seq"].as_u64().unwrap();
            let ok = matches!(result, Ok((200, _)));
            eprintln!(
                "failover: killed {} during batch {cursor}..{end} (post {}); {} took over in {} ms holding {held}",
                pair.names[o],
                if ok {
                    "acknowledged"
                } else {
                    "not acknowledged"
                },
                pair.names[o2],
                takeovers_ms.last().unwrap()
            );
            assert!(
                held == cursor || held == end,
                "held {held}, batch {cursor}..{end}"
            );
            if ok {
                assert_eq!(held, end, "an acknowledged batch was lost");
            }
            assert!(held >= acked);
            check(&st, held, &plan.ends);
            cursor = held;
            batch = plan.ends.iter().position(|e| e.0 > cursor).unwrap_or(batch);
            rx = reconnect(&pair, &seen);
            // The killed instance comes back under its name; the tenant
            // will be handed back to it if it is the choice for it.
            pair.start(o);
            if owners[0][0] == o {
                expect_back = Some((o, Instant::now()));
            }
            continue;
        }
        if batch == stop_batch && stops == 0 {
            // 2. SIGSTOP the owner past its lease; the other takes over.
            stops += 1;
            let pid = pair.server(o).child.id();
            let signal = |sig: &str| common::signal(pid, sig);
            signal("-STOP");
            let t0 = Instant::now();
            let o2 = loop {
                let other = 1 - o;
                if pair.status(other, "t").is_some() {
                    break other;
                }
                assert!(t0.elapsed() < Duration::from_secs(30), "no takeover");
                std::thread::sleep(Duration::from_millis(50));
            };
            takeovers_ms.push(t0.elapsed().as_millis());
            // The new owner appends the batch.
            let (s, b) = pair.server(o2).post("/v1/tenants/t/events", KEY, &body);
            assert_eq!(s, 200, "{b}");
            acked = end;
            cursor = end;
            batch += 1;
            // The same batch is sent to the stopped instance, then it is
            // resumed. Its engine has not seen the batch, so it accepts it;
            // had its append got in, the log would hold the batch twice.
            let next = body.clone();
            let stale = pair.server(o).base.clone();
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into();
            let poster = std::thread::spawn(move || {
                let mut r = agent
                    .post(format!("{stale}/v1/tenants/t/events"))
                    .header("Authorization", format!("Bearer {KEY}"))
                    .send(next.as_str())
                    .expect("post to the stopped instance");
                let status = r.status().as_u16();
                (status, r.body_mut().read_to_string().unwrap_or_default())
            });
            std::thread::sleep(Duration::from_millis(200));
            signal("-CONT");
            let (s, b) = poster.join().unwrap();
            eprintln!(
                "failover: stopped {} for {} ms; after resuming, a post to it got {s}: {b}",
                pair.names[o],
                t0.elapsed().as_millis()
            );
            // 421/503: it stood down or JetStream refused its append; 504
            // would mean unconfirmed (its connection was in trouble): the
            // log, checked next, must not hold the batch twice in any case.
            assert!(
                s == 421 || s == 503 || s == 504,
                "a stale instance answered {s}: {b}"
            );
            if b.contains("another instance wrote") {
                fenced += 1;
            }
            let (_, st) = pair.served_get("t", "/status");
            assert_eq!(
                st["last_seq"].as_u64().unwrap(),
                cursor,
                "the stale post got in"
            );
            check(&st, cursor, &plan.ends);
            drain(&pair, &mut seen, &mut rx);
            continue;
        }
        match pair.server(o).try_post("/v1/tenants/t/events", KEY, &body) {
            Ok((200, _)) => {
                acked = end;
                cursor = end;
                batch += 1;
                if batch == 5 {
                    // An event the engine refuses (time going backwards):
                    // 422 with its reason, nothing appended to the stream.
                    let (s, b) = pair.server(o).post(
                        "/v1/tenants/t/events",
                        KEY,
                        r#"{"type":"assign","at":0}"#,
                    );
                    assert_eq!(s, 422, "{b}");
                    let (_, st) = pair.served_get("t", "/status");
                    assert_eq!(st["last_seq"].as_u64(), Some(cursor));
                    assert_eq!(st["log_events"].as_u64(), Some(cursor));
                }
            }
            // Handed over while we asked: find it again and see whether the
            // batch got in.
            Ok((421 | 503, _)) => {
                handoffs += 1;
                let (_, st) = pair.served_get("t", "/status");
                let held = st["last_seq"].as_u64().unwrap();
                assert!(
                    held == cursor || held == end,
                    "held {held}, batch {cursor}..{end}"
                );
                check(&st, held, &plan.ends);
                if held == end {
                    acked = end;
                    cursor = end;
                    batch += 1;
                }
            }
            Ok((s, b)) => panic!("batch {cursor}..{end}: {s} {b}"),
            Err(e) => panic!("batch {cursor}..{end}: {e}"),
        }
        drain(&pair, &mut seen, &mut rx);
    }
    assert_eq!(acked, n as u64);
    let handback_ms = handback_ms.expect("the tenant went back to its restarted instance");
    let last_with_decisions = plan.decisions.last().map_or(0, |d| d.0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.last < last_with_decisions && Instant::now() < deadline {
        drain(&pair, &mut seen, &mut rx);
        std::thread::sleep(Duration::from_millis(20));
    }
    let expected: Vec<(u64, Value)> = plan
        .decisions
        .iter()
        .map(|(q, d)| (*q, serde_json::from_str(d).unwrap()))
        .collect();
    assert_eq!(seen.decisions.len(), expected.len(), "decisions seen");
    assert!(
        seen.decisions == expected,
        "the stream differs from the replay"
    );

    let (_, st) = pair.served_get("t", "/status");
    assert_eq!(st["last_seq"], n as u64);
    assert_eq!(st["log_events"], n as u64);
    assert_eq!(st["state_hash"], format!("{:016x}", plan.final_hash));
    // The log on JetStream holds the stream, each event once, in order.
    let mut logged = Vec::new();
    while logged.len() < n {
        let (_, v) = pair.served_get("t", &format!("/log?after={}&limit=10000", logged.len()));
        let page = v.as_array().unwrap();
        assert!(!page.is_empty(), "log ends at {}", logged.len());
        for e in page {
            assert_eq!(e["seq"], logged.len() as u64 + 1);
            logged.push(e["event"].clone());
        }
    }
    for (i, e) in logged.iter().enumerate() {
        let want: Value = serde_json::from_str(&plan.events[i]).unwrap();
        assert_eq!(e, &want, "logged event {}", i + 1);
    }

    // Both down, one fresh start: snapshot + replay from the stream.
    pair.servers = [None, None];
    let t0 = Instant::now();
    pair.start(1);
    let (_, st) = pair.served_get("t", "/status");
    let cold_ms = t0.elapsed().as_millis();
    assert_eq!(st["state_hash"], format!("{:016x}", plan.final_hash));
    assert!(
        st["snapshot_seq"].as_u64().unwrap() > 0,
        "recovered from a snapshot"
    );
    eprintln!(
        "failover: {n} events, {kills} kill, {stops} stop ({fenced} refused by the log's sequence check), {handoffs} posts met a handover, takeovers {takeovers_ms:?} ms with a {LEASE_MS} ms lease, handed back {handback_ms} ms after the restart, cold start of 8 tenants {cold_ms} ms, total {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
