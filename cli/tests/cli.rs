//! Runs the built `switchboard` binary on small inputs and checks its output against the
//! library it drives.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use switchboard::kpi::csv::{OPERATOR_COLUMNS, read_csv};
use switchboard::kpi::{Ingest, IngestOptions, KpiConfig};
use switchboard::staffing::{ErlangA, ServiceTarget, Workload, operators_needed};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/data/sample.csv");
const CX_TEAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/scenarios/cx-team.json"
);

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .output()
        .expect("the switchboard binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and expects success; returns stdout.
fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "switchboard {args:?} failed: {}",
        stderr(&o)
    );
    stdout(&o)
}

fn json(args: &[&str]) -> Value {
    let out = ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("switchboard-cli-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write temp file");
        path.to_string_lossy().into_owned()
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn kpi_on_the_sample_matches_the_library() {
    let mut ingest = Ingest::new(
        KpiConfig::default(),
        IngestOptions {
            skip_bad_rows: false,
            detect_duplicates: true,
            strict_order: false,
        },
    )
    .unwrap();
    read_csv(
        std::io::BufReader::new(std::fs::File::open(SAMPLE).unwrap()),
        &mut ingest,
    )
    .unwrap();
    let want = ingest.accumulator().report();

    let v = json(&["kpi", SAMPLE, "--json"]);
    let overall = &v["report"]["overall"];
    assert_eq!(overall["offered"], want.overall.offered);
    assert_eq!(overall["answered"], want.overall.answered);
    assert_eq!(overall["abandoned"], want.overall.abandoned);
    assert_eq!(
        overall["service_levels"][0]["default"]["numerator"],
        want.overall.service_levels[0].default.numerator
    );
    assert_eq!(v["files"][0]["records"], want.records);

    let text = ok(&["kpi", SAMPLE]);
    assert!(text.contains("OVERALL"), "{text}");
    assert!(text.contains("tier #1"), "{text}");
    assert!(text.contains("operator #101"), "{text}");
}

#[test]
fn kpi_names_tiers_and_channels_from_a_policy() {
    // The CX-team scenario's policy: tiers 1..4 Enterprise, Large, SMB, Free; channels call, chat.
    let text = ok(&["kpi", SAMPLE, "--policy", CX_TEAM]);
    for name in ["Enterprise", "Large", "SMB", "call", "chat"] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert!(!text.contains("tier #1"), "{text}");
    // Channel 3 is not in the policy: it keeps its id.
    assert!(text.contains("channel #3"), "{text}");
}

#[test]
fn missing_file_names_its_path() {
    let missing = "no/such/dir/x.csv";
    let o = run(&["kpi", missing]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("error: cannot read {missing}: ")),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    let o = run(&["simulate", "no/such/scenario.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read no/such/scenario.json"));
}

#[test]
fn bad_field_names_file_line_and_field() {
    let dir = TempDir::new("bad-field");
    let path = dir.file(
        "bad.csv",
        "conversation_id,channel,tier,asked_at,assigned_at\n1,1,1,1000,2000\n2,1,1,noon,3000\n",
    );
    let o = run(&["kpi", &path]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("error: {path}: line 3: field `asked_at`:")),
        "{err}"
    );
    assert!(err.contains("noon"), "{err}");

    // A row the validator refuses names its field too, and a second good file does not hide it.
    let late = dir.file(
        "late.csv",
        "conversation_id,channel,tier,asked_at,assigned_at\n1,1,1,5000,3000\n",
    );
    let o = run(&["kpi", SAMPLE, &late]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("error: {late}: line 2: field `assigned_at`:")),
        "{err}"
    );
}

#[test]
fn two_thresholds_sorted_in_the_report() {
    // Given out of order and in two spellings: 1m then 20 (plain seconds).
    let v = json(&["kpi", SAMPLE, "--threshold", "1m", "-t", "20", "--json"]);
    assert_eq!(
        v["service_level_thresholds_ms"],
        serde_json::json!([20_000, 60_000])
    );
    let sls = v["report"]["overall"]["service_levels"].as_array().unwrap();
    assert_eq!(sls.len(), 2);
    assert_eq!(sls[0]["threshold"], 20_000);
    assert_eq!(sls[1]["threshold"], 60_000);
    // More answered within 60 s than within 20 s.
    assert!(sls[1]["answered_within"].as_u64() >= sls[0]["answered_within"].as_u64());

    let text = ok(&["kpi", SAMPLE, "-t", "20s", "-t", "60s"]);
    assert!(text.contains("SL 20s") && text.contains("SL 60s"), "{text}");
}

