//! The CSV interchange format: reading with line-numbered errors, writing rows and the
//! per-operator table. RFC 4180 quoting; no external CSV crate.
//!
//! # Format
//!
//! UTF-8, comma-separated, one header line, then one request per row; fields containing a
//! comma, a double quote, CR or LF are quoted (`"`), with `""` for a quote inside. Rows end in LF
//! or CRLF; blank lines are ignored. The header names the columns in any order:
//!
//! ```text
//! conversation_id,channel,tier,team,operator,asked_at,assigned_at,first_response_at,resolved_at,abandoned_at,message_left,transfers,tags,satisfaction,missed_offers,offered_at
//! ```
//!
//! | column | type | empty means | required |
//! |---|---|---|---|
//! | `conversation_id` | u64 | — | yes |
//! | `channel`, `tier` | u32 | — | yes |
//! | `team` | u32 | no team | no |
//! | `operator` | u64 | no operator | no |
//! | `asked_at` | u64 ms since the Unix epoch | — | yes |
//! | `assigned_at`, `first_response_at`, `resolved_at`, `abandoned_at` | u64 ms | not happened | no |
//! | `offered_at` (first offer, when offers must be accepted; files written before it existed lack it) | u64 ms | no offer | no |
//! | `message_left` | `true`/`false`/`1`/`0` | false | no |
//! | `transfers`, `missed_offers` | u32 | 0 | no |
//! | `tags` | tags separated by `;` (each trimmed; empty tags dropped) | no tags | no |
//! | `satisfaction` | 1–5 | not rated | no |
//! | `queue` (alias `route`; files written before queues existed lack it) | u32 queue id | the default queue | no |
//!
//! A missing optional column reads as empty. An unknown or repeated column is an error, so a
//! misspelt header never silently drops data (`queue` and `route` together are a repeat).
//!
//! The `queue` column is written after the others, and only by a writer that asked for it
//! ([`RecordCsvWriter::with_queue_column`], or [`write_records_csv`] when any record has a
//! queue): files of records without queues are written exactly as before.

use std::io::{BufRead, Write};

use super::KpiError;
use super::accumulator::Ingest;
use super::report::KpiReport;
use crate::ids::{ChannelId, ConversationId, OperatorId, QueueId, TeamId, TierId};
use crate::record::ConversationRecord;
use crate::time::Timestamp;

/// The columns, in the order [`RecordCsvWriter`] writes them.
pub const COLUMNS: [&str; 16] = [
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
    "tags",
    "satisfaction",
    "missed_offers",
    "offered_at",
];

/// The optional queue column: the queue a record was in at the end (empty: the default queue).
pub const QUEUE_COLUMN: &str = "queue";
/// Another header name read as [`QUEUE_COLUMN`] ("route", as some tools call a queue).
pub const QUEUE_ALIAS: &str = "route";

const REQUIRED: [usize; 4] = [0, 1, 2, 5];
/// Column index of the queue, after [`COLUMNS`].
const QUEUE: usize = COLUMNS.len();

/// Splits raw CSV records (RFC 4180), tracking physical line numbers.
#[derive(Debug)]
struct RawReader<R> {
    inner: R,
    /// Physical lines consumed so far.
    line: u64,
    chunk: Vec<u8>,
    /// Unquoted field bytes, all fields concatenated.
    data: Vec<u8>,
    /// End offset of each field in `data`.
    ends: Vec<usize>,
}

