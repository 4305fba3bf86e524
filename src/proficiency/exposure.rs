//! Exposure: who received which skills at which difficulty, and how evenly hard work is spread.

use std::collections::BTreeMap;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::engine::{Decision, DecisionKind};
use crate::ids::{OperatorId, SkillId};
use crate::kpi::Rate;
use crate::model::{MAX_LEVEL, MIN_LEVEL};

use super::ProficiencyError;

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
/// the hard topics, as they did once auto-assignment ended cherry-picking (see the module
/// docs)? Integer state only, so partial accumulators
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
}
