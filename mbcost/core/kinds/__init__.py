"""The kind registry: every layer kind mbcost knows, one module each.

Each module below declares one :class:`~mbcost.core.kind.Kind` — its row keys and reader, its
expansion into layers, and for a primitive its shape rule, cost factor, element counts, type
label, table columns, latency class, peer-profile terms and counting decisions — with the
formula in its docstring. :data:`KINDS` lists them in the order ``--help`` and error messages
name them. Adding a kind is one module here (plus one handle per interop format it supports,
in :mod:`mbcost.interop`); ``docs/contributing.md`` walks through the decisions, and
``tests/test_kinds.py`` fails when a kind lacks a facet it does not declare unsupported.

    >>> KINDS["dwconv"].factor.__doc__.split(":")[0]
    'Depthwise conv, one D_K×D_K filter per input channel (``multiplier`` filters with a depth\\n    multiplier)'
    >>> writable()[:4]
    ('conv', 'dwconv', 'pwconv', 'deconv')
"""
from __future__ import annotations

from ..graph import Layer
from ..kind import Kind
from . import (act, add, attention, attn_bias, batchnorm, bottleneck, cls_token, concat, conv, deconv, dropout,
               dwconv, fc, flatten, groupnorm, layernorm, layerscale, linear, map, matmul, mbconv, mlp, mul, opaque,
               patch_embed, pool, pos_embed, pwconv, se, separable, shuffle, softmax, split, sub, tokens, upsample)

KINDS: dict[str, Kind] = {k.name: k for k in (
    conv.KIND, dwconv.KIND, pwconv.KIND, deconv.KIND, separable.KIND, bottleneck.KIND, mbconv.KIND, se.KIND,
    pool.KIND, fc.KIND, add.KIND, sub.KIND, concat.KIND, mul.KIND, split.KIND, shuffle.KIND, upsample.KIND, act.KIND,
    flatten.KIND, dropout.KIND,
    # the transformer era: tokens, norms, attention (issue 22)
    linear.KIND, layernorm.KIND, groupnorm.KIND, batchnorm.KIND, layerscale.KIND, softmax.KIND, matmul.KIND,
    attn_bias.KIND, tokens.KIND, map.KIND, cls_token.KIND, pos_embed.KIND, patch_embed.KIND, mlp.KIND, attention.KIND,
    opaque.KIND,
)}


def writable() -> tuple[str, ...]:
    """The kinds a row may name, in registry order."""
    return tuple(name for name, k in KINDS.items() if k.writable)


def primitives() -> tuple[str, ...]:
    """The kinds the engine costs."""
    return tuple(name for name, k in KINDS.items() if k.primitive)


class UnknownKind(KeyError):
    """A layer of no registered primitive kind: a bug to fix in the registry, never a silent zero."""


def kind_of(layer: Layer) -> Kind:
    """The primitive kind of a layer."""
    k = KINDS.get(layer.kind)
    if k is None or not k.primitive:
        raise UnknownKind(f"layer {layer.name}: {layer.kind!r} is not a registered primitive layer kind "
                          f"(mbcost.core.kinds has {', '.join(primitives())})")
    return k


def type_label(layer: Layer) -> str:
    """The paper's name for a layer's type: 'Conv 1×1', 'Conv DW 3×3', 'Fully Connected'…
    (the rows of the V1 paper's Table 2)."""
    return kind_of(layer).label(layer)


def kernel_text(layer: Layer) -> str:
    """The layer's 'k /s' table column: '3×3 /2', 'global', or '' for a kind with no window."""
    k = kind_of(layer)
    return k.kernel(layer) if k.kernel is not None else ""
