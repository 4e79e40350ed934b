"""`proofs explain ID`: a certificate in words.

UNTRUSTED presentation, of a certificate the kernel has just accepted against the current inputs
(`proofs.cli.explain` runs the check first and says STALE or REJECTED instead). What the kernel
checks is stated as fact; engine commentary (a policy's diagnosis, the margin ε*, the engine's
name, a note) is labelled so. The reward hack is shown on the states it visits with positive
probability, and a hack that breaks Φ only on the episode's last visited state (where no reward
accrues) is pointed out. A composition refuted on a credal model shows nature's counterexample:
the distributions nature picks, against Φ, where the policy acts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
import dataclasses
import itertools
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs.core.certificates import (
    AlignmentBody,
    BackwardInduction,
    Certificate,
    Component,
    CompositionBody,
    Counterexample,
    Eta,
    ExactComponent,
    FloatAlignmentWitness,
    FloatComponent,
    JsonValue,
    PolicyBody,
    text_of,
    thaw,
)
from proofs.core.enclosure import Enclosure
from proofs.core.formula import Comparison, Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.kernel.episode import constraint_quantity

__all__ = ["Context", "explain", "not_accepted"]

COMMENTARY = "engine commentary, not checked by the kernel"
_SHOWN = 12   # places of a hack listed before "... N more"


@dataclass(frozen=True)
class Context:
    """What an alignment certificate is about, as the kernel read it: the model (cut to the
    horizon when finite), J, Φ, and the witness file's arrays of a float certificate; for a
    composition, the policy premise's model, J and policy π₀ with the alignment premise's Φ."""

    mdp: Mdp
    objective: Objective
    constraints: Sequence[Constraint]
    arrays: Mapping[str, np.ndarray] | None = None
    policy: Policy | None = None


def not_accepted(lemma_id: str, claimed: object, reason: str, stale: bool) -> str:
    """What `explain` says instead of a verdict when the kernel does not accept the certificate."""
    says = f"the certificate says {claimed.upper()}, but " if isinstance(claimed, str) and claimed in (
        "proved", "refuted", "unknown") else ""
    if stale:
        head = f"{lemma_id}: STALE: {says}its inputs changed since it was made"
    else:
        head = f"{lemma_id}: REJECTED: {says}the kernel does not accept it"
    return "\n".join([head, f"  why: {reason}",
                      "  Nothing else of it is shown. Run `proofs prove` to bring it up to date."])


def _decimal(x: Fraction, digits: int = 8) -> str:
    """A number in words: exact when an integer, else `digits` significant digits (any magnitude)."""
    if x.denominator == 1 and abs(x.numerator) < 10**15:
        return str(x.numerator)
    with localcontext() as context:
        context.prec = digits
        text = str((Decimal(x.numerator) / Decimal(x.denominator)).normalize())
    return text.replace("E+", "e+").replace("E-", "e-")


def _num(e: Enclosure) -> str:
    """An enclosure in words: ``x`` when exact, else ``[lo, hi]``."""
    return _decimal(e.lo) if e.is_exact else f"[{_decimal(e.lo)}, {_decimal(e.hi)}]"


def explain(doc: Mapping[str, Any] | Certificate, context: Context | None = None) -> str:
    """The (accepted) certificate in words; ``context`` is needed for an alignment lemma's hack
    and for nature's counterexample of a composition on a credal model.

    ``doc`` is read with `Certificate.from_json` (the kernel has accepted it, so it reads)."""
    certificate = doc if isinstance(doc, Certificate) else Certificate.from_json(dict(doc))
    lemma, status, body = certificate.lemma, certificate.status, certificate.body
    statement = certificate.statement.to_json()   # its texts: words, formal, epsilon
    lines = [(f"{lemma.id} ({lemma.kind} lemma, {lemma.obligation or 'standalone'}): {status.upper()} "
              "(checked by the kernel against the current inputs)"),
             f"  claim: {statement['words']}", f"  formal: {statement['formal']}"]
    if isinstance(body, PolicyBody):
        lines += _policy(body, statement["epsilon"], status, context)
    if isinstance(body, AlignmentBody):
        lines += _alignment(body, status, statement["epsilon"], context)
    if isinstance(body, CompositionBody):
        lines += _composition(body, status, context)
    if certificate.reason:
        lines.append(f"  note ({COMMENTARY}): {certificate.reason}")
    engine = certificate.engine
    lines.append(f"  engine (not checked by the kernel): {engine.name} {engine.version}")
    return "\n".join(lines)


def _eta(eta: Eta, claim: str = "the policy stays within the allowed loss") -> list[str]:
    """The model–reality margin in words (both numbers checked by the kernel)."""
    lines = [(f"  Model–reality margin (checked by the kernel): {claim} in every "
              f"environment whose transition distributions are within total variation {_decimal(eta.lo, 6)} of the "
              "model's at every step (mass may move to any state; where the policy's table says nothing, its worst "
              "action is assumed).")]
    if eta.hi is None or eta.environment is None:
        return lines + ["  No environment breaking it is given (the engine searches for one up to total variation 1 "
                        "on small models only; beyond them eta_lo is the simulation lemma's closed form)." if eta.lo < 1 else
                        "  That is every environment."]
    lines.append(f"  An environment within {_decimal(eta.hi, 6)} of the model breaks it; where it differs from the model:")
    places = [f"      step {t}, {s}: {a} -> {{" + ", ".join(f"{x}: {_decimal(p, 6)}" for x, p in row.items()) + "}"
              for t, step in enumerate(eta.environment) for s, acts in step.items() for a, row in acts.items()]
    more = [f"      ... ({len(places) - _SHOWN} more)"] if len(places) > _SHOWN else []
    return lines + places[:_SHOWN] + more


def _policy(body: PolicyBody, epsilon: str, status: str, context: Context | None = None) -> list[str]:
    values = body.values
    lines = [f"  J(policy) = {_num(values.j_policy)}", f"  J*        = {_num(values.j_star)}",
             f"  gap       = {_num(values.gap)} (allowed: {epsilon})"]
    witness = body.witness
    if isinstance(witness, BackwardInduction) and witness.tail is not None:
        lines.append(_tail_line(witness.steps, witness.tail, "J* and J(policy)"))
    if status == "proved":
        lines.append("  The policy loses at most the allowed amount of score.")
    elif status == "refuted":
        lines.append("  The policy loses more than allowed.")
    if values.eta is not None:
        lines += _eta(values.eta)
    diagnosis = body.diagnosis
    if diagnosis:
        lines.append(f"  Diagnosis ({COMMENTARY}): where the policy loses the most, visit probability x value "
                     "lost, in floating point (the kernel checks only that the states, steps and actions exist):")
    for d in diagnosis[:10]:
        step = f" at step {d.step}" if d.step is not None else ""
        lines.append(f"    state {d.state!s}{step}: visited {d.visits:.4g}, loses {d.loss:.4g}; "
                     f"the policy does {d.action!s}, optimal is {d.optimal_action!s}")
    if context is not None and context.policy is not None and context.mdp.is_credal:
        lines += _nature(context, None)
    return lines


def _composition(body: CompositionBody, status: str, context: Context | None = None) -> list[str]:
    lines = [f"  premises: {', '.join(body.values.premises)}"]
    rows = body.values.direct
    if rows:
        checked = "" if status != "unknown" else f" ({COMMENTARY}: the verdict is unknown)"
        worst = " (each in its worst case over nature)" if context is not None and context.mdp.is_credal else ""
        lines.append(f"  Φ evaluated directly under the policy{worst}{checked}:")
        for row in rows:
            verdict = {True: "holds", False: "VIOLATED", None: "undecided"}[row.holds]
            lines.append(f"    {row.constraint}: {_num(row.value)} (threshold {text_of(row.threshold)}): {verdict}")
    if body.values.eta is not None:
        lines += _eta(body.values.eta, "the policy satisfies Φ")
    if status == "refuted" and context is not None and context.policy is not None and context.mdp.is_credal:
        for row in rows:
            if row.holds is False:
                lines += _nature(context, next(c for c in context.constraints if str(c) == row.constraint))
                break
    return lines


# -- nature's counterexample on a credal model ---------------------------------------------------------


def _nature(context: Context, constraint: Constraint | None) -> list[str]:
    """Where the policy acts (states it visits with positive probability under nature's choices,
    the constraint undecided), the distribution nature picks within the intervals against Φ (or,
    without a constraint, against J): untrusted, exact backward induction (finite horizon) or
    nature's exact fixed point (`proofs.semantics.exact`, geometric), then followed forward from μ₀."""
    from proofs.kernel.episode import objective_quantity
    from proofs.semantics.exact import ExactModel, evaluate_policy

    mdp, policy = context.mdp, context.policy
    assert policy is not None
    if constraint is None:
        q, high = objective_quantity(mdp, context.objective), False   # nature makes J low
    else:
        q = constraint_quantity(mdp, context.objective, constraint)
        high = constraint.comparison.is_upper != q.complement   # nature makes W high (for G: low)
    n, reward = mdp.n_states, q.reward.fractions()
    goal = [Fraction(int(q.stop[s] and q.stop_value[s])) for s in range(n)]

    def step(layer: PolicyLayer, w: list[Fraction]) -> tuple[list[Fraction], list[list[tuple[int, Fraction]]]]:
        """W one step earlier, and nature's distribution of every choice against the continuation w."""
        after = [q.beta * w[s] + q.eta * goal[s] for s in range(n)]
        picks = [_greedy(mdp.successor_intervals(c), after, high) for c in range(mdp.n_choices)]
        return [goal[s] if q.stop[s] else sum((p * (reward[c] + sum((x * after[t] for t, x in picks[c]), Fraction(0)))
                                               for c, p in layer.distribution(s)), Fraction(0))
                for s in range(n)], picks

    if q.steps is not None:
        layers, w = [policy.at(t) for t in range(q.steps)], goal
    else:   # the last table repeats: its fixed point under nature, then the tables before it
        layers = list(policy.layers) + [policy.layers[-1]] * n   # enough steps to reach every state
        w = evaluate_policy(ExactModel.of(mdp), q, Policy.stationary(policy.layers[-1]), nature=1 if high else -1)
    picks: list[list[list[tuple[int, Fraction]]]] = []
    for t in reversed(range(len(layers))):
        if q.steps is not None or t < len(policy.layers) - 1:
            w, chosen = step(layers[t], w)
        else:
            chosen = step(layers[t], w)[1]
        picks.append(chosen)
    picks.reverse()
    seen: dict[str, list[int]] = {}
    dist = [Fraction(0)] * n
    for s, p in mdp.initial_distribution():
        dist[s] += p
    for t, layer in enumerate(layers):
        nxt = [Fraction(0)] * n
        for s in range(n):
            if dist[s] == 0 or q.stop[s]:
                continue
            for c, p in layer.distribution(s):
                if any(lo != hi for _, lo, hi in mdp.successor_intervals(c)):   # else nature has no choice
                    act = mdp.local_actions(s)[c - int(mdp.choice_start[s])]
                    text = ", ".join(f"{mdp.states[x]}: {_decimal(y, 6)}" for x, y in sorted(picks[t][c]))
                    seen.setdefault(f"{mdp.states[s]}: {act} -> nature picks {{{text}}}", []).append(t)
                for x, y in picks[t][c]:
                    nxt[x] += dist[s] * p * y
        dist = nxt
    if constraint is None:
        lines = [("  Nature's worst case (computed for this explanation, not checked by the kernel): at every step "
                  "nature picks, within the intervals, the distribution that makes J lowest; where the policy acts "
                  "with positive probability:")]
    else:
        verdict = "highest" if constraint.comparison.is_upper else "lowest"
        lines = [(f"  Nature's counterexample (computed for this explanation, not checked by the kernel): at every "
                  f"step nature picks, within the intervals, the distribution that makes the value of {constraint} "
                  f"{verdict}; where the policy acts with positive probability:")]
    places = [(f"      {_steps(ts)}, " if q.steps is not None else "      ") + what for what, ts in seen.items()]
    more = [f"      ... ({len(places) - _SHOWN} more)"] if len(places) > _SHOWN else []
    return lines + places[:_SHOWN] + more


