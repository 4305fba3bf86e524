//! Conversation records as Arrow: the schema of the interchange row
//! ([`ConversationRecord`]), [`batch_of`] to build a batch from records (the simulator's
//! output), [`RecordTable`] to hand batches to Python through the Arrow PyCapsule stream
//! protocol (pyarrow, pandas ≥ 2.2 and polars read it without copying), and the reverse:
//! records from any object with `__arrow_c_stream__` or from a dict of numpy columns.
//!
//! # Schema
//!
//! The record columns, in the order of the CSV interchange format (`src/kpi/csv.rs`), then
//! `queue` and `started_at`. Times are `UInt64` milliseconds since the Unix epoch, not Arrow
//! timestamps, so every value round-trips exactly. `tags` is `list<utf8>`.
//!
//! | column | Arrow type | null means |
//! |---|---|---|
//! | `conversation_id` | uint64 | — (required) |
//! | `channel`, `tier` | uint32 | — (required) |
//! | `team` | uint32 | no team |
//! | `operator` | uint64 | no operator |
//! | `asked_at` | uint64 ms | — (required) |
//! | `assigned_at`, `first_response_at`, `resolved_at`, `abandoned_at`, `offered_at`, `started_at` | uint64 ms | not happened |
//! | `message_left` | bool | (never null) |
//! | `transfers`, `missed_offers` | uint32 | (never null) |
//! | `tags` | `list<utf8>` | (never null; empty list: no tags) |
//! | `satisfaction` | uint8 | not rated |
//! | `queue` | uint32 | the default queue |
//!
//! # Reading
//!
//! Lenient about representation, strict about values: integer columns of any width and
//! signedness, floats holding whole numbers (pandas writes missing integers as NaN), and for
//! times also Arrow timestamps of any unit (truncated to whole ms) and date64. Null (or NaN) in
//! an optional column means "absent" (`transfers`, `missed_offers` 0, `message_left` false, no
//! tags); in a required column it is an error. `tags` may also be a string column of tags
//! separated by `;` (as in the CSV). A missing required column, an unknown column, a column of
//! a wrong type, a negative, fractional, too large or NaN value: `InvalidInput` naming the
//! column, and the row (0-based, attribute `row`) when it is about one row.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::types::{
    Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch,
    RecordBatchIterator, RecordBatchReader, StringArray, UInt8Array, UInt32Array, UInt64Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use numpy::{IntoPyArray, PyArray1, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyList};
use switchboard::ids::{ChannelId, ConversationId, OperatorId, QueueId, TeamId, TierId};
use switchboard::record::ConversationRecord;
use switchboard::time::Timestamp;

use switchboard::kpi::csv;

use crate::errors;

/// The record columns, in schema order: the interchange CSV's columns
/// ([`csv::COLUMNS`]), then the queue and the start of work.
pub const COLUMNS: [&str; 18] = {
    let mut out = [""; 18];
    let mut i = 0;
    while i < csv::COLUMNS.len() {
        out[i] = csv::COLUMNS[i];
        i += 1;
    }
    out[16] = csv::QUEUE_COLUMN;
    out[17] = "started_at";
    out
};

/// Another name read as `queue` (as in the CSV).
const QUEUE_ALIAS: &str = "route";

/// Schema metadata key listing the extra (non-record) columns of a [`batch_of`] batch, so
/// reading the table back ignores them.
pub const EXTRA_KEY: &str = "switchboard.extra_columns";

const REQUIRED: [&str; 4] = ["conversation_id", "channel", "tier", "asked_at"];

const U64_MAX: u64 = u64::MAX;
const U32_MAX: u64 = u32::MAX as u64;
const U8_MAX: u64 = u8::MAX as u64;

/// The Arrow type and nullability of record column `name`.
fn column_type(name: &str) -> (DataType, bool) {
    match name {
        "conversation_id" | "asked_at" => (DataType::UInt64, false),
        "channel" | "tier" => (DataType::UInt32, false),
        "team" | "queue" => (DataType::UInt32, true),
        "operator" => (DataType::UInt64, true),
        "message_left" => (DataType::Boolean, false),
        "transfers" | "missed_offers" => (DataType::UInt32, false),
        "tags" => (tags_type(), false),
        "satisfaction" => (DataType::UInt8, true),
        _ => (DataType::UInt64, true), // the optional times
    }
}

