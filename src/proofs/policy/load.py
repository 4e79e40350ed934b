"""Reading a policy: a JSON or CSV table, a Q-table, or (only with --allow-code) a Python callable.

TRUSTED (reading base): the kernel re-reads policy files through `load_policy`. A callable is
user code: the kernel never runs it, so a certificate for such a policy cites its canonical
table (`proofs.policy.canonical`), written out as JSON.

Formats, chosen by the file extension (anything with ``:`` and no known extension is code):

``.json``
    ``{"format": "proofs.policy/1", "actions": {"s0": "right", "s1": {"left": "1/2", "right": "1/2"}}}``
    (stationary) or ``{"format": "proofs.policy/1", "steps": [{...step 0...}, {...step 1...}]}``
    (per step). A bare action name means probability 1. Probabilities are strings (``"1/2"``,
    ``"0.5"``) or JSON numbers, both read exactly from their decimal text.
``.csv``
    Rows ``state,action`` (probability 1) or ``state,action,probability``; several rows for one
    state form its distribution. An optional header row ``state,action,probability`` (or
    ``state,action``) is skipped: a first row whose first field is ``state`` or ``step`` is
    always read as a header. Per-step tables put a ``step`` column first and then need the
    header ``step,state,action,probability`` (or ``step,state,action``), because without it
    three columns would be ambiguous. Blank lines and lines starting with ``#`` are skipped.
``.npy``
    A Q-table of shape (Gymnasium states, Gymnasium actions) over a model written by ``proofs
    import gym``: state ``"i"`` (and its absorbing copy ``"i!terminal"``) uses row i, action
    ``"j"`` column j; the policy is greedy, ties going to the lowest action index.
``module:function`` or ``path/to/file.py:function``
    Run only with ``allow_code=True``. Called at most once per state, only for the states the
    policy reaches (in breadth-first order), with ``(state_name, labels)``; it returns an action
    name (an ``int`` is read as the action named by its decimal text), a mapping from action to
    probability (``Fraction``, ``int``, text such as ``"1/3"``, or a ``float`` read from its
    shortest decimal text: ``0.1`` is 1/10), or ``None`` for "no action here". Stationary only.

Per-step tables: ``steps[t]`` acts at step t; when the list is shorter than the horizon the last
table repeats (a single table is the stationary policy), and tables beyond the horizon are
ignored. Every entry is validated against the model (the state exists, its actions exist,
the probabilities are in [0, 1] and sum to exactly 1) even for a state the policy never
reaches; such entries are then ignored. The policy must define every state it reaches within
the horizon; otherwise the error names the first undefined state in breadth-first order (by
step, then by the model's state order; see `proofs.policy.canonical`).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from proofs.core.errors import InputError, InputErrors, Location
from proofs.core.model import Mdp
from proofs.core.policy import Policy, PolicyLayer
from proofs.core.rational import ExpressionError, parse_rational
from proofs.policy.canonical import FORMAT, UndefinedState, reachable_table

__all__ = ["gym_rows", "load_policy", "q_table_policy", "tabulate"]

_TABLE_SUFFIXES = {".json", ".csv", ".npy"}
_HEADERS = {
    ("state", "action"): False, ("state", "action", "probability"): False,
    ("step", "state", "action"): True, ("step", "state", "action", "probability"): True,
}
_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")
_GYM_STATE = re.compile(r"^(0|[1-9][0-9]*)(!terminal)?$")


@dataclass(frozen=True)
class _Entry:
    """One state's distribution as written: ``(action, probability, where)`` items."""

    state: str
    items: tuple[tuple[str, Fraction, Location], ...]
    where: Location


