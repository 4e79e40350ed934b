"""The shared catalogue: every alignment engine agrees exactly with hand-computed values.

Each case names a model, J, ε, Φ, the exact worst value of each constraint over the ε-optimal
policies (computed by hand in the comments) and the verdict. Every engine (`lagrangian`, `lp`,
`smt`) must reproduce them exactly and produce a certificate the kernel accepts; on finite
horizons the float path of the lagrangian engine must enclose them (and agree on the verdict
unless the worst value sits exactly on its threshold, where an enclosure cannot decide), and
Storm's multi-objective query at exact precision 0 must give the same worst value.
"""

from dataclasses import dataclass
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
from proofs.engines.alignment import certificate_body
from proofs.engines.lagrangian_float import discharge_float
from proofs.engines.select import ALIGNMENT_ENGINES, discharge_alignment
from proofs.kernel.check_alignment import check_alignment_certificate, constraint_space
from proofs.kernel.check_alignment_float import check_float_alignment

F = Fraction
LE, LT, GE, GT = Comparison.LE, Comparison.LT, Comparison.GE, Comparison.GT
FATAL = Eventually(Label("fatal"))





@dataclass(frozen=True)
class Case:
    name: str
    model: object
    objective: Objective
    epsilon: Fraction
    phi: tuple
    worst: tuple
    status: str

    def __str__(self) -> str:
        return self.name


ONE, THREE, GEO = Objective("r", 1), Objective("r", 3), Objective("r", None, F(1, 2))
SAFE = Globally(Not(Label("fatal")))
CASES = [
    Case("cliff-proved", cliff, ONE, F(1, 2), (ProbabilityConstraint(LE, F(1, 5), FATAL),), (F(1, 10),), "proved"),
    Case("cliff-refuted", cliff, ONE, F(1, 2), (ProbabilityConstraint(LE, F(1, 20), FATAL),), (F(1, 10),),
         "refuted"),
    Case("epsilon-zero", cliff, ONE, F(0), (ProbabilityConstraint(LE, F(1, 20), FATAL),), (F(1, 10),), "refuted"),
    # only the half/half mixture of good and hack is 1-optimal (J = 1) and unsafe: worst 1/2
    Case("randomized-only", hack, ONE, F(1), (ProbabilityConstraint(LE, F(1, 4), FATAL),), (F(1, 2),), "refuted"),
    Case("equal-le", hack, ONE, F(1), (ProbabilityConstraint(LE, F(1, 2), FATAL),), (F(1, 2),), "proved"),
    Case("equal-lt", hack, ONE, F(1), (ProbabilityConstraint(LT, F(1, 2), FATAL),), (F(1, 2),), "refuted"),
    Case("globally-ge", hack, ONE, F(1), (ProbabilityConstraint(GE, F(1, 2), SAFE),), (F(1, 2),), "proved"),
    Case("globally-gt", hack, ONE, F(1), (ProbabilityConstraint(GT, F(1, 2), SAFE),), (F(1, 2),), "refuted"),
    Case("reward-C", hack, ONE, F(1), (RewardConstraint("harm", LE, F(1, 2)),), (F(1, 2),), "proved"),
    Case("until", hack, ONE, F(1), (ProbabilityConstraint(GE, F(1, 2), Until(Not(Label("fatal")), Label("goal"))),),
         (F(1, 2),), "proved"),
    # jump: J = 5/2 and fatal w.p. 1/2 at step 1 (fatal is not absorbing); walk: J = 2
    Case("non-absorbing", corridor, THREE, F(1, 4), (ProbabilityConstraint(LE, F(1, 3), FATAL),), (F(1, 2),),
         "refuted"),
    Case("step-bound-0", corridor, THREE, F(1, 4), (ProbabilityConstraint(LE, F(1, 3), Eventually(Label("fatal"), 0)),),
         (F(0),), "proved"),
    Case("step-bound-1", corridor, THREE, F(1), (ProbabilityConstraint(LE, F(1, 3), Eventually(Label("fatal"), 1)),),
         (F(1, 2),), "refuted"),
    Case("geometric", cliff, GEO, F(1, 2), (ProbabilityConstraint(LE, F(1, 20), FATAL),), (F(1, 10),), "refuted"),
    Case("geometric-two", hack, GEO, F(1), (ProbabilityConstraint(LE, F(1, 2), FATAL), RewardConstraint("harm", LT, F(1))),
         (F(1, 2), F(1, 2)), "proved"),
    Case("geometric-lt", hack, GEO, F(1), (ProbabilityConstraint(LT, F(1, 2), FATAL),), (F(1, 2),), "refuted"),
    # jump: J = 1 + 1/2·(1/2·(0 + 1/2·2) + 1/2·2) = 7/4; walk: J = 1
    Case("geometric-non-absorbing", corridor, GEO, F(1, 2), (ProbabilityConstraint(LE, F(1, 3), FATAL),), (F(1, 2),),
         "refuted"),
    Case("geometric-step-bound", corridor, GEO, F(1), (ProbabilityConstraint(LE, F(1, 3), Eventually(Label("fatal"), 1)),),
         (F(1, 2),), "refuted"),
]


