//! The indexes that let one routing decision cost a few ordered-set
//! operations instead of a scan.
//!
//! * **Operator facets.** For every channel, ready operators (available, not
//!   in wrap-up, free capacity, channel not blocked) sit in ordered sets keyed
//!   by a selection strategy's order (one *kind* per distinct order the
//!   queues use; an operator is kept only in the kinds of the queues their
//!   profile serves): one per (skill, exact level), with profiles one per
//!   profile, and — once a requirement on the channel needs them — one set
//!   of all ready operators and one per team (see [`Facets`]). A
//!   conversation walks the smallest facet(s) that contain every operator
//!   able to take it, in its queue's order, and takes the first that meets
//!   all its requirements (entries carry skill bits, so most operators
//!   lacking a required skill are passed without reading their record).
//! * **Waiting buckets.** Waiting conversations with identical effective
//!   requirements (queue, profile delays passed, channel, skills with minimum
//!   levels, teams) share a bucket ordered by queue key. Buckets with the
//!   same queue, channel and skill set form a group, which keeps its
//!   non-empty buckets ordered by their head (with several queues and an
//!   operator without a profile, each bucket is also in a group across
//!   queues). A freed operator looks up, in each queue of their first
//!   profile class with work (or across queues without a profile), the
//!   groups whose skill sets are subsets of its own skills and, in each,
//!   walks the buckets from the most urgent head down to the first it can
//!   serve; plus the queue of conversations whose customers prefer this
//!   operator.
//!
//! Indexes are derived data: they are rebuilt from the engine's entities on
//! restore, and their order depends only on keys that include the host's ids
//! or arrival sequence numbers — never on slots or hashing.

use std::collections::{BTreeSet, VecDeque};

use hashbrown::{HashMap, HashTable};
use smallvec::SmallVec;

use crate::ids::{OperatorId, SkillId, TeamId};
use crate::mix::mix64;
use crate::model::{MAX_CHANNELS, MAX_LEVEL, MAX_REQUIRED_SKILLS, SkillLevel};

/// Position of an operator in a facet: strategy key, tie key, id, slot,
/// and the operator's [`skill_bits`] (in what would be padding). Slot and
/// bits come after the id, so they never decide an order (ids are unique).
pub(crate) type OpEntry = (u64, u64, OperatorId, u32, u32);

/// One bit per skill (of 32, by the skill's hash): an operator's bits are
/// those of its skills, a requirement's those of its skills, so an operator
/// missing a bit of the requirement lacks one of its skills.
pub(crate) fn skill_bits(skills: impl Iterator<Item = SkillId>) -> u32 {
    skills.fold(0, |m, s| m | 1 << (skill_print(s) >> 59))
}

/// Which ready operators a facet holds, whatever its channel and ordering
/// kind: all of them, those with a skill at an exact level, a team or a
/// routing profile. Profile members exist only when the policy declares
/// profiles. An operator's members change only with its skills, teams or
/// profile, so each operator keeps their ids (see `Operator::members`) and
/// a re-key touches its sets without looking anything up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Member {
    All,
    Skill(SkillId, u8),
    Team(TeamId),
    Profile(u16),
    NoProfile,
}

/// Above this many entries a sorted facet turns into a B-tree; below
/// [`SORTED_BACK`] a B-tree turns back (the gap keeps a facet that hovers
/// around one size from converting on every change).
const SORTED_MAX: usize = 512;
const SORTED_BACK: usize = 128;

/// One facet's ready operators in key order. Most facets are small (one
/// skill at one level on one channel: tens of operators), where a sorted
/// vector re-keys with a short walk or one memmove instead of B-tree node
/// surgery and takes a third of the memory; the all-operators facet and
/// large teams stay B-trees.
#[derive(Debug, Clone)]
pub(crate) enum FacetSet {
    Sorted(Vec<OpEntry>),
    Tree(BTreeSet<OpEntry>),
}

impl Default for FacetSet {
    fn default() -> Self {
        FacetSet::Sorted(Vec::new())
    }
}

/// Equal by contents: the representation depends on the facet's history.
impl PartialEq for FacetSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.range_from(None).eq(other.range_from(None))
    }
}

impl Eq for FacetSet {}

impl FacetSet {
    pub(crate) fn len(&self) -> usize {
        match self {
            FacetSet::Sorted(v) => v.len(),
            FacetSet::Tree(t) => t.len(),
        }
    }

    fn insert(&mut self, e: OpEntry) {
        match self {
            FacetSet::Sorted(v) => {
                if let Err(i) = v.binary_search(&e) {
                    grow_by_an_eighth(v);
                    v.insert(i, e);
                }
                if v.len() > SORTED_MAX {
                    *self = FacetSet::Tree(v.drain(..).collect());
                }
            }
            FacetSet::Tree(t) => {
                t.insert(e);
            }
        }
    }

    fn remove(&mut self, e: &OpEntry) {
        match self {
            FacetSet::Sorted(v) => {
                if let Ok(i) = v.binary_search(e) {
                    v.remove(i);
                }
            }
            FacetSet::Tree(t) => {
                t.remove(e);
                if t.len() < SORTED_BACK {
                    *self = FacetSet::Sorted(std::mem::take(t).into_iter().collect());
                }
            }
        }
    }

    /// Moves an entry to a new key: in a small sorted vector by a walk
    /// ([`move_by_walk`]), in a larger one by one rotation of the
    /// entries between the two places (a load change moves an operator a
    /// few places) instead of closing one gap and opening another. The
    /// places are found as [`Facets::rekey`] finds them for several facets
    /// at once ([`find_moves`]).
    fn rekey(&mut self, old: &OpEntry, new: OpEntry) {
        match self {
            FacetSet::Sorted(v) if v.len() <= WALK_MAX => {
                if !move_by_walk(v, old, new) {
                    self.insert(new);
                }
            }
            FacetSet::Sorted(v) => {
                let mut moves = SmallVec::new();
                find_moves(&[(0, v.as_slice())], &mut moves, old, &new);
                if !apply_move(v, moves[0].1, moves[0].2, old, new) {
                    self.insert(new);
                }
            }
            FacetSet::Tree(t) => {
                t.remove(old);
                t.insert(new);
            }
        }
    }

    /// The entries from `lower` on (all without it), in order.
    pub(crate) fn range_from(&self, lower: Option<OpEntry>) -> FacetIter<'_> {
        match (self, lower) {
            (FacetSet::Sorted(v), None) => FacetIter::Sorted(v.iter()),
            (FacetSet::Sorted(v), Some(l)) => {
                FacetIter::Sorted(v[v.partition_point(|e| *e < l)..].iter())
            }
            (FacetSet::Tree(t), None) => FacetIter::Tree(t.range(..)),
            (FacetSet::Tree(t), Some(l)) => FacetIter::Tree(t.range(l..)),
        }
    }
}

/// Makes room for one more entry, growing by an eighth (at least 4) rather
/// than doubling: a sorted facet grows only when an operator becomes ready,
/// so the extra reallocations are rare, and doubling left facets of tens of
/// operators about a third empty — most of a ready operator's bytes.
fn grow_by_an_eighth<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 8).max(4));
    }
}

/// Iterator over a [`FacetSet`] in key order.
pub(crate) enum FacetIter<'a> {
    Sorted(std::slice::Iter<'a, OpEntry>),
    Tree(std::collections::btree_set::Range<'a, OpEntry>),
}

impl<'a> Iterator for FacetIter<'a> {
    type Item = &'a OpEntry;

    fn next(&mut self) -> Option<&'a OpEntry> {
        match self {
            FacetIter::Sorted(i) => i.next(),
            FacetIter::Tree(i) => i.next(),
        }
    }
}

