//! The KPI breakdown by queue (issue 19) and the interchange CSV's queue column: figures
//! computed by hand for a small record set, the accumulator's bytes and merges with queues,
//! and CSV round trips with and without the column, its `route` alias and bad values.

use std::collections::BTreeMap;

use switchboard::kpi::csv::{
    COLUMNS, CsvReader, QUEUE_ALIAS, QUEUE_COLUMN, RecordCsvWriter, read_csv, write_records_csv,
};
use switchboard::kpi::{
    Activity, ConversationRecord, Ingest, IngestOptions, KpiAccumulator, KpiConfig, KpiError,
    StatusInterval,
};
use switchboard::{ChannelId, ConversationId, Millis, OperatorId, QueueId, TierId, Timestamp};

const VIP: QueueId = QueueId(1);
const GENERAL: QueueId = QueueId(2);

fn rec(id: u64, queue: Option<QueueId>, ask: u64) -> ConversationRecord {
    let mut r =
        ConversationRecord::new(ConversationId(id), ChannelId(1), TierId(1), Timestamp(ask));
    r.queue = queue;
    r
}

/// Five requests, SL threshold 20 s:
/// - 1, default queue: asked 0, assigned 10 s, resolved 100 s (wait 10 s).
/// - 2, VIP: asked 1 s, assigned 31 s (wait 30 s), resolved 91 s (handle 60 s).
/// - 3, VIP: asked 2 s, abandoned 7 s.
/// - 4, general: asked 3 s, assigned 8 s (wait 5 s), first response 9 s (FRT 6 s), resolved
///   20 s (handle 12 s).
/// - 5, VIP: asked 4 s, assigned 14 s (wait 10 s), still open.
fn records() -> Vec<ConversationRecord> {
    let mut r1 = rec(1, None, 0);
    r1.operator = Some(OperatorId(7));
    r1.assigned_at = Some(Timestamp(10_000));
    r1.resolved_at = Some(Timestamp(100_000));
    let mut r2 = rec(2, Some(VIP), 1_000);
    r2.operator = Some(OperatorId(7));
    r2.assigned_at = Some(Timestamp(31_000));
    r2.resolved_at = Some(Timestamp(91_000));
    let mut r3 = rec(3, Some(VIP), 2_000);
    r3.abandoned_at = Some(Timestamp(7_000));
    let mut r4 = rec(4, Some(GENERAL), 3_000);
    r4.operator = Some(OperatorId(8));
    r4.assigned_at = Some(Timestamp(8_000));
    r4.first_response_at = Some(Timestamp(9_000));
    r4.resolved_at = Some(Timestamp(20_000));
    r4.tags = vec!["refund".into()];
    let mut r5 = rec(5, Some(VIP), 4_000);
    r5.operator = Some(OperatorId(8));
    r5.assigned_at = Some(Timestamp(14_000));
    vec![r1, r2, r3, r4, r5]
}

fn config() -> KpiConfig {
    KpiConfig {
        service_level_thresholds: vec![Millis::from_secs(20)],
        ..KpiConfig::default()
    }
}

fn accumulate(recs: &[ConversationRecord]) -> KpiAccumulator {
    let mut acc = KpiAccumulator::new(config()).expect("config");
    for r in recs {
        acc.push(r).expect("valid record");
    }
    acc
}

#[test]
fn per_queue_figures_match_the_hand_computation() {
    let rep = accumulate(&records()).report();
    assert!(rep.has_queues());
    assert_eq!(
        rep.by_queue.keys().copied().collect::<Vec<_>>(),
        vec![None, Some(VIP), Some(GENERAL)],
        "the default queue first, then by id"
    );

    let default = &rep.by_queue[&None];
    assert_eq!(
        (default.offered, default.answered, default.abandoned),
        (1, 1, 0)
    );
    assert_eq!(default.wait.mean_ms, Some(10_000.0));
    assert_eq!(default.handled, 1);
    assert_eq!(default.service_levels[0].default.ratio, Some(1.0));

    let vip = &rep.by_queue[&Some(VIP)];
    assert_eq!((vip.offered, vip.answered, vip.abandoned), (3, 2, 1));
    // ASA = (30 s + 10 s) / 2; only request 2 was resolved.
    assert_eq!(vip.wait.mean_ms, Some(20_000.0));
    assert_eq!(vip.wait.max, Some(Millis(30_000)));
    assert_eq!(vip.handled, 1);
    assert_eq!(vip.handle.mean_ms, Some(60_000.0));
    // SL 20 s: one answer (10 s) within, over answered + abandoned = 3.
    assert_eq!(vip.service_levels[0].answered_within, 1);
    assert_eq!(
        (
            vip.service_levels[0].default.numerator,
            vip.service_levels[0].default.denominator
        ),
        (1, 3)
    );
    assert_eq!(vip.abandonment.per_offered.ratio, Some(1.0 / 3.0));
    assert_eq!(vip.response_rate.ratio, Some(2.0 / 3.0));
    assert_eq!(vip.time_to_abandon.mean_ms, Some(5_000.0));
    assert_eq!(vip.pending, 0);

    let general = &rep.by_queue[&Some(GENERAL)];
    assert_eq!((general.offered, general.answered), (1, 1));
    assert_eq!(general.wait.mean_ms, Some(5_000.0));
    assert_eq!(general.first_response.mean_ms, Some(6_000.0));
    assert_eq!(general.handle.mean_ms, Some(12_000.0));
    assert_eq!(general.tags.len(), 1);
    assert!(vip.tags.is_empty());

    // Every record is in exactly one queue.
    let sum = |f: fn(&switchboard::kpi::KpiStats) -> u64| rep.by_queue.values().map(f).sum::<u64>();
    assert_eq!(sum(|s| s.offered), rep.overall.offered);
    assert_eq!(sum(|s| s.answered), rep.overall.answered);
    assert_eq!(sum(|s| s.abandoned), rep.overall.abandoned);
    assert_eq!(sum(|s| s.handled), rep.overall.handled);
    assert_eq!(rep.overall.wait.mean_ms, Some(13_750.0)); // (10 + 30 + 5 + 10) / 4
}

