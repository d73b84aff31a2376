"""ONNX models read into mbcost's graph: ``mbcost report model.onnx`` and every other command.

:func:`read` walks the model's nodes in their (topological) order and turns each into layers
through ``IMPORTERS[op_type]``:

- ``Conv`` → conv (groups, dilations; a Conv with group = M and N a multiple of M is a dwconv
  with N / M its multiplier), its pads mapped to the 'same' or 'valid' rule that gives the
  model's own output size, else to the symmetric integer padding they are (a ``Pad`` before
  it is folded in); a bias input is the layer's bias — which is also what a BN folded into
  the conv by an eval-mode export leaves behind; ``ConvTranspose`` → deconv;
- ``Gemm`` and ``MatMul`` (+ an ``Add`` of a constant: its bias) → fc;
- ``BatchNormalization`` after a conv, deconv or fc → that layer's BN;
- ``Relu``, ``Clip(0, 6)`` (and ``Clip(0, ∞)``), ``HardSwish``, ``HardSigmoid``, ``Sigmoid``,
  ``Tanh``, ``LeakyRelu``, ``Gelu`` → the activation of the layer before, or a standalone act
  layer where it cannot fold (after a join, or on a tensor read elsewhere too);
- ``Add``/``Sum`` → add; ``Mul`` of a map by a 1×1×C gate or a map of its shape → mul;
  ``Concat`` along channels → concat; ``Split`` → split (outputs ``name.0``, ``name.1``…);
  ``Resize``/``Upsample`` → upsample; ``Flatten`` (unless an fc reads it) → flatten;
  ``Dropout`` → dropout;
- patterns fused first (:func:`_fuse`): x·Sigmoid(x) → swish, x·½·(1 + erf(x/√2)) → gelu,
  Reshape → Transpose → Reshape of a channel shuffle → shuffle;
- ``GlobalAveragePool``, ``GlobalMaxPool``, ``ReduceMean`` over H, W, ``AveragePool``,
  ``MaxPool`` (pads, ceil_mode) → pool;
- ``Reshape``, ``Squeeze``, ``Unsqueeze``, ``Identity`` and ``Softmax`` are free and leave the
  tensor as it was; ``Constant``, ``Shape`` and anything computed from constants only are
  not layers.

``NEEDS_KINDS`` lists the ops that need layer kinds mbcost does not have (the standalone
normalisations): like an op nobody knows, they make the import fail with exit 2, all
listed — never a silent zero. With
``allow_unknown`` (``--allow-unknown``) each becomes an 'opaque' layer of the model's
output shape that counts nothing, and every output marks the result partial.

Parameters are the layers' counts under the convention, which for every imported layer is
the size of the initializers it reads (weights; bias and BN as the convention counts them);
a weight initializer read by two layers is counted once (the second layer is ``shared``).
Shapes come from the model's value_info, completed by ``onnx.shape_inference``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable

from ..core.graph import NETWORK_INPUT, Graph, Layer
from ..core.spec import ArchSpec
from ..core.width import WidthRule
from ..errors import SpecError, UsageError, Where
from .onnx_check import MALFORMED, malformed, validate
from .onnx_export import require_onnx

@dataclass
class _Val:
    """A data tensor: the mbcost layer whose output it is, and a Pad still to fold."""

    layer: str
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, left, bottom, right


class _Cannot(Exception):
    """This node does not fit today's kinds; the message says what it needs."""


