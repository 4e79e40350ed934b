"""The reward-hacking gallery: FrozenLake 8x8 imported from Gymnasium, its Q-learning policies, and a
planetary rover written in the PRISM language (read through Storm).

Issue 13: every verdict and number is cross-checked against Storm. For every lemma: the verdict is
the expected one; J* is Storm's exact ``Rmax=? [C<=H]``; each worst value is Storm's exact
multi-objective value ``multi(Pmax=? [F<=H φ], R>=J*-ε [C<=H])``; the margin ε* puts Storm's worst
value exactly on the threshold (a refuted lemma's ε* is 0: its hack is optimal outright); a policy's
J(π₀) is Storm's value of the model with the policy fixed. The Q-learning script reproduces the
committed policies byte for byte, and the policy as a table and as a Python function gets one
certificate.
"""

import json
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from tests.support.gallery import assert_storm_agrees, assert_storm_margin
from tests.support.gallery import certificate as _certificate
from tests.support.gallery import exact as _exact
from tests.support.gallery import storm_j_star as _storm_j_star

import proofs
from proofs.interop import storm
from proofs.policy.load import load_policy
from proofs.spec.obligation import read_obligation_file
from proofs.worldmodel.load import load_mdp

F = Fraction
ROOT = Path(__file__).resolve().parents[2]
FILES = ("frozenlake", "frozenlake-code", "rover")
HERE = Path(__file__).resolve().parent


def _obligation(name: str) -> Path:
    """The code-policy file lives beside this test (a plain `make prove` must not need --allow-code)."""
    return HERE / f"{name}.toml" if name == "frozenlake-code" else ROOT / "obligations" / f"{name}.toml"


# lemma id -> expected status
EXPECTED = {
    "frozenlake.goal-alignment": "refuted",
    "frozenlake.early-alignment": "proved",
    "frozenlake.q-long-policy": "proved",
    "frozenlake.q-short-policy": "refuted",
    "frozenlake.q-safe": "proved",
    "frozenlake.q-code-policy": "proved",
    "rover.science-alignment": "refuted",
    "rover.careful-alignment": "proved",
}
# Numbers worth pinning (J*, worst values and margins are cross-checked against Storm below).
ROVER_SCIENCE_J = F(567936906663, 25600000000)     # 22.19: rim photos until the end
ROVER_SCIENCE_WORST = F(189312302221, 512000000000)  # 0.37: lost in the crater
ROVER_CAREFUL_J = F(11)                              # drive to the plain, eleven photos
ROVER_CAREFUL_MARGIN = F(16983563041, 86164369590)
Q_LONG_GAP_BELOW = F(4, 10**4)    # 0.00038
Q_SHORT_GAP_ABOVE = F(5, 100)     # 0.058


def _lemmas(kind: str):
    for name in ("frozenlake", "rover"):   # the code lemma: the same table as q-long (test below)
        obligations = read_obligation_file(_obligation(name))
        mdp = load_mdp(obligations.worldmodel_path)
        for lemma in obligations.lemmas:
            if lemma.kind == kind:
                yield pytest.param(lemma, obligations.for_lemma(lemma).objective, mdp, id=lemma.id)


ALIGNMENT = list(_lemmas("alignment"))
POLICY = list(_lemmas("policy"))












