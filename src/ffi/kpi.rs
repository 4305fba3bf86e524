//! The KPI handle: finished-conversation records in, headline numbers and a
//! per-tier breakdown out (a thin skin over [`crate::kpi::KpiAccumulator`]).

use crate::ids::{ChannelId, ConversationId, OperatorId, QueueId, TeamId, TierId};
use crate::kpi::{ConversationRecord, DurationSummary, KpiAccumulator, KpiConfig, KpiStats, Rate};
use crate::record::{Finished, FlatFinished, StatusInterval};
use crate::time::Timestamp;

use super::SWITCHBOARD_NO_TIME;
use super::engine::{
    switchboard_activity, switchboard_finished_conversation, switchboard_status_interval,
};
use super::guard::{
    Failure, Handle, Poison, arg_slice, check_buffer, ffi_guard, free_handle, out_items, out_ptr,
    with_handle, with_handle_mut,
};
use super::status::switchboard_status;

/// A KPI calculator: one pass over finished conversations, then reports.
///
/// Create with `switchboard_kpi_new`, free with `switchboard_kpi_free`.
///
/// Thread rule: one thread at a time (no concurrent calls on the same
/// handle, queries included); the handle may move between threads.
#[derive(Debug)]
pub struct switchboard_kpi {
    acc: KpiAccumulator,
    /// Set while a call runs; left set if it panicked.
    poison: Poison,
}

impl Handle for switchboard_kpi {
    const ARG: &'static str = "kpi";

    fn poison(&self) -> &Poison {
        &self.poison
    }
}

/// A ratio kept as its integer terms.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct switchboard_rate {
    /// Numerator.
    pub numerator: u64,
    /// Denominator.
    pub denominator: u64,
    /// `numerator / denominator`; 0 when `denominator` is 0 (no data).
    pub ratio: f64,
}

impl From<&Rate> for switchboard_rate {
    fn from(r: &Rate) -> Self {
        switchboard_rate {
            numerator: r.numerator,
            denominator: r.denominator,
            ratio: r.ratio.unwrap_or(0.0),
        }
    }
}

/// A duration's distribution. With `count == 0` every other field is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct switchboard_duration_summary {
    /// Values measured.
    pub count: u64,
    /// Shortest, in ms.
    pub min_ms: u64,
    /// Longest, in ms.
    pub max_ms: u64,
    /// Median (nearest rank), in ms.
    pub p50_ms: u64,
    /// 90th percentile, in ms.
    pub p90_ms: u64,
    /// 95th percentile, in ms.
    pub p95_ms: u64,
    /// 99th percentile, in ms.
    pub p99_ms: u64,
    /// Mean, in ms.
    pub mean_ms: f64,
    /// Whether the percentiles are exact (otherwise within the sketch's
    /// relative accuracy).
    pub exact: bool,
}

impl From<&DurationSummary> for switchboard_duration_summary {
    fn from(d: &DurationSummary) -> Self {
        let ms = |m: Option<crate::time::Millis>| m.map_or(0, |m| m.0);
        switchboard_duration_summary {
            count: d.count,
            min_ms: ms(d.min),
            max_ms: ms(d.max),
            p50_ms: ms(d.p50),
            p90_ms: ms(d.p90),
            p95_ms: ms(d.p95),
            p99_ms: ms(d.p99),
            mean_ms: d.mean_ms.unwrap_or(0.0),
            exact: d.exact,
        }
    }
}

