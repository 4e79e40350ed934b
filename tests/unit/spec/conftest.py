"""A temporary project: world model and policy files, and a writer for obligation files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

VALID = """\
[worldmodel]
path = "../worldmodels/cliff.toml"

[objective]                       # J
reward = "progress"
horizon = 40
discount = "1"

[[lemma]]
id = "cliff.alignment"
kind = "alignment"
epsilon = "0.5"
desirable = ['P<=0.01 [ F "fatal" ]', 'R{"harm"}<=0.1 [ C ]']

[[lemma]]
id = "cliff.policy"
kind = "policy"
policy = "../policies/cliff-q.json"
epsilon = "0.25"

[[lemma]]
id = "cliff.safe"
kind = "certificate"
from = ["cliff.alignment", "cliff.policy"]
"""

Write = Callable[[str, str], Path]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder, also the working directory (so messages show relative paths)."""
    for name in ("worldmodels/cliff.toml", "worldmodels/other.toml", "policies/cliff-q.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# placeholder: the obligation reader never opens it\n")
    (tmp_path / "obligations").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write(project: Path) -> Write:
    def write(name: str, text: str) -> Path:
        path = Path("obligations") / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
