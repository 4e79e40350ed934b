import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def proofs():
    """Run the CLI in a subprocess from the repository root; returns CompletedProcess."""

    def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=300)

    return run
