"""Storm's *unbounded* reachability and reward-until, optimised over all policies.

UNTRUSTED search; every number it returns is exact (small models) or a sound enclosure.

* ``P^max/min(φ U ψ)``: the probability of reaching ψ through φ-states, maximised or
  minimised over all (history-dependent, randomized) policies. ``F ψ`` is ``true U ψ``; ``G φ``
  is handled by the caller as 1 − P^min/max(true U ¬φ).
* ``R^max/min(F target)`` (Storm's ``R{"r"}max=? [F "target"]``): the expected reward
  accumulated until the first visit of the target (rewards earned in a target state are not
  counted). A path that never reaches the target earns +infinity, whatever its rewards: the
  maximum is +inf at every state where some policy misses the target with positive probability,
  the minimum wherever every policy does — exactly Storm's convention.

Both are solved in two stages: graph precomputations (`unbounded_graph`: Prob0/Prob1, the
infinity sets), then a numerical stage on the remaining region, either exact strategy iteration
over `Fraction`s (`unbounded_exact`) or interval iteration in floats with outward rounding
(`unbounded_sound`). ``exact=None`` picks the exact stage for models with at most
`EXACT_TRANSITIONS` transitions, unless its linear algebra passes the work budget `EXACT_WORK`
(exact values of models with 6-digit decimals and little structure have thousands of digits):
then the sound stage. The choice depends on the model only, never on the machine's speed.

Choices where Storm is silent or ill-posed: minimising a reward until the target when a
negative reward lies inside an end component (circling it lowers the value without bound) is
refused with an `InputError`. Credal (interval) models: reachability probabilities with nature
against the policy, on graph-preserving intervals as in Storm (`unbounded_credal`, sound
enclosures); their reward-until queries are refused (not supported yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.enclosure import Enclosure
from proofs.core.errors import EngineError, InputError, Location, quote
from proofs.core.model import Mdp
from proofs.semantics.unbounded_exact import TooExpensive, solve_exact
from proofs.semantics.unbounded_graph import (
    Graph,
    Problem,
    negative_reward_in_end_component,
    probability_problem,
    reward_problem,
)
from proofs.semantics.unbounded_sound import solve_sound

__all__ = ["EXACT_TRANSITIONS", "StateValues", "UnboundedResult", "reach_probability", "reach_reward"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

EXACT_TRANSITIONS = 50_000
"""``exact=None`` solves exactly up to this many transitions, soundly in floats beyond."""

EXACT_WORK = 2.5e8
"""``exact=None`` abandons the exact path for the sound one once the exact eliminations' work
(bit lengths of the operands they multiply, summed) passes this: about ten seconds of CPython.
Models with 6-digit decimal probabilities and little structure reach it near 300 states."""

TOLERANCE = 1e-6
"""The sound path stops once the enclosure at μ₀ is this wide (absolute for probabilities,
relative for rewards, with a floor of 1e-12 absolute)."""

MAX_ITERATIONS = 200_000
"""The budget of each float iteration phase of the sound path."""


@dataclass(frozen=True, eq=False)
class StateValues:
    """The value at every state of the model.

    ``lo[s] <= v(s) <= hi[s]`` are sound float bounds (``+inf`` where the value is +infinity);
    on the exact path ``exact[s]`` is the exact value (None for +infinity) and ``lo``/``hi`` are
    its nearest enclosing floats. ``values[s]`` is an `Enclosure`, or None for +infinity.
    """

    lo: FloatArray
    hi: FloatArray
    exact: tuple[Fraction | None, ...] | None = None

    def __len__(self) -> int:
        return len(self.lo)

    def __getitem__(self, state: int) -> Enclosure | None:
        if self.exact is not None:
            v = self.exact[state]
            return None if v is None else Enclosure.exact(v)
        if np.isinf(self.hi[state]):
            return None
        return Enclosure(Fraction(float(self.lo[state])), Fraction(float(self.hi[state])))

    @property
    def infinite(self) -> BoolArray:
        """The states whose value is +infinity."""
        result: BoolArray = np.isposinf(self.hi) & np.isposinf(self.lo)
        return result


@dataclass(frozen=True, eq=False)
class UnboundedResult:
    """The optimum of an unbounded query.

    Attributes
    ----------
    value
        The value at μ₀, Σ μ₀(s)·v(s): exact (``lo == hi``) on the exact path, else a sound
        enclosure. ``Enclosure.exact(0)`` (meaningless) when `infinite`.
    values
        The value at every state (`StateValues`).
    policy
        An optimal memoryless deterministic policy: state -> global choice index, for every
        state where the choice matters (not on ψ / target states nor outside φ). Exact path:
        verified optimal (no choice improves any state). Sound path: greedy with respect to the
        float bounds (untrusted, optimal up to the enclosure width in practice); it follows
        the precomputations' witnesses where the value is decided by the graph (e.g. an
        almost-surely winning choice where P^max = 1, an avoiding one where R^max = +inf).
    infinite
        Reward queries: the value at μ₀ is +infinity (some state of μ₀'s support has it).
    exact
        Whether the exact path was used.
    converged
        Sound path: whether the enclosure reached the requested width within the budget.
    """

    value: Enclosure
    values: StateValues
    policy: dict[int, int]
    infinite: bool = False
    exact: bool = True
    converged: bool = True


def reach_probability(mdp: Mdp, continue_mask: BoolArray, stop_mask: BoolArray, *, maximise: bool,
                      exact: bool | None = None) -> UnboundedResult:
    """P^max/min(continue U stop), unbounded, over all policies.

    Parameters
    ----------
    mdp
        A point model, or a credal one with graph-preserving intervals (every listed successor's
        lower bound positive): then nature works against the policy, as Storm's ROBUST mode, and
        the value is a sound enclosure (`proofs.semantics.unbounded_credal`).
    continue_mask, stop_mask
        The states of φ and ψ in ``φ U ψ`` (ψ-states count as reached, states in neither fail).
    maximise
        Maximise (Storm's ``Pmax``) or minimise (``Pmin``) over policies.
    exact
        True: strategy iteration in exact rationals; False: sound float interval iteration;
        None: exact up to `EXACT_TRANSITIONS` transitions and `EXACT_WORK`.

    Returns
    -------
    UnboundedResult

    Raises
    ------
    InputError
        The model is credal and an interval has lower bound 0 (not graph-preserving).
    EngineError
        Sound path only: the float iteration overflowed.

    Examples
    --------
    >>> m = _example()   # s: "try" reaches t or x w.p. 1/3 each (else retries), or "wait" for ever
    >>> anywhere = np.ones(3, dtype=bool)
    >>> reach_probability(m, anywhere, m.labels["t"], maximise=True).value
    Enclosure(lo=Fraction(1, 2), hi=Fraction(1, 2))
    >>> reach_probability(m, anywhere, m.labels["t"], maximise=False).value.value
    Fraction(0, 1)
    >>> box = reach_probability(m, anywhere, m.labels["t"], maximise=True, exact=False).value
    >>> box.lo <= Fraction(1, 2) <= box.hi and box.width <= Fraction(1, 10**6)
    True
    """
    if mdp.is_credal:
        return _robust(mdp, _mask(mdp, continue_mask), _mask(mdp, stop_mask), maximise)
    _point_model(mdp)
    g = Graph(mdp)
    problem = probability_problem(g, _mask(mdp, continue_mask), _mask(mdp, stop_mask), maximise)
    return _solve(g, problem, exact)


def _robust(mdp: Mdp, keep: BoolArray, stop: BoolArray, maximise: bool) -> UnboundedResult:
    """A credal model's robust value, nature against the policy (`unbounded_credal`): a sound
    enclosure, whatever ``exact`` asks (there is no exact path on interval models yet)."""
    from proofs.semantics.unbounded_credal import robust_reach

    initial = mdp.initial_distribution()
    mu = np.zeros(mdp.n_states)
    for s, p in initial:
        mu[s] += float(p)
    _, bounds = robust_reach(mdp, keep, stop, maximise=maximise, mu=mu, tolerance=TOLERANCE,
                             max_iterations=MAX_ITERATIONS)
    lo = sum((p * Fraction(float(bounds.lo[s])) for s, p in initial), Fraction(0))
    hi = sum((p * Fraction(float(bounds.hi[s])) for s, p in initial), Fraction(0))
    return UnboundedResult(Enclosure(lo, hi), StateValues(bounds.lo, bounds.hi), bounds.policy, False, False,
                           bounds.converged)


def reach_reward(mdp: Mdp, reward: str, target_mask: BoolArray, *, maximise: bool,
                 exact: bool | None = None) -> UnboundedResult:
    """R^max/min(F target) for the reward structure ``reward``: Storm's ``R{"r"}max=? [F "t"]``.

    The expected reward accumulated until the first visit of a target state; +infinity where
    (max) some policy or (min) every policy reaches the target with probability < 1.

    Parameters
    ----------
    mdp
        A point (non-credal) model.
    reward
        The name of a reward structure of the model (r(s, a), any sign; see Raises).
    target_mask
        The target states.
    maximise, exact
        As for `reach_probability`.

    Returns
    -------
    UnboundedResult
        With ``infinite`` set when the value at μ₀ is +infinity.

    Raises
    ------
    InputError
        The model is credal; it has no reward structure ``reward``; or, minimising, a negative
        reward lies inside an end component of the states that can reach the target almost
        surely (the minimum is not finite).
    EngineError
        Sound path only: the float iteration overflowed or found no verified bound.

    Examples
    --------
    >>> m = _example()   # "try" costs 1 and ends in t or x w.p. 2/3; "wait" costs 0
    >>> ended = m.labels["t"] | m.labels["x"]
    >>> reach_reward(m, "r", ended, maximise=False).value.value   # 3/2 tries expected
    Fraction(3, 2)
    >>> reach_reward(m, "r", ended, maximise=True).infinite       # waiting for ever
    True
    """
    _point_model(mdp)
    if reward not in mdp.rewards:
        raise InputError(Location(mdp.source or "model"), f"the model has no reward structure {quote(reward)}",
                         f"Use one of: {', '.join(sorted(mdp.rewards)) or '(none defined)'}")
    g = Graph(mdp)
    problem = reward_problem(g, mdp.rewards[reward], _mask(mdp, target_mask), maximise)
    if not maximise and negative_reward_in_end_component(g, problem):
        raise InputError(
            Location(mdp.source or "model"),
            f"minimising reward structure {quote(reward)} until the target is unbounded below: a negative "
            "reward lies inside an end component", "Make the rewards in cycles non-negative, or maximise")
    return _solve(g, problem, exact)


def _mask(mdp: Mdp, mask: BoolArray) -> BoolArray:
    result = np.asarray(mask, dtype=bool)
    if result.shape != (mdp.n_states,):
        raise ValueError(f"a state mask needs shape ({mdp.n_states},), got {result.shape}")
    return result


def _point_model(mdp: Mdp) -> None:
    if mdp.is_credal or mdp.probability is None:
        raise InputError(Location(mdp.source or "model"),
                         "unbounded reward properties on interval models are not supported yet",
                         "Use a finite horizon (C<=k), or an unbounded reachability probability")


def _solve(g: Graph, problem: Problem, exact: bool | None) -> UnboundedResult:
    mdp = problem.mdp
    initial = mdp.initial_distribution()
    infinite = any(problem.infinite[s] for s, _ in initial)
    mu = np.zeros(mdp.n_states)
    for s, p in initial:
        mu[s] += float(p)
    if exact or (exact is None and mdp.n_transitions <= EXACT_TRANSITIONS):
        try:
            return _solve_exact(g, problem, initial, infinite, None if exact else EXACT_WORK)
        except TooExpensive:
            pass  # exact=None: too costly in exact arithmetic, enclose it soundly instead
    try:
        bounds = solve_sound(g, problem, mu, tolerance=TOLERANCE, max_iterations=MAX_ITERATIONS)
    except ArithmeticError as exc:
        raise EngineError(f"the sound float iteration failed: {exc}") from exc
    value = Enclosure.exact(0)
    if not infinite:
        lo = sum((p * Fraction(float(bounds.lo[s])) for s, p in initial), Fraction(0))
        hi = sum((p * Fraction(float(bounds.hi[s])) for s, p in initial), Fraction(0))
        value = Enclosure(lo, hi)
    return UnboundedResult(value, StateValues(bounds.lo, bounds.hi), bounds.policy, infinite, False,
                           bounds.converged)


def _solve_exact(g: Graph, problem: Problem, initial: list[tuple[int, Fraction]], infinite: bool,
                 budget: float | None) -> UnboundedResult:
    hint = None
    try:  # the float solver's greedy policy saves exact strategy-iteration rounds
        uniform = np.full(problem.mdp.n_states, 1.0 / problem.mdp.n_states)
        hint = solve_sound(g, problem, uniform, tolerance=1e-9, max_iterations=20_000).policy
    except ArithmeticError:
        pass
    values, policy = solve_exact(g, problem, hint, budget)
    total = Fraction(0) if infinite else sum((p * _finite(values[s]) for s, p in initial), Fraction(0))
    box = _float_box(values)
    return UnboundedResult(Enclosure.exact(total), StateValues(box[0], box[1], tuple(values)), policy,
                           infinite, True, True)


def _example() -> Mdp:
    """For the doctests: s --try--> {t, x, s} w.p. 1/3 each (reward 1), s --wait--> s; t, x absorbing."""
    from proofs.core.numbers import Rationals

    third = Fraction(1, 3)
    return Mdp(
        states=("s", "t", "x"), choice_start=np.array([0, 2, 3, 4]), action_names=("try", "wait", "stop"),
        choice_action=np.array([0, 1, 2, 2], dtype=np.int32), row_start=np.array([0, 3, 4, 5, 6]),
        target=np.array([0, 1, 2, 0, 1, 2]), probability=Rationals.from_fractions([third] * 3 + [1] * 3),
        rewards={"r": Rationals.from_fractions([1, 0, 0, 0])},
        labels={"t": np.array([False, True, False]), "x": np.array([False, False, True])},
        initial_states=np.array([0]), initial_probability=Rationals.from_fractions([1]),
    )


def _finite(v: Fraction | None) -> Fraction:
    assert v is not None
    return v


def _float_box(values: list[Fraction | None]) -> tuple[FloatArray, FloatArray]:
    """The nearest floats enclosing each exact value (+inf for None)."""
    lo = np.empty(len(values))
    hi = np.empty(len(values))
    for s, v in enumerate(values):
        if v is None:
            lo[s] = hi[s] = np.inf
            continue
        f = float(v)
        exact = Fraction(f) == v
        lo[s] = f if exact or Fraction(f) < v else np.nextafter(f, -np.inf)
        hi[s] = f if exact or Fraction(f) > v else np.nextafter(f, np.inf)
    return lo, hi
