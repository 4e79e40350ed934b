"""Bridges to other tools. UNTRUSTED: cross-checks and baselines, never evidence for the kernel.

`proofs.interop.storm` talks to Storm through stormpy (the optional ``storm`` extra); it imports
stormpy only when a function needs it.
"""

__all__: list[str] = []
