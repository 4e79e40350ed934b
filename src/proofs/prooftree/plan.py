"""Read and validate every input before any lemma is discharged; order lemmas by dependency.

All input problems (obligations, models, names, policies) are collected and raised together.
The obligation files of the whole project are always read, so that a ``from`` premise is found
wherever it is declared; naming files (or folders of them) only selects the lemmas to prove:
those the named files declare, and the premises they need.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofs.core.errors import InputError, InputErrors, Location, ProofsError
from proofs.kernel.check import policy_table_path
from proofs.spec.obligation import (
    AlignmentLemma,
    CertificateLemma,
    Lemma,
    ObligationFile,
    PolicyLemma,
    Settings,
    discover,
    load_obligations,
    read_settings,
)

__all__ = ["Plan", "Task", "collision_errors", "find_root", "make_plan", "obligation_paths", "proof_graph"]


@dataclass(frozen=True, eq=False)
class Task:
    lemma: Lemma
    obligation: ObligationFile
    mdp: Any = None
    policy: Any = None
    translation: Any = None   # proofs.worldmodel.cache.Translation of the lemma's world model


@dataclass(frozen=True, eq=False)
class Plan:
    root: Path
    settings: Settings
    tasks: dict[str, Task]
    order: tuple[str, ...]
    premises: dict[str, tuple[str, ...]] = field(repr=False)   # of each selected lemma, in the selection
    allow_code: bool = False


def find_root(start: Path) -> Path:
    """The project root: the nearest folder upwards holding pyproject.toml (else `start`)."""
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return start


def proof_graph(files: list[ObligationFile]) -> Any:
    """The DAG of lemmas: an edge premise -> conclusion for every ``from`` reference."""
    import networkx as nx  # here, not at the top: `proofs check` reads certificates without a plan

    graph = nx.DiGraph()
    for f in files:
        for lemma in f.lemmas:
            graph.add_node(lemma.id, kind=lemma.kind, file=str(f.shown_path or f.path))
    for conclusion, premises in _premises(files).items():
        for premise in premises:
            graph.add_edge(premise, conclusion)
    return graph


def obligation_paths(paths: list[Path]) -> list[Path]:
    """The obligation files named on the command line: a folder stands for its ``*.toml`` files.

    Raises
    ------
    InputError, InputErrors
        For a path that does not exist and for a folder without obligation files.
    """
    out: list[Path] = []
    errors: list[InputError] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.toml") if p.is_file())
            if not found:
                errors.append(InputError(Location(path), "the folder holds no obligation file (*.toml)",
                                         "Name obligation files, or a folder that holds some"))
            out.extend(found)
        elif not path.exists():
            errors.append(InputError(Location(path), "no such file or folder",
                                     "Name obligation files (.toml) or folders of them"))
        else:
            out.append(path)
    InputErrors.raise_if_any(errors)
    return out


def collision_errors(root: Path, settings: Settings, files: list[ObligationFile]) -> list[InputError]:
    """Lemmas whose certificate files would overwrite an input file, or each other's on a file
    system that ignores case (macOS, Windows)."""
    from proofs.prooftree.verify import certificate_path
    from proofs.worldmodel.files import model_files

    inputs: dict[Path, str] = {}
    for f in files:
        inputs[f.path.resolve()] = "the obligation file"
        if f.worldmodel_path is not None:
            for path in model_files(f.worldmodel_path):
                inputs[path.resolve()] = "a world-model file"
        for lemma in f.lemmas:
            if isinstance(lemma, PolicyLemma) and isinstance(lemma.policy_path, Path):
                inputs[lemma.policy_path.resolve()] = "the policy file"
    errors: list[InputError] = []
    folded: dict[str, str] = {}
    for f in files:
        for lemma in f.lemmas:
            where = Location(lemma.where.path, lemma.where.line, f"{lemma.where.key}.id")
            cert = certificate_path(root, settings.certificates, lemma.id)
            for written in (cert, cert.with_suffix(".npz"), policy_table_path(cert)):
                if written.resolve() in inputs:
                    errors.append(InputError(
                        where, f"lemma {lemma.id!r} would write {written}, which is "
                        f"{inputs[written.resolve()]} {written.name}",
                        "Rename the lemma, or keep certificates in a folder of their own ([tool.proofs] certificates)"))
            other = folded.setdefault(lemma.id.casefold(), lemma.id)
            if other != lemma.id:
                errors.append(InputError(
                    where, f"lemma ids {other!r} and {lemma.id!r} differ only in case: their certificate files "
                    "are one file where case is ignored", "Rename one of the two lemmas"))
    return errors


def make_plan(root: Path, paths: list[Path], *, allow_code: bool = False) -> Plan:
    """Read every input of the lemmas to prove: those of `paths` (default: the whole project) and
    the premises they cite, wherever declared."""
    from proofs.prooftree.state import check_state_folder

    settings = read_settings(root / "pyproject.toml")
    check_state_folder(root, settings)
    named = obligation_paths(paths)
    project = discover(root, settings)
    files_in = project + named
    if not files_in:
        raise InputError(Location(root / settings.obligations), "no obligation files found",
                         "Add obligations/*.toml or name the files to prove")
    files = load_obligations(files_in)
    InputErrors.raise_if_any(collision_errors(root, settings, files))
    premises = _premises(files)
    selected = set(premises) if not named else _needed(premises, files, named)
    errors: list[InputError] = []
    models: dict[tuple[Path, tuple[tuple[str, str], ...]], Any] = {}
    atoms = _atoms(files)
    tasks: dict[str, Task] = {}
    for f in files:
        chosen = [lemma for lemma in f.lemmas if lemma.id in selected]
        translation = _model(root, f, models, atoms, errors) if chosen else None
        mdp = None if translation is None else translation.mdp
        for lemma in chosen:
            tasks[lemma.id] = Task(lemma, f, mdp, _policy(lemma, f, mdp, allow_code, errors), translation)
            if mdp is not None:
                errors.extend(_names(lemma, f, mdp))
    InputErrors.raise_if_any(errors)
    kept = {i: tuple(p for p in premises[i] if p in selected) for i in sorted(selected)}
    return Plan(root, settings, tasks, _order(kept), kept, allow_code)


def _premises(files: list[ObligationFile]) -> dict[str, tuple[str, ...]]:
    """The premises of every lemma, by lemma (and of every premise named, empty): `proof_graph`'s
    edges, and the plan's without networkx (a plan is made on every ``prove``, and importing
    networkx alone takes longer than a small lemma)."""
    out: dict[str, tuple[str, ...]] = {lemma.id: () for f in files for lemma in f.lemmas}
    for f in files:
        for lemma in f.lemmas:
            if isinstance(lemma, CertificateLemma):
                out[lemma.id] = tuple(dict.fromkeys(lemma.premises))
                for premise in lemma.premises:
                    out.setdefault(premise, ())
    return out


def _order(premises: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Premises before conclusions, the smallest id first among those ready (networkx's
    lexicographical topological sort); the obligations were checked for cycles when read."""
    waiting = {i: set(ps) for i, ps in premises.items()}
    users: dict[str, list[str]] = {i: [] for i in premises}
    for i, ps in premises.items():
        for p in ps:
            users[p].append(i)
    ready = [i for i, ps in waiting.items() if not ps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for user in users[i]:
            waiting[user].discard(i)
            if not waiting[user]:
                heapq.heappush(ready, user)
    return tuple(order)


def _needed(premises: dict[str, tuple[str, ...]], files: list[ObligationFile], named: list[Path]) -> set[str]:
    """The lemmas declared in the `named` files, and every premise they depend on."""
    wanted = {p.resolve() for p in named}
    needed: set[str] = set()
    stack = [lemma.id for f in files if f.path.resolve() in wanted for lemma in f.lemmas]
    while stack:
        i = stack.pop()
        if i not in needed:
            needed.add(i)
            stack.extend(premises.get(i, ()))
    return needed


ModelKey = tuple[Path, tuple[tuple[str, str], ...]]


def _atoms(files: list[ObligationFile]) -> dict[ModelKey, set[Any]]:
    """The variable atoms of Φ used on each world model, across the project's obligations: each
    becomes a label of the canonical model, the same for every lemma on that model, so that
    premises about one model have one canonical hash."""
    from proofs.core.formula import atoms_of

    out: dict[ModelKey, set[Any]] = {}
    for f in files:
        if f.worldmodel_path is not None:
            found = out.setdefault((f.worldmodel_path, f.worldmodel_constants), set())
            for lemma in f.lemmas:
                if isinstance(lemma, AlignmentLemma):
                    found.update(*(atoms_of(c) for c in lemma.desirable))
    return out


def project_atoms(root: Path) -> dict[ModelKey, set[Any]]:
    """`_atoms` over every obligation file of the project (what `proofs prove` used)."""
    settings = read_settings(root / "pyproject.toml")
    return _atoms(load_obligations(discover(root, settings)))


def _model(root: Path, f: ObligationFile, models: dict[ModelKey, Any], atoms: dict[ModelKey, set[Any]],
           errors: list[InputError]) -> Any:
    from proofs.spec.resolve import check_objective
    from proofs.worldmodel.cache import translate

    if f.worldmodel_path is None:
        return None
    key = (f.worldmodel_path, f.worldmodel_constants)
    if key not in models:
        try:
            models[key] = translate(f.worldmodel_path, root, f.worldmodel_constants, atoms.get(key, ()))
        except InputErrors as exc:
            errors.extend(exc.errors)
            models[key] = None
        except InputError as exc:
            errors.append(exc)
            models[key] = None
    translation = models[key]
    if translation is not None and f.objective is not None:
        errors.extend(check_objective(f.objective, translation.mdp, f.locate("objective.reward")))
    return translation


def _names(lemma: Lemma, f: ObligationFile, mdp: Any) -> list[InputError]:
    from proofs.spec.resolve import check_names

    if not isinstance(lemma, AlignmentLemma):
        return []
    out: list[InputError] = []
    wheres = lemma.desirable_where or (lemma.where,) * len(lemma.desirable)
    for constraint, where in zip(lemma.desirable, wheres):
        out.extend(check_names(constraint, mdp, where))
    return out


def _policy(lemma: Lemma, f: ObligationFile, mdp: Any, allow_code: bool, errors: list[InputError]) -> Any:
    from proofs.policy.load import load_policy

    if not isinstance(lemma, PolicyLemma) or mdp is None or f.objective is None:
        return None
    try:
        return load_policy(lemma.policy_path, mdp, allow_code=allow_code, horizon=f.objective.horizon)
    except InputErrors as exc:
        errors.extend(exc.errors)
    except ProofsError as exc:
        if isinstance(exc, InputError):
            errors.append(exc)
        else:
            raise
    return None
