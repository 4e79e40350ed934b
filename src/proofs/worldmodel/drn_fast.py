"""The fast path for big DRN files: well-formed files read with numpy, the rest left to `drn`.

TRUSTED (reading base). `read_drn_fast` reads a DRN file in chunks of whole lines (the file is
never held whole) and decodes every line of a chunk at once with numpy: no Python object per
state, choice or transition. It accepts only files in the usual layout, and for those gives the
very `Mdp` the careful line-by-line reader of `proofs.worldmodel.drn` gives (same arrays, same
exact numbers in the same reduced form, same names and order). Anything else makes it return
``None`` so that the careful reader reads the file and reports the problem with its line:

* a byte other than printable ASCII, tab and newline (so lines are exactly the ``\\n``-separated
  pieces, as ``str.splitlines`` gives them);
* a header that is not read cleanly up to a line ``@model`` (it is read by `drn`'s own code);
* a body line that is not blank, a ``//`` comment, ``state N ...`` (N the next index, written
  without leading zeros), ``action [NAME [[REWARDS] ...]]`` or ``TARGET : VALUE`` with VALUE a
  number or ``[LO, HI]``; a tab inside a state or action line;
* a number that the exact reader (`proofs.core.rational.evaluate_expression`, through
  `drn._Reader.value`) rejects, and any problem the validation (`validate_mdp`) finds.

Numbers ``[+-]digits[.digits]`` (up to 18 digits) and ``[+-]digits/digits`` (up to 18 digits
each) are decoded vectorised (`proofs.worldmodel.digits`) and reduced to lowest terms; any other
number (``1e-3``, ``$p``, longer ones) is read one by one by the careful reader's own `value`.
"""

from __future__ import annotations

import re
import io
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from proofs.core.errors import InputError, InputErrors, Location
from proofs.core.model import Mdp, concat_ranges
from proofs.core.numbers import Rationals
from proofs.worldmodel.arith import add
from proofs.worldmodel.build import INIT_LABEL, assemble_mdp
from proofs.worldmodel.digits import LEAD, TAIL, decode_index, decode_number, reduce_decimals, words
from proofs.worldmodel.drn import _LABEL, _NO_LABEL, _Reader, _read_header
from proofs.worldmodel.fastread import _chunks
from proofs.worldmodel.validate import Problems

