"""Translating a world model's source into its canonical form, once per change.

UNTRUSTED (a translation). `translate` reads a model's source files (any format, a PRISM program
through Storm), adds a label for every variable atom of Φ (``t>=deadline``) that the project's
obligations use on it, and encodes the result canonically (`proofs.core.model.encode`). The
canonical bytes are kept in ``.proofs/models/`` (git-ignored): ``SHA.model``, named by their own
SHA-256, and ``KEY.ref``, which names the model that the source files with the SHA-256 KEY (and
those constants and atoms) translate to. A second run, or `proofs check`, reads the canonical
model back instead of parsing the source again; a source edit changes KEY, so a stale entry is
never used.

The kernel (`python -m proofs.kernel --models .proofs/models`) judges certificates against
these files alone. Whether they are the right translation of the source files is what the
translation step of `proofs check` re-establishes: it translates again and compares hashes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from proofs.core.certificate import model_sha256 as source_sha256
from proofs.core.certificate import write_atomic
from proofs.core.formula import Atom
from proofs.core.model import MODEL_FORMAT, Mdp, ModelFileError, decode, encode, model_sha256

__all__ = ["MODELS", "TRANSLATION", "Translation", "model_path", "translate", "with_atom_labels"]

MODELS = Path(".proofs") / "models"
TRANSLATION = "proofs.translation/1"
"""Changes whenever a reader's output may change, so that older cache entries are not used."""


@dataclass(frozen=True, eq=False)
class Translation:
    """A world model's canonical identity, and the model itself (read back from the cache only when
    it is used: `proofs check` often needs the hashes alone, and the kernel reads the model itself)."""

    source_sha256: str       # the source files (and constants), as `proofs.core.certificate.model_sha256`
    sha256: str              # the canonical model's bytes
    cached: bool             # read back from .proofs/models/ rather than parsed
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)   # "load" and "translate" times
    read: Mdp | Callable[[], Mdp] | None = None   # the model, or how to decode it from the cache

    @cached_property
    def mdp(self) -> Mdp:
        """The canonical model (decoded from ``.proofs/models/`` on first use when cached)."""
        assert self.read is not None
        return self.read if isinstance(self.read, Mdp) else self.read()


def model_path(folder: Path, sha256: str) -> Path:
    return folder / f"{sha256}.model"


def with_atom_labels(mdp: Mdp, atoms: Iterable[Atom]) -> Mdp:
    """The model with one more label per atom, named by its text (``t>=deadline``), so that the
    kernel evaluates atoms as labels. An atom that does not evaluate on the model is left out
    (the obligation's name check reports it)."""
    from proofs.spec.resolve import atom_mask

    extra = {}
    for atom in sorted(atoms, key=str):
        if str(atom) in mdp.labels:
            continue
        try:
            extra[str(atom)] = atom_mask(mdp, atom)
        except (ValueError, KeyError):
            continue
    return dataclasses.replace(mdp, labels={**mdp.labels, **extra}) if extra else mdp


def translate(path: Path, root: Path, constants: tuple[tuple[str, str], ...] = (),
              atoms: Iterable[Atom] = (), *, folder: Path | None = None) -> Translation:
    """The canonical translation of the model at `path`, from the cache when it is there.

    Raises the readers' `InputError`/`InputErrors` for a source that does not read.
    """
    from proofs.worldmodel.files import model_files
    from proofs.worldmodel.load import load_mdp

    folder = root / MODELS if folder is None else folder
    atoms = sorted(set(atoms), key=str)
    start = time.perf_counter()
    source = source_sha256(model_files(path), root, constants)
    key = hashlib.sha256("\0".join([TRANSLATION, source, *map(str, atoms)]).encode()).hexdigest()
    ref = folder / f"{key}.ref"
    known = _cached(folder, ref)
    if known is not None:
        def read(sha: str = known) -> Mdp:
            try:
                return dataclasses.replace(decode(model_path(folder, sha).read_bytes()), source=str(path))
            except (OSError, ModelFileError):   # removed or damaged since: translate the source again
                return with_atom_labels(load_mdp(path, constants=dict(constants)), atoms)
        return Translation(source, known, True, {"load": time.perf_counter() - start, "translate": 0.0}, read)
    mdp = load_mdp(path, constants=dict(constants))
    loaded = time.perf_counter()
    mdp = with_atom_labels(mdp, atoms)
    data = encode(mdp)
    sha = model_sha256(data)
    try:
        _store(folder, sha, data, ref)
    except OSError:
        pass   # a read-only project still proves and checks; it just translates every time
    return Translation(source, sha, False, {"load": loaded - start, "translate": time.perf_counter() - loaded}, mdp)


def _cached(folder: Path, ref: Path) -> str | None:
    """The canonical model the ref names, when its file is there and holds a model with that hash."""
    try:
        sha = ref.read_text().strip()
        data = model_path(folder, sha).read_bytes()
    except (OSError, UnicodeDecodeError):
        return None
    if model_sha256(data) != sha or not data.startswith(MODEL_FORMAT.encode() + b"\n"):
        return None
    return sha


def _store(folder: Path, sha: str, data: bytes, ref: Path) -> None:
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder.parent / ".gitignore"
        if folder.parent.name == ".proofs" and not ignore.exists():
            write_atomic(ignore, b"# written by proofs: local state, never committed\n*\n")
    target = model_path(folder, sha)
    if not target.is_file():
        write_atomic(target, data)
    write_atomic(ref, (sha + "\n").encode())
