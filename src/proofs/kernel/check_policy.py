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

from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.core.rational import format_rational
from proofs.core.schema import DIAGNOSIS, FieldError, ListOf, rational, short
from proofs.kernel.bellman import Bound, ExactBellman, FloatBellman, U, Vector, at_initial, step
from proofs.kernel.horizon import restrict_with_policy

__all__ = ["CheckedValues", "check_policy_certificate"]

Operator = ExactBellman | FloatBellman


@dataclass(frozen=True)
class CheckedValues:
    """The kernel's own enclosures and the verdict they support."""

    status: str
    j_policy: Enclosure
    j_star: Enclosure
    gap: Enclosure


_show = short


def _field(data: Mapping[str, object], key: str, kind: type, where: str) -> object:
    if not isinstance(data, Mapping) or key not in data:
        raise CheckFailure(f"{where}: the certificate has no field {key!r}")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CheckFailure(f"{where}.{key}: expected {kind.__name__}, got {repr(value)[:80]}")
    return value


def _rational(data: Mapping[str, object], key: str, where: str) -> Fraction:
    """An exact number of bounded size (`proofs.core.schema.rational`)."""
    text = _field(data, key, str, where)
    try:
        return rational(text, f"{where}.{key}")
    except FieldError as exc:
        raise CheckFailure(f"{exc.field}: {exc.problem}") from None


def _check_statement(cert: Mapping[str, object], objective: Objective, epsilon: Fraction) -> None:
    lemma = cert.get("lemma")
    if isinstance(lemma, Mapping) and lemma.get("kind") != "policy":
        raise CheckFailure(f"statement: lemma kind {lemma.get('kind')!r} is not 'policy'")
    stated = _field(cert, "objective", Mapping, "statement")
    assert isinstance(stated, Mapping)
    horizon = "geometric" if objective.horizon is None else objective.horizon
    if (stated.get("reward") != objective.reward or stated.get("horizon") != horizon
            or isinstance(stated.get("horizon"), bool)
            or _rational(stated, "discount", "statement.objective") != objective.discount):
        raise CheckFailure(f"statement: the certificate's objective {dict(stated)} is not the obligation's "
                           f"(reward {objective.reward!r}, horizon {horizon!r}, discount {_show(objective.discount)})")
    claimed = _rational(cert, "epsilon", "statement")
    if claimed != epsilon:
        raise CheckFailure(f"statement: the certificate is for ε = {_show(claimed)}, the obligation "
                           f"asks ε = {_show(epsilon)}")


def _vector(entry: Mapping[str, object], where: str, states: npt.NDArray[np.int64], mdp: Mdp,
            arrays: Mapping[str, np.ndarray] | None, exact: bool) -> Vector:
    """The witness vector on ``states`` (0 elsewhere)."""
    if exact:
        table = _field(entry, "values", Mapping, where)
        assert isinstance(table, Mapping)
        out = [Fraction(0)] * mdp.n_states
        for name in table:
            if name not in mdp.state_index:
                raise CheckFailure(f"{where}.values: {name!r} is not a state of the model")
        for s in states.tolist():
            if mdp.states[s] not in table:
                raise CheckFailure(f"{where}.values: no value for state {mdp.states[s]!r}")
            out[s] = _rational(table, mdp.states[s], f"{where}.values")
        return out
    name = _field(entry, "array", str, where)
    array = (arrays or {}).get(str(name))
    if not isinstance(array, np.ndarray) or array.dtype != np.float64 or array.shape != (mdp.n_states,):
        raise CheckFailure(f"{where}.array: the sidecar has no float64 array {name!r} of length {mdp.n_states}")
    vector = np.zeros(mdp.n_states)
    vector[states] = array[states]
    if not np.all(np.isfinite(vector)):
        raise CheckFailure(f"{where}.array: {name!r} holds a NaN or infinite value on a checked state")
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


