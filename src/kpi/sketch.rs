//! Percentiles: exact for small inputs, a mergeable log-bucket sketch (DDSketch) beyond.
//!
//! [`DurationStats`] keeps count, sum (`u128`), min and max exactly, and the values themselves
//! while there are at most [`EXACT_LIMIT`]; percentiles are then exact nearest-rank values
//! (Hyndman–Fan type 1: the value at 1-based rank `max(1, ⌈q·n⌉)`). Past the limit every value
//! moves into a [`LogSketch`] and percentiles carry the sketch's relative-error bound.
//!
//! [`LogSketch`] is DDSketch (Masson, Rim, Lee, PVLDB 2019) with relative accuracy
//! α = [`RELATIVE_ACCURACY`] = 1 %: with γ = (1+α)/(1−α), bucket `i` holds the integers `x` with
//! `⌊γ^(i−1)⌋ < x ≤ ⌊γ^i⌋`, and is estimated as `2γ^i/(γ+1)`, so `|estimate − x| ≤ α·x` for every
//! `x` in the bucket (plus at most 0.5 ms from rounding the estimate to whole ms, and estimates
//! are clamped to the exact `[min, max]`). Zero is counted exactly. The bucket bounds are a
//! table computed at compile time with IEEE-754 multiplications only, so every platform puts a
//! value in the same bucket and merged states are bit-identical. Counts are integers; merging
//! adds them, so merge is exactly commutative and associative.
//!
//! Finding a value's bucket takes no logarithm and no search: the leading one and the next 7
//! bits of `x` pick one of 128 slices of its power of two, each narrower (≤ 1/128 relative)
//! than a bucket (≈ 2 % relative), so a compile-time table gives the slice's first bucket and
//! one comparison with the bound table decides between it and the next. The bucket function is
//! exactly the one above (tests compare it with a full search of the bound table), so the
//! guarantee is unchanged.
//!
//! **Memory is bounded regardless of input size**: `u64` milliseconds ≥ 1 need at most
//! [`MAX_BUCKETS`] = 2 219 buckets (4.4 KB at 2 bytes a count, 22 KB once some count passes
//! 65 535), and the store only spans the occupied index range plus some slack for growth (about
//! 410 buckets for durations between 1 s and 1 h). No bucket collapsing is ever needed, so the
//! bound holds for every quantile.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use smallvec::SmallVec;

use super::KpiError;
use crate::codec::{Reader, Writer};
use crate::time::Millis;

/// The sketch's relative accuracy α: every sketched quantile `v̂` of true value `v` satisfies
/// `|v̂ − v| ≤ α·v + 0.5 ms`.
pub const RELATIVE_ACCURACY: f64 = 0.01;

const GAMMA: f64 = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY);

/// Number of buckets that covers every `u64` value.
pub const MAX_BUCKETS: usize = 2219;

/// Values kept exactly (per statistic) before switching to the sketch.
pub const EXACT_LIMIT: usize = 256;

struct Table {
    upper: [u64; MAX_BUCKETS],
    gamma_pow: [f64; MAX_BUCKETS],
}

const fn build_table() -> Table {
    let mut upper = [0u64; MAX_BUCKETS];
    let mut gamma_pow = [0f64; MAX_BUCKETS];
    let mut g = 1.0f64;
    let mut i = 0;
    while i < MAX_BUCKETS {
        gamma_pow[i] = g;
        // `as` saturates at u64::MAX; floor for positive values.
        upper[i] = g as u64;
        g *= GAMMA;
        i += 1;
    }
    Table { upper, gamma_pow }
}

static TABLE: Table = build_table();
const TABLE_CONST: Table = build_table();

