"""The parts of an explicit model around its rows: the header, the ``.lab`` file and reward files.

TRUSTED (reading base). Used by `proofs.worldmodel.explicit`. Label files are read line by line
(one line per labelled state); reward files are tables read by `proofs.worldmodel.fastread`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from proofs.core.errors import InputError, Location, quote
from proofs.core.numbers import Rationals
from proofs.worldmodel.arith import scatter
from proofs.worldmodel.digits import Decimals
from proofs.worldmodel.fastread import IndexArray, Kind, Table, parse_index, read_table
from proofs.worldmodel.validate import Problems

__all__ = ["Dialect", "Header", "TransitionRewards", "read_head", "read_header", "read_labels", "read_rewards",
           "report_table", "reward_files"]

IntArray = npt.NDArray[np.int64]
_SCAN_LIMIT = 8  # distributions up to this length are searched by a scan, longer ones by sorted keys
_BLOCK = 1 << 16  # reward rows matched to transitions per step (the temporaries stay small)
_REWARD_SUFFIXES = {"srew": "state", "transrew": "transition", "trew": "transition"}
_REWARD_NAME = re.compile(r'^#\s*Reward structure\s+"([^"]*)"')
_PRISM_LABEL = re.compile(r'(\d+)="([^"]*)"')


@dataclass(frozen=True, eq=False)
class TransitionRewards:
    """The rewards a reward file gives to transitions: ``values[i]`` on transition ``index[i]``
    (indices distinct and increasing); every other transition has reward 0."""

    index: IntArray
    values: Decimals


class Dialect(Enum):
    """Which tool's explicit format a file follows."""

    PRISM = "prism"
    STORM = "storm"

    @property
    def tra_kinds(self) -> tuple[Kind, ...]:
        base = (Kind.INDEX, Kind.INDEX, Kind.INDEX, Kind.NUMBER)
        return (*base, Kind.WORD) if self is Dialect.PRISM else base


@dataclass(frozen=True)
class Header:
    """The first non-comment line of a file and where the rows after it start."""

    dialect: Dialect
    line: int
    offset: int
    next_line: int
    n_states: int | None = None
    n_choices: int | None = None
    n_transitions: int | None = None
    comments: tuple[str, ...] = field(default=())


def _first_content(data: bytes) -> tuple[tuple[str, ...], list[str], int, int]:
    """Leading comment lines, tokens of the first other non-blank line, its number, offset after it."""
    comments: list[str] = []
    pos, line = 0, 1
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        text = data[pos:end].decode("utf-8", errors="replace").strip()
        if text.startswith("#"):
            comments.append(text)
        elif text:
            return tuple(comments), text.split(), line, end + 1
        pos, line = end + 1, line + 1
    return tuple(comments), [], line, len(data)


def read_head(path: Path) -> bytes:
    """The first bytes of a file: its leading comment and blank lines and its first other line
    (all `read_header` needs), without reading the rest."""
    lines = []
    with path.open("rb") as handle:
        for raw in handle:
            lines.append(raw)
            text = raw.strip()
            if text and not text.startswith(b"#"):
                break
    return b"".join(lines)


def read_header(data: bytes, path: Path) -> Header:
    """Detect the dialect of a ``.tra`` file: ``mdp`` (Storm) or ``states choices transitions`` (PRISM)."""
    comments, tokens, line, offset = _first_content(data)
    if tokens == ["mdp"]:
        return Header(Dialect.STORM, line, offset, line + 1, comments=comments)
    where = Location(path, line=line if tokens else None)
    counts = [parse_index(t) for t in tokens]
    if len(tokens) == 3 and all(c is not None for c in counts):
        n, c, t = (x for x in counts if x is not None)
        return Header(Dialect.PRISM, line, offset, line + 1, n, c, t, comments)
    if len(tokens) == 3 and all(t.isascii() and t.isdigit() for t in tokens):
        raise InputError(where, f"the header {quote(' '.join(tokens))} declares a count beyond 18 digits",
                         "Correct the header (states choices transitions)")
    if tokens and tokens[0] in {"dtmc", "ctmc", "ma", "pomdp"} or len(tokens) == 2:
        raise InputError(where, "this explicit file is not an MDP", "Export the model as an MDP")
    raise InputError(
        where,
        f"the first line {quote(' '.join(tokens))} is neither 'mdp' (Storm) nor "
        "'states choices transitions' (PRISM)",
        "Start the file with one of these headers",
    )


