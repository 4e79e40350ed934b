"""Sound float enclosures of `Quantity` values, for models too large for `Fraction`.

Search is in floats; every reported number is an enclosure proved by rigorous interval
arithmetic (`proofs.kernel.interval`):
- bounded quantities: backward induction carried out on intervals [lo, hi] throughout;
- geometric fixed points: float value iteration (untrusted) to a candidate W, then one sound
  Bellman step T: if every component of T(W) − W lies in [a, b] then, T being monotone and a
  β-contraction in the sup norm, the fixed point lies in [W + min(a,0)/(1−β), W + max(b,0)/(1−β)].
Credal models are not handled here (see `exact`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.kernel import interval as iv
from proofs.policy.model import Policy, PolicyLayer
from proofs.semantics.episode import Quantity
from proofs.worldmodel.model import Mdp

__all__ = ["SoundModel", "Box", "evaluate_policy", "optimise"]

F = npt.NDArray[np.float64]
Box = tuple[F, F]


@dataclass(frozen=True, eq=False)
class SoundModel:
    """Float enclosures of an `Mdp`'s probabilities, computed once per model."""

    mdp: Mdp
    p_lo: F
    p_hi: F

    @classmethod
    def of(cls, mdp: Mdp) -> SoundModel:
        if mdp.probability is None:
            raise ValueError("credal models are evaluated exactly")
        lo, hi = mdp.probability.enclosure()
        return cls(mdp, np.maximum(lo, 0.0), hi)


def _frac_box(x: Fraction) -> tuple[float, float]:
    f = float(x)
    lo, hi = np.nextafter(f, -np.inf), np.nextafter(f, np.inf)
    return (f, f) if Fraction(f) == x else (float(lo), float(hi))


def _terminal(q: Quantity) -> Box:
    g = (q.stop & q.stop_value).astype(np.float64)
    return g, g.copy()


def _choice_box(m: SoundModel, q: Quantity, w: Box, r: Box) -> Box:
    """Enclosure of r(c) + Σ P·(β W + η g[stop]) for every choice c."""
    b_lo, b_hi = _frac_box(q.beta)
    nv_lo, nv_hi = iv.scale_nonneg(b_lo, b_hi, w[0], w[1])
    if q.eta and q.has_stops:
        e_lo, e_hi = _frac_box(q.eta)
        g = (q.stop & q.stop_value).astype(np.float64)
        nv_lo, nv_hi = iv.add(nv_lo, nv_hi, e_lo * g - iv.TINY * g, e_hi * g + iv.TINY * g)
    t = m.mdp.target
    prod = iv.mul_nonneg(m.p_lo, m.p_hi, nv_lo[t], nv_hi[t])
    s_lo, s_hi = iv.segment_sum(prod[0], prod[1], m.mdp.row_start)
    return iv.add(s_lo, s_hi, r[0], r[1])


def _policy_box(layer: PolicyLayer, qc: Box, n: int) -> tuple[Box, npt.NDArray[np.bool_]]:
    p_lo, p_hi = layer.probability.enclosure()
    prod = iv.mul_nonneg(np.maximum(p_lo, 0.0), p_hi, qc[0][layer.choice], qc[1][layer.choice])
    lo, hi = iv.segment_sum(prod[0], prod[1], layer.start)
    return (lo, hi), np.diff(layer.start) > 0


def _best_box(m: SoundModel, qc: Box, maximise: bool) -> Box:
    reduce = np.maximum if maximise else np.minimum
    starts = m.mdp.choice_start
    return iv.segment_reduce(reduce, qc[0], starts), iv.segment_reduce(reduce, qc[1], starts)


def _keep_stops(q: Quantity, new: Box, old: Box) -> Box:
    return np.where(q.stop, old[0], new[0]), np.where(q.stop, old[1], new[1])


