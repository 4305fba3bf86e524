//! switchboard: a deterministic routing core for contact centers.
//!
//! It assigns customer conversations to human operators by tier priority,
//! skills and proficiency, load and capacity, and explains every decision.
//! The core is pure logic: the caller passes time in, and the same inputs
//! give the same decisions on every machine.
//!
//! One straight data path: events in → [`engine`] (indexes, policy) → decisions with reasons
//! out → lifecycle [`record`]s → [`kpi`] accumulators. The simulator and the C ABI are thin
//! layers over the same API. Modules, from the bottom up: each uses only modules listed
//! before it.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`time`], [`ids`] | timestamps and durations in ms; typed ids |
//! | [`model`] | operators, conversations, skills, tiers, channels, states |
//! | [`policy`] | queue order, operator selection, overflow, preferred operator, wrap-up, offers, rebalance |
//! | [`record`] | lifecycle records: a finished conversation, an operator's activity interval |
//! | [`engine`] | the engine: events in, decisions with reasons out, records, snapshots |
//! | [`kpi`] | KPI calculators over records: first response, wait, abandonment, service level, occupancy |
//! | [`staffing`] | Erlang B, C and A: operators needed for a target |
//! | [`proficiency`] | proficiency scores, bands, level rules, balanced teams, exposure to hard work |
//! | [`sim`] | discrete-event simulator driving the real engine, with replications; scenarios fitted from records, trace replay, day-plan checks |
//! | `ffi` | the C ABI (`include/switchboard.h`), feature `ffi` |
//! | [`error`] | every error type, re-exported, and [`enum@Error`] gathering them |
//!
//! ```
//! use switchboard::prelude::*;
//!
//! let (call, chat) = (ChannelId(1), ChannelId(2));
//! let vip = TierId(1);
//! let policy = Policy::builder()
//!     .channel(ChannelSpec::new(call, "call").blocks([chat]))
//!     .channel(ChannelSpec::new(chat, "chat"))
//!     .tier(TierSpec::new(vip, "enterprise", 1).first_response_target(Millis::from_mins(1)))
//!     .skill(SkillSpec::new(SkillId(1), "billing"))
//!     .build()?;
//! let mut engine = Engine::new(policy)?;
//! let t0 = Timestamp(0);
//! engine.apply(Event::OperatorAdded {
//!     at: t0,
//!     operator: OperatorSpec::new(OperatorId(1))
//!         .status(OperatorStatus::Available)
//!         .capacity(chat, 5)
//!         .skill(SkillId(1), 4),
//! })?;
//! engine.apply(Event::ConversationArrived {
//!     at: t0,
//!     conversation: ConversationSpec::new(ConversationId(10), chat, vip).skill(SkillId(1), 3),
//! })?;
//! for d in engine.assign(t0)? {
//!     println!("{} -> {} ({})", d.conversation, d.operator, d.reason.route.as_str());
//! }
//! # Ok::<(), switchboard::Error>(())
//! ```
#![deny(missing_docs, rustdoc::broken_intra_doc_links, unsafe_code)]
#![warn(unreachable_pub, missing_debug_implementations)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod codec;
pub mod engine;
pub mod error;
#[cfg(feature = "ffi")]
pub mod ffi;
pub mod ids;
pub mod kpi;
mod mix;
pub mod model;
pub mod policy;
pub mod proficiency;
pub mod record;
pub mod sim;
pub mod staffing;
pub mod time;

pub use engine::{Decision, Engine, Event};
pub use error::{EngineError, Error, PolicyError};
pub use ids::{ChannelId, ConversationId, OperatorId, ProfileId, QueueId, SkillId, TeamId, TierId};
pub use time::{Millis, Timestamp};

/// Everything a host needs to drive the engine, in one import.
pub mod prelude {
    pub use crate::engine::{Decision, Engine, Event, Reason, Route, Trigger};
    pub use crate::error::{EngineError, Error, PolicyError};
    pub use crate::ids::{
        ChannelId, ConversationId, OperatorId, ProfileId, QueueId, SkillId, TeamId, TierId,
    };
    pub use crate::model::{
        ConversationSpec, ConversationState, OperatorSpec, OperatorStatus, SkillLevel,
        TransferTarget,
    };
    pub use crate::policy::{
        BlockedWork, ChannelSpec, IdleClock, OfferPolicy, OperatorAttribute, OrderKey,
        OverflowStep, OverflowTiming, Policy, PolicyBuilder, PreferredOperatorPolicy, ProfileQueue,
        QueueOrder, QueueSpec, RebalancePolicy, Relax, RoutingProfile, Selection, SkillSpec,
        ThroughputCap, TierSpec,
    };
    pub use crate::time::{Millis, Timestamp};
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
