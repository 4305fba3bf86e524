//! Status codes: one per error variant, grouped by area, numbers fixed
//! forever (a retired number stays reserved as a comment).

use crate::engine::SnapshotError;
use crate::error::{EngineError, PolicyError};

use super::guard::Failure;

/// What a call did. `OK` (0) is success; any other value is a failure
/// whose message `switchboard_last_error` returns. Numbers are grouped: 1xx
/// arguments, 2xx engine, 3xx policy, 4xx snapshot, 999 a caught panic.
/// They never change; a retired number stays reserved as a comment.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum switchboard_status {
    /// Success.
    Ok = 0,

    // ----- 1xx: arguments -------------------------------------------------
    /// A required pointer (handle, out-parameter, or array with a non-zero
    /// length) is NULL.
    NullArgument = 100,
    /// An enum value out of range, or a value that does not fit its field.
    InvalidArgument = 101,
    /// The caller's buffer is too small; `*out_len` holds the size needed.
    BufferTooSmall = 102,
    /// A string is not valid UTF-8.
    InvalidUtf8 = 103,
    /// The policy JSON does not parse, or does not describe a policy.
    InvalidJson = 104,

    // ----- 2xx: engine (one per `EngineError` variant) --------------------
    /// No operator with this id.
    UnknownOperator = 200,
    /// An operator with this id already exists.
    DuplicateOperator = 201,
    /// No live conversation with this id.
    UnknownConversation = 202,
    /// A live conversation with this id already exists.
    DuplicateConversation = 203,
    /// The channel is not declared in the policy.
    UnknownChannel = 204,
    /// The tier is not declared in the policy.
    UnknownTier = 205,
    /// The skill is not declared in the policy.
    UnknownSkill = 206,
    /// A proficiency level outside 1–5.
    LevelOutOfRange = 207,
    /// A skill listed twice.
    DuplicateSkill = 208,
    /// A team listed twice.
    DuplicateTeam = 209,
    /// A channel listed twice in a capacity list.
    DuplicateChannel = 210,
    /// A conversation requires more than `SWITCHBOARD_MAX_REQUIRED_SKILLS` skills.
    TooManySkills = 211,
    /// Capacity 0 listed for a channel, or a claim/transfer where the
    /// operator has no capacity.
    ZeroCapacity = 212,
    /// The operator has no free capacity for a claim or transfer.
    AtCapacity = 213,
    /// The operator is offline.
    OperatorOffline = 214,
    /// The event does not fit the conversation's current state.
    InvalidTransition = 215,
    /// No pending offer of this conversation to this operator.
    NoSuchOffer = 216,
    /// The offer lapsed before the answer came.
    OfferExpired = 217,
    /// Time went backwards.
    TimeWentBackwards = 218,
    /// A timestamp beyond 2^53 ms.
    TimestampOutOfRange = 219,

    // ----- 3xx: policy (one per `PolicyError` variant) --------------------
    /// A policy list that needs an entry is empty.
    PolicyEmpty = 300,
    /// More channels than supported.
    PolicyTooManyChannels = 301,
    /// A channel id declared twice.
    PolicyDuplicateChannel = 302,
    /// A tier id declared twice.
    PolicyDuplicateTier = 303,
    /// A skill id declared twice.
    PolicyDuplicateSkill = 304,
    /// A policy field references an undeclared channel.
    PolicyUnknownChannel = 305,
    /// A policy field references an undeclared skill.
    PolicyUnknownSkill = 306,
    /// A policy field references an undeclared tier.
    PolicyUnknownTier = 307,
    /// A policy number outside its allowed range.
    PolicyOutOfRange = 308,
    /// A policy value that must be positive is zero.
    PolicyZero = 309,
    /// Overflow steps whose waits do not increase.
    PolicyOverflowOutOfOrder = 310,

    // ----- 4xx: snapshots (one per `SnapshotError` variant) ---------------
    /// The snapshot bytes end too early.
    SnapshotTruncated = 400,
    /// Not a switchboard snapshot.
    SnapshotBadMagic = 401,
    /// A snapshot format this build does not read.
    SnapshotUnsupportedVersion = 402,
    /// The snapshot checksum does not match.
    SnapshotCorrupted = 403,
    /// A snapshot field cannot be decoded.
    SnapshotInvalidField = 404,
    /// Bytes left over after the snapshot.
    SnapshotTrailingBytes = 405,
    /// The policy inside the snapshot is invalid.
    SnapshotInvalidPolicy = 406,
    /// An operator or conversation inside the snapshot is invalid.
    SnapshotInvalidEntity = 407,
    /// The snapshot's entities contradict each other.
    SnapshotInconsistent = 408,

    // ----- 999: last --------------------------------------------------------
    /// A bug inside the library panicked; the handle is poisoned.
    Panic = 999,
}

