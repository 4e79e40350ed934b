"""The model–reality margin η of a proved policy lemma, against brute force on tiny models.

η_lo says: in every environment whose transition distributions are within total variation η_lo of
the model's at every step (mass may move to any state), π₀ is still ε-optimal. Checked by sampling
such environments at random and evaluating J*_E − J_E(π₀) exactly, independently of the kernel's
greedy worst case; the η_hi environment of the certificate must break the lemma under the same
evaluation. π₀ is the certificate's table (its worst action where the table says nothing: the
certificate knows nothing of π₀ there). Forged margins are rejected by the kernel.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.support.mdps import make_mdp, small_mdps, solve_exact

from proofs.core.certificates import Eta, PolicyBody
from proofs.core.errors import CheckFailure
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.engines.policy import discharge_policy
from proofs.kernel.check_policy import check_policy_certificate
from proofs.policy.canonical import reachable_table

H = 3


def _gap(mdp, objective, table: Policy, env) -> Fraction:
    """J*_E − J_E(π₀) exactly in the environment ``env(t, c) -> {target: p}``."""
    n, reward = mdp.n_states, mdp.rewards[objective.reward].fractions()
    star = pol = [Fraction(0)] * n
    for t in reversed(range(objective.horizon)):
        q_star = [reward[c] + objective.discount * sum(p * star[x] for x, p in env(t, c).items())
                  for c in range(mdp.n_choices)]
        q_pol = [reward[c] + objective.discount * sum(p * pol[x] for x, p in env(t, c).items())
                 for c in range(mdp.n_choices)]
        layer = table.at(t)
        star = [max(q_star[c] for c in mdp.choices(s)) for s in range(n)]
        pol = [sum((p * q_pol[c] for c, p in layer.distribution(s)), Fraction(0)) if layer.start[s + 1] > layer.start[s]
               else min(q_pol[c] for c in mdp.choices(s)) for s in range(n)]
    return sum((p * (star[s] - pol[s]) for s, p in mdp.initial_distribution()), Fraction(0))


def _model_row(mdp, c: int) -> dict[int, Fraction]:
    row: dict[int, Fraction] = {}
    for t, p in mdp.successors(c):
        row[t] = row.get(t, Fraction(0)) + p
    return row


def _sampled(mdp, eta: Fraction, rng: random.Random):
    """A random environment within total variation η of the model at every step and choice."""
    cache: dict[tuple[int, int], dict[int, Fraction]] = {}

    def env(t: int, c: int) -> dict[int, Fraction]:
        if (t, c) not in cache:
            row = _model_row(mdp, c)
            budget = eta * Fraction(rng.randint(0, 4), 4)
            for source in rng.sample(sorted(row), len(row)):
                take = min(row[source], budget)
                row[source] -= take
                to = rng.randrange(mdp.n_states)
                row[to] = row.get(to, Fraction(0)) + take
                budget -= take
            cache[(t, c)] = row
        return cache[(t, c)]

    return env


def _certified(mdp, objective, policy, epsilon):
    result = discharge_policy(mdp, objective, policy, epsilon, exact_mode=True)
    body = result.certificate_fields(objective, epsilon)
    table = reachable_table(mdp, policy, objective.horizon)
    if result.status == "proved":
        check_policy_certificate(body, result.status, mdp, objective, table, epsilon)
    return result, body, table


@st.composite
def cases(draw: st.DrawFn):
    mdp = draw(small_mdps(max_states=4))
    choice = [draw(st.sampled_from(list(mdp.choices(s)))) for s in range(mdp.n_states)]
    policy = Policy.stationary(PolicyLayer.from_table(mdp, {s: [(c, Fraction(1))] for s, c in enumerate(choice)}))
    epsilon = draw(st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(3)]))
    return mdp, policy, epsilon, draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_sampled_environments_within_eta_lo_keep_the_lemma_and_eta_hi_breaks_it(case):
    mdp, policy, epsilon, seed = case
    assume(not mdp.is_credal)
    objective = Objective("r", H)
    result, _, table = _certified(mdp, objective, policy, epsilon)
    assume(result.status == "proved" and result.eta is not None)
    eta, rng = result.eta, random.Random(seed)
    for _ in range(20):
        assert _gap(mdp, objective, table, _sampled(mdp, eta.lo, rng)) <= epsilon
    if eta.hi is not None:
        assert eta.hi > eta.lo
        rows = [{(mdp.state_index[s], a): row for s, acts in step.items() for a, row in acts.items()}
                for step in eta.environment]

        def breaking(t: int, c: int) -> dict[int, Fraction]:
            s = int(mdp.choice_state[c])
            row = rows[t].get((s, mdp.action(c)))
            return _model_row(mdp, c) if row is None else {mdp.state_index[x]: p for x, p in row.items()}

        assert _gap(mdp, objective, table, breaking) > epsilon


def _walk():
    """Walking pays 1 a step and may slip back (1/10); running pays 3/2 but may fall (1/10)."""
    return make_mdp(["s", "t", "fall"], {"s": [("walk", {"t": "9/10", "s": "1/10"}), ("run", {"t": "9/10", "fall": "1/10"})],
                                         "t": [("walk", {"t": "9/10", "s": "1/10"}), ("run", {"t": "9/10", "fall": "1/10"})],
                                         "fall": [("stay", {"fall": 1})]},
                    rewards={"r": {("s", "walk"): 1, ("t", "walk"): 1, ("s", "run"): "3/2", ("t", "run"): "3/2"}},
                    labels={"fall": ["fall"]})


def test_the_margin_of_a_proved_lemma_is_checked_and_forgeries_rejected():
    mdp, objective = _walk(), Objective("r", 4)
    run = {0: [(mdp.choice_of(0, "run"), Fraction(1))], 1: [(mdp.choice_of(1, "run"), Fraction(1))],
           2: [(mdp.choice_of(2, "stay"), Fraction(1))]}
    policy, epsilon = Policy.stationary(PolicyLayer.from_table(mdp, run)), Fraction(1, 5)
    result, body, table = _certified(mdp, objective, policy, epsilon)
    assert result.status == "proved" and result.eta is not None and 0 < result.eta.lo < 1
    assert result.eta.hi is not None, "running breaks once walking slips less than nature lets running fall"
    values = body.values
    for forged in (Eta(min(result.eta.hi, 1)), Eta(result.eta.lo, result.eta.lo, result.eta.environment),
                   Eta(result.eta.lo, Fraction(0), result.eta.environment)):
        forged_body = PolicyBody(body.objective, body.epsilon, type(values)(values.j_policy, values.j_star, values.gap,
                                                                            forged), body.witness)
        with pytest.raises(CheckFailure, match="margin"):
            check_policy_certificate(forged_body, "proved", mdp, objective, table, epsilon)


CONSTRAINTS = ['P<=1/2 [ F "goal" ]', 'P<=3/10 [ F<=2 "fatal" ]', 'P>=1/10 [ G !"fatal" ]', 'R{"r"}<=4 [ C ]']


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from(CONSTRAINTS))
def test_safety_margin_against_sampled_environments(case, text):
    """π₀ ⊨ Φ in every sampled environment within η_lo; the η_hi environment violates Φ."""
    from proofs.core.errors import Location
    from proofs.engines.eta import safety_eta
    from proofs.kernel.direct import ball_value
    from proofs.spec.parse import parse_constraint

    mdp, policy, _, seed = case
    assume(not mdp.is_credal)
    objective, c = Objective("r", H), parse_constraint(text, Location("test"))
    table = reachable_table(mdp, policy, H)
    eta = safety_eta(mdp, objective, table, (c,))
    assume(eta is not None)
    rng = random.Random(seed)
    for _ in range(20):
        env = _sampled(mdp, eta.lo, rng)
        rows = [{k: [(x, p, p) for x, p in env(t, k).items()] for k in range(mdp.n_choices)} for t in range(H)]
        assert c.comparison.holds(ball_value(mdp, objective, table, c, Fraction(0), rows), c.threshold)
    if eta.hi is not None:
        assert eta.hi > eta.lo
        rows = [{mdp.choice_of(mdp.state_index[s], a): [(mdp.state_index[x], p, p) for x, p in row.items()]
                 for s, acts in step.items() for a, row in acts.items()} for step in eta.environment]
        assert not c.comparison.holds(ball_value(mdp, objective, table, c, Fraction(0), rows), c.threshold)


def test_a_forged_safety_margin_is_rejected():
    from proofs.core.errors import Location
    from proofs.engines.eta import safety_eta
    from proofs.kernel.check import Kernel
    from proofs.spec.parse import parse_constraint

    mdp, objective = _walk(), Objective("r", 4)
    walk = {s: [(mdp.choice_of(s, "walk"), Fraction(1))] for s in (0, 1)}
    table = reachable_table(mdp, Policy.stationary(PolicyLayer.from_table(mdp, walk)), 4)
    phi = (parse_constraint('P<=1/10 [ F "fall" ]', Location("test")),)
    eta = safety_eta(mdp, objective, table, phi)
    assert eta is not None and eta.hi is not None and 0 < eta.lo < eta.hi
    Kernel._safety_margin(eta, mdp, objective, phi, table)
    for forged in (Eta(eta.hi), Eta(eta.lo, eta.hi, tuple({} for _ in range(4)))):
        with pytest.raises(CheckFailure, match="margin"):
            Kernel._safety_margin(forged, mdp, objective, phi, table)


# -- the margin of an alignment lemma (closed form, `proofs.engines.eta.alignment_eta`) -----------------
def _layered(mdp, env):
    """The environment ``env(t, c) -> {target: p}`` unrolled over H steps: state (t, s) acts as s
    with the rows of step t into step t + 1 (the last step's copies are absorbing), same rewards,
    labels and μ₀; an alignment lemma over H steps means the same on it as in the environment."""
    names = [f"{t}:{s}" for t in range(H + 1) for s in mdp.states]
    choices, rewards = {}, {name: {} for name in mdp.rewards}
    for t in range(H + 1):
        for s in range(mdp.n_states):
            here = f"{t}:{mdp.states[s]}"
            if t == H:
                choices[here] = [("stay", {here: Fraction(1)})]
                continue
            choices[here] = []
            for c in mdp.choices(s):
                a = mdp.action(c)
                choices[here].append((a, {f"{t + 1}:{mdp.states[x]}": p for x, p in env(t, c).items() if p}))
                for name, values in mdp.rewards.items():
                    rewards[name][(here, a)] = values.fractions()[c]
    labels = {name: [f"{t}:{mdp.states[s]}" for t in range(H + 1) for s in range(mdp.n_states) if mask[s]]
              for name, mask in mdp.labels.items()}
    initial = {f"0:{mdp.states[s]}": p for s, p in mdp.initial_distribution()}
    return make_mdp(names, choices, rewards, labels, initial)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(cases(), st.sampled_from(CONSTRAINTS))
def test_alignment_margin_against_sampled_environments(case, text):
    """A proved alignment lemma's η_lo: the kernel accepts it, and in every sampled environment within
    the largest η the kernel accepts (unrolled over the episode, exact engine) the lemma is proved."""
    from proofs.api.prove import discharge
    from proofs.core.certificates import AlignmentBody
    from proofs.core.errors import Location
    from proofs.core.rational import format_rational
    from proofs.core.statement import objective_data
    from proofs.engines.select import discharge_alignment
    from proofs.kernel.check_alignment import check_alignment_certificate
    from proofs.spec.parse import parse_constraint

    mdp, _, epsilon, seed = case
    assume(not mdp.is_credal)
    objective, c = Objective("r", H), parse_constraint(text, Location("test"))
    fields, _ = discharge("alignment", mdp, objective, epsilon, desirable=(c,))
    assume(fields["status"] == "proved" and "eta" in fields["values"])
    eta = Eta.from_json(fields["values"]["eta"])
    assert 0 < eta.lo <= 1 and eta.hi is None
    fields = {**fields, "objective": objective_data(objective), "epsilon": format_rational(epsilon)}
    check_alignment_certificate(AlignmentBody.from_json(fields), "proved", mdp, objective, epsilon, (c,))

    def accepted(k: int) -> bool:
        forged = {**fields, "values": {**fields["values"], "eta": Eta(Fraction(k, 4096)).to_json()}}
        try:
            check_alignment_certificate(AlignmentBody.from_json(forged), "proved", mdp, objective, epsilon, (c,))
        except CheckFailure as failure:
            assert "margin" in str(failure)
            return False
        return True

    lo, hi = int(eta.lo * 4096), 4097   # the largest grid point the kernel accepts: it is what is sound
    while hi - lo > 1:
        lo, hi = ((lo + hi) // 2, hi) if accepted((lo + hi) // 2) else (lo, (lo + hi) // 2)
    assert hi == 4097 or not accepted(hi)
    rng = random.Random(seed)
    for _ in range(4):
        layered = _layered(mdp, _sampled(mdp, Fraction(lo, 4096), rng))
        result = discharge_alignment(layered, objective, epsilon, (c,))
        assert result.status == "proved", (eta.lo, result.status, [str(r.worst) for r in result.constraints])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from(CONSTRAINTS))
def test_closed_form_margins_beyond_the_exact_limit(case, text):
    """Beyond the exact limit (forced here on tiny models) a proved policy lemma and π₀ ⊨ Φ get η_lo
    in closed form: the kernel accepts it through the closed form alone, and in every sampled
    environment within it the lemma, and Φ under π₀, still hold (exact evaluation)."""
    from proofs.core.errors import Location
    from proofs.engines import eta as engine_eta
    from proofs.kernel.check import Kernel
    from proofs.kernel.direct import ball_value, evaluate_constraint
    from proofs.spec.parse import parse_constraint

    mdp, policy, epsilon, seed = case
    assume(not mdp.is_credal)
    objective, c = Objective("r", H), parse_constraint(text, Location("test"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_eta, "EXACT_WORK", 0)
        result, _, table = _certified(mdp, objective, policy, epsilon)   # the kernel checks its η too
        value = evaluate_constraint(mdp, objective, table, c)
        safety = engine_eta.closed_safety_eta(mdp, objective, (c,), [value]) \
            if c.comparison.decide(value.lo, value.hi, c.threshold) else None
    rng = random.Random(seed)
    if result.status == "proved" and result.eta is not None:
        assert result.eta.hi is None
        for _ in range(10):
            assert _gap(mdp, objective, table, _sampled(mdp, result.eta.lo, rng)) <= epsilon
    if safety is not None:
        with pytest.MonkeyPatch.context() as patch:   # accepted by the closed form, never the exact ball
            patch.setattr("proofs.kernel.direct.ball_value", lambda *a, **k: pytest.fail("exact ball used"))
            Kernel._safety_margin(safety, mdp, objective, (c,), table, [value])
        for _ in range(10):
            env = _sampled(mdp, safety.lo, rng)
            rows = [{k: [(x, p, p) for x, p in env(t, k).items()] for k in range(mdp.n_choices)} for t in range(H)]
            assert c.comparison.holds(ball_value(mdp, objective, table, c, Fraction(0), rows), c.threshold)


def _discounted_value(mdp, d: Fraction, rows: dict[int, dict[int, Fraction]], choice: list[int]) -> Fraction:
    """J of the stationary deterministic ``choice`` in the stationary environment ``rows``, exactly."""
    n, reward = mdp.n_states, mdp.rewards["r"].fractions()
    a = [[Fraction(int(i == j)) - d * rows[choice[i]].get(j, Fraction(0)) for j in range(n)] for i in range(n)]
    v = solve_exact(a, [reward[choice[i]] for i in range(n)])
    return sum((p * v[s] for s, p in mdp.initial_distribution()), Fraction(0))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_closed_form_margin_with_the_geometric_horizon(case):
    """A proved policy lemma with γ = 9/10 gets η_lo in closed form (c_J = range·γ/(1 − γ)²), which
    the kernel accepts; in stationary environments sampled within it, J*_E − J_E(π₀) ≤ ε exactly
    (J*_E over every deterministic stationary policy, optimal for a discounted MDP)."""
    import itertools

    mdp, policy, epsilon, seed = case
    assume(not mdp.is_credal and mdp.n_states <= 3)
    objective, d = Objective("r", None, Fraction(9, 10)), Fraction(9, 10)
    result, _, _ = _certified(mdp, objective, policy, epsilon)   # the kernel checks its η too
    assume(result.status == "proved" and result.eta is not None)
    assert result.eta.hi is None
    # nature at its worst within η_lo (best for J*, worst for π₀), over the first T steps exactly;
    # the steps after T move the gap by at most 2·γ^T·max|r|/(1 − γ)
    from proofs.kernel.bellman import ExactBellman
    from proofs.kernel.check_policy import eta_gap

    t_steps, reward = 120, mdp.rewards["r"]
    largest = max((abs(r) for r in reward.fractions()), default=Fraction(0))
    truncated = Objective("r", t_steps, d)
    up, down = (ExactBellman(mdp, reward, d, (result.eta.lo, high)) for high in (True, False))
    assert eta_gap(mdp, truncated, policy, up, down) <= epsilon + 2 * d**t_steps * largest / (1 - d)
    pi0 = [int(policy.at(0).choice[policy.at(0).start[s]]) for s in range(mdp.n_states)]
    rng = random.Random(seed)
    for _ in range(5):
        env = _sampled(mdp, result.eta.lo, rng)
        rows = {c: env(0, c) for c in range(mdp.n_choices)}   # one row per choice: a stationary environment
        best = max(_discounted_value(mdp, d, rows, list(choice))
                   for choice in itertools.product(*(mdp.choices(s) for s in range(mdp.n_states))))
        assert best - _discounted_value(mdp, d, rows, pi0) <= epsilon
