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
//! | [`ErlangA`] | M/M/n+M (exponential patience) | probability of waiting, of abandoning, mean wait, service level |
//!
//! # Units
//!
//! Every time (handle time, patience, service-level threshold, waits) is in
//! **one unit of your choice**, and the arrival rate is per that same unit.
//! The examples use seconds: 100 contacts per half hour is
//! `100.0 / 1800.0` per second. [`Workload::per_interval`] does that division.
//! Results come back in the same unit. Offered load is in erlangs:
//! `A = arrival_rate × mean_handle_time`.
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

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// Largest team size any function here accepts or searches up to.
///
/// Every computation costs O(operators); this bound keeps a call on absurd
/// input under a few milliseconds.
pub const MAX_OPERATORS: u32 = 1_000_000;

/// Erlang A tail sums stop with [`StaffingError::NoConvergence`] after this
/// many terms (only reachable with heavy overload and very long patience).
const MAX_TAIL_TERMS: u64 = 10_000_000;

/// Relative size below which a tail term ends the sum.
const TAIL_EPSILON: f64 = 1e-16;

/// Partial products above this are rescaled to avoid overflow.
const RESCALE_ABOVE: f64 = 1e150;

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

/// Erlang B: the probability that a contact finds all `operators` busy in a
/// loss system (M/M/n/n, no queue), for an offered `load` in erlangs.
///
/// Computed by the stable recursion
/// `B(0, A) = 1`, `B(k, A) = A·B(k−1, A) / (k + A·B(k−1, A))` for `k = 1..n`:
/// O(n), no overflow, accurate for thousands of operators.
///
/// # Errors
/// [`StaffingError::ZeroOperators`], [`StaffingError::TooManyOperators`],
/// [`StaffingError::InvalidParameter`] naming `load` (negative, NaN,
/// infinite).
///
/// # Example
/// ```
/// use switchboard::staffing::erlang_b;
/// // Classic table: 10 trunks carry 4.461 erlangs at 1 % blocking.
/// let b = erlang_b(10, 4.461)?;
/// assert!((b - 0.01).abs() < 1e-4);
/// # Ok::<(), switchboard::staffing::StaffingError>(())
/// ```
pub fn erlang_b(operators: u32, load: f64) -> Result<f64> {
    let n = check_operators(operators)?;
    let a = finite_non_negative("load", load)?;
    Ok(erlang_b_unchecked(n, a))
}

fn erlang_b_unchecked(n: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=n {
        let ab = a * b;
        b = ab / (f64::from(k) + ab);
    }
    b
}

/// Erlang C from Erlang B: `C(n, A) = n·B / (n − A·(1 − B))`, valid for `A < n`.
fn erlang_c_from_b(n: f64, a: f64, b: f64) -> f64 {
    n * b / (n - a * (1.0 - b))
}

/// Erlang C: the probability that a contact has to wait (M/M/n, infinitely
/// patient customers), for `operators` and an offered `load` in erlangs.
///
/// `C(n, A) = n·B(n, A) / (n − A·(1 − B(n, A)))`, with `B` from
/// [`erlang_b`]. Defined only for `A < n`.
///
/// # Errors
/// As [`erlang_b`], plus [`StaffingError::Overloaded`] when `load ≥ operators`.
///
/// # Example
/// ```
/// use switchboard::staffing::erlang_c;
/// // M/M/1 at 50 % load: P(wait) = ρ = 0.5.
/// assert!((erlang_c(1, 0.5)? - 0.5).abs() < 1e-15);
/// # Ok::<(), switchboard::staffing::StaffingError>(())
/// ```
pub fn erlang_c(operators: u32, load: f64) -> Result<f64> {
    let n = check_operators(operators)?;
    let a = finite_non_negative("load", load)?;
    let nf = f64::from(n);
    if a >= nf {
        return Err(StaffingError::Overloaded { load: a, operators });
    }
    Ok(erlang_c_from_b(nf, a, erlang_b_unchecked(n, a)))
}

/// A team of `n` operators serving a [`Workload`] as an M/M/n queue with
/// infinitely patient customers (Erlang C): every measure in one place.
///
/// Built by [`ErlangC::new`] (O(n)) or returned by [`operators_needed`];
/// the accessors are O(1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangC {
    operators: u32,
    arrival_rate: f64,
    service_rate: f64,
    load: f64,
    prob_wait: f64,
}