/// The bucket of `x ≥ 1` by binary search of the whole bound table: the definition, used to
/// build the lookup tables at compile time (and by the tests).
const fn bucket_by_search(x: u64) -> u16 {
    let (mut lo, mut hi) = (0usize, MAX_BUCKETS - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if TABLE_CONST.upper[mid] < x {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo as u16
}

/// Values below `2^SMALL_BITS` are looked up directly.
const SMALL_BITS: u32 = 8;
/// Bits after the leading one that pick a slice of a power of two.
const SLICE_BITS: u32 = 7;
const SLICES: usize = 1 << SLICE_BITS;

/// `SMALL[x]` = the bucket of `x` for `1 ≤ x < 2^SMALL_BITS` (`SMALL[0]` unused).
static SMALL: [u16; 1 << SMALL_BITS] = {
    let mut t = [0u16; 1 << SMALL_BITS];
    let mut x = 1;
    while x < t.len() {
        t[x] = bucket_by_search(x as u64);
        x += 1;
    }
    t
};

/// `SLICE[p − SMALL_BITS][m]` = the bucket of the first value of slice `m` of
/// `[2^p, 2^(p+1))`, that is of `2^p + m·2^(p−7)`.
static SLICE: [[u16; SLICES]; 64 - SMALL_BITS as usize] = {
    let mut t = [[0u16; SLICES]; 64 - SMALL_BITS as usize];
    let mut p = SMALL_BITS;
    while p < 64 {
        let mut m = 0;
        while m < SLICES {
            let first = (1u64 << p) + ((m as u64) << (p - SLICE_BITS));
            t[(p - SMALL_BITS) as usize][m] = bucket_by_search(first);
            m += 1;
        }
        p += 1;
    }
    t
};

/// Bucket index of a value ≥ 1: the smallest `i` with `⌊γ^i⌋ ≥ x`, in O(1): a table lookup
/// for small values, else the slice's first bucket and one comparison (a slice never spans two
/// bucket bounds; `slices_never_span_two_bounds` checks every slice).
#[inline]
fn bucket_of(x: u64) -> u32 {
    if x < (1 << SMALL_BITS) {
        return u32::from(SMALL[x as usize]);
    }
    // x ≥ 2^SMALL_BITS, so `p − SMALL_BITS` is below 64 − SMALL_BITS and indexes are in range.
    let p = 63 - x.leading_zeros();
    let m = ((x >> (p - SLICE_BITS)) as usize) & (SLICES - 1);
    let i = usize::from(SLICE[(p - SMALL_BITS) as usize][m]);
    // `upper[MAX_BUCKETS - 1]` is u64::MAX, so the last bucket never steps beyond the table.
    (i + usize::from(x > TABLE.upper[i.min(MAX_BUCKETS - 1)])) as u32
}

/// A duration with its sketch bucket: a record's durations go into several cells (overall,
/// tier, channel, team, operator), so the bucket is found once per record, not once per cell.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sample {
    value: u64,
    /// `bucket_of(value)`, or [`ZERO_BUCKET`] for 0.
    bucket: u32,
}

/// The bucket of a [`Sample`] of 0, which the sketch counts apart.
const ZERO_BUCKET: u32 = u32::MAX;

impl Sample {
    /// `value` and its bucket.
    #[inline]
    pub(crate) fn new(value: u64) -> Self {
        let bucket = if value == 0 {
            ZERO_BUCKET
        } else {
            bucket_of(value)
        };
        Sample { value, bucket }
    }
}

/// The DDSketch estimate for bucket `i`: `2γ^i/(γ+1)`.
fn estimate_of(i: u32) -> f64 {
    2.0 * TABLE.gamma_pow[i as usize] / (GAMMA + 1.0)
}

/// A mergeable DDSketch over `u64` milliseconds with integer bucket counts.
///
/// The counts live in a dense array over a range of bucket indices that covers the occupied
/// buckets with some slack, so inserts rarely reallocate; the lowest and highest occupied
/// buckets are tracked so merges, ranks and the encoding touch only those. Each count is split
/// into its low 16 bits, kept for every bucket, and the rest, kept in a second array that is
/// only allocated once some bucket passes 65,535: most sketches (one per statistic per
/// operator, team, …) never get there, and 2 bytes per bucket instead of 8 keeps a pass's
/// working set in cache and a merge's memory traffic small. A count reads as
/// `min(high·2¹⁶ + low, u64::MAX)`, the same value the saturating `u64` sum would give.
/// Equality compares the counts, not the slack or the split.
#[derive(Debug, Clone)]
pub struct LogSketch {
    zeros: u64,
    /// Bucket index of `low[0]`.
    base: u32,
    /// Low 16 bits of the counts of buckets `base..base + low.len()`.
    low: Vec<u16>,
    /// `count >> 16` for the same buckets; empty while every count fits 16 bits.
    high: Vec<u64>,
    /// Lowest occupied bucket (`u32::MAX` when none).
    lo: u32,
    /// Highest occupied bucket (0 when none).
    hi: u32,
}

impl PartialEq for LogSketch {
    fn eq(&self, other: &Self) -> bool {
        self.zeros == other.zeros
            && self.lo_hi() == other.lo_hi()
            && self.occupied().eq(other.occupied())
    }
}

impl Eq for LogSketch {}

impl Default for LogSketch {
    fn default() -> Self {
        LogSketch {
            zeros: 0,
            base: 0,
            low: Vec::new(),
            high: Vec::new(),
            lo: u32::MAX,
            hi: 0,
        }
    }
}

/// `high·2¹⁶ + low`, saturated to `u64`.
fn join(high: u64, low: u16) -> u64 {
    u64::try_from((u128::from(high) << 16) | u128::from(low)).unwrap_or(u64::MAX)
}

impl LogSketch {
    /// An empty sketch.
    pub fn new() -> Self {
        LogSketch::default()
    }

    /// Number of values added.
    pub fn count(&self) -> u64 {
        self.occupied()
            .fold(self.zeros, |acc, c| acc.saturating_add(c))
    }

    /// Number of buckets from the lowest to the highest occupied one (memory is about 2 bytes
    /// per bucket, 10 once a bucket holds more than 65,535 values, plus the slack kept for
    /// growth).
    pub fn buckets(&self) -> usize {
        self.lo_hi().map_or(0, |(lo, hi)| (hi - lo + 1) as usize)
    }

    /// Lowest and highest occupied bucket.
    fn lo_hi(&self) -> Option<(u32, u32)> {
        (self.lo <= self.hi).then_some((self.lo, self.hi))
    }

    /// The count of the bucket at array position `j`.
    fn get(&self, j: usize) -> u64 {
        join(self.high.get(j).copied().unwrap_or(0), self.low[j])
    }

    /// Counts of the buckets `lo..=hi` (nothing when none is occupied).
    fn occupied(&self) -> impl Iterator<Item = u64> + '_ {
        let range = match self.lo_hi() {
            Some((lo, hi)) => (lo - self.base) as usize..(hi - self.base) as usize + 1,
            None => 0..0,
        };
        range.map(|j| self.get(j))
    }

    /// Makes the arrays cover buckets `lo..=hi`, growing by at least a quarter of their length
    /// (within `0..MAX_BUCKETS`) so a sketch reallocates O(log) times, not once per new bucket.
    #[cold]
    fn cover(&mut self, lo: u32, hi: u32) {
        let len = self.low.len() as u32;
        let (base, end) = if len == 0 {
            (lo, hi + 1)
        } else {
            (self.base.min(lo), (self.base + len).max(hi + 1))
        };
        let slack = (end - base).max(32) / 4;
        let new_base = if base < self.base || len == 0 {
            base.saturating_sub(slack)
        } else {
            base
        };
        let new_end = if end > self.base + len || len == 0 {
            (end + slack).min(MAX_BUCKETS as u32)
        } else {
            end
        };
        let n = (new_end - new_base) as usize;
        // Where the old counts go (`new_base ≤ base` whenever there are any).
        let at = if len == 0 {
            0
        } else {
            (self.base - new_base) as usize
        };
        let mut low = vec![0u16; n];
        low[at..at + len as usize].copy_from_slice(&self.low);
        self.low = low;
        if !self.high.is_empty() {
            let mut high = vec![0u64; n];
            high[at..at + len as usize].copy_from_slice(&self.high);
            self.high = high;
        }
        self.base = new_base;
    }

    /// Adds `h · 2¹⁶` to the count at array position `j`.
    #[cold]
    fn carry(&mut self, j: usize, h: u64) {
        if self.high.is_empty() {
            self.high = vec![0; self.low.len()];
        }
        self.high[j] = self.high[j].saturating_add(h);
    }

    /// Adds `n` copies of `x`.
    pub fn add_n(&mut self, x: u64, n: u64) {
        if n == 0 {
            return;
        }
        if x == 0 {
            self.zeros = self.zeros.saturating_add(n);
            return;
        }
        self.add_to_bucket(bucket_of(x), n);
    }

    /// Adds `n ≥ 1` to bucket `i` (not the zero count).
    #[inline]
    fn add_to_bucket(&mut self, i: u32, n: u64) {
        let mut j = i.wrapping_sub(self.base) as usize;
        if j >= self.low.len() {
            self.cover(i, i);
            j = (i - self.base) as usize;
        }
        if i < self.lo || i > self.hi {
            self.lo = self.lo.min(i);
            self.hi = self.hi.max(i);
        }
        self.add_at(j, n);
    }

    /// Adds one sample.
    #[inline]
    fn add_sample(&mut self, s: Sample) {
        if s.bucket == ZERO_BUCKET {
            self.zeros = self.zeros.saturating_add(1);
        } else {
            self.add_to_bucket(s.bucket, 1);
        }
    }

    /// Adds one value.
    #[inline]
    pub fn add(&mut self, x: u64) {
        self.add_n(x, 1);
    }

    /// Adds each of `values` (the exact values of a statistic moving to the sketch): the array
    /// is sized once for their bucket range, then each value is one increment.
    fn add_values(&mut self, values: &[u64]) {
        let buckets: SmallVec<[u32; EXACT_LIMIT]> = values
            .iter()
            .map(|&x| if x == 0 { ZERO_BUCKET } else { bucket_of(x) })
            .collect();
        let (mut lo, mut hi) = (u32::MAX, 0);
        for &i in buckets.iter().filter(|&&i| i != ZERO_BUCKET) {
            lo = lo.min(i);
            hi = hi.max(i);
        }
        if lo <= hi {
            let (base, len) = (self.base, self.low.len() as u32);
            if len == 0 || lo < base || hi >= base + len {
                self.cover(lo, hi);
            }
            self.lo = self.lo.min(lo);
            self.hi = self.hi.max(hi);
        }
        for &i in &buckets {
            if i == ZERO_BUCKET {
                self.zeros = self.zeros.saturating_add(1);
            } else {
                self.add_at((i - self.base) as usize, 1);
            }
        }
    }

    /// Adds every count of `other` (exact: the result equals the sketch of the union). Touches
    /// only `other`'s occupied buckets, 16 bits at a time unless a count needs more.
    pub fn merge(&mut self, other: &LogSketch) {
        self.zeros = self.zeros.saturating_add(other.zeros);
        let Some((lo, hi)) = other.lo_hi() else {
            return;
        };
        let (base, len) = (self.base, self.low.len() as u32);
        if len == 0 || lo < base || hi >= base + len {
            self.cover(lo, hi);
        }
        self.lo = self.lo.min(lo);
        self.hi = self.hi.max(hi);
        let at = (lo - self.base) as usize;
        let from = (lo - other.base) as usize;
        let n = (hi - lo) as usize + 1;
        let mine = &mut self.low[at..at + n];
        let theirs = &other.low[from..from + n];
        // One vectorised pass adds the low parts, noting whether any lane wrapped (the
        // saturating and the wrapping sum differ only then).
        let mut wrapped = 0u16;
        for (a, b) in mine.iter_mut().zip(theirs) {
            let sum = a.wrapping_add(*b);
            wrapped |= a.saturating_add(*b) ^ sum;
            *a = sum;
        }
        // Rare: carry the wrapped lanes (a wrapped sum is below the addend) and the high parts.
        if wrapped != 0 {
            for (k, &b) in theirs.iter().enumerate() {
                if self.low[at + k] < b {
                    self.carry(at + k, 1);
                }
            }
        }
        if !other.high.is_empty() {
            for k in 0..n {
                let h = other.high[from + k];
                if h != 0 {
                    self.carry(at + k, h);
                }
            }
        }
    }

    /// Adds `n` to the count at array position `j`.
    #[inline]
    fn add_at(&mut self, j: usize, n: u64) {
        let sum = u64::from(self.low[j]) + (n & 0xFFFF);
        self.low[j] = sum as u16;
        let h = (n >> 16) + (sum >> 16);
        if h != 0 {
            self.carry(j, h);
        }
    }

    /// The estimate (unrounded, unclamped) of the value at 1-based rank `k`, or `None` if
    /// `k` is 0 or beyond the count.
    pub fn value_at_rank(&self, k: u64) -> Option<f64> {
        if k == 0 {
            return None;
        }
        if k <= self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        for (j, c) in self.occupied().enumerate() {
            seen = seen.saturating_add(c);
            if seen >= k {
                return Some(estimate_of(self.lo + j as u32));
            }
        }
        None
    }

    fn encode(&self, w: &mut Writer) {
        w.u64(self.zeros);
        w.u32(self.lo_hi().map_or(0, |(lo, _)| lo));
        w.len(self.buckets());
        for c in self.occupied() {
            w.u64(c);
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, KpiError> {
        let zeros = r.u64()?;
        let offset = r.u32()?;
        let n = r.len(8)?;
        let mut counts = Vec::with_capacity(n);
        for _ in 0..n {
            counts.push(r.u64()?);
        }
        if n > 0
            && (counts.first() == Some(&0)
                || counts.last() == Some(&0)
                || offset as usize + n > MAX_BUCKETS)
        {
            return Err(r
                .invalid("sketch buckets are not trimmed or out of range")
                .into());
        }
        let mut s = LogSketch {
            zeros,
            ..LogSketch::new()
        };
        if n > 0 {
            s.cover(offset, offset + n as u32 - 1);
            s.lo = offset;
            s.hi = offset + n as u32 - 1;
            let at = (offset - s.base) as usize;
            for (k, c) in counts.into_iter().enumerate() {
                s.add_at(at + k, c);
            }
        }
        Ok(s)
    }
}

#[derive(Debug, Clone)]
enum Store {
    /// The values in arrival order (count ≤ EXACT_LIMIT): appending is one store, where a sorted
    /// insert cost a search and a shift per value. Sorted only when read (percentiles,
    /// encoding, equality).
    Exact(Vec<u64>),
    Sketch(LogSketch),
}

impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Store::Exact(a), Store::Exact(b)) => a.len() == b.len() && sorted(a) == sorted(b),
            (Store::Sketch(a), Store::Sketch(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Store {}

/// A sorted copy of exact values.
fn sorted(v: &[u64]) -> Vec<u64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v
}

/// Mergeable statistics of a duration in ms: count, sum, min, max, percentiles.
///
/// All state is integers; `merge(s(A), s(B)) == s(A ∪ B)` exactly, in any order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationStats {
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
    store: Store,
}

impl Default for DurationStats {
    fn default() -> Self {
        DurationStats {
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
            store: Store::Exact(Vec::new()),
        }
    }
}

/// A derived summary of a [`DurationStats`], in ms. All fields but `count` are `None` when
/// `count` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct DurationSummary {
    /// Number of values.
    pub count: u64,
    /// Arithmetic mean in ms (sum ÷ count, computed once at the end).
    pub mean_ms: Option<f64>,
    /// Smallest value.
    pub min: Option<Millis>,
    /// Largest value.
    pub max: Option<Millis>,
    /// Median (nearest rank).
    pub p50: Option<Millis>,
    /// 90th percentile (nearest rank).
    pub p90: Option<Millis>,
    /// 95th percentile (nearest rank).
    pub p95: Option<Millis>,
    /// 99th percentile (nearest rank).
    pub p99: Option<Millis>,
    /// Whether the percentiles are exact (count ≤ [`EXACT_LIMIT`]) or sketched (±1 %).
    pub exact: bool,
}

