"""Bridge to Storm (stormpy 2.0): build Storm models from `Mdp`s, check properties, print queries.

UNTRUSTED and optional. Storm is a cross-check and a racing baseline, never evidence: nothing
here feeds the kernel. ``stormpy`` is imported lazily inside the functions that need it (the
``storm`` extra), so importing this module costs nothing and works without Storm; a missing
Storm raises `EngineError` when it is first needed.

Conventions:

* Storm's initial states are a set, not a distribution. `to_storm` marks the support of μ₀ as
  Storm's ``"init"``; callers ask for the value of every state (`check`, `storm_value`) and
  combine them with μ₀ exactly (`initial_value`). Multi-objective queries need a single initial
  state.
* Storm accepts only identifiers as label and reward-model names; `storm_names` gives the
  (deterministic) renaming that `to_storm` applies, and the printers take it as ``names``.
* A geometric horizon is turned into a finite stopping model by `geometric_unrolling`; the
  printers then read every path formula on that model (``stop`` names its sink label).

The pure model transformations (`fix_policy`, `geometric_unrolling`) need no Storm and return
ordinary `Mdp`s, so our own engines can be run on them too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs.core.errors import EngineError
from proofs.core.formula import (
    And,
    Atom,
    Comparison,
    Constraint,
    Eventually,
    Globally,
    Label,
    Not,
    Or,
    PathFormula,
    RewardConstraint,
    StateFormula,
    Truth,
)
from proofs.core.model import Mdp, concat_ranges
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective
from proofs.core.policy import PolicyLayer
from proofs.core.rational import format_rational

__all__ = [
    "StormNames",
    "check",
    "check_initial",
    "fix_policy",
    "geometric_unrolling",
    "induced_chain",
    "initial_value",
    "stop_label",
    "storm_bound",
    "storm_multi",
    "storm_names",
    "storm_objective_bound",
    "storm_path",
    "storm_property",
    "storm_state",
    "storm_value",
    "to_drn",
    "to_storm",
]

IntArray = npt.NDArray[np.int64]
Value = Fraction | float
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT64_SAFE = 2**62
_NATURE = ("robust", "cooperative", "minimize", "maximize")


def _stormpy() -> Any:
    try:
        import stormpy
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise EngineError("Storm is not installed; install the extra: pip install 'proofs[storm]'") from exc
    return stormpy


# -- names ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StormNames:
    """How the model's label and reward names appear in Storm (our name -> Storm identifier)."""

    labels: Mapping[str, str]
    rewards: Mapping[str, str]


def _fresh(base: str, taken: set[str] | Mapping[str, Any] | Sequence[str]) -> str:
    name, i = base, 1
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    return name


def _identifier(name: str, taken: set[str]) -> str:
    if _IDENT.match(name) and name not in taken:
        return name
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return _fresh(clean if _IDENT.match(clean) else f"x_{clean}", taken)


def storm_names(mdp: Mdp) -> StormNames:
    """The renaming `to_storm` applies: identifiers kept, others made into fresh identifiers.

    Storm's ``"init"`` always marks the support of μ₀; a label ``init`` of the model that marks
    other states is renamed.

    The renaming depends on the model only, so callers can compute it on their own to print
    properties for a Storm model built by `to_storm` or `induced_chain`.
    """
    support = np.zeros(mdp.n_states, dtype=bool)
    support[mdp.initial_states] = True
    labels: dict[str, str] = {}
    taken = {"init"}
    if "init" in mdp.labels and np.array_equal(mdp.labels["init"], support):
        labels["init"] = "init"
    for name in mdp.labels:
        if name not in labels:
            labels[name] = _identifier(name, taken)
            taken.add(labels[name])
    rewards: dict[str, str] = {}
    for name in mdp.rewards:
        rewards[name] = _identifier(name, set(rewards.values()))
    return StormNames(labels, rewards)


# -- numbers -------------------------------------------------------------------------------------
def _rationals(sp: Any, values: Rationals) -> list[Any]:
    """`stormpy.Rational`s, each distinct value built once (generated models repeat values a lot)."""
    if values.is_compact and len(values):
        key_ok = int(np.max(values.den)) < 2**31 and int(np.max(np.abs(values.num))) < 2**31
        if key_ok:
            keys = values.num.astype(np.int64) * np.int64(2**31) + values.den.astype(np.int64)
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            made = [sp.Rational(Fraction(int(values.num[i]), int(values.den[i]))) for i in first.tolist()]
            return [made[i] for i in inverse.ravel().tolist()]
    return [sp.Rational(f) for f in values.fractions()]


def _value_type(sp: Any, mdp: Mdp, exact: bool) -> Any:
    if mdp.is_credal:
        return sp.RationalInterval if exact else sp.Interval
    return sp.Rational if exact else float


