"""``mbcost convert``: any model mbcost reads, written as an architecture YAML in mbcost's own format.

A built-in or YAML file, an ONNX file, a PyTorch module (``torchvision:NAME``, ``timm:NAME``,
``file.py:factory``) — whatever :func:`mbcost.core.engine.load` reads — is expanded at its own
settings and written back as rows, one per layer, through ``WRITERS[kind]`` (each kind's row keys
from its layer; a kind with none says why in its ``unsupported["yaml"]``):

- **names** are the layers' own (a PyTorch module's module paths; an ONNX file's scope paths
  become module paths the same way);
- **repeated structure becomes blocks**: a group of layers named under one prefix (a module:
  ``features.3``, ``layer2.1``; a built-in's ``block3``) that reads one tensor and is read only
  through its last layer is a block instance; instances of the same structure share one
  ``blocks:`` entry, the widths, strides and kernels that differ between them its parameters, and
  consecutive equal instances, each reading the one before, are one call with ``n`` — which
  ``--depth`` scales. A folded call is named ``FIRST-LAST`` of the instances' own names
  (``features.4-6``), its instances ``features.4-6.1``, …;
- **widths α scales**: each conv's, linear's or fc's width is written as ``c`` scaled by the
  file's width rule (the default), ``c`` with ``scale: false`` or ``scale: up``, or ``t``, a
  factor of its input's width rounded by the rule — whichever reproduces the model at every
  width it can be built at besides its own (a built-in expanded at other α, a torchvision model's
  ``width_mult``: :attr:`~mbcost.core.spec.ArchSpec.rebuild`). A model known at one width only
  (an ONNX file, most timm models) gets ``c`` scaled by the rule everywhere. The input and the
  class count are fixed;
- **the implementation** the model came from is written as ``implementation:`` (compare reads it).

Before anything is written the YAML is read back and expanded: its layers must be the model's,
one for one and field for field, or convert fails (exit 3: a bug). At every probe width the
layers whose widths no rule reproduces are listed in the file and on stderr.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Callable

from ..core.engine import run_graph
from ..core.expand import expand
from ..core.graph import NETWORK_INPUT, Graph, Layer
from ..core.kinds import KINDS, writable
from ..core.spec import ArchSpec, recognise_architecture, spec_from_document
from ..core.width import WidthRule
from ..core.yamlio import parse
from ..errors import MbcostError, UsageError

PROBES = (Fraction(35, 100), Fraction(1, 2), Fraction(3, 4), Fraction(7, 5))  # the widths a rule must reproduce
WIDTH_RULES = "floor, make_divisible (= divisible8) or divisibleN (a multiple of N, at least N)"


class Cannot(Exception):
    """A layer no row of today's format writes: the message says why."""


def width_rule(text: str) -> WidthRule:
    """``--width-rule``: floor, make_divisible (torchvision's _make_divisible by 8), divisibleN."""
    if text == "floor":
        return WidthRule("floor", min=1, divisor=1)
    if text == "make_divisible":
        return WidthRule("make_divisible", 8, 8)
    m = re.fullmatch(r"divisible([1-9][0-9]{0,3})", text or "")
    if m:
        n = int(m[1])
        return WidthRule("make_divisible", n, n)
    raise UsageError(f"expected {WIDTH_RULES}, got {text!r}", field="--width-rule")


def rule_text(rule: WidthRule) -> str:
    return "floor" if rule.rule == "floor" else f"divisible{rule.divisor}" if rule.min == rule.divisor \
        else f"make_divisible (divisor {rule.divisor}, min {rule.min})"


# --- the rows of each kind -------------------------------------------------------------------

def _pair(p) -> int | list[int]:
    return p[0] if p[0] == p[1] else [p[0], p[1]]


def _padding(layer: Layer) -> dict:
    if layer.padding == "same" or _pointwise(layer) and layer.padding == "valid":
        return {}
    return {"padding": layer.padding if isinstance(layer.padding, str) else _pair(layer.padding)}


