"""The engine from Python: the same decisions as the Rust engine, snapshots and
hashes that survive a round trip, and bad input refused with the field named
and nothing applied."""

import copy
import json
import pickle

import numpy as np
import pytest

import switchboard
from switchboard import BadEncoding, InvalidInput, Refused, UnknownId
from switchboard.engine import Decision, Engine, Event, events

CHAT, CALL = 1, 2
VIP, STANDARD = 1, 2
BILLING, TECH = 1, 2

POLICY = {
    "channels": [{"id": CHAT, "name": "chat"}, {"id": CALL, "name": "call", "blocks": [CHAT]}],
    "tiers": [
        {"id": VIP, "name": "vip", "priority": 1, "first_response_target": 60_000},
        {"id": STANDARD, "name": "standard", "priority": 2, "first_response_target": 300_000},
    ],
    "skills": [{"id": BILLING, "name": "billing"}, {"id": TECH, "name": "tech"}],
}


def two_operators(policy=POLICY):
    """Operators 1 and 2, available, two chats each."""
    e = Engine(policy)
    for op in (1, 2):
        assert e.apply(events.operator_added(at=0, operator=op, status="available", capacity={CHAT: 2})) == []
    return e


def arrive(e, at, conv, tier=STANDARD, **kw):
    return e.apply(events.conversation_arrived(at=at, conversation=conv, channel=CHAT, tier=tier, **kw))


# ---- policy -------------------------------------------------------------------


