//! One tenant: its engine, its write path (apply, then commit, then
//! acknowledge), its recovery, its timer and its counters.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use serde::Deserialize;
use switchboard::engine::{Snapshot, SnapshotError};
use switchboard::policy::Policy;
use switchboard::{Engine, EngineError, Event, PolicyError, Timestamp};
use tokio::sync::{Notify, broadcast};

use crate::metrics::Metrics;
use crate::store::{self, Accepted, StoreError};

/// A tenant as the tenants file lists it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant's name, as it appears in URLs.
    pub id: String,
    /// The bearer token its clients present.
    pub api_key: String,
    /// The policy its log starts from.
    pub policy: Policy,
}

/// Why a tenant could not be brought back from the database.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// Reading the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored snapshot could not be decoded or restored.
    #[error("tenant {tenant:?}: snapshot at seq {seq} unusable: {source}")]
    Snapshot {
        /// The tenant.
        tenant: String,
        /// The snapshot's seq.
        seq: u64,
        /// Why.
        source: SnapshotError,
    },
    /// The policy was refused by the engine.
    #[error("tenant {tenant:?}: policy refused: {source}")]
    Policy {
        /// The tenant.
        tenant: String,
        /// Why.
        source: PolicyError,
    },
    /// The policy could not be written as JSON to be stored.
    #[error("tenant {tenant:?}: policy cannot be encoded: {source}")]
    PolicyEncode {
        /// The tenant.
        tenant: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The tenants file's policy is not the one the stored log began with;
    /// replaying the log under another policy would give another state.
    #[error(
        "tenant {tenant:?}: the policy in the tenants file differs from the one its log started with; keep the original and post a policy_changed event instead"
    )]
    PolicyDiffers {
        /// The tenant.
        tenant: String,
    },
    /// A logged event no longer parses.
    #[error("tenant {tenant:?}: logged event {seq} does not parse: {source}")]
    BadLogEvent {
        /// The tenant.
        tenant: String,
        /// Its seq.
        seq: u64,
        /// Why.
        source: serde_json::Error,
    },
    /// A logged event was refused on replay (it was accepted when logged,
    /// so the log or the engine version changed).
    #[error("tenant {tenant:?}: logged event {seq} refused on replay: {source}")]
    Refused {
        /// The tenant.
        tenant: String,
        /// Its seq.
        seq: u64,
        /// Why.
        source: EngineError,
    },
    /// The log's numbering does not follow the engine's input count.
    #[error("tenant {tenant:?}: log seq {found} where the engine expected {expected}")]
    SeqGap {
        /// The tenant.
        tenant: String,
        /// The engine's next input_seq.
        expected: u64,
        /// The logged one.
        found: u64,
    },
}

/// Why a posted batch was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// The engine refused event `index` of the batch; nothing of the batch
    /// was applied or logged.
    #[error("event {index} refused: {source}")]
    Refused {
        /// 0-based position in the batch.
        index: usize,
        /// The engine's reason.
        source: EngineError,
    },
    /// The batch was empty.
    #[error("the batch holds no event")]
    Empty,
    /// The commit failed: nothing was acknowledged and the engine was
    /// rebuilt from the database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The commit failed and rebuilding from the database failed too; the
    /// tenant refuses writes until restarted.
    #[error("tenant state lost after a failed commit: {0}")]
    Broken(String),
    /// Serialising an accepted event or decision failed (a bug, not input).
    #[error("encoding to JSON failed: {0}")]
    Encode(#[from] serde_json::Error),
}

/// One input's decisions on their way to live streams.
#[derive(Debug, Clone)]
pub struct Live {
    /// The input that produced them.
    pub seq: u64,
    /// The decisions as one JSON array.
    pub json: Arc<str>,
}

/// What an acknowledged batch answers.
pub struct Acked {
    /// Seq of the first event of the batch.
    pub first_seq: u64,
    /// Seq of the last.
    pub last_seq: u64,
    /// Every decision of the batch, in order.
    pub decisions: Vec<Arc<str>>,
}

/// A batch applied in memory: the rows to write, the messages for live
/// streams, and every decision for the answer.
type Applied = (Vec<Accepted>, Vec<Live>, Vec<Arc<str>>);

