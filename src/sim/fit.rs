//! Fitting a scenario from records: the estimators that turn what happened
//! ([`ConversationRecord`]s from the engine, the CSV interchange or the
//! Anonymous Bank files) into the inputs a [`Scenario`] needs.
//!
//! * **Arrival rates** per weekday and interval of the day
//!   ([`fit_arrivals`]): asks counted per cell, divided by the number of such
//!   weekdays in the observed span and by the interval's length. A cell with
//!   fewer asks than asked for is never filled in silently: its own estimate
//!   is [`Fitted::TooFew`], and the [`RateFallback`] the caller chose (and
//!   the [`RateSource`] actually used) is kept in the report.
//! * **Handle time** per channel and tier, and pooled ([`fit_durations`]):
//!   exponential and log-normal maximum-likelihood fits, each with its
//!   Kolmogorov–Smirnov statistic and AIC, the better one chosen by
//!   [`Criterion`].
//! * **Patience** from censored waits ([`fit_patience`]): abandoners' waits
//!   are observed patience, answered customers' waits are right-censored
//!   (they would have waited at least that long). Kaplan–Meier survival
//!   curve, median and restricted mean, the exponential MLE under censoring
//!   `θ = abandons / total waiting time` (Erlang A's abandonment rate), and
//!   the naive mean of abandoners' waits for comparison (biased low: it only
//!   sees the impatient).
//! * **Messages**: share of arrivals leaving a message, per channel.
//!
//! [`fit_records`] runs them all into a [`FitReport`], and
//! [`FitReport::to_scenario`] fills a base scenario with the result.
//!
//! # Weekdays and the scenario
//!
//! A scenario's arrivals are one daily profile, so the report keeps the rates
//! per weekday and [`FitOptions::profile_day`] picks the profile the scenario
//! gets: one weekday, or all observed days pooled (the default).
//!
//! # Time
//!
//! Timestamps are Unix-epoch milliseconds read as UTC (the bank reader
//! stores local clock time as UTC, so its days are the call center's days).
//! Days run from the first ask's day to the last ask's day, inclusive, and a
//! weekday counts as observed on every one of them, with or without asks: a
//! closed Saturday is a Saturday with no calls, not a missing one.
//!
//! # Example
//!
//! ```
//! use switchboard::record::ConversationRecord;
//! use switchboard::sim::fit::{FitOptions, Fitted, fit_records};
//! use switchboard::{ChannelId, ConversationId, TierId, Timestamp};
//!
//! // Three calls on Monday 1999-01-04 around 10:00: two answered, one abandoned.
//! let day = 10_595 * 86_400_000; // 1999-01-04, a Monday
//! let ask = |i: u64, at_s: u64| {
//!     ConversationRecord::new(ConversationId(i), ChannelId(0), TierId(1), Timestamp(day + at_s * 1000))
//! };
//! let mut a = ask(1, 36_000);
//! a.assigned_at = Some(Timestamp(a.asked_at.0 + 20_000));
//! a.resolved_at = Some(Timestamp(a.asked_at.0 + 200_000));
//! let mut b = ask(2, 36_600);
//! b.assigned_at = Some(Timestamp(b.asked_at.0 + 5_000));
//! b.resolved_at = Some(Timestamp(b.asked_at.0 + 125_000));
//! let mut c = ask(3, 37_000);
//! c.abandoned_at = Some(Timestamp(c.asked_at.0 + 30_000));
//!
//! let options = FitOptions { min_asks: 1, min_handle_times: 2, min_waits: 3, ..FitOptions::default() };
//! let report = fit_records(&[a, b, c], &options)?;
//! let ten = report.arrivals.pooled.iter().find(|r| r.start_minute == 600).unwrap();
//! assert_eq!((ten.asks, ten.per_hour), (3, Some(3.0)));
//! let Fitted::Fit(patience) = &report.patience else { panic!("enough waits") };
//! // One abandon in 20 + 5 + 30 s of waiting: θ = 1/55 per second.
//! assert!((patience.theta_per_sec.unwrap() - 1.0 / 55.0).abs() < 1e-12);
//! assert_eq!(patience.naive_mean_secs, Some(30.0));
//! # Ok::<(), switchboard::sim::fit::FitError>(())
//! ```

use std::collections::BTreeMap;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::dist::DurationDist;
use super::recorded::{self, RecordedWait};
use super::scenario::{RatePiece, Scenario, Weighted};
use crate::ids::{ChannelId, ConversationId, TierId};
use crate::kpi::Weekday;
use crate::record::ConversationRecord;

/// Minutes in a day; an interval length must divide it.
pub const MINUTES_PER_DAY: u32 = 1440;
const MS_PER_DAY: u64 = 86_400_000;