impl ErlangC {
    /// Evaluates `operators` operators against `workload`.
    ///
    /// # Errors
    /// [`StaffingError::ZeroOperators`], [`StaffingError::TooManyOperators`],
    /// [`StaffingError::InvalidParameter`] for a bad workload,
    /// [`StaffingError::Overloaded`] when the offered load is not below
    /// `operators`.
    ///
    /// # Example
    /// ```
    /// use switchboard::staffing::{ErlangC, Workload};
    /// // M/M/20 at ρ = 0.9 with μ = 1.
    /// let q = ErlangC::new(Workload::new(18.0, 1.0)?, 20)?;
    /// assert!((q.probability_of_waiting() - 0.5508).abs() < 1e-4);
    /// assert!((q.average_speed_of_answer() - 0.2754).abs() < 1e-4);
    /// # Ok::<(), switchboard::staffing::StaffingError>(())
    /// ```
    pub fn new(workload: Workload, operators: u32) -> Result<Self> {
        let n = check_operators(operators)?;
        workload.validate()?;
        let a = workload.offered_load();
        let nf = f64::from(n);
        if a >= nf {
            return Err(StaffingError::Overloaded { load: a, operators });
        }
        Ok(ErlangC {
            operators: n,
            arrival_rate: workload.arrival_rate,
            service_rate: workload.service_rate(),
            load: a,
            prob_wait: erlang_c_from_b(nf, a, erlang_b_unchecked(n, a)),
        })
    }

    /// Team size `n`.
    pub fn operators(&self) -> u32 {
        self.operators
    }

    /// Offered load `A` in erlangs.
    pub fn offered_load(&self) -> f64 {
        self.load
    }

    /// Probability that a contact waits at all, `C(n, A)`.
    pub fn probability_of_waiting(&self) -> f64 {
        self.prob_wait
    }

    /// Average speed of answer: the mean wait over **all** contacts
    /// (including the ones answered at once), `E[Wq] = C(n, A) / (n·μ − λ)`,
    /// in the workload's time unit.
    ///
    /// # Example
    /// ```
    /// use switchboard::staffing::{ErlangC, Workload};
    /// // 10 erlangs (seconds), 14 operators: ASA ≈ 7.8 s.
    /// let q = ErlangC::new(Workload::per_interval(100.0, 1800.0, 180.0)?, 14)?;
    /// assert!((q.average_speed_of_answer() - 7.836).abs() < 1e-3);
    /// # Ok::<(), switchboard::staffing::StaffingError>(())
    /// ```
    pub fn average_speed_of_answer(&self) -> f64 {
        self.prob_wait / self.rate_gap()
    }

    /// Mean number of contacts waiting, `E[Lq] = λ·E[Wq]` (Little's law).
    pub fn mean_queue_length(&self) -> f64 {
        self.arrival_rate * self.average_speed_of_answer()
    }

    /// Operator occupancy, `A / n`: the share of time an operator is busy.
    pub fn occupancy(&self) -> f64 {
        self.load / f64::from(self.operators)
    }

    /// Service level: the probability that a contact waits at most
    /// `threshold` (same time unit as the workload),
    /// `P(Wq ≤ t) = 1 − C(n, A)·exp(−(n·μ − λ)·t)`.
    ///
    /// # Errors
    /// [`StaffingError::InvalidParameter`] naming `threshold` (negative, NaN,
    /// infinite).
    ///
    /// # Example
    /// ```
    /// use switchboard::staffing::{ErlangC, Workload};
    /// let q = ErlangC::new(Workload::per_interval(100.0, 1800.0, 180.0)?, 14)?;
    /// // 88.8 % of contacts answered within 20 s.
    /// assert!((q.service_level(20.0)? - 0.8884).abs() < 1e-4);
    /// # Ok::<(), switchboard::staffing::StaffingError>(())
    /// ```
    pub fn service_level(&self, threshold: f64) -> Result<f64> {
        let t = finite_non_negative("threshold", threshold)?;
        Ok(self.service_level_unchecked(t))
    }

    fn service_level_unchecked(&self, t: f64) -> f64 {
        1.0 - self.prob_wait * (-self.rate_gap() * t).exp()
    }

    /// `n·μ − λ`, positive because `A < n`.
    fn rate_gap(&self) -> f64 {
        f64::from(self.operators) * self.service_rate - self.arrival_rate
    }
}

