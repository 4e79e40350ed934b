"""Error types of `proofs`. A stdlib-only leaf: every other module may import it.

`InputError` is bad input (exit code 2), `EngineError` an engine that could not run,
`CheckFailure` a certificate the trusted kernel rejects (exit code 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProofsError", "Location", "InputError", "InputErrors", "EngineError", "CheckFailure", "quote"]

QUOTE_LIMIT = 80
_PROBLEM_LIMIT = 1000


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` quoted for a message, cut to `limit` characters with "…" (a bad line may be megabytes).

    >>> quote("abc")
    "'abc'"
    >>> quote("x" * 100, 10)
    "'xxxxxxxxx…' (100 characters)"
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 1] + '…'!r} ({len(text):,} characters)"


def _cut(text: str) -> str:
    """A problem or fix cut to a readable length (the last guard; sites quote with `quote`)."""
    return text if len(text) <= _PROBLEM_LIMIT else text[: _PROBLEM_LIMIT - 1] + "…"


class ProofsError(Exception):
    """Root of every error that `proofs` reports to the user without a traceback."""


@dataclass(frozen=True)
class Location:
    """Where in an input a problem is: a file, and optionally a line and a key."""

    path: Path | str
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        return ":".join(str(v) for v in (self.path, self.line, self.key) if v is not None)


class InputError(ProofsError, ValueError):
    """One problem in a user's input: where, what is wrong, and how to fix it."""

    def __init__(self, where: Location, problem: str, fix: str = "") -> None:
        problem, fix = _cut(problem), _cut(fix)
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
