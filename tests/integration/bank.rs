//! The Anonymous Bank converter (`kpi::bank`): clock skew keeps the call, zero-wait hang-ups
//! under each option, bad fields name the file, line and field, and the real January file
//! loses no call.

use switchboard::kpi::bank::{
    BankOptions, BankReader, BankRecords, COLUMNS, ZeroWaitHangUp, read_bank, read_file,
};
use switchboard::kpi::{Ingest, IngestOptions, KpiConfig, KpiError, Outcome, SkipReason};
use switchboard::{ChannelId, OperatorId, TierId, Timestamp};

/// The header line of the published files (tab-separated).
const HEADER: &str = "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver";

/// 1999-01-13 00:00 as ms since the epoch.
const JAN_13: u64 = 10_604 * 86_400_000;

fn hms(h: u64, m: u64, s: u64) -> u64 {
    (h * 3600 + m * 60 + s) * 1000
}

fn file(rows: &[&str]) -> String {
    let mut s = String::from(HEADER);
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

fn ingest(skip_bad_rows: bool) -> Ingest {
    let options = IngestOptions {
        skip_bad_rows,
        detect_duplicates: true,
        strict_order: false,
    };
    Ingest::new(KpiConfig::default(), options).expect("default config")
}

fn read(text: &str, zero_wait: ZeroWaitHangUp) -> Result<(BankRecords, Ingest), KpiError> {
    let mut ing = ingest(false);
    let options = BankOptions {
        zero_wait_hang_ups: zero_wait,
    };
    let got = read_bank(text.as_bytes(), options, &mut ing)?;
    Ok((got, ing))
}

#[test]
fn header_matches_the_columns() {
    assert_eq!(HEADER.split('\t').collect::<Vec<_>>(), COLUMNS);
}

/// January's line 637 and line 1273 (negative `vru_time` from clock skew), a regular call, and
/// a call crossing midnight: all kept, asked at the VRU exit.
#[test]
fn negative_vru_time_keeps_the_call() {
    let text = file(&[
        "AA0101\t33757\t33044546\t1\tPS\t990113\t15:46:01\t15:45:24\t-37\t15:45:24\t15:46:41\t77\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA0101\t34400\t48820351\t2\tPS\t990113\t15:46:49\t15:45:56\t-53\t15:45:56\t15:46:59\t63\tAGENT\t15:46:57\t15:53:31\t394\tDORIT",
        "AA0101\t34401\t0\t0\tNE\t990113\t16:00:00\t16:00:09\t9\t0:00:00\t0:00:00\t0\tAGENT\t16:00:08\t16:02:08\t120\tNO_SERVER",
        "AA0101\t34402\t0\t0\tPS\t990113\t23:59:50\t0:00:05\t15\t0:00:05\t0:00:35\t30\tAGENT\t0:00:34\t0:01:34\t60\tDORIT",
    ]);
    let (got, ing) = read(&text, ZeroWaitHangUp::default()).expect("no row is bad");
    let s = got.summary;
    assert_eq!((s.data_rows, s.converted, s.bad_rows), (4, 4, 0));
    assert_eq!(s.negative_vru_time, 2);
    assert_eq!(got.records.len(), 4);
    assert_eq!(ing.accumulator().records(), 4);

    let hang = &got.records[0];
    assert_eq!(hang.conversation.0, 2, "the line number is the id");
    assert_eq!(
        hang.asked_at,
        Timestamp(JAN_13 + hms(15, 45, 24)),
        "asked at the VRU exit"
    );
    assert_eq!(hang.abandoned_at, Some(Timestamp(JAN_13 + hms(15, 46, 41))));
    assert_eq!(hang.outcome(), Outcome::Abandoned);
    assert_eq!(hang.tier, TierId(1));

    let served = &got.records[1];
    assert_eq!(served.asked_at, Timestamp(JAN_13 + hms(15, 45, 56)));
    assert_eq!(
        served.assigned_at,
        Some(Timestamp(JAN_13 + hms(15, 46, 59)))
    );
    assert_eq!(served.first_response_at, served.assigned_at);
    assert_eq!(
        served.resolved_at,
        Some(Timestamp(JAN_13 + hms(15, 46, 59) + 394_000))
    );
    assert_eq!(served.operator, Some(OperatorId(1)));
    assert_eq!((served.tier, served.channel), (TierId(2), ChannelId(0)));

    let unqueued = &got.records[2];
    assert_eq!(
        unqueued.assigned_at,
        Some(unqueued.asked_at),
        "no queue: no wait"
    );
    assert_eq!((unqueued.operator, unqueued.channel), (None, ChannelId(3)));

    let midnight = &got.records[3];
    assert_eq!(midnight.asked_at, Timestamp(JAN_13 + hms(24, 0, 5)));
    assert_eq!(
        midnight.operator,
        Some(OperatorId(1)),
        "same server, same id"
    );
    assert_eq!(got.operators, ["DORIT"]);

    let report = ing.accumulator().report();
    assert_eq!(
        (
            report.overall.offered,
            report.overall.answered,
            report.overall.abandoned
        ),
        (4, 3, 1)
    );
    assert_eq!(report.overall.wait.max.map(|m| m.0), Some(63_000));
}

/// A hang-up that reached the queue and left within the second, next to a hang-up in the VRU,
/// a PHANTOM line and a served call.
#[test]
fn zero_wait_hang_up_under_each_option() {
    let text = file(&[
        "AA0101\t33314\t0\t0\tNW\t990113\t18:23:45\t18:23:54\t9\t18:23:54\t18:23:54\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA0101\t33117\t0\t0\tPS\t990113\t0:34:12\t0:34:23\t11\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA0101\t33118\t0\t0\tPS\t990113\t1:00:00\t1:00:10\t10\t0:00:00\t0:00:00\t0\tPHANTOM\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA0101\t33119\t0\t2\tPS\t990113\t9:00:00\t9:00:06\t6\t9:00:06\t9:00:16\t10\tAGENT\t9:00:16\t9:01:16\t60\tTOVA",
    ]);
    assert_eq!(
        BankOptions::default().zero_wait_hang_ups,
        ZeroWaitHangUp::Abandoned
    );

    let (got, ing) = read(&text, ZeroWaitHangUp::Abandoned).expect("clean");
    let s = got.summary;
    assert_eq!((s.data_rows, s.converted), (4, 2));
    assert_eq!((s.phantom, s.hung_up_in_vru), (1, 1));
    assert_eq!((s.zero_wait_abandoned, s.zero_wait_not_offered), (1, 0));
    let zero = &got.records[0];
    assert_eq!(zero.asked_at, Timestamp(JAN_13 + hms(18, 23, 54)));
    assert_eq!(zero.abandoned_at, Some(zero.asked_at), "abandoned at 0 s");
    assert_eq!(zero.channel, ChannelId(4));
    let o = ing.accumulator().report().overall;
    assert_eq!((o.offered, o.answered, o.abandoned), (2, 1, 1));
    assert_eq!(o.abandonment.per_offered.percent(), Some(50.0));

    let (got, ing) = read(&text, ZeroWaitHangUp::NotOffered).expect("clean");
    let s = got.summary;
    assert_eq!((s.data_rows, s.converted), (4, 1));
    assert_eq!((s.phantom, s.hung_up_in_vru), (1, 1));
    assert_eq!((s.zero_wait_abandoned, s.zero_wait_not_offered), (0, 1));
    assert_eq!(got.records[0].operator, Some(OperatorId(1)));
    let o = ing.accumulator().report().overall;
    assert_eq!((o.offered, o.answered, o.abandoned), (1, 1, 0));
    assert_eq!(o.abandonment.per_offered.percent(), Some(0.0));

    // Every data line is accounted for under either option.
    for z in [ZeroWaitHangUp::Abandoned, ZeroWaitHangUp::NotOffered] {
        let s = read(&text, z).expect("clean").0.summary;
        assert_eq!(
            s.data_rows,
            s.converted + s.phantom + s.hung_up_in_vru + s.zero_wait_not_offered + s.bad_rows,
            "{z:?}"
        );
    }
}

#[test]
fn bad_fields_name_file_line_and_field() {
    let good = "AA0101\t1\t0\t1\tPS\t990113\t9:00:00\t9:00:06\t6\t9:00:06\t9:00:16\t10\tAGENT\t9:00:16\t9:01:16\t60\tTOVA";
    let bad_q_time = "AA0101\t2\t0\t1\tPS\t990113\t9:10:00\t9:10:06\t6\t9:10:06\t9:10:16\t1O\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER";
    let bad_vru_time = "AA0101\t3\t0\t1\tPS\t990113\t9:20:00\t9:20:06\t6s\t9:20:06\t9:20:16\t10\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER";
    let short = "AA0101\t4\t0\t1\tPS\t990113\t9:30:00";
    // Fields the KPIs do not read hold junk (the collectors' own sample shows a customer id as
    // 3.06E+08): the call is kept.
    let junk_unused = "AA01??\tx\t3.06E+08\t1\tPS\t990113\t9:40:00\t??\t6\t9:40:06\tnever\t10\tAGENT\t-\t-\t60\tTOVA";
    let text = file(&[good, bad_q_time, "", bad_vru_time, short, junk_unused]);

    match read(&text, ZeroWaitHangUp::default()) {
        Err(KpiError::Parse {
            line: 3,
            field: "q_time",
            value,
            ..
        }) => assert_eq!(value, "1O"),
        other => panic!("{other:?}"),
    }

    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bank_bad_fields.txt");
    std::fs::write(&path, &text).expect("write temp file");
    let mut ing = ingest(false);
    let e = read_file(&path, BankOptions::default(), &mut ing).expect_err("line 3 is bad");
    assert_eq!((e.line(), e.field()), (Some(3), Some("q_time")));
    let msg = e.to_string();
    assert!(
        msg.contains("bank_bad_fields.txt") && msg.contains("line 3"),
        "{msg}"
    );
    assert!(msg.contains("`q_time`") && msg.contains("\"1O\""), "{msg}");

    // Skipping bad rows: each is counted under its reason and the rest is kept.
    let mut ing = ingest(true);
    let got = read_file(&path, BankOptions::default(), &mut ing).expect("skipping");
    let s = got.summary;
    assert_eq!((s.data_rows, s.converted, s.bad_rows), (5, 2, 3));
    assert_eq!(got.records.len(), 2);
    assert_eq!(got.records[1].conversation.0, 7, "the junk line is kept");
    let acc = ing.accumulator();
    assert_eq!(acc.skipped(SkipReason::Unparsable), 2);
    assert_eq!(acc.skipped(SkipReason::Malformed), 1);
    let fields: Vec<_> = ing
        .skipped_examples()
        .iter()
        .map(|e| (e.line(), e.field()))
        .collect();
    assert_eq!(
        fields,
        [
            (Some(3), Some("q_time")),
            (Some(5), Some("vru_time")),
            (Some(6), None)
        ]
    );
    std::fs::remove_file(&path).ok();

    let missing = read_file(
        path.with_file_name("no_such_bank_file.txt"),
        BankOptions::default(),
        &mut ingest(false),
    )
    .expect_err("no file");
    assert!(matches!(missing.error, KpiError::Io { .. }));
    assert!(missing.to_string().contains("no_such_bank_file.txt"));

    // A file that is not in the bank format fails on its header.
    let csv = "conversation_id,channel,tier,asked_at\n1,1,1,1000\n";
    assert!(matches!(
        BankReader::new(csv.as_bytes(), BankOptions::default()),
        Err(KpiError::FieldCount { line: 1, .. })
    ));
    let renamed = HEADER.replace("q_time", "queue_time");
    assert!(matches!(
        BankReader::new(renamed.as_bytes(), BankOptions::default()),
        Err(KpiError::UnknownColumn { column }) if column == "queue_time"
    ));
    assert!(matches!(
        BankReader::new(&b""[..], BankOptions::default()),
        Err(KpiError::EmptyInput)
    ));
}

/// Counts of the January file made by plain string handling, independent of the converter.
struct Census {
    data_rows: u64,
    phantom: u64,
    hung_up_in_vru: u64,
    zero_wait: u64,
    negative_vru_time: u64,
}

fn census(text: &str) -> Census {
    let mut c = Census {
        data_rows: 0,
        phantom: 0,
        hung_up_in_vru: 0,
        zero_wait: 0,
        negative_vru_time: 0,
    };
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        c.data_rows += 1;
        let f: Vec<&str> = line.split_whitespace().collect();
        if f[12] == "PHANTOM" {
            c.phantom += 1;
            continue;
        }
        if f[8].starts_with('-') {
            c.negative_vru_time += 1;
        }
        if f[12] == "HANG" && f[11] == "0" {
            if f[9] == "0:00:00" {
                c.hung_up_in_vru += 1;
            } else {
                c.zero_wait += 1;
            }
        }
    }
    c
}

