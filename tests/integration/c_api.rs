//! The C API from C and C++: builds the static and dynamic libraries with a
//! nested `cargo rustc`, compiles `examples/c/quickstart.c` and
//! `examples/cpp/quickstart.cpp` against `include/switchboard.h` with
//! warnings as errors, links them, runs them, and compares their output
//! with the same scenario run through the Rust API here.
//!
//! A missing C or C++ compiler fails the test (never a skip). The binaries
//! stay in `$CARGO_TARGET_DIR/tmp/ffi/` (by default `target/tmp/ffi/`) for
//! valgrind:
//!
//! ```sh
//! valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
//!     target/tmp/ffi/quickstart_c
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use switchboard::kpi::{ConversationRecord, KpiAccumulator, KpiConfig, KpiStats};
use switchboard::prelude::*;

/// Where the libraries and the example binaries go.
fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ffi")
}

struct Libs {
    /// Directory holding `libswitchboard.a` and `libswitchboard.so`.
    dir: PathBuf,
    /// What `--print native-static-libs` says a static link needs.
    native: Vec<String>,
}

/// Builds the libraries once per test run.
fn libs() -> &'static Libs {
    static LIBS: OnceLock<Libs> = OnceLock::new();
    LIBS.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "rustc",
                "--lib",
                "--crate-type",
                "staticlib,cdylib",
                "--target-dir",
            ])
            .arg(out_dir())
            .args(["--", "--print", "native-static-libs"])
            .output()
            .expect("run the nested cargo rustc");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "nested cargo rustc failed:\n{stderr}");
        let native = stderr
            .lines()
            .find_map(|l| l.split("native-static-libs: ").nth(1))
            .unwrap_or_else(|| panic!("no native-static-libs line in:\n{stderr}"))
            .split_whitespace()
            .map(String::from)
            .collect();
        Libs {
            dir: out_dir().join("debug"),
            native,
        }
    })
}

