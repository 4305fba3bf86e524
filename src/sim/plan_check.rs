//! A day plan ([`crate::staffing::plan_day`]) checked by simulation with
//! the real engine: each interval's team, as the plan sized it by Erlang C
//! (and Erlang A with patience), is simulated as M/M/n (M/M/n+M) at that
//! interval's arrival rate and the plan's mean handle time, and the
//! simulated service level, waits and abandonment are put beside the
//! formulas' predictions.
//!
//! Each interval is simulated as its own steady state — the assumption the
//! plan makes — over `hours_per_interval` of simulated time after a
//! warm-up, not over the interval's own length: a 30-minute window from an
//! empty start measures the start-up, not the staffing. Handle times and
//! patience are exponential, as the Erlang models assume, so the difference
//! between a row's prediction and its simulation is sampling error plus
//! anything the engine does that the model does not (it routes FIFO here).
//!
//! ```
//! use switchboard::sim::plan_check::{PlanCheckOptions, check_plan};
//! use switchboard::staffing::{Interval, ServiceTarget, plan_day};
//!
//! let intervals = vec![Interval::new(9 * 60, 60, 120.0)];
//! let plan = plan_day(&intervals, 180.0, ServiceTarget::new(20.0, 0.8)?, None)?;
//! let opts = PlanCheckOptions { replications: 3, hours_per_interval: 4.0, ..Default::default() };
//! let check = check_plan(&plan, &opts)?;
//! let c = check.rows[0].erlang_c.as_ref().expect("an interval with arrivals");
//! // The plan's team meets 80 % in 20 s by Erlang C; the simulation agrees roughly.
//! assert!(c.predicted_service_level >= 0.8);
//! assert!(c.simulated_service_level.mean > 0.6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::ids::{ChannelId, TierId};
use crate::model::ChannelCapacity;
use crate::policy::{ChannelSpec, Policy, QueueOrder, TierSpec};
use crate::sim::dist::DurationDist;
use crate::sim::report::{Estimate, simulate};
use crate::sim::run::SimError;
use crate::sim::scenario::{OperatorGroup, PolicyVariant, RatePiece, Routing, Scenario, Weighted};
use crate::staffing::{DayPlan, TeamMeasures};
use crate::time::Millis;

/// How each interval is simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanCheckOptions {
    /// Replications per interval and method (≥ 2 for an interval).
    pub replications: u32,
    /// Simulated hours of arrivals per interval, after the warm-up (> 0).
    pub hours_per_interval: f64,
    /// Warm-up left out of the measures, minutes (≥ 0).
    pub warmup_minutes: f64,
    /// Seed of the first interval; interval `i` uses `seed + i`.
    pub seed: u64,
}

impl Default for PlanCheckOptions {
    fn default() -> Self {
        PlanCheckOptions {
            replications: 5,
            hours_per_interval: 8.0,
            warmup_minutes: 30.0,
            seed: 1,
        }
    }
}

/// Why a plan could not be checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanCheckError {
    /// An option out of range.
    #[error("plan check option `{field}` {why}")]
    Option {
        /// The option.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The simulation of one interval failed.
    #[error("interval {index}: {source}")]
    Sim {
        /// Row of the plan.
        index: usize,
        /// What the simulator said.
        #[source]
        source: SimError,
    },
}

/// One method's team for one interval: predicted and simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Operators the method asked for.
    pub operators: u32,
    /// The formula's service level (share within the plan's threshold).
    pub predicted_service_level: f64,
    /// The formula's mean wait, seconds (over all arrivals for Erlang A).
    pub predicted_mean_wait: f64,
    /// The formula's abandonment share (0 for Erlang C).
    pub predicted_abandonment: f64,
    /// Simulated service level (share, 0–1) with its 95 % interval.
    pub simulated_service_level: Estimate,
    /// Simulated mean wait over all arrivals, seconds.
    pub simulated_mean_wait: Estimate,
    /// Simulated abandonment share (0–1).
    pub simulated_abandonment: Estimate,
}

