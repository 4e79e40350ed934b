"""The policy lemma J(π₀) ≥ J* − ε: enclosures of J(π₀) and J*, a witness, and a diagnosis.

UNTRUSTED: every number it reports is re-checked by `proofs.kernel.check_policy`, whose
arithmetic (`proofs.kernel.bellman`) it uses for the very same bounds (in floats through the
fast passes of `proofs.operators`, which compute the kernel's floats), so that its claims are
exactly what the kernel re-derives. The search here (exact strategy iteration, float policy
iteration with Krylov solves) only decides which value vectors to offer as a witness; a wrong
start (``hint_values``, ``hint_policy``) costs time, never soundness.

Witness (``PolicyResult.witness``, see docs/certificate-format.md):

* finite horizon H: ``{"kind": "backward-induction", "arithmetic": "exact"|"float", "steps": H}``;
  the kernel redoes backward induction (exactly, or in floats with a proved error).
* geometric horizon: ``{"kind": "value-vectors", "arithmetic": ..., "optimal": V, "policy": V}``
  where each V is ``{"values": {state: rational}}`` (exact) or ``{"array": name}`` (float, the
  array in ``PolicyResult.arrays``), plus ``"shift": {"down": a, "up": b}``: W + b is a
  superharmonic and W − a a subharmonic vector of the optimal operator (``optimal``, every
  state) or of the policy's operator (``policy``, its last layer, on the states where it acts).

The diagnosis is computed in floats: an explanation, not a proof. It is always computed in
exact mode (small models); in float mode only when the lemma is not proved, since on a 1e6-state
model it costs about as much as the proof.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from proofs.core.certificates import DiagnosisRow, Eta, PolicyBody
from proofs.core.enclosure import Enclosure
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.core.rational import format_rational
from proofs.core.statement import objective_data
from proofs.engines.claims import EXPLICIT, claim, round_outward, tails
from proofs.engines.eta import closed_policy_eta, eta_margin
from proofs.kernel.bellman import Bound, ExactBellman, U, at_initial, step
from proofs.kernel.check_policy import tail_values
from proofs.kernel.episode import objective_quantity
from proofs.kernel.horizon import restrict_with_policy
from proofs.operators import FastBellman
from proofs.policy.canonical import reachable_table
from proofs.semantics import exact
from proofs.semantics.evaluate import use_exact

__all__ = ["ENGINE", "Diagnosis", "PolicyResult", "discharge_policy"]

ENGINE = "policy-bellman"
F = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
TOP = 10


Diagnosis = DiagnosisRow
"""Where π₀ loses value (floats: an explanation, not a proof; the certificate's diagnosis row).

``loss`` is the state's (and step's) term of the performance-difference decomposition
J* − J(π₀) = Σ_t Σ_s d^t·P(s_t = s)·(V*_t(s) − Σ_a π₀(a|s)·Q*_t(s, a)) (geometric: Σ_s over the
expected number of visits, ``step`` None). ``visits`` is P(s_t = s) for a finite horizon, the
expected number of visits for the geometric one. On a credal model the terms are computed on the
interval midpoints, so they only indicate where the loss is.
"""


@dataclass(frozen=True)
class PolicyResult:
    """The outcome of `discharge_policy`; every number an `Enclosure` the kernel re-derives.

    ``witness`` is JSON-ready (exact rational strings); float witnesses name their vectors,
    which are in ``arrays`` (for the certificate's ``.npz`` sidecar). ``diagnosis`` lists the
    top losses, largest first (empty when π₀ loses nothing, or when a large model's lemma is
    proved). ``certificate_fields`` gives what `proofs.kernel.check_policy` reads (a `PolicyBody`).
    """

    status: str
    j_policy: Enclosure
    j_star: Enclosure
    gap: Enclosure
    witness: dict[str, Any]
    diagnosis: tuple[Diagnosis, ...]
    engine: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    eta: Eta | None = None   # the model–reality margin of a proved lemma (`proofs.engines.eta`)

    def certificate_fields(self, objective: Objective, epsilon: Fraction) -> PolicyBody:
        """The fields `check_policy_certificate` reads (objective, ε, values, witness; no diagnosis),
        as the typed body of the certificate; the claimed verdict is ``status``."""
        return PolicyBody.from_json({
            "objective": objective_data(objective),
            "epsilon": format_rational(epsilon),
            "values": {"j_policy": self.j_policy.to_json(), "j_star": self.j_star.to_json(),
                       "gap": self.gap.to_json(), **({} if self.eta is None else {"eta": self.eta.to_json()})},
            "witness": self.witness,
            "diagnosis": [],
        })


def discharge_policy(mdp: Mdp, objective: Objective, policy: Policy, epsilon: Fraction, *,
                     exact_mode: bool | None = None, hint_values: F | None = None,
                     hint_policy: Policy | None = None) -> PolicyResult:
    """Decide J(π₀) ≥ J* − ε and produce the witness the kernel checks.

    Parameters
    ----------
    mdp, objective, policy, epsilon
        The world model, J, π₀ (any encoding of its behaviour) and ε ≥ 0.
    exact_mode
        Force exact `Fraction` arithmetic (True) or float arithmetic with proved error bounds
        (False); by default exact on small and credal models (`proofs.semantics.evaluate.use_exact`).
    hint_values, hint_policy
        Optional starting points for the geometric horizon's search (a value vector over the
        states, a policy); they change the run time only.

    Returns
    -------
    PolicyResult
        ``proved`` iff the gap's upper end is ≤ ε, ``refuted`` iff its lower end is > ε, else
        ``unknown``; never a rounded verdict. On a credal model J is nature's worst case.

    Raises
    ------
    proofs.policy.canonical.UndefinedState
        If π₀ reaches a state where it has no action (loaders report this as an input error).

    Examples
    --------
    >>> from tests.support.mdps import make_mdp
    >>> m = make_mdp(["s", "t"], {"s": [("stay", {"s": 1}), ("go", {"t": 1})], "t": [("stay", {"t": 1})]},
    ...              rewards={"r": {("s", "go"): 1}})
    >>> go = Policy.stationary(PolicyLayer.from_table(m, {0: [(1, Fraction(1))], 1: [(2, Fraction(1))]}))
    >>> r = discharge_policy(m, Objective("r", 3), go, Fraction(0))
    >>> r.status, str(r.j_policy), str(r.j_star)
    ('proved', '1', '1')
    """
    whole, behaviour = mdp, reachable_table(mdp, policy, objective.horizon)   # for η: reality may go anywhere
    if objective.horizon is not None:   # what the horizon can see (the kernel does the same)
        mdp, policy = restrict_with_policy(mdp, objective.horizon, policy)
    table = reachable_table(mdp, policy, objective.horizon)
    # credal models: floats too (the kernel's passes with nature's greedy)
    in_exact = use_exact(mdp, objective.horizon, exact_mode, discount=objective.discount, credal_floats=True)
    fm = _FloatModel(mdp, objective)  # cheap: its matrices are built on first use
    arrays: dict[str, np.ndarray] = {}
    if objective.horizon is not None:
        witness: dict[str, Any] = {"kind": "backward-induction", "arithmetic": "exact" if in_exact else "float",
                                   "steps": objective.horizon}
        tailed = None if in_exact else _float_tail(mdp, objective, table, epsilon)
        if tailed is not None:
            j_star, j_policy, witness["tail"] = tailed
        else:
            j_star, j_policy = (_exact_finite if in_exact else _float_finite)(mdp, objective, table)
    else:
        solve = _exact_geometric if in_exact else _float_geometric
        j_star, j_policy, witness, arrays, w_star = solve(mdp, objective, table, fm, hint_values, hint_policy,
                                                          epsilon)
    gap = j_star - j_policy
    status = "proved" if gap.hi <= epsilon else "refuted" if gap.lo > epsilon else "unknown"
    diagnosis: tuple[Diagnosis, ...] = ()
    if (in_exact or status != "proved") and (objective.horizon or 0) <= EXPLICIT:   # large: to explain a failure
        diagnosis = (_diagnose_finite(mdp, fm, table, objective.horizon) if objective.horizon is not None
                     else _diagnose_geometric(mdp, fm, table.layers[-1], w_star))
    engine = f"{ENGINE}/{witness['arithmetic']}"
    eta = eta_margin(whole, objective, behaviour, epsilon) if status == "proved" and in_exact else None
    if eta is None and status == "proved":   # beyond the exact limit: the simulation lemma's closed form
        eta = closed_policy_eta(whole, objective, gap, epsilon)
    return PolicyResult(status, j_policy, j_star, gap, witness, diagnosis, engine, arrays, eta)


# -- claims ------------------------------------------------------------------------------------
# -- finite horizon ----------------------------------------------------------------------------
def _exact_finite(mdp: Mdp, objective: Objective, table: Policy) -> tuple[Enclosure, Enclosure]:
    m, q = exact.ExactModel.of(mdp), objective_quantity(mdp, objective)
    star, _ = exact.optimise(m, q, maximise=True, nature=-1)
    values = exact.evaluate_policy(m, q, table, nature=-1)
    zero = Fraction(0)
    return (at_initial(mdp, Bound(star, zero, zero)), at_initial(mdp, Bound(values, zero, zero)))


def _float_finite(mdp: Mdp, objective: Objective, table: Policy) -> tuple[Enclosure, Enclosure]:
    """The kernel's own sound backward induction (with `FastBellman`), so the kernel re-derives it."""
    assert objective.horizon is not None
    beta = objective.discount
    fb = FastBellman(mdp, mdp.rewards[objective.reward], beta)
    star = pol = Bound(np.zeros(mdp.n_states), Fraction(0), Fraction(0))
    for t in reversed(range(objective.horizon)):
        star = step(*fb.optimal(star.centre), beta, star)
        pol = step(*fb.policy(table.at(t), pol.centre), beta, pol)
    return claim(at_initial(mdp, star)), claim(at_initial(mdp, pol))


