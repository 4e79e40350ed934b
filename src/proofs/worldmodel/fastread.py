"""Vectorised reading of whitespace-separated tables of integers and exact numbers from raw bytes.

TRUSTED (reading base). Big explicit models (millions of rows) are read here without creating a
Python object per row and without ever passing a number through a binary float. The bytes are cut
into chunks at line ends; in each chunk the tokens are found with numpy (a token is a maximal run
of bytes above ASCII space), and every token of a numeric column is decoded by a vectorised Horner
scheme over its characters (`proofs.worldmodel.digits`): an optional sign, at most 18 digits and
at most one ``.`` give the exact value ``digits * 10**-fraction_digits``. Any other token
(``1/3``, ``2.5e-1``, more digits) is read one by one with `parse_rational`, which is exact as
well. A token that is not a number at all is reported with its line, never skipped.

Lines whose first token starts with ``#`` are comments; blank lines are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import cast

import numpy as np
import numpy.typing as npt

from proofs.core.errors import quote
from proofs.core.numbers import Rationals
from proofs.core.rational import ExpressionError, parse_rational
from proofs.worldmodel.digits import FAST_WIDTH, decode_index, decode_number, exact_numbers
from proofs.worldmodel.digits import words as decode_words

__all__ = ["BadRow", "BadToken", "Kind", "Table", "parse_index", "read_table"]

_CHUNK = 1 << 23
_INDEX_DIGITS = 18  # an index of at most 18 digits fits an int64
_SHOWN = 200  # characters of a bad token kept for its message (a token may be megabytes long)

IntArray = npt.NDArray[np.int64]
ByteArray = npt.NDArray[np.uint8]


class Kind(Enum):
    """What a column holds."""

    INDEX = "index"  # a non-negative integer (a state or choice index)
    NUMBER = "number"  # an exact rational
    WORD = "word"  # any text (an action label)


def parse_index(text: str) -> int | None:
    """`text` as a non-negative index of at most 18 ASCII digits, else None (never a ValueError).

    >>> parse_index("42"), parse_index("-1"), parse_index("²"), parse_index("9" * 19)
    (42, None, None, None)
    """
    text = text.strip()
    if not text or len(text) > _INDEX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


@dataclass(frozen=True)
class BadToken:
    """A token that cannot be read as its column requires (`text`: its first characters; `length`:
    its length in characters)."""

    line: int
    column: int
    text: str
    reason: str
    length: int = 0

    @property
    def shown(self) -> str:
        """The token quoted for a message, cut to a readable length."""
        return quote(self.text, length=self.length)


@dataclass(frozen=True)
class BadRow:
    """A line with the wrong number of tokens."""

    line: int
    n_tokens: int


@dataclass(frozen=True, eq=False)
class Table:
    """The rows of a table: one array per column, aligned, plus what could not be read.

    Rows with a wrong token count are left out (and listed in `bad_rows`); a row with an
    unreadable token is kept with the value 0 in that column (and listed in `bad_tokens`), so
    callers must report the problems before using the values.
    """

    line: npt.NDArray[np.int32]
    columns: tuple[IntArray | Rationals | npt.NDArray[np.bytes_], ...]
    bad_tokens: tuple[BadToken, ...]
    bad_rows: tuple[BadRow, ...]
    n_bad_tokens: int
    n_bad_rows: int

    def __len__(self) -> int:
        return int(self.line.shape[0])

    def index(self, column: int) -> IntArray:
        value = self.columns[column]
        assert isinstance(value, np.ndarray) and value.dtype == np.int64
        return cast(IntArray, value)

    def number(self, column: int) -> Rationals:
        value = self.columns[column]
        assert isinstance(value, Rationals)
        return value

    def word(self, column: int) -> npt.NDArray[np.bytes_]:
        value = self.columns[column]
        assert isinstance(value, np.ndarray) and value.dtype.kind == "S"
        return cast(npt.NDArray[np.bytes_], value)


def read_table(
    data: bytes,
    offset: int,
    first_line: int,
    kinds: tuple[Kind, ...],
    optional_last: bool = False,
    report_limit: int = 50,
) -> Table:
    """Read the rows of ``data[offset:]``, the line at `offset` having number `first_line`.

    Parameters
    ----------
    data
        The whole file.
    offset, first_line
        Where the table starts (after any header) and the 1-based number of that line.
    kinds
        The kind of every column; every row has exactly ``len(kinds)`` tokens, or one fewer when
        `optional_last` (a missing last token reads as ``b""`` in a WORD column).
    report_limit
        At most this many bad tokens and bad rows are kept (all are counted).

    Returns
    -------
    Table
        One array per column; memory is a few machine words per row, no Python object per row.

    Examples
    --------
    >>> t = read_table(b"0 0 1 0.25\\n# note\\n1 0 0 1/3\\n", 0, 1, (Kind.INDEX,) * 3 + (Kind.NUMBER,))
    >>> t.index(2).tolist(), t.number(3).fractions(), t.line.tolist()
    ([1, 0], [Fraction(1, 4), Fraction(1, 3)], [1, 3])
    """
    out = _Output(data.count(b"\n", offset) + 1, kinds, report_limit)
    pos, line = offset, first_line
    while pos < len(data):
        end = _chunk_end(data, pos)
        _read_chunk(
            np.frombuffer(data, dtype=np.uint8, count=end - pos, offset=pos), line, optional_last, out
        )
        line += data.count(b"\n", pos, end)
        pos = end
    return out.table()


def _chunk_end(data: bytes, pos: int) -> int:
    end = pos + _CHUNK
    if end >= len(data):
        return len(data)
    newline = data.rfind(b"\n", pos, end)
    if newline < 0:
        newline = data.find(b"\n", end)
        return len(data) if newline < 0 else newline + 1
    return newline + 1


class _Output:
    """Preallocated column arrays (one row per line at most), filled chunk by chunk."""

    def __init__(self, max_rows: int, kinds: tuple[Kind, ...], limit: int) -> None:
        self.kinds, self.limit, self.n = kinds, limit, 0
        self.line = np.zeros(max_rows, dtype=np.int32)
        self.ints: dict[int, IntArray] = {}
        self.words: dict[int, npt.NDArray[np.bytes_]] = {}
        self.exps: dict[int, npt.NDArray[np.int8]] = {}
        self.exact: dict[int, list[tuple[int, Fraction]]] = {}
        for j, kind in enumerate(kinds):
            if kind is Kind.WORD:
                self.words[j] = np.zeros(max_rows, dtype="S1")
            else:
                self.ints[j] = np.zeros(max_rows, dtype=np.int64)
            if kind is Kind.NUMBER:
                self.exps[j], self.exact[j] = np.zeros(max_rows, dtype=np.int8), []
        self.bad_tokens: list[BadToken] = []
        self.bad_rows: list[BadRow] = []
        self.n_bad_tokens = self.n_bad_rows = 0

    def bad_token(self, line: int, column: int, text: str, reason: str) -> None:
        self.n_bad_tokens += 1
        if len(self.bad_tokens) < self.limit:
            self.bad_tokens.append(BadToken(line, column + 1, text[:_SHOWN], reason, len(text)))

    def put_words(self, j: int, start: int, words: npt.NDArray[np.bytes_]) -> None:
        column = self.words[j]
        if words.dtype.itemsize > column.dtype.itemsize:
            self.words[j] = column = column.astype(words.dtype)
        column[start : start + len(words)] = words

    def table(self) -> Table:
        columns: list[IntArray | Rationals | npt.NDArray[np.bytes_]] = []
        for j, kind in enumerate(self.kinds):
            if kind is Kind.WORD:
                columns.append(self.words[j][: self.n])
            elif kind is Kind.NUMBER:
                columns.append(exact_numbers(self.ints[j][: self.n], self.exps[j][: self.n], self.exact[j]))
            else:
                columns.append(self.ints[j][: self.n])
        return Table(
            self.line[: self.n],
            tuple(columns),
            tuple(sorted(self.bad_tokens, key=lambda t: (t.line, t.column))),
            tuple(self.bad_rows),
            self.n_bad_tokens,
            self.n_bad_rows,
        )


def _simple_rows(
    pb: ByteArray, starts: IntArray, ends: IntArray, ncols: int
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_]] | None:
    """`_rows` for the usual layout, checked cheaply on tokens instead of bytes, else None.

    The layout: the chunk starts with a token, tokens are separated by exactly one byte, and that
    byte is a newline after every `ncols`-th token and a space or tab otherwise (so there are no
    blank lines, comments or short rows, and row ``i`` is line ``i``).
    """
    n_tokens = len(starts)
    if n_tokens == 0 or n_tokens % ncols or starts[0] != 0 or np.any(starts[1:] - ends[:-1] != 1):
        return None
    after = pb[ends[:-1] + 1].reshape(-1) if n_tokens > 1 else pb[:0]
    newline = np.zeros(n_tokens, dtype=bool)
    newline[:-1] = after == 10
    newline[-1] = True
    pattern = (np.arange(n_tokens) % ncols) == ncols - 1
    if not np.array_equal(newline, pattern) or np.any(pb[starts[::ncols] + 1] == ord("#")):
        return None
    rows = np.arange(n_tokens // ncols, dtype=np.int64)
    return rows * ncols, np.full(len(rows), ncols, dtype=np.int64), rows, np.ones(len(rows), dtype=bool)


def _rows(
    pb: ByteArray, n: int, starts: IntArray, optional_last: bool, ncols: int
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Per line with tokens: first token, token count, 0-based line; and which lines are well formed."""
    line_end = np.flatnonzero(pb[1 : n + 1] == 10)
    if n and pb[n] != 10:
        line_end = np.append(line_end, n)
    cut = np.searchsorted(starts, line_end)
    counts = np.diff(cut, prepend=0)
    first = cut - counts
    if len(starts):
        head = pb[np.minimum(starts[np.minimum(first, len(starts) - 1)], n) + 1]
    else:  # blank lines only (a chunk of them after a header): no row at all
        head = np.zeros(len(cut), dtype=pb.dtype)
    rows = np.flatnonzero((counts > 0) & (head != ord("#")))
    counts, first = counts[rows], first[rows]
    good = (counts == ncols) | ((counts == ncols - 1) & optional_last)
    return first, counts, rows, good


