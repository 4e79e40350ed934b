"""What `proofs check` must look at: the certificate files, and which lemmas lack one.

UNTRUSTED bookkeeping around the kernel: it decides which files the kernel checks, never whether
one is accepted. Checking the whole project (no file named, or the certificate folder named)
means checking that the certificates and the obligations match one for one: a declared lemma
without a certificate is *missing*, and a certificate whose lemma no obligation file declares
(left behind by a rename, or by a deleted obligation) is *undeclared*; both are failures. A
*standalone* certificate (saved from Python: its lemma names no obligation) is checked on its own
statement instead. Named
certificate files are checked alone; a named folder stands for the ``*.json`` files in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from proofs.core.errors import InputError, InputErrors, Location
from proofs.prooftree.plan import collision_errors
from proofs.prooftree.state import check_state_folder, legacy_log
from proofs.prooftree.verify import certificate_path
from proofs.spec.obligation import Settings, discover, load_obligations

__all__ = ["Inventory", "take_inventory"]


@dataclass(frozen=True)
class Inventory:
    """The certificate files to check, and the project's mismatches between lemmas and files."""

    files: tuple[Path, ...]
    missing: tuple[tuple[str, Path, Path], ...] = ()   # (lemma id, its obligation file, the absent certificate)
    undeclared: tuple[Path, ...] = ()                   # certificates whose lemma no obligation declares
    ignored: tuple[Path, ...] = ()                      # logs an earlier version left in the folder


def _certificates_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.is_file()) if folder.is_dir() else []


def take_inventory(root: Path, settings: Settings, named: list[Path]) -> Inventory:
    """The files `proofs check` checks for the command line's `named` paths (default: the project).

    Raises
    ------
    InputError, InputErrors
        For bad obligation files (read to know which lemmas are declared) or settings.
    """
    check_state_folder(root, settings)
    folder = (root / settings.certificates).resolve()
    if named and any(p.resolve() != folder for p in named):
        files: list[Path] = []
        for p in named:
            inside = _certificates_in(p) if p.is_dir() else [p]
            if not inside:
                raise InputError(Location(p), "the folder holds no certificate (*.json)",
                                 "Name certificate files, or a folder that holds some")
            files.extend(inside)
        return Inventory(tuple(files))
    paths = discover(root, settings)
    if not paths and not _certificates_in(root / settings.certificates):
        raise InputError(Location(root / settings.obligations), "nothing to check: no obligation files and "
                         f"no certificates in {settings.certificates}/",
                         "Run `proofs check` in the project (the folder of pyproject.toml), or add obligations")
    obligations = load_obligations(paths)
    InputErrors.raise_if_any(collision_errors(root, settings, obligations))
    declared = {lemma.id: f for f in obligations for lemma in f.lemmas}
    present = _certificates_in(root / settings.certificates)
    ignored = [p for p in present if p.stem not in declared and legacy_log(p)]
    missing = [(i, f.shown_path or f.path, path) for i, f in sorted(declared.items())
               if not (path := certificate_path(root, settings.certificates, i)).is_file()]
    alone = [p for p in present if p.stem not in declared and p not in ignored and _standalone(p)]
    return Inventory(tuple(p for p in present if p.stem in declared or p in alone), tuple(missing),
                     tuple(p for p in present if p.stem not in declared and p not in ignored and p not in alone),
                     tuple(ignored))


def _standalone(path: Path) -> bool:
    """Whether the file is a standalone certificate (made from Python: its lemma names no
    obligation), which stands on its own statement rather than being left over."""
    import json

    try:
        lemma = json.loads(path.read_bytes()).get("lemma")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(lemma, dict) and "obligation" not in lemma and "id" in lemma
