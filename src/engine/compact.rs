//! Compact optional fields of the engine's records.
//!
//! `Option<Timestamp>` takes 16 bytes (a `u64` has no niche for `None`);
//! [`OptTime`] takes 8 by reserving one value as "none". It is internal to
//! the engine: the public types (views, snapshots, records) keep
//! `Option<Timestamp>`, and every read goes through [`OptTime::get`], so
//! snapshots and state hashes see exactly the values they saw before.
//! [`OptSlot`] does the same for an optional `u32` slot.

use crate::time::Timestamp;

/// An optional [`Timestamp`] in 8 bytes: `u64::MAX` stands for `None`.
///
/// The sentinel can never collide with a stored time: it holds event times,
/// which the engine refuses beyond [`Timestamp::MAX`] (2^53 ms,
/// [`crate::engine::EngineError::TimestampOutOfRange`]), or deadlines: such
/// a time plus a policy duration, every one of which the policy refuses
/// beyond `Timestamp::MAX` too ([`crate::policy::PolicyError::OutOfRange`]),
/// so at most 2^54. Snapshot restores refuse conversation times and
/// deadlines beyond these bounds. [`OptTime::set`] asserts it in debug
/// builds.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptTime(u64);

impl OptTime {
    const NONE_BITS: u64 = u64::MAX;

    /// No time.
    pub(crate) const NONE: OptTime = OptTime(Self::NONE_BITS);

    /// The time, if any.
    #[inline]
    pub(crate) const fn get(self) -> Option<Timestamp> {
        if self.0 == Self::NONE_BITS {
            None
        } else {
            Some(Timestamp(self.0))
        }
    }

    /// Stores `t` (`None` clears it).
    #[inline]
    pub(crate) fn set(&mut self, t: Option<Timestamp>) {
        *self = OptTime::from(t);
    }

    /// Whether a time is stored.
    #[inline]
    pub(crate) const fn is_some(self) -> bool {
        self.0 != Self::NONE_BITS
    }

    /// Stores `t` unless a time is already stored (`Option::get_or_insert`).
    #[inline]
    pub(crate) fn get_or_insert(&mut self, t: Timestamp) {
        if !self.is_some() {
            self.set(Some(t));
        }
    }
}

impl From<Option<Timestamp>> for OptTime {
    #[inline]
    fn from(t: Option<Timestamp>) -> Self {
        match t {
            Some(t) => {
                debug_assert!(
                    t.0 <= 2 * Timestamp::MAX.0,
                    "OptTime holds event times and deadlines only"
                );
                OptTime(t.0)
            }
            None => OptTime::NONE,
        }
    }
}

impl core::fmt::Debug for OptTime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.get().fmt(f)
    }
}

/// An optional slot in 4 bytes: `u32::MAX` stands for `None`. Slabs are
/// indexed by `u32` and a slot is at most their length, which stays below
/// `u32::MAX` (the engine runs out of memory long before).
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptSlot(u32);

impl OptSlot {
    /// No slot.
    pub(crate) const NONE: OptSlot = OptSlot(u32::MAX);

    /// The slot, if any.
    #[inline]
    pub(crate) const fn get(self) -> Option<u32> {
        if self.0 == u32::MAX {
            None
        } else {
            Some(self.0)
        }
    }
}

impl From<Option<u32>> for OptSlot {
    #[inline]
    fn from(s: Option<u32>) -> Self {
        match s {
            Some(s) => {
                debug_assert!(s != u32::MAX, "slot u32::MAX is the none value");
                OptSlot(s)
            }
            None => OptSlot::NONE,
        }
    }
}

impl core::fmt::Debug for OptSlot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_eight_bytes() {
        assert_eq!(std::mem::size_of::<OptTime>(), 8);
        for t in [
            None,
            Some(Timestamp(0)),
            Some(Timestamp(1)),
            Some(Timestamp::MAX),
        ] {
            assert_eq!(OptTime::from(t).get(), t);
        }
        let mut o = OptTime::NONE;
        assert!(!o.is_some());
        o.get_or_insert(Timestamp(5));
        o.get_or_insert(Timestamp(7));
        assert_eq!(o.get(), Some(Timestamp(5)));
        o.set(None);
        assert_eq!(o, OptTime::NONE);
    }

    #[test]
    fn slots_round_trip_in_four_bytes() {
        assert_eq!(std::mem::size_of::<OptSlot>(), 4);
        for s in [None, Some(0), Some(1), Some(u32::MAX - 1)] {
            assert_eq!(OptSlot::from(s).get(), s);
        }
    }
}
