//! Forecast from the live state: what the next hour looks like from here.
//!
//! [`forecast`] starts the simulator from an engine [`Snapshot`] (what a host persists):
//! the conversations waiting and held now, the operators on shift now with their statuses,
//! capacities and skills. Each replication restores the snapshot into a fresh engine (so it
//! decides exactly as the live one would) and runs the scenario's model from the snapshot's
//! clock for a horizon:
//!
//! * **waiting** conversations keep their asked time, so the wait they already have counts in
//!   the waits and the service level; each gets a remaining patience drawn from the
//!   scenario's patience *conditioned on having waited that long already*;
//! * **held** conversations finish after a remaining reply delay and handle time drawn from
//!   the scenario's distributions conditioned on the time already spent (handle times scaled
//!   by the holder's speed, as in any run); an offered one is accepted at the start, as the
//!   simulator accepts every offer;
//! * **operators** are the snapshot's, as they are, for the whole horizon: the scenario's
//!   operator groups, shifts and breaks are not added;
//! * **new arrivals** are Poisson at the forecast rates ([`ArrivalForecast`]): the scenario's
//!   profile from the snapshot's clock time on, or explicit per-interval rates.
//!
//! The conditioning is exact for exponential distributions (memorylessness: the remaining
//! time is a fresh draw). For the others it is done by rejection, as for a trace's censored
//! patience: draws not above the time already spent are redrawn, up to 1,000 times; failing
//! that (a fixed time already past, a far tail), the remaining time is a fresh draw.
//!
//! The report covers everyone who arrives within the horizon plus those waiting at its start
//! (their waits run until they are served or leave, after the horizon if need be), overall
//! and per tier, each as an [`Estimate`] with its 95 % interval over replications: the service
//! level at the scenario's thresholds, abandonment, the mean wait, P(wait) and the number
//! waiting at the horizon's end. Conversations with the bot or with a message left are not
//! routed and are left as they are.
//!
//! # Example
//!
//! ```
//! use switchboard::engine::Engine;
//! use switchboard::sim::forecast::{ForecastOptions, forecast};
//! use switchboard::sim::scenario::Scenario;
//!
//! let scenario: Scenario =
//!     serde_json::from_str(include_str!("../../examples/scenarios/mm20.json"))?;
//! // A live engine with nobody on shift cannot be forecast: the error names the field.
//! let engine = Engine::new(scenario.policy_for(&scenario.policies[0]))?;
//! let err = forecast(&engine.snapshot(), &scenario, &ForecastOptions::default()).unwrap_err();
//! assert_eq!(err.field(), Some("operators"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::report::{Estimate, ServiceLevelEstimate, WaitTally};
use super::run::{Restart, RunResult, SimError, run_from_engine};
use super::scenario::{RatePiece, Scenario, ScenarioError};
use crate::engine::{Engine, Snapshot, SnapshotError};
use crate::ids::TierId;
use crate::model::{ConversationState, OperatorStatus};
use crate::policy::Policy;
use crate::time::{Millis, Timestamp};

const HOUR_MS: f64 = 3_600_000.0;

/// The arrivals expected over the horizon.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ArrivalForecast {
    /// The scenario's rate profile (`arrivals`), read from the snapshot's clock time on.
    #[default]
    Profile,
    /// Explicit rates, per hour, one per interval from the snapshot's time on; the last one
    /// holds until the horizon ends, rates past the horizon are not used.
    Rates {
        /// The interval each rate covers.
        interval: Millis,
        /// Conversations per hour in each interval: finite and at least 0.
        rates: Vec<f64>,
    },
}

/// How to forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastOptions {
    /// How far ahead arrivals are simulated (default 60 minutes; at most 24 hours).
    pub horizon: Millis,
    /// Replications (default 20; at least 2, for an interval).
    pub replications: u32,
    /// The arrivals expected (default: the scenario's profile).
    pub arrivals: ArrivalForecast,
    /// The scenario's policy variant that routes, by name (default: the first). Its policy
    /// must be the snapshot's.
    pub policy: Option<String>,
    /// The hour of the day (0–24) the clock shows at the snapshot. Default: the snapshot's
    /// time read as the simulator's clock, ms since the scenario's `start_hour`.
    pub clock_hour: Option<f64>,
    /// The seed (default: the scenario's); replication `i` draws from stream `i`.
    pub seed: Option<u64>,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        ForecastOptions {
            horizon: Millis::from_mins(60),
            replications: 20,
            arrivals: ArrivalForecast::Profile,
            policy: None,
            clock_hour: None,
            seed: None,
        }
    }
}