/// One interval of the plan, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRow {
    /// Start, minutes after midnight.
    pub start_minute: u32,
    /// Arrival rate, per hour.
    pub arrival_rate_per_hour: f64,
    /// The Erlang C team; `None` for an interval with no arrivals (nothing
    /// to simulate).
    pub erlang_c: Option<Checked>,
    /// The Erlang A team, when the plan has patience.
    pub erlang_a: Option<Checked>,
}

/// A day plan checked interval by interval.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanCheck {
    /// The plan's service-level threshold, seconds.
    pub threshold_secs: f64,
    /// One row per plan interval, in order.
    pub rows: Vec<CheckedRow>,
}

/// Simulates each interval's planned teams (see the module docs).
///
/// # Errors
/// [`PlanCheckError::Option`] for `replications` < 2, a non-positive or
/// non-finite `hours_per_interval` or a negative `warmup_minutes`;
/// [`PlanCheckError::Sim`] naming the interval if its simulation fails.
pub fn check_plan(plan: &DayPlan, opts: &PlanCheckOptions) -> Result<PlanCheck, PlanCheckError> {
    if opts.replications < 2 {
        return Err(PlanCheckError::Option {
            field: "replications",
            why: format!(
                "must be at least 2 (for an interval), got {}",
                opts.replications
            ),
        });
    }
    if !(opts.hours_per_interval.is_finite() && opts.hours_per_interval > 0.0) {
        return Err(PlanCheckError::Option {
            field: "hours_per_interval",
            why: format!("must be finite and > 0, got {}", opts.hours_per_interval),
        });
    }
    if !(opts.warmup_minutes.is_finite() && opts.warmup_minutes >= 0.0) {
        return Err(PlanCheckError::Option {
            field: "warmup_minutes",
            why: format!("must be finite and ≥ 0, got {}", opts.warmup_minutes),
        });
    }
    let target = plan.target();
    let threshold = target.threshold;
    let patience = plan.patience().map(|p| p.mean);
    let mut rows = Vec::with_capacity(plan.rows().len());
    for (index, row) in plan.rows().iter().enumerate() {
        let rate = row.interval.arrival_rate_per_hour;
        let seed = opts.seed.wrapping_add(index as u64);
        let run = |team: &TeamMeasures,
                   patience: Option<f64>|
         -> Result<Option<Checked>, PlanCheckError> {
            if rate == 0.0 || team.operators == 0 {
                return Ok(None);
            }
            let sc = mmn_scenario(
                team.operators,
                rate,
                plan.mean_handle_time(),
                patience,
                threshold,
                opts,
                seed,
            );
            let report = simulate(&sc, opts.replications, false, &mut |_, _| {})
                .map_err(|source| PlanCheckError::Sim { index, source })?;
            let h = &report.policies[0].overall;
            let sl = h
                .service_levels
                .iter()
                .find(|l| l.threshold_s == threshold)
                .map_or_else(Estimate::default, |l| l.pct);
            Ok(Some(Checked {
                operators: team.operators,
                predicted_service_level: team.service_level,
                predicted_mean_wait: team.mean_wait,
                predicted_abandonment: team.abandonment,
                simulated_service_level: share(sl),
                simulated_mean_wait: h.wait_all_mean_s,
                simulated_abandonment: share(h.abandonment_pct),
            }))
        };
        let erlang_c = run(&row.erlang_c, None)?;
        let erlang_a = match (&row.erlang_a, patience) {
            (Some(team), Some(p)) => run(team, Some(p))?,
            _ => None,
        };
        rows.push(CheckedRow {
            start_minute: row.interval.start_minute,
            arrival_rate_per_hour: rate,
            erlang_c,
            erlang_a,
        });
    }
    Ok(PlanCheck {
        threshold_secs: threshold,
        rows,
    })
}

/// A percentage estimate as a share.
fn share(e: Estimate) -> Estimate {
    Estimate {
        mean: e.mean / 100.0,
        half_width: e.half_width / 100.0,
        n: e.n,
    }
}

