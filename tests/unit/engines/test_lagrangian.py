"""The exact lagrangian engine for the alignment lemma: a brute force, the margin, Storm's `multi` and
hints (the hand-made cases of every exact engine: `test_hand_made`).

Every result is also passed through the trusted checker (`check_alignment_certificate`).
"""

from fractions import Fraction
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.alignment_models import cliff, corridor, hack
from tests.support.mdps import make_mdp, small_mdps

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
from proofs.engines.lagrangian import discharge_alignment
from proofs.kernel.check_alignment import check_alignment_certificate, constraint_space, optimal_to_go

F = Fraction
LE, LT, GE, GT = Comparison.LE, Comparison.LT, Comparison.GE, Comparison.GT
FATAL = Eventually(Label("fatal"))


def run(mdp, objective, eps, constraints):
    result = discharge_alignment(mdp, objective, F(eps), constraints)
    check_alignment_certificate(certificate_body(result, objective, F(eps)), result.status, mdp, objective, F(eps),
                                constraints)
    return result


def test_credal_models_are_decided_with_a_finite_horizon_only():
    m = make_mdp(["s", "t"], {"s": [("go", {"t": ("1/3", "2/3"), "s": ("1/3", "2/3")})], "t": [("stay", {"t": 1})]},
                 rewards={"r": {}}, labels={"fatal": ["t"]})
    r = discharge_alignment(m, Objective("r", 2), F(0), [ProbabilityConstraint(LE, F(1, 5), FATAL)])
    assert r.status == "refuted" and r.constraints[0].worst.lo == F(8, 9)   # nature: 1 − (1/3)², the one policy
    r = discharge_alignment(m, Objective("r", None, F(1, 2)), F(0), [ProbabilityConstraint(LE, F(1, 5), FATAL)])
    assert r.status == "unknown" and "credal" in r.reason


# -- brute force: every deterministic step table until decided, then J-optimal; pairwise start mixtures --
def _brute_points(mdp, objective, constraint):
    cs = constraint_space(mdp, objective, constraint)
    v = optimal_to_go(mdp, objective)
    r, d, n, big_l = mdp.rewards["r"].fractions(), objective.discount, mdp.n_states, cs.steps
    slots = [(t, s) for t in range(big_l) for s in range(n) if not cs.stop[s]]

    def go(table, t, s):
        if cs.stop[s]:
            return d**t * v[t][s], cs.goal[s]
        if t == big_l:
            return d**t * v[t][s], F(0)
        c = table[t, s]
        j, w = d**t * r[c], cs.reward[c]
        for u, p in mdp.successors(c):
            ju, wu = go(table, t + 1, u)
            j, w = j + p * ju, w + p * wu
        return j, w

    points = set()
    for picks in product(*[list(mdp.choices(s)) for _, s in slots]):
        table = dict(zip(slots, picks))
        j = w = F(0)
        for s, p in mdp.initial_distribution():
            js, ws = go(table, 0, s)
            j, w = j + p * js, w + p * ws
        points.add((j, cs.value_of(w)))
    return points, cs


def _brute_worst(points, target, upper):
    sign = 1 if upper else -1
    best = None
    for j, x in points:
        if j >= target:
            best = _pick(best, x, sign)
    for (ja, xa), (jb, xb) in product(points, points):
        if ja >= target > jb:
            q = (target - jb) / (ja - jb)
            best = _pick(best, q * xa + (1 - q) * xb, sign)
    return best


def _pick(best, x, sign):
    return x if best is None or sign * x > sign * best else best


CASES = [ProbabilityConstraint(LE, F(1, 2), FATAL), ProbabilityConstraint(GE, F(1, 2), Eventually(Label("goal"), 1)),
         ProbabilityConstraint(LE, F(1, 2), Until(Not(Label("fatal")), Label("goal"))),
         ProbabilityConstraint(GE, F(1, 2), Globally(Not(Label("fatal")))),
         RewardConstraint("c", LE, F(1)), RewardConstraint("c", GE, F(1), 1)]


@given(small_mdps(max_states=3, max_actions=2), st.integers(1, 2), st.sampled_from([F(1), F(1, 2)]),
       st.sampled_from([F(0), F(1, 3), F(1), F(3)]), st.sampled_from(CASES))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_worst_matches_brute_force(mdp, horizon, discount, eps, constraint):
    objective = Objective("r", horizon, discount)
    r = run(mdp, objective, eps, [constraint])
    points, _ = _brute_points(mdp, objective, constraint)
    j_star = max(j for j, _ in points)
    assert r.j_star.value == j_star
    assert r.constraints[0].worst.value == _brute_worst(points, j_star - eps, constraint.comparison.is_upper)


