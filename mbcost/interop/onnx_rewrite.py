"""What the ONNX importer does to a model before it reads a node (mbcost.interop.onnx_import):

- :func:`fold_constants` evaluates what is computed from constants only (an exporter's pad and
  shape arithmetic), so pads and shapes are known, to a fixpoint;
- :func:`infer_shapes` runs ``onnx.shape_inference`` with shape values propagated;
- :func:`origins` traces which of the file's float initializers each constant is computed from
  (an Identity copy, an Expand of a class token, a Gather of a bias table): the parameters it holds;
- :func:`fuse` rewrites the multi-node patterns exporters write for one mbcost layer (GELU's erf
  and tanh forms, a decomposed LayerNorm, torch's GroupNorm, a channel shuffle, torch.roll) into
  one node each, by :class:`Matcher` over :data:`PATTERNS`.
"""
from __future__ import annotations

from dataclasses import dataclass


def attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def infer_shapes(model) -> dict[str, list]:
    import onnx

    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # a model shape inference cannot complete keeps the shapes it states
        pass
    out = {}
    for vi in list(model.graph.input) + list(model.graph.value_info) + list(model.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            out[vi.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
    return out


SQRT2, TANH_C = 2 ** 0.5, (2 / 3.141592653589793) ** 0.5
_ERF = ("Add", ("Erf", ("Div", "x", SQRT2)), 1.0)
_ERF_MUL = ("Add", ("Erf", ("Mul", "x", 1 / SQRT2)), 1.0)
_TANH = [("Add", ("Tanh", ("Mul", ("Add", "x", ("Mul", cube, 0.044715)), TANH_C)), 1.0)
         for cube in (("Mul", "x", ("Mul", "x", "x")), ("Pow", "x", 3.0))]


def _halves(inner) -> list:
    """x·½·inner in the orders exporters write it."""
    return [("Mul", ("Mul", "x", inner), 0.5), ("Mul", ("Mul", "x", 0.5), inner), ("Mul", "x", ("Mul", inner, 0.5))]


_D = ("Sub", "x", ("ReduceMean", "x"))
_NORM = ("Div", _D, ("Sqrt", ("Add", ("ReduceMean", ("Pow", _D, 2.0)), "?eps")))
# (fused op type, the patterns of its node: the tree of ops under its output, x its input)
PATTERNS = [
    ("Swish", [("Mul", "x", ("Sigmoid", "x"))]),
    ("Gelu", [p for inner in [_ERF, _ERF_MUL] + _TANH for p in _halves(inner)]),
    ("LayerNormalization", [("Add", ("Mul", _NORM, "?scale"), "?bias"), _NORM]),
]


@dataclass
class _Matcher:
    """Matches trees of ops under a tensor: a pattern is an op tuple (op type, operand patterns;
    Add's and Mul's operands in either order), a float (a scalar constant), ``x`` (the
    pattern's input, the same tensor wherever it appears) or ``?name`` (a constant)."""

    made: dict
    consts: dict  # small initializers' values
    inits: set

    def match(self, t: str, pat, env: dict, used: list) -> bool:
        if isinstance(pat, float):
            v = self.consts.get(t)
            return v is not None and v.size == 1 and abs(float(v.reshape(())) - pat) < 1e-4 * max(1, abs(pat))
        if isinstance(pat, str):
            if pat.startswith("?") and t not in self.inits:
                return False
            if pat in env:
                return env[pat] == t
            env[pat] = t
            return True
        n = self.made.get(t)
        op, *args = pat
        if n is None or n.op_type != op or len([i for i in n.input if i]) < len(args):
            return False
        for order in ([args, args[::-1]] if op in ("Add", "Mul") else [args]):
            e, u = dict(env), list(used)
            if all(self.match(i, p, e, u) for i, p in zip(n.input, order)):
                env.clear()
                env.update(e)
                used[:] = u + [n]
                return True
        return False


def fuse(model, shapes):
    """Rewrite the multi-node patterns exporters write for one mbcost layer into one node each
    (:data:`PATTERNS`): x·Sigmoid(x) → Swish (SiLU); x·½·(1 + Erf(x/√2)) and
    x·½·(1 + Tanh(√(2/π)·(x + 0.044715·x³))) → Gelu; (x − mean)/√(var + ε)·γ + β over the last
    axis → LayerNormalization; Reshape to N×G×… → InstanceNormalization → Reshape back (→ Mul γ
    → Add β) → GroupNormalization; and Reshape splitting the channel axis in g × C/g → Transpose
    of the two → Reshape back → ChannelShuffle(groups = g). The inner tensors must be read inside
    the pattern only; the fused node keeps the last node's name (a group norm's, its
    InstanceNormalization's) and its output."""
    from onnx import helper, numpy_helper

    nodes = list(model.graph.node)
    made = {o: n for n in nodes for o in n.output}
    readers: dict[str, list] = {}
    for n in nodes:
        for t in n.input:
            if t:
                readers.setdefault(t, []).append(n)
    inits = {i.name for i in model.graph.initializer}
    consts = {i.name: v for i in model.graph.initializer if (v := value_of(i)) is not None}
    m = _Matcher(made, consts, inits)
    drop, fused = set(), {}

    def inside(used, root) -> bool:
        ids = {id(u) for u in used}
        return not ids & drop and all(id(reader) in ids for u in used if u is not root for o in u.output
                                      for reader in readers.get(o, []))

    def only_reader(t, op):
        rs = readers.get(t, [])
        return rs[0] if len(rs) == 1 and rs[0].op_type == op else None

    for n in reversed(nodes):  # the last node first: a pattern's widest match (γ, β and all) wins
        if id(n) in drop:
            continue
        for op, patterns in PATTERNS:
            for pat in patterns:
                env, used = {}, []
                if n.op_type != pat[0] or not m.match(n.output[0], pat, env, used) or not inside(used, n) \
                        or env["x"] in {o for u in used for o in u.output}:
                    continue
                if op == "LayerNormalization" and not _last_axis(used, shapes.get(env["x"]), consts):
                    continue
                drop.update(id(u) for u in used if u is not n)
                ins = [env["x"]] + ([env["?scale"], env["?bias"]] if "?scale" in env else [])
                fused[id(n)] = helper.make_node(op, ins, list(n.output), name=n.name,
                                                **(dict(axis=-1) if op == "LayerNormalization" else {}))
                break
            if id(n) in fused:
                break
    for n in nodes:  # group norm: Reshape(x, N×G×…) → InstanceNormalization → Reshape back (→ Mul γ → Add β)
        first = made.get(n.input[0]) if n.op_type == "InstanceNormalization" else None
        back = first is not None and first.op_type == "Reshape" and only_reader(n.output[0], "Reshape")
        x = first.input[0] if back else None
        if not back or only_reader(first.output[0], "InstanceNormalization") is not n \
                or shapes.get(back.output[0]) != shapes.get(x) or len(shapes.get(first.output[0]) or []) < 2:
            continue
        used, last, ins = [first, n, back], back, [x]
        mul = only_reader(back.output[0], "Mul")
        add = mul is not None and only_reader(mul.output[0], "Add")
        if add:
            scale = next((t for t in mul.input if t in inits), None)
            bias = next((t for t in add.input if t in inits), None)
            if scale and bias:
                used, last, ins = used + [mul, add], add, [x, scale, bias]
        if any(id(u) in drop or id(u) in fused for u in used):
            continue
        drop.update(id(u) for u in used if u is not last)
        fused[id(last)] = helper.make_node("GroupNormalization", ins, list(last.output), name=n.name,
                                           num_groups=int(shapes[first.output[0]][1]))
    for n in nodes:  # shuffle: Reshape(Transpose(Reshape(x, …×g×C/g×…), the two swapped), x's shape)
        t = made.get(n.input[0]) if n.op_type == "Reshape" else None
        first = t is not None and t.op_type == "Transpose" and made.get(t.input[0])
        if not first or first.op_type != "Reshape" or len(readers.get(first.output[0], [])) != 1 \
                or len(readers.get(t.output[0], [])) != 1 or id(n) in fused or {id(t), id(first)} & drop:
            continue
        split, back, x = shapes.get(first.output[0]), shapes.get(n.output[0]), shapes.get(first.input[0])
        perm = list(attrs(t).get("perm", []))
        swapped = [i for i, p in enumerate(perm) if p != i]
        if split is None or x is None or back != x or len(split) != len(x) + 1 or len(swapped) != 2 \
                or swapped[1] != swapped[0] + 1:
            continue
        a = swapped[0]
        if split[:a] != x[:a] or split[a + 2:] != x[a + 1:] or split[a] * split[a + 1] != x[a]:
            continue
        drop.update((id(t), id(first)))
        fused[id(n)] = helper.make_node("ChannelShuffle", [first.input[0]], list(n.output), name=n.name,
                                        groups=int(split[a]), axis=a)
    for n in nodes:  # torch.roll: Concat of Slices of one tensor that cover its axis → the tensor
        parts = [made.get(t) for t in n.input] if n.op_type == "Concat" and len(n.input) > 1 else []
        if not parts or any(p is None or p.op_type != "Slice" or len(readers.get(p.output[0], [])) != 1
                            or id(p) in drop for p in parts) or len({p.input[0] for p in parts}) != 1:
            continue
        dims = shapes.get(parts[0].input[0])
        axis = int(attrs(n).get("axis", 0))
        cuts = [_cut(p, consts, dims) for p in parts]
        if dims is None or None in cuts or any(a != axis % len(dims) for a, _, _ in cuts):
            continue
        bounds = sorted((lo, hi) for _, lo, hi in cuts)  # the parts tile the axis, in some order
        if bounds[0][0] != 0 or bounds[-1][1] != dims[axis % len(dims)] \
                or any(a[1] != b[0] for a, b in zip(bounds, bounds[1:])):
            continue
        drop.update(id(p) for p in parts)
        fused[id(n)] = helper.make_node("Identity", [parts[0].input[0]], list(n.output), name=n.name)
    if not fused:
        return model
    out = [fused.get(id(n), n) for n in nodes if id(n) not in drop]
    model = type(model).FromString(model.SerializeToString())
    del model.graph.node[:]
    model.graph.node.extend(out)
    return model


def _cut(node, consts, dims) -> tuple[int, int, int] | None:
    """(axis, start, end) of a Slice of one axis with step 1 and constant bounds, else None."""
    try:
        starts, ends = (consts[t].reshape(-1) for t in node.input[1:3])
        axes = consts[node.input[3]].reshape(-1) if len(node.input) > 3 and node.input[3] else [0]
        steps = consts[node.input[4]].reshape(-1) if len(node.input) > 4 and node.input[4] else [1]
    except KeyError:
        return None
    if dims is None or len(starts) != 1 or int(steps[0]) != 1:
        return None
    axis = int(axes[0]) % len(dims)
    n = dims[axis]
    if not isinstance(n, int):
        return None
    lo, hi = (max(0, min(int(v) + n if int(v) < 0 else int(v), n)) for v in (starts[0], ends[0]))
    return axis, lo, hi


def _last_axis(used, dims, consts) -> bool:
    """The decomposed layer norm's means are over the last axis only."""
    rank = len(dims) if dims else None
    for u in used:
        if u.op_type == "ReduceMean":
            axes = attrs(u).get("axes")
            if axes is None and len(u.input) > 1 and u.input[1] in consts:
                axes = [int(v) for v in consts[u.input[1]].reshape(-1)]
            if axes is None or len(axes) != 1 or not (axes[0] == -1 or rank is not None and axes[0] == rank - 1):
                return False
    return True


def origins(model) -> dict[str, frozenset]:
    """Each constant tensor → the float initializers of the file it is computed from (an Identity
    copy, an Expand of a class token, a Gather of an attention-bias table): the parameters it
    holds. A Constant node's value, or a shape, holds none."""
    from onnx import TensorProto

    floats = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16)
    out = {i.name: frozenset([i.name] if i.data_type in floats else []) for i in model.graph.initializer}
    for node in model.graph.node:
        ins = [t for t in node.input if t]
        if node.op_type in ("Shape", "Size"):  # of data too: a shape is a value of the graph
            out.update((o, frozenset()) for o in node.output)
        elif all(t in out for t in ins):
            out.update((o, frozenset().union(*(out[t] for t in ins))) for o in node.output)
    return out


FOLD_BUDGET = 1_000_000  # numbers constant folding may compute in all: shape arithmetic needs hundreds

# ops whose output size follows from their inputs' (known) shapes, evaluated when inference does
# not know it: elementwise ops broadcast, the others take or rearrange their inputs' numbers
_ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Min", "Max", "Equal", "Less", "Greater", "LessOrEqual",
                "GreaterOrEqual", "And", "Or", "Not", "Where", "Cast", "Floor", "Ceil", "Round", "Neg", "Abs",
                "Sqrt", "Reciprocal", "Sign", "Identity", "Clip", "Relu", "Sigmoid", "Exp", "Log", "Erf"}
