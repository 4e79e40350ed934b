"""`geometric_unrolling`: the stop-state model of the geometric horizon (SPEC §2)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from tests.support.mdps import grid_mdp, make_mdp, random_mdp, small_mdps

from proofs.core.errors import EngineError
from proofs.core.formula import Eventually, Globally, Label, Not, Until
from proofs.core.model import Mdp
from proofs.core.numbers import groups_sum_to_one
from proofs.core.policy import PolicyLayer
from proofs.interop.storm import geometric_unrolling, stop_label

GAMMA = Fraction(9, 10)


def _chain(mdp: Mdp, choice: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The transition matrix of a deterministic policy (one global choice per state)."""
    matrix = np.zeros((mdp.n_states, mdp.n_states))
    for s, c in enumerate(choice.tolist()):
        for t, p in mdp.successors(c):
            matrix[s, t] += float(p)
    return matrix


def test_structure_and_distributions() -> None:
    mdp = grid_mdp(3)
    unrolled = geometric_unrolling(mdp, GAMMA)
    n = mdp.n_states
    assert unrolled.n_states == 2 * n + 1
    assert unrolled.n_choices == mdp.n_choices + n + 1
    assert unrolled.n_transitions == 2 * mdp.n_transitions + n + 1
    assert unrolled.probability is not None
    assert groups_sum_to_one(unrolled.probability, unrolled.row_start).all()
    assert unrolled.states[:n] == mdp.states and unrolled.states[n] == "0@last"
    stop = stop_label(mdp)
    assert np.flatnonzero(unrolled.labels[stop]).tolist() == [2 * n]
    assert np.array_equal(unrolled.labels["goal"], np.concatenate([mdp.labels["goal"]] * 2 + [[False]]))
    # a live choice splits each successor γ : 1-γ between the live and the last copy
    assert unrolled.successors(0)[:1] == [(0, GAMMA * mdp.successors(0)[0][1])]
    assert unrolled.successors(mdp.n_choices) == [(2 * n, 1)]  # (s0, last) -> stop
    assert unrolled.rewards["r"][mdp.n_choices] == 0


def test_stop_label_is_fresh() -> None:
    mdp = make_mdp(["s"], {"s": [("stop", {"s": 1})]}, labels={"stop": ["s"]})
    assert stop_label(mdp) == "stop_1"
    unrolled = geometric_unrolling(mdp, Fraction(1, 2))
    assert set(unrolled.labels) == {"stop", "stop_1"}
    assert unrolled.action_names == ("stop", "stop_1")


def test_credal_models_are_refused() -> None:
    mdp = make_mdp(["s"], {"s": [("a", {"s": ("1", "1")})]})
    with pytest.raises(EngineError):
        geometric_unrolling(mdp, GAMMA)


def _geometric_reach(matrix: npt.NDArray[np.float64], inside: npt.NDArray[np.bool_],
                     target: npt.NDArray[np.bool_], bound: int | None = None) -> npt.NDArray[np.float64]:
    """Σ_{T>=1} (1-γ)γ^{T-1} P(inside U<=min(T, bound) target) on a chain, truncated at T = 600."""
    g = float(GAMMA)
    within = target.astype(float)  # P(inside U<=0 target)
    total = np.zeros(len(target))
    for t in range(1, 600):
        if bound is None or t <= bound:
            within = target + (inside & ~target) * (matrix @ within)
        total += (1 - g) * g ** (t - 1) * within
    return total


def test_episode_probabilities_match_a_sum_over_episode_lengths() -> None:
    pytest.importorskip("stormpy")
    from proofs.interop.storm import check, induced_chain, storm_path

    mdp = random_mdp(60, seed=3)
    n, choice = mdp.n_states, mdp.choice_start[:-1].copy()  # the first action everywhere
    unrolled = geometric_unrolling(mdp, GAMMA)
    layer = PolicyLayer.deterministic(unrolled, np.concatenate([choice, mdp.n_choices + np.arange(n + 1)]))
    chain = induced_chain(unrolled, layer, exact=False)
    matrix = _chain(mdp, choice)
    every, fatal, goal = np.ones(n, dtype=bool), mdp.labels["fatal"], mdp.labels["goal"]
    cases = [
        (Eventually(Label("fatal")), _geometric_reach(matrix, every, fatal)),
        (Eventually(Label("fatal"), 2), _geometric_reach(matrix, every, fatal, bound=2)),
        (Until(Not(Label("goal")), Label("fatal")), _geometric_reach(matrix, ~goal, fatal)),
        (Globally(Not(Label("fatal"))), 1 - _geometric_reach(matrix, every, fatal)),
        (Globally(Not(Label("fatal")), 3), 1 - _geometric_reach(matrix, every, fatal, bound=3)),
    ]
    for path, expected in cases:
        text = storm_path(path, stop=stop_label(mdp))
        got = check(chain, f"P=? [{text}]", exact=False, precision=1e-12)[:n]
        assert got == pytest.approx(expected.tolist(), abs=1e-9), text


@pytest.mark.parametrize("mdp", [grid_mdp(4), random_mdp(50, seed=1)], ids=["grid_4", "random_50"])
def test_total_reward_equals_the_discounted_value(mdp: Mdp) -> None:
    pytest.importorskip("stormpy")
    from proofs.interop.storm import storm_value

    discounted = storm_value(mdp, f'R{{"r"}}max=? [Cdiscount={GAMMA}]', exact=False, precision=1e-12)
    total = storm_value(geometric_unrolling(mdp, GAMMA), 'R{"r"}max=? [C]', exact=False, precision=1e-12)
    assert total[: mdp.n_states] == pytest.approx(discounted, abs=1e-9)
    exact = storm_value(geometric_unrolling(mdp, GAMMA), 'R{"r"}max=? [C]', exact=True)
    assert [float(v) for v in exact[: mdp.n_states]] == pytest.approx(discounted, abs=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mdp=small_mdps())
def test_total_reward_equals_the_discounted_value_on_small_models(mdp: Mdp) -> None:
    pytest.importorskip("stormpy")
    from proofs.interop.storm import storm_value

    gamma = Fraction(2, 3)
    discounted = storm_value(mdp, 'R{"c"}min=? [Cdiscount=2/3]', exact=False, precision=1e-12)
    total = storm_value(geometric_unrolling(mdp, gamma), 'R{"c"}min=? [C]', exact=True)
    assert [float(v) for v in total[: mdp.n_states]] == pytest.approx(discounted, abs=1e-9)