/// Why records or options cannot be fitted, naming what was wrong.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum FitError {
    /// No records at all.
    #[error("no records to fit")]
    Empty,
    /// `interval_minutes` is 0 or does not divide a day (1440 minutes).
    #[error("interval_minutes must be > 0 and divide 1440 (a day), got {0}")]
    IntervalMinutes(u32),
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
    /// [`FitReport::to_scenario`]: an interval of the chosen profile has no rate.
    #[error(
        "arrivals for {day}: the interval from minute {start_minute} has no rate ({asks} asks, fallback {fallback})"
    )]
    NoRate {
        /// The profile ("all days", "Monday"…).
        day: String,
        /// The interval's first minute of the day.
        start_minute: u32,
        /// Asks seen in it.
        asks: u64,
        /// The fallback that was chosen.
        fallback: &'static str,
    },
    /// [`FitReport::to_scenario`]: an estimate the scenario needs had too few records.
    #[error("{what}: too few records to fit ({n} < {needed})")]
    TooFew {
        /// Which estimate (`handle_time`, `patience`).
        what: &'static str,
        /// Records available.
        n: u64,
        /// Records required ([`FitOptions`]).
        needed: u64,
    },
    /// [`FitReport::to_scenario`]: the records have a channel or tier the base
    /// scenario's policy does not declare.
    #[error("scenario field `{field}`: {what} is not declared in the base policy")]
    Undeclared {
        /// `channels` or `tiers`.
        field: &'static str,
        /// The id.
        what: String,
    },
}

/// An estimate, or why there is none: never a made-up number.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize), serde(rename_all = "snake_case"))]
pub enum Fitted<T> {
    /// Fitted from enough records.
    Fit(T),
    /// Fewer records than the options ask for.
    TooFew {
        /// Records available.
        n: u64,
        /// Records required.
        needed: u64,
    },
}

impl<T> Fitted<T> {
    /// The estimate, if there is one.
    pub fn fit(&self) -> Option<&T> {
        match self {
            Fitted::Fit(t) => Some(t),
            Fitted::TooFew { .. } => None,
        }
    }
}

/// What an interval with too few asks of its own gets instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum RateFallback {
    /// The same interval pooled over every observed day, whatever the
    /// weekday (used even if it too is short, then marked
    /// [`RateSource::PooledBelowMinimum`]).
    #[default]
    PooledOverWeekdays,
    /// The interval's own count, below the minimum (marked).
    OwnBelowMinimum,
    /// No rate: the interval is left empty and
    /// [`FitReport::to_scenario`] refuses a profile containing it.
    None,
}

impl RateFallback {
    /// A stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RateFallback::PooledOverWeekdays => "pooled_over_weekdays",
            RateFallback::OwnBelowMinimum => "own_below_minimum",
            RateFallback::None => "none",
        }
    }
}

/// Where an interval's rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize), serde(rename_all = "snake_case"))]
pub enum RateSource {
    /// Its own asks, at least the minimum.
    Own,
    /// Fallback: the same interval over all days, which has the minimum.
    PooledOverWeekdays,
    /// Fallback: the same interval over all days, below the minimum too.
    PooledBelowMinimum,
    /// Fallback: its own asks, below the minimum.
    OwnBelowMinimum,
    /// No rate ([`RateFallback::None`], or no day observed).
    None,
}

impl RateSource {
    /// A stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RateSource::Own => "own",
            RateSource::PooledOverWeekdays => "pooled_over_weekdays",
            RateSource::PooledBelowMinimum => "pooled_below_minimum",
            RateSource::OwnBelowMinimum => "own_below_minimum",
            RateSource::None => "none",
        }
    }
}

/// Which daily profile [`FitReport::to_scenario`] writes into the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum ProfileDay {
    /// Every observed day pooled: the average day.
    #[default]
    AllDays,
    /// One weekday's rates (with their fallbacks).
    Weekday(Weekday),
}

impl ProfileDay {
    fn label(self) -> String {
        match self {
            ProfileDay::AllDays => "all days".to_owned(),
            ProfileDay::Weekday(w) => format!("{w:?}"),
        }
    }
}

/// How the handle-time family is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Criterion {
    /// Lower Akaike information criterion: the likelihood the MLEs maximise,
    /// penalised by the parameter count (1 and 2).
    #[default]
    Aic,
    /// Lower Kolmogorov–Smirnov statistic: the largest gap between the
    /// fitted and the empirical distribution function.
    Ks,
}

/// What to fit and how much data an estimate needs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(default, deny_unknown_fields)
)]
pub struct FitOptions {
    /// Interval length in minutes; must divide 1440. Default 60.
    pub interval_minutes: u32,
    /// Asks an interval needs for its own rate. Default 10.
    pub min_asks: u64,
    /// What a short interval gets instead. Default: pooled over weekdays.
    pub rate_fallback: RateFallback,
    /// Positive handle times a (channel, tier) needs for a fit. Default 30.
    pub min_handle_times: u64,
    /// Waits (abandoned or censored) patience needs. Default 30.
    pub min_waits: u64,
    /// How the handle-time family is chosen. Default: AIC.
    pub select_by: Criterion,
    /// The daily profile the scenario gets. Default: all days.
    pub profile_day: ProfileDay,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            interval_minutes: 60,
            min_asks: 10,
            rate_fallback: RateFallback::default(),
            min_handle_times: 30,
            min_waits: 30,
            select_by: Criterion::default(),
            profile_day: ProfileDay::default(),
        }
    }
}

// ---------------------------------------------------------------------------
// Arrivals

