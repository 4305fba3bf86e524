//! Write-back: scores become skill levels 1–5 and `OperatorSkillsChanged` events, so routing
//! follows measured skill.

use std::collections::BTreeMap;

use smallvec::SmallVec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::engine::Event;
use crate::ids::{OperatorId, SkillId};
use crate::model::{MAX_LEVEL, MIN_LEVEL, OperatorSpec, SkillLevel};
use crate::time::Timestamp;

use super::bands::{check_cuts, count_cuts_at_or_below};
use super::{Bands, OperatorScore, ProficiencyError};

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
                cuts: bands.cuts().len(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