def _float_tail(mdp: Mdp, objective: Objective, table: Policy,
                epsilon: Fraction) -> tuple[Enclosure, Enclosure, int] | None:
    """J* and J(π₀) of a stationary policy over a long undiscounted episode from its last K + 1
    steps and the kernel's slopes (`proofs.kernel.check_policy.tail_values`), for each K of
    `proofs.engines.claims.tails` while the gap is undecided; None where no tail applies, or none
    decides and H ≤ `EXPLICIT` (then every step is evaluated)."""
    horizon = objective.horizon
    assert horizon is not None
    if objective.discount != 1 or len(table.layers) != 1 or mdp.is_credal:
        return None
    found = None
    for tail in tails(horizon):
        j_star, j_policy = tail_values(mdp, objective, table.layers[0], tail,
                                       lambda reward, beta: FastBellman(mdp, reward, beta))
        found = claim(j_star), claim(j_policy), tail
        gap = found[0] - found[1]
        if gap.hi <= epsilon or gap.lo > epsilon:
            return found
    return None if horizon <= EXPLICIT else found


# -- geometric horizon -------------------------------------------------------------------------
Solved = tuple[Enclosure, Enclosure, dict[str, Any], dict[str, np.ndarray], F]


def _exact_geometric(mdp: Mdp, objective: Objective, table: Policy, fm: _FloatModel,
                     hint_values: F | None, hint_policy: Policy | None, epsilon: Fraction) -> Solved:
    m, q = exact.ExactModel.of(mdp), objective_quantity(mdp, objective)
    initial = hint_policy.at(0) if hint_policy is not None else (
        _layer(mdp, fm.greedy(fm.q(np.asarray(hint_values, dtype=float)))[1]) if hint_values is not None else None)
    star, _ = exact.optimise(m, q, maximise=True, nature=-1, initial=initial)
    tail = table.layers[-1]
    values = exact.evaluate_policy(m, q, Policy.stationary(tail), nature=-1)
    zero = Fraction(0)
    bound = Bound(values, zero, zero)
    op = ExactBellman(mdp, mdp.rewards[objective.reward], objective.discount)
    for layer in reversed(table.layers[:-1]):
        bound = step(*op.policy(layer, bound.centre), objective.discount, bound)
    reached = np.flatnonzero(np.diff(tail.start) > 0)
    shift = {"down": "0", "up": "0"}
    witness = {"kind": "value-vectors", "arithmetic": "exact",
               "optimal": {"values": {mdp.states[s]: format_rational(v) for s, v in enumerate(star)}, "shift": shift},
               "policy": {"values": {mdp.states[s]: format_rational(values[s]) for s in reached.tolist()},
                          "shift": dict(shift)}}
    j_star = at_initial(mdp, Bound(star, zero, zero))
    return j_star, at_initial(mdp, bound), witness, {}, np.array([float(v) for v in star])


