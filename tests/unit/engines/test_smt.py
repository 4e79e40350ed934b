"""The smt engine for the alignment lemma: exact agreement with the lagrangian engine, hints that must
not change an answer, and timeouts (the hand-made cases of every exact engine: `test_hand_made`).

Every result is also passed through the trusted checker (`check_alignment_certificate`).
"""

from fractions import Fraction

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.alignment_models import hack
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
from proofs.engines import lagrangian, smt
from proofs.engines.alignment import certificate_body
from proofs.engines.smt import discharge_alignment
from proofs.kernel.check_alignment import check_alignment_certificate

F = Fraction
LE, LT, GE, GT = Comparison.LE, Comparison.LT, Comparison.GE, Comparison.GT
FATAL = Eventually(Label("fatal"))
GEO = Objective("r", None, F(1, 2))


def run(mdp, objective, eps, constraints, **options):
    result = discharge_alignment(mdp, objective, F(eps), constraints, **options)
    assert result.engine == "smt"
    check_alignment_certificate(certificate_body(result, objective, F(eps)), result.status, mdp, objective, F(eps),
                                constraints)
    if result.status != "unknown":
        assert all(c.worst.is_exact for c in result.constraints)
    return result


def test_credal_models_are_unknown():
    m = make_mdp(["s", "t"], {"s": [("go", {"t": ("1/3", "2/3"), "s": ("1/3", "2/3")})], "t": [("stay", {"t": 1})]},
                 rewards={"r": {}}, labels={"fatal": ["t"]})
    r = run(m, Objective("r", 2), 0, [ProbabilityConstraint(LE, F(1, 5), FATAL)])
    assert r.status == "unknown" and "credal" in r.reason


# -- exact agreement with the lagrangian engine -------------------------------------------------------
CASES = [ProbabilityConstraint(LE, F(1, 2), FATAL), ProbabilityConstraint(GE, F(1, 2), Eventually(Label("goal"), 1)),
         ProbabilityConstraint(LE, F(1, 2), Until(Not(Label("fatal")), Label("goal"))),
         ProbabilityConstraint(GE, F(1, 2), Globally(Not(Label("fatal")))),
         RewardConstraint("c", LE, F(1)), RewardConstraint("c", GE, F(1), 1)]
OBJECTIVES = [Objective("r", 1), Objective("r", 3), Objective("r", 2, F(1, 2)), Objective("r", None, F(1, 2)),
              Objective("r", None, F(9, 10))]


def agree(mdp, objective, eps, constraints, **options):
    r = run(mdp, objective, eps, constraints, **options)
    expected = lagrangian.discharge_alignment(mdp, objective, F(eps), constraints)
    assert (r.status, r.j_star) == (expected.status, expected.j_star)
    assert [(c.worst, c.holds) for c in r.constraints] == [(c.worst, c.holds) for c in expected.constraints]
    return r, expected


@given(small_mdps(max_states=4, max_actions=3), st.sampled_from(OBJECTIVES),
       st.sampled_from([F(0), F(1, 3), F(1), F(3)]), st.lists(st.sampled_from(CASES), min_size=1, max_size=2))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_agrees_exactly_with_the_lagrangian_engine(mdp, objective, eps, constraints):
    agree(mdp, objective, eps, constraints)


@given(small_mdps(max_states=3, max_actions=2), st.sampled_from([1, 2, None]), st.sampled_from(CASES))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_margin_agrees_with_the_lagrangian_engine(mdp, horizon, constraint):
    objective = Objective("r", horizon, F(1) if horizon else F(1, 2))
    r = run(mdp, objective, 0, [constraint], margin=True)
    assert r.margin == lagrangian.discharge_alignment(mdp, objective, F(0), [constraint], margin=True).margin


@pytest.mark.parametrize("family", ["grid", "random"])
@pytest.mark.parametrize("objective", [Objective("r", 10), Objective("r", None, F(9, 10))])
def test_agrees_with_the_lagrangian_engine_on_the_benchmark_families(family, objective):
    mdp = grid_mdp(4) if family == "grid" else random_mdp(30)
    agree(mdp, objective, F(1, 100), [ProbabilityConstraint(LE, F(1, 100), FATAL),
                                      ProbabilityConstraint(GE, F(9, 10), Globally(Not(Label("fatal"))))])


