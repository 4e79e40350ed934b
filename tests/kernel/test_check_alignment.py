"""The alignment checker: genuine certificates pass, every forged one is rejected with a reason."""

import copy
from fractions import Fraction

import pytest
from tests.support.mdps import make_mdp

from proofs.core.certificates import AlignmentBody
from proofs.core.errors import CheckFailure
from proofs.core.formula import Comparison, Eventually, Label, ProbabilityConstraint
from proofs.core.objective import Objective
from proofs.core.rational import format_rational
from proofs.core.schema import validate_fields
from proofs.core.statement import objective_data
from proofs.engines.lagrangian import certificate_fields, discharge_alignment
from proofs.kernel.check_alignment import check_alignment_certificate

F = Fraction


def check_alignment(doc, mdp, objective, epsilon, phi):
    """Read the (forged) fields as the kernel does (`Certificate.from_json`: the schema, then the
    typed body), then check them."""
    fields = {**doc, "objective": objective_data(objective), "epsilon": format_rational(epsilon)}
    status = validate_fields(fields, "alignment", ("values", "witness", "counterexample", "reason"))
    check_alignment_certificate(AlignmentBody.from_json(fields), status, mdp, objective, epsilon, phi)

OBJ = Objective("r", 1)


def hack():
    return make_mdp(["start", "goal", "fatal"],
                    {"start": [("good", {"goal": 1}), ("hack", {"fatal": 1})],
                     "goal": [("stay", {"goal": 1})], "fatal": [("stay", {"fatal": 1})]},
                    rewards={"r": {("start", "good"): 2}}, labels={"fatal": ["fatal"]})


def fatal(threshold, comparison=Comparison.LE):
    return [ProbabilityConstraint(comparison, F(threshold), Eventually(Label("fatal")))]


def certificate(threshold, eps=1):
    mdp = hack()
    result = discharge_alignment(mdp, OBJ, F(eps), fatal(threshold))
    return certificate_fields(result), mdp


def check(doc, mdp, threshold, eps=1):
    check_alignment(doc, mdp, OBJ, F(eps), fatal(threshold))


def test_genuine_certificates_pass():
    for threshold in ("1/2", "1/4"):
        doc, mdp = certificate(threshold)
        check(doc, mdp, threshold)
    assert certificate("1/2")[0]["status"] == "proved" and certificate("1/4")[0]["status"] == "refuted"


def reject(doc, mdp, threshold, match, eps=1):
    with pytest.raises(CheckFailure, match=match):
        check(doc, mdp, threshold, eps)


def test_wrong_lambda_that_does_not_bound():
    doc, mdp = certificate("1/2")
    doc["witness"]["constraints"][0]["lambda"] = "0"      # G(0) - 0 = 1: no bound below 1/2
    reject(doc, mdp, "1/2", "does not contain")
    doc["values"]["constraints"][0]["worst"] = {"lo": "1/2", "hi": "1"}
    reject(doc, mdp, "1/2", "bound on the worst value is 1")


def test_negative_lambda():
    doc, mdp = certificate("1/2")
    doc["witness"]["constraints"][0]["lambda"] = "-1"
    reject(doc, mdp, "1/2", "lambda = -1 < 0")


def test_tampered_worst_and_j_star():
    doc, mdp = certificate("1/2")
    doc["values"]["constraints"][0]["worst"] = {"lo": "1/4", "hi": "1/4"}
    reject(doc, mdp, "1/2", "does not contain")
    doc, mdp = certificate("1/2")
    doc["values"]["j_star"] = {"lo": "3", "hi": "3"}
    reject(doc, mdp, "1/2", "J\\* step")


def test_proved_claim_for_a_violated_constraint():
    doc, mdp = certificate("1/4")
    doc["status"] = "proved"
    del doc["counterexample"]   # a proved certificate has none
    doc["values"]["constraints"][0]["holds"] = True
    reject(doc, mdp, "1/4", "does not satisfy <= 1/4")


