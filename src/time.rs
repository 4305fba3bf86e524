//! Time as plain data: the core never reads a clock, the caller passes `now` in.

use core::fmt;
use core::ops::{Add, Sub};

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// A point in time, in milliseconds since the Unix epoch (UTC).
///
/// The engine never reads a clock: every time-dependent call takes a
/// `Timestamp` from the caller, so a stored event log replays identically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(transparent))]
pub struct Timestamp(pub u64);

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(transparent))]
pub struct Millis(pub u64);

impl Timestamp {
    /// The largest timestamp the engine accepts (2^53 ms, about the year
    /// 287,000): keeps every sum of a timestamp and a policy duration exact.
    pub const MAX: Timestamp = Timestamp(1 << 53);

    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    ///
    /// Saturating on purpose: callers ask "how long has this waited", and a
    /// wait is never negative.
    pub const fn since(self, earlier: Timestamp) -> Millis {
        Millis(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, or `None` on overflow.
    pub const fn checked_add(self, d: Millis) -> Option<Timestamp> {
        match self.0.checked_add(d.0) {
            Some(v) => Some(Timestamp(v)),
            None => None,
        }
    }

    /// `self + d`, saturating at the far future (used for deadlines only).
    pub const fn saturating_add(self, d: Millis) -> Timestamp {
        Timestamp(self.0.saturating_add(d.0))
    }
}

impl Millis {
    /// Zero milliseconds.
    pub const ZERO: Millis = Millis(0);

    /// `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        Millis(s.saturating_mul(1000))
    }

    /// `m` minutes.
    pub const fn from_mins(m: u64) -> Self {
        Millis(m.saturating_mul(60_000))
    }

    /// The span in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

impl Add<Millis> for Millis {
    type Output = Millis;
    fn add(self, rhs: Millis) -> Millis {
        Millis(self.0.saturating_add(rhs.0))
    }
}

impl Add<Millis> for Timestamp {
    type Output = Timestamp;
    /// Saturating: a deadline past the end of time is simply "never".
    fn add(self, rhs: Millis) -> Timestamp {
        self.saturating_add(rhs)
    }
}

impl Sub<Timestamp> for Timestamp {
    type Output = Millis;
    /// Saturating, see [`Timestamp::since`].
    fn sub(self, rhs: Timestamp) -> Millis {
        self.since(rhs)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 1000 == 0 {
            write!(f, "{} s", self.0 / 1000)
        } else {
            write!(f, "{}.{:03} s", self.0 / 1000, self.0 % 1000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_saturates_and_display_is_readable() {
        assert_eq!(Timestamp(5).since(Timestamp(9)), Millis(0));
        assert_eq!(Timestamp(9).since(Timestamp(5)), Millis(4));
        assert_eq!(Millis(61_500).to_string(), "61.500 s");
        assert_eq!(Millis::from_mins(2).to_string(), "120 s");
        assert_eq!(Timestamp(u64::MAX) + Millis(1), Timestamp(u64::MAX));
        assert_eq!(Timestamp(1).checked_add(Millis(u64::MAX)), None);
    }
}
