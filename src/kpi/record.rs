//! Checks on the interchange row ([`ConversationRecord`], defined with the other lifecycle
//! records in [`crate::record`]) before the KPI calculators count it.

use super::KpiError;
use crate::record::{ConversationRecord, SATISFACTION_MAX};
use crate::time::Timestamp;

impl ConversationRecord {
    /// Checks the row on its own (no ordering or duplicate checks: see
    /// [`RecordValidator`](super::RecordValidator)). `line` is echoed in the error.
    ///
    /// # Errors
    /// [`KpiError::BeforeAsk`] (field `offered_at`, `assigned_at`, `first_response_at`, `resolved_at` or
    /// `abandoned_at`, in that order), [`KpiError::AssignedAfterResolved`],
    /// [`KpiError::AbandonedBeforeAssigned`], [`KpiError::OutOfRange`] (field `satisfaction`).
    pub fn validate(&self, line: u64) -> Result<(), KpiError> {
        if self.is_valid() {
            return Ok(());
        }
        self.find_error(line)
    }

    /// Whether [`ConversationRecord::validate`] passes: the same checks as booleans, with no
    /// error to build, since nearly every row is valid and this runs once per row.
    #[inline]
    pub(crate) fn is_valid(&self) -> bool {
        let ask = self.asked_at;
        let after_ask = |t: Option<Timestamp>| t.is_none_or(|t| t >= ask);
        after_ask(self.offered_at)
            & after_ask(self.assigned_at)
            & after_ask(self.first_response_at)
            & after_ask(self.resolved_at)
            & after_ask(self.abandoned_at)
            & match (self.assigned_at, self.resolved_at) {
                (Some(a), Some(r)) => a <= r,
                _ => true,
            }
            & match (self.assigned_at, self.abandoned_at) {
                (Some(a), Some(l)) => l >= a || self.message_left,
                _ => true,
            }
            & self
                .satisfaction
                .is_none_or(|s| (1..=SATISFACTION_MAX).contains(&s))
    }

    /// The first failing check, in the documented order (`Ok` if none fails).
    fn find_error(&self, line: u64) -> Result<(), KpiError> {
        let ask = self.asked_at.0;
        for (field, t) in [
            ("offered_at", self.offered_at),
            ("assigned_at", self.assigned_at),
            ("first_response_at", self.first_response_at),
            ("resolved_at", self.resolved_at),
            ("abandoned_at", self.abandoned_at),
        ] {
            if let Some(t) = t {
                if t.0 < ask {
                    return Err(KpiError::BeforeAsk {
                        line,
                        field,
                        at: t.0,
                        asked_at: ask,
                    });
                }
            }
        }
        if let (Some(a), Some(r)) = (self.assigned_at, self.resolved_at) {
            if a > r {
                return Err(KpiError::AssignedAfterResolved {
                    line,
                    assigned_at: a.0,
                    resolved_at: r.0,
                });
            }
        }
        if let (Some(a), Some(l)) = (self.assigned_at, self.abandoned_at) {
            if l < a && !self.message_left {
                return Err(KpiError::AbandonedBeforeAssigned {
                    line,
                    abandoned_at: l.0,
                    assigned_at: a.0,
                });
            }
        }
        if let Some(s) = self.satisfaction {
            if !(1..=SATISFACTION_MAX).contains(&s) {
                return Err(KpiError::OutOfRange {
                    line,
                    field: "satisfaction",
                    value: u64::from(s),
                    reason: "a satisfaction score is 1 to 5",
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ChannelId, ConversationId, TierId};
    use crate::record::Outcome;

    fn rec() -> ConversationRecord {
        ConversationRecord::new(ConversationId(1), ChannelId(0), TierId(0), Timestamp(1_000))
    }

    #[test]
    fn outcome_precedence() {
        let mut r = rec();
        assert_eq!(r.outcome(), Outcome::Pending);
        r.resolved_at = Some(Timestamp(5_000));
        assert_eq!(r.outcome(), Outcome::ClosedUnassigned);
        r.abandoned_at = Some(Timestamp(2_000));
        assert_eq!(r.outcome(), Outcome::Abandoned);
        r.assigned_at = Some(Timestamp(1_500));
        assert_eq!(r.outcome(), Outcome::Answered);
        r.message_left = true;
        assert_eq!(r.outcome(), Outcome::MessageLeft);
    }

    /// The boolean fast path agrees with the checks that build errors, on every combination of
    /// timestamps around the ask, message-left flag and satisfaction value.
    #[test]
    fn fast_check_agrees_with_errors() {
        let times = [
            None,
            Some(0),
            Some(999),
            Some(1_000),
            Some(1_001),
            Some(2_000),
        ];
        for &a in &times {
            for &f in &times {
                for &r in &times {
                    for &l in &times {
                        for ml in [false, true] {
                            for sat in [None, Some(0), Some(1), Some(5), Some(6)] {
                                let mut x = rec();
                                x.assigned_at = a.map(Timestamp);
                                x.first_response_at = f.map(Timestamp);
                                x.resolved_at = r.map(Timestamp);
                                x.abandoned_at = l.map(Timestamp);
                                x.message_left = ml;
                                x.satisfaction = sat;
                                assert_eq!(x.is_valid(), x.find_error(1).is_ok(), "{x:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn validate_names_the_field() {
        let mut r = rec();
        r.first_response_at = Some(Timestamp(999));
        assert_eq!(
            r.validate(3).err().and_then(|e| e.field()),
            Some("first_response_at")
        );
        let mut r = rec();
        r.assigned_at = Some(Timestamp(3_000));
        r.resolved_at = Some(Timestamp(2_000));
        assert!(matches!(
            r.validate(4),
            Err(KpiError::AssignedAfterResolved { line: 4, .. })
        ));
        let mut r = rec();
        r.satisfaction = Some(0);
        assert!(matches!(r.validate(1), Err(KpiError::OutOfRange { .. })));
        r.satisfaction = Some(5);
        assert_eq!(r.validate(1), Ok(()));
    }
}
