"""How an ONNX tensor's axes hold an mbcost tensor: the ONNX importer's bookkeeping of views.

An exporter writes one mbcost tensor in many layouts — a map N×C×H×W, channels-last N×H×W×C,
its tokens N×(H·W)×C, its heads N×h×(H·W)×d — joined by Reshape, Transpose, Squeeze, Unsqueeze
and Flatten, which cost nothing. The importer follows each tensor as a :data:`View`: per ONNX
axis, the factors of the mbcost tensor's dimensions that axis holds, outermost first, each a
(role, size) pair (an axis of size 1 holds none). The roles:

    H, W   a map's rows and columns             N, S   a sequence's tokens, and its sequences
    C      channels                             G, K   attention scores' heads and key positions

(scores keep their query's roles for its positions). A Reshape regroups the factors, splitting
one where a new axis takes part of it (C = 768 into 12 heads of 64); a Transpose permutes the
axes. The importer's consumers then read which axis is channels (a linear, a norm), which are
positions (a pool) and which are heads or sequences (attention's products). A Reshape that
mixes factors of different roles is refused (:class:`Unfollowable`), never guessed.

    >>> v = map_view(14, 14, 768)                      # a patch embedding's 1×768×14×14
    >>> v = transpose(reshape(v, [1, 768, 196]), [0, 2, 1])
    >>> v                                              # 1×196×768: its tokens
    ((), (('H', 14), ('W', 14)), (('C', 768),))
    >>> reshape(v, [1, 196, 12, 64])                   # twelve heads
    ((), (('H', 14), ('W', 14)), (('C', 12),), (('C', 64),))
"""
from __future__ import annotations

from math import prod

Factor = tuple[str, int]
Axis = tuple[Factor, ...]
View = tuple[Axis, ...]

POSITIONS = frozenset("HWNS")


class Unfollowable(ValueError):
    """A Reshape mbcost cannot follow as a regrouping of its input's dimensions."""


def size(axis: Axis) -> int:
    return prod(n for _, n in axis)


def roles(axis: Axis) -> set[str]:
    return {r for r, _ in axis}


def count(view: View, of: set[str] | frozenset[str]) -> int:
    """The product of the view's factors of the given roles (its channels, its positions…)."""
    return prod(n for axis in view for r, n in axis if r in of)


def only(axis: Axis, of: set[str] | frozenset[str]) -> bool:
    """Every factor of the axis has one of these roles (an empty axis has)."""
    return roles(axis) <= set(of)


def map_view(h: int, w: int, c: int) -> View:
    """A map as 1×C×H×W."""
    return ((), single("C", c), single("H", h), single("W", w))


def tokens_view(n: int, seqs: int, c: int) -> View:
    """S sequences of N tokens as S×N×C."""
    return (single("S", seqs), single("N", n), single("C", c))


def single(role: str, n: int) -> Axis:
    """An axis of one factor (none where n = 1)."""
    return ((role, n),) if n > 1 else ()


def reshape(view: View, dims: list[int]) -> View:
    """The view after a row-major Reshape to ``dims`` (Squeeze, Unsqueeze and Flatten are such
    reshapes): the factors in order, adjacent ones of a role merged, each new axis taking
    whole factors or the outer part of one."""
    factors: list[Factor] = []
    for axis in view:
        for r, n in axis:
            if factors and factors[-1][0] == r:
                factors[-1] = (r, factors[-1][1] * n)
            else:
                factors.append((r, n))
    out: list[Axis] = []
    i = 0
    for d in dims:
        axis: list[Factor] = []
        need = d
        while need > 1:
            if i >= len(factors):
                raise Unfollowable(f"a reshape to {list(dims)} holds more than its input")
            r, n = factors[i]
            if need % n == 0:
                axis.append((r, n))
                need //= n
                i += 1
            elif n % need == 0:  # the axis takes the outer part of this factor
                axis.append((r, need))
                factors[i] = (r, n // need)
                need = 1
            else:
                raise Unfollowable(f"a reshape to {list(dims)} mixes a {_name(r)} dimension of {n} with the "
                                   f"next one")
        out.append(tuple(axis))
    if i != len(factors):
        raise Unfollowable(f"a reshape to {list(dims)} holds less than its input")
    return tuple(out)


def transpose(view: View, perm: list[int]) -> View:
    return tuple(view[p] for p in perm)


def relabel(view: View, mapping: dict[str, str]) -> View:
    return tuple(tuple((mapping.get(r, r), n) for r, n in axis) for axis in view)


def with_axis(view: View, i: int, axis: Axis) -> View:
    return view[:i] + (axis,) + view[i + 1:]


def shrink(axis: Axis, part: int, of: int) -> Axis:
    """The axis after keeping ``part`` of its ``of`` entries (a Split's or Slice's part): its
    outermost factor takes the cut, which must fall between whole inner blocks."""
    inner = of // axis[0][1] if axis else 1
    if part % inner:
        raise Unfollowable(f"a part of {part} of an axis of {of} cuts across its inner dimensions")
    outer = part // inner
    return (((axis[0][0], outer),) if outer > 1 else ()) + axis[1:]


def _name(role: str) -> str:
    return {"H": "row", "W": "column", "N": "token", "S": "sequence", "C": "channel", "G": "head",
            "K": "key"}[role]
