"""ONNX models read into mbcost's graph: ``mbcost report model.onnx`` and every other command.

:func:`read` walks the model's nodes in their (topological) order and turns each into layers
through ``IMPORTERS[op_type]``:

- ``Conv`` → conv (groups, dilations; a Conv with group = M and N a multiple of M is a dwconv
  with N / M its multiplier), its pads mapped to the 'same' or 'valid' rule that gives the
  model's own output size, else to the symmetric integer padding they are (a ``Pad`` before
  it is folded in); a bias input is the layer's bias — which is also what a BN folded into
  the conv by an eval-mode export leaves behind; ``ConvTranspose`` → deconv;
- ``Gemm`` and ``MatMul`` by a weight (+ an ``Add`` of a constant: its bias) → linear where
  they multiply the channels of every token or pixel (nn.Linear on a sequence, on a
  channels-last map, or as a 2-D Gemm of the tokens), fc where they multiply a flattened map;
- ``MatMul`` of two activations → matmul: Q·Kᵀ of the heads the Reshape and Transpose around
  it make (h query heads, one K/V head shared by all or h), then A·V of its scores; a scale by
  a constant on Q, K or the scores (attention's 1/√d, torch's √(1/√d) on each of Q and Kᵀ) is
  part of the product, as mbcost's attention counts it;
- ``Softmax`` → softmax: costed (its per-element work), never free;
- ``LayerNormalization`` (also between the Transposes of a channels-last norm on a map, and the
  ReduceMean/Sub/Pow/Sqrt/Div form older exporters write) → layernorm; ``GroupNormalization``,
  the Reshape → InstanceNormalization → Reshape → Mul → Add that torch writes for it, and
  ``InstanceNormalization`` → groupnorm (affine when γ is a parameter, an initializer);
- ``BatchNormalization`` after a conv, deconv, fc or linear → that layer's BN; after a Concat of
  such layers (MixNet's mixed-kernel convs) → each one's BN; after anything else (a join, a
  tensor read elsewhere too: DenseNet's) → a ``batchnorm`` layer;
- ``Relu``, ``Clip(0, 6)`` (and ``Clip(0, ∞)``), ``HardSwish``, ``HardSigmoid``, ``Sigmoid``,
  ``Tanh``, ``LeakyRelu``, ``Gelu`` → the activation of the layer before, or a standalone act
  layer where it cannot fold (after a join, or on a tensor read elsewhere too);
- ``Add``/``Sum`` → add; an ``Add`` of a parameter of every position's channels → pos_embed,
  of a table to attention scores → attn_bias; ``Mul`` of a map by a 1×1×C gate or a map of its
  shape → mul, by a parameter of C → layerscale; ``Concat`` along channels → concat, of
  parameter tokens before a sequence → cls_token; ``Split``, a ``Slice`` or ``Gather`` of
  channels (q, k, v of a fused projection) → split (outputs ``name.0``, ``name.1``…);
  ``Resize``/``Upsample`` → upsample; ``Flatten`` (unless an fc reads it) → flatten;
  ``Dropout`` → dropout;
- patterns fused first (:func:`~mbcost.interop.onnx_rewrite.fuse`): x·Sigmoid(x) → swish, x·½·(1 + erf(x/√2)) and
  x·½·(1 + tanh(√(2/π)·(x + 0.044715·x³))) → gelu, Reshape → Transpose → Reshape of a channel
  shuffle → shuffle, and the norms' decompositions above;
- ``GlobalAveragePool``, ``GlobalMaxPool``, ``ReduceMean``/``ReduceMax`` over every position
  (a map's H, W or a sequence's tokens), ``AveragePool``, ``MaxPool`` (pads, ceil_mode) → pool;
  a ``Gather`` of the first token (ViT's class token) → a token pool;
- ``Reshape``, ``Transpose``, ``Squeeze``, ``Unsqueeze`` and ``Identity`` change how a tensor is
  laid out, not its values, and cost nothing: the importer follows each tensor's layout
  (:mod:`mbcost.interop.axes`), and where one makes a map's positions a sequence of tokens
  (S×T×C) it is a ``tokens`` layer, where one makes tokens an N×C×H×W map a ``map`` layer.
  ``Constant``, ``Shape`` and anything computed from constants only are not layers.

An op none of these read makes the import fail with exit 2, all such ops listed — never a
silent zero. With ``allow_unknown`` (``--allow-unknown``) each becomes an 'opaque' layer of
the model's output shape that counts nothing, and every output marks the result partial.

Parameters are the layers' counts under the convention, which for every imported layer is
the size of the initializers it reads (weights; bias and BN as the convention counts them; a
norm's γ and β, a layer scale, a class token, a position embedding and an attention bias
table when they are initializers — the file's parameters — and not values of the graph);
a weight initializer read by two layers is counted once (the second layer is ``shared``).
Shapes come from the model's value_info, completed by ``onnx.shape_inference``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from math import prod
from pathlib import Path
from typing import Callable

from ..core.graph import NETWORK_INPUT, Graph, Layer, Scores, Shape, Stored, Tokens, with_channels
from ..core.kinds.tokens import tiled
from ..core.spec import ArchSpec
from ..core.width import WidthRule
from ..errors import GraphError, SpecError, UsageError, Where
from . import axes as ax
from .onnx_check import MALFORMED, malformed, validate
from .onnx_export import require_onnx
from .onnx_file import load as load_file
from .onnx_rewrite import (FOLD_BUDGET, FoldTooLarge, attrs as _attrs, constant_value, fold_constants, fuse, infer_shapes, origins,
                           strip_weights, value_of)


@dataclass
class _Val:
    """A data tensor: the mbcost layer whose output it holds, laid out as ``view`` (which
    factors of that tensor's dimensions each ONNX axis holds, :mod:`mbcost.interop.axes`), a Pad
    still to fold, and whether it has been scaled by a constant (attention's 1/√d, which only
    Q·Kᵀ or a softmax may take in)."""

    layer: str
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, left, bottom, right
    view: ax.View = ()
    scaled: bool = False


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
    # a constant → the float initializers of the file it is computed from: the parameters it holds
    origin: dict[str, frozenset] = field(default_factory=dict)
    vals: dict[str, _Val] = field(default_factory=dict)
    layers: dict[str, dict] = field(default_factory=dict)  # name → Layer fields, mutable
    out_shape: dict[str, Shape] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # layer → its tensors
    uses: Counter = field(default_factory=Counter)
    read_by: dict[str, set[str]] = field(default_factory=dict)  # tensor → the op types reading it
    passed: Counter = field(default_factory=Counter)
    weights_seen: set[str] = field(default_factory=set)
    # `map` layers made by a Reshape or Transpose and read by none but more of them so far: a
    # fold passes through N×C×T×S before its N×C×H×W, which sets the map's size
    provisional: set[str] = field(default_factory=set)
    parts: dict[tuple[str, int], str] = field(default_factory=dict)  # (tensor, axis) → its split layer
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (op, node, why)
    unknown: list[str] = field(default_factory=list)
    index: int = 0

    # --- tensors ------------------------------------------------------------------------
    def onnx_dims(self, tensor: str) -> list[int]:
        """A tensor's dims from shape inference; a symbolic batch axis is the one image."""
        dims = self.shapes.get(tensor)
        if dims is None or any(not isinstance(d, int) or d < 1 for d in dims[1:]):
            raise _Cannot(f"the shape of {tensor!r} is not known (run onnx.shape_inference or "
                          "export with a fixed input size)")
        return [d if isinstance(d, int) and d > 0 else 1 for d in dims[:1]] + list(dims[1:])

    def hwc(self, tensor: str, node) -> tuple[int, int, int]:
        dims = self.onnx_dims(tensor)
        if len(dims) == 4:
            return dims[2], dims[3], dims[1]
        if len(dims) == 2:
            return 1, 1, dims[1]
        raise _Cannot(f"{tensor!r} is {len(dims)}-D where mbcost expects an N×C×H×W map")

    def data(self, tensor: str, scaled: bool = False, viewing: bool = False) -> _Val:
        """The data tensor read here; one scaled by a constant only where ``scaled`` allows it. A
        read other than a Reshape's or Transpose's (``viewing``) fixes a provisional map's size."""
        if tensor not in self.vals:
            raise _Cannot(f"input {tensor!r} is a constant where mbcost expects a feature map")
        v = self.vals[tensor]
        if not viewing:
            self.provisional.discard(v.layer)
        if v.scaled and not scaled:
            raise _Cannot(f"{tensor!r} is scaled by a constant, which only attention's Q·Kᵀ or a softmax takes "
                          "in (a scale elsewhere folds into the layer before it)")
        return v

    def shape(self, v: _Val) -> Shape:
        return self.out_shape[v.layer]

    def map_input(self, tensor: str) -> _Val:
        """A conv's, a pool's or a resize's input: an mbcost map laid out N×C×H×W."""
        v = self.data(tensor)
        s = self.shape(v)
        view = v.view
        if isinstance(s, (Tokens, Scores)) or len(view) != 4 or view[0] or not ax.only(view[1], {"C"}) \
                or not ax.only(view[2], {"H"}) or not ax.only(view[3], {"W"}) \
                or (ax.size(view[2]), ax.size(view[3]), ax.size(view[1])) != tuple(s):
            raise _Cannot(f"its input {tensor!r} is not an N×C×H×W map (it holds "
                          f"{_layout_text(s)} laid out as {_view_text(view)})")
        return v

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
        if self.consts.get(tensor) is not None:
            return tuple(self.consts[tensor].shape)
        inferred = self.shapes.get(tensor)
        if tensor in self.consts and inferred is not None and all(isinstance(d, int) for d in inferred):
            return tuple(inferred)  # computed from constants (an Expand, a Gather of a table): its inferred shape
        return tuple(self.value(tensor, node, what).shape)

    def learned(self, tensor: str) -> int:
        """How many numbers of the file's float initializers a constant is computed from: its
        parameters (0 for a value of the graph: a Constant, a shape)."""
        return sum(prod(self.init_dims.get(i, ())) for i in self.origin.get(tensor, ()))

    def alias(self, tensor: str, val: _Val) -> None:
        dims = self.shapes.get(tensor)
        if dims and all(isinstance(d, int) for d in dims[1:]) and not any(val.pads) \
                and [ax.size(a) for a in val.view] != [d if isinstance(d, int) else 1 for d in dims]:
            raise _Cannot(f"mbcost's bookkeeping lays {tensor!r} out as {_view_text(val.view)}, not its {dims} "
                          "(an importer bug: please report it with the model)")
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
    def emit(self, node, kind: str, c: int, inputs: tuple[str, ...], out: Shape, view: ax.View | None = None,
             output: bool = True, **kw) -> str:
        """A layer of the node, whose first output (unless ``output`` is False: a split's parts are
        its outputs) holds an mbcost tensor of shape ``out``, laid out as ``view`` (else the
        canonical layout of its dims)."""
        name = node.name or node.output[0]
        while not name or name in self.layers or name == NETWORK_INPUT:
            name = f"{name or node.op_type}_"
        self.layers[name] = dict(name=name, kind=kind, c=c, inputs=inputs, row=self.index, **kw)
        self.out_shape[name] = out
        if output:
            tensor = node.output[0]
            self.alias(tensor, _Val(name, view=view if view is not None else self.view_of(tensor, out)))
        return name

    def view_of(self, tensor: str, shape: Shape) -> ax.View:
        """How an op's output of mbcost ``shape`` lays out in its ONNX dims: a map N×C×H×W (or
        flattened), tokens S×T×C, scores S×heads×T_q×T_kv."""
        return _reshaped(canonical(shape), self.onnx_dims(tensor))

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


def canonical(shape: Shape) -> ax.View:
    """The view of an mbcost tensor as the exporters lay it out (mbcost.interop.onnx_export.dims)."""
    if isinstance(shape, Scores):
        rows, nkv, heads = shape
        q = shape.query
        seqs = q[1] if isinstance(q, Tokens) else 1
        query = (("N", q[0]),) if isinstance(q, Tokens) else (("H", q[0]), ("W", q[1]))
        return (ax.single("S", seqs), ax.single("G", heads), tuple(f for f in query if f[1] > 1), ax.single("K", nkv))
    if isinstance(shape, Tokens):
        return ax.tokens_view(shape[0], shape[1], shape[2])
    return ax.map_view(*shape)


def _reshaped(view: ax.View, dims: list[int]) -> ax.View:
    try:
        return ax.reshape(view, dims)
    except ax.Unfollowable as e:
        raise _Cannot(str(e)) from None


def _layout_text(shape: Shape) -> str:
    if isinstance(shape, Scores):
        return "attention scores"
    if isinstance(shape, Tokens):
        return f"{shape[0]} tokens × {shape[2]}" + (f" in {shape[1]} sequences" if shape[1] > 1 else "")
    return "a {}×{}×{} map".format(*shape)


def _view_text(view: ax.View) -> str:
    return "×".join("·".join(f"{r}{n}" for r, n in axis) or "1" for axis in view)


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
    x = r.map_input(node.input[0])
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
    x = r.map_input(node.input[0])
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


def _dense(r: _Reader, node) -> None:
    """Gemm, or MatMul by a weight: a linear where it multiplies the channels of every position
    (the contracted axis holds exactly the tensor's channels), an fc where it multiplies all of
    a flattened map (or the one position of a pooled one)."""
    a = _attrs(node)
    x = r.data(node.input[0])
    if any(x.pads):
        raise _Cannot("a Pad before a fully connected layer")
    if node.op_type == "Gemm" and a.get("transA", 0):
        raise _Cannot("a Gemm with transA = 1 is not a fully connected layer")
    wd = r.dims(node.input[1], node, "weight")
    if len(wd) != 2:
        raise _Cannot(f"weight {node.input[1]!r} is {len(wd)}-D; a linear's and an fc's are 2-D")
    n, k = (wd[0], wd[1]) if node.op_type == "Gemm" and a.get("transB", 0) else (wd[1], wd[0])
    shape, view = r.shape(x), x.view
    axis = 1 if node.op_type == "Gemm" else len(view) - 1
    if node.op_type == "Gemm" and len(view) != 2:
        raise _Cannot(f"a Gemm of a {len(view)}-D tensor")
    contracted = view[axis]
    shared = node.input[1] in r.weights_seen
    r.weights_seen.add(node.input[1])
    bias = node.op_type == "Gemm" and len(node.input) > 2 and bool(node.input[2])
    common = dict(bias=bias, shared=shared, shared_bias=bias and r.seen(node.input[2]))
    h, w, m = shape
    positions = h * w
    if isinstance(shape, Scores):
        raise _Cannot("a weight multiplying attention scores")
    if ax.only(contracted, {"C"}) and ax.size(contracted) == m == k and (positions > 1 or isinstance(shape, Tokens)):
        r.emit(node, "linear", n, (x.layer,), with_channels(shape, n), view=ax.with_axis(view, axis, ax.single("C", n)),
               **common)
        return
    if h * w * m != k or any(view[i] for i in range(len(view)) if i != axis):
        raise _Cannot(f"its {k} inputs are neither the channels of {x.layer} ({_layout_text(shape)}) nor all of it "
                      "flattened")
    r.emit(node, "fc", n, (x.layer,), (1, 1, n), **common)


def _product(r: _Reader, node) -> None:
    """MatMul of two activations: Q·Kᵀ of heads, or A·V of attention scores (mbcost.core.kinds.
    matmul). Its batch axes hold the heads (and the sequences), the last two the positions and
    the head width d: Q (…, T_q, d) · Kᵀ (…, d, T_kv); A (…, T_q, T_kv) · V (…, T_kv, d_v)."""
    from ..core.kinds import KINDS

    a, b = (r.data(t, scaled=True) for t in node.input)
    if any(a.pads) or any(b.pads):
        raise _Cannot("a Pad before a MatMul")
    sa, sb = r.shape(a), r.shape(b)
    va, vb = a.view, b.view
    if len(va) < 2 or len(vb) < 2:
        raise _Cannot("a MatMul of a vector")
    batch_a, rows, inner = va[:-2], va[-2], va[-1]
    batch_b, inner_b, cols = vb[:-2], vb[-2], vb[-1]
    if ax.size(inner) != ax.size(inner_b):
        raise _Cannot(f"inner dimensions {ax.size(inner)} and {ax.size(inner_b)} differ")

    def heads(batch, of: str) -> int:
        if not all(ax.only(axis, {"C", "S", "G"}) for axis in batch):
            raise _Cannot(f"the batch axes of its {of} hold positions ({_view_text(batch)}): attention within "
                          "windows or patches of a tensor that no Reshape made a sequence")
        return ax.count(batch, {"C", "G"})

    def seqs(batch) -> int:
        return ax.count(batch, {"S"})

    if isinstance(sa, Scores):  # A·V
        if not ax.only(inner, {"K"}) or not ax.only(inner_b, ax.POSITIONS) or not ax.only(cols, {"C"}):
            raise _Cannot(f"A·V of scores laid out {_view_text(va)} and values {_view_text(vb)}")
        h, hv, dv = sa[2], heads(batch_b, "values"), ax.size(cols)
        if heads(batch_a, "scores") != h or hv not in (h, 1) or hv * dv != sb[2]:
            raise _Cannot(f"the values' {sb[2]} channels are not {hv} heads of {dv} for {h} heads of scores")
        c, op = h * dv, "av"
        view = ax.relabel(batch_a, {"G": "C"}) + (rows, cols)
    else:  # Q·Kᵀ
        if not ax.only(inner, {"C"}) or not ax.only(inner_b, {"C"}) or not ax.only(rows, ax.POSITIONS) \
                or not ax.only(cols, ax.POSITIONS):
            raise _Cannot(f"a MatMul of {_view_text(va)} by {_view_text(vb)} is neither Q·Kᵀ of heads nor a "
                          "weight's")
        d = ax.size(inner)
        h, hk = heads(batch_a, "queries"), heads(batch_b, "keys")
        if h * d != sa[2] or hk not in (h, 1) or hk * d != sb[2]:
            raise _Cannot(f"Q·Kᵀ of {h} heads of {d} reads {sa[2]} query and {sb[2]} key channels")
        for v, s, batch in ((a, sa, batch_a), (b, sb, batch_b)):
            if seqs(batch) != (s[1] if isinstance(s, Tokens) else 1):
                raise _Cannot(f"{v.layer} holds {_layout_text(s)}, not the {seqs(batch)} sequences its heads "
                              "are laid out in")
        c, op = h, "qk"
        view = ax.relabel(batch_a, {"C": "G"}) + (rows, ax.relabel((cols,), {r_: "K" for r_ in "HWNS"})[0])
    probe = Layer(name=node.name or "matmul", kind="matmul", c=c, inputs=(a.layer, b.layer), heads=h, op=op)
    try:
        out = KINDS["matmul"].shape(probe, [sa, sb])
    except GraphError as e:
        raise _Cannot(str(e)) from None
    r.emit(node, "matmul", c, (a.layer, b.layer), out, view=view, heads=h, op=op)


def _matmul(r: _Reader, node) -> None:
    if all(t in r.vals for t in node.input):
        return _product(r, node)
    return _dense(r, node)


def _channels_axis(view: ax.View, c: int, axis: int | None = None) -> int:
    """The axis holding all of a tensor's ``c`` channels (the given one, if it does)."""
    for i, a in enumerate(view):
        if (axis is None or i == axis % len(view)) and ax.only(a, {"C"}) and ax.size(a) == c and a:
            return i
    raise _Cannot(f"no axis of {_view_text(view)} holds its {c} channels" if axis is None else
                  f"axis {axis} of {_view_text(view)} does not hold its {c} channels")


BN_FOLDS = ("conv", "dwconv", "deconv", "fc", "linear")


def _bn(r: _Reader, node) -> None:
    """A BatchNormalization folds into the layer before it: a conv's, an fc's, a linear's BN; after
    a Concat of such layers (MixNet's mixed-kernel convs, read by the Concat alone) into each of
    them, since a BN scales and shifts each channel on its own, and the parts' channels are the
    Concat's — the same count, γ and β of every channel. Anywhere else (after an add, on a
    tensor read elsewhere too, or a second BN) it is a ``batchnorm`` layer of its own."""
    x = r.data(node.input[0])
    _channels_axis(x.view, r.shape(x)[2], 1)
    try:
        layers = [r.producer(node.input[0], node, BN_FOLDS, "BatchNormalization")]
    except _Cannot:
        layers = _concat_parts(r, x)
    if layers is None or any(layer.get("bn", False) for layer in layers):
        # after another join, on a tensor read elsewhere too, or a second one: a batch norm on its own
        shape = r.shape(x)
        r.emit(node, "batchnorm", shape[2], (x.layer,), shape, view=x.view, bn=True)
        return
    for layer in layers:
        layer["bn"] = True
    r.through(node.output[0], x)


def _concat_parts(r: _Reader, x: _Val) -> list[dict] | None:
    """The layers a Concat joins, where each can take a BN over its channels: of the kinds a BN
    folds into, and read by that Concat alone; None if the tensor is not such a Concat's."""
    concat = r.layers.get(x.layer)
    if concat is None or concat["kind"] != "concat" or any(x.pads) or r.readers(x.layer) != 1:
        return None
    parts = [r.layers.get(name) for name in concat["inputs"]]
    if any(p is None or p["kind"] not in BN_FOLDS or r.readers(p["name"]) != 1 for p in parts) \
            or len({p["name"] for p in parts}) != len(parts):
        return None
    return parts


def _affine(r: _Reader, node, scale: int, bias: int, c: int, per: str = "channel") -> bool:
    """A norm's γ and β are parameters when the file holds them (initializers of C numbers each),
    and none when they are values of the graph (a non-affine norm's fixed 1 and 0)."""
    given = [i < len(node.input) and bool(node.input[i]) for i in (scale, bias)]
    learned = [g and r.learned(node.input[i]) > 0 for g, i in zip(given, (scale, bias))]
    if learned == [False, False]:
        return False
    if learned != [True, True]:
        raise _Cannot("a norm with a learned γ and no β (or β and no γ) has no kind")
    n = prod(r.dims(node.input[scale], node, "scale"))
    if n != c:
        raise _Cannot(f"its γ has {n} numbers, not one per {per} of its {c} channels")
    return True


def _layernorm(r: _Reader, node) -> None:
    x = r.data(node.input[0])
    shape = r.shape(x)
    first = int(_attrs(node).get("axis", -1)) % len(x.view)
    if isinstance(shape, Scores) or first != len(x.view) - 1 or not ax.only(x.view[-1], {"C"}) \
            or ax.size(x.view[-1]) != shape[2]:
        raise _Cannot(f"it normalises axes {first}… of {_view_text(x.view)}, not the channels")
    affine = _affine(r, node, 1, 2, shape[2])
    r.emit(node, "layernorm", shape[2], (x.layer,), shape, view=x.view, affine=affine)


def _groupnorm(r: _Reader, node) -> None:
    """GroupNormalization (fused by onnx_rewrite.fuse from torch's Reshape → InstanceNormalization → Reshape
    → Mul → Add, or opset 21's op) and InstanceNormalization (one group per channel)."""
    x = r.data(node.input[0])
    shape = r.shape(x)
    if isinstance(shape, Scores):
        raise _Cannot("a group norm of attention scores")
    _channels_axis(x.view, shape[2], 1)
    c = shape[2]
    groups = c if node.op_type == "InstanceNormalization" else int(_attrs(node)["num_groups"])
    affine = _affine(r, node, 1, 2, c)
    r.emit(node, "groupnorm", c, (x.layer,), shape, view=x.view, affine=affine, groups=groups)


# the kinds an activation folds into (their builders and exporters apply layer.act); after any
# other layer, or a layer whose output is read elsewhere too, it is a standalone act layer
FOLDS = ("conv", "dwconv", "deconv", "fc", "pool", "add", "linear", "batchnorm")


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
            shape = r.shape(x)
            r.emit(node, "act", shape[2], (x.layer,), shape, view=x.view, act=act)
            return
        layer["act"] = act
        r.through(node.output[0], x)

    return fold


def _scale(r: _Reader, node, tensor: str) -> None:
    """A Mul or Div by one constant. After a conv, fc, linear or add read only here it folds into
    that layer's weights, as a BN does (EfficientFormer's (head + distillation head) / 2). Else it
    is attention's scale: on scores part of the softmax that follows; on Q or K (parts of a
    split) carried to the Q·Kᵀ that reads them, and refused anywhere else."""
    x = r.data(tensor, scaled=True)
    if isinstance(r.shape(x), Scores) or not x.scaled and _folds(r, tensor, node):
        r.through(node.output[0], x)
    else:
        r.through(node.output[0], replace(x, scaled=True))


def _folds(r: _Reader, tensor: str, node) -> bool:
    try:
        r.producer(tensor, node, FOLDS, "scale")
    except _Cannot:
        return False
    return True


def _by_constant(r: _Reader, node) -> tuple[_Val, str] | None:
    """(the data input, the constant one) of a binary op with one constant operand."""
    data = [t for t in node.input if t in r.vals]
    if len(data) == 1 and len(node.input) == 2:
        return r.vals[data[0]], next(t for t in node.input if t not in r.vals)
    return None


def _mul(r: _Reader, node) -> None:
    """x · gate: a squeeze-excite gate (N×C×1×1) or a map of x's shape, either operand order;
    x · γ, a parameter per channel: layer scale; x · a scalar constant: attention's scale."""
    one = _by_constant(r, node)
    if one is not None:
        x, const = one
        n = prod(r.dims(const, node, "factor"))
        if n == 1:
            return _scale(r, node, node.input[0] if node.input[0] in r.vals else node.input[1])
        x = r.data(node.input[0] if node.input[0] in r.vals else node.input[1])
        shape = r.shape(x)
        if n == shape[2] and r.learned(const) and not isinstance(shape, Scores) and _per_channel(r, node, x, const):
            r.emit(node, "layerscale", shape[2], (x.layer,), shape, view=x.view)
            return
        raise _Cannot("a Mul by a constant that is neither a layer scale (a parameter per channel) nor a scalar "
                      "(a scale folds into the conv before it)")
    if len(node.input) != 2 or not all(t in r.vals for t in node.input):
        raise _Cannot("a Mul of more than two tensors")
    vals = [r.data(t) for t in node.input]
    shapes = [r.shape(v) for v in vals]
    if any(any(v.pads) for v in vals):
        raise _Cannot("a Pad before a Mul")
    order = (1, 0) if shapes[0][:2] == (1, 1) and shapes[1][:2] != (1, 1) else (0, 1)
    x, gate = (shapes[i] for i in order)
    if gate != x and gate != (1, 1, x[2]):
        raise _Cannot(f"multiplying maps of shapes {shapes} is not a gate")
    r.emit(node, "mul", x[2], tuple(vals[i].layer for i in order), x, view=vals[order[0]].view)


def _per_channel(r: _Reader, node, x: _Val, const: str) -> bool:
    """The constant broadcasts along the data's channels axis (γ of C, C×1×1…)."""
    dims = list(r.dims(const, node, "factor"))
    rank = len(x.view)
    dims = [1] * (rank - len(dims)) + dims
    axis = next((i for i, d in enumerate(dims) if d > 1), None)
    return axis is not None and ax.only(x.view[axis], {"C"}) and ax.size(x.view[axis]) == r.shape(x)[2]


def _div(r: _Reader, node) -> None:
    one = _by_constant(r, node)
    if one is None or node.input[0] not in r.vals or prod(r.dims(one[1], node, "divisor")) != 1:
        raise _Cannot("a Div that is not a scale by a constant")
    _scale(r, node, node.input[0])


def _axis(node, rank: int = 4) -> int:
    return int(_attrs(node).get("axis", 0 if node.op_type != "Concat" else 1)) % rank


def _concat(r: _Reader, node) -> None:
    """Along channels → concat; parameter tokens and a sequence along its tokens → cls_token."""
    data = [t for t in node.input if t in r.vals]
    if not data:
        raise _Cannot("a Concat of constants")
    vals = [r.data(t) for t in data]
    if any(any(v.pads) for v in vals):
        raise _Cannot("a Pad before a Concat")
    first = vals[0]
    if len(node.input) == 1:  # torch.cat([x]): DenseNet's first dense layer; x itself
        r.through(node.output[0], first)
        return
    rank = len(first.view)
    axis = _axis(node, rank)
    shapes = [r.shape(v) for v in vals]
    if len(data) < len(node.input):  # constants: tokens prepended (or appended) to a sequence
        consts = [t for t in node.input if t not in r.vals]
        shape = shapes[0]
        extra = sum(r.dims(t, node, "tokens")[axis] for t in consts)
        learned = sum(r.learned(t) for t in consts)
        if len(vals) != 1 or not isinstance(shape, Tokens) or shape[1] != 1 or not ax.only(first.view[axis], {"N"}) \
                or ax.size(first.view[axis]) != shape[0] or learned != extra * shape[2]:
            raise _Cannot(f"a Concat of constants and {_layout_text(shape)} along axis {axis} is not a class token "
                          f"(parameter tokens before one sequence)")
        r.emit(node, "cls_token", shape[2], (first.layer,), Tokens(shape[0] + extra, shape[2]),
               view=ax.with_axis(first.view, axis, ax.single("N", shape[0] + extra)), extra=extra)
        return
    for v, s in zip(vals, shapes):
        if not ax.only(v.view[axis], {"C"}) or ax.size(v.view[axis]) != s[2] or len(v.view) != rank:
            raise _Cannot(f"a Concat along axis {axis} of {_view_text(v.view)}, not along channels")
    if len({(s[:2], type(s)) for s in shapes}) != 1:
        raise _Cannot(f"concatenating tensors of shapes {shapes}")
    c = sum(s[2] for s in shapes)
    r.emit(node, "concat", c, tuple(v.layer for v in vals), with_channels(shapes[0], c),
           view=ax.with_axis(first.view, axis, ax.single("C", c)))


def _split_layer(r: _Reader, node, x: _Val, axis: int, lengths: list[int]) -> tuple[str, list[ax.View]]:
    """A split of the channels on ``axis`` into parts of ``lengths`` entries: the split layer
    and each part's view (its outermost factor cut)."""
    shape = r.shape(x)
    if isinstance(shape, Scores) or not x.view[axis] or not ax.only(x.view[axis], {"C"}):
        raise _Cannot(f"a split along axis {axis} of {_view_text(x.view)}, not along channels")
    if any(x.pads):
        raise _Cannot("a Pad before a split")
    of = ax.size(x.view[axis])
    c = shape[2]
    sizes = tuple(c * n // of for n in lengths)
    if sum(lengths) != of or any(c * n % of for n in lengths):
        raise _Cannot(f"parts {lengths} of an axis of {of}")
    try:
        views = [ax.with_axis(x.view, axis, ax.shrink(x.view[axis], n, of)) for n in lengths]
        for i in range(1, len(lengths)):  # each cut falls between whole blocks of the inner factors
            ax.shrink(x.view[axis], sum(lengths[:i]), of)
    except ax.Unfollowable as e:
        raise _Cannot(str(e)) from None
    name = r.emit(node, "split", c, (x.layer,), shape, view=x.view, output=False, sizes=sizes)
    return name, views


def _split(r: _Reader, node) -> None:
    """Split along channels → split; the i-th output is the part ``name.i``."""
    x = r.data(node.input[0])
    rank = len(x.view)
    a = _attrs(node)
    axis = _axis(node, rank)
    if len(node.input) > 1 and node.input[1]:
        lengths = [int(v) for v in r.value(node.input[1], node, "split")]
    elif "split" in a:
        lengths = [int(v) for v in a["split"]]
    else:
        lengths = [r.onnx_dims(t)[axis] for t in node.output]
    if len(lengths) != len(node.output):
        raise _Cannot(f"split sizes {lengths} for {len(node.output)} outputs")
    if len(lengths) == 1:
        return r.through(node.output[0], x)
    name, views = _split_layer(r, node, x, axis, lengths)
    for i, (out, view) in enumerate(zip(node.output, views)):
        r.alias(out, _Val(f"{name}.{i}", view=_reshaped(view, r.onnx_dims(out))))
        r.out_shape[f"{name}.{i}"] = with_channels(r.shape(x), r.layers[name]["sizes"][i])


def _part(r: _Reader, node, x: _Val, axis: int, lengths: list[int], index: int, out_dims: list[int]) -> None:
    """One part of a split of the channels on ``axis`` (a Slice's, a Gather's), the split made
    once per tensor and axis: the parts of q, k and v read one split of the qkv projection."""
    key = (node.input[0], axis, tuple(lengths))
    name, views = _split_layer(r, node, x, axis, lengths) if key not in r.parts else (r.parts[key], None)
    if views is None:
        views = [ax.with_axis(x.view, axis, ax.shrink(x.view[axis], n, sum(lengths))) for n in lengths]
    r.parts[key] = name
    sizes = r.layers[name]["sizes"]
    part = f"{name}.{index}"
    r.out_shape[part] = with_channels(r.shape(x), sizes[index])
    view = views[index]
    if len(out_dims) < len(view):  # a Gather drops the axis it took one entry of
        view = view[:axis] + view[axis + 1:]
    r.alias(node.output[0], _Val(part, view=_reshaped(view, out_dims)))


def _slice(r: _Reader, node) -> None:
    """A Slice of the whole range is the tensor itself; a Slice of a range of channels is a
    part of a split of them (the split's other parts unread)."""
    x = r.data(node.input[0])
    dims = r.onnx_dims(node.input[0])
    starts, ends = (r.value(t, node, what) for t, what in zip(node.input[1:3], ("starts", "ends")))
    axes = r.value(node.input[3], node, "axes") if len(node.input) > 3 and node.input[3] else range(len(starts))
    steps = r.value(node.input[4], node, "steps") if len(node.input) > 4 and node.input[4] else [1] * len(starts)
    cut = []
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis, n = int(axis) % len(dims), dims[int(axis) % len(dims)]
        lo, hi = (max(0, min(int(v) + n if int(v) < 0 else int(v), n)) for v in (start, end))
        if int(step) != 1:
            raise _Cannot(f"a Slice with step {int(step)}")
        if (lo, hi) != (0, n):
            cut.append((axis, lo, hi, n))
    if not cut:
        r.through(node.output[0], x)
        return
    if len(cut) > 1:
        raise _Cannot("a Slice along two axes")
    axis, lo, hi, n = cut[0]
    lengths = [length for length in (lo, hi - lo, n - hi) if length]
    _part(r, node, x, axis, lengths, 1 if lo else 0, r.onnx_dims(node.output[0]))


MAX_PARTS = 16  # a Gather of one of at most this many channel groups is a part of a split (q, k, v)


def _gather(r: _Reader, node) -> None:
    """Gather of one index: of a channel axis (q, k, v of a fused projection: a split), or of
    the first token of a sequence (ViT's class token: a token pool)."""
    x = r.data(node.input[0])
    index = r.value(node.input[1], node, "indices")
    if index.size != 1:
        raise _Cannot("a Gather of several entries")
    rank = len(x.view)
    axis = _axis(node, rank)
    n = r.onnx_dims(node.input[0])[axis]
    i = int(index.reshape(())) % n
    shape = r.shape(x)
    along = x.view[axis]
    if along and ax.only(along, {"C"}) and n <= MAX_PARTS:
        _part(r, node, x, axis, [1] * n, i, r.onnx_dims(node.output[0]))
        return
    if isinstance(shape, Tokens) and i == 0 and ax.count(x.view, ax.POSITIONS) == ax.size(along) == shape[0] * shape[1]:
        view = _reshaped(canonical((1, 1, shape[2])), r.onnx_dims(node.output[0]))
        r.emit(node, "pool", shape[2], (x.layer,), (1, 1, shape[2]), view=view, op="token", global_=True)
        return
    raise _Cannot(f"a Gather of entry {i} of axis {axis} of {_view_text(x.view)}: neither channels nor the first "
                  "token")


def _shuffle(r: _Reader, node) -> None:
    """The channel shuffle, fused by :func:`~mbcost.interop.onnx_rewrite.fuse` from Reshape → Transpose → Reshape."""
    x = r.data(node.input[0])
    shape = r.shape(x)
    _channels_axis(x.view, shape[2], int(_attrs(node).get("axis", 1)))
    r.emit(node, "shuffle", shape[2], (x.layer,), shape, view=x.view, groups=int(_attrs(node)["groups"]))


def _resize(r: _Reader, node) -> None:
    """Resize / Upsample → upsample: an integer factor where both axes scale by it, else the size."""
    x = r.data(node.input[0], viewing=True)
    if x.layer in r.provisional and _resized_map(r, node, x):
        return
    x = r.map_input(node.input[0])
    h, w, c = r.hwc(node.input[0], node)
    oh, ow, oc = r.hwc(node.output[0], node)
    mode = _text(_attrs(node).get("mode", "nearest"))
    if mode not in ("nearest", "linear", "bilinear") or any(x.pads) or oc != c:
        raise _Cannot(f"a {mode} resize is not nearest or bilinear upsampling")
    kw = dict(up=oh // h) if oh % h == 0 and oh // h == ow // w and ow % w == 0 and oh > h else dict(size=(oh, ow))
    r.emit(node, "upsample", c, (x.layer,), (oh, ow, c), mode="nearest" if mode == "nearest" else "bilinear", **kw)


def _resize_of(node) -> str | None:
    """F.interpolate's mode of a Resize as torch writes MobileViT's (None for any other)."""
    mode = _text(_attrs(node).get("mode", "nearest"))
    return {"linear": "bilinear", "bilinear": "bilinear", "nearest": "nearest"}.get(mode)


def _unfolded_patch(r: _Reader, layer: str, seqs: int) -> tuple[int, int] | None:
    """The patch of the nearest ``tokens`` layer upstream of ``layer`` that made S = ``seqs`` sequences."""
    todo, seen = [layer], set()
    while todo:
        name = todo.pop(0)
        L = r.layers.get(name)
        if L is None or name in seen:
            continue
        seen.add(name)
        if L["kind"] == "tokens" and L["k"][0] * L["k"][1] == seqs:
            return L["k"]
        todo.extend(L["inputs"])
    return None


def _resized_map(r: _Reader, node, x: _Val) -> bool:
    """A Resize right after MobileViT's fold, down from the multiples of the patch to the map's
    H×W: the ``map`` layer's resize (True when it is one)."""
    fold = r.layers[x.layer]
    oh, ow, c = r.hwc(node.output[0], node)
    src = fold["inputs"][0]
    seqs = r.out_shape[src][1] if isinstance(r.out_shape.get(src), Tokens) else 1
    patch = _unfolded_patch(r, src, seqs)
    mode = _resize_of(node)
    if patch is None or mode is None or r.readers(x.layer) != 1 or tiled(oh, ow, patch) != tuple(fold["size"]) \
            or (oh, ow) == tuple(fold["size"]):
        return False
    r.provisional.discard(x.layer)
    fold.update(size=(oh, ow), k=patch, mode=mode)
    r.out_shape[x.layer] = (oh, ow, c)
    r.alias(node.output[0], _Val(x.layer, view=r.view_of(node.output[0], (oh, ow, c))))
    return True


def _add(r: _Reader, node) -> None:
    """Add (and Sub: x − y is x + (−y), one operation per element as well) of tensors of one
    shape: a residual join → add; with a constant: :func:`_add_constant`."""
    one = _by_constant(r, node)
    if one is not None and node.op_type == "Sub":
        raise _Cannot("a Sub of a constant (a normalisation's mean, outside the patterns mbcost fuses)")
    if one is not None:
        return _add_constant(r, node, *one)
    data = [t for t in node.input if t in r.vals]
    if len(data) != len(node.input) or len(data) < 2:
        raise _Cannot("an Add with a constant operand is not a residual join")
    vals = [r.data(t) for t in data]
    shapes = [r.shape(v) for v in vals]
    if len({(tuple(s), type(s)) for s in shapes}) != 1 or any(any(v.pads) for v in vals) \
            or len({tuple(r.onnx_dims(t)) for t in data}) != 1:
        raise _Cannot(f"adding {' and '.join(_layout_text(s) for s in shapes)} needs broadcasting, which the add "
                      "kind has not")
    kind = "sub" if node.op_type == "Sub" else "add"
    r.emit(node, kind, shapes[0][2], tuple(v.layer for v in vals), shapes[0], view=vals[0].view)


def _add_constant(r: _Reader, node, x: _Val, const: str) -> None:
    """data + a constant: the bias of the fc, conv or linear before it; a parameter for every
    position's channels (a position embedding); a table added to attention scores (an
    attention bias: heads × offsets, gathered for each query and key)."""
    x = r.data(node.input[0] if node.input[0] in r.vals else node.input[1])
    shape = r.shape(x)
    n = prod(r.dims(const, node, "addend"))
    if isinstance(shape, Scores):
        table, heads = r.learned(const), shape[2]
        if not table or table % heads:
            raise _Cannot(f"adding {'a fixed mask' if not table else f'{table} parameters'} to the scores of "
                          f"{heads} heads is not an attention bias table")
        r.emit(node, "attn_bias", heads, (x.layer,), shape, view=x.view, extra=table // heads)
        return
    try:  # a bias after MatMul (or a conv without one)
        layer = r.producer(node.input[0] if node.input[0] in r.vals else node.input[1], node, ("fc", "conv", "linear"),
                           "constant Add")
        if layer.get("bias") or n != layer["c"]:
            raise _Cannot(f"adding a constant of {n} values to {layer['name']} is not its bias")
        layer["bias"] = True
        r.through(node.output[0], x)
        return
    except _Cannot as why:
        h, w, c = shape
        if n != h * w * c or not r.learned(const) or any(x.pads):
            raise why from None
    r.emit(node, "pos_embed", shape[2], (x.layer,), shape, view=x.view)


def _pool(op: str, glob: bool) -> Callable:
    def pool(r: _Reader, node) -> None:
        a = _attrs(node)
        if node.op_type in ("ReduceMean", "ReduceMax"):
            return _reduce(r, node, op)
        x = r.map_input(node.input[0])
        c = r.hwc(node.input[0], node)[2]
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


def _reduce(r: _Reader, node, op: str) -> None:
    """ReduceMean / ReduceMax over every position of a map or a sequence (and no channel):
    a global pool."""
    x = r.data(node.input[0])
    a = _attrs(node)
    rank = len(x.view)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = [int(v) for v in r.value(node.input[1], node, "axes")]
    axes = sorted({int(v) % rank for v in (axes if axes is not None else range(rank))})
    shape = r.shape(x)
    reduced = [x.view[i] for i in axes]
    if isinstance(shape, Scores) or not all(ax.only(v, ax.POSITIONS) for v in reduced) \
            or prod(ax.size(v) for v in reduced) != shape[0] * shape[1]:
        raise _Cannot(f"a {node.op_type} over axes {axes} of {_view_text(x.view)} is not a global pool")
    if any(x.pads):
        raise _Cannot("a Pad before a global pool")
    c = shape[2]
    r.emit(node, "pool", c, (x.layer,), (1, 1, c), view=_reshaped(canonical((1, 1, c)), r.onnx_dims(node.output[0])),
           op=op, global_=True)


def _view(r: _Reader, node) -> None:
    """Reshape, Transpose, Squeeze, Unsqueeze, Identity: the same values laid out anew. Where the
    new layout makes a map's positions a sequence of tokens (S×T×C, the channels last), it is a
    ``tokens`` layer (MobileViT's unfolding where S > 1); where it makes tokens N×C×H×W, a ``map``
    layer — provisional until an op other than a Reshape or Transpose reads it, as MobileViT's fold
    passes through N×C×T×S on its way to N×C×H×W, whose H×W then is the map's."""
    x = r.data(node.input[0], scaled=True, viewing=True)
    if node.op_type == "Identity":
        return r.through(node.output[0], x)
    if any(x.pads):
        raise _Cannot(f"a Pad before a {node.op_type}")
    if node.op_type == "Transpose":
        perm = _attrs(node).get("perm") or list(range(len(x.view)))[::-1]
        view = ax.transpose(x.view, list(perm))
    else:
        view = _reshaped(x.view, r.onnx_dims(node.output[0]))
    shape = r.shape(x)
    if not isinstance(shape, (Tokens, Scores)) and _tokenlike(view, shape) and not x.scaled:
        ph, pw = ax.count(view[:1], {"H"}), ax.count(view[:1], {"W"})
        seqs, n = ph * pw, ax.size(view[1])
        source, kw = x.layer, {}
        up = r.layers.get(x.layer)
        if up is not None and up["kind"] == "upsample" and up.get("size") and r.readers(x.layer) == 1:
            # MobileViT's resize up to the next multiples of the patch: the tokens row's resize
            h, w, _ = r.out_shape[up["inputs"][0]]
            if (h % ph or w % pw) and tiled(h, w, (ph, pw)) == tuple(up["size"]):
                source, kw = up["inputs"][0], dict(mode=up["mode"])
                del r.layers[x.layer], r.out_shape[x.layer]
        r.emit(node, "tokens", shape[2], (source,), Tokens(n, shape[2], seqs),
               view=(ax.single("S", seqs), ax.single("N", n), view[2]), k=(ph, pw), **kw)
        return
    hw = _maplike(view, shape, ax.POSITIONS) if x.layer in r.provisional else None
    if hw:  # the fold goes on: its H×W is the map's
        r.layers[x.layer]["size"] = hw
        r.out_shape[x.layer] = (*hw, shape[2])
        r.through(node.output[0], replace(x, view=_map_view(hw, shape[2], view)))
        return
    hw = _maplike(view, shape) if isinstance(shape, Tokens) and not x.scaled else None
    if hw:
        r.provisional.add(r.emit(node, "map", shape[2], (x.layer,), (*hw, shape[2]),
                                 view=_map_view(hw, shape[2], view), size=hw))
        return
    r.through(node.output[0], replace(x, view=view))


def _tokenlike(view: ax.View, shape: Shape) -> bool:
    """S×T×C of a map with positions: the channels last, tokens (T > 1) in the middle, and any
    sequences first."""
    return len(view) == 3 and bool(view[1]) and shape[0] * shape[1] > 1 and ax.only(view[2], {"C"}) \
        and ax.size(view[2]) == shape[2] and ax.only(view[0], {"H", "W"}) and ax.only(view[1], {"H", "W"})


def _maplike(view: ax.View, shape: Shape, positions=frozenset("NS")) -> tuple[int, int] | None:
    """The H×W of tokens laid out as a map: N×C×H×W (the channels on axis 1, positions on 2 and
    3) or channels-last N×H×W×C (Swin's and TinyViT's windows put back); None if they are not."""
    if len(view) != 4 or view[0]:
        return None
    c, (a, b) = (1, (2, 3)) if ax.only(view[1], {"C"}) and view[1] else (3, (1, 2))
    if not ax.only(view[c], {"C"}) or ax.size(view[c]) != shape[2] or not ax.only(view[a], positions) \
            or not ax.only(view[b], positions):
        return None
    return ax.size(view[a]), ax.size(view[b])


def _map_view(hw: tuple[int, int], c: int, like: ax.View) -> ax.View:
    """A map's view, channels-first or -last as ``like`` (a maplike view) is."""
    view = ax.map_view(*hw, c)
    return view if ax.only(like[1], {"C"}) and like[1] else ax.transpose(view, [0, 2, 3, 1])


def _softmax(r: _Reader, node) -> None:
    """Softmax: per-element work mbcost counts (mbcost.core.kinds.softmax), never free. A scale
    before it (attention's 1/√d, a temperature) is part of it."""
    x = r.data(node.input[0], scaled=True)
    shape = r.shape(x)
    r.emit(node, "softmax", shape[2], (x.layer,), shape, view=x.view)


def _kept(kind: str) -> Callable:
    """Flatten → flatten, Dropout → dropout: free layers of their input's H×W×C (mbcost keeps
    a flattened map's shape for counting, as the fc after it reads it)."""
    def keep(r: _Reader, node) -> None:
        if kind == "flatten" and (r.read_by.get(node.output[0], set()) <= {"Gemm", "MatMul"}
                                  or r.onnx_dims(node.output[0])[0] != 1):
            # the flatten every fc does (mbcost's fc reads the map flattened), or a regrouping of
            # axes (LeViT's tokens as (N·T)×C for its BatchNorm1d): a view
            return _view(r, node)
        x = r.data(node.input[0])
        if any(x.pads):
            raise _Cannot(f"a Pad before a {node.op_type}")
        shape = r.shape(x)
        view = x.view if kind == "dropout" else _reshaped(x.view, r.onnx_dims(node.output[0]))
        r.emit(node, kind, shape[2], (x.layer,), shape, view=view)
        for extra in node.output[1:]:  # Dropout's mask
            if extra:
                r.alias(extra, r.vals[node.output[0]])

    return keep


def _pad(r: _Reader, node) -> None:
    a = _attrs(node)
    pads = a.get("pads")
    if pads is None:
        pads = [int(v) for v in r.value(node.input[1], node, "pads")]
    if not any(pads):  # padding nothing (Swin's F.pad to a multiple of its window, already one)
        return r.through(node.output[0], r.data(node.input[0]))
    x = r.map_input(node.input[0])
    if _text(a.get("mode", "constant")) != "constant":
        raise _Cannot(f"a {_text(a['mode'])} Pad is not zero padding")
    if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)) or any(p < 0 for p in pads):
        raise _Cannot(f"pads {list(pads)} do not pad H and W only")
    t, l, b, rt = pads[2], pads[3], pads[6], pads[7]
    r.through(node.output[0], replace(x, pads=(x.pads[0] + t, x.pads[1] + l, x.pads[2] + b, x.pads[3] + rt)))


IMPORTERS: dict[str, Callable[[_Reader, object], None]] = {
    "Conv": _conv,
    "ConvTranspose": _deconv,
    "Gemm": _dense,
    "MatMul": _matmul,
    "BatchNormalization": _bn,
    "LayerNormalization": _layernorm,  # opset 17's op, or fused by onnx_rewrite.fuse from its decomposition
    "GroupNormalization": _groupnorm,  # fused by onnx_rewrite.fuse from torch's InstanceNormalization form (or opset 21's)
    "InstanceNormalization": _groupnorm,
    "Relu": _act("relu"),
    "Clip": _act("relu6"),
    "HardSwish": _act("hswish"),
    "HardSigmoid": _act("hsigmoid"),  # any slope: activations are free, so the counts agree
    "Sigmoid": _act("sigmoid"),
    "Swish": _act("swish"),  # fused by onnx_rewrite.fuse from x·Sigmoid(x) (and opset 24's own op)
    "Gelu": _act("gelu"),  # opset 20's op, or fused by onnx_rewrite.fuse from its erf or tanh form
    "Tanh": _act("tanh"),
    "LeakyRelu": _act("leaky_relu"),
    "Softmax": _softmax,
    "Add": _add,
    "Sum": _add,
    "Sub": _add,  # EfficientFormer's pool(x) − x
    "Mul": _mul,
    "Div": _div,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Gather": _gather,
    "ChannelShuffle": _shuffle,  # fused by onnx_rewrite.fuse from Reshape → Transpose → Reshape
    "Resize": _resize,
    "Upsample": _resize,
    "GlobalAveragePool": _pool("avg", True),
    "GlobalMaxPool": _pool("max", True),
    "ReduceMean": _pool("avg", True),
    "ReduceMax": _pool("max", True),
    "AveragePool": _pool("avg", False),
    "MaxPool": _pool("max", False),
    "Pad": _pad,
    "Flatten": _kept("flatten"),
    "Dropout": _kept("dropout"),
    **{op: _view for op in ("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity")},
}

# which mbcost kinds the importers above make, and from which ONNX ops (tests/test_kinds.py
# checks that every primitive kind is here or says why not; the cross-check tier round-trips
# each through an export)
KINDS_READ: dict[str, tuple[str, ...]] = {
    "conv": ("Conv",), "dwconv": ("Conv",), "deconv": ("ConvTranspose",), "fc": ("Gemm", "MatMul"),
    "pool": ("GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax", "AveragePool", "MaxPool",
             "Gather of the first token"),
    "add": ("Add", "Sum"), "sub": ("Sub",), "batchnorm": ("BatchNormalization (on its own)",), "mul": ("Mul",), "concat": ("Concat",), "split": ("Split", "Slice", "Gather"),
    "shuffle": ("Reshape → Transpose → Reshape",), "upsample": ("Resize", "Upsample"),
    "act": ("Relu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "Tanh", "LeakyRelu", "Gelu"),
    "flatten": ("Flatten",), "dropout": ("Dropout",), "opaque": ("any op it cannot cost, with --allow-unknown",),
    "linear": ("MatMul", "Gemm"),
    "layernorm": ("LayerNormalization", "ReduceMean → Sub → Pow → ReduceMean → Add → Sqrt → Div → Mul → Add"),
    "groupnorm": ("GroupNormalization", "Reshape → InstanceNormalization → Reshape → Mul → Add",
                  "InstanceNormalization"),
    "layerscale": ("Mul",), "softmax": ("Softmax",), "matmul": ("MatMul",), "attn_bias": ("Add",),
    "tokens": ("Reshape", "Transpose"), "map": ("Reshape", "Transpose"), "cls_token": ("Concat",),
    "pos_embed": ("Add",), "batchnorm": ("BatchNormalization on a join or a tensor read elsewhere",),
}


def read(path: str | Path, allow_unknown: bool = False, max_bytes: int | None = None) -> ArchSpec:
    """:func:`_read`, where an error a malformed model can still raise past the checks of
    :mod:`.onnx_check` (a value of the wrong type where the importer reads one) is one line
    and exit 2, as every malformed model is, never exit 3."""
    try:
        return _read(path, allow_unknown, max_bytes)
    except MALFORMED as exc:
        raise malformed(str(path), exc) from None


def _read(path: str | Path, allow_unknown: bool = False, max_bytes: int | None = None) -> ArchSpec:
    """An ONNX model as an architecture every command reads (its layers fixed: α must be 1).
    ``allow_unknown``: keep the ops mbcost cannot cost as 'opaque' layers that count nothing
    (the result is partial) instead of refusing the model. ``max_bytes``: the largest file read
    (default :func:`mbcost.interop.onnx_file.max_onnx_bytes`: $MBCOST_MAX_ONNX_SIZE, else 2 GiB)."""
    onnx = require_onnx()

    allow = allow_unknown
    source = str(path)
    model = validate(load_file(onnx, source, max_bytes), source)
    strip_weights(model)  # from here on the graph is kilobytes: weights are read by their dims only
    origin = origins(model)  # before folding: which constants the file's own initializers make
    stored = _stored(model)
    shapes, budget = None, FOLD_BUDGET  # the numbers folding may compute, over every pass
    try:
        for _ in range(32):  # folding pads makes more shapes known, whose Shape nodes then fold
            folded, shapes, spent = fold_constants(model, shapes, budget)
            budget -= spent
            if folded is model:
                break  # nothing folded: inference's shapes of this model are the final ones
            model, shapes = folded, None
    except FoldTooLarge as exc:
        raise SpecError(str(exc), where=Where(source)) from None
    if shapes is None:
        shapes = infer_shapes(model)
    model = fuse(model, shapes)
    g = model.graph
    r = _Reader(onnx, model, source, shapes=shapes, origin=origin)
    for init in g.initializer:
        r.init_dims[init.name] = tuple(init.dims)
        r.consts[init.name] = value_of(init)
    inputs = [i for i in g.input if i.name not in r.consts]
    if len(inputs) != 1:
        raise SpecError(f"expected one input tensor, the model has {len(inputs)} "
                        f"({', '.join(i.name for i in inputs)})", where=Where(source))
    dims = r.shapes.get(inputs[0].name, [])
    if len(dims) != 4 or any(not isinstance(d, int) or d < 1 for d in dims[1:]):
        raise SpecError(f"the input {inputs[0].name!r} is {dims}, expected N×C×H×W with fixed C, H, W",
                        where=Where(source))
    c0, h0, w0 = dims[1], dims[2], dims[3]
    r.alias(inputs[0].name, _Val(NETWORK_INPUT, view=ax.map_view(h0, w0, c0)))
    r.out_shape[NETWORK_INPUT] = (h0, w0, c0)
    for node in g.node:
        r.uses.update(t for t in node.input if t)
        for t in node.input:
            r.read_by.setdefault(t, set()).add(node.op_type)
    for r.index, node in enumerate(g.node):
        if not any(t in r.vals for t in node.input):  # Constant, Shape arithmetic on constants
            for out in node.output:
                r.consts[out] = constant_value(node)
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
            except (SpecError, _Cannot) as exc:
                if allow and isinstance(exc, SpecError):
                    raise
                if allow:
                    raise SpecError(f"node {node.name or node.output[0]} ({node.op_type}): {exc}",
                                    where=Where(source)) from None
                first = next(r.vals[t] for t in node.input if t in r.vals)
                for out in node.output:  # unchecked: a layout mbcost lost is already listed
                    r.vals[out] = first
    for out in g.output:  # a scale by a constant no attention took in is an op of its own
        v = r.vals.get(out.name)
        if v is not None and v.scaled:
            r.problems.append(("Mul", out.name, "a scale by a constant of the network's output, which no layer takes in"))
    if r.problems and not allow:
        raise SpecError(_problems(r.problems) + "; --allow-unknown costs the rest and marks the "
                        "result partial", where=Where(source))
    outs = [o.name for o in g.output]
    layers = tuple(Layer(**{k: v for k, v in L.items()}) for L in r.layers.values())
    if not layers:
        raise SpecError("the model has no layer mbcost costs", where=Where(source))
    fcs = [L.c for L in layers if L.kind == "fc"]
    unknown = tuple(p[0] for p in r.problems)
    # parameters and sizes a model holds for its input's positions: at another resolution it
    # would need other ones (interpolated embeddings), which the file does not have
    fixed = " and ".join(dict.fromkeys({"pos_embed": "position embeddings", "attn_bias": "attention bias tables",
                                        "map": "maps of tokens"}[L.kind] for L in layers
                                       if L.kind in ("pos_embed", "attn_bias", "map")))
    name = Path(source).stem
    res0 = (h0, w0)
    # the model's outputs (a detector's heads) are held to the end, as a file's `outputs:` are; one
    # output made by the last layer is the default, left implicit as a file leaves it
    made = {t for L in layers for t, _ in L.outputs()}
    outputs = tuple(dict.fromkeys(r.vals[o].layer for o in outs if o in r.vals and r.vals[o].layer in made))
    if outputs == (layers[-1].name,):
        outputs = ()

    def prebuilt(alpha: Fraction, resolution, classes) -> Graph:
        if alpha != 1:
            raise UsageError(f"{source} is an ONNX model: its channel counts are fixed, so α must "
                             f"be 1 (got {alpha})", field="--alpha")
        res = resolution or res0
        if res != res0 and unknown:
            raise UsageError(f"{source} has ops mbcost does not cost, whose shapes are the model's: "
                             f"it is costed at its own {h0}×{w0} input only", field="--resolution")
        if res != res0 and fixed:
            raise UsageError(f"{source} holds {fixed} of its own {h0}×{w0} input's positions: it is costed at "
                             "that input only", field="--resolution")
        return Graph(name=name, source=source, alpha=Fraction(1), resolution=res,
                     input_shape=(res[0], res[1], c0), layers=layers,
                     classes=fcs[-1] if fcs else None, unknown=unknown, stored=stored, outputs=outputs)

    spec = ArchSpec(name=name, source=source, resolution=res0, in_channels=c0, scale_input=False,
                    classes=fcs[-1] if fcs else None, width=WidthRule(), batch_norm=False,
                    activation="linear", rows=(), title=g.name or name, prebuilt=prebuilt)
    _check_shapes(r, spec)
    return spec


def _stored(model) -> Stored:
    """What the file holds (:class:`mbcost.core.graph.Stored`), read from its initializers'
    dims and its nodes, before anything is folded."""
    from onnx import TensorProto

    floats = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16)
    g = model.graph
    size = {i.name: prod(i.dims) for i in g.initializer if i.data_type in floats}
    copied = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Identity" and n.input and n.input[0] in size}
    copies = sum(size[t] for t in copied.values())
    # a BatchNormalization's running mean and variance (inputs 3, 4; or copies of them) are no
    # parameter of any convention
    unread = sum(size.get(copied.get(t, t), 0) for n in g.node if n.op_type == "BatchNormalization"
                 for t in n.input[3:5])
    # torch's TorchScript exporter names the weight of a conv it folded a BN into onnx::Conv_<n>
    init_dims = {i.name: tuple(i.dims) for i in g.initializer}
    folded = sum(init_dims[n.input[1]][0] for n in g.node
                 if n.op_type == "Conv" and len(n.input) > 2 and n.input[2] and n.input[1] in init_dims
                 and n.input[1].startswith("onnx::Conv_") and init_dims[n.input[1]])
    return Stored(elements=sum(size.values()), copies=copies, unread=unread, folded_bn=folded)


def _opaque(r: _Reader, node) -> None:
    """An op mbcost cannot cost, kept (``--allow-unknown``) as a layer of the model's output
    shape that counts nothing, so what follows it is still costed: an N×C×H×W output is an
    H×W×C map, an S×T×C one a T×S map read channels-last, a T×C one a T×1 map, and a 1×C one
    1×1."""
    try:
        dims = r.onnx_dims(node.output[0])
        if len(dims) == 4:
            out = (dims[2], dims[3], dims[0] * dims[1])
            view = (ax.single("C", dims[0]), ax.single("C", dims[1]), ax.single("H", dims[2]), ax.single("W", dims[3]))
        elif len(dims) == 3:
            out, view = (dims[1], dims[0], dims[2]), (ax.single("W", dims[0]), ax.single("H", dims[1]), ax.single("C", dims[2]))
        elif len(dims) == 2:
            out, view = (dims[0], 1, dims[1]), (ax.single("H", dims[0]), ax.single("C", dims[1]))
        else:
            raise _Cannot(f"its output is {len(dims)}-D")
    except _Cannot as why:
        raise SpecError(f"node {node.name or node.output[0]} ({node.op_type}): {why}",
                        where=Where(r.source)) from None
    inputs = tuple(dict.fromkeys(r.vals[t].layer for t in node.input if t in r.vals))
    try:
        r.emit(node, "opaque", out[2], inputs, out, view=view, k=(out[0], out[1]), op=node.op_type)
    except _Cannot as why:
        raise SpecError(f"node {node.name or node.output[0]} ({node.op_type}): {why}", where=Where(r.source)) from None
    for extra in node.output[1:]:
        if extra:
            r.alias(extra, r.vals[node.output[0]])


MOST_TYPES = 6  # op types a refusal describes; the rest it names with their counts only


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _problems(problems) -> str:
    """One readable line, whatever the model: each op type with its count, most first, and its
    first node's own name with why that node is refused; past :data:`MOST_TYPES` types only
    their names and counts; node names and reasons clipped (a node name can be 1 KB)."""
    first: dict[str, tuple[str, str]] = {}
    counts: Counter = Counter()
    for op, node, why in problems:
        counts[op] += 1
        first.setdefault(op, (node, why))
    ranked = counts.most_common()
    parts = []
    for op, n in ranked[:MOST_TYPES]:
        node, why = first[op]
        where = f"first node {_clip(node, 80)}" if n > 1 else f"node {_clip(node, 80)}"
        parts.append(f"{op}{f' ×{n}' if n > 1 else ''} ({where}: {_clip(why, 160)})")
    rest = ranked[MOST_TYPES:]
    if rest:
        more = ", ".join(f"{_clip(op, 40)}{f' ×{n}' if n > 1 else ''}" for op, n in rest[:20])
        parts.append(f"and {len(rest)} more op types: {more}{', …' if len(rest) > 20 else ''}")
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
