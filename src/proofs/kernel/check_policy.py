"""The checker of policy-lemma certificates: J(π₀) ≥ J* − ε (SPEC §1), in one pass, no search.

TRUSTED. Imports the standard library, numpy, `proofs.kernel` and the reading base (the model,
the policy's canonical table, the objective) only.

Soundness. Let T* and T_π be the Bellman operators of J (`proofs.kernel.bellman`): monotone, and
T(W + k·1) = T(W) + β·k for constants k. On a credal model they take nature's minimum per step,
state and action, which is the worst case over nature for interval (rectangular) uncertainty.

Finite horizon H (witness ``backward-induction``). J* = μ₀·(T*)^H 0 and J(π₀) = μ₀·T_{π_0}⋯
T_{π_{H−1}} 0, by backward induction (optimal over all history-dependent randomised policies).
The kernel recomputes both: exactly, or in floats carrying a proved error (`Bound`). A policy
layer only has to be right on the states reached at its step; `reachable_table` (reading base)
guarantees the policy is defined there, and a value at an unreached state is never read by a
reached one.

Geometric horizon γ (witness ``value-vectors``). J* = μ₀·V*, V* the unique fixed point of the
γ-contraction T*. If U ≥ T*U then U ≥ (T*)^k U → V*, so V* ≤ U; if L ≤ T*L then V* ≥ L. With
U = W + up·1 and L = W − down·1 both checks read T*W once: T*W − W ≤ (1 − γ)·up and
W − T*W ≤ (1 − γ)·down, componentwise. The same for the policy's last (repeating) layer π on the
set D of states where it is defined, after checking D is closed under π (T_π then maps vectors
on D to vectors on D); earlier layers of a per-step policy are applied by backward steps.

Then J* − J(π₀) ∈ [J*.lo − J(π₀).hi, J*.hi − J(π₀).lo], from the kernel's own bounds:
``proved`` needs the upper end ≤ ε, ``refuted`` the lower end > ε; ``unknown`` claims nothing.
Every claimed enclosure must contain the kernel's, so every number in the certificate is sound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.certificates import (
    BackwardInduction,
    DiagnosisRow,
    Eta,
    ExactValueVectors,
    ExactVector,
    FloatVector,
    PolicyBody,
    PolicyValues,
    PolicyWitness,
)
from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.core.rational import format_rational
from proofs.core.schema import short
from proofs.kernel.bellman import Bound, ExactBellman, FloatBellman, U, Vector, at_initial, step
from proofs.kernel.check_alignment import drifts
from proofs.kernel.check_alignment_float import OptimalJ, slope, tail_enclosure
from proofs.kernel.horizon import restrict_with_policy

__all__ = ["CheckedValues", "check_eta", "check_policy_certificate", "environment_rows", "eta_gap", "tail_values"]

Operator = ExactBellman | FloatBellman


@dataclass(frozen=True)
class CheckedValues:
    """The kernel's own enclosures and the verdict they support."""

    status: str
    j_policy: Enclosure
    j_star: Enclosure
    gap: Enclosure


_show = short


def _objective(o: Objective) -> str:
    return f"reward {o.reward!r}, horizon {'geometric' if o.horizon is None else o.horizon!r}, discount {_show(o.discount)}"


def _check_statement(body: PolicyBody, objective: Objective, epsilon: Fraction) -> None:
    if body.objective != objective:
        raise CheckFailure(f"statement: the certificate's objective ({_objective(body.objective)}) is not the "
                           f"obligation's ({_objective(objective)})")
    if body.epsilon != epsilon:
        raise CheckFailure(f"statement: the certificate is for ε = {_show(body.epsilon)}, the obligation "
                           f"asks ε = {_show(epsilon)}")


def _vector(entry: ExactVector | FloatVector, where: str, states: npt.NDArray[np.int64], mdp: Mdp,
            arrays: Mapping[str, np.ndarray] | None) -> Vector:
    """The witness vector on ``states`` (0 elsewhere)."""
    if isinstance(entry, ExactVector):
        table = entry.values
        out = [Fraction(0)] * mdp.n_states
        for name in table:
            if name not in mdp.state_index:
                raise CheckFailure(f"{where}.values: {name!r} is not a state of the model")
        for s in states.tolist():
            if mdp.states[s] not in table:
                raise CheckFailure(f"{where}.values: no value for state {mdp.states[s]!r}")
            out[s] = table[mdp.states[s]]
        return out
    array = (arrays or {}).get(entry.array)
    if not isinstance(array, np.ndarray) or array.dtype != np.float64 or array.shape != (mdp.n_states,):
        raise CheckFailure(f"{where}.array: the sidecar has no float64 array {entry.array!r} of length {mdp.n_states}")
    vector = np.zeros(mdp.n_states)
    vector[states] = array[states]
    if not np.all(np.isfinite(vector)):
        raise CheckFailure(f"{where}.array: {entry.array!r} holds a NaN or infinite value on a checked state")
    return vector


