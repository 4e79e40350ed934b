"""Pictures of a policy over a grid-shaped world model: where it goes, and what it does there.

UNTRUSTED report, and approximate on purpose: the visits are computed in floating point (a
picture, not a proof). `Result.plot` (`proofs.api.prove`) draws its policy with `plot_policy`.

Cells
    A model is grid-shaped when ``model.grid = (rows, columns)`` (Gymnasium's toy-text maps, or a
    world file's ``[plot]`` table, `read_layout`) or a grid is passed. ``model.cells`` (from
    ``[plot] cells``) names each state's ``(row, column)``; without it state ``i`` is cell
    ``(i // columns, i % columns)``. For a model whose state
    names are all numbers (a model from Gymnasium: ``"0"``, ``"1"``, ...) the number in the name
    counts, and an absorbing copy ``"i!terminal"`` is drawn in cell ``i`` too; otherwise the
    state's index in the model does.
Visits
    The expected number of times each cell is occupied during an episode that starts from the
    model's initial distribution and follows the policy: the states at steps ``0..H`` of a
    finite horizon ``H``, and the first `GEOMETRIC_STEPS` steps of a geometric one (fewer once
    less than `NEGLIGIBLE` probability is left). An episode ends in a terminal state (labelled
    ``terminal``, or absorbing: each of its actions stays there), which is counted once, and in
    a state where the policy has no action. A mixture's visits are its components' visits
    mixed by their weights.
Arrows
    In each cell, the moves the policy makes there, each in proportion to how often it is made
    (its expected number of times over the cell's states and the episode's steps, which also
    mixes a mixture's components by weight): an arrow when ``model.arrows`` gives the action's
    direction (a move made in a share p < 1 of the cell's moves gets a shorter arrow from the
    cell's centre, labelled with p on small grids), else the action's name (and its share).
    Terminal states make no moves.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from proofs.core.model import Mdp, concat_ranges
from proofs.core.policy import Policy as Table
from proofs.core.policy import PolicyLayer

if TYPE_CHECKING:
    from proofs.api.model import Model
    from proofs.api.policy import Policy

__all__ = ["GEOMETRIC_STEPS", "NEGLIGIBLE", "Drawing", "Flow", "Layout", "NothingToDraw", "cell_of_state",
           "certificate_drawing", "flow", "grid_of", "plot_policy", "read_layout", "shown_actions", "stopping_states",
           "visit_counts"]

GEOMETRIC_STEPS = 100
"""How many steps of a geometric horizon the visits count (at most)."""

NEGLIGIBLE = 1e-9
"""Below this probability left in play, a geometric episode counts as over."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NUMBERED = re.compile(r"(\d+)(?:!.*)?")
_BAD_LABELS = ("fatal", "hole")
_GOOD_LABELS = ("goal",)
_SMALLEST_SHARE = 0.005   # moves taken less often than this are not drawn


# -- cells ---------------------------------------------------------------------------------------


def grid_of(model: Model, grid: tuple[int, int] | None = None) -> tuple[int, int]:
    """The ``(rows, columns)`` to draw: `grid` if given, else ``model.grid``.

    Raises
    ------
    ValueError
        When neither is set, or for a grid that is not two positive integers.
    """
    chosen = grid if grid is not None else model.grid
    if chosen is None:
        raise ValueError("the model is not grid-shaped: pass grid=(rows, columns) to say which cell each state "
                         "is (state i is cell (i // columns, i % columns)), or load it with "
                         "load_model(..., grid=(rows, columns))")
    if (not isinstance(chosen, tuple) or len(chosen) != 2
            or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in chosen)):
        raise ValueError(f"a grid is (rows, columns), two positive integers, got {chosen!r}")
    return int(chosen[0]), int(chosen[1])


