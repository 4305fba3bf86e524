//! Erlang A (M/M/n+M): customers who give up after an exponential patience.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::{
    MAX_OPERATORS, Result, ServiceTarget, StaffingError, Workload, check_operators,
    erlang::erlang_b_unchecked, finite_non_negative, finite_positive, open_probability,
};

/// Erlang A tail sums stop with [`StaffingError::NoConvergence`] after this
/// many terms (only reachable with heavy overload and very long patience).
const MAX_TAIL_TERMS: u64 = 10_000_000;

/// Relative size below which a tail term ends the sum.
const TAIL_EPSILON: f64 = 1e-16;

/// Partial products above this are rescaled to avoid overflow.
const RESCALE_ABOVE: f64 = 1e150;

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

/// `θ = 1 / mean_patience`, refusing a patience that is not > 0 and finite
/// or so small that `θ` overflows.
pub(super) fn abandon_rate(mean_patience: f64) -> Result<f64> {
    let patience = finite_positive("mean_patience", mean_patience)?;
    let theta = 1.0 / patience;
    if !theta.is_finite() {
        return Err(StaffingError::InvalidParameter {
            field: "mean_patience",
            value: mean_patience,
            expected: "large enough that 1 / mean_patience is finite",
        });
    }
    Ok(theta)
}

