//! A day's staffing: the operators each planning interval needs, by Erlang C
//! and (with a mean patience) Erlang A, side by side, with operator-hours.
//!
//! Forecasts come per hour and planners think in seconds, so a plan takes
//! arrival rates **per hour** and every duration (handle time, patience,
//! service-level threshold, waits) **in seconds**.

use core::fmt;
use core::fmt::Write as _;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::erlang_a::abandon_rate;
use super::{
    ErlangA, ErlangC, PatienceTarget, Result, ServiceTarget, StaffingError, Workload,
    finite_positive, operators_needed, operators_needed_with_patience,
};

/// Minutes in a day: a rate profile repeats with this period.
const DAY_MINUTES: f64 = 1440.0;

/// One planning interval: when it starts, how long it lasts, how many
/// contacts arrive per hour during it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Interval {
    /// Start, in minutes from midnight of the first day (may pass 1,440 for
    /// a plan that crosses midnight).
    pub start_minute: u32,
    /// Length in minutes, ≥ 1.
    pub minutes: u32,
    /// Contacts arriving per hour during the interval. Finite, ≥ 0.
    pub arrival_rate_per_hour: f64,
}

impl Interval {
    /// An interval from its three fields (checked by [`plan_day`]).
    pub const fn new(start_minute: u32, minutes: u32, arrival_rate_per_hour: f64) -> Self {
        Interval {
            start_minute,
            minutes,
            arrival_rate_per_hour,
        }
    }

    /// Where the interval ends, in minutes (one past its last minute).
    pub fn end_minute(&self) -> u64 {
        u64::from(self.start_minute) + u64::from(self.minutes)
    }

    /// Contacts expected in the interval, `rate × minutes / 60`.
    pub fn expected_contacts(&self) -> f64 {
        self.arrival_rate_per_hour * f64::from(self.minutes) / 60.0
    }

    /// Cuts an hourly rate profile into planning intervals of
    /// `interval_minutes` from `from_minute` to `to_minute` (the last one
    /// shorter if the span is not a multiple), each with the profile's
    /// **average** rate over it, so a profile step inside an interval keeps
    /// the expected number of contacts.
    ///
    /// `pieces` are `(from_hour, per_hour)` pairs read like the simulator's
    /// [`RatePiece`](crate::sim::scenario::RatePiece)s: piecewise constant,
    /// `from_hour` in `[0, 24)` and increasing, repeating every 24 hours,
    /// the last piece of the day running on past midnight until the first.
    /// Pairs rather than `RatePiece` keep this module below the simulator
    /// in the crate's layering; from a scenario `sc`:
    /// `sc.arrivals.iter().map(|p| (p.from_hour, p.per_hour))`.
    ///
    /// # Errors
    /// [`StaffingError::InvalidParameter`] naming `pieces` (none),
    /// `interval_minutes` (0) or `to_minute` (not after `from_minute`);
    /// [`StaffingError::InvalidEntry`] naming `pieces[i].from_hour` (outside
    /// `[0, 24)`, NaN, not above the previous one) or `pieces[i].per_hour`
    /// (negative, NaN, infinite).
    ///
    /// # Example
    /// ```
    /// use switchboard::staffing::Interval;
    /// // 60 an hour until 09:00, then 240: half-hourly from 08:30 to 10:00.
    /// let day = Interval::from_rate_profile([(0.0, 60.0), (9.0, 240.0)], 510, 600, 30)?;
    /// let rates: Vec<f64> = day.iter().map(|i| i.arrival_rate_per_hour).collect();
    /// assert_eq!(rates, [60.0, 240.0, 240.0]);
    /// # Ok::<(), switchboard::staffing::StaffingError>(())
    /// ```
    pub fn from_rate_profile<I>(
        pieces: I,
        from_minute: u32,
        to_minute: u32,
        interval_minutes: u32,
    ) -> Result<Vec<Interval>>
    where
        I: IntoIterator<Item = (f64, f64)>,
    {
        let segments = day_segments(pieces)?;
        if interval_minutes == 0 {
            return Err(StaffingError::InvalidParameter {
                field: "interval_minutes",
                value: 0.0,
                expected: "at least 1",
            });
        }
        if to_minute <= from_minute {
            return Err(StaffingError::InvalidParameter {
                field: "to_minute",
                value: f64::from(to_minute),
                expected: "after from_minute",
            });
        }
        let mut out = Vec::new();
        let mut start = from_minute;
        while start < to_minute {
            let minutes = interval_minutes.min(to_minute - start);
            out.push(Interval {
                start_minute: start,
                minutes,
                arrival_rate_per_hour: average_rate(&segments, start, minutes),
            });
            start += minutes;
        }
        Ok(out)
    }
}

