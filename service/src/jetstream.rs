//! The log on NATS JetStream, for running several instances over shared
//! tenants.
//!
//! - Stream `SWITCHBOARD_LOG`, subject `switchboard.log.<tenant>`: one
//!   message per acknowledged batch (its events, decisions and lifecycle
//!   records), so a batch is in the log whole or not at all. Every append
//!   carries `Nats-Expected-Last-Subject-Sequence`, the stream sequence of
//!   the tenant's last message this writer applied: JetStream refuses the
//!   append if anyone else wrote to the tenant since. That check, not the
//!   ownership lease, is what keeps one order per tenant.
//! - Object store `switchboard-snapshots`, one object per tenant: the stream
//!   sequence it was taken at (8 bytes, little-endian) and the engine
//!   snapshot.
//! - Key-value bucket `switchboard-policies`: the policy each tenant's log
//!   started with.
//!
//! Calls are async; the tenant's write path runs on blocking threads and
//! enters them with [`Js::block_on`].

use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::context::{Publish, PublishErrorKind};
use async_nats::jetstream::kv::{self, CreateErrorKind};
use async_nats::jetstream::object_store::{self, ObjectStore};
use async_nats::jetstream::stream::{self, Stream};
use async_nats::jetstream::{self, Context};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use crate::store::{Accepted, StoreError};

/// The log stream's name.
pub const STREAM: &str = "SWITCHBOARD_LOG";
/// Subjects of the log: one per tenant.
const SUBJECT_PREFIX: &str = "switchboard.log.";
/// Snapshots.
const SNAPSHOTS: &str = "switchboard-snapshots";
/// First policies.
const POLICIES: &str = "switchboard-policies";
/// Header with the first and last `input_seq` of the batch in a message.
const FIRST: &str = "Sb-First-Seq";
const LAST: &str = "Sb-Last-Seq";
/// How long one JetStream call may take before it is given up (the
/// client gets 503; an append given up may still have been stored).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to JetStream with the handles this service uses; cheap to
/// clone (the handles hold their streams' configurations, kilobytes).
#[derive(Clone)]
pub struct Js(Arc<Handles>);

impl std::ops::Deref for Js {
    type Target = Handles;
    fn deref(&self) -> &Handles {
        &self.0
    }
}

/// What a [`Js`] shares.
pub struct Handles {
    /// The JetStream context.
    pub ctx: Context,
    /// The connection, to refuse appends at once while it is down.
    client: async_nats::Client,
    stream: Stream,
    snapshots: ObjectStore,
    policies: kv::Store,
    /// The server's largest message; a batch above it is refused.
    pub max_payload: usize,
    rt: tokio::runtime::Handle,
}

/// One input as logged in a batch message.
#[derive(Serialize, Deserialize)]
pub struct LoggedInput {
    /// Its `input_seq`.
    pub seq: u64,
    /// The event, as JSON.
    pub event: String,
    /// Its decisions, as JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<String>,
    /// Its lifecycle records: (kind, JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<(String, String)>,
}

/// A batch message read back: its stream sequence and inputs.
pub struct LoggedBatch {
    /// Stream sequence of the message.
    pub stream_seq: u64,
    /// The inputs, in order.
    pub inputs: Vec<LoggedInput>,
}

/// Wraps a NATS failure with what was being done.
fn err(op: &'static str, tenant: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Nats {
        op,
        tenant: tenant.to_string(),
        reason: e.to_string(),
    }
}

/// The tenant's subject.
pub fn subject(tenant: &str) -> String {
    format!("{SUBJECT_PREFIX}{tenant}")
}

