"""A safety argument over a million steps, as a user runs it: the alignment lemma, the policy lemma
and their composition on a PRISM program at H = 1e6, each bounded by slopes from its last steps
(issue "PRISM users' models": H = 1e6 on a small model; the premises and Φ's direct evaluation
must be as fast as the lemma itself, or the safety certificate waits on them)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("stormpy")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from long_horizon import PROGRAM

OBLIGATION = """[worldmodel]
path = "../worldmodels/cliff.nm"

[objective]
reward = "r"
horizon = 1000000

[[lemma]]
id = "long.policy"
kind = "policy"
policy = "../policies/robot.csv"
epsilon = "1/100"

[[lemma]]
id = "long.alignment"
kind = "alignment"
epsilon = "1/100"
desirable = ['R{"r"}>=999900 [ C ]']

[[lemma]]
id = "long.safety"
kind = "certificate"
from = ["long.alignment", "long.policy"]
"""


def project(root: Path, side: int = 10) -> Path:
    for folder in ("worldmodels", "obligations", "policies"):
        (root / folder).mkdir()
    (root / "pyproject.toml").write_text("[tool.proofs]\n")
    (root / "worldmodels" / "cliff.nm").write_text(PROGRAM.format(side=side))
    rows = [f'"x={x},y={y}",{"east" if x < side - 1 else "south" if y > 0 else "stay"}'
            for x in range(side) for y in range(side)]
    (root / "policies" / "robot.csv").write_text("state,action\n" + "\n".join(rows) + "\n")
    (root / "obligations" / "long.toml").write_text(OBLIGATION)
    return root


def test_a_safety_certificate_over_a_million_steps(tmp_path: Path, proofs) -> None:
    root = project(tmp_path)
    proved = proofs("prove", "--json", cwd=root)
    assert proved.returncode == 0, proved.stderr
    statuses = {r["id"]: r["status"] for r in json.loads(proved.stdout)["results"]}
    assert statuses == {"long.policy": "proved", "long.alignment": "proved", "long.safety": "proved"}
    certificates = {p.stem: json.loads(p.read_text()) for p in (root / "certificates").glob("*.json")}
    assert certificates["long.policy"]["witness"]["tail"] == 256
    assert certificates["long.alignment"]["witness"]["tail"] == 256
    direct = certificates["long.safety"]["values"]["direct"][0]
    assert direct["holds"] is True
    value = [float(direct["value"][side].split("/")[0]) / float(direct["value"][side].split("/")[1])
             for side in ("lo", "hi")]
    assert 999982.64 < value[0] <= value[1] < 999982.65   # Storm: R{"r"}max=? [C<=1000000] = 999982.6446…
    checked = proofs("check", cwd=root)
    assert checked.returncode == 0, checked.stdout
    for lemma in ("long.policy", "long.alignment"):
        explained = proofs("explain", lemma, cwd=root)
        assert explained.returncode == 0, explained.stderr
        assert "the kernel evaluated the last 257 of its 1,000,000 steps" in explained.stdout
