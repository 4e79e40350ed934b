"""Long episodes: the float alignment certificate's ``tail`` (its slopes bound the steps before the
last K + 1, `proofs.kernel.check_alignment_float`) and the engine that chooses K.

Each slope is sound whatever K is; these tests compare against exact values (Fractions, step by
step), against the exact engine, and forge what a tail certificate claims.
"""

import copy
import functools
import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.mdps import grid_mdp, make_mdp, random_mdp, small_mdps, stationary_layers
from tests.unit.engines.test_lagrangian_float import check, components

import proofs.engines.lagrangian_float as engine
import proofs.engines.policy as policy_engine
from proofs.core.certificates import Mixture, PolicyBody
from proofs.core.errors import CheckFailure
from proofs.core.formula import (
    Comparison,
    Eventually,
    Globally,
    Label,
    Not,
    ProbabilityConstraint,
    RewardConstraint,
)
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.core.rational import format_rational
from proofs.core.schema import validate_fields
from proofs.core.statement import objective_data
from proofs.engines import claims
from proofs.engines.alignment import certificate_fields
from proofs.kernel.check_alignment_float import OptimalJ, float_space, mixture_values, upper_bound
from proofs.kernel.check_policy import check_policy_certificate, tail_values
from proofs.policy.canonical import reachable_table
from proofs.semantics.evaluate import evaluate_objective, optimal

F = Fraction
FATAL = Label("fatal")
LE, GE = Comparison.LE, Comparison.GE


def exact_optimal(mdp, horizon):
    """μ₀·V*_H in Fractions (the exact semantics, independent of the kernel)."""
    value = optimal(mdp, Objective("r", horizon), exact_mode=True).value
    assert value.lo == value.hi
    return value.lo


def cycle():
    """A periodic chain (a → b → a, reward 1 in a only): the last difference of the values
    alternates between 0 and 1 at every state, so no slope from it is tight, but each is sound."""
    choices = {"a": [("go", {"b": F(1)})], "b": [("go", {"a": F(1)}), ("rest", {"b": F(1)})]}
    return make_mdp(["a", "b"], choices, {"r": {("a", "go"): F(1), ("b", "go"): F(0), ("b", "rest"): F(0)}},
                    {"fatal": []}, {"a": F(1)})


@settings(max_examples=60, deadline=None)
@given(mdp=small_mdps(), horizon=st.integers(3, 40), data=st.data())
def test_slopes_enclose_the_exact_optimal_value(mdp, horizon, data):
    tail = data.draw(st.integers(1, horizon - 2))
    opt = OptimalJ(mdp, Objective("r", horizon), np.zeros(mdp.n_states, dtype=np.bool_), {horizon}, tail=tail)
    assert opt.j_star.lo <= exact_optimal(mdp, horizon) <= opt.j_star.hi


@pytest.mark.parametrize("tail", [1, 2, 5])
def test_a_periodic_model_is_bounded_soundly(tail):
    mdp = cycle()
    opt = OptimalJ(mdp, Objective("r", 40), np.zeros(2, dtype=np.bool_), {40}, tail=tail)
    assert opt.j_star.lo <= exact_optimal(mdp, 40) == 20 <= opt.j_star.hi


def overlap(a, b):
    return max(a.lo, b.lo) <= min(a.hi, b.hi)


@settings(max_examples=80, deadline=None)
@given(mdp=small_mdps(), horizon=st.integers(3, 30), data=st.data())
def test_slopes_bound_the_combined_recursion_and_every_component(mdp, horizon, data):
    """Against the same recursions run at every step (their enclosures are a few ulps wide): the
    upper bound on G(λ) stays above, and a component's (J, W_c) enclosures overlap, whatever the
    tail, λ and table (stop states tie the recursions to V*: its slopes must carry over)."""
    tail = data.draw(st.integers(1, horizon - 2), label="tail")
    lam = Fraction(data.draw(st.integers(0, 12)), 4)
    constraint = data.draw(st.sampled_from(PHI[:2]))
    objective = Objective("r", horizon)
    cs = float_space(mdp, objective, constraint)
    plain, tailed = (OptimalJ(mdp, objective, cs.stop.copy(), {horizon}, tail=t) for t in (None, tail))
    assert upper_bound(mdp, tailed, cs, lam).hi >= upper_bound(mdp, plain, cs, lam).hi - F(1, 10**9)
    counts = np.diff(mdp.choice_start)
    first = horizon - tail - 1
    rows = [[t, s, data.draw(st.integers(0, int(counts[s]) - 1))]
            for t in range(horizon - 1, first - 1, -1) for s in range(mdp.n_states)]
    arrays = {"t": np.array(rows, dtype=np.int32)}
    mixture = Mixture.from_json({"mixture": [{"weight": "1", "step_tables": "t", "encoding": "changes",
                                              "after_decided": "J-optimal"}]})
    for a, b in zip(*(mixture_values(mdp, opt, cs, mixture, arrays, "test") for opt in (plain, tailed))):
        assert overlap(a, b)


