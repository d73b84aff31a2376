"""An ONNX model validated before it is costed (issue 26): what onnx's checker says of each node,
and the rules of the ops mbcost reads that the checker leaves open. Every refusal is one
:class:`~mbcost.errors.SpecError` naming the node (or initializer), the field and what was
expected, so a malformed model is exit 2, never a count of a model that does not exist, and
never exit 3.

- **Nodes**: ``onnx.checker.check_node`` against the model's opsets — input and output counts
  (a BatchNormalization with one input, a Conv or Gemm with one, a node with no outputs),
  required attributes (a MaxPool without ``kernel_shape``), attribute types. The tensors
  themselves are checked here rather than by ``check_model``, which would read every weight.
- **Control flow** (``If``, ``Loop``, ``Scan``, any node holding a subgraph): refused. mbcost
  costs one straight-line graph; a conv inside a branch was dropped with exit 0 (221,184
  mult-adds reported, 18.9M missing), and a node fed by a constant condition was taken for a
  constant. Refusing is the honest answer until branches can be costed.
- **Attributes the importer reads**: ``auto_pad`` one of NOTSET, SAME_UPPER, SAME_LOWER,
  VALID; ``kernel_shape``, ``strides``, ``dilations`` of two positive values, ``pads`` of four
  non-negative ones, a ConvTranspose's ``output_padding`` of two, each smaller than its stride
  or dilation (PyTorch's rule); text attributes valid UTF-8.
- **Tensors**: a Conv or ConvTranspose weight is 4-D (mbcost costs 2-D convolutions); an
  initializer's stored values are as many as its dims say; a Clip's bounds are scalars.
- **External data**: never opened, wherever it points — the model's own folder included (a
  location of ``.env`` would otherwise be read, and small initializer values can reach error
  messages). A weight stored outside the file is costed from its dims, which the file holds; a
  small initializer stored outside (≤ 64 values: the pads, axes, shapes and bounds whose values
  the importer reads) is refused, since its values cannot be known without reading it.
- **Names**: a Split's parts are the layers ``name.0``, ``name.1``…; a node whose own name is
  one of those is renamed (``sp.1`` → ``sp.1_``) so no model can make two layers one.
"""
from __future__ import annotations

from ..errors import SpecError, Where

AUTO_PAD = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
WINDOWED = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool")
SMALL = 64  # values: the initializers whose values the importer reads (pads, axes, bounds)


# what reading a malformed model can raise past the checks here (numpy's and onnx's own
# complaints about a value of the wrong type or size); the importer's own refusals are SpecErrors
MALFORMED = (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError, UnicodeDecodeError)


def malformed(source: str, exc: Exception) -> SpecError:
    """The one line for a model whose reading failed on a malformed value."""
    text = str(exc).split("\n")[0].strip()[:200] or type(exc).__name__
    return SpecError(f"not a well-formed ONNX model ({type(exc).__name__}: {text})", where=Where(source))


def _name(node) -> str:
    return node.name or (node.output[0] if len(node.output) and node.output[0] else node.op_type)


def validate(model, source: str):
    """``model`` checked, its external-data entries dropped (never opened), and its node names
    made collision-proof; the model returned. Raises one SpecError on the first problem."""
    import onnx

    where = Where(source)

    def fail(what: str, message: str):
        raise SpecError(f"{what}: {message}", where=where)

    g = model.graph
    _initializers(g, fail)
    ctx = onnx.checker.C.CheckerContext()
    ctx.ir_version = model.ir_version or onnx.IR_VERSION
    ctx.opset_imports = {o.domain: o.version for o in model.opset_import} or {"": onnx.defs.onnx_opset_version()}
    # onnx ≥ 1.16 takes the lexical scope (what a subgraph may read); older ones do not
    scope = (onnx.checker.C.LexicalScopeContext(),) if hasattr(onnx.checker.C, "LexicalScopeContext") else ()
    dims = {i.name: tuple(i.dims) for i in g.initializer}
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant" and len(n.output)}
    for node in g.node:
        what = f"node {_name(node)!r} ({node.op_type})"
        for a in node.attribute:  # before the checker, which would echo a subgraph's contents
            if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) or a.HasField("g") or len(a.graphs):
                fail(f"{what}.{a.name}", "holds a subgraph (control flow); mbcost costs one straight-line graph "
                     "and refuses branches and loops rather than count them as nothing")
            for text in ([a.s] if a.type == onnx.AttributeProto.STRING else list(a.strings)):
                try:
                    text.decode("utf-8")
                except UnicodeDecodeError:
                    fail(f"{what}.{a.name}", "expected UTF-8 text, got bytes that are not")
        if not len(node.output) or not any(node.output):
            fail(what, "expected at least one output, the node has none")
        if not node.domain and not onnx.defs.has(node.op_type, ctx.opset_imports.get("", 1)):
            continue  # an op the standard has not: the importer names it as unknown (or opaque)
        if node.domain:
            continue  # custom domains: the checker has no schema; the importer names the op
        try:
            onnx.checker.check_node(node, ctx, *scope)
        except Exception as exc:  # the checker's ValidationError, and others on what it cannot parse
            fail(what, _plain(str(exc)))
        _attributes(node, what, fail)
        _tensors(node, what, dims, consts, fail)
    _collision_proof(g)
    return model


