"""Benchmark model families, written as Storm-dialect explicit files with exact 6-digit decimals.

Two families (STORM-NOTES §6), generated with numpy only (no `proofs` import, so this file also
runs on its own):

* ``grid_N``: an N×N slippery gridworld. State ``y*N + x`` is column x, row y (row 0 at the
  bottom). Actions, in local order: 0 north, 1 east, 2 south, 3 west. The intended move happens
  with probability 1 - slip, each perpendicular move with slip/2; a move into a wall stays put.
  The start (label ``init``) is bottom-left (state 0), the goal (``goal``) bottom-right, the rest of
  the bottom row is the cliff (``fatal``). Goal and cliff are absorbing (one action, reward 0).
  Reward 1 on entering the goal, so r(s, a) = P(goal | s, a).
* ``random_n``: n states, 4 actions of 3 successors drawn uniformly (repeats merged), 1% of the
  states ``fatal`` and 1% ``goal`` (absorbing, never state 0), r(s, a) = U[0, 1] + P(fatal | s, a).

Every probability and reward is an exact decimal k/10^6 and every distribution sums to exactly 1
in rational arithmetic (the rounding is put on the last successor). Files, for ``STEM`` =
``grid_N`` or ``random_n``: ``STEM.tra`` (``mdp`` header), ``STEM.lab`` (``#DECLARATION``) and
``STEM.transrew`` (``src choice tgt value``, zeros omitted). Storm's explicit parser reads the
reward as its unnamed model ``""``; SPEC §3 reads ``STEM.transrew`` as the structure ``"r"``, with
r(s, a) = Σ_t P(t | s, a)·R(s, a, t), which is exactly the r(s, a) above.

Usage::

    python bench/generate.py grid 317 -o DIR
    python bench/generate.py random 100000 -o DIR [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["UNIT", "Generated", "generate", "grid", "main", "random_model", "write_explicit"]

UNIT = 10**6
"""Probabilities and rewards are integers in units of 1/UNIT."""

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_MOVES = np.array([(0, 1), (1, 0), (0, -1), (-1, 0)], dtype=np.int64)  # north, east, south, west
_CHUNK = 1 << 20


@dataclass(frozen=True, eq=False)
class Generated:
    """A generated MDP in CSR form with integer numbers in units of 1/`UNIT`.

    Attributes
    ----------
    name
        The file stem, e.g. ``grid_32``.
    choice_start, row_start, target
        Choices grouped by state, successors grouped by choice (targets increasing in a choice).
    probability
        ``P(target | choice)`` in units; each choice's units sum to exactly `UNIT`.
    reward
        r(s, a) per choice in units (the expected transition reward).
    transition_reward
        R(s, a, t) per transition in units, as written to ``.transrew``.
    labels
        ``init``, ``fatal`` and ``goal`` as boolean masks over states.
    """

    name: str
    choice_start: IntArray
    row_start: IntArray
    target: IntArray
    probability: IntArray
    reward: IntArray
    transition_reward: IntArray
    labels: dict[str, BoolArray]

    @property
    def n_states(self) -> int:
        return len(self.choice_start) - 1

    @property
    def n_choices(self) -> int:
        return len(self.row_start) - 1

    @property
    def n_transitions(self) -> int:
        return len(self.target)

    @property
    def choice_state(self) -> IntArray:
        return np.repeat(np.arange(self.n_states, dtype=np.int64), np.diff(self.choice_start))

    @property
    def transition_choice(self) -> IntArray:
        return np.repeat(np.arange(self.n_choices, dtype=np.int64), np.diff(self.row_start))


# -- assembling ----------------------------------------------------------------------------------
def _merge_rows(target: IntArray, units: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Sort each row of a (choices, k) successor table, merge repeated targets, drop zeros.

    Returns the CSR ``row_start``, the flat position (in ``target.ravel()``) of each merged
    successor's first occurrence, and the merged ``units`` (exact integer sums).
    """
    rows, k = target.shape
    order = np.argsort(target, axis=1, kind="stable")
    flat = (order + (np.arange(rows, dtype=np.int64) * k)[:, None]).ravel()
    t = target.ravel()[flat].reshape(rows, k)
    first = np.ones((rows, k), dtype=bool)
    first[:, 1:] = t[:, 1:] != t[:, :-1]
    starts = np.flatnonzero(first.ravel())
    merged = np.add.reduceat(units.ravel()[flat], starts)
    positive = merged > 0
    row_of = starts // k
    row_start = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of[positive], minlength=rows), out=row_start[1:])
    return row_start, flat[starts[positive]], merged[positive]