/// The headline KPIs of a set of conversations (see the README's KPI
/// definitions).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct switchboard_kpi_stats {
    /// Requests for an operator.
    pub offered: u64,
    /// Assigned to an operator.
    pub answered: u64,
    /// Left before an assignment.
    pub abandoned: u64,
    /// Abandoned within the short-abandon threshold.
    pub short_abandoned: u64,
    /// Left a message instead of waiting.
    pub messages_left: u64,
    /// Messages left that got a reply.
    pub messages_answered: u64,
    /// Resolved without an assignment.
    pub closed_unassigned: u64,
    /// None of the above yet.
    pub pending: u64,
    /// Assigned and resolved.
    pub handled: u64,
    /// Resolved.
    pub resolved: u64,
    /// Transfers in total.
    pub transfers: u64,
    /// Conversations transferred at least once.
    pub transferred: u64,
    /// Offers missed or rejected.
    pub missed_offers: u64,
    /// Assigned, then the customer left before any response.
    pub unanswered_after_assign: u64,
    /// Ask to assignment.
    pub wait: switchboard_duration_summary,
    /// Ask to first response.
    pub first_response: switchboard_duration_summary,
    /// Ask to leaving, for abandonments.
    pub time_to_abandon: switchboard_duration_summary,
    /// Assignment to resolution.
    pub handle: switchboard_duration_summary,
    /// Answered / offered.
    pub response_rate: switchboard_rate,
    /// Abandoned / offered.
    pub abandonment_per_offered: switchboard_rate,
    /// Abandoned / (answered + abandoned).
    pub abandonment_per_answered_and_abandoned: switchboard_rate,
    /// The first configured service-level threshold, in ms.
    pub service_level_threshold_ms: u64,
    /// Answered within the threshold / (answered + abandoned).
    pub service_level: switchboard_rate,
    /// First responses within the threshold / first responses.
    pub first_response_within: switchboard_rate,
    /// Ms operators were busy (from status intervals; overall only).
    pub busy_ms: u64,
    /// Ms operators were available and idle.
    pub idle_ms: u64,
    /// Occupancy: busy / (busy + idle).
    pub occupancy: switchboard_rate,
}

impl From<&KpiStats> for switchboard_kpi_stats {
    fn from(s: &KpiStats) -> Self {
        let sl = s.service_levels.first();
        let none = Rate::new(0, 0);
        switchboard_kpi_stats {
            offered: s.offered,
            answered: s.answered,
            abandoned: s.abandoned,
            short_abandoned: s.short_abandoned,
            messages_left: s.messages_left,
            messages_answered: s.messages_answered,
            closed_unassigned: s.closed_unassigned,
            pending: s.pending,
            handled: s.handled,
            resolved: s.resolved,
            transfers: s.transfers,
            transferred: s.transferred,
            missed_offers: s.missed_offers,
            unanswered_after_assign: s.unanswered_after_assign,
            wait: (&s.wait).into(),
            first_response: (&s.first_response).into(),
            time_to_abandon: (&s.time_to_abandon).into(),
            handle: (&s.handle).into(),
            response_rate: (&s.response_rate).into(),
            abandonment_per_offered: (&s.abandonment.per_offered).into(),
            abandonment_per_answered_and_abandoned: (&s.abandonment.per_answered_and_abandoned)
                .into(),
            service_level_threshold_ms: sl.map_or(0, |l| l.threshold.0),
            service_level: sl.map_or(&none, |l| &l.default).into(),
            first_response_within: sl.map_or(&none, |l| &l.first_response_within).into(),
            busy_ms: s.occupancy.busy_ms,
            idle_ms: s.occupancy.idle_ms,
            occupancy: (&s.occupancy.occupancy).into(),
        }
    }
}

/// A KPI report's headline: how many records, and the KPIs over all of them.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct switchboard_kpi_summary {
    /// Valid records read (in or out of the period).
    pub records: u64,
    /// Valid records outside the configured period.
    pub out_of_period: u64,
    /// Rows skipped.
    pub skipped: u64,
    /// All records in the period.
    pub overall: switchboard_kpi_stats,
}

/// One tier's KPIs.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct switchboard_kpi_tier_stats {
    /// The tier.
    pub tier_id: u32,
    /// Its KPIs.
    pub stats: switchboard_kpi_stats,
}

