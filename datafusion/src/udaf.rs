//! The aggregate functions (`sb_kpi`, `sb_kpi_state`, `sb_kpi_merge`) and the scalar
//! `sb_kpi_report`.
//!
//! Every partial state is one Binary value: [`KpiAccumulator::to_bytes`]. `merge_batch`
//! decodes and [`KpiAccumulator::merge`]s, which is exact in any order, so the result does not
//! depend on how DataFusion (or Ballista) splits and recombines the input.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Int64Array, StringArray, UInt32Array,
    UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, UInt32Type, UInt64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use switchboard::kpi::{
    ConversationRecord, Ingest, IngestOptions, KpiAccumulator, KpiConfig, KpiError,
};
use switchboard::{ChannelId, ConversationId, OperatorId, QueueId, TeamId, TierId, Timestamp};

use crate::error::KpiUdfError;
use crate::report::{report_type, reports_to_struct};

/// The arguments of `sb_kpi` and `sb_kpi_state`, in order: the interchange columns with
/// `queue` and then `tags` last. `tags` (the CSV's `;`-separated text) may be left out; the
/// other 16 are required.
pub const ARGUMENTS: [&str; 17] = [
    "conversation_id",
    "channel",
    "tier",
    "team",
    "operator",
    "asked_at",
    "assigned_at",
    "first_response_at",
    "resolved_at",
    "abandoned_at",
    "message_left",
    "transfers",
    "satisfaction",
    "missed_offers",
    "offered_at",
    "queue",
    "tags",
];

/// Arguments without the optional `tags`.
const REQUIRED_ARGUMENTS: usize = 16;

/// The type each argument is cast to. Satisfaction is read wide so that an out-of-range score
/// reaches the record rules (and their error) instead of failing a narrowing cast.
const TYPES: [DataType; 17] = [
    DataType::UInt64,
    DataType::UInt32,
    DataType::UInt32,
    DataType::UInt32,
    DataType::UInt64,
    DataType::UInt64,
    DataType::UInt64,
    DataType::UInt64,
    DataType::UInt64,
    DataType::UInt64,
    DataType::Boolean,
    DataType::UInt32,
    DataType::Int64,
    DataType::UInt32,
    DataType::UInt64,
    DataType::UInt32,
    DataType::Utf8,
];

/// How the KPI functions read rows: the config every state carries, and whether rows that
/// break a record rule fail the query (the default, as `KpiAccumulator::push`) or are skipped
/// and counted per reason (as `IngestOptions::skip_bad_rows`).
///
/// Order and duplicate checks (`strict_order`, `detect_duplicates`) are not offered: a
/// DataFusion partition sees an arbitrary share of the rows in no guaranteed order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KpiOptions {
    /// The KPI config (period, thresholds, …); states built with different configs refuse to
    /// merge.
    pub config: KpiConfig,
    /// Skip and count bad rows instead of failing.
    pub skip_bad_rows: bool,
}

/// What an aggregate returns at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    /// The report struct (`sb_kpi`).
    Report,
    /// The state bytes (`sb_kpi_state`).
    State,
}

/// `sb_kpi(…)` and `sb_kpi_state(…)`: one aggregate over record columns, two outputs.
#[derive(Debug, Clone)]
pub struct KpiAggregate {
    name: &'static str,
    output: Output,
    signature: Signature,
    options: KpiOptions,
    /// The empty state's bytes: the config's identity for `Eq` and `Hash`.
    empty: Vec<u8>,
}

impl PartialEq for KpiAggregate {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name
            && self.output == o.output
            && self.options.skip_bad_rows == o.options.skip_bad_rows
            && self.empty == o.empty
    }
}
impl Eq for KpiAggregate {}
impl Hash for KpiAggregate {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (
            self.name,
            self.output,
            self.options.skip_bad_rows,
            &self.empty,
        )
            .hash(h);
    }
}

impl KpiAggregate {
    fn new(name: &'static str, output: Output, options: KpiOptions) -> Result<Self, KpiError> {
        let empty = KpiAccumulator::new(options.config.clone())?.to_bytes();
        Ok(KpiAggregate {
            name,
            output,
            signature: Signature::user_defined(Volatility::Immutable),
            options,
            empty,
        })
    }

    /// `sb_kpi`: the report struct ([`crate::report_type`]).
    ///
    /// # Errors
    /// The config's [`KpiError`] if it is invalid.
    pub fn report(options: KpiOptions) -> Result<Self, KpiError> {
        Self::new("sb_kpi", Output::Report, options)
    }

