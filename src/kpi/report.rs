//! The report derived from a [`KpiAccumulator`]: rates, summaries, breakdowns, operator table.

use std::collections::BTreeMap;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::accumulator::{Cell, KpiAccumulator, dur, ix, within};
use super::config::PeriodAnchor;
use super::error::SkipReason;
use super::period::Period;
use super::sketch::DurationSummary;
use crate::ids::{ChannelId, OperatorId, QueueId, TeamId, TierId};
use crate::time::Millis;

/// A ratio kept as its integer terms. `ratio` is `numerator ÷ denominator`, or `None` when the
/// denominator is 0 (never 0 or NaN). Multiply by 100 to display a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Rate {
    /// Numerator.
    pub numerator: u64,
    /// Denominator.
    pub denominator: u64,
    /// The quotient, if the denominator is not 0.
    pub ratio: Option<f64>,
}

impl Rate {
    /// `numerator ÷ denominator`.
    pub fn new(numerator: u64, denominator: u64) -> Self {
        Rate {
            numerator,
            denominator,
            ratio: (denominator > 0).then(|| numerator as f64 / denominator as f64),
        }
    }

    /// The ratio in percent.
    pub fn percent(&self) -> Option<f64> {
        self.ratio.map(|r| r * 100.0)
    }
}

/// Abandonment rates in the variants contact-center tools use (see the
/// [worked example](super#worked-example)). Abandoned = left between the ask and an assignment;
/// a message left is not abandonment (Amazon Connect does not count a queued callback as one),
/// nor is leaving during the bot stage.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct AbandonmentRates {
    /// A, as the Gitple dashboard: abandoned ÷ handled (can exceed 100 %; mixes anchors under
    /// [`PeriodAnchor::PerKpi`]).
    pub per_handled: Rate,
    /// B, the default: abandoned ÷ offered (Amazon Connect, Genesys).
    pub per_offered: Rate,
    /// C: abandoned ÷ (answered + abandoned) (NICE inContact).
    pub per_answered_and_abandoned: Rate,
    /// D over offered: (abandoned − short) ÷ (offered − short), when a short-abandon threshold
    /// is set (Cisco).
    pub short_excluded_per_offered: Option<Rate>,
    /// D over answered + abandoned: (abandoned − short) ÷ (answered + abandoned − short).
    pub short_excluded_per_answered_and_abandoned: Option<Rate>,
}

/// Service level at one threshold T, in the variants contact-center tools use (see the
/// [worked example](super#worked-example)).
/// A = answered, A_T = answered with wait ≤ T, B = abandoned, B_T = abandoned with time to
/// abandon ≤ T, B_S = short abandons, M = messages left, M_T = left a message within T,
/// N = offered. Pending requests are in no term but N.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ServiceLevel {
    /// T.
    pub threshold: Millis,
    /// A_T.
    pub answered_within: u64,
    /// B_T.
    pub abandoned_within: u64,
    /// M_T.
    pub message_left_within: u64,
    /// SL-fail, the default: A_T ÷ (A + B) (Genesys, Cisco "negative impact").
    pub default: Rate,
    /// SL-ans: A_T ÷ A, abandons ignored (Asterisk SL).
    pub answered_only: Rate,
    /// SL-fail with flow-outs: A_T ÷ (A + B + M) (Genesys "include flowouts").
    pub with_messages_left: Rate,
    /// SL-pos: (A_T + B_T) ÷ (A + B) (Asterisk SL2, Cisco "positive impact").
    pub abandons_within_pass: Rate,
    /// SL-excl: A_T ÷ (A + B − B_T) (Cisco "ignore abandoned").
    pub abandons_within_excluded: Rate,
    /// SL-short: A_T ÷ (A + B − B_S), when a short-abandon threshold is set.
    pub short_abandons_excluded: Option<Rate>,
    /// Amazon Connect "service level X": (A_T + B_T + M_T) ÷ N.
    pub left_queue_within: Rate,
    /// FRT attainment: first responses ≤ T ÷ answered requests with a first response.
    pub first_response_within: Rate,
}

/// Satisfaction over rated requests.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Satisfaction {
    /// Rated requests.
    pub rated: u64,
    /// Mean score (1–5).
    pub mean: Option<f64>,
    /// Top-2-box: ratings ≥ 4 ÷ rated.
    pub top_two_box: Rate,
    /// Rated ÷ resolved.
    pub response_rate: Rate,
}

/// Occupancy from caller-supplied status intervals: busy ÷ (busy.saturating_add(idle)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Occupancy {
    /// Ms holding at least one conversation.
    pub busy_ms: u64,
    /// Ms available with none.
    pub idle_ms: u64,
    /// busy ÷ (busy.saturating_add(idle)).
    pub occupancy: Rate,
}

