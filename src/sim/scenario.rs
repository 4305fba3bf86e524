//! The scenario: a virtual contact center described as data (JSON through
//! serde), validated before anything runs.
//!
//! # Example
//!
//! ```
//! use switchboard::sim::scenario::Scenario;
//!
//! // A scenario with no operators is refused before anything runs.
//! let scenario: Scenario = serde_json::from_str(r#"{
//!     "name": "empty", "seed": 1, "hours": 1, "warmup_minutes": 0,
//!     "policy": { "channels": [{ "id": 1, "name": "call" }],
//!                 "tiers": [{ "id": 1, "name": "all", "priority": 1, "first_response_target": 20000 }] },
//!     "arrivals": [{ "from_hour": 0, "per_hour": 60 }],
//!     "tiers": [{ "value": 1, "p": 1.0 }], "channels": [{ "value": 1, "p": 1.0 }],
//!     "handle_time": { "exponential": { "mean_secs": 60 } },
//!     "first_response_delay": { "fixed": { "secs": 0 } },
//!     "operators": [],
//!     "policies": [{ "name": "fifo", "routing": { "auto": {} } }]
//! }"#)?;
//! assert!(scenario.validate().is_err());
//! # Ok::<(), serde_json::Error>(())
//! ```

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::dist::{DistError, DurationDist, check_probability_mix};
use crate::ids::{ChannelId, OperatorId, ProfileId, QueueId, TeamId, TierId};
use crate::model::{ChannelCapacity, MAX_LEVEL, SkillLevel};
use crate::policy::PolicyError;
use crate::policy::{OverflowStep, Policy, QueueOrder, Selection};

/// A scenario that cannot run, naming the field.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// A field is out of range.
    #[error("scenario field `{field}` is invalid: {why}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        why: String,
    },
    /// A distribution's parameters are invalid.
    #[error("scenario distribution: {0}")]
    Dist(#[from] DistError),
    /// The base policy (or a variant of it) is invalid.
    #[error("scenario policy `{name}`: {error}")]
    Policy {
        /// The variant's name (or "base").
        name: String,
        /// Why.
        error: PolicyError,
    },
    /// A tier, channel, skill, queue or routing profile not declared in the policy.
    #[error("scenario field `{field}` references undeclared {what}")]
    Unknown {
        /// The field.
        field: String,
        /// What ("tier #3").
        what: String,
    },
}

fn invalid(field: impl Into<String>, why: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        field: field.into(),
        why: why.into(),
    }
}

/// Arrival rate over the day: piecewise constant, repeating every 24 hours.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct RatePiece {
    /// From this hour of the day (0–24) until the next piece.
    pub from_hour: f64,
    /// Conversations per hour.
    pub per_hour: f64,
}

/// Something drawn with a weight.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Weighted<T> {
    /// What.
    pub value: T,
    /// Probability; the weights of a mix sum to 1.
    pub p: f64,
}

/// What a conversation needs: skills with minimum levels and an optional team.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Need {
    /// Required skills (the first is the primary).
    #[cfg_attr(feature = "serde", serde(default))]
    pub skills: Vec<SkillLevel>,
    /// Target team.
    #[cfg_attr(feature = "serde", serde(default))]
    pub team: Option<TeamId>,
}

/// A break during a shift (the operator is away).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Break {
    /// Hour of the day it starts.
    pub at_hour: f64,
    /// Length in minutes.
    pub minutes: f64,
}

/// A group of identical operators.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct OperatorGroup {
    /// Display name ("senior", "junior").
    pub name: String,
    /// How many.
    pub count: u32,
    /// Capacity per channel.
    pub capacity: Vec<ChannelCapacity>,
    /// Skills and levels.
    #[cfg_attr(feature = "serde", serde(default))]
    pub skills: Vec<SkillLevel>,
    /// Teams.
    #[cfg_attr(feature = "serde", serde(default))]
    pub teams: Vec<TeamId>,
    /// Shift start and end hour of the simulated day; absent = the whole run.
    #[cfg_attr(feature = "serde", serde(default))]
    pub shift: Option<(f64, f64)>,
    /// Breaks.
    #[cfg_attr(feature = "serde", serde(default))]
    pub breaks: Vec<Break>,
    /// Routing profile (declared in the scenario's policy): which queues the group serves, in
    /// which priority, after which delay. Absent: every queue, alike.
    #[cfg_attr(feature = "serde", serde(default))]
    pub profile: Option<ProfileId>,
}

