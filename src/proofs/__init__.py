"""proofs: machine-checked safety arguments for learned policies over finite MDPs.

Kept light on purpose: importing ``proofs`` (or ``proofs.kernel``) loads no solver.
"""

__version__ = "0.1.0"