impl switchboard_status {
    /// Every status, in number order.
    pub(crate) const ALL: &'static [switchboard_status] = &[
        switchboard_status::Ok,
        switchboard_status::NullArgument,
        switchboard_status::InvalidArgument,
        switchboard_status::BufferTooSmall,
        switchboard_status::InvalidUtf8,
        switchboard_status::InvalidJson,
        switchboard_status::UnknownOperator,
        switchboard_status::DuplicateOperator,
        switchboard_status::UnknownConversation,
        switchboard_status::DuplicateConversation,
        switchboard_status::UnknownChannel,
        switchboard_status::UnknownTier,
        switchboard_status::UnknownSkill,
        switchboard_status::LevelOutOfRange,
        switchboard_status::DuplicateSkill,
        switchboard_status::DuplicateTeam,
        switchboard_status::DuplicateChannel,
        switchboard_status::TooManySkills,
        switchboard_status::ZeroCapacity,
        switchboard_status::AtCapacity,
        switchboard_status::OperatorOffline,
        switchboard_status::InvalidTransition,
        switchboard_status::NoSuchOffer,
        switchboard_status::OfferExpired,
        switchboard_status::TimeWentBackwards,
        switchboard_status::TimestampOutOfRange,
        switchboard_status::PolicyEmpty,
        switchboard_status::PolicyTooManyChannels,
        switchboard_status::PolicyDuplicateChannel,
        switchboard_status::PolicyDuplicateTier,
        switchboard_status::PolicyDuplicateSkill,
        switchboard_status::PolicyUnknownChannel,
        switchboard_status::PolicyUnknownSkill,
        switchboard_status::PolicyUnknownTier,
        switchboard_status::PolicyOutOfRange,
        switchboard_status::PolicyZero,
        switchboard_status::PolicyOverflowOutOfOrder,
        switchboard_status::SnapshotTruncated,
        switchboard_status::SnapshotBadMagic,
        switchboard_status::SnapshotUnsupportedVersion,
        switchboard_status::SnapshotCorrupted,
        switchboard_status::SnapshotInvalidField,
        switchboard_status::SnapshotTrailingBytes,
        switchboard_status::SnapshotInvalidPolicy,
        switchboard_status::SnapshotInvalidEntity,
        switchboard_status::SnapshotInconsistent,
        switchboard_status::Panic,
    ];

    /// The status with this number.
    pub(crate) fn from_u32(v: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| *s as u32 == v)
    }

    /// The stable lowercase name, NUL-terminated.
    pub(crate) fn name_nul(self) -> &'static str {
        match self {
            switchboard_status::Ok => "ok\0",
            switchboard_status::NullArgument => "null_argument\0",
            switchboard_status::InvalidArgument => "invalid_argument\0",
            switchboard_status::BufferTooSmall => "buffer_too_small\0",
            switchboard_status::InvalidUtf8 => "invalid_utf8\0",
            switchboard_status::InvalidJson => "invalid_json\0",
            switchboard_status::UnknownOperator => "unknown_operator\0",
            switchboard_status::DuplicateOperator => "duplicate_operator\0",
            switchboard_status::UnknownConversation => "unknown_conversation\0",
            switchboard_status::DuplicateConversation => "duplicate_conversation\0",
            switchboard_status::UnknownChannel => "unknown_channel\0",
            switchboard_status::UnknownTier => "unknown_tier\0",
            switchboard_status::UnknownSkill => "unknown_skill\0",
            switchboard_status::LevelOutOfRange => "level_out_of_range\0",
            switchboard_status::DuplicateSkill => "duplicate_skill\0",
            switchboard_status::DuplicateTeam => "duplicate_team\0",
            switchboard_status::DuplicateChannel => "duplicate_channel\0",
            switchboard_status::TooManySkills => "too_many_skills\0",
            switchboard_status::ZeroCapacity => "zero_capacity\0",
            switchboard_status::AtCapacity => "at_capacity\0",
            switchboard_status::OperatorOffline => "operator_offline\0",
            switchboard_status::InvalidTransition => "invalid_transition\0",
            switchboard_status::NoSuchOffer => "no_such_offer\0",
            switchboard_status::OfferExpired => "offer_expired\0",
            switchboard_status::TimeWentBackwards => "time_went_backwards\0",
            switchboard_status::TimestampOutOfRange => "timestamp_out_of_range\0",
            switchboard_status::PolicyEmpty => "policy_empty\0",
            switchboard_status::PolicyTooManyChannels => "policy_too_many_channels\0",
            switchboard_status::PolicyDuplicateChannel => "policy_duplicate_channel\0",
            switchboard_status::PolicyDuplicateTier => "policy_duplicate_tier\0",
            switchboard_status::PolicyDuplicateSkill => "policy_duplicate_skill\0",
            switchboard_status::PolicyUnknownChannel => "policy_unknown_channel\0",
            switchboard_status::PolicyUnknownSkill => "policy_unknown_skill\0",
            switchboard_status::PolicyUnknownTier => "policy_unknown_tier\0",
            switchboard_status::PolicyOutOfRange => "policy_out_of_range\0",
            switchboard_status::PolicyZero => "policy_zero\0",
            switchboard_status::PolicyOverflowOutOfOrder => "policy_overflow_out_of_order\0",
            switchboard_status::SnapshotTruncated => "snapshot_truncated\0",
            switchboard_status::SnapshotBadMagic => "snapshot_bad_magic\0",
            switchboard_status::SnapshotUnsupportedVersion => "snapshot_unsupported_version\0",
            switchboard_status::SnapshotCorrupted => "snapshot_corrupted\0",
            switchboard_status::SnapshotInvalidField => "snapshot_invalid_field\0",
            switchboard_status::SnapshotTrailingBytes => "snapshot_trailing_bytes\0",
            switchboard_status::SnapshotInvalidPolicy => "snapshot_invalid_policy\0",
            switchboard_status::SnapshotInvalidEntity => "snapshot_invalid_entity\0",
            switchboard_status::SnapshotInconsistent => "snapshot_inconsistent\0",
            switchboard_status::Panic => "panic\0",
        }
    }
}

