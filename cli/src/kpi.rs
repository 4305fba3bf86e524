//! `switchboard kpi`: the KPI dashboard over one or more files, from `switchboard::kpi`.
//!
//! Each file is read through its own validating [`Ingest`] (interchange CSV with
//! [`switchboard::kpi::csv::read_csv`], Anonymous Bank records with
//! [`switchboard::kpi::bank::BankReader`]), so duplicate conversation ids are checked within
//! a file; the files' accumulators are then merged (exactly) into the total.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use switchboard::kpi::bank::{self, BankOptions, BankReader, BankSummary};
use switchboard::kpi::csv::{read_csv, write_operator_table_csv};
use switchboard::kpi::{
    DurationSummary, Ingest, IngestOptions, KpiAccumulator, KpiConfig, KpiError, KpiReport,
    KpiStats, Rate,
};
use switchboard::policy::Policy;
use switchboard::{ChannelId, Millis, OperatorId, QueueId, TeamId, TierId};

use crate::units::{Duration, parse_duration};

/// Arguments of `switchboard kpi`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input files: interchange CSV (see `switchboard::kpi::csv`), or Anonymous Bank records
    /// with --anonymous-bank.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<String>,
    /// Service-level threshold ("answered within"); repeat for several. Accepts 20s, 5m, 1h or
    /// plain seconds. Default: 20s.
    #[arg(short, long = "threshold", value_name = "DURATION", value_parser = parse_duration)]
    thresholds: Vec<Duration>,
    /// Policy JSON (or a simulator scenario holding one) whose tiers, channels and queues name
    /// the ids in the files.
    #[arg(long, value_name = "POLICY.json")]
    policy: Option<String>,
    /// Also write the tables as CSV files into this directory (created if missing).
    #[arg(long, value_name = "OUT_DIR")]
    csv: Option<String>,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// The files are Anonymous Bank call-center records (`switchboard::kpi::bank`).
    #[arg(long)]
    anonymous_bank: bool,
}

/// Display names for ids, from the policy and from the files.
#[derive(Debug, Default)]
struct Names {
    tiers: BTreeMap<TierId, String>,
    channels: BTreeMap<ChannelId, String>,
    queues: BTreeMap<QueueId, String>,
    operators: BTreeMap<OperatorId, String>,
}

/// How the default queue (records without a queue) is labelled.
const DEFAULT_QUEUE: &str = "default queue";

impl Names {
    fn tier(&self, id: TierId) -> String {
        self.tiers
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }
    fn channel(&self, id: ChannelId) -> String {
        self.channels
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }
    fn queue(&self, id: Option<QueueId>) -> String {
        match id {
            None => DEFAULT_QUEUE.to_string(),
            Some(q) => self
                .queues
                .get(&q)
                .cloned()
                .unwrap_or_else(|| q.to_string()),
        }
    }
    fn operator(&self, id: OperatorId) -> String {
        self.operators
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }
}

/// One input file, read.
struct FileResult {
    path: String,
    accumulator: KpiAccumulator,
    bank: Option<BankSummary>,
}

/// Reads every file, merges the KPIs and returns the tables (or the JSON); with `--csv`,
/// writes the CSV tables first.
pub fn run(args: Args) -> anyhow::Result<String> {
    let mut thresholds: Vec<Millis> = args.thresholds.iter().map(|d| d.millis()).collect();
    thresholds.sort_unstable();
    thresholds.dedup();
    if thresholds.is_empty() {
        thresholds.push(Millis::from_secs(20));
    }
    let config = KpiConfig {
        service_level_thresholds: thresholds,
        ..KpiConfig::default()
    };
    // Checks the thresholds (at most 16) before any file is read.
    KpiAccumulator::new(config.clone()).context("--threshold")?;

    let mut names = Names::default();
    if args.anonymous_bank {
        for (i, t) in bank::CALL_TYPES.iter().enumerate() {
            names.channels.insert(ChannelId(i as u32), (*t).to_string());
        }
        names
            .channels
            .insert(bank::OTHER_CALL_TYPE, "other call type".into());
        // The tier is the file's `priority` field.
        for p in 0..=2 {
            names.tiers.insert(TierId(p), format!("priority {p}"));
        }
    }
    if let Some(path) = &args.policy {
        let policy = read_policy(path)?;
        for c in policy.channels {
            names.channels.insert(c.id, c.name);
        }
        for t in policy.tiers {
            names.tiers.insert(t.id, t.name);
        }
        for q in policy.queues {
            names.queues.insert(q.id, q.name);
        }
    }

    let mut server_ids: HashMap<String, OperatorId> = HashMap::new();
    let mut files = Vec::new();
    for path in &args.files {
        let mut ingest = Ingest::new(config.clone(), options())?;
        let bank = if args.anonymous_bank {
            Some(read_bank_file(path, &mut ingest, &mut server_ids)?)
        } else {
            read_csv(crate::open(path)?, &mut ingest).map_err(|e| file_error(path, e))?;
            None
        };
        files.push(FileResult {
            path: path.clone(),
            accumulator: ingest.into_accumulator(),
            bank,
        });
    }
    for (name, id) in server_ids {
        names.operators.insert(id, name);
    }
    let mut total = KpiAccumulator::new(config.clone())?;
    for f in &files {
        total.merge(&f.accumulator)?;
    }
    let report = total.report();
    let per_file: Vec<KpiReport> = files.iter().map(|f| f.accumulator.report()).collect();

    let mut written = Vec::new();
    if let Some(dir) = &args.csv {
        written = write_csv(Path::new(dir), &report, &files, &per_file, &names, &config)?;
    }
    if args.json {
        return Ok(json(&report, &files, &per_file, &names, &config));
    }
    let mut out = text(&report, &files, &per_file, &names, &config);
    if let Some(dir) = &args.csv {
        let _ = writeln!(out, "\nwrote {} to {dir}", written.join(", "));
    }
    Ok(out)
}