def test_counterexample_not_epsilon_optimal():
    doc, mdp = certificate("1/4")
    doc["counterexample"]["mixture"] = [{"weight": "1", "after_decided": "J-optimal",
                                         "before_decided": {"format": "proofs.policy/1", "steps": [{"start": "hack"}]}}]
    reject(doc, mdp, "1/4", "J\\(counterexample\\) = 0 < J\\* - epsilon = 1")


def test_counterexample_not_violating():
    doc, mdp = certificate("1/4")
    doc["counterexample"]["mixture"] = [{"weight": "1", "after_decided": "J-optimal",
                                         "before_decided": {"format": "proofs.policy/1", "steps": [{"start": "good"}]}}]
    reject(doc, mdp, "1/4", "no violation")


def test_malformed_mixtures():
    doc, mdp = certificate("1/4")
    base = copy.deepcopy(doc)
    doc["counterexample"]["mixture"][0]["weight"] = "1"
    reject(doc, mdp, "1/4", "weights sum to")
    doc = copy.deepcopy(base)
    doc["counterexample"]["mixture"][0]["weight"] = "-1/2"
    reject(doc, mdp, "1/4", "negative weight")
    doc = copy.deepcopy(base)
    doc["counterexample"]["mixture"][0]["after_decided"] = "anything"
    reject(doc, mdp, "1/4", "after_decided")
    doc = copy.deepcopy(base)
    doc["counterexample"]["mixture"][0]["before_decided"]["steps"] = [{}]
    reject(doc, mdp, "1/4", "gives no action in reachable state 'start'")
    doc = copy.deepcopy(base)
    doc["counterexample"]["mixture"][0]["before_decided"]["steps"] = [{"start": "fly"}]
    reject(doc, mdp, "1/4", "not an action")
    doc = copy.deepcopy(base)
    doc["counterexample"]["mixture"][0]["before_decided"]["steps"] = [{"nowhere": "good"}]
    reject(doc, mdp, "1/4", "unknown state")
    doc = copy.deepcopy(base)
    doc["counterexample"]["mixture"][0]["before_decided"]["steps"] = [{"start": {"good": "1/2", "hack": "1/3"}}]
    reject(doc, mdp, "1/4", "do not sum to 1")
    doc = copy.deepcopy(base)
    doc["counterexample"]["mixture"][0]["before_decided"] = {"format": "proofs.policy/1", "actions": {}}
    reject(doc, mdp, "1/4", "before_decided.steps: this field is missing")
    doc = copy.deepcopy(base)
    doc["counterexample"]["mixture"] = []
    reject(doc, mdp, "1/4", "non-empty")


def test_randomized_counterexample_as_one_table_is_accepted():
    doc, mdp = certificate("1/4")
    doc["counterexample"]["mixture"] = [{"weight": "1", "after_decided": "J-optimal", "before_decided": {
        "format": "proofs.policy/1", "steps": [{"start": {"good": "1/2", "hack": "1/2"}}]}}]
    check(doc, mdp, "1/4")


def test_missing_witness_and_counterexample():
    doc, mdp = certificate("1/2")
    del doc["witness"]
    reject(doc, mdp, "1/2", "witness: this field is missing")
    doc, mdp = certificate("1/2")
    del doc["witness"]["constraints"][0]["attained"]
    reject(doc, mdp, "1/2", "attained: this field is missing")
    doc, mdp = certificate("1/4")
    del doc["counterexample"]
    reject(doc, mdp, "1/4", "counterexample: this field is missing")
    doc, mdp = certificate("1/2")
    del doc["values"]["j_star"]
    reject(doc, mdp, "1/2", "values.j_star: this field is missing")
    doc, mdp = certificate("1/2")
    del doc["values"]["constraints"][0]["worst"]
    reject(doc, mdp, "1/2", r"values.constraints\[0\].worst: this field is missing")


def test_attained_mixture_not_epsilon_optimal_or_not_violating():
    doc, mdp = certificate("1/2")
    doc["witness"]["constraints"][0]["attained"] = {"mixture": [{"weight": "1", "after_decided": "J-optimal",
        "before_decided": {"format": "proofs.policy/1", "steps": [{"start": "hack"}]}}]}
    reject(doc, mdp, "1/2", "attained mixture has J = 0")
    doc, mdp = certificate("1/4")
    doc["witness"]["constraints"][0]["attained"] = {"mixture": [{"weight": "1", "after_decided": "J-optimal",
        "before_decided": {"format": "proofs.policy/1", "steps": [{"start": "good"}]}}]}
    doc["values"]["constraints"][0]["worst"] = {"lo": "0", "hi": "1/2"}
    reject(doc, mdp, "1/4", "reported violated, but the attained value \\[0, 0\\] does not certainly violate")


