"""The alignment lemma on an interval model too large for exact arithmetic, as a user runs it.

The interval DRN of `test_robust_policy_floats` (2,000 states, every p widened to [0.9p, 1.1p]),
H = 20: beyond the exact limit, so the float path decides both lemmas with the credal bounds of
the float checker (policy and nature together above, a concrete robustly ε-optimal mixture below).
A loose threshold is proved, a tight one refuted with a reward hack; the kernel on its own accepts
both certificates, `proofs explain` shows nature's counterexample where the hack acts, and a
certificate whose attained value was moved is rejected.
"""

import json
import subprocess
import sys

from tests.e2e.test_robust_policy_floats import make_project

OBLIGATION = """
[worldmodel]
path = "../worldmodels/widened.drn"

[objective]
reward = "r"
horizon = 20

[[lemma]]
id = "robust.hack"
kind = "alignment"
epsilon = "1.5"
desirable = ['P<=1/2 [ F<=20 "fatal" ]']
expect = "refuted"

[[lemma]]
id = "robust.safe"
kind = "alignment"
epsilon = "1.5"
desirable = ['P<=9/10 [ F<=20 "fatal" ]']
expect = "proved"
"""


def test_robust_alignment_lemmas_in_floats_from_an_interval_drn(proofs, tmp_path):
    project = make_project(tmp_path)
    (project / "obligations" / "robust.toml").write_text(OBLIGATION)
    out = proofs("prove", "--json", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert {r["id"]: r["status"] for r in json.loads(out.stdout)["results"]} == \
        {"robust.hack": "refuted", "robust.safe": "proved"}
    certificates = project / "certificates"
    hack = json.loads((certificates / "robust.hack.json").read_text())
    assert hack["witness"]["arithmetic"] == "float" and hack["counterexample"]
    kernel = [sys.executable, "-m", "proofs.kernel", str(certificates / "robust.hack.json"),
              str(certificates / "robust.safe.json"), "--models", str(project / ".proofs" / "models")]
    done = subprocess.run(kernel, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    text = proofs("explain", "robust.hack", cwd=project).stdout
    assert "Nature's counterexample (computed for this explanation in floats" in text, text
    assert "step 0, 0: " in text and "-> nature picks {" in text, text

    row = hack["values"]["constraints"][0]
    forged = dict(hack, values={**hack["values"], "constraints": [dict(row, worst={"lo": "0.9", "hi": row["worst"]["hi"]})]})
    (certificates / "robust.hack.json").write_text(json.dumps(forged, indent=2))
    out = proofs("check", "--kernel-only", cwd=project)
    assert out.returncode == 1 and "robust.hack" in out.stdout + out.stderr, out.stdout + out.stderr
