//! The Anonymous Bank call-center format (Guedj and Mandelbaum, Technion, 1999): real
//! per-call records of an Israeli bank's telephone call center, converted to
//! [`ConversationRecord`]s so the KPI calculators (and anything else that reads records) can
//! run on them.
//!
//! # Format
//!
//! One header line, then one call per line, 17 fields separated by whitespace (tabs in the
//! published files, spaces on a few lines):
//!
//! ```text
//! vru+line call_id customer_id priority type date vru_entry vru_exit vru_time q_start q_exit q_time outcome ser_start ser_exit ser_time server
//! ```
//!
//! A call enters the voice response unit (VRU, the bot stage) at `vru_entry`, leaves it after
//! `vru_time` seconds, then waits `q_time` seconds in the queue (`q_start` is `0:00:00` when
//! the call never reached the queue) and ends as `AGENT` (served for `ser_time` seconds by
//! `server`), `HANG` (hung up) or `PHANTOM` (a virtual call, to be ignored). `date` is
//! `yymmdd` in 1999, times are `h:mm:ss` on the call center's local clock.
//!
//! # Mapping
//!
//! | record | from |
//! |---|---|
//! | `conversation` | the line number (call ids repeat across VRUs) |
//! | `asked_at` | the VRU exit: `date` + `vru_entry` + `vru_time` (see below), local time read as UTC |
//! | `tier` | `priority` (0 and 1 regular, 2 priority) |
//! | `channel` | `type`: PS 0, PE 1, IN 2, NE 3, NW 4, TT 5 ([`CALL_TYPES`]), any other [`OTHER_CALL_TYPE`] |
//! | `assigned_at`, `first_response_at` | `AGENT`: `asked_at` + `q_time` (the agent answers on pick-up) |
//! | `resolved_at` | `AGENT`: `assigned_at` + `ser_time` |
//! | `operator` | `AGENT`: `server`, numbered in order of first appearance ([`BankReader::operators`]); none for `NO_SERVER` |
//! | `abandoned_at` | `HANG` after reaching the queue: `asked_at` + `q_time` |
//!
//! Durations are added rather than clock times subtracted, so calls that cross midnight need
//! no special case.
//!
//! # What is a call, what is abandoned
//!
//! - `PHANTOM` lines are ignored (counted in [`BankSummary::phantom`]); their fields are not
//!   read.
//! - A `HANG` that never reached the queue (`q_start` `0:00:00` and `q_time` 0) left during the
//!   bot stage: not offered, not abandoned, counted in [`BankSummary::hung_up_in_vru`]. A call
//!   that joined the queue at exactly midnight and hung up within the second looks the same and
//!   is counted the same way.
//! - A `HANG` from the queue is **abandoned** at `asked_at` + `q_time`.
//! - A `HANG` that reached the queue (`q_start` set) with `q_time` 0 hung up within the same
//!   second. [`BankOptions::zero_wait_hang_ups`] decides what it is: abandoned with a time to
//!   abandon of 0 s ([`ZeroWaitHangUp::Abandoned`], the default), or not offered
//!   ([`ZeroWaitHangUp::NotOffered`]). Both are counted in the summary.
//! - Every `AGENT` line is answered, with a wait of `q_time` (0 for calls that never queued).
//!
//! # Clock skew: negative `vru_time`
//!
//! `vru_time` is read as a signed number. It is negative on a few dozen calls of the published
//! months (59 outside PHANTOM lines in January, February and October): the VRU entry stamp is
//! later than the exit stamp. All of them reached the queue, and on every one the exit stamp
//! equals `q_start` and `q_exit − q_start = q_time`: the exit and queue stamps agree with each
//! other and the entry stamp is the odd one out. The ask time is therefore the VRU exit,
//! `vru_entry + vru_time` with the sign kept, as for every other call; nothing is clamped. The
//! KPIs use only `q_time` and `ser_time` as durations, so the skew changes no wait, handle or
//! abandonment figure. The calls are kept and counted in
//! [`BankSummary::negative_vru_time`].
//!
//! # Fields that never drop a call
//!
//! Only `date`, `vru_entry`, `vru_time`, `q_time`, `outcome`, `priority`, `ser_time` (on
//! `AGENT` lines) and `q_start` (on `HANG` lines with `q_time` 0) are parsed; `type` and
//! `server` are taken as text. `vru+line`, `call_id`, `customer_id`, `vru_exit`, `q_exit`,
//! `ser_start` and `ser_exit` are not read at all, so whatever they hold never drops a call. A
//! field that is read and does not parse is a [`KpiError::Parse`] naming the line and the
//! field; a line without 17 fields is a [`KpiError::FieldCount`]. With a file,
//! [`read_file`] adds the path ([`BankFileError`]).
//!
//! # Example
//!
//! ```
//! use switchboard::kpi::bank::{BankOptions, BankReader, ZeroWaitHangUp};
//! use switchboard::kpi::{KpiAccumulator, KpiConfig};
//!
//! let text = "\
//! vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver
//! AA0101\t1\t0\t2\tPS\t990113\t15:46:01\t15:45:24\t-37\t15:45:24\t15:46:41\t77\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER
//! AA0101\t2\t0\t1\tPS\t990113\t16:00:00\t16:00:06\t6\t16:00:06\t16:00:26\t20\tAGENT\t16:00:26\t16:03:26\t180\tDORIT
//! AA0101\t3\t0\t0\tNW\t990113\t17:00:00\t17:00:09\t9\t17:00:09\t17:00:09\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER
//! ";
//! let options = BankOptions { zero_wait_hang_ups: ZeroWaitHangUp::Abandoned };
//! let mut reader = BankReader::new(text.as_bytes(), options)?;
//! let mut acc = KpiAccumulator::new(KpiConfig::default())?;
//! while let Some((_line, record)) = reader.read_record()? {
//!     acc.push(&record)?;
//! }
//! let summary = reader.summary();
//! assert_eq!((summary.converted, summary.negative_vru_time, summary.zero_wait_abandoned), (3, 1, 1));
//! assert_eq!(reader.operators(), ["DORIT"]);
//! let report = acc.report();
//! assert_eq!((report.overall.offered, report.overall.answered, report.overall.abandoned), (3, 1, 2));
//! # Ok::<(), switchboard::kpi::KpiError>(())
//! ```

