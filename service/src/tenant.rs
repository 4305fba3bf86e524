//! One tenant: its engine, its write path (apply, then commit, then
//! acknowledge), its recovery, its timer and its counters.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use switchboard::policy::Policy;
use switchboard::{Engine, EngineError, Event, Timestamp};
use tokio::sync::{Notify, broadcast, watch};

pub use crate::log::RecoverError;
use crate::log::Writer;
use crate::metrics::Metrics;
use crate::store::{Accepted, StoreError};

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
    /// This instance no longer serves the tenant (another instance took it
    /// over); the client asks again and is sent to the new owner.
    #[error("tenant {0:?} moved to another instance; retry")]
    Moved(String),
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
    /// This tenant's log writer.
    pub log: Writer,
    /// Seq of the last stored snapshot.
    pub last_snapshot: u64,
    /// Set when a failed commit could not be undone; writes are refused.
    pub broken: Option<String>,
}

/// One tenant.
pub struct Tenant {
    /// Its name.
    pub id: String,
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
    /// Turns true when this instance stops serving the tenant; its timer
    /// and streams end.
    pub retired: watch::Sender<bool>,
    /// Set with `Core::broken` after a failed rebuild, read without the lock.
    failed: AtomicBool,
}

/// Milliseconds since the Unix epoch, the clock event times are read in.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Tenant {
    /// Checks the tenant's policy against the one its log started with and
    /// rebuilds its engine (last snapshot + the log after it) through `log`.
    /// Blocking: call it off the async threads.
    pub fn open(
        cfg: TenantConfig,
        mut log: Writer,
        snapshot_every: u64,
        stream_buffer: usize,
    ) -> Result<Tenant, RecoverError> {
        let policy_json =
            serde_json::to_string(&cfg.policy).map_err(|source| RecoverError::PolicyEncode {
                tenant: cfg.id.clone(),
                source,
            })?;
        let stored = log.stored_policy(&cfg.id)?;
        if let Some(p) = &stored {
            let same = serde_json::from_str::<Policy>(p).is_ok_and(|s| s == cfg.policy);
            if !same {
                return Err(RecoverError::PolicyDiffers { tenant: cfg.id });
            }
        }
        // Recovery validates the policy; only a valid one is stored, so a
        // corrected tenants file is not refused on the next start.
        let (engine, last_snapshot) = log.recover(&cfg.id, &cfg.policy)?;
        if stored.is_none() {
            log.store_policy(&cfg.id, &policy_json)?;
        }
        let (live, _) = broadcast::channel(stream_buffer.max(1));
        let t = Tenant {
            metrics: Metrics::default(),
            id: cfg.id,
            policy: cfg.policy,
            core: Mutex::new(Core {
                engine,
                log,
                last_snapshot,
                broken: None,
            }),
            live,
            wake: Notify::new(),
            last_seq: AtomicU64::new(0),
            deadline: AtomicU64::new(u64::MAX),
            snapshot_every: snapshot_every.max(1),
            retired: watch::Sender::new(false),
            failed: AtomicBool::new(false),
        };
        {
            let core = t.lock();
            t.publish(&core.engine);
        }
        Ok(t)
    }

    /// Stops serving: writes are refused from now on, the timer and the
    /// decision streams end. Waits for a write in progress to finish.
    pub fn retire(&self) {
        let mut core = self.lock();
        core.broken = Some(String::new());
        self.retired.send_replace(true);
        self.wake.notify_one();
    }

    /// Whether a failed commit left the tenant refusing writes (its log
    /// could not be read back); a JetStream instance then hands the tenant
    /// to a fresh recovery.
    pub fn is_broken(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Whether [`Tenant::retire`] was called.
    pub fn is_retired(&self) -> bool {
        *self.retired.borrow()
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
        match core.log.recover(&self.id, &self.policy) {
            Ok((engine, snap)) => {
                core.engine = engine;
                core.last_snapshot = snap;
                self.publish(&core.engine);
            }
            Err(r) => {
                core.broken = Some(r.to_string());
                self.failed.store(true, Ordering::SeqCst);
            }
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
        if self.is_retired() {
            return Err(PostError::Moved(self.id.clone()));
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
        let committed = core.log.append(&tenant, &accepted);
        self.metrics.commit.observe(t0.elapsed());
        if let Err(e) = committed {
            // The engine is ahead of the log: put it back to what the log
            // says, so nothing unacknowledged is ever visible. An append
            // that was sent but not confirmed may be in the log (or enter it
            // later), and the log is not answering: the tenant refuses
            // everything until it is recovered from the log afresh (on
            // JetStream the lease loop does that once the log answers).
            match backup {
                _ if matches!(e, StoreError::Unconfirmed { .. }) => {
                    core.broken = Some(e.to_string());
                    self.failed.store(true, Ordering::SeqCst);
                }
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
            match core.log.put_snapshot(&tenant, last_seq, &bytes) {
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

/// The tenant's timer: sleeps until the engine's next deadline (by the wall
/// clock, event times being Unix milliseconds), then applies a `tick` at that
/// deadline through the same logged path as a posted event. Woken early
/// whenever an event may have moved the deadline.
pub async fn run_timer(tenant: Arc<Tenant>) {
    let mut retired = tenant.retired.subscribe();
    loop {
        if *retired.borrow_and_update() {
            return;
        }
        let deadline = tenant.deadline();
        let Some(at) = deadline else {
            tokio::select! {
                () = tenant.wake.notified() => {}
                _ = retired.changed() => {}
            }
            continue;
        };
        let now = wall_ms();
        if at.0 > now {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(at.0 - now)) => {}
                () = tenant.wake.notified() => continue,
                _ = retired.changed() => continue,
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