/// One day of a profile as `(from_minute, to_minute, per_hour)` segments
/// covering `[0, 1440)`.
fn day_segments<I>(pieces: I) -> Result<Vec<(f64, f64, f64)>>
where
    I: IntoIterator<Item = (f64, f64)>,
{
    let pieces: Vec<(f64, f64)> = pieces.into_iter().collect();
    let bad = |index, field, value, expected| StaffingError::InvalidEntry {
        list: "pieces",
        index,
        field,
        value,
        expected,
    };
    let Some(&(_, last_rate)) = pieces.last() else {
        return Err(StaffingError::InvalidParameter {
            field: "pieces",
            value: 0.0,
            expected: "at least one (from_hour, per_hour) piece",
        });
    };
    let mut previous = f64::NEG_INFINITY;
    for (i, &(from_hour, per_hour)) in pieces.iter().enumerate() {
        if !((0.0..24.0).contains(&from_hour) && from_hour > previous) {
            return Err(bad(
                i,
                "from_hour",
                from_hour,
                "in [0, 24) and above the previous piece's",
            ));
        }
        if !(per_hour.is_finite() && per_hour >= 0.0) {
            return Err(bad(i, "per_hour", per_hour, "a finite number >= 0"));
        }
        previous = from_hour;
    }
    let mut segments = Vec::with_capacity(pieces.len() + 1);
    let first = pieces[0].0 * 60.0;
    if first > 0.0 {
        // Before the day's first piece, yesterday's last one still runs.
        segments.push((0.0, first, last_rate));
    }
    for (i, &(from_hour, per_hour)) in pieces.iter().enumerate() {
        let end = pieces.get(i + 1).map_or(DAY_MINUTES, |p| p.0 * 60.0);
        segments.push((from_hour * 60.0, end, per_hour));
    }
    Ok(segments)
}

/// The profile's mean rate over `[start, start + minutes)`, repeating the
/// day's segments; exactly the segment's rate when only one rate is crossed.
fn average_rate(segments: &[(f64, f64, f64)], start: u32, minutes: u32) -> f64 {
    let (a, b) = (f64::from(start), f64::from(start) + f64::from(minutes));
    let mut area = 0.0;
    let mut only: Option<f64> = None;
    let mut mixed = false;
    let mut day = (a / DAY_MINUTES).floor();
    while day * DAY_MINUTES < b {
        let offset = day * DAY_MINUTES;
        for &(from, to, rate) in segments {
            let overlap = (b.min(offset + to) - a.max(offset + from)).max(0.0);
            if overlap > 0.0 {
                area += rate * overlap;
                match only {
                    None => only = Some(rate),
                    Some(r) if r != rate => mixed = true,
                    Some(_) => {}
                }
            }
        }
        day += 1.0;
    }
    match only {
        Some(rate) if !mixed => rate,
        _ => area / f64::from(minutes),
    }
}

/// Customers who abandon, for the Erlang A columns of [`plan_day`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patience {
    /// Mean patience in seconds (exponential), finite and > 0.
    pub mean: f64,
    /// What each interval's Erlang A team must meet; its `threshold` is in
    /// seconds.
    pub target: PatienceTarget,
}

/// How one team performs in one interval. Waits in seconds.
///
/// An interval with no arrivals needs nobody: 0 operators, service level 1,
/// no waiting, no abandonment, occupancy 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TeamMeasures {
    /// Operators needed.
    pub operators: u32,
    /// Share answered within the plan's threshold (Erlang A: of all
    /// arrivals, abandons counting as misses).
    pub service_level: f64,
    /// Probability that a contact waits at all.
    pub probability_of_waiting: f64,
    /// Mean wait over all contacts, seconds: the average speed of answer
    /// under Erlang C, [`ErlangA::mean_wait`] under Erlang A.
    pub mean_wait: f64,
    /// Share of contacts who abandon (0 under Erlang C).
    pub abandonment: f64,
    /// Share of time an operator is busy.
    pub occupancy: f64,
}

impl TeamMeasures {
    const IDLE: TeamMeasures = TeamMeasures {
        operators: 0,
        service_level: 1.0,
        probability_of_waiting: 0.0,
        mean_wait: 0.0,
        abandonment: 0.0,
        occupancy: 0.0,
    };