/// The arrival rate of one interval of the day, for one weekday or all days.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct IntervalRate {
    /// The weekday; `None` for all days pooled.
    pub weekday: Option<Weekday>,
    /// The interval's first minute of the day.
    pub start_minute: u32,
    /// Days of this weekday (or all days) in the observed span.
    pub days: u64,
    /// Asks counted in the interval on those days.
    pub asks: u64,
    /// Its own estimate, per hour, or too few asks.
    pub own: Fitted<f64>,
    /// The rate used, per hour: `own`, or the fallback's.
    pub per_hour: Option<f64>,
    /// Where `per_hour` came from.
    pub source: RateSource,
}

/// Arrival rates per weekday and interval, and pooled over all days.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct ArrivalFit {
    /// Interval length, minutes.
    pub interval_minutes: u32,
    /// First observed day, days since 1970-01-01.
    pub first_day: u64,
    /// Observed days (first to last ask's day, inclusive).
    pub days: u64,
    /// Observed days per weekday, Monday first.
    pub days_by_weekday: [u64; 7],
    /// The fallback the caller chose.
    pub fallback: RateFallback,
    /// Weekday-major (Monday first), then interval of the day.
    pub by_weekday: Vec<IntervalRate>,
    /// Each interval over all days.
    pub pooled: Vec<IntervalRate>,
}

impl ArrivalFit {
    /// The intervals of one daily profile, in order of the day.
    pub fn profile(&self, day: ProfileDay) -> &[IntervalRate] {
        match day {
            ProfileDay::AllDays => &self.pooled,
            ProfileDay::Weekday(w) => {
                let per_day = self.pooled.len();
                let start = usize::from(w.index()) * per_day;
                self.by_weekday
                    .get(start..start + per_day)
                    .unwrap_or_default()
            }
        }
    }
}

fn weekday_of(day: u64) -> Weekday {
    // 1970-01-01 was a Thursday (index 3).
    Weekday::from_index(((day + 3) % 7) as u8).unwrap_or(Weekday::Monday)
}

fn check_interval(interval_minutes: u32) -> Result<(), FitError> {
    if interval_minutes == 0 || MINUTES_PER_DAY % interval_minutes != 0 {
        return Err(FitError::IntervalMinutes(interval_minutes));
    }
    Ok(())
}

/// Arrival rates per (weekday, interval of the day) and per interval over all
/// days, with `fallback` for cells with fewer than `min_asks` asks.
///
/// # Errors
/// [`FitError::Empty`], [`FitError::IntervalMinutes`].
pub fn fit_arrivals(
    records: &[ConversationRecord],
    interval_minutes: u32,
    min_asks: u64,
    fallback: RateFallback,
) -> Result<ArrivalFit, FitError> {
    check_interval(interval_minutes)?;
    let (Some(first), Some(last)) = (
        records.iter().map(|r| r.asked_at.0 / MS_PER_DAY).min(),
        records.iter().map(|r| r.asked_at.0 / MS_PER_DAY).max(),
    ) else {
        return Err(FitError::Empty);
    };
    let per_day = (MINUTES_PER_DAY / interval_minutes) as usize;
    let interval_ms = u64::from(interval_minutes) * 60_000;
    let hours = f64::from(interval_minutes) / 60.0;

    // Days per weekday in [first, last], without walking the span.
    let days = last - first + 1;
    let mut days_by_weekday = [days / 7; 7];
    for k in 0..days % 7 {
        days_by_weekday[usize::from(weekday_of(first + k).index())] += 1;
    }

    let mut counts = vec![0u64; 7 * per_day];
    let mut pooled_counts = vec![0u64; per_day];
    for r in records {
        let w = usize::from(weekday_of(r.asked_at.0 / MS_PER_DAY).index());
        let i = ((r.asked_at.0 % MS_PER_DAY) / interval_ms) as usize;
        if let Some(c) = counts.get_mut(w * per_day + i) {
            *c += 1;
        }
        if let Some(c) = pooled_counts.get_mut(i) {
            *c += 1;
        }
    }

    // A weekday outside a span shorter than a week has no day to divide by:
    // too few, whatever the minimum.
    let own = |asks: u64, days: u64| {
        if days > 0 && asks >= min_asks {
            Fitted::Fit(asks as f64 / (days as f64 * hours))
        } else {
            Fitted::TooFew {
                n: asks,
                needed: min_asks.max(1),
            }
        }
    };
    let raw = |asks: u64, days: u64| (days > 0).then(|| asks as f64 / (days as f64 * hours));

    let pooled: Vec<IntervalRate> = pooled_counts
        .iter()
        .enumerate()
        .map(|(i, &asks)| {
            let fit = own(asks, days);
            let (per_hour, source) = match (&fit, fallback) {
                (Fitted::Fit(v), _) => (Some(*v), RateSource::Own),
                (Fitted::TooFew { .. }, RateFallback::None) => (None, RateSource::None),
                (Fitted::TooFew { .. }, RateFallback::PooledOverWeekdays) => {
                    (raw(asks, days), RateSource::PooledBelowMinimum)
                }
                (Fitted::TooFew { .. }, RateFallback::OwnBelowMinimum) => {
                    (raw(asks, days), RateSource::OwnBelowMinimum)
                }
            };
            IntervalRate {
                weekday: None,
                start_minute: i as u32 * interval_minutes,
                days,
                asks,
                own: fit,
                per_hour,
                source,
            }
        })
        .collect();

    let mut by_weekday = Vec::with_capacity(7 * per_day);
    for (w, &wdays) in days_by_weekday.iter().enumerate() {
        for (i, p) in pooled.iter().enumerate() {
            let asks = counts.get(w * per_day + i).copied().unwrap_or(0);
            let fit = own(asks, wdays);
            let (per_hour, source) = match (&fit, fallback) {
                (Fitted::Fit(v), _) => (Some(*v), RateSource::Own),
                (Fitted::TooFew { .. }, RateFallback::None) => (None, RateSource::None),
                (Fitted::TooFew { .. }, RateFallback::PooledOverWeekdays) => match p.own {
                    Fitted::Fit(v) => (Some(v), RateSource::PooledOverWeekdays),
                    Fitted::TooFew { .. } => (raw(p.asks, days), RateSource::PooledBelowMinimum),
                },
                (Fitted::TooFew { .. }, RateFallback::OwnBelowMinimum) => match raw(asks, wdays) {
                    Some(v) => (Some(v), RateSource::OwnBelowMinimum),
                    None => (None, RateSource::None),
                },
            };
            by_weekday.push(IntervalRate {
                weekday: Weekday::from_index(w as u8),
                start_minute: p.start_minute,
                days: wdays,
                asks,
                own: fit,
                per_hour,
                source,
            });
        }
    }

    Ok(ArrivalFit {
        interval_minutes,
        first_day: first,
        days,
        days_by_weekday,
        fallback,
        by_weekday,
        pooled,
    })
}

