"""mbcost: exact, analytic cost of MobileNet-style convolutional networks.

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v2", alpha=0.75)
    >>> r.madds, r.params          # exact integers, papers' convention
    >>> r["block3.expand"].madds   # any layer by its stable name

The pipeline is spec (YAML rows) → expand (α, rows → layers) → costs (one function per
layer kind) → render. Everything is importable without the CLI.
"""
from .core.engine import Report, analyze, load  # noqa: F401
from .core.conventions import PAPER, PROFILES, Convention  # noqa: F401
from ._version import __version__  # noqa: F401
from .errors import MbcostError  # noqa: F401
from .api import sweep, sweep_grid, to_frame  # noqa: F401  (pandas only when a frame is asked for)

