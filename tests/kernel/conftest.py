"""The repository's example project (models, policies, obligations, committed certificates), copied."""

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def copy_example(tmp: Path) -> Path:
    """A copy of the example project with its committed certificates, under ``tmp``."""
    for folder in ("worldmodels", "policies", "obligations"):
        shutil.copytree(ROOT / folder, tmp / folder)
    (tmp / "certificates").mkdir()
    for cert in (ROOT / "certificates").glob("*.json"):
        shutil.copy(cert, tmp / "certificates" / cert.name)
    (tmp / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n')
    return tmp


class Example:
    """The copied project, with a way to edit one certificate's JSON."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, lemma_id: str) -> Path:
        return self.root / "certificates" / f"{lemma_id}.json"

    def doc(self, lemma_id: str) -> dict:
        return json.loads(self.path(lemma_id).read_text())

    def write(self, lemma_id: str, doc: dict) -> None:
        self.path(lemma_id).write_text(json.dumps(doc, indent=2, sort_keys=True))


@pytest.fixture
def example(tmp_path: Path) -> Example:
    return Example(copy_example(tmp_path))