fn tags_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// The record fields of the schema.
pub fn record_fields() -> Vec<Field> {
    COLUMNS
        .iter()
        .map(|name| {
            let (t, nullable) = column_type(name);
            Field::new(*name, t, nullable)
        })
        .collect()
}

/// The schema of records alone.
pub fn record_schema() -> SchemaRef {
    Arc::new(Schema::new(record_fields()))
}

/// `InvalidInput` naming `field` and carrying `row` (0-based) as the attribute `row`.
pub fn row_error(field: &str, row: usize, message: impl std::fmt::Display) -> PyErr {
    let e = errors::invalid(field, message);
    Python::attach(|py| {
        let _ = e.value(py).setattr("row", row);
    });
    e
}

/// One batch of `records`, with the `extra` columns first (e.g. `policy`, `replication`),
/// each as long as `records`. The extra column names are kept in the schema metadata
/// ([`EXTRA_KEY`]) so reading the table back as records ignores them.
///
/// # Errors
/// `InvalidInput` naming an extra column of another length or with a record column's name.
pub fn batch_of(
    records: &[ConversationRecord],
    extra: Vec<(String, ArrayRef)>,
) -> PyResult<RecordBatch> {
    let n = records.len();
    let mut fields = Vec::with_capacity(extra.len() + COLUMNS.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(extra.len() + COLUMNS.len());
    let mut names = Vec::with_capacity(extra.len());
    for (name, array) in extra {
        if array.len() != n {
            return Err(errors::invalid(
                &name,
                format!(
                    "extra column `{name}` has {} values for {n} records",
                    array.len()
                ),
            ));
        }
        if COLUMNS.contains(&name.as_str()) || names.contains(&name) {
            return Err(errors::invalid(
                &name,
                format!("extra column `{name}` repeats a column name"),
            ));
        }
        fields.push(Field::new(
            &name,
            array.data_type().clone(),
            array.null_count() > 0,
        ));
        columns.push(array);
        names.push(name);
    }
    fields.extend(record_fields());
    let u64s = |f: fn(&ConversationRecord) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(records.iter().map(f)))
    };
    let opt_u64s = |f: fn(&ConversationRecord) -> Option<u64>| -> ArrayRef {
        Arc::new(records.iter().map(f).collect::<UInt64Array>())
    };
    let u32s = |f: fn(&ConversationRecord) -> u32| -> ArrayRef {
        Arc::new(UInt32Array::from_iter_values(records.iter().map(f)))
    };
    let opt_u32s = |f: fn(&ConversationRecord) -> Option<u32>| -> ArrayRef {
        Arc::new(records.iter().map(f).collect::<UInt32Array>())
    };
    fn ms(t: Option<Timestamp>) -> Option<u64> {
        t.map(|t| t.0)
    }
    for name in COLUMNS {
        let array: ArrayRef = match name {
            "conversation_id" => u64s(|r| r.conversation.0),
            "channel" => u32s(|r| r.channel.0),
            "tier" => u32s(|r| r.tier.0),
            "team" => opt_u32s(|r| r.team.map(|t| t.0)),
            "operator" => opt_u64s(|r| r.operator.map(|o| o.0)),
            "asked_at" => u64s(|r| r.asked_at.0),
            "assigned_at" => opt_u64s(|r| ms(r.assigned_at)),
            "first_response_at" => opt_u64s(|r| ms(r.first_response_at)),
            "resolved_at" => opt_u64s(|r| ms(r.resolved_at)),
            "abandoned_at" => opt_u64s(|r| ms(r.abandoned_at)),
            "offered_at" => opt_u64s(|r| ms(r.offered_at)),
            "started_at" => opt_u64s(|r| ms(r.started_at)),
            "message_left" => Arc::new(BooleanArray::from(
                records.iter().map(|r| r.message_left).collect::<Vec<_>>(),
            )),
            "transfers" => u32s(|r| r.transfers),
            "missed_offers" => u32s(|r| r.missed_offers),
            "satisfaction" => Arc::new(
                records
                    .iter()
                    .map(|r| r.satisfaction)
                    .collect::<UInt8Array>(),
            ),
            "queue" => opt_u32s(|r| r.queue.map(|q| q.0)),
            _ => {
                let values =
                    StringArray::from_iter_values(records.iter().flat_map(|r| r.tags.iter()));
                let offsets = OffsetBuffer::from_lengths(records.iter().map(|r| r.tags.len()));
                Arc::new(ListArray::new(
                    Arc::new(Field::new_list_field(DataType::Utf8, true)),
                    offsets,
                    Arc::new(values),
                    None,
                ))
            }
        };
        columns.push(array);
    }
    let mut metadata = HashMap::new();
    if !names.is_empty() {
        metadata.insert(EXTRA_KEY.to_string(), names.join(","));
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
    RecordBatch::try_new(schema, columns).map_err(|e| errors::invalid("records", e))
}

