//! Recorded event streams (`tests/data/recorded/`, written by
//! `cargo run --release --example dst -- --seed S --events 1000 --record tests/data/recorded`)
//! replayed on today's engine: after every event the state hash and the
//! running digest of decisions must equal what the engine produced when the
//! stream was recorded. A refactor that is meant to change no behaviour
//! proves it here; a change that is meant to alter decisions or the snapshot
//! bytes re-records the streams and says why in its commit.

mod replay;

use std::path::Path;

const SEEDS: [u64; 8] = [4, 9, 11, 12, 14, 21, 46, 59];

#[test]
fn recorded_streams_give_the_recorded_states_and_decisions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recorded");
    for seed in SEEDS {
        let read = |ext: &str| {
            let p = dir.join(format!("seed-{seed}.{ext}"));
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        let (policy, events) = replay::parse_stream(&read("jsonl")).unwrap();
        let expected = replay::parse_expected(&read("expected")).unwrap();
        assert_eq!(
            events.len(),
            expected.len(),
            "seed {seed}: one line per event"
        );
        assert!(events.len() >= 1000, "seed {seed}: the stream is complete");
        let got = replay::fingerprints(policy, &events).unwrap();
        if let Some(i) = (0..got.len()).find(|&i| got[i] != expected[i]) {
            let what = if got[i].1 != expected[i].1 {
                "decisions"
            } else {
                "state"
            };
            panic!(
                "seed {seed}: {what} differ first after event {i}: {:?}",
                events[i]
            );
        }
    }
}
