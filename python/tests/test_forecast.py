"""A forecast from the live state: an engine built event by event in Python,
then the next half hour simulated from its snapshot."""

import math

import pytest

import switchboard
from switchboard import sim
from switchboard.engine import Engine, events


def mm20_engine(waiting: int):
    """The mm20 scenario's policy with its 20 operators busy and `waiting` more
    customers in the queue, at 09:00 of the simulator's clock."""
    scenario = sim.Scenario.builtin("mm20")
    engine = Engine(scenario.to_dict()["policy"])
    for op in range(1, 21):
        engine.apply(events.operator_added(at=0, operator=op, status="available", capacity={1: 1}))
    for c in range(1, 21 + waiting):
        engine.apply(events.conversation_arrived(at=1000 + c, conversation=c, channel=1, tier=1))
    # The host asks for decisions after applying what happened.
    assert len(engine.assign(1000 + 20 + waiting)) == 20
    return scenario, engine


def test_the_forecast_starts_from_the_live_queue():
    scenario, engine = mm20_engine(waiting=60)
    f = sim.forecast(engine, scenario, horizon_minutes=30, replications=6, seed=3)
    overall = f["overall"]
    assert overall["waiting_now"] == 60
    assert overall["held_now"] == 20
    assert f["replications"] == 6
    # The same snapshot as bytes gives the same forecast (the engine is not touched).
    again = sim.forecast(engine.snapshot(), scenario, horizon_minutes=30, replications=6, seed=3)
    assert again == f
    # An empty queue forecasts less waiting than a backlog of three minutes' work, same seed.
    _, quiet = mm20_engine(waiting=0)
    calm = sim.forecast(quiet, scenario, horizon_minutes=30, replications=6, seed=3)
    assert calm["overall"]["wait_mean_s"]["mean"] < overall["wait_mean_s"]["mean"]
    assert calm["overall"]["p_wait_pct"]["mean"] < overall["p_wait_pct"]["mean"]
    assert calm["overall"]["waiting_now"] == 0


def test_explicit_rates_replace_the_profile():
    scenario, engine = mm20_engine(waiting=0)
    low = sim.forecast(engine, scenario, horizon_minutes=60, replications=3, seed=1, rates=[300.0])
    high = sim.forecast(engine, scenario, horizon_minutes=60, replications=3, seed=1, rates=[1150.0])
    assert low["overall"]["customers"]["mean"] < high["overall"]["customers"]["mean"]
    assert low["overall"]["wait_mean_s"]["mean"] < high["overall"]["wait_mean_s"]["mean"]


@pytest.mark.parametrize(
    "kwargs, cls, field",
    [
        (dict(horizon_minutes=-5), switchboard.InvalidInput, "horizon_minutes"),
        (dict(horizon_minutes=float("nan")), switchboard.InvalidInput, "horizon_minutes"),
        (dict(rates=[100.0, float("nan")]), switchboard.InvalidInput, "rates[1]"),
        (dict(rates=[-1.0]), switchboard.InvalidInput, "rates[0]"),
        (dict(replications=1), switchboard.InvalidInput, "replications"),
        (dict(policy="nope"), switchboard.InvalidInput, "policy"),
    ],
)
def test_bad_options_name_the_argument(kwargs, cls, field):
    scenario, engine = mm20_engine(waiting=2)
    before = engine.state_hash()
    with pytest.raises(cls) as e:
        sim.forecast(engine, scenario, **{"replications": 2, **kwargs})
    assert e.value.field == field, str(e.value)
    assert engine.state_hash() == before


def test_a_snapshot_of_another_policy_or_no_snapshot_is_refused():
    scenario, engine = mm20_engine(waiting=0)
    other = scenario.to_dict()
    other["policy"]["selection"] = "round_robin"
    with pytest.raises(switchboard.InvalidInput) as e:
        sim.forecast(engine, sim.Scenario(other), replications=2)
    assert e.value.field.startswith("policy"), e.value.field
    with pytest.raises(switchboard.InvalidInput) as e:
        sim.forecast(42, scenario)
    assert e.value.field == "engine"
    with pytest.raises(switchboard.BadEncoding):
        sim.forecast(b"not a snapshot", scenario)
