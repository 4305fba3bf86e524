//! Proficiency scoring from KPI results, balanced team building, skill write-back and exposure
//! metrics (who receives the hard work).
//!
//! # Overview
//!
//! Cloudgate's *proficiency index* (DOMAIN.md §2): pick a few performance indicators, give each
//! a target, and take the weighted average of each operator's **attainment** as their
//! proficiency; split operators into bands (Low / Middle / High) and build teams of about five
//! with the bands evenly mixed. Channel Talk (§1) adds why routing should follow measured skill
//! and why hard work should reach juniors too. This module holds those pieces:
//!
//! - [`MetricTable`]: per-operator values of the [`Metric`]s, filled from a
//!   [`KpiReport`] ([`MetricTable::from_report`]) plus caller-supplied [`Metric::Custom`]
//!   values (conversion, repurchase…). One table per skill gives per-skill scores.
//! - [`Scoring`]: the indicators (metric, target, [`Direction`], weight), the attainment cap and
//!   the [`Missing`] rule; [`Scoring::score`] gives an [`OperatorScore`] per operator.
//! - [`Bands`]: named bands split by increasing cut points; [`Bands::members`] turns scores
//!   into team [`Member`]s.
//! - [`build_teams`]: snake draft then swap improvement, minimising the [`Objective`].
//! - [`LevelRule`] and [`skill_events`]: map scores to skill levels 1–5 and produce
//!   [`Event::OperatorSkillsChanged`] events, so routing follows measured skill.
//! - [`Exposure`]: counts per operator × skill × difficulty, fed from [`Decision`]s; its
//!   [`ExposureReport`] gives each operator's share of hard work and the [`gini`] coefficient
//!   of how evenly hard work is spread.
//!
//! # Definitions
//!
//! - **Attainment** of one indicator with target `t > 0` and value `v ≥ 0`:
//!   higher is better: `v / t`; lower is better: `t / v` (and `v = 0` attains the cap). Both are
//!   capped at [`Scoring::cap`] ([`DEFAULT_CAP`] = 1.5 unless configured), so beating one
//!   target by far cannot hide missing another. Attainment 1.0 means "target met exactly".
//! - **Missing values** (an operator without a mean handle time, a satisfaction mean, or a
//!   custom value): under [`Missing::Zero`] (the default) they attain 0 and keep their weight;
//!   under [`Missing::Exclude`] the indicator is left out of that operator's average (weight
//!   and all), and an operator with no value for any weighted indicator gets no score.
//! - **Score** = `Σ wᵢ · attainmentᵢ / Σ wᵢ`, in `[0, cap]`.
//! - **Band**: with cut points `c₀ < c₁ < …`, a score `s` falls in band `i` = the number of cut
//!   points `≤ s` (a score exactly on a cut point belongs to the upper band). The default is
//!   Low `< 0.8 ≤` Middle `< 1.0 ≤` High.
//! - **Team objective** ([`Objective`]), compared lexicographically: first the *band spread*
//!   `Σ_b (max_t n_{t,b} − min_t n_{t,b})` (n = members of band b in team t), then the *score
//!   spread* `max_t T_t − min_t T_t` (T = team total score).
//! - **Gini coefficient** of non-negative counts `x₁…xₙ` with sum `S > 0`:
//!   `G = Σᵢ Σⱼ |xᵢ − xⱼ| / (2 · n · S)`; 0 when all are equal, `(n − 1) / n` when one holds
//!   everything; undefined (`None`) when `n = 0` or `S = 0`.
//!
//! # Determinism
//!
//! Every output is ordered by operator id (and skill id, difficulty) or by the documented
//! tie-break; floating-point sums run in a fixed order; nothing iterates a hash map.
//!
//! # Example
//!
//! ```
//! use switchboard::OperatorId;
//! use switchboard::proficiency::{
//!     Bands, Direction, Indicator, Metric, MetricTable, Scoring, build_teams,
//! };
//!
//! let mut table = MetricTable::new();
//! for (id, handled, csat) in [(1, 120.0, 4.6), (2, 80.0, 4.1), (3, 100.0, 3.2), (4, 60.0, 4.8)] {
//!     table.set(OperatorId(id), Metric::Handled, handled)?;
//!     table.set(OperatorId(id), Metric::SatisfactionMean, csat)?;
//! }
//! let scoring = Scoring::new(vec![
//!     Indicator::new(Metric::Handled, 100.0, Direction::HigherIsBetter, 1.0),
//!     Indicator::new(Metric::SatisfactionMean, 4.5, Direction::HigherIsBetter, 2.0),
//! ])?;
//! let scores = scoring.score(&table)?;
//! // Operator 1: (1·min(1.2, 1.5) + 2·min(4.6/4.5, 1.5)) / 3
//! let s1 = scores[0].score.unwrap();
//! assert!((s1 - (1.2 + 2.0 * 4.6 / 4.5) / 3.0).abs() < 1e-12);
//!
//! let bands = Bands::default(); // Low < 0.8 ≤ Middle < 1.0 ≤ High
//! assert_eq!(bands.name(bands.classify(s1)), Some("High"));
//! let plan = build_teams(&bands.members(&scores), 2, bands.len())?;
//! assert_eq!(plan.teams.len(), 2);
//! # Ok::<(), switchboard::proficiency::ProficiencyError>(())
//! ```

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use smallvec::SmallVec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::engine::{Decision, DecisionKind, Event};
use crate::ids::{OperatorId, SkillId};
use crate::kpi::{KpiReport, Rate};
use crate::model::{MAX_LEVEL, MIN_LEVEL, OperatorSpec, SkillLevel};
use crate::time::Timestamp;

/// The attainment cap used unless [`Scoring::with_cap`] sets another.
pub const DEFAULT_CAP: f64 = 1.5;

/// The most swap passes [`build_teams`] runs after the draft (each pass applies one swap).
pub const MAX_SWAP_PASSES: usize = 10_000;

