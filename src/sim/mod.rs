//! Discrete-event simulation of a contact center, driving the real engine.
//!
//! [`scenario`] describes a virtual contact center as data, [`run`] drives the
//! real [`crate::engine::Engine`] through one replication and [`report`]
//! summarises replications with confidence intervals. Every run is
//! reproducible from one seed; the randomness comes from
//! two modules:
//!
//! * [`rng`] — the generator (xoshiro256++ seeded by SplitMix64), its
//!   serialisable state and per-replication streams;
//! * [`dist`] — exponential, log-normal, fixed and weighted-choice
//!   distributions, and the [`dist::DurationDist`] form scenario files use.
//!
//! Every report carries queueing measures beside the KPIs, overall and per tier
//! ([`report::Headline`]): P(wait), the mean wait over all arrivals and over the
//! served, the service level at each of the scenario's `service_level_secs`, the
//! mean and largest queue length, and occupancy and utilisation per operator
//! group ([`report::GroupLoad`]). A scenario's `stop` ([`scenario::Stop`]) sets the
//! run length: hours of arrivals, a number of customers, or replications until a
//! named metric's 95 % half-width reaches a target ([`report::SimReport::stop`]
//! says why it stopped).
//!
//! [`fit`] goes the other way: it estimates a scenario's arrival rates,
//! handle time, patience and mixes from records, and [`trace`] replays the
//! records themselves (arrivals, handle times, patience, operators' shifts)
//! through the same simulator. [`mod@validate`] puts the two together: it fits a
//! span of records, simulates it with the fitted model and with the records
//! replayed, and compares service level, abandonment and waits with the records.
//! [`forecast`](mod@forecast) starts from a live engine's snapshot (the
//! conversations waiting and held now, the operators on shift now) and reports the next
//! hour's service level, abandonment and waits per tier with intervals.
//! [`plan_check`] simulates a staffing day plan's teams interval by interval.
//!
//! # Example
//!
//! ```
//! use switchboard::sim::report::simulate;
//! use switchboard::sim::scenario::Scenario;
//!
//! // M/M/2 at 1.5 erlangs for two hours, two replications.
//! let scenario: Scenario = serde_json::from_str(r#"{
//!     "name": "two agents", "seed": 1, "hours": 2, "warmup_minutes": 10,
//!     "policy": { "channels": [{ "id": 1, "name": "call" }],
//!                 "tiers": [{ "id": 1, "name": "all", "priority": 1, "first_response_target": 20000 }] },
//!     "arrivals": [{ "from_hour": 0, "per_hour": 90 }],
//!     "tiers": [{ "value": 1, "p": 1.0 }], "channels": [{ "value": 1, "p": 1.0 }],
//!     "handle_time": { "exponential": { "mean_secs": 60 } },
//!     "first_response_delay": { "fixed": { "secs": 0 } },
//!     "operators": [{ "name": "agent", "count": 2, "capacity": [{ "channel": 1, "capacity": 1 }] }],
//!     "policies": [{ "name": "fifo", "routing": { "auto": {} } }]
//! }"#)?;
//! let report = simulate(&scenario, 2, false, &mut |_, _| {})?;
//! let auto = &report.policies[0];
//! assert!(auto.overall.offered.mean > 100.0);
//! // Occupancy comes from the engine's own activity records: near 1.5 / 2.
//! assert!((auto.overall.occupancy_pct.mean - 75.0).abs() < 15.0);
//! // Queueing measures: P(wait) (Erlang C: 64 %), SL at the default 20 and 60 s.
//! assert!(auto.overall.p_wait_pct.mean > 30.0);
//! assert_eq!(auto.overall.service_levels.len(), 2);
//! assert!(auto.overall.queue_length_max.mean >= auto.overall.queue_length_mean.mean);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod dist;
pub mod fit;
pub mod forecast;
mod measures;
pub mod plan_check;
mod recorded;
mod replay;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod trace;
pub mod validate;

pub use fit::{FitError, FitOptions, FitReport, fit_records};
pub use forecast::{ArrivalForecast, ForecastError, ForecastOptions, ForecastReport, forecast};
pub use trace::{Roster, RosterOperator, Shift, Trace, TraceError, TraceOptions, run_trace};
pub use validate::{ValidateError, ValidateOptions, Validation, validate};
