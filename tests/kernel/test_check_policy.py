"""The policy-lemma checker: it accepts every engine certificate and rejects every forgery.

One forged certificate per rejection path; each asserts that the message names the step and
the failed inequality.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.mdps import make_mdp, small_mdps

from proofs.core.certificates import Certificate, PolicyBody
from proofs.core.errors import CheckFailure
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.core.rational import format_rational
from proofs.core.schema import FieldError, validate_fields
from proofs.core.statement import objective_data
from proofs.engines.policy import discharge_policy
from proofs.kernel import bellman
from proofs.kernel.check_policy import _check_closed, check_policy_certificate
from proofs.policy.canonical import reachable_table
from proofs.semantics.evaluate import evaluate_objective, optimal

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MODEL = make_mdp(
    ["s0", "s1", "s2", "far"],
    {"s0": [("a", {"s0": "1/2", "s1": "1/2"}), ("b", {"s2": 1})],
     "s1": [("a", {"s1": 1}), ("b", {"s0": 1})],
     "s2": [("a", {"s2": 1})],
     "far": [("a", {"s0": 1})]},
    rewards={"r": {("s0", "a"): 1, ("s0", "b"): 3, ("s1", "a"): 2, ("s1", "b"): "1/2", ("far", "a"): 5}},
)
FINITE, GEOMETRIC = Objective("r", 3), Objective("r", None, Fraction(9, 10))


def policy(table: dict[str, dict[str, str | int]], mdp: Mdp = MODEL) -> Policy:
    rows = {mdp.state_index[s]: [(mdp.choice_of(mdp.state_index[s], a), Fraction(p)) for a, p in d.items()]
            for s, d in table.items()}
    return Policy.stationary(PolicyLayer.from_table(mdp, rows))


MIXED = policy({"s0": {"a": "1/2", "b": "1/2"}, "s1": {"a": 1}, "s2": {"a": 1}})  # never reaches "far"


def certify(objective: Objective, pi: Policy = MIXED, epsilon: Fraction = Fraction(1), exact: bool = True,
            mdp: Mdp = MODEL) -> tuple[dict, dict]:
    """The engine's certificate fields as JSON (to forge), with its status, and its arrays."""
    result = discharge_policy(mdp, objective, pi, epsilon, exact_mode=exact)
    fields = {**result.certificate_fields(objective, epsilon).to_json(), "status": result.status}
    # a certificate stores the objective and ε in its statement only; the fields alone carry them
    # beside the body, so that a test can forge them
    return {**fields, "objective": objective_data(objective), "epsilon": format_rational(epsilon)}, dict(result.arrays)


def check(cert: dict, arrays: dict | None = None, objective: Objective = FINITE, pi: Policy = MIXED,
          epsilon: Fraction = Fraction(1), mdp: Mdp = MODEL):
    """Read the (forged) fields as the kernel does (`Certificate.from_json`: the schema, then the
    typed body), then check them."""
    status = validate_fields(cert, "policy", ("values", "witness", "diagnosis"))
    return check_policy_certificate(PolicyBody.from_json(cert), status, mdp, objective, pi, epsilon, arrays)


def rejects(pattern: str, cert: dict, arrays: dict | None = None, objective: Objective = FINITE,
            pi: Policy = MIXED, epsilon: Fraction = Fraction(1), mdp: Mdp = MODEL) -> str:
    with pytest.raises(CheckFailure, match=pattern) as info:
        check(cert, arrays, objective, pi, epsilon, mdp)
    return str(info.value)


# -- acceptance -------------------------------------------------------------------------------
@st.composite
def policies(draw: st.DrawFn, mdp: Mdp) -> Policy:
    layers = []
    for _ in range(draw(st.integers(1, 2))):
        table = {}
        for s in range(mdp.n_states):
            picked = draw(st.lists(st.sampled_from(list(mdp.choices(s))), min_size=1, max_size=2, unique=True))
            weights = [draw(st.integers(1, 3)) for _ in picked]
            table[s] = [(c, Fraction(w, sum(weights))) for c, w in zip(picked, weights)]
        layers.append(PolicyLayer.from_table(mdp, table))
    return Policy(tuple(layers))