/// Everything that can be wrong with proficiency, team or exposure input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProficiencyError {
    /// A list that needs at least one entry is empty.
    #[error("field `{field}` must not be empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// A value that must be positive is zero.
    #[error("field `{field}` must not be zero")]
    Zero {
        /// The field.
        field: &'static str,
    },
    /// An indicator's weight is negative, NaN or infinite.
    #[error("indicator {index}: field `weight` must be finite and not negative")]
    InvalidWeight {
        /// Position of the indicator.
        index: usize,
    },
    /// Every indicator has weight 0: the average is undefined.
    #[error("field `weight`: the weights of all indicators sum to zero")]
    ZeroTotalWeight,
    /// An indicator's target is zero, negative, NaN or infinite (attainment is a ratio to it).
    #[error("indicator {index}: field `target` must be finite and greater than zero")]
    InvalidTarget {
        /// Position of the indicator.
        index: usize,
    },
    /// The attainment cap is below 1, NaN or infinite.
    #[error("field `cap` must be finite and at least 1")]
    InvalidCap,
    /// A metric value is negative, NaN or infinite.
    #[error("{operator}: metric `{metric}` must be finite and not negative")]
    InvalidValue {
        /// The operator.
        operator: OperatorId,
        /// The metric.
        metric: Metric,
    },
    /// Band names and cut points do not fit: there must be one more name than cut points.
    #[error("field `cuts` has {cuts} entries; {names} band names need {} cut points", names.saturating_sub(1))]
    BandCount {
        /// Names given.
        names: usize,
        /// Cut points given.
        cuts: usize,
    },
    /// A cut point (band or level threshold) is NaN or infinite.
    #[error("field `cuts`: entry {index} must be finite")]
    InvalidCut {
        /// Position of the cut point.
        index: usize,
    },
    /// A cut point is not greater than the one before it.
    #[error("field `cuts`: entry {index} must be greater than the entry before it")]
    CutsNotIncreasing {
        /// Position of the cut point.
        index: usize,
    },
    /// A skill level or difficulty outside 1–5.
    #[error("field `{field}` is {value}; allowed 1 to 5")]
    InvalidLevel {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u8,
    },
    /// The team size is larger than the roster.
    #[error("field `team_size` is {team_size}; larger than the roster of {roster}")]
    TeamSizeTooLarge {
        /// The team size asked for.
        team_size: usize,
        /// Operators in the roster.
        roster: usize,
    },
    /// An operator appears twice in a roster.
    #[error("field `operator`: {0} appears twice")]
    DuplicateOperator(OperatorId),
    /// A member's score is NaN or infinite.
    #[error("{0}: field `score` must be finite")]
    InvalidScore(OperatorId),
    /// A member's band is not below the band count.
    #[error("{operator}: field `band` is {band}; there are {band_count} bands")]
    UnknownBand {
        /// The operator.
        operator: OperatorId,
        /// The band given.
        band: usize,
        /// Bands declared.
        band_count: usize,
    },
}

// ---------------------------------------------------------------------------------------------
// Metrics and scoring
// ---------------------------------------------------------------------------------------------

/// A per-operator performance value an indicator can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Metric {
    /// Conversations handled (assigned and resolved), [`OperatorRow::handled`](crate::kpi::OperatorRow::handled).
    Handled,
    /// Mean handle time in ms (usually lower is better).
    MeanHandleMs,
    /// Mean first response time in ms (usually lower is better).
    MeanFirstResponseMs,
    /// Mean satisfaction score, 1–5.
    SatisfactionMean,
    /// Missed (declined or expired) offers (usually lower is better).
    MissedOffers,
    /// A value the caller supplies per operator under its own key (conversion, repurchase…).
    Custom(u32),
}

impl Metric {
    /// The five metrics [`MetricTable::from_report`] fills, in a fixed order.
    pub const FROM_REPORT: [Metric; 5] = [
        Metric::Handled,
        Metric::MeanHandleMs,
        Metric::MeanFirstResponseMs,
        Metric::SatisfactionMean,
        Metric::MissedOffers,
    ];
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Handled => f.write_str("handled"),
            Metric::MeanHandleMs => f.write_str("mean_handle_ms"),
            Metric::MeanFirstResponseMs => f.write_str("mean_first_response_ms"),
            Metric::SatisfactionMean => f.write_str("satisfaction_mean"),
            Metric::MissedOffers => f.write_str("missed_offers"),
            Metric::Custom(k) => write!(f, "custom({k})"),
        }
    }
}

fn check_value(operator: OperatorId, metric: Metric, value: f64) -> Result<(), ProficiencyError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ProficiencyError::InvalidValue { operator, metric })
    }
}

/// Metric values per operator: the input of [`Scoring::score`]. Use one table for overall
/// scores, or one table per skill (values measured on that skill's conversations) for
/// per-skill scores ([`Scoring::score_per_skill`]).
///
/// Values are finite and not negative; an absent value is *missing* (see [`Missing`]).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct MetricTable {
    rows: BTreeMap<OperatorId, BTreeMap<Metric, f64>>,
}

impl MetricTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A table with one row per operator of the report's operator table: handled count and
    /// missed offers always, mean handle time, mean first response time and mean satisfaction
    /// when the report has them. Add [`Metric::Custom`] values with [`MetricTable::set`].
    pub fn from_report(report: &KpiReport) -> Self {
        let mut t = MetricTable::new();
        for r in &report.operators {
            let row = t.rows.entry(r.operator).or_default();
            row.insert(Metric::Handled, r.handled as f64);
            row.insert(Metric::MissedOffers, r.missed_offers as f64);
            for (m, v) in [
                (Metric::MeanHandleMs, r.mean_handle_ms),
                (Metric::MeanFirstResponseMs, r.mean_first_response_ms),
                (Metric::SatisfactionMean, r.satisfaction_mean),
            ] {
                if let Some(v) = v {
                    row.insert(m, v);
                }
            }
        }
        t
    }

    /// Adds an operator with no values yet (every indicator is missing for them), so they
    /// are scored even without KPI records. No effect if the operator is already present.
    pub fn add_operator(&mut self, operator: OperatorId) {
        self.rows.entry(operator).or_default();
    }

    /// Sets one value, adding the operator if needed.
    ///
    /// # Errors
    /// [`ProficiencyError::InvalidValue`] if `value` is negative, NaN or infinite (the table is
    /// unchanged).
    pub fn set(
        &mut self,
        operator: OperatorId,
        metric: Metric,
        value: f64,
    ) -> Result<(), ProficiencyError> {
        check_value(operator, metric, value)?;
        self.rows.entry(operator).or_default().insert(metric, value);
        Ok(())
    }

    /// Removes one value (it becomes missing).
    pub fn remove(&mut self, operator: OperatorId, metric: Metric) -> Option<f64> {
        self.rows.get_mut(&operator)?.remove(&metric)
    }

    /// One value, if present.
    pub fn get(&self, operator: OperatorId, metric: Metric) -> Option<f64> {
        self.rows.get(&operator)?.get(&metric).copied()
    }

    /// The operators in the table, by id.
    pub fn operators(&self) -> impl Iterator<Item = OperatorId> + '_ {
        self.rows.keys().copied()
    }

    /// Number of operators.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// No operators.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Whether a larger value of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Direction {
    /// Attainment = value ÷ target (handled count, satisfaction, conversion).
    HigherIsBetter,
    /// Attainment = target ÷ value; a value of 0 attains the cap (handle time, first
    /// response time, missed offers).
    LowerIsBetter,
}

