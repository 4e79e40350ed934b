"""The hand-made alignment cases every exact engine must decide exactly: proved and refuted, ε = 0,
the randomized-only reward hack, a worst value on its threshold (`<=` proved, `<` refuted), G, U
and R[C] constraints, a non-absorbing label with step bounds, geometric horizons and the margin.

Every result is also passed through the trusted checker (`check_alignment_certificate`).
"""

from fractions import Fraction

import pytest
from tests.support.alignment_models import cliff, corridor, hack

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
from proofs.engines import lagrangian, lp, smt
from proofs.engines.alignment import certificate_body
from proofs.kernel.check_alignment import check_alignment_certificate

F = Fraction
LE, LT, GE, GT = Comparison.LE, Comparison.LT, Comparison.GE, Comparison.GT
FATAL = Eventually(Label("fatal"))
GEO = Objective("r", None, F(1, 2))
DISCHARGE = {"lagrangian": lagrangian.discharge_alignment, "lp": lp.discharge_alignment,
             "smt": smt.discharge_alignment}


@pytest.fixture(params=sorted(DISCHARGE))
def engine(request):
    return request.param


@pytest.fixture
def run(engine):
    def run(mdp, objective, eps, constraints, **options):
        result = DISCHARGE[engine](mdp, objective, F(eps), constraints, **options)
        check_alignment_certificate(certificate_body(result, objective, F(eps)), result.status, mdp, objective, F(eps),
                                    constraints)
        if engine != "lagrangian":
            assert result.engine == engine
        if engine == "lp" or (engine == "smt" and result.status != "unknown"):
            assert all(c.worst.is_exact for c in result.constraints)
        return result

    return run


def test_cliff_proved_and_refuted(run):
    loose = ProbabilityConstraint(LE, F(1, 5), FATAL)
    tight = ProbabilityConstraint(LE, F(1, 20), FATAL)
    r = run(cliff(), Objective("r", 1), "1/2", [loose])
    assert r.status == "proved" and r.j_star.value == 2 and r.constraints[0].worst.value == F(1, 10)
    r = run(cliff(), Objective("r", 1), "1/2", [loose, tight])
    assert r.status == "refuted" and r.counterexample["constraint"] == 1
    assert [c.holds for c in r.constraints] == [True, False]


def test_epsilon_zero_forces_the_optimal_policy(run):
    r = run(cliff(), Objective("r", 1), 0, [ProbabilityConstraint(LE, F(1, 20), FATAL)])
    assert r.status == "refuted" and r.constraints[0].worst.value == F(1, 10)


def test_only_a_randomized_policy_is_epsilon_optimal_and_unsafe(run, engine):
    r = run(hack(), Objective("r", 1), 1, [ProbabilityConstraint(LE, F(1, 4), FATAL)])
    assert r.status == "refuted" and r.constraints[0].worst.value == F(1, 2) and r.constraints[0].lam == F(1, 2)
    if engine == "lp":   # one randomized policy
        assert r.counterexample["mixture"][0]["before_decided"]["steps"][0]["start"] == {"good": "1/2", "hack": "1/2"}
    else:                # a start mixture of two deterministic ones
        assert sorted(F(m["weight"]) for m in r.counterexample["mixture"]) == [F(1, 2), F(1, 2)]


def test_worst_equal_to_threshold(run):
    assert run(hack(), Objective("r", 1), 1, [ProbabilityConstraint(LE, F(1, 2), FATAL)]).status == "proved"
    assert run(hack(), Objective("r", 1), 1, [ProbabilityConstraint(LT, F(1, 2), FATAL)]).status == "refuted"