@given(st.data(), small_mdps(max_states=5), st.sampled_from([1, 4, None]), st.booleans(),
       st.sampled_from([Fraction(0), Fraction(1, 3), Fraction(2)]))
@SETTINGS
def test_the_kernel_accepts_every_engine_certificate(data, mdp, horizon, exact, epsilon):
    objective = Objective("r", horizon, Fraction(4, 5))
    pi = data.draw(policies(mdp))
    result = discharge_policy(mdp, objective, pi, epsilon, exact_mode=exact)
    cert = result.certificate_fields(objective, epsilon)
    table = reachable_table(mdp, pi, horizon)   # what `proofs prove` writes and the kernel reads
    checked = check_policy_certificate(cert, result.status, mdp, objective, table, epsilon, result.arrays)
    assert checked.status == result.status
    assert result.j_star.lo <= checked.j_star.lo <= checked.j_star.hi <= result.j_star.hi
    if exact:
        assert (checked.j_star, checked.j_policy, checked.gap) == (result.j_star, result.j_policy, result.gap)
    # the kernel's bounds contain the values of an independent evaluation (`proofs.semantics`)
    assert checked.j_star.contains(optimal(mdp, objective, exact_mode=True).value.value)
    if horizon is not None or len(reachable_table(mdp, pi, None).layers) == 1:
        assert checked.j_policy.contains(evaluate_objective(mdp, objective, pi, exact_mode=True).value)


def test_credal_certificates_are_checked_exactly_and_in_floats():
    credal = make_mdp(["s", "g", "b"],
                      {"s": [("risky", {"g": ("1/2", "3/4"), "b": ("1/4", "1/2")}), ("safe", {"b": (1, 1)})],
                       "g": [("stay", {"g": (1, 1)})], "b": [("stay", {"b": (1, 1)})]},
                      rewards={"r": {("s", "safe"): "1/2", ("g", "stay"): 1}})
    risky = policy({"s": {"risky": 1}, "g": {"stay": 1}, "b": {"stay": 1}}, credal)
    for objective in (Objective("r", 3), Objective("r", None, Fraction(1, 2))):
        cert, _ = certify(objective, risky, Fraction(0), mdp=credal)
        assert check(cert, None, objective, risky, Fraction(0), credal).status == "proved"
    epsilon = Fraction(1, 100)   # a float enclosure cannot show a gap of exactly 0
    cert, _ = certify(Objective("r", 3), risky, epsilon, exact=False, mdp=credal)
    assert cert["witness"]["arithmetic"] == "float"
    assert check(cert, None, Objective("r", 3), risky, epsilon, credal).status == "proved"
    cert, _ = certify(Objective("r", 3), risky, Fraction(0), mdp=credal)
    cert["witness"]["arithmetic"] = "float"   # exact claims: narrower than the kernel's float enclosures
    rejects("values", cert, mdp=credal, pi=risky, objective=Objective("r", 3), epsilon=Fraction(0))


# -- float arithmetic is sound ----------------------------------------------------------------
@given(st.data(), small_mdps(max_states=5), st.sampled_from([Fraction(1), Fraction(9, 10), Fraction(1, 3)]))
@settings(max_examples=60, deadline=None)
def test_float_operators_enclose_the_exact_operators(data, mdp, beta):
    values = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.1, 1 / 3, -2 / 3, 1e-300, 1e15]))
    w = np.array(data.draw(st.lists(values, min_size=mdp.n_states, max_size=mdp.n_states)), dtype=np.float64)
    pi = data.draw(policies(mdp)).at(0)
    exact_op, float_op = bellman.ExactBellman(mdp, mdp.rewards["r"], beta), bellman.FloatBellman(mdp, mdp.rewards["r"], beta)
    exact_w = [Fraction(float(x)) for x in w]
    for truth, (centre, err) in ((exact_op.optimal(exact_w)[0], float_op.optimal(w)),
                                 (exact_op.policy(pi, exact_w)[0], float_op.policy(pi, w))):
        for s in range(mdp.n_states):
            assert abs(Fraction(float(centre[s])) - truth[s]) <= err