use std::io::BufRead;
use std::path::{Path, PathBuf};

use hashbrown::HashMap;

use super::KpiError;
use super::accumulator::Ingest;
use super::period::CivilDate;
use crate::ids::{ChannelId, ConversationId, OperatorId, TierId};
use crate::record::ConversationRecord;
use crate::time::Timestamp;

/// The header's column names, in order.
pub const COLUMNS: [&str; 17] = [
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
];

/// The documented call types; a type's index is its [`ChannelId`]. PS regular activity, PE
/// regular activity in English, IN internet consulting, NE stock exchange, NW prospective
/// customer, TT a call-back put on hold.
pub const CALL_TYPES: [&str; 6] = ["PS", "PE", "IN", "NE", "NW", "TT"];

/// The channel of a call type not in [`CALL_TYPES`]: such a call is kept, under this channel.
pub const OTHER_CALL_TYPE: ChannelId = ChannelId(99);

/// The channel a call type maps to.
pub fn channel_of(call_type: &str) -> ChannelId {
    CALL_TYPES
        .iter()
        .position(|t| *t == call_type)
        .map_or(OTHER_CALL_TYPE, |p| ChannelId(p as u32))
}

/// What a hang-up with zero queue time is: a call that left the VRU for the queue (`q_start`
/// set) and hung up within the same second (`q_time` 0). 21 calls in January 1999, 31 in
/// February, 17 in October.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ZeroWaitHangUp {
    /// An abandoned request with a time to abandon of 0 s: offered, abandoned, in every
    /// abandonment rate and in the service-level variants that count abandons. The default,
    /// for three reasons. The record says the call reached the queue, and an abandonment is a
    /// customer leaving between the ask and the assignment, however soon; the data's times
    /// are whole seconds, so 0 means "under a second", not "never waited". The
    /// queueing-science reading of these records (Brown, Gans, Mandelbaum, Sakov, Shen, Zeltyn
    /// and Zhao, "Statistical analysis of a telephone call center: a queueing-science
    /// perspective", JASA 2005) takes the calls that reached the queue as its arrivals and a
    /// hang-up from the queue as an observed patience (a served call's wait being a censored
    /// one): read that way, this call is an abandonment with a patience under the one-second
    /// resolution. And the KPI defaults keep short abandons (no short-abandon threshold), as
    /// Gitple's and Amazon Connect's reports do.
    #[default]
    Abandoned,
    /// Not a request: left out of every KPI, like a hang-up in the VRU, and counted in
    /// [`BankSummary::zero_wait_not_offered`]. For comparing with reports that count only
    /// calls that waited at least a second. (To keep them offered but leave them out of the
    /// short-abandon-adjusted rates only, keep [`ZeroWaitHangUp::Abandoned`] and set
    /// [`KpiConfig::short_abandon`](super::KpiConfig::short_abandon) to 0 ms, Cisco's
    /// short-call convention.)
    NotOffered,
}

