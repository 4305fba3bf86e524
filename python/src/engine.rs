//! The routing engine, event by event: a thin binding over `switchboard::Engine`. The Python
//! wrapper (`switchboard/engine.py`) turns typed events into dicts, reads policy files and
//! wraps decisions in dataclasses; this file reads the dicts through serde, applies them and
//! maps every refusal to a `switchboard.errors` exception naming the field (`event.at`,
//! `events[3].operator`, `now`). A refused call leaves the engine exactly as it was: the Rust
//! engine guarantees it for one event, and `apply_many` works on a copy that replaces the
//! engine only when every event was accepted.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt};
use serde::de::DeserializeOwned;
use switchboard::engine::{Decision, Engine, EngineError, Event, PolicyChangeError, Snapshot};
use switchboard::ids::{ChannelId, ConversationId, OperatorId, ProfileId, TeamId};
use switchboard::model::{
    ConversationSpec, OperatorSpec, OperatorStatus, SkillLevel, TransferTarget,
};
use switchboard::policy::{Policy, PolicyError};
use switchboard::time::Timestamp;

use crate::errors;

/// Sets the `field` of a `switchboard.errors` exception.
fn set_field(py: Python<'_>, e: &PyErr, field: &str) {
    // The exceptions are plain Python objects; setting an attribute cannot fail on them.
    let _ = e.value(py).setattr("field", field);
}

/// The `field` of a `switchboard.errors` exception, if it has one.
fn field_of(py: Python<'_>, e: &PyErr) -> Option<String> {
    e.value(py)
        .getattr("field")
        .ok()
        .and_then(|f| f.extract::<Option<String>>().ok())
        .flatten()
}

/// `errors::from_python` (which names a missing field in `.field` too: serde reports it at
/// the struct that lacks it, `event.conversation: missing field `channel``, and the field
/// becomes `event.conversation.channel`).
fn read<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<T> {
    errors::from_python::<T>(obj, arg)
}

/// Where in an event the engine's refusal points, beyond the field `errors::engine` names:
/// an operator or conversation spec holds the channel, skills and tier; a transfer names its
/// target in `to`.
#[derive(Clone, Copy)]
enum Within {
    Nothing,
    OperatorSpec,
    ConversationSpec,
    Skills,
    Transfer,
    Policy,
}

impl Within {
    fn of(event: &Event) -> Self {
        match event {
            Event::OperatorAdded { .. } => Within::OperatorSpec,
            Event::ConversationArrived { .. } | Event::BotConversationStarted { .. } => {
                Within::ConversationSpec
            }
            Event::OperatorSkillsChanged { .. } => Within::Skills,
            Event::ConversationTransferred { .. } => Within::Transfer,
            Event::PolicyChanged { .. } => Within::Policy,
            _ => Within::Nothing,
        }
    }

    /// The path under the event of what `errors::engine` calls `field`.
    fn path(self, field: &str) -> String {
        let skills = |f: &str| match f {
            "skill" | "level" => "skills".to_string(),
            f => f.to_string(),
        };
        match (self, field) {
            (_, "at") => "at".into(),
            (Within::OperatorSpec, "operator") => "operator".into(),
            (Within::OperatorSpec, "channel") => "operator.capacity".into(),
            (Within::OperatorSpec, f) => format!("operator.{}", skills(f)),
            (Within::ConversationSpec, "conversation") => "conversation".into(),
            (Within::ConversationSpec, "operator") => "conversation.preferred_operator".into(),
            (Within::ConversationSpec, f) => format!("conversation.{}", skills(f)),
            (Within::Skills, f) => skills(f),
            (Within::Transfer, "operator" | "team" | "queue" | "capacity") => "to".into(),
            _ => field.to_string(),
        }
    }
}

/// The engine's refusal of `event`, its field put under `arg` (`event.operator`,
/// `events[2].conversation.tier`, `event.policy.tiers`).
fn refused(py: Python<'_>, e: &EngineError, within: Within, arg: &str) -> PyErr {
    // An invalid new policy is wrong input, named like a policy given to `Engine()`.
    if let (
        Within::Policy,
        EngineError::PolicyChange {
            reason: PolicyChangeError::Invalid(pe),
        },
    ) = (within, e)
    {
        let err = errors::error(errors::Kind::Invalid, None, e);
        set_field(py, &err, &policy_path(pe, &format!("{arg}.policy")));
        return err;
    }
    let err = errors::engine(e);
    let field = match field_of(py, &err) {
        Some(f) => format!("{arg}.{}", within.path(&f)),
        None => arg.to_string(),
    };
    set_field(py, &err, &field);
    err
}

