//! The interchange schema as Arrow columns: records to record batches, Parquet writing, and
//! registering Parquet or CSV files as a `records` table.
//!
//! The columns and their meanings are those of the CSV interchange format
//! ([`switchboard::kpi::csv`]), with `queue` always present; `tags` is the `;`-joined list the
//! CSV holds. Integer widths follow [`ConversationRecord`], so every value round-trips exactly.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, RecordBatch, StringArray, UInt8Array, UInt32Array, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, ident, lit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use switchboard::kpi::ConversationRecord;

/// Rows per record batch (and Parquet row group granularity) written by [`write_parquet`].
pub const BATCH_ROWS: usize = 65_536;

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let u64n = |n: &str, null: bool| Field::new(n, DataType::UInt64, null);
    let u32n = |n: &str, null: bool| Field::new(n, DataType::UInt32, null);
    Arc::new(Schema::new(vec![
        u64n("conversation_id", false),
        u32n("channel", false),
        u32n("tier", false),
        u32n("team", true),
        u64n("operator", true),
        u64n("asked_at", false),
        u64n("assigned_at", true),
        u64n("first_response_at", true),
        u64n("resolved_at", true),
        u64n("abandoned_at", true),
        Field::new("message_left", DataType::Boolean, false),
        u32n("transfers", false),
        Field::new("tags", DataType::Utf8, true),
        Field::new("satisfaction", DataType::UInt8, true),
        u32n("missed_offers", false),
        u64n("offered_at", true),
        u32n("queue", true),
    ]))
});

/// The Arrow schema of the interchange format (the CSV columns, then `queue`).
pub fn records_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// The records as one record batch of [`records_schema`].
///
/// # Errors
/// Only if Arrow refuses the columns, which would be a bug here.
pub fn records_to_batch(records: &[ConversationRecord]) -> Result<RecordBatch> {
    let u64s = |f: fn(&ConversationRecord) -> Option<u64>| -> ArrayRef {
        Arc::new(records.iter().map(f).collect::<UInt64Array>())
    };
    let u32s = |f: fn(&ConversationRecord) -> Option<u32>| -> ArrayRef {
        Arc::new(records.iter().map(f).collect::<UInt32Array>())
    };
    let tags: StringArray = records
        .iter()
        .map(|r| (!r.tags.is_empty()).then(|| r.tags.join(";")))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        u64s(|r| Some(r.conversation.0)),
        u32s(|r| Some(r.channel.0)),
        u32s(|r| Some(r.tier.0)),
        u32s(|r| r.team.map(|t| t.0)),
        u64s(|r| r.operator.map(|o| o.0)),
        u64s(|r| Some(r.asked_at.0)),
        u64s(|r| r.assigned_at.map(|t| t.0)),
        u64s(|r| r.first_response_at.map(|t| t.0)),
        u64s(|r| r.resolved_at.map(|t| t.0)),
        u64s(|r| r.abandoned_at.map(|t| t.0)),
        Arc::new(
            records
                .iter()
                .map(|r| Some(r.message_left))
                .collect::<BooleanArray>(),
        ),
        u32s(|r| Some(r.transfers)),
        Arc::new(tags),
        Arc::new(
            records
                .iter()
                .map(|r| r.satisfaction)
                .collect::<UInt8Array>(),
        ),
        u32s(|r| Some(r.missed_offers)),
        u64s(|r| r.offered_at.map(|t| t.0)),
        u32s(|r| r.queue.map(|q| q.0)),
    ];
    Ok(RecordBatch::try_new(records_schema(), columns)?)
}