def read_labels(
    path: Path, n_states: int, dialect: Dialect, problems: Problems
) -> dict[str, npt.NDArray[np.bool_]]:
    """Label masks from a ``.lab`` file (PRISM ``0="init" 1="goal"`` or Storm ``#DECLARATION``)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    numbered = [(i + 1, text.strip()) for i, text in enumerate(lines)]
    if dialect is Dialect.PRISM:
        names, rows = _prism_label_names(path, numbered, problems)
    else:
        names, rows = _storm_label_names(path, numbered, problems)
    masks = {name: np.zeros(n_states, dtype=bool) for name in dict.fromkeys(names.values())}
    seen: set[int] = set()
    for line, text in rows:
        head, _, rest = text.partition(":") if dialect is Dialect.PRISM else text.partition(" ")
        where = Location(path, line=line)
        index = parse_index(head)
        if index is None or index >= n_states:
            problems.add(
                "label",
                where,
                f"{quote(head.strip())} is not a state of the model (0..{n_states - 1})",
                "Start the line with the index of an existing state",
            )
            continue
        state = index
        if state in seen:
            problems.add("label", where, f"state {state} is listed twice", "List each state on one line")
        seen.add(state)
        for token in rest.split():
            if token not in names:
                problems.add(
                    "unknown label",
                    where,
                    f"label {quote(token)} is not declared",
                    "Declare it at the top of the file",
                )
            else:
                masks[names[token]][state] = True
    return masks


def _prism_label_names(
    path: Path, lines: list[tuple[int, str]], problems: Problems
) -> tuple[dict[str, str], list[tuple[int, str]]]:
    content = [(n, t) for n, t in lines if t and not t.startswith("#")]
    if not content:
        return {}, []
    line, header = content[0]
    found = _PRISM_LABEL.findall(header)
    if _PRISM_LABEL.sub("", header).strip() or not found:
        problems.add(
            "label",
            Location(path, line=line),
            f"the first line {quote(header)} does not declare labels",
            'Declare them as 0="init" 1="goal"',
        )
    return {index: name for index, name in found}, content[1:]


def _storm_label_names(
    path: Path, lines: list[tuple[int, str]], problems: Problems
) -> tuple[dict[str, str], list[tuple[int, str]]]:
    texts = [t for _, t in lines]
    if "#DECLARATION" not in texts or "#END" not in texts[texts.index("#DECLARATION") :]:
        problems.add(
            "label",
            Location(path),
            "the file has no #DECLARATION ... #END block",
            "Declare the labels between #DECLARATION and #END lines",
        )
        return {}, []
    start = texts.index("#DECLARATION")
    end = texts.index("#END", start)
    names = [name for t in texts[start + 1 : end] for name in t.split()]
    rows = [(n, t) for n, t in lines[end + 1 :] if t and not t.startswith("#")]
    return {name: name for name in names}, rows


def reward_files(path: Path) -> list[tuple[Path, str, str]]:
    """``(file, structure name, 'state' or 'transition')`` for every reward file beside ``STEM.tra``.

    ``STEM.NAME.srew`` names structure ``NAME`` (unless ``STEM.NAME.tra`` exists: then the file is
    that model's), ``STEM.srew`` structure ``"r"``; a leading ``# Reward structure "NAME"`` overrides.
    """
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    out = []
    for file in sorted(path.parent.iterdir()):
        suffix = file.name.rsplit(".", 1)[-1]
        if suffix not in _REWARD_SUFFIXES or not file.name.startswith(stem + "."):
            continue
        middle = file.name[len(stem) + 1 : -len(suffix) - 1]
        if middle and (path.parent / f"{stem}.{middle}.tra").exists():
            continue
        name = _declared_name(file) or middle or "r"
        out.append((file, name, _REWARD_SUFFIXES[suffix]))
    return out


def _declared_name(file: Path) -> str | None:
    with file.open("rb") as handle:
        for raw in handle:
            text = raw.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            if not text.startswith("#"):
                return None
            found = _REWARD_NAME.match(text)
            if found:
                return found.group(1)
    return None


def read_rewards(
    path: Path,
    dialect: Dialect,
    n_states: int,
    choice_start: IntArray,
    row_start: IntArray,
    target: IndexArray,
    problems: Problems,
) -> dict[str, tuple[Rationals | None, TransitionRewards | None]]:
    """Per structure name, the state rewards (per state) and the transition rewards (sparse)."""
    claimed: dict[tuple[str, str], Path] = {}
    out: dict[str, tuple[Rationals | None, TransitionRewards | None]] = {}
    for file, name, kind in reward_files(path):
        if (name, kind) in claimed:
            problems.add(
                "reward file",
                Location(file),
                f"{kind} rewards of structure {quote(name)} are also given by {claimed[name, kind]}",
                "Keep one file per structure and kind, or rename one",
            )
            continue
        claimed[name, kind] = file
        state, transition = out.get(name, (None, None))
        if kind == "state":
            state = _state_rewards(file, dialect, n_states, problems)
        else:
            transition = _transition_rewards(file, dialect, choice_start, row_start, target, problems)
        out[name] = (state, transition)
    return out


def _reward_table(
    file: Path, dialect: Dialect, kinds: tuple[Kind, ...], n_states: int, problems: Problems
) -> Table:
    """The rows of a reward file; a PRISM-dialect size header is checked against the model and rows."""
    header_len = 3 if len(kinds) == 4 else 2  # PRISM: 'states nonzero' or 'states choices nonzero'
    if dialect is Dialect.PRISM:
        _, tokens, line, offset = _first_content(read_head(file))
        if len(tokens) != header_len or not all(parse_index(t) is not None for t in tokens):
            problems.add(
                "reward file",
                Location(file, line=line),
                f"expected a header of {header_len} integers, found {quote(' '.join(tokens))}",
                "Start a PRISM reward file with its size header",
            )
        table = read_table(file, offset, line + 1, kinds)
        _check_reward_header(file, line, tokens, n_states, len(table) + table.n_bad_rows, problems)
    else:
        table = read_table(file, 0, 1, kinds)
    report_table(table, file, problems, f"expected {len(kinds)} values, found {{n}}",
                 "Write one reward per line", "Write rewards as exact numbers such as 0.5 or 1/3")
    return table


def report_table(
    table: Table, path: Path, problems: Problems, row_problem: str, row_fix: str, number_fix: str
) -> None:
    """Report a table's malformed rows (``row_problem`` with ``{n}`` for the values found) and
    malformed numbers, and how many more of each there were."""
    for row in table.bad_rows:
        where = Location(path, line=row.line)
        problems.add("malformed row", where, row_problem.format(n=row.n_tokens), row_fix)
    for token in table.bad_tokens:
        problems.add("malformed number", Location(path, line=token.line),
                     f"column {token.column}: {token.shown} {token.reason}", number_fix)
    problems.count_more("malformed row", table.n_bad_rows - len(table.bad_rows))
    problems.count_more("malformed number", table.n_bad_tokens - len(table.bad_tokens))


def _check_reward_header(
    file: Path, line: int, tokens: list[str], n_states: int, n_rows: int, problems: Problems
) -> None:
    counts = [parse_index(t) for t in tokens]
    if not counts or any(c is None for c in counts):
        return  # already reported as a malformed header
    where = Location(file, line=line)
    if counts[0] != n_states:
        problems.add(
            "reward file",
            where,
            f"the header declares {tokens[0]} states, the model has {n_states}",
            "Use the reward file of this model, or correct its header",
        )
    if counts[-1] != n_rows:
        problems.add(
            "reward file",
            where,
            f"the header declares {tokens[-1]} entries, the file has {n_rows}",
            "Correct the header's last number",
        )


def _state_rewards(file: Path, dialect: Dialect, n_states: int, problems: Problems) -> Rationals:
    table = _reward_table(file, dialect, (Kind.INDEX, Kind.NUMBER), n_states, problems)
    state = table.index(0)
    wrong = state >= n_states
    problems.add_each(
        "reward file",
        np.flatnonzero(wrong),
        lambda i: (
            Location(file, line=int(table.line[i])),
            f"state {int(state[i])} does not exist (0..{n_states - 1})",
            "Give rewards for existing states only",
        ),
    )
    _report_repeats(file, table, np.where(wrong, -1, state), problems, "state")
    keep = np.flatnonzero(~wrong)
    return scatter(n_states, state[keep].astype(np.int64), table.number(1).take(keep))


def _transition_rewards(
    file: Path,
    dialect: Dialect,
    choice_start: IntArray,
    row_start: IntArray,
    target: IndexArray,
    problems: Problems,
) -> TransitionRewards:
    kinds = (Kind.INDEX, Kind.INDEX, Kind.INDEX, Kind.NUMBER)
    table = _reward_table(file, dialect, kinds, len(choice_start) - 1, problems)
    src, ch, tgt = table.index(0), table.index(1), table.index(2)
    index = _find_transitions(choice_start, row_start, target, src, ch, tgt)
    problems.add_each(
        "reward file",
        np.flatnonzero(index < 0),
        lambda i: (
            Location(file, line=int(table.line[i])),
            (
                f"the model has no transition from state {int(table.index(0)[i])}, "
                f"choice {int(table.index(1)[i])} to state {int(table.index(2)[i])}"
            ),
            "Give rewards for existing transitions only",
        ),
    )
    _report_repeats(file, table, index, problems, "transition")
    values = table.decimals(3)
    if bool(np.all(index >= 0)):
        keep = None
    else:
        keep = np.flatnonzero(index >= 0)
        index, values = index[keep], values.take(keep)
    if len(index) > 1 and not bool(np.all(index[1:] > index[:-1])):
        order = np.argsort(index, kind="stable")
        index, values = index[order], values.take(order)
    return TransitionRewards(index, values)


def _find_transitions(
    choice_start: IntArray, row_start: IntArray, target: IndexArray, src: IndexArray, ch: IndexArray, tgt: IndexArray
) -> IntArray:
    """The transition index of each ``(source, choice, target)`` row, -1 where there is none.

    Reward files usually list a choice's transitions in the model's order (perhaps leaving some
    out): the k-th row of a run of rows of one choice is first tried as the choice's k-th
    transition, in blocks of rows. Rows where that guess fails are searched (`_search`).
    """
    found = np.full(len(src), -1, dtype=np.int64)
    if len(target) == 0:
        return found
    for lo in range(0, len(src), _BLOCK):
        hi = min(lo + _BLOCK, len(src))
        found[lo:hi] = _guess(choice_start, row_start, target, src[lo:hi], ch[lo:hi], tgt[lo:hi])
    missed = np.flatnonzero(found < 0)
    if len(missed):
        found[missed] = _search(choice_start, row_start, target, src[missed], ch[missed], tgt[missed])
    return found


def _choices(
    choice_start: IntArray, src: IndexArray, ch: IndexArray, tgt: IndexArray
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """The choice index of every ``(source, choice, target)`` row, and whether the row names an
    existing choice and an existing target state."""
    n_states = len(choice_start) - 1
    valid = (src < n_states) & (tgt < n_states)
    s = np.where(valid, src, 0)
    first = choice_start[s]
    valid &= ch < choice_start[s + 1] - first
    return np.where(valid, first + ch, 0), valid


def _guess(
    choice_start: IntArray, row_start: IntArray, target: IndexArray, src: IndexArray, ch: IndexArray, tgt: IndexArray
) -> IntArray:
    """`_find_transitions` for the rows whose rank in their run of one choice is their position
    in that choice's transitions; -1 for the others."""
    choice, valid = _choices(choice_start, src, ch, tgt)
    run = np.ones(len(choice), dtype=bool)
    run[1:] = choice[1:] != choice[:-1]
    rows = np.arange(len(choice), dtype=np.int64)
    position = row_start[choice] + rows - np.maximum.accumulate(np.where(run, rows, 0))
    valid &= position < row_start[choice + 1]
    valid &= target[np.minimum(position, len(target) - 1)] == tgt
    return np.where(valid, position, -1)


def _search(
    choice_start: IntArray, row_start: IntArray, target: IndexArray, src: IndexArray, ch: IndexArray, tgt: IndexArray
) -> IntArray:
    """`_find_transitions` by searching every row's choice.

    With short distributions (at most `_SCAN_LIMIT` successors, as in most models) each row's
    choice is scanned position by position, which needs a few arrays per row of the file; longer
    ones are found by binary search over sorted ``(choice, target)`` keys.
    """
    n_states = len(choice_start) - 1
    choice, valid = _choices(choice_start, src, ch, tgt)
    longest = int(np.diff(row_start).max(initial=0))
    if longest <= _SCAN_LIMIT:
        first = row_start[choice]
        length = row_start[choice + 1] - first
        found = np.full(len(src), -1, dtype=np.int64)
        for j in range(longest):
            at = np.minimum(first + j, len(target) - 1)
            hit = valid & (j < length) & (target[at] == tgt)
            found[hit] = at[hit]  # successors of a choice are distinct: at most one position hits
        return found
    width = max(n_states, 1)
    transition_choice = np.repeat(np.arange(len(row_start) - 1, dtype=np.int64), np.diff(row_start))
    keys = transition_choice * width + target
    ordered = len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1]))  # files list successors in order
    order = np.arange(len(keys), dtype=np.int64) if ordered else np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    wanted = choice * width + np.where(valid, tgt, 0)
    pos = np.minimum(np.searchsorted(sorted_keys, wanted), len(keys) - 1)
    found_key = valid & (sorted_keys[pos] == wanted)
    return np.where(found_key, order[pos], -1).astype(np.int64)


def _report_repeats(file: Path, table: Table, key: IntArray, problems: Problems, what: str) -> None:
    if len(key) < 2 or (int(key.min()) >= 0 and bool(np.all(key[1:] > key[:-1]))):  # the usual order
        return
    valid = np.flatnonzero(key >= 0)
    order = valid[np.argsort(key[valid], kind="stable")]
    repeated = order[1:][key[order[1:]] == key[order[:-1]]]
    problems.add_each(
        "reward file",
        np.sort(repeated),
        lambda i: (
            Location(file, line=int(table.line[i])),
            f"this {what} already has a reward in an earlier line",
            "Give each reward once",
        ),
    )