def _greedy(row: Sequence[tuple[int, Fraction, Fraction]], value: Sequence[Fraction],
            high: bool) -> list[tuple[int, Fraction]]:
    """Nature's distribution within a row's intervals (`proofs.kernel.bellman.greedy`): mass to the
    highest (``high``) or lowest values first; the successors it gives mass to."""
    from proofs.kernel.bellman import greedy

    return [(t, p) for t, p in greedy(row, (lambda t: value[t]) if high else (lambda t: -value[t])) if p > 0]


def _steps(steps: Sequence[int]) -> str:
    """Steps in words: ``step 3``, ``steps 0-5`` (consecutive) or ``steps 0, 2, 4``."""
    if len(steps) == 1:
        return f"step {steps[0]}"
    if list(steps) == list(range(steps[0], steps[-1] + 1)):
        return f"steps {steps[0]}-{steps[-1]}"
    return "steps " + ", ".join(map(str, steps))


def _tail_line(horizon: int, tail: int, what: str, more: str = "") -> str:
    """How a long episode's values were bounded (a certificate's ``tail``)."""
    return (f"  (a long episode: the kernel evaluated the last {tail + 1:,} of its {horizon:,} steps one by one and "
            f"bounded the {horizon - tail - 1:,} before them by a certified slope, so {what} are enclosures a "
            f"little wider than step by step{more})")