// ---------------------------------------------------------------------------
// Durations

/// Exponential maximum-likelihood fit (the mean of the sample).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct ExponentialFit {
    /// Mean, seconds.
    pub mean_secs: f64,
    /// Log-likelihood at the MLE (durations in seconds).
    pub log_likelihood: f64,
    /// `2·1 − 2·log_likelihood`.
    pub aic: f64,
    /// Kolmogorov–Smirnov statistic against the sample.
    pub ks: f64,
}

/// Log-normal maximum-likelihood fit: `mu`, `sigma` the mean and (1/n)
/// standard deviation of `ln x`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct LogNormalFit {
    /// Mean of `ln x` (x in seconds).
    pub mu: f64,
    /// Standard deviation of `ln x`.
    pub sigma: f64,
    /// Mean of the fitted distribution, `exp(mu + sigma²/2)`, seconds.
    pub mean_secs: f64,
    /// Its coefficient of variation, `sqrt(exp(sigma²) − 1)`.
    pub cv: f64,
    /// Log-likelihood at the MLE (durations in seconds; −∞… +∞ when all
    /// durations are equal).
    pub log_likelihood: f64,
    /// `2·2 − 2·log_likelihood`.
    pub aic: f64,
    /// Kolmogorov–Smirnov statistic against the sample.
    pub ks: f64,
}

/// The family a duration fit chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize), serde(rename_all = "snake_case"))]
pub enum Family {
    /// [`ExponentialFit`].
    Exponential,
    /// [`LogNormalFit`].
    LogNormal,
}

/// Both fits of a duration sample and the one chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct DurationFit {
    /// Durations fitted.
    pub n: u64,
    /// Their mean, seconds.
    pub sample_mean_secs: f64,
    /// The exponential fit.
    pub exponential: ExponentialFit,
    /// The log-normal fit.
    pub log_normal: LogNormalFit,
    /// The better one by the criterion (exponential on a tie).
    pub chosen: Family,
    /// The chosen fit as a scenario distribution.
    pub dist: DurationDist,
}

/// `1 − erf`, Chebyshev fit of Numerical Recipes (`erfcc`): fractional error
/// below 1.2e−7 everywhere, ample for a KS distance.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// KS statistic of a sorted sample against `cdf`: the largest of
/// `F(x_i) − (i−1)/n` and `i/n − F(x_i)` (right for tied values too).
fn ks_statistic(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(x);
        d = d.max(f - i as f64 / n).max((i + 1) as f64 / n - f);
    }
    d
}