impl ZeroWaitHangUp {
    /// A short name: `abandoned` or `not_offered`.
    pub fn name(self) -> &'static str {
        match self {
            ZeroWaitHangUp::Abandoned => "abandoned",
            ZeroWaitHangUp::NotOffered => "not_offered",
        }
    }
}

/// How bank records are converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct BankOptions {
    /// What a hang-up with zero queue time is. Default: [`ZeroWaitHangUp::Abandoned`].
    pub zero_wait_hang_ups: ZeroWaitHangUp,
}

/// What happened to each data line (blank lines are not data lines). Every data line is in
/// exactly one of `converted`, `phantom`, `hung_up_in_vru`, `zero_wait_not_offered` and
/// `bad_rows`, so nothing is dropped without being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct BankSummary {
    /// Non-blank lines after the header.
    pub data_rows: u64,
    /// Lines converted to a record.
    pub converted: u64,
    /// `PHANTOM` lines, ignored.
    pub phantom: u64,
    /// `HANG` lines that never reached the queue: left during the bot stage, not offered.
    pub hung_up_in_vru: u64,
    /// Zero-wait hang-ups converted as abandoned at 0 s ([`ZeroWaitHangUp::Abandoned`]);
    /// included in `converted`.
    pub zero_wait_abandoned: u64,
    /// Zero-wait hang-ups left out ([`ZeroWaitHangUp::NotOffered`]).
    pub zero_wait_not_offered: u64,
    /// Lines with a negative `vru_time` (clock skew between the VRU entry and exit stamps),
    /// whatever became of them, bad rows and `PHANTOM` lines aside. Converted ones are asked at
    /// the VRU exit like any other call.
    pub negative_vru_time: u64,
    /// Lines returned as errors by [`BankReader::read_record`].
    pub bad_rows: u64,
}

/// Reads bank records one line at a time.
#[derive(Debug)]
pub struct BankReader<R> {
    input: R,
    options: BankOptions,
    line: u64,
    buf: Vec<u8>,
    operators: Vec<String>,
    operator_ids: HashMap<String, OperatorId>,
    summary: BankSummary,
}

fn cut(s: &str) -> String {
    s.chars().take(64).collect()
}