_REARRANGE = {"Concat", "Slice", "Squeeze", "Unsqueeze", "Reshape", "Transpose", "Flatten", "Gather", "Size",
              "ReduceMin", "ReduceMax", "ReduceSum", "ReduceMean", "ReduceProd", "ArgMax", "ArgMin", "Split",
              "Constant"}


class FoldTooLarge(Exception):
    """A constant subgraph computes more numbers than :data:`FOLD_BUDGET`; the message names it."""


def _output_size(node, static: dict, known: dict) -> int | None:
    """How many numbers evaluating ``node`` makes: from shape inference where it knows every
    output's shape, else from its inputs' shapes for the ops of :data:`_ELEMENTWISE` and
    :data:`_REARRANGE`; None for any other (control flow, Range, Expand, Tile… of a size
    inference does not know), which is then left unevaluated."""
    import numpy as np

    dims = [static.get(o) for o in node.output if o]
    if dims and all(d is not None and all(isinstance(x, int) and x >= 0 for x in d) for d in dims):
        return sum(int(np.prod(d, dtype=object)) for d in dims)
    ins = [known[t] for t in node.input if t]
    if node.op_type == "Constant":  # a small one (fold_constants keeps the others as they are)
        return 64
    if node.op_type in _ELEMENTWISE:
        try:
            return int(np.prod(np.broadcast_shapes(*(np.shape(v) for v in ins)), dtype=object))
        except ValueError:
            return None
    if node.op_type == "Gather" and len(ins) == 2:
        return int(np.size(ins[0])) * max(int(np.size(ins[1])), 1)
    if node.op_type in _REARRANGE:
        return sum(int(np.size(v)) for v in ins)
    return None