impl Js {
    /// Connects and creates the stream and buckets if missing.
    pub async fn connect(url: &str) -> Result<Js, StoreError> {
        let client = async_nats::ConnectOptions::new()
            .name("switchboard-service")
            .connect(url)
            .await
            .map_err(|e| err("connect to NATS", "", e))?;
        let max_payload = client.server_info().max_payload;
        let ctx = jetstream::new(client.clone());
        let stream = ctx
            .get_or_create_stream(stream::Config {
                name: STREAM.into(),
                subjects: vec![format!("{SUBJECT_PREFIX}>")],
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| err("create the log stream", "", e))?;
        let snapshots = match ctx.get_object_store(SNAPSHOTS).await {
            Ok(s) => s,
            Err(_) => ctx
                .create_object_store(object_store::Config {
                    bucket: SNAPSHOTS.into(),
                    storage: stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| err("create the snapshot store", "", e))?,
        };
        let policies = match ctx.get_key_value(POLICIES).await {
            Ok(s) => s,
            Err(_) => ctx
                .create_key_value(kv::Config {
                    bucket: POLICIES.into(),
                    history: 1,
                    storage: stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| err("create the policy bucket", "", e))?,
        };
        Ok(Js(Arc::new(Handles {
            ctx,
            client,
            stream,
            snapshots,
            policies,
            max_payload,
            rt: tokio::runtime::Handle::current(),
        })))
    }

    /// Runs a JetStream call from a blocking thread (the write path).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The policy the tenant's log started with, if any.
    pub async fn stored_policy(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        let v = self
            .policies
            .get(tenant)
            .await
            .map_err(|e| err("read the tenant's first policy", tenant, e))?;
        Ok(v.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Stores the first policy; if another instance stored one first, that
    /// one is returned for the caller to compare.
    pub async fn store_policy(&self, tenant: &str, policy: &str) -> Result<(), StoreError> {
        match self
            .policies
            .create(tenant, policy.to_string().into())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(err("store the tenant's first policy", tenant, e)),
        }
    }

    /// Appends a batch as one message, only if the tenant's last message is
    /// still `expected` (0: none). Returns the new message's sequence.
    pub async fn append(
        &self,
        tenant: &str,
        expected: u64,
        batch: &[Accepted],
    ) -> Result<u64, StoreError> {
        let inputs: Vec<LoggedInputRef<'_>> = batch
            .iter()
            .map(|a| LoggedInputRef {
                seq: a.seq,
                event: &a.event,
                decisions: &a.decisions,
                records: &a.records,
            })
            .collect();
        let payload = serde_json::to_vec(&inputs).map_err(|e| err("encode a batch", tenant, e))?;
        if payload.len() > self.max_payload {
            return Err(StoreError::TooLarge {
                bytes: payload.len(),
                max: self.max_payload,
            });
        }
        let (first, last) = match (batch.first(), batch.last()) {
            (Some(f), Some(l)) => (f.seq, l.seq),
            _ => return Err(err("append", tenant, "empty batch")),
        };
        let mut headers = HeaderMap::new();
        headers.insert(FIRST, first.to_string().as_str());
        headers.insert(LAST, last.to_string().as_str());
        // While disconnected the client would buffer the message and send it
        // on reconnection, after this call has given up: refuse it instead.
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Err(err("append a batch", tenant, "not connected to NATS"));
        }
        let publish = Publish::build()
            .payload(payload.into())
            .headers(headers)
            .expected_last_subject_sequence(expected);
        let ack = async {
            self.ctx
                .send_publish(subject(tenant), publish)
                .await
                .map_err(|e| err("send a batch", tenant, e))?
                .await
                .map_err(|e| match e.kind() {
                    PublishErrorKind::WrongLastSequence => StoreError::Fenced {
                        tenant: tenant.to_string(),
                        expected,
                    },
                    // Sent, not confirmed: it may be stored yet.
                    PublishErrorKind::TimedOut => StoreError::Unconfirmed {
                        tenant: tenant.to_string(),
                        reason: e.to_string(),
                    },
                    _ => err("append a batch", tenant, e),
                })
        };
        let ack = tokio::time::timeout(CALL_TIMEOUT, ack)
            .await
            .map_err(|_| StoreError::Unconfirmed {
                tenant: tenant.to_string(),
                reason: format!("no answer in {CALL_TIMEOUT:?}"),
            })??;
        Ok(ack.sequence)
    }

    /// Stores a snapshot taken after the message at `stream_seq`.
    pub async fn put_snapshot(
        &self,
        tenant: &str,
        stream_seq: u64,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut all = Vec::with_capacity(8 + bytes.len());
        all.extend_from_slice(&stream_seq.to_le_bytes());
        all.extend_from_slice(bytes);
        let mut reader: &[u8] = &all;
        self.snapshots
            .put(tenant, &mut reader)
            .await
            .map(drop)
            .map_err(|e| err("store a snapshot", tenant, e))
    }

    /// The tenant's snapshot: (stream sequence, snapshot bytes).
    pub async fn last_snapshot(&self, tenant: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let mut obj = match self.snapshots.get(tenant).await {
            Ok(o) => o,
            Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err("read the snapshot", tenant, e)),
        };
        let mut all = Vec::new();
        obj.read_to_end(&mut all)
            .await
            .map_err(|e| err("read the snapshot", tenant, e))?;
        if all.len() < 8 {
            return Err(err("read the snapshot", tenant, "shorter than its header"));
        }
        let mut head = [0u8; 8];
        head.copy_from_slice(&all[..8]);
        Ok(Some((u64::from_le_bytes(head), all.split_off(8))))
    }

    /// Stream sequence and last `input_seq` of the tenant's last message.
    pub async fn last_message(&self, tenant: &str) -> Result<Option<(u64, u64)>, StoreError> {
        match self
            .stream
            .get_last_raw_message_by_subject(&subject(tenant))
            .await
        {
            Ok(m) => {
                let last = m
                    .headers
                    .get(LAST)
                    .and_then(|v| v.as_str().parse().ok())
                    .ok_or_else(|| err("read the last message", tenant, "no Sb-Last-Seq"))?;
                Ok(Some((m.sequence, last)))
            }
            Err(e)
                if e.kind()
                    == async_nats::jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
            {
                Ok(None)
            }
            Err(e) => Err(err("read the last message", tenant, e)),
        }
    }

    /// Reads the tenant's messages after stream sequence `after`, in order,
    /// up to the last one present when the call began.
    pub async fn cursor(&self, tenant: &str, after: u64) -> Result<Cursor, StoreError> {
        let end = self.last_message(tenant).await?.map_or(0, |(s, _)| s);
        let deliver_policy = if after == 0 {
            DeliverPolicy::All
        } else {
            DeliverPolicy::ByStartSequence {
                start_sequence: after + 1,
            }
        };
        let messages = if end > after {
            let consumer = self
                .stream
                .create_consumer(OrderedConfig {
                    filter_subject: subject(tenant),
                    deliver_policy,
                    ..Default::default()
                })
                .await
                .map_err(|e| err("open a log reader", tenant, e))?;
            Some(
                consumer
                    .messages()
                    .await
                    .map_err(|e| err("open a log reader", tenant, e))?,
            )
        } else {
            None
        };
        Ok(Cursor {
            tenant: tenant.to_string(),
            messages,
            end,
        })
    }
}

/// Borrowing form of [`LoggedInput`] for writing.
#[derive(Serialize)]
struct LoggedInputRef<'a> {
    seq: u64,
    event: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    decisions: &'a [String],
    #[serde(skip_serializing_if = "<[(&'static str, String)]>::is_empty")]
    records: &'a [(&'static str, String)],
}

