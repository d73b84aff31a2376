"""ONNX models read into mbcost's graph: ``mbcost report model.onnx`` and every other command.

:func:`read` walks the model's nodes in their (topological) order and turns each into layers
through ``IMPORTERS[op_type]``. Today's primitive kinds hold:

- ``Conv`` → conv (groups; a Conv with group = M = N is a dwconv), its pads mapped to the
  'same' or 'valid' rule that gives the model's own output size (a ``Pad`` before it is
  folded in); a bias input is the layer's bias — which is also what a BN folded into the
  conv by an eval-mode export leaves behind;
- ``Gemm`` and ``MatMul`` (+ an ``Add`` of a constant: its bias) → fc;
- ``BatchNormalization`` after a conv or fc → that layer's BN;
- ``Relu``, ``Clip(0, 6)`` (and ``Clip(0, ∞)``) → the activation of the layer before;
- ``Add``/``Sum`` of two tensors → add;
- ``GlobalAveragePool``, ``GlobalMaxPool``, ``ReduceMean`` over H, W, ``AveragePool``,
  ``MaxPool`` → pool;
- ``Reshape``, ``Flatten``, ``Squeeze``, ``Unsqueeze``, ``Identity``, ``Dropout`` and
  ``Softmax`` are free and leave the tensor as it was; ``Constant``, ``Shape`` and anything
  computed from constants only are not layers.

``NEEDS_KINDS`` lists the ops that need layer kinds mbcost does not have yet (ConvTranspose,
Mul, Concat, Split, Resize, HardSwish, HardSigmoid, Sigmoid, …): like an op nobody knows,
they make the import fail with exit 2, all listed — never a silent zero. With
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
from ..core.spec import ArchSpec, WidthRule
from ..errors import SpecError, UsageError, Where
from .onnx_export import require_onnx

allow_unknown_default = False  # the CLI's --allow-unknown sets it for one invocation


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
                          f"needs a standalone layer kind (issue 11)")
        if self.readers(v.layer) != 1:
            raise _Cannot(f"a {what} on {v.layer}, whose output is also read elsewhere, needs a "
                          "standalone layer kind (issue 11)")
        return layer


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def _padding(r: _Reader, node, x: _Val, k, s, pads, auto_pad: str) -> tuple[str, tuple, tuple]:
    """'same' or 'valid', whichever rule gives the model's output size (the counts depend on
    the output size only); otherwise the layer needs issue 11's integer padding."""
    h, w, _ = r.hwc(node.input[0], node)
    h, w = h - x.pads[0] - x.pads[2], w - x.pads[1] - x.pads[3]  # the map before a folded Pad
    oh, ow, _ = r.hwc(node.output[0], node)
    same = (-(-h // s[0]), -(-w // s[1]))
    valid = ((h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1)
    total = [p + q for p, q in zip(pads, x.pads)]
    if _text(auto_pad) in ("SAME_UPPER", "SAME_LOWER") or (oh, ow) == same and any(total):
        mode = "same"
    elif not any(total) and (oh, ow) == valid:
        mode = "valid"
    elif (oh, ow) == same:
        mode = "same"
    else:
        raise _Cannot(f"pads {list(total)} give a {oh}×{ow} output from {h}×{w}, which neither "
                      "'same' nor 'valid' padding does: needs integer padding (issue 11)")
    return mode, (h, w), (oh, ow)


def _conv(r: _Reader, node) -> None:
    a = _attrs(node)
    x = r.data(node.input[0])
    n, mg, kh, kw = r.dims(node.input[1], node, "weight")
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise _Cannot(f"dilation {list(a['dilations'])} needs the conv option d (issue 11)")
    k, s, g = (kh, kw), tuple(a.get("strides", [1, 1])), a.get("group", 1)
    pads = a.get("pads", [0, 0, 0, 0])
    mode, _, _ = _padding(r, node, x, k, s, (pads[0], pads[1], pads[2], pads[3]), a.get("auto_pad", "NOTSET"))
    m = r.hwc(node.input[0], node)[2]
    if mg * g != m:
        raise _Cannot(f"weight {node.input[1]!r} expects {mg * g} input channels, the input has {m}")
    shared = node.input[1] in r.weights_seen
    r.weights_seen.add(node.input[1])
    kind = "dwconv" if g == m == n and g > 1 else "conv"
    bias = len(node.input) > 2 and bool(node.input[2])
    r.emit(node, kind, n, (x.layer,), r.hwc(node.output[0], node), k=k, s=s, groups=g,
           padding=mode, bias=bias, shared=shared, shared_bias=bias and r.seen(node.input[2]))


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
    layer = r.producer(node.input[0], node, ("conv", "dwconv", "fc"), "BatchNormalization")
    if layer["bn"] if "bn" in layer else False:
        raise _Cannot(f"a second BatchNormalization on {layer['name']} needs a standalone kind (issue 11)")
    layer["bn"] = True
    r.through(node.output[0], r.data(node.input[0]))


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
        layer = r.producer(node.input[0], node, ("conv", "dwconv", "fc", "pool", "add"), node.op_type)
        if layer.get("act", "linear") != "linear":
            raise _Cannot(f"a second activation on {layer['name']} needs a standalone act kind (issue 11)")
        layer["act"] = act
        r.through(node.output[0], r.data(node.input[0]))

    return fold


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
            raise _Cannot("a dilated pool needs issue 11")
        k = tuple(a["kernel_shape"])
        s = tuple(a.get("strides", [1, 1]))
        pads = a.get("pads", [0, 0, 0, 0])
        mode, _, _ = _padding(r, node, x, k, s, tuple(pads), a.get("auto_pad", "NOTSET"))
        r.emit(node, "pool", c, (x.layer,), r.hwc(node.output[0], node), k=k, s=s, op=op,
               padding=mode)

    return pool


def _view(r: _Reader, node) -> None:
    """Reshape, Flatten, Identity, Dropout…: the same values, so the same layer's output."""
    x = r.data(node.input[0])
    for out in node.output[:1]:
        r.through(out, x)


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
        raise _Cannot(f"needs {what} (issue 11)")

    return fail


IMPORTERS: dict[str, Callable[[_Reader, object], None]] = {
    "Conv": _conv,
    "Gemm": _fc,
    "MatMul": _fc,
    "BatchNormalization": _bn,
    "Relu": _act("relu"),
    "Clip": _act("relu6"),
    "Add": _add,
    "Sum": _add,
    "GlobalAveragePool": _pool("avg", True),
    "GlobalMaxPool": _pool("max", True),
    "ReduceMean": _pool("avg", True),
    "AveragePool": _pool("avg", False),
    "MaxPool": _pool("max", False),
    "Pad": _pad,
    **{op: _view for op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout",
                            "Softmax")},
}

# ops that need issue 11's layer kinds: refused with what they need (or opaque with --allow-unknown)
NEEDS_KINDS: dict[str, str] = {
    "ConvTranspose": "the deconv kind", "Mul": "the mul kind", "Concat": "the concat kind",
    "Split": "the split kind", "Resize": "the upsample kind", "Upsample": "the upsample kind",
    "HardSwish": "act: hswish", "HardSigmoid": "act: hsigmoid", "Sigmoid": "act: sigmoid",
    "Tanh": "act: tanh", "LeakyRelu": "act: leaky_relu", "Gelu": "act: gelu",
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


def read(path: str | Path, allow_unknown: bool | None = None) -> ArchSpec:
    """An ONNX model as an architecture every command reads (its layers fixed: α must be 1)."""
    onnx = require_onnx()
    from onnx import numpy_helper

    allow = allow_unknown_default if allow_unknown is None else allow_unknown
    source = str(path)
    try:
        model = onnx.load(str(path))
    except FileNotFoundError:
        raise SpecError("no such file", where=Where(source)) from None
    except Exception as exc:
        raise SpecError(f"not a readable ONNX model ({type(exc).__name__}: {exc})",
                        where=Where(source)) from None
    model = _fold_constants(model)
    g = model.graph
    r = _Reader(onnx, model, source, shapes=_shapes(model))
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
    for node in model.graph.node:
        ins = [t for t in node.input if t]
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