/// Why a forecast cannot run, naming the field.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ForecastError {
    /// An option or the live state is out of range (`horizon`, `replications`, `rates[i]`,
    /// `interval`, `clock_hour`, `policy`, `operators`).
    #[error("forecast field `{field}` is invalid: {why}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// The snapshot's policy is not the one the scenario's variant routes with.
    #[error("the snapshot's policy differs from scenario variant `{variant}`'s in `{field}`")]
    PolicyMismatch {
        /// The first differing part (`policy.selection`, …; `policy` if none is singled out).
        field: String,
        /// The variant.
        variant: String,
    },
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The snapshot cannot be restored.
    #[error("snapshot cannot be restored: {0}")]
    Snapshot(#[from] SnapshotError),
    /// The simulation failed (a simulator bug).
    #[error(transparent)]
    Sim(#[from] SimError),
}

impl ForecastError {
    /// The field named, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            ForecastError::Invalid { field, .. } | ForecastError::PolicyMismatch { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }
}

fn invalid(field: impl Into<String>, why: impl Into<String>) -> ForecastError {
    ForecastError::Invalid {
        field: field.into(),
        why: why.into(),
    }
}

/// The forecast for one population (everyone, or one tier).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ForecastLine {
    /// The tier (`None`: everyone).
    pub tier: Option<TierId>,
    /// Waiting at the snapshot (offered ones included).
    pub waiting_now: u32,
    /// Held by an operator at the snapshot.
    pub held_now: u32,
    /// Customers counted: served or left, of those waiting at the start and arriving within
    /// the horizon.
    pub customers: Estimate,
    /// Service level at each of the scenario's thresholds, %: answered within ÷ answered +
    /// abandoned.
    pub service_levels: Vec<ServiceLevelEstimate>,
    /// Abandoned without a message, % of the customers counted.
    pub abandonment_pct: Estimate,
    /// Left a message instead of waiting, % of the customers counted.
    pub messages_left_pct: Estimate,
    /// Mean wait over everyone counted (those who left up to leaving), s.
    pub wait_mean_s: Estimate,
    /// P(wait), %: not assigned at the millisecond they arrived (everyone waiting at the
    /// start has waited).
    pub p_wait_pct: Estimate,
    /// Waiting when the horizon ends.
    pub waiting_at_end: Estimate,
}

impl ForecastLine {
    /// The service level at `threshold_s`, if it is one of the thresholds.
    pub fn service_level(&self, threshold_s: f64) -> Option<Estimate> {
        self.service_levels
            .iter()
            .find(|l| l.threshold_s == threshold_s)
            .map(|l| l.pct)
    }
}

/// A forecast from the live state.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ForecastReport {
    /// The policy variant that routed.
    pub policy: String,
    /// Replications run.
    pub replications: u32,
    /// The snapshot's time: the horizon's start.
    pub from: Timestamp,
    /// The horizon.
    pub horizon: Millis,
    /// The hour of the day at the snapshot (where the arrival profile was read).
    pub clock_hour: f64,
    /// The service-level thresholds, s.
    pub service_level_secs: Vec<f64>,
    /// Everyone.
    pub overall: ForecastLine,
    /// Per tier of the policy, in the policy's order.
    pub by_tier: Vec<ForecastLine>,
}

