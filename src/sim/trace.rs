//! Trace-driven runs: replay recorded arrivals through the same simulator and engine as the
//! scenario's Poisson runs, with the operators of a roster (given, or inferred from the
//! records).
//!
//! # What is replayed
//!
//! [`Trace::from_records`] reads [`ConversationRecord`]s (the interchange CSV through
//! [`crate::kpi::csv`], the Anonymous Bank calls through [`crate::kpi::bank`], or the engine's
//! own records). Every record asked inside the optional window
//! ([`TraceOptions::from`], [`TraceOptions::until`]) is one arrival, at its `asked_at`, with its
//! own channel, tier, team and queue. Required skills come only from
//! [`TraceOptions::skills_by_channel`] (records carry no skills; the bank reader puts the call
//! type in the channel, so this maps a call type to a skill); without a mapping an arrival
//! needs no skill. Records outside the window are not dropped silently: they are counted in
//! [`Trace::skipped`]. A [`ConversationRecord`] always has an `asked_at`, so there is no
//! "never asked" record to skip.
//!
//! # Handle time and patience: recorded or drawn
//!
//! Each is an option ([`TraceOptions::handle_time`], [`TraceOptions::patience`]):
//!
//! * **Handle time**, [`HandleSource::Recorded`]: `resolved_at − assigned_at`, as it is (the
//!   real duration with the real operator, so the scenario's `speed_by_level` does not scale
//!   it). The simulator starts it at the first reply, so the simulated conversation is held
//!   for `first_response_delay` + the recorded time: give the scenario a zero
//!   `first_response_delay` (as the bank data have: the agent answers on pick-up) to hold it
//!   exactly the recorded time. A record that was never served (or never resolved) has no
//!   handle time; if the simulation serves it, its handle time is drawn from the scenario's
//!   distribution (counted in [`TraceCounts::handle_unknown`]).
//!   [`HandleSource::Drawn`]: the scenario's distribution for every arrival.
//! * **Patience**, [`PatienceSource::Recorded`]: an abandoner's patience is
//!   `abandoned_at − asked_at` (a message left at `abandoned_at` counts the same way, as in
//!   [`super::fit`]). A served customer's patience is unknown, only known to exceed the wait
//!   they had (right-censored, like the closed-unassigned ones, whose wait ends at
//!   `resolved_at`): [`Censored::DrawnAbove`] (the default) draws it from the scenario's
//!   patience distribution conditioned to exceed the recorded wait; [`Censored::Infinite`]
//!   lets them wait forever. The default is the conditioned draw because treating censored
//!   patience as infinite makes nobody abandon who was served in the data, however much
//!   longer the simulated wait is (fewer operators, another policy), which biases the
//!   abandonment of any what-if run low; the conditioned draw keeps what the record says
//!   (patience ≥ wait) and the fitted distribution's tail beyond it. For an exponential
//!   patience the conditioned draw is exact (wait + a fresh draw: memorylessness); for other
//!   families it is rejection sampling, and after 1,000 rejected draws (a wait far in the tail)
//!   it falls back to wait + a fresh draw. Without a scenario patience both variants mean no
//!   abandonment. Records whose patience is unknown altogether (still pending, or a message
//!   without its time) get a plain draw ([`TraceCounts::patience_unknown`]).
//!   [`PatienceSource::Drawn`]: the scenario's distribution for every arrival.
//!   Whoever runs out of patience leaves a message with the scenario's
//!   `leave_message_share` in both modes (the record's own choice is not replayed).
//!
//! # Operators
//!
//! [`run_trace`] takes an optional [`Roster`]: explicit operators with their own shifts (in
//! the records' time), which replaces the scenario's operator groups. [`Trace::infer_roster`]
//! estimates one from the records: for each operator named in them, per (UTC) day, logged in
//! from their first assignment that day to their last resolution of a conversation assigned
//! that day. **Bias**: idle time before the first call and after the last one is missed (the
//! operator may have logged in earlier and out later), so supply is understated at the edges
//! of each shift; and breaks, meetings and other time logged in but not taking calls between
//! the first and the last call count as available, so supply is overstated in between. On
//! one day of the bank records (1999-01-13, 1,623 calls, 21 servers, FIFO, each server taking
//! every call type they served) the second dominated: the replay with recorded handle times
//! and patience waited 15.5 s on average against 68.9 s recorded (the bank's own routing
//! differs too). Give a [`Roster`] when shifts and breaks are known. A day with a single
//! zero-length call gets a one-second shift (the bank data's resolution). Each inferred
//! operator gets capacity 1 on every channel they served in the trace and, through
//! [`TraceOptions::skills_by_channel`], the skills of those channels (highest level seen);
//! give the scenario's channels `blocks` to keep one call at a time across channels. Served
//! records without an operator cannot be attributed to anyone
//! ([`TraceCounts::served_without_operator`]).
//!
//! # Time
//!
//! The run starts at [`TraceOptions::origin`], by default the UTC midnight of the first
//! arrival's day plus the scenario's `start_hour`; the clock then shows `start_hour`. Every
//! arrival must lie in `[origin, origin + hours)` ([`TraceError::OutsideScenario`]). Shifts
//! before the origin are cut there. Replayed arrival `i` (in time order: [`Trace::arrivals`])
//! is simulated as conversation `i + 1`. The run uses the scenario's random stream for the
//! replication, so the same trace, scenario, seed and replication give the same result.
//!
//! # Example
//!
//! ```
//! use switchboard::record::ConversationRecord;
//! use switchboard::sim::scenario::Scenario;
//! use switchboard::sim::trace::{Trace, TraceOptions, run_trace};
//! use switchboard::{ChannelId, ConversationId, OperatorId, TierId, Timestamp};
//!
//! // Three calls a minute apart, each handled for 90 s by operator 7.
//! let records: Vec<_> = (0..3u64)
//!     .map(|i| {
//!         let at = 3_600_000 + i * 60_000;
//!         let mut r = ConversationRecord::new(ConversationId(i), ChannelId(1), TierId(1), Timestamp(at));
//!         r.operator = Some(OperatorId(7));
//!         r.assigned_at = Some(Timestamp(at));
//!         r.resolved_at = Some(Timestamp(at + 90_000));
//!         r
//!     })
//!     .collect();
//! let trace = Trace::from_records(&records, TraceOptions::default())?;
//! let roster = trace.infer_roster()?;
//! assert_eq!(roster.operators.len(), 1);
//!
//! let scenario: Scenario = serde_json::from_str(include_str!("../../examples/scenarios/mm20.json")).unwrap();
//! let mut day = scenario.clone();
//! day.hours = 24.0;
//! day.start_hour = 0.0;
//! day.warmup_minutes = 0.0;
//! let run = run_trace(&day, &day.policies[0], &trace, Some(&roster), 0, true)?;
//! assert_eq!(run.customers, 3);
//! // The first call is answered at once, then each waits for the one before.
//! let waits: Vec<u64> = run.records.iter().map(|r| r.assigned_at.unwrap().0 - r.asked_at.0).collect();
//! assert_eq!(waits, [0, 30_000, 60_000]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

