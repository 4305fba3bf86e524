//! The discrete-event loop. It drives the real [`Engine`] through the same
//! events a host service sends — arrivals, replies, resolutions,
//! abandonments, status changes, `assign`/`rebalance` calls at the engine's
//! own deadlines — and streams the finished conversations into the KPI
//! calculators, so memory grows with the conversations in flight, not with
//! the length of the run.
//!
//! Randomness: replication `i` of a scenario draws from
//! [`Rng::stream`]`(scenario.seed, i)`; nothing else is random, so the same
//! scenario, seed and replication give bit-identical results. Events at the
//! same millisecond are processed in the order they were scheduled.
//!
//! # Example
//!
//! ```
//! use switchboard::sim::run::run_once;
//! use switchboard::sim::scenario::Scenario;
//!
//! let scenario: Scenario =
//!     serde_json::from_str(include_str!("../../examples/scenarios/mm20.json"))?;
//! let mut short = scenario.clone();
//! short.hours = 1.0;
//! short.warmup_minutes = 0.0;
//! let run = run_once(&short, &short.policies[0], 0, true)?;
//! // Every customer either waited for an agent or is still counted as pending.
//! assert_eq!(run.report.overall.offered, run.records.len() as u64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use hashbrown::HashMap;
use thiserror::Error;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::dist::{DurationSampler, Exponential, WeightedChoice};
use super::measures::{MeasureTally, RunMeasures};
use super::replay::{Replay, ReplayPatience, draw_above};
use super::rng::Rng;
use super::scenario::{Pick, PolicyVariant, RatePiece, Routing, Scenario, ScenarioError};
use crate::engine::EngineError;
use crate::engine::{Decision, DecisionKind, Engine, Event, Records};
use crate::ids::{ConversationId, OperatorId, SkillId, TierId};
use crate::kpi::{ConversationRecord, KpiAccumulator, KpiConfig, KpiError, KpiReport};
use crate::model::{ConversationSpec, ConversationState, OperatorSpec, OperatorStatus, SkillLevel};
use crate::proficiency::{Exposure, ExposureReport, HardRule};
use crate::record::{Activity, StatusInterval};
use crate::time::{Millis, Timestamp};
use smallvec::SmallVec;

const HOUR_MS: f64 = 3_600_000.0;
/// After the last arrival the run drains in-flight work for at most this long.
const DRAIN_MS: u64 = 24 * 3_600_000;
/// The arrival span under a customer count: open-ended (the count ends it).
const OPEN_END_MS: u64 = u64::MAX / 4;

/// Why a simulation stopped.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The engine refused an event the simulator sent (a simulator bug).
    #[error("engine refused a simulated event: {0}")]
    Engine(#[from] EngineError),
    /// The KPI calculators refused a record (a simulator bug).
    #[error("KPI calculators refused a record: {0}")]
    Kpi(#[from] KpiError),
    /// The caller's progress callback stopped the run
    /// ([`simulate_until`](super::report::simulate_until)).
    #[error("stopped by the caller after {done} of {total} runs")]
    Stopped {
        /// Runs (policy × replication) that had finished.
        done: u32,
        /// Runs planned.
        total: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrive,
    Tick,
    Status(OperatorId, u8),
    Respond(ConversationId, u32),
    Resolve(ConversationId, u32),
    Patience(ConversationId),
    Browse(OperatorId),
}

#[derive(Debug, Clone)]
struct Live {
    asked: u64,
    tier: TierId,
    skills: SmallVec<[SkillLevel; 2]>,
    primary: Option<SkillId>,
    generation: u32,
    estimate: Option<Millis>,
    /// A replayed trace's recorded handle time, ms (else drawn at the first reply).
    handle: Option<u64>,
}

/// The wait estimate given at arrival against the wait that happened.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct EstimateError {
    /// The tier.
    pub tier: TierId,
    /// Conversations compared (assigned after an estimate was given).
    pub count: u64,
    /// Mean absolute error, ms.
    pub mean_abs_error_ms: f64,
    /// Mean estimate, ms.
    pub mean_estimate_ms: f64,
    /// Mean actual wait, ms.
    pub mean_actual_ms: f64,
}

/// One replication of one policy.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RunResult {
    /// The policy's name.
    pub policy: String,
    /// Replication index (the random stream).
    pub replication: u32,
    /// Customers who asked for an operator (all, warm-up included).
    pub customers: u64,
    /// The KPI report over customers asked after the warm-up.
    pub report: KpiReport,
    /// Wait estimate errors per tier (when measured).
    pub wait_estimates: Vec<EstimateError>,
    /// Per-conversation rows (only when asked to keep them).
    pub records: Vec<ConversationRecord>,
    /// Who received which work: per operator, skill and difficulty, with the
    /// hard share and its Gini coefficient (hard = the scenario's
    /// `hard_skills`, or a required level of 4 or more).
    pub exposure: ExposureReport,
    /// Each operator's skills at the end (they change under the learning model).
    pub final_skills: Vec<(OperatorId, Vec<SkillLevel>)>,
    /// Queueing measures: waits, service levels and queue length over the measured span.
    #[cfg_attr(feature = "serde", serde(default))]
    pub measures: RunMeasures,
}

/// Runs one replication of one policy of a scenario.
///
/// # Errors
/// [`SimError::Scenario`] if the scenario is invalid (checked first,
/// before anything runs).
pub fn run_once(
    scenario: &Scenario,
    variant: &PolicyVariant,
    replication: u32,
    keep_records: bool,
) -> Result<RunResult, SimError> {
    scenario.validate()?;
    let mut r = Sim::new(scenario, variant, replication, keep_records)?.run()?;
    r.replication = replication;
    Ok(r)
}