def _float_geometric(mdp: Mdp, objective: Objective, table: Policy, fm: _FloatModel,
                     hint_values: F | None, hint_policy: Policy | None, epsilon: Fraction) -> Solved:
    gamma = objective.discount
    fb = FastBellman(mdp, mdp.rewards[objective.reward], gamma)
    tail = table.layers[-1]
    reached = np.flatnonzero(np.diff(tail.start) > 0)
    start = np.asarray(hint_values, dtype=np.float64) if hint_values is not None else np.zeros(mdp.n_states)
    w_pol = _solve(fm.chain(tail), fm.reward(tail), fm.beta, start, TIGHT)
    if mdp.is_credal:   # the midpoints' values, then nature's fixed point by the kernel's passes
        w_pol = _robust(lambda w: fb.policy(tail, w)[0], w_pol, reached, fm.beta, epsilon)
    pol = tail_bound = _shifted(fb, w_pol, reached, lambda w: fb.policy(tail, w))
    for layer in reversed(table.layers[:-1]):
        pol = step(*fb.policy(layer, pol.centre), gamma, pol)
    j_pol = at_initial(mdp, pol)
    mu_states, mu = mdp.initial_states.astype(np.int64), mdp.initial_probability.floats()

    def decided(w: F, best: F) -> bool:
        """Whether W (with ``best`` = max_a of its one-step values) already settles the verdict with
        a J* enclosure at most ε/10 wide (a float estimate)."""
        rise = best - w
        centre = float(np.dot(mu, w[mu_states]))
        hi = centre + max(float(np.max(rise)), 0.0) / (1 - fm.beta)
        lo = centre - max(-float(np.min(rise)), 0.0) / (1 - fm.beta)
        eps = float(epsilon)
        settled = hi - float(j_pol.lo) < eps * (1 - 1e-6) or lo - float(j_pol.hi) > eps * (1 + 1e-6)
        return settled and hi - lo <= eps / 10

    w_star = _optimal_vector(fm, tail, w_pol, hint_values, hint_policy, decided)
    if mdp.is_credal:
        w_star = _robust(lambda w: fb.optimal(w)[0], w_star, np.arange(mdp.n_states), fm.beta, epsilon)
    star = _shifted(fb, w_star, np.arange(mdp.n_states), fb.optimal)
    witness = {"kind": "value-vectors", "arithmetic": "float",
               "optimal": {"array": "optimal", "shift": _shift_json(star)},
               "policy": {"array": "policy", "shift": _shift_json(tail_bound)}}
    arrays = {"optimal": w_star, "policy": np.where(np.diff(tail.start) > 0, w_pol, np.nan)}
    return claim(at_initial(mdp, star)), claim(at_initial(mdp, pol)), witness, arrays, w_star


