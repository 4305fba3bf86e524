//! The one-pass, mergeable KPI accumulator, plus row validation and skip-bad-rows ingestion.

use std::borrow::Cow;

use hashbrown::{HashMap, HashTable};
use smallvec::SmallVec;

use super::KpiError;
use super::config::{KpiConfig, PeriodAnchor};
use super::error::SkipReason;
use super::sketch::{DurationStats, Sample};
use crate::codec::{Reader, Writer};
use crate::ids::{ChannelId, ConversationId, OperatorId, QueueId, TeamId, TierId};
use crate::mix::mix64;
use crate::record::{Activity, StatusInterval};
use crate::record::{ConversationRecord, Outcome};
use crate::time::Timestamp;

const MAGIC: &[u8; 4] = b"SBKP";
/// Opens the queue section at the end of the encoding, written only when some record is in a
/// declared queue; bytes without queues are those of accumulators before queues existed.
const QUEUE_SECTION: &[u8; 4] = b"SBKQ";

/// A queue breakdown key as one `u64`: 0 = the default queue, `2³² + id` = a declared queue, so
/// the integers sort as the keys do.
fn queue_code(q: Option<QueueId>) -> u64 {
    q.map_or(0, |q| (1u64 << 32) | u64::from(q.0))
}
/// Version of the byte encoding written by [`KpiAccumulator::to_bytes`].
pub const ENCODING_VERSION: u16 = 1;

/// Counter slots of a [`Cell`]. The order is the encoding order: append only.
pub(crate) mod ix {
    pub(crate) const OFFERED: usize = 0;
    pub(crate) const ANSWERED: usize = 1;
    pub(crate) const ABANDONED: usize = 2;
    pub(crate) const SHORT_ABANDONED: usize = 3;
    pub(crate) const MESSAGE_LEFT: usize = 4;
    pub(crate) const MESSAGES_ANSWERED: usize = 5;
    pub(crate) const CLOSED_UNASSIGNED: usize = 6;
    pub(crate) const PENDING: usize = 7;
    pub(crate) const UNANSWERED_AFTER_ASSIGN: usize = 8;
    pub(crate) const HANDLED: usize = 9;
    pub(crate) const RESOLVED: usize = 10;
    pub(crate) const TRANSFERS: usize = 11;
    pub(crate) const TRANSFERRED: usize = 12;
    pub(crate) const MISSED_OFFERS: usize = 13;
    pub(crate) const RATED: usize = 14;
    pub(crate) const SATISFACTION_SUM: usize = 15;
    pub(crate) const SATISFIED: usize = 16;
    pub(crate) const BUSY_MS: usize = 17;
    pub(crate) const IDLE_MS: usize = 18;
    pub(crate) const N: usize = 19;
}

/// Per-threshold "within T" counters.
pub(crate) mod within {
    pub(crate) const ANSWERED: usize = 0;
    pub(crate) const ABANDONED: usize = 1;
    pub(crate) const MESSAGE_LEFT: usize = 2;
    pub(crate) const FIRST_RESPONSE: usize = 3;
    pub(crate) const N: usize = 4;
}

/// Duration slots of a [`Cell`].
pub(crate) mod dur {
    pub(crate) const WAIT: usize = 0;
    pub(crate) const FIRST_RESPONSE: usize = 1;
    pub(crate) const FIRST_RESPONSE_BUSINESS: usize = 2;
    pub(crate) const TIME_TO_ABANDON: usize = 3;
    pub(crate) const HANDLE: usize = 4;
    pub(crate) const N: usize = 5;
}

/// The integer state of one breakdown cell (overall, one tier, one channel, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    pub(crate) c: [u64; ix::N],
    pub(crate) within: Vec<[u64; within::N]>,
    pub(crate) d: [DurationStats; dur::N],
    /// Counts per interned tag index (may be shorter than the tag table).
    pub(crate) tags: Vec<u64>,
}

/// What one record contributes, computed once and applied to each of its cells (its key
/// combination's, or its overall, tier, channel and team ones, and its operator's), so a cell
/// update is adds only: no branches on the record's fields and no bucket search.
struct Contribution {
    /// Increments per `ix::*` counter.
    counts: [u64; ix::N],
    /// Bit j set = within threshold j, per `within::*` slot (all 0 outside the demand period).
    masks: [u16; within::N],
    /// Durations per `dur::*` slot; only those with their bit in `present` count.
    samples: [Sample; dur::N],
    present: u8,
    /// Interned tags, deduplicated (demand only).
    tags: SmallVec<[u32; 8]>,
}

impl Cell {
    fn new(thresholds: usize) -> Self {
        Cell {
            c: [0; ix::N],
            within: vec![[0; within::N]; thresholds],
            d: Default::default(),
            tags: Vec::new(),
        }
    }

    #[inline]
    fn apply(&mut self, k: &Contribution) {
        for (a, d) in self.c.iter_mut().zip(&k.counts) {
            *a += d;
        }
        if k.masks != [0; within::N] {
            for (slot, &mask) in k.masks.iter().enumerate() {
                let mut m = mask;
                while m != 0 {
                    let j = m.trailing_zeros() as usize;
                    self.within[j][slot] += 1;
                    m &= m - 1;
                }
            }
        }
        let mut p = k.present;
        while p != 0 {
            let slot = p.trailing_zeros() as usize;
            self.d[slot].push_sample(k.samples[slot]);
            p &= p - 1;
        }
        for &t in &k.tags {
            let t = t as usize;
            if self.tags.len() <= t {
                self.tags.resize(t + 1, 0);
            }
            self.tags[t] += 1;
        }
    }

