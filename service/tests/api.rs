//! The HTTP API against the real binary: tenants' isolation, bad input,
//! limits, timers, the decision stream and the queries.

mod common;

use std::time::Duration;

use common::{Scratch, Server, collect_until, now_ms, policy, tenants_file};
use serde_json::{Value, json};

const A: &str = "key-of-a";
const B: &str = "key-of-b";

fn two_tenants(dir: &Scratch, extra: Value) -> std::path::PathBuf {
    tenants_file(
        &dir.0,
        &[("a", A, policy(extra.clone())), ("b", B, policy(extra))],
    )
}

fn op_added(at: u64, id: u64, cap: u16) -> Value {
    json!({"type": "operator_added", "at": at,
           "operator": {"id": id, "status": "available", "capacity": [[1, cap]]}})
}

fn arrived(at: u64, id: u64, tier: u32) -> Value {
    json!({"type": "conversation_arrived", "at": at,
           "conversation": {"id": id, "channel": 1, "tier": tier}})
}

fn assign(at: u64) -> Value {
    json!({"type": "assign", "at": at})
}

fn batch(events: &[Value]) -> String {
    serde_json::to_string(events).unwrap()
}

#[test]
fn keys_open_only_their_own_tenant() {
    let dir = Scratch::new("auth");
    let tenants = two_tenants(&dir, json!({}));
    let s = Server::start(&dir.0.join("data"), &tenants, &[]);
    let t = 1_000;
    let ack = s.post_ok(
        "a",
        A,
        &batch(&[op_added(t, 7, 2), arrived(t, 1, 1), assign(t)]),
    );
    assert_eq!(ack["last_seq"], 3);
    assert_eq!(ack["decisions"][0]["operator"], 7);

    let paths = [
        "/v1/tenants/a/status",
        "/v1/tenants/a/wallboard",
        "/v1/tenants/a/kpi",
        "/v1/tenants/a/conversations/1/queue",
        "/v1/tenants/a/log",
    ];
    for p in paths {
        assert_eq!(s.get(p, None).0, 401, "{p} without a key");
        assert_eq!(
            s.get(p, Some("nobody's key")).0,
            401,
            "{p} with a bogus key"
        );
        let (status, body) = s.get(p, Some(B));
        assert_eq!(status, 403, "{p} with b's key");
        assert!(body.contains("not allowed for tenant \\\"a\\\""), "{body}");
    }
    // The stream too: refused before any decision is sent.
    let (status, _) = s.get("/v1/tenants/a/decisions?after=0", Some(B));
    assert_eq!(status, 403);
    let (status, _) = s.post("/v1/tenants/a/events", B, &assign(t + 1).to_string());
    assert_eq!(status, 403, "b cannot post into a");
    assert_eq!(s.get("/v1/tenants/zzz/status", Some(A)).0, 404);

    // Nothing of a shows through b's own endpoints.
    let st = s.get_json("/v1/tenants/b/status", B);
    assert_eq!(st["last_seq"], 0);
    assert_eq!(st["log_events"], 0);
    let wb = s.get_json("/v1/tenants/b/wallboard", B);
    assert_eq!(wb["real_time"]["operators"]["available"], 0);
    assert_eq!(wb["real_time"]["conversations"]["with_operator"], 0);
    let kpi = s.get_json("/v1/tenants/b/kpi", B);
    assert_eq!(kpi["records"], 0);
    let rx = s.stream("b", B, Some(0));
    assert!(collect_until(&rx, 1, |g| !g.is_empty()).is_empty());
    // While a sees its own.
    let wb = s.get_json("/v1/tenants/a/wallboard", A);
    assert_eq!(wb["real_time"]["operators"]["available"], 1);
    // The refusal is counted against the tenant asked for.
    let (_, m) = s.get("/metrics", None);
    let line = m
        .lines()
        .find(|l| l.starts_with("switchboard_forbidden_total{tenant=\"a\"}"))
        .unwrap();
    assert!(line.ends_with(" 7"), "{line}");
}

