//! The wall board page in a real headless browser: Debian's Chromium driven
//! over WebDriver (chromedriver) against the real built service. The page
//! loads, shows the tenant's figures, follows posted events through the
//! decision stream, shows an error (not numbers) for a wrong key, and a
//! screenshot is kept under the cargo target directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Scratch, Server, now_ms, policy, tenants_file};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const A: &str = "acme-board-key";
const B: &str = "beta-board-key";
/// The whole browser part (every wait shares it).
const BUDGET: Duration = Duration::from_secs(60);

/// Chromedriver and the Chromium it starts, killed on drop (a panic
/// included): chromedriver by its id, Chromium's processes by the id of
/// each process whose command line names this run's profile directory.
struct Browser {
    driver: Child,
    profile: PathBuf,
    port: u16,
}

impl Browser {
    fn start(dir: &Path) -> Browser {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: the wall board test needs Debian's Chromium and its driver; \
                 install them with `apt-get install -y chromium chromium-driver`"
            );
        }
        let port = free_port();
        let log = std::fs::File::create(dir.join("chromedriver.log")).unwrap();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start chromedriver");
        let browser = Browser {
            driver,
            profile: dir.join("chromium-profile"),
            port,
        };
        // Ready when /status answers.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = agent
                .get(format!("http://127.0.0.1:{port}/status"))
                .call()
                .is_ok_and(|r| r.status().as_u16() == 200);
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        browser
    }

    async fn session(&self) -> Client {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", self.profile.display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("open a WebDriver session in Chromium")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Chromium's processes outlive a killed driver: find ours by the
        // profile directory on their command line.
        let needle = format!("--user-data-dir={}", self.profile.display());
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return;
        };
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(cmd) = std::fs::read(p.path().join("cmdline")) else {
                continue;
            };
            if cmd.split(|b| *b == 0).any(|a| a == needle.as_bytes()) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().unwrap().port()
}

/// What the page shows, read from its `id`/`data-*` attributes.
const READ_PAGE: &str = r#"
const g = (id, a) => { const e = document.getElementById(id); return e ? e.getAttribute(a) : null; };
const rows = (sel, attr) => Object.fromEntries([...document.querySelectorAll(sel)].map(tr =>
  [tr.getAttribute(attr), Object.fromEntries([...tr.children].map(td =>
    [td.dataset.field, td.dataset.value === undefined ? td.textContent : td.dataset.value]))]));
const err = document.getElementById('error');
return {
  conn: g('conn', 'data-state'),
  last_id: g('conn', 'data-last-id'),
  waiting: g('waiting', 'data-value'),
  longest_ms: g('longest-wait', 'data-ms'),
  available: g('ops-available', 'data-value'),
  away: g('ops-away', 'data-value'),
  offline: g('ops-offline', 'data-value'),
  with_operator: g('with-operator', 'data-value'),
  sl_from: g('service-level', 'data-from'),
  sl_numerator: g('service-level', 'data-numerator'),
  sl_denominator: g('service-level', 'data-denominator'),
  updated: g('updated', 'data-ms'),
  board_hidden: document.getElementById('board').hidden,
  error_hidden: err.hidden,
  error_status: err.getAttribute('data-status'),
  error: err.textContent,
  tiers: rows('#tiers tbody tr', 'data-tier'),
  routes: rows('#routes tbody tr', 'data-route'),
};
"#;

async fn read_page(c: &Client) -> Value {
    c.execute(READ_PAGE, vec![]).await.expect("read the page")
}