__all__ = ["STATS", "Nowhere", "read_drn_fast", "read_drn_stream"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ByteArray = npt.NDArray[np.uint8]

_HEADER_LIMIT = 1 << 24  # a header (with its placeholders) longer than this is left to the careful reader
_INT64_SAFE = 2**62
_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[[9, 10]] = True
_ALLOWED[32:127] = True
_BLANK = np.zeros(256, dtype=bool)  # blanks inside a line (str.strip removes them)
_BLANK[[9, 32]] = True
_MARK = np.zeros(256, dtype=bool)  # the bytes whose positions a chunk lists
_MARK[list(b'\n\t:[],/"')] = True
_STATE = np.frombuffer(b"state ", dtype=np.uint8)
_ACTION = np.frombuffer(b"action", dtype=np.uint8)
_NO_LABEL_BYTES = _NO_LABEL.encode()


STATS = {"fast": 0, "fallback": 0}
"""How many files `read_drn_fast` read, and how many it left to the careful reader (for tests)."""


class _Unusual(Exception):
    """The file is not in the layout the fast path reads: the careful reader reads it instead."""


def read_drn_fast(path: Path) -> Mdp | None:
    """The validated `Mdp` of a well-formed DRN file, or ``None`` for the careful reader.

    Examples
    --------
    >>> import tempfile
    >>> text = "@type: MDP\\n@nr_states\\n1\\n@model\\nstate 0 init\\n action go\\n  0 : 1\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "m.drn"; _ = p.write_text(text)
    ...     mdp = read_drn_fast(p)
    >>> mdp.local_actions(0), mdp.successors(0)
    (['go'], [(0, Fraction(1, 1))])
    """
    try:
        mdp = _Fast(path).read()
    except _Unusual:
        STATS["fallback"] += 1
        return None
    STATS["fast"] += 1
    return mdp


def read_drn_stream(stream: BinaryIO, sizes: tuple[int, int, int], path: Path) -> dict[str, Any] | None:
    """The arrays of well-formed DRN text arriving on a stream (a pipe from the process that writes
    it, read while it is written) as `assemble_mdp`'s keyword arguments, not yet validated (the
    caller assembles them; repeated action names are not yet numbered), or ``None`` for the
    careful reader. ``sizes`` = (states, choices, transitions) bound the text: the writer knows
    them and a pipe cannot tell. `path` names the model in messages. A stream that holds more
    than that, or anything the fast path does not read, gives ``None``."""
    try:
        fast = _Fast(path, stream=stream, sizes=sizes)
        fast.scan()
        return fast.arrays()
    except _Unusual:
        return None


class _Prefixed(io.RawIOBase):
    """The bytes read past the header, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(self.head):
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        return self.rest.readinto(buffer) or 0   # type: ignore[attr-defined]


def _grow(array: npt.NDArray[np.int64] | None, size: int) -> npt.NDArray[np.int64]:
    """A zeroed int64 array of `size` (untouched pages are never mapped: room costs no memory)."""
    return np.zeros(size, dtype=np.int64) if array is None else array


@dataclass
class _Column:
    """Exact numbers written by index into zeroed room: numerators, denominators (0 = not
    written, read as 0/1) and the few values read one by one."""

    size: int
    num: IntArray | None = None
    den: IntArray | None = None
    exact: list[tuple[int, Fraction]] = field(default_factory=list)

    def put(self, at: IntArray, num: IntArray, den: IntArray) -> None:
        self.num, self.den = _grow(self.num, self.size), _grow(self.den, self.size)
        self.num[at], self.den[at] = num, den

    def rationals(self, n: int) -> Rationals:
        if self.num is None or self.den is None:
            values = Rationals.zeros(n)
        else:
            num, den = self.num[:n], self.den[:n]
            den[den == 0] = 1
            values = Rationals(num, den)
        if not self.exact:
            return values
        if all(abs(v.numerator) < _INT64_SAFE and v.denominator < _INT64_SAFE for _, v in self.exact):
            for i, v in self.exact:
                values.num[i], values.den[i] = v.numerator, v.denominator
            return values
        fractions = values.fractions()
        for i, v in self.exact:
            fractions[i] = v
        return Rationals.from_fractions(fractions)


class _Names:
    """Names numbered in order of first appearance (action names, labels)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def add(self, position: IntArray, names: list[str], local: IntArray) -> IntArray:
        """Global numbers of ``names[local[i]]`` (occurring at ``position[i]``, increasing)."""
        if not len(local):
            return np.zeros(0, dtype=np.int64)
        _, first = np.unique(local, return_index=True)
        ids = np.empty(len(names), dtype=np.int64)
        for k in np.sort(first).tolist():
            name = names[int(local[k])]
            ids[int(local[k])] = self.index.setdefault(name, len(self.index))
        return ids[local]


class _Fast:
    def __init__(self, path: Path, *, stream: BinaryIO | None = None, sizes: tuple[int, int, int] | None = None) -> None:
        self.path = path
        self.stream: io.RawIOBase | None = None
        if stream is None:
            with path.open("rb") as handle:
                self.reader, _, self.offset, self.first_line = _header(handle, path)
            size = max(path.stat().st_size - self.offset, 0)
            self.max_states, self.max_choices, self.max_trans = size // 8 + 2, size // 7 + 2, size // 4 + 2
        else:
            assert sizes is not None
            self.reader, data, self.offset, self.first_line = _header(stream, path)
            self.stream = _Prefixed(data[self.offset:], stream)
            self.max_states, self.max_choices, self.max_trans = (n + 2 for n in sizes)
        self.n_states = self.n_choices = self.n_trans = 0
        self.has_action = False  # whether the current state has a choice yet
        self.choice_start = np.zeros(self.max_states, dtype=np.int64)
        self.row_start = np.zeros(self.max_choices, dtype=np.int64)
        self.choice_action = np.zeros(self.max_choices, dtype=np.int32)
        self.target = np.zeros(self.max_trans, dtype=np.int64)
        self.lo = _Column(self.max_trans)
        self.hi: _Column | None = None  # made at the first interval
        self.state_rewards: list[_Column] = []
        self.choice_rewards: list[_Column] = []
        self.actions = _Names()
        self.labels = _Names()
        self.label_states: list[tuple[IntArray, IntArray]] = []

    # -- the whole file ------------------------------------------------------------------------
    def read(self) -> Mdp:
        self.scan()
        return self._assemble()

    def scan(self) -> None:
        if self.stream is not None:
            for pb, n, _ in _chunks(self.stream, self.first_line):   # type: ignore[arg-type]
                self._chunk(pb, n)
            return
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            for pb, n, _ in _chunks(handle, self.first_line):
                self._chunk(pb, n)

    def _assemble(self) -> Mdp:
        try:
            return assemble_mdp(**self.arrays(), where=Nowhere(self.path), problems=Problems(str(self.path)),
                                number_repeated_actions=True)
        except (InputError, InputErrors):
            raise _Unusual from None

    def arrays(self) -> dict[str, Any]:
        """The model's arrays as `assemble_mdp`'s keyword arguments (but `where` and `problems`)."""
        h = self.reader.header
        if h.nr_states != self.n_states or h.nr_choices not in (None, self.n_choices) or not self.n_states:
            raise _Unusual
        n_s, n_c, n_t = self.n_states, self.n_choices, self.n_trans
        choice_start = self.choice_start[: n_s + 1]
        choice_start[n_s] = n_c
        row_start = self.row_start[: n_c + 1]
        row_start[n_c] = n_t
        width = max(len(self.state_rewards), len(self.choice_rewards))
        names = h.reward_models + [f"rew{i}" for i in range(len(h.reward_models), width)]
        if len(set(names)) != len(names):
            raise _Unusual
        choice_state = np.repeat(np.arange(n_s, dtype=np.int64), np.diff(choice_start))
        rewards: dict[str, Rationals] = {}
        for j, name in enumerate(names):
            per_choice = self.choice_rewards[j].rationals(n_c) if j < len(self.choice_rewards) else Rationals.zeros(n_c)
            if j < len(self.state_rewards):
                per_state = self.state_rewards[j].rationals(n_s)
                per_choice = add(per_state.take(choice_state), per_choice)
            rewards[name] = per_choice
        del choice_state
        labels = self._label_masks()
        init = np.flatnonzero(labels[INIT_LABEL]) if INIT_LABEL in labels else np.zeros(0, dtype=np.int64)
        lo = self.lo.rationals(n_t)
        interval = None if self.hi is None else (lo, self.hi.rationals(n_t))
        return dict(
            source=str(self.path),
            states=tuple(map(str, range(n_s))),
            choice_start=choice_start,
            action_names=tuple(self.actions.index),
            choice_action=self.choice_action[:n_c],
            row_start=row_start,
            target=self.target[:n_t],
            probability=lo if interval is None else None,
            interval=interval,
            rewards=rewards,
            labels=labels,
            initial_states=init.astype(np.int64),
            initial_probability=Rationals(np.ones(len(init), dtype=np.int64),
                                          np.full(len(init), max(len(init), 1), dtype=np.int64)),
        )

    def _label_masks(self) -> dict[str, BoolArray]:
        masks = {name: np.zeros(self.n_states, dtype=bool) for name in self.labels.index}
        names = list(self.labels.index)
        for label, state in self.label_states:
            for k in np.unique(label).tolist():
                masks[names[k]][state[label == k]] = True
        return masks

    # -- one chunk of whole lines: pb[LEAD:LEAD + n] ----------------------------------------------
    def _chunk(self, pb: ByteArray, n: int) -> None:
        text = pb[LEAD : LEAD + n]
        if not _ALLOWED[text].all():
            raise _Unusual
        marks = np.flatnonzero(_MARK[text]) + LEAD  # newlines, tabs and punctuation, in one pass
        kinds = pb[marks]
        ends = marks[kinds == 10]  # the chunk ends with a newline
        solid = pb[LEAD - 1 : LEAD + n + 1] > 32
        edges = np.flatnonzero(solid[1:] != solid[:-1]) + LEAD
        starts, stops = edges[0::2], edges[1::2]
        del solid, edges
        newlines = np.cumsum(text == 10, dtype=np.int32)
        token_line = newlines[starts - LEAD]  # newlines before each token: its line
        del newlines
        new_line = np.ones(len(starts), dtype=bool)
        new_line[1:] = token_line[1:] != token_line[:-1]
        first = np.flatnonzero(new_line)
        count = np.diff(np.append(first, len(starts)))
        lines = token_line[first].astype(np.int64)  # lines with a token (others are blank)
        head = starts[first]
        c0 = pb[head]
        first_len = stops[first] - head
        is_t = (c0 >= 48) & (c0 <= 57)
        is_comment = (c0 == 47) & (pb[head + 1] == 47)
        is_s = (c0 == 115) & (first_len == 5) & (count >= 2)
        is_s[is_s] = np.all(pb[head[is_s, None] + np.arange(6)] == _STATE, axis=1)
        is_a = (c0 == 97) & (first_len == 6)
        is_a[is_a] = np.all(pb[head[is_a, None] + np.arange(6)] == _ACTION, axis=1)
        is_a &= (count == 1) | (pb[head + 6] == 32)
        if not np.all(is_t | is_comment | is_s | is_a):
            raise _Unusual
        line_end = ends[lines]  # the newline of each line with a token
        tabs = marks[kinds == 9]
        if len(tabs) and len(lines):  # (a piece of blank lines only, such as a last line '\t', has no token line)
            k = np.searchsorted(line_end, tabs)  # the token line of each tab (a tab on a blank line is fine)
            inside = (k < len(lines)) & (tabs > head[np.minimum(k, len(lines) - 1)])
            last_end = stops[first + count - 1]
            inside &= tabs < last_end[np.minimum(k, len(lines) - 1)]
            if np.any(inside & (is_s | is_a)[np.minimum(k, len(lines) - 1)]):
                raise _Unusual
        keep = ~is_comment
        lines_kind = np.where(is_s, 1, np.where(is_a, 2, 3))[keep]  # 1 state, 2 action, 3 transition
        sel = np.flatnonzero(keep)
        first, count, head, line_end = first[sel], count[sel], head[sel], line_end[sel]
        is_s, is_a, is_t = lines_kind == 1, lines_kind == 2, lines_kind == 3
        s_before = np.cumsum(is_s)  # state lines up to and including each line
        a_before = np.cumsum(is_a)
        t_before = np.cumsum(is_t) - is_t  # transition lines strictly before each line
        colons, openers, closers, commas, slashes, quotes = (marks[kinds == c] for c in b':[],/"')
        cx = _Context(pb, starts, stops, colons, openers, closers, commas, slashes, quotes, self.reader)
        self._states(cx, np.flatnonzero(is_s), first, count, line_end, a_before)
        self._actions(cx, np.flatnonzero(is_a), first, count, line_end, s_before, t_before)
        self._transitions(cx, np.flatnonzero(is_t), head, first, count, line_end, lines_kind)
        self.n_states += int(s_before[-1]) if len(s_before) else 0
        self.n_choices += int(a_before[-1]) if len(a_before) else 0
        self.n_trans += int(np.count_nonzero(is_t))
        if np.any(is_s):
            self.has_action = bool(np.flatnonzero(is_a)[-1:].tolist() > np.flatnonzero(is_s)[-1:].tolist())
        elif np.any(is_a):
            self.has_action = True

    def _states(self, cx: _Context, rows: IntArray, first: IntArray, count: IntArray, line_end: IntArray,
                a_before: IntArray) -> None:
        if not len(rows):
            return
        pb = cx.pb
        index = self.n_states + np.arange(len(rows))
        if index[-1] >= self.max_states:
            raise _Unusual
        start, stop = cx.starts[first[rows] + 1], cx.stops[first[rows] + 1]
        value, ok = decode_index(pb, start, stop)
        if not (ok.all() and np.all(value == index) and np.all((pb[start] != 48) | (stop - start == 1))):
            raise _Unusual  # a wrong index or one with leading zeros: the careful reader says which
        self.choice_start[index] = self.n_choices + a_before[rows]
        has_list = count[rows] >= 3
        third = first[rows] + 2
        has_list[has_list] = pb[cx.starts[third[has_list]]] == 91
        listed = np.flatnonzero(has_list)
        close = np.full(len(rows), -1, dtype=np.int64)
        if len(listed):
            close[listed] = cx.closing(cx.starts[third[listed]], line_end[rows[listed]])
            self._lists(cx, cx.starts[third[listed]], close[listed], index[listed], self.state_rewards,
                        self.max_states)
        # labels: the tokens after the reward list (or after the index), a token holding ']' cut after it
        labelled = np.flatnonzero((count[rows] >= 3) | (close >= 0))
        if not len(labelled):
            return
        region = np.where(close[labelled] >= 0, close[labelled] + 1, cx.starts[np.minimum(third[labelled],
                                                                                           len(cx.starts) - 1)])
        region_end = line_end[rows[labelled]]
        quoted = _count_in(cx.quotes, region, region_end) > 0
        tokens = concat_ranges(first[rows[labelled]] + 1, first[rows[labelled]] + count[rows[labelled]])
        owner = np.repeat(np.arange(len(labelled)), count[rows[labelled]] - 1)
        t_start, t_stop = cx.starts[tokens], cx.stops[tokens]
        t_start = np.maximum(t_start, region[owner])
        use = (t_stop > t_start) & ~quoted[owner]
        t_start, t_stop, owner = t_start[use], t_stop[use], owner[use]
        position: list[IntArray] = [t_start]
        state: list[IntArray] = [index[labelled][owner]]
        texts: list[str] = []
        local: list[IntArray] = []
        if len(t_start):
            if int((t_stop - t_start).max()) <= TAIL:
                found = words(pb, t_start, t_stop)
            else:
                found = np.array([pb[a:b].tobytes() for a, b in zip(t_start.tolist(), t_stop.tolist())])
            unique, inverse = np.unique(found, return_inverse=True)
            texts = [u.decode("ascii") for u in unique.tolist()]
            local.append(inverse.reshape(-1).astype(np.int64))
        extra_pos, extra_state, extra_local = [], [], []
        for k in np.flatnonzero(quoted).tolist():
            a, b = int(region[k]), int(region_end[k])
            for match in _LABEL.finditer(pb[a:b].tobytes().decode("ascii")):
                extra_pos.append(a + match.start())
                extra_state.append(int(index[labelled[k]]))
                extra_local.append(len(texts))
                texts.append(match.group(1) or match.group(2))
        position.append(np.array(extra_pos, dtype=np.int64))
        state.append(np.array(extra_state, dtype=np.int64))
        local.append(np.array(extra_local, dtype=np.int64))
        pos, st, loc = np.concatenate(position), np.concatenate(state), np.concatenate(local)
        order = np.argsort(pos, kind="stable")
        # equal texts (a quoted label and a bare one) must share their number: number them by text
        text_id = {t: i for i, t in enumerate(dict.fromkeys(texts))}
        canonical = np.array([text_id[t] for t in texts], dtype=np.int64)
        names = list(text_id)
        ids = self.labels.add(pos[order], names, canonical[loc[order]])
        self.label_states.append((ids, st[order]))

    def _actions(self, cx: _Context, rows: IntArray, first: IntArray, count: IntArray, line_end: IntArray,
                 s_before: IntArray, t_before: IntArray) -> None:
        if not len(rows):
            return
        pb = cx.pb
        choice = self.n_choices + np.arange(len(rows))
        if choice[-1] >= self.max_choices:
            raise _Unusual
        state = self.n_states + s_before[rows] - 1
        if state[0] < 0:
            raise _Unusual  # an action before the first state
        self.row_start[choice] = self.n_trans + t_before[rows]
        local_index = choice - self.choice_start[state]
        named = count[rows] >= 2
        name_start = np.where(named, cx.starts[np.minimum(first[rows] + 1, len(cx.starts) - 1)], 0)
        name_stop = np.where(named, cx.stops[np.minimum(first[rows] + 1, len(cx.stops) - 1)], 0)
        has_names = np.flatnonzero(named)
        texts: list[str] = []
        local = np.zeros(len(rows), dtype=np.int64)
        plain = ~named
        if len(has_names):
            a, b = name_start[has_names], name_stop[has_names]
            if int((b - a).max()) <= TAIL:
                found = words(pb, a, b)
            else:
                found = np.array([pb[x:y].tobytes() for x, y in zip(a.tolist(), b.tolist())])
            unique, inverse = np.unique(found, return_inverse=True)
            texts = [u.decode("ascii") for u in unique.tolist()]
            local[has_names] = inverse.reshape(-1)
            if _NO_LABEL in texts:
                plain[has_names[inverse.reshape(-1) == texts.index(_NO_LABEL)]] = True
        if np.any(plain):
            ks, inverse = np.unique(local_index[plain], return_inverse=True)
            local[plain] = len(texts) + inverse.reshape(-1)
            texts += [str(k) for k in ks.tolist()]
        text_id = {t: i for i, t in enumerate(dict.fromkeys(texts))}
        canonical = np.array([text_id[t] for t in texts], dtype=np.int64)
        self.choice_action[choice] = self.actions.add(rows, list(text_id), canonical[local])
        has_list = count[rows] >= 3
        third = first[rows] + 2
        has_list[has_list] = pb[cx.starts[third[has_list]]] == 91
        listed = np.flatnonzero(has_list)
        if len(listed):
            opens = cx.starts[third[listed]]
            close = cx.closing(opens, line_end[rows[listed]])
            self._lists(cx, opens, close, choice[listed], self.choice_rewards, self.max_choices)

    def _lists(self, cx: _Context, opens: IntArray, close: IntArray, at: IntArray, columns: list[_Column],
               size: int) -> None:
        """Reward lists ``[v0, v1, ...]`` between `opens` and `close`: value j into ``columns[j][at]``."""
        lo = np.searchsorted(cx.commas, opens)
        hi = np.searchsorted(cx.commas, close)
        n_values = hi - lo + 1
        offsets = np.concatenate([[0], np.cumsum(n_values + 1)])
        delimiters = np.empty(int(offsets[-1]), dtype=np.int64)
        delimiters[offsets[:-1]] = opens
        delimiters[offsets[1:] - 1] = close
        inner = concat_ranges(lo, hi)
        inner_at = concat_ranges(offsets[:-1] + 1, offsets[1:] - 1)
        delimiters[inner_at] = cx.commas[inner]
        value_at = concat_ranges(offsets[:-1], offsets[1:] - 1)
        start, stop = _trim(cx.pb, delimiters[value_at] + 1, delimiters[value_at + 1])
        owner = np.repeat(np.arange(len(opens)), n_values)
        position = np.arange(len(value_at)) - np.repeat(offsets[:-1] - np.arange(len(opens)), n_values)
        num, den, exact = cx.numbers(start, stop)
        width = int(n_values.max())
        while len(columns) < width:
            columns.append(_Column(size))
        for j in range(width):
            pick = np.flatnonzero(position == j)
            target = at[owner[pick]]
            columns[j].put(target, num[pick], den[pick])
        for k, v in exact:
            columns[int(position[k])].exact.append((int(at[owner[k]]), v))

    def _transitions(self, cx: _Context, rows: IntArray, head: IntArray, first: IntArray, count: IntArray,
                     line_end: IntArray, kind: IntArray) -> None:
        if not len(rows):
            return
        pb = cx.pb
        at = self.n_trans + np.arange(len(rows))
        if at[-1] >= self.max_trans:
            raise _Unusual
        # a transition needs an action after the last state line before it
        order = np.arange(len(kind))
        last_s = np.maximum.accumulate(np.where(kind == 1, order, -1))[rows]
        last_a = np.maximum.accumulate(np.where(kind == 2, order, -1))[rows]
        fine = (last_a > last_s) | ((last_s < 0) & (last_a < 0) & self.has_action)
        if not fine.all():
            raise _Unusual
        f, e = head[rows], cx.stops[first[rows] + count[rows] - 1]
        if np.any(_count_in(cx.colons, f, e) != 1):
            raise _Unusual  # not exactly one ':' on every transition line
        colons = cx.colons[np.searchsorted(cx.colons, f)]
        target_stop = colons.copy()
        while True:
            back = _BLANK[pb[target_stop - 1]]
            if not back.any():
                break
            target_stop[back] -= 1
        target, ok = decode_index(pb, f, target_stop)
        if not ok.all():
            raise _Unusual
        value_start = colons + 1
        while True:
            ahead = _BLANK[pb[value_start]]
            if not ahead.any():
                break
            value_start[ahead] += 1
        interval = pb[value_start] == 91
        opens = _count_in(cx.openers, f, e)
        closes = _count_in(cx.closers, f, e)
        commas = _count_in(cx.commas, f, e)
        point = ~interval
        if np.any(point & ((opens > 0) | (closes > 0) | (commas > 0))):
            raise _Unusual
        self.target[at] = target
        if self.hi is None and interval.any():  # the first interval: the points so far get hi = lo
            self.hi = _Column(self.max_trans)
            done = self.n_trans
            if self.lo.num is not None and self.lo.den is not None:
                self.hi.put(np.arange(done), self.lo.num[:done], self.lo.den[:done])
            self.hi.exact += [(i, v) for i, v in self.lo.exact if i < done]
        p_start, p_stop = value_start[point], np.maximum(e[point], value_start[point])
        num, den, exact = cx.numbers(p_start, p_stop)
        point_at = at[point]
        self.lo.put(point_at, num, den)
        self.lo.exact += [(int(point_at[k]), v) for k, v in exact]
        if self.hi is not None:
            self.hi.put(point_at, num, den)
            self.hi.exact += [(int(point_at[k]), v) for k, v in exact]
        if not interval.any():
            return
        iv = np.flatnonzero(interval)
        if np.any((opens[iv] != 1) | (closes[iv] != 1) | (commas[iv] != 1) | (pb[e[iv] - 1] != 93)):
            raise _Unusual
        comma = cx.commas[np.searchsorted(cx.commas, value_start[iv])]
        assert self.hi is not None
        iv_at = at[iv]
        for column, (a, b) in ((self.lo, (value_start[iv] + 1, comma)), (self.hi, (comma + 1, e[iv] - 1))):
            start, stop = _trim(pb, a, b)
            num, den, exact = cx.numbers(start, stop)
            column.put(iv_at, num, den)
            column.exact += [(int(iv_at[k]), v) for k, v in exact]


@dataclass(frozen=True)
class _Context:
    """One chunk's bytes, tokens and punctuation, and the careful reader for odd numbers."""

    pb: ByteArray
    starts: IntArray
    stops: IntArray
    colons: IntArray
    openers: IntArray
    closers: IntArray
    commas: IntArray
    slashes: IntArray
    quotes: IntArray
    reader: _Reader

    def closing(self, opens: IntArray, line_end: IntArray) -> IntArray:
        """The first ']' after each '[' (on its line)."""
        k = np.searchsorted(self.closers, opens)
        if np.any(k >= len(self.closers)):
            raise _Unusual
        close = self.closers[k]
        if np.any(close > line_end):
            raise _Unusual
        return close

    def numbers(self, start: IntArray, stop: IntArray) -> tuple[IntArray, IntArray, list[tuple[int, Fraction]]]:
        """The exact numbers ``pb[start:stop]`` in lowest terms: numerators, denominators, and the
        values read one by one (by the careful reader's `value`), at their indices."""
        pb = self.pb
        num, den = np.zeros(len(start), dtype=np.int64), np.ones(len(start), dtype=np.int64)
        exact: list[tuple[int, Fraction]] = []
        if len(self.slashes):
            k = np.searchsorted(self.slashes, start)
            slash = self.slashes[np.minimum(k, len(self.slashes) - 1)]
            has = (k < len(self.slashes)) & (slash < stop)
        else:
            slash, has = start, np.zeros(len(start), dtype=bool)
        plain = np.flatnonzero(~has)
        ok = has.copy()
        if len(plain):
            top, exp, fine = decode_number(pb, start[plain], stop[plain])
            den[plain] = reduce_decimals(top, exp)
            num[plain] = top
            ok[plain] = fine
        odd = np.flatnonzero(has | ~ok)  # fractions, and the decimals not read yet
        if not len(odd):
            return num, den, exact
        a, b, slash, has = start[odd], stop[odd], slash[odd], has[odd]
        sign = (pb[a] == 45) | (pb[a] == 43)
        top, top_ok = decode_index(pb, a + sign, np.where(has, slash, a + sign))
        bottom, bottom_ok = decode_index(pb, np.where(has, slash + 1, b), b)
        fraction = has & top_ok & bottom_ok & (slash > a + sign) & (b > slash + 1) & (bottom != 0)
        top = np.where(pb[a] == 45, -top, top)
        g = np.gcd(top, np.where(fraction, bottom, 1))
        done = np.flatnonzero(fraction)
        num[odd[done]] = top[done] // g[done]
        den[odd[done]] = bottom[done] // g[done]
        for i in odd[~fraction].tolist():
            text = pb[int(start[i]) : int(stop[i])].tobytes().decode("ascii")
            value = self.reader.value(text, 0)
            if value is None:
                raise _Unusual
            num[i], den[i] = 0, 1
            exact.append((i, value))
        return num, den, exact


def _trim(pb: ByteArray, start: IntArray, stop: IntArray) -> tuple[IntArray, IntArray]:
    """``pb[start:stop]`` without blanks at either end (``str.strip`` on a line without newlines)."""
    start, stop = start.copy(), np.maximum(stop, start)
    while True:
        front = (start < stop) & _BLANK[pb[start]]
        if not front.any():
            break
        start[front] += 1
    while True:
        back = (stop > start) & _BLANK[pb[stop - 1]]
        if not back.any():
            break
        stop[back] -= 1
    return start, stop


def _count_in(positions: IntArray, lo: IntArray, hi: IntArray) -> IntArray:
    """How many of the sorted `positions` lie in each ``[lo, hi)``."""
    counts: IntArray = np.searchsorted(positions, hi) - np.searchsorted(positions, lo)
    return counts


def _header(handle: BinaryIO, path: Path) -> tuple[_Reader, bytes, int, int]:
    """The careful reader with its header read (by `drn`'s own code), the bytes read from
    `handle` (the header and maybe more), the body's byte offset and its first line."""
    data = b""
    while True:
        more = handle.read(1 << 16)
        data += more
        if data.startswith(b"@model\n"):
            end = len(b"@model\n")
            break
        found = data.find(b"\n@model\n")
        if found >= 0:
            end = found + len(b"\n@model\n")
            break
        if not more or len(data) > _HEADER_LIMIT:
            raise _Unusual
    head = np.frombuffer(data[:end], dtype=np.uint8)
    if not _ALLOWED[head].all():
        raise _Unusual
    lines = data[:end].decode("ascii").split("\n")[:-1]
    reader = _Reader(path, lines)
    try:
        body = _read_header(reader)
    except InputError:
        raise _Unusual from None
    if body != len(lines) or reader.problems:
        raise _Unusual
    return reader, data, end, len(lines) + 1


@dataclass(frozen=True)
class Nowhere:
    """Locations for validation: unused, since any problem sends the file to the careful reader."""

    path: Path

    def state(self, state: int) -> Location:
        return Location(self.path)

    def choice(self, choice: int) -> Location:
        return Location(self.path)

    def transition(self, transition: int) -> Location:
        return Location(self.path)

    def initial(self) -> Location:
        return Location(self.path)
