//! The policy's canonical bytes, as they stand inside an engine snapshot
//! ([`crate::engine::Snapshot::to_bytes`]; the layout rules are
//! [`crate::codec`]'s).
//!
//! Each type's `encode` and `decode` sit together here, next to the types'
//! codes, so a new policy field is added in one place: write it in
//! `encode`, read it at the same point in `decode`. That changes the
//! snapshot bytes: bump [`crate::engine::snapshot::SNAPSHOT_FORMAT_VERSION`]
//! and re-record the streams in `tests/data/recorded`. Decoding checks only
//! the layout; [`Policy::validate`] judges the values when the engine is
//! restored.
//!
//! Errors name the field as the snapshot reports it
//! ([`crate::engine::SnapshotError::InvalidField`]).

use super::{
    BlockedWork, ChannelSpec, IdleClock, OfferPolicy, OperatorAttribute, OrderKey, OverflowStep,
    OverflowTiming, Policy, PreferredOperatorPolicy, ProfileQueue, QueueOrder, QueueSpec,
    RebalancePolicy, Relax, RoutingProfile, Selection, SkillSpec, ThroughputCap, TierSpec,
};
use crate::codec::{CodecError, Reader, Writer, byte_codes};
use crate::ids::{ChannelId, ProfileId, QueueId, SkillId, TeamId, TierId};
use crate::time::Millis;

byte_codes!(QueueOrder {
    0 => StrictPriority,
    1 => Aging,
    2 => EarliestDeadline,
    3 => Fifo,
});

byte_codes!(IdleClock {
    0 => LastConversationEnded,
    1 => BecameAvailable,
    2 => LastAssigned,
});

// The codes are older than the variants' order: 4 is skill development.
byte_codes!(Selection {
    0 => LeastLoaded,
    1 => LongestIdle { clock },
    2 => RoundRobin,
    3 => MostProficient,
    4 => SkillDevelopment { demanding_skills, share_permille },
    5 => FewestConversations,
    6 => Ring,
    7 => FixedOrder,
    8 => FewestHandled,
    9 => OrderBy { keys },
});

byte_codes!(OperatorAttribute {
    0 => LoadRatio,
    1 => OpenConversations,
    2 => Handled,
    3 => IdleSince(clock),
    4 => LastPicked,
    5 => Level(skill),
});

byte_codes!(OverflowTiming {
    0 => FromRouting,
    1 => FromPreviousStep,
});

byte_codes!(Relax {
    0 => LowerLevels(levels),
    1 => AnyTeam,
    2 => AnyOperator,
    3 => DropSkill(skill),
    4 => LowerSkill { skill, by },
    5 => AddTeam(team),
    6 => Priority(priority),
    7 => HeadStart(head_start),
    8 => Select(selection),
});

byte_codes!(BlockedWork {
    0 => Reserve,
    1 => FirstFree,
});

impl Policy {
    /// Writes the policy (every field, in the order `decode` reads them).
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.list(&self.channels, |w, c| c.encode(w));
        w.list(&self.tiers, |w, t| t.encode(w));
        w.list(&self.skills, |w, s| s.encode(w));
        w.u8(self.queue_order.code());
        self.selection.encode(w);
        self.preferred_operator.encode(w);
        w.u8(self.overflow_timing.code());
        w.list(&self.overflow, |w, s| s.encode(w));
        w.u64(self.wrap_up.0);
        w.opt(self.offers.as_ref(), |w, o| o.encode(w));
        w.opt(self.throughput_cap.as_ref(), |w, c| c.encode(w));
        self.rebalance.encode(w);
        w.u8(self.blocked_work.code());
        w.list(&self.queues, |w, q| q.encode(w));
        w.list(&self.profiles, |w, p| p.encode(w));
    }

    /// Reads what [`Policy::encode`] wrote.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Policy, CodecError> {
        // Struct fields are evaluated as written: this is the byte order.
        Ok(Policy {
            channels: r.list(1, ChannelSpec::decode)?,
            tiers: r.list(1, TierSpec::decode)?,
            skills: r.list(1, SkillSpec::decode)?,
            queue_order: r.code("queue_order", QueueOrder::from_code)?,
            selection: Selection::decode(r)?,
            preferred_operator: PreferredOperatorPolicy::decode(r)?,
            overflow_timing: r.code("overflow_timing", OverflowTiming::from_code)?,
            overflow: r.list(1, OverflowStep::decode)?,
            wrap_up: Millis(r.u64()?),
            offers: r.opt("offers", OfferPolicy::decode)?,
            throughput_cap: r.opt("throughput_cap", ThroughputCap::decode)?,
            rebalance: RebalancePolicy::decode(r)?,
            blocked_work: r.code("blocked_work", BlockedWork::from_code)?,
            queues: r.list(1, QueueSpec::decode)?,
            profiles: r.list(1, RoutingProfile::decode)?,
        })
    }
}