/// What the write lock guards.
pub struct Core {
    /// The engine; always equal to snapshot + replay of the committed log.
    pub engine: Engine,
    /// This tenant's connection (the writer).
    pub conn: Connection,
    /// Seq of the last stored snapshot.
    pub last_snapshot: u64,
    /// Set when a failed commit could not be undone; writes are refused.
    pub broken: Option<String>,
}

/// One tenant.
pub struct Tenant {
    /// Its name.
    pub id: String,
    /// Its bearer token.
    pub api_key: String,
    /// The policy its log began with (recovery without a snapshot).
    pub policy: Policy,
    /// Engine and writer, one at a time: the per-tenant order of events.
    pub core: Mutex<Core>,
    /// Decisions after their commit, for live streams.
    pub live: broadcast::Sender<Arc<Vec<Live>>>,
    /// Wakes the timer task when the next deadline may have changed.
    pub wake: Notify,
    /// The engine's input count and next deadline (`u64::MAX`: none) as of
    /// the last commit, read by streams and the timer without taking the
    /// write lock (which a commit holds through its fsync).
    last_seq: AtomicU64,
    deadline: AtomicU64,
    /// Counters and histograms for `/metrics`.
    pub metrics: Metrics,
    /// Snapshot after this many events.
    pub snapshot_every: u64,
}

