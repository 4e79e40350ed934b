"""Sound float enclosures on credal (interval) models (`proofs.semantics.sound`, "Credal models").

Every enclosure must contain the exact robust value (`exact`, `Fraction` arithmetic, nature's
greedy within the intervals) at every state: nature minimising and maximising, optimisation
(maximise and minimise) and policy evaluation (time-dependent, stochastic and stationary
policies), bounded reachability, until, G, rewards (possibly negative, discounted or not) and the
geometric horizon, for several horizons. On these small models the enclosures are narrow
(width at most 1e-9 relative). End to end, ``proofs eval`` on a generated 1e4-state interval
model takes the float path and agrees with Storm's float ROBUST engine within its precision.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.mdps import credal_mdps, make_mdp, random_mdp, widened

from proofs.core.formula import (
    Comparison,
    Eventually,
    Globally,
    Label,
    Not,
    Or,
    ProbabilityConstraint,
    RewardConstraint,
    Until,
)
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.kernel.episode import Quantity, constraint_quantity, objective_quantity
from proofs.semantics import exact, sound
from proofs.semantics.evaluate import optimal_quantity, quantity_value, use_exact

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RELATIVE_WIDTH = 1e-9


# -- models and quantities ---------------------------------------------------------------------------
def quantities(mdp: Mdp, k: int | None) -> list[Quantity]:
    """F, U and G probabilities, a non-negative cost and the signed reward ``r`` (discounted once)
    on the episode of k steps (None: the geometric horizon with γ = 9/10)."""
    episode = Objective("r", k) if k is not None else Objective("r", "geometric", Fraction(9, 10))
    bound = k if k is not None else 3
    constraints = [
        ProbabilityConstraint(Comparison.LE, Fraction(1, 2), Eventually(Label("goal"), bound)),
        ProbabilityConstraint(Comparison.LE, Fraction(1, 2), Until(Not(Label("fatal")), Label("goal"), bound)),
        ProbabilityConstraint(Comparison.GE, Fraction(1, 2), Globally(Or(Label("goal"), Not(Label("fatal"))), bound)),
        RewardConstraint("c", Comparison.LE, Fraction(1), bound),
    ]
    out = [constraint_quantity(mdp, episode, c) for c in constraints]
    out.append(objective_quantity(mdp, episode))
    if k is not None:
        out.append(objective_quantity(mdp, Objective("r", k, Fraction(9, 10))))
    else:   # the geometric fixed point itself, unbounded reach-avoid
        out.append(constraint_quantity(mdp, episode, ProbabilityConstraint(
            Comparison.LE, Fraction(1, 2), Until(Not(Label("fatal")), Label("goal"), None))))
    return out


def mixed_layer(mdp: Mdp) -> PolicyLayer:
    """Every state mixes its choices uniformly."""
    return PolicyLayer.from_table(mdp, {s: [(c, Fraction(1, len(mdp.choices(s)))) for c in mdp.choices(s)]
                                        for s in range(mdp.n_states)})


def assert_encloses(box: sound.Box, values: list[Fraction], what: str) -> None:
    lo, hi = box
    for s, v in enumerate(values):
        assert Fraction(float(lo[s])) <= v <= Fraction(float(hi[s])), \
            f"{what}: state {s}: exact {v} ({float(v)}) not in [{lo[s]!r}, {hi[s]!r}]"
        assert hi[s] - lo[s] <= RELATIVE_WIDTH * max(1.0, abs(float(v))), f"{what}: state {s}: too wide {hi[s] - lo[s]}"


# -- the enclosure contains the exact value ----------------------------------------------------------
@given(credal_mdps(), st.sampled_from([1, 2, 4, 7, None]), st.integers(0, 2**32 - 1))
@SETTINGS
def test_enclosure_contains_exact_value(mdp, k, seed):
    em, sm = exact.ExactModel.of(mdp), sound.SoundModel.of(mdp)
    rng = np.random.default_rng(seed)
    for q in quantities(mdp, k):
        for maximise in (True, False):
            for nature in (-1, 1):
                what = f"{q.description}, k={k}, {'max' if maximise else 'min'}, nature {nature}"
                values, policy = exact.optimise(em, q, maximise=maximise, nature=nature)
                box, _ = sound.optimise(sm, q, maximise=maximise, nature=nature)
                assert_encloses(box, values, f"optimum of {what}")
        # policy evaluation: exact's optimal policy, a random deterministic one, a mixed one
        random_layer = PolicyLayer.deterministic(mdp, np.array(
            [int(rng.integers(mdp.choice_start[s], mdp.choice_start[s + 1])) for s in range(mdp.n_states)]))
        policies = [exact.optimise(em, q, maximise=True)[1], Policy.stationary(random_layer),
                    Policy.stationary(mixed_layer(mdp))]
        if k is not None and k > 1:
            policies.append(Policy((random_layer, mixed_layer(mdp))))
        for i, policy in enumerate(policies):
            for nature in (-1, 1):
                values = exact.evaluate_policy(em, q, policy, nature=nature)
                box = sound.evaluate_policy(sm, q, policy, nature=nature)
                assert_encloses(box, values, f"policy {i} on {q.description}, k={k}, nature {nature}")


@given(credal_mdps(), st.sampled_from([1, 3, 6]))
@settings(SETTINGS, max_examples=30)
def test_public_api_float_path_encloses_exact(mdp, k):
    """`optimal_quantity` and `quantity_value` with ``exact_mode=False`` (the float path) contain
    their exact results (``exact_mode=True``), for both directions and nature on either side."""
    assert not use_exact(mdp, k, False, credal_floats=True) and use_exact(mdp, k, False)
    for q in quantities(mdp, k):
        for maximise in (True, False):
            for helps in (False, True):
                ex = optimal_quantity(mdp, q, maximise=maximise, nature_helps=helps, exact_mode=True)
                fl = optimal_quantity(mdp, q, maximise=maximise, nature_helps=helps, exact_mode=False)
                assert ex.value.lo == ex.value.hi
                assert fl.value.lo <= ex.value.lo <= fl.value.hi, (q.description, maximise, helps)
        for high in (False, True):
            ex_value = quantity_value(mdp, q, Policy.stationary(mixed_layer(mdp)), worst_high=high, exact_mode=True)
            fl_value = quantity_value(mdp, q, Policy.stationary(mixed_layer(mdp)), worst_high=high, exact_mode=False)
            assert fl_value.lo <= ex_value.lo <= fl_value.hi, (q.description, high)


def test_hand_worked_rows():
    """One choice whose successors a, b, c are worth 0, 1 and 2 one step later, with intervals
    [1/10, 2/5], [1/5, 3/5], [1/5, 1/2]: every successor gets its lower bound and the free mass
    1/2 goes greedily to the lowest (nature minimises: a +3/10, b +1/5, so 2/5·1 + 1/5·2 = 4/5) or
    highest values (maximises: c +3/10, b +1/5, so 1/2·2 + 2/5·1 = 7/5)."""
    mdp = make_mdp(["s", "a", "b", "c"],
                   {"s": [("go", {"a": ("1/10", "2/5"), "b": ("1/5", "3/5"), "c": ("1/5", "1/2")})],
                    "a": [("stay", {"a": 1})], "b": [("stay", {"b": 1})], "c": [("stay", {"c": 1})]},
                   rewards={"r": {("b", "stay"): 1, ("c", "stay"): 2}})
    q = objective_quantity(mdp, Objective("r", 2))
    for nature, expected in ((-1, Fraction(4, 5)), (1, Fraction(7, 5))):
        (lo, hi), _ = sound.optimise(sound.SoundModel.of(mdp), q, nature=nature)
        assert Fraction(float(lo[0])) <= expected <= Fraction(float(hi[0]))
        assert hi[0] - lo[0] < 1e-14


def test_point_intervals_agree_with_the_point_model():
    """A credal model whose intervals are points has the point model's values."""
    mdp = random_mdp(200, 3)
    assert mdp.probability is not None
    credal = replace(mdp, probability=None, interval=(mdp.probability, mdp.probability))
    q = objective_quantity(mdp, Objective("r", 10))
    point, _ = sound.optimise(sound.SoundModel.of(mdp), q)
    box, _ = sound.optimise(sound.SoundModel.of(credal), q)
    assert np.all(box[0] <= point[1]) and np.all(point[0] <= box[1])
    assert float(np.max(box[1] - box[0])) < 1e-9


