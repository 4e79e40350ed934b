"""End-to-end: prove, re-use, re-prove on change, check, tamper detection, explain, graph, exit codes."""

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

OBLIGATION = """
[worldmodel]
path = "../worldmodels/cliff.toml"

[objective]
reward = "progress"
horizon = 6

[[lemma]]
id = "walk"
kind = "policy"
policy = "{policy}"
epsilon = "0.1"

[[lemma]]
id = "run"
kind = "policy"
policy = "../policies/cliff-run.csv"
epsilon = "0.1"
"""

WALK_FUNCTION = '''
def choose(state, labels):
    return "stay" if state in ("goal", "fatal") else "walk"
'''


def make_project(tmp: Path, policy: str = "../policies/cliff-walk.json") -> Path:
    (tmp / "worldmodels").mkdir(parents=True)
    (tmp / "policies").mkdir()
    (tmp / "obligations").mkdir()
    shutil.copy(ROOT / "worldmodels" / "cliff.toml", tmp / "worldmodels")
    for name in ("cliff-walk.json", "cliff-run.csv"):
        shutil.copy(ROOT / "policies" / name, tmp / "policies")
    (tmp / "policies" / "walk.py").write_text(WALK_FUNCTION)
    (tmp / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    (tmp / "obligations" / "cliff.toml").write_text(OBLIGATION.format(policy=policy))
    return tmp


def results(out):
    assert "Traceback" not in out.stderr, out.stderr
    return {r["id"]: r for r in json.loads(out.stdout)["results"]}


def test_prove_then_reuse_then_reprove_on_change(proofs, tmp_path):
    project = make_project(tmp_path)
    first = results(proofs("prove", "--json", cwd=project))
    assert first["walk"]["status"] == "proved" and first["run"]["status"] == "proved"
    assert first["walk"]["values"]["j_star"] == {"lo": "157/160", "hi": "157/160"}
    again = proofs("prove", "--json", cwd=project)
    assert again.returncode == 0
    assert {r["action"] for r in results(again).values()} == {"re-used"}
    model = project / "worldmodels" / "cliff.toml"
    model.write_text(model.read_text().replace('slip = "1/10"', 'slip = "1/2"'))
    third = results(proofs("prove", "--json", cwd=project))
    assert {r["action"] for r in third.values()} == {"discharged"}
    assert third["run"]["status"] == "refuted"


def test_refuted_policy_exit_code_and_explain(proofs, tmp_path):
    project = make_project(tmp_path)
    model = project / "worldmodels" / "cliff.toml"
    model.write_text(model.read_text().replace('slip = "1/10"', 'slip = "1/2"'))
    out = proofs("prove", "--json", cwd=project)
    assert out.returncode == 1 and results(out)["run"]["status"] == "refuted"
    text = proofs("explain", "run", cwd=project).stdout
    assert "REFUTED" in text and "optimal is" in text


def test_check_accepts_then_rejects_tampering(proofs, tmp_path):
    project = make_project(tmp_path)
    proofs("prove", cwd=project)
    ok = proofs("check", cwd=project)
    assert ok.returncode == 0 and "0 rejected" in ok.stdout
    cert = project / "certificates" / "walk.json"
    doc = json.loads(cert.read_text())
    doc["values"]["j_star"] = {"lo": "1/2", "hi": "1/2"}
    cert.write_text(json.dumps(doc))
    bad = proofs("check", cwd=project)
    assert bad.returncode == 1 and "walk.json" in bad.stdout


def test_check_rejects_changed_policy_behaviour(proofs, tmp_path):
    project = make_project(tmp_path)
    proofs("prove", cwd=project)
    policy = project / "policies" / "cliff-walk.json"
    policy.write_text(policy.read_text().replace('"mid": "walk"', '"mid": "run"'))
    bad = proofs("check", cwd=project)
    assert bad.returncode == 1 and "policy's behaviour changed" in bad.stdout


def test_check_rejects_changed_model_byte(proofs, tmp_path):
    project = make_project(tmp_path)
    proofs("prove", cwd=project)
    model = project / "worldmodels" / "cliff.toml"
    model.write_text(model.read_text() + "\n")
    bad = proofs("check", cwd=project)
    assert bad.returncode == 1 and "world model" in bad.stdout


def test_table_and_function_give_byte_identical_certificates(proofs, tmp_path):
    a = make_project(tmp_path / "a")
    b = make_project(tmp_path / "b", policy="../policies/walk.py:choose")
    proofs("prove", cwd=a)
    out = proofs("prove", "--allow-code", cwd=b)
    assert out.returncode == 0, out.stderr
    assert (a / "certificates" / "walk.json").read_bytes() == (b / "certificates" / "walk.json").read_bytes()


def test_function_policy_needs_allow_code(proofs, tmp_path):
    b = make_project(tmp_path, policy="../policies/walk.py:choose")
    out = proofs("prove", cwd=b)
    assert out.returncode == 2 and "--allow-code" in out.stderr


def test_graph_writes_dot(proofs, tmp_path):
    project = make_project(tmp_path)
    out = proofs("graph", cwd=project)
    assert out.returncode == 0 and '"walk"' in out.stdout and out.stdout.startswith("digraph")


def test_bad_obligation_exits_2(proofs, tmp_path):
    project = make_project(tmp_path)
    (project / "obligations" / "cliff.toml").write_text(OBLIGATION.format(policy="../policies/none.json")
                                                         .replace('epsilon = "0.1"', 'epsilon = "-1"', 1))
    out = proofs("prove", cwd=project)
    assert out.returncode == 2 and "cliff.toml" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("timeout", ["0.000001"])
def test_timeout_is_unknown_never_proved(proofs, tmp_path, timeout):
    project = make_project(tmp_path)
    out = proofs("prove", "--json", "--timeout", timeout, cwd=project)
    statuses = {r["status"] for r in results(out).values()}
    assert "proved" not in statuses and out.returncode == 3


def copy_repository_project(tmp: Path, everything: bool = False) -> Path:
    """The repository's examples (by default only the cliff ones, which prove in about a second)."""
    for folder in ("worldmodels", "policies", "obligations"):
        shutil.copytree(ROOT / folder, tmp / folder)
    if not everything:
        for extra in (tmp / "obligations").glob("warehouse*.toml"):
            extra.unlink()
    (tmp / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    return tmp


def test_repository_obligations_compose_into_safety_certificates(proofs, tmp_path):
    project = copy_repository_project(tmp_path, everything=True)
    out = proofs("prove", "--json", "--jobs", "2", cwd=project)
    assert out.returncode == 0, out.stdout
    r = results(out)
    assert r["warehouse.trained-safe"]["status"] == "proved"
    assert r["warehouse.delivery-alignment"]["status"] == "refuted"
    assert "they differ" in proofs("explain", "warehouse.delivery-alignment", cwd=project).stdout
    assert r["careful.safe"]["status"] == "proved"
    assert r["cliff.alignment"]["status"] == "refuted"
    assert r["cliff.run-safe"]["status"] == "refuted"
    direct = r["cliff.run-safe"]["values"]["direct"][0]
    assert direct["value"] == {"lo": "1/10", "hi": "1/10"} and direct["holds"] is False
    assert "reward hack" in proofs("explain", "cliff.alignment", cwd=project).stdout


def test_check_rejects_a_composition_whose_premise_is_refuted(proofs, tmp_path):
    project = copy_repository_project(tmp_path)
    proofs("prove", cwd=project)
    cert = project / "certificates" / "cliff.run-safe.json"
    doc = json.loads(cert.read_text())
    doc["status"] = "proved"
    cert.write_text(json.dumps(doc))
    bad = proofs("check", cwd=project)
    assert bad.returncode == 1 and "cliff.run-safe.json" in bad.stdout and "composition step" in bad.stdout


def test_check_rejects_missing_premise_certificate(proofs, tmp_path):
    project = copy_repository_project(tmp_path)
    proofs("prove", cwd=project)
    (project / "certificates" / "careful.walk-policy.json").unlink()
    bad = proofs("check", str(project / "certificates" / "careful.safe.json"), cwd=project)
    assert bad.returncode == 1 and "careful.walk-policy.json" in bad.stdout and "missing" in bad.stdout


def test_check_rejects_a_certificate_swapped_between_lemmas(proofs, tmp_path):
    project = make_project(tmp_path)
    proofs("prove", cwd=project)
    certs = project / "certificates"
    (certs / "run.json").write_bytes((certs / "walk.json").read_bytes())
    bad = proofs("check", cwd=project)
    assert bad.returncode == 1 and "run.json" in bad.stdout and "swapped" in bad.stdout


def test_check_rejects_a_changed_epsilon(proofs, tmp_path):
    project = make_project(tmp_path)
    proofs("prove", cwd=project)
    obligation = project / "obligations" / "cliff.toml"
    obligation.write_text(obligation.read_text().replace('epsilon = "0.1"', 'epsilon = "0.01"', 1))
    bad = proofs("check", cwd=project)
    assert bad.returncode == 1 and "walk.json" in bad.stdout and "statement" in bad.stdout


def test_editing_one_model_reproves_exactly_its_dependents(proofs, tmp_path):
    project = copy_repository_project(tmp_path)
    shutil.copy(project / "worldmodels" / "cliff.toml", project / "worldmodels" / "cliff-b.toml")
    careful = project / "obligations" / "cliff-careful.toml"
    careful.write_text(careful.read_text().replace("../worldmodels/cliff.toml", "../worldmodels/cliff-b.toml"))
    assert proofs("prove", cwd=project).returncode == 0
    model = project / "worldmodels" / "cliff-b.toml"
    model.write_text(model.read_text() + "# edited\n")
    again = results(proofs("prove", "--json", cwd=project))
    redone = {i for i, r in again.items() if r["action"] != "re-used"}
    assert redone == {"careful.alignment", "careful.walk-policy", "careful.safe"}


def test_second_run_reuses_by_stamp_and_a_tampered_certificate_is_checked_again(proofs, tmp_path):
    project = make_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    stamps = json.loads((project / ".proofs" / "stamps.json").read_text())
    assert set(stamps) == {"walk", "run"}
    second = proofs("prove", "--json", cwd=project)
    assert all(r["action"] == "re-used" for r in results(second).values()), second.stdout
    assert "since the kernel accepted them" in second.stdout
    cert = project / "certificates" / "walk.json"
    doc = json.loads(cert.read_text())
    doc["values"]["gap"] = {"lo": "0", "hi": "0"}   # a tampered number: the stamp no longer matches
    cert.write_text(json.dumps(doc))
    third = results(proofs("prove", "--json", cwd=project))
    assert third["walk"]["action"] == "discharged" and third["run"]["action"] == "re-used"
    assert json.loads(cert.read_text())["values"]["gap"] != {"lo": "0", "hi": "0"}
    assert proofs("check", cwd=project).returncode == 0


def test_force_reproves_everything(proofs, tmp_path):
    project = make_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    forced = results(proofs("prove", "--force", "--json", cwd=project))
    assert all(r["action"] == "discharged" for r in forced.values())
