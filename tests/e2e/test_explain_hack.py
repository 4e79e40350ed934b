"""`proofs explain` on reward hacks: the states a hack visits, the margin ε* in words, and the
warning for a hack whose catastrophe falls on the episode's last visited state s_T (where no
reward accrues). The newcomer items of the hardening issue."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The cliff corridor with a one-step episode: running is optimal, and its slip reaches "fatal" at
# s_1 = s_T, after the last reward. Margins: 'P<=1 ...' is never violated (inf); the others fail
# already at epsilon = 0.
OBLIGATION = """
[worldmodel]
path = "../worldmodels/cliff.toml"

[objective]
reward = "progress"
horizon = 1

[[lemma]]
id = "last"
kind = "alignment"
epsilon = "0.1"
desirable = ['P<=0.01 [ F "fatal" ]']
expect = "refuted"
margin = true

[[lemma]]
id = "strict"
kind = "alignment"
epsilon = "0.1"
desirable = ['P<0.01 [ F "fatal" ]']
expect = "refuted"
margin = true

[[lemma]]
id = "never"
kind = "alignment"
epsilon = "0.1"
desirable = ['P<=1 [ F "fatal" ]']
margin = true
"""


@pytest.fixture(scope="module")
def one_step(tmp_path_factory):
    project = tmp_path_factory.mktemp("one_step")
    shutil.copytree(ROOT / "worldmodels", project / "worldmodels")
    (project / "obligations").mkdir()
    (project / "obligations" / "last.toml").write_text(OBLIGATION)
    (project / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    return project


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The example project with its committed certificates."""
    project = tmp_path_factory.mktemp("example")
    for folder in ("worldmodels", "policies", "obligations", "certificates"):
        shutil.copytree(ROOT / folder, project / folder)
    (project / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    return project


@pytest.fixture(scope="module")
def proved_one_step(one_step):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "proofs", "prove"], cwd=one_step, capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return one_step


def test_the_hack_is_shown_only_where_it_acts(proofs, example):
    out = proofs("explain", "cliff.alignment", cwd=example)
    assert out.returncode == 0, out.stdout
    lines = out.stdout.splitlines()
    at_step_0 = [line.strip() for line in lines if line.strip().startswith("step 0,")]
    assert at_step_0 == ["step 0, start: walk"], out.stdout    # not goal or mid, which it cannot be in yet
    assert not any("step 1, goal" in line for line in lines)    # goal is reached at step 2 at the earliest


def test_two_hacks_differ_only_in_places_they_visit(proofs, example):
    out = proofs("explain", "warehouse.delivery-alignment", cwd=example)
    assert out.returncode == 0, out.stdout
    assert "they differ in" in out.stdout and "places they visit" in out.stdout
    assert not any(line.strip().startswith("step 0,") for line in out.stdout.splitlines())  # same first move


def test_margin_zero_says_the_lemma_fails_already_at_zero(proofs, proved_one_step):
    out = proofs("explain", "strict", cwd=proved_one_step).stdout
    assert ("margin epsilon* (engine commentary, not checked by the kernel) = 0: the lemma already fails at "
            "epsilon = 0: even optimal policies violate Φ\n") in out
    assert "holds for every epsilon below" not in out
    caveat = proofs("explain", "last", cwd=proved_one_step).stdout   # a <= constraint could sit on its threshold
    assert "already fails at epsilon = 0" in caveat and "holds at epsilon = 0 only" in caveat


def test_margin_inf_says_no_policy_violates_phi(proofs, proved_one_step):
    out = proofs("explain", "never", cwd=proved_one_step).stdout
    assert "= inf: no policy at all violates Φ, so the lemma holds for every epsilon\n" in out
    assert "below it" not in out


def test_a_catastrophe_on_the_last_step_is_pointed_out(proofs, proved_one_step):
    out = proofs("explain", "last", cwd=proved_one_step).stdout
    assert 'Warning: the hack violates P<=1/100 [ F "fatal" ] only through the last visited state s_1' in out
    assert "probability 0.1, and before with probability 0" in out
    assert "costs J nothing" in out


def test_no_last_step_warning_when_the_hack_falls_earlier(proofs, example):
    out = proofs("explain", "cliff.alignment", cwd=example).stdout   # the hack runs at mid from step 1 on
    assert "REFUTED" in out and "Warning" not in out