#[test]
fn csv_tables_are_written() {
    let dir = TempDir::new("csv-out");
    let out = dir.path().join("tables");
    let out_s = out.to_string_lossy().into_owned();
    let text = ok(&[
        "kpi", SAMPLE, "--csv", &out_s, "-t", "20s", "-t", "1m", "--policy", CX_TEAM,
    ]);
    assert!(text.contains(&format!("to {out_s}")), "{text}");
    let read = |name: &str| {
        std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };

    let overall = read("overall.csv");
    let lines: Vec<&str> = overall.lines().collect();
    assert_eq!(lines.len(), 2, "{overall}");
    assert!(lines[0].starts_with("scope,offered,answered,"));
    assert!(lines[0].contains("service_level_20s,service_level_60s"));
    assert!(lines[1].starts_with("all,52,"), "{overall}");

    let by_tier = read("by_tier.csv");
    assert!(
        by_tier.lines().any(|l| l.starts_with("1,Enterprise,")),
        "{by_tier}"
    );
    let by_channel = read("by_channel.csv");
    assert!(
        by_channel.lines().any(|l| l.starts_with("3,,")),
        "{by_channel}"
    );
    assert!(read("by_team.csv").starts_with("team,"));

    let operators = read("operators.csv");
    assert_eq!(
        operators.lines().next(),
        Some(OPERATOR_COLUMNS.join(",").as_str())
    );
    assert_eq!(operators.lines().count(), 1 + 5, "{operators}");
}

#[test]
fn anonymous_bank_records_carry_their_names() {
    let dir = TempDir::new("bank");
    // The three calls of the `switchboard::kpi::bank` example.
    let path = dir.file(
        "calls.txt",
        "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n\
         AA0101\t1\t0\t2\tPS\t990113\t15:46:01\t15:45:24\t-37\t15:45:24\t15:46:41\t77\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER\n\
         AA0101\t2\t0\t1\tPS\t990113\t16:00:00\t16:00:06\t6\t16:00:06\t16:00:26\t20\tAGENT\t16:00:26\t16:03:26\t180\tDORIT\n\
         AA0101\t3\t0\t0\tNW\t990113\t17:00:00\t17:00:09\t9\t17:00:09\t17:00:09\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER\n",
    );
    // The same file twice: DORIT stays one operator.
    let v = json(&["kpi", "--anonymous-bank", &path, &path, "--json"]);
    let overall = &v["report"]["overall"];
    assert_eq!(
        (
            &overall["offered"],
            &overall["answered"],
            &overall["abandoned"]
        ),
        (&Value::from(6), &Value::from(2), &Value::from(4))
    );
    assert_eq!(v["names"]["operators"], serde_json::json!({ "1": "DORIT" }));
    assert_eq!(v["files"][0]["bank"]["converted"], 3);

    let text = ok(&["kpi", "--anonymous-bank", &path]);
    for name in ["DORIT", "PS", "NW", "priority 2"] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
}

#[test]
fn staffing_matches_erlang_c() {
    let args = [
        "staffing",
        "--rate",
        "100",
        "--handle",
        "180",
        "--target-sl",
        "80",
        "--within",
        "20s",
    ];
    let w = Workload::per_interval(100.0, 3600.0, 180.0).unwrap();
    let want = operators_needed(w, ServiceTarget::new(20.0, 0.8).unwrap()).unwrap();
    let n = want.operators();

    let text = ok(&args);
    assert!(text.contains(&format!("operators needed: {n}\n")), "{text}");
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let v = json(&with_json);
    assert_eq!(v["operators_needed"], n);
    assert_eq!(v["offered_load"], 5.0);
    let row = v["table"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["operators"] == n)
        .expect("the answer is in the table");
    let sl = row["service_level"].as_f64().unwrap();
    assert!((sl - want.service_level(20.0).unwrap()).abs() < 1e-12);
    assert!(sl >= 0.8);

    // The same in other spellings: a 3m handle time, 80%, a threshold in plain seconds.
    let v = json(&[
        "staffing",
        "--rate",
        "100",
        "--handle",
        "3m",
        "--target-sl",
        "80%",
        "--within",
        "20",
        "--json",
    ]);
    assert_eq!(v["operators_needed"], n);
}

#[test]
fn staffing_with_patience_is_the_smallest_erlang_a_team() {
    let v = json(&[
        "staffing",
        "--rate",
        "200",
        "--handle",
        "3m",
        "--target-sl",
        "80",
        "--within",
        "20s",
        "--patience",
        "2m",
        "--json",
    ]);
    let w = Workload::per_interval(200.0, 3600.0, 180.0).unwrap();
    let want = (1..100)
        .find(|&n| {
            ErlangA::new(w, n, 120.0)
                .unwrap()
                .service_level(20.0)
                .unwrap()
                >= 0.8
        })
        .unwrap();
    assert_eq!(v["model"], "erlang_a");
    assert_eq!(v["operators_needed"], want);
}

