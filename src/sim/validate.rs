//! Validation against records: fit a scenario on a span of records (e.g. one month of the
//! Anonymous Bank calls), simulate that span, and compare the simulated service level,
//! abandonment and waits with what the records say.
//!
//! [`validate`] runs two simulations, each for [`ValidateOptions::replications`]
//! replications, with the operators [`Trace::infer_roster`] infers from the real records
//! (the staffing the records imply):
//!
//! * **Fitted model**: [`fit_records`] estimates arrival rates per weekday and interval,
//!   the channel and tier mixes, the handle-time distribution and the patience; a synthetic
//!   span of the same days is drawn from them (non-homogeneous Poisson arrivals, each day
//!   with its weekday's profile, piecewise constant per interval; channel and tier from the
//!   mixes; random stream [`Rng::stream`]`(seed, `[`ARRIVAL_STREAMS`]` + replication)`) and
//!   replayed with handle time and patience drawn from [`FitReport::to_scenario`]'s
//!   distributions. This is the model a what-if study would run.
//! * **Trace-driven**: the real records replayed ([`Trace::from_records`]): recorded
//!   arrivals and handle times; recorded patience for customers who left, and for served
//!   ones a draw from the fitted patience above their recorded wait
//!   ([`super::trace::Censored::DrawnAbove`]). Only the staffing, the routing and the
//!   censored patience are modelled, so the gap between it and the records measures those.
//!
//! The figures, for the records and for every replication, use the simulator's own
//! definitions (the [`super::report`] tallies): service level at T = answered within T ÷
//! (answered + abandoned); abandonment = abandoned ÷ offered (every record is offered; the
//! KPI module's default); mean wait over everyone who was answered or left (up to leaving)
//! and over the answered; the mean wait over everyone per hour of the day the customer
//! asked. Each simulated figure is an [`Estimate`] (mean over replications and 95 %
//! half-width).
//!
//! The run scenario is the fitted one with the span set to the records' days (`start_hour`
//! 0, no warm-up, `hours` = days × 24, no `stop`), no operator groups (the roster replaces
//! them) and `speed_by_level` all 1 (the fitted handle time is already the operators'
//! observed one). Everything else (policy, routing, first response delay) is the base
//! scenario's.
//!
//! Pure logic: no I/O; the same records, scenario and options give the same [`Validation`].

use std::fmt;

use thiserror::Error;

use super::fit::{
    FitError, FitOptions, FitReport, MINUTES_PER_DAY, ProfileDay, RateFallback, fit_records,
};
use super::report::{Estimate, MeasureTally};
use super::rng::Rng;
use super::scenario::{Scenario, Weighted};
use super::trace::{
    HandleSource, PatienceSource, Roster, Trace, TraceError, TraceOptions, run_trace,
};
use crate::ids::ConversationId;
use crate::kpi::Weekday;
use crate::record::ConversationRecord;
use crate::time::Timestamp;

const DAY_MS: u64 = 86_400_000;
const HOUR_MS: u64 = 3_600_000;

/// Offset of the arrival streams of the fitted-model runs: replication `i` draws its
/// synthetic arrivals from `Rng::stream(seed, ARRIVAL_STREAMS + i)`, apart from the
/// simulator's own streams (`0, 1, …`).
pub const ARRIVAL_STREAMS: u64 = 1 << 32;

