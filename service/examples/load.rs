//! Load measurement for `switchboard-service` on loopback.
//!
//! Starts the built service binary itself (and, for `--backend jetstream`,
//! a `nats-server -js`), posts a seeded stream of valid events for T tenants
//! with C concurrent clients in batches of B events, reads every tenant's
//! decision stream, and prints one line per run: events/s, the POST round
//! trip (the answer comes after the durable commit), the end-to-end decision
//! latency (POST sent → decision on the SSE stream) and the share of server
//! time spent in the engine, from `/metrics`.
//!
//! ```sh
//! cargo build --release -p switchboard-service
//! cargo run --release -p switchboard-service --example load -- --batch 1,10,100 --runs 3
//! ```
//!
//! The run is also a check: every event must be accepted, the decision
//! streams must deliver exactly the inputs that produced decisions, and each
//! tenant's state hash must equal the client's in-process replay; otherwise
//! the tool exits non-zero. The service and nats-server are killed on exit,
//! error or panic.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use switchboard::prelude::*;

/// Where the service keeps its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// The SQLite log in a scratch data directory (WAL, synchronous=FULL).
    Sqlite,
    /// JetStream: the tool starts `nats-server -js` and passes `--nats URL`.
    Jetstream,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Jetstream => "jetstream",
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "load",
    about = "Load measurement for switchboard-service on loopback"
)]
struct Args {
    /// The service's log backend.
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: Backend,
    /// Tenants, each with its own engine and event stream.
    #[arg(long, default_value_t = 4)]
    tenants: usize,
    /// Concurrent clients (default: one per tenant). Each owns whole
    /// tenants, so per-tenant order holds; at most --tenants.
    #[arg(long)]
    clients: Option<usize>,
    /// Events per POST; a comma-separated list runs each size in turn.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    batch: Vec<usize>,
    /// Runs per batch size, each against a fresh service and data dir.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Stop after this many events in all (split over the tenants).
    #[arg(long)]
    events: Option<u64>,
    /// Stop posting after this many seconds (also bounds --events runs).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seed of the event streams (tenant i uses seed + i).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The service binary (default: `switchboard-service` next to this
    /// example's directory, i.e. target/<profile>/).
    #[arg(long)]
    service_bin: Option<PathBuf>,
    /// The nats-server binary, for --backend jetstream.
    #[arg(long, default_value = "nats-server")]
    nats_server: PathBuf,
    /// Print one JSON object per run (JSON lines) instead of the table.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run_all(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_all(args: &Args) -> Result<(), String> {
    let clients = args.clients.unwrap_or(args.tenants);
    if args.tenants == 0 || clients == 0 || clients > args.tenants {
        return Err(format!(
            "need 1 ≤ --clients ≤ --tenants (got {clients} clients, {} tenants): a tenant's events must come from one client to stay in order",
            args.tenants
        ));
    }
    if args.batch.contains(&0) || args.runs == 0 || !args.seconds.is_finite() || args.seconds <= 0.0
    {
        return Err("--batch, --runs and --seconds must be positive".into());
    }
    let bin = service_bin(args)?;
    if !args.json {
        println!(
            "# {} backend, {} tenants, {} clients, {} per run, service {}",
            args.backend.name(),
            args.tenants,
            clients,
            match args.events {
                Some(n) => format!("{n} events (at most {} s)", args.seconds),
                None => format!("{} s", args.seconds),
            },
            bin.display()
        );
        println!(
            "# POST: round trip, answered after the durable commit; e2e: POST sent -> its decisions on the SSE stream"
        );
        println!(
            "# apply: engine time per event, commit: per batch (means from /metrics); in cmt = commit s / (wall s x clients)"
        );
        println!(
            "# eng/wp = engine s / (engine + commit s); eng/wl = engine s / wall s; eng/cp = engine s / service CPU s; srv cpu (service + nats-server) and tool cpu = CPU s / wall s"
        );
        println!("{}", Report::header());
    }
    let mut summary = Vec::new();
    for &batch in &args.batch {
        let mut rates = Vec::new();
        for run in 0..args.runs {
            let cfg = Config {
                backend: args.backend,
                tenants: args.tenants,
                clients,
                batch,
                events: args.events,
                seconds: args.seconds,
                seed: args.seed.wrapping_add(run as u64 * 1_000_003),
            };
            let r = run_once(&bin, &args.nats_server, &cfg)?;
            if args.json {
                println!("{}", r.json(&cfg));
            } else {
                println!("{}", r.row(&cfg));
            }
            rates.push(r.events_per_s());
        }
        summary.push((batch, rates));
    }
    if !args.json && args.runs > 1 {
        for (batch, mut rates) in summary {
            rates.sort_by(f64::total_cmp);
            println!(
                "# batch {batch}: median {:.0} events/s over {} runs (min {:.0}, max {:.0})",
                rates[rates.len() / 2],
                rates.len(),
                rates[0],
                rates[rates.len() - 1]
            );
        }
    }
    Ok(())
}

