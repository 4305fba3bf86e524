//! Starts the real built binary on loopback with a free port and a scratch
//! data directory, and talks to it over HTTP.

#![allow(dead_code)]

pub mod stream;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "switchboard-service-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a tenants file with these (id, key, policy).
pub fn tenants_file(dir: &Path, tenants: &[(&str, &str, Value)]) -> PathBuf {
    let list: Vec<Value> = tenants
        .iter()
        .map(|(id, key, policy)| json!({"id": id, "api_key": key, "policy": policy}))
        .collect();
    let path = dir.join("tenants.json");
    std::fs::write(&path, serde_json::to_string_pretty(&list).unwrap()).unwrap();
    path
}

/// A policy with one chat channel and two tiers; `extra` is merged in
/// (offers, wrap-up, ...).
pub fn policy(extra: Value) -> Value {
    let mut p = json!({
        "channels": [{"id": 1, "name": "chat"}],
        "tiers": [
            {"id": 1, "name": "vip", "priority": 1, "first_response_target": 60000},
            {"id": 2, "name": "standard", "priority": 2, "first_response_target": 300000}
        ],
        "skills": [{"id": 1, "name": "billing"}]
    });
    if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            p.insert(k.clone(), v.clone());
        }
    }
    p
}

/// Unix milliseconds now, the clock the service's timers follow.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A decision stream held until its gate is sent on.
pub type GatedStream = (mpsc::Sender<()>, mpsc::Receiver<(u64, Value)>);

/// A running service; SIGKILLed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub agent: ureq::Agent,
}

impl Server {
    /// Starts the binary with `--data data --tenants tenants --listen
    /// 127.0.0.1:0` plus `extra`, and waits for its address line.
    pub fn start(data: &Path, tenants: &Path, extra: &[&str]) -> Server {
        Server::start_on(data, tenants, "127.0.0.1:0", extra)
    }