def _point_values(sp: Any, vt: Any, values: Rationals) -> list[Any]:
    if vt is float:
        return list(values.floats().tolist())
    if vt is sp.Rational:
        return _rationals(sp, values)
    if vt is sp.Interval:
        return [sp.Interval(v, v) for v in values.floats().tolist()]
    return [sp.RationalInterval(q, q) for q in _rationals(sp, values)]


def _probabilities(sp: Any, vt: Any, mdp: Mdp) -> list[Any]:
    if mdp.interval is None:
        assert mdp.probability is not None
        return _point_values(sp, vt, mdp.probability)
    lo, hi = mdp.interval
    if vt is sp.Interval:
        return [sp.Interval(a, b) for a, b in zip(lo.floats().tolist(), hi.floats().tolist())]
    return [sp.RationalInterval(a, b) for a, b in zip(_rationals(sp, lo), _rationals(sp, hi))]


# -- building Storm models -------------------------------------------------------------------------
def _matrix(sp: Any, vt: Any, mdp: Mdp, dtmc: bool) -> Any:
    from stormpy.datastructures import SparseMatrixBuilder

    rows, cols = mdp.transition_choice, mdp.target
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    if np.any((rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1])):
        raise ValueError("a choice lists the same successor twice; merge it before calling Storm")
    values = _probabilities(sp, vt, mdp)
    values = [values[i] for i in order.tolist()]
    shape: dict[str, Any] = {"rows": mdp.n_choices, "columns": mdp.n_states, "entries": len(values),
                             "force_dimensions": True}
    if not dtmc:
        shape.update(has_custom_row_grouping=True, row_groups=mdp.n_states)
    builder = SparseMatrixBuilder[vt](**shape)
    groups = [] if dtmc else mdp.choice_start[:-1].tolist()
    builder.add_next_values(rows.tolist(), cols.tolist(), values, groups)
    return builder.build()


def _labeling(mdp: Mdp, names: StormNames) -> Any:
    from stormpy.datastructures import BitVector
    from stormpy.models import StateLabeling

    labeling = StateLabeling(mdp.n_states)
    sets = {"init": sorted(set(mdp.initial_states.tolist()))}
    for name, mask in mdp.labels.items():
        sets[names.labels[name]] = np.flatnonzero(mask).tolist()
    for name, states in sets.items():
        labeling.add_label(name)
        labeling.set_states(name, BitVector(mdp.n_states, states))
    return labeling


def _build(mdp: Mdp, exact: bool, dtmc: bool) -> Any:
    sp = _stormpy()
    from stormpy.models import SparseDtmc, SparseMdp, SparseModelComponents, SparseRewardModel

    vt = _value_type(sp, mdp, exact)
    names = storm_names(mdp)
    rewards = {
        names.rewards[name]: SparseRewardModel[vt](optional_state_action_reward_vector=_point_values(sp, vt, r))
        for name, r in mdp.rewards.items()
    }
    components = SparseModelComponents[vt](
        transition_matrix=_matrix(sp, vt, mdp, dtmc), state_labeling=_labeling(mdp, names),
        reward_models=rewards,
    )
    return (SparseDtmc if dtmc else SparseMdp)[vt](components)


def to_storm(mdp: Mdp, *, exact: bool) -> Any:
    """The MDP as a Storm sparse model (labels and rewards renamed by `storm_names`).

    Parameters
    ----------
    mdp
        Any model; a credal one becomes an interval MDP.
    exact
        Build with `stormpy.Rational` (credal: `stormpy.RationalInterval`) from the exact
        rationals; otherwise with floats (credal: `stormpy.Interval`).

    Returns
    -------
    stormpy model
        A ``SparseMdp``; Storm's ``"init"`` label is the support of μ₀.
    """
    return _build(mdp, exact, dtmc=False)


def induced_chain(mdp: Mdp, layer: PolicyLayer, *, exact: bool) -> Any:
    """The Markov chain of a stationary policy as a Storm ``SparseDtmc`` (see `fix_policy`).

    Query it with ``P=? [...]`` / ``R{"r"}=? [...]`` (`storm_property` with ``optimise=None``);
    a credal chain also needs ``nature="minimize"`` or ``"maximize"`` in `check`.
    """
    return _build(fix_policy(mdp, layer), exact, dtmc=True)


# -- writing DRN ---------------------------------------------------------------------------------
def _texts(values: Rationals) -> list[str]:
    """Exact canonical texts (``3``, ``-1/4``), each distinct value formatted once."""
    if values.is_compact and len(values):
        pairs = np.stack([values.num, values.den], axis=1)
        unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
        made = [str(n) if d == 1 else f"{n}/{d}" for n, d in unique.tolist()]
        return [made[i] for i in inverse.ravel().tolist()]
    return [format_rational(f) for f in values.fractions()]