/// The ordered sets of ready operators: for each (channel, ordering kind),
/// one [`FacetSet`] per [`Member`].
///
/// Some facets only ever save work, and are kept on a channel only once a
/// requirement there needs them ([`Kept`]): the all-operators facet is read
/// only by requirements with no skill and no team; a team's facet is the
/// only way to a requirement with a team and no skill, and otherwise just
/// a candidate plan that is rarely the smallest (teams are larger than one
/// skill at a few levels). With 10,000 operators these are the largest
/// facets (B-trees), and re-keying them on every load change was the
/// largest single cost of an arrival. They are built from the operators'
/// keys by `Engine::want_facets` when first needed, and kept for good.
#[derive(Debug, Clone)]
pub(crate) struct Facets {
    members: HashMap<Member, u32>,
    /// Per skill, the member ids of its levels 1 to [`MAX_LEVEL`] (`u32::MAX`:
    /// none yet), so a plan finds a skill's level facets with one lookup.
    skill_levels: HashMap<SkillId, [u32; MAX_LEVEL as usize]>,
    /// Per member id: which [`Kept`] class it belongs to (0: always kept).
    class: Vec<u8>,
    /// By `kind * MAX_CHANNELS + channel`, then by member id; grown on use.
    blocks: Vec<Vec<FacetSet>>,
    /// Per channel, the [`Kept`] classes kept there.
    kept: [u8; MAX_CHANNELS],
}

/// Facet classes kept on a channel only once needed (see [`Facets`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    All = 1,
    Teams = 2,
}

/// The member id of [`Member::All`], fixed.
pub(crate) const ALL_MEMBER: u32 = 0;

impl Default for Facets {
    fn default() -> Self {
        let mut members = HashMap::new();
        members.insert(Member::All, ALL_MEMBER);
        Facets {
            members,
            skill_levels: HashMap::new(),
            class: vec![Kept::All as u8],
            blocks: Vec::new(),
            kept: [0; MAX_CHANNELS],
        }
    }
}

/// Equal by contents: a facet never used holds nobody, and facets kept
/// only once needed are compared where both keep them (they are derived
/// from the same keys either way).
impl PartialEq for Facets {
    fn eq(&self, other: &Self) -> bool {
        if self.members != other.members {
            return false;
        }
        let n = self.blocks.len().max(other.blocks.len());
        let empty: Vec<FacetSet> = Vec::new();
        (0..n).all(|b| {
            let ch = b % MAX_CHANNELS;
            let both = self.kept[ch] & other.kept[ch];
            let x = self.blocks.get(b).unwrap_or(&empty);
            let y = other.blocks.get(b).unwrap_or(&empty);
            (0..x.len().max(y.len())).all(|m| {
                let class = self.class.get(m).copied().unwrap_or(0);
                if class != 0 && both & class == 0 {
                    return true;
                }
                let fx = x.get(m);
                let fy = y.get(m);
                fx.map_or(0, FacetSet::len) == fy.map_or(0, FacetSet::len)
                    && (fx.is_none() || fy.is_none() || fx == fy)
            })
        })
    }
}

impl Eq for Facets {}

impl Facets {
    /// Whether channel `ch`'s facets of class `k` are kept.
    pub(crate) fn kept(&self, ch: u8, k: Kept) -> bool {
        self.kept[usize::from(ch)] & k as u8 != 0
    }

    /// Whether member id `m` is of class `k`.
    pub(crate) fn is(&self, m: u32, k: Kept) -> bool {
        self.class.get(m as usize).copied() == Some(k as u8)
    }

    /// Starts keeping channel `ch`'s facets of class `k`, filled with
    /// `entries` (ordering kind, member id, entry): every ready operator's
    /// entries on that channel in those facets.
    pub(crate) fn keep(
        &mut self,
        ch: u8,
        k: Kept,
        entries: impl Iterator<Item = (u8, u32, OpEntry)>,
    ) {
        self.kept[usize::from(ch)] |= k as u8;
        for (kind, m, e) in entries {
            self.rekey(ch, kind, &[m], None, Some(e));
        }
    }

    /// The member's id, made if new.
    pub(crate) fn member(&mut self, m: Member) -> u32 {
        let next = self.members.len() as u32;
        let id = *self.members.entry(m).or_insert(next);
        if id == next {
            self.class.push(match m {
                Member::All => Kept::All as u8,
                Member::Team(_) => Kept::Teams as u8,
                _ => 0,
            });
            if let Member::Skill(s, l) = m {
                if (1..=MAX_LEVEL).contains(&l) {
                    self.skill_levels
                        .entry(s)
                        .or_insert([u32::MAX; MAX_LEVEL as usize])[usize::from(l - 1)] = id;
                }
            }
        }
        id
    }

    /// The facets of `skill` at levels `from..=MAX_LEVEL` on channel `ch` in
    /// ordering `kind`, lowest level first, those never used left out.
    pub(crate) fn skill_facets(
        &self,
        ch: u8,
        kind: u8,
        skill: SkillId,
        from: u8,
    ) -> impl Iterator<Item = &FacetSet> {
        let ids = self.skill_levels.get(&skill);
        let block = self.blocks.get(Self::block(ch, kind));
        (from.max(1)..=MAX_LEVEL).filter_map(move |l| {
            let id = ids?[usize::from(l - 1)];
            block?.get(id as usize)
        })
    }

    /// The facet of `m` on channel `ch` in ordering `kind`, if it was ever
    /// used (a facet not there holds nobody).
    pub(crate) fn get(&self, ch: u8, kind: u8, m: Member) -> Option<&FacetSet> {
        let id = *self.members.get(&m)?;
        self.blocks.get(Self::block(ch, kind))?.get(id as usize)
    }

    fn block(ch: u8, kind: u8) -> usize {
        usize::from(kind) * MAX_CHANNELS + usize::from(ch)
    }

    /// Moves an operator's entries in the facets `members` of one channel
    /// and kind: from `old` (absent: not there) to `new` (absent: out).
    /// Facets of a class not kept on the channel are passed over. `members`
    /// holds no id twice (an operator's skills and teams are distinct): a
    /// load change works out every facet's places before it moves any
    /// entry, so a repeated facet would be moved twice.
    pub(crate) fn rekey(
        &mut self,
        ch: u8,
        kind: u8,
        members: &[u32],
        old: Option<OpEntry>,
        new: Option<OpEntry>,
    ) {
        let kept = self.kept[usize::from(ch)];
        let b = Self::block(ch, kind);
        if self.blocks.len() <= b {
            self.blocks.resize_with(b + 1, Vec::new);
        }
        let block = &mut self.blocks[b];
        let top = members.iter().max().map_or(0, |&m| m as usize + 1);
        if block.len() < top {
            block.resize_with(top, FacetSet::default);
        }
        debug_assert!(
            members
                .iter()
                .enumerate()
                .all(|(i, m)| !members[..i].contains(m)),
            "a facet named twice: {members:?}"
        );
        let class = &self.class;
        let live = members.iter().filter(|&&m| {
            let c = class[m as usize];
            c == 0 || kept & c != 0
        });
        if let (Some(o), Some(n)) = (old, new) {
            // A load change: B-trees re-keyed one by one, small sorted
            // facets by a short walk, the larger sorted facets' places
            // searched in lock step (see `find_moves`).
            let mut larger: SmallVec<[u32; 8]> = SmallVec::new();
            for &m in live {
                let set = &mut block[m as usize];
                match set {
                    FacetSet::Sorted(v) if v.len() > WALK_MAX => larger.push(m),
                    _ => set.rekey(&o, n),
                }
            }
            if larger.is_empty() {
                return;
            }
            let mut moves: SmallVec<[(u32, Option<usize>, usize); 8]> = SmallVec::new();
            {
                let sorted: SmallVec<[(u32, &[OpEntry]); 8]> = larger
                    .iter()
                    .filter_map(|&m| match &block[m as usize] {
                        FacetSet::Sorted(v) => Some((m, v.as_slice())),
                        FacetSet::Tree(_) => None,
                    })
                    .collect();
                find_moves(&sorted, &mut moves, &o, &n);
            }
            for &(m, old_at, j) in &moves {
                let FacetSet::Sorted(v) = &mut block[m as usize] else {
                    continue;
                };
                if !apply_move(v, old_at, j, &o, n) {
                    block[m as usize].insert(n);
                }
            }
            return;
        }
        for &m in live {
            let set = &mut block[m as usize];
            match (old, new) {
                (Some(o), None) => set.remove(&o),
                (None, Some(n)) => set.insert(n),
                _ => {}
            }
        }
    }
}