/// An ordered read of one tenant's log up to where it ended when opened.
pub struct Cursor {
    tenant: String,
    messages: Option<async_nats::jetstream::consumer::pull::Ordered>,
    end: u64,
}

impl Cursor {
    /// The next batch, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<LoggedBatch>, StoreError> {
        let Some(messages) = self.messages.as_mut() else {
            return Ok(None);
        };
        let next = tokio::time::timeout(CALL_TIMEOUT, messages.next())
            .await
            .map_err(|_| err("read the log", &self.tenant, "timed out"))?;
        let m = match next {
            Some(m) => m.map_err(|e| err("read the log", &self.tenant, e))?,
            None => return Err(err("read the log", &self.tenant, "reader closed")),
        };
        let stream_seq = m
            .info()
            .map_err(|e| err("read the log", &self.tenant, e))?
            .stream_sequence;
        let inputs: Vec<LoggedInput> = serde_json::from_slice(&m.payload)
            .map_err(|e| err("decode a logged batch", &self.tenant, e))?;
        if stream_seq >= self.end {
            self.messages = None;
        }
        Ok(Some(LoggedBatch { stream_seq, inputs }))
    }
}

#[cfg(test)]
mod tests {
    //! Against a real `nats-server` (Debian package `nats-server`) on a
    //! free loopback port.