#[test]
fn bad_input_is_refused_with_its_reason_and_changes_nothing() {
    let dir = Scratch::new("bad");
    let tenants = two_tenants(&dir, json!({}));
    let s = Server::start(&dir.0.join("data"), &tenants, &[]);
    s.post_ok(
        "a",
        A,
        &batch(&[op_added(5_000, 7, 2), arrived(5_000, 1, 1)]),
    );
    let before = s.get_json("/v1/tenants/a/status", A);
    assert_eq!(before["log_events"], 2);

    let (st, body) = s.post("/v1/tenants/a/events", A, "{\"type\": \"assign\", ");
    assert_eq!(st, 400);
    assert!(body.contains("malformed event JSON"), "{body}");
    let (st, body) = s.post("/v1/tenants/a/events", A, r#"{"type":"warp","at":1}"#);
    assert_eq!(st, 400);
    assert!(body.contains("unknown variant `warp`"), "{body}");
    let (st, body) = s.get("/v1/tenants/a/decisions?after=minus-one", Some(A));
    assert_eq!(st, 400);
    assert!(body.contains("after"), "{body}");
    let (st, body) = s.get("/v1/tenants/a/conversations/x/queue", Some(A));
    assert_eq!(st, 400);
    assert!(body.contains("is not a non-negative integer"), "{body}");
    let (st, body) = s.post("/v1/tenants/a/events", A, "[]");
    assert_eq!(st, 400);
    assert!(body.contains("no event"), "{body}");

    // Time going backwards.
    let (st, body) = s.post("/v1/tenants/a/events", A, &assign(4_000).to_string());
    assert_eq!(st, 422);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["index"], 0);
    assert!(
        v["error"].as_str().unwrap().contains("time went backwards"),
        "{body}"
    );
    // An unknown id, third in a batch whose first two are fine: the whole
    // batch is refused.
    let bad = json!({"type": "conversation_resolved", "at": 6_000, "conversation": 99});
    let (st, body) = s.post(
        "/v1/tenants/a/events",
        A,
        &batch(&[arrived(6_000, 2, 2), assign(6_000), bad]),
    );
    assert_eq!(st, 422);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["index"], 2);
    assert!(v["error"].as_str().unwrap().contains("99"), "{body}");

    let after = s.get_json("/v1/tenants/a/status", A);
    assert_eq!(after, before, "nothing logged or changed");
    // The first two events of the refused batch can be posted again.
    let ack = s.post_ok("a", A, &batch(&[arrived(6_000, 2, 2), assign(6_000)]));
    assert_eq!(ack["first_seq"], 3);
    assert_eq!(ack["decisions"].as_array().unwrap().len(), 2);
}

#[test]
fn oversized_bodies_and_floods_are_limited_not_fatal() {
    let dir = Scratch::new("limits");
    let tenants = two_tenants(&dir, json!({}));
    let s = Server::start(
        &dir.0.join("data"),
        &tenants,
        &[
            "--max-body",
            "2048",
            "--rate",
            "2",
            "--burst",
            "5",
            "--metrics-token",
            "scraper",
        ],
    );
    assert_eq!(s.get("/metrics", None).0, 401);
    assert_eq!(
        s.get("/metrics", Some(A)).0,
        401,
        "a tenant key is not the scraper's"
    );
    assert_eq!(s.get("/metrics", Some("scraper")).0, 200);
    let big: Vec<Value> = (0..100).map(|i| op_added(1_000, i + 1, 1)).collect();
    let (st, _) = s.post("/v1/tenants/a/events", A, &batch(&big));
    assert_eq!(st, 413);
    let mut codes = Vec::new();
    for _ in 0..20 {
        codes.push(s.get("/v1/tenants/a/status", Some(A)).0);
    }
    assert!(codes.contains(&429), "{codes:?}");
    assert!(codes.iter().all(|c| *c == 200 || *c == 429), "{codes:?}");
    // The other tenant has its own allowance.
    assert_eq!(s.get("/v1/tenants/b/status", Some(B)).0, 200);
    std::thread::sleep(Duration::from_millis(1_100));
    let (st, body) = s.get("/v1/tenants/a/status", Some(A));
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["log_events"], 0, "the oversized batch was not logged");
}

#[test]
fn requests_beyond_the_in_flight_limit_get_429() {
    use std::io::Write;
    let dir = Scratch::new("inflight");
    let tenants = two_tenants(&dir, json!({}));
    let s = Server::start(&dir.0.join("data"), &tenants, &["--max-in-flight", "1"]);
    assert_eq!(s.get("/healthz", None).0, 200);
    // A client that announces a body and never sends it holds the only slot.
    let addr = s.base.trim_start_matches("http://");
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    write!(
        slow,
        "POST /v1/tenants/a/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {A}\r\nContent-Length: 100\r\n\r\n{{\"type\""
    )
    .unwrap();
    slow.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (st, body) = s.get("/healthz", None);
    assert_eq!(st, 429, "{body}");
    drop(slow);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.get("/healthz", None).0, 200, "the slot is free again");
    assert_eq!(s.get_json("/v1/tenants/a/status", A)["log_events"], 0);
}