    /// As [`Server::start`], listening on `listen` (e.g. a restart on the
    /// address a browser page already talks to).
    pub fn start_on(data: &Path, tenants: &Path, listen: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard-service"))
            .arg("--data")
            .arg(data)
            .arg("--tenants")
            .arg(tenants)
            .args(["--listen", listen])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the service binary");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(l)) = lines.next() {
                let _ = tx.send(l);
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "service did not print its address (status {:?})",
                    child.try_wait()
                );
            }
        };
        let addr = line
            .strip_prefix("switchboard-service listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Server {
            child,
            base: format!("http://{addr}"),
            agent,
        }
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// GET with an optional bearer key: (status, body).
    pub fn get(&self, path: &str, key: Option<&str>) -> (u16, String) {
        let mut r = self.agent.get(format!("{}{path}", self.base));
        if let Some(k) = key {
            r = r.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = r.call().expect("GET");
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap_or_default())
    }

    /// GET expecting 200 and JSON.
    pub fn get_json(&self, path: &str, key: &str) -> Value {
        let (s, b) = self.get(path, Some(key));
        assert_eq!(s, 200, "GET {path}: {b}");
        serde_json::from_str(&b).unwrap()
    }

    /// POST a raw body: (status, body), or the transport error.
    pub fn try_post(
        &self,
        path: &str,
        key: &str,
        body: &str,
    ) -> Result<(u16, String), ureq::Error> {
        let mut resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", "application/json")
            .send(body)?;
        let status = resp.status().as_u16();
        Ok((
            status,
            resp.body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_string()
                .unwrap_or_default(),
        ))
    }

    pub fn post(&self, path: &str, key: &str, body: &str) -> (u16, String) {
        self.try_post(path, key, body).expect("POST")
    }

    /// POST expecting 200 and JSON.
    pub fn post_ok(&self, tenant: &str, key: &str, body: &str) -> Value {
        let (s, b) = self.post(&format!("/v1/tenants/{tenant}/events"), key, body);
        assert_eq!(s, 200, "POST {body}: {b}");
        serde_json::from_str(&b).unwrap()
    }

    /// Opens the decision stream; each SSE message arrives as (id, data).
    pub fn stream(
        &self,
        tenant: &str,
        key: &str,
        after: Option<u64>,
    ) -> mpsc::Receiver<(u64, Value)> {
        let (open, rx) = self.stream_gated(tenant, key, after);
        let _ = open.send(());
        rx
    }

    /// As [`Server::stream`], but nothing is read from the connection until
    /// the returned sender is used: a client that has stopped reading.
    pub fn stream_gated(
        &self,
        tenant: &str,
        key: &str,
        after: Option<u64>,
    ) -> (mpsc::Sender<()>, mpsc::Receiver<(u64, Value)>) {
        match self.try_stream_gated(tenant, key, after) {
            Ok(s) => s,
            Err((status, body)) => panic!("stream status {status}: {body}"),
        }
    }

    /// Opens the decision stream, or gives the status and body it was
    /// refused with.
    pub fn try_stream(
        &self,
        tenant: &str,
        key: &str,
        after: Option<u64>,
    ) -> Result<mpsc::Receiver<(u64, Value)>, (u16, String)> {
        let (open, rx) = self.try_stream_gated(tenant, key, after)?;
        let _ = open.send(());
        Ok(rx)
    }

    fn try_stream_gated(
        &self,
        tenant: &str,
        key: &str,
        after: Option<u64>,
    ) -> Result<GatedStream, (u16, String)> {
        let url = match after {
            Some(a) => format!("{}/v1/tenants/{tenant}/decisions?after={a}", self.base),
            None => format!("{}/v1/tenants/{tenant}/decisions", self.base),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent
            .get(url)
            .header("Authorization", format!("Bearer {key}"))
            .call()
            .map_err(|e| (0, e.to_string()))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err((status, resp.body_mut().read_to_string().unwrap_or_default()));
        }
        let (tx, rx) = mpsc::channel();
        let (gate, wait) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if wait.recv().is_err() {
                return;
            }
            let reader: Box<dyn Read> = Box::new(resp.into_body().into_reader());
            let (mut id, mut data) = (None, String::new());
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { return };
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                } else if line.is_empty() {
                    if let Some(i) = id.take() {
                        let v = serde_json::from_str(&data).expect("SSE data is JSON");
                        if tx.send((i, v)).is_err() {
                            return;
                        }
                    }
                    data.clear();
                }
            }
        });
        Ok((gate, rx))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Collects stream messages until `pred` holds or `secs` pass.
pub fn collect_until(
    rx: &mpsc::Receiver<(u64, Value)>,
    secs: u64,
    mut pred: impl FnMut(&[(u64, Value)]) -> bool,
) -> Vec<(u64, Value)> {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    while !pred(&got) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(m) => got.push(m),
            Err(_) => break,
        }
    }
    got
}

/// Sends `sig` (`-STOP`, `-CONT`, `-9`, ...) to process `pid`.
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// A `nats-server` with JetStream on a free loopback port, storing in a
/// scratch directory; killed on drop.
pub struct Nats {
    pub child: Child,
    pub url: String,
    pub port: u16,
    pub dir: PathBuf,
}

impl Nats {
    /// Starts Debian's `nats-server` (package `nats-server`) and waits until
    /// it accepts connections.
    pub fn start(dir: &Path) -> Nats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Nats::start_on(dir, port)
    }

    /// SIGKILLs the server and starts it again on the same port and store.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let again = Nats::start_on(&self.dir, self.port);
        *self = again;
    }

    /// As [`Nats::start`], on a given port.
    pub fn start_on(dir: &Path, port: u16) -> Nats {
        let store = dir.join("jetstream");
        std::fs::create_dir_all(&store).unwrap();
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start nats-server ({e}); install it with `apt-get install nats-server`"
                )
            });
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Nats {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            port,
            dir: dir.to_path_buf(),
        }
    }
}

impl Nats {
    /// SIGKILL and reap, leaving the store for a restart.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
