//! switchboard: a deterministic routing core for contact centers.
#![deny(missing_docs, rustdoc::broken_intra_doc_links, unsafe_code)]
#![warn(unreachable_pub, missing_debug_implementations)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod ids;
pub mod kpi;
pub mod time;

pub use ids::{ChannelId, ConversationId, OperatorId, SkillId, TeamId, TierId};
pub use time::{Millis, Timestamp};
