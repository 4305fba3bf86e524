//! Records: what the engine hands the KPI side. Conversations that ended
//! and operators' activity intervals wait here, in the order they closed,
//! until the host takes them in one drain.

use super::*;

/// Everything that closed since the last [`Engine::take_records`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[must_use]
pub struct Records {
    /// Conversations that left the engine, in the order they ended.
    pub conversations: Vec<FinishedConversation>,
    /// Operators' activity intervals, in the order they closed. An interval
    /// closes when the activity changes or the operator is removed; the
    /// open one of each operator is in [`OperatorView::activity`].
    pub status_intervals: Vec<StatusInterval>,
}

impl Engine {
    /// Takes every record closed since the last call: finished
    /// conversations and operators' activity intervals. Feed them to the
    /// KPI calculators ([`crate::kpi::KpiAccumulator::push`],
    /// [`crate::kpi::KpiAccumulator::push_status`]). Until taken they stay
    /// in the engine (and in its snapshots), so a host drains regularly.
    pub fn take_records(&mut self) -> Records {
        Records {
            conversations: std::mem::take(&mut self.finished),
            status_intervals: std::mem::take(&mut self.status_log),
        }
    }

    /// Looks again at the activity of every operator touched since the last
    /// look, closing an interval for each that changed at `at`.
    pub(super) fn close_activities(&mut self, at: Timestamp) {
        for slot in std::mem::take(&mut self.touched_ops) {
            // A removed operator's interval was closed on removal.
            let Some(o) = self.operators[slot as usize].as_mut() else {
                continue;
            };
            o.touched = false;
            let now = o.current_activity();
            if now == o.activity {
                continue;
            }
            let (id, was, since) = (o.spec.id, o.activity, o.activity_since);
            o.activity = now;
            o.activity_since = at;
            self.log_activity(id, was, since, at);
        }
    }

    /// Records `[since, until)` of `activity`; an empty interval carries no
    /// time and is not recorded.
    pub(super) fn log_activity(
        &mut self,
        operator: OperatorId,
        activity: Activity,
        since: Timestamp,
        until: Timestamp,
    ) {
        if since < until {
            self.status_log.push(StatusInterval {
                operator,
                status: activity,
                start: since,
                end: until,
            });
        }
    }
}
