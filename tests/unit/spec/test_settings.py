"""Project settings from pyproject.toml, and discovering obligation files."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.spec.obligation import Settings, discover, read_settings


def test_defaults_without_a_file_or_a_table(tmp_path: Path) -> None:
    assert read_settings(tmp_path / "pyproject.toml") == Settings()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert read_settings(tmp_path / "pyproject.toml") == Settings(
        Path("obligations"), Path("certificates"), "auto"
    )


def test_reads_every_setting(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.proofs]\nobligations = "proof/obl"\ncertificates = "proof/cert"\nengine = "lp"\ntimeout = 2.5\n'
    )
    assert read_settings(tmp_path / "pyproject.toml") == Settings(
        Path("proof/obl"), Path("proof/cert"), "lp", 2.5
    )


def test_bad_settings_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.proofs]\nobligation = "x"\ntimeout = -1\nengine = 3\n')
    with pytest.raises(InputErrors) as info:
        read_settings(tmp_path / "pyproject.toml")
    assert [str(e.where) for e in info.value.errors] == [
        f"{tmp_path / 'pyproject.toml'}:2:tool.proofs.obligation",
        f"{tmp_path / 'pyproject.toml'}:4:tool.proofs.engine",
        f"{tmp_path / 'pyproject.toml'}:3:tool.proofs.timeout",
    ]
    assert "did you mean 'obligations'" in info.value.errors[0].problem


def test_bad_toml_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.proofs\n")
    with pytest.raises(InputError, match="not valid TOML"):
        read_settings(tmp_path / "pyproject.toml")


def test_discover_finds_toml_files_sorted(tmp_path: Path) -> None:
    folder = tmp_path / "obligations"
    folder.mkdir()
    for name in ("b.toml", "a.toml", "notes.md", "c.toml.bak"):
        (folder / name).write_text("")
    (folder / "sub.toml").mkdir()
    assert discover(tmp_path, Settings()) == [folder / "a.toml", folder / "b.toml"]


def test_discover_without_the_folder(tmp_path: Path) -> None:
    assert discover(tmp_path, Settings()) == []


def test_the_projects_own_settings_read() -> None:
    root = Path(__file__).resolve().parents[3]
    settings = read_settings(root / "pyproject.toml")
    assert settings.obligations == Path("obligations") and settings.engine == "auto"