def _uniform_initial(mdp: Mdp) -> None:
    weights = mdp.initial_probability
    first = Fraction(int(weights.num[0]), int(weights.den[0]))
    if any(w != first for w in weights.fractions()):
        raise ValueError("DRN marks initial states with the label init, read as a uniform μ₀, but this "
                         "μ₀ is not uniform over its support; write the model as TOML or JSON instead")


def _drn_action(name: str) -> str:
    if not name or any(ch.isspace() for ch in name) or name.startswith("[") or name == "__NOLABEL__":
        raise ValueError(f"action name {name!r} cannot be written in DRN (a DRN action name is one word); "
                         "rename the action")
    return name


def to_drn(mdp: Mdp) -> str:
    """The model in Storm's explicit DRN format, with exact numbers (``1/3``, intervals ``[1/10, 1/5]``).

    Storm reads it with ``stormpy.build_model_from_drn[T](path)`` (``T`` one of ``float``,
    ``stormpy.Rational``, or for a credal model ``stormpy.Interval``, ``stormpy.RationalInterval``),
    and so does ``proofs`` (`proofs.worldmodel.drn.read_drn`). States are written by their index
    (a reader names them ``"0"``, ``"1"``, …), labels and reward structures renamed as
    `storm_names` does, and r(s, a) as a choice reward. Storm's ``init`` label marks the support of
    μ₀, which readers take as a uniform μ₀. DRN lists labels by state, so a label that marks no
    state is not in the file, and Storm's reader drops a reward structure whose rewards are all 0
    (asking for it then fails with "Missing reward model"). In a credal model a degenerate
    interval [p, p] is written as p.

    Raises
    ------
    ValueError
        μ₀ is not uniform over its support (DRN has no initial distribution), or an action name
        is not one word.

    Examples
    --------
    >>> from proofs.core.errors import Location
    >>> from proofs.worldmodel.build import ChoiceData, ModelData, StateData, build_mdp
    >>> at = Location("example")
    >>> go = ChoiceData("go", ((0, (Fraction(1, 2), Fraction(3, 4))), (1, (Fraction(1, 4), Fraction(1, 2)))),
    ...                 at, {"r": Fraction(1)})
    >>> stay = ChoiceData("stay", ((1, Fraction(1)),), at, {"r": Fraction(0)})
    >>> states = (StateData("s", (go,), at, {}, ("init",)), StateData("t", (stay,), at, {}, ("goal",)))
    >>> mdp = build_mdp(ModelData("example", states, None, at, ("r",), ("init", "goal")))
    >>> print(to_drn(mdp), end="")  # doctest: +NORMALIZE_WHITESPACE
    // written by proofs
    @type: MDP
    @value_type: rational-interval
    @parameters
    <BLANKLINE>
    @reward_models
    r
    @nr_states
    2
    @nr_choices
    2
    @model
    state 0 init
        action go [1]
            0 : [1/2, 3/4]
            1 : [1/4, 1/2]
    state 1 goal
        action stay [0]
            1 : 1
    """
    _uniform_initial(mdp)
    names = storm_names(mdp)
    if mdp.interval is None:
        assert mdp.probability is not None
        numbers = _texts(mdp.probability)
    else:
        low, high = (_texts(v) for v in mdp.interval)
        numbers = [lo if lo == hi else f"[{lo}, {hi}]" for lo, hi in zip(low, high)]
    targets = mdp.target.tolist()
    rewards = [_texts(r) for r in mdp.rewards.values()]
    actions = [_drn_action(name) for name in mdp.action_names]
    choice_action = mdp.choice_action.tolist()
    row_start = mdp.row_start.tolist()
    state_labels: list[list[str]] = [[] for _ in range(mdp.n_states)]
    for s in mdp.initial_states.tolist():
        state_labels[s].append("init")
    for name, mask in mdp.labels.items():
        if names.labels[name] != "init":  # a label `init` equal to μ₀'s support is written once
            for s in np.flatnonzero(mask).tolist():
                state_labels[s].append(names.labels[name])
    lines = [
        "// written by proofs", "@type: MDP",
        f"@value_type: {'rational-interval' if mdp.is_credal else 'rational'}", "@parameters", "",
        "@reward_models", " ".join(names.rewards[name] for name in mdp.rewards),
        "@nr_states", str(mdp.n_states), "@nr_choices", str(mdp.n_choices), "@model",
    ]
    choice = 0
    for s, end in enumerate(mdp.choice_start[1:].tolist()):
        lines.append(" ".join([f"state {s}", *state_labels[s]]))
        for c in range(choice, end):
            reward = f" [{', '.join(r[c] for r in rewards)}]" if rewards else ""
            lines.append(f"\taction {actions[choice_action[c]]}{reward}")
            lines.extend(f"\t\t{targets[i]} : {numbers[i]}" for i in range(row_start[c], row_start[c + 1]))
        choice = end
    return "\n".join(lines) + "\n"


