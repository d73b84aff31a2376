"""Putting it together: architecture + α + resolution + convention → per-layer costs.

``analyze`` is the library's front door (the CLI's ``report`` is a thin wrapper):

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v1", alpha=0.75)
    >>> r.madds, r.params
    (325400448, 2568144)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .conventions import PAPER, Convention, require_convention
from .ops import layer_cost
from ..errors import GraphError, UsageError
from .expand import expand
from .graph import NETWORK_INPUT, Graph, Layer, Shape
from .metrics import METRICS
from .multipliers import fmt_alpha, input_resolution, parse_alpha, parse_depth
from .present import Printable
from .spec import ArchSpec, load_spec


@dataclass(frozen=True)
class LayerResult:
    layer: Layer
    input_shapes: tuple[Shape, ...]  # one per layer.inputs, in order
    output_shape: Shape
    madds: int
    params: int

    @property
    def name(self) -> str:
        return self.layer.name

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

    @property
    def classes(self) -> int | None:
        """The class count the classifier was built with (the file's, or the convention's)."""
        return self.graph.classes

    @property
    def madds(self) -> int:
        return sum(r.madds for r in self.layers)

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
            t = r.layer.type_label
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
    shapes: dict[str, Shape] = {NETWORK_INPUT: graph.input_shape}
    out = []
    for layer in graph.layers:
        inputs = [shapes[n] for n in layer.inputs]
        try:
            cost = layer_cost(layer, inputs, convention)
        except GraphError as exc:
            # the cost functions know the layer, not the file: name the row it came from, where
            # it is, and the layer, as spec errors do (file:line:col: layers[3]: layer conv4: …)
            if exc.field in (None, layer.name):
                exc.field = graph.label(layer)
                exc.message = f"layer {layer.name}: {exc.message}"
            if not str(exc.where):
                exc.where = graph.where(layer)
            raise
        h, w, _ = cost.output_shape
        for tensor, c in layer.outputs():  # a split's parts are tensors of their own
            shapes[tensor] = (h, w, c) if tensor != layer.name else cost.output_shape
        out.append(LayerResult(layer, tuple(inputs), cost.output_shape, cost.madds, cost.params))
    return tuple(out)


def load(arch: str | Path | ArchSpec) -> ArchSpec:
    """An architecture by built-in name, by path, or as already loaded."""
    if isinstance(arch, ArchSpec):
        return arch
    if not isinstance(arch, (str, os.PathLike)) or isinstance(arch, bytes):
        raise UsageError(f"expected a built-in name (mobilenet_v2), a path to an architecture file or "
                         f"an ArchSpec, got {'None' if arch is None else 'a value of type ' + type(arch).__name__}",
                         field="arch")
    return load_spec(arch if isinstance(arch, str) else Path(arch))


def analyze(arch: str | Path | ArchSpec, alpha: float | str | Fraction | None = None,
            resolution: int | str | None = None, rho: float | str | Fraction | None = None,
            convention: Convention = PAPER, depth: float | str | Fraction | None = None) -> Report:
    """Cost an architecture at width α, depth multiplier d and input resolution (or ρ) under a
    convention. α, d and the resolution default to the file's (a variant's) own."""
    convention = require_convention(convention)
    spec = load(arch)
    a = parse_alpha(alpha) if alpha is not None else (spec.alpha or Fraction(1))
    d = parse_depth(depth) if depth is not None else (spec.depth or Fraction(1))
    res = input_resolution(spec, resolution, rho)
    graph = expand(spec, a, res, classes=convention.classes, depth=d)
    return Report(spec.name, spec.source, a, res, convention, graph, run_graph(graph, convention), depth=d)
