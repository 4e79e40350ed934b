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


def test_write_atomic_mode_follows_another_umask(tmp_path):
    from proofs.kernel.certificate import write_atomic

    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