/// A tag and how many requests carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TagCount {
    /// The tag.
    pub tag: String,
    /// Requests with it.
    pub count: u64,
}

/// Every metric for one population (overall, one tier, one channel, one team, one queue or one
/// operator).
///
/// Demand metrics are over requests asked in the period; output metrics (handled, handle time,
/// satisfaction, resolved) over requests resolved in it under [`PeriodAnchor::PerKpi`], or asked
/// in it under [`PeriodAnchor::AskedAt`].
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct KpiStats {
    /// N: requests asked (offered to the queue).
    pub offered: u64,
    /// A: assigned to an operator (no message left).
    pub answered: u64,
    /// B: left before assignment.
    pub abandoned: u64,
    /// Abandoned within the short-abandon threshold (0 when none is set).
    pub short_abandoned: u64,
    /// M: left a message.
    pub messages_left: u64,
    /// Left a message and later got a response.
    pub messages_answered: u64,
    /// Resolved without ever being assigned.
    pub closed_unassigned: u64,
    /// Still waiting at the end of the data.
    pub pending: u64,
    /// No request is pending: the demand figures will not change.
    pub is_final: bool,
    /// Answered, then the customer left before any response.
    pub unanswered_after_assign: u64,
    /// Assigned and resolved: handled by an operator.
    pub handled: u64,
    /// Resolved, assigned or not.
    pub resolved: u64,
    /// Sum of transfers.
    pub transfers: u64,
    /// Requests transferred at least once.
    pub transferred: u64,
    /// Sum of missed (declined or expired) offers.
    pub missed_offers: u64,
    /// Wait = assigned_at − asked_at over answered requests (ASA is its mean).
    pub wait: DurationSummary,
    /// First response time = first_response_at − asked_at over answered requests with a response.
    pub first_response: DurationSummary,
    /// The same counting only business hours, when a schedule is configured.
    pub first_response_business: Option<DurationSummary>,
    /// Time to abandon = abandoned_at − asked_at over abandoned requests.
    pub time_to_abandon: DurationSummary,
    /// Handle time = resolved_at − assigned_at over handled requests.
    pub handle: DurationSummary,
    /// Response rate: answered ÷ offered.
    pub response_rate: Rate,
    /// Abandonment rates.
    pub abandonment: AbandonmentRates,
    /// Service level per configured threshold, in threshold order.
    pub service_levels: Vec<ServiceLevel>,
    /// Satisfaction.
    pub satisfaction: Satisfaction,
    /// Occupancy (only operators and overall receive status intervals).
    pub occupancy: Occupancy,
    /// Tag counts, by tag name.
    pub tags: Vec<TagCount>,
}

/// One row of the per-operator table (Gitple's handled-per-operator list).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct OperatorRow {
    /// The operator.
    pub operator: OperatorId,
    /// Requests handled (assigned and resolved), credited to the record's operator.
    pub handled: u64,
    /// Mean handle time in ms.
    pub mean_handle_ms: Option<f64>,
    /// Longest handle time.
    pub max_handle: Option<Millis>,
    /// Requests answered (assigned) with this operator as holder.
    pub answered: u64,
    /// Mean first response time in ms.
    pub mean_first_response_ms: Option<f64>,
    /// Missed offers.
    pub missed_offers: u64,
    /// Transfers.
    pub transfers: u64,
    /// Occupancy from status intervals.
    pub occupancy: Rate,
    /// Mean satisfaction.
    pub satisfaction_mean: Option<f64>,
}

/// A skip reason and its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SkippedRows {
    /// Why.
    pub reason: SkipReason,
    /// How many rows.
    pub count: u64,
}

/// Everything a dashboard shows, derived from a [`KpiAccumulator`] at the end of a pass.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct KpiReport {
    /// The period, if one was configured.
    pub period: Option<Period>,
    /// The anchor used to place records in the period.
    pub anchor: PeriodAnchor,
    /// Valid records read (in or out of the period).
    pub records: u64,
    /// Valid records outside the period.
    pub out_of_period: u64,
    /// Rows skipped in total.
    pub skipped: u64,
    /// Rows skipped per reason (non-zero reasons only).
    pub skipped_by_reason: Vec<SkippedRows>,
    /// All records.
    pub overall: KpiStats,
    /// Per tier.
    pub by_tier: BTreeMap<TierId, KpiStats>,
    /// Per channel.
    pub by_channel: BTreeMap<ChannelId, KpiStats>,
    /// Per team (records without a team are not in this breakdown).
    pub by_team: BTreeMap<TeamId, KpiStats>,
    /// Per queue: `None` is the default queue, where records without a queue count (so every
    /// record is in exactly one queue, and the queues' offered add up to the overall's). Empty
    /// when there are no records. In JSON a list of `[queue, stats]` pairs, `null` for the
    /// default queue (a JSON object cannot have it as a key).
    #[cfg_attr(feature = "serde", serde(default, with = "queue_map"))]
    pub by_queue: BTreeMap<Option<QueueId>, KpiStats>,
    /// Per operator (records without an operator are not in this breakdown).
    pub by_operator: BTreeMap<OperatorId, KpiStats>,
    /// The operator table: handled count most first, then mean handle time shortest first
    /// (operators without one last), then operator id.
    pub operators: Vec<OperatorRow>,
}

