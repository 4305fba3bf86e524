"""The routing engine, event by event: prototype a host from Python.

The same Rust engine a host embeds: a policy (dict, JSON text or a JSON
file), events in, decisions out, snapshots, and a state hash replicas can
compare. Times are int milliseconds (since the epoch, or since any origin
you keep to); ids are ints.

>>> from switchboard.engine import Engine, events
>>> engine = Engine({
...     "channels": [{"id": 1, "name": "chat"}],
...     "tiers": [{"id": 1, "name": "standard", "priority": 1,
...                "first_response_target": 300000}],
... })
>>> engine.apply(events.operator_added(at=0, operator=7, status="available",
...                                    capacity={1: 2}))
[]
>>> engine.apply(events.conversation_arrived(at=1000, conversation=1,
...                                          channel=1, tier=1))
[]
>>> [d] = engine.assign(1000)
>>> (d.kind, d.conversation, d.operator, d.route)
('assigned', 1, 7, 'least_loaded')
>>> print(d)
conversation #1 → operator #7: least loaded (load 0/2), on operator freed, waited 0 s

Events are dicts in the serde shape of the Rust ``Event``: a ``type`` (the
variant in snake_case) and the variant's fields, ``at`` always::

    {"type": "operator_added", "at": 0,
     "operator": {"id": 7, "status": "available",
                  "capacity": [{"channel": 1, "capacity": 2}],
                  "skills": [{"skill": 3, "level": 4}], "teams": [1]}}
    {"type": "conversation_arrived", "at": 1000,
     "conversation": {"id": 1, "channel": 1, "tier": 1,
                      "skills": [{"skill": 3, "level": 2}]}}
    {"type": "operator_status_changed", "at": 2000, "operator": 7, "status": "away"}
    {"type": "conversation_resolved", "at": 9000, "conversation": 1}
    {"type": "conversation_transferred", "at": 9000, "conversation": 1,
     "to": {"operator": 8}}        # or {"team": 2}, "queue", {"to_queue": 3}
    {"type": "assign", "at": 9000}

:class:`events` builds them with keyword arguments (and lets an editor
complete them); :meth:`Engine.apply` takes either.

A refused call raises an exception of :mod:`switchboard.errors` whose
``field`` names what was wrong (``event.at``, ``event.operator``,
``events[3].conversation.channel``, ``now``, ``snapshot``) and leaves the
engine exactly as it was: same :meth:`Engine.state_hash`, same
:meth:`Engine.snapshot`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from operator import index as _index
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _switchboard as _native
from .errors import InvalidInput

__all__ = ["Engine", "Decision", "Event", "events"]

#: A policy: a dict, JSON text, or the path of a JSON file.
PolicyLike = Union[Mapping[str, Any], str, "os.PathLike[str]"]
#: Skills with levels: ``{skill: level}``, ``[(skill, level), ...]`` or
#: ``[{"skill": s, "level": l}, ...]``.
SkillsLike = Union[Mapping[int, int], Sequence[Any]]


# ---- events ---------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One input to the engine: its ``type``, its time ``at`` (ms) and the
    other fields of the Rust event. :meth:`to_dict` is what
    :meth:`Engine.apply` reads."""

    type: str
    at: int
    fields: Tuple[Tuple[str, Any], ...] = ()

    def to_dict(self) -> Dict[str, Any]:
        """The event in the serde shape of the Rust ``Event``."""
        d: Dict[str, Any] = {"type": self.type, "at": self.at}
        d.update(self.fields)
        return d

    def __getattr__(self, name: str) -> Any:
        for key, value in object.__getattribute__(self, "fields"):
            if key == name:
                return value
        raise AttributeError(name)


def _event(type_: str, at: Any, **fields: Any) -> Event:
    return Event(type_, at, tuple((k, v) for k, v in fields.items() if v is not None))


def _skills(skills: Optional[SkillsLike]) -> Optional[List[Any]]:
    """``{skill: level}`` or pairs as the serde list of ``{"skill", "level"}``;
    anything else is passed on for the engine to name."""
    if skills is None:
        return None
    if isinstance(skills, Mapping):
        return [{"skill": s, "level": lv} for s, lv in skills.items()]
    out: List[Any] = []
    for item in skills:
        if isinstance(item, tuple) and len(item) == 2:
            out.append({"skill": item[0], "level": item[1]})
        else:
            out.append(item)
    return out


