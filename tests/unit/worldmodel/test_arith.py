"""Exact vector arithmetic used to fold rewards: int64 fast paths agree with Fraction arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.core.numbers import Rationals
from proofs.worldmodel.arith import add, group_dot, scatter

fractions = st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=10**7)
huge = st.fractions(min_value=-(10**30), max_value=10**30, max_denominator=10**25)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.one_of(fractions, huge), st.one_of(fractions, huge)), min_size=1, max_size=30))
def test_add_is_exact(pairs: list[tuple[Fraction, Fraction]]) -> None:
    a = Rationals.from_fractions([x for x, _ in pairs])
    b = Rationals.from_fractions([y for _, y in pairs])
    assert add(a, b).fractions() == [x + y for x, y in pairs]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(st.tuples(fractions, st.one_of(fractions, huge)), max_size=4), min_size=1, max_size=10)
)
def test_group_dot_is_exact(groups: list[list[tuple[Fraction, Fraction]]]) -> None:
    flat = [pair for group in groups for pair in group]
    starts = np.cumsum([0] + [len(g) for g in groups]).astype(np.int64)
    p = Rationals.from_fractions([x for x, _ in flat])
    r = Rationals.from_fractions([y for _, y in flat])
    expected = [sum((x * y for x, y in group), Fraction(0)) for group in groups]
    assert group_dot(p, r, starts).fractions() == expected


def test_group_dot_fast_path_on_decimals_stays_compact() -> None:
    p = Rationals.from_fractions([Fraction("0.123456"), Fraction("0.876544")])
    r = Rationals.from_fractions([Fraction("2.5"), Fraction("-0.000001")])
    out = group_dot(p, r, np.array([0, 2], dtype=np.int64))
    assert out.is_compact and out.fractions() == [
        Fraction("0.123456") * Fraction("2.5") - Fraction("0.000000876544")
    ]


def test_scatter_places_values() -> None:
    values = Rationals.from_fractions([Fraction(1, 3), Fraction(10**40)])
    assert scatter(3, np.array([2, 0]), values).fractions() == [10**40, 0, Fraction(1, 3)]
