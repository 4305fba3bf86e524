//! Three queues over one pool of operators, and routing profiles.
//!
//! - **sales**: fast — least loaded, anyone on the channel after 30 s;
//! - **billing**: most proficient, the billing level required drops one
//!   step every 20 s;
//! - **vip**: the customer's previous operator is waited for up to 2 min,
//!   offers that must be accepted, and priority over everything else.
//!
//! Five operators: two billing specialists who take sales only after it
//! has waited 20 s, two sales people who take billing only as their second
//! queue, and one senior with no profile who serves every queue alike. A
//! burst of twelve conversations arrives in the first 10 s; the example
//! prints, second by second, who got what and why. Deterministic: run it
//! twice and diff.
//!
//! `cargo run --example routes`

use switchboard::policy::{
    OfferPolicy, OverflowStep, PreferredOperatorPolicy, ProfileQueue, QueueSpec, Relax,
    RoutingProfile,
};
use switchboard::prelude::*;

const CALL: ChannelId = ChannelId(1);
const STANDARD: TierId = TierId(1);
const BILLING: SkillId = SkillId(1);
const SALES: QueueId = QueueId(1);
const BILLING_Q: QueueId = QueueId(2);
const VIP: QueueId = QueueId(3);
const SPECIALIST: ProfileId = ProfileId(1);
const SELLER: ProfileId = ProfileId(2);

fn policy() -> Result<Policy, PolicyError> {
    let step = |secs, by| {
        OverflowStep::new(
            Millis::from_secs(secs),
            Relax::LowerSkill { skill: BILLING, by },
        )
    };
    Policy::builder()
        .channel(ChannelSpec::new(CALL, "call"))
        .tier(TierSpec::new(STANDARD, "standard", 5))
        .skill(SkillSpec::new(BILLING, "billing"))
        .queue(
            QueueSpec::new(SALES, "sales")
                .selection(Selection::LeastLoaded)
                .overflow_step(OverflowStep::new(Millis::from_secs(30), Relax::AnyOperator)),
        )
        .queue(
            QueueSpec::new(BILLING_Q, "billing")
                .selection(Selection::MostProficient)
                .overflow_step(step(20, 1))
                .overflow_step(step(40, 1)),
        )
        .queue(
            QueueSpec::new(VIP, "vip")
                .priority(0)
                .offers(OfferPolicy::new(Millis::from_secs(15)))
                .preferred_operator(PreferredOperatorPolicy::new().wait(Millis::from_mins(2))),
        )
        .profile(
            RoutingProfile::new(SPECIALIST, "billing specialist")
                .serve(ProfileQueue::new(VIP, 1))
                .serve(ProfileQueue::new(BILLING_Q, 1))
                .serve(ProfileQueue::new(SALES, 2).delay(Millis::from_secs(20))),
        )
        .profile(
            RoutingProfile::new(SELLER, "seller")
                .serve(ProfileQueue::new(VIP, 1))
                .serve(ProfileQueue::new(SALES, 1))
                .serve(ProfileQueue::new(BILLING_Q, 2)),
        )
        .build()
}

fn main() -> Result<(), switchboard::Error> {
    let mut engine = Engine::new(policy()?)?;
    let roster = [
        (1, Some(SPECIALIST), 5),
        (2, Some(SPECIALIST), 4),
        (3, Some(SELLER), 1),
        (4, Some(SELLER), 2),
        (5, None, 3),
    ];
    for (id, profile, level) in roster {
        let mut spec = OperatorSpec::new(OperatorId(id))
            .status(OperatorStatus::Available)
            .capacity(CALL, 1)
            .skill(BILLING, level);
        if let Some(p) = profile {
            spec = spec.profile(p);
        }
        engine.apply(Event::OperatorAdded {
            at: Timestamp(0),
            operator: spec,
        })?;
        let who = profile.map_or("no profile".to_string(), |p| p.to_string());
        println!("{} ({who}, billing level {level})", OperatorId(id));
    }
    // (second, conversation, queue, billing level required, previous operator)
    let burst: [(u64, u64, QueueId, u8, Option<u64>); 12] = [
        (0, 1, SALES, 0, None),
        (0, 2, BILLING_Q, 4, None),
        (1, 3, BILLING_Q, 5, None),
        (1, 4, SALES, 0, None),
        (2, 5, VIP, 0, Some(2)),
        (3, 6, SALES, 0, None),
        (4, 7, BILLING_Q, 3, None),
        (5, 8, SALES, 0, None),
        (6, 9, BILLING_Q, 5, None),
        (7, 10, VIP, 0, Some(4)),
        (8, 11, SALES, 0, None),
        (9, 12, BILLING_Q, 2, None),
    ];
    let mut next = burst.iter().peekable();
    let mut ends: Vec<(u64, ConversationId)> = Vec::new();
    let mut offers: Vec<(u64, ConversationId, OperatorId)> = Vec::new();
    println!();
    for second in 0..=75u64 {
        let now = Timestamp(second * 1000);
        while let Some(&&(s, id, queue, level, previous)) = next.peek() {
            if s != second {
                break;
            }
            next.next();
            let mut c = ConversationSpec::new(ConversationId(id), CALL, STANDARD).queue(queue);
            if level > 0 {
                c = c.skill(BILLING, level);
            }
            if let Some(p) = previous {
                c = c.preferred_operator(OperatorId(p));
            }
            engine.apply(Event::ConversationArrived {
                at: now,
                conversation: c,
            })?;
        }
        // Every call lasts 12 s; VIP offers are accepted after 3 s.
        for d in engine.assign(now)? {
            println!("{second:>3} s  {d}");
            match d.kind {
                switchboard::engine::DecisionKind::Offered { .. } => {
                    offers.push((second + 3, d.conversation, d.operator))
                }
                _ => ends.push((second + 12, d.conversation)),
            }
        }
        ends.sort_unstable();
        offers.sort_unstable();
        while offers.first().is_some_and(|o| o.0 == second + 1) {
            let (at, conversation, operator) = offers.remove(0);
            engine.apply(Event::OfferAccepted {
                at: Timestamp(at * 1000),
                conversation,
                operator,
            })?;
            ends.push((at + 12, conversation));
            ends.sort_unstable();
        }
        while ends.first().is_some_and(|e| e.0 == second + 1) {
            let (at, conversation) = ends.remove(0);
            engine.apply(Event::ConversationResolved {
                at: Timestamp(at * 1000),
                conversation,
            })?;
        }
    }
    let records = engine.take_records();
    println!();
    for q in [SALES, BILLING_Q, VIP] {
        let answered: Vec<_> = records
            .conversations
            .iter()
            .filter(|r| r.queue == Some(q))
            .filter_map(|r| r.assigned_at.map(|a| a.since(r.asked_at)))
            .collect();
        let total: u64 = answered.iter().map(|w| w.0).sum();
        println!(
            "{q}: {} answered, mean wait {}",
            answered.len(),
            Millis(total / answered.len().max(1) as u64)
        );
    }
    Ok(())
}