def _read_chunk(buf: ByteArray, line0: int, optional_last: bool, out: _Output) -> None:
    n = len(buf)
    pb = np.full(n + FAST_WIDTH + 4, 32, dtype=np.uint8)  # a leading space, the chunk, trailing spaces
    pb[1 : n + 1] = buf
    solid = pb > 32
    edges = np.flatnonzero(solid[1:] != solid[:-1])  # pb starts and ends with a space: start, end, start, ...
    starts, ends = edges[0::2], edges[1::2]
    simple = _simple_rows(pb, starts, ends, len(out.kinds))
    if simple is None and optional_last:
        simple = _simple_rows(pb, starts, ends, len(out.kinds) - 1)
    first, counts, rows, good = (
        simple if simple is not None else _rows(pb, n, starts, optional_last, len(out.kinds))
    )
    for i in np.flatnonzero(~good).tolist():
        out.n_bad_rows += 1
        if len(out.bad_rows) < out.limit:
            out.bad_rows.append(BadRow(line0 + int(rows[i]), int(counts[i])))
    first, counts = first[good], counts[good]
    at = out.n
    m = len(first)
    line = (line0 + rows[good]).astype(np.int32)
    out.line[at : at + m] = line
    uniform = bool(np.all(counts == len(out.kinds)))
    for j, kind in enumerate(out.kinds):
        present = counts > j
        tokens = first + j if uniform else first[present] + j
        s, e = starts[tokens], ends[tokens]
        if kind is Kind.WORD:
            words = np.zeros(m, dtype=f"S{max(1, int((e - s).max(initial=1)))}")
            words[present] = decode_words(pb, s, e)
            out.put_words(j, at, words)
            continue
        num, exp, ok = decode_index(pb, s, e) if kind is Kind.INDEX else decode_number(pb, s, e)
        _slow_tokens(pb, s, e, ~ok, line, j, at, kind, out, num)
        if kind is Kind.INDEX:
            wrong = ok & ((exp != 0) | (num < 0))
            for i in np.flatnonzero(wrong).tolist():
                out.bad_token(int(line[i]), j, _text(pb, s[i], e[i]), "is not a non-negative integer")
            num[wrong] = 0
        else:
            out.exps[j][at : at + m] = exp
        out.ints[j][at : at + m] = num
    out.n += m


