//! Sharing tenants between instances over JetStream.
//!
//! Each instance announces itself in the key-value bucket
//! `switchboard-members` (key: instance id, value: the URL clients reach
//! it at) and each served tenant has a lease in `switchboard-owners` (key:
//! tenant, value: instance id). Both buckets expire entries after the lease
//! time, so an instance that dies loses its announcement and its leases
//! within one lease, and another instance takes its tenants: it creates the
//! lease (JetStream refuses a second create), restores the tenant's
//! snapshot and replays the log after it.
//!
//! Which instance should serve a tenant is rendezvous hashing over the live
//! members (highest hash of `member/tenant`, ties by id), so tenants spread
//! over instances and move back when one joins. An instance that holds a
//! tenant it is not the choice for hands it over: it stops serving, then
//! deletes its lease.
//!
//! The lease only decides who should write; it is not what keeps the log
//! in one order. Every append names the tenant's last message it expects
//! (see `jetstream`), so a writer that lost its lease without knowing is
//! refused by JetStream, never interleaved.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_nats::jetstream::kv;
use async_nats::jetstream::stream::StorageType;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::jetstream::Js;
use crate::log::{RecoverError, Writer};
use crate::store::StoreError;
use crate::tenant::{Tenant, TenantConfig};

/// Members bucket.
const MEMBERS: &str = "switchboard-members";
/// Leases bucket.
const OWNERS: &str = "switchboard-owners";

/// The served tenants of this instance, by name.
pub type Served = RwLock<HashMap<String, Arc<Tenant>>>;

/// This instance's place among the others.
pub struct Cluster {
    /// The log.
    pub js: Js,
    owners: kv::Store,
    members_kv: kv::Store,
    /// This instance's id.
    pub me: String,
    /// The URL clients reach this instance at.
    pub url: String,
    /// How long a lease or an announcement lives without renewal.
    pub lease: Duration,
    /// Live members as of the last look: id → URL.
    members: RwLock<BTreeMap<String, String>>,
}

/// A fixed hash, so every instance ranks alike: FNV-1a (64 bits), then
/// SplitMix64's finaliser, without which names that differ only in their
/// first byte rank the same way for every tenant.
fn score(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The member that should serve `tenant` among `members` (rendezvous
/// hashing; ties by id).
pub fn preferred<'a>(
    tenant: &str,
    members: impl IntoIterator<Item = &'a String>,
) -> Option<&'a String> {
    members
        .into_iter()
        .max_by_key(|m| (score(format!("{m}/{tenant}").as_bytes()), (*m).clone()))
}

