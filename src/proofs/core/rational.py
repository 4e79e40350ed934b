"""Exact numbers from text: rationals and safe arithmetic expressions.

TRUSTED (part of the reading base of the kernel). Every number of every input file goes through
`parse_rational` or `evaluate_expression`; neither ever passes through a binary float.
Expressions are parsed with Python's `ast` and evaluated over a whitelist of nodes (numbers,
constant names, + - * /, unary minus, integer powers), never with `eval`.

Sizes are bounded so that no input can exhaust time or memory: a number (every literal and every
intermediate result) has at most `MAX_DIGITS` digits above and below its fraction bar, a power
whose result would be larger is refused before it is computed, and an expression has at most
`MAX_EXPRESSION_LENGTH` characters and `MAX_DEPTH` levels of nesting.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from fractions import Fraction

from proofs.core.errors import quote

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "MAX_EXPRESSION_LENGTH", "ExpressionError", "evaluate_expression",
           "format_rational", "parse_rational"]

# Each alternative is unambiguous (``\d+`` is never followed by more digits that another part could
# take), so a long token that fails to match is rejected in linear time, not quadratic.
_RATIONAL = re.compile(
    r"""^\s*[+-]?(
        \d+\s*/\s*\d+                          # 1/3
      | (\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?     # 3, 0.25, .5, 1e-3, 2.5E2
    )\s*$""",
    re.VERBOSE,
)
MAX_DIGITS = 4000  # below Python's 4,300-digit limit on int <-> str conversions
_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))
MAX_EXPRESSION_LENGTH = 10_000
MAX_DEPTH = 200
_MAX_EXPONENT = 10_000
_TOO_BIG = f"at most {MAX_DIGITS} digits above and below the fraction bar are allowed"


class ExpressionError(ValueError):
    """A number or expression that cannot be read exactly; the message says what is wrong."""


class _TooLarge(ExpressionError):
    """A number or expression beyond the size limits (final: not retried as an expression)."""


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
        raise ExpressionError(f"expected a number written as text, got {quote(repr(text))}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise _TooLarge(f"{quote(text)} is too long: a number or expression has at most "
                        f"{MAX_EXPRESSION_LENGTH:,} characters")
    if not _RATIONAL.match(text):
        raise ExpressionError(f"{quote(text)} is not a number (write it as 0.25, 1/4 or 2.5e-1)")
    if max(len(part.strip()) for part in text.split("/")) > MAX_DIGITS + 64:  # before int(): no int-str error
        raise _TooLarge(f"{quote(text)} is too long for a number: {_TOO_BIG}")
    if "/" in text:
        num, den = text.split("/")
        if int(den) == 0:
            raise ExpressionError(f"{quote(text)} divides by zero")
        return _bounded(Fraction(int(num), int(den)), quote(text))
    _, _, exponent = text.strip().lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_DIGITS:
        raise _TooLarge(f"{quote(text)} has an exponent beyond ±{MAX_DIGITS}")
    return _bounded(Fraction(text.strip()), quote(text))


def _bounded(value: Fraction, shown: str) -> Fraction:
    """`value`, unless its numerator or denominator has more than `MAX_DIGITS` digits (`shown`
    names it in the message)."""
    if value.numerator.bit_length() > _MAX_BITS or value.denominator.bit_length() > _MAX_BITS:
        raise _TooLarge(f"{shown} is too large a number: {_TOO_BIG}")
    return value


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
        value = Fraction(text)
        digits = round(max(value.numerator.bit_length(), value.denominator.bit_length()) * math.log10(2))
        return _bounded(value, f"a number of about {digits:,} digits")
    if not isinstance(text, str):
        raise ExpressionError(f"expected a number or an expression in a string, got {quote(repr(text))}")
    constants = constants or {}
    try:
        return parse_rational(text)
    except _TooLarge:
        raise
    except ExpressionError:
        pass
    source = text.replace("^", "**").strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if "integer string conversion" in exc.msg:
            raise _TooLarge(f"{quote(text)} holds too large a number: {_TOO_BIG}") from None
        raise ExpressionError(f"{quote(text)} is not an arithmetic expression ({exc.msg[:80]})") from None
    except (ValueError, MemoryError, RecursionError):  # Python's parser gives up on very deep nesting
        raise ExpressionError(f"{quote(text)} is nested too deeply: at most {MAX_DEPTH} levels are "
                              "allowed") from None
    return _Evaluator(source, constants).visit(tree.body)


class _Evaluator:
    def __init__(self, source: str, constants: Mapping[str, Fraction]) -> None:
        self.source, self.constants = source, constants
        self.depth = 0

    def visit(self, node: ast.expr) -> Fraction:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"{quote(self.source)} is nested too deeply: at most {MAX_DEPTH} levels "
                                      "are allowed")
            return _bounded(self._visit(node), quote(self.source))
        finally:
            self.depth -= 1

    def _visit(self, node: ast.expr) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool
        ):
            segment = ast.get_source_segment(self.source, node)
            return parse_rational(segment if segment is not None else str(node.value))
        if isinstance(node, ast.Name):
            if node.id not in self.constants:
                known = ", ".join(sorted(self.constants)) or "none"
                raise ExpressionError(f"unknown constant {quote(node.id)} (constants defined: {known})")
            return Fraction(self.constants[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.visit(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        raise ExpressionError(f"{quote(ast.get_source_segment(self.source, node) or '')} is not allowed in an "
                              "expression")

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
                raise ExpressionError(f"division by zero in {quote(self.source)}")
            return left / right
        if isinstance(node.op, ast.Pow):
            if right.denominator != 1 or abs(right) > _MAX_EXPONENT:
                raise ExpressionError(f"the exponent in {quote(self.source)} must be an integer of at most {_MAX_EXPONENT}")
            if left == 0 and right < 0:
                raise ExpressionError(f"division by zero in {quote(self.source)}")
            # Refuse before computing: |n| * (bits - 1) is a lower bound on the result's size.
            bits = max(left.numerator.bit_length(), left.denominator.bit_length()) - 1
            if bits * abs(int(right)) > _MAX_BITS:
                raise _TooLarge(f"{quote(self.source)} is too large a number: {_TOO_BIG}")
            return left ** int(right)
        raise ExpressionError(f"operator {type(node.op).__name__} is not allowed in {quote(self.source)}")
