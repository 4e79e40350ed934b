"""The horizon restriction changes no value an episode of H steps can see (SPEC §2)."""

from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.mdps import grid_mdp, make_mdp, small_mdps

from proofs.core.formula import Comparison, Eventually, Label, ProbabilityConstraint, RewardConstraint
from proofs.core.objective import Objective
from proofs.engines.lagrangian import discharge_alignment
from proofs.kernel.horizon import FRONTIER_ACTION, distances, restrict
from proofs.semantics.evaluate import optimal


def chain(n):
    """s0 → s1 → … → s{n-1} (absorbing), reward 1 per step, s{n-1} is "end"."""
    states = [f"s{i}" for i in range(n)]
    choices = {f"s{i}": [("go", {f"s{min(i + 1, n - 1)}": 1})] for i in range(n)}
    return make_mdp(states, choices, rewards={"r": {(f"s{i}", "go"): 1 for i in range(n)}},
                    labels={"end": [states[-1]]})


def test_a_chain_is_cut_after_h_steps_with_a_dummy_frontier():
    mdp = chain(10)
    assert distances(mdp, 20).tolist() == list(range(10))
    small = restrict(mdp, 3, always=True)
    assert small.states == ("s0", "s1", "s2", "s3")
    assert small.local_actions(3) == [FRONTIER_ACTION] and small.successors(int(small.choice_start[3])) == [(3, 1)]
    assert small.rewards["r"][int(small.choice_start[3])] == 0
    assert optimal(small, Objective("r", 3)).value.value == optimal(mdp, Objective("r", 3)).value.value == 3


def test_nothing_cut_returns_the_model_itself():
    mdp = chain(3)
    assert restrict(mdp, 5) is mdp and restrict(mdp, None) is mdp


def test_a_grid_keeps_only_what_the_horizon_reaches():
    mdp = grid_mdp(30)
    small = restrict(mdp, 5)
    assert small.n_states < 40 and np.all(distances(small, 5) <= 5)
    assert optimal(small, Objective("r", 5)).value.value == optimal(mdp, Objective("r", 5)).value.value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_mdps(max_states=7), st.integers(1, 4), st.sampled_from([0, 1, 2]))
def test_values_and_alignment_worst_values_are_unchanged(mdp, horizon, k):
    objective = Objective("r", horizon)
    small = restrict(mdp, horizon, always=True)
    assert optimal(small, objective).value.value == optimal(mdp, objective).value.value
    label = next(iter(mdp.labels))
    constraints = [ProbabilityConstraint(Comparison.LE, Fraction(1, 3), Eventually(Label(label), k or None)),
                   RewardConstraint("c", Comparison.LE, Fraction(1))]
    eps = Fraction(1, 4)
    big_r = discharge_alignment(mdp, objective, eps, constraints)
    small_r = discharge_alignment(small, objective, eps, constraints)   # a model already cut
    assert [c.worst for c in big_r.constraints] == [c.worst for c in small_r.constraints]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_mdps(max_states=7), st.integers(1, 3), st.data())
def test_a_policy_carried_to_the_restriction_keeps_its_value(mdp, horizon, data):
    from proofs.core.policy import Policy, PolicyLayer
    from proofs.kernel.horizon import restrict_with_policy
    from proofs.semantics.evaluate import evaluate_objective

    layers = []
    for _ in range(data.draw(st.integers(1, horizon))):
        pick = [data.draw(st.integers(int(mdp.choice_start[s]), int(mdp.choice_start[s + 1]) - 1))
                for s in range(mdp.n_states)]
        layers.append(PolicyLayer.deterministic(mdp, np.array(pick)))
    policy = Policy(tuple(layers))
    small, carried = restrict_with_policy(mdp, horizon, policy, always=True)
    objective = Objective("r", horizon)
    assert evaluate_objective(small, objective, carried).value == evaluate_objective(mdp, objective, policy).value


def test_grid_policy_lemma_runs_on_the_restriction():
    from proofs.core.policy import Policy
    from proofs.engines.policy import discharge_policy
    from proofs.kernel.check_policy import check_policy_certificate

    grid = grid_mdp(200)
    objective = Objective("r", 10)
    policy = Policy.stationary(optimal(grid, objective, exact_mode=False).policy.at(0))
    result = discharge_policy(grid, objective, policy, Fraction(1))
    fields = result.certificate_fields(objective, Fraction(1))
    checked = check_policy_certificate(fields, result.status, grid, objective, policy, Fraction(1), result.arrays or None)
    assert checked.status == "proved" and result.witness["arithmetic"] == "exact"   # 66 states, not 40,000
