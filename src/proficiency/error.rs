//! The one error type of the module: every check in scoring, bands, rules, teams and exposure
//! reports through it, so callers match on one enum.

use crate::ids::OperatorId;

use super::Metric;

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