/// For each sorted facet `(id, entries)` longer than [`WALK_MAX`], what
/// [`FacetSet::rekey`] would find: `(id, the old entry's place if there,
/// the new place)`, pushed to `moves`. Each round takes one halving step
/// in every facet, so the cache misses of the facets' searches overlap:
/// each search is a chain of dependent loads, and five facets searched one
/// after the other (with a rotation between) paid five chains in series.
fn find_moves(
    sorted: &[(u32, &[OpEntry])],
    moves: &mut SmallVec<[(u32, Option<usize>, usize); 8]>,
    old: &OpEntry,
    new: &OpEntry,
) {
    let mut ranges: SmallVec<[(usize, usize); 8]> =
        sorted.iter().map(|(_, v)| (0, v.len())).collect();
    lower_bounds(sorted, &mut ranges, old);
    for ((m, v), r) in sorted.iter().zip(ranges.iter_mut()) {
        let i = r.0;
        let old_at = (v.get(i) == Some(old)).then_some(i);
        moves.push((*m, old_at, 0));
        // The new place is searched on the side the key moves to.
        *r = match old_at {
            Some(i) if new > old => {
                // Keys of time or pick order move an operator to the end:
                // no search then.
                if v.last().is_some_and(|l| l < new) {
                    (v.len(), v.len())
                } else {
                    (i + 1, v.len())
                }
            }
            Some(i) => (0, i),
            None => (0, 0),
        };
    }
    lower_bounds(sorted, &mut ranges, new);
    for (mv, r) in moves.iter_mut().zip(&ranges) {
        mv.2 = r.0;
    }
}

/// Moves the old entry, at `old_at`, to the new place `j` that
/// [`find_moves`] found, by one rotation of the entries between; false if
/// the old entry was not there (the caller inserts `new` then).
fn apply_move(
    v: &mut [OpEntry],
    old_at: Option<usize>,
    j: usize,
    old: &OpEntry,
    new: OpEntry,
) -> bool {
    let Some(i) = old_at else {
        return false;
    };
    if new > *old {
        v[i..j].rotate_left(1);
        v[j - 1] = new;
    } else {
        v[j..=i].rotate_right(1);
        v[j] = new;
    }
    true
}

/// Up to this many entries a sorted facet is re-keyed by walking it
/// ([`move_by_walk`]). Most facets (one skill at one level on one channel)
/// hold a handful to some tens of operators: there a walk reads adjacent
/// cache lines (at most 4 KiB) and costs fewer instructions and fewer cache
/// misses than the lock-step searches (callgrind, BENCHMARKS.md, session 13).
const WALK_MAX: usize = 128;

/// Moves `old` to the place of `new` in a sorted facet by walking it: finds
/// `old`, then shifts the entries between its place and the new one by one
/// step; false if `old` is not there (the caller inserts `new` then). The
/// result is that of removing `old` and inserting `new`.
fn move_by_walk(v: &mut [OpEntry], old: &OpEntry, new: OpEntry) -> bool {
    let Some(mut i) = v.iter().position(|e| e.2 == old.2 && e == old) else {
        return false;
    };
    if new > *old {
        while i + 1 < v.len() && v[i + 1] < new {
            v[i] = v[i + 1];
            i += 1;
        }
    } else {
        while i > 0 && v[i - 1] > new {
            v[i] = v[i - 1];
            i -= 1;
        }
    }
    v[i] = new;
    true
}

/// Narrows each facet's range to the first entry in it not below `key`
/// (left in `.0`), one halving step per facet per round.
fn lower_bounds(sorted: &[(u32, &[OpEntry])], ranges: &mut [(usize, usize)], key: &OpEntry) {
    loop {
        let mut open = false;
        for ((_, v), r) in sorted.iter().zip(ranges.iter_mut()) {
            if r.0 < r.1 {
                let mid = r.0 + (r.1 - r.0) / 2;
                if v[mid] < *key {
                    r.0 = mid + 1;
                } else {
                    r.1 = mid;
                }
                open = true;
            }
        }
        if !open {
            return;
        }
    }
}

/// Order of a waiting conversation: (class, time, arrival sequence).
/// Smaller is served first; the sequence makes every key unique.
pub(crate) type QueueKey = (u64, u64, u64);

/// The effective requirements of a waiting conversation: the key of its bucket.
///
/// Packed, since a mixed backlog has many requirement sets, each with its bucket (48,053 for
/// 100,000 conversations in the memory bench's mix): the skills inline, one team inline,
/// and several teams or any excluded operator (declined offers, a move away on request), which
/// few conversations have, behind one pointer. 56 bytes where three small vectors took 96.
/// The representation is canonical (unused skill slots zeroed; the team inline exactly when
/// there is at most one and nothing else to box), so the derived equality compares contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Req {
    /// Queue index.
    pub(crate) queue: u16,
    /// How many of the queue's profile delays its wait has passed.
    pub(crate) reach: u8,
    pub(crate) channel: u8,
    skill_count: u8,
    /// The first `skill_count`, sorted by skill id.
    skills: [SkillLevel; MAX_REQUIRED_SKILLS],
    /// The one team, when there is at most one and no `extra`.
    team: Option<TeamId>,
    extra: Option<Box<ReqExtra>>,
}

/// The rare parts of a [`Req`], boxed: one allocation, for up to two of each.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReqExtra {
    /// Sorted.
    teams: SmallVec<[TeamId; 2]>,
    /// Sorted.
    excluded: SmallVec<[OperatorId; 2]>,
}

impl Req {
    /// Requirements of `skills` (sorted by skill id, at most [`MAX_REQUIRED_SKILLS`]: specs
    /// are checked for that and relaxing only removes), operators of any of `teams` (sorted;
    /// empty: any team) and none of `excluded` (sorted).
    pub(crate) fn new(
        queue: u16,
        reach: u8,
        channel: u8,
        skills: &[SkillLevel],
        teams: &[TeamId],
        excluded: &[OperatorId],
    ) -> Req {
        debug_assert!(skills.len() <= MAX_REQUIRED_SKILLS);
        let n = skills.len().min(MAX_REQUIRED_SKILLS);
        let mut packed = [SkillLevel::new(SkillId(0), 0); MAX_REQUIRED_SKILLS];
        // Element by element: a slice copy of a length known only at run time is a `memcpy`
        // call, which cost more than the copy here.
        for (p, s) in packed.iter_mut().zip(skills) {
            *p = *s;
        }
        let (team, extra) = if teams.len() <= 1 && excluded.is_empty() {
            (teams.first().copied(), None)
        } else {
            let extra = ReqExtra {
                teams: SmallVec::from_slice(teams),
                excluded: SmallVec::from_slice(excluded),
            };
            (None, Some(Box::new(extra)))
        };
        Req {
            queue,
            reach,
            channel,
            skill_count: n as u8,
            skills: packed,
            team,
            extra,
        }
    }

    /// The required skills with their levels, sorted by skill id.
    #[inline]
    pub(crate) fn skills(&self) -> &[SkillLevel] {
        &self.skills[..usize::from(self.skill_count)]
    }

    /// Operators of any of these teams may take it; empty: any team. Sorted.
    #[inline]
    pub(crate) fn teams(&self) -> &[TeamId] {
        match &self.extra {
            Some(x) => &x.teams,
            None => self.team.as_slice(),
        }
    }

    /// Operators who must not get it (declined offers, moved away on request), sorted.
    #[inline]
    pub(crate) fn excluded(&self) -> &[OperatorId] {
        match &self.extra {
            Some(x) => &x.excluded,
            None => &[],
        }
    }

    /// The same requirements with `not` excluded too. Built in place (a skew rebalance asks
    /// this for every conversation it considers moving): one allocation, the box.
    pub(crate) fn excluding(&self, not: OperatorId) -> Req {
        let had = self.excluded();
        let Err(at) = had.binary_search(&not) else {
            return self.clone();
        };
        let mut excluded: SmallVec<[OperatorId; 2]> = SmallVec::with_capacity(had.len() + 1);
        excluded.extend_from_slice(&had[..at]);
        excluded.push(not);
        excluded.extend_from_slice(&had[at..]);
        let extra = ReqExtra {
            teams: SmallVec::from_slice(self.teams()),
            excluded,
        };
        // Canonical: with an excluded operator, the teams live in the box.
        Req {
            team: None,
            extra: Some(Box::new(extra)),
            ..*self
        }
    }