/// What to do with an operator's missing value for an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Missing {
    /// Attainment 0, weight kept: no evidence counts as no attainment. Default.
    #[default]
    Zero,
    /// Leave the indicator out of that operator's weighted average; an operator with no
    /// value for any indicator of positive weight gets no score.
    Exclude,
}

/// One performance indicator of the proficiency index.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Indicator {
    /// Which metric.
    pub metric: Metric,
    /// The target value: finite and greater than 0.
    pub target: f64,
    /// Whether higher or lower values are better.
    pub direction: Direction,
    /// The weight in the average: finite and not negative (0 = shown but not counted).
    pub weight: f64,
}

impl Indicator {
    /// Shorthand for the struct literal.
    pub const fn new(metric: Metric, target: f64, direction: Direction, weight: f64) -> Self {
        Indicator {
            metric,
            target,
            direction,
            weight,
        }
    }

    /// Attainment of `value` against this indicator's target, capped at `cap`.
    pub fn attainment(&self, value: f64, cap: f64) -> f64 {
        let raw = match self.direction {
            Direction::HigherIsBetter => value / self.target,
            Direction::LowerIsBetter if value == 0.0 => cap,
            Direction::LowerIsBetter => self.target / value,
        };
        raw.min(cap)
    }
}

/// One operator's proficiency.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct OperatorScore {
    /// The operator.
    pub operator: OperatorId,
    /// The weighted average attainment; `None` only under [`Missing::Exclude`] when every
    /// weighted indicator is missing.
    pub score: Option<f64>,
    /// Attainment per indicator, in the order of [`Scoring::indicators`]; `None` = missing.
    pub attainment: Vec<Option<f64>>,
}

/// A validated proficiency index: indicators, attainment cap and missing-value rule.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct Scoring {
    indicators: Vec<Indicator>,
    cap: f64,
    missing: Missing,
}

impl Scoring {
    /// An index over `indicators`, with cap [`DEFAULT_CAP`] and [`Missing::Zero`].
    ///
    /// # Errors
    /// [`ProficiencyError::Empty`] (field `indicators`), [`ProficiencyError::InvalidWeight`],
    /// [`ProficiencyError::InvalidTarget`] (first offending indicator),
    /// [`ProficiencyError::ZeroTotalWeight`].
    pub fn new(indicators: Vec<Indicator>) -> Result<Self, ProficiencyError> {
        if indicators.is_empty() {
            return Err(ProficiencyError::Empty {
                field: "indicators",
            });
        }
        for (index, i) in indicators.iter().enumerate() {
            if !(i.weight.is_finite() && i.weight >= 0.0) {
                return Err(ProficiencyError::InvalidWeight { index });
            }
            if !(i.target.is_finite() && i.target > 0.0) {
                return Err(ProficiencyError::InvalidTarget { index });
            }
        }
        if indicators.iter().all(|i| i.weight == 0.0) {
            return Err(ProficiencyError::ZeroTotalWeight);
        }
        Ok(Scoring {
            indicators,
            cap: DEFAULT_CAP,
            missing: Missing::Zero,
        })
    }

    /// Sets the attainment cap. Default: [`DEFAULT_CAP`] (1.5).
    ///
    /// # Errors
    /// [`ProficiencyError::InvalidCap`] if `cap` is below 1, NaN or infinite.
    pub fn with_cap(mut self, cap: f64) -> Result<Self, ProficiencyError> {
        if !(cap.is_finite() && cap >= 1.0) {
            return Err(ProficiencyError::InvalidCap);
        }
        self.cap = cap;
        Ok(self)
    }

    /// Sets the missing-value rule. Default: [`Missing::Zero`].
    pub fn with_missing(mut self, missing: Missing) -> Self {
        self.missing = missing;
        self
    }

    /// The indicators, in the order given.
    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// The attainment cap.
    pub fn cap(&self) -> f64 {
        self.cap
    }

    /// The missing-value rule.
    pub fn missing(&self) -> Missing {
        self.missing
    }

    /// Scores every operator of `table`, by operator id.
    ///
    /// # Errors
    /// [`ProficiencyError::InvalidValue`] for a negative, NaN or infinite value (possible only
    /// in a deserialised table).
    pub fn score(&self, table: &MetricTable) -> Result<Vec<OperatorScore>, ProficiencyError> {
        let mut out = Vec::with_capacity(table.len());
        for (&operator, row) in &table.rows {
            let mut attainment = Vec::with_capacity(self.indicators.len());
            let (mut num, mut den) = (0.0_f64, 0.0_f64);
            for ind in &self.indicators {
                let a = match row.get(&ind.metric) {
                    Some(&v) => {
                        check_value(operator, ind.metric, v)?;
                        Some(ind.attainment(v, self.cap))
                    }
                    None => None,
                };
                match (a, self.missing) {
                    (Some(a), _) => {
                        num += ind.weight * a;
                        den += ind.weight;
                    }
                    (None, Missing::Zero) => den += ind.weight,
                    (None, Missing::Exclude) => {}
                }
                attainment.push(a);
            }
            out.push(OperatorScore {
                operator,
                score: (den > 0.0).then(|| num / den),
                attainment,
            });
        }
        Ok(out)
    }