    fn merge(&mut self, other: &Cell, tag_map: &[u32]) {
        // Saturating: counts never get near u64::MAX from real data, but decoded bytes may.
        for (a, b) in self.c.iter_mut().zip(other.c.iter()) {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self.within.iter_mut().zip(other.within.iter()) {
            for (x, y) in a.iter_mut().zip(b.iter()) {
                *x = x.saturating_add(*y);
            }
        }
        for (a, b) in self.d.iter_mut().zip(other.d.iter()) {
            a.merge(b);
        }
        for (i, &n) in other.tags.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let t = tag_map.get(i).copied().unwrap_or(i as u32) as usize;
            if self.tags.len() <= t {
                self.tags.resize(t + 1, 0);
            }
            self.tags[t] = self.tags[t].saturating_add(n);
        }
    }

    fn encode(&self, w: &mut Writer, rank: &[u32]) {
        w.len(ix::N);
        self.c.iter().for_each(|&x| w.u64(x));
        w.len(self.within.len());
        for row in &self.within {
            row.iter().for_each(|&x| w.u64(x));
        }
        self.d.iter().for_each(|d| d.encode(w));
        let mut tags: SmallVec<[(u32, u64); 16]> = self
            .tags
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, &n)| (rank[i], n))
            .collect();
        tags.sort_unstable();
        w.len(tags.len());
        for (r, n) in tags {
            w.u32(r);
            w.u64(n);
        }
    }

    fn decode(r: &mut Reader<'_>, thresholds: usize, n_tags: usize) -> Result<Self, KpiError> {
        if r.u32()? as usize != ix::N {
            return Err(r.invalid("wrong number of counters").into());
        }
        let mut cell = Cell::new(thresholds);
        for x in cell.c.iter_mut() {
            *x = r.u64()?;
        }
        if r.u32()? as usize != thresholds {
            return Err(r
                .invalid("service-level rows disagree with the thresholds")
                .into());
        }
        for row in cell.within.iter_mut() {
            for x in row.iter_mut() {
                *x = r.u64()?;
            }
        }
        for d in cell.d.iter_mut() {
            *d = DurationStats::decode(r)?;
        }
        let n = r.len(12)?;
        let mut last: Option<u32> = None;
        for _ in 0..n {
            let t = r.u32()?;
            let count = r.u64()?;
            if (t as usize) >= n_tags || last.is_some_and(|l| l >= t) || count == 0 {
                return Err(r.invalid("tag counts out of order, zero or unknown").into());
            }
            last = Some(t);
            if cell.tags.len() <= t as usize {
                cell.tags.resize(t as usize + 1, 0);
            }
            cell.tags[t as usize] = count;
        }
        Ok(cell)
    }

    fn is_empty(&self) -> bool {
        self.c.iter().all(|&x| x == 0) && self.d.iter().all(|d| d.count() == 0)
    }
}

/// Keys of a [`Breakdown`]. Small keys (the usual ids: operators, tiers and channels numbered
/// from 0 or 1) index the breakdown's slots directly, with no hashing and no probe; any other
/// key is hashed ([`mix64`] of its words) into a table. A record's two cell lookups took 161
/// instructions through a general-purpose hash map and take 91 so (callgrind, KPI bench).
/// Keys are compared whole either way, and their order is imposed only where it shows
/// (sorted output).
pub(crate) trait CellKey: Copy + Eq {
    /// The key's index in the direct table, if below [`DIRECT_LIMIT`].
    fn direct(&self) -> Option<usize>;
    /// The key's hash for the table of the others.
    fn hash64(&self) -> u64;
}

/// Keys with a direct index below this find their cell without hashing (ids below it; queue
/// ids below it minus one, index 0 being the default queue): a breakdown's direct table grows
/// to its largest such index seen, at most 64 KiB.
const DIRECT_LIMIT: usize = 1 << 14;

/// The direct index of a small id.
fn small(id: u64) -> Option<usize> {
    (id < DIRECT_LIMIT as u64).then_some(id as usize)
}

/// Ids of 32 bits: tiers, channels, teams.
macro_rules! small_id_key {
    ($($id:ty),*) => {$(
        impl CellKey for $id {
            fn direct(&self) -> Option<usize> {
                small(u64::from(self.0))
            }
            fn hash64(&self) -> u64 {
                mix64(u64::from(self.0))
            }
        }
    )*};
}

small_id_key!(TierId, ChannelId, TeamId);

impl CellKey for OperatorId {
    fn direct(&self) -> Option<usize> {
        small(self.0)
    }
    fn hash64(&self) -> u64 {
        mix64(self.0)
    }
}

impl CellKey for Option<QueueId> {
    fn direct(&self) -> Option<usize> {
        match self {
            None => Some(0),
            Some(q) => small(u64::from(q.0) + 1),
        }
    }
    fn hash64(&self) -> u64 {
        mix64(queue_code(*self))
    }
}

/// One breakdown (per tier, channel, team or operator): cells in dense slots in first-seen
/// order, found through a direct table (small keys) or a hash table (the others), so a
/// record's cell costs an index or one hash probe rather than an ordered-map search over cells
/// hundreds of bytes wide. Key order is imposed only where it shows: the encoding and the
/// report sort the keys.
#[derive(Clone)]
pub(crate) struct Breakdown<K> {
    /// Slot + 1 by [`CellKey::direct`] index (0: no cell), as long as the largest index seen.
    by_index: Vec<u32>,
    /// Slots of the keys without a direct index, hashed by [`CellKey::hash64`].
    by_hash: HashTable<u32>,
    keys: Vec<K>,
    cells: Vec<Cell>,
}

/// The cells by key; the lookup tables (up to 16,384 entries) are left out.
impl<K: core::fmt::Debug> core::fmt::Debug for Breakdown<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.keys.iter().zip(&self.cells))
            .finish()
    }
}

impl<K> Default for Breakdown<K> {
    fn default() -> Self {
        Breakdown {
            by_index: Vec::new(),
            by_hash: HashTable::new(),
            keys: Vec::new(),
            cells: Vec::new(),
        }
    }
}