impl DurationStats {
    /// Empty statistics.
    pub fn new() -> Self {
        DurationStats::default()
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the values in ms.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// Smallest value, if any.
    pub fn min(&self) -> Option<Millis> {
        (self.count > 0).then_some(Millis(self.min))
    }

    /// Largest value, if any.
    pub fn max(&self) -> Option<Millis> {
        (self.count > 0).then_some(Millis(self.max))
    }

    /// Mean in ms, if any values.
    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// Whether percentiles are still exact.
    pub fn is_exact(&self) -> bool {
        matches!(self.store, Store::Exact(_))
    }

    /// Adds one duration.
    pub fn push(&mut self, x: u64) {
        self.push_sample(Sample::new(x));
    }

    /// Adds one duration whose bucket is already known.
    #[inline]
    pub(crate) fn push_sample(&mut self, s: Sample) {
        let x = s.value;
        self.count += 1;
        self.sum = self.sum.saturating_add(u128::from(x));
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        match &mut self.store {
            Store::Sketch(sk) => sk.add_sample(s),
            Store::Exact(v) if v.len() < EXACT_LIMIT => v.push(x),
            Store::Exact(v) => {
                let mut sk = LogSketch::new();
                sk.add_values(v);
                sk.add_sample(s);
                self.store = Store::Sketch(sk);
            }
        }
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &DurationStats) {
        if other.count == 0 {
            return;
        }
        self.count = self.count.saturating_add(other.count);
        self.sum = self.sum.saturating_add(other.sum);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        let store = core::mem::replace(&mut self.store, Store::Exact(Vec::new()));
        self.store = match (store, &other.store) {
            (Store::Exact(mut a), Store::Exact(b)) if a.len() + b.len() <= EXACT_LIMIT => {
                a.extend_from_slice(b);
                Store::Exact(a)
            }
            (mine, theirs) => {
                let mut s = match mine {
                    Store::Sketch(s) => s,
                    Store::Exact(v) => {
                        let mut s = LogSketch::new();
                        s.add_values(&v);
                        s
                    }
                };
                match theirs {
                    Store::Sketch(t) => s.merge(t),
                    Store::Exact(v) => s.add_values(v),
                }
                Store::Sketch(s)
            }
        };
    }

    /// The nearest-rank quantile `q ∈ [0, 1]` (value at rank `max(1, ⌈q·n⌉)`), rounded to ms and
    /// clamped to `[min, max]` when sketched. `q` is taken to six decimals (parts per million)
    /// so the rank is computed in integers. `None` when empty or `q` is not in `[0, 1]`.
    pub fn quantile(&self, q: f64) -> Option<Millis> {
        if !(0.0..=1.0).contains(&q) {
            return None;
        }
        self.quantile_ppm((q * 1e6).round() as u32)
    }

    /// As [`DurationStats::quantile`] with `q = ppm / 1 000 000`.
    pub fn quantile_ppm(&self, ppm: u32) -> Option<Millis> {
        match &self.store {
            Store::Exact(v) => self.quantile_in(ppm, &sorted(v)),
            Store::Sketch(_) => self.quantile_in(ppm, &[]),
        }
    }

    /// The quantile, given the exact values already sorted (ignored when sketched).
    fn quantile_in(&self, ppm: u32, sorted_exact: &[u64]) -> Option<Millis> {
        if self.count == 0 || ppm > 1_000_000 {
            return None;
        }
        let n = u128::from(self.count);
        let k = (u128::from(ppm) * n).div_ceil(1_000_000).max(1) as u64;
        match &self.store {
            Store::Exact(_) => sorted_exact.get((k - 1) as usize).copied().map(Millis),
            Store::Sketch(s) => s.value_at_rank(k).map(|est| {
                let r = est.round();
                let r = if r >= u64::MAX as f64 {
                    u64::MAX
                } else {
                    r as u64
                };
                Millis(r.clamp(self.min, self.max))
            }),
        }
    }

    /// The summary: count, mean, min, max, p50/p90/p95/p99.
    pub fn summary(&self) -> DurationSummary {
        // Exact values are sorted once for the four percentiles.
        let exact = match &self.store {
            Store::Exact(v) => sorted(v),
            Store::Sketch(_) => Vec::new(),
        };
        DurationSummary {
            count: self.count,
            mean_ms: self.mean_ms(),
            min: self.min(),
            max: self.max(),
            p50: self.quantile_in(500_000, &exact),
            p90: self.quantile_in(900_000, &exact),
            p95: self.quantile_in(950_000, &exact),
            p99: self.quantile_in(990_000, &exact),
            exact: self.is_exact(),
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u64(self.count);
        if self.count == 0 {
            return;
        }
        w.u128(self.sum);
        w.u64(self.min);
        w.u64(self.max);
        match &self.store {
            Store::Exact(v) => {
                w.u8(0);
                sorted(v).iter().for_each(|&x| w.u64(x));
            }
            Store::Sketch(s) => {
                w.u8(1);
                s.encode(w);
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, KpiError> {
        let count = r.u64()?;
        if count == 0 {
            return Ok(DurationStats::default());
        }
        let sum = r.u128()?;
        let min = r.u64()?;
        let max = r.u64()?;
        if min > max {
            return Err(r.invalid("min above max").into());
        }
        let store = match r.u8()? {
            0 => {
                if count > EXACT_LIMIT as u64 {
                    return Err(r.invalid("exact store above its limit").into());
                }
                let mut v = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    v.push(r.u64()?);
                }
                let s: u128 = v.iter().map(|&x| u128::from(x)).sum();
                if !v.is_sorted() || v.first() != Some(&min) || v.last() != Some(&max) || s != sum {
                    return Err(r
                        .invalid("exact values disagree with count, sum, min or max")
                        .into());
                }
                Store::Exact(v)
            }
            1 => {
                if count <= EXACT_LIMIT as u64 {
                    return Err(r.invalid("sketch store below the exact limit").into());
                }
                let s = LogSketch::decode(r)?;
                if s.count() != count {
                    return Err(r.invalid("sketch counts disagree with the count").into());
                }
                Store::Sketch(s)
            }
            _ => return Err(r.invalid("unknown percentile store").into()),
        };
        Ok(DurationStats {
            count,
            sum,
            min,
            max,
            store,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segmented_lookup_equals_full_search() {
        let full = |x: u64| TABLE.upper.partition_point(|&u| u < x) as u32;
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for p in 0..64 {
            for d in [0u64, 1, 2] {
                let x = (1u64 << p).saturating_add(d).max(1);
                assert_eq!(bucket_of(x), full(x), "{x}");
                let y = (1u64 << p) - 1;
                if y > 0 {
                    assert_eq!(bucket_of(y), full(y), "{y}");
                }
            }
        }
        for &u in TABLE.upper.iter() {
            for x in [u.saturating_sub(1).max(1), u, u.saturating_add(1)] {
                assert_eq!(bucket_of(x), full(x), "{x}");
            }
        }
        for _ in 0..100_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let x = (s >> (s % 64)).max(1);
            assert_eq!(bucket_of(x), full(x), "{x}");
        }
    }

    /// The O(1) lookup is only right if no slice of a power of two holds values of more than
    /// two buckets: check the first and last value of every slice against the full search.
    #[test]
    fn slices_never_span_two_bounds() {
        for x in 1..(1u64 << SMALL_BITS) {
            assert_eq!(
                u32::from(SMALL[x as usize]),
                u32::from(bucket_by_search(x)),
                "{x}"
            );
        }
        for p in SMALL_BITS..64 {
            for m in 0..SLICES as u64 {
                let first = (1u64 << p) + (m << (p - SLICE_BITS));
                let last = first + ((1u64 << (p - SLICE_BITS)) - 1);
                let (bf, bl) = (bucket_by_search(first), bucket_by_search(last));
                assert!(bl <= bf + 1, "slice {p}/{m} spans buckets {bf}..={bl}");
                assert_eq!(bucket_of(first), u32::from(bf), "{first}");
                assert_eq!(bucket_of(last), u32::from(bl), "{last}");
                let mid = first + (last - first) / 2;
                assert_eq!(bucket_of(mid), u32::from(bucket_by_search(mid)), "{mid}");
            }
        }
    }

    fn bytes(s: &LogSketch) -> Vec<u8> {
        let mut w = Writer::default();
        s.encode(&mut w);
        w.into_bytes()
    }

    /// Counts past 16 bits (kept as a low and a high part) add, merge, read and encode as plain
    /// `u64` sums saturating at `u64::MAX`, whichever way they got there.
    #[test]
    fn counts_past_16_bits() {
        let mut one_by_one = LogSketch::new();
        for _ in 0..70_000 {
            one_by_one.add(1_000);
        }
        let mut at_once = LogSketch::new();
        at_once.add_n(1_000, 70_000);
        assert_eq!(one_by_one, at_once);
        assert_eq!(bytes(&one_by_one), bytes(&at_once));
        assert_eq!(at_once.count(), 70_000);

        // A merge of two 16-bit arrays whose sum carries, beside buckets that do not.
        let mut c = LogSketch::new();
        c.add_n(1_000, 40_000);
        c.add_n(5, 3);
        let mut d = LogSketch::new();
        d.add_n(1_000, 30_000);
        d.add(7);
        c.merge(&d);
        let mut want = LogSketch::new();
        want.add_n(7, 1);
        want.add_n(1_000, 70_000);
        want.add_n(5, 3);
        assert_eq!(c, want);
        assert_eq!(bytes(&c), bytes(&want));
        assert_eq!(c.value_at_rank(4), Some(estimate_of(bucket_of(7))));
        assert_eq!(c.value_at_rank(5), Some(estimate_of(bucket_of(1_000))));
        let back = LogSketch::decode(&mut Reader::new(&bytes(&c)));
        assert_eq!(back.as_ref(), Ok(&c));
        // Merging a sketch with a high part into one without.
        let mut e = LogSketch::new();
        e.add(1_000);
        e.merge(&want);
        assert_eq!(e.count(), 70_005);

        // Saturation, as a u64 sum would.
        let mut s = LogSketch::new();
        s.add_n(9, u64::MAX);
        s.add_n(9, 5);
        assert_eq!(s.count(), u64::MAX);
        let mut t = s.clone();
        t.merge(&s);
        let mut max = LogSketch::new();
        max.add_n(9, u64::MAX);
        assert_eq!(t, max);
        assert_eq!(bytes(&t), bytes(&max));
        assert_eq!(t.value_at_rank(u64::MAX), Some(estimate_of(bucket_of(9))));
    }

    /// Sketches that grew differently (other insertion order, merges) hold different slack
    /// but are equal and encode to the same bytes.
    #[test]
    fn slack_is_not_state() {
        let values: Vec<u64> = (0..2_000u64).map(|i| (i * 7_919) % 1_000_003).collect();
        let mut up = LogSketch::new();
        values.iter().for_each(|&x| up.add(x));
        let mut down = LogSketch::new();
        values.iter().rev().for_each(|&x| down.add(x));
        let mut merged = LogSketch::new();
        for chunk in values.chunks(300) {
            let mut part = LogSketch::new();
            chunk.iter().for_each(|&x| part.add(x));
            merged.merge(&part);
        }
        assert_eq!(up, down);
        assert_eq!(up, merged);
        assert_eq!(bytes(&up), bytes(&down));
        assert_eq!(bytes(&up), bytes(&merged));
        assert_eq!(up.count(), 2_000);
        let back = LogSketch::decode(&mut Reader::new(&bytes(&up)));
        assert_eq!(back.as_ref(), Ok(&up));
        assert_ne!(up, LogSketch::new());
    }

    #[test]
    fn table_covers_u64_and_buckets_are_tight() {
        assert_eq!(TABLE.upper[MAX_BUCKETS - 1], u64::MAX);
        assert!(TABLE.upper[MAX_BUCKETS - 2] < u64::MAX);
        assert_eq!(bucket_of(1), 0);
        assert_eq!(bucket_of(u64::MAX) as usize, MAX_BUCKETS - 1);
        for x in [1u64, 2, 3, 10, 999, 1_000, 65_537, 3_600_000, u64::MAX / 3] {
            let i = bucket_of(x);
            let est = estimate_of(i);
            let xf = x as f64;
            assert!(
                (est - xf).abs() <= RELATIVE_ACCURACY * xf * (1.0 + 1e-12),
                "{x}"
            );
        }
    }

    #[test]
    fn exact_then_sketch_nearest_rank() {
        let mut s = DurationStats::new();
        for x in 1..=10 {
            s.push(x);
        }
        // Guide §6 table: p90 = 9, p95 = 10 by nearest rank on 1..10.
        assert_eq!(s.quantile(0.9), Some(Millis(9)));
        assert_eq!(s.quantile(0.95), Some(Millis(10)));
        assert_eq!(s.quantile(0.0), Some(Millis(1)));
        for x in 11..=1000 {
            s.push(x);
        }
        assert!(!s.is_exact());
        let p50 = s.quantile(0.5).map_or(0, |m| m.0) as f64;
        assert!((p50 - 500.0).abs() <= 5.0 + 0.5, "{p50}");
    }

    #[test]
    fn sketch_merge_is_exact() {
        let mut a = LogSketch::new();
        let mut b = LogSketch::new();
        let mut all = LogSketch::new();
        for x in [0u64, 5, 7, 1_000_000, 3, 3] {
            a.add(x);
            all.add(x);
        }
        for x in [99u64, 1, 1 << 40] {
            b.add(x);
            all.add(x);
        }
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, all);
        assert_eq!(ba, all);
    }
}