def _shift_json(bound: Bound[Any]) -> dict[str, str]:
    return {"down": format_rational(bound.down), "up": format_rational(bound.up)}


def _robust(apply: Callable[[F], F], w: F, states: IntArray, beta: float, epsilon: Fraction) -> F:
    """Value iteration with the operator ``apply`` (nature's, on a credal model) from ``w`` on
    ``states``, until the residual bounds the distance to the fixed point by ε/100 (it contracts
    by β per pass), or 5,000 passes: any vector is a sound witness, a closer one a narrower one."""
    w = w.copy()
    goal = max(float(epsilon) / 100, 1e-9 * (1 + float(np.max(np.abs(w), initial=0.0)))) * (1 - beta)
    for _ in range(5000):
        tw = apply(w)
        residual = float(np.max(np.abs(tw[states] - w[states]), initial=0.0))
        w[states] = tw[states]
        if residual <= goal:
            break
    return w


def _shifted(fb: FastBellman, w: F, states: IntArray, apply: Callable[[F], tuple[F, Fraction]]) -> Bound[F]:
    """Offsets a (down), b (up) with W − a sub- and W + b superharmonic, by the kernel's test.

    The margin of 3·e (e the kernel's error bound) keeps the test passing on a machine whose
    float sums differ in their last bits.
    """
    tw, err = apply(w)
    d = tw[states] - w[states]
    slop = 2 * U * Fraction(float(np.max(np.abs(d), initial=0.0))) + 4 * err
    slack = 1 - fb.beta
    rise = Fraction(float(np.max(d, initial=0.0))) + slop
    fall = -Fraction(float(np.min(d, initial=0.0))) + slop
    return Bound(w, round_outward(max(fall, Fraction(0)) / slack, up=True, digits=3),
                 round_outward(max(rise, Fraction(0)) / slack, up=True, digits=3))


