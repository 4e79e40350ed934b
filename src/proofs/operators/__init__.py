"""Fast Bellman passes shared by the engines: slot layouts over blocks of states, on two threads.

UNTRUSTED. Nothing here is part of the trusted kernel and nothing in the kernel imports it
(imports point one way: operators -> kernel -> core). The passes compute the very floats of the
kernel's plain operators (`proofs.kernel.bellman`) and take their error bounds from the kernel,
so an engine's claims are what the kernel re-derives; they exist for speed only.

* `proofs.operators.layout`: `SlotLayout`, the thread pool (`run_blocks`, `THREADS`) and the
  block kernel `expectation_into`, also used directly by the alignment search.
* `proofs.operators.bellman`: `FastBellman` (a `FloatBellman` over slot layouts) and
  `ChoiceLayout` (a model's layouts, shared by its fast operators).
"""

from proofs.operators.bellman import ChoiceLayout, FastBellman
from proofs.operators.layout import THREADS, SlotLayout, expectation_into, run_blocks

__all__ = ["THREADS", "ChoiceLayout", "FastBellman", "SlotLayout", "expectation_into", "run_blocks"]