    /// Scores each skill's table: per skill, every operator of that skill's table.
    ///
    /// # Errors
    /// As [`Scoring::score`].
    pub fn score_per_skill(
        &self,
        tables: &BTreeMap<SkillId, MetricTable>,
    ) -> Result<BTreeMap<SkillId, Vec<OperatorScore>>, ProficiencyError> {
        tables
            .iter()
            .map(|(&skill, t)| Ok((skill, self.score(t)?)))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Bands
// ---------------------------------------------------------------------------------------------

fn check_cuts(cuts: &[f64]) -> Result<(), ProficiencyError> {
    for (index, c) in cuts.iter().enumerate() {
        if !c.is_finite() {
            return Err(ProficiencyError::InvalidCut { index });
        }
        if index > 0 && cuts[index - 1] >= *c {
            return Err(ProficiencyError::CutsNotIncreasing { index });
        }
    }
    Ok(())
}

fn count_cuts_at_or_below(cuts: &[f64], score: f64) -> usize {
    cuts.iter().take_while(|&&c| c <= score).count()
}

/// Named proficiency bands, lowest first, split by strictly increasing cut points.
///
/// Band `i` holds scores `s` with `cuts[i − 1] ≤ s < cuts[i]` (the first band everything below
/// `cuts[0]`, the last everything from the last cut point up); NaN falls in band 0.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct Bands {
    names: Vec<String>,
    cuts: Vec<f64>,
}

impl Default for Bands {
    /// Low `< 0.8 ≤` Middle `< 1.0 ≤` High: High meets its targets on weighted average.
    fn default() -> Self {
        Bands {
            names: vec!["Low".into(), "Middle".into(), "High".into()],
            cuts: vec![0.8, 1.0],
        }
    }
}

impl Bands {
    /// Bands `names` (lowest first) split at `cuts` (one fewer than names).
    ///
    /// # Errors
    /// [`ProficiencyError::Empty`] (field `names`), [`ProficiencyError::BandCount`],
    /// [`ProficiencyError::InvalidCut`], [`ProficiencyError::CutsNotIncreasing`].
    pub fn new(names: Vec<String>, cuts: Vec<f64>) -> Result<Self, ProficiencyError> {
        if names.is_empty() {
            return Err(ProficiencyError::Empty { field: "names" });
        }
        if names.len() != cuts.len() + 1 {
            return Err(ProficiencyError::BandCount {
                names: names.len(),
                cuts: cuts.len(),
            });
        }
        check_cuts(&cuts)?;
        Ok(Bands { names, cuts })
    }

    /// Number of bands.
    #[expect(clippy::len_without_is_empty, reason = "bands are never empty")]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// The band names, lowest first.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The cut points.
    pub fn cuts(&self) -> &[f64] {
        &self.cuts
    }

    /// A band's name.
    pub fn name(&self, band: usize) -> Option<&str> {
        self.names.get(band).map(String::as_str)
    }

    /// The band of a score (0 = lowest).
    pub fn classify(&self, score: f64) -> usize {
        count_cuts_at_or_below(&self.cuts, score)
    }