/// The service binary: `--service-bin`, or next to the examples directory.
fn service_bin(args: &Args) -> Result<PathBuf, String> {
    let path = match &args.service_bin {
        Some(p) => p.clone(),
        None => {
            let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
            let dir = exe
                .parent()
                .and_then(Path::parent)
                .ok_or("cannot find the target directory from current_exe")?;
            dir.join(format!(
                "switchboard-service{}",
                std::env::consts::EXE_SUFFIX
            ))
        }
    };
    if !path.is_file() {
        return Err(format!(
            "service binary {} not found: run `cargo build --release -p switchboard-service` first (or pass --service-bin)",
            path.display()
        ));
    }
    Ok(path)
}

/// One run's parameters.
struct Config {
    backend: Backend,
    tenants: usize,
    clients: usize,
    batch: usize,
    events: Option<u64>,
    seconds: f64,
    seed: u64,
}

// ---------------------------------------------------------------------------
// Processes and scratch space, cleaned up on drop (error and panic included).

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, String> {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "switchboard-load-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("scratch dir {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process SIGKILLed and reaped on drop.
struct Guard(Child);

impl Guard {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Starts `nats-server -js` on a free port; returns it and its URL once it
/// accepts connections.
fn start_nats(bin: &Path, dir: &Path) -> Result<(Guard, String), String> {
    let port = free_port()?;
    let child = Command::new(bin)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {}: {e} (install it, e.g. `apt-get install -y nats-server`, or pass --nats-server)",
                bin.display()
            )
        })?;
    let mut g = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok((g, format!("nats://127.0.0.1:{port}")));
        }
        if let Ok(Some(st)) = g.0.try_wait() {
            return Err(format!("nats-server exited at start: {st}"));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "nats-server did not listen on port {port} within 20 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the service on 127.0.0.1:0 and reads its address from the first
/// stdout line.
fn start_service(bin: &Path, extra: &[String]) -> Result<(Guard, String), String> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let g = Guard(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next());
        // Keep draining so the child never blocks on a full pipe.
        for _ in lines {}
    });
    let line = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Some(Ok(l))) => l,
        _ => return Err("the service exited or did not print its address".into()),
    };
    let addr = line
        .strip_prefix("switchboard-service listening on ")
        .ok_or_else(|| format!("unexpected first line from the service: {line:?}"))?;
    Ok((g, format!("http://{addr}")))
}

/// Process CPU seconds (user + system) from /proc, where there is one.
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, s): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    // USER_HZ is 100 on Linux's supported architectures.
    Some((u + s) / 100.0)
}

// ---------------------------------------------------------------------------
// The event stream: the crash test's generator (tests/crash.rs), stamped with
// the wall clock and driven one event at a time.

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

