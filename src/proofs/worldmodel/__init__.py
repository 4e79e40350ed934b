"""World models: finite MDPs (and credal/interval MDPs), their readers and validation.

TRUSTED (reading base): the kernel re-reads models through these same readers.
"""

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals

__all__ = ["Mdp", "Rationals"]