    /// Team members from scores, in the order given; operators without a score are left out.
    pub fn members(&self, scores: &[OperatorScore]) -> Vec<Member> {
        scores
            .iter()
            .filter_map(|s| {
                s.score.map(|score| Member {
                    operator: s.operator,
                    score,
                    band: self.classify(score),
                })
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Write-back to skill levels
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
enum LevelKind {
    ByBand { bands: Bands, levels: Vec<u8> },
    ByScore { cuts: [f64; 4] },
}

/// How a score becomes a skill level 1–5, and how far one write-back may move a level.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct LevelRule {
    kind: LevelKind,
    max_step: Option<u8>,
}

impl Default for LevelRule {
    /// By score with cuts 0.6, 0.8, 1.0, 1.2: below 0.6 → 1, from 1.2 → 5; no step limit.
    fn default() -> Self {
        LevelRule {
            kind: LevelKind::ByScore {
                cuts: [0.6, 0.8, 1.0, 1.2],
            },
            max_step: None,
        }
    }
}

impl LevelRule {
    /// Level `levels[b]` for a score in band `b` of `bands`.
    ///
    /// # Errors
    /// [`ProficiencyError::BandCount`] unless there is one level per band;
    /// [`ProficiencyError::InvalidLevel`] (field `levels`) for a level outside 1–5.
    pub fn by_band(bands: Bands, levels: Vec<u8>) -> Result<Self, ProficiencyError> {
        if levels.len() != bands.len() {
            return Err(ProficiencyError::BandCount {
                names: levels.len(),
                cuts: bands.cuts.len(),
            });
        }
        if let Some(&value) = levels
            .iter()
            .find(|l| !(MIN_LEVEL..=MAX_LEVEL).contains(*l))
        {
            return Err(ProficiencyError::InvalidLevel {
                field: "levels",
                value,
            });
        }
        Ok(LevelRule {
            kind: LevelKind::ByBand { bands, levels },
            max_step: None,
        })
    }

    /// Level 1 below `cuts[0]`, level `k + 2` from `cuts[k]` (so level 5 from `cuts[3]`).
    ///
    /// # Errors
    /// [`ProficiencyError::InvalidCut`], [`ProficiencyError::CutsNotIncreasing`].
    pub fn by_score(cuts: [f64; 4]) -> Result<Self, ProficiencyError> {
        check_cuts(&cuts)?;
        Ok(LevelRule {
            kind: LevelKind::ByScore { cuts },
            max_step: None,
        })
    }

    /// Limits how far one write-back moves a held level (e.g. 1: one level per review).
    /// Default: no limit.
    ///
    /// # Errors
    /// [`ProficiencyError::Zero`] (field `max_step`) for 0.
    pub fn with_max_step(mut self, max_step: u8) -> Result<Self, ProficiencyError> {
        if max_step == 0 {
            return Err(ProficiencyError::Zero { field: "max_step" });
        }
        self.max_step = Some(max_step);
        Ok(self)
    }

    /// The level for a score, before any step limit.
    pub fn level(&self, score: f64) -> u8 {
        match &self.kind {
            LevelKind::ByBand { bands, levels } => levels
                .get(bands.classify(score))
                .copied()
                .unwrap_or(MIN_LEVEL),
            // At most 4 cut points: the count fits a u8.
            LevelKind::ByScore { cuts } => MIN_LEVEL + count_cuts_at_or_below(cuts, score) as u8,
        }
    }

    /// The level an operator moves to from `current` given `score`, after the step limit.
    pub fn next_level(&self, current: u8, score: f64) -> u8 {
        let target = self.level(score);
        match self.max_step {
            Some(step) if target > current => target.min(current.saturating_add(step)),
            Some(step) if target < current => target.max(current.saturating_sub(step)),
            _ => target,
        }
    }
}

/// An operator's full new skill list, as [`Event::OperatorSkillsChanged`] carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SkillUpdate {
    /// The operator.
    pub operator: OperatorId,
    /// Every skill they hold, with the new levels.
    pub skills: SmallVec<[SkillLevel; 8]>,
}

/// New skill lists for operators whose levels change: for each operator (by id) and each skill
/// they **hold**, the level becomes [`LevelRule::next_level`] of their score for that skill in
/// `scores`; skills without a score for them keep their level, and no skill is added. Only
/// operators with at least one changed level appear; their list keeps its original order.
///
/// For an overall (not per-skill) score, put the same scores under every skill it should
/// drive.
///
/// # Errors
/// [`ProficiencyError::DuplicateOperator`] if `operators` lists an id twice.
pub fn new_skill_levels(
    operators: &[OperatorSpec],
    scores: &BTreeMap<SkillId, Vec<OperatorScore>>,
    rule: &LevelRule,
) -> Result<Vec<SkillUpdate>, ProficiencyError> {
    let mut sorted: Vec<&OperatorSpec> = operators.iter().collect();
    sorted.sort_by_key(|o| o.id);
    if let Some(w) = sorted.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(ProficiencyError::DuplicateOperator(w[0].id));
    }
    let lookup: BTreeMap<(SkillId, OperatorId), f64> = scores
        .iter()
        .flat_map(|(&skill, rows)| {
            rows.iter()
                .filter_map(move |r| r.score.map(|s| ((skill, r.operator), s)))
        })
        .collect();
    let mut out = Vec::new();
    for op in sorted {
        let mut changed = false;
        let skills: SmallVec<[SkillLevel; 8]> = op
            .skills
            .iter()
            .map(|sl| match lookup.get(&(sl.skill, op.id)) {
                Some(&score) => {
                    let level = rule.next_level(sl.level, score);
                    changed |= level != sl.level;
                    SkillLevel::new(sl.skill, level)
                }
                None => *sl,
            })
            .collect();
        if changed {
            out.push(SkillUpdate {
                operator: op.id,
                skills,
            });
        }
    }
    Ok(out)
}

/// [`new_skill_levels`] as [`Event::OperatorSkillsChanged`] events at `at`, ready for
/// [`Engine::apply`](crate::Engine::apply), so routing follows measured skill.
///
/// # Errors
/// As [`new_skill_levels`].
pub fn skill_events(
    at: Timestamp,
    operators: &[OperatorSpec],
    scores: &BTreeMap<SkillId, Vec<OperatorScore>>,
    rule: &LevelRule,
) -> Result<Vec<Event>, ProficiencyError> {
    Ok(new_skill_levels(operators, scores, rule)?
        .into_iter()
        .map(|u| Event::OperatorSkillsChanged {
            at,
            operator: u.operator,
            skills: u.skills,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Balanced teams
// ---------------------------------------------------------------------------------------------

/// An operator to place in a team.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Member {
    /// The operator.
    pub operator: OperatorId,
    /// Their proficiency score (finite).
    pub score: f64,
    /// Their band (0 = lowest, below the band count).
    pub band: usize,
}

/// How uneven a split into teams is; smaller is better, compared lexicographically (band
/// spread first, then score spread).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Objective {
    /// `Σ_b (max_t n_{t,b} − min_t n_{t,b})`: how unevenly each band is spread over teams.
    pub band_spread: u32,
    /// `max_t T_t − min_t T_t`, T = team total score.
    pub score_spread: f64,
}

impl Objective {
    /// The lexicographic order: band spread, then score spread (`f64::total_cmp`).
    pub fn compare(&self, other: &Objective) -> Ordering {
        self.band_spread
            .cmp(&other.band_spread)
            .then_with(|| self.score_spread.total_cmp(&other.score_spread))
    }
}

/// One team of a [`TeamPlan`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Team {
    /// Members: band highest first, then score highest first, then operator id.
    pub members: Vec<Member>,
    /// Sum of the members' scores (summed in member order).
    pub total: f64,
    /// Members per band, index = band.
    pub band_counts: Vec<u32>,
}

/// The result of [`build_teams`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TeamPlan {
    /// The teams, larger first (sizes differ by at most one).
    pub teams: Vec<Team>,
    /// The objective of this split.
    pub objective: Objective,
}

/// Team sizes for `roster` operators and a maximum `team_size`: `k = ⌈roster / team_size⌉`
/// teams whose sizes differ by at most one, larger first (17 in fives → 5, 4, 4, 4).
///
/// # Errors
/// [`ProficiencyError::Zero`] (field `team_size`), [`ProficiencyError::TeamSizeTooLarge`].
pub fn team_sizes(roster: usize, team_size: usize) -> Result<Vec<usize>, ProficiencyError> {
    if team_size == 0 {
        return Err(ProficiencyError::Zero { field: "team_size" });
    }
    if team_size > roster {
        return Err(ProficiencyError::TeamSizeTooLarge { team_size, roster });
    }
    let k = roster.div_ceil(team_size);
    let (base, extra) = (roster / k, roster % k);
    Ok((0..k).map(|t| base + usize::from(t < extra)).collect())
}

fn member_order(a: &Member, b: &Member) -> Ordering {
    b.band
        .cmp(&a.band)
        .then_with(|| b.score.total_cmp(&a.score))
        .then_with(|| a.operator.cmp(&b.operator))
}

fn band_spread(counts: &[Vec<u32>], band_count: usize) -> u32 {
    (0..band_count)
        .map(|b| {
            let it = counts.iter().map(|c| c.get(b).copied().unwrap_or(0));
            let max = it.clone().max().unwrap_or(0);
            let min = it.min().unwrap_or(0);
            max - min
        })
        .sum()
}

fn spread(totals: &[f64]) -> f64 {
    let max = totals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = totals.iter().copied().fold(f64::INFINITY, f64::min);
    if totals.is_empty() { 0.0 } else { max - min }
}

/// The [`Objective`] of any split into teams (members' bands must be below `band_count`;
/// larger bands are ignored). Use it to compare a hand-made split with [`build_teams`].
pub fn objective(teams: &[Vec<Member>], band_count: usize) -> Objective {
    let counts: Vec<Vec<u32>> = teams
        .iter()
        .map(|t| {
            let mut c = vec![0_u32; band_count];
            for m in t {
                if let Some(x) = c.get_mut(m.band) {
                    *x += 1;
                }
            }
            c
        })
        .collect();
    let totals: Vec<f64> = teams
        .iter()
        .map(|t| t.iter().map(|m| m.score).sum())
        .collect();
    Objective {
        band_spread: band_spread(&counts, band_count),
        score_spread: spread(&totals),
    }
}

/// The local search's key: the objective, then Σ totals² (a tie-breaker that lets a swap
/// help when several teams share the maximum or minimum total).
#[derive(Clone, Copy)]
struct Key {
    band: u32,
    spread: f64,
    squares: f64,
}

impl Key {
    fn better_than(&self, other: &Key, tol: f64) -> bool {
        if self.band != other.band {
            return self.band < other.band;
        }
        if (self.spread - other.spread).abs() > tol {
            return self.spread < other.spread;
        }
        self.squares < other.squares - tol
    }
}

/// An exchange of members `is` of team `a` with members `js` of team `b` (same length).
#[derive(Clone, Copy)]
struct Move {
    a: usize,
    b: usize,
    is: [usize; 2],
    js: [usize; 2],
    len: usize,
}

/// The local search's teams with their band counts and totals kept up to date.
struct SwapState {
    teams: Vec<Vec<Member>>,
    counts: Vec<Vec<u32>>,
    totals: Vec<f64>,
    band_count: usize,
    tol: f64,
}

impl SwapState {
    fn key(&self) -> Key {
        Key {
            band: band_spread(&self.counts, self.band_count),
            spread: spread(&self.totals),
            squares: self.totals.iter().map(|t| t * t).sum(),
        }
    }

