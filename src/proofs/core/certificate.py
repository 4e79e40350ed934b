"""The certificate file format `proofs.certificate/1`: canonical bytes, hashes, atomic writes.

TRUSTED. Certificates are plain JSON with sorted keys, so the same inputs give byte-identical
files. Large witness vectors live in a compressed ``.npz`` sidecar whose SHA-256 the certificate
records; it is read with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from proofs.core.errors import CheckFailure

__all__ = [
    "FORMAT",
    "TEMPORARY_SUFFIX",
    "dump",
    "read_arrays",
    "read_certificate",
    "relative",
    "sha256_bytes",
    "sha256_files",
    "write_arrays",
    "write_atomic",
]

FORMAT = "proofs.certificate/1"
TEMPORARY_SUFFIX = ".proofs-tmp"  # of the files `write_atomic` writes before renaming them


def dump(document: Mapping[str, Any]) -> bytes:
    """Canonical bytes of a certificate: sorted keys, two-space indent, trailing newline."""
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that an interrupted run leaves either the old file or the new one.

    The bytes go to a temporary file beside `path`, named ``.NAME.PID.RANDOM.proofs-tmp`` (the
    writer's process id, so that a later run can tell a leftover of a killed process from the file
    of a live one), then replace `path`. The file gets the mode of an ordinary new file,
    ``0o666`` less the umask (`tempfile.mkstemp` alone would leave 0o600).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.chmod(tmp, _ordinary_mode())
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ordinary_mode() -> int:
    """The permission bits of a file made by `open(path, "w")`: 0o666 less the umask."""
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_files(paths: list[Path], root: Path) -> str:
    """One SHA-256 over several files (a model and its sibling files), names included."""
    digest = hashlib.sha256()
    for p in sorted(paths):
        digest.update(relative(p, root).encode() + b"\0")
        digest.update(hashlib.sha256(p.read_bytes()).digest())
    return digest.hexdigest()


def model_sha256(paths: list[Path], root: Path, constants: tuple[tuple[str, str], ...] = ()) -> str:
    """The SHA-256 a certificate binds its world model by: its files, and the constants that an
    obligation gives a PRISM program (none: the files' hash alone, as before constants existed)."""
    files = sha256_files(paths, root)
    if not constants:
        return files
    text = ",".join(f"{name}={value}" for name, value in sorted(constants))
    return hashlib.sha256(f"{files}\0constants\0{text}".encode()).hexdigest()


def relative(path: Path, root: Path) -> str:
    """A path relative to the project root, with ``/`` (absolute if outside the root)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def read_certificate(path: Path) -> dict[str, Any]:
    """Read a certificate strictly: valid UTF-8 JSON (no NaN or infinities, no repeated key), an
    object, the right format version. Anything else is a `CheckFailure` naming the file."""
    if not path.is_file():
        raise CheckFailure(f"{path}: the certificate file is missing")
    try:
        document = json.loads(path.read_bytes().decode("utf-8"), object_pairs_hook=_unique_keys,
                              parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, _Repeated) as exc:
        raise CheckFailure(f"{path}: not a readable certificate ({exc}). Re-run `proofs prove` to write it "
                           "again") from None
    except OSError:   # a file that may not be read is bad input (exit 2), not a rejected certificate
        raise
    except (ValueError, RecursionError) as exc:   # a 5,000-digit integer, deep nesting, ...
        problem = str(exc)[:120] or type(exc).__name__
        raise CheckFailure(f"{path}: not a readable certificate ({problem}). Re-run `proofs prove` to write "
                           "it again") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckFailure(f"{path}: not a {FORMAT} certificate (its \"format\" field must be {FORMAT!r})")
    return document


class _Repeated(ValueError):
    """A JSON object names one key twice (which of the two values would count is not clear)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Repeated(f"the key {key[:40]!r} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _Repeated(f"{name} is not a JSON number")


def write_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> str:
    """Write witness arrays as an .npz, atomically; return its SHA-256.

    Integer arrays (step tables, mostly zeros once delta-encoded) are deflated at the fastest level
    (5x faster than the default, 1.5x larger); float vectors, which deflate barely shrinks, are
    stored, so writing them costs no more than copying. The bytes depend on the arrays only
    (entries in name order, a fixed timestamp), and `numpy.load` reads either kind of entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, value in sorted(arrays.items()):
            array = np.asarray(value)
            content = io.BytesIO()
            np.lib.format.write_array(content, array, allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            compressed = array.dtype.kind in "iub"
            archive.writestr(entry, content.getvalue(), compress_type=zipfile.ZIP_DEFLATED if compressed
                             else zipfile.ZIP_STORED, compresslevel=1 if compressed else None)
    data = buffer.getvalue()
    write_atomic(path, data)
    return sha256_bytes(data)


def read_arrays(path: Path, sha256: str) -> dict[str, np.ndarray]:
    """Read a witness sidecar strictly: the SHA-256 the certificate records, a readable ``.npz``
    without pickled objects, and only plain numeric arrays (integers or floats) of at most two
    dimensions; anything else is a `CheckFailure` naming the file and the array."""
    if not path.is_file():
        raise CheckFailure(f"{path}: the witness file is missing")
    data = path.read_bytes()
    if sha256_bytes(data) != sha256:
        raise CheckFailure(f"{path}: the witness file's SHA-256 does not match the certificate")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise CheckFailure(f"{path}: not an .npz archive of named arrays")
            for name in archive.files:
                array = archive[name]
                if not isinstance(array, np.ndarray) or array.dtype.kind not in "iuf" or array.ndim > 2:
                    raise CheckFailure(f"{path}: array {name[:40]!r} has dtype {array.dtype} and {array.ndim} "
                                       "dimensions; a witness holds only integer or float vectors and tables")
                arrays[name] = array
    except CheckFailure:
        raise
    except Exception as exc:  # noqa: BLE001 (a corrupt archive: zipfile, zlib, numpy format errors, pickles)
        raise CheckFailure(f"{path}: not a readable witness file ({type(exc).__name__}: {str(exc)[:120]})") from None
    return arrays
