"""Reader for explicit models: ``STEM.tra`` plus its siblings ``.lab``, ``.srew``, ``.transrew``/``.trew``.

TRUSTED (reading base). Both dialects of SPEC §3: PRISM (a header ``states choices transitions``,
rows ``source choice target probability [action]``) and Storm (a first line ``mdp``, rows
``source choice target probability``). Rows are read by `proofs.worldmodel.fastread` (vectorised,
exact, no Python object per row, the file never held whole) and handed as arrays to
`assemble_mdp`, which validates them. Probabilities stay decimals as read (integer numerators
over powers of ten) until the transition rewards are folded into r(s, a) in integer arithmetic;
only then are they reduced to lowest terms.
States are named ``"0"``, ``"1"``, ...; actions by their PRISM action label, else by their local
choice index. Rows must be sorted by source state, then by choice (as both tools write them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from proofs.core.errors import Location
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.worldmodel.arith import add, expected_decimals
from proofs.worldmodel.build import INIT_LABEL, assemble_mdp
from proofs.worldmodel.digits import Decimals
from proofs.worldmodel.explicit_side import (
    Dialect,
    Header,
    read_head,
    read_header,
    read_labels,
    read_rewards,
    report_table,
)
from proofs.worldmodel.fastread import IndexArray, Table, read_table
from proofs.worldmodel.validate import Problems

__all__ = ["read_explicit"]

IntArray = npt.NDArray[np.int64]
_SLACK = 1000  # states without a choice that are still read (and reported one by one)
_BLOCK = 1 << 16  # rows per step of the order check
_ORDER_FIX = (
    "Sort the rows by source state, then by choice; number the choices of a state 0, 1, 2, ... in order"
)


@dataclass(frozen=True)
class _Locator:
    """Lines of the .tra file for messages (one int32 per row: no Python object per row)."""

    tra: Path
    lab: Path
    line: npt.NDArray[np.int32]
    row_start: IntArray

    def state(self, state: int) -> Location:
        return Location(self.tra, key=f"state {state}")

    def choice(self, choice: int) -> Location:
        return Location(self.tra, line=int(self.line[self.row_start[choice]]))

    def transition(self, transition: int) -> Location:
        return Location(self.tra, line=int(self.line[transition]))

    def initial(self) -> Location:
        return Location(self.lab)


@dataclass(frozen=True, eq=False)
class _Structure:
    n_states: int
    choice_start: IntArray
    row_start: IntArray
    action_names: tuple[str, ...]
    choice_action: npt.NDArray[np.int32]


def read_explicit(path: Path) -> Mdp:
    """Read ``STEM.tra`` and its sibling files into a validated `Mdp`.

    Parameters
    ----------
    path
        The ``.tra`` file; ``STEM.lab``, ``STEM[.NAME].srew`` and ``STEM[.NAME].transrew`` /
        ``.trew`` beside it are read too (reward structure ``NAME``, or ``"r"`` without a name,
        unless a leading ``# Reward structure "NAME"`` comment names it).

    Raises
    ------
    InputError, InputErrors
        Every problem found, each with its file and line.
    """
    problems = Problems(str(path))
    header, table = _read_rows(path)
    columns = "source choice target probability"
    report_table(table, path, problems, f"expected the columns {columns}, found {{n}} values",
                 "Write one entry per line with exactly these columns",
                 "Write indices as non-negative integers and probabilities as exact numbers")
    structure = _structure(table, header, path, problems)
    if structure is None:
        problems.raise_if_any()
        raise AssertionError("unreachable: a missing structure always comes with a problem")
    target, decimals, line = table.index(2), table.decimals(3), table.line
    del table  # the source and choice columns are not needed any more: release them before the rewards
    lab = path.with_suffix(".lab")
    labels = read_labels(lab, structure.n_states, header.dialect, problems) if lab.exists() else {}
    rewards = _rewards(path, header.dialect, structure, target, decimals, problems)
    probability = decimals.rationals(in_place=True)
    del decimals
    init = np.flatnonzero(labels[INIT_LABEL]) if INIT_LABEL in labels else np.zeros(0, dtype=np.int64)
    return assemble_mdp(
        source=str(path),
        states=tuple(map(str, range(structure.n_states))),
        choice_start=structure.choice_start,
        action_names=structure.action_names,
        choice_action=structure.choice_action,
        row_start=structure.row_start,
        target=target.astype(np.int64),
        probability=probability,
        interval=None,
        rewards=rewards,
        labels=labels,
        initial_states=init.astype(np.int64),
        initial_probability=Rationals(
            np.ones(len(init), dtype=np.int64), np.full(len(init), max(len(init), 1))
        ),
        where=_Locator(path, lab, line, structure.row_start),
        problems=problems,
        number_repeated_actions=True,
    )


def _read_rows(path: Path) -> tuple[Header, Table]:
    """The header and the rows of a .tra file (read in chunks: the file is never held whole)."""
    header = read_header(read_head(path), path)
    kinds = header.dialect.tra_kinds
    return header, read_table(path, header.offset, header.next_line, kinds, header.dialect is Dialect.PRISM)


def _structure(table: Table, header: Header, path: Path, problems: Problems) -> _Structure | None:
    """Choices and their row ranges from the sorted ``source choice`` columns (None if unusable)."""
    src, ch, tgt = table.index(0), table.index(1), table.index(2)
    if len(src) == 0:
        problems.add(
            "no transitions", Location(path), "the file has no transitions", "Add the model's transitions"
        )
        return None
    n_states = header.n_states if header.n_states is not None else int(max(src.max(), tgt.max())) + 1
    new_choice = _choice_starts(table, n_states, path, problems)
    if new_choice is None or problems:  # malformed rows: choices cannot be told apart reliably
        return None
    starts = np.flatnonzero(new_choice)
    if n_states > 2 * len(starts) + _SLACK:  # before any array sized by n_states: a header may claim 10**9
        # states. Every state needs a choice, so such a file is invalid anyway; a few states without one
        # are still read and reported one by one by the validation.
        _check_header_counts(header, len(starts), len(src), path, problems)
        _too_many_states(table, header, n_states, len(starts), path, problems)
        return None
    counts = np.bincount(src[starts], minlength=n_states)
    choice_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    row_start = np.append(starts, len(src)).astype(np.int64)
    _check_header_counts(header, len(starts), len(src), path, problems)
    names, action = _action_names(table, header, starts, ch[starts], row_start, path, problems)
    return _Structure(n_states, choice_start, row_start, names, action)


def _choice_starts(
    table: Table, n_states: int, path: Path, problems: Problems
) -> npt.NDArray[np.bool_] | None:
    """Which rows start a new choice; None (with problems recorded) if rows are out of order."""
    src, ch = table.index(0), table.index(1)
    new_choice = np.empty(len(src), dtype=bool)
    wrong_parts, unknown_parts = [], []
    for lo in range(0, len(src), _BLOCK):  # in blocks: a few small temporaries instead of row-sized ones
        s, c = src[lo : lo + _BLOCK], ch[lo : lo + _BLOCK]
        before_s, before_c = np.empty_like(s), np.empty_like(c)  # the previous row's (-1 before the first)
        before_s[0], before_c[0] = (src[lo - 1], ch[lo - 1]) if lo else (-1, -1)
        before_s[1:], before_c[1:] = s[:-1], c[:-1]
        same_state = s == before_s
        new = ~same_state | (c != before_c)
        new_choice[lo : lo + _BLOCK] = new
        wrong = (s < before_s) | (new & same_state & (c != before_c + 1)) | (new & ~same_state & (c != 0))
        wrong_parts.append(lo + np.flatnonzero(wrong))
        unknown_parts.append(lo + np.flatnonzero(s >= n_states))
    wrong_rows = np.concatenate(wrong_parts) if wrong_parts else np.zeros(0, dtype=np.int64)
    unknown = np.concatenate(unknown_parts) if unknown_parts else np.zeros(0, dtype=np.int64)
    line = table.line
    problems.add_each(
        "row order",
        wrong_rows,
        lambda i: (
            Location(path, line=int(line[i])),
            f"row for state {int(src[i])}, choice {int(ch[i])} is out of order",
            _ORDER_FIX,
        ),
    )
    problems.add_each(
        "unknown state",
        unknown,
        lambda i: (
            Location(path, line=int(line[i])),
            f"source state {int(src[i])} does not exist (the header declares {n_states} states)",
            "Correct the state index or the header",
        ),
    )
    return None if len(wrong_rows) or len(unknown) else new_choice


def _too_many_states(
    table: Table, header: Header, n_states: int, n_choices: int, path: Path, problems: Problems
) -> None:
    """More states than choices: some state has no action, so the model is invalid whatever else."""
    why = f"the file has only {n_choices:,} choices, and every state needs at least one"
    if header.n_states is not None:
        problems.add("header", Location(path, line=header.line), f"the header declares {n_states:,} states, but {why}",
                     "Correct the header (states choices transitions), or add the missing states' transitions")
        return
    largest = np.maximum(table.index(0), table.index(2))
    row = int(np.argmax(largest == n_states - 1))
    problems.add("unknown state", Location(path, line=int(table.line[row])),
                 f"state {n_states - 1} is beyond the states that have a choice: {why}",
                 "Correct the state index, or add the missing states' transitions")


def _check_header_counts(header: Header, n_choices: int, n_rows: int, path: Path, problems: Problems) -> None:
    for what, declared, found in (
        ("choices", header.n_choices, n_choices),
        ("transitions", header.n_transitions, n_rows),
    ):
        if declared is not None and declared != found:
            problems.add(
                "header",
                Location(path, line=header.line),
                f"the header declares {declared} {what}, the file has {found}",
                "Correct the header (states choices transitions)",
            )


def _action_names(
    table: Table,
    header: Header,
    starts: IntArray,
    local: IndexArray,
    row_start: IntArray,
    path: Path,
    problems: Problems,
) -> tuple[tuple[str, ...], npt.NDArray[np.int32]]:
    """Action names per choice: the PRISM action label of its rows, else its local index."""
    if header.dialect is not Dialect.PRISM or not np.any(table.word(4) != b""):
        return tuple(str(i) for i in range(int(local.max()) + 1)), local.astype(np.int32)
    words = table.word(4)
    label = words[starts]
    per_row = np.repeat(label, np.diff(row_start))
    problems.add_each(
        "action label",
        np.flatnonzero(words != per_row),
        lambda i: (
            Location(path, line=int(table.line[i])),
            (
                f"action label {words[i].decode(errors='replace')!r} differs from the "
                "label of the choice's first row"
            ),
            "Give all rows of one choice the same action label",
        ),
    )
    names = np.where(label == b"", local.astype(label.dtype), label)
    unique, inverse = np.unique(names, return_inverse=True)
    return tuple(u.decode(errors="replace") for u in unique.tolist()), inverse.astype(np.int32)


def _rewards(
    path: Path,
    dialect: Dialect,
    structure: _Structure,
    target: IndexArray,
    probability: Decimals,
    problems: Problems,
) -> dict[str, Rationals]:
    """Per reward structure, r(s, a) = state reward of s + Σ_t P(s, a, t) · R(s, a, t)."""
    files = read_rewards(
        path,
        dialect,
        structure.n_states,
        structure.choice_start,
        structure.row_start,
        target,
        problems,
    )
    n_choices = len(structure.row_start) - 1
    out: dict[str, Rationals] = {}
    for name, (state, transition) in files.items():
        per_choice = Rationals.zeros(n_choices)
        if state is not None:
            choice_state = np.repeat(np.arange(structure.n_states, dtype=np.int64), np.diff(structure.choice_start))
            per_choice = state.take(choice_state)
        if transition is not None:
            expected = expected_decimals(probability, transition.index, transition.values, structure.row_start,
                                         consume_r=True)  # the file's rewards are not needed after this
            per_choice = add(per_choice, expected)
        out[name] = per_choice
    return out
