//! Replications and their summary: every compared policy runs the same
//! random streams (replication `i` uses stream `i` for every policy, common
//! random numbers), and each headline metric is reported as a mean over
//! replications with a 95 % confidence interval (Student's t).
//!
//! # Example
//!
//! ```
//! use switchboard::sim::report::Estimate;
//!
//! // Three replications' means, summarised with a 95 % interval.
//! let e = Estimate::from_values([Some(10.0), Some(12.0), Some(11.0)]);
//! assert_eq!((e.n, e.mean), (3, 11.0));
//! assert!(e.half_width > 0.0);
//! ```

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use std::ops::ControlFlow;

use super::run::{RunResult, SimError, run_once};
use super::scenario::{Scenario, Stop, service_level_metric};
use crate::ids::{OperatorId, QueueId, TierId};
use crate::kpi::KpiStats;

/// A mean over replications with the half-width of its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Estimate {
    /// Mean over the replications where the metric exists.
    pub mean: f64,
    /// Half-width of the 95 % interval (0 with one replication).
    pub half_width: f64,
    /// Replications contributing.
    pub n: u32,
}

impl Estimate {
    /// From per-replication values (missing ones skipped).
    pub fn from_values(values: impl IntoIterator<Item = Option<f64>>) -> Estimate {
        let v: Vec<f64> = values.into_iter().flatten().collect();
        let n = v.len();
        if n == 0 {
            return Estimate::default();
        }
        let mean = v.iter().sum::<f64>() / n as f64;
        let half_width = if n < 2 {
            0.0
        } else {
            let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
            t_975(n - 1) * (var / n as f64).sqrt()
        };
        Estimate {
            mean,
            half_width,
            n: n as u32,
        }
    }
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => T[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// Headline metrics for one population (everyone, one tier or one queue).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Headline {
    /// The tier, or `None` for everyone.
    pub tier: Option<TierId>,
    /// Customers asked (after warm-up), per replication.
    pub offered: Estimate,
    /// Mean first response time, seconds.
    pub first_response_mean_s: Estimate,
    /// 90th percentile of first response time, seconds.
    pub first_response_p90_s: Estimate,
    /// Mean wait for an operator, seconds.
    pub wait_mean_s: Estimate,
    /// Abandoned ÷ offered, percent.
    pub abandonment_pct: Estimate,
    /// Answered within 20 s ÷ (answered + abandoned), percent.
    pub service_level_20s_pct: Estimate,
    /// Answered ÷ offered, percent.
    pub response_rate_pct: Estimate,
    /// Busy ÷ (busy + idle) over all operators after the warm-up, percent,
    /// from the engine's activity intervals (everyone only; not per tier).
    pub occupancy_pct: Estimate,
    /// P(wait), percent: of the customers who were served or left (abandoned or left a
    /// message), the share not assigned at the millisecond they arrived. Customers still
    /// waiting when the run stops are in neither term. (Not per queue.)
    #[cfg_attr(feature = "serde", serde(default))]
    pub p_wait_pct: Estimate,
    /// Mean wait over **all** those customers, seconds: to the assignment for the served, to
    /// leaving for those who abandoned or left a message (0 for those assigned at once). The
    /// quantity Erlang A's `mean_wait` predicts. (Not per queue.)
    #[cfg_attr(feature = "serde", serde(default))]
    pub wait_all_mean_s: Estimate,
    /// Mean wait of the **served** (assigned) customers, seconds: Erlang C's average speed of
    /// answer. (Not per queue.)
    #[cfg_attr(feature = "serde", serde(default))]
    pub wait_served_mean_s: Estimate,
    /// Service level at every threshold of the scenario's `service_level_secs`, in that
    /// order: answered within the threshold ÷ (answered + abandoned), percent (messages left
    /// in neither term, as the KPI default). (Not per queue.)
    #[cfg_attr(feature = "serde", serde(default))]
    pub service_levels: Vec<ServiceLevelEstimate>,
    /// Time-average number of customers waiting for an operator over the measured span
    /// (after the warm-up to the end of arrivals), sampled after every batch of events at
    /// the same millisecond (everyone only; not per tier).
    #[cfg_attr(feature = "serde", serde(default))]
    pub queue_length_mean: Estimate,
    /// The largest number waiting held for a positive time in the measured span, averaged
    /// over replications (everyone only; not per tier).
    #[cfg_attr(feature = "serde", serde(default))]
    pub queue_length_max: Estimate,
}

/// The service level at one threshold, over replications.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ServiceLevelEstimate {
    /// The threshold, seconds.
    pub threshold_s: f64,
    /// Answered within it ÷ (answered + abandoned), percent.
    pub pct: Estimate,
}

