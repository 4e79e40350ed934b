"""The fast bounded optimum of `sound` (one float iteration plus an a-priori error bound) is sound.

Every enclosure must contain the exact value (`exact.optimise`, `Fraction` arithmetic) at every
state, for both matrix layouts, maximising and minimising, with discounts that are not floats,
with stop states (probability constraints) and with the geometric-horizon weights η = 1 − γ of
a step-bounded path formula, and with probabilities whose denominators exceed 2**53 (the
enclosure-based error path). On the benchmark grid the enclosure is at most 1e-9 wide.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.support.mdps import grid_mdp, make_mdp, random_mdp, small_mdps

from proofs.core.formula import (
    Comparison,
    Eventually,
    Globally,
    Label,
    Not,
    Or,
    ProbabilityConstraint,
    RewardConstraint,
    Until,
)
from proofs.core.objective import Objective
from proofs.kernel.episode import constraint_quantity, objective_quantity
from proofs.semantics import exact, sound

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONSTRAINTS = [
    ProbabilityConstraint(Comparison.LE, Fraction(1, 2), Eventually(Label("fatal"), 4)),
    ProbabilityConstraint(Comparison.LE, Fraction(1, 2), Until(Not(Label("fatal")), Label("goal"), 3)),
    ProbabilityConstraint(Comparison.LE, Fraction(1, 2), Globally(Or(Label("goal"), Not(Label("fatal"))), 5)),
    RewardConstraint("c", Comparison.LE, Fraction(1), 4),
]


def fast_box(mdp, q, maximise, padded):
    m = sound.SoundModel.of(mdp)
    fast = sound._fast_model(mdp, padded=padded)
    assert (fast.layout.width is not None) == padded or mdp.n_choices == 0
    return sound._bounded_optimum(m, fast, q, maximise)


def assert_encloses(box, values):
    lo, hi = box
    for s, v in enumerate(values):
        assert Fraction(float(lo[s])) <= v <= Fraction(float(hi[s])), (s, float(lo[s]), v, float(hi[s]))


@given(small_mdps(), st.integers(1, 7), st.sampled_from([Fraction(1), Fraction(9, 10), Fraction(1, 3)]),
       st.booleans(), st.booleans())
@SETTINGS
def test_fast_optimum_encloses_exact_objective(mdp, horizon, discount, maximise, padded):
    q = objective_quantity(mdp, Objective("r", horizon, discount))
    values, _ = exact.optimise(exact.ExactModel.of(mdp), q, maximise=maximise)
    box, policy = fast_box(mdp, q, maximise, padded)
    assert_encloses(box, values)
    assert len(policy.layers) == horizon
    assert float(np.max(box[1] - box[0])) <= 1e-12


@given(small_mdps(), st.sampled_from(CONSTRAINTS), st.sampled_from([None, 4]),
       st.booleans(), st.booleans())
@SETTINGS
def test_fast_optimum_encloses_exact_constraints(mdp, constraint, horizon, maximise, padded):
    """Stop states, and (horizon None: geometric γ = 3/5) the weights β = γ, η = 1 − γ."""
    objective = Objective("r", horizon) if horizon else Objective("r", None, Fraction(3, 5))
    q = constraint_quantity(mdp, objective, constraint)
    assert q.steps is not None
    values, _ = exact.optimise(exact.ExactModel.of(mdp), q, maximise=maximise)
    box, _ = fast_box(mdp, q, maximise, padded)
    assert_encloses(box, values)


@st.composite
def huge_denominator_mdps(draw):
    """Probabilities and rewards with denominators beyond 2**53 (object-array `Rationals`)."""
    n = draw(st.integers(2, 4))
    names = [f"s{i}" for i in range(n)]
    choices, rewards = {}, {}
    for s in names:
        choices[s] = []
        for a in "ab"[: draw(st.integers(1, 2))]:
            targets = draw(st.lists(st.sampled_from(names), min_size=2, max_size=3, unique=True))
            weights = [draw(st.integers(1, 10**20)) for _ in targets]
            choices[s].append((a, {t: Fraction(w, sum(weights)) for t, w in zip(targets, weights)}))
            rewards[(s, a)] = Fraction(draw(st.integers(-10**20, 10**20)), 3**45)
    return make_mdp(names, choices, {"r": rewards}, {"goal": names[-1:]})


@given(huge_denominator_mdps(), st.integers(1, 6), st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large, HealthCheck.large_base_example])
def test_fast_optimum_with_huge_denominators(mdp, horizon, padded):
    assume(not mdp.probability.is_compact)
    q = objective_quantity(mdp, Objective("r", horizon, Fraction(7, 10)))
    values, _ = exact.optimise(exact.ExactModel.of(mdp), q, maximise=True)
    box, _ = fast_box(mdp, q, True, padded)
    assert_encloses(box, values)


@given(small_mdps(), st.integers(1, 5))
@SETTINGS
def test_public_optimise_policy_is_optimal(mdp, horizon):
    """The float-greedy policy of the fast path attains J* up to float noise, exactly evaluated."""
    q = objective_quantity(mdp, Objective("r", horizon))
    em = exact.ExactModel.of(mdp)
    values, _ = exact.optimise(em, q, maximise=True)
    box, policy = sound.optimise(sound.SoundModel.of(mdp), q, maximise=True)
    assert_encloses(box, values)
    achieved = exact.evaluate_policy(em, q, policy)
    assert all(abs(a - v) <= Fraction(1, 10**9) for a, v in zip(achieved, values))


@given(small_mdps(max_states=4))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_geometric_optimum_with_float_search_encloses_exact(mdp):
    q = objective_quantity(mdp, Objective("r", None, Fraction(4, 5)))
    values, _ = exact.optimise(exact.ExactModel.of(mdp), q, maximise=True)
    box, _ = sound.optimise(sound.SoundModel.of(mdp), q, maximise=True)
    assert_encloses(box, values)


def test_layouts_agree_bit_for_bit():
    """The padded and natural layouts sum every row in the same order: same floats, same policy."""
    mdp = random_mdp(500, 3)
    q = objective_quantity(mdp, Objective("r", 20, Fraction(19, 20)))
    m = sound.SoundModel.of(mdp)
    (lo1, hi1), p1 = sound._bounded_optimum(m, sound._fast_model(mdp, padded=True), q, True)
    (lo2, hi2), p2 = sound._bounded_optimum(m, sound._fast_model(mdp, padded=False), q, True)
    assert np.array_equal(lo1, lo2) and np.array_equal(hi1, hi2)
    assert all(np.array_equal(a.choice, b.choice) for a, b in zip(p1.layers, p2.layers))


@pytest.fixture(scope="module")
def grid32():
    return grid_mdp(32, "0.1")


def test_grid32_enclosure_is_tight_and_contains_exact(grid32):
    q = objective_quantity(grid32, Objective("r", 50))
    box, _ = sound.optimise(sound.SoundModel.of(grid32), q, maximise=True)
    assert float(box[1][0] - box[0][0]) <= 1e-9
    assert float(np.max(box[1] - box[0])) <= 1e-9
    values, _ = exact.optimise(exact.ExactModel.of(grid32), q, maximise=True)
    assert Fraction(float(box[0][0])) <= values[0] <= Fraction(float(box[1][0]))
    assert_encloses(box, values)


def test_overflow_leaves_the_fast_path():
    """Rewards near the float maximum overflow: the fast path refuses rather than report inf."""
    mdp = make_mdp(["s"], {"s": [("a", {"s": 1})]}, {"r": {("s", "a"): Fraction(17, 10) * 10**308}})
    q = objective_quantity(mdp, Objective("r", 3))
    with pytest.raises(ArithmeticError):
        sound._bounded_optimum(sound.SoundModel.of(mdp), sound.SoundModel.of(mdp).fast, q, True)