impl KpiAccumulator {
    fn stats(&self, c: &Cell) -> KpiStats {
        let n = c.c[ix::OFFERED];
        let a = c.c[ix::ANSWERED];
        let b = c.c[ix::ABANDONED];
        let m = c.c[ix::MESSAGE_LEFT];
        let bs = c.c[ix::SHORT_ABANDONED];
        let h = c.c[ix::HANDLED];
        let ab = a.saturating_add(b);
        let short = self.config().short_abandon.is_some();
        let service_levels = self
            .config()
            .service_level_thresholds
            .iter()
            .zip(c.within.iter())
            .map(|(&t, w)| {
                let at = w[within::ANSWERED];
                let bt = w[within::ABANDONED];
                let mt = w[within::MESSAGE_LEFT];
                ServiceLevel {
                    threshold: t,
                    answered_within: at,
                    abandoned_within: bt,
                    message_left_within: mt,
                    default: Rate::new(at, ab),
                    answered_only: Rate::new(at, a),
                    with_messages_left: Rate::new(at, ab.saturating_add(m)),
                    abandons_within_pass: Rate::new(at.saturating_add(bt), ab),
                    abandons_within_excluded: Rate::new(at, ab.saturating_sub(bt)),
                    short_abandons_excluded: short.then(|| Rate::new(at, ab.saturating_sub(bs))),
                    left_queue_within: Rate::new(at.saturating_add(bt).saturating_add(mt), n),
                    first_response_within: Rate::new(
                        w[within::FIRST_RESPONSE],
                        c.d[dur::FIRST_RESPONSE].count(),
                    ),
                }
            })
            .collect();
        let rated = c.c[ix::RATED];
        let busy = c.c[ix::BUSY_MS];
        let idle = c.c[ix::IDLE_MS];
        let tags = c
            .tags
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, &count)| TagCount {
                tag: self.tag_name(i).to_owned(),
                count,
            })
            .collect::<Vec<_>>();
        let mut tags = tags;
        tags.sort_by(|x, y| x.tag.cmp(&y.tag));
        KpiStats {
            offered: n,
            answered: a,
            abandoned: b,
            short_abandoned: bs,
            messages_left: m,
            messages_answered: c.c[ix::MESSAGES_ANSWERED],
            closed_unassigned: c.c[ix::CLOSED_UNASSIGNED],
            pending: c.c[ix::PENDING],
            is_final: c.c[ix::PENDING] == 0,
            unanswered_after_assign: c.c[ix::UNANSWERED_AFTER_ASSIGN],
            handled: h,
            resolved: c.c[ix::RESOLVED],
            transfers: c.c[ix::TRANSFERS],
            transferred: c.c[ix::TRANSFERRED],
            missed_offers: c.c[ix::MISSED_OFFERS],
            wait: c.d[dur::WAIT].summary(),
            first_response: c.d[dur::FIRST_RESPONSE].summary(),
            first_response_business: self
                .config()
                .business_hours
                .as_ref()
                .map(|_| c.d[dur::FIRST_RESPONSE_BUSINESS].summary()),
            time_to_abandon: c.d[dur::TIME_TO_ABANDON].summary(),
            handle: c.d[dur::HANDLE].summary(),
            response_rate: Rate::new(a, n),
            abandonment: AbandonmentRates {
                per_handled: Rate::new(b, h),
                per_offered: Rate::new(b, n),
                per_answered_and_abandoned: Rate::new(b, ab),
                short_excluded_per_offered: short
                    .then(|| Rate::new(b.saturating_sub(bs), n.saturating_sub(bs))),
                short_excluded_per_answered_and_abandoned: short
                    .then(|| Rate::new(b.saturating_sub(bs), ab.saturating_sub(bs))),
            },
            service_levels,
            satisfaction: Satisfaction {
                rated,
                mean: (rated > 0).then(|| c.c[ix::SATISFACTION_SUM] as f64 / rated as f64),
                top_two_box: Rate::new(c.c[ix::SATISFIED], rated),
                response_rate: Rate::new(rated, c.c[ix::RESOLVED]),
            },
            occupancy: Occupancy {
                busy_ms: busy,
                idle_ms: idle,
                occupancy: Rate::new(busy, busy.saturating_add(idle)),
            },
            tags,
        }
    }

    /// Derives the report. Means and ratios are computed here, once, from the integer state.
    pub fn report(&self) -> KpiReport {
        // Breakdowns are held in arrival order; the report is where key order is imposed.
        let groups = self.groups();
        let operators = self.by_operator.sorted();
        let by_operator: BTreeMap<OperatorId, KpiStats> =
            operators.iter().map(|(k, c)| (*k, self.stats(c))).collect();
        let mut keyed: Vec<(u64, u128, OperatorRow)> = operators
            .iter()
            .map(|(op, c)| {
                let s = &by_operator[op];
                let hd = &c.d[dur::HANDLE];
                let row = OperatorRow {
                    operator: *op,
                    handled: s.handled,
                    mean_handle_ms: hd.mean_ms(),
                    max_handle: hd.max(),
                    answered: s.answered,
                    mean_first_response_ms: s.first_response.mean_ms,
                    missed_offers: s.missed_offers,
                    transfers: s.transfers,
                    occupancy: s.occupancy.occupancy,
                    satisfaction_mean: s.satisfaction.mean,
                };
                (hd.count(), hd.sum(), row)
            })
            .collect();
        // Exact comparison of mean handle times: s1/n1 < s2/n2 ⇔ s1·n2 < s2·n1.
        keyed.sort_by(|(n1, s1, r1), (n2, s2, r2)| {
            n2.cmp(n1)
                .then_with(|| match (*n1, *n2) {
                    (0, 0) => core::cmp::Ordering::Equal,
                    (0, _) => core::cmp::Ordering::Greater,
                    (_, 0) => core::cmp::Ordering::Less,
                    _ => match (
                        s1.checked_mul(u128::from(*n2)),
                        s2.checked_mul(u128::from(*n1)),
                    ) {
                        (Some(x), Some(y)) => x.cmp(&y),
                        _ => (*s1 as f64 / *n1 as f64).total_cmp(&(*s2 as f64 / *n2 as f64)),
                    },
                })
                .then_with(|| r1.operator.cmp(&r2.operator))
        });
        KpiReport {
            period: self.config().period,
            anchor: self.config().anchor,
            records: self.records(),
            out_of_period: self.out_of_period(),
            skipped: self.skipped_total(),
            skipped_by_reason: SkipReason::ALL
                .iter()
                .map(|&reason| SkippedRows {
                    reason,
                    count: self.skipped(reason),
                })
                .filter(|s| s.count > 0)
                .collect(),
            overall: self.stats(&groups.overall),
            by_tier: groups
                .by_tier
                .sorted()
                .into_iter()
                .map(|(k, c)| (k, self.stats(c)))
                .collect(),
            by_channel: groups
                .by_channel
                .sorted()
                .into_iter()
                .map(|(k, c)| (k, self.stats(c)))
                .collect(),
            by_team: groups
                .by_team
                .sorted()
                .into_iter()
                .map(|(k, c)| (k, self.stats(c)))
                .collect(),
            by_queue: groups
                .by_queue
                .sorted()
                .into_iter()
                .map(|(k, c)| (k, self.stats(c)))
                .collect(),
            by_operator,
            operators: keyed.into_iter().map(|(_, _, r)| r).collect(),
        }
    }
}

impl KpiReport {
    /// Whether any record was in a declared queue (not only the default one): the per-queue
    /// breakdown then says more than the overall figures.
    pub fn has_queues(&self) -> bool {
        self.by_queue.keys().any(Option::is_some)
    }
}

/// `by_queue` as a list of `(queue, stats)` pairs: JSON object keys must be strings, and the
/// default queue's key is `None`.
#[cfg(feature = "serde")]
mod queue_map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::KpiStats;
    use crate::ids::QueueId;

    pub(super) fn serialize<S: Serializer>(
        m: &BTreeMap<Option<QueueId>, KpiStats>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Option<QueueId>, KpiStats>, D::Error> {
        let pairs = Vec::<(Option<QueueId>, KpiStats)>::deserialize(d)?;
        Ok(pairs.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_denominator_is_none() {
        assert_eq!(Rate::new(0, 0).ratio, None);
        assert_eq!(Rate::new(1, 4).percent(), Some(25.0));
    }
}