/// `h:mm:ss` to seconds.
fn hms(s: &str) -> Option<i64> {
    let mut p = s.split(':');
    let (h, m, sec) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() {
        return None;
    }
    let num = |x: &str| {
        (!x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse::<i64>().ok())
            .flatten()
    };
    let (h, m, sec) = (num(h)?, num(m)?, num(sec)?);
    (h < 24 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

/// `yymmdd` (in the 1900s) to days since the Unix epoch.
fn yymmdd(s: &str) -> Option<i64> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = s[0..2].parse().ok()?;
    let m: u8 = s[2..4].parse().ok()?;
    let d: u8 = s[4..6].parse().ok()?;
    Some(CivilDate::new(1900 + y, m, d).ok()?.days_since_epoch())
}

impl<R: BufRead> BankReader<R> {
    /// Reads and checks the header line.
    ///
    /// # Errors
    /// [`KpiError::EmptyInput`]; [`KpiError::FieldCount`] (line 1) or
    /// [`KpiError::UnknownColumn`] when the header is not the 17 bank columns;
    /// [`KpiError::Io`].
    pub fn new(input: R, options: BankOptions) -> Result<Self, KpiError> {
        let mut r = BankReader {
            input,
            options,
            line: 0,
            buf: Vec::new(),
            operators: Vec::new(),
            operator_ids: HashMap::new(),
            summary: BankSummary::default(),
        };
        if !r.next_line()? {
            return Err(KpiError::EmptyInput);
        }
        let text = String::from_utf8_lossy(&r.buf);
        let names: Vec<&str> = text
            .trim_start_matches('\u{feff}')
            .split_whitespace()
            .collect();
        if names.len() != COLUMNS.len() {
            return Err(KpiError::FieldCount {
                line: r.line,
                expected: COLUMNS.len(),
                found: names.len(),
            });
        }
        if let Some((found, _)) = names.iter().zip(COLUMNS).find(|(n, c)| **n != *c) {
            return Err(KpiError::UnknownColumn { column: cut(found) });
        }
        Ok(r)
    }

    /// Reads the next non-blank line into `buf`; `false` at the end.
    fn next_line(&mut self) -> Result<bool, KpiError> {
        loop {
            self.buf.clear();
            if self.input.read_until(b'\n', &mut self.buf)? == 0 {
                return Ok(false);
            }
            self.line += 1;
            if !self.buf.iter().all(u8::is_ascii_whitespace) {
                return Ok(true);
            }
        }
    }

    /// The next call converted to a record, with its line number, or `None` at the end.
    /// `PHANTOM` lines, hang-ups in the VRU and (with [`ZeroWaitHangUp::NotOffered`]) zero-wait
    /// hang-ups are passed over and counted in [`BankReader::summary`].
    ///
    /// An error is about that line only: calling again continues with the next line, so a
    /// caller may skip bad rows (as [`read_bank`] does through an [`Ingest`]).
    ///
    /// # Errors
    /// [`KpiError::Parse`] naming the line and the field, [`KpiError::FieldCount`],
    /// [`KpiError::Io`].
    pub fn read_record(&mut self) -> Result<Option<(u64, ConversationRecord)>, KpiError> {
        loop {
            if !self.next_line()? {
                return Ok(None);
            }
            self.summary.data_rows += 1;
            // The line leaves the buffer while it is converted (which interns server names).
            let buf = std::mem::take(&mut self.buf);
            let converted = self.convert(&buf);
            self.buf = buf;
            match converted {
                Ok(Some(rec)) => {
                    self.summary.converted += 1;
                    return Ok(Some((self.line, rec)));
                }
                Ok(None) => {}
                Err(e) => {
                    self.summary.bad_rows += 1;
                    return Err(e);
                }
            }
        }
    }

    /// Converts line `self.line`; `None` for a line that is not a call to convert.
    fn convert(&mut self, raw: &[u8]) -> Result<Option<ConversationRecord>, KpiError> {
        let line = self.line;
        let text = String::from_utf8_lossy(raw);
        let f: Vec<&str> = text.split_whitespace().collect();
        if f.len() != COLUMNS.len() {
            return Err(KpiError::FieldCount {
                line,
                expected: COLUMNS.len(),
                found: f.len(),
            });
        }
        let outcome = f[12];
        if outcome == "PHANTOM" {
            self.summary.phantom += 1;
            return Ok(None);
        }
        let bad = |i: usize, expected: &'static str| KpiError::Parse {
            line,
            field: COLUMNS[i],
            value: cut(f[i]),
            expected,
        };
        const SECS: &str = "whole seconds (a non-negative integer)";
        let secs = |i: usize| -> Result<i64, KpiError> {
            f[i].parse::<u32>().map(i64::from).map_err(|_| bad(i, SECS))
        };
        let day = yymmdd(f[5]).ok_or_else(|| bad(5, "a date as yymmdd"))?;
        let vru_entry = hms(f[6]).ok_or_else(|| bad(6, "a time as h:mm:ss"))?;
        let vru_time: i64 = f[8]
            .parse::<i32>()
            .map(i64::from)
            .map_err(|_| bad(8, "whole seconds (an integer, negative under clock skew)"))?;
        let q_time = secs(11)?;
        let priority: u32 = f[3].parse().map_err(|_| bad(3, "a priority (0, 1 or 2)"))?;
        let asked_s = day * 86_400 + vru_entry + vru_time;
        let asked_at = u64::try_from(asked_s)
            .map(|s| Timestamp(s * 1000))
            .map_err(|_| bad(5, "a date from 1970 on"))?;
        let at = |s: i64| Timestamp(asked_at.0 + s as u64 * 1000);
        let mut rec = ConversationRecord {
            conversation: ConversationId(line),
            channel: channel_of(f[4]),
            tier: TierId(priority),
            asked_at,
            ..Default::default()
        };
        match outcome {
            "AGENT" => {
                let ser_time = secs(15)?;
                rec.assigned_at = Some(at(q_time));
                rec.first_response_at = Some(at(q_time));
                rec.resolved_at = Some(at(q_time + ser_time));
                rec.operator = match f[16] {
                    "NO_SERVER" => None,
                    name => Some(self.operator(name)),
                };
            }
            "HANG" if q_time > 0 => rec.abandoned_at = Some(at(q_time)),
            "HANG" => {
                let q_start = hms(f[9]).ok_or_else(|| bad(9, "a time as h:mm:ss"))?;
                if q_start == 0 {
                    self.summary.hung_up_in_vru += 1;
                    self.count_skew(vru_time);
                    return Ok(None);
                }
                match self.options.zero_wait_hang_ups {
                    ZeroWaitHangUp::Abandoned => {
                        self.summary.zero_wait_abandoned += 1;
                        rec.abandoned_at = Some(asked_at);
                    }
                    ZeroWaitHangUp::NotOffered => {
                        self.summary.zero_wait_not_offered += 1;
                        self.count_skew(vru_time);
                        return Ok(None);
                    }
                }
            }
            _ => return Err(bad(12, "AGENT, HANG or PHANTOM")),
        }
        self.count_skew(vru_time);
        Ok(Some(rec))
    }

    fn count_skew(&mut self, vru_time: i64) {
        if vru_time < 0 {
            self.summary.negative_vru_time += 1;
        }
    }

    fn operator(&mut self, name: &str) -> OperatorId {
        if let Some(&id) = self.operator_ids.get(name) {
            return id;
        }
        self.operators.push(name.to_owned());
        let id = OperatorId(self.operators.len() as u64);
        self.operator_ids.insert(name.to_owned(), id);
        id
    }

    /// What happened to the lines read so far.
    pub fn summary(&self) -> &BankSummary {
        &self.summary
    }

    /// Server names seen so far; `operators()[i]` is `OperatorId(i + 1)`.
    pub fn operators(&self) -> &[String] {
        &self.operators
    }
}