def _text(pb: ByteArray, s: int, e: int) -> str:
    return bytes(pb[s + 1 : e + 1]).decode("utf-8", errors="replace")


def _slow_tokens(
    pb: ByteArray,
    s: IntArray,
    e: IntArray,
    slow: npt.NDArray[np.bool_],
    line: npt.NDArray[np.int32],
    j: int,
    at: int,
    kind: Kind,
    out: _Output,
    num: IntArray,
) -> None:
    """Read the tokens the vectorised decoder declined, one by one, exactly."""
    for i in np.flatnonzero(slow).tolist():
        text = _text(pb, int(s[i]), int(e[i]))
        value, reason = _slow_value(text, kind)
        if reason is not None:
            out.bad_token(int(line[i]), j, text, reason)
        elif kind is Kind.INDEX:
            num[i] = int(value) if value < 2**63 else 0
            if value >= 2**63:
                out.bad_token(int(line[i]), j, text, "is too large for an index")
        else:
            out.exact[j].append((at + i, value))


def _slow_value(text: str, kind: Kind) -> tuple[Fraction, str | None]:
    if kind is Kind.INDEX:
        if text.isascii() and text.isdigit():
            index = parse_index(text)
            return (Fraction(0), "is too large for an index") if index is None else (Fraction(index), None)
        return Fraction(0), "is not a non-negative integer"
    try:
        return parse_rational(text), None
    except ExpressionError:
        if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            return Fraction(0), "is not a finite number"
        return Fraction(0), "is not a number (write it as 0.25, 1/4 or 2.5e-1)"