impl<K: CellKey> Breakdown<K> {
    /// The cell of `key`, created empty if new.
    #[inline]
    fn cell(&mut self, key: K, thresholds: usize) -> &mut Cell {
        let slot = self.cells.len() as u32;
        match key.direct() {
            Some(d) => match self.by_index.get(d) {
                Some(&s) if s != 0 => return &mut self.cells[s as usize - 1],
                _ => {
                    if self.by_index.len() <= d {
                        self.by_index.resize(d + 1, 0);
                    }
                    self.by_index[d] = slot + 1;
                }
            },
            None => {
                let hash = key.hash64();
                let keys = &self.keys;
                if let Some(&i) = self.by_hash.find(hash, |&i| keys[i as usize] == key) {
                    return &mut self.cells[i as usize];
                }
                self.by_hash
                    .insert_unique(hash, slot, |&i| keys[i as usize].hash64());
            }
        }
        self.keys.push(key);
        self.cells.push(Cell::new(thresholds));
        &mut self.cells[slot as usize]
    }

    /// Number of keys.
    pub(crate) fn len(&self) -> usize {
        self.cells.len()
    }

    /// The cells in first-seen order (for merging, where order does not matter).
    fn iter(&self) -> impl Iterator<Item = (K, &Cell)> {
        self.keys.iter().copied().zip(&self.cells)
    }

    /// Adds every cell of `other` (tag indices translated by `tag_map`).
    fn merge(&mut self, other: &Breakdown<K>, tag_map: &[u32], thresholds: usize) {
        for (k, c) in other.iter() {
            self.cell(k, thresholds).merge(c, tag_map);
        }
    }

    fn clear(&mut self) {
        self.by_index.clear();
        self.by_hash.clear();
        self.keys.clear();
        self.cells.clear();
    }
}

impl<K: CellKey + Ord> Breakdown<K> {
    /// The cells in key order (for the encoding and the report).
    pub(crate) fn sorted(&self) -> Vec<(K, &Cell)> {
        let mut v: Vec<(K, &Cell)> = self.iter().collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v
    }
}

/// The breakdowns whose keys come from the record itself: overall, per tier, per channel, per
/// team and per queue (`None`: the default queue).
#[derive(Debug, Clone)]
pub(crate) struct Groups {
    pub(crate) overall: Cell,
    pub(crate) by_tier: Breakdown<TierId>,
    pub(crate) by_channel: Breakdown<ChannelId>,
    pub(crate) by_team: Breakdown<TeamId>,
    pub(crate) by_queue: Breakdown<Option<QueueId>>,
}

impl Groups {
    fn new(thresholds: usize) -> Self {
        Groups {
            overall: Cell::new(thresholds),
            by_tier: Breakdown::default(),
            by_channel: Breakdown::default(),
            by_team: Breakdown::default(),
            by_queue: Breakdown::default(),
        }
    }

    /// Adds the cell of the records with key combination `key` to each of its cells.
    fn add(&mut self, key: Combo, cell: &Cell, tag_map: &[u32], thresholds: usize) {
        self.overall.merge(cell, tag_map);
        self.by_tier.cell(key.tier, thresholds).merge(cell, tag_map);
        self.by_channel
            .cell(key.channel, thresholds)
            .merge(cell, tag_map);
        if let Some(team) = key.team {
            self.by_team.cell(team, thresholds).merge(cell, tag_map);
        }
        self.by_queue
            .cell(key.queue, thresholds)
            .merge(cell, tag_map);
    }

    fn merge(&mut self, other: &Groups, tag_map: &[u32], thresholds: usize) {
        self.overall.merge(&other.overall, tag_map);
        self.by_tier.merge(&other.by_tier, tag_map, thresholds);
        self.by_channel
            .merge(&other.by_channel, tag_map, thresholds);
        self.by_team.merge(&other.by_team, tag_map, thresholds);
        self.by_queue.merge(&other.by_queue, tag_map, thresholds);
    }

    /// Whether any record is in a declared queue (not the default one). Without one the queue
    /// breakdown is derivable from the overall cell, and the encoding leaves it out.
    fn has_declared_queues(&self) -> bool {
        self.by_queue.iter().any(|(q, _)| q.is_some())
    }
}

/// The key combination of a record's [`Groups`] cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Combo {
    tier: TierId,
    channel: ChannelId,
    team: Option<TeamId>,
    queue: Option<QueueId>,
}

impl CellKey for Combo {
    /// Mixed radix over the four ids when they are small (tiers below 16, channels below 8,
    /// teams below 15, queues below 7: most setups), so the usual record finds its
    /// combination's cell by index.
    fn direct(&self) -> Option<usize> {
        let team = self.team.map_or(0, |t| u64::from(t.0) + 1);
        let queue = self.queue.map_or(0, |q| u64::from(q.0) + 1);
        let (tier, channel) = (u64::from(self.tier.0), u64::from(self.channel.0));
        (tier < 16 && channel < 8 && team < 16 && queue < 8)
            .then_some((tier | channel << 4 | team << 7 | queue << 11) as usize)
    }

    /// The four ids in three words (tier and channel share one), each mixed into the next.
    fn hash64(&self) -> u64 {
        let team = self.team.map_or(0, |t| (1u64 << 32) | u64::from(t.0));
        let h = mix64(u64::from(self.tier.0) | u64::from(self.channel.0) << 32);
        mix64(mix64(h ^ team) ^ queue_code(self.queue))
    }
}

/// Most key combinations held apart before they are folded into the [`Groups`].
const PENDING_LIMIT: usize = 1024;

/// Below this many records per combination on average when the pending cells fill up, cells
/// per combination save nothing and records go straight to the [`Groups`].
const PENDING_MIN_RECORDS: u64 = 8;

