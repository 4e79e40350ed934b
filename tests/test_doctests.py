"""Every example in the public API's docstrings runs (numpydoc ``Examples`` sections), from the
repository root, whose example project they use."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["proofs.api.model", "proofs.api.policy", "proofs.api.prove", "proofs.core.objective",
           "proofs.spec.parse", "proofs.integrations.sb3", "proofs.report.plot"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
    assert tried > 0, f"{name} has no examples"


def test_every_public_name_has_an_example() -> None:
    import proofs

    missing = []
    for name in proofs.__all__:
        if name == "__version__":
            continue
        obj = getattr(proofs, name)
        doc = getattr(obj, "__doc__", "") or ""
        if ">>>" not in doc:
            missing.append(name)
    assert not missing, f"public names without an example: {missing}"