fn options() -> IngestOptions {
    IngestOptions {
        skip_bad_rows: false,
        detect_duplicates: true,
        strict_order: false,
    }
}

/// `PATH: line N: field `x`: …` (the library's message names the line and the field).
fn file_error(path: &str, e: KpiError) -> anyhow::Error {
    anyhow::anyhow!("{path}: {e}")
}

/// A policy file, or a simulator scenario (its `policy`), for the names of tiers and channels.
fn read_policy(path: &str) -> anyhow::Result<Policy> {
    let text = crate::read_text(path)?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{path}: not valid JSON"))?;
    // A policy has no `policy` field; a scenario keeps its policy there.
    let value = match value.get("policy") {
        Some(inner) if inner.is_object() => inner.clone(),
        _ => value,
    };
    serde_json::from_value(value).with_context(|| format!("{path}: not a valid policy"))
}

/// Reads a bank file through [`BankReader`] into `ingest`. The reader numbers servers per
/// file, in order of first appearance; they are renumbered here by name across all files, so
/// one server is one operator however many months are read.
fn read_bank_file(
    path: &str,
    ingest: &mut Ingest,
    server_ids: &mut HashMap<String, OperatorId>,
) -> anyhow::Result<BankSummary> {
    let mut reader = BankReader::new(crate::open(path)?, BankOptions::default())
        .map_err(|e| file_error(path, e))?;
    loop {
        match reader.read_record() {
            Ok(Some((line, mut rec))) => {
                if let Some(local) = rec.operator {
                    let name = usize::try_from(local.0)
                        .ok()
                        .and_then(|i| reader.operators().get(i.checked_sub(1)?))
                        .with_context(|| format!("{path}: line {line}: unnamed server {local}"))?;
                    let next = OperatorId(server_ids.len() as u64 + 1);
                    rec.operator = Some(*server_ids.entry(name.clone()).or_insert(next));
                }
                ingest.push(line, &rec).map_err(|e| file_error(path, e))?;
            }
            Ok(None) => break,
            Err(e) => ingest.row_error(e).map_err(|e| file_error(path, e))?,
        }
    }
    Ok(*reader.summary())
}

// ---------------------------------------------------------------------------------------------
// Text

fn secs(m: Option<Millis>) -> String {
    m.map_or("-".into(), |m| format!("{:.0}s", m.0 as f64 / 1000.0))
}

fn mean(s: &DurationSummary) -> String {
    s.mean_ms
        .map_or("-".into(), |x| format!("{:.0}s", x / 1000.0))
}

fn pct(r: &Rate) -> String {
    r.percent().map_or("-".into(), |p| format!("{p:.1}%"))
}

/// `20s`, `1m30s` → a short label for a threshold.
fn threshold_label(t: Millis) -> String {
    if t.0 % 1000 == 0 {
        format!("{}s", t.0 / 1000)
    } else {
        format!("{}ms", t.0)
    }
}

const LABEL_WIDTH: usize = 24;

