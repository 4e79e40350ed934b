"""Proving lemmas from Python: `prove_policy`, `prove_alignment`, `compose`, `evaluate`, `check`.

UNTRUSTED orchestration, the same as `proofs prove`'s: the engines search, and every result is
judged by the trusted kernel (`proofs.kernel.check.Kernel`) before it is returned. A result's
`save` writes exactly the certificate `proofs prove` writes for the same lemma (the CLI's proof
tree makes its certificates with `discharge` and `write_certificate` of this module).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from proofs import __version__
from proofs.api.model import Model
from proofs.api.policy import Policy, mixture
from proofs.core.certificate import FORMAT, dump, relative, sha256_bytes, write_arrays, write_atomic
from proofs.core.certificates import AlignmentBody, Certificate, CompositionBody
from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure, InputErrors, Location
from proofs.core.formula import Constraint
from proofs.core.objective import Objective
from proofs.core.policy import Policy as Table
from proofs.core.statement import Statement

__all__ = ["AlignmentResult", "CertificateRejected", "Evaluation", "PolicyResult", "Result", "SafetyResult",
           "Status", "Verdict", "check", "compose", "discharge", "evaluate", "prove_alignment", "prove_policy",
           "write_certificate"]

Number = Fraction | int | str
"""An exact number: a `Fraction`, an ``int``, or text such as ``"1/100"`` or ``"0.01"``."""


class Status(Enum):
    """A lemma's verdict; ``.value`` is the SPEC's word.

    Examples
    --------
    >>> Status("proved") is Status.PROVED, Status.REFUTED.value
    (True, 'refuted')
    """

    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


class CertificateRejected(CheckFailure):
    """The kernel rejected the certificate an engine made: no verdict is reported (a bug to report).

    Examples
    --------
    >>> try:
    ...     raise CertificateRejected("policy step: the claimed J(pi0) is not the kernel's")
    ... except CertificateRejected as exc:
    ...     print(exc)
    policy step: the claimed J(pi0) is not the kernel's
    """


def exact(value: Number, what: str = "a number") -> Fraction:
    """``value`` as an exact `Fraction` (floats are refused: write ``"0.01"``)."""
    from proofs.core.rational import parse_rational

    if isinstance(value, bool) or not isinstance(value, (Fraction, int, str)):
        raise TypeError(f"{what} must be exact (a Fraction, an int or text such as \"1/100\"), got {value!r}")
    return parse_rational(value) if isinstance(value, str) else Fraction(value)


# -- the engines, shared with `proofs prove` ------------------------------------------------------------


def discharge(kind: str, mdp: Any, objective: Objective, epsilon: Fraction, *, policy: Table | None = None,
              desirable: Sequence[Constraint] = (), engine: str = "auto",
              margin: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a policy or alignment lemma's engine: (certificate fields after the header, witness arrays)."""
    import dataclasses

    if kind == "policy":
        from proofs.engines.policy import discharge_policy

        assert policy is not None
        r = discharge_policy(mdp, objective, policy, epsilon)
        values = {"j_policy": r.j_policy.to_json(), "j_star": r.j_star.to_json(), "gap": r.gap.to_json(),
                  **({} if r.eta is None else {"eta": r.eta.to_json()})}
        diagnosis = [dataclasses.asdict(d) if dataclasses.is_dataclass(d) else d for d in r.diagnosis]
        return ({"status": r.status, "values": values, "witness": r.witness, "diagnosis": diagnosis,
                 "engine": {"name": r.engine, "version": __version__}}, dict(getattr(r, "arrays", {}) or {}))
    from proofs.engines.alignment import certificate_fields
    from proofs.engines.select import discharge_alignment

    result = discharge_alignment(mdp, objective, epsilon, tuple(desirable), engine=engine, margin=margin)
    fields = certificate_fields(result)
    if result.status == "proved" and not getattr(mdp, "is_credal", True):
        from proofs.engines.eta import alignment_eta

        eta = alignment_eta(mdp, objective, tuple(desirable), fields)
        if eta is not None:
            fields["values"]["eta"] = eta.to_json()
    fields["engine"] = {"name": result.engine, "version": __version__}
    return fields, dict(result.arrays)


