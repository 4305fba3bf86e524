//! The raw queueing measures of one replication: what the event loop
//! ([`super::run`]) tallies and the report ([`super::report`]) summarises.
//! Below both, so neither imports the other for them.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::ids::TierId;
use crate::record::{ConversationRecord, Outcome};

/// Raw queueing measures of one customer population in one replication
/// (customers asked after the warm-up).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct WaitTally {
    /// Assigned to an operator.
    pub served: u64,
    /// Left before an assignment, without a message.
    pub abandoned: u64,
    /// Left a message instead of waiting.
    pub messages_left: u64,
    /// Of served, abandoned and messages left: not assigned at the millisecond they arrived.
    pub waited: u64,
    /// Sum of the served customers' waits, ms.
    pub served_wait_ms: u64,
    /// Sum of the waits of those who left (abandoned or left a message), ms.
    pub left_wait_ms: u64,
    /// Served within each service-level threshold, in threshold order.
    pub served_within: Vec<u64>,
}

impl WaitTally {
    fn add(&mut self, outcome: Outcome, wait_ms: u64, thresholds_ms: &[f64]) {
        match outcome {
            Outcome::Answered => {
                self.served += 1;
                self.served_wait_ms += wait_ms;
                if self.served_within.len() < thresholds_ms.len() {
                    self.served_within.resize(thresholds_ms.len(), 0);
                }
                for (n, t) in self.served_within.iter_mut().zip(thresholds_ms) {
                    if wait_ms as f64 <= *t {
                        *n += 1;
                    }
                }
            }
            Outcome::Abandoned => {
                self.abandoned += 1;
                self.left_wait_ms += wait_ms;
            }
            Outcome::MessageLeft => {
                self.messages_left += 1;
                self.left_wait_ms += wait_ms;
            }
            Outcome::ClosedUnassigned | Outcome::Pending => return,
        }
        if wait_ms > 0 {
            self.waited += 1;
        }
    }

    fn finished(&self) -> u64 {
        self.served + self.abandoned + self.messages_left
    }

    /// P(wait), 0–1.
    pub fn p_wait(&self) -> Option<f64> {
        let n = self.finished();
        (n > 0).then(|| self.waited as f64 / n as f64)
    }

    /// Mean wait over everyone who was served or left, ms.
    pub fn wait_all_mean_ms(&self) -> Option<f64> {
        let n = self.finished();
        (n > 0).then(|| (self.served_wait_ms + self.left_wait_ms) as f64 / n as f64)
    }

    /// Mean wait of the served, ms.
    pub fn wait_served_mean_ms(&self) -> Option<f64> {
        (self.served > 0).then(|| self.served_wait_ms as f64 / self.served as f64)
    }

    /// Service level at threshold `k`: served within ÷ (served + abandoned), 0–1.
    pub fn service_level(&self, k: usize) -> Option<f64> {
        let d = self.served + self.abandoned;
        (d > 0).then(|| self.served_within.get(k).copied().unwrap_or(0) as f64 / d as f64)
    }
}

/// The queueing measures of one replication ([`super::run::RunResult::measures`]).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RunMeasures {
    /// The service-level thresholds, seconds.
    pub service_level_secs: Vec<f64>,
    /// Everyone asked after the warm-up.
    pub overall: WaitTally,
    /// Per tier, in tier-id order.
    pub by_tier: Vec<(TierId, WaitTally)>,
    /// The measured span, ms from the start: the warm-up's end...
    pub measured_from_ms: u64,
    /// ...to the end of arrivals (the last counted arrival under a customer count).
    pub measured_to_ms: u64,
    /// Customers who arrived in the measured span.
    pub arrivals: u64,
    /// Time-average number waiting over the measured span.
    pub queue_length_mean: Option<f64>,
    /// Largest number waiting held for a positive time in the measured span.
    pub queue_length_max: u32,
}

/// Collects [`RunMeasures`] while a replication runs (the event loop feeds it).
#[derive(Debug, Clone)]
pub(super) struct MeasureTally {
    thresholds_ms: Vec<f64>,
    secs: Vec<f64>,
    overall: WaitTally,
    by_tier: BTreeMap<TierId, WaitTally>,
    /// ∫ number waiting dt over the measured span so far, in customer·ms.
    area: u128,
    max: u32,
    /// The last sample: when, and how many were waiting from then on.
    last: (u64, u32),
}

