"""Shared helpers for the world-model tests: comparing models, writing files, catching errors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.core.model import Mdp

MODELS = Path(__file__).resolve().parents[2] / "worlds" / "models"


def signature(mdp: Mdp) -> dict[str, Any]:
    """Everything a model means, as plain comparable data (no file names)."""
    choices = []
    for s in range(mdp.n_states):
        for c in mdp.choices(s):
            successors = sorted((mdp.states[t], lo, hi) for t, lo, hi in mdp.successor_intervals(c))
            rewards = {name: values[c] for name, values in mdp.rewards.items()}
            choices.append((mdp.states[s], mdp.action(c), tuple(successors), tuple(sorted(rewards.items()))))
    return {
        "states": mdp.states,
        "choices": choices,
        "labels": {name: tuple(mask.tolist()) for name, mask in mdp.labels.items()},
        "initial": sorted((mdp.states[s], p) for s, p in mdp.initial_distribution()),
        "credal": mdp.is_credal,
    }


def errors_of(excinfo: pytest.ExceptionInfo[BaseException]) -> list[InputError]:
    """The individual errors of a raised `InputError` or `InputErrors`."""
    exc = excinfo.value
    if isinstance(exc, InputErrors):
        return list(exc.errors)
    assert isinstance(exc, InputError)
    return [exc]


def only_error(excinfo: pytest.ExceptionInfo[BaseException]) -> InputError:
    errors = errors_of(excinfo)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def frac(text: str) -> Fraction:
    return Fraction(text)