#[test]
fn queues_survive_bytes_and_merges() {
    let recs = records();
    let mut whole = accumulate(&recs);
    whole
        .push_status(&StatusInterval {
            operator: OperatorId(7),
            status: Activity::Busy,
            start: Timestamp(0),
            end: Timestamp(60_000),
        })
        .expect("interval");
    let back = KpiAccumulator::from_bytes(&whole.to_bytes()).expect("decode");
    assert_eq!(back, whole);
    assert_eq!(back.report(), whole.report());
    // Any split merges back to the same state, queues included.
    let mut a = accumulate(&recs[..2]);
    let b = accumulate(&recs[2..]);
    a.merge(&b).expect("same config");
    a.push_status(&StatusInterval {
        operator: OperatorId(7),
        status: Activity::Busy,
        start: Timestamp(0),
        end: Timestamp(60_000),
    })
    .expect("interval");
    assert_eq!(a.to_bytes(), whole.to_bytes());
    assert_eq!(a.report().by_queue, whole.report().by_queue);
}

#[test]
fn without_queues_everything_is_the_default_queue_and_bytes_are_unchanged() {
    let recs: Vec<_> = records()
        .into_iter()
        .map(|mut r| {
            r.queue = None;
            r
        })
        .collect();
    let mut acc = accumulate(&recs);
    acc.push_status(&StatusInterval {
        operator: OperatorId(8),
        status: Activity::Idle,
        start: Timestamp(0),
        end: Timestamp(30_000),
    })
    .expect("interval");
    let rep = acc.report();
    assert!(!rep.has_queues());
    assert_eq!(rep.by_queue.len(), 1);
    let default = &rep.by_queue[&None];
    // The overall figures, without the operators' status time (not a queue's).
    let mut overall = rep.overall.clone();
    overall.occupancy = Default::default();
    assert_eq!(default, &overall);
    // No queue section: the bytes end with the operator map, as before queues; decoding
    // rebuilds the default queue.
    let bytes = acc.to_bytes();
    assert!(!bytes.windows(4).any(|w| w == b"SBKQ"));
    let back = KpiAccumulator::from_bytes(&bytes).expect("decode");
    assert_eq!(back.report(), rep);
    // Status intervals alone make no queue.
    let mut idle = KpiAccumulator::new(config()).expect("config");
    idle.push_status(&StatusInterval {
        operator: OperatorId(8),
        status: Activity::Idle,
        start: Timestamp(0),
        end: Timestamp(30_000),
    })
    .expect("interval");
    assert!(idle.report().by_queue.is_empty());
    let back = KpiAccumulator::from_bytes(&idle.to_bytes()).expect("decode");
    assert!(back.report().by_queue.is_empty());
}

#[test]
fn report_json_carries_the_default_queue() {
    let rep = accumulate(&records()).report();
    let text = serde_json::to_string(&rep).expect("a report serialises");
    let back: switchboard::kpi::KpiReport = serde_json::from_str(&text).expect("and reads back");
    assert_eq!(
        back.by_queue.keys().collect::<Vec<_>>(),
        rep.by_queue.keys().collect::<Vec<_>>()
    );
    assert_eq!(back.by_queue[&Some(VIP)].offered, 3);
}

fn read_all(text: &str) -> Result<Vec<ConversationRecord>, KpiError> {
    let mut r = CsvReader::new(text.as_bytes())?;
    let mut out = Vec::new();
    while let Some((_, rec)) = r.read_record()? {
        out.push(rec);
    }
    Ok(out)
}

