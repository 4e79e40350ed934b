"""Several objectives in one obligation file: [objective.NAME] tables chosen by each lemma."""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.core.objective import Objective
from proofs.spec.obligation import load_obligations, read_obligation_file

from .conftest import VALID, Write

ROOT = Path(__file__).resolve().parents[3]

TWO = """\
[worldmodel]
path = "../worldmodels/cliff.toml"

[objective.original]
reward = "progress"
horizon = 6

[objective.repaired]
reward = "careful"
horizon = 6
discount = "9/10"

[[lemma]]
id = "orig.alignment"
kind = "alignment"
objective = "original"
epsilon = "0.1"
desirable = ['P<=0.01 [ F "fatal" ]']
expect = "refuted"

[[lemma]]
id = "rep.alignment"
kind = "alignment"
objective = "repaired"
epsilon = "0.01"
desirable = ['P<=0.01 [ F "fatal" ]']

[[lemma]]
id = "rep.policy"
kind = "policy"
objective = "repaired"
policy = "../policies/cliff-q.json"
epsilon = "0.01"

[[lemma]]
id = "rep.safe"
kind = "certificate"
from = ["rep.alignment", "rep.policy"]
"""

ORIGINAL = Objective("progress", 6)
REPAIRED = Objective("careful", 6, Fraction(9, 10))


def errors(excinfo: pytest.ExceptionInfo[BaseException]) -> list[InputError]:
    exc = excinfo.value
    return list(exc.errors) if isinstance(exc, InputErrors) else [exc]  # type: ignore[list-item]


def test_each_lemma_scores_with_the_objective_it_chooses(write: Write) -> None:
    whole = read_obligation_file(write("two.toml", TWO))
    assert whole.objective is None and whole.objectives == (("original", ORIGINAL), ("repaired", REPAIRED))
    objective = {x.id: whole.for_lemma(x).objective for x in whole.lemmas}
    assert objective == {"orig.alignment": ORIGINAL, "rep.alignment": REPAIRED, "rep.policy": REPAIRED,
                         "rep.safe": None}


def test_load_obligations_gives_one_view_per_objective(write: Write) -> None:
    views = load_obligations([write("two.toml", TWO)])
    assert [(v.objective, [x.id for x in v.lemmas]) for v in views] == [
        (ORIGINAL, ["orig.alignment"]), (REPAIRED, ["rep.alignment", "rep.policy"]), (None, ["rep.safe"])]
    assert str(views[1].locate("objective.reward")) == "obligations/two.toml:9:objective.repaired.reward"


def test_the_single_objective_file_is_its_only_view(write: Write) -> None:
    (view,) = load_obligations([write("one.toml", VALID)])
    assert view == read_obligation_file(Path("obligations/one.toml"))
    assert view.objectives == () and view.objective_name is None and view.objective == Objective("progress", 40)


def test_one_named_objective_needs_no_choice(write: Write) -> None:
    text = TWO.replace('[objective.repaired]\nreward = "careful"\nhorizon = 6\ndiscount = "9/10"\n', "")
    text = text.replace('objective = "repaired"\n', "")
    whole = read_obligation_file(write("one.toml", text.replace('objective = "original"\n', "")))
    assert {whole.for_lemma(x).objective for x in whole.lemmas if x.kind != "certificate"} == {ORIGINAL}


def test_composition_of_lemmas_with_different_objectives_is_an_error(write: Write) -> None:
    text = TWO.replace('id = "rep.policy"\nkind = "policy"\nobjective = "repaired"',
                       'id = "rep.policy"\nkind = "policy"\nobjective = "original"')
    (err,) = errors(pytest.raises(InputError, load_obligations, [write("two.toml", text)]))
    assert str(err.where) == 'obligations/two.toml:35:lemma."rep.safe".from'
    assert "different objectives" in err.problem


def test_composition_of_equal_objectives_under_two_names_is_accepted(write: Write) -> None:
    text = TWO.replace('reward = "careful"\nhorizon = 6\ndiscount = "9/10"', 'reward = "progress"\nhorizon = 6')
    text = text.replace('id = "rep.policy"\nkind = "policy"\nobjective = "repaired"',
                        'id = "rep.policy"\nkind = "policy"\nobjective = "original"')
    assert len(load_obligations([write("two.toml", text)])) == 3