/// A service-level goal for [`operators_needed`]: at least `service_level`
/// of contacts answered within `threshold`, optionally with operator
/// occupancy capped.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ServiceTarget {
    /// Answer-time threshold `t`, in the workload's time unit. Finite, ≥ 0.
    pub threshold: f64,
    /// Required share answered within `threshold`, strictly between 0 and 1
    /// (e.g. 0.8 for "80/20").
    pub service_level: f64,
    /// Highest acceptable occupancy `A / n`, in (0, 1]; `None` for no cap.
    /// Default: `None`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub max_occupancy: Option<f64>,
}

impl ServiceTarget {
    /// "`service_level` of contacts answered within `threshold`", no occupancy cap.
    ///
    /// # Errors
    /// As [`ServiceTarget::validate`].
    pub fn new(threshold: f64, service_level: f64) -> Result<Self> {
        let t = ServiceTarget {
            threshold,
            service_level,
            max_occupancy: None,
        };
        t.validate()?;
        Ok(t)
    }

    /// The same target with occupancy capped at `max_occupancy`.
    ///
    /// # Errors
    /// As [`ServiceTarget::validate`].
    pub fn with_max_occupancy(self, max_occupancy: f64) -> Result<Self> {
        let t = ServiceTarget {
            max_occupancy: Some(max_occupancy),
            ..self
        };
        t.validate()?;
        Ok(t)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`StaffingError::InvalidParameter`] naming `threshold` (negative, NaN,
    /// infinite), `service_level` (not strictly between 0 and 1) or
    /// `max_occupancy` (not in (0, 1]).
    pub fn validate(&self) -> Result<()> {
        finite_non_negative("threshold", self.threshold)?;
        open_probability("service_level", self.service_level)?;
        if let Some(cap) = self.max_occupancy {
            if !(cap > 0.0 && cap <= 1.0) {
                return Err(StaffingError::InvalidParameter {
                    field: "max_occupancy",
                    value: cap,
                    expected: "in (0, 1]",
                });
            }
        }
        Ok(())
    }
}

/// The smallest team that meets `target` for `workload` under Erlang C
/// ("raw positions", before shrinkage): the smallest `n > A` with
/// `P(Wq ≤ t) = 1 − C(n, A)·exp(−(n·μ − λ)·t) ≥ service_level` and, if a cap
/// is set, `A / n ≤ max_occupancy`.
///
/// The Erlang B recursion runs once from `k = 1` up to the answer, each
/// candidate reusing the previous `B(k−1, A)`: O(n) in total, about 0.1 µs
/// at 10 erlangs and a few µs at 1,000 erlangs in a release build.
///
/// Returns the [`ErlangC`] of the chosen team so its measures can be read.
///
/// # Errors
/// [`StaffingError::InvalidParameter`] for a bad workload or target;
/// [`StaffingError::TooManyOperators`] when the answer would exceed
/// [`MAX_OPERATORS`].
///
/// # Example
/// ```
/// use switchboard::staffing::{operators_needed, ServiceTarget, Workload};
/// // 100 contacts per 30 min, 3-minute handle time, 80 % within 20 s.
/// let w = Workload::per_interval(100.0, 1800.0, 180.0)?;
/// let target = ServiceTarget::new(20.0, 0.8)?.with_max_occupancy(0.85)?;
/// let team = operators_needed(w, target)?;
/// assert_eq!(team.operators(), 14);
/// assert!(team.service_level(20.0)? >= 0.8);
/// # Ok::<(), switchboard::staffing::StaffingError>(())
/// ```
pub fn operators_needed(workload: Workload, target: ServiceTarget) -> Result<ErlangC> {
    workload.validate()?;
    target.validate()?;
    let a = workload.offered_load();
    let lambda = workload.arrival_rate;
    let mu = workload.service_rate();
    let t = target.threshold;
    let goal = target.service_level;
    // No team below this size can qualify; refuse early if it is out of range.
    let mut floor = a;
    if let Some(cap) = target.max_occupancy {
        floor = floor.max(a / cap);
    }
    if floor >= f64::from(MAX_OPERATORS) {
        return Err(StaffingError::TooManyOperators {
            operators: floor.ceil() as u64,
            max: MAX_OPERATORS,
        });
    }
    let mut b = 1.0;
    for k in 1..=MAX_OPERATORS {
        let ab = a * b;
        let kf = f64::from(k);
        b = ab / (kf + ab);
        if kf <= a {
            continue;
        }
        if let Some(cap) = target.max_occupancy {
            if a / kf > cap {
                continue;
            }
        }
        let c = erlang_c_from_b(kf, a, b);
        let sl = 1.0 - c * (-(kf * mu - lambda) * t).exp();
        if sl >= goal {
            return Ok(ErlangC {
                operators: k,
                arrival_rate: lambda,
                service_rate: mu,
                load: a,
                prob_wait: c,
            });
        }
    }
    Err(StaffingError::TooManyOperators {
        operators: u64::from(MAX_OPERATORS) + 1,
        max: MAX_OPERATORS,
    })
}

/// Sums of the Erlang A waiting tail relative to `π_n`.
///
/// With `w_0 = 1`, `w_k = w_{k−1}·rate / (n·μ + k·θ)`:
/// `s = Σ_{k≥0} w_k`, `l = Σ_{k≥1} k·w_k`, both multiplied by
/// `exp(log_scale)` to get the true values (rescaled to avoid overflow).
#[derive(Debug, Clone, Copy)]
struct Tail {
    s: f64,
    l: f64,
    log_scale: f64,
}

fn tail_sums(rate: f64, n_mu: f64, theta: f64) -> Result<Tail> {
    let mut term = 1.0_f64;
    let mut s = 1.0_f64;
    let mut l = 0.0_f64;
    let mut log_scale = 0.0_f64;
    if rate == 0.0 {
        return Ok(Tail { s, l, log_scale });
    }
    let mut k: u64 = 0;
    while k < MAX_TAIL_TERMS {
        k += 1;
        let kf = k as f64;
        let ratio = rate / (n_mu + kf * theta);
        term *= ratio;
        s += term;
        l += kf * term;
        if term > RESCALE_ABOVE {
            term /= RESCALE_ABOVE;
            s /= RESCALE_ABOVE;
            l /= RESCALE_ABOVE;
            log_scale += RESCALE_ABOVE.ln();
        }
        // Ratios fall with k, so once below 1 the terms only shrink.
        if ratio < 1.0 && term <= TAIL_EPSILON * s && kf * term <= TAIL_EPSILON * l {
            return Ok(Tail { s, l, log_scale });
        }
    }
    Err(StaffingError::NoConvergence { terms: k })
}

/// `ln(x + y)` from `ln x` and `ln y`, safe for infinities.
fn log_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    if hi == f64::INFINITY {
        return f64::INFINITY;
    }
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// A team of `n` operators serving a [`Workload`] whose customers abandon
/// after an exponential patience (Erlang A, M/M/n+M, FIFO): Garnett,
/// Mandelbaum & Reiman (2002).
///
/// The queue is stable for any load, so `A ≥ n` is allowed. Waits are
/// reported **over all arrivals** (abandoners included, their wait being
/// the time until they left), unless a method says otherwise.
///
/// Birth–death chain over the number `j` in the system: birth rate `λ`,
/// death rate `j·μ` for `j ≤ n` and `n·μ + (j − n)·θ` above, `θ = 1 / mean
/// patience`. Stationary law relative to `π_n`:
/// `π_{j−1} = π_j·j / A` below `n` (so `Σ_{j<n} π_j = π_n·(1/B(n, A) − 1)`), and
/// `π_{n+k} = π_n·w_k`, `w_k = Π_{i=1..k} λ / (n·μ + i·θ)` above.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangA {
    operators: u32,
    arrival_rate: f64,
    service_rate: f64,
    abandon_rate: f64,
    /// `ln π_n`.
    log_pi_n: f64,
    /// `P(wait) = π_n·Σ w_k`.
    prob_wait: f64,
    /// `E[Lq] = π_n·Σ k·w_k`.
    mean_queue: f64,
}

