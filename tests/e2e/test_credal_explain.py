"""`proofs explain` on credal lemmas shows nature's worst choices where the policy acts: against
Φ for a refuted alignment lemma's reward hack, against J for a policy lemma."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

OBLIGATION = """\
[worldmodel]
path = "../worldmodels/credal-cliff.toml"

[objective]
reward = "r"
horizon = 5

[[lemma]]
id = "credal.alignment"
kind = "alignment"
epsilon = "3/4"
desirable = ['P<=0.1 [ F "fatal" ]']
expect = "refuted"

[[lemma]]
id = "credal.risky"
kind = "policy"
policy = "../policies/risky.json"
epsilon = "1/10"
expect = "refuted"
"""


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=project, capture_output=True, text=True)


def test_explain_shows_nature_on_credal_lemmas(tmp_path: Path) -> None:
    for folder in ("worldmodels", "policies", "obligations"):
        (tmp_path / folder).mkdir()
    shutil.copy(ROOT / "tests" / "worlds" / "models" / "credal-cliff.toml", tmp_path / "worldmodels")
    (tmp_path / "policies" / "risky.json").write_text(json.dumps(
        {"format": "proofs.policy/1", "actions": {"s0": "risky", "s1": "stay", "s2": "stay", "s3": "stay"}}))
    (tmp_path / "obligations" / "credal.toml").write_text(OBLIGATION)
    (tmp_path / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\n')
    proved = _run(tmp_path, "prove", "--json")
    assert proved.returncode == 0, proved.stdout + proved.stderr
    statuses = {r["id"]: r["status"] for r in json.loads(proved.stdout)["results"]}
    assert statuses == {"credal.alignment": "refuted", "credal.risky": "refuted"}
    assert _run(tmp_path, "check").returncode == 0
    hack = _run(tmp_path, "explain", "credal.alignment").stdout
    assert "step 0, s0: risky" in hack
    assert "makes the value of P<=1/10 [ F \"fatal\" ] highest" in hack
    assert "s0: risky -> nature picks {s1: 0.6, s3: 0.4}" in hack
    policy = _run(tmp_path, "explain", "credal.risky").stdout
    assert "makes J lowest" in policy and "s0: risky -> nature picks {s1: 0.6, s3: 0.4}" in policy