fn head(title: &str, config: &KpiConfig) -> String {
    let mut s = format!(
        "{title:<LABEL_WIDTH$}{:>8}{:>7}{:>7}{:>5}{:>6}{:>9}{:>10}{:>10}{:>9}{:>9}{:>12}{:>12}{:>8}",
        "offered",
        "answ",
        "aband",
        "msg",
        "pend",
        "handled",
        "avg wait",
        "max wait",
        "avg FRT",
        "p90 FRT",
        "avg handle",
        "max handle",
        "aband%"
    );
    for t in &config.service_level_thresholds {
        let _ = write!(s, "{:>9}", format!("SL {}", threshold_label(*t)));
    }
    s.push_str("   resp%");
    s
}

/// A path cut from the left to fit the label column, so the file name stays visible.
fn fit_left(path: &str) -> String {
    let n = path.chars().count();
    if n < LABEL_WIDTH {
        return path.to_string();
    }
    let keep = LABEL_WIDTH - 2;
    "…".to_string() + &path.chars().skip(n - keep).collect::<String>()
}

fn row(label: &str, s: &KpiStats) -> String {
    let mut label = label.to_string();
    if label.chars().count() >= LABEL_WIDTH {
        label = label.chars().take(LABEL_WIDTH - 2).collect::<String>() + "…";
    }
    let mut out = format!(
        "{label:<LABEL_WIDTH$}{:>8}{:>7}{:>7}{:>5}{:>6}{:>9}{:>10}{:>10}{:>9}{:>9}{:>12}{:>12}{:>8}",
        s.offered,
        s.answered,
        s.abandoned,
        s.messages_left,
        s.pending,
        s.handled,
        mean(&s.wait),
        secs(s.wait.max),
        mean(&s.first_response),
        secs(s.first_response.p90),
        mean(&s.handle),
        secs(s.handle.max),
        pct(&s.abandonment.per_offered),
    );
    for sl in &s.service_levels {
        let _ = write!(out, "{:>9}", pct(&sl.default));
    }
    let _ = write!(out, "{:>8}", pct(&s.response_rate));
    out
}

/// How many operators the text table lists (the CSV has them all).
const OPERATOR_ROWS: usize = 25;

fn text(
    report: &KpiReport,
    files: &[FileResult],
    per_file: &[KpiReport],
    names: &Names,
    config: &KpiConfig,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "switchboard KPI dashboard");
    for (f, r) in files.iter().zip(per_file) {
        let _ = writeln!(s, "  {}: {} records", f.path, r.records);
        if let Some(b) = &f.bank {
            let _ = writeln!(s, "    {}", bank_line(b));
        }
    }
    let thresholds: Vec<String> = config
        .service_level_thresholds
        .iter()
        .map(|t| threshold_label(*t))
        .collect();
    let _ = writeln!(
        s,
        "SL T = answered within T ÷ (answered + abandoned), T = {}; aband% = abandoned ÷ offered\n",
        thresholds.join(", ")
    );
    if files.len() > 1 {
        let _ = writeln!(s, "{}", head("FILE", config));
        for (f, r) in files.iter().zip(per_file) {
            let _ = writeln!(s, "{}", row(&fit_left(&f.path), &r.overall));
        }
        let _ = writeln!(s, "{}\n", row("all files", &report.overall));
    } else {
        let _ = writeln!(s, "{}", head("OVERALL", config));
        let _ = writeln!(s, "{}\n", row("all", &report.overall));
    }
    let _ = writeln!(s, "{}", head("TIER", config));
    for (t, st) in &report.by_tier {
        let _ = writeln!(s, "{}", row(&names.tier(*t), st));
    }
    let _ = writeln!(s, "\n{}", head("CHANNEL", config));
    for (c, st) in &report.by_channel {
        let _ = writeln!(s, "{}", row(&names.channel(*c), st));
    }
    if !report.by_team.is_empty() {
        let _ = writeln!(s, "\n{}", head("TEAM", config));
        for (t, st) in &report.by_team {
            let _ = writeln!(s, "{}", row(&t.to_string(), st));
        }
    }
    // Only when some record names a queue: otherwise the one default queue is the overall row.
    if report.has_queues() {
        let _ = writeln!(s, "\n{}", head("QUEUE", config));
        for (q, st) in &report.by_queue {
            let _ = writeln!(s, "{}", row(&names.queue(*q), st));
        }
    }
    let _ = writeln!(
        s,
        "\n{:<LABEL_WIDTH$}{:>8}{:>12}{:>12}{:>9}{:>10}{:>8}{:>7}",
        "OPERATOR", "handled", "avg handle", "max handle", "answered", "avg FRT", "missed", "CSAT"
    );
    for o in report.operators.iter().take(OPERATOR_ROWS) {
        let _ = writeln!(
            s,
            "{:<LABEL_WIDTH$}{:>8}{:>12}{:>12}{:>9}{:>10}{:>8}{:>7}",
            names.operator(o.operator),
            o.handled,
            o.mean_handle_ms
                .map_or("-".into(), |x| format!("{:.0}s", x / 1000.0)),
            secs(o.max_handle),
            o.answered,
            o.mean_first_response_ms
                .map_or("-".into(), |x| format!("{:.0}s", x / 1000.0)),
            o.missed_offers,
            o.satisfaction_mean
                .map_or("-".into(), |x| format!("{x:.2}")),
        );
    }
    if report.operators.len() > OPERATOR_ROWS {
        let _ = writeln!(
            s,
            "… {} more operators (all of them in --csv)",
            report.operators.len() - OPERATOR_ROWS
        );
    }
    let o = &report.overall;
    let _ = writeln!(
        s,
        "\nwait p50/p90/p95/p99: {} {} {} {} ({})   handle p50/p90/p99: {} {} {}",
        secs(o.wait.p50),
        secs(o.wait.p90),
        secs(o.wait.p95),
        secs(o.wait.p99),
        if o.wait.exact { "exact" } else { "sketch ±1%" },
        secs(o.handle.p50),
        secs(o.handle.p90),
        secs(o.handle.p99),
    );
    s
}

