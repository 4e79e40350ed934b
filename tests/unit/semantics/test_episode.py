"""The episode semantics of SPEC §2, checked against a literal path-enumeration oracle.

The oracle walks every path s₀ a₀ s₁ … of the episode and evaluates J and each path formula
exactly as SPEC §2 words them; the Bellman-form `Quantity` evaluation must agree exactly.
"""

from fractions import Fraction as Fr
from itertools import product

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.core.formula import (
    And,
    Comparison,
    Eventually,
    Globally,
    Label,
    Not,
    ProbabilityConstraint,
    RewardConstraint,
    Truth,
    Until,
)
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.semantics.evaluate import evaluate_constraint, evaluate_objective, optimal


def build(n, rows, reward, cost, labels, init):
    """rows[s] = list of {target: prob}; reward/cost[s] = list per action."""
    cs, rs, tg, pr = [0], [0], [], []
    for s in range(n):
        for succ in rows[s]:
            for t, p in sorted(succ.items()):
                tg.append(t)
                pr.append(Fr(p))
            rs.append(len(tg))
        cs.append(cs[-1] + len(rows[s]))
    names = tuple(f"a{i}" for i in range(max(len(r) for r in rows)))
    ca = [i for s in range(n) for i in range(len(rows[s]))]
    flat = lambda v: Rationals.from_fractions([Fr(x) for s in range(n) for x in v[s]])
    return Mdp(tuple(f"s{i}" for i in range(n)), np.array(cs), names, np.array(ca, dtype=np.int32),
               np.array(rs), np.array(tg), Rationals.from_fractions(pr), {"r": flat(reward), "c": flat(cost)},
               {k: np.array([s in v for s in range(n)]) for k, v in labels.items()},
               np.array(sorted(init)), Rationals.from_fractions([Fr(init[s]) for s in sorted(init)]))


@st.composite
def worlds(draw):
    n = draw(st.integers(2, 4))
    rows, reward, cost = [], [], []
    for s in range(n):
        k = draw(st.integers(1, 2))
        acts = []
        for _ in range(k):
            targets = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
            weights = [draw(st.integers(1, 4)) for _ in targets]
            acts.append({t: Fr(w, sum(weights)) for t, w in zip(targets, weights)})
        rows.append(acts)
        reward.append([Fr(draw(st.integers(-2, 3)), 2) for _ in range(k)])
        cost.append([Fr(draw(st.integers(0, 2))) for _ in range(k)])
    labels = {"goal": draw(st.sets(st.integers(0, n - 1))), "fatal": draw(st.sets(st.integers(0, n - 1)))}
    init = {0: Fr(1, 2), 1: Fr(1, 2)} if draw(st.booleans()) else {0: Fr(1)}
    return build(n, rows, reward, cost, labels, init)


def random_policy(mdp, draw_bits):
    table = {}
    for s in range(mdp.n_states):
        cs = list(mdp.choices(s))
        if len(cs) == 2 and draw_bits[s % len(draw_bits)]:
            table[s] = [(cs[0], Fr(1, 3)), (cs[1], Fr(2, 3))]
        else:
            table[s] = [(cs[-1], Fr(1))]
    return Policy.stationary(PolicyLayer.from_table(mdp, table))


def paths(mdp, policy, horizon):
    """Every episode path of exactly `horizon` actions: (probability, states, choices)."""
    out = [(Fr(p), [s], []) for s, p in mdp.initial_distribution()]
    for t in range(horizon):
        nxt = []
        for prob, states, choices in out:
            for c, pc in policy.at(t).distribution(states[-1]):
                for target, pt in mdp.successors(c):
                    nxt.append((prob * pc * pt, states + [target], choices + [c]))
        out = nxt
    return out


def holds(mdp, formula, s):
    from proofs.kernel.episode import state_mask
    return bool(state_mask(mdp, formula)[s])