/// Fits exponential and log-normal distributions to durations in seconds
/// and picks the better by `select_by`. Durations that are not finite and
/// positive are not used (`ln 0` has no log-normal likelihood; callers count
/// them). Fewer than `min` usable durations (or none) is [`Fitted::TooFew`].
///
/// # Example
/// ```
/// use switchboard::sim::fit::{Criterion, Family, fit_durations};
/// let fit = fit_durations(&[60.0, 120.0, 90.0, 300.0], Criterion::Aic, 2);
/// let fit = fit.fit().unwrap();
/// assert_eq!(fit.exponential.mean_secs, 142.5);
/// assert!(matches!(fit.chosen, Family::Exponential | Family::LogNormal));
/// ```
pub fn fit_durations(samples: &[f64], select_by: Criterion, min: u64) -> Fitted<DurationFit> {
    let mut x: Vec<f64> = samples
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let n_u = x.len() as u64;
    if x.is_empty() || n_u < min {
        return Fitted::TooFew {
            n: n_u,
            needed: min.max(1),
        };
    }
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;

    let exp_ll = -n * mean.ln() - n;
    let exponential = ExponentialFit {
        mean_secs: mean,
        log_likelihood: exp_ll,
        aic: 2.0 - 2.0 * exp_ll,
        ks: ks_statistic(&x, |v| -(-v / mean).exp_m1()),
    };

    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let sum_log = logs.iter().sum::<f64>();
    let mu = sum_log / n;
    let var = logs.iter().map(|l| (l - mu) * (l - mu)).sum::<f64>() / n;
    let sigma = var.sqrt();
    let ln_ll = if sigma > 0.0 {
        -sum_log - n * sigma.ln() - n / 2.0 * (2.0 * std::f64::consts::PI).ln() - n / 2.0
    } else {
        f64::INFINITY
    };
    let ln_ks = ks_statistic(&x, |v| {
        if sigma > 0.0 {
            normal_cdf((v.ln() - mu) / sigma)
        } else if v.ln() < mu {
            0.0
        } else {
            1.0
        }
    });
    let log_normal = LogNormalFit {
        mu,
        sigma,
        mean_secs: (mu + var / 2.0).exp(),
        cv: var.exp_m1().sqrt(),
        log_likelihood: ln_ll,
        aic: 4.0 - 2.0 * ln_ll,
        ks: ln_ks,
    };

    let log_normal_better = match select_by {
        Criterion::Aic => log_normal.aic < exponential.aic,
        Criterion::Ks => log_normal.ks < exponential.ks,
    };
    let (chosen, dist) = if log_normal_better {
        (
            Family::LogNormal,
            DurationDist::LogNormal {
                mean_secs: log_normal.mean_secs,
                cv: log_normal.cv,
            },
        )
    } else {
        (
            Family::Exponential,
            DurationDist::Exponential { mean_secs: mean },
        )
    };
    Fitted::Fit(DurationFit {
        n: n_u,
        sample_mean_secs: mean,
        exponential,
        log_normal,
        chosen,
        dist,
    })
}

/// Handle time of one (channel, tier).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct HandleTimeGroup {
    /// The channel.
    pub channel: ChannelId,
    /// The tier.
    pub tier: TierId,
    /// Records with both an assignment and a resolution.
    pub served: u64,
    /// Of them, resolved at the assignment's millisecond (not fitted).
    pub zero: u64,
    /// The fit.
    pub fit: Fitted<DurationFit>,
}

// ---------------------------------------------------------------------------
// Patience

/// One customer's wait: how long, and whether it ended because the customer
/// left (an observed patience) or not (censored: patience at least this).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct Wait {
    /// Seconds waited.
    pub secs: f64,
    /// `true`: the customer left (abandoned or left a message).
    pub left: bool,
}

/// One step of a Kaplan–Meier curve: at `at_secs` the survival drops to
/// `survival` and stays there until the next step.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct SurvivalStep {
    /// A distinct observed wait, seconds.
    pub at_secs: f64,
    /// Waits of at least this length (still at risk just before it).
    pub at_risk: u64,
    /// Customers who left at exactly this wait.
    pub events: u64,
    /// Waits censored at exactly this length.
    pub censored: u64,
    /// `S(t)` from this time on: P(patience > t).
    pub survival: f64,
}

/// The Kaplan–Meier product-limit estimator of `P(patience > t)`.
///
/// `S(t) = Π_{t_j ≤ t} (1 − d_j / n_j)` over distinct wait lengths `t_j`,
/// with `d_j` customers leaving at `t_j` and `n_j` waits of length `≥ t_j`.
/// **Ties**: at the same length, leaving comes before censoring, so a
/// customer censored at `t_j` is still at risk at `t_j` (the usual
/// convention: a censored wait says the customer would have stayed at least
/// that long). Every distinct length is a step, censor-only ones included
/// (their survival is unchanged). Waits that are negative or not finite are
/// not used.
pub fn kaplan_meier(waits: &[Wait]) -> Vec<SurvivalStep> {
    let mut w: Vec<Wait> = waits
        .iter()
        .copied()
        .filter(|w| w.secs.is_finite() && w.secs >= 0.0)
        .collect();
    w.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    let mut at_risk = w.len() as u64;
    let mut survival = 1.0;
    let mut steps = Vec::new();
    let mut i = 0;
    while let Some(first) = w.get(i) {
        let t = first.secs;
        let (mut events, mut censored) = (0u64, 0u64);
        while let Some(x) = w.get(i).filter(|x| x.secs == t) {
            if x.left {
                events += 1;
            } else {
                censored += 1;
            }
            i += 1;
        }
        if events > 0 {
            survival *= 1.0 - events as f64 / at_risk as f64;
        }
        steps.push(SurvivalStep {
            at_secs: t,
            at_risk,
            events,
            censored,
            survival,
        });
        at_risk -= events + censored;
    }
    steps
}