/// What to fit and how many replications to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidateOptions {
    /// The fit (interval length, minimum counts, handle-time criterion). Its
    /// `profile_day` only affects the scenario [`Validation::fit`] is turned into; the
    /// synthetic span uses every weekday's own profile. Default: [`FitOptions::default`]
    /// with [`RateFallback::OwnBelowMinimum`], because a short cell is usually a closed
    /// one: the bank takes almost no calls on Friday afternoon and Saturday daytime, and
    /// filling those cells with the all-days rate (the fit's default fallback) drew 36,700
    /// arrivals for January 1999 against 30,161 recorded.
    pub fit: FitOptions,
    /// Replications of each simulation, at least 2 (for an interval). Default 5.
    pub replications: u32,
    /// Seed of the synthetic arrivals (and, through the scenario, of the simulator).
    /// Default: the base scenario's seed.
    pub seed: Option<u64>,
    /// Service-level thresholds, seconds, strictly increasing. Default `[20, 60]`.
    pub service_level_secs: Vec<f64>,
    /// The operators both simulations run with, in the records' time. Default `None`: the
    /// roster [`Trace::infer_roster`] infers from the records. Give one when shifts and
    /// breaks are known, or to test what the inferred one gets wrong.
    pub roster: Option<Roster>,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            fit: FitOptions {
                rate_fallback: RateFallback::OwnBelowMinimum,
                ..FitOptions::default()
            },
            replications: 5,
            seed: None,
            service_level_secs: vec![20.0, 60.0],
            roster: None,
        }
    }
}

/// Why a validation cannot run, naming the field or the stage.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// No records.
    #[error("records: no records to validate against")]
    NoRecords,
    /// An option is invalid.
    #[error("validate option `{field}` is invalid: {why}")]
    Option {
        /// E.g. `replications` or `service_level_secs[1]`.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// The records could not be fitted (too few of something, bad timestamps…).
    #[error("fit: {0}")]
    Fit(#[from] FitError),
    /// A weekday's interval has no arrival rate (only with
    /// [`super::fit::RateFallback::None`]).
    #[error("arrivals for {weekday:?}: the interval from minute {start_minute} has no rate")]
    NoRate {
        /// The weekday.
        weekday: Weekday,
        /// The interval's first minute.
        start_minute: u32,
    },
    /// The records (or the synthetic span) cannot be replayed, or the roster not inferred.
    #[error("{run}: {error}")]
    Trace {
        /// `roster`, `trace-driven run` or `fitted-model run`.
        run: &'static str,
        /// Why.
        error: TraceError,
    },
}

/// The figures of one set of records (real, or one replication's).
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Records (offered).
    pub offered: u64,
    /// Service level at each threshold, 0–1 (`None`: nobody answered or abandoned).
    pub service_levels: Vec<Option<f64>>,
    /// Abandoned ÷ offered, 0–1.
    pub abandonment: Option<f64>,
    /// Mean wait over the answered and those who left, seconds.
    pub wait_all_mean_s: Option<f64>,
    /// Mean wait of the answered, seconds.
    pub wait_served_mean_s: Option<f64>,
    /// Mean wait over the answered and those who left, per hour of the day asked (24),
    /// seconds.
    pub wait_by_hour_s: Vec<Option<f64>>,
    /// Records per hour of the day asked (24).
    pub offered_by_hour: Vec<u64>,
}

impl Figures {
    /// The figures of `records`; a record's hour of the day is that of `asked_at − origin`
    /// (an origin at a UTC midnight gives the records' own clock hour).
    pub fn of(records: &[ConversationRecord], origin_ms: u64, service_level_secs: &[f64]) -> Self {
        let mut all = MeasureTally::new(service_level_secs);
        let mut hours: Vec<MeasureTally> = (0..24).map(|_| MeasureTally::new(&[])).collect();
        let mut offered_by_hour = vec![0u64; 24];
        for r in records {
            all.customer(r);
            let h = (r.asked_at.0.wrapping_sub(origin_ms) / HOUR_MS % 24) as usize;
            hours[h].customer(r);
            offered_by_hour[h] += 1;
        }
        let offered = records.len() as u64;
        let all = all.finish(0, 0, offered).overall;
        let s = |ms: Option<f64>| ms.map(|v| v / 1000.0);
        Figures {
            offered,
            service_levels: (0..service_level_secs.len())
                .map(|k| all.service_level(k))
                .collect(),
            abandonment: (offered > 0).then(|| all.abandoned as f64 / offered as f64),
            wait_all_mean_s: s(all.wait_all_mean_ms()),
            wait_served_mean_s: s(all.wait_served_mean_ms()),
            wait_by_hour_s: hours
                .into_iter()
                .map(|t| s(t.finish(0, 0, 0).overall.wait_all_mean_ms()))
                .collect(),
            offered_by_hour,
        }
    }

