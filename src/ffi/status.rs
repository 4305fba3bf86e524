//! Status codes: one per error variant, grouped by area, numbers fixed
//! forever (a retired number stays reserved as a comment).

use crate::engine::SnapshotError;
use crate::engine::{EngineError, PolicyChangeError};
use crate::kpi::KpiError;
use crate::policy::PolicyError;

/// What a call did. `OK` (0) is success; any other value is a failure
/// whose message `switchboard_last_error` returns. Numbers are grouped: 1xx
/// arguments, 2xx engine, 3xx policy, 4xx snapshot, 5xx KPI, 999 a caught
/// panic.
/// They never change; a retired number stays reserved as a comment.
///
/// A wrong rule inside one of the policy's `queues` has no code of its
/// own: it reads as the code the same rule gives at the top level
/// (`POLICY_ZERO`, `POLICY_UNKNOWN_SKILL`, …), and the message
/// (`switchboard_last_error`) starts with `queues[queue #N]: ` to say which
/// queue.
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
    /// The offer was withdrawn before the answer came (the customer left,
    /// the conversation was resolved, transferred or moved).
    OfferWithdrawn = 220,
    /// The queue is not declared in the policy (a conversation's queue, or
    /// a transfer's).
    UnknownQueue = 221,
    /// The routing profile is not declared in the policy (an operator's).
    UnknownProfile = 222,

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
    /// A queue id declared twice.
    PolicyDuplicateQueue = 311,
    /// A routing profile id declared twice.
    PolicyDuplicateProfile = 312,
    /// A policy field (a profile's queue, say) references an undeclared queue.
    PolicyUnknownQueue = 313,
    /// A combination of policy fields the engine does not support (the
    /// message names the field and what was given).
    PolicyUnsupported = 314,

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

    // ----- 5xx: KPI calculators (one per `KpiError` variant) ------------
    /// A KPI input field could not be parsed.
    KpiParse = 500,
    /// A KPI input value is not allowed.
    KpiOutOfRange = 501,
    /// A record timestamp is before its ask.
    KpiBeforeAsk = 502,
    /// A record was assigned after it was resolved.
    KpiAssignedAfterResolved = 503,
    /// A record was left before it was assigned, yet assigned.
    KpiAbandonedBeforeAssigned = 504,
    /// KPI records out of order.
    KpiOutOfOrder = 505,
    /// A KPI record id seen twice.
    KpiDuplicateId = 506,
    /// A CSV row has the wrong number of fields.
    KpiFieldCount = 507,
    /// Malformed CSV.
    KpiMalformed = 508,
    /// A required CSV column is missing.
    KpiMissingColumn = 509,
    /// An unknown CSV column.
    KpiUnknownColumn = 510,
    /// A CSV column named twice.
    KpiDuplicateColumn = 511,
    /// Empty KPI input.
    KpiEmptyInput = 512,
    /// An I/O error while reading KPI input.
    KpiIo = 513,
    /// The KPI config is invalid.
    KpiInvalidConfig = 514,
    /// The KPI period ends before it starts.
    KpiInvalidPeriod = 515,
    /// Invalid business hours.
    KpiInvalidBusinessHours = 516,
    /// An invalid operator status interval.
    KpiInvalidStatusInterval = 517,
    /// KPI accumulators with different configs cannot merge.
    KpiConfigMismatch = 518,
    /// KPI accumulator bytes end too early.
    KpiTruncated = 519,
    /// Not KPI accumulator bytes.
    KpiBadMagic = 520,
    /// A KPI accumulator format this build does not read.
    KpiUnsupportedVersion = 521,
    /// Corrupt KPI accumulator bytes.
    KpiCorrupt = 522,
    /// A value cannot be written in the KPI interchange format.
    KpiUnwritable = 523,

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
        switchboard_status::OfferWithdrawn,
        switchboard_status::UnknownQueue,
        switchboard_status::UnknownProfile,
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
        switchboard_status::PolicyDuplicateQueue,
        switchboard_status::PolicyDuplicateProfile,
        switchboard_status::PolicyUnknownQueue,
        switchboard_status::PolicyUnsupported,
        switchboard_status::SnapshotTruncated,
        switchboard_status::SnapshotBadMagic,
        switchboard_status::SnapshotUnsupportedVersion,
        switchboard_status::SnapshotCorrupted,
        switchboard_status::SnapshotInvalidField,
        switchboard_status::SnapshotTrailingBytes,
        switchboard_status::SnapshotInvalidPolicy,
        switchboard_status::SnapshotInvalidEntity,
        switchboard_status::SnapshotInconsistent,
        switchboard_status::KpiParse,
        switchboard_status::KpiOutOfRange,
        switchboard_status::KpiBeforeAsk,
        switchboard_status::KpiAssignedAfterResolved,
        switchboard_status::KpiAbandonedBeforeAssigned,
        switchboard_status::KpiOutOfOrder,
        switchboard_status::KpiDuplicateId,
        switchboard_status::KpiFieldCount,
        switchboard_status::KpiMalformed,
        switchboard_status::KpiMissingColumn,
        switchboard_status::KpiUnknownColumn,
        switchboard_status::KpiDuplicateColumn,
        switchboard_status::KpiEmptyInput,
        switchboard_status::KpiIo,
        switchboard_status::KpiInvalidConfig,
        switchboard_status::KpiInvalidPeriod,
        switchboard_status::KpiInvalidBusinessHours,
        switchboard_status::KpiInvalidStatusInterval,
        switchboard_status::KpiConfigMismatch,
        switchboard_status::KpiTruncated,
        switchboard_status::KpiBadMagic,
        switchboard_status::KpiUnsupportedVersion,
        switchboard_status::KpiCorrupt,
        switchboard_status::KpiUnwritable,
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
            switchboard_status::OfferWithdrawn => "offer_withdrawn\0",
            switchboard_status::UnknownQueue => "unknown_queue\0",
            switchboard_status::UnknownProfile => "unknown_profile\0",
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
            switchboard_status::PolicyDuplicateQueue => "policy_duplicate_queue\0",
            switchboard_status::PolicyDuplicateProfile => "policy_duplicate_profile\0",
            switchboard_status::PolicyUnknownQueue => "policy_unknown_queue\0",
            switchboard_status::PolicyUnsupported => "policy_unsupported\0",
            switchboard_status::SnapshotTruncated => "snapshot_truncated\0",
            switchboard_status::SnapshotBadMagic => "snapshot_bad_magic\0",
            switchboard_status::SnapshotUnsupportedVersion => "snapshot_unsupported_version\0",
            switchboard_status::SnapshotCorrupted => "snapshot_corrupted\0",
            switchboard_status::SnapshotInvalidField => "snapshot_invalid_field\0",
            switchboard_status::SnapshotTrailingBytes => "snapshot_trailing_bytes\0",
            switchboard_status::SnapshotInvalidPolicy => "snapshot_invalid_policy\0",
            switchboard_status::SnapshotInvalidEntity => "snapshot_invalid_entity\0",
            switchboard_status::SnapshotInconsistent => "snapshot_inconsistent\0",
            switchboard_status::KpiParse => "kpi_parse\0",
            switchboard_status::KpiOutOfRange => "kpi_out_of_range\0",
            switchboard_status::KpiBeforeAsk => "kpi_before_ask\0",
            switchboard_status::KpiAssignedAfterResolved => "kpi_assigned_after_resolved\0",
            switchboard_status::KpiAbandonedBeforeAssigned => "kpi_abandoned_before_assigned\0",
            switchboard_status::KpiOutOfOrder => "kpi_out_of_order\0",
            switchboard_status::KpiDuplicateId => "kpi_duplicate_id\0",
            switchboard_status::KpiFieldCount => "kpi_field_count\0",
            switchboard_status::KpiMalformed => "kpi_malformed\0",
            switchboard_status::KpiMissingColumn => "kpi_missing_column\0",
            switchboard_status::KpiUnknownColumn => "kpi_unknown_column\0",
            switchboard_status::KpiDuplicateColumn => "kpi_duplicate_column\0",
            switchboard_status::KpiEmptyInput => "kpi_empty_input\0",
            switchboard_status::KpiIo => "kpi_io\0",
            switchboard_status::KpiInvalidConfig => "kpi_invalid_config\0",
            switchboard_status::KpiInvalidPeriod => "kpi_invalid_period\0",
            switchboard_status::KpiInvalidBusinessHours => "kpi_invalid_business_hours\0",
            switchboard_status::KpiInvalidStatusInterval => "kpi_invalid_status_interval\0",
            switchboard_status::KpiConfigMismatch => "kpi_config_mismatch\0",
            switchboard_status::KpiTruncated => "kpi_truncated\0",
            switchboard_status::KpiBadMagic => "kpi_bad_magic\0",
            switchboard_status::KpiUnsupportedVersion => "kpi_unsupported_version\0",
            switchboard_status::KpiCorrupt => "kpi_corrupt\0",
            switchboard_status::KpiUnwritable => "kpi_unwritable\0",
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
            EngineError::OfferWithdrawn { .. } => S::OfferWithdrawn,
            EngineError::UnknownQueue(_) => S::UnknownQueue,
            EngineError::UnknownProfile(_) => S::UnknownProfile,
            // No code of its own: an invalid policy reads as its POLICY_*
            // code, what still uses a dropped entry as the UNKNOWN_* code the
            // new policy would give it; `switchboard_last_error` says which.
            EngineError::PolicyChange { reason } => match reason {
                PolicyChangeError::Invalid(p) => S::from(p),
                PolicyChangeError::ChannelInUse { .. } => S::UnknownChannel,
                PolicyChangeError::TierInUse { .. } => S::UnknownTier,
                PolicyChangeError::SkillInUse { .. } => S::UnknownSkill,
                PolicyChangeError::QueueInUse { .. } => S::UnknownQueue,
                PolicyChangeError::ProfileInUse { .. } => S::UnknownProfile,
                _ => S::SnapshotInconsistent,
            },
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
            PolicyError::DuplicateQueue(_) => S::PolicyDuplicateQueue,
            PolicyError::DuplicateProfile(_) => S::PolicyDuplicateProfile,
            PolicyError::UnknownQueue { .. } => S::PolicyUnknownQueue,
            PolicyError::Unsupported { .. } => S::PolicyUnsupported,
            // No code of its own: what is wrong inside a queue reads as the
            // code of the rule itself; the message names the queue.
            PolicyError::InQueue { source, .. } => S::from(&**source),
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