def write_certificate(path: Path, doc: dict[str, Any], arrays: Mapping[str, Any], table: bytes | None) -> Certificate:
    """Write a certificate and its sidecars (witness arrays ``LEMMA.npz``, policy table
    ``LEMMA.table``) atomically, through its type: a document `Certificate.from_json` does not
    read is never written. A sidecar an earlier certificate had and this one does not is removed."""
    from proofs.kernel.check import policy_table_path

    sidecar = path.with_suffix(".npz")
    if arrays:
        doc.setdefault("witness", {})["file"] = {"path": sidecar.name, "sha256": write_arrays(sidecar, dict(arrays))}
    certificate = Certificate.from_json(doc)
    if table is not None:
        write_atomic(policy_table_path(path), table)
    write_atomic(path, dump(certificate.to_json()))
    for unused in ([] if arrays else [sidecar]) + ([] if table is not None else [policy_table_path(path)]):
        unused.unlink(missing_ok=True)
    return certificate


def policy_input(mdp: Any, table: Table, horizon: int | None, path: Path) -> tuple[dict[str, Any], bytes | None]:
    """A policy certificate's ``inputs.policy``, and the bytes of its table when too large to
    write inline (then ``LEMMA.table`` beside the certificate at `path`)."""
    from proofs.kernel.check import policy_table_path
    from proofs.policy.canonical import canonical_table

    canonical = canonical_table(mdp, table, horizon)
    out: dict[str, Any] = {"table_sha256": sha256_bytes(canonical.data)}
    if canonical.document is not None:
        out["table"] = canonical.document
        return out, None
    out["file"] = policy_table_path(path).name
    return out, canonical.data