/// M/M/n(+M) with one channel, one tier, FIFO: the Erlang models' world.
fn mmn_scenario(
    operators: u32,
    per_hour: f64,
    handle_secs: f64,
    patience_secs: Option<f64>,
    threshold_secs: f64,
    opts: &PlanCheckOptions,
    seed: u64,
) -> Scenario {
    let call = ChannelId(1);
    let tier = TierId(1);
    let mut policy = Policy::new(
        vec![ChannelSpec::new(call, "call")],
        vec![
            TierSpec::new(tier, "all", 1)
                .first_response_target(Millis((threshold_secs * 1000.0).round() as u64)),
        ],
        vec![],
    );
    policy.queue_order = QueueOrder::Fifo;
    Scenario {
        name: format!("M/M/{operators} check"),
        seed,
        hours: opts.hours_per_interval + opts.warmup_minutes / 60.0,
        start_hour: 0.0,
        warmup_minutes: opts.warmup_minutes,
        policy,
        arrivals: vec![RatePiece {
            from_hour: 0.0,
            per_hour,
        }],
        tiers: vec![Weighted {
            value: tier,
            p: 1.0,
        }],
        channels: vec![Weighted {
            value: call,
            p: 1.0,
        }],
        needs: vec![],
        queues: vec![],
        handle_time: DurationDist::Exponential {
            mean_secs: handle_secs,
        },
        speed_by_level: [1.0; 6],
        first_response_delay: DurationDist::Fixed { secs: 0.0 },
        patience: patience_secs.map(|mean_secs| DurationDist::Exponential { mean_secs }),
        leave_message_share: 0.0,
        operators: vec![OperatorGroup {
            name: "planned".into(),
            count: operators,
            capacity: vec![ChannelCapacity {
                channel: call,
                capacity: 1,
            }],
            skills: vec![],
            teams: vec![],
            shift: None,
            breaks: vec![],
            profile: None,
        }],
        policies: vec![PolicyVariant {
            name: "fifo".into(),
            routing: Routing::Auto {
                selection: None,
                queue_order: None,
                overflow: None,
            },
        }],
        measure_wait_estimates: false,
        hard_skills: vec![],
        learning: None,
        service_level_secs: vec![threshold_secs],
        stop: None,
    }
}

impl fmt::Display for PlanCheck {
    /// One line per interval: the plan's teams, the formulas' service level
    /// and the simulated one (± its 95 % half-width).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "start  per hour | C: n  SL pred  SL sim        wait sim s | A: n  SL pred  SL sim        aband pred  aband sim"
        )?;
        for r in &self.rows {
            write!(
                f,
                "{:02}:{:02} {:9.1} |",
                r.start_minute / 60,
                r.start_minute % 60,
                r.arrival_rate_per_hour
            )?;
            match &r.erlang_c {
                Some(c) => write!(
                    f,
                    " {:4} {:7.1}% {:6.1}±{:4.1}% {:8.1}±{:4.1} |",
                    c.operators,
                    100.0 * c.predicted_service_level,
                    100.0 * c.simulated_service_level.mean,
                    100.0 * c.simulated_service_level.half_width,
                    c.simulated_mean_wait.mean,
                    c.simulated_mean_wait.half_width
                )?,
                None => write!(f, " {:>46} |", "no arrivals")?,
            }
            match &r.erlang_a {
                Some(a) => writeln!(
                    f,
                    " {:4} {:7.1}% {:6.1}±{:4.1}% {:10.1}% {:6.1}±{:3.1}%",
                    a.operators,
                    100.0 * a.predicted_service_level,
                    100.0 * a.simulated_service_level.mean,
                    100.0 * a.simulated_service_level.half_width,
                    100.0 * a.predicted_abandonment,
                    100.0 * a.simulated_abandonment.mean,
                    100.0 * a.simulated_abandonment.half_width
                )?,
                None => writeln!(f, " –")?,
            }
        }
        Ok(())
    }
}