def late_reward(d):
    """From s0: ``wait`` (stay, reward 0) or ``risk`` (into f); f leads along a chain of d states
    to a loop paying 1 per step, all of them fatal (stop states of P[F fatal], so no choice of
    theirs is checked by the combined recursion's slope). V*(f) is 0 for the first d steps to go
    and grows by one per step after: a slope taken from fewer steps sees no growth at f, and only
    V*'s own slope (the chain's last states) says that it will come."""
    names = ["s0", "f"] + [f"c{i}" for i in range(d)] + ["loop"]
    chain = ["f"] + [f"c{i}" for i in range(d)] + ["loop"]
    choices = {"s0": [("wait", {"s0": F(1)}), ("risk", {"f": F(1)})]}
    for here, there in itertools.pairwise(chain):
        choices[here] = [("go", {there: F(1)})]
    choices["loop"] = [("stay", {"loop": F(1)})]
    rewards = {(s, a): F(int(s == "loop")) for s, acts in choices.items() for a, _ in acts}
    return make_mdp(names, choices, {"r": rewards}, {"fatal": chain}, {"s0": F(1)})


@pytest.mark.parametrize("tail", [1, 3, 5])
def test_a_stop_state_whose_value_grows_after_the_tail(tail):
    mdp, objective = late_reward(8), Objective("r", 40)
    cs = float_space(mdp, objective, ProbabilityConstraint(LE, F(1, 2), Eventually(FATAL)))
    plain, tailed = (OptimalJ(mdp, objective, cs.stop.copy(), {40}, tail=t) for t in (None, tail))
    truth = 1 + (40 - 1 - 8 - 1)   # σ·1 at f, then λ = 1 times V*_39(f): 8 steps of chain, one into the loop
    assert upper_bound(mdp, plain, cs, F(1)).hi >= truth
    assert upper_bound(mdp, tailed, cs, F(1)).hi >= truth
    risk = {"t": np.array([[39, 0, 1]], dtype=np.int32)}   # s0 takes "risk" at every step
    mixture = Mixture.from_json({"mixture": [{"weight": "1", "step_tables": "t", "encoding": "changes",
                                              "after_decided": "J-optimal"}]})
    for opt in (plain, tailed):
        j, w = mixture_values(mdp, opt, cs, mixture, risk, "test")
        assert j.lo <= truth - 1 <= j.hi and w.lo <= 1 <= w.hi


PHI = [ProbabilityConstraint(LE, F(1, 20), Eventually(FATAL)),
       ProbabilityConstraint(GE, F(1, 2), Globally(Not(FATAL))),
       RewardConstraint("r", LE, F(30))]


def test_tail_certificates_agree_with_the_step_by_step_search(monkeypatch):
    """H = 400 from tails of 16 or 64 steps, against the search of every step (the float path
    without a tail, whose enclosures are 1e-6 wide) and exact J*: every verdict the tail decides is
    the same, every enclosure overlaps, the kernel accepts; most are decided (a worst value at its
    threshold leaves both open)."""
    objective, eps = Objective("r", 400), F(1, 2)
    decided = 0
    for mdp in (grid_mdp(4), random_mdp(30), cliff(5)):
        truth = exact_optimal(mdp, 400)
        for constraint in PHI:
            monkeypatch.setattr(engine, "tails", lambda horizon: iter(()))
            plain = engine.discharge_float(mdp, objective, eps, [constraint])
            monkeypatch.setattr(engine, "tails", functools.partial(claims.tails, first=16))
            monkeypatch.setattr(engine, "EXPLICIT", 0)
            tailed = engine.discharge_float(mdp, objective, eps, [constraint])
            assert "tail" not in plain.witness
            assert tailed.j_star.lo <= truth <= tailed.j_star.hi
            if tailed.status != "unknown":
                decided += 1
                assert tailed.witness["tail"] in (16, 64) and tailed.status == plain.status
                check(tailed, mdp, objective, eps, [constraint])
                a, b = plain.constraints[0].worst, tailed.constraints[0].worst
                assert max(a.lo, b.lo) <= min(a.hi, b.hi)
    assert decided >= 7


