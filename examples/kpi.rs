//! KPI dashboard over an interchange CSV file.
//!
//! ```text
//! cargo run --example kpi -- [PATH] [--json] [--skip-bad-rows] [--now MS]
//!                            [--utc-offset-minutes N] [--week-start monday|sunday]
//!                            [--sl-seconds T] [--short-abandon-seconds S]
//!                            [--anonymous-bank PATH [--zero-wait-hang-ups abandoned|not-offered]]
//! ```
//!
//! `PATH` defaults to `examples/data/sample.csv`. Periods (today … last month) are computed for
//! `--now` (default: the latest `asked_at` in the data). `--anonymous-bank` reads the 1999 bank
//! call-center format instead, through `switchboard::kpi::bank` (which documents the mapping,
//! what counts as abandoned and how clock skew is handled); `--zero-wait-hang-ups` says what a
//! hang-up from the queue with zero queue time is (default: abandoned at 0 s).

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use switchboard::kpi::bank::{self, BankOptions, BankSummary, ZeroWaitHangUp};
use switchboard::kpi::csv::CsvReader;
use switchboard::kpi::{
    Calendar, ConversationRecord, DurationSummary, Ingest, IngestOptions, KpiAccumulator,
    KpiConfig, KpiError, KpiReport, KpiStats, Period, Rate, Weekday,
};
use switchboard::{Millis, Timestamp};

struct Args {
    path: String,
    json: bool,
    skip: bool,
    now: Option<u64>,
    offset: i32,
    week_start: Weekday,
    sl: Millis,
    short: Option<Millis>,
    bank: Option<String>,
    bank_options: BankOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        path: "examples/data/sample.csv".into(),
        json: false,
        skip: false,
        now: None,
        offset: 0,
        week_start: Weekday::Monday,
        sl: Millis::from_secs(20),
        short: None,
        bank: None,
        bank_options: BankOptions::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--json" => a.json = true,
            "--skip-bad-rows" => a.skip = true,
            "--now" => a.now = Some(val("--now")?.parse().map_err(|e| format!("--now: {e}"))?),
            "--utc-offset-minutes" => {
                a.offset = val(&arg)?.parse().map_err(|e| format!("{arg}: {e}"))?
            }
            "--week-start" => {
                a.week_start = match val(&arg)?.as_str() {
                    "monday" => Weekday::Monday,
                    "sunday" => Weekday::Sunday,
                    w => return Err(format!("--week-start: monday or sunday, not {w}")),
                }
            }
            "--sl-seconds" => {
                a.sl = Millis::from_secs(val(&arg)?.parse().map_err(|e| format!("{arg}: {e}"))?)
            }
            "--short-abandon-seconds" => {
                a.short = Some(Millis::from_secs(
                    val(&arg)?.parse().map_err(|e| format!("{arg}: {e}"))?,
                ))
            }
            "--anonymous-bank" => a.bank = Some(val(&arg)?),
            "--zero-wait-hang-ups" => {
                a.bank_options.zero_wait_hang_ups = match val(&arg)?.as_str() {
                    "abandoned" => ZeroWaitHangUp::Abandoned,
                    "not-offered" => ZeroWaitHangUp::NotOffered,
                    z => return Err(format!("{arg}: abandoned or not-offered, not {z}")),
                }
            }
            "-h" | "--help" => return Err("usage: kpi [PATH] [--json] [--skip-bad-rows] [--now MS] [--utc-offset-minutes N] [--week-start monday|sunday] [--sl-seconds T] [--short-abandon-seconds S] [--anonymous-bank PATH [--zero-wait-hang-ups abandoned|not-offered]]".into()),
            p if !p.starts_with("--") => a.path = p.to_string(),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.bank.is_none() && a.bank_options != BankOptions::default() {
        return Err("--zero-wait-hang-ups needs --anonymous-bank".into());
    }
    Ok(a)
}

/// Reads every record through one validating [`Ingest`] (all data, no period) and keeps the
/// valid ones for the per-period passes.
fn read_interchange(path: &str, ingest: &mut Ingest) -> Result<Vec<ConversationRecord>, KpiError> {
    let file = File::open(path)?;
    let mut reader = CsvReader::new(BufReader::new(file))?;
    let mut out = Vec::new();
    loop {
        match reader.read_record() {
            Ok(Some((line, rec))) => {
                let before = ingest.accumulator().records();
                ingest.push(line, &rec)?;
                if ingest.accumulator().records() > before {
                    out.push(rec);
                }
            }
            Ok(None) => return Ok(out),
            Err(e) => ingest.row_error(e)?,
        }
    }
}

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