# -- checking --------------------------------------------------------------------------------------
def _environment(sp: Any, model: Any, precision: Value | None, multi_precision: Value | None) -> Any:
    env = sp.environments.default(model)
    if precision is not None:
        env.solver().min_max().precision = sp.Rational(Fraction(precision))
        env.solver().native().precision = sp.Rational(Fraction(precision))
    if multi_precision is not None:
        env.modelchecker().multi().precision = sp.Rational(Fraction(multi_precision))
    return env


def _nature(sp: Any, model: Any, nature: str | None) -> dict[str, Any]:
    if not model.supports_uncertainty:
        if nature is not None:
            raise ValueError("nature applies to interval (credal) models only")
        return {}
    if nature is None:
        if "Dtmc" in type(model).__name__:
            raise ValueError("an interval Markov chain needs nature='minimize' or 'maximize'")
        nature = "robust"
    if nature not in _NATURE:
        raise ValueError(f"nature must be one of {', '.join(_NATURE)}, got {nature!r}")
    return {"uncertainty_resolution_mode": getattr(sp.UncertaintyResolutionMode, nature.upper())}


def _convert(value: Any, exact: bool) -> Value | bool:
    if isinstance(value, bool):
        return value
    if not exact:
        return float(value)
    text = str(value)
    if text in ("inf", "-inf"):
        return float(text)
    return Fraction(text)


def check(
    model: Any, formula: str, *, exact: bool, nature: str | None = None,
    precision: Value | None = None, multi_precision: Value | None = None,
) -> list[Any]:
    """Check one Storm property and return its value at every state.

    Parameters
    ----------
    model
        A Storm model from `to_storm`, `induced_chain` or Storm's own parsers.
    formula
        One property in Storm syntax, e.g. ``'Pmax=? [F "fatal"]'``.
    exact
        The model is a `stormpy.Rational` model: results come back as `Fraction`s (infinite
        values as ``math.inf``). Otherwise floats.
    nature
        For interval models: ``"robust"`` (default for MDPs), ``"cooperative"``, ``"minimize"``
        or ``"maximize"`` (the only choices for interval chains).
    precision, multi_precision
        Solver precision (Storm's default is 1e-6, relative) and multi-objective precision
        (default 1e-4 absolute; 0 with an exact model gives exact values).

    Returns
    -------
    list
        One value per state; for a result Storm computes only at the initial states
        (multi-objective), one value per initial state. Qualitative properties give booleans.

    Raises
    ------
    EngineError
        Storm rejected the property or failed.
    """
    sp = _stormpy()
    is_exact_model = "Rational" in type(model).__name__
    if exact != is_exact_model:
        raise ValueError(f"exact={exact} but the model is {'' if is_exact_model else 'not '}exact")
    try:
        properties = sp.parse_properties(formula)
    except RuntimeError as exc:
        raise EngineError(f"Storm cannot parse {formula!r}: {exc}") from exc
    if len(properties) != 1:
        raise ValueError(f"expected exactly one property, got {len(properties)} in {formula!r}")
    env = _environment(sp, model, precision, multi_precision)
    try:
        result = sp.model_checking(model, properties[0], environment=env, **_nature(sp, model, nature))
    except RuntimeError as exc:
        raise EngineError(f"Storm could not check {formula!r}: {exc}") from exc
    if result.is_quantitative():
        return [_convert(v, exact) for v in result.get_value_vector()]
    truth = result.get_truth_values_vector()
    return [truth.get(i) for i in range(truth.size())]


def check_initial(model: Any, formula: str, *, exact: bool, **options: Any) -> Any:
    """`check` at the model's single initial state (what multi-objective queries are about)."""
    if len(model.initial_states) != 1:
        raise ValueError("the model has several initial states; use check() and initial_value()")
    values = check(model, formula, exact=exact, **options)
    return values[0] if len(values) == 1 else values[model.initial_states[0]]


def storm_value(mdp: Mdp, query: str, *, exact: bool, **options: Any) -> list[Any]:
    """`check` a Storm query on `to_storm(mdp)`: the value at every state of ``mdp``."""
    return check(to_storm(mdp, exact=exact), query, exact=exact, **options)


def initial_value(mdp: Mdp, values: Sequence[Any]) -> Value:
    """Σ μ₀(s)·values[s]: exact when every value needed is a `Fraction`, a float otherwise."""
    pairs = mdp.initial_distribution()
    if all(isinstance(values[s], Fraction) for s, _ in pairs):
        return sum((p * values[s] for s, p in pairs), Fraction(0))
    return math.fsum(float(p) * float(values[s]) for s, p in pairs)


