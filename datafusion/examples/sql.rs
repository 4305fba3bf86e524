//! KPIs by tier and channel over a directory of Parquet records, with SQL and with the
//! DataFrame API.
//!
//! ```text
//! cargo run --release -p switchboard-datafusion --example sql              # 1 M generated rows
//! cargo run --release -p switchboard-datafusion --example sql -- DIR       # your Parquet files
//! ```
//!
//! Without a directory it writes 1,000,000 generated records in 4 files under the target
//! directory first. `records_to_parquet` converts simulator output and interchange CSV.

use std::time::Instant;

use datafusion::error::Result;
use datafusion::functions::core::expr_ext::FieldAccessor;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::registry::FunctionRegistry;
use datafusion::logical_expr::{col, lit};
use datafusion::prelude::SessionContext;
use switchboard_datafusion::{
    ARGUMENTS, KpiOptions, argument_list, register_kpi_functions, register_parquet_records,
    synthetic, write_parquet,
};

#[tokio::main]
async fn main() -> Result<()> {
    let dir = match std::env::args().nth(1) {
        Some(d) => d,
        None => generate()?,
    };
    let ctx = SessionContext::new();
    register_kpi_functions(&ctx, KpiOptions::default())?;
    register_parquet_records(&ctx, "records", &dir).await?;

    // SQL: headline figures per tier and channel, picked out of the report struct.
    let t = Instant::now();
    let args = argument_list();
    ctx.sql(&format!(
        "SELECT tier, channel, get_field(k, 'offered') AS offered, \
                get_field(k, 'answered') AS answered, \
                get_field(k, 'abandonment_per_offered') AS abandon_rate, \
                get_field(k, 'service_level') AS sl_20s, \
                get_field(k, 'wait_p50_ms') AS wait_p50_ms, \
                get_field(k, 'wait_p90_ms') AS wait_p90_ms \
         FROM (SELECT tier, channel, sb_kpi({args}) AS k FROM records GROUP BY tier, channel) \
         ORDER BY tier, channel"
    ))
    .await?
    .show()
    .await?;
    println!("SQL: {:.2} s\n", t.elapsed().as_secs_f64());

    // The DataFrame API: state bytes per tier and channel, to store and merge later, and the
    // report of each merged back out of the bytes.
    let t = Instant::now();
    let sb_kpi_state = ctx.udaf("sb_kpi_state")?;
    let sb_kpi_report = ctx.udf("sb_kpi_report")?;
    let df = ctx
        .table("records")
        .await?
        .aggregate(
            vec![col("tier"), col("channel")],
            vec![
                sb_kpi_state
                    .call(ARGUMENTS.iter().map(|a| col(*a)).collect())
                    .alias("state"),
                count(lit(1)).alias("rows"),
            ],
        )?
        .select(vec![
            col("tier"),
            col("channel"),
            col("rows"),
            sb_kpi_report
                .call(vec![col("state")])
                .field("service_level")
                .alias("sl_20s"),
        ])?
        .sort_by(vec![col("tier"), col("channel")])?;
    df.show().await?;
    println!("DataFrame: {:.2} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Writes 1 M generated records in 4 files, once, and returns the directory.
fn generate() -> Result<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/tmp/switchboard-datafusion-sql-example");
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(|t| std::path::PathBuf::from(t).join("tmp/switchboard-datafusion-sql-example"))
        .unwrap_or(dir);
    if !dir.join("part-3.parquet").exists() {
        std::fs::create_dir_all(&dir)?;
        let n = 1_000_000u64;
        for f in 0..4 {
            let rows = synthetic::records(1, n * f / 4..n * (f + 1) / 4);
            write_parquet(rows, &dir.join(format!("part-{f}.parquet")))?;
        }
        println!("wrote {n} generated records to {}", dir.display());
    }
    Ok(dir.to_string_lossy().into_owned())
}
