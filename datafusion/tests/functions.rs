//! The KPI functions on small inputs: stored daily states merged into a month, bad state
//! bytes, bad rows (failing or skipped and counted), argument checks, and the CSV path.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, RecordBatch, StructArray, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionConfig, SessionContext};
use switchboard::Millis;
use switchboard::kpi::{
    ConversationRecord, Ingest, IngestOptions, KpiAccumulator, KpiConfig, KpiError, SkipReason,
};
use switchboard_datafusion::{
    KpiOptions, KpiUdfError, argument_list, find_kpi_error, records_schema, records_to_batch,
    register_csv_records, register_kpi_functions, register_parquet_records, reports_to_struct,
    synthetic, write_parquet,
};

const DAY_MS: u64 = 86_400_000;

fn ctx(options: KpiOptions, partitions: usize) -> SessionContext {
    let ctx = SessionContext::new_with_config(
        SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(1_000),
    );
    register_kpi_functions(&ctx, options).expect("register");
    ctx
}

/// `records` as an in-memory table, split into `parts` partitions.
fn register_memory(ctx: &SessionContext, records: &[ConversationRecord], parts: usize) {
    let chunk = records.len().div_ceil(parts.max(1)).max(1);
    let partitions = records
        .chunks(chunk)
        .map(|c| vec![records_to_batch(c).expect("batch")])
        .collect();
    let table = MemTable::try_new(records_schema(), partitions).expect("table");
    ctx.register_table("records", Arc::new(table))
        .expect("register table");
}

async fn one_binary(ctx: &SessionContext, sql: &str) -> Result<Vec<u8>, DataFusionError> {
    let out = ctx.sql(sql).await?.collect().await?;
    let b = out.iter().find(|b| b.num_rows() > 0).expect("a row");
    Ok(b.column(0).as_binary::<i32>().value(0).to_vec())
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sb-df-functions")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir")
}

fn accumulate(records: &[ConversationRecord]) -> KpiAccumulator {
    let mut acc = KpiAccumulator::new(KpiConfig::default()).expect("config");
    for r in records {
        acc.push(r).expect("valid");
    }
    acc
}

/// Daily states computed, written to Parquet, read back and merged equal the month's state;
/// `sb_kpi_report` of the merged state equals the month's report.
#[tokio::test]
async fn daily_states_merge_into_the_month() {
    // About 4 days of asks at 250 ms spacing: 1.4 M rows would be 4 days; 200 k span 14 h,
    // so spread them with a wider index step.
    let records: Vec<ConversationRecord> = (0..40_000u64)
        .map(|i| synthetic::record(7, i * 9))
        .collect();
    let days: std::collections::BTreeSet<u64> =
        records.iter().map(|r| r.asked_at.0 / DAY_MS).collect();
    assert!(days.len() >= 2, "the data must span several days");
    let month = accumulate(&records);

    let dir = tempdir();
    write_parquet(records.iter().cloned(), &dir.path().join("month.parquet")).expect("write");
    let c = ctx(KpiOptions::default(), 4);
    register_parquet_records(&c, "records", dir.path().to_str().expect("utf-8"))
        .await
        .expect("register");
    let args = argument_list();
    let daily = c
        .sql(&format!(
            "SELECT CAST(asked_at AS BIGINT) / {DAY_MS} AS day, sb_kpi_state({args}) AS state \
             FROM records GROUP BY CAST(asked_at AS BIGINT) / {DAY_MS}"
        ))
        .await
        .expect("plan");
    let states_dir = dir.path().join("daily");
    daily
        .write_parquet(
            states_dir.to_str().expect("utf-8"),
            datafusion::dataframe::DataFrameWriteOptions::new(),
            None,
        )
        .await
        .expect("write daily states");
    c.register_parquet(
        "daily",
        states_dir.to_str().expect("utf-8"),
        Default::default(),
    )
    .await
    .expect("register daily");
    let n_days = c
        .sql("SELECT count(*) FROM daily")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("count");
    assert_eq!(
        n_days[0]
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0),
        days.len() as i64
    );

    let merged = one_binary(&c, "SELECT sb_kpi_merge(state) FROM daily")
        .await
        .expect("merge");
    assert!(
        merged == month.to_bytes(),
        "merged daily states differ from the month"
    );

    let out = c
        .sql("SELECT sb_kpi_report(sb_kpi_merge(state)) FROM daily")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("report");
    let got: &StructArray = out[0].column(0).as_struct();
    let expected = reports_to_struct(&[Some(month.report())]).expect("struct");
    assert_eq!(got, &expected);
    let json = got
        .column_by_name("report_json")
        .expect("report_json")
        .as_string::<i32>()
        .value(0);
    let back: switchboard::kpi::KpiReport = serde_json::from_str(json).expect("json report");
    assert_eq!(back.overall.offered, records.len() as u64);
}