# -- model transformations (no Storm needed) ----------------------------------------------------------
@dataclass
class _ChainParts:
    """Per-state successor rows and rewards of a chain, collected in any state order."""

    sources: list[IntArray]
    targets: list[IntArray]
    columns: list[list[Rationals]]  # (probability,) or (low, high), each as a list of parts
    rewards: dict[str, list[tuple[IntArray, Rationals]]]

    def add(self, states: IntArray, lengths: IntArray, targets: IntArray, numbers: Sequence[Rationals]) -> None:
        self.sources.append(np.repeat(states, lengths))
        self.targets.append(targets)
        for column, part in zip(self.columns, numbers):
            column.append(part)

    def add_rewards(self, states: IntArray, values: Mapping[str, Rationals]) -> None:
        for name, part in values.items():
            self.rewards[name].append((states, part))


def _numbers(mdp: Mdp) -> tuple[Rationals, ...]:
    """The per-transition numbers: ``(probability,)``, or ``(low, high)`` for a credal model."""
    if mdp.interval is not None:
        return mdp.interval
    assert mdp.probability is not None
    return (mdp.probability,)


def fix_policy(mdp: Mdp, layer: PolicyLayer) -> Mdp:
    """The model restricted to a stationary decision rule: one choice per state.

    A deterministic state keeps its chosen action (successors and rewards unchanged); a
    randomized state gets one choice mixing its actions' rows exactly (action name ``a+b``);
    a state where the policy is undefined becomes absorbing with reward 0 (action ``undefined``)
    — a valid policy is defined wherever it can go, so those states are never reached.

    Raises
    ------
    EngineError
        A randomized decision on a credal model (mixing interval rows is not exact).
    """
    counts = np.diff(layer.start)
    if mdp.is_credal and np.any(counts > 1):
        raise EngineError("a randomized policy on a credal model has no exact interval chain")
    numbers = _numbers(mdp)
    parts = _ChainParts([], [], [[] for _ in numbers], {name: [] for name in mdp.rewards})
    names = list(mdp.action_names)
    action_of = np.zeros(mdp.n_states, dtype=np.int32)
    single = np.flatnonzero(counts == 1)
    chosen = layer.choice[layer.start[single]]
    lengths = np.diff(mdp.row_start)[chosen]
    positions = concat_ranges(mdp.row_start[chosen], mdp.row_start[chosen] + lengths)
    parts.add(single, lengths, mdp.target[positions], [col.take(positions) for col in numbers])
    parts.add_rewards(single, {name: r.take(chosen) for name, r in mdp.rewards.items()})
    action_of[single] = mdp.choice_action[chosen]
    for s in np.flatnonzero(counts > 1).tolist():
        _add_mixed(mdp, layer, s, parts)
        action_of[s] = _action_index(names, "+".join(mdp.action(c) for c, _ in layer.distribution(s)))
    undefined = np.flatnonzero(counts == 0)
    ones = Rationals.from_fractions([1] * len(undefined))
    parts.add(undefined, np.ones(len(undefined), dtype=np.int64), undefined, [ones] * len(numbers))
    parts.add_rewards(undefined, {name: Rationals.zeros(len(undefined)) for name in mdp.rewards})
    if len(undefined):
        action_of[undefined] = _action_index(names, "undefined")
    return _chain_mdp(mdp, parts, tuple(names), action_of)


def _add_mixed(mdp: Mdp, layer: PolicyLayer, state: int, parts: _ChainParts) -> None:
    """Add the exact mixture of a randomized decision's rows (and rewards) at ``state``."""
    successors: dict[int, Fraction] = {}
    rewards = {name: Fraction(0) for name in mdp.rewards}
    for choice, weight in layer.distribution(state):
        for target, p in mdp.successors(choice):
            successors[target] = successors.get(target, Fraction(0)) + weight * p
        for name, r in mdp.rewards.items():
            rewards[name] += weight * r[choice]
    rows = sorted(successors.items())
    targets = np.array([t for t, _ in rows], dtype=np.int64)
    parts.add(np.array([state]), np.array([len(rows)]), targets, [Rationals.from_fractions(p for _, p in rows)])
    parts.add_rewards(np.array([state]), {k: Rationals.from_fractions([v]) for k, v in rewards.items()})


def _action_index(names: list[str], name: str) -> int:
    if name not in names:
        names.append(name)
    return names.index(name)


def _by_state(parts: Sequence[tuple[IntArray, Rationals]]) -> Rationals:
    order = np.argsort(np.concatenate([s for s, _ in parts]), kind="stable")
    return Rationals.concatenate([v for _, v in parts]).take(order)