    fn erlang_c(q: &ErlangC, threshold: f64) -> Result<Self> {
        Ok(TeamMeasures {
            operators: q.operators(),
            service_level: q.service_level(threshold)?,
            probability_of_waiting: q.probability_of_waiting(),
            mean_wait: q.average_speed_of_answer(),
            abandonment: 0.0,
            occupancy: q.occupancy(),
        })
    }

    fn erlang_a(q: &ErlangA, threshold: f64) -> Result<Self> {
        Ok(TeamMeasures {
            operators: q.operators(),
            service_level: q.service_level(threshold)?,
            probability_of_waiting: q.probability_of_waiting(),
            mean_wait: q.mean_wait(),
            abandonment: q.probability_of_abandonment(),
            occupancy: q.occupancy(),
        })
    }
}

/// One interval of a [`DayPlan`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanRow {
    /// The interval planned.
    pub interval: Interval,
    /// Offered load in erlangs.
    pub offered_load: f64,
    /// The smallest Erlang C team for the plan's [`ServiceTarget`].
    pub erlang_c: TeamMeasures,
    /// The smallest Erlang A team for the plan's [`Patience`] target, when
    /// a patience was given.
    pub erlang_a: Option<TeamMeasures>,
}

/// Sums over a [`DayPlan`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanTotals {
    /// Contacts expected over the day.
    pub contacts: f64,
    /// Σ operators × interval hours by Erlang C (raw, before shrinkage).
    pub operator_hours_erlang_c: f64,
    /// The same by Erlang A, when a patience was given.
    pub operator_hours_erlang_a: Option<f64>,
    /// Most operators any interval needs by Erlang C.
    pub peak_erlang_c: u32,
    /// The same by Erlang A.
    pub peak_erlang_a: Option<u32>,
}

/// Staffing over a day, interval by interval; built by [`plan_day`].
///
/// [`Display`](fmt::Display) prints it as a text table,
/// [`DayPlan::to_csv`] as CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct DayPlan {
    rows: Vec<PlanRow>,
    totals: PlanTotals,
    mean_handle_time: f64,
    target: ServiceTarget,
    patience: Option<Patience>,
}

