//! Forecast from the live state: a host drives the engine through a busy morning, takes a
//! snapshot at 10:00 (what it persists anyway) and asks what the next hour looks like per
//! tier, warning when a tier's service level is forecast below its target.
//!
//! The morning: the CX team of `examples/scenarios/cx-team.json` (7 operators, chat and
//! calls) from 09:00 with a surge of 300 conversations an hour (the profile says 120), two
//! juniors on a break since 09:40. This small host loop stands in for the real service: it
//! sends arrivals, replies, resolutions and abandonments and calls `assign` after each.
//!
//! `cargo run --release --example forecast [REPLICATIONS]` (default 20).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use switchboard::engine::{DecisionKind, Engine, Event};
use switchboard::ids::{ConversationId, OperatorId};
use switchboard::model::{ConversationSpec, ConversationState, OperatorSpec, OperatorStatus};
use switchboard::sim::dist::{Exponential, WeightedChoice};
use switchboard::sim::forecast::{ForecastOptions, forecast};
use switchboard::sim::rng::Rng;
use switchboard::sim::scenario::Scenario;
use switchboard::time::{Millis, Timestamp};

/// The share answered within the tier's first-response target a team lead aims for.
const GOAL_PCT: f64 = 80.0;
const SURGE_PER_HOUR: f64 = 300.0;
const MORNING_MS: u64 = 3_600_000;
const BREAK_AT_MS: u64 = 40 * 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Next {
    Arrive,
    Break(OperatorId),
    Respond(ConversationId),
    Resolve(ConversationId),
    Patience(ConversationId),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let replications: u32 = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 20,
    };
    let mut scenario: Scenario = serde_json::from_str(include_str!("scenarios/cx-team.json"))?;
    // Service levels at each tier's own first-response target.
    scenario.service_level_secs = scenario
        .policy
        .tiers
        .iter()
        .map(|t| t.first_response_target.0 as f64 / 1000.0)
        .collect();
    let variant = "auto, least loaded";
    let v = scenario
        .policies
        .iter()
        .find(|p| p.name == variant)
        .ok_or("no such variant")?;

    // --- The live morning: engine time 0 is 09:00. ---
    let mut engine = Engine::new(scenario.policy_for(v))?;
    let mut rng = Rng::stream(scenario.seed, 1_000);
    let mut on_break = Vec::new();
    for (g, group) in scenario.operators.iter().enumerate() {
        for k in 0..group.count {
            let id = Scenario::operator_id(g, k);
            let mut spec = OperatorSpec::new(id);
            spec.status = OperatorStatus::Available;
            spec.capacity = group.capacity.iter().copied().collect();
            spec.skills = group.skills.iter().copied().collect();
            engine.apply(Event::OperatorAdded {
                at: Timestamp(0),
                operator: spec,
            })?;
            if group.name == "junior" && k < 2 {
                on_break.push(id);
            }
        }
    }
    let tiers = WeightedChoice::new(&scenario.tiers.iter().map(|x| x.p).collect::<Vec<_>>())?;
    let channels = WeightedChoice::new(&scenario.channels.iter().map(|x| x.p).collect::<Vec<_>>())?;
    let needs = WeightedChoice::new(&scenario.needs.iter().map(|x| x.p).collect::<Vec<_>>())?;
    let gap = Exponential::from_rate(SURGE_PER_HOUR / 3_600_000.0)?;
    let handle = scenario.handle_time.sampler()?;
    let respond = scenario.first_response_delay.sampler()?;
    let patience = scenario
        .patience
        .as_ref()
        .map(|p| p.sampler())
        .transpose()?;

    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, t: u64, n: Next| {
        seq += 1;
        heap.push(Reverse((t, seq, n)));
    };
    let mut next_arrival = gap.sample(&mut rng);
    push(&mut heap, next_arrival.round() as u64, Next::Arrive);
    for &op in &on_break {
        push(&mut heap, BREAK_AT_MS, Next::Break(op));
    }
    let mut next_id = 1;
    while let Some(Reverse((t, _, n))) = heap.pop() {
        if t > MORNING_MS {
            break;
        }
        let at = Timestamp(t);
        let state = |e: &Engine, c| e.conversation(c).map(|v| v.state);
        match n {
            Next::Arrive => {
                let id = ConversationId(next_id);
                next_id += 1;
                let mut spec = ConversationSpec::new(
                    id,
                    scenario.channels[channels.sample(&mut rng)].value,
                    scenario.tiers[tiers.sample(&mut rng)].value,
                );
                spec.skills = scenario.needs[needs.sample(&mut rng)]
                    .value
                    .skills
                    .iter()
                    .copied()
                    .collect();
                engine.apply(Event::ConversationArrived {
                    at,
                    conversation: spec,
                })?;
                if let Some(p) = &patience {
                    push(
                        &mut heap,
                        t + p.sample_millis(&mut rng).0,
                        Next::Patience(id),
                    );
                }
                next_arrival += gap.sample(&mut rng);
                push(&mut heap, next_arrival.round() as u64, Next::Arrive);
            }
            Next::Break(op) => {
                engine.apply(Event::OperatorStatusChanged {
                    at,
                    operator: op,
                    status: OperatorStatus::Away,
                })?;
            }
            Next::Respond(c) => {
                if state(&engine, c) == Some(ConversationState::Assigned) {
                    engine.apply(Event::FirstResponseSent {
                        at,
                        conversation: c,
                    })?;
                    push(
                        &mut heap,
                        t + handle.sample_millis(&mut rng).0,
                        Next::Resolve(c),
                    );
                }
            }
            Next::Resolve(c) => {
                if state(&engine, c) == Some(ConversationState::Responded) {
                    engine.apply(Event::ConversationResolved {
                        at,
                        conversation: c,
                    })?;
                }
            }
            Next::Patience(c) => {
                if state(&engine, c) == Some(ConversationState::Waiting) {
                    engine.apply(Event::ConversationAbandoned {
                        at,
                        conversation: c,
                    })?;
                }
            }
        }
        for d in engine.assign(at)? {
            if d.kind == DecisionKind::Assigned {
                let r = respond.sample_millis(&mut rng).0;
                push(&mut heap, t + r, Next::Respond(d.conversation));
            }
        }
        let _ = engine.take_records();
    }
    engine.apply(Event::Tick {
        at: Timestamp(MORNING_MS),
    })?;
    let snapshot = engine.snapshot();

    // --- The forecast from 10:00. ---
    let opts = ForecastOptions {
        replications,
        policy: Some(variant.into()),
        clock_hour: Some(10.0),
        horizon: Millis::from_mins(60),
        ..ForecastOptions::default()
    };
    let f = forecast(&snapshot, &scenario, &opts)?;
    let counts = engine.state_counts();
    let status = engine.status_counts();
    println!(
        "10:00 after a surge of {SURGE_PER_HOUR}/h since 09:00: {} waiting, {} with an operator; \
         {} operators available, {} away",
        counts.waiting, counts.with_operator, status.available, status.away
    );
    println!(
        "forecast 10:00-11:00 ({} replications, policy \"{}\", arrivals from the profile), \
         95 % intervals:",
        f.replications, f.policy
    );
    println!(
        "{:<11} {:>7} {:>4} {:>22} {:>14} {:>15} {:>12}",
        "tier", "waiting", "held", "SL at target", "abandoned %", "mean wait s", "waiting 11:00"
    );
    let pm = |e: switchboard::sim::report::Estimate| format!("{:.1} ± {:.1}", e.mean, e.half_width);
    let mut warnings = Vec::new();
    for (line, tier) in f.by_tier.iter().zip(&scenario.policy.tiers) {
        let target_s = tier.first_response_target.0 as f64 / 1000.0;
        let sl = line.service_level(target_s).unwrap_or_default();
        println!(
            "{:<11} {:>7} {:>4} {:>22} {:>14} {:>15} {:>12}",
            tier.name,
            line.waiting_now,
            line.held_now,
            format!("{} % in {target_s:.0} s", pm(sl)),
            pm(line.abandonment_pct),
            pm(line.wait_mean_s),
            pm(line.waiting_at_end)
        );
        if sl.n > 0 && sl.mean < GOAL_PCT {
            warnings.push(format!(
                "WARNING {}: forecast service level {:.0} % (95 % interval {:.0}-{:.0} %) is below \
                 the goal of {GOAL_PCT:.0} % within {target_s:.0} s",
                tier.name,
                sl.mean,
                sl.mean - sl.half_width,
                sl.mean + sl.half_width
            ));
        }
    }
    let o = &f.overall;
    println!(
        "{:<11} {:>7} {:>4} {:>22} {:>14} {:>15} {:>12}",
        "everyone",
        o.waiting_now,
        o.held_now,
        "",
        pm(o.abandonment_pct),
        pm(o.wait_mean_s),
        pm(o.waiting_at_end)
    );
    for w in &warnings {
        println!("{w}");
    }
    if warnings.is_empty() {
        println!("every tier is forecast at or above {GOAL_PCT:.0} % within its target");
    }
    Ok(())
}
