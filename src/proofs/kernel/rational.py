"""Exact numbers from text: rationals and safe arithmetic expressions.

TRUSTED (part of the reading base of the kernel). Every number of every input file goes through
`parse_rational` or `evaluate_expression`; neither ever passes through a binary float.
Expressions are parsed with Python's `ast` and evaluated over a whitelist of nodes (numbers,
constant names, + - * /, unary minus, integer powers), never with `eval`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from fractions import Fraction

__all__ = ["ExpressionError", "evaluate_expression", "format_rational", "parse_rational"]

_RATIONAL = re.compile(
    r"""^\s*[+-]?(
        \d+\s*/\s*\d+                          # 1/3
      | (\d+\.?\d*|\.\d+)([eE][+-]?\d+)?       # 3, 0.25, .5, 1e-3, 2.5E2
    )\s*$""",
    re.VERBOSE,
)
_MAX_EXPONENT = 10_000


class ExpressionError(ValueError):
    """A number or expression that cannot be read exactly; the message says what is wrong."""


def parse_rational(text: str) -> Fraction:
    """Read a decimal, integer or fraction exactly.

    Examples
    --------
    >>> parse_rational("0.1")
    Fraction(1, 10)
    >>> parse_rational("1/100")
    Fraction(1, 100)
    >>> parse_rational("-2.5e-1")
    Fraction(-1, 4)
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected a number written as text, got {text!r}")
    if not _RATIONAL.match(text):
        raise ExpressionError(f"{text!r} is not a number (write it as 0.25, 1/4 or 2.5e-1)")
    if "/" in text:
        num, den = text.split("/")
        if int(den) == 0:
            raise ExpressionError(f"{text!r} divides by zero")
        return Fraction(int(num), int(den))
    _, _, exponent = text.strip().lower().partition("e")
    if exponent and abs(int(exponent)) > _MAX_EXPONENT:
        raise ExpressionError(f"{text!r} has an exponent beyond ±{_MAX_EXPONENT}")
    return Fraction(text.strip())


def format_rational(value: Fraction) -> str:
    """The canonical text of a rational: an integer, or ``num/den`` in lowest terms.

    >>> format_rational(Fraction(6, 4))
    '3/2'
    """
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def evaluate_expression(text: str | int | Fraction, constants: Mapping[str, Fraction] | None = None) -> Fraction:
    """Evaluate an exact arithmetic expression such as ``"1 - p"`` or ``"(1/3)^2"``.

    Allowed: numbers, names from `constants`, ``+ - * /``, unary ``-``/``+``, parentheses and
    powers (``^`` or ``**``) with an integer exponent.

    >>> evaluate_expression("1 - p", {"p": Fraction(1, 10)})
    Fraction(9, 10)
    """
    if isinstance(text, bool):
        raise ExpressionError(f"expected a number, got the boolean {text!r}")
    if isinstance(text, (int, Fraction)):
        return Fraction(text)
    if not isinstance(text, str):
        raise ExpressionError(f"expected a number or an expression in a string, got {text!r}")
    constants = constants or {}
    try:
        return parse_rational(text)
    except ExpressionError:
        pass
    source = text.replace("^", "**")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r} is not an arithmetic expression ({exc.msg})") from None
    return _Evaluator(source.strip(), constants).visit(tree.body)


class _Evaluator:
    def __init__(self, source: str, constants: Mapping[str, Fraction]) -> None:
        self.source, self.constants = source, constants

    def visit(self, node: ast.expr) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool
        ):
            segment = ast.get_source_segment(self.source, node)
            return parse_rational(segment if segment is not None else str(node.value))
        if isinstance(node, ast.Name):
            if node.id not in self.constants:
                known = ", ".join(sorted(self.constants)) or "none"
                raise ExpressionError(f"unknown constant {node.id!r} (constants defined: {known})")
            return Fraction(self.constants[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.visit(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        raise ExpressionError(f"{ast.get_source_segment(self.source, node)!r} is not allowed in an expression")

    def _binary(self, node: ast.BinOp) -> Fraction:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise ExpressionError(f"division by zero in {self.source!r}")
            return left / right
        if isinstance(node.op, ast.Pow):
            if right.denominator != 1 or abs(right) > _MAX_EXPONENT:
                raise ExpressionError(f"the exponent in {self.source!r} must be an integer of at most {_MAX_EXPONENT}")
            if left == 0 and right < 0:
                raise ExpressionError(f"division by zero in {self.source!r}")
            return left ** int(right)
        raise ExpressionError(f"operator {type(node.op).__name__} is not allowed in {self.source!r}")
