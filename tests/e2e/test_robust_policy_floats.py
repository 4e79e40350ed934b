"""The robust policy lemma on an interval model too large for exact arithmetic, as a user runs it.

An interval DRN file (a generated random model, every p widened to [0.9p, min(1, 1.1p)]) and a
Q-table policy: `proofs prove` decides the lemma J_lo(π₀) ≥ J*_robust − ε in float arithmetic
(beyond the exact limit of transitions × steps), `proofs check` and the kernel on its own
(`python -m proofs.kernel`) accept the certificate, whose J* encloses Storm's ROBUST value; a
certificate whose claimed J* is moved is rejected, and so is the same certificate against a model
whose intervals were edited.
"""

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import stormpy
from tests.support.mdps import random_mdp, widened

from proofs.interop import storm

STATES, STEPS = 2000, 20
OBLIGATION = f"""
[worldmodel]
path = "../worldmodels/widened.drn"

[objective]
reward = "r"
horizon = {STEPS}

[[lemma]]
id = "robust.walk"
kind = "policy"
policy = "../policies/first.q.npy"
epsilon = "100"
expect = "proved"
"""


def make_project(root: Path) -> Path:
    for folder in ("worldmodels", "policies", "obligations"):
        (root / folder).mkdir(parents=True)
    (root / "worldmodels" / "widened.drn").write_text(storm.to_drn(widened(random_mdp(STATES, 0))), encoding="utf-8")
    q = np.zeros((STATES, 4))
    q[:, 0] = 1.0   # always the first action
    np.save(root / "policies" / "first.q.npy", q)
    (root / "pyproject.toml").write_text("[tool.proofs]\n")
    (root / "obligations" / "robust.toml").write_text(OBLIGATION)
    return root


def test_the_robust_policy_lemma_in_floats_from_an_interval_drn(proofs, tmp_path):
    project = make_project(tmp_path)
    out = proofs("prove", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    path = project / "certificates" / "robust.walk.json"
    cert = json.loads(path.read_text())
    assert cert["status"] == "proved" and cert["witness"]["arithmetic"] == "float", cert["witness"]
    j_star = {k: Fraction(v) for k, v in cert["values"]["j_star"].items()}
    model = stormpy.build_model_from_drn[stormpy.RationalInterval](str(project / "worldmodels" / "widened.drn"))
    theirs = storm.check(model, f"Rmax=? [C<={STEPS}]", exact=True, nature="robust")[model.initial_states[0]]
    assert j_star["lo"] <= theirs <= j_star["hi"] and j_star["hi"] - j_star["lo"] < Fraction(1, 10**9)

    assert proofs("check", cwd=project).returncode == 0
    kernel = [sys.executable, "-m", "proofs.kernel", str(path), "--models", str(project / ".proofs" / "models")]
    done = subprocess.run(kernel, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    forged = dict(cert, values={**cert["values"], "j_star": {"lo": str(j_star["lo"] + 1), "hi": str(j_star["hi"] + 1)}})
    path.write_text(json.dumps(forged, indent=2))
    out = proofs("check", "--kernel-only", cwd=project)
    assert out.returncode == 1 and "j_star" in out.stdout + out.stderr, out.stdout + out.stderr
    path.write_text(json.dumps(cert, indent=2))

    drn = project / "worldmodels" / "widened.drn"
    drn.write_text(re.sub(r": \[[0-9/]+,", ": [0,", drn.read_text(), count=1))   # one lower bound edited to 0
    out = proofs("check", cwd=project)
    assert out.returncode == 1, out.stdout + out.stderr