    /// `sb_kpi_state`: the accumulator's bytes, to store and merge later.
    ///
    /// # Errors
    /// The config's [`KpiError`] if it is invalid.
    pub fn state(options: KpiOptions) -> Result<Self, KpiError> {
        Self::new("sb_kpi_state", Output::State, options)
    }
}

fn arg_error(function: &'static str, reason: String) -> datafusion::error::DataFusionError {
    KpiUdfError::Arguments { function, reason }.into()
}

/// Integer columns are cast to the argument's type (a negative or too large value then fails
/// the cast); anything else is refused at planning time, naming the argument.
fn coerce_records(function: &'static str, args: &[DataType]) -> Result<Vec<DataType>> {
    if args.len() != REQUIRED_ARGUMENTS && args.len() != ARGUMENTS.len() {
        return Err(arg_error(
            function,
            format!(
                "takes {REQUIRED_ARGUMENTS} arguments ({}) and optionally `tags`, got {}",
                ARGUMENTS[..REQUIRED_ARGUMENTS].join(", "),
                args.len()
            ),
        ));
    }
    for (i, t) in args.iter().enumerate() {
        let (ok, what) = match TYPES[i] {
            DataType::Boolean => (matches!(t, DataType::Boolean | DataType::Null), "a boolean"),
            DataType::Utf8 => (
                matches!(
                    t,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
                ),
                "text",
            ),
            _ => (t.is_integer() || t.is_null(), "an integer"),
        };
        if !ok {
            return Err(arg_error(
                function,
                format!(
                    "argument {} `{}` must be {what}, got {t}",
                    i + 1,
                    ARGUMENTS[i]
                ),
            ));
        }
    }
    Ok(TYPES[..args.len()].to_vec())
}

fn state_field(name: &str) -> FieldRef {
    Arc::new(Field::new(
        format_state_name(name, "kpi_state"),
        DataType::Binary,
        true,
    ))
}

impl AggregateUDFImpl for KpiAggregate {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_records(self.name, arg_types)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            Output::Report => report_type(),
            Output::State => DataType::Binary,
        })
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let ingest = Ingest::new(
            self.options.config.clone(),
            IngestOptions {
                skip_bad_rows: self.options.skip_bad_rows,
                ..IngestOptions::default()
            },
        )
        .map_err(|source| KpiUdfError::Config { source })?;
        Ok(Box::new(RecordsAccumulator {
            function: self.name,
            output: self.output,
            ingest,
            rows: 0,
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![state_field(args.name)])
    }
}

/// The accumulator of one group of one partition.
#[derive(Debug)]
struct RecordsAccumulator {
    function: &'static str,
    output: Output,
    ingest: Ingest,
    /// Rows seen: the `line` in row errors.
    rows: u64,
}

/// The argument columns of one batch, cast to [`TYPES`].
struct Columns {
    a: Vec<ArrayRef>,
}

