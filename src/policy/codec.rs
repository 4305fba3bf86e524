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
    BlockedWork, ChannelSpec, IdleClock, OfferPolicy, OverflowStep, OverflowTiming, Policy,
    PreferredOperatorPolicy, QueueOrder, RebalancePolicy, Relax, Selection, SkillSpec,
    ThroughputCap, TierSpec,
};
use crate::codec::{CodecError, Reader, Writer, byte_codes};
use crate::ids::{ChannelId, SkillId, TierId};
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
});

byte_codes!(OverflowTiming {
    0 => FromRouting,
    1 => FromPreviousStep,
});

byte_codes!(Relax {
    0 => LowerLevels(levels),
    1 => AnyTeam,
    2 => AnyOperator,
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
            Selection::LeastLoaded
            | Selection::RoundRobin
            | Selection::MostProficient
            | Selection::FewestConversations
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
            Selection::LeastLoaded
            | Selection::RoundRobin
            | Selection::MostProficient
            | Selection::FewestConversations
            | Selection::Ring
            | Selection::FixedOrder => {}
        }
        Ok(selection)
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
        match self.relax {
            Relax::LowerLevels(n) => w.u8(n),
            Relax::AnyTeam | Relax::AnyOperator => {}
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let after = Millis(r.u64()?);
        let mut relax = r.code("overflow.relax", Relax::from_code)?;
        match &mut relax {
            Relax::LowerLevels(n) => *n = r.u8()?,
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
            ],
            Selection::code,
            Selection::from_code,
        );
        assert_eq!(Selection::from_code(8), None);
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
