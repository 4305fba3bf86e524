//! Rows per second, same run: the in-memory accumulator pass, `sb_kpi_state` in DataFusion
//! over Parquet, and DataFusion's built-in `count`/`avg` over the same 17 columns.
//!
//! ```text
//! cargo run --release -p switchboard-datafusion --example bench             # 10 M rows, 4 files
//! cargo run --release -p switchboard-datafusion --example bench -- 2000000  # fewer rows
//! ```
//!
//! Each query runs 3 times per partition count; the best and median times are printed. The
//! data set is the equality test's generator, written once under the target directory.

use std::path::PathBuf;
use std::time::Instant;

use datafusion::error::Result;
use datafusion::prelude::{SessionConfig, SessionContext};
use switchboard::kpi::{ConversationRecord, KpiAccumulator, KpiConfig};
use switchboard_datafusion::{
    KpiOptions, argument_list, register_kpi_functions, register_parquet_records, synthetic,
    write_parquet,
};

const FILES: u64 = 4;
const RUNS: usize = 3;

#[tokio::main]
async fn main() -> Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join(format!("tmp/switchboard-datafusion-bench-{n}"));
    if !dir.join(format!("part-{}.parquet", FILES - 1)).exists() {
        std::fs::create_dir_all(&dir)?;
        let t = Instant::now();
        for f in 0..FILES {
            let rows = synthetic::records(1, n * f / FILES..n * (f + 1) / FILES);
            write_parquet(rows, &dir.join(format!("part-{f}.parquet")))?;
        }
        println!(
            "wrote {n} rows in {FILES} files: {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("{n} rows, {FILES} Parquet files, {cores} cores");

    // The in-memory pass: records already decoded, one accumulator, one thread.
    let records: Vec<ConversationRecord> = synthetic::records(1, 0..n).collect();
    let mut times = Vec::new();
    let mut bytes = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let mut acc = KpiAccumulator::new(KpiConfig::default()).expect("default config");
        for r in &records {
            acc.push(r).expect("generated rows are valid");
        }
        bytes = acc.to_bytes();
        times.push(t.elapsed().as_secs_f64());
    }
    drop(records);
    print_line("in-memory KpiAccumulator::push (1 thread)", n, &mut times);

    let args = argument_list();
    let state_sql = format!("SELECT sb_kpi_state({args}) FROM records");
    let builtin_sql = "SELECT count(conversation_id), avg(channel), avg(tier), avg(team), \
         avg(operator), avg(asked_at), avg(assigned_at), avg(first_response_at), \
         avg(resolved_at), avg(abandoned_at), count(message_left), avg(transfers), \
         avg(satisfaction), avg(missed_offers), avg(offered_at), avg(queue), count(tags) FROM records";
    let grouped_sql =
        format!("SELECT tier, channel, sb_kpi_state({args}) FROM records GROUP BY tier, channel");
    for partitions in [1, cores] {
        let ctx = SessionContext::new_with_config(
            SessionConfig::new().with_target_partitions(partitions),
        );
        register_kpi_functions(&ctx, KpiOptions::default())?;
        register_parquet_records(&ctx, "records", &dir.to_string_lossy()).await?;
        for (label, sql) in [
            ("sb_kpi_state", state_sql.as_str()),
            ("sb_kpi_state GROUP BY tier, channel", grouped_sql.as_str()),
            ("built-in count/avg, same 17 columns", builtin_sql),
        ] {
            let mut times = Vec::new();
            for _ in 0..RUNS {
                let t = Instant::now();
                let out = ctx.sql(sql).await?.collect().await?;
                times.push(t.elapsed().as_secs_f64());
                if label == "sb_kpi_state" {
                    use datafusion::arrow::array::AsArray;
                    let got = out[0].column(0).as_binary::<i32>().value(0);
                    assert!(got == bytes.as_slice(), "DataFusion state differs");
                }
            }
            print_line(
                &format!("DataFusion {label}, {partitions} partition(s)"),
                n,
                &mut times,
            );
        }
    }
    Ok(())
}

fn print_line(label: &str, n: u64, times: &mut [f64]) {
    times.sort_by(f64::total_cmp);
    let best = times[0];
    let median = times[times.len() / 2];
    println!(
        "{label:<58} best {best:>6.2} s  median {median:>6.2} s  {:>6.2} M rows/s (best)",
        n as f64 / best / 1e6
    );
}