def fold_constants(model, shapes: dict | None = None, budget: int = FOLD_BUDGET):
    """Evaluate the nodes computed from constants only (an exporter's pad and shape arithmetic:
    Constant → Concat → Reshape → Cast …) with onnx's reference evaluator, and keep their
    values as initializers, so the pads are known and shape inference gets through. Returns
    (the model, the shapes inference gave for the model passed in — the final ones when nothing
    was folded —, the numbers computed). Nothing is evaluated past ``budget`` numbers in all (a
    1 KB ``Range(0, 3e8)``: :class:`FoldTooLarge`), nor control flow, nor an op whose output size
    is not known beforehand. ``shapes``: inference's shapes of ``model``, if already run."""
    import onnx
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    known = {i.name: v for i in model.graph.initializer if (v := value_of(i)) is not None}
    weights = {i.name for i in model.graph.initializer}
    data = {i.name for i in model.graph.input if i.name not in weights}
    kept, folded = [], []
    static = infer_shapes(model) if shapes is None else shapes  # a Shape of a map whose size inference knows is a constant too
    spent = 0
    for node in model.graph.node:
        ins = [t for t in node.input if t]
        dims = static.get(ins[0]) if node.op_type == "Shape" and ins else None
        if dims and all(isinstance(d, int) and d > 0 for d in dims):
            import numpy as np

            a = attrs(node)
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
        if node.op_type == "Constant" and constant_value(node) is None:
            kept.append(node)  # a weight written as a Constant node: its dims are all that is read
            continue
        size = None if node.domain not in ("", "ai.onnx") or any(a.type in (onnx.AttributeProto.GRAPH,
                                                                            onnx.AttributeProto.GRAPHS)
                                                                 for a in node.attribute) \
            else _output_size(node, static, known)
        if size is None:  # control flow, another domain's op, a size not known before: not evaluated
            kept.append(node)
            continue
        spent += size
        if spent > budget:
            raise FoldTooLarge(f"node {node.name or node.output[0]} ({node.op_type}) computes a constant of "
                               f"{size:,} numbers: more than the {FOLD_BUDGET:,} mbcost evaluates while folding "
                               "constants")
        try:
            outs = ReferenceEvaluator(node).run(None, {t: known[t] for t in ins})
        except Exception:  # not evaluable: left as it is
            kept.append(node)
            continue
        for name, value in zip(node.output, outs):
            known[name] = value
            folded.append(numpy_helper.from_array(value, name))
    if not folded:
        return model, static, spent
    model = onnx.ModelProto.FromString(model.SerializeToString())
    del model.graph.node[:]
    model.graph.node.extend(kept)
    model.graph.initializer.extend(folded)
    return model, static, spent