impl Columns {
    fn new(values: &[ArrayRef], function: &'static str) -> Result<Self> {
        if values.len() != REQUIRED_ARGUMENTS && values.len() != ARGUMENTS.len() {
            return Err(arg_error(
                function,
                format!("expected {} columns, got {}", ARGUMENTS.len(), values.len()),
            ));
        }
        let a = values
            .iter()
            .zip(TYPES.iter())
            .map(|(v, t)| {
                if v.data_type() == t {
                    Ok(Arc::clone(v))
                } else {
                    cast(v, t)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Columns { a })
    }
    fn u64(&self, i: usize) -> &UInt64Array {
        self.a[i].as_primitive::<UInt64Type>()
    }
    fn u32(&self, i: usize) -> &UInt32Array {
        self.a[i].as_primitive::<UInt32Type>()
    }
    fn i64(&self, i: usize) -> &Int64Array {
        self.a[i].as_primitive::<Int64Type>()
    }
    fn bool(&self, i: usize) -> &BooleanArray {
        self.a[i].as_boolean()
    }
    fn tags(&self) -> Option<&StringArray> {
        self.a.get(REQUIRED_ARGUMENTS).map(|a| a.as_string::<i32>())
    }
}

fn opt<T: Copy>(valid: bool, v: T) -> Option<T> {
    valid.then_some(v)
}

/// Row `i`'s tags as the CSV reader splits them: on `;`, trimmed, empty ones dropped.
fn split_tags(t: &StringArray, i: usize) -> Vec<String> {
    if t.is_null(i) {
        return Vec::new();
    }
    t.value(i)
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A required column was null: reported as the Rust reader reports an empty required field.
fn missing(line: u64, field: &'static str) -> KpiError {
    KpiError::Parse {
        line,
        field,
        value: "null".to_owned(),
        expected: "a value (the column is required)",
    }
}

impl RecordsAccumulator {
    fn row_error(&self, conversation: Option<u64>, source: KpiError) -> KpiUdfError {
        KpiUdfError::Row {
            function: self.function,
            conversation,
            source,
        }
    }
}

impl Accumulator for RecordsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let c = Columns::new(values, self.function)?;
        let (id, channel, tier, team) = (c.u64(0), c.u32(1), c.u32(2), c.u32(3));
        let (operator, asked) = (c.u64(4), c.u64(5));
        let (assigned, response, resolved, left) = (c.u64(6), c.u64(7), c.u64(8), c.u64(9));
        let (message_left, transfers, satisfaction) = (c.bool(10), c.u32(11), c.i64(12));
        let (missed, offered, queue) = (c.u32(13), c.u64(14), c.u32(15));
        let tags = c.tags();
        let ts = |a: &UInt64Array, i: usize| opt(a.is_valid(i), Timestamp(a.value(i)));
        for i in 0..id.len() {
            self.rows += 1;
            let line = self.rows;
            let conversation = opt(id.is_valid(i), id.value(i));
            let required = [
                ("conversation_id", id.is_valid(i)),
                ("channel", channel.is_valid(i)),
                ("tier", tier.is_valid(i)),
                ("asked_at", asked.is_valid(i)),
            ];
            let pushed = if let Some(&(field, _)) = required.iter().find(|(_, ok)| !ok) {
                self.ingest.row_error(missing(line, field))
            } else {
                let sat = satisfaction.is_valid(i).then(|| satisfaction.value(i));
                match sat.map(u8::try_from) {
                    Some(Err(_)) => self.ingest.row_error(KpiError::Parse {
                        line,
                        field: "satisfaction",
                        value: sat.unwrap_or_default().to_string(),
                        expected: "a satisfaction score 1 to 5",
                    }),
                    sat => {
                        let rec = ConversationRecord {
                            conversation: ConversationId(id.value(i)),
                            channel: ChannelId(channel.value(i)),
                            tier: TierId(tier.value(i)),
                            team: opt(team.is_valid(i), TeamId(team.value(i))),
                            queue: opt(queue.is_valid(i), QueueId(queue.value(i))),
                            operator: opt(operator.is_valid(i), OperatorId(operator.value(i))),
                            started_at: None,
                            asked_at: Timestamp(asked.value(i)),
                            offered_at: ts(offered, i),
                            assigned_at: ts(assigned, i),
                            first_response_at: ts(response, i),
                            resolved_at: ts(resolved, i),
                            abandoned_at: ts(left, i),
                            message_left: message_left.is_valid(i) && message_left.value(i),
                            transfers: if transfers.is_valid(i) {
                                transfers.value(i)
                            } else {
                                0
                            },
                            tags: tags.map_or_else(Vec::new, |t| split_tags(t, i)),
                            satisfaction: sat.and_then(Result::ok),
                            missed_offers: if missed.is_valid(i) {
                                missed.value(i)
                            } else {
                                0
                            },
                        };
                        self.ingest.push(line, &rec)
                    }
                }
            };
            pushed.map_err(|e| self.row_error(conversation, e))?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(
            self.ingest.accumulator().to_bytes(),
        ))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let function = self.function;
        for_each_state(states, function, |other| {
            self.ingest
                .accumulator_mut()
                .merge(&other)
                .map_err(|source| KpiUdfError::State { function, source })
        })
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let acc = self.ingest.accumulator();
        match self.output {
            Output::State => Ok(ScalarValue::Binary(Some(acc.to_bytes()))),
            Output::Report => Ok(ScalarValue::Struct(Arc::new(reports_to_struct(&[Some(
                acc.report(),
            )])?))),
        }
    }

    fn size(&self) -> usize {
        // The state is bounded (fixed counters per breakdown cell, at most 2,219 sketch
        // buckets per distribution) but not cheap to measure; a per-accumulator estimate
        // keeps DataFusion's memory accounting in the right order of magnitude.
        size_of::<Self>() + STATE_ESTIMATE
    }
}

/// Bytes a typical accumulator holds (a few breakdown cells with their sketches).
const STATE_ESTIMATE: usize = 64 * 1024;

/// Decodes each non-null state of a Binary (or BinaryView, LargeBinary) column and hands it
/// to `f`; bytes that do not decode are a [`KpiUdfError::State`].
fn for_each_state(
    states: &[ArrayRef],
    function: &'static str,
    mut f: impl FnMut(KpiAccumulator) -> Result<(), KpiUdfError>,
) -> Result<()> {
    let Some(col) = states.first() else {
        return Err(arg_error(function, "no state column".to_owned()));
    };
    let col = binary(col, function)?;
    for bytes in col.iter().flatten() {
        let other = KpiAccumulator::from_bytes(bytes)
            .map_err(|source| KpiUdfError::State { function, source })?;
        f(other)?;
    }
    Ok(())
}

fn binary(col: &ArrayRef, function: &'static str) -> Result<BinaryArray> {
    match col.data_type() {
        DataType::Binary => Ok(col.as_binary::<i32>().clone()),
        DataType::LargeBinary | DataType::BinaryView => {
            Ok(cast(col, &DataType::Binary)?.as_binary::<i32>().clone())
        }
        t => Err(arg_error(
            function,
            format!("state must be binary (sb_kpi_state's output), got {t}"),
        )),
    }
}

fn coerce_state(function: &'static str, args: &[DataType]) -> Result<Vec<DataType>> {
    match args {
        [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null] => {
            Ok(vec![DataType::Binary])
        }
        _ => Err(arg_error(
            function,
            format!("takes one binary state (sb_kpi_state's output), got {args:?}"),
        )),
    }
}

/// `sb_kpi_merge(state)`: merges stored states (daily partials into a month, say) into one.
/// An empty group gives the empty state of the registered config; states built with another
/// config than each other are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KpiMerge {
    signature: Signature,
    /// The empty state of the registered config, for groups without rows.
    empty: Vec<u8>,
}