/// The path of the policy field a `PolicyError` names, under `arg` (`policy.tiers`,
/// `policy.overflow[2].after`); `arg` itself when the error names none.
fn policy_path(e: &PolicyError, arg: &str) -> String {
    let inner = match e {
        PolicyError::Empty { field }
        | PolicyError::UnknownChannel { field, .. }
        | PolicyError::UnknownSkill { field, .. }
        | PolicyError::UnknownTier { field, .. }
        | PolicyError::OutOfRange { field, .. }
        | PolicyError::Zero { field }
        | PolicyError::UnknownQueue { field, .. }
        | PolicyError::Unsupported { field, .. } => Some(field.to_string()),
        PolicyError::TooManyChannels { .. } | PolicyError::DuplicateChannel(_) => {
            Some("channels".into())
        }
        PolicyError::DuplicateTier(_) => Some("tiers".into()),
        PolicyError::DuplicateSkill(_) => Some("skills".into()),
        PolicyError::DuplicateQueue(_) => Some("queues".into()),
        PolicyError::DuplicateProfile(_) => Some("profiles".into()),
        PolicyError::OverflowOutOfOrder { index } => Some(format!("overflow[{index}].after")),
        PolicyError::InQueue { source, .. } => {
            return policy_path(source, &format!("{arg}.queues[]"));
        }
        _ => None,
    };
    match inner {
        Some(f) => format!("{arg}.{f}"),
        None => arg.to_string(),
    }
}

/// A policy the engine cannot run: `InvalidInput` naming the policy field.
fn bad_policy(py: Python<'_>, e: &PolicyError, arg: &str) -> PyErr {
    let err = errors::policy(e);
    set_field(py, &err, &policy_path(e, arg));
    err
}

/// A refusal of a call whose only input is a time (`assign(now)`): the field is the argument.
fn refused_at(py: Python<'_>, e: &EngineError, arg: &str) -> PyErr {
    let err = errors::engine(e);
    set_field(py, &err, arg);
    err
}

/// A whole number ≥ 0 (a time in ms or an id), or `InvalidInput` naming `name`. `bool` is
/// refused although Python counts it as an int; numpy integers are accepted.
fn uint(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<u64> {
    if obj.is_instance_of::<PyBool>() {
        return Err(errors::invalid(
            name,
            format!("{name} must be an int, got a bool"),
        ));
    }
    if let Ok(v) = obj.extract::<u64>() {
        return Ok(v);
    }
    // An int (or anything with `__index__`, a numpy integer) out of range.
    let int = if obj.is_instance_of::<PyInt>() {
        Some(obj.clone())
    } else {
        obj.call_method0("__index__").ok()
    };
    if let Some(int) = int {
        let message = if int.lt(0)? {
            format!("{name} must not be negative, got {int}")
        } else {
            format!("{name} is {int}, beyond 64 bits")
        };
        return Err(errors::invalid(name, message));
    }
    let ty = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(errors::invalid(
        name,
        format!("{name} must be an int, got {ty}"),
    ))
}

/// What a field of an event holds, to find the wrong one when the event does not read.
#[derive(Clone, Copy)]
enum Kind {
    Time,
    OperatorSpec,
    Operator,
    Status,
    Channel,
    Capacity,
    Skills,
    Teams,
    Profile,
    ConversationSpec,
    Conversation,
    Target,
    Policy,
}

/// Every event type (the `type` key) and its fields besides `at`; `None` for an unknown type.
fn event_fields(ty: &str) -> Option<&'static [(&'static str, Kind)]> {
    use Kind::*;
    Some(match ty {
        "operator_added" => &[("operator", OperatorSpec)],
        "operator_removed" | "rebalance_operator" => &[("operator", Operator)],
        "operator_status_changed" => &[("operator", Operator), ("status", Status)],
        "operator_capacity_changed" => &[
            ("operator", Operator),
            ("channel", Channel),
            ("capacity", Capacity),
        ],
        "operator_skills_changed" => &[("operator", Operator), ("skills", Skills)],
        "operator_teams_changed" => &[("operator", Operator), ("teams", Teams)],
        "operator_profile_changed" => &[("operator", Operator), ("profile", Profile)],
        "handled_counts_reset" | "tick" | "assign" | "rebalance" => &[],
        "bot_conversation_started" | "conversation_arrived" => {
            &[("conversation", ConversationSpec)]
        }
        "first_response_sent"
        | "conversation_resolved"
        | "conversation_abandoned"
        | "message_left" => &[("conversation", Conversation)],
        "conversation_transferred" => &[("conversation", Conversation), ("to", Target)],
        "conversation_claimed" | "offer_accepted" | "offer_rejected" => {
            &[("conversation", Conversation), ("operator", Operator)]
        }
        "policy_changed" => &[("policy", Policy)],
        _ => return None,
    })
}