impl Headline {
    /// The metric a [`crate::sim::scenario::HalfWidthStop`] names: one of
    /// [`crate::sim::scenario::STOP_METRICS`], or `service_level_<T>s_pct` for a threshold
    /// `T` in [`Headline::service_levels`]; `None` for an unknown name.
    pub fn metric(&self, name: &str) -> Option<Estimate> {
        Some(match name {
            "offered" => self.offered,
            "first_response_mean_s" => self.first_response_mean_s,
            "first_response_p90_s" => self.first_response_p90_s,
            "wait_mean_s" => self.wait_mean_s,
            "wait_all_mean_s" => self.wait_all_mean_s,
            "wait_served_mean_s" => self.wait_served_mean_s,
            "p_wait_pct" => self.p_wait_pct,
            "abandonment_pct" => self.abandonment_pct,
            "response_rate_pct" => self.response_rate_pct,
            "occupancy_pct" => self.occupancy_pct,
            "queue_length_mean" => self.queue_length_mean,
            "queue_length_max" => self.queue_length_max,
            other => {
                return self
                    .service_levels
                    .iter()
                    .find(|l| service_level_metric(l.threshold_s) == other)
                    .map(|l| l.pct);
            }
        })
    }
}

/// Load of one operator group, over replications.
///
/// Both are measured over the measured span (after the warm-up to the end of arrivals) from
/// the engine's activity intervals:
/// * **occupancy** = busy ÷ logged-in time, where logged-in time is the time the group's
///   operators were available to take work (busy + idle; away on a break and offline are
///   left out): how hard they worked while they could work. The same ratio as
///   [`Headline::occupancy_pct`] and [`OperatorLine::occupancy_pct`], per group.
/// * **utilisation** = busy ÷ scheduled time, where scheduled time is the part of the span
///   inside the group's shift (the whole span without one), breaks included: how much of
///   the paid time went into work. Logged-in time is at most scheduled time, so utilisation
///   ≤ occupancy.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct GroupLoad {
    /// The group's name in the scenario.
    pub group: String,
    /// Operators in it.
    pub operators: u32,
    /// Busy ÷ (busy + idle), percent.
    pub occupancy_pct: Estimate,
    /// Busy ÷ scheduled time, percent.
    pub utilisation_pct: Estimate,
}

/// Why the replications stopped ([`SimReport::stop`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum StopReason {
    /// The number of replications asked for ran (hours or customers per replication).
    #[default]
    Replications,
    /// The half-width rule's metric reached its target for every policy.
    TargetReached,
    /// The half-width rule hit `max_replications` before its target.
    MaxReplications,
}

/// How the run length was decided, and what it came to.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StopOutcome {
    /// The rule (`None`: the scenario's `hours`).
    pub rule: Option<Stop>,
    /// Why the replications stopped.
    pub reason: StopReason,
    /// Replications per policy that ran.
    pub replications: u32,
    /// Under the half-width rule, the named metric (everyone) per policy at the end, in
    /// scenario order.
    pub half_widths: Vec<(String, Estimate)>,
}

pub(super) use super::measures::MeasureTally;
pub use super::measures::{RunMeasures, WaitTally};

/// Headline metrics for one queue (ASA is `wait_mean_s`).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct QueueHeadline {
    /// The queue; `None` is the default queue (arrivals the queue mix put in none).
    pub queue: Option<QueueId>,
    /// Its figures (`tier` is `None`; occupancy is not split by queue).
    pub headline: Headline,
}

