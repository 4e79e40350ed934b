"""Gymnasium toy-text environments as world-model documents (``proofs import gym``).

UNTRUSTED: a converter. It writes a JSON world model (docs/worldmodel-format.md) that is then
read, validated and hashed like any other model file; nothing here is part of the reading base.
Gymnasium is imported only when an environment is converted.

The conversion (SPEC §3), read from ``env.unwrapped.P[s][a] = [(prob, next, reward, terminated)]``:

- States are named by their Gymnasium index (``"0"``, ``"1"``, ...), actions likewise; every
  state keeps every action of ``P[s]``, so a Q-table lines up with states and actions.
- Every float is recovered as the simplest rational within 1e-12 (`simplest_rational`):
  probabilities with an absolute tolerance, rewards with 1e-12 relative to their size (at
  least 1e-12). A distribution that then does not sum to exactly 1 is an error naming the
  environment, the state and the action. Zero-probability outcomes are dropped, repeated
  successors merged, and r(s, a) is the expected transition reward (structure ``"reward"``).
- μ₀ is ``env.unwrapped.initial_state_distrib`` (FrozenLake, CliffWalking and Taxi define it);
  an environment without it is refused, since sampling ``reset`` cannot give μ₀ exactly.
  Its support is labelled ``start``.
- Termination. Let L be the states an episode can occupy *before* it ends: reached from μ₀
  through non-terminating outcomes. A state entered by a terminating outcome ends the episode
  there: it becomes absorbing (every action a self-loop with reward 0) and is labelled
  ``terminal``. When such a state is also in L (the mixed case: entered both ways, and the
  non-terminating way matters), terminating outcomes go instead to a separate absorbing copy
  ``"s!terminal"`` (appended after the Gymnasium states, with the labels of s except
  ``start``), and s keeps its dynamics. The model thus agrees with the environment's episodes
  from μ₀ exactly; a state outside L is never occupied live by an episode, so making it
  absorbing changes nothing an episode can see (e.g. Taxi's "passenger delivered" states).
- FrozenLake's map labels its ``H`` cells ``hole`` and its ``G`` cells ``goal``.
- Grid worlds (FrozenLake, CliffWalking) get a ``plot`` table for pictures (`grid_layout`):
  state i is cell ``(i // columns, i % columns)`` of the map, each action an arrow. It is not
  part of the model; Taxi gets none (its 500 states are not the cells of its map).
- Taxi with ``fickle_passenger=True`` is refused: its destination changes happen in ``step``,
  outside ``P``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from proofs.core.certificate import write_atomic
from proofs.core.errors import InputError, InputErrors, Location
from proofs.core.rational import format_rational

__all__ = ["GRID_ARROWS", "env_document", "grid_layout", "import_gym", "parse_kwargs", "simplest_between", "simplest_rational", "write_model_json"]

TOLERANCE = Fraction(1, 10**12)
REWARD = "reward"

GRID_ARROWS: dict[str, dict[str, tuple[int, int]]] = {
    "FrozenLakeEnv": {"0": (-1, 0), "1": (0, 1), "2": (1, 0), "3": (0, -1)},     # left, down, right, up
    "CliffWalkingEnv": {"0": (0, -1), "1": (1, 0), "2": (0, 1), "3": (-1, 0)},   # up, right, down, left
}
"""Per grid environment class, each action's direction ``[dx, dy]`` (columns right, rows down)."""


@dataclass(frozen=True)
class _Outcome:
    probability: Fraction
    target: int
    reward: Fraction
    terminated: bool


# -- exact numbers from floats ---------------------------------------------------------------
def simplest_between(lo: Fraction, hi: Fraction) -> Fraction:
    """The simplest rational in the closed interval [lo, hi]: least denominator, then least |numerator|.

    Walks the Stern–Brocot tree through continued fractions: if an integer lies in the
    interval, the one nearest 0 is the answer; else both ends share the integer part n and the
    answer is n + 1 / (simplest rational in [1 / (hi - n), 1 / (lo - n)]).

    Examples
    --------
    >>> simplest_between(Fraction(3, 10), Fraction(2, 5))
    Fraction(1, 3)
    >>> simplest_between(Fraction(-1, 2), Fraction(1, 2))
    Fraction(0, 1)
    """
    if lo > hi:
        raise ValueError(f"empty interval [{lo}, {hi}]")
    if lo <= 0 <= hi:
        return Fraction(0)
    if hi < 0:
        return -simplest_between(-hi, -lo)
    terms: list[int] = []
    while True:
        n = math.floor(lo)
        if math.ceil(lo) <= hi:
            terms.append(math.ceil(lo))
            break
        terms.append(n)
        lo, hi = 1 / (hi - n), 1 / (lo - n)
    value = Fraction(terms[-1])
    for n in reversed(terms[:-1]):
        value = n + 1 / value
    return value


