//! Trace-driven runs (`sim::trace`): recorded arrivals and handle times replayed exactly
//! (Lindley's recursion on one server), a Poisson trace against Erlang C, recorded against
//! drawn handle times, the inferred roster, one day of the real bank records, determinism and
//! every bad input.

use switchboard::kpi::Outcome;
use switchboard::kpi::csv::CsvReader;
use switchboard::record::ConversationRecord;
use switchboard::sim::report::t_975;
use switchboard::sim::rng::Rng;
use switchboard::sim::scenario::Scenario;
use switchboard::sim::trace::{
    Censored, HandleSource, PatienceSource, Roster, RosterOperator, Shift, SkillMap, Trace,
    TraceError, TraceOptions, run_trace,
};
use switchboard::staffing::{ErlangC, Workload};
use switchboard::{ChannelId, ConversationId, OperatorId, SkillId, TeamId, TierId, Timestamp};

const DAY: u64 = 86_400_000;
/// 1999-01-13 00:00 as ms since the epoch (a day of the bank's January file).
const JAN_13: u64 = 10_604 * DAY;

/// One channel, one tier, FIFO, `n` operators in a group (replaced by a roster where one is
/// given), exponential handle times of mean `handle_secs`, no reply delay, `hours` from
/// midnight.
fn scenario(n: u32, handle_secs: f64, patience_secs: Option<f64>, hours: f64) -> Scenario {
    let patience = patience_secs.map_or(String::new(), |p| {
        format!(r#""patience": {{ "exponential": {{ "mean_secs": {p} }} }},"#)
    });
    let json = format!(
        r#"{{
        "name": "trace", "seed": 11, "hours": {hours}, "warmup_minutes": 0,
        "policy": {{ "channels": [{{ "id": 1, "name": "call" }}],
                    "tiers": [{{ "id": 1, "name": "all", "priority": 1, "first_response_target": 20000 }}],
                    "queue_order": "fifo" }},
        "arrivals": [{{ "from_hour": 0, "per_hour": 60 }}],
        "tiers": [{{ "value": 1, "p": 1.0 }}], "channels": [{{ "value": 1, "p": 1.0 }}],
        "handle_time": {{ "exponential": {{ "mean_secs": {handle_secs} }} }},
        "first_response_delay": {{ "fixed": {{ "secs": 0 }} }},
        {patience}
        "operators": [{{ "name": "agent", "count": {n}, "capacity": [{{ "channel": 1, "capacity": 1 }}] }}],
        "policies": [{{ "name": "fifo", "routing": {{ "auto": {{}} }} }}]
    }}"#
    );
    serde_json::from_str(&json).expect("scenario parses")
}

/// A served record: asked at `at`, assigned after `wait`, handled for `handle` (ms).
fn served(i: u64, at: u64, wait: u64, handle: u64, op: Option<u64>) -> ConversationRecord {
    let mut r = ConversationRecord::new(ConversationId(i), ChannelId(1), TierId(1), Timestamp(at));
    r.assigned_at = Some(Timestamp(at + wait));
    r.first_response_at = r.assigned_at;
    r.resolved_at = Some(Timestamp(at + wait + handle));
    r.operator = op.map(OperatorId);
    r
}

fn abandoned(i: u64, at: u64, after: u64) -> ConversationRecord {
    let mut r = ConversationRecord::new(ConversationId(i), ChannelId(1), TierId(1), Timestamp(at));
    r.abandoned_at = Some(Timestamp(at + after));
    r
}

/// One operator on channel 1 from `start` to `end`.
fn one_operator(id: u64, start: u64, end: u64) -> Roster {
    Roster {
        operators: vec![RosterOperator {
            operator: OperatorId(id),
            capacity: vec![switchboard::model::ChannelCapacity {
                channel: ChannelId(1),
                capacity: 1,
            }],
            skills: Vec::new(),
            teams: Vec::new(),
            profile: None,
            shifts: vec![Shift {
                start: Timestamp(start),
                end: Timestamp(end),
            }],
        }],
    }
}

/// The simulated records in arrival order (replayed arrival `i` is conversation `i + 1`).
fn by_arrival(mut records: Vec<ConversationRecord>) -> Vec<ConversationRecord> {
    records.sort_by_key(|r| r.conversation);
    records
}