/// Runs a compiler; a missing compiler is a failure, not a skip.
fn compile(compiler: &str, args: &[&str], source: &str, link: &[String], exe: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(compiler)
        .current_dir(root)
        .args(args)
        .arg("-Iinclude")
        .arg(source)
        .args(link)
        .arg("-o")
        .arg(exe)
        .output()
        .unwrap_or_else(|e| {
            panic!("`{compiler}` is needed for the C API test and could not run: {e}")
        });
    assert!(
        out.status.success(),
        "{compiler} {source} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(exe: &Path) -> String {
    // cargo test puts target/debug/deps on LD_LIBRARY_PATH, which outranks the
    // executable's RUNPATH; a libswitchboard.so left there by another build
    // must not be the one loaded.
    let out = Command::new(exe)
        .env("LD_LIBRARY_PATH", &libs().dir)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        exe.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn static_link() -> Vec<String> {
    let libs = libs();
    let mut v = vec![libs.dir.join("libswitchboard.a").display().to_string()];
    v.extend(libs.native.iter().cloned());
    v
}

fn dynamic_link() -> Vec<String> {
    let dir = libs().dir.display().to_string();
    vec![
        format!("-L{dir}"),
        format!("-Wl,-rpath,{dir}"),
        "-lswitchboard".into(),
    ]
}

const C_FLAGS: &[&str] = &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"];
const CXX_FLAGS: &[&str] = &["-std=c++17", "-Wall", "-Wextra", "-Werror"];

#[test]
fn c_quickstart_static_prints_what_the_rust_api_decides() {
    let exe = out_dir().join("quickstart_c");
    compile(
        "cc",
        C_FLAGS,
        "examples/c/quickstart.c",
        &static_link(),
        &exe,
    );
    assert_eq!(run(&exe), expected_output());
}

#[test]
fn cpp_quickstart_static_prints_what_the_rust_api_decides() {
    let exe = out_dir().join("quickstart_cpp");
    compile(
        "c++",
        CXX_FLAGS,
        "examples/cpp/quickstart.cpp",
        &static_link(),
        &exe,
    );
    assert_eq!(run(&exe), expected_output());
}

#[test]
fn c_quickstart_dynamic_prints_the_same() {
    let exe = out_dir().join("quickstart_c_dynamic");
    compile(
        "cc",
        C_FLAGS,
        "examples/c/quickstart.c",
        &dynamic_link(),
        &exe,
    );
    assert_eq!(run(&exe), expected_output());
}

// ----- the same scenario through the Rust API ------------------------------------

const CALL: ChannelId = ChannelId(1);
const CHAT: ChannelId = ChannelId(2);
const BILLING: SkillId = SkillId(1);
const TECH: SkillId = SkillId(2);

fn tier(id: u32, name: &str, priority: u32, target_secs: u64) -> TierSpec {
    TierSpec::new(TierId(id), name, priority).first_response_target(Millis::from_secs(target_secs))
}

fn print(out: &mut String, ds: &[Decision]) {
    for d in ds {
        let tier = ["?", "Enterprise", "Large", "SMB"][d.tier.0 as usize];
        let chan = if d.channel == CALL { "call" } else { "chat" };
        write!(
            out,
            "t={}s conv {} ({tier}, {chan}) -> operator {}: {} on {}, load {}/{}, waited {} ms, step {}",
            d.at.0 / 1000,
            d.conversation.0,
            d.operator.0,
            d.reason.route.as_str(),
            d.reason.trigger.as_str(),
            d.reason.load_before,
            d.reason.capacity,
            d.reason.waited.0,
            d.reason.overflow_step,
        )
        .unwrap();
        for m in &d.reason.matched {
            write!(
                out,
                ", skill {} >={} (has {})",
                m.skill.0, m.required, m.level
            )
            .unwrap();
        }
        out.push('\n');
    }
}

fn kpi_line(out: &mut String, label: &str, k: &KpiStats) {
    let ms = |m: Option<Millis>| m.map_or(0, |m| m.0);
    let sl = &k.service_levels[0];
    writeln!(
        out,
        "KPI {label}: offered {}, answered {}, abandoned {}; wait p50 {} ms, p90 {} ms, max {} ms; \
         answered within {} s: {}/{}",
        k.offered,
        k.answered,
        k.abandoned,
        ms(k.wait.p50),
        ms(k.wait.p90),
        ms(k.wait.max),
        sl.threshold.0 / 1000,
        sl.default.numerator,
        sl.default.denominator,
    )
    .unwrap();
}

/// What both quickstarts must print, derived here from the Rust API.
fn expected_output() -> String {
    let mut policy = Policy::new(
        vec![
            ChannelSpec::new(CALL, "call").blocks([CHAT]),
            ChannelSpec::new(CHAT, "chat"),
        ],
        vec![
            tier(1, "Enterprise", 1, 60),
            tier(2, "Large", 2, 120),
            tier(3, "SMB", 3, 300),
        ],
        vec![
            SkillSpec::new(BILLING, "billing"),
            SkillSpec::new(TECH, "tech"),
        ],
    );
    policy.wrap_up = Millis::from_secs(30);
    policy.overflow = vec![OverflowStep::new(
        Millis::from_secs(90),
        Relax::LowerLevels(2),
    )];
    let mut e = Engine::new(policy).unwrap();
    let mut out = String::new();
    writeln!(
        out,
        "switchboard {}, ABI {}",
        env!("CARGO_PKG_VERSION"),
        switchboard::ffi::SWITCHBOARD_ABI_VERSION
    )
    .unwrap();

    let t0 = Timestamp(0);
    let ops = [
        OperatorSpec::new(OperatorId(1))
            .capacity(CHAT, 3)
            .capacity(CALL, 1)
            .skill(BILLING, 5)
            .skill(TECH, 3)
            .team(TeamId(100)),
        OperatorSpec::new(OperatorId(2))
            .capacity(CHAT, 3)
            .skill(TECH, 4)
            .skill(BILLING, 1)
            .team(TeamId(100)),
        OperatorSpec::new(OperatorId(3))
            .capacity(CHAT, 2)
            .skill(BILLING, 2)
            .skill(TECH, 2)
            .wrap_up(Millis(10_000)),
    ];
    for spec in ops {
        e.apply(Event::OperatorAdded {
            at: t0,
            operator: spec.status(OperatorStatus::Available),
        })
        .unwrap();
    }
    type Arrival = (u64, u32, ChannelId, Option<(SkillId, u8)>);
    let burst: [Arrival; 10] = [
        (0, 3, CHAT, Some((BILLING, 1))),
        (2, 1, CHAT, Some((BILLING, 4))),
        (4, 2, CHAT, Some((TECH, 3))),
        (5, 3, CHAT, None),
        (7, 1, CALL, Some((BILLING, 3))),
        (9, 2, CHAT, Some((BILLING, 2))),
        (11, 3, CHAT, Some((TECH, 1))),
        (14, 1, CHAT, Some((TECH, 4))),
        (17, 3, CHAT, Some((BILLING, 4))),
        (20, 2, CHAT, None),
    ];
    for (i, (secs, tier, channel, skill)) in burst.into_iter().enumerate() {
        let at = Timestamp(secs * 1000);
        let mut c = ConversationSpec::new(ConversationId(i as u64 + 1), channel, TierId(tier));
        if let Some((s, l)) = skill {
            c = c.skill(s, l);
        }
        e.apply(Event::ConversationArrived {
            at,
            conversation: c,
        })
        .unwrap();
        print(&mut out, &e.assign(at).unwrap());
    }
    writeln!(out, "waiting after the burst: {}", e.waiting().len()).unwrap();
    match e.next_deadline() {
        Some(d) => writeln!(out, "next deadline: t={}s", d.0 / 1000).unwrap(),
        None => writeln!(out, "next deadline: none").unwrap(),
    }

    let mut now = 20_000;
    loop {
        let s = e.state_counts();
        if (s.waiting == 0 && s.with_operator == 0) || now > 600_000 {
            break;
        }
        now += 15_000;
        let at = Timestamp(now);
        for op in 1..=3 {
            let Some(&c) = e.operator(OperatorId(op)).unwrap().held.first() else {
                continue;
            };
            if e.conversation(c).unwrap().state == ConversationState::Assigned {
                e.apply(Event::FirstResponseSent {
                    at,
                    conversation: c,
                })
                .unwrap();
            }
            e.apply(Event::ConversationResolved {
                at,
                conversation: c,
            })
            .unwrap();
        }
        print(&mut out, &e.assign(at).unwrap());
    }

    let records = e.take_records();
    let finished: Vec<ConversationRecord> = records.conversations;
    let waits: Vec<u64> = finished
        .iter()
        .filter_map(|f| Some(f.assigned_at?.0 - f.asked_at.0))
        .collect();
    let responses: Vec<u64> = finished
        .iter()
        .filter_map(|f| Some(f.first_response_at?.0 - f.asked_at.0))
        .collect();
    let per_tier = |t: u32| finished.iter().filter(|f| f.tier == TierId(t)).count();
    let mean = |v: &[u64]| {
        v.iter()
            .sum::<u64>()
            .checked_div(v.len() as u64)
            .unwrap_or(0)
    };
    writeln!(
        out,
        "\n{} conversations finished (Enterprise {}, Large {}, SMB {})",
        finished.len(),
        per_tier(1),
        per_tier(2),
        per_tier(3)
    )
    .unwrap();
    writeln!(
        out,
        "wait for an operator: mean {} ms, longest {} ms",
        mean(&waits),
        waits.iter().max().unwrap_or(&0)
    )
    .unwrap();
    writeln!(
        out,
        "first response: mean {} ms over {} answered",
        mean(&responses),
        responses.len()
    )
    .unwrap();
    let mut acc = KpiAccumulator::new(KpiConfig::default()).unwrap();
    for r in &finished {
        acc.push(r).unwrap();
    }
    let report = acc.report();
    kpi_line(&mut out, "all", &report.overall);
    for (tier, stats) in &report.by_tier {
        kpi_line(
            &mut out,
            ["?", "Enterprise", "Large", "SMB"][tier.0 as usize],
            stats,
        );
    }
    for s in &records.status_intervals {
        acc.push_status(s).unwrap();
    }
    let occupancy = acc.report().overall.occupancy;
    writeln!(
        out,
        "occupancy: busy {} ms, idle {} ms, from {} activity intervals",
        occupancy.busy_ms,
        occupancy.idle_ms,
        records.status_intervals.len()
    )
    .unwrap();
    let st = e.status_counts();
    writeln!(
        out,
        "operators: {} available, {} away, {} offline",
        st.available, st.away, st.offline
    )
    .unwrap();
    let bytes = e.snapshot().to_bytes();
    writeln!(
        out,
        "snapshot: {} bytes, restored copy identical",
        bytes.len()
    )
    .unwrap();
    out
}