/// Runs one replication of one policy on a prepared trace replay: its arrivals (and roster,
/// if it has one) instead of the scenario's Poisson arrivals (and operator groups). The
/// scenario is validated by the caller ([`super::trace::run_trace`]).
pub(crate) fn run_replay(
    scenario: &Scenario,
    variant: &PolicyVariant,
    replay: &Replay,
    replication: u32,
    keep_records: bool,
) -> Result<RunResult, SimError> {
    let mut sim = Sim::new(scenario, variant, replication, keep_records)?;
    sim.arrivals = Arrivals::replay(&replay.times);
    sim.replay = Some(replay);
    let mut r = sim.run()?;
    r.replication = replication;
    Ok(r)
}

/// Where and how a replication starts from a live engine ([`run_from_engine`]).
pub(crate) struct Restart<'a> {
    /// The engine, restored from the live state (its clock is the start).
    pub(crate) engine: Engine,
    /// The arrival rates, piecewise constant over the day as in a scenario.
    pub(crate) pieces: &'a [RatePiece],
    /// The hour of the day the clock shows at the start (where `pieces` are read from).
    pub(crate) clock_hour: f64,
    /// Arrivals come for this long, ms; the run then drains.
    pub(crate) horizon_ms: u64,
}

/// Runs one replication from a live engine ([`super::forecast`]): the engine's waiting
/// conversations keep their asked time (counted in the measures with their wait so far)
/// and get a remaining patience; held ones finish after a remaining reply delay and handle
/// time (both conditioned on the time already spent); the engine's operators are the roster
/// as they are (the scenario's groups are not added); Poisson arrivals at `pieces` from
/// `clock_hour` for `horizon_ms`, then the run drains. The measured span is the horizon.
/// Returns the waiting conversations per tier at the horizon's end too. The scenario is
/// validated by the caller.
pub(crate) fn run_from_engine(
    scenario: &Scenario,
    variant: &PolicyVariant,
    start: Restart<'_>,
    replication: u32,
) -> Result<(RunResult, Vec<(TierId, u32)>), SimError> {
    let sim = Sim::from_engine(scenario, variant, start, replication)?;
    let (mut r, waiting) = sim.run_marked()?;
    r.replication = replication;
    Ok((r, waiting))
}

/// The arrival process: Poisson arrivals at the scenario's
/// piecewise-constant hourly rate, up to the end of the arrival span.
///
/// Arrival instants are kept exactly, in continuous time (`f64` ms since the
/// start); only the timestamp handed to the engine is rounded, to the
/// nearest millisecond, so each one is within half a millisecond of its
/// instant and no rounding error builds up from one arrival to the next.
/// (Rounding every gap up instead added half a millisecond per gap on
/// average: 0.08 % fewer arrivals at 600 ms gaps, 0.4 % at 120 ms, enough to
/// make waits near full load visibly shorter than Erlang C.)
struct Arrivals<'a> {
    pieces: &'a [RatePiece],
    start_hour: f64,
    /// End of the arrival span, ms (a whole number, so a timestamp rounded
    /// from an instant before it is never after it).
    end: f64,
    /// The last arrival, or the last piece boundary crossed, ms.
    clock: f64,
    /// The current piece of `pieces`...
    piece: usize,
    /// ...which began on this day of the run (0 the first; −1 when the
    /// run starts before the first piece of the day, in the last one).
    day: f64,
    /// Where the current piece ends, ms.
    piece_end: f64,
    /// A replayed trace's arrival instants still to come (ms from the
    /// start, in order): when set, the rate pieces are not used.
    replay: Option<&'a [u64]>,
}

impl<'a> Arrivals<'a> {
    /// Arrivals from 0 ms, when the clock shows `start_hour`, until `end` ms.
    fn new(pieces: &'a [RatePiece], start_hour: f64, end: u64) -> Self {
        let (piece, day) = match pieces.iter().rposition(|p| p.from_hour <= start_hour) {
            Some(i) => (i, 0.0),
            None => (pieces.len() - 1, -1.0),
        };
        let mut a = Arrivals {
            pieces,
            start_hour,
            end: end as f64,
            clock: 0.0,
            piece,
            day,
            piece_end: 0.0,
            replay: None,
        };
        a.piece_end = a.end_of_piece();
        a
    }

    /// Arrivals at recorded instants, ms from the start, in order (a trace).
    fn replay(times: &'a [u64]) -> Self {
        Arrivals {
            pieces: &[],
            start_hour: 0.0,
            end: 0.0,
            clock: 0.0,
            piece: 0,
            day: 0.0,
            piece_end: 0.0,
            replay: Some(times),
        }
    }

    /// Where the current piece ends: where the next one begins, computed
    /// from the day and hour (not by adding up piece lengths), ms.
    fn end_of_piece(&self) -> f64 {
        let (from_hour, day) = match self.pieces.get(self.piece + 1) {
            Some(p) => (p.from_hour, self.day),
            None => (self.pieces[0].from_hour, self.day + 1.0),
        };
        (day * 24.0 + from_hour - self.start_hour) * HOUR_MS
    }

    /// The next arrival's timestamp, ms, or `None` once the span is over:
    /// exponential gaps at the rate of the current piece; crossing a piece
    /// boundary restarts the draw there (exact for a Poisson process by
    /// memorylessness).
    fn next(&mut self, rng: &mut Rng) -> Option<u64> {
        if let Some(times) = &mut self.replay {
            let (&t, rest) = times.split_first()?;
            *times = rest;
            return Some(t);
        }
        while self.clock < self.end {
            let rate = self.pieces[self.piece].per_hour;
            if rate > 0.0 {
                if let Ok(d) = Exponential::from_rate(rate / HOUR_MS) {
                    let t = self.clock + d.sample(rng);
                    if t < self.piece_end {
                        self.clock = t;
                        return if t < self.end {
                            Some(t.round() as u64)
                        } else {
                            None
                        };
                    }
                }
            }
            self.clock = self.piece_end;
            self.piece += 1;
            if self.piece == self.pieces.len() {
                self.piece = 0;
                self.day += 1.0;
            }
            self.piece_end = self.end_of_piece();
        }
        None
    }
}

