//! Arbitrary event streams against the engine: it must never panic, and
//! every refused event must leave it exactly as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../replay/engine_events.rs"]
mod replay;

fuzz_target!(|data: &[u8]| replay::run(data));