impl KpiMerge {
    /// The merge aggregate; groups with no state evaluate to `config`'s empty state.
    ///
    /// # Errors
    /// The config's [`KpiError`] if it is invalid.
    pub fn new(config: KpiConfig) -> Result<Self, KpiError> {
        Ok(KpiMerge {
            signature: Signature::user_defined(Volatility::Immutable),
            empty: KpiAccumulator::new(config)?.to_bytes(),
        })
    }
}

impl AggregateUDFImpl for KpiMerge {
    fn name(&self) -> &str {
        "sb_kpi_merge"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_state("sb_kpi_merge", arg_types)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(MergeAccumulator {
            acc: None,
            empty: self.empty.clone(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![state_field(args.name)])
    }
}

#[derive(Debug)]
struct MergeAccumulator {
    /// `None` until the first state: the first state's config is the one the others must have.
    acc: Option<KpiAccumulator>,
    empty: Vec<u8>,
}

impl MergeAccumulator {
    fn absorb(&mut self, states: &[ArrayRef]) -> Result<()> {
        const F: &str = "sb_kpi_merge";
        for_each_state(states, F, |other| match &mut self.acc {
            None => {
                self.acc = Some(other);
                Ok(())
            }
            Some(acc) => acc.merge(&other).map_err(|source| KpiUdfError::State {
                function: F,
                source,
            }),
        })
    }
    fn bytes(&self) -> Vec<u8> {
        self.acc
            .as_ref()
            .map_or_else(|| self.empty.clone(), KpiAccumulator::to_bytes)
    }
}

impl Accumulator for MergeAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.absorb(values)
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.absorb(states)
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(self.bytes()))])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(Some(self.bytes())))
    }
    fn size(&self) -> usize {
        size_of::<Self>() + self.empty.len() + STATE_ESTIMATE
    }
}

/// `sb_kpi_report(state)`: the report struct of stored state bytes (null for a null state).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KpiReportFn {
    signature: Signature,
}

impl Default for KpiReportFn {
    fn default() -> Self {
        KpiReportFn {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for KpiReportFn {
    fn name(&self) -> &str {
        "sb_kpi_report"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_state("sb_kpi_report", arg_types)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(report_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        const F: &str = "sb_kpi_report";
        let [arg] = args.args.as_slice() else {
            return Err(arg_error(F, "takes one argument".to_owned()));
        };
        let scalar = matches!(arg, ColumnarValue::Scalar(_));
        let col = binary(&arg.to_array(args.number_rows)?, F)?;
        let reports = col
            .iter()
            .map(|b| {
                b.map(|b| {
                    KpiAccumulator::from_bytes(b)
                        .map(|a| a.report())
                        .map_err(|source| KpiUdfError::State {
                            function: F,
                            source,
                        })
                })
                .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let array = Arc::new(reports_to_struct(&reports)?);
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(array.as_ref(), 0)?)
        } else {
            ColumnarValue::Array(array)
        })
    }
}