impl<R: BufRead> RawReader<R> {
    /// Reads the next non-blank record; returns its first line number.
    fn next(&mut self) -> Result<Option<u64>, KpiError> {
        loop {
            self.data.clear();
            self.ends.clear();
            self.chunk.clear();
            if self.inner.read_until(b'\n', &mut self.chunk)? == 0 {
                return Ok(None);
            }
            self.line += 1;
            let start = self.line;
            if self.chunk.iter().all(|&b| b == b'\n' || b == b'\r') {
                continue;
            }
            let mut in_quotes = false;
            let mut after_quote = false;
            let mut field_start = true;
            loop {
                let mut i = 0;
                let n = self.chunk.len();
                while i < n {
                    let b = self.chunk[i];
                    if in_quotes {
                        if b == b'"' {
                            if self.chunk.get(i + 1) == Some(&b'"') {
                                self.data.push(b'"');
                                i += 1;
                            } else {
                                in_quotes = false;
                                after_quote = true;
                            }
                        } else {
                            self.data.push(b);
                        }
                    } else {
                        match b {
                            b',' => {
                                self.ends.push(self.data.len());
                                field_start = true;
                                after_quote = false;
                                i += 1;
                                continue;
                            }
                            b'\n' => {}
                            b'\r' if self.chunk.get(i + 1) == Some(&b'\n') => {}
                            _ if after_quote => {
                                return Err(KpiError::Malformed {
                                    line: start,
                                    reason: "text after a closing quote",
                                });
                            }
                            b'"' if field_start => in_quotes = true,
                            b'"' => {
                                return Err(KpiError::Malformed {
                                    line: start,
                                    reason: "quote inside an unquoted field",
                                });
                            }
                            _ => self.data.push(b),
                        }
                    }
                    field_start = false;
                    i += 1;
                }
                if !in_quotes {
                    self.ends.push(self.data.len());
                    return Ok(Some(start));
                }
                // A quoted field spans lines: read on.
                self.chunk.clear();
                if self.inner.read_until(b'\n', &mut self.chunk)? == 0 {
                    return Err(KpiError::Malformed {
                        line: start,
                        reason: "unterminated quoted field",
                    });
                }
                self.line += 1;
            }
        }
    }

    fn field(&self, i: usize) -> &[u8] {
        let s = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[s..self.ends[i]]
    }
}

/// Reads interchange CSV into [`ConversationRecord`]s, one at a time.
#[derive(Debug)]
pub struct CsvReader<R> {
    raw: RawReader<R>,
    /// Column index (into [`COLUMNS`], or [`QUEUE`]) of each field position.
    columns: Vec<usize>,
    /// The header name of each field position, for errors.
    names: Vec<&'static str>,
}

fn cut(s: &str) -> String {
    s.chars().take(64).collect()
}

