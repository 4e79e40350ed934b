"""`proofs eval`: load a model, a policy and properties; evaluate; render. No proof is made.

Properties are constraints of Φ (``P<=0.01 [ F "fatal" ]``, judged under the policy) or the
numerical queries a PRISM or Storm user types (``Pmax=? [ F<=10 "goal" ]``, ``Pmin=?``, ``P=?``,
``R{"c"}max=? [ C<=k ]``, ``R{"c"}min=? [ F "goal" ]``): over all policies, or the given policy's
value when ``--policy`` is given.

Which episode a property is judged on:
- ``--horizon H`` (or the objective's finite horizon): the episode of SPEC §2, s₀ … s_H, and the
  output says so, since Storm reads an unbounded ``F`` as "eventually";
- ``--horizon unbounded``: Storm's reading of ``F``, ``U``, ``G`` and ``R[F φ]``, over all
  policies (exact on small models, sound interval iteration on large ones);
- neither: a bounded formula (``F<=k``, ``C<=k``) is judged on its own k steps; an unbounded one
  asks for a horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from proofs.core.enclosure import Enclosure
from proofs.core.errors import InputError, InputErrors, Location
from proofs.core.formula import (
    Comparison,
    Constraint,
    Eventually,
    Globally,
    PathFormula,
    ProbabilityConstraint,
    Query,
    RewardConstraint,
    Truth,
    Until,
)
from proofs.core.rational import format_rational

__all__ = ["UNBOUNDED", "evaluate_model", "render_evaluation"]

UNBOUNDED = "unbounded"
GEOMETRIC = "geometric"  # the objective's geometric horizon: SPEC §2's episode with P(T > t) = γ^t


@dataclass(frozen=True)
class _Property:
    text: str
    where: Location
    parsed: Constraint | Query


def evaluate_model(model: Path, objective_text: str | None, policy_spec: str | None, properties: list[str], *,
                   allow_code: bool = False, format: str | None = None, horizon: str | None = None,
                   constants: dict[str, str] | None = None, save_policy: Path | None = None) -> dict[str, Any]:
    """Evaluate J and properties on a model; the JSON document `proofs eval --json` prints."""
    from proofs.policy.load import load_policy
    from proofs.spec.parse import parse_objective
    from proofs.worldmodel.load import load_mdp

    mdp = load_mdp(model, format, constants)
    objective = None if objective_text is None else parse_objective(objective_text, Location("--objective"))
    policy_of = None if policy_spec is None else (
        lambda mdp, plan_horizon: load_policy(policy_spec, mdp, allow_code=allow_code, horizon=plan_horizon))
    result = evaluate_mdp(mdp, objective, policy_of, properties, horizon=horizon, save_policy=save_policy,
                          policy_name=policy_spec)
    return {"model": str(model), **result}


def evaluate_mdp(mdp: Any, objective: Any, policy_of: Any, properties: list[str], *, horizon: str | None = None,
                 save_policy: Path | None = None, policy_name: str | None = None) -> dict[str, Any]:
    """`evaluate_model` on a model already read; ``policy_of(mdp, horizon)`` gives the policy's
    table over the model with the atoms of ``properties`` as labels (None: an optimal policy)."""
    from proofs.semantics.evaluate import evaluate_objective, optimal
    from proofs.spec.parse import parse_property
    from proofs.spec.resolve import check_objective

    policy_spec = policy_name if policy_of is not None else None
    steps = _horizon(horizon, objective)
    errors = [] if objective is None else check_objective(objective, mdp, Location("--objective"))
    props = []
    for i, text in enumerate(properties):
        where = Location("--property", key=str(i + 1))
        p = _Property(text, where, parse_property(text, where))
        errors.extend(_check(p, mdp, steps, policy_of is not None))
        props.append(p)
    if objective is None and not props:
        errors.append(InputError(Location("command line"), "nothing to evaluate",
                                 "Give --objective REWARD,horizon=H, or --property 'Pmax=? [ F<=10 \"goal\" ]'"))
    InputErrors.raise_if_any(errors)
    from proofs.core.formula import atoms_of
    from proofs.worldmodel.cache import with_atom_labels

    mdp = with_atom_labels(mdp, set().union(*(atoms_of(p.parsed) for p in props)))   # atoms evaluate as labels
    result: dict[str, Any] = {}
    policy = None
    if policy_of is not None:
        plan_horizon = objective.horizon if objective is not None else (steps if isinstance(steps, int) else None)
        policy = policy_of(mdp, plan_horizon)
    if objective is not None:
        best = optimal(mdp, objective)
        chosen = best.policy if policy is None else policy
        j = evaluate_objective(mdp, objective, chosen)
        result.update({"objective": str(objective), "policy": policy_spec or "an optimal policy",
                       "j_policy": j.to_json(), "j_star": best.value.to_json(), "gap": (best.value - j).to_json()})
        if policy is None:
            policy = best.policy
    elif policy_of is not None:
        result["policy"] = policy_spec
    rows = [_evaluate(mdp, p.parsed, policy, steps, objective) for p in props]
    optimal_policies = [r.pop("_policy") for r in rows if "_policy" in r]
    if save_policy is not None:
        from proofs.policy.canonical import write_policy_json

        if len(optimal_policies) != 1 or policy_of is not None:
            raise InputError(Location("command line", key="--save-policy"),
                             f"--save-policy needs exactly one optimised property (found {len(optimal_policies)})"
                             + (" and no --policy" if policy_of is not None else ""),
                             "Ask one query such as Pmax=? [ F<=10 \"goal\" ] without --policy")
        write_policy_json(save_policy, mdp, optimal_policies[0])
        result["saved_policy"] = str(save_policy)
    result["constraints"] = [r for r in rows if "threshold" in r]
    result["queries"] = [r for r in rows if "threshold" not in r]
    return result


def _horizon(text: str | None, objective: Any) -> int | str | None:
    """``--horizon``: an integer ≥ 1, ``unbounded``, or (absent) the objective's finite horizon."""
    if text is None:
        if objective is not None and objective.horizon is None:
            return GEOMETRIC
        return objective.horizon if objective is not None else None
    if text == UNBOUNDED:
        return UNBOUNDED
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(Location("command line", key="--horizon"), f"bad horizon {text[:40]!r}",
                         "Give an integer H >= 1 (the episode s0 ... s_H) or 'unbounded' (Storm's reading)")
    return value


