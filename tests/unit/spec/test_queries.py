"""Queries and variable atoms a PRISM user types (issue: PRISM users' models and queries)."""

from __future__ import annotations

import pytest

from proofs.core.errors import InputError, Location
from proofs.core.formula import Atom, Query
from proofs.spec.parse import parse_constraint, parse_property

WHERE = Location("--property")


@pytest.mark.parametrize("text", [
    'Pmax=? [ F<=10 "goal" ]', 'Pmin=? [ F "goal" ]', 'P=? [ G !"fatal" ]', 'Pmax=? [ "a" U<=3 "b" ]',
    'R{"time"}max=? [ C<=5 ]', 'R{"time"}min=? [ F "goal" ]', 'Rmax=? [ C ]', 'R=? [ F s=9 ]',
])
def test_queries_read_and_print_back(text: str) -> None:
    q = parse_property(text, WHERE)
    assert isinstance(q, Query)
    assert str(parse_property(str(q), WHERE)) == str(q)


def test_query_fields() -> None:
    q = parse_property('R{"c"}min=? [ F "goal" ]', WHERE)
    assert isinstance(q, Query) and (q.direction, q.reward, q.path) == ("min", "c", None)
    assert str(q.target) == '"goal"'


def test_constraints_still_read_as_constraints() -> None:
    assert not isinstance(parse_property('R{"harm"}<=1/10 [ C ]', WHERE), Query)
    assert not isinstance(parse_property('P<=0.01 [ F "fatal" ]', WHERE), Query)


def test_a_query_is_not_a_constraint_of_phi() -> None:
    with pytest.raises(InputError, match="query"):
        parse_constraint('Pmax=? [ F "goal" ]', WHERE)


@pytest.mark.parametrize("text, atom", [
    ("s=9", Atom("s", "=", "9")), ("t>=deadline", Atom("t", ">=", "deadline")),
    ("x!=-2", Atom("x", "!=", "-2")), ("b", Atom("b", "=", "true")),
    ("d1+d2=2", Atom("d1+d2", "=", "2")), ("d1 + d2 = 2", Atom("d1+d2", "=", "2")),
    ("2*x-1<=N-y", Atom("2*x-1", "<=", "N-y")), ("x+1>-y", Atom("x+1", ">", "-y")),
    ("s - -1 = 3", Atom("s--1", "=", "3")),
])
def test_variable_atoms(text: str, atom: Atom) -> None:
    c = parse_constraint(f"P<=1 [ F {text} ]", WHERE)
    assert c.path.body == atom  # type: ignore[union-attr]


def test_negated_atom_prints_with_parentheses() -> None:
    assert str(parse_constraint("P<=1 [ F !s=2 & t<3 ]", WHERE)) == "P<=1 [ F !(s=2) & t<3 ]"


@pytest.mark.parametrize("text", ["s+", "s+1", "s*(t)", "s=+"])
def test_arithmetic_needs_a_comparison_and_whole_terms(text: str) -> None:
    with pytest.raises(InputError, match="column"):
        parse_constraint(f"P<=1 [ F {text} ]", WHERE)


def test_arithmetic_atoms_are_evaluated_per_state() -> None:
    """Precedence (* before +, left to right), constants and booleans, on every state at once."""
    import numpy as np

    from proofs.spec.resolve import atom_mask, atom_problems
    from proofs.spec.resolve import _example_mdp as example

    base = example()
    mdp = type(base)(**{**base.__dict__, "states": ("x=1,y=2,b=true", "x=3,y=0,b=false"),
                        "constants": {"N": "4", "T": "true"}})
    def holds(text: str) -> list[bool]:
        return list(atom_mask(mdp, parse_constraint(f"P<=1 [ F {text} ]", WHERE).path.body))  # type: ignore[union-attr,arg-type]
    assert holds("x+y=3") == [True, True]
    assert holds("x+2*y=5") == [True, False]        # not (x+2)*y
    assert holds("x-y-1=-2") == [True, False]       # (x-y)-1, not x-(y-1)
    assert holds("N-x>=y") == [True, True]
    assert holds("b=T") == [True, False]
    assert holds("2*N=8") == [True, True]           # no variable: the same in every state
    assert atom_problems(parse_constraint("P<=1 [ F x+z=1 ]", WHERE), mdp) == [
        "x+z=1: 'z' is neither a variable in every state of m.toml nor an integer or boolean constant of "
        "the program (variables exist in PRISM-language models only)"]
    assert isinstance(atom_mask(mdp, parse_constraint("P<=1 [ F 2*N=8 ]", WHERE).path.body), np.ndarray)  # type: ignore[union-attr,arg-type]


def test_atom_needs_a_value_after_its_relation() -> None:
    with pytest.raises(InputError, match="column"):
        parse_constraint('P<=1 [ F s= ]', WHERE)
