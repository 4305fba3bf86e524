//! Two policies written the way an Asterisk `queues.conf` user and a Twilio
//! TaskRouter workflow user would write them, the same burst through both,
//! and who got what.
//!
//! Run: `cargo run --release --example migration`
//!
//! Asterisk style (`examples/policies/asterisk-style.json`): `strategy =
//! rrmemory` → `ring`, `wrapuptime = 30` → `wrap_up`, ring `timeout = 15` with
//! `autopause = all` → offers of 15 s, one miss sets the member away (a
//! FreeSWITCH-style `reject-delay-time` of 10 s as `cooldown_after_reject`);
//! strict priorities. TaskRouter style
//! (`examples/policies/taskrouter-style.json`): longest available worker →
//! `longest_idle { became_available }`, reservation timeout 120 s → offers, a
//! workflow step that widens to every worker after its 30 s timeout → an
//! `any_operator` overflow step measured `from_previous_step`, priority as a
//! head start (aging).

use switchboard::engine::DecisionKind;
use switchboard::prelude::*;

const CALL: ChannelId = ChannelId(1);
const BILLING: SkillId = SkillId(1);

fn run(name: &str, json: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let policy: Policy = serde_json::from_str(json)?;
    let mut e = Engine::new(policy)?;
    let s = |secs: u64| Timestamp(secs * 1000);
    // Three agents; only agent 3 knows billing.
    for id in 1..=3u64 {
        let mut spec = OperatorSpec::new(OperatorId(id))
            .status(OperatorStatus::Available)
            .capacity(CALL, 1);
        if id == 3 {
            spec = spec.skill(BILLING, 3);
        }
        e.apply(Event::OperatorAdded {
            at: s(id),
            operator: spec,
        })?;
    }
    let burst = [
        (10, 2, false),
        (11, 1, false),
        (12, 2, true),
        (13, 2, false),
        (14, 1, false),
    ];
    let mut lines = Vec::new();
    let log = |ds: Vec<Decision>, lines: &mut Vec<String>| {
        for d in ds {
            let what = match d.kind {
                DecisionKind::Assigned => "assigned",
                DecisionKind::Offered { .. } => "offered",
                DecisionKind::Unassigned { cause } => cause.as_str(),
                _ => "other",
            };
            lines.push(format!(
                "{name:<16} {:>4} s  call {}  {what:<14} agent {}  ({}, step {})",
                d.at.0 / 1000,
                d.conversation.0,
                d.operator.0,
                d.reason.route.as_str(),
                d.reason.overflow_step
            ));
        }
    };
    for (at, tier, billing) in burst {
        let mut c = ConversationSpec::new(ConversationId(at), CALL, TierId(tier));
        if billing {
            c = c.skill(BILLING, 2);
        }
        e.apply(Event::ConversationArrived {
            at: s(at),
            conversation: c,
        })?;
        log(e.assign(s(at))?, &mut lines);
    }
    // Agent 1 never picks up; the others accept what they are offered.
    let mut now = 14;
    while now < 200 {
        now += 1;
        let ds = e.assign(s(now))?;
        for d in &ds {
            if matches!(d.kind, DecisionKind::Offered { .. }) && d.operator != OperatorId(1) {
                e.apply(Event::OfferAccepted {
                    at: s(now),
                    conversation: d.conversation,
                    operator: d.operator,
                })?;
            }
        }
        log(ds, &mut lines);
        for id in [2u64, 3] {
            let held = e
                .operator(OperatorId(id))
                .map(|o| o.held.to_vec())
                .unwrap_or_default();
            for c in held {
                if e.conversation(c)
                    .is_some_and(|v| v.state == ConversationState::Offered)
                {
                    e.apply(Event::OfferAccepted {
                        at: s(now),
                        conversation: c,
                        operator: OperatorId(id),
                    })?;
                }
                if e.conversation(c)
                    .is_some_and(|v| v.state == ConversationState::Assigned)
                    && now % 20 == 0
                {
                    e.apply(Event::FirstResponseSent {
                        at: s(now),
                        conversation: c,
                    })?;
                    e.apply(Event::ConversationResolved {
                        at: s(now),
                        conversation: c,
                    })?;
                }
            }
        }
    }
    let status = e
        .operator(OperatorId(1))
        .map(|o| o.spec.status.as_str())
        .unwrap_or("?");
    lines.push(format!(
        "{name:<16} agent 1 ends {status}; {} calls still waiting",
        e.state_counts().waiting
    ));
    Ok(lines)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for line in run(
        "asterisk-style",
        include_str!("policies/asterisk-style.json"),
    )? {
        println!("{line}");
    }
    println!();
    for line in run(
        "taskrouter-style",
        include_str!("policies/taskrouter-style.json"),
    )? {
        println!("{line}");
    }
    Ok(())
}