@lru_cache(maxsize=65536)
def simplest_rational(x: float, tolerance: Fraction = TOLERANCE) -> Fraction:
    """The simplest rational within ``tolerance`` of the float ``x`` (1/3 for 0.333…).

    Examples
    --------
    >>> simplest_rational(1 / 3)
    Fraction(1, 3)
    >>> simplest_rational(0.1)
    Fraction(1, 10)
    >>> simplest_rational((1.0 - 0.8) / 2)
    Fraction(1, 10)
    """
    if not math.isfinite(x):
        raise ValueError(f"{x} is not a finite number")
    exact = Fraction(x)
    return simplest_between(exact - tolerance, exact + tolerance)


def _reward(x: float) -> Fraction:
    return simplest_rational(x, TOLERANCE * max(1, math.ceil(abs(x))))


# -- command-line keyword arguments ----------------------------------------------------------
def parse_kwargs(pairs: Iterable[str]) -> dict[str, Any]:
    """Read ``--kw key=value`` arguments; each value is JSON when it parses, else a string.

    Examples
    --------
    >>> parse_kwargs(["is_slippery=false", 'map_name="8x8"', "render_mode=ansi"])
    {'is_slippery': False, 'map_name': '8x8', 'render_mode': 'ansi'}
    """
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise InputError(
                Location("--kw"), f"{pair!r} is not key=value", "Write e.g. --kw is_slippery=false"
            )
        if key in result:
            raise InputError(Location("--kw", key=key), f"{key!r} is given twice", "Give each keyword once")
        try:
            result[key] = json.loads(text)
        except json.JSONDecodeError:
            result[key] = text
    return result


# -- reading the environment -----------------------------------------------------------------
def _make(env_id: str, kwargs: Mapping[str, Any]) -> Any:
    where = Location(f"gym:{env_id}")
    try:
        import gymnasium
    except ImportError:
        raise InputError(
            where, "Gymnasium is not installed", "Install it: pip install 'proofs[gym]'"
        ) from None
    try:
        return gymnasium.make(env_id, disable_env_checker=True, **kwargs)
    except Exception as exc:  # noqa: BLE001 -- gymnasium raises many types for a bad id or keywords
        raise InputError(
            where,
            f"Gymnasium cannot make the environment ({type(exc).__name__}: {exc})",
            "Check the environment id (e.g. FrozenLake-v1) and the --kw arguments",
        ) from None


def _read_table(env_id: str, env: Any) -> list[list[list[_Outcome]]]:
    """``table[s][a]``: the exact outcomes of action a in state s (zero-probability ones dropped)."""
    where = Location(f"gym:{env_id}")
    table = getattr(env, "P", None)
    if not isinstance(table, Mapping) or sorted(table) != list(range(len(table))) or not table:
        raise InputError(
            where,
            "the environment has no transition table P[s][a] over states 0, 1, ...",
            "Only environments exposing P[s][a] = [(prob, next, reward, terminated)] can be imported",
        )
    errors: list[InputError] = []
    result: list[list[list[_Outcome]]] = []
    for s in range(len(table)):
        actions = table[s]
        if not isinstance(actions, Mapping) or sorted(actions) != list(range(len(actions))) or not actions:
            errors.append(
                InputError(
                    Location(where.path, key=f"P[{s}]"),
                    "expected actions 0, 1, ...",
                    "P[s] must map every action index to its outcomes",
                )
            )
            result.append([])
            continue
        result.append([_outcomes(env_id, len(table), s, a, actions[a], errors) for a in range(len(actions))])
    InputErrors.raise_if_any(errors)
    return result