# -- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The trusted check of one certificate file (`check`): ``accepted``, and why or why not.

    Examples
    --------
    >>> verdict = check("certificates/careful.safe.json")
    >>> bool(verdict), verdict.status
    (True, <Status.PROVED: 'proved'>)
    """

    accepted: bool
    reason: str
    path: Path
    status: Status | None = None
    steps: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.accepted


class Result:
    """What a lemma came to: its `status`, its numbers, and its certificate (`save`).

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> r = prove_policy(model, Objective("careful", horizon=6), epsilon="1/100", policy="policies/cliff-walk.json")
    >>> r.proved, r.certificate.statement.kind, r.explain().splitlines()[0]
    (True, 'policy', 'policy (policy lemma, standalone): PROVED (checked by the kernel against the current inputs)')
    """

    kind = ""

    def __init__(self, model: Model | None, statement: Statement, fields: dict[str, Any],
                 arrays: Mapping[str, Any], *, epsilon: Fraction) -> None:
        self.model = model
        self.statement = statement
        self.fields = fields
        self.arrays = dict(arrays)
        self.epsilon = epsilon
        self.status = Status(fields["status"])
        self.path: Path | None = None
        self.reason: str | None = fields.get("reason")

    @property
    def proved(self) -> bool:
        return self.status is Status.PROVED

    def __repr__(self) -> str:
        return f"<proofs.{type(self).__name__} {self.status.value}: {self.statement.to_json()['formal']}>"

    def _inputs(self, path: Path, root: Path | None) -> tuple[dict[str, Any], bytes | None]:
        assert self.model is not None
        return {"worldmodel": _worldmodel_input(self.model, root)}, None

    def document(self, path: Path, *, lemma_id: str | None = None, obligation: str | Path | None = None,
                 provisional: bool = False) -> tuple[dict[str, Any], bytes | None]:
        """The certificate document as saved at `path` (see `save`), and a policy-table sidecar's
        bytes. A ``provisional`` document names the canonical model but not the source file's
        hash (what the kernel reads before anything is saved)."""
        from proofs.prooftree.plan import find_root

        root = None if provisional else find_root(path.resolve().parent)
        inputs, table = self._inputs(path, root)
        lemma: dict[str, Any] = {"id": lemma_id or path.stem, "kind": self.kind}
        if obligation is not None:
            lemma["obligation"] = relative(Path(obligation), root) if root is not None and Path(
                obligation).is_absolute() else Path(obligation).as_posix()
        doc = {"format": FORMAT, "lemma": lemma, "statement": self.statement.to_json(), "inputs": inputs}
        doc.update({k: v for k, v in self.fields.items()})
        return doc, table

    def save(self, path: str | Path, *, lemma_id: str | None = None, obligation: str | Path | None = None) -> Path:
        """Write the certificate (with its sidecars) to `path`, then have the kernel check it.

        The lemma's id is the file's stem unless ``lemma_id`` is given; `path` may be a folder (the
        file is then ``LEMMA_ID.json`` in it, ``alignment.json`` etc. without an id). Paths inside (the world
        model's) are relative to the project root: the nearest folder upwards of `path` holding
        ``pyproject.toml``, else the certificate's folder. Without ``obligation`` the certificate
        is *standalone*: `proofs check FILE` accepts it on its own statement. With the obligation
        file that declares the lemma, the bytes are those `proofs prove` writes.

        Raises
        ------
        CertificateRejected
            If the kernel does not accept the written certificate.
        """
        target = Path(path)
        if target.is_dir():   # a folder: the certificate goes in it, named by the lemma
            target = target / f"{lemma_id or self.kind}.json"
        if target.suffix != ".json":
            raise ValueError(f"a certificate file is named *.json, not {target.name!r}")
        doc, table = self.document(target, lemma_id=lemma_id, obligation=obligation)
        write_certificate(target, doc, self.arrays, table)
        self.path = target
        verdict = _kernel_check(target, self.model)
        if not verdict.accepted:
            raise CertificateRejected(verdict.reason)
        return target

    @property
    def certificate(self) -> Certificate:
        """The certificate as typed data (the lemma id ``"python"`` until saved)."""
        return _provisional(self)

    def explain(self) -> str:
        """The verdict in words (as `proofs explain` says it)."""
        from proofs.report.explain import explain

        return explain(self.certificate, self._context())

    def _context(self) -> Any:
        return None

    def plot(self, path: str | Path | None = None, *, ax: Any = None) -> Any:
        """Draw the policy (or the reward hack) over a grid-shaped model: a heat map of how often
        each cell is visited, an arrow per cell for the action, fatal and goal cells marked.
        Returns the matplotlib figure; writes it to `path` when given (PNG, SVG, PDF).

        Raises
        ------
        ValueError
            For a model that is not grid-shaped (`Model.grid`), or a result without a policy.
        """
        from proofs.report.plot import plot_policy

        policy = self._plotted()
        if policy is None:
            raise ValueError(f"this {self.kind} result has no policy to draw")
        assert self.model is not None
        return plot_policy(self.model, policy, self._horizon(), title=repr(self), path=path, ax=ax)

    def _plotted(self) -> Policy | None:
        return None

    def _horizon(self) -> int | None:
        objective = self.statement.objective
        return None if objective is None else objective.horizon


class PolicyResult(Result):
    """`prove_policy`'s answer: J(π₀), J* and the gap, as exact numbers or sound enclosures.

    Attributes
    ----------
    j_policy, j_star, gap : Enclosure
        ``float(x)`` gives a number; ``x.lo``, ``x.hi`` the exact bounds.
    policy : Policy

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> r = prove_policy(model, Objective("progress", horizon=6), epsilon="1/100", policy="policies/cliff-walk.json")
    >>> r.status.value, r.j_policy.value, r.j_star.value, float(r.gap)
    ('refuted', Fraction(57, 64), Fraction(157, 160), 0.090625)
    """

    kind = "policy"

    def __init__(self, model: Model, statement: Statement, fields: dict[str, Any], arrays: Mapping[str, Any],
                 policy: Policy, table: Table, *, epsilon: Fraction) -> None:
        super().__init__(model, statement, fields, arrays, epsilon=epsilon)
        values = fields["values"]
        self.j_policy = Enclosure.from_json(values["j_policy"])
        self.j_star = Enclosure.from_json(values["j_star"])
        self.gap = Enclosure.from_json(values["gap"])
        self.policy = policy
        self.table = table

    def _inputs(self, path: Path, root: Path | None) -> tuple[dict[str, Any], bytes | None]:
        assert self.model is not None
        objective = self.statement.objective
        assert objective is not None
        policy, table = policy_input(self.model.mdp, self.table, objective.horizon, path)
        return {"worldmodel": _worldmodel_input(self.model, root), "policy": policy}, table

    def _plotted(self) -> Policy | None:
        return self.policy

    def _context(self) -> Any:
        from proofs.report.explain import Context

        assert self.model is not None and self.statement.objective is not None
        if not self.model.mdp.is_credal:
            return None
        return Context(self.model.mdp, self.statement.objective, (), policy=self.table)


class AlignmentResult(Result):
    """`prove_alignment`'s answer: J*, each constraint's worst value over the ε-optimal policies,
    and for a refuted lemma the reward hack (`counterexample`).

    Attributes
    ----------
    j_star : Enclosure
    constraints : tuple of dict
        Per constraint of Φ: ``constraint`` (text), ``threshold``, ``worst`` (an `Enclosure`),
        ``holds`` (``True``, ``False`` or ``None``: undecided).
    margin : Enclosure, "inf" or None
        The largest ε for which the lemma holds, when asked with ``margin=True``.
    counterexample : Policy or None
        A concrete ε-optimal policy (possibly a mixture) violating Φ, when refuted.

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> r = prove_alignment(model, Objective("careful", horizon=6), epsilon="1/100",
    ...                     desirable=['P<=0.01 [ F "fatal" ]'], margin=True)
    >>> r.status.value, r.constraints[0]["worst"].value, r.margin
    ('proved', Fraction(41, 9600), Enclosure(lo=Fraction(71, 1600), hi=Fraction(71, 1600)))
    """

    kind = "alignment"

    def __init__(self, model: Model, statement: Statement, fields: dict[str, Any], arrays: Mapping[str, Any],
                 desirable: Sequence[Constraint], *, epsilon: Fraction) -> None:
        super().__init__(model, statement, fields, arrays, epsilon=epsilon)
        body = AlignmentBody.from_json(fields, statement)
        self.body = body
        self.desirable = tuple(desirable)
        self.j_star = body.values.j_star
        self.constraints = tuple({"constraint": r.constraint, "threshold": r.threshold, "worst": r.worst,
                                  "holds": r.holds} for r in body.values.constraints)
        self.margin = body.values.margin

    @property
    def counterexample(self) -> Policy | None:
        """The reward hack when refuted (read from the witness on first use), else ``None``."""
        if "_counterexample" not in self.__dict__:
            self.__dict__["_counterexample"] = self._counterexample()
        hack: Policy | None = self.__dict__["_counterexample"]
        return hack

    def _context(self) -> Any:
        from proofs.kernel.horizon import restrict
        from proofs.report.explain import Context

        assert self.model is not None and self.statement.objective is not None
        mdp = self.model.mdp
        if self.statement.objective.horizon is not None:
            mdp = restrict(mdp, self.statement.objective.horizon)
        return Context(mdp, self.statement.objective, self.desirable, self.arrays)

    def _counterexample(self) -> Policy | None:
        """The hack's components as policies over the model (read from the witness, in the model
        cut to the horizon that the engines and the kernel use)."""
        import numpy as np

        from proofs.core.certificates import ExactComponent
        from proofs.core.policy import POLICY_FORMAT, PolicyLayer, policy_from_document
        from proofs.kernel.check_alignment_float import decode_step_tables
        from proofs.kernel.episode import constraint_quantity
        from proofs.policy.canonical import policy_document

        cex = self.body.counterexample
        if cex is None or self.model is None:
            return None
        context = self._context()
        restricted, full = context.mdp, self.model.mdp
        parts = []
        for part in cex.mixture.components:
            if isinstance(part, ExactComponent):
                steps = [dict(step) for step in part.steps] or [{}]
                table = policy_from_document(restricted, {"format": POLICY_FORMAT, "steps": steps})
            else:
                quantity = constraint_quantity(restricted, context.objective, self.desirable[cex.constraint])
                assert quantity.steps is not None   # float witnesses are for finite horizons
                rows = decode_step_tables(self.arrays[part.step_tables], part.encoding or "plain",
                                          (quantity.steps, restricted.n_states), "counterexample")
                stop = np.asarray(quantity.stop, dtype=bool)
                table = Table(tuple(PolicyLayer.deterministic(restricted, np.where(
                    stop, -1, restricted.choice_start[:-1] + row.astype(np.int64))) for row in rows))
            documents = [policy_document(restricted, Table((layer,))) for layer in table.layers]
            steps_full = [d.get("actions", {}) for d in documents]
            own = policy_from_document(full, {"format": POLICY_FORMAT, "steps": steps_full})
            parts.append((part.weight, own if part.after_decided != "J-optimal" else _then(own, self._optimal())))
        return mixture(self.model, parts, f"the reward hack against {self.constraints[cex.constraint]['constraint']}")

    def _optimal(self) -> Table:
        """A J-optimal policy, which a hack's component follows once its constraint is decided."""
        from proofs.semantics.evaluate import optimal

        if "_best" not in self.__dict__:
            assert self.model is not None and self.statement.objective is not None
            self.__dict__["_best"] = optimal(self.model.mdp, self.statement.objective).policy
        best: Table = self.__dict__["_best"]
        return best

    def _plotted(self) -> Policy | None:
        return self.counterexample


