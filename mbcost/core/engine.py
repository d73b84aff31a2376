"""Putting it together: architecture + α + resolution + convention → per-layer costs.

``analyze`` is the library's front door (the CLI's ``report`` is a thin wrapper):

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v1", alpha=0.75)
    >>> r.madds, r.params
    (325400448, 2568144)
"""
from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from .conventions import PAPER, Convention, require_convention
from .cost import layer_cost
from ..errors import GraphError, UsageError
from .expand import expand
from .graph import NETWORK_INPUT, Graph, Layer, Shape, with_channels
from .kinds import type_label
from .latency import Device, require_device
from .memory import DTYPES, effective, plan
from .metrics import METRICS
from .multipliers import fmt_alpha, input_resolution, parse_alpha, parse_depth
from .present import Printable
from .spec import ArchSpec, load_spec


@dataclass(slots=True, unsafe_hash=True)  # immutable by convention, as Layer is (core/graph.py says why)
class LayerResult:
    layer: Layer
    input_shapes: tuple[Shape, ...]  # one per layer.inputs, in order
    output_shape: Shape
    madds: int
    params: int
    latency_ms: float | None = None  # on a device's latency profile (analyze(device=…)), else None
    memory_bound: bool | None = None  # the profile's memory term is the larger
    # memory (docs/memory.md), in the convention's dtypes: bytes per activation element, the
    # parameters' bytes, and the activation bytes alive while this layer runs (its step's)
    act_bytes: int = 4
    weight_bytes: int = 0
    peak_activation_bytes: int = 0
    alive: tuple[str, ...] = ()  # the tensors alive while it runs, 'input' the network input

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def output_elements(self) -> int:
        h, w, c = self.output_shape
        return h * w * c

    @property
    def output_bytes(self) -> int:
        return self.output_elements * self.act_bytes

    @property
    def input_bytes(self) -> int:
        """All of its inputs (an add's two operands), whole; a ``like:`` reference moves nothing."""
        data = self.input_shapes[:len(self.input_shapes) - self.layer.shape_only]
        return sum(h * w * c for h, w, c in data) * self.act_bytes

    @property
    def input_shape(self) -> Shape:
        """The main input's shape (an add's first operand, a conv's only input)."""
        return self.input_shapes[0]


@dataclass(frozen=True)
class KindTotal:
    """One row of the V1 paper's Table 2: a layer type and its share of the totals."""

    type: str
    madds: int
    params: int
    madds_share: float
    params_share: float