/// Conversation records (and any extra columns) as Arrow record batches.
///
/// Read by anything that speaks the Arrow PyCapsule stream protocol: `pyarrow.table(t)`,
/// `polars.DataFrame(t)`, `pandas.DataFrame.from_arrow` … and by `switchboard.kpi`.
#[pyclass(frozen, name = "RecordTable", module = "switchboard")]
pub struct RecordTable {
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
}

impl RecordTable {
    /// A table of `batches`, each of `schema`.
    pub fn new(batches: Vec<RecordBatch>, schema: SchemaRef) -> Self {
        RecordTable { batches, schema }
    }

    /// The batches.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// One column over all batches as Python values: a numpy array (nullable numbers as
    /// float64 with NaN, or a masked array), a list of lists of str (tags), or an object array
    /// of str.
    fn column<'py>(&self, py: Python<'py>, idx: usize, mask: bool) -> PyResult<Bound<'py, PyAny>> {
        let field = self.schema.field(idx);
        let nullable = field.is_nullable();
        let name = field.name();
        macro_rules! numeric {
            ($t:ty) => {{
                let mut vals = Vec::with_capacity(self.rows());
                let mut nulls = Vec::with_capacity(self.rows());
                for b in &self.batches {
                    let a = b.column(idx).as_primitive::<$t>();
                    for i in 0..a.len() {
                        let null = a.is_null(i);
                        nulls.push(null);
                        vals.push(if null { Default::default() } else { a.value(i) });
                    }
                }
                if !nullable {
                    vals.into_pyarray(py).into_any()
                } else if mask {
                    let ma = py.import("numpy.ma")?;
                    let kw = PyDict::new(py);
                    kw.set_item("mask", nulls.into_pyarray(py))?;
                    ma.call_method("masked_array", (vals.into_pyarray(py),), Some(&kw))?
                } else {
                    #[allow(clippy::unnecessary_cast)]
                    let f: Vec<f64> = vals
                        .iter()
                        .zip(&nulls)
                        .map(|(v, n)| if *n { f64::NAN } else { *v as f64 })
                        .collect();
                    f.into_pyarray(py).into_any()
                }
            }};
        }
        Ok(match field.data_type() {
            DataType::UInt8 => numeric!(UInt8Type),
            DataType::UInt16 => numeric!(UInt16Type),
            DataType::UInt32 => numeric!(UInt32Type),
            DataType::UInt64 => numeric!(UInt64Type),
            DataType::Int8 => numeric!(Int8Type),
            DataType::Int16 => numeric!(Int16Type),
            DataType::Int32 => numeric!(Int32Type),
            DataType::Int64 => numeric!(Int64Type),
            DataType::Float32 => numeric!(Float32Type),
            DataType::Float64 => numeric!(Float64Type),
            DataType::Boolean => {
                let mut vals = Vec::with_capacity(self.rows());
                for b in &self.batches {
                    let a = b.column(idx).as_boolean();
                    vals.extend((0..a.len()).map(|i| a.is_valid(i) && a.value(i)));
                }
                vals.into_pyarray(py).into_any()
            }
            DataType::List(_) | DataType::LargeList(_) => {
                let out = PyList::empty(py);
                for b in &self.batches {
                    let col = b.column(idx);
                    for i in 0..col.len() {
                        let row = PyList::empty(py);
                        if col.is_valid(i) {
                            let items = match col.data_type() {
                                DataType::List(_) => col.as_list::<i32>().value(i),
                                _ => col.as_list::<i64>().value(i),
                            };
                            for s in strings(&items).unwrap_or_default().into_iter().flatten() {
                                row.append(s)?;
                            }
                        }
                        out.append(row)?;
                    }
                }
                out.into_any()
            }
            t => {
                let mut vals: Vec<Option<String>> = Vec::with_capacity(self.rows());
                for b in &self.batches {
                    let Some(s) = strings(b.column(idx)) else {
                        return Err(errors::invalid(
                            name,
                            format!("column `{name}` of Arrow type {t} has no numpy form"),
                        ));
                    };
                    vals.extend(s.into_iter().map(|x| x.map(str::to_owned)));
                }
                let np = py.import("numpy")?;
                let kw = PyDict::new(py);
                kw.set_item("dtype", np.getattr("object_")?)?;
                np.call_method("array", (vals,), Some(&kw))?
            }
        })
    }
}

