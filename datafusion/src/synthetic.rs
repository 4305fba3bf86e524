//! A deterministic record generator for the equality test and the benchmark: row `i` of seed
//! `s` is always the same record, so a data set of any size can be written to Parquet and fed
//! to an in-memory accumulator without holding it in memory.
//!
//! The mix covers every outcome: answered (with and without a response, resolved or not, some
//! transferred, some rated), abandoned, messages left (some answered later), answered then left
//! before a response, closed unassigned and pending; over 4 tiers, 3 channels, 8 teams, 6
//! queues (and none) and 200 operators. All rows pass the record rules.

use switchboard::kpi::ConversationRecord;
use switchboard::{ChannelId, ConversationId, OperatorId, QueueId, TeamId, TierId, Timestamp};

/// 2024-01-01T00:00:00Z in ms: where generated asks start.
pub const START_MS: u64 = 1_704_067_200_000;

/// Generated asks are this far apart on average (so 10 M rows span about a month).
pub const SPACING_MS: u64 = 250;

fn mix(mut z: u64) -> u64 {
    // splitmix64's finaliser: a cheap, well-spread hash of the row index.
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Row `i` of the data set of `seed`.
pub fn record(seed: u64, i: u64) -> ConversationRecord {
    let mut state = mix(seed ^ mix(i));
    let mut next = |n: u64| {
        state = mix(state);
        state % n
    };
    let ask = START_MS + i * SPACING_MS + next(SPACING_MS);
    let mut r = ConversationRecord::new(
        ConversationId(i + 1),
        ChannelId(next(3) as u32),
        TierId(next(4) as u32),
        Timestamp(ask),
    );
    r.team = (next(4) > 0).then(|| TeamId(next(8) as u32));
    r.queue = (next(3) > 0).then(|| QueueId(next(6) as u32));
    let at = |ms: u64| Some(Timestamp(ask + ms));
    let kind = next(100);
    match kind {
        // Answered.
        0..=64 => {
            let wait = next(90_000) + next(4) * next(60_000);
            r.operator = Some(OperatorId(next(200) + 1));
            if next(2) == 0 {
                r.offered_at = at(wait / 2);
                r.missed_offers = next(3) as u32;
            }
            r.assigned_at = at(wait);
            let response = wait + next(45_000);
            if next(10) > 0 {
                r.first_response_at = at(response);
            }
            if next(20) > 0 {
                r.resolved_at = at(response + 30_000 + next(1_800_000));
                if next(2) == 0 {
                    r.satisfaction = Some(next(5) as u8 + 1);
                }
            }
            r.transfers = (next(10) == 0) as u32 + (next(50) == 0) as u32;
        }
        // Abandoned before an assignment.
        65..=79 => r.abandoned_at = at(next(300_000)),
        // Left a message; half answered later.
        80..=89 => {
            r.message_left = true;
            let left = next(60_000);
            r.abandoned_at = at(left);
            if next(2) == 0 {
                r.operator = Some(OperatorId(next(200) + 1));
                let assigned = left + 60_000 + next(3_600_000);
                r.assigned_at = at(assigned);
                r.first_response_at = at(assigned + next(30_000));
                r.resolved_at = at(assigned + 60_000 + next(600_000));
            }
        }
        // Answered, then the customer left before any response.
        90..=93 => {
            let wait = next(120_000);
            r.operator = Some(OperatorId(next(200) + 1));
            r.assigned_at = at(wait);
            r.abandoned_at = at(wait + next(30_000));
        }
        // Closed without an assignment.
        94..=96 => r.resolved_at = at(next(600_000)),
        // Still pending.
        _ => {}
    }
    r
}

/// Rows `range` of the data set of `seed`.
pub fn records(seed: u64, range: std::ops::Range<u64>) -> impl Iterator<Item = ConversationRecord> {
    range.map(move |i| record(seed, i))
}