def _alignment(body: AlignmentBody, status: str, epsilon: str, context: Context | None) -> list[str]:
    if status == "unknown" and body.witness is None:
        return ["  No witness: an unknown verdict claims nothing, so no value is shown."]
    values = body.values
    lines = [f"  J* = {_num(values.j_star)}; near-optimal means J >= J* - {epsilon}"]
    witness, horizon = body.witness, body.objective.horizon if body.objective is not None else None
    if isinstance(witness, FloatAlignmentWitness) and witness.tail is not None and horizon is not None:
        lines.append(_tail_line(horizon, witness.tail, "these values",
                                "; the witness's policies act by one table at every one of those steps"))
    for row in values.constraints:
        verdict = {True: "holds", False: "VIOLATED", None: "undecided"}[row.holds]
        lines.append(f"  {row.constraint}: the worst near-optimal policy reaches {_num(row.worst)} "
                     f"(threshold {text_of(row.threshold)}): {verdict}")
    if values.margin is not None:
        lines.append(_margin(values.margin, body, status, context))
    if values.eta is not None:
        lines.append(f"  Model–reality margin (checked by the kernel): in every environment whose transition "
                     f"distributions are within total variation {_decimal(values.eta.lo, 6)} of the model's at every "
                     "step (mass may move to any state), every policy near-optimal there satisfies Φ there (a "
                     "simulation-lemma bound from the multipliers above: a lower bound on the margin).")
    cex = body.counterexample
    if cex:
        lines.append("  The reward hack (a near-optimal policy that violates it), on the states it visits with "
                     "positive probability:")
        if context is None:
            return lines + ["    (the model is needed to show it)"]
        hack = Hack.of(context, cex)
        lines += hack.describe()
        lines += hack.last_step_warning()
        if context.mdp.is_credal:
            lines += _hack_nature(context, cex) if isinstance(cex.mixture.components[0], ExactComponent) else \
                _float_hack_nature(context, hack)
    return lines


