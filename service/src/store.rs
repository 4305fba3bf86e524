//! The durable side: one SQLite database (WAL, `synchronous=FULL`) holding
//! each tenant's event log, the decisions and lifecycle records those
//! events produced, and engine snapshots.
//!
//! A batch's events, decisions and records go in one transaction, so after a
//! crash the database holds either all of a batch or none of it, and the
//! engine state rebuilt from it (snapshot + replay) is the one the client
//! was acknowledged against.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

/// What a storage call can fail with; names the operation and the tenant.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed the operation.
    #[error("storage: {op} for tenant {tenant:?} failed: {source}")]
    Sqlite {
        /// What was being done.
        op: &'static str,
        /// The tenant it was done for ("" for the whole database).
        tenant: String,
        /// SQLite's own error.
        source: rusqlite::Error,
    },
    /// NATS or JetStream refused or failed the operation.
    #[error("log on JetStream: {op} for tenant {tenant:?} failed: {reason}")]
    Nats {
        /// What was being done.
        op: &'static str,
        /// The tenant it was done for ("" for the whole log).
        tenant: String,
        /// The client's error text.
        reason: String,
    },
    /// Another writer appended to the tenant's log since this instance last
    /// did: the tenant is being served elsewhere (or was, a moment ago).
    #[error(
        "tenant {tenant:?}: another instance wrote to its log (expected its last message at stream sequence {expected}); it is being taken over"
    )]
    Fenced {
        /// The tenant.
        tenant: String,
        /// The stream sequence this writer expected last.
        expected: u64,
    },
    /// The append was sent but not confirmed in time: the batch may be in
    /// the log or may enter it later (a client library resends after a
    /// reconnection). Nothing was acknowledged; the client resolves it as a
    /// post with no answer.
    #[error(
        "tenant {tenant:?}: the log did not confirm the batch ({reason}); it may still be stored: read /status or /log before posting it again"
    )]
    Unconfirmed {
        /// The tenant.
        tenant: String,
        /// What the client said.
        reason: String,
    },
    /// A worker thread running a storage call failed (a bug, not input).
    #[error("storage worker failed: {0}")]
    Worker(String),
    /// The batch is larger than the log's largest message.
    #[error(
        "the batch is {bytes} bytes as logged, over the log's largest message of {max} bytes; post it in smaller batches"
    )]
    TooLarge {
        /// The batch's size as logged.
        bytes: usize,
        /// The largest message the server takes.
        max: usize,
    },
}

/// Shortens the `map_err` on every call.
pub(crate) fn ctx<T>(
    r: rusqlite::Result<T>,
    op: &'static str,
    tenant: &str,
) -> Result<T, StoreError> {
    r.map_err(|source| StoreError::Sqlite {
        op,
        tenant: tenant.to_string(),
        source,
    })
}

/// One accepted input, ready to be written.
pub struct Accepted {
    /// The engine's `input_seq` of this event.
    pub seq: u64,
    /// The event as JSON, as it will be replayed.
    pub event: String,
    /// Its decisions as JSON, in order.
    pub decisions: Vec<String>,
    /// Its lifecycle records as JSON: (kind, record).
    pub records: Vec<(&'static str, String)>,
}

/// Opens (creating if needed) the database with the durability settings
/// the failure model relies on.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = ctx(Connection::open(path), "open database", "")?;
    // WAL: readers (decision streams, KPI queries) never block the writer.
    // FULL: the commit is fsynced before we acknowledge, so an acknowledged
    // event survives a power loss, not only a process crash.
    ctx(
        conn.pragma_update(None, "journal_mode", "WAL"),
        "set WAL mode",
        "",
    )?;
    ctx(
        conn.pragma_update(None, "synchronous", "FULL"),
        "set synchronous=FULL",
        "",
    )?;
    ctx(
        conn.busy_timeout(std::time::Duration::from_secs(30)),
        "set busy timeout",
        "",
    )?;
    Ok(conn)
}

