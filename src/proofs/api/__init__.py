"""The Python API (`proofs.load_model`, `proofs.prove_alignment`, ...): see `proofs`."""

from proofs.api.model import Model, from_gym, load_model
from proofs.api.policy import Episode, Policy, load_policy
from proofs.api.prove import (
    AlignmentResult,
    CertificateRejected,
    Evaluation,
    PolicyResult,
    Result,
    SafetyResult,
    Status,
    Verdict,
    check,
    compose,
    evaluate,
    prove_alignment,
    prove_policy,
)
from proofs.core.objective import Objective

__all__ = ["AlignmentResult", "CertificateRejected", "Episode", "Evaluation", "Model", "Objective", "Policy",
           "PolicyResult", "Result", "SafetyResult", "Status", "Verdict", "check", "compose", "evaluate", "from_gym",
           "load_model", "load_policy", "prove_alignment", "prove_policy"]