/// Writes records as Parquet, [`BATCH_ROWS`] per batch, so that the simulator's records and an
/// imported CSV reach DataFusion through the same file format.
///
/// Records arrive through an iterator so that files larger than memory can be written.
///
/// # Errors
/// I/O and Parquet errors, as DataFusion errors.
pub fn write_parquet<I>(records: I, path: &Path) -> Result<u64>
where
    I: IntoIterator<Item = ConversationRecord>,
{
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w = ArrowWriter::try_new(File::create(path)?, records_schema(), Some(props))?;
    let mut buf = Vec::with_capacity(BATCH_ROWS);
    let mut rows = 0u64;
    for r in records {
        buf.push(r);
        if buf.len() == BATCH_ROWS {
            w.write(&records_to_batch(&buf)?)?;
            rows += buf.len() as u64;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        w.write(&records_to_batch(&buf)?)?;
        rows += buf.len() as u64;
    }
    w.close()?;
    Ok(rows)
}

/// Registers Parquet files (a file, or a directory of `.parquet` files) as table `name`.
///
/// # Errors
/// As [`SessionContext::register_parquet`].
pub async fn register_parquet_records(ctx: &SessionContext, name: &str, path: &str) -> Result<()> {
    ctx.register_parquet(name, path, ParquetReadOptions::default())
        .await
}

/// Registers interchange CSV files (one file, or a directory of `.csv` files sharing the first
/// file's header) as table `name` with the columns of [`records_schema`]: the header may name
/// the columns in any order (`route` read as `queue`), and a missing optional column reads as
/// null, as in the Rust reader. Empty `message_left`, `transfers` and `missed_offers` read as
/// false and 0 in the KPI functions.
///
/// DataFusion's CSV reader accepts `message_left` as `true`/`false` only (the Rust reader also
/// takes `1`/`0`) and reports bad fields without a line number: to get line-numbered errors,
/// convert the CSV to Parquet with the `records_to_parquet` example, which reads it with
/// switchboard's own reader.
///
/// # Errors
/// [`CsvHeaderError`] (unreadable file, unknown, repeated or missing required column), and
/// DataFusion's errors.
pub async fn register_csv_records(ctx: &SessionContext, name: &str, path: &str) -> Result<()> {
    let header = csv_header(Path::new(path))?;
    let full = records_schema();
    let mut fields = Vec::with_capacity(header.len());
    for h in &header {
        let canonical = if h == "route" { "queue" } else { h.as_str() };
        let f = full
            .field_with_name(canonical)
            .map_err(|_| external(CsvHeaderError::UnknownColumn(h.clone())))?;
        if fields.iter().any(|x: &Field| x.name() == canonical) {
            return Err(external(CsvHeaderError::DuplicateColumn(h.clone())));
        }
        fields.push(Field::new(h, f.data_type().clone(), true));
    }
    for required in ["conversation_id", "channel", "tier", "asked_at"] {
        if !fields.iter().any(|f| f.name() == required) {
            return Err(external(CsvHeaderError::MissingColumn(required)));
        }
    }
    let file_schema = Schema::new(fields);
    let opts = CsvReadOptions::new()
        .has_header(true)
        .schema(&file_schema)
        .file_extension(".csv");
    let df = ctx.read_csv(path, opts).await?;
    let exprs: Vec<Expr> = full
        .fields()
        .iter()
        .map(|f| {
            let present = header
                .iter()
                .find(|h| h.as_str() == f.name() || (h.as_str() == "route" && f.name() == "queue"));
            match present {
                Some(h) => ident(h).alias(f.name()),
                None => ScalarValue::try_from(f.data_type())
                    .map(|v| lit(v).alias(f.name()))
                    .unwrap_or_else(|_| lit(ScalarValue::Null).alias(f.name())),
            }
        })
        .collect();
    let view = df.select(exprs)?.into_view();
    ctx.register_table(name, view)?;
    Ok(())
}

/// What is wrong with an interchange CSV header.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvHeaderError {
    /// The file (or the directory's first `.csv` file) could not be read.
    #[error("cannot read the csv header of {path}: {message}")]
    Unreadable {
        /// The path given.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// A column the format does not have.
    #[error("unknown column `{0}`")]
    UnknownColumn(String),
    /// A column named twice (`queue` and `route` together count as a repeat).
    #[error("duplicate column `{0}`")]
    DuplicateColumn(String),
    /// A required column is absent.
    #[error("missing required column `{0}`")]
    MissingColumn(&'static str),
}

fn external(e: CsvHeaderError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// The header of `path`, or of the first `.csv` file (by name) in it when it is a directory.
fn csv_header(path: &Path) -> Result<Vec<String>> {
    let unreadable = |e: std::io::Error| {
        external(CsvHeaderError::Unreadable {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    };
    let file = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(unreadable)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        files.sort();
        files.into_iter().next().ok_or_else(|| {
            unreadable(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no .csv file in the directory",
            ))
        })?
    } else {
        path.to_path_buf()
    };
    let mut line = String::new();
    BufReader::new(File::open(&file).map_err(unreadable)?)
        .read_line(&mut line)
        .map_err(unreadable)?;
    let line = line
        .trim_end_matches(['\r', '\n'])
        .trim_start_matches('\u{feff}');
    Ok(line.split(',').map(|c| c.trim().to_owned()).collect())
}
