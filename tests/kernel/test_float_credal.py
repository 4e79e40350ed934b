"""The kernel's float passes on credal (interval) models: nature's greedy in integers, a proved error.

`FloatBellman` on an interval model sorts each choice's successors by the value vector and gives
nature's free mass to the cheapest first, in integers over a common denominator
(`proofs.kernel.bellman.Nature`). Its floats, with their error bound, must enclose the exact robust
operator of `ExactBellman` (which certifies nature's minimum by duality) on random interval
models, for the optimal and the policy operators, with and without discounting; bounds outside
[0, 1] or rows whose intervals hold no distribution are refused, and a policy certificate in float
arithmetic on an interval model is checked by the kernel and rejected when it is forged.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.mdps import credal_mdps, make_mdp, stationary_layers

from proofs.core.errors import CheckFailure
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.engines.policy import discharge_policy
from proofs.kernel.bellman import ExactBellman, FloatBellman
from proofs.kernel.check_policy import check_policy_certificate


@given(data=st.data(), mdp=credal_mdps(max_states=6), beta=st.sampled_from([Fraction(1), Fraction(9, 10), Fraction(1, 3)]))
@settings(max_examples=150, deadline=None)
def test_float_passes_enclose_natures_exact_minimum(data, mdp, beta):
    w = np.array(data.draw(st.lists(st.floats(-1e3, 1e3), min_size=mdp.n_states, max_size=mdp.n_states)))
    layer = data.draw(stationary_layers(mdp))
    floats, exact = FloatBellman(mdp, mdp.rewards["r"], beta), ExactBellman(mdp, mdp.rewards["r"], beta)
    exact_w = [Fraction(float(x)) for x in w]
    for (centre, err), truth in ((floats.optimal(w), exact.optimal(exact_w)[0]),
                                 (floats.policy(layer, w), exact.policy(layer, exact_w)[0])):
        for s in range(mdp.n_states):
            assert abs(Fraction(float(centre[s])) - truth[s]) <= err


def _one_state(lo: str, hi: str):
    return make_mdp(["s", "t"], {"s": [("go", {"s": (lo, hi), "t": ("1/2", "1/2")})], "t": [("stay", {"t": 1})]},
                    rewards={"r": {("s", "go"): 1}})


@pytest.mark.parametrize("lo, hi, why", [("1/10", "1/5", "no distribution"), ("3/5", "4/5", "no distribution"),
                                         ("-1/10", "1/2", "not within"), ("1/2", "3/2", "not within")])
def test_intervals_without_a_distribution_are_refused(lo, hi, why):
    with pytest.raises(CheckFailure, match=why):
        FloatBellman(_one_state(lo, hi), Rationals.from_fractions([1, 0]), Fraction(1))


def test_nature_takes_the_cheapest_successor_first():
    # from s: stay in s (value 10) with [1/10, 9/10], go to t (value 0) with [1/10, 9/10]: nature sends 9/10 to t
    mdp = make_mdp(["s", "t"], {"s": [("go", {"s": ("1/10", "9/10"), "t": ("1/10", "9/10")})], "t": [("stay", {"t": 1})]})
    q, err = FloatBellman(mdp, Rationals.from_fractions([0, 0]), Fraction(1)).optimal(np.array([10.0, 0.0]))
    assert abs(Fraction(float(q[0])) - 1) <= err < Fraction(1, 10**12)


def _widened_chain(n: int, fall: tuple[str, str] = ("1/4", "1/2")):
    """A ring of n states, two actions: 'safe' stays or moves on, 'risky' pays more and may fall."""
    choices, rewards = {}, {}
    for i in range(n):
        nxt = f"s{(i + 1) % n}"
        choices[f"s{i}"] = [("safe", {f"s{i}": ("1/5", "2/5"), nxt: ("3/5", "4/5")}),
                            ("risky", {nxt: ("1/2", "3/4"), "fall": fall})]
        rewards[(f"s{i}", "safe")], rewards[(f"s{i}", "risky")] = 1, 2
    choices["fall"] = [("stay", {"fall": 1})]
    return make_mdp([f"s{i}" for i in range(n)] + ["fall"], choices, rewards={"r": rewards})


@pytest.mark.parametrize("action, status", [("safe", "proved"), ("risky", "refuted")])
def test_a_float_policy_certificate_on_an_interval_model_is_checked(action, status):
    mdp = _widened_chain(5)
    objective = Objective("r", 12, Fraction(1))
    index = mdp.action_names.index(action)
    table = {s: [(c, Fraction(1))] for s in range(mdp.n_states) for c in mdp.choices(s)
             if mdp.choice_action[c] == index or mdp.states[s] == "fall"}
    policy = Policy.stationary(PolicyLayer.from_table(mdp, table))
    floated = discharge_policy(mdp, objective, policy, Fraction(3, 2), exact_mode=False)
    exact = discharge_policy(mdp, objective, policy, Fraction(3, 2), exact_mode=True)
    assert floated.witness["arithmetic"] == "float" and floated.status == exact.status == status
    assert floated.j_star.lo <= exact.j_star.lo and exact.j_star.hi <= floated.j_star.hi
    assert floated.j_policy.lo <= exact.j_policy.lo and exact.j_policy.hi <= floated.j_policy.hi
    body = floated.certificate_fields(objective, Fraction(3, 2))
    checked = check_policy_certificate(body, status, mdp, objective, policy, Fraction(3, 2))
    assert checked.status == status
    # the same certificate against a nature that may let the risky walk fall less
    with pytest.raises(CheckFailure, match="values"):
        check_policy_certificate(body, status, _widened_chain(5, ("1/4", "3/10")), objective, policy, Fraction(3, 2))


@pytest.mark.parametrize("action, status", [("safe", "proved"), ("risky", "refuted")])
def test_a_float_geometric_policy_certificate_on_an_interval_model_is_checked(action, status):
    """The geometric horizon: value vectors near nature's fixed points (value iteration with the
    kernel's passes from the midpoints' values), their residuals checked by the kernel."""
    mdp = _widened_chain(5)
    objective = Objective("r", None, Fraction(9, 10))
    index = mdp.action_names.index(action)
    table = {s: [(c, Fraction(1))] for s in range(mdp.n_states) for c in mdp.choices(s)
             if mdp.choice_action[c] == index or mdp.states[s] == "fall"}
    policy = Policy.stationary(PolicyLayer.from_table(mdp, table))
    epsilon = Fraction(3, 2)
    floated = discharge_policy(mdp, objective, policy, epsilon, exact_mode=False)
    exact = discharge_policy(mdp, objective, policy, epsilon, exact_mode=True)
    assert floated.witness["arithmetic"] == "float" and floated.status == exact.status == status
    assert floated.j_star.lo <= exact.j_star.lo and exact.j_star.hi <= floated.j_star.hi
    assert floated.j_policy.lo <= exact.j_policy.lo and exact.j_policy.hi <= floated.j_policy.hi
    assert floated.j_star.width < Fraction(1, 10)
    body = floated.certificate_fields(objective, epsilon)
    assert check_policy_certificate(body, status, mdp, objective, policy, epsilon, floated.arrays).status == status
