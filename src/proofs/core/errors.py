"""Error types of `proofs`. A stdlib-only leaf: every other module may import it.

`InputError` is bad input (exit code 2), `EngineError` an engine that could not run,
`CheckFailure` a certificate the trusted kernel rejects (exit code 1).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProofsError", "Location", "InputError", "InputErrors", "EngineError", "CheckFailure", "file_error",
           "quote"]

QUOTE_LIMIT = 80
_PROBLEM_LIMIT = 600
_FIX_LIMIT = 300
_KEY_LIMIT = 200  # a key may quote a name from the file, which may be megabytes long


def quote(text: str, limit: int = QUOTE_LIMIT, length: int | None = None) -> str:
    """`text` quoted for a message, cut to `limit` characters with "…" (a bad line may be megabytes).

    `length` is the length of the original when `text` is already a cut of it.

    >>> quote("abc")
    "'abc'"
    >>> quote("x" * 100, 10)
    "'xxxxxxxxx…' (100 characters)"
    """
    length = max(len(text), length or 0)
    if length <= limit:
        return repr(text)
    return f"{text[: limit - 1] + '…'!r} ({length:,} characters)"


def _cut(text: str, limit: int) -> str:
    """A problem or fix cut to a readable length (the last guard; sites quote with `quote`)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ProofsError(Exception):
    """Root of every error that `proofs` reports to the user without a traceback."""


@dataclass(frozen=True)
class Location:
    """Where in an input a problem is: a file, and optionally a line and a key."""

    path: Path | str
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        key = self.key if self.key is None or len(self.key) <= _KEY_LIMIT else self.key[: _KEY_LIMIT - 1] + "…"
        return ":".join(str(v) for v in (self.path, self.line, key) if v is not None)


class InputError(ProofsError, ValueError):
    """One problem in a user's input: where, what is wrong, and how to fix it."""

    def __init__(self, where: Location, problem: str, fix: str = "") -> None:
        problem, fix = _cut(problem, _PROBLEM_LIMIT), _cut(fix, _FIX_LIMIT)
        message = f"{where}: {problem}."
        if fix:
            message += f" {fix}"
        super().__init__(message)
        self.where, self.problem, self.fix = where, problem, fix


class InputErrors(ProofsError, ValueError):
    """Every problem found in one validation pass, reported together."""

    def __init__(self, errors: Iterable[InputError], total: int | None = None) -> None:
        self.errors: tuple[InputError, ...] = tuple(errors)
        if not self.errors:
            raise ValueError("InputErrors needs at least one error")
        super().__init__("\n".join(str(e) for e in self.errors))
        # How many problems there are in all: more than listed when some were only counted
        # (a summary line "N more problems of this kind" stands for N of them).
        self.total = total if total is not None else len(self.errors)

    @staticmethod
    def raise_if_any(errors: Iterable[InputError], total: int | None = None) -> None:
        errors = list(errors)
        if len(errors) == 1 and total in (None, 1):
            raise errors[0]
        if errors:
            raise InputErrors(errors, total)


class EngineError(ProofsError, RuntimeError):
    """An engine could not run (missing solver, unsupported obligation)."""


class CheckFailure(ProofsError):
    """The trusted kernel rejects a certificate: names the file, the step and the failed inequality."""


_OS_PROBLEMS: dict[int, tuple[str, str]] = {
    errno.ELOOP: ("the path is a loop of symbolic links", "Point the link at a real file"),
    errno.EISDIR: ("this is a folder, not a file", "Give the path of a file"),
    errno.ENOTDIR: ("a part of the path is not a folder", "Check the path"),
    errno.ENOENT: ("no such file or folder", "Check the path (relative paths are relative to the file that names "
                   "them); create a missing output folder first"),
    errno.ENOSPC: ("the disk is full", "Free some space and run again"),
    errno.EDQUOT: ("the disk quota is exceeded", "Free some space and run again"),
    errno.EROFS: ("the file system is read-only", "Write to a writable folder"),
    errno.ENAMETOOLONG: ("the path is too long", "Use a shorter path"),
}


def file_error(exc: OSError, what: str = "the file") -> InputError:
    """An `OSError` raised on a named file, as an input error naming the path (exit code 2).

    A file that cannot be created in a folder (``EACCES`` on a path that does not exist yet, as
    for the temporary file of an atomic write) is reported against the folder.

    >>> print(file_error(IsADirectoryError(21, "Is a directory", "certificates")))
    certificates: this is a folder, not a file. Give the path of a file
    """
    name = exc.filename if exc.filename is not None else "input"
    path = os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) else str(name)
    if exc.errno in (errno.EACCES, errno.EPERM):
        if not os.path.lexists(path) and os.path.isdir(os.path.dirname(path) or "."):
            folder = os.path.dirname(path) or "."
            return InputError(Location(folder), f"cannot create a file in this folder ({exc.strerror})",
                              "Make the folder writable (chmod u+w), or run from a project you may write to")
        return InputError(Location(path), f"cannot read or write {what} ({exc.strerror})",
                          "Make it readable (and writable, for an output): chmod u+rw")
    problem, fix = _OS_PROBLEMS.get(exc.errno or -1, (f"cannot read or write {what} ({exc.strerror or exc})",
                                                      "Check the path and its permissions"))
    return InputError(Location(path), problem, fix)