/// Patience estimates from a set of waits.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct PatienceFit {
    /// Waits used.
    pub waits: u64,
    /// Of them, customers who left (observed patience).
    pub left: u64,
    /// Of them, censored (served or closed before leaving).
    pub censored: u64,
    /// The Kaplan–Meier curve ([`kaplan_meier`]).
    pub curve: Vec<SurvivalStep>,
    /// First wait at which the curve is at or below 0.5; `None` if it never
    /// gets there (too few leave for a median).
    pub median_secs: Option<f64>,
    /// `∫₀^horizon S(t) dt`: the mean patience restricted to the longest
    /// wait seen (a lower bound of the mean when the curve ends above 0).
    pub restricted_mean_secs: f64,
    /// The longest wait seen, seconds.
    pub horizon_secs: f64,
    /// Exponential MLE under censoring: leavers ÷ total seconds waited (Erlang
    /// A's θ); `None` when no time was waited at all.
    pub theta_per_sec: Option<f64>,
    /// `1/θ`, seconds; `None` when nobody left.
    pub exponential_mean_secs: Option<f64>,
    /// The naive estimate: mean wait of those who left (ignores the
    /// censored, so biased low); `None` when nobody left.
    pub naive_mean_secs: Option<f64>,
}

/// Kaplan–Meier, the censored exponential MLE and the naive mean from
/// `waits`; fewer than `min` usable waits (or none) is [`Fitted::TooFew`].
pub fn fit_patience(waits: &[Wait], min: u64) -> Fitted<PatienceFit> {
    let used: Vec<Wait> = waits
        .iter()
        .copied()
        .filter(|w| w.secs.is_finite() && w.secs >= 0.0)
        .collect();
    let n = used.len() as u64;
    if used.is_empty() || n < min {
        return Fitted::TooFew {
            n,
            needed: min.max(1),
        };
    }
    let curve = kaplan_meier(&used);
    let left = used.iter().filter(|w| w.left).count() as u64;
    let total: f64 = used.iter().map(|w| w.secs).sum();
    let left_total: f64 = used.iter().filter(|w| w.left).map(|w| w.secs).sum();
    let median_secs = curve.iter().find(|s| s.survival <= 0.5).map(|s| s.at_secs);
    let (mut area, mut prev_t, mut prev_s) = (0.0, 0.0, 1.0);
    for s in &curve {
        area += prev_s * (s.at_secs - prev_t);
        prev_t = s.at_secs;
        prev_s = s.survival;
    }
    Fitted::Fit(PatienceFit {
        waits: n,
        left,
        censored: n - left,
        median_secs,
        restricted_mean_secs: area,
        horizon_secs: prev_t,
        theta_per_sec: (total > 0.0).then(|| left as f64 / total),
        exponential_mean_secs: (left > 0).then(|| total / left as f64),
        naive_mean_secs: (left > 0).then(|| left_total / left as f64),
        curve,
    })
}

// ---------------------------------------------------------------------------
// Messages, mixes, the report

/// Messages left on one channel (or all, `channel` `None`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct MessageShare {
    /// The channel; `None` for all channels.
    pub channel: Option<ChannelId>,
    /// Asks.
    pub arrivals: u64,
    /// Of them, messages left.
    pub messages: u64,
    /// Of them, abandoned (left without a message).
    pub abandoned: u64,
    /// `messages / arrivals`.
    pub share_of_arrivals: f64,
    /// `messages / (messages + abandoned)`: of those who ran out of patience,
    /// the share leaving a message, which is what
    /// [`Scenario::leave_message_share`] means; `None` when nobody left.
    pub share_of_leavers: Option<f64>,
}

impl MessageShare {
    fn new(channel: Option<ChannelId>, arrivals: u64, messages: u64, abandoned: u64) -> Self {
        let leavers = messages + abandoned;
        MessageShare {
            channel,
            arrivals,
            messages,
            abandoned,
            share_of_arrivals: if arrivals > 0 {
                messages as f64 / arrivals as f64
            } else {
                0.0
            },
            share_of_leavers: (leavers > 0).then(|| messages as f64 / leavers as f64),
        }
    }
}

/// Records left out of an estimate, by reason (every record counts as an
/// arrival; these are the ones an estimate could not use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct Skipped {
    /// Handle time: never assigned (not served).
    pub handle_unassigned: u64,
    /// Handle time: assigned, never resolved.
    pub handle_unresolved: u64,
    /// Handle time: resolved at the assignment's millisecond (`ln 0`).
    pub handle_zero: u64,
    /// Patience: still waiting (no assignment, leave or resolution).
    pub wait_pending: u64,
    /// Patience: a message left with no `abandoned_at` (when it was left).
    pub wait_message_without_time: u64,
}

/// Everything fitted from a set of records.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct FitReport {
    /// Records read.
    pub records: u64,
    /// The options used.
    pub options: FitOptions,
    /// Arrival rates.
    pub arrivals: ArrivalFit,
    /// Handle time over all served records (what the scenario gets).
    pub handle_time: Fitted<DurationFit>,
    /// Handle time per (channel, tier), in id order.
    pub handle_time_by_key: Vec<HandleTimeGroup>,
    /// Patience over all waits (what the scenario gets).
    pub patience: Fitted<PatienceFit>,
    /// Messages per channel, in id order.
    pub messages_by_channel: Vec<MessageShare>,
    /// Messages over all channels.
    pub messages: MessageShare,
    /// Channel mix of the asks, in id order.
    pub channels: Vec<Weighted<ChannelId>>,
    /// Tier mix of the asks, in id order.
    pub tiers: Vec<Weighted<TierId>>,
    /// Records an estimate could not use, by reason.
    pub skipped: Skipped,
}