/// The KPI row of a finished conversation, `None` for one the bot handled
/// alone (never a request for an operator), or why no record has these
/// fields.
pub(super) fn record(
    index: usize,
    f: &switchboard_finished_conversation,
) -> Result<Option<ConversationRecord>, Failure> {
    let time = |t: u64| (t != SWITCHBOARD_NO_TIME).then_some(Timestamp(t));
    let flat = FlatFinished {
        id: ConversationId(f.conversation_id),
        channel: ChannelId(f.channel_id),
        tier: TierId(f.tier_id),
        team: f.has_team.then_some(TeamId(f.team_id)),
        queue: f.has_queue.then_some(QueueId(f.queue_id)),
        operator: f.has_operator.then_some(OperatorId(f.operator_id)),
        started_at: Timestamp(f.started_at_ms),
        asked_at: time(f.asked_at_ms),
        offered_at: time(f.offered_at_ms),
        assigned_at: time(f.assigned_at_ms),
        first_response_at: time(f.first_response_at_ms),
        resolved_at: time(f.resolved_at_ms),
        abandoned_at: time(f.abandoned_at_ms),
        message_left_at: time(f.message_left_at_ms),
        transfers: f.transfers,
        missed_offers: f.missed_offers,
    };
    match flat.into_finished() {
        Ok(Finished::Request(r)) => Ok(Some(r)),
        Ok(Finished::BotOnly(_)) => Ok(None),
        Err(why) => Err(Failure::new(
            switchboard_status::InvalidArgument,
            format!("records[{index}]: {why}"),
        )),
    }
}

/// Creates a KPI calculator from a config given as UTF-8 JSON (the serde
/// form of the Rust `KpiConfig`; every field optional). `len == 0` (with
/// `config_json` NULL or not) means the default config.
///
/// # Errors
/// `NULL_ARGUMENT`, `INVALID_UTF8`, `INVALID_JSON`, `KPI_INVALID_CONFIG`,
/// `KPI_INVALID_PERIOD`, `KPI_INVALID_BUSINESS_HOURS`.
///
/// # Safety
/// `config_json` must point to `len` readable bytes (or be NULL with
/// `len == 0`); `out` writable. On OK the caller owns `*out` and frees it
/// with `switchboard_kpi_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_kpi_new(
    config_json: *const u8,
    len: usize,
    out: *mut *mut switchboard_kpi,
) -> switchboard_status {
    ffi_guard(|| {
        let out = out_ptr(out, "out")?;
        // SAFETY: caller's contract.
        let bytes = unsafe { arg_slice(config_json, len, "config_json") }?;
        let config = if bytes.is_empty() {
            KpiConfig::default()
        } else {
            let text = core::str::from_utf8(bytes).map_err(|e| {
                Failure::new(
                    switchboard_status::InvalidUtf8,
                    format!("KPI config is not UTF-8: {e}"),
                )
            })?;
            serde_json::from_str(text).map_err(|e| {
                Failure::new(
                    switchboard_status::InvalidJson,
                    format!("KPI config JSON: {e}"),
                )
            })?
        };
        let acc = KpiAccumulator::new(config)?;
        let handle = Box::into_raw(Box::new(switchboard_kpi {
            acc,
            poison: Poison::default(),
        }));
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Frees a KPI handle. NULL is a no-op. Works on a poisoned handle.
///
/// # Safety
/// `kpi` must be NULL or a handle from `switchboard_kpi_new` not yet freed;
/// it must not be used after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_kpi_free(kpi: *mut switchboard_kpi) {
    // SAFETY: the caller's contract is `free_handle`'s.
    unsafe { free_handle(kpi) }
}

/// Feeds finished-conversation records (as `switchboard_engine_take_finished`
/// hands them out). All or nothing: if one record is invalid, none of the
/// call's records count. Records without `asked_at_ms` (the bot handled
/// them; the customer never asked for an operator) are not requests and
/// are left out of every KPI. A message left counts as the moment the
/// customer left. `queue_id` (with `has_queue`) is carried into the record
/// as the queue it ended in.
///
/// # Errors
/// `NULL_ARGUMENT`, `INVALID_ARGUMENT` (a record whose fields contradict
/// each other, such as a bot-only record with an operator, team or queue),
/// `KPI_BEFORE_ASK`, `KPI_ASSIGNED_AFTER_RESOLVED`,
/// `KPI_ABANDONED_BEFORE_ASSIGNED`, `KPI_OUT_OF_RANGE`.
///
/// # Safety
/// `kpi` must be a live handle; `records` must hold `len` items (or be NULL
/// with `len == 0`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_kpi_push_finished(
    kpi: *mut switchboard_kpi,
    records: *const switchboard_finished_conversation,
    len: usize,
) -> switchboard_status {
    with_handle_mut(kpi, |h| {
        // SAFETY: caller's contract.
        let records = unsafe { arg_slice(records, len, "records") }?;
        // Validate-then-commit: push into a copy, keep it only if all fit.
        let mut acc = h.acc.clone();
        for (i, r) in records.iter().enumerate() {
            if let Some(r) = record(i, r)? {
                acc.push(&r)?;
            }
        }
        h.acc = acc;
        Ok(())
    })
}

/// Feeds operators' activity intervals (as
/// `switchboard_engine_take_status_intervals` hands them out) for
/// occupancy. All or nothing: if one interval is invalid, none of the
/// call's intervals count.
///
/// # Errors
/// `NULL_ARGUMENT`, `INVALID_ARGUMENT` (an unknown `activity`),
/// `KPI_INVALID_STATUS_INTERVAL` (`end_ms` before `start_ms`).
///
/// # Safety
/// `kpi` must be a live handle; `intervals` must hold `len` items (or be
/// NULL with `len == 0`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_kpi_push_status(
    kpi: *mut switchboard_kpi,
    intervals: *const switchboard_status_interval,
    len: usize,
) -> switchboard_status {
    with_handle_mut(kpi, |h| {
        // SAFETY: caller's contract.
        let intervals = unsafe { arg_slice(intervals, len, "intervals") }?;
        let mut acc = h.acc.clone();
        for (i, s) in intervals.iter().enumerate() {
            let activity = switchboard_activity::try_from(s.activity)
                .map_err(|v| Failure::invalid(&format!("intervals[{i}].activity"), v, "0 to 3"))?;
            acc.push_status(&StatusInterval {
                operator: OperatorId(s.operator_id),
                status: activity.into(),
                start: Timestamp(s.start_ms),
                end: Timestamp(s.end_ms),
            })?;
        }
        h.acc = acc;
        Ok(())
    })
}