impl ChannelSpec {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.id.0);
        w.str(&self.name);
        w.list(&self.blocks, |w, b| w.u32(b.0));
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(ChannelSpec {
            id: ChannelId(r.u32()?),
            name: r.str()?.to_owned(),
            blocks: r.list(1, |r| Ok(ChannelId(r.u32()?)))?,
        })
    }
}

impl TierSpec {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.id.0);
        w.str(&self.name);
        w.u32(self.priority);
        w.u64(self.first_response_target.0);
        w.u64(self.head_start.0);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(TierSpec {
            id: TierId(r.u32()?),
            name: r.str()?.to_owned(),
            priority: r.u32()?,
            first_response_target: Millis(r.u64()?),
            head_start: Millis(r.u64()?),
        })
    }
}

impl SkillSpec {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.id.0);
        w.str(&self.name);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(SkillSpec {
            id: SkillId(r.u32()?),
            name: r.str()?.to_owned(),
        })
    }
}

impl Selection {
    /// The code, then the variant's fields.
    fn encode(&self, w: &mut Writer) {
        w.u8(self.code());
        match self {
            Selection::LongestIdle { clock } => w.u8(clock.code()),
            Selection::SkillDevelopment {
                demanding_skills,
                share_permille,
            } => {
                w.list(demanding_skills, |w, s| w.u32(s.0));
                w.u16(*share_permille);
            }
            Selection::OrderBy { keys } => w.list(keys, |w, k| k.encode(w)),
            Selection::LeastLoaded
            | Selection::RoundRobin
            | Selection::MostProficient
            | Selection::FewestConversations
            | Selection::FewestHandled
            | Selection::Ring
            | Selection::FixedOrder => {}
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let mut selection = r.code("selection", Selection::from_code)?;
        match &mut selection {
            Selection::LongestIdle { clock } => {
                *clock = r.code("selection.clock", IdleClock::from_code)?;
            }
            Selection::SkillDevelopment {
                demanding_skills,
                share_permille,
            } => {
                *demanding_skills = r.list(1, |r| Ok(SkillId(r.u32()?)))?;
                *share_permille = r.u16()?;
            }
            Selection::OrderBy { keys } => *keys = r.list(2, OrderKey::decode)?,
            Selection::LeastLoaded
            | Selection::RoundRobin
            | Selection::MostProficient
            | Selection::FewestConversations
            | Selection::FewestHandled
            | Selection::Ring
            | Selection::FixedOrder => {}
        }
        Ok(selection)
    }
}

impl OrderKey {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.attribute.code());
        match self.attribute {
            OperatorAttribute::IdleSince(c) => w.u8(c.code()),
            OperatorAttribute::Level(s) => w.u32(s.0),
            OperatorAttribute::LoadRatio
            | OperatorAttribute::OpenConversations
            | OperatorAttribute::Handled
            | OperatorAttribute::LastPicked => {}
        }
        w.bool(self.descending);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let mut attribute = r.code("selection.order_by.keys", OperatorAttribute::from_code)?;
        match &mut attribute {
            OperatorAttribute::IdleSince(c) => {
                *c = r.code("selection.order_by.keys.clock", IdleClock::from_code)?;
            }
            OperatorAttribute::Level(s) => *s = SkillId(r.u32()?),
            OperatorAttribute::LoadRatio
            | OperatorAttribute::OpenConversations
            | OperatorAttribute::Handled
            | OperatorAttribute::LastPicked => {}
        }
        Ok(OrderKey {
            attribute,
            descending: r.bool()?,
        })
    }
}

impl QueueSpec {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.id.0);
        w.str(&self.name);
        self.selection.encode(w);
        w.list(&self.overflow, |w, s| s.encode(w));
        w.u8(self.overflow_timing.code());
        w.opt(self.offers.as_ref(), |w, o| o.encode(w));
        self.preferred_operator.encode(w);
        w.opt_u64(self.priority.map(u64::from));
        w.u64(self.head_start.0);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(QueueSpec {
            id: QueueId(r.u32()?),
            name: r.str()?.to_owned(),
            selection: Selection::decode(r)?,
            overflow: r.list(1, OverflowStep::decode)?,
            overflow_timing: r.code("queues.overflow_timing", OverflowTiming::from_code)?,
            offers: r.opt("queues.offers", OfferPolicy::decode)?,
            preferred_operator: PreferredOperatorPolicy::decode(r)?,
            priority: r.opt_narrow("queues.priority")?,
            head_start: Millis(r.u64()?),
        })
    }
}

