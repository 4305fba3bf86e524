//! Validation: every check an input must pass before the engine changes
//! anything (validate-then-commit), so a refused input leaves the state
//! exactly as it was.

use super::*;

impl Engine {
    pub(super) fn check_time(&self, at: Timestamp) -> Result<(), EngineError> {
        if at > MAX_TIMESTAMP {
            return Err(EngineError::TimestampOutOfRange(at));
        }
        if at < self.now {
            return Err(EngineError::TimeWentBackwards {
                got: at,
                last: self.now,
            });
        }
        Ok(())
    }

    pub(super) fn check_skills(&self, skills: &[SkillLevel]) -> Result<(), EngineError> {
        for (i, s) in skills.iter().enumerate() {
            if !self.skills.contains_key(&s.skill) {
                return Err(EngineError::UnknownSkill(s.skill));
            }
            if !(MIN_LEVEL..=MAX_LEVEL).contains(&s.level) {
                return Err(EngineError::LevelOutOfRange {
                    skill: s.skill,
                    level: s.level,
                });
            }
            if skills[..i].iter().any(|x| x.skill == s.skill) {
                return Err(EngineError::DuplicateSkill(s.skill));
            }
        }
        Ok(())
    }

    pub(super) fn check_teams(teams: &[TeamId]) -> Result<(), EngineError> {
        for (i, t) in teams.iter().enumerate() {
            if teams[..i].contains(t) {
                return Err(EngineError::DuplicateTeam(*t));
            }
        }
        Ok(())
    }

    pub(super) fn check_operator_spec(&self, spec: &OperatorSpec) -> Result<(), EngineError> {
        for (i, c) in spec.capacity.iter().enumerate() {
            self.ch(c.channel)?;
            if spec.capacity[..i].iter().any(|x| x.channel == c.channel) {
                return Err(EngineError::DuplicateChannel(c.channel));
            }
            if c.capacity == 0 {
                return Err(EngineError::ZeroCapacity {
                    operator: spec.id,
                    channel: c.channel,
                });
            }
        }
        self.check_skills(&spec.skills)?;
        if let Some(p) = spec.profile {
            if !self.profile_idx.contains_key(&p) {
                return Err(EngineError::UnknownProfile(p));
            }
        }
        Self::check_teams(&spec.teams)
    }

    pub(super) fn check_conversation_spec(
        &self,
        spec: &ConversationSpec,
    ) -> Result<(), EngineError> {
        self.ch(spec.channel)?;
        if !self.tiers.contains_key(&spec.tier) {
            return Err(EngineError::UnknownTier(spec.tier));
        }
        if spec.skills.len() > MAX_REQUIRED_SKILLS {
            return Err(EngineError::TooManySkills {
                conversation: spec.id,
                count: spec.skills.len(),
                max: MAX_REQUIRED_SKILLS,
            });
        }
        if let Some(q) = spec.queue {
            self.queue_index(q)?;
        }
        self.check_skills(&spec.skills)
    }

    pub(super) fn live_conv(&self, id: ConversationId) -> Result<&Conversation, EngineError> {
        self.conv_ref(id)
            .ok_or(EngineError::UnknownConversation(id))
    }

    pub(super) fn known_op(&self, id: OperatorId) -> Result<&Operator, EngineError> {
        self.op_ref(id).ok_or(EngineError::UnknownOperator(id))
    }

    /// Checks the state the conversation will be in when an event at `at`
    /// executes: an offer due to lapse by then will have lapsed (timers fire
    /// first), so the conversation will be waiting again.
    pub(super) fn check_state(
        c: &Conversation,
        at: Timestamp,
        action: &'static str,
        allowed: &[ConversationState],
    ) -> Result<(), EngineError> {
        let state = match (c.state, c.extras().offer_expires_at) {
            (ConversationState::Offered, Some(x)) if x <= at => ConversationState::Waiting,
            (s, _) => s,
        };
        if allowed.contains(&state) {
            Ok(())
        } else {
            Err(EngineError::InvalidTransition {
                conversation: c.spec.id,
                action,
                state,
            })
        }
    }

    /// A logged-in operator with room on the channel, for claims and
    /// transfers (which skip skills: a person chose).
    pub(super) fn check_can_hold(
        &self,
        o: &Operator,
        ch: u8,
        channel: ChannelId,
    ) -> Result<(), EngineError> {
        if o.spec.status == OperatorStatus::Offline {
            return Err(EngineError::OperatorOffline(o.spec.id));
        }
        let c = ch as usize;
        if o.on[c].cap == 0 {
            return Err(EngineError::ZeroCapacity {
                operator: o.spec.id,
                channel,
            });
        }
        if o.on[c].load >= o.on[c].cap {
            return Err(EngineError::AtCapacity {
                operator: o.spec.id,
                channel,
            });
        }
        Ok(())
    }