@dataclass
class _Reader:
    onnx: object
    model: object
    source: str
    shapes: dict[str, list] = field(default_factory=dict)
    consts: dict[str, object] = field(default_factory=dict)  # name → numpy value, or None
    init_dims: dict[str, tuple[int, ...]] = field(default_factory=dict)
    vals: dict[str, _Val] = field(default_factory=dict)
    layers: dict[str, dict] = field(default_factory=dict)  # name → Layer fields, mutable
    out_shape: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # layer → its tensors
    uses: Counter = field(default_factory=Counter)
    read_by: dict[str, set[str]] = field(default_factory=dict)  # tensor → the op types reading it
    passed: Counter = field(default_factory=Counter)
    weights_seen: set[str] = field(default_factory=set)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (op, node, why)
    unknown: list[str] = field(default_factory=list)
    index: int = 0

    # --- tensors ------------------------------------------------------------------------
    def hwc(self, tensor: str, node) -> tuple[int, int, int]:
        dims = self.shapes.get(tensor)
        if dims is None or any(not isinstance(d, int) or d < 1 for d in dims[1:]):
            raise _Cannot(f"the shape of {tensor!r} is not known (run onnx.shape_inference or "
                          "export with a fixed input size)")
        if len(dims) == 4:
            return dims[2], dims[3], dims[1]
        if len(dims) == 2:
            return 1, 1, dims[1]
        raise _Cannot(f"{tensor!r} is {len(dims)}-D; mbcost's layers take N×C×H×W maps")

    def data(self, tensor: str) -> _Val:
        if tensor not in self.vals:
            raise _Cannot(f"input {tensor!r} is a constant where mbcost expects a feature map")
        return self.vals[tensor]

    def const(self, tensor: str, node, what: str):
        if tensor not in self.consts:
            raise _Cannot(f"its {what} {tensor!r} is computed, not a constant")
        return self.consts[tensor]

    def value(self, tensor: str, node, what: str):
        v = self.const(tensor, node, what)
        if v is None:
            raise _Cannot(f"the value of its {what} {tensor!r} is not known")
        return v

    def dims(self, tensor: str, node, what: str) -> tuple[int, ...]:
        if tensor in self.init_dims:
            return self.init_dims[tensor]
        return tuple(self.value(tensor, node, what).shape)

    def alias(self, tensor: str, val: _Val) -> None:
        self.vals[tensor] = val
        self.aliases.setdefault(val.layer, []).append(tensor)

    def through(self, tensor: str, val: _Val) -> None:
        """A node passes a layer's output on unchanged (a view, a Pad, a folded BN or activation)."""
        self.passed[val.layer] += 1
        self.alias(tensor, val)

    def seen(self, initializer: str) -> bool:
        """True if an earlier layer already counts this initializer (exporters deduplicate equal
        tensors, such as the zero biases an untrained net's folded BNs leave)."""
        was = initializer in self.weights_seen
        self.weights_seen.add(initializer)
        return was

    def readers(self, layer: str) -> int:
        """Nodes reading the layer's output other than those that pass it on."""
        return sum(self.uses[t] for t in self.aliases.get(layer, [])) - self.passed[layer]

    # --- layers -------------------------------------------------------------------------
    def emit(self, node, kind: str, c: int, inputs: tuple[str, ...], out: tuple[int, int, int],
             **kw) -> str:
        name = node.name or node.output[0]
        while not name or name in self.layers or name == NETWORK_INPUT:
            name = f"{name or node.op_type}_"
        self.layers[name] = dict(name=name, kind=kind, c=c, inputs=inputs, row=self.index, **kw)
        self.out_shape[name] = out
        self.alias(node.output[0], _Val(name))
        return name

    def producer(self, tensor: str, node, kinds: tuple[str, ...], what: str) -> dict:
        """The layer a BN / activation / bias folds into: of those kinds, read only here."""
        v = self.data(tensor)
        layer = self.layers.get(v.layer)
        if layer is None or layer["kind"] not in kinds or any(v.pads):
            raise _Cannot(f"a {what} on {'the network input' if v.layer == NETWORK_INPUT else v.layer} "
                          f"needs a standalone layer kind")
        if self.readers(v.layer) != 1:
            raise _Cannot(f"a {what} on {v.layer}, whose output is also read elsewhere, needs a "
                          "standalone layer kind")
        return layer


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def _padding(r: _Reader, node, x: _Val, k, s, pads, auto_pad: str, d=(1, 1),
             ceil: bool = False) -> str | tuple[int, int]:
    """The layer's padding: 'same' or 'valid' where that rule gives the model's output size (the
    counts depend on the output size only), else the symmetric integer padding the pads are
    (PyTorch's rule, ceil_mode included); pads no rule gives are refused."""
    from ..core.spatial import spatial

    h, w, _ = r.hwc(node.input[0], node)
    h, w = h - x.pads[0] - x.pads[2], w - x.pads[1] - x.pads[3]  # the map before a folded Pad
    oh, ow, _ = r.hwc(node.output[0], node)
    total = [p + q for p, q in zip(pads, x.pads)]  # top, left, bottom, right

    def gives(padding) -> bool:
        probe = Layer(name=node.name or node.op_type, kind="conv", c=1, inputs=(), k=tuple(k), s=tuple(s),
                      d=tuple(d), padding=padding, ceil=ceil)
        try:
            return spatial(probe, (h, w, 1)) == (oh, ow)
        except Exception:  # a map that would shrink below 1×1
            return False

    if _text(auto_pad) in ("SAME_UPPER", "SAME_LOWER") or any(total) and gives("same"):
        if gives("same"):
            return "same"
    if not any(total) and gives("valid"):
        return "valid"
    if gives("same"):
        return "same"
    if total[0] == total[2] and total[1] == total[3] and gives((total[0], total[1])):
        return (total[0], total[1])
    raise _Cannot(f"pads {list(total)} give a {oh}×{ow} output from {h}×{w}, which neither 'same', "
                  "'valid' nor a symmetric integer padding does")