/// Handled counts for one operator.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct OperatorLine {
    /// The operator.
    pub operator: OperatorId,
    /// Conversations handled (assigned and resolved), per replication.
    pub handled: Estimate,
    /// Mean handle time, seconds.
    pub handle_mean_s: Estimate,
    /// Utilisation: busy ÷ (busy + idle) for this operator, percent.
    pub occupancy_pct: Estimate,
}

/// One compared policy.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct PolicySummary {
    /// Its name.
    pub name: String,
    /// Everyone.
    pub overall: Headline,
    /// Per tier, in tier-id order.
    pub by_tier: Vec<Headline>,
    /// Per queue, the default queue first, then in queue-id order; empty unless the scenario
    /// puts arrivals in declared queues. Every conversation is in one queue, so the queues'
    /// offered add up to everyone's.
    #[cfg_attr(feature = "serde", serde(default))]
    pub by_queue: Vec<QueueHeadline>,
    /// Per operator, most handled first (then operator id).
    pub operators: Vec<OperatorLine>,
    /// Mean absolute error of the wait estimate given at arrival, per tier, ms.
    pub wait_estimate_mae_ms: Vec<(TierId, Estimate)>,
    /// Who received the hard work, per operator group.
    pub exposure: Vec<GroupExposure>,
    /// Gini coefficient of hard conversations across operators (0 = even).
    pub hard_gini: Estimate,
    /// Occupancy and utilisation per operator group, in scenario order.
    #[cfg_attr(feature = "serde", serde(default))]
    pub groups: Vec<GroupLoad>,
}

/// Exposure of one operator group to hard work (the "no more
/// cherry-picking" effect), and what they learned under the learning model.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct GroupExposure {
    /// The group's name in the scenario.
    pub group: String,
    /// Hard conversations received per operator of the group.
    pub hard_per_operator: Estimate,
    /// Hard ÷ all conversations the group received, percent.
    pub hard_share_pct: Estimate,
    /// Mean skill level at the end minus at the start, per held skill.
    pub level_gain: Estimate,
}

/// What a simulation produced.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SimReport {
    /// The scenario's name.
    pub scenario: String,
    /// Its base seed.
    pub seed: u64,
    /// Replications per policy.
    pub replications: u32,
    /// One summary per compared policy, in scenario order.
    pub policies: Vec<PolicySummary>,
    /// Every run (its full KPI report), policy-major.
    pub runs: Vec<RunResult>,
    /// How the run length was decided and why the replications stopped.
    #[cfg_attr(feature = "serde", serde(default))]
    pub stop: StopOutcome,
}

fn secs(ms: Option<f64>) -> Option<f64> {
    ms.map(|m| m / 1000.0)
}

fn pct(ratio: Option<f64>) -> Option<f64> {
    ratio.map(|r| r * 100.0)
}

/// The queueing measures of a population from its per-replication tallies.
fn add_waits(h: &mut Headline, tallies: &[Option<&WaitTally>], thresholds: &[f64]) {
    let e = |f: &dyn Fn(&WaitTally) -> Option<f64>| {
        Estimate::from_values(tallies.iter().map(|t| t.and_then(f)))
    };
    h.p_wait_pct = e(&|t| pct(t.p_wait()));
    h.wait_all_mean_s = e(&|t| secs(t.wait_all_mean_ms()));
    h.wait_served_mean_s = e(&|t| secs(t.wait_served_mean_ms()));
    h.service_levels = thresholds
        .iter()
        .enumerate()
        .map(|(k, threshold)| ServiceLevelEstimate {
            threshold_s: *threshold,
            pct: e(&|t| pct(t.service_level(k))),
        })
        .collect();
}

