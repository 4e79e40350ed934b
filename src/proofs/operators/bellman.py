"""Fast float Bellman passes: the kernel's `FloatBellman`, computed over slot layouts on two threads.

UNTRUSTED (speed only). `FastBellman` is a `proofs.kernel.bellman.FloatBellman` whose passes run
over a model's `SlotLayout`s (`proofs.operators.layout`) instead of whole CSR arrays. It performs
the same float operations in the same order as the kernel's plain passes (ŷ = fl(β̂·W), each
choice's products summed in successor order, then + r̂; a policy's weighted values summed in
entry order), so its floats are the kernel's, bit for bit (tested); its error bounds are the
kernel's own methods, inherited. Where a layout would need too much padding, the kernel's plain
pass is used.

The layouts of one model are built once, on first use, and shared by every operator made from
the same `ChoiceLayout` (the J operator and the constraint operators of an alignment search).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.errors import CheckFailure
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.policy import PolicyLayer
from proofs.kernel.bellman import FloatBellman, Positions, Selection, Vector, magnitude, policy_weights
from proofs.operators.layout import BLOCK, THREADS, SlotLayout, expectation_into, run_blocks, slot_layout

__all__ = ["ChoiceLayout", "FastBellman"]

F = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ChoiceLayout:
    """The slot layouts of one model: all choices (`star`) and policy layers (`layer`), built on
    first use; `bellman` makes fast operators that share them."""

    def __init__(self, mdp: Mdp) -> None:
        self.mdp = mdp
        self._star: SlotLayout | None | bool = False
        self._layers: dict[int, tuple[PolicyLayer, tuple[SlotLayout, F, npt.NDArray[np.bool_]] | None]] = {}

    @property
    def star(self) -> SlotLayout | None:
        """Slot j of state s holds its j-th choice (or its last one); None when padding costs too much,
        or on a credal model (nature's distributions change with every pass: the kernel's passes)."""
        if self._star is False and self.mdp.is_credal:
            self._star = None
        if self._star is False:
            counts = np.diff(self.mdp.choice_start)
            first = self.mdp.choice_start[:-1]
            choice = np.stack([first + np.minimum(j, counts - 1) for j in range(int(counts.max(initial=1)))])
            self._star = slot_layout(self.mdp, choice.astype(np.int64))
        assert self._star is not True
        return self._star

    def layer(self, layer: PolicyLayer) -> tuple[SlotLayout, F, npt.NDArray[np.bool_]] | None:
        """A layer's entries by slot (entry j of state s in slot j; a state with fewer entries, or
        none, repeats its first choice at weight 0), with the weights and the used slots by slot;
        None when padding costs too much, or on a credal model."""
        if self.mdp.is_credal:
            return None
        cached = self._layers.get(id(layer))
        if cached is not None and cached[0] is layer:
            return cached[1]
        weights = policy_weights(layer)
        counts = np.diff(layer.start)
        m = int(counts.max(initial=1))
        laid = None
        if len(layer.choice):
            slot = np.arange(m)[:, None]
            entry = np.minimum(layer.start[:-1] + np.minimum(slot, np.maximum(counts - 1, 0)), len(layer.choice) - 1)
            used = slot < counts
            choice = np.where(used, layer.choice[entry], self.mdp.choice_start[:-1]).astype(np.int64)
            slots = slot_layout(self.mdp, choice)
            if slots is not None:
                size, n = slots.block, self.mdp.n_states
                by_slot = np.zeros((m, slots.blocks * size))
                by_slot[:, :n] = np.where(used, weights[entry], 0.0)
                in_use = np.zeros((m, slots.blocks * size), dtype=np.bool_)
                in_use[:, :n] = used
                laid = (slots, np.ascontiguousarray(by_slot.reshape(m, slots.blocks, size).transpose(1, 0, 2)),
                        np.ascontiguousarray(in_use.reshape(m, slots.blocks, size).transpose(1, 0, 2)))
        self._layers[id(layer)] = (layer, laid)
        return laid

    def bellman(self, reward: Rationals, beta: Fraction) -> FastBellman:
        """A fast operator on this model (the signature `proofs.kernel.check_alignment_float.OptimalJ`
        takes as its ``bellman``)."""
        return FastBellman(self.mdp, reward, beta, self)


def _finite(top: float) -> Fraction:
    if not math.isfinite(top):
        raise CheckFailure("a value vector holds a NaN or infinite entry")
    return Fraction(top)


class FastBellman(FloatBellman):
    """`FloatBellman` over slot layouts (module docstring): the same floats, faster."""

    def __init__(self, mdp: Mdp, reward: Rationals, beta: Fraction, layout: ChoiceLayout | None = None) -> None:
        super().__init__(mdp, reward, beta)
        self.layout = layout if layout is not None else ChoiceLayout(mdp)
        self._star_reward: F | None = None
        self._layer_reward: tuple[SlotLayout, F] | None = None

    @property
    def star_reward(self) -> F | None:
        """This operator's rewards by slot of the `ChoiceLayout.star` layout (None without one)."""
        star = self.layout.star
        if star is None:
            return None
        if self._star_reward is None:
            self._star_reward = star.by_slot(self.r)
        return self._star_reward

    def _pass(self, slots: SlotLayout, reward: F, w: Vector, fill: Callable[[int, F, F], float]) -> tuple[F, float]:
        """One value per state, block by block: ``fill(b, values, out)`` gets values = Q̂_W of
        block b's slots (slots × B) and writes the block's part ``out`` (B) of the result; the
        result over the states, and the max of what ``fill`` returned."""
        y = self.scaled(w)
        size = slots.block
        out = np.empty(slots.blocks * size)

        def run(first: int, last: int, part: int) -> float:
            values, term, top = slots.values[part], slots.term[part], 0.0
            for b in range(first, last):
                expectation_into(y, slots.target[b], slots.probability[b], values, term)
                np.add(values, reward[b], out=values)
                top = max(top, fill(b, values, out[b * size : (b + 1) * size]))
            return top

        top = run_blocks(slots.blocks, run)
        return out[: self.mdp.n_states], top

    def optimal(self, w: Vector) -> tuple[F, Fraction]:
        star, reward = self.layout.star, self.star_reward
        if star is None or reward is None:
            return super().optimal(w)
        err = self.choice_error(magnitude(np.asarray(w)))

        def best(b: int, values: F, out: F) -> float:  # repeated slots hold the very same value: the max is exact
            np.max(values, axis=0, out=out)
            return 0.0

        return self._pass(star, reward, w, best)[0], err

    def selected_values(self, w: Vector, chosen: Selection, key: F | None = None) -> tuple[F, Fraction]:
        """The kernel's pass over a selection by successor position, its columns split between the
        threads (each column's floats are computed by the same operations)."""
        laid = chosen.positions
        if laid is None or laid.nature is not None or THREADS < 2 or len(chosen.choices) < 2 * BLOCK:
            return super().selected_values(w, chosen, key)
        if chosen.mdp is not self.mdp:
            raise TypeError("a selection is used with the operators of its own model only")
        y, out = self.scaled(w), np.empty(len(chosen.choices))

        def part(first: int, last: int, _: int) -> float:
            out[first:last] = Positions(laid.target[:, first:last], laid.p[:, first:last]).sums(y)
            return 0.0

        run_blocks(len(out), part)
        return np.add(out, self.r[chosen.choices], out=out), self.choice_error(magnitude(np.asarray(w)))

    def optimal_plus(self, w: Vector, sign: int, other: FloatBellman, scale: float) -> tuple[F, Fraction]:
        star, reward = self.layout.star, self.star_reward
        if star is None or reward is None or sign not in (1, -1):
            return super().optimal_plus(w, sign, other, scale)
        theirs = other.star_reward if isinstance(other, FastBellman) and other.layout is self.layout else None
        if theirs is None:
            theirs = star.by_slot(other.r)

        def best(b: int, values: F, out: F) -> float:
            total = np.multiply(theirs[b], scale)
            if sign == 1:
                np.add(total, values, out=total)
            else:
                np.subtract(total, values, out=total)
            np.max(total, axis=0, out=out)
            return float(np.max(np.abs(total)))

        out, top = self._pass(star, reward, w, best)
        return out, _finite(top)

    def policy(self, layer: PolicyLayer, w: Vector) -> tuple[F, Fraction]:
        laid = self.layout.layer(layer)
        if laid is None:
            return super().policy(layer, w)
        slots, weights, used = laid
        if self._layer_reward is None or self._layer_reward[0] is not slots:
            self._layer_reward = (slots, slots.by_slot(self.r))   # layers repeat from step to step
        reward = self._layer_reward[1]
        err = self.choice_error(magnitude(np.asarray(w)))

        def mix(b: int, values: F, mixed: F) -> float:   # weight 0 on unused slots: exact zero terms
            weight = weights[b]
            np.multiply(values[0], weight[0], out=mixed)
            for j in range(1, len(values)):
                mixed += values[j] * weight[j]
            return float(np.max(np.abs(values), where=used[b], initial=0.0))

        out, top = self._pass(slots, reward, w, mix)
        if not np.all(np.isfinite(out)):   # 0·∞ on an unused slot: let the plain pass say what is wrong
            return super().policy(layer, w)
        return out, self.mixing_error(layer, _finite(top), err)
