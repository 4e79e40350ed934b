"""A policy table too large to write inside the certificate goes beside it as ``LEMMA.table``.

Guards three things: `proofs check` does not mistake the table for a certificate (it once was
``LEMMA.policy.json``, which every ``*.json`` listing took for an undeclared certificate, and which
is the certificate of a lemma named ``LEMMA.policy``); the kernel rejects an edited or missing
table; a re-proof that no longer needs a sidecar removes the old one.
"""

import json
from pathlib import Path

import numpy as np

from proofs.core.policy import TABLE_FORMAT
from tests.support.mdps import bench_generate

STATES = 5000
OBLIGATION = """
[worldmodel]
path = "../worldmodels/random_{n}.tra"

[objective]
reward = "r"
horizon = "geometric"
discount = "0.9"

[[lemma]]
id = "walk"
kind = "policy"
policy = "../policies/first.q.npy"
epsilon = "1000"

[[lemma]]
id = "walk.policy"
kind = "policy"
policy = "../policies/first.q.npy"
epsilon = "1000"
"""


def make_project(tmp: Path, n: int = STATES) -> Path:
    bench_generate().write_explicit(bench_generate().random_model(n, 0), tmp / "worldmodels")
    (tmp / "policies").mkdir()
    q = np.zeros((n, 4))
    q[:, 0] = 1.0   # always the first action
    np.save(tmp / "policies" / "first.q.npy", q)
    (tmp / "obligations").mkdir()
    (tmp / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    (tmp / "obligations" / "walk.toml").write_text(OBLIGATION.format(n=n))
    return tmp


def test_a_large_policy_table_is_a_sidecar_that_check_reads_and_the_kernel_binds(proofs, tmp_path):
    project = make_project(tmp_path)
    out = proofs("prove", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    certificates = project / "certificates"
    cert = json.loads((certificates / "walk.json").read_text())
    assert cert["inputs"]["policy"]["file"] == "walk.table" and "table" not in cert["inputs"]["policy"]
    table = certificates / "walk.table"
    assert table.read_bytes().startswith(TABLE_FORMAT.encode() + b"\n")   # binary: too large for JSON
    assert (certificates / "walk.policy.table").is_file()   # the lemma named "walk.policy" has its own

    out = proofs("check", cwd=project)
    assert out.returncode == 0 and "undeclared" not in out.stdout.lower(), out.stdout + out.stderr
    out = proofs("check", "--kernel-only", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr

    data = table.read_bytes()
    table.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    out = proofs("check", "--kernel-only", "certificates/walk.json", cwd=project)
    assert out.returncode == 1 and "walk.table" in out.stdout + out.stderr, out.stdout + out.stderr
    table.unlink()
    out = proofs("check", "--kernel-only", "certificates/walk.json", cwd=project)
    assert out.returncode == 1 and "walk.table is missing" in out.stdout + out.stderr, out.stdout + out.stderr


def test_a_re_proof_with_an_inline_table_removes_the_old_sidecar(proofs, tmp_path):
    project = make_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    assert (project / "certificates" / "walk.table").is_file()
    make_project(tmp_path / "small", 200)
    for kind in ("tra", "lab", "transrew"):   # the same file names, a model small enough to inline
        (project / "worldmodels" / f"random_{STATES}.{kind}").write_bytes(
            (tmp_path / "small" / "worldmodels" / f"random_200.{kind}").read_bytes())
    np.save(project / "policies" / "first.q.npy", np.load(tmp_path / "small" / "policies" / "first.q.npy"))
    out = proofs("prove", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    cert = json.loads((project / "certificates" / "walk.json").read_text())
    assert "table" in cert["inputs"]["policy"] and not (project / "certificates" / "walk.table").exists()
    assert proofs("check", cwd=project).returncode == 0
