"""proofs: machine-checked safety arguments for learned policies over finite MDPs.

The Python API, in the order of an argument (each name is documented with an example)::

    import proofs
    model = proofs.load_model("worldmodels/cliff.toml")          # or proofs.from_gym("FrozenLake-v1")
    J = proofs.Objective("careful", horizon=6)
    a = proofs.prove_alignment(model, J, epsilon="1/100", desirable=['P<=0.01 [ F "fatal" ]'])
    p = proofs.prove_policy(model, J, epsilon="1/100", policy="policies/cliff-walk.json")
    proofs.compose(a, p).save("certificates/cliff.safe.json")

Kept light on purpose: importing ``proofs`` (or ``proofs.kernel``) loads no solver; the API's
names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from proofs.api import (
        AlignmentResult,
        CertificateRejected,
        Episode,
        Evaluation,
        Model,
        Objective,
        Policy,
        PolicyResult,
        Result,
        SafetyResult,
        Status,
        Verdict,
        check,
        compose,
        evaluate,
        from_gym,
        load_model,
        load_policy,
        prove_alignment,
        prove_policy,
    )

__all__ = ["AlignmentResult", "CertificateRejected", "Episode", "Evaluation", "Model", "Objective", "Policy",
           "PolicyResult", "Result", "SafetyResult", "Status", "Verdict", "__version__", "check", "compose",
           "evaluate", "from_gym", "load_model", "load_policy", "prove_alignment", "prove_policy"]


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "__version__":
        import proofs.api

        return getattr(proofs.api, name)
    raise AttributeError(f"module 'proofs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