# -- forged certificates: statement -----------------------------------------------------------
def test_wrong_epsilon_is_rejected():
    cert, _ = certify(FINITE)
    message = rejects(r"^statement: the certificate is for ε = 1, the obligation asks ε = 1/2$", cert,
                      epsilon=Fraction(1, 2))
    assert "ε" in message


@pytest.mark.parametrize("field, value", [("reward", "c"), ("horizon", 4), ("horizon", "geometric"), ("discount", "1/2")])
def test_a_changed_objective_is_rejected(field, value):
    cert, _ = certify(FINITE)
    cert["objective"][field] = value
    if value == "geometric":   # else the objective does not read: a geometric horizon needs a discount < 1
        cert["objective"]["discount"] = "9/10"
    rejects(r"^statement: the certificate's objective .* is not the obligation's \(reward 'r', horizon 3", cert)


def test_a_certificate_of_another_kind_is_rejected():
    """The checker is given a `PolicyBody`; a policy certificate whose lemma says ``alignment`` is
    read by the one parser as an alignment certificate, and its policy fields do not read as one."""
    doc = json.loads((ROOT / "certificates" / "cliff.walk-policy.json").read_text())
    doc["lemma"]["kind"] = "alignment"
    with pytest.raises(FieldError, match=r"^diagnosis: unknown field"):
        Certificate.from_json(doc)


# -- forged certificates: claimed values and verdict ------------------------------------------
@pytest.mark.parametrize("objective", [FINITE, GEOMETRIC], ids=["finite", "geometric"])
@pytest.mark.parametrize("exact", [True, False], ids=["exact", "float"])
def test_a_tampered_j_star_is_rejected(objective, exact):
    cert, arrays = certify(objective, exact=exact)
    cert["values"]["j_star"]["lo"] = cert["values"]["j_star"]["hi"] = "1000"
    rejects(r"^values\.j_star: the claimed lower end 1000 is not implied by the witness, which gives only "
            r"j_star ≥ \S+$", cert, arrays, objective)


@pytest.mark.parametrize("name", ["j_policy", "gap"])
def test_a_tampered_upper_end_is_rejected(name):
    cert, _ = certify(FINITE)
    cert["values"][name]["lo"], cert["values"][name]["hi"] = "-2000", "-1000"   # a non-empty enclosure
    rejects(rf"^values\.{name}: the claimed upper end -1000 is not implied by the witness, which gives only "
            rf"{name} ≤ \S+$", cert)


def test_a_wrong_verdict_is_rejected():
    cert, _ = certify(FINITE, epsilon=Fraction(1, 10))
    assert cert["status"] == "refuted"
    cert["status"] = "proved"
    rejects(r"^verdict: 'proved' needs J\* − J\(π₀\) ≤ ε, but the kernel shows only J\* − J\(π₀\) ≤ \S+ > ε = 1/10$",
            cert, epsilon=Fraction(1, 10))
    cert, _ = certify(FINITE, epsilon=Fraction(10))
    assert cert["status"] == "proved"
    cert["status"] = "refuted"
    rejects(r"^verdict: 'refuted' needs J\* − J\(π₀\) > ε, but the kernel shows only J\* − J\(π₀\) ≥ \S+ ≤ ε = 10$",
            cert, epsilon=Fraction(10))
    cert["status"] = "maybe"
    rejects(r"^status: expected 'proved' or 'refuted' or 'unknown', got the text 'maybe'\.", cert, epsilon=Fraction(10))


def test_a_verdict_the_float_bounds_cannot_decide_is_rejected():
    epsilon = discharge_policy(MODEL, FINITE, MIXED, Fraction(0)).gap.value  # ε = the exact gap
    cert, _ = certify(FINITE, epsilon=epsilon, exact=False)
    assert cert["status"] == "unknown"
    for status, pattern in (("proved", r"^verdict: 'proved' needs .* ≤ \S+ > ε = "),
                            ("refuted", r"^verdict: 'refuted' needs .* ≥ \S+ ≤ ε = ")):
        cert["status"] = status
        rejects(pattern, cert, epsilon=epsilon)