def _pointwise(layer: Layer) -> bool:
    """A 1×1 undilated window, whose 'same' and 'valid' outputs are one size: ⌈H/s⌉."""
    return layer.k == (1, 1) and layer.d == (1, 1)


def _window(layer: Layer, k_default=(1, 1)) -> dict:
    out = {}
    if layer.k != k_default:
        out["k"] = _pair(layer.k)
    if layer.s != (1, 1):
        out["s"] = _pair(layer.s)
    if layer.d != (1, 1):
        out["d"] = _pair(layer.d)
    return out


def _conv(layer: Layer) -> dict:
    return {**_window(layer), **({"groups": layer.groups} if layer.groups != 1 else {}), **_padding(layer)}


def _dwconv(layer: Layer) -> dict:
    return {**_window(layer, (3, 3)), **_padding(layer),
            **({"multiplier": layer.multiplier} if layer.multiplier != 1 else {})}


def _deconv(layer: Layer) -> dict:
    out = _conv(layer)
    if layer.output_padding != (0, 0):
        out["output_padding"] = _pair(layer.output_padding)
    return out


def _pool(layer: Layer) -> dict:
    if layer.act != "linear":
        raise Cannot(f"a pool with an activation ({layer.act}) after it")
    out = {"op": layer.op}
    if layer.global_:
        return {**out, "global": True}
    out["k"] = _pair(layer.k)
    if layer.s != layer.k:
        out["s"] = _pair(layer.s)
    out.update(_padding(layer))
    if layer.ceil:
        out["ceil"] = True
    return out


def _none(layer: Layer) -> dict:
    return {}


def _map(layer: Layer) -> dict:
    out = {"size": _pair(layer.size)} if layer.size and len(layer.inputs) == 1 else {}
    if layer.k != (1, 1):
        out["patch"] = _pair(layer.k)
    if layer.mode:
        out["resize"] = layer.mode
    return out


def _tokens(layer: Layer) -> dict:
    out = {"patch": _pair(layer.k)} if layer.k != (1, 1) else {}
    if layer.mode:
        out["resize"] = layer.mode
    return out


def _upsample(layer: Layer) -> dict:
    # like: a map whose H×W it takes (DeepLab's image pooling, its logits): written at the row
    out = {} if layer.shape_only else {"scale": layer.up} if layer.up else {"size": _pair(layer.size)}
    return {**out, **({"mode": layer.mode} if layer.mode and layer.mode != "nearest" else {})}


def _fixed(**fields: Callable[[Layer], object]) -> Callable[[Layer], dict]:
    return lambda layer: {k: f(layer) for k, f in fields.items()}