    use super::*;
    use std::process::{Child, Command, Stdio};

    struct Server(Child, std::path::PathBuf);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }

    fn start() -> (Server, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("sb-js-unit-{}-{port}", std::process::id()));
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (apt-get install nats-server)");
        let server = Server(child, dir);
        let t0 = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        (server, format!("nats://127.0.0.1:{port}"))
    }

    fn batch(first: u64, n: u64, pad: usize) -> Vec<Accepted> {
        (first..first + n)
            .map(|seq| Accepted {
                seq,
                event: format!(
                    r#"{{"type":"assign","at":{seq},"pad":"{}"}}"#,
                    "x".repeat(pad)
                ),
                decisions: vec![format!(r#"{{"input_seq":{seq}}}"#)],
                records: vec![("conversation", format!(r#"{{"n":{seq}}}"#))],
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_are_refused_unless_they_follow_the_last_message() {
        let (_server, url) = start();
        let js = Js::connect(&url).await.unwrap();
        assert_eq!(js.last_message("t").await.unwrap(), None);
        let s1 = js.append("t", 0, &batch(1, 3, 0)).await.unwrap();
        // A second writer that has not seen s1 (expects an empty log).
        match js.append("t", 0, &batch(1, 3, 0)).await {
            Err(StoreError::Fenced { tenant, expected }) => {
                assert_eq!((tenant.as_str(), expected), ("t", 0));
            }
            other => panic!("a stale append was not refused: {:?}", other.map(|_| ())),
        }
        // Another tenant's subject has its own order.
        let other = js.append("u", 0, &batch(1, 1, 0)).await.unwrap();
        let s2 = js.append("t", s1, &batch(4, 2, 0)).await.unwrap();
        assert!(s1 < other && other < s2);
        assert_eq!(js.last_message("t").await.unwrap(), Some((s2, 5)));
        // Read back in order, each input once, with decisions and records.
        let mut c = js.cursor("t", 0).await.unwrap();
        let mut seqs = Vec::new();
        while let Some(b) = c.next().await.unwrap() {
            for i in b.inputs {
                assert_eq!(i.decisions.len(), 1);
                assert_eq!(i.records[0].0, "conversation");
                seqs.push(i.seq);
            }
        }
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        // From a position: only what follows.
        let mut c = js.cursor("t", s1).await.unwrap();
        assert_eq!(c.next().await.unwrap().unwrap().stream_seq, s2);
        assert!(c.next().await.unwrap().is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshots_policies_and_oversized_batches() {
        let (_server, url) = start();
        let js = Js::connect(&url).await.unwrap();
        assert_eq!(js.last_snapshot("t").await.unwrap(), None);
        // Larger than one message: the object store chunks it.
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        js.put_snapshot("t", 42, &bytes).await.unwrap();
        js.put_snapshot("t", 43, &bytes[..10]).await.unwrap();
        assert_eq!(
            js.last_snapshot("t").await.unwrap(),
            Some((43, bytes[..10].to_vec()))
        );
        js.put_snapshot("t", 44, &bytes).await.unwrap();
        assert_eq!(js.last_snapshot("t").await.unwrap(), Some((44, bytes)));
        // The first stored policy stays.
        js.store_policy("t", "{\"a\":1}").await.unwrap();
        js.store_policy("t", "{\"b\":2}").await.unwrap();
        assert_eq!(
            js.stored_policy("t").await.unwrap().as_deref(),
            Some("{\"a\":1}")
        );
        // A batch over the server's largest message is refused, not cut.
        let big = batch(1, 2, js.max_payload);
        match js.append("t", 0, &big).await {
            Err(StoreError::TooLarge { bytes, max }) => assert!(bytes > max),
            other => panic!(
                "an oversized batch was not refused: {:?}",
                other.map(|_| ())
            ),
        }
        assert_eq!(js.last_message("t").await.unwrap(), None);
    }
}