def cliff(n):
    """``bench/long_horizon.py``'s program as an MDP: an n×n robot from the top-left corner, whose
    slips (1/10) push it down or left; the bottom row but its last cell is fatal; reward 1 per step
    in the bottom-right corner, where it may stay."""
    slip = F(1, 10)
    name = lambda x, y: f"{x},{y}"
    choices, rewards = {}, {}
    for x in range(n):
        for y in range(n):
            moves = []   # (action, [(successor, probability)]): two branches may reach one state
            if x < n - 1:
                moves.append(("east", [(name(x + 1, y), 1 - slip), (name(x, max(y - 1, 0)), slip)]))
            if x > 0:
                moves.append(("west", [(name(x - 1, y), 1 - slip), (name(x, max(y - 1, 0)), slip)]))
            if y < n - 1:
                moves.append(("north", [(name(x, y + 1), 1 - slip), (name(max(x - 1, 0), y), slip)]))
            if y > 0:
                moves.append(("south", [(name(x, y - 1), 1 - slip), (name(x, max(y - 2, 0)), slip)]))
            if (x, y) == (n - 1, 0):
                moves.append(("stay", [(name(x, y), F(1))]))
            merged = []
            for action, branches in moves:
                total = {}
                for t, p in branches:
                    total[t] = total.get(t, F(0)) + p
                merged.append((action, total))
                rewards[(name(x, y), action)] = F(int((x, y) == (n - 1, 0)))
            choices[name(x, y)] = merged
    states = list(choices)
    return make_mdp(states, choices, {"r": rewards}, {"fatal": [name(x, 0) for x in range(n - 1)]},
                    {name(0, n - 1): F(1)})


def test_a_million_steps_are_decided_from_the_last_few_hundred():
    """The long-horizon benchmark's model at H = 1e6: the search and the kernel run a few hundred
    steps each; J* is H minus the expected time to the goal corner, so J*_1e6 − J*_1e4 is
    990,000 once the values have settled (both from tails, within the enclosures' widths)."""
    mdp, objective = cliff(10), Objective("r", 10**6)
    phi = [ProbabilityConstraint(LE, F(1, 2), Eventually(FATAL))]
    eps = F(100_000)
    result = engine.discharge_float(mdp, objective, eps, phi)
    check(result, mdp, objective, eps, phi)
    assert result.status == "refuted" and result.witness["tail"] == 256
    assert result.j_star.hi - result.j_star.lo < F(1, 100)
    short = engine.discharge_float(mdp, Objective("r", 10**4), eps, phi)
    gap = (result.j_star.lo + result.j_star.hi - short.j_star.lo - short.j_star.hi) / 2 - (10**6 - 10**4)
    assert abs(gap) < F(1, 100)


# -- forged tail certificates -------------------------------------------------------------------
@pytest.fixture(scope="module")
def tailed():
    mdp, objective, eps = grid_mdp(4), Objective("r", 400), F(5)
    phi = [ProbabilityConstraint(LE, F(1, 20), Eventually(FATAL))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "tails", functools.partial(claims.tails, first=16))
        patch.setattr(engine, "EXPLICIT", 0)
        result = engine.discharge_float(mdp, objective, eps, phi)
    assert result.status == "refuted" and result.witness["tail"] == 16
    return mdp, objective, eps, phi, result


def forged(tailed, edit):
    mdp, objective, eps, phi, result = tailed
    fields = copy.deepcopy(certificate_fields(result))
    arrays = {k: v.copy() for k, v in result.arrays.items()}
    edit(fields, arrays)
    return lambda objective=objective: check(result, mdp, objective, eps, phi, fields, arrays)


def test_the_untampered_tail_certificate_is_accepted(tailed):
    forged(tailed, lambda f, a: None)()


def test_a_tail_on_a_discounted_objective_is_rejected(tailed):
    with pytest.raises(CheckFailure, match="undiscounted"):
        forged(tailed, lambda f, a: None)(Objective("r", 400, F(9, 10)))