@dataclass(frozen=True, repr=False)
class Report(Printable):
    architecture: str
    source: str
    alpha: Fraction
    resolution: tuple[int, int]
    convention: Convention
    graph: Graph
    layers: tuple[LayerResult, ...]
    depth: Fraction = Fraction(1)
    device: Device | None = None  # the latency profile the layers were timed with

    @property
    def latency_ms(self) -> float | None:
        """Σ of the layers' times on ``device`` (ms), or None without a device."""
        return None if self.device is None else sum(r.latency_ms for r in self.layers)

    @property
    def classes(self) -> int | None:
        """The class count the classifier was built with (the file's, or the convention's)."""
        return self.graph.classes

    @property
    def madds(self) -> int:
        return sum(r.madds for r in self.layers)

    @property
    def partial(self) -> bool:
        """True for an imported model with ops mbcost does not cost (kept by --allow-unknown):
        the totals leave them out."""
        return bool(self.graph.unknown)

    @property
    def module_params(self) -> int | None:
        """An imported model's parameters as its PyTorch module's Σ numel would be: the
        torchvision convention's count (biases, BN's γ and β), each BN the export folded into a
        conv unfolded again (its channel's bias one number, γ and β two); None if not imported."""
        stored = self.graph.stored
        if stored is None:
            return None
        from .conventions import PROFILES

        tv = self.params if self.convention == PROFILES["torchvision"] else \
            sum(r.params for r in run_graph(self.graph, PROFILES["torchvision"]))
        return tv + stored.folded_bn

    @property
    def not_costed(self) -> str:
        """The op types a partial result leaves out, with their node counts, most first:
        'Frobnicate ×3, Erf' (six types named at most, then how many more); '' if none."""
        from collections import Counter

        counts, most = Counter(self.graph.unknown).most_common(), 6
        text = ", ".join(f"{op} ×{n}" if n > 1 else op for op, n in counts[:most])
        return text + (f" and {len(counts) - most} more op types" if len(counts) > most else "")

    @property
    def weight_bytes(self) -> int:
        return sum(r.weight_bytes for r in self.layers)

    @property
    def peak_activation_bytes(self) -> int:
        """The largest live activation memory over the file's execution order."""
        return self.peak_layer.peak_activation_bytes if self.layers else 0

    @property
    def peak_layer(self) -> LayerResult:
        """The first layer where the peak occurs (the tensors alive there: ``.alive``)."""
        return max(self.layers, key=lambda r: r.peak_activation_bytes)

    def best_order(self):
        """The execution order of least peak found (:func:`mbcost.core.memory.best_order`),
        in elements of the activation dtype; ``.peak * act_bytes`` is its bytes."""
        from .memory import best_order

        return best_order(self.graph, self.tensor_elements(), self.convention.chunks)

    def tensor_elements(self) -> dict[str, int]:
        """Each tensor's elements as it is alive (chunked bottleneck tensors reduced)."""
        channels = {NETWORK_INPUT: self.graph.input_shape[2]}
        areas = {NETWORK_INPUT: self.graph.input_shape[0] * self.graph.input_shape[1]}
        for r in self.layers:  # each layer's tensor, and a split's parts (views of it)
            for t, c in [(r.name, r.output_shape[2])] + r.layer.outputs():
                channels[t], areas[t] = c, r.output_shape[0] * r.output_shape[1]
        eff = effective(channels, plan(self.graph, self.convention.chunks))
        return {t: areas[t] * eff[t] for t in areas}

    @property
    def params(self) -> int:
        return sum(r.params for r in self.layers)

    def total(self, metric: str) -> int:
        """The whole network's count of a metric of :data:`mbcost.core.metrics.METRICS`."""
        return METRICS[metric].of(self)

    def __repr__(self) -> str:
        return (f"<Report {self.architecture} α={fmt_alpha(self.alpha)} {self.resolution[0]}×"
                f"{self.resolution[1]}: {self.madds:,} mult-adds, {self.params:,} params, "
                f"{self.convention.describe(self.classes)}>")

    def by_kind(self) -> list[KindTotal]:
        madds: dict[str, int] = {}
        params: dict[str, int] = {}
        for r in self.layers:
            t = type_label(r.layer)
            madds[t] = madds.get(t, 0) + r.madds
            params[t] = params.get(t, 0) + r.params
        tm, tp = self.madds or 1, self.params or 1
        return [KindTotal(t, madds[t], params[t], madds[t] / tm, params[t] / tp) for t in madds]

    def __getitem__(self, name: str) -> LayerResult:
        for r in self.layers:
            if r.name == name:
                return r
        raise KeyError(name)


def run_graph(graph: Graph, convention: Convention = PAPER) -> tuple[LayerResult, ...]:
    """Walk the layers in order, inferring shapes and costing each with its kind's function."""
    shapes, costed = infer(graph, convention)
    return with_memory(graph, shapes, costed, convention)


def infer(graph: Graph, convention: Convention = PAPER) -> tuple[dict[str, Shape], list]:
    """Every tensor's shape ('input' the network's) and each layer's (layer, input shapes,
    Cost), in order: what the sweep needs, without the memory bookkeeping."""
    shapes: dict[str, Shape] = {NETWORK_INPUT: graph.input_shape}
    weights: dict[str, tuple[int, ...]] = {}  # each weighted layer's weight shape, for ``weights: NAME``
    out = []
    for layer in graph.layers:
        inputs = [shapes[n] for n in layer.inputs]
        try:
            cost = layer_cost(layer, inputs, convention, weights)
        except GraphError as exc:
            # the cost functions know the layer, not the file: name the row it came from, where
            # it is, and the layer, as spec errors do (file:line:col: layers[3]: layer conv4: …)
            if exc.field in (None, layer.name, "weights"):
                exc.field = graph.label(layer) + (".weights" if exc.field == "weights" else "")
                exc.message = f"layer {layer.name}: {exc.message}"
            if not str(exc.where):
                exc.where = graph.where(layer)
            raise
        shapes[layer.name] = cost.output_shape
        if layer.sizes:  # a split's parts are tensors of their own, in its layout
            for tensor, c in layer.outputs():
                shapes[tensor] = with_channels(cost.output_shape, c)
        out.append((layer, tuple(inputs), cost))
    return shapes, out