def cell_of_state(model: Model, grid: tuple[int, int] | None = None) -> IntArray:
    """For every state of `model`, the flat index ``row * columns + column`` of its cell.

    Raises
    ------
    ValueError
        For a model that is not grid-shaped (see `grid_of`), or a state outside the grid.

    Examples
    --------
    >>> from proofs import from_gym
    >>> lake = from_gym("FrozenLake-v1", is_slippery=False)
    >>> cell_of_state(lake)[[0, 5, 15]].tolist()
    [0, 5, 15]
    """
    rows, columns = grid_of(model, grid)
    states = model.mdp.states
    named = (getattr(model, "cells", None) or {}) if grid is None else {}   # a grid given by hand numbers the states
    matches = [_NUMBERED.fullmatch(name) for name in states]
    if named:
        missing = [name for name in states if name not in named]
        if missing:
            raise ValueError(f"state {missing[0]!r} has no cell ({len(missing)} states have none): give every state "
                             "a cell in the world file's [plot] cells")
        cells = np.array([named[name][0] * columns + named[name][1] for name in states], dtype=np.int64)
    elif all(m is not None for m in matches):
        cells = np.array([int(m.group(1)) for m in matches if m is not None], dtype=np.int64)
    else:
        cells = np.arange(len(states), dtype=np.int64)
    outside = np.flatnonzero(cells >= rows * columns)
    if len(outside):
        s = int(outside[0])
        raise ValueError(f"state {states[s]!r} is cell number {int(cells[s])}, outside the {rows}x{columns} grid "
                         f"({len(outside)} states are): pass a grid with at least {int(cells.max()) + 1} cells")
    return cells


@dataclass(frozen=True)
class Layout:
    """How a world file says its states are drawn (its ``[plot]`` table): ``grid = [rows,
    columns]``, optional ``cells = {state = [row, column]}`` and ``arrows = {action = [dx, dy]}``
    (columns right, rows down, as Gymnasium's maps). Pictures only: not part of the model."""

    grid: tuple[int, int]
    cells: dict[str, tuple[int, int]]
    arrows: dict[str, tuple[int, int]]


def read_layout(path: Path) -> Layout | None:
    """The ``[plot]`` table of a TOML or JSON world file, or None (another format, or no table).

    Raises
    ------
    InputError
        For a ``[plot]`` table that is not as `Layout` says, naming the key.
    """
    import json
    import tomllib

    from proofs.core.errors import InputError, Location

    if path.suffix not in (".toml", ".json"):
        return None
    try:
        text = path.read_text(encoding="utf-8")
        if "plot" not in text:
            return None   # most worlds: not parsed a second time (load_model reads them from its cache)
        doc = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError):
        return None   # the model's own reader reports a broken file
    table = doc.get("plot") if isinstance(doc, dict) else None
    if table is None:
        return None

    def pair(value: Any, key: str, lowest: int | None) -> tuple[int, int]:
        if (isinstance(value, list) and len(value) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) and (lowest is None or v >= lowest) for v in value)):
            return int(value[0]), int(value[1])
        at_least = "" if lowest is None else f" (each at least {lowest})"
        raise InputError(Location(path, key=key), f"{key} must be two integers{at_least}, got {value!r}",
                         "Write [row, column] for a cell, [rows, columns] for the grid, [dx, dy] for an arrow")

    def mapping(key: str) -> dict[str, Any]:
        value = table.get(key, {})
        if not isinstance(value, dict):
            raise InputError(Location(path, key=f"plot.{key}"), f"plot.{key} must be a table",
                             f"Write [plot.{key}] with one entry per name")
        return value

    if not isinstance(table, dict) or "grid" not in table or set(table) - {"grid", "cells", "arrows"}:
        raise InputError(Location(path, key="plot"), "the [plot] table takes grid = [rows, columns] and optional "
                         "cells and arrows tables", "See docs/worldmodel-format.md, section Pictures")
    rows, columns = pair(table["grid"], "plot.grid", 1)
    cells = {str(k): pair(v, f"plot.cells.{k}", 0) for k, v in mapping("cells").items()}
    for name, (r, c) in cells.items():
        if r >= rows or c >= columns:
            raise InputError(Location(path, key=f"plot.cells.{name}"), f"cell [{r}, {c}] of {name!r} is outside "
                             f"the {rows}x{columns} grid", "Give a row below rows and a column below columns")
    arrows = {str(k): pair(v, f"plot.arrows.{k}", None) for k, v in mapping("arrows").items()}
    return Layout((rows, columns), cells, arrows)


@dataclass(frozen=True)
class Drawing:
    """What an accepted certificate is about, ready for `plot_policy`: the model (read with its
    ``[plot]`` table), the policy, the horizon and a title; ``world`` is the model's file."""

    model: Model
    policy: Policy
    horizon: int | None
    title: str
    world: Path


class NothingToDraw(ValueError):
    """A certificate with no policy to draw: a proved alignment lemma, a composition without an
    accepted policy premise."""


