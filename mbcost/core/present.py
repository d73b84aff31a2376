"""How results print: ``print(report)`` shows the table a person expects.

Core never imports the render layer. A result type inherits :class:`Printable`, and the
package (``mbcost/__init__.py``) installs the render layer's text function as ``PRESENTER``;
without it (core used alone) a result prints as its repr.
"""
from __future__ import annotations

from typing import Callable

PRESENTER: list[Callable[[object], str]] = []


class Printable:
    def __str__(self) -> str:
        return PRESENTER[0](self) if PRESENTER else repr(self)
