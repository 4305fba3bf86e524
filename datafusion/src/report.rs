//! The KPI report as an Arrow struct: the headline figures of the overall population as
//! typed columns, and the whole [`KpiReport`] (every breakdown, every service-level
//! threshold, the operator table) as JSON text in `report_json`.
//!
//! A fully nested struct of the report (maps of breakdowns of nested summaries) would be
//! a schema of hundreds of fields that changes whenever the report gains one; the headline
//! columns are what a `GROUP BY` query compares across groups, and the JSON is for the rest.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray, StructArray, UInt64Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::error::{DataFusionError, Result};
use switchboard::kpi::{DurationSummary, KpiReport, ServiceLevel};

type Count = fn(&KpiReport) -> u64;
type Real = fn(&KpiReport) -> Option<f64>;
type Ms = fn(&KpiReport) -> Option<u64>;

fn sl(r: &KpiReport) -> Option<&ServiceLevel> {
    r.overall.service_levels.first()
}

fn ms(d: &DurationSummary, p: fn(&DurationSummary) -> Option<switchboard::Millis>) -> Option<u64> {
    p(d).map(|m| m.0)
}

/// Counts of the overall population (and of the pass).
static COUNTS: &[(&str, Count)] = &[
    ("records", |r| r.records),
    ("skipped", |r| r.skipped),
    ("out_of_period", |r| r.out_of_period),
    ("offered", |r| r.overall.offered),
    ("answered", |r| r.overall.answered),
    ("abandoned", |r| r.overall.abandoned),
    ("short_abandoned", |r| r.overall.short_abandoned),
    ("messages_left", |r| r.overall.messages_left),
    ("messages_answered", |r| r.overall.messages_answered),
    ("closed_unassigned", |r| r.overall.closed_unassigned),
    ("pending", |r| r.overall.pending),
    ("unanswered_after_assign", |r| {
        r.overall.unanswered_after_assign
    }),
    ("handled", |r| r.overall.handled),
    ("resolved", |r| r.overall.resolved),
    ("transfers", |r| r.overall.transfers),
    ("transferred", |r| r.overall.transferred),
    ("missed_offers", |r| r.overall.missed_offers),
    ("satisfaction_rated", |r| r.overall.satisfaction.rated),
];

/// Rates (0–1, null when the denominator is 0) and means in ms.
static REALS: &[(&str, Real)] = &[
    ("response_rate", |r| r.overall.response_rate.ratio),
    ("abandonment_per_offered", |r| {
        r.overall.abandonment.per_offered.ratio
    }),
    ("abandonment_per_handled", |r| {
        r.overall.abandonment.per_handled.ratio
    }),
    ("abandonment_per_answered_and_abandoned", |r| {
        r.overall.abandonment.per_answered_and_abandoned.ratio
    }),
    ("abandonment_short_excluded_per_offered", |r| {
        r.overall
            .abandonment
            .short_excluded_per_offered
            .and_then(|x| x.ratio)
    }),
    ("service_level", |r| sl(r).and_then(|s| s.default.ratio)),
    ("service_level_answered_only", |r| {
        sl(r).and_then(|s| s.answered_only.ratio)
    }),
    ("service_level_with_messages_left", |r| {
        sl(r).and_then(|s| s.with_messages_left.ratio)
    }),
    ("service_level_abandons_within_pass", |r| {
        sl(r).and_then(|s| s.abandons_within_pass.ratio)
    }),
    ("service_level_abandons_within_excluded", |r| {
        sl(r).and_then(|s| s.abandons_within_excluded.ratio)
    }),
    ("service_level_short_abandons_excluded", |r| {
        sl(r).and_then(|s| s.short_abandons_excluded.and_then(|x| x.ratio))
    }),
    ("service_level_left_queue_within", |r| {
        sl(r).and_then(|s| s.left_queue_within.ratio)
    }),
    ("first_response_within", |r| {
        sl(r).and_then(|s| s.first_response_within.ratio)
    }),
    ("wait_mean_ms", |r| r.overall.wait.mean_ms),
    ("first_response_mean_ms", |r| {
        r.overall.first_response.mean_ms
    }),
    ("handle_mean_ms", |r| r.overall.handle.mean_ms),
    ("time_to_abandon_mean_ms", |r| {
        r.overall.time_to_abandon.mean_ms
    }),
    ("satisfaction_mean", |r| r.overall.satisfaction.mean),
];