fn states_table(ctx: &SessionContext, states: Vec<Option<Vec<u8>>>) {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "state",
        DataType::Binary,
        true,
    )]));
    let col: BinaryArray = states.iter().map(|s| s.as_deref()).collect();
    let batch =
        RecordBatch::try_new(schema.clone(), vec![Arc::new(col) as ArrayRef]).expect("batch");
    let table = MemTable::try_new(schema, vec![vec![batch]]).expect("table");
    ctx.register_table("states", Arc::new(table))
        .expect("register");
}

fn state_error(e: &DataFusionError) -> &KpiError {
    match find_kpi_error(e) {
        Some(KpiUdfError::State { source, .. }) => source,
        other => panic!("expected a state error, got {other:?} from {e}"),
    }
}

/// Bytes from another encoding version, truncated or not a state at all are refused with the
/// typed error, by the merge and by the report.
#[tokio::test]
async fn bad_state_bytes_are_refused() {
    let good = accumulate(&synthetic::records(1, 0..500).collect::<Vec<_>>()).to_bytes();
    let mut newer = good.clone();
    newer[4..6].copy_from_slice(&2u16.to_le_bytes());
    let truncated = good[..good.len() / 2].to_vec();
    type Check = fn(&KpiError) -> bool;
    let cases: [(Vec<u8>, Check); 3] = [
        (newer, |e| {
            matches!(
                e,
                KpiError::UnsupportedVersion {
                    found: 2,
                    supported: 1
                }
            )
        }),
        (truncated, |e| matches!(e, KpiError::Truncated { .. })),
        (b"not a state".to_vec(), |e| matches!(e, KpiError::BadMagic)),
    ];
    for (bytes, is_expected) in cases {
        for sql in [
            "SELECT sb_kpi_merge(state) FROM states",
            "SELECT sb_kpi_report(state) FROM states",
        ] {
            let c = ctx(KpiOptions::default(), 2);
            states_table(&c, vec![Some(good.clone()), Some(bytes.clone()), None]);
            let e = match c.sql(sql).await {
                Ok(df) => df.collect().await.expect_err("bad bytes must fail"),
                Err(e) => e,
            };
            let k = state_error(&e);
            assert!(is_expected(k), "{sql}: unexpected {k:?}");
            assert!(e.to_string().contains("state bytes refused"), "{e}");
        }
    }
    // Valid bytes with nulls around them are fine: nulls are skipped.
    let c = ctx(KpiOptions::default(), 2);
    states_table(&c, vec![None, Some(good.clone()), None]);
    let merged = one_binary(&c, "SELECT sb_kpi_merge(state) FROM states")
        .await
        .expect("merge");
    assert_eq!(merged, good);
}

/// States of another config do not merge silently.
#[tokio::test]
async fn states_of_different_configs_do_not_merge() {
    let records: Vec<_> = synthetic::records(2, 0..300).collect();
    let a = accumulate(&records).to_bytes();
    let mut other = KpiAccumulator::new(KpiConfig {
        service_level_thresholds: vec![Millis::from_secs(30)],
        ..KpiConfig::default()
    })
    .expect("config");
    for r in &records {
        other.push(r).expect("valid");
    }
    let c = ctx(KpiOptions::default(), 1);
    states_table(&c, vec![Some(a), Some(other.to_bytes())]);
    let e = one_binary(&c, "SELECT sb_kpi_merge(state) FROM states")
        .await
        .expect_err("configs differ");
    assert_eq!(state_error(&e), &KpiError::ConfigMismatch);
}