def _path_bound(path: PathFormula) -> int | None:
    return path.bound


def _check(p: _Property, mdp: Any, steps: int | str | None, has_policy: bool) -> list[InputError]:
    from proofs.spec.resolve import check_names

    f = p.parsed
    if isinstance(f, Query):
        carrier = _carrier(f)
        errors = check_names(carrier, mdp, p.where) if carrier is not None else []
        if f.reward is None and f.path is None and len(mdp.rewards) != 1:
            errors.append(InputError(p.where, f"R without a name needs a model with one reward structure "
                                     f"(this one has {len(mdp.rewards)})", 'Name it: R{"cost"}max=? [ ... ]'))
        if f.target is not None:
            errors.extend(check_names(ProbabilityConstraint(Comparison.LE, Fraction(0), Eventually(f.target)),
                                      mdp, p.where))
        if f.direction is None and not has_policy and not _one_policy(mdp):
            errors.append(InputError(p.where, f"{p.text[:80]!r} asks for a policy's value, but no --policy is given",
                                     "Give --policy FILE, or ask Pmax=? / Pmin=? (over all policies)"))
    else:
        errors = check_names(f, mdp, p.where)
    if steps is None and _own_bound(f) is None:  # (the geometric horizon of an objective judges everything)
        errors.append(InputError(p.where, f"{p.text[:80]!r} is unbounded and no horizon is given",
                                 "Give --horizon H (the episode s0 ... s_H of SPEC §2) or --horizon unbounded "
                                 "(Storm's 'eventually'), or a bound such as F<=10"))
    if steps == UNBOUNDED and _own_bound(f) is None and not _unbounded_supported(f):
        errors.append(InputError(p.where, f"{p.text[:80]!r} has no unbounded reading here",
                                 "Unbounded: P[F φ], P[φ U ψ], P[G φ] and R[F φ]; use C<=k or --horizon H for C"))
    return errors


def _one_policy(mdp: Any) -> bool:
    """Whether `mdp` has exactly one policy and no nature (a DTMC), so that ``P=?`` asks for its
    value without --policy, as Storm answers it (and ``Pmin=?`` equals ``Pmax=?``)."""
    return mdp.n_choices == mdp.n_states and not mdp.is_credal


def _carrier(q: Query) -> Constraint | None:
    """The query as a constraint (threshold 0), to reuse name checks and episode quantities."""
    if q.path is not None:
        return ProbabilityConstraint(Comparison.LE, Fraction(0), q.path)
    if q.reward is not None:
        return RewardConstraint(q.reward, Comparison.LE, Fraction(0), q.bound)
    return None