def _conv(r: _Reader, node) -> None:
    a = _attrs(node)
    x = r.data(node.input[0])
    n, mg, kh, kw = r.dims(node.input[1], node, "weight")
    d = tuple(a.get("dilations", [1, 1]))
    k, s, g = (kh, kw), tuple(a.get("strides", [1, 1])), a.get("group", 1)
    pads = a.get("pads", [0, 0, 0, 0])
    mode = _padding(r, node, x, k, s, (pads[0], pads[1], pads[2], pads[3]), a.get("auto_pad", "NOTSET"), d)
    m = r.hwc(node.input[0], node)[2]
    if mg * g != m:
        raise _Cannot(f"weight {node.input[1]!r} expects {mg * g} input channels, the input has {m}")
    shared = node.input[1] in r.weights_seen
    r.weights_seen.add(node.input[1])
    # a Conv with group = M and N a multiple of M is depthwise (N = M·multiplier)
    kind = "dwconv" if g == m and g > 1 and n % m == 0 else "conv"
    extra = dict(multiplier=n // m) if kind == "dwconv" else {}
    bias = len(node.input) > 2 and bool(node.input[2])
    r.emit(node, kind, n, (x.layer,), r.hwc(node.output[0], node), k=k, s=s, d=d, groups=g,
           padding=mode, bias=bias, shared=shared, shared_bias=bias and r.seen(node.input[2]), **extra)


def _deconv(r: _Reader, node) -> None:
    """ConvTranspose → deconv (weight M × N/groups × k × k; symmetric pads p, output_padding)."""
    a = _attrs(node)
    x = r.data(node.input[0])
    if any(x.pads):
        raise _Cannot("a Pad before a transposed conv")
    m, ng, kh, kw = r.dims(node.input[1], node, "weight")
    g = a.get("group", 1)
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if _text(a.get("auto_pad", "NOTSET")) not in ("NOTSET", "VALID") or pads[:2] != pads[2:]:
        raise _Cannot(f"pads {pads} are not the same before and after (PyTorch's ConvTranspose2d rule)")
    if r.hwc(node.input[0], node)[2] != m:
        raise _Cannot(f"weight {node.input[1]!r} expects {m} input channels")
    shared = node.input[1] in r.weights_seen
    r.weights_seen.add(node.input[1])
    bias = len(node.input) > 2 and bool(node.input[2])
    r.emit(node, "deconv", ng * g, (x.layer,), r.hwc(node.output[0], node), k=(kh, kw),
           s=tuple(a.get("strides", [1, 1])), d=tuple(a.get("dilations", [1, 1])), groups=g,
           padding=(pads[0], pads[1]), output_padding=tuple(a.get("output_padding", [0, 0])),
           bias=bias, shared=shared, shared_bias=bias and r.seen(node.input[2]))


def _fc(r: _Reader, node) -> None:
    a = _attrs(node)
    x = r.data(node.input[0])
    if node.op_type == "Gemm" and a.get("transA", 0):
        raise _Cannot("a Gemm with transA = 1 is not a fully connected layer")
    wd = r.dims(node.input[1], node, "weight")
    if len(wd) != 2:
        raise _Cannot(f"weight {node.input[1]!r} is {len(wd)}-D; an fc's is 2-D")
    n, k = (wd[0], wd[1]) if node.op_type == "Gemm" and a.get("transB", 0) else (wd[1], wd[0])
    h, w, m = r.out_shape.get(x.layer) or r.hwc(node.input[0], node)
    if h * w * m != k:
        raise _Cannot(f"its {k} inputs are not the flattened {h}×{w}×{m} map of {x.layer}")
    shared = node.input[1] in r.weights_seen
    r.weights_seen.add(node.input[1])
    bias = node.op_type == "Gemm" and len(node.input) > 2 and bool(node.input[2])
    r.emit(node, "fc", n, (x.layer,), (1, 1, n), bias=bias, shared=shared,
           shared_bias=bias and r.seen(node.input[2]))


def _bn(r: _Reader, node) -> None:
    layer = r.producer(node.input[0], node, ("conv", "dwconv", "deconv", "fc"), "BatchNormalization")
    if layer["bn"] if "bn" in layer else False:
        raise _Cannot(f"a second BatchNormalization on {layer['name']} needs a standalone normalisation kind")
    layer["bn"] = True
    r.through(node.output[0], r.data(node.input[0]))


# the kinds an activation folds into (their builders and exporters apply layer.act); after any
# other layer, or a layer whose output is read elsewhere too, it is a standalone act layer
FOLDS = ("conv", "dwconv", "deconv", "fc", "pool", "add")


def _act(name: str) -> Callable:
    def fold(r: _Reader, node) -> None:
        act = name
        if node.op_type == "Clip":
            a = _attrs(node)
            lo = a.get("min", None)
            hi = a.get("max", None)
            if len(node.input) > 1 and node.input[1]:
                lo = float(r.value(node.input[1], node, "min"))
            if len(node.input) > 2 and node.input[2]:
                hi = float(r.value(node.input[2], node, "max"))
            lo = 0.0 if lo is None else lo
            if lo == 0 and hi == 6:
                act = "relu6"
            elif lo == 0 and (hi is None or hi > 3.4e38):
                act = "relu"
            else:
                raise _Cannot(f"Clip({lo}, {hi}) is neither relu nor relu6")
        x = r.data(node.input[0])
        try:
            layer = r.producer(node.input[0], node, FOLDS, node.op_type)
            if layer.get("act", "linear") != "linear":
                raise _Cannot("a second activation")
        except _Cannot:
            if any(x.pads):
                raise _Cannot("an activation after a Pad") from None
            r.emit(node, "act", r.hwc(node.input[0], node)[2], (x.layer,), r.hwc(node.input[0], node), act=act)
            return
        layer["act"] = act
        r.through(node.output[0], x)

    return fold


def _mul(r: _Reader, node) -> None:
    """x · gate: a squeeze-excite gate (N×C×1×1) or a map of x's shape; either operand order."""
    if len(node.input) != 2 or not all(t in r.vals for t in node.input):
        raise _Cannot("a Mul by a constant is not a gate (a scale folds into the conv before it)")
    vals = [r.data(t) for t in node.input]
    shapes = [r.hwc(t, node) for t in node.input]
    if any(any(v.pads) for v in vals):
        raise _Cannot("a Pad before a Mul")
    order = (1, 0) if shapes[0][:2] == (1, 1) and shapes[1][:2] != (1, 1) else (0, 1)
    x, gate = (shapes[i] for i in order)
    if gate != x and gate != (1, 1, x[2]):
        raise _Cannot(f"multiplying maps of shapes {shapes} is not a gate")
    r.emit(node, "mul", x[2], tuple(vals[i].layer for i in order), x)


def _axis(node, rank: int = 4) -> int:
    return int(_attrs(node).get("axis", 0 if node.op_type != "Concat" else 1)) % rank


def _concat(r: _Reader, node) -> None:
    if not all(t in r.vals for t in node.input) or _axis(node) != 1:
        raise _Cannot("a Concat of constants, or not along channels")
    vals = [r.data(t) for t in node.input]
    shapes = [r.hwc(t, node) for t in node.input]
    if len({s[:2] for s in shapes}) != 1 or any(any(v.pads) for v in vals):
        raise _Cannot(f"concatenating maps of shapes {shapes}")
    r.emit(node, "concat", sum(s[2] for s in shapes), tuple(v.layer for v in vals),
           r.hwc(node.output[0], node))


def _split(r: _Reader, node) -> None:
    """Split along channels → split; the i-th output is the part ``name.i``."""
    x = r.data(node.input[0])
    shape = r.hwc(node.input[0], node)
    if _axis(node) != 1 or any(x.pads):
        raise _Cannot("a Split not along channels")
    a = _attrs(node)
    if len(node.input) > 1 and node.input[1]:
        sizes = [int(v) for v in r.value(node.input[1], node, "split")]
    elif "split" in a:
        sizes = [int(v) for v in a["split"]]
    else:
        sizes = [r.hwc(t, node)[2] for t in node.output]
    if sum(sizes) != shape[2] or len(sizes) != len(node.output):
        raise _Cannot(f"split sizes {sizes} of {shape[2]} channels")
    name = r.emit(node, "split", shape[2], (x.layer,), shape, sizes=tuple(sizes))
    for i, out in enumerate(node.output):
        r.alias(out, _Val(f"{name}.{i}"))


def _shuffle(r: _Reader, node) -> None:
    """The channel shuffle, fused by :func:`_fuse` from Reshape → Transpose → Reshape."""
    x = r.data(node.input[0])
    shape = r.hwc(node.input[0], node)
    r.emit(node, "shuffle", shape[2], (x.layer,), shape, groups=int(_attrs(node)["groups"]))


def _resize(r: _Reader, node) -> None:
    """Resize / Upsample → upsample: an integer factor where both axes scale by it, else the size."""
    x = r.data(node.input[0])
    h, w, c = r.hwc(node.input[0], node)
    oh, ow, oc = r.hwc(node.output[0], node)
    mode = _text(_attrs(node).get("mode", "nearest"))
    if mode not in ("nearest", "linear", "bilinear") or any(x.pads) or oc != c:
        raise _Cannot(f"a {mode} resize is not nearest or bilinear upsampling")
    kw = dict(up=oh // h) if oh % h == 0 and oh // h == ow // w and ow % w == 0 and oh > h else dict(size=(oh, ow))
    r.emit(node, "upsample", c, (x.layer,), (oh, ow, c), mode="nearest" if mode == "nearest" else "bilinear", **kw)


def _add(r: _Reader, node) -> None:
    data = [t for t in node.input if t in r.vals]
    if len(data) == 1 and len(node.input) == 2:  # a bias after MatMul (or a conv without one)
        const = next(t for t in node.input if t not in r.vals)
        layer = r.producer(data[0], node, ("fc", "conv"), "constant Add")
        n = 1
        for d in r.dims(const, node, "addend"):
            n *= d
        if layer.get("bias") or n != layer["c"]:
            raise _Cannot(f"adding a constant of {n} values to {layer['name']} is not its bias")
        layer["bias"] = True
        r.through(node.output[0], r.data(data[0]))
        return
    if len(data) != len(node.input) or len(data) < 2:
        raise _Cannot("an Add with a constant operand is not a residual join")
    vals = [r.data(t) for t in data]
    shapes = [r.hwc(t, node) for t in data]
    if len(set(shapes)) != 1 or any(any(v.pads) for v in vals):
        raise _Cannot(f"adding maps of shapes {shapes} needs broadcasting, which the add kind has not")
    r.emit(node, "add", shapes[0][2], tuple(v.layer for v in vals), shapes[0])


def _pool(op: str, glob: bool) -> Callable:
    def pool(r: _Reader, node) -> None:
        x = r.data(node.input[0])
        c = r.hwc(node.input[0], node)[2]
        a = _attrs(node)
        if node.op_type == "ReduceMean":
            axes = a.get("axes")
            if axes is None and len(node.input) > 1:
                axes = [int(v) for v in r.value(node.input[1], node, "axes")]
            if sorted(int(v) % 4 for v in (axes or [])) != [2, 3]:
                raise _Cannot(f"a ReduceMean over axes {axes} is not a global average pool")
        if glob:
            if any(x.pads):
                raise _Cannot("a Pad before a global pool")
            r.emit(node, "pool", c, (x.layer,), (1, 1, c), op=op, global_=True)
            return
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            raise _Cannot("a dilated pool (mbcost's pools take no dilation)")
        k = tuple(a["kernel_shape"])
        s = tuple(a.get("strides", [1, 1]))
        pads = a.get("pads", [0, 0, 0, 0])
        ceil = bool(a.get("ceil_mode", 0))
        mode = _padding(r, node, x, k, s, tuple(pads), a.get("auto_pad", "NOTSET"), ceil=ceil)
        r.emit(node, "pool", c, (x.layer,), r.hwc(node.output[0], node), k=k, s=s, op=op,
               padding=mode, ceil=ceil and mode != "same")

    return pool


def _view(r: _Reader, node) -> None:
    """Reshape, Flatten, Identity, Dropout…: the same values, so the same layer's output."""
    x = r.data(node.input[0])
    for out in node.output[:1]:
        r.through(out, x)


def _kept(kind: str) -> Callable:
    """Flatten → flatten, Dropout → dropout: free layers of their input's H×W×C (mbcost keeps
    a flattened map's shape for counting, as the fc after it reads it)."""
    def keep(r: _Reader, node) -> None:
        if kind == "flatten" and r.read_by.get(node.output[0], set()) <= {"Gemm", "MatMul"}:
            return _view(r, node)  # the flatten every fc does (mbcost's fc reads the map flattened)
        x = r.data(node.input[0])
        if any(x.pads):
            raise _Cannot(f"a Pad before a {node.op_type}")
        shape = r.out_shape.get(x.layer) or r.hwc(node.input[0], node)
        r.emit(node, kind, shape[2], (x.layer,), shape)
        for extra in node.output[1:]:  # Dropout's mask
            if extra:
                r.alias(extra, r.vals[node.output[0]])

    return keep


def _pad(r: _Reader, node) -> None:
    a = _attrs(node)
    x = r.data(node.input[0])
    if _text(a.get("mode", "constant")) != "constant":
        raise _Cannot(f"a {_text(a['mode'])} Pad is not zero padding")
    pads = a.get("pads")
    if pads is None:
        pads = [int(v) for v in r.value(node.input[1], node, "pads")]
    if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)) or any(p < 0 for p in pads):
        raise _Cannot(f"pads {list(pads)} do not pad H and W only")
    t, l, b, rt = pads[2], pads[3], pads[6], pads[7]
    r.through(node.output[0], replace(x, pads=(x.pads[0] + t, x.pads[1] + l, x.pads[2] + b, x.pads[3] + rt)))