def _outcomes(
    env_id: str, n: int, s: int, a: int, raw: Sequence[Any], errors: list[InputError]
) -> list[_Outcome]:
    where = Location(f"gym:{env_id}", key=f"P[{s}][{a}]")
    outcomes = []
    try:
        for p, target, reward, terminated in raw:
            if not (isinstance(target, int) or hasattr(target, "__index__")) or not 0 <= int(target) < n:
                raise ValueError(f"successor {target!r} is not a state 0..{n - 1}")
            if float(p) < 0:
                raise ValueError(f"negative probability {p}")
            probability = simplest_rational(float(p))
            if probability:
                outcomes.append(_Outcome(probability, int(target), _reward(float(reward)), bool(terminated)))
    except (TypeError, ValueError) as exc:
        errors.append(
            InputError(
                where,
                f"state {s}, action {a}: unreadable outcome ({exc})",
                "Each outcome must be (probability, next_state, reward, terminated)",
            )
        )
        return []
    total = sum((o.probability for o in outcomes), Fraction(0))
    if total != 1:
        shown = ", ".join(format_rational(o.probability) for o in outcomes)
        errors.append(
            InputError(
                where,
                f"state {s}, action {a}: the probabilities, recovered as the simplest "
                f"rationals within 1e-12 ({shown}), sum to {total}, not exactly 1",
                "The environment's probabilities are not floats of exact rationals; "
                "this model cannot be imported exactly",
            )
        )
    return outcomes


def _read_initial(env_id: str, env: Any, n: int) -> dict[int, Fraction]:
    where = Location(f"gym:{env_id}", key="initial_state_distrib")
    raw = getattr(env, "initial_state_distrib", None)
    if raw is None:
        raise InputError(
            where,
            "the environment exposes no initial_state_distrib, so μ₀ is not known exactly",
            "Only environments with an exact initial distribution can be imported",
        )
    values = [float(v) for v in raw]
    if len(values) != n or not all(math.isfinite(v) and v >= 0 for v in values):
        raise InputError(
            where,
            f"expected {n} non-negative probabilities, got {len(values)} values",
            "initial_state_distrib must give one probability per state",
        )
    initial = {s: simplest_rational(v) for s, v in enumerate(values) if simplest_rational(v)}
    total = sum(initial.values(), Fraction(0))
    if total != 1:
        raise InputError(
            where,
            f"the initial probabilities, recovered as the simplest rationals within 1e-12, "
            f"sum to {total}, not exactly 1",
            "This environment cannot be imported exactly",
        )
    return initial


# -- termination -----------------------------------------------------------------------------
def _live_states(table: list[list[list[_Outcome]]], initial: Iterable[int]) -> set[int]:
    """L: the states reached from μ₀ through non-terminating outcomes (occupied before the end)."""
    live = set(initial)
    stack = list(live)
    while stack:
        for outcomes in table[stack.pop()]:
            for o in outcomes:
                if not o.terminated and o.target not in live:
                    live.add(o.target)
                    stack.append(o.target)
    return live


def _terminals(table: list[list[list[_Outcome]]], initial: Iterable[int]) -> tuple[set[int], list[int]]:
    """States made absorbing in place, and states that get an absorbing copy ``s!terminal``."""
    live = _live_states(table, initial)
    ended = {o.target for actions in table for outcomes in actions for o in outcomes if o.terminated}
    absorbing = ended - live
    copies = sorted(
        {
            o.target
            for s, actions in enumerate(table)
            if s not in absorbing
            for outcomes in actions
            for o in outcomes
            if o.terminated and o.target in live
        }
    )
    return absorbing, copies


# -- the document ----------------------------------------------------------------------------
def _is_frozen_lake(env: Any) -> bool:
    from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv

    return isinstance(env, FrozenLakeEnv)


def _labels(env: Any, n: int, initial: Mapping[int, Fraction]) -> list[set[str]]:
    labels: list[set[str]] = [set() for _ in range(n)]
    for s in initial:
        labels[s].add("start")
    if _is_frozen_lake(env):
        for s, letter in enumerate(bytes(c) for c in env.desc.ravel()):
            if letter == b"H":
                labels[s].add("hole")
            elif letter == b"G":
                labels[s].add("goal")
    return labels


def grid_layout(env: Any) -> dict[str, Any] | None:
    """The ``plot`` table of a grid environment's document, or None for any other environment.

    FrozenLake's ``desc`` map and CliffWalking's ``shape`` give ``grid = [rows, columns]``
    (state i is cell ``(i // columns, i % columns)``, an absorbing copy ``"i!terminal"`` is drawn
    in cell i), and `GRID_ARROWS` each action's arrow (docs/worldmodel-format.md, Pictures).

    Examples
    --------
    >>> import gymnasium
    >>> grid_layout(gymnasium.make("FrozenLake-v1", map_name="8x8").unwrapped)["grid"]
    [8, 8]
    """
    arrows = GRID_ARROWS.get(type(env).__name__)
    if arrows is None:
        return None
    desc = getattr(env, "desc", None)
    shape = desc.shape if desc is not None else getattr(env, "shape", None)
    if shape is None or len(shape) != 2:
        return None
    return {"grid": [int(shape[0]), int(shape[1])], "arrows": {a: list(d) for a, d in arrows.items()}}


