//! The tenant's log, wherever it lives: SQLite on this machine (the
//! embedded default) or JetStream (several instances). The write path and
//! recovery go through [`Writer`]; streams and queries read through
//! [`Reader`].

use std::collections::VecDeque;
use std::path::PathBuf;

use rusqlite::Connection;
use switchboard::engine::{Snapshot, SnapshotError};
use switchboard::policy::Policy;
use switchboard::{Engine, EngineError, Event, PolicyError};

use crate::jetstream::{self, Js};
use crate::store::{self, Accepted, StoreError};

/// Why a tenant could not be brought back from its log.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// Reading the log failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored snapshot could not be decoded or restored.
    #[error("tenant {tenant:?}: snapshot at seq {seq} unusable: {source}")]
    Snapshot {
        /// The tenant.
        tenant: String,
        /// The snapshot's seq (SQLite) or stream sequence (JetStream).
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

/// Where a tenant's writes go.
pub enum Writer {
    /// This tenant's SQLite connection.
    Sqlite(Connection),
    /// JetStream, with the stream sequence of the tenant's last message
    /// this writer has applied (the expected one for the next append) and
    /// the stream sequence the last snapshot was taken at.
    JetStream {
        /// The connection.
        js: Js,
        /// Stream sequence of the last applied message (0: none).
        last: u64,
    },
}

/// Applies one logged event during recovery, checking its numbering.
fn replay_one(engine: &mut Engine, tenant: &str, seq: u64, json: &str) -> Result<(), RecoverError> {
    let expected = engine.inputs_applied() + 1;
    if seq != expected {
        return Err(RecoverError::SeqGap {
            tenant: tenant.to_string(),
            expected,
            found: seq,
        });
    }
    let event: Event = serde_json::from_str(json).map_err(|source| RecoverError::BadLogEvent {
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
}

/// The engine a snapshot holds, or a new one on the policy.
fn base_engine(
    tenant: &str,
    policy: &Policy,
    snapshot: Option<(u64, Vec<u8>)>,
) -> Result<Engine, RecoverError> {
    match snapshot {
        Some((seq, bytes)) => Snapshot::from_bytes(&bytes)
            .and_then(Engine::restore)
            .map_err(|source| RecoverError::Snapshot {
                tenant: tenant.to_string(),
                seq,
                source,
            }),
        None => Engine::new(policy.clone()).map_err(|source| RecoverError::Policy {
            tenant: tenant.to_string(),
            source,
        }),
    }
}

impl Writer {
    /// The policy the tenant's log started with, if it has one.
    pub fn stored_policy(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        match self {
            Writer::Sqlite(c) => store::stored_policy(c, tenant),
            Writer::JetStream { js, .. } => js.block_on(js.stored_policy(tenant)),
        }
    }

    /// Records the policy the tenant's log starts from.
    pub fn store_policy(&self, tenant: &str, policy: &str) -> Result<(), StoreError> {
        match self {
            Writer::Sqlite(c) => store::store_policy(c, tenant, policy),
            Writer::JetStream { js, .. } => js.block_on(js.store_policy(tenant, policy)),
        }
    }

    /// Makes a batch durable: one SQLite transaction, or one JetStream
    /// message appended only if nobody else wrote since.
    pub fn append(&mut self, tenant: &str, batch: &[Accepted]) -> Result<(), StoreError> {
        match self {
            Writer::Sqlite(c) => store::append(c, tenant, batch),
            Writer::JetStream { js, last } => {
                *last = js.block_on(js.append(tenant, *last, batch))?;
                Ok(())
            }
        }
    }

    /// Stores a snapshot of the engine at input `seq` (everything appended
    /// so far).
    pub fn put_snapshot(&mut self, tenant: &str, seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        match self {
            Writer::Sqlite(c) => store::put_snapshot(c, tenant, seq, bytes),
            Writer::JetStream { js, last } => js.block_on(js.put_snapshot(tenant, *last, bytes)),
        }
    }

    /// How many events the log holds.
    pub fn event_count(&self, tenant: &str) -> Result<u64, StoreError> {
        match self {
            Writer::Sqlite(c) => store::event_count(c, tenant),
            Writer::JetStream { js, .. } => js
                .block_on(js.last_message(tenant))
                .map(|m| m.map_or(0, |(_, last)| last)),
        }
    }

    /// Rebuilds the tenant's engine: its last snapshot (or a new engine on
    /// the policy) and every logged event after it. Returns the engine and
    /// the input seq of the snapshot; afterwards the writer appends after
    /// the last message read.
    pub fn recover(
        &mut self,
        tenant: &str,
        policy: &Policy,
    ) -> Result<(Engine, u64), RecoverError> {
        match self {
            Writer::Sqlite(conn) => {
                let snap = store::last_snapshot(conn, tenant)?;
                let from = snap.as_ref().map_or(0, |(s, _)| *s);
                let mut engine = base_engine(tenant, policy, snap)?;
                if engine.inputs_applied() != from {
                    return Err(RecoverError::SeqGap {
                        tenant: tenant.to_string(),
                        expected: from,
                        found: engine.inputs_applied(),
                    });
                }
                store::for_each_event_after(conn, tenant, from, |seq, json| {
                    replay_one(&mut engine, tenant, seq, json)
                })?;
                Ok((engine, from))
            }
            Writer::JetStream { js, last } => {
                let js = js.clone();
                let (engine, from, read_to) = js.block_on(async {
                    let snap = js.last_snapshot(tenant).await?;
                    let stream_from = snap.as_ref().map_or(0, |(s, _)| *s);
                    let mut engine = base_engine(tenant, policy, snap)?;
                    let from = engine.inputs_applied();
                    let mut read_to = stream_from;
                    let mut cursor = js.cursor(tenant, stream_from).await?;
                    while let Some(batch) = cursor.next().await? {
                        for input in &batch.inputs {
                            replay_one(&mut engine, tenant, input.seq, &input.event)?;
                        }
                        read_to = batch.stream_seq;
                    }
                    Ok::<_, RecoverError>((engine, from, read_to))
                })?;
                *last = read_to;
                Ok((engine, from))
            }
        }
    }
}

/// Where streams and queries read a tenant's log.
#[derive(Clone)]
pub enum Reader {
    /// The database file; each reader opens its own connection.
    Sqlite(PathBuf),
    /// JetStream.
    JetStream(Js),
}

/// Decisions of one input: (input_seq, decisions as JSON).
pub type InputDecisions = (u64, Vec<String>);

/// A reader of stored decisions that keeps its place between pages.
pub enum DecisionCursor {
    /// A connection kept open between pages.
    Sqlite(PathBuf, Option<Connection>),
    /// The stream read so far, and what was read but not yet handed out.
    JetStream {
        /// The connection.
        js: Js,
        /// Open reader, if in the middle of the log (boxed: a consumer
        /// holds its configuration, kilobytes).
        cursor: Option<Box<jetstream::Cursor>>,
        /// Stream sequence read up to.
        read_to: u64,
        /// Decisions read and not handed out yet.
        ahead: VecDeque<InputDecisions>,
    },
}

impl DecisionCursor {
    /// Up to `n` inputs' decisions after input `pos`, in order; empty when
    /// nothing more is stored.
    pub async fn next_page(
        &mut self,
        tenant: &str,
        pos: u64,
        n: usize,
    ) -> Result<Vec<InputDecisions>, StoreError> {
        match self {
            DecisionCursor::Sqlite(db, conn) => {
                let (db, tid, c) = (db.clone(), tenant.to_string(), conn.take());
                let (c, rows) = tokio::task::spawn_blocking(move || {
                    let c = match c {
                        Some(c) => c,
                        None => store::open(&db)?,
                    };
                    let rows = store::decisions_after(&c, &tid, pos, n)?;
                    Ok::<_, StoreError>((c, rows))
                })
                .await
                .map_err(|e| StoreError::Worker(e.to_string()))??;
                *conn = Some(c);
                Ok(rows)
            }
            DecisionCursor::JetStream {
                js,
                cursor,
                read_to,
                ahead,
            } => {
                while ahead.len() < n {
                    if cursor.is_none() {
                        let c = js.cursor(tenant, *read_to).await?;
                        *cursor = Some(Box::new(c));
                    }
                    let Some(c) = cursor.as_mut() else { break };
                    match c.next().await? {
                        Some(batch) => {
                            *read_to = batch.stream_seq;
                            for i in batch.inputs {
                                if i.seq > pos && !i.decisions.is_empty() {
                                    ahead.push_back((i.seq, i.decisions));
                                }
                            }
                        }
                        None => {
                            // At the end as of now; the next page reopens.
                            *cursor = None;
                            break;
                        }
                    }
                }
                ahead.retain(|(s, _)| *s > pos);
                let k = ahead.len().min(n);
                Ok(ahead.drain(..k).collect())
            }
        }
    }
}

impl Reader {
    /// A decision reader starting at the beginning of the tenant's log.
    pub fn decisions(&self) -> DecisionCursor {
        match self {
            Reader::Sqlite(db) => DecisionCursor::Sqlite(db.clone(), None),
            Reader::JetStream(js) => DecisionCursor::JetStream {
                js: js.clone(),
                cursor: None,
                read_to: 0,
                ahead: VecDeque::new(),
            },
        }
    }

    /// Up to `limit` logged events after input `after`: (seq, event JSON).
    pub async fn events_after(
        &self,
        tenant: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        match self {
            Reader::Sqlite(db) => {
                let (db, tid) = (db.clone(), tenant.to_string());
                blocking(move || {
                    let conn = store::open(&db)?;
                    store::events_after(&conn, &tid, after, limit)
                })
                .await
            }
            Reader::JetStream(js) => {
                let mut out = Vec::new();
                let mut cursor = js.cursor(tenant, 0).await?;
                while let Some(batch) = cursor.next().await? {
                    for i in batch.inputs {
                        if i.seq > after && out.len() < limit {
                            out.push((i.seq, i.event));
                        }
                    }
                    if out.len() >= limit {
                        break;
                    }
                }
                Ok(out)
            }
        }
    }

    /// Folds `f` over every stored lifecycle record of the tenant, in
    /// order: (kind, JSON). Stops at the first error `f` returns.
    pub async fn fold_records<A: Send + 'static>(
        &self,
        tenant: &str,
        mut acc: A,
        mut f: impl FnMut(&mut A, &str, &str) -> Result<(), String> + Send + 'static,
    ) -> Result<Result<A, String>, StoreError> {
        match self {
            Reader::Sqlite(db) => {
                let (db, tid) = (db.clone(), tenant.to_string());
                blocking(move || {
                    let conn = store::open(&db)?;
                    let r = store::for_each_record(&conn, &tid, |k, j| f(&mut acc, k, j))?;
                    Ok(r.map(|()| acc))
                })
                .await
            }
            Reader::JetStream(js) => {
                let mut cursor = js.cursor(tenant, 0).await?;
                while let Some(batch) = cursor.next().await? {
                    for i in &batch.inputs {
                        for (k, j) in &i.records {
                            if let Err(e) = f(&mut acc, k, j) {
                                return Ok(Err(e));
                            }
                        }
                    }
                }
                Ok(Ok(acc))
            }
        }
    }
}

/// Runs SQLite work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
}