/// How operators pick conversations when nothing assigns them (the "before").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Pick {
    /// The oldest waiting conversation they can handle.
    OldestFirst,
    /// The easiest one they can handle (lowest total required level, then
    /// the smallest customer, then oldest): cherry-picking.
    Easiest,
}

/// How one compared policy routes.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Routing {
    /// The engine assigns, with the base policy changed as given.
    Auto {
        /// Operator selection (default: the base policy's).
        #[cfg_attr(feature = "serde", serde(default))]
        selection: Option<Selection>,
        /// Queue order (default: the base policy's).
        #[cfg_attr(feature = "serde", serde(default))]
        queue_order: Option<QueueOrder>,
        /// Overflow steps (default: the base policy's).
        #[cfg_attr(feature = "serde", serde(default))]
        overflow: Option<Vec<OverflowStep>>,
    },
    /// Nobody assigns: a free operator looks at the shared inbox after a
    /// browsing delay and claims one conversation.
    Manual {
        /// Time from having room to picking.
        browse: DurationDist,
        /// What they pick.
        pick: Pick,
    },
}

/// One policy compared in a scenario.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct PolicyVariant {
    /// Display name.
    pub name: String,
    /// How it routes.
    pub routing: Routing,
}

/// A virtual contact center.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Scenario {
    /// Display name.
    pub name: String,
    /// Base seed; replication `i` uses stream `i` of it.
    #[cfg_attr(feature = "serde", serde(default = "default_seed"))]
    pub seed: u64,
    /// Simulated hours with arrivals (the run then drains the queue).
    pub hours: f64,
    /// Hour of the day the run starts (for the rate profile, shifts, breaks).
    #[cfg_attr(feature = "serde", serde(default))]
    pub start_hour: f64,
    /// Conversations asked in the first minutes are left out of the KPIs.
    #[cfg_attr(feature = "serde", serde(default))]
    pub warmup_minutes: f64,
    /// The engine's policy: catalogue (channels, tiers, skills) and defaults.
    pub policy: Policy,
    /// Arrival rate profile (at least one piece; pieces in increasing hour).
    pub arrivals: Vec<RatePiece>,
    /// Tier mix.
    pub tiers: Vec<Weighted<TierId>>,
    /// Channel mix.
    pub channels: Vec<Weighted<ChannelId>>,
    /// Needs mix (skills and team).
    #[cfg_attr(feature = "serde", serde(default))]
    pub needs: Vec<Weighted<Need>>,
    /// Queue mix: each arrival's queue is drawn from it (`null`: the default queue). The queues
    /// are those of the scenario's policy (`policy.queues`, with `policy.profiles` for the
    /// operator groups' `profile`). Absent or empty: every arrival is in the default queue, and
    /// nothing is drawn, so scenarios without queues keep their random streams.
    #[cfg_attr(feature = "serde", serde(default))]
    pub queues: Vec<Weighted<Option<QueueId>>>,
    /// Handle time at proficiency "1.0".
    pub handle_time: DurationDist,
    /// Handle-time multiplier by the operator's level in the primary skill,
    /// index 0 (skill not held, e.g. after overflow) to 5. Default: all 1.
    #[cfg_attr(feature = "serde", serde(default = "default_speed"))]
    pub speed_by_level: [f64; 6],
    /// Assignment → first reply.
    pub first_response_delay: DurationDist,
    /// How long a waiting customer stays; absent = forever.
    #[cfg_attr(feature = "serde", serde(default))]
    pub patience: Option<DurationDist>,
    /// Of the customers whose patience runs out, the share who leave a
    /// message instead of abandoning.
    #[cfg_attr(feature = "serde", serde(default))]
    pub leave_message_share: f64,
    /// The roster.
    pub operators: Vec<OperatorGroup>,
    /// The policies compared (at least one).
    pub policies: Vec<PolicyVariant>,
    /// Record the engine's wait estimate at each arrival and compare it with
    /// the wait that happened (costs one pass over the queue per arrival).
    #[cfg_attr(feature = "serde", serde(default))]
    pub measure_wait_estimates: bool,
    /// Skills whose conversations count as hard (billing, marketing
    /// features…) in exposure reports and for learning. Default: none, and
    /// then a required level of 4 or more counts as hard.
    #[cfg_attr(feature = "serde", serde(default))]
    pub hard_skills: Vec<crate::ids::SkillId>,
    /// Operators learn from hard work. Default: off.
    #[cfg_attr(feature = "serde", serde(default))]
    pub learning: Option<Learning>,
    /// Service-level thresholds, seconds: the report gives the share answered within each
    /// (answered within ÷ (answered + abandoned)), overall and per tier. Positive, finite and
    /// strictly increasing. Default: `[20, 60]`.
    #[cfg_attr(feature = "serde", serde(default = "default_service_level_secs"))]
    pub service_level_secs: Vec<f64>,
    /// How long to run: a span of hours, a number of customers, or replications until a
    /// metric's 95 % interval is narrow enough. Absent: `hours` (the behaviour of scenario
    /// files written before this option).
    #[cfg_attr(feature = "serde", serde(default))]
    pub stop: Option<Stop>,
}