    pub(super) fn validate(&self, event: &Event) -> Result<(), EngineError> {
        use ConversationState as S;
        let at = event.at();
        match event {
            Event::OperatorAdded { operator, .. } => {
                if self.op_slots.contains_key(&operator.id) {
                    return Err(EngineError::DuplicateOperator(operator.id));
                }
                self.check_operator_spec(operator)
            }
            Event::OperatorRemoved { operator, .. }
            | Event::OperatorStatusChanged { operator, .. } => self.known_op(*operator).map(|_| ()),
            Event::OperatorCapacityChanged {
                operator, channel, ..
            } => {
                self.known_op(*operator)?;
                self.ch(*channel).map(|_| ())
            }
            Event::OperatorSkillsChanged {
                operator, skills, ..
            } => {
                self.known_op(*operator)?;
                self.check_skills(skills)
            }
            Event::OperatorTeamsChanged {
                operator, teams, ..
            } => {
                self.known_op(*operator)?;
                Self::check_teams(teams)
            }
            Event::OperatorProfileChanged {
                operator, profile, ..
            } => {
                self.known_op(*operator)?;
                match profile {
                    Some(p) if !self.profile_idx.contains_key(p) => {
                        Err(EngineError::UnknownProfile(*p))
                    }
                    _ => Ok(()),
                }
            }
            Event::HandledCountsReset { .. } => Ok(()),
            Event::BotConversationStarted { conversation, .. } => {
                if self.conv_slots.contains_key(&conversation.id) {
                    return Err(EngineError::DuplicateConversation(conversation.id));
                }
                self.check_conversation_spec(conversation)
            }
            Event::ConversationArrived { conversation, .. } => {
                if let Some(c) = self.conv_ref(conversation.id) {
                    if c.state != S::WithBot {
                        return Err(EngineError::DuplicateConversation(conversation.id));
                    }
                }
                self.check_conversation_spec(conversation)
            }
            Event::FirstResponseSent { conversation, .. } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "send a first response on", &[S::Assigned])
            }
            Event::ConversationResolved { conversation, .. } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(
                    c,
                    at,
                    "resolve",
                    &[
                        S::WithBot,
                        S::Offered,
                        S::Assigned,
                        S::Responded,
                        S::MessageLeft,
                    ],
                )
            }
            Event::ConversationAbandoned { conversation, .. } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "abandon", &[S::Waiting, S::Offered])
            }
            Event::MessageLeft { conversation, .. } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "leave a message on", &[S::Waiting])
            }
            Event::ConversationTransferred {
                conversation, to, ..
            } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "transfer", &[S::Offered, S::Assigned, S::Responded])?;
                if let TransferTarget::Operator(p) = to {
                    let o = self.known_op(*p)?;
                    if c.holder() == Some(*p) {
                        return Err(EngineError::InvalidTransition {
                            conversation: *conversation,
                            action: "transfer to its own holder",
                            state: c.state,
                        });
                    }
                    self.check_can_hold(o, c.ch, c.spec.channel)?;
                }
                if let TransferTarget::ToQueue(q) = to {
                    self.queue_index(*q)?;
                }
                Ok(())
            }
            Event::ConversationClaimed {
                conversation,
                operator,
                ..
            } => {
                let c = self.live_conv(*conversation)?;
                Self::check_state(c, at, "claim", &[S::Waiting])?;
                let o = self.known_op(*operator)?;
                self.check_can_hold(o, c.ch, c.spec.channel)
            }
            Event::Assign { .. } | Event::Rebalance { .. } | Event::Tick { .. } => Ok(()),
            Event::RebalanceOperator { operator, .. } => self.known_op(*operator).map(|_| ()),
            // The checks before anything is built; `change_policy` runs them
            // too, then restores under the new policy.
            Event::PolicyChanged { policy, .. } => self.check_policy_change(policy),
            Event::OfferAccepted {
                at,
                conversation,
                operator,
            }
            | Event::OfferRejected {
                at,
                conversation,
                operator,
            } => {
                if let Some(&(lapse, cause)) = self.ended_offers.get(&(*conversation, *operator)) {
                    let live = self
                        .conv_ref(*conversation)
                        .is_some_and(|c| c.state == S::Offered && c.holder() == Some(*operator));
                    if !live && *at < lapse {
                        return Err(EngineError::OfferWithdrawn {
                            conversation: *conversation,
                            operator: *operator,
                            cause: cause.as_str(),
                        });
                    }
                }
                let c = self.live_conv(*conversation)?;
                self.known_op(*operator)?;
                if c.state != S::Offered || c.holder() != Some(*operator) {
                    if c.holder() == Some(*operator) {
                        return Err(EngineError::InvalidTransition {
                            conversation: *conversation,
                            action: "answer an offer of",
                            state: c.state,
                        });
                    }
                    return Err(EngineError::NoSuchOffer {
                        conversation: *conversation,
                        operator: *operator,
                    });
                }
                match c.extras().offer_expires_at {
                    Some(x) if *at >= x => Err(EngineError::OfferExpired {
                        conversation: *conversation,
                        expired_at: x,
                    }),
                    _ => Ok(()),
                }
            }
        }
    }
}
