//! Rust errors as the Python exceptions of `switchboard.errors`, each with the field that was
//! wrong. The exception classes are defined in Python (so they can subclass both
//! `SwitchboardError` and `ValueError`/`KeyError`); this module looks them up and builds them.

use std::fmt::Display;

use pyo3::prelude::*;
use switchboard::engine::{EngineError, SnapshotError};
use switchboard::kpi::KpiError;
use switchboard::policy::PolicyError;
use switchboard::sim::run::SimError;
use switchboard::sim::scenario::ScenarioError;

/// The exception classes of `switchboard.errors`.
#[derive(Clone, Copy)]
pub enum Kind {
    /// `InvalidInput` (a `ValueError`).
    Invalid,
    /// `UnknownId` (a `KeyError`).
    Unknown,
    /// `Refused` (a `ValueError`): the engine refused an event.
    Refused,
    /// `BadEncoding` (a `ValueError`): bytes of another encoding version.
    Encoding,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Invalid => "InvalidInput",
            Kind::Unknown => "UnknownId",
            Kind::Refused => "Refused",
            Kind::Encoding => "BadEncoding",
        }
    }
}

/// A `switchboard.errors` exception of `kind` with `message` and `field`.
pub fn error(kind: Kind, field: Option<&str>, message: impl Display) -> PyErr {
    let message = message.to_string();
    Python::attach(|py| {
        let class = match py
            .import("switchboard.errors")
            .and_then(|m| m.getattr(kind.class()))
        {
            Ok(c) => c,
            Err(e) => return e,
        };
        match class.call1((message, field)) {
            Ok(value) => PyErr::from_value(value),
            Err(e) => e,
        }
    })
}

/// `InvalidInput` naming `field`.
pub fn invalid(field: &str, message: impl Display) -> PyErr {
    error(Kind::Invalid, Some(field), message)
}

/// The engine's refusal: unknown ids become `UnknownId`, the rest `Refused`, each naming the
/// field of the event that was wrong where the error says.
pub fn engine(e: &EngineError) -> PyErr {
    let (kind, field) = match e {
        EngineError::UnknownOperator(_) => (Kind::Unknown, Some("operator")),
        EngineError::UnknownConversation(_) => (Kind::Unknown, Some("conversation")),
        EngineError::UnknownChannel(_) => (Kind::Unknown, Some("channel")),
        EngineError::UnknownTier(_) => (Kind::Unknown, Some("tier")),
        EngineError::UnknownSkill(_) => (Kind::Unknown, Some("skill")),
        EngineError::UnknownQueue(_) => (Kind::Unknown, Some("queue")),
        EngineError::UnknownProfile(_) => (Kind::Unknown, Some("profile")),
        EngineError::DuplicateOperator(_) => (Kind::Refused, Some("operator")),
        EngineError::DuplicateConversation(_) => (Kind::Refused, Some("conversation")),
        EngineError::LevelOutOfRange { .. } => (Kind::Invalid, Some("level")),
        EngineError::DuplicateSkill(_) => (Kind::Invalid, Some("skills")),
        EngineError::DuplicateTeam(_) => (Kind::Invalid, Some("teams")),
        EngineError::DuplicateChannel(_) => (Kind::Invalid, Some("capacity")),
        EngineError::TooManySkills { .. } => (Kind::Invalid, Some("skills")),
        EngineError::ZeroCapacity { .. } => (Kind::Invalid, Some("capacity")),
        EngineError::TimestampOutOfRange(_) => (Kind::Invalid, Some("at")),
        EngineError::TimeWentBackwards { .. } => (Kind::Refused, Some("at")),
        EngineError::AtCapacity { .. }
        | EngineError::OperatorOffline(_)
        | EngineError::NoSuchOffer { .. }
        | EngineError::OfferWithdrawn { .. } => (Kind::Refused, Some("operator")),
        EngineError::InvalidTransition { .. } | EngineError::OfferExpired { .. } => {
            (Kind::Refused, Some("conversation"))
        }
        EngineError::PolicyChange { .. } => (Kind::Refused, Some("policy")),
        _ => (Kind::Refused, None),
    };
    error(kind, field, e)
}

/// A policy the engine cannot run.
pub fn policy(e: &PolicyError) -> PyErr {
    error(Kind::Invalid, Some("policy"), e)
}

/// A snapshot that does not decode.
pub fn snapshot(e: &SnapshotError) -> PyErr {
    error(Kind::Encoding, Some("snapshot"), e)
}

/// A KPI error: a row or configuration problem names its field; bytes of another version are
/// `BadEncoding`.
pub fn kpi(e: &KpiError) -> PyErr {
    let kind = match e {
        KpiError::Truncated { .. }
        | KpiError::BadMagic
        | KpiError::UnsupportedVersion { .. }
        | KpiError::Corrupt { .. } => Kind::Encoding,
        _ => Kind::Invalid,
    };
    error(kind, e.field(), e)
}

/// A scenario or simulation error.
pub fn sim(e: &SimError) -> PyErr {
    match e {
        SimError::Scenario(s) => scenario(s),
        _ => error(Kind::Invalid, None, e),
    }
}

/// An invalid scenario names its field.
pub fn scenario(e: &ScenarioError) -> PyErr {
    let field = match e {
        ScenarioError::Invalid { field, .. } | ScenarioError::Unknown { field, .. } => {
            Some(format!("scenario.{field}"))
        }
        _ => Some("scenario".to_string()),
    };
    error(Kind::Invalid, field.as_deref(), e)
}

/// Reads the Python value as `T` through serde, with the path of a wrong field in the error
/// (`policy.tiers[2].priority: invalid type: string "x", expected u32`). A `str` is read as
/// JSON text; anything else (dicts, lists, numbers) as Python values.
pub fn from_python<T: serde::de::DeserializeOwned>(
    obj: &Bound<'_, PyAny>,
    arg: &str,
) -> PyResult<T> {
    let located = |path: String, inner: String| {
        let mut field = if path == "." || path.is_empty() {
            arg.to_string()
        } else {
            format!("{arg}.{path}")
        };
        // serde names a missing field in the message, at its parent's path.
        if let Some(rest) = inner.strip_prefix("missing field `") {
            if let Some(name) = rest.split('`').next() {
                if !field.ends_with(&format!(".{name}")) {
                    field = format!("{field}.{name}");
                }
            }
        }
        invalid(&field, format!("{field}: {inner}"))
    };
    if let Ok(text) = obj.extract::<String>() {
        let de = &mut serde_json::Deserializer::from_str(&text);
        return serde_path_to_error::deserialize(de)
            .map_err(|e| located(e.path().to_string(), e.inner().to_string()));
    }
    let mut de = pythonize::Depythonizer::from_object(obj);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| located(e.path().to_string(), e.inner().to_string()))
}

/// The Rust value as plain Python objects (dicts, lists, numbers, strings).
pub fn to_python<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| error(Kind::Invalid, None, e))
}
