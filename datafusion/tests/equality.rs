//! The DataFusion result equals the in-memory accumulator's, byte for byte, over a generated
//! data set in several Parquet files, with 1 partition and with 8.
//!
//! Size: `SB_DF_ROWS` rows (default 10,000,000 in release builds, 200,000 in debug builds,
//! where DataFusion is too slow for 10 M within a test's time), in 5 files.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StructArray};
use datafusion::arrow::datatypes::UInt32Type;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use switchboard::kpi::{KpiAccumulator, KpiConfig};
use switchboard_datafusion::{
    KpiOptions, argument_list, register_kpi_functions, register_parquet_records, reports_to_struct,
    synthetic, write_parquet,
};

const SEED: u64 = 24;
const FILES: u64 = 5;

fn rows() -> u64 {
    let default = if cfg!(debug_assertions) {
        200_000
    } else {
        10_000_000
    };
    std::env::var("SB_DF_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The partitions of the plan's scans: proof that the query really ran split `n` ways.
fn scan_partitions(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let children = plan.children();
    if children.is_empty() {
        plan.properties().output_partitioning().partition_count()
    } else {
        children
            .iter()
            .map(|c| scan_partitions(c))
            .max()
            .unwrap_or(0)
    }
}

async fn run(ctx: &SessionContext, sql: &str, partitions: usize) -> Vec<RecordBatch> {
    let df = ctx.sql(sql).await.expect("plan");
    let plan = df
        .clone()
        .create_physical_plan()
        .await
        .expect("physical plan");
    assert_eq!(
        scan_partitions(&plan),
        partitions,
        "the scan did not run on {partitions} partitions"
    );
    df.collect().await.expect("query")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_equals_in_memory_byte_for_byte() {
    let n = rows();
    let dir = tempfile::Builder::new()
        .prefix("sb-df-equality")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");

    // Write the files and feed the same rows to the in-memory accumulators on the way.
    let t = Instant::now();
    let mut all = KpiAccumulator::new(KpiConfig::default()).expect("config");
    let mut groups: BTreeMap<(u32, u32), KpiAccumulator> = BTreeMap::new();
    for f in 0..FILES {
        let range = n * f / FILES..n * (f + 1) / FILES;
        let rows = synthetic::records(SEED, range).inspect(|r| {
            all.push(r).expect("generated rows are valid");
            groups
                .entry((r.tier.0, r.channel.0))
                .or_insert_with(|| KpiAccumulator::new(KpiConfig::default()).expect("config"))
                .push(r)
                .expect("generated rows are valid");
        });
        write_parquet(rows, &dir.path().join(format!("part-{f}.parquet"))).expect("write");
    }
    assert_eq!(all.records(), n);
    let report = all.report();
    assert!(report.overall.answered > 0 && report.overall.abandoned > 0);
    assert!(report.overall.messages_left > 0 && report.overall.pending > 0);
    assert!(report.overall.unanswered_after_assign > 0 && report.overall.closed_unassigned > 0);
    eprintln!(
        "generated {n} rows in {FILES} Parquet files and the in-memory pass: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let expected_bytes = all.to_bytes();
    let expected_struct = reports_to_struct(&[Some(report)]).expect("struct");

    let args = argument_list();
    // With 1 partition DataFusion aggregates in one step; with 8 every partition builds a
    // partial state and merge_batch combines the bytes.
    for partitions in [1, 8] {
        let ctx = SessionContext::new_with_config(
            SessionConfig::new()
                .with_target_partitions(partitions)
                .with_repartition_file_min_size(0),
        );
        register_kpi_functions(&ctx, KpiOptions::default()).expect("register");
        register_parquet_records(&ctx, "records", path(dir.path()))
            .await
            .expect("register parquet");

        let t = Instant::now();
        let out = run(
            &ctx,
            &format!("SELECT sb_kpi_state({args}) AS s, sb_kpi({args}) AS k FROM records"),
            partitions,
        )
        .await;
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "{partitions} partition(s): sb_kpi_state + sb_kpi over {n} rows in {secs:.2} s ({:.1} M rows/s)",
            n as f64 / secs / 1e6
        );
        assert_eq!(out.len(), 1);
        let state = out[0].column(0).as_binary::<i32>();
        assert_eq!(state.len(), 1);
        assert!(
            state.value(0) == expected_bytes.as_slice(),
            "{partitions} partition(s): state bytes differ from the in-memory accumulator's"
        );
        let kpi: &StructArray = out[0].column(1).as_struct();
        assert_eq!(
            kpi, &expected_struct,
            "{partitions} partition(s): report differs"
        );

        let t = Instant::now();
        let out = run(
            &ctx,
            &format!(
                "SELECT tier, channel, sb_kpi_state({args}) AS s FROM records \
                 GROUP BY tier, channel ORDER BY tier, channel"
            ),
            partitions,
        )
        .await;
        eprintln!(
            "{partitions} partition(s): GROUP BY tier, channel in {:.2} s",
            t.elapsed().as_secs_f64()
        );
        let mut got = BTreeMap::new();
        for b in &out {
            let (tier, channel) = (
                b.column(0).as_primitive::<UInt32Type>(),
                b.column(1).as_primitive::<UInt32Type>(),
            );
            let s = b.column(2).as_binary::<i32>();
            for i in 0..b.num_rows() {
                got.insert((tier.value(i), channel.value(i)), s.value(i).to_vec());
            }
        }
        assert_eq!(got.len(), groups.len());
        for (key, acc) in &groups {
            assert!(
                got.get(key).map(Vec::as_slice) == Some(acc.to_bytes().as_slice()),
                "{partitions} partition(s): group {key:?} differs"
            );
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}
