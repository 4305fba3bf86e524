//! Staffing maths: how many operators a queue needs, and how a given team performs.
//!
//! Three classic queueing models, all for one queue with Poisson arrivals and
//! exponential handle times, served first come first served by `n` identical
//! operators who each hold one conversation at a time:
//!
//! | model | queue | what it answers |
//! |---|---|---|
//! | [`erlang_b`] | M/M/n/n (no queue) | share of contacts lost when everyone is busy |
//! | [`ErlangC`], [`operators_needed`] | M/M/n (infinitely patient customers) | probability of waiting, average speed of answer, service level, occupancy; the smallest team that meets a service-level target |
//! | [`ErlangA`], [`operators_needed_with_patience`] | M/M/n+M (exponential patience) | probability of waiting, of abandoning, mean wait, service level; the smallest team that meets a service-level and/or abandonment target |
//!
//! [`plan_day`] applies Erlang C and Erlang A interval by interval to a
//! day's forecast ([`Interval`]s, or a simulator rate profile through
//! [`Interval::from_rate_profile`]) and gives a [`DayPlan`]: a table, CSV
//! and operator-hours.
//!
//! | file | job |
//! |---|---|
//! | `mod.rs` | units, errors, [`Workload`] |
//! | `erlang.rs` | Erlang B and C, [`ServiceTarget`], [`operators_needed`] |
//! | `erlang_a.rs` | Erlang A, [`PatienceTarget`], [`operators_needed_with_patience`] |
//! | `plan.rs` | [`Interval`], [`plan_day`], [`DayPlan`] |
//!
//! # Units
//!
//! Every time (handle time, patience, service-level threshold, waits) is in
//! **one unit of your choice**, and the arrival rate is per that same unit.
//! The examples use seconds: 100 contacts per half hour is
//! `100.0 / 1800.0` per second. [`Workload::per_interval`] does that division.
//! Results come back in the same unit. Offered load is in erlangs:
//! `A = arrival_rate × mean_handle_time`. The day plan alone fixes its
//! units (rates per hour, times in seconds), as forecasts are written.
//!
//! # Numerical method
//!
//! No factorial or power is ever formed. Erlang B uses the recursion
//! `B(k) = A·B(k−1) / (k + A·B(k−1))`, which is stable and never overflows;
//! Erlang C is derived from it; Erlang A normalises its stationary
//! distribution at `π_n` (not `π_0`) and sums the waiting tail as running
//! ratios, rescaling when a partial product grows large, and stops when a
//! term falls below `1e−16` of the running sum. The search in
//! [`operators_needed`] keeps the Erlang B recursion running from one
//! candidate team size to the next, so it costs O(n) in total.
//! Team sizes are limited to [`MAX_OPERATORS`] so that no call can run for
//! long on absurd input.
//!
//! # References
//!
//! * Erlang B/C: any queueing text, e.g. L. Kleinrock, *Queueing Systems*,
//!   vol. 1 (1975), §3.
//! * Erlang A: O. Garnett, A. Mandelbaum, M. Reiman, "Designing a call center
//!   with impatient customers", *Manufacturing & Service Operations
//!   Management* 4(3), 2002; the waiting-time distribution follows
//!   S. Zeltyn, A. Mandelbaum, "Call centers with impatient customers:
//!   many-server asymptotics of the M/M/n+G queue", *Queueing Systems* 51,
//!   2005 (derived for exponential patience in [`ErlangA::service_level`]).
//!
//! # Example
//!
//! ```
//! use switchboard::staffing::{ErlangC, ServiceTarget, Workload, operators_needed};
//!
//! // 1,080 calls an hour, 60 s each: 18 erlangs.
//! let w = Workload::new(1080.0 / 3600.0, 60.0)?;
//! let twenty = ErlangC::new(w, 20)?;
//! assert!((twenty.probability_of_waiting() - 0.5508).abs() < 1e-3);
//! // The smallest team answering 80 % within 20 s.
//! let team = operators_needed(w, ServiceTarget::new(20.0, 0.8)?)?;
//! assert!(team.service_level(20.0)? >= 0.8);
//! assert!(team.operators() > 18);
//! # Ok::<(), switchboard::staffing::StaffingError>(())
//! ```

mod erlang;
mod erlang_a;
mod plan;

pub use erlang::{ErlangC, ServiceTarget, erlang_b, erlang_c, operators_needed};
pub use erlang_a::{ErlangA, PatienceTarget, operators_needed_with_patience};
pub use plan::{DayPlan, Interval, Patience, PlanRow, PlanTotals, TeamMeasures, plan_day};

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// Largest team size any function here accepts or searches up to.
///
/// Every computation costs O(operators); this bound keeps a call on absurd
/// input under a few milliseconds.
pub const MAX_OPERATORS: u32 = 1_000_000;