/// The calls of a bank file, as [`read_bank`] and [`read_file`] return them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BankRecords {
    /// The records the [`Ingest`] accepted, in file order.
    pub records: Vec<ConversationRecord>,
    /// What happened to each line.
    pub summary: BankSummary,
    /// Server names; `operators[i]` is `OperatorId(i + 1)`.
    pub operators: Vec<String>,
}

/// Reads a whole bank file into `ingest` (which validates each record and applies the
/// skip-bad-rows policy) and keeps the records it accepted.
///
/// # Errors
/// Header and I/O errors always; row errors (naming the line and the field) unless the ingest
/// skips bad rows.
pub fn read_bank<R: BufRead>(
    input: R,
    options: BankOptions,
    ingest: &mut Ingest,
) -> Result<BankRecords, KpiError> {
    let mut reader = BankReader::new(input, options)?;
    let mut records = Vec::new();
    loop {
        match reader.read_record() {
            Ok(Some((line, rec))) => {
                let before = ingest.accumulator().records();
                ingest.push(line, &rec)?;
                if ingest.accumulator().records() > before {
                    records.push(rec);
                }
            }
            Ok(None) => break,
            Err(e) => ingest.row_error(e)?,
        }
    }
    Ok(BankRecords {
        records,
        summary: reader.summary,
        operators: reader.operators,
    })
}

/// An error reading a bank file: the file, and the [`KpiError`] (which names the line and the
/// field for a bad row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct BankFileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub error: KpiError,
}

impl BankFileError {
    /// The line of a bad row, if the error is about one.
    pub fn line(&self) -> Option<u64> {
        self.error.line()
    }

    /// The field of a bad row, if the error names one.
    pub fn field(&self) -> Option<&'static str> {
        self.error.field()
    }
}

/// [`read_bank`] on a file; errors name the file.
///
/// # Errors
/// As [`read_bank`], and the file cannot be opened ([`KpiError::Io`]).
pub fn read_file(
    path: impl AsRef<Path>,
    options: BankOptions,
    ingest: &mut Ingest,
) -> Result<BankRecords, BankFileError> {
    let path = path.as_ref();
    let with_path = |error| BankFileError {
        path: path.to_path_buf(),
        error,
    };
    let file = std::fs::File::open(path).map_err(|e| with_path(e.into()))?;
    read_bank(std::io::BufReader::new(file), options, ingest).map_err(with_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_fields() {
        assert_eq!(hms("0:00:31"), Some(31));
        assert_eq!(hms("23:59:59"), Some(86_399));
        assert_eq!(hms("00:00:00"), Some(0));
        for bad in [
            "",
            "1:2",
            "1:60:00",
            "24:00:00",
            "1:00:00:00",
            "-1:00:00",
            "a:00:00",
        ] {
            assert_eq!(hms(bad), None, "{bad}");
        }
        assert_eq!(yymmdd("700101"), Some(0));
        assert_eq!(yymmdd("990101"), Some(10_592));
        for bad in ["990230", "99011", "9901011", "99o101"] {
            assert_eq!(yymmdd(bad), None, "{bad}");
        }
        assert_eq!(channel_of("TT"), ChannelId(5));
        assert_eq!(channel_of("XX"), OTHER_CALL_TYPE);
    }
}
