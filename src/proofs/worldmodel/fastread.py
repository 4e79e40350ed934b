"""Vectorised reading of whitespace-separated tables of integers and exact numbers.

TRUSTED (reading base). Big explicit models (millions of rows) are read here without creating a
Python object per row and without ever passing a number through a binary float. A file is read in
chunks of about half a megabyte cut at line ends (never whole: its text is not held in memory),
small enough that numpy's temporaries stay in the processor's cache. In each chunk the tokens are
found with numpy (a token is a maximal run of bytes above ASCII space; in the usual layout of one
separator byte between tokens, the separators alone give every token), and every token of a
numeric column is decoded exactly by `proofs.worldmodel.digits`: an optional sign, at most 18
digits and at most one ``.`` give the exact value ``digits * 10**-fraction_digits``. Any other
token (``1/3``, ``2.5e-1``, more digits) is read one by one with `parse_rational`, which is exact
as well. A token that is not a number at all is reported with its line, never skipped.

Lines whose first token starts with ``#`` are comments; blank lines are skipped.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from proofs.core.errors import quote
from proofs.core.numbers import Rationals
from proofs.core.rational import ExpressionError, parse_rational
from proofs.worldmodel.digits import LEAD, TAIL, Decimals, decode_index, decode_number
from proofs.worldmodel.digits import words as decode_words

__all__ = ["BadRow", "BadToken", "IndexArray", "Kind", "Table", "parse_index", "read_table"]

_CHUNK = 1 << 19
_INDEX_DIGITS = 18  # an index of at most 18 digits fits an int64
_SHOWN = 200  # characters of a bad token kept for its message (a token may be megabytes long)

IntArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.int32] | npt.NDArray[np.int64]
_NARROW = 2**30  # index columns are int32 while every index is below this (headroom for +1 and sums)
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


class Table:
    """The rows of a table: one array per column, aligned, plus what could not be read.

    Rows with a wrong token count are left out (and listed in `bad_rows`); a row with an
    unreadable token is kept with the value 0 in that column (and listed in `bad_tokens`), so
    callers must report the problems before using the values. A number column is held as
    `Decimals` until `number` reduces it to lowest terms (in place: no second copy).
    """

    def __init__(
        self,
        line: npt.NDArray[np.int32],
        columns: list[IndexArray | Decimals | Rationals | npt.NDArray[np.bytes_]],
        bad_tokens: tuple[BadToken, ...],
        bad_rows: tuple[BadRow, ...],
        n_bad_tokens: int,
        n_bad_rows: int,
    ) -> None:
        self.line, self.columns = line, columns
        self.bad_tokens, self.bad_rows = bad_tokens, bad_rows
        self.n_bad_tokens, self.n_bad_rows = n_bad_tokens, n_bad_rows

    def __len__(self) -> int:
        return int(self.line.shape[0])

    def index(self, column: int) -> IndexArray:
        """An index column: int32 when every index is below 2**30 (half the memory), else int64."""
        value = self.columns[column]
        assert isinstance(value, np.ndarray) and value.dtype in (np.int32, np.int64)
        return cast(IndexArray, value)

    def decimals(self, column: int) -> Decimals:
        """A number column as read (before `number` reduced it)."""
        value = self.columns[column]
        assert isinstance(value, Decimals), "the column was already reduced by number()"
        return value

    def number(self, column: int) -> Rationals:
        """A number column in lowest terms (reduced once, in place of its decimal numerators)."""
        value = self.columns[column]
        if isinstance(value, Decimals):
            value = self.columns[column] = value.rationals(in_place=True)
        assert isinstance(value, Rationals)
        return value

    def word(self, column: int) -> npt.NDArray[np.bytes_]:
        value = self.columns[column]
        assert isinstance(value, np.ndarray) and value.dtype.kind == "S"
        return cast(npt.NDArray[np.bytes_], value)


def read_table(
    source: bytes | Path,
    offset: int,
    first_line: int,
    kinds: tuple[Kind, ...],
    optional_last: bool = False,
    report_limit: int = 50,
) -> Table:
    """Read the rows of `source` from byte `offset` on, the line at `offset` having number `first_line`.

    Parameters
    ----------
    source
        The whole file's bytes, or its path: a file is read in chunks of `_CHUNK` bytes, so its
        text is never held whole in memory.
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
    if optional_last and kinds[-1] is not Kind.WORD:
        raise ValueError("only a WORD column can be optional")
    with _open(source) as handle:
        size = handle.seek(0, io.SEEK_END) - offset
        handle.seek(offset)
        fewest = max(1, len(kinds) - optional_last)  # tokens of a kept row, each with a separator after it
        out = _Output(max(size, 0) // (2 * fewest) + 1, kinds, report_limit)
        for pb, n, line in _chunks(handle, first_line):
            _read_chunk(pb, n, line, optional_last, out)
    return out.table()


def _open(source: bytes | Path) -> io.BufferedIOBase:
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def _chunks(handle: io.BufferedIOBase, first_line: int) -> Iterator[tuple[ByteArray, int, int]]:
    """The file from its current position in pieces of whole lines: ``(pb, n, line)`` with the
    piece in ``pb[LEAD:LEAD + n]`` (ending with a newline: one is added after a last line without
    it), spaces around it, and the number of its first line.

    A piece is about `_CHUNK` bytes, small enough that the vectorised decoding works in the
    cache; a line longer than that makes its piece longer. ``pb`` is reused: use it before
    asking for the next piece.
    """
    buf = np.empty(LEAD + 2 * _CHUNK + TAIL, dtype=np.uint8)
    pending, line = 0, first_line
    while True:
        if len(buf) < LEAD + pending + _CHUNK + TAIL:  # a line longer than a chunk
            grown = np.empty(2 * len(buf) + _CHUNK, dtype=np.uint8)
            grown[: LEAD + pending] = buf[: LEAD + pending]
            buf = grown
        read = handle.readinto(buf[LEAD + pending : LEAD + pending + _CHUNK].data)
        total = pending + (read or 0)
        if not read:
            if total == 0:
                return
            end = total
        else:
            newline = _last_newline(buf, LEAD + pending, LEAD + total)
            if newline < 0:
                pending = total
                continue
            end = newline - LEAD + 1
        rest = buf[LEAD + end : LEAD + total].copy()
        n = end
        if buf[LEAD + n - 1] != 10:  # the file's last line has no newline
            buf[LEAD + n] = 10
            n += 1
        buf[:LEAD] = 32
        buf[LEAD + n : LEAD + n + TAIL] = 32
        yield buf, n, line
        line += int(np.count_nonzero(buf[LEAD : LEAD + n] == 10))
        if not read:
            return
        buf[LEAD : LEAD + len(rest)] = rest
        pending = len(rest)


def _last_newline(buf: ByteArray, lo: int, hi: int) -> int:
    """The index of the last newline in ``buf[lo:hi]``, -1 if none (searched from the end)."""
    step = 4096
    while hi > lo:
        begin = max(lo, hi - step)
        found = np.flatnonzero(buf[begin:hi] == 10)
        if len(found):
            return begin + int(found[-1])
        hi, step = begin, 4 * step
    return -1


class _Output:
    """Column arrays with room for the most rows the file can hold, filled chunk by chunk.

    The arrays are allocated zeroed (`np.zeros`): the operating system maps their pages only when
    they are written, so the room beyond the rows actually read costs address space, not memory.
    """

    def __init__(self, max_rows: int, kinds: tuple[Kind, ...], limit: int) -> None:
        self.kinds, self.limit, self.n = kinds, limit, 0
        self.line = np.zeros(max_rows, dtype=np.int32)
        self.ints: dict[int, IndexArray] = {}
        self.words: dict[int, npt.NDArray[np.bytes_]] = {}
        self.exps: dict[int, npt.NDArray[np.int8]] = {}
        self.exact: dict[int, list[tuple[int, Fraction]]] = {}
        for j, kind in enumerate(kinds):
            if kind is Kind.WORD:
                self.words[j] = np.zeros(max_rows, dtype="S1")
            else:
                dtype = np.int32 if kind is Kind.INDEX else np.int64
                self.ints[j] = cast(IndexArray, np.zeros(max_rows, dtype=dtype))
            if kind is Kind.NUMBER:
                self.exps[j], self.exact[j] = np.zeros(max_rows, dtype=np.int8), []
        self.bad_tokens: list[BadToken] = []
        self.bad_rows: list[BadRow] = []
        self.n_bad_tokens = self.n_bad_rows = 0

    def bad_token(self, line: int, column: int, text: str, reason: str) -> None:
        self.n_bad_tokens += 1
        if len(self.bad_tokens) < self.limit:
            self.bad_tokens.append(BadToken(line, column + 1, text[:_SHOWN], reason, len(text)))

    def bad_row(self, line: int, n_tokens: int) -> None:
        self.n_bad_rows += 1
        if len(self.bad_rows) < self.limit:
            self.bad_rows.append(BadRow(line, n_tokens))

    def put_ints(self, j: int, start: int, values: IntArray) -> None:
        column = self.ints[j]
        if column.dtype == np.int32 and len(values) and int(values.max()) >= _NARROW:
            wide = np.zeros(len(column), dtype=np.int64)  # pages beyond the rows read stay unmapped
            wide[:start] = column[:start]
            self.ints[j] = column = wide
        column[start : start + len(values)] = values

    def put_words(self, j: int, start: int, words: npt.NDArray[np.bytes_]) -> None:
        column = self.words[j]
        if words.dtype.itemsize > column.dtype.itemsize:
            self.words[j] = column = column.astype(words.dtype)
        column[start : start + len(words)] = words

    def table(self) -> Table:
        columns: list[IndexArray | Decimals | Rationals | npt.NDArray[np.bytes_]] = []
        for j, kind in enumerate(self.kinds):
            if kind is Kind.WORD:
                columns.append(self.words[j][: self.n])
            elif kind is Kind.NUMBER:
                num = cast(IntArray, self.ints[j][: self.n])
                columns.append(Decimals(num, self.exps[j][: self.n], self.exact[j]))
            else:
                columns.append(self.ints[j][: self.n])
        return Table(
            self.line[: self.n],
            columns,
            tuple(sorted(self.bad_tokens, key=lambda t: (t.line, t.column))),
            tuple(self.bad_rows),
            self.n_bad_tokens,
            self.n_bad_rows,
        )


def _simple_layout(pb: ByteArray, n: int, ncols: int) -> IntArray | None:
    """The separators (in ``pb``) of a chunk in the usual layout, else None.

    The layout: every line has exactly `ncols` tokens separated by exactly one byte (a space or a
    tab), the first not starting with ``#`` (so there are no blank lines, comments or short
    rows, and row ``i`` is line ``i``). Then the separators are the bytes up to 32, every
    `ncols`-th of them a newline, and token ``j`` of row ``i`` ends at separator ``i*ncols + j``.
    """
    text = pb[LEAD : LEAD + n]
    separators = np.flatnonzero(text <= 32)
    count = len(separators)
    if count == 0 or count % ncols or separators[0] == 0 or np.any(np.diff(separators) < 2):
        return None
    kind = text[separators].reshape(-1, ncols)
    if np.any(kind[:, -1] != 10) or (ncols > 1 and np.any(kind[:, :-1] == 10)):
        return None
    if text[0] == 35 or np.any(text[separators[ncols - 1 : -1 : ncols] + 1] == 35):  # "#": a comment line
        return None
    separators += LEAD
    return separators


def _rows(
    pb: ByteArray, n: int, starts: IntArray, optional_last: bool, ncols: int
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Per line with tokens: first token, token count, 0-based line; and which lines are well formed."""
    line_end = LEAD + np.flatnonzero(pb[LEAD : LEAD + n] == 10)  # the chunk ends with a newline
    cut = np.searchsorted(starts, line_end)
    counts = np.diff(cut, prepend=0)
    first = cut - counts
    if len(starts):
        head = pb[starts[np.minimum(first, len(starts) - 1)]]
    else:  # blank lines only (a chunk of them after a header): no row at all
        head = np.zeros(len(cut), dtype=pb.dtype)
    rows = np.flatnonzero((counts > 0) & (head != ord("#")))
    counts, first = counts[rows], first[rows]
    good = (counts == ncols) | ((counts == ncols - 1) & optional_last)
    return first, counts, rows, good


def _read_chunk(pb: ByteArray, n: int, line0: int, optional_last: bool, out: _Output) -> None:
    """Read the rows of the chunk ``pb[LEAD:LEAD + n]`` (first line `line0`) into `out`."""
    ncols = len(out.kinds)
    separators = _simple_layout(pb, n, ncols)
    width = ncols
    if separators is None and optional_last:
        separators, width = _simple_layout(pb, n, ncols - 1), ncols - 1
    if separators is not None:
        m = len(separators) // width
        line = (line0 + np.arange(m)).astype(np.int32)
        bounds = [(_previous(separators, width, j), separators[j::width]) for j in range(width)]
        last_present = None
    else:
        solid = pb[: LEAD + n + 1] > 32
        edges = np.flatnonzero(solid[1:] != solid[:-1]) + 1  # start, stop, start, stop, ...
        starts, stops = edges[0::2], edges[1::2]
        first, counts, rows, good = _rows(pb, n, starts, optional_last, ncols)
        for i in np.flatnonzero(~good).tolist():
            out.bad_row(line0 + int(rows[i]), int(counts[i]))
        first, counts = first[good], counts[good]
        m = len(first)
        line = (line0 + rows[good]).astype(np.int32)
        bounds = [(starts[first + j], stops[first + j]) for j in range(ncols - 1)]
        last_present = None if bool(np.all(counts == ncols)) else counts == ncols
        last = first + ncols - 1 if last_present is None else first[last_present] + ncols - 1
        bounds.append((starts[last], stops[last]))
        width = ncols
    at = out.n
    out.line[at : at + m] = line
    for j, kind in enumerate(out.kinds):
        if j >= width:  # the optional last column, absent from every row of the chunk
            continue
        start, stop = bounds[j]
        mask = last_present if j == ncols - 1 else None  # rows without the optional last token
        if kind is Kind.WORD:
            words = np.zeros(m, dtype=f"S{max(1, int((stop - start).max(initial=1)))}")
            if mask is None:
                words[:] = decode_words(pb, start, stop)
            else:
                words[mask] = decode_words(pb, start, stop)
            out.put_words(j, at, words)
            continue
        if kind is Kind.INDEX:
            num, ok = decode_index(pb, start, stop)
        else:
            num, exp, ok = decode_number(pb, start, stop)
            out.exps[j][at : at + m] = exp
        if not ok.all():
            _slow_tokens(pb, start, stop, ~ok, line, j, at, kind, out, num)
        out.put_ints(j, at, num)
    out.n += m


def _previous(separators: IntArray, width: int, j: int) -> IntArray:
    """Where token `j` of every row starts in the simple layout: after the separator before it."""
    if j:
        return separators[j - 1 :: width] + 1
    start = np.empty(len(separators) // width, dtype=np.int64)
    start[0] = LEAD
    start[1:] = separators[width - 1 : -1 : width] + 1
    return start


def _text(pb: ByteArray, start: int, stop: int) -> str:
    return bytes(pb[start:stop]).decode("utf-8", errors="replace")


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