/// The headline KPIs over every record fed so far.
///
/// # Errors
/// `NULL_ARGUMENT`.
///
/// # Safety
/// `kpi` must be a live handle; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_kpi_report(
    kpi: *const switchboard_kpi,
    out: *mut switchboard_kpi_summary,
) -> switchboard_status {
    with_handle(kpi, |h| {
        let out = out_ptr(out, "out")?;
        let r = h.acc.report();
        let report = switchboard_kpi_summary {
            records: r.records,
            out_of_period: r.out_of_period,
            skipped: r.skipped,
            overall: (&r.overall).into(),
        };
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { out.write(report) };
        Ok(())
    })
}

/// The KPIs per tier, in ascending tier id.
///
/// # Errors
/// `NULL_ARGUMENT`, `BUFFER_TOO_SMALL` (`*out_len` = tiers).
///
/// # Safety
/// `kpi` must be a live handle; `buf` NULL (with `cap == 0`) or valid for
/// `cap` items; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn switchboard_kpi_by_tier(
    kpi: *const switchboard_kpi,
    buf: *mut switchboard_kpi_tier_stats,
    cap: usize,
    out_len: *mut usize,
) -> switchboard_status {
    with_handle(kpi, |h| {
        check_buffer(buf, cap, out_len)?;
        let r = h.acc.report();
        let items = r.by_tier.iter().map(|(t, s)| switchboard_kpi_tier_stats {
            tier_id: t.0,
            stats: s.into(),
        });
        // SAFETY: caller's contract.
        unsafe { out_items(r.by_tier.len(), items, buf, cap, out_len) }
    })
}

#[cfg(test)]
mod tests;