@pytest.mark.parametrize("tail", [399, 400, 10**6])
def test_a_tail_as_long_as_the_episode_is_rejected(tailed, tail):
    with pytest.raises(CheckFailure, match="tail"):
        forged(tailed, lambda f, a: f["witness"].__setitem__("tail", tail))()


def test_a_table_that_changes_before_the_tail_is_rejected(tailed):
    def edit(f, a):
        name = components(f)[0]["step_tables"]
        a[name] = np.concatenate([a[name], np.array([[3, 0, 1]], dtype=a[name].dtype)])
    with pytest.raises(CheckFailure, match="none before step 383"):
        forged(tailed, edit)()


def test_dense_tables_with_a_tail_are_rejected(tailed):
    def edit(f, a):
        for part in components(f):
            part["encoding"] = "plain"
    with pytest.raises(CheckFailure, match="must be changes"):
        forged(tailed, edit)()


def test_a_tail_too_short_for_the_claimed_values_is_rejected(tailed):
    """The same tables judged from the last 2 steps: values that have not settled give wider
    slopes, and the certificate's enclosures no longer hold."""
    with pytest.raises(CheckFailure, match="does not contain the kernel's J"):
        forged(tailed, lambda f, a: f["witness"].__setitem__("tail", 1))()


def test_a_tail_that_would_shrink_the_values_cannot_be_claimed(tailed):
    """A J* enclosure narrower than the slopes give is rejected, as for any float certificate."""
    def edit(f, a):
        j = f["values"]["j_star"]
        mid = (Fraction(j["lo"]) + Fraction(j["hi"])) / 2
        j["lo"] = j["hi"] = str(mid)
    with pytest.raises(CheckFailure, match="does not contain the kernel's J"):
        forged(tailed, edit)()


def test_a_proof_from_a_tail_bounds_the_combined_recursion_at_stop_states():
    """Proved with λ > 0 on a grid whose fatal states stop the constraint: the dual bound's slope
    is tied to V*'s at the stop states, and the kernel accepts it."""
    mdp, objective, eps = grid_mdp(6), Objective("r", 40_000), F(1, 100)
    phi = [ProbabilityConstraint(LE, F(1, 2), Eventually(FATAL))]
    result = engine.discharge_float(mdp, objective, eps, phi)
    assert result.status == "proved" and result.witness["tail"] == 256 and result.constraints[0].lam > 0
    assert result.constraints[0].worst.hi <= F(1, 2)
    check(result, mdp, objective, eps, phi)


# -- the policy lemma over long episodes ----------------------------------------------------------
def exact_policy_value(mdp, layer, horizon):
    """μ₀·J(π)_H of a stationary layer in Fractions (the exact semantics)."""
    value = evaluate_objective(mdp, Objective("r", horizon), Policy.stationary(layer), exact_mode=True)
    assert value.lo == value.hi
    return value.lo


@settings(max_examples=60, deadline=None)
@given(mdp=small_mdps(), horizon=st.integers(3, 30), data=st.data())
def test_policy_slopes_enclose_the_exact_values(mdp, horizon, data):
    """J* and J(π₀) of a randomised stationary policy from any tail contain the exact values."""
    layer = data.draw(stationary_layers(mdp))
    tail = data.draw(st.integers(1, horizon - 2), label="tail")
    j_star, j_policy = tail_values(mdp, Objective("r", horizon), layer, tail)
    assert j_star.lo <= exact_optimal(mdp, horizon) <= j_star.hi
    assert j_policy.lo <= exact_policy_value(mdp, layer, horizon) <= j_policy.hi


def cliff_policy(mdp, n):
    """East along the row, then south to the goal corner, where it stays (an optimal policy)."""
    rows = {}
    for s, name in enumerate(mdp.states):
        x, y = map(int, name.split(","))
        action = "east" if x < n - 1 else "south" if y > 0 else "stay"
        rows[s] = [(mdp.choice_of(s, action), F(1))]
    return Policy.stationary(PolicyLayer.from_table(mdp, rows))


def policy_certificate(mdp, objective, pi, epsilon):
    result = policy_engine.discharge_policy(mdp, objective, pi, epsilon)
    fields = {**result.certificate_fields(objective, epsilon).to_json(), "status": result.status,
              "objective": objective_data(objective), "epsilon": format_rational(epsilon)}
    return result, fields