#[pymethods]
impl RecordTable {
    /// The Arrow C stream of the batches (the Arrow PyCapsule protocol). `requested_schema`
    /// is accepted and ignored: the stream always has the table's schema.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let reader = RecordBatchIterator::new(
            self.batches.clone().into_iter().map(Ok),
            self.schema.clone(),
        );
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }

    /// The Arrow C schema of the table.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref())
            .map_err(|e| errors::invalid("schema", e))?;
        PyCapsule::new_with_value(py, schema, c"arrow_schema")
    }

    fn __len__(&self) -> usize {
        self.rows()
    }

    /// The column names, extra columns first.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// Number of record batches.
    #[getter]
    fn num_batches(&self) -> usize {
        self.batches.len()
    }

    /// The columns as a dict of numpy arrays (see `switchboard.records`).
    #[pyo3(signature = (nulls="nan"))]
    fn to_numpy<'py>(&self, py: Python<'py>, nulls: &str) -> PyResult<Bound<'py, PyDict>> {
        let mask = match nulls {
            "nan" => false,
            "mask" => true,
            _ => {
                return Err(errors::invalid(
                    "nulls",
                    format!("nulls must be \"nan\" or \"mask\", got {nulls:?}"),
                ));
            }
        };
        let out = PyDict::new(py);
        for (i, f) in self.schema.fields().iter().enumerate() {
            out.set_item(f.name(), self.column(py, i, mask)?)?;
        }
        Ok(out)
    }

    /// The same as `to_numpy`.
    #[pyo3(signature = (nulls="nan"))]
    fn columns<'py>(&self, py: Python<'py>, nulls: &str) -> PyResult<Bound<'py, PyDict>> {
        self.to_numpy(py, nulls)
    }

    /// A `pyarrow.Table` (needs pyarrow).
    fn to_pyarrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py().import("pyarrow")?.call_method1("table", (slf,))
    }

    /// A `pandas.DataFrame` (needs pandas and pyarrow): nullable integer columns become
    /// float64 with NaN, as pyarrow converts them.
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::to_pyarrow(slf)?.call_method0("to_pandas")
    }

    /// A `polars.DataFrame` (needs polars).
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let pl = slf.py().import("polars")?;
        match pl.call_method1("DataFrame", (slf,)) {
            Ok(df) => Ok(df),
            // Older polars without the PyCapsule constructor: through pyarrow.
            Err(_) => pl.call_method1("from_arrow", (Self::to_pyarrow(slf)?,)),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "RecordTable(rows={}, columns=[{}])",
            self.rows(),
            self.column_names().join(", ")
        )
    }
}

/// The strings of a string array of any flavour, `None` for another type.
fn strings(a: &ArrayRef) -> Option<Vec<Option<&str>>> {
    Some(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => a.as_string::<i64>().iter().collect(),
        DataType::Utf8View => a.as_string_view().iter().collect(),
        _ => return None,
    })
}

/// The batches of `obj`: a `RecordTable` as is, else its Arrow C stream.
pub fn batches_of(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    if let Ok(t) = obj.cast::<RecordTable>() {
        let t = t.get();
        return Ok((t.schema.clone(), t.batches.clone()));
    }
    if !obj.hasattr("__arrow_c_stream__")? {
        return Err(errors::invalid(
            arg,
            format!(
                "{arg} must be a table (pyarrow, pandas, polars: an object with __arrow_c_stream__), a dict of columns or a CSV path, got {}",
                obj.get_type().name()?
            ),
        ));
    }
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| errors::invalid(arg, "__arrow_c_stream__ did not return a PyCapsule"))?;
    let ptr = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: the capsule holds an `ArrowArrayStream` (its name says so, as the protocol
    // requires); `from_raw` moves the stream out and marks the capsule's one released, so the
    // capsule's destructor does not release it again.
    let reader = unsafe {
        RecordBatchStreamReader::from_raw(ptr.cast::<FFI_ArrowArrayStream>().as_ptr())
    }
    .map_err(|e| errors::invalid(arg, format!("{arg}: cannot read the Arrow stream: {e}")))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| errors::invalid(arg, format!("{arg}: cannot read the Arrow stream: {e}")))?;
    Ok((schema, batches))
}

/// Where each record column is in a schema.
struct Layout {
    /// Index into the schema for each of [`COLUMNS`].
    at: [Option<usize>; COLUMNS.len()],
}

fn layout(schema: &Schema, ignore_unknown: bool) -> PyResult<Layout> {
    let extra: Vec<&str> = schema
        .metadata()
        .get(EXTRA_KEY)
        .map(|s| s.split(',').collect())
        .unwrap_or_default();
    let mut at = [None; COLUMNS.len()];
    for (i, f) in schema.fields().iter().enumerate() {
        let name = f.name().as_str();
        let key = if name == QUEUE_ALIAS { "queue" } else { name };
        match COLUMNS.iter().position(|c| *c == key) {
            Some(c) => {
                if at[c].is_some() {
                    return Err(errors::invalid(
                        name,
                        format!(
                            "column `{key}` appears twice (`queue` and `route` are one column)"
                        ),
                    ));
                }
                at[c] = Some(i);
            }
            // pandas writes a non-default index as `__index_level_0__`, …
            None if ignore_unknown
                || extra.contains(&name)
                || name.starts_with("__index_level_") => {}
            None => {
                return Err(errors::invalid(
                    name,
                    format!(
                        "unknown column `{name}` (record columns: {}); pass ignore_unknown=True to leave it out",
                        COLUMNS.join(", ")
                    ),
                ));
            }
        }
    }
    for r in REQUIRED {
        let c = COLUMNS.iter().position(|c| *c == r).unwrap_or(0);
        if at[c].is_none() {
            return Err(errors::invalid(r, format!("missing required column `{r}`")));
        }
    }
    Ok(Layout { at })
}

