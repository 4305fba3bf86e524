//! The HTTP/JSON API: authentication, limits, the routes and their errors.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard::kpi::{KpiAccumulator, KpiConfig, KpiError, Period};
use switchboard::record::{ConversationRecord, StatusInterval};
use switchboard::{ConversationId, Event, Timestamp};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::cluster::{Cluster, Served};
use crate::log::Reader;
use crate::store;
use crate::tenant::{PostError, Tenant};

/// A client's allowance: `rate` requests a second, `burst` at once.
pub struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Everything the handlers share.
pub struct App {
    /// The tenants this instance serves now, by name.
    pub tenants: Arc<Served>,
    /// Every tenant's API key by tenant name (served here or not).
    pub api_keys: HashMap<String, String>,
    /// Tenant name by API key, to tell "another tenant's key" (403) from
    /// "no such key" (401).
    pub keys: HashMap<String, String>,
    /// Where streams and queries read the logs.
    pub reader: Reader,
    /// The other instances, when tenants are shared over JetStream.
    pub cluster: Option<Arc<Cluster>>,
    /// Requests per second per tenant, and the burst allowed.
    pub rate: f64,
    /// See `rate`.
    pub burst: f64,
    /// One bucket per tenant.
    pub buckets: HashMap<String, Mutex<Bucket>>,
    /// Open decision streams per tenant, and the most allowed.
    pub streams: HashMap<String, AtomicUsize>,
    /// See `streams`.
    pub max_streams: usize,
    /// Bearer token `/metrics` asks for, if set.
    pub metrics_token: Option<String>,
    /// Turns true on shutdown, so open streams end and the server can stop
    /// (a graceful shutdown waits for every connection).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// Why a request failed; the status code and the text a client gets.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer` header.
    #[error("missing `Authorization: Bearer <api key>` header")]
    NoKey,
    /// The key is nobody's.
    #[error("the API key is not valid")]
    BadKey,
    /// No tenant by that name.
    #[error("unknown tenant {0:?}")]
    UnknownTenant(String),
    /// Another tenant's key.
    #[error("this API key is not allowed for tenant {0:?}")]
    Forbidden(String),
    /// Over the tenant's request rate.
    #[error("too many requests for tenant {0:?}; retry later")]
    Limited(String),
    /// Too many open decision streams.
    #[error("too many open decision streams for tenant {0:?}")]
    TooManyStreams(String),
    /// The body, query or path could not be read (too large, not a
    /// number, ...).
    #[error("bad request: {1}")]
    Body(StatusCode, String),
    /// The body is not JSON of an event or an array of events.
    #[error("malformed event JSON: {0}")]
    BadJson(serde_json::Error),
    /// The engine refused an event, or the commit failed.
    #[error(transparent)]
    Post(#[from] PostError),
    /// A stream asked to resume after an input the server does not hold
    /// (its data was lost or belongs to another deployment).
    #[error("after={after} is beyond the last input this server holds ({held})")]
    AfterBeyond {
        /// What the client asked for.
        after: u64,
        /// The tenant's last input_seq.
        held: u64,
    },
    /// Another instance serves the tenant: the client asks it instead.
    #[error("tenant {tenant:?} is served by another instance, at {owner}")]
    Elsewhere {
        /// The tenant.
        tenant: String,
        /// The owner's URL.
        owner: String,
    },
    /// No instance serves the tenant right now (it is being taken over).
    #[error("tenant {0:?} is being taken over by another instance; retry shortly")]
    Unavailable(String),
    /// Too many requests in flight on the whole server.
    #[error("the server is busy; retry later")]
    Busy,
    /// No waiting conversation by that id.
    #[error("conversation {0} is not waiting in a queue")]
    NotWaiting(u64),
    /// A query parameter was refused.
    #[error("bad query: {0}")]
    Kpi(#[from] KpiError),
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A stored record no longer parses, or a worker failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NoKey | ApiError::BadKey => StatusCode::UNAUTHORIZED,
            ApiError::UnknownTenant(_) | ApiError::NotWaiting(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Limited(_) | ApiError::TooManyStreams(_) | ApiError::Busy => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::AfterBeyond { .. } => StatusCode::CONFLICT,
            ApiError::Elsewhere { .. } => StatusCode::MISDIRECTED_REQUEST,
            ApiError::Unavailable(_) | ApiError::Post(PostError::Moved(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Body(s, _) => *s,
            ApiError::BadJson(_) | ApiError::Kpi(_) => StatusCode::BAD_REQUEST,
            ApiError::Post(PostError::Refused { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Post(PostError::Empty) => StatusCode::BAD_REQUEST,
            ApiError::Post(PostError::Store(store::StoreError::TooLarge { .. })) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Post(PostError::Store(store::StoreError::Unconfirmed { .. })) => {
                StatusCode::GATEWAY_TIMEOUT
            }
            ApiError::Post(PostError::Store(_) | PostError::Broken(_)) | ApiError::Store(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Post(PostError::Encode(_)) | ApiError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.to_string() });
        if let ApiError::Post(PostError::Refused { index, .. }) = &self {
            body["index"] = json!(index);
        }
        let mut headers = HeaderMap::new();
        if let ApiError::Elsewhere { owner, .. } = &self {
            body["owner"] = json!(owner);
        }
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        (self.status(), headers, Json(body)).into_response()
    }
}

impl App {
    /// Checks the bearer key against the tenant named in the path, then its
    /// request allowance.
    async fn auth(&self, headers: &HeaderMap, tenant: &str) -> Result<Arc<Tenant>, ApiError> {
        let key = bearer(headers).ok_or(ApiError::NoKey)?;
        let api_key = self
            .api_keys
            .get(tenant)
            .ok_or_else(|| ApiError::UnknownTenant(tenant.to_string()))?;
        let served = self
            .tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
            .cloned();
        if key != api_key {
            return match self.keys.get(key) {
                Some(owner) => {
                    tracing::warn!(tenant, key_of = %owner, "refused: another tenant's API key");
                    if let Some(t) = &served {
                        t.metrics.inc_forbidden();
                    }
                    Err(ApiError::Forbidden(tenant.to_string()))
                }
                None => Err(ApiError::BadKey),
            };
        }
        let Some(t) = served else {
            let owner = match &self.cluster {
                Some(c) => c.owner_url(tenant).await.filter(|u| *u != c.url),
                None => None,
            };
            return Err(match owner {
                Some(owner) => ApiError::Elsewhere {
                    tenant: tenant.to_string(),
                    owner,
                },
                None => ApiError::Unavailable(tenant.to_string()),
            });
        };
        if let Some(b) = self.buckets.get(tenant) {
            let mut b = b.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let refill = now.duration_since(b.last).as_secs_f64() * self.rate;
            b.tokens = (b.tokens + refill).min(self.burst);
            b.last = now;
            if b.tokens < 1.0 {
                t.metrics.inc_limited();
                return Err(ApiError::Limited(tenant.to_string()));
            }
            b.tokens -= 1.0;
        }
        Ok(t.clone())
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// A full bucket for a tenant.
pub fn bucket(burst: f64) -> Mutex<Bucket> {
    Mutex::new(Bucket {
        tokens: burst,
        last: Instant::now(),
    })
}

/// Refuses a request with 429 when `max` are already being handled, so a
/// flood (even of unauthenticated requests) queues nothing unbounded.
async fn in_flight(
    State(sem): State<Arc<Semaphore>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match sem.try_acquire() {
        Ok(_permit) => next.run(req).await,
        Err(_) => ApiError::Busy.into_response(),
    }
}

/// Builds the router with the body limit and the in-flight limit in front
/// of every route.
pub fn router(app: Arc<App>, max_body: usize, max_in_flight: usize) -> Router {
    let sem = Arc::new(Semaphore::new(max_in_flight));
    Router::new()
        .route("/v1/tenants/{tenant}/events", post(post_events))
        .route("/v1/tenants/{tenant}/decisions", get(decisions))
        .route("/v1/tenants/{tenant}/status", get(status))
        .route("/v1/tenants/{tenant}/log", get(log))
        .route("/v1/tenants/{tenant}/wallboard", get(wallboard))
        .route(
            "/v1/tenants/{tenant}/conversations/{id}/queue",
            get(queue_status),
        )
        .route("/v1/tenants/{tenant}/kpi", get(kpi))
        .route("/board", get(crate::board::page))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(sem, in_flight))
        .with_state(app)
}

/// Runs blocking work (engine + SQLite) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
}

/// `POST /v1/tenants/{t}/events`: one event object or an array of them.
async fn post_events(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let t = app.auth(&headers, &tenant).await?;
    let body = body.map_err(|r| ApiError::Body(r.status(), r.body_text()))?;
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let events: Vec<Event> = if first == Some(&b'[') {
        serde_json::from_slice(&body).map_err(ApiError::BadJson)?
    } else {
        vec![serde_json::from_slice(&body).map_err(ApiError::BadJson)?]
    };
    let ack = blocking(move || Ok(t.post(events)?))
        .await
        .inspect_err(|e| {
            if let ApiError::Post(PostError::Refused { index, source }) = e {
                tracing::info!(tenant, index, error = %source, "event refused");
            }
        })?;
    let decisions = ack.decisions.join(",");
    let body = format!(
        r#"{{"first_seq":{},"last_seq":{},"decisions":[{decisions}]}}"#,
        ack.first_seq, ack.last_seq
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Deserialize)]
struct After {
    after: Option<u64>,
}

/// Decrements a tenant's open-stream count when a stream ends.
struct StreamSlot(Arc<App>, String);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Some(n) = self.0.streams.get(&self.1) {
            n.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// `GET /v1/tenants/{t}/decisions?after=SEQ`: server-sent events, one per
/// input that produced decisions (`id` = its input_seq, data = the JSON
/// array of its decisions): first those stored after SEQ, then live ones.
/// `Last-Event-ID` is honoured when `after` is absent; with neither, the
/// stream starts with the next decision.
async fn decisions(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    q: Result<Query<After>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = app.auth(&headers, &tenant).await?;
    let Query(q) = q.map_err(|r| ApiError::Body(r.status(), r.body_text()))?;
    let after = q.after.or_else(|| {
        headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    });
    // Subscribe before reading the table: whatever commits from now on is
    // in the channel, whatever committed before is in the table.
    let mut rx = t.live.subscribe();
    let held = t.last_seq();
    // Without a position, only what comes next.
    let mut pos = after.unwrap_or(held);
    if pos > held {
        return Err(ApiError::AfterBeyond { after: pos, held });
    }
    let open = app
        .streams
        .get(&tenant)
        .map_or(0, |n| n.fetch_add(1, Ordering::Relaxed));
    let slot = StreamSlot(app.clone(), tenant.clone());
    if open >= app.max_streams {
        return Err(ApiError::TooManyStreams(tenant));
    }
    let mut stored = app.reader.decisions();
    let mut stop = app.shutdown.clone();
    let mut retired = t.retired.subscribe();
    let (tx, out) = mpsc::channel::<Result<SseEvent, Infallible>>(64);
    tokio::spawn(async move {
        let _slot = slot;
        loop {
            // Catch up from the log.
            loop {
                let rows = match stored.next_page(&tenant, pos, 256).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::warn!(tenant, error = %e, "decision stream ended");
                        return;
                    }
                };
                if rows.is_empty() {
                    break;
                }
                for (seq, ds) in rows {
                    let ev = SseEvent::default()
                        .event("decisions")
                        .id(seq.to_string())
                        .data(format!("[{}]", ds.join(",")));
                    if tx.send(Ok(ev)).await.is_err() {
                        return;
                    }
                    pos = seq;
                }
            }
            // Then live, skipping what the table already gave.
            loop {
                let msg = tokio::select! {
                    m = rx.recv() => m,
                    () = tx.closed() => return,
                    _ = stop.wait_for(|s| *s) => return,
                    // Served elsewhere now: the client reconnects there.
                    _ = retired.wait_for(|r| *r) => return,
                };
                match msg {
                    Ok(batch) => {
                        for l in batch.iter() {
                            if l.seq <= pos {
                                continue;
                            }
                            let ev = SseEvent::default()
                                .event("decisions")
                                .id(l.seq.to_string())
                                .data(l.json.as_ref());
                            if tx.send(Ok(ev)).await.is_err() {
                                return;
                            }
                            pos = l.seq;
                        }
                    }
                    // Fell behind the channel: the table has everything.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        t.metrics.inc_resync();
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(out))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// `GET /v1/tenants/{t}/status`: what the server holds, for a client
/// resuming after a reconnect or a restart.
async fn status(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = app.auth(&headers, &tenant).await?;
    blocking(move || {
        let core = t.lock();
        // A tenant whose state could not be read back answers nothing about
        // it until it has been recovered.
        if core.broken.is_some() {
            return Err(ApiError::Unavailable(t.id.clone()));
        }
        let e = &core.engine;
        let log_events = core.log.event_count(&t.id)?;
        Ok(Json(json!({
            "tenant": t.id,
            "log_events": log_events,
            "last_seq": e.inputs_applied(),
            "state_hash": format!("{:016x}", e.state_hash()),
            "now": e.now(),
            "next_deadline": e.next_deadline(),
            "snapshot_seq": core.last_snapshot,
        }))
        .into_response())
    })
    .await
}

#[derive(Deserialize)]
struct LogQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/tenants/{t}/log?after=SEQ&limit=N`: the logged events after a
/// seq (at most 10,000 per call), so a client whose post went unanswered
/// can see whether its batch is in, timer ticks included.
async fn log(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    q: Result<Query<LogQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = app.auth(&headers, &tenant).await?;
    let Query(q) = q.map_err(|r| ApiError::Body(r.status(), r.body_text()))?;
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(1000).min(10_000));
    let rows = app.reader.events_after(&t.id, after, limit).await?;
    let items: Vec<String> = rows
        .iter()
        .map(|(seq, e)| format!(r#"{{"seq":{seq},"event":{e}}}"#))
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        format!("[{}]", items.join(",")),
    )
        .into_response())
}

/// `GET /v1/tenants/{t}/wallboard`: the real-time picture, waiting per
/// tier, and the wall board's per-tier and per-route figures.
async fn wallboard(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = app.auth(&headers, &tenant).await?;
    blocking(move || {
        let core = t.lock();
        let e = &core.engine;
        let rt = e.real_time();
        let (by_tier, by_route) = crate::board::figures(e, &rt);
        // The older, shorter form of the same counts, by tier id (one walk
        // of the waiting conversations serves both).
        let mut tiers: Vec<Value> = by_tier
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| json!({"tier": t["tier"], "waiting": t["waiting"]}))
            .collect();
        tiers.sort_by_key(|t| t["tier"].as_u64());
        Ok(Json(json!({ "real_time": rt, "waiting_per_tier": tiers,
            "by_tier": by_tier, "by_route": by_route }))
        .into_response())
    })
    .await
}

/// `GET /v1/tenants/{t}/conversations/{id}/queue`: where a waiting
/// conversation stands.
async fn queue_status(
    State(app): State<Arc<App>>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = app.auth(&headers, &tenant).await?;
    let id: u64 = id.parse().map_err(|_| {
        ApiError::Body(
            StatusCode::BAD_REQUEST,
            format!("conversation id {id:?} is not a non-negative integer"),
        )
    })?;
    blocking(move || {
        let core = t.lock();
        match core.engine.queue_status(ConversationId(id)) {
            Some(q) => Ok(Json(q).into_response()),
            None => Err(ApiError::NotWaiting(id)),
        }
    })
    .await
}

#[derive(Deserialize)]
struct KpiQuery {
    from: Option<u64>,
    to: Option<u64>,
}

/// `GET /v1/tenants/{t}/kpi?from=MS&to=MS`: the KPI report over the
/// tenant's stored lifecycle records, recomputed per request (records with
/// `asked_at` in [from, to); occupancy clipped to it).
async fn kpi(
    State(app): State<Arc<App>>,
    Path(tenant): Path<String>,
    q: Result<Query<KpiQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = app.auth(&headers, &tenant).await?;
    let Query(q) = q.map_err(|r| ApiError::Body(r.status(), r.body_text()))?;
    let period = match (q.from, q.to) {
        (None, None) => None,
        (from, to) => Some(Period::new(
            Timestamp(from.unwrap_or(0)),
            Timestamp(to.unwrap_or(Timestamp::MAX.0)),
        )?),
    };
    let config = KpiConfig {
        period,
        ..KpiConfig::default()
    };
    let acc = KpiAccumulator::new(config)?;
    let acc = app
        .reader
        .fold_records(&t.id, acc, |acc, kind, json| {
            match kind {
                "conversation" => {
                    let r: ConversationRecord =
                        serde_json::from_str(json).map_err(|e| e.to_string())?;
                    acc.push(&r).map_err(|e| e.to_string())
                }
                "status_interval" => {
                    let s: StatusInterval =
                        serde_json::from_str(json).map_err(|e| e.to_string())?;
                    acc.push_status(&s).map_err(|e| e.to_string())
                }
                // Bot-only conversations carry no operator KPI.
                _ => Ok(()),
            }
        })
        .await?
        .map_err(|e| ApiError::Internal(format!("stored record: {e}")))?;
    Ok(Json(acc.report()).into_response())
}

/// `GET /metrics`: Prometheus text, every tenant labelled.
async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(tok) = &app.metrics_token {
        match bearer(&headers) {
            None => return Err(ApiError::NoKey),
            Some(k) if k != tok => return Err(ApiError::BadKey),
            Some(_) => {}
        }
    }
    blocking(move || {
        let mut served: Vec<(String, Arc<Tenant>)> = app
            .tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect();
        served.sort_by(|a, b| a.0.cmp(&b.0));
        let guards: Vec<_> = served
            .iter()
            .map(|(n, t)| (n.as_str(), t, t.lock()))
            .collect();
        let text =
            crate::metrics::render(guards.iter().map(|(n, t, g)| (*n, &g.engine, &t.metrics)));
        drop(guards);
        Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
    })
    .await
}
