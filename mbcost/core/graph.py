"""The layer graph: one node per real layer, in execution order, with data-flow edges.

A :class:`Layer` is fully explicit — every channel count is already α-scaled — so the
cost engine never needs to know about rows, repeats or multipliers (timm's builder
draws the same line between decoding block strings and building modules).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..errors import Where

Pair = tuple[int, int]
Shape = tuple[int, int, int]  # (H, W, C), as the papers print "112×112×32"

NETWORK_INPUT = "input"


class Tokens(tuple):
    """A sequence of N tokens of C channels, as the shape (N, S, C): S independent sequences of N
    tokens (S = 1, except for MobileViT's unfolded patches: one sequence per pixel of a patch).
    Every count reads it like a map: N·S positions of C channels. Channels-last or -first is an
    implementation detail, not a cost, so a map and its tokens hold the same elements."""

    __slots__ = ()

    def __new__(cls, n: int, c: int, seqs: int = 1):
        return super().__new__(cls, (n, seqs, c))

    def __repr__(self) -> str:
        return f"Tokens{tuple(self)}"


def with_channels(shape: Shape, c: int) -> Shape:
    """``shape`` with ``c`` channels, in its layout (a map stays a map, tokens stay tokens)."""
    if isinstance(shape, Tokens):
        return Tokens(shape[0], c, shape[1])
    return (shape[0], shape[1], c)


def layout(shape: Shape) -> str:
    """'map', 'tokens' or 'scores', for messages and checks."""
    return "tokens" if isinstance(shape, Tokens) else "scores" if isinstance(shape, Scores) else "map"


def fmt_positions(shape: Shape) -> str:
    """'196 tokens', '14×14 positions': a tensor's positions as a message names them."""
    if isinstance(shape, Tokens):
        return f"{shape[0]} tokens" + (f" in {shape[1]} sequences" if shape[1] > 1 else "")
    return f"{shape[0]}×{shape[1]} positions"


def positions(shape: Shape) -> int:
    """The positions a per-position op (a linear, a norm) runs at: H·W of a map, N·S of tokens."""
    return shape[0] * shape[1]


class Scores(tuple):
    """Attention scores Q·Kᵀ: (N_q, N_kv, heads·S), one N_q × N_kv matrix per head and sequence.
    ``query`` is the query tensor's shape, which A·V's output takes (a map stays a map)."""

    def __new__(cls, nq: int, nkv: int, planes: int, query: Shape):
        self = super().__new__(cls, (nq, nkv, planes))
        self.query = query
        return self

    def __repr__(self) -> str:
        return f"Scores{tuple(self)}"


# Immutable by convention, not frozen=True: a frozen dataclass sets each field through
# object.__setattr__, 6× slower to build (a 100,000-layer diff builds 200,000 of these, 1 s
# of its time); nothing assigns to one after construction (dataclasses.replace makes a new
# one), and unsafe_hash keeps the by-value hash the frozen class had. slots: half the memory.
@dataclass(slots=True, unsafe_hash=True)
class Layer:
    """One primitive layer.

    ``kind`` is one of the primitive kinds the engine costs (:mod:`mbcost.core.kinds`: conv —
    a 1×1 pointwise conv is a conv with k = 1 —, dwconv, fc, pool, add, …). ``c`` is the
    α-scaled output channel count N (for dwconv, pool and add it equals the input's). ``inputs`` name the producers;
    the first is the main path, an add's second is the shortcut.
    """

    name: str
    kind: str
    c: int
    inputs: tuple[str, ...]
    k: Pair = (1, 1)
    s: Pair = (1, 1)
    d: Pair = (1, 1)  # dilation
    groups: int = 1
    padding: str | Pair = "same"  # same | valid | (pad_h, pad_w) on each side, PyTorch-style
    output_padding: Pair = (0, 0)  # deconv
    multiplier: int = 1  # dwconv: N = M · multiplier
    sizes: tuple[int, ...] = ()  # split: the parts' channels, tensors name.0, name.1, …
    up: int | None = None  # upsample: integer scale factor
    size: Pair | None = None  # upsample: output H × W
    mode: str = ""  # upsample: nearest | bilinear
    ceil: bool = False  # pool: PyTorch's ceil_mode
    act: str = "linear"
    bn: bool = False
    bias: bool = False
    op: str = ""  # pool: avg | max
    global_: bool = False
    heads: int = 1  # matmul, attention scores: the heads the channels split into
    extra: int = 0  # cls_token: tokens it prepends; attn_bias: the table's entries per head
    affine: bool = True  # a normalisation's learned γ, β
    block: str | None = None  # the separable / bottleneck block this layer belongs to
    role: str | None = None  # its part in that block: dw, pw, expand, project, add
    row: int = 0  # index of the architecture row it came from, for messages
    # an imported model's layer whose weights (and bias) are an earlier layer's initializers:
    # its parameters are counted once, at that earlier layer
    shared: bool = False
    shared_bias: bool = False  # its bias alone is an earlier layer's initializer

    def outputs(self) -> list[tuple[str, int]]:
        """The tensors this layer makes and their channels: itself, or a split's parts."""
        if self.sizes:
            return [(f"{self.name}.{i}", c) for i, c in enumerate(self.sizes)]
        return [(self.name, self.c)]


@dataclass(frozen=True)
class Graph:
    """An architecture expanded at one (α, resolution): what the cost engine consumes."""

    name: str
    source: str
    alpha: Fraction
    resolution: Pair
    input_shape: Shape
    layers: tuple[Layer, ...]
    classes: int | None = None  # what an fc row without c was built with
    outputs: tuple[str, ...] = ()  # the network's outputs (default: the last layer)
    # where each architecture row is in its file (by Layer.row), so a layer that fails while
    # being costed can be reported as file:line:col like a bad field
    row_where: tuple[Where, ...] = field(default=(), compare=False, repr=False)
    # an imported model read with --allow-unknown: the op types it kept as 'opaque' layers
    # (no cost); every output then says the result is partial
    unknown: tuple[str, ...] = ()
    row_label: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # how the code the network came from calls each op (mbcost.core.peers.Implementation), which
    # some FLOP counters tell apart: the file's ``implementation``, or an imported model's source;
    # None: torchvision's usual one
    implementation: Any = field(default=None, compare=False, repr=False)

    def label(self, layer: Layer) -> str:
        """How messages name the row a layer came from: layers[3], or a block's row."""
        return self.row_label[layer.row] if layer.row < len(self.row_label) else f"layers[{layer.row}]"

    def where(self, layer: Layer) -> Where:
        return self.row_where[layer.row] if layer.row < len(self.row_where) else Where(self.source)

    def edges(self) -> list[tuple[str, str]]:
        """(producer, consumer) pairs, residual shortcuts included."""
        return [(src, layer.name) for layer in self.layers for src in layer.inputs]

    def consumers(self) -> dict[str, list[Layer]]:
        """Each tensor's readers, in execution order (the network input under 'input')."""
        out: dict[str, list[Layer]] = {}
        for layer in self.layers:
            for src in layer.inputs:
                out.setdefault(src, []).append(layer)
        return out