fn check_order(index: usize, r: &ConversationRecord) -> Result<(), FitError> {
    match recorded::out_of_order(r) {
        Some((field, before)) => Err(FitError::OutOfOrder {
            index,
            conversation: r.conversation,
            field,
            before,
        }),
        None => Ok(()),
    }
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// The customer's wait, if the record ends one (see [`recorded::wait_of`]).
/// `Err` says why there is none: `true` for a message left without its
/// time, `false` for a record still pending.
fn wait_of(r: &ConversationRecord) -> Result<Wait, bool> {
    match recorded::wait_of(r) {
        RecordedWait::Left(m) => Ok(Wait {
            secs: secs(m.0),
            left: true,
        }),
        RecordedWait::Censored(m) => Ok(Wait {
            secs: secs(m.0),
            left: false,
        }),
        RecordedWait::Unknown => Err(r.message_left),
    }
}

fn mix<K: Ord + Copy>(counts: &BTreeMap<K, u64>, total: u64) -> Vec<Weighted<K>> {
    counts
        .iter()
        .map(|(&value, &c)| Weighted {
            value,
            p: c as f64 / total as f64,
        })
        .collect()
}

/// Fits everything from `records`: arrivals, handle times, patience,
/// messages and the channel and tier mixes. Every record is an arrival; for
/// handle time and patience each record is either used or counted in
/// [`FitReport::skipped`] under its reason.
///
/// # Example
/// ```
/// use switchboard::record::ConversationRecord;
/// use switchboard::sim::fit::{FitOptions, fit_records};
/// use switchboard::sim::scenario::Scenario;
/// use switchboard::{ChannelId, ConversationId, TierId, Timestamp};
///
/// // One call a minute for a day; every third hangs up after 40 s, the
/// // others are answered after 20 s and handled for 2 to 4 minutes.
/// let records: Vec<_> = (0..1440u64)
///     .map(|i| {
///         let at = i * 60_000;
///         let mut r = ConversationRecord::new(ConversationId(i), ChannelId(1), TierId(1), Timestamp(at));
///         if i % 3 == 0 {
///             r.abandoned_at = Some(Timestamp(at + 40_000));
///         } else {
///             r.assigned_at = Some(Timestamp(at + 20_000));
///             r.resolved_at = Some(Timestamp(at + 20_000 + 120_000 + (i % 5) * 30_000));
///         }
///         r
///     })
///     .collect();
/// let report = fit_records(&records, &FitOptions::default())?;
///
/// let base: Scenario = serde_json::from_str(include_str!("../../examples/scenarios/mm20.json")).unwrap();
/// let fitted = report.to_scenario(&base)?;
/// assert_eq!(fitted.arrivals.len(), 24);
/// assert!(fitted.arrivals.iter().all(|p| p.per_hour == 60.0));
/// // 480 hang-ups in 480·40 + 960·20 seconds of waiting: 1/θ = 80 s.
/// assert_eq!(fitted.patience.map(|p| p.mean_secs()), Some(80.0));
/// fitted.validate().unwrap();
/// # Ok::<(), switchboard::sim::fit::FitError>(())
/// ```
///
/// # Errors
/// [`FitError::Empty`], [`FitError::IntervalMinutes`], and
/// [`FitError::OutOfOrder`] for the first record whose `assigned_at`,
/// `abandoned_at` or `resolved_at` is before its `asked_at`, or whose
/// `resolved_at` is before its `assigned_at`.
pub fn fit_records(
    records: &[ConversationRecord],
    options: &FitOptions,
) -> Result<FitReport, FitError> {
    check_interval(options.interval_minutes)?;
    if records.is_empty() {
        return Err(FitError::Empty);
    }
    for (i, r) in records.iter().enumerate() {
        check_order(i, r)?;
    }
    let arrivals = fit_arrivals(
        records,
        options.interval_minutes,
        options.min_asks,
        options.rate_fallback,
    )?;

    let mut skipped = Skipped::default();
    let mut handle: BTreeMap<(ChannelId, TierId), (Vec<f64>, u64)> = BTreeMap::new();
    let mut all_handle = Vec::new();
    let mut waits = Vec::new();
    let mut channel_counts: BTreeMap<ChannelId, (u64, u64, u64)> = BTreeMap::new();
    let mut tier_counts: BTreeMap<TierId, u64> = BTreeMap::new();
    for r in records {
        let c = channel_counts.entry(r.channel).or_default();
        c.0 += 1;
        if r.message_left {
            c.1 += 1;
        } else if r.assigned_at.is_none() && r.abandoned_at.is_some() {
            c.2 += 1;
        }
        *tier_counts.entry(r.tier).or_default() += 1;

        match (r.assigned_at, r.resolved_at) {
            (None, _) => skipped.handle_unassigned += 1,
            (Some(_), None) => skipped.handle_unresolved += 1,
            (Some(a), Some(z)) => {
                let g = handle.entry((r.channel, r.tier)).or_default();
                if z == a {
                    skipped.handle_zero += 1;
                    g.1 += 1;
                } else {
                    let d = secs(z.0 - a.0);
                    g.0.push(d);
                    all_handle.push(d);
                }
            }
        }

        match wait_of(r) {
            Ok(w) => waits.push(w),
            Err(true) => skipped.wait_message_without_time += 1,
            Err(false) => skipped.wait_pending += 1,
        }
    }

    let handle_time_by_key = handle
        .into_iter()
        .map(|((channel, tier), (d, zero))| HandleTimeGroup {
            channel,
            tier,
            served: d.len() as u64 + zero,
            zero,
            fit: fit_durations(&d, options.select_by, options.min_handle_times),
        })
        .collect();
    let total = records.len() as u64;
    let (mut m, mut a) = (0, 0);
    let messages_by_channel = channel_counts
        .iter()
        .map(|(&ch, &(n, msg, ab))| {
            m += msg;
            a += ab;
            MessageShare::new(Some(ch), n, msg, ab)
        })
        .collect();
    Ok(FitReport {
        records: total,
        options: *options,
        arrivals,
        handle_time: fit_durations(&all_handle, options.select_by, options.min_handle_times),
        handle_time_by_key,
        patience: fit_patience(&waits, options.min_waits),
        messages_by_channel,
        messages: MessageShare::new(None, total, m, a),
        channels: mix(
            &channel_counts
                .iter()
                .map(|(&k, v)| (k, v.0))
                .collect::<BTreeMap<_, _>>(),
            total,
        ),
        tiers: mix(&tier_counts, total),
        skipped,
    })
}

impl FitReport {
    /// `base` with what was fitted: `arrivals` (one piece per interval of
    /// [`FitOptions::profile_day`]'s profile), `handle_time` (the pooled
    /// fit's chosen family), `patience` (exponential with mean `1/θ`, the
    /// censored MLE, as Erlang A assumes; absent when nobody left: the data
    /// show no finite patience), `leave_message_share` (of those who left,
    /// the share leaving a message; 0 when nobody left) and the `channels`
    /// and `tiers` mixes. Everything else (policy, roster, policies, hours,
    /// seed) is `base`'s.
    ///
    /// # Errors
    /// [`FitError::NoRate`] for an interval of the profile without a rate,
    /// [`FitError::TooFew`] when the pooled handle time or patience was not
    /// fitted, [`FitError::Undeclared`] for a channel or tier of the records
    /// that `base.policy` does not declare.
    pub fn to_scenario(&self, base: &Scenario) -> Result<Scenario, FitError> {
        let day = self.options.profile_day;
        let mut arrivals = Vec::new();
        for r in self.arrivals.profile(day) {
            let Some(per_hour) = r.per_hour else {
                return Err(FitError::NoRate {
                    day: day.label(),
                    start_minute: r.start_minute,
                    asks: r.asks,
                    fallback: self.arrivals.fallback.as_str(),
                });
            };
            arrivals.push(RatePiece {
                from_hour: f64::from(r.start_minute) / 60.0,
                per_hour,
            });
        }
        let handle_time = match &self.handle_time {
            Fitted::Fit(f) => f.dist,
            Fitted::TooFew { n, needed } => {
                return Err(FitError::TooFew {
                    what: "handle_time",
                    n: *n,
                    needed: *needed,
                });
            }
        };
        let patience = match &self.patience {
            Fitted::Fit(p) => p
                .exponential_mean_secs
                .map(|mean_secs| DurationDist::Exponential { mean_secs }),
            Fitted::TooFew { n, needed } => {
                return Err(FitError::TooFew {
                    what: "patience",
                    n: *n,
                    needed: *needed,
                });
            }
        };
        for c in &self.channels {
            if !base.policy.channels.iter().any(|x| x.id == c.value) {
                return Err(FitError::Undeclared {
                    field: "channels",
                    what: c.value.to_string(),
                });
            }
        }
        for t in &self.tiers {
            if !base.policy.tiers.iter().any(|x| x.id == t.value) {
                return Err(FitError::Undeclared {
                    field: "tiers",
                    what: t.value.to_string(),
                });
            }
        }
        Ok(Scenario {
            arrivals,
            handle_time,
            patience,
            leave_message_share: self.messages.share_of_leavers.unwrap_or(0.0),
            channels: self.channels.clone(),
            tiers: self.tiers.clone(),
            ..base.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((normal_cdf(1.959_963_985) - 0.975).abs() < 1e-7);
        assert!((normal_cdf(-1.0) - 0.158_655_253_9).abs() < 1e-7);
    }

    #[test]
    fn weekdays_from_the_epoch() {
        assert_eq!(weekday_of(0), Weekday::Thursday);
        assert_eq!(weekday_of(10_595), Weekday::Monday); // 1999-01-04
    }

    #[test]
    fn ks_of_a_perfect_grid_is_half_a_step() {
        // Uniform CDF on [0, 1] against the points (i − 0.5)/n: D = 1/(2n).
        let x: Vec<f64> = (0..10).map(|i| (f64::from(i) + 0.5) / 10.0).collect();
        assert!((ks_statistic(&x, |v| v) - 0.05).abs() < 1e-12);
    }
}
