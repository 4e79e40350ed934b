"""The test-support constructors build valid models."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from tests.support.mdps import make_mdp, small_mdps

from proofs.core.model import Mdp
from proofs.core.numbers import groups_sum_to_one


@settings(max_examples=50, deadline=None)
@given(mdp=small_mdps())
def test_small_mdps_are_valid(mdp: Mdp) -> None:
    assert mdp.probability is not None
    assert groups_sum_to_one(mdp.probability, mdp.row_start).all()
    assert mdp.probability.all_nonnegative()
    assert all((mdp.choice_start[1:] > mdp.choice_start[:-1]).tolist())
    assert sum(p for _, p in mdp.initial_distribution()) == 1
    assert set(mdp.rewards) == {"r", "c"} and mdp.rewards["c"].all_nonnegative()
    assert set(mdp.labels) == {"goal", "fatal"}


def test_make_mdp_with_intervals_is_credal() -> None:
    mdp = make_mdp(["s", "t"], {"s": [("a", {"t": ("1/2", "1"), "s": ("0", "1/2")})], "t": [("a", {"t": 1})]})
    assert mdp.is_credal and mdp.probability is None
    assert mdp.successor_intervals(0) == [(0, 0, Fraction(1, 2)), (1, Fraction(1, 2), 1)]


def test_small_mdps_bridge_exact_and_float_agree() -> None:
    pytest.importorskip("stormpy")
    from proofs.interop.storm import storm_value

    @settings(max_examples=20, deadline=None)
    @given(mdp=small_mdps())
    def agree(mdp: Mdp) -> None:
        for query in ['Pmax=? [F<=4 "fatal"]', 'R{"r"}min=? [C<=3]', 'Pmin=? [!"fatal" U "goal"]']:
            exact = storm_value(mdp, query, exact=True)
            assert [float(v) for v in exact] == pytest.approx(storm_value(mdp, query, exact=False), abs=1e-6)

    agree()
