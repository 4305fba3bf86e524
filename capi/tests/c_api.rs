//! The C library as a C or C++ user gets it: `capi/install.sh` installs it
//! into a scratch prefix, then `examples/c/quickstart.c` and
//! `examples/cpp/quickstart.cpp`, copied into a scratch project, are built
//! with nothing but `pkg-config` (warnings as errors), run, and compared
//! with the same scenario run through the Rust API here; so is
//! `capi/tests/c/queues.c` (queues and a routing profile end to end). Also: the files,
//! symlinks, SONAME and `.pc` of the prefix, and that every function of the
//! header is exported by both libraries.
//!
//! A missing `cc`, `c++`, `pkg-config`, `nm` or `readelf` fails the test
//! (never a skip). Everything stays in `$CARGO_TARGET_TMPDIR/capi/` (by
//! default `target/tmp/capi/`): the prefixes `prefix/` (shared and static)
//! and `prefix-static/` (static only), and the programs, which CI runs
//! under valgrind:
//!
//! ```sh
//! LD_LIBRARY_PATH=target/tmp/capi/prefix/lib valgrind --error-exitcode=1 --leak-check=full \
//!     --errors-for-leak-kinds=definite,indirect target/tmp/capi/quickstart_c
//! ```

use std::ffi::CStr;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use switchboard_core::engine::DecisionKind;
use switchboard_core::kpi::{ConversationRecord, KpiAccumulator, KpiConfig, KpiStats};
use switchboard_core::prelude::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("capi/ sits in the workspace root")
}

/// Where the prefixes, the scratch project and the programs go.
fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capi")
}

/// Runs a tool; a missing tool is a failure, not a skip.
fn tool(cmd: &mut Command) -> Output {
    let name = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("`{name}` is needed for the C library test and could not run: {e}")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: Output) -> String {
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

struct Prefixes {
    /// `install.sh --prefix` (shared and static libraries).
    both: PathBuf,
    /// `install.sh --library-type static`: where `pkg-config --static` links the `.a`.
    static_only: PathBuf,
}

/// Installs twice, once per test run, with the command the README gives:
/// the second install reuses the first one's build.
fn prefixes() -> &'static Prefixes {
    static PREFIXES: OnceLock<Prefixes> = OnceLock::new();
    PREFIXES.get_or_init(|| {
        let both = work_dir().join("prefix");
        let static_only = work_dir().join("prefix-static");
        for (prefix, library_type) in [(&both, "both"), (&static_only, "static")] {
            if prefix.exists() {
                fs::remove_dir_all(prefix).expect("clear the old prefix");
            }
            tool(
                Command::new("sh")
                    .arg(root().join("capi/install.sh"))
                    .arg("--prefix")
                    .arg(prefix)
                    .args(["--library-type", library_type]),
            );
        }
        Prefixes { both, static_only }
    })
}

/// `pkg-config ARGS switchboard` against the given prefix only.
fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    let out = tool(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
            .args(args)
            .arg("switchboard"),
    );
    stdout(out).split_whitespace().map(String::from).collect()
}

/// A scratch C/C++ project outside the repository: the quickstart copied in,
/// so nothing but the installed header and `pkg-config` can be found.
fn scratch_source(example: &str) -> PathBuf {
    let dir = work_dir().join("scratch");
    fs::create_dir_all(&dir).expect("create the scratch project");
    let name = Path::new(example).file_name().expect("a file name");
    let dest = dir.join(name);
    fs::copy(root().join(example), &dest).expect("copy the quickstart");
    dest
}

/// Compiles `example` in the scratch project with `flags` and the
/// `pkg-config` output; returns the program's path.
fn build(compiler: &str, flags: &[&str], example: &str, link: &[String], exe: &str) -> PathBuf {
    let source = scratch_source(example);
    let exe = work_dir().join(exe);
    tool(
        Command::new(compiler)
            .current_dir(source.parent().expect("scratch dir"))
            .args(flags)
            .arg(&source)
            .args(link)
            .arg("-o")
            .arg(&exe),
    );
    exe
}