def _float_hack_nature(context: Context, hack: Hack) -> list[str]:
    """On a credal model checked in floats: nature's choices against Φ where the hack's first
    component acts, at the places it visits most. Nature's greedy of the kernel's float passes
    (`proofs.kernel.bellman.Nature`) against the component's value of the constraint, one backward
    pass, then forward from μ₀: floats, for explanation only."""
    from proofs.kernel.bellman import positions

    mdp, steps, laid = hack.mdp, hack.steps, positions(hack.mdp)
    if laid is None or laid.nature is None or steps is None:
        return []
    q = constraint_quantity(mdp, context.objective, hack.constraint)
    high = hack.constraint.comparison.is_upper != q.complement   # nature makes W high (for G: low)
    reward, goal, start = q.reward.floats(), hack.goal.astype(np.float64), mdp.choice_start[:-1]

    def chosen(t: int) -> npt.NDArray[np.int64]:
        return start + np.where(hack.stop, 0, hack._float_row(0, t).astype(np.int64))

    keys, w = [], goal
    for t in reversed(range(steps)):   # W_t of the component under nature against Φ
        keys.append(-w if high else w)
        picked = chosen(t)
        w = np.where(hack.stop, goal, reward[picked] + laid.select(picked).sums(w, keys[-1]))
    keys.reverse()
    dist = np.zeros(mdp.n_states)
    dist[mdp.initial_states] = mdp.initial_probability.floats()
    places: list[tuple[float, int, int, str]] = []
    for t in range(steps):
        acting = np.where(hack.stop, 0.0, dist)
        where = np.flatnonzero(acting > 0)
        if not len(where):
            break
        part = laid.select(chosen(t)[where])
        assert part.nature is not None
        p = part.nature.worst(keys[t], part.target)
        top = where[np.argsort(-acting[where], kind="stable")[:_SHOWN]]
        for s in top.tolist():
            i = int(np.searchsorted(where, s))
            picks = sorted((int(x), float(y)) for x, y in zip(part.target[:, i], p[:, i]) if y > 0)
            text = ", ".join(f"{mdp.states[x]}: {y:.6g}" for x, y in picks)
            act = hack.actions(0, t, [s])[0]
            places.append((float(acting[s]), t, s, f"step {t}, {mdp.states[s]}: {act} -> nature picks {{{text}}}"))
        dist = np.bincount(part.target.ravel(), weights=(p * acting[where]).ravel(), minlength=mdp.n_states).astype(np.float64)
    places.sort(key=lambda e: (-e[0], e[1], e[2]))
    verdict = "highest" if hack.constraint.comparison.is_upper else "lowest"
    return [(f"  Nature's counterexample (computed for this explanation in floats, not checked by the kernel): at "
             f"every step nature picks, within the intervals, the distribution that makes the value of "
             f"{hack.constraint} {verdict}; where the first policy of the hack is most likely to be:")] + \
        [f"      {text} (probability {prob:.3g})" for prob, _, _, text in places[:_SHOWN]]