class SafetyResult(Result):
    """`compose`'s answer: the policy satisfies Φ, from a proved alignment lemma and a proved
    policy lemma about the same model and J (and Φ evaluated directly under the policy).

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> J = Objective("careful", horizon=6)
    >>> safe = compose(prove_alignment(model, J, epsilon="1/100", desirable=['P<=0.01 [ F "fatal" ]']),
    ...                prove_policy(model, J, epsilon="1/100", policy="policies/cliff-walk.json"))
    >>> safe.status.value, [(row.constraint, row.holds) for row in safe.direct]
    ('proved', [('P<=1/100 [ F "fatal" ]', True)])
    """

    kind = "certificate"

    def __init__(self, alignment: AlignmentResult, policy: PolicyResult, statement: Statement,
                 fields: dict[str, Any]) -> None:
        super().__init__(policy.model, statement, fields, {}, epsilon=alignment.epsilon)
        self.alignment, self.policy = alignment, policy
        self.direct = CompositionBody.from_json(fields).values.direct

    def document(self, path: Path, *, lemma_id: str | None = None, obligation: str | Path | None = None,
                 provisional: bool = False) -> tuple[dict[str, Any], bytes | None]:
        ids = [self._premise(r, path, suffix, provisional)
               for r, suffix in ((self.alignment, "alignment"), (self.policy, "policy"))]
        statement = Statement("certificate", premises=tuple(ids))
        lemma: dict[str, Any] = {"id": lemma_id or path.stem, "kind": self.kind}
        if obligation is not None:
            lemma["obligation"] = Path(obligation).as_posix()
        fields = dict(self.fields)
        fields["values"] = {**fields["values"], "premises": ids}
        hashes = {i: sha256_bytes(path.with_name(f"{i}.json").read_bytes()) for i in ids}
        doc = {"format": FORMAT, "lemma": lemma, "statement": statement.to_json(), "inputs": {"premises": hashes},
               **fields}
        return doc, None

    def _premise(self, result: Result, path: Path, suffix: str, provisional: bool) -> str:
        """The premise's id: its certificate beside `path`, saved there first if it is not."""
        if provisional:
            target = path.with_name(f"{suffix}.json")
            doc, table = result.document(target, provisional=True)
            write_certificate(target, doc, result.arrays, table)
            return suffix
        if result.path is None or result.path.resolve().parent != path.resolve().parent:
            result.save(path.with_name(f"{path.stem}.{suffix}.json"))
        assert result.path is not None
        return result.path.stem

    def _plotted(self) -> Policy | None:
        return self.policy.policy

    def _horizon(self) -> int | None:
        return self.policy._horizon()

    def _context(self) -> Any:
        from proofs.report.explain import Context

        assert self.policy.model is not None and self.policy.statement.objective is not None
        return Context(self.policy.model.mdp, self.policy.statement.objective, self.alignment.desirable,
                       policy=self.policy.table)