    /// Applies `mv`; applying it again undoes it (except the totals' rounding).
    fn exchange(&mut self, mv: &Move) {
        for (&i, &j) in mv.is.iter().zip(&mv.js).take(mv.len) {
            let (x, y) = (self.teams[mv.a][i], self.teams[mv.b][j]);
            self.teams[mv.a][i] = y;
            self.teams[mv.b][j] = x;
            self.totals[mv.a] = self.totals[mv.a] - x.score + y.score;
            self.totals[mv.b] = self.totals[mv.b] - y.score + x.score;
            self.counts[mv.a][x.band] -= 1;
            self.counts[mv.a][y.band] += 1;
            self.counts[mv.b][y.band] -= 1;
            self.counts[mv.b][x.band] += 1;
        }
    }

    /// The best exchange of `len` (1 or 2) members between two teams that improves on
    /// `current`; the first in (team, team, positions) order among equals.
    fn best_move(&mut self, current: &Key, len: usize) -> Option<(Key, Move)> {
        let k = self.teams.len();
        let mut best: Option<(Key, Move)> = None;
        let pairs = |n: usize| -> Vec<[usize; 2]> {
            if len == 1 {
                (0..n).map(|i| [i, 0]).collect()
            } else {
                (0..n)
                    .flat_map(|i| (i + 1..n).map(move |j| [i, j]))
                    .collect()
            }
        };
        for a in 0..k {
            let ia = pairs(self.teams[a].len());
            for b in a + 1..k {
                let jb = pairs(self.teams[b].len());
                for &is in &ia {
                    for &js in &jb {
                        let mv = Move { a, b, is, js, len };
                        let (ta, tb) = (self.totals[a], self.totals[b]);
                        self.exchange(&mv);
                        let key = self.key();
                        self.exchange(&mv);
                        self.totals[a] = ta;
                        self.totals[b] = tb;
                        let reference = best.as_ref().map_or(current, |b| &b.0);
                        if key.better_than(reference, self.tol) {
                            best = Some((key, mv));
                        }
                    }
                }
            }
        }
        best
    }
}

/// Splits `members` into balanced teams of at most `team_size` (see [`team_sizes`]), each
/// with an even mix of bands and close total scores, deterministically.
///
/// 1. **Draft** (a snake draft generalised to unequal team sizes): members sorted by band
///    (highest first), score (highest first), then operator id; each goes to the team with
///    room that has the fewest members of its band, then the most room left, then the lowest
///    total so far, then the lowest index. With equal sizes this deals each band 0, 1, …, k−1
///    and then back from the weakest team, as a snake draft does.
/// 2. **Swap improvement**: repeatedly apply the best swap of two members of different teams
///    (steepest descent on band spread, then score spread, then Σ team total²; ties keep the
///    first swap in team, then position order); when no single swap improves, the best
///    exchange of two members for two between two teams; stop when neither improves, or after
///    [`MAX_SWAP_PASSES`]. A single-swap pass looks at ≤ n² moves, a pair pass at
///    ≤ k² · s⁴ / 8 (s = team size), each evaluated in O(k · bands).
///
/// Measured against exhaustive search on random rosters of 6–12 (see
/// `tests/integration/proficiency.rs`): the band spread is always optimal and the score
/// spread is optimal in most cases; the README section gives the worst gap observed.
///
/// # Errors
/// [`ProficiencyError::Zero`] (fields `team_size`, `band_count`),
/// [`ProficiencyError::TeamSizeTooLarge`] (also for an empty roster),
/// [`ProficiencyError::DuplicateOperator`], [`ProficiencyError::InvalidScore`],
/// [`ProficiencyError::UnknownBand`].
pub fn build_teams(
    members: &[Member],
    team_size: usize,
    band_count: usize,
) -> Result<TeamPlan, ProficiencyError> {
    let sizes = team_sizes(members.len(), team_size)?;
    if band_count == 0 {
        return Err(ProficiencyError::Zero {
            field: "band_count",
        });
    }
    let mut sorted: Vec<Member> = members.to_vec();
    sorted.sort_by_key(|m| m.operator);
    if let Some(w) = sorted.windows(2).find(|w| w[0].operator == w[1].operator) {
        return Err(ProficiencyError::DuplicateOperator(w[0].operator));
    }
    for m in &sorted {
        if !m.score.is_finite() {
            return Err(ProficiencyError::InvalidScore(m.operator));
        }
        if m.band >= band_count {
            return Err(ProficiencyError::UnknownBand {
                operator: m.operator,
                band: m.band,
                band_count,
            });
        }
    }
    sorted.sort_by(member_order);

    // 1. Draft: each member, in order, goes to the team with room that has the fewest of
    //    its band, then the most room left, then the lowest total, then the lowest index.
    let k = sizes.len();
    let mut teams: Vec<Vec<Member>> = sizes.iter().map(|&s| Vec::with_capacity(s)).collect();
    let mut counts: Vec<Vec<u32>> = vec![vec![0_u32; band_count]; k];
    let mut totals: Vec<f64> = vec![0.0; k];
    for m in sorted {
        let pick = (0..k)
            .filter(|&t| teams[t].len() < sizes[t])
            .min_by(|&x, &y| {
                counts[x][m.band]
                    .cmp(&counts[y][m.band])
                    .then_with(|| (sizes[y] - teams[y].len()).cmp(&(sizes[x] - teams[x].len())))
                    .then_with(|| totals[x].total_cmp(&totals[y]))
                    .then_with(|| x.cmp(&y))
            });
        // The sizes add up to the roster, so a team with room always exists.
        if let Some(t) = pick {
            teams[t].push(m);
            counts[t][m.band] += 1;
            totals[t] += m.score;
        }
    }

    // 2. Swap improvement.
    let scale = totals.iter().fold(1.0_f64, |a, t| a.max(t.abs()));
    let mut st = SwapState {
        teams,
        counts,
        totals,
        band_count,
        tol: 1e-9 * scale,
    };
    let mut current = st.key();
    for _ in 0..MAX_SWAP_PASSES {
        let found = st
            .best_move(&current, 1)
            .or_else(|| st.best_move(&current, 2));
        let Some((key, mv)) = found else { break };
        st.exchange(&mv);
        current = key;
    }
    let SwapState {
        mut teams, counts, ..
    } = st;

    for t in &mut teams {
        t.sort_by(member_order);
    }
    let objective = objective(&teams, band_count);
    let teams = teams
        .into_iter()
        .zip(counts)
        .map(|(members, band_counts)| Team {
            total: members.iter().map(|m| m.score).sum(),
            members,
            band_counts,
        })
        .collect();
    Ok(TeamPlan { teams, objective })
}

// ---------------------------------------------------------------------------------------------
// Exposure
// ---------------------------------------------------------------------------------------------

fn check_level(field: &'static str, value: u8) -> Result<(), ProficiencyError> {
    if (MIN_LEVEL..=MAX_LEVEL).contains(&value) {
        Ok(())
    } else {
        Err(ProficiencyError::InvalidLevel { field, value })
    }
}

/// Which observations count as hard work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct HardRule {
    /// Difficulty (required level) from which an observation is hard; `None` = by skill only.
    pub min_difficulty: Option<u8>,
    /// Skills that are hard at any difficulty (billing, marketing features…).
    pub skills: Vec<SkillId>,
}

impl Default for HardRule {
    /// Difficulty 4 or 5, no hard skills.
    fn default() -> Self {
        HardRule {
            min_difficulty: Some(4),
            skills: Vec::new(),
        }
    }
}

impl HardRule {
    /// Whether one observation is hard.
    pub fn is_hard(&self, skill: SkillId, difficulty: u8) -> bool {
        self.min_difficulty.is_some_and(|d| difficulty >= d) || self.skills.contains(&skill)
    }
}

/// Counts per operator × skill × difficulty of the work operators received: did juniors meet
/// the hard topics (DOMAIN.md §1)? Integer state only, so partial accumulators
/// [`merge`](Exposure::merge) into exactly the accumulator of the whole.
///
/// One *observation* is one required skill of one conversation given to one operator: a
/// conversation requiring two skills is two observations; one requiring none is none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Exposure {
    counts: BTreeMap<OperatorId, BTreeMap<SkillId, [u64; 5]>>,
}

