"""PyTorch modules built from an architecture file: the YAML is the network that trains.

    >>> import mbcost
    >>> net = mbcost.torch.build("mobilenet_v2", alpha=0.5, resolution=160)   # doctest: +SKIP

:func:`build` expands the architecture exactly as ``mbcost report`` does (same α rounding,
same layers, same names) and turns each layer into a ``torch.nn`` module through
``BUILDERS[kind]``: BN and activations where the file puts them, biases where the layers
have them, weights initialised by PyTorch's own defaults. Under ``--profile torchvision``
``sum(p.numel() for p in net.parameters())`` is mbcost's parameter count, and
``FlopCounterMode``'s total is 2 × its mult-adds (tests/crosscheck proves both in CI).

'same' padding is TensorFlow's (output ceil(in / s)); where it is asymmetric (a 3×3 /2 conv on
an even map pads one pixel after, none before) an ``nn.ZeroPad2d`` precedes the conv. Pads
are fixed for the resolution the module is built at, like a TF graph exported at one input
size: build again for another resolution.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from ..core.conventions import PAPER
from ..core.engine import LayerResult, load, run_graph
from ..core.expand import expand
from ..core.graph import Graph, Layer
from ..core.multipliers import input_resolution, parse_alpha
from ..core.spec import ArchSpec
from ..errors import GraphError
from . import pads_of

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "relu6": nn.ReLU6}


def _tail(layer: Layer, n: int, bn: Callable[[int], nn.Module]) -> list[nn.Module]:
    """BN then the activation, as the file puts them after a layer."""
    out = [bn(n)] if layer.bn else []
    if layer.act != "linear":
        out.append(ACTIVATIONS[layer.act]())
    return out


def _padded(layer: Layer, shape, core: nn.Module, value: float = 0.0) -> list[nn.Module]:
    """The layer's module behind its 'same' padding: symmetric pads go into the module's own
    ``padding``, asymmetric ones into a pad module before it."""
    (t, b), (l, r) = pads_of(layer, shape)
    if (t, l) == (b, r):
        if t or l:
            core.padding = (t, l)
        return [core]
    return [nn.ConstantPad2d((l, r, t, b), value), core]


def _conv(layer: Layer, inputs) -> nn.Module:
    m = inputs[0][2]
    conv = nn.Conv2d(m, layer.c, layer.k, layer.s, groups=layer.groups, bias=layer.bias)
    return nn.Sequential(*_padded(layer, inputs[0], conv), *_tail(layer, layer.c, nn.BatchNorm2d))


def _fc(layer: Layer, inputs) -> nn.Module:
    h, w, m = inputs[0]
    return nn.Sequential(nn.Flatten(), nn.Linear(h * w * m, layer.c, bias=layer.bias),
                         *_tail(layer, layer.c, nn.BatchNorm1d))


class _TFAvgPool(nn.Module):
    """Average pooling over TF's asymmetric 'same' window, which leaves the padding out of
    each mean: the zero-padded sum divided by the count of real pixels."""

    def __init__(self, k, s, pads):
        super().__init__()
        self.pool, self.pads = nn.AvgPool2d(k, s), pads

    def forward(self, x):
        ones = torch.ones_like(x[:1, :1])
        return self.pool(F.pad(x, self.pads)) / self.pool(F.pad(ones, self.pads))


def _pool(layer: Layer, inputs) -> nn.Module:
    glob = {"avg": nn.AdaptiveAvgPool2d, "max": nn.AdaptiveMaxPool2d}
    if layer.global_:
        return nn.Sequential(glob[layer.op](1), *_tail(layer, layer.c, nn.BatchNorm2d))
    if layer.op == "max":
        core = _padded(layer, inputs[0], nn.MaxPool2d(layer.k, layer.s), value=float("-inf"))
    else:
        (t, b), (l, r) = pads_of(layer, inputs[0])
        symmetric = (t, l) == (b, r) and 2 * t <= layer.k[0] and 2 * l <= layer.k[1]
        core = [nn.AvgPool2d(layer.k, layer.s, padding=(t, l), count_include_pad=False)
                if symmetric else _TFAvgPool(layer.k, layer.s, (l, r, t, b))]
    return nn.Sequential(*core, *_tail(layer, layer.c, nn.BatchNorm2d))


class Add(nn.Module):
    """Element-wise sum of the inputs (a residual join), then the layer's activation."""

    def __init__(self, tail: list[nn.Module]):
        super().__init__()
        self.tail = nn.Sequential(*tail)

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return self.tail(out)


# kind → (layer, its input shapes H×W×C) → module. One entry per primitive kind of core/ops.py.
BUILDERS: dict[str, Callable[[Layer, list], nn.Module]] = {
    "conv": _conv,
    "dwconv": _conv,  # a conv with groups = M
    "fc": _fc,
    "pool": _pool,
    "add": lambda layer, inputs: Add(_tail(layer, layer.c, nn.BatchNorm2d)),
}


def _key(name: str, taken: set[str]) -> str:
    """A ModuleDict key for a layer name ('block3.dw' → 'block3_dw'; keys cannot hold dots)."""
    key = name.replace(".", "_")
    while key in taken:
        key += "_"
    taken.add(key)
    return key


class Net(nn.Module):
    """The network of one expanded :class:`~mbcost.core.graph.Graph`, in execution order.

    ``layers[key]`` is the module of one mbcost layer (``key_of[name]`` finds it);
    ``forward`` returns the last layer's output, :meth:`outputs` every layer's, by name.
    """

    def __init__(self, graph: Graph, results: tuple[LayerResult, ...]):
        super().__init__()
        self.graph = graph
        h, w, c = graph.input_shape
        self.input_size = (1, c, h, w)  # NCHW, what forward expects
        self.layers = nn.ModuleDict()
        self.key_of: dict[str, str] = {}
        taken: set[str] = set()
        self.plan: list[tuple[str, str, tuple[str, ...]]] = []
        for r in results:
            layer = r.layer
            if layer.kind not in BUILDERS:
                raise GraphError(f"layer {layer.name}: mbcost cannot build a {layer.kind!r} "
                                 f"layer in PyTorch yet (it builds {', '.join(BUILDERS)})")
            key = self.key_of[layer.name] = _key(layer.name, taken)
            self.layers[key] = BUILDERS[layer.kind](layer, list(r.input_shapes))
            self.plan.append((layer.name, key, layer.inputs))

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        values = {"input": x}
        for name, key, inputs in self.plan:
            values[name] = self.layers[key](*(values[i] for i in inputs))
        return values

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outputs(x)[self.plan[-1][0]]


def build(arch: str | Path | ArchSpec, alpha: float | str | Fraction = 1,
          resolution: int | str | None = None, rho: float | str | Fraction | None = None,
          classes: int | None = None) -> Net:
    """The ``torch.nn.Module`` of ``arch`` at width α and an input resolution (or ρ), built
    from the same expanded graph ``mbcost report`` costs; ``classes`` overrides the file's."""
    spec = load(arch)
    res = input_resolution(spec, resolution, rho)
    graph = expand(spec, parse_alpha(alpha), res, classes=classes)
    return Net(graph, run_graph(graph, PAPER))