/// How long a simulation runs ([`Scenario::stop`]).
///
/// ```
/// use switchboard::sim::scenario::Stop;
///
/// let s: Stop = serde_json::from_str(r#"{"customers": 100000}"#)?;
/// assert_eq!(s, Stop::Customers(100_000));
/// let s: Stop = serde_json::from_str(
///     r#"{"half_width": {"metric": "wait_mean_s", "target": 2.0, "max_replications": 200}}"#,
/// )?;
/// assert!(matches!(s, Stop::HalfWidth(h) if h.max_replications == 200));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Stop {
    /// Arrivals for this many hours (overrides [`Scenario::hours`]); the run then drains.
    Hours(f64),
    /// Each replication stops its arrivals after this many customers have arrived after the
    /// warm-up (arrivals during the warm-up are extra and not counted), then lets the ones in
    /// the system finish. [`Scenario::hours`] is not used; shifts and the rate profile keep
    /// following the clock.
    Customers(u64),
    /// Replications of [`Scenario::hours`] each, added until the named metric's 95 %
    /// half-width is at most the target for every compared policy, or until
    /// `max_replications`.
    HalfWidth(HalfWidthStop),
}

/// The half-width stopping rule ([`Stop::HalfWidth`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct HalfWidthStop {
    /// The metric, one of [`STOP_METRICS`] or `service_level_<T>s_pct` for a threshold `T`
    /// of [`Scenario::service_level_secs`] (`service_level_20s_pct`), taken over everyone
    /// (not per tier).
    pub metric: String,
    /// Stop once the metric's 95 % half-width is at most this (the metric's unit). Positive.
    pub target: f64,
    /// Stop here even if the target is not reached (the report says which happened). At
    /// least 2. Default 100.
    #[cfg_attr(feature = "serde", serde(default = "default_max_replications"))]
    pub max_replications: u32,
}

/// The overall metrics a [`HalfWidthStop`] can name (fields of
/// [`crate::sim::report::Headline`]); service levels are named by threshold,
/// `service_level_<T>s_pct`.
pub const STOP_METRICS: &[&str] = &[
    "offered",
    "first_response_mean_s",
    "first_response_p90_s",
    "wait_mean_s",
    "wait_all_mean_s",
    "wait_served_mean_s",
    "p_wait_pct",
    "abandonment_pct",
    "response_rate_pct",
    "occupancy_pct",
    "queue_length_mean",
    "queue_length_max",
];

/// The metric name of the service level at `secs` seconds: `service_level_20s_pct`.
pub fn service_level_metric(secs: f64) -> String {
    format!("service_level_{secs}s_pct")
}

/// A simple learning model: proficiency rises with hard conversations handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Learning {
    /// An operator's level in a skill rises by one (up to 5) for every this
    /// many hard conversations of that skill they resolve.
    pub hard_conversations_per_level: u32,
}

#[cfg(feature = "serde")]
fn default_seed() -> u64 {
    1
}

#[cfg(feature = "serde")]
fn default_speed() -> [f64; 6] {
    [1.0; 6]
}