def test_an_unknown_verdict_claims_nothing_and_is_accepted():
    cert, _ = certify(FINITE, epsilon=Fraction(10))
    cert["status"] = "unknown"
    assert check(cert, epsilon=Fraction(10)).status == "unknown"


def test_a_changed_policy_no_longer_implies_the_values():
    always_a = policy({"s0": {"a": 1}, "s1": {"a": 1}})
    cert, _ = certify(FINITE)
    rejects(r"^values\.j_policy: the claimed (lower|upper) end \S+ is not implied by the witness", cert, pi=always_a)
    cert, _ = certify(GEOMETRIC)
    rejects(r"^witness\.policy: (U = W \+ 0 is not superharmonic|L = W − 0 is not subharmonic) at state 's0'",
            cert, objective=GEOMETRIC, pi=always_a)
    cert, arrays = certify(GEOMETRIC, exact=False)
    rejects(r"^witness\.policy: (U = W \+ \S+ is not superharmonic|L = W − \S+ is not subharmonic) at state 's0'",
            cert, arrays, objective=GEOMETRIC, pi=always_a)


def test_a_policy_that_reaches_an_undefined_state_is_rejected():
    cert, _ = certify(FINITE)
    rejects(r"^policy: undefined at state 's1', reached at step 1$", cert, pi=policy({"s0": {"a": 1}}))


# -- forged certificates: the geometric witness -----------------------------------------------
def test_u_not_superharmonic_at_one_state_is_rejected():
    cert, _ = certify(GEOMETRIC)
    cert["witness"]["optimal"]["values"]["s1"] = "19"  # V*(s1) = 20
    rejects(r"^witness\.optimal: U = W \+ 0 is not superharmonic at state 's1', action 'a': "
            r"\(T W\)\(s\) − W\(s\) = 1/10 \(± 0\) > \(1 − β\)·up = 0, i\.e\. \(T U\)\(s\) > U\(s\)$", cert,
            objective=GEOMETRIC)


def test_float_u_not_superharmonic_at_one_state_is_rejected():
    cert, arrays = certify(GEOMETRIC, exact=False)
    arrays["optimal"] = arrays["optimal"].copy()
    arrays["optimal"][1] -= 1e-3
    rejects(r"^witness\.optimal: U = W \+ \S+ is not superharmonic at state 's1', action 'a': "
            r"\(T W\)\(s\) − W\(s\) = \S+ \(± \S+\) > \(1 − β\)·up = \S+, i\.e\. \(T U\)\(s\) > U\(s\)$",
            cert, arrays, GEOMETRIC)


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "float"])
def test_a_larger_shift_is_valid_but_no_longer_implies_the_claims(exact):
    cert, arrays = certify(GEOMETRIC, exact=exact)
    cert["witness"]["optimal"]["shift"]["up"] = "5"  # U = W + 5 is still superharmonic: J* ≤ μ₀·W + 5 only
    rejects(r"^values\.j_star: the claimed upper end \S+ is not implied by the witness, which gives only "
            r"j_star ≤ \S+$", cert, arrays, GEOMETRIC)
    cert, arrays = certify(GEOMETRIC, exact=exact)
    cert["witness"]["policy"]["shift"]["down"] = "5"
    rejects(r"^values\.j_policy: the claimed lower end \S+ is not implied by the witness, which gives only "
            r"j_policy ≥ \S+$", cert, arrays, GEOMETRIC)