def check_policy_fields(fields, mdp, objective, pi, epsilon):
    status = validate_fields(fields, "policy", ("values", "witness", "diagnosis"))
    return check_policy_certificate(PolicyBody.from_json(fields), status, mdp, objective,
                                    reachable_table(mdp, pi, objective.horizon), epsilon)


def test_a_policy_lemma_over_a_million_steps():
    """The benchmark grid's optimal policy at H = 1e6 (proved with ε = 1/100) and a policy that
    only ever stays put (refuted): both from a tail of 256 steps, both accepted by the kernel."""
    mdp, objective = cliff(10), Objective("r", 10**6)
    good = cliff_policy(mdp, 10)
    result, fields = policy_certificate(mdp, objective, good, F(1, 100))
    assert result.status == "proved" and result.witness["tail"] == 256
    assert result.j_star.lo <= result.j_policy.hi and result.j_star.hi - result.j_star.lo < F(1, 100)
    assert check_policy_fields(fields, mdp, objective, good, F(1, 100)).status == "proved"
    west = [(s, [(mdp.choice_of(s, "west" if "west" in mdp.local_actions(s) else mdp.local_actions(s)[0]), F(1))])
            for s in range(mdp.n_states)]
    bad = Policy.stationary(PolicyLayer.from_table(mdp, dict(west)))
    result, fields = policy_certificate(mdp, objective, bad, F(1, 100))
    assert result.status == "refuted" and result.witness["tail"] == 256
    assert check_policy_fields(fields, mdp, objective, bad, F(1, 100)).status == "refuted"


@pytest.fixture(scope="module")
def policy_tailed():
    mdp, objective, eps = cliff(5), Objective("r", 4000), F(1, 100)
    pi = cliff_policy(mdp, 5)
    result, fields = policy_certificate(mdp, objective, pi, eps)
    assert result.status == "proved" and result.witness["tail"] == 256
    return mdp, objective, pi, eps, fields


def test_a_policy_tail_is_accepted_and_forgeries_are_not(policy_tailed):
    mdp, objective, pi, eps, fields = policy_tailed
    assert check_policy_fields(fields, mdp, objective, pi, eps).status == "proved"
    for edit, match in ((lambda w: w.__setitem__("arithmetic", "exact"), "needs float arithmetic"),
                        (lambda w: w.__setitem__("tail", 3999), "tail"),
                        (lambda w: w.__setitem__("tail", 1), "not implied by the witness")):
        forged = copy.deepcopy(fields)
        edit(forged["witness"])
        with pytest.raises(CheckFailure, match=match):
            check_policy_fields(forged, mdp, objective, pi, eps)
    discounted = Objective("r", 4000, F(99, 100))
    forged = {**copy.deepcopy(fields), "objective": objective_data(discounted)}
    with pytest.raises(CheckFailure, match="undiscounted"):
        check_policy_fields(forged, mdp, discounted, pi, eps)
    goal = mdp.state_index["4,0"]
    rows = {s: [(int(c), F(1))] for s, c in enumerate(pi.layers[0].choice)}
    rows[goal] = [(mdp.choice_of(goal, "west"), F(1))]
    later = PolicyLayer.from_table(mdp, rows)   # from step 9 on, the goal corner is left: two tables
    with pytest.raises(CheckFailure, match="stationary policy"):
        check_policy_fields(fields, mdp, objective, Policy((pi.layers[0],) * 9 + (later,)), eps)


# -- Φ evaluated directly under π₀ (a composition's cross-check) --------------------------------
@settings(max_examples=40, deadline=None)
@given(mdp=small_mdps(), horizon=st.integers(70, 140), data=st.data())
def test_direct_evaluation_with_slopes_overlaps_the_step_by_step_one(mdp, horizon, data, monkeypatch_module):
    """The kernel's interval evaluation of each constraint under a stationary π₀, from 16 steps and
    slopes, against the same evaluation of every step (whose intervals are a few ulps wide)."""
    from proofs.kernel import direct

    layer = data.draw(stationary_layers(mdp))
    pi, objective = Policy.stationary(layer), Objective("r", horizon)
    constraint = data.draw(st.sampled_from(PHI))
    values = []
    for tail in (10**9, 16):
        monkeypatch_module.setattr(direct, "_TAIL", tail)
        values.append(direct.evaluate_constraint(mdp, objective, pi, constraint))
    assert overlap(*values)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch
