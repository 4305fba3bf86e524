//! Records: what the engine hands the KPI side. Conversations that ended
//! and operators' activity intervals wait here, in the order they closed,
//! until the host takes them in one drain.

use super::*;

/// Everything that closed since the last drain ([`Engine::take_records`]
/// or [`Engine::take_records_into`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[must_use]
pub struct Records {
    /// Conversations that asked for an operator and left the engine
    /// (resolved or abandoned), in the order they ended: the KPI rows.
    pub conversations: Vec<ConversationRecord>,
    /// Conversations the bot handled alone, in the order they ended.
    pub bot_conversations: Vec<BotConversationRecord>,
    /// Operators' activity intervals, in the order they closed. An interval
    /// closes when the activity changes or the operator is removed; the
    /// open one of each operator is in [`OperatorView::activity`].
    pub status_intervals: Vec<StatusInterval>,
}

/// Appends finished conversations, in the order they ended, to the
/// records of their kind.
fn split_finished(finished: impl IntoIterator<Item = Finished>, into: &mut Records) {
    for f in finished {
        match f {
            Finished::Request(r) => into.conversations.push(r),
            Finished::BotOnly(b) => into.bot_conversations.push(b),
        }
    }
}

impl Engine {
    /// Takes every record closed since the last drain: finished
    /// conversations and operators' activity intervals. This and
    /// [`Engine::take_records_into`] (the same drain into the caller's
    /// buffers) are the only way records leave; what the host does not take
    /// stays in the engine. Feed them to the
    /// KPI calculators ([`crate::kpi::KpiAccumulator::push`],
    /// [`crate::kpi::KpiAccumulator::push_status`]). Until taken they stay
    /// in the engine (and in its snapshots), so a host drains regularly.
    pub fn take_records(&mut self) -> Records {
        let mut records = Records {
            status_intervals: std::mem::take(&mut self.status_log),
            ..Records::default()
        };
        split_finished(std::mem::take(&mut self.finished), &mut records);
        records
    }

    /// The drain of [`Engine::take_records`], appending to the caller's buffers and
    /// returning how many records were appended. The engine keeps its own
    /// buffers' room and the caller reuses theirs, so a host that drains
    /// after every event (a simulator, a host feeding KPIs live) allocates
    /// nothing per drain once warm. [`Engine::take_records`] hands the
    /// engine's buffers over instead, which releases their memory.
    ///
    /// ```
    /// use switchboard::engine::Records;
    /// use switchboard::prelude::*;
    ///
    /// let chat = ChannelId(1);
    /// let tier = TierId(1);
    /// let policy = Policy::new(
    ///     vec![ChannelSpec::new(chat, "chat")],
    ///     vec![TierSpec::new(tier, "standard", 1)],
    ///     vec![],
    /// );
    /// let mut engine = Engine::new(policy)?;
    /// let mut drained = Records::default();
    /// let t = Timestamp(1_000);
    /// engine.apply(Event::OperatorAdded {
    ///     at: t,
    ///     operator: OperatorSpec::new(OperatorId(7)).status(OperatorStatus::Available).capacity(chat, 3),
    /// })?;
    /// engine.apply(Event::ConversationArrived {
    ///     at: t,
    ///     conversation: ConversationSpec::new(ConversationId(1), chat, tier),
    /// })?;
    /// engine.assign(t)?;
    /// engine.apply(Event::ConversationResolved {
    ///     at: Timestamp(61_000),
    ///     conversation: ConversationId(1),
    /// })?;
    /// // The conversation's record and the operator's closed activity intervals.
    /// let n = engine.take_records_into(&mut drained);
    /// assert_eq!(n, 1 + drained.status_intervals.len());
    /// assert_eq!(drained.conversations[0].conversation, ConversationId(1));
    /// // Drained: a second call appends nothing.
    /// assert_eq!(engine.take_records_into(&mut drained), 0);
    /// # Ok::<(), switchboard::Error>(())
    /// ```
    pub fn take_records_into(&mut self, into: &mut Records) -> usize {
        let n = self.finished.len() + self.status_log.len();
        into.status_intervals.append(&mut self.status_log);
        split_finished(self.finished.drain(..), into);
        n
    }

    /// The finished conversations of both kinds in the order they ended,
    /// for the C API's one finished-record array.
    #[cfg(feature = "ffi")]
    pub(crate) fn take_finished_in_order(&mut self) -> Vec<Finished> {
        std::mem::take(&mut self.finished)
    }

    /// The closed activity intervals alone, for the C API.
    #[cfg(feature = "ffi")]
    pub(crate) fn take_status_intervals(&mut self) -> Vec<StatusInterval> {
        std::mem::take(&mut self.status_log)
    }

    /// Looks again at the activity of every operator touched since the last
    /// look, closing an interval for each that changed at `at`.
    pub(super) fn close_activities(&mut self, at: Timestamp) {
        // Taken and given back, so the list keeps its capacity across inputs.
        let mut touched = std::mem::take(&mut self.touched_ops);
        for &slot in &touched {
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
        touched.clear();
        self.touched_ops = touched;
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