def with_memory(graph: Graph, shapes: dict[str, Shape], costed: list, convention: Convention
                ) -> tuple[LayerResult, ...]:
    """The layer results with their bytes: liveness in the file's order (core/memory.py)."""
    pl = plan(graph, convention.chunks)
    channels = {n: s[2] for n, s in shapes.items()}
    eff = effective(channels, pl)
    elements = {n: s[0] * s[1] * eff[n] for n, s in shapes.items()}
    a, w = DTYPES[convention.act_dtype], DTYPES[convention.weight_dtype]
    step_of = pl.step_of()
    live = [sum(elements[t] for t in s.alive) for s in pl.steps]
    return tuple(LayerResult(layer, inputs, cost.output_shape, cost.madds, cost.params, act_bytes=a,
                             weight_bytes=cost.params * w, peak_activation_bytes=live[step_of[layer.name]] * a,
                             alive=pl.steps[step_of[layer.name]].alive)
                 for layer, inputs, cost in costed)


# a torch.nn.Module → its ArchSpec (imported only when one is given: core never imports torch)
MODULE_READER = "mbcost.interop.torch_import"


def load(arch, *, allow_unknown: bool = False, output_stride: int | None = None, input=None) -> ArchSpec:
    """An architecture by built-in name, by path, by reference (``torchvision:NAME``,
    ``timm:NAME``, ``file.py:factory``), as a ``torch.nn.Module`` (``input``: its C×H×W, default
    its timm config's or 3×224×224) or as already loaded. ``allow_unknown``: an imported model's
    ops mbcost cannot cost are kept as zero-cost layers (the result says partial) instead of
    refused. ``output_stride`` (4, 8, 16, 32): DeepLab's — the strides that would take the map
    past it become dilation (docs/heads.md)."""
    if isinstance(arch, ArchSpec):
        spec = arch
    elif "torch" in sys.modules and not isinstance(arch, (str, os.PathLike)) \
            and importlib.import_module(MODULE_READER).is_module(arch):
        spec = importlib.import_module(MODULE_READER).read_module(arch, input, allow_unknown=allow_unknown)
    elif not isinstance(arch, (str, os.PathLike)) or isinstance(arch, bytes):
        raise UsageError(f"expected a built-in name (mobilenet_v2), a path to an architecture file, a "
                         f"torch.nn.Module or an ArchSpec, got "
                         f"{'None' if arch is None else 'a value of type ' + type(arch).__name__}", field="arch")
    else:
        if input is not None:
            raise UsageError("input= is the input size of a torch.nn.Module; an architecture file has its own "
                             "(give resolution=)", field="input")
        spec = load_spec(arch if isinstance(arch, str) else Path(arch), allow_unknown=allow_unknown)
    if output_stride is None:
        return spec
    from .spec import OUTPUT_STRIDES

    if isinstance(output_stride, bool) or output_stride not in OUTPUT_STRIDES:
        raise UsageError(f"expected one of {', '.join(map(str, OUTPUT_STRIDES))}, got {output_stride!r}",
                         field="output_stride")
    if spec.prebuilt is not None:
        raise UsageError(f"{spec.source} is an imported model: its strides are fixed", field="output_stride")
    return replace(spec, output_stride=output_stride)


def analyze(arch, alpha: float | str | Fraction | None = None,
            resolution: int | str | None = None, rho: float | str | Fraction | None = None,
            convention: Convention = PAPER, depth: float | str | Fraction | None = None,
            device: Device | None = None, input=None) -> Report:
    """Cost an architecture at width α, depth multiplier d and input resolution (or ρ) under a
    convention; α, d and the resolution default to the file's (a variant's) own. With a device
    profile, time each layer on it too (its profile in the convention's dtype).

    ``arch`` may be a ``torch.nn.Module``, with ``input`` its C×H×W (``analyze(net, input=(3, 224,
    224))``): PyTorch exports it and mbcost reads the export (docs/interop.md)."""
    convention = require_convention(convention)
    device = require_device(device)
    spec = load(arch, input=input)
    a = parse_alpha(alpha) if alpha is not None else (spec.alpha or Fraction(1))
    d = parse_depth(depth) if depth is not None else (spec.depth or Fraction(1))
    res = input_resolution(spec, resolution, rho)
    graph = expand(spec, a, res, classes=convention.classes, depth=d)
    layers = run_graph(graph, convention)
    if device is not None:
        device = device.at(convention)  # its profile in the convention's dtype, or a usage error
        layers = timed(layers, device)
    return Report(spec.name, spec.source, a, res, convention, graph, layers, depth=d, device=device)


def timed(layers: tuple[LayerResult, ...], device: Device) -> tuple[LayerResult, ...]:
    """The layers with their time and bound on ``device``."""
    return tuple(replace(r, latency_ms=device.layer_ms(r), memory_bound=device.memory_bound(r)) for r in layers)