#[test]
fn a_deadline_fires_by_itself_as_a_logged_tick() {
    let dir = Scratch::new("timer");
    // An offer that lapses after 400 ms.
    let tenants = two_tenants(&dir, json!({"offers": {"timeout": 400}}));
    let s = Server::start(&dir.0.join("data"), &tenants, &[]);
    deadline_fires(&s);
}

#[test]
fn a_deadline_fires_by_itself_on_jetstream_too() {
    let dir = Scratch::new("timer-js");
    let nats = common::Nats::start(&dir.0);
    let tenants = two_tenants(&dir, json!({"offers": {"timeout": 400}}));
    let s = Server::start(&dir.0.join("data"), &tenants, &["--nats", &nats.url]);
    // Served once the instance holds the tenant's lease.
    let t0 = std::time::Instant::now();
    while s.get("/v1/tenants/a/status", Some(A)).0 != 200 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "tenant a never served"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    deadline_fires(&s);
}

/// Posts an offer, then waits for the service's timer to lapse it as a
/// logged tick (input 4), with nothing else posted.
fn deadline_fires(s: &Server) {
    let rx = s.stream("a", A, None);
    let t = now_ms();
    let ack = s.post_ok(
        "a",
        A,
        &batch(&[op_added(t, 7, 1), arrived(t, 1, 1), assign(t)]),
    );
    assert!(ack["decisions"][0]["kind"]["offered"].is_object(), "{ack}");
    let st = s.get_json("/v1/tenants/a/status", A);
    assert_eq!(st["next_deadline"], t + 400);
    // Nothing more is posted: the lapse must come from the service's timer.
    let got = collect_until(&rx, 10, |g| g.len() >= 2);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, 3);
    assert_eq!(got[1].0, 4, "the tick is input 4");
    let d = &got[1].1[0];
    assert_eq!(d["kind"]["unassigned"]["cause"], "offer_expired", "{d}");
    assert_eq!(d["at"], t + 400);
    let st = s.get_json("/v1/tenants/a/status", A);
    assert_eq!(st["log_events"], 4, "the tick is in the log");
    let log = s.get_json("/v1/tenants/a/log?after=2", A);
    assert_eq!(log[0]["seq"], 3);
    assert_eq!(log[0]["event"]["type"], "assign");
    assert_eq!(
        log[1],
        json!({"seq": 4, "event": {"type": "tick", "at": t + 400}})
    );
    assert_eq!(log.as_array().unwrap().len(), 2);
}

#[test]
fn the_stream_resumes_after_a_seq_without_loss_or_duplicate_across_a_restart() {
    let dir = Scratch::new("sse");
    let tenants = two_tenants(&dir, json!({}));
    let data = dir.0.join("data");
    let mut s = Server::start(&data, &tenants, &["--snapshot-every", "4"]);
    // Ten operators with room for one each; 30 arrivals, assign after each
    // third one: inputs that place work, inputs that place none.
    s.post_ok(
        "a",
        A,
        &batch(&(1..=10).map(|i| op_added(100, i, 1)).collect::<Vec<_>>()),
    );
    let live = s.stream("a", A, None);
    let mut seqs_with_decisions = Vec::new();
    for i in 1..=30u64 {
        let mut evs = vec![arrived(100 + i, i, 1 + (i % 2) as u32)];
        if i % 3 == 0 {
            evs.push(assign(100 + i));
        }
        let ack = s.post_ok("a", A, &batch(&evs));
        if !ack["decisions"].as_array().unwrap().is_empty() {
            seqs_with_decisions.push(ack["last_seq"].as_u64().unwrap());
        }
    }
    assert!(!seqs_with_decisions.is_empty());
    let got = collect_until(&live, 10, |g| g.len() >= seqs_with_decisions.len());
    let ids: Vec<u64> = got.iter().map(|m| m.0).collect();
    assert_eq!(ids, seqs_with_decisions, "live: every input once, in order");
    let placed: usize = got.iter().map(|m| m.1.as_array().unwrap().len()).sum();
    assert_eq!(placed, 10, "ten operators, ten placements");

    // Resume from the middle: exactly the later ones.
    let mid = seqs_with_decisions[seqs_with_decisions.len() / 2];
    let resumed = s.stream("a", A, Some(mid));
    let later: Vec<u64> = seqs_with_decisions
        .iter()
        .copied()
        .filter(|q| *q > mid)
        .collect();
    let got = collect_until(&resumed, 10, |g| g.len() >= later.len());
    assert_eq!(got.iter().map(|m| m.0).collect::<Vec<_>>(), later);
    assert!(
        collect_until(&resumed, 1, |g| !g.is_empty()).is_empty(),
        "no extra"
    );

    // A position the server never gave out is refused, not silently skipped.
    let (st, body) = s.get("/v1/tenants/a/decisions?after=999999", Some(A));
    assert_eq!(st, 409, "{body}");
    assert!(body.contains("beyond the last input"), "{body}");

    // Restart (SIGKILL): the stream from after=mid is the same, then live.
    let before = s.get_json("/v1/tenants/a/status", A);
    s.kill();
    let s = Server::start(&data, &tenants, &["--snapshot-every", "4"]);
    let after = s.get_json("/v1/tenants/a/status", A);
    assert_eq!(after["state_hash"], before["state_hash"]);
    assert_eq!(after["last_seq"], before["last_seq"]);
    assert!(after["snapshot_seq"].as_u64().unwrap() > 0, "{after}");
    let resumed = s.stream("a", A, Some(mid));
    let got = collect_until(&resumed, 10, |g| g.len() >= later.len());
    assert_eq!(got.iter().map(|m| m.0).collect::<Vec<_>>(), later);
    // A resolution frees an operator; the next assign's decision arrives live.
    let ack = s.post_ok(
        "a",
        A,
        &batch(&[
            json!({"type": "conversation_resolved", "at": 200, "conversation": got[0].1[0]["conversation"]}),
            assign(200),
        ]),
    );
    let seq = ack["last_seq"].as_u64().unwrap();
    let got = collect_until(&resumed, 10, |g| !g.is_empty());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, seq);
}