    /// The key of [`ReqTable`]: one [`mix64`] step per word, a skill with
    /// its level in one word. A bucket is looked up on every placement and
    /// its `Req` hashed again when it retires; the derived `Hash` fed every
    /// field and each vector's length to the hasher one by one (several
    /// times the work). Only looked up, never iterated: its values decide
    /// nothing.
    fn hash64(&self) -> u64 {
        let (skills, teams, excluded) = (self.skills(), self.teams(), self.excluded());
        let mut h = mix64(
            u64::from(self.queue)
                | u64::from(self.reach) << 16
                | u64::from(self.channel) << 24
                | (skills.len() as u64) << 32
                | (teams.len() as u64) << 40
                | (excluded.len() as u64) << 48,
        );
        for s in skills {
            h = mix64(h ^ (u64::from(s.skill.0) << 8 | u64::from(s.level)));
        }
        for t in teams {
            h = mix64(h ^ u64::from(t.0));
        }
        for o in excluded {
            h = mix64(h ^ o.0);
        }
        h
    }
}

/// The group key's queue for groups that span every queue.
pub(crate) const ANY_QUEUE: u16 = u16::MAX;

/// Buckets are found by queue, channel and skill set (levels, team, delays
/// passed vary inside a group). With several queues each bucket is also in
/// the group of [`ANY_QUEUE`], which operators without a profile read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct GroupKey {
    pub(crate) queue: u16,
    pub(crate) channel: u8,
    pub(crate) len: u8,
    pub(crate) skills: [SkillId; MAX_REQUIRED_SKILLS],
}

impl GroupKey {
    pub(crate) fn new(queue: u16, channel: u8, skills: impl Iterator<Item = SkillId>) -> Self {
        let mut k = GroupKey {
            queue,
            channel,
            len: 0,
            skills: [SkillId(0); MAX_REQUIRED_SKILLS],
        };
        for s in skills.take(MAX_REQUIRED_SKILLS) {
            k.skills[k.len as usize] = s;
            k.len += 1;
        }
        k
    }

    /// The group's hash: [`GroupKey::partial`] plus each skill's
    /// [`skill_print`], mixed by [`finish_hash`]. Additive, so a freed
    /// operator enumerating subsets of its skills adds one print per skill
    /// instead of hashing every subset's key anew.
    pub(crate) fn hash64(&self) -> u64 {
        let sum = self.skills[..usize::from(self.len)]
            .iter()
            .fold(Self::partial(self.queue, self.channel), |h, s| {
                h.wrapping_add(skill_print(*s))
            });
        finish_hash(sum)
    }

    /// The queue's and channel's part of [`GroupKey::hash64`].
    pub(crate) fn partial(queue: u16, channel: u8) -> u64 {
        mix64((u64::from(queue) << 8 | u64::from(channel)) ^ 0xA076_1D64_78BD_642F)
    }

    /// Whether this is the group of `queue`, `channel` and `skills` (sorted).
    pub(crate) fn is(&self, queue: u16, channel: u8, skills: &[SkillId]) -> bool {
        self.queue == queue
            && self.channel == channel
            && &self.skills[..usize::from(self.len)] == skills
    }
}

/// Up to [`MAX_REQUIRED_SKILLS`] required levels, four bits each in order
/// (the `i`-th in bits `4i..4i + 4`), for [`levels_fit`]. Levels are at
/// most [`MAX_LEVEL`]; one above 7 (which validation refuses) would pack
/// as 0, which every operator passes, so the full check still decides.
pub(crate) fn pack_needed(levels: impl Iterator<Item = u8>) -> u32 {
    pack(levels.map(|l| if l > 7 { 0 } else { l }))
}

/// An operator's levels in the places of [`pack_needed`]; above 7 packs as
/// 7, which passes every need [`pack_needed`] writes.
pub(crate) fn pack_held(levels: impl Iterator<Item = u8>) -> u32 {
    pack(levels.map(|l| l.min(7)))
}

fn pack(levels: impl Iterator<Item = u8>) -> u32 {
    levels
        .take(MAX_REQUIRED_SKILLS)
        .enumerate()
        .fold(0, |p, (i, l)| p | u32::from(l) << (4 * i))
}

/// Whether every level in `have` ([`pack_held`]) is at least the one in the
/// same place in `need` ([`pack_needed`]): each field computes
/// `8 + have - need`, whose bit 3 is set exactly when `have >= need`, and
/// no field borrows from the next (levels stay below 8).
pub(crate) fn levels_fit(have: u32, need: u32) -> bool {
    const GUARD: u32 = 0x8888;
    ((have | GUARD) - (need & 0xFFFF)) & GUARD == GUARD
}

/// A bucket's summary in its group entry: the levels its skills require
/// ([`pack_needed`], bits 0–15) and, when it names teams, bit 31 set and
/// their [`team_bits`] in bits 16–30.
pub(crate) fn bucket_summary(req: &Req) -> u32 {
    let levels = pack_needed(req.skills().iter().map(|s| s.level));
    if req.teams().is_empty() {
        return levels;
    }
    levels | 1 << 31 | team_bits(req.teams()) << 16
}

/// One of 15 bits per team (`id % 15`): two sets of teams with no bit in
/// common have no team in common.
pub(crate) fn team_bits(teams: &[TeamId]) -> u32 {
    teams.iter().fold(0, |b, t| b | 1 << (t.0 % 15))
}

/// Whether an operator with `levels` ([`pack_held`]) and `teams`
/// ([`team_bits`]) may fit a bucket of `summary` ([`bucket_summary`]).
/// False only when the full check would say no (a level short, or no team
/// in common); true leaves the decision to it.
pub(crate) fn may_fit(levels: u32, teams: u32, summary: u32) -> bool {
    levels_fit(levels, summary) && (summary & 1 << 31 == 0 || (summary >> 16) & 0x7FFF & teams != 0)
}

/// One skill's term in a [`GroupKey::hash64`].
pub(crate) fn skill_print(s: SkillId) -> u64 {
    mix64(u64::from(s.0).wrapping_add(0x9E37_79B9_7F4A_7C15))
}

/// Mixes a sum of prints into the table's hash (the sum of a few mixed
/// values is not itself well spread in the low bits the table indexes by).
pub(crate) fn finish_hash(sum: u64) -> u64 {
    mix64(sum)
}

/// Groups of buckets by [`GroupKey`], hashed with [`GroupKey::hash64`] so
/// lookups can bring their own hash. Only looked up, never iterated into a
/// decision: its order does not matter.
#[derive(Debug, Default, Clone)]
pub(crate) struct Groups {
    table: HashTable<GroupSlot>,
}

/// A group's table entry, one cache line: a freed operator probes a
/// dozen or more groups per channel, and an entry that straddles two lines
/// (the table's storage is 16-byte aligned otherwise) costs two misses
/// where one does.
#[derive(Debug, Clone)]
#[repr(align(64))]
struct GroupSlot(GroupKey, SmallOrdered<BucketEntry>);

/// Equal as maps (the table's layout depends on its history).
impl PartialEq for Groups {
    fn eq(&self, other: &Self) -> bool {
        self.table.len() == other.table.len()
            && self
                .table
                .iter()
                .all(|GroupSlot(k, v)| other.get(k).is_some_and(|w| w == v))
    }
}

impl Eq for Groups {}

impl Groups {
    pub(crate) fn get(&self, k: &GroupKey) -> Option<&SmallOrdered<BucketEntry>> {
        self.table
            .find(k.hash64(), |GroupSlot(g, _)| g == k)
            .map(|GroupSlot(_, v)| v)
    }

    /// The group of `queue`, `channel` and `skills` (sorted), whose
    /// [`GroupKey::hash64`] the caller worked out as `hash`.
    pub(crate) fn get_hashed(
        &self,
        hash: u64,
        queue: u16,
        channel: u8,
        skills: &[SkillId],
    ) -> Option<&SmallOrdered<BucketEntry>> {
        self.table
            .find(hash, |GroupSlot(g, _)| g.is(queue, channel, skills))
            .map(|GroupSlot(_, v)| v)
    }