impl<R: BufRead> CsvReader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// [`KpiError::EmptyInput`], [`KpiError::UnknownColumn`], [`KpiError::DuplicateColumn`],
    /// [`KpiError::MissingColumn`], [`KpiError::Malformed`], [`KpiError::Io`].
    pub fn new(inner: R) -> Result<Self, KpiError> {
        let mut raw = RawReader {
            inner,
            line: 0,
            chunk: Vec::new(),
            data: Vec::new(),
            ends: Vec::new(),
        };
        if raw.next()?.is_none() {
            return Err(KpiError::EmptyInput);
        }
        let mut columns = Vec::with_capacity(raw.ends.len());
        let mut names = Vec::with_capacity(raw.ends.len());
        for i in 0..raw.ends.len() {
            let name = String::from_utf8_lossy(raw.field(i));
            let name = name.trim().trim_start_matches('\u{feff}');
            let (c, known) = match COLUMNS.iter().position(|&c| c == name) {
                Some(c) => (c, COLUMNS[c]),
                None if name == QUEUE_COLUMN => (QUEUE, QUEUE_COLUMN),
                None if name == QUEUE_ALIAS => (QUEUE, QUEUE_ALIAS),
                None => return Err(KpiError::UnknownColumn { column: cut(name) }),
            };
            if columns.contains(&c) {
                return Err(KpiError::DuplicateColumn { column: known });
            }
            columns.push(c);
            names.push(known);
        }
        for r in REQUIRED {
            if !columns.contains(&r) {
                return Err(KpiError::MissingColumn { column: COLUMNS[r] });
            }
        }
        Ok(CsvReader {
            raw,
            columns,
            names,
        })
    }

    /// Whether the header has a queue column (`queue` or `route`).
    pub fn has_queue_column(&self) -> bool {
        self.columns.contains(&QUEUE)
    }

    /// The next row and the line it starts on, or `None` at the end.
    ///
    /// Parse errors are returned for that row only: calling again continues with the next row,
    /// so a caller may skip bad rows. The record is not validated here (see
    /// [`ConversationRecord::validate`]).
    ///
    /// # Errors
    /// [`KpiError::Parse`], [`KpiError::FieldCount`], [`KpiError::Malformed`], [`KpiError::Io`].
    pub fn read_record(&mut self) -> Result<Option<(u64, ConversationRecord)>, KpiError> {
        let Some(line) = self.raw.next()? else {
            return Ok(None);
        };
        if self.raw.ends.len() != self.columns.len() {
            return Err(KpiError::FieldCount {
                line,
                expected: self.columns.len(),
                found: self.raw.ends.len(),
            });
        }
        let mut rec = ConversationRecord::default();
        for (pos, &col) in self.columns.iter().enumerate() {
            let field = self.names[pos];
            let bytes = self.raw.field(pos);
            let text = core::str::from_utf8(bytes).map_err(|_| KpiError::Parse {
                line,
                field,
                value: cut(&String::from_utf8_lossy(bytes)),
                expected: "utf-8 text",
            })?;
            let t = text.trim();
            let err = |expected: &'static str| KpiError::Parse {
                line,
                field,
                value: cut(text),
                expected,
            };
            let int = |expected| -> Result<Option<u64>, KpiError> {
                if t.is_empty() {
                    Ok(None)
                } else {
                    t.parse::<u64>().map(Some).map_err(|_| err(expected))
                }
            };
            let required = |v: Option<u64>, expected| v.ok_or_else(|| err(expected));
            let small = |v: Option<u64>, expected| -> Result<Option<u32>, KpiError> {
                v.map(|x| u32::try_from(x).map_err(|_| err(expected)))
                    .transpose()
            };
            const U32: &str = "an integer from 0 to 4294967295";
            const U64: &str = "an integer from 0 to 18446744073709551615";
            const MS: &str = "milliseconds since the unix epoch (an integer)";
            match col {
                0 => rec.conversation = ConversationId(required(int(U64)?, U64)?),
                1 => {
                    rec.channel =
                        ChannelId(required(small(int(U32)?, U32)?.map(u64::from), U32)? as u32)
                }
                2 => {
                    rec.tier = TierId(required(small(int(U32)?, U32)?.map(u64::from), U32)? as u32)
                }
                3 => rec.team = small(int(U32)?, U32)?.map(TeamId),
                4 => rec.operator = int(U64)?.map(OperatorId),
                5 => rec.asked_at = Timestamp(required(int(MS)?, MS)?),
                6 => rec.assigned_at = int(MS)?.map(Timestamp),
                7 => rec.first_response_at = int(MS)?.map(Timestamp),
                8 => rec.resolved_at = int(MS)?.map(Timestamp),
                9 => rec.abandoned_at = int(MS)?.map(Timestamp),
                10 => {
                    rec.message_left = match t {
                        "" | "0" | "false" | "FALSE" | "False" => false,
                        "1" | "true" | "TRUE" | "True" => true,
                        _ => return Err(err("true, false, 1, 0 or empty")),
                    }
                }
                11 => rec.transfers = small(int(U32)?, U32)?.unwrap_or(0),
                12 => {
                    rec.tags = t
                        .split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                13 => {
                    const SAT: &str = "an integer from 1 to 5";
                    rec.satisfaction = match int(SAT)? {
                        None => None,
                        Some(x) => Some(u8::try_from(x).map_err(|_| KpiError::OutOfRange {
                            line,
                            field,
                            value: x,
                            reason: "a satisfaction score is 1 to 5",
                        })?),
                    };
                }
                14 => rec.missed_offers = small(int(U32)?, U32)?.unwrap_or(0),
                15 => rec.offered_at = int(MS)?.map(Timestamp),
                _ => {
                    const QUEUE_ID: &str = "a queue id (an integer from 0 to 4294967295) or empty for the default queue";
                    rec.queue = small(int(QUEUE_ID)?, QUEUE_ID)?.map(QueueId);
                }
            }
        }
        Ok(Some((line, rec)))
    }
}

