"""Erlang B/C/A from Python: the same numbers as the Rust calculators, over arrays."""

import math

import numpy as np
import pytest

import switchboard
from switchboard import staffing


def test_erlang_b_classic_table():
    # 10 trunks carry 4.461 erlangs at 1 % blocking.
    assert staffing.erlang_b(10, 4.461) == pytest.approx(0.01, abs=1e-4)


def test_erlang_b_vectorised_matches_scalar_calls():
    ops = np.arange(1, 41)
    loads = np.linspace(0.5, 30.0, 40)
    out = staffing.erlang_b(ops, loads)
    assert out.shape == (40,)
    for n, a, b in zip(ops, loads, out):
        assert b == staffing.erlang_b(int(n), float(a))


def test_erlang_b_recursion_by_hand():
    # B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)).
    a, b = 7.3, 1.0
    for k in range(1, 12):
        b = a * b / (k + a * b)
    assert staffing.erlang_b(11, a) == pytest.approx(b, rel=1e-12)


def test_broadcasting_a_grid():
    ops = np.arange(10, 16)[:, None]
    loads = np.array([5.0, 8.0, 9.5])[None, :]
    grid = staffing.erlang_c(ops, loads)
    assert grid.shape == (6, 3)
    assert grid[0, 1] == staffing.erlang_c(10, 8.0)
    # More operators, less waiting; more load, more waiting.
    assert (np.diff(grid, axis=0) < 0).all()
    assert (np.diff(grid, axis=1) > 0).all()


def test_erlang_c_measures_are_consistent():
    m = staffing.erlang_c_measures(14, 100 / 1800, 180.0, threshold=20.0)
    a = 100 / 1800 * 180.0
    assert m["occupancy"] == pytest.approx(a / 14)
    # ASA = P(wait) / (n mu - lambda)
    assert m["average_speed_of_answer"] == pytest.approx(
        m["probability_of_waiting"] / (14 / 180.0 - 100 / 1800)
    )
    assert 0.8 <= m["service_level"] <= 1.0


def test_erlang_a_tends_to_erlang_c_with_long_patience():
    c = staffing.erlang_c_measures(12, 0.05, 200.0, 30.0)
    a = staffing.erlang_a_measures(12, 0.05, 200.0, 1e9, 30.0)
    assert a["probability_of_waiting"] == pytest.approx(c["probability_of_waiting"], rel=1e-4)
    assert a["probability_of_abandonment"] < 1e-6


def test_erlang_a_arrays_and_abandonment_falls_with_staff():
    m = staffing.erlang_a_measures(np.arange(8, 14), 0.05, 200.0, 120.0)
    assert m["probability_of_abandonment"].shape == (6,)
    assert (np.diff(m["probability_of_abandonment"]) < 0).all()


def test_operators_needed_meets_the_target_and_one_fewer_does_not():
    rates = np.array([50, 100, 200, 400]) / 1800
    n = staffing.operators_needed(rates, 180.0, 20.0, 0.8)
    assert n.dtype == np.int64
    for rate, k in zip(rates, n):
        assert staffing.erlang_c_measures(int(k), rate, 180.0, 20.0)["service_level"] >= 0.8
        if a_below := (rate * 180.0 < k - 1):
            assert staffing.erlang_c_measures(int(k) - 1, rate, 180.0, 20.0)["service_level"] < 0.8


def test_operators_needed_with_patience_needs_fewer():
    c = staffing.operators_needed(100 / 1800, 180.0, 20.0, 0.8)
    a = staffing.operators_needed(100 / 1800, 180.0, 20.0, 0.8, mean_patience=120.0)
    assert isinstance(c, int) and isinstance(a, int)
    assert a <= c


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: staffing.erlang_b(10, float("nan")), "load"),
        (lambda: staffing.erlang_b(10, -1.0), "load"),
        (lambda: staffing.erlang_b(2.5, 1.0), "operators"),
        (lambda: staffing.erlang_b(0, 1.0), "operators"),
        (lambda: staffing.erlang_b([10, 11], [1.0, 2.0, 3.0]), "operators"),
        (lambda: staffing.erlang_b([10, 11, 12], [1.0, -2.0, 3.0]), "load[1]"),
        (lambda: staffing.erlang_c(5, 6.0), "load"),
        (lambda: staffing.erlang_b("ten", 1.0), "operators"),
        (lambda: staffing.erlang_a_measures(10, 0.05, 200.0, -3.0), "mean_patience"),
        (lambda: staffing.operators_needed(0.05, 200.0, 20.0, 1.5), "service_level"),
        (lambda: staffing.operators_needed(0.05, 200.0, 20.0, 0.8, max_abandonment=0.1), "max_abandonment"),
        (lambda: staffing.operators_needed(0.05, 200.0, 20.0, 0.8, mean_patience=float("nan")), "mean_patience"),
    ],
)
def test_bad_input_names_the_argument(call, field):
    with pytest.raises(ValueError) as e:
        call()
    assert isinstance(e.value, switchboard.InvalidInput)
    assert e.value.field == field, str(e.value)