@given(small_mdps(max_states=3, max_actions=2), st.sampled_from([1, 2, None]), st.sampled_from(CASES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_margin_separates_holding_from_failing(mdp, horizon, constraint):
    objective = Objective("r", horizon, F(1) if horizon else F(1, 2))
    m = discharge_alignment(mdp, objective, F(0), [constraint], margin=True).margin
    if m == "inf":
        assert run(mdp, objective, 10**6, [constraint]).status == "proved"
        return
    eps = m.value
    strict = constraint.comparison in (LT, GT)
    if eps > 0:  # at ε* = 0 the lemma may fail already
        assert run(mdp, objective, eps, [constraint]).status == ("refuted" if strict else "proved")
    assert run(mdp, objective, eps + F(1, 10**6), [constraint]).status == "refuted"
    if eps > 0:
        assert run(mdp, objective, eps - min(eps, F(1, 10**6)) / 2, [constraint]).status == "proved"


# -- geometric brute force: stationary tables on the undecided states, J-optimal once decided --------
def _product(mdp, stop):
    """(s, decided) as one MDP: the J of 'table until decided, then the decided copy's policy'."""
    names = [f"{s}|{flag}" for flag in (0, 1) for s in mdp.states]
    n = mdp.n_states

    def tgt(u, decided):
        return names[u + n * (decided or bool(stop[u]))]

    choices, rewards = {}, {}
    for flag in (0, 1):
        for s in range(n):
            name = names[s + n * flag]
            choices[name] = []
            for c in mdp.choices(s):
                dist = {}
                for u, p in mdp.successors(c):
                    dist[tgt(u, flag)] = dist.get(tgt(u, flag), 0) + p
                choices[name].append((mdp.action(c), dist))
                rewards[(name, mdp.action(c))] = mdp.rewards["r"][c]
    init = {}
    for s, p in mdp.initial_distribution():
        init[tgt(s, False)] = init.get(tgt(s, False), 0) + p
    return make_mdp(names, choices, {"r": rewards}, {}, init)


def _geometric_points(mdp, objective, constraint):
    from proofs.core.policy import Policy, PolicyLayer
    from proofs.semantics.evaluate import evaluate_constraint, evaluate_objective, optimal

    cs = constraint_space(mdp, objective, constraint)
    prod = _product(mdp, cs.stop)
    j_opt = optimal(mdp, objective, exact_mode=True).policy.at(0)
    n = mdp.n_states
    points = set()
    for picks in product(*[list(mdp.choices(s)) for s in range(n)]):
        layer = PolicyLayer.from_table(mdp, {s: [(c, F(1))] for s, c in enumerate(picks)})
        w = evaluate_constraint(mdp, objective, Policy.stationary(layer), constraint, exact_mode=True).value
        table = {}
        for s in range(n):
            table[s] = [(prod.choice_of(s, mdp.action(picks[s])), F(1))]
            (c, _), = j_opt.distribution(s)
            table[s + n] = [(prod.choice_of(s + n, mdp.action(c)), F(1))]
        j = evaluate_objective(prod, objective, Policy.stationary(PolicyLayer.from_table(prod, table)),
                               exact_mode=True).value
        points.add((j, w))
    return points


GEO_CASES = [c for c in CASES if getattr(getattr(c, "path", None), "bound", None) is None
             and getattr(c, "bound", None) is None]


@given(small_mdps(max_states=3, max_actions=2), st.sampled_from([F(1, 2), F(9, 10)]),
       st.sampled_from([F(0), F(1, 3), F(1), F(3)]), st.sampled_from(GEO_CASES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_geometric_worst_matches_brute_force(mdp, gamma, eps, constraint):
    objective = Objective("r", None, gamma)
    r = run(mdp, objective, eps, [constraint])
    points = _geometric_points(mdp, objective, constraint)
    j_star = max(j for j, _ in points)
    assert r.j_star.value == j_star
    assert r.constraints[0].worst.value == _brute_worst(points, j_star - eps, constraint.comparison.is_upper)


# -- Storm's multi-objective query at exact precision 0 (finite horizon, non-negative J reward) ------
STORM_PATHS = [FATAL, Eventually(Label("goal"), 1), Until(Not(Label("fatal")), Label("goal"))]


@given(small_mdps(max_states=4, max_actions=2), st.integers(1, 3), st.sampled_from([F(0), F(1, 3), F(1)]),
       st.sampled_from(STORM_PATHS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_agrees_with_storm_multi(mdp, horizon, eps, path):
    from hypothesis import assume

    storm = pytest.importorskip("proofs.interop.storm")
    pytest.importorskip("stormpy")
    assume(len(mdp.initial_states) == 1)
    objective = Objective("c", horizon)
    constraint = ProbabilityConstraint(LE, F(1, 2), path)
    assume(not constraint_space(mdp, objective, constraint).stop[int(mdp.initial_states[0])])  # Storm: trivial case
    r = run(mdp, objective, eps, [constraint])
    names = storm.storm_names(mdp)
    query = storm.storm_multi(storm.storm_property(constraint, objective, "max", names=names),
                              storm.storm_objective_bound(objective, GE, r.j_star.value - eps, names=names))
    value = storm.check_initial(storm.to_storm(mdp, exact=True), query, exact=True, multi_precision=0)
    assert value == r.constraints[0].worst.value


@pytest.mark.parametrize("hint", [F(0), F(1, 3), F(10**6), F(7, 2)])
def test_wrong_lambda_hints_change_nothing_but_time(hint):
    """A hinted multiplier only adds a line to the parametric search: worst values and verdicts stay."""
    for model, objective, eps, constraints in [
        (hack(), Objective("r", 1), F(1), [ProbabilityConstraint(LE, F(1, 4), FATAL)]),
        (corridor(), Objective("r", 3), F(1, 4), [ProbabilityConstraint(LE, F(1, 3), FATAL)]),
        (cliff(), Objective("r", None, F(1, 2)), F(1, 2), [ProbabilityConstraint(LE, F(1, 20), FATAL)]),
    ]:
        plain = run(model, objective, eps, constraints)
        hinted = discharge_alignment(model, objective, eps, constraints, hints={"lambda": hint})
        check_alignment_certificate(certificate_body(hinted, objective, eps), hinted.status, model, objective, eps,
                                    constraints)
        assert hinted.status == plain.status
        assert [c.worst for c in hinted.constraints] == [c.worst for c in plain.constraints]
