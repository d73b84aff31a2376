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
from . import handle, pads_of

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
            x = ACTIVATIONS[step](b, f"{layer.name}/{step}", x, out)
    return x


def _scalar(b: _Builder, name: str, value: float) -> str:
    import numpy as np

    return b.constant(name, np.array(value, np.float32))


def _relu6(b: _Builder, node: str, x: str, out: str) -> str:
    return b.node("Clip", [x, _scalar(b, f"{node}.min", 0), _scalar(b, f"{node}.max", 6)], out, node)


def _swish(b: _Builder, node: str, x: str, out: str) -> str:
    """x·σ(x), as torch.onnx.export writes SiLU (ONNX has no Swish op before opset 24)."""
    s = b.node("Sigmoid", [x], f"{node}/sigmoid:0", f"{node}/sigmoid")
    return b.node("Mul", [x, s], out, node)


def _gelu(b: _Builder, node: str, x: str, out: str) -> str:
    """x·½·(1 + erf(x/√2)), the exact GELU, decomposed as torch.onnx.export writes it below
    opset 20 (which adds a Gelu op); the importer reads this pattern and the op."""
    t = b.node("Div", [x, _scalar(b, f"{node}.sqrt2", 2 ** 0.5)], f"{node}/div:0", f"{node}/div")
    t = b.node("Erf", [t], f"{node}/erf:0", f"{node}/erf")
    t = b.node("Add", [t, _scalar(b, f"{node}.one", 1)], f"{node}/add:0", f"{node}/add")
    t = b.node("Mul", [x, t], f"{node}/mul:0", f"{node}/mul")
    return b.node("Mul", [t, _scalar(b, f"{node}.half", 0.5)], out, node)


# activation → (builder, the name of its last node, input, output tensor) → output tensor:
# each as PyTorch's module exports (HardSigmoid with PyTorch's slope 1/6, not ONNX's 0.2;
# LeakyRelu with PyTorch's 0.01)
ACTIVATIONS: dict[str, Callable] = {
    "relu": lambda b, node, x, out: b.node("Relu", [x], out, node),
    "relu6": _relu6,
    "hswish": lambda b, node, x, out: b.node("HardSwish", [x], out, node),
    "hsigmoid": lambda b, node, x, out: b.node("HardSigmoid", [x], out, node, alpha=1 / 6, beta=0.5),
    "sigmoid": lambda b, node, x, out: b.node("Sigmoid", [x], out, node),
    "swish": _swish,
    "gelu": _gelu,
    "tanh": lambda b, node, x, out: b.node("Tanh", [x], out, node),
    "leaky_relu": lambda b, node, x, out: b.node("LeakyRelu", [x], out, node, alpha=0.01),
}


def _main_out(layer) -> str:
    """The main node's output: the layer's own name unless a BN or activation follows."""
    return f"{layer.name}:0" if layer.bn or layer.act != "linear" else layer.name


def _pads(layer, shape) -> list[int]:
    (t, bot), (l, r) = pads_of(layer, shape)
    return [t, l, bot, r]  # ONNX: begins of every axis, then ends


def _bias(b: _Builder, layer) -> list[str]:
    import numpy as np

    return [b.constant(f"{layer.name}.bias", np.zeros(layer.c, np.float32))] if layer.bias else []