def _capacity(capacity: Optional[Union[Mapping[int, int], Sequence[Any]]]) -> List[Any]:
    if capacity is None:
        return []
    if isinstance(capacity, Mapping):
        return [{"channel": c, "capacity": n} for c, n in capacity.items()]
    return [
        {"channel": x[0], "capacity": x[1]} if isinstance(x, tuple) and len(x) == 2 else x
        for x in capacity
    ]


class events:
    """Typed constructors of every event the engine accepts, one per Rust
    ``Event`` variant, named as its ``type``. Each returns an :class:`Event`.

    >>> events.operator_status_changed(at=5000, operator=7, status="away").to_dict()
    {'type': 'operator_status_changed', 'at': 5000, 'operator': 7, 'status': 'away'}
    >>> events.conversation_arrived(at=0, conversation=1, channel=1, tier=2,
    ...                             skills={3: 2}).to_dict()["conversation"]
    {'id': 1, 'channel': 1, 'tier': 2, 'skills': [{'skill': 3, 'level': 2}]}
    """

    # -- operators --

    @staticmethod
    def operator_added(
        *,
        at: int,
        operator: int,
        status: str = "offline",
        capacity: Optional[Union[Mapping[int, int], Sequence[Any]]] = None,
        skills: Optional[SkillsLike] = None,
        teams: Optional[Sequence[int]] = None,
        wrap_up: Optional[int] = None,
        profile: Optional[int] = None,
    ) -> Event:
        """An operator joins: ``status`` ``"available"``, ``"away"`` or
        ``"offline"``; ``capacity`` ``{channel: n}``; ``skills``
        ``{skill: level}`` (levels 1–5); ``wrap_up`` their own wrap-up (ms);
        ``profile`` a routing profile of the policy."""
        spec: Dict[str, Any] = {"id": operator, "status": status, "capacity": _capacity(capacity)}
        if skills is not None:
            spec["skills"] = _skills(skills)
        if teams is not None:
            spec["teams"] = list(teams)
        if wrap_up is not None:
            spec["wrap_up"] = wrap_up
        if profile is not None:
            spec["profile"] = profile
        return _event("operator_added", at, operator=spec)

    @staticmethod
    def operator_removed(*, at: int, operator: int) -> Event:
        """The operator leaves the roster; what they held waits again."""
        return _event("operator_removed", at, operator=operator)

    @staticmethod
    def operator_status_changed(*, at: int, operator: int, status: str) -> Event:
        """``"available"``, ``"away"`` or ``"offline"``."""
        return _event("operator_status_changed", at, operator=operator, status=status)

    @staticmethod
    def operator_capacity_changed(*, at: int, operator: int, channel: int, capacity: int) -> Event:
        """The operator's capacity on one channel (0 stops new work there)."""
        return _event(
            "operator_capacity_changed", at, operator=operator, channel=channel, capacity=capacity
        )

    @staticmethod
    def operator_skills_changed(*, at: int, operator: int, skills: SkillsLike) -> Event:
        """The operator's skills are replaced (``{skill: level}``)."""
        return _event("operator_skills_changed", at, operator=operator, skills=_skills(skills))

    @staticmethod
    def operator_teams_changed(*, at: int, operator: int, teams: Sequence[int]) -> Event:
        """The operator's teams are replaced."""
        return _event("operator_teams_changed", at, operator=operator, teams=list(teams))

    @staticmethod
    def operator_profile_changed(*, at: int, operator: int, profile: Optional[int]) -> Event:
        """The operator's routing profile (``None``: every queue alike)."""
        e = _event("operator_profile_changed", at, operator=operator)
        return Event(e.type, e.at, e.fields + (("profile", profile),))

    @staticmethod
    def handled_counts_reset(*, at: int) -> Event:
        """Every operator's handled count starts again from 0."""
        return _event("handled_counts_reset", at)

    # -- conversations --

    @staticmethod
    def _spec(
        conversation: int,
        channel: int,
        tier: int,
        skills: Optional[SkillsLike],
        team: Optional[int],
        preferred_operator: Optional[int],
        queue: Optional[int],
    ) -> Dict[str, Any]:
        spec: Dict[str, Any] = {"id": conversation, "channel": channel, "tier": tier}
        if skills is not None:
            spec["skills"] = _skills(skills)
        for key, value in (("team", team), ("preferred_operator", preferred_operator), ("queue", queue)):
            if value is not None:
                spec[key] = value
        return spec

    @staticmethod
    def conversation_arrived(
        *,
        at: int,
        conversation: int,
        channel: int,
        tier: int,
        skills: Optional[SkillsLike] = None,
        team: Optional[int] = None,
        preferred_operator: Optional[int] = None,
        queue: Optional[int] = None,
    ) -> Event:
        """The customer asks for an operator: the conversation enters the
        queue. ``skills`` are the required ones with minimum levels."""
        spec = events._spec(conversation, channel, tier, skills, team, preferred_operator, queue)
        return _event("conversation_arrived", at, conversation=spec)

    @staticmethod
    def bot_conversation_started(
        *,
        at: int,
        conversation: int,
        channel: int,
        tier: int,
        skills: Optional[SkillsLike] = None,
        team: Optional[int] = None,
        preferred_operator: Optional[int] = None,
        queue: Optional[int] = None,
    ) -> Event:
        """A customer starts with the bot (counted, not routed)."""
        spec = events._spec(conversation, channel, tier, skills, team, preferred_operator, queue)
        return _event("bot_conversation_started", at, conversation=spec)

    @staticmethod
    def first_response_sent(*, at: int, conversation: int) -> Event:
        """The holding operator replied for the first time."""
        return _event("first_response_sent", at, conversation=conversation)

    @staticmethod
    def conversation_resolved(*, at: int, conversation: int) -> Event:
        """Done; the operator enters wrap-up and is free for the next."""
        return _event("conversation_resolved", at, conversation=conversation)

    @staticmethod
    def conversation_abandoned(*, at: int, conversation: int) -> Event:
        """The customer left while waiting."""
        return _event("conversation_abandoned", at, conversation=conversation)

    @staticmethod
    def message_left(*, at: int, conversation: int) -> Event:
        """The customer left a message instead of waiting."""
        return _event("message_left", at, conversation=conversation)

    @staticmethod
    def conversation_transferred(
        *,
        at: int,
        conversation: int,
        operator: Optional[int] = None,
        team: Optional[int] = None,
        queue: Optional[int] = None,
    ) -> Event:
        """A held conversation moves: to ``operator``, back to routing for
        ``team``, to another ``queue``, or (none given) back to its queue."""
        given = [x for x in (operator, team, queue) if x is not None]
        if len(given) > 1:
            raise InvalidInput("give at most one of operator, team, queue", "to")
        if operator is not None:
            to: Any = {"operator": operator}
        elif team is not None:
            to = {"team": team}
        elif queue is not None:
            to = {"to_queue": queue}
        else:
            to = "queue"
        return _event("conversation_transferred", at, conversation=conversation, to=to)

    @staticmethod
    def conversation_claimed(*, at: int, conversation: int, operator: int) -> Event:
        """An operator takes a waiting conversation by hand."""
        return _event("conversation_claimed", at, conversation=conversation, operator=operator)

    @staticmethod
    def offer_accepted(*, at: int, conversation: int, operator: int) -> Event:
        """The operator accepts the pending offer."""
        return _event("offer_accepted", at, conversation=conversation, operator=operator)

    @staticmethod
    def offer_rejected(*, at: int, conversation: int, operator: int) -> Event:
        """The operator rejects the pending offer."""
        return _event("offer_rejected", at, conversation=conversation, operator=operator)

    # -- time and commands --

    @staticmethod
    def tick(*, at: int) -> Event:
        """Time passes: timers fire, nothing is matched."""
        return _event("tick", at)

    @staticmethod
    def assign(*, at: int) -> Event:
        """Match waiting conversations with operators."""
        return _event("assign", at)

    @staticmethod
    def rebalance(*, at: int) -> Event:
        """Move work that should move, then match."""
        return _event("rebalance", at)

    @staticmethod
    def rebalance_operator(*, at: int, operator: int) -> Event:
        """Move this operator's unanswered work to others, then match."""
        return _event("rebalance_operator", at, operator=operator)

    @staticmethod
    def policy_changed(*, at: int, policy: PolicyLike) -> Event:
        """A new policy from ``at`` (a dict, JSON text or a JSON file)."""
        return _event("policy_changed", at, policy=_policy_value(policy, "policy"))