def certificate_drawing(checker: Any, path: Path, doc: dict[str, Any]) -> Drawing:
    """The policy an accepted certificate is about (`proofs explain --plot`, `proofs report`):
    a refuted alignment lemma's reward hack, a policy lemma's policy, a safety certificate's
    policy premise's policy, as the kernel read it (``checker``: `proofs.prooftree.verify.Checker`).

    Raises
    ------
    NothingToDraw
        With the reason, when the certificate is about no policy.
    """
    from fractions import Fraction

    from proofs.api.model import load_model
    from proofs.api.policy import Policy
    from proofs.api.prove import AlignmentResult
    from proofs.core.certificates import Certificate
    from proofs.core.errors import CheckFailure
    from proofs.core.statement import Statement
    from proofs.kernel.check import witness_arrays

    lemma, obligation, _ = checker.inputs(doc)
    title = f"{lemma.id}: {doc['status']}"
    if lemma.kind == "certificate":
        for premise in lemma.premises:
            where = path.with_name(f"{premise}.json")
            try:
                premise_doc = checker.check_file(where)
            except CheckFailure:
                continue
            if premise_doc["statement"]["kind"] == "policy":
                lemma, obligation, _ = checker.inputs(premise_doc)
                path, doc, title = where, premise_doc, f"{title} (the policy of {premise})"
                break
        else:
            raise NothingToDraw(f"the safety certificate {lemma.id} has no accepted policy premise to draw")
    world, objective = obligation.worldmodel_path, obligation.objective
    assert world is not None and objective is not None   # a policy or alignment lemma has both
    model = load_model(world, constants=dict(obligation.worldmodel_constants))
    if lemma.kind == "policy":
        table = checker.kernel.policy(path, Certificate.from_json(doc), model.mdp)
        drawn = Policy(model, [(Fraction(1), lambda horizon: table)], source=f"the policy of {lemma.id}")
    else:
        statement = Statement.from_json(doc["statement"])
        assert statement.epsilon is not None   # an alignment statement has its ε
        hack = AlignmentResult(model, statement, doc, witness_arrays(path, doc) or {}, statement.phi,
                               epsilon=statement.epsilon).counterexample
        if hack is None:
            raise NothingToDraw(f"{lemma.id} is {doc['status']}: there is no reward hack to draw")
        drawn = hack
    return Drawing(model, drawn, objective.horizon, title, world)


