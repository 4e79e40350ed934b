"""The `lp` engine for the alignment lemma: exact agreement with the lagrangian engine, recovery from a
wrong float solution, and hints that change the time only (hand-made cases: `test_hand_made`).

Every result is also passed through the trusted checker (`check_alignment_certificate`).
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.alignment_models import cliff, corridor, hack
from tests.support.mdps import grid_mdp, make_mdp, random_mdp, small_mdps

from proofs.core.formula import (
    Comparison,
    Eventually,
    Globally,
    Label,
    Not,
    ProbabilityConstraint,
    RewardConstraint,
    Until,
)
from proofs.core.objective import Objective
from proofs.engines import lagrangian, lp
from proofs.engines.alignment import certificate_body
from proofs.kernel.check_alignment import check_alignment_certificate

F = Fraction
LE, LT, GE, GT = Comparison.LE, Comparison.LT, Comparison.GE, Comparison.GT
FATAL = Eventually(Label("fatal"))
GEO = Objective("r", None, F(1, 2))


def run(mdp, objective, eps, constraints, **options):
    result = lp.discharge_alignment(mdp, objective, F(eps), constraints, **options)
    assert result.engine == "lp"
    check_alignment_certificate(certificate_body(result, objective, F(eps)), result.status, mdp, objective, F(eps),
                                constraints)
    assert all(c.worst.is_exact for c in result.constraints)
    return result


def same(r, s):
    """Same verdict and exact worst values (λ may differ when the optimal multiplier is not unique)."""
    assert r.status == s.status and r.j_star == s.j_star
    assert [(c.worst, c.holds) for c in r.constraints] == [(c.worst, c.holds) for c in s.constraints]


# -- hand-made cases (those of test_lagrangian.py) ---------------------------------------------------


def test_credal_and_oversized_models_are_unknown(monkeypatch):
    m = make_mdp(["s", "t"], {"s": [("go", {"t": ("1/3", "2/3"), "s": ("1/3", "2/3")})], "t": [("stay", {"t": 1})]},
                 rewards={"r": {}}, labels={"fatal": ["t"]})
    r = lp.discharge_alignment(m, Objective("r", 2), F(0), [ProbabilityConstraint(LE, F(1, 5), FATAL)])
    assert r.status == "unknown" and "credal" in r.reason and r.engine == "lp"
    monkeypatch.setattr(lp, "EXACT_LIMIT", 3)
    r = lp.discharge_alignment(cliff(), Objective("r", 2), F(0), [ProbabilityConstraint(LE, F(1, 5), FATAL)])
    assert r.status == "unknown" and "exact limit" in r.reason


def test_the_float_basis_is_exact_on_hand_made_cases(monkeypatch):
    def no_refinement(self):
        raise AssertionError("the LP's basis should have certified the worst value")

    monkeypatch.setattr(lp._Search, "refine", no_refinement)
    cases = [(cliff(), Objective("r", 1), "1/2", ProbabilityConstraint(LE, F(1, 20), FATAL)),
             (hack(), Objective("r", 1), 1, ProbabilityConstraint(LE, F(1, 4), FATAL)),
             (hack(), GEO, 1, RewardConstraint("harm", LT, F(1))),
             (corridor(), Objective("r", 3), "1/4", ProbabilityConstraint(LE, F(1, 3), FATAL))]
    for mdp, objective, eps, constraint in cases:
        run(mdp, objective, eps, [constraint])


# -- exact agreement with the lagrangian engine --------------------------------------------------------
CASES = [ProbabilityConstraint(LE, F(1, 2), FATAL), ProbabilityConstraint(GE, F(1, 2), Eventually(Label("goal"), 1)),
         ProbabilityConstraint(LE, F(1, 2), Until(Not(Label("fatal")), Label("goal"))),
         ProbabilityConstraint(GE, F(1, 2), Globally(Not(Label("fatal")))),
         RewardConstraint("c", LE, F(1)), RewardConstraint("c", GE, F(1), 1)]
EPSILONS = [F(0), F(1, 3), F(1), F(3)]
OBJECTIVES = [Objective("r", 1), Objective("r", 2, F(1, 2)), Objective("r", 3), GEO, Objective("r", None, F(9, 10))]


@given(small_mdps(max_states=4, max_actions=3), st.sampled_from(OBJECTIVES), st.sampled_from(EPSILONS),
       st.lists(st.sampled_from(CASES), min_size=1, max_size=2))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_agrees_with_the_lagrangian_engine(mdp, objective, eps, constraints):
    same(run(mdp, objective, eps, constraints), lagrangian.discharge_alignment(mdp, objective, eps, constraints))


@pytest.mark.parametrize(("model", "objective", "eps"), [
    ("grid_4", Objective("r", 20), F(1, 10)), ("grid_4", Objective("r", None, F(9, 10)), F(0)),
    ("random_20", Objective("r", 10), F(1)), ("random_20", Objective("r", None, F(9, 10)), F(1, 10)),
])
def test_agrees_on_benchmark_models(model, objective, eps):
    """Larger models, where HiGHS' tolerances make some float bases wrong (then refined)."""
    mdp = grid_mdp(4) if model == "grid_4" else random_mdp(20)
    constraints = [ProbabilityConstraint(LE, F(1, 100), FATAL)]
    same(run(mdp, objective, eps, constraints), lagrangian.discharge_alignment(mdp, objective, eps, constraints))