impl From<&KpiError> for switchboard_status {
    fn from(e: &KpiError) -> Self {
        use switchboard_status as S;
        match e {
            KpiError::Parse { .. } => S::KpiParse,
            KpiError::OutOfRange { .. } => S::KpiOutOfRange,
            KpiError::BeforeAsk { .. } => S::KpiBeforeAsk,
            KpiError::AssignedAfterResolved { .. } => S::KpiAssignedAfterResolved,
            KpiError::AbandonedBeforeAssigned { .. } => S::KpiAbandonedBeforeAssigned,
            KpiError::OutOfOrder { .. } => S::KpiOutOfOrder,
            KpiError::DuplicateId { .. } => S::KpiDuplicateId,
            KpiError::FieldCount { .. } => S::KpiFieldCount,
            KpiError::Malformed { .. } => S::KpiMalformed,
            KpiError::MissingColumn { .. } => S::KpiMissingColumn,
            KpiError::UnknownColumn { .. } => S::KpiUnknownColumn,
            KpiError::DuplicateColumn { .. } => S::KpiDuplicateColumn,
            KpiError::EmptyInput => S::KpiEmptyInput,
            KpiError::Io { .. } => S::KpiIo,
            KpiError::InvalidConfig { .. } => S::KpiInvalidConfig,
            KpiError::InvalidPeriod { .. } => S::KpiInvalidPeriod,
            KpiError::InvalidBusinessHours { .. } => S::KpiInvalidBusinessHours,
            KpiError::InvalidStatusInterval { .. } => S::KpiInvalidStatusInterval,
            KpiError::ConfigMismatch => S::KpiConfigMismatch,
            KpiError::Truncated { .. } => S::KpiTruncated,
            KpiError::BadMagic => S::KpiBadMagic,
            KpiError::UnsupportedVersion { .. } => S::KpiUnsupportedVersion,
            KpiError::Corrupt { .. } => S::KpiCorrupt,
            KpiError::Unwritable { .. } => S::KpiUnwritable,
        }
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
