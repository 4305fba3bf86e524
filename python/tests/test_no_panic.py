"""Garbage at every entry point: a typed Python exception, never a Rust panic
(pyo3's PanicException derives from BaseException, so `except Exception`
would not even catch it)."""

import random

import numpy as np
import pytest

import switchboard
from switchboard import kpi, records, sim, staffing
from switchboard.engine import Engine

EXPECTED = (switchboard.SwitchboardError, TypeError, OverflowError, ValueError, KeyError, FileNotFoundError)


def garbage(rng, depth=0):
    kinds = ["int", "neg", "big", "float", "nan", "str", "none", "bool", "bytes"]
    if depth < 3:
        kinds += ["list", "dict"]
    k = rng.choice(kinds)
    if k == "int":
        return rng.randint(0, 10)
    if k == "neg":
        return -rng.randint(1, 10**6)
    if k == "big":
        return 2**64 + rng.randint(0, 9)
    if k == "float":
        return rng.uniform(-1e6, 1e6)
    if k == "nan":
        return rng.choice([float("nan"), float("inf"), -float("inf")])
    if k == "str":
        return rng.choice(["", "x", "{", "{}", "[]", "null", "tick", "available", "1e999"])
    if k == "none":
        return None
    if k == "bool":
        return rng.random() < 0.5
    if k == "bytes":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
    if k == "list":
        return [garbage(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["type", "at", "operator", "conversation", "id", "channel", "tier", "status", "capacity",
            "skills", "hours", "policy", "arrivals", "per_hour", "seed", "name"]
    return {rng.choice(keys): garbage(rng, depth + 1) for _ in range(rng.randrange(5))}


def mutate(rng, value):
    """A valid structure with one leaf replaced by garbage."""
    if isinstance(value, dict) and value:
        k = rng.choice(list(value))
        out = dict(value)
        out[k] = mutate(rng, value[k]) if rng.random() < 0.7 else garbage(rng)
        return out
    if isinstance(value, list) and value:
        i = rng.randrange(len(value))
        out = list(value)
        out[i] = mutate(rng, value[i]) if rng.random() < 0.7 else garbage(rng)
        return out
    return garbage(rng)


def never_panics(call):
    try:
        call()
    except EXPECTED:
        pass
    except BaseException as e:  # a PanicException would land here
        pytest.fail(f"{type(e).__name__}: {e}")


def test_garbage_never_panics():
    rng = random.Random(2026)
    base_scenario = sim.Scenario.builtin("mm20").to_dict()
    policy = base_scenario["policy"]
    engine = Engine(policy)
    for _ in range(400):
        never_panics(lambda: sim.Scenario(mutate(rng, base_scenario)))
        never_panics(lambda: Engine(mutate(rng, policy)))
        never_panics(lambda: engine.apply(garbage(rng)))
        never_panics(lambda: engine.apply(mutate(rng, {"type": "operator_added", "at": 5, "operator": {"id": 1, "status": "available", "capacity": [{"channel": 1, "capacity": 1}]}})))
        never_panics(lambda: Engine.from_snapshot(garbage(rng)))
        never_panics(lambda: kpi.Accumulator.from_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(200)))))
        never_panics(lambda: kpi.report(mutate(rng, {"conversation_id": [1, 2], "channel": [0, 0], "tier": [1, 1], "asked_at": [0, 5]})))
        never_panics(lambda: staffing.erlang_a_measures(garbage(rng), garbage(rng), garbage(rng), garbage(rng)))
        never_panics(lambda: sim.fit(mutate(rng, {"conversation_id": [1], "channel": [0], "tier": [1], "asked_at": [0]})))
        never_panics(lambda: engine.assign(garbage(rng)))
    # A valid snapshot with one byte flipped: refused or restored, never a panic.
    good = engine.snapshot()
    for i in range(0, len(good), max(1, len(good) // 200)):
        bad = bytearray(good)
        bad[i] ^= 0xFF
        never_panics(lambda: Engine.from_snapshot(bytes(bad)))