use super::recorded;
use super::replay::{Replay, ReplayArrival, ReplayOperator, ReplayPatience};
use super::run::{RunResult, SimError, run_replay};
use super::scenario::{OperatorGroup, PolicyVariant, Scenario, ScenarioError};
use crate::ids::{ChannelId, ConversationId, OperatorId, ProfileId, QueueId, TeamId, TierId};
use crate::model::{ChannelCapacity, MAX_LEVEL, OperatorSpec, SkillLevel};
use crate::record::ConversationRecord;
use crate::time::{Millis, Timestamp};

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: u64 = 86_400_000;

/// Where a replayed arrival's handle time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum HandleSource {
    /// `resolved_at − assigned_at` of the record (drawn when it has none).
    #[default]
    Recorded,
    /// The scenario's `handle_time` distribution.
    Drawn,
}

/// A served (censored) customer's patience under [`PatienceSource::Recorded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Censored {
    /// Drawn from the scenario's patience, conditioned to exceed the recorded wait.
    #[default]
    DrawnAbove,
    /// Infinite: they wait as long as it takes.
    Infinite,
}

/// Where a replayed arrival's patience comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum PatienceSource {
    /// Abandoners' own (`abandoned_at − asked_at`); served customers' as `served` says.
    Recorded {
        /// What a censored patience becomes.
        served: Censored,
    },
    /// The scenario's `patience` distribution (none: nobody abandons).
    Drawn,
}