def _optimal_vector(fm: _FloatModel, tail: PolicyLayer, w_pol: F, hint_values: F | None,
                    hint_policy: Policy | None, decided: Callable[[F, F], bool] = lambda w, best: False) -> F:
    """Float policy iteration: loose Krylov evaluations, then a tight one of the final policy.

    Starts from the hint policy, else from π₀'s own choices (its value ``w_pol`` is already
    known on the states π₀ reaches), completed greedily; a wrong start only costs iterations.
    Stops early once ``decided(w, max_a q_w)``: any vector gives a sound J* enclosure (its residuals, shifted
    by 1/(1 − γ), are checked by the kernel), so a vector that already settles the lemma with a
    narrow enough enclosure need not be the fixed point. (On a 1e6-state grid with γ = 0.95 the
    fixed point takes hundreds of policy-iteration rounds: the reward is 316+ steps away.)
    """
    w = np.asarray(hint_values, dtype=np.float64) if hint_values is not None else w_pol
    value, choice = fm.greedy(fm.q(w))
    if decided(w, value):
        return w
    first = hint_policy.at(0) if hint_policy is not None else tail
    defined = np.flatnonzero(np.diff(first.start) > 0)
    choice[defined] = first.choice[first.start[defined]]
    tol = LOOSE
    for _ in range(500):
        w = _solve(fm.chain(choice), fm.r[choice], fm.beta, w, tol)
        q = fm.q(w)
        value, best = fm.greedy(q)
        if decided(w, value):
            break
        better = value > q[choice] + 1e-12 * max(1.0, float(np.max(np.abs(w), initial=0.0)))
        if np.any(better):
            choice = np.where(better, best, choice)
        elif tol == TIGHT:
            break
        else:
            tol = TIGHT  # no improvement seen at loose accuracy: confirm at tight accuracy
    return w