#[cfg(feature = "serde")]
fn default_service_level_secs() -> Vec<f64> {
    vec![20.0, 60.0]
}

#[cfg(feature = "serde")]
fn default_max_replications() -> u32 {
    100
}

impl Scenario {
    /// Checks everything before a run.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the field: negative or non-finite rates,
    /// zero operators, mixes that do not sum to 1, undeclared tiers,
    /// channels or skills, invalid distributions or policies.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.policy
            .validate()
            .map_err(|error| ScenarioError::Policy {
                name: "base".into(),
                error,
            })?;
        if !(self.hours.is_finite() && self.hours > 0.0) {
            return Err(invalid(
                "hours",
                format!("{} is not a positive number of hours", self.hours),
            ));
        }
        if !(self.start_hour.is_finite() && (0.0..24.0).contains(&self.start_hour)) {
            return Err(invalid("start_hour", "must be in [0, 24)"));
        }
        if !(self.warmup_minutes.is_finite() && self.warmup_minutes >= 0.0) {
            return Err(invalid("warmup_minutes", "must be ≥ 0"));
        }
        if self.arrivals.is_empty() {
            return Err(invalid("arrivals", "needs at least one rate piece"));
        }
        for (i, p) in self.arrivals.iter().enumerate() {
            if !(p.per_hour.is_finite() && p.per_hour >= 0.0) {
                return Err(invalid(
                    format!("arrivals[{i}].per_hour"),
                    format!("{} is negative or not finite", p.per_hour),
                ));
            }
            if !(p.from_hour.is_finite() && (0.0..24.0).contains(&p.from_hour)) {
                return Err(invalid(
                    format!("arrivals[{i}].from_hour"),
                    "must be in [0, 24)",
                ));
            }
            if i > 0 && p.from_hour <= self.arrivals[i - 1].from_hour {
                return Err(invalid(
                    format!("arrivals[{i}].from_hour"),
                    "pieces must be in increasing hour",
                ));
            }
        }
        if self.arrivals.iter().all(|p| p.per_hour == 0.0) {
            return Err(invalid("arrivals", "every rate is zero"));
        }
        check_probability_mix("tiers", &self.tiers.iter().map(|w| w.p).collect::<Vec<_>>())?;
        check_probability_mix(
            "channels",
            &self.channels.iter().map(|w| w.p).collect::<Vec<_>>(),
        )?;
        if !self.needs.is_empty() {
            check_probability_mix("needs", &self.needs.iter().map(|w| w.p).collect::<Vec<_>>())?;
        }
        if !self.queues.is_empty() {
            check_probability_mix(
                "queues",
                &self.queues.iter().map(|w| w.p).collect::<Vec<_>>(),
            )?;
        }
        for (i, q) in self.queues.iter().enumerate() {
            if let Some(id) = q.value {
                if !self.policy.queues.iter().any(|x| x.id == id) {
                    return Err(ScenarioError::Unknown {
                        field: format!("queues[{i}]"),
                        what: id.to_string(),
                    });
                }
            }
        }
        for (i, t) in self.tiers.iter().enumerate() {
            if !self.policy.tiers.iter().any(|x| x.id == t.value) {
                return Err(ScenarioError::Unknown {
                    field: format!("tiers[{i}]"),
                    what: t.value.to_string(),
                });
            }
        }
        for (i, c) in self.channels.iter().enumerate() {
            if !self.policy.channels.iter().any(|x| x.id == c.value) {
                return Err(ScenarioError::Unknown {
                    field: format!("channels[{i}]"),
                    what: c.value.to_string(),
                });
            }
        }
        let skill_known = |s: &SkillLevel| self.policy.skills.iter().any(|x| x.id == s.skill);
        for (i, n) in self.needs.iter().enumerate() {
            for s in &n.value.skills {
                if !skill_known(s) {
                    return Err(ScenarioError::Unknown {
                        field: format!("needs[{i}].skills"),
                        what: s.skill.to_string(),
                    });
                }
                if !(1..=MAX_LEVEL).contains(&s.level) {
                    return Err(invalid(
                        format!("needs[{i}].skills"),
                        format!("level {} outside 1–5", s.level),
                    ));
                }
            }
        }
        self.handle_time.validate()?;
        self.first_response_delay.validate()?;
        if let Some(p) = &self.patience {
            p.validate()?;
        }
        if !(0.0..=1.0).contains(&self.leave_message_share) {
            return Err(invalid("leave_message_share", "must be in [0, 1]"));
        }
        for (i, s) in self.speed_by_level.iter().enumerate() {
            if !(s.is_finite() && *s > 0.0) {
                return Err(invalid(
                    format!("speed_by_level[{i}]"),
                    "must be a positive number",
                ));
            }
        }
        if self
            .operators
            .iter()
            .map(|g| u64::from(g.count))
            .sum::<u64>()
            == 0
        {
            return Err(invalid("operators", "no operators"));
        }
        for (i, g) in self.operators.iter().enumerate() {
            for c in &g.capacity {
                if !self.policy.channels.iter().any(|x| x.id == c.channel) {
                    return Err(ScenarioError::Unknown {
                        field: format!("operators[{i}].capacity"),
                        what: c.channel.to_string(),
                    });
                }
                if c.capacity == 0 {
                    return Err(invalid(
                        format!("operators[{i}].capacity"),
                        "0 (leave the channel out)",
                    ));
                }
            }
            if let Some(p) = g.profile {
                if !self.policy.profiles.iter().any(|x| x.id == p) {
                    return Err(ScenarioError::Unknown {
                        field: format!("operators[{i}].profile"),
                        what: p.to_string(),
                    });
                }
            }
            for s in &g.skills {
                if !skill_known(s) {
                    return Err(ScenarioError::Unknown {
                        field: format!("operators[{i}].skills"),
                        what: s.skill.to_string(),
                    });
                }
                if !(1..=MAX_LEVEL).contains(&s.level) {
                    return Err(invalid(
                        format!("operators[{i}].skills"),
                        format!("level {} outside 1–5", s.level),
                    ));
                }
            }
            if let Some((a, b)) = g.shift {
                if !(a.is_finite()
                    && b.is_finite()
                    && (0.0..=48.0).contains(&a)
                    && a < b
                    && b <= 48.0)
                {
                    return Err(invalid(
                        format!("operators[{i}].shift"),
                        "start and end hours must satisfy 0 ≤ start < end ≤ 48",
                    ));
                }
            }
            for (j, b) in g.breaks.iter().enumerate() {
                if !(b.at_hour.is_finite()
                    && b.minutes.is_finite()
                    && b.minutes > 0.0
                    && b.at_hour >= 0.0)
                {
                    return Err(invalid(
                        format!("operators[{i}].breaks[{j}]"),
                        "needs an hour ≥ 0 and positive minutes",
                    ));
                }
            }
        }
        if self
            .learning
            .is_some_and(|l| l.hard_conversations_per_level == 0)
        {
            return Err(invalid(
                "learning.hard_conversations_per_level",
                "must be at least 1",
            ));
        }
        for (i, s) in self.hard_skills.iter().enumerate() {
            if !self.policy.skills.iter().any(|x| x.id == *s) {
                return Err(ScenarioError::Unknown {
                    field: format!("hard_skills[{i}]"),
                    what: s.to_string(),
                });
            }
        }
        self.validate_measures()?;
        if self.policies.is_empty() {
            return Err(invalid("policies", "compare at least one policy"));
        }
        for (i, v) in self.policies.iter().enumerate() {
            match &v.routing {
                Routing::Auto { .. } => {
                    self.policy_for(v)
                        .validate()
                        .map_err(|error| ScenarioError::Policy {
                            name: v.name.clone(),
                            error,
                        })?;
                }
                Routing::Manual { browse, .. } => browse.validate().map_err(|e| match e {
                    DistError::InvalidParameter {
                        field,
                        value,
                        expected,
                    } => DistError::InvalidParameter {
                        field: format!("policies[{i}].browse.{field}"),
                        value,
                        expected,
                    },
                    other => other,
                })?,
            }
        }
        Ok(())
    }

    /// The service-level thresholds and the stopping rule.
    fn validate_measures(&self) -> Result<(), ScenarioError> {
        if self.service_level_secs.is_empty() {
            return Err(invalid(
                "service_level_secs",
                "list at least one threshold (default [20, 60])",
            ));
        }
        for (i, t) in self.service_level_secs.iter().enumerate() {
            if !(t.is_finite() && *t > 0.0) {
                return Err(invalid(
                    format!("service_level_secs[{i}]"),
                    format!("{t} is not a positive number of seconds"),
                ));
            }
            if i > 0 && *t <= self.service_level_secs[i - 1] {
                return Err(invalid(
                    format!("service_level_secs[{i}]"),
                    "thresholds must be strictly increasing (sorted, no repeats)",
                ));
            }
        }
        match &self.stop {
            Some(Stop::Hours(h)) if !(h.is_finite() && *h > 0.0) => {
                return Err(invalid(
                    "stop.hours",
                    format!("{h} is not a positive number of hours"),
                ));
            }
            Some(Stop::Customers(0)) => {
                return Err(invalid("stop.customers", "must be at least 1"));
            }
            None | Some(Stop::Hours(_)) | Some(Stop::Customers(_)) => {}
            Some(Stop::HalfWidth(h)) => {
                if !self.is_stop_metric(&h.metric) {
                    return Err(ScenarioError::Unknown {
                        field: "stop.half_width.metric".into(),
                        what: format!(
                            "metric `{}` (known: {}, service_level_<T>s_pct for T in service_level_secs)",
                            h.metric,
                            STOP_METRICS.join(", ")
                        ),
                    });
                }
                if !(h.target.is_finite() && h.target > 0.0) {
                    return Err(invalid(
                        "stop.half_width.target",
                        format!("{} is not a positive half-width", h.target),
                    ));
                }
                if h.max_replications < 2 {
                    return Err(invalid(
                        "stop.half_width.max_replications",
                        "must be at least 2 (one replication has no interval)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether a [`HalfWidthStop`] may name `metric`.
    pub fn is_stop_metric(&self, metric: &str) -> bool {
        STOP_METRICS.contains(&metric)
            || self
                .service_level_secs
                .iter()
                .any(|t| service_level_metric(*t) == metric)
    }

    /// Hours of arrivals per replication: [`Stop::Hours`] if given, else
    /// [`Scenario::hours`] (also under [`Stop::HalfWidth`]); `None` under
    /// [`Stop::Customers`], where the count ends the arrivals.
    pub fn arrival_hours(&self) -> Option<f64> {
        match &self.stop {
            Some(Stop::Hours(h)) => Some(*h),
            Some(Stop::Customers(_)) => None,
            None | Some(Stop::HalfWidth(_)) => Some(self.hours),
        }
    }

    /// Customers (arrived after the warm-up) after which arrivals stop, under
    /// [`Stop::Customers`].
    pub fn customer_quota(&self) -> Option<u64> {
        match &self.stop {
            Some(Stop::Customers(n)) => Some(*n),
            _ => None,
        }
    }

    /// The engine policy a variant runs with.
    pub fn policy_for(&self, v: &PolicyVariant) -> Policy {
        let mut p = self.policy.clone();
        if let Routing::Auto {
            selection,
            queue_order,
            overflow,
        } = &v.routing
        {
            if let Some(s) = selection {
                p.selection = s.clone();
            }
            if let Some(q) = queue_order {
                p.queue_order = *q;
            }
            if let Some(o) = overflow {
                p.overflow = o.clone();
            }
        }
        p
    }

    /// Where group `group`'s shift lies, ms from the run's start, as the simulator schedules
    /// it: from the next time the clock shows the shift's start (0 when that is the start
    /// hour) for the shift's length; `(0, u64::MAX)` without a shift (or for an unknown group).
    pub fn shift_window_ms(&self, group: usize) -> (u64, u64) {
        let Some((a, b)) = self.operators.get(group).and_then(|g| g.shift) else {
            return (0, u64::MAX);
        };
        let on = ((a - self.start_hour).rem_euclid(24.0) * 3_600_000.0).round() as u64;
        (on, on + ((b - a) * 3_600_000.0).round() as u64)
    }

    /// Operator ids of a group member: group `g` (0-based), member `k`: `1000·(g+1) + k`.
    pub fn operator_id(group: usize, member: u32) -> OperatorId {
        OperatorId(1000 * (group as u64 + 1) + u64::from(member))
    }
}