impl Default for PatienceSource {
    fn default() -> Self {
        PatienceSource::Recorded {
            served: Censored::DrawnAbove,
        }
    }
}

/// The skills conversations on a channel require (for the bank records, a call type).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct SkillMap {
    /// The channel (bank records: the call type, see [`crate::kpi::bank::CALL_TYPES`]).
    pub channel: ChannelId,
    /// The skills required, the first the primary.
    pub skills: Vec<SkillLevel>,
}

/// How records become a trace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(default))]
pub struct TraceOptions {
    /// Handle times: recorded (default) or drawn.
    pub handle_time: HandleSource,
    /// Patience: recorded with censored draws (default) or drawn.
    pub patience: PatienceSource,
    /// Required skills by channel; channels not listed require none.
    pub skills_by_channel: Vec<SkillMap>,
    /// Only records asked at or after this instant (others are counted as skipped).
    pub from: Option<Timestamp>,
    /// Only records asked before this instant (others are counted as skipped).
    pub until: Option<Timestamp>,
    /// When the run starts; default: UTC midnight of the first arrival's day plus the
    /// scenario's `start_hour`.
    pub origin: Option<Timestamp>,
}

/// A trace or roster that cannot be replayed, naming the record or field.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum TraceError {
    /// No record to replay (none given, or none inside the window).
    #[error("trace is empty: {records} records, {skipped} outside the window")]
    Empty {
        /// Records given.
        records: usize,
        /// Of them, outside [`TraceOptions::from`]/[`TraceOptions::until`].
        skipped: usize,
    },
    /// A record's timestamps are out of order (e.g. resolved before assigned).
    #[error("record #{index} ({conversation}): `{field}` is before `{before}`")]
    OutOfOrder {
        /// Position in the input slice.
        index: usize,
        /// The record's conversation.
        conversation: ConversationId,
        /// The later field that is earlier, e.g. `resolved_at`.
        field: &'static str,
        /// The field it must not precede, e.g. `assigned_at`.
        before: &'static str,
    },
    /// An option is invalid.
    #[error("trace option `{field}` is invalid: {why}")]
    Option {
        /// The option, e.g. `until` or `skills_by_channel[0].skills`.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// A record asked outside the scenario's span `[start, end)`.
    #[error(
        "record #{index} ({conversation}): `asked_at` {asked_at} is outside the scenario's span [{start}, {end})"
    )]
    OutsideScenario {
        /// Position in the input slice.
        index: usize,
        /// The record's conversation.
        conversation: ConversationId,
        /// When it asked.
        asked_at: Timestamp,
        /// The run's start (the origin).
        start: Timestamp,
        /// The origin plus the scenario's hours.
        end: Timestamp,
    },
    /// A record has a channel, tier, queue or skill the scenario's policy does not declare.
    #[error(
        "record #{index} ({conversation}): `{field}` {what} is not declared in the scenario's policy"
    )]
    Undeclared {
        /// Position in the input slice.
        index: usize,
        /// The record's conversation.
        conversation: ConversationId,
        /// `channel`, `tier`, `queue` or `skills`.
        field: &'static str,
        /// The id.
        what: String,
    },
    /// The roster has no operator (or no shift at all).
    #[error("roster is empty: {0}")]
    EmptyRoster(&'static str),
    /// A roster field is invalid (shift end before start, overlapping shifts, duplicate
    /// operator, no capacity, an undeclared channel or skill…).
    #[error("roster field `{field}` is invalid: {why}")]
    Roster {
        /// The field, e.g. `operators[2].shifts[0].end`.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The simulation failed.
    #[error(transparent)]
    Sim(#[from] SimError),
}

fn roster_err(field: impl Into<String>, why: impl Into<String>) -> TraceError {
    TraceError::Roster {
        field: field.into(),
        why: why.into(),
    }
}

pub use super::recorded::RecordedWait;

/// One replayed arrival, from one record.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TraceArrival {
    /// Position of the record in the input slice.
    pub index: usize,
    /// The record's conversation id.
    pub conversation: ConversationId,
    /// When it asked.
    pub asked_at: Timestamp,
    /// Its channel.
    pub channel: ChannelId,
    /// Its tier.
    pub tier: TierId,
    /// Its team.
    pub team: Option<TeamId>,
    /// Its queue.
    pub queue: Option<QueueId>,
    /// Required skills ([`TraceOptions::skills_by_channel`]).
    pub skills: Vec<SkillLevel>,
    /// Who handled it in the records.
    pub operator: Option<OperatorId>,
    /// When it was assigned in the records.
    pub assigned_at: Option<Timestamp>,
    /// When it was resolved in the records.
    pub resolved_at: Option<Timestamp>,
    /// Recorded handle time, `resolved_at − assigned_at`.
    pub handle: Option<Millis>,
    /// How its recorded wait ended.
    pub wait: RecordedWait,
}

/// Records read into a trace but outside its window, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TraceSkipped {
    /// Asked before [`TraceOptions::from`].
    pub before_window: usize,
    /// Asked at or after [`TraceOptions::until`].
    pub after_window: usize,
}

