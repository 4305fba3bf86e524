//! One integer mixer shared by the crate's hash tables and its random streams.

/// SplitMix64's output function: a bijection on `u64` (`mix64(0) = 0`) in which every input bit
/// reaches every output bit. The engine's indexes and the KPI breakdowns hash their small integer
/// keys with it (a step or two per key, where a general-purpose hasher costs several times as
/// much), and the simulator's random streams are built on it.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