/// Polls the page (and `expected`, recomputed each round) until `ok` holds,
/// within the shared deadline; panics with the last page and expectation.
async fn wait_until(
    c: &Client,
    deadline: Instant,
    what: &str,
    mut expected: impl FnMut() -> Value,
    ok: impl Fn(&Value, &Value) -> bool,
) -> (Value, Value) {
    loop {
        let exp = expected();
        let page = read_page(c).await;
        if ok(&page, &exp) {
            return (page, exp);
        }
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}\npage: {page:#}\nexpected: {exp:#}\npage source: {}",
                page_source(c).await
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn page_source(c: &Client) -> String {
    c.source()
        .await
        .map(|s| s.chars().take(400).collect())
        .unwrap_or_default()
}

/// A JSON number or null as the page's attribute text ("" for null).
fn attr(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

/// Whether the page shows what the wallboard endpoint reports.
fn shows(page: &Value, wb: &Value) -> bool {
    let rt = &wb["real_time"];
    let longest = rt["longest_wait"]
        .as_array()
        .map_or(Value::Null, |a| a[1].clone());
    let top = page["conn"] == "live"
        && page["waiting"] == attr(&rt["conversations"]["waiting"])
        && page["longest_ms"] == attr(&longest)
        && page["available"] == attr(&rt["operators"]["available"])
        && page["away"] == attr(&rt["operators"]["away"])
        && page["offline"] == attr(&rt["operators"]["offline"])
        && page["with_operator"] == attr(&rt["conversations"]["with_operator"]);
    let tiers = wb["by_tier"].as_array().unwrap().iter().all(|t| {
        let row = &page["tiers"][t["tier"].to_string()];
        row["waiting"] == attr(&t["waiting"])
            && row["longest_wait_ms"] == attr(&t["longest_wait_ms"])
    });
    let routes = wb["by_route"].as_array().unwrap().iter().all(|q| {
        let k = match &q["queue"] {
            Value::Null => "default".to_string(),
            v => v.to_string(),
        };
        let row = &page["routes"][k];
        row["waiting"] == attr(&q["waiting"])
            && row["longest_wait_ms"] == attr(&q["longest_wait_ms"])
            && row["offered"] == attr(&q["offered"])
            && row["with_operator"] == attr(&q["with_operator"])
    });
    top && tiers && routes && page["board_hidden"] == false && page["error_hidden"] == true
}

fn wallboard(s: &Server) -> Value {
    s.get_json("/v1/tenants/acme/wallboard", A)
}

fn artefact_path() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target dir>/tmp.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target dir")
        .to_path_buf();
    let dir = target.join("artefacts");
    std::fs::create_dir_all(&dir).expect("create target/artefacts");
    dir
}

fn save_png(bytes: &[u8], name: &str) -> PathBuf {
    assert!(
        bytes.len() > 1000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is not a PNG ({} bytes)",
        bytes.len()
    );
    let path = artefact_path().join(name);
    std::fs::write(&path, bytes).expect("write the screenshot");
    let meta = std::fs::metadata(&path).unwrap();
    assert!(meta.len() > 0);
    println!("screenshot: {}", path.display());
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_board_follows_the_tenant_live_in_a_browser() {
    let dir = Scratch::new("board");
    let tenants = tenants_file(
        &dir.0,
        &[
            ("acme", A, policy(json!({}))),
            ("beta", B, policy(json!({}))),
        ],
    );
    let data = dir.0.join("data");
    let mut s = Server::start(&data, &tenants, &[]);
    let (st, html) = s.get("/board", None);
    assert_eq!(st, 200, "/board needs no key");
    assert!(html.contains("id=\"waiting\""), "{html}");

    let browser = Browser::start(&dir.0);
    let c = browser.session().await;
    let deadline = Instant::now() + BUDGET;

    // Loads, connects, and shows the empty tenant.
    c.goto(&format!("{}/board#tenant=acme&key={A}", s.base))
        .await
        .expect("open the board");
    let (page, _) = wait_until(&c, deadline, "the initial figures", || wallboard(&s), shows).await;
    assert_eq!(page["waiting"], "0");
    assert_eq!(page["available"], "0");
    assert_eq!(page["longest_ms"], "");
    assert_eq!(page["tiers"].as_object().unwrap().len(), 2, "{page:#}");
    assert!(page["routes"].get("default").is_some(), "{page:#}");
    let first_update = page["updated"].clone();

    // A minute ago operators joined (one away) and three conversations
    // arrived over 20 s; 30 s ago an assign gave the VIP one to the free
    // operator.
    let t0 = now_ms() - 60_000;
    s.post_ok(
        "acme",
        A,
        &json!([
            {"type": "operator_added", "at": t0,
             "operator": {"id": 7, "status": "available", "capacity": [[1, 1]]}},
            {"type": "operator_added", "at": t0,
             "operator": {"id": 8, "status": "away", "capacity": [[1, 1]]}},
            {"type": "conversation_arrived", "at": t0,
             "conversation": {"id": 1, "channel": 1, "tier": 2}},
            {"type": "conversation_arrived", "at": t0 + 10_000,
             "conversation": {"id": 2, "channel": 1, "tier": 1}},
            {"type": "conversation_arrived", "at": t0 + 20_000,
             "conversation": {"id": 3, "channel": 1, "tier": 2}},
            {"type": "assign", "at": t0 + 30_000},
        ])
        .to_string(),
    );
    let (page, wb) = wait_until(
        &c,
        deadline,
        "the figures after the first batch",
        || wallboard(&s),
        shows,
    )
    .await;
    assert_eq!(wb["real_time"]["conversations"]["waiting"], 2, "{wb:#}");
    assert_eq!(page["waiting"], "2");
    assert_eq!(page["available"], "1");
    assert_eq!(page["away"], "1");
    assert_eq!(page["with_operator"], "1");
    assert_eq!(page["longest_ms"], "30000", "conversation 1 waited 30 s");
    assert_eq!(page["tiers"]["1"]["waiting"], "0");
    assert_eq!(page["tiers"]["2"]["waiting"], "2");
    assert_eq!(page["tiers"]["2"]["longest_wait_ms"], "30000");
    assert_eq!(page["routes"]["default"]["waiting"], "2");
    assert_ne!(page["updated"], first_update, "the last-updated time moves");

    // The away operator comes back and takes conversation 1; the VIP one is
    // answered within the 20 s service-level threshold and resolved, and
    // conversation 3 is abandoned after 20 s: today's service level 1 of 2.
    // Conversation 4 has waited since (20 s ago), growing on the page.
    let t1 = t0 + 40_000;
    s.post_ok(
        "acme",
        A,
        &json!([
            {"type": "operator_status_changed", "at": t1, "operator": 8, "status": "available"},
            {"type": "assign", "at": t1},
            {"type": "first_response_sent", "at": t1, "conversation": 2},
            {"type": "conversation_resolved", "at": t1, "conversation": 2},
            {"type": "conversation_abandoned", "at": t1, "conversation": 3},
            {"type": "conversation_arrived", "at": t1,
             "conversation": {"id": 4, "channel": 1, "tier": 2}},
        ])
        .to_string(),
    );
    let (page, wb) = wait_until(
        &c,
        deadline,
        "the figures and today's service level after the second batch",
        || wallboard(&s),
        |p, wb| {
            if !shows(p, wb) {
                return false;
            }
            let from = p["sl_from"].as_str().unwrap_or("");
            if from.is_empty() {
                return false;
            }
            let kpi = s.get_json(&format!("/v1/tenants/acme/kpi?from={from}"), A);
            let sl = &kpi["overall"]["service_levels"][0]["default"];
            p["sl_numerator"] == attr(&sl["numerator"])
                && p["sl_denominator"] == attr(&sl["denominator"])
                && sl["denominator"] != 0
        },
    )
    .await;
    assert_eq!(wb["real_time"]["operators"]["available"], 2, "{wb:#}");
    assert_eq!(page["available"], "2");
    assert_eq!(page["away"], "0");
    assert_eq!(page["waiting"], "1", "conversation 4 waits");
    assert_eq!(page["tiers"]["2"]["waiting"], "1");
    let from: u64 = page["sl_from"].as_str().unwrap().parse().unwrap();
    if from <= t0 {
        // Not across local midnight: both records are today's.
        assert_eq!(page["sl_numerator"], "1", "{page:#}");
        assert_eq!(page["sl_denominator"], "2", "{page:#}");
    }

    let shot = c.screenshot().await.expect("take a screenshot");
    save_png(&shot, "wallboard.png");

    // The server dies: the page says so and retries; it comes back on the
    // same address and an assign is posted at once, usually before the page
    // has reconnected (its backoff is 1 s, then 2 s), so that decision
    // reaches it only by resuming the stream after its last id; the page's
    // last id must become the decision's input_seq either way.
    let addr = s.base.strip_prefix("http://").unwrap().to_string();
    s.kill();
    wait_until(
        &c,
        deadline,
        "the reconnecting state",
        Value::default,
        |p, _| p["conn"] == "reconnecting",
    )
    .await;
    drop(s);
    s = Server::start_on(&data, &tenants, &addr, &[]);
    let ack = s.post_ok(
        "acme",
        A,
        &json!({"type": "assign", "at": now_ms()}).to_string(),
    );
    let seq = ack["decisions"][0]["input_seq"].to_string();
    assert_eq!(ack["decisions"][0]["conversation"], 4, "{ack:#}");
    let (page, _) = wait_until(
        &c,
        deadline,
        "the figures after a restart, through the resumed stream",
        || wallboard(&s),
        |p, wb| shows(p, wb) && p["last_id"] == seq.as_str(),
    )
    .await;
    assert_eq!(page["waiting"], "0");
    assert_eq!(page["with_operator"], "2");

    // A wrong key and another tenant's key show the error, not numbers.
    for (key, status, word) in [
        ("not-a-key", "401", "Unauthorized"),
        (B, "403", "Forbidden"),
    ] {
        c.goto("about:blank").await.unwrap();
        c.goto(&format!("{}/board#tenant=acme&key={key}", s.base))
            .await
            .unwrap();
        let (page, _) = wait_until(
            &c,
            deadline,
            &format!("the {status} error state"),
            Value::default,
            |p, _| p["conn"] == "error" && p["error_hidden"] == false,
        )
        .await;
        assert_eq!(page["error_status"], status, "{page:#}");
        let text = page["error"].as_str().unwrap();
        assert!(text.contains(status) && text.contains(word), "{text}");
        assert_eq!(page["board_hidden"], true, "no numbers with a bad key");
        assert_eq!(page["waiting"], "", "no figures with a bad key");
    }
    let shot = c.screenshot().await.expect("take a screenshot");
    save_png(&shot, "wallboard-error.png");

    c.close().await.expect("end the browser session");
    drop(browser);
}
