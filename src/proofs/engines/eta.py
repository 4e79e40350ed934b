"""The model–reality margin η of a proved policy lemma or safety certificate (UNTRUSTED search;
exact, small point models).

No world model is exactly the world. η is how far, in total variation per step, every transition
distribution of reality may be from the model's (mass may move to any state, including ones the
model never reaches from there) while π₀ stays ε-optimal. Two numbers, both re-checked by the
kernel (`proofs.kernel.check_policy.check_eta`):

* η_lo: within the η_lo-ball, nature at its best for J* and at its worst for π₀ (two different
  natures, so a sufficient condition) leaves J* − J(π₀) ≤ ε. Found by bisection on the dyadic
  grid k/4096: the condition is monotone in η.
* η_hi: one concrete environment within η_hi where J* − J(π₀) > ε. Built at grid points above
  η_lo (doubling, then bisection down to the smallest that breaks the lemma): at each step, where π₀ acts (or is undefined) the row nature would pick against
  π₀, elsewhere the row it would pick for J*, each moving η of the row's mass; evaluated exactly.
  Not found (None) when no such environment breaks the lemma up to η = 1.

For a safety certificate (π₀ ⊨ Φ, `safety_eta`) the claim is Φ under π₀ in every environment
within η_lo: nature against each constraint (`proofs.kernel.direct.ball_value`). That worst case is
one environment, so η_hi is the next grid point and its environment is nature's choice there.

Only for finite horizons on point models whose exact evaluation is cheap (`EXACT_WORK`: about
thirty exact backward inductions are needed).

For a proved alignment lemma (`alignment_eta`, any size, exact or float certificates) η_lo comes
from the simulation lemma in closed form (`proofs.kernel.check_alignment`, "model–reality
margin"): the certificate's own multiplier bounds each constraint at ε + 2η·c_J, moved by η·c_W;
the largest grid point that keeps every constraint satisfied. No η_hi. Policy lemmas and safety
certificates beyond the exact limit get the same closed form (`closed_policy_eta`,
`closed_safety_eta`): the gap plus 2η·c_J within ε, each value of Φ moved by η·c_W within its
threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from proofs.core.certificates import Environment, Eta
from proofs.core.enclosure import Enclosure
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.policy import Policy
from proofs.kernel.bellman import ExactBellman
from proofs.kernel.check_policy import eta_gap
from proofs.kernel.direct import ball_value
from proofs.kernel.episode import constraint_quantity

__all__ = ["EXACT_WORK", "GRID", "alignment_eta", "closed_policy_eta", "closed_safety_eta", "eta_margin",
           "safety_eta"]

GRID = 1 << 12
EXACT_WORK = 20_000   # transitions × steps of one exact backward induction

Rows = list[dict[int, list[tuple[int, Fraction, Fraction]]]]


def eta_margin(mdp: Mdp, objective: Objective, policy: Policy, epsilon: Fraction) -> Eta | None:
    """η_lo and, where found, η_hi with its environment (module docstring); None where η is not
    computed (credal or large models, the geometric horizon) or the lemma fails on the model."""
    horizon = objective.horizon
    if mdp.is_credal or horizon is None or mdp.n_transitions * horizon > EXACT_WORK:
        return None
    reward = mdp.rewards[objective.reward]

    def holds(k: int) -> bool:
        up, down = (ExactBellman(mdp, reward, objective.discount, (Fraction(k, GRID), high)) for high in (True, False))
        return eta_gap(mdp, objective, policy, up, down) <= epsilon

    lo = _last_holding(holds)
    if lo is None or lo == GRID:
        return None if lo is None else Eta(Fraction(1))
    hi = lo + 1
    plain = ExactBellman(mdp, reward, objective.discount)

    def breaking(k: int) -> Rows | None:
        rows = _environment(mdp, objective, policy, Fraction(k, GRID))
        return rows if eta_gap(mdp, objective, policy, plain, plain, rows) > epsilon else None

    below, k = lo, hi   # doubling until an environment breaks the lemma, then bisection below it
    while (found := breaking(k)) is None:
        if k == GRID:
            return Eta(Fraction(lo, GRID))
        below, k = k, min(2 * k, GRID)
    while k - below > 1:
        mid = (below + k) // 2
        rows = breaking(mid)
        below, k, found = (below, mid, rows) if rows is not None else (mid, k, found)
    return Eta(Fraction(lo, GRID), Fraction(k, GRID), _named(mdp, found))


def _moved(row: list[tuple[int, Fraction, Fraction]], w: list[Fraction], eta: Fraction,
           highest: bool) -> dict[int, Fraction]:
    """The row with η of its mass moved from its successors of highest w (lowest, ``highest``) to
    the state of lowest w (highest): the distribution `ball_expectation` takes."""
    out: dict[int, Fraction] = {}
    for t, p, _ in row:
        out[t] = out.get(t, Fraction(0)) + p
    sign = -1 if highest else 1   # minimise sign·w
    to, left = min(range(len(w)), key=lambda s: sign * w[s]), eta
    for t in sorted(out, key=lambda s: -sign * w[s]):
        take = min(out[t], left)
        if take and t != to:
            out[t] -= take
            out[to] = out.get(to, Fraction(0)) + take
            left -= take
    return {t: p for t, p in out.items() if p}


def _environment(mdp: Mdp, objective: Objective, policy: Policy, eta: Fraction) -> Rows:
    """Per step and choice, the rows of the environment of the module docstring (only those that
    differ from the model's)."""
    assert objective.horizon is not None
    reward = mdp.rewards[objective.reward]
    model = ExactBellman(mdp, reward, objective.discount)
    d, n = objective.discount, mdp.n_states
    star = pol = [Fraction(0)] * n
    steps: Rows = []
    for t in reversed(range(objective.horizon)):
        layer, rows = policy.at(t), {}
        used = {c for s in range(n) for c, _ in layer.distribution(s)} | \
            {c for s in range(n) if layer.start[s + 1] == layer.start[s] for c in mdp.choices(s)}
        for c in range(mdp.n_choices):
            against = c in used
            moved = _moved(model.rows[c], pol if against else star, eta, highest=not against)
            rows[c] = [(x, p, p) for x, p in moved.items()]

        q_star = [model.reward[c] + d * sum((p * star[x] for x, p, _ in rows[c]), Fraction(0))
                  for c in range(mdp.n_choices)]
        q_pol = [model.reward[c] + d * sum((p * pol[x] for x, p, _ in rows[c]), Fraction(0))
                 for c in range(mdp.n_choices)]
        star, pol = ([max(q_star[c] for c in mdp.choices(s)) for s in range(n)],
                     [sum((p * q_pol[c] for c, p in layer.distribution(s)), Fraction(0))
                      if layer.start[s + 1] > layer.start[s] else min(q_pol[c] for c in mdp.choices(s))
                      for s in range(n)])
        steps.append({c: row for c, row in rows.items() if _moved(model.rows[c], star, Fraction(0), False) !=
                      {x: p for x, p, _ in row}})
    steps.reverse()
    return steps


def _named(mdp: Mdp, rows: Rows) -> Environment:
    """The environment's rows by state, action and successor name, as the certificate holds them."""
    out = []
    for step in rows:
        named: dict[str, dict[str, dict[str, Fraction]]] = {}
        for c, row in sorted(step.items()):
            s = int(mdp.choice_state[c])
            named.setdefault(mdp.states[s], {})[mdp.action(c)] = {mdp.states[x]: p for x, p, _ in row}
        out.append(named)
    return tuple(out)


def safety_eta(mdp: Mdp, objective: Objective, policy: Policy, phi: tuple[Constraint, ...]) -> Eta | None:
    """η_lo and η_hi with its environment of π₀ ⊨ Φ (module docstring); None where not computed."""
    horizon = objective.horizon
    if mdp.is_credal or horizon is None or not phi or mdp.n_transitions * horizon > EXACT_WORK:
        return None

    def violated(k: int) -> Constraint | None:
        return next((c for c in phi if not c.comparison.holds(ball_value(mdp, objective, policy, c, Fraction(k, GRID)),
                                                              c.threshold)), None)

    lo = _last_holding(lambda k: violated(k) is None)
    if lo is None or lo == GRID:
        return None if lo is None else Eta(Fraction(1))
    hi = lo + 1
    c = violated(hi)
    assert c is not None
    rows = _worst_rows(mdp, objective, policy, c, Fraction(hi, GRID))
    if c.comparison.holds(ball_value(mdp, objective, policy, c, Fraction(0), rows), c.threshold):
        return Eta(Fraction(lo, GRID))
    return Eta(Fraction(lo, GRID), Fraction(hi, GRID), _named(mdp, rows))


def _worst_rows(mdp: Mdp, objective: Objective, policy: Policy, constraint: Constraint, eta: Fraction) -> Rows:
    """Nature's rows against the constraint within η (those `ball_value` takes), per step of the
    horizon (none after the constraint's own steps)."""
    assert objective.horizon is not None
    q = constraint_quantity(mdp, objective, constraint)
    assert q.steps is not None
    high = constraint.comparison.is_upper != q.complement
    n, reward = mdp.n_states, q.reward.fractions()
    model = [[(t, p, p) for t, p in mdp.successors(c)] for c in range(mdp.n_choices)]
    goal = [Fraction(int(q.stop[s] and q.stop_value[s])) for s in range(n)]
    w, pick, steps = goal, max if high else min, []
    for t in reversed(range(q.steps)):
        after = [q.beta * w[s] + q.eta * goal[s] for s in range(n)]
        moved = [_moved(model[c], after, eta, highest=high) for c in range(mdp.n_choices)]
        value = [reward[c] + sum((p * after[x] for x, p in moved[c].items()), Fraction(0)) for c in range(mdp.n_choices)]
        layer = policy.at(t)
        w = [goal[s] if q.stop[s] else sum((p * value[c] for c, p in layer.distribution(s)), Fraction(0))
             if layer.start[s + 1] > layer.start[s] else pick(value[c] for c in mdp.choices(s)) for s in range(n)]
        steps.append({c: [(x, p, p) for x, p in row.items()] for c, row in enumerate(moved)
                      if row != _moved(model[c], after, Fraction(0), False)})
    steps.reverse()
    return steps + [{} for _ in range(objective.horizon - q.steps)]


def alignment_eta(mdp: Mdp, objective: Objective, constraints: Sequence[Constraint],
                  fields: Mapping[str, Any]) -> Eta | None:
    """η_lo of a proved alignment lemma from its certificate fields (module docstring), or None.

    Each constraint's bound on Q at ε is taken from its reported worst value (which contains the
    kernel's: an over-estimate, so the kernel's check passes whenever this one does), reported
    both plainly and cut to [0, 1] as the exact and the float checker do."""
    from proofs.core.rational import parse_rational
    from proofs.kernel.check_alignment import drifts, margin_edge, orientation

    if fields.get("status") != "proved" or mdp.is_credal or (objective.horizon is None and objective.discount >= 1):
        return None
    c_j, c_w = drifts(mdp, objective, constraints)
    rows, wits = fields["values"]["constraints"], fields["witness"]["constraints"]
    parts = []
    for c, row, wit, drift in zip(constraints, rows, wits, c_w):
        rho = orientation(c, constraint_quantity(mdp, objective, c).complement)[2]
        q = parse_rational(row["worst"]["hi"]) if rho > 0 else -parse_rational(row["worst"]["lo"])
        parts.append((c, rho, q, parse_rational(wit["lambda"]), drift))

    def holds(eta: Fraction) -> bool:   # as the exact checker reports a bound, and as the float one (cut)
        return all(c.comparison.holds(margin_edge(reported, rho, q, lam, c_j, drift, eta), c.threshold)
                   for c, rho, q, lam, drift in parts
                   for reported in (lambda x, rho=rho: rho * x,
                                    lambda x, rho=rho: min(max(rho * x, Fraction(0)), Fraction(1))))

    return _largest(holds)


def _last_holding(holds: Callable[[int], bool]) -> int | None:
    """The largest k ≤ GRID where the monotone ``holds`` (true up to some k, false after) does, by
    bisection; None where it fails at 0."""
    if not holds(0):
        return None
    if holds(GRID):
        return GRID
    lo, hi = 0, GRID   # holds(lo), not holds(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    return lo


def _largest(holds: Callable[[Fraction], bool]) -> Eta | None:
    """The largest grid point k/GRID > 0 where the monotone ``holds`` does, as an η_lo."""
    lo = _last_holding(lambda k: holds(Fraction(k, GRID)))
    return Eta(Fraction(lo, GRID)) if lo else None


def closed_policy_eta(mdp: Mdp, objective: Objective, gap: Enclosure, epsilon: Fraction) -> Eta | None:
    """η_lo of a proved policy lemma in closed form (module docstring), from its reported gap (which
    contains the kernel's)."""
    from proofs.kernel.check_alignment import drifts

    if mdp.is_credal or (objective.horizon is None and objective.discount >= 1):
        return None
    c_j = drifts(mdp, objective, ())[0]
    return _largest(lambda eta: gap.hi + 2 * eta * c_j <= epsilon)


def closed_safety_eta(mdp: Mdp, objective: Objective, phi: tuple[Constraint, ...],
                      values: Sequence[Enclosure]) -> Eta | None:
    """η_lo of π₀ ⊨ Φ in closed form (module docstring), from the direct values; each is widened by
    its own width first (the kernel's enclosure need only meet the reported one)."""
    from proofs.kernel.check_alignment import drifts

    if mdp.is_credal or (objective.horizon is None and objective.discount >= 1) or not phi:
        return None
    moves = drifts(mdp, objective, phi)[1]

    def holds(eta: Fraction) -> bool:
        return all(c.comparison.holds(v.hi + v.width + m * eta if c.comparison.is_upper else v.lo - v.width - m * eta,
                                      c.threshold) for c, v, m in zip(phi, values, moves))

    return _largest(holds)
