//! The errors the KPI functions raise inside a query, carried as
//! `DataFusionError::External` so a caller can downcast to them.

use datafusion::error::DataFusionError;
use switchboard::kpi::KpiError;

/// What went wrong in a KPI function; the [`KpiError`] inside is the Rust calculators' own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KpiUdfError {
    /// A row broke a record rule (or a required column was null). DataFusion has no global
    /// row numbers, so the row is named by its `conversation_id`; the `line` inside `source`
    /// is the row's 1-based position among the rows one accumulator saw (one group of one
    /// partition), which depends on the partitioning.
    #[error("{function}: row with conversation_id {}: {source}", fmt_id(.conversation))]
    Row {
        /// The function that read the row.
        function: &'static str,
        /// The row's `conversation_id` (`None` when that column itself was null).
        conversation: Option<u64>,
        /// The rule it broke, as the Rust calculators report it.
        #[source]
        source: KpiError,
    },
    /// State bytes were refused: another encoding version, truncated, corrupt, not a KPI
    /// state at all, or built with another config than the states they meet.
    #[error("{function}: state bytes refused: {source}")]
    State {
        /// The function that read the bytes.
        function: &'static str,
        /// Why they were refused.
        #[source]
        source: KpiError,
    },
    /// The `KpiConfig` given at registration is invalid.
    #[error("invalid KPI config: {source}")]
    Config {
        /// What is wrong with it.
        #[source]
        source: KpiError,
    },
    /// An argument of the wrong count or type, at planning time.
    #[error("{function}: {reason}")]
    Arguments {
        /// The function called.
        function: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn fmt_id(id: &Option<u64>) -> String {
    id.map_or_else(|| "null".to_owned(), |c| c.to_string())
}

impl From<KpiUdfError> for DataFusionError {
    fn from(e: KpiUdfError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

/// The [`KpiUdfError`] inside a DataFusion error, however deeply DataFusion wrapped it
/// (contexts, Arrow errors, errors shared with other partitions).
pub fn find_kpi_error(e: &DataFusionError) -> Option<&KpiUdfError> {
    if let DataFusionError::Collection(all) = e {
        return all.iter().find_map(find_kpi_error);
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if let Some(k) = x.downcast_ref::<KpiUdfError>() {
            return Some(k);
        }
        cur = x.source();
    }
    None
}