/// Reads the real January 1999 file if it is next to the repository (a published crate does
/// not ship it): no call is lost but for the documented exclusions, without skipping bad rows.
#[test]
fn january_file_keeps_every_call() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/anonymous-bank-1999");
    let path = dir.join("anonymous_bank_1999-01_january.txt");
    if !dir.is_dir() {
        println!("skipped: {} is absent", dir.display());
        return;
    }
    let text = std::fs::read_to_string(&path).expect("the January file reads");
    let c = census(&text);
    assert_eq!(c.data_rows, 31_599, "the published January file");
    assert_eq!(c.negative_vru_time, 32);

    for z in [ZeroWaitHangUp::Abandoned, ZeroWaitHangUp::NotOffered] {
        let mut ing = ingest(false);
        let options = BankOptions {
            zero_wait_hang_ups: z,
        };
        let got: BankRecords = read_file(&path, options, &mut ing)
            .unwrap_or_else(|e| panic!("{z:?}: no row may fail: {e}"));
        let s = got.summary;
        let excluded = if z == ZeroWaitHangUp::NotOffered {
            c.zero_wait
        } else {
            0
        };
        let expected = c.data_rows - c.phantom - c.hung_up_in_vru - excluded;
        assert_eq!(s.bad_rows, 0);
        assert_eq!(s.data_rows, c.data_rows);
        assert_eq!((s.phantom, s.hung_up_in_vru), (c.phantom, c.hung_up_in_vru));
        assert_eq!(s.zero_wait_abandoned + s.zero_wait_not_offered, c.zero_wait);
        assert_eq!(s.negative_vru_time, c.negative_vru_time);
        assert_eq!(s.converted, expected, "{z:?}");
        assert_eq!(
            got.records.len() as u64,
            expected,
            "{z:?}: the ingest kept them all"
        );
        let report = ing.accumulator().report();
        assert_eq!(report.records, expected);
        assert_eq!(report.skipped, 0);
        let o = &report.overall;
        assert_eq!(o.offered, expected);
        assert_eq!(
            o.answered + o.abandoned,
            o.offered,
            "every call answered or abandoned"
        );
    }
}