fn headline(tier: Option<TierId>, stats: &[Option<&KpiStats>]) -> Headline {
    let e = |f: &dyn Fn(&KpiStats) -> Option<f64>| {
        Estimate::from_values(stats.iter().map(|s| s.and_then(f)))
    };
    Headline {
        tier,
        offered: e(&|s| Some(s.offered as f64)),
        first_response_mean_s: e(&|s| secs(s.first_response.mean_ms)),
        first_response_p90_s: e(&|s| secs(s.first_response.p90.map(|m| m.0 as f64))),
        wait_mean_s: e(&|s| secs(s.wait.mean_ms)),
        abandonment_pct: e(&|s| s.abandonment.per_offered.percent()),
        service_level_20s_pct: e(&|s| s.service_levels.first().and_then(|l| l.default.percent())),
        response_rate_pct: e(&|s| s.response_rate.percent()),
        occupancy_pct: e(&|s| s.occupancy.occupancy.percent()),
        ..Headline::default()
    }
}

/// Runs every policy of the scenario `replications` times and summarises.
/// `progress(done, total)` is called after each run (for a progress bar).
///
/// The scenario's [`Scenario::stop`] sets the run length: each replication runs its `hours`
/// (or [`Stop::Hours`]), or until [`Stop::Customers`] customers arrived after the warm-up.
/// Under [`Stop::HalfWidth`], `replications` is where it starts (at least 2, at most
/// `max_replications`): one more replication of every policy is added (common random
/// numbers: replication `i` of every policy uses stream `i`) until the named metric's 95 %
/// half-width over everyone is at most the target for every policy, or `max_replications`
/// ran; [`SimReport::stop`] says which, and `total` is then `max_replications` × policies.
///
/// # Errors
/// [`SimError`]; an invalid scenario is refused before anything runs.
pub fn simulate(
    scenario: &Scenario,
    replications: u32,
    keep_records: bool,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<SimReport, SimError> {
    simulate_until(scenario, replications, keep_records, &mut |done, total| {
        progress(done, total);
        ControlFlow::Continue(())
    })
}

/// [`simulate`] with a progress callback that can stop the run between two replications
/// (an interactive host's cancel button, Ctrl-C in a notebook): returning
/// [`ControlFlow::Break`] ends it with [`SimError::Stopped`], and nothing is reported.
///
/// # Errors
/// As [`simulate`], and [`SimError::Stopped`].
pub fn simulate_until(
    scenario: &Scenario,
    replications: u32,
    keep_records: bool,
    progress: &mut dyn FnMut(u32, u32) -> ControlFlow<()>,
) -> Result<SimReport, SimError> {
    scenario.validate()?;
    if replications == 0 {
        return Err(super::scenario::ScenarioError::Invalid {
            field: "replications".into(),
            why: "must be at least 1".into(),
        }
        .into());
    }
    let rule = match &scenario.stop {
        Some(Stop::HalfWidth(h)) => Some(h),
        _ => None,
    };
    let (mut want, max) = match rule {
        Some(h) => (
            replications.clamp(2, h.max_replications),
            h.max_replications,
        ),
        None => (replications, replications),
    };
    let n_policies = scenario.policies.len() as u32;
    let total = max * n_policies;
    let mut per_policy: Vec<Vec<RunResult>> = vec![Vec::new(); scenario.policies.len()];
    let mut ran = 0u32;
    let mut done = 0u32;
    let mut policies;
    let mut half_widths = Vec::new();
    let reason = loop {
        while ran < want {
            for (v, mine) in scenario.policies.iter().zip(per_policy.iter_mut()) {
                mine.push(run_once(scenario, v, ran, keep_records)?);
                done += 1;
                if progress(done, total).is_break() {
                    return Err(SimError::Stopped { done, total });
                }
            }
            ran += 1;
        }
        policies = scenario
            .policies
            .iter()
            .zip(&per_policy)
            .map(|(v, mine)| summarise(scenario, &v.name, mine))
            .collect::<Vec<_>>();
        let Some(h) = rule else {
            break StopReason::Replications;
        };
        half_widths = policies
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.overall.metric(&h.metric).unwrap_or_default(),
                )
            })
            .collect();
        let reached = half_widths
            .iter()
            .all(|(_, e)| e.n >= 2 && e.half_width <= h.target);
        if reached {
            break StopReason::TargetReached;
        }
        if ran >= max {
            break StopReason::MaxReplications;
        }
        want = ran + 1;
    };
    Ok(SimReport {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        replications: ran,
        policies,
        runs: per_policy.into_iter().flatten().collect(),
        stop: StopOutcome {
            rule: scenario.stop.clone(),
            reason,
            replications: ran,
            half_widths,
        },
    })
}