fn with_bad_row() -> (Vec<ConversationRecord>, ConversationRecord) {
    let mut records: Vec<_> = synthetic::records(3, 0..2_000).collect();
    let mut bad = records[1_234].clone();
    bad.conversation = switchboard::ConversationId(987_654);
    bad.first_response_at = Some(switchboard::Timestamp(bad.asked_at.0 - 500));
    records[1_234] = bad.clone();
    (records, bad)
}

/// A row that breaks a record rule fails the query with the Rust calculators' error, naming
/// the row's conversation_id and the field, with 1 and with several partitions.
#[tokio::test]
async fn an_invalid_row_fails_naming_it() {
    let (records, bad) = with_bad_row();
    let rust = bad.validate(1).expect_err("the row is invalid");
    for parts in [1, 3] {
        let c = ctx(KpiOptions::default(), parts);
        register_memory(&c, &records, parts);
        for f in ["sb_kpi", "sb_kpi_state"] {
            let e = c
                .sql(&format!("SELECT {f}({}) FROM records", argument_list()))
                .await
                .expect("plan")
                .collect()
                .await
                .expect_err("an invalid row");
            let Some(KpiUdfError::Row {
                function,
                conversation,
                source,
            }) = find_kpi_error(&e)
            else {
                panic!("expected a row error, got {e}");
            };
            assert_eq!(*function, f);
            assert_eq!(*conversation, Some(987_654));
            assert_eq!(source.field(), Some("first_response_at"));
            assert_eq!(source.skip_reason(), Some(SkipReason::BeforeAsk));
            // The same error as the Rust calculators, apart from the row number.
            let tail = |s: String| s.split_once(": ").map(|(_, t)| t.to_owned());
            assert_eq!(tail(source.to_string()), tail(rust.to_string()));
            let text = e.to_string();
            assert!(text.contains("conversation_id 987654"), "{text}");
            assert!(text.contains("is before the ask"), "{text}");
        }
    }
}

/// With skip_bad_rows the row is skipped and counted, exactly as `Ingest` does in memory.
#[tokio::test]
async fn skip_bad_rows_counts_them() {
    let (records, _) = with_bad_row();
    let mut records = records;
    let mut null_sat = records[10].clone();
    null_sat.satisfaction = Some(9);
    records[10] = null_sat;
    let mut ingest = Ingest::new(
        KpiConfig::default(),
        IngestOptions {
            skip_bad_rows: true,
            ..IngestOptions::default()
        },
    )
    .expect("config");
    for (i, r) in records.iter().enumerate() {
        ingest.push(i as u64 + 1, r).expect("skipped, not failed");
    }
    let expected = ingest.into_accumulator();
    assert_eq!(expected.skipped(SkipReason::BeforeAsk), 1);
    assert_eq!(expected.skipped(SkipReason::OutOfRange), 1);

    let options = KpiOptions {
        skip_bad_rows: true,
        ..KpiOptions::default()
    };
    for parts in [1, 4] {
        let c = ctx(options.clone(), parts);
        register_memory(&c, &records, parts);
        let args = argument_list();
        let state = one_binary(&c, &format!("SELECT sb_kpi_state({args}) FROM records"))
            .await
            .expect("skipped rows do not fail");
        assert!(state == expected.to_bytes(), "{parts} partition(s)");
        let out = c
            .sql(&format!(
                "SELECT get_field(k, 'skipped'), get_field(k, 'records') \
                 FROM (SELECT sb_kpi({args}) AS k FROM records)"
            ))
            .await
            .expect("plan")
            .collect()
            .await
            .expect("report");
        let col = |i: usize| {
            out[0]
                .column(i)
                .as_any()
                .downcast_ref::<UInt64Array>()
                .expect("u64")
                .value(0)
        };
        assert_eq!(col(0), 2);
        assert_eq!(col(1), records.len() as u64 - 2);
    }
}