/// Milliseconds since the Unix epoch, the clock event times are read in.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Tenant {
    /// Opens the tenant's connection, checks its policy against the stored
    /// one and rebuilds its engine (last snapshot + the log after it).
    pub fn open(
        cfg: TenantConfig,
        db: &Path,
        snapshot_every: u64,
        stream_buffer: usize,
    ) -> Result<Tenant, RecoverError> {
        let conn = store::open(db)?;
        let policy_json =
            serde_json::to_string(&cfg.policy).map_err(|source| RecoverError::PolicyEncode {
                tenant: cfg.id.clone(),
                source,
            })?;
        let stored = store::stored_policy(&conn, &cfg.id)?;
        if let Some(p) = &stored {
            let same = serde_json::from_str::<Policy>(p).is_ok_and(|s| s == cfg.policy);
            if !same {
                return Err(RecoverError::PolicyDiffers { tenant: cfg.id });
            }
        }
        // Recovery validates the policy; only a valid one is stored, so a
        // corrected tenants file is not refused on the next start.
        let (engine, last_snapshot) = recover(&conn, &cfg.id, &cfg.policy)?;
        if stored.is_none() {
            store::store_policy(&conn, &cfg.id, &policy_json)?;
        }
        let (live, _) = broadcast::channel(stream_buffer.max(1));
        let t = Tenant {
            metrics: Metrics::default(),
            id: cfg.id,
            api_key: cfg.api_key,
            policy: cfg.policy,
            core: Mutex::new(Core {
                engine,
                conn,
                last_snapshot,
                broken: None,
            }),
            live,
            wake: Notify::new(),
            last_seq: AtomicU64::new(0),
            deadline: AtomicU64::new(u64::MAX),
            snapshot_every: snapshot_every.max(1),
        };
        {
            let core = t.lock();
            t.publish(&core.engine);
        }
        Ok(t)
    }

    /// The write lock. A panic while it was held (a bug) may have left the
    /// engine ahead of the log, so the engine is then rebuilt from the
    /// database before anyone sees it.
    pub fn lock(&self) -> MutexGuard<'_, Core> {
        match self.core.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                self.rebuild(&mut g);
                tracing::error!(tenant = %self.id, "state rebuilt from the log after a panic");
                self.core.clear_poison();
                g
            }
        }
    }

    /// Applies each event and encodes what it produced; stops at the first
    /// refusal. The caller undoes a partial batch.
    fn apply_batch(&self, engine: &mut Engine, events: Vec<Event>) -> Result<Applied, PostError> {
        let mut accepted = Vec::with_capacity(events.len());
        let mut live = Vec::new();
        let mut all = Vec::new();
        for (index, event) in events.into_iter().enumerate() {
            let json = serde_json::to_string(&event)?;
            let t0 = Instant::now();
            let result = engine.apply(event);
            self.metrics.apply.observe(t0.elapsed());
            let ds = result.map_err(|source| PostError::Refused { index, source })?;
            let seq = engine.inputs_applied();
            let recs = engine.take_records();
            let mut records = Vec::new();
            for r in &recs.conversations {
                records.push(("conversation", serde_json::to_string(r)?));
            }
            for r in &recs.bot_conversations {
                records.push(("bot_conversation", serde_json::to_string(r)?));
            }
            for r in &recs.status_intervals {
                records.push(("status_interval", serde_json::to_string(r)?));
            }
            let mut decisions = Vec::with_capacity(ds.len());
            for d in &ds {
                let j = serde_json::to_string(d)?;
                all.push(Arc::from(j.as_str()));
                decisions.push(j);
            }
            if !decisions.is_empty() {
                live.push(Live {
                    seq,
                    json: format!("[{}]", decisions.join(",")).into(),
                });
            }
            accepted.push(Accepted {
                seq,
                event: json,
                decisions,
                records,
            });
        }
        Ok((accepted, live, all))
    }

    /// Puts the engine back to what the log says (after a failure left it
    /// ahead of the log); if even that fails, the tenant refuses writes.
    fn rebuild(&self, core: &mut Core) {
        match recover(&core.conn, &self.id, &self.policy) {
            Ok((engine, snap)) => {
                core.engine = engine;
                core.last_snapshot = snap;
                self.publish(&core.engine);
            }
            Err(r) => core.broken = Some(r.to_string()),
        }
    }

    /// Copies the engine's input count and next deadline where readers
    /// look without the lock.
    fn publish(&self, engine: &Engine) {
        self.last_seq
            .store(engine.inputs_applied(), Ordering::SeqCst);
        let d = engine.next_deadline().map_or(u64::MAX, |t| t.0);
        self.deadline.store(d, Ordering::SeqCst);
    }

    /// The input count as of the last commit.
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::SeqCst)
    }

    /// The next deadline as of the last commit.
    pub fn deadline(&self) -> Option<Timestamp> {
        match self.deadline.load(Ordering::SeqCst) {
            u64::MAX => None,
            t => Some(Timestamp(t)),
        }
    }

    /// Applies a `tick` at `at` if that is still the next deadline (an
    /// event may have moved it since the timer read it).
    pub fn tick(&self, at: Timestamp) -> Result<Option<Acked>, PostError> {
        let mut core = self.lock();
        if core.engine.next_deadline() != Some(at) {
            return Ok(None);
        }
        self.post_locked(&mut core, vec![Event::Tick { at }])
            .map(Some)
    }

    /// Applies a batch, all or nothing, commits it, then answers.
    ///
    /// A batch of several events runs on a copy of the engine, so a refused
    /// event leaves nothing of the batch behind; a single event runs on the
    /// engine itself, which refuses without changing anything.
    pub fn post(&self, events: Vec<Event>) -> Result<Acked, PostError> {
        let mut core = self.lock();
        self.post_locked(&mut core, events)
    }

    /// [`Tenant::post`] under a lock already held.
    fn post_locked(&self, core: &mut Core, events: Vec<Event>) -> Result<Acked, PostError> {
        if events.is_empty() {
            return Err(PostError::Empty);
        }
        if let Some(why) = &core.broken {
            return Err(PostError::Broken(why.clone()));
        }
        let backup = (events.len() > 1).then(|| core.engine.clone());
        let (accepted, live, all) = match self.apply_batch(&mut core.engine, events) {
            Ok(done) => done,
            Err(e) => {
                match backup {
                    Some(b) => core.engine = b,
                    // A single refused event changed nothing.
                    None if matches!(e, PostError::Refused { .. }) => {}
                    None => self.rebuild(core),
                }
                if matches!(e, PostError::Refused { .. }) {
                    self.metrics.inc_refused();
                }
                return Err(e);
            }
        };
        let t0 = Instant::now();
        let tenant = self.id.clone();
        let committed = store::append(&mut core.conn, &tenant, &accepted);
        self.metrics.commit.observe(t0.elapsed());
        if let Err(e) = committed {
            // The engine is ahead of the log: put it back to what the log
            // says, so nothing unacknowledged is ever visible.
            match backup {
                Some(b) => core.engine = b,
                None => self.rebuild(core),
            }
            tracing::error!(tenant = %self.id, error = %e, "append failed; nothing acknowledged");
            return Err(e.into());
        }
        let first_seq = accepted[0].seq;
        let last_seq = core.engine.inputs_applied();
        self.metrics.add_decisions(all.len() as u64);
        // Before the live send: a stream that reads `last_seq` after
        // subscribing gets every later input from the channel.
        self.publish(&core.engine);
        if !live.is_empty() {
            // No receiver is not an error: streams read the table first.
            let _ = self.live.send(Arc::new(live));
        }
        self.wake.notify_one();
        if last_seq >= core.last_snapshot + self.snapshot_every {
            let bytes = core.engine.snapshot().to_bytes();
            match store::put_snapshot(&mut core.conn, &tenant, last_seq, &bytes) {
                Ok(()) => core.last_snapshot = last_seq,
                // The events are committed; a missed snapshot only makes the
                // next start replay more.
                Err(e) => tracing::warn!(tenant = %self.id, error = %e, "snapshot failed"),
            }
        }
        Ok(Acked {
            first_seq,
            last_seq,
            decisions: all,
        })
    }
}

