"""Exceptions raised by switchboard.

Every error carries ``field``: the argument, column or JSON path that was
wrong (``None`` when the error is not about one field). They subclass the
built-in exception a Python user would catch for that kind of mistake, so
``except ValueError`` and ``except KeyError`` keep working.
"""

from __future__ import annotations

from typing import Optional


class SwitchboardError(Exception):
    """Base class of every switchboard error."""

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:  # KeyError would otherwise print the repr
        return self.message


class InvalidInput(SwitchboardError, ValueError):
    """A value is missing, of the wrong type, out of range or inconsistent."""


class UnknownId(SwitchboardError, KeyError):
    """An id (operator, conversation, tier, queue, ...) the engine does not know."""


class Refused(SwitchboardError, ValueError):
    """The engine refused an event or command (time going backwards, wrong
    state, ...). Nothing of it was applied."""


class BadEncoding(SwitchboardError, ValueError):
    """Bytes (snapshot, accumulator state) that are not this version's encoding."""


__all__ = ["SwitchboardError", "InvalidInput", "UnknownId", "Refused", "BadEncoding"]
