"""World models in Python: `load_model`, `from_gym` and the `Model` they return.

UNTRUSTED, like every reader: a `Model` is the canonical exact form of a world model
(`proofs.core.model.Mdp`) plus where it came from, so that a certificate made from Python binds
the same source file and canonical model as one made by `proofs prove`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from proofs.core.formula import Atom
from proofs.core.model import Mdp, encode, model_sha256

__all__ = ["Model", "from_gym", "load_model"]

# Gymnasium's toy-text grids: which way each action index moves (column, row) on the map.
_ARROWS = {
    "FrozenLakeEnv": {"0": (-1, 0), "1": (0, 1), "2": (1, 0), "3": (0, -1)},
    "CliffWalkingEnv": {"0": (0, -1), "1": (1, 0), "2": (0, 1), "3": (-1, 0)},
}


class Model:
    """A finite MDP, every number exact, and the source it was read from.

    Make one with `load_model` (a world-model file) or `from_gym` (a Gymnasium environment with a
    ``P`` table). A model from Gymnasium lives in memory until `save` writes it as a JSON world
    model; a certificate names a model file, so save it before saving a certificate about it.

    Attributes
    ----------
    mdp : proofs.core.model.Mdp
        The canonical model the kernel reads.
    path : pathlib.Path or None
        The source file (``None`` for a model not yet saved).
    constants : dict of str to str
        The values given to a PRISM program's undefined constants.
    grid : tuple of int or None
        ``(rows, columns)`` when state ``i`` is cell ``(i // columns, i % columns)`` of a grid
        (Gymnasium's toy-text maps), for `plot`; ``None`` otherwise.

    Examples
    --------
    >>> model = load_model("worldmodels/cliff.toml")
    >>> model.n_states, model.labels
    (4, ('fatal', 'goal', 'init'))
    >>> model.actions("start")
    ('walk', 'run')
    """

    def __init__(self, mdp: Mdp, path: Path | None, constants: Mapping[str, str] | None = None, *,
                 grid: tuple[int, int] | None = None, arrows: Mapping[str, tuple[int, int]] | None = None,
                 document: Mapping[str, Any] | None = None, atoms: tuple[Atom, ...] = (),
                 cells: Mapping[str, tuple[int, int]] | None = None) -> None:
        self.mdp = mdp
        self._path = path
        self._base: Model | None = None    # the model this one adds atom labels to: it shares its file
        self.constants = dict(constants or {})
        self.grid = grid
        self.arrows = dict(arrows or {})
        self.cells: dict[str, tuple[int, int]] = dict(cells or {})
        self._document = document
        self.atoms = atoms

    # -- what it is ---------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The source file (``None`` for a model not yet saved)."""
        return self._path if self._base is None else self._base.path

    @property
    def n_states(self) -> int:
        """The number of states."""
        return self.mdp.n_states

    @property
    def states(self) -> tuple[str, ...]:
        """State names, in the model's order."""
        return self.mdp.states

    @property
    def labels(self) -> tuple[str, ...]:
        """Label names, sorted."""
        return tuple(sorted(self.mdp.labels))

    @property
    def rewards(self) -> tuple[str, ...]:
        """Reward-structure names, sorted."""
        return tuple(sorted(self.mdp.rewards))

    def actions(self, state: str | int) -> tuple[str, ...]:
        """The actions of a state (given by name or index), in the model's order."""
        return tuple(self.mdp.local_actions(self.index(state)))

    def index(self, state: str | int) -> int:
        """A state's index, from its name or index.

        Raises
        ------
        KeyError
            For a name the model does not have (the message lists close names).
        """
        if isinstance(state, int) and not isinstance(state, bool):
            if not 0 <= state < self.mdp.n_states:
                raise KeyError(f"state index {state} is not in 0..{self.mdp.n_states - 1}")
            return state
        try:
            return self.mdp.state_index[str(state)]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(str(state), self.mdp.states, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise KeyError(f"the model has no state {state!r}{hint}") from None

    @property
    def sha256(self) -> str:
        """The SHA-256 of the canonical model (what certificates bind as ``canonical``)."""
        if "_sha256" not in self.__dict__:
            self.__dict__["_sha256"] = model_sha256(encode(self.mdp))
        return str(self.__dict__["_sha256"])

    def __repr__(self) -> str:
        where = self.path.as_posix() if self.path is not None else "in memory"
        return (f"<proofs.Model {where}: {self.mdp.n_states} states, {self.mdp.n_choices} choices, "
                f"{self.mdp.n_transitions} transitions>")

    # -- derived models -------------------------------------------------------------------------
    def with_atoms(self, atoms: Iterable[Atom]) -> Model:
        """The model with one more label per variable atom of Φ (``t>=deadline``), as `proofs
        prove` adds them; the same model when there are none to add."""
        from proofs.worldmodel.cache import with_atom_labels

        wanted = tuple(sorted({*self.atoms, *(a for a in atoms if str(a) not in self.mdp.labels)}, key=str))
        if wanted == self.atoms:
            return self
        labelled = with_atom_labels(self.mdp, wanted)
        out = Model(labelled, None, self.constants, grid=self.grid, arrows=self.arrows, atoms=wanted, cells=self.cells)
        out._base = self._base or self
        return out

    def save(self, path: str | Path) -> Path:
        """Write a model made from Gymnasium as a JSON world model (the bytes `proofs import gym`
        writes) and make it this model's source file.

        Raises
        ------
        ValueError
            For a model read from a file (it has one already).
        """
        from proofs.worldmodel.gym import write_model_json

        if self._base is not None:
            return self._base.save(path)
        if self._document is None:
            raise ValueError(f"this model was read from {self.path}; it is saved already")
        target = Path(path)
        if target.suffix.lower() != ".json":
            raise ValueError(f"a model from Gymnasium is written as JSON: name it *.json, not {target.name!r}")
        write_model_json(self._document, target)
        self._path = target
        self.mdp = dataclasses.replace(self.mdp, source=str(target))
        return target


def load_model(path: str | Path, *, constants: Mapping[str, str | int | Fraction] | None = None,
               grid: tuple[int, int] | None = None) -> Model:
    """Read a world model file: TOML or JSON, explicit (``.tra``), DRN, or a PRISM program.

    Parameters
    ----------
    path
        The model file; a folder holding exactly one model file is accepted too.
    constants
        Values of a PRISM program's undefined constants (``{"N": 4, "p": "1/10"}``).
    grid
        ``(rows, columns)`` if state ``i`` is grid cell ``(i // columns, i % columns)``, for plots
        (else a TOML or JSON file's ``[plot]`` table gives the grid, and maybe each state's cell).

    Returns
    -------
    Model

    Raises
    ------
    proofs.core.errors.InputError
        For a file that does not read or validate: the message names the file, the place, what is
        wrong and how to fix it.

    Examples
    --------
    >>> model = load_model("worldmodels/cliff.toml")
    >>> model.rewards
    ('careful', 'harm', 'progress')
    """
    from proofs.prooftree.plan import find_root
    from proofs.worldmodel.cache import translate

    source = _model_file(Path(path))
    texts = {str(k): _constant_text(v) for k, v in (constants or {}).items()}
    if not source.is_file():
        from proofs.worldmodel.load import load_mdp

        load_mdp(source, constants=texts)   # its error names the file and what is wrong
    from proofs.report.plot import read_layout

    translation = translate(source, find_root(source.resolve().parent), tuple(sorted(texts.items())))
    layout = read_layout(source)
    if layout is None or grid is not None:
        model = Model(translation.mdp, source, texts, grid=grid)
    else:
        model = Model(translation.mdp, source, texts, grid=layout.grid, arrows=layout.arrows, cells=layout.cells)
    model.__dict__["_sha256"] = translation.sha256
    return model


def from_gym(env_or_id: Any, **kwargs: Any) -> Model:
    """A Gymnasium environment with a ``P`` table as an exact world model (as `proofs import gym`).

    Parameters
    ----------
    env_or_id
        An environment id such as ``"FrozenLake-v1"`` (made with ``kwargs``), or an environment
        object (toy-text environments, or any exposing ``P[s][a] = [(p, next, reward, done)]``
        and ``initial_state_distrib``).
    **kwargs
        Keyword arguments for ``gymnasium.make``.

    Returns
    -------
    Model
        In memory: states ``"0"``, ``"1"``, ... and actions ``"0"``, ``"1"``, ... as in the
        environment; reward structure ``"reward"``; labels ``start``, ``terminal`` (and
        ``hole``, ``goal`` for FrozenLake). Save it with `Model.save` before saving certificates.

    Raises
    ------
    proofs.core.errors.InputError
        When the environment cannot be made or has no exact ``P`` table (each float is read as
        the simplest rational within 1e-12, and a distribution must then sum to exactly 1).

    Examples
    --------
    >>> lake = from_gym("FrozenLake-v1", is_slippery=False)
    >>> lake.n_states, lake.grid, "hole" in lake.labels
    (16, (4, 4), True)
    """
    from proofs.worldmodel.gym import _make, env_document
    from proofs.worldmodel.structured import read_document

    if isinstance(env_or_id, str):
        env = _make(env_or_id, kwargs)
        name = env_or_id
    else:
        if kwargs:
            raise TypeError("keyword arguments go to gymnasium.make: give an environment id with them")
        env, name = env_or_id, None
    try:
        document = env_document(env, name)
        unwrapped = env.unwrapped
    finally:
        if isinstance(env_or_id, str):
            env.close()
    label = name or getattr(getattr(env, "spec", None), "id", None) or type(unwrapped).__name__
    mdp = read_document(document, Path(f"gym:{label}"))
    return Model(mdp, None, grid=_grid(unwrapped), arrows=_ARROWS.get(type(unwrapped).__name__),
                 document=document)


def _grid(env: Any) -> tuple[int, int] | None:
    desc = getattr(env, "desc", None)
    if desc is not None and getattr(desc, "ndim", 0) == 2:
        return int(desc.shape[0]), int(desc.shape[1])
    shape = getattr(env, "shape", None)
    if isinstance(shape, tuple) and len(shape) == 2:
        return int(shape[0]), int(shape[1])
    return None


def _constant_text(value: str | int | Fraction) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, Fraction)):
        raise TypeError(f"a constant's value is exact (an int, a Fraction or text), got {value!r}")
    return str(value)


def _model_file(path: Path) -> Path:
    """The model file of `path`, or of a folder holding exactly one model file."""
    if not path.is_dir():
        return path
    from proofs.core.errors import InputError, Location

    found = sorted(p for p in path.iterdir() if p.suffix.lower() in (".toml", ".json", ".tra", ".drn", ".nm", ".prism", ".pm"))
    if len(found) != 1:
        listing = ", ".join(p.name for p in found) or "none"
        raise InputError(Location(path), f"the folder holds {len(found)} model files ({listing})",
                         "Name the model file itself")
    return found[0]