const EVENT_TYPES: &[&str] = &[
    "operator_added",
    "operator_removed",
    "operator_status_changed",
    "operator_capacity_changed",
    "operator_skills_changed",
    "operator_teams_changed",
    "operator_profile_changed",
    "handled_counts_reset",
    "bot_conversation_started",
    "conversation_arrived",
    "first_response_sent",
    "conversation_resolved",
    "conversation_abandoned",
    "message_left",
    "conversation_transferred",
    "conversation_claimed",
    "offer_accepted",
    "offer_rejected",
    "tick",
    "assign",
    "rebalance",
    "rebalance_operator",
    "policy_changed",
];

/// Reads one field as its type, for the error with the path inside it.
fn check_field(value: &Bound<'_, PyAny>, kind: Kind, at: &str) -> PyResult<()> {
    match kind {
        Kind::Time => read::<Timestamp>(value, at).map(drop),
        Kind::OperatorSpec => read::<OperatorSpec>(value, at).map(drop),
        Kind::Operator => read::<OperatorId>(value, at).map(drop),
        Kind::Status => read::<OperatorStatus>(value, at).map(drop),
        Kind::Channel => read::<ChannelId>(value, at).map(drop),
        Kind::Capacity => read::<u16>(value, at).map(drop),
        Kind::Skills => read::<Vec<SkillLevel>>(value, at).map(drop),
        Kind::Teams => read::<Vec<TeamId>>(value, at).map(drop),
        Kind::Profile => read::<Option<ProfileId>>(value, at).map(drop),
        Kind::ConversationSpec => read::<ConversationSpec>(value, at).map(drop),
        Kind::Conversation => read::<ConversationId>(value, at).map(drop),
        Kind::Target => read::<TransferTarget>(value, at).map(drop),
        Kind::Policy => read::<Policy>(value, at).map(drop),
    }
}

/// An event from a dict in the serde shape of `Event` (`{"type": "tick", "at": 5}`). The
/// event is tagged by `type`, and serde reads a tagged enum from a buffer that loses the path
/// of a wrong field; so when it does not read, each field is read again as its own type to
/// name the wrong one (`event.operator.capacity[0].channel`).
fn parse_event(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Event> {
    let first = match errors::from_python::<Event>(obj, arg) {
        Ok(event) => return Ok(event),
        Err(e) => e,
    };
    let Ok(d) = obj.cast::<PyDict>() else {
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        return Err(errors::invalid(
            arg,
            format!(
                "{arg} must be a dict like {{\"type\": \"tick\", \"at\": 0}} or an event object, got {ty}"
            ),
        ));
    };
    let type_field = format!("{arg}.type");
    let ty = match d.get_item("type")? {
        None => {
            return Err(errors::invalid(
                &type_field,
                format!("{type_field}: missing field `type` (the event kind, e.g. \"tick\")"),
            ));
        }
        Some(t) => t,
    };
    let Some(fields) = ty.extract::<String>().ok().and_then(|s| event_fields(&s)) else {
        return Err(errors::invalid(
            &type_field,
            format!(
                "{type_field}: unknown event type {}; expected one of {}",
                ty.repr().map(|r| r.to_string()).unwrap_or_default(),
                EVENT_TYPES.join(", ")
            ),
        ));
    };
    for &(name, kind) in std::iter::once(&("at", Kind::Time)).chain(fields.iter()) {
        let at = format!("{arg}.{name}");
        match d.get_item(name)? {
            None if matches!(kind, Kind::Profile) => {}
            None => {
                return Err(errors::invalid(
                    &at,
                    format!("{arg}: missing field `{name}`"),
                ));
            }
            Some(value) => check_field(&value, kind, &at)?,
        }
    }
    Err(first)
}

/// Decisions as `(serde dict, sentence)` pairs; the wrapper makes `Decision` objects.
fn decisions<'py>(
    py: Python<'py>,
    list: &[Decision],
) -> PyResult<Vec<(Bound<'py, PyAny>, String)>> {
    list.iter()
        .map(|d| Ok((errors::to_python(py, d)?, d.to_string())))
        .collect()
}

/// The routing engine (`switchboard::Engine`). Use it through `switchboard.engine.Engine`.
#[pyclass(name = "Engine", module = "switchboard")]
pub struct PyEngine {
    engine: Engine,
}