impl RoutingProfile {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.id.0);
        w.str(&self.name);
        w.list(&self.queues, |w, q| {
            w.opt_u64(q.queue.map(|x| u64::from(x.0)));
            w.u32(q.priority);
            w.u64(q.delay.0);
        });
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(RoutingProfile {
            id: ProfileId(r.u32()?),
            name: r.str()?.to_owned(),
            queues: r.list(1, |r| {
                Ok(ProfileQueue {
                    queue: r.opt_narrow::<u32>("profiles.queues.queue")?.map(QueueId),
                    priority: r.u32()?,
                    delay: Millis(r.u64()?),
                })
            })?,
        })
    }
}

impl PreferredOperatorPolicy {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.wait.0);
        w.bool(self.over_capacity);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(PreferredOperatorPolicy {
            wait: Millis(r.u64()?),
            over_capacity: r.bool()?,
        })
    }
}

impl OverflowStep {
    /// The wait, the relaxation's code, and its levels if it lowers them.
    fn encode(&self, w: &mut Writer) {
        w.u64(self.after.0);
        w.u8(self.relax.code());
        match &self.relax {
            Relax::LowerLevels(n) => w.u8(*n),
            Relax::DropSkill(s) => w.u32(s.0),
            Relax::LowerSkill { skill, by } => {
                w.u32(skill.0);
                w.u8(*by);
            }
            Relax::AddTeam(t) => w.u32(t.0),
            Relax::Priority(p) => w.u32(*p),
            Relax::HeadStart(h) => w.u64(h.0),
            Relax::Select(sel) => sel.encode(w),
            Relax::AnyTeam | Relax::AnyOperator => {}
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let after = Millis(r.u64()?);
        let mut relax = r.code("overflow.relax", Relax::from_code)?;
        match &mut relax {
            Relax::LowerLevels(n) => *n = r.u8()?,
            Relax::DropSkill(s) => *s = SkillId(r.u32()?),
            Relax::LowerSkill { skill, by } => {
                *skill = SkillId(r.u32()?);
                *by = r.u8()?;
            }
            Relax::AddTeam(t) => *t = TeamId(r.u32()?),
            Relax::Priority(p) => *p = r.u32()?,
            Relax::HeadStart(h) => *h = Millis(r.u64()?),
            Relax::Select(sel) => *sel = Selection::decode(r)?,
            Relax::AnyTeam | Relax::AnyOperator => {}
        }
        Ok(OverflowStep { after, relax })
    }
}

impl OfferPolicy {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.timeout.0);
        w.u32(self.away_after_missed);
        w.bool(self.reoffer_declined);
        w.u64(self.cooldown_after_reject.0);
        w.u64(self.cooldown_after_miss.0);
        w.opt_u64(self.forget_decline_after.map(|m| m.0));
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(OfferPolicy {
            timeout: Millis(r.u64()?),
            away_after_missed: r.u32()?,
            reoffer_declined: r.bool()?,
            cooldown_after_reject: Millis(r.u64()?),
            cooldown_after_miss: Millis(r.u64()?),
            forget_decline_after: r.opt_u64()?.map(Millis),
        })
    }
}

impl ThroughputCap {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.max_assignments);
        w.u64(self.window.0);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(ThroughputCap {
            max_assignments: r.u32()?,
            window: Millis(r.u64()?),
        })
    }
}