/// The operators each interval of a day needs: by Erlang C for `target`
/// and, given a [`Patience`], by Erlang A for its target, with each team's
/// service level (within `target.threshold`), probability of waiting, mean
/// wait, abandonment and occupancy, and the day's operator-hours.
///
/// Rates are per hour, `mean_handle_time` and every threshold and patience
/// in seconds. Each interval is taken as its own steady state (the usual
/// planning approximation): no queue carries over from the interval before.
/// An interval with no arrivals needs 0 operators.
///
/// # Errors
/// [`StaffingError::InvalidParameter`] naming `mean_handle_time`, a field
/// of `target` or of the patience (`mean_patience`, …);
/// [`StaffingError::InvalidEntry`] naming `intervals[i].minutes` (0),
/// `intervals[i].arrival_rate_per_hour` (negative, NaN, infinite) or
/// `intervals[i].start_minute` (before the previous interval's end);
/// [`StaffingError::InInterval`] when interval `i` cannot be staffed (e.g.
/// it would need more than [`MAX_OPERATORS`](super::MAX_OPERATORS)).
///
/// # Example
/// ```
/// use switchboard::staffing::{Interval, Patience, PatienceTarget, ServiceTarget, plan_day};
///
/// // Three half hours from 09:00, 4-minute handle time, 80 % within 20 s.
/// let day = [
///     Interval::new(540, 30, 0.0),
///     Interval::new(570, 30, 120.0),
///     Interval::new(600, 30, 300.0),
/// ];
/// let target = ServiceTarget::new(20.0, 0.8)?;
/// let patience = Patience { mean: 180.0, target: PatienceTarget::from(target) };
/// let plan = plan_day(&day, 240.0, target, Some(patience))?;
/// assert_eq!(plan.rows()[0].erlang_c.operators, 0);
/// let busy = &plan.rows()[2];
/// assert!(busy.erlang_c.service_level >= 0.8 && busy.erlang_c.operators > 20);
/// // Callers who give up shorten the queue: never more operators than Erlang C.
/// assert!(busy.erlang_a.unwrap().operators <= busy.erlang_c.operators);
/// println!("{plan}");
/// # Ok::<(), switchboard::staffing::StaffingError>(())
/// ```
pub fn plan_day(
    intervals: &[Interval],
    mean_handle_time: f64,
    target: ServiceTarget,
    patience: Option<Patience>,
) -> Result<DayPlan> {
    finite_positive("mean_handle_time", mean_handle_time)?;
    target.validate()?;
    if let Some(p) = patience {
        abandon_rate(p.mean)?;
        p.target.validate()?;
    }
    check_intervals(intervals)?;
    let threshold = target.threshold;
    let mut rows = Vec::with_capacity(intervals.len());
    let mut totals = PlanTotals {
        contacts: 0.0,
        operator_hours_erlang_c: 0.0,
        operator_hours_erlang_a: patience.map(|_| 0.0),
        peak_erlang_c: 0,
        peak_erlang_a: patience.map(|_| 0),
    };
    for (index, &interval) in intervals.iter().enumerate() {
        let in_interval = |e: StaffingError| StaffingError::InInterval {
            index,
            source: Box::new(e),
        };
        let workload = Workload::new(interval.arrival_rate_per_hour / 3600.0, mean_handle_time)
            .map_err(in_interval)?;
        let idle = workload.arrival_rate == 0.0;
        let erlang_c = if idle {
            TeamMeasures::IDLE
        } else {
            operators_needed(workload, target)
                .and_then(|q| TeamMeasures::erlang_c(&q, threshold))
                .map_err(in_interval)?
        };
        let erlang_a = match patience {
            None => None,
            Some(_) if idle => Some(TeamMeasures::IDLE),
            Some(p) => Some(
                operators_needed_with_patience(workload, p.mean, p.target)
                    .and_then(|q| TeamMeasures::erlang_a(&q, threshold))
                    .map_err(in_interval)?,
            ),
        };
        let hours = f64::from(interval.minutes) / 60.0;
        totals.contacts += interval.expected_contacts();
        totals.operator_hours_erlang_c += f64::from(erlang_c.operators) * hours;
        totals.peak_erlang_c = totals.peak_erlang_c.max(erlang_c.operators);
        if let Some(a) = erlang_a {
            if let Some(h) = totals.operator_hours_erlang_a.as_mut() {
                *h += f64::from(a.operators) * hours;
            }
            if let Some(peak) = totals.peak_erlang_a.as_mut() {
                *peak = (*peak).max(a.operators);
            }
        }
        rows.push(PlanRow {
            interval,
            offered_load: workload.offered_load(),
            erlang_c,
            erlang_a,
        });
    }
    Ok(DayPlan {
        rows,
        totals,
        mean_handle_time,
        target,
        patience,
    })
}

fn check_intervals(intervals: &[Interval]) -> Result<()> {
    let mut previous_end = 0u64;
    for (index, interval) in intervals.iter().enumerate() {
        let bad = |field, value, expected| StaffingError::InvalidEntry {
            list: "intervals",
            index,
            field,
            value,
            expected,
        };
        if interval.minutes == 0 {
            return Err(bad("minutes", 0.0, "at least 1"));
        }
        let rate = interval.arrival_rate_per_hour;
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(bad("arrival_rate_per_hour", rate, "a finite number >= 0"));
        }
        if u64::from(interval.start_minute) < previous_end {
            return Err(bad(
                "start_minute",
                f64::from(interval.start_minute),
                "at or after the previous interval's end",
            ));
        }
        previous_end = interval.end_minute();
    }
    Ok(())
}

impl DayPlan {
    /// One row per interval, in order.
    pub fn rows(&self) -> &[PlanRow] {
        &self.rows
    }

    /// Contacts, operator-hours and peaks over the day.
    pub fn totals(&self) -> PlanTotals {
        self.totals
    }

    /// Mean handle time, seconds.
    pub fn mean_handle_time(&self) -> f64 {
        self.mean_handle_time
    }

    /// The Erlang C target (its threshold is the service-level column's).
    pub fn target(&self) -> ServiceTarget {
        self.target
    }

    /// The patience and Erlang A target, if any.
    pub fn patience(&self) -> Option<Patience> {
        self.patience
    }

