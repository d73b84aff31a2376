"""An architecture as an ONNX model, built with the ``onnx`` package alone (no torch).

``to_onnx(report)`` writes one ONNX node per mbcost layer, named exactly as the layer
(``block3.dw``), through ``EXPORTERS[kind]``; the BN and activation a layer carries follow
as nodes named ``<layer>/bn`` and ``<layer>/<act>``, and the layer's final tensor is named
after the layer, so Netron and ``mbcost report net.onnx`` show mbcost's names. 'same'
padding is written as the explicit (possibly asymmetric) pads TensorFlow uses at the
report's resolution. Weights are random (He-normal, fixed seed) so the model runs in
onnxruntime; BN keeps its four numbers per channel, as an exported training graph does.

Tensors are laid out as :mod:`mbcost.interop.torch` lays them out, at N = 1: a map 1×C×H×W,
S sequences of T tokens S×T×C, attention scores S×heads×T_q×T_kv. The transformer-era kinds
are written as ``torch.onnx.export`` writes their modules: LayerNormalization (over the last
axis; on a map between two Transposes, ConvNeXt's channels-last norm), a group norm as
Reshape → InstanceNormalization → Reshape → Mul γ → Add β, Softmax, a linear as MatMul + Add
(on a map between Transposes), attention's heads as Reshape and Transpose around a MatMul of
two activations (Q scaled by 1/√d), a class token as a Concat of an initializer, position
embeddings and attention biases (a Gather of the table) as an Add of initializers, layer
scale as a Mul. Each layer's main node — the one the importer names the layer after — has
its name; the nodes around it are ``<layer>/…``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..core.engine import LayerResult, Report
from ..core.graph import Scores, Tokens, with_channels
from ..core.kinds.tokens import tiled
from ..errors import UsageError
from . import handle, pads_of, unfolded_patch

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
    producers: dict = field(default_factory=dict)  # layer name → layer (a map's patch)

    def weight(self, name: str, shape: tuple[int, ...], fan_in: int):
        import numpy as np

        w = self.rng.standard_normal(shape, dtype=np.float32) * np.float32((2.0 / max(fan_in, 1)) ** 0.5)
        return self.constant(name, w)

    def constant(self, name: str, value):
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def fixed(self, name: str, value):
        """A Constant node, not an initializer: a value of the graph, not a learned parameter
        (a non-affine norm's 1 and 0, as torch.onnx.export writes them)."""
        from onnx import numpy_helper

        return self.node("Constant", [], name, f"{name.split(':')[0]}", value=numpy_helper.from_array(value, name))

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs) -> str:
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


def _tail(b: _Builder, layer, x: str, n: int, tokens: bool = False) -> str:
    """The layer's BN and activation after its main node; the last tensor is named after the
    layer. A BN of tokens (S×T×C) normalises their channels, axis 1 between two Transposes.
    A batch norm on its own is the layer's main node, and takes the layer's name."""
    import numpy as np

    bn_node = layer.name if layer.kind == "batchnorm" else f"{layer.name}/bn"
    steps = (["bn"] if layer.bn else []) + ([layer.act] if layer.act != "linear" else [])
    for i, step in enumerate(steps):
        out = layer.name if i == len(steps) - 1 else f"{layer.name}/{step}:0"
        if step == "bn":
            p = [b.constant(f"{layer.name}/bn.{k}", v) for k, v in (
                ("scale", np.ones(n, np.float32)), ("bias", np.zeros(n, np.float32)),
                ("mean", np.zeros(n, np.float32)), ("var", np.ones(n, np.float32)))]
            if tokens:
                x = b.node("Transpose", [x], f"{layer.name}/bn_in:0", f"{layer.name}/bn_in", perm=[0, 2, 1])
                y = b.node("BatchNormalization", [x] + p, f"{layer.name}/bn:0", bn_node)
                x = b.node("Transpose", [y], out, f"{layer.name}/bn_out", perm=[0, 2, 1])
                continue
            x = b.node("BatchNormalization", [x] + p, out, bn_node)
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
    flat = b.node("Flatten", [x[0]], f"{layer.name}/flatten:0", f"{layer.name}/flatten", axis=_flat_axis(r))
    inputs = [flat, b.weight(f"{layer.name}.weight", (layer.c, h * w * m), h * w * m)] + _bias(b, layer)
    y = b.node("Gemm", inputs, _main_out(layer), layer.name, transB=1)
    return _tail(b, layer, y, layer.c)