/// A FIFO single server fed recorded arrivals and handle times: every simulated wait is
/// Lindley's `w[k+1] = max(0, w[k] + s[k] − (a[k+1] − a[k]))`, to the millisecond, every
/// conversation goes to the one operator, and each is held exactly its recorded handle time.
#[test]
fn single_server_trace_waits_follow_lindley_exactly() {
    // A hand-made start (a burst, a gap, a tie), then 300 random arrivals and handle times.
    let mut at: Vec<u64> = vec![0, 10_000, 15_000, 15_000, 16_000, 100_000, 101_000];
    let mut handle: Vec<u64> = vec![30_000, 5_000, 20_000, 0, 1_000, 10_000, 50_000];
    let mut rng = Rng::stream(99, 0);
    for _ in 0..300 {
        let last = *at.last().unwrap();
        at.push(last + (rng.next_f64() * 80_000.0) as u64);
        handle.push((rng.next_f64() * 70_000.0) as u64);
    }
    let start = JAN_13 + 8 * 3_600_000;
    // The records' own waits (here: 7 s each) play no part in the replay.
    let records: Vec<_> = (0..at.len())
        .map(|i| served(i as u64, start + at[i], 7_000, handle[i], Some(7)))
        .collect();
    let trace = Trace::from_records(&records, TraceOptions::default()).unwrap();
    let roster = one_operator(7, JAN_13, JAN_13 + DAY);
    let sc = scenario(0, 60.0, None, 24.0);
    let run = run_trace(&sc, &sc.policies[0], &trace, Some(&roster), 0, true).unwrap();

    let mut expected = vec![0u64; at.len()];
    for k in 1..at.len() {
        expected[k] = (expected[k - 1] + handle[k - 1]).saturating_sub(at[k] - at[k - 1]);
    }
    let got = by_arrival(run.records);
    assert_eq!(run.customers, at.len() as u64);
    assert_eq!(got.len(), at.len());
    let waits: Vec<u64> = got
        .iter()
        .map(|r| r.assigned_at.expect("all served").0 - r.asked_at.0)
        .collect();
    assert_eq!(
        waits, expected,
        "simulated waits against Lindley's recursion"
    );
    for (k, r) in got.iter().enumerate() {
        assert_eq!(
            r.asked_at,
            Timestamp(8 * 3_600_000 + at[k]),
            "arrival {k} at its recorded instant, from midnight"
        );
        assert_eq!(r.operator, Some(OperatorId(7)));
        assert_eq!(
            r.resolved_at.unwrap().0 - r.assigned_at.unwrap().0,
            handle[k],
            "arrival {k} held for its recorded handle time"
        );
    }
    let waited = expected.iter().filter(|&&w| w > 0).count();
    eprintln!(
        "{} arrivals, {waited} waited, mean wait {:.1} s",
        at.len(),
        expected.iter().sum::<u64>() as f64 / at.len() as f64 / 1000.0
    );
    assert!(waited > 50, "the trace makes customers wait: {waited}");
}