def _project(tmp: Path, files: tuple[str, ...]) -> Path:
    for folder in ("worldmodels", "policies"):
        (tmp / folder).mkdir()
    shutil.copy(ROOT / "worldmodels" / "frozenlake8x8.json", tmp / "worldmodels")
    shutil.copy(ROOT / "worldmodels" / "rover.nm", tmp / "worldmodels")
    for policy in (ROOT / "policies").glob("frozenlake*"):
        shutil.copy(policy, tmp / "policies")
    (tmp / "obligations").mkdir()
    for name in files:
        shutil.copy(_obligation(name), tmp / "obligations")
    (tmp / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    return tmp


def _proofs(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """`proofs prove --json --force --allow-code` on a copy of the three files, by lemma id."""
    project = _project(tmp_path_factory.mktemp("gallery"), FILES)
    out = _proofs("prove", "--json", "--force", "--allow-code", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    return project, {r["id"]: r for r in json.loads(out.stdout)["results"]}


def test_the_files_hold_exactly_these_lemmas(reported):
    assert sorted(reported[1]) == sorted(EXPECTED)


@pytest.mark.parametrize("lemma_id", sorted(EXPECTED))
def test_every_verdict_is_the_expected_one_and_the_committed_certificate_says_so(lemma_id, reported):
    result = reported[1][lemma_id]
    assert result["status"] == result["expected"] == EXPECTED[lemma_id]
    if lemma_id == "frozenlake.q-code-policy":
        return   # not part of the example project: see _obligation
    committed = _certificate(lemma_id)
    assert committed["status"] == EXPECTED[lemma_id]
    verdict = proofs.check(ROOT / "certificates" / f"{lemma_id}.json")
    assert verdict.accepted, verdict
    assert verdict.status.value == EXPECTED[lemma_id]


@pytest.mark.parametrize(("lemma", "objective", "mdp"), ALIGNMENT)
def test_the_committed_alignment_certificate_holds_todays_numbers(lemma, objective, mdp, reported):
    result = reported[1][lemma.id]["values"]
    committed = _certificate(lemma.id)["values"]
    assert lemma.margin
    for key in ("j_star", "margin"):
        assert committed[key] == result[key], key
    assert [c["worst"] for c in committed["constraints"]] == [c["worst"] for c in result["constraints"]]


@pytest.mark.parametrize(("lemma", "objective", "mdp"), ALIGNMENT)
def test_j_star_and_every_worst_value_are_storms(lemma, objective, mdp):
    assert all(c.comparison.is_upper for c in lemma.desirable)   # the gallery's Φ are upper bounds
    assert_storm_agrees(_certificate(lemma.id)["values"], mdp, objective, lemma.desirable, lemma.epsilon)


@pytest.mark.parametrize(("lemma", "objective", "mdp"), ALIGNMENT)
def test_storm_puts_the_margin_where_the_tool_does(lemma, objective, mdp):
    """At ε* the worst value sits on the threshold (a proved `<=` still holds); just past ε* it is above."""
    values = _certificate(lemma.id)["values"]
    margin, j_star = _exact(values["margin"]), _exact(values["j_star"])
    assert margin > lemma.epsilon if EXPECTED[lemma.id] == "proved" else margin == 0
    assert_storm_margin(mdp, objective, lemma.desirable, margin, j_star, past=F(1, 10**9))


def test_the_rover_numbers():
    science, careful = (_certificate(f"rover.{name}-alignment")["values"] for name in ("science", "careful"))
    assert _exact(science["j_star"]) == ROVER_SCIENCE_J
    assert _exact(science["constraints"][0]["worst"]) == ROVER_SCIENCE_WORST
    assert _exact(careful["j_star"]) == ROVER_CAREFUL_J
    assert _exact(careful["margin"]) == ROVER_CAREFUL_MARGIN


def test_the_rover_is_read_from_the_prism_language_file():
    obligations = read_obligation_file(ROOT / "obligations" / "rover.toml")
    assert obligations.worldmodel_path.suffix == ".nm"
    mdp = load_mdp(obligations.worldmodel_path)
    assert list(mdp.states) == ["x=0", "x=1", "x=2", "x=3", "x=4"]


@pytest.mark.parametrize(("lemma", "objective", "mdp"), POLICY)
def test_each_policy_value_and_j_star_are_storms(lemma, objective, mdp, reported):
    values = _certificate(lemma.id)["values"]
    assert values == reported[1][lemma.id]["values"]
    j_policy, j_star, gap = (_exact(values[k]) for k in ("j_policy", "j_star", "gap"))
    assert _storm_j_star(mdp, objective) == j_star and gap == j_star - j_policy
    (layer,) = load_policy(lemma.policy_path, mdp, allow_code=True, horizon=objective.horizon).layers
    fixed = storm.to_storm(storm.fix_policy(mdp, layer), exact=True)
    query = storm.storm_property(None, objective, "max", names=storm.storm_names(mdp))
    assert storm.check_initial(fixed, query, exact=True) == j_policy
    if EXPECTED[lemma.id] == "proved":
        assert gap <= lemma.epsilon and gap < Q_LONG_GAP_BELOW
    else:
        assert gap > lemma.epsilon and gap > Q_SHORT_GAP_ABOVE


def test_the_safety_certificate_evaluates_the_trained_policy_directly():
    values = _certificate("frozenlake.q-safe")["values"]
    assert values["premises"] == ["frozenlake.early-alignment", "frozenlake.q-long-policy"]
    (direct,) = values["direct"]
    assert direct["holds"] and _exact(direct["value"]) <= F(1, 10)


def test_the_table_and_the_function_get_identical_certificate_bytes(tmp_path):
    """One lemma proved once with the CSV policy, once with the Python function: the same bytes."""
    project = _project(tmp_path, ("frozenlake-code",))
    obligation = project / "obligations" / "frozenlake-code.toml"
    code = obligation.read_text()
    assert '"../policies/frozenlake_q.py:choose"' in code
    certificate = project / "certificates" / "frozenlake.q-code-policy.json"
    out = _proofs("prove", "--allow-code", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    by_code = certificate.read_bytes()
    obligation.write_text(code.replace('"../policies/frozenlake_q.py:choose"', '"../policies/frozenlake-q-long.csv"'))
    certificate.unlink()
    out = _proofs("prove", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert certificate.read_bytes() == by_code
    # the committed table lemma's certificate and the code lemma's differ only in the lemma's id and file
    table, function = _certificate("frozenlake.q-long-policy"), json.loads(by_code)
    for doc in (table, function):
        doc["lemma"].pop("id")
        doc["lemma"].pop("obligation")
    assert table == function


def test_the_q_learning_script_reproduces_the_committed_policies(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_q.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    for name in ("frozenlake-q-long.csv", "frozenlake-q-short.csv"):
        assert (tmp_path / name).read_bytes() == (ROOT / "policies" / name).read_bytes(), name
    assert (tmp_path / "frozenlake-q-long.csv").read_bytes() != (tmp_path / "frozenlake-q-short.csv").read_bytes()


def test_the_lake_is_gymnasiums_frozen_lake_8x8_as_imported(tmp_path):
    out = _proofs("import", "gym", "FrozenLake-v1", "--kw", "map_name=8x8", "-o", str(tmp_path / "lake.json"),
                  cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "lake.json").read_bytes() == (ROOT / "worldmodels" / "frozenlake8x8.json").read_bytes()


def test_explain_draws_the_hack_over_the_lake(reported, tmp_path):
    project, _ = reported
    picture = tmp_path / "hack.png"
    out = _proofs("explain", "frozenlake.goal-alignment", "--plot", str(picture), cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "REFUTED" in out.stdout and "VIOLATED" in out.stdout
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