def test_globally_reward_and_until_constraints(run):
    safe = Globally(Not(Label("fatal")))
    assert run(hack(), Objective("r", 1), 1, [ProbabilityConstraint(GE, F(1, 2), safe)]).status == "proved"
    r = run(hack(), Objective("r", 1), 1, [ProbabilityConstraint(GT, F(1, 2), safe)])
    assert r.status == "refuted" and r.constraints[0].worst.value == F(1, 2)
    harm = RewardConstraint("harm", LE, F(1, 2))
    assert run(hack(), Objective("r", 1), 1, [harm]).constraints[0].worst.value == F(1, 2)
    reach = ProbabilityConstraint(GE, F(1, 2), Until(Not(Label("fatal")), Label("goal")))
    r = run(hack(), Objective("r", 1), 1, [reach])
    assert r.status == "proved" and r.constraints[0].worst.value == F(1, 2)


def test_non_absorbing_label_and_step_bounds(run):
    obj = Objective("r", 3)
    # walk: J = 0 + 1 + 1 = 2; jump: J = 1 + 1/2·(0 + 1) + 1/2·(1 + 1) = 5/2, fatal w.p. 1/2 at step 1
    r = run(corridor(), obj, "1/4", [ProbabilityConstraint(LE, F(1, 3), FATAL)])
    assert r.j_star.value == F(5, 2) and r.status == "refuted" and r.constraints[0].worst.value == F(1, 2)
    r = run(corridor(), obj, "1/4", [ProbabilityConstraint(LE, F(1, 3), Eventually(Label("fatal"), 0))])
    assert r.status == "proved" and r.constraints[0].worst.value == 0
    r = run(corridor(), obj, 1, [ProbabilityConstraint(LE, F(1, 3), Eventually(Label("fatal"), 1))])
    assert r.constraints[0].worst.value == F(1, 2)


def test_geometric_horizon(run, engine):
    # cliff, γ = 1/2: safe J = 1, risky J = 2, P(F fatal) = 1/10 under risky (fatal is visited by s_1)
    r = run(cliff(), GEO, F(1, 2), [ProbabilityConstraint(LE, F(1, 20), FATAL)])
    assert r.status == "refuted" and r.j_star.value == 2 and r.constraints[0].worst.value == F(1, 10)
    r = run(hack(), GEO, 1, [ProbabilityConstraint(LE, F(1, 2), FATAL), RewardConstraint("harm", LT, F(1))])
    assert r.status == "proved" and [c.worst.value for c in r.constraints] == [F(1, 2), F(1, 2)]
    r = run(hack(), GEO, 1, [ProbabilityConstraint(LT, F(1, 2), FATAL)])
    assert r.status == "refuted"
    if engine == "lp":   # one stationary randomized policy, given by its values
        assert "values" in r.counterexample["mixture"][0]
    else:
        assert len(r.counterexample["mixture"]) == 2


def test_geometric_horizon_with_step_bound_and_non_absorbing_label(run):
    # jump: J = 1 + 1/2·(1/2·(0 + 1/2·2) + 1/2·2) = 7/4; walk: J = 0 + 1/2·(1 + 1/2·2) = 1; fatal w.p. 1/2 at s_1
    r = run(corridor(), GEO, F(1, 2), [ProbabilityConstraint(LE, F(1, 3), FATAL)])
    assert r.j_star.value == F(7, 4) and r.constraints[0].worst.value == F(1, 2)
    r = run(corridor(), GEO, 1, [ProbabilityConstraint(LE, F(1, 3), Eventually(Label("fatal"), 1))])
    assert r.constraints[0].worst.value == F(1, 2) and r.status == "refuted"


@pytest.mark.parametrize(("comparison", "threshold", "path", "expected"), [
    (LE, F(1, 4), FATAL, F(1, 2)), (LT, F(1, 4), FATAL, F(1, 2)), (LE, F(1), FATAL, "inf"), (LT, F(1), FATAL, F(2)),
    (GE, F(3, 4), Globally(Not(Label("fatal"))), F(1, 2)), (LE, F(0), FATAL, F(0))])
def test_margin_is_exact(run, comparison, threshold, path, expected):
    r = run(hack(), Objective("r", 1), F(0), [ProbabilityConstraint(comparison, threshold, path)], margin=True)
    assert r.margin == expected or r.margin.value == expected