def _fixed_point(op: Operator, witness: Mapping[str, object], key: str, states: npt.NDArray[np.int64],
                 apply: Callable[[Vector], tuple[Vector, Fraction]], best: Callable[[int, Vector], str],
                 arrays: Mapping[str, np.ndarray] | None) -> Bound[Vector]:
    where = f"witness.{key}"
    entry = _field(witness, key, Mapping, "witness")
    assert isinstance(entry, Mapping)
    shift = _field(entry, "shift", Mapping, where)
    assert isinstance(shift, Mapping)
    down, up = _rational(shift, "down", f"{where}.shift"), _rational(shift, "up", f"{where}.shift")
    w = _vector(entry, where, states, op.mdp, arrays, isinstance(op, ExactBellman))
    tw, err = apply(w)
    _check_residual(op, where, states, w, tw, err, down, up, lambda s: best(s, w))
    return Bound(w, down, up)


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
        reached = _successors(mdp, layer, reached)
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


def _claims(cert: Mapping[str, object], kernel: Mapping[str, Enclosure], exact: bool) -> None:
    """Every claimed enclosure must contain the kernel's; with exact arithmetic it must be it."""
    values = _field(cert, "values", Mapping, "certificate")
    assert isinstance(values, Mapping)
    for name, bound in kernel.items():
        enclosure = _field(values, name, Mapping, "values")
        assert isinstance(enclosure, Mapping)
        lo, hi = _rational(enclosure, "lo", f"values.{name}"), _rational(enclosure, "hi", f"values.{name}")
        if lo > bound.lo:
            raise CheckFailure(f"values.{name}: the claimed lower end {_show(lo)} is not implied by the witness, "
                               f"which gives only {name} ≥ {_show(bound.lo)}")
        if hi < bound.hi:
            raise CheckFailure(f"values.{name}: the claimed upper end {_show(hi)} is not implied by the witness, "
                               f"which gives only {name} ≤ {_show(bound.hi)}")
        if exact and (lo, hi) != (bound.lo, bound.hi):
            raise CheckFailure(f"values.{name}: the claimed [{_show(lo)}, {_show(hi)}] is wider than the "
                               f"[{_show(bound.lo)}, {_show(bound.hi)}] the kernel derives exactly")


def _check_diagnosis(cert: Mapping[str, object], mdp: Mdp, objective: Objective, table: Policy) -> None:
    """The diagnosis' numbers are engine commentary (floats, not a proof); the kernel checks that
    it names states and steps of the episode, what the policy does there, and an action of the
    state as the optimal one, so that it cannot point at things that do not exist."""
    rows = cert.get("diagnosis", [])
    ListOf(DIAGNOSIS).check(rows, "diagnosis")
    assert isinstance(rows, list)
    for i, row in enumerate(rows):
        where = f"diagnosis[{i}]"
        s = mdp.state_index.get(row["state"])
        if s is None:
            raise CheckFailure(f"{where}.state: {row['state'][:60]!r} is not a state the episode can visit")
        step = row["step"]
        if (step is None) != (objective.horizon is None) or step is not None and step >= objective.horizon:
            raise CheckFailure(f"{where}.step: {step!r} is not a step of the episode (horizon {objective.horizon})")
        if row["optimal_action"] not in mdp.local_actions(s):
            raise CheckFailure(f"{where}.optimal_action: {row['optimal_action'][:60]!r} is not an action of "
                               f"state {row['state']!r}")
        dist = table.at(step if step is not None else len(table.layers) - 1).distribution(s)
        does = mdp.action(dist[0][0]) if len(dist) == 1 else ", ".join(
            f"{mdp.action(c)} {format_rational(p)}" for c, p in dist)
        if row["action"] != does:
            raise CheckFailure(f"{where}.action: the policy does {does!r} in state {row['state']!r}"
                               + (f" at step {step}" if step is not None else "") + f", not {row['action'][:60]!r}")