def _own_bound(f: Constraint | Query) -> int | None:
    if isinstance(f, Query):
        return _path_bound(f.path) if f.path is not None else (f.bound if f.target is None else None)
    if isinstance(f, RewardConstraint):
        return f.bound
    return _path_bound(f.path)


def _unbounded_supported(f: Constraint | Query) -> bool:
    if isinstance(f, Query):
        return f.path is not None or f.target is not None
    return isinstance(f, ProbabilityConstraint)


def _evaluate(mdp: Any, f: Constraint | Query, policy: Any, steps: int | str | None,
              objective: Any = None) -> dict[str, Any]:
    own = _own_bound(f)
    if steps == GEOMETRIC:
        (value, best), infinite = _episode(mdp, f, policy, own, objective), False
        judged = f"on the episode of the objective's geometric horizon (continue with probability " \
                 f"{format_rational(objective.discount)})"
    elif steps == UNBOUNDED and own is None:
        value, infinite, best = _unbounded(mdp if policy is None else _induced(mdp, policy), f)
        best = best if policy is None else None
        judged = "unbounded (Storm's reading: eventually; " + (
            "over all policies)" if policy is None else "under the policy, used at every step)")
    else:
        horizon = own if steps in (None, UNBOUNDED) else min(own, int(steps)) if own is not None else int(steps)
        assert horizon is not None
        (value, best), infinite = _episode(mdp, f, policy, horizon), False
        judged = f"on the episode s0 ... s_{horizon} (SPEC §2)"
        if own is None:
            judged += "; Storm reads an unbounded operator as 'eventually' (--horizon unbounded)"
    row: dict[str, Any] = {"property": str(f), "value": "inf" if infinite else value.to_json(), "judged": judged}
    if not isinstance(f, Query):
        row = {"constraint": str(f), "threshold": format_rational(f.threshold), **row}
        row["holds"] = True if infinite and not f.comparison.is_upper else False if infinite else \
            f.comparison.decide(value.lo, value.hi, f.threshold)
    if best is not None:
        row["_policy"] = best  # an optimal policy, for --save-policy (not printed)
    return row


def _episode(mdp: Any, f: Constraint | Query, policy: Any, horizon: int | None,
             geometric: Any = None) -> tuple[Enclosure, Any]:
    """The value on the episode of `horizon` steps: under `policy` (and None), or optimised over all
    policies (and an optimal time-dependent policy)."""
    import numpy as np

    from proofs.core.objective import Objective
    from proofs.kernel.episode import Quantity, constraint_quantity
    from proofs.semantics.evaluate import is_probability, optimal_quantity, quantity_value
    from proofs.spec.resolve import state_mask

    episode = geometric if geometric is not None else Objective(next(iter(mdp.rewards), ""), horizon)
    if isinstance(f, Query) and f.target is not None:
        target = state_mask(mdp, f.target)
        beta, eta = (episode.discount, 1 - episode.discount) if episode.horizon is None else (Fraction(1), Fraction(0))
        q = Quantity(mdp.rewards[_reward_name(mdp, f)], beta, eta, target,
                     np.zeros(mdp.n_states, dtype=bool), horizon, description=str(f))
    else:
        carrier = _carrier(f) if isinstance(f, Query) else f
        if carrier is None:  # an unnamed R: the model's only reward structure
            assert isinstance(f, Query)
            carrier = RewardConstraint(_reward_name(mdp, f), Comparison.LE, Fraction(0), f.bound)
        q = constraint_quantity(mdp, episode, carrier)
    if policy is not None:  # the policy's value (a constraint's: its worst case over nature)
        high = f.comparison.is_upper != q.complement if not isinstance(f, Query) else False
        return quantity_value(mdp, q, policy, worst_high=high), None
    # over all policies. A query (Pmax=?) has nature against the optimiser, as Storm's robust mode;
    # a constraint is judged in its worst case over policies and nature alike (SPEC §2)
    wanted_max = f.direction == "max" if isinstance(f, Query) else f.comparison.is_upper
    maximise = wanted_max != q.complement
    best = optimal_quantity(mdp, q, maximise=maximise, nature_helps=not isinstance(f, Query))
    result = best.value.complement() if q.complement else best.value
    return (result.within(0, 1) if is_probability(q) else result), best.policy


def _reward_name(mdp: Any, q: Query) -> str:
    return q.reward if q.reward is not None else next(iter(mdp.rewards))


