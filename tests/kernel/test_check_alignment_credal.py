"""The alignment lemma on credal (interval) models, finite horizons: the engine's bounds bracket
the true worst value over the ε-optimal deterministic policies (brute force on tiny models), every
verdict is re-checked by the kernel, and forged witnesses are rejected."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from proofs.core.certificates import AlignmentBody, Certificate
from proofs.core.errors import CheckFailure
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.engines.alignment import certificate_body
from proofs.engines.lagrangian_float import discharge_restricted
from proofs.engines.robust import discharge_credal
from proofs.kernel.check_alignment import check_alignment_certificate
from proofs.kernel.check_alignment_float import check_float_alignment
from proofs.kernel.horizon import restrict
from proofs.semantics.evaluate import evaluate_constraint, evaluate_objective
from proofs.spec.parse import parse_constraint
from proofs.core.errors import Location
from proofs.worldmodel.structured import read_document

H = 3


def _model(rows: list[list[list[tuple[str, str]]]], fatal: int, rewards: list[list[int]]) -> object:
    """States s0 … s{n-1}; rows[s][a] = [(lo, hi)] per successor s0 …; state ``fatal`` is labelled and
    absorbing (so that the ε-optimal policies the engine builds, which act J-optimally once c is
    decided, are among the brute force's Markov policies)."""
    n = len(rows)
    states = {}
    for s in range(n):
        actions = {}
        if s == fatal:   # absorbing: "c decided" is then a state, which Markov policies can see
            states[f"s{s}"] = {"actions": {"stay": {"to": {f"s{s}": "1"}}}, "labels": ["fatal"]}
            continue
        for a, row in enumerate(rows[s]):
            to = {f"s{t}": ([lo, hi] if lo != hi else lo) for t, (lo, hi) in enumerate(row) if hi != "0"}
            actions[f"a{a}"] = {"to": to, "rewards": {"r": str(rewards[s][a])}}
        states[f"s{s}"] = {"actions": actions, **({"labels": ["fatal"]} if s == fatal else {})}
    return read_document({"initial": "s0", "labels": ["fatal"], "rewards": ["r"], "states": states},
                         Path("generated.json"))


def _interval_rows(draw: st.DrawFn, n: int) -> list[tuple[str, str]]:
    """Successor intervals [lo, hi] (tenths) that contain a distribution."""
    while True:
        centre = draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))
        if sum(centre) == 0:
            continue
        total = sum(centre)
        point = [Fraction(c, total) for c in centre]
        widths = draw(st.lists(st.sampled_from([0, 0, 1, 2]), min_size=n, max_size=n))
        out = []
        for p, w in zip(point, widths):
            lo, hi = max(Fraction(0), p - Fraction(w, 10)), min(Fraction(1), p + Fraction(w, 10))
            out.append((str(lo), str(hi)))
        return out


@st.composite
def credal_models(draw: st.DrawFn) -> tuple[object, str, Fraction]:
    n = draw(st.integers(2, 3))
    rows = [[_interval_rows(draw, n) for _ in range(2)] for _ in range(n)]
    rewards = [[draw(st.integers(0, 3)) for _ in range(2)] for _ in range(n)]
    mdp = _model(rows, fatal=n - 1, rewards=rewards)
    threshold = draw(st.sampled_from(["0", "0.1", "0.3", "0.5"]))
    epsilon = draw(st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(1), Fraction(3)]))
    return mdp, f'P<={threshold} [ F "fatal" ]', epsilon


def _deterministic_policies(mdp: object) -> list[Policy]:
    n = mdp.n_states  # type: ignore[attr-defined]
    options = [list(mdp.choices(s)) for s in range(n)]  # type: ignore[attr-defined]
    per_step = list(itertools.product(*options))
    out = []
    for steps in itertools.product(per_step, repeat=H):
        layers = tuple(PolicyLayer.deterministic(mdp, np.array(t, dtype=np.int64)) for t in steps)  # type: ignore[arg-type]
        out.append(Policy(layers))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(credal_models())