struct Sim<'a> {
    sc: &'a Scenario,
    name: String,
    manual: Option<(DurationSampler, Pick)>,
    engine: Engine,
    rng: Rng,
    arrivals: Arrivals<'a>,
    /// A replayed trace (arrivals, their recorded quantities, the roster).
    replay: Option<&'a Replay>,
    heap: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    seq: u64,
    now: u64,
    end: u64,
    next_tick: Option<u64>,
    next_id: u64,
    live: HashMap<ConversationId, Live>,
    tiers: WeightedChoice,
    channels: WeightedChoice,
    needs: Option<WeightedChoice>,
    queues: Option<WeightedChoice>,
    handle: DurationSampler,
    respond: DurationSampler,
    patience: Option<DurationSampler>,
    acc: KpiAccumulator,
    warmup: u64,
    /// End of the arrival span, ms: occupancy is measured over
    /// [warm-up, span end), the steady state, not the drain after it.
    span_end: u64,
    customers: u64,
    keep_records: bool,
    records: Vec<ConversationRecord>,
    estimates: HashMap<TierId, (u64, u128, u128, u128)>,
    idle: BTreeSet<OperatorId>,
    browsing: BTreeSet<OperatorId>,
    status_changed: bool,
    exposure: Exposure,
    hard: HardRule,
    /// Hard conversations resolved per (operator, skill), for learning.
    learned: HashMap<(OperatorId, SkillId), u32>,
    /// Queueing measures (waits from the records, queue length from the event loop).
    measures: MeasureTally,
    /// Under a customer count: arrivals stop after this many after the warm-up.
    quota: Option<u64>,
    /// Customers arrived after the warm-up.
    arrived: u64,
    /// Arrival instants are offset by this, ms (0, except when starting from a live engine).
    origin: u64,
    /// Started from a live engine: its operators are the roster (no operator groups).
    restored: bool,
    /// Counted although asked before the warm-up's end: the conversations waiting when a
    /// run starts from a live engine.
    carried: hashbrown::HashSet<ConversationId>,
    /// When to count the waiting conversations per tier (the end of a forecast's horizon)...
    mark: Option<u64>,
    /// ...and what was counted: (tier, waiting) in tier-id order.
    waiting_at_mark: Vec<(TierId, u32)>,
    /// Reused for each `assign` (or tick, or rebalance) and each drain of
    /// the engine's records: the loop runs them after every batch of
    /// events, and fresh buffers cost an allocation each time.
    decided: Vec<Decision>,
    drained: Records,
}

impl<'a> Sim<'a> {
    fn new(
        sc: &'a Scenario,
        v: &PolicyVariant,
        replication: u32,
        keep_records: bool,
    ) -> Result<Self, SimError> {
        let engine = Engine::new(sc.policy_for(v)).map_err(|error| ScenarioError::Policy {
            name: v.name.clone(),
            error,
        })?;
        let manual = match &v.routing {
            Routing::Manual { browse, pick } => {
                Some((browse.sampler().map_err(ScenarioError::from)?, *pick))
            }
            Routing::Auto { .. } => None,
        };
        let end = sc
            .arrival_hours()
            .map_or(OPEN_END_MS, |h| (h * HOUR_MS) as u64);
        let w = |ps: Vec<f64>| WeightedChoice::new(&ps).map_err(ScenarioError::from);
        let acc = KpiAccumulator::new(KpiConfig {
            service_level_thresholds: vec![Millis::from_secs(20), Millis::from_secs(60)],
            ..KpiConfig::default()
        })?;
        Ok(Sim {
            sc,
            name: v.name.clone(),
            manual,
            engine,
            rng: Rng::stream(sc.seed, u64::from(replication)),
            arrivals: Arrivals::new(&sc.arrivals, sc.start_hour, end),
            replay: None,
            heap: BinaryHeap::new(),
            seq: 0,
            now: 0,
            end,
            next_tick: None,
            next_id: 1,
            live: HashMap::new(),
            tiers: w(sc.tiers.iter().map(|x| x.p).collect())?,
            channels: w(sc.channels.iter().map(|x| x.p).collect())?,
            needs: if sc.needs.is_empty() {
                None
            } else {
                Some(w(sc.needs.iter().map(|x| x.p).collect())?)
            },
            queues: if sc.queues.is_empty() {
                None
            } else {
                Some(w(sc.queues.iter().map(|x| x.p).collect())?)
            },
            handle: sc.handle_time.sampler().map_err(ScenarioError::from)?,
            respond: sc
                .first_response_delay
                .sampler()
                .map_err(ScenarioError::from)?,
            patience: match &sc.patience {
                Some(p) => Some(p.sampler().map_err(ScenarioError::from)?),
                None => None,
            },
            acc,
            warmup: (sc.warmup_minutes * 60_000.0) as u64,
            span_end: end,
            customers: 0,
            keep_records,
            records: Vec::new(),
            estimates: HashMap::new(),
            idle: BTreeSet::new(),
            browsing: BTreeSet::new(),
            status_changed: false,
            exposure: Exposure::new(),
            hard: if sc.hard_skills.is_empty() {
                HardRule::default()
            } else {
                HardRule {
                    min_difficulty: None,
                    skills: sc.hard_skills.clone(),
                }
            },
            learned: HashMap::new(),
            measures: MeasureTally::new(&sc.service_level_secs),
            quota: sc.customer_quota(),
            arrived: 0,
            origin: 0,
            restored: false,
            carried: hashbrown::HashSet::new(),
            mark: None,
            waiting_at_mark: Vec::new(),
            decided: Vec::new(),
            drained: Records::default(),
        })
    }