    fn tally_free(&self) -> bool {
        self.offered == 0
    }
}

/// One compared figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Stable name, e.g. `service_level_20s_pct`, `abandonment_pct`, `wait_all_mean_s`.
    pub metric: String,
    /// From the records.
    pub real: Option<f64>,
    /// The fitted-model runs.
    pub fitted: Estimate,
    /// The trace-driven runs.
    pub trace: Estimate,
}

/// One hour of the day.
#[derive(Debug, Clone, PartialEq)]
pub struct HourRow {
    /// Hour of the day, 0–23.
    pub hour: u32,
    /// Real records asked in that hour (over the whole span).
    pub offered: u64,
    /// Real mean wait over everyone, seconds.
    pub real: Option<f64>,
    /// The fitted-model runs' mean wait.
    pub fitted: Estimate,
    /// The trace-driven runs' mean wait.
    pub trace: Estimate,
}

/// Real against simulated figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// What was fitted from the records.
    pub fit: FitReport,
    /// The scenario the simulations ran (fitted; span, roster and speeds as described in
    /// the module docs).
    pub scenario: Scenario,
    /// The roster's operators (inferred, or [`ValidateOptions::roster`]).
    pub operators: usize,
    /// Days in the span.
    pub days: u64,
    /// Replications of each simulation.
    pub replications: u32,
    /// The real figures.
    pub real: Figures,
    /// The fitted-model runs' figures, one per replication.
    pub fitted_runs: Vec<Figures>,
    /// The trace-driven runs' figures, one per replication.
    pub trace_runs: Vec<Figures>,
    /// Summary rows: offered, each service level, abandonment, mean waits.
    pub rows: Vec<Row>,
    /// Mean wait per hour of the day, 0–23.
    pub hours: Vec<HourRow>,
}

/// Stages [`validate_with_progress`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// One fitted-model replication finished.
    Fitted,
    /// One trace-driven replication finished.
    Trace,
}

/// [`validate_with_progress`] without progress reports.
///
/// # Errors
/// See [`validate_with_progress`].
pub fn validate(
    records: &[ConversationRecord],
    base: &Scenario,
    opts: &ValidateOptions,
) -> Result<Validation, ValidateError> {
    validate_with_progress(records, base, opts, &mut |_, _| {})
}

fn check_options(opts: &ValidateOptions) -> Result<(), ValidateError> {
    let bad = |field: String, why: &str| ValidateError::Option {
        field,
        why: why.to_owned(),
    };
    if opts.replications < 2 {
        return Err(bad(
            "replications".into(),
            &format!("{} < 2: an interval needs at least two", opts.replications),
        ));
    }
    if opts.service_level_secs.is_empty() {
        return Err(bad("service_level_secs".into(), "empty"));
    }
    for (i, s) in opts.service_level_secs.iter().enumerate() {
        if !(s.is_finite() && *s >= 0.0) {
            return Err(bad(
                format!("service_level_secs[{i}]"),
                "must be a finite number ≥ 0",
            ));
        }
        if i > 0 && *s <= opts.service_level_secs[i - 1] {
            return Err(bad(
                format!("service_level_secs[{i}]"),
                "must be larger than the one before",
            ));
        }
    }
    Ok(())
}