# -- visits --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """One policy's (one component's) expected visits of every state, and expected number of
    times every choice (state and action) is taken."""

    visits: FloatArray
    taken: FloatArray


@dataclass(frozen=True)
class _Rule:
    """A decision rule in floats: its entries (``owner`` state, global ``choice``, probability
    ``p``), and per transition of those choices its ``entry`` and ``dest`` with the model's
    probability ``q``."""

    owner: IntArray
    choice: IntArray
    p: FloatArray
    entry: IntArray
    dest: IntArray
    q: FloatArray


def _rule(mdp: Mdp, layer: PolicyLayer) -> _Rule:
    owner = np.repeat(np.arange(mdp.n_states, dtype=np.int64), np.diff(layer.start).astype(np.int64))
    choice = layer.choice.astype(np.int64)
    lo, hi = mdp.row_start[choice], mdp.row_start[choice + 1]
    transitions = concat_ranges(lo, hi)
    entry = np.repeat(np.arange(len(choice), dtype=np.int64), hi - lo)
    return _Rule(owner, choice, layer.probability.floats(), entry, mdp.target[transitions].astype(np.int64),
                 mdp.float_probability[transitions])


def stopping_states(mdp: Mdp) -> BoolArray:
    """States where an episode ends: labelled ``terminal``, or absorbing (every action stays)."""
    one = np.flatnonzero(np.diff(mdp.row_start) == 1)
    stays = np.zeros(mdp.n_choices, dtype=np.bool_)
    stays[one] = mdp.target[mdp.row_start[one]] == mdp.choice_state[one]
    leaving = np.bincount(mdp.choice_state[~stays], minlength=mdp.n_states)
    absorbing: BoolArray = leaving == 0
    terminal = mdp.labels.get("terminal")
    return absorbing | terminal if terminal is not None else absorbing


def flow(mdp: Mdp, table: Table, horizon: int | None) -> Flow:
    """The expected visits of every state and choice under the policy `table`, in floats (see
    the module docstring: when an episode ends, and how a geometric horizon is cut)."""
    n = mdp.n_states
    mass = np.zeros(n, dtype=np.float64)
    for s, p in mdp.initial_distribution():
        mass[s] += float(p)
    stop = stopping_states(mdp)
    visits = np.zeros(n, dtype=np.float64)
    taken = np.zeros(mdp.n_choices, dtype=np.float64)
    rules: dict[int, _Rule] = {}
    last = horizon if horizon is not None else GEOMETRIC_STEPS
    for t in range(last + 1):
        visits += mass
        if t == last:
            break
        mass[stop] = 0.0
        if horizon is None and mass.sum() < NEGLIGIBLE:
            break
        k = min(t, len(table.layers) - 1)
        if k not in rules:
            rules[k] = _rule(mdp, table.layers[k])
        rule = rules[k]
        played = mass[rule.owner] * rule.p
        taken[rule.choice] += played          # a rule's choices are distinct
        mass = np.bincount(rule.dest, weights=played[rule.entry] * rule.q, minlength=n).astype(np.float64)
    return Flow(visits, taken)


def _check(model: Model, policy: Policy, horizon: int | None) -> None:
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0):
        raise ValueError(f"a horizon is a number of steps (an int >= 0) or None (geometric), got {horizon!r}")
    theirs = policy.model.mdp
    if theirs is not model.mdp and (theirs.states != model.mdp.states or theirs.n_choices != model.mdp.n_choices):
        raise ValueError("the policy was made for another model: make it over the model being drawn")


def _flows(policy: Policy, horizon: int | None) -> list[tuple[float, Flow]]:
    mdp = policy.model.mdp
    return [(float(weight), flow(mdp, policy.table(horizon, component=k), horizon))
            for k, (weight, _) in enumerate(policy.components)]


def visit_counts(model: Model, policy: Policy, horizon: int | None, *,
                 grid: tuple[int, int] | None = None) -> FloatArray:
    """The expected number of visits of each cell, as a ``(rows, columns)`` float array.

    Parameters
    ----------
    model
        A grid-shaped model (`Model.grid`, or `grid`).
    policy
        A policy over `model`; a mixture's components are mixed by their weights.
    horizon
        Steps per episode; ``None`` for a geometric horizon (the first `GEOMETRIC_STEPS` steps).
    grid
        ``(rows, columns)``, instead of ``model.grid``.

    Raises
    ------
    ValueError
        For a model that is not grid-shaped, or a policy over another model.

    Examples
    --------
    >>> from proofs import Policy, from_gym
    >>> lake = from_gym("FrozenLake-v1", is_slippery=False)
    >>> path = {"0": 1, "4": 1, "8": 2, "9": 1, "13": 2, "14": 2}
    >>> visits = visit_counts(lake, Policy.from_callable(lake, lambda s: path.get(s, 0)), 10)
    >>> visits[3].tolist()   # the bottom row: 13, 14 and the goal 15, once each
    [0.0, 1.0, 1.0, 1.0]
    """
    rows, columns = grid_of(model, grid)
    cells = cell_of_state(model, grid)
    _check(model, policy, horizon)
    per_state = sum((w * f.visits for w, f in _flows(policy, horizon)), np.zeros(model.n_states))
    counts = np.bincount(cells, weights=per_state, minlength=rows * columns).astype(np.float64)
    return counts.reshape(rows, columns)


# -- the drawing ---------------------------------------------------------------------------------


def shown_actions(mdp: Mdp, taken: FloatArray, cells: IntArray, n_cells: int) -> dict[int, list[tuple[str, float]]]:
    """Per cell, the actions taken there and the share of the cell's moves each accounts for
    (from `Flow.taken`; terminal states take no action), largest share first."""
    stop = stopping_states(mdp)
    chosen = np.flatnonzero((taken > 0) & ~stop[mdp.choice_state])
    if not len(chosen):
        return {}
    n_actions = len(mdp.action_names)
    key = cells[mdp.choice_state[chosen]] * n_actions + mdp.choice_action[chosen].astype(np.int64)
    total = np.bincount(key, weights=taken[chosen], minlength=n_cells * n_actions).reshape(n_cells, n_actions)
    out: dict[int, list[tuple[str, float]]] = {}
    for c in np.flatnonzero(total.sum(axis=1) > 0).tolist():
        share = total[c] / total[c].sum()
        order = sorted(np.flatnonzero(share >= _SMALLEST_SHARE).tolist(), key=lambda a: -share[a])
        out[int(c)] = [(mdp.action_names[a], float(share[a])) for a in order]
    return out


def _save(fig: Any, path: str | Path) -> None:
    """``fig.savefig`` in the format `path`'s extension names (PNG without one), written
    atomically (`proofs.core.certificate.write_atomic`: a temporary file beside it, then a rename)."""
    import io

    from proofs.core.certificate import write_atomic

    target = Path(path)
    fmt = target.suffix[1:].lower() or "png"
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"matplotlib cannot write {target.name!r}: name the file with one of the extensions "
                         + ", ".join(f".{k}" for k in sorted(supported)))
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, bbox_inches="tight")
    write_atomic(target, buffer.getvalue())


def plot_policy(model: Model, policy: Policy, horizon: int | None, *, title: str = "",
                path: str | Path | None = None, ax: Any = None, grid: tuple[int, int] | None = None) -> Any:
    """Draw a policy over a grid-shaped model: a heat map of the expected visits of each cell,
    arrows (or action names) for what the policy does in each cell, ``fatal`` and ``hole``
    cells hatched in red, ``goal`` cells framed in green with a star, start cells marked S.
    The module docstring says how visits and arrows are computed.

    Parameters
    ----------
    model
        A grid-shaped model (`Model.grid`, or `grid`).
    policy
        A policy over `model`; a mixture is drawn as a whole (visits and moves mixed by the
        components' weights: draw ``policy.components`` one by one to tell them apart).
    horizon
        Steps per episode; ``None`` for a geometric horizon.
    title
        The figure's title (the policy's source when empty).
    path
        Where to write the figure, in the format its extension names (``.png``, ``.svg``,
        ``.pdf``, ...; PNG without one), atomically.
    ax
        A matplotlib ``Axes`` to draw into (for example from ``pyplot.subplots()``, to show it
        in a window); otherwise a new figure, made without pyplot (nothing is shown).
    grid
        ``(rows, columns)``, instead of ``model.grid``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into.

    Raises
    ------
    ValueError
        For a model that is not grid-shaped, a policy over another model, or a file extension
        matplotlib cannot write.
    ImportError
        When matplotlib is not installed.

    Examples
    --------
    >>> from proofs import Policy, from_gym
    >>> lake = from_gym("FrozenLake-v1", is_slippery=False)
    >>> path = {"0": 1, "4": 1, "8": 2, "9": 1, "13": 2, "14": 2}
    >>> fig = plot_policy(lake, Policy.from_callable(lake, lambda s: path.get(s, 0)), 10)
    >>> fig.axes[0].get_title().splitlines()
    ['the Python function <lambda>', 'visits over 10 steps']
    """
    try:
        import matplotlib.patheffects as effects
        from matplotlib.colors import PowerNorm
        from matplotlib.patches import Patch, Rectangle
    except ImportError:
        raise ImportError("plotting needs matplotlib: install the plot extra (pip install 'proofs[plot]')") from None

    rows, columns = grid_of(model, grid)
    cells = cell_of_state(model, grid)
    _check(model, policy, horizon)
    mdp = model.mdp
    flows = _flows(policy, horizon)
    visits = sum((w * f.visits for w, f in flows), np.zeros(mdp.n_states))
    taken = sum((w * f.taken for w, f in flows), np.zeros(mdp.n_choices))
    n_cells = rows * columns
    heat = np.bincount(cells, weights=visits, minlength=n_cells).reshape(rows, columns)

    if ax is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        cell = float(np.clip(min(11.0 / columns, 9.0 / rows), 0.12, 0.9))
        fig = Figure(figsize=(cell * columns + 2.4, max(cell * rows + 1.6, 2.6)), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()

    scale = PowerNorm(0.5, vmin=0.0, vmax=max(float(heat.max()), 1e-12))   # rare paths stay visible
    image = ax.imshow(heat, cmap="Blues", norm=scale, origin="upper", interpolation="nearest")
    bar = fig.colorbar(image, cax=ax.inset_axes((1.03, 0.0, 0.035, 1.0)))
    bar.set_label("expected visits", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    ax.set_xlim(-0.5, columns - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.xaxis.tick_top()
    ax.set_xticks(np.arange(columns) if columns <= 24 else [])
    ax.set_yticks(np.arange(rows) if rows <= 24 else [])
    ax.tick_params(labelsize=7, length=0)
    ax.set_xticks(np.arange(columns + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    ax.tick_params(which="minor", length=0)
    if n_cells <= 2500:
        ax.grid(which="minor", color="0.8", linewidth=0.5)

    size = float(np.clip(14.0 - 0.4 * max(rows, columns), 4.0, 11.0))
    outline = [effects.withStroke(linewidth=2.0, foreground="white")]

    def cells_with(names: Sequence[str]) -> list[int]:
        masks = [mdp.labels[name] for name in names if name in mdp.labels]
        return sorted(set(cells[np.logical_or.reduce(masks)].tolist())) if masks else []

    legend: list[Any] = []
    bad = cells_with(_BAD_LABELS)
    for c in bad:
        ax.add_patch(Rectangle((c % columns - 0.5, c // columns - 0.5), 1, 1, fill=False, hatch="xx",
                               edgecolor="tab:red", linewidth=1.2, zorder=2))
    if bad:
        legend.append(Patch(fill=False, hatch="xx", edgecolor="tab:red",
                            label=" / ".join(n for n in _BAD_LABELS if n in mdp.labels)))
    good = cells_with(_GOOD_LABELS)
    for c in good:
        ax.add_patch(Rectangle((c % columns - 0.45, c // columns - 0.45), 0.9, 0.9, fill=False,
                               edgecolor="tab:green", linewidth=2.0, zorder=2))
    if good:
        ax.scatter([c % columns for c in good], [c // columns for c in good], marker="*", s=(2.0 * size) ** 2,
                   color="tab:green", edgecolors="white", linewidths=0.8, zorder=3)
        legend.append(Patch(fill=False, edgecolor="tab:green", linewidth=2.0, label="goal"))
    for c in sorted(set(cells[[s for s, _ in mdp.initial_distribution()]].tolist())):
        ax.text(c % columns - 0.42, c // columns - 0.42, "S", ha="left", va="top", fontsize=0.8 * size,
                fontweight="bold", path_effects=outline, zorder=5)

    directions = {name: (float(dx), float(dy)) for name, (dx, dy) in model.arrows.items()}
    whole: list[tuple[float, float, float, float]] = []      # (x, y, dx, dy): centred, full length
    part: list[tuple[float, float, float, float]] = []       # from the centre, as long as the share
    for c, moves in shown_actions(mdp, taken, cells, n_cells).items():
        x, y = float(c % columns), float(c // columns)
        words = []
        for action, share in moves:
            direction = directions.get(action)
            norm = 0.0 if direction is None else float(np.hypot(*direction))
            if direction is None or norm == 0:
                name = action if direction is None else f"{action} (stays)"
                words.append(name if share > 1 - _SMALLEST_SHARE else f"{name} {share:.0%}")
            elif share > 1 - _SMALLEST_SHARE:
                whole.append((x, y, direction[0] / norm * 0.7, direction[1] / norm * 0.7))
            else:
                length = 0.18 + 0.27 * share
                ux, uy = direction[0] / norm, direction[1] / norm
                part.append((x, y, ux * length, uy * length))
                if n_cells <= 144:
                    ax.text(x + ux * length / 2 - uy * 0.1, y + uy * length / 2 + ux * 0.1, f"{share:.0%}",
                            ha="center", va="center", fontsize=0.55 * size, path_effects=outline, zorder=5)
        if words:
            ax.text(x, y, "\n".join(words), ha="center", va="center", fontsize=0.75 * size, path_effects=outline,
                    zorder=5)
    width = float(np.clip(0.04 / max(rows, columns), 0.002, 0.01))
    for arrows, pivot in ((whole, "middle"), (part, "tail")):
        if arrows:
            xs, ys, us, vs = (np.array(v) for v in zip(*arrows))
            ax.quiver(xs, ys, us, vs, angles="xy", scale_units="xy", scale=1, pivot=pivot, width=width,
                      headwidth=3.5, headlength=4.0, headaxislength=3.5, color="black", edgecolor="white",
                      linewidth=0.5, zorder=4)

    steps = f"{horizon} steps" if horizon is not None else f"the first {GEOMETRIC_STEPS} steps (geometric horizon)"
    note = f"visits over {steps}"
    if len(flows) > 1:
        note += f"; a mixture of {len(flows)} policies, drawn mixed"
    heading = textwrap.fill(title or policy.source, 72)
    ax.set_title(f"{heading}\n{note}", fontsize=8)
    if legend:
        ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=len(legend),
                  frameon=False, fontsize=7)
    if path is not None:
        _save(fig, path)
    return fig
