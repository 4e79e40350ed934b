"""Differential tests: our exact and sound evaluation agrees with Storm on the same models.

Exactly (Storm's Rational mode) on hypothesis-generated small MDPs; within our sound enclosure
(Storm in floats) on generated gridworld and random families. Storm is a real dependency of the
`dev` extra, so these always run in CI.
"""

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.mdps import grid_mdp, random_mdp, small_mdps

from proofs.core.formula import (
    And,
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
from proofs.core.policy import Policy, PolicyLayer
from proofs.interop import storm
from proofs.semantics.evaluate import evaluate_constraint, evaluate_objective, optimal

pytest.importorskip  # stormpy is required (dev extra); an ImportError here is a real failure
import stormpy  # noqa: F401

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PATHS = [
    Eventually(Label("fatal")), Eventually(Label("goal"), 2), Until(Not(Label("fatal")), Label("goal")),
    Until(Or(Label("goal"), Not(Label("fatal"))), And(Label("goal"), Not(Label("fatal"))), 3),
    Globally(Not(Label("fatal"))), Globally(Not(Label("goal")), 2),
]
CONSTRAINTS = [ProbabilityConstraint(Comparison.LE, Fraction(1, 2), p) for p in PATHS] + [
    RewardConstraint("c", Comparison.LE, Fraction(1)), RewardConstraint("c", Comparison.GE, Fraction(1), 2),
]


def storm_query_value(model, constraint, objective, names, stop="stop"):
    """Storm's value of a constraint's quantity on a one-choice model.

    Storm cannot negate a path formula (`!(F<=k φ)` fails inside Storm on some models), so a
    `G` formula is asked as its complement `F !φ` and subtracted from 1 here.
    """
    complement = isinstance(constraint, ProbabilityConstraint) and isinstance(constraint.path, Globally)
    if complement:
        path = Eventually(Not(constraint.path.body), constraint.path.bound)
        constraint = ProbabilityConstraint(constraint.comparison, constraint.threshold, path)
    query = storm.storm_property(constraint, objective, "max", names=names, stop=stop)
    value = storm.initial_value(model, storm.storm_value(model, query, exact=True))
    return (1 - value) if complement else value


def some_policy(mdp, seed: int) -> Policy:
    """A randomized stationary policy: mixes the first two actions where there are two.

    Storm sees its chain as a one-choice MDP (`fix_policy`), so max and min agree there.
    """
    table = {}
    for s in range(mdp.n_states):
        cs = list(mdp.choices(s))
        if len(cs) >= 2 and (s + seed) % 2:
            table[s] = [(cs[0], Fraction(1, 3)), (cs[1], Fraction(2, 3))]
        else:
            table[s] = [(cs[(s + seed) % len(cs)], Fraction(1))]
    return Policy.stationary(PolicyLayer.from_table(mdp, table))


@given(small_mdps(), st.integers(1, 6), st.sampled_from([Fraction(1), Fraction(9, 10)]))
@SETTINGS
def test_optimal_value_finite_horizon_exact(mdp, horizon, discount):
    objective = Objective("r", horizon, discount)
    ours = optimal(mdp, objective, exact_mode=True).value.value
    query = storm.storm_property(None, objective, "max", names=storm.storm_names(mdp))
    theirs = storm.initial_value(mdp, storm.storm_value(mdp, query, exact=True))
    assert ours == theirs, query


@given(small_mdps(), st.integers(1, 5), st.integers(0, 3))
@SETTINGS
def test_policy_chain_finite_horizon_exact(mdp, horizon, seed):
    objective = Objective("r", horizon)
    policy = some_policy(mdp, seed)
    names = storm.storm_names(mdp)
    chain = storm.fix_policy(mdp, policy.at(0))
    j = storm.initial_value(chain, storm.storm_value(chain, storm.storm_property(None, objective, "max", names=names),
                                                     exact=True))
    assert evaluate_objective(mdp, objective, policy, exact_mode=True).value == j
    for c in CONSTRAINTS:
        theirs = storm_query_value(chain, c, objective, names)
        assert evaluate_constraint(mdp, objective, policy, c, exact_mode=True).value == theirs, str(c)


@given(small_mdps(), st.integers(0, 3))
@SETTINGS
def test_policy_chain_geometric_horizon_through_stop_states(mdp, seed):
    """SPEC §2's geometric horizon equals reachability/total reward in the stop-state construction."""
    gamma = Fraction(3, 4)
    objective = Objective("c", None, gamma)    # non-negative reward: Storm's [C] refuses negative ones
    policy = some_policy(mdp, seed)
    chain = storm.fix_policy(mdp, policy.at(0))
    unrolled = storm.geometric_unrolling(chain, gamma)
    names = storm.storm_names(unrolled)
    stop = storm.stop_label(chain)
    j = storm.initial_value(unrolled, storm.storm_value(
        unrolled, storm.storm_property(None, objective, "max", names=names), exact=True))
    assert evaluate_objective(mdp, objective, policy, exact_mode=True).value == j
    for c in CONSTRAINTS:
        theirs = storm_query_value(unrolled, c, objective, names, stop)
        assert evaluate_constraint(mdp, objective, policy, c, exact_mode=True).value == theirs, str(c)


@given(small_mdps(max_states=4))
@SETTINGS
def test_optimal_value_geometric_horizon(mdp):
    """J* for the geometric horizon: ours exact, Storm's discounted total (float, tight precision)."""
    objective = Objective("r", None, Fraction(4, 5))
    ours = optimal(mdp, objective, exact_mode=True).value.value
    query = 'R{"r"}max=? [Cdiscount=4/5]'
    theirs = storm.initial_value(mdp, storm.storm_value(mdp, query, exact=False, precision=1e-12))
    assert abs(float(ours) - theirs) <= 1e-8


@pytest.mark.parametrize("model", [grid_mdp(32, "0.1"), random_mdp(2000, 0)], ids=["grid_32", "random_2000"])
def test_generated_models_within_enclosure(model):
    """Large-model mode: our sound enclosure (width <= 1e-9) contains Storm's float value."""
    objective = Objective("r", 50)
    ours = optimal(model, objective, exact_mode=False)
    theirs = storm.initial_value(model, storm.storm_value(model, 'Rmax=? [C<=50]', exact=False))
    assert ours.value.width <= Fraction(1, 10**9)
    assert ours.value.lo - Fraction(1, 10**9) <= Fraction(theirs) <= ours.value.hi + Fraction(1, 10**9)
    policy = ours.policy
    fatal = ProbabilityConstraint(Comparison.LE, Fraction(1, 10), Eventually(Label("fatal")))
    for t in (0,):
        chain_value = evaluate_constraint(model, objective, policy, fatal, exact_mode=False)
        assert chain_value.width <= Fraction(1, 10**9)
        pmax = storm.initial_value(model, storm.storm_value(model, 'Pmax=? [F<=50 "fatal"]', exact=False))
        assert chain_value.lo <= Fraction(pmax) + Fraction(1, 10**9)


def test_generated_model_exact_agrees_with_enclosure():
    """grid_8 in both modes: the exact value lies in the enclosure, which Storm's exact value equals."""
    model = grid_mdp(8, "0.1")
    objective = Objective("r", 20)
    exact = optimal(model, objective, exact_mode=True).value.value
    box = optimal(model, objective, exact_mode=False).value
    assert box.lo <= exact <= box.hi
    theirs = storm.initial_value(model, storm.storm_value(model, 'Rmax=? [C<=20]', exact=True))
    assert exact == theirs