def test_missing_choice_among_several_objectives_names_them(write: Write) -> None:
    text = TWO.replace('kind = "policy"\nobjective = "repaired"\n', 'kind = "policy"\n')
    (err,) = errors(pytest.raises(InputError, read_obligation_file, write("two.toml", text)))
    assert str(err.where) == 'obligations/two.toml:28:lemma."rep.policy".objective'
    assert 'several objectives ("original", "repaired")' in err.problem


def test_unknown_objective_suggests_the_closest(write: Write) -> None:
    text = TWO.replace('objective = "original"', 'objective = "orignal"')
    (err,) = errors(pytest.raises(InputError, read_obligation_file, write("two.toml", text)))
    assert str(err.where) == 'obligations/two.toml:16:lemma."orig.alignment".objective'
    assert err.problem == "unknown objective 'orignal' (did you mean 'original'?)"


def test_choosing_an_objective_in_a_file_with_one_unnamed_objective_is_an_error(write: Write) -> None:
    text = VALID.replace('kind = "policy"\n', 'kind = "policy"\nobjective = "main"\n')
    (err,) = errors(pytest.raises(InputError, read_obligation_file, write("one.toml", text)))
    assert err.where.key == 'lemma."cliff.policy".objective' and "one unnamed [objective]" in err.problem


def test_certificate_lemmas_do_not_choose_an_objective(write: Write) -> None:
    text = TWO.replace('kind = "certificate"\n', 'kind = "certificate"\nobjective = "repaired"\n')
    (err,) = errors(pytest.raises(InputError, read_obligation_file, write("two.toml", text)))
    assert err.where.key == 'lemma."rep.safe".objective' and "unknown key 'objective'" in err.problem


def test_unnamed_keys_beside_named_objectives_are_an_error(write: Write) -> None:
    text = VALID.replace('discount = "1"\n', 'discount = "1"\n\n[objective.repaired]\nreward = "careful"\n'
                                             "horizon = 40\n")
    (err,) = errors(pytest.raises(InputError, read_obligation_file, write("mixed.toml", text)))
    assert str(err.where) == "obligations/mixed.toml:9:objective.repaired"
    assert "beside the keys of an unnamed [objective]" in err.problem


def test_every_problem_of_a_named_objective_is_reported_at_its_key(write: Write) -> None:
    text = TWO.replace('horizon = 6\ndiscount = "9/10"', 'horizon = 0\ndiscount = "9/10"\nrewrd = "x"')
    found = {str(e.where) for e in errors(pytest.raises(InputErrors, read_obligation_file, write("two.toml", text)))}
    assert found == {"obligations/two.toml:10:objective.repaired.horizon",
                     "obligations/two.toml:12:objective.repaired.rewrd"}


def test_two_objectives_prove_and_check_end_to_end(tmp_path: Path) -> None:
    """The kernel re-reads the file and scores each lemma with the objective it chose."""
    for folder, name in (("worldmodels", "cliff.toml"), ("policies", "cliff-walk.json")):
        (tmp_path / folder).mkdir(exist_ok=True)
        shutil.copy(ROOT / folder / name, tmp_path / folder / name)
    (tmp_path / "obligations").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.proofs]\n")
    text = TWO.replace("cliff-q.json", "cliff-walk.json").replace('discount = "9/10"\n', "")
    (tmp_path / "obligations" / "two.toml").write_text(text)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=tmp_path, capture_output=True, check=False,
                              text=True, timeout=300)

    proved = run("prove")
    assert proved.returncode == 0, proved.stdout + proved.stderr
    checked = run("check")
    assert checked.returncode == 0 and "4 accepted, 0 rejected" in checked.stdout, checked.stdout + checked.stderr
    statement = (tmp_path / "certificates" / "rep.policy.json").read_text()
    assert '"reward": "careful"' in statement and '"reward": "progress"' not in statement


def test_an_unknown_reward_of_a_named_objective_is_reported_at_its_key(tmp_path: Path) -> None:
    from proofs.prooftree.plan import make_plan

    (tmp_path / "worldmodels").mkdir()
    shutil.copy(ROOT / "worldmodels" / "cliff.toml", tmp_path / "worldmodels")
    (tmp_path / "obligations").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.proofs]\n")
    text = TWO.split('[[lemma]]\nid = "rep.policy"')[0].replace('reward = "careful"', 'reward = "carefull"')
    (tmp_path / "obligations" / "two.toml").write_text(text)
    (err,) = errors(pytest.raises(InputError, make_plan, tmp_path, []))
    assert err.where.key == "objective.repaired.reward" and err.where.line == 9
    assert 'unknown reward structure "carefull"' in err.problem
