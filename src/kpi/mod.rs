//! KPI calculators: first response, wait, handle time, abandonment, service level, response
//! rate, per-operator tables, occupancy, messages left, satisfaction and tags, over a period,
//! broken down by tier, channel, team, queue and operator.
//!
//! # Overview
//!
//! - Input rows are [`ConversationRecord`]s: built by the engine, or read from the CSV
//!   interchange format ([`csv`]) or from the Anonymous Bank call-center records ([`bank`]).
//!   Operator status history for occupancy arrives as [`StatusInterval`]s.
//! - A [`KpiAccumulator`] takes one pass over the rows. Its state is integers only (counts, sums
//!   of ms, min, max, [`LogSketch`] bucket counts), so accumulators of any partitioning merge
//!   into exactly the accumulator of the whole ([`KpiAccumulator::merge`]), and travel as a
//!   canonical versioned byte string ([`KpiAccumulator::to_bytes`]).
//! - [`KpiAccumulator::report`] derives a [`KpiReport`] at the end: means, percentiles and rates
//!   are computed there, once.
//! - [`Ingest`] adds order and duplicate checks ([`RecordValidator`]) and the skip-bad-rows
//!   policy; every error is a [`KpiError`] naming the row and the field.
//!
//! # Definitions
//!
//! The definitions most contact-center tools use, with each variant naming the tools that
//! compute it that way (Gitple, Amazon Connect, Genesys, Cisco, NICE inContact, Asterisk), so a
//! team lead can match the numbers of the tool they come from. Durations are `u64` ms; "within
//! T" means `≤ T`.
//! - **Outcome** of a request ([`Outcome`]): message left, else answered (assigned), else
//!   abandoned (left), else closed unassigned (resolved without assignment), else pending.
//! - **Offered** N: requests asked in the period. **Answered** A, **abandoned** B, **messages
//!   left** M, pending and closed-unassigned partition it.
//! - **Wait** = `assigned_at − asked_at`, over answered requests.
//! - **First response time** = `first_response_at − asked_at`, over answered requests with a
//!   response; with [`BusinessHours`] also counting only open time.
//! - **Handle time** = `resolved_at − assigned_at`, over handled (assigned and resolved)
//!   requests, including those that had left a message.
//! - **Abandonment rate** ÷ handled (Gitple), ÷ offered (default), ÷ (answered + abandoned), and
//!   with short abandons removed ([`AbandonmentRates`]).
//! - **Service level** in seven variants ([`ServiceLevel`]); **response rate** = A ÷ N.
//! - **Occupancy** = busy ÷ (busy + idle) from status intervals ([`Occupancy`]).
//! - Every duration: count, mean, min, max, p50/p90/p95/p99 by nearest rank, exact up to
//!   [`EXACT_LIMIT`] values and within ±[`RELATIVE_ACCURACY`] beyond ([`DurationSummary`]).
//!
//! # Worked example
//!
//! One period, T = 20 s, short-abandon threshold S = 5 s: N = 100 offered; A = 80 answered,
//! A_T = 60 of them within T; B = 15 abandoned, B_T = 6 within T, B_S = 4 within S; M = 5
//! messages left, M_T = 3 within T; H = 80 handled. Then abandonment is 15/80 = 18.75 % per
//! handled (Gitple), 15/100 = 15.00 % per offered (the default), 15/95 = 15.79 % per answered +
//! abandoned, 11/96 = 11.46 % short abandons out; service level is 60/80 = 75.00 % SL-ans,
//! 66/95 = 69.47 % SL-pos, 69/100 = 69.00 % Amazon Connect, 60/89 = 67.42 % SL-excl,
//! 60/91 = 65.93 % SL-short, 60/95 = 63.16 % SL-fail (the default), 60/100 = 60.00 % with
//! messages left; response rate 80/100 = 80.00 %. The integration tests check these figures.
//!
//! # Period
//!
//! With [`KpiConfig::period`] set, a record counts iff its `asked_at` is in the half-open
//! period ([`PeriodAnchor::AskedAt`], the default). [`PeriodAnchor::PerKpi`] instead places the
//! output KPIs (handled, handle time, operator table, satisfaction) by `resolved_at`.
//! [`Calendar`] builds today / this week / this month / yesterday / last week / last month for
//! a fixed UTC offset and first day of week.
//!
//! # Example
//!
//! ```
//! use switchboard::kpi::{ConversationRecord, KpiAccumulator, KpiConfig};
//! use switchboard::{ChannelId, ConversationId, Millis, OperatorId, TierId, Timestamp};
//!
//! let mut answered = ConversationRecord::new(ConversationId(1), ChannelId(0), TierId(1), Timestamp(0));
//! answered.operator = Some(OperatorId(7));
//! answered.assigned_at = Some(Timestamp(15_000));
//! answered.first_response_at = Some(Timestamp(45_000));
//! answered.resolved_at = Some(Timestamp(300_000));
//!
//! let mut left = ConversationRecord::new(ConversationId(2), ChannelId(0), TierId(1), Timestamp(1_000));
//! left.abandoned_at = Some(Timestamp(31_000));
//!
//! let mut part_a = KpiAccumulator::new(KpiConfig::default())?;
//! part_a.push(&answered)?;
//! let mut part_b = KpiAccumulator::new(KpiConfig::default())?;
//! part_b.push(&left)?;
//! part_a.merge(&part_b)?; // partitions merge exactly
//!
//! let report = part_a.report();
//! assert_eq!(report.overall.offered, 2);
//! assert_eq!(report.overall.first_response.p50, Some(Millis(45_000)));
//! assert_eq!(report.overall.abandonment.per_offered.percent(), Some(50.0));
//! // Service level within 20 s, abandons counted as failures: 1 of 2.
//! assert_eq!(report.overall.service_levels[0].default.ratio, Some(0.5));
//! assert_eq!(report.operators[0].operator, OperatorId(7));
//!
//! let bytes = part_a.to_bytes();
//! assert_eq!(KpiAccumulator::from_bytes(&bytes)?, part_a);
//! # Ok::<(), switchboard::kpi::KpiError>(())
//! ```

mod accumulator;
pub mod bank;
mod config;
pub mod csv;
mod error;
mod period;
mod record;
mod report;
mod sketch;

pub use crate::record::{Activity, StatusInterval};
pub use crate::record::{ConversationRecord, Outcome, SATISFACTION_MAX};
pub use accumulator::{
    ENCODING_VERSION, Ingest, IngestOptions, KpiAccumulator, RecordValidator, SKIPPED_EXAMPLES,
};
pub use config::{KpiConfig, MAX_SERVICE_LEVEL_THRESHOLDS, PeriodAnchor};
pub use error::{KpiError, SkipReason};
pub use period::{BusinessHours, Calendar, CivilDate, OpenInterval, Period, Weekday};
pub use report::{
    AbandonmentRates, KpiReport, KpiStats, Occupancy, OperatorRow, Rate, Satisfaction,
    ServiceLevel, SkippedRows, TagCount,
};
pub use sketch::{
    DurationStats, DurationSummary, EXACT_LIMIT, LogSketch, MAX_BUCKETS, RELATIVE_ACCURACY,
};
