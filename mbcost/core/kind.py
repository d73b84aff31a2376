"""What a layer kind is: every facet of one kind, declared once, in its own module.

A kind is what an architecture row names (``kind: conv``) and, for a primitive, what the cost
engine costs. Each lives in :mod:`mbcost.core.kinds` as one module that builds one
:class:`Kind`; :data:`mbcost.core.kinds.KINDS` lists them. The facets:

**The row** (what a user writes) — ``keys``: the keys the row takes beyond ``kind``,
``name``, ``from`` and ``n``; ``read``: the row's mapping → the kind's own parameter record
(a frozen dataclass; its checks say file:line and field); ``expand``: that record → explicit
layers (:class:`mbcost.core.expand.Expander` emits them). A composite kind (``separable``,
``mbconv``, …) has only these: it expands into primitives.

**The layer** (what the engine costs; a *primitive*) —

- ``shape``: (layer, input shapes) → output shape, refusing layers that do not fit;
- ``factor``: (layer, input channel counts, convention) → :class:`Factor`, the counts split
  into what α sets and what the resolution sets. Mult-adds come from this one formula and are
  never restated: the element counts, the sweep and every peer profile read them from here;
- ``elements``: the kind's own element counts beyond the generic ones (a BN over the output,
  the activation's elements: :mod:`mbcost.core.elements`), named in ``counts``;
- ``label``: the paper's name for the layer's type ("Conv DW 3×3", V1 Table 2's rows);
  ``kernel``: the table's ``k /s`` text (None: the kind has no window); ``shows_act``;
- ``latency``: the op class the latency model times it as (a name, or a function of the
  costed layer: a grouped conv with one group per channel is ``dwconv``); the model's
  :data:`mbcost.core.latency.CLASSES` maps each class to the constant that prices it;
- ``peers``: per FLOP-counter profile of :data:`mbcost.core.peers.PEERS`, a :class:`Charge`:
  the terms that counter charges for a layer of the kind, by how the implementation calls it,
  with the counter's source line (:func:`generic` for a counter that charges only what any
  layer carries);
- ``weights``: for a kind with weights, their shape given its input; a row may then reuse an
  earlier layer's (``weights: NAME``), which must have that shape;
- ``counting``: the counting decisions — does a following BN fold into it, can it carry a
  bias, what per-element work it does — which its module's docstring states in words.

**Interop** — building it in PyTorch, exporting and importing it in ONNX, writing its layer back
as a row (``mbcost convert``) — is keyed on the kind's name in :mod:`mbcost.interop`. A facet a kind does not have yet is named in
``unsupported`` with the reason, which the CLI prints ("mbcost export: 'toy' has no ONNX
exporter yet: …"); a test fails when a kind lacks a facet without one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .conventions import Convention
from .graph import Layer, Shape, Tokens

if TYPE_CHECKING:
    from .engine import LayerResult
    from .expand import Expander
    from .rows import Row, RowFields

# The activations a row's ``act`` may name (docs/format.md gives each one's formula).
ACTIVATIONS = ("relu", "relu6", "linear", "hswish", "hsigmoid", "sigmoid", "swish", "gelu", "tanh",
               "leaky_relu")


@dataclass(frozen=True)
class Factor:
    """A layer's counts as functions of the map area A: mult-adds m·A, params p0 + p1·A.

    Every count in the papers' convention has this form, because channel counts depend only
    on α and map sizes only on the resolution: the engine evaluates a factor at one area, the
    sweep at thousands. A is the output map's area, or the input's for ``area="in"`` (an fc on
    a flattened map, a transposed conv).
    """

    m: int
    p0: int
    p1: int = 0
    area: str = "out"  # out | in: which map's H·W is A

    def at(self, area: int) -> tuple[int, int]:
        """(mult-adds, params) at a map area."""
        return self.m * area, self.p0 + self.p1 * area


ShapeRule = Callable[[Layer, list[Shape]], Shape]
FactorRule = Callable[[Layer, list[int], Convention], Factor]
ElementRule = Callable[["LayerResult"], dict]
# (a layer's element counts, the implementation) → (component, label, coefficient, elements)
TermRule = Callable[[Any, Any], Iterable[tuple[str, str, int, int]]]


@dataclass(frozen=True)
class Charge:
    """What one FLOP counter charges for a layer of one kind: its terms as a function of the
    layer's element counts (:class:`mbcost.core.elements.Elements`) and of how the implementation
    calls the op (:class:`mbcost.core.peers.Implementation`), said in words, with the counter's
    source file and line where the rule is written.

    A term of component ``weights`` or ``bias`` replaces the profile's own price for that
    component on this layer (a transposed conv's weights per output position, a token Linear's
    parameters once per sequence); any other term is added to the generic ones.
    """

    terms: TermRule
    says: str  # the rule in words, for docs/peers.md (tools/peers_doc.py)
    source: str  # where the counter's code says so: file:line (function)


def _none(e, impl) -> list:
    return []


def generic(source: str, says: str = "the generic terms only (weights, bias, BN, activation)") -> Charge:
    """A counter that charges a kind nothing beyond what every layer may carry, as its profile prices it."""
    return Charge(_none, says, source)


def per_call(op: str, table: Mapping[str, Iterable[tuple[str, str, int, str]]], says: str, source: str,
             *qualifiers: Callable[[Any], str]) -> Charge:
    """A rule by how the implementation calls ``op``: how → [(component, label, coefficient,
    the Elements count it multiplies)]; a way missing from ``table`` adds nothing. ``qualifiers``
    give more names the implementation may key the op on (a pool's type: ``pool.global_avg``)."""
    def terms(e, impl):
        how = impl.how(op, e, *(q(e) for q in qualifiers))
        return [(c, label, k, getattr(e, count)) for c, label, k, count in table.get(how, ())]

    return Charge(terms, says, source)


@dataclass(frozen=True)
class Counting:
    """What a kind's counts include, beyond its weights' mult-adds.

    bn:     'folds' — a BN after it has its own 2·C (or 3, 4) numbers that the papers' bn=0
            folds into its weights; 'own' — a normalisation whose affine γ, β cannot be folded:
            parameters under every convention, ``bn`` does not apply; 'none' — it takes no BN
    bias:   the layer can have a bias, which the ``bias`` convention counts
    work:   its per-element work (what a counter of more than weight products could charge),
            '' for none
    """

    bn: str = "none"
    bias: bool = False
    work: str = ""


ROW_FACETS = ("read", "expand", "example")
LAYER_FACETS = ("shape", "factor", "elements", "label", "latency", "peers", "counting")
INTEROP_FACETS = ("torch", "onnx_export", "onnx_import", "yaml")


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str  # one line: what it is (docs, --help)
    # the row
    keys: tuple[str, ...] = ()
    read: Callable[["RowFields"], Any] | None = None
    expand: Callable[["Expander", "Row"], None] | None = None
    joins: bool = False  # it reads several tensors through ``from`` (add, concat, mul)
    # the fields of its ``read`` record that name earlier layers besides ``from`` (``map``'s
    # ``like``): inside a block they are scoped to the instance as ``from`` is
    refs: tuple[str, ...] = ()
    # its output has its first input's layout and meaning (an element-wise op: an act, a norm, a
    # softmax, an add): attention scores stay scores through it
    elementwise: bool = False
    # 'down': its stride s shrinks the map by s (conv, dwconv, pool: what an output stride turns
    # into dilation); 'up': it enlarges it (deconv, upsample)
    resamples: str = ""
    # a row of it that fits a 16×16×8 input — or the rows, ``kind`` and ``name`` given, of a
    # small network that uses it (the last row's output is read next) — for the docs and tests
    example: Mapping[str, Any] | list | None = None
    # the layer
    shape: ShapeRule | None = None
    factor: FactorRule | None = None
    elements: ElementRule | None = None
    counts: tuple[str, ...] = ()  # the Elements fields ``elements`` sets
    label: Callable[[Layer], str] | None = None
    kernel: Callable[[Layer], str] | None = None
    shows_act: bool = True
    latency: str | Callable[["LayerResult"], str] | None = None
    # the shape of its weights given its input (a kind with weights): what a row that reuses them
    # (``weights: NAME``) must match
    weights: Callable[[Layer, Shape], tuple[int, ...]] | None = None
    peers: Mapping[str, Charge] | None = None
    counting: Counting | None = None
    # facet → why this kind does not have it (yet)
    unsupported: Mapping[str, str] = field(default_factory=dict)

    @property
    def writable(self) -> bool:
        """A row may name it (an imported-only kind, such as 'opaque', may not)."""
        return self.read is not None

    @property
    def primitive(self) -> bool:
        """The engine costs it (a composite row expands into primitives instead)."""
        return self.factor is not None

    def latency_class(self, result: "LayerResult") -> str:
        return self.latency(result) if callable(self.latency) else self.latency

    def missing(self, facet: str) -> str:
        """The reason this kind has no ``facet``, for messages: 'has no ONNX exporter yet: …'."""
        return self.unsupported.get(facet, "no reason given")


def no_elements(r: "LayerResult") -> dict:
    """A kind with no element counts of its own: only the generic BN and activation rules."""
    return {}


def weightless(layer: Layer, m: list[int], conv: Convention) -> Factor:
    """No weights, so no mult-adds and no parameters in any convention's count."""
    return Factor(0, 0)


def same_shape(layer: Layer, inputs: list[Shape]) -> Shape:
    """The output is the input's shape."""
    return inputs[0]


def fmt_shape(shape: Shape) -> str:
    """A shape as messages print it: 112×112×32, tokens 197×768 (N×C)."""
    if isinstance(shape, Tokens) and shape[1] == 1:
        return f"{shape[0]}×{shape[2]}"
    return "×".join(map(str, shape))


def square_text(pair) -> str:
    """3 for (3, 3); '1×7' for (1, 7)."""
    return str(pair[0]) if pair[0] == pair[1] else "×".join(map(str, pair))


def kernel_text(layer: Layer) -> str:
    """A layer's kernel as the papers print it: '3×3', '1×7'."""
    return f"{layer.k[0]}×{layer.k[0]}" if layer.k[0] == layer.k[1] else "×".join(map(str, layer.k))


def window(layer: Layer) -> str:
    """The table's 'k /s' text of a layer with a window: '3×3 /2'."""
    return f"{kernel_text(layer)} /{square_text(layer.s)}"