/// A Poisson trace with exponential handle times (generated here, one per replication),
/// replayed with its recorded handle times through 3 operators at 2.4 erlangs: P(wait) and
/// the mean wait lie within the 99 % interval of 12 replications' means (t quantile × 2.58 /
/// 1.96 on the 95 % one) around Erlang C (P(wait) 0.647, mean wait 64.7 s).
#[test]
fn poisson_trace_with_recorded_handle_times_matches_erlang_c() {
    let (n, handle_secs, load, hours) = (3u32, 60.0, 2.4, 20.0);
    let rate_per_ms = load / handle_secs / 1000.0;
    let c = ErlangC::new(Workload::new(load / handle_secs, handle_secs).unwrap(), n).unwrap();
    let mut sc = scenario(n, handle_secs, None, hours + 1.0);
    sc.warmup_minutes = 30.0;
    let reps = 12;
    let (mut pw, mut ew) = (Vec::new(), Vec::new());
    for rep in 0..reps {
        let mut rng = Rng::stream(2026, rep);
        let (mut t, mut i, mut records) = (0.0f64, 0u64, Vec::new());
        loop {
            t += -rng.next_f64_nonzero().ln() / rate_per_ms;
            if t >= hours * 3_600_000.0 {
                break;
            }
            let h = (-rng.next_f64_nonzero().ln() * handle_secs * 1000.0).round() as u64;
            records.push(served(i, JAN_13 + t.round() as u64, 0, h, None));
            i += 1;
        }
        let trace = Trace::from_records(&records, TraceOptions::default()).unwrap();
        let run = run_trace(&sc, &sc.policies[0], &trace, None, rep as u32, true).unwrap();
        assert_eq!(run.customers, records.len() as u64);
        let waits: Vec<f64> = run
            .records
            .iter()
            .map(|r| (r.assigned_at.unwrap().0 - r.asked_at.0) as f64 / 1000.0)
            .collect();
        let m = waits.len() as f64;
        pw.push(waits.iter().filter(|&&w| w > 0.0).count() as f64 / m);
        ew.push(waits.iter().sum::<f64>() / m);
    }
    let mut bad = Vec::new();
    for (name, xs, theory) in [
        ("P(wait)", &pw, c.probability_of_waiting()),
        ("E[Wq] s", &ew, c.average_speed_of_answer()),
    ] {
        let k = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / k;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
        let half = t_975(xs.len() - 1) * sd / k.sqrt() * 2.58 / 1.96;
        eprintln!("{name}: simulated {mean:.4} ± {half:.4} (99 %), Erlang C {theory:.4}");
        if (mean - theory).abs() > half {
            bad.push(format!("{name}: {mean:.4} ± {half:.4}, theory {theory:.4}"));
        }
    }
    assert!(bad.is_empty(), "outside the 99 % interval: {bad:?}");
}

/// Recorded handle times (uniform 100–200 s, mean about 150 s) against drawn ones (the
/// scenario's exponential, mean 60 s), with operators to spare: recorded mode holds every
/// conversation exactly its recorded time; drawn mode's mean is within 4 standard errors of
/// 60 s and far from the trace's.
#[test]
fn recorded_handle_times_follow_the_trace_drawn_ones_the_scenario() {
    let mut rng = Rng::stream(5, 0);
    let records: Vec<_> = (0..2_000u64)
        .map(|i| {
            let h = 100_000 + (rng.next_f64() * 100_000.0) as u64;
            served(i, JAN_13 + i * 20_000, 0, h, None)
        })
        .collect();
    let trace_mean = records
        .iter()
        .map(|r| (r.resolved_at.unwrap().0 - r.assigned_at.unwrap().0) as f64 / 1000.0)
        .sum::<f64>()
        / 2_000.0;
    let sc = scenario(30, 60.0, None, 24.0);
    let mean_handle = |handle_time| {
        let options = TraceOptions {
            handle_time,
            ..TraceOptions::default()
        };
        let trace = Trace::from_records(&records, options).unwrap();
        let run = run_trace(&sc, &sc.policies[0], &trace, None, 0, true).unwrap();
        let got = by_arrival(run.records);
        assert_eq!(got.len(), 2_000, "everyone served");
        let hs: Vec<f64> = got
            .iter()
            .map(|r| (r.resolved_at.unwrap().0 - r.assigned_at.unwrap().0) as f64 / 1000.0)
            .collect();
        (hs.iter().sum::<f64>() / hs.len() as f64, hs)
    };
    let (recorded, hs) = mean_handle(HandleSource::Recorded);
    for (r, h) in records.iter().zip(&hs) {
        let want = (r.resolved_at.unwrap().0 - r.assigned_at.unwrap().0) as f64 / 1000.0;
        assert_eq!(*h, want, "recorded handle time replayed as it is");
    }
    let (drawn, _) = mean_handle(HandleSource::Drawn);
    let se = 60.0 / 2_000f64.sqrt();
    eprintln!(
        "mean handle: trace {trace_mean:.2} s, recorded mode {recorded:.2} s, drawn mode {drawn:.2} s (scenario 60 s, se {se:.2})"
    );
    assert_eq!(recorded, trace_mean);
    assert!((drawn - 60.0).abs() < 4.0 * se, "drawn mean {drawn}");
}

