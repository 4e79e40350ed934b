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
])
def test_variable_atoms(text: str, atom: Atom) -> None:
    c = parse_constraint(f"P<=1 [ F {text} ]", WHERE)
    assert c.path.body == atom  # type: ignore[union-attr]


def test_negated_atom_prints_with_parentheses() -> None:
    assert str(parse_constraint("P<=1 [ F !s=2 & t<3 ]", WHERE)) == "P<=1 [ F !(s=2) & t<3 ]"


def test_atom_needs_a_value_after_its_relation() -> None:
    with pytest.raises(InputError, match="column"):
        parse_constraint('P<=1 [ F s= ]', WHERE)
