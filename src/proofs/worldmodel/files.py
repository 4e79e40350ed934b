"""Which files a world model is read from (for hashing inputs).

TRUSTED (reading base).
"""

from __future__ import annotations

from pathlib import Path

from proofs.worldmodel.load import format_of

__all__ = ["model_files"]


def model_files(path: Path, format: str | None = None) -> list[Path]:
    """The model file and, for the explicit format, every sibling file read with it."""
    if format_of(path, format) != "explicit":
        return [path]
    from proofs.worldmodel.explicit_side import reward_files

    files = [path]
    lab = path.with_suffix(".lab")
    if lab.is_file():
        files.append(lab)
    files.extend(p for p, *_ in reward_files(path))
    return sorted(set(files))
