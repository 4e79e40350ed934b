"""The world-model type: a finite MDP (or a credal MDP with interval probabilities), frozen.

TRUSTED (reading base). One compact representation serves every size: states and choices are
numpy CSR arrays (choices grouped by state, transitions grouped by choice) and every number is an
exact `Rationals` vector, so the exact view (`Fraction`s) and the fast view (floats, sound float
enclosures) are two reads of the same data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs.core.numbers import Rationals, least_common_denominator

__all__ = ["MODEL_FORMAT", "Mdp", "ModelFileError", "concat_ranges", "decode", "encode", "model_sha256", "narrowest",
           "pack", "rationals_from", "rationals_parts", "unpack"]

IntArray = npt.NDArray[np.int64]


def concat_ranges(lo: IntArray, hi: IntArray) -> IntArray:
    """The concatenation of ``arange(lo[i], hi[i])`` over i, without a Python loop.

    With CSR offsets it lists, for example, the transitions of some choices:
    ``concat_ranges(mdp.row_start[choices], mdp.row_start[choices + 1])``.
    """
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
    result: IntArray = (np.arange(total, dtype=np.int64) + shift).astype(np.int64, copy=False)
    return result
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Mdp:
    """A finite MDP: states, per state an ordered non-empty list of named actions (choices).

    Attributes
    ----------
    states
        State names, in index order.
    choice_start
        ``n_states + 1`` offsets: the choices of state ``s`` are ``choice_start[s]:choice_start[s+1]``.
    action_names, choice_action
        The distinct action names, and for every choice the index of its name.
    row_start, target
        ``n_choices + 1`` offsets into ``target``: the successors of choice ``c``.
    probability
        Exact transition probabilities (aligned with ``target``); ``None`` for a credal model.
    interval
        ``(lo, hi)`` exact probability bounds for a credal (interval) model, else ``None``.
    rewards
        Per reward structure, the exact reward r(s, a) of every choice (state rewards and expected
        transition rewards already folded in).
    labels
        Per label, a boolean mask over states.
    initial_states, initial_probability
        The initial distribution μ₀ (states with positive probability only).
    source
        The file the model was read from, for messages.
    constants
        A PRISM program's constants (name -> value text), for atoms such as ``t>=deadline``;
        empty for other formats.
    """

    states: tuple[str, ...]
    choice_start: IntArray
    action_names: tuple[str, ...]
    choice_action: npt.NDArray[np.int32]
    row_start: IntArray
    target: IntArray
    probability: Rationals | None
    rewards: Mapping[str, Rationals]
    labels: Mapping[str, BoolArray]
    initial_states: IntArray
    initial_probability: Rationals
    interval: tuple[Rationals, Rationals] | None = None
    source: str | None = field(default=None)
    constants: Mapping[str, str] = field(default_factory=dict)

    # -- sizes -------------------------------------------------------------------------------
    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_choices(self) -> int:
        return int(self.choice_start[-1])

    @property
    def n_transitions(self) -> int:
        return int(self.row_start[-1])

    @property
    def is_credal(self) -> bool:
        return self.interval is not None

    # -- derived indices (cached) ------------------------------------------------------------
    @cached_property
    def state_index(self) -> Mapping[str, int]:
        return {name: i for i, name in enumerate(self.states)}

    @cached_property
    def choice_state(self) -> IntArray:
        """For every choice, the state it belongs to."""
        return np.repeat(np.arange(self.n_states, dtype=np.int64), np.diff(self.choice_start))

    @cached_property
    def transition_choice(self) -> IntArray:
        """For every transition, the choice it belongs to."""
        return np.repeat(np.arange(self.n_choices, dtype=np.int64), np.diff(self.row_start))

    @cached_property
    def float_probability(self) -> npt.NDArray[np.float64]:
        """Approximate probabilities for untrusted search (credal: the interval midpoints)."""
        if self.probability is not None:
            return self.probability.floats()
        assert self.interval is not None
        return (self.interval[0].floats() + self.interval[1].floats()) / 2

    # -- per-state and per-choice views ------------------------------------------------------
    def choices(self, state: int) -> range:
        return range(int(self.choice_start[state]), int(self.choice_start[state + 1]))

    def action(self, choice: int) -> str:
        return self.action_names[int(self.choice_action[choice])]

    def local_actions(self, state: int) -> list[str]:
        return [self.action(c) for c in self.choices(state)]

    def choice_of(self, state: int, action: str) -> int | None:
        for c in self.choices(state):
            if self.action(c) == action:
                return c
        return None

    def successors(self, choice: int) -> list[tuple[int, Fraction]]:
        """Exact ``(target, probability)`` pairs of a choice of a non-credal model."""
        if self.probability is None:
            raise ValueError("a credal model has interval probabilities; use successor_intervals")
        lo, hi = int(self.row_start[choice]), int(self.row_start[choice + 1])
        return [(int(self.target[i]), self.probability[i]) for i in range(lo, hi)]

    def successor_intervals(self, choice: int) -> list[tuple[int, Fraction, Fraction]]:
        lo, hi = int(self.row_start[choice]), int(self.row_start[choice + 1])
        if self.interval is None:
            assert self.probability is not None
            return [(int(self.target[i]), self.probability[i], self.probability[i]) for i in range(lo, hi)]
        low, high = self.interval
        return [(int(self.target[i]), low[i], high[i]) for i in range(lo, hi)]

    def labels_of(self, state: int) -> list[str]:
        return [name for name, mask in self.labels.items() if mask[state]]

    def initial_distribution(self) -> list[tuple[int, Fraction]]:
        return [(int(s), self.initial_probability[i]) for i, s in enumerate(self.initial_states)]


# -- the canonical byte encoding ---------------------------------------------------------------
MODEL_FORMAT = "proofs.model/1"
"""The first line of every canonical model file."""

_INTS = (np.int8, np.int16, np.int32, np.int64)
_MAX_HEADER = 1 << 28        # a header longer than this is not one `encode` wrote


def narrowest(values: npt.NDArray[np.integer]) -> npt.NDArray[np.integer]:
    """``values`` in the narrowest signed integer type that holds them all (a canonical choice)."""
    if len(values) == 0:
        return values.astype(np.int8)
    lo, hi = int(values.min()), int(values.max())
    for kind in _INTS:
        info = np.iinfo(kind)
        if info.min <= lo and hi <= info.max:
            return values.astype(kind)
    raise AssertionError("an int64 array always fits int64")


def _common_denominator(values: Rationals) -> tuple[npt.NDArray[np.int64], int] | None:
    """``(numerators, D)`` with ``values[i] = numerators[i] / D`` and D the least common denominator,
    when everything fits int64 exactly (checked in Python integers, never by a wrapping product)."""
    if not values.is_compact:
        return None
    num, den = values.num, values.den
    g = np.gcd(num, den)
    g[g == 0] = 1
    reduced = den // g
    common = least_common_denominator(reduced, _INT64_LIMIT)
    if common is None:
        return None
    top = int(np.abs(num // g).max(initial=0))
    if top and top * common >= _INT64_LIMIT:
        return None
    return (num // g) * (np.int64(common) // reduced), common


_INT64_LIMIT = 2**62


def rationals_parts(name: str, values: Rationals) -> tuple[dict[str, object], list[tuple[str, np.ndarray]]]:
    """The header entry and the arrays of one exact vector: numerators over the least common
    denominator when that fits int64 (every decimal model), else every value as reduced text."""
    common = _common_denominator(values)
    if common is not None:
        return {"name": name, "den": str(common[1])}, [(f"{name}.num", narrowest(common[0]))]
    text = "\n".join(f"{f.numerator}/{f.denominator}" for f in values.fractions()).encode()
    return {"name": name, "den": "text"}, [(f"{name}.text", np.frombuffer(text, dtype=np.uint8))]


def encode(mdp: Mdp) -> bytes:
    """The canonical bytes of a model: equal models (same states, choices, numbers, labels) give
    equal bytes, whatever file format they were read from; `decode` reads them back.

    Layout: the line ``proofs.model/1``, one line of JSON (sorted keys: names, sizes, and for every
    array its name, dtype and length), then the arrays' raw little-endian bytes in that order.
    Integers are stored in the narrowest signed type that holds them; an exact vector as integer
    numerators over its least common denominator (or as reduced ``n/d`` text when that would not
    fit int64); label masks as packed bits. The file a model was read from is not part of it.
    """
    plain = mdp.states == tuple(str(i) for i in range(mdp.n_states))
    arrays: list[tuple[str, np.ndarray]] = [
        ("choice_start", narrowest(mdp.choice_start)), ("choice_action", narrowest(mdp.choice_action)),
        ("row_start", narrowest(mdp.row_start)), ("target", narrowest(mdp.target)),
        ("initial_states", narrowest(mdp.initial_states)),
    ]
    numbers: list[dict[str, object]] = []
    vectors: list[tuple[str, Rationals]] = [("initial_probability", mdp.initial_probability)]
    if mdp.probability is not None:
        vectors.append(("probability", mdp.probability))
    if mdp.interval is not None:
        vectors += [("interval_lo", mdp.interval[0]), ("interval_hi", mdp.interval[1])]
    rewards = sorted(mdp.rewards)
    vectors += [(f"reward.{i}", mdp.rewards[name]) for i, name in enumerate(rewards)]
    for name, values in vectors:
        entry, parts = rationals_parts(name, values)
        numbers.append(entry)
        arrays += parts
    labels = sorted(mdp.labels)
    arrays += [(f"label.{i}", np.packbits(np.asarray(mdp.labels[name], dtype=bool))) for i, name in enumerate(labels)]
    header = {
        "format": MODEL_FORMAT, "states": mdp.n_states if plain else list(mdp.states),
        "actions": list(mdp.action_names), "rewards": rewards, "labels": labels, "numbers": numbers,
        "constants": dict(sorted(mdp.constants.items())), "credal": mdp.interval is not None,
    }
    return pack(MODEL_FORMAT, header, arrays)


def pack(first_line: str, header: Mapping[str, object], arrays: list[tuple[str, np.ndarray]]) -> bytes:
    """The container of canonical binary files: ``first_line``, one line of JSON (``header`` plus
    ``"arrays"``: each array's name, dtype and length; sorted keys, no spaces), then the arrays'
    raw little-endian bytes in that order."""
    listed = [[name, array.dtype.str.lstrip("<|="), int(array.shape[0])] for name, array in arrays]
    text = json.dumps({**header, "arrays": listed}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    chunks = [first_line.encode() + b"\n", text.encode(), b"\n"]
    chunks += [np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes() for _, a in arrays]
    return b"".join(chunks)


def unpack(data: bytes, first_line: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the named integer arrays of a `pack` file, whose arrays must fill it exactly.

    Raises
    ------
    ModelFileError
        When the file is not one `pack` could have written with this first line.
    """
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1, first + 1 + _MAX_HEADER)
    if data[:first] != first_line.encode() or second < 0:
        raise ModelFileError(f"not a {first_line} file")
    try:
        header = json.loads(data[first + 1:second].decode())
        if not isinstance(header, dict):
            raise ModelFileError("the header is not a JSON object")
        return header, _arrays(header, data, second + 1)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise ModelFileError(f"a malformed {first_line} file ({type(exc).__name__}: {str(exc)[:120]})") from None