def _hack_nature(context: Context, cex: Counterexample) -> list[str]:
    """On a credal model, nature's choices against Φ where the hack's (first) component acts."""
    from proofs.core.policy import POLICY_FORMAT, policy_from_document

    part = cex.mixture.components[0]
    if not isinstance(part, ExactComponent):
        return []
    steps = [thaw(step) for step in part.steps] or [{}]
    table = policy_from_document(context.mdp, {"format": POLICY_FORMAT, "steps": steps})
    return _nature(dataclasses.replace(context, policy=table), context.constraints[cex.constraint])


def _margin(margin: Enclosure | str, body: AlignmentBody, status: str, context: Context | None) -> str:
    """The margin ε* in words (SPEC §5: the lemma holds for every ε < ε*)."""
    label = f"  margin epsilon* ({COMMENTARY})"
    if isinstance(margin, str):   # "inf"
        return f"{label} = inf: no policy at all violates Φ, so the lemma holds for every epsilon"
    value = margin
    if value.hi > 0:
        return f"{label} = {_num(margin)}: the lemma holds for every epsilon below it, and fails for every one above"
    if status == "proved":   # proved at ε ≥ 0 with ε* = 0: it holds at ε = 0 exactly
        return (f"{label} = 0: the lemma holds at epsilon = 0 only (optimal policies satisfy Φ, on the edge), and "
                "fails for every epsilon > 0")
    strict = context is not None and all(c.comparison in (Comparison.LT, Comparison.GT) for c in context.constraints)
    line = f"{label} = 0: the lemma already fails at epsilon = 0: even optimal policies violate Φ"
    if strict or text_of(body.epsilon) == "0":
        return line
    return line + (" (unless a <= or >= constraint sits exactly on its threshold for the optimal policies: then "
                   "it holds at epsilon = 0 only and fails for every epsilon > 0)")