def _conv(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer, m = r.layer, r.input_shape[2]
    kh, kw = layer.k
    inputs = [x[0], b.weight(f"{layer.name}.weight", (layer.c, m // layer.groups, kh, kw),
                             kh * kw * m // layer.groups)] + _bias(b, layer)
    y = b.node("Conv", inputs, _main_out(layer), layer.name, kernel_shape=list(layer.k),
               strides=list(layer.s), dilations=list(layer.d), pads=_pads(layer, r.input_shape),
               group=layer.groups)
    return _tail(b, layer, y, layer.c)


def _deconv(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """ConvTranspose: weight M × N/groups × k × k (ONNX's and PyTorch's layout), pads p each side."""
    layer, m = r.layer, r.input_shape[2]
    kh, kw = layer.k
    ph, pw = layer.padding if isinstance(layer.padding, tuple) else (0, 0)
    inputs = [x[0], b.weight(f"{layer.name}.weight", (m, layer.c // layer.groups, kh, kw),
                             kh * kw * layer.c // layer.groups)] + _bias(b, layer)
    y = b.node("ConvTranspose", inputs, _main_out(layer), layer.name, kernel_shape=list(layer.k),
               strides=list(layer.s), dilations=list(layer.d), pads=[ph, pw, ph, pw],
               output_padding=list(layer.output_padding), group=layer.groups)
    return _tail(b, layer, y, layer.c)


def _fc(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer = r.layer
    h, w, m = r.input_shape
    flat = b.node("Flatten", [x[0]], f"{layer.name}/flatten:0", f"{layer.name}/flatten", axis=1)
    inputs = [flat, b.weight(f"{layer.name}.weight", (layer.c, h * w * m), h * w * m)] + _bias(b, layer)
    y = b.node("Gemm", inputs, _main_out(layer), layer.name, transB=1)
    return _tail(b, layer, y, layer.c)


def _pool(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer = r.layer
    op = {"avg": "AveragePool", "max": "MaxPool"}[layer.op]
    if layer.global_:
        y = b.node(f"Global{op}", x[:1], _main_out(layer), layer.name)
    else:  # 'same' is TF's, which leaves the pads out of each mean; an integer padding PyTorch's,
        # which counts them (count_include_pad), as nn.AvgPool2d does by default
        kw = dict(count_include_pad=1) if layer.op == "avg" and isinstance(layer.padding, tuple) else {}
        y = b.node(op, x[:1], _main_out(layer), layer.name, kernel_shape=list(layer.k),
                   strides=list(layer.s), pads=_pads(layer, r.input_shape), ceil_mode=int(layer.ceil), **kw)
    return _tail(b, layer, y, layer.c)


def _add(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer = r.layer
    y = b.node("Add" if len(x) == 2 else "Sum", x, _main_out(layer), layer.name)
    return _tail(b, layer, y, layer.c)


def _ints(b: _Builder, name: str, values) -> str:
    import numpy as np

    return b.constant(name, np.array(list(values), np.int64))


def _split(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """Split along channels into the parts ``name.0``, ``name.1``, … (the layer's own tensor
    is its input, as in the torch build)."""
    layer = r.layer
    parts = [t for t, _ in layer.outputs()]
    b.nodes.append(b.onnx.helper.make_node("Split", [x[0], _ints(b, f"{layer.name}.split", layer.sizes)],
                                           parts, name=layer.name, axis=1))
    return x[0]


def _shuffle(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """ShuffleNet's channel shuffle as every exporter writes it: Reshape to N×g×C/g×H×W,
    Transpose the two channel axes, Reshape back."""
    layer, (h, w, c) = r.layer, r.input_shape
    g = layer.groups
    t = b.node("Reshape", [x[0], _ints(b, f"{layer.name}.split_shape", (1, g, c // g, h, w))],
               f"{layer.name}/reshape:0", f"{layer.name}/reshape")
    t = b.node("Transpose", [t], f"{layer.name}/transpose:0", f"{layer.name}/transpose", perm=[0, 2, 1, 3, 4])
    return b.node("Reshape", [t, _ints(b, f"{layer.name}.shape", (1, c, h, w))], layer.name, layer.name)


def _upsample(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """Resize as nn.Upsample exports: nearest with PyTorch's floor of asymmetric coordinates,
    bilinear as 'linear' with align_corners = False (pytorch_half_pixel)."""
    import numpy as np

    layer, (h, w, c) = r.layer, r.output_shape
    if layer.mode == "bilinear":
        kw = dict(mode="linear", coordinate_transformation_mode="pytorch_half_pixel")
    else:
        kw = dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    if layer.size:
        ins = [x[0], "", "", _ints(b, f"{layer.name}.sizes", (1, c, h, w))]
    else:
        ins = [x[0], "", b.constant(f"{layer.name}.scales", np.array([1, 1, layer.up, layer.up], np.float32))]
    return b.node("Resize", ins, layer.name, layer.name, **kw)


def _one(op: str, **attrs) -> Callable:
    def export(b: _Builder, r: LayerResult, x: list[str]) -> str:
        return b.node(op, x, r.layer.name, r.layer.name, **attrs)

    return export


# kind → (builder, the layer costed at its input shapes, its input tensors) → its output tensor:
# one handle per primitive kind of mbcost.core.kinds (or a reason in the kind's ``unsupported``).
EXPORTERS: dict[str, Callable[[_Builder, LayerResult, list[str]], str]] = {
    "conv": _conv,
    "dwconv": _conv,  # a Conv with group = M (N = M·multiplier)
    "deconv": _deconv,
    "fc": _fc,
    "pool": _pool,
    "add": _add,
    "concat": _one("Concat", axis=1),
    "mul": _one("Mul"),  # a 1×1×C gate broadcasts as N×C×1×1
    "split": _split,
    "shuffle": _shuffle,
    "upsample": _upsample,
    "act": lambda b, r, x: ACTIVATIONS[r.layer.act](b, r.layer.name, x[0], r.layer.name),
    "flatten": _one("Flatten", axis=1),
    "dropout": _one("Dropout"),  # the identity at inference
}

# kinds whose output is N×(H·W·C), not N×C×H×W; act and dropout keep their input's layout
FLAT = {"fc", "flatten"}


def _nchw(shape) -> list[int]:
    h, w, c = shape
    return [1, c, h, w]


MAX_MODEL_BYTES = 2**31 - 2**24  # protobuf's 2 GiB, less room for the graph: an ONNX file's limit


def _fits(report: Report) -> None:
    """Refuse before allocating a model no ONNX file can hold: --alpha 64 asked for a 56 GB
    model, whose weights were allocated (gigabytes) before protobuf refused to write them. The
    weights are at most the counted parameters plus, per layer, a BN's four vectors and a bias
    (5·c), in fp32."""
    values = report.params + 5 * sum(r.layer.c for r in report.layers)
    if 4 * values > MAX_MODEL_BYTES:
        raise UsageError(f"the model's weights would be about {4 * values / 2**30:,.1f} GiB in fp32, past the "
                         f"{MAX_MODEL_BYTES / 2**30:.2f} GiB an ONNX file holds (protobuf's limit): export a "
                         "smaller α or resolution", field="--alpha")


def to_onnx(report: Report, seed: int = 0):
    """The ONNX ``ModelProto`` of a report's graph (N = 1, NCHW, float32), checked by onnx.checker."""
    exporters = [handle(EXPORTERS, r.layer.kind, "onnx_export", "mbcost export") for r in report.layers]
    _fits(report)
    onnx = require_onnx()
    import numpy as np
    from onnx import TensorProto, helper

    b = _Builder(onnx, rng=np.random.default_rng(seed))
    tensor = {"input": "input"}
    flat = {"input": False}
    shape = {"input": report.graph.input_shape}
    for r, exporter in zip(report.layers, exporters):
        layer = r.layer
        tensor[r.name] = exporter(b, r, [tensor[i] for i in layer.inputs])
        flat[r.name] = layer.kind in FLAT or layer.kind in ("act", "dropout") and flat[layer.inputs[0]]
        shape[r.name] = r.output_shape
        for part, c in layer.outputs()[1 if not layer.sizes else 0:]:
            tensor[part], flat[part], shape[part] = part, False, (*r.output_shape[:2], c)

    def value_info(name):
        h, w, c = shape[name]
        dims = [1, h * w * c] if flat[name] else _nchw(shape[name])
        return helper.make_tensor_value_info(tensor[name], TensorProto.FLOAT, dims)

    outputs = report.graph.outputs or (report.layers[-1].name,)
    graph = helper.make_graph(
        b.nodes, report.architecture,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, _nchw(report.graph.input_shape))],
        [value_info(name) for name in outputs], initializer=b.inits)
    model = helper.make_model(graph, producer_name="mbcost",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # the IR of opset 17, so older runtimes open it too
    model.doc_string = f"{report.architecture} at α = {report.alpha}, {report.resolution[0]}×" \
                       f"{report.resolution[1]} input, built by mbcost"
    onnx.checker.check_model(model, full_check=True)
    return model
