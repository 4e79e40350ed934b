"""End-to-end: `proofs show`, `proofs eval`, `proofs import gym` and their exit codes."""

import json
from fractions import Fraction

import pytest


def test_show_summarises_model(proofs):
    out = proofs("show", "worldmodels/cliff.toml")
    assert out.returncode == 0, out.stderr
    assert "4 states, 6 choices, 10 transitions" in out.stdout
    assert "fatal (1 states)" in out.stdout


def test_show_json_is_one_document(proofs):
    out = proofs("show", "worldmodels/cliff.toml", "--json")
    doc = json.loads(out.stdout)
    assert doc["states"] == 4 and doc["labels"]["goal"] == 1


def test_eval_reports_exact_values(proofs):
    out = proofs("eval", "worldmodels/cliff.toml", "--objective", "progress,horizon=6", "--policy",
                 "policies/cliff-walk.json", "--property", 'P<=0.01 [ F "fatal" ]', "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["j_policy"] == {"lo": "57/64", "hi": "57/64"}
    assert doc["j_star"] == {"lo": "157/160", "hi": "157/160"}
    assert doc["constraints"][0]["value"] == {"lo": "0", "hi": "0"} and doc["constraints"][0]["holds"] is True


def test_eval_csv_policy_and_geometric_horizon(proofs):
    out = proofs("eval", "worldmodels/cliff.toml", "--objective", "progress,horizon=geometric,discount=0.9",
                 "--policy", "policies/cliff-run.csv", "--property", 'P<=0.01 [ F "fatal" ]', "--json")
    doc = json.loads(out.stdout)
    assert doc["j_policy"]["lo"] == "9/10"
    assert doc["constraints"][0]["value"]["lo"] == "1/10" and doc["constraints"][0]["holds"] is False


@pytest.mark.parametrize("args, fragment", [
    (["show", "worldmodels/missing.toml"], "missing.toml"),
    (["eval", "worldmodels/cliff.toml", "--objective", "nope,horizon=3"], "unknown reward structure \"nope\""),
    (["eval", "worldmodels/cliff.toml", "--objective", "progress,horizon=3", "--property", 'P<=0.1 [ F "lava" ]'],
     "lava"),
    (["eval", "worldmodels/cliff.toml", "--objective", "progress,horizon=3", "--property", "P<=0.1 [ F U ]"],
     "column"),
    (["eval", "worldmodels/cliff.toml", "--objective", "progress,horizon=geometric"], "discount"),
])
def test_bad_input_exits_2_without_traceback(proofs, args, fragment):
    out = proofs(*args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert fragment in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_model_reports_every_problem(proofs, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('initial = "a"\n[states.a.actions.go]\nto = { a = "1/2", b = "1/3" }\n'
                   '[states.c.actions.go]\nto = { a = "-1", c = "2" }\n')
    out = proofs("show", str(bad))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "bad.toml" in out.stderr and "states.a.actions.go" in out.stderr and "states.c.actions.go" in out.stderr


def test_import_gym_frozenlake_then_eval(proofs, tmp_path):
    target = tmp_path / "lake.json"
    out = proofs("import", "gym", "FrozenLake-v1", "-o", str(target), "--kw", "map_name=4x4")
    assert out.returncode == 0, out.stderr
    out = proofs("eval", str(target), "--objective", "reward,horizon=100", "--property", 'P<=0.5 [ F "hole" ]',
                 "--json")
    doc = json.loads(out.stdout)
    assert 0 < Fraction(doc["j_star"]["lo"]) < 1      # the optimal success probability of slippery FrozenLake


def test_help_explains_commands(proofs):
    out = proofs("--help")
    assert out.returncode == 0 and "eval" in out.stdout and "show" in out.stdout
