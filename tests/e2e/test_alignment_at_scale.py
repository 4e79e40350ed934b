"""End-to-end: an alignment lemma beyond the exact limit (float path), engine names, explain."""

import json
from pathlib import Path

from tests.support.mdps import bench_generate

OBLIGATION = """
[worldmodel]
path = "../worldmodels/random_3000.tra"

[objective]
reward = "r"
horizon = 20

[[lemma]]
id = "hack"
kind = "alignment"
epsilon = "2"
desirable = ['P<=1/20 [ F "fatal" ]']
expect = "refuted"
{engine}
"""


def make_project(tmp: Path, engine: str = "") -> Path:
    bench_generate().write_explicit(bench_generate().random_model(3000, 0), tmp / "worldmodels")
    (tmp / "obligations").mkdir()
    (tmp / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    (tmp / "obligations" / "big.toml").write_text(OBLIGATION.format(engine=engine))
    return tmp


def test_float_path_proves_checks_explains_and_detects_a_tampered_witness(proofs, tmp_path):
    project = make_project(tmp_path)
    out = proofs("prove", "--json", cwd=project)
    assert out.returncode == 0, out.stderr
    (result,) = json.loads(out.stdout)["results"]
    assert result["status"] == "refuted"
    cert = json.loads((project / "certificates" / "hack.json").read_text())
    assert cert["witness"]["arithmetic"] == "float" and cert["witness"]["file"]["path"].endswith(".npz")
    worst = cert["values"]["constraints"][0]["worst"]
    from fractions import Fraction
    # decided (violated), so the search stops at Storm's multi-objective precision, 1e-4 relative
    assert Fraction(worst["hi"]) - Fraction(worst["lo"]) <= Fraction(1, 10**4) * (1 + Fraction(worst["hi"]))
    assert proofs("check", cwd=project).returncode == 0
    words = proofs("explain", "hack", cwd=project)
    assert words.returncode == 0 and "start mixture" in words.stdout and "differ in" in words.stdout, words.stdout
    sidecar = project / "certificates" / cert["witness"]["file"]["path"]
    data = bytearray(sidecar.read_bytes())
    data[len(data) // 2] ^= 0xFF
    sidecar.write_bytes(bytes(data))
    bad = proofs("check", cwd=project)
    assert bad.returncode == 1 and "hack" in bad.stdout + bad.stderr


def test_unknown_engine_names_are_input_errors(proofs, tmp_path):
    project = make_project(tmp_path, engine='engine = "simplex"')
    out = proofs("prove", cwd=project)
    assert out.returncode == 2 and "engine" in out.stderr and "big.toml" in out.stderr and "Traceback" not in out.stderr
    (project / "obligations" / "big.toml").write_text(OBLIGATION.format(engine=""))
    out = proofs("prove", "--engine", "simplex", cwd=project)
    assert out.returncode == 2 and "--engine" in out.stderr and "Traceback" not in out.stderr
