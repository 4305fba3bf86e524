//! A small team, three tiers and a burst of conversations: every decision
//! printed with its reason.
//!
//! Run: `cargo run --release --example quickstart`

use switchboard::prelude::*;

const CALL: ChannelId = ChannelId(1);
const CHAT: ChannelId = ChannelId(2);
const ENTERPRISE: TierId = TierId(1);
const LARGE: TierId = TierId(2);
const SMB: TierId = TierId(3);
const BILLING: SkillId = SkillId(1);
const TECH: SkillId = SkillId(2);

fn tier(id: TierId, name: &str, priority: u32, target_secs: u64) -> TierSpec {
    TierSpec::new(id, name, priority).first_response_target(Millis::from_secs(target_secs))
}

fn main() -> Result<(), Error> {
    let mut policy = Policy::new(
        vec![
            ChannelSpec::new(CALL, "call").blocks([CHAT]),
            ChannelSpec::new(CHAT, "chat"),
        ],
        vec![
            tier(ENTERPRISE, "Enterprise", 1, 60),
            tier(LARGE, "Large", 2, 120),
            tier(SMB, "SMB", 3, 300),
        ],
        vec![
            SkillSpec::new(BILLING, "billing"),
            SkillSpec::new(TECH, "tech"),
        ],
    );
    policy.wrap_up = Millis::from_secs(30);
    policy.overflow = vec![OverflowStep::new(
        Millis::from_secs(90),
        Relax::LowerLevels(2),
    )];
    let mut engine = Engine::new(policy)?;

    let team = [
        (
            "Mina (senior, billing 5)",
            OperatorSpec::new(OperatorId(1))
                .capacity(CHAT, 3)
                .capacity(CALL, 1)
                .skill(BILLING, 5)
                .skill(TECH, 3),
        ),
        (
            "Joon (tech 4)",
            OperatorSpec::new(OperatorId(2))
                .capacity(CHAT, 3)
                .skill(TECH, 4)
                .skill(BILLING, 1),
        ),
        (
            "Sora (junior)",
            OperatorSpec::new(OperatorId(3))
                .capacity(CHAT, 2)
                .skill(BILLING, 2)
                .skill(TECH, 2),
        ),
    ];
    let names = |id: OperatorId| {
        team.iter()
            .find(|(_, s)| s.id == id)
            .map_or("?", |(n, _)| n)
    };
    for (_, spec) in &team {
        engine.apply(Event::OperatorAdded {
            at: Timestamp(0),
            operator: spec.clone().status(OperatorStatus::Available),
        })?;
    }

    // A burst: ten conversations in twenty seconds.
    let burst = [
        (0, SMB, CHAT, Some((BILLING, 1))),
        (2, ENTERPRISE, CHAT, Some((BILLING, 4))),
        (4, LARGE, CHAT, Some((TECH, 3))),
        (5, SMB, CHAT, None),
        (7, ENTERPRISE, CALL, Some((BILLING, 3))),
        (9, LARGE, CHAT, Some((BILLING, 2))),
        (11, SMB, CHAT, Some((TECH, 1))),
        (14, ENTERPRISE, CHAT, Some((TECH, 4))),
        (17, SMB, CHAT, Some((BILLING, 4))),
        (20, LARGE, CHAT, None),
    ];
    println!("time  tier        decision");
    let tier_name = |t: TierId| match t.0 {
        1 => "Enterprise",
        2 => "Large",
        _ => "SMB",
    };
    // `Decision` prints as a sentence: who gets what, by which rule, why now.
    let print = |ds: &[Decision]| {
        for d in ds {
            println!(
                "{:<5} {:<11} {d}  [{}]",
                format!("{}s", d.at.0 / 1000),
                tier_name(d.tier),
                names(d.operator),
            );
        }
    };
    for (i, (secs, tier, channel, skill)) in burst.iter().enumerate() {
        let at = Timestamp(secs * 1000);
        let mut c = ConversationSpec::new(ConversationId(i as u64 + 1), *channel, *tier);
        if let Some((s, l)) = skill {
            c = c.skill(*s, *l);
        }
        engine.apply(Event::ConversationArrived {
            at,
            conversation: c,
        })?;
        print(&engine.assign(at)?);
    }

    // Operators answer and resolve; waiting work flows to whoever frees up.
    let mut now = 20_000;
    while engine.state_counts().waiting > 0 || engine.state_counts().with_operator > 0 {
        now += 15_000;
        let at = Timestamp(now);
        for id in engine.operator_ids() {
            let held: Vec<ConversationId> = engine
                .operator(id)
                .map(|o| o.held.to_vec())
                .unwrap_or_default();
            if let Some(&c) = held.first() {
                if engine
                    .conversation(c)
                    .is_some_and(|v| v.state == ConversationState::Assigned)
                {
                    engine.apply(Event::FirstResponseSent {
                        at,
                        conversation: c,
                    })?;
                }
                engine.apply(Event::ConversationResolved {
                    at,
                    conversation: c,
                })?;
            }
        }
        print(&engine.assign(at)?);
        if now > 600_000 {
            break;
        }
    }
    let finished = engine.take_records().conversations;
    let mean_wait: u64 = finished
        .iter()
        .filter_map(|f| Some(f.assigned_at?.0 - f.asked_at.0))
        .sum::<u64>()
        / finished.len().max(1) as u64;
    println!(
        "\n{} conversations resolved; mean wait for an operator {:.1} s",
        finished.len(),
        mean_wait as f64 / 1000.0
    );
    Ok(())
}
