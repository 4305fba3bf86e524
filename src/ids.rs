//! Caller-supplied identifiers. Plain integers so they cross the C ABI
//! unchanged; a host that uses strings keeps its own string → id table.
//!
//! # Example
//!
//! ```
//! use switchboard::{OperatorId, TierId};
//!
//! let o = OperatorId(7);
//! assert_eq!(o.to_string(), "operator #7");
//! assert!(TierId(1) < TierId(2)); // ids order, so ties break by id
//! ```

use core::fmt;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(transparent))]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A human operator (agent), as the host identifies them.
    OperatorId(u64), "operator #"
);
id_type!(
    /// One customer contact on one channel.
    ConversationId(u64), "conversation #"
);
id_type!(
    /// A topic operators can handle (billing, refunds, Korean…).
    SkillId(u32), "skill #"
);
id_type!(
    /// A customer plan or segment (Enterprise, SMB, Free…).
    TierId(u32), "tier #"
);
id_type!(
    /// A group of operators a conversation can be targeted at.
    TeamId(u32), "team #"
);
id_type!(
    /// A contact channel (call, chat, email…), declared in the policy.
    ChannelId(u32), "channel #"
);
id_type!(
    /// A routing queue declared in the policy, with its own rules
    /// ([`crate::policy::QueueSpec`]).
    QueueId(u32), "queue #"
);
id_type!(
    /// An operators' routing profile declared in the policy: which queues
    /// they serve, in which priority, after which delay
    /// ([`crate::policy::RoutingProfile`]).
    ProfileId(u32), "profile #"
);