/// One-pass, mergeable KPI state over [`ConversationRecord`]s and operator
/// [`StatusInterval`]s.
///
/// All state is integers (counts, sums of ms, min, max, sketch buckets) held overall and per
/// tier, channel, team, queue and operator in dense slots behind hash indexes, so:
/// - `merge` is commutative and associative and `merge(acc(A), acc(B)) == acc(A ∪ B)` exactly,
///   whatever the split and merge order;
/// - report order and the encoding never depend on hashing or arrival order: keys are sorted
///   when they are written out.
///
/// Equality compares the canonical encoding ([`KpiAccumulator::to_bytes`]), so two accumulators
/// that interned tags in a different order are still equal.
///
/// Records without a team (or operator) are counted overall and per tier and channel, not in the
/// team (operator) breakdown. Records without a queue count in the default queue (key `None`)
/// of the queue breakdown. Memory grows with the number of distinct keys and tags, never with
/// the number of records.
///
/// A record updates one cell per (tier, channel, team, queue) combination rather than the
/// overall, tier, channel, team and queue cells: with few combinations (the usual case) that is
/// one cell update instead of five. The combinations are folded into those breakdowns when the
/// state is read (report, encoding) or when more than 1,024 pile up; the result is the same
/// integers, since cells merge exactly. Inputs with few records per combination switch to
/// updating the five breakdowns directly.
#[derive(Debug, Clone)]
pub struct KpiAccumulator {
    config: KpiConfig,
    records: u64,
    out_of_period: u64,
    skipped: [u64; 8],
    tag_names: Vec<Box<str>>,
    tag_index: HashMap<Box<str>, u32>,
    /// Overall, tier, channel and team cells, without the `pending` ones.
    groups: Groups,
    /// Cells per key combination not yet added to `groups`.
    pending: Breakdown<Combo>,
    /// Records in `pending`.
    pending_records: u64,
    /// Whether records skip `pending` (too many combinations with too few records).
    direct: bool,
    pub(crate) by_operator: Breakdown<OperatorId>,
}

impl PartialEq for KpiAccumulator {
    fn eq(&self, other: &Self) -> bool {
        self.to_bytes() == other.to_bytes()
    }
}

impl Eq for KpiAccumulator {}

impl KpiAccumulator {
    /// An empty accumulator (the identity of [`KpiAccumulator::merge`]).
    ///
    /// # Errors
    /// Whatever [`KpiConfig::validate`] reports.
    pub fn new(config: KpiConfig) -> Result<Self, KpiError> {
        config.validate()?;
        let n = config.service_level_thresholds.len();
        Ok(KpiAccumulator {
            config,
            records: 0,
            out_of_period: 0,
            skipped: [0; 8],
            tag_names: Vec::new(),
            tag_index: HashMap::new(),
            groups: Groups::new(n),
            pending: Breakdown::default(),
            pending_records: 0,
            direct: false,
            by_operator: Breakdown::default(),
        })
    }

    /// The config this accumulator was built with.
    pub fn config(&self) -> &KpiConfig {
        &self.config
    }

    /// Valid records accumulated (in or out of the period).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Valid records that fell outside the period on every anchor.
    pub fn out_of_period(&self) -> u64 {
        self.out_of_period
    }

    /// Rows skipped for `reason` (see [`Ingest`]).
    pub fn skipped(&self, reason: SkipReason) -> u64 {
        self.skipped[reason.index()]
    }