/// Runs a program with only `lib_dir` on the loader's path: cargo test puts
/// its own target directories there, which must not supply the library.
fn run(exe: &Path, lib_dir: &Path) -> String {
    stdout(tool(Command::new(exe).env("LD_LIBRARY_PATH", lib_dir)))
}

/// The shared libraries a program records in its `DT_NEEDED`.
fn needed(exe: &Path) -> Vec<String> {
    let out = stdout(tool(Command::new("readelf").arg("-d").arg(exe)));
    out.lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
        .collect()
}

const C_FLAGS: &[&str] = &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"];
const CXX_FLAGS: &[&str] = &["-std=c++17", "-Wall", "-Wextra", "-Werror"];

fn dynamic_flags() -> Vec<String> {
    pkg_config(&prefixes().both, &["--cflags", "--libs"])
}

fn static_flags() -> Vec<String> {
    pkg_config(&prefixes().static_only, &["--static", "--cflags", "--libs"])
}

fn check_dynamic(exe: &Path) {
    let lib = prefixes().both.join("lib");
    assert_eq!(run(exe, &lib), expected_output());
    assert!(
        needed(exe).contains(&"libswitchboard.so.0".to_string()),
        "{} loads libswitchboard.so.0: {:?}",
        exe.display(),
        needed(exe)
    );
}

fn check_static(exe: &Path) {
    // An empty directory: the program must not need the shared library.
    let nowhere = work_dir().join("no-libs");
    fs::create_dir_all(&nowhere).expect("create an empty directory");
    assert_eq!(run(exe, &nowhere), expected_output());
    assert!(
        !needed(exe).iter().any(|n| n.starts_with("libswitchboard")),
        "{} is linked statically: {:?}",
        exe.display(),
        needed(exe)
    );
}

#[test]
fn c_quickstart_linked_by_pkg_config_prints_what_the_rust_api_decides() {
    let exe = build(
        "cc",
        C_FLAGS,
        "examples/c/quickstart.c",
        &dynamic_flags(),
        "quickstart_c",
    );
    check_dynamic(&exe);
}

#[test]
fn c_quickstart_linked_statically_by_pkg_config_prints_the_same() {
    let exe = build(
        "cc",
        C_FLAGS,
        "examples/c/quickstart.c",
        &static_flags(),
        "quickstart_c_static",
    );
    check_static(&exe);
}

#[test]
fn cpp_quickstart_linked_by_pkg_config_prints_the_same() {
    let exe = build(
        "c++",
        CXX_FLAGS,
        "examples/cpp/quickstart.cpp",
        &dynamic_flags(),
        "quickstart_cpp",
    );
    check_dynamic(&exe);
}

#[test]
fn cpp_quickstart_linked_statically_by_pkg_config_prints_the_same() {
    let exe = build(
        "c++",
        CXX_FLAGS,
        "examples/cpp/quickstart.cpp",
        &static_flags(),
        "quickstart_cpp_static",
    );
    check_static(&exe);
}