/// What the trace's arrivals carry, by kind (each arrival in one count of each pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TraceCounts {
    /// Arrivals with a recorded handle time.
    pub handle_recorded: usize,
    /// Arrivals without one (never served or never resolved): drawn if the run serves them.
    pub handle_unknown: usize,
    /// Arrivals whose customer left (observed patience).
    pub left: usize,
    /// Arrivals whose wait is censored (served or closed unassigned).
    pub censored: usize,
    /// Arrivals whose patience is unknown altogether (pending, message without time).
    pub patience_unknown: usize,
    /// Served arrivals with no operator named (cannot go into an inferred roster).
    pub served_without_operator: usize,
}

/// Recorded arrivals, ready to replay.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Trace {
    /// The arrivals in time order (ties in input order).
    pub arrivals: Vec<TraceArrival>,
    /// Records given.
    pub records: usize,
    /// Records left out, by reason.
    pub skipped: TraceSkipped,
    /// What the arrivals carry.
    pub counts: TraceCounts,
    /// The options it was built with.
    pub options: TraceOptions,
}

/// A shift `[start, end)` in the records' time (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Shift {
    /// Logs in.
    pub start: Timestamp,
    /// Logs out.
    pub end: Timestamp,
}

/// One operator of a roster with their own shifts.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct RosterOperator {
    /// The operator's id (the records' ids when inferred).
    pub operator: OperatorId,
    /// Capacity per channel.
    pub capacity: Vec<ChannelCapacity>,
    /// Skills and levels.
    #[cfg_attr(feature = "serde", serde(default))]
    pub skills: Vec<SkillLevel>,
    /// Teams.
    #[cfg_attr(feature = "serde", serde(default))]
    pub teams: Vec<TeamId>,
    /// Routing profile (declared in the scenario's policy).
    #[cfg_attr(feature = "serde", serde(default))]
    pub profile: Option<ProfileId>,
    /// Shifts in time order, not overlapping.
    pub shifts: Vec<Shift>,
}

impl RosterOperator {
    /// An operator like a scenario group's members (capacity, skills, teams, profile), with
    /// their own shifts; the group's count, shift and breaks are not used.
    pub fn from_group(operator: OperatorId, group: &OperatorGroup, shifts: Vec<Shift>) -> Self {
        RosterOperator {
            operator,
            capacity: group.capacity.clone(),
            skills: group.skills.clone(),
            teams: group.teams.clone(),
            profile: group.profile,
            shifts,
        }
    }
}

