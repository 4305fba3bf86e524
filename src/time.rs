//! Time as plain data: the core never reads a clock, the caller passes `now` in.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use switchboard::{Millis, Timestamp};
//!
//! let now = Timestamp::try_from(UNIX_EPOCH + Duration::from_secs(1_700_000_000))?;
//! assert_eq!(now, Timestamp(1_700_000_000_000));
//! let later = now + Millis::from_secs(90);
//! assert_eq!(later.0 - now.0, 90_000);
//! assert!(Timestamp::try_from(UNIX_EPOCH - Duration::from_secs(1)).is_err());
//! # Ok::<(), switchboard::time::TimeError>(())
//! ```

use core::fmt;
use core::ops::{Add, Sub};
use std::time::{Duration, SystemTime};

use thiserror::Error;

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

/// A std time value that has no exact [`Millis`] or [`Timestamp`]: the
/// conversions refuse rather than clamp, so a bad clock reading is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TimeError {
    /// A duration longer than `u64::MAX` milliseconds.
    #[error("a duration of {secs} s does not fit in 64-bit milliseconds")]
    DurationTooLong {
        /// Its whole seconds.
        secs: u64,
    },
    /// A system time before the Unix epoch.
    #[error("system time is {before_ms} ms before the Unix epoch")]
    BeforeEpoch {
        /// How far before, in whole milliseconds.
        before_ms: u128,
    },
    /// A system time beyond [`Timestamp::MAX`].
    #[error("system time is {ms} ms after the epoch, beyond the largest timestamp ({} ms)", Timestamp::MAX.0)]
    BeyondMax {
        /// Its milliseconds since the epoch.
        ms: u128,
    },
}

/// Whole milliseconds; the sub-millisecond rest is dropped (the engine
/// counts in ms), a duration beyond `u64::MAX` ms is refused.
impl TryFrom<Duration> for Millis {
    type Error = TimeError;
    fn try_from(d: Duration) -> Result<Self, TimeError> {
        u64::try_from(d.as_millis())
            .map(Millis)
            .map_err(|_| TimeError::DurationTooLong { secs: d.as_secs() })
    }
}

impl From<Millis> for Duration {
    fn from(m: Millis) -> Duration {
        Duration::from_millis(m.0)
    }
}

impl Millis {
    /// The span as a [`Duration`] (always exact).
    pub const fn to_duration(self) -> Duration {
        Duration::from_millis(self.0)
    }
}

/// Whole milliseconds since the epoch (the sub-millisecond rest is
/// dropped); before the epoch or beyond [`Timestamp::MAX`] is refused.
impl TryFrom<SystemTime> for Timestamp {
    type Error = TimeError;
    fn try_from(t: SystemTime) -> Result<Self, TimeError> {
        match t.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => {
                let ms = d.as_millis();
                if ms > u128::from(Timestamp::MAX.0) {
                    return Err(TimeError::BeyondMax { ms });
                }
                Ok(Timestamp(ms as u64))
            }
            Err(e) => Err(TimeError::BeforeEpoch {
                before_ms: e.duration().as_millis(),
            }),
        }
    }
}

impl Timestamp {
    /// The instant as a [`SystemTime`], or `None` where the platform's
    /// `SystemTime` cannot hold it (far future on some platforms).
    pub fn to_system_time(self) -> Option<SystemTime> {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_convert_exactly_or_are_refused() {
        assert_eq!(
            Millis::try_from(Duration::from_millis(1_500)),
            Ok(Millis(1_500))
        );
        // Sub-millisecond rest is dropped, not rounded.
        assert_eq!(
            Millis::try_from(Duration::from_micros(2_999)),
            Ok(Millis(2))
        );
        assert_eq!(
            Millis::try_from(Duration::from_millis(u64::MAX)),
            Ok(Millis(u64::MAX))
        );
        assert_eq!(
            Millis::try_from(Duration::MAX),
            Err(TimeError::DurationTooLong { secs: u64::MAX })
        );
        assert_eq!(Millis(61_500).to_duration(), Duration::from_millis(61_500));
        assert_eq!(Duration::from(Millis(7)), Duration::from_millis(7));
        for m in [0, 1, 999, 1_000, u64::MAX] {
            assert_eq!(Millis::try_from(Millis(m).to_duration()), Ok(Millis(m)));
        }
    }

    #[test]
    fn system_times_convert_within_the_engine_range() {
        let epoch = SystemTime::UNIX_EPOCH;
        assert_eq!(Timestamp::try_from(epoch), Ok(Timestamp(0)));
        let t = epoch + Duration::from_millis(1_700_000_000_123) + Duration::from_micros(900);
        assert_eq!(Timestamp::try_from(t), Ok(Timestamp(1_700_000_000_123)));
        assert_eq!(
            Timestamp(1_700_000_000_123).to_system_time(),
            Some(epoch + Duration::from_millis(1_700_000_000_123))
        );
        assert_eq!(
            Timestamp::try_from(epoch - Duration::from_millis(5)),
            Err(TimeError::BeforeEpoch { before_ms: 5 })
        );
        let max = epoch + Duration::from_millis(Timestamp::MAX.0);
        assert_eq!(Timestamp::try_from(max), Ok(Timestamp::MAX));
        assert_eq!(
            Timestamp::try_from(max + Duration::from_millis(1)),
            Err(TimeError::BeyondMax {
                ms: u128::from(Timestamp::MAX.0) + 1
            })
        );
        if let Some(back) = Timestamp::MAX.to_system_time() {
            assert_eq!(Timestamp::try_from(back), Ok(Timestamp::MAX));
        }
        let now = Timestamp::try_from(SystemTime::now()).map(|t| t.as_millis());
        assert!(now.is_ok_and(|ms| ms > 1_600_000_000_000));
    }

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
