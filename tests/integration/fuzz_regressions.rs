//! Every crash the fuzzers found, replayed as a test (`fuzz/regressions/`).

#[allow(dead_code, clippy::all)]
#[path = "../../fuzz/replay/engine_events.rs"]
mod engine_events;

#[test]
fn every_saved_engine_events_crash_now_passes() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/engine_events");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions directory") {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("crash input");
        engine_events::run(&data);
        n += 1;
    }
    assert!(n >= 1, "the saved crash inputs are replayed");
}
