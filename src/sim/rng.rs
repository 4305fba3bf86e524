//! The simulator's random-number generator: xoshiro256++, seeded by SplitMix64.
//!
//! # Algorithm
//!
//! * Generator: **xoshiro256++ 1.0** by D. Blackman and S. Vigna,
//!   reference implementation <https://prng.di.unimi.it/xoshiro256plusplus.c>
//!   (paper: "Scrambled linear pseudorandom number generators", ACM TOMS 47(4), 2021).
//!   256 bits of state, period 2²⁵⁶ − 1, passes BigCrush and PractRand.
//! * Seeding ([`Rng::new`]): the four state words are the first four outputs
//!   of **SplitMix64** (<https://prng.di.unimi.it/splitmix64.c>) started at
//!   `seed`, exactly as the xoshiro authors recommend. SplitMix64 never
//!   yields four zero words in a row, so the state is never all-zero.
//! * Streams ([`Rng::stream`]): see its docs; [`Rng::jump`] is the reference
//!   `jump()` (2¹²⁸ steps) for provably disjoint sub-sequences.
//!
//! Everything here is integer arithmetic (wrapping adds, shifts, rotations,
//! xors) plus one exact integer-to-float conversion, so a seed gives the same
//! sequence on every platform, compiler and optimisation level.
//!
//! # Example
//!
//! ```
//! use switchboard::sim::rng::Rng;
//!
//! let (mut a, mut b) = (Rng::new(42), Rng::new(42));
//! assert_eq!(a.next_u64(), b.next_u64()); // one seed, one sequence
//! // Replication streams never overlap and need no coordination.
//! let mut r3 = Rng::stream(42, 3);
//! assert_ne!(r3.next_u64(), Rng::stream(42, 4).next_u64());
//! let u = a.next_f64();
//! assert!((0.0..1.0).contains(&u));
//! ```

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use core::num::NonZeroU64;

use crate::mix::mix64;

/// Increment of SplitMix64 (the golden ratio in 64-bit fixed point).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// One SplitMix64 step: advances `state` and returns the mixed output.
///
/// This is `next()` of the reference `splitmix64.c`.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GOLDEN_GAMMA);
    mix64(*state)
}

/// A seeded xoshiro256++ generator owned by one simulation run.
///
/// `Clone` copies the stream position; serialising (feature `serde`) stores
/// the four state words as `{"state": [s0, s1, s2, s3]}` so a simulation can
/// snapshot and resume bit-identically. Deserialising rejects the all-zero
/// state, from which xoshiro would only ever produce zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(try_from = "RngState", into = "RngState")
)]
pub struct Rng {
    s: [u64; 4],
}

/// Serialised form of [`Rng`].
#[cfg(feature = "serde")]
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RngState {
    state: [u64; 4],
}

#[cfg(feature = "serde")]
impl TryFrom<RngState> for Rng {
    type Error = ZeroState;
    fn try_from(value: RngState) -> Result<Self, ZeroState> {
        Rng::from_state(value.state)
    }
}

#[cfg(feature = "serde")]
impl From<Rng> for RngState {
    fn from(rng: Rng) -> Self {
        RngState { state: rng.s }
    }
}

/// The all-zero xoshiro state was supplied; it is a fixed point (only zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rng state must not be all zeros")]
pub struct ZeroState;

impl Rng {
    /// A generator whose state is the first four SplitMix64 outputs from `seed`.
    ///
    /// # Example
    /// ```
    /// use switchboard::sim::rng::Rng;
    /// let mut a = Rng::new(42);
    /// let mut b = Rng::new(42);
    /// assert_eq!(a.next_u64(), b.next_u64());
    /// ```
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    /// A generator with exactly this xoshiro256++ state (e.g. to check the
    /// reference outputs or to restore a snapshot).
    ///
    /// # Errors
    /// [`ZeroState`] for `[0, 0, 0, 0]`.
    pub fn from_state(state: [u64; 4]) -> Result<Self, ZeroState> {
        if state == [0; 4] {
            Err(ZeroState)
        } else {
            Ok(Rng { s: state })
        }
    }