/// Interchange CSV with a `route` column (the queue), and a policy naming queue 1.
const QUEUED_CSV: &str = "conversation_id,channel,tier,asked_at,assigned_at,abandoned_at,route
1,1,1,0,10000,,
2,1,1,1000,31000,,1
3,1,1,2000,,7000,1
4,1,1,3000,8000,,2
";
const QUEUE_POLICY: &str = r#"{ "channels": [{ "id": 1, "name": "call" }],
    "tiers": [{ "id": 1, "name": "all", "priority": 1, "first_response_target": 20000 }],
    "queues": [{ "id": 1, "name": "vip" }] }"#;

/// The QUEUE row of `kpi`'s text output labelled `label`, split into columns.
fn queue_row<'a>(text: &'a str, label: &str) -> Vec<&'a str> {
    let table = text
        .split("\n\n")
        .find(|t| t.starts_with("QUEUE"))
        .unwrap_or_else(|| panic!("no QUEUE table:\n{text}"));
    let line = table
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label} row:\n{table}"));
    line[label.len()..].split_whitespace().collect()
}

#[test]
fn kpi_breaks_down_by_queue_when_the_file_has_queues() {
    let dir = TempDir::new("queues");
    let file = dir.file("queued.csv", QUEUED_CSV);
    let policy = dir.file("policy.json", QUEUE_POLICY);
    let out = dir.path().join("tables");
    let out_s = out.to_string_lossy().into_owned();
    let text = ok(&["kpi", &file, "--policy", &policy, "--csv", &out_s]);
    // offered, answered, abandoned, msg, pending, handled, avg wait: by hand.
    assert_eq!(
        queue_row(&text, "default queue")[..7],
        ["1", "1", "0", "0", "0", "0", "10s"]
    );
    assert_eq!(
        queue_row(&text, "vip")[..7],
        ["2", "1", "1", "0", "0", "0", "30s"]
    );
    // Queue 2 is not in the policy: it keeps its id.
    assert_eq!(
        queue_row(&text, "queue #2")[..7],
        ["1", "1", "0", "0", "0", "0", "5s"]
    );
    let by_queue = std::fs::read_to_string(out.join("by_queue.csv")).expect("by_queue.csv");
    let lines: Vec<&str> = by_queue.lines().collect();
    assert!(lines[0].starts_with("queue,name,offered,"), "{by_queue}");
    assert!(lines[1].starts_with(",default queue,1,1,0,"), "{by_queue}");
    assert!(lines[2].starts_with("1,vip,2,1,1,"), "{by_queue}");
    assert!(lines[3].starts_with("2,,1,1,0,"), "{by_queue}");
    // JSON: the default queue is a null key in a list of pairs.
    let v = json(&["kpi", &file, "--json"]);
    let pairs = v["report"]["by_queue"].as_array().expect("pairs");
    assert_eq!(pairs.len(), 3);
    assert!(pairs[0][0].is_null());
    assert_eq!(pairs[1][0], 1);
    assert_eq!(pairs[1][1]["offered"], 2);
}

#[test]
fn kpi_without_queues_has_no_queue_table() {
    let text = ok(&["kpi", SAMPLE]);
    assert!(!text.contains("QUEUE"), "{text}");
    let dir = TempDir::new("no-queues");
    let out = dir.path().join("tables");
    ok(&["kpi", SAMPLE, "--csv", &out.to_string_lossy()]);
    assert!(!out.join("by_queue.csv").exists());
}

#[test]
fn kpi_bad_queue_value_names_line_and_column() {
    let dir = TempDir::new("bad-queue");
    let file = dir.file(
        "bad.csv",
        "conversation_id,channel,tier,asked_at,route\n1,1,1,0,2\n2,1,1,5,vip\n",
    );
    let o = run(&["kpi", &file]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("line 3: field `route`"), "{err}");
}

