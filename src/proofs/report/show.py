"""`proofs show`: a model's size, labels, rewards, reachability and validation report."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals

__all__ = ["model_summary", "render_summary"]


def _reachable(mdp: Mdp) -> np.ndarray:
    """States reachable from μ₀ under some policy: a breadth-first search over every choice that
    touches each transition once (a state's transitions are one contiguous range)."""
    seen = np.zeros(mdp.n_states, dtype=bool)
    frontier = np.unique(mdp.initial_states)
    seen[frontier] = True
    first = mdp.row_start[mdp.choice_start]   # state s's transitions: first[s] .. first[s+1]
    while len(frontier):
        starts, lengths = first[frontier], first[frontier + 1] - first[frontier]
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        reached = mdp.target[np.arange(int(lengths.sum())) + offsets]
        reached = reached[~seen[reached]]
        seen[reached] = True
        frontier = np.unique(reached)
    return seen


def model_summary(mdp: Mdp) -> dict[str, Any]:
    reach = _reachable(mdp)
    absorbing = np.zeros(mdp.n_states, dtype=bool)
    self_loop = mdp.target == mdp.choice_state[mdp.transition_choice]
    per_choice_loop = np.add.reduceat(self_loop.astype(np.int64), mdp.row_start[:-1]) == np.diff(mdp.row_start)
    all_loop = np.logical_and.reduceat(per_choice_loop, mdp.choice_start[:-1])
    absorbing[:] = all_loop
    return {
        "model": mdp.source,
        "kind": "credal MDP (interval probabilities)" if mdp.is_credal else "MDP",
        "states": mdp.n_states,
        "choices": mdp.n_choices,
        "transitions": mdp.n_transitions,
        "actions": len(mdp.action_names),
        "initial": [{"state": mdp.states[s], "probability": str(p)} for s, p in mdp.initial_distribution()[:20]],
        "labels": {name: int(mask.sum()) for name, mask in sorted(mdp.labels.items())},
        "rewards": {name: _range(r) for name, r in sorted(mdp.rewards.items())},
        "reachable": int(reach.sum()),
        "absorbing": int(absorbing.sum()),
        "validation": "ok: every distribution sums to exactly 1, every successor exists",
    }


def _range(values: Rationals) -> dict[str, float | str]:
    """The smallest and largest value, as floats; beyond the float range as text such as ``"1e+400"``."""
    if len(values) == 0:
        return {"min": 0.0, "max": 0.0}
    if values.is_compact:  # int64 numerators and denominators: float division cannot overflow
        floats = values.floats()
        return {"min": float(floats.min()), "max": float(floats.max())}
    exact = values.fractions()
    return {"min": _float_or_text(min(exact)), "max": _float_or_text(max(exact))}


def _float_or_text(value: Fraction) -> float | str:
    try:
        return float(value)
    except OverflowError:  # |value| > 1.8e308: its order of magnitude, from the exact integers
        digits = len(str(abs(value.numerator) // value.denominator))  # at most a few thousand digits
        return f"{'-' if value < 0 else ''}1e+{digits - 1}" if digits > 1 else str(value)


def render_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"model       {summary['model']}",
        f"kind        {summary['kind']}",
        f"size        {summary['states']:,} states, {summary['choices']:,} choices, "
        f"{summary['transitions']:,} transitions, {summary['actions']} action names",
        f"reachable   {summary['reachable']:,} states from the initial distribution; "
        f"{summary['absorbing']:,} absorbing",
        "initial     " + ", ".join(f"{e['state']} ({e['probability']})" for e in summary["initial"]),
        "labels      " + (", ".join(f"{k} ({v} states)" for k, v in summary["labels"].items()) or "none"),
        "rewards     " + (", ".join(f"{k} in [{_g(v['min'])}, {_g(v['max'])}]" for k, v in summary["rewards"].items())
                          or "none"),
        f"validation  {summary['validation']}",
    ]
    return "\n".join(lines)


def _g(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:g}"