/// A null in a required column is the Rust reader's parse error for that field; with skipping
/// it is counted as unparsable.
#[tokio::test]
async fn null_required_column_is_named() {
    let records: Vec<_> = synthetic::records(4, 0..100).collect();
    let batch = records_to_batch(&records).expect("batch");
    let mut cols = batch.columns().to_vec();
    let asked = batch
        .column(5)
        .as_primitive::<datafusion::arrow::datatypes::UInt64Type>();
    let with_null: UInt64Array = (0..asked.len())
        .map(|i| (i != 42).then(|| asked.value(i)))
        .collect();
    cols[5] = Arc::new(with_null);
    let mut fields: Vec<Field> = records_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[5] = fields[5].clone().with_nullable(true);
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols).expect("batch");
    let c = ctx(KpiOptions::default(), 1);
    c.register_table(
        "records",
        Arc::new(MemTable::try_new(schema.clone(), vec![vec![batch.clone()]]).expect("table")),
    )
    .expect("register");
    let e = one_binary(
        &c,
        &format!("SELECT sb_kpi_state({}) FROM records", argument_list()),
    )
    .await
    .expect_err("null asked_at");
    match find_kpi_error(&e) {
        Some(KpiUdfError::Row {
            conversation,
            source,
            ..
        }) => {
            assert_eq!(*conversation, Some(records[42].conversation.0));
            assert_eq!(source.field(), Some("asked_at"));
        }
        other => panic!("expected a row error, got {other:?}"),
    }
    let c = ctx(
        KpiOptions {
            skip_bad_rows: true,
            ..KpiOptions::default()
        },
        1,
    );
    c.register_table(
        "records",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]]).expect("table")),
    )
    .expect("register");
    let bytes = one_binary(
        &c,
        &format!("SELECT sb_kpi_state({}) FROM records", argument_list()),
    )
    .await
    .expect("skipped");
    let acc = KpiAccumulator::from_bytes(&bytes).expect("state");
    assert_eq!(acc.skipped(SkipReason::Unparsable), 1);
    assert_eq!(acc.records(), 99);
}