impl Exposure {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one observation: `operator` received work on `skill` at `difficulty` (the
    /// required level, 1–5).
    ///
    /// # Errors
    /// [`ProficiencyError::InvalidLevel`] (field `difficulty`) outside 1–5; nothing counted.
    pub fn observe(
        &mut self,
        operator: OperatorId,
        skill: SkillId,
        difficulty: u8,
    ) -> Result<(), ProficiencyError> {
        check_level("difficulty", difficulty)?;
        let slot = &mut self
            .counts
            .entry(operator)
            .or_default()
            .entry(skill)
            .or_default()[usize::from(difficulty - MIN_LEVEL)];
        *slot = slot.saturating_add(1);
        Ok(())
    }

    /// Counts a routing decision: for [`DecisionKind::Assigned`] and [`DecisionKind::Offered`]
    /// (an offer is exposure even if later rejected) one observation per
    /// `reason.matched` skill at its `required` level (after overflow relaxations);
    /// [`DecisionKind::Unassigned`] counts nothing. A conversation moved by a rebalance counts
    /// again for its new operator. Returns the observations added.
    ///
    /// # Errors
    /// [`ProficiencyError::InvalidLevel`] (field `required`) if a match's required level is
    /// outside 1–5 (never from the engine); nothing is counted.
    pub fn observe_decision(&mut self, decision: &Decision) -> Result<usize, ProficiencyError> {
        if matches!(decision.kind, DecisionKind::Unassigned { .. }) {
            return Ok(0);
        }
        for m in &decision.reason.matched {
            check_level("required", m.required)?;
        }
        for m in &decision.reason.matched {
            self.observe(decision.operator, m.skill, m.required)?;
        }
        Ok(decision.reason.matched.len())
    }

    /// Adds another accumulator's counts (saturating).
    pub fn merge(&mut self, other: &Exposure) {
        for (op, skills) in &other.counts {
            let mine = self.counts.entry(*op).or_default();
            for (skill, by_d) in skills {
                let row = mine.entry(*skill).or_default();
                for (x, y) in row.iter_mut().zip(by_d) {
                    *x = x.saturating_add(*y);
                }
            }
        }
    }

    /// Observations of `operator` on `skill` at `difficulty` (0 for a difficulty outside 1–5).
    pub fn count(&self, operator: OperatorId, skill: SkillId, difficulty: u8) -> u64 {
        let Some(i) = usize::from(difficulty).checked_sub(usize::from(MIN_LEVEL)) else {
            return 0;
        };
        self.counts
            .get(&operator)
            .and_then(|s| s.get(&skill))
            .and_then(|d| d.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Operators observed, by id.
    pub fn operators(&self) -> impl Iterator<Item = OperatorId> + '_ {
        self.counts.keys().copied()
    }

    /// The report over `roster` ∪ observed operators (by id): operators of the roster that
    /// received nothing count with zeros, so they weigh in the Gini coefficient.
    ///
    /// # Errors
    /// [`ProficiencyError::InvalidLevel`] (field `min_difficulty`) outside 1–5.
    pub fn report(
        &self,
        rule: &HardRule,
        roster: &[OperatorId],
    ) -> Result<ExposureReport, ProficiencyError> {
        if let Some(d) = rule.min_difficulty {
            check_level("min_difficulty", d)?;
        }
        let mut ids: Vec<OperatorId> = roster.iter().copied().chain(self.operators()).collect();
        ids.sort_unstable();
        ids.dedup();
        let empty = BTreeMap::new();
        let operators: Vec<OperatorExposure> = ids
            .into_iter()
            .map(|operator| {
                let by_skill: Vec<SkillExposure> = self
                    .counts
                    .get(&operator)
                    .unwrap_or(&empty)
                    .iter()
                    .map(|(&skill, &by_difficulty)| {
                        let (mut total, mut hard) = (0_u64, 0_u64);
                        for (d, &n) in (MIN_LEVEL..=MAX_LEVEL).zip(&by_difficulty) {
                            total = total.saturating_add(n);
                            if rule.is_hard(skill, d) {
                                hard = hard.saturating_add(n);
                            }
                        }
                        SkillExposure {
                            skill,
                            by_difficulty,
                            total,
                            hard,
                        }
                    })
                    .collect();
                let total = by_skill
                    .iter()
                    .fold(0_u64, |a, s| a.saturating_add(s.total));
                let hard = by_skill.iter().fold(0_u64, |a, s| a.saturating_add(s.hard));
                OperatorExposure {
                    operator,
                    total,
                    hard,
                    hard_share: Rate::new(hard, total),
                    by_skill,
                }
            })
            .collect();
        let hard_counts: Vec<u64> = operators.iter().map(|o| o.hard).collect();
        Ok(ExposureReport {
            total: operators.iter().fold(0, |a, o| a.saturating_add(o.total)),
            hard: hard_counts.iter().fold(0, |a, h| a.saturating_add(*h)),
            hard_gini: gini(&hard_counts),
            operators,
        })
    }
}

/// One operator's exposure to one skill.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SkillExposure {
    /// The skill.
    pub skill: SkillId,
    /// Observations per difficulty 1–5 (index 0 = difficulty 1).
    pub by_difficulty: [u64; 5],
    /// All observations on the skill.
    pub total: u64,
    /// Hard observations on the skill.
    pub hard: u64,
}

/// One operator's exposure.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct OperatorExposure {
    /// The operator.
    pub operator: OperatorId,
    /// All observations.
    pub total: u64,
    /// Hard observations.
    pub hard: u64,
    /// Hard ÷ all (no ratio when the operator received nothing).
    pub hard_share: Rate,
    /// Per skill, by skill id.
    pub by_skill: Vec<SkillExposure>,
}