# kind → its row's keys from a layer (beyond kind, name, from, the width, act, bn and bias, which
# convert writes for every kind that takes them)
WRITERS: dict[str, Callable[[Layer], dict]] = {
    "conv": _conv, "dwconv": _dwconv, "deconv": _deconv, "fc": _none, "linear": _none, "pool": _pool,
    "add": _none, "sub": _none, "concat": _none, "mul": _none, "matmul": _fixed(heads=lambda L: L.heads),
    "split": lambda L: {"parts": [c // math.gcd(*L.sizes) for c in L.sizes]}, "shuffle": _fixed(groups=lambda L: L.groups),
    "upsample": _upsample, "act": _fixed(act=lambda L: L.act), "flatten": _none, "dropout": _none, "layernorm":
    lambda L: {} if L.affine else {"affine": False},
    "groupnorm": lambda L: {"groups": L.groups, **({} if L.affine else {"affine": False})},
    "batchnorm": _none, "layerscale": _none, "softmax": _none, "attn_bias": _fixed(offsets=lambda L: L.extra),
    "tokens": _tokens, "map": _map, "cls_token": lambda L: {} if L.extra == 1 else {"tokens": L.extra},
    "pos_embed": _none,
}
WIDTHS = ("conv", "deconv", "fc", "linear")  # the kinds whose output width a row states
JOINS = ("add", "sub", "concat", "mul", "matmul")


# the row-level defaults of act, bn and bias: (kind) → the layer's value when the row says nothing
def _defaults(kind: str, top: dict) -> dict:
    if kind in ("conv", "dwconv", "deconv"):
        return {"act": top["activation"], "bn": top["batch_norm"], "bias": top["bias"]}
    if kind in ("fc", "linear"):
        return {"act": "linear", "bn": False, "bias": True}
    if kind in ("add", "batchnorm"):
        return {"act": "linear"}
    return {}


# --- widths ---------------------------------------------------------------------------------

@dataclass
class Probe:
    """The model at another width α: each layer's output width and its input's, by layer index."""

    alpha: Fraction
    widths: list[tuple[int, int]]


def _in_width(graph: Graph, layer: Layer, channels: dict) -> int:
    return channels[layer.inputs[0]]


def _channels(graph: Graph) -> dict[str, int]:
    out = {NETWORK_INPUT: graph.input_shape[2]}
    for L in graph.layers:
        for t, c in L.outputs():
            out[t] = c
    return out


def _widths(graph: Graph) -> list[tuple[int, int]]:
    ch = _channels(graph)
    return [(L.c, ch[L.inputs[0]]) for L in graph.layers]


def _width_keys(layer: Layer, i: int, m1: int, probes: list[Probe], rule: WidthRule,
                classes: int | None) -> tuple[dict, bool]:
    """The width keys of a layer's row — and False when none reproduces every probe (it is then
    written as c, scaled by the rule)."""
    c1 = layer.c
    seen = [(p.alpha, *p.widths[i]) for p in probes]
    if layer.kind in ("fc", "linear") and classes is not None and c1 == classes and all(c == c1 for _, c, _ in seen):
        return ({} if layer.kind == "fc" else {"c": "classes"}), True
    if layer.kind == "fc":  # an fc row's c is its width at every α, unless it says scale
        options = [{"c": c1}, {"c": c1, "scale": True}, {"c": c1, "scale": "up"}]
    else:
        options = [{"c": c1}]
    if layer.kind == "conv" and m1:
        # after c: a width tied to this one (an SE gate's) is c too. The factor is the ratio at
        # this width, or a simple one the rule rounds to it (torchvision's SE squeeze,
        # _make_divisible(expanded // 4): 72 → 24 is t 1/4, not 1/3)
        ts = dict.fromkeys([Fraction(c1, m1), *(Fraction(1, d) for d in (2, 4, 8, 16)),
                            *(Fraction(k) for k in (2, 3, 4, 6))])
        options += [{"t": t} for t in ts if rule.round(t * m1) == c1]
    options += [{"c": c1, "scale": "up"}, {"c": c1, "scale": False}]
    default = layer.kind != "fc"  # what a row without scale does

    def gives(keys: dict, alpha: Fraction, m: int) -> int:
        if "t" in keys:
            return rule.round(keys["t"] * m)
        scale = keys.get("scale", default)
        if scale is False or (scale == "up" and alpha <= 1):
            return c1
        return rule.apply(c1, alpha)

    for keys in options:
        if all(gives(keys, a, m) == c for a, c, m in seen):
            return keys, True
    return options[0], False


# --- rows -----------------------------------------------------------------------------------

@dataclass
class RowOut:
    """One row to write: the layer's index, full name, kind, the tensors it reads and its keys."""

    index: int
    name: str
    kind: str
    inputs: tuple[str, ...]
    keys: dict
    outputs: tuple[str, ...]
    note: str = ""


def _rows(graph: Graph, probes: list[Probe], rule: WidthRule, top: dict) -> tuple[list[RowOut], list[str]]:
    ch = _channels(graph)
    rows, unmatched = [], []
    for i, L in enumerate(graph.layers):
        if L.shared or L.shared_bias:
            raise UsageError(f"layer {L.name} reuses an earlier layer's weights, which no row can say yet (the "
                             "format has no shared weights)", field="arch")
        writer = WRITERS.get(L.kind)
        if writer is None:
            why = KINDS[L.kind].missing("yaml") if L.kind in KINDS else "it is not a registered kind"
            raise UsageError(f"layer {L.name} ({L.kind}) has no row: {why}", field="arch")
        try:
            keys = writer(L)
        except Cannot as why:
            raise UsageError(f"layer {L.name} ({L.kind}) has no row: {why}", field="arch") from None
        note = ""
        if L.kind in WIDTHS:
            width, ok = _width_keys(L, i, ch[L.inputs[0]], probes, rule, graph.classes)
            if not ok:
                at = ", ".join(f"α {float(p.alpha)}: {p.widths[i][0]}" for p in probes)
                note = f"no rule gives the model's widths ({at}); written as c scaled by the rule"
                unmatched.append(L.name)
            keys = {**width, **keys}
        for key, default in _defaults(L.kind, top).items():
            value = getattr(L, key)
            if value != default:
                keys[key] = value
        if L.shape_only:  # a map's or an upsample's like: a shape reference, not an input
            keys["like"] = L.inputs[-1]
        rows.append(RowOut(i, L.name, L.kind, L.data_inputs, keys,
                           tuple(t for t, _ in L.outputs()), note))
    return rows, unmatched


def _top(graph: Graph) -> dict:
    """The file-wide defaults: the commonest activation, BN and bias of the conv layers."""
    convs = [L for L in graph.layers if L.kind in ("conv", "dwconv", "deconv")]

    def common(attr, default):
        counts = Counter(getattr(L, attr) for L in convs)
        return counts.most_common(1)[0][0] if counts else default

    return {"activation": common("act", "linear"), "batch_norm": common("bn", False), "bias": common("bias", False)}


# --- blocks ---------------------------------------------------------------------------------

ABSTRACT = ("c", "t", "s", "k")  # the keys that may differ between instances of one block
# the abstract keys a row of each kind has when it does not write them: instances that differ only
# in a stride or a kernel are one block, whether or not theirs is the default
IMPLIED = {"conv": {"k": 1, "s": 1}, "deconv": {"k": 1, "s": 1}, "dwconv": {"k": 3, "s": 1}}


@dataclass
class Instance:
    prefix: str
    start: int  # row positions [start, stop)
    stop: int
    source: str  # the tensor it reads
    signature: tuple
    values: tuple


@dataclass
class Block:
    name: str
    signature: tuple
    params: list[str] = field(default_factory=list)  # one per varying abstract slot (None: literal)
    slots: list[str | None] = field(default_factory=list)
    literal: list = field(default_factory=list)


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:j]) for j in range(1, len(parts))]