def _live_actions(
    outcomes_of: list[list[_Outcome]], name_of: Mapping[tuple[int, bool], str]
) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    for a, outcomes in enumerate(outcomes_of):
        to: dict[str, Fraction] = {}
        for o in sorted(outcomes, key=lambda o: (o.terminated, o.target)):
            target = name_of[o.target, o.terminated]
            to[target] = to.get(target, Fraction(0)) + o.probability
        action: dict[str, Any] = {"to": {t: format_rational(p) for t, p in to.items()}}
        reward = sum((o.probability * o.reward for o in outcomes), Fraction(0))
        if reward:
            action["rewards"] = {REWARD: format_rational(reward)}
        actions[str(a)] = action
    return actions


def _state(labels: set[str], actions: dict[str, Any]) -> dict[str, Any]:
    return {"labels": sorted(labels), "actions": actions} if labels else {"actions": actions}


def _document(env: Any, table: list[list[list[_Outcome]]], initial: dict[int, Fraction]) -> dict[str, Any]:
    n = len(table)
    absorbing, copies = _terminals(table, initial)
    copy_name = {s: f"{s}!terminal" for s in copies}
    name_of = {
        (s, ended): copy_name.get(s, str(s)) if ended else str(s) for s in range(n) for ended in (False, True)
    }
    labels = _labels(env, n, initial)
    states: dict[str, Any] = {}
    for s in range(n):
        if s in absorbing:
            loop = {str(a): {"to": {str(s): "1"}} for a in range(len(table[s]))}
            states[str(s)] = _state(labels[s] | {"terminal"}, loop)
        else:
            states[str(s)] = _state(labels[s], _live_actions(table[s], name_of))
    for s in copies:
        loop = {str(a): {"to": {copy_name[s]: "1"}} for a in range(len(table[s]))}
        states[copy_name[s]] = _state((labels[s] - {"start"}) | {"terminal"}, loop)
    declared = {"start", "terminal"} | ({"hole", "goal"} if _is_frozen_lake(env) else set())
    start = [str(s) for s in sorted(initial)]
    document: dict[str, Any] = {
        "rewards": [REWARD],
        "labels": sorted(declared),
        "initial": start[0]
        if len(start) == 1
        else {str(s): format_rational(initial[s]) for s in sorted(initial)},
        "states": states,
    }
    layout = grid_layout(env)
    if layout is not None:
        document["plot"] = layout
    return document


def import_gym(env_id: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON world-model document of a Gymnasium environment with a ``P`` table.

    Parameters
    ----------
    env_id
        A registered environment id, such as ``"FrozenLake-v1"``.
    kwargs
        Keyword arguments for ``gymnasium.make`` (see `parse_kwargs`).

    Returns
    -------
    dict
        The document of docs/worldmodel-format.md (module docstring: how it is built).

    Raises
    ------
    InputError, InputErrors
        If Gymnasium cannot make the environment, it has no exact ``P`` table or initial
        distribution, or a distribution does not sum to exactly 1 after rational recovery.

    Examples
    --------
    >>> doc = import_gym("FrozenLake-v1", {"is_slippery": False})
    >>> doc["initial"], doc["states"]["5"]["labels"]
    ('0', ['hole', 'terminal'])
    """
    env = _make(env_id, kwargs)
    try:
        return env_document(env, env_id)
    finally:
        env.close()


def env_document(env: Any, env_id: str | None = None) -> dict[str, Any]:
    """The world-model document of an environment object already made (`import_gym` on ``env``).

    ``env_id`` names it in error messages (default: its registered id, else its class name).
    """
    unwrapped = env.unwrapped
    if env_id is None:
        spec = getattr(env, "spec", None)
        env_id = getattr(spec, "id", None) or type(unwrapped).__name__
    if getattr(unwrapped, "fickle_passenger", False):
        raise InputError(
            Location(f"gym:{env_id}", key="fickle_passenger"),
            "the fickle passenger changes destination inside step(), outside the P table",
            "Import Taxi without fickle_passenger",
        )
    table = _read_table(env_id, unwrapped)
    initial = _read_initial(env_id, unwrapped, len(table))
    return _document(unwrapped, table, initial)


def write_model_json(doc: Mapping[str, Any], path: str | Path) -> None:
    """Write a world-model document as JSON, atomically (temporary file + rename).

    States and actions keep their order (it is the model's order); output is deterministic.
    """
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    write_atomic(Path(path), text.encode("utf-8"))
