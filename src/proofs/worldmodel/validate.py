"""Validation of a world model: every problem of a file, reported at once.

TRUSTED (reading base). Every reader builds its `Mdp` through `proofs.worldmodel.build`, which
calls `validate_mdp` here, so the rules of SPEC §3 live in one place: distributions sum to exactly
1, no negative probability, successors exist, every state has an action, names are unique,
interval bounds can contain a distribution, and μ₀ is a distribution. Checks are vectorised over
the model's arrays; only the offending entries become messages. A model is never repaired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Protocol

import numpy as np
import numpy.typing as npt

from proofs.core.errors import InputError, InputErrors, Location
from proofs.core.model import Mdp, concat_ranges
from proofs.core.numbers import Rationals, group_sum, groups_sum_to_one

__all__ = ["Locator", "Problems", "validate_mdp"]

_GROUP_BLOCK = 1 << 15  # choices per step of the sum check
_SUM_FIX = "Make the probabilities sum to exactly 1 (a model is never renormalised)"


class Locator(Protocol):
    """Where the parts of a model were written, for messages."""

    def state(self, state: int) -> Location: ...

    def choice(self, choice: int) -> Location: ...

    def transition(self, transition: int) -> Location: ...

    def initial(self) -> Location: ...


class Problems:
    """A collector of `InputError`s: at most `limit` messages of each kind, all of them counted.

    Examples
    --------
    >>> p = Problems("m.toml")
    >>> p.add("sum", Location("m.toml", key="states.s0"), "probabilities sum to 1/2", "Fix them")
    >>> p.raise_if_any()
    Traceback (most recent call last):
    ...
    proofs.core.errors.InputError: m.toml:states.s0: probabilities sum to 1/2. Fix them
    """

    def __init__(self, source: str, limit: int = 20) -> None:
        self.source, self.limit = source, limit
        self.errors: list[InputError] = []
        self._count: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self.errors)

    def add(self, kind: str, where: Location, problem: str, fix: str = "") -> None:
        """Record one problem (only the first `limit` of a kind keep their message)."""
        self._count[kind] = self._count.get(kind, 0) + 1
        if self._count[kind] <= self.limit:
            self.errors.append(InputError(where, problem, fix))

    def add_each(
        self, kind: str, indices: Iterable[int], describe: Callable[[int], tuple[Location, str, str]]
    ) -> None:
        """Record a problem for each index; `describe` is called only for the reported ones."""
        items = list(indices)
        room = max(0, self.limit - self._count.get(kind, 0))
        for i in items[:room]:
            self.add(kind, *describe(int(i)))
        self.count_more(kind, len(items) - min(room, len(items)))

    def count_more(self, kind: str, n: int) -> None:
        """Count `n` further problems of a kind without describing them."""
        self._count[kind] = self._count.get(kind, 0) + n

    def all_errors(self) -> list[InputError]:
        """The recorded errors, plus one line per kind whose further problems were only counted."""
        out = list(self.errors)
        for kind, n in self._count.items():
            if n > self.limit:
                out.append(
                    InputError(
                        Location(self.source),
                        f"{n - self.limit} more problems of this kind: {kind}",
                        "Fix the ones listed above and read the file again",
                    )
                )
        return out

    def raise_if_any(self) -> None:
        """Raise `InputError` for one problem, `InputErrors` for several."""
        InputErrors.raise_if_any(self.all_errors(), sum(self._count.values()) or None)


def validate_mdp(mdp: Mdp, where: Locator, problems: Problems) -> None:
    """Check `mdp` against SPEC §3 and record every problem in `problems`.

    Parameters
    ----------
    mdp
        A model assembled from a file, not yet handed to anyone.
    where
        Maps states, choices and transitions back to their place in the file.
    problems
        Receives one `InputError` per problem, each naming file, place, problem and fix.
    """
    _check_state_names(mdp, where, problems)
    _check_actions(mdp, where, problems)
    _check_targets(mdp, where, problems)
    if mdp.interval is not None:
        _check_intervals(mdp, where, problems)
    elif mdp.probability is not None:
        _check_distributions(mdp, where, problems)
    _check_initial(mdp, where, problems)


def _check_state_names(mdp: Mdp, where: Locator, problems: Problems) -> None:
    if len(set(mdp.states)) == len(mdp.states):
        return
    seen: dict[str, int] = {}
    for s, name in enumerate(mdp.states):
        if name in seen:
            problems.add(
                "duplicate state",
                where.state(s),
                f"state {name!r} is defined twice",
                "Give every state a distinct name",
            )
        seen.setdefault(name, s)


def _check_actions(mdp: Mdp, where: Locator, problems: Problems) -> None:
    n_actions = np.diff(mdp.choice_start)
    problems.add_each(
        "state without actions",
        np.flatnonzero(n_actions == 0),
        lambda s: (
            where.state(s),
            f"state {mdp.states[s]!r} has no actions",
            (
                "Give it at least one action (for an absorbing state, one that loops back to itself; "
                "in a TOML or JSON model, terminal = true)"
            ),
        ),
    )
    key = mdp.choice_state * max(len(mdp.action_names), 1) + mdp.choice_action.astype(np.int64)
    problems.add_each(
        "duplicate action",
        _repeated(key, max(len(mdp.action_names), 1)),
        lambda c: (
            where.choice(c),
            f"state {mdp.states[int(mdp.choice_state[c])]!r} has two actions named {mdp.action(c)!r}",
            "Give the actions of a state distinct names",
        ),
    )


def _repeated(key: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.int64]:
    """Indices whose key equals an earlier one.

    Keys are ``group * width + member`` with ``member < width``, so they increase across groups;
    only groups where they fail to increase inside need sorting (files usually list sorted).
    """
    if len(key) < 2:
        return np.zeros(0, dtype=np.int64)
    unsorted = np.flatnonzero(np.diff(key) <= 0)
    if len(unsorted) == 0:
        return np.zeros(0, dtype=np.int64)
    group = key // width
    candidates = np.flatnonzero(np.isin(group, group[unsorted]))
    sub = key[candidates]
    order = np.argsort(sub, kind="stable")
    dup = np.zeros(len(sub), dtype=bool)
    dup[order[1:]] = sub[order[1:]] == sub[order[:-1]]
    return np.sort(candidates[dup])


def _check_targets(mdp: Mdp, where: Locator, problems: Problems) -> None:
    n = mdp.n_states
    bad = np.flatnonzero(mdp.target >= n)  # a negative target stands for a successor its reader reported
    problems.add_each(
        "unknown successor",
        bad,
        lambda t: (
            where.transition(t),
            f"successor state {int(mdp.target[t])} does not exist (the model has states 0..{n - 1})",
            "Use the index of an existing state",
        ),
    )
    problems.add_each(
        "duplicate successor",
        _repeated_successors(mdp),
        lambda t: (
            where.transition(t),
            f"successor {_state_name(mdp, int(mdp.target[t]))!r} is listed twice in one distribution",
            "List every successor once, with its total probability",
        ),
    )


def _repeated_successors(mdp: Mdp) -> npt.NDArray[np.int64]:
    """Transitions whose (existing) successor is listed earlier in the same distribution.

    Only distributions where the successors fail to increase somewhere can repeat one; files
    usually list them in increasing order, so usually none is examined and no array per
    transition is built beyond two boolean masks.
    """
    target, starts, n = mdp.target, mdp.row_start, max(mdp.n_states, 1)
    if len(target) < 2:
        return np.zeros(0, dtype=np.int64)
    opens = np.zeros(len(target), dtype=bool)
    opens[starts[:-1][starts[:-1] < len(target)]] = True
    drops = 1 + np.flatnonzero((target[1:] <= target[:-1]) & ~opens[1:])
    del opens
    if len(drops) == 0:
        return np.zeros(0, dtype=np.int64)
    choices = np.unique(np.searchsorted(starts, drops, side="right") - 1)
    candidates = concat_ranges(starts[choices], starts[choices + 1])
    candidates = candidates[(target[candidates] >= 0) & (target[candidates] < mdp.n_states)]
    key = (np.searchsorted(starts, candidates, side="right") - 1) * n + target[candidates]
    order = np.argsort(key, kind="stable")  # equal keys keep file order: the first is not a repeat
    repeat = np.zeros(len(key), dtype=bool)
    repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
    return candidates[repeat]


def _sums_to_one(p: Rationals, starts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """`groups_sum_to_one` over blocks of choices, so that its temporaries stay small."""
    n_groups = len(starts) - 1
    out = np.empty(n_groups, dtype=bool)
    for lo in range(0, n_groups, _GROUP_BLOCK):
        hi = min(lo + _GROUP_BLOCK, n_groups)
        a, b = int(starts[lo]), int(starts[hi])
        out[lo:hi] = groups_sum_to_one(Rationals(p.num[a:b], p.den[a:b]), starts[lo : hi + 1] - a)
    return out


def _state_name(mdp: Mdp, s: int) -> str:
    return mdp.states[s] if 0 <= s < mdp.n_states else str(s)


def _describe_choice(mdp: Mdp, c: int) -> str:
    return f"state {mdp.states[int(mdp.choice_state[c])]!r}, action {mdp.action(c)!r}"


def _check_distributions(mdp: Mdp, where: Locator, problems: Problems) -> None:
    p = mdp.probability
    assert p is not None
    negative = p.negative_indices()
    problems.add_each(
        "negative probability",
        negative,
        lambda t: (
            where.transition(t),
            (
                f"probability {p.canonical_text(t)} of a successor of "
                f"{_describe_choice(mdp, int(mdp.transition_choice[t]))} is negative"
            ),
            "Probabilities must be in [0, 1]",
        ),
    )
    suspects = np.flatnonzero(~_sums_to_one(p, mdp.row_start)).tolist()
    sums: dict[int, Fraction] = {}
    examined = 0
    for c in suspects:  # the fast check also flags groups with negative entries, whatever their sum
        examined += 1
        total = group_sum(p, int(mdp.row_start[c]), int(mdp.row_start[c + 1]))
        if total != 1:
            sums[c] = total
        if len(sums) > problems.limit:
            break
    problems.add_each(
        "distribution does not sum to 1",
        list(sums),
        lambda c: (
            where.choice(c),
            f"the probabilities of {_describe_choice(mdp, c)} sum to {_text(sums[c])}, not 1",
            _SUM_FIX,
        ),
    )
    problems.count_more("distribution does not sum to 1", len(suspects) - examined)


def _check_intervals(mdp: Mdp, where: Locator, problems: Problems) -> None:
    assert mdp.interval is not None
    lo, hi = mdp.interval
    problems.add_each(
        "negative probability",
        lo.negative_indices(),
        lambda t: (
            where.transition(t),
            (
                f"the {_bounds(lo, hi, t)} of a successor of "
                f"{_describe_choice(mdp, int(mdp.transition_choice[t]))} "
                "is negative"
            ),
            "Probabilities must be in [0, 1]",
        ),
    )
    lo_x, hi_x = lo.floats(), hi.floats()   # exact comparisons only where the floats cannot decide
    close = np.flatnonzero(np.abs(lo_x - hi_x) <= 1e-9 * np.maximum(np.abs(lo_x), np.abs(hi_x)))
    empty = set(np.flatnonzero(lo_x > hi_x).tolist()) - set(close.tolist())
    empty.update(int(t) for t in close if lo[int(t)] > hi[int(t)])
    problems.add_each(
        "empty interval",
        sorted(empty),
        lambda t: (
            where.transition(t),
            f"the interval [{lo.canonical_text(t)}, {hi.canonical_text(t)}] is empty (lower > upper)",
            "Write the lower bound first",
        ),
    )
    starts = mdp.row_start.tolist()
    for c in _possibly_infeasible(lo, hi, mdp.row_start, exact_ends=not empty):
        low = sum((lo[t] for t in range(starts[c], starts[c + 1])), Fraction(0))
        high = sum((hi[t] for t in range(starts[c], starts[c + 1])), Fraction(0))
        if not low <= 1 <= high:
            problems.add(
                "interval bounds cannot contain a distribution",
                where.choice(c),
                f"the intervals of {_describe_choice(mdp, c)} have lower bounds summing to {_text(low)} and "
                f"upper bounds summing to {_text(high)}, so no distribution fits them",
                "Choose bounds whose lower ends sum to at most 1 and upper ends to at least 1",
            )


def _possibly_infeasible(lo: Rationals, hi: Rationals, starts: npt.NDArray[np.int64], exact_ends: bool) -> list[int]:
    """The choices whose interval sums may miss Σlo ≤ 1 ≤ Σhi: those the float sums (each within a
    relative 1e-9 of the exact sum for fewer than 1e6 successors) do not clear by a margin, less
    (with ``exact_ends``: every lo ≤ hi) those whose lower or upper ends sum to exactly 1 (then
    Σlo ≤ Σhi puts 1 between them: point rows); the caller decides the rest exactly."""
    from proofs.core.numbers import segment_reduce

    low = segment_reduce(np.add, lo.floats(), starts, 0.0)
    high = segment_reduce(np.add, hi.floats(), starts, 0.0)
    margin = 1e-9 * np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
    near = (low > 1 - margin) | (high < 1 + margin)
    if exact_ends and near.any():
        near &= ~(groups_sum_to_one(lo, starts) | groups_sum_to_one(hi, starts))
    return np.flatnonzero(near).tolist()


def _bounds(lo: Rationals, hi: Rationals, t: int) -> str:
    if lo[t] == hi[t]:
        return f"probability {lo.canonical_text(t)}"
    return f"interval [{lo.canonical_text(t)}, {hi.canonical_text(t)}]"


def _check_initial(mdp: Mdp, where: Locator, problems: Problems) -> None:
    states, prob = mdp.initial_states, mdp.initial_probability
    if len(states) == 0:
        problems.add(
            "initial distribution",
            where.initial(),
            "the initial distribution is missing or empty",
            "Give an initial state (or a distribution over states, or label states 'init')",
        )
        return
    for i in np.flatnonzero(states >= mdp.n_states).tolist():  # negative: a state its reader reported
        problems.add(
            "initial distribution",
            where.initial(),
            f"initial state {int(states[i])} does not exist",
            "Use an existing state",
        )
    if len(np.unique(states[states >= 0])) != np.count_nonzero(states >= 0):
        problems.add(
            "initial distribution",
            where.initial(),
            "a state appears twice in the initial distribution",
            "List every initial state once",
        )
    for i in prob.negative_indices().tolist():
        problems.add(
            "initial distribution",
            where.initial(),
            f"initial probability {prob.canonical_text(i)} of state "
            f"{_state_name(mdp, int(states[i]))!r} is negative",
            "Probabilities must be in [0, 1]",
        )
    if not groups_sum_to_one(prob, np.array([0, len(prob)], dtype=np.int64))[0]:
        problems.add(
            "initial distribution",
            where.initial(),
            f"the initial probabilities sum to {_text(group_sum(prob, 0, len(prob)))}, not 1",
            _SUM_FIX,
        )


def _text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