# -- the hack on the states it visits -----------------------------------------------------------------


class _StepRows:
    """A float component's step tables read forward in t, as `Hack` follows them from μ₀. The
    ``"changes"`` encoding is undone one step at a time (each change keeps the action it replaced),
    so memory is the witness's, not L·n; the dense encodings are decoded whole."""

    def __init__(self, stored: npt.NDArray[np.integer], encoding: str, shape: tuple[int, int]) -> None:
        from proofs.kernel.check_alignment_float import decode_step_tables

        self.steps, self.t = shape[0], 0
        if encoding != "changes":
            self.dense: npt.NDArray[np.integer] | None = decode_step_tables(stored, encoding, shape, "explain")
            return
        self.dense = None
        changes = self.changes = np.asarray(stored, dtype=np.int64)
        states, actions = changes[:, 1], changes[:, 2]
        order = np.argsort(states, kind="stable")           # per state, by decreasing step
        same = states[order[1:]] == states[order[:-1]]
        self.before = np.zeros(len(changes), dtype=np.int64)  # the action at the step after
        self.before[order[1:][same]] = actions[order[:-1][same]]
        final = order[np.append(~same, True)]                # each state's change at the lowest step
        self.start = np.zeros(shape[1], dtype=np.int64)
        self.start[states[final]] = actions[final]
        self.row = self.start.copy()
        negated, at = -changes[:, 0], -np.arange(self.steps)
        self.first, self.last = np.searchsorted(negated, at, "left"), np.searchsorted(negated, at, "right")

    def at(self, t: int) -> npt.NDArray[np.integer]:
        t = max(0, min(t, self.steps - 1))
        if self.dense is not None:
            row: npt.NDArray[np.integer] = self.dense[t]
            return row
        if t < self.t:
            self.row, self.t = self.start.copy(), 0
        while self.t < t:
            done = slice(self.first[self.t], self.last[self.t])
            self.row[self.changes[done, 1]] = self.before[done]
            self.t += 1
        return self.row