def model_sha256(data: bytes) -> str:
    """The identity of a canonical model: the SHA-256 of its bytes (`encode`)."""
    return hashlib.sha256(data).hexdigest()


class ModelFileError(ValueError):
    """Bytes that are not a canonical model `encode` could have written."""


def decode(data: bytes) -> Mdp:
    """Read canonical model bytes back into an `Mdp`, strictly.

    Only the layout is checked here (a known format line, a header of the right shape, arrays of
    the declared sizes that fill the file exactly, offsets that are non-decreasing and in range,
    states and choices in range). Whether the numbers form a model (distributions summing to one)
    does not matter to the kernel: its checks hold for the numbers as given, and the bytes are
    bound by their SHA-256 to the translation of the user's source file.

    Raises
    ------
    ModelFileError
        Naming what is wrong.
    """
    header, arrays = unpack(data, MODEL_FORMAT)
    try:
        names = header["states"]
        states = tuple(str(i) for i in range(names)) if isinstance(names, int) else tuple(str(n) for n in names)
        vectors = {entry["name"]: rationals_from(entry, arrays) for entry in header["numbers"]}
        n = len(states)
        labels = {name: np.unpackbits(arrays[f"label.{i}"], count=n).astype(bool)
                  for i, name in enumerate(header["labels"])}
        rewards = {name: vectors[f"reward.{i}"] for i, name in enumerate(header["rewards"])}
        interval = (vectors["interval_lo"], vectors["interval_hi"]) if header["credal"] else None
        mdp = Mdp(states, _wide(arrays["choice_start"]), tuple(str(a) for a in header["actions"]),
                  arrays["choice_action"].astype(np.int32), _wide(arrays["row_start"]), _wide(arrays["target"]),
                  None if header["credal"] else vectors["probability"], rewards, labels,
                  _wide(arrays["initial_states"]), vectors["initial_probability"], interval,
                  constants={str(k): str(v) for k, v in header["constants"].items()})
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise ModelFileError(f"a malformed {MODEL_FORMAT} file ({type(exc).__name__}: {str(exc)[:120]})") from None
    _check_layout(mdp)
    return mdp