    /// Rows skipped for any reason.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().sum()
    }

    pub(crate) fn tag_name(&self, i: usize) -> &str {
        self.tag_names.get(i).map_or("", |s| s)
    }

    /// Validates `rec` ([`ConversationRecord::validate`]) and accumulates it. Errors name
    /// row `records() + skipped_total() + 1`, the record's 1-based position in this
    /// accumulator's stream; use [`KpiAccumulator::push_line`] to name your own row.
    ///
    /// # Errors
    /// As [`ConversationRecord::validate`]; nothing is accumulated on error.
    pub fn push(&mut self, rec: &ConversationRecord) -> Result<(), KpiError> {
        if rec.is_valid() {
            // The row number only matters for an error.
            self.accumulate(rec);
            return Ok(());
        }
        let line = self.records + self.skipped_total() + 1;
        self.push_line(line, rec)
    }

    /// As [`KpiAccumulator::push`], with errors naming `line`.
    ///
    /// # Errors
    /// As [`ConversationRecord::validate`].
    pub fn push_line(&mut self, line: u64, rec: &ConversationRecord) -> Result<(), KpiError> {
        rec.validate(line)?;
        self.accumulate(rec);
        Ok(())
    }

    /// Counts one skipped row under `reason`.
    pub fn note_skipped(&mut self, reason: SkipReason) {
        self.skipped[reason.index()] += 1;
    }

    fn intern(&mut self, tag: &str) -> u32 {
        if let Some(&i) = self.tag_index.get(tag) {
            return i;
        }
        let i = self.tag_names.len() as u32;
        self.tag_names.push(tag.into());
        self.tag_index.insert(tag.into(), i);
        i
    }

    /// Accumulates a record already validated.
    fn accumulate(&mut self, rec: &ConversationRecord) {
        self.records += 1;
        let cfg = &self.config;
        let demand = cfg.period.is_none_or(|p| p.contains(rec.asked_at));
        let output = match cfg.anchor {
            PeriodAnchor::AskedAt => demand,
            PeriodAnchor::PerKpi => match cfg.period {
                None => true,
                Some(p) => rec.resolved_at.is_some_and(|t| p.contains(t)),
            },
        };
        if !demand && !output {
            self.out_of_period += 1;
            return;
        }
        let ask = rec.asked_at;
        let outcome = rec.outcome();
        let answered = outcome == Outcome::Answered;
        let wait = if answered {
            rec.assigned_at.map(|t| t.since(ask).0)
        } else {
            None
        };
        let frt = if answered {
            rec.first_response_at.map(|t| t.since(ask).0)
        } else {
            None
        };
        let frt_business = match (&cfg.business_hours, frt.is_some(), rec.first_response_at) {
            (Some(bh), true, Some(r)) => Some(bh.business_ms(ask, r).0),
            _ => None,
        };
        let to_abandon = if outcome == Outcome::Abandoned {
            rec.abandoned_at.map(|t| t.since(ask).0)
        } else {
            None
        };
        let left_message_after = if outcome == Outcome::MessageLeft {
            rec.abandoned_at.map(|t| t.since(ask).0)
        } else {
            None
        };
        let short = match (cfg.short_abandon, to_abandon) {
            (Some(s), Some(x)) => x <= s.0,
            _ => false,
        };
        let mut masks = [0u16; within::N];
        if demand {
            for (j, t) in cfg.service_level_thresholds.iter().enumerate() {
                let bit = 1u16 << j;
                let w = |v: Option<u64>| if v.is_some_and(|x| x <= t.0) { bit } else { 0 };
                masks[within::ANSWERED] |= w(wait);
                masks[within::ABANDONED] |= w(to_abandon);
                masks[within::MESSAGE_LEFT] |= w(left_message_after);
                masks[within::FIRST_RESPONSE] |= w(frt);
            }
        }
        let handle = match (rec.assigned_at, rec.resolved_at) {
            (Some(a), Some(r)) => Some(r.since(a).0),
            _ => None,
        };
        // Built in place: the struct is a few hundred bytes.
        let mut k = Contribution {
            counts: [0; ix::N],
            masks,
            samples: [Sample::default(); dur::N],
            present: 0,
            tags: SmallVec::new(),
        };
        let counts = &mut k.counts;
        let (samples, present) = (&mut k.samples, &mut k.present);
        let mut sample = |slot: usize, v: Option<u64>| {
            if let Some(x) = v {
                samples[slot] = Sample::new(x);
                *present |= 1 << slot;
            }
        };
        if demand {
            counts[ix::OFFERED] = 1;
            counts[match outcome {
                Outcome::Answered => ix::ANSWERED,
                Outcome::Abandoned => ix::ABANDONED,
                Outcome::MessageLeft => ix::MESSAGE_LEFT,
                Outcome::ClosedUnassigned => ix::CLOSED_UNASSIGNED,
                Outcome::Pending => ix::PENDING,
            }] = 1;
            counts[ix::SHORT_ABANDONED] = u64::from(short);
            counts[ix::MESSAGES_ANSWERED] =
                u64::from(outcome == Outcome::MessageLeft && rec.first_response_at.is_some());
            counts[ix::UNANSWERED_AFTER_ASSIGN] = u64::from(
                answered && rec.first_response_at.is_none() && rec.abandoned_at.is_some(),
            );
            counts[ix::TRANSFERS] = u64::from(rec.transfers);
            counts[ix::TRANSFERRED] = u64::from(rec.transfers > 0);
            counts[ix::MISSED_OFFERS] = u64::from(rec.missed_offers);
            sample(dur::WAIT, wait);
            sample(dur::FIRST_RESPONSE, frt);
            sample(dur::FIRST_RESPONSE_BUSINESS, frt_business);
            sample(dur::TIME_TO_ABANDON, to_abandon);
        }
        if output {
            counts[ix::RESOLVED] = u64::from(rec.resolved_at.is_some());
            if handle.is_some() {
                counts[ix::HANDLED] = 1;
                sample(dur::HANDLE, handle);
            }
            if let Some(sat) = rec.satisfaction {
                counts[ix::RATED] = 1;
                counts[ix::SATISFACTION_SUM] = u64::from(sat);
                counts[ix::SATISFIED] = u64::from(sat >= 4);
            }
        }
        if demand {
            for t in &rec.tags {
                let i = self.intern(t);
                if !k.tags.contains(&i) {
                    k.tags.push(i);
                }
            }
        }
        let n = self.config.service_level_thresholds.len();
        if let Some(op) = rec.operator {
            self.by_operator.cell(op, n).apply(&k);
        }
        if self.direct {
            let g = &mut self.groups;
            g.overall.apply(&k);
            g.by_tier.cell(rec.tier, n).apply(&k);
            g.by_channel.cell(rec.channel, n).apply(&k);
            if let Some(team) = rec.team {
                g.by_team.cell(team, n).apply(&k);
            }
            g.by_queue.cell(rec.queue, n).apply(&k);
            return;
        }
        let key = Combo {
            tier: rec.tier,
            channel: rec.channel,
            team: rec.team,
            queue: rec.queue,
        };
        self.pending.cell(key, n).apply(&k);
        self.pending_records += 1;
        if self.pending.len() > PENDING_LIMIT {
            self.direct = self.pending_records < PENDING_MIN_RECORDS * PENDING_LIMIT as u64;
            self.flush();
        }
    }

    /// Adds the pending combination cells to the groups.
    fn flush(&mut self) {
        let n = self.config.service_level_thresholds.len();
        for (key, cell) in self.pending.iter() {
            self.groups.add(key, cell, &[], n);
        }
        self.pending.clear();
        self.pending_records = 0;
    }

    /// The overall, tier, channel and team cells, pending combinations included.
    pub(crate) fn groups(&self) -> Cow<'_, Groups> {
        if self.pending.len() == 0 {
            return Cow::Borrowed(&self.groups);
        }
        let n = self.config.service_level_thresholds.len();
        let mut g = self.groups.clone();
        for (key, cell) in self.pending.iter() {
            g.add(key, cell, &[], n);
        }
        Cow::Owned(g)
    }

    /// Adds one operator status interval for occupancy: busy and idle ms (clipped to the period
    /// when one is set) are added to the operator's cell and overall. Away and offline add
    /// nothing. An interval entirely outside the period creates no cell.
    ///
    /// # Errors
    /// [`KpiError::InvalidStatusInterval`] if `end < start`.
    pub fn push_status(&mut self, s: &StatusInterval) -> Result<(), KpiError> {
        if s.end < s.start {
            return Err(KpiError::InvalidStatusInterval {
                operator: s.operator,
                start: s.start.0,
                end: s.end.0,
            });
        }
        let (mut a, mut b) = (s.start, s.end);
        if let Some(p) = self.config.period {
            a = a.max(p.start);
            b = b.min(p.end);
        }
        let ms = b.since(a).0;
        let slot = match s.status {
            Activity::Busy => ix::BUSY_MS,
            Activity::Idle => ix::IDLE_MS,
            Activity::Away | Activity::Offline => return Ok(()),
        };
        if ms == 0 {
            return Ok(());
        }
        let n = self.config.service_level_thresholds.len();
        self.groups.overall.c[slot] += ms;
        self.by_operator.cell(s.operator, n).c[slot] += ms;
        Ok(())
    }

    /// Adds `other` into `self`. Afterwards `self` equals the accumulator of both inputs.
    ///
    /// # Errors
    /// [`KpiError::ConfigMismatch`] if the configs differ; `self` is then unchanged.
    pub fn merge(&mut self, other: &KpiAccumulator) -> Result<(), KpiError> {
        if self.config != other.config {
            return Err(KpiError::ConfigMismatch);
        }
        self.records = self.records.saturating_add(other.records);
        self.out_of_period = self.out_of_period.saturating_add(other.out_of_period);
        for (a, b) in self.skipped.iter_mut().zip(other.skipped.iter()) {
            *a = a.saturating_add(*b);
        }
        let map: Vec<u32> = other.tag_names.iter().map(|t| self.intern(t)).collect();
        let n = self.config.service_level_thresholds.len();
        self.groups.merge(&other.groups, &map, n);
        if self.direct {
            for (key, cell) in other.pending.iter() {
                self.groups.add(key, cell, &map, n);
            }
        } else {
            self.pending.merge(&other.pending, &map, n);
            self.pending_records = self.pending_records.saturating_add(other.pending_records);
            if self.pending.len() > PENDING_LIMIT {
                self.flush();
            }
        }
        self.by_operator.merge(&other.by_operator, &map, n);
        Ok(())
    }

    /// The canonical, versioned byte encoding of the whole state (config included).
    ///
    /// Layout (all integers little-endian): magic `SBKP`, `u16` version, config, counters, the
    /// tag names sorted, the overall cell, then the tier, channel, team and operator maps in key
    /// order; then, only when some record is in a declared queue, `SBKQ` and the queue map
    /// (key `u64`: 0 the default queue, 2³² + id a declared one). Without that section every
    /// record is in the default queue, whose cell is the overall one without the status
    /// intervals' busy and idle time, so bytes written before queues existed still decode to
    /// the same state. Equal states give equal bytes, whatever their history (tag interning
    /// order, merge order, partitioning).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(MAGIC);
        w.u16(ENCODING_VERSION);
        self.config.encode(&mut w);
        w.u64(self.records);
        w.u64(self.out_of_period);
        w.len(self.skipped.len());
        self.skipped.iter().for_each(|&x| w.u64(x));
        // Tag ranks in name order.
        let mut order: Vec<u32> = (0..self.tag_names.len() as u32).collect();
        order
            .sort_unstable_by(|&a, &b| self.tag_names[a as usize].cmp(&self.tag_names[b as usize]));
        let mut rank = vec![0u32; order.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        w.len(order.len());
        for &i in &order {
            w.str(&self.tag_names[i as usize]);
        }
        let g = self.groups();
        g.overall.encode(&mut w, &rank);
        fn enc_map<K: CellKey + Ord>(
            w: &mut Writer,
            m: &Breakdown<K>,
            rank: &[u32],
            key: impl Fn(&mut Writer, &K),
        ) {
            w.len(m.len());
            for (k, c) in m.sorted() {
                key(w, &k);
                c.encode(w, rank);
            }
        }
        enc_map(&mut w, &g.by_tier, &rank, |w, k| w.u32(k.0));
        enc_map(&mut w, &g.by_channel, &rank, |w, k| w.u32(k.0));
        enc_map(&mut w, &g.by_team, &rank, |w, k| w.u32(k.0));
        enc_map(&mut w, &self.by_operator, &rank, |w, k| w.u64(k.0));
        if g.has_declared_queues() {
            w.bytes(QUEUE_SECTION);
            enc_map(&mut w, &g.by_queue, &rank, |w, k| w.u64(queue_code(*k)));
        }
        w.into_bytes()
    }

    /// Decodes [`KpiAccumulator::to_bytes`] output.
    ///
    /// # Errors
    /// [`KpiError::BadMagic`], [`KpiError::UnsupportedVersion`] (a newer encoding),
    /// [`KpiError::Truncated`], [`KpiError::Corrupt`] (including non-canonical input such as
    /// unsorted keys or trailing bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError> {
        let mut r = Reader::new(bytes);
        if r.take(4).map_err(|_| KpiError::BadMagic)? != MAGIC {
            return Err(KpiError::BadMagic);
        }
        let version = r.u16()?;
        if version != ENCODING_VERSION {
            return Err(KpiError::UnsupportedVersion {
                found: version,
                supported: ENCODING_VERSION,
            });
        }
        let config = KpiConfig::decode(&mut r)?;
        let mut acc = KpiAccumulator::new(config).map_err(|_| r.invalid("invalid config"))?;
        acc.records = r.u64()?;
        acc.out_of_period = r.u64()?;
        if r.u32()? as usize != acc.skipped.len() {
            return Err(r.invalid("wrong number of skip reasons").into());
        }
        for x in acc.skipped.iter_mut() {
            *x = r.u64()?;
        }
        let n_tags = r.len(4)?;
        for _ in 0..n_tags {
            let t = r.str()?;
            if acc.tag_names.last().is_some_and(|l| &**l >= t) {
                return Err(r.invalid("tag names not strictly sorted").into());
            }
            acc.intern(t);
        }
        let n = acc.config.service_level_thresholds.len();
        acc.groups.overall = Cell::decode(&mut r, n, n_tags)?;
        fn dec_map<K: CellKey + Ord>(
            r: &mut Reader<'_>,
            n: usize,
            n_tags: usize,
            key: impl Fn(&mut Reader<'_>) -> Result<K, KpiError>,
        ) -> Result<Breakdown<K>, KpiError> {
            let len = r.len(8)?;
            let mut m = Breakdown::default();
            let mut last: Option<K> = None;
            for _ in 0..len {
                let k = key(r)?;
                if last.is_some_and(|l| l >= k) {
                    return Err(r.invalid("breakdown keys not strictly sorted").into());
                }
                last = Some(k);
                let c = Cell::decode(r, n, n_tags)?;
                if c.is_empty() {
                    return Err(r.invalid("empty breakdown cell").into());
                }
                *m.cell(k, n) = c;
            }
            Ok(m)
        }
        acc.groups.by_tier = dec_map(&mut r, n, n_tags, |r| Ok(TierId(r.u32()?)))?;
        acc.groups.by_channel = dec_map(&mut r, n, n_tags, |r| Ok(ChannelId(r.u32()?)))?;
        acc.groups.by_team = dec_map(&mut r, n, n_tags, |r| Ok(TeamId(r.u32()?)))?;
        acc.by_operator = dec_map(&mut r, n, n_tags, |r| Ok(OperatorId(r.u64()?)))?;
        if let Err(trailing) = r.finish() {
            // Anything after the operator map is either the queue section or an error about
            // trailing bytes, as before queues existed.
            if r.take(QUEUE_SECTION.len()).ok() != Some(QUEUE_SECTION.as_slice()) {
                return Err(trailing.into());
            }
            acc.groups.by_queue = dec_map(&mut r, n, n_tags, |r| match r.u64()? {
                0 => Ok(None),
                c if c >> 32 == 1 => Ok(Some(QueueId(c as u32))),
                _ => Err(r.invalid("queue key out of range").into()),
            })?;
            if !acc.groups.has_declared_queues() {
                return Err(r.invalid("queue section without a declared queue").into());
            }
            r.finish()?;
        } else {
            let mut default = acc.groups.overall.clone();
            default.c[ix::BUSY_MS] = 0;
            default.c[ix::IDLE_MS] = 0;
            if !default.is_empty() {
                *acc.groups.by_queue.cell(None, n) = default;
            }
        }
        Ok(acc)
    }
}