# -- the public functions -----------------------------------------------------------------------------------


def prove_policy(model: Model, objective: Objective, *, epsilon: Number, policy: Policy | str | Path) -> PolicyResult:
    """The policy lemma: J(π₀) ≥ J* − ε for the given policy π₀.

    Parameters
    ----------
    model, objective
        The world model and J.
    epsilon
        The allowed gap ε ≥ 0 (exact: ``"1/100"``, a `Fraction` or an ``int``).
    policy
        A `Policy`, or a policy file (`load_policy`).

    Returns
    -------
    PolicyResult
        Its ``status`` is ``Status.PROVED`` when the gap is certainly at most ε, ``REFUTED`` when
        certainly above, ``UNKNOWN`` otherwise; the kernel has checked its certificate.

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> r = prove_policy(model, Objective("careful", horizon=6), epsilon="1/100", policy="policies/cliff-walk.json")
    >>> r.status.value, r.gap.hi
    ('proved', Fraction(0, 1))
    """
    from proofs.api.policy import load_policy

    eps = _epsilon(epsilon)
    _check_objective(model, objective)
    chosen = policy if isinstance(policy, Policy) else load_policy(policy, model)
    if chosen.model is not model and chosen.model.mdp is not model.mdp:
        raise ValueError("the policy was made for another model object: make it over this model")
    chosen._single()
    table = chosen.table(objective.horizon)
    fields, arrays = discharge("policy", model.mdp, objective, eps, policy=table)
    statement = Statement("policy", objective, eps)
    result = PolicyResult(model, statement, fields, arrays, chosen, table, epsilon=eps)
    _judge(result)
    return result


