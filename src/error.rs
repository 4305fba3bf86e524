//! The crate's error umbrella. Each error type lives beside the module that
//! raises it ([`PolicyError`] in [`crate::policy`], [`EngineError`] in
//! [`crate::engine`], …) and is re-exported here; [`enum@Error`] gathers them for
//! callers who want one type. Every failing call names what was wrong and
//! leaves the state exactly as it was before the call.
//!
//! # Example
//!
//! ```
//! use switchboard::prelude::*;
//!
//! let policy = Policy::builder()
//!     .channel(ChannelSpec::new(ChannelId(1), "chat"))
//!     .tier(TierSpec::new(TierId(1), "all", 1))
//!     .build()?;
//! let mut engine = Engine::new(policy)?;
//! let before = engine.clone();
//! let err = engine
//!     .apply(Event::ConversationResolved { at: Timestamp(0), conversation: ConversationId(9) })
//!     .unwrap_err();
//! assert_eq!(err, EngineError::UnknownConversation(ConversationId(9)));
//! assert_eq!(engine, before); // a refused input changes nothing
//! let any: Error = err.into(); // one type for callers who want one
//! assert!(any.to_string().contains("conversation #9"));
//! # Ok::<(), switchboard::Error>(())
//! ```

use thiserror::Error;

pub use crate::engine::{EngineError, PolicyChangeError, UsedBy};
pub use crate::policy::PolicyError;
pub use crate::time::TimeError;

/// Any error from this crate.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`PolicyError`].
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// See [`EngineError`].
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// See [`crate::engine::SnapshotError`].
    #[error(transparent)]
    Snapshot(#[from] crate::engine::SnapshotError),
    /// See [`crate::kpi::KpiError`].
    #[error(transparent)]
    Kpi(#[from] crate::kpi::KpiError),
    /// See [`crate::staffing::StaffingError`].
    #[error(transparent)]
    Staffing(#[from] crate::staffing::StaffingError),
    /// See [`crate::sim::run::SimError`].
    #[error(transparent)]
    Sim(#[from] crate::sim::run::SimError),
    /// See [`TimeError`].
    #[error(transparent)]
    Time(#[from] TimeError),
    /// See [`crate::proficiency::ProficiencyError`].
    #[error(transparent)]
    Proficiency(#[from] crate::proficiency::ProficiencyError),
}