def test_policy_from_dict_json_text_and_file(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    engines = [Engine(POLICY), Engine(json.dumps(POLICY)), Engine(path), Engine(str(path))]
    hashes = {e.state_hash() for e in engines}
    assert len(hashes) == 1
    p = engines[2].policy
    assert [t["priority"] for t in p["tiers"]] == [1, 2]
    assert p["channels"][1]["blocks"] == [CHAT]
    # Defaults filled in: the policy as the engine runs it.
    assert p["selection"] == "least_loaded"
    assert p["queue_order"] == "strict_priority"


def test_policy_errors_name_the_field(tmp_path):
    bad = json.loads(json.dumps(POLICY))
    bad["tiers"][0]["priority"] = "high"
    with pytest.raises(InvalidInput) as ei:
        Engine(bad)
    assert ei.value.field == "policy.tiers[0].priority"
    assert isinstance(ei.value, ValueError)

    with pytest.raises(InvalidInput) as ei:
        Engine({"tiers": POLICY["tiers"]})
    assert ei.value.field == "policy.channels"

    dup = json.loads(json.dumps(POLICY))
    dup["tiers"][1]["id"] = VIP
    with pytest.raises(InvalidInput) as ei:
        Engine(dup)
    assert ei.value.field == "policy.tiers"
    assert "declared twice" in str(ei.value)

    with pytest.raises(InvalidInput) as ei:
        Engine(dict(POLICY, channels=[]))
    assert ei.value.field == "policy.channels"

    with pytest.raises(InvalidInput) as ei:
        Engine(dict(POLICY, offers={"timeout": 0}))
    assert ei.value.field == "policy.offers.timeout"

    with pytest.raises(InvalidInput) as ei:
        Engine(tmp_path / "missing.json")
    assert ei.value.field == "policy"


# ---- decisions ----------------------------------------------------------------


def test_least_loaded_then_least_recently_assigned_then_lowest_id():
    e = two_operators()
    got = []
    for conv in (1, 2, 3, 4):
        assert arrive(e, 1000 + conv, conv) == []
        [d] = e.assign(1000 + conv)
        assert isinstance(d, Decision)
        assert (d.kind, d.conversation, d.route) == ("assigned", conv, "least_loaded")
        got.append(d.operator)
    # 0/2 vs 0/2: lowest id; then the idle one; at 1/2 each, op 1 was assigned
    # less recently; then op 2.
    assert got == [1, 2, 1, 2]
    # Both full: the fifth waits.
    arrive(e, 1005, 5)
    assert e.assign(1005) == []
    assert e.waiting() == [5]
    assert e.operator_load(1, CHAT) == (2, 2)
    assert e.conversation(5)["state"] == "waiting"
    assert e.queue_status(5)["position"] == 1


def test_resolve_frees_the_operator_for_the_next_waiting_conversation():
    e = two_operators()
    for conv in (1, 2, 3, 4, 5, 6):
        arrive(e, 1000, conv, tier=VIP if conv == 6 else STANDARD)
    assert [(d.conversation, d.operator) for d in e.assign(1000)] == [
        (6, 1),  # the VIP first (lower priority number is served first)
        (1, 2),
        (2, 1),
        (3, 2),
    ]
    assert e.waiting() == [4, 5]
    assert e.apply({"type": "conversation_resolved", "at": 2000, "conversation": 2}) == []
    assert e.conversation(2) is None
    [d] = e.assign(2000)
    assert (d.conversation, d.operator, d.trigger) == (4, 1, "operator_freed")
    assert d.load_before == 1 and d.capacity == 2 and d.waited == 1000
    assert e.waiting() == [5]
    records = e.take_records()
    assert [r["conversation"] for r in records["conversations"]] == [2]
    assert e.take_records()["conversations"] == []


def test_skills_pick_the_operator_who_has_them():
    e = Engine(POLICY)
    e.apply(events.operator_added(at=0, operator=1, status="available", capacity={CHAT: 3}, skills={TECH: 2}))
    e.apply(events.operator_added(at=0, operator=2, status="available", capacity={CHAT: 3}, skills=[(BILLING, 4)]))
    arrive(e, 10, 1, skills={BILLING: 3})
    [d] = e.assign(10)
    assert d.operator == 2
    assert d.matched == ((BILLING, 3, 4),)
    assert e.is_eligible(1, 1) is False


def test_decision_to_dict_is_the_serde_shape_and_round_trips():
    e = two_operators()
    arrive(e, 5, 1)
    [d] = e.assign(5)
    dd = d.to_dict()
    assert dd["kind"] == "assigned"
    assert dd["reason"]["route"] == "least_loaded"
    assert dd["input_seq"] == e.inputs_applied == 4
    assert "queue" not in dd
    assert Decision._from_native(dd, d.text) == d
    assert "operator #1" in str(d)


def test_offers_lapse_at_the_deadline():
    policy = dict(POLICY, offers={"timeout": 15_000})
    e = two_operators(policy)
    arrive(e, 1000, 1)
    [d] = e.assign(1000)
    assert (d.kind, d.operator, d.expires_at) == ("offered", 1, 16_000)
    assert d.to_dict()["kind"] == {"offered": {"expires_at": 16_000}}
    assert e.next_deadline == 16_000
    out = e.tick(16_000)
    assert [(x.kind, x.cause, x.operator) for x in out][:1] == [("unassigned", "offer_expired", 1)]
    # A late answer is refused: no offer to that operator any more.
    err = refused(e, lambda: e.apply(events.offer_accepted(at=16_001, conversation=1, operator=1)), Refused, "event.operator")
    assert "not offered" in str(err)


def test_wrap_up_sets_the_next_deadline():
    e = two_operators(dict(POLICY, wrap_up=30_000))
    assert e.next_deadline is None
    arrive(e, 1000, 1)
    e.assign(1000)
    e.apply(events.first_response_sent(at=2000, conversation=1))
    e.apply(events.conversation_resolved(at=3000, conversation=1))
    assert e.next_deadline == 33_000
    assert e.operator(1)["wrap_up_until"] == 33_000
    assert e.now == 3000


def test_transfer_claim_and_status_events():
    e = two_operators()
    arrive(e, 10, 1)
    [d] = e.assign(10)
    assert d.operator == 1
    e.apply(events.conversation_transferred(at=20, conversation=1, operator=2))
    assert e.conversation(1)["operator"] == 2
    assert e.operator(2)["held"] == [1]
    e.apply(events.first_response_sent(at=25, conversation=1))
    e.apply(events.operator_status_changed(at=30, operator=2, status="away"))
    assert e.status_counts() == {"available": 1, "away": 1, "offline": 0}
    arrive(e, 40, 2)
    e.apply(events.conversation_claimed(at=41, conversation=2, operator=2))
    assert e.conversation(2)["state"] == "assigned"
    rt = e.real_time()
    assert rt["conversations"]["with_operator"] == 2
    assert rt["at"] == 41


# ---- snapshots and replay -------------------------------------------------------


def stream():
    """A recorded day in miniature, as plain dicts."""
    out = [
        events.operator_added(at=0, operator=op, status="available", capacity={CHAT: 4}, skills={BILLING: lv})
        for op, lv in ((1, 3), (2, 5), (3, 1))
    ]
    t = 1000
    for conv in range(1, 13):
        out.append(events.conversation_arrived(at=t, conversation=conv, channel=CHAT, tier=1 + conv % 2, skills={BILLING: 1 + conv % 3}))
        out.append(events.assign(at=t))
        t += 700
        if conv % 3 == 0:
            out.append(events.conversation_resolved(at=t, conversation=conv - 2))
            out.append(events.assign(at=t))
    return [ev.to_dict() for ev in out]


def test_a_recorded_stream_replays_to_equal_hashes():
    log = stream()
    a, b = Engine(POLICY), Engine(POLICY)
    da = a.apply_many(log)
    db = [d for ev in log for d in b.apply(ev)]
    assert da == db and len(da) > 8
    assert a.state_hash() == b.state_hash()
    assert a.snapshot() == b.snapshot()
    c = Engine(json.dumps(POLICY))
    c.apply_many(json.dumps(ev) for ev in log)
    assert c.state_hash() == a.state_hash()
    # A different stream gives a different hash.
    d = Engine(POLICY)
    d.apply_many(log[:-1])
    assert d.state_hash() != a.state_hash()


def test_snapshot_restore_gives_the_same_hash_and_the_same_future():
    log = stream()
    half = len(log) // 2
    original = Engine(POLICY)
    original.apply_many(log[:half])
    snap = original.snapshot()
    assert isinstance(snap, bytes)
    restored = Engine.from_snapshot(snap)
    assert restored.state_hash() == original.state_hash()
    assert restored.snapshot() == snap
    assert Engine.restore(bytearray(snap)).state_hash() == original.state_hash()
    assert restored.inputs_applied == original.inputs_applied
    assert restored.now == original.now
    # The same further events: the same decisions, input_seq included.
    rest_a = original.apply_many(log[half:])
    rest_b = [d for ev in log[half:] for d in restored.apply(ev)]
    assert rest_a == rest_b and rest_a
    assert restored.state_hash() == original.state_hash()
    # And the same as never stopping.
    whole = Engine(POLICY)
    whole.apply_many(log)
    assert whole.state_hash() == original.state_hash()


def test_pickle_and_copy_go_through_the_snapshot():
    e = two_operators()
    arrive(e, 5, 1)
    back = pickle.loads(pickle.dumps(e))
    assert back.state_hash() == e.state_hash()
    c = copy.copy(e)
    c.assign(6)
    assert c.state_hash() != e.state_hash()
    assert e.waiting() == [1]


# ---- bad input: the exception names the field, the engine is unchanged ----------------


def busy_engine():
    e = two_operators()
    arrive(e, 1000, 1)
    e.assign(1000)
    arrive(e, 2000, 2)
    return e


def refused(e, call, cls, field):
    """`call` raises `cls` naming `field`, and changes nothing."""
    hash_before, snap_before = e.state_hash(), e.snapshot()
    inputs_before = e.inputs_applied
    with pytest.raises(cls) as ei:
        call()
    assert ei.value.field == field, str(ei.value)
    assert e.state_hash() == hash_before
    assert e.snapshot() == snap_before
    assert e.inputs_applied == inputs_before
    return ei.value


BAD_EVENTS = [
    # wrong types and values
    ({"type": "tick", "at": "soon"}, InvalidInput, "event.at"),
    ({"type": "tick", "at": -1}, InvalidInput, "event.at"),
    ({"type": "tick", "at": 2500.5}, InvalidInput, "event.at"),
    ({"type": "tick", "at": 2**53 + 1}, InvalidInput, "event.at"),
    ({"type": "operator_status_changed", "at": 3000, "operator": 1, "status": "busy"}, InvalidInput, "event.status"),
    ({"type": "operator_status_changed", "at": 3000, "operator": "one", "status": "away"}, InvalidInput, "event.operator"),
    (
        {"type": "operator_added", "at": 3000, "operator": {"id": 9, "capacity": [{"channel": "chat", "capacity": 1}]}},
        InvalidInput,
        "event.operator.capacity[0].channel",
    ),
    (
        {"type": "conversation_arrived", "at": 3000, "conversation": {"id": 9, "channel": 1, "tier": 1, "skills": [{"skill": 1, "level": 300}]}},
        InvalidInput,
        "event.conversation.skills[0].level",
    ),
    ({"type": "conversation_transferred", "at": 3000, "conversation": 1, "to": {"desk": 3}}, InvalidInput, "event.to"),
    (42, InvalidInput, "event"),
    ([1, 2], InvalidInput, "event"),
    # missing fields
    ({"type": "tick"}, InvalidInput, "event.at"),
    ({"at": 3000}, InvalidInput, "event.type"),
    ({"type": "teleport", "at": 3000}, InvalidInput, "event.type"),
    ({"type": "conversation_resolved", "at": 3000}, InvalidInput, "event.conversation"),
    ({"type": "conversation_arrived", "at": 3000, "conversation": {"id": 9, "tier": 1}}, InvalidInput, "event.conversation.channel"),
    # levels outside 1-5 (read, then refused by the engine)
    (events.conversation_arrived(at=3000, conversation=9, channel=CHAT, tier=1, skills={BILLING: 6}), InvalidInput, "event.conversation.skills"),
    # unknown ids
    (events.operator_status_changed(at=3000, operator=99, status="away"), UnknownId, "event.operator"),
    (events.conversation_resolved(at=3000, conversation=99), UnknownId, "event.conversation"),
    (events.conversation_arrived(at=3000, conversation=9, channel=7, tier=1), UnknownId, "event.conversation.channel"),
    (events.conversation_arrived(at=3000, conversation=9, channel=CHAT, tier=7), UnknownId, "event.conversation.tier"),
    (events.operator_added(at=3000, operator=9, capacity={CHAT: 1}, skills={42: 3}), UnknownId, "event.operator.skills"),
    (events.operator_added(at=3000, operator=9, capacity={5: 3}), UnknownId, "event.operator.capacity"),
    (events.operator_skills_changed(at=3000, operator=1, skills={BILLING: 0}), InvalidInput, "event.skills"),
    (events.conversation_transferred(at=3000, conversation=1, operator=77), UnknownId, "event.to"),
    (events.conversation_claimed(at=3000, conversation=1, operator=2), Refused, "event.conversation"),
    # refusals
    (events.operator_added(at=3000, operator=1, capacity={CHAT: 1}), Refused, "event.operator"),
    (events.conversation_arrived(at=3000, conversation=2, channel=CHAT, tier=1), Refused, "event.conversation"),
    (events.first_response_sent(at=3000, conversation=2), Refused, "event.conversation"),
    (events.tick(at=1999), Refused, "event.at"),
    ('{"type": "tick", "at": 1500}', Refused, "event.at"),
    ("{not json", InvalidInput, "event"),
]


@pytest.mark.parametrize("event,cls,field", BAD_EVENTS)
def test_a_bad_event_names_its_field_and_changes_nothing(event, cls, field):
    e = busy_engine()
    err = refused(e, lambda: e.apply(event), cls, field)
    assert isinstance(err, switchboard.SwitchboardError)
    # The engine still works after the refusal.
    assert e.apply(events.tick(at=2000)) == []


def test_unknown_ids_are_key_errors_and_refusals_value_errors():
    e = busy_engine()
    with pytest.raises(KeyError):
        e.apply(events.operator_removed(at=3000, operator=99))
    with pytest.raises(ValueError):
        e.apply(events.tick(at=0))


def test_time_arguments_are_int_milliseconds():
    e = busy_engine()
    refused(e, lambda: e.assign(1999), Refused, "now")
    refused(e, lambda: e.assign(-5), InvalidInput, "now")
    refused(e, lambda: e.assign(2000.0), InvalidInput, "now")
    refused(e, lambda: e.assign("2000"), InvalidInput, "now")
    refused(e, lambda: e.assign(True), InvalidInput, "now")
    refused(e, lambda: e.tick(2**60), InvalidInput, "now")
    err = refused(e, lambda: e.tick(2**70), InvalidInput, "now")
    assert "64 bits" in str(err)
    refused(e, lambda: e.apply(events.tick(at=2**70)), InvalidInput, "event.at")
    refused(e, lambda: e.operator("seven"), InvalidInput, "operator")
    refused(e, lambda: e.operator_load(1, 9), UnknownId, "channel")
    refused(e, lambda: e.operator_load(9, CHAT), UnknownId, "operator")
    assert e.operator(99) is None
    assert e.conversation(99) is None
    assert e.queue_status(1) is None  # held, not waiting
    # Anything with __index__ (a numpy integer) is an int.
    class Ms:
        def __index__(self):
            return 2001

    [d] = e.assign(Ms())
    assert (d.conversation, d.operator, d.at) == (2, 2, 2001)
    assert e.now == 2001
    refused(e, lambda: e.assign(np.int64(-3)), InvalidInput, "now")
    assert e.tick(np.int64(2002)) == []
    # numpy integers inside events and policies too (ids from a DataFrame).
    e.apply(events.operator_added(at=np.int64(2003), operator=np.uint32(3), status="available", capacity={np.int64(CHAT): np.int16(1)}))
    assert e.operator(3)["capacity"] == [{"channel": CHAT, "capacity": 1}]
    assert Engine(dict(POLICY, wrap_up=np.int64(10))).policy["wrap_up"] == 10


def test_apply_many_is_all_or_nothing_and_names_the_index():
    e = busy_engine()
    batch = [
        events.conversation_arrived(at=3000, conversation=3, channel=CHAT, tier=1),
        events.assign(at=3000),
        events.operator_status_changed(at=3100, operator=42, status="away"),
        events.tick(at=3200),
    ]
    err = refused(e, lambda: e.apply_many(batch), UnknownId, "events[2].operator")
    assert err.index == 2
    assert 3 not in e.conversation_ids()
    # A malformed event is found before anything runs.
    batch[3] = {"type": "tick", "at": "later"}
    err = refused(e, lambda: e.apply_many(batch), InvalidInput, "events[3].at")
    assert err.index == 3
    # Time going backwards inside the batch.
    batch[2] = events.tick(at=3500)
    batch[3] = events.tick(at=3400)
    err = refused(e, lambda: e.apply_many(batch), Refused, "events[3].at")
    assert err.index == 3
    # Not JSON, not a list.
    err = refused(e, lambda: e.apply_many([events.tick(at=3000), "{oops"]), InvalidInput, "events[1]")
    assert err.index == 1
    refused(e, lambda: e.apply_many(events.tick(at=3000)), InvalidInput, "events")
    refused(e, lambda: e.apply_many(7), InvalidInput, "events")
    # Without the bad event, all of it applies.
    out = e.apply_many(batch[:3])
    # The VIP first, to the idle operator; then the older one.
    assert [(d.conversation, d.operator) for d in out] == [(3, 2), (2, 1)]
    assert e.inputs_applied == 8


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b"",
        lambda b: b"not a snapshot at all, sorry",
        lambda b: b[: len(b) // 2],
        lambda b: b[:20] + bytes([b[20] ^ 0xFF]) + b[21:],
        lambda b: b + b"\x00",
    ],
    ids=["empty", "garbage", "truncated", "flipped", "trailing"],
)
def test_a_malformed_snapshot_is_bad_encoding(mangle):
    e = busy_engine()
    snap = e.snapshot()
    with pytest.raises(BadEncoding) as ei:
        Engine.from_snapshot(mangle(snap))
    assert ei.value.field == "snapshot"
    assert isinstance(ei.value, ValueError)
    assert e.snapshot() == snap


