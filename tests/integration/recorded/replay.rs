//! Replays a recorded event stream and fingerprints what the engine did after
//! every event: the state hash and a running digest of the decisions (or the
//! error) each event produced. Shared by `examples/dst.rs --record` (which
//! writes the expected fingerprints) and `tests/integration/recorded.rs`
//! (which checks them), so a refactor that changes any decision or any byte
//! of the state is caught.

use switchboard::prelude::*;

/// FNV-1a, continued from `h`.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `(state hash, decision digest)` after each event, in order.
pub fn fingerprints(policy: Policy, events: &[Event]) -> Result<Vec<(u64, u64)>, String> {
    let mut e = Engine::new(policy).map_err(|e| e.to_string())?;
    let mut digest = 0xcbf2_9ce4_8422_2325u64;
    let mut out = Vec::with_capacity(events.len());
    for ev in events {
        let text = match e.apply(ev.clone()) {
            Ok(ds) => serde_json::to_string(&ds).map_err(|e| e.to_string())?,
            Err(err) => format!("error: {err}"),
        };
        digest = fnv(digest, text.as_bytes());
        out.push((e.state_hash(), digest));
    }
    Ok(out)
}

/// Reads a stream file: the policy as JSON on the first line, then one event per line.
pub fn parse_stream(text: &str) -> Result<(Policy, Vec<Event>), String> {
    let mut lines = text.lines();
    let policy = serde_json::from_str(lines.next().ok_or("empty stream file")?)
        .map_err(|e| format!("policy: {e}"))?;
    let events = lines
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("event line {}: {e}", i + 2)))
        .collect::<Result<_, _>>()?;
    Ok((policy, events))
}

/// Reads an expectation file: `state_hash decision_digest` in hex, one line per event.
pub fn parse_expected(text: &str) -> Result<Vec<(u64, u64)>, String> {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            let (a, b) = l
                .split_once(' ')
                .ok_or(format!("line {}: two fields", i + 1))?;
            let p =
                |s: &str| u64::from_str_radix(s, 16).map_err(|e| format!("line {}: {e}", i + 1));
            Ok((p(a)?, p(b)?))
        })
        .collect()
}
