"""The library's front door for notebooks and scripts: what ``import mbcost`` exports.

This is the one module above the layers (core ← analyses ← render ← cli): it may use any of
them, and nothing below imports it.

Sweeps: the cost of one architecture over a grid of width multipliers α and resolutions.

    >>> import mbcost
    >>> g = mbcost.sweep_grid("mobilenet_v1", alphas=[1, 0.75, 0.5, 0.25], resolutions=[224, 192])
    >>> g.at(0.75, 224).madds                    # exact integers
    325400448
    >>> df = mbcost.sweep("mobilenet_v1", alphas="0.25:1:0.25", resolutions="128:224:32")
    >>> int(df.pivot(index="alpha", columns="resolution", values="madds").loc[0.5, 160])
    76524800

``sweep_grid`` returns a :class:`mbcost.analyses.sweep.Sweep` (what ``mbcost sweep`` renders);
``sweep`` is the same grid as a pandas DataFrame. Both take lists of numbers, one number,
or the CLI's text: '1,0.75,0.5' and ranges start:stop:step ('0.25:2.0:0.05', stop
included when it lands on the grid, computed in exact fractions). Floats are read as the
shortest decimal that prints them, so 0.1 + 0.2 is 0.30000000000000004, not 0.3: pass
ranges as text (or round) to get the α you mean.

The work (and pandas) is imported when called.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .core.conventions import PAPER, Convention

if TYPE_CHECKING:
    import pandas

    from .analyses.sweep import Sweep, Values
    from .core.engine import Report
    from .core.spec import ArchSpec


def load_device(name: str | Path):
    """A device latency profile: a built-in by name (``pixel1``; ``mbcost list`` shows them)
    or a profile file by path (``mbcost latency fit --save`` writes one), as ``--device`` reads it."""
    from .analyses.latency import load_device as load

    return load(name, flag="device")


def _device(device):
    """``device=`` as the CLI's ``--device`` takes it: a built-in's name or a profile's path is
    read; a Device (or None) is kept; anything else is one clear error naming the parameter."""
    from .core.latency import require_device

    if isinstance(device, (str, os.PathLike)):
        return load_device(device)
    return require_device(device)


def analyze(arch: str | Path | ArchSpec, alpha=None, resolution=None, rho=None, convention: Convention = PAPER,
            depth=None, device=None, input=None) -> Report:
    """Cost an architecture at width α, depth multiplier d and input resolution (or ρ) under a
    convention; α, d and the resolution default to the file's (a variant's) own. ``device``,
    a built-in profile's name (``"pixel1"``), a profile file's path or a Device, times each
    layer on it too (its profile in the convention's dtype).

    >>> import mbcost
    >>> round(mbcost.analyze("mobilenet_v3_large", device="pixel1").latency_ms, 2)   # the README's 51.42 ms
    51.42

    ``arch`` may be a ``torch.nn.Module``, with ``input`` its C×H×W (``analyze(net, input=(3, 224,
    224))``): PyTorch exports it and mbcost reads the export (docs/interop.md). A file has its
    own input size (give ``resolution``):

    >>> mbcost.analyze("mobilenet_v2", input=(3, 224, 224))
    Traceback (most recent call last):
    mbcost.errors.UsageError: input: input= is the input size of a torch.nn.Module; an architecture file has its own (give resolution=)
    """
    from .core.engine import analyze as run

    return run(arch, alpha, resolution, rho, convention, depth, device=_device(device), input=input)


def sweep_grid(arch: str | Path | ArchSpec, alphas: Values = None, resolutions: Values = None,
               rhos: Values = None, convention: Convention = PAPER, depths: Values = None, device=None,
               progress=None) -> Sweep:
    """Exact mult-adds and parameters of ``arch`` at every (α, resolution) — or (α, ρ).

    Defaults: α = 1 and the file's own resolution. ``resolutions`` and ``rhos`` exclude
    each other. Raises :class:`mbcost.MbcostError` on bad values or more than 1,000,000
    configurations.
    """
    from .analyses.sweep import grid

    return grid(arch, alphas, resolutions, rhos, convention, depths, device=_device(device), progress=progress)


def sweep(arch: str | Path | ArchSpec, alphas: Values = None, resolutions: Values = None,
          rhos: Values = None, convention: Convention = PAPER, depths: Values = None) -> pandas.DataFrame:
    """The grid of :func:`sweep_grid` as a pandas DataFrame, one row per configuration,
    α-major in the order given: ``alpha`` (float), ``rho`` (with ``rhos``), ``resolution``
    (int; 'HxW' text if not square), ``madds`` and ``params`` (exact integers), and
    ``flops`` (2 × madds) when the convention asks for FLOPs."""
    from .render.frames import sweep_frame

    return sweep_frame(sweep_grid(arch, alphas, resolutions, rhos, convention, depths))


def to_frame(result) -> pandas.DataFrame:
    """A report (one row per layer) or a sweep (one row per configuration) as a pandas
    DataFrame, every count an exact integer column."""
    from .render.frames import to_frame as frame

    return frame(result)