def _instance(rows: list[RowOut], prefix: str, start: int, stop: int, readers: dict, outputs: set) -> Instance | None:
    if stop - start < 2 or rows[stop - 1].kind == "split":
        return None
    inner = {t for r in rows[start:stop] for t in r.outputs}
    sources = {t for r in rows[start:stop] for t in r.inputs if t not in inner}
    if len(sources) != 1 or rows[start].inputs[0] not in sources:
        return None
    last = rows[stop - 1].outputs[-1]
    for t in inner - {last}:
        if t in outputs or any(j < start or j >= stop for j in readers.get(t, ())):
            return None
    (source,) = sources
    n = len(prefix) + 1

    def rel(t: str) -> str:
        return "in" if t == source else t[n:]

    sig, values = [], []
    prev = source
    for r in rows[start:stop]:
        keys = []
        for k, v in _ordered({**IMPLIED.get(r.kind, {}), **r.keys}).items():
            if k in ABSTRACT and not isinstance(v, (list, str)):
                keys.append((k, "§"))
                values.append(v)
            else:
                keys.append((k, _hashable(rel(v) if k == "like" else v)))
        ins = tuple(rel(t) for t in r.inputs) if (r.kind in JOINS or r.inputs[0] != prev) else None
        sig.append((r.name[n:], r.kind, ins, tuple(keys)))
        prev = r.outputs[-1]
    return Instance(prefix, start, stop, source, tuple(sig), tuple(values))


ORDER = ("c", "t", "scale", "k", "s", "d")


