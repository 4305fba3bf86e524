//! Fixtures shared by the integration tests: a small contact center.

use switchboard::prelude::*;

pub const CALL: ChannelId = ChannelId(1);
pub const CHAT: ChannelId = ChannelId(2);
pub const EMAIL: ChannelId = ChannelId(3);

pub const ENTERPRISE: TierId = TierId(1);
pub const LARGE: TierId = TierId(2);
pub const SMB: TierId = TierId(3);

pub const BILLING: SkillId = SkillId(10);
pub const TECH: SkillId = SkillId(11);
pub const KOREAN: SkillId = SkillId(12);

pub const SUPPORT: TeamId = TeamId(100);
pub const SALES: TeamId = TeamId(101);

pub fn t(secs: u64) -> Timestamp {
    Timestamp(secs * 1000)
}

/// Three channels (a call blocks chats), three tiers, three skills.
pub fn policy() -> Policy {
    Policy::new(
        vec![
            ChannelSpec::new(CALL, "call").blocks([CHAT]),
            ChannelSpec::new(CHAT, "chat"),
            ChannelSpec::new(EMAIL, "email"),
        ],
        vec![
            TierSpec::new(ENTERPRISE, "Enterprise", 1)
                .first_response_target(Millis::from_mins(1))
                .head_start(Millis::from_mins(10)),
            TierSpec::new(LARGE, "Large", 2)
                .first_response_target(Millis::from_mins(2))
                .head_start(Millis::from_mins(5)),
            TierSpec::new(SMB, "SMB", 3).first_response_target(Millis::from_mins(5)),
        ],
        vec![
            SkillSpec::new(BILLING, "billing"),
            SkillSpec::new(TECH, "tech"),
            SkillSpec::new(KOREAN, "korean"),
        ],
    )
}

pub fn engine_with(policy: Policy) -> Engine {
    Engine::new(policy).expect("valid policy")
}

pub fn op(id: u64) -> OperatorSpec {
    OperatorSpec::new(OperatorId(id))
        .status(OperatorStatus::Available)
        .capacity(CHAT, 3)
}

pub fn chat(id: u64, tier: TierId) -> ConversationSpec {
    ConversationSpec::new(ConversationId(id), CHAT, tier)
}

pub fn add(e: &mut Engine, at: Timestamp, spec: OperatorSpec) {
    e.apply(Event::OperatorAdded { at, operator: spec })
        .expect("operator added");
}

pub fn arrive(e: &mut Engine, at: Timestamp, spec: ConversationSpec) {
    e.apply(Event::ConversationArrived {
        at,
        conversation: spec,
    })
    .expect("arrived");
}

pub fn resolve(e: &mut Engine, at: Timestamp, id: u64) {
    e.apply(Event::ConversationResolved {
        at,
        conversation: ConversationId(id),
    })
    .expect("resolved");
}

pub fn status(e: &mut Engine, at: Timestamp, id: u64, status: OperatorStatus) {
    e.apply(Event::OperatorStatusChanged {
        at,
        operator: OperatorId(id),
        status,
    })
    .expect("status");
}

/// (conversation, operator) pairs of a batch of decisions.
pub fn pairs(ds: &[Decision]) -> Vec<(u64, u64)> {
    ds.iter()
        .map(|d| (d.conversation.0, d.operator.0))
        .collect()
}

pub fn holder(e: &Engine, conv: u64) -> Option<u64> {
    e.conversation(ConversationId(conv))
        .and_then(|c| c.operator)
        .map(|o| o.0)
}

/// The bank's January 1999 records read through the KPI reader, or `None`
/// (with a printed note) when the shared data directory is absent.
pub fn bank_january() -> Option<switchboard::kpi::bank::BankRecords> {
    use switchboard::kpi::bank::{BankOptions, read_file};
    use switchboard::kpi::{Ingest, IngestOptions, KpiConfig};
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/anonymous-bank-1999");
    if !dir.is_dir() {
        println!("skipped: {} is absent", dir.display());
        return None;
    }
    let mut ing = Ingest::new(
        KpiConfig::default(),
        IngestOptions {
            skip_bad_rows: false,
            detect_duplicates: true,
            strict_order: false,
        },
    )
    .expect("ingest options are valid");
    Some(
        read_file(
            dir.join("anonymous_bank_1999-01_january.txt"),
            BankOptions::default(),
            &mut ing,
        )
        .expect("the January file reads"),
    )
}
