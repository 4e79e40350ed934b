"""End-to-end guards of the shell around the kernel: `proofs prove` / `proofs check`, stamps, workers.

Each test names the defect it guards (a run that could end green when it should not).
"""

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_prove import OBLIGATION, copy_repository_project, make_project, results
from tests.support.mdps import bench_generate

ROOT = Path(__file__).resolve().parents[2]


def test_certificates_never_verified_lemma_id_timings_is_checked(proofs, tmp_path):
    project = make_project(tmp_path)
    obligation = project / "obligations" / "cliff.toml"
    obligation.write_text(obligation.read_text().replace('id = "walk"', 'id = "timings"'))
    proved = proofs("prove", "--json", cwd=project)
    assert proved.returncode == 0, proved.stdout
    checked = proofs("check", cwd=project)
    assert checked.returncode == 0 and "accepted  timings (proved)" in checked.stdout, checked.stdout
    assert "2 accepted, 0 rejected" in checked.stdout
    assert json.loads((project / "certificates" / "timings.json").read_text())["lemma"]["id"] == "timings"
    assert set(json.loads((project / ".proofs" / "timings.json").read_text())) == {"timings", "run"}
    assert (project / ".proofs" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_orphaned_workers_temporary_files_of_a_killed_run_are_removed(proofs, tmp_path):
    project = make_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    certs = project / "certificates"
    leftover = certs / f".walk.json.{gone.stdout.strip()}.k3j_x9ab.proofs-tmp"
    old_style = certs / ".run.json.a1b2c3d4"     # written before temporary files named their process
    live = certs / f".run.json.{os.getpid()}.zz11yy22.proofs-tmp"   # a live process's: not ours to remove
    for path in (leftover, old_style, live):
        path.write_text("{")
    os.utime(old_style, (time.time() - 3600, time.time() - 3600))
    assert proofs("prove", cwd=project).returncode == 0
    assert not leftover.exists() and not old_style.exists() and live.exists()
    assert proofs("check", cwd=project).returncode == 0


def test_orphaned_workers_temporary_files_are_git_ignored(tmp_path):
    names = ["certificates/.careful.safe.json.4242.k3j_x9ab.proofs-tmp", "certificates/.walk.json.a1b2c3d4",
             "certificates/.walk.npz.a1b2c3d4", ".proofs/stamps.json", ".proofs/timings.json"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_bytes((ROOT / ".gitignore").read_bytes())   # the repository's rules
    out = subprocess.run(["git", "check-ignore", "--no-index", *names], cwd=tmp_path, capture_output=True, text=True)
    assert sorted(out.stdout.split()) == sorted(names), out.stdout + out.stderr


def test_certificates_written_mode_0600_now_follow_the_umask(proofs, tmp_path):
    project = make_project(tmp_path)
    old = os.umask(0o022)
    try:
        assert proofs("prove", cwd=project).returncode == 0
    finally:
        os.umask(old)
    for path in [*(project / "certificates").iterdir(), project / ".proofs" / "stamps.json"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_write_atomic_mode_follows_another_umask(tmp_path):
    from proofs.kernel.certificate import write_atomic

    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