def _assemble(
    name: str, absorbing: BoolArray, live_targets: IntArray, live_units: IntArray,
    live_trew: IntArray, labels: dict[str, BoolArray], n_actions: int,
) -> Generated:
    """Interleave the absorbing states' self-loops with the live states' choices, in state order.

    ``live_trew`` must depend on the target only, within a choice, so that merging repeated
    targets keeps one well-defined R(s, a, t).
    """
    n = len(absorbing)
    per_state = np.where(absorbing, 1, n_actions).astype(np.int64)
    choice_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_state, out=choice_start[1:])
    n_choices, k = int(choice_start[-1]), live_targets.shape[1]
    is_loop = np.zeros(n_choices, dtype=bool)
    is_loop[choice_start[np.flatnonzero(absorbing)]] = True
    # an absorbing state's self-loop, padded to k columns with copies of itself at 0 units
    targets = np.empty((n_choices, k), dtype=np.int64)
    units = np.zeros((n_choices, k), dtype=np.int64)
    trew = np.zeros((n_choices, k), dtype=np.int64)
    targets[is_loop] = np.flatnonzero(absorbing)[:, None]
    units[is_loop, 0] = UNIT
    targets[~is_loop], units[~is_loop], trew[~is_loop] = live_targets, live_units, live_trew
    row_start, first, probability = _merge_rows(targets, units)
    scaled = np.einsum("ij,ij->i", units, trew)
    if np.any(scaled % UNIT):
        raise AssertionError("an expected reward is not a multiple of 1/UNIT")
    return Generated(name, choice_start, row_start, targets.ravel()[first], probability,
                     scaled // UNIT, trew.ravel()[first], labels)


def _labels(n: int, fatal: IntArray, goal: IntArray) -> dict[str, BoolArray]:
    masks = {name: np.zeros(n, dtype=bool) for name in ("init", "fatal", "goal")}
    masks["init"][0] = True
    masks["fatal"][fatal] = True
    masks["goal"][goal] = True
    return masks


# -- the two families -------------------------------------------------------------------------------
def grid(n: int, slip: Fraction | str = "0.1") -> Generated:
    """The N×N slippery gridworld ``grid_N`` (see the module docstring).

    Parameters
    ----------
    n
        Side length, at least 2.
    slip
        Probability of slipping sideways, split equally between the two perpendicular moves;
        ``slip/2`` must be a multiple of 1/`UNIT`.

    Examples
    --------
    >>> g = grid(4)
    >>> g.n_states, g.n_choices, g.n_transitions
    (16, 55, 153)
    """
    if n < 2:
        raise ValueError("a grid needs n >= 2")
    half = Fraction(slip) * UNIT / 2
    if half.denominator != 1 or not 0 <= half <= UNIT // 2:
        raise ValueError(f"slip/2 must be a multiple of 1/{UNIT} in [0, 1/2], got slip = {slip}")
    side = int(half)
    states = np.arange(n * n, dtype=np.int64)
    absorbing = (states >= 1) & (states < n)  # bottom row but the start
    live = states[~absorbing]
    x, y = live % n, live // n
    action = np.tile(np.arange(4, dtype=np.int64), len(live))
    xs, ys = np.repeat(x, 4), np.repeat(y, 4)
    moves = np.stack([action, (action + 1) % 4, (action + 3) % 4], axis=1)  # intended, perpendiculars
    nx, ny = xs[:, None] + _MOVES[moves, 0], ys[:, None] + _MOVES[moves, 1]
    inside = (nx >= 0) & (nx < n) & (ny >= 0) & (ny < n)
    targets = np.where(inside, ny * n + nx, (ys * n + xs)[:, None])
    units = np.empty_like(targets)
    units[:, 0], units[:, 1:] = UNIT - 2 * side, side
    trew = np.where(targets == n - 1, UNIT, 0)
    labels = _labels(n * n, np.arange(1, n - 1), np.array([n - 1]))
    return _assemble(f"grid_{n}", absorbing, targets, units, trew, labels, 4)


def random_model(n: int, seed: int = 0) -> Generated:
    """The random family ``random_n`` (see the module docstring), deterministic given ``seed``.

    Examples
    --------
    >>> r = random_model(1000)
    >>> r.n_states, r.n_choices
    (1000, 3940)
    """
    if n < 3:
        raise ValueError("a random model needs n >= 3")
    rng = np.random.default_rng(seed)
    k = max(1, n // 100)
    special = rng.permutation(np.arange(1, n, dtype=np.int64))[: 2 * k]
    fatal, goal = np.sort(special[:k]), np.sort(special[k:])
    absorbing = np.zeros(n, dtype=bool)
    absorbing[special] = True
    n_live = 4 * int(n - np.count_nonzero(absorbing))
    targets = rng.integers(0, n, size=(n_live, 3), dtype=np.int64)
    weights = rng.uniform(0.05, 1.0, size=(n_live, 3))
    units = np.floor(weights / weights.sum(axis=1, keepdims=True) * UNIT).astype(np.int64)
    units[:, 2] = UNIT - units[:, 0] - units[:, 1]
    base = np.floor(rng.random(n_live) * UNIT).astype(np.int64)
    is_fatal = np.zeros(n, dtype=bool)
    is_fatal[fatal] = True
    trew = base[:, None] + np.where(is_fatal[targets], UNIT, 0)
    return _assemble(f"random_{n}", absorbing, targets, units, trew, _labels(n, fatal, goal), 4)


# -- writing explicit files (vectorised text) ------------------------------------------------------
def _int_text(values: IntArray) -> npt.NDArray[np.uint8]:
    """Non-negative integers as right-aligned ASCII digits, 0-bytes as padding (dropped later)."""
    width = max(1, len(str(int(values.max(initial=0)))))
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (values[:, None] // powers) % 10
    out = (digits + ord("0")).astype(np.uint8)
    out[(values[:, None] < powers) & (powers > 1)] = 0  # leading zeros
    return out


def _decimal_text(units: IntArray) -> npt.NDArray[np.uint8]:
    """Non-negative ``units / UNIT`` as shortest exact decimals: ``1``, ``0.05``, ``0.123456``."""
    whole, frac = units // UNIT, units % UNIT
    places = len(str(UNIT)) - 1
    powers = 10 ** np.arange(places - 1, -1, -1, dtype=np.int64)
    digits = ((frac[:, None] // powers) % 10 + ord("0")).astype(np.uint8)
    digits[(frac[:, None] % (powers * 10)) == 0] = 0  # trailing zeros
    point = np.where(frac > 0, ord("."), 0).astype(np.uint8)[:, None]
    return np.concatenate([_int_text(whole), point, digits], axis=1)


def _lines(columns: list[npt.NDArray[np.uint8]]) -> bytes:
    """Join text columns with spaces into newline-terminated lines."""
    n = len(columns[0])
    sep = np.full((n, 1), ord(" "), dtype=np.uint8)
    parts: list[npt.NDArray[np.uint8]] = []
    for column in columns:
        parts += [column, sep]
    parts[-1] = np.full((n, 1), ord("\n"), dtype=np.uint8)
    block = np.concatenate(parts, axis=1).ravel()
    return bytes(block[block != 0].tobytes())


def _write_rows(path: Path, header: str, rows: list[IntArray], last_decimal: bool) -> None:
    """Write ``rows`` (integer columns; the last one as a decimal when asked) in chunks."""
    with path.open("wb") as out:
        out.write(header.encode())
        for lo in range(0, len(rows[0]), _CHUNK):
            cols = [_int_text(c[lo : lo + _CHUNK]) for c in rows[:-1]]
            last = rows[-1][lo : lo + _CHUNK]
            cols.append(_decimal_text(last) if last_decimal else _int_text(last))
            out.write(_lines(cols))


def write_explicit(model: Generated, directory: Path) -> dict[str, Path]:
    """Write ``STEM.tra``, ``STEM.lab`` and ``STEM.transrew`` into ``directory``.

    Returns
    -------
    dict
        The written paths under the keys ``tra``, ``lab`` and ``transrew``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / f"{model.name}.{kind}" for kind in ("tra", "lab", "transrew")}
    choice = model.transition_choice
    source = model.choice_state[choice]
    local = choice - model.choice_start[source]
    _write_rows(paths["tra"], "mdp\n", [source, local, model.target, model.probability], True)
    has = model.transition_reward != 0
    _write_rows(paths["transrew"], "", [source[has], local[has], model.target[has],
                                        model.transition_reward[has]], True)
    names = list(model.labels)
    with paths["lab"].open("w") as out:
        out.write("#DECLARATION\n" + " ".join(names) + "\n#END\n")
        labelled = np.flatnonzero(np.any([model.labels[k] for k in names], axis=0))
        for s in labelled.tolist():
            out.write(f"{s} " + " ".join(k for k in names if model.labels[k][s]) + "\n")
    return paths


# -- command line ------------------------------------------------------------------------------------
def generate(family: str, size: int, directory: Path, seed: int = 0) -> Generated:
    """Generate ``grid_size`` or ``random_size`` and write its explicit files into ``directory``."""
    if family == "grid":
        model = grid(size)
    elif family == "random":
        model = random_model(size, seed)
    else:
        raise ValueError(f"unknown family {family!r}: use 'grid' or 'random'")
    write_explicit(model, directory)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("family", choices=["grid", "random"])
    parser.add_argument("size", type=int, help="grid side N, or number of states n")
    parser.add_argument("-o", "--output", type=Path, default=Path("."), help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="random family only")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    model = generate(args.family, args.size, args.output, args.seed)
    print(f"{model.name}: {model.n_states} states, {model.n_choices} choices, "
          f"{model.n_transitions} transitions in {time.perf_counter() - start:.2f} s -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