/// Expected idle operators, `Σ_{j<n} (n − j)·π_j`. Below `n` the chain is
/// the Erlang loss system's truncated Poisson law scaled by
/// `P(N ≤ n) = π_n / B`, whose mean is `A·(1 − B)`; so
/// `E[idle] = P(N ≤ n)·(n − A·(1 − B))`. Small under overload, where it is
/// the product of small accurate factors (no cancellation).
fn expected_idle(n: f64, a: f64, b: f64, log_pi_n: f64) -> f64 {
    // B underflows to 0 only for a tiny load on a huge team: then nobody
    // waits and P(N ≤ n) = 1.
    let p_at_most_n = if b > 0.0 {
        (log_pi_n - b.ln()).exp().min(1.0)
    } else {
        1.0
    };
    p_at_most_n * (n - a * (1.0 - b)).max(0.0)
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
    /// `A = λ / μ`, as [`Workload::offered_load`] computes it.
    load: f64,
    abandon_rate: f64,
    /// `ln π_n`.
    log_pi_n: f64,
    /// `P(wait) = π_n·Σ w_k`.
    prob_wait: f64,
    /// `E[Lq] = π_n·Σ k·w_k`.
    mean_queue: f64,
    /// `E[idle operators] = Σ_{j<n} (n − j)·π_j`.
    idle: f64,
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
    /// `mean_patience` (not > 0, NaN, infinite — use [`ErlangC`](super::ErlangC) for
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
        let theta = abandon_rate(mean_patience)?;
        let lambda = workload.arrival_rate;
        let mu = workload.service_rate();
        let a = workload.offered_load();
        let n_mu = f64::from(n) * mu;
        if lambda == 0.0 {
            return Ok(ErlangA {
                operators: n,
                arrival_rate: 0.0,
                service_rate: mu,
                load: a,
                abandon_rate: theta,
                log_pi_n: f64::NEG_INFINITY,
                prob_wait: 0.0,
                mean_queue: 0.0,
                idle: f64::from(n),
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
            load: a,
            abandon_rate: theta,
            log_pi_n,
            prob_wait: (scale * tail.s).min(1.0),
            mean_queue: scale * tail.l,
            idle: expected_idle(f64::from(n), a, b, log_pi_n),
        })
    }

    /// Team size `n`.
    pub fn operators(&self) -> u32 {
        self.operators
    }

    /// Offered load `A = λ / μ` in erlangs.
    pub fn offered_load(&self) -> f64 {
        self.load
    }

    /// Mean patience `1 / θ`, in the workload's time unit.
    pub fn mean_patience(&self) -> f64 {
        1.0 / self.abandon_rate
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
    ///
    /// Under overload `1 − P(abandon)` cancels (both near 1), so above
    /// one half this is computed as `1 − E[idle operators] / n` instead,
    /// which keeps it exact to rounding and never above 1.
    pub fn occupancy(&self) -> f64 {
        let n = f64::from(self.operators);
        let served =
            self.arrival_rate * (1.0 - self.probability_of_abandonment()) / (n * self.service_rate);
        if served <= 0.5 {
            served
        } else {
            (1.0 - self.idle / n).clamp(0.0, 1.0)
        }
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

/// A goal for [`operators_needed_with_patience`]: any of a service level, a
/// highest abandonment share and an occupancy cap, all of which must hold.
///
/// With impatient customers a team can be judged by who gets answered in
/// time, by who gives up, or both, so each goal is optional (at least one
/// must be set).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct PatienceTarget {
    /// Answer-time threshold for `service_level`, in the workload's time
    /// unit. Finite, ≥ 0; unused without `service_level`. Default: 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub threshold: f64,
    /// Required share of **all arrivals** answered within `threshold`
    /// (abandons count as misses, as in [`ErlangA::service_level`]),
    /// strictly between 0 and 1; `None` for no service-level goal.
    #[cfg_attr(feature = "serde", serde(default))]
    pub service_level: Option<f64>,
    /// Highest acceptable share of arrivals who abandon, in (0, 1]; `None`
    /// for no abandonment goal.
    #[cfg_attr(feature = "serde", serde(default))]
    pub max_abandonment: Option<f64>,
    /// Highest acceptable occupancy ([`ErlangA::occupancy`]), in (0, 1];
    /// `None` for no cap.
    #[cfg_attr(feature = "serde", serde(default))]
    pub max_occupancy: Option<f64>,
}

impl PatienceTarget {
    /// "`service_level` of all arrivals answered within `threshold`".
    ///
    /// # Errors
    /// As [`PatienceTarget::validate`].
    pub fn answered_within(threshold: f64, service_level: f64) -> Result<Self> {
        let t = PatienceTarget {
            threshold,
            service_level: Some(service_level),
            max_abandonment: None,
            max_occupancy: None,
        };
        t.validate()?;
        Ok(t)
    }

    /// "At most `max_abandonment` of arrivals abandon", with no service-level goal.
    ///
    /// # Errors
    /// As [`PatienceTarget::validate`].
    pub fn abandoning_at_most(max_abandonment: f64) -> Result<Self> {
        let t = PatienceTarget {
            threshold: 0.0,
            service_level: None,
            max_abandonment: Some(max_abandonment),
            max_occupancy: None,
        };
        t.validate()?;
        Ok(t)
    }

    /// The same target with abandonment capped at `max_abandonment`.
    ///
    /// # Errors
    /// As [`PatienceTarget::validate`].
    pub fn with_max_abandonment(self, max_abandonment: f64) -> Result<Self> {
        let t = PatienceTarget {
            max_abandonment: Some(max_abandonment),
            ..self
        };
        t.validate()?;
        Ok(t)
    }

    /// The same target with occupancy capped at `max_occupancy`.
    ///
    /// # Errors
    /// As [`PatienceTarget::validate`].
    pub fn with_max_occupancy(self, max_occupancy: f64) -> Result<Self> {
        let t = PatienceTarget {
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
    /// infinite), `service_level` (not strictly between 0 and 1: a share of
    /// 1 is out of reach while anyone can abandon), `max_abandonment` or
    /// `max_occupancy` (not in (0, 1]); [`StaffingError::EmptyTarget`] when
    /// no goal is set.
    pub fn validate(&self) -> Result<()> {
        finite_non_negative("threshold", self.threshold)?;
        if let Some(sl) = self.service_level {
            open_probability("service_level", sl)?;
        }
        for (field, cap) in [
            ("max_abandonment", self.max_abandonment),
            ("max_occupancy", self.max_occupancy),
        ] {
            if let Some(cap) = cap {
                if !(cap > 0.0 && cap <= 1.0) {
                    return Err(StaffingError::InvalidParameter {
                        field,
                        value: cap,
                        expected: "in (0, 1]",
                    });
                }
            }
        }
        if self.service_level.is_none()
            && self.max_abandonment.is_none()
            && self.max_occupancy.is_none()
        {
            return Err(StaffingError::EmptyTarget);
        }
        Ok(())
    }

    /// Whether `team` meets every goal. A tail that does not converge
    /// (heavy overload with long patience) counts as not meeting it.
    fn is_met_by(&self, team: &ErlangA) -> Result<bool> {
        if self.max_occupancy.is_some_and(|cap| team.occupancy() > cap) {
            return Ok(false);
        }
        if self
            .max_abandonment
            .is_some_and(|p| team.probability_of_abandonment() > p)
        {
            return Ok(false);
        }
        if let Some(goal) = self.service_level {
            match team.service_level(self.threshold) {
                Ok(sl) => return Ok(sl >= goal),
                Err(StaffingError::NoConvergence { .. }) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// The Erlang C goal read with impatient customers: the same threshold,
/// share and occupancy cap, no abandonment goal.
impl From<ServiceTarget> for PatienceTarget {
    fn from(t: ServiceTarget) -> Self {
        PatienceTarget {
            threshold: t.threshold,
            service_level: Some(t.service_level),
            max_abandonment: None,
            max_occupancy: t.max_occupancy,
        }
    }
}

/// The smallest team that meets `target` for `workload` when customers
/// abandon after an exponential patience of mean `mean_patience` (Erlang A,
/// M/M/n+M): what [`operators_needed`](super::operators_needed) is for Erlang C.
///
/// Unlike Erlang C every team size is stable (the excess abandons), so the
/// answer can be below the offered load. The search starts above what no
/// team can beat (served load is below `n`, so `1 − P(abandon) < n / A` and
/// the service level is below that too), doubles its step until a team
/// qualifies, then bisects: O(log n) evaluations of O(n) each. Bisection is
/// exact because every goal is monotone in `n`: the service level rises,
/// abandonment and occupancy fall. A team size whose waiting tail does not
/// converge ([`StaffingError::NoConvergence`], heavy overload with long
/// patience) counts as not meeting the target. With no arrivals one
/// operator meets any target.
///
/// Returns the [`ErlangA`] of the chosen team so its measures can be read.
///
/// # Errors
/// [`StaffingError::InvalidParameter`] for a bad workload, `mean_patience`
/// or target; [`StaffingError::EmptyTarget`];
/// [`StaffingError::TooManyOperators`] when no team up to
/// [`MAX_OPERATORS`] meets the target.
///
/// # Example
/// ```
/// use switchboard::staffing::{PatienceTarget, Workload, operators_needed_with_patience};
/// // 100 contacts per 30 min, 3-minute handle time, mean patience 2 minutes:
/// // 80 % of all arrivals answered within 20 s, at most 3 % abandoning.
/// let w = Workload::per_interval(100.0, 1800.0, 180.0)?;
/// let target = PatienceTarget::answered_within(20.0, 0.8)?.with_max_abandonment(0.03)?;
/// let team = operators_needed_with_patience(w, 120.0, target)?;
/// assert!(team.service_level(20.0)? >= 0.8 && team.probability_of_abandonment() <= 0.03);
/// # Ok::<(), switchboard::staffing::StaffingError>(())
/// ```
pub fn operators_needed_with_patience(
    workload: Workload,
    mean_patience: f64,
    target: PatienceTarget,
) -> Result<ErlangA> {
    workload.validate()?;
    abandon_rate(mean_patience)?;
    target.validate()?;
    let a = workload.offered_load();
    // No team of `bound` or fewer qualifies: served load < n caps both the
    // answered share and 1 − P(abandon) at n / A.
    let mut bound = 0.0_f64;
    if let Some(p) = target.max_abandonment {
        bound = bound.max(a * (1.0 - p));
    }
    if let Some(sl) = target.service_level {
        bound = bound.max(a * sl);
    }
    // A hair below, so rounding never rules out a team that qualifies.
    let bound = (bound * (1.0 - 1e-9)).floor();
    if bound >= f64::from(MAX_OPERATORS) {
        return Err(StaffingError::TooManyOperators {
            operators: bound as u64 + 1,
            max: MAX_OPERATORS,
        });
    }
    let evaluate = |n: u32| -> Result<Option<ErlangA>> {
        let team = match ErlangA::new(workload, n, mean_patience) {
            Ok(team) => team,
            Err(StaffingError::NoConvergence { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(target.is_met_by(&team)?.then_some(team))
    };
    // `low` fails (0: no team checked), `high` is the next candidate.
    let mut low = bound as u32;
    let mut step = 1u32;
    let mut found = loop {
        let high = low.saturating_add(step).min(MAX_OPERATORS);
        if let Some(team) = evaluate(high)? {
            break team;
        }
        if high == MAX_OPERATORS {
            return Err(StaffingError::TooManyOperators {
                operators: u64::from(MAX_OPERATORS) + 1,
                max: MAX_OPERATORS,
            });
        }
        low = high;
        step = step.saturating_mul(2);
    };
    while found.operators() - low > 1 {
        let mid = low + (found.operators() - low) / 2;
        match evaluate(mid)? {
            Some(team) => found = team,
            None => low = mid,
        }
    }
    Ok(found)
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