def test_the_float_error_bound_is_part_of_the_residual_test():
    """A shift that covers the float residual but not its error bound is rejected."""
    cert, arrays = certify(GEOMETRIC, exact=False)
    w = arrays["optimal"] - 1e-9
    tw, _ = bellman.FloatBellman(MODEL, MODEL.rewards["r"], GEOMETRIC.discount).optimal(w)
    up = Fraction(float(np.max(tw - w))) / (1 - GEOMETRIC.discount)  # exactly the float residual
    cert["witness"]["optimal"]["shift"]["up"] = f"{up.numerator}/{up.denominator}"
    rejects(r"^witness\.optimal: U = W \+ \S+ is not superharmonic at state '\w+', action '\w+': "
            r"\(T W\)\(s\) − W\(s\) = \S+ \(± \S+\) > \(1 − β\)·up = ", cert, {**arrays, "optimal": w}, GEOMETRIC)


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "float"])
def test_a_per_step_policy_on_the_geometric_horizon_is_checked_through_its_first_steps(exact):
    first_b = Policy((PolicyLayer.from_table(MODEL, {0: [(1, Fraction(1))]}), MIXED.at(0)))
    cert, arrays = certify(GEOMETRIC, first_b, exact=exact)
    checked = check(cert, arrays, GEOMETRIC, first_b)
    assert checked.j_policy.contains(Fraction(3))  # b at step 0 earns 3, then s2 earns nothing
    rejects(r"^(values\.j_policy: the claimed|witness\.policy)", cert, arrays, GEOMETRIC, MIXED)


def test_a_shift_too_small_is_rejected():
    cert, arrays = certify(GEOMETRIC, exact=False)
    cert["witness"]["optimal"]["shift"] = {"down": "0", "up": "0"}
    arrays["optimal"] = arrays["optimal"] - 1e-9
    rejects(r"^witness\.optimal: U = W \+ 0 is not superharmonic at state", cert, arrays, GEOMETRIC)


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "float"])
def test_l_not_subharmonic_at_one_state_is_rejected(exact):
    cert, arrays = certify(GEOMETRIC, exact=exact)
    if exact:
        cert["witness"]["policy"]["values"]["s0"] = "100"
    else:
        arrays["policy"] = arrays["policy"].copy()
        arrays["policy"][0] += 1e-3
    rejects(r"^witness\.policy: L = W − \S+ is not subharmonic at state 's0': W\(s\) − \(T W\)\(s\) = \S+ "
            r"\(± \S+\) > \(1 − β\)·down = \S+, i\.e\. \(T L\)\(s\) < L\(s\)$", cert, arrays, GEOMETRIC)


@pytest.mark.parametrize("path, pattern", [
    (("witness", "optimal", "shift"), r"^witness\.optimal\.shift: this field is missing\."),
    (("witness", "policy"), r"^witness\.policy: this field is missing\."),
    (("witness", "optimal", "shift", "up"), r"^witness\.optimal\.shift\.up: this field is missing\."),
    (("witness", "policy", "values", "s1"), r"^witness\.policy\.values: no value for state 's1'$"),
    (("witness", "arithmetic"), r"^witness\.arithmetic: this field is missing\."),
    (("witness",), r"^witness: this field is missing\."),
    (("values", "gap"), r"^values\.gap: this field is missing\."),
    (("status",), r"^status: this field is missing\."),
])
def test_a_missing_field_is_rejected(path, pattern):
    cert, _ = certify(GEOMETRIC)
    holder = cert
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    rejects(pattern, cert, objective=GEOMETRIC)


def test_a_missing_or_malformed_sidecar_array_is_rejected():
    cert, arrays = certify(GEOMETRIC, exact=False)
    rejects(r"^witness\.optimal\.array: the sidecar has no float64 array 'optimal' of length 4$",
            cert, {"policy": arrays["policy"]}, GEOMETRIC)
    rejects(r"^witness\.policy\.array: the sidecar has no float64 array 'policy' of length 4$",
            cert, {**arrays, "policy": arrays["policy"].astype(np.float32)}, GEOMETRIC)
    broken = arrays["optimal"].copy()
    broken[2] = np.nan
    rejects(r"^witness\.optimal\.array: 'optimal' holds a NaN or infinite value on a checked state$",
            cert, {**arrays, "optimal": broken}, GEOMETRIC)


