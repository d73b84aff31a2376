"""Interop with the frameworks: PyTorch modules built from an architecture, ONNX out and in.

A layer between core and the front door (``core ← interop``; it may use analyses, never
render or cli). Each module keeps one table keyed by the primitive kinds of
:data:`mbcost.core.kinds.KINDS` — or, for the importer, by ONNX op type, with ``KINDS_READ``
saying which kinds those ops become — so a new kind is one handle per format it supports. A
kind a format cannot handle says why in its ``unsupported`` (``tests/test_kinds.py`` checks
that every kind has a handle or a reason), and that reason is what the user reads:

- :mod:`mbcost.interop.torch`: ``BUILDERS[kind]`` → the ``torch.nn`` module of a layer
  (``mbcost.torch.build``; imports torch).
- :mod:`mbcost.interop.onnx_export`: ``EXPORTERS[kind]`` → the ONNX nodes of a layer
  (``mbcost export --to onnx``; imports onnx, never torch).
- :mod:`mbcost.interop.yaml_out`: ``WRITERS[kind]`` → the row that writes a layer back
  (``mbcost convert``: any model as an architecture YAML; imports neither).
- :mod:`mbcost.interop.torch_import`: a ``torch.nn.Module`` (``torchvision:``, ``timm:``,
  ``file.py:factory``) exported by PyTorch and read by the ONNX importer.
- :mod:`mbcost.interop.onnx_import`: ``IMPORTERS[op_type]`` → how an ONNX node becomes
  layers (``mbcost report model.onnx``; imports onnx), after :mod:`mbcost.interop.onnx_rewrite`
  has folded the model's constants and fused its multi-node patterns, following each tensor's
  layout with :mod:`mbcost.interop.axes`.

The optional packages are imported only by these modules, and these modules only when used:
``import mbcost`` stays free of torch and onnx.
"""
from __future__ import annotations

from ..core.graph import Pair
from ..core.kinds import KINDS
from ..errors import UsageError

# the facets of mbcost.core.kind.INTEROP_FACETS, as a person names them
WHAT = {"torch": "PyTorch builder", "onnx_export": "ONNX exporter", "onnx_import": "ONNX importer",
        "yaml": "YAML writer"}


def handle(table: dict, kind: str, facet: str, command: str):
    """The handle of ``kind`` in an interop table, or one clear error: 'mbcost export: 'toy' has
    no ONNX exporter yet: <the kind's reason>'."""
    if kind in table:
        return table[kind]
    k = KINDS.get(kind)
    why = k.missing(facet) if k is not None else "it is not a registered kind"
    raise UsageError(f"{command}: {kind!r} has no {WHAT[facet]} yet: {why}")


def same_pads(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' padding along one axis: the output is ceil(size / s) and the total
    padding max((out − 1)·s + k′ − size, 0), k′ = d·(k − 1) + 1 the dilated kernel, goes half
    before, the odd pixel after (so a 3×3 /2 conv on an even map pads (0, 1), where
    torchvision's pads (1, 1))."""
    out = -(-size // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def pads_of(layer, in_shape) -> tuple[Pair, Pair]:
    """((top, bottom), (left, right)) for a conv or pool layer at its input H×W×M: TF's 'same'
    pads, none for 'valid', an integer padding (PyTorch's) on both sides."""
    if layer.padding == "valid":
        return (0, 0), (0, 0)
    if isinstance(layer.padding, tuple):
        ph, pw = layer.padding
        return (ph, ph), (pw, pw)
    return (same_pads(in_shape[0], layer.k[0], layer.s[0], layer.d[0]),
            same_pads(in_shape[1], layer.k[1], layer.s[1], layer.d[1]))


def unfolded_patch(layer, producers: dict, seqs: int, size: Pair) -> Pair:
    """The p_h×p_w patch a ``map`` layer folds its S = ``seqs`` sequences back from into an H×W
    ``size`` map: that of the ``tokens`` layer that unfolded them (followed back through each
    layer's first input), so the fold is the unfolding's inverse; else the squarest p_h·p_w = S
    that tiles the map (MobileViT's patches are square); (1, 1) for one sequence.
    ``producers``: layer name → layer."""
    if layer.k != (1, 1):  # the row states its patch
        return layer.k
    x = producers.get(layer.inputs[0])
    while x is not None:
        if x.kind == "tokens" and x.k[0] * x.k[1] == seqs and (x.mode or size[0] % x.k[0] == 0 and size[1] % x.k[1] == 0):
            return x.k
        x = producers.get(x.inputs[0]) if x.inputs else None
    tiles = [(p, seqs // p) for p in range(1, seqs + 1) if seqs % p == 0 and size[0] % p == 0
             and size[1] % (seqs // p) == 0]
    return min(tiles, key=lambda t: abs(t[0] - t[1]))