def test_the_bounds_bracket_the_worst_deterministic_policy(case: tuple[object, str, Fraction]) -> None:
    mdp, text, epsilon = case
    assume(mdp.is_credal)   # all widths 0 gives a point model, which the point engine decides (select.py)
    objective = Objective("r", horizon=H)
    constraint = parse_constraint(text, Location("test"))
    result = discharge_credal(mdp, objective, epsilon, [constraint])  # type: ignore[arg-type]
    assert result.status != "unknown" or result.constraints, result.reason
    row = result.constraints[0]
    j_star = max(evaluate_objective(mdp, objective, p).lo for p in _deterministic_policies(mdp))  # type: ignore[arg-type]
    assert result.j_star.lo == j_star
    worst = max(evaluate_constraint(mdp, objective, p, constraint).hi  # type: ignore[arg-type]
                for p in _deterministic_policies(mdp)
                if evaluate_objective(mdp, objective, p).lo >= j_star - epsilon)  # type: ignore[arg-type]
    assert row.worst.lo <= worst <= row.worst.hi
    # the kernel accepts the engine's certificate (every status)
    body = certificate_body(result, objective, epsilon)
    check_alignment_certificate(body, result.status, mdp, objective, epsilon, [constraint])  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(credal_models())
def test_the_float_path_is_sound_and_kernel_checked(case: tuple[object, str, Fraction]) -> None:
    """The same lemmas in float arithmetic (the path of models beyond the exact limit): the upper
    bound is above the worst deterministic ε-optimal policy, a decided verdict never contradicts the
    exact engine's, and the kernel's float checker accepts the certificate."""
    mdp, text, epsilon = case
    assume(mdp.is_credal and epsilon > 0)   # ε = 0 is below the float resolution of J*: the exact path's
    objective = Objective("r", horizon=H)
    constraint = parse_constraint(text, Location("test"))
    floated = discharge_restricted(restrict(mdp, H), objective, epsilon, [constraint])  # type: ignore[arg-type]
    exact = discharge_credal(mdp, objective, epsilon, [constraint])  # type: ignore[arg-type]
    assert {floated.status, exact.status} != {"proved", "refuted"}
    if not floated.constraints:
        return
    j_star = max(evaluate_objective(mdp, objective, p).lo for p in _deterministic_policies(mdp))  # type: ignore[arg-type]
    assert floated.j_star.lo <= j_star <= floated.j_star.hi
    worst = max(evaluate_constraint(mdp, objective, p, constraint).hi  # type: ignore[arg-type]
                for p in _deterministic_policies(mdp)
                if evaluate_objective(mdp, objective, p).lo >= j_star - epsilon)  # type: ignore[arg-type]
    assert worst <= floated.constraints[0].worst.hi
    body = certificate_body(floated, objective, epsilon)
    check_float_alignment(body, floated.status, mdp, objective, epsilon, [constraint], floated.arrays)  # type: ignore[arg-type]


CREDAL = Path(__file__).resolve().parents[1] / "worlds" / "models" / "credal-cliff.toml"


def _case(threshold: str, epsilon: Fraction) -> tuple[object, Objective, Fraction, list[object], object]:
    from proofs.worldmodel.load import load_mdp

    mdp = load_mdp(CREDAL)
    objective = Objective("r", horizon=5)
    constraints = [parse_constraint(f'P<={threshold} [ F "fatal" ]', Location("test"))]
    return mdp, objective, epsilon, constraints, discharge_credal(mdp, objective, epsilon, constraints)  # type: ignore[arg-type]


def _check(result: object, mdp: object, objective: Objective, epsilon: Fraction, constraints: list[object],
           edit: object = None) -> None:
    body = certificate_body(result, objective, epsilon)  # type: ignore[arg-type]
    doc = body.to_json()
    status = result.status  # type: ignore[attr-defined]
    if edit is not None:
        status = edit(doc) or status  # type: ignore[operator]
    forged = AlignmentBody.from_json({**doc, "objective": {"reward": "r", "horizon": 5, "discount": "1"},
                                      "epsilon": str(epsilon)})
    check_alignment_certificate(forged, status, mdp, objective, epsilon, constraints)  # type: ignore[arg-type]


