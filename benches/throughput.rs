//! Sustained decisions: a recorded stream of arrivals, first responses and
//! resolutions (one third each; `assign` after every arrival and resolution)
//! replayed into a copy of the fixture state. Setup (recording, cloning the
//! engine and the log) is untimed; the replay includes all event bookkeeping
//! and a drain of the records every 4,096 inputs, as a busy host would do
//! it (`take_records_into`, reusing its buffers).
//!
//! The stream is stationary: each arrival is built from the skills of the
//! operator freed by the previous resolution, on the same channel, so held and
//! waiting counts stay level (a resolution either lets its operator pull a
//! waiting conversation, then the arrival waits, or leaves room the arrival
//! takes). A stream of 1M events takes seconds, so it is timed by hand (3
//! replays, median) rather than with criterion's 10-sample minimum.

use std::collections::VecDeque;
use std::time::Instant;

use criterion::Criterion;
use switchboard::engine::Records;
use switchboard::prelude::*;

use crate::fixtures::{CALL, CHAT, EMAIL, Fixture, servable_conversation};
use crate::report;

struct Stream {
    start: Engine,
    log: Vec<Event>,
    business_events: usize,
    decisions: usize,
    waiting_before: u32,
    waiting_after: u32,
}

/// Drives the fixture for `events` business events and records every input.
fn record(mut fx: Fixture, events: usize) -> Stream {
    let start = fx.engine.clone();
    let waiting_before = fx.engine.state_counts().waiting;
    let d = &mut fx.driver;
    let e = &mut fx.engine;
    let mut unanswered: VecDeque<ConversationId> = VecDeque::new();
    let mut held: Vec<ConversationId> = e
        .conversation_ids()
        .into_iter()
        .filter(|c| e.conversation(*c).unwrap().state == ConversationState::Assigned)
        .collect();
    d.rng.shuffle(&mut held);
    unanswered.extend(held);
    let mut answered: Vec<ConversationId> = Vec::new();
    // Operator (index) and channel of the last resolution.
    let mut freed: Option<(usize, ChannelId)> = None;
    let mut log = Vec::with_capacity(events * 5 / 3 + 8);
    let mut out = Vec::new();
    let mut decisions = 0;
    let mut business = 0;
    let apply = |e: &mut Engine, ev: Event, log: &mut Vec<Event>, out: &mut Vec<Decision>| {
        log.push(ev.clone());
        out.clear();
        e.apply_into(ev, out).unwrap();
        out.len()
    };
    while business < events {
        d.now = Timestamp(d.now.0 + 1);
        let at = d.now;
        match business % 3 {
            0 => {
                d.next_conv += 1;
                let (op, ch) = freed.take().unwrap_or_else(|| {
                    let ch = [CHAT, CHAT, EMAIL, EMAIL, CALL][d.rng.below(5) as usize];
                    (d.rng.below(d.ops.len() as u64) as usize, ch)
                });
                let op = &d.ops[op];
                let c = servable_conversation(&mut d.rng, d.next_conv, op, ch);
                apply(
                    e,
                    Event::ConversationArrived {
                        at,
                        conversation: c,
                    },
                    &mut log,
                    &mut out,
                );
                decisions += apply(e, Event::Assign { at }, &mut log, &mut out);
                unanswered.extend(out.iter().map(|x| x.conversation));
            }
            1 => {
                let Some(c) = unanswered.pop_front() else {
                    business += 1;
                    continue;
                };
                apply(
                    e,
                    Event::FirstResponseSent {
                        at,
                        conversation: c,
                    },
                    &mut log,
                    &mut out,
                );
                answered.push(c);
            }
            _ => {
                if answered.is_empty() {
                    business += 1;
                    continue;
                }
                let i = d.rng.below(answered.len() as u64) as usize;
                let c = answered.swap_remove(i);
                let view = e.conversation(c).unwrap();
                let holder = view.operator.unwrap();
                // Operators are numbered 1..=n in order.
                freed = Some((holder.0 as usize - 1, view.spec.channel));
                apply(
                    e,
                    Event::ConversationResolved {
                        at,
                        conversation: c,
                    },
                    &mut log,
                    &mut out,
                );
                decisions += apply(e, Event::Assign { at }, &mut log, &mut out);
                unanswered.extend(out.iter().map(|x| x.conversation));
            }
        }
        business += 1;
        if business % 4096 == 0 {
            let _ = e.take_records();
        }
    }
    Stream {
        start,
        log,
        business_events: business,
        decisions,
        waiting_before,
        waiting_after: e.state_counts().waiting,
    }
}

fn replay(e: &mut Engine, log: Vec<Event>) -> usize {
    let mut out = Vec::with_capacity(16);
    let mut records = Records::default();
    let mut n = 0;
    for (i, ev) in log.into_iter().enumerate() {
        n += e.apply_into(ev, &mut out).unwrap();
        out.clear();
        if i % 4096 == 0 {
            // A busy host's drain: into buffers it reuses (and hands on).
            e.take_records_into(&mut records);
            records.conversations.clear();
            records.bot_conversations.clear();
            records.status_intervals.clear();
        }
    }
    n
}

pub fn register(_c: &mut Criterion) {
    let quick = report::quick();
    let events = if quick { 100_000 } else { 1_000_000 };
    // `SWITCHBOARD_BENCH_STREAMS=1000x1000` runs one stream only (profiling).
    let only = report::list("SWITCHBOARD_BENCH_STREAMS");
    for (n, w) in [(1_000, 1_000), (10_000, 100_000)] {
        if only
            .as_ref()
            .is_some_and(|v| !v.contains(&format!("{n}x{w}")))
        {
            continue;
        }
        let t = Instant::now();
        let fx = Fixture::build(n, w, Selection::LeastLoaded);
        let s = record(fx, events);
        eprintln!(
            "stream {n}ops_{w}waiting: {} business events, {} inputs, {} decisions, waiting {} -> {}, recorded in {:.2?}",
            s.business_events,
            s.log.len(),
            s.decisions,
            s.waiting_before,
            s.waiting_after,
            t.elapsed()
        );
        let param = format!("{n}ops_{w}waiting");
        let runs = if quick { 1 } else { 3 };
        let mut times: Vec<f64> = Vec::new();
        for _ in 0..runs {
            let mut e = s.start.clone();
            let log = s.log.clone();
            let t = Instant::now();
            let d = replay(&mut e, log);
            let dt = t.elapsed();
            assert_eq!(d, s.decisions, "replay must decide as recorded");
            times.push(dt.as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let per_s = |x: usize| x as f64 / median;
        eprintln!(
            "  throughput/{param}: median {median:.3} s per stream: {:.0} decisions/s, {:.0} business events/s, {:.0} inputs/s",
            per_s(s.decisions),
            per_s(s.business_events),
            per_s(s.log.len())
        );
        report::write(
            "throughput",
            &param,
            &[
                ("param", report::quoted(&param)),
                ("business_events", s.business_events.to_string()),
                ("inputs", s.log.len().to_string()),
                ("decisions", s.decisions.to_string()),
                ("waiting_before", s.waiting_before.to_string()),
                ("waiting_after", s.waiting_after.to_string()),
                ("runs", times.len().to_string()),
                ("median_s", format!("{median:.6}")),
                ("decisions_per_s", format!("{:.0}", per_s(s.decisions))),
                (
                    "business_events_per_s",
                    format!("{:.0}", per_s(s.business_events)),
                ),
                ("inputs_per_s", format!("{:.0}", per_s(s.log.len()))),
            ],
        );
    }
}