def _ordered(keys: dict) -> dict:
    """A row's keys in one order (widths, then the window, then the rest as written), so instances
    that state a default and those that imply it read alike."""
    return {k: keys[k] for k in sorted(keys, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER))}


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def _instances(rows: list[RowOut], outputs: set) -> list[Instance]:
    """The block instances, chosen top-down: a module whose structure occurs twice or more is an
    instance; otherwise its submodules are looked at."""
    readers: dict[str, list[int]] = {}
    for j, r in enumerate(rows):
        for t in r.inputs:
            readers.setdefault(t, []).append(j)
    spans: dict[str, list[int]] = {}
    for j, r in enumerate(rows):
        for p in _prefixes(r.name) + [r.name]:
            spans.setdefault(p, []).append(j)
    found = {}
    for p, js in spans.items():
        if js == list(range(js[0], js[-1] + 1)):
            inst = _instance(rows, p, js[0], js[-1] + 1, readers, outputs)
            if inst is not None:
                found[p] = inst
    counts = Counter(i.signature for i in found.values())
    chosen, covered = [], set()
    for p in spans:  # in order of first appearance: parents before their children
        inst = found.get(p)
        if inst is None or counts[inst.signature] < 2 or any(j in covered for j in range(inst.start, inst.stop)):
            continue
        chosen.append(inst)
        covered.update(range(inst.start, inst.stop))
    used = Counter(i.signature for i in chosen)  # a structure another chosen module covered is no block
    return sorted((i for i in chosen if used[i.signature] > 1), key=lambda i: i.start)


def _blocks(instances: list[Instance], names: Callable[[Instance], str]) -> dict[tuple, Block]:
    by_sig: dict[tuple, list[Instance]] = {}
    for inst in instances:
        by_sig.setdefault(inst.signature, []).append(inst)
    blocks, taken = {}, set(writable()) | {"input", "in"}
    for sig, insts in by_sig.items():
        base = names(insts[0])
        name, j = base, 1
        while name in taken:
            j += 1
            name = f"{base}_{j}"
        taken.add(name)
        b = Block(name, sig)
        slots = list(zip(*[i.values for i in insts])) if insts[0].values else []
        keys = [k for row in sig for k, v in row[3] if v == "§"]
        params: dict[tuple, str] = {}
        used = Counter()
        for key, vals in zip(keys, slots):
            if len(set(vals)) == 1:
                b.slots.append(None)
                b.literal.append(vals[0])
                continue
            if vals not in params:
                used[key] += 1
                params[vals] = key if used[key] == 1 else f"{key}{used[key]}"
                b.params.append(params[vals])
            b.slots.append(params[vals])
            b.literal.append(None)
        blocks[sig] = b
    return blocks


# --- the text -------------------------------------------------------------------------------

def _scalar(v) -> str:
    import yaml

    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else f'"{v.numerator}/{v.denominator}"'
    if isinstance(v, tuple):
        v = list(v)
    text = yaml.safe_dump(v, default_flow_style=True, width=10**6, allow_unicode=True).strip()
    return text[:-4].rstrip() if text.endswith("\n...") else text


def _flow(d: dict) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in d.items()) + "}"


def _row_dict(kind: str, name: str, ins: tuple | None, keys: dict, n: int = 1) -> dict:
    out = {"kind": kind, "name": name}
    if n > 1:
        out["n"] = n
    if ins is not None:
        out["from"] = list(ins) if len(ins) > 1 or kind in JOINS else ins[0]
    out.update(keys)
    return out


@dataclass(frozen=True)
class Conversion:
    """What convert writes, and what it found on the way."""

    text: str
    layers: int
    blocks: int
    unmatched: tuple[str, ...]  # layers whose widths no rule reproduces at the probe widths
    probes: tuple[Fraction, ...]
    rule: WidthRule
    differs: tuple[tuple[Fraction, str], ...] = ()  # (α, how the file differs from the model there)


