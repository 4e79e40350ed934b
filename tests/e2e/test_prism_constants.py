"""Constants of a PRISM program given by an obligation (`[worldmodel] constants`), bound by the certificate.

Guards issue "PRISM users' models": "constants without a value: K. Give every constant a value in
the program" was the only way before.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("stormpy")

MODEL = Path(__file__).resolve().parents[1] / "worlds" / "prism" / "jump.nm"
OBLIGATION = """[worldmodel]
path = "../worldmodels/jump.nm"
constants = {{ N = {n}, p = "9/10" }}

[objective]
reward = "progress"
horizon = 4

[[lemma]]
id = "jump.alignment"
kind = "alignment"
epsilon = "1/10"
desirable = ['P>=1/2 [ F<=4 s=N ]']
"""


def project(tmp_path: Path, n: object = 3) -> Path:
    (tmp_path / "worldmodels").mkdir()
    (tmp_path / "obligations").mkdir()
    shutil.copy(MODEL, tmp_path / "worldmodels" / "jump.nm")
    (tmp_path / "pyproject.toml").write_text("[tool.proofs]\n")
    (tmp_path / "obligations" / "jump.toml").write_text(OBLIGATION.format(n=n))
    return tmp_path


def proofs(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=root, capture_output=True, text=True,
                          timeout=300, check=False)


def test_constants_from_the_obligation_prove_and_check(tmp_path: Path) -> None:
    root = project(tmp_path)
    proved = proofs(root, "prove", "--json")
    assert proved.returncode == 0, proved.stderr
    assert json.loads(proved.stdout)["results"][0]["status"] == "proved"
    assert proofs(root, "check").returncode == 0


def test_changed_constants_make_the_certificate_stale(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert proofs(root, "prove").returncode == 0
    (root / "obligations" / "jump.toml").write_text(OBLIGATION.format(n=4))
    checked = proofs(root, "check")
    assert checked.returncode == 1
    assert "world model" in checked.stdout and "REJECTED" in checked.stdout


def test_a_float_constant_is_an_input_error_at_its_key(tmp_path: Path) -> None:
    root = project(tmp_path, n=3.5)
    out = proofs(root, "prove")
    assert out.returncode == 2
    assert "constants.N" in out.stderr and "Traceback" not in out.stderr


def test_a_wrong_constant_name_is_reported(tmp_path: Path) -> None:
    root = project(tmp_path)
    text = (root / "obligations" / "jump.toml").read_text().replace("N = 3", "K = 3")
    (root / "obligations" / "jump.toml").write_text(text)
    out = proofs(root, "prove")
    assert out.returncode == 2
    assert "no undefined constant 'K'" in out.stderr
