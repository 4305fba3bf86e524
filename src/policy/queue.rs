//! Queues and routing profiles: several queues with their own rules over
//! one shared pool of operators.
//!
//! A *queue* ([`QueueSpec`]) carries the rules that differ between lines
//! of business: how operators are selected, the overflow ladder and its
//! timing, offers, the preferred-operator wait, and a base priority or head
//! start. Capacity, wrap-up, the throughput cap, rebalancing, blocked work
//! and the queue order stay engine-wide: they are about operators, who
//! serve every queue with one capacity.
//!
//! A *routing profile* ([`RoutingProfile`], as in Amazon Connect) says which
//! queues an operator serves, in which priority (serve queue A before queue
//! B when both have work) and after which delay (take B's conversations only
//! once they have waited at least that long in B).
//!
//! ```
//! use switchboard::prelude::*;
//!
//! let sales = QueueId(1);
//! let policy = Policy::builder()
//!     .channel(ChannelSpec::new(ChannelId(1), "call"))
//!     .tier(TierSpec::new(TierId(1), "standard", 2))
//!     .queue(
//!         QueueSpec::new(sales, "sales")
//!             .selection(Selection::LongestIdle { clock: IdleClock::BecameAvailable })
//!             .overflow_step(OverflowStep::new(Millis::from_secs(30), Relax::AnyOperator)),
//!     )
//!     .profile(
//!         RoutingProfile::new(ProfileId(1), "billing first")
//!             .serve(ProfileQueue::default_queue(1))
//!             .serve(ProfileQueue::new(sales, 2).delay(Millis::from_secs(20))),
//!     )
//!     .build()?;
//! assert_eq!(policy.queues.len(), 1);
//! // A profile naming a queue nobody declared is refused by name.
//! let wrong = Policy::builder()
//!     .channel(ChannelSpec::new(ChannelId(1), "call"))
//!     .tier(TierSpec::new(TierId(1), "standard", 2))
//!     .profile(RoutingProfile::new(ProfileId(1), "p").serve(ProfileQueue::new(QueueId(9), 1)))
//!     .build();
//! assert!(matches!(wrong, Err(PolicyError::UnknownQueue { .. })));
//! # Ok::<(), switchboard::PolicyError>(())
//! ```

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::{
    OfferPolicy, OverflowStep, OverflowTiming, Policy, PolicyBuilder, PolicyError,
    PreferredOperatorPolicy, Selection, first_duplicate, overflow_offsets, validate_rules,
};
use crate::ids::{ProfileId, QueueId};
use crate::time::{Millis, Timestamp};

/// The most queues a policy may declare besides the default queue.
pub const MAX_QUEUES: usize = 1_000;
/// The most routing profiles a policy may declare (the engine keeps a
/// profile × queue access table: at most 8 MB).
pub const MAX_PROFILES: usize = 1_000;
/// The most distinct profile delays one queue may have (each is a point
/// where more operators may take its conversations).
pub const MAX_DELAYS_PER_QUEUE: usize = 255;

/// A routing queue and its own rules. Each field means what the policy
/// field of the same name means for the default queue; a field left out
/// takes the type's default, **not** the policy's (a queue is read on its
/// own).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct QueueSpec {
    /// Id used by conversations and profiles.
    pub id: QueueId,
    /// Display name ("sales").
    pub name: String,
    /// Operator selection. Default: [`Selection::LeastLoaded`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub selection: Selection,
    /// Overflow steps, in the order they take effect. Default: none.
    #[cfg_attr(feature = "serde", serde(default))]
    pub overflow: Vec<OverflowStep>,
    /// Where overflow timers are measured from. Default: from routing.
    #[cfg_attr(feature = "serde", serde(default))]
    pub overflow_timing: OverflowTiming,
    /// Offers the operator must accept. Default: none (direct assignment).
    #[cfg_attr(feature = "serde", serde(default))]
    pub offers: Option<OfferPolicy>,
    /// Returning customers. Default: no waiting.
    #[cfg_attr(feature = "serde", serde(default))]
    pub preferred_operator: PreferredOperatorPolicy,
    /// Priority of the queue's conversations under
    /// [`super::QueueOrder::StrictPriority`], replacing their tier's
    /// (lower is served first). Default: none (the tier's priority).
    #[cfg_attr(feature = "serde", serde(default))]
    pub priority: Option<u32>,
    /// Head start of the queue's conversations under
    /// [`super::QueueOrder::Aging`], added to their tier's. Default: 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub head_start: Millis,
}

