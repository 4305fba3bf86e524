//! The one error type of the KPI module, and the reasons a skipped row is counted under.

use crate::codec::CodecError;
use crate::ids::ConversationId;

/// Everything that can go wrong while reading, validating, accumulating or decoding KPI input.
///
/// Row-level variants carry `line` and name the offending field. For CSV input `line` is the
/// 1-based physical line on which the row starts (the header is line 1). For records pushed from
/// memory it is the caller's row number (1-based position in the stream, see
/// [`KpiAccumulator::push`](super::KpiAccumulator::push)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KpiError {
    /// A field could not be parsed.
    #[error("line {line}: field `{field}`: cannot parse {value:?}: expected {expected}")]
    Parse {
        /// Row number.
        line: u64,
        /// Column name.
        field: &'static str,
        /// The text found (cut to 64 characters).
        value: String,
        /// What the field must hold.
        expected: &'static str,
    },
    /// A field parsed but its value is not allowed.
    #[error("line {line}: field `{field}`: value {value} is out of range: {reason}")]
    OutOfRange {
        /// Row number.
        line: u64,
        /// Column name.
        field: &'static str,
        /// The value found.
        value: u64,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A lifecycle timestamp (assignment, response, resolution, leaving) precedes the ask.
    #[error("line {line}: field `{field}`: {at} ms is before the ask at {asked_at} ms")]
    BeforeAsk {
        /// Row number.
        line: u64,
        /// The timestamp column that is too early.
        field: &'static str,
        /// Its value in ms.
        at: u64,
        /// `asked_at` in ms.
        asked_at: u64,
    },
    /// The assignment is later than the resolution (field `assigned_at`).
    #[error(
        "line {line}: field `assigned_at`: assignment at {assigned_at} ms is after the resolution at {resolved_at} ms"
    )]
    AssignedAfterResolved {
        /// Row number.
        line: u64,
        /// `assigned_at` in ms.
        assigned_at: u64,
        /// `resolved_at` in ms.
        resolved_at: u64,
    },
    /// The customer left before the assignment, yet the row is assigned and no message was left
    /// (field `abandoned_at`).
    #[error(
        "line {line}: field `abandoned_at`: customer left at {abandoned_at} ms, before the assignment at {assigned_at} ms"
    )]
    AbandonedBeforeAssigned {
        /// Row number.
        line: u64,
        /// `abandoned_at` in ms.
        abandoned_at: u64,
        /// `assigned_at` in ms.
        assigned_at: u64,
    },
    /// Strict order was requested and `asked_at` went backwards (field `asked_at`).
    #[error(
        "line {line}: field `asked_at`: rows out of time order: {asked_at} ms is before the previous row's {previous} ms"
    )]
    OutOfOrder {
        /// Row number.
        line: u64,
        /// This row's `asked_at`.
        asked_at: u64,
        /// The largest `asked_at` accepted so far.
        previous: u64,
    },
    /// The conversation id was already seen in this stream (field `conversation_id`).
    #[error(
        "line {line}: field `conversation_id`: duplicate {conversation}, first seen on line {first_line}"
    )]
    DuplicateId {
        /// Row number.
        line: u64,
        /// The repeated id.
        conversation: ConversationId,
        /// Where it was first seen.
        first_line: u64,
    },
    /// The row does not have as many fields as the header.
    #[error("line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// Row number.
        line: u64,
        /// Number of header columns.
        expected: usize,
        /// Number of fields in the row.
        found: usize,
    },
    /// The row breaks RFC 4180 quoting.
    #[error("line {line}: malformed csv: {reason}")]
    Malformed {
        /// Row number.
        line: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The header lacks a required column.
    #[error("missing required column `{column}`")]
    MissingColumn {
        /// The column name.
        column: &'static str,
    },
    /// The header names a column this format does not know.
    #[error("unknown column `{column}`")]
    UnknownColumn {
        /// The column name found.
        column: String,
    },
    /// The header names a column twice.
    #[error("duplicate column `{column}`")]
    DuplicateColumn {
        /// The column name.
        column: &'static str,
    },
    /// The input has no header line.
    #[error("empty input: no header line")]
    EmptyInput,
    /// Reading or writing failed.
    #[error("i/o error: {message}")]
    Io {
        /// The I/O error kind.
        kind: std::io::ErrorKind,
        /// The I/O error's message.
        message: String,
    },
    /// A config value is invalid.
    #[error("invalid config: field `{field}`: {reason}")]
    InvalidConfig {
        /// The config field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A period ends before it starts, or does not fit in a [`Timestamp`](crate::time::Timestamp).
    #[error("invalid period: [{start} ms, {end} ms)")]
    InvalidPeriod {
        /// Start in ms (may be negative when a preset falls before the epoch).
        start: i128,
        /// End in ms.
        end: i128,
    },
    /// A business-hours schedule is invalid.
    #[error("invalid business hours: interval {index}: {reason}")]
    InvalidBusinessHours {
        /// Index of the offending interval or closed date.
        index: usize,
        /// Why.
        reason: &'static str,
    },
    /// A status interval ends before it starts.
    #[error("status interval of {operator}: end {end} ms is before start {start} ms")]
    InvalidStatusInterval {
        /// The operator.
        operator: crate::ids::OperatorId,
        /// Start in ms.
        start: u64,
        /// End in ms.
        end: u64,
    },
    /// Two accumulators built with different configs cannot be merged.
    #[error("cannot merge accumulators built with different configs")]
    ConfigMismatch,
    /// A byte encoding ended early.
    #[error("truncated encoding: needed {needed} more bytes at offset {offset}")]
    Truncated {
        /// Where reading stopped.
        offset: usize,
        /// How many bytes were missing.
        needed: usize,
    },
    /// The bytes are not a KPI accumulator encoding.
    #[error("not a kpi accumulator encoding (bad magic)")]
    BadMagic,
    /// The encoding comes from a newer version of this library.
    #[error("unsupported encoding version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version found.
        found: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// The encoding is structurally invalid.
    #[error("corrupt encoding at offset {offset}: {reason}")]
    Corrupt {
        /// Byte offset.
        offset: usize,
        /// Why.
        reason: &'static str,
    },
    /// A value cannot be written in the interchange format.
    #[error("cannot write {conversation}: field `{field}`: {reason}")]
    Unwritable {
        /// The conversation.
        conversation: ConversationId,
        /// The field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl From<std::io::Error> for KpiError {
    fn from(e: std::io::Error) -> Self {
        KpiError::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// The codec's errors in this format's words: an overrun length is bytes
/// missing after it, a broken rule or unknown value is corrupt.
impl From<CodecError> for KpiError {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Truncated { offset, needed } => KpiError::Truncated { offset, needed },
            CodecError::LengthOverrun { items, needed, .. } => KpiError::Truncated {
                offset: items,
                needed,
            },
            CodecError::NotUtf8 { offset } => KpiError::Corrupt {
                offset,
                reason: "text is not utf-8",
            },
            CodecError::Invalid { what, offset } => KpiError::Corrupt {
                offset,
                reason: what,
            },
            CodecError::Trailing { offset, .. } => KpiError::Corrupt {
                offset,
                reason: "trailing bytes after the encoding",
            },
        }
    }
}

impl KpiError {
    /// The row number the error names, if it is a row-level error.
    pub fn line(&self) -> Option<u64> {
        match self {
            KpiError::Parse { line, .. }
            | KpiError::OutOfRange { line, .. }
            | KpiError::BeforeAsk { line, .. }
            | KpiError::AssignedAfterResolved { line, .. }
            | KpiError::AbandonedBeforeAssigned { line, .. }
            | KpiError::OutOfOrder { line, .. }
            | KpiError::DuplicateId { line, .. }
            | KpiError::FieldCount { line, .. }
            | KpiError::Malformed { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The field (column) the error names, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            KpiError::Parse { field, .. }
            | KpiError::OutOfRange { field, .. }
            | KpiError::BeforeAsk { field, .. }
            | KpiError::Unwritable { field, .. }
            | KpiError::InvalidConfig { field, .. } => Some(field),
            KpiError::AssignedAfterResolved { .. } => Some("assigned_at"),
            KpiError::AbandonedBeforeAssigned { .. } => Some("abandoned_at"),
            KpiError::OutOfOrder { .. } => Some("asked_at"),
            KpiError::DuplicateId { .. } => Some("conversation_id"),
            _ => None,
        }
    }

    /// Under which reason a row failing with this error is counted when bad rows are skipped;
    /// `None` for errors that are not about one row (they always abort).
    pub fn skip_reason(&self) -> Option<SkipReason> {
        Some(match self {
            KpiError::Parse { .. } => SkipReason::Unparsable,
            KpiError::OutOfRange { .. } => SkipReason::OutOfRange,
            KpiError::BeforeAsk { .. } => SkipReason::BeforeAsk,
            KpiError::AssignedAfterResolved { .. } => SkipReason::AssignedAfterResolved,
            KpiError::AbandonedBeforeAssigned { .. } => SkipReason::AbandonedBeforeAssigned,
            KpiError::OutOfOrder { .. } => SkipReason::OutOfOrder,
            KpiError::DuplicateId { .. } => SkipReason::DuplicateId,
            KpiError::FieldCount { .. } | KpiError::Malformed { .. } => SkipReason::Malformed,
            _ => return None,
        })
    }
}

/// Why a row was skipped (when the caller asked to skip bad rows). Counted per reason in the
/// accumulator, so the counts merge like every other KPI state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum SkipReason {
    /// A field did not parse ([`KpiError::Parse`]).
    Unparsable,
    /// A value out of range ([`KpiError::OutOfRange`]).
    OutOfRange,
    /// A timestamp before the ask ([`KpiError::BeforeAsk`]).
    BeforeAsk,
    /// Assignment after resolution ([`KpiError::AssignedAfterResolved`]).
    AssignedAfterResolved,
    /// Left before an assignment that still happened ([`KpiError::AbandonedBeforeAssigned`]).
    AbandonedBeforeAssigned,
    /// Row out of time order ([`KpiError::OutOfOrder`]).
    OutOfOrder,
    /// Repeated conversation id ([`KpiError::DuplicateId`]).
    DuplicateId,
    /// Wrong field count or broken quoting ([`KpiError::FieldCount`], [`KpiError::Malformed`]).
    Malformed,
}

impl SkipReason {
    /// Every reason, in encoding order.
    pub const ALL: [SkipReason; 8] = [
        SkipReason::Unparsable,
        SkipReason::OutOfRange,
        SkipReason::BeforeAsk,
        SkipReason::AssignedAfterResolved,
        SkipReason::AbandonedBeforeAssigned,
        SkipReason::OutOfOrder,
        SkipReason::DuplicateId,
        SkipReason::Malformed,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// A short snake_case name, used in reports.
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::Unparsable => "unparsable",
            SkipReason::OutOfRange => "out_of_range",
            SkipReason::BeforeAsk => "before_ask",
            SkipReason::AssignedAfterResolved => "assigned_after_resolved",
            SkipReason::AbandonedBeforeAssigned => "abandoned_before_assigned",
            SkipReason::OutOfOrder => "out_of_order",
            SkipReason::DuplicateId => "duplicate_id",
            SkipReason::Malformed => "malformed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_index_in_order_and_messages_are_lowercase() {
        for (i, r) in SkipReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        let e = KpiError::BeforeAsk {
            line: 7,
            field: "first_response_at",
            at: 1,
            asked_at: 2,
        };
        assert_eq!(e.line(), Some(7));
        assert_eq!(e.field(), Some("first_response_at"));
        assert_eq!(e.skip_reason(), Some(SkipReason::BeforeAsk));
        let msg = e.to_string();
        assert!(msg.starts_with("line 7"), "{msg}");
        assert_eq!(KpiError::ConfigMismatch.skip_reason(), None);
    }
}