def test_a_snapshot_must_be_bytes():
    with pytest.raises(InvalidInput) as ei:
        Engine.from_snapshot("SWBS")
    assert ei.value.field == "snapshot"


def test_a_refused_policy_change_keeps_the_policy():
    e = busy_engine()
    smaller = json.loads(json.dumps(POLICY))
    smaller["channels"] = [{"id": CALL, "name": "call"}]
    err = refused(e, lambda: e.apply(events.policy_changed(at=3000, policy=smaller)), Refused, "event.policy")
    assert "still used" in str(err)
    assert len(e.policy["channels"]) == 2
    refused(e, lambda: e.apply(events.policy_changed(at=3000, policy=dict(POLICY, tiers=[]))), InvalidInput, "event.policy.tiers")
    refused(e, lambda: e.apply(events.policy_changed(at=3000, policy={"tiers": 3})), InvalidInput, "event.policy.tiers")
    e.apply(events.policy_changed(at=3000, policy=dict(POLICY, wrap_up=5000)))
    assert e.policy["wrap_up"] == 5000


def test_typed_events_build_the_serde_shape():
    ev = events.operator_added(at=5, operator=3, status="available", capacity={CHAT: 2}, skills={BILLING: 4}, teams=[7])
    assert isinstance(ev, Event)
    assert ev.to_dict() == {
        "type": "operator_added",
        "at": 5,
        "operator": {
            "id": 3,
            "status": "available",
            "capacity": [{"channel": CHAT, "capacity": 2}],
            "skills": [{"skill": BILLING, "level": 4}],
            "teams": [7],
        },
    }
    assert ev.operator["id"] == 3
    assert events.conversation_transferred(at=1, conversation=2).to_dict()["to"] == "queue"
    assert events.conversation_transferred(at=1, conversation=2, queue=4).to_dict()["to"] == {"to_queue": 4}
    assert events.operator_profile_changed(at=1, operator=2, profile=None).to_dict() == {
        "type": "operator_profile_changed",
        "at": 1,
        "operator": 2,
        "profile": None,
    }
    with pytest.raises(InvalidInput) as ei:
        events.conversation_transferred(at=1, conversation=2, operator=3, team=4)
    assert ei.value.field == "to"