def prove_alignment(model: Model, objective: Objective, *, epsilon: Number, desirable: Sequence[str | Constraint],
                    engine: str = "auto", margin: bool = False) -> AlignmentResult:
    """The alignment lemma: every policy with J(π) ≥ J* − ε satisfies every constraint of Φ.

    Parameters
    ----------
    desirable
        Φ: constraints in the PRISM-style syntax of SPEC §2, such as ``'P<=0.01 [ F "fatal" ]'``.
    engine
        ``"auto"``, ``"lagrangian"``, ``"lp"`` or ``"smt"`` (all untrusted: the kernel checks).
    margin
        Also compute ε*, the largest ε for which the lemma holds.

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> r = prove_alignment(model, Objective("progress", horizon=6), epsilon="1/100",
    ...                     desirable=['P<=0.01 [ F "fatal" ]'])
    >>> r.status.value, len(r.counterexample.components)
    ('refuted', 2)
    >>> [(str(w), part.action("mid", step=1)) for w, part in r.counterexample.components]
    [('57/65', 'walk'), ('8/65', 'run')]
    """
    from proofs.core.formula import atoms_of
    from proofs.spec.parse import parse_constraint
    from proofs.spec.resolve import check_names

    eps = _epsilon(epsilon)
    if engine not in ("auto", "lagrangian", "lp", "smt"):
        raise ValueError(f"unknown alignment engine {engine!r}: use auto, lagrangian, lp or smt")
    if isinstance(desirable, str):
        desirable = [desirable]
    constraints = tuple(parse_constraint(c, Location("desirable", key=str(i))) if isinstance(c, str) else c
                        for i, c in enumerate(desirable))
    if not constraints:
        raise ValueError("desirable is empty: give Φ as a list of constraints")
    model = model.with_atoms(set().union(*(atoms_of(c) for c in constraints)))
    _check_objective(model, objective)
    InputErrors.raise_if_any([e for i, c in enumerate(constraints)
                              for e in check_names(c, model.mdp, Location("desirable", key=str(i)))])
    fields, arrays = discharge("alignment", model.mdp, objective, eps, desirable=constraints, engine=engine,
                               margin=margin)
    statement = Statement("alignment", objective, eps, constraints)
    result = AlignmentResult(model, statement, fields, arrays, constraints, epsilon=eps)
    _judge(result)
    return result


def compose(alignment: AlignmentResult, policy: PolicyResult) -> SafetyResult:
    """The safety certificate: π₀ satisfies Φ, from a proved alignment lemma (every ε-optimal
    policy satisfies Φ) and a proved policy lemma (π₀ is ε-optimal), about the same model and J.
    Φ is also evaluated directly under π₀ as a cross-check (SPEC §5).

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> J = Objective("careful", horizon=6)
    >>> a = prove_alignment(model, J, epsilon="1/100", desirable=['P<=0.01 [ F "fatal" ]'])
    >>> p = prove_policy(model, J, epsilon="1/100", policy="policies/cliff-walk.json")
    >>> compose(a, p).status.value
    'proved'
    """
    from proofs.core.rational import format_rational
    from proofs.semantics.evaluate import evaluate_constraint

    if not isinstance(alignment, AlignmentResult) or not isinstance(policy, PolicyResult):
        raise TypeError("compose(alignment_result, policy_result)")
    if alignment.model is None or policy.model is None or alignment.model.sha256 != policy.model.sha256:
        raise ValueError("the two lemmas are about different canonical models: prove the policy lemma on "
                         "alignment.model (the model with Φ's atoms as labels)")
    if alignment.statement.objective != policy.statement.objective:
        raise ValueError("the two lemmas score policies with different objectives J")
    objective = policy.statement.objective
    assert objective is not None
    rows = []
    for c in alignment.desirable:
        value = evaluate_constraint(policy.model.mdp, objective, policy.table, c)
        rows.append({"constraint": str(c), "threshold": format_rational(c.threshold), "value": value.to_json(),
                     "holds": c.comparison.decide(value.lo, value.hi, c.threshold)})
    fields = composition_fields([("alignment", alignment.status.value), ("policy", policy.status.value)], rows)
    fields["values"]["premises"] = ["alignment", "policy"]
    with_margin(fields, policy.model.mdp, objective, policy.table, tuple(alignment.desirable))
    if policy.epsilon > alignment.epsilon and fields["status"] == "proved":
        fields.update(status="unknown", reason=f"the policy lemma's ε ({policy.epsilon}) is larger than the "
                                               f"alignment lemma's ({alignment.epsilon})")
    result = SafetyResult(alignment, policy, Statement("certificate", premises=("alignment", "policy")), fields)
    _judge(result)
    return result


def with_margin(fields: dict[str, Any], mdp: Any, objective: Objective, policy: Any, phi: tuple[Any, ...]) -> None:
    """A proved composition's model–reality margin η in its values (`proofs.engines.eta.safety_eta`,
    on π₀'s table as the certificate binds it), where it is computed."""
    from proofs.core.enclosure import Enclosure
    from proofs.engines.eta import closed_safety_eta, safety_eta
    from proofs.policy.canonical import reachable_table

    if fields["status"] == "proved":
        eta = safety_eta(mdp, objective, reachable_table(mdp, policy, objective.horizon), phi)
        if eta is None:   # beyond the exact limit: the simulation lemma's closed form
            eta = closed_safety_eta(mdp, objective, phi, [Enclosure.from_json(row["value"])
                                                          for row in fields["values"]["direct"]])
        if eta is not None:
            fields["values"]["eta"] = eta.to_json()