def _flat_axis(r: LayerResult) -> int:
    """Flatten's axis: 1 for a map's 1×C×H×W, 0 for S sequences of tokens (one vector per image)."""
    return 0 if isinstance(r.input_shape, Tokens) else 1


def _pool(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer = r.layer
    if isinstance(r.input_shape, Tokens):
        return _token_pool(b, r, x)
    op = {"avg": "AveragePool", "max": "MaxPool"}[layer.op]
    if layer.global_:
        y = b.node(f"Global{op}", x[:1], _main_out(layer), layer.name)
    else:  # 'same' is TF's, which leaves the pads out of each mean; an integer padding PyTorch's,
        # which counts them (count_include_pad), as nn.AvgPool2d does by default
        kw = dict(count_include_pad=1) if layer.op == "avg" and isinstance(layer.padding, tuple) else {}
        y = b.node(op, x[:1], _main_out(layer), layer.name, kernel_shape=list(layer.k),
                   strides=list(layer.s), pads=_pads(layer, r.input_shape), ceil_mode=int(layer.ceil), **kw)
    return _tail(b, layer, y, layer.c)


def _token_pool(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """A sequence pooled into a 1×C×1×1 vector: ReduceMean or ReduceMax over every token, or
    (``op: token``) a Gather of the first (ViT's class token); S sequences are one S·T first."""
    import numpy as np

    layer, (t, seqs, c) = r.layer, r.input_shape
    name = layer.name
    if layer.op == "token":
        src = x[0] if seqs == 1 else b.node("Reshape", [x[0], _ints(b, f"{name}.tokens", (1, t * seqs, c))],
                                            f"{name}/tokens:0", f"{name}/tokens")
        y = b.node("Gather", [src, b.constant(f"{name}.first", np.array(0, np.int64))], f"{name}:0", name, axis=1)
    else:  # opset 17: the axes are an attribute
        y = b.node("ReduceMax" if layer.op == "max" else "ReduceMean", [x[0]], f"{name}:0", name, axes=[0, 1],
                   keepdims=1)
    y = b.node("Reshape", [y, _ints(b, f"{name}.shape", (1, c, 1, 1))], _main_out(layer), f"{name}/reshape")
    return _tail(b, layer, y, layer.c)


def _add(b: _Builder, r: LayerResult, x: list[str]) -> str:
    layer = r.layer
    y = b.node("Add" if len(x) == 2 else "Sum", x, _main_out(layer), layer.name)
    return _tail(b, layer, y, layer.c)


def _sub(b: _Builder, r: LayerResult, x: list[str]) -> str:
    return b.node("Sub", x, r.layer.name, r.layer.name)


def _batchnorm(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """A batch norm on its own: the layer's tail (BN, then its activation) on its input."""
    return _tail(b, r.layer, x[0], r.input_shape[2], tokens=isinstance(r.input_shape, Tokens))


def _ints(b: _Builder, name: str, values) -> str:
    import numpy as np

    return b.constant(name, np.array(list(values), np.int64))


def _split(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """Split along channels into the parts ``name.0``, ``name.1``, … (the layer's own tensor
    is its input, as in the torch build)."""
    layer = r.layer
    parts = [t for t, _ in layer.outputs()]
    b.nodes.append(b.onnx.helper.make_node("Split", [x[0], _ints(b, f"{layer.name}.split", layer.sizes)],
                                           parts, name=layer.name, axis=_axis(r.input_shape)))
    return x[0]


def _shuffle(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """ShuffleNet's channel shuffle as every exporter writes it: Reshape to N×g×C/g×H×W,
    Transpose the two channel axes, Reshape back (tokens: S×T×g×C/g)."""
    layer, (h, w, c) = r.layer, r.input_shape
    g = layer.groups
    if isinstance(r.input_shape, Tokens):
        t = b.node("Reshape", [x[0], _ints(b, f"{layer.name}.split_shape", (w, h, g, c // g))],
                   f"{layer.name}/reshape:0", f"{layer.name}/reshape")
        t = b.node("Transpose", [t], f"{layer.name}/transpose:0", f"{layer.name}/transpose", perm=[0, 1, 3, 2])
        return b.node("Reshape", [t, _ints(b, f"{layer.name}.shape", (w, h, c))], layer.name, layer.name)
    t = b.node("Reshape", [x[0], _ints(b, f"{layer.name}.split_shape", (1, g, c // g, h, w))],
               f"{layer.name}/reshape:0", f"{layer.name}/reshape")
    t = b.node("Transpose", [t], f"{layer.name}/transpose:0", f"{layer.name}/transpose", perm=[0, 2, 1, 3, 4])
    return b.node("Reshape", [t, _ints(b, f"{layer.name}.shape", (1, c, h, w))], layer.name, layer.name)


def _upsample(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """Resize as nn.Upsample exports: nearest with PyTorch's floor of asymmetric coordinates,
    bilinear as 'linear' with align_corners = False (pytorch_half_pixel)."""
    import numpy as np

    layer, (h, w, c) = r.layer, r.output_shape
    kw = _resize_mode(layer.mode)
    if layer.size or layer.shape_only:  # a like: reference gives its sizes as numbers
        ins = [x[0], "", "", _ints(b, f"{layer.name}.sizes", (1, c, h, w))]
    else:
        ins = [x[0], "", b.constant(f"{layer.name}.scales", np.array([1, 1, layer.up, layer.up], np.float32))]
    return b.node("Resize", ins, layer.name, layer.name, **kw)


def _resize_mode(mode: str) -> dict:
    """Resize's attributes for F.interpolate's ``mode`` as torch exports it."""
    if mode == "bilinear":
        return dict(mode="linear", coordinate_transformation_mode="pytorch_half_pixel")
    return dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def _resized(b: _Builder, x: str, c: int, size, mode: str, out: str, node: str) -> str:
    """A map resized to H×W = ``size`` (MobileViT's resize to and from multiples of the patch)."""
    return b.node("Resize", [x, "", "", _ints(b, f"{node}.sizes", (1, c, *size))], out, node, **_resize_mode(mode))


def _one(op: str, **attrs) -> Callable:
    def export(b: _Builder, r: LayerResult, x: list[str]) -> str:
        return b.node(op, x, r.layer.name, r.layer.name, **attrs)

    return export


# --- tokens, norms and attention ---------------------------------------------------------------

def dims(shape, flat: bool = False) -> list[int]:
    """The ONNX dims of a tensor of mbcost ``shape`` at N = 1: 1×C×H×W, S×T×C of tokens,
    S×heads×T_q×T_kv of scores, 1×(H·W·C) flattened."""
    if flat:
        h, w, c = shape
        return [1, h * w * c]
    if isinstance(shape, Scores):
        rows, nkv, heads = shape
        seqs = _seqs(shape.query)
        return [seqs, heads, rows // seqs, nkv]
    if isinstance(shape, Tokens):
        t, seqs, c = shape
        return [seqs, t, c]
    return _nchw(shape)


def _seqs(shape) -> int:
    return shape[1] if isinstance(shape, Tokens) else 1


def _axis(shape) -> int:
    """The channels' axis: 1 of a map (and of the scores' heads), 2 of tokens."""
    return 2 if isinstance(shape, Tokens) else 1


def _on_channels(b: _Builder, name: str, x: str, shape, inner, out: str) -> str:
    """``inner(tensor, its output name)`` on the last axis: tokens' channels, or a map's in its
    channels-last view, Transpose → inner → Transpose (ConvNeXt's LayerNorm and Linear)."""
    if isinstance(shape, Tokens):
        return inner(x, out)
    t = b.node("Transpose", [x], f"{name}/to_last:0", f"{name}/to_last", perm=[0, 2, 3, 1])
    y = inner(t, f"{name}/last:0")
    return b.node("Transpose", [y], out, f"{name}/to_first", perm=[0, 3, 1, 2])


def _linear(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """MatMul by the M×N weight (+ Add of the bias), on tokens' last axis or a map's channels."""
    import numpy as np

    layer, m = r.layer, r.input_shape[2]

    def core(t: str, out: str) -> str:
        w = b.weight(f"{layer.name}.weight", (m, layer.c), m)
        if not layer.bias:
            return b.node("MatMul", [t, w], out, layer.name)
        y = b.node("MatMul", [t, w], f"{layer.name}/matmul:0", layer.name)
        return b.node("Add", [y, b.constant(f"{layer.name}.bias", np.zeros(layer.c, np.float32))], out,
                      f"{layer.name}/bias")

    y = _on_channels(b, layer.name, x[0], r.input_shape, core, _main_out(layer))
    return _tail(b, layer, y, layer.c, tokens=isinstance(r.input_shape, Tokens))


def _layernorm(b: _Builder, r: LayerResult, x: list[str]) -> str:
    import numpy as np

    layer, c = r.layer, r.input_shape[2]
    if layer.affine:
        p = [b.constant(f"{layer.name}.weight", np.ones(c, np.float32)),
             b.constant(f"{layer.name}.bias", np.zeros(c, np.float32))]
    else:
        p = [b.fixed(f"{layer.name}/one:0", np.ones(c, np.float32)), b.fixed(f"{layer.name}/zero:0", np.zeros(c, np.float32))]

    def core(t: str, out: str) -> str:
        return b.node("LayerNormalization", [t] + p, out, layer.name, axis=-1, epsilon=1e-6)

    return _on_channels(b, layer.name, x[0], r.input_shape, core, layer.name)


def _groupnorm(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """As torch.onnx.export writes nn.GroupNorm: Reshape to 1×G×…, InstanceNormalization with a
    fixed 1 and 0 per group, Reshape back, then Mul γ and Add β per channel. Tokens are
    normalised channels-first, between two Transposes."""
    import numpy as np

    layer, shape = r.layer, r.input_shape
    name, c, g = layer.name, shape[2], layer.groups
    tokens = isinstance(shape, Tokens)
    full = [shape[1], c, shape[0]] if tokens else _nchw(shape)
    per = (c,) + (1,) * (len(full) - 2)
    steps = [("Transpose", [], dict(perm=[0, 2, 1]), "to_first")] if tokens else []
    steps += [("Reshape", [_ints(b, f"{name}.groups", (full[0], g, -1))], {}, "groups"),
              ("InstanceNormalization", [b.fixed(f"{name}/one:0", np.ones(g, np.float32)),
                                         b.fixed(f"{name}/zero:0", np.zeros(g, np.float32))], dict(epsilon=1e-5), ""),
              ("Reshape", [_ints(b, f"{name}.shape", full)], {}, "ungroup")]
    if layer.affine:
        steps += [("Mul", [b.constant(f"{name}.weight", np.ones(per, np.float32))], {}, "scale"),
                  ("Add", [b.constant(f"{name}.bias", np.zeros(per, np.float32))], {}, "shift")]
    if tokens:
        steps.append(("Transpose", [], dict(perm=[0, 2, 1]), "to_last"))
    y = x[0]
    for i, (op, extra, attrs, part) in enumerate(steps):  # the InstanceNormalization is the main node
        node = f"{name}/{part}" if part else name
        y = b.node(op, [y] + extra, name if i == len(steps) - 1 else f"{node}:0", node, **attrs)
    return y


def _layerscale(b: _Builder, r: LayerResult, x: list[str]) -> str:
    import numpy as np

    shape = r.input_shape
    per = (shape[2],) if isinstance(shape, Tokens) else (shape[2], 1, 1)
    return b.node("Mul", [x[0], b.constant(f"{r.layer.name}.gamma", np.full(per, 1e-6, np.float32))],
                  r.layer.name, r.layer.name)


def _heads(b: _Builder, name: str, x: str, shape, heads: int, keys: bool = False) -> str:
    """A map or tokens as S×heads×positions×d (``keys``: S×heads×d×positions, Kᵀ)."""
    seqs, c = _seqs(shape), shape[2]
    n = shape[0] if isinstance(shape, Tokens) else shape[0] * shape[1]
    if isinstance(shape, Tokens):
        y = b.node("Reshape", [x, _ints(b, f"{name}.heads", (seqs, n, heads, c // heads))], f"{name}/heads:0",
                   f"{name}/heads")
        return b.node("Transpose", [y], f"{name}/t:0", f"{name}/t", perm=[0, 2, 3, 1] if keys else [0, 2, 1, 3])
    y = b.node("Reshape", [x, _ints(b, f"{name}.heads", (1, heads, c // heads, n))], f"{name}/heads:0", f"{name}/heads")
    return y if keys else b.node("Transpose", [y], f"{name}/t:0", f"{name}/t", perm=[0, 1, 3, 2])


def _matmul(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """Q·Kᵀ: the heads of Q (scaled by 1/√d) times those of Kᵀ; A·V: the scores times the heads
    of V, back in the query's layout. One K/V head broadcasts over the query heads."""
    import numpy as np

    layer, (a, v) = r.layer, r.input_shapes
    name, h = layer.name, layer.heads
    if layer.op == "av":
        hv = v[2] * h // layer.c
        y = b.node("MatMul", [x[0], _heads(b, f"{name}/v", x[1], v, hv)], f"{name}:0", name)
        q = a.query
        if isinstance(q, Tokens):
            y = b.node("Transpose", [y], f"{name}/t:0", f"{name}/t", perm=[0, 2, 1, 3])
            return b.node("Reshape", [y, _ints(b, f"{name}.shape", (q[1], q[0], layer.c))], name, f"{name}/merge")
        y = b.node("Transpose", [y], f"{name}/t:0", f"{name}/t", perm=[0, 1, 3, 2])
        return b.node("Reshape", [y, _ints(b, f"{name}.shape", (1, layer.c, q[0], q[1]))], name, f"{name}/merge")
    d = a[2] // h
    q = b.node("Mul", [_heads(b, f"{name}/q", x[0], a, h), _scalar(b, f"{name}.scale", d ** -0.5)],
               f"{name}/scale:0", f"{name}/scale")
    k = _heads(b, f"{name}/k", x[1], v, v[2] // d, keys=True)
    return b.node("MatMul", [q, k], name, name)


def _attn_bias(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """The table (heads × offsets) gathered at each (query, key) pair's offset, |i − j| mod
    offsets as in the torch build, added to the scores."""
    import numpy as np

    layer, (rows, nkv, heads) = r.layer, r.input_shape
    nq = rows // _seqs(r.input_shape.query)
    table = b.constant(f"{layer.name}.table", np.zeros((heads, layer.extra), np.float32))
    index = np.abs(np.arange(nq)[:, None] - np.arange(nkv)[None, :]) % layer.extra
    bias = b.node("Gather", [table, b.constant(f"{layer.name}.index", index.astype(np.int64))],
                  f"{layer.name}/gather:0", f"{layer.name}/gather", axis=1)
    return b.node("Add", [x[0], bias], layer.name, layer.name)


def _tokens(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """A map as tokens: Reshape to 1×C×(H·W), Transpose to 1×(H·W)×C; MobileViT's unfolding:
    C×(H/p_h)×p_h×(W/p_w)×p_w, transposed to p_h×p_w×(H/p_h)×(W/p_w)×C, as (p_h·p_w)×T×C."""
    layer, (h, w, c) = r.layer, r.input_shape
    name, (ph, pw) = layer.name, layer.k
    x = list(x)
    if (h % ph or w % pw) and layer.mode:  # resized up to the next multiples of the patch first
        h, w = tiled(h, w, layer.k)
        x[0] = _resized(b, x[0], c, (h, w), layer.mode, f"{name}/resize:0", f"{name}/resize")
    if ph * pw == 1:
        y = b.node("Reshape", [x[0], _ints(b, f"{name}.flat", (1, c, h * w))], f"{name}/flat:0", f"{name}/flat")
        return b.node("Transpose", [y], name, name, perm=[0, 2, 1])
    y = b.node("Reshape", [x[0], _ints(b, f"{name}.patches", (c, h // ph, ph, w // pw, pw))], f"{name}/patches:0",
               f"{name}/patches")
    y = b.node("Transpose", [y], f"{name}/t:0", f"{name}/t", perm=[2, 4, 1, 3, 0])
    return b.node("Reshape", [y, _ints(b, f"{name}.shape", (ph * pw, h // ph * (w // pw), c))], name, name)


def _map(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """Tokens back as a 1×C×H×W map: the inverse of :func:`_tokens` with the patch they were
    unfolded with."""
    layer, (t, seqs, c) = r.layer, r.input_shape
    name, (h, w, _) = layer.name, r.output_shape
    ph, pw = unfolded_patch(layer, b.producers, seqs, (h, w))
    size = (h, w)
    if layer.mode:  # folded at the next multiples of the patch, then resized back down to H×W
        h, w = tiled(h, w, (ph, pw))
    if seqs == 1:
        y = b.node("Transpose", [x[0]], f"{name}/t:0", f"{name}/t", perm=[0, 2, 1])
    else:
        y = b.node("Reshape", [x[0], _ints(b, f"{name}.patches", (ph, pw, h // ph, w // pw, c))],
                   f"{name}/patches:0", f"{name}/patches")
        y = b.node("Transpose", [y], f"{name}/t:0", f"{name}/t", perm=[4, 2, 0, 3, 1])
    if (h, w) == size:
        return b.node("Reshape", [y, _ints(b, f"{name}.shape", (1, c, h, w))], name, name)
    # the fold is the layer's main node (its name), the Resize writes its tensor
    y = b.node("Reshape", [y, _ints(b, f"{name}.shape", (1, c, h, w))], f"{name}/fold:0", name)
    return _resized(b, y, c, size, layer.mode, name, f"{name}/resize")


def _cls_token(b: _Builder, r: LayerResult, x: list[str]) -> str:
    import numpy as np

    layer = r.layer
    tokens = b.constant(f"{layer.name}.tokens", np.zeros((1, layer.extra, r.input_shape[2]), np.float32))
    return b.node("Concat", [tokens, x[0]], layer.name, layer.name, axis=1)


def _pos_embed(b: _Builder, r: LayerResult, x: list[str]) -> str:
    import numpy as np

    e = b.constant(f"{r.layer.name}.embedding", np.zeros(dims(r.input_shape), np.float32))
    return b.node("Add", [x[0], e], r.layer.name, r.layer.name)


def _mul(b: _Builder, r: LayerResult, x: list[str]) -> str:
    """x · gate; a 1×1×C map gate on tokens is 1×1×C, broadcast over every token."""
    xs, gate = r.input_shapes
    g = x[1]
    if isinstance(xs, Tokens) and not isinstance(gate, Tokens) and gate != xs:
        g = b.node("Reshape", [g, _ints(b, f"{r.layer.name}.gate", (1, 1, xs[2]))], f"{r.layer.name}/gate:0",
                   f"{r.layer.name}/gate")
    return b.node("Mul", [x[0], g], r.layer.name, r.layer.name)


def _by_axis(op: str) -> Callable:
    """An op along the channels' axis of its input's layout (Concat)."""
    def export(b: _Builder, r: LayerResult, x: list[str]) -> str:
        return b.node(op, x, r.layer.name, r.layer.name, axis=_axis(r.input_shape))

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
    "sub": _sub,
    "batchnorm": _batchnorm,
    "concat": _by_axis("Concat"),
    "mul": _mul,  # a 1×1×C gate broadcasts as N×C×1×1
    "split": _split,
    "shuffle": _shuffle,
    "upsample": _upsample,
    "act": lambda b, r, x: ACTIVATIONS[r.layer.act](b, r.layer.name, x[0], r.layer.name),
    "flatten": lambda b, r, x: b.node("Flatten", x, r.layer.name, r.layer.name, axis=_flat_axis(r)),
    "dropout": _one("Dropout"),  # the identity at inference
    "linear": _linear,
    "layernorm": _layernorm,
    "groupnorm": _groupnorm,
    "layerscale": _layerscale,
    "softmax": lambda b, r, x: b.node("Softmax", x, r.layer.name, r.layer.name,
                                      axis=-1 if isinstance(r.input_shape, (Tokens, Scores)) else 1),
    "matmul": _matmul,
    "attn_bias": _attn_bias,
    "tokens": _tokens,
    "map": lambda b, r, x: _map(b, r, x[:1]),
    "cls_token": _cls_token,
    "pos_embed": _pos_embed,
}

# kinds whose output is N×(H·W·C), not N×C×H×W; element-wise kinds keep their inputs' layout
# (EfficientFormer's logits are the mean of two fc heads: an add of two flat tensors)
FLAT = {"fc", "flatten"}
ELEMENTWISE = {"act", "dropout", "add", "sub", "mul"}


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

    b = _Builder(onnx, rng=np.random.default_rng(seed), producers={L.name: L for L in report.graph.layers})
    tensor = {"input": "input"}
    flat = {"input": False}
    shape = {"input": report.graph.input_shape}
    for r, exporter in zip(report.layers, exporters):
        layer = r.layer
        tensor[r.name] = exporter(b, r, [tensor[i] for i in layer.inputs])
        flat[r.name] = layer.kind in FLAT or layer.kind in ELEMENTWISE and all(flat[i] for i in layer.inputs)
        shape[r.name] = r.output_shape
        for part, c in layer.outputs()[1 if not layer.sizes else 0:]:
            tensor[part], flat[part], shape[part] = part, False, with_channels(r.output_shape, c)

    def value_info(name):
        return helper.make_tensor_value_info(tensor[name], TensorProto.FLOAT, dims(shape[name], flat[name]))

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
