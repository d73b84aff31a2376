"""Putting it together: architecture + α + resolution + convention → per-layer costs.

``analyze`` is the library's front door (the CLI's ``report`` is a thin wrapper):

    >>> import mbcost
    >>> r = mbcost.analyze("mobilenet_v1", alpha=0.75)
    >>> r.madds, r.params
    (325400448, 2568144)
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .conventions import PAPER, Convention
from .ops import layer_cost
from ..errors import GraphError
from .expand import expand
from .graph import NETWORK_INPUT, Graph, Layer, Shape
from .multipliers import input_resolution, parse_alpha
from .spec import ArchSpec, load_spec


@dataclass(frozen=True)
class LayerResult:
    layer: Layer
    input_shape: Shape
    output_shape: Shape
    madds: int
    params: int

    @property
    def name(self) -> str:
        return self.layer.name


@dataclass(frozen=True)
class KindTotal:
    """One row of the V1 paper's Table 2: a layer type and its share of the totals."""

    type: str
    madds: int
    params: int
    madds_share: float
    params_share: float


@dataclass(frozen=True)
class Report:
    architecture: str
    source: str
    alpha: Fraction
    resolution: tuple[int, int]
    convention: Convention
    graph: Graph
    layers: tuple[LayerResult, ...]

    @property
    def madds(self) -> int:
        return sum(r.madds for r in self.layers)

    @property
    def params(self) -> int:
        return sum(r.params for r in self.layers)

    def by_kind(self) -> list[KindTotal]:
        madds: dict[str, int] = {}
        params: dict[str, int] = {}
        for r in self.layers:
            t = layer_type(r.layer)
            madds[t] = madds.get(t, 0) + r.madds
            params[t] = params.get(t, 0) + r.params
        tm, tp = self.madds or 1, self.params or 1
        return [KindTotal(t, madds[t], params[t], madds[t] / tm, params[t] / tp) for t in madds]

    def __getitem__(self, name: str) -> LayerResult:
        for r in self.layers:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_frame(self):
        """One row per layer as a pandas DataFrame (columns: mbcost.render.sweep.report_frame).
        pandas is imported here, never by ``import mbcost``."""
        from ..render.sweep import report_frame

        return report_frame(self)


def layer_type(layer: Layer) -> str:
    """The paper's name for a layer type: 'Conv 1×1', 'Conv DW 3×3', 'Fully Connected'…"""
    k = "×".join(map(str, layer.k)) if layer.k[0] != layer.k[1] else f"{layer.k[0]}×{layer.k[0]}"
    if layer.kind == "conv":
        return f"Conv {k}" + (f" (groups {layer.groups})" if layer.groups > 1 else "")
    if layer.kind == "dwconv":
        return f"Conv DW {k}"
    return {"fc": "Fully Connected", "pool": "Pool", "add": "Add"}.get(layer.kind, layer.kind)


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
                exc.field = f"layers[{layer.row}]"
                exc.message = f"layer {layer.name}: {exc.message}"
            if not str(exc.where):
                exc.where = graph.where(layer)
            raise
        shapes[layer.name] = cost.output_shape
        out.append(LayerResult(layer, inputs[0], cost.output_shape, cost.madds, cost.params))
    return tuple(out)


def load(arch: str | Path | ArchSpec) -> ArchSpec:
    """An architecture by built-in name, by path, or as already loaded."""
    return arch if isinstance(arch, ArchSpec) else load_spec(arch)


def analyze(arch: str | Path | ArchSpec, alpha: float | str | Fraction = 1,
            resolution: int | str | None = None, rho: float | str | Fraction | None = None,
            convention: Convention = PAPER) -> Report:
    """Cost an architecture at width α and input resolution (or ρ) under a convention."""
    spec = load(arch)
    a = parse_alpha(alpha)
    res = input_resolution(spec, resolution, rho)
    graph = expand(spec, a, res, classes=convention.classes)
    return Report(spec.name, spec.source, a, res, convention, graph, run_graph(graph, convention))