def convert(spec: ArchSpec, rule: WidthRule | None = None, *, source: str | None = None,
            probe_alphas: tuple[Fraction, ...] = PROBES) -> Conversion:
    """The architecture YAML of ``spec`` at its own settings (a variant's α, depth and resolution),
    with widths written for ``rule`` (default: the file's own, else divisible8)."""
    alpha, depth = spec.alpha or Fraction(1), spec.depth or Fraction(1)
    graph = expand(spec, alpha, spec.resolution, depth=depth)
    run_graph(graph)  # its layers fit together (a file that cannot be costed is not converted either)
    if graph.unknown:
        raise UsageError(f"{spec.source} has ops mbcost does not cost ({', '.join(dict.fromkeys(graph.unknown))}): "
                         "a YAML cannot say what they are", field="arch")
    repeated = next((L for L in graph.layers if L.times > 1), None)
    if repeated is not None:  # a block call's times: N; a row per layer cannot say it (yet)
        raise UsageError(f"{spec.source}'s layer {repeated.name} runs {repeated.times} times per inference (a "
                         "block called with times:); convert writes each layer once and cannot say that yet",
                         field="arch")
    graph = _clean_names(graph)
    rule = rule or (spec.width if spec.prebuilt is None else WidthRule("make_divisible", 8, 8))
    probes = _probes(spec, graph, probe_alphas) if alpha == 1 and depth == 1 else []
    top = _top(graph)
    rows, unmatched = _rows(graph, probes, rule, top)
    outputs = set(graph.outputs) or {rows[-1].outputs[-1]}
    module_types = spec.module_classes
    instances = _instances(rows, outputs)
    blocks = _blocks(instances, lambda inst: _block_name(inst, module_types, rows))
    text = _text(spec, graph, rows, instances, blocks, rule, top, probes, unmatched, source)
    conversion = Conversion(text, len(rows), len(blocks), tuple(unmatched), tuple(p.alpha for p in probes), rule)
    differs = _check(conversion, graph, probes)
    if differs:  # said at the top of the file, where its widths are explained
        head, _, body = text.partition("\n# A stage of equal blocks")
        said = "".join(f"\n# At α = {float(a)} it is not the model: {why}." for a, why in differs)
        conversion = replace(conversion, text=f"{head}{said}\n# A stage of equal blocks{body}", differs=tuple(differs))
    return conversion


def _block_name(inst: Instance, module_types: dict, rows: list[RowOut]) -> str:
    """A block's name: the class of the module it is (PyTorch's), else its prefix without digits."""
    name = module_types.get(inst.prefix)
    if not name:
        last = inst.prefix.rsplit(".", 1)[-1]
        name = re.sub(r"[\d_]+$", "", last) or "block"
    name = re.sub(r"\W", "_", name)
    return name if name[:1].isalpha() else f"b_{name}"


def _clean_names(graph: Graph) -> Graph:
    """An ONNX file's scope paths (/features/features.3/conv/Conv) as module paths."""
    from .torch_import import module_names, rename

    if any(L.name.startswith("/") for L in graph.layers):
        return rename(graph, module_names([L.name for L in graph.layers]))
    return graph


def _probes(spec: ArchSpec, graph: Graph, alphas: tuple[Fraction, ...]) -> list[Probe]:
    """The model at other widths, where it can be built at them: a YAML expanded at α, an imported
    model built again (its ``rebuild``); none for a model of one width (an ONNX file)."""
    out = []
    for a in alphas:
        try:
            if spec.prebuilt is None:
                g = expand(spec, a, spec.resolution)
            elif spec.rebuild is not None:
                g = spec.rebuild(a)
                if g is None:
                    return []
            else:
                return []
        except MbcostError:
            continue  # a width it cannot be built at
        if [L.kind for L in g.layers] != [L.kind for L in graph.layers] or \
                [L.inputs for L in _clean_names(g).layers] != [L.inputs for L in graph.layers]:
            continue  # another structure at this width: not a probe of these layers' widths
        out.append(Probe(a, _widths(g)))
    return out


