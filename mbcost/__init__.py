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
from ._version import __version__  # noqa: F401
from .errors import MbcostError  # noqa: F401

# The front door's names, imported when first used: the engine and its kinds are a fifth of a
# second to import, which a command that answers without costing anything (a bad flag, an
# unknown --source, --help) should not pay
_LAZY = {
    "Report": ".core.engine", "load": ".core.engine",
    "PAPER": ".core.conventions", "PROFILES": ".core.conventions", "Convention": ".core.conventions",
    "analyze": ".api", "load_device": ".api", "sweep": ".api", "sweep_grid": ".api",
    "to_frame": ".api",  # pandas only when a frame is asked for
    "torch": None,  # mbcost.torch (build PyTorch modules) imports torch
}
__all__ = ["MbcostError", "__version__", *_LAZY]


def __getattr__(name: str):
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'mbcost' has no attribute {name!r}")
    if name == "torch":
        return importlib.import_module(".interop.torch", __name__)
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value