/// Order and duplicate checks across rows of one stream (one file, one partition).
///
/// - **Order** (opt-in): rows must come sorted by `asked_at`, non-decreasing (equal values are
///   fine). A row whose `asked_at` is below the largest accepted so far is
///   [`KpiError::OutOfOrder`].
/// - **Duplicates** (opt-in): a conversation id seen before *in this validator* is
///   [`KpiError::DuplicateId`]. The scope is one validator: duplicates across partitions that are
///   merged later are not detected. Memory: one hash entry (~16 B) per distinct id, so enable it
///   for files, not for unbounded streams.
///
/// A rejected row leaves the validator unchanged.
#[derive(Debug, Clone, Default)]
pub struct RecordValidator {
    strict_order: bool,
    detect_duplicates: bool,
    last_asked: Option<Timestamp>,
    seen: HashMap<ConversationId, u64>,
}

impl RecordValidator {
    /// A validator with the given checks.
    pub fn new(strict_order: bool, detect_duplicates: bool) -> Self {
        RecordValidator {
            strict_order,
            detect_duplicates,
            ..Default::default()
        }
    }

    /// Checks `rec` (row `line`) against the rows accepted before, and accepts it.
    ///
    /// # Errors
    /// [`KpiError::OutOfOrder`], [`KpiError::DuplicateId`].
    pub fn check(&mut self, line: u64, rec: &ConversationRecord) -> Result<(), KpiError> {
        if self.strict_order {
            if let Some(prev) = self.last_asked {
                if rec.asked_at < prev {
                    return Err(KpiError::OutOfOrder {
                        line,
                        asked_at: rec.asked_at.0,
                        previous: prev.0,
                    });
                }
            }
        }
        if self.detect_duplicates {
            if let Some(&first_line) = self.seen.get(&rec.conversation) {
                return Err(KpiError::DuplicateId {
                    line,
                    conversation: rec.conversation,
                    first_line,
                });
            }
            self.seen.insert(rec.conversation, line);
        }
        if self.strict_order {
            self.last_asked = Some(
                self.last_asked
                    .map_or(rec.asked_at, |p| p.max(rec.asked_at)),
            );
        }
        Ok(())
    }
}