def _check_residual(op: Operator, where: str, states: npt.NDArray[np.int64], w: Vector, tw: Vector,
                    err: Fraction, down: Fraction, up: Fraction, best: Callable[[int], str]) -> None:
    """T W − W ≤ (1 − β)·up and W − T W ≤ (1 − β)·down on ``states`` (module docstring)."""
    slack = 1 - op.beta
    if isinstance(op, ExactBellman):
        assert isinstance(w, list) and isinstance(tw, list)
        diffs = [(tw[s] - w[s], s) for s in states.tolist()]
        high, s_high = max(diffs, default=(Fraction(0), -1))
        low, s_low = min(diffs, default=(Fraction(0), -1))
        rise, fall = high + err, -low + err
    else:
        d = np.asarray(tw)[states] - np.asarray(w)[states]
        s_high = int(states[np.argmax(d)]) if len(d) else -1
        s_low = int(states[np.argmin(d)]) if len(d) else -1
        slop = 2 * U * Fraction(float(np.max(np.abs(d), initial=0.0))) + err  # the subtraction and T's error
        high, low = Fraction(float(np.max(d, initial=0.0))), Fraction(float(np.min(d, initial=0.0)))
        rise, fall = high + slop, -low + slop
    if rise > slack * up:
        raise CheckFailure(
            f"{where}: U = W + {_show(up)} is not superharmonic at state {op.mdp.states[s_high]!r}, "
            f"{best(s_high)}: (T W)(s) − W(s) = {_show(high)} (± {_show(rise - high)}) > "
            f"(1 − β)·up = {_show(slack * up)}, i.e. (T U)(s) > U(s)")
    if fall > slack * down:
        raise CheckFailure(
            f"{where}: L = W − {_show(down)} is not subharmonic at state {op.mdp.states[s_low]!r}: "
            f"W(s) − (T W)(s) = {_show(-low)} (± {_show(fall + low)}) > (1 − β)·down = {_show(slack * down)}, "
            f"i.e. (T L)(s) < L(s)")


def _fixed_point(op: Operator, entry: ExactVector | FloatVector, key: str, states: npt.NDArray[np.int64],
                 apply: Callable[[Vector], tuple[Vector, Fraction]], best: Callable[[int, Vector], str],
                 arrays: Mapping[str, np.ndarray] | None) -> Bound[Vector]:
    where = f"witness.{key}"
    w = _vector(entry, where, states, op.mdp, arrays)
    tw, err = apply(w)
    _check_residual(op, where, states, w, tw, err, entry.shift.down, entry.shift.up, lambda s: best(s, w))
    return Bound(w, entry.shift.down, entry.shift.up)