#[pymethods]
impl PyEngine {
    /// An engine under `policy` (a dict or JSON text in the serde shape of `Policy`).
    #[new]
    fn new(policy: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = policy.py();
        let policy: Policy = read(policy, "policy")?;
        let engine = Engine::new(policy).map_err(|e| bad_policy(py, &e, "policy"))?;
        Ok(PyEngine { engine })
    }

    /// An engine from the bytes of `snapshot()`.
    #[staticmethod]
    fn from_snapshot(snapshot: &[u8]) -> PyResult<Self> {
        let s = Snapshot::from_bytes(snapshot).map_err(|e| errors::snapshot(&e))?;
        let engine = Engine::restore(s).map_err(|e| errors::snapshot(&e))?;
        Ok(PyEngine { engine })
    }

    /// Applies one event (a dict); the decisions it produced.
    fn apply<'py>(
        &mut self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, String)>> {
        let event = parse_event(event, "event")?;
        let within = Within::of(&event);
        let out = self
            .engine
            .apply(event)
            .map_err(|e| refused(py, &e, within, "event"))?;
        decisions(py, &out)
    }

    /// Applies the events in order, all or nothing: on a refusal of event k the engine is
    /// left as before the call, and the exception names `events[k]` and has `index = k`.
    fn apply_many<'py>(
        &mut self,
        py: Python<'py>,
        events: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, String)>> {
        let with_index = |e: PyErr, k: usize| {
            let _ = e.value(py).setattr("index", k);
            e
        };
        let mut parsed = Vec::new();
        for (k, item) in events.try_iter()?.enumerate() {
            let item = item?;
            parsed.push(parse_event(&item, &format!("events[{k}]")).map_err(|e| with_index(e, k))?);
        }
        let mut work = self.engine.clone();
        let mut out = Vec::new();
        for (k, event) in parsed.into_iter().enumerate() {
            let within = Within::of(&event);
            work.apply_into(event, &mut out)
                .map_err(|e| with_index(refused(py, &e, within, &format!("events[{k}]")), k))?;
        }
        self.engine = work;
        decisions(py, &out)
    }

    /// Matches waiting conversations with operators at `now` (ms).
    fn assign<'py>(
        &mut self,
        py: Python<'py>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, String)>> {
        self.at(py, now, |e, at| e.assign(at))
    }

    /// Time passes to `now`: timers fire, nothing is matched.
    fn tick<'py>(
        &mut self,
        py: Python<'py>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, String)>> {
        self.at(py, now, |e, at| e.apply(Event::Tick { at }))
    }

    /// Moves work that should move, then matches.
    fn rebalance<'py>(
        &mut self,
        py: Python<'py>,
        now: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, String)>> {
        self.at(py, now, |e, at| e.apply(Event::Rebalance { at }))
    }

    /// When the engine next needs to be called (ms), or `None`.
    #[getter]
    fn next_deadline(&self) -> Option<u64> {
        self.engine.next_deadline().map(|t| t.0)
    }

    /// The latest time the engine has seen (ms).
    #[getter]
    fn now(&self) -> u64 {
        self.engine.now().0
    }

    /// How many inputs were applied (the `input_seq` of the last one).
    #[getter]
    fn inputs_applied(&self) -> u64 {
        self.engine.inputs_applied()
    }

    /// The policy in force, as a dict.
    #[getter]
    fn policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, self.engine.policy())
    }

    /// FNV-1a over the canonical snapshot bytes.
    fn state_hash(&self) -> u64 {
        self.engine.state_hash()
    }

    /// The canonical snapshot bytes.
    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.engine.snapshot().to_bytes())
    }

    /// An independent copy.
    fn copy(&self) -> Self {
        PyEngine {
            engine: self.engine.clone(),
        }
    }

    /// Waiting conversations in routing order.
    fn waiting(&self) -> Vec<u64> {
        self.engine.waiting().into_iter().map(|c| c.0).collect()
    }

    /// Every operator id, ascending.
    fn operator_ids(&self) -> Vec<u64> {
        self.engine
            .operator_ids()
            .into_iter()
            .map(|o| o.0)
            .collect()
    }

    /// Every live conversation id, ascending.
    fn conversation_ids(&self) -> Vec<u64> {
        self.engine
            .conversation_ids()
            .into_iter()
            .map(|c| c.0)
            .collect()
    }

    /// An operator as a dict (their spec and what they are doing), or `None`.
    fn operator<'py>(
        &self,
        py: Python<'py>,
        operator: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let id = OperatorId(uint(operator, "operator")?);
        let Some(v) = self.engine.operator(id) else {
            return Ok(None);
        };
        let d = errors::to_python(py, v.spec)?;
        let d = d.cast_into::<PyDict>()?;
        d.set_item("held", v.held.iter().map(|c| c.0).collect::<Vec<_>>())?;
        d.set_item("open", v.open)?;
        d.set_item("wrap_up_until", v.wrap_up_until.map(|t| t.0))?;
        d.set_item("held_back_until", v.held_back_until.map(|t| t.0))?;
        d.set_item("reserved_for", v.reserved_for.map(|c| c.0))?;
        d.set_item("activity", errors::to_python(py, &v.activity.0)?)?;
        d.set_item("activity_since", v.activity.1.0)?;
        d.set_item("handled", v.handled)?;
        let load = PyDict::new(py);
        for c in &self.engine.policy().channels {
            if let Ok((l, cap)) = self.engine.operator_load(id, c.id) {
                if cap > 0 || l > 0 {
                    load.set_item(c.id.0, (l, cap))?;
                }
            }
        }
        d.set_item("load", load)?;
        Ok(Some(d.into_any()))
    }

    /// A live conversation as a dict (its spec and where it is), or `None`.
    fn conversation<'py>(
        &self,
        py: Python<'py>,
        conversation: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let id = ConversationId(uint(conversation, "conversation")?);
        let Some(v) = self.engine.conversation(id) else {
            return Ok(None);
        };
        let d = errors::to_python(py, v.spec)?;
        let d = d.cast_into::<PyDict>()?;
        d.set_item("state", v.state.as_str())?;
        d.set_item("operator", v.operator.map(|o| o.0))?;
        d.set_item("asked_at", v.asked_at.map(|t| t.0))?;
        d.set_item("assigned_at", v.assigned_at.map(|t| t.0))?;
        d.set_item("offered_at", v.offered_at.map(|t| t.0))?;
        d.set_item("first_response_at", v.first_response_at.map(|t| t.0))?;
        d.set_item("reserved_by", v.reserved_by.map(|o| o.0))?;
        d.set_item("declined_by", v.declined_by)?;
        d.set_item("overflow_step", v.overflow_step)?;
        d.set_item("preferred_until", v.preferred_until.map(|t| t.0))?;
        d.set_item("transfers", v.transfers)?;
        Ok(Some(d.into_any()))
    }

    /// `(load, capacity)` of an operator on a channel.
    fn operator_load(
        &self,
        operator: &Bound<'_, PyAny>,
        channel: &Bound<'_, PyAny>,
    ) -> PyResult<(u16, u16)> {
        let op = OperatorId(uint(operator, "operator")?);
        let ch = u32::try_from(uint(channel, "channel")?)
            .map(ChannelId)
            .map_err(|_| errors::invalid("channel", "channel ids are 32-bit"))?;
        self.engine
            .operator_load(op, ch)
            .map_err(|e| errors::engine(&e))
    }

    /// Whether the operator could take the waiting conversation now.
    fn is_eligible(
        &self,
        operator: &Bound<'_, PyAny>,
        conversation: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let op = OperatorId(uint(operator, "operator")?);
        let c = ConversationId(uint(conversation, "conversation")?);
        Ok(self.engine.is_eligible(op, c))
    }

    /// Position and estimated wait of a waiting conversation, or `None`.
    fn queue_status<'py>(
        &self,
        py: Python<'py>,
        conversation: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let id = ConversationId(uint(conversation, "conversation")?);
        self.engine
            .queue_status(id)
            .map(|s| errors::to_python(py, &s))
            .transpose()
    }

    /// The wall board: counts, longest wait, bottleneck, a line per queue.
    fn real_time<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, &self.engine.real_time())
    }

    /// Live conversations by state.
    fn state_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, &self.engine.state_counts())
    }

    /// Operators by status.
    fn status_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, &self.engine.status_counts())
    }

    /// Takes the records closed since the last call (conversations, bot conversations,
    /// status intervals), as lists of dicts.
    fn take_records<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let records = self.engine.take_records();
        errors::to_python(py, &records)
    }
}

impl PyEngine {
    /// Runs a timed command at `now` (ms), naming `now` in a refusal.
    fn at<'py>(
        &mut self,
        py: Python<'py>,
        now: &Bound<'py, PyAny>,
        command: impl FnOnce(&mut Engine, Timestamp) -> Result<Vec<Decision>, EngineError>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, String)>> {
        let now = Timestamp(uint(now, "now")?);
        let out = command(&mut self.engine, now).map_err(|e| refused_at(py, &e, "now"))?;
        decisions(py, &out)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEngine>()
}