/// Recorded patience: an abandoner leaves exactly at their recorded patience when nobody is
/// there to answer, however long; drawn patience ignores it; censored served customers with
/// `Infinite` never leave.
#[test]
fn recorded_patience_is_replayed_and_censored_patience_follows_the_option() {
    let start = JAN_13 + 9 * 3_600_000;
    let records = vec![
        abandoned(0, start, 45_000),
        abandoned(1, start + 1_000, 0),
        served(2, start + 2_000, 10_000, 5_000, Some(1)),
    ];
    // The only operator logs in an hour later.
    let roster = one_operator(1, start + 3_600_000, start + 7_200_000);
    let sc = scenario(0, 60.0, Some(30.0), 24.0);
    let run = |patience| {
        let options = TraceOptions {
            patience,
            ..TraceOptions::default()
        };
        let trace = Trace::from_records(&records, options).unwrap();
        by_arrival(
            run_trace(&sc, &sc.policies[0], &trace, Some(&roster), 0, true)
                .unwrap()
                .records,
        )
    };
    let infinite = run(PatienceSource::Recorded {
        served: Censored::Infinite,
    });
    assert_eq!(infinite.len(), 3);
    let left = |r: &ConversationRecord| r.abandoned_at.map(|t| t.0 - r.asked_at.0);
    assert_eq!(left(&infinite[0]), Some(45_000));
    assert_eq!(left(&infinite[1]), Some(0));
    assert_eq!(infinite[2].outcome(), Outcome::Answered);
    assert_eq!(
        infinite[2].assigned_at.unwrap().0 - infinite[2].asked_at.0,
        3_600_000 - 2_000,
        "waits for the operator to log in"
    );
    // The default: the served customer's patience is drawn above their 10 s wait from an
    // exponential of mean 30 s, so they leave before the operator comes, after more than 10 s.
    let above = run(PatienceSource::default());
    assert_eq!(left(&above[0]), Some(45_000));
    assert_eq!(above[2].outcome(), Outcome::Abandoned);
    assert!(left(&above[2]).unwrap() > 10_000);
    // Drawn: nobody keeps their recorded patience (an exponential draw of 45 000 ms exactly is
    // all but impossible).
    let drawn = run(PatienceSource::Drawn);
    assert_ne!(left(&drawn[0]), Some(45_000));
}

/// Records from the interchange CSV keep their team: with one operator per team (an explicit
/// roster), each conversation goes to its own team's operator, even when the other one is
/// free, and the roster's shifts decide when they start.
#[test]
fn interchange_csv_records_replay_with_their_teams() {
    let t0 = JAN_13 + 9 * 3_600_000;
    let mut text = String::from(
        "conversation_id,channel,tier,team,operator,asked_at,assigned_at,resolved_at\n",
    );
    for (i, team) in [1, 1, 1, 2].iter().enumerate() {
        let at = t0 + i as u64 * 1_000;
        text.push_str(&format!(
            "{},1,1,{team},,{at},{at},{}\n",
            100 + i,
            at + 60_000
        ));
    }
    let mut reader = CsvReader::new(text.as_bytes()).unwrap();
    let mut records = Vec::new();
    while let Some((_, r)) = reader.read_record().unwrap() {
        records.push(r);
    }
    let trace = Trace::from_records(&records, TraceOptions::default()).unwrap();
    assert_eq!(trace.arrivals[3].team, Some(TeamId(2)));
    let mut roster = one_operator(1, JAN_13, JAN_13 + DAY);
    roster.operators[0].teams = vec![TeamId(1)];
    let mut second = roster.operators[0].clone();
    second.operator = OperatorId(2);
    second.teams = vec![TeamId(2)];
    // Team 2's operator comes at 9:30.
    second.shifts[0].start = Timestamp(t0 + 1_800_000);
    roster.operators.push(second);
    let sc = scenario(0, 60.0, None, 24.0);
    let got = by_arrival(
        run_trace(&sc, &sc.policies[0], &trace, Some(&roster), 0, true)
            .unwrap()
            .records,
    );
    let who: Vec<_> = got.iter().map(|r| r.operator).collect();
    let ops = [1, 1, 1, 2].map(|o| Some(OperatorId(o)));
    assert_eq!(who, ops);
    let waits: Vec<u64> = got
        .iter()
        .map(|r| r.assigned_at.unwrap().0 - r.asked_at.0)
        .collect();
    // Team 1 queues behind its one operator; team 2 waits for its operator's shift.
    assert_eq!(waits, [0, 59_000, 118_000, 1_800_000 - 3_000]);
}