/// The first part of the policy that differs (`policy.selection`, …), or `policy`.
fn policy_difference(a: &Policy, b: &Policy) -> Option<&'static str> {
    if a == b {
        return None;
    }
    let parts: [(&'static str, bool); 15] = [
        ("policy.channels", a.channels == b.channels),
        ("policy.tiers", a.tiers == b.tiers),
        ("policy.skills", a.skills == b.skills),
        ("policy.queue_order", a.queue_order == b.queue_order),
        ("policy.selection", a.selection == b.selection),
        (
            "policy.preferred_operator",
            a.preferred_operator == b.preferred_operator,
        ),
        ("policy.overflow", a.overflow == b.overflow),
        (
            "policy.overflow_timing",
            a.overflow_timing == b.overflow_timing,
        ),
        ("policy.wrap_up", a.wrap_up == b.wrap_up),
        ("policy.offers", a.offers == b.offers),
        (
            "policy.throughput_cap",
            a.throughput_cap == b.throughput_cap,
        ),
        ("policy.rebalance", a.rebalance == b.rebalance),
        ("policy.blocked_work", a.blocked_work == b.blocked_work),
        ("policy.queues", a.queues == b.queues),
        ("policy.profiles", a.profiles == b.profiles),
    ];
    Some(parts.iter().find(|p| !p.1).map_or("policy", |p| p.0))
}

/// The arrival pieces and the clock hour they are read from.
fn arrival_pieces(
    scenario: &Scenario,
    opts: &ForecastOptions,
    clock_hour: f64,
) -> Result<(Vec<RatePiece>, f64), ForecastError> {
    match &opts.arrivals {
        ArrivalForecast::Profile => Ok((scenario.arrivals.clone(), clock_hour)),
        ArrivalForecast::Rates { interval, rates } => {
            if interval.0 == 0 {
                return Err(invalid("interval", "must be positive"));
            }
            if rates.is_empty() {
                return Err(invalid("rates", "at least one rate is needed"));
            }
            for (i, r) in rates.iter().enumerate() {
                if !r.is_finite() || *r < 0.0 {
                    return Err(invalid(
                        format!("rates[{i}]"),
                        format!("{r} is not a rate: finite and at least 0 per hour"),
                    ));
                }
            }
            // Pieces from 0 h, one per interval starting within the horizon (the horizon is
            // at most 24 h, so they fit in a day), read from hour 0.
            let used = rates
                .iter()
                .enumerate()
                .take_while(|(i, _)| (*i as u64) * interval.0 < opts.horizon.0)
                .map(|(i, r)| RatePiece {
                    from_hour: (i as u64 * interval.0) as f64 / HOUR_MS,
                    per_hour: *r,
                })
                .collect();
            Ok((used, 0.0))
        }
    }
}