/// The first service-level threshold and percentiles, in ms.
static MILLIS: &[(&str, Ms)] = &[
    ("service_level_threshold_ms", |r| {
        sl(r).map(|s| s.threshold.0)
    }),
    ("wait_p50_ms", |r| ms(&r.overall.wait, |d| d.p50)),
    ("wait_p90_ms", |r| ms(&r.overall.wait, |d| d.p90)),
    ("wait_p95_ms", |r| ms(&r.overall.wait, |d| d.p95)),
    ("wait_p99_ms", |r| ms(&r.overall.wait, |d| d.p99)),
    ("wait_max_ms", |r| ms(&r.overall.wait, |d| d.max)),
    ("first_response_p50_ms", |r| {
        ms(&r.overall.first_response, |d| d.p50)
    }),
    ("first_response_p90_ms", |r| {
        ms(&r.overall.first_response, |d| d.p90)
    }),
    ("first_response_p95_ms", |r| {
        ms(&r.overall.first_response, |d| d.p95)
    }),
    ("handle_p50_ms", |r| ms(&r.overall.handle, |d| d.p50)),
    ("handle_p90_ms", |r| ms(&r.overall.handle, |d| d.p90)),
    ("time_to_abandon_p50_ms", |r| {
        ms(&r.overall.time_to_abandon, |d| d.p50)
    }),
    ("time_to_abandon_p90_ms", |r| {
        ms(&r.overall.time_to_abandon, |d| d.p90)
    }),
];

/// The name of the field holding the whole report as JSON.
pub const REPORT_JSON: &str = "report_json";

static FIELDS: LazyLock<Fields> = LazyLock::new(|| {
    let mut f: Vec<Field> = Vec::new();
    f.extend(
        COUNTS
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::UInt64, false)),
    );
    f.extend(
        REALS
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Float64, true)),
    );
    f.extend(
        MILLIS
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::UInt64, true)),
    );
    f.push(Field::new(REPORT_JSON, DataType::Utf8, false));
    Fields::from(f)
});

/// The struct type `sb_kpi` and `sb_kpi_report` return.
pub fn report_type() -> DataType {
    DataType::Struct(FIELDS.clone())
}

/// The reports as a struct array, one row each; `None` is a null row (a null state).
///
/// # Errors
/// If a report cannot be serialised to JSON (not expected: it holds plain data).
pub fn reports_to_struct(reports: &[Option<KpiReport>]) -> Result<StructArray> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(FIELDS.len());
    let rows = || reports.iter().map(|r| r.as_ref());
    for (_, f) in COUNTS {
        columns.push(Arc::new(
            rows()
                .map(|r| Some(r.map_or(0, f)))
                .collect::<UInt64Array>(),
        ));
    }
    for (_, f) in REALS {
        columns.push(Arc::new(
            rows().map(|r| r.and_then(f)).collect::<Float64Array>(),
        ));
    }
    for (_, f) in MILLIS {
        columns.push(Arc::new(
            rows().map(|r| r.and_then(f)).collect::<UInt64Array>(),
        ));
    }
    let json = rows()
        .map(|r| {
            r.map_or(Ok(String::new()), serde_json::to_string)
                .map(Some)
                .map_err(|e| DataFusionError::External(Box::new(e)))
        })
        .collect::<Result<StringArray>>()?;
    columns.push(Arc::new(json));
    let nulls = NullBuffer::from(reports.iter().map(Option::is_some).collect::<Vec<_>>());
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    Ok(StructArray::try_new(FIELDS.clone(), columns, nulls)?)
}