/// Reads a whole interchange CSV into `ingest` (which applies validation, order and duplicate
/// checks and the skip-bad-rows policy). Errors name the line and the field.
///
/// # Errors
/// Header errors and I/O errors always; row errors unless the ingest skips bad rows.
pub fn read_csv<R: BufRead>(input: R, ingest: &mut Ingest) -> Result<(), KpiError> {
    let mut reader = CsvReader::new(input)?;
    loop {
        match reader.read_record() {
            Ok(Some((line, rec))) => ingest.push(line, &rec)?,
            Ok(None) => return Ok(()),
            Err(e) => ingest.row_error(e)?,
        }
    }
}

fn write_field<W: Write>(w: &mut W, s: &str) -> std::io::Result<()> {
    if s.contains([',', '"', '\r', '\n']) {
        w.write_all(b"\"")?;
        w.write_all(s.replace('"', "\"\"").as_bytes())?;
        w.write_all(b"\"")
    } else {
        w.write_all(s.as_bytes())
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes per-conversation rows in the interchange format (header first), readable by
/// [`CsvReader`].
#[derive(Debug)]
pub struct RecordCsvWriter<W: Write> {
    out: W,
    queue: bool,
}

impl<W: Write> RecordCsvWriter<W> {
    /// Writes the header, without a queue column.
    ///
    /// # Errors
    /// [`KpiError::Io`].
    pub fn new(out: W) -> Result<Self, KpiError> {
        Self::start(out, false)
    }

    /// Writes the header with the [`QUEUE_COLUMN`] last.
    ///
    /// # Errors
    /// [`KpiError::Io`].
    pub fn with_queue_column(out: W) -> Result<Self, KpiError> {
        Self::start(out, true)
    }

    fn start(mut out: W, queue: bool) -> Result<Self, KpiError> {
        out.write_all(COLUMNS.join(",").as_bytes())?;
        if queue {
            out.write_all(b",")?;
            out.write_all(QUEUE_COLUMN.as_bytes())?;
        }
        out.write_all(b"\r\n")?;
        Ok(RecordCsvWriter { out, queue })
    }

    /// Writes one row.
    ///
    /// # Errors
    /// [`KpiError::Unwritable`] (field `tags`) if a tag contains `;` or is blank, since it would
    /// not read back the same; [`KpiError::Unwritable`] (field `queue`) for a record with a
    /// queue when the file has no queue column (it would read back in the default queue);
    /// [`KpiError::Io`].
    pub fn write(&mut self, r: &ConversationRecord) -> Result<(), KpiError> {
        if r.queue.is_some() && !self.queue {
            return Err(KpiError::Unwritable {
                conversation: r.conversation,
                field: QUEUE_COLUMN,
                reason: "the file has no queue column (use RecordCsvWriter::with_queue_column)",
            });
        }
        for t in &r.tags {
            if t.contains(';') || t.trim() != t || t.is_empty() {
                return Err(KpiError::Unwritable {
                    conversation: r.conversation,
                    field: "tags",
                    reason: "a tag must be non-empty, untrimmed and free of `;`",
                });
            }
        }
        let ts = |t: Option<Timestamp>| opt(t.map(|t| t.0));
        let fields = [
            r.conversation.0.to_string(),
            r.channel.0.to_string(),
            r.tier.0.to_string(),
            opt(r.team.map(|t| t.0)),
            opt(r.operator.map(|o| o.0)),
            r.asked_at.0.to_string(),
            ts(r.assigned_at),
            ts(r.first_response_at),
            ts(r.resolved_at),
            ts(r.abandoned_at),
            r.message_left.to_string(),
            r.transfers.to_string(),
            r.tags.join(";"),
            opt(r.satisfaction),
            r.missed_offers.to_string(),
            ts(r.offered_at),
        ];
        let queue = self.queue.then(|| opt(r.queue.map(|q| q.0)));
        for (i, f) in fields.iter().chain(queue.as_ref()).enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            write_field(&mut self.out, f)?;
        }
        self.out.write_all(b"\r\n")?;
        Ok(())
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    /// [`KpiError::Io`].
    pub fn finish(mut self) -> Result<W, KpiError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes `records` in the interchange format, with the queue column when any record has a
/// queue (so files without queues are written as before), and returns the writer.
///
/// # Errors
/// As [`RecordCsvWriter::write`].
pub fn write_records_csv<W: Write>(out: W, records: &[ConversationRecord]) -> Result<W, KpiError> {
    let mut w = if records.iter().any(|r| r.queue.is_some()) {
        RecordCsvWriter::with_queue_column(out)?
    } else {
        RecordCsvWriter::new(out)?
    };
    for r in records {
        w.write(r)?;
    }
    w.finish()
}

/// Header of [`write_operator_table_csv`].
pub const OPERATOR_COLUMNS: [&str; 10] = [
    "operator",
    "handled",
    "mean_handle_ms",
    "max_handle_ms",
    "answered",
    "mean_first_response_ms",
    "missed_offers",
    "transfers",
    "occupancy",
    "satisfaction_mean",
];

/// Writes the report's per-operator table (in its order: most handled first). Means are in ms
/// with three decimals; occupancy is a ratio 0–1 with six decimals; empty = no data.
///
/// # Errors
/// [`KpiError::Io`].
pub fn write_operator_table_csv<W: Write>(mut out: W, report: &KpiReport) -> Result<(), KpiError> {
    out.write_all(OPERATOR_COLUMNS.join(",").as_bytes())?;
    out.write_all(b"\r\n")?;
    for r in &report.operators {
        let f3 = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_default();
        let line = [
            r.operator.0.to_string(),
            r.handled.to_string(),
            f3(r.mean_handle_ms),
            opt(r.max_handle.map(|m| m.0)),
            r.answered.to_string(),
            f3(r.mean_first_response_ms),
            r.missed_offers.to_string(),
            r.transfers.to_string(),
            r.occupancy
                .ratio
                .map(|x| format!("{x:.6}"))
                .unwrap_or_default(),
            f3(r.satisfaction_mean),
        ]
        .join(",");
        out.write_all(line.as_bytes())?;
        out.write_all(b"\r\n")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_span_lines_and_escape_quotes() {
        let input =
            "conversation_id,channel,tier,asked_at,tags\n1,0,0,5,\"a;\"\"b\"\"\nc\"\n\n2,0,0,6,\n";
        let Ok(mut r) = CsvReader::new(input.as_bytes()) else {
            panic!("header")
        };
        let first = r.read_record();
        let Ok(Some((line, rec))) = first else {
            panic!("{first:?}")
        };
        assert_eq!(line, 2);
        assert_eq!(rec.tags, vec!["a".to_string(), "\"b\"\nc".to_string()]);
        let second = r.read_record();
        assert!(matches!(second, Ok(Some((5, _)))), "{second:?}");
        assert!(matches!(r.read_record(), Ok(None)));
    }

    #[test]
    fn malformed_quotes() {
        let input = "conversation_id,channel,tier,asked_at\n1,0,0,\"5\"x\n2,0,\"0,7\n";
        let Ok(mut r) = CsvReader::new(input.as_bytes()) else {
            panic!("header")
        };
        assert!(matches!(
            r.read_record(),
            Err(KpiError::Malformed { line: 2, .. })
        ));
        assert!(matches!(
            r.read_record(),
            Err(KpiError::Malformed {
                line: 3,
                reason: "unterminated quoted field"
            })
        ));
    }
}