    /// The current state words, `[s0, s1, s2, s3]` as in the reference code.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// Generator number `index` of the family keyed by `seed`: one per
    /// replication (or per replication and purpose, e.g. arrivals and handle
    /// times, by giving each purpose its own index range).
    ///
    /// Derivation: `start = mix64(mix64(seed) ^ index)`, where `mix64` is
    /// SplitMix64's output function (a bijection), then the state is the
    /// first four SplitMix64 outputs from `start`, as in [`Rng::new`]. So
    /// `stream(seed, i)` equals `Rng::new(mix64(mix64(seed) ^ i))`. Distinct
    /// `(seed, index)` pairs collide only if `mix64(seed) ^ index` collide,
    /// which for structured inputs (small seeds, consecutive indices) has
    /// probability about 2⁻⁶⁴; with a period of 2²⁵⁶ − 1 the streams are
    /// then independent for every practical purpose. For sub-sequences that
    /// are *provably* disjoint, clone one generator and call [`Rng::jump`]
    /// between clones instead. O(1).
    ///
    /// # Example
    /// ```
    /// use switchboard::sim::rng::Rng;
    /// let mut r0 = Rng::stream(7, 0);
    /// let mut r1 = Rng::stream(7, 1);
    /// assert_ne!(r0.next_u64(), r1.next_u64());
    /// assert_eq!(Rng::stream(7, 1), Rng::stream(7, 1));
    /// ```
    pub fn stream(seed: u64, index: u64) -> Self {
        Rng::new(mix64(mix64(seed) ^ index))
    }

    /// The next 64 random bits (xoshiro256++ `next()`).
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform `f64` in `[0, 1)`: the top 53 bits of [`Rng::next_u64`]
    /// times 2⁻⁵³, so every value is a multiple of 2⁻⁵³ and exactly
    /// representable.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform `f64` in `(0, 1]` (`1 − next_f64()`), safe to pass to `ln`.
    #[inline]
    pub fn next_f64_nonzero(&mut self) -> f64 {
        1.0 - self.next_f64()
    }

    /// A uniform integer in `0..n` without modulo bias.
    ///
    /// Lemire's multiply-and-reject method ("Fast random integer generation
    /// in an interval", ACM TOMS 2019): take the high 64 bits of
    /// `x · n` for a random `x`, rejecting the few `x` whose low half falls
    /// below `2⁶⁴ mod n`. Usually one draw; never more than two on average.
    ///
    /// # Example
    /// ```
    /// use core::num::NonZeroU64;
    /// use switchboard::sim::rng::Rng;
    /// let mut rng = Rng::new(1);
    /// let six = NonZeroU64::new(6).ok_or("zero")?;
    /// assert!(rng.below(six) < 6);
    /// # Ok::<(), &'static str>(())
    /// ```
    #[inline]
    pub fn below(&mut self, n: NonZeroU64) -> u64 {
        let n = n.get();
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            // 2^64 mod n, computed as (2^64 − n) mod n.
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// Advances the state by 2¹²⁸ steps (the reference `jump()`): calling
    /// it between clones yields up to 2¹²⁸ non-overlapping sub-sequences of
    /// 2¹²⁸ draws each. Costs 256 steps of the generator.
    pub fn jump(&mut self) {
        const JUMP: [u64; 4] = [
            0x180e_c6d3_3cfd_0aba,
            0xd5a6_1266_f0c9_392c,
            0xa958_2618_e03f_c9aa,
            0x39ab_dc45_29b1_661c,
        ];
        let mut acc = [0u64; 4];
        for word in JUMP {
            for bit in 0..64 {
                if word & (1u64 << bit) != 0 {
                    for (a, s) in acc.iter_mut().zip(self.s) {
                        *a ^= s;
                    }
                }
                self.next_u64();
            }
        }
        self.s = acc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix64_is_zero_at_zero() {
        assert_eq!(mix64(0), 0);
    }

    #[test]
    fn next_f64_extremes() {
        // Top 53 bits all ones → largest value below 1.
        let x = (u64::MAX >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        assert!(x < 1.0);
        assert_eq!(x, 1.0 - f64::EPSILON / 2.0);
    }

    #[test]
    fn jump_changes_state_and_is_deterministic() {
        let mut a = Rng::new(3);
        let mut b = a.clone();
        a.jump();
        b.jump();
        assert_eq!(a, b);
        assert_ne!(a, Rng::new(3));
    }
}