# -- float search helpers (scipy) --------------------------------------------------------------
class _FloatModel:
    """The model in floats for search and diagnosis (credal: interval midpoints)."""

    def __init__(self, mdp: Mdp, objective: Objective) -> None:
        self.mdp, self.n, self.objective = mdp, mdp.n_states, objective
        self.beta = float(objective.discount)
        self.starts = mdp.choice_start[:-1]

    @cached_property
    def P(self) -> sparse.csr_matrix:
        mdp = self.mdp
        return sparse.csr_matrix((mdp.float_probability, mdp.target, mdp.row_start),
                                 shape=(mdp.n_choices, mdp.n_states))

    @cached_property
    def r(self) -> F:
        out: F = self.mdp.rewards[self.objective.reward].floats()
        return out

    def q(self, v: F) -> F:
        out: F = self.r + self.beta * (self.P @ v)
        return out

    def greedy(self, q: F) -> tuple[F, IntArray]:
        """Per state the best value and the first choice attaining it."""
        value = np.maximum.reduceat(q, self.starts)
        hit = q >= np.repeat(value, np.diff(self.mdp.choice_start))
        index = np.where(hit, np.arange(len(q)), len(q))
        return value, np.minimum.reduceat(index, self.starts).astype(np.int64)

    def selector(self, layer: PolicyLayer) -> sparse.csr_matrix:
        return sparse.csr_matrix((layer.probability.floats(), layer.choice, layer.start),
                                 shape=(self.n, self.mdp.n_choices))

    def chain(self, policy: PolicyLayer | IntArray) -> sparse.csr_matrix:
        """The transition matrix under a layer (zero rows where undefined) or one choice per state."""
        if isinstance(policy, PolicyLayer):
            return (self.selector(policy) @ self.P).tocsr()
        rows: sparse.csr_matrix = self.P[policy]
        return rows

    def reward(self, layer: PolicyLayer) -> F:
        out: F = self.selector(layer) @ self.r
        return out


LOOSE, TIGHT = 1e-7, 1e-13


def _dot(a: F, b: F) -> float:
    # einsum's own loop: BLAS dot products spin their threads badly on a busy machine
    return float(np.einsum("i,i->", a, b))


def _solve(chain: sparse.csr_matrix, reward: F, beta: float, x0: F, tol: float) -> F:
    """x = reward + β·chain·x (relative residual ≤ tol) by BiCGSTAB; value iteration if it breaks down."""
    def apply(v: F) -> F:
        out: F = v - beta * (chain @ v)
        return out

    x = np.array(x0, dtype=np.float64)
    r = reward - apply(x)
    # a dense shadow residual: r itself breaks down when it is local (a Dirac start)
    shadow = np.random.default_rng(0).uniform(0.5, 1.5, len(r)) * np.where(r == 0, 1.0, np.abs(r) + 1.0)
    p, v = np.zeros_like(r), np.zeros_like(r)
    rho = alpha = omega = 1.0
    ok = True
    for _ in range(300):
        if float(np.max(np.abs(r), initial=0.0)) <= tol * max(1.0, float(np.max(np.abs(x), initial=0.0))):
            break
        rho_new = _dot(shadow, r)
        if rho_new == 0 or omega == 0:
            ok = False
            break
        p = r + (rho_new / rho) * (alpha / omega) * (p - omega * v)
        v = apply(p)
        denominator = _dot(shadow, v)
        if denominator == 0:
            ok = False
            break
        alpha = rho_new / denominator
        s = r - alpha * v
        t = apply(s)
        tt = _dot(t, t)
        omega = _dot(t, s) / tt if tt else 0.0
        x += alpha * p + omega * s
        r = s - omega * t
        rho = rho_new
    if not ok or not np.all(np.isfinite(x)):
        x = np.zeros_like(reward)
    best, best_res = x, math.inf
    for _ in range(5 if ok else 100_000):
        nxt = reward + beta * (chain @ x)
        res = float(np.max(np.abs(nxt - x), initial=0.0))
        if res >= best_res:
            break
        best, best_res, x = nxt, res, nxt
        if res <= tol * max(1.0, float(np.max(np.abs(nxt), initial=0.0))):
            break
    return best


