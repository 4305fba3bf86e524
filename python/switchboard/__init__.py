"""switchboard: a deterministic routing core for contact centers, from Python.

The same Rust crate a host embeds, not a second implementation: simulate
routing policies and staffing (:mod:`switchboard.sim`), compute KPIs from
records (:mod:`switchboard.kpi`), size teams with Erlang B/C/A
(:mod:`switchboard.staffing`), and drive the engine event by event to
prototype a host (:mod:`switchboard.engine`).
"""

from . import engine, errors, kpi, records, sim, staffing
from ._switchboard import RecordTable, __version__
from .engine import Engine
from .errors import BadEncoding, InvalidInput, Refused, SwitchboardError, UnknownId

__all__ = [
    "__version__",
    "engine",
    "errors",
    "kpi",
    "records",
    "sim",
    "staffing",
    "Engine",
    "RecordTable",
    "SwitchboardError",
    "InvalidInput",
    "UnknownId",
    "Refused",
    "BadEncoding",
]