/// Opens (or creates) a bucket whose entries expire after `ttl`.
async fn bucket(js: &Js, name: &str, ttl: Duration) -> Result<kv::Store, StoreError> {
    if let Ok(s) = js.ctx.get_key_value(name).await {
        return Ok(s);
    }
    js.ctx
        .create_key_value(kv::Config {
            bucket: name.into(),
            history: 1,
            max_age: ttl,
            storage: StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| StoreError::Nats {
            op: "create a cluster bucket",
            tenant: String::new(),
            reason: e.to_string(),
        })
}

impl Cluster {
    /// Joins: opens the buckets and announces this instance.
    pub async fn join(
        js: Js,
        me: String,
        url: String,
        lease: Duration,
    ) -> Result<Cluster, StoreError> {
        let owners = bucket(&js, OWNERS, lease).await?;
        let members_kv = bucket(&js, MEMBERS, lease).await?;
        let c = Cluster {
            js,
            owners,
            members_kv,
            me,
            url,
            lease,
            members: RwLock::new(BTreeMap::new()),
        };
        c.announce().await;
        Ok(c)
    }

    /// Renews this instance's announcement and reads who else is live.
    async fn announce(&self) {
        if let Err(e) = self.members_kv.put(&self.me, self.url.clone().into()).await {
            tracing::warn!(error = %e, "cannot announce this instance");
        }
        let mut live = BTreeMap::new();
        match self.members_kv.keys().await {
            Ok(mut keys) => {
                while let Some(k) = keys.next().await {
                    let Ok(k) = k else { break };
                    if let Ok(Some(url)) = self.members_kv.get(&k).await {
                        live.insert(k, String::from_utf8_lossy(&url).into_owned());
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list the members"),
        }
        live.insert(self.me.clone(), self.url.clone());
        *self.members.write().unwrap_or_else(|p| p.into_inner()) = live;
    }

    /// Renews the announcement every third of a lease, forever.
    pub async fn run_membership(self: Arc<Self>) {
        let mut every = tokio::time::interval(self.lease / 3);
        loop {
            every.tick().await;
            self.announce().await;
        }
    }

    /// The member that should serve `tenant` now.
    fn preferred_for(&self, tenant: &str) -> Option<String> {
        let m = self.members.read().unwrap_or_else(|p| p.into_inner());
        preferred(tenant, m.keys()).cloned()
    }

    /// The URL of the instance holding the tenant's lease, if any.
    pub async fn owner_url(&self, tenant: &str) -> Option<String> {
        let owner = self.owners.get(tenant).await.ok()??;
        let owner = String::from_utf8_lossy(&owner).into_owned();
        if let Some(u) = self
            .members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&owner)
        {
            return Some(u.clone());
        }
        let url = self.members_kv.get(&owner).await.ok()??;
        Some(String::from_utf8_lossy(&url).into_owned())
    }
}

/// How a tenant is brought up once its lease is held.
pub struct Start {
    /// Snapshot after this many events.
    pub snapshot_every: u64,
    /// Live stream buffer.
    pub stream_buffer: usize,
}

/// Stops serving `t` here: writes in progress finish, later ones are
/// refused, its timer and streams end.
async fn retire(served: &Served, t: Arc<Tenant>) {
    served
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&t.id);
    let _ = tokio::task::spawn_blocking(move || t.retire()).await;
}

/// One tenant's lease, forever: claims it when free and this instance is
/// the choice for it (or nobody claimed it for three rounds), renews it
/// while serving, hands it over when another instance is the choice, and
/// stops serving when the lease is lost.
pub async fn run_tenant(
    cluster: Arc<Cluster>,
    served: Arc<Served>,
    cfg: TenantConfig,
    start: Arc<Start>,
) {
    let id = cfg.id.clone();
    let mut every = tokio::time::interval(cluster.lease / 3);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut lease: Option<u64> = None;
    let mut free_rounds = 0u32;
    let mut recovering: Option<JoinHandle<Result<Tenant, RecoverError>>> = None;
    let mut serving: Option<Arc<Tenant>> = None;
    loop {
        tokio::select! {
            _ = every.tick() => {}
            r = async { recovering.as_mut().expect("guarded").await }, if recovering.is_some() => {
                recovering = None;
                match r {
                    Ok(Ok(t)) if lease.is_some() => {
                        let t = Arc::new(t);
                        tracing::info!(tenant = %id, seq = t.last_seq(), "serving");
                        served
                            .write()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(id.clone(), t.clone());
                        tokio::spawn(crate::tenant::run_timer(t.clone()));
                        serving = Some(t);
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::error!(tenant = %id, error = %e, "recovery failed; giving the lease up");
                        if let Some(rev) = lease.take() {
                            let _ = cluster.owners.delete_expect_revision(&id, Some(rev)).await;
                        }
                        // Leave it to another instance for a while.
                        tokio::time::sleep(cluster.lease * 2).await;
                    }
                    Err(e) => tracing::error!(tenant = %id, error = %e, "recovery task failed"),
                }
                continue;
            }
        }
        match lease {
            Some(rev) => {
                match cluster
                    .owners
                    .update(&id, cluster.me.clone().into(), rev)
                    .await
                {
                    Ok(r) => lease = Some(r),
                    Err(e) => {
                        tracing::warn!(tenant = %id, error = %e, "lease lost; no longer serving");
                        lease = None;
                        if let Some(t) = serving.take() {
                            retire(&served, t).await;
                        }
                        if let Some(h) = recovering.take() {
                            h.abort();
                        }
                        continue;
                    }
                }
                // A tenant whose writer was fenced is rebuilt from the log
                // by its write path. One whose rebuild failed too (the log
                // unreachable for a moment) refuses writes: give it up, so
                // the next round claims and recovers it afresh.
                let choice = cluster.preferred_for(&id);
                let broken = serving.as_ref().is_some_and(|t| t.is_broken());
                let elsewhere =
                    serving.is_some() && choice.as_ref().is_some_and(|c| *c != cluster.me);
                if broken || elsewhere {
                    if broken {
                        tracing::warn!(tenant = %id, "state lost after a failed append; recovering again");
                    } else {
                        tracing::info!(tenant = %id, to = ?choice, "handing over");
                    }
                    // Stop serving first, then free the lease, so no one
                    // claims it while this instance still writes.
                    if let Some(t) = serving.take() {
                        retire(&served, t).await;
                    }
                    let _ = cluster
                        .owners
                        .delete_expect_revision(&id, lease.take())
                        .await;
                    free_rounds = 0;
                }
            }
            None => {
                let holder = cluster.owners.get(&id).await;
                let free = matches!(holder, Ok(None));
                free_rounds = if free { free_rounds + 1 } else { 0 };
                let chosen = cluster.preferred_for(&id).as_deref() == Some(cluster.me.as_str());
                if free && (chosen || free_rounds >= 3) {
                    if let Ok(rev) = cluster.owners.create(&id, cluster.me.clone().into()).await {
                        tracing::info!(tenant = %id, "lease taken; recovering");
                        lease = Some(rev);
                        let (cfg, js, start) = (cfg.clone(), cluster.js.clone(), start.clone());
                        recovering = Some(tokio::task::spawn_blocking(move || {
                            Tenant::open(
                                cfg,
                                Writer::JetStream { js, last: 0 },
                                start.snapshot_every,
                                start.stream_buffer,
                            )
                        }));
                    }
                }
            }
        }
    }
}