/// How rows are checked and what happens to bad ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestOptions {
    /// Require rows sorted by `asked_at` (see [`RecordValidator`]). Default: `false`.
    pub strict_order: bool,
    /// Reject repeated conversation ids within the stream. Default: `false`.
    pub detect_duplicates: bool,
    /// Skip bad rows, counting them per [`SkipReason`], instead of failing. Default: `false`.
    pub skip_bad_rows: bool,
}

/// Most skipped-row errors kept verbatim by [`Ingest`].
pub const SKIPPED_EXAMPLES: usize = 16;

/// A validated ingestion stream feeding one [`KpiAccumulator`]: per-row checks,
/// [`RecordValidator`] checks, and the skip-bad-rows policy.
#[derive(Debug, Clone)]
pub struct Ingest {
    acc: KpiAccumulator,
    validator: RecordValidator,
    skip_bad_rows: bool,
    examples: Vec<KpiError>,
}

impl Ingest {
    /// A stream with an empty accumulator.
    ///
    /// # Errors
    /// Whatever [`KpiConfig::validate`] reports.
    pub fn new(config: KpiConfig, options: IngestOptions) -> Result<Self, KpiError> {
        Ok(Ingest {
            acc: KpiAccumulator::new(config)?,
            validator: RecordValidator::new(options.strict_order, options.detect_duplicates),
            skip_bad_rows: options.skip_bad_rows,
            examples: Vec::new(),
        })
    }

    /// Checks and accumulates row `line`.
    ///
    /// # Errors
    /// Without `skip_bad_rows`, the row's error; with it, only errors that are not about one row.
    pub fn push(&mut self, line: u64, rec: &ConversationRecord) -> Result<(), KpiError> {
        let checked = rec
            .validate(line)
            .and_then(|()| self.validator.check(line, rec));
        match checked {
            Ok(()) => {
                self.acc.accumulate(rec);
                Ok(())
            }
            Err(e) => self.row_error(e),
        }
    }