/// Occupancy and utilisation per operator group (see [`GroupLoad`]).
fn group_loads(scenario: &Scenario, runs: &[RunResult]) -> Vec<GroupLoad> {
    scenario
        .operators
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let mine = |id: OperatorId| id.0 / 1000 == g as u64 + 1;
            let (on, off) = scenario.shift_window_ms(g);
            let per_run = |r: &RunResult| {
                let (busy, available) = r
                    .report
                    .operators
                    .iter()
                    .filter(|o| mine(o.operator))
                    .fold((0u64, 0u64), |(b, a), o| {
                        (b + o.occupancy.numerator, a + o.occupancy.denominator)
                    });
                let (from, to) = (r.measures.measured_from_ms, r.measures.measured_to_ms);
                let scheduled = off.min(to).saturating_sub(on.max(from)) * u64::from(group.count);
                (busy, available, scheduled)
            };
            GroupLoad {
                group: group.name.clone(),
                operators: group.count,
                occupancy_pct: Estimate::from_values(runs.iter().map(|r| {
                    let (b, a, _) = per_run(r);
                    (a > 0).then(|| 100.0 * b as f64 / a as f64)
                })),
                utilisation_pct: Estimate::from_values(runs.iter().map(|r| {
                    let (b, _, s) = per_run(r);
                    (s > 0).then(|| 100.0 * b as f64 / s as f64)
                })),
            }
        })
        .collect()
}

fn exposure(scenario: &Scenario, runs: &[RunResult]) -> Vec<GroupExposure> {
    scenario
        .operators
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let mine = |id: OperatorId| id.0 / 1000 == g as u64 + 1;
            let per_run = |r: &RunResult| {
                let ops: Vec<_> = r
                    .exposure
                    .operators
                    .iter()
                    .filter(|o| mine(o.operator))
                    .collect();
                let hard: u64 = ops.iter().map(|o| o.hard).sum();
                let total: u64 = ops.iter().map(|o| o.total).sum();
                let start: u64 = group.skills.iter().map(|s| u64::from(s.level)).sum::<u64>()
                    * u64::from(group.count);
                let end: u64 = r
                    .final_skills
                    .iter()
                    .filter(|(id, _)| mine(*id))
                    .flat_map(|(_, s)| s.iter().map(|k| u64::from(k.level)))
                    .sum();
                let held = (group.skills.len() as u64 * u64::from(group.count)).max(1);
                (hard, total, (end as f64 - start as f64) / held as f64)
            };
            let n = f64::from(group.count.max(1));
            GroupExposure {
                group: group.name.clone(),
                hard_per_operator: Estimate::from_values(
                    runs.iter().map(|r| Some(per_run(r).0 as f64 / n)),
                ),
                hard_share_pct: Estimate::from_values(runs.iter().map(|r| {
                    let (h, t, _) = per_run(r);
                    (t > 0).then(|| 100.0 * h as f64 / t as f64)
                })),
                level_gain: Estimate::from_values(runs.iter().map(|r| Some(per_run(r).2))),
            }
        })
        .collect()
}

