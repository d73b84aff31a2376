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
from ..core.multipliers import input_resolution, parse_alpha, parse_depth
from ..core.spec import ArchSpec
from . import handle, pads_of

# the file's activation → its torch.nn module ('linear' is none); swish is SiLU, x·σ(x), and
# hsigmoid PyTorch's relu6(x + 3) / 6, as MobileNetV3 and EfficientNet use them
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish, "hsigmoid": nn.Hardsigmoid,
    "sigmoid": nn.Sigmoid, "swish": nn.SiLU, "gelu": nn.GELU, "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,  # the slope is PyTorch's default, 0.01 (a free op either way)
}


def _tail(layer: Layer, n: int, bn: Callable[[int], nn.Module]) -> list[nn.Module]:
    """BN then the activation, as the file puts them after a layer."""
    out = [bn(n)] if layer.bn else []
    if layer.act != "linear":
        out.append(ACTIVATIONS[layer.act]())
    return out


def _padded(layer: Layer, shape, core: nn.Module, value: float = 0.0) -> list[nn.Module]:
    """The layer's module behind its padding: symmetric pads (an integer padding, or 'same'
    where TF's pads are equal) go into the module's own ``padding``, asymmetric ones into a
    pad module before it."""
    (t, b), (l, r) = pads_of(layer, shape)
    if (t, l) == (b, r):
        if t or l:
            core.padding = (t, l)
        return [core]
    return [nn.ConstantPad2d((l, r, t, b), value), core]


def _conv(layer: Layer, inputs) -> nn.Module:
    m = inputs[0][2]
    conv = nn.Conv2d(m, layer.c, layer.k, layer.s, groups=layer.groups, bias=layer.bias, dilation=layer.d)
    return nn.Sequential(*_padded(layer, inputs[0], conv), *_tail(layer, layer.c, nn.BatchNorm2d))


def _deconv(layer: Layer, inputs) -> nn.Module:
    """ConvTranspose2d, whose output rule core/ops.py states; 'same'/'valid' mean padding 0."""
    pad = layer.padding if isinstance(layer.padding, tuple) else (0, 0)
    conv = nn.ConvTranspose2d(inputs[0][2], layer.c, layer.k, layer.s, pad, layer.output_padding,
                              groups=layer.groups, bias=layer.bias, dilation=layer.d)
    return nn.Sequential(conv, *_tail(layer, layer.c, nn.BatchNorm2d))


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
    if isinstance(layer.padding, tuple) or layer.ceil and layer.padding == "valid":  # PyTorch's own pools, as torchvision's
        pad = layer.padding if isinstance(layer.padding, tuple) else (0, 0)
        cls = nn.MaxPool2d if layer.op == "max" else nn.AvgPool2d
        core = [cls(layer.k, layer.s, pad, ceil_mode=layer.ceil)]
    elif layer.op == "max":
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


class Concat(nn.Module):
    """The inputs side by side along channels (Inception's branches, a U-Net's skip)."""

    def forward(self, *xs):
        return torch.cat(xs, 1)


class Mul(nn.Module):
    """x · gate, element-wise; a N×C×1×1 gate (squeeze-excite) broadcasts over H×W."""

    def forward(self, x, gate):
        return x * gate