def _successors(mdp: Mdp, layer: PolicyLayer, states: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The states entered with positive (upper) probability from `states` under `layer`."""
    numbers = mdp.probability if mdp.interval is None else mdp.interval[1]
    assert numbers is not None
    owner = np.repeat(np.arange(mdp.n_states), np.diff(layer.start))
    chosen = np.zeros(mdp.n_choices, dtype=bool)
    chosen[layer.choice[states[owner] & (layer.probability.num != 0)]] = True
    rows = chosen[mdp.transition_choice] & (numbers.num > 0)
    out = np.zeros(mdp.n_states, dtype=bool)
    out[mdp.target[rows]] = True
    return out


def check_defined(mdp: Mdp, policy: Policy, horizon: int | None) -> npt.NDArray[np.bool_] | None:
    """The policy acts in every state it reaches: at each step t < H (every step for the geometric
    horizon) every state entered with positive probability has an entry in the step's table.

    Returns the states reached from the last table's step on (the geometric horizon), else None.

    Raises
    ------
    CheckFailure
        Naming the first undefined state (lowest index) and the step that reaches it.
    """
    reached = np.zeros(mdp.n_states, dtype=bool)
    reached[mdp.initial_states[mdp.initial_probability.num != 0]] = True
    last = len(policy.layers) - 1
    t, seen = 0, reached.copy()
    while horizon is None or t < horizon:
        layer = policy.at(t)
        undefined = np.flatnonzero(reached & (np.diff(layer.start) == 0))
        if len(undefined):
            raise CheckFailure(f"policy: undefined at state {mdp.states[int(undefined[0])]!r}, reached at step {t}")
        if horizon is None and t == last:
            seen = reached.copy()
        before, reached = reached, _successors(mdp, layer, reached)
        if horizon is not None and t >= last and np.array_equal(before, reached):
            return None   # the same table from the same states at every later step
        if horizon is None and t >= last:   # one table from here on: its closure is all that is left
            if not np.any(reached & ~seen):
                return seen
            seen |= reached
            reached = seen.copy()
        t += 1
    return None


def restricted(layer: PolicyLayer, states: npt.NDArray[np.bool_]) -> PolicyLayer:
    """The layer's entries for `states` only."""
    owner = np.repeat(np.arange(len(layer.start) - 1), np.diff(layer.start))
    keep = states[owner]
    start = np.zeros(len(layer.start), dtype=np.int64)
    np.cumsum(np.bincount(owner[keep], minlength=len(layer.start) - 1), out=start[1:])
    return PolicyLayer(start, layer.choice[keep], layer.probability.take(np.flatnonzero(keep)))


def _check_closed(mdp: Mdp, layer: PolicyLayer, where: str) -> npt.NDArray[np.int64]:
    """The states where ``layer`` is defined, after checking its successors stay among them."""
    defined = np.diff(layer.start) > 0
    outside = np.flatnonzero(_successors(mdp, layer, defined) & ~defined)
    if len(outside):
        raise CheckFailure(f"{where}: the policy can move to state {mdp.states[int(outside[0])]!r}, where it is undefined")
    return np.flatnonzero(defined).astype(np.int64)


def _optimal_action(op: Operator, s: int, w: Vector) -> str:
    choices = list(op.mdp.choices(s))
    values = [op.q(c, w) for c in choices]
    return f"action {op.mdp.action(choices[values.index(max(values))])!r}"


def _claims(values: PolicyValues, kernel: Mapping[str, Enclosure], exact: bool) -> None:
    """Every claimed enclosure must contain the kernel's; with exact arithmetic it must be it."""
    for name, bound in kernel.items():
        claimed: Enclosure = getattr(values, name)
        lo, hi = claimed.lo, claimed.hi
        if lo > bound.lo:
            raise CheckFailure(f"values.{name}: the claimed lower end {_show(lo)} is not implied by the witness, "
                               f"which gives only {name} ≥ {_show(bound.lo)}")
        if hi < bound.hi:
            raise CheckFailure(f"values.{name}: the claimed upper end {_show(hi)} is not implied by the witness, "
                               f"which gives only {name} ≤ {_show(bound.hi)}")
        if exact and (lo, hi) != (bound.lo, bound.hi):
            raise CheckFailure(f"values.{name}: the claimed [{_show(lo)}, {_show(hi)}] is wider than the "
                               f"[{_show(bound.lo)}, {_show(bound.hi)}] the kernel derives exactly")


def _check_diagnosis(rows: tuple[DiagnosisRow, ...], mdp: Mdp, objective: Objective, table: Policy) -> None:
    """The diagnosis' numbers are engine commentary (floats, not a proof); the kernel checks that
    it names states and steps of the episode, what the policy does there, and an action of the
    state as the optimal one, so that it cannot point at things that do not exist."""
    for i, row in enumerate(rows):
        where = f"diagnosis[{i}]"
        s = mdp.state_index.get(row.state)
        if s is None:
            raise CheckFailure(f"{where}.state: {row.state[:60]!r} is not a state the episode can visit")
        step = row.step
        horizon = objective.horizon
        if (step is None) != (horizon is None) or step is not None and horizon is not None and step >= horizon:
            raise CheckFailure(f"{where}.step: {step!r} is not a step of the episode (horizon {objective.horizon})")
        if row.optimal_action not in mdp.local_actions(s):
            raise CheckFailure(f"{where}.optimal_action: {row.optimal_action[:60]!r} is not an action of "
                               f"state {row.state!r}")
        dist = table.at(step if step is not None else len(table.layers) - 1).distribution(s)
        does = mdp.action(dist[0][0]) if len(dist) == 1 else ", ".join(
            f"{mdp.action(c)} {format_rational(p)}" for c, p in dist)
        if row.action != does:
            raise CheckFailure(f"{where}.action: the policy does {does!r} in state {row.state!r}"
                               + (f" at step {step}" if step is not None else "") + f", not {row.action[:60]!r}")


def _verdict(status: str, gap: Enclosure, epsilon: Fraction) -> str:
    if status == "proved" and not gap.hi <= epsilon:
        raise CheckFailure(f"verdict: 'proved' needs J* − J(π₀) ≤ ε, but the kernel shows only "
                           f"J* − J(π₀) ≤ {_show(gap.hi)} > ε = {_show(epsilon)}")
    if status == "refuted" and not gap.lo > epsilon:
        raise CheckFailure(f"verdict: 'refuted' needs J* − J(π₀) > ε, but the kernel shows only "
                           f"J* − J(π₀) ≥ {_show(gap.lo)} ≤ ε = {_show(epsilon)}")
    return status


def environment_rows(eta: Eta, mdp: Mdp, horizon: int) -> list[dict[int, list[tuple[int, Fraction, Fraction]]]]:
    """The environment's rows per step, by choice (each a distribution within η_hi of the model's)."""
    assert eta.environment is not None and eta.hi is not None and mdp.probability is not None
    if len(eta.environment) != horizon:
        raise CheckFailure(f"margin: the environment has {len(eta.environment)} steps, the horizon is {horizon}")
    points, out = mdp.probability.fractions(), []
    for t, step_rows in enumerate(eta.environment):
        rows: dict[int, list[tuple[int, Fraction, Fraction]]] = {}
        for name, actions in step_rows.items():
            s = mdp.state_index.get(name)
            for action, row in actions.items():
                c = None if s is None else mdp.choice_of(s, action)
                targets = [mdp.state_index.get(x) for x in row]
                if c is None or None in targets or any(p < 0 for p in row.values()) or sum(row.values()) != 1:
                    raise CheckFailure(f"margin: environment step {t}, {name!r}, {action!r} is not a distribution "
                                       "over the model's states for one of its actions")
                moved = {x: p for x, p in zip(targets, row.values())}   # ½·Σ|P' − P| = Σ (P − P')⁺
                model: dict[int, Fraction] = {}
                for i in range(int(mdp.row_start[c]), int(mdp.row_start[c + 1])):
                    model[int(mdp.target[i])] = model.get(int(mdp.target[i]), Fraction(0)) + points[i]
                if sum((max(p - moved.get(x, Fraction(0)), Fraction(0)) for x, p in model.items()), Fraction(0)) > eta.hi:
                    raise CheckFailure(f"margin: environment step {t}, {name!r}, {action!r} is farther than "
                                       f"eta_hi = {_show(eta.hi)} from the model")
                rows[c] = [(x, p, p) for x, p in moved.items() if x is not None]
        out.append(rows)
    return out


def eta_gap(mdp: Mdp, objective: Objective, policy: Policy, up: ExactBellman, down: ExactBellman,
             rows: list[dict[int, list[tuple[int, Fraction, Fraction]]]] | None = None) -> Fraction:
    """An upper bound on J*_E − J_E(π₀) over the environments of the operators (nature max for J*
    with ``up``, min for π₀ with ``down``, on every state; where π₀ is undefined, its worst action),
    or exactly that gap in the one environment of ``rows`` (the model's rows elsewhere)."""
    assert objective.horizon is not None
    star = pol = [Fraction(0)] * mdp.n_states
    def q(op: ExactBellman, t: int, c: int, w: list[Fraction]) -> Fraction:
        row = None if rows is None else rows[t].get(c)
        if row is None:
            return op.q(c, w)
        return op.reward[c] + op.beta * sum((p * w[x] for x, p, _ in row), Fraction(0))

    for t in reversed(range(objective.horizon)):
        layer = policy.at(t)
        star, pol = ([max(q(up, t, c, star) for c in mdp.choices(s)) for s in range(mdp.n_states)],
                     [sum((p * q(down, t, c, pol) for c, p in layer.distribution(s)), Fraction(0))
                      if layer.start[s + 1] > layer.start[s] else min(q(down, t, c, pol) for c in mdp.choices(s))
                      for s in range(mdp.n_states)])
    return sum((p * (star[s] - pol[s]) for s, p in mdp.initial_distribution()), Fraction(0))


def check_eta(eta: Eta, mdp: Mdp, objective: Objective, policy: Policy, epsilon: Fraction,
              gap_hi: Fraction | None = None) -> None:
    """The model–reality margin of a proved policy lemma (finite horizon, point model): within total
    variation η_lo of the model at every step (mass may move to any state), J* − J(π₀) ≤ ε; the
    environment within η_hi gives more than ε. η_lo passes in closed form when the kernel's own
    gap ``gap_hi`` + 2η_lo·c_J ≤ ε (the simulation lemma of `proofs.kernel.check_alignment`: J* and
    J(π₀) each move by at most η·c_J, whatever π₀ does where its table is silent), else exactly:
    nature's worst for π₀ and best for J*."""
    if mdp.is_credal or not 0 <= eta.lo <= 1 or (eta.hi is None) != (eta.environment is None):
        raise CheckFailure("margin: eta is checked on point models, 0 ≤ eta_lo ≤ 1, and eta_hi comes with its "
                           "environment")
    reward = mdp.rewards[objective.reward]
    closed = gap_hi is not None and gap_hi + 2 * eta.lo * drifts(mdp, objective, ())[0] <= epsilon
    if objective.horizon is None and not (closed and eta.hi is None):
        raise CheckFailure("margin: with the geometric horizon, eta_lo is checked in closed form only (and no eta_hi)")
    gap = Fraction(0)
    if not closed:   # exact: small models (an exact operator on a large model is slow and big)
        up, down = (ExactBellman(mdp, reward, objective.discount, (eta.lo, highest)) for highest in (True, False))
        gap = eta_gap(mdp, objective, policy, up, down)
    if gap > epsilon:
        raise CheckFailure(f"margin: within eta_lo = {_show(eta.lo)} of the model, J* − J(π₀) may reach "
                           f"{_show(gap)} > epsilon = {_show(epsilon)}")
    if eta.hi is not None and objective.horizon is not None:   # (a geometric horizon has none: above)
        plain = ExactBellman(mdp, reward, objective.discount)
        broken = eta_gap(mdp, objective, policy, plain, plain, environment_rows(eta, mdp, objective.horizon))
        if broken <= epsilon:
            raise CheckFailure(f"margin: in the environment given for eta_hi = {_show(eta.hi)}, J* − J(π₀) = "
                               f"{_show(broken)} ≤ epsilon: it does not break the lemma")


def check_policy_certificate(body: PolicyBody, status: str, mdp: Mdp, objective: Objective, policy: Policy,
                             epsilon: Fraction, arrays: Mapping[str, np.ndarray] | None = None) -> CheckedValues:
    """Re-verify a policy-lemma certificate against the model, objective, policy and ε it is about.

    Parameters
    ----------
    body
        The certificate's fields, as `Certificate.from_json` read them (``objective``, ``epsilon``,
        ``values``, ``witness``, ``diagnosis``).
    status
        The verdict the certificate claims.
    mdp, objective, policy, epsilon
        The inputs, as the kernel re-read them (never taken from an engine).
    arrays
        The witness sidecar's arrays (float arithmetic), by name.

    Returns
    -------
    CheckedValues
        The kernel's own enclosures of J(π₀), J* and the gap, and the verified status.

    Raises
    ------
    CheckFailure
        Naming the step (statement, witness field, state and action, values, verdict) and the
        inequality that failed, with its numbers.
    """
    _check_statement(body, objective, epsilon)
    whole, given = mdp, policy   # η is checked on the whole model: an environment may reach any state
    if objective.horizon is not None:   # changes no value (proofs.kernel.horizon)
        mdp, policy = restrict_with_policy(mdp, objective.horizon, policy)
    witness = body.witness
    exact = witness.arithmetic == "exact" if isinstance(witness, BackwardInduction) else \
        isinstance(witness, ExactValueVectors)
    tail_states = check_defined(mdp, policy, objective.horizon)
    table = policy if tail_states is None else Policy(policy.layers[:-1] + (restricted(policy.layers[-1], tail_states),))
    beta = objective.discount
    if objective.reward not in mdp.rewards:
        raise CheckFailure(f"statement: the model has no reward structure {objective.reward!r}")
    reward = mdp.rewards[objective.reward]
    op: Operator = ExactBellman(mdp, reward, beta) if exact else FloatBellman(mdp, reward, beta)
    zero: Vector = [Fraction(0)] * mdp.n_states if exact else np.zeros(mdp.n_states)
    if objective.horizon is not None:
        if not isinstance(witness, BackwardInduction) or witness.steps != objective.horizon:
            steps = witness.steps if isinstance(witness, BackwardInduction) else None
            raise CheckFailure(f"witness: a finite horizon {objective.horizon} needs kind 'backward-induction' "
                               f"with steps = {objective.horizon}, got {_kind(witness)!r} with steps = {steps!r}")
        if witness.tail is not None:
            if exact or beta != 1 or len(table.layers) != 1 or not 1 <= witness.tail <= objective.horizon - 2 \
                    or mdp.is_credal:
                raise CheckFailure(f"witness: a tail of {witness.tail} steps needs float arithmetic, an undiscounted "
                                   "J, a stationary policy, a point model and 1 ≤ tail ≤ H − 2")
            j_star, j_policy = tail_values(mdp, objective, table.layers[0], witness.tail)
        else:
            star = pol = Bound(zero, Fraction(0), Fraction(0))
            for t in reversed(range(objective.horizon)):
                values, err = op.optimal(star.centre)
                star = step(values, err, beta, star)
                values, err = op.policy(table.at(t), pol.centre)
                pol = step(values, err, beta, pol)
            j_star, j_policy = at_initial(mdp, star), at_initial(mdp, pol)
    else:
        if isinstance(witness, BackwardInduction):
            raise CheckFailure(f"witness: a geometric horizon needs kind 'value-vectors', got {_kind(witness)!r}")
        every = np.arange(mdp.n_states, dtype=np.int64)
        star = _fixed_point(op, witness.optimal, "optimal", every, op.optimal,
                            lambda s, w: _optimal_action(op, s, w), arrays)
        tail = table.layers[-1]
        reached = _check_closed(mdp, tail, "policy")
        pol = _fixed_point(op, witness.policy, "policy", reached, lambda w: op.policy(tail, w),
                           lambda s, w: "under the policy", arrays)
        for layer in reversed(table.layers[:-1]):
            values, err = op.policy(layer, pol.centre)
            pol = step(values, err, beta, pol)
        j_star, j_policy = at_initial(mdp, star), at_initial(mdp, pol)
    gap = j_star - j_policy
    _claims(body.values, {"j_star": j_star, "j_policy": j_policy, "gap": gap}, exact)
    _check_diagnosis(body.diagnosis, mdp, objective, table)
    verdict = _verdict(status, gap, epsilon)
    if body.values.eta is not None:   # a claim of its own: η_lo ≥ 0 passing implies the lemma
        check_eta(body.values.eta, whole, objective, given, epsilon, gap.hi)
    return CheckedValues(verdict, j_policy, j_star, gap)


def tail_values(mdp: Mdp, objective: Objective, layer: PolicyLayer, tail: int,
                bellman: Callable[[Rationals, Fraction], FloatBellman] | None = None) -> tuple[Enclosure, Enclosure]:
    """J* and J(π₀) of a stationary layer over a long undiscounted episode: the last ``tail`` + 1
    steps of each backward induction and slopes before them (`proofs.kernel.check_alignment_float`,
    "long horizons"; the P-condition over every choice the layer may take bounds its mixture)."""
    assert objective.horizon is not None
    opt = OptimalJ(mdp, objective, np.zeros(mdp.n_states, dtype=np.bool_), {objective.horizon}, bellman, tail)
    before = pol = Bound(np.zeros(mdp.n_states), Fraction(0), Fraction(0))
    for _ in range(tail + 1):
        before, pol = pol, step(*opt.op.policy(layer, pol.centre), Fraction(1), pol)
    rows, j, none = opt.zero.select(layer.choice[layer.probability.num != 0]), opt.first + 1, np.zeros(0, dtype=np.int64)
    return opt.j_star, tail_enclosure(mdp, slope(opt.zero, before.centre, before.up, pol.centre, pol.up, rows, none, j),
                                      slope(opt.zero, -before.centre, before.down, -pol.centre, pol.down, rows, none, j), j)


def _kind(witness: PolicyWitness) -> str:
    return "backward-induction" if isinstance(witness, BackwardInduction) else "value-vectors"