/// Explicit operators with per-operator shifts; replaces a scenario's operator groups in
/// [`run_trace`].
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Roster {
    /// The operators.
    pub operators: Vec<RosterOperator>,
}

impl Roster {
    /// Checks the roster on its own.
    ///
    /// # Errors
    /// [`TraceError::EmptyRoster`] with no operator or no shift at all;
    /// [`TraceError::Roster`] naming the field for a duplicate operator, an operator without
    /// capacity (or with a 0 capacity), a skill level outside 1–5, a shift whose end is not
    /// after its start, or shifts out of order or overlapping.
    pub fn validate(&self) -> Result<(), TraceError> {
        if self.operators.is_empty() {
            return Err(TraceError::EmptyRoster("no operators"));
        }
        if self.operators.iter().all(|o| o.shifts.is_empty()) {
            return Err(TraceError::EmptyRoster("no operator has a shift"));
        }
        let mut seen = BTreeSet::new();
        for (i, o) in self.operators.iter().enumerate() {
            if !seen.insert(o.operator) {
                return Err(roster_err(
                    format!("operators[{i}].operator"),
                    format!("{} is listed twice", o.operator),
                ));
            }
            if o.capacity.is_empty() {
                return Err(roster_err(format!("operators[{i}].capacity"), "no channel"));
            }
            if o.capacity.iter().any(|c| c.capacity == 0) {
                return Err(roster_err(
                    format!("operators[{i}].capacity"),
                    "0 (leave the channel out)",
                ));
            }
            if let Some(s) = o
                .skills
                .iter()
                .find(|s| !(1..=MAX_LEVEL).contains(&s.level))
            {
                return Err(roster_err(
                    format!("operators[{i}].skills"),
                    format!("level {} outside 1–5", s.level),
                ));
            }
            for (j, s) in o.shifts.iter().enumerate() {
                if s.end <= s.start {
                    return Err(roster_err(
                        format!("operators[{i}].shifts[{j}].end"),
                        format!("{} is not after the start {}", s.end, s.start),
                    ));
                }
                if j > 0 && s.start < o.shifts[j - 1].end {
                    return Err(roster_err(
                        format!("operators[{i}].shifts[{j}].start"),
                        format!(
                            "{} is before the previous shift's end {} (shifts in order, not overlapping)",
                            s.start,
                            o.shifts[j - 1].end
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks the roster against a scenario's policy: channels, skills and profiles declared.
    fn check_declared(&self, sc: &Scenario) -> Result<(), TraceError> {
        for (i, o) in self.operators.iter().enumerate() {
            if let Some(c) = o
                .capacity
                .iter()
                .find(|c| !sc.policy.channels.iter().any(|x| x.id == c.channel))
            {
                return Err(roster_err(
                    format!("operators[{i}].capacity"),
                    format!("{} is not declared in the scenario's policy", c.channel),
                ));
            }
            if let Some(s) = o
                .skills
                .iter()
                .find(|s| !sc.policy.skills.iter().any(|x| x.id == s.skill))
            {
                return Err(roster_err(
                    format!("operators[{i}].skills"),
                    format!("{} is not declared in the scenario's policy", s.skill),
                ));
            }
            if let Some(p) = o.profile {
                if !sc.policy.profiles.iter().any(|x| x.id == p) {
                    return Err(roster_err(
                        format!("operators[{i}].profile"),
                        format!("{p} is not declared in the scenario's policy"),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_order(index: usize, r: &ConversationRecord) -> Result<(), TraceError> {
    match recorded::out_of_order(r) {
        Some((field, before)) => Err(TraceError::OutOfOrder {
            index,
            conversation: r.conversation,
            field,
            before,
        }),
        None => Ok(()),
    }
}

impl Trace {
    /// Builds a trace from records (in any order).
    ///
    /// # Errors
    /// [`TraceError::OutOfOrder`] for the first record whose `assigned_at`, `abandoned_at` or
    /// `resolved_at` is before its `asked_at`, or whose `resolved_at` is before its
    /// `assigned_at` (naming its index); [`TraceError::Option`] for a window whose `until` is
    /// not after `from`, or a skill map with a level outside 1–5 or a channel listed twice;
    /// [`TraceError::Empty`] when no record is left to replay.
    pub fn from_records(
        records: &[ConversationRecord],
        options: TraceOptions,
    ) -> Result<Trace, TraceError> {
        if let (Some(a), Some(b)) = (options.from, options.until) {
            if b <= a {
                return Err(TraceError::Option {
                    field: "until".into(),
                    why: format!("{b} is not after `from` {a}"),
                });
            }
        }
        for (i, m) in options.skills_by_channel.iter().enumerate() {
            if let Some(s) = m
                .skills
                .iter()
                .find(|s| !(1..=MAX_LEVEL).contains(&s.level))
            {
                return Err(TraceError::Option {
                    field: format!("skills_by_channel[{i}].skills"),
                    why: format!("level {} outside 1–5", s.level),
                });
            }
            if options.skills_by_channel[..i]
                .iter()
                .any(|x| x.channel == m.channel)
            {
                return Err(TraceError::Option {
                    field: format!("skills_by_channel[{i}].channel"),
                    why: format!("{} is mapped twice", m.channel),
                });
            }
        }
        let mut skipped = TraceSkipped::default();
        let mut counts = TraceCounts::default();
        let mut arrivals = Vec::with_capacity(records.len());
        for (index, r) in records.iter().enumerate() {
            check_order(index, r)?;
            if options.from.is_some_and(|f| r.asked_at < f) {
                skipped.before_window += 1;
                continue;
            }
            if options.until.is_some_and(|u| r.asked_at >= u) {
                skipped.after_window += 1;
                continue;
            }
            let handle = match (r.assigned_at, r.resolved_at) {
                (Some(a), Some(z)) => Some(Millis(z.0 - a.0)),
                _ => None,
            };
            if handle.is_some() {
                counts.handle_recorded += 1;
            } else {
                counts.handle_unknown += 1;
            }
            let wait = recorded::wait_of(r);
            match wait {
                RecordedWait::Left(_) => counts.left += 1,
                RecordedWait::Censored(_) => counts.censored += 1,
                RecordedWait::Unknown => counts.patience_unknown += 1,
            }
            if r.assigned_at.is_some() && r.operator.is_none() {
                counts.served_without_operator += 1;
            }
            let skills = options
                .skills_by_channel
                .iter()
                .find(|m| m.channel == r.channel)
                .map(|m| m.skills.clone())
                .unwrap_or_default();
            arrivals.push(TraceArrival {
                index,
                conversation: r.conversation,
                asked_at: r.asked_at,
                channel: r.channel,
                tier: r.tier,
                team: r.team,
                queue: r.queue,
                skills,
                operator: r.operator,
                assigned_at: r.assigned_at,
                resolved_at: r.resolved_at,
                handle,
                wait,
            });
        }
        if arrivals.is_empty() {
            return Err(TraceError::Empty {
                records: records.len(),
                skipped: skipped.before_window + skipped.after_window,
            });
        }
        // Stable: ties keep the input order.
        arrivals.sort_by_key(|a| a.asked_at);
        Ok(Trace {
            arrivals,
            records: records.len(),
            skipped,
            counts,
            options,
        })
    }

    /// The roster the records imply: for each operator named in them, per UTC day of the
    /// assignment, logged in from the first assignment to the last resolution of the
    /// conversations assigned that day (see the module docs for the estimator's bias). A
    /// shift that would overlap the operator's previous one (a call across midnight) is
    /// merged into it. Operators are in id order.
    ///
    /// # Errors
    /// [`TraceError::EmptyRoster`] when no served arrival names its operator.
    pub fn infer_roster(&self) -> Result<Roster, TraceError> {
        // (operator, day) → (first assignment, last end); operator → (channel → skills).
        let mut days: BTreeMap<(OperatorId, u64), (u64, u64)> = BTreeMap::new();
        let mut served: BTreeMap<OperatorId, BTreeMap<ChannelId, Vec<SkillLevel>>> =
            BTreeMap::new();
        for a in &self.arrivals {
            let (Some(op), Some(at)) = (a.operator, a.assigned_at) else {
                continue;
            };
            let end = a.resolved_at.unwrap_or(at).0;
            let e = days.entry((op, at.0 / DAY_MS)).or_insert((at.0, end));
            e.0 = e.0.min(at.0);
            e.1 = e.1.max(end);
            served
                .entry(op)
                .or_default()
                .insert(a.channel, a.skills.clone());
        }
        if days.is_empty() {
            return Err(TraceError::EmptyRoster(
                "no served record names its operator",
            ));
        }
        let mut shifts: BTreeMap<OperatorId, Vec<Shift>> = BTreeMap::new();
        for ((op, _day), (start, end)) in days {
            let end = if end > start { end } else { start + 1_000 };
            let list = shifts.entry(op).or_default();
            match list.last_mut() {
                Some(prev) if prev.end.0 >= start => prev.end = Timestamp(prev.end.0.max(end)),
                _ => list.push(Shift {
                    start: Timestamp(start),
                    end: Timestamp(end),
                }),
            }
        }
        let operators = shifts
            .into_iter()
            .map(|(op, shifts)| {
                let channels = served.remove(&op).unwrap_or_default();
                let mut skills: Vec<SkillLevel> = Vec::new();
                for s in channels.values().flatten() {
                    match skills.iter_mut().find(|k| k.skill == s.skill) {
                        Some(k) => k.level = k.level.max(s.level),
                        None => skills.push(*s),
                    }
                }
                RosterOperator {
                    operator: op,
                    capacity: channels
                        .keys()
                        .map(|&channel| ChannelCapacity {
                            channel,
                            capacity: 1,
                        })
                        .collect(),
                    skills,
                    teams: Vec::new(),
                    profile: None,
                    shifts,
                }
            })
            .collect();
        Ok(Roster { operators })
    }

    /// The instant the run starts for `scenario` (see [`TraceOptions::origin`]).
    pub fn origin(&self, scenario: &Scenario) -> Timestamp {
        self.options.origin.unwrap_or_else(|| {
            let first = self.arrivals.first().map_or(0, |a| a.asked_at.0);
            Timestamp(first / DAY_MS * DAY_MS + (scenario.start_hour * HOUR_MS).round() as u64)
        })
    }

    /// The replay the simulator runs: arrival times from the origin, recorded or drawn
    /// quantities per the options, the roster's shifts from the origin.
    fn replay(&self, sc: &Scenario, roster: Option<&Roster>) -> Result<Replay, TraceError> {
        let origin = self.origin(sc);
        let span = (sc.hours * HOUR_MS) as u64;
        let end = Timestamp(origin.0.saturating_add(span));
        let mut times = Vec::with_capacity(self.arrivals.len());
        let mut arrivals = Vec::with_capacity(self.arrivals.len());
        for a in &self.arrivals {
            if a.asked_at < origin || a.asked_at >= end {
                return Err(TraceError::OutsideScenario {
                    index: a.index,
                    conversation: a.conversation,
                    asked_at: a.asked_at,
                    start: origin,
                    end,
                });
            }
            let undeclared = |field, what: String| TraceError::Undeclared {
                index: a.index,
                conversation: a.conversation,
                field,
                what,
            };
            if !sc.policy.channels.iter().any(|x| x.id == a.channel) {
                return Err(undeclared("channel", a.channel.to_string()));
            }
            if !sc.policy.tiers.iter().any(|x| x.id == a.tier) {
                return Err(undeclared("tier", a.tier.to_string()));
            }
            if let Some(q) = a.queue {
                if !sc.policy.queues.iter().any(|x| x.id == q) {
                    return Err(undeclared("queue", q.to_string()));
                }
            }
            if let Some(s) = a
                .skills
                .iter()
                .find(|s| !sc.policy.skills.iter().any(|x| x.id == s.skill))
            {
                return Err(undeclared("skills", s.skill.to_string()));
            }
            times.push(a.asked_at.0 - origin.0);
            let patience = match self.options.patience {
                PatienceSource::Drawn => ReplayPatience::Drawn,
                PatienceSource::Recorded { served } => match (a.wait, served) {
                    (RecordedWait::Left(m), _) => ReplayPatience::After(m.0),
                    (RecordedWait::Censored(_), Censored::Infinite) => ReplayPatience::Forever,
                    (RecordedWait::Censored(m), Censored::DrawnAbove) => ReplayPatience::Above(m.0),
                    (RecordedWait::Unknown, _) => ReplayPatience::Drawn,
                },
            };
            arrivals.push(ReplayArrival {
                channel: a.channel,
                tier: a.tier,
                team: a.team,
                queue: a.queue,
                skills: a.skills.iter().copied().collect(),
                handle: match self.options.handle_time {
                    HandleSource::Recorded => a.handle.map(|m| m.0),
                    HandleSource::Drawn => None,
                },
                patience,
            });
        }
        let roster = match roster {
            None => None,
            Some(r) => {
                r.validate()?;
                r.check_declared(sc)?;
                let ops = r
                    .operators
                    .iter()
                    .map(|o| {
                        let mut spec = OperatorSpec::new(o.operator);
                        spec.capacity = o.capacity.iter().copied().collect();
                        spec.skills = o.skills.iter().copied().collect();
                        spec.teams = o.teams.iter().copied().collect();
                        spec.profile = o.profile;
                        let shifts = o
                            .shifts
                            .iter()
                            .filter(|s| s.end > origin)
                            .map(|s| (s.start.0.saturating_sub(origin.0), s.end.0 - origin.0))
                            .collect();
                        ReplayOperator { spec, shifts }
                    })
                    .collect();
                Some(ops)
            }
        };
        Ok(Replay {
            times,
            arrivals,
            roster,
        })
    }
}

/// Runs one replication of one policy of `scenario` on `trace`: the trace's arrivals instead
/// of the scenario's Poisson ones, and `roster`'s operators (if given) instead of the
/// scenario's operator groups (whose `count` may then be 0). Everything else (the policy,
/// distributions drawn from, warm-up, routing) is the scenario's. The result is the same
/// [`RunResult`] as a scenario run's.
///
/// # Errors
/// [`TraceError::Scenario`] for an invalid scenario; [`TraceError::EmptyRoster`] and
/// [`TraceError::Roster`] for an invalid roster; [`TraceError::OutsideScenario`] for an
/// arrival outside the scenario's span; [`TraceError::Undeclared`] for a channel, tier, queue
/// or skill the scenario's policy does not declare; [`TraceError::Sim`] if the simulation
/// fails.
pub fn run_trace(
    scenario: &Scenario,
    variant: &PolicyVariant,
    trace: &Trace,
    roster: Option<&Roster>,
    replication: u32,
    keep_records: bool,
) -> Result<RunResult, TraceError> {
    let no_groups = scenario.operators.iter().all(|g| g.count == 0);
    match roster {
        // The roster replaces the groups: validate the rest of the scenario with a stand-in
        // group shaped like the roster's first operator.
        Some(r) if no_groups => {
            r.validate()?;
            let first = &r.operators[0];
            let mut check = scenario.clone();
            check.operators = vec![OperatorGroup {
                name: "roster".into(),
                count: 1,
                capacity: first.capacity.clone(),
                skills: Vec::new(),
                teams: Vec::new(),
                shift: None,
                breaks: Vec::new(),
                profile: None,
            }];
            check.validate()?;
        }
        _ => scenario.validate()?,
    }
    let replay = trace.replay(scenario, roster)?;
    Ok(run_replay(
        scenario,
        variant,
        &replay,
        replication,
        keep_records,
    )?)
}