/// What became of a bank file's lines: every one is in exactly one of the counts.
fn bank_line(s: &BankSummary) -> String {
    format!(
        "bank lines {}: converted {}, PHANTOM ignored {}, hung up in the VRU {} (not offered), zero-wait hang-ups abandoned at 0 s {}, negative vru_time kept {}",
        s.data_rows,
        s.converted,
        s.phantom,
        s.hung_up_in_vru,
        s.zero_wait_abandoned,
        s.negative_vru_time
    )
}

// ---------------------------------------------------------------------------------------------
// JSON

fn json(
    report: &KpiReport,
    files: &[FileResult],
    per_file: &[KpiReport],
    names: &Names,
    config: &KpiConfig,
) -> String {
    let files: Vec<_> = files
        .iter()
        .zip(per_file)
        .map(|(f, r)| {
            serde_json::json!({
                "path": f.path,
                "records": r.records,
                "skipped": r.skipped,
                "bank": f.bank,
                "overall": r.overall,
            })
        })
        .collect();
    let name_map = |m: Vec<(String, String)>| -> serde_json::Map<String, serde_json::Value> {
        m.into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect()
    };
    let v = serde_json::json!({
        "files": files,
        "service_level_thresholds_ms": config.service_level_thresholds,
        "names": {
            "tiers": name_map(names.tiers.iter().map(|(k, v)| (k.0.to_string(), v.clone())).collect()),
            "channels": name_map(names.channels.iter().map(|(k, v)| (k.0.to_string(), v.clone())).collect()),
            "queues": name_map(names.queues.iter().map(|(k, v)| (k.0.to_string(), v.clone())).collect()),
            "operators": name_map(names.operators.iter().map(|(k, v)| (k.0.to_string(), v.clone())).collect()),
        },
        "report": report,
    });
    let mut out = serde_json::to_string_pretty(&v).unwrap_or_default();
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// CSV

/// RFC 4180: quote a field holding a comma, a quote, CR or LF.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn ratio(r: &Rate) -> String {
    r.ratio.map(|x| format!("{x:.6}")).unwrap_or_default()
}

fn ms(m: Option<Millis>) -> String {
    m.map(|m| m.0.to_string()).unwrap_or_default()
}

fn mean_ms(s: &DurationSummary) -> String {
    s.mean_ms.map(|x| format!("{x:.3}")).unwrap_or_default()
}

/// Header of the stats tables: the key columns, then one column set per [`KpiStats`].
fn stats_header(keys: &[&str], config: &KpiConfig) -> String {
    let mut cols: Vec<String> = keys.iter().map(|k| (*k).to_string()).collect();
    cols.extend(
        [
            "offered",
            "answered",
            "abandoned",
            "messages_left",
            "pending",
            "handled",
            "wait_mean_ms",
            "wait_p50_ms",
            "wait_p90_ms",
            "wait_max_ms",
            "first_response_mean_ms",
            "first_response_p90_ms",
            "handle_mean_ms",
            "handle_max_ms",
            "abandonment_per_offered",
            "response_rate",
        ]
        .map(String::from),
    );
    for t in &config.service_level_thresholds {
        cols.push(format!("service_level_{}", threshold_label(*t)));
    }
    cols.push("occupancy".into());
    cols.join(",") + "\r\n"
}

