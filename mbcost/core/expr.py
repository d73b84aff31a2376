"""Arithmetic in architecture files: ``c: "4*w"``, ``sizes: ["c//2", "c//2"]``, ``t: "72/24"``.

A value written as a string where a number is expected is an expression over the file's
``params`` and a block's parameters. It is parsed with :mod:`ast` and evaluated by walking the
tree — never by Python's ``eval`` — in exact fractions: numbers, names, ``+ - * / // %``,
unary minus, parentheses, and ``min``/``max``. Anything else is refused.

    >>> evaluate("4*w + c//3", {"w": 16, "c": 10})
    Fraction(67, 1)
    >>> evaluate("72/24", {})
    Fraction(3, 1)
"""
from __future__ import annotations

import ast
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


def evaluate(text: str, env: Mapping[str, Fraction | int]) -> Fraction:
    if len(text) > MAX_LENGTH:
        raise ExprError(f"an expression of {len(text)} characters (at most {MAX_LENGTH})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ExprError("not arithmetic over params: numbers, names, + - * / // %, min, max") from None
    return _eval(tree.body, env, text)


def _eval(node: ast.AST, env, text: str) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
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
        raise ExprError("not arithmetic over params: numbers, names, + - * / // %, min, max")
    if abs(value) > MAX_MAGNITUDE:
        raise ExprError(f"{text!r} is larger than {MAX_MAGNITUDE:,}")
    return value