/// Creates the tables if missing.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    ctx(
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS tenants (
                 tenant TEXT PRIMARY KEY,
                 policy TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS events (
                 tenant TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 event TEXT NOT NULL,
                 PRIMARY KEY (tenant, seq)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS decisions (
                 tenant TEXT NOT NULL,
                 input_seq INTEGER NOT NULL,
                 idx INTEGER NOT NULL,
                 decision TEXT NOT NULL,
                 PRIMARY KEY (tenant, input_seq, idx)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS records (
                 tenant TEXT NOT NULL,
                 input_seq INTEGER NOT NULL,
                 idx INTEGER NOT NULL,
                 kind TEXT NOT NULL,
                 record TEXT NOT NULL,
                 PRIMARY KEY (tenant, input_seq, idx)
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS snapshots (
                 tenant TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 bytes BLOB NOT NULL,
                 PRIMARY KEY (tenant, seq)
             ) WITHOUT ROWID;",
        ),
        "create tables",
        "",
    )
}

/// The policy a tenant's log started with, if it has one.
pub fn stored_policy(conn: &Connection, tenant: &str) -> Result<Option<String>, StoreError> {
    ctx(
        conn.query_row(
            "SELECT policy FROM tenants WHERE tenant = ?1",
            [tenant],
            |r| r.get(0),
        )
        .optional(),
        "read the tenant's first policy",
        tenant,
    )
}

/// Records the policy a tenant's log starts from (first start only).
pub fn store_policy(conn: &Connection, tenant: &str, policy: &str) -> Result<(), StoreError> {
    ctx(
        conn.execute(
            "INSERT INTO tenants (tenant, policy) VALUES (?1, ?2)",
            params![tenant, policy],
        ),
        "store the tenant's first policy",
        tenant,
    )
    .map(drop)
}

/// Writes a batch of accepted inputs in one transaction and commits it.
pub fn append(conn: &mut Connection, tenant: &str, batch: &[Accepted]) -> Result<(), StoreError> {
    let tx = ctx(conn.transaction(), "begin the append", tenant)?;
    {
        let mut ev = ctx(
            tx.prepare_cached("INSERT INTO events (tenant, seq, event) VALUES (?1, ?2, ?3)"),
            "prepare event insert",
            tenant,
        )?;
        let mut de = ctx(
            tx.prepare_cached(
                "INSERT INTO decisions (tenant, input_seq, idx, decision) VALUES (?1, ?2, ?3, ?4)",
            ),
            "prepare decision insert",
            tenant,
        )?;
        let mut re = ctx(
            tx.prepare_cached(
                "INSERT INTO records (tenant, input_seq, idx, kind, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            ),
            "prepare record insert",
            tenant,
        )?;
        for a in batch {
            ctx(
                ev.execute(params![tenant, a.seq as i64, a.event]),
                "append an event",
                tenant,
            )?;
            for (i, d) in a.decisions.iter().enumerate() {
                ctx(
                    de.execute(params![tenant, a.seq as i64, i as i64, d]),
                    "append a decision",
                    tenant,
                )?;
            }
            for (i, (kind, r)) in a.records.iter().enumerate() {
                ctx(
                    re.execute(params![tenant, a.seq as i64, i as i64, kind, r]),
                    "append a record",
                    tenant,
                )?;
            }
        }
    }
    ctx(tx.commit(), "commit the append", tenant)
}

/// Stores a snapshot and drops older ones (the log before it is kept: it is
/// the tenant's history and what a full replay checks against).
pub fn put_snapshot(
    conn: &mut Connection,
    tenant: &str,
    seq: u64,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let tx = ctx(conn.transaction(), "begin the snapshot", tenant)?;
    ctx(
        tx.execute(
            "INSERT OR REPLACE INTO snapshots (tenant, seq, bytes) VALUES (?1, ?2, ?3)",
            params![tenant, seq as i64, bytes],
        ),
        "store a snapshot",
        tenant,
    )?;
    ctx(
        tx.execute(
            "DELETE FROM snapshots WHERE tenant = ?1 AND seq < ?2",
            params![tenant, seq as i64],
        ),
        "drop older snapshots",
        tenant,
    )?;
    ctx(tx.commit(), "commit the snapshot", tenant)
}

/// The tenant's latest snapshot: (seq, bytes).
pub fn last_snapshot(
    conn: &Connection,
    tenant: &str,
) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
    ctx(
        conn.query_row(
            "SELECT seq, bytes FROM snapshots WHERE tenant = ?1 ORDER BY seq DESC LIMIT 1",
            [tenant],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )
        .optional(),
        "read the last snapshot",
        tenant,
    )
}

/// Calls `f` for every logged event after `seq`, in order.
pub fn for_each_event_after<E: From<StoreError>>(
    conn: &Connection,
    tenant: &str,
    seq: u64,
    mut f: impl FnMut(u64, &str) -> Result<(), E>,
) -> Result<(), E> {
    let mut st = ctx(
        conn.prepare("SELECT seq, event FROM events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq"),
        "prepare the replay",
        tenant,
    )?;
    let mut rows = ctx(
        st.query(params![tenant, seq as i64]),
        "read the log",
        tenant,
    )?;
    while let Some(row) = ctx(rows.next(), "read the log", tenant)? {
        let s: i64 = ctx(row.get(0), "read a log seq", tenant)?;
        let e: String = ctx(row.get(1), "read a log event", tenant)?;
        f(s as u64, &e)?;
    }
    Ok(())
}

/// The stored decisions of up to `inputs` inputs after `seq`, grouped by
/// input and in order: (input_seq, decisions as JSON). An input's
/// decisions are never split across calls, so a stream resumes by seq alone.
pub fn decisions_after(
    conn: &Connection,
    tenant: &str,
    seq: u64,
    inputs: usize,
) -> Result<Vec<(u64, Vec<String>)>, StoreError> {
    let last: Option<i64> = ctx(
        conn.query_row(
            "SELECT MAX(input_seq) FROM (SELECT DISTINCT input_seq FROM decisions
             WHERE tenant = ?1 AND input_seq > ?2 ORDER BY input_seq LIMIT ?3)",
            params![tenant, seq as i64, inputs as i64],
            |r| r.get(0),
        ),
        "find the next decisions",
        tenant,
    )?;
    let Some(last) = last else {
        return Ok(Vec::new());
    };
    let mut st = ctx(
        conn.prepare_cached(
            "SELECT input_seq, decision FROM decisions
             WHERE tenant = ?1 AND input_seq > ?2 AND input_seq <= ?3
             ORDER BY input_seq, idx",
        ),
        "prepare the decision read",
        tenant,
    )?;
    let rows = ctx(
        st.query_map(params![tenant, seq as i64, last], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        }),
        "read decisions",
        tenant,
    )?;
    let mut out: Vec<(u64, Vec<String>)> = Vec::new();
    for r in rows {
        let (s, d) = ctx(r, "read a decision", tenant)?;
        match out.last_mut() {
            Some((ls, v)) if *ls == s => v.push(d),
            _ => out.push((s, vec![d])),
        }
    }
    Ok(out)
}

