//! Metric tables and the proficiency index: indicators, attainment and the weighted score.

use std::collections::BTreeMap;
use std::fmt;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::ids::{OperatorId, SkillId};
use crate::kpi::KpiReport;

use super::ProficiencyError;

/// The attainment cap used unless [`Scoring::with_cap`] sets another.
pub const DEFAULT_CAP: f64 = 1.5;

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