def small(dims) -> bool:
    n = 1
    for d in dims:
        n *= d
    return n <= 64  # pads, axes, clip bounds, shapes: values the importer reads


def external(tensor) -> bool:
    from onnx import TensorProto

    return tensor.data_location == TensorProto.EXTERNAL


def value_of(init):
    """A small initializer's value (pads, axes, shapes); None for a large one (a weight, whose
    dims are all the importer reads) and for one whose data lives outside the file, which is
    never read, wherever it points."""
    from onnx import numpy_helper

    if not small(init.dims) or external(init):
        return None
    return numpy_helper.to_array(init)


_DATA_FIELDS = ("raw_data", "float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data")


def strip_weights(model) -> None:
    """Drop the data of every large initializer, in place (its name, type and dims stay): the
    importer reads weights' shapes only, and shape inference, folding and every copy of the
    graph then work on kilobytes, not the file's gigabytes."""
    for init in model.graph.initializer:
        if not small(init.dims) or external(init):
            for f in _DATA_FIELDS:
                init.ClearField(f)


def constant_value(node):
    if node.op_type == "Constant" and node.attribute:
        from onnx import numpy_helper

        a = node.attribute[0]
        if a.name == "value":
            return None if not small(a.t.dims) or external(a.t) else numpy_helper.to_array(a.t)
        import numpy as np

        if a.name in ("value_float", "value_int"):
            return np.array(a.f if a.name == "value_float" else a.i)
        if a.name in ("value_floats", "value_ints"):
            return np.array(list(a.floats) if a.name == "value_floats" else list(a.ints))
    return None