def _unbounded(mdp: Any, f: Constraint | Query) -> tuple[Enclosure, bool, Any]:
    """Storm's unbounded reading, optimised over all policies (a constraint: its worst case), and
    an optimal stationary policy."""
    from proofs.semantics.unbounded import reach_probability, reach_reward
    from proofs.spec.resolve import state_mask

    if isinstance(f, Query) and f.target is not None:
        r = reach_reward(mdp, _reward_name(mdp, f), state_mask(mdp, f.target), maximise=f.direction == "max")
        return r.value, r.infinite, _stationary(mdp, r.policy)
    if isinstance(f, Query):
        assert f.path is not None
        path, maximise = f.path, f.direction == "max"
    else:
        assert isinstance(f, ProbabilityConstraint)
        path, maximise = f.path, f.comparison.is_upper
    if isinstance(path, Globally):  # P(G φ) = 1 - P(true U !φ): its max is 1 - the min of the other
        from proofs.core.formula import Not

        r = reach_probability(mdp, state_mask(mdp, Truth(True)), state_mask(mdp, Not(path.body)),
                              maximise=not maximise)
        return r.value.complement().within(0, 1), False, _stationary(mdp, r.policy)
    left = Truth(True) if isinstance(path, Eventually) else path.left
    right = path.body if isinstance(path, Eventually) else path.right
    assert isinstance(path, (Eventually, Until))
    r = reach_probability(mdp, state_mask(mdp, left), state_mask(mdp, right), maximise=maximise)
    return r.value.within(0, 1), False, _stationary(mdp, r.policy)


def _induced(mdp: Any, policy: Any) -> Any:
    """The Markov chain a stationary policy induces, as an MDP with one action per state (its
    randomized choices mixed exactly), on which max and min are the policy's value."""
    from proofs.worldmodel.build import ChoiceData, ModelData, StateData, build_mdp

    if not policy.is_stationary:
        raise InputError(Location("command line", key="--policy"),
                         "--horizon unbounded uses the policy at every step, but it changes from step to step",
                         "Give a stationary policy (one table), or a finite --horizon H")
    layer = policy.at(0)
    where = Location(mdp.source or "model")
    states = []
    for s in range(mdp.n_states):
        lo, hi = int(layer.start[s]), int(layer.start[s + 1])
        mix = [(int(layer.choice[i]), layer.probability[i]) for i in range(lo, hi)] or \
            [(int(mdp.choice_start[s]), Fraction(1))]  # a state the policy never reaches: any choice
        successors: dict[int, Fraction] = {}
        rewards = dict.fromkeys(mdp.rewards, Fraction(0))
        for c, weight in mix:
            for t, prob in mdp.successors(c):
                successors[t] = successors.get(t, Fraction(0)) + weight * prob
            for name, values in mdp.rewards.items():
                rewards[name] += weight * values[c]
        choice = ChoiceData("policy", tuple(sorted(successors.items())), where, rewards)
        states.append(StateData(mdp.states[s], (choice,), where, {}, tuple(mdp.labels_of(s))))
    return build_mdp(ModelData(mdp.source or "model", tuple(states), tuple(mdp.initial_distribution()), where,
                               tuple(mdp.rewards), tuple(mdp.labels), constants=mdp.constants))


def _stationary(mdp: Any, choices: dict[int, int]) -> Any:
    """A state -> choice table as a stationary policy (the first action where the choice is free)."""
    import numpy as np

    from proofs.core.policy import Policy, PolicyLayer

    table = np.asarray(mdp.choice_start[:-1], dtype=np.int64).copy()
    for s, c in choices.items():
        table[s] = c
    return Policy.stationary(PolicyLayer.deterministic(mdp, table))


def _num(enc: dict[str, str] | str) -> str:
    if isinstance(enc, str):
        return enc
    return Enclosure.from_json(enc).decimal(8)


def render_evaluation(result: dict[str, Any]) -> str:
    lines = [f"model      {result['model']}"]
    if "objective" in result:
        lines += [f"objective  {result['objective']}", f"policy     {result['policy']}",
                  f"J(policy)  {_num(result['j_policy'])}", f"J*         {_num(result['j_star'])}",
                  f"gap        {_num(result['gap'])}"]
    elif "policy" in result:
        lines.append(f"policy     {result['policy']}")
    for row in result["constraints"]:
        verdict = {True: "holds", False: "VIOLATED", None: "undecided (enclosure straddles the threshold)"}[row["holds"]]
        lines.append(f"{row['constraint']:<40} value {_num(row['value'])}  {verdict}")
        lines.append(f"    judged {row['judged']}")
    for row in result.get("queries", []):
        lines.append(f"{row['property']:<40} = {_num(row['value'])}")
        lines.append(f"    judged {row['judged']}")
    return "\n".join(lines)