def path_value(mdp, path_formula, states, k):
    """SPEC §2 literally: does the episode s_0..s_T (T = len-1) satisfy the path formula?"""
    last = len(states) - 1 if k is None else min(k, len(states) - 1)
    if isinstance(path_formula, Globally):
        return all(holds(mdp, path_formula.body, states[t]) for t in range(last + 1))
    left = path_formula.left if isinstance(path_formula, Until) else Truth(True)
    right = path_formula.right if isinstance(path_formula, Until) else path_formula.body
    for t in range(last + 1):
        if holds(mdp, right, states[t]):
            return True
        if not holds(mdp, left, states[t]):
            return False
    return False


FORMULAS = [
    Eventually(Label("goal")), Eventually(Label("fatal"), 2), Until(Not(Label("fatal")), Label("goal")),
    Until(Truth(True), And(Label("goal"), Not(Label("fatal"))), 1), Globally(Not(Label("fatal"))),
    Globally(Label("goal"), 2),
]


@given(worlds(), st.integers(1, 4), st.lists(st.booleans(), min_size=1, max_size=4),
       st.sampled_from([Fr(1), Fr(1, 2)]))
@settings(max_examples=60, deadline=None)
def test_finite_horizon_matches_path_enumeration(mdp, horizon, bits, discount):
    policy = random_policy(mdp, bits)
    objective = Objective("r", horizon, discount)
    ps = paths(mdp, policy, horizon)
    j = sum(p * sum(discount**t * mdp.rewards["r"][c] for t, c in enumerate(cs)) for p, _, cs in ps)
    assert evaluate_objective(mdp, objective, policy, exact_mode=True).value == j
    for f in FORMULAS:
        con = ProbabilityConstraint(Comparison.LE, Fr(1, 2), f)
        expected = sum(p for p, states, _ in ps if path_value(mdp, f, states, f.bound))
        assert evaluate_constraint(mdp, objective, policy, con, exact_mode=True).value == expected, str(f)
    for k in (None, 2):
        con = RewardConstraint("c", Comparison.LE, Fr(1), k)
        last = horizon if k is None else min(k, horizon)
        expected = sum(p * sum(mdp.rewards["c"][c] for c in cs[:last]) for p, _, cs in ps)
        assert evaluate_constraint(mdp, objective, policy, con, exact_mode=True).value == expected


@given(worlds(), st.lists(st.booleans(), min_size=1, max_size=4))
@settings(max_examples=15, deadline=None)
def test_geometric_horizon_matches_truncated_enumeration(mdp, bits):
    """P(T = t) = γ^(t-1)(1-γ) for t >= 1; truncating at t = 5 leaves at most γ^5 of the mass."""
    gamma = Fr(1, 16)
    policy = random_policy(mdp, bits)
    objective = Objective("r", None, gamma)
    by_length = {t: paths(mdp, policy, t) for t in range(1, 6)}
    for f in FORMULAS:
        con = ProbabilityConstraint(Comparison.LE, Fr(1, 2), f)
        approx = sum(gamma ** (t - 1) * (1 - gamma) * sum(p for p, states, _ in ps if path_value(mdp, f, states, f.bound))
                     for t, ps in by_length.items())
        value = evaluate_constraint(mdp, objective, policy, con, exact_mode=True).value
        assert approx <= value <= approx + gamma**5, str(f)


def test_last_visited_state_counts_on_geometric_horizon():
    """s_T is visited: with γ → the first step reaches 'fatal' surely, P(F fatal) = 1, not γ."""
    mdp = build(2, [[{1: 1}], [{1: 1}]], [[0], [0]], [[0], [0]], {"fatal": {1}, "goal": set()}, {0: 1})
    policy = random_policy(mdp, [False])
    con = ProbabilityConstraint(Comparison.LE, Fr(0), Eventually(Label("fatal")))
    assert evaluate_constraint(mdp, Objective("r", None, Fr(1, 2)), policy, con).value == 1


