"""`python -m proofs.kernel` on its own: numpy and the two trusted packages, nothing else.

The example project is proved once; then the kernel runs in a fresh virtual environment (no pip,
no site packages) whose only importable package besides the standard library is numpy, with a
copy of ``proofs/core`` and ``proofs/kernel`` alone. It accepts every certificate, and rejects
each tampered certificate, canonical model byte, policy table and witness sidecar.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import numpy
import pytest

import proofs

REPO = Path(__file__).resolve().parents[1]
SOURCE = Path(proofs.__file__).resolve().parent


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a python that sees only the stdlib, numpy and the kernel; a proved copy of the example project)."""
    base = tmp_path_factory.mktemp("kernel-alone")
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(base / "env")
    python = base / "env" / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    numpy_dir = Path(numpy.__file__).resolve().parent
    for name in (numpy_dir.name, "numpy.libs"):
        if (numpy_dir.parent / name).exists():
            (site / name).symlink_to(numpy_dir.parent / name)
    package = site / "proofs"
    package.mkdir()
    shutil.copy(SOURCE / "__init__.py", package / "__init__.py")
    for part in ("core", "kernel"):
        shutil.copytree(SOURCE / part, package / part, ignore=shutil.ignore_patterns("__pycache__"))
    project = base / "project"
    project.mkdir()
    for name in ("worldmodels", "policies", "obligations"):
        shutil.copytree(REPO / name, project / name)
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    proofs_cli = Path(sys.executable).parent / "proofs"
    subprocess.run([proofs_cli, "prove"], cwd=project, capture_output=True, check=True)
    return python, project


def _kernel(python: Path, project: Path, *certificates: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python, "-I", "-m", "proofs.kernel", *(certificates or ("certificates",)),
                           "--models", ".proofs/models"], cwd=project, capture_output=True, text=True)


def test_the_environment_has_nothing_but_numpy(alone: tuple[Path, Path]) -> None:
    python, _ = alone
    for module in ("scipy", "z3", "stormpy", "networkx", "sympy", "typer", "gymnasium", "proofs.worldmodel",
                   "proofs.spec", "proofs.engines", "proofs.semantics", "proofs.policy"):
        probe = subprocess.run([python, "-I", "-c", f"import {module}"], capture_output=True, text=True)
        assert probe.returncode != 0, module


def test_accepts_the_example_project(alone: tuple[Path, Path]) -> None:
    python, project = alone
    run = _kernel(python, project)
    assert run.returncode == 0, run.stdout + run.stderr
    total = len(list((project / "certificates").glob("*.json")))
    assert f"{total} accepted, 0 rejected" in run.stdout


def _tampered(alone: tuple[Path, Path], tmp_path: Path, edit) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    python, project = alone
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True)
    edit(copy)
    return _kernel(python, copy)


def test_rejects_a_tampered_certificate(alone: tuple[Path, Path], tmp_path: Path) -> None:
    def edit(root: Path) -> None:
        path = root / "certificates" / "careful.walk-policy.json"
        doc = json.loads(path.read_text())
        doc["values"]["j_policy"] = {"lo": "1", "hi": "1"}
        path.write_text(json.dumps(doc))

    run = _tampered(alone, tmp_path, edit)
    assert run.returncode == 1 and "REJECTED  " in run.stdout and "careful.walk-policy" in run.stdout


def test_rejects_a_changed_statement(alone: tuple[Path, Path], tmp_path: Path) -> None:
    def edit(root: Path) -> None:   # a statement whose words no longer say what its fields say
        path = root / "certificates" / "careful.alignment.json"
        doc = json.loads(path.read_text())
        doc["statement"]["phi"][0]["threshold"] = "1/2"
        path.write_text(json.dumps(doc))

    run = _tampered(alone, tmp_path, edit)
    assert run.returncode == 1 and "statement step" in run.stdout


def test_rejects_a_tampered_model_byte(alone: tuple[Path, Path], tmp_path: Path) -> None:
    def edit(root: Path) -> None:
        for model in (root / ".proofs" / "models").glob("*.model"):
            data = bytearray(model.read_bytes())
            data[-1] ^= 1
            model.write_bytes(bytes(data))

    run = _tampered(alone, tmp_path, edit)
    assert run.returncode == 1 and "SHA-256 is not the name it is filed under" in run.stdout


def test_rejects_a_tampered_policy_table(alone: tuple[Path, Path], tmp_path: Path) -> None:
    def edit(root: Path) -> None:
        path = root / "certificates" / "cliff.run-policy.json"
        doc = json.loads(path.read_text())
        table = doc["inputs"]["policy"]["table"]
        state = sorted(table["actions"])[0]
        table["actions"][state] = "walk" if table["actions"][state] != "walk" else "run"
        path.write_text(json.dumps(doc))

    run = _tampered(alone, tmp_path, edit)
    assert run.returncode == 1 and "SHA-256 of the policy table" in run.stdout


def test_rejects_a_tampered_sidecar(alone: tuple[Path, Path], tmp_path: Path) -> None:
    python, project = alone
    sidecars = sorted((project / "certificates").glob("*.npz"))
    if not sidecars:   # the example project writes its witnesses inline; make a sidecar-shaped edit instead
        def edit(root: Path) -> None:
            path = root / "certificates" / "careful.walk-policy.json"
            doc = json.loads(path.read_text())
            doc["witness"]["file"] = {"path": "careful.walk-policy.npz", "sha256": "0" * 64}
            (root / "certificates" / "careful.walk-policy.npz").write_bytes(b"not an archive")
            path.write_text(json.dumps(doc))
    else:
        def edit(root: Path) -> None:
            target = root / "certificates" / sidecars[0].name
            target.write_bytes(target.read_bytes()[:-1] + b"\0")

    run = _tampered(alone, tmp_path, edit)
    assert run.returncode == 1 and "REJECTED" in run.stdout


def test_a_missing_model_is_named(alone: tuple[Path, Path], tmp_path: Path) -> None:
    run = _tampered(alone, tmp_path, lambda root: [p.unlink() for p in (root / ".proofs" / "models").glob("*.model")])
    assert run.returncode == 1 and "is not in .proofs/models" in run.stdout