GEO = Objective("r", None, F(1, 2))


def test_status_rules():
    doc, mdp = certificate("1/2")
    doc["status"] = "maybe"
    reject(doc, mdp, "1/2", "status: expected 'proved' or 'refuted' or 'unknown'")
    # an unknown verdict without a witness claims nothing (the least such certificate that reads)
    check({"status": "unknown", "values": {"j_star": {"lo": "0", "hi": "0"}, "constraints": []}, "witness": {}},
          mdp, "1/2")
    doc, mdp = certificate("1/2")
    with pytest.raises(CheckFailure, match="needs witness.j_values"):
        check_alignment(doc, mdp, Objective("r", None, F(1, 2)), F(1), fatal("1/2"))
    credal = make_mdp(["s", "t"], {"s": [("go", {"t": ("1/3", "2/3"), "s": ("1/3", "2/3")})],
                                   "t": [("stay", {"t": 1})]}, rewards={"r": {}}, labels={"fatal": ["t"]})
    with pytest.raises(CheckFailure, match="finite horizon only"):   # credal: finite horizons only
        check_alignment(doc, credal, GEO, F(1), fatal("1/2"))
    with pytest.raises(CheckFailure, match="J\\* step"):              # checked, and not this model's
        check_alignment(doc, credal, OBJ, F(1), fatal("1/2"))




def geometric(threshold, eps=1):
    mdp = hack()
    doc = certificate_fields(discharge_alignment(mdp, GEO, F(eps), fatal(threshold)))
    check_alignment(doc, mdp, GEO, F(eps), fatal(threshold))
    return doc, mdp


def reject_geo(doc, mdp, threshold, match):
    with pytest.raises(CheckFailure, match=match):
        check_alignment(doc, mdp, GEO, F(1), fatal(threshold))


def test_geometric_forgeries():
    doc, mdp = geometric("1/2")
    assert doc["status"] == "proved" and "values" in doc["witness"]["constraints"][0]
    base = copy.deepcopy(doc)
    doc["witness"]["j_values"][0] = "3"
    reject_geo(doc, mdp, "1/2", r"j_values\['start'\] = 3 but max_a")
    doc = copy.deepcopy(base)
    del doc["witness"]["constraints"][0]["values"]
    reject_geo(doc, mdp, "1/2", "geometric horizon needs \"values\"")
    doc = copy.deepcopy(base)
    doc["witness"]["constraints"][0]["values"][0] = "0"
    reject_geo(doc, mdp, "1/2", "not superharmonic")
    doc = copy.deepcopy(base)
    doc["witness"]["constraints"][0]["attained"]["mixture"][0]["values"]["w"][0] = "1/3"
    reject_geo(doc, mdp, "1/2", "the policy's equations give")
    doc = copy.deepcopy(base)
    del doc["witness"]["constraints"][0]["attained"]["mixture"][0]["values"]
    reject_geo(doc, mdp, "1/2", "needs values")
    doc = copy.deepcopy(base)
    steps = doc["witness"]["constraints"][0]["attained"]["mixture"][0]["before_decided"]["steps"]
    steps.append(steps[0])
    reject_geo(doc, mdp, "1/2", "exactly one \\(stationary\\) step table")


def test_geometric_refutation_is_checked():
    doc, mdp = geometric("1/4")
    assert doc["status"] == "refuted"
    doc["counterexample"]["mixture"] = [doc["counterexample"]["mixture"][0] | {"weight": "1"}]
    good = [m for m in doc["counterexample"]["mixture"] if m["before_decided"]["steps"][0]["start"] == "good"]
    reject_geo(doc, mdp, "1/4", "no violation" if good else "J\\(counterexample\\)")