def composition_fields(premises: Sequence[tuple[str, str]], direct: list[dict[str, Any]]) -> dict[str, Any]:
    """A composition's fields after the header, from its premises' (id, status) and the direct
    evaluation of Φ under π₀ (refuted when that shows a violation)."""
    engine = {"name": "composition", "version": __version__}
    values: dict[str, Any] = {"premises": [i for i, _ in premises], "direct": direct}
    violated = [row["constraint"] for row in direct if row["holds"] is False]
    if violated:
        return {"status": "refuted", "values": values, "engine": engine,
                "reason": "direct evaluation: the policy violates " + ", ".join(violated)}
    failed = [(i, s) for i, s in premises if s != "proved"]
    if not failed:
        return {"status": "proved", "values": values, "engine": engine}
    names = ", ".join(f"{i} ({s})" for i, s in failed)
    return {"status": "unknown", "values": values, "reason": f"premise not proved: {names}", "engine": engine}


@dataclass(frozen=True)
class Evaluation:
    """`evaluate`'s answer: J of the policy (and J*, the gap), and each property's value.

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> e = evaluate(load_model("worldmodels/cliff.toml"), Objective("progress", horizon=6), None, [])
    >>> e.j_star, e.gap
    (Enclosure(lo=Fraction(157, 160), hi=Fraction(157, 160)), Enclosure(lo=Fraction(0, 1), hi=Fraction(0, 1)))
    """

    j_policy: Enclosure | None
    j_star: Enclosure | None
    gap: Enclosure | None
    properties: tuple[dict[str, Any], ...]


def evaluate(model: Model, objective: Objective | None, policy: Policy | str | Path | None,
             properties: Iterable[str] = ()) -> Evaluation:
    """Evaluate one policy (``None``: an optimal one), no proof: J, J*, the gap, and properties
    (constraints such as ``'P<=0.01 [ F "fatal" ]'`` or queries such as ``'Pmax=? [ F<=6 "goal" ]'``),
    exactly on small models and as sound enclosures on large ones.

    Examples
    --------
    >>> from proofs import Objective, load_model
    >>> model = load_model("worldmodels/cliff.toml")
    >>> e = evaluate(model, Objective("careful", horizon=6), "policies/cliff-walk.json", ['P<=0.01 [ F "fatal" ]'])
    >>> e.j_policy.value, e.properties[0]["holds"]
    (Fraction(57, 64), True)
    """
    from proofs.api.policy import load_policy
    from proofs.report.evaluation import evaluate_mdp

    chosen = policy if isinstance(policy, Policy) or policy is None else load_policy(policy, model)

    def table_of(mdp: Any, horizon: int | None) -> Table:
        assert chosen is not None
        labelled = Policy(Model(mdp, model.path), chosen._parts, source=chosen.source)
        return labelled.table(horizon)

    raw = evaluate_mdp(model.mdp, objective, None if chosen is None else table_of, list(properties),
                       policy_name=None if chosen is None else chosen.source)
    rows = []
    for row in raw.get("constraints", []) + raw.get("queries", []):
        value = row["value"]
        rows.append({**row, "value": value if value == "inf" else Enclosure.from_json(value)})
    def get(key: str) -> Enclosure | None:
        return Enclosure.from_json(raw[key]) if key in raw else None

    return Evaluation(get("j_policy"), get("j_star"), get("gap"), tuple(rows))


def check(certificate: str | Path) -> Verdict:
    """Re-verify one certificate as `proofs check FILE` does: its inputs still translate to what
    it names (readers, untrusted), and the trusted kernel accepts it.

    Examples
    --------
    >>> verdict = check("certificates/cliff.walk-policy.json")
    >>> verdict.accepted, verdict.status.value
    (True, 'proved')
    """
    from proofs.prooftree.plan import find_root
    from proofs.prooftree.verify import Checker
    from proofs.spec.obligation import read_settings

    path = Path(certificate)
    root = find_root(path.resolve().parent)
    settings = read_settings(root / "pyproject.toml") if (root / "pyproject.toml").is_file() else None
    checker = Checker(root, settings.certificates if settings else Path("certificates"))
    try:
        doc = checker.check_file(path)
    except CheckFailure as exc:
        return Verdict(False, str(exc), path)
    steps = tuple(checker.notes.get(str(path.resolve()), []))
    return Verdict(True, "the kernel accepts it" + ("; " + "; ".join(steps) if steps else ""), path,
                   Status(doc["status"]), steps)