fn stats_line(keys: &[&str], s: &KpiStats) -> String {
    let mut cols: Vec<String> = keys.iter().map(|k| field(k)).collect();
    cols.extend([
        s.offered.to_string(),
        s.answered.to_string(),
        s.abandoned.to_string(),
        s.messages_left.to_string(),
        s.pending.to_string(),
        s.handled.to_string(),
        mean_ms(&s.wait),
        ms(s.wait.p50),
        ms(s.wait.p90),
        ms(s.wait.max),
        mean_ms(&s.first_response),
        ms(s.first_response.p90),
        mean_ms(&s.handle),
        ms(s.handle.max),
        ratio(&s.abandonment.per_offered),
        ratio(&s.response_rate),
    ]);
    for sl in &s.service_levels {
        cols.push(ratio(&sl.default));
    }
    cols.push(ratio(&s.occupancy.occupancy));
    cols.join(",") + "\r\n"
}

/// Writes `overall.csv` (one row per file with several files, then `all`), `by_tier.csv`,
/// `by_channel.csv`, `by_team.csv`, `by_queue.csv` when the files name queues (an empty
/// `queue` is the default queue), `operators.csv` (the library's operator table) and, when
/// the files name operators, `operator_names.csv`. Returns the file names written.
fn write_csv(
    dir: &Path,
    report: &KpiReport,
    files: &[FileResult],
    per_file: &[KpiReport],
    names: &Names,
    config: &KpiConfig,
) -> anyhow::Result<Vec<String>> {
    let shown = dir.display();
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {shown}: {}", crate::io_reason(&e)))?;
    let mut written = Vec::new();
    let mut put = |name: &str, body: String| -> anyhow::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|e| {
            anyhow::anyhow!("cannot write {}: {}", path.display(), crate::io_reason(&e))
        })?;
        written.push(name.to_string());
        Ok(())
    };

    let mut overall = stats_header(&["scope"], config);
    if files.len() > 1 {
        for (f, r) in files.iter().zip(per_file) {
            overall += &stats_line(&[&f.path], &r.overall);
        }
    }
    overall += &stats_line(&["all"], &report.overall);
    put("overall.csv", overall)?;

    let mut by_tier = stats_header(&["tier", "name"], config);
    for (t, s) in &report.by_tier {
        let name = names.tiers.get(t).map_or("", String::as_str);
        by_tier += &stats_line(&[&t.0.to_string(), name], s);
    }
    put("by_tier.csv", by_tier)?;

    let mut by_channel = stats_header(&["channel", "name"], config);
    for (c, s) in &report.by_channel {
        let name = names.channels.get(c).map_or("", String::as_str);
        by_channel += &stats_line(&[&c.0.to_string(), name], s);
    }
    put("by_channel.csv", by_channel)?;

    let mut by_team = stats_header(&["team"], config);
    for (t, s) in &report.by_team {
        let TeamId(id) = t;
        by_team += &stats_line(&[&id.to_string()], s);
    }
    put("by_team.csv", by_team)?;

    if report.has_queues() {
        let mut by_queue = stats_header(&["queue", "name"], config);
        for (q, s) in &report.by_queue {
            let id = q.map(|q| q.0.to_string()).unwrap_or_default();
            let name = match q {
                None => DEFAULT_QUEUE,
                Some(q) => names.queues.get(q).map_or("", String::as_str),
            };
            by_queue += &stats_line(&[&id, name], s);
        }
        put("by_queue.csv", by_queue)?;
    }

    let mut operators = Vec::new();
    write_operator_table_csv(&mut operators, report)
        .map_err(|e| anyhow::anyhow!("cannot write operators.csv: {e}"))?;
    put(
        "operators.csv",
        String::from_utf8_lossy(&operators).into_owned(),
    )?;

    if !names.operators.is_empty() {
        let mut body = String::from("operator,name\r\n");
        for (id, name) in &names.operators {
            body += &format!("{},{}\r\n", id.0, field(name));
        }
        put("operator_names.csv", body)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn threshold_labels() {
        assert_eq!(threshold_label(Millis(20_000)), "20s");
        assert_eq!(threshold_label(Millis(1_500)), "1500ms");
    }

    #[test]
    fn empty_input_is_refused() {
        let mut ingest = Ingest::new(KpiConfig::default(), options()).unwrap();
        let e = read_csv(&b""[..], &mut ingest).unwrap_err();
        assert!(file_error("x.csv", e).to_string().starts_with("x.csv: "));
    }
}