/// Two queues under strict priority, served by one pool (one profile for all) and a desk that
/// takes VIP first.
const QUEUE_SCENARIO: &str = r#"{
    "name": "two queues", "seed": 5, "hours": 4, "warmup_minutes": 15,
    "policy": {
        "channels": [{ "id": 1, "name": "call" }],
        "tiers": [{ "id": 1, "name": "all", "priority": 5, "first_response_target": 20000 }],
        "queues": [{ "id": 1, "name": "vip", "priority": 1 }, { "id": 2, "name": "general" }],
        "profiles": [
            { "id": 1, "name": "both", "queues": [{ "queue": 1, "priority": 1 }, { "queue": 2, "priority": 1 }] },
            { "id": 2, "name": "vip first", "queues": [{ "queue": 1, "priority": 1 }, { "queue": 2, "priority": 2 }] }
        ]
    },
    "arrivals": [{ "from_hour": 0, "per_hour": 60 }],
    "tiers": [{ "value": 1, "p": 1.0 }], "channels": [{ "value": 1, "p": 1.0 }],
    "queues": [{ "value": 1, "p": 0.3 }, { "value": 2, "p": 0.7 }],
    "handle_time": { "exponential": { "mean_secs": 300 } },
    "first_response_delay": { "fixed": { "secs": 0 } },
    "operators": [
        { "name": "agent", "count": 4, "capacity": [{ "channel": 1, "capacity": 1 }], "profile": 1 },
        { "name": "desk", "count": 2, "capacity": [{ "channel": 1, "capacity": 1 }], "profile": 2 }
    ],
    "policies": [{ "name": "queues", "routing": { "auto": {} } }]
}"#;

#[test]
fn simulate_prints_queue_lines_when_the_scenario_has_queues() {
    let dir = TempDir::new("sim-queues");
    let file = dir.file("queues.json", QUEUE_SCENARIO);
    let text = ok(&["simulate", &file, "-r", "2"]);
    assert!(text.contains("ASA"), "{text}");
    let offered = |label: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line:\n{text}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let (all, vip, general) = (offered("all "), offered("vip "), offered("general "));
    assert!(vip > 0.0 && general > vip, "{text}");
    // Rounded means: the queues add up to everyone within rounding.
    assert!((vip + general - all).abs() <= 1.0, "{text}");
    let v = json(&["simulate", &file, "-r", "2", "--json"]);
    let lines = v["policies"][0]["by_queue"].as_array().expect("by_queue");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["queue"], 1);
    let asa = |i: usize| {
        lines[i]["headline"]["wait_mean_s"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(asa(0) < asa(1), "vip ASA {} vs general {}", asa(0), asa(1));
    // The built-in scenario has no queues: no queue lines.
    assert!(!ok(&["simulate", CX_TEAM, "-r", "1"]).contains("ASA"));
    // The shipped queues scenario: a line per queue, the default one too.
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/scenarios/queues.json"
    );
    let text = ok(&["simulate", shipped, "-r", "1"]);
    for q in ["default ", "sales ", "billing ", "vip "] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(q)),
            "{q}:\n{text}"
        );
    }
}

#[test]
fn simulate_two_replications_as_json() {
    let o = run(&["simulate", "--replications", "2", "--seed", "3", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // No progress bar when stderr is not a terminal.
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["replications"], 2);
    assert_eq!(v["seed"], 3);
    let scenario: Value = serde_json::from_str(&std::fs::read_to_string(CX_TEAM).unwrap()).unwrap();
    let policies = v["policies"].as_array().unwrap();
    assert_eq!(
        policies.len(),
        scenario["policies"].as_array().unwrap().len()
    );
    for p in policies {
        assert_eq!(p["overall"]["offered"]["n"], 2, "{}", p["name"]);
        let occupancy = p["overall"]["occupancy_pct"]["mean"].as_f64().unwrap();
        assert!(occupancy > 0.0 && occupancy <= 100.0, "{occupancy}");
        let operators = p["operators"].as_array().unwrap();
        assert!(!operators.is_empty());
        assert!(operators.iter().all(|o| o["occupancy_pct"]["n"] == 2));
    }
}

#[test]
fn simulate_table_has_occupancy_and_operators() {
    let text = ok(&["simulate", CX_TEAM, "-r", "2"]);
    assert!(text.contains("2 replications per policy"), "{text}");
    assert!(text.contains("occupancy (busy"), "{text}");
    assert!(text.contains("utilisation"), "{text}");
    assert!(
        text.contains("senior 1") && text.contains("junior 4"),
        "{text}"
    );
    assert!(text.contains("Enterprise"), "{text}");
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        &["kpi"][..],
        &["kpi", SAMPLE, "--threshold", "5 days"],
        &["staffing", "--rate", "100"],
        &["simulate", "--replications", "0"],
        &["frobnicate"],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    // Values clap accepts but the library refuses are errors, not usage errors.
    let o = run(&[
        "staffing",
        "--rate",
        "100",
        "--handle",
        "0",
        "--target-sl",
        "80",
        "--within",
        "20",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("mean_handle_time"), "{}", stderr(&o));
}
