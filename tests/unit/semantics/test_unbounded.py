"""Unbounded reachability and reward-until (`proofs.semantics.unbounded`), exact and sound.

Hand-made models with values computed by hand; an independent oracle (every memoryless
deterministic policy's Markov chain solved exactly, which attains both optima of these
objectives) on hypothesis models; the sound path's enclosures must contain the exact values at
every state, with rounding outward.
"""

import doctest
import itertools
from fractions import Fraction as Fr

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.mdps import grid_mdp, make_mdp, random_mdp, small_mdps

from proofs.core.errors import InputError
from proofs.core.policy import PolicyLayer
from proofs.interop.storm import fix_policy, geometric_unrolling
from proofs.semantics import unbounded, unbounded_exact, unbounded_sound
from proofs.semantics.linear import solve_sparse
from proofs.semantics.unbounded import reach_probability, reach_reward
from proofs.semantics.unbounded_graph import (
    Graph,
    end_components,
    prob0_max,
    prob0_min,
    prob1_max,
    prob1_min,
    probability_problem,
    reward_problem,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INF = None  # how `StateValues.exact` writes +infinity


def everywhere(m):
    return np.ones(m.n_states, dtype=bool)


def exact_values(result):
    return list(result.values.exact)


# -- hand-made models ------------------------------------------------------------------------------
def end_component_model():
    """{s0, s1} is an end component: staying in it for ever never reaches goal.

    s0 exits to goal w.p. 1/3 (else fail), s1 w.p. 1/4: P^max = 1/3 at both (s1 moves to s0),
    P^min = 0 at both (stay), and a strategy iteration started at "stay" would be singular.
    """
    return make_mdp(
        ["s0", "s1", "goal", "fail"],
        {"s0": [("to1", {"s1": 1}), ("exit", {"goal": "1/3", "fail": "2/3"})],
         "s1": [("to0", {"s0": 1}), ("exit", {"goal": "1/4", "fail": "3/4"})],
         "goal": [("stay", {"goal": 1})], "fail": [("stay", {"fail": 1})]},
        labels={"goal": ["goal"], "fail": ["fail"]})


def test_pmax_with_an_end_component_is_its_best_exit():
    m = end_component_model()
    r = reach_probability(m, everywhere(m), m.labels["goal"], maximise=True)
    assert exact_values(r) == [Fr(1, 3), Fr(1, 3), 1, 0]
    assert r.value == r.value.exact(Fr(1, 3))
    assert m.action(r.policy[0]) == "exit" and m.action(r.policy[1]) == "to0"


def test_pmax_sound_collapses_the_end_component():
    """Without collapsing {s0, s1} the upper iteration would stay at 1 there."""
    m = end_component_model()
    r = reach_probability(m, everywhere(m), m.labels["goal"], maximise=True, exact=False)
    assert not r.exact and r.converged
    assert r.value.lo <= Fr(1, 3) <= r.value.hi and r.value.width <= Fr(1, 10**6)
    assert m.action(r.policy[0]) == "exit" and m.action(r.policy[1]) == "to0"


def test_pmin_stays_in_the_end_component():
    m = end_component_model()
    r = reach_probability(m, everywhere(m), m.labels["goal"], maximise=False)
    assert exact_values(r) == [0, 0, 1, 0]
    assert m.action(r.policy[0]) == "to1" and m.action(r.policy[1]) == "to0"


def test_pmin_prob0_prob1_and_a_quantitative_state():
    """a: every policy reaches goal (P^min = 1); b: can avoid it (0); c: 1/2 · 1 + 1/2 · (b or a)."""
    m = make_mdp(
        ["a", "b", "c", "goal"],
        {"a": [("x", {"goal": 1}), ("y", {"goal": "1/2", "a": "1/2"})],
         "b": [("loop", {"b": 1}), ("go", {"goal": 1})],
         "c": [("p", {"goal": "1/2", "a": "1/2"}), ("q", {"goal": "1/5", "b": "4/5"})],
         "goal": [("stay", {"goal": 1})]},
        labels={"goal": ["goal"]}, initial={"c": 1})
    low = reach_probability(m, everywhere(m), m.labels["goal"], maximise=False)
    assert exact_values(low) == [1, 0, Fr(1, 5), 1]
    assert m.action(low.policy[1]) == "loop" and m.action(low.policy[2]) == "q"
    high = reach_probability(m, everywhere(m), m.labels["goal"], maximise=True)
    assert exact_values(high) == [1, 1, 1, 1]
    # P^max = 1 at b needs the winning choice, not the self-loop
    assert m.action(high.policy[1]) == "go"


def test_until_fails_outside_continue_states():
    """P(!fatal U goal): a path through fatal does not count, even if it reaches goal later."""
    m = make_mdp(
        ["s", "fatal", "goal"],
        {"s": [("a", {"fatal": "1/2", "goal": "1/2"})], "fatal": [("on", {"goal": 1})],
         "goal": [("stay", {"goal": 1})]},
        labels={"fatal": ["fatal"], "goal": ["goal"]})
    assert reach_probability(m, everywhere(m), m.labels["goal"], maximise=True).value.value == 1
    r = reach_probability(m, ~m.labels["fatal"], m.labels["goal"], maximise=True)
    assert exact_values(r) == [Fr(1, 2), 0, 1]


def retry_model():
    """s: "flip" (reward 1) ends in t w.p. 1/2, else stays; "wait" (reward 0) stays; "risk"
    (reward 1/3) ends in t w.p. 1/3 and in the trap (never t) w.p. 2/3."""
    return make_mdp(
        ["s", "t", "trap"],
        {"s": [("flip", {"t": "1/2", "s": "1/2"}), ("wait", {"s": 1}), ("risk", {"t": "1/3", "trap": "2/3"})],
         "t": [("stop", {"t": 1})], "trap": [("stay", {"trap": 1})]},
        rewards={"r": {("s", "flip"): 1, ("s", "risk"): "1/3"}}, labels={"t": ["t"]})


def test_reward_max_is_infinite_where_some_policy_misses_the_target():
    m = retry_model()
    r = reach_reward(m, "r", m.labels["t"], maximise=True)
    assert r.infinite and exact_values(r) == [INF, 0, INF]
    assert m.action(r.policy[0]) in ("wait", "risk")  # both miss t with positive probability
    assert r.values[0] is None and r.values.infinite.tolist() == [True, False, True]


def test_reward_min_is_infinite_where_every_policy_misses_the_target():
    m = retry_model()
    r = reach_reward(m, "r", m.labels["t"], maximise=False)
    assert exact_values(r) == [2, 0, INF]        # flip twice on average; "risk" is improper
    assert not r.infinite and r.value.value == 2
    assert m.action(r.policy[0]) == "flip"
    sound = reach_reward(m, "r", m.labels["t"], maximise=False, exact=False)
    assert sound.value.contains(Fr(2)) and np.isinf(sound.values.hi[2])


def test_reward_min_leaves_a_zero_reward_end_component_by_its_best_exit():
    """{s0, s1} has zero-reward choices only inside; staying for ever is improper (infinite)."""
    m = make_mdp(
        ["s0", "s1", "t"],
        {"s0": [("a", {"s1": 1}), ("b", {"t": 1})], "s1": [("back", {"s0": 1}), ("go", {"t": "1/2", "s1": "1/2"})],
         "t": [("stay", {"t": 1})]},
        rewards={"r": {("s0", "b"): 3, ("s1", "go"): 1}}, labels={"t": ["t"]})
    exact = reach_reward(m, "r", m.labels["t"], maximise=False)
    assert exact_values(exact) == [2, 2, 0]
    assert [m.action(exact.policy[s]) for s in (0, 1)] == ["a", "go"]
    sound = reach_reward(m, "r", m.labels["t"], maximise=False, exact=False)
    assert sound.converged and sound.value.contains(Fr(2)) and sound.value.width <= Fr(2, 10**6)
    assert [m.action(sound.policy[s]) for s in (0, 1)] == ["a", "go"]


def test_reward_max_accepts_negative_rewards():
    m = make_mdp(
        ["s", "u", "t"],
        {"s": [("a", {"u": "1/2", "t": "1/2"}), ("b", {"t": 1})], "u": [("c", {"t": 1})], "t": [("stay", {"t": 1})]},
        rewards={"r": {("s", "a"): -1, ("s", "b"): "-3/2", ("u", "c"): "1/3"}}, labels={"t": ["t"]})
    r = reach_reward(m, "r", m.labels["t"], maximise=True)
    assert exact_values(r) == [Fr(-5, 6), Fr(1, 3), 0]
    assert reach_reward(m, "r", m.labels["t"], maximise=False).value.value == Fr(-3, 2)
    sound = reach_reward(m, "r", m.labels["t"], maximise=True, exact=False)
    assert sound.value.contains(Fr(-5, 6))


def test_reward_min_refuses_a_negative_reward_inside_an_end_component():
    m = make_mdp(
        ["s", "t"], {"s": [("loop", {"s": 1}), ("go", {"t": 1})], "t": [("stay", {"t": 1})]},
        rewards={"r": {("s", "loop"): -1, ("s", "go"): 2}}, labels={"t": ["t"]})
    with pytest.raises(InputError, match="negative reward lies inside an end component"):
        reach_reward(m, "r", m.labels["t"], maximise=False)
    assert reach_reward(m, "r", m.labels["t"], maximise=True).infinite


def test_interval_models_robust_reachability():
    """s --a--> t (goal) with p ∈ [1/5, 2/5], else x (absorbing) ∈ [3/5, 4/5]: nature against the
    policy gives t 1/5 when it maximises, 2/5 when it minimises; a sound enclosure of each."""
    m = make_mdp(["s", "t", "x"], {"s": [("a", {"t": ("1/5", "2/5"), "x": ("3/5", "4/5")})],
                                   "t": [("stay", {"t": 1})], "x": [("stay", {"x": 1})]}, labels={"t": ["t"]})
    for maximise, value in ((True, Fr(1, 5)), (False, Fr(2, 5))):
        box = reach_probability(m, everywhere(m), m.labels["t"], maximise=maximise).value
        assert box.lo <= value <= box.hi and box.width <= Fr(1, 10**15)


def test_interval_models_need_graph_preserving_intervals_and_refuse_rewards():
    m = make_mdp(["s", "t"], {"s": [("a", {"s": (0, "1/2"), "t": ("1/2", 1)})], "t": [("stay", {"t": 1})]},
                 rewards={"r": {("s", "a"): 1}}, labels={"t": ["t"]})
    with pytest.raises(InputError) as error:
        reach_probability(m, everywhere(m), m.labels["t"], maximise=True)
    assert str(error.value).startswith("model: unbounded properties on interval models need graph-preserving "
                                       "intervals; the transition of state 's', action 'a' to 's' has lower bound 0")
    with pytest.raises(InputError, match="unbounded reward properties on interval models are not supported yet"):
        reach_reward(m, "r", m.labels["t"], maximise=True)


def test_unknown_reward_is_an_input_error():
    m = retry_model()
    with pytest.raises(InputError, match="no reward structure 'cost'. Use one of: r"):
        reach_reward(m, "cost", m.labels["t"], maximise=True)


def test_initial_distribution_mixes_the_values():
    m = make_mdp(["a", "b"], {"a": [("x", {"b": "1/3", "a": "2/3"})], "b": [("y", {"b": 1})]},
                 rewards={"r": {("a", "x"): 1}}, labels={"b": ["b"]}, initial={"a": "1/4", "b": "3/4"})
    assert reach_reward(m, "r", m.labels["b"], maximise=True).value.value == Fr(3, 4)
    m2 = make_mdp(["a", "b", "c"], {"a": [("x", {"a": 1})], "b": [("y", {"c": 1})], "c": [("z", {"c": 1})]},
                  rewards={"r": {}}, labels={"c": ["c"]}, initial={"a": "1/2", "b": "1/2"})
    assert reach_reward(m2, "r", m2.labels["c"], maximise=False).infinite


# -- graph precomputations -------------------------------------------------------------------------
def test_precomputation_sets():
    """Prob0/Prob1 for max and min on a model where each of them differs."""
    m = make_mdp(
        ["win", "sure", "choice", "gamble", "trapped", "dead"],
        {"win": [("w", {"win": 1})],
         "sure": [("s", {"win": 1})],                                   # every policy: 1
         "choice": [("good", {"sure": 1}), ("bad", {"dead": 1})],      # max 1, min 0
         "gamble": [("g", {"win": "1/2", "dead": "1/2"}), ("h", {"gamble": 1})],  # max 1/2, min 0
         "trapped": [("t", {"gamble": "1/2", "trapped": "1/2"})],      # max 1/2 > 0, min 0
         "dead": [("d", {"dead": 1})]},
        labels={"win": ["win"]})
    g = Graph(m)
    stop, undecided = m.labels["win"], ~m.labels["win"]
    zero_max, _ = prob0_max(g, undecided, stop)
    one_max, _ = prob1_max(g, undecided, stop)
    zero_min = prob0_min(g, undecided, stop)
    one_min, _ = prob1_min(g, undecided, stop)
    names = lambda mask: {m.states[s] for s in np.flatnonzero(mask)}
    assert names(zero_max) == {"dead"}
    assert names(one_max) == {"win", "sure", "choice"}
    assert names(zero_min) == {"choice", "gamble", "trapped", "dead"}
    assert names(one_min) == {"win", "sure"}


def test_end_components_and_their_internal_choices():
    m = end_component_model()
    g = Graph(m)
    label, internal = end_components(g, np.array([True, True, False, False]), np.ones(m.n_choices, dtype=bool))
    assert label[0] == label[1] >= 0
    assert [m.action(c) for c in np.flatnonzero(internal)] == ["to1", "to0"]
    single = make_mdp(["s", "t"], {"s": [("loop", {"s": 1}), ("go", {"t": 1})], "t": [("stay", {"t": 1})]})
    label, internal = end_components(Graph(single), np.array([True, False]), np.ones(3, dtype=bool))
    assert label.tolist() == [0, -1] and internal.tolist() == [True, False, False]


# -- an independent oracle -------------------------------------------------------------------------
def chain_reach(m, choice, keep, stop):
    """P(keep U stop) in the chain of a deterministic policy: graph + exact linear solve."""
    n = m.n_states
    can = stop.copy()
    changed = True
    while changed:
        changed = False
        for s in range(n):
            if not can[s] and keep[s] and any(can[t] for t, _ in m.successors(choice[s])):
                can[s] = changed = True
    unknown = [s for s in range(n) if can[s] and not stop[s]]
    index = {s: i for i, s in enumerate(unknown)}
    equations = []
    for s in unknown:
        row, rhs = {index[s]: Fr(1)}, Fr(0)
        for t, p in m.successors(choice[s]):
            if stop[t]:
                rhs += p
            elif t in index:
                row[index[t]] = row.get(index[t], Fr(0)) - p
        equations.append((row, rhs))
    x = solve_sparse(equations, len(unknown)) if unknown else []
    return [Fr(1) if stop[s] else x[index[s]] if s in index else Fr(0) for s in range(n)]


def chain_reward(m, choice, reward, target):
    """E[reward until target] in a policy's chain: +inf (None) where target is missed w.p. > 0."""
    reach = chain_reach(m, choice, np.ones(m.n_states, dtype=bool), target)
    finite = [s for s in range(m.n_states) if reach[s] == 1 and not target[s]]
    index = {s: i for i, s in enumerate(finite)}
    equations = []
    for s in finite:
        row = {index[s]: Fr(1)}
        for t, p in m.successors(choice[s]):
            if t in index:
                row[index[t]] = row.get(index[t], Fr(0)) - p
        equations.append((row, m.rewards[reward][choice[s]]))
    x = solve_sparse(equations, len(finite)) if finite else []
    return [Fr(0) if target[s] else x[index[s]] if s in index else None for s in range(m.n_states)]


def all_policies(m):
    return itertools.product(*(list(m.choices(s)) for s in range(m.n_states)))


def best(values, maximise):
    """Per state the optimum over policies; None is +infinity."""
    key = lambda v: (1, 0) if v is None else (0, v)
    return [(max if maximise else min)(column, key=key) for column in zip(*values)]


def assert_policy_attains(m, result, evaluate):
    choice = [result.policy.get(s, m.choice_start[s]) for s in range(m.n_states)]
    assert evaluate(choice) == exact_values(result)


@given(small_mdps(max_states=4))
@SETTINGS
def test_probability_optimum_matches_every_policy_oracle(m):
    stop = m.labels["goal"]
    for keep in (everywhere(m), ~m.labels["fatal"]):
        values = [chain_reach(m, c, keep, stop) for c in all_policies(m)]
        for maximise in (True, False):
            r = reach_probability(m, keep, stop, maximise=maximise)
            assert exact_values(r) == best(values, maximise)
            assert_policy_attains(m, r, lambda c, keep=keep: chain_reach(m, c, keep, stop))


@given(small_mdps(max_states=4))
@SETTINGS
def test_reward_optimum_matches_every_policy_oracle(m):
    target = m.labels["goal"]
    for name in ("c", "r"):
        values = [chain_reward(m, c, name, target) for c in all_policies(m)]
        for maximise in (True, False):
            try:
                r = reach_reward(m, name, target, maximise=maximise)
            except InputError:
                assert name == "r" and not maximise  # a negative cycle: refused, never wrong
                continue
            assert exact_values(r) == best(values, maximise)
            assert_policy_attains(m, r, lambda c, name=name: chain_reward(m, c, name, target))


@given(small_mdps())
@SETTINGS
def test_policy_value_by_restricting_the_model(m):
    """The returned policy, fixed in the model (one choice per state), has the optimal value."""
    stop = m.labels["goal"]
    for maximise in (True, False):
        r = reach_probability(m, everywhere(m), stop, maximise=maximise)
        table = np.array([r.policy.get(s, m.choice_start[s]) for s in range(m.n_states)])
        chain = fix_policy(m, PolicyLayer.deterministic(m, table))
        assert exact_values(reach_probability(chain, everywhere(m), stop, maximise=not maximise)) == exact_values(r)


@given(small_mdps())
@SETTINGS
def test_strategy_iteration_needs_no_hint(m):
    """Without the float solver's hint, strategy iteration starts from the precomputation's
    witnesses (proper on the region: an improper start would make the linear system singular)."""
    g = Graph(m)
    for maximise in (True, False):
        for problem in (probability_problem(g, everywhere(m), m.labels["goal"], maximise),
                        reward_problem(g, m.rewards["c"], m.labels["goal"], maximise)):
            values, _ = unbounded_exact.solve_exact(g, problem)
            if problem.reward is None:
                expected = reach_probability(m, everywhere(m), m.labels["goal"], maximise=maximise)
            else:
                expected = reach_reward(m, "c", m.labels["goal"], maximise=maximise)
            assert values == exact_values(expected)


def test_strategy_iteration_from_the_witness_in_an_end_component():
    m = end_component_model()
    g = Graph(m)
    values, policy = unbounded_exact.solve_exact(g, probability_problem(g, everywhere(m), m.labels["goal"], True))
    assert values == [Fr(1, 3), Fr(1, 3), 1, 0] and m.action(policy[0]) == "exit"


# -- the sound path --------------------------------------------------------------------------------
def assert_encloses(sound, exact):
    for s, v in enumerate(exact.values.exact):
        if v is None:
            assert np.isposinf(sound.values.lo[s]) and np.isposinf(sound.values.hi[s])
        else:
            assert Fr(sound.values.lo[s]) <= v <= Fr(sound.values.hi[s]), (s, v, sound.values.lo[s], sound.values.hi[s])
    assert sound.infinite == exact.infinite
    if not exact.infinite:
        assert sound.value.contains(exact.value.value)
        assert sound.value.width <= Fr(1, 10**6) * max(1, abs(exact.value.value))


@given(small_mdps())
@SETTINGS
def test_sound_enclosures_contain_the_exact_values(m):
    goal, fatal = m.labels["goal"], m.labels["fatal"]
    for maximise in (True, False):
        for keep in (everywhere(m), ~fatal):
            assert_encloses(reach_probability(m, keep, goal, maximise=maximise, exact=False),
                            reach_probability(m, keep, goal, maximise=maximise, exact=True))
        for name in ("c", "r"):
            try:
                exact = reach_reward(m, name, goal, maximise=maximise, exact=True)
            except InputError:
                continue
            assert_encloses(reach_reward(m, name, goal, maximise=maximise, exact=False), exact)


def test_sound_rounding_is_outward_on_a_non_dyadic_model():
    """1/3 and 1/7 are not floats: a value computed by round-to-nearest alone (or rounded
    inward) misses them on one side; the sound path's ends must straddle them strictly."""
    m = make_mdp(
        ["s", "u", "goal", "fail"],
        {"s": [("a", {"goal": "1/3", "fail": "2/3"}), ("b", {"u": "3/7", "fail": "4/7"})],
         "u": [("c", {"goal": "1/3", "fail": "1/3", "u": "1/3"})],
         "goal": [("g", {"goal": 1})], "fail": [("f", {"fail": 1})]},
        rewards={"r": {("s", "a"): "1/3", ("s", "b"): "1/7", ("u", "c"): "1/7"}},
        labels={"goal": ["goal"], "fail": ["fail"]})
    cases = [
        (reach_probability, (everywhere(m), m.labels["goal"]), True, Fr(1, 3)),     # a: 1/3 > 3/7 · 1/2
        (reach_probability, (everywhere(m), m.labels["goal"]), False, Fr(3, 14)),
        (reach_reward, ("r", m.labels["goal"] | m.labels["fail"]), True, Fr(1, 3)),  # a: 1/3 > 1/7 + 3/7·3/14
        (reach_reward, ("r", m.labels["goal"] | m.labels["fail"]), False, Fr(1, 7) + Fr(3, 7) * Fr(3, 14)),
    ]
    for function, args, maximise, value in cases:
        assert function(m, *args, maximise=maximise, exact=True).value.value == value
        box = function(m, *args, maximise=maximise, exact=False).value
        assert box.lo < value < box.hi, (function.__name__, maximise, box, value)


@st.composite
def quantitative_mdps(draw):
    """Models whose regions are rarely empty: states s0… whose first choice can reach both the
    absorbing goal and fail (so values lie strictly between the extremes), other choices at
    random, probabilities with denominators that are mostly not powers of two."""
    n = draw(st.integers(1, 5))
    names = [f"s{i}" for i in range(n)]
    choices = {"goal": [("g", {"goal": 1})], "fail": [("f", {"fail": 1})]}
    rewards = {}
    for s in names:
        choices[s] = []
        for a in "abc"[: draw(st.integers(1, 3))]:
            pool = names + ["goal", "fail"]
            targets = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
            if a == "a":
                targets = sorted(set(targets) | {"goal", "fail"})
            weights = [draw(st.integers(1, 6)) for _ in targets]
            choices[s].append((a, {t: Fr(w, sum(weights)) for t, w in zip(targets, weights)}))
            rewards[(s, a)] = Fr(draw(st.integers(0, 5)), draw(st.integers(1, 7)))
    return make_mdp(names + ["goal", "fail"], choices, {"r": rewards}, {"goal": ["goal"], "fail": ["fail"]})


def exact_image(m, system, problem, x, group):
    """F(x) at a group, in exact arithmetic from the model's own numbers."""
    value = [Fr(1) if problem.one[s] else Fr(0) for s in range(m.n_states)]
    images = []
    for row in range(system.row_start[group], system.row_start[group + 1]):
        choice = int(system.row_choice[row])
        total = problem.reward[choice] if problem.reward is not None else Fr(0)
        for t, p in m.successors(choice):
            j = system.group[t]
            total += p * (Fr(float(x[j])) if j >= 0 else value[t])
        images.append(total)
    return max(images) if problem.maximise else min(images)


@given(quantitative_mdps(), st.integers(0, 2**32 - 1))
@SETTINGS
def test_one_sound_step_encloses_the_exact_bellman_image(m, seed):
    """F↓(x) <= F(x) <= F↑(x) exactly, for arbitrary float vectors x (the rounding argument).

    Rows with no decided successor have an exact constant 0, so only the step's own outward
    rounding can cover the error of the float products and sums: this fails when it is missing
    or points the wrong way."""
    g = Graph(m)
    rng = np.random.default_rng(seed)
    ended = m.labels["goal"] | m.labels["fail"]
    problems = [probability_problem(g, everywhere(m), m.labels["goal"], True),
                probability_problem(g, everywhere(m), m.labels["goal"], False),
                reward_problem(g, m.rewards["r"], ended, True), reward_problem(g, m.rewards["r"], ended, False)]
    for problem in problems:
        system = unbounded_sound._system(g, problem)
        x = rng.random(system.n) * 3 - 1
        lo, hi = system.step(x, upper=False), system.step(x, upper=True)
        for group in range(system.n):
            assert Fr(lo[group]) <= exact_image(m, system, problem, x, group) <= Fr(hi[group])


@given(quantitative_mdps())
@SETTINGS
def test_sound_enclosures_on_quantitative_models(m):
    ended = m.labels["goal"] | m.labels["fail"]
    for maximise in (True, False):
        assert_encloses(reach_probability(m, everywhere(m), m.labels["goal"], maximise=maximise, exact=False),
                        reach_probability(m, everywhere(m), m.labels["goal"], maximise=maximise, exact=True))
        assert_encloses(reach_reward(m, "r", ended, maximise=maximise, exact=False),
                        reach_reward(m, "r", ended, maximise=maximise, exact=True))


@pytest.mark.parametrize("maximise", [True, False])
def test_sound_path_on_a_generated_model(maximise):
    """A quantitative model of the benchmark family (random_500 with a geometric stop)."""
    m = geometric_unrolling(random_mdp(500, 3), Fr(9, 10))
    stop, goal = m.labels["stop"], m.labels["goal"]
    # P^max(F goal) before the stop, P^min(!goal U stop) = 1 - P^max(...): both quantitative
    keep, reach = (everywhere(m), goal & ~stop) if maximise else (~goal, stop)
    r = reach_probability(m, keep, reach, maximise=maximise, exact=False)
    assert r.converged and 0 < r.value.lo and r.value.hi < 1 and r.value.width <= Fr(1, 10**6)
    w = reach_reward(m, "r", stop, maximise=maximise, exact=False)
    assert w.converged and 0 < w.value.lo and w.value.width <= w.value.lo / 10**6


def test_exact_none_is_exact_on_small_models_and_sound_beyond_the_work_budget(monkeypatch):
    m = geometric_unrolling(grid_mdp(4), Fr(9, 10))
    goal = m.labels["goal"] & ~m.labels["stop"]
    small = reach_probability(m, everywhere(m), goal, maximise=True)
    assert small.exact and small.value.is_exact
    monkeypatch.setattr(unbounded, "EXACT_WORK", 1.0)
    big = reach_probability(m, everywhere(m), goal, maximise=True)
    assert not big.exact and big.value.contains(small.value.value)
    assert reach_probability(m, everywhere(m), goal, maximise=True, exact=True).exact  # exact=True: no budget


def test_state_mask_must_match_the_model():
    m = retry_model()
    with pytest.raises(ValueError, match="shape"):
        reach_probability(m, np.ones(2, dtype=bool), m.labels["t"], maximise=True)


def test_docstring_examples():
    failures, tried = doctest.testmod(unbounded, optionflags=doctest.ELLIPSIS)
    assert tried >= 8 and failures == 0
