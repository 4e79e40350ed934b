"""End-to-end: one safety argument on a point model and on an interval model that contains it.

The project is the cliff walk of the repository's example project with a small slip on walking
too (probability 1/100 of falling, from the start and from the middle). On the point model the
careful reward's alignment lemma, the walking policy's lemma and their composition are all
PROVED: the walk falls within 6 steps with probability about 0.037 ≤ 0.05. The interval model
widens every probability p < 1 to [p − 1/200, p + 1/200]; nature, which may pick any distribution
within the intervals at every step, makes the walk fall with probability about 0.055 > 0.05, so
the composition is REFUTED by the direct evaluation of Φ under the policy (which the kernel
re-checks exactly), and `proofs explain` shows nature's choices that do it. (The credal alignment
lemma is refuted too: walking is near-optimal and violates Φ in its worst case over nature.)
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

D = Fraction(1, 200)   # the half-width of every interval

MODEL = """\
# The cliff walk, where walking slips too (1/100). {what}
rewards = ["progress", "harm", "careful"]
initial = "start"

[states.start]
labels = ["init"]
[states.start.actions.walk]
to = {{ mid = {half}, start = {rest}, fatal = {slip} }}
rewards = {{ careful = "-1/10" }}
[states.start.actions.run]
to = {{ goal = {run_goal}, fatal = {run_fatal} }}
rewards = {{ progress = "9/10", careful = "-1/10" }}

[states.mid.actions.walk]
to = {{ goal = {half}, mid = {rest}, fatal = {slip} }}
rewards = {{ progress = "1/2", careful = "2/5" }}
[states.mid.actions.run]
to = {{ goal = {run_goal}, fatal = {run_fatal} }}
rewards = {{ progress = "9/10", careful = "-1/10" }}

[states.goal]
labels = ["goal"]
[states.goal.actions.stay]
to = {{ goal = "1" }}

[states.fatal]
labels = ["fatal"]
rewards = {{ harm = "1" }}
[states.fatal.actions.stay]
to = {{ fatal = "1" }}
"""

OBLIGATION = """\
# The careful argument on the {name} model: the walking policy is safe if every near-optimal
# policy is (alignment) and walking is near-optimal (policy).
[worldmodel]
path = "../worldmodels/{name}.toml"

[objective]
reward = "careful"
horizon = 6

[[lemma]]
id = "{name}.alignment"
kind = "alignment"
epsilon = "1/100"
desirable = ['P<=0.05 [ F "fatal" ]']
{expect_alignment}
[[lemma]]
id = "{name}.walk"
kind = "policy"
policy = "../policies/walk.json"
epsilon = "1/100"

[[lemma]]
id = "{name}.safe"
kind = "certificate"
from = ["{name}.alignment", "{name}.walk"]
{expect_safe}"""

POINT = {"half": "1/2", "rest": "49/100", "slip": "1/100", "run_goal": "9/10", "run_fatal": "1/10"}


def _interval(p: str) -> str:
    """The TOML interval [p − D, p + D] of a point probability p."""
    centre = Fraction(p)
    return f'["{centre - D}", "{centre + D}"]'


def make_project(root: Path) -> Path:
    """The project: pyproject.toml, two world models, one policy, two obligation files."""
    for folder in ("worldmodels", "policies", "obligations"):
        (root / folder).mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    (root / "worldmodels" / "point.toml").write_text(MODEL.format(
        what="Point probabilities.", **{k: f'"{v}"' for k, v in POINT.items()}))
    (root / "worldmodels" / "interval.toml").write_text(MODEL.format(
        what=f"Every point probability p < 1 widened to [p - {D}, p + {D}].",
        **{k: _interval(v) for k, v in POINT.items()}))
    (root / "policies" / "walk.json").write_text(json.dumps(
        {"format": "proofs.policy/1", "actions": {"start": "walk", "mid": "walk", "goal": "stay", "fatal": "stay"}}))
    (root / "obligations" / "point.toml").write_text(OBLIGATION.format(name="point", expect_alignment="",
                                                                       expect_safe=""))
    (root / "obligations" / "interval.toml").write_text(OBLIGATION.format(
        name="interval", expect_alignment='expect = "refuted"\n', expect_safe='expect = "refuted"\n'))
    return root


def test_a_certificate_proved_on_a_point_model_is_refuted_by_nature_on_an_interval_model(proofs, tmp_path):
    project = make_project(tmp_path)
    out = proofs("prove", "--json", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    status = {r["id"]: r["status"] for r in json.loads(out.stdout)["results"]}
    assert status == {"point.alignment": "proved", "point.walk": "proved", "point.safe": "proved",
                      "interval.alignment": "refuted", "interval.walk": "proved", "interval.safe": "refuted"}, status
    safe = json.loads((project / "certificates" / "interval.safe.json").read_text())
    (row,) = safe["values"]["direct"]
    assert row["holds"] is False and Fraction(row["value"]["lo"]) > Fraction(1, 20)

    check = proofs("check", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr

    words = proofs("explain", "interval.safe", cwd=project)
    assert words.returncode == 0, words.stdout + words.stderr
    text = words.stdout
    assert "REFUTED" in text and "nature" in text, text
    # nature's distribution where the walk starts: as much falling as the intervals allow
    assert re.search(r"steps 0-3, start: walk -> nature picks \{start: 0\.49, mid: 0\.495, fatal: 0\.015\}", text), text
    point = proofs("explain", "point.safe", cwd=project)
    assert point.returncode == 0 and "PROVED" in point.stdout and "nature" not in point.stdout, point.stdout

    # the kernel re-checks the direct row: the point model's value claimed on the interval model is rejected
    path = project / "certificates" / "interval.safe.json"
    forged = json.loads(path.read_text())
    forged["values"]["direct"][0].update(value={"lo": "0.036632125599", "hi": "0.036632125599"}, holds=True)
    path.write_text(json.dumps(forged, indent=2, sort_keys=True))
    bad = proofs("check", cwd=project)
    assert bad.returncode == 1 and "direct evaluation step" in bad.stdout + bad.stderr, bad.stdout + bad.stderr