    /// The plan as CSV, one line per interval after a header; the Erlang A
    /// columns are empty without a patience. Shares are fractions, waits
    /// seconds, numbers in Rust's shortest round-trip form.
    ///
    /// Returns a `String` (writing it somewhere is the caller's business).
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "start,start_minute,minutes,arrivals_per_hour,offered_load,\
             c_operators,c_service_level,c_probability_of_waiting,c_mean_wait_s,c_occupancy,\
             a_operators,a_service_level,a_probability_of_waiting,a_mean_wait_s,a_abandonment,a_occupancy\n",
        );
        for r in &self.rows {
            let i = r.interval;
            let c = r.erlang_c;
            let _ = write!(
                s,
                "{},{},{},{},{},{},{},{},{},{}",
                clock(i.start_minute),
                i.start_minute,
                i.minutes,
                i.arrival_rate_per_hour,
                r.offered_load,
                c.operators,
                c.service_level,
                c.probability_of_waiting,
                c.mean_wait,
                c.occupancy,
            );
            match r.erlang_a {
                Some(a) => {
                    let _ = writeln!(
                        s,
                        ",{},{},{},{},{},{}",
                        a.operators,
                        a.service_level,
                        a.probability_of_waiting,
                        a.mean_wait,
                        a.abandonment,
                        a.occupancy,
                    );
                }
                None => s.push_str(",,,,,,\n"),
            }
        }
        s
    }
}

/// `HH:MM` of a minute count (hours past 24 for a plan crossing midnight).
fn clock(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn percent(f: &mut fmt::Formatter<'_>, share: f64) -> fmt::Result {
    write!(f, " {:>6.1}%", 100.0 * share)
}

/// A text table: one line per interval, Erlang C then Erlang A, and the
/// totals.
impl fmt::Display for DayPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.target;
        write!(
            f,
            "AHT {} s; Erlang C: {:.0} % within {} s",
            self.mean_handle_time,
            100.0 * t.service_level,
            t.threshold
        )?;
        if let Some(cap) = t.max_occupancy {
            write!(f, ", occupancy <= {:.0} %", 100.0 * cap)?;
        }
        if let Some(p) = self.patience {
            let pt = p.target;
            let mut goals = Vec::new();
            if let Some(sl) = pt.service_level {
                goals.push(format!("{:.0} % within {} s", 100.0 * sl, pt.threshold));
            }
            if let Some(ab) = pt.max_abandonment {
                goals.push(format!("abandonment <= {:.1} %", 100.0 * ab));
            }
            if let Some(cap) = pt.max_occupancy {
                goals.push(format!("occupancy <= {:.0} %", 100.0 * cap));
            }
            write!(
                f,
                "; Erlang A (mean patience {} s): {}",
                p.mean,
                goals.join(", ")
            )?;
        }
        writeln!(f)?;
        write!(
            f,
            "{:>5} {:>4} {:>8} {:>7} | {:>4} {:>7} {:>7} {:>6} {:>7}",
            "start", "min", "per hour", "erlangs", "C: n", "SL", "P(wait)", "ASA s", "occ"
        )?;
        if self.patience.is_some() {
            write!(
                f,
                " | {:>4} {:>7} {:>7} {:>6} {:>7} {:>7}",
                "A: n", "SL", "P(wait)", "wait s", "aband", "occ"
            )?;
        }
        writeln!(f)?;
        for r in &self.rows {
            let c = r.erlang_c;
            write!(
                f,
                "{:>5} {:>4} {:>8.1} {:>7.2} | {:>4}",
                clock(r.interval.start_minute),
                r.interval.minutes,
                r.interval.arrival_rate_per_hour,
                r.offered_load,
                c.operators
            )?;
            percent(f, c.service_level)?;
            percent(f, c.probability_of_waiting)?;
            write!(f, " {:>6.1}", c.mean_wait)?;
            percent(f, c.occupancy)?;
            if let Some(a) = r.erlang_a {
                write!(f, " | {:>4}", a.operators)?;
                percent(f, a.service_level)?;
                percent(f, a.probability_of_waiting)?;
                write!(f, " {:>6.1}", a.mean_wait)?;
                percent(f, a.abandonment)?;
                percent(f, a.occupancy)?;
            }
            writeln!(f)?;
        }
        let totals = self.totals;
        write!(
            f,
            "total: {:.0} contacts; Erlang C {} operator-hours (peak {})",
            totals.contacts, totals.operator_hours_erlang_c, totals.peak_erlang_c
        )?;
        if let (Some(hours), Some(peak)) = (totals.operator_hours_erlang_a, totals.peak_erlang_a) {
            write!(f, "; Erlang A {hours} operator-hours (peak {peak})")?;
        }
        writeln!(f, "; raw, before shrinkage")
    }
}