# -- helpers ----------------------------------------------------------------------------------------------


def _then(first: Table, after: Table) -> Table:
    """At each step, `first`'s choices where it has them, else `after`'s (a component of a hack:
    its step tables until the constraint is decided, then J-optimal)."""
    import numpy as np

    from proofs.core.numbers import Rationals
    from proofs.core.policy import PolicyLayer

    layers = []
    for t in range(max(len(first.layers), len(after.layers))):
        a, b = first.at(t), after.at(t)
        counts_a, counts_b = np.diff(a.start), np.diff(b.start)
        use_a = counts_a > 0
        owner_a = np.repeat(np.arange(len(counts_a)), counts_a)
        owner_b = np.repeat(np.arange(len(counts_b)), counts_b)
        keep_b = ~use_a[owner_b]
        owner = np.concatenate([owner_a, owner_b[keep_b]])
        order = np.argsort(owner, kind="stable")
        choice = np.concatenate([a.choice, b.choice[keep_b]])[order]
        probability = Rationals.from_fractions(
            [*(a.probability[i] for i in range(len(a.choice))),
             *(b.probability[int(i)] for i in np.flatnonzero(keep_b))]).take(order)
        start = np.zeros(len(a.start), dtype=np.int64)
        np.cumsum(np.where(use_a, counts_a, counts_b), out=start[1:])
        layers.append(PolicyLayer(start, choice.astype(np.int64), probability))
    return Table(tuple(layers))


def _epsilon(epsilon: Number) -> Fraction:
    eps = exact(epsilon, "epsilon")
    if eps < 0:
        raise ValueError(f"epsilon must be at least 0, got {eps}")
    return eps


def _check_objective(model: Model, objective: Objective) -> None:
    from proofs.spec.resolve import check_objective

    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be a proofs.Objective, got {objective!r}")
    InputErrors.raise_if_any(check_objective(objective, model.mdp, Location("objective", key="reward")))


def _worldmodel_input(model: Model, root: Path | None) -> dict[str, Any]:
    """``inputs.worldmodel``: the model's file (relative to `root`), its SHA-256 and its canonical
    model's (stored in ``root/.proofs/models`` for the kernel); `root` None: provisional."""
    from proofs.worldmodel.cache import translate

    if root is None:
        out: dict[str, Any] = {"path": "in-memory", "sha256": "0" * 64, "canonical": model.sha256}
    elif model.path is None:
        raise ValueError("the model is in memory only: save it first (model.save('worldmodels/NAME.json')), "
                         "since a certificate names its model's file")
    else:
        translation = translate(model.path, root, tuple(sorted(model.constants.items())), model.atoms)
        if translation.sha256 != model.sha256:
            raise ValueError(f"{model.path} changed since it was loaded: load it again")
        out = {"path": relative(model.path, root), "sha256": translation.source_sha256,
               "canonical": translation.sha256}
    if model.constants:
        out["constants"] = dict(sorted(model.constants.items()))
    if model.atoms:
        out["atoms"] = [str(a) for a in model.atoms]
    return out


def _kernel_check(path: Path, model: Model | None) -> Verdict:
    """The kernel's judgement of the certificate file at `path` (the model handed over decoded)."""
    from proofs.kernel.check import Kernel
    from proofs.prooftree.plan import find_root
    from proofs.worldmodel.cache import MODELS

    kernel = Kernel(find_root(path.resolve().parent) / MODELS)
    if model is not None:
        kernel.loaded.setdefault(model.sha256, model.mdp)
    try:
        doc = kernel.check_file(path)
    except CheckFailure as exc:
        return Verdict(False, str(exc), path)
    return Verdict(True, "the kernel accepts it", path, Status(doc["status"]))


def _judge(result: Result) -> None:
    """The kernel checks the result's certificate before anyone sees its verdict."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"{result.kind}.json"
        doc, table = result.document(target, provisional=True)
        write_certificate(target, doc, result.arrays, table)
        verdict = _kernel_check(target, result.model)
    if not verdict.accepted:
        raise CertificateRejected(f"the kernel rejected the engine's certificate: {verdict.reason}")


def _provisional(result: Result) -> Certificate:
    """The result's certificate as typed data, before it is saved (lemma id: its kind)."""
    with tempfile.TemporaryDirectory() as folder:
        doc, _ = result.document(Path(folder) / f"{result.kind}.json", provisional=True)
        return Certificate.from_json(doc)