/// Why a staffing calculation refused its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StaffingError {
    /// A parameter is NaN, infinite or outside its allowed range.
    #[error("{field} must be {expected}, got {value}")]
    InvalidParameter {
        /// The parameter's name, as spelled in this API.
        field: &'static str,
        /// The value that was passed.
        value: f64,
        /// What the parameter must be, e.g. "a finite number > 0".
        expected: &'static str,
    },
    /// A team of zero operators was asked about.
    #[error("operators must be at least 1, got 0")]
    ZeroOperators,
    /// More operators than [`MAX_OPERATORS`] were asked about.
    #[error("operators must be at most {max}, got {operators}")]
    TooManyOperators {
        /// The team size that was passed or would be needed.
        operators: u64,
        /// [`MAX_OPERATORS`].
        max: u32,
    },
    /// Erlang C needs fewer erlangs than operators: with `A ≥ n` the queue
    /// grows without bound and no steady state exists.
    #[error(
        "erlang c needs an offered load below the operators: {load} erlangs with {operators} operators"
    )]
    Overloaded {
        /// Offered load in erlangs.
        load: f64,
        /// Team size.
        operators: u32,
    },
    /// A [`PatienceTarget`] with no goal at all (every team would meet it).
    #[error(
        "the target sets no goal: give a service level, a maximum abandonment or a maximum occupancy"
    )]
    EmptyTarget,
    /// An entry of a list (an interval of a day plan, a piece of a rate
    /// profile) is out of range; `list[index].field` names it.
    #[error("{list}[{index}].{field} must be {expected}, got {value}")]
    InvalidEntry {
        /// The list, as spelled in this API (`intervals`, `pieces`).
        list: &'static str,
        /// Position in the list, from 0.
        index: usize,
        /// The entry's field.
        field: &'static str,
        /// The value that was passed.
        value: f64,
        /// What the field must be.
        expected: &'static str,
    },
    /// A day plan could not staff one of its intervals (e.g. more than
    /// [`MAX_OPERATORS`] would be needed); `index` says which.
    #[error("intervals[{index}]: {source}")]
    InInterval {
        /// Position of the interval, from 0.
        index: usize,
        /// Why.
        source: Box<StaffingError>,
    },
    /// The Erlang A waiting tail did not converge within its term limit
    /// (heavy overload with very long patience); use a shorter mean patience
    /// or Erlang C.
    #[error("erlang a tail did not converge within {terms} terms")]
    NoConvergence {
        /// Terms summed before giving up.
        terms: u64,
    },
}

/// Shorthand for results in this module.
pub type Result<T> = core::result::Result<T, StaffingError>;

fn finite_non_negative(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(StaffingError::InvalidParameter {
            field,
            value,
            expected: "a finite number >= 0",
        })
    }
}

fn finite_positive(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(StaffingError::InvalidParameter {
            field,
            value,
            expected: "a finite number > 0",
        })
    }
}

fn open_probability(field: &'static str, value: f64) -> Result<f64> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(StaffingError::InvalidParameter {
            field,
            value,
            expected: "strictly between 0 and 1",
        })
    }
}

fn check_operators(operators: u32) -> Result<u32> {
    if operators == 0 {
        Err(StaffingError::ZeroOperators)
    } else if operators > MAX_OPERATORS {
        Err(StaffingError::TooManyOperators {
            operators: u64::from(operators),
            max: MAX_OPERATORS,
        })
    } else {
        Ok(operators)
    }
}

/// Demand on one queue: how often contacts arrive and how long each takes.
///
/// Both fields are in one time unit of your choice (see the [module
/// docs](self)); the examples use seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Workload {
    /// Contacts arriving per time unit (λ). Finite, ≥ 0.
    pub arrival_rate: f64,
    /// Mean handle time per contact (1/μ), in the same time unit. Finite, > 0.
    pub mean_handle_time: f64,
}

impl Workload {
    /// A validated workload from a rate and a mean handle time.
    ///
    /// # Errors
    /// [`StaffingError::InvalidParameter`] naming `arrival_rate` (negative,
    /// NaN, infinite) or `mean_handle_time` (not > 0, NaN, infinite), or
    /// `offered_load` if their product overflows.
    ///
    /// # Example
    /// ```
    /// use switchboard::staffing::Workload;
    /// // 2 contacts a minute, 3 minutes each, in seconds: 6 erlangs.
    /// let w = Workload::new(2.0 / 60.0, 180.0)?;
    /// assert!((w.offered_load() - 6.0).abs() < 1e-12);
    /// # Ok::<(), switchboard::staffing::StaffingError>(())
    /// ```
    pub fn new(arrival_rate: f64, mean_handle_time: f64) -> Result<Self> {
        let w = Workload {
            arrival_rate,
            mean_handle_time,
        };
        w.validate()?;
        Ok(w)
    }

    /// A workload from a count of contacts per planning interval:
    /// `arrival_rate = contacts / interval`.
    ///
    /// # Errors
    /// As [`Workload::new`], plus `contacts` (negative, NaN, infinite) and
    /// `interval` (not > 0, NaN, infinite).
    ///
    /// # Example
    /// ```
    /// use switchboard::staffing::Workload;
    /// // 100 contacts per half hour, 3-minute handle time: 10 erlangs.
    /// let w = Workload::per_interval(100.0, 1800.0, 180.0)?;
    /// assert!((w.offered_load() - 10.0).abs() < 1e-12);
    /// # Ok::<(), switchboard::staffing::StaffingError>(())
    /// ```
    pub fn per_interval(contacts: f64, interval: f64, mean_handle_time: f64) -> Result<Self> {
        let contacts = finite_non_negative("contacts", contacts)?;
        let interval = finite_positive("interval", interval)?;
        Workload::new(contacts / interval, mean_handle_time)
    }

    /// Checks both fields (useful after deserialising).
    ///
    /// # Errors
    /// As [`Workload::new`].
    pub fn validate(&self) -> Result<()> {
        finite_non_negative("arrival_rate", self.arrival_rate)?;
        finite_positive("mean_handle_time", self.mean_handle_time)?;
        let load = self.offered_load();
        if !load.is_finite() {
            return Err(StaffingError::InvalidParameter {
                field: "offered_load",
                value: load,
                expected: "a finite number",
            });
        }
        Ok(())
    }

    /// Offered load in erlangs, `A = λ / μ = arrival_rate × mean_handle_time`:
    /// the average number of operators kept busy.
    pub fn offered_load(&self) -> f64 {
        self.arrival_rate * self.mean_handle_time
    }

    /// Service rate of one operator, `μ = 1 / mean_handle_time`.
    pub fn service_rate(&self) -> f64 {
        1.0 / self.mean_handle_time
    }
}