impl MeasureTally {
    pub(super) fn new(service_level_secs: &[f64]) -> Self {
        MeasureTally {
            thresholds_ms: service_level_secs.iter().map(|s| s * 1000.0).collect(),
            secs: service_level_secs.to_vec(),
            overall: WaitTally::default(),
            by_tier: BTreeMap::new(),
            area: 0,
            max: 0,
            last: (0, 0),
        }
    }

    /// One finished (or pending) customer asked after the warm-up.
    pub(super) fn customer(&mut self, rec: &ConversationRecord) {
        let outcome = rec.outcome();
        let end = match outcome {
            Outcome::Answered => rec.assigned_at,
            Outcome::Abandoned | Outcome::MessageLeft => rec.abandoned_at.or(rec.resolved_at),
            Outcome::ClosedUnassigned | Outcome::Pending => None,
        };
        let Some(end) = end else {
            return;
        };
        let wait = end.0.saturating_sub(rec.asked_at.0);
        self.overall.add(outcome, wait, &self.thresholds_ms);
        self.by_tier
            .entry(rec.tier)
            .or_default()
            .add(outcome, wait, &self.thresholds_ms);
    }

    /// `waiting` customers wait from `t` on; the measured span is `[from, to)`.
    pub(super) fn queue(&mut self, t: u64, waiting: u32, from: u64, to: u64) {
        let (t0, q) = self.last;
        let (a, b) = (t0.clamp(from, to), t.clamp(from, to));
        if b > a {
            self.area += u128::from(q) * u128::from(b - a);
            self.max = self.max.max(q);
        }
        self.last = (t, waiting);
    }

    pub(super) fn finish(mut self, from: u64, to: u64, arrivals: u64) -> RunMeasures {
        let last = self.last.0.max(to);
        self.queue(last, 0, from, to);
        RunMeasures {
            service_level_secs: self.secs,
            overall: self.overall,
            by_tier: self.by_tier.into_iter().collect(),
            measured_from_ms: from,
            measured_to_ms: to,
            arrivals,
            queue_length_mean: (to > from).then(|| self.area as f64 / (to - from) as f64),
            queue_length_max: self.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue length is integrated over the measured span only: 2 waiting over
    /// [0, 10) (5 of it in the span), 4 over [10, 20), 1 from 20 on (10 in the span).
    #[test]
    fn queue_length_is_a_time_average_over_the_measured_span() {
        let mut m = MeasureTally::new(&[20.0]);
        let (from, to) = (5, 30);
        m.queue(0, 2, from, to);
        m.queue(10, 4, from, to);
        m.queue(20, 1, from, to);
        m.queue(40, 9, from, to); // after the span: adds nothing, is no maximum
        let r = m.finish(from, to, 0);
        let expected = (2.0 * 5.0 + 4.0 * 10.0 + 1.0 * 10.0) / 25.0;
        assert!((r.queue_length_mean.unwrap() - expected).abs() < 1e-12);
        assert_eq!(r.queue_length_max, 4);
    }

    /// Waits: served within each threshold, abandoners counted up to leaving, pending out.
    #[test]
    fn waits_count_everyone_who_was_served_or_left() {
        let mut m = MeasureTally::new(&[20.0, 60.0]);
        let at = |s: u64| Some(crate::time::Timestamp(s * 1000));
        let mut rec = |assigned: Option<u64>, left: Option<u64>, message: bool| {
            let mut r = ConversationRecord::new(
                crate::ids::ConversationId(1),
                crate::ids::ChannelId(1),
                TierId(1),
                crate::time::Timestamp(0),
            );
            r.assigned_at = assigned.and_then(at);
            r.abandoned_at = left.and_then(at);
            r.message_left = message;
            m.customer(&r);
        };
        rec(Some(0), None, false); // served at once
        rec(Some(30), None, false); // served after 30 s
        rec(None, Some(90), false); // abandoned after 90 s
        rec(None, Some(10), true); // left a message after 10 s
        rec(None, None, false); // still waiting: left out
        let r = m.finish(0, 1, 5);
        let t = &r.overall;
        assert_eq!(
            (t.served, t.abandoned, t.messages_left, t.waited),
            (2, 1, 1, 3)
        );
        assert_eq!(t.p_wait(), Some(0.75));
        assert_eq!(t.wait_all_mean_ms(), Some(130_000.0 / 4.0));
        assert_eq!(t.wait_served_mean_ms(), Some(15_000.0));
        assert_eq!(t.service_level(0), Some(1.0 / 3.0));
        assert_eq!(t.service_level(1), Some(2.0 / 3.0));
        assert_eq!(r.by_tier, vec![(TierId(1), t.clone())]);
    }
}