/// Fits `records`, simulates their span with the fitted model and with the records
/// replayed (see the module docs), and compares both with the records. `base` supplies the
/// policy (it must declare the records' channels and tiers), the routing (its first policy
/// variant), the first response delay and the seed. `progress(stage, replication)` is
/// called after every run.
///
/// # Errors
/// [`ValidateError::NoRecords`]; [`ValidateError::Option`] for fewer than 2 replications or
/// bad thresholds; [`ValidateError::Fit`] when the records cannot be fitted or the fit
/// cannot fill the scenario (too few handle times or waits, naming which; a channel or tier
/// the base policy does not declare); [`ValidateError::NoRate`]; [`ValidateError::Trace`]
/// when no record names its operator (no roster) or a run fails.
pub fn validate_with_progress(
    records: &[ConversationRecord],
    base: &Scenario,
    opts: &ValidateOptions,
    progress: &mut dyn FnMut(Stage, u32),
) -> Result<Validation, ValidateError> {
    if records.is_empty() {
        return Err(ValidateError::NoRecords);
    }
    check_options(opts)?;
    let fit = fit_records(records, &opts.fit)?;
    let fitted = fit.to_scenario(base)?;
    let days = fit.arrivals.days;
    let first_day = fit.arrivals.first_day;
    let origin = first_day * DAY_MS;
    let seed = opts.seed.unwrap_or(base.seed);
    let Some(variant) = base.policies.first() else {
        return Err(ValidateError::Option {
            field: "scenario.policies".into(),
            why: "no policy variant to run".into(),
        });
    };
    let mut sc = Scenario {
        seed,
        hours: days as f64 * 24.0,
        start_hour: 0.0,
        warmup_minutes: 0.0,
        stop: None,
        operators: Vec::new(),
        speed_by_level: [1.0; 6],
        service_level_secs: opts.service_level_secs.clone(),
        ..fitted
    };
    sc.measure_wait_estimates = false;

    let trace_err = |run| move |error| ValidateError::Trace { run, error };
    let real_trace = Trace::from_records(
        records,
        TraceOptions {
            origin: Some(Timestamp(origin)),
            ..TraceOptions::default()
        },
    )
    .map_err(trace_err("trace-driven run"))?;
    let roster = match &opts.roster {
        Some(r) => r.clone(),
        None => real_trace.infer_roster().map_err(trace_err("roster"))?,
    };

    let secs = &opts.service_level_secs;
    let real = Figures::of(records, origin, secs);

    let mut fitted_runs = Vec::with_capacity(opts.replications as usize);
    for rep in 0..opts.replications {
        let synthetic = synthetic_span(&fit, seed, rep)?;
        let trace = Trace::from_records(
            &synthetic,
            TraceOptions {
                handle_time: HandleSource::Drawn,
                patience: PatienceSource::Drawn,
                origin: Some(Timestamp(origin)),
                ..TraceOptions::default()
            },
        )
        .map_err(trace_err("fitted-model run"))?;
        fitted_runs.push(run(&sc, variant, &trace, &roster, rep, "fitted-model run")?);
        progress(Stage::Fitted, rep);
    }
    let mut trace_runs = Vec::with_capacity(opts.replications as usize);
    for rep in 0..opts.replications {
        trace_runs.push(run(
            &sc,
            variant,
            &real_trace,
            &roster,
            rep,
            "trace-driven run",
        )?);
        progress(Stage::Trace, rep);
    }

    let est = |runs: &[Figures], f: &dyn Fn(&Figures) -> Option<f64>| {
        Estimate::from_values(runs.iter().map(f))
    };
    let row = |metric: String, f: &dyn Fn(&Figures) -> Option<f64>| Row {
        metric,
        real: f(&real),
        fitted: est(&fitted_runs, f),
        trace: est(&trace_runs, f),
    };
    let pct = |v: Option<f64>| v.map(|x| x * 100.0);
    let mut rows = vec![row("offered".into(), &|f: &Figures| {
        (!f.tally_free()).then_some(f.offered as f64)
    })];
    for (k, s) in secs.iter().enumerate() {
        rows.push(row(
            super::scenario::service_level_metric(*s),
            &|f: &Figures| pct(f.service_levels.get(k).copied().flatten()),
        ));
    }
    rows.push(row("abandonment_pct".into(), &|f: &Figures| {
        pct(f.abandonment)
    }));
    rows.push(row("wait_all_mean_s".into(), &|f: &Figures| {
        f.wait_all_mean_s
    }));
    rows.push(row("wait_served_mean_s".into(), &|f: &Figures| {
        f.wait_served_mean_s
    }));
    let hours = (0..24u32)
        .map(|h| {
            let f = |x: &Figures| x.wait_by_hour_s[h as usize];
            HourRow {
                hour: h,
                offered: real.offered_by_hour[h as usize],
                real: f(&real),
                fitted: est(&fitted_runs, &f),
                trace: est(&trace_runs, &f),
            }
        })
        .collect();
    Ok(Validation {
        fit,
        scenario: sc,
        operators: roster.operators.len(),
        days,
        replications: opts.replications,
        real,
        fitted_runs,
        trace_runs,
        rows,
        hours,
    })
}

