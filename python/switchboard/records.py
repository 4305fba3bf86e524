"""Conversation records as Arrow tables.

A :class:`RecordTable` holds per-conversation records (the interchange row of
the Rust crate, one request for an operator each) as Arrow record batches. It
speaks the Arrow PyCapsule stream protocol, so ``pyarrow.table(t)``,
``polars.DataFrame(t)`` and ``pandas`` (through pyarrow) read it without
copying; :meth:`RecordTable.to_numpy` gives a dict of numpy arrays.

Columns (times are ``uint64`` milliseconds since the Unix epoch, not Arrow
timestamps, so they round-trip exactly)::

    conversation_id  uint64     required
    channel, tier    uint32     required
    team             uint32     null: no team
    operator         uint64     null: no operator
    asked_at         uint64 ms  required
    assigned_at, first_response_at, resolved_at, abandoned_at, offered_at,
    started_at       uint64 ms  null: did not happen
    message_left     bool
    transfers, missed_offers  uint32
    tags             list<utf8> (empty list: no tags)
    satisfaction     uint8      1-5, null: not rated
    queue            uint32     null: the default queue

Tables from the simulator carry extra columns first (``policy``,
``replication``), named in the schema metadata so reading them back as
records leaves them out.

Reading records (:func:`table`, and every KPI entry point) accepts any object
with ``__arrow_c_stream__`` (pyarrow Table or RecordBatchReader, polars
DataFrame, pandas >= 2.2 DataFrame), a :class:`RecordTable`, or a dict of
columns (lists with ``None`` for missing values, numpy arrays, masked arrays
as :meth:`RecordTable.to_numpy` gives them with ``nulls="mask"``). Integers of any width, floats holding whole
numbers, Arrow timestamps of any unit (truncated to whole ms) and
``datetime64`` arrays are accepted; null or NaN in an optional column means
"absent", in a required column it is an error. ``tags`` may also be strings of
tags separated by ``;``. Every problem raises
:class:`~switchboard.errors.InvalidInput` with ``field`` the column (and
``row``, 0-based, when it is about one row).

>>> from switchboard import records
>>> t = records.table({"conversation_id": [1, 2], "channel": [0, 0],
...                    "tier": [1, 1], "asked_at": [1000, 2000],
...                    "assigned_at": [1500, None]})
>>> len(t)
2
>>> t.to_numpy()["assigned_at"].tolist()
[1500.0, nan]
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import _switchboard as _native
from ._switchboard import RecordTable, read_bank
from .errors import InvalidInput

__all__ = ["RecordTable", "COLUMNS", "REQUIRED", "table", "from_columns", "read_bank"]

#: The record columns, in schema order (the native module's own list).
COLUMNS: Sequence[str] = tuple(_native.RECORD_COLUMNS)

#: The columns every table must have.
REQUIRED: Sequence[str] = ("conversation_id", "channel", "tier", "asked_at")


def _missing(v: Any) -> bool:
    """None, NaN, pandas NA or NaT."""
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    return type(v).__name__ in ("NAType", "NaTType")


def _numbers(name: str, values: Any) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """A column as a 1-d int64, uint64, float64 (NaN: null) or bool array,
    and a mask (true: missing) or None."""
    if isinstance(values, np.ma.MaskedArray):
        a, _ = _numbers(name, values.data)
        return a, np.ma.getmaskarray(values).astype(np.bool_)
    try:
        a = np.asarray(values)
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"column `{name}`: not an array: {e}", name) from None
    if a.ndim != 1:
        raise InvalidInput(f"column `{name}` must be one-dimensional, got shape {a.shape}", name)
    kind = a.dtype.kind
    if kind == "b":
        return a.astype(np.bool_), None
    if kind == "i":
        return a.astype(np.int64), None
    if kind == "u":
        return a.astype(np.uint64), None
    if kind == "f":
        return a.astype(np.float64), None
    if kind == "M":  # datetime64: to ms, NaT missing
        nat = np.isnat(a)
        ms = a.astype("datetime64[ms]").astype(np.int64)
        return ms, (nat if nat.any() else None)
    if kind == "O":  # Python objects: None (and NaN, pandas NA, NaT) for missing values
        try:
            items = a.tolist()
            mask = np.array([_missing(v) for v in items], dtype=np.bool_)
            present = [v for v, m in zip(items, mask) if not m]
            if not present:
                return np.full(len(items), np.nan), None
            fill = [False if m else v for v, m in zip(items, mask)]
            if all(isinstance(v, (bool, np.bool_)) for v in present):
                return np.array(fill, dtype=np.bool_), mask
            fill = [0 if m else v for v, m in zip(items, mask)]
            if all(isinstance(v, (int, np.integer)) for v in present):
                # Exact for any 64-bit id, unlike float64.
                signed = min(present) < 0
                return np.array(fill, dtype=np.int64 if signed else np.uint64), mask
            return np.array(fill, dtype=np.float64), mask
        except (TypeError, ValueError, OverflowError):
            pass
    raise InvalidInput(
        f"column `{name}` must hold numbers (or booleans), got dtype {a.dtype}", name
    )


def _tags(values: Any) -> List[List[str]]:
    out: List[List[str]] = []
    for i, v in enumerate(values):
        if _missing(v):
            out.append([])
        elif isinstance(v, str):
            out.append([t.strip() for t in v.split(";") if t.strip()])
        else:
            try:
                items = list(v)
            except TypeError:
                items = [v]
            if not all(isinstance(t, str) for t in items):
                raise InvalidInput(
                    f"column `tags`, row {i}: tags must be strings, got {items!r}", "tags"
                )
            out.append(items)
    return out


def from_columns(columns: Mapping[str, Any]) -> RecordTable:
    """Records from a dict of columns (lists, numpy arrays, pandas Series),
    checked as :func:`table` checks a table. Columns of different lengths
    raise :class:`~switchboard.errors.InvalidInput` naming the column."""
    numeric = {}
    masks = {}
    tags: Optional[List[List[str]]] = None
    for name, values in columns.items():
        if not isinstance(name, str):
            raise InvalidInput(f"column names must be str, got {name!r}", str(name))
        if name == "tags":
            tags = _tags(values)
        else:
            numeric[name], mask = _numbers(name, values)
            if mask is not None:
                if len(mask) != len(numeric[name]):
                    raise InvalidInput(f"the mask of `{name}` has another length", name)
                masks[name] = mask
    raw = _native.columns_table(numeric, masks, tags)
    return _native.read_records(raw, False)


def table(records: Any, *, ignore_unknown: bool = False) -> RecordTable:
    """The records of ``records`` (a table object, a :class:`RecordTable` or a
    dict of columns) as a :class:`RecordTable` of the record schema: every
    value checked, every type normalised.

    An unknown column raises :class:`~switchboard.errors.InvalidInput` unless
    ``ignore_unknown`` (so a misspelt column never drops data silently);
    extra columns of simulator tables and pandas index columns are always
    left out."""
    if isinstance(records, Mapping):
        return from_columns(records)
    return _native.read_records(_stream(records), ignore_unknown)


def _stream(records: Any) -> Any:
    """An object the native reader takes: a RecordTable or something with
    ``__arrow_c_stream__`` (pandas before 2.2 goes through pyarrow)."""
    if isinstance(records, RecordTable) or hasattr(records, "__arrow_c_stream__"):
        return records
    module = type(records).__module__ or ""
    if module.startswith("pandas"):
        try:
            import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise InvalidInput(
                "reading a pandas DataFrame before pandas 2.2 needs pyarrow", "records"
            ) from None
        return pa.Table.from_pandas(records, preserve_index=False)
    if hasattr(records, "__arrow_c_array__"):  # a single record batch
        try:
            import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

            return pa.table(records)
        except ImportError:
            pass
    raise InvalidInput(
        "records must be a table (pyarrow, pandas, polars: an object with "
        "__arrow_c_stream__), a dict of columns or a CSV path, "
        f"got {type(records).__name__}",
        "records",
    )