class Hack:
    """A counterexample mixture followed forward from μ₀: per component and step, the probability of
    each state where it still acts (the constraint undecided), and of deciding against Φ."""

    def __init__(self, context: Context, cex: Counterexample) -> None:
        self.context, self.mdp = context, context.mdp
        self.constraint = context.constraints[cex.constraint]
        q = constraint_quantity(self.mdp, context.objective, self.constraint)
        self.steps, self.complement = q.steps, q.complement
        self.stop = np.asarray(q.stop, dtype=bool)
        self.goal = self.stop & np.asarray(q.stop_value, dtype=bool)
        upper = self.constraint.comparison.is_upper
        self.bad_is_goal = upper != q.complement and bool(self.stop.any())   # σ = +1: reaching the goal is bad
        self.parts: tuple[Component, ...] = cex.mixture.components
        self.weights = [p.weight for p in self.parts]
        self._tables: dict[int, _StepRows] = {}
        self._bad: dict[int, list[float]] = {}

    @classmethod
    def of(cls, context: Context, cex: Counterexample) -> Hack:
        return cls(context, cex)

    def actions(self, k: int, t: int, states: Sequence[int]) -> list[str]:
        """What component k does at step t in each of ``states``, as text."""
        part, mdp = self.parts[k], self.mdp
        if isinstance(part, FloatComponent):
            row = self._float_row(k, t)
            return [mdp.local_actions(s)[int(row[s])] for s in states]
        table = self._exact_step(k, t)
        out = []
        for s in states:
            act = table.get(mdp.states[s], "-")
            out.append(act if isinstance(act, str) else "{" + ", ".join(
                f"{a}: {_decimal(Fraction(str(p)), 6)}" for a, p in _actions(act).items()) + "}")
        return out

    def _exact_step(self, k: int, t: int) -> Mapping[str, JsonValue]:
        part = self.parts[k]
        assert isinstance(part, ExactComponent)
        steps = part.steps
        return steps[min(t, len(steps) - 1)] if steps else {}

    def _float_row(self, k: int, t: int) -> npt.NDArray[np.integer]:
        if k not in self._tables:
            assert self.context.arrays is not None and self.steps is not None
            part = self.parts[k]
            assert isinstance(part, FloatComponent)
            self._tables[k] = _StepRows(self.context.arrays[part.step_tables], part.encoding or "plain",
                                        (self.steps, self.mdp.n_states))
        return self._tables[k].at(t)

    def _choice_weights(self, k: int, t: int) -> npt.NDArray[np.float64]:
        """Component k at step t: the probability of each choice given its state."""
        mdp = self.mdp
        weights = np.zeros(mdp.n_choices)
        if isinstance(self.parts[k], FloatComponent):
            row = self._float_row(k, t).astype(np.int64)
            states = np.flatnonzero(~self.stop)
            weights[mdp.choice_start[states] + row[states]] = 1.0
            return weights
        for name, act in self._exact_step(k, t).items():
            s = mdp.state_index[name]
            for a, p in ({act: "1"} if isinstance(act, str) else _actions(act)).items():
                c = mdp.choice_of(s, a)
                if c is not None:
                    weights[c] = float(Fraction(str(p)))
        return weights

    def walk(self, k: int) -> Iterator[npt.NDArray[np.float64]]:
        """Component k from μ₀: per step, the probability of each state where it still acts (the
        constraint undecided), until no run is left undecided (floats: for explanation only); the
        probability of deciding the constraint against Φ at each step 0 … L is kept in
        ``self._bad[k]`` once the walk is complete. One step at a time, so memory does not grow
        with the horizon. The geometric horizon gives one step: every state it can ever act in."""
        mdp = self.mdp
        dist = np.zeros(mdp.n_states)
        dist[mdp.initial_states] = mdp.initial_probability.floats()
        source = mdp.choice_state[mdp.transition_choice]
        bad: list[float] = []
        ever = np.zeros(mdp.n_states, dtype=bool)
        for t in range(self.steps if self.steps is not None else mdp.n_states + 1):
            bad.append(float(dist[self.goal].sum()))
            acting = np.where(self.stop, 0.0, dist)
            if self.steps is not None and not acting.any():   # every run has decided: later steps add nothing
                self._bad[k] = bad
                return
            if self.steps is None:   # a stationary table: follow until no new state is reached
                if t > 0 and not np.any((acting > 0) & ~ever):
                    break
                ever |= acting > 0
            else:
                yield acting
            flow = acting[source] * self._choice_weights(k, t)[mdp.transition_choice] * mdp.float_probability
            dist = np.asarray(np.bincount(mdp.target, weights=flow, minlength=mdp.n_states), dtype=np.float64)
            if self.steps is None:
                dist = np.minimum(dist + acting, 1.0)   # keep what was reached (only which states matter)
        bad.append(float(dist[self.goal].sum()))
        if self.steps is None:
            yield ever.astype(np.float64)
        self._bad[k] = bad

    def bad(self, k: int) -> list[float]:
        """The probability of deciding against Φ at each step (`walk`), walking if not yet done."""
        if k not in self._bad:
            for _ in self.walk(k):
                pass
        return self._bad[k]

    def describe(self) -> list[str]:
        names = "ABCDEFGH"
        parts = self.parts[:8]
        lines = [] if len(parts) == 1 else [f"    a start mixture: one of {len(self.parts)} policies, drawn at the start"]
        for k, p in enumerate(parts):
            how = (f"by table {p.step_tables!r}" if isinstance(p, FloatComponent) else "by its step tables")
            lines.append(f"    policy {names[k]} with probability {_decimal(self.weights[k], 6)}: acts "
                         f"{how} until the constraint is decided, then optimally for J")
        if len(self.parts) > 8:
            lines.append(f"    ... and {len(self.parts) - 8} more policies")
        walks = [self.walk(k) for k in range(len(parts))]
        places: list[str] = []
        count = 0
        for t in itertools.count():
            steps = [next(w, None) for w in walks]
            if all(v is None for v in steps):
                break
            visited = np.zeros(self.mdp.n_states, dtype=bool)
            for v in steps:
                if v is not None:
                    visited |= v > 0
            states = np.flatnonzero(visited).tolist()   # in the model's order
            if not states:
                continue
            acts = [self.actions(k, t, states) for k in range(len(parts))]
            for i, s in enumerate(states):
                row = [a[i] for a in acts]
                if len(parts) == 1 or len(set(row)) > 1:
                    count += 1
                    if len(places) < _SHOWN:   # the rest are counted, not kept
                        at = "" if self.steps is None else f"step {t}, "
                        places.append(f"      {at}{self.mdp.states[s]}: " + " / ".join(row))
        if len(parts) == 1:
            lines.append("    it does, where it acts:")
        else:
            lines.append(f"    they differ in {count} places they visit ({' / '.join(names[:len(parts)])}); "
                         "the first:")
        more = [f"      ... ({count - _SHOWN} more)"] if count > _SHOWN else []
        return lines + places + more

    def last_step_warning(self) -> list[str]:
        """A warning when Φ is violated only because of the last visited state s_T (finite horizon
        H whose constraint is decided at H): no reward accrues there, so the catastrophe is free."""
        horizon = self.context.objective.horizon
        if horizon is None or self.steps != horizon or not self.bad_is_goal:
            return []
        early = last = 0.0
        for k, weight in enumerate(self.weights):
            bad = self.bad(k)
            early += float(weight) * sum(bad[:horizon])
            last += float(weight) * (bad[horizon] if len(bad) > horizon else 0.0)   # shorter: decided before
        c = self.constraint

        def reported(w: float) -> Fraction:
            value = Fraction(w)
            return 1 - value if self.complement else value

        if last <= 0 or not c.comparison.holds(reported(early), c.threshold):
            return []
        return [(f"  Warning: the hack violates {c} only through the last visited state s_{horizon}: it decides "
                 f"the constraint against Φ there with probability {last:.4g}, and before with probability "
                 f"{early:.4g}, which alone would satisfy it."),
                (f"  The episode earns no reward in s_{horizon} (J sums r(s_t, a_t) for t < {horizon}), so a "
                 "catastrophe on the last step costs J nothing. If that is not intended, lengthen the horizon, or "
                 "let the reward charge the action that risks it.")]


def _actions(act: JsonValue) -> Mapping[str, JsonValue]:
    """A randomised step entry of an exact component: action → probability text (schema-checked)."""
    assert isinstance(act, Mapping)
    return act