def _chain_mdp(mdp: Mdp, parts: _ChainParts, action_names: tuple[str, ...], action_of: npt.NDArray[np.int32]) -> Mdp:
    """Assemble a one-choice-per-state `Mdp` from the collected rows."""
    source = np.concatenate(parts.sources).astype(np.int64)
    order = np.argsort(source, kind="stable")
    n = mdp.n_states
    row_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=n), out=row_start[1:])
    columns = [Rationals.concatenate(col).take(order) for col in parts.columns]
    return Mdp(
        states=mdp.states, choice_start=np.arange(n + 1, dtype=np.int64), action_names=action_names,
        choice_action=action_of, row_start=row_start,
        target=np.concatenate(parts.targets).astype(np.int64)[order],
        probability=columns[0] if mdp.interval is None else None,
        rewards={name: _by_state(p) for name, p in parts.rewards.items()}, labels=mdp.labels,
        initial_states=mdp.initial_states, initial_probability=mdp.initial_probability,
        interval=None if mdp.interval is None else (columns[0], columns[1]), source=mdp.source,
    )


def stop_label(mdp: Mdp) -> str:
    """The name of the sink label that `geometric_unrolling` adds to ``mdp``: ``stop`` if free."""
    return _fresh("stop", mdp.labels)


def _scale(values: Rationals, factor: Fraction) -> Rationals:
    """``factor * values`` exactly, staying in int64 when it cannot overflow."""
    a, b = factor.numerator, factor.denominator
    if values.is_compact and len(values):
        big_num = int(np.max(np.abs(values.num))) * abs(a) >= _INT64_SAFE
        if not big_num and int(np.max(values.den)) * b < _INT64_SAFE:
            num, den = values.num.astype(np.int64) * np.int64(a), values.den.astype(np.int64) * np.int64(b)
            g = np.gcd(num, den)
            return Rationals(num // g, den // g)
    return Rationals.from_fractions(f * factor for f in values.fractions())


def _scatter(size: int, parts: Sequence[tuple[IntArray, Rationals]]) -> Rationals:
    """A vector of ``size`` rationals assembled from ``(positions, values)`` parts covering it."""
    compact = all(v.is_compact for _, v in parts)
    num = np.zeros(size, dtype=np.int64 if compact else object)
    den = np.ones(size, dtype=np.int64 if compact else object)
    for positions, values in parts:
        num[positions], den[positions] = values.num, values.den
    return Rationals(num, den)


def _unrolled_names(mdp: Mdp) -> tuple[str, ...]:
    taken = set(mdp.states)
    suffix = "@last"
    while any(f"{name}{suffix}" in taken for name in mdp.states):
        suffix = "@" + suffix
    last = [f"{name}{suffix}" for name in mdp.states]
    return (*mdp.states, *last, _fresh("@stop", taken | set(last)))


def geometric_unrolling(mdp: Mdp, gamma: Fraction) -> Mdp:
    """The stopping model of the geometric horizon: continue with probability γ after each step.

    States ``(s, live)`` (indices ``0..n-1``, the original names), ``(s, last)`` (``n..2n-1``,
    names ``s@last``) and a sink ⊥ (index ``2n``, label `stop_label`). From ``(s, live)``
    action a goes to ``(s', live)`` with probability γ·P(s'|s,a) and to ``(s', last)`` with
    (1-γ)·P(s'|s,a), earning r(s, a). ``(s, last)`` is the episode's final state s_T: it keeps
    the labels of s and has one action (``stop``, reward 0) to ⊥; ⊥ is absorbing with reward 0
    and no other label. μ₀ is carried over on the live copies.

    Then, from the live copies: J (the discounted return) is the total reward ``[C]``; an
    episode's ``F φ`` is ``F (φ & !"stop")``; ``φ U ψ`` is ``φ U (ψ & !"stop")``; ``G φ`` is
    ``G (φ | "stop")``; ``R{"c"} [C]`` is the total reward; step bounds are unchanged (⊥ comes one
    step after s_T and satisfies no user label). `storm_path` applies these rewrites.

    Storm's total reward refuses negative rewards. Every policy has E[T] = 1/(1-γ), so adding a
    constant c to r adds exactly c/(1-γ) to J: shift, check, and shift back.

    Raises
    ------
    EngineError
        For a credal model: splitting interval rows by γ would let nature change the stopping
        probability, so the construction is not exact there.
    """
    if mdp.interval is not None or mdp.probability is None:
        raise EngineError("the geometric unrolling of a credal model is not exact")
    gamma = Fraction(gamma)
    if not 0 < gamma < 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    n, m, t = mdp.n_states, mdp.n_choices, mdp.n_transitions
    tc = mdp.transition_choice
    live_pos = mdp.row_start[tc] + np.arange(t, dtype=np.int64)
    last_pos = mdp.row_start[tc + 1] + np.arange(t, dtype=np.int64)
    tail = 2 * t + np.arange(n + 1, dtype=np.int64)  # the (s, last) -> ⊥ and ⊥ -> ⊥ transitions
    target = np.empty(2 * t + n + 1, dtype=np.int64)
    target[live_pos], target[last_pos], target[tail] = mdp.target, mdp.target + n, 2 * n
    probability = _scatter(len(target), [
        (live_pos, _scale(mdp.probability, gamma)), (last_pos, _scale(mdp.probability, 1 - gamma)),
        (tail, Rationals.from_fractions([1] * (n + 1))),
    ])
    labels = {name: np.concatenate([mask, mask, [False]]) for name, mask in mdp.labels.items()}
    labels[stop_label(mdp)] = np.arange(2 * n + 1) == 2 * n
    return Mdp(
        states=_unrolled_names(mdp),
        choice_start=np.concatenate([mdp.choice_start, m + np.arange(1, n + 2, dtype=np.int64)]),
        action_names=(*mdp.action_names, _fresh("stop", mdp.action_names)),
        choice_action=np.concatenate([mdp.choice_action, np.full(n + 1, len(mdp.action_names))]).astype(np.int32),
        row_start=np.concatenate([2 * mdp.row_start, 2 * t + np.arange(1, n + 2, dtype=np.int64)]),
        target=target, probability=probability,
        rewards={name: Rationals.concatenate([r, Rationals.zeros(n + 1)]) for name, r in mdp.rewards.items()},
        labels=labels, initial_states=mdp.initial_states, initial_probability=mdp.initial_probability,
        source=mdp.source,
    )


# -- property text -----------------------------------------------------------------------------------
def _simplify(f: StateFormula, labels: Mapping[str, str] | None) -> StateFormula:
    """Rename labels and fold ``true``/``false`` away (Storm reads ``!true`` as a label name)."""
    if isinstance(f, Label):
        return Label(labels.get(f.name, f.name) if labels else f.name)
    if isinstance(f, (Truth, Atom)):  # Storm reads a variable atom (s=9) as the program does
        return f
    if isinstance(f, Not):
        inner = _simplify(f.operand, labels)
        if isinstance(inner, Truth):
            return Truth(not inner.value)
        if isinstance(inner, Not):
            return inner.operand
        if isinstance(inner, (And, Or)) and (isinstance(inner.left, Not) or isinstance(inner.right, Not)):
            dual = And if isinstance(inner, Or) else Or  # De Morgan, to cancel a double negation
            return _simplify(dual(Not(inner.left), Not(inner.right)), None)
        return Not(inner)
    left, right = _simplify(f.left, labels), _simplify(f.right, labels)
    absorbing = isinstance(f, Or)  # true absorbs an Or, false absorbs an And
    for a, b in ((left, right), (right, left)):
        if isinstance(a, Truth):
            return Truth(absorbing) if a.value == absorbing else b
    return Or(left, right) if isinstance(f, Or) else And(left, right)


def storm_state(formula: StateFormula, labels: Mapping[str, str] | None = None) -> str:
    """A state formula in Storm syntax, labels renamed by ``labels`` (see `StormNames.labels`).

    Examples
    --------
    >>> from proofs.core.formula import And, Label, Not, Truth
    >>> storm_state(And(Label("goal"), Not(Truth(False))))
    '"goal"'
    """
    simple = _simplify(formula, labels)
    return f"({simple})" if isinstance(simple, (And, Or)) else str(simple)


def _cap(bound: int | None, horizon: int | None) -> int | None:
    """SPEC §2: with a finite horizon H, ``<=k`` reads ``<=min(k, H)`` and no bound reads ``<=H``."""
    if horizon is None:
        return bound
    return horizon if bound is None else min(bound, horizon)


def _steps(bound: int | None) -> str:
    return "" if bound is None else f"<={bound}"


def storm_path(
    path: PathFormula, *, horizon: int | None = None, stop: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """A path formula in Storm syntax, read on the episode (SPEC §2).

    Parameters
    ----------
    horizon
        A finite horizon H caps every step bound at H.
    stop
        For the geometric horizon: the sink label of `geometric_unrolling`; targets must then
        avoid it and invariants may hold there.
    labels
        Renaming of labels (`StormNames.labels`).

    Storm has no bounded ``G``, so ``G<=k φ`` is printed as ``!(F<=k !φ)``.

    Examples
    --------
    >>> from proofs.core.formula import Eventually, Globally, Label
    >>> storm_path(Eventually(Label("fatal")), horizon=40)
    'F<=40 "fatal"'
    >>> storm_path(Globally(Label("safe"), 5))
    '!(F<=5 !"safe")'
    >>> storm_path(Eventually(Label("fatal")), stop="stop")
    'F ("fatal" & !"stop")'
    """
    bound = _cap(path.bound, horizon)
    if isinstance(path, Globally):
        body = path.body if stop is None else Or(path.body, Label(stop))
        if bound is None:
            return f"G {storm_state(body, labels)}"
        return f"!(F{_steps(bound)} {storm_state(Not(body), labels)})"
    left, right = (Truth(True), path.body) if isinstance(path, Eventually) else (path.left, path.right)
    if stop is not None:
        right = And(right, Not(Label(stop)))
    before, target = storm_state(left, labels), storm_state(right, labels)
    if before == "true":
        return f"F{_steps(bound)} {target}"
    return f"{before} U{_steps(bound)} {target}"


def _operator(kind: str, optimise: str | None) -> str:
    if optimise not in ("max", "min", None):
        raise ValueError(f"optimise must be 'max', 'min' or None, got {optimise!r}")
    return f"{kind}{optimise or ''}=?"


def _reward(name: str, names: StormNames | None) -> str:
    return f'R{{"{names.rewards[name] if names else name}"}}'


def _objective_body(objective: Objective) -> str:
    if objective.horizon is None:
        return "C"
    discount = "" if objective.discount == 1 else f" discount={format_rational(objective.discount)}"
    return f"C<={objective.horizon}{discount}"


def _constraint_body(constraint: Constraint, objective: Objective, names: StormNames | None, stop: str) -> str:
    horizon = objective.horizon
    if isinstance(constraint, RewardConstraint):
        return f"C{_steps(_cap(constraint.bound, horizon))}"
    return storm_path(constraint.path, horizon=horizon, stop=stop if objective.is_geometric else None,
                      labels=names.labels if names else None)


def storm_property(
    constraint: Constraint | None, objective: Objective, optimise: str | None = "max", *,
    names: StormNames | None = None, stop: str = "stop",
) -> str:
    """The Storm query for a constraint's quantity (or, with ``constraint=None``, for J).

    Parameters
    ----------
    constraint
        A constraint of Φ; its comparison and threshold are dropped (the query asks the value).
    objective
        Fixes the episode: a finite horizon caps step bounds (SPEC §2); a geometric one means
        the query is for `geometric_unrolling` of the model (``stop`` = its `stop_label`), and J
        is its total reward ``[C]``.
    optimise
        ``"max"``/``"min"`` over policies (an MDP), or ``None`` for a Markov chain.
    names
        The model's `storm_names`, when a name needs renaming.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from proofs.core.formula import Comparison, Eventually, Label, ProbabilityConstraint
    >>> storm_property(None, Objective("r", 40, Fraction(9, 10)))
    'R{"r"}max=? [C<=40 discount=9/10]'
    >>> fatal = ProbabilityConstraint(Comparison.LE, Fraction(1, 100), Eventually(Label("fatal")))
    >>> storm_property(fatal, Objective("r", 40), None)
    'P=? [F<=40 "fatal"]'
    """
    if constraint is None:
        return f"{_reward(objective.reward, names)}{_operator('', optimise)} [{_objective_body(objective)}]"
    body = _constraint_body(constraint, objective, names, stop)
    if isinstance(constraint, RewardConstraint):
        return f"{_reward(constraint.reward, names)}{_operator('', optimise)} [{body}]"
    return f"{_operator('P', optimise)} [{body}]"


def _number(value: Value) -> str:
    """A number as Storm's property parser reads it exactly. Its integer literals must fit 64 bits,
    so a rational with a longer numerator or denominator is written as a quotient of decimals
    (``n.0/d.0``), which Storm reads as exact rationals too."""
    if not isinstance(value, Fraction):
        return repr(float(value))
    if max(abs(value.numerator), value.denominator) < 2**63:
        return format_rational(value)
    return f"{value.numerator}.0/{value.denominator}.0"


def storm_bound(
    constraint: Constraint, objective: Objective, *, names: StormNames | None = None, stop: str = "stop",
) -> str:
    """The constraint itself in Storm syntax (for ``multi(...)``), e.g. ``P<=1/100 [F<=40 "fatal"]``."""
    body = _constraint_body(constraint, objective, names, stop)
    relation = f"{constraint.comparison.value}{_number(constraint.threshold)}"
    if isinstance(constraint, RewardConstraint):
        return f"{_reward(constraint.reward, names)}{relation} [{body}]"
    return f"P{relation} [{body}]"


def storm_objective_bound(
    objective: Objective, comparison: Comparison, value: Value, *, names: StormNames | None = None,
) -> str:
    """``J >= v`` in Storm syntax, e.g. ``R{"r"}>=9/10 [C<=50]`` (Storm's ``multi`` rejects a discount)."""
    return f"{_reward(objective.reward, names)}{comparison.value}{_number(value)} [{_objective_body(objective)}]"


def storm_multi(*objectives: str) -> str:
    """``multi(a, b, ...)``: Storm's multi-objective query over the given properties."""
    if len(objectives) < 2:
        raise ValueError("a multi-objective query needs at least two properties")
    return f"multi({', '.join(objectives)})"