fn run(
    sc: &Scenario,
    variant: &super::scenario::PolicyVariant,
    trace: &Trace,
    roster: &Roster,
    rep: u32,
    name: &'static str,
) -> Result<Figures, ValidateError> {
    let r = run_trace(sc, variant, trace, Some(roster), rep, true)
        .map_err(|error| ValidateError::Trace { run: name, error })?;
    // The simulator's clock starts at the origin (0 ms).
    Ok(Figures::of(&r.records, 0, &sc.service_level_secs))
}

fn pick<T: Copy>(mix: &[Weighted<T>], u: f64) -> Option<T> {
    let mut acc = 0.0;
    for w in mix {
        acc += w.p;
        if u < acc {
            return Some(w.value);
        }
    }
    mix.last().map(|w| w.value)
}

/// One synthetic span of the fitted model: for every day of the records' span, Poisson
/// arrivals at its weekday's fitted rate per interval, each with a channel and a tier drawn
/// from the fitted mixes; only `asked_at`, `channel` and `tier` are set. Replication `rep`
/// draws from `Rng::stream(seed, ARRIVAL_STREAMS + rep)`.
///
/// # Errors
/// [`ValidateError::NoRate`] for an interval without a rate.
pub fn synthetic_span(
    fit: &FitReport,
    seed: u64,
    rep: u32,
) -> Result<Vec<ConversationRecord>, ValidateError> {
    let mut rng = Rng::stream(seed, ARRIVAL_STREAMS + u64::from(rep));
    let a = &fit.arrivals;
    let interval_ms = f64::from(a.interval_minutes) * 60_000.0;
    let per_day = (MINUTES_PER_DAY / a.interval_minutes) as usize;
    let mut out = Vec::new();
    for day in a.first_day..a.first_day + a.days {
        // 1970-01-01 was a Thursday (index 3).
        let weekday = Weekday::from_index(((day + 3) % 7) as u8).unwrap_or(Weekday::Monday);
        let profile = a.profile(ProfileDay::Weekday(weekday));
        for k in 0..per_day {
            let start_minute = k as u32 * a.interval_minutes;
            let rate = profile
                .get(k)
                .and_then(|r| r.per_hour)
                .ok_or(ValidateError::NoRate {
                    weekday,
                    start_minute,
                })?;
            if rate <= 0.0 {
                continue;
            }
            let per_ms = rate / HOUR_MS as f64;
            let start = (day * DAY_MS) as f64 + k as f64 * interval_ms;
            let end = start + interval_ms;
            let mut t = start;
            loop {
                t += -rng.next_f64_nonzero().ln() / per_ms;
                if t >= end {
                    break;
                }
                let (Some(channel), Some(tier)) = (
                    pick(&fit.channels, rng.next_f64()),
                    pick(&fit.tiers, rng.next_f64()),
                ) else {
                    continue;
                };
                // Rounded down so an arrival never crosses into the next interval's ms.
                let at = (t.floor() as u64).min(end as u64 - 1);
                out.push(ConversationRecord::new(
                    ConversationId(out.len() as u64 + 1),
                    channel,
                    tier,
                    Timestamp(at),
                ));
            }
        }
    }
    Ok(out)
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |x| format!("{x:.1}"))
}

