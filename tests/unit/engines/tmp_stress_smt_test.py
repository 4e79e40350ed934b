from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.mdps import small_mdps
from fractions import Fraction as F
import tests.unit.engines.test_smt as T

@given(small_mdps(max_states=5, max_actions=3), st.sampled_from(T.OBJECTIVES + [T.Objective("r", 5), T.Objective("r", None, F(1,3))]),
       st.sampled_from([F(0), F(1, 3), F(1), F(3)]), st.lists(st.sampled_from(T.CASES), min_size=1, max_size=3),
       st.one_of(st.none(), st.fractions(-2, 5, max_denominator=7)))
@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
def test_stress(mdp, objective, eps, constraints, lam):
    T.agree(mdp, objective, eps, constraints, hints=None if lam is None else {"lambda": lam})

@given(small_mdps(max_states=4, max_actions=3), st.sampled_from([1, 2, 3, None]), st.sampled_from(T.CASES))
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_margin_stress(mdp, horizon, constraint):
    objective = T.Objective("r", horizon, F(1) if horizon else F(1, 2))
    r = T.run(mdp, objective, 0, [constraint], margin=True)
    assert r.margin == T.lagrangian.discharge_alignment(mdp, objective, F(0), [constraint], margin=True).margin