#[test]
fn queue_status_kpis_and_metrics_read_the_tenants_state() {
    let dir = Scratch::new("queries");
    let tenants = two_tenants(&dir, json!({}));
    let s = Server::start(&dir.0.join("data"), &tenants, &[]);
    s.post_ok(
        "a",
        A,
        &batch(&[
            op_added(10_000, 7, 1),
            arrived(10_000, 1, 1),
            arrived(11_000, 2, 2),
            arrived(12_000, 3, 2),
            assign(12_000),
        ]),
    );
    let q = s.get_json("/v1/tenants/a/conversations/3/queue", A);
    assert_eq!(q["position"], 2, "{q}");
    // Conversations 2 and 3 wait in tier 2; 1 is with operator 7.
    let wb = s.get_json("/v1/tenants/a/wallboard", A);
    assert_eq!(
        wb["waiting_per_tier"],
        json!([{"tier": 1, "waiting": 0}, {"tier": 2, "waiting": 2}]),
        "{wb}"
    );
    assert_eq!(wb["by_tier"][1]["waiting"], 2, "{wb}");
    assert_eq!(wb["by_tier"][1]["longest_wait_ms"], 1_000, "{wb}");
    let (st, body) = s.get("/v1/tenants/a/conversations/1/queue", Some(A));
    assert_eq!(st, 404, "conversation 1 is with operator 7: {body}");
    s.post_ok(
        "a",
        A,
        &batch(&[
            json!({"type": "first_response_sent", "at": 15_000, "conversation": 1}),
            json!({"type": "conversation_resolved", "at": 40_000, "conversation": 1}),
            json!({"type": "conversation_abandoned", "at": 41_000, "conversation": 3}),
        ]),
    );
    let all = s.get_json("/v1/tenants/a/kpi", A);
    assert_eq!(all["records"], 2, "{all}");
    let early = s.get_json("/v1/tenants/a/kpi?from=0&to=10500", A);
    assert_eq!(early["records"], 2);
    assert_eq!(early["out_of_period"], 1, "{early}");
    let (st, body) = s.get("/v1/tenants/a/kpi?from=20&to=10", Some(A));
    assert_eq!(st, 400, "{body}");

    let (st, m) = s.get("/metrics", None);
    assert_eq!(st, 200);
    for want in [
        "switchboard_events_applied_total{tenant=\"a\"} 8",
        "switchboard_events_applied_total{tenant=\"b\"} 0",
        "switchboard_decisions_total{tenant=\"a\"} 1",
        "switchboard_waiting{tenant=\"a\",tier=\"2\"} 1",
        "switchboard_waiting{tenant=\"a\",tier=\"1\"} 0",
        "switchboard_apply_seconds_count{tenant=\"a\"} 8",
        "switchboard_commit_seconds_count{tenant=\"a\"} 2",
        "# TYPE switchboard_apply_seconds histogram",
    ] {
        assert!(m.contains(want), "missing {want:?} in\n{m}");
    }
    // Conversation 2 has waited since 11 s, the tenant's clock is at 41 s.
    assert!(
        m.contains("switchboard_longest_wait_seconds{tenant=\"a\"} 30\n"),
        "{m}"
    );
}