/// A channel-to-skills map (for the bank records: call type to skill) gives replayed
/// arrivals their required skills: only the operator holding the skill takes them, and a
/// skill the scenario does not declare is refused naming the record.
#[test]
fn mapped_skills_route_replayed_arrivals() {
    let t0 = JAN_13 + 9 * 3_600_000;
    let records: Vec<_> = (0..3u64)
        .map(|i| served(i, t0 + i * 1_000, 0, 60_000, None))
        .collect();
    let skill = |id, level| switchboard::model::SkillLevel {
        skill: SkillId(id),
        level,
    };
    let options = TraceOptions {
        skills_by_channel: vec![SkillMap {
            channel: ChannelId(1),
            skills: vec![skill(5, 3)],
        }],
        ..TraceOptions::default()
    };
    let trace = Trace::from_records(&records, options).unwrap();
    let mut roster = one_operator(1, JAN_13, JAN_13 + DAY);
    let mut expert = roster.operators[0].clone();
    expert.operator = OperatorId(2);
    expert.skills = vec![skill(5, 4)];
    roster.operators.push(expert);
    let mut sc = scenario(0, 60.0, None, 24.0);
    let undeclared = run_trace(&sc, &sc.policies[0], &trace, Some(&roster), 0, true);
    assert!(matches!(
        undeclared,
        Err(TraceError::Undeclared {
            index: 0,
            field: "skills",
            ..
        })
    ));
    sc.policy.skills = serde_json::from_str(r#"[{ "id": 5, "name": "stocks" }]"#).unwrap();
    let got = run_trace(&sc, &sc.policies[0], &trace, Some(&roster), 0, true).unwrap();
    let who: Vec<_> = by_arrival(got.records).iter().map(|r| r.operator).collect();
    assert_eq!(
        who,
        [Some(OperatorId(2)); 3],
        "only the skilled operator serves"
    );
}

/// The inferred roster: per operator and day, from the first assignment to the last
/// resolution; a zero-length day gets one second; a call across midnight extends the day it
/// was assigned on; capacity on the channels served and the mapped skills; served calls
/// without an operator counted.
#[test]
fn inferred_roster_logs_each_operator_in_from_first_assignment_to_last_resolution() {
    let h = 3_600_000;
    let mut records = vec![
        // Operator 1, day 1: 8:00 (waited 1 min) to 9:10, and a call at 12:00–12:05.
        served(0, JAN_13 + 8 * h - 60_000, 60_000, 70 * 60_000, Some(1)),
        served(1, JAN_13 + 12 * h, 0, 5 * 60_000, Some(1)),
        // Operator 1, day 2: 23:50 to 00:20 on day 3.
        served(
            2,
            JAN_13 + DAY + 23 * h + 50 * 60_000,
            0,
            30 * 60_000,
            Some(1),
        ),
        // Operator 2, day 1: one call of 0 s at 10:00.
        served(3, JAN_13 + 10 * h, 0, 0, Some(2)),
        // No operator named; an abandoned call.
        served(4, JAN_13 + 11 * h, 0, 60_000, None),
        abandoned(5, JAN_13 + 11 * h, 10_000),
    ];
    records[1].channel = ChannelId(3);
    let options = TraceOptions {
        skills_by_channel: vec![SkillMap {
            channel: ChannelId(3),
            skills: vec![switchboard::model::SkillLevel {
                skill: SkillId(9),
                level: 2,
            }],
        }],
        ..TraceOptions::default()
    };
    let trace = Trace::from_records(&records, options).unwrap();
    assert_eq!(trace.counts.served_without_operator, 1);
    assert_eq!(trace.counts.left, 1);
    assert_eq!(trace.counts.censored, 5);
    let roster = trace.infer_roster().unwrap();
    roster.validate().unwrap();
    let shift = |a: u64, b: u64| Shift {
        start: Timestamp(a),
        end: Timestamp(b),
    };
    assert_eq!(roster.operators.len(), 2);
    let one = &roster.operators[0];
    assert_eq!(one.operator, OperatorId(1));
    assert_eq!(
        one.shifts,
        [
            shift(JAN_13 + 8 * h, JAN_13 + 12 * h + 5 * 60_000),
            shift(
                JAN_13 + DAY + 23 * h + 50 * 60_000,
                JAN_13 + 2 * DAY + 20 * 60_000
            ),
        ]
    );
    let channels: Vec<_> = one
        .capacity
        .iter()
        .map(|c| (c.channel, c.capacity))
        .collect();
    assert_eq!(channels, [(ChannelId(1), 1), (ChannelId(3), 1)]);
    assert_eq!(one.skills.len(), 1);
    assert_eq!((one.skills[0].skill, one.skills[0].level), (SkillId(9), 2));
    let two = &roster.operators[1];
    assert_eq!(two.operator, OperatorId(2));
    assert_eq!(
        two.shifts,
        [shift(JAN_13 + 10 * h, JAN_13 + 10 * h + 1_000)]
    );
    assert!(two.skills.is_empty());
}

/// One day of the real January 1999 bank records (if the data are next to the repository):
/// the trace and the inferred roster replayed with recorded handle times and patience.
/// Every arrival ends served, abandoned or with a message; waits are non-negative; the
/// roster has one operator per distinct server of the day; only rostered operators serve.
#[test]
fn one_bank_day_replays_with_its_inferred_roster() {
    let started = std::time::Instant::now();
    let Some(bank) = crate::common::bank_january() else {
        return;
    };
    let options = TraceOptions {
        from: Some(Timestamp(JAN_13)),
        until: Some(Timestamp(JAN_13 + DAY)),
        ..TraceOptions::default()
    };
    let trace = Trace::from_records(&bank.records, options).unwrap();
    let n = trace.arrivals.len();
    assert_eq!(
        n + trace.skipped.before_window + trace.skipped.after_window,
        bank.records.len(),
        "every record is an arrival or skipped by reason"
    );
    let roster = trace.infer_roster().unwrap();
    let servers: std::collections::BTreeSet<OperatorId> = trace
        .arrivals
        .iter()
        .filter(|a| a.assigned_at.is_some_and(|t| t.0 < JAN_13 + DAY))
        .filter_map(|a| a.operator)
        .collect();
    let on_duty = roster
        .operators
        .iter()
        .filter(|o| o.shifts.iter().any(|s| s.start.0 / DAY == JAN_13 / DAY))
        .count();
    assert_eq!(
        on_duty,
        servers.len(),
        "one operator per distinct server that day"
    );
    assert_eq!(roster.operators.len(), servers.len());

    // Call types are channels (PS 0 … TT 5, others 99); a call blocks every other.
    let channels: Vec<u32> = vec![0, 1, 2, 3, 4, 5, 99];
    let chans = channels
        .iter()
        .map(|c| {
            let blocks: Vec<String> = channels.iter().map(u32::to_string).collect();
            format!(
                r#"{{ "id": {c}, "name": "type {c}", "blocks": [{}] }}"#,
                blocks.join(",")
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let json = format!(
        r#"{{
        "name": "bank day", "seed": 3, "hours": 24, "warmup_minutes": 0,
        "policy": {{ "channels": [{chans}],
                    "tiers": [{{ "id": 0, "name": "regular", "priority": 2, "first_response_target": 60000 }},
                              {{ "id": 1, "name": "regular", "priority": 2, "first_response_target": 60000 }},
                              {{ "id": 2, "name": "priority", "priority": 1, "first_response_target": 60000 }}],
                    "queue_order": "fifo" }},
        "arrivals": [{{ "from_hour": 0, "per_hour": 60 }}],
        "tiers": [{{ "value": 1, "p": 1.0 }}], "channels": [{{ "value": 0, "p": 1.0 }}],
        "handle_time": {{ "log_normal": {{ "mean_secs": 200, "cv": 1.0 }} }},
        "first_response_delay": {{ "fixed": {{ "secs": 0 }} }},
        "patience": {{ "exponential": {{ "mean_secs": 300 }} }},
        "operators": [],
        "policies": [{{ "name": "fifo", "routing": {{ "auto": {{}} }} }}]
    }}"#
    );
    let sc: Scenario = serde_json::from_str(&json).unwrap();
    let run = run_trace(&sc, &sc.policies[0], &trace, Some(&roster), 0, true).unwrap();
    assert_eq!(run.customers, n as u64);
    let got = run.records;
    let (mut answered, mut left, mut messages) = (0u64, 0u64, 0u64);
    let mut wait_sum = 0u64;
    for r in &got {
        let end = r.assigned_at.or(r.abandoned_at).expect("served or left");
        assert!(end >= r.asked_at, "a non-negative wait");
        wait_sum += end.0 - r.asked_at.0;
        match r.outcome() {
            Outcome::Answered => answered += 1,
            Outcome::Abandoned => left += 1,
            Outcome::MessageLeft => messages += 1,
            o => panic!("conversation {} ended {o:?}", r.conversation),
        }
        if let Some(op) = r.operator {
            assert!(roster.operators.iter().any(|o| o.operator == op));
        }
    }
    assert_eq!(
        answered + left + messages,
        n as u64,
        "every arrival accounted for"
    );
    let rec_answered = trace
        .arrivals
        .iter()
        .filter(|a| a.assigned_at.is_some())
        .count();
    let rec_wait: u64 = trace
        .arrivals
        .iter()
        .map(|a| match a.wait {
            switchboard::sim::trace::RecordedWait::Left(m)
            | switchboard::sim::trace::RecordedWait::Censored(m) => m.0,
            switchboard::sim::trace::RecordedWait::Unknown => 0,
        })
        .sum();
    println!(
        "bank 1999-01-13: {n} arrivals ({} recorded served, {} left), {} operators; simulated: \
         {answered} served, {left} abandoned, {messages} messages; mean wait {:.1} s simulated, \
         {:.1} s recorded; {:.2} s",
        rec_answered,
        trace.counts.left,
        roster.operators.len(),
        wait_sum as f64 / n as f64 / 1000.0,
        rec_wait as f64 / n as f64 / 1000.0,
        started.elapsed().as_secs_f64()
    );
}

/// The same trace, scenario and replication give the same result, with drawn handle times
/// and patience; another replication draws differently.
#[test]
fn trace_runs_are_deterministic() {
    let mut rng = Rng::stream(8, 0);
    let records: Vec<_> = (0..400u64)
        .map(|i| {
            let at = JAN_13 + i * 15_000 + (rng.next_f64() * 10_000.0) as u64;
            served(i, at, 0, 60_000, Some(1 + i % 4))
        })
        .collect();
    let options = TraceOptions {
        handle_time: HandleSource::Drawn,
        patience: PatienceSource::Drawn,
        ..TraceOptions::default()
    };
    let trace = Trace::from_records(&records, options).unwrap();
    let roster = trace.infer_roster().unwrap();
    let sc = scenario(0, 60.0, Some(60.0), 24.0);
    let run = |rep| run_trace(&sc, &sc.policies[0], &trace, Some(&roster), rep, true).unwrap();
    let (a, b, c) = (run(0), run(0), run(1));
    assert_eq!(a, b);
    assert_ne!(a.records, c.records);
}

#[test]
fn bad_traces_and_rosters_are_refused_naming_the_field() {
    let start = JAN_13 + 9 * 3_600_000;
    let ok = vec![served(0, start, 0, 1_000, Some(1)), abandoned(1, start, 5)];
    let sc = scenario(1, 60.0, None, 24.0);

    // Empty: no records, or none in the window.
    assert_eq!(
        Trace::from_records(&[], TraceOptions::default()),
        Err(TraceError::Empty {
            records: 0,
            skipped: 0
        })
    );
    let late = TraceOptions {
        from: Some(Timestamp(start + 1)),
        ..TraceOptions::default()
    };
    assert_eq!(
        Trace::from_records(&ok, late),
        Err(TraceError::Empty {
            records: 2,
            skipped: 2
        })
    );
    // Resolved before assigned, naming the index.
    let mut bad = ok.clone();
    bad.push(served(2, start, 5_000, 0, None));
    bad[2].resolved_at = Some(Timestamp(start + 1_000));
    assert_eq!(
        Trace::from_records(&bad, TraceOptions::default()),
        Err(TraceError::OutOfOrder {
            index: 2,
            conversation: ConversationId(2),
            field: "resolved_at",
            before: "assigned_at"
        })
    );
    let mut bad = ok.clone();
    bad[1].abandoned_at = Some(Timestamp(start - 1));
    assert!(matches!(
        Trace::from_records(&bad, TraceOptions::default()),
        Err(TraceError::OutOfOrder {
            index: 1,
            field: "abandoned_at",
            ..
        })
    ));
    // A window that ends before it starts; a skill map with a bad level.
    let window = TraceOptions {
        from: Some(Timestamp(start)),
        until: Some(Timestamp(start)),
        ..TraceOptions::default()
    };
    assert!(matches!(
        Trace::from_records(&ok, window),
        Err(TraceError::Option { field, .. }) if field == "until"
    ));
    let map = TraceOptions {
        skills_by_channel: vec![SkillMap {
            channel: ChannelId(1),
            skills: vec![switchboard::model::SkillLevel {
                skill: SkillId(1),
                level: 6,
            }],
        }],
        ..TraceOptions::default()
    };
    assert!(matches!(
        Trace::from_records(&ok, map),
        Err(TraceError::Option { field, .. }) if field == "skills_by_channel[0].skills"
    ));

    let trace = Trace::from_records(&ok, TraceOptions::default()).unwrap();
    let run = |sc: &Scenario, trace: &Trace, roster: Option<&Roster>| {
        run_trace(sc, &sc.policies[0], trace, roster, 0, false)
    };
    assert!(run(&sc, &trace, None).is_ok());
    // Empty roster; a shift ending before it starts; overlapping shifts; a duplicate.
    assert_eq!(
        run(&sc, &trace, Some(&Roster::default())).unwrap_err(),
        TraceError::EmptyRoster("no operators")
    );
    let mut r = one_operator(1, start + 10, start);
    assert!(matches!(
        run(&sc, &trace, Some(&r)),
        Err(TraceError::Roster { field, .. }) if field == "operators[0].shifts[0].end"
    ));
    r.operators[0].shifts = vec![
        Shift {
            start: Timestamp(start),
            end: Timestamp(start + 100),
        },
        Shift {
            start: Timestamp(start + 50),
            end: Timestamp(start + 200),
        },
    ];
    assert!(matches!(
        run(&sc, &trace, Some(&r)),
        Err(TraceError::Roster { field, .. }) if field == "operators[0].shifts[1].start"
    ));
    let mut r = one_operator(1, start, start + 100);
    r.operators.push(r.operators[0].clone());
    assert!(matches!(
        run(&sc, &trace, Some(&r)),
        Err(TraceError::Roster { field, .. }) if field == "operators[1].operator"
    ));
    let mut r = one_operator(1, start, start + 100);
    r.operators[0].capacity[0].channel = ChannelId(4);
    assert!(matches!(
        run(&sc, &trace, Some(&r)),
        Err(TraceError::Roster { field, .. }) if field == "operators[0].capacity"
    ));
    // The trace's span outside the scenario's: starting before it, ending after it.
    let mut late_start = sc.clone();
    late_start.start_hour = 10.0;
    assert!(matches!(
        run(&late_start, &trace, None),
        Err(TraceError::OutsideScenario { index: 0, .. })
    ));
    let mut short = sc.clone();
    short.hours = 9.0;
    assert!(matches!(
        run(&short, &trace, None),
        Err(TraceError::OutsideScenario { index: 0, .. })
    ));
    let mut two_days = ok.clone();
    two_days.push(served(2, start + DAY, 0, 1_000, Some(1)));
    let trace2 = Trace::from_records(&two_days, TraceOptions::default()).unwrap();
    assert!(matches!(
        run(&sc, &trace2, None),
        Err(TraceError::OutsideScenario { index: 2, .. })
    ));
    // A channel the scenario does not declare.
    let mut other = ok.clone();
    other[1].channel = ChannelId(2);
    let trace3 = Trace::from_records(&other, TraceOptions::default()).unwrap();
    assert!(matches!(
        run(&sc, &trace3, None),
        Err(TraceError::Undeclared {
            index: 1,
            field: "channel",
            ..
        })
    ));
    // An invalid scenario is still refused.
    let mut invalid = sc.clone();
    invalid.hours = -1.0;
    assert!(matches!(
        run(&invalid, &trace, None),
        Err(TraceError::Scenario(_))
    ));
    // Nobody in the records named: no roster to infer.
    let anonymous = vec![served(0, start, 0, 1_000, None)];
    assert_eq!(
        Trace::from_records(&anonymous, TraceOptions::default())
            .unwrap()
            .infer_roster(),
        Err(TraceError::EmptyRoster(
            "no served record names its operator"
        ))
    );
}