#[test]
fn the_prefix_holds_the_libraries_the_header_and_a_pc_file() {
    let version = env!("CARGO_PKG_VERSION");
    // SAFETY: a static NUL-terminated string.
    let core_version = unsafe { CStr::from_ptr(switchboard_core::ffi::switchboard_version()) };
    assert_eq!(
        core_version.to_str().unwrap(),
        version,
        "switchboard-capi and switchboard carry the same version"
    );
    let prefix = &prefixes().both;
    let lib = prefix.join("lib");
    let real = format!("libswitchboard.so.{version}");
    assert!(lib.join(&real).is_file(), "{real}");
    for (link, target) in [
        ("libswitchboard.so.0", real.as_str()),
        ("libswitchboard.so", "libswitchboard.so.0"),
    ] {
        let to = fs::read_link(lib.join(link)).unwrap_or_else(|e| panic!("{link}: {e}"));
        assert_eq!(to, Path::new(target), "{link} -> {target}");
    }
    assert!(lib.join("libswitchboard.a").is_file());
    assert_eq!(
        fs::read(prefix.join("include/switchboard.h")).unwrap(),
        fs::read(root().join("include/switchboard.h")).unwrap(),
        "the installed header is the committed one"
    );
    let dynamic = stdout(tool(Command::new("readelf").arg("-d").arg(lib.join(&real))));
    assert!(
        dynamic.contains("Library soname: [libswitchboard.so.0]"),
        "SONAME libswitchboard.so.0:\n{dynamic}"
    );

    let p = prefix.display();
    assert_eq!(pkg_config(prefix, &["--modversion"]), [version]);
    assert_eq!(
        pkg_config(prefix, &["--cflags", "--libs"]),
        [
            format!("-I{p}/include"),
            format!("-L{p}/lib"),
            "-lswitchboard".into()
        ]
    );
    let private = pkg_config(prefix, &["--static", "--libs"]);
    assert_eq!(private[..2], [format!("-L{p}/lib"), "-lswitchboard".into()]);
    for lib in ["-lpthread", "-ldl", "-lm", "-lc"] {
        assert!(
            private.contains(&lib.to_string()),
            "Libs.private has {lib}: {private:?}"
        );
    }

    let static_lib = prefixes().static_only.join("lib");
    assert!(static_lib.join("libswitchboard.a").is_file());
    assert!(
        !static_lib.join("libswitchboard.so").exists(),
        "static only"
    );
}