/// Calls `f` on every stored lifecycle record of the tenant: (kind, json).
pub fn for_each_record(
    conn: &Connection,
    tenant: &str,
    mut f: impl FnMut(&str, &str) -> Result<(), String>,
) -> Result<Result<(), String>, StoreError> {
    let mut st = ctx(
        conn.prepare("SELECT kind, record FROM records WHERE tenant = ?1 ORDER BY input_seq, idx"),
        "prepare the record read",
        tenant,
    )?;
    let mut rows = ctx(st.query([tenant]), "read records", tenant)?;
    while let Some(row) = ctx(rows.next(), "read records", tenant)? {
        let k: String = ctx(row.get(0), "read a record kind", tenant)?;
        let r: String = ctx(row.get(1), "read a record", tenant)?;
        if let Err(e) = f(&k, &r) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

/// How many events the tenant's log holds.
pub fn event_count(conn: &Connection, tenant: &str) -> Result<u64, StoreError> {
    ctx(
        conn.query_row(
            "SELECT COUNT(*) FROM events WHERE tenant = ?1",
            [tenant],
            |r| r.get::<_, i64>(0),
        ),
        "count the log",
        tenant,
    )
    .map(|n| n as u64)
}

/// Up to `limit` logged events after `seq`, in order: (seq, event JSON).
pub fn events_after(
    conn: &Connection,
    tenant: &str,
    seq: u64,
    limit: usize,
) -> Result<Vec<(u64, String)>, StoreError> {
    let mut st = ctx(
        conn.prepare_cached(
            "SELECT seq, event FROM events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        ),
        "prepare the log read",
        tenant,
    )?;
    let rows = ctx(
        st.query_map(params![tenant, seq as i64, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        }),
        "read the log",
        tenant,
    )?;
    rows.map(|r| ctx(r, "read a logged event", tenant))
        .collect()
}
