"""Policies, known only by their behaviour: a table from (step,) state to an action distribution.

TRUSTED (reading base): the kernel re-reads policy files and re-derives their canonical table.
"""

from proofs.core.policy import Policy, PolicyLayer

__all__ = ["Policy", "PolicyLayer"]