def _layer(mdp: Mdp, choice: IntArray) -> PolicyLayer:
    return PolicyLayer.deterministic(mdp, choice)


# -- diagnosis ---------------------------------------------------------------------------------
def _action_text(mdp: Mdp, layer: PolicyLayer, s: int) -> str:
    dist = layer.distribution(s)
    if len(dist) == 1:
        return mdp.action(dist[0][0])
    return ", ".join(f"{mdp.action(c)} {format_rational(p)}" for c, p in dist)


def _diagnose_finite(mdp: Mdp, fm: _FloatModel, table: Policy, steps: int) -> tuple[Diagnosis, ...]:
    """Top terms d^t·P(s_t = s)·(V*_t(s) − Σ π₀ Q*_t(s, ·)): occupancy forward, values backward."""
    occupancy: list[npt.NDArray[np.float32]] = []
    occ = _initial(mdp)
    chains: dict[int, sparse.csr_matrix] = {}
    selectors: dict[int, sparse.csr_matrix] = {}
    for t in range(steps):
        occupancy.append(occ.astype(np.float32))
        layer = table.at(t)
        if id(layer) not in chains:
            selectors[id(layer)] = fm.selector(layer)
            chains[id(layer)] = fm.chain(layer).T.tocsr()
        occ = chains[id(layer)] @ occ
    found: list[tuple[float, int, int, float, int]] = []
    v = np.zeros(fm.n)
    for t in reversed(range(steps)):
        q = fm.q(v)
        v = np.maximum.reduceat(q, fm.starts)
        layer = table.at(t)
        loss = fm.beta ** t * occupancy[t] * (v - selectors[id(layer)] @ q)
        loss[np.diff(layer.start) == 0] = 0.0
        for s in _top(loss):
            choices = mdp.choices(s)
            best = choices.start + int(np.argmax(q[choices.start:choices.stop]))
            found.append((float(loss[s]), t, s, float(occupancy[t][s]), best))
        found = sorted(found, reverse=True)[:TOP]
    return tuple(Diagnosis(mdp.states[s], t, visits, loss, _action_text(mdp, table.at(t), s), mdp.action(best))
                 for loss, t, s, visits, best in found)


def _initial(mdp: Mdp) -> F:
    out = np.zeros(mdp.n_states)
    for s, p in mdp.initial_distribution():
        out[s] += float(p)
    return out


def _top(loss: F) -> list[int]:
    """The (at most TOP) states of largest positive loss, largest first."""
    k = min(TOP, len(loss))
    candidates = np.argpartition(-loss, k - 1)[:k] if k < len(loss) else np.arange(len(loss))
    ordered = candidates[np.argsort(-loss[candidates], kind="stable")]
    return [int(s) for s in ordered if loss[s] > 0]


def _diagnose_geometric(mdp: Mdp, fm: _FloatModel, tail: PolicyLayer, w_star: F) -> tuple[Diagnosis, ...]:
    """Top terms d(s)·(V*(s) − Σ π₀ Q*(s, ·)), d the expected visits under π₀'s repeating layer."""
    visits = _solve(fm.chain(tail).T.tocsr(), _initial(mdp), fm.beta, np.zeros(fm.n), LOOSE)
    q = fm.q(w_star)
    value, best = fm.greedy(q)
    loss = visits * (value - fm.selector(tail) @ q)
    loss[np.diff(tail.start) == 0] = 0.0
    return tuple(Diagnosis(mdp.states[s], None, float(visits[s]), float(loss[s]), _action_text(mdp, tail, s),
                           mdp.action(int(best[s]))) for s in _top(loss))
