"""Read and validate every input before any lemma is discharged; order lemmas by dependency.

All input problems (obligations, models, names, policies) are collected and raised together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from proofs.errors import InputError, InputErrors, Location, ProofsError
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

__all__ = ["Plan", "Task", "find_root", "make_plan", "proof_graph"]


@dataclass(frozen=True, eq=False)
class Task:
    lemma: Lemma
    obligation: ObligationFile
    mdp: Any = None
    policy: Any = None


@dataclass(frozen=True, eq=False)
class Plan:
    root: Path
    settings: Settings
    tasks: dict[str, Task]
    order: tuple[str, ...]
    graph: Any = field(repr=False)
    allow_code: bool = False


def find_root(start: Path) -> Path:
    """The project root: the nearest folder upwards holding pyproject.toml (else `start`)."""
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return start


def proof_graph(files: list[ObligationFile]) -> Any:
    """The DAG of lemmas: an edge premise -> conclusion for every ``from`` reference."""
    graph = nx.DiGraph()
    for f in files:
        for lemma in f.lemmas:
            graph.add_node(lemma.id, kind=lemma.kind, file=str(f.shown_path or f.path))
    for f in files:
        for lemma in f.lemmas:
            if isinstance(lemma, CertificateLemma):
                for premise in lemma.premises:
                    graph.add_edge(premise, lemma.id)
    return graph


def make_plan(root: Path, paths: list[Path], *, allow_code: bool = False) -> Plan:
    settings = read_settings(root / "pyproject.toml")
    files_in = paths or discover(root, settings)
    if not files_in:
        raise InputError(Location(root / settings.obligations), "no obligation files found",
                         "Add obligations/*.toml or name the files to prove")
    files = load_obligations(files_in)
    errors: list[InputError] = []
    models: dict[Path, Any] = {}
    tasks: dict[str, Task] = {}
    for f in files:
        mdp = _model(f, models, errors)
        for lemma in f.lemmas:
            tasks[lemma.id] = Task(lemma, f, mdp, _policy(lemma, f, mdp, allow_code, errors))
            if mdp is not None:
                errors.extend(_names(lemma, f, mdp))
    InputErrors.raise_if_any(errors)
    graph = proof_graph(files)
    order = tuple(nx.lexicographical_topological_sort(graph))
    return Plan(root, settings, tasks, order, graph, allow_code)


def _model(f: ObligationFile, models: dict[Path, Any], errors: list[InputError]) -> Any:
    from proofs.spec.resolve import check_objective
    from proofs.worldmodel.load import load_mdp

    if f.worldmodel_path is None:
        return None
    if f.worldmodel_path not in models:
        try:
            models[f.worldmodel_path] = load_mdp(f.worldmodel_path)
        except InputErrors as exc:
            errors.extend(exc.errors)
            models[f.worldmodel_path] = None
        except InputError as exc:
            errors.append(exc)
            models[f.worldmodel_path] = None
    mdp = models[f.worldmodel_path]
    if mdp is not None and f.objective is not None:
        errors.extend(check_objective(f.objective, mdp, f.locate("objective.reward")))
    return mdp


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
