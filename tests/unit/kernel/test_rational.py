from fractions import Fraction

import pytest

from proofs.core.rational import ExpressionError, evaluate_expression, format_rational, parse_rational


@pytest.mark.parametrize("text, value", [
    ("0.1", Fraction(1, 10)), ("1/100", Fraction(1, 100)), ("-2.5e-1", Fraction(-1, 4)),
    ("3", Fraction(3)), (".5", Fraction(1, 2)), ("1E3", Fraction(1000)), (" 7 / 14 ", Fraction(1, 2)),
])
def test_parse_rational_is_exact(text, value):
    assert parse_rational(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1/0", "0x10", "1..2", "nan", "inf", "1e99999"])
def test_parse_rational_rejects(text):
    with pytest.raises(ExpressionError):
        parse_rational(text)


def test_expression_with_constants():
    c = {"p": Fraction(1, 10), "q": Fraction(1, 3)}
    assert evaluate_expression("1 - p", c) == Fraction(9, 10)
    assert evaluate_expression("(1 - q)^2 * 3", c) == Fraction(4, 3)
    assert evaluate_expression("q ** -1", c) == 3
    assert evaluate_expression("0.1 + 0.2", c) == Fraction(3, 10)


@pytest.mark.parametrize("text, message", [
    ("__import__('os')", "not allowed"), ("p.real", "not allowed"), ("x + 1", "unknown constant"),
    ("2 ** 0.5", "integer"), ("1/(p-p)", "division by zero"), ("1 +", "not an arithmetic"),
])
def test_expression_rejects_unsafe_or_wrong(text, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate_expression(text, {"p": Fraction(1, 2)})


def test_format_rational_is_canonical():
    assert format_rational(Fraction(6, 4)) == "3/2"
    assert format_rational(Fraction(-4, 2)) == "-2"