impl RebalancePolicy {
    /// The optional numbers travel as optional `u64`s.
    fn encode(&self, w: &mut Writer) {
        w.opt_u64(self.reassign_responded_after_away.map(|m| m.0));
        w.opt_u64(self.skew_margin_permille.map(u64::from));
        w.opt_u64(self.max_moves.map(u64::from));
        w.bool(self.on_capacity_cut);
        w.bool(self.defer_to_rebalance);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(RebalancePolicy {
            reassign_responded_after_away: r.opt_u64()?.map(Millis),
            skew_margin_permille: r.opt_narrow("rebalance.skew_margin_permille")?,
            max_moves: r.opt_narrow("rebalance.max_moves")?,
            on_capacity_cut: r.bool()?,
            defer_to_rebalance: r.bool()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code maps back to its variant and no other code decodes.
    #[test]
    fn codes_round_trip() {
        fn check<T: PartialEq + std::fmt::Debug>(
            all: &[T],
            code: impl Fn(&T) -> u8,
            from: impl Fn(u8) -> Option<T>,
        ) {
            let codes: Vec<u8> = all.iter().map(&code).collect();
            for (v, &c) in all.iter().zip(&codes) {
                assert_eq!(from(c).map(|d| code(&d)), Some(c), "{v:?}");
            }
            for c in 0..=u8::MAX {
                match from(c) {
                    Some(v) => assert_eq!(code(&v), c),
                    None => assert!(!codes.contains(&c), "{c} does not decode"),
                }
            }
        }
        check(
            &[
                QueueOrder::StrictPriority,
                QueueOrder::Aging,
                QueueOrder::EarliestDeadline,
                QueueOrder::Fifo,
            ],
            QueueOrder::code,
            QueueOrder::from_code,
        );
        check(
            &[
                Selection::LeastLoaded,
                Selection::LongestIdle {
                    clock: IdleClock::LastAssigned,
                },
                Selection::RoundRobin,
                Selection::MostProficient,
                Selection::SkillDevelopment {
                    demanding_skills: vec![SkillId(1)],
                    share_permille: 5,
                },
                Selection::FewestConversations,
                Selection::Ring,
                Selection::FixedOrder,
                Selection::FewestHandled,
                Selection::OrderBy { keys: vec![] },
            ],
            Selection::code,
            Selection::from_code,
        );
        assert_eq!(Selection::from_code(10), None);
        check(
            &[
                Relax::LowerLevels(0),
                Relax::AnyTeam,
                Relax::AnyOperator,
                Relax::DropSkill(SkillId(0)),
                Relax::LowerSkill {
                    skill: SkillId(0),
                    by: 0,
                },
                Relax::AddTeam(TeamId(0)),
                Relax::Priority(0),
                Relax::HeadStart(Millis(0)),
                Relax::Select(Selection::LeastLoaded),
            ],
            Relax::code,
            Relax::from_code,
        );
        assert_eq!(Relax::from_code(9), None);
        assert_eq!(
            Selection::from_code(4),
            Some(Selection::SkillDevelopment {
                demanding_skills: vec![],
                share_permille: 0
            })
        );
    }

    /// A policy with every option set reads back equal, and every shorter
    /// prefix is a typed error.
    #[test]
    fn policy_round_trips() {
        let mut p = Policy::new(
            vec![ChannelSpec {
                id: ChannelId(1),
                name: "chat".into(),
                blocks: vec![ChannelId(1)],
            }],
            vec![TierSpec {
                id: TierId(2),
                name: "vip".into(),
                priority: 1,
                first_response_target: Millis(30_000),
                head_start: Millis(5),
            }],
            vec![SkillSpec {
                id: SkillId(3),
                name: "billing".into(),
            }],
        );
        p.queue_order = QueueOrder::Aging;
        p.selection = Selection::SkillDevelopment {
            demanding_skills: vec![SkillId(3)],
            share_permille: 100,
        };
        p.overflow = vec![
            OverflowStep {
                after: Millis(1),
                relax: Relax::LowerLevels(2),
            },
            OverflowStep {
                after: Millis(2),
                relax: Relax::AnyOperator,
            },
        ];
        let steps = [
            Relax::DropSkill(SkillId(3)),
            Relax::LowerSkill {
                skill: SkillId(3),
                by: 1,
            },
            Relax::AddTeam(TeamId(4)),
            Relax::Priority(1),
            Relax::HeadStart(Millis(7)),
            Relax::Select(Selection::OrderBy {
                keys: vec![
                    OrderKey::descending(OperatorAttribute::Level(SkillId(3))),
                    OrderKey::ascending(OperatorAttribute::IdleSince(IdleClock::BecameAvailable)),
                ],
            }),
        ];
        let mut sales = QueueSpec::new(QueueId(5), "sales")
            .selection(Selection::FewestHandled)
            .offers(OfferPolicy::new(Millis(3)))
            .priority(2)
            .head_start(Millis(9));
        for (i, r) in steps.into_iter().enumerate() {
            sales = sales.overflow_step(OverflowStep::new(Millis(10 + i as u64), r));
        }
        p.queues = vec![sales, QueueSpec::new(QueueId(6), "billing")];
        p.profiles = vec![
            RoutingProfile::new(ProfileId(1), "p")
                .serve(ProfileQueue::default_queue(1))
                .serve(ProfileQueue::new(QueueId(5), 2).delay(Millis(20))),
        ];
        p.overflow_timing = OverflowTiming::FromPreviousStep;
        p.offers = Some(OfferPolicy::new(Millis(9)));
        p.throughput_cap = Some(ThroughputCap {
            max_assignments: 4,
            window: Millis(60),
        });
        p.rebalance.skew_margin_permille = Some(300);
        p.rebalance.max_moves = Some(7);
        p.blocked_work = BlockedWork::FirstFree;
        let mut w = Writer::default();
        p.encode(&mut w);
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(Policy::decode(&mut r), Ok(p));
        assert_eq!(r.finish(), Ok(()));
        for cut in 0..bytes.len() {
            let e = Policy::decode(&mut Reader::new(&bytes[..cut]));
            assert!(
                matches!(
                    e,
                    Err(CodecError::Truncated { .. } | CodecError::LengthOverrun { .. })
                ),
                "cut {cut}: {e:?}"
            );
        }
    }
}