/// Rebuilds a tenant's engine: its last snapshot (or a new engine on the
/// policy) and every logged event after it. Returns the engine and the
/// snapshot's seq.
pub fn recover(
    conn: &Connection,
    tenant: &str,
    policy: &Policy,
) -> Result<(Engine, u64), RecoverError> {
    let (mut engine, from) = match store::last_snapshot(conn, tenant)? {
        Some((seq, bytes)) => {
            let e = Snapshot::from_bytes(&bytes)
                .and_then(Engine::restore)
                .map_err(|source| RecoverError::Snapshot {
                    tenant: tenant.to_string(),
                    seq,
                    source,
                })?;
            (e, seq)
        }
        None => {
            let e = Engine::new(policy.clone()).map_err(|source| RecoverError::Policy {
                tenant: tenant.to_string(),
                source,
            })?;
            (e, 0)
        }
    };
    if engine.inputs_applied() != from {
        return Err(RecoverError::SeqGap {
            tenant: tenant.to_string(),
            expected: from,
            found: engine.inputs_applied(),
        });
    }
    store::for_each_event_after(conn, tenant, from, |seq, json| {
        let expected = engine.inputs_applied() + 1;
        if seq != expected {
            return Err(RecoverError::SeqGap {
                tenant: tenant.to_string(),
                expected,
                found: seq,
            });
        }
        let event: Event =
            serde_json::from_str(json).map_err(|source| RecoverError::BadLogEvent {
                tenant: tenant.to_string(),
                seq,
                source,
            })?;
        engine
            .apply(event)
            .map_err(|source| RecoverError::Refused {
                tenant: tenant.to_string(),
                seq,
                source,
            })?;
        // Their records were stored with the event when it was first applied.
        let _ = engine.take_records();
        Ok(())
    })?;
    Ok((engine, from))
}

/// The tenant's timer: sleeps until the engine's next deadline (by the wall
/// clock, event times being Unix milliseconds), then applies a `tick` at that
/// deadline through the same logged path as a posted event. Woken early
/// whenever an event may have moved the deadline.
pub async fn run_timer(tenant: Arc<Tenant>) {
    loop {
        let deadline = tenant.deadline();
        let Some(at) = deadline else {
            tenant.wake.notified().await;
            continue;
        };
        let now = wall_ms();
        if at.0 > now {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(at.0 - now)) => {}
                () = tenant.wake.notified() => continue,
            }
        }
        let t = tenant.clone();
        let r = tokio::task::spawn_blocking(move || t.tick(at)).await;
        match r {
            Ok(Ok(Some(ack))) => {
                tracing::debug!(tenant = %tenant.id, seq = ack.last_seq, "timer tick applied")
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::warn!(tenant = %tenant.id, error = %e, "timer tick failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                tracing::error!(tenant = %tenant.id, error = %e, "timer task failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
