"""An architecture as an ONNX model, built with the ``onnx`` package alone (no torch).

``to_onnx(report)`` writes one ONNX node per mbcost layer, named exactly as the layer
(``block3.dw``), through ``EXPORTERS[kind]``; the BN and activation a layer carries follow
as nodes named ``<layer>/bn`` and ``<layer>/<act>``, and the layer's final tensor is named
after the layer, so Netron and ``mbcost report net.onnx`` show mbcost's names. 'same'
padding is written as the explicit (possibly asymmetric) pads TensorFlow uses at the
report's resolution. Weights are random (He-normal, fixed seed) so the model runs in
onnxruntime; BN keeps its four numbers per channel, as an exported training graph does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..core.engine import LayerResult, Report
from ..errors import UsageError
from . import pads_of

OPSET = 17  # what onnxruntime, Netron and the converters all read


def require_onnx():
    """The onnx package, or a one-line error naming the extra to install."""
    try:
        import onnx
    except ImportError:
        raise UsageError("ONNX support needs the onnx package: pip install 'mbcost[onnx]'") from None
    return onnx


@dataclass
class _Builder:
    """The graph being written: nodes, initializers and a seeded weight generator."""

    onnx: object
    nodes: list = field(default_factory=list)
    inits: list = field(default_factory=list)
    rng: object = None

    def weight(self, name: str, shape: tuple[int, ...], fan_in: int):
        import numpy as np

        w = self.rng.standard_normal(shape, dtype=np.float32) * np.float32((2.0 / max(fan_in, 1)) ** 0.5)
        return self.constant(name, w)

    def constant(self, name: str, value):
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs) -> str:
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


def _tail(b: _Builder, layer, x: str, n: int) -> str:
    """The layer's BN and activation after its main node; the last tensor is named after the layer."""
    import numpy as np

    steps = (["bn"] if layer.bn else []) + ([layer.act] if layer.act != "linear" else [])
    for i, step in enumerate(steps):
        out = layer.name if i == len(steps) - 1 else f"{layer.name}/{step}:0"
        if step == "bn":
            p = [b.constant(f"{layer.name}/bn.{k}", v) for k, v in (
                ("scale", np.ones(n, np.float32)), ("bias", np.zeros(n, np.float32)),
                ("mean", np.zeros(n, np.float32)), ("var", np.ones(n, np.float32)))]
            x = b.node("BatchNormalization", [x] + p, out, f"{layer.name}/bn")
        else:
            x = ACTIVATIONS[step](b, layer, x, out)
    return x


def _relu6(b: _Builder, layer, x: str, out: str) -> str:
    import numpy as np

    lo = b.constant(f"{layer.name}/relu6.min", np.array(0, np.float32))
    hi = b.constant(f"{layer.name}/relu6.max", np.array(6, np.float32))
    return b.node("Clip", [x, lo, hi], out, f"{layer.name}/relu6")


ACTIVATIONS: dict[str, Callable] = {
    "relu": lambda b, layer, x, out: b.node("Relu", [x], out, f"{layer.name}/relu"),
    "relu6": _relu6,
}


def _main_out(layer) -> str:
    """The main node's output: the layer's own name unless a BN or activation follows."""
    return f"{layer.name}:0" if layer.bn or layer.act != "linear" else layer.name


def _pads(layer, shape) -> list[int]:
    (t, bot), (l, r) = pads_of(layer, shape)
    return [t, l, bot, r]  # ONNX: begins of every axis, then ends


def _conv(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer, m = r.layer, r.input_shape[2]
    kh, kw = layer.k
    inputs = [x[0], b.weight(f"{layer.name}.weight", (layer.c, m // layer.groups, kh, kw),
                             kh * kw * m // layer.groups)]
    if layer.bias:
        import numpy as np

        inputs.append(b.constant(f"{layer.name}.bias", np.zeros(layer.c, np.float32)))
    y = b.node("Conv", inputs, _main_out(layer), layer.name, kernel_shape=list(layer.k),
               strides=list(layer.s), pads=_pads(layer, r.input_shape), group=layer.groups)
    return _tail(b, layer, y, layer.c)


def _fc(b: _Builder, r: LayerResult, x: list[str]) -> str:
    import numpy as np

    layer = r.layer
    h, w, m = r.input_shape
    flat = b.node("Flatten", [x[0]], f"{layer.name}/flatten:0", f"{layer.name}/flatten", axis=1)
    inputs = [flat, b.weight(f"{layer.name}.weight", (layer.c, h * w * m), h * w * m)]
    if layer.bias:
        inputs.append(b.constant(f"{layer.name}.bias", np.zeros(layer.c, np.float32)))
    y = b.node("Gemm", inputs, _main_out(layer), layer.name, transB=1)
    return _tail(b, layer, y, layer.c)


def _pool(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer = r.layer
    op = {"avg": "AveragePool", "max": "MaxPool"}[layer.op]
    if layer.global_:
        y = b.node(f"Global{op}", x[:1], _main_out(layer), layer.name)
    else:  # ONNX's AveragePool leaves the pads out of each mean, as TensorFlow does
        y = b.node(op, x[:1], _main_out(layer), layer.name, kernel_shape=list(layer.k),
                   strides=list(layer.s), pads=_pads(layer, r.input_shape))
    return _tail(b, layer, y, layer.c)


def _add(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer = r.layer
    y = b.node("Add" if len(x) == 2 else "Sum", x, _main_out(layer), layer.name)
    return _tail(b, layer, y, layer.c)


# kind → (builder, the layer costed at its input shapes, its input tensors) → its output tensor.
# One entry per primitive kind of core/ops.py.
EXPORTERS: dict[str, Callable[[_Builder, LayerResult, list[str]], str]] = {
    "conv": _conv,
    "dwconv": _conv,  # a Conv with group = M
    "fc": _fc,
    "pool": _pool,
    "add": _add,
}


def _nchw(shape) -> list[int]:
    h, w, c = shape
    return [1, c, h, w]


def to_onnx(report: Report, seed: int = 0):
    """The ONNX ``ModelProto`` of a report's graph (N = 1, NCHW, float32), checked by onnx.checker."""
    onnx = require_onnx()
    import numpy as np
    from onnx import TensorProto, helper

    b = _Builder(onnx, rng=np.random.default_rng(seed))
    tensor = {"input": "input"}
    for r in report.layers:
        if r.layer.kind not in EXPORTERS:
            raise UsageError(f"layer {r.layer.name}: mbcost cannot export a {r.layer.kind!r} layer "
                             f"to ONNX yet (it exports {', '.join(EXPORTERS)})")
        tensor[r.name] = EXPORTERS[r.layer.kind](b, r, [tensor[i] for i in r.layer.inputs])
    last = report.layers[-1]
    out_shape = [1, last.output_shape[2]] if last.layer.kind == "fc" else _nchw(last.output_shape)
    graph = helper.make_graph(
        b.nodes, report.architecture,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, _nchw(report.graph.input_shape))],
        [helper.make_tensor_value_info(tensor[last.name], TensorProto.FLOAT, out_shape)],
        initializer=b.inits)
    model = helper.make_model(graph, producer_name="mbcost",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # the IR of opset 17, so older runtimes open it too
    model.doc_string = f"{report.architecture} at α = {report.alpha}, {report.resolution[0]}×" \
                       f"{report.resolution[1]} input, built by mbcost"
    onnx.checker.check_model(model, full_check=True)
    return model