    /// A replication that starts from a live engine at its clock (`engine.now()`), as
    /// [`run_from_engine`] describes.
    fn from_engine(
        sc: &'a Scenario,
        v: &PolicyVariant,
        start: Restart<'a>,
        replication: u32,
    ) -> Result<Self, SimError> {
        let mut sim = Sim::new(sc, v, replication, false)?;
        let mut engine = start.engine;
        // Records the host has not taken yet belong to the past.
        let _ = engine.take_records();
        let t0 = engine.now().0;
        let end = t0 + start.horizon_ms;
        sim.engine = engine;
        sim.arrivals = Arrivals::new(start.pieces, start.clock_hour, start.horizon_ms);
        sim.origin = t0;
        sim.restored = true;
        sim.now = t0;
        sim.end = end;
        sim.span_end = end;
        sim.warmup = t0;
        sim.quota = None;
        sim.mark = Some(end);
        let ids = sim.engine.conversation_ids();
        sim.next_id = ids.last().map_or(1, |c| c.0 + 1).max(sim.next_id);
        for c in ids {
            sim.register(c)?;
        }
        let available: Vec<OperatorId> = sim
            .engine
            .operator_ids()
            .into_iter()
            .filter(|&o| {
                sim.engine
                    .operator(o)
                    .is_some_and(|v| v.spec.status == OperatorStatus::Available)
            })
            .collect();
        for op in available {
            sim.browse_soon(op);
        }
        let waiting = sim.engine.state_counts().waiting;
        sim.measures.queue(t0, waiting, sim.warmup, sim.span_end);
        // An assignment round at the start, as after any event.
        sim.at(t0, Ev::Tick);
        Ok(sim)
    }

    /// Takes over a live conversation of a restored engine at the start: a waiting one keeps
    /// its asked time and gets a remaining patience; a held one gets its remaining reply
    /// delay or handle time; an offered one is accepted at once (as the simulator accepts
    /// every offer). Remaining times are drawn conditioned on the time already spent
    /// ([`draw_above`]): exact for exponential distributions by memorylessness, by rejection
    /// for the others. Conversations with the bot or with a message left are left as they are.
    fn register(&mut self, c: ConversationId) -> Result<(), SimError> {
        let now = self.now;
        let Some(v) = self.engine.conversation(c) else {
            return Ok(());
        };
        let (state, holder) = (v.state, v.operator);
        let asked = v.asked_at.map_or(now, |t| t.0);
        let since_assigned = v.assigned_at.map_or(now, |t| t.0);
        let since_reply = v.first_response_at.map_or(now, |t| t.0).max(since_assigned);
        let tier = v.spec.tier;
        let skills = v.spec.skills.clone();
        let primary = skills.first().map(|s| s.skill);
        let live = Live {
            asked,
            tier,
            skills,
            primary,
            generation: 0,
            estimate: None,
            handle: None,
        };
        match (state, holder) {
            (ConversationState::Waiting, _) => {
                self.live.insert(c, live);
                self.carried.insert(c);
                if let Some(p) = self.patience {
                    let waited = now - asked;
                    let d = draw_above(&p, waited, &mut self.rng).saturating_sub(waited);
                    self.at(now + d, Ev::Patience(c));
                }
            }
            (ConversationState::Offered, Some(op)) => {
                self.live.insert(c, live);
                self.carried.insert(c);
                self.engine.apply(Event::OfferAccepted {
                    at: Timestamp(now),
                    conversation: c,
                    operator: op,
                })?;
                self.started(c, op);
            }
            (ConversationState::Assigned, Some(_)) => {
                self.live.insert(c, live);
                let held = now - since_assigned;
                let d = draw_above(&self.respond, held, &mut self.rng).saturating_sub(held);
                self.at(now + d, Ev::Respond(c, 0));
            }
            (ConversationState::Responded, Some(op)) => {
                self.live.insert(c, live);
                let speed = self.speed(c, op);
                let held = (now - since_reply) as f64;
                // Handle times scale with the operator's speed: condition the unscaled draw.
                let above = (held / speed).round() as u64;
                let total = draw_above(&self.handle, above, &mut self.rng) as f64 * speed;
                let d = (total - held).max(0.0).round() as u64;
                self.at(now + d, Ev::Resolve(c, 0));
            }
            _ => {}
        }
        Ok(())
    }