    /// Reports a row that could not even be read (parse errors from a reader). Counted and
    /// swallowed when skipping, returned otherwise.
    ///
    /// # Errors
    /// `e` itself unless it is a row error and bad rows are skipped.
    pub fn row_error(&mut self, e: KpiError) -> Result<(), KpiError> {
        match (self.skip_bad_rows, e.skip_reason()) {
            (true, Some(reason)) => {
                self.acc.note_skipped(reason);
                if self.examples.len() < SKIPPED_EXAMPLES {
                    self.examples.push(e);
                }
                Ok(())
            }
            _ => Err(e),
        }
    }

    /// The first [`SKIPPED_EXAMPLES`] skipped-row errors, in input order.
    pub fn skipped_examples(&self) -> &[KpiError] {
        &self.examples
    }

    /// The accumulator so far.
    pub fn accumulator(&self) -> &KpiAccumulator {
        &self.acc
    }

    /// Mutable access, e.g. for [`KpiAccumulator::push_status`].
    pub fn accumulator_mut(&mut self) -> &mut KpiAccumulator {
        &mut self.acc
    }

    /// Ends the stream.
    pub fn into_accumulator(self) -> KpiAccumulator {
        self.acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, ask: u64, tags: &[&str]) -> ConversationRecord {
        let mut r =
            ConversationRecord::new(ConversationId(id), ChannelId(1), TierId(2), Timestamp(ask));
        r.tags = tags.iter().map(|s| s.to_string()).collect();
        r
    }

    #[test]
    fn tag_interning_order_does_not_change_equality_or_bytes() {
        let cfg = KpiConfig::default();
        let (Ok(mut a), Ok(mut b)) = (KpiAccumulator::new(cfg.clone()), KpiAccumulator::new(cfg))
        else {
            panic!("valid config")
        };
        let r1 = rec(1, 10, &["x", "y"]);
        let r2 = rec(2, 20, &["y", "z"]);
        assert!(a.push(&r1).is_ok() && a.push(&r2).is_ok());
        assert!(b.push(&r2).is_ok() && b.push(&r1).is_ok());
        assert_eq!(a.to_bytes(), b.to_bytes());
        assert_eq!(a, b);
        let back = KpiAccumulator::from_bytes(&a.to_bytes());
        assert_eq!(back.as_ref(), Ok(&a));
    }

    /// More key combinations than [`PENDING_LIMIT`]: in combination-major order they are folded
    /// in batches, in round-robin order the accumulator switches to direct updates; both, and a
    /// merge of parts, give the same state.
    #[test]
    fn combination_folding_and_direct_updates_agree() {
        let combos = 2 * PENDING_LIMIT as u64;
        let per = PENDING_MIN_RECORDS + 2;
        let record = |c: u64, k: u64| {
            let id = c * per + k;
            let mut r = ConversationRecord::new(
                ConversationId(id),
                ChannelId((c % 3) as u32),
                TierId((c / 3 % 4) as u32),
                Timestamp(id * 1_000),
            );
            r.team = (c % 5 != 0).then_some(TeamId((c / 12) as u32));
            r.operator = Some(OperatorId(id % 7));
            r.assigned_at = Some(Timestamp(id * 1_000 + k * 3_000 + c));
            if k % 2 == 0 {
                r.tags = vec![format!("t{}", c % 3)];
            }
            r
        };
        let major: Vec<ConversationRecord> = (0..combos)
            .flat_map(|c| (0..per).map(move |k| (c, k)))
            .map(|(c, k)| record(c, k))
            .collect();
        let round_robin: Vec<ConversationRecord> = (0..per)
            .flat_map(|k| (0..combos).map(move |c| (c, k)))
            .map(|(c, k)| record(c, k))
            .collect();
        let acc_of = |recs: &[ConversationRecord]| {
            let mut a = KpiAccumulator::new(KpiConfig::default()).expect("config");
            recs.iter().for_each(|r| assert!(a.push(r).is_ok()));
            a
        };
        let folded = acc_of(&major);
        assert!(!folded.direct);
        let direct = acc_of(&round_robin);
        assert!(direct.direct);
        assert_eq!(folded.to_bytes(), direct.to_bytes());
        assert_eq!(folded.report(), direct.report());
        // Two halves of pending combinations, folded by the merge.
        let mut halves = acc_of(&major[..major.len() / 2]);
        assert!(!halves.direct && halves.pending.len() > 0);
        halves
            .merge(&acc_of(&major[major.len() / 2..]))
            .expect("same config");
        assert_eq!(halves.to_bytes(), folded.to_bytes());
        // A direct accumulator taking in pending combinations.
        let third = round_robin.len() / 3;
        let mut mixed = acc_of(&round_robin[..third]);
        assert!(mixed.direct);
        let (low, high): (Vec<_>, Vec<_>) = round_robin[third..]
            .iter()
            .cloned()
            .partition(|r| r.conversation.0 / per < PENDING_LIMIT as u64);
        for part in [low, high] {
            let part = acc_of(&part);
            assert!(!part.direct && part.pending.len() > 0);
            mixed.merge(&part).expect("same config");
        }
        assert_eq!(mixed.to_bytes(), folded.to_bytes());
        assert_eq!(mixed.report(), folded.report());
        assert_eq!(folded.report().overall.offered, combos * per);
        assert_eq!(folded.report().by_team.len(), (combos / 12 + 1) as usize);
    }

    #[test]
    fn validator_rejects_without_committing() {
        let mut v = RecordValidator::new(true, true);
        assert_eq!(v.check(2, &rec(1, 100, &[])), Ok(()));
        assert!(matches!(
            v.check(3, &rec(2, 99, &[])),
            Err(KpiError::OutOfOrder {
                line: 3,
                asked_at: 99,
                previous: 100
            })
        ));
        // Id 2 was rejected, so it is not a duplicate now.
        assert_eq!(v.check(4, &rec(2, 100, &[])), Ok(()));
        assert!(matches!(
            v.check(5, &rec(1, 101, &[])),
            Err(KpiError::DuplicateId { first_line: 2, .. })
        ));
    }
}
