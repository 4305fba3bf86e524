//! Read-only views: what a host or dashboard may ask of the engine.

use super::*;

/// Live conversations by state, as a real-time dashboard shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StateCounts {
    /// With the bot.
    pub with_bot: u32,
    /// Waiting for an operator.
    pub waiting: u32,
    /// Offered, not yet accepted.
    pub offered: u32,
    /// With an operator (assigned or responded).
    pub with_operator: u32,
    /// Message left, not yet resolved.
    pub message_left: u32,
}

/// Operators by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StatusCounts {
    /// Available.
    pub available: u32,
    /// Away.
    pub away: u32,
    /// Offline.
    pub offline: u32,
}

/// A read-only view of a live conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationView<'a> {
    /// As the host described it.
    pub spec: &'a ConversationSpec,
    /// Where it is in its life.
    pub state: ConversationState,
    /// Who holds it.
    pub operator: Option<OperatorId>,
    /// When the customer asked for an operator.
    pub asked_at: Option<Timestamp>,
    /// When the current holder got it (for an offer: when it was accepted;
    /// `None` while it rings).
    pub assigned_at: Option<Timestamp>,
    /// When it was first offered to an operator.
    pub offered_at: Option<Timestamp>,
    /// First reply by any operator.
    pub first_response_at: Option<Timestamp>,
    /// The operator reserved for it (they could take it but for a blocking
    /// channel, and get no new blocking work until it is taken).
    pub reserved_by: Option<OperatorId>,
    /// Operators whose decline of it is still in force.
    pub declined_by: u32,
    /// Overflow steps in force.
    pub overflow_step: u8,
    /// Still waiting for the preferred operator until then.
    pub preferred_until: Option<Timestamp>,
    /// Transfers so far.
    pub transfers: u32,
}

/// A read-only view of an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorView<'a> {
    /// As the host described them (skills sorted by id).
    pub spec: &'a OperatorSpec,
    /// Conversations held, in the order received.
    pub held: &'a [ConversationId],
    /// In wrap-up until then.
    pub wrap_up_until: Option<Timestamp>,
    /// Held back from new work until then: an offer cool-down, or the
    /// throughput cap reached.
    pub held_back_until: Option<Timestamp>,
    /// Conversations held on all channels.
    pub open: u32,
    /// Reserved for this waiting conversation: no new work on the channels
    /// that block it until it is taken (see [`crate::policy::BlockedWork`]).
    pub reserved_for: Option<ConversationId>,
    /// What they are doing now (for occupancy), and since when: the open
    /// activity interval, which [`Engine::take_records`] does not yet hold.
    pub activity: (Activity, Timestamp),
    /// Conversations handled (resolved while theirs) since joining or the
    /// last [`crate::engine::Event::HandledCountsReset`].
    pub handled: u64,
}

impl Engine {
    /// A live conversation.
    pub fn conversation(&self, id: ConversationId) -> Option<ConversationView<'_>> {
        let c = self.conv_ref(id)?;
        Some(ConversationView {
            spec: &c.spec,
            state: c.state,
            operator: c.holder(),
            asked_at: c.asked_at.get(),
            assigned_at: c.assigned_at.get(),
            offered_at: c.extras().first_offered_at,
            first_response_at: c.first_response_at.get(),
            reserved_by: c.extras().reserved_by,
            declined_by: c
                .extras()
                .declined
                .iter()
                .filter(|d| c.declined_by(d.0, self.now))
                .count() as u32,
            overflow_step: c.step,
            preferred_until: c.extras().preferred_until,
            transfers: c.extras().transfers,
        })
    }

    /// An operator.
    pub fn operator(&self, id: OperatorId) -> Option<OperatorView<'_>> {
        let o = self.op_ref(id)?;
        Some(OperatorView {
            spec: &o.spec,
            held: &o.held,
            wrap_up_until: o.wrap_until,
            held_back_until: o.extras().held_back_until,
            open: o.open,
            reserved_for: o.extras().reserved_for,
            activity: (o.activity, o.activity_since),
            handled: o.handled,
        })
    }

    /// An operator's load and capacity on a channel.
    ///
    /// # Errors
    /// [`EngineError::UnknownOperator`], [`EngineError::UnknownChannel`].
    pub fn operator_load(
        &self,
        id: OperatorId,
        channel: ChannelId,
    ) -> Result<(u16, u16), EngineError> {
        let o = self.op_ref(id).ok_or(EngineError::UnknownOperator(id))?;
        let ch = self.ch(channel)? as usize;
        Ok((o.on[ch].load, o.on[ch].cap))
    }

    /// Waiting conversations in routing order (the order `assign` serves
    /// them when several operators could take them).
    pub fn waiting(&self) -> Vec<ConversationId> {
        let mut v: Vec<(QueueKey, ConversationId)> = self
            .convs
            .iter()
            .flatten()
            .filter(|c| c.state == ConversationState::Waiting)
            .map(|c| (c.key, c.spec.id))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|x| x.1).collect()
    }

    /// Live conversations by state.
    pub fn state_counts(&self) -> StateCounts {
        self.state_counts
    }

    /// Operators by status.
    pub fn status_counts(&self) -> StatusCounts {
        self.status_counts
    }

    /// Every operator id, ascending.
    pub fn operator_ids(&self) -> Vec<OperatorId> {
        let mut v: Vec<OperatorId> = self.operators.iter().flatten().map(|o| o.spec.id).collect();
        v.sort_unstable();
        v
    }

    /// Every live conversation id, ascending.
    pub fn conversation_ids(&self) -> Vec<ConversationId> {
        let mut v: Vec<ConversationId> = self.convs.iter().flatten().map(|c| c.spec.id).collect();
        v.sort_unstable();
        v
    }

    /// Whether `operator` could take `conversation` right now under the
    /// eligibility rule (the definition the indexes accelerate; used by tests
    /// and reference routers), direct routing above capacity to a preferred
    /// operator included.
    pub fn is_eligible(&self, operator: OperatorId, conversation: ConversationId) -> bool {
        let (Some(o), Some(c)) = (self.op_ref(operator), self.conv_ref(conversation)) else {
            return false;
        };
        if c.state != ConversationState::Waiting {
            return false;
        }
        if c.extras().prefers == Some(operator) && !c.declined_by(operator, self.now) {
            return self.op_can_take_now(o, c.ch)
                || (self.queues[usize::from(c.q)].preferred.over_capacity
                    && self.op_can_take_over_capacity(o, c.ch));
        }
        if !self.op_can_take_now(o, c.ch) {
            return false;
        }
        let r = self.requirements_at(c, self.now);
        !r.in_wait && self.fits(o, &r.req)
    }
}