/// The tests' policy: one chat channel, two tiers, no offers or wrap-up, so
/// the stream arms no timer and the service never inserts a tick.
fn policy() -> Value {
    json!({
        "channels": [{"id": 1, "name": "chat"}],
        "tiers": [
            {"id": 1, "name": "vip", "priority": 1, "first_response_target": 60000},
            {"id": 2, "name": "standard", "priority": 2, "first_response_target": 300000}
        ],
        "skills": [{"id": 1, "name": "billing"}]
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One tenant's generator: operators added and stepping away, conversations
/// arriving, assigned, answered, resolved or abandoned. A mirror engine
/// keeps the stream valid (only accepted events are sent) and gives the
/// seq, the inputs with decisions and the state hash the server must reach.
struct Gen {
    rng: Rng,
    engine: Engine,
    t: u64,
    next_op: u64,
    next_conv: u64,
    live: Vec<u64>,
    ops: Vec<u64>,
    /// Seqs of the inputs that produced decisions.
    with_decisions: Vec<u64>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let policy: Policy = serde_json::from_value(policy()).expect("policy JSON");
        Gen {
            rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            engine: Engine::new(policy).expect("policy"),
            t: 0,
            next_op: 1,
            next_conv: 1,
            live: Vec::new(),
            ops: Vec::new(),
            with_decisions: Vec::new(),
        }
    }

    /// The next accepted event as JSON (now, never before the last one).
    fn next(&mut self) -> Result<String, String> {
        let chat = ChannelId(1);
        loop {
            self.t = self.t.max(now_ms());
            let at = Timestamp(self.t);
            let r = self.rng.below(100);
            let ev = if self.ops.len() < 40 || r < 1 {
                let cap = 1 + self.rng.below(4) as u16;
                self.ops.push(self.next_op);
                self.next_op += 1;
                Event::OperatorAdded {
                    at,
                    operator: OperatorSpec::new(OperatorId(self.next_op - 1))
                        .status(OperatorStatus::Available)
                        .capacity(chat, cap),
                }
            } else if r < 22 {
                self.live.push(self.next_conv);
                self.next_conv += 1;
                let tier = TierId(1 + self.rng.below(2) as u32);
                Event::ConversationArrived {
                    at,
                    conversation: ConversationSpec::new(
                        ConversationId(self.next_conv - 1),
                        chat,
                        tier,
                    ),
                }
            } else if r < 75 && !self.live.is_empty() {
                let i = self.rng.below(self.live.len() as u64) as usize;
                let id = ConversationId(self.live[i]);
                let Some(view) = self.engine.conversation(id) else {
                    self.live.swap_remove(i);
                    continue;
                };
                match view.state {
                    ConversationState::Assigned => Event::FirstResponseSent {
                        at,
                        conversation: id,
                    },
                    ConversationState::Responded => {
                        self.live.swap_remove(i);
                        Event::ConversationResolved {
                            at,
                            conversation: id,
                        }
                    }
                    ConversationState::Waiting if self.rng.below(4) == 0 => {
                        self.live.swap_remove(i);
                        Event::ConversationAbandoned {
                            at,
                            conversation: id,
                        }
                    }
                    _ => Event::Assign { at },
                }
            } else if r < 80 {
                let op = OperatorId(self.ops[self.rng.below(self.ops.len() as u64) as usize]);
                let status = if self.rng.below(3) == 0 {
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
            let json = serde_json::to_string(&ev).map_err(|e| e.to_string())?;
            // A refused candidate is left out, as in the crash test.
            let Ok(ds) = self.engine.apply(ev) else {
                continue;
            };
            // The service drains records after every input; so does the
            // mirror, or the state hashes would differ.
            let _ = self.engine.take_records();
            if !ds.is_empty() {
                self.with_decisions.push(self.engine.inputs_applied());
            }
            if self.engine.next_deadline().is_some() {
                return Err("the generated stream armed a timer; the service would insert ticks and the seqs would no longer match".into());
            }
            return Ok(json);
        }
    }

    fn seq(&self) -> u64 {
        self.engine.inputs_applied()
    }
}

// ---------------------------------------------------------------------------
// One run.

/// A tenant as the tool drives it.
struct TenantLoad {
    id: String,
    key: String,
    stream: Gen,
    quota: u64,
    /// (first_seq, last_seq, when the POST was sent), in order.
    batches: Vec<(u64, u64, Instant)>,
}

/// What a client thread measured.
#[derive(Default)]
struct ClientOut {
    rtts: Vec<Duration>,
    events: u64,
    posts: u64,
}

/// Counter sums over all tenants from `/metrics`.
#[derive(Default, Clone)]
struct Scrape {
    apply_sum: f64,
    apply_count: f64,
    commit_sum: f64,
    commit_count: f64,
    /// The commit histogram's cumulative buckets: (le, count), in order.
    commit_buckets: Vec<(String, f64)>,
}

impl Scrape {
    fn get(agent: &ureq::Agent, base: &str) -> Result<Scrape, String> {
        let (status, text) = get(agent, &format!("{base}/metrics"), None)?;
        if status != 200 {
            return Err(format!("/metrics: {status} {text}"));
        }
        let mut s = Scrape::default();
        for line in text.lines() {
            let Some((name, value)) = line.split_once(' ') else {
                continue;
            };
            let Ok(v) = value.trim().parse::<f64>() else {
                continue;
            };
            let series = name.split('{').next().unwrap_or(name);
            match series {
                "switchboard_apply_seconds_sum" => s.apply_sum += v,
                "switchboard_apply_seconds_count" => s.apply_count += v,
                "switchboard_commit_seconds_sum" => s.commit_sum += v,
                "switchboard_commit_seconds_count" => s.commit_count += v,
                "switchboard_commit_seconds_bucket" => {
                    let le = name
                        .split("le=\"")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        .unwrap_or("")
                        .to_string();
                    match s.commit_buckets.iter_mut().find(|b| b.0 == le) {
                        Some(b) => b.1 += v,
                        None => s.commit_buckets.push((le, v)),
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }

    fn minus(self, o: Scrape) -> Scrape {
        let commit_buckets = self
            .commit_buckets
            .iter()
            .map(|(le, v)| {
                let before = o
                    .commit_buckets
                    .iter()
                    .find(|b| &b.0 == le)
                    .map_or(0.0, |b| b.1);
                (le.clone(), v - before)
            })
            .collect();
        Scrape {
            commit_buckets,
            apply_sum: self.apply_sum - o.apply_sum,
            apply_count: self.apply_count - o.apply_count,
            commit_sum: self.commit_sum - o.commit_sum,
            commit_count: self.commit_count - o.commit_count,
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn get(agent: &ureq::Agent, url: &str, key: Option<&str>) -> Result<(u16, String), String> {
    let mut r = agent.get(url);
    if let Some(k) = key {
        r = r.header("Authorization", format!("Bearer {k}"));
    }
    let mut resp = r.call().map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok((status, body))
}

/// Opens a tenant's decision stream from seq 0; a thread sends (tenant
/// index, input_seq, arrival) for every message until the connection ends.
fn open_stream(
    base: &str,
    tenant: &TenantLoad,
    index: usize,
    tx: mpsc::Sender<(usize, u64, Instant)>,
) -> Result<(), String> {
    let url = format!("{base}/v1/tenants/{}/decisions?after=0", tenant.id);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent
        .get(&url)
        .header("Authorization", format!("Bearer {}", tenant.key))
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    if resp.status().as_u16() != 200 {
        return Err(format!("GET {url}: status {}", resp.status()));
    }
    std::thread::spawn(move || {
        let reader: Box<dyn Read> = Box::new(resp.into_body().into_reader());
        let mut id = None;
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { return };
            if let Some(v) = line.strip_prefix("id: ") {
                id = v.parse().ok();
            } else if line.is_empty() {
                if let Some(seq) = id.take() {
                    if tx.send((index, seq, Instant::now())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(())
}

/// A client: posts its tenants' events round-robin until their quotas are
/// done or the deadline passes.
fn client(
    base: &str,
    mut tenants: Vec<TenantLoad>,
    batch: usize,
    deadline: Instant,
) -> Result<(Vec<TenantLoad>, ClientOut), String> {
    let agent = agent();
    let mut out = ClientOut::default();
    let mut events = Vec::with_capacity(batch);
    'outer: loop {
        let mut any = false;
        for t in tenants.iter_mut() {
            if Instant::now() >= deadline {
                break 'outer;
            }
            let sent_so_far = t.stream.seq();
            if sent_so_far >= t.quota {
                continue;
            }
            any = true;
            let n = (t.quota - sent_so_far).min(batch as u64);
            events.clear();
            let first = t.stream.seq() + 1;
            for _ in 0..n {
                events.push(t.stream.next()?);
            }
            let last = t.stream.seq();
            let body = format!("[{}]", events.join(","));
            let url = format!("{base}/v1/tenants/{}/events", t.id);
            let sent = Instant::now();
            let mut resp = agent
                .post(&url)
                .header("Authorization", format!("Bearer {}", t.key))
                .header("Content-Type", "application/json")
                .send(&body)
                .map_err(|e| format!("POST {url}: {e}"))?;
            let status = resp.status().as_u16();
            let text = resp
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_string()
                .map_err(|e| format!("POST {url}: {e}"))?;
            out.rtts.push(sent.elapsed());
            if status != 200 {
                return Err(format!("POST {url} ({n} events): {status} {text}"));
            }
            let v: Value =
                serde_json::from_str(&text).map_err(|e| format!("POST answer {text:?}: {e}"))?;
            let (f, l) = (v["first_seq"].as_u64(), v["last_seq"].as_u64());
            if (f, l) != (Some(first), Some(last)) {
                return Err(format!(
                    "tenant {}: the server numbered the batch {f:?}..{l:?}, the replay {first}..{last}",
                    t.id
                ));
            }
            t.batches.push((first, last, sent));
            out.events += n;
            out.posts += 1;
        }
        if !any {
            break;
        }
    }
    Ok((tenants, out))
}

/// Exact percentile (nearest rank) of sorted samples.
fn pct(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One run's figures.
struct Report {
    events: u64,
    posts: u64,
    wall: f64,
    rtt: [Duration; 3],
    rtt_sum: Duration,
    e2e: [Duration; 3],
    decision_inputs: usize,
    delta: Scrape,
    server_cpu: Option<f64>,
    nats_cpu: Option<f64>,
    client_cpu: Option<f64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl Report {
    fn events_per_s(&self) -> f64 {
        self.events as f64 / self.wall
    }

    /// Engine seconds ÷ (engine + commit seconds): the engine's part of the
    /// write path the server times.
    fn engine_of_write_path(&self) -> f64 {
        let d = &self.delta;
        d.apply_sum / (d.apply_sum + d.commit_sum)
    }

    /// Engine seconds ÷ wall seconds of the posting phase.
    fn engine_of_wall(&self) -> f64 {
        self.delta.apply_sum / self.wall
    }

    /// Commit seconds ÷ (wall seconds × clients): the share of the clients'
    /// time spent waiting for a commit (near 100 %: commits are the limit).
    fn commit_of_clients(&self, clients: usize) -> f64 {
        self.delta.commit_sum / (self.wall * clients as f64)
    }

    /// Engine seconds ÷ the server process's CPU seconds.
    fn engine_of_cpu(&self) -> Option<f64> {
        self.server_cpu.map(|c| self.delta.apply_sum / c)
    }

    fn header() -> String {
        format!(
            "{:<9} {:>5} {:>8} {:>6} {:>9} | {:>21} | {:>14} | {:>9} {:>9} {:>7} | {:>6} {:>6} {:>6} | {:>7} {:>8}",
            "backend",
            "batch",
            "events",
            "wall s",
            "events/s",
            "POST ms p50/p99/max",
            "e2e ms p50/p99",
            "apply µs",
            "commit ms",
            "in cmt",
            "eng/wp",
            "eng/wl",
            "eng/cp",
            "srv cpu",
            "tool cpu"
        )
    }

    fn row(&self, cfg: &Config) -> String {
        let pc = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
        let cpu = |x: Option<f64>| {
            x.map_or("-".to_string(), |v| {
                format!("{:.0}%", v / self.wall * 100.0)
            })
        };
        let d = &self.delta;
        format!(
            "{:<9} {:>5} {:>8} {:>6.1} {:>9.0} | {:>21} | {:>14} | {:>9.1} {:>9.2} {:>7} | {:>6} {:>6} {:>6} | {:>7} {:>8}",
            cfg.backend.name(),
            cfg.batch,
            self.events,
            self.wall,
            self.events_per_s(),
            format!(
                "{:.2}/{:.2}/{:.1}",
                ms(self.rtt[0]),
                ms(self.rtt[1]),
                ms(self.rtt[2])
            ),
            format!("{:.2}/{:.2}", ms(self.e2e[0]), ms(self.e2e[1])),
            d.apply_sum / d.apply_count.max(1.0) * 1e6,
            d.commit_sum / d.commit_count.max(1.0) * 1e3,
            pc(Some(self.commit_of_clients(cfg.clients))),
            pc(Some(self.engine_of_write_path())),
            pc(Some(self.engine_of_wall())),
            pc(self.engine_of_cpu()),
            cpu(self.server_cpu.map(|s| s + self.nats_cpu.unwrap_or(0.0))),
            cpu(self.client_cpu),
        )
    }

    fn json(&self, cfg: &Config) -> Value {
        let d = &self.delta;
        json!({
            "backend": cfg.backend.name(),
            "tenants": cfg.tenants,
            "clients": cfg.clients,
            "batch": cfg.batch,
            "seed": cfg.seed,
            "events": self.events,
            "posts": self.posts,
            "wall_s": self.wall,
            "events_per_s": self.events_per_s(),
            "post_ms": {
                "p50": ms(self.rtt[0]),
                "p99": ms(self.rtt[1]),
                "max": ms(self.rtt[2]),
                "mean": ms(self.rtt_sum) / self.posts as f64,
            },
            "post_share_of_client_time": self.rtt_sum.as_secs_f64() / (self.wall * cfg.clients as f64),
            "server_cpu_us_per_event": self.server_cpu.map(|c| c / self.events as f64 * 1e6),
            "decision_e2e_ms": {"p50": ms(self.e2e[0]), "p99": ms(self.e2e[1]), "max": ms(self.e2e[2])},
            "inputs_with_decisions": self.decision_inputs,
            "apply_seconds": {"sum": d.apply_sum, "count": d.apply_count},
            "commit_seconds": {
                "sum": d.commit_sum,
                "count": d.commit_count,
                "cumulative_buckets": d.commit_buckets.iter().map(|(le, n)| json!([le, n])).collect::<Vec<_>>(),
            },
            "engine_share_of_apply_plus_commit": self.engine_of_write_path(),
            "engine_share_of_wall": self.engine_of_wall(),
            "engine_share_of_server_cpu": self.engine_of_cpu(),
            "commit_share_of_client_time": self.commit_of_clients(cfg.clients),
            "server_cpu_s": self.server_cpu,
            "nats_cpu_s": self.nats_cpu,
            "tool_cpu_s": self.client_cpu,
        })
    }
}

fn run_once(bin: &Path, nats_bin: &Path, cfg: &Config) -> Result<Report, String> {
    let dir = Scratch::new()?;
    let tenants: Vec<TenantLoad> = (0..cfg.tenants)
        .map(|i| {
            let share = cfg.events.map_or(u64::MAX, |n| {
                n / cfg.tenants as u64 + u64::from((i as u64) < n % cfg.tenants as u64)
            });
            TenantLoad {
                id: format!("t{i}"),
                key: format!("load-key-{i}"),
                stream: Gen::new(cfg.seed.wrapping_add(i as u64)),
                quota: share,
                batches: Vec::new(),
            }
        })
        .collect();
    let list: Vec<Value> = tenants
        .iter()
        .map(|t| json!({"id": t.id, "api_key": t.key, "policy": policy()}))
        .collect();
    let tenants_path = dir.0.join("tenants.json");
    std::fs::write(&tenants_path, serde_json::to_string(&list).unwrap())
        .map_err(|e| format!("tenants file: {e}"))?;

    let mut extra: Vec<String> = vec![
        "--data".into(),
        dir.0.join("data").display().to_string(),
        "--tenants".into(),
        tenants_path.display().to_string(),
        // Not rate-limited: the tool measures the service, not its limits.
        "--rate".into(),
        "1000000000".into(),
        "--burst".into(),
        "1000000000".into(),
    ];
    // Declared before the service so it is dropped (killed) after it.
    let mut nats = None;
    if cfg.backend == Backend::Jetstream {
        let sd = dir.0.join("jetstream");
        let (g, url) = start_nats(nats_bin, &sd)?;
        nats = Some(g);
        extra.push("--nats".into());
        extra.push(url);
    }
    let (service, base) = start_service(bin, &extra)?;
    let agent = agent();
    // On JetStream the instance serves a tenant once it holds its lease and
    // has recovered it (503 until then).
    let ready_by = Instant::now() + Duration::from_secs(30);
    for t in &tenants {
        loop {
            let (status, body) = get(
                &agent,
                &format!("{base}/v1/tenants/{}/status", t.id),
                Some(&t.key),
            )?;
            match status {
                200 => break,
                503 if Instant::now() < ready_by => std::thread::sleep(Duration::from_millis(20)),
                _ => return Err(format!("tenant {} not served: {status} {body}", t.id)),
            }
        }
    }

    let (tx, rx) = mpsc::channel();
    for (i, t) in tenants.iter().enumerate() {
        open_stream(&base, t, i, tx.clone())?;
    }
    drop(tx);

    let before = Scrape::get(&agent, &base)?;
    let cpu0 = cpu_seconds(Some(service.pid()));
    let nats0 = nats.as_ref().and_then(|g| cpu_seconds(Some(g.pid())));
    let tool0 = cpu_seconds(None);

    // Client c owns tenants c, c + C, c + 2C, ...
    let mut owned: Vec<Vec<TenantLoad>> = (0..cfg.clients).map(|_| Vec::new()).collect();
    for (i, t) in tenants.into_iter().enumerate() {
        owned[i % cfg.clients].push(t);
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    let results: Vec<Result<(Vec<TenantLoad>, ClientOut), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = owned
            .into_iter()
            .map(|ts| {
                let base = &base;
                s.spawn(move || client(base, ts, cfg.batch, deadline))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a client panicked".into())))
            .collect()
    });
    let wall = start.elapsed().as_secs_f64();
    let cpu1 = cpu_seconds(Some(service.pid()));
    let nats1 = nats.as_ref().and_then(|g| cpu_seconds(Some(g.pid())));
    let tool1 = cpu_seconds(None);
    let after = Scrape::get(&agent, &base)?;

    let mut tenants = Vec::new();
    let mut rtts = Vec::new();
    let (mut events, mut posts) = (0, 0);
    for r in results {
        let (ts, out) = r?;
        tenants.extend(ts);
        rtts.extend(out.rtts);
        events += out.events;
        posts += out.posts;
    }
    tenants.sort_by_key(|t| t.id[1..].parse::<usize>().unwrap_or(0));

    // Every input with decisions must arrive on its tenant's stream, once.
    let mut arrived: Vec<Vec<(u64, Instant)>> = vec![Vec::new(); tenants.len()];
    let want: usize = tenants.iter().map(|t| t.stream.with_decisions.len()).sum();
    let mut got = 0;
    let wait_until = Instant::now() + Duration::from_secs(30);
    while got < want {
        let left = wait_until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, seq, at)) => {
                arrived[i].push((seq, at));
                got += 1;
            }
            Err(_) => break,
        }
    }
    let mut e2e = Vec::with_capacity(want);
    for (t, seen) in tenants.iter().zip(&arrived) {
        let seqs: Vec<u64> = seen.iter().map(|a| a.0).collect();
        if seqs != t.stream.with_decisions {
            return Err(format!(
                "tenant {}: the decision stream delivered {} inputs, the replay has {} with decisions (or a different order)",
                t.id,
                seqs.len(),
                t.stream.with_decisions.len()
            ));
        }
        for &(seq, at) in seen {
            let i = t.batches.partition_point(|b| b.1 < seq);
            let (first, last, sent) = t.batches[i];
            debug_assert!(first <= seq && seq <= last);
            e2e.push(at.saturating_duration_since(sent));
        }
        // The server's state must be the replay's.
        let (status, body) = get(
            &agent,
            &format!("{base}/v1/tenants/{}/status", t.id),
            Some(&t.key),
        )?;
        let st: Value = serde_json::from_str(&body).map_err(|e| format!("status {body:?}: {e}"))?;
        if status != 200
            || st["last_seq"].as_u64() != Some(t.stream.seq())
            || st["state_hash"] != format!("{:016x}", t.stream.engine.state_hash())
        {
            return Err(format!(
                "tenant {}: server status {body} differs from the replay (seq {}, hash {:016x})",
                t.id,
                t.stream.seq(),
                t.stream.engine.state_hash()
            ));
        }
    }
    drop(service);
    drop(nats);

    if events == 0 {
        return Err("no event was posted".into());
    }
    rtts.sort();
    e2e.sort();
    let diff = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
    Ok(Report {
        events,
        posts,
        wall,
        rtt: [pct(&rtts, 0.5), pct(&rtts, 0.99), pct(&rtts, 1.0)],
        rtt_sum: rtts.iter().sum(),
        e2e: [pct(&e2e, 0.5), pct(&e2e, 0.99), pct(&e2e, 1.0)],
        decision_inputs: want,
        delta: after.minus(before),
        server_cpu: diff(cpu0, cpu1),
        nats_cpu: diff(nats0, nats1),
        client_cpu: diff(tool0, tool1),
    })
}
