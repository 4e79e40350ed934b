"""The dual search shared by the exact alignment engines (`proofs.engines.dual`): the parametric search
against the concave hull of a finite set of policies, and `decide` when a search gives up; the shared
best responses (`lagrangian.Responses`) on every state and on the reachable ones only.
"""

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.alignment_models import hack
from tests.support.mdps import small_mdps

from proofs.core.formula import Comparison, Eventually, Label, ProbabilityConstraint, RewardConstraint
from proofs.core.objective import Objective
from proofs.engines import lagrangian
from proofs.engines.alignment import exact_episode
from proofs.engines.dual import GaveUp, decide, lifted, mixed, parametric
from proofs.kernel.check_alignment import constraint_space

F = Fraction
FATAL = Eventually(Label("fatal"))


@dataclass(frozen=True)
class Point:
    j: Fraction
    q: Fraction


def _respond(points):
    return lambda lam: max(points, key=lambda p: p.q + lam * p.j)


def _hull(points, target):
    """sup Q over the start mixtures of the points with J ≥ target (two points suffice)."""
    best = max((p.q for p in points if p.j >= target), default=None)
    for a in points:
        for b in points:
            if a.j >= target > b.j:
                best = max(best, sum(w * x.q for w, x in mixed(a, b, target)))
    return best


fractions = st.builds(F, st.integers(-6, 6), st.integers(1, 4))


@given(st.lists(st.builds(Point, fractions, fractions), min_size=2, max_size=8), st.integers(0, 100))
@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])
def test_parametric_search_finds_the_concave_hull(points, where):
    top_j = max(p.j for p in points)
    respond = _respond(points)
    b = respond(F(0))
    if b.j >= top_j:
        return   # the policy best for Q alone is J-optimal: λ = 0, no search
    target = b.j + (top_j - b.j) * F(where, 100) if where else top_j
    if b.j >= target:
        return
    a = max(points, key=lambda p: (p.j, p.q))
    found = parametric(respond, a, b, target)
    assert found is not None and found.lam >= 0
    assert found.sup_q == _hull(points, target)
    # weak duality: every policy's line lies below g(λ) = sup_q, and the best response touches it
    assert all(lifted(p, found.lam, target) <= found.sup_q for p in points)
    assert lifted(found.optimum, found.lam, target) == found.sup_q
    # the attaining mixture: weights ≥ 0 summing to 1, J = target, value sup_q
    assert all(w >= 0 for w, _ in found.parts) and sum(w for w, _ in found.parts) == 1
    assert sum(w * p.j for w, p in found.parts) == target
    assert sum(w * p.q for w, p in found.parts) == found.sup_q


def test_parametric_search_stops_after_its_rounds():
    points = [Point(F(0), F(1)), Point(F(1), F(1, 2)), Point(F(2), F(0))]
    assert parametric(_respond(points), points[2], points[0], F(3, 2), rounds=0) is None
    assert parametric(_respond(points), points[2], points[0], F(3, 2)) is not None


def test_a_search_that_gives_up_makes_the_verdict_unknown():
    mdp, objective = hack(), Objective("r", 1)
    ep = exact_episode(mdp, objective)
    phi = [ProbabilityConstraint(Comparison.LE, F(1, 4), FATAL), RewardConstraint("harm", Comparison.LE, F(1, 2))]

    def searches():   # read lazily: the first is used before the second is made
        yield lagrangian._Search(mdp, ep, constraint_space(mdp, objective, phi[0]), None)
        raise GaveUp("no second search")

    r = decide("lagrangian", mdp, ep, F(1), phi, searches())
    assert (r.status, r.reason, r.j_star.value, r.constraints) == ("unknown", "no second search", F(2), ())
    r = decide("lagrangian", mdp, ep, F(1), phi[:1], searches(), margin=True)   # the worst P(fatal) is ε/2
    assert r.status == "refuted" and r.constraints[0].worst.value == F(1, 2) and r.margin.value == F(1, 2)


@given(small_mdps(max_states=4, max_actions=3), st.integers(1, 3),
       st.sampled_from([ProbabilityConstraint(Comparison.LE, F(1, 2), FATAL),
                        RewardConstraint("c", Comparison.GE, F(1), 2)]),
       st.sampled_from([F(0), F(1, 3), F(2), F(50)]), st.sampled_from([F(1), F(-1)]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_best_responses_on_reachable_states_agree_with_all_states(mdp, horizon, constraint, lam, tie):
    objective = Objective("r", horizon)
    ep = exact_episode(mdp, objective)
    cs = constraint_space(mdp, objective, constraint)
    full = lagrangian.Responses(mdp, ep, cs).best((lam, F(1)), (tie, F(0)))
    reach = lagrangian.Responses(mdp, ep, cs, reachable=True)
    some = reach.best((lam, F(1)), (tie, F(0)))
    assert (some.j, some.q) == (full.j, full.q)
    assert reach.reach is not None
    for t, states in enumerate(reach.reach[:-1]):
        assert all(some.tables[t][s] == full.tables[t][s] for s in states)
        assert all(some.tables[t][s] == -1 for s in range(mdp.n_states) if s not in states)
