//! What a replayed run carries into the event loop ([`super::run`]): the
//! arrivals' recorded instants and quantities and the roster, built by
//! [`super::trace`]. Below both, so the loop does not import the trace.

use smallvec::SmallVec;

use super::dist::DurationSampler;
use super::rng::Rng;
use crate::ids::{ChannelId, ConversationId, QueueId, TeamId, TierId};
use crate::model::{ConversationSpec, OperatorSpec, SkillLevel};

/// Draws tried before a conditioned patience falls back to the wait plus a
/// fresh draw.
const MAX_REJECTIONS: u32 = 1_000;

/// A patience drawn from `p` conditioned to exceed `wait` ms (see the module docs).
pub(crate) fn draw_above(p: &DurationSampler, wait: u64, rng: &mut Rng) -> u64 {
    if wait == 0 {
        return p.sample_millis(rng).0;
    }
    if let DurationSampler::Exponential(_) = p {
        return wait.saturating_add(p.sample_millis(rng).0);
    }
    for _ in 0..MAX_REJECTIONS {
        let d = p.sample_millis(rng).0;
        if d > wait {
            return d;
        }
    }
    wait.saturating_add(p.sample_millis(rng).0)
}

/// A replayed arrival's patience, as the simulator uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplayPatience {
    /// Drawn from the scenario's patience (none: forever).
    Drawn,
    /// This many ms.
    After(u64),
    /// Drawn above this many ms.
    Above(u64),
    /// Never leaves.
    Forever,
}

/// A replayed arrival, as the simulator uses it.
#[derive(Debug, Clone)]
pub(crate) struct ReplayArrival {
    pub(crate) channel: ChannelId,
    pub(crate) tier: TierId,
    pub(crate) team: Option<TeamId>,
    pub(crate) queue: Option<QueueId>,
    pub(crate) skills: SmallVec<[SkillLevel; 2]>,
    /// Recorded handle time, ms; `None`: drawn.
    pub(crate) handle: Option<u64>,
    pub(crate) patience: ReplayPatience,
}

impl ReplayArrival {
    /// The conversation the engine gets.
    pub(crate) fn spec(&self, id: ConversationId) -> ConversationSpec {
        let mut spec = ConversationSpec::new(id, self.channel, self.tier);
        spec.skills = self.skills.clone();
        spec.team = self.team;
        spec.queue = self.queue;
        spec
    }
}

/// A roster operator, as the simulator uses it.
#[derive(Debug, Clone)]
pub(crate) struct ReplayOperator {
    /// Offline at first.
    pub(crate) spec: OperatorSpec,
    /// Shifts in ms from the start (the first may start at 0).
    pub(crate) shifts: Vec<(u64, u64)>,
}

/// What [`super::run`] replays.
#[derive(Debug, Clone)]
pub(crate) struct Replay {
    /// Arrival instants, ms from the start, in order.
    pub(crate) times: Vec<u64>,
    /// The arrivals, in the same order.
    pub(crate) arrivals: Vec<ReplayArrival>,
    /// The roster (`None`: the scenario's operator groups).
    pub(crate) roster: Option<Vec<ReplayOperator>>,
}