def _text(spec, graph, rows, instances, blocks, rule, top, probes, unmatched, source) -> str:
    from .._version import __version__

    lines = [f"# {spec.title or spec.name}",
             f"# converted by mbcost {__version__} from {source or spec.source}: {len(rows)} layers"
             f"{f', {len(blocks)} blocks' if blocks else ''}; its report is the model's exactly."]
    if probes:
        lines.append(f"# Widths are written so that --alpha reproduces the model built at α = "
                     f"{', '.join(str(float(p.alpha)) for p in probes)} under the width rule {rule_text(rule)}"
                     + (f", except {len(unmatched)} layer{'s' if len(unmatched) > 1 else ''} marked 'no rule'."
                        if unmatched else "."))
    else:
        lines.append(f"# The model is known at this width only: --alpha scales every width by the rule "
                     f"{rule_text(rule)}.")
    lines.append("# A stage of equal blocks is one row with n, which --depth scales.")
    h, w = graph.resolution
    impl = getattr(spec.implementation, "name", None)
    lines += [f"name: {_scalar(spec.name)}", f"title: {_scalar(spec.title or spec.name)}"]
    if impl:
        lines.append(f"implementation: {_scalar(impl)}")
    lines.append(f"input: {_flow({'resolution': h if h == w else [h, w], 'channels': graph.input_shape[2]})}")
    if graph.classes is not None:
        lines.append(f"classes: {graph.classes}")
    width = {"rule": rule.rule, "min": rule.min} if rule.rule == "floor" else \
        {"rule": "make_divisible", "divisor": rule.divisor, "min": rule.min}
    lines += [f"width: {_flow(width)}", f"batch_norm: {_scalar(top['batch_norm'])}",
              f"activation: {top['activation']}", f"bias: {_scalar(top['bias'])}"]
    by_start = {i.start: i for i in instances}
    calls, names = _calls(rows, by_start, blocks)
    if blocks:
        lines.append("blocks:")
        done = set()
        for inst in instances:
            b = blocks[inst.signature]
            if b.name in done:
                continue
            done.add(b.name)
            lines.append(f"  {_scalar(b.name)}:")
            if b.params:
                lines.append(f"    params: {_scalar(b.params)}")
            lines.append("    rows:")
            slot = iter(zip(b.slots, b.literal))
            for (rel, kind, ins, keys), r in zip(inst.signature, rows[inst.start:inst.stop]):
                out = {}
                for k, v in keys:
                    if v == "§":
                        param, lit = next(slot)
                        if param is None and IMPLIED.get(kind, {}).get(k) == lit:
                            continue  # the kind's own default, the same in every instance
                        out[k] = param if param is not None else lit
                    else:
                        out[k] = r.keys.get(k, IMPLIED.get(kind, {}).get(k)) if k != "like" else v
                row = _row_dict(kind, rel, ins, out)
                lines.append(f"      - {_flow(row)}" + (f"   # {r.note}" if r.note else ""))
    lines.append("layers:")
    prev, j = NETWORK_INPUT, 0

    def named(t: str) -> str:
        return names.get(t, t)

    while j < len(rows):
        call = calls.get(j)
        if call is None:
            r = rows[j]
            ins = tuple(map(named, r.inputs)) if r.kind in JOINS or r.inputs[0] != prev else None
            keys = {**r.keys, **({"like": named(r.keys["like"])} if "like" in r.keys else {})}
            lines.append(f"  - {_flow(_row_dict(r.kind, r.name, ins, keys))}" + (f"   # {r.note}" if r.note else ""))
            prev, j = r.outputs[-1], j + 1
            continue
        name, chain, args = call
        inst = chain[0]
        ins = None if inst.source == prev else (named(inst.source),)
        lines.append(f"  - {_flow(_row_dict(blocks[inst.signature].name, name, ins, args, len(chain)))}")
        prev, j = rows[chain[-1].stop - 1].outputs[-1], chain[-1].stop
    outs = [named(t) for t in graph.outputs]
    if outs and (len(outs) > 1 or graph.outputs[0] != rows[-1].outputs[-1]):
        lines.append(f"outputs: {_scalar(outs)}")
    return "\n".join(lines) + "\n"


