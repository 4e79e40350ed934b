"""Plain MDP constructors for tests: hand-written models, hypothesis strategies, benchmark families.

* `make_mdp` builds an `Mdp` from Python dicts (probabilities may be ``(lo, hi)`` intervals, which
  makes the model credal).
* `small_mdps` is a hypothesis strategy for small valid exact MDPs.
* `grid_mdp` / `random_mdp` are the benchmark families of ``bench/generate.py`` (the same arrays,
  so the same model a loader reads from the written explicit files: states ``"0"``, ``"1"``, …,
  actions named by their local index, reward structure ``"r"``, μ₀ the Dirac at state 0).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from hypothesis import strategies as st

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.policy import PolicyLayer

__all__ = ["bench_generate", "from_generated", "grid_mdp", "make_mdp", "random_mdp", "small_mdps"]

Number = Fraction | int | str
Choices = Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]]


def _exact(value: Number) -> Fraction:
    return Fraction(value)


def make_mdp(
    states: Sequence[str],
    choices: Choices,
    rewards: Mapping[str, Mapping[tuple[str, str], Number]] | None = None,
    labels: Mapping[str, Sequence[str]] | None = None,
    initial: Mapping[str, Number] | None = None,
) -> Mdp:
    """Build an `Mdp` from plain Python data.

    Parameters
    ----------
    states
        State names, in index order.
    choices
        ``{state: [(action, {target: probability}), ...]}``; a probability may be a pair
        ``(lo, hi)``, which makes the whole model credal (points become ``(p, p)``).
    rewards
        ``{name: {(state, action): value}}``; missing entries are 0.
    labels
        ``{name: [state, ...]}``.
    initial
        ``{state: probability}``; by default the Dirac at ``states[0]``.

    Examples
    --------
    >>> m = make_mdp(["s", "t"], {"s": [("go", {"t": "1/2", "s": "1/2"})], "t": [("stay", {"t": 1})]},
    ...              rewards={"r": {("s", "go"): 1}}, labels={"goal": ["t"]})
    >>> m.n_states, m.n_choices, m.successors(0)
    (2, 2, [(0, Fraction(1, 2)), (1, Fraction(1, 2))])
    """
    index = {name: i for i, name in enumerate(states)}
    action_names: list[str] = []
    counts, choice_action, row_lengths, targets, numbers = [], [], [], [], []
    keys: list[tuple[str, str]] = []
    for s in states:
        counts.append(len(choices[s]))
        for action, dist in choices[s]:
            if action not in action_names:
                action_names.append(action)
            choice_action.append(action_names.index(action))
            keys.append((s, action))
            row = sorted((index[t], p) for t, p in dist.items())
            row_lengths.append(len(row))
            targets += [t for t, _ in row]
            numbers += [p for _, p in row]
    credal = any(isinstance(p, tuple) for p in numbers)
    pairs = [p if isinstance(p, tuple) else (p, p) for p in numbers]
    init = initial or {states[0]: 1}
    return Mdp(
        states=tuple(states), choice_start=_offsets(counts), action_names=tuple(action_names),
        choice_action=np.array(choice_action, dtype=np.int32), row_start=_offsets(row_lengths),
        target=np.array(targets, dtype=np.int64),
        probability=None if credal else Rationals.from_fractions(_exact(p) for p in numbers),
        interval=(Rationals.from_fractions(_exact(lo) for lo, _ in pairs),
                  Rationals.from_fractions(_exact(hi) for _, hi in pairs)) if credal else None,
        rewards={name: Rationals.from_fractions(_exact(table.get(k, 0)) for k in keys)
                 for name, table in (rewards or {}).items()},
        labels={name: np.isin(np.arange(len(states)), [index[s] for s in members])
                for name, members in (labels or {}).items()},
        initial_states=np.array([index[s] for s in init], dtype=np.int64),
        initial_probability=Rationals.from_fractions(_exact(p) for p in init.values()),
    )


def _offsets(counts: Sequence[int]) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


# -- hypothesis -------------------------------------------------------------------------------------
def _distribution(draw: st.DrawFn, n: int) -> dict[int, Fraction]:
    targets = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=min(n, 3), unique=True))
    weights = [draw(st.integers(1, 4)) for _ in targets]
    return {t: Fraction(w, sum(weights)) for t, w in zip(targets, weights)}


def _initial(draw: st.DrawFn, n: int) -> dict[int, Fraction]:
    if n == 1 or draw(st.booleans()):
        return {0: Fraction(1)}
    return _distribution(draw, n)


@st.composite
def small_mdps(draw: st.DrawFn, max_states: int = 6, max_actions: int = 3) -> Mdp:
    """Small valid exact MDPs: states ``s0``…, actions ``a``, ``b``, …, rewards and labels.

    Probabilities have denominators up to 12; reward ``"r"`` has values in [-3, 3] with
    denominators up to 4 (possibly negative), ``"c"`` is a non-negative cost. Labels ``goal`` and
    ``fatal`` mark random sets of states, each made absorbing (one action ``stay``, reward 0)
    or not at random. μ₀ is the Dirac at ``s0`` or a random distribution.
    """
    n = draw(st.integers(1, max_states))
    names = [f"s{i}" for i in range(n)]
    marked = {label: draw(st.lists(st.booleans(), min_size=n, max_size=n)) for label in ("goal", "fatal")}
    absorbing = {label: draw(st.booleans()) for label in marked}
    choices: dict[str, list[tuple[str, dict[str, Fraction]]]] = {}
    rewards: dict[str, dict[tuple[str, str], Fraction]] = {"r": {}, "c": {}}
    for i, s in enumerate(names):
        if any(marked[label][i] and absorbing[label] for label in marked):
            choices[s] = [("stay", {s: Fraction(1)})]
            continue
        choices[s] = []
        for a in "abcdefgh"[: draw(st.integers(1, max_actions))]:
            choices[s].append((a, {names[t]: p for t, p in _distribution(draw, n).items()}))
            rewards["r"][(s, a)] = Fraction(draw(st.integers(-3, 3)), draw(st.integers(1, 4)))
            rewards["c"][(s, a)] = Fraction(draw(st.integers(0, 3)), draw(st.integers(1, 4)))
    labels = {label: [s for s, m in zip(names, mask) if m] for label, mask in marked.items()}
    initial = {names[s]: p for s, p in _initial(draw, n).items()}
    return make_mdp(names, choices, rewards, labels, initial)


# -- benchmark families --------------------------------------------------------------------------------
@cache
def bench_generate() -> ModuleType:
    """``bench/generate.py`` (not a package), loaded from its path relative to this file."""
    path = Path(__file__).resolve().parents[2] / "bench" / "generate.py"
    spec = importlib.util.spec_from_file_location("_proofs_bench_generate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def from_generated(model: Any) -> Mdp:
    """The `Mdp` of a ``bench.generate.Generated`` model, as a loader reads it from its files."""
    unit_digits = len(str(bench_generate().UNIT)) - 1
    local = np.arange(model.n_choices, dtype=np.int64) - model.choice_start[model.choice_state]
    width = int(local.max(initial=0)) + 1
    return Mdp(
        states=tuple(str(i) for i in range(model.n_states)), choice_start=model.choice_start,
        action_names=tuple(str(i) for i in range(width)), choice_action=local.astype(np.int32),
        row_start=model.row_start, target=model.target,
        probability=Rationals.from_decimal_parts(model.probability, np.full(model.n_transitions, unit_digits)),
        rewards={"r": Rationals.from_decimal_parts(model.reward, np.full(model.n_choices, unit_digits))},
        labels=dict(model.labels), initial_states=np.array([0], dtype=np.int64),
        initial_probability=Rationals.from_fractions([1]),
    )


def risky_mdp(n: int, seed: int = 0) -> Mdp:
    """n live states with two actions each, every action ending the episode with a small chance:
    successors ``goal`` or ``fatal`` (absorbing, the last two states) with probability 1–5 %, and
    two random live states sharing the rest (thousandths). No policy avoids both ends, so the
    unbounded reachability probabilities lie strictly between 0 and 1 (the random and grid
    families decide theirs on the graph alone)."""
    rng = np.random.default_rng(seed)
    live, k = n, 2 * n
    end = rng.integers(10, 51, size=k)
    first = rng.integers(1, 1000 - end, size=k)
    num = np.stack([end, first, 1000 - end - first], axis=1).ravel()
    one = rng.integers(0, live, size=k)
    other = (one + rng.integers(1, live, size=k)) % live   # never the same state twice in a row
    target = np.stack([live + rng.integers(0, 2, size=k), one, other], axis=1).ravel()
    num = np.concatenate([num, [1000, 1000]])
    target = np.concatenate([target, [live, live + 1]])
    choice_start = np.concatenate([np.arange(0, k + 1, 2), [k + 1, k + 2]]).astype(np.int64)
    return Mdp(
        states=tuple(str(i) for i in range(live + 2)), choice_start=choice_start, action_names=("a", "b"),
        choice_action=np.concatenate([np.tile([0, 1], live), [0, 0]]).astype(np.int32),
        row_start=np.concatenate([np.arange(0, 3 * k + 1, 3), [3 * k + 1, 3 * k + 2]]).astype(np.int64),
        target=target.astype(np.int64), probability=Rationals(num.astype(np.int64), np.full(len(num), 1000)),
        rewards={"r": Rationals(np.ones(k + 2, dtype=np.int64), np.ones(k + 2, dtype=np.int64))},
        labels={"goal": np.arange(live + 2) == live, "fatal": np.arange(live + 2) == live + 1},
        initial_states=np.array([0], dtype=np.int64), initial_probability=Rationals.from_fractions([1]),
    )


@st.composite
def graph_preserving_credal_mdps(draw: st.DrawFn, max_states: int = 3) -> Mdp:
    """Labelled `small_mdps` (at most two actions) with every p widened to [p·(1 − b), min(1, p·(1 + a))],
    b < 1: every listed successor keeps a positive lower bound (Storm's graph preservation)."""
    mdp = draw(small_mdps(max_states=max_states, max_actions=2).filter(
        lambda m: m.labels["goal"].any() and m.labels["fatal"].any()))
    assert mdp.probability is not None
    t = mdp.n_transitions
    points = mdp.probability.fractions()
    below = draw(st.lists(st.sampled_from([Fraction(0), Fraction(1, 10), Fraction(1, 2)]), min_size=t, max_size=t))
    above = draw(st.lists(st.sampled_from([Fraction(0), Fraction(1, 10), Fraction(1)]), min_size=t, max_size=t))
    lo = [p * (1 - b) for p, b in zip(points, below)]
    hi = [min(Fraction(1), p * (1 + a)) for p, a in zip(points, above)]
    from dataclasses import replace

    return replace(mdp, probability=None, interval=(Rationals.from_fractions(lo), Rationals.from_fractions(hi)))


def grid_mdp(n: int, slip: Number = "0.1") -> Mdp:
    """The benchmark gridworld ``grid_n`` (see ``bench/generate.py``)."""
    return from_generated(bench_generate().grid(n, Fraction(slip)))


def random_mdp(n: int, seed: int = 0) -> Mdp:
    """The benchmark random model ``random_n`` (see ``bench/generate.py``)."""
    return from_generated(bench_generate().random_model(n, seed))


# -- credal (interval) models --------------------------------------------------------------------------
WIDTHS = [Fraction(0), Fraction(1, 20), Fraction(1, 10), Fraction(1, 4), Fraction(1)]
"""How far a generated interval reaches below and above its point: 0 keeps that side tight, 1
reaches 0 or 1."""


def widen_each(mdp: Mdp, below: Sequence[Fraction], above: Sequence[Fraction]) -> Mdp:
    """The point model made credal: transition i's p becomes [max(0, p − below[i]), min(1, p + above[i])],
    so every row still contains its original distribution."""
    from dataclasses import replace

    assert mdp.probability is not None
    points = mdp.probability.fractions()
    lo = [max(Fraction(0), p - a) for p, a in zip(points, below)]
    hi = [min(Fraction(1), p + b) for p, b in zip(points, above)]
    return replace(mdp, probability=None, interval=(Rationals.from_fractions(lo), Rationals.from_fractions(hi)))


@st.composite
def credal_mdps(draw: st.DrawFn, max_states: int = 5, labelled: bool = False) -> Mdp:
    """`small_mdps` widened by `widen_each`, both sides drawn per transition from `WIDTHS`: points,
    intervals [0, x] and whole [0, 1] rows all occur. ``labelled``: ``goal`` and ``fatal`` each mark
    at least one state."""
    models = small_mdps(max_states=max_states)
    if labelled:
        models = models.filter(lambda m: m.labels["goal"].any() and m.labels["fatal"].any())
    mdp = draw(models)
    t = mdp.n_transitions
    below = draw(st.lists(st.sampled_from(WIDTHS), min_size=t, max_size=t))
    above = draw(st.lists(st.sampled_from(WIDTHS), min_size=t, max_size=t))
    return widen_each(mdp, below, above)


def widened(mdp: Mdp, lo: Fraction = Fraction(9, 10), hi: Fraction = Fraction(11, 10)) -> Mdp:
    """A point model made credal: p becomes [lo·p, min(1, hi·p)] (exact, vectorised)."""
    from dataclasses import replace

    p = mdp.probability
    assert p is not None

    def scaled(factor: Fraction) -> Rationals:
        num, den = p.num * factor.numerator, p.den * factor.denominator
        g = np.gcd(num, den)
        return Rationals(num // g, den // g)

    low, high = scaled(lo), scaled(hi)
    over = high.num > high.den
    high = Rationals(np.where(over, 1, high.num), np.where(over, 1, high.den))
    return replace(mdp, probability=None, interval=(low, high))


@st.composite
def stationary_layers(draw: st.DrawFn, mdp: Mdp) -> PolicyLayer:
    """Randomised decision rules defined on every state (one or two choices, rational weights)."""
    table = {}
    for s in range(mdp.n_states):
        picked = draw(st.lists(st.sampled_from(list(mdp.choices(s))), min_size=1, max_size=2, unique=True))
        weights = [draw(st.integers(1, 3)) for _ in picked]
        table[s] = [(c, Fraction(w, sum(weights))) for c, w in zip(picked, weights)]
    return PolicyLayer.from_table(mdp, table)


def solve_exact(a: Sequence[Sequence[Fraction]], b: Sequence[Fraction]) -> list[Fraction]:
    """x with a·x = b for a regular square system, by Gauss–Jordan elimination in exact rationals
    (an oracle independent of the package's solvers)."""
    n = len(b)
    m = [list(row) + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if m[r][col] != 0)
        m[col], m[pivot] = m[pivot], m[col]
        m[col] = [x / m[col][col] for x in m[col]]
        for r in range(n):
            if r != col and m[r][col] != 0:
                m[r] = [x - m[r][col] * y for x, y in zip(m[r], m[col])]
    return [m[i][-1] for i in range(n)]
