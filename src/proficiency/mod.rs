//! Proficiency scoring from KPI results, balanced team building, skill write-back and exposure
//! metrics (who receives the hard work).
//!
//! # Overview
//!
//! A *proficiency index*, as the contact center Cloudgate practises it: pick a few performance
//! indicators (handled, handle time, satisfaction, conversion), give each a target, and take the
//! weighted average of each operator's **attainment** as their proficiency; split operators into
//! bands (Low / Middle / High) and build teams of about five with the bands evenly mixed.
//! Channel Talk's experience with auto-assignment adds why routing should follow measured skill,
//! and why hard work should reach juniors too: once nobody could cherry-pick, juniors received
//! the hard topics (billing, marketing features), asked seniors and learned them in days. This
//! module holds those pieces:
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
//! [`KpiReport`]: crate::kpi::KpiReport
//! [`Event::OperatorSkillsChanged`]: crate::engine::Event::OperatorSkillsChanged
//! [`Decision`]: crate::engine::Decision
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

// One file per job; everything public is re-exported here, so the paths stay
// `switchboard::proficiency::X` whichever file an item lives in.
mod bands;
mod error;
mod exposure;
mod rules;
mod scoring;
mod teams;

pub use bands::Bands;
pub use error::ProficiencyError;
pub use exposure::{Exposure, ExposureReport, HardRule, OperatorExposure, SkillExposure, gini};
pub use rules::{LevelRule, SkillUpdate, new_skill_levels, skill_events};
pub use scoring::{
    DEFAULT_CAP, Direction, Indicator, Metric, MetricTable, Missing, OperatorScore, Scoring,
};
pub use teams::{
    MAX_SWAP_PASSES, Member, Objective, Team, TeamPlan, build_teams, objective, team_sizes,
};