impl From<&EngineError> for switchboard_status {
    fn from(e: &EngineError) -> Self {
        use switchboard_status as S;
        match e {
            EngineError::UnknownOperator(_) => S::UnknownOperator,
            EngineError::DuplicateOperator(_) => S::DuplicateOperator,
            EngineError::UnknownConversation(_) => S::UnknownConversation,
            EngineError::DuplicateConversation(_) => S::DuplicateConversation,
            EngineError::UnknownChannel(_) => S::UnknownChannel,
            EngineError::UnknownTier(_) => S::UnknownTier,
            EngineError::UnknownSkill(_) => S::UnknownSkill,
            EngineError::LevelOutOfRange { .. } => S::LevelOutOfRange,
            EngineError::DuplicateSkill(_) => S::DuplicateSkill,
            EngineError::DuplicateTeam(_) => S::DuplicateTeam,
            EngineError::DuplicateChannel(_) => S::DuplicateChannel,
            EngineError::TooManySkills { .. } => S::TooManySkills,
            EngineError::ZeroCapacity { .. } => S::ZeroCapacity,
            EngineError::AtCapacity { .. } => S::AtCapacity,
            EngineError::OperatorOffline(_) => S::OperatorOffline,
            EngineError::InvalidTransition { .. } => S::InvalidTransition,
            EngineError::NoSuchOffer { .. } => S::NoSuchOffer,
            EngineError::OfferExpired { .. } => S::OfferExpired,
            EngineError::TimeWentBackwards { .. } => S::TimeWentBackwards,
            EngineError::TimestampOutOfRange(_) => S::TimestampOutOfRange,
        }
    }
}

impl From<&PolicyError> for switchboard_status {
    fn from(e: &PolicyError) -> Self {
        use switchboard_status as S;
        match e {
            PolicyError::Empty { .. } => S::PolicyEmpty,
            PolicyError::TooManyChannels { .. } => S::PolicyTooManyChannels,
            PolicyError::DuplicateChannel(_) => S::PolicyDuplicateChannel,
            PolicyError::DuplicateTier(_) => S::PolicyDuplicateTier,
            PolicyError::DuplicateSkill(_) => S::PolicyDuplicateSkill,
            PolicyError::UnknownChannel { .. } => S::PolicyUnknownChannel,
            PolicyError::UnknownSkill { .. } => S::PolicyUnknownSkill,
            PolicyError::UnknownTier { .. } => S::PolicyUnknownTier,
            PolicyError::OutOfRange { .. } => S::PolicyOutOfRange,
            PolicyError::Zero { .. } => S::PolicyZero,
            PolicyError::OverflowOutOfOrder { .. } => S::PolicyOverflowOutOfOrder,
        }
    }
}

impl From<&SnapshotError> for switchboard_status {
    fn from(e: &SnapshotError) -> Self {
        use switchboard_status as S;
        match e {
            SnapshotError::Truncated { .. } => S::SnapshotTruncated,
            SnapshotError::BadMagic => S::SnapshotBadMagic,
            SnapshotError::UnsupportedVersion { .. } => S::SnapshotUnsupportedVersion,
            SnapshotError::Corrupted => S::SnapshotCorrupted,
            SnapshotError::InvalidField { .. } => S::SnapshotInvalidField,
            SnapshotError::TrailingBytes(_) => S::SnapshotTrailingBytes,
            SnapshotError::Policy(_) => S::SnapshotInvalidPolicy,
            SnapshotError::Entity(_) => S::SnapshotInvalidEntity,
            SnapshotError::Inconsistent { .. } => S::SnapshotInconsistent,
        }
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::new((&e).into(), e.to_string())
    }
}

impl From<PolicyError> for Failure {
    fn from(e: PolicyError) -> Self {
        Failure::new((&e).into(), e.to_string())
    }
}

impl From<SnapshotError> for Failure {
    fn from(e: SnapshotError) -> Self {
        Failure::new((&e).into(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_ascending_and_panic_is_last() {
        let nums: Vec<u32> = switchboard_status::ALL.iter().map(|s| *s as u32).collect();
        assert!(nums.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            switchboard_status::ALL.last(),
            Some(&switchboard_status::Panic)
        );
        for s in switchboard_status::ALL {
            assert_eq!(switchboard_status::from_u32(*s as u32), Some(*s));
            assert!(s.name_nul().ends_with('\0'));
        }
        assert_eq!(switchboard_status::from_u32(1), None);
    }
}
