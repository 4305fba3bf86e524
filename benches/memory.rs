//! Bytes per operator and per waiting conversation, from a counting global
//! allocator (live heap bytes before and after, divided by the count). Not a
//! criterion timing: printed and written to `switchboard-bench/memory/*.json`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::Criterion;
use switchboard::prelude::*;

use crate::fixtures::{self, Rng, backlog_conversation, operator, policy};
use crate::report;

/// `System`, counting live bytes.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Live bytes of an engine holding `n` operators with 5 skills each.
fn operators(n: usize, status: OperatorStatus) -> (Engine, usize) {
    let mut rng = Rng::new(fixtures::SEED);
    let before = live();
    let mut e = Engine::new(policy(Selection::LeastLoaded)).unwrap();
    for i in 0..n {
        let (spec, _) = operator(&mut rng, i as u64 + 1, 5, false);
        e.apply(Event::OperatorAdded {
            at: fixtures::T0,
            operator: spec.status(status),
        })
        .unwrap();
    }
    let _ = e.assign(fixtures::T0).unwrap();
    let bytes = live() - before;
    (e, bytes)
}

pub fn register(_c: &mut Criterion) {
    let n = 10_000;
    let w = if report::quick() { 10_000 } else { 100_000 };
    let (_, ready) = operators(n, OperatorStatus::Available);
    let (mut e, away) = operators(n, OperatorStatus::Away);
    // Waiting conversations: nobody is available, so every arrival waits.
    let mut rng = Rng::new(fixtures::SEED ^ 1);
    let before = live();
    for i in 0..w {
        e.apply(Event::ConversationArrived {
            at: fixtures::T0,
            conversation: backlog_conversation(&mut rng, i as u64 + 1, false),
        })
        .unwrap();
    }
    let d = e.assign(fixtures::T0).unwrap();
    assert!(d.is_empty());
    assert_eq!(e.state_counts().waiting as usize, w);
    let waiting = live() - before;
    // The same count of waiting conversations, all with identical requirements
    // (one bucket): isolates the per-bucket cost of the mixed backlog.
    let (mut one, _) = operators(n, OperatorStatus::Away);
    let before_one = live();
    for i in 0..w {
        let c = ConversationSpec::new(ConversationId(i as u64 + 1), fixtures::CHAT, TierId(1))
            .skill(SkillId(1), 1);
        one.apply(Event::ConversationArrived {
            at: fixtures::T0,
            conversation: c,
        })
        .unwrap();
    }
    let _ = one.assign(fixtures::T0).unwrap();
    let one_bucket = live() - before_one;
    drop(one);
    // Distinct (channel, skills with levels, team) among the mixed backlog.
    let mut rng2 = Rng::new(fixtures::SEED ^ 1);
    let mut reqs = std::collections::HashSet::new();
    for i in 0..w {
        let c = backlog_conversation(&mut rng2, i as u64 + 1, false);
        let mut k: Vec<(u32, u8)> = c.skills.iter().map(|s| (s.skill.0, s.level)).collect();
        k.sort_unstable();
        reqs.insert((c.channel, k, c.team));
    }
    let per_ready = ready as f64 / n as f64;
    let per_away = away as f64 / n as f64;
    let per_waiting = waiting as f64 / w as f64;
    let per_one = one_bucket as f64 / w as f64;
    eprintln!(
        "memory: {per_ready:.0} B per available operator (5 skills, 3 channels), \
         {per_away:.0} B per away operator, {per_waiting:.0} B per waiting conversation \
         ({per_one:.0} B with identical requirements; {} distinct requirements) \
         ({n} operators, {w} waiting)",
        reqs.len()
    );
    report::write(
        "memory",
        "engine",
        &[
            ("operators", n.to_string()),
            ("waiting", w.to_string()),
            ("bytes_per_available_operator", format!("{per_ready:.1}")),
            ("bytes_per_away_operator", format!("{per_away:.1}")),
            (
                "bytes_per_waiting_conversation",
                format!("{per_waiting:.1}"),
            ),
            ("bytes_per_waiting_one_bucket", format!("{per_one:.1}")),
            ("distinct_requirements", reqs.len().to_string()),
        ],
    );
}
