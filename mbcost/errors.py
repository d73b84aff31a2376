"""One error path: every failure a user can cause is an MbcostError.

The CLI turns it into a single line on stderr,
``error: configs/x.yaml:12:5: layers[3].s: expected a positive integer, got -2``,
and exit code 2. Anything else escaping the library is a bug in mbcost.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Where:
    """A place in a user's file: 1-based line and column, as editors count."""

    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)


class MbcostError(Exception):
    """Bad input: a file, a flag or a value the user gave us.

    ``field`` is the dotted path of the offending value as the user wrote it
    (``layers[3].s``), ``where`` its position when we know it.
    """

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, where: Where | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.where = where or Where()

    def __str__(self) -> str:
        prefix = [str(self.where)] if str(self.where) else []
        if self.field:
            prefix.append(self.field)
        return ": ".join(prefix + [self.message])


class SpecError(MbcostError):
    """The architecture file is not valid YAML or not a valid architecture."""


class GraphError(MbcostError):
    """The layers do not fit together (channels, shapes) at the requested α and resolution."""


class UsageError(MbcostError):
    """A flag or argument on the command line is wrong."""
