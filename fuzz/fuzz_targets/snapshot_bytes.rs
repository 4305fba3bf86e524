//! Arbitrary bytes as a snapshot: a typed error or a whole engine, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::engine::{Engine, Snapshot};

fuzz_target!(|data: &[u8]| {
    // Also try the body with a valid checksum, so decoding goes past the checksum check.
    let mut fixed = data.to_vec();
    if fixed.len() >= 16 {
        fixed[..4].copy_from_slice(b"SWBS");
        fixed[4..8].copy_from_slice(&1u32.to_le_bytes());
        let n = fixed.len() - 8;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in &fixed[..n] {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        fixed[n..].copy_from_slice(&h.to_le_bytes());
    }
    for bytes in [data, &fixed[..]] {
        if let Ok(s) = Snapshot::from_bytes(bytes) {
            if let Ok(mut e) = Engine::restore(s) {
                let now = e.now();
                let _ = e.assign(now);
                let _ = e.rebalance(now);
            }
        }
    }
});