    /// Applies `f` to the group of `k` (made if new), and forgets the
    /// group if that leaves it empty: one hash and one probe.
    fn update(&mut self, k: GroupKey, f: impl FnOnce(&mut SmallOrdered<BucketEntry>)) {
        let hash = k.hash64();
        match self.table.find_entry(hash, |GroupSlot(g, _)| *g == k) {
            Ok(mut e) => {
                f(&mut e.get_mut().1);
                if e.get().1.is_empty() {
                    e.remove();
                }
            }
            Err(_) => {
                let mut group = SmallOrdered::new();
                f(&mut group);
                if !group.is_empty() {
                    self.table
                        .insert_unique(hash, GroupSlot(k, group), |GroupSlot(g, _)| g.hash64());
                }
            }
        }
    }

    fn get_or_new(&mut self, k: GroupKey) -> &mut SmallOrdered<BucketEntry> {
        let e = self.table.entry(
            k.hash64(),
            |GroupSlot(g, _)| *g == k,
            |GroupSlot(g, _)| g.hash64(),
        );
        &mut e
            .or_insert_with(|| GroupSlot(k, SmallOrdered::new()))
            .into_mut()
            .1
    }

    fn retain(&mut self, mut keep: impl FnMut(&GroupKey) -> bool) {
        self.table.retain(|GroupSlot(g, _)| keep(g));
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bucket {
    pub(crate) req: Req,
    pub(crate) queue: SmallOrdered<ConvEntry>,
}

/// Above this many entries a bucket's (or group's) ring buffer turns into
/// a B-tree; below [`SMALL_BACK`] a B-tree turns back (the gap keeps one
/// that hovers around a size from converting on every change).
const SMALL_MAX: usize = 64;
const SMALL_BACK: usize = 16;

/// A bucket's entry: a conversation's queue key and slot.
pub(crate) type ConvEntry = (QueueKey, u32);

/// A group's entry: a bucket's head key, its slot, and its summary
/// ([`bucket_summary`]), so a freed operator passes buckets asking for more
/// than they have, or for other teams, without reading them.
pub(crate) type BucketEntry = (QueueKey, u32, u32);

/// Entries in order ([`ConvEntry`] or [`BucketEntry`]): a bucket's
/// conversations, or a group's buckets by head. Most requirement combinations are rare (a
/// backlog of 100,000 mixed conversations makes about 48,000 buckets, most
/// of them holding one conversation, in about as many groups holding one
/// bucket), so one entry lives inline, a few more in a sorted ring buffer
/// on the heap, and only a large one pays for a B-tree.
///
/// A ring buffer rather than a vector because the entry taken is nearly
/// always the first (the most urgent conversation of a bucket, the most
/// urgent bucket of a group) and the one added nearly always the last (a
/// new arrival): both ends are O(1) there, where a vector moved every
/// other entry on each taking — at 100,000 waiting, a fifth of a freed
/// decision's cache misses.
#[derive(Debug, Clone)]
pub(crate) enum SmallOrdered<Entry> {
    Empty,
    One(Entry),
    Ring(VecDeque<Entry>),
    Tree(BTreeSet<Entry>),
}

/// Equal by contents: the representation depends on the history.
impl<Entry: Ord + Copy> PartialEq for SmallOrdered<Entry> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<Entry: Ord + Copy> Eq for SmallOrdered<Entry> {}

/// Iterator over a [`SmallOrdered`] in order.
pub(crate) enum OrderedIter<'a, Entry> {
    One(Option<&'a Entry>),
    Ring(std::collections::vec_deque::Iter<'a, Entry>),
    Tree(std::collections::btree_set::Iter<'a, Entry>),
}

impl<'a, Entry> Iterator for OrderedIter<'a, Entry> {
    type Item = &'a Entry;

    fn next(&mut self) -> Option<&'a Entry> {
        match self {
            OrderedIter::One(e) => e.take(),
            OrderedIter::Ring(i) => i.next(),
            OrderedIter::Tree(i) => i.next(),
        }
    }
}

impl<Entry: Ord + Copy> SmallOrdered<Entry> {
    fn new() -> Self {
        SmallOrdered::Empty
    }

    fn len(&self) -> usize {
        match self {
            SmallOrdered::Empty => 0,
            SmallOrdered::One(_) => 1,
            SmallOrdered::Ring(v) => v.len(),
            SmallOrdered::Tree(t) => t.len(),
        }
    }

    /// In order.
    pub(crate) fn iter(&self) -> OrderedIter<'_, Entry> {
        match self {
            SmallOrdered::Empty => OrderedIter::One(None),
            SmallOrdered::One(e) => OrderedIter::One(Some(e)),
            SmallOrdered::Ring(v) => OrderedIter::Ring(v.iter()),
            SmallOrdered::Tree(t) => OrderedIter::Tree(t.iter()),
        }
    }

    pub(crate) fn first(&self) -> Option<&Entry> {
        match self {
            SmallOrdered::Empty => None,
            SmallOrdered::One(e) => Some(e),
            SmallOrdered::Ring(v) => v.front(),
            SmallOrdered::Tree(t) => t.first(),
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, SmallOrdered::Empty) || matches!(self, SmallOrdered::Tree(t) if t.is_empty())
    }

    /// Adds an entry; false if it was already there.
    fn insert(&mut self, e: Entry) -> bool {
        match self {
            SmallOrdered::Empty => *self = SmallOrdered::One(e),
            SmallOrdered::One(x) => {
                if *x == e {
                    return false;
                }
                let mut v = VecDeque::with_capacity(2);
                v.push_back((*x).min(e));
                v.push_back((*x).max(e));
                *self = SmallOrdered::Ring(v);
            }
            SmallOrdered::Ring(v) => {
                // Arrivals mostly come last in their bucket: no search then.
                let i = match v.back() {
                    Some(l) if *l < e => v.len(),
                    _ => match v.binary_search(&e) {
                        Ok(_) => return false,
                        Err(i) => i,
                    },
                };
                if v.len() < SMALL_MAX {
                    // Grows 2, 4, 8, ...; moves the shorter side.
                    v.insert(i, e);
                } else {
                    let mut t: BTreeSet<_> = v.drain(..).collect();
                    t.insert(e);
                    *self = SmallOrdered::Tree(t);
                }
            }
            SmallOrdered::Tree(t) => return t.insert(e),
        }
        true
    }

    /// Removes an entry; false if it was not there.
    fn remove(&mut self, e: &Entry) -> bool {
        match self {
            SmallOrdered::Empty => false,
            SmallOrdered::One(x) => {
                if x != e {
                    return false;
                }
                *self = SmallOrdered::Empty;
                true
            }
            SmallOrdered::Ring(v) => {
                // The first entry is the usual one taken: no search then.
                let i = if v.front() == Some(e) {
                    0
                } else {
                    match v.binary_search(e) {
                        Ok(i) => i,
                        Err(_) => return false,
                    }
                };
                v.remove(i);
                debug_assert!(!v.is_empty(), "a ring holds two entries or more");
                if v.len() == 1 {
                    // Back inline: no heap block for one.
                    *self = SmallOrdered::One(v[0]);
                }
                true
            }
            SmallOrdered::Tree(t) => {
                let found = t.remove(e);
                if t.len() < SMALL_BACK {
                    *self = SmallOrdered::Ring(std::mem::take(t).into_iter().collect());
                }
                found
            }
        }
    }
}

/// The bucket lookup: slots hashed by their bucket's requirements.
#[derive(Clone, Default)]
struct ReqTable {
    table: HashTable<u32>,
}

impl std::fmt::Debug for ReqTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReqTable({} buckets)", self.table.len())
    }
}

/// Derived from the buckets (each live bucket's slot, hashed by its
/// `Req`), which `Buckets` compares; equal sizes are all that is left.
impl PartialEq for ReqTable {
    fn eq(&self, other: &Self) -> bool {
        self.table.len() == other.table.len()
    }
}

impl Eq for ReqTable {}