impl ErlangA {
    /// Evaluates `operators` operators against `workload` when customers
    /// give up after an exponential patience of mean `mean_patience` (same
    /// time unit as the workload).
    ///
    /// Cost: O(n) for the Erlang B part plus the tail, which ends when a term
    /// falls below `1e−16` of the running sum (a few hundred terms at
    /// realistic loads; up to ~`(λ − n·μ)/θ` under overload).
    ///
    /// # Errors
    /// [`StaffingError::ZeroOperators`], [`StaffingError::TooManyOperators`],
    /// [`StaffingError::InvalidParameter`] for a bad workload or
    /// `mean_patience` (not > 0, NaN, infinite — use [`ErlangC`] for
    /// infinite patience), [`StaffingError::NoConvergence`] when heavy
    /// overload with very long patience needs more than ten million tail
    /// terms.
    ///
    /// # Example
    /// ```
    /// use switchboard::staffing::{ErlangA, Workload};
    /// // 10 erlangs (seconds), 10 operators, mean patience 2 minutes.
    /// let q = ErlangA::new(Workload::per_interval(100.0, 1800.0, 180.0)?, 10, 120.0)?;
    /// assert!(q.probability_of_abandonment() > 0.0 && q.probability_of_abandonment() < 0.2);
    /// # Ok::<(), switchboard::staffing::StaffingError>(())
    /// ```
    pub fn new(workload: Workload, operators: u32, mean_patience: f64) -> Result<Self> {
        let n = check_operators(operators)?;
        workload.validate()?;
        let patience = finite_positive("mean_patience", mean_patience)?;
        let theta = 1.0 / patience;
        if !theta.is_finite() {
            return Err(StaffingError::InvalidParameter {
                field: "mean_patience",
                value: mean_patience,
                expected: "large enough that 1 / mean_patience is finite",
            });
        }
        let lambda = workload.arrival_rate;
        let mu = workload.service_rate();
        let a = workload.offered_load();
        let n_mu = f64::from(n) * mu;
        if lambda == 0.0 {
            return Ok(ErlangA {
                operators: n,
                arrival_rate: 0.0,
                service_rate: mu,
                abandon_rate: theta,
                log_pi_n: f64::NEG_INFINITY,
                prob_wait: 0.0,
                mean_queue: 0.0,
            });
        }
        let tail = tail_sums(lambda, n_mu, theta)?;
        // Σ_{j<n} π_j / π_n = 1 / B(n, A) − 1 = (1 − B) / B (the tail sum
        // already counts π_n itself). B may underflow to 0 for tiny loads on
        // huge teams, which correctly drives π_n (and every waiting measure)
        // to 0.
        let b = erlang_b_unchecked(n, a);
        let log_below = (-b).ln_1p() - b.ln();
        let log_above = tail.s.ln() + tail.log_scale;
        let log_pi_n = -log_add_exp(log_below, log_above);
        let scale = (log_pi_n + tail.log_scale).exp();
        Ok(ErlangA {
            operators: n,
            arrival_rate: lambda,
            service_rate: mu,
            abandon_rate: theta,
            log_pi_n,
            prob_wait: (scale * tail.s).min(1.0),
            mean_queue: scale * tail.l,
        })
    }