def test_malformed_witness_entries_are_rejected():
    cert, _ = certify(GEOMETRIC)
    cert["witness"]["optimal"]["values"]["nowhere"] = "1"
    rejects(r"^witness\.optimal\.values: 'nowhere' is not a state of the model$", cert, objective=GEOMETRIC)
    cert, _ = certify(GEOMETRIC)
    cert["witness"]["optimal"]["values"]["s0"] = "lots"
    rejects(r"^witness\.optimal\.values\.s0: 'lots' is not a number", cert, objective=GEOMETRIC)
    cert, _ = certify(GEOMETRIC)
    cert["witness"]["optimal"]["shift"]["up"] = 1
    rejects(r"^witness\.optimal\.shift\.up: expected a number written as text, such as \"1/2\", got the number 1\.",
            cert, objective=GEOMETRIC)
    cert["witness"]["arithmetic"] = "decimal"
    rejects(r"^witness\.arithmetic: expected 'exact' or 'float', got the text 'decimal'\.", cert, objective=GEOMETRIC)


def test_a_witness_of_the_wrong_kind_is_rejected():
    cert, _ = certify(FINITE)
    cert["witness"]["steps"] = 2
    rejects(r"^witness: a finite horizon 3 needs kind 'backward-induction' with steps = 3, got "
            r"'backward-induction' with steps = 2$", cert)
    cert, _ = certify(FINITE)
    cert["objective"]["horizon"] = "geometric"
    cert["objective"]["discount"] = "9/10"
    rejects(r"^witness: a geometric horizon needs kind 'value-vectors', got 'backward-induction'$",
            cert, objective=GEOMETRIC)


# -- rejections inside the arithmetic ---------------------------------------------------------
def test_a_policy_layer_not_closed_under_its_moves_is_rejected():
    open_layer = PolicyLayer.from_table(MODEL, {0: [(0, Fraction(1))]})  # s0 moves to s1, undefined
    with pytest.raises(CheckFailure, match=r"^policy: the policy can move to state 's1', where it is undefined$"):
        _check_closed(MODEL, open_layer, "policy")


def test_credal_rows_that_cannot_form_a_distribution_are_rejected():
    w = [Fraction(0), Fraction(1)]
    with pytest.raises(CheckFailure, match="cannot form a distribution"):
        bellman.worst_expectation([(0, Fraction(1, 2), Fraction(1, 2)), (1, Fraction(1, 4), Fraction(1, 4))], w)
    assert bellman.worst_expectation([(0, Fraction(1, 4), Fraction(1)), (1, Fraction(1, 4), Fraction(3, 4))],
                                     w) == Fraction(1, 4)


def test_float_checks_refuse_what_they_cannot_bound():
    tiny = make_mdp(["s", "t"], {"s": [("a", {"s": Fraction(1, 2**1030), "t": 1 - Fraction(1, 2**1030)})],
                                 "t": [("a", {"t": 1})]}, rewards={"r": {}})
    with pytest.raises(CheckFailure, match="transition probability is not a normal float"):
        bellman.FloatBellman(tiny, tiny.rewards["r"], Fraction(1))
    op = bellman.FloatBellman(MODEL, MODEL.rewards["r"], Fraction(1))
    with pytest.raises(CheckFailure, match="a value vector holds a NaN or infinite entry"):
        op.optimal(np.array([0.0, np.inf, 0.0, 0.0]))
    empty = Mdp(("s",), np.array([0, 1]), ("a",), np.zeros(1, np.int32), np.array([0, 0]), np.zeros(0, np.int64),
                Rationals.zeros(0), {"r": Rationals.zeros(1)}, {}, np.array([0]), Rationals.from_fractions([1]))
    with pytest.raises(CheckFailure, match="a choice without successors"):
        bellman.FloatBellman(empty, empty.rewards["r"], Fraction(1))


def test_messages_name_numbers_not_only_words():
    cert, _ = certify(GEOMETRIC)
    cert["witness"]["optimal"]["values"]["s0"] = "0"
    message = rejects(r"^witness\.optimal: U = W \+ 0 is not superharmonic at state 's0'", cert, objective=GEOMETRIC)
    assert re.search(r"= \d", message)