/// The `switchboard_*` functions `include/switchboard.h` declares.
fn header_functions() -> Vec<String> {
    let header = fs::read_to_string(root().join("include/switchboard.h")).unwrap();
    let mut names: Vec<String> = header
        .match_indices("switchboard_")
        .filter_map(|(i, _)| {
            let rest = &header[i..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            rest[end..]
                .starts_with('(')
                .then(|| rest[..end].to_string())
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The global symbols `nm` lists as defined in `file`.
fn defined_functions(file: &Path, dynamic: bool) -> Vec<String> {
    let mut cmd = Command::new("nm");
    if dynamic {
        cmd.arg("-D");
    }
    let out = stdout(tool(cmd.arg("--defined-only").arg(file)));
    let mut names: Vec<String> = out
        .lines()
        .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
            // Every kind from the shared library (a data symbol would leak
            // too), the functions (`T`) from the archive.
            [_, kind, name] if dynamic || kind == "T" => Some(name.to_string()),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[test]
fn every_function_of_the_header_is_exported_by_both_libraries() {
    let declared = header_functions();
    assert!(declared.len() > 40, "the header declares {declared:?}");
    let lib = prefixes().both.join("lib");
    let so = defined_functions(&lib.join("libswitchboard.so.0"), true);
    // The shared library exports exactly the C API: no Rust symbol leaks.
    assert_eq!(so, declared, "nm -D libswitchboard.so");
    let a = defined_functions(&lib.join("libswitchboard.a"), false);
    let missing: Vec<&String> = declared.iter().filter(|f| !a.contains(f)).collect();
    assert!(missing.is_empty(), "libswitchboard.a lacks {missing:?}");
}

// ----- the same scenario through the Rust API ------------------------------------

const CALL: ChannelId = ChannelId(1);
const CHAT: ChannelId = ChannelId(2);
const BILLING: SkillId = SkillId(1);
const TECH: SkillId = SkillId(2);
/// The billing skill of `capi/tests/c/queues.c`.
const BILLING_10: SkillId = SkillId(10);

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

fn wall_board(out: &mut String, e: &Engine) {
    let board = e.real_time();
    write!(
        out,
        "wall board at t={}s: {} waiting, {} with an operator",
        board.at.0 / 1000,
        board.conversations.waiting,
        board.conversations.with_operator
    )
    .unwrap();
    if let Some((conv, waited)) = board.longest_wait {
        write!(out, "; longest wait conv {} ({} ms)", conv.0, waited.0).unwrap();
    }
    if let Some((op, conv, waited)) = board.bottleneck {
        write!(
            out,
            "; oldest unanswered conv {} with operator {} ({} ms)",
            conv.0, op.0, waited.0
        )
        .unwrap();
    }
    out.push('\n');
    for conv in e.waiting() {
        let q = e.queue_status(conv).unwrap();
        write!(
            out,
            "  conv {}: position {}, {} operators fit, {}/{} slots free, ",
            conv.0, q.position, q.eligible_operators, q.free_slots, q.eligible_slots
        )
        .unwrap();
        match q.estimated_wait {
            Some(w) => writeln!(out, "estimated wait {} ms", w.0).unwrap(),
            None => writeln!(out, "no estimate").unwrap(),
        }
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
        switchboard_core::ffi::SWITCHBOARD_ABI_VERSION
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
        if now == 35_000 {
            wall_board(&mut out, &e);
        }
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

// ----- queues and routing profiles: capi/tests/c/queues.c ------------------------

#[test]
fn c_program_with_queues_and_a_profile_prints_what_the_rust_api_decides() {
    let exe = build(
        "cc",
        C_FLAGS,
        "capi/tests/c/queues.c",
        &dynamic_flags(),
        "queues_c",
    );
    let out = run(&exe, &prefixes().both.join("lib"));
    assert_eq!(out, queues_expected_output());
    // The scenario does what it sets out to: each queue's own rule, the
    // queue in every decision and record, the refusals by name.
    for line in [
        "t=4s conv 4 (default queue) assigned operator 1: least_loaded",
        "t=6s conv 5 (queue 1) assigned operator 1: fewest_handled",
        "t=8s conv 6 (queue 1) assigned operator 3: fewest_handled",
        "t=9s conv 7 (queue 2) assigned operator 2: most_proficient",
        "t=10s conv 8 (default queue) assigned operator 2: least_loaded",
        "conv 1 after the transfer: waiting in queue 2, 1 transfer",
        "t=11s conv 1 (queue 2) assigned operator 2: most_proficient",
        "finished conv 1 in queue 2, operator 2",
        "finished conv 5 in queue 1, operator 1",
        "finished conv 8 in default queue, operator 2",
        "refused: unknown_queue: unknown queue #42: declare it in the policy's `queues`",
        "refused: unknown_profile: unknown profile #99: declare it in the policy's `profiles`",
        "KPI: offered 8, answered 8, transferred 1",
    ] {
        assert!(out.contains(line), "`{line}` in:\n{out}");
    }
}

/// What `capi/tests/c/queues.c` must print, derived here from the Rust API.
fn queues_expected_output() -> String {
    const VIP: QueueId = QueueId(1);
    const SALES: QueueId = QueueId(2);
    const SALES_ONLY: ProfileId = ProfileId(7);
    let mut policy = Policy::new(
        vec![ChannelSpec::new(CHAT, "chat")],
        vec![TierSpec::new(TierId(1), "standard", 1).first_response_target(Millis::from_mins(5))],
        vec![SkillSpec::new(BILLING_10, "billing")],
    );
    policy.queues = vec![
        QueueSpec::new(VIP, "vip").selection(Selection::FewestHandled),
        QueueSpec::new(SALES, "sales").selection(Selection::MostProficient),
    ];
    policy.profiles =
        vec![RoutingProfile::new(SALES_ONLY, "sales only").serve(ProfileQueue::new(SALES, 1))];
    let mut e = Engine::new(policy).unwrap();
    let mut out = String::new();
    let queue =
        |q: Option<QueueId>| q.map_or("default queue".to_string(), |q| format!("queue {}", q.0));
    let print = |out: &mut String, ds: Vec<Decision>| {
        for d in ds {
            let kind = match d.kind {
                DecisionKind::Assigned => "assigned",
                DecisionKind::Offered { .. } => "offered",
                _ => "unassigned",
            };
            writeln!(
                out,
                "t={}s conv {} ({}) {kind} operator {}: {}",
                d.at.0 / 1000,
                d.conversation.0,
                queue(d.queue),
                d.operator.0,
                d.reason.route.as_str()
            )
            .unwrap();
        }
    };
    let secs = |s: u64| Timestamp(s * 1000);
    let op = |id: u64, capacity: u16, level: u8| {
        OperatorSpec::new(OperatorId(id))
            .status(OperatorStatus::Available)
            .capacity(CHAT, capacity)
            .skill(BILLING_10, level)
    };
    let arrive = |e: &mut Engine, at: u64, id: u64, q: Option<QueueId>| {
        let mut c = ConversationSpec::new(ConversationId(id), CHAT, TierId(1)).skill(BILLING_10, 1);
        if let Some(q) = q {
            c = c.queue(q);
        }
        e.apply(Event::ConversationArrived {
            at: secs(at),
            conversation: c,
        })
    };
    let resolve = |e: &mut Engine, at: u64, id: u64| {
        e.apply(Event::ConversationResolved {
            at: secs(at),
            conversation: ConversationId(id),
        })
        .unwrap()
    };

    for spec in [op(1, 4, 2), op(2, 3, 5).profile(SALES_ONLY), op(3, 1, 2)] {
        e.apply(Event::OperatorAdded {
            at: secs(0),
            operator: spec,
        })
        .unwrap();
    }
    let err = e
        .apply(Event::OperatorAdded {
            at: secs(0),
            operator: OperatorSpec::new(OperatorId(9))
                .status(OperatorStatus::Available)
                .capacity(CHAT, 1)
                .profile(ProfileId(99)),
        })
        .unwrap_err();
    writeln!(out, "refused: unknown_profile: {err}").unwrap();

    arrive(&mut e, 1, 1, None).unwrap();
    print(&mut out, e.assign(secs(1)).unwrap());
    arrive(&mut e, 2, 2, None).unwrap();
    print(&mut out, e.assign(secs(2)).unwrap());
    print(&mut out, resolve(&mut e, 2, 2));
    arrive(&mut e, 3, 3, None).unwrap();
    print(&mut out, e.assign(secs(3)).unwrap());
    arrive(&mut e, 4, 4, None).unwrap();
    print(&mut out, e.assign(secs(4)).unwrap());
    print(&mut out, resolve(&mut e, 5, 3));
    let err = arrive(&mut e, 5, 99, Some(QueueId(42))).unwrap_err();
    writeln!(out, "refused: unknown_queue: {err}").unwrap();

    arrive(&mut e, 6, 5, Some(VIP)).unwrap();
    print(&mut out, e.assign(secs(6)).unwrap());
    e.apply(Event::HandledCountsReset { at: secs(7) }).unwrap();
    arrive(&mut e, 8, 6, Some(VIP)).unwrap();
    print(&mut out, e.assign(secs(8)).unwrap());
    arrive(&mut e, 9, 7, Some(SALES)).unwrap();
    print(&mut out, e.assign(secs(9)).unwrap());

    e.apply(Event::OperatorProfileChanged {
        at: secs(10),
        operator: OperatorId(2),
        profile: None,
    })
    .unwrap();
    arrive(&mut e, 10, 8, None).unwrap();
    print(&mut out, e.assign(secs(10)).unwrap());

    let moved = e
        .apply(Event::ConversationTransferred {
            at: secs(11),
            conversation: ConversationId(1),
            to: TransferTarget::ToQueue(SALES),
        })
        .unwrap();
    print(&mut out, moved);
    let c = e.conversation(ConversationId(1)).unwrap();
    writeln!(
        out,
        "conv 1 after the transfer: {} in {}, {} transfer",
        c.state.as_str(),
        queue(c.spec.queue),
        c.transfers
    )
    .unwrap();
    print(&mut out, e.assign(secs(11)).unwrap());
    for c in [1, 4, 5, 6, 7, 8] {
        print(&mut out, resolve(&mut e, 12, c));
    }

    let records = e.take_records().conversations;
    let mut acc = KpiAccumulator::new(KpiConfig::default()).unwrap();
    for r in &records {
        writeln!(
            out,
            "finished conv {} in {}, operator {}",
            r.conversation.0,
            queue(r.queue),
            r.operator.map_or(0, |o| o.0)
        )
        .unwrap();
        acc.push(r).unwrap();
    }
    let k = acc.report().overall;
    writeln!(
        out,
        "KPI: offered {}, answered {}, transferred {}",
        k.offered, k.answered, k.transferred
    )
    .unwrap();
    out
}