#[test]
fn a_changed_policy_for_an_existing_log_is_refused_at_start() {
    let dir = Scratch::new("policy");
    let data = dir.0.join("data");
    let tenants = two_tenants(&dir, json!({}));
    let mut s = Server::start(&data, &tenants, &[]);
    s.post_ok("a", A, &op_added(1, 7, 1).to_string());
    s.kill();
    let changed = two_tenants(&dir, json!({"wrap_up": 1000}));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-service"))
        .arg("--data")
        .arg(&data)
        .arg("--tenants")
        .arg(&changed)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("differs from the one its log started with"),
        "{err}"
    );
}

#[test]
fn an_invalid_policy_stops_the_start_and_is_not_kept() {
    let dir = Scratch::new("invalid");
    let data = dir.0.join("data");
    let bad = two_tenants(&dir, json!({"channels": []}));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-service"))
        .arg("--data")
        .arg(&data)
        .arg("--tenants")
        .arg(&bad)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("policy refused"), "{err}");
    // Corrected, the same data directory starts.
    let good = two_tenants(&dir, json!({}));
    let s = Server::start(&data, &good, &[]);
    assert_eq!(s.get_json("/v1/tenants/a/status", A)["last_seq"], 0);
}

#[test]
fn a_tenant_id_that_cannot_be_a_url_segment_or_subject_stops_the_start() {
    let dir = Scratch::new("badid");
    for id in ["acme.eu", "", "a b", "x>"] {
        let tenants = tenants_file(&dir.0, &[(id, "k", policy(json!({})))]);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-service"))
            .arg("--data")
            .arg(dir.0.join("data"))
            .arg("--tenants")
            .arg(&tenants)
            .args(["--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{id:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("tenant id {id:?}")) && err.contains("ASCII letters"),
            "{id:?}: {err}"
        );
    }
}

#[test]
fn sigterm_stops_the_server_even_with_a_stream_open() {
    let dir = Scratch::new("term");
    let tenants = two_tenants(&dir, json!({}));
    let mut s = Server::start(&dir.0.join("data"), &tenants, &[]);
    let rx = s.stream("a", A, None);
    let pid = s.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    // The stream ended with the server.
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(5)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
    ));
}

#[test]
fn a_stream_that_falls_behind_catches_up_from_the_table() {
    let dir = Scratch::new("lag");
    let tenants = two_tenants(&dir, json!({}));
    // Two batches of live buffer: a stalled reader overruns it at once.
    let s = Server::start(&dir.0.join("data"), &tenants, &["--stream-buffer", "2"]);
    s.post_ok("a", A, &op_added(1_000, 7, 65_535).to_string());
    let (open, rx) = s.stream_gated("a", A, Some(0));
    // ~16 MB of decisions, well past what the sockets buffer, while the
    // client reads nothing.
    let (batches, per_batch) = (45u64, 1_000u64);
    let mut expected = Vec::new();
    for b in 0..batches {
        let mut evs = Vec::new();
        for i in 0..per_batch {
            let (id, t) = (b * per_batch + i + 1, 2_000 + b);
            evs.push(arrived(t, id, 1));
            evs.push(assign(t));
        }
        let ack = s.post_ok("a", A, &batch(&evs));
        let first = ack["first_seq"].as_u64().unwrap();
        expected.extend((0..per_batch).map(|i| first + 2 * i + 1));
    }
    open.send(()).unwrap();
    let got = collect_until(&rx, 60, |g| g.len() >= expected.len());
    let ids: Vec<u64> = got.iter().map(|m| m.0).collect();
    assert_eq!(ids.len(), expected.len());
    assert!(ids == expected, "inputs missing, repeated or out of order");
    assert!(got.iter().all(|m| m.1.as_array().unwrap().len() == 1));
    // The stalled task notices it was overrun on its next read of the
    // channel, once the client reads again.
    let (_, m) = s.get("/metrics", None);
    let resyncs = m
        .lines()
        .find_map(|l| l.strip_prefix("switchboard_stream_resyncs_total{tenant=\"a\"} "))
        .unwrap()
        .to_string();
    assert_ne!(
        resyncs, "0",
        "the stream never fell behind; the test tested nothing"
    );
}