impl QueueSpec {
    /// A queue with every rule at its default.
    pub fn new(id: QueueId, name: impl Into<String>) -> Self {
        QueueSpec {
            id,
            name: name.into(),
            selection: Selection::default(),
            overflow: Vec::new(),
            overflow_timing: OverflowTiming::default(),
            offers: None,
            preferred_operator: PreferredOperatorPolicy::default(),
            priority: None,
            head_start: Millis::ZERO,
        }
    }

    /// Sets the selection strategy.
    pub fn selection(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }

    /// Adds an overflow step.
    pub fn overflow_step(mut self, step: OverflowStep) -> Self {
        self.overflow.push(step);
        self
    }

    /// Sets where overflow timers are measured from.
    pub fn overflow_timing(mut self, timing: OverflowTiming) -> Self {
        self.overflow_timing = timing;
        self
    }

    /// Turns on offers for this queue.
    pub fn offers(mut self, offers: OfferPolicy) -> Self {
        self.offers = Some(offers);
        self
    }

    /// Sets the returning-customer rules.
    pub fn preferred_operator(mut self, preferred: PreferredOperatorPolicy) -> Self {
        self.preferred_operator = preferred;
        self
    }

    /// Sets the queue's priority (replacing the tiers').
    pub fn priority(mut self, priority: u32) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Sets the queue's head start (added to the tiers').
    pub fn head_start(mut self, head_start: Millis) -> Self {
        self.head_start = head_start;
        self
    }

    /// When each overflow step takes effect, from entering routing.
    pub fn overflow_offsets(&self) -> Vec<Millis> {
        overflow_offsets(&self.overflow, self.overflow_timing)
    }
}

/// Which queues an operator with this profile serves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct RoutingProfile {
    /// Id operators name in [`crate::model::OperatorSpec::profile`].
    pub id: ProfileId,
    /// Display name.
    pub name: String,
    /// The queues served; a queue not listed is not served. Each queue at
    /// most once.
    pub queues: Vec<ProfileQueue>,
}

impl RoutingProfile {
    /// A profile serving nothing yet.
    pub fn new(id: ProfileId, name: impl Into<String>) -> Self {
        RoutingProfile {
            id,
            name: name.into(),
            queues: Vec::new(),
        }
    }

    /// Serves one more queue.
    pub fn serve(mut self, queue: ProfileQueue) -> Self {
        self.queues.push(queue);
        self
    }
}

/// One queue of a routing profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct ProfileQueue {
    /// The queue; absent: the default queue (conversations that name none).
    #[cfg_attr(feature = "serde", serde(default))]
    pub queue: Option<QueueId>,
    /// Lower is served first: when the operator frees and several of their
    /// queues have work, they take from the queue with the lowest number
    /// (then by the queue order across the queues that tie).
    pub priority: u32,
    /// The operator takes this queue's conversations only once they have
    /// waited this long in it (since arrival, or since a transfer put them
    /// back). Default: 0.
    #[cfg_attr(feature = "serde", serde(default))]
    pub delay: Millis,
}

impl ProfileQueue {
    /// Serves `queue` at `priority`, without delay.
    pub const fn new(queue: QueueId, priority: u32) -> Self {
        ProfileQueue {
            queue: Some(queue),
            priority,
            delay: Millis::ZERO,
        }
    }

