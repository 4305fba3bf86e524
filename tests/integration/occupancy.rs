//! Operators' activity intervals come out of the engine beside finished
//! conversations, so occupancy is computed on the engine's own data.

use crate::common::*;
use switchboard::kpi::{KpiAccumulator, KpiConfig};
use switchboard::prelude::*;
use switchboard::record::{Activity, StatusInterval};

fn iv(op: u64, status: Activity, from: u64, to: u64) -> StatusInterval {
    StatusInterval {
        operator: OperatorId(op),
        status,
        start: t(from),
        end: t(to),
    }
}

#[test]
fn a_working_day_gives_idle_busy_wrap_up_away_and_removal_intervals() {
    let mut p = policy();
    p.wrap_up = Millis::from_secs(30);
    let mut e = engine_with(p);
    add(&mut e, t(0), op(1));
    arrive(&mut e, t(10), chat(1, SMB));
    e.assign(t(10)).unwrap();
    resolve(&mut e, t(70), 1); // wrap-up until 100 s
    e.assign(t(120)).unwrap(); // wrap-up ended at 100 s, by timer
    status(&mut e, t(150), 1, OperatorStatus::Away);
    let view = e.operator(OperatorId(1)).unwrap();
    assert_eq!(view.activity, (Activity::Away, t(150)));
    e.apply(Event::OperatorRemoved {
        at: t(200),
        operator: OperatorId(1),
    })
    .unwrap();
    let records = e.take_records();
    assert_eq!(
        records.status_intervals,
        [
            iv(1, Activity::Idle, 0, 10),
            iv(1, Activity::Busy, 10, 100),
            iv(1, Activity::Idle, 100, 150),
            iv(1, Activity::Away, 150, 200),
        ]
    );
    assert_eq!(records.conversations.len(), 1);
    assert!(e.take_records().status_intervals.is_empty(), "taken once");

    let mut kpi = KpiAccumulator::new(KpiConfig::default()).unwrap();
    for s in &records.status_intervals {
        kpi.push_status(s).unwrap();
    }
    let occ = kpi.report().overall.occupancy;
    assert_eq!(occ.busy_ms, 90_000);
    assert_eq!(occ.idle_ms, 60_000);
}

/// On every recorded stream: each operator's intervals chain without gap or
/// overlap from when they joined to now (or their removal), and the open
/// interval matches what the operator is doing.
#[test]
fn intervals_chain_without_gaps_on_recorded_streams() {
    use std::collections::BTreeMap;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recorded");
    for seed in [4u64, 9, 12, 59] {
        let text = std::fs::read_to_string(dir.join(format!("seed-{seed}.jsonl"))).unwrap();
        let mut lines = text.lines();
        let policy: Policy = serde_json::from_str(lines.next().unwrap()).unwrap();
        let mut e = Engine::new(policy).unwrap();
        // operator → end of the last closed interval (or when they joined).
        let mut chain: BTreeMap<OperatorId, Timestamp> = BTreeMap::new();
        let mut checked = 0u64;
        for line in lines {
            let ev: Event = serde_json::from_str(line).unwrap();
            let added = match &ev {
                Event::OperatorAdded { at, operator } => Some((operator.id, *at)),
                _ => None,
            };
            let removed = match &ev {
                Event::OperatorRemoved { operator, .. } => Some(*operator),
                _ => None,
            };
            if e.apply(ev).is_err() {
                continue;
            }
            if let Some((id, at)) = added {
                chain.insert(id, at);
            }
            for s in e.take_records().status_intervals {
                let end = chain.get_mut(&s.operator).expect("a known operator");
                assert_eq!(
                    s.start, *end,
                    "seed {seed}: {s:?} starts where the last ended"
                );
                assert!(s.start < s.end, "seed {seed}: {s:?} is not empty");
                *end = s.end;
                checked += 1;
            }
            if let Some(id) = removed {
                chain.remove(&id);
            }
            for (&id, &end) in &chain {
                let o = e.operator(id).expect("live");
                let doing = match o.spec.status {
                    OperatorStatus::Offline => Activity::Offline,
                    OperatorStatus::Away => Activity::Away,
                    _ if !o.held.is_empty() || o.wrap_up_until.is_some() => Activity::Busy,
                    _ => Activity::Idle,
                };
                assert_eq!(o.activity, (doing, end), "seed {seed}: {id} now");
            }
        }
        assert!(checked > 50, "seed {seed}: only {checked} intervals");
    }
}
