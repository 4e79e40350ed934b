"""The local state of `proofs prove`: the ``.proofs/`` folder, and leftovers of interrupted runs.

UNTRUSTED bookkeeping, never read by the kernel. Besides the certificates, `proofs prove` keeps
two local files, in a folder of their own at the project root so that no lemma id can name
them: ``.proofs/stamps.json`` (`proofs.prooftree.stamps`) and ``.proofs/timings.json`` (the run
time of each lemma's last proof). The folder holds a ``.gitignore`` of ``*``, so it is never
committed, in this project or any other.

A run that is killed (SIGKILL, power loss) may leave a temporary file of `write_atomic` beside a
certificate. Its name carries the writer's process id; the next run removes those whose process
is gone. Earlier versions kept the two logs in the certificate folder; the next run removes them.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from proofs.core.certificate import FORMAT, TEMPORARY_SUFFIX, write_atomic
from proofs.core.errors import InputError, Location
from proofs.spec.obligation import Settings

__all__ = ["STATE_FOLDER", "check_state_folder", "legacy_log", "remove_leftovers", "state_file", "write_state"]

STATE_FOLDER = ".proofs"
_TEMPORARY = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+" + re.escape(TEMPORARY_SUFFIX) + "$")
# `write_atomic` before it named its process: ``.NAME.json.RANDOM`` (mkstemp's eight characters)
_OLD_TEMPORARY = re.compile(r"^\..+\.(json|npz)\.[a-z0-9_]{8}$")
_OLD_TEMPORARY_AGE = 60.0  # seconds: such a write takes milliseconds, so older ones are leftovers
_LEGACY_LOGS = ("timings.json", ".stamps.json")


def state_file(root: Path, name: str) -> Path:
    """A file of the local state: ``stamps.json`` or ``timings.json``."""
    return root / STATE_FOLDER / name


def write_state(path: Path, data: bytes) -> None:
    """Write a file of the local state atomically, making the folder (and its ``.gitignore``)."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path.parent / ".gitignore", b"# written by proofs: local state, never committed\n*\n")
    write_atomic(path, data)


def check_state_folder(root: Path, settings: Settings) -> None:
    """Refuse a certificate folder that is the state folder: a lemma ``stamps`` would be overwritten."""
    if (root / settings.certificates).resolve() == (root / STATE_FOLDER).resolve():
        raise InputError(Location(root / "pyproject.toml", None, "tool.proofs.certificates"),
                         f"the certificate folder is {STATE_FOLDER}/, where proofs keeps its local state",
                         'Choose another folder, e.g. certificates = "certificates"')


def legacy_log(path: Path) -> bool:
    """Whether `path` is a log that an earlier version wrote into the certificate folder (not a
    certificate: a lemma may be named ``timings``)."""
    if path.name not in _LEGACY_LOGS or not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return not (isinstance(data, dict) and data.get("format") == FORMAT)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove temporary files of killed runs and the old logs from a certificate folder.

    A temporary file is removed when its writer's process is gone (an older-style name, without
    a process id, when it is over a minute old). Returns the files removed.
    """
    if not folder.is_dir():
        return []
    removed = []
    now = time.time()
    for path in folder.iterdir():
        named = _TEMPORARY.match(path.name)
        try:
            stale = ((named is not None and not _alive(int(named.group(1))))
                     or (_OLD_TEMPORARY.match(path.name) is not None
                         and now - path.stat().st_mtime > _OLD_TEMPORARY_AGE)
                     or legacy_log(path))
            if stale:
                path.unlink()
                removed.append(path)
        except OSError:  # gone meanwhile, or not ours to remove: leave it
            continue
    return removed