/// What [`Exposure::report`] derives.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ExposureReport {
    /// Per operator, by id.
    pub operators: Vec<OperatorExposure>,
    /// All observations.
    pub total: u64,
    /// Hard observations.
    pub hard: u64,
    /// [`gini`] of the operators' hard counts: 0 = hard work spread perfectly evenly,
    /// (n − 1)/n = one operator of n received all of it; `None` without hard work.
    pub hard_gini: Option<f64>,
}

/// The Gini coefficient `Σᵢ Σⱼ |xᵢ − xⱼ| / (2 · n · Σ x)` of non-negative counts, computed
/// exactly in integers as `(2 · Σᵢ i · x₍ᵢ₎ − (n + 1) · Σ x) / (n · Σ x)` over the values sorted
/// ascending (i from 1) and divided once. `None` for no values or an all-zero sum.
pub fn gini(values: &[u64]) -> Option<f64> {
    let n = values.len() as u128;
    let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
    if n == 0 || sum == 0 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let exact = sorted
        .iter()
        .zip(1_u128..)
        .try_fold(0_u128, |acc, (&v, i)| {
            acc.checked_add(i.checked_mul(u128::from(v))?)
        })
        .and_then(|weighted| {
            // 2·Σ i·x ≥ (n + 1)·Σ x for ascending x (Chebyshev), so the difference is ≥ 0.
            let num = weighted
                .checked_mul(2)?
                .checked_sub((n + 1).checked_mul(sum)?)?;
            Some(num as f64 / n.checked_mul(sum)? as f64)
        });
    // Beyond u128 (astronomical counts), the same formula in floating point.
    Some(exact.unwrap_or_else(|| {
        let (nf, sf) = (n as f64, sum as f64);
        let weighted: f64 = sorted
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64 + 1.0) * v as f64)
            .sum();
        ((2.0 * weighted - (nf + 1.0) * sf) / (nf * sf)).max(0.0)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_formula_matches_pairwise_definition() {
        let xs = [3_u64, 0, 7, 7, 1, 12];
        let n = xs.len() as f64;
        let s: f64 = xs.iter().map(|&x| x as f64).sum();
        let pair: f64 = xs
            .iter()
            .flat_map(|&a| xs.iter().map(move |&b| (a as f64 - b as f64).abs()))
            .sum();
        let g = gini(&xs).unwrap();
        assert!((g - pair / (2.0 * n * s)).abs() < 1e-12);
    }

    #[test]
    fn gini_of_huge_counts_does_not_overflow() {
        let g = gini(&[u64::MAX, u64::MAX, 0]).unwrap();
        assert!((g - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(gini(&[u64::MAX; 4]), Some(0.0));
    }

    #[test]
    fn sizes_differ_by_at_most_one() {
        assert_eq!(team_sizes(17, 5).unwrap(), vec![5, 4, 4, 4]);
        assert_eq!(team_sizes(15, 5).unwrap(), vec![5, 5, 5]);
        assert_eq!(team_sizes(6, 5).unwrap(), vec![3, 3]);
        assert_eq!(team_sizes(5, 5).unwrap(), vec![5]);
    }

    #[test]
    fn level_by_score_boundaries() {
        let r = LevelRule::default();
        assert_eq!(r.level(0.0), 1);
        assert_eq!(r.level(0.6), 2);
        assert_eq!(r.level(0.99), 3);
        assert_eq!(r.level(1.0), 4);
        assert_eq!(r.level(1.5), 5);
        let r = r.with_max_step(1).unwrap();
        assert_eq!(r.next_level(1, 1.5), 2);
        assert_eq!(r.next_level(5, 0.0), 4);
    }
}
