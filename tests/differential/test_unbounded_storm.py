"""Differential tests: unbounded reachability and reward-until (`proofs.semantics.unbounded`)
against Storm's ``Pmax/Pmin=? [F ...]``, ``[... U ...]`` and ``R{"r"}max/min=? [F ...]``.

Exactly (Storm's Rational model and exact environment) at every state of hypothesis MDPs,
+infinity included; and on a generated model of about 1e5 states, Storm's float value at every
state must lie in our sound enclosure up to Storm's own precision, while our enclosure at μ₀
meets its 1e-6 width.

Storm's float value is only as close as its stopping criterion (relative change), which does not
bound its error: at its default precision 1e-6, Pmax=? [F "goal"] on the 1e5-state model below
comes out 0.93185850, 1.3e-7 above the truth (0.93185837, Storm itself at precision 1e-12), and
outside our enclosure [0.93185793, 0.93185840]. So Storm is asked for precision 1e-10 and
allowed a relative error of 1e-9 (a hundred times its stopping precision; with the default 1e-6,
the allowance would have to be Storm's own 1e-6 relative).
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import stormpy  # noqa: F401  (required by the dev extra: an ImportError here is a real failure)
from hypothesis import HealthCheck, given, settings
from tests.support.mdps import grid_mdp, random_mdp, small_mdps

from proofs.core.errors import InputError
from proofs.interop import storm
from proofs.semantics.unbounded import reach_probability, reach_reward

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STORM_PRECISION = 1e-10  # asked of Storm's float solver (its default is 1e-6, relative)
STORM_RELATIVE = 1e-9    # the error allowed to Storm's float value (module docstring)


def queries(mdp):
    """(Storm query, our computation) pairs over the labels of `small_mdps`."""
    goal, fatal = mdp.labels["goal"], mdp.labels["fatal"]
    anywhere = np.ones(mdp.n_states, dtype=bool)
    out = []
    for op, maximise in (("max", True), ("min", False)):
        out += [
            (f'P{op}=? [F "goal"]', lambda ex, mx=maximise: reach_probability(mdp, anywhere, goal, maximise=mx, exact=ex)),
            (f'P{op}=? [!"fatal" U "goal"]',
             lambda ex, mx=maximise: reach_probability(mdp, ~fatal, goal, maximise=mx, exact=ex)),
            (f'R{{"c"}}{op}=? [F "goal"]', lambda ex, mx=maximise: reach_reward(mdp, "c", goal, maximise=mx, exact=ex)),
            (f'R{{"r"}}{op}=? [F "goal"]', lambda ex, mx=maximise: reach_reward(mdp, "r", goal, maximise=mx, exact=ex)),
        ]
    return out


@given(small_mdps())
@SETTINGS
def test_exact_values_equal_storms_at_every_state(mdp):
    model = storm.to_storm(mdp, exact=True)
    for query, ours in queries(mdp):
        try:
            result = ours(True)
        except InputError:
            # only R{"r"}min with a negative reward inside an end component is refused
            assert query == 'R{"r"}min=? [F "goal"]'
            continue
        theirs = storm.check(model, query, exact=True)
        mine = [math.inf if v is None else v for v in result.values.exact]
        assert mine == theirs, query
        if result.infinite:
            assert any(theirs[s] == math.inf for s, _ in mdp.initial_distribution())
        else:
            assert result.value.value == storm.initial_value(mdp, theirs), query


@given(small_mdps())
@SETTINGS
def test_sound_enclosures_contain_storms_exact_values(mdp):
    model = storm.to_storm(mdp, exact=True)
    for query, ours in queries(mdp):
        try:
            result = ours(False)
        except InputError:
            continue
        for s, v in enumerate(storm.check(model, query, exact=True)):
            if v == math.inf:
                assert np.isposinf(result.values.hi[s]), query
            else:
                assert Fraction(result.values.lo[s]) <= v <= Fraction(result.values.hi[s]), query


# -- about 1e5 states ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def unrolled():
    """random_50000 with a geometric stop (γ = 99/100): 100,001 states, 1.2e6 transitions, and
    every query below is quantitative (the plain benchmark families are decided by the graph
    precomputations alone at their initial state)."""
    mdp = storm.geometric_unrolling(random_mdp(50_000, 0), Fraction(99, 100))
    return mdp, storm.to_storm(mdp, exact=False)


def assert_storm_inside(result, theirs, relative):
    theirs = np.array(theirs, dtype=np.float64)
    slack = STORM_RELATIVE * np.abs(theirs) + 1e-12
    finite = np.isfinite(theirs)
    assert np.array_equal(~finite, np.isposinf(result.values.hi))
    assert np.all(result.values.lo[finite] - slack[finite] <= theirs[finite])
    assert np.all(theirs[finite] <= result.values.hi[finite] + slack[finite])
    assert result.converged and not result.exact
    limit = Fraction(1, 10**6) * (max(abs(result.value.lo), abs(result.value.hi)) if relative else 1)
    assert result.value.width <= limit


@pytest.mark.parametrize("maximise", [True, False], ids=["max", "min"])
def test_1e5_probability_within_enclosure(unrolled, maximise):
    mdp, model = unrolled
    goal, stop = mdp.labels["goal"], mdp.labels["stop"]
    if maximise:  # the goal before the stop
        query = 'Pmax=? [F ("goal" & !"stop")]'
        result = reach_probability(mdp, np.ones(mdp.n_states, dtype=bool), goal & ~stop, maximise=True)
    else:         # the stop before any goal: 1 - the above, through the min precomputations
        query = 'Pmin=? [!"goal" U "stop"]'
        result = reach_probability(mdp, ~goal, stop, maximise=False)
    assert mdp.n_states > 100_000 and mdp.n_transitions > 1_200_000
    assert 0 < result.value.lo and result.value.hi < 1
    assert_storm_inside(result, storm.check(model, query, exact=False, precision=STORM_PRECISION), relative=False)


@pytest.mark.parametrize("maximise", [True, False], ids=["max", "min"])
def test_1e5_reward_within_enclosure(unrolled, maximise):
    mdp, model = unrolled
    query = f'R{{"r"}}{"max" if maximise else "min"}=? [F "stop"]'
    result = reach_reward(mdp, "r", mdp.labels["stop"], maximise=maximise)
    assert 0 < result.value.lo
    assert_storm_inside(result, storm.check(model, query, exact=False, precision=STORM_PRECISION), relative=True)


def test_grid_317_reward_min_within_enclosure():
    """The benchmark grid itself: R^min to the goal is decided numerically, +inf at the cliff."""
    mdp = grid_mdp(317)
    result = reach_reward(mdp, "r", mdp.labels["goal"], maximise=False)
    theirs = storm.storm_value(mdp, 'R{"r"}min=? [F "goal"]', exact=False, precision=STORM_PRECISION)
    assert_storm_inside(result, theirs, relative=True)
    assert np.all(np.isposinf(result.values.hi[mdp.labels["fatal"]]))
