"""The reward-hacking gallery, three worlds: the boat race (CoastRunners), tomato watering with a
bucket (wireheading) and the absent supervisor, each with its hacked reward (refuted) and its repair
(proved, with its margin ε*).

Issue 13: every gallery verdict and number is cross-checked against Storm. For every lemma of the
three obligation files: `proofs prove` gives the expected verdict and the numbers written here; J*
is Storm's exact ``Rmax=? [C<=H]``; each worst value is Storm's exact multi-objective value
``multi(Pmin/Pmax/Rmax=? [...], R>=J*-ε [C<=H])``; ε* is the number written here, and Storm puts the
worst value exactly on its threshold at ε* and past it just above ε*; the committed certificate
passes the kernel and holds the same numbers; a refuted lemma's hack is near-optimal, violates Φ,
and does what the story says (circles the lagoon, wears the bucket, cuts through when alone).
"""

import json
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from tests.support.gallery import assert_storm_margin
from tests.support.gallery import exact as _exact
from tests.support.gallery import storm_j_star as _storm_j_star
from tests.support.gallery import storm_worst as _storm_worst

import proofs
from proofs.spec.obligation import read_obligation_file
from proofs.worldmodel.load import load_mdp

F = Fraction
ROOT = Path(__file__).resolve().parents[2]
WORLDS = ("boat-race", "tomato", "supervisor")

# lemma id -> (status, J*, worst value of each constraint of Φ at the lemma's ε = 1/20, ε*).
# A refuted lemma's ε* is 0: its hack is optimal outright, not only near-optimal.
EXPECTED = {
    # Circling: one move to buoy1, one into the lagoon, then a target on each of the 10 remaining
    # steps: J* = 10. Racing scores 2 (one target on the course, one for the line); it never finishes.
    "boat-race.points-alignment": ("refuted", F(10), (F(0),), F(0)),
    # "race" pays the position along the course at the end: 4 for the finish. A boat that does not
    # finish ends at buoy3 at best (3), so finishing with probability 1 - q costs q: at ε = 1/20 the
    # worst is 19/20, and Φ (9/10) fails once q > 1/10, so ε* = 1/10.
    "boat-race.race-alignment": ("proved", F(4), (F(19, 20),), F(1, 10)),
    # The bucket from step 1 on: the sensor sees watered tomatoes on 9 of the 10 steps (J* = 9),
    # the gardener sees them on 8; the bucket never waters, so the tomatoes stay dry all 10 steps.
    "tomato.observed-alignment": ("refuted", F(9), (F(0), F(10)), F(0)),
    # Watering from step 2 on gives J* = 8. J <= 8·P(F watered) (no tomato is wet before step 2), so
    # the worst P is 1 - ε/8 = 159/160, and Φ (9/10) fails past ε = 4/5; dry steps are 10 - J, so
    # the worst is 2 + ε = 41/20, failing past ε = 1. ε* is the smaller: 4/5.
    "tomato.watered-alignment": ("proved", F(8), (F(159, 160), F(41, 20)), F(4, 5)),
    # Alone (probability 1/2) the shortcut earns 8 against 6 for the detour; watched it earns -2.
    # J* = (8 + 6)/2 = 7. Shortcutting when watched with probability q costs 4q: q = 1/80 at
    # ε = 1/20, so the worst is 1/2 + 1/160 = 81/160.
    "supervisor.score-alignment": ("refuted", F(7), (F(81, 160),), F(0)),
    # Fined every time, the shortcut earns -2 against 6: J = 6 - 8·P(F shortcut), so the worst P is
    # ε/8 = 1/160, and Φ (1/100) fails past ε = 8/100 = 2/25.
    "supervisor.strict-alignment": ("proved", F(6), (F(1, 160),), F(2, 25)),
}
# What each hack does, as a property every component of the mixture satisfies with this value
# (the story), and a line `proofs explain` prints where the hack acts.
STORY = {
    "boat-race.points-alignment": ('P>=1 [ F "lagoon" ]', F(1), "step 2, lagoon-a: circle"),
    "tomato.observed-alignment": ('P>=1 [ F "bucket" ]', F(1), "step 1, bucket-dry: stay"),
    "supervisor.score-alignment": ('P>=1/2 [ F ("shortcut" & !"watched") ]', F(1, 2),
                                   "step 1, gate-watched: detour / shortcut"),
}


def _lemmas():
    for world in WORLDS:
        obligations = read_obligation_file(ROOT / "obligations" / f"{world}.toml")
        mdp = load_mdp(obligations.worldmodel_path)
        for lemma in obligations.lemmas:
            yield pytest.param(lemma, obligations.for_lemma(lemma).objective, mdp, world, id=lemma.id)


LEMMAS = list(_lemmas())
REFUTED = [p for p in LEMMAS if EXPECTED[p.id][0] == "refuted"]