fn est_cell(e: &Estimate) -> String {
    if e.n == 0 {
        "—".into()
    } else {
        format!("{:.1} ± {:.1}", e.mean, e.half_width)
    }
}

fn csv_num(v: Option<f64>) -> String {
    v.map_or_else(String::new, |x| format!("{x}"))
}

fn csv_est(e: &Estimate) -> String {
    if e.n == 0 {
        ",".into()
    } else {
        format!("{},{}", e.mean, e.half_width)
    }
}

impl Validation {
    /// The summary as CSV: `metric,real,fitted_mean,fitted_half_width,trace_mean,trace_half_width`.
    pub fn to_csv(&self) -> String {
        let mut s =
            String::from("metric,real,fitted_mean,fitted_half_width,trace_mean,trace_half_width\n");
        for r in &self.rows {
            s += &format!(
                "{},{},{},{}\n",
                r.metric,
                csv_num(r.real),
                csv_est(&r.fitted),
                csv_est(&r.trace)
            );
        }
        s
    }

    /// Mean wait per hour as CSV:
    /// `hour,offered,real_s,fitted_mean_s,fitted_half_width_s,trace_mean_s,trace_half_width_s`.
    pub fn hours_to_csv(&self) -> String {
        let mut s = String::from(
            "hour,offered,real_s,fitted_mean_s,fitted_half_width_s,trace_mean_s,trace_half_width_s\n",
        );
        for h in &self.hours {
            s += &format!(
                "{},{},{},{},{}\n",
                h.hour,
                h.offered,
                csv_num(h.real),
                csv_est(&h.fitted),
                csv_est(&h.trace)
            );
        }
        s
    }