def _calls(rows: list[RowOut], by_start: dict, blocks: dict) -> tuple[dict, dict]:
    """Each block call — (name, its instances, its arguments) by its first row — and the new names
    of the tensors inside calls with n > 1 (instance i of call Q is Q.i, its last output Q)."""
    calls, names = {}, {}
    j = 0
    while j < len(rows):
        inst = by_start.get(j)
        if inst is None:
            j += 1
            continue
        chain = [inst]
        while True:  # the equal instances after it, each reading the one before: one call with n
            nxt = by_start.get(chain[-1].stop)
            if nxt is None or nxt.signature != inst.signature or nxt.values != inst.values \
                    or nxt.source != rows[chain[-1].stop - 1].outputs[-1] or not _only_next(rows, chain[-1], nxt):
                break
            chain.append(nxt)
        b = blocks[inst.signature]
        args = {}
        for param, v in zip(b.slots, inst.values):
            if param is not None and param not in args:
                args[param] = v
        name = inst.prefix if len(chain) == 1 else f"{inst.prefix}-{chain[-1].prefix.rsplit('.', 1)[-1]}"
        if len(chain) > 1:
            for i, c in enumerate(chain, 1):
                for r in rows[c.start:c.stop]:
                    for t in r.outputs:
                        names[t] = f"{name}.{i}.{t[len(c.prefix) + 1:]}"
            names[rows[chain[-1].stop - 1].outputs[-1]] = name
        calls[j] = (name, chain, args)
        j = chain[-1].stop
    return calls, names


def _only_next(rows: list[RowOut], inst: Instance, nxt: Instance) -> bool:
    """``inst``'s output is read by ``nxt`` only."""
    out = rows[inst.stop - 1].outputs[-1]
    return all(nxt.start <= j < nxt.stop for j, r in enumerate(rows) if out in r.inputs)


# --- the check ------------------------------------------------------------------------------

LAYER_FIELDS = ("kind", "c", "k", "s", "d", "groups", "padding", "output_padding", "multiplier", "sizes", "up", "size",
                "mode", "ceil", "act", "bn", "bias", "op", "global_", "heads", "extra", "affine", "shared",
                "shared_bias")


def structure(graph: Graph) -> list[tuple]:
    """The layers as position-independent records: every field, and inputs by position."""
    index = {NETWORK_INPUT: "input"}
    for i, L in enumerate(graph.layers):
        for j, (t, _) in enumerate(L.outputs()):
            index[t] = (i, j) if L.sizes else i
    return [tuple("same" if f == "padding" and L.padding == "valid" and _pointwise(L) else getattr(L, f)
                  for f in LAYER_FIELDS) + (tuple(index[t] for t in L.inputs),) for L in graph.layers]


def _check(conversion: Conversion, graph: Graph, probes: list[Probe]) -> list[tuple[Fraction, str]]:
    """The YAML read back must expand to the model's layers, one for one and field for field (else
    AssertionError: a bug). At each probe width: where its widths are not the model's."""
    written = spec_from_document(parse(conversion.text, "<converted>", recognise_architecture))
    back = expand(written, Fraction(1), graph.resolution)
    a, b = structure(graph), structure(back)
    if a != b:
        i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        what = f"layer {i} ({graph.layers[i].name if i < len(a) else '—'}): {a[i] if i < len(a) else '—'} ≠ " \
            f"{b[i] if i < len(b) else '—'}"
        raise AssertionError(f"the converted YAML does not expand to the model's layers: {what}")
    differs = []
    for p in probes:
        try:
            got = _widths(expand(written, p.alpha, graph.resolution))
        except MbcostError as exc:
            differs.append((p.alpha, f"the file cannot be built: {exc.message}"))
            continue
        off = [graph.layers[i].name for i, (x, y) in enumerate(zip(got, p.widths)) if x[0] != y[0]]
        if off:
            differs.append((p.alpha, f"{len(off)} layer{'s' if len(off) > 1 else ''} of other widths than the "
                                     f"model's ({', '.join(off[:4])}{' …' if len(off) > 4 else ''})"))
    return differs
