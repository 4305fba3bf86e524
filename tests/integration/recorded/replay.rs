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