class _NonFinite:
    """JSON's NaN / Infinity, kept as a marker so the error can say where it is."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Object(dict[str, object]):
    """A JSON object that remembers keys given twice (json.loads would keep only the last)."""

    duplicates: list[str]


def is_code(path_or_spec: str | Path) -> bool:
    """Whether a policy is given as Python code (``module:function``) rather than a table file."""
    return (not isinstance(path_or_spec, Path) and ":" in path_or_spec
            and Path(path_or_spec).suffix.lower() not in _TABLE_SUFFIXES)


def load_policy(path_or_spec: str | Path, mdp: Mdp, *, allow_code: bool = False, horizon: int | None) -> Policy:
    """Read a policy and return its behaviour over ``mdp``: its `reachable_table`.

    Parameters
    ----------
    path_or_spec
        A ``.json``, ``.csv`` or ``.npy`` file, or ``module:function`` / ``file.py:function``.
    mdp
        The world model the policy acts in.
    allow_code
        Whether Python code may run (``--allow-code``).
    horizon
        The finite horizon H ≥ 1, or ``None`` for the geometric horizon: the policy must define
        every state it reaches at the steps where it acts.

    Returns
    -------
    Policy
        The canonical table of the policy's behaviour (see `proofs.policy.canonical`).

    Raises
    ------
    InputError, InputErrors
        For an unreadable or malformed policy, entries that do not fit ``mdp``, code without
        ``allow_code``, or a reached state without an action (the first one in breadth-first order).
    """
    if horizon is not None and (isinstance(horizon, bool) or horizon < 1):
        raise ValueError(f"a finite horizon must be an integer of at least 1, got {horizon!r}")
    source = str(path_or_spec)
    path = Path(path_or_spec)
    if is_code(path_or_spec):
        return _load_code(source, mdp, allow_code, horizon)
    if path.suffix.lower() not in _TABLE_SUFFIXES:
        raise InputError(Location(path), f"unknown policy format {path.suffix or '(no extension)'!r}",
                         "Give a .json, .csv or .npy file, or module:function with --allow-code")
    if path.suffix.lower() == ".npy":
        policy = _load_q_table(path, mdp)
    else:
        errors: list[InputError] = []
        reader = _read_json if path.suffix.lower() == ".json" else _read_csv
        policy = _policy_from_steps(mdp, reader(path, errors), errors)
    try:
        return reachable_table(mdp, policy, horizon)
    except UndefinedState as exc:
        raise _undefined(path, mdp, exc, len(policy.layers), path.suffix.lower()) from None


# -- shared validation -----------------------------------------------------------------------
def _policy_from_steps(mdp: Mdp, steps: list[list[_Entry]], errors: list[InputError]) -> Policy:
    """Validate every entry against the model; raise every problem of the file at once."""
    layers = [_layer(mdp, entries, errors) for entries in steps]
    InputErrors.raise_if_any(errors)
    return Policy(tuple(layers))


def _layer(mdp: Mdp, entries: list[_Entry], errors: list[InputError]) -> PolicyLayer:
    table: dict[int, list[tuple[int, Fraction]]] = {}
    for entry in entries:
        s = mdp.state_index.get(entry.state)
        if s is None:
            errors.append(_unknown_state(mdp, entry))
        elif s in table:
            errors.append(InputError(entry.where, f"state {entry.state!r} is given twice", "Keep one entry"))
        else:
            distribution = _distribution(mdp, s, entry, errors)
            if distribution is not None:
                table[s] = distribution
    return PolicyLayer.from_table(mdp, table)


def _unknown_state(mdp: Mdp, entry: _Entry) -> InputError:
    hint = ""
    if mdp.n_states <= 10_000:
        close = difflib.get_close_matches(entry.state, mdp.states, n=1)
        hint = f"Did you mean {close[0]!r}? " if close else ""
    where = mdp.source or "the world model"
    return InputError(entry.where, f"{entry.state!r} is not a state of {where}",
                      hint + "Use the model's state names (`proofs show MODEL` lists them)")


def _distribution(mdp: Mdp, s: int, entry: _Entry, errors: list[InputError]) -> list[tuple[int, Fraction]] | None:
    """The entry as ``(choice, probability)`` pairs, or None after recording its problems."""
    local = {mdp.action(c): c for c in mdp.choices(s)}
    result: dict[int, Fraction] = {}
    before = len(errors)
    for action, probability, where in entry.items:
        choice = local.get(action)
        if choice is None:
            errors.append(InputError(where, f"{action!r} is not an action of state {entry.state!r}",
                                     f"Use one of its actions: {', '.join(local)}"))
        elif choice in result:
            errors.append(InputError(where, f"action {action!r} is given twice", "Keep one entry"))
        elif not 0 <= probability <= 1:
            errors.append(InputError(where, f"probability {probability} is outside [0, 1]",
                                     "Give a probability between 0 and 1"))
        else:
            result[choice] = probability
    total = sum(result.values(), Fraction(0))
    if len(errors) == before and total != 1:
        errors.append(InputError(entry.where, f"the probabilities of state {entry.state!r} sum to {total}, not 1",
                                 "Make them sum to exactly 1 (write 1/3 rather than 0.333)"))
    return sorted(result.items()) if len(errors) == before else None


def _undefined(source: str | Path, mdp: Mdp, exc: UndefinedState, n_layers: int, kind: str) -> InputError:
    name = mdp.states[exc.state]
    more = f" ({exc.others} more reached at that step have no action either)" if exc.others else ""
    problem = f"the policy reaches state {name!r} at step {exc.step} but gives it no action{more}"
    actions = ", ".join(mdp.local_actions(exc.state))
    if kind == ".json":
        key = f'actions."{name}"' if n_layers == 1 else f'steps[{min(exc.step, n_layers - 1)}]."{name}"'
    else:
        key = f"state {name!r}"
    fixes = {
        ".npy": "The Q-table gives actions to the Gymnasium states 0, 1, ... only; import the model with "
                "`proofs import gym` so that its states are named by their index",
        "code": f"Make the function return an action of {name!r} ({actions}) instead of None",
    }
    fix = fixes.get(kind, f"Add an entry for {name!r} (its actions: {actions})")
    return InputError(Location(source, key=key), problem, fix)


# -- JSON ------------------------------------------------------------------------------------
def _read_json(path: Path, errors: list[InputError]) -> list[list[_Entry]]:
    text = _read_text(path)
    try:
        document = json.loads(text, parse_float=parse_rational, parse_constant=_NonFinite,
                              object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        raise InputError(Location(path, exc.lineno), f"not valid JSON: {exc.msg} (column {exc.colno})",
                         "Fix the JSON syntax") from None
    except ExpressionError as exc:
        raise InputError(Location(path), f"unreadable number: {exc}", "Write the number as text, e.g. \"1/3\"") from None
    tables = _json_tables(path, document, errors)
    return [_json_table(path, key, table, errors) for key, table in tables]


def _object(pairs: list[tuple[str, object]]) -> _Object:
    result = _Object()
    result.duplicates = []
    for key, value in pairs:
        if key in result:
            result.duplicates.append(key)
        result[key] = value
    return result


def _json_tables(path: Path, document: object, errors: list[InputError]) -> list[tuple[str, object]]:
    shape = f'{{"format": "{FORMAT}", "actions": {{...}}}} or {{"format": "{FORMAT}", "steps": [...]}}'
    if not isinstance(document, dict):
        raise InputError(Location(path), "a policy file must hold one JSON object", f"Write {shape}")
    if document.get("format") != FORMAT:
        errors.append(InputError(Location(path, key="format"), f"expected \"format\": \"{FORMAT}\", "
                                 f"got {document.get('format')!r}", f"Write {shape}"))
    for key in sorted(set(document) - {"format", "actions", "steps"}):
        errors.append(InputError(Location(path, key=key), f"unknown key {key!r}", f"Write {shape}"))
    if ("actions" in document) == ("steps" in document):
        errors.append(InputError(Location(path), "give exactly one of \"actions\" and \"steps\"", f"Write {shape}"))
        return []
    if "actions" in document:
        return [("actions", document["actions"])]
    steps = document["steps"]
    if not isinstance(steps, list) or not steps:
        errors.append(InputError(Location(path, key="steps"), "\"steps\" must be a non-empty list of tables",
                                 "Write one {state: action} table per step; the last one repeats"))
        return []
    return [(f"steps[{t}]", table) for t, table in enumerate(steps)]


def _json_table(path: Path, key: str, table: object, errors: list[InputError]) -> list[_Entry]:
    if not isinstance(table, dict):
        errors.append(InputError(Location(path, key=key), "expected an object {state: action}",
                                 'Write e.g. {"s0": "right", "s1": {"left": "1/2", "right": "1/2"}}'))
        return []
    errors.extend(InputError(Location(path, key=f'{key}."{s}"'), f"state {s!r} is given twice", "Keep one entry")
                  for s in getattr(table, "duplicates", []))
    entries = []
    for state, value in table.items():
        where = Location(path, key=f'{key}."{state}"')
        if isinstance(value, str):
            entries.append(_Entry(state, ((value, Fraction(1), where),), where))
        elif isinstance(value, dict):
            entry = _json_distribution(path, state, value, where, errors)
            if entry is not None:
                entries.append(entry)
        else:
            errors.append(InputError(where, f"expected an action name or {{action: probability}}, got {value!r}",
                                     'Write "right" or {"left": "1/2", "right": "1/2"}'))
    return entries


def _json_distribution(path: Path, state: str, value: dict[str, object], where: Location,
                       errors: list[InputError]) -> _Entry | None:
    before = len(errors)
    items = []
    for action, raw in value.items():
        at = Location(path, key=f'{where.key}."{action}"')
        if action in getattr(value, "duplicates", []):
            errors.append(InputError(at, f"action {action!r} is given twice", "Keep one entry"))
        probability = _json_probability(raw, at, errors)
        if probability is not None:
            items.append((action, probability, at))
    return _Entry(state, tuple(items), where) if len(errors) == before else None


def _json_probability(value: object, where: Location, errors: list[InputError]) -> Fraction | None:
    if isinstance(value, Fraction) or (isinstance(value, int) and not isinstance(value, bool)):
        return Fraction(value)
    if isinstance(value, str):
        try:
            return parse_rational(value)
        except ExpressionError as exc:
            errors.append(InputError(where, str(exc), "Write a probability such as \"1/3\" or \"0.25\""))
            return None
    shown = value.text if isinstance(value, _NonFinite) else repr(value)
    errors.append(InputError(where, f"{shown} is not a probability", "Write a probability such as \"1/3\" or \"0.25\""))
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Location(path), f"cannot read the policy file ({exc.strerror or exc})",
                         "Check the path (relative paths start at the obligation file's folder)") from None
    except UnicodeDecodeError:
        raise InputError(Location(path), "the policy file is not UTF-8 text", "Save it as UTF-8") from None


# -- CSV -------------------------------------------------------------------------------------
def _read_csv(path: Path, errors: list[InputError]) -> list[list[_Entry]]:
    rows = [(line, [f.strip() for f in fields]) for line, fields in _csv_rows(_read_text(path))]
    per_step = bool(rows) and rows[0][1][0].lower() == "step"
    if rows and rows[0][1][0].lower() in {"state", "step"}:
        header = tuple(f.lower() for f in rows[0][1])
        if header not in _HEADERS:
            raise InputError(Location(path, rows[0][0]), f"unknown header {','.join(rows[0][1])!r}",
                             "Use state,action,probability or step,state,action,probability")
        rows = rows[1:]
    steps: dict[int, dict[str, list[tuple[str, Fraction, Location]]]] = {}
    first_line: dict[tuple[int, str], Location] = {}
    for line, fields in rows:
        parsed = _csv_row(Location(path, line), fields, per_step, errors)
        if parsed is not None:
            step, state, item = parsed
            steps.setdefault(step, {}).setdefault(state, []).append(item)
            first_line.setdefault((step, state), Location(path, line))
    for missing in sorted(set(range(max(steps, default=0) + 1)) - set(steps)):
        errors.append(InputError(Location(path), f"no rows for step {missing}",
                                 "Number the per-step tables 0, 1, 2, ... without gaps (the last one repeats)"))
    if not steps and not errors:
        raise InputError(Location(path), "the policy file has no rows", "Write one row state,action per state")
    return [[_Entry(s, tuple(items), first_line[t, s]) for s, items in steps[t].items()] for t in sorted(steps)]


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(text.splitlines())
    rows = []
    for fields in reader:
        if fields and any(f.strip() for f in fields) and not fields[0].lstrip().startswith("#"):
            rows.append((reader.line_num, fields))
    return rows


def _csv_row(where: Location, fields: list[str], per_step: bool,
             errors: list[InputError]) -> tuple[int, str, tuple[str, Fraction, Location]] | None:
    layout = "step,state,action[,probability]" if per_step else "state,action[,probability]"
    step = 0
    if per_step:
        if not fields or not _INDEX.match(fields[0]):
            errors.append(InputError(where, f"step {fields[0] if fields else ''!r} is not a step number",
                                     "Steps are 0, 1, 2, ..."))
            return None
        step, fields = int(fields[0]), fields[1:]
    if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
        errors.append(InputError(where, f"expected {layout}, got {len(fields) + per_step} field(s)",
                                 f"Write one row {layout} per entry"))
        return None
    try:
        probability = parse_rational(fields[2]) if len(fields) == 3 else Fraction(1)
    except ExpressionError as exc:
        errors.append(InputError(where, str(exc), "Write a probability such as 1/3 or 0.25"))
        return None
    return step, fields[0], (fields[1], probability, where)


# -- Q-table ---------------------------------------------------------------------------------
def _load_q_table(path: Path, mdp: Mdp) -> Policy:
    try:
        q = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(Location(path), f"cannot read the Q-table ({exc})", "Save it with numpy.save") from None
    return q_table_policy(q, mdp, path)


def q_table_policy(q: np.ndarray, mdp: Mdp, path: Path | str) -> Policy:
    """The greedy policy of a Q-table over a model from Gymnasium (module docstring, ``.npy``)."""
    if q.ndim != 2 or not (np.issubdtype(q.dtype, np.integer) or np.issubdtype(q.dtype, np.floating)):
        raise InputError(Location(path), f"expected a 2-D array of numbers, got shape {q.shape} of {q.dtype}",
                         "Save the Q-table as an array of shape (states, actions)")
    bad_rows = np.flatnonzero(~np.all(np.isfinite(q), axis=1)) if q.dtype.kind == "f" else np.zeros(0, np.int64)
    if len(bad_rows):
        raise InputError(Location(path, key=f"row {bad_rows[0]}"), "the Q-table holds NaN or infinite values",
                         "Give every entry a finite value")
    column = _q_columns(path, mdp, q.shape[1])[mdp.choice_action]
    row = _q_rows(path, mdp, q.shape[0])
    usable = np.flatnonzero(row[mdp.choice_state] >= 0)
    state = mdp.choice_state[usable]
    _, rank = np.unique(q[row[state], column[usable]], return_inverse=True)
    order = usable[np.lexsort((column[usable], -rank.ravel(), state))]
    first = order[np.r_[True, np.diff(mdp.choice_state[order]) != 0]] if len(order) else order
    best = np.full(mdp.n_states, -1, dtype=np.int64)
    best[mdp.choice_state[first]] = first
    return Policy.stationary(PolicyLayer.deterministic(mdp, best))


def _gym_indices(mdp: Mdp) -> tuple[np.ndarray, int]:
    """Per model state its Gymnasium state index (``"i"`` and ``"i!terminal"``: i; others -1), and
    how many states are plain ``"i"``."""
    row = np.full(mdp.n_states, -1, dtype=np.int64)
    plain = 0
    for s, name in enumerate(mdp.states):
        match = _GYM_STATE.match(name)
        if match:
            row[s] = int(match.group(1))
            plain += match.group(2) is None
    return row, plain


def gym_rows(mdp: Mdp, what: str) -> np.ndarray:
    """Per model state its Gymnasium state index (``"i"`` and ``"i!terminal"``: i; others -1)."""
    row, _ = _gym_indices(mdp)
    if not np.any(row >= 0):
        raise InputError(Location(what), "the model's states are not named by Gymnasium state indices (0, 1, ...)",
                         "Use a model from proofs.from_gym or `proofs import gym`")
    return row


def _q_rows(path: Path | str, mdp: Mdp, n_rows: int) -> np.ndarray:
    """Per model state its Q-table row: ``"i"`` and ``"i!terminal"`` use row i; others none (-1)."""
    if n_rows == mdp.n_states and mdp.states == tuple(map(str, range(n_rows))):
        return np.arange(n_rows, dtype=np.int64)   # states named 0 … n−1 (a generated or imported model)
    row, plain = _gym_indices(mdp)
    if plain != n_rows or np.any(row >= n_rows):
        raise InputError(Location(path), f"the Q-table has {n_rows} rows, but the model has {plain} states "
                         "named by a Gymnasium state index (0, 1, ...)",
                         "Use the Q-table of this environment, over a model from `proofs import gym`")
    return row


def _q_columns(path: Path | str, mdp: Mdp, n_columns: int) -> np.ndarray:
    """Per action name its Q-table column (Gymnasium action ``j`` is named ``"j"``)."""
    bad = [a for a in mdp.action_names if not _INDEX.match(a) or int(a) >= n_columns]
    if bad:
        raise InputError(Location(path), f"action {bad[0]!r} of the model is not a column of the Q-table "
                         f"(it has {n_columns} columns)",
                         "A Q-table needs a model from `proofs import gym`, whose actions are named 0, 1, ...")
    return np.array([int(a) for a in mdp.action_names], dtype=np.int64)


# -- Python callables ------------------------------------------------------------------------
def _load_code(spec: str, mdp: Mdp, allow_code: bool, horizon: int | None) -> Policy:
    if not allow_code:
        raise InputError(Location(spec), "this policy is Python code, which proofs runs only when asked",
                         "Pass --allow-code to run it, or give the policy as a .json, .csv or .npy table")
    function = _import_function(spec)
    try:
        return reachable_table(mdp, tabulate(spec, function, mdp, horizon), horizon)
    except UndefinedState as exc:
        raise _undefined(spec, mdp, exc, 1, "code") from None


def _import_function(spec: str) -> Callable[..., object]:
    module_name, _, attribute = spec.rpartition(":")
    try:
        if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
            path = Path(module_name).resolve()
            unique = "_proofs_policy_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]
            loader = importlib.util.spec_from_file_location(unique, path)
            if loader is None or loader.loader is None:
                raise ImportError(f"cannot load {module_name}")
            module = importlib.util.module_from_spec(loader)
            sys.modules[unique] = module
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
        target: object = module
        for part in attribute.split("."):
            target = getattr(target, part)
    except Exception as exc:  # noqa: BLE001 -- user code: any failure is an input problem
        raise InputError(Location(spec), f"cannot load the policy code ({type(exc).__name__}: {exc})",
                         "Give module:function or path/to/file.py:function") from None
    if not callable(target):
        raise InputError(Location(spec), f"{attribute!r} is not callable", "Name a function (state, labels) -> action")
    return target


def tabulate(spec: str, function: Callable[..., object], mdp: Mdp, horizon: int | None) -> Policy:
    """Call ``function`` once per reached state, breadth-first, up to the last acting step."""
    table: dict[int, list[tuple[int, Fraction]]] = {}
    frontier = sorted({int(s) for s, p in zip(mdp.initial_states, mdp.initial_probability.num) if p > 0})
    seen, step = set(frontier), 0
    while frontier:
        errors: list[InputError] = []
        undefined = []
        for s in frontier:
            before = len(errors)
            entry = _call(spec, function, mdp, s, errors)
            if len(errors) > before:
                continue
            distribution = None if entry is None else _distribution(mdp, s, entry, errors)
            if entry is None:
                undefined.append(s)
            elif distribution is not None:
                table[s] = distribution
        InputErrors.raise_if_any(errors)
        if undefined:
            raise UndefinedState(step, undefined[0], len(undefined) - 1)
        if horizon is not None and step >= horizon - 1:
            break
        frontier = sorted(_next_states(mdp, table, frontier) - seen)
        seen.update(frontier)
        step += 1
    return Policy.stationary(PolicyLayer.from_table(mdp, table))


def _next_states(mdp: Mdp, table: Mapping[int, list[tuple[int, Fraction]]], states: list[int]) -> set[int]:
    bounds = mdp.row_start
    probability = mdp.probability if mdp.probability is not None else mdp.interval[1]  # type: ignore[index]
    found: set[int] = set()
    for s in states:
        for choice, p in table[s]:
            if p > 0:
                lo, hi = int(bounds[choice]), int(bounds[choice + 1])
                found.update(int(t) for t, n in zip(mdp.target[lo:hi], probability.num[lo:hi]) if n > 0)
    return found


def _call(spec: str, function: Callable[..., object], mdp: Mdp, s: int, errors: list[InputError]) -> _Entry | None:
    name = mdp.states[s]
    where = Location(spec, key=f"state {name!r}")
    try:
        result = function(name, frozenset(mdp.labels_of(s)))
    except Exception as exc:  # noqa: BLE001 -- user code: any failure is an input problem
        errors.append(InputError(where, f"the policy function raised {type(exc).__name__}: {exc}",
                                 "Fix the function, or return None for states it does not handle"))
        return None
    if result is None:
        return None
    if isinstance(result, str) or (isinstance(result, Integral) and not isinstance(result, bool)):
        return _Entry(name, ((str(result), Fraction(1), where),), where)
    if isinstance(result, Mapping):
        items = [(str(a), _python_probability(p, where, errors), where) for a, p in result.items()]
        return _Entry(name, tuple((a, p, w) for a, p, w in items if p is not None), where)
    errors.append(InputError(where, f"the policy function returned {result!r}",
                             "Return an action name, a mapping {action: probability}, or None"))
    return None


def _python_probability(value: object, where: Location, errors: list[InputError]) -> Fraction | None:
    try:
        if isinstance(value, bool):
            raise ExpressionError(f"expected a probability, got {value!r}")
        if isinstance(value, (Fraction, Integral)):
            return Fraction(int(value)) if isinstance(value, Integral) else value
        if isinstance(value, Real):
            return parse_rational(repr(float(value)))
        return parse_rational(value)  # type: ignore[arg-type]
    except (ExpressionError, OverflowError, ValueError) as exc:
        errors.append(InputError(where, f"bad probability {value!r}: {exc}",
                                 "Return exact probabilities: Fraction(1, 3) or \"1/3\""))
        return None