    /// Serves the default queue at `priority`, without delay.
    pub const fn default_queue(priority: u32) -> Self {
        ProfileQueue {
            queue: None,
            priority,
            delay: Millis::ZERO,
        }
    }

    /// Sets the delay.
    pub const fn delay(mut self, delay: Millis) -> Self {
        self.delay = delay;
        self
    }
}

impl PolicyBuilder {
    /// Adds a queue.
    pub fn queue(mut self, queue: QueueSpec) -> Self {
        self.policy.queues.push(queue);
        self
    }

    /// Adds a routing profile.
    pub fn profile(mut self, profile: RoutingProfile) -> Self {
        self.policy.profiles.push(profile);
        self
    }
}

/// The queue and profile checks of [`Policy::validate`].
pub(super) fn validate(p: &Policy) -> Result<(), PolicyError> {
    if p.queues.len() > MAX_QUEUES {
        return Err(PolicyError::OutOfRange {
            field: "queues",
            value: p.queues.len() as u64,
            max: MAX_QUEUES as u64,
        });
    }
    if p.profiles.len() > MAX_PROFILES {
        return Err(PolicyError::OutOfRange {
            field: "profiles",
            value: p.profiles.len() as u64,
            max: MAX_PROFILES as u64,
        });
    }
    if let Some(id) = first_duplicate(p.queues.iter().map(|q| q.id)) {
        return Err(PolicyError::DuplicateQueue(id));
    }
    if let Some(id) = first_duplicate(p.profiles.iter().map(|q| q.id)) {
        return Err(PolicyError::DuplicateProfile(id));
    }
    let max = Millis(Timestamp::MAX.0);
    for q in &p.queues {
        let inner = || -> Result<(), PolicyError> {
            validate_rules(
                &p.skills,
                &q.selection,
                &q.overflow,
                &q.overflow_offsets(),
                q.offers.as_ref(),
            )?;
            for (field, v) in [
                ("head_start", q.head_start),
                ("preferred_operator.wait", q.preferred_operator.wait),
            ] {
                if v > max {
                    return Err(PolicyError::OutOfRange {
                        field,
                        value: v.0,
                        max: max.0,
                    });
                }
            }
            Ok(())
        };
        inner().map_err(|e| PolicyError::InQueue {
            queue: q.id,
            source: Box::new(e),
        })?;
    }
    for prof in &p.profiles {
        if let Some(q) = prof
            .queues
            .iter()
            .filter_map(|x| x.queue)
            .find(|q| !p.queues.iter().any(|d| d.id == *q))
        {
            return Err(PolicyError::UnknownQueue {
                field: "profiles[].queues[].queue",
                queue: q,
            });
        }
        // The default queue sorts first (None < Some).
        let mut ids: Vec<Option<QueueId>> = prof.queues.iter().map(|x| x.queue).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(PolicyError::Unsupported {
                field: "profiles[].queues",
                what: "a queue listed twice in one profile",
            });
        }
        if let Some(x) = prof.queues.iter().find(|x| x.delay > max) {
            return Err(PolicyError::OutOfRange {
                field: "profiles[].queues[].delay",
                value: x.delay.0,
                max: max.0,
            });
        }
    }
    let mut delays: Vec<(Option<QueueId>, Millis)> = p
        .profiles
        .iter()
        .flat_map(|prof| prof.queues.iter())
        .filter(|x| x.delay > Millis::ZERO)
        .map(|x| (x.queue, x.delay))
        .collect();
    delays.sort_unstable();
    delays.dedup();
    let mut i = 0;
    while i < delays.len() {
        let n = delays[i..]
            .iter()
            .take_while(|d| d.0 == delays[i].0)
            .count();
        if n > MAX_DELAYS_PER_QUEUE {
            return Err(PolicyError::OutOfRange {
                field: "profiles[].queues[].delay (distinct delays of one queue)",
                value: n as u64,
                max: MAX_DELAYS_PER_QUEUE as u64,
            });
        }
        i += n;
    }
    Ok(())
}
