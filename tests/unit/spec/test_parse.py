"""Parsing the PRISM property subset: forms, precedence, error positions, round trip."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.core.errors import InputError, Location
from proofs.core.formula import (
    And,
    Comparison,
    Constraint,
    Eventually,
    Globally,
    Label,
    Not,
    Or,
    ProbabilityConstraint,
    RewardConstraint,
    StateFormula,
    Truth,
    Until,
)
from proofs.spec.parse import parse_constraint, parse_state_formula

WHERE = Location("obligations/cliff.toml", key='lemma."cliff.alignment".desirable[0]')
A, B, C = Label("a"), Label("b"), Label("c")


def constraint(text: str) -> Constraint:
    return parse_constraint(text, WHERE)


def state(text: str) -> StateFormula:
    return parse_state_formula(text, WHERE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'P<=0.01 [ F "fatal" ]',
            ProbabilityConstraint(Comparison.LE, Fraction(1, 100), Eventually(Label("fatal"))),
        ),
        (
            'P<1/100 [ F<=5 "x" ]',
            ProbabilityConstraint(Comparison.LT, Fraction(1, 100), Eventually(Label("x"), 5)),
        ),
        ('P>=0.9 [ "a" U "b" ]', ProbabilityConstraint(Comparison.GE, Fraction(9, 10), Until(A, B))),
        ('P>0.9 [ "a" U<=0 "b" ]', ProbabilityConstraint(Comparison.GT, Fraction(9, 10), Until(A, B, 0))),
        ('P>=1 [ G "a" ]', ProbabilityConstraint(Comparison.GE, Fraction(1), Globally(A))),
        ('P>=0 [ G<=12 "a" ]', ProbabilityConstraint(Comparison.GE, Fraction(0), Globally(A, 12))),
        ('R{"harm"}<=0.1 [ C ]', RewardConstraint("harm", Comparison.LE, Fraction(1, 10))),
        ('R{"harm"}>=-2.5 [ C<=7 ]', RewardConstraint("harm", Comparison.GE, Fraction(-5, 2), 7)),
        (
            'P<=1e-3[F"x y"]',
            ProbabilityConstraint(Comparison.LE, Fraction(1, 1000), Eventually(Label("x y"))),
        ),
        (
            "  P <= 0.5 [ F true ]  ",
            ProbabilityConstraint(Comparison.LE, Fraction(1, 2), Eventually(Truth(True))),
        ),
    ],
)
def test_every_constraint_form(text: str, expected: Constraint) -> None:
    assert constraint(text) == expected


@pytest.mark.parametrize("threshold", ["0.01", "1/100", "1e-2", "10e-3", ".01"])
def test_thresholds_are_exact_rationals(threshold: str) -> None:
    parsed = constraint(f'P<=({threshold}) [ F "x" ]'.replace("(", "").replace(")", ""))
    assert isinstance(parsed, ProbabilityConstraint)
    assert parsed.threshold == Fraction(1, 100)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('!"a" & "b" | "c"', Or(And(Not(A), B), C)),
        ('"a" | "b" & "c"', Or(A, And(B, C))),
        ('"a" & "b" & "c"', And(And(A, B), C)),
        ('"a" | "b" | "c"', Or(Or(A, B), C)),
        ('"a" & ("b" | "c")', And(A, Or(B, C))),
        ('!("a" | "b")', Not(Or(A, B))),
        ('!!"a"', Not(Not(A))),
        ('!"a" | !"b" & "c"', Or(Not(A), And(Not(B), C))),
        ("true & !false", And(Truth(True), Not(Truth(False)))),
        ('(("a"))', A),
    ],
)
def test_state_formula_precedence(text: str, expected: StateFormula) -> None:
    assert state(text) == expected


def test_until_operands_are_whole_state_formulas() -> None:
    parsed = constraint('P>=0.5 [ "a" & "b" U<=3 !"c" | "a" ]')
    assert isinstance(parsed, ProbabilityConstraint)
    assert parsed.path == Until(And(A, B), Or(Not(C), A), 3)


def test_eventually_body_is_a_whole_state_formula() -> None:
    parsed = constraint('P<=0.5 [ F "a" | "b" & "c" ]')
    assert isinstance(parsed, ProbabilityConstraint)
    assert parsed.path == Eventually(Or(A, And(B, C)))


@pytest.mark.parametrize(
    ("text", "column", "problem"),
    [
        ('P<=0.1 [ F U "x" ]', 12, "unexpected 'U'"),
        ('P<=1.5 [ F "x" ]', 4, "outside [0, 1]"),
        ('P>=-0.1 [ F "x" ]', 4, "outside [0, 1]"),
        ('P<=0.1 [ F "x ]', 12, "unterminated label"),
        ('P=? [ F "x" ]', 2, "unexpected '='"),
        ('P<=0.1 [ F<=2.5 "x" ]', 13, "unexpected '2.5'"),
        ('P<=0.1 [ F<=-1 "x" ]', 13, "unexpected '-1'"),
        ('P<=0.1 [ F<= "x" ]', 14, "unexpected '\"x\"'"),
        ('R{"h"}<=1/0 [ C ]', 9, "bad threshold '1/0'"),
        ('P<=0.1 [ F "x" ] extra', 18, "unexpected 'extra'"),
        ('P<=0.1 [ F ("a" & "b" ]', 23, "unexpected ']'"),
        ('P<=0.1 [ F "a" @ ]', 16, "unexpected '@'"),
        ('P<=0.1 [ F "a" && "b" ]', 17, "unexpected '&'"),
        ('P<=0.1 [ "a" "b" ]', 14, "unexpected '\"b\"'"),
        ('P<=0.1 [ F "x"', 15, "unexpected end of text"),
        ("", 1, "unexpected end of text"),
        ('Q<=0.1 [ F "x" ]', 1, "unexpected 'Q'"),
        ('P<=x [ F "a" ]', 4, "unexpected 'x'"),
        ('P [ F "a" ]', 3, "unexpected '['"),
        ("R{h}<=1 [ C ]", 3, "unexpected 'h'"),
        ('R{""}<=1 [ C ]', 3, "empty name"),
        ('R{"h"}<=1 [ F "x" ]', 13, "unexpected 'F'"),
        ('R{"h"}<=1 [ C<=k ]', 16, "unexpected 'k'"),
        ('P<=0.1 [ F ("a" | ) ]', 19, "unexpected ')'"),
        ('P<=0.1 [ F "" ]', 12, "empty name"),
    ],
)
def test_errors_name_the_column_and_show_a_caret(text: str, column: int, problem: str) -> None:
    with pytest.raises(InputError) as info:
        constraint(text)
    err = info.value
    assert err.where == WHERE
    assert str(err).startswith('obligations/cliff.toml:lemma."cliff.alignment".desirable[0]: ')
    first = err.problem.splitlines()[0]
    assert problem in first and first.endswith(f" at column {column} in {text!r}")
    shown, caret = err.problem.splitlines()[1:3]
    assert shown == "    " + text
    assert caret == "    " + " " * (column - 1) + "^"
    assert err.fix


def test_the_documented_error_message() -> None:
    with pytest.raises(InputError, match=r"""unexpected 'U' at column 12 in 'P<=0.1 \[ F U "x" \]'"""):
        constraint('P<=0.1 [ F U "x" ]')


@pytest.mark.parametrize(
    ("text", "column"),
    [('"a" &', 6), ('"a" U "b"', 5), ("!", 2), ("(", 2), ('"a" | | "b"', 7), ("s>", 3), ('"a")', 4)],
)
def test_state_formula_errors(text: str, column: int) -> None:
    with pytest.raises(InputError, match=f"at column {column} in"):
        state(text)


def test_multiline_text_keeps_the_caret_aligned() -> None:
    with pytest.raises(InputError) as info:
        constraint('P<=0.1 [\n F U "x" ]')
    assert info.value.problem.splitlines()[1:3] == ['    P<=0.1 [  F U "x" ]', "    " + " " * 12 + "^"]


def test_nesting_is_bounded_instead_of_overflowing_the_stack() -> None:
    with pytest.raises(InputError, match="nested too deeply"):
        state("!" * 5000 + '"a"')
    assert state("(" * 50 + '"a"' + ")" * 50) == A


# -- round trip ----------------------------------------------------------------------------------
names = st.text(st.characters(exclude_characters='"', exclude_categories=["Cs"]), min_size=1, max_size=8)
bounds = st.none() | st.integers(min_value=0, max_value=10**6)
comparisons = st.sampled_from(list(Comparison))
state_formulas = st.recursive(
    st.builds(Label, names) | st.builds(Truth, st.booleans()),
    lambda inner: st.builds(Not, inner) | st.builds(And, inner, inner) | st.builds(Or, inner, inner),
    max_leaves=12,
)
path_formulas = (
    st.builds(Eventually, state_formulas, bounds)
    | st.builds(Globally, state_formulas, bounds)
    | st.builds(Until, state_formulas, state_formulas, bounds)
)
constraints = st.builds(
    ProbabilityConstraint,
    comparisons,
    st.fractions(min_value=0, max_value=1, max_denominator=10**9),
    path_formulas,
) | st.builds(RewardConstraint, names, comparisons, st.fractions(max_denominator=10**9), bounds)


@settings(max_examples=300, deadline=None)
@given(constraints)
def test_printing_then_parsing_gives_the_same_constraint(c: Constraint) -> None:
    assert constraint(str(c)) == c


@settings(max_examples=200, deadline=None)
@given(state_formulas)
def test_printing_then_parsing_gives_the_same_state_formula(f: StateFormula) -> None:
    assert state(str(f)) == f