class Split(nn.Module):
    """The input's channels in parts of ``sizes`` (ShuffleNetV2's channel split): a tuple, whose
    i-th part is the tensor ``name.i``."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes = list(sizes)

    def forward(self, x):
        return torch.split(x, self.sizes, 1)


class Shuffle(nn.Module):
    """ShuffleNet's channel shuffle: C = g·(C/g) channels viewed as g × C/g, transposed, flattened
    back (torchvision's channel_shuffle). C, H, W are the build's, like its pads, so an export
    writes constant shapes (Reshape → Transpose → Reshape, the pattern importers know)."""

    def __init__(self, groups: int, shape):
        super().__init__()
        self.groups, (self.h, self.w, self.c) = groups, shape

    def forward(self, x):
        g, c, h, w = self.groups, self.c, self.h, self.w
        return x.view(-1, g, c // g, h, w).transpose(1, 2).contiguous().view(-1, c, h, w)


def _upsample(layer: Layer, inputs) -> nn.Module:
    mode = {"nearest": "nearest", "bilinear": "bilinear"}[layer.mode or "nearest"]
    if layer.size:
        return nn.Upsample(size=tuple(layer.size), mode=mode)
    return nn.Upsample(scale_factor=layer.up, mode=mode)


def _plain(layer: Layer, inputs) -> nn.Module:
    """A standalone activation (with its BN, if the file gives one)."""
    return nn.Sequential(*_tail(layer, layer.c, nn.BatchNorm2d))


# kind → (layer, its input shapes H×W×C) → module: one handle per primitive kind of
# mbcost.core.kinds (or a reason in the kind's ``unsupported``).
BUILDERS: dict[str, Callable[[Layer, list], nn.Module]] = {
    "conv": _conv,
    "dwconv": _conv,  # a conv with groups = M (N = M·multiplier)
    "deconv": _deconv,
    "fc": _fc,
    "pool": _pool,
    "add": lambda layer, inputs: Add(_tail(layer, layer.c, nn.BatchNorm2d)),
    "concat": lambda layer, inputs: Concat(),
    "mul": lambda layer, inputs: Mul(),
    "split": lambda layer, inputs: Split(layer.sizes),
    "shuffle": lambda layer, inputs: Shuffle(layer.groups, inputs[0]),
    "upsample": _upsample,
    "act": _plain,
    # mbcost keeps a flattened map's H×W×C for counting; the tensor is N×(H·W·C), as an fc reads it
    "flatten": lambda layer, inputs: nn.Flatten(),
    # the file's p is not part of the layer graph, and dropout is the identity in eval mode
    "dropout": lambda layer, inputs: nn.Dropout(),
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
    ``forward`` returns the network's output (the graph's ``outputs:``, a tuple if several,
    else the last layer's), :meth:`outputs` every tensor, by name — a split's parts as
    ``name.0``, ``name.1``, … and the split itself as its input.
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
            builder = handle(BUILDERS, layer.kind, "torch", "mbcost.torch.build")
            key = self.key_of[layer.name] = _key(layer.name, taken)
            self.layers[key] = builder(layer, list(r.input_shapes))
            self.plan.append((layer.name, key, layer.inputs, len(layer.sizes)))
        self.results = tuple(graph.outputs) or (self.plan[-1][0],)

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        values = {"input": x}
        for name, key, inputs, parts in self.plan:
            y = self.layers[key](*(values[i] for i in inputs))
            if parts:  # a split: its parts are the tensors later layers read
                values.update((f"{name}.{i}", t) for i, t in enumerate(y))
                y = values[inputs[0]]
            values[name] = y
        return values

    def forward(self, x: torch.Tensor):
        values = self.outputs(x)
        out = tuple(values[name] for name in self.results)
        return out[0] if len(out) == 1 else out


def build(arch: str | Path | ArchSpec, alpha: float | str | Fraction | None = None,
          resolution: int | str | None = None, rho: float | str | Fraction | None = None,
          classes: int | None = None, depth: float | str | Fraction | None = None) -> Net:
    """The ``torch.nn.Module`` of ``arch`` at width α, depth multiplier d and an input
    resolution (or ρ), built from the same expanded graph ``mbcost report`` costs; α, d and
    the resolution default to the file's (a variant's) own, ``classes`` overrides the file's."""
    spec = load(arch)
    a = parse_alpha(alpha) if alpha is not None else (spec.alpha or Fraction(1))
    d = parse_depth(depth) if depth is not None else (spec.depth or Fraction(1))
    res = input_resolution(spec, resolution, rho)
    graph = expand(spec, a, res, classes=classes, depth=d)
    return Net(graph, run_graph(graph, PAPER))