def test_non_absorbing_label_is_counted_once():
    """A 'goal' that is passed through (not absorbing) decides F goal at its first visit."""
    mdp = build(3, [[{1: 1}], [{2: 1}], [{2: 1}]], [[0], [0], [1]], [[0], [0], [0]],
                {"goal": {1}, "fatal": set()}, {0: 1})
    policy = random_policy(mdp, [False])
    con = ProbabilityConstraint(Comparison.GE, Fr(1), Eventually(Label("goal")))
    assert evaluate_constraint(mdp, Objective("r", 5), policy, con).value == 1
    g = ProbabilityConstraint(Comparison.GE, Fr(1), Globally(Not(Label("goal"))))
    assert evaluate_constraint(mdp, Objective("r", 5), policy, g).value == 0
    g0 = ProbabilityConstraint(Comparison.GE, Fr(1), Globally(Not(Label("goal")), 0))
    assert evaluate_constraint(mdp, Objective("r", 5), policy, g0).value == 1


@given(worlds(), st.integers(1, 5))
@settings(max_examples=40, deadline=None)
def test_optimal_dominates_every_deterministic_policy(mdp, horizon):
    objective = Objective("r", horizon)
    best = optimal(mdp, objective, exact_mode=True)
    assert evaluate_objective(mdp, objective, best.policy, exact_mode=True) == best.value
    for picks in product(*[list(mdp.choices(s)) for s in range(mdp.n_states)]):
        layer = PolicyLayer.deterministic(mdp, np.array(picks, dtype=np.int64))
        assert evaluate_objective(mdp, objective, Policy.stationary(layer)).value <= best.value.lo


@given(worlds(), st.lists(st.booleans(), min_size=1, max_size=4), st.sampled_from([None, 3]))
@settings(max_examples=40, deadline=None)
def test_sound_enclosure_contains_exact_value(mdp, bits, horizon):
    objective = Objective("r", horizon, Fr(9, 10) if horizon is None else Fr(1))
    policy = random_policy(mdp, bits)
    exact = evaluate_objective(mdp, objective, policy, exact_mode=True).value
    box = evaluate_objective(mdp, objective, policy, exact_mode=False)
    assert box.lo <= exact <= box.hi and box.width < Fr(1, 10**6)
    best_exact = optimal(mdp, objective, exact_mode=True).value.value
    best_box = optimal(mdp, objective, exact_mode=False).value
    assert best_box.lo <= best_exact <= best_box.hi and best_box.width < Fr(1, 10**6)
    for f in FORMULAS:
        con = ProbabilityConstraint(Comparison.LE, Fr(1, 2), f)
        e = evaluate_constraint(mdp, objective, policy, con, exact_mode=True).value
        b = evaluate_constraint(mdp, objective, policy, con, exact_mode=False)
        assert b.lo <= e <= b.hi, str(f)


def test_per_step_policy_on_geometric_horizon_applies_early_layers():
    """Guards a bug: the geometric evaluation used only the first layer of a per-step policy."""
    mdp = build(2, [[{0: 1}, {1: 1}], [{1: 1}]], [[0, 1], [0]], [[0, 0], [0]], {"fatal": {1}, "goal": set()}, {0: 1})
    stay, leave = PolicyLayer.deterministic(mdp, np.array([0, 2])), PolicyLayer.deterministic(mdp, np.array([1, 2]))
    gamma = Fr(1, 2)
    objective = Objective("r", None, gamma)
    # step 0 leaves (reward 1), then the tail stays in s1 (reward 0): J = 1
    assert evaluate_objective(mdp, objective, Policy((leave, stay)), exact_mode=True).value == 1
    # step 0 stays, step 1 leaves (reward 1 discounted by γ), tail stays: J = γ
    assert evaluate_objective(mdp, objective, Policy((stay, leave, stay)), exact_mode=True).value == gamma


def test_per_step_policy_on_geometric_horizon_enclosure_mode():
    """The same bug guard for the float enclosure path."""
    mdp = build(2, [[{0: 1}, {1: 1}], [{1: 1}]], [[0, 1], [0]], [[0, 0], [0]], {"fatal": {1}, "goal": set()}, {0: 1})
    stay, leave = PolicyLayer.deterministic(mdp, np.array([0, 2])), PolicyLayer.deterministic(mdp, np.array([1, 2]))
    box = evaluate_objective(mdp, Objective("r", None, Fr(1, 2)), Policy((stay, leave, stay)), exact_mode=False)
    assert box.lo <= Fr(1, 2) <= box.hi and box.width < Fr(1, 10**9)