/// Waiting conversations, bucketed by requirements.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Buckets {
    /// Bucket slots by their requirements (hashed from the bucket's own
    /// `Req`, so each requirement set is stored once).
    by_req: ReqTable,
    /// Per channel and skill set: the non-empty buckets by their head.
    pub(crate) groups: Groups,
    /// Waiting conversations whose customer prefers this operator, per channel.
    pub(crate) preferring: HashMap<(OperatorId, u8), BTreeSet<(QueueKey, u32)>>,
    pub(crate) buckets: Vec<Bucket>,
    /// Waiting conversations by number of required skills, so a freed
    /// operator enumerates only skill subsets up to the largest size in use.
    by_skill_count: [u32; MAX_REQUIRED_SKILLS + 1],
    /// Retired bucket slots, reused first.
    free: Vec<u32>,
    /// Queue entries (buckets plus preference queues) per channel, so a
    /// freed operator skips channels where nothing waits.
    pub(crate) on_channel: [u32; MAX_CHANNELS],
    /// Bucket entries per (queue index, channel), so an operator with a
    /// profile skips its queues where nothing waits.
    on_queue: Vec<[u32; MAX_CHANNELS]>,
    /// Buckets are also grouped across queues (several queues and an
    /// operator without a profile); see `set_multi`.
    multi: bool,
}

impl Buckets {
    /// The bucket for `req`, made if new (one copy of `req` for the lookup,
    /// the given one kept by the bucket).
    fn bucket_for(&mut self, req: Req) -> u32 {
        let hash = req.hash64();
        let buckets = &self.buckets;
        if let Some(&b) = self
            .by_req
            .table
            .find(hash, |&b| buckets[b as usize].req == req)
        {
            return b;
        }
        let next = self.next_bucket();
        self.by_req.table.insert_unique(hash, next, |&b| {
            // Rehashing: every slot in the table holds its bucket's `Req`,
            // except `next`, which is being filled with `req`.
            if b == next {
                req.hash64()
            } else {
                buckets[b as usize].req.hash64()
            }
        });
        let bucket = Bucket {
            req,
            queue: SmallOrdered::new(),
        };
        match self.free.pop() {
            Some(b) => {
                self.buckets[b as usize] = bucket;
                b
            }
            None => super::push_slot(&mut self.buckets, bucket),
        }
    }

    /// The slot the next new bucket takes.
    fn next_bucket(&self) -> u32 {
        match self.free.last() {
            Some(&b) => b,
            None => self.buckets.len() as u32,
        }
    }

    fn group_of(queue: u16, req: &Req) -> GroupKey {
        GroupKey::new(queue, req.channel, req.skills().iter().map(|s| s.skill))
    }

    /// Keeps the bucket's place in its group(s) when its head changes.
    fn rehead(&mut self, bucket: u32, old: Option<(QueueKey, u32)>) {
        let b = &self.buckets[bucket as usize];
        let new = b.queue.first().copied();
        if new == old {
            return;
        }
        let mut keys: SmallVec<[GroupKey; 2]> = SmallVec::new();
        keys.push(Self::group_of(b.req.queue, &b.req));
        if self.multi {
            keys.push(Self::group_of(ANY_QUEUE, &b.req));
        }
        // Fixed for the bucket's life: its `Req` is its identity.
        let summary = bucket_summary(&b.req);
        for g in keys {
            self.groups.update(g, |group| {
                if let Some((k, _)) = old {
                    group.remove(&(k, bucket, summary));
                }
                if let Some((k, _)) = new {
                    group.insert((k, bucket, summary));
                }
            });
        }
    }

    /// Turns the groups across queues on (built from the buckets' heads)
    /// or off (dropped). They are derived: the same order either way.
    pub(crate) fn set_multi(&mut self, on: bool) {
        if on == self.multi {
            return;
        }
        self.multi = on;
        if !on {
            self.groups.retain(|g| g.queue != ANY_QUEUE);
            return;
        }
        for (i, b) in self.buckets.iter().enumerate() {
            if let Some(&(k, _)) = b.queue.first() {
                let g = Self::group_of(ANY_QUEUE, &b.req);
                let summary = bucket_summary(&b.req);
                self.groups.get_or_new(g).insert((k, i as u32, summary));
            }
        }
    }

    /// Bucket entries of queue `q` on channel `ch`.
    pub(crate) fn waiting_in(&self, q: u16, ch: u8) -> u32 {
        self.on_queue
            .get(usize::from(q))
            .map_or(0, |c| c[usize::from(ch)])
    }

    /// Puts a conversation in the bucket for `req`; returns the bucket.
    pub(crate) fn insert(&mut self, req: Req, key: QueueKey, slot: u32) -> u32 {
        let (skill_count, channel, q) = (req.skills().len(), req.channel, usize::from(req.queue));
        let b = self.bucket_for(req);
        let old = self.head(b);
        if self.buckets[b as usize].queue.insert((key, slot)) {
            self.by_skill_count[skill_count] += 1;
            self.on_channel[usize::from(channel)] += 1;
            if self.on_queue.len() <= q {
                self.on_queue.resize(q + 1, [0; MAX_CHANNELS]);
            }
            self.on_queue[q][usize::from(channel)] += 1;
        }
        self.rehead(b, old);
        b
    }

    pub(crate) fn remove(&mut self, bucket: u32, key: QueueKey, slot: u32) {
        let old = self.head(bucket);
        let b = &mut self.buckets[bucket as usize];
        if b.queue.remove(&(key, slot)) {
            let n = &mut self.by_skill_count[b.req.skills().len()];
            *n = n.saturating_sub(1);
            let c = &mut self.on_channel[usize::from(b.req.channel)];
            *c = c.saturating_sub(1);
            if let Some(c) = self.on_queue.get_mut(usize::from(b.req.queue)) {
                let c = &mut c[usize::from(b.req.channel)];
                *c = c.saturating_sub(1);
            }
        }
        self.rehead(bucket, old);
        if self.buckets[bucket as usize].queue.is_empty() {
            self.retire(bucket);
        }
    }

    /// Forgets an empty bucket, so requirement combinations seen once (a
    /// declined offer's exclusion list, a rare skill pair) do not stay in the
    /// lookups forever. Its slot is reused.
    fn retire(&mut self, bucket: u32) {
        let req = std::mem::replace(
            &mut self.buckets[bucket as usize].req,
            Req::new(0, 0, 0, &[], &[], &[]),
        );
        // Empty, so already out of its group (see `rehead`).
        let hash = req.hash64();
        if let Ok(e) = self.by_req.table.find_entry(hash, |&b| b == bucket) {
            e.remove();
        }
        self.free.push(bucket);
    }

    /// The largest number of required skills among waiting conversations.
    pub(crate) fn max_skill_count(&self) -> usize {
        (0..=MAX_REQUIRED_SKILLS)
            .rev()
            .find(|&k| self.by_skill_count[k] > 0)
            .unwrap_or(0)
    }

    pub(crate) fn prefer(&mut self, op: OperatorId, channel: u8, key: QueueKey, slot: u32) {
        if self
            .preferring
            .entry((op, channel))
            .or_default()
            .insert((key, slot))
        {
            self.on_channel[usize::from(channel)] += 1;
        }
    }

    pub(crate) fn unprefer(&mut self, op: OperatorId, channel: u8, key: QueueKey, slot: u32) {
        if let Some(q) = self.preferring.get_mut(&(op, channel)) {
            if q.remove(&(key, slot)) {
                let c = &mut self.on_channel[usize::from(channel)];
                *c = c.saturating_sub(1);
            }
            if q.is_empty() {
                self.preferring.remove(&(op, channel));
            }
        }
    }

    pub(crate) fn head(&self, bucket: u32) -> Option<(QueueKey, u32)> {
        self.buckets[bucket as usize].queue.first().copied()
    }
}

/// One of an operator's skills as a freed operator's subset walk uses it:
/// the skill, its [`skill_print`] and the operator's level of it.
pub(crate) type HeldSkill = (SkillId, u64, u8);

