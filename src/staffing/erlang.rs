//! Erlang B (loss system) and Erlang C (infinitely patient customers): the
//! measures of a team and the smallest team for a service-level target.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::{
    MAX_OPERATORS, Result, StaffingError, Workload, check_operators, finite_non_negative,
    open_probability,
};

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

pub(super) fn erlang_b_unchecked(n: u32, a: f64) -> f64 {
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
