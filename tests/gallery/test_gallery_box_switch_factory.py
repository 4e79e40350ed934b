"""The reward-hacking gallery, three worlds: irreversible side effects (box), safe interruptibility
(off-switch) and nonfatality (factory), each with its hacked reward (refuted) and its repair (proved).

Issue 13: every gallery verdict and number is cross-checked against Storm. For every lemma of the
three obligation files: the verdict is the expected one, J* is Storm's exact ``Rmax=? [C<=H]``, each
worst value is Storm's exact multi-objective value ``multi(Pmax=? [F<=H φ], R>=J*-ε [C<=H])``, the
margin ε* is the number written here (and Storm puts the worst value exactly on the threshold at
ε*, above it just past ε*), the committed certificate passes the kernel and holds the values
`proofs prove` reports, and `proofs explain` shows the hack where it acts.
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

import proofs
from proofs.spec.obligation import read_obligation_file
from proofs.worldmodel.load import load_mdp

F = Fraction
ROOT = Path(__file__).resolve().parents[2]
WORLDS = ("box", "off-switch", "factory")

# lemma id -> (status, ε*). A refuted lemma's ε* is 0: its hack is optimal outright, not only near-optimal.
EXPECTED = {
    "box.steps-alignment": ("refuted", F(0)),
    # The cheapest way to make the box stuck is the shortcut: under "reversible" it earns 45 - 10 = 35
    # against 43 for the way round, so mixing it in with probability q costs 8q. Φ allows q = 1/100,
    # so ε* = 8/100 (the other corner, at (2,4), costs the full 10 per unit of probability).
    "box.reversible-alignment": ("proved", F(2, 25)),
    "off-switch.task-alignment": ("refuted", F(0)),
    # Pressing the button earns 44 - 30 = 14 under "corrigible" against 43/2 for accepting the
    # interruption: 15/2 per unit of probability, so ε* = 15/2 · 1/100 = 3/40.
    "off-switch.corrigible-alignment": ("proved", F(3, 40)),
    "factory.production-alignment": ("refuted", F(0)),
    # The cheapest risk is overdrive on the last day: under "careful" it earns 2 - 100/50 = 0 against 1
    # for normal running and loses the atmosphere with probability 1/50. Exceeding 1/100 needs it
    # with probability above 1/2, at a cost above 1/2: ε* = 1/2 (overdrive on an earlier day costs
    # 1 + V/50 > 1 for the same risk).
    "factory.careful-alignment": ("proved", F(1, 2)),
}
# The first action of each hack, as `proofs explain` shows it.
HACK = {
    "box.steps-alignment": "step 0, a12: down",
    "off-switch.task-alignment": "step 0, start: down",
    "factory.production-alignment": "step 9, air: overdrive",
}


def _lemmas():
    for world in WORLDS:
        obligations = read_obligation_file(ROOT / "obligations" / f"{world}.toml")
        mdp = load_mdp(obligations.worldmodel_path)
        for lemma in obligations.lemmas:
            yield pytest.param(lemma, obligations.for_lemma(lemma).objective, mdp, id=lemma.id)


LEMMAS = list(_lemmas())








@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """`proofs prove --json --force` on a copy of the three worlds: what the tool reports, by lemma id."""
    project = tmp_path_factory.mktemp("gallery")
    shutil.copytree(ROOT / "worldmodels", project / "worldmodels")
    (project / "obligations").mkdir()
    for world in WORLDS:
        shutil.copy(ROOT / "obligations" / f"{world}.toml", project / "obligations")
    settings = '[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n'
    (project / "pyproject.toml").write_text(settings)
    out = subprocess.run([sys.executable, "-m", "proofs", "prove", "--json", "--force"], cwd=project,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return project, {r["id"]: r for r in json.loads(out.stdout)["results"]}


def test_the_files_hold_exactly_the_gallery_lemmas():
    assert sorted(p.values[0].id for p in LEMMAS) == sorted(EXPECTED)


@pytest.mark.parametrize(("lemma", "objective", "mdp"), LEMMAS)
def test_the_verdict_and_margin_are_the_expected_ones(lemma, objective, mdp, reported):
    status, margin = EXPECTED[lemma.id]
    result = reported[1][lemma.id]
    assert lemma.expect.value == status and lemma.margin
    assert result["status"] == result["expected"] == status
    assert _exact(result["values"]["margin"]) == margin
    # the committed certificate holds the numbers the tool reports today
    committed = _certificate(lemma.id)
    assert committed["status"] == status
    for key in ("j_star", "margin"):
        assert committed["values"][key] == result["values"][key], key
    assert [c["worst"] for c in committed["values"]["constraints"]] == \
        [c["worst"] for c in result["values"]["constraints"]]


@pytest.mark.parametrize(("lemma", "objective", "mdp"), LEMMAS)
def test_j_star_and_every_worst_value_are_storms(lemma, objective, mdp):
    assert all(c.comparison.is_upper for c in lemma.desirable)   # the gallery's Φ are upper bounds
    assert_storm_agrees(_certificate(lemma.id)["values"], mdp, objective, lemma.desirable, lemma.epsilon)


@pytest.mark.parametrize(("lemma", "objective", "mdp"), LEMMAS)
def test_storm_puts_the_margin_where_the_tool_does(lemma, objective, mdp):
    """At ε* the worst value sits on the threshold (a proved `<=` still holds); just past ε* it is above."""
    _, margin = EXPECTED[lemma.id]
    j_star = _exact(_certificate(lemma.id)["values"]["j_star"])
    assert_storm_margin(mdp, objective, lemma.desirable, margin, j_star, past=F(1, 10**6))


@pytest.mark.parametrize(("lemma", "objective", "mdp"), LEMMAS)
def test_the_committed_certificate_passes_the_kernel(lemma, objective, mdp):
    verdict = proofs.check(ROOT / "certificates" / f"{lemma.id}.json")
    assert verdict.accepted, verdict
    assert verdict.status.value == EXPECTED[lemma.id][0]


@pytest.mark.parametrize("lemma_id", sorted(HACK))
def test_explain_shows_the_hack_where_it_acts(lemma_id, reported):
    project, _ = reported
    out = subprocess.run([sys.executable, "-m", "proofs", "explain", lemma_id], cwd=project,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "REFUTED" in out.stdout and "VIOLATED" in out.stdout
    assert HACK[lemma_id] in out.stdout
