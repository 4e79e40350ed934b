"""docs/python.md runs: its Python blocks, in order, in one namespace, in a copy of the example
project (as a user would run them from the repository root)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_python_walkthrough_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for part in ("worldmodels", "policies", "obligations"):
        shutil.copytree(ROOT / part, tmp_path / part)
    (tmp_path / "certificates").mkdir()
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    blocks = _BLOCK.findall((ROOT / "docs" / "python.md").read_text())
    assert len(blocks) >= 8
    namespace: dict[str, object] = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/python.md block {i + 1}", "exec"), namespace)   # noqa: S102
    for name in ("walk-is-safe", "route-is-safe", "agent-is-safe"):
        assert (tmp_path / "certificates" / f"{name}.json").is_file()
    assert (tmp_path / "route.png").read_bytes()[:4] == b"\x89PNG"