def _plain(message: str) -> str:
    """The checker's first line, its arity complaint in the words of the other refusals."""
    import re

    line = message.split("\n")[0].strip().rstrip(".")
    m = re.search(r"has (input|output) size (\d+) not in range \[min=(\d+), max=(\d+)\]", line)
    if m:
        kind, n, lo, hi = m.groups()
        many = lo if lo == hi else f"{lo} to {hi}" if int(hi) < 2**31 - 1 else f"at least {lo}"
        return f"expected {many} {kind}s, the node has {n}"
    return line


def _initializers(g, fail) -> None:
    from onnx import TensorProto, helper

    for t in g.initializer:
        what = f"initializer {t.name!r}"
        if any(d < 0 for d in t.dims):
            fail(what, f"expected dims ≥ 0, got {list(t.dims)}")
        n = 1
        for d in t.dims:
            n *= d
        try:
            size = helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
        except Exception:
            fail(what, f"expected a known element type, got data_type {t.data_type}")
        if t.data_location == TensorProto.EXTERNAL:
            location = next((e.value for e in t.external_data if e.key == "location"), "")
            if n <= SMALL:
                fail(what, f"its values are stored outside the file ({location!r}), which mbcost never reads; "
                     "save the model with its small tensors inside (onnx.save(..., size_threshold=1024))")
            # costed from its dims; the location is forgotten, so nothing can open it later
            del t.external_data[:]
            t.data_location = TensorProto.DEFAULT
            continue
        if t.HasField("raw_data") and t.data_type != TensorProto.STRING:
            bits = {TensorProto.INT4: 4, TensorProto.UINT4: 4}.get(t.data_type)
            want = (n * bits + 7) // 8 if bits else n * size
            if len(t.raw_data) != want:
                fail(what, f"expected {want:,} bytes of data for dims {list(t.dims)}, the file holds "
                     f"{len(t.raw_data):,}")
        elif t.data_type not in (TensorProto.COMPLEX64, TensorProto.COMPLEX128):
            held = sum(len(getattr(t, f)) for f in ("float_data", "int32_data", "int64_data", "double_data",
                                                     "uint64_data", "string_data"))
            # a tensor with no values at all is left to the importer (a weight it reads by dims
            # only, as a reader that skips weights' bytes leaves them; a small one it reads fails
            # as malformed there)
            if held and held != n:
                fail(what, f"expected {n:,} values for dims {list(t.dims)}, the file holds {held:,}")


def _ints(node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return list(a.ints)
    return default


def _text(node, name: str, default: str) -> str:
    for a in node.attribute:
        if a.name == name:
            return a.s.decode("utf-8")
    return default


def _attributes(node, what: str, fail) -> None:
    if node.op_type not in WINDOWED:
        return
    auto_pad = _text(node, "auto_pad", "NOTSET")
    if auto_pad not in AUTO_PAD:
        fail(f"{what}.auto_pad", f"expected one of {', '.join(AUTO_PAD)}, got {auto_pad!r}")
    for name, length, lo in (("kernel_shape", 2, 1), ("strides", 2, 1), ("dilations", 2, 1), ("pads", 4, 0),
                             ("output_padding", 2, 0)):
        v = _ints(node, name)
        if v is None:
            continue
        if len(v) != length or any(x < lo for x in v):
            fail(f"{what}.{name}", f"expected {length} integers ≥ {lo} (mbcost costs 2-D maps), got {v}")
    if node.op_type == "ConvTranspose":
        s, d = _ints(node, "strides", [1, 1]), _ints(node, "dilations", [1, 1])
        op = _ints(node, "output_padding", [0, 0])
        if any(o >= max(a, b) for o, a, b in zip(op, s, d)):
            fail(f"{what}.output_padding", f"expected each smaller than the stride {s} or the dilation {d}, got {op}")


def _tensors(node, what: str, dims: dict, consts: dict, fail) -> None:
    if node.op_type in ("Conv", "ConvTranspose") and len(node.input) > 1 and node.input[1] in dims:
        w = dims[node.input[1]]
        if len(w) != 4:
            fail(f"{what}.input[1]", f"expected a 4-D weight (N × M/g × kH × kW: mbcost costs 2-D convolutions), "
                 f"{node.input[1]!r} is {len(w)}-D {list(w)}")
    if node.op_type == "Clip":
        for i, bound in ((1, "min"), (2, "max")):
            if len(node.input) <= i or not node.input[i]:
                continue
            t = node.input[i]
            shape = dims.get(t)
            if shape is None and t in consts:
                v = next((a.t for a in consts[t].attribute if a.name == "value"), None)
                shape = tuple(v.dims) if v is not None else None
            if shape is not None and shape != () and shape != (1,):
                fail(f"{what}.{bound}", f"expected a scalar bound, {t!r} is {list(shape)}")


def _collision_proof(g) -> None:
    """A node named like another Split's part (``sp.1`` beside a Split ``sp``) is renamed with
    trailing underscores until no layer name can be a part's; the importer names each layer
    its node's name (else its first output), which is what is compared."""
    names = [_name(n) for n in g.node]
    parts = {f"{_name(n)}.{i}" for n in g.node if n.op_type == "Split" for i in range(len(n.output))}
    taken = set(names) | parts
    for node, name in zip(g.node, names):
        if name in parts and node.op_type != "Split":
            new = name + "_"
            while new in taken:
                new += "_"
            node.name = new
            taken.add(new)
