//! An operator steps away in the middle of a burst: where does their work go?
//!
//! Run: `cargo run --release --example rebalance`
//!
//! Mina holds six chats when she is called into a meeting. The two she has
//! already answered stay with her (the customer expects the same person);
//! the four she has not answered go back to the queue in their original
//! place and are re-assigned at once to whoever can take them. Then a load
//! skew builds up and the skew rebalance evens it out, and an offer that
//! nobody accepts walks down the line.

use switchboard::engine::{DecisionKind, MoveCause};
use switchboard::policy::OfferPolicy;
use switchboard::prelude::*;

const CHAT: ChannelId = ChannelId(1);
const VIP: TierId = TierId(1);
const STD: TierId = TierId(2);

fn names(id: OperatorId) -> &'static str {
    match id.0 {
        1 => "Mina",
        2 => "Joon",
        3 => "Sora",
        _ => "?",
    }
}

fn show(title: &str, ds: &[Decision]) {
    println!("{title}");
    for d in ds {
        let what = match d.kind {
            DecisionKind::Assigned => {
                format!("-> {:<5} ({})", names(d.operator), d.reason.route.as_str())
            }
            DecisionKind::Offered { expires_at } => {
                format!(
                    "offered to {:<5} until {} s",
                    names(d.operator),
                    expires_at.0 / 1000
                )
            }
            DecisionKind::Unassigned { cause } => {
                format!("<- {:<5} taken back: {}", names(d.operator), cause.as_str())
            }
            // A kind added later reads as its sentence.
            _ => d.to_string(),
        };
        println!(
            "  {:>3} s  conversation {:>2} ({})  {what}   waited {}",
            d.at.0 / 1000,
            d.conversation.0,
            if d.tier == VIP { "VIP" } else { "std" },
            d.reason.waited
        );
    }
}

fn main() -> Result<(), Error> {
    let s = |secs: u64| Timestamp(secs * 1000);
    let mut policy = Policy::new(
        vec![ChannelSpec::new(CHAT, "chat")],
        vec![
            TierSpec::new(VIP, "VIP", 1).first_response_target(Millis::from_mins(1)),
            TierSpec::new(STD, "standard", 2).first_response_target(Millis::from_mins(5)),
        ],
        vec![],
    );
    policy.rebalance.skew_margin_permille = Some(400);
    let mut e = Engine::new(policy)?;
    e.apply(Event::OperatorAdded {
        at: s(0),
        operator: OperatorSpec::new(OperatorId(1))
            .status(OperatorStatus::Available)
            .capacity(CHAT, 6),
    })?;
    e.apply(Event::OperatorAdded {
        at: s(0),
        operator: OperatorSpec::new(OperatorId(2))
            .status(OperatorStatus::Away)
            .capacity(CHAT, 4),
    })?;
    e.apply(Event::OperatorAdded {
        at: s(0),
        operator: OperatorSpec::new(OperatorId(3))
            .status(OperatorStatus::Away)
            .capacity(CHAT, 4),
    })?;

    for c in 1..=6u64 {
        let tier = if c % 3 == 0 { VIP } else { STD };
        e.apply(Event::ConversationArrived {
            at: s(c),
            conversation: ConversationSpec::new(ConversationId(c), CHAT, tier),
        })?;
    }
    show("A burst arrives; only Mina is in:", &e.assign(s(6))?);
    for c in [1, 2] {
        e.apply(Event::FirstResponseSent {
            at: s(20),
            conversation: ConversationId(c),
        })?;
    }
    println!("  Mina answers conversations 1 and 2.\n");

    e.apply(Event::OperatorStatusChanged {
        at: s(30),
        operator: OperatorId(2),
        status: OperatorStatus::Available,
    })?;
    e.apply(Event::OperatorStatusChanged {
        at: s(30),
        operator: OperatorId(3),
        status: OperatorStatus::Available,
    })?;
    e.apply(Event::OperatorStatusChanged {
        at: s(31),
        operator: OperatorId(1),
        status: OperatorStatus::Away,
    })?;
    show(
        "Joon and Sora log in; Mina is called into a meeting; rebalance:",
        &e.rebalance(s(31))?,
    );
    for id in [1, 2, 3] {
        let held: Vec<u64> = e
            .operator(OperatorId(id))
            .map(|o| o.held.iter().map(|c| c.0).collect())
            .unwrap_or_default();
        println!("  {} now holds {:?}", names(OperatorId(id)), held);
    }

    // Mina is back and new work piles onto Joon by hand: a skew.
    e.apply(Event::OperatorStatusChanged {
        at: s(60),
        operator: OperatorId(1),
        status: OperatorStatus::Available,
    })?;
    for c in 7..=8u64 {
        e.apply(Event::ConversationArrived {
            at: s(61),
            conversation: ConversationSpec::new(ConversationId(c), CHAT, STD),
        })?;
        e.apply(Event::ConversationClaimed {
            at: s(61),
            conversation: ConversationId(c),
            operator: OperatorId(2),
        })?;
    }
    println!("\nJoon claims two more by hand (4 of 4) while Mina is back with 2 of 6:");
    let ds = e.rebalance(s(62))?;
    show("rebalance evens the load (margin 0.4):", &ds);
    let skew_moves = ds
        .iter()
        .filter(|d| {
            d.kind
                == DecisionKind::Unassigned {
                    cause: MoveCause::LoadSkew,
                }
        })
        .count();
    println!(
        "  {skew_moves} move(s); calling rebalance again moves nothing: {:?}",
        e.rebalance(s(63))?.len()
    );

    // Offers: nobody picks up.
    let mut p = e.policy().clone();
    p.offers = Some(OfferPolicy::new(Millis::from_secs(15)));
    p.rebalance = Default::default();
    let mut o = Engine::new(p)?;
    for id in 1..=3 {
        o.apply(Event::OperatorAdded {
            at: s(0),
            operator: OperatorSpec::new(OperatorId(id))
                .status(OperatorStatus::Available)
                .capacity(CHAT, 1),
        })?;
    }
    o.apply(Event::ConversationArrived {
        at: s(1),
        conversation: ConversationSpec::new(ConversationId(9), CHAT, VIP),
    })?;
    println!();
    show(
        "With offers (15 s to accept), conversation 9 arrives:",
        &o.assign(s(1))?,
    );
    let mut t = 1;
    while let Some(deadline) = o.next_deadline() {
        t = deadline.0 / 1000;
        show(&format!("nobody accepted by {t} s:"), &o.assign(deadline)?);
        if t > 60 {
            break;
        }
    }
    let v = o.conversation(ConversationId(9)).map(|v| v.state);
    println!(
        "  after {t} s it is {v:?}: every operator missed it once and it is not offered to them again."
    );
    Ok(())
}
