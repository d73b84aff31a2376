"""How results print: ``print(report)`` shows the table a person expects.

Core never imports the render layer. A result type inherits :class:`Printable`, whose text is
the render layer's table, named here as ``module:function`` and imported only when a result is
printed (as :data:`mbcost.render.formats.RENDERERS` names its renderers); without the render
layer installed (core used alone) a result prints as its repr.
"""
from __future__ import annotations

import importlib

PRESENTER = "mbcost.render.formats:text_of"


class Printable:
    def __str__(self) -> str:
        module, _, function = PRESENTER.partition(":")
        try:
            text_of = getattr(importlib.import_module(module), function)
        except ImportError:  # pragma: no cover - core without its render layer
            return repr(self)
        return text_of(self)