fn summarise(scenario: &Scenario, name: &str, runs: &[RunResult]) -> PolicySummary {
    let overall: Vec<Option<&KpiStats>> = runs.iter().map(|r| Some(&r.report.overall)).collect();
    let mut tiers: Vec<TierId> = runs
        .iter()
        .flat_map(|r| r.report.by_tier.keys().copied())
        .collect();
    tiers.sort_unstable();
    tiers.dedup();
    let by_tier: Vec<Headline> = tiers
        .iter()
        .map(|t| {
            headline(
                Some(*t),
                &runs
                    .iter()
                    .map(|r| r.report.by_tier.get(t))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let mut queues: Vec<Option<QueueId>> = Vec::new();
    if runs.iter().any(|r| r.report.has_queues()) {
        queues = runs
            .iter()
            .flat_map(|r| r.report.by_queue.keys().copied())
            .collect();
        queues.sort_unstable();
        queues.dedup();
    }
    let by_queue = queues
        .iter()
        .map(|q| {
            // A replication where nobody was offered to the queue counts 0 offered; its
            // durations and rates are missing, not 0.
            let stats: Vec<_> = runs.iter().map(|r| r.report.by_queue.get(q)).collect();
            let mut headline = headline(None, &stats);
            headline.offered = Estimate::from_values(
                stats
                    .iter()
                    .map(|s| Some(s.map_or(0.0, |s| s.offered as f64))),
            );
            QueueHeadline {
                queue: *q,
                headline,
            }
        })
        .collect();
    let mut ops: Vec<OperatorId> = runs
        .iter()
        .flat_map(|r| r.report.operators.iter().map(|o| o.operator))
        .collect();
    ops.sort_unstable();
    ops.dedup();
    let mut operators: Vec<OperatorLine> = ops
        .iter()
        .map(|op| {
            let rows: Vec<_> = runs
                .iter()
                .map(|r| r.report.operators.iter().find(|o| o.operator == *op))
                .collect();
            OperatorLine {
                operator: *op,
                handled: Estimate::from_values(
                    rows.iter()
                        .map(|o| Some(o.map_or(0.0, |o| o.handled as f64))),
                ),
                handle_mean_s: Estimate::from_values(
                    rows.iter().map(|o| secs(o.and_then(|o| o.mean_handle_ms))),
                ),
                occupancy_pct: Estimate::from_values(
                    rows.iter().map(|o| o.and_then(|o| o.occupancy.percent())),
                ),
            }
        })
        .collect();
    operators.sort_by(|a, b| {
        b.handled
            .mean
            .total_cmp(&a.handled.mean)
            .then(a.operator.cmp(&b.operator))
    });
    let mut est_tiers: Vec<TierId> = runs
        .iter()
        .flat_map(|r| r.wait_estimates.iter().map(|e| e.tier))
        .collect();
    est_tiers.sort_unstable();
    est_tiers.dedup();
    let wait_estimate_mae_ms = est_tiers
        .iter()
        .map(|t| {
            (
                *t,
                Estimate::from_values(runs.iter().map(|r| {
                    r.wait_estimates
                        .iter()
                        .find(|e| e.tier == *t)
                        .map(|e| e.mean_abs_error_ms)
                })),
            )
        })
        .collect();
    let thresholds = &scenario.service_level_secs;
    let mut overall = headline(None, &overall);
    add_waits(
        &mut overall,
        &runs
            .iter()
            .map(|r| Some(&r.measures.overall))
            .collect::<Vec<_>>(),
        thresholds,
    );
    overall.queue_length_mean =
        Estimate::from_values(runs.iter().map(|r| r.measures.queue_length_mean));
    overall.queue_length_max = Estimate::from_values(
        runs.iter()
            .map(|r| Some(f64::from(r.measures.queue_length_max))),
    );
    let mut by_tier = by_tier;
    for h in &mut by_tier {
        let tallies: Vec<Option<&WaitTally>> = runs
            .iter()
            .map(|r| {
                r.measures
                    .by_tier
                    .iter()
                    .find(|(t, _)| Some(*t) == h.tier)
                    .map(|(_, w)| w)
            })
            .collect();
        add_waits(h, &tallies, thresholds);
    }
    PolicySummary {
        name: name.to_string(),
        overall,
        by_tier,
        by_queue,
        operators,
        wait_estimate_mae_ms,
        exposure: exposure(scenario, runs),
        hard_gini: Estimate::from_values(runs.iter().map(|r| r.exposure.hard_gini)),
        groups: group_loads(scenario, runs),
    }
}