/// Wrong argument count or type is refused at planning, naming the argument.
#[tokio::test]
async fn arguments_are_checked() {
    let c = ctx(KpiOptions::default(), 1);
    register_memory(&c, &synthetic::records(5, 0..10).collect::<Vec<_>>(), 1);
    let e = c
        .sql("SELECT sb_kpi(conversation_id, channel) FROM records")
        .await
        .expect_err("two arguments");
    assert!(e.to_string().contains("takes 16 arguments"), "{e}");
    let args = argument_list().replace("asked_at", "tags");
    let e = c
        .sql(&format!("SELECT sb_kpi_state({args}) FROM records"))
        .await
        .expect_err("a string for asked_at");
    assert!(
        e.to_string()
            .contains("argument 6 `asked_at` must be an integer"),
        "{e}"
    );
    let e = c
        .sql("SELECT sb_kpi_merge(conversation_id) FROM records")
        .await
        .expect_err("not a state");
    assert!(e.to_string().contains("binary state"), "{e}");
    // An invalid config is refused when registering.
    let bad = KpiOptions {
        config: KpiConfig {
            service_level_thresholds: vec![],
            ..KpiConfig::default()
        },
        ..KpiOptions::default()
    };
    let e = register_kpi_functions(&SessionContext::new(), bad).expect_err("no thresholds");
    assert!(
        matches!(find_kpi_error(&e), Some(KpiUdfError::Config { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("service_level_thresholds"), "{e}");
}

/// Interchange CSV (as the Rust writer writes it, columns in any order, `route` for `queue`)
/// gives the same state as Parquet and as memory.
#[tokio::test]
async fn csv_and_parquet_give_the_same_state() {
    let mut records: Vec<_> = synthetic::records(6, 0..5_000).collect();
    for (i, r) in records.iter_mut().enumerate() {
        match i % 7 {
            0 => r.tags = vec!["billing".into(), "vip".into()],
            3 => r.tags = vec!["refund".into()],
            _ => {}
        }
    }
    let expected = accumulate(&records).to_bytes();
    let dir = tempdir();
    let csv = dir.path().join("records.csv");
    let file = std::fs::File::create(&csv).expect("create");
    switchboard::kpi::csv::write_records_csv(std::io::BufWriter::new(file), &records).expect("csv");
    let pq = dir.path().join("records.parquet");
    write_parquet(records.iter().cloned(), &pq).expect("parquet");

    let args = argument_list();
    let c = ctx(KpiOptions::default(), 3);
    register_csv_records(&c, "records", csv.to_str().expect("utf-8"))
        .await
        .expect("csv");
    let from_csv = one_binary(&c, &format!("SELECT sb_kpi_state({args}) FROM records"))
        .await
        .expect("csv query");
    assert!(from_csv == expected, "csv state differs");

    let c = ctx(KpiOptions::default(), 3);
    register_parquet_records(&c, "records", pq.to_str().expect("utf-8"))
        .await
        .expect("parquet");
    let from_pq = one_binary(&c, &format!("SELECT sb_kpi_state({args}) FROM records"))
        .await
        .expect("parquet query");
    assert!(from_pq == expected, "parquet state differs");
    let report = KpiAccumulator::from_bytes(&from_pq)
        .expect("state")
        .report();
    assert_eq!(report.overall.tags.len(), 3);

    // Without the optional `tags` argument, tags are not counted.
    let untagged: Vec<_> = records
        .iter()
        .cloned()
        .map(|mut r| {
            r.tags.clear();
            r
        })
        .collect();
    let no_tags = args.replace(", tags", "");
    let got = one_binary(&c, &format!("SELECT sb_kpi_state({no_tags}) FROM records"))
        .await
        .expect("16 arguments");
    assert!(
        got == accumulate(&untagged).to_bytes(),
        "state without tags differs"
    );

    // Reordered columns, `route` for `queue`, optional columns missing.
    let reordered = dir.path().join("reordered.csv");
    std::fs::write(
        &reordered,
        "asked_at,tier,route,conversation_id,channel,assigned_at\n\
         1000,1,3,1,0,4000\n\
         2000,2,,2,1,\n",
    )
    .expect("write");
    let c = ctx(KpiOptions::default(), 1);
    register_csv_records(&c, "records", reordered.to_str().expect("utf-8"))
        .await
        .expect("csv");
    let got = KpiAccumulator::from_bytes(
        &one_binary(&c, &format!("SELECT sb_kpi_state({args}) FROM records"))
            .await
            .expect("query"),
    )
    .expect("state");
    let report = got.report();
    assert_eq!(report.overall.offered, 2);
    assert_eq!(report.overall.answered, 1);
    assert_eq!(report.overall.wait.max, Some(Millis(3_000)));
    assert_eq!(report.by_queue.len(), 2);

    std::fs::write(
        &reordered,
        "asked_at,tier,conversation_id,color\n1,1,1,red\n",
    )
    .expect("write");
    let e = register_csv_records(&c, "bad", reordered.to_str().expect("utf-8"))
        .await
        .expect_err("unknown column");
    assert!(e.to_string().contains("unknown column `color`"), "{e}");
}

/// Simulated records take the same path as real ones: written as Parquet, their state in
/// DataFusion equals the accumulator fed the simulator's records directly.
#[tokio::test]
async fn simulated_records_through_parquet() {
    let scenario: switchboard::sim::scenario::Scenario =
        serde_json::from_str(include_str!("../../examples/scenarios/cx-team.json"))
            .expect("scenario");
    let report =
        switchboard::sim::report::simulate(&scenario, 1, true, &mut |_, _| {}).expect("simulate");
    let run = &report.runs[0];
    assert!(run.records.len() > 100, "the run kept its records");
    let expected = accumulate(&run.records).to_bytes();
    let dir = tempdir();
    let path = dir.path().join("sim.parquet");
    write_parquet(run.records.iter().cloned(), &path).expect("parquet");
    let c = ctx(KpiOptions::default(), 2);
    register_parquet_records(&c, "records", path.to_str().expect("utf-8"))
        .await
        .expect("register");
    let got = one_binary(
        &c,
        &format!("SELECT sb_kpi_state({}) FROM records", argument_list()),
    )
    .await
    .expect("query");
    assert!(got == expected, "simulated records differ after Parquet");
}