    /// Team size `n`.
    pub fn operators(&self) -> u32 {
        self.operators
    }

    /// Probability that an arrival finds every operator busy and has to
    /// wait, `P(wait) = Σ_{j≥n} π_j` (by PASTA).
    pub fn probability_of_waiting(&self) -> f64 {
        self.prob_wait
    }

    /// Mean number waiting, `E[Lq] = Σ_{j>n} (j − n)·π_j`.
    pub fn mean_queue_length(&self) -> f64 {
        self.mean_queue
    }

    /// Share of arrivals who abandon, `P(abandon) = θ·E[Lq] / λ`
    /// (abandonment flow equals `θ` times the mean queue); 0 when `λ = 0`.
    pub fn probability_of_abandonment(&self) -> f64 {
        if self.arrival_rate == 0.0 {
            0.0
        } else {
            (self.abandon_rate * self.mean_queue / self.arrival_rate).min(1.0)
        }
    }

    /// Mean wait over **all** arrivals (served and abandoned; those answered
    /// at once count as 0), `E[Wq] = E[Lq] / λ` by Little's law; 0 when `λ = 0`.
    pub fn mean_wait(&self) -> f64 {
        if self.arrival_rate == 0.0 {
            0.0
        } else {
            self.mean_queue / self.arrival_rate
        }
    }

    /// Occupancy: served load per operator, `λ·(1 − P(abandon)) / (n·μ)`.
    pub fn occupancy(&self) -> f64 {
        self.arrival_rate * (1.0 - self.probability_of_abandonment())
            / (f64::from(self.operators) * self.service_rate)
    }

