"""mbcost: exact, analytic cost of MobileNet-style convolutional networks.

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v2", alpha=0.75)
    >>> r.madds, r.params          # exact integers, papers' convention
    (209069792, 2608784)
    >>> r["block3.expand"].madds   # any layer by its stable name
    10838016

The pipeline is core (YAML rows → layers at α → the op registry's counts) ← analyses (sweep,
verify, diff, budget, reproduce) ← render ← cli; mbcost.api is the front door above them.
Everything is importable without the CLI.
"""
from .core.engine import Report, load  # noqa: F401
from .core.conventions import PAPER, PROFILES, Convention  # noqa: F401
from ._version import __version__  # noqa: F401
from .errors import MbcostError  # noqa: F401
from .api import analyze, load_device, sweep, sweep_grid, to_frame  # noqa: F401  (pandas only when a frame is asked for)



def __getattr__(name: str):
    # mbcost.torch (build PyTorch modules) imports torch: only when first used
    if name == "torch":
        import importlib

        return importlib.import_module(".interop.torch", __name__)
    raise AttributeError(f"module 'mbcost' has no attribute {name!r}")
