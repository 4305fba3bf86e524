//! switchboard's KPIs as Apache DataFusion functions, over the interchange schema in Parquet
//! or CSV.
//!
//! - `sb_kpi(cols…)`: aggregate; the KPI report as a struct ([`report_type`]).
//! - `sb_kpi_state(cols…)`: aggregate; the accumulator's canonical bytes, to store and merge.
//! - `sb_kpi_merge(state)`: aggregate; merges stored states into one (days into a month).
//! - `sb_kpi_report(state)`: scalar; the report struct of state bytes.
//!
//! The columns `cols…` are [`ARGUMENTS`], in that order. The aggregates' partial state is the
//! Binary [`KpiAccumulator::to_bytes`](switchboard::kpi::KpiAccumulator::to_bytes), merged
//! exactly, so every partitioning gives the same bytes as one in-memory pass.
//!
//! ```no_run
//! # async fn run() -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! use switchboard_datafusion::{KpiOptions, register_kpi_functions, register_parquet_records};
//!
//! let ctx = SessionContext::new();
//! register_kpi_functions(&ctx, KpiOptions::default())?;
//! register_parquet_records(&ctx, "records", "data/records/").await?;
//! let df = ctx
//!     .sql(&format!(
//!         "SELECT tier, channel, sb_kpi({}) AS kpi FROM records GROUP BY tier, channel",
//!         switchboard_datafusion::ARGUMENTS.join(", ")
//!     ))
//!     .await?;
//! df.show().await?;
//! # Ok(())
//! # }
//! ```

mod error;
mod records;
mod report;
pub mod synthetic;
mod udaf;

use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

pub use error::{KpiUdfError, find_kpi_error};
pub use records::{
    BATCH_ROWS, CsvHeaderError, records_schema, records_to_batch, register_csv_records,
    register_parquet_records, write_parquet,
};
pub use report::{REPORT_JSON, report_type, reports_to_struct};
pub use udaf::{ARGUMENTS, KpiAggregate, KpiMerge, KpiOptions, KpiReportFn};

/// The three aggregates (`sb_kpi`, `sb_kpi_state`, `sb_kpi_merge`) for `options`, to register
/// on any function registry: a `SessionContext`, a `SessionStateBuilder`, or a Ballista
/// scheduler's and executors' session states.
///
/// # Errors
/// [`KpiUdfError::Config`] if the config is invalid.
pub fn kpi_aggregates(options: KpiOptions) -> Result<Vec<AggregateUDF>> {
    let invalid = |source| KpiUdfError::Config { source };
    Ok(vec![
        AggregateUDF::from(KpiAggregate::report(options.clone()).map_err(invalid)?),
        AggregateUDF::from(KpiAggregate::state(options.clone()).map_err(invalid)?),
        AggregateUDF::from(KpiMerge::new(options.config).map_err(invalid)?),
    ])
}

/// The scalar `sb_kpi_report`.
pub fn kpi_scalars() -> Vec<ScalarUDF> {
    vec![ScalarUDF::from(KpiReportFn::default())]
}

/// Registers every KPI function on `ctx`.
///
/// # Errors
/// As [`kpi_aggregates`].
pub fn register_kpi_functions(ctx: &SessionContext, options: KpiOptions) -> Result<()> {
    for f in kpi_aggregates(options)? {
        ctx.register_udaf(f);
    }
    for f in kpi_scalars() {
        ctx.register_udf(f);
    }
    Ok(())
}

/// The argument list as SQL text, `conversation_id, channel, …, queue, tags`, for building
/// queries over a table of [`records_schema`].
pub fn argument_list() -> String {
    ARGUMENTS.join(", ")
}
