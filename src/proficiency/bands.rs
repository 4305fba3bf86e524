//! Named bands over scores; also the cut-point checks the level rules share.

#[cfg(feature = "serde")]
use serde::Serialize;

use super::{Member, OperatorScore, ProficiencyError};

pub(super) fn check_cuts(cuts: &[f64]) -> Result<(), ProficiencyError> {
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

pub(super) fn count_cuts_at_or_below(cuts: &[f64], score: f64) -> usize {
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