/// The whole numbers of an integer-like column, `None` for null (and NaN), each checked to be
/// from 0 to `max`. `time`: Arrow timestamps and date64 are read as ms.
fn whole_numbers(
    a: &ArrayRef,
    name: &str,
    max: u64,
    time: bool,
    base: usize,
) -> PyResult<Vec<Option<u64>>> {
    let check = |row: usize, v: i128| -> PyResult<u64> {
        if v < 0 {
            Err(row_error(
                name,
                base + row,
                format!("column `{name}`, row {}: negative value {v}", base + row),
            ))
        } else if v > i128::from(max) {
            Err(row_error(
                name,
                base + row,
                format!(
                    "column `{name}`, row {}: {v} is above the largest allowed {max}",
                    base + row
                ),
            ))
        } else {
            Ok(v as u64)
        }
    };
    macro_rules! ints {
        ($t:ty, $scale:expr) => {
            a.as_primitive::<$t>()
                .iter()
                .enumerate()
                .map(|(row, v)| v.map(|x| check(row, $scale(i128::from(x)))).transpose())
                .collect()
        };
    }
    let id = |x: i128| x;
    match a.data_type() {
        DataType::Int8 => ints!(Int8Type, id),
        DataType::Int16 => ints!(Int16Type, id),
        DataType::Int32 => ints!(Int32Type, id),
        DataType::Int64 => ints!(Int64Type, id),
        DataType::UInt8 => ints!(UInt8Type, id),
        DataType::UInt16 => ints!(UInt16Type, id),
        DataType::UInt32 => ints!(UInt32Type, id),
        DataType::UInt64 => ints!(UInt64Type, id),
        DataType::Timestamp(unit, _) if time => match unit {
            TimeUnit::Second => ints!(TimestampSecondType, |x: i128| x * 1000),
            TimeUnit::Millisecond => ints!(TimestampMillisecondType, id),
            TimeUnit::Microsecond => ints!(TimestampMicrosecondType, |x: i128| x.div_euclid(1000)),
            TimeUnit::Nanosecond => {
                ints!(TimestampNanosecondType, |x: i128| x.div_euclid(1_000_000))
            }
        },
        DataType::Date64 if time => ints!(Date64Type, id),
        DataType::Float32 | DataType::Float64 => {
            let values: Vec<Option<f64>> = match a.data_type() {
                DataType::Float32 => a
                    .as_primitive::<Float32Type>()
                    .iter()
                    .map(|v| v.map(f64::from))
                    .collect(),
                _ => a.as_primitive::<Float64Type>().iter().collect(),
            };
            values
                .into_iter()
                .enumerate()
                .map(|(row, v)| match v {
                    None => Ok(None),
                    Some(x) if x.is_nan() => Ok(None),
                    Some(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1.9e19 => {
                        check(row, x as i128).map(Some)
                    }
                    Some(x) => Err(row_error(
                        name,
                        base + row,
                        format!(
                            "column `{name}`, row {}: {x} is not a whole number from 0 to {max}",
                            base + row
                        ),
                    )),
                })
                .collect()
        }
        DataType::Null => Ok(vec![None; a.len()]),
        // A column with no values at all (polars reads an empty CSV column as strings).
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            if strings(a)
                .is_some_and(|s| s.iter().all(|v| v.is_none_or(|v| v.trim().is_empty()))) =>
        {
            Ok(vec![None; a.len()])
        }
        t => Err(errors::invalid(
            name,
            format!(
                "column `{name}` has Arrow type {t}; expected {}",
                if time {
                    "integer milliseconds since the Unix epoch (or a timestamp)"
                } else {
                    "integers"
                }
            ),
        )),
    }
}

fn booleans(a: &ArrayRef, name: &str, base: usize) -> PyResult<Vec<bool>> {
    match a.data_type() {
        DataType::Boolean => {
            let b = a.as_boolean();
            Ok((0..b.len()).map(|i| b.is_valid(i) && b.value(i)).collect())
        }
        DataType::Null => Ok(vec![false; a.len()]),
        _ => {
            // Integers 0/1 (or a column with no values).
            let n = whole_numbers(a, name, 1, false, base).map_err(|_| {
                errors::invalid(
                    name,
                    format!(
                        "column `{name}` must be booleans (or 0/1), found Arrow type {} with other values",
                        a.data_type()
                    ),
                )
            })?;
            Ok(n.into_iter().map(|v| v == Some(1)).collect())
        }
    }
}

fn tag_lists(a: &ArrayRef, name: &str) -> PyResult<Vec<Vec<String>>> {
    let wrong = || {
        errors::invalid(
            name,
            format!(
                "column `{name}` has Arrow type {}; expected a list of strings or a string of tags separated by `;`",
                a.data_type()
            ),
        )
    };
    let list_item = |items: ArrayRef| -> PyResult<Vec<String>> {
        // A list column whose items are all null or empty (pandas' object column of empty
        // lists reads back as list<null>) has no tags.
        if items.data_type() == &DataType::Null {
            return Ok(Vec::new());
        }
        let s = strings(&items).ok_or_else(wrong)?;
        Ok(s.into_iter().flatten().map(str::to_owned).collect())
    };
    match a.data_type() {
        DataType::Null => Ok(vec![Vec::new(); a.len()]),
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            (0..l.len())
                .map(|i| {
                    if l.is_valid(i) {
                        list_item(l.value(i))
                    } else {
                        Ok(Vec::new())
                    }
                })
                .collect()
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            (0..l.len())
                .map(|i| {
                    if l.is_valid(i) {
                        list_item(l.value(i))
                    } else {
                        Ok(Vec::new())
                    }
                })
                .collect()
        }
        _ => {
            // Joined by `;` as in the CSV: each trimmed, empty ones dropped.
            let s = strings(a).ok_or_else(wrong)?;
            Ok(s.into_iter()
                .map(|v| {
                    v.unwrap_or("")
                        .split(';')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .collect())
        }
    }
}

/// The records of batches laid out by `schema`. Rows are numbered from 0 over all batches.
pub fn records_of(
    schema: &Schema,
    batches: &[RecordBatch],
    ignore_unknown: bool,
) -> PyResult<Vec<ConversationRecord>> {
    let layout = layout(schema, ignore_unknown)?;
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut out = Vec::with_capacity(total);
    let mut base = 0;
    for batch in batches {
        let n = batch.num_rows();
        let mut recs = vec![ConversationRecord::default(); n];
        for (c, name) in COLUMNS.iter().enumerate() {
            let Some(i) = layout.at[c] else { continue };
            let a = batch.column(i);
            let shown = schema.field(i).name().as_str();
            let number = |max: u64, time: bool| whole_numbers(a, shown, max, time, base);
            let required = |vals: Vec<Option<u64>>| -> PyResult<Vec<u64>> {
                vals.into_iter()
                    .enumerate()
                    .map(|(row, v)| {
                        v.ok_or_else(|| {
                            row_error(
                                shown,
                                base + row,
                                format!(
                                    "column `{shown}`, row {}: missing value (null or NaN) in a required column",
                                    base + row
                                ),
                            )
                        })
                    })
                    .collect()
            };
            match *name {
                "conversation_id" => {
                    for (r, v) in recs.iter_mut().zip(required(number(U64_MAX, false)?)?) {
                        r.conversation = ConversationId(v);
                    }
                }
                "channel" => {
                    for (r, v) in recs.iter_mut().zip(required(number(U32_MAX, false)?)?) {
                        r.channel = ChannelId(v as u32);
                    }
                }
                "tier" => {
                    for (r, v) in recs.iter_mut().zip(required(number(U32_MAX, false)?)?) {
                        r.tier = TierId(v as u32);
                    }
                }
                "asked_at" => {
                    for (r, v) in recs.iter_mut().zip(required(number(U64_MAX, true)?)?) {
                        r.asked_at = Timestamp(v);
                    }
                }
                "team" => {
                    for (r, v) in recs.iter_mut().zip(number(U32_MAX, false)?) {
                        r.team = v.map(|x| TeamId(x as u32));
                    }
                }
                "queue" => {
                    for (r, v) in recs.iter_mut().zip(number(U32_MAX, false)?) {
                        r.queue = v.map(|x| QueueId(x as u32));
                    }
                }
                "operator" => {
                    for (r, v) in recs.iter_mut().zip(number(U64_MAX, false)?) {
                        r.operator = v.map(OperatorId);
                    }
                }
                "transfers" => {
                    for (r, v) in recs.iter_mut().zip(number(U32_MAX, false)?) {
                        r.transfers = v.unwrap_or(0) as u32;
                    }
                }
                "missed_offers" => {
                    for (r, v) in recs.iter_mut().zip(number(U32_MAX, false)?) {
                        r.missed_offers = v.unwrap_or(0) as u32;
                    }
                }
                "satisfaction" => {
                    for (r, v) in recs.iter_mut().zip(number(U8_MAX, false)?) {
                        r.satisfaction = v.map(|x| x as u8);
                    }
                }
                "message_left" => {
                    for (r, v) in recs.iter_mut().zip(booleans(a, shown, base)?) {
                        r.message_left = v;
                    }
                }
                "tags" => {
                    for (r, v) in recs.iter_mut().zip(tag_lists(a, shown)?) {
                        r.tags = v;
                    }
                }
                time => {
                    let vals = number(U64_MAX, true)?;
                    for (r, v) in recs.iter_mut().zip(vals) {
                        let v = v.map(Timestamp);
                        match time {
                            "assigned_at" => r.assigned_at = v,
                            "first_response_at" => r.first_response_at = v,
                            "resolved_at" => r.resolved_at = v,
                            "abandoned_at" => r.abandoned_at = v,
                            "offered_at" => r.offered_at = v,
                            _ => r.started_at = v,
                        }
                    }
                }
            }
        }
        out.extend(recs);
        base += n;
    }
    Ok(out)
}

/// The records of `obj` (a `RecordTable` or any object with `__arrow_c_stream__`).
pub fn read(
    obj: &Bound<'_, PyAny>,
    arg: &str,
    ignore_unknown: bool,
) -> PyResult<Vec<ConversationRecord>> {
    let (schema, batches) = batches_of(obj, arg)?;
    records_of(&schema, &batches, ignore_unknown)
}

/// Reads records from a table and returns them as a `RecordTable` of the record schema (one
/// batch): the check and the normal form of any input.
#[pyfunction]
#[pyo3(signature = (records, ignore_unknown=false))]
fn read_records(records: &Bound<'_, PyAny>, ignore_unknown: bool) -> PyResult<RecordTable> {
    let recs = read(records, "records", ignore_unknown)?;
    let batch = batch_of(&recs, Vec::new())?;
    Ok(RecordTable::new(vec![batch], record_schema()))
}

/// A table of raw columns (numpy arrays of int64, uint64, float64 or bool; `masks` bool arrays,
/// true where a column's value is missing; `tags` a list of lists of str), not yet checked as
/// records: `read_records` does that. All columns must have one length.
#[pyfunction]
#[pyo3(signature = (columns, masks=None, tags=None))]
fn columns_table(
    columns: &Bound<'_, PyDict>,
    masks: Option<&Bound<'_, PyDict>>,
    tags: Option<Vec<Vec<String>>>,
) -> PyResult<RecordTable> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let mut len: Option<(String, usize)> = None;
    let mut same_length = |name: &str, n: usize| -> PyResult<()> {
        match &len {
            Some((first, m)) if *m != n => Err(errors::invalid(
                name,
                format!(
                    "column `{name}` has {n} values but `{first}` has {m}; columns must have one length"
                ),
            )),
            Some(_) => Ok(()),
            None => {
                len = Some((name.to_string(), n));
                Ok(())
            }
        }
    };
    for (k, v) in columns.iter() {
        let name: String = k.extract()?;
        let nulls = match masks.map(|m| m.get_item(&name)).transpose()?.flatten() {
            None => None,
            Some(m) => {
                let m = m.cast::<PyArray1<bool>>().map_err(|_| {
                    errors::invalid(&name, format!("the mask of `{name}` must be a bool array"))
                })?;
                let valid: Vec<bool> = m.readonly().as_array().iter().map(|x| !x).collect();
                Some(NullBuffer::from(valid))
            }
        };
        let n = nulls.as_ref().map(NullBuffer::len);
        let array: ArrayRef = if let Ok(a) = v.cast::<PyArray1<i64>>() {
            let values = a.readonly().as_array().to_vec();
            Arc::new(
                Int64Array::try_new(values.into(), nulls).map_err(|e| errors::invalid(&name, e))?,
            )
        } else if let Ok(a) = v.cast::<PyArray1<u64>>() {
            let values = a.readonly().as_array().to_vec();
            Arc::new(
                UInt64Array::try_new(values.into(), nulls)
                    .map_err(|e| errors::invalid(&name, e))?,
            )
        } else if let Ok(a) = v.cast::<PyArray1<f64>>() {
            let values = a.readonly().as_array().to_vec();
            Arc::new(
                Float64Array::try_new(values.into(), nulls)
                    .map_err(|e| errors::invalid(&name, e))?,
            )
        } else if let Ok(a) = v.cast::<PyArray1<bool>>() {
            let values = a.readonly().as_array().to_vec();
            if n.is_some_and(|n| n != values.len()) {
                return Err(errors::invalid(
                    &name,
                    format!("the mask of `{name}` has another length"),
                ));
            }
            Arc::new(BooleanArray::new(values.into(), nulls))
        } else {
            let what = match v.cast::<numpy::PyUntypedArray>() {
                Ok(a) => format!(
                    "an array of dtype {} and {} dimensions",
                    a.dtype(),
                    a.ndim()
                ),
                Err(_) => v.get_type().name()?.to_string(),
            };
            return Err(errors::invalid(
                &name,
                format!("column `{name}` must be a 1-d array of numbers or booleans, got {what}"),
            ));
        };
        same_length(&name, array.len())?;
        fields.push(Field::new(&name, array.data_type().clone(), true));
        arrays.push(array);
    }
    if let Some(tags) = tags {
        same_length("tags", tags.len())?;
        let values = StringArray::from_iter_values(tags.iter().flatten());
        let offsets = OffsetBuffer::from_lengths(tags.iter().map(Vec::len));
        fields.push(Field::new("tags", tags_type(), true));
        arrays.push(Arc::new(ListArray::new(
            Arc::new(Field::new_list_field(DataType::Utf8, true)),
            offsets,
            Arc::new(values),
            None,
        )));
    }
    let schema = Arc::new(Schema::new(fields));
    if arrays.is_empty() {
        return Ok(RecordTable::new(Vec::new(), schema));
    }
    let batch =
        RecordBatch::try_new(schema.clone(), arrays).map_err(|e| errors::invalid("records", e))?;
    Ok(RecordTable::new(vec![batch], schema))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("RECORD_COLUMNS", COLUMNS.to_vec())?;
    m.add_class::<RecordTable>()?;
    m.add_function(wrap_pyfunction!(read_records, m)?)?;
    m.add_function(wrap_pyfunction!(columns_table, m)?)?;
    Ok(())
}
