"""The kernel's direct evaluation of Φ under a policy on credal (interval) models.

The kernel's exact worst case over nature (`proofs.kernel.direct`) is compared with the untrusted
`proofs.semantics.evaluate.evaluate_constraint` on small random interval models, for every kind
of constraint, both comparison directions, finite and geometric horizons and randomised,
time-dependent policies; and a composition whose direct row claims a value other than nature's
worst case (one nature cannot reach, or one a kinder nature gives) is rejected.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofs.core.certificates import CompositionBody
from proofs.core.errors import CheckFailure, Location
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.kernel.check import Kernel
from proofs.kernel.direct import evaluate_constraint
from proofs.semantics import evaluate
from proofs.spec.parse import parse_constraint
from proofs.worldmodel.structured import read_document

CONSTRAINTS = ['P<=0.3 [ F "bad" ]', 'P>=0.3 [ F "bad" ]', 'P>=0.5 [ G !"bad" ]', 'P<=0.5 [ G "safe" ]',
               'P>=0.2 [ "safe" U "bad" ]', 'P<=0.2 [ F<=2 "bad" ]', 'P>0.2 [ G<=2 !"bad" ]',
               'R{"r"}<=1 [ C ]', 'R{"r"}>=1 [ C<=2 ]', 'R{"r"}<1 [ C ]']


def _row(draw: st.DrawFn, n: int) -> dict[str, object]:
    """Successor intervals [p − w, p + w] (w in tenths) around a random distribution p."""
    weights = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    weights[draw(st.integers(0, n - 1))] += 1
    out: dict[str, object] = {}
    for t, k in enumerate(weights):
        p, w = Fraction(k, sum(weights)), Fraction(draw(st.sampled_from([0, 1, 1, 2])), 10)
        lo, hi = max(Fraction(0), p - w), min(Fraction(1), p + w)
        if hi > 0:
            out[f"s{t}"] = [str(lo), str(hi)] if lo != hi else str(p)
    return out


@st.composite
def credal_models(draw: st.DrawFn) -> Mdp:
    n = draw(st.integers(2, 4))
    states = {}
    for s in range(n):
        labels = [name for name in ("bad", "safe") if draw(st.booleans())]
        actions = {f"a{a}": {"to": _row(draw, n), "rewards": {"r": str(draw(st.integers(-2, 3)))}}
                   for a in range(draw(st.integers(1, 2)))}
        states[f"s{s}"] = {"actions": actions, "labels": labels}
    return read_document({"initial": "s0", "labels": ["bad", "safe"], "rewards": ["r"], "states": states},
                         Path("generated.json"))


def _policy(draw: st.DrawFn, mdp: Mdp, layers: int) -> Policy:
    """A randomised policy, one table per step (the last repeats)."""
    out = []
    for _ in range(layers):
        table = {}
        for s in range(mdp.n_states):
            choices = list(mdp.choices(s))
            weights = draw(st.lists(st.integers(0, 3), min_size=len(choices), max_size=len(choices)))
            total = sum(weights) or 1
            table[s] = [(c, Fraction(w, total)) for c, w in zip(choices, weights) if w] or [(choices[0], Fraction(1))]
        out.append(PolicyLayer.from_table(mdp, table))
    return Policy(tuple(out))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), mdp=credal_models(), text=st.sampled_from(CONSTRAINTS),
       objective=st.sampled_from([Objective("r", horizon=3), Objective("r", horizon=1),
                                  Objective("r", horizon="geometric", discount="4/5")]))
def test_the_kernel_meets_the_exact_worst_case_over_nature(data: st.DataObject, mdp: Mdp, text: str,
                                                          objective: Objective) -> None:
    constraint = parse_constraint(text, Location("test"))
    policy = _policy(data.draw, mdp, data.draw(st.integers(1, 3)))
    kernel = evaluate_constraint(mdp, objective, policy, constraint)
    reference = evaluate.evaluate_constraint(mdp, objective, policy, constraint)
    assert reference.is_exact
    if objective.horizon is not None and mdp.is_credal:
        assert kernel == reference   # exact backward induction: the very number
    else:
        assert kernel.lo <= reference.lo <= kernel.hi and kernel.width <= Fraction(1, 10**9), (kernel, reference)


# -- a composition's direct rows on a credal model ----------------------------------------------------------

# From s0, "go" reaches "bad" with probability in [1/10, 3/10], else "goal"; both absorbing.
MODEL = {"initial": "s0", "labels": ["bad"], "rewards": ["r"], "states": {
    "s0": {"actions": {"go": {"to": {"bad": ["1/10", "3/10"], "goal": ["7/10", "9/10"]}, "rewards": {"r": "1"}}}},
    "bad": {"labels": ["bad"], "actions": {"stay": {"to": {"bad": "1"}}}},
    "goal": {"actions": {"stay": {"to": {"goal": "1"}}}}}}


def _direct(status: str, text: str, value: str, holds: bool | None, objective: Objective) -> None:
    mdp = read_document(MODEL, Path("credal.json"))
    constraint = parse_constraint(text, Location("test"))
    body = CompositionBody.from_json({"values": {"premises": ["a", "p"], "direct": [
        {"constraint": str(constraint), "threshold": str(constraint.threshold), "value": {"lo": value, "hi": value},
         "holds": holds}]}})
    policy = Policy.stationary(PolicyLayer.from_table(mdp, {s: [(mdp.choices(s).start, Fraction(1))]
                                                            for s in range(mdp.n_states)}))
    Kernel._direct(status, body, mdp, objective, (constraint,), policy)


FINITE, GEOMETRIC = Objective("r", horizon=2), Objective("r", horizon="geometric", discount="1/2")


def test_nature_s_worst_case_is_accepted_in_each_direction() -> None:
    # within 2 steps, "bad" is reached at step 1 with nature's probability 3/10 at most, 1/10 at least
    _direct("refuted", 'P<=0.2 [ F "bad" ]', "3/10", False, FINITE)
    _direct("proved", 'P>=0.1 [ F "bad" ]', "1/10", True, FINITE)
    _direct("refuted", 'P>=0.8 [ G !"bad" ]', "7/10", False, FINITE)      # G: nature makes "bad" likely
    # geometric (continue with probability 1/2): s1 = s_T counts, P(F bad) = p_bad, worst 3/10
    _direct("refuted", 'P<=0.2 [ F "bad" ]', "3/10", False, GEOMETRIC)
    # reward R = 1 at s0 only: the same whatever nature does
    _direct("proved", 'R{"r"}<=1 [ C ]', "1", True, FINITE)


@pytest.mark.parametrize(("status", "text", "value", "holds", "objective"), [
    ("refuted", 'P<=0.2 [ F "bad" ]', "7/20", False, FINITE),          # above nature's max: unreachable
    ("proved", 'P<=0.2 [ F "bad" ]', "1/5", True, FINITE),              # the point in the middle: not the worst
    ("proved", 'P<=0.2 [ F "bad" ]', "1/10", True, FINITE),             # nature's best, not its worst
    ("proved", 'P>=0.8 [ G !"bad" ]', "9/10", True, FINITE),            # G: the complement taken the wrong way
    ("proved", 'P>=0.1 [ F "bad" ]', "3/10", True, FINITE),             # >=: nature minimises, not maximises
    ("refuted", 'P<=0.2 [ F "bad" ]', "7/20", False, GEOMETRIC),
    ("proved", 'P<=0.2 [ F "bad" ]', "1/5", True, GEOMETRIC),
])
def test_a_direct_row_other_than_nature_s_worst_case_is_rejected(status: str, text: str, value: str,
                                                                  holds: bool, objective: Objective) -> None:
    with pytest.raises(CheckFailure, match=r"direct evaluation step: values\.direct\[0\]"):
        _direct(status, text, value, holds, objective)


def test_a_credal_geometric_evaluation_needs_beta_below_one() -> None:
    """The fixed point's enclosure rests on the contraction: β = 1 is refused, not looped on."""
    mdp = read_document(MODEL, Path("credal.json"))
    policy = Policy.stationary(PolicyLayer.from_table(mdp, {s: [(mdp.choices(s).start, Fraction(1))]
                                                            for s in range(mdp.n_states)}))
    undiscounted = Objective("r", horizon="geometric", discount="1/2")
    object.__setattr__(undiscounted, "discount", Fraction(1))   # not constructible: forged
    with pytest.raises(CheckFailure, match="β < 1"):
        evaluate_constraint(mdp, undiscounted, policy, parse_constraint('P<=0.2 [ F "bad" ]', Location("test")))
