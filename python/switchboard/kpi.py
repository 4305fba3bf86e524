"""KPIs over conversation records: the Rust calculators, the same numbers.

Records come as a table (pyarrow, pandas >= 2.2, polars, a
:class:`~switchboard.records.RecordTable`: anything with
``__arrow_c_stream__``), a dict of columns, or the path of an interchange CSV
file (read by the Rust CSV reader). See :mod:`switchboard.records` for the
columns.

:func:`report` computes a report in one call; :class:`Accumulator` keeps the
mergeable state: accumulators over any split of the rows merge into exactly
the accumulator of all of them, and travel as canonical bytes
(:meth:`Accumulator.to_bytes`).

The report is a dict (the Rust ``KpiReport``): ``records``, ``skipped``,
``skipped_by_reason``, ``overall`` (offered, answered, abandoned, wait, first
response, handle time, abandonment rates, service levels, satisfaction,
tags, ...), the breakdowns ``by_tier``, ``by_channel``, ``by_team``,
``by_operator`` (dicts by id), ``by_queue`` (a list of ``[queue, stats]``
pairs, ``None`` the default queue) and ``operators`` (the per-operator
table). Durations are in milliseconds.

The config (a dict, or JSON text) has the Rust ``KpiConfig`` fields:
``period`` (``{"start": ms, "end": ms}``), ``anchor`` (``"asked_at"`` or
``"per_kpi"``), ``service_level_thresholds`` (ms, 1 to 16 increasing; default
``[20000]``), ``short_abandon`` (ms), ``business_hours``. A wrong field raises
:class:`~switchboard.errors.InvalidInput` with ``field`` its path
(``config.service_level_thresholds``).

Options of every ``add``: ``strict_order`` (rows sorted by ``asked_at``),
``detect_duplicates`` (a conversation id twice in one ``add``),
``skip_bad_rows`` (count bad rows by reason instead of raising),
``ignore_unknown`` (leave out unknown columns of a table instead of raising).
A refused row raises :class:`~switchboard.errors.InvalidInput` naming its
column (``field``) and row (``row``, 0-based; for CSV ``line``, 1-based with
the header on line 1); the accumulator is then unchanged.

>>> from switchboard import kpi
>>> rows = {"conversation_id": [1, 2], "channel": [0, 0], "tier": [1, 1],
...         "asked_at": [0, 1_000], "assigned_at": [15_000, None],
...         "abandoned_at": [None, 31_000]}
>>> r = kpi.report(rows)
>>> r["overall"]["offered"], r["overall"]["abandonment"]["per_offered"]["ratio"]
(2, 0.5)
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from . import _switchboard as _native
from .errors import InvalidInput
from .records import RecordTable, _stream, from_columns

__all__ = ["Accumulator", "report", "config", "SKIP_REASONS"]

#: The reasons a skipped row is counted under.
SKIP_REASONS: Tuple[str, ...] = (
    "unparsable",
    "out_of_range",
    "before_ask",
    "assigned_after_resolved",
    "abandoned_before_assigned",
    "out_of_order",
    "duplicate_id",
    "malformed",
)

Records = Union[RecordTable, Mapping[str, Any], str, "os.PathLike[str]", Any]


def config(config: Optional[Union[Mapping[str, Any], str]] = None) -> Dict[str, Any]:
    """The config checked and with its defaults filled in."""
    return _native.kpi_config(config)


class Accumulator:
    """Mergeable KPI state over records (the Rust ``KpiAccumulator``).

    >>> from switchboard import kpi
    >>> a = kpi.Accumulator()
    >>> a.add({"conversation_id": [1], "channel": [0], "tier": [0], "asked_at": [5]})
    >>> b = kpi.Accumulator.from_bytes(a.to_bytes())
    >>> b == a, b.records
    (True, 1)
    """

    __slots__ = ("_native",)

    def __init__(self, config: Optional[Union[Mapping[str, Any], str]] = None) -> None:
        self._native = _native.KpiAccumulator(config)

    def add(
        self,
        records: Records,
        *,
        strict_order: bool = False,
        detect_duplicates: bool = False,
        skip_bad_rows: bool = False,
        ignore_unknown: bool = False,
    ) -> None:
        """Adds every row of ``records`` (a table, a dict of columns or a CSV
        path). All or nothing: when a row is refused the accumulator is left
        as it was. ``strict_order`` and ``detect_duplicates`` check within
        this call's rows."""
        if isinstance(records, (str, os.PathLike)):
            self._native.add_csv(
                os.fspath(records), strict_order, detect_duplicates, skip_bad_rows
            )
            return
        table = from_columns(records) if isinstance(records, Mapping) else _stream(records)
        self._native.add_table(
            table, strict_order, detect_duplicates, skip_bad_rows, ignore_unknown
        )

    def merge(self, other: "Accumulator") -> None:
        """Adds the state of ``other`` (built with the same config, else
        :class:`~switchboard.errors.InvalidInput` with field ``config``)."""
        if not isinstance(other, Accumulator):
            raise InvalidInput(
                f"other must be an Accumulator, got {type(other).__name__}", "other"
            )
        if other is self:  # the native state cannot be borrowed twice
            other = Accumulator.from_bytes(self.to_bytes())
        self._native.merge(other._native)

    def to_bytes(self) -> bytes:
        """The canonical, versioned encoding: equal states give equal bytes."""
        return self._native.to_bytes()

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview]) -> "Accumulator":
        """The accumulator of :meth:`to_bytes` output; other bytes (another
        encoding version, corrupt or truncated) raise
        :class:`~switchboard.errors.BadEncoding`."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInput(f"data must be bytes, got {type(data).__name__}", "data")
        out = cls.__new__(cls)
        out._native = _native.KpiAccumulator.from_bytes(bytes(data))
        return out

    def report(self) -> Dict[str, Any]:
        """The KPI report (see the module docs)."""
        return self._native.report()

    @property
    def config(self) -> Dict[str, Any]:
        """The config, defaults filled in."""
        return self._native.config()

    @property
    def records(self) -> int:
        """Valid records accumulated (in or out of the period)."""
        return self._native.records

    @property
    def out_of_period(self) -> int:
        """Valid records outside the period."""
        return self._native.out_of_period

    @property
    def skipped(self) -> Dict[str, int]:
        """Rows skipped per reason (see :data:`SKIP_REASONS`)."""
        return self._native.skipped

    @property
    def skipped_total(self) -> int:
        """Rows skipped for any reason."""
        return self._native.skipped_total

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Accumulator):
            return NotImplemented
        return self._native == other._native

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:
        return (Accumulator.from_bytes, (self.to_bytes(),))

    def __repr__(self) -> str:
        return f"Accumulator(records={self.records}, skipped={self.skipped_total})"


def report(
    records: Records,
    config: Optional[Union[Mapping[str, Any], str]] = None,
    *,
    strict_order: bool = False,
    detect_duplicates: bool = False,
    skip_bad_rows: bool = False,
    ignore_unknown: bool = False,
) -> Dict[str, Any]:
    """The KPI report of ``records`` (a table, a dict of columns or a CSV
    path) under ``config`` (default: every record, service level within 20 s).
    """
    acc = Accumulator(config)
    acc.add(
        records,
        strict_order=strict_order,
        detect_duplicates=detect_duplicates,
        skip_bad_rows=skip_bad_rows,
        ignore_unknown=ignore_unknown,
    )
    return acc.report()