/// Forecasts the next `opts.horizon` from the live state in `snapshot` (see the module
/// documentation for the model and what is reported).
///
/// # Errors
/// [`ForecastError::Invalid`] naming the field: `horizon` (0 or over 24 h), `replications`
/// (under 2), `rates[i]` (negative, NaN or infinite), `interval` (0), `clock_hour` (outside
/// 0–24), `policy` (no such variant), `operators` (nobody available in the snapshot);
/// [`ForecastError::PolicyMismatch`] when the snapshot's policy is not the variant's;
/// [`ForecastError::Scenario`] for an invalid scenario; [`ForecastError::Snapshot`] when the
/// snapshot cannot be restored.
pub fn forecast(
    snapshot: &Snapshot,
    scenario: &Scenario,
    opts: &ForecastOptions,
) -> Result<ForecastReport, ForecastError> {
    scenario.validate()?;
    if opts.horizon.0 == 0 || opts.horizon.0 as f64 > 24.0 * HOUR_MS {
        return Err(invalid(
            "horizon",
            format!(
                "{} ms: must be positive and at most 24 hours",
                opts.horizon.0
            ),
        ));
    }
    if opts.replications < 2 {
        return Err(invalid(
            "replications",
            format!(
                "{}: at least 2 are needed for an interval",
                opts.replications
            ),
        ));
    }
    let variant = match &opts.policy {
        None => &scenario.policies[0],
        Some(name) => scenario
            .policies
            .iter()
            .find(|v| &v.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = scenario.policies.iter().map(|v| v.name.as_str()).collect();
                invalid("policy", format!("no variant `{name}` (known: {known:?})"))
            })?,
    };
    if let Some(field) = policy_difference(&scenario.policy_for(variant), &snapshot.policy) {
        return Err(ForecastError::PolicyMismatch {
            field: field.into(),
            variant: variant.name.clone(),
        });
    }
    let available = snapshot
        .operators
        .iter()
        .filter(|o| o.spec.status == OperatorStatus::Available)
        .count();
    if available == 0 {
        return Err(invalid(
            "operators",
            format!(
                "nobody is available in the snapshot ({} operators)",
                snapshot.operators.len()
            ),
        ));
    }
    let clock_hour = match opts.clock_hour {
        Some(h) if !(0.0..=24.0).contains(&h) || !h.is_finite() => {
            return Err(invalid("clock_hour", format!("{h}: must be within 0–24")));
        }
        Some(h) => h,
        None => (scenario.start_hour + snapshot.now.0 as f64 / HOUR_MS).rem_euclid(24.0),
    };
    let (pieces, from_hour) = arrival_pieces(scenario, opts, clock_hour)?;
    let mut sc = scenario.clone();
    if let Some(seed) = opts.seed {
        sc.seed = seed;
    }

    let mut runs: Vec<(RunResult, Vec<(TierId, u32)>)> = Vec::new();
    for i in 0..opts.replications {
        let engine = Engine::restore(snapshot.clone())?;
        runs.push(run_from_engine(
            &sc,
            variant,
            Restart {
                engine,
                pieces: &pieces,
                clock_hour: from_hour,
                horizon_ms: opts.horizon.0,
            },
            i,
        )?);
    }

    let count_now = |tier: Option<TierId>, states: &[ConversationState]| -> u32 {
        snapshot
            .conversations
            .iter()
            .filter(|c| states.contains(&c.state) && tier.is_none_or(|t| c.spec.tier == t))
            .count() as u32
    };
    let waiting_states = [ConversationState::Waiting, ConversationState::Offered];
    let held_states = [ConversationState::Assigned, ConversationState::Responded];
    let thresholds = scenario.service_level_secs.clone();
    let line = |tier: Option<TierId>| -> ForecastLine {
        let tallies: Vec<Option<&WaitTally>> = runs
            .iter()
            .map(|(r, _)| match tier {
                None => Some(&r.measures.overall),
                Some(t) => r
                    .measures
                    .by_tier
                    .iter()
                    .find(|(k, _)| *k == t)
                    .map(|(_, w)| w),
            })
            .collect();
        let e = |f: &dyn Fn(&WaitTally) -> Option<f64>| {
            Estimate::from_values(tallies.iter().map(|t| t.and_then(f)))
        };
        let share = |n: u64, w: &WaitTally| {
            let d = w.served + w.abandoned + w.messages_left;
            (d > 0).then(|| 100.0 * n as f64 / d as f64)
        };
        ForecastLine {
            tier,
            waiting_now: count_now(tier, &waiting_states),
            held_now: count_now(tier, &held_states),
            // A replication where nobody of the population came counts as 0 customers.
            customers: Estimate::from_values(tallies.iter().map(|t| {
                Some(t.map_or(0.0, |w| (w.served + w.abandoned + w.messages_left) as f64))
            })),
            service_levels: thresholds
                .iter()
                .enumerate()
                .map(|(k, s)| ServiceLevelEstimate {
                    threshold_s: *s,
                    pct: e(&|w| w.service_level(k).map(|x| x * 100.0)),
                })
                .collect(),
            abandonment_pct: e(&|w| share(w.abandoned, w)),
            messages_left_pct: e(&|w| share(w.messages_left, w)),
            wait_mean_s: e(&|w| w.wait_all_mean_ms().map(|m| m / 1000.0)),
            p_wait_pct: e(&|w| w.p_wait().map(|p| p * 100.0)),
            waiting_at_end: Estimate::from_values(runs.iter().map(|(_, q)| {
                Some(
                    q.iter()
                        .filter(|(t, _)| tier.is_none_or(|x| x == *t))
                        .map(|(_, n)| f64::from(*n))
                        .sum(),
                )
            })),
        }
    };
    Ok(ForecastReport {
        policy: variant.name.clone(),
        replications: opts.replications,
        from: snapshot.now,
        horizon: opts.horizon,
        clock_hour,
        service_level_secs: thresholds.clone(),
        overall: line(None),
        by_tier: scenario
            .policy
            .tiers
            .iter()
            .map(|t| line(Some(t.id)))
            .collect(),
    })
}