    /// Mean wait per hour of the day: the records (black), the fitted model (blue) and the
    /// trace-driven runs (orange), each simulation with its 95 % interval as a whisker.
    /// Hours with no records are left out.
    pub fn svg_per_hour(&self) -> String {
        let shown: Vec<&HourRow> = self.hours.iter().filter(|h| h.offered > 0).collect();
        let max = shown
            .iter()
            .flat_map(|h| {
                [
                    h.real.unwrap_or(0.0),
                    h.fitted.mean + h.fitted.half_width,
                    h.trace.mean + h.trace.half_width,
                ]
            })
            .filter(|v| v.is_finite())
            .fold(1.0_f64, f64::max);
        let (w, ht, left, bottom, top) = (760.0, 420.0, 60.0, 60.0, 40.0);
        let x = |hour: f64| left + (w - left - 20.0) * hour / 24.0;
        let y = |v: f64| top + (ht - top - bottom) * (1.0 - v / max);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{ht}\" font-family=\"sans-serif\" font-size=\"12\">\n<text x=\"{left}\" y=\"22\" font-size=\"14\">Mean wait by hour of the day (s): records, fitted model, trace-driven; {} replications, 95 % intervals</text>\n",
            self.replications
        );
        s += &format!(
            "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>\n",
            y(0.0),
            w - 20.0
        );
        for k in 0..=4 {
            let v = max * f64::from(k) / 4.0;
            s += &format!(
                "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.0}</text>\n",
                left - 6.0,
                y(v) + 4.0
            );
        }
        for hour in (0..24).step_by(3) {
            s += &format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{hour}:00</text>\n",
                x(f64::from(hour)),
                y(0.0) + 16.0
            );
        }
        let series: [(&str, &str, f64); 3] = [
            ("records", "#000000", 0.35),
            ("fitted model", "#4e79a7", 0.5),
            ("trace-driven", "#f28e2b", 0.65),
        ];
        for (i, (name, color, dx)) in series.iter().enumerate() {
            let mut points = Vec::new();
            for h in &shown {
                let cx = x(f64::from(h.hour) + dx);
                let (v, hw) = match i {
                    0 => (h.real, 0.0),
                    1 => (
                        (h.fitted.n > 0).then_some(h.fitted.mean),
                        h.fitted.half_width,
                    ),
                    _ => ((h.trace.n > 0).then_some(h.trace.mean), h.trace.half_width),
                };
                let Some(v) = v.filter(|v| v.is_finite()) else {
                    continue;
                };
                points.push(format!("{cx:.1},{:.1}", y(v)));
                s += &format!(
                    "<circle cx=\"{cx:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>\n",
                    y(v)
                );
                if hw > 0.0 && hw.is_finite() {
                    s += &format!(
                        "<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"{color}\"/>\n",
                        y(v + hw),
                        y((v - hw).max(0.0))
                    );
                }
            }
            s += &format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1\"/>\n",
                points.join(" ")
            );
            let lx = left + 180.0 * i as f64;
            s += &format!(
                "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\">{name}</text>\n",
                ht - 27.0,
                lx + 14.0,
                ht - 18.0
            );
        }
        s + "</svg>\n"
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} days, {} records, {} operators, {} replications each, 95 % intervals",
            self.days, self.real.offered, self.operators, self.replications
        )?;
        writeln!(
            f,
            "{:<24} {:>10} {:>20} {:>20}",
            "metric", "real", "fitted model", "trace-driven"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<24} {:>10} {:>20} {:>20}",
                r.metric,
                cell(r.real),
                est_cell(&r.fitted),
                est_cell(&r.trace)
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<6} {:>8} {:>10} {:>20} {:>20}",
            "hour", "offered", "real wait", "fitted model", "trace-driven"
        )?;
        for h in self.hours.iter().filter(|h| h.offered > 0) {
            writeln!(
                f,
                "{:<6} {:>8} {:>10} {:>20} {:>20}",
                format!("{:02}:00", h.hour),
                h.offered,
                cell(h.real),
                est_cell(&h.fitted),
                est_cell(&h.trace)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ChannelId, TierId};

    fn rec(at: u64) -> ConversationRecord {
        ConversationRecord::new(ConversationId(at), ChannelId(1), TierId(1), Timestamp(at))
    }

    #[test]
    fn figures_follow_the_report_definitions() {
        // Answered after 10 s and 30 s, one abandoned after 50 s, one pending, at 01:00.
        let h = HOUR_MS;
        let mut a = rec(h);
        a.assigned_at = Some(Timestamp(h + 10_000));
        let mut b = rec(h + 1);
        b.assigned_at = Some(Timestamp(h + 1 + 30_000));
        let mut c = rec(h + 2);
        c.abandoned_at = Some(Timestamp(h + 2 + 50_000));
        let d = rec(3 * h);
        let f = Figures::of(&[a, b, c, d], 0, &[20.0, 60.0]);
        assert_eq!(f.offered, 4);
        assert_eq!(f.service_levels, [Some(1.0 / 3.0), Some(2.0 / 3.0)]);
        assert_eq!(f.abandonment, Some(0.25));
        assert_eq!(f.wait_all_mean_s, Some(30.0));
        assert_eq!(f.wait_served_mean_s, Some(20.0));
        assert_eq!(f.wait_by_hour_s[1], Some(30.0));
        assert_eq!(f.wait_by_hour_s[3], None);
        assert_eq!((f.offered_by_hour[1], f.offered_by_hour[3]), (3, 1));
    }

    #[test]
    fn mixes_are_picked_by_cumulative_weight() {
        let mix = [
            Weighted { value: 1, p: 0.25 },
            Weighted { value: 2, p: 0.75 },
        ];
        assert_eq!(pick(&mix, 0.0), Some(1));
        assert_eq!(pick(&mix, 0.249), Some(1));
        assert_eq!(pick(&mix, 0.25), Some(2));
        assert_eq!(pick(&mix, 0.999_999_9), Some(2));
        assert_eq!(pick::<u32>(&[], 0.5), None);
    }
}
