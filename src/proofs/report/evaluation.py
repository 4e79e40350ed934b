"""`proofs eval`: load a model, a policy and properties; evaluate; render. No proof is made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proofs.errors import InputErrors, Location
from proofs.kernel.rational import format_rational

__all__ = ["evaluate_model", "render_evaluation"]


def evaluate_model(model: Path, objective_text: str, policy_spec: str | None, properties: list[str], *,
                   allow_code: bool = False, format: str | None = None) -> dict[str, Any]:
    from proofs.cli import parse_objective
    from proofs.policy.load import load_policy
    from proofs.semantics.evaluate import evaluate_constraint, evaluate_objective, optimal
    from proofs.spec.parse import parse_constraint
    from proofs.spec.resolve import check_names, check_objective
    from proofs.worldmodel.load import load_mdp

    mdp = load_mdp(model, format)
    objective = parse_objective(objective_text, Location("--objective"))
    errors = check_objective(objective, mdp, Location("--objective"))
    constraints = []
    for i, text in enumerate(properties):
        where = Location("--property", key=str(i + 1))
        c = parse_constraint(text, where)
        errors.extend(check_names(c, mdp, where))
        constraints.append(c)
    InputErrors.raise_if_any(errors)
    best = optimal(mdp, objective)
    if policy_spec is None:
        policy, policy_name = best.policy, "an optimal policy"
    else:
        policy = load_policy(policy_spec, mdp, allow_code=allow_code, horizon=objective.horizon)
        policy_name = policy_spec
    j = evaluate_objective(mdp, objective, policy)
    rows = []
    for c in constraints:
        value = evaluate_constraint(mdp, objective, policy, c)
        rows.append({"constraint": str(c), "threshold": format_rational(c.threshold),
                     "value": value.to_json(), "holds": c.comparison.decide(value.lo, value.hi, c.threshold)})
    return {"model": str(model), "objective": str(objective), "policy": policy_name,
            "j_policy": j.to_json(), "j_star": best.value.to_json(), "gap": (best.value - j).to_json(),
            "constraints": rows}


def _num(enc: dict[str, str]) -> str:
    from proofs.kernel.enclosure import Enclosure

    return Enclosure.from_json(enc).decimal(8)


def render_evaluation(result: dict[str, Any]) -> str:
    lines = [f"model      {result['model']}", f"objective  {result['objective']}",
             f"policy     {result['policy']}",
             f"J(policy)  {_num(result['j_policy'])}", f"J*         {_num(result['j_star'])}",
             f"gap        {_num(result['gap'])}"]
    for row in result["constraints"]:
        verdict = {True: "holds", False: "VIOLATED", None: "undecided (enclosure straddles the threshold)"}[row["holds"]]
        lines.append(f"{row['constraint']:<40} value {_num(row['value'])}  {verdict}")
    return "\n".join(lines)