EventLike = Union[Event, Mapping[str, Any], str]


def _plain(value: Any) -> Any:
    """Plain Python values for the native reader: integers of other types
    (numpy, pandas: anything with ``__index__``) become ints, mappings dicts,
    tuples lists; the rest is passed on as is."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(type(value), "__index__"):
        return _index(value)
    return value


def _event_value(event: Any, arg: str = "event") -> Any:
    """An event as the dict the native engine reads (JSON text is parsed;
    anything else is passed on for the engine to name what is wrong)."""
    if isinstance(event, Event):
        return _plain(event.to_dict())
    if isinstance(event, str):
        try:
            return json.loads(event)
        except ValueError as e:
            raise InvalidInput(f"{arg} is not JSON: {e}", arg) from None
    to_dict = getattr(event, "to_dict", None)
    if callable(to_dict) and not isinstance(event, Mapping):
        return _plain(to_dict())
    return _plain(event)


def _policy_value(policy: Any, arg: str) -> Any:
    """A dict or JSON text as is; a path (``os.PathLike``, or a string that
    is not JSON text) read as JSON text."""
    if isinstance(policy, os.PathLike) or (
        isinstance(policy, str) and not policy.lstrip().startswith("{")
    ):
        try:
            with open(os.fspath(policy), encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            raise InvalidInput(f"{arg}: cannot read the policy file: {e}", arg) from None
    return _plain(policy)


# ---- decisions --------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """One decision: ``conversation`` goes to (or, ``kind == "unassigned"``,
    leaves) ``operator``.

    ``kind`` is ``"assigned"``, ``"offered"`` (then ``expires_at``, ms) or
    ``"unassigned"`` (then ``cause``: ``"offer_expired"``,
    ``"operator_away"``, ...). ``route`` is the rule that chose the operator
    (``"least_loaded"``, ``"preferred_operator"``, ...), ``trigger`` what
    started the search; ``input_seq`` the sequence number of the input that
    produced it (1 = the engine's first). ``matched`` lists
    ``(skill, required, level)``. ``str(decision)`` is a sentence;
    :meth:`to_dict` the serde shape of the Rust ``Decision``.
    """

    kind: str
    conversation: int
    operator: int
    channel: int
    tier: int
    queue: Optional[int]
    at: int
    input_seq: int
    route: str
    trigger: str
    expires_at: Optional[int]
    cause: Optional[str]
    load_before: int
    capacity: int
    waited: int
    overflow_step: int
    matched: Tuple[Tuple[int, int, int], ...]
    text: str = field(repr=False)

    @classmethod
    def _from_native(cls, d: Dict[str, Any], text: str) -> "Decision":
        kind = d["kind"]
        expires_at = cause = None
        if isinstance(kind, dict):
            ((name, body),) = kind.items()
            expires_at = body.get("expires_at")
            cause = body.get("cause")
            kind = name
        r = d["reason"]
        return cls(
            kind=kind,
            conversation=d["conversation"],
            operator=d["operator"],
            channel=d["channel"],
            tier=d["tier"],
            queue=d.get("queue"),
            at=d["at"],
            input_seq=d["input_seq"],
            route=r["route"],
            trigger=r["trigger"],
            expires_at=expires_at,
            cause=cause,
            load_before=r["load_before"],
            capacity=r["capacity"],
            waited=r["waited"],
            overflow_step=r["overflow_step"],
            matched=tuple((m["skill"], m["required"], m["level"]) for m in r["matched"]),
            text=text,
        )

    def to_dict(self) -> Dict[str, Any]:
        """The serde shape of the Rust ``Decision`` (what a host logs)."""
        if self.kind == "offered":
            kind: Any = {"offered": {"expires_at": self.expires_at}}
        elif self.kind == "unassigned":
            kind = {"unassigned": {"cause": self.cause}}
        else:
            kind = self.kind
        d: Dict[str, Any] = {
            "conversation": self.conversation,
            "operator": self.operator,
            "kind": kind,
            "channel": self.channel,
            "tier": self.tier,
        }
        if self.queue is not None:
            d["queue"] = self.queue
        d.update(
            at=self.at,
            input_seq=self.input_seq,
            reason={
                "route": self.route,
                "trigger": self.trigger,
                "matched": [{"skill": s, "required": r, "level": lv} for s, r, lv in self.matched],
                "load_before": self.load_before,
                "capacity": self.capacity,
                "waited": self.waited,
                "overflow_step": self.overflow_step,
            },
        )
        return d

    def __str__(self) -> str:
        return self.text


def _decisions(raw: List[Tuple[Dict[str, Any], str]]) -> List[Decision]:
    return [Decision._from_native(d, t) for d, t in raw]


# ---- the engine -------------------------------------------------------------


def _snapshot_bytes(snapshot: Any) -> bytes:
    if isinstance(snapshot, (bytes, bytearray, memoryview)):
        return bytes(snapshot)
    raise InvalidInput(
        f"snapshot must be bytes (from Engine.snapshot()), got {type(snapshot).__name__}",
        "snapshot",
    )


class Engine:
    """The deterministic routing engine (``switchboard::Engine``).

    ``Engine(policy)`` builds one from a policy: a dict or JSON text in the
    serde shape of the Rust ``Policy``, or the path of a JSON file. A wrong
    field raises :class:`~switchboard.errors.InvalidInput` naming its path
    (``policy.tiers[0].priority``); an inconsistent policy names ``policy``.

    No clock, no randomness: the same events give the same decisions and the
    same :meth:`state_hash` on every machine.
    """

    __slots__ = ("_native",)

    def __init__(self, policy: PolicyLike) -> None:
        self._native = _native.Engine(_policy_value(policy, "policy"))

    @classmethod
    def _wrap(cls, native: Any) -> "Engine":
        engine = cls.__new__(cls)
        engine._native = native
        return engine

    @classmethod
    def from_snapshot(cls, snapshot: bytes) -> "Engine":
        """An engine from the bytes of :meth:`snapshot`; continuing it with
        the rest of the event log gives the decisions of never stopping.
        Bytes that are not a snapshot of this build raise
        :class:`~switchboard.errors.BadEncoding` (``field == "snapshot"``)."""
        return cls._wrap(_native.Engine.from_snapshot(_snapshot_bytes(snapshot)))

    restore = from_snapshot

    # -- input --

    def apply(self, event: EventLike) -> List[Decision]:
        """Applies one event and returns the decisions it produced, in order.

        ``event`` is an :class:`Event` (see :class:`events`), a dict in the
        serde shape of the Rust ``Event``, or that dict as JSON text::

            engine.apply({"type": "conversation_resolved", "at": 9000, "conversation": 1})

        Any event may produce decisions (an offer lapsing, an operator going
        away), so look at every result, not only :meth:`assign`'s.

        A refused event raises :class:`~switchboard.errors.InvalidInput`
        (wrong type, missing field: ``field == "event.conversation.channel"``),
        :class:`~switchboard.errors.UnknownId` (``event.operator``) or
        :class:`~switchboard.errors.Refused` (time going backwards:
        ``event.at``; a transition the conversation's state forbids), and
        nothing of it is applied.
        """
        return _decisions(self._native.apply(_event_value(event)))

    def apply_many(self, events: Iterable[EventLike]) -> List[Decision]:
        """Applies the events in order; the decisions of all of them, in
        order (each carries the ``input_seq`` of its event).

        All or nothing: when event ``k`` is refused, none of the events is
        applied (the engine is as before the call) and the exception names
        ``events[k]`` in its ``field`` (``events[3].at``) and has
        ``index == k``. A stream read from a log replays with one call."""
        if isinstance(events, (str, bytes, Mapping)) or not hasattr(events, "__iter__"):
            raise InvalidInput(
                f"events must be a list (or iterable) of events, got {type(events).__name__}", "events"
            )
        values = []
        for k, e in enumerate(events):
            try:
                values.append(_event_value(e, f"events[{k}]"))
            except InvalidInput as err:
                err.index = k  # type: ignore[attr-defined]
                raise
        return _decisions(self._native.apply_many(values))

    def assign(self, now: int) -> List[Decision]:
        """Matches waiting conversations with operators at ``now`` (ms):
        timers due fire first, then freed operators pull, then new
        conversations are placed. ``now`` before :attr:`now` raises
        :class:`~switchboard.errors.Refused` (``field == "now"``)."""
        return _decisions(self._native.assign(now))

    def tick(self, now: int) -> List[Decision]:
        """Time passes to ``now``: timers fire (offers lapse, wrap-ups end),
        nothing is matched."""
        return _decisions(self._native.tick(now))

    def rebalance(self, now: int) -> List[Decision]:
        """Moves work that should move (away operators, load skew), then
        matches."""
        return _decisions(self._native.rebalance(now))

    # -- state --

    @property
    def now(self) -> int:
        """The latest time the engine has seen (ms)."""
        return self._native.now

    @property
    def inputs_applied(self) -> int:
        """How many inputs were applied (the ``input_seq`` of the last)."""
        return self._native.inputs_applied

    @property
    def next_deadline(self) -> Optional[int]:
        """When the engine next needs to be called (ms: a wrap-up ends, an
        offer lapses, an overflow step is reached), or ``None``."""
        return self._native.next_deadline

    @property
    def policy(self) -> Dict[str, Any]:
        """The policy in force, as a dict (every default filled in)."""
        return self._native.policy

    def state_hash(self) -> int:
        """A stable 64-bit hash of the whole state (FNV-1a over the snapshot
        bytes): equal on every machine for equal states, unchanged by
        snapshot and restore."""
        return self._native.state_hash()

    def snapshot(self) -> bytes:
        """The whole state as canonical bytes (equal states, equal bytes);
        :meth:`from_snapshot` reads them."""
        return self._native.snapshot()

    def copy(self) -> "Engine":
        """An independent copy (to try events on without touching this one)."""
        return self._wrap(self._native.copy())

    def __copy__(self) -> "Engine":
        return self.copy()

    def __deepcopy__(self, memo: Any) -> "Engine":
        return self.copy()

    def __reduce__(self) -> Any:
        return (Engine.from_snapshot, (self.snapshot(),))

    def __repr__(self) -> str:
        return (
            f"<switchboard.Engine now={self.now} inputs={self.inputs_applied} "
            f"operators={len(self.operator_ids())} conversations={len(self.conversation_ids())}>"
        )

    # -- queries --

    def waiting(self) -> List[int]:
        """Waiting conversations in routing order."""
        return self._native.waiting()

    def operator_ids(self) -> List[int]:
        """Every operator, ascending."""
        return self._native.operator_ids()

    def conversation_ids(self) -> List[int]:
        """Every live conversation, ascending."""
        return self._native.conversation_ids()

    def operator(self, operator: int) -> Optional[Dict[str, Any]]:
        """The operator (``None`` if unknown): their spec (``id``,
        ``status``, ``capacity``, ``skills``, ``teams``, ...) and ``held``,
        ``open``, ``load`` (``{channel: (load, capacity)}``),
        ``wrap_up_until``, ``held_back_until``, ``reserved_for``,
        ``activity``, ``activity_since``, ``handled``."""
        return self._native.operator(operator)

    def conversation(self, conversation: int) -> Optional[Dict[str, Any]]:
        """The live conversation (``None`` if unknown or ended): its spec
        and ``state``, ``operator``, ``asked_at``, ``assigned_at``,
        ``offered_at``, ``first_response_at``, ``overflow_step``,
        ``transfers``, ..."""
        return self._native.conversation(conversation)

    def operator_load(self, operator: int, channel: int) -> Tuple[int, int]:
        """``(load, capacity)`` of the operator on the channel."""
        return self._native.operator_load(operator, channel)

    def is_eligible(self, operator: int, conversation: int) -> bool:
        """Whether the operator could take the waiting conversation now."""
        return self._native.is_eligible(operator, conversation)

    def queue_status(self, conversation: int) -> Optional[Dict[str, Any]]:
        """Position and estimated wait (ms) of a waiting conversation, or
        ``None`` when it is not waiting."""
        return self._native.queue_status(conversation)

    def real_time(self) -> Dict[str, Any]:
        """The wall board: conversations by state, operators by status,
        longest wait, bottleneck, one line per queue."""
        return self._native.real_time()

    def state_counts(self) -> Dict[str, int]:
        """Live conversations by state."""
        return self._native.state_counts()

    def status_counts(self) -> Dict[str, int]:
        """Operators by status."""
        return self._native.status_counts()

    def take_records(self) -> Dict[str, List[Dict[str, Any]]]:
        """Takes what closed since the last call: ``conversations`` (the KPI
        rows), ``bot_conversations`` and ``status_intervals``."""
        return self._native.take_records()
