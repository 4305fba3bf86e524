"""Erlang B, C and A, vectorised over numpy arrays.

Every argument is a number or an array; arrays broadcast against each other
as in numpy. A scalar call returns a float (or int, or a dict of floats); an
array call returns arrays of the broadcast shape. Time units are yours, but
one for all arguments (seconds, say: ``arrival_rate`` per second,
``mean_handle_time`` and ``threshold`` in seconds).

>>> from switchboard import staffing
>>> round(staffing.erlang_b(10, 4.461), 3)
0.01
>>> staffing.operators_needed(arrival_rate=100 / 1800, mean_handle_time=180,
...                           threshold=20, service_level=0.8)
14
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _switchboard as _native
from .errors import InvalidInput

__all__ = [
    "erlang_b",
    "erlang_c",
    "erlang_c_measures",
    "erlang_a_measures",
    "operators_needed",
]


def _columns(**named: Any) -> Tuple[Tuple[np.ndarray, ...], Tuple[int, ...], bool]:
    """The arguments as flat float64 arrays of one length, the broadcast shape,
    and whether any was an array (so errors name the element)."""
    arrays = []
    for name, value in named.items():
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InvalidInput(f"{name} must be a number or an array of numbers: {e}", name) from None
        arrays.append(a)
    try:
        shaped = np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(named, arrays))
        raise InvalidInput(f"arrays of mismatched shape: {shapes}", next(iter(named))) from None
    shape = shaped[0].shape if shaped else ()
    indexed = any(a.ndim > 0 for a in arrays)
    flat = tuple(np.ascontiguousarray(a.ravel()) for a in shaped)
    return flat, shape, indexed


def _shape(out: np.ndarray, shape: Tuple[int, ...], indexed: bool) -> Any:
    if not indexed:
        return out[0].item()
    return out.reshape(shape)


def erlang_b(operators: Any, load: Any) -> Any:
    """Probability that a contact finds all ``operators`` busy in a loss system
    (no queue), for an offered ``load`` in erlangs."""
    (n, a), shape, indexed = _columns(operators=operators, load=load)
    return _shape(_native.erlang_b_array(n, a, indexed), shape, indexed)


def erlang_c(operators: Any, load: Any) -> Any:
    """Probability that a contact waits (Erlang C, customers never leave);
    ``load`` in erlangs must be below ``operators``."""
    (n, a), shape, indexed = _columns(operators=operators, load=load)
    return _shape(_native.erlang_c_array(n, a, indexed), shape, indexed)


def _measures(d: Dict[str, np.ndarray], shape: Tuple[int, ...], indexed: bool) -> Dict[str, Any]:
    return {k: _shape(v, shape, indexed) for k, v in d.items()}


def erlang_c_measures(
    operators: Any, arrival_rate: Any, mean_handle_time: Any, threshold: Any = 20.0
) -> Dict[str, Any]:
    """Erlang C: probability of waiting, average speed of answer, mean queue
    length, occupancy and the share answered within ``threshold``."""
    cols, shape, indexed = _columns(
        operators=operators,
        arrival_rate=arrival_rate,
        mean_handle_time=mean_handle_time,
        threshold=threshold,
    )
    n, rate, aht, t = cols
    return _measures(_native.erlang_c_measures(n, rate, aht, t, indexed), shape, indexed)


def erlang_a_measures(
    operators: Any,
    arrival_rate: Any,
    mean_handle_time: Any,
    mean_patience: Any,
    threshold: Any = 20.0,
) -> Dict[str, Any]:
    """Erlang A (M/M/n+M: customers leave after an exponential patience of mean
    ``mean_patience``): probability of waiting and of abandoning, mean wait,
    mean queue length, occupancy, and the share of all arrivals answered within
    ``threshold``."""
    cols, shape, indexed = _columns(
        operators=operators,
        arrival_rate=arrival_rate,
        mean_handle_time=mean_handle_time,
        mean_patience=mean_patience,
        threshold=threshold,
    )
    n, rate, aht, patience, t = cols
    return _measures(_native.erlang_a_measures(n, rate, aht, patience, t, indexed), shape, indexed)


def operators_needed(
    arrival_rate: Any,
    mean_handle_time: Any,
    threshold: Any,
    service_level: Any,
    max_occupancy: Optional[Any] = None,
    mean_patience: Optional[Any] = None,
    max_abandonment: Optional[Any] = None,
) -> Any:
    """The smallest team answering ``service_level`` (a share, 0–1) of contacts
    within ``threshold``: Erlang C, or Erlang A when ``mean_patience`` is given
    (then ``max_abandonment`` may cap the abandoning share). ``max_occupancy``
    caps the operators' busy share."""
    nan = float("nan")
    cols, shape, indexed = _columns(
        arrival_rate=arrival_rate,
        mean_handle_time=mean_handle_time,
        threshold=threshold,
        service_level=service_level,
        max_occupancy=nan if max_occupancy is None else max_occupancy,
        mean_patience=nan if mean_patience is None else mean_patience,
        max_abandonment=nan if max_abandonment is None else max_abandonment,
    )
    for name, col, given in (
        ("max_occupancy", cols[4], max_occupancy),
        ("mean_patience", cols[5], mean_patience),
        ("max_abandonment", cols[6], max_abandonment),
    ):
        if given is not None and np.isnan(col).any():
            raise InvalidInput(f"{name} is NaN; leave it out (None) for no {name}", name)
    rate, aht, t, sl, occ, patience, aband = cols
    out = _native.operators_needed_array(rate, aht, t, sl, occ, patience, aband, indexed)
    return _shape(out, shape, indexed)