/// Calls `f` with every subset of `skills` (sorted, each with its
/// [`skill_print`], worked out once by the caller) of size `0..=max_len`,
/// in a fixed order, without allocating, with `base` plus the subset's
/// prints (see [`GroupKey::hash64`]) and the subset's levels
/// ([`pack_held`]).
pub(crate) fn for_each_subset(
    skills: &[HeldSkill],
    max_len: usize,
    base: u64,
    mut f: impl FnMut(&[SkillId], u64, u32),
) {
    let mut buf = [SkillId(0); MAX_REQUIRED_SKILLS];
    fn rec<F: FnMut(&[SkillId], u64, u32)>(
        skills: &[HeldSkill],
        start: usize,
        depth: usize,
        max_len: usize,
        (sum, levels): (u64, u32),
        buf: &mut [SkillId; MAX_REQUIRED_SKILLS],
        f: &mut F,
    ) {
        f(&buf[..depth], sum, levels);
        if depth == max_len {
            return;
        }
        for (i, &(s, print, level)) in skills.iter().enumerate().skip(start) {
            buf[depth] = s;
            let next = (
                sum.wrapping_add(print),
                levels | pack_held(std::iter::once(level)) << (4 * depth),
            );
            rec(skills, i + 1, depth + 1, max_len, next, buf, f);
        }
    }
    rec(
        skills,
        0,
        0,
        max_len.min(MAX_REQUIRED_SKILLS),
        (base, 0),
        &mut buf,
        &mut f,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded xorshift generator: `rnd(n)` in `0..n`.
    fn xorshift(mut x: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        }
    }

    #[test]
    fn subsets_are_enumerated_once_each_in_order() {
        let s = [SkillId(1), SkillId(2), SkillId(3)];
        let mut seen = Vec::new();
        let p: Vec<HeldSkill> = s
            .iter()
            .map(|&k| (k, skill_print(k), k.0 as u8 + 2))
            .collect();
        for_each_subset(&p, 2, GroupKey::partial(3, 1), |x, sum, levels| {
            // The running sum is the subset's group hash before mixing.
            assert_eq!(
                finish_hash(sum),
                GroupKey::new(3, 1, x.iter().copied()).hash64()
            );
            // The levels are the subset's, in its order.
            assert_eq!(levels, pack_held(x.iter().map(|k| k.0 as u8 + 2)));
            seen.push(x.iter().map(|k| k.0).collect::<Vec<_>>())
        });
        assert_eq!(
            seen,
            vec![
                vec![],
                vec![1],
                vec![1, 2],
                vec![1, 3],
                vec![2],
                vec![2, 3],
                vec![3]
            ]
        );
        let mut n = 0;
        for_each_subset(&p, 0, 0, |_, _, _| n += 1);
        assert_eq!(n, 1);
    }

    /// A facet behaves as the ordered set it stands for while it grows past
    /// the sorted-vector limit into a B-tree and shrinks back.
    #[test]
    fn facet_sets_match_an_ordered_set_across_both_representations() {
        let mut rnd = xorshift(0x9E37_79B9_7F4A_7C15);
        let mut set = FacetSet::default();
        let mut model: BTreeSet<OpEntry> = BTreeSet::new();
        // Keys by operator slot, as refresh_op keeps them.
        let mut keys: HashMap<u32, OpEntry> = HashMap::new();
        let (mut was_tree, mut back_to_sorted) = (false, false);
        for round in 0..9_000u64 {
            // Grow for the first third, shrink after.
            let growing = round < 3_000;
            let slot = rnd(1_500) as u32;
            let entry = |k: u64, t: u64| (k, t, OperatorId(u64::from(slot)), slot, 0);
            match keys.get(&slot).copied() {
                None if growing || rnd(16) == 0 => {
                    let e = entry(rnd(8), rnd(3));
                    set.insert(e);
                    model.insert(e);
                    keys.insert(slot, e);
                }
                None => {}
                Some(old) if !growing => {
                    set.remove(&old);
                    model.remove(&old);
                    keys.remove(&slot);
                }
                Some(old) => {
                    let new = entry(rnd(8), rnd(3));
                    set.rekey(&old, new);
                    model.remove(&old);
                    model.insert(new);
                    keys.insert(slot, new);
                }
            }
            match set {
                FacetSet::Tree(_) => was_tree = true,
                FacetSet::Sorted(_) if was_tree => back_to_sorted = true,
                FacetSet::Sorted(_) => {}
            }
            assert_eq!(set.len(), model.len());
            if round % 97 == 0 {
                assert!(set.range_from(None).eq(model.iter()), "round {round}");
                let lower = (rnd(8), 0, OperatorId(0), 0, 0);
                assert!(
                    set.range_from(Some(lower)).eq(model.range(lower..)),
                    "round {round}"
                );
            }
        }
        assert!(was_tree && back_to_sorted, "both representations exercised");
    }

    /// A load change moves an operator in all its facets at once (the
    /// places searched in lock step) exactly as an ordered set per facet
    /// says: old entry present or not, moving up (to the end or not) or
    /// down, empty and one-entry facets, a facet turned into a B-tree.
    #[test]
    fn rekeying_all_facets_at_once_matches_an_ordered_set_per_facet() {
        rekey_against_ordered_sets(700, 0xD1B5_4A32_D192_ED03);
    }

    /// The same with fewer operators: facets of a handful to two hundred
    /// entries, on both sides of [`WALK_MAX`], so both the walk and the
    /// lock-step searches move entries.
    #[test]
    fn rekeying_small_facets_by_a_walk_matches_an_ordered_set_per_facet() {
        let mut seen = (false, false);
        for (ops, seed) in [(12, 1), (40, 2), (100, 3), (200, 4)] {
            let sizes = rekey_against_ordered_sets(ops, 0x9E37_79B9_0000_0000 | seed);
            seen.0 |= sizes.iter().any(|&n| (2..=WALK_MAX).contains(&n));
            seen.1 |= sizes.iter().any(|&n| n > WALK_MAX && n <= SORTED_MAX);
        }
        assert!(seen.0 && seen.1, "both re-key paths exercised: {seen:?}");
    }

    /// Re-keys `ops` operators at random in facets 0–4 (by the operator's
    /// bits) and 5 (everyone), checking each facet against an ordered set;
    /// returns the facet sizes seen at the checks.
    fn rekey_against_ordered_sets(ops: u32, seed: u64) -> Vec<usize> {
        let mut sizes = Vec::new();
        let mut rnd = xorshift(seed);
        let mut facets = Facets::default();
        let ids: Vec<u32> = (0..6)
            .map(|i| facets.member(Member::Skill(SkillId(i), 1)))
            .collect();
        let mut model: Vec<BTreeSet<OpEntry>> = vec![BTreeSet::new(); ids.len()];
        // Operator o sits in the facets of its bits; facet 5 gathers
        // everyone, so with 700 operators it grows past the sorted limit
        // into a B-tree.
        let member_of =
            |o: u32| -> Vec<usize> { (0..5).filter(|f| (o >> f) & 1 == 1).chain([5]).collect() };
        let mut keys: Vec<Option<(u64, u64)>> = vec![None; ops as usize];
        let entry = |o: u32, k: (u64, u64)| (k.0, k.1, OperatorId(u64::from(o)), o, 0u32);
        for step in 0..20_000u32 {
            let o = rnd(u64::from(ops)) as u32;
            let fs = member_of(o);
            let members: Vec<u32> = fs.iter().map(|&f| ids[f]).collect();
            // Few key values, so ties and long moves both happen.
            let new = (rnd(8) != 0).then(|| (rnd(6), rnd(40)));
            let mut old = keys[o as usize].map(|k| entry(o, k));
            if old.is_some() && rnd(50) == 0 {
                // An old entry that is not there (its own entries are
                // taken out first): both insert the new one.
                old = Some(entry(o, (rnd(6), rnd(40))));
                for &f in &fs {
                    model[f].remove(&entry(o, keys[o as usize].unwrap()));
                }
                facets.rekey(0, 0, &members, keys[o as usize].map(|k| entry(o, k)), None);
            }
            let new_e = new.map(|k| entry(o, k));
            facets.rekey(0, 0, &members, old, new_e);
            for &f in &fs {
                match (old, new_e) {
                    (Some(a), Some(b)) => {
                        model[f].remove(&a);
                        model[f].insert(b);
                    }
                    (Some(a), None) => {
                        model[f].remove(&a);
                    }
                    (None, Some(b)) => {
                        model[f].insert(b);
                    }
                    (None, None) => {}
                }
            }
            keys[o as usize] = new;
            if step % 97 == 0 || step == 19_999 {
                for (f, want) in model.iter().enumerate() {
                    let got: Vec<OpEntry> = facets
                        .get(0, 0, Member::Skill(SkillId(f as u32), 1))
                        .map(|s| s.range_from(None).copied().collect())
                        .unwrap_or_default();
                    let want: Vec<OpEntry> = want.iter().copied().collect();
                    assert_eq!(got, want, "facet {f} at step {step}");
                    sizes.push(got.len());
                }
            }
        }
        if ops > SORTED_MAX as u32 {
            assert!(
                matches!(
                    facets.get(0, 0, Member::Skill(SkillId(5), 1)),
                    Some(FacetSet::Tree(_))
                ),
                "the large facet became a B-tree"
            );
        }
        sizes
    }

    /// The packed level check says no only when some required level is
    /// above the operator's, and is exact for levels in range.
    #[test]
    fn packed_levels_reject_only_what_the_full_check_rejects() {
        let mut rnd = xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200_000 {
            let len = rnd(MAX_REQUIRED_SKILLS as u64 + 1) as usize;
            // Mostly valid levels (1..=MAX_LEVEL), sometimes 0 or above 7.
            let mut level = || match rnd(20) {
                0 => rnd(256) as u8,
                _ => rnd(u64::from(MAX_LEVEL) + 1) as u8,
            };
            let have: Vec<u8> = (0..len).map(|_| level()).collect();
            let need: Vec<u8> = (0..len).map(|_| level()).collect();
            let truth = have.iter().zip(&need).all(|(h, n)| h >= n);
            let fit = levels_fit(
                pack_held(have.iter().copied()),
                pack_needed(need.iter().copied()),
            );
            if !fit {
                assert!(!truth, "{have:?} {need:?}");
            }
            if have.iter().chain(&need).all(|&l| l <= 7) {
                assert_eq!(fit, truth, "{have:?} {need:?}");
            }
        }
    }

    /// A bucket summary rules out an operator only when they lack a level
    /// or every team the bucket names.
    #[test]
    fn bucket_summaries_rule_out_only_what_satisfies_rules_out() {
        let mut rnd = xorshift(0x2545_F491_4F6C_DD1D);
        for _ in 0..100_000 {
            let mut skills: SmallVec<[SkillLevel; MAX_REQUIRED_SKILLS]> = (0..rnd(3))
                .map(|i| SkillLevel::new(SkillId(i as u32 * 7), 1 + rnd(5) as u8))
                .collect();
            skills.sort_unstable();
            let teams: SmallVec<[TeamId; 2]> =
                (0..rnd(3)).map(|_| TeamId(rnd(40) as u32)).collect();
            let req = Req::new(0, 0, 0, &skills, &teams, &[]);
            let have: Vec<u8> = skills.iter().map(|_| 1 + rnd(5) as u8).collect();
            let mine: Vec<TeamId> = (0..rnd(3)).map(|_| TeamId(rnd(40) as u32)).collect();
            let truth = skills.iter().zip(&have).all(|(s, h)| *h >= s.level)
                && (teams.is_empty() || teams.iter().any(|t| mine.contains(t)));
            let maybe = may_fit(
                pack_held(have.iter().copied()),
                team_bits(&mine),
                bucket_summary(&req),
            );
            assert!(maybe || !truth, "{req:?} {have:?} {mine:?}");
        }
    }

    /// A bucket's (or group's) entries behave as the ordered set they stand
    /// for while they grow from inline through a sorted ring buffer into a
    /// B-tree and shrink back.
    #[test]
    fn small_ordered_matches_an_ordered_set_across_representations() {
        let mut rnd = xorshift(0x2545_F491_4F6C_DD1D);
        let mut set = SmallOrdered::new();
        let mut model: BTreeSet<(QueueKey, u32)> = BTreeSet::new();
        let (mut was_tree, mut back_to_small, mut inline_again) = (false, false, false);
        for round in 0..6_000u64 {
            // Grow, shrink to nothing, grow and shrink again.
            let growing = round % 3_000 < 1_000;
            let e = ((rnd(3), rnd(50), rnd(200)), rnd(4) as u32);
            if growing == (rnd(4) != 0) {
                assert_eq!(set.insert(e), model.insert(e), "round {round}");
            } else {
                // Mostly a present entry, sometimes a missing one.
                let e = if rnd(8) != 0 {
                    let n = model.len() as u64;
                    model
                        .iter()
                        .nth(rnd(n.max(1)) as usize)
                        .copied()
                        .unwrap_or(e)
                } else {
                    e
                };
                assert_eq!(set.remove(&e), model.remove(&e), "round {round}");
            }
            match &set {
                SmallOrdered::Tree(_) => was_tree = true,
                SmallOrdered::Ring(v) => {
                    back_to_small |= was_tree;
                    assert!((2..=SMALL_MAX).contains(&v.len()), "one entry stays inline");
                }
                SmallOrdered::One(_) => inline_again |= was_tree,
                SmallOrdered::Empty => assert!(model.is_empty()),
            }
            assert_eq!(set.len(), model.len());
            assert_eq!(set.is_empty(), model.is_empty());
            assert_eq!(set.first(), model.first());
            if round % 37 == 0 {
                assert!(set.iter().eq(model.iter()), "round {round}");
            }
        }
        assert!(
            was_tree && back_to_small && inline_again,
            "all representations exercised: {was_tree} {back_to_small} {inline_again}"
        );
    }

    /// The per-bucket sizes BENCHMARKS.md quotes ("Memory", point 4):
    /// `cargo test --lib bucket_sizes -- --nocapture` prints them.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn bucket_sizes_stay_within_what_benchmarks_md_states() {
        let bucket = std::mem::size_of::<Bucket>();
        let req = std::mem::size_of::<Req>();
        let entries = std::mem::size_of::<SmallOrdered<ConvEntry>>();
        let group = std::mem::size_of::<GroupSlot>();
        eprintln!("Bucket {bucket} B (Req {req} B, entries {entries} B), group entry {group} B");
        assert!(entries <= 40, "SmallOrdered grew to {entries} B");
        assert!(bucket <= req + 40, "Bucket grew to {bucket} B");
        assert!(req <= 56, "Req grew to {req} B");
        assert_eq!(group, 64, "a group entry is one cache line");
    }

    /// A `Req`'s packed form is canonical: the same requirements compare and hash equal
    /// however they were built, and read back as given.
    #[test]
    fn packed_requirements_are_canonical() {
        let skills = [
            SkillLevel::new(SkillId(2), 3),
            SkillLevel::new(SkillId(9), 1),
        ];
        let (t1, t2) = (TeamId(4), TeamId(7));
        let cases: [(&[TeamId], &[OperatorId]); 5] = [
            (&[], &[]),
            (&[t1], &[]),
            (&[t1, t2], &[]),
            (&[t1], &[OperatorId(5)]),
            (&[], &[OperatorId(5), OperatorId(8)]),
        ];
        for (teams, excluded) in cases {
            let r = Req::new(1, 2, 3, &skills, teams, excluded);
            assert_eq!(
                (r.skills(), r.teams(), r.excluded()),
                (&skills[..], teams, excluded)
            );
            assert_eq!((r.queue, r.reach, r.channel), (1, 2, 3));
            // Built another way: excluding one by one.
            let mut other = Req::new(1, 2, 3, &skills, teams, &[]);
            for &o in excluded.iter().rev() {
                other = other.excluding(o);
            }
            assert_eq!(other, r);
            assert_eq!(other.hash64(), r.hash64());
            assert_eq!(
                r.excluding(OperatorId(5))
                    .excluded()
                    .iter()
                    .filter(|&&o| o == OperatorId(5))
                    .count(),
                1
            );
        }
        // Different contents differ.
        let a = Req::new(0, 0, 0, &skills, &[t1], &[]);
        let b = Req::new(0, 0, 0, &skills[..1], &[t1], &[]);
        let c = Req::new(0, 0, 0, &skills, &[t1], &[OperatorId(0)]);
        assert!(a != b && a != c && b != c);
    }

    #[test]
    fn buckets_track_the_largest_skill_count_in_use() {
        let mut b = Buckets::default();
        let skills = [
            SkillLevel::new(SkillId(1), 2),
            SkillLevel::new(SkillId(4), 1),
        ];
        let req = Req::new(0, 0, 0, &skills, &[], &[]);
        let id = b.insert(req, (0, 5, 1), 7);
        assert_eq!(b.max_skill_count(), 2);
        assert_eq!(b.head(id), Some(((0, 5, 1), 7)));
        b.remove(id, (0, 5, 1), 7);
        assert_eq!(b.max_skill_count(), 0);
        assert_eq!(b.head(id), None);
    }
}