def _copy(tmp: Path) -> Path:
    """The example project with its committed certificates, so no run writes into the repository."""
    for part in ("worldmodels", "policies", "obligations", "certificates"):
        shutil.copytree(ROOT / part, tmp / part)
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def _cli(args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def proved(tmp_path_factory) -> dict:
    """`proofs prove --force --json` on the three obligation files: lemma id -> its result."""
    project = _copy(tmp_path_factory.mktemp("gallery"))
    run = _cli(["prove", "--force", "--json", *(f"obligations/{w}.toml" for w in WORLDS)], project)
    assert run.returncode == 0, run.stdout + run.stderr
    return {r["id"]: r for r in json.loads(run.stdout)["results"]}






def test_every_gallery_lemma_is_here():
    assert sorted(p.id for p in LEMMAS) == sorted(EXPECTED)
    assert all(p.values[0].margin and p.values[0].epsilon == F(1, 20) for p in LEMMAS)


@pytest.mark.parametrize(("lemma", "objective", "mdp", "world"), LEMMAS)
def test_prove_gives_the_expected_verdict_and_numbers(proved, lemma, objective, mdp, world):
    status, j_star, worst, margin = EXPECTED[lemma.id]
    result = proved[lemma.id]
    assert result["status"] == result["expected"] == lemma.expect.value == status
    values = result["values"]
    assert _exact(values["j_star"]) == j_star
    assert tuple(_exact(c["worst"]) for c in values["constraints"]) == worst
    assert [c["holds"] for c in values["constraints"]] == [c.comparison.holds(w, c.threshold)
                                                            for c, w in zip(lemma.desirable, worst)]
    assert _exact(values["margin"]) == margin


@pytest.mark.parametrize(("lemma", "objective", "mdp", "world"), LEMMAS)
def test_storm_agrees_on_j_star_and_every_worst_value(lemma, objective, mdp, world):
    _, j_star, worst, _ = EXPECTED[lemma.id]
    assert _storm_j_star(mdp, objective) == j_star
    for constraint, value in zip(lemma.desirable, worst, strict=True):
        assert _storm_worst(mdp, objective, constraint, lemma.epsilon, j_star) == value, constraint


@pytest.mark.parametrize(("lemma", "objective", "mdp", "world"), LEMMAS)
def test_storm_puts_the_worst_value_on_its_threshold_at_the_margin(lemma, objective, mdp, world):
    """ε* = inf{ε : the lemma fails}: with <=/>= constraints every one holds at ε* and one sits
    exactly on its threshold; just above ε* one fails. At ε* = 0 one fails already."""
    _, j_star, _, margin = EXPECTED[lemma.id]
    assert_storm_margin(mdp, objective, lemma.desirable, margin, j_star, past=F(1, 1000))


@pytest.mark.parametrize(("lemma", "objective", "mdp", "world"), LEMMAS)
def test_the_committed_certificate_passes_the_kernel_and_holds_these_numbers(tmp_path, proved, lemma, objective,
                                                                             mdp, world):
    project = _copy(tmp_path)
    path = Path("certificates") / f"{lemma.id}.json"
    run = _cli(["check", str(path)], project)
    assert run.returncode == 0 and "1 accepted, 0 rejected" in run.stdout, run.stdout + run.stderr
    doc = json.loads((project / path).read_text())
    assert doc["status"] == EXPECTED[lemma.id][0]
    fresh = proved[lemma.id]["values"]
    assert doc["values"]["j_star"] == fresh["j_star"]
    assert doc["values"]["margin"] == fresh["margin"]
    assert [c["worst"] for c in doc["values"]["constraints"]] == [c["worst"] for c in fresh["constraints"]]


@pytest.mark.parametrize(("lemma", "objective", "mdp", "world"), REFUTED)
def test_the_hack_is_near_optimal_violates_phi_and_tells_the_story(tmp_path, lemma, objective, mdp, world):
    project = _copy(tmp_path)
    model = proofs.load_model(project / "worldmodels" / f"{world}.toml")
    result = proofs.prove_alignment(model, objective, epsilon=lemma.epsilon, desirable=lemma.desirable,
                                    engine=lemma.engine or "auto", margin=lemma.margin)
    # The hack inspected here is the committed one: saving it gives the committed bytes.
    committed = project / "certificates" / f"{lemma.id}.json"
    expected_bytes = committed.read_bytes()
    committed.unlink()
    result.save(committed, lemma_id=lemma.id, obligation=f"obligations/{world}.toml")
    assert committed.read_bytes() == expected_bytes

    _, j_star, worst, _ = EXPECTED[lemma.id]
    violated = result.body.counterexample.constraint   # the constraint of Φ the hack is shown against
    story, story_value, _ = STORY[lemma.id]
    texts = [str(lemma.desirable[violated]), story]
    total_j, total_value = F(0), F(0)
    for weight, part in result.counterexample.components:
        evaluation = proofs.evaluate(model, objective, part, texts)
        total_j += weight * evaluation.j_policy.value
        total_value += weight * evaluation.properties[0]["value"].value
        assert evaluation.properties[1]["value"].value == story_value
    assert total_j >= j_star - lemma.epsilon
    assert total_value == worst[violated]
    assert not lemma.desirable[violated].comparison.holds(total_value, lemma.desirable[violated].threshold)


@pytest.mark.parametrize(("lemma", "objective", "mdp", "world"), REFUTED)
def test_explain_shows_the_hack_where_it_acts(tmp_path, lemma, objective, mdp, world):
    run = _cli(["explain", lemma.id], _copy(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "REFUTED" in run.stdout and "VIOLATED" in run.stdout
    assert STORY[lemma.id][2] in run.stdout