# -- end to end against Storm ------------------------------------------------------------------------
def test_proofs_eval_on_a_large_interval_model_uses_floats_and_agrees_with_storm():
    """``proofs eval`` on a generated 1e4-state interval model (every p widened to [0.9p, 1.1p]) at
    k = 20: the work is beyond `EXACT_LIMIT`, so the float path answers (an enclosure, not a
    point), and Storm's float ROBUST value lies within 1e-6 (its precision) of it."""
    stormpy = pytest.importorskip("stormpy")

    from proofs.interop import storm
    from proofs.report.evaluation import evaluate_model

    mdp = widened(random_mdp(10_000, 0))
    k = 20
    asked = [(f'Pmax=? [ F<={k} "goal" ]', f'Pmax=? [F<={k} "goal"]'),
             (f'Pmin=? [ F<={k} "goal" ]', f'Pmin=? [F<={k} "goal"]'),
             (f'R{{"r"}}min=? [ C<={k} ]', f'R{{"r"}}min=? [C<={k}]'),
             (f'R{{"r"}}max=? [ C<={k} ]', f'R{{"r"}}max=? [C<={k}]')]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.drn"
        path.write_text(storm.to_drn(mdp), encoding="utf-8")
        rows = evaluate_model(path, None, None, [p for p, _ in asked])["queries"]
        model = stormpy.build_model_from_drn[stormpy.Interval](str(path))
    for (prop, query), row in zip(asked, rows):
        lo, hi = Fraction(row["value"]["lo"]), Fraction(row["value"]["hi"])
        assert lo < hi, f"{prop}: an exact point, so not the float path"
        assert hi - lo <= RELATIVE_WIDTH * max(1, abs(lo)), f"{prop}: enclosure too wide [{lo}, {hi}]"
        values = storm.check(model, query, exact=False, nature="robust")
        initial = list(model.initial_states)
        theirs = sum(float(values[s]) for s in initial) / len(initial)
        tolerance = 1e-6 * max(1.0, abs(theirs))
        assert float(lo) - tolerance <= theirs <= float(hi) + tolerance, f"{prop}: ours [{lo}, {hi}], Storm {theirs}"