def _needs(what: str) -> Callable:
    def fail(r: _Reader, node) -> None:
        raise _Cannot(f"needs {what}")

    return fail


IMPORTERS: dict[str, Callable[[_Reader, object], None]] = {
    "Conv": _conv,
    "ConvTranspose": _deconv,
    "Gemm": _fc,
    "MatMul": _fc,
    "BatchNormalization": _bn,
    "Relu": _act("relu"),
    "Clip": _act("relu6"),
    "HardSwish": _act("hswish"),
    "HardSigmoid": _act("hsigmoid"),  # any slope: activations are free, so the counts agree
    "Sigmoid": _act("sigmoid"),
    "Swish": _act("swish"),  # fused by _fuse from x·Sigmoid(x) (and opset 24's own op)
    "Gelu": _act("gelu"),  # opset 20's op, or fused by _fuse from x·½·(1 + erf(x/√2))
    "Tanh": _act("tanh"),
    "LeakyRelu": _act("leaky_relu"),
    "Add": _add,
    "Sum": _add,
    "Mul": _mul,
    "Concat": _concat,
    "Split": _split,
    "ChannelShuffle": _shuffle,  # fused by _fuse from Reshape → Transpose → Reshape
    "Resize": _resize,
    "Upsample": _resize,
    "GlobalAveragePool": _pool("avg", True),
    "GlobalMaxPool": _pool("max", True),
    "ReduceMean": _pool("avg", True),
    "AveragePool": _pool("avg", False),
    "MaxPool": _pool("max", False),
    "Pad": _pad,
    "Flatten": _kept("flatten"),
    "Dropout": _kept("dropout"),
    **{op: _view for op in ("Reshape", "Squeeze", "Unsqueeze", "Identity", "Softmax")},
}

# which mbcost kinds the importers above make, and from which ONNX ops (tests/test_kinds.py
# checks that every primitive kind is here or says why not; the cross-check tier round-trips
# each through an export)
KINDS_READ: dict[str, tuple[str, ...]] = {
    "conv": ("Conv",), "dwconv": ("Conv",), "deconv": ("ConvTranspose",), "fc": ("Gemm", "MatMul"),
    "pool": ("GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "AveragePool", "MaxPool"),
    "add": ("Add", "Sum"), "mul": ("Mul",), "concat": ("Concat",), "split": ("Split",),
    "shuffle": ("Reshape → Transpose → Reshape",), "upsample": ("Resize", "Upsample"),
    "act": ("Relu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "Tanh", "LeakyRelu", "Gelu"),
    "flatten": ("Flatten",), "dropout": ("Dropout",), "opaque": ("any op it cannot cost, with --allow-unknown",),
}

# ops that need layer kinds mbcost does not have: refused with what they need (or opaque with
# --allow-unknown), never costed as zero in silence
NEEDS_KINDS: dict[str, str] = {
    "LayerNormalization": "a standalone normalisation kind",
    "InstanceNormalization": "a standalone normalisation kind",
    "GroupNormalization": "a standalone normalisation kind",
}
IMPORTERS.update({op: _needs(what) for op, what in NEEDS_KINDS.items()})


def _shapes(model) -> dict[str, list]:
    import onnx

    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:  # a model shape inference cannot complete keeps the shapes it states
        pass
    out = {}
    for vi in list(model.graph.input) + list(model.graph.value_info) + list(model.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            out[vi.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
    return out


def read(path: str | Path, allow_unknown: bool = False) -> ArchSpec:
    """:func:`_read`, where an error a malformed model can still raise past the checks of
    :mod:`.onnx_check` (a value of the wrong type where the importer reads one) is one line
    and exit 2, as every malformed model is, never exit 3."""
    try:
        return _read(path, allow_unknown)
    except MALFORMED as exc:
        raise malformed(str(path), exc) from None


def _read(path: str | Path, allow_unknown: bool = False) -> ArchSpec:
    """An ONNX model as an architecture every command reads (its layers fixed: α must be 1).
    ``allow_unknown``: keep the ops mbcost cannot cost as 'opaque' layers that count nothing
    (the result is partial) instead of refusing the model."""
    onnx = require_onnx()
    from onnx import numpy_helper

    allow = allow_unknown
    source = str(path)
    try:
        model = onnx.load(str(path), load_external_data=False)  # never opened: onnx_check
    except FileNotFoundError:
        raise SpecError("no such file", where=Where(source)) from None
    except Exception as exc:
        raise SpecError(f"not a readable ONNX model ({type(exc).__name__}: {exc})",
                        where=Where(source)) from None
    model = validate(model, source)
    for _ in range(4):  # folding pads makes more shapes known, whose Shape nodes then fold
        folded = _fold_constants(model)
        if folded is model:
            break
        model = folded
    shapes = _shapes(model)
    model = _fuse(model, shapes)
    g = model.graph
    r = _Reader(onnx, model, source, shapes=shapes)
    for init in g.initializer:
        r.init_dims[init.name] = tuple(init.dims)
        r.consts[init.name] = numpy_helper.to_array(init) if _small(init.dims) else None
    inputs = [i for i in g.input if i.name not in r.consts]
    if len(inputs) != 1:
        raise SpecError(f"expected one input tensor, the model has {len(inputs)} "
                        f"({', '.join(i.name for i in inputs)})", where=Where(source))
    dims = r.shapes.get(inputs[0].name, [])
    if len(dims) != 4 or any(not isinstance(d, int) or d < 1 for d in dims[1:]):
        raise SpecError(f"the input {inputs[0].name!r} is {dims}, expected N×C×H×W with fixed C, H, W",
                        where=Where(source))
    c0, h0, w0 = dims[1], dims[2], dims[3]
    r.alias(inputs[0].name, _Val(NETWORK_INPUT))
    r.out_shape[NETWORK_INPUT] = (h0, w0, c0)
    for node in g.node:
        r.uses.update(t for t in node.input if t)
        for t in node.input:
            r.read_by.setdefault(t, set()).add(node.op_type)
    for r.index, node in enumerate(g.node):
        if not any(t in r.vals for t in node.input):  # Constant, Shape arithmetic on constants
            for out in node.output:
                r.consts[out] = _constant(node)
            continue
        if node.op_type == "Shape":
            r.consts[node.output[0]] = None
            continue
        try:
            if node.op_type not in IMPORTERS:
                raise _Cannot("unknown op")
            IMPORTERS[node.op_type](r, node)
        except _Cannot as why:
            r.problems.append((node.op_type, node.name or node.output[0], str(why)))
            try:  # kept as a layer either way, so every later problem is found and listed too
                _opaque(r, node)
            except SpecError:
                if allow:
                    raise
                first = next(r.vals[t] for t in node.input if t in r.vals)
                for out in node.output:
                    r.alias(out, first)
    if r.problems and not allow:
        raise SpecError(_problems(r.problems) + "; --allow-unknown costs the rest and marks the "
                        "result partial", where=Where(source))
    outs = [o.name for o in g.output]
    layers = tuple(Layer(**{k: v for k, v in L.items()}) for L in r.layers.values())
    if not layers:
        raise SpecError("the model has no layer mbcost costs", where=Where(source))
    fcs = [L.c for L in layers if L.kind == "fc"]
    unknown = tuple(p[0] for p in r.problems)
    name = Path(source).stem
    res0 = (h0, w0)
    last = r.vals[outs[0]].layer if outs and outs[0] in r.vals else layers[-1].name

    def prebuilt(alpha: Fraction, resolution, classes) -> Graph:
        if alpha != 1:
            raise UsageError(f"{source} is an ONNX model: its channel counts are fixed, so α must "
                             f"be 1 (got {alpha})", field="--alpha")
        res = resolution or res0
        if res != res0 and unknown:
            raise UsageError(f"{source} has ops mbcost does not cost, whose shapes are the model's: "
                             f"it is costed at its own {h0}×{w0} input only", field="--resolution")
        return Graph(name=name, source=source, alpha=Fraction(1), resolution=res,
                     input_shape=(res[0], res[1], c0), layers=layers,
                     classes=fcs[-1] if fcs else None, unknown=unknown)

    del last
    spec = ArchSpec(name=name, source=source, resolution=res0, in_channels=c0, scale_input=False,
                    classes=fcs[-1] if fcs else None, width=WidthRule(), batch_norm=False,
                    activation="linear", rows=(), title=g.name or name, prebuilt=prebuilt)
    _check_shapes(r, spec)
    return spec


def _fuse(model, shapes):
    """Rewrite the multi-node patterns exporters write for one mbcost layer into one node each:
    x·Sigmoid(x) → Swish (SiLU), x·½·(1 + Erf(x/√2)) → Gelu, and Reshape to N×g×C/g×H×W →
    Transpose(0, 2, 1, 3, 4) → Reshape back → ChannelShuffle(groups = g). The inner tensors must
    be read inside the pattern only; the fused node keeps the last node's name and output."""
    import numpy as np
    from onnx import helper, numpy_helper

    nodes = list(model.graph.node)
    made = {o: n for n in nodes for o in n.output}
    reads = Counter(t for n in nodes for t in n.input if t)
    consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if _small(i.dims)}

    def src(t, op):
        n = made.get(t)
        return n if n is not None and n.op_type == op and reads[t] == 1 else None

    def near(t, value):
        v = consts.get(t)
        return v is not None and v.size == 1 and abs(float(v.reshape(())) - value) < 1e-4

    drop, fused = set(), {}
    for n in nodes:
        if n.op_type != "Mul" or len(n.input) != 2:
            continue
        a, b = n.input
        for x, s in ((a, b), (b, a)):  # swish: Mul(x, Sigmoid(x))
            sig = src(s, "Sigmoid")
            if sig is not None and sig.input[0] == x:
                drop.add(id(sig))
                fused[id(n)] = helper.make_node("Swish", [x], list(n.output), name=n.name)
                break
        else:  # gelu: Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), ½)
            for t, half in ((a, b), (b, a)):
                inner = src(t, "Mul")
                if inner is None or not near(half, 0.5):
                    continue
                for x, u in (inner.input, inner.input[::-1]):
                    add = src(u, "Add")
                    if add is None:
                        continue
                    e, one = add.input if src(add.input[0], "Erf") else add.input[::-1]
                    erf = src(e, "Erf")
                    div = erf is not None and src(erf.input[0], "Div")
                    if near(one, 1) and div and div.input[0] == x and near(div.input[1], 2 ** 0.5):
                        drop.update(id(m) for m in (inner, add, erf, div))
                        fused[id(n)] = helper.make_node("Gelu", [x], list(n.output), name=n.name)
                        break
                if id(n) in fused:
                    break
    for n in nodes:  # shuffle: Reshape(Transpose(Reshape(x, N×g×C/g×H×W), 0 2 1 3 4), N×C×H×W)
        if n.op_type != "Reshape":
            continue
        t = src(n.input[0], "Transpose")
        first = t is not None and src(t.input[0], "Reshape")
        if not first or list(_attrs(t).get("perm", [])) != [0, 2, 1, 3, 4]:
            continue
        five, four = shapes.get(first.output[0]), shapes.get(n.output[0])
        if five is None or four is None or len(five) != 5 or four != shapes.get(first.input[0]):
            continue
        drop.update((id(t), id(first)))
        fused[id(n)] = helper.make_node("ChannelShuffle", [first.input[0]], list(n.output), name=n.name,
                                        groups=int(five[1]))
    if not fused:
        return model
    del np
    out = [fused.get(id(n), n) for n in nodes if id(n) not in drop]
    model = type(model).FromString(model.SerializeToString())
    del model.graph.node[:]
    model.graph.node.extend(out)
    return model


def _fold_constants(model):
    """Evaluate the nodes computed from constants only (an exporter's pad and shape arithmetic:
    Constant → Concat → Reshape → Cast …) with onnx's reference evaluator, and keep their
    values as initializers, so the pads are known and shape inference gets through."""
    import onnx
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    known = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if _small(i.dims)}
    weights = {i.name for i in model.graph.initializer}
    data = {i.name for i in model.graph.input if i.name not in weights}
    kept, folded = [], []
    static = _shapes(model)  # a Shape of a map whose size inference knows is a constant too
    for node in model.graph.node:
        ins = [t for t in node.input if t]
        dims = static.get(ins[0]) if node.op_type == "Shape" and ins else None
        if dims and all(isinstance(d, int) and d > 0 for d in dims):
            import numpy as np

            a = _attrs(node)
            value = np.array(dims, np.int64)[a.get("start", 0):a.get("end", len(dims))]
            known[node.output[0]] = value
            folded.append(numpy_helper.from_array(value, node.output[0]))
            continue
        if node.op_type in ("Shape", "Size") or any(t in data or (t not in known and t in weights)
                                                    or (t not in known) for t in ins):
            if any(t in data for t in ins) or node.op_type in ("Shape", "Size"):
                data.update(node.output)
            kept.append(node)
            continue
        try:
            outs = ReferenceEvaluator(node).run(None, {t: known[t] for t in ins})
        except Exception:  # not evaluable: left as it is
            kept.append(node)
            continue
        for name, value in zip(node.output, outs):
            known[name] = value
            folded.append(numpy_helper.from_array(value, name))
    if not folded:
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    del model.graph.node[:]
    model.graph.node.extend(kept)
    model.graph.initializer.extend(folded)
    return model


def _small(dims) -> bool:
    n = 1
    for d in dims:
        n *= d
    return n <= 64  # pads, axes, clip bounds, shapes: values the importer reads


def _constant(node):
    if node.op_type == "Constant" and node.attribute:
        from onnx import numpy_helper

        a = node.attribute[0]
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        import numpy as np

        if a.name in ("value_float", "value_int"):
            return np.array(a.f if a.name == "value_float" else a.i)
        if a.name in ("value_floats", "value_ints"):
            return np.array(list(a.floats) if a.name == "value_floats" else list(a.ints))
    return None


def _opaque(r: _Reader, node) -> None:
    """An op mbcost cannot cost, kept (``--allow-unknown``) as a layer of the model's output
    shape that counts nothing, so what follows it is still costed."""
    try:
        out = r.hwc(node.output[0], node)
    except _Cannot as why:
        raise SpecError(f"node {node.name or node.output[0]} ({node.op_type}): {why}",
                        where=Where(r.source)) from None
    inputs = tuple(dict.fromkeys(r.vals[t].layer for t in node.input if t in r.vals))
    r.emit(node, "opaque", out[2], inputs, out, k=(out[0], out[1]), op=node.op_type)
    for extra in node.output[1:]:
        if extra:
            r.alias(extra, r.vals[node.output[0]])


def _problems(problems) -> str:
    counts = Counter((op, why) for op, _, why in problems)
    parts = [f"{op} ×{n} ({why})" if n > 1 else f"{op} ({why}; node {next(p[1] for p in problems if p[0] == op)})"
             for (op, why), n in counts.items()]
    return f"{len(problems)} node{'s' if len(problems) > 1 else ''} mbcost cannot cost: " + ", ".join(parts)


def _check_shapes(r: _Reader, spec: ArchSpec) -> None:
    """The layers, costed by mbcost's own shape rules, must produce the model's shapes."""
    from ..core.engine import run_graph

    graph = spec.prebuilt(Fraction(1), None, None)
    for res in run_graph(graph):
        want = r.out_shape[res.name]
        if res.output_shape != want:
            raise SpecError(f"layer {res.name}: mbcost computes {res.output_shape}, the model "
                            f"states {want} (H×W×C)", where=Where(r.source))