def _garbage(space, target):
    """A wrong float solution: uniform mass on every column, and a wrong multiplier."""
    return (np.ones(len(space.choice)), 7.25) if space.choice else None


@pytest.mark.parametrize("wrong", [_garbage, lambda space, target: None])
def test_a_wrong_float_solution_is_refined_to_the_exact_answer(monkeypatch, wrong):
    monkeypatch.setattr(lp, "_float_lp", wrong)
    for mdp, objective, eps, constraint in [
            (hack(), Objective("r", 1), 1, ProbabilityConstraint(LE, F(1, 4), FATAL)),
            (corridor(), Objective("r", 3), "1/4", ProbabilityConstraint(LE, F(1, 3), FATAL)),
            (corridor(), GEO, F(1, 2), ProbabilityConstraint(LE, F(1, 3), FATAL))]:
        r = run(mdp, objective, eps, [constraint])
        same(r, lagrangian.discharge_alignment(mdp, objective, F(eps), [constraint]))


@given(small_mdps(max_states=4, max_actions=3), st.sampled_from(OBJECTIVES), st.sampled_from(EPSILONS),
       st.sampled_from(CASES))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_refinement_agrees_with_the_lagrangian_engine(mdp, objective, eps, constraint):
    original = lp._float_lp
    lp._float_lp = _garbage
    try:
        r = run(mdp, objective, eps, [constraint])
    finally:
        lp._float_lp = original
    same(r, lagrangian.discharge_alignment(mdp, objective, eps, [constraint]))


# -- hints -----------------------------------------------------------------------------------------------
WRONG_HINTS = [
    {"lambda": F(1000)},
    {"lambda": ["3/7", 0, "-1", "not a number"]},
    {"basis": [(0, "start", "good"), (0, "a", "walk"), (1, "b", "walk"), (0, "s0", "b"), (5, "nowhere", "x")]},
    {"basis": [(0, "start", "hack"), (0, "start", "good"), (0, "a", "jump"), (0, "a", "walk")], "lambda": 3},
    {"warm_start": {"format": "proofs.policy/1", "steps": [{"start": "safe", "a": "walk", "s0": "a", "s1": "b"}]}},
    {"warm_start": {"mixture": [{"weight": "1", "before_decided": {"format": "proofs.policy/1", "steps": [
        {"start": {"good": "1/3", "hack": "2/3"}, "a": {"walk": "1/2", "jump": "1/2"}}]}}]}},
    {"warm_start": {"steps": 3}, "basis": "nonsense", "constraints": [{"lambda": "1/3"}]},
]
HAND = [(cliff(), Objective("r", 1), F(1, 2), [ProbabilityConstraint(LE, F(1, 20), FATAL)]),
        (hack(), Objective("r", 1), F(1), [ProbabilityConstraint(LE, F(1, 4), FATAL), RewardConstraint("harm", LE, 1)]),
        (hack(), GEO, F(1), [ProbabilityConstraint(LT, F(1, 2), FATAL)]),
        (corridor(), Objective("r", 3), F(1, 4), [ProbabilityConstraint(LE, F(1, 3), FATAL)]),
        (corridor(), GEO, F(1), [ProbabilityConstraint(LE, F(1, 3), Eventually(Label("fatal"), 1))])]


@pytest.mark.parametrize("hints", WRONG_HINTS)
@pytest.mark.parametrize("case", range(len(HAND)))
def test_wrong_hints_change_nothing(hints, case):
    mdp, objective, eps, constraints = HAND[case]
    same(run(mdp, objective, eps, constraints, hints=hints), run(mdp, objective, eps, constraints))


@given(small_mdps(max_states=4, max_actions=3), st.sampled_from(OBJECTIVES), st.sampled_from(EPSILONS),
       st.sampled_from(CASES), st.sampled_from(WRONG_HINTS), st.sampled_from(["a", "b", "stay"]))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_wrong_hints_change_nothing_on_small_models(mdp, objective, eps, constraint, hints, action):
    basis = [(t, s, action) for t in range(3) for s in mdp.states]
    plain = run(mdp, objective, eps, [constraint])
    same(run(mdp, objective, eps, [constraint], hints=hints), plain)
    same(run(mdp, objective, eps, [constraint], hints={"basis": basis, "lambda": 2}), plain)


def test_right_hints_skip_the_float_lp(monkeypatch):
    for mdp, objective, eps, constraints in HAND:
        first = run(mdp, objective, eps, constraints)
        wits = first.witness["constraints"]
        hints = {"constraints": [{"lambda": w["lambda"], "warm_start": w["attained"]} for w in wits]}

        def no_lp(space, target):
            raise AssertionError("the hints should have certified the worst value")

        monkeypatch.setattr(lp, "_float_lp", no_lp)
        same(run(mdp, objective, eps, constraints, hints=hints), first)
        monkeypatch.undo()


# -- margin ---------------------------------------------------------------------------------------------


@given(small_mdps(max_states=3, max_actions=2), st.sampled_from([Objective("r", 2), GEO]), st.sampled_from(CASES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_margin_agrees_with_the_lagrangian_engine(mdp, objective, constraint):
    mine = run(mdp, objective, F(0), [constraint], margin=True).margin
    theirs = lagrangian.discharge_alignment(mdp, objective, F(0), [constraint], margin=True).margin
    assert mine == theirs
