//! `switchboard-service`: one routing engine per tenant behind HTTP/JSON,
//! every accepted event committed to a log before it is acknowledged: SQLite
//! by default, or NATS JetStream shared by several instances (`--nats`).
//! See `service/README.md` for the API and the failure model.

mod board;
mod cluster;
mod http;
mod jetstream;
mod log;
mod metrics;
mod store;
mod tenant;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::serve::ListenerExt;
use clap::Parser;

use crate::cluster::{Cluster, Start};
use crate::http::App;
use crate::jetstream::Js;
use crate::log::{Reader, Writer};
use crate::tenant::{Tenant, TenantConfig};

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(name = "switchboard-service", version, about)]
struct Args {
    /// Directory for the database (created if missing); not used with
    /// `--nats`.
    #[arg(long, default_value = "./switchboard-data")]
    data: PathBuf,
    /// Keep the logs on NATS JetStream at this URL instead of SQLite, and
    /// share the tenants with every instance pointed at the same server.
    #[arg(long)]
    nats: Option<String>,
    /// This instance's name among the others (default: host name and
    /// process id).
    #[arg(long)]
    instance: Option<String>,
    /// The URL clients reach this instance at, given to them when they ask
    /// another instance for one of its tenants (default: http:// and the
    /// listening address).
    #[arg(long)]
    advertise: Option<String>,
    /// Milliseconds an instance's lease on a tenant lives without renewal:
    /// how long its tenants wait after it dies before another takes them.
    #[arg(long, default_value_t = 5_000)]
    lease_ms: u64,
    /// JSON file: an array of {"id", "api_key", "policy"}.
    #[arg(long)]
    tenants: PathBuf,
    /// Address to listen on; port 0 picks a free one (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Store a snapshot after this many events per tenant (start-up then
    /// replays at most this many).
    #[arg(long, default_value_t = 10_000)]
    snapshot_every: u64,
    /// Largest request body in bytes; larger gets 413.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body: usize,
    /// Requests per second allowed per tenant; over it gets 429.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Requests a tenant may make at once before the rate applies.
    #[arg(long, default_value_t = 400.0)]
    burst: f64,
    /// Open decision streams allowed per tenant.
    #[arg(long, default_value_t = 64)]
    max_streams: usize,
    /// Requests handled at once on the whole server; more get 429.
    #[arg(long, default_value_t = 1024)]
    max_in_flight: usize,
    /// Batches kept for live decision streams; a stream further behind
    /// catches up from the database instead.
    #[arg(long, default_value_t = 1024)]
    stream_buffer: usize,
    /// Bearer token `/metrics` requires (default: none, for a scraper on a
    /// private network).
    #[arg(long)]
    metrics_token: Option<String>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("cannot read tenants file {path}: {source}")]
    TenantsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tenants file {path}: {source}")]
    TenantsJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("tenants file: {0}")]
    Tenants(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Recover(#[from] log::RecoverError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard-service: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard-service: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), StartError> {
    let text =
        std::fs::read_to_string(&args.tenants).map_err(|source| StartError::TenantsFile {
            path: args.tenants.clone(),
            source,
        })?;
    let configs: Vec<TenantConfig> =
        serde_json::from_str(&text).map_err(|source| StartError::TenantsJson {
            path: args.tenants.clone(),
            source,
        })?;
    let mut keys = HashMap::new();
    let mut api_keys = HashMap::new();
    for c in &configs {
        if c.id.is_empty()
            || c.id.len() > 64
            || !c
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(StartError::Tenants(format!(
                "tenant id {:?}: use 1 to 64 ASCII letters, digits, '-' or '_' (it is a URL segment and a log subject)",
                c.id
            )));
        }
        if c.api_key.is_empty() {
            return Err(StartError::Tenants(format!(
                "tenant {:?} needs a non-empty api_key",
                c.id
            )));
        }
        if let Some(other) = keys.insert(c.api_key.clone(), c.id.clone()) {
            return Err(StartError::Tenants(format!(
                "tenants {other:?} and {:?} share an api_key",
                c.id
            )));
        }
        if api_keys.insert(c.id.clone(), c.api_key.clone()).is_some() {
            return Err(StartError::Tenants(format!(
                "tenant {:?} listed twice",
                c.id
            )));
        }
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: args.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let served: Arc<cluster::Served> = Arc::new(RwLock::new(HashMap::new()));
    let (reader, cluster) = match &args.nats {
        None => {
            std::fs::create_dir_all(&args.data).map_err(|source| StartError::DataDir {
                path: args.data.clone(),
                source,
            })?;
            let db = args.data.join("switchboard.sqlite3");
            store::migrate(&store::open(&db)?)?;
            let mut map = served.write().unwrap_or_else(|p| p.into_inner());
            for c in configs {
                let started = std::time::Instant::now();
                let id = c.id.clone();
                let writer = Writer::Sqlite(store::open(&db)?);
                let t = Tenant::open(c, writer, args.snapshot_every, args.stream_buffer)?;
                let seq = t.lock().engine.inputs_applied();
                tracing::info!(tenant = %id, seq, ms = started.elapsed().as_millis() as u64, "tenant recovered");
                let t = Arc::new(t);
                tokio::spawn(tenant::run_timer(t.clone()));
                map.insert(id, t);
            }
            (Reader::Sqlite(db), None)
        }
        Some(url) => {
            let js = Js::connect(url).await?;
            let me = args
                .instance
                .clone()
                .unwrap_or_else(|| format!("{}-{}", host_name(), std::process::id()));
            let advertise = args
                .advertise
                .clone()
                .unwrap_or_else(|| format!("http://{addr}"));
            let lease = Duration::from_millis(args.lease_ms.max(300));
            let cluster = Arc::new(Cluster::join(js.clone(), me, advertise, lease).await?);
            tokio::spawn(cluster.clone().run_membership());
            let start = Arc::new(Start {
                snapshot_every: args.snapshot_every,
                stream_buffer: args.stream_buffer,
            });
            for c in configs {
                tokio::spawn(cluster::run_tenant(
                    cluster.clone(),
                    served.clone(),
                    c,
                    start.clone(),
                ));
            }
            (Reader::JetStream(js), Some(cluster))
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = Arc::new(App {
        buckets: api_keys
            .keys()
            .map(|k| (k.clone(), http::bucket(args.burst)))
            .collect(),
        streams: api_keys
            .keys()
            .map(|k| (k.clone(), AtomicUsize::new(0)))
            .collect(),
        tenants: served,
        api_keys,
        keys,
        reader,
        cluster,
        rate: args.rate,
        burst: args.burst,
        max_streams: args.max_streams,
        metrics_token: args.metrics_token,
        shutdown: stop_rx,
    });
    // On stdout, for scripts and tests started with port 0.
    println!("switchboard-service listening on {addr}");
    tracing::info!(%addr, "listening");
    // No Nagle: a decision on a stream is a small write that must leave now,
    // not wait for the client's delayed ACK (40 ms on Linux).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        http::router(app, args.max_body, args.max_in_flight.max(1)),
    )
    .with_graceful_shutdown(async move {
        stop_signal().await;
        tracing::info!("stopping");
        let _ = stop_tx.send(true);
    })
    .await
    .map_err(StartError::Serve)
}

/// The machine's name, for a default instance id.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "switchboard".into())
}

/// Ctrl-C, or SIGTERM where there is one. Stopping needs no flush: every
/// acknowledged event is already committed.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