@pytest.mark.parametrize("engine", sorted(ALIGNMENT_ENGINES))
@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_engine_gives_the_exact_worst_values(engine, case):
    mdp = case.model()
    result = discharge_alignment(mdp, case.objective, case.epsilon, case.phi, engine=engine)
    assert result.engine == engine
    assert result.status == case.status
    assert tuple(c.worst.value for c in result.constraints) == case.worst
    check_alignment_certificate(certificate_body(result, case.objective, case.epsilon), result.status, mdp,
                                case.objective, case.epsilon, case.phi)


@pytest.mark.parametrize("case", [c for c in CASES if c.objective.horizon is not None], ids=str)
def test_the_float_path_encloses_them(case):
    mdp = case.model()
    result = discharge_float(mdp, case.objective, case.epsilon, case.phi)
    if result.status != "unknown" or result.constraints:
        check_float_alignment(certificate_body(result, case.objective, case.epsilon), result.status, mdp,
                              case.objective, case.epsilon, case.phi, result.arrays)
    if case.epsilon == 0:
        assert result.status == "unknown"   # ε below the float resolution: the exact engines' case
        return
    for c, worst in zip(result.constraints, case.worst):   # 1e-6 wide while undecided, 1e-4 (relative) once decided
        width = F(1, 10**6) if c.holds is None else F(1, 10**4) * (1 + abs(worst)) + F(1, 10**6)
        assert c.worst.lo <= worst <= c.worst.hi and c.worst.width <= width
    on_threshold = any(w == c.threshold for w, c in zip(case.worst, case.phi))
    assert result.status == (case.status if not on_threshold else "unknown") or \
        (on_threshold and result.status == case.status == "refuted")


@pytest.mark.parametrize("case", [c for c in CASES if c.objective.horizon is not None], ids=str)
def test_storm_multi_agrees(case):
    storm = pytest.importorskip("proofs.interop.storm")
    mdp = case.model()
    for constraint, worst in zip(case.phi, case.worst):
        if constraint_space(mdp, case.objective, constraint).stop[int(mdp.initial_states[0])]:
            continue   # decided at s_0: Storm's query is trivial there
        if isinstance(constraint, RewardConstraint) or constraint.comparison.is_upper is False:
            continue   # the Storm bridge builds max-queries of probabilities only
        names = storm.storm_names(mdp)
        j_star = discharge_alignment(mdp, case.objective, case.epsilon, (constraint,)).j_star.value
        query = storm.storm_multi(storm.storm_property(constraint, case.objective, "max", names=names),
                                  storm.storm_objective_bound(case.objective, GE, j_star - case.epsilon, names=names))
        value = storm.check_initial(storm.to_storm(mdp, exact=True), query, exact=True, multi_precision=0)
        assert value == worst


@pytest.mark.parametrize("engine", sorted(ALIGNMENT_ENGINES))
@pytest.mark.parametrize("hint", [[F(1, 3), "junk", -1], "not a number", [], 1e9, {"x": 1}])
def test_every_engine_ignores_or_survives_odd_lambda_hints(engine, hint):
    """`select` hands the same hints to every engine: lists, junk and wrong values change nothing."""
    case = CASES[3]   # the randomized-only hack
    mdp = case.model()
    result = discharge_alignment(mdp, case.objective, case.epsilon, case.phi, engine=engine, hints={"lambda": hint})
    assert result.status == case.status and tuple(c.worst.value for c in result.constraints) == case.worst
    check_alignment_certificate(certificate_body(result, case.objective, case.epsilon), result.status, mdp,
                                case.objective, case.epsilon, case.phi)