const HEAD: &str = "offered  answ  aband  msg  pend  handled  avg wait  max wait  avg FRT  p90 FRT  avg handle  max handle  aband%  SL  resp%";

fn row(label: &str, s: &KpiStats) -> String {
    format!(
        "{label:<22}{:>7}{:>6}{:>7}{:>5}{:>6}{:>9}{:>10}{:>10}{:>9}{:>9}{:>12}{:>12}{:>8}{:>7}{:>7}",
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
        pct(&s.service_levels[0].default),
        pct(&s.response_rate),
    )
}

fn accumulate(cfg: &KpiConfig, recs: &[ConversationRecord]) -> Result<KpiReport, KpiError> {
    let mut acc = KpiAccumulator::new(cfg.clone())?;
    for r in recs {
        acc.push(r)?;
    }
    Ok(acc.report())
}

fn fmt_date(cal: &Calendar, t: Timestamp) -> String {
    let d = cal.date_of(t);
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut base = KpiConfig {
        service_level_thresholds: vec![a.sl],
        short_abandon: a.short,
        ..KpiConfig::default()
    };
    let options = IngestOptions {
        skip_bad_rows: a.skip,
        detect_duplicates: true,
        strict_order: false,
    };
    let mut ingest = Ingest::new(base.clone(), options)?;
    let (source, recs, bank) = match &a.bank {
        Some(p) => {
            let read = bank::read_file(p, a.bank_options, &mut ingest)?;
            (
                p.clone(),
                read.records,
                Some((read.summary, read.operators)),
            )
        }
        None => (
            a.path.clone(),
            read_interchange(&a.path, &mut ingest).map_err(|e| format!("{}: {e}", a.path))?,
            None,
        ),
    };
    let all = ingest.accumulator().report();
    let cal = Calendar::new(a.offset, a.week_start)?;
    let now = Timestamp(
        a.now
            .unwrap_or_else(|| recs.iter().map(|r| r.asked_at.0).max().unwrap_or(0)),
    );
    type Preset = fn(&Calendar, Timestamp) -> Result<Period, KpiError>;
    let presets: [(&str, Preset); 6] = [
        ("today", Calendar::today),
        ("yesterday", Calendar::yesterday),
        ("this week", Calendar::this_week),
        ("last week", Calendar::last_week),
        ("this month", Calendar::this_month),
        ("last month", Calendar::last_month),
    ];
    let mut periods = Vec::new();
    for (name, f) in presets {
        base.period = Some(f(&cal, now)?);
        periods.push((name, accumulate(&base, &recs)?));
    }
    if a.json {
        let periods: Vec<_> = periods
            .iter()
            .map(|(n, r)| serde_json::json!({ "name": n, "report": r }))
            .collect();
        let mut v =
            serde_json::json!({ "source": source, "now": now.0, "all": all, "periods": periods });
        if let Some((summary, operators)) = &bank {
            v["bank"] = serde_json::json!({
                "options": a.bank_options,
                "summary": summary,
                "operators": operators,
            });
        }
        use std::io::Write;
        // A closed pipe (`| head`) ends the output quietly.
        let _ = writeln!(
            std::io::stdout().lock(),
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
        return Ok(());
    }
    println!("switchboard KPI dashboard: {source}");
    print!("records {}  skipped {}", all.records, all.skipped);
    for s in &all.skipped_by_reason {
        print!("  {}={}", s.reason.name(), s.count);
    }
    println!();
    if let Some((summary, _)) = &bank {
        println!("{}", bank_line(summary, a.bank_options));
    }
    for e in ingest.skipped_examples().iter().take(3) {
        println!("  skipped: {e}");
    }
    println!(
        "now {} (UTC{:+}min, weeks start {:?}); SL = answered within {} ÷ (answered + abandoned)\n",
        fmt_date(&cal, now),
        a.offset,
        a.week_start,
        a.sl
    );
    println!("{:<22}{HEAD}", "PERIOD");
    for (name, r) in &periods {
        let p = r
            .period
            .map_or(String::new(), |p| format!(" {}", fmt_date(&cal, p.start)));
        println!("{}", row(&format!("{name}{p}"), &r.overall));
    }
    println!("{}", row("all data", &all.overall));

    println!("\n{:<22}{HEAD}", "TIER (all data)");
    for (t, s) in &all.by_tier {
        println!("{}", row(&t.to_string(), s));
    }
    println!("\n{:<22}{HEAD}", "CHANNEL (all data)");
    for (c, s) in &all.by_channel {
        println!("{}", row(&c.to_string(), s));
    }
    if !all.by_team.is_empty() {
        println!("\n{:<22}{HEAD}", "TEAM (all data)");
        for (t, s) in &all.by_team {
            println!("{}", row(&t.to_string(), s));
        }
    }
    println!(
        "\n{:<16}{:>8}{:>12}{:>12}{:>9}{:>10}{:>8}{:>7}",
        "OPERATOR", "handled", "avg handle", "max handle", "answered", "avg FRT", "missed", "CSAT"
    );
    for o in all.operators.iter().take(25) {
        let name = bank
            .as_ref()
            .and_then(|(_, names)| names.get(usize::try_from(o.operator.0).ok()?.checked_sub(1)?))
            .map_or_else(|| o.operator.to_string(), String::clone);
        println!(
            "{:<16}{:>8}{:>12}{:>12}{:>9}{:>10}{:>8}{:>7}",
            name,
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
    if all.operators.len() > 25 {
        println!("… {} more operators", all.operators.len() - 25);
    }
    let o = &all.overall;
    let ab = &o.abandonment;
    println!(
        "\nabandonment (all data): ÷handled (Gitple) {}  ÷offered {}  ÷(answered+abandoned) {}{}",
        pct(&ab.per_handled),
        pct(&ab.per_offered),
        pct(&ab.per_answered_and_abandoned),
        ab.short_excluded_per_offered
            .map_or(String::new(), |r| format!(
                "  short abandons out ÷offered {}",
                pct(&r)
            ))
    );
    let sl = &o.service_levels[0];
    println!(
        "service level within {}: default {}  answered-only {}  +messages {}  abandons-within-pass {}  abandons-within-excluded {}  left-queue-within {}  FRT attainment {}",
        sl.threshold,
        pct(&sl.default),
        pct(&sl.answered_only),
        pct(&sl.with_messages_left),
        pct(&sl.abandons_within_pass),
        pct(&sl.abandons_within_excluded),
        pct(&sl.left_queue_within),
        pct(&sl.first_response_within)
    );
    println!(
        "wait p50/p90/p95/p99: {} {} {} {} ({})   handle p50/p90/p99: {} {} {}",
        secs(o.wait.p50),
        secs(o.wait.p90),
        secs(o.wait.p95),
        secs(o.wait.p99),
        if o.wait.exact { "exact" } else { "sketch ±1%" },
        secs(o.handle.p50),
        secs(o.handle.p90),
        secs(o.handle.p99),
    );
    println!(
        "messages left {} (answered later {}), unanswered after assignment {}, transfers {}, missed offers {}, CSAT mean {} top-2-box {}",
        o.messages_left,
        o.messages_answered,
        o.unanswered_after_assign,
        o.transfers,
        o.missed_offers,
        o.satisfaction
            .mean
            .map_or("-".into(), |x| format!("{x:.2}")),
        pct(&o.satisfaction.top_two_box)
    );
    if !o.tags.is_empty() {
        let tags: Vec<String> = o
            .tags
            .iter()
            .map(|t| format!("{}={}", t.tag, t.count))
            .collect();
        println!("tags: {}", tags.join(" "));
    }
    Ok(())
}

/// What became of the bank file's lines: every one is in exactly one of the counts.
fn bank_line(s: &BankSummary, options: BankOptions) -> String {
    let zero_wait = match options.zero_wait_hang_ups {
        ZeroWaitHangUp::Abandoned => format!("{} abandoned at 0 s", s.zero_wait_abandoned),
        _ => format!("{} not offered", s.zero_wait_not_offered),
    };
    format!(
        "bank lines {}: converted {}, PHANTOM ignored {}, hung up in the VRU before queueing {} (not offered), bad {}; queue hang-ups with zero queue time: {zero_wait}; negative vru_time (clock skew, kept, asked at the VRU exit): {}",
        s.data_rows, s.converted, s.phantom, s.hung_up_in_vru, s.bad_rows, s.negative_vru_time
    )
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