def _verdict(cert: Mapping[str, object], gap: Enclosure, epsilon: Fraction) -> str:
    status = _field(cert, "status", str, "certificate")
    if status == "proved" and not gap.hi <= epsilon:
        raise CheckFailure(f"verdict: 'proved' needs J* − J(π₀) ≤ ε, but the kernel shows only "
                           f"J* − J(π₀) ≤ {_show(gap.hi)} > ε = {_show(epsilon)}")
    if status == "refuted" and not gap.lo > epsilon:
        raise CheckFailure(f"verdict: 'refuted' needs J* − J(π₀) > ε, but the kernel shows only "
                           f"J* − J(π₀) ≥ {_show(gap.lo)} ≤ ε = {_show(epsilon)}")
    if status not in ("proved", "refuted", "unknown"):
        raise CheckFailure(f"verdict: status {status!r} is not one of proved, refuted, unknown")
    return str(status)


def check_policy_certificate(cert: Mapping[str, object], mdp: Mdp, objective: Objective, policy: Policy,
                             epsilon: Fraction, arrays: Mapping[str, np.ndarray] | None = None) -> CheckedValues:
    """Re-verify a policy-lemma certificate against the model, objective, policy and ε it is about.

    Parameters
    ----------
    cert
        The certificate document (``objective``, ``epsilon``, ``status``, ``values``, ``witness``).
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
    _check_statement(cert, objective, epsilon)
    if objective.horizon is not None:   # changes no value (proofs.kernel.horizon)
        mdp, policy = restrict_with_policy(mdp, objective.horizon, policy)
    witness = _field(cert, "witness", Mapping, "certificate")
    assert isinstance(witness, Mapping)
    arithmetic = _field(witness, "arithmetic", str, "witness")
    if arithmetic not in ("exact", "float"):
        raise CheckFailure(f"witness.arithmetic: {arithmetic!r} is neither 'exact' nor 'float'")
    tail_states = check_defined(mdp, policy, objective.horizon)
    table = policy if tail_states is None else Policy(policy.layers[:-1] + (restricted(policy.layers[-1], tail_states),))
    beta = objective.discount
    if objective.reward not in mdp.rewards:
        raise CheckFailure(f"statement: the model has no reward structure {objective.reward!r}")
    reward = mdp.rewards[objective.reward]
    op: Operator = ExactBellman(mdp, reward, beta) if arithmetic == "exact" else FloatBellman(mdp, reward, beta)
    zero: Vector = [Fraction(0)] * mdp.n_states if arithmetic == "exact" else np.zeros(mdp.n_states)
    kind = _field(witness, "kind", str, "witness")
    if objective.horizon is not None:
        if kind != "backward-induction" or witness.get("steps") != objective.horizon:
            raise CheckFailure(f"witness: a finite horizon {objective.horizon} needs kind 'backward-induction' "
                               f"with steps = {objective.horizon}, got {kind!r} with steps = {witness.get('steps')!r}")
        star = pol = Bound(zero, Fraction(0), Fraction(0))
        for t in reversed(range(objective.horizon)):
            values, err = op.optimal(star.centre)
            star = step(values, err, beta, star)
            values, err = op.policy(table.at(t), pol.centre)
            pol = step(values, err, beta, pol)
    else:
        if kind != "value-vectors":
            raise CheckFailure(f"witness: a geometric horizon needs kind 'value-vectors', got {kind!r}")
        every = np.arange(mdp.n_states, dtype=np.int64)
        star = _fixed_point(op, witness, "optimal", every, op.optimal, lambda s, w: _optimal_action(op, s, w), arrays)
        tail = table.layers[-1]
        reached = _check_closed(mdp, tail, "policy")
        pol = _fixed_point(op, witness, "policy", reached, lambda w: op.policy(tail, w),
                           lambda s, w: "under the policy", arrays)
        for layer in reversed(table.layers[:-1]):
            values, err = op.policy(layer, pol.centre)
            pol = step(values, err, beta, pol)
    j_star, j_policy = at_initial(mdp, star), at_initial(mdp, pol)
    gap = j_star - j_policy
    _claims(cert, {"j_star": j_star, "j_policy": j_policy, "gap": gap}, arithmetic == "exact")
    _check_diagnosis(cert, mdp, objective, table)
    return CheckedValues(_verdict(cert, gap, epsilon), j_policy, j_star, gap)
