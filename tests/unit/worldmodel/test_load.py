"""Choosing a reader by extension or by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofs.core.errors import InputError
from proofs.worldmodel.load import format_of, load_mdp

from .helpers import MODELS, signature, write


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("m.toml", "toml"),
        ("m.json", "json"),
        ("m.tra", "explicit"),
        ("m.drn", "drn"),
        ("m.prism", "prism"),
        ("m.nm", "prism"),
        ("M.TOML", "toml"),
    ],
)
def test_format_from_extension(name: str, expected: str) -> None:
    assert format_of(Path(name)) == expected


def test_explicit_format_overrides_the_extension(tmp_path: Path) -> None:
    copy = write(tmp_path / "model.txt", (MODELS / "small.toml").read_text())
    assert signature(load_mdp(copy, format="toml")) == signature(load_mdp(MODELS / "small.toml"))


def test_unknown_extension_and_format_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"m\.xyz: cannot tell the model format"):
        load_mdp(write(tmp_path / "m.xyz", ""))
    with pytest.raises(InputError, match="unknown format 'yaml'"):
        load_mdp(MODELS / "small.toml", format="yaml")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.toml: the model file does not exist"):
        load_mdp(tmp_path / "nope.toml")


def test_models_are_frozen() -> None:
    mdp = load_mdp(MODELS / "small.toml")
    with pytest.raises(ValueError):
        mdp.target[0] = 1
    with pytest.raises(TypeError):
        mdp.rewards["progress"] = mdp.rewards["harm"]  # type: ignore[index,unused-ignore]