    /// The handle-time multiplier of operator `op` on conversation `c` (by their level in
    /// its primary skill).
    fn speed(&self, c: ConversationId, op: OperatorId) -> f64 {
        let level = self.live.get(&c).and_then(|l| l.primary).map_or(0, |s| {
            self.engine
                .operator(op)
                .and_then(|o| o.spec.skills.iter().find(|k| k.skill == s).map(|k| k.level))
                .unwrap_or(0)
        });
        self.sc.speed_by_level[usize::from(level.min(5))]
    }

    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq, ev)));
    }

    fn setup(&mut self) -> Result<(), SimError> {
        let start = Timestamp(0);
        let roster = self.replay.and_then(|r| r.roster.as_deref());
        // A replayed trace's roster replaces the scenario's operator groups.
        let groups = if roster.is_some() || self.restored {
            &[][..]
        } else {
            &self.sc.operators[..]
        };
        for (g, group) in groups.iter().enumerate() {
            for k in 0..group.count {
                let id = Scenario::operator_id(g, k);
                let mut spec = OperatorSpec::new(id);
                spec.capacity = group.capacity.iter().copied().collect();
                spec.skills = group.skills.iter().copied().collect();
                spec.teams = group.teams.iter().copied().collect();
                spec.profile = group.profile;
                let on_from_start = group.shift.is_none_or(|(a, _)| self.hours_until(a) == 0);
                if on_from_start {
                    spec.status = OperatorStatus::Available;
                }
                self.engine.apply(Event::OperatorAdded {
                    at: start,
                    operator: spec,
                })?;
                if let Some((a, b)) = group.shift {
                    if !on_from_start {
                        let t = self.hours_until(a);
                        self.at(t, Ev::Status(id, 0));
                    }
                    let t = self.hours_until_after(b, a);
                    self.at(t, Ev::Status(id, 2));
                }
                for br in &group.breaks {
                    let t = self.hours_until(br.at_hour);
                    self.at(t, Ev::Status(id, 1));
                    self.at(t + (br.minutes * 60_000.0) as u64, Ev::Status(id, 0));
                }
                if self.manual.is_some() && on_from_start {
                    self.idle.insert(id);
                }
            }
        }
        for op in roster.unwrap_or_default() {
            let mut spec = op.spec.clone();
            let id = spec.id;
            let on_from_start = op.shifts.first().is_some_and(|s| s.0 == 0);
            if on_from_start {
                spec.status = OperatorStatus::Available;
            }
            self.engine.apply(Event::OperatorAdded {
                at: start,
                operator: spec,
            })?;
            for &(a, b) in &op.shifts {
                if a > 0 {
                    self.at(a, Ev::Status(id, 0));
                }
                self.at(b, Ev::Status(id, 2));
            }
            if self.manual.is_some() && on_from_start {
                self.idle.insert(id);
            }
        }
        if let Some(t) = self.arrivals.next(&mut self.rng) {
            self.at(self.origin + t, Ev::Arrive);
        }
        Ok(())
    }

    /// Milliseconds from the run's start to the next time the clock shows `hour`.
    fn hours_until(&self, hour: f64) -> u64 {
        let h = (hour - self.sc.start_hour).rem_euclid(24.0);
        (h * HOUR_MS).round() as u64
    }

    /// As [`Sim::hours_until`], for a shift end that may pass midnight.
    fn hours_until_after(&self, end: f64, start: f64) -> u64 {
        let s = self.hours_until(start);
        s + ((end - start) * HOUR_MS).round() as u64
    }

    fn run(self) -> Result<RunResult, SimError> {
        self.run_marked().map(|r| r.0)
    }

    /// Counts the waiting conversations per tier now (the state at the mark).
    fn take_mark(&mut self) {
        self.mark = None;
        let mut by_tier: std::collections::BTreeMap<TierId, u32> = Default::default();
        for c in self.engine.waiting() {
            if let Some(v) = self.engine.conversation(c) {
                *by_tier.entry(v.spec.tier).or_default() += 1;
            }
        }
        self.waiting_at_mark = by_tier.into_iter().collect();
    }

    /// Runs, and returns the waiting conversations per tier at the mark too.
    fn run_marked(mut self) -> Result<(RunResult, Vec<(TierId, u32)>), SimError> {
        self.setup()?;
        let auto = self.manual.is_none();
        while let Some(Reverse((t, _, ev))) = self.heap.pop() {
            if self.mark.is_some_and(|m| t > m) {
                self.take_mark();
            }
            // `end` moves when a customer count ends the arrivals.
            let hard_end = self.end.saturating_add(DRAIN_MS);
            if t > hard_end || (t > self.end && self.live.is_empty()) {
                break;
            }
            self.now = t;
            self.handle(ev)?;
            let batch_done = self.heap.peek().is_none_or(|n| n.0.0 != t);
            if batch_done {
                let at = Timestamp(t);
                let ev = if !auto {
                    Event::Tick { at }
                } else if std::mem::take(&mut self.status_changed) {
                    Event::Rebalance { at }
                } else {
                    Event::Assign { at }
                };
                let mut ds = std::mem::take(&mut self.decided);
                ds.clear();
                self.engine.apply_into(ev, &mut ds)?;
                self.take_decisions(&ds)?;
                self.decided = ds;
                if let Some(d) = self.engine.next_deadline() {
                    if d.0 > t && self.next_tick.is_none_or(|n| d.0 < n) {
                        self.next_tick = Some(d.0);
                        self.at(d.0, Ev::Tick);
                    }
                }
                let waiting = self.engine.state_counts().waiting;
                self.measures.queue(t, waiting, self.warmup, self.span_end);
                self.drain_records()?;
            }
        }
        if self.mark.is_some() {
            self.take_mark();
        }
        self.drain_records()?;
        // The intervals still open at the end count up to the last event
        // (clipped to the span's end).
        let end = self.engine.now();
        for id in self.engine.operator_ids() {
            if let Some((activity, since)) = self.engine.operator(id).map(|o| o.activity) {
                self.push_activity(id, activity, since, end)?;
            }
        }
        let mut wait_estimates: Vec<EstimateError> = self
            .estimates
            .iter()
            .map(|(tier, (n, abs, est, act))| EstimateError {
                tier: *tier,
                count: *n,
                mean_abs_error_ms: *abs as f64 / *n as f64,
                mean_estimate_ms: *est as f64 / *n as f64,
                mean_actual_ms: *act as f64 / *n as f64,
            })
            .collect();
        wait_estimates.sort_by_key(|e| e.tier);
        let roster = self.engine.operator_ids();
        let final_skills = roster
            .iter()
            .map(|id| {
                let skills = self
                    .engine
                    .operator(*id)
                    .map(|o| o.spec.skills.to_vec())
                    .unwrap_or_default();
                (*id, skills)
            })
            .collect();
        let exposure =
            self.exposure
                .report(&self.hard, &roster)
                .map_err(|e| ScenarioError::Invalid {
                    field: "hard_skills".into(),
                    why: e.to_string(),
                })?;
        let result = RunResult {
            policy: self.name,
            replication: 0,
            customers: self.customers,
            report: self.acc.report(),
            wait_estimates,
            records: self.records,
            exposure,
            final_skills,
            measures: self
                .measures
                .finish(self.warmup, self.span_end, self.arrived),
        };
        Ok((result, self.waiting_at_mark))
    }

    fn handle(&mut self, ev: Ev) -> Result<(), SimError> {
        let at = Timestamp(self.now);
        match ev {
            Ev::Arrive => {
                self.arrive(at)?;
                if self.count_arrival() {
                    // The customer count is reached: no more arrivals; the span ends here.
                } else if let Some(t) = self.arrivals.next(&mut self.rng) {
                    self.at(self.origin + t, Ev::Arrive);
                }
            }
            Ev::Tick => {
                if self.next_tick == Some(self.now) {
                    self.next_tick = None;
                }
            }
            Ev::Status(op, s) => {
                let status = [
                    OperatorStatus::Available,
                    OperatorStatus::Away,
                    OperatorStatus::Offline,
                ][s as usize];
                self.engine.apply(Event::OperatorStatusChanged {
                    at,
                    operator: op,
                    status,
                })?;
                self.status_changed = true;
                if self.manual.is_some() {
                    if status == OperatorStatus::Available {
                        self.browse_soon(op);
                    } else {
                        self.idle.remove(&op);
                    }
                }
            }
            Ev::Respond(c, g) => {
                let current = self.live.get(&c).is_some_and(|l| l.generation == g);
                let view = self.engine.conversation(c).map(|v| (v.state, v.operator));
                if let (true, Some((ConversationState::Assigned, Some(op)))) = (current, view) {
                    self.engine.apply(Event::FirstResponseSent {
                        at,
                        conversation: c,
                    })?;
                    let speed = self.speed(c, op);
                    let h = self.handle_ms(c, speed);
                    self.at(self.now + h, Ev::Resolve(c, g));
                }
            }
            Ev::Resolve(c, g) => {
                let current = self.live.get(&c).is_some_and(|l| l.generation == g);
                let view = self.engine.conversation(c).map(|v| (v.state, v.operator));
                if let (true, Some((ConversationState::Responded, Some(op)))) = (current, view) {
                    self.engine.apply(Event::ConversationResolved {
                        at,
                        conversation: c,
                    })?;
                    if let Some(l) = self.live.remove(&c) {
                        self.learn(op, &l.skills, at)?;
                    }
                    if self.manual.is_some() {
                        self.browse_soon(op);
                    }
                }
            }
            Ev::Patience(c) => {
                if self
                    .engine
                    .conversation(c)
                    .is_some_and(|v| v.state == ConversationState::Waiting)
                {
                    let leave_message = self.sc.leave_message_share > 0.0
                        && self.rng.next_f64() < self.sc.leave_message_share;
                    if leave_message {
                        self.engine.apply(Event::MessageLeft {
                            at,
                            conversation: c,
                        })?;
                        self.engine.apply(Event::ConversationResolved {
                            at,
                            conversation: c,
                        })?;
                    } else {
                        self.engine.apply(Event::ConversationAbandoned {
                            at,
                            conversation: c,
                        })?;
                    }
                    self.live.remove(&c);
                }
            }
            Ev::Browse(op) => {
                self.browsing.remove(&op);
                self.browse(op, at)?;
            }
        }
        Ok(())
    }

    /// Counts an arrival made at `now` after the warm-up; true once a customer count is
    /// reached, which then ends the arrival span at `now`.
    fn count_arrival(&mut self) -> bool {
        if self.now >= self.warmup {
            self.arrived += 1;
        }
        let reached = self.quota.is_some_and(|n| self.arrived >= n);
        if reached {
            self.end = self.now;
            self.span_end = self.now;
        }
        reached
    }

    fn arrive(&mut self, at: Timestamp) -> Result<(), SimError> {
        let id = ConversationId(self.next_id);
        self.next_id += 1;
        self.customers += 1;
        // A replayed trace's arrival `i` (in time order) is conversation `i + 1`.
        let recorded = self
            .replay
            .and_then(|r| r.arrivals.get((self.customers - 1) as usize));
        let spec = match recorded {
            Some(a) => a.spec(id),
            None => {
                let tier = self.sc.tiers[self.tiers.sample(&mut self.rng)].value;
                let channel = self.sc.channels[self.channels.sample(&mut self.rng)].value;
                let mut spec = ConversationSpec::new(id, channel, tier);
                if let Some(n) = &self.needs {
                    let need = &self.sc.needs[n.sample(&mut self.rng)].value;
                    spec.skills = need.skills.iter().copied().collect();
                    spec.team = need.team;
                }
                // Drawn after the other mixes, and only when there is a queue mix, so
                // scenarios without queues draw exactly as before.
                if let Some(q) = &self.queues {
                    spec.queue = self.sc.queues[q.sample(&mut self.rng)].value;
                }
                spec
            }
        };
        let tier = spec.tier;
        let primary = spec.skills.first().map(|s| s.skill);
        let skills = spec.skills.clone();
        self.engine.apply(Event::ConversationArrived {
            at,
            conversation: spec,
        })?;
        let estimate = if self.sc.measure_wait_estimates {
            self.engine.queue_status(id).and_then(|q| q.estimated_wait)
        } else {
            None
        };
        self.live.insert(
            id,
            Live {
                asked: self.now,
                tier,
                skills,
                primary,
                generation: 0,
                estimate,
                handle: recorded.and_then(|a| a.handle),
            },
        );
        let patience = match recorded.map_or(ReplayPatience::Drawn, |a| a.patience) {
            ReplayPatience::Drawn => self.patience.map(|p| p.sample_millis(&mut self.rng).0),
            ReplayPatience::After(ms) => Some(ms),
            ReplayPatience::Forever => None,
            ReplayPatience::Above(wait) => {
                self.patience.map(|p| draw_above(&p, wait, &mut self.rng))
            }
        };
        if let Some(d) = patience {
            self.at(self.now + d, Ev::Patience(id));
        }
        if self.manual.is_some() {
            let idle = std::mem::take(&mut self.idle);
            for op in idle {
                self.browse_soon(op);
            }
        }
        Ok(())
    }

    /// The handle time of conversation `c` from its first reply to its resolution, ms: a
    /// replayed trace's recorded one as it is, else drawn and scaled by the operator's speed.
    fn handle_ms(&mut self, c: ConversationId, speed: f64) -> u64 {
        match self.live.get(&c).and_then(|l| l.handle) {
            Some(h) => h,
            None => (self.handle.sample_secs(&mut self.rng) * speed * 1000.0).round() as u64,
        }
    }

    /// Reacts to the engine's decisions: an assigned (or offered, accepted at
    /// once) conversation gets its first reply after the response delay.
    fn take_decisions(&mut self, ds: &[crate::engine::Decision]) -> Result<(), SimError> {
        for d in ds {
            match d.kind {
                DecisionKind::Unassigned { .. } => {
                    if let Some(l) = self.live.get_mut(&d.conversation) {
                        l.generation += 1;
                    }
                }
                DecisionKind::Offered { .. } => {
                    self.engine.apply(Event::OfferAccepted {
                        at: d.at,
                        conversation: d.conversation,
                        operator: d.operator,
                    })?;
                    self.started(d.conversation, d.operator);
                }
                DecisionKind::Assigned => self.started(d.conversation, d.operator),
            }
        }
        Ok(())
    }

    fn started(&mut self, c: ConversationId, op: OperatorId) {
        let now = self.now;
        let Some(l) = self.live.get_mut(&c) else {
            return;
        };
        for s in &l.skills {
            // Levels were validated with the scenario; an error cannot happen here.
            let _ = self.exposure.observe(op, s.skill, s.level);
        }
        l.generation += 1;
        let g = l.generation;
        if let Some(est) = l.estimate.take() {
            let actual = now - l.asked;
            let e = self.estimates.entry(l.tier).or_default();
            e.0 += 1;
            e.1 += u128::from(est.0.abs_diff(actual));
            e.2 += u128::from(est.0);
            e.3 += u128::from(actual);
        }
        let d = self.respond.sample_millis(&mut self.rng).0;
        self.at(now + d, Ev::Respond(c, g));
    }

    fn browse_soon(&mut self, op: OperatorId) {
        let Some((browse, _)) = self.manual else {
            return;
        };
        if !self.browsing.insert(op) {
            return;
        }
        self.idle.remove(&op);
        let mut t = self.now + browse.sample_millis(&mut self.rng).0;
        if let Some(w) = self.engine.operator(op).and_then(|o| o.wrap_up_until) {
            t = t.max(w.0);
        }
        self.at(t, Ev::Browse(op));
    }

    /// The manual baseline: look at the shared inbox and claim one.
    fn browse(&mut self, op: OperatorId, at: Timestamp) -> Result<(), SimError> {
        let Some((_, pick)) = self.manual else {
            return Ok(());
        };
        let waiting = self.engine.waiting();
        let mut best: Option<((u64, u64, u64), ConversationId)> = None;
        for c in waiting {
            if !self.engine.is_eligible(op, c) {
                continue;
            }
            let Some(v) = self.engine.conversation(c) else {
                continue;
            };
            let asked = v.asked_at.map_or(0, |t| t.0);
            let key = match pick {
                Pick::OldestFirst => (0, 0, asked),
                Pick::Easiest => {
                    let difficulty: u64 = v.spec.skills.iter().map(|s| u64::from(s.level)).sum();
                    let priority = self
                        .sc
                        .policy
                        .tiers
                        .iter()
                        .find(|t| t.id == v.spec.tier)
                        .map_or(0, |t| u64::from(t.priority));
                    // Smaller customers (higher priority number) look easier.
                    (difficulty, u64::MAX - priority, asked)
                }
            };
            if best.is_none_or(|b| key < b.0) {
                best = Some((key, c));
            }
        }
        match best {
            Some((_, c)) => {
                self.engine.apply(Event::ConversationClaimed {
                    at,
                    conversation: c,
                    operator: op,
                })?;
                self.started(c, op);
                self.browse_soon(op);
            }
            None => {
                self.idle.insert(op);
            }
        }
        Ok(())
    }

    /// The learning model: every `hard_conversations_per_level` hard
    /// conversations of a skill an operator resolves raise their level in it by one.
    fn learn(
        &mut self,
        op: OperatorId,
        skills: &[SkillLevel],
        at: Timestamp,
    ) -> Result<(), SimError> {
        let Some(learning) = self.sc.learning else {
            return Ok(());
        };
        let Some(mut held) = self.engine.operator(op).map(|o| o.spec.skills.clone()) else {
            return Ok(());
        };
        let mut changed = false;
        for s in skills {
            let hard = self.hard.skills.contains(&s.skill)
                || self.hard.min_difficulty.is_some_and(|d| s.level >= d);
            if !hard {
                continue;
            }
            let n = self.learned.entry((op, s.skill)).or_default();
            *n += 1;
            if *n % learning.hard_conversations_per_level == 0 {
                if let Some(h) = held
                    .iter_mut()
                    .find(|h| h.skill == s.skill && h.level < crate::model::MAX_LEVEL)
                {
                    h.level += 1;
                    changed = true;
                }
            }
        }
        if changed {
            self.engine.apply(Event::OperatorSkillsChanged {
                at,
                operator: op,
                skills: held,
            })?;
        }
        Ok(())
    }

    /// Feeds what the engine recorded to the KPI accumulator: conversations
    /// asked after the warm-up, and activity intervals clipped to
    /// [warm-up, span end).
    fn drain_records(&mut self) -> Result<(), SimError> {
        let mut records = std::mem::take(&mut self.drained);
        self.engine.take_records_into(&mut records);
        for s in records.status_intervals.drain(..) {
            self.push_activity(s.operator, s.status, s.start, s.end)?;
        }
        for rec in records.conversations.drain(..) {
            if rec.asked_at.0 < self.warmup && !self.carried.contains(&rec.conversation) {
                continue;
            }
            self.acc.push(&rec)?;
            self.measures.customer(&rec);
            if self.keep_records {
                self.records.push(rec);
            }
        }
        records.bot_conversations.clear();
        self.drained = records;
        Ok(())
    }

    fn push_activity(
        &mut self,
        operator: OperatorId,
        status: Activity,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<(), SimError> {
        let start = start.max(Timestamp(self.warmup));
        let end = end.min(Timestamp(self.span_end));
        if start < end {
            self.acc.push_status(&StatusInterval {
                operator,
                status,
                start,
                end,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(from_hour: f64, per_hour: f64) -> RatePiece {
        RatePiece {
            from_hour,
            per_hour,
        }
    }

    /// Counts the arrivals of `a` into `bins` of `bin_ms` each, checking
    /// the timestamps are in order; arrivals after the span are counted
    /// apart (the second value).
    fn count(mut a: Arrivals<'_>, rng: &mut Rng, bin_ms: u64, bins: usize) -> (Vec<u64>, u64) {
        let end = a.end as u64;
        let mut counts = vec![0u64; bins];
        let mut late = 0;
        let mut last = 0;
        while let Some(t) = a.next(rng) {
            assert!(t >= last, "arrival at {t} after one at {last}");
            last = t;
            if t > end {
                late += 1;
            } else {
                counts[((t / bin_ms) as usize).min(bins - 1)] += 1;
            }
        }
        (counts, late)
    }

    /// The long-run rate of a Poisson stream with 600 ms mean gaps. Rounding
    /// every gap up to a whole millisecond (the old simulator) lowered it by
    /// 0.5/600.5 = 0.083 %, about 6 standard deviations at 5·10⁷ expected
    /// arrivals; the count must be within 3.5 standard deviations of λT
    /// (0.05 %).
    #[test]
    fn a_poisson_stream_with_600_ms_gaps_keeps_its_rate() {
        let hours = 8_334.0;
        let pieces = [piece(0.0, 6_000.0)];
        let end = (hours * HOUR_MS) as u64;
        let mut rng = Rng::stream(1, 0);
        let n = count(Arrivals::new(&pieces, 0.0, end), &mut rng, end + 1, 1).0[0] as f64;
        let expected = 6_000.0 * hours;
        let z = (n - expected) / expected.sqrt();
        let relative = n / expected - 1.0;
        eprintln!("{n} arrivals, expected {expected}: {relative:+.3e} relative, z = {z:+.2}");
        assert!(
            z.abs() < 3.5,
            "{n} arrivals, expected {expected}: {relative:+.3e} relative, z = {z:+.2}"
        );
    }

    /// Arrival timestamps are the exact instants (running sums of the
    /// exponential gaps) rounded to the nearest millisecond: no rounding
    /// error builds up, however many arrivals there are. The reference
    /// repeats the simulator's draws: one exponential per arrival while the
    /// rate stays the same (the first day, about 144,000 arrivals).
    #[test]
    fn arrival_timestamps_are_the_exact_instants_rounded() {
        let pieces = [piece(0.0, 6_000.0)];
        let mut a = Arrivals::new(&pieces, 0.0, 1_000 * 3_600_000);
        let mut rng = Rng::stream(2, 0);
        let mut reference = rng.clone();
        let d = Exponential::from_rate(6_000.0 / HOUR_MS).unwrap();
        let mut exact = 0.0;
        let mut worst: f64 = 0.0;
        for _ in 0..100_000 {
            exact += d.sample(&mut reference);
            let t = a.next(&mut rng).unwrap() as f64;
            worst = worst.max((t - exact).abs());
        }
        eprintln!("largest |timestamp - exact instant| over 10⁵ arrivals: {worst:.3} ms");
        assert!(
            worst <= 0.5 + 1e-6,
            "timestamps drift {worst} ms from the exact instants"
        );
    }

    /// Piecewise-constant hourly rates, a start before the first piece and
    /// a zero-rate piece: each piece gets its rate, none leaks across a
    /// boundary, and nothing arrives after the span.
    #[test]
    fn hourly_pieces_keep_their_own_rates() {
        // Starts at 05:00, before the first piece, so in the last one:
        // 18–06 at 600/h, 06–07 none, 07–18 at 12,000/h.
        let pieces = [piece(6.0, 0.0), piece(7.0, 12_000.0), piece(18.0, 600.0)];
        let days = 40.0;
        let end = (days * 24.0 * HOUR_MS) as u64 - 1_800_000; // ends at 04:30
        let mut rng = Rng::stream(3, 0);
        let (hourly, late) = count(
            Arrivals::new(&pieces, 5.0, end),
            &mut rng,
            3_600_000,
            24 * 40,
        );
        assert_eq!(late, 0, "nothing arrives after the span");
        let rate_at = |hour_of_day: usize| match hour_of_day {
            6 => 0.0,
            7..=17 => 12_000.0,
            _ => 600.0,
        };
        let mut by_hour = [0u64; 24];
        for (i, c) in hourly.iter().enumerate() {
            by_hour[(i + 5) % 24] += c;
        }
        for (h, &c) in by_hour.iter().enumerate() {
            // Every clock hour occurs 40 times, except 04:00–05:00 (39.5).
            let times = if h == 4 { 39.5 } else { 40.0 };
            let expected = rate_at(h) * times;
            let z = (c as f64 - expected) / expected.max(1.0).sqrt();
            assert!(z.abs() < 4.0, "{h}:00 got {c}, expected {expected}");
        }
        assert_eq!(by_hour[6], 0, "nothing arrives while the rate is zero");
    }
}