def _wide(array: np.ndarray) -> IntArray:
    return array.astype(np.int64)


def _arrays(header: dict[str, object], data: bytes, offset: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    entries = header["arrays"]
    if not isinstance(entries, list):
        raise ModelFileError("the header's arrays are not a list")
    for name, dtype, length in entries:
        kind = np.dtype(dtype).newbyteorder("<")
        if kind.kind not in "iu" or not isinstance(length, int) or length < 0:
            raise ModelFileError(f"array {str(name)[:40]!r}: dtype {dtype!r} and length {length!r}")
        size = kind.itemsize * length
        if offset + size > len(data):
            raise ModelFileError(f"array {str(name)[:40]!r} runs past the end of the file")
        out[str(name)] = np.frombuffer(data, dtype=kind, count=length, offset=offset)
        offset += size
    if offset != len(data):
        raise ModelFileError("bytes after the last array")
    return out


def rationals_from(entry: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> Rationals:
    name, den = entry["name"], entry["den"]
    if den == "text":
        text = arrays[f"{name}.text"].tobytes().decode()
        return Rationals.from_fractions(Fraction(part) for part in text.split("\n")) if text else Rationals.zeros(0)
    common = int(den)
    if not 0 < common < _INT64_LIMIT:
        raise ModelFileError(f"{name}: denominator {den[:40]!r} out of range")
    num = arrays[f"{name}.num"].astype(np.int64)
    g = np.gcd(num, np.int64(common))
    return Rationals(num // g, np.int64(common) // g)


def _check_layout(mdp: Mdp) -> None:
    """Offsets non-decreasing from 0 to the array's end, every index in range."""
    n, c, t = mdp.n_states, len(mdp.choice_action), len(mdp.target)

    def offsets(name: str, start: IntArray, size: int, count: int) -> None:
        if len(start) != count + 1 or start[0] != 0 or start[-1] != size or np.any(np.diff(start) < 0):
            raise ModelFileError(f"{name}: not offsets from 0 to {size} over {count} groups")

    offsets("choice_start", mdp.choice_start, c, n)
    offsets("row_start", mdp.row_start, t, c)
    checks: list[tuple[str, npt.NDArray[np.integer], int]] = [("target", mdp.target, n), ("choice_action", mdp.choice_action, len(mdp.action_names)),
              ("initial_states", mdp.initial_states, n)]
    for name, index, bound in checks:
        if len(index) and (index.min() < 0 or index.max() >= bound):
            raise ModelFileError(f"{name}: an index outside 0..{bound - 1}")
    sizes = [(mdp.initial_probability, len(mdp.initial_states), "initial_probability")]
    sizes += [(v, t, "probability") for v in ([mdp.probability] if mdp.probability is not None else [])]
    sizes += [(v, t, "interval") for v in (mdp.interval or ())]
    sizes += [(v, c, f"reward {name!r}") for name, v in mdp.rewards.items()]
    for values, size, name in sizes:
        if len(values) != size:
            raise ModelFileError(f"{name}: {len(values)} numbers for {size} entries")
