"""Choices laid out in slots over blocks of states, and the two-thread pool that runs the blocks.

UNTRUSTED (speed only; nothing here is checked or needs to be). A `SlotLayout` puts, for every
state of a block of `BLOCK` states, one choice in each of a few slots (the state's j-th choice,
or the j-th entry of a policy layer) with its successors padded to one length, so that a pass
over a block is a handful of gathers and ufuncs on arrays that stay in cache: several times
faster than the same arithmetic over whole ``choices``-long arrays. Blocks are split between
`THREADS` threads (numpy's gathers and ufuncs release the GIL); a block's numbers do not depend
on the thread that computes them.

Padding adds exact zero terms (probability 0) at the end of a choice's successors, and a state
with fewer choices than slots repeats one of its own, whose value is then computed by the very
same operations; so the floats of a slot are those of the plain pass
(`proofs.kernel.bellman.FloatBellman`), which sums each choice's successors in order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from proofs.core.model import Mdp

__all__ = ["BLOCK", "PADDING", "THREADS", "SlotLayout", "expectation_into", "run_blocks", "slot_layout"]

F = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
PADDING = 1.5  # at most this many padded successor slots per transition, else no slot layout
BLOCK = 1 << 14  # states per block
THREADS = min(2, os.cpu_count() or 1)
_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(THREADS, thread_name_prefix="operators"))
    return _POOL[0]


def run_blocks(blocks: int, work: Callable[[int, int, int], float]) -> float:
    """``work(first, last, part)`` on consecutive ranges of ``range(blocks)``, one per thread
    (``part`` < `THREADS` names the thread's buffers); the max of the results. Each range's
    numbers must not depend on the others, so the threads cannot change them."""
    parts = max(min(THREADS, blocks), 1)
    if parts == 1:
        return work(0, blocks, 0)
    cuts = [blocks * k // parts for k in range(parts + 1)]
    done = [_pool().submit(work, cuts[k], cuts[k + 1], k) for k in range(parts)]
    return max(future.result() for future in done)


def expectation_into(w: F, target: npt.NDArray[np.intp], probability: F, out: F, term: F) -> None:
    """``out = Σ_i probability[i]·w[target[i]]``, summed in position order i = 0, 1, ... (``term``
    is scratch of out's shape); the successor sum of every slot of one block."""
    np.take(w, target[0], out=out, mode="clip")  # targets are the model's, range-checked by its operators
    np.multiply(out, probability[0], out=out)
    for i in range(1, len(target)):
        np.take(w, target[i], out=term, mode="clip")
        np.multiply(term, probability[i], out=term)
        np.add(out, term, out=out)


@dataclass(eq=False)
class SlotLayout:
    """Choices by slot and in blocks of states.

    ``target[b, i, j, s]`` and ``probability[b, i, j, s]`` are the i-th successor of the choice in
    slot j of state ``b·B + s`` (probability 0 where that choice has fewer successors);
    ``choice[b, j, s]`` is that choice. The last block is padded with copies of state 0
    (discarded). ``values`` and ``term`` are per-thread buffers (threads × slots × B).
    """

    target: npt.NDArray[np.intp]
    probability: F
    choice: IntArray
    values: F
    term: F

    @property
    def block(self) -> int:
        return int(self.values.shape[2])

    @property
    def blocks(self) -> int:
        return len(self.target)

    def by_slot(self, per_choice: F) -> F:
        """A per-choice vector by slot (blocks × slots × B)."""
        out: F = per_choice[self.choice]
        return out

    def buffers(self) -> tuple[F, F]:
        """Fresh per-thread buffers of this layout's shape."""
        return np.empty_like(self.values), np.empty_like(self.term)


def slot_layout(mdp: Mdp, choice: IntArray) -> SlotLayout | None:
    """The `SlotLayout` of ``choice[j, s]`` (a choice of state s for every slot j), or None when
    padding the distributions to one length would cost more than `PADDING` times their
    transitions (then the plain passes are cheaper)."""
    row_start = mdp.row_start
    n = choice.shape[1]
    size = min(BLOCK, max(n, 1))
    blocks = -(-n // size)
    choice = np.concatenate([choice, np.repeat(choice[:, :1], blocks * size - n, axis=1)], axis=1)
    first = row_start[choice]
    length = row_start[choice + 1] - first
    width = int(length.max(initial=1))
    if width * choice.size > PADDING * int(length.sum()):
        return None
    shape = (width, len(choice), blocks, size)
    target = np.empty(shape, dtype=np.intp)
    probability = np.empty(shape)
    p = mdp.float_probability
    for i in range(width):
        at = first + np.minimum(i, length - 1)
        target[i] = mdp.target[at].reshape(shape[1:])
        probability[i] = np.where(i < length, p[at], 0.0).reshape(shape[1:])
    buffers = (THREADS,) + shape[1::2]
    return SlotLayout(np.ascontiguousarray(target.transpose(2, 0, 1, 3)),
                      np.ascontiguousarray(probability.transpose(2, 0, 1, 3)),
                      np.ascontiguousarray(choice.reshape(shape[1:]).transpose(1, 0, 2)),
                      np.empty(buffers), np.empty(buffers))