#[test]
fn csv_round_trip_with_the_queue_column() {
    let recs = records();
    let bytes = write_records_csv(Vec::new(), &recs).expect("written");
    let text = String::from_utf8(bytes).expect("utf-8");
    let header = text.lines().next().expect("header");
    assert_eq!(header, format!("{},{QUEUE_COLUMN}", COLUMNS.join(",")));
    assert!(
        text.lines().nth(1).expect("row 1").ends_with(','),
        "default queue is empty"
    );
    assert!(text.lines().nth(2).expect("row 2").ends_with(",1"));
    assert!(
        CsvReader::new(text.as_bytes())
            .expect("header")
            .has_queue_column()
    );
    assert_eq!(read_all(&text).expect("reads back"), recs);
    // Through an ingest, the per-queue figures are the same as from the records.
    let mut ingest = Ingest::new(config(), IngestOptions::default()).expect("config");
    read_csv(text.as_bytes(), &mut ingest).expect("reads");
    assert_eq!(
        ingest.into_accumulator().report().by_queue,
        accumulate(&recs).report().by_queue
    );
}

#[test]
fn csv_without_queues_is_written_and_read_as_before() {
    let recs: Vec<_> = records()
        .into_iter()
        .map(|mut r| {
            r.queue = None;
            r
        })
        .collect();
    let bytes = write_records_csv(Vec::new(), &recs).expect("written");
    let mut plain = RecordCsvWriter::new(Vec::new()).expect("header");
    for r in &recs {
        plain.write(r).expect("row");
    }
    assert_eq!(bytes, plain.finish().expect("flush"), "no queue column");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(text.lines().next(), Some(COLUMNS.join(",").as_str()));
    assert!(
        !CsvReader::new(text.as_bytes())
            .expect("header")
            .has_queue_column()
    );
    let back = read_all(&text).expect("reads back");
    assert_eq!(back, recs);
    assert!(back.iter().all(|r| r.queue.is_none()));
}

#[test]
fn a_writer_without_the_column_refuses_a_queued_record() {
    let mut w = RecordCsvWriter::new(Vec::new()).expect("header");
    let e = w
        .write(&rec(9, Some(VIP), 0))
        .expect_err("would lose the queue");
    assert!(matches!(
        e,
        KpiError::Unwritable {
            conversation: ConversationId(9),
            field: "queue",
            ..
        }
    ));
    let mut w = RecordCsvWriter::with_queue_column(Vec::new()).expect("header");
    w.write(&rec(9, Some(VIP), 0)).expect("written");
    w.write(&rec(10, None, 1)).expect("written");
    let text = String::from_utf8(w.finish().expect("flush")).expect("utf-8");
    let back = read_all(&text).expect("reads back");
    assert_eq!(
        back.iter().map(|r| r.queue).collect::<Vec<_>>(),
        vec![Some(VIP), None]
    );
}

#[test]
fn route_is_an_alias_of_queue() {
    let text = format!(
        "conversation_id,channel,tier,asked_at,{QUEUE_ALIAS}\n1,0,0,5,3\n2,0,0,6,\n3,0,0,7, 4 \n"
    );
    let back = read_all(&text).expect("reads");
    assert_eq!(
        back.iter().map(|r| r.queue).collect::<Vec<_>>(),
        vec![Some(QueueId(3)), None, Some(QueueId(4))]
    );
    // Both names at once are one column twice.
    let e = CsvReader::new("conversation_id,channel,tier,asked_at,queue,route\n".as_bytes())
        .expect_err("repeated column");
    assert!(
        matches!(e, KpiError::DuplicateColumn { column: "route" }),
        "{e:?}"
    );
}

#[test]
fn a_bad_queue_value_names_its_line_and_column() {
    let text = "conversation_id,channel,tier,asked_at,route\n1,0,0,5,2\n2,0,0,6,vip\n";
    let mut r = CsvReader::new(text.as_bytes()).expect("header");
    assert_eq!(
        r.read_record().expect("row 2").map(|(l, x)| (l, x.queue)),
        Some((2, Some(QueueId(2))))
    );
    let e = r.read_record().expect_err("not a queue id");
    assert!(
        matches!(
            &e,
            KpiError::Parse { line: 3, field: "route", value, .. } if value == "vip"
        ),
        "{e:?}"
    );
    assert_eq!(e.line(), Some(3));
    assert!(e.to_string().contains("line 3: field `route`"), "{e}");

    let text = "conversation_id,channel,tier,asked_at,queue\n1,0,0,5,4294967296\n";
    let e = read_all(text).expect_err("beyond u32");
    assert!(
        matches!(
            &e,
            KpiError::Parse {
                line: 2,
                field: "queue",
                ..
            }
        ),
        "{e:?}"
    );
    // Skipped like any unparsable row when asked to.
    let text = "conversation_id,channel,tier,asked_at,queue\n1,0,0,5,-1\n2,0,0,6,1\n";
    let mut ingest = Ingest::new(
        config(),
        IngestOptions {
            skip_bad_rows: true,
            ..IngestOptions::default()
        },
    )
    .expect("config");
    read_csv(text.as_bytes(), &mut ingest).expect("bad row skipped");
    let rep = ingest.into_accumulator().report();
    assert_eq!(rep.skipped, 1);
    let offered: BTreeMap<_, _> = rep.by_queue.iter().map(|(q, s)| (*q, s.offered)).collect();
    assert_eq!(offered, BTreeMap::from([(Some(QueueId(1)), 1)]));
}
