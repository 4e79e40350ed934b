"""The policy-lemma engine: verdicts, exact values (against Storm), diagnosis, hints, float mode."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.mdps import grid_mdp, make_mdp, random_mdp, small_mdps

import proofs.engines.policy as engine
from proofs.core.enclosure import Enclosure
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.engines.policy import discharge_policy
from proofs.interop import storm
from proofs.semantics.evaluate import evaluate_objective, optimal

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ONE = Fraction(1)

# s0 --a--> s0/s1 (1/2 each, reward 1); s0 --b--> s2 (reward 3, absorbing after);
# s1 --a--> s1 (reward 2); s1 --b--> s0 (reward 1/2)
CHAIN = make_mdp(
    ["s0", "s1", "s2"],
    {"s0": [("a", {"s0": "1/2", "s1": "1/2"}), ("b", {"s2": 1})],
     "s1": [("a", {"s1": 1}), ("b", {"s0": 1})],
     "s2": [("a", {"s2": 1})]},
    rewards={"r": {("s0", "a"): 1, ("s0", "b"): 3, ("s1", "a"): 2, ("s1", "b"): "1/2"}},
)


def layer(mdp: Mdp, table: dict[str, dict[str, Fraction | int | str]]) -> PolicyLayer:
    """A decision rule from ``{state: {action: probability}}`` by names."""
    rows = {}
    for s, dist in table.items():
        i = mdp.state_index[s]
        rows[i] = [(mdp.choice_of(i, a), Fraction(p)) for a, p in dist.items()]
    return PolicyLayer.from_table(mdp, rows)


def stationary(mdp: Mdp, table: dict[str, dict[str, Fraction | int | str]]) -> Policy:
    return Policy.stationary(layer(mdp, table))


ALWAYS_A = stationary(CHAIN, {"s0": {"a": 1}, "s1": {"a": 1}, "s2": {"a": 1}})


@st.composite
def policies(draw: st.DrawFn, mdp: Mdp, layers: int = 1) -> Policy:
    """Randomized Markov policies defined on every state, with ``1..layers`` per-step tables."""
    count = draw(st.integers(1, layers))
    out = []
    for _ in range(count):
        table = {}
        for s in range(mdp.n_states):
            cs = list(mdp.choices(s))
            picked = draw(st.lists(st.sampled_from(cs), min_size=1, max_size=2, unique=True))
            weights = [draw(st.integers(1, 3)) for _ in picked]
            table[s] = [(c, Fraction(w, sum(weights))) for c, w in zip(picked, weights)]
        out.append(PolicyLayer.from_table(mdp, table))
    return Policy(tuple(out))


# -- verdicts ---------------------------------------------------------------------------------
def test_finite_horizon_values_and_all_three_verdicts():
    objective = Objective("r", 2)
    # J* = 1 + 1/2·3 + 1/2·2 = 7/2 (a, then b from s0) vs 1 + 1/2·1 + 1/2·2 = 5/2 for always-a
    proved = discharge_policy(CHAIN, objective, ALWAYS_A, ONE)
    assert (proved.status, proved.j_star, proved.j_policy) == ("proved", Enclosure.exact(Fraction(7, 2)),
                                                               Enclosure.exact(Fraction(5, 2)))
    assert proved.gap == Enclosure.exact(1)
    assert discharge_policy(CHAIN, objective, ALWAYS_A, Fraction(99, 100)).status == "refuted"
    assert proved.witness == {"kind": "backward-induction", "arithmetic": "exact", "steps": 2}


def test_epsilon_zero_proves_an_optimal_policy_exactly():
    best = stationary(CHAIN, {"s0": {"b": 1}, "s1": {"a": 1}, "s2": {"a": 1}})
    result = discharge_policy(CHAIN, Objective("r", 1), best, Fraction(0))
    assert result.status == "proved" and result.gap == Enclosure.exact(0) and result.diagnosis == ()


def test_unknown_when_the_float_enclosure_straddles_epsilon():
    objective = Objective("r", 2)
    result = discharge_policy(CHAIN, objective, ALWAYS_A, ONE, exact_mode=False)
    assert result.status == "unknown"  # the gap is exactly ε; a float enclosure cannot decide
    assert result.gap.lo < ONE < result.gap.hi and result.gap.width < Fraction(1, 10**9)
    assert result.witness["arithmetic"] == "float"


def test_geometric_horizon_exact_vectors_and_verdict():
    objective = Objective("r", None, Fraction(9, 10))
    result = discharge_policy(CHAIN, objective, ALWAYS_A, Fraction(0))
    # V*(s1) = 2/(1 - 9/10) = 20; V*(s0) = max(1 + 9/20·(V0 + 20), 3) -> V0 = 200/11: always-a is optimal
    assert result.j_star == result.j_policy == Enclosure.exact(Fraction(200, 11))
    assert result.status == "proved"
    assert result.witness["optimal"]["values"] == {"s0": "200/11", "s1": "20", "s2": "0"}
    assert result.witness["optimal"]["shift"] == {"down": "0", "up": "0"}
    assert set(result.witness["policy"]["values"]) == {"s0", "s1"}  # s2 is never reached
    to_b = stationary(CHAIN, {"s0": {"b": 1}, "s2": {"a": 1}})
    refuted = discharge_policy(CHAIN, objective, to_b, ONE)
    assert refuted.j_policy == Enclosure.exact(3) and refuted.status == "refuted"


def test_randomized_policy_and_ties():
    objective = Objective("r", 3)
    tie = make_mdp(["s", "t"], {"s": [("x", {"t": 1}), ("y", {"t": 1})], "t": [("z", {"t": 1})]},
                   rewards={"r": {("s", "x"): 1, ("s", "y"): 1}})
    mixed = stationary(tie, {"s": {"x": "1/3", "y": "2/3"}, "t": {"z": 1}})
    result = discharge_policy(tie, objective, mixed, Fraction(0))
    assert result.status == "proved" and result.j_policy == result.j_star == Enclosure.exact(1)
    assert result.diagnosis == ()  # a tie loses nothing
    half = stationary(CHAIN, {"s0": {"a": "1/2", "b": "1/2"}, "s1": {"a": 1}, "s2": {"a": 1}})
    value = discharge_policy(CHAIN, Objective("r", 1), half, ONE).j_policy
    assert value == Enclosure.exact(2)  # (1 + 3)/2


def test_per_step_policy_is_evaluated_step_by_step():
    first_b = Policy((layer(CHAIN, {"s0": {"b": 1}}), layer(CHAIN, {"s0": {"a": 1}, "s1": {"a": 1}, "s2": {"a": 1}})))
    result = discharge_policy(CHAIN, Objective("r", 3), first_b, Fraction(0))
    # J* = 19/4: a; then a from s0 (1 + 3/2 + 1) or a from s1 (2 + 2); then b from s0, a from s1
    assert (result.j_policy, result.j_star, result.status) == (Enclosure.exact(3), Enclosure.exact(Fraction(19, 4)),
                                                               "refuted")
    late_b = Policy((layer(CHAIN, {"s0": {"a": 1}}), layer(CHAIN, {"s0": {"b": 1}, "s1": {"a": 1}, "s2": {"a": 1}})))
    # 1 + 1/2·3 + 1/2·(2 + 2) = 9/2
    late = discharge_policy(CHAIN, Objective("r", 3), late_b, Fraction(1, 4))
    assert late.j_policy == Enclosure.exact(Fraction(9, 2)) and late.status == "proved"
    assert late.diagnosis[0].step == 1 and late.diagnosis[0].state == "s0"  # b one step too early


def test_per_step_policy_on_the_geometric_horizon():
    first_b = Policy((layer(CHAIN, {"s0": {"b": 1}}), layer(CHAIN, {"s0": {"a": 1}, "s1": {"a": 1}, "s2": {"a": 1}})))
    objective = Objective("r", None, Fraction(9, 10))
    exact = discharge_policy(CHAIN, objective, first_b, ONE)
    assert exact.j_policy == Enclosure.exact(3)
    floats = discharge_policy(CHAIN, objective, first_b, ONE, exact_mode=False)
    assert floats.j_policy.contains(Fraction(3)) and floats.j_policy.width < Fraction(1, 10**8)


def test_credal_model_takes_natures_worst_case():
    credal = make_mdp(
        ["s", "good", "bad"],
        {"s": [("risky", {"good": ("1/2", "3/4"), "bad": ("1/4", "1/2")}), ("safe", {"bad": (1, 1)})],
         "good": [("stay", {"good": (1, 1)})], "bad": [("stay", {"bad": (1, 1)})]},
        rewards={"r": {("s", "safe"): "1/2", ("good", "stay"): 1}},
    )
    objective = Objective("r", 3)
    risky = stationary(credal, {"s": {"risky": 1}, "good": {"stay": 1}, "bad": {"stay": 1}})
    result = discharge_policy(credal, objective, risky, Fraction(0))
    assert result.j_policy == Enclosure.exact(1)  # nature sends only 1/2 to good: 1/2·2
    assert result.j_star == Enclosure.exact(1) and result.status == "proved"
    assert result.j_policy == evaluate_objective(credal, objective, risky)
    geometric = discharge_policy(credal, Objective("r", None, Fraction(1, 2)), risky, Fraction(0))
    assert geometric.j_star == optimal(credal, Objective("r", None, Fraction(1, 2))).value
    assert geometric.witness["arithmetic"] == "exact"


@pytest.mark.parametrize("exact_mode", [True, False])
@pytest.mark.parametrize("objective", [Objective("r", 3), Objective("r", None, Fraction(9, 10))], ids=["H3", "geo"])
def test_the_same_behaviour_gives_the_same_certificate(objective, exact_mode):
    """Unreached entries and zero-probability actions are not behaviour; the output is deterministic."""
    padded = stationary(CHAIN, {"s0": {"a": 1, "b": 0}, "s1": {"a": 1, "b": 0}})  # s2 is never reached
    results = [discharge_policy(CHAIN, objective, p, ONE, exact_mode=exact_mode) for p in (ALWAYS_A, padded, padded)]
    fields = [r.certificate_fields(objective, ONE) for r in results]
    assert fields[0] == fields[1] == fields[2]
    for name in results[0].arrays:
        assert all(np.array_equal(r.arrays[name], results[0].arrays[name], equal_nan=True) for r in results)


# -- agreement with Storm, exactly ------------------------------------------------------------
@given(st.data(), small_mdps(), st.integers(1, 5), st.sampled_from([ONE, Fraction(9, 10)]))
@SETTINGS
def test_finite_horizon_values_equal_storms(data, mdp, horizon, discount):
    objective = Objective("r", horizon, discount)
    policy = data.draw(policies(mdp))
    result = discharge_policy(mdp, objective, policy, Fraction(1, 2))
    names = storm.storm_names(mdp)
    query = storm.storm_property(None, objective, "max", names=names)
    assert result.j_star.value == storm.initial_value(mdp, storm.storm_value(mdp, query, exact=True))
    chain = storm.fix_policy(mdp, policy.at(0))
    assert result.j_policy.value == storm.initial_value(chain, storm.storm_value(chain, query, exact=True))


@given(st.data(), small_mdps(max_states=4))
@SETTINGS
def test_geometric_values_equal_storms_on_the_unrolling(data, mdp):
    objective = Objective("c", None, Fraction(3, 4))  # Storm's [C] needs non-negative rewards
    policy = data.draw(policies(mdp))
    result = discharge_policy(mdp, objective, policy, Fraction(1, 2))
    unrolled = storm.geometric_unrolling(mdp, objective.discount)
    query = storm.storm_property(None, objective, "max", names=storm.storm_names(unrolled))
    assert result.j_star.value == storm.initial_value(unrolled, storm.storm_value(unrolled, query, exact=True))
    chain = storm.geometric_unrolling(storm.fix_policy(mdp, policy.at(0)), objective.discount)
    assert result.j_policy.value == storm.initial_value(chain, storm.storm_value(chain, query, exact=True))


@given(st.data(), small_mdps(max_states=5), st.sampled_from([2, None]))
@SETTINGS
def test_float_mode_encloses_the_exact_values(data, mdp, horizon):
    objective = Objective("r", horizon, Fraction(4, 5))
    policy = data.draw(policies(mdp, layers=2))
    exact = discharge_policy(mdp, objective, policy, Fraction(1, 2), exact_mode=True)
    floats = discharge_policy(mdp, objective, policy, Fraction(1, 2), exact_mode=False)
    for name in ("j_star", "j_policy", "gap"):
        tight, wide = getattr(exact, name), getattr(floats, name)
        assert wide.lo <= tight.lo and tight.hi <= wide.hi, name
    # J(π₀) is always tight; J* is tight, or (search stopped once decided) at most ε/10 wide
    assert floats.j_policy.width < Fraction(1, 10**8)
    assert floats.j_star.width < Fraction(1, 10**8) or floats.j_star.width <= Fraction(1, 20) * Fraction(11, 10)
    assert floats.status in (exact.status, "unknown")


# -- diagnosis ---------------------------------------------------------------------------------
def test_diagnosis_names_the_costly_state_step_and_actions():
    result = discharge_policy(CHAIN, Objective("r", 1), ALWAYS_A, Fraction(0))
    top = result.diagnosis[0]
    assert (top.state, top.step, top.action, top.optimal_action) == ("s0", 0, "a", "b")
    assert top.visits == 1.0 and top.loss == pytest.approx(2.0)
    assert top.to_json()["optimal_action"] == "b"


@given(st.data(), small_mdps(max_states=5), st.sampled_from([3, None]))
@SETTINGS
def test_losses_add_up_to_the_gap(data, mdp, horizon):
    """The performance-difference lemma: with every term listed, the losses sum to J* − J(π₀)."""
    objective = Objective("r", horizon, Fraction(4, 5))
    policy = data.draw(policies(mdp))
    saved, engine.TOP = engine.TOP, 10**6
    try:
        result = discharge_policy(mdp, objective, policy, Fraction(0))
    finally:
        engine.TOP = saved
    assert sum(d.loss for d in result.diagnosis) == pytest.approx(float(result.gap.lo), rel=1e-6, abs=1e-6)


# -- hints -------------------------------------------------------------------------------------
@pytest.mark.parametrize("exact_mode", [True, False])
def test_wrong_hints_change_only_the_time(exact_mode):
    mdp = grid_mdp(5, "0.1")
    objective = Objective("r", None, Fraction(9, 10))
    worst = PolicyLayer.deterministic(mdp, mdp.choice_start[1:] - 1)  # "west" everywhere: far from optimal
    policy = Policy.stationary(PolicyLayer.deterministic(mdp, mdp.choice_start[:-1].copy()))
    plain = discharge_policy(mdp, objective, policy, Fraction(1, 100), exact_mode=exact_mode)
    wrong = discharge_policy(mdp, objective, policy, Fraction(1, 100), exact_mode=exact_mode,
                             hint_values=np.linspace(-50.0, 50.0, mdp.n_states), hint_policy=Policy.stationary(worst))
    assert plain.status == wrong.status
    truth = optimal(mdp, objective, exact_mode=True).value.value
    for result in (plain, wrong):
        assert result.j_star.contains(truth) and result.j_star.width <= Fraction(1, 1000)   # ≤ ε/10
    if exact_mode:
        assert plain.witness == wrong.witness and plain.j_star == wrong.j_star


# -- larger models, float arithmetic ----------------------------------------------------------
@pytest.mark.parametrize("objective", [Objective("r", 30), Objective("r", None, Fraction(19, 20))], ids=["H30", "geo"])
def test_generated_model_in_float_mode(objective):
    mdp = random_mdp(3000, 1)
    first = Policy.stationary(PolicyLayer.deterministic(mdp, mdp.choice_start[:-1].copy()))
    bad = discharge_policy(mdp, objective, first, Fraction(1, 10))
    assert bad.status == "refuted" and bad.witness["arithmetic"] == "float"
    assert bad.diagnosis and bad.diagnosis[0].loss >= bad.diagnosis[-1].loss > 0
    best = optimal(mdp, Objective("r", None, Fraction(19, 20)), exact_mode=False).policy
    good = discharge_policy(mdp, objective, best, Fraction(1) if objective.horizon else Fraction(1, 10**6))
    assert good.status == "proved" and good.diagnosis == ()  # large models explain failures only
    if objective.horizon is None:
        assert set(good.arrays) == {"optimal", "policy"}
        assert good.witness["optimal"]["array"] == "optimal"
