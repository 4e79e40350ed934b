"""`proofs explain` presents only what the kernel accepts against the current inputs.

Guards the hardening issue's defect 10 (explain printed PROVED for a certificate whose model,
obligation or policy had changed) and defect 9 (it printed a forged diagnosis as fact; engine
commentary is now labelled so).
"""

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path):
    """The example project with its committed certificates."""
    for folder in ("worldmodels", "policies", "obligations", "certificates"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_an_accepted_certificate_is_explained_as_checked(proofs, project):
    out = proofs("explain", "cliff.walk-policy", cwd=project)
    assert out.returncode == 0, out.stderr
    assert "PROVED (checked by the kernel against the current inputs)" in out.stdout


@pytest.mark.parametrize(("lemma_id", "change", "why"), [
    ("cliff.walk-policy", ("worldmodels/cliff.toml", 'slip = "1/10"', 'slip = "1/5"'), "world model worldmodels/cliff.toml"),
    ("cliff.walk-policy", ("worldmodels/cliff.toml", "# A corridor", "#  A corridor"), "has SHA-256"),
    ("cliff.walk-policy", ("obligations/cliff.toml", 'epsilon = "0.1"', 'epsilon = "0.2"'), "statement step"),
    ("cliff.walk-policy", ("policies/cliff-walk.json", '"walk"', '"run"'), "the policy's behaviour changed"),
    ("careful.safe", ("certificates/careful.walk-policy.json", '"version": "0.1.0"', '"version": "0.1.1"'),
     "the premise certificate certificates/careful.walk-policy.json changed"),
], ids=["model", "model-comment", "obligation", "policy", "premise"])
def test_a_certificate_for_changed_inputs_is_stale(proofs, project, lemma_id, change, why):
    before = json.loads((project / "certificates" / f"{lemma_id}.json").read_text())["status"]
    edit(project / change[0], change[1], change[2])
    out = proofs("explain", lemma_id, cwd=project)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith(f"{lemma_id}: STALE: the certificate says {before.upper()}, but its inputs changed"), first
    assert why in out.stdout and "Run `proofs prove`" in out.stdout
    assert "PROVED (" not in out.stdout and "J(policy)" not in out.stdout


def test_a_forged_diagnosis_is_rejected_not_printed(proofs, project):
    cert = project / "certificates" / "cliff.walk-policy.json"
    doc = json.loads(cert.read_text())
    doc["diagnosis"][0]["action"] = "run"
    doc["diagnosis"][0]["state"] = "goal"
    cert.write_text(json.dumps(doc))
    out = proofs("explain", "cliff.walk-policy", cwd=project)
    assert out.returncode == 1
    assert out.stdout.startswith("cliff.walk-policy: REJECTED: the certificate says PROVED, but the kernel does not")
    assert "diagnosis[0]" in out.stdout and "state goal" not in out.stdout


def test_engine_commentary_is_labelled(proofs, project):
    cert = project / "certificates" / "cliff.walk-policy.json"
    doc = json.loads(cert.read_text())
    doc["engine"]["name"] = "an-unverified-engine"
    doc["diagnosis"][0]["loss"] = 123.0   # floats of the diagnosis are commentary: accepted, labelled
    cert.write_text(json.dumps(doc))
    out = proofs("explain", "cliff.walk-policy", cwd=project)
    assert out.returncode == 0, out.stdout
    lines = out.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if "Diagnosis" in line)
    assert lines[header].startswith("  Diagnosis (engine commentary, not checked by the kernel):")
    assert "loses 123" in lines[header + 1]
    assert "  engine (not checked by the kernel): an-unverified-engine 0.1.0" in lines
    margin = proofs("explain", "careful.alignment", cwd=project).stdout
    assert "margin epsilon* (engine commentary, not checked by the kernel) = 0.0198125" in margin
    note = proofs("explain", "cliff.run-safe", cwd=project).stdout
    assert "note (engine commentary, not checked by the kernel): direct evaluation" in note


def test_a_malformed_certificate_is_rejected_by_explain_without_traceback(proofs, project):
    (project / "certificates" / "cliff.alignment.json").write_text('{"format": "proofs.certificate/1", "lemma": 5, "status": "proved"}')
    out = proofs("explain", "cliff.alignment", cwd=project)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stdout.startswith("cliff.alignment: REJECTED: the certificate says PROVED, but the kernel does not")
    assert "certificates/cliff.alignment.json:lemma: expected an object" in out.stdout