# -- hints ------------------------------------------------------------------------------------------
WRONG = [F(0), F(1, 7), F(1), F(1000), F(-3)]


@pytest.mark.parametrize("lam", WRONG)
def test_wrong_lambda_hints_change_nothing(lam):
    constraints = [ProbabilityConstraint(LE, F(1, 4), FATAL), RewardConstraint("harm", LE, F(1, 2))]
    for objective in (Objective("r", 1), GEO):
        plain = run(hack(), objective, 1, constraints)
        hinted = run(hack(), objective, 1, constraints, hints={"lambda": lam})
        assert (hinted.status, hinted.constraints) == (plain.status, plain.constraints)


@given(small_mdps(max_states=4, max_actions=3), st.sampled_from(OBJECTIVES), st.sampled_from(CASES),
       st.fractions(-2, 5, max_denominator=7))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_lambda_hints_change_nothing(mdp, objective, constraint, lam):
    agree(mdp, objective, F(1, 3), [constraint], hints={"lambda": [lam]})


def test_the_optimal_lambda_as_a_hint():
    constraint = ProbabilityConstraint(LE, F(1, 4), FATAL)
    r = run(hack(), Objective("r", 1), 1, [constraint], hints={"lambda": [F(1, 2)]})
    assert r.status == "refuted" and r.constraints[0].lam == F(1, 2) and r.constraints[0].worst.value == F(1, 2)


def test_per_constraint_foreign_and_malformed_hints_change_nothing():
    constraints = [ProbabilityConstraint(LE, F(1, 4), FATAL), RewardConstraint("harm", LE, F(1, 2))]
    plain = run(hack(), Objective("r", 1), 1, constraints)
    for hints in ({"lamda": 1, "basis": [(0, "start", "good")], "lambda": ["x/0", "abc", True, -1, None, "1/2"]},
                  {"lambda": 3, "constraints": [{"lambda": "1/2"}, {"lambda": [0, 5, "7/3"]}]},
                  {"constraints": "nonsense"}, {"constraints": [None]}):
        hinted = run(hack(), Objective("r", 1), 1, constraints, hints=hints)
        assert (hinted.status, hinted.constraints) == (plain.status, plain.constraints)


# -- timeouts ---------------------------------------------------------------------------------------
def test_timeout_gives_unknown():
    constraint = ProbabilityConstraint(LE, F(1, 100), FATAL)
    r = run(hack(), Objective("r", 1), 1, [constraint], timeout_ms=0)
    assert r.status == "unknown" and "timeout" in r.reason
    r = run(random_mdp(300), Objective("r", 10), 1, [constraint], timeout_ms=1)
    assert r.status == "unknown" and "timeout" in r.reason and r.witness == {}


def test_a_generous_timeout_changes_nothing():
    constraint = ProbabilityConstraint(LE, F(1, 4), FATAL)
    r = run(hack(), Objective("r", 1), 1, [constraint], timeout_ms=60_000)
    assert r.status == "refuted" and r.constraints[0].worst.value == F(1, 2)


def test_z3_unknown_gives_unknown(monkeypatch):
    class GivingUp(z3.Optimize):
        def check(self, *assumptions):
            return z3.unknown

    monkeypatch.setattr(smt.z3, "Optimize", GivingUp)
    r = run(hack(), Objective("r", 1), 1, [ProbabilityConstraint(LE, F(1, 4), FATAL)])
    assert r.status == "unknown" and "Z3 answered unknown" in r.reason


def test_misleading_float_seeds_change_nothing(monkeypatch):
    constraints = [ProbabilityConstraint(LE, F(1, 4), FATAL), RewardConstraint("harm", LE, F(1, 2))]
    plain = run(hack(), Objective("r", 1), 1, constraints)
    monkeypatch.setattr(smt._Oracle, "float_bracket", lambda self, target: [F(10**9), F(0), F(-1)])
    seeded = run(hack(), Objective("r", 1), 1, constraints)
    assert (seeded.status, seeded.constraints) == (plain.status, plain.constraints)
