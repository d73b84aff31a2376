"""Arithmetic in architecture files: ``c: "4*w"``, ``sizes: ["c//2", "c//2"]``, ``t: "72/24"``.

A value written as a string where a number is expected is an expression over the file's
``params`` and a block's parameters. It is parsed with :mod:`ast` and evaluated by walking the
tree — never by Python's ``eval`` — in exact fractions: numbers, names, ``+ - * / // %``,
unary minus, parentheses, and ``min``/``max``. Anything else is refused. Every value stays
finite, at most 10¹² in magnitude and with a denominator of at most 10¹², so no expression can
build a number of thousands of digits.

A row's ``if:`` is a condition over the same names: comparisons (``== != < <= > >=``), ``and``,
``or``, ``not`` and parentheses.

    >>> evaluate("4*w + c//3", {"w": 16, "c": 10})
    Fraction(67, 1)
    >>> evaluate("72/24", {})
    Fraction(3, 1)
    >>> condition("s == 1 and k > 0", {"s": 1, "k": 3})
    True
"""
from __future__ import annotations

import ast
import math
import operator
from fractions import Fraction
from typing import Mapping

MAX_LENGTH = 200
MAX_MAGNITUDE = 10**12  # far beyond any channel count, and cheap to compute with

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_FUNCTIONS = {"min": min, "max": max}


class ExprError(ValueError):
    """What is wrong with an expression, in words for the one-line error."""


def _parse(text: str, what: str) -> ast.AST:
    if len(text) > MAX_LENGTH:
        raise ExprError(f"an expression of {len(text)} characters (at most {MAX_LENGTH})")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ExprError(f"not {what}") from None


ARITHMETIC = "arithmetic over params: numbers, names, + - * / // %, min, max"
CONDITION = "a condition over params: comparisons == != < <= > >=, and, or, not"


def evaluate(text: str, env: Mapping[str, Fraction | int]) -> Fraction:
    return _eval(_parse(text, ARITHMETIC), env, text)


def names(text: str) -> set[str]:
    """The names an expression reads (none for one that does not parse: evaluating it says why)."""
    try:
        tree = _parse(text, ARITHMETIC)
    except ExprError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}


def condition(text: str, env: Mapping[str, Fraction | int]) -> bool:
    """A row's ``if:``: true or false, from comparisons of arithmetic over the params."""
    return _test(_parse(text, CONDITION), env, text)


def _test(node: ast.AST, env, text: str) -> bool:
    if isinstance(node, ast.BoolOp):
        values = [_test(v, env, text) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _test(node.operand, env, text)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        values = [_eval(node.left, env, text)] + [_eval(c, env, text) for c in node.comparators]
        return all(_COMPARE[type(op)](a, b) for op, a, b in zip(node.ops, values, values[1:]))
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    raise ExprError(f"not {CONDITION}")


def _eval(node: ast.AST, env, text: str) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise ExprError(f"{text!r} holds a number too large to be finite")
        value = Fraction(repr(node.value)) if isinstance(node.value, float) else Fraction(node.value)
    elif isinstance(node, ast.Name):
        if node.id not in env:
            known = ", ".join(sorted(env)) or "none defined"
            raise ExprError(f"{node.id!r} is not a parameter; known: {known}")
        value = Fraction(env[node.id])
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, env, text)
        value = -value if isinstance(node.op, ast.USub) else value
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        a, b = _eval(node.left, env, text), _eval(node.right, env, text)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
            raise ExprError(f"{text!r} divides by zero")
        value = _BINARY[type(node.op)](a, b)
        value = Fraction(value)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS \
            and node.args and not node.keywords:
        value = _FUNCTIONS[node.func.id](_eval(a, env, text) for a in node.args)
    else:
        raise ExprError(f"not {ARITHMETIC}")
    return bounded(value, text)


def bounded(value: Fraction, text: str) -> Fraction:
    """``value`` if it is at most 10¹² in magnitude with a denominator of at most 10¹², else
    an ExprError naming ``text``: every number a file gives — an expression's result and each
    step of it, a plain YAML number (``t: 1.0e-300``), a param, a variant's setting — is held to
    this, so no product of them can grow into thousands of digits."""
    if abs(value) > MAX_MAGNITUDE:
        raise ExprError(f"{text!r} is larger than {MAX_MAGNITUDE:,}")
    if value.denominator > MAX_MAGNITUDE:  # 1e-300 ** 24 is tiny and 7,000 digits long
        raise ExprError(f"{text!r} needs more than 12 digits after the point")
    return value