def evaluate_policy(m: SoundModel, q: Quantity, policy: Policy) -> Box:
    """Enclosure of the quantity's value under a Markov policy, at every state."""
    r = q.reward.enclosure()
    n = m.mdp.n_states
    if q.steps is not None:
        w = _terminal(q)
        for t in reversed(range(q.steps)):
            qc = _choice_box(m, q, w, r)
            val, defined = _policy_box(policy.at(t), qc, n)
            val = (np.where(defined, val[0], 0.0), np.where(defined, val[1], 0.0))
            w = _keep_stops(q, val, w)
        return w
    layer = policy.at(0)

    def bellman(w: Box) -> Box:
        val, defined = _policy_box(layer, _choice_box(m, q, w, r), n)
        return _keep_stops(q, (np.where(defined, val[0], 0.0), np.where(defined, val[1], 0.0)), _terminal(q))

    return _certified_fixed_point(q, bellman)


def optimise(m: SoundModel, q: Quantity, maximise: bool = True) -> tuple[Box, Policy]:
    """Enclosure of the optimum of the quantity, and a (float-greedy, untrusted) optimal policy."""
    r = q.reward.enclosure()
    if q.steps is not None:
        w = _terminal(q)
        layers = []
        for _ in reversed(range(q.steps)):
            qc = _choice_box(m, q, w, r)
            layers.append(_argbest(m, (qc[0] + qc[1]) / 2, maximise))
            w = _keep_stops(q, _best_box(m, qc, maximise), w)
        layers.reverse()
        return w, Policy(tuple(layers) or (_argbest(m, np.zeros(m.mdp.n_choices), maximise),))

    def bellman(w: Box) -> Box:
        return _keep_stops(q, _best_box(m, _choice_box(m, q, w, r), maximise), _terminal(q))

    box = _certified_fixed_point(q, bellman)
    mid = (box[0] + box[1]) / 2
    qc = _choice_box(m, q, (mid, mid), r)
    return box, Policy.stationary(_argbest(m, (qc[0] + qc[1]) / 2, maximise))


def _argbest(m: SoundModel, qc: F, maximise: bool) -> PolicyLayer:
    """Per state the best choice by float value (ties to the lowest index)."""
    starts = m.mdp.choice_start
    key = qc if maximise else -qc
    best = iv.segment_reduce(np.maximum, key, starts, -np.inf)
    is_best = key >= np.repeat(best, np.diff(starts))
    idx = np.arange(len(qc))
    first = iv.segment_reduce(np.minimum, np.where(is_best, idx, len(qc)), starts, -1)
    return PolicyLayer.deterministic(m.mdp, first.astype(np.int64))


def _certified_fixed_point(q: Quantity, bellman, tol: float = 1e-12, max_iter: int = 100_000) -> Box:  # type: ignore[no-untyped-def]
    w = _terminal(q)[0]
    for _ in range(max_iter):
        lo, hi = bellman((w, w))
        nxt = (lo + hi) / 2
        delta = float(np.max(np.abs(nxt - w), initial=0.0))
        w = nxt
        if delta <= tol * max(1.0, float(np.max(np.abs(w), initial=0.0))) * (1 - float(q.beta)):
            break
    lo, hi = bellman((w, w))
    a = min(float(np.min(lo - w, initial=0.0)), 0.0)
    b = max(float(np.max(hi - w, initial=0.0)), 0.0)
    # the differences above are rounded: widen them, and the division, outward
    a = float(np.nextafter(np.nextafter(a, -np.inf) * (1 + 4 * iv.U), -np.inf))
    b = float(np.nextafter(np.nextafter(b, np.inf) * (1 + 4 * iv.U), np.inf))
    beta_hi = _frac_box(q.beta)[1]
    one_minus = float(np.nextafter(1.0 - beta_hi, 0.0))  # a lower bound on 1 - β
    shift_lo = float(np.nextafter(a / one_minus, -np.inf))
    shift_hi = float(np.nextafter(b / one_minus, np.inf))
    out_lo, out_hi = iv.outward(w + shift_lo, w + shift_hi)
    g = _terminal(q)[0]
    return np.where(q.stop, g, out_lo), np.where(q.stop, g, out_hi)