    /// Service level: the share of **all arrivals** that are answered within
    /// `threshold` — answered-in-time ÷ (answered + abandoned), the
    /// project's default "SL-fail" definition (abandoners, early or late,
    /// count against it).
    ///
    /// Let `V` be the offered wait (how long an arrival would wait if it
    /// never gave up) and `τ ~ Exp(θ)` its patience; it is answered within
    /// `t` iff `V ≤ min(t, τ)`. For exponential patience the tail of `V` has
    /// the closed form (after Zeltyn & Mandelbaum 2005, derived from the
    /// forward equations of the number still ahead of the arrival)
    ///
    /// `P(V > t) = π_n · E(t) · S(λ·e^{−θt})`, with
    /// `E(t) = exp(−n·μ·t + (λ/θ)·(1 − e^{−θt}))`,
    /// `S(x) = Σ_{k≥0} Π_{i=1..k} x / (n·μ + i·θ)`,
    ///
    /// and integrating by parts,
    ///
    /// `SL(t) = 1 − e^{−θt}·P(V > t) − θ·∫₀ᵗ e^{−θs}·P(V > s) ds`,
    /// `∫₀ᵗ e^{−θs}·P(V > s) ds = (π_n / λ)·[L(λ) − E(t)·L(λ·e^{−θt})]`,
    /// `L(x) = Σ_{k≥1} k·Π_{i=1..k} x / (n·μ + i·θ)`.
    ///
    /// Checks: `SL(0) = 1 − P(wait)`; `SL(∞) = 1 − P(abandon)`; as `θ → 0`,
    /// `SL(t) → 1 − C(n, A)·e^{−(n·μ − λ)·t}` (Erlang C).
    ///
    /// # Errors
    /// [`StaffingError::InvalidParameter`] naming `threshold` (negative, NaN,
    /// infinite); [`StaffingError::NoConvergence`] as in [`ErlangA::new`].
    ///
    /// # Example
    /// ```
    /// use switchboard::staffing::{ErlangA, Workload};
    /// let q = ErlangA::new(Workload::per_interval(100.0, 1800.0, 180.0)?, 12, 120.0)?;
    /// let sl = q.service_level(20.0)?;
    /// assert!(sl > q.service_level(0.0)? && sl < 1.0 - q.probability_of_abandonment());
    /// # Ok::<(), switchboard::staffing::StaffingError>(())
    /// ```
    pub fn service_level(&self, threshold: f64) -> Result<f64> {
        let t = finite_non_negative("threshold", threshold)?;
        if self.arrival_rate == 0.0 {
            return Ok(1.0);
        }
        let theta = self.abandon_rate;
        let lambda = self.arrival_rate;
        let n_mu = f64::from(self.operators) * self.service_rate;
        let decay = (-theta * t).exp();
        // (λ/θ)·(1 − e^{−θt}) without cancellation for small θ·t.
        let log_e = -n_mu * t + (lambda / theta) * (-(-theta * t).exp_m1());
        let tail_t = tail_sums(lambda * decay, n_mu, theta)?;
        let scale_t = (self.log_pi_n + log_e + tail_t.log_scale).exp();
        let p_v_exceeds = scale_t * tail_t.s;
        let integral = (self.mean_queue - scale_t * tail_t.l) / lambda;
        let sl = 1.0 - decay * p_v_exceeds - theta * integral;
        Ok(sl.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_add_exp_handles_infinities() {
        assert_eq!(log_add_exp(f64::INFINITY, 1.0), f64::INFINITY);
        assert_eq!(log_add_exp(2.0, f64::NEG_INFINITY), 2.0);
        assert!((log_add_exp(0.0, 0.0) - 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn tail_sums_match_geometric_series() {
        // θ = 0: w_k = ρ^k, S = 1/(1−ρ), L = ρ/(1−ρ)².
        let t = tail_sums(0.5, 1.0, 0.0).unwrap();
        assert!((t.s - 2.0).abs() < 1e-14);
        assert!((t.l - 2.0).abs() < 1e-13);
        assert_eq!(t.log_scale, 0.0);
    }

    #[test]
    fn tail_sums_rescale_under_heavy_overload() {
        // λ = 2·n·μ with slow abandonment: the partial products exceed 1e300.
        let t = tail_sums(2000.0, 1000.0, 0.5).unwrap();
        assert!(t.log_scale > 0.0);
        assert!(t.s.is_finite() && t.l.is_finite());
    }
}