def test_a_reward_hack_under_nature_is_refuted_and_checked() -> None:
    mdp, objective, epsilon, constraints, result = _case("0.1", Fraction(3, 4))
    assert result.status == "refuted"  # type: ignore[attr-defined]
    assert result.constraints[0].worst.lo == Fraction(2, 5)  # type: ignore[attr-defined]   # risky slips 0.4
    _check(result, mdp, objective, epsilon, constraints)


def test_undecided_bounds_are_unknown_with_the_gap() -> None:
    mdp, objective, epsilon, constraints, result = _case("0.2", Fraction(1, 10))
    assert result.status == "unknown"  # type: ignore[attr-defined]
    assert "[0, 3/10]" in result.reason  # type: ignore[attr-defined]
    _check(result, mdp, objective, epsilon, constraints)   # its witness is checked all the same


def test_forged_credal_witnesses_are_rejected() -> None:
    mdp, objective, epsilon, constraints, result = _case("0.3", Fraction(1, 10))
    assert result.status == "proved"  # type: ignore[attr-defined]
    _check(result, mdp, objective, epsilon, constraints)

    def smaller_lambda(doc: dict) -> None:   # the bound at another λ is not the claimed one
        doc["witness"]["constraints"][0]["lambda"] = "0"

    def lower_worst(doc: dict) -> None:      # claims a smaller upper bound than the witness gives
        doc["values"]["constraints"][0]["worst"]["hi"] = "1/5"
        doc["witness"]["constraints"][0]["lambda"] = doc["values"]["constraints"][0]["lambda"]

    def unsafe_attained(doc: dict) -> None:  # the risky policy is not robustly ε-optimal here
        doc["witness"]["constraints"][0]["attained"]["mixture"][0]["before_decided"]["steps"][0]["s0"] = "risky"

    for edit in (smaller_lambda, lower_worst, unsafe_attained):
        with pytest.raises(CheckFailure):
            _check(result, mdp, objective, epsilon, constraints, edit)


def test_forged_float_credal_certificates_are_rejected() -> None:
    """The float path's certificate on the credal cliff: accepted as made; rejected with a moved
    bound, with another multiplier, or against a model whose intervals nature may use otherwise."""
    import tomllib

    mdp, objective, epsilon, constraints, _ = _case("0.1", Fraction(3, 4))
    result = discharge_restricted(restrict(mdp, 5), objective, epsilon, constraints)  # type: ignore[arg-type]
    assert result.status == "refuted" and result.witness["arithmetic"] == "float"

    def checked(doc: dict, model: object = mdp) -> None:
        body = AlignmentBody.from_json({**doc, "objective": {"reward": "r", "horizon": 5, "discount": "1"},
                                        "epsilon": str(epsilon)})
        check_float_alignment(body, result.status, model, objective, epsilon, constraints, result.arrays)  # type: ignore[arg-type]

    doc = certificate_body(result, objective, epsilon).to_json()
    checked(doc)
    row, wit = doc["values"]["constraints"][0], doc["witness"]["constraints"][0]
    for forged in ({**doc, "values": {**doc["values"], "constraints": [{**row, "worst": {"lo": "9/20", "hi": "1/2"}}]}},
                   {**doc, "witness": {**doc["witness"], "constraints": [{**wit, "lambda": "1"}]}}):
        with pytest.raises(CheckFailure):
            checked(forged)
    text = CREDAL.read_text().replace('s3 = ["0.1", "0.4"]', 's3 = ["0.1", "0.2"]').replace('["0.6", "0.9"]', '["0.8", "0.9"]')
    kinder = read_document(tomllib.loads(text), CREDAL)   # nature lets the risky walk slip less
    with pytest.raises(CheckFailure):
        checked(doc, kinder)


def test_a_credal_alignment_certificate_is_written_and_checked(tmp_path: Path) -> None:
    import proofs

    model = proofs.load_model(CREDAL)
    r = proofs.prove_alignment(model, proofs.Objective("r", horizon=5), epsilon="3/4",
                               desirable=['P<=0.1 [ F "fatal" ]'])
    assert r.status is proofs.Status.REFUTED
    assert r.counterexample is not None and r.counterexample.action("s0") == "risky"
    Certificate.from_json(r.document(tmp_path / "x.json", provisional=True)[0])
